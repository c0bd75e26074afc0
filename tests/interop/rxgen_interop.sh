#!/bin/sh
# rxgen interop (tests/interop/rxgen_test.xg): rxsvc's XDR helpers against
# rxgen's stubs on OpenAFS's librx, both ways.
#   1. rxgen_rxsvc client -> rxgen_oafs server (OpenAFS's generated stubs)
#   2. rxgen_oafs client (generated stubs) -> rxgen_rxsvc server
#   3. rxgen_rxsvc client -> rxgen_rxsvc server (the same checks, ours)
# Each client calls every procedure, checks every field, and the rxsvc
# client also checks the rxgen abort codes of malformed requests.
. "$top_srcdir/tests/helpers/lib.sh"

OA="$B/tests/interop/rxgen_oafs"
RS="$B/tests/interop/rxgen_rxsvc"
[ -x "$OA" ] || skip "rxgen_oafs not built (no libopenafs-dev)"
[ -x "$RS" ] || skip "rxgen_rxsvc not built"
SVC=4321

start() { # start NAME PROG: server on an ephemeral port -> $PORT
	rm -f "$T/$1.port"
	"$2" server "$T/$1.port" $SVC >"$T/$1.log" 2>&1 &
	track $!
	wait_file "$T/$1.port" || { cat "$T/$1.log" >&2; fail "$1 server did not start"; }
	PORT=$(cat "$T/$1.port")
}

start oafs "$OA"
out=$("$RS" client "$PORT" $SVC) || fail "rxsvc client -> OpenAFS rxgen server"
[ "$out" = ok ] || fail "rxsvc client said: $out"

start rxsvc "$RS"
out=$("$OA" client "$PORT" $SVC) || fail "OpenAFS rxgen client -> rxsvc server"
[ "$out" = ok ] || fail "OpenAFS client said: $out"
out=$("$RS" client "$PORT" $SVC) || fail "rxsvc client -> rxsvc server"
[ "$out" = ok ] || fail "rxsvc client said: $out"
exit 0
