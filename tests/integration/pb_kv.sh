#!/bin/sh
# The kv example (idl/examples) end to end, as idl/README.md walks
# through it, plus `rxsvc pb describe` and the client's descriptor check.
. "$top_srcdir/tests/helpers/lib.sh"

KS="$B/idl/examples/kv-server"
KC="$B/idl/examples/kv-client"
[ -x "$KS" ] && [ -x "$KC" ] || skip "kv example not built"

"$KS" --listen 127.0.0.1:0 --service 100 --port-file "$T/port" \
	>"$T/kv.log" 2>&1 &
track $!
wait_file "$T/port" || { cat "$T/kv.log" >&2; fail "kv-server did not start"; }
A="127.0.0.1:$(cat "$T/port")"

"$KC" "$A" put colour blue || fail "put"
out=$("$KC" "$A" put colour green) || fail "put again"
[ "$out" = replaced ] || fail "second put did not say replaced: $out"
"$KC" "$A" put size 42 || fail "put size"
out=$("$KC" "$A" get colour) || fail "get"
[ "$out" = green ] || fail "get returned '$out'"
out=$("$KC" "$A" list | tr '\n' ' ') || fail "list"
[ "$out" = "colour size " ] || fail "list returned '$out'"
out=$("$KC" "$A" list s) || fail "list s"
[ "$out" = size ] || fail "list s returned '$out'"
"$KC" "$A" del colour || fail "del"

# A missing key: the server aborts with 1, the client names it, exit 1.
"$KC" "$A" get colour >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "get of a deleted key: exit $rc, want 1"
grep -q "aborted: 1 (not found)" "$T/err" || { cat "$T/err"; fail "abort not named"; }

# Describe, as a .proto service block.
"$B/cmd/rxsvc" pb describe "$A" --service 100 >"$T/desc" ||
	fail "rxsvc pb describe"
grep -q "^service kv.KeyValue {" "$T/desc" || { cat "$T/desc"; fail "describe: name"; }
grep -q "rpc List (kv.ListRequest) returns (kv.ListReply); // opcode 3" "$T/desc" ||
	{ cat "$T/desc"; fail "describe: methods"; }

# Wrong service ID: the engine refuses the call; the client says so.
"$KC" "$A" --service 101 list 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "wrong service: exit $rc, want 3"
"$B/cmd/rxsvc" pb describe "$A" --service 101 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "describe of a missing service: exit $rc, want 1"

# An rxsvcd echo server is not a kv server: the check refuses it.
if [ -x "$B/cmd/rxsvcd" ]; then
	start_rxsvcd
	"$KC" "127.0.0.1:$PORT" --service 1 list 2>"$T/err"
	rc=$?
	[ $rc -eq 3 ] || fail "echo server accepted: exit $rc"
	grep -q "does not serve kv.KeyValue" "$T/err" || { cat "$T/err"; fail "check message"; }
fi

# Still serving after all that.
out=$("$KC" "$A" get size) || fail "server dead"
[ "$out" = 42 ] || fail "final get: $out"
exit 0
