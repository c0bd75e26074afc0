#!/bin/sh
# Loss and disorder (seeded fault injection at both ends): transfers
# complete with the right bytes.
. "$top_srcdir/tests/helpers/lib.sh"

size=67108864
[ -n "$RXS_TEST_QUICK" ] && size=4194304
mkdata "$T/in" "$size"
for spec in "drop=5,seed=11" "reorder=10,dup=2,seed=12" \
	"drop=2,reorder=5,delay=5,delay_pct=5,seed=13"; do
	RXSVC_FAULT="$spec" start_rxsvcd --stats-file "$T/stats"
	RXSVC_FAULT="$spec" "$B/cmd/rxsvc" call "127.0.0.1:$PORT" \
		--service 1 --data-file "$T/in" --out "$T/out" --timeout 300 -v ||
		fail "transfer under '$spec' failed"
	cmp "$T/in" "$T/out" || fail "transfer under '$spec' differs"
	kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"
	grep -E '^(fault_|data_retrans|resend_timeouts|data_dup|data_oos)' \
		"$T/stats" | tr '\n' ' '
	echo
	echo "ok: $spec"
done
