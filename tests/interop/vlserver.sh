#!/bin/sh
# A real OpenAFS database server queried through rxsvc's XDR helpers:
# Debian's vlserver (openafs-dbserver) with -noauth and a throwaway config
# directory and database, driven by idl/examples/vlquery (VL_Probe,
# VL_GetNewVolumeId, VL_CreateEntryN, VL_GetEntryByNameN,
# VL_ListAttributesN over rxnull).
#
# Why a private network namespace: vlserver has no port option (it
# always binds 7003, AFSCONF_VLDBPORT), and its ubik layer refuses to
# start with only loopback addresses ("ubik: No network addresses found":
# rx_getAllAddr skips 127.0.0.0/8, and the CellServDB must list an
# address of this host).  So the test re-runs itself under `unshare -n`
# (root), adds 10.255.0.1/32 to the namespace's own lo, names that
# address in the throwaway CellServDB, and talks to 127.0.0.1:7003 there:
# no clash with other tests, other developers or a real AFS server.
# It is a private mount namespace too: -noauth makes vlserver create
# /var/lib/openafs/local/NoAuth (turning authentication off for every
# OpenAFS server on the host), so a tmpfs covers that directory first.
# SKIP (77) when vlserver is not installed or the namespaces cannot be
# made (not root, no CAP_SYS_ADMIN, no `ip`).
VLSERVER=${VLSERVER:-/usr/lib/openafs/vlserver}
ADDR=10.255.0.1

if [ -z "${RXSVC_VLTEST_NS:-}" ]; then
	if [ ! -x "$VLSERVER" ]; then
		echo "SKIP: $VLSERVER not installed (Debian package openafs-dbserver)" >&2
		exit 77
	fi
	command -v ip >/dev/null 2>&1 || {
		echo "SKIP: no ip(8) (iproute2) to set up the test's network namespace" >&2
		exit 77
	}
	if ! err=$(unshare -n -m true 2>&1); then
		echo "SKIP: vlserver needs private network and mount namespaces here (fixed port 7003; ubik refuses loopback-only hosts; -noauth writes /var/lib/openafs/local/NoAuth) and unshare -n -m failed: $err" >&2
		exit 77
	fi
	RXSVC_VLTEST_NS=1 exec unshare -n -m sh "$0" "$@"
fi

. "$top_srcdir/tests/helpers/lib.sh"

VQ="$B/idl/examples/vlquery"
[ -x "$VQ" ] || skip "idl/examples/vlquery not built"
ip link set lo up && ip addr add "$ADDR/32" dev lo ||
	skip "cannot configure lo in the network namespace"
LOCALDIR=/var/lib/openafs/local
mkdir -p "$LOCALDIR" && mount -t tmpfs -o size=1m,mode=0700 rxsvc-vltest "$LOCALDIR" ||
	skip "cannot mount a tmpfs on $LOCALDIR in the mount namespace"

mkdir -p "$T/conf" "$T/db"
echo rxsvc.test >"$T/conf/ThisCell"
printf '>rxsvc.test #throwaway cell\n%s #vlserver\n' "$ADDR" >"$T/conf/CellServDB"
"$VLSERVER" -noauth -config "$T/conf" -database "$T/db/vldb" \
	-logfile "$T/VLLog" >"$T/vlserver.out" 2>&1 &
VPID=$!
track $VPID

# expect_abort NAME ARGS...: vlquery ARGS must exit 1 naming abort NAME.
expect_abort() {
	_want=$1; shift
	_out=$("$VQ" "$@" 2>&1); _rc=$?
	[ $_rc -eq 1 ] || fail "vlquery $*: exit $_rc, not 1: $_out"
	case $_out in *"($_want)"*) ;; *) fail "vlquery $*: $_out (wanted $_want)" ;; esac
}

show_log() { cat "$T/VLLog" "$T/vlserver.out" >&2 2>/dev/null; }

# Wait for the server (VL_Probe answers once Rx is up), then for ubik's
# quorum: a single-server cell elects itself after a few seconds, and
# until then database calls are aborted with UNOQUORUM (5376).
n=0
until "$VQ" probe >/dev/null 2>&1; do
	kill -0 $VPID 2>/dev/null || { show_log; fail "vlserver exited"; }
	n=$((n + 1)); [ $n -lt 100 ] || { show_log; fail "vlserver does not answer VL_Probe"; }
	sleep 0.2
done
n=0
while :; do
	out=$("$VQ" list 2>&1) && break
	case $out in *UNOQUORUM*) ;; *) show_log; fail "list: $out" ;; esac
	n=$((n + 1)); [ $n -lt 300 ] || { show_log; fail "no ubik quorum after 60 s"; }
	sleep 0.2
done
[ "$out" = "entries 0" ] || fail "fresh database not empty: $out"

# A name the database does not hold: aborted with VL_NOENT, exit 1.
expect_abort VL_NOENT get vlq.test

# Allocate IDs (three per entry: vlquery makes RO = RW + 1, BK = RW + 2),
# create two entries, read them back.
id1=$("$VQ" newid 3) || fail "newid"
id2=$("$VQ" newid 3) || fail "newid"
[ "$id2" -eq $((id1 + 3)) ] || fail "newid: $id1 then $id2"
"$VQ" create vlq.test "$id1" 192.0.2.10 0 || fail "create vlq.test"
"$VQ" create vlq.two "$id2" 192.0.2.11 25 || fail "create vlq.two"
out=$("$VQ" get vlq.test) || fail "get vlq.test"
want="name vlq.test
rw $id1
ro $((id1 + 1))
bk $((id1 + 2))
flags 0x1000
site 192.0.2.10 0 0x4"
[ "$out" = "$want" ] || fail "get vlq.test said:
$out"
out=$("$VQ" get vlq.two) || fail "get vlq.two"
echo "$out" | grep -qx "site 192.0.2.11 25 0x4" || fail "get vlq.two said: $out"

# The server's own checks come back as its abort codes.
expect_abort VL_NAMEEXIST create vlq.test "$((id2 + 10))" 192.0.2.10 0
expect_abort VL_IDEXIST create vlq.three "$id1" 192.0.2.10 0
expect_abort VL_BADNAME create "bad name.backup" "$((id2 + 20))" 192.0.2.10 0

out=$("$VQ" list) || fail "list"
want="entries 2
vlq.test $id1
vlq.two $id2"
[ "$(echo "$out" | sort)" = "$(echo "$want" | sort)" ] || fail "list said:
$out"
exit 0
