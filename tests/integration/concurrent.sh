#!/bin/sh
# 1,000 concurrent calls from one endpoint (shared connections, 4 calls
# per connection), every reply checked; BUSY answers are retried.  More
# than rxsvcd's per-peer cap (512) are in flight, and the client reads
# replies in order, so BUSY retries can take seconds on a loaded machine:
# -r 200 allows about 17 s of them.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd --backlog 256 --stats-file "$T/stats"
"$B/tests/integration/load_client" -n 1000 -b 3000 -r 200 "127.0.0.1:$PORT" \
	>"$T/out" || { cat "$T/out"; fail "concurrent calls failed"; }
cat "$T/out"
grep -q "ok=1000 " "$T/out" || fail "not all 1000 calls succeeded"
# Several sequential batches on the same endpoint reuse connections.
"$B/tests/integration/load_client" -n 200 -b 20000 "127.0.0.1:$PORT" \
	>"$T/out2" || { cat "$T/out2"; fail "second batch failed"; }
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID" || fail "rxsvcd exit status"
svc=$(awk '$1=="calls_service"{print $2}' "$T/stats")
ok=$(awk '$1=="calls_succeeded"{print $2}' "$T/stats")
echo "server: calls_service=$svc calls_succeeded=$ok"
[ "$svc" -ge 1200 ] || fail "server saw only $svc calls"
[ "$ok" -ge 1200 ] || fail "server completed only $ok calls"
