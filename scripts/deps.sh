#!/bin/sh
# Install the Debian 12 packages rxsvc needs to build and test, if missing.
# Runs `apt-get update` once, and only when something is missing.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config
libevent-dev libssl-dev libkeyutils-dev libprotobuf-c-dev protobuf-c-compiler
libcunit1-dev libjansson-dev clang libclang-rt-14-dev valgrind
libopenafs-dev openafs-client tshark iproute2 procps
qemu-system-x86 cpio xz-utils openafs-dbserver gnuplot-nox"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, quietly.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
	$SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq
# --no-install-recommends: openafs-client would otherwise pull in a kernel
# module build that takes minutes and is never used here.
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
