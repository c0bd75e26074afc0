#!/bin/sh
# rxsvc-eventd + `rxsvc events`: subscribe, send (--count, --stdin),
# JSON output, -ESRCH exit status, a stream subscriber, info.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --stream-socket "$T/bus.stream"

"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 5 --count 3 \
	--ready-file "$T/s1.ready" >"$T/s1.out" 2>&1 &
s1=$!; track $s1
"$EV_BIN" events subscribe --socket "$T/bus.stream" --stream --group 5 --json --count 3 \
	--ready-file "$T/s2.ready" >"$T/s2.out" 2>&1 &
s2=$!; track $s2
wait_file "$T/s1.ready" && wait_file "$T/s2.ready" || fail "subscribers did not join"

"$EV_BIN" events send --socket "$T/bus.sock" --group 5 --id 1.2 --data hello --count 3 \
	|| fail "send failed"
wait_pid $s1 || fail "subscriber 1 did not get 3 messages"
wait_pid $s2 || fail "subscriber 2 did not get 3 messages"
[ "$(grep -c 'id=1.2 .*data=hello' "$T/s1.out")" = 3 ] || { cat "$T/s1.out"; fail "text output"; }
grep -q 'seq=3 ' "$T/s1.out" || fail "seq not rising"
[ "$(grep -c '"data": *"hello"' "$T/s2.out")" = 3 ] || { cat "$T/s2.out"; fail "json output"; }
grep -q '"seq": *2' "$T/s2.out" || fail "json seq"

# Nobody listens to group 99: non-zero, and said so.
if ev send --socket "$T/bus.sock" --group 99 --id 1.2 --data x 2>"$T/err"; then
	fail "send to an empty group succeeded"
fi
grep -q "nobody listens to group 99" "$T/err" || { cat "$T/err"; fail "no -ESRCH message"; }

# --stdin: one message per line.
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 6 --count 2 \
	--ready-file "$T/s3.ready" >"$T/s3.out" 2>&1 &
s3=$!; track $s3
wait_file "$T/s3.ready" || fail "subscriber 3 did not join"
printf 'first line\nsecond\n' | ev send --socket "$T/bus.sock" --group 6 \
	--id 3.4 --stdin || fail "send --stdin"
wait_pid $s3 || fail "subscriber 3 did not get 2 messages"
grep -q 'data=first line$' "$T/s3.out" || { cat "$T/s3.out"; fail "stdin line 1"; }
grep -q 'data=second$' "$T/s3.out" || fail "stdin line 2"

# No bus: clear failure.
"$EV_BIN" events send --socket "$T/none.sock" --group 5 --id 1.2 2>"$T/err" && fail "send without a bus"
grep -q "cannot join" "$T/err" || fail "no message without a bus"

ev info --socket "$T/bus.sock" >"$T/info" || fail "info"
grep -q '^delivery lossy$' "$T/info" || fail "default policy is not lossy"
grep -q '^esrch 1$' "$T/info" || { cat "$T/info"; fail "esrch not counted"; }
ev info --socket "$T/bus.sock" --json | grep -q '"mode": *"0660"' || fail "info --json"
exit 0
