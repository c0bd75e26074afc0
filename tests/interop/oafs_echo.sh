#!/bin/sh
# Interop with OpenAFS's userspace Rx, echo service (ID 1) both ways:
#  (a) an OpenAFS client (oafs_echo_client) calls rxsvcd;
#  (b) `rxsvc call` calls an OpenAFS server (oafs_echo_server);
# with request sizes around the packet boundaries (1412/1413 bytes of data
# fit / overflow one 1444-byte packet, 5692 = 4 packets' worth; OpenAFS
# itself puts 1416 bytes in a packet on loopback, hence 1416/1417 and
# 2832/2833) up to 16 MiB, every reply checked byte for byte.
# 127.0.0.1 only: OpenAFS Rx has no IPv6.  Exit 77 when the OpenAFS
# programs were not built.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

OC=$B/tests/interop/oafs_echo_client
OS=$B/tests/interop/oafs_echo_server
[ -x "$OC" ] && [ -x "$OS" ] ||
	skip "OpenAFS peers not built (needs libopenafs-dev: /usr/lib/libafsrpc.a)"
[ -x "$B/cmd/rxsvcd" ] || fail "$B/cmd/rxsvcd not built"
[ -x "$B/cmd/rxsvc" ] || fail "$B/cmd/rxsvc not built"

SIZES="0 1 1412 1413 1416 1417 1444 2832 2833 5692 102400 1048576 16777216"
# Each step is bounded on its own as well as by run-test's limit.
STEP=${RXS_INTEROP_STEP_TIMEOUT:-40}
failed=""
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'; }

# ---- (a) OpenAFS client -> rxsvcd ----
start_rxsvcd -v
# explicit: lib.sh's `jobs -p` inside $(...) lists nothing under dash
on_exit "kill $RXSVCD_PID"
echo "rxsvcd on 127.0.0.1:$PORT (pid $RXSVCD_PID)"
for n in $SIZES; do
	# two calls each: the second reuses the connection (a new call number
	# on a channel the first call completed)
	calls=2
	[ "$n" -ge 1048576 ] && calls=1
	t0=$(date +%s.%N)
	if timeout -k 2 "$STEP" "$OC" -s 127.0.0.1 -p "$PORT" -S 1 -b "$n" \
		-n "$calls" -t "$STEP" -q >"$T/a.$n.out" 2>&1; then
		echo "ok   (a) OpenAFS client -> rxsvcd: $n bytes x$calls ($(since "$t0") s)"
	else
		rc=$?
		echo "FAIL (a) OpenAFS client -> rxsvcd: $n bytes: exit $rc" >&2
		sed 's/^/    /' "$T/a.$n.out" >&2
		failed="$failed a:$n"
	fi
done
kill -0 "$RXSVCD_PID" 2>/dev/null || failed="$failed a:rxsvcd-died"
kill "$RXSVCD_PID" 2>/dev/null
wait "$RXSVCD_PID" 2>/dev/null
if [ -n "$failed" ]; then
	echo "--- rxsvcd log (last 30 lines)" >&2
	tail -n 30 "$T/rxsvcd.log" >&2
fi

# ---- (b) rxsvc client -> OpenAFS server ----
"$OS" -p 0 -P "$T/oafs.port" -S 1 -t 300 -v >"$T/oafs.log" 2>&1 &
OS_PID=$!
on_exit "kill $OS_PID"
wait_file "$T/oafs.port" || { cat "$T/oafs.log" >&2; fail "oafs_echo_server did not start"; }
OPORT=$(cat "$T/oafs.port")
echo "oafs_echo_server on 127.0.0.1:$OPORT (pid $OS_PID)"
for n in $SIZES; do
	mkdata "$T/b.$n.in" "$n"
	rm -f "$T/b.$n.out"
	t0=$(date +%s.%N)
	if timeout -k 2 "$STEP" "$B/cmd/rxsvc" call "127.0.0.1:$OPORT" --service 1 \
		--data-file "$T/b.$n.in" --out "$T/b.$n.out" >"$T/b.$n.log" 2>&1 &&
		cmp "$T/b.$n.in" "$T/b.$n.out" >>"$T/b.$n.log" 2>&1; then
		echo "ok   (b) rxsvc call -> OpenAFS server: $n bytes ($(since "$t0") s)"
	else
		rc=$?
		echo "FAIL (b) rxsvc call -> OpenAFS server: $n bytes: exit $rc," \
			"reply $(wc -c <"$T/b.$n.out" 2>/dev/null || echo none) bytes" >&2
		sed 's/^/    /' "$T/b.$n.log" >&2
		failed="$failed b:$n"
	fi
	rm -f "$T/b.$n.in" "$T/b.$n.out"
done
kill -0 "$OS_PID" 2>/dev/null || failed="$failed b:oafs-server-died"
kill "$OS_PID" 2>/dev/null
wait "$OS_PID" 2>/dev/null
case $failed in
*b:*)
	echo "--- oafs_echo_server log (last 30 lines)" >&2
	tail -n 30 "$T/oafs.log" >&2 ;;
esac

[ -z "$failed" ] || fail "failed:$failed"
echo "PASS: OpenAFS interop echo, all sizes both ways"
