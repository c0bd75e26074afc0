#!/bin/sh
# Aborts from either side in the middle of a transfer.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd -v
# The client aborts after sending part of a 1 MiB request.
"$B/tests/integration/load_client" -n 4 -b 1048576 -A 200000 \
	"127.0.0.1:$PORT" || fail "client-side abort"
out=$("$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data after) ||
	fail "server dead after client aborts"
i=0
while ! grep -q "remotely aborted 4242" "$T/rxsvcd.log" && [ $i -lt 50 ]; do
	sleep 0.1; i=$((i + 1))
done
grep -q "remotely aborted 4242" "$T/rxsvcd.log" ||
	{ cat "$T/rxsvcd.log"; fail "server did not see the client's abort 4242"; }
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"

start_rxsvcd -v --max-echo 65536
# The server aborts (RX_USER_ABORT, -6) a request larger than it echoes.
"$B/tests/integration/load_client" -n 2 -b 1048576 -e -6 \
	"127.0.0.1:$PORT" || fail "server-side abort not seen as -6"
# rxsvc call names the code and exits 1.
mkdata "$T/big" 200000
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/big" \
	>/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || fail "rxsvc call exit $rc on abort, want 1"
grep -q -- "-6 (RX_USER_ABORT)" "$T/err" || { cat "$T/err"; fail "abort not named"; }
# Unknown service: ABORT RX_INVALID_OPERATION.
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 77 --data x 2>"$T/err"
grep -q -- "-2 (RX_INVALID_OPERATION)" "$T/err" || { cat "$T/err"; fail "unknown service"; }
# The server is still fine.
out=$("$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data after) ||
	fail "server dead after aborts"
[ "$out" = after ] || fail "bad echo after aborts"
