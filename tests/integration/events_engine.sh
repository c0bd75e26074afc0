#!/bin/sh
# rxsvcd hosts the event bus (--events-socket) and publishes its engine
# events: a subscriber in another process sees a call begin and complete.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd --events-socket "$T/ev.sock"
wait_file "$T/ev.sock" 2>/dev/null || [ -S "$T/ev.sock" ] ||
	fail "no event socket"
call_group=$((0xffff0010))
"$B/cmd/rxsvc" events subscribe --socket "$T/ev.sock" --group "$call_group" \
	--json --count 4 --ready-file "$T/ready" >"$T/events" 2>"$T/err" &
spid=$!
track $spid
wait_file "$T/ready" || { cat "$T/err"; fail "subscriber did not start"; }
for i in 1 2; do
	out=$("$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data "e$i") ||
		fail "call $i"
	[ "$out" = "e$i" ] || fail "echo $i"
done
i=0
while kill -0 $spid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
cat "$T/events"
n=$(grep -c '"group":4294901776' "$T/events")
[ "$n" -eq 4 ] || fail "expected 4 call events (2 begun, 2 complete), got $n"
grep -q '"id":"4294902016.1"' "$T/events" || fail "no call-begun event"
grep -q '"id":"4294902016.2"' "$T/events" || fail "no call-complete event"
