#!/bin/sh
# A flood of garbage and truncated packets while real calls succeed; the
# bad-packet counters must show it and the server must not crash.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd --stats-file "$T/stats"
"$B/tests/integration/garbage" 127.0.0.1 "$PORT" 20000 7 >"$T/g1" &
gpid=$!
track $gpid
for i in 1 2 3 4 5 6 7 8 9 10; do
	mkdata "$T/in" $((i * 10000))
	"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 \
		--data-file "$T/in" --out "$T/out" ||
		fail "real call $i failed during the flood"
	cmp "$T/in" "$T/out" || fail "real call $i differs"
done
wait "$gpid"
cat "$T/g1"
"$B/tests/integration/load_client" -n 50 -b 5000 "127.0.0.1:$PORT" ||
	fail "calls after the flood"
kill -0 "$RXSVCD_PID" || fail "rxsvcd died"
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID" || fail "rxsvcd exit status"
for c in bad_packets bad_short_hdr bad_bad_type bad_too_big; do
	v=$(awk -v c=$c '$1==c{print $2}' "$T/stats")
	echo "$c=$v"
	[ "${v:-0}" -gt 0 ] || fail "counter $c did not move"
done
