#!/bin/sh
# rxkad with OpenAFS both ways (our OpenAFS-based rxperf peer, librxkad):
# an OpenAFS client at clear, auth and crypt against rxsvcd's rxperf
# service, and rxsvc (token from the keyring) against an OpenAFS server
# that requires auth, whose refusal of clear must be RXKADLEVELFAIL, and
# against one that allows clear.  The token lives in a session keyring of
# the test's own (rxsvc key session), or, where none can be joined, in
# the user keyring until the end.
if [ -z "${RXS_KAD_KEYSESSION:-}" ]; then
	RXS_KAD_KEYSESSION=0
	_r=${top_builddir:-$(pwd)}/cmd/rxsvc
	if [ -x "$_r" ] && "$_r" key session true 2>/dev/null; then
		RXS_KAD_KEYSESSION=1
		export RXS_KAD_KEYSESSION
		exec "$_r" key session sh "$0" "$@"
	fi
	export RXS_KAD_KEYSESSION
fi
. "$top_srcdir/tests/helpers/lib.sh"
KR=""
[ "$RXS_KAD_KEYSESSION" = 1 ] && KR="--keyring session"

OR="$B/tests/interop/oafs_rxperf"
R="$B/cmd/rxsvc"
[ -x "$OR" ] || skip "oafs_rxperf not built (no libopenafs-dev)"
KEY=a7838acbc783ec94
"$R" keyfile add "$T/keys" --service 147 --kvno 1 --hex $KEY || fail "keyfile"
name="oafs$$"
# shellcheck disable=SC2086
"$R" key add "$name" $KR --keyfile "$T/keys" --kvno 1 --service 147 2>"$T/err" ||
	{ cat "$T/err"; skip "cannot add a key to the keyrings here"; }
on_exit "'$R' key del '$name'"

start_rxsvcd --keyfile "$T/keys" --stats-file "$T/stats"
for lv in clear auth crypt; do
	for op in "rpc -S 1000 -R 3000 -n 50" "send -b 2000000 -n 2" \
		"recv -b 2000000 -n 2"; do
		# shellcheck disable=SC2086
		timeout 60 "$OR" client -c $op -T 2 -p "$PORT" -k $lv -K $KEY \
			>"$T/out" 2>&1 || { cat "$T/out"; fail "OpenAFS $lv $op"; }
	done
	echo "ok: OpenAFS client at $lv against rxsvcd"
done
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"
ok=$(awk '$1=="responses_ok"{print $2}' "$T/stats")
[ "${ok:-0}" -gt 0 ] || fail "rxsvcd saw no RESPONSE"

"$OR" server -p 0 -P "$T/oport" -k auth -K $KEY -t 120 >"$T/oserver" 2>&1 &
track $!
wait_file "$T/oport" || fail "OpenAFS server did not start"
OP=$(cat "$T/oport")
# an rxperf RPC request: version 3, opcode 3, rsize, wsize, 200 in, 3000 out
printf '\000\000\000\003\000\000\000\003\000\010\000\000\000\010\000\000\000\000\000\310\000\000\013\270' >"$T/req"
head -c 200 /dev/zero >>"$T/req"
for lv in auth crypt; do
	timeout 30 "$R" call "127.0.0.1:$OP" --service 147 --key "$name" \
		--level $lv --data-file "$T/req" --out "$T/rep" ||
		fail "rxsvc at $lv against OpenAFS"
	[ "$(wc -c <"$T/rep")" -eq 3004 ] || fail "$lv: reply size"
	[ "$(tail -c 4 "$T/rep" | od -An -tx1 | tr -d ' \n')" = 00004711 ] ||
		fail "$lv: no cookie"
	echo "ok: rxsvc at $lv against OpenAFS"
done
timeout 30 "$R" call "127.0.0.1:$OP" --service 147 --key "$name" \
	--level clear --data-file "$T/req" --out "$T/rep" 2>"$T/err"
grep -q "19270402 (RXKADLEVELFAIL)" "$T/err" || { cat "$T/err"; fail "clear not refused"; }
echo "ok: clear refused with RXKADLEVELFAIL"

# rxsvc at clear (and the others) against an OpenAFS server that allows it.
"$OR" server -p 0 -P "$T/oport2" -k clear -K $KEY -t 120 >"$T/oserver2" 2>&1 &
track $!
wait_file "$T/oport2" || fail "OpenAFS clear server did not start"
OP=$(cat "$T/oport2")
for lv in clear auth crypt; do
	timeout 30 "$R" call "127.0.0.1:$OP" --service 147 --key "$name" \
		--level $lv --data-file "$T/req" --out "$T/rep" ||
		fail "rxsvc at $lv against OpenAFS (min clear)"
	[ "$(wc -c <"$T/rep")" -eq 3004 ] || fail "$lv: reply size (min clear)"
done
echo "ok: rxsvc at clear, auth, crypt against OpenAFS (min clear)"
