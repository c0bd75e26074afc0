#!/bin/sh
# BUSY when preallocation is exhausted, success after recharging.
. "$top_srcdir/tests/helpers/lib.sh"

# One preallocated call and at most two active calls: a burst of 40
# concurrent 200 KB calls without retries must meet BUSY ...
# (BUSY replies are not rate-limited here: under a loaded CI machine the
# retries would otherwise meet silence and wait for retransmission.)
start_rxsvcd --backlog 1 --max-calls 2 --threads 1 --busy-rate 1000000 \
	--stats-file "$T/stats"
"$B/tests/integration/load_client" -B -n 40 -b 200000 "127.0.0.1:$PORT" \
	>"$T/out" || { cat "$T/out"; fail "no BUSY seen (or a call failed)"; }
cat "$T/out"
# ... and the same burst with retries gets through once calls finish.
"$B/tests/integration/load_client" -r 200 -n 40 -b 200000 "127.0.0.1:$PORT" \
	>"$T/out2" || { cat "$T/out2"; fail "retries did not get through"; }
cat "$T/out2"
# rxsvc call retries BUSY by itself.
mkdata "$T/in" 5000
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/in" \
	--out "$T/o" || fail "rxsvc call after BUSY"
cmp "$T/in" "$T/o" || fail "echo after BUSY differs"
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"
busy=$(awk '$1=="busy_out"{print $2}' "$T/stats")
echo "server sent $busy BUSY packets"
[ "${busy:-0}" -gt 0 ] || fail "server counted no BUSY"
