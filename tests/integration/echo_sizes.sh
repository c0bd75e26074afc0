#!/bin/sh
# Echo calls of many sizes through rxsvcd, checked byte for byte, over
# IPv4 and IPv6 loopback.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd -v
sizes="0 1 1412 1413 1444 5692 102400 16777216"
[ -n "$RXS_TEST_QUICK" ] || sizes="$sizes 67108864"
for s in $sizes; do
	mkdata "$T/in" "$s"
	"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 \
		--data-file "$T/in" --out "$T/out" ||
		fail "echo of $s bytes failed"
	cmp "$T/in" "$T/out" || fail "echo of $s bytes differs"
	echo "ok: $s bytes"
done

# A string argument and standard output.
out=$("$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data "hello, Rx") ||
	fail "string call failed"
[ "$out" = "hello, Rx" ] || fail "string echo: got '$out'"

# IPv6, when the machine has ::1.
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
	"$B/cmd/rxsvcd" --listen "[::1]:0" --port-file "$T/port6" \
		>"$T/rxsvcd6.log" 2>&1 &
	track $!
	wait_file "$T/port6" || fail "rxsvcd on ::1 did not start"
	mkdata "$T/in" 100000
	"$B/cmd/rxsvc" call "[::1]:$(cat "$T/port6")" --service 1 \
		--data-file "$T/in" --out "$T/out" || fail "IPv6 echo failed"
	cmp "$T/in" "$T/out" || fail "IPv6 echo differs"
	echo "ok: IPv6"
fi
