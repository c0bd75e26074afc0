#!/bin/sh
# The peer killed mid-call: the survivor ends the call with a network
# error within the dead time (12 s), never hangs, and keeps serving.
. "$top_srcdir/tests/helpers/lib.sh"

mkdata "$T/in" 1048576
# Server killed while a client is in the middle of its request (the
# request's second half is held back, so the call is surely in flight).
start_rxsvcd
mkfifo "$T/fifo1"
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/fifo1" \
	--out "$T/out" 2>"$T/err" &
cpid=$!
{ cat "$T/in"; exec sleep 60; } >"$T/fifo1" &
track $!
track $cpid
sleep 0.3
kill -9 "$RXSVCD_PID"
t0=$(date +%s)
wait "$cpid"
rc=$?
t1=$(date +%s)
cat "$T/err"
[ $rc -eq 4 ] || fail "client exit $rc after server death, want 4 (network)"
[ $((t1 - t0)) -le 20 ] || fail "client took $((t1 - t0)) s to notice"
echo "ok: client noticed the dead server in $((t1 - t0)) s"

# Client killed mid-call: the server ends that call and serves others.
start_rxsvcd -v
mkfifo "$T/fifo2"
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/fifo2" \
	--out /dev/null 2>/dev/null &
cpid=$!
{ cat "$T/in"; exec sleep 60; } >"$T/fifo2" &
track $!
track $cpid
sleep 0.3
kill -9 "$cpid"; wait "$cpid" 2>/dev/null
out=$("$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data alive) ||
	fail "server not answering after a client died"
[ "$out" = alive ] || fail "bad echo"
i=0
while ! grep -q "network error" "$T/rxsvcd.log" && [ $i -lt 200 ]; do
	sleep 0.1; i=$((i + 1))
done
grep -q "network error" "$T/rxsvcd.log" ||
	{ cat "$T/rxsvcd.log"; fail "server never ended the orphaned call"; }
echo "ok: server ended the orphaned call"
