#!/bin/sh
# Builds the Linux AF_RXRPC peer for linux_interop.sh (issue 9), from
# Debian packages only: the generic linux-image-6.12.*-amd64-unsigned
# (bookworm-backports), busybox-static, the rxrpc module and its
# dependencies, our static lxrx programs (tests/interop/linux/build).
# The result is cached in the build tree (tests/interop/linux/out, or
# $RXS_LINUX_PEER_DIR) and reused.  SKIP (77) with the reason when a
# package cannot be had.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

OUT=${RXS_LINUX_PEER_DIR:-$B/tests/interop/linux/out}
command -v bash >/dev/null || skip "bash not installed"
bash "$S/tests/interop/linux/build" "$OUT" >"$T/build.log" 2>&1
rc=$?
cat "$T/build.log"
case $rc in
0) ;;
77) skip "Linux peer: $(sed -n 's/^build: SKIP: //p' "$T/build.log" | tail -n 1)" ;;
*) fail "building the Linux peer (exit $rc)" ;;
esac
for f in vmlinuz initramfs.gz kernel.txt; do
	[ -s "$OUT/$f" ] || fail "no $OUT/$f"
done
# the image must hold what the guest needs
gzip -dc "$OUT/initramfs.gz" | cpio -t --quiet >"$T/list" 2>/dev/null ||
	fail "initramfs unreadable"
for f in init bin/busybox bin/lxrx bin/lx-exec lib/modules/rxrpc.ko \
	lib/modules/fcrypt.ko lib/modules/pcbc.ko lib/modules/virtio_net.ko \
	etc/lxpeer-modules; do
	grep -qx "./$f\|$f" "$T/list" || fail "initramfs lacks $f"
done
echo "PASS: $(cat "$OUT/kernel.txt")"
