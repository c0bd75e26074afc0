#!/bin/sh
# rxkad end to end: keys from a key file (server) and the kernel keyrings
# (client), calls at clear, auth and crypt byte-exact, and the refusals:
# level below the minimum, a ticket sealed with the wrong key, an unknown
# key version, rxnull where rxkad is required.
#
# It runs in a session keyring of its own (rxsvc key session; once: the
# variable), and puts its tokens and server keys there, so that nothing
# touches the caller's keyrings; where no session keyring can be joined
# it falls back to the user keyring and removes its keys at the end.
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
# shellcheck disable=SC2086 # $KR is empty or two words, on purpose
if [ "$RXS_KAD_KEYSESSION" = 1 ]; then
	KR="--keyring session" RING=@s
else
	KR="" RING=@u
fi

R="$B/cmd/rxsvc"
name="test$$"
"$R" keyfile add "$T/keys" --kvno 3 --random || fail "keyfile add"
[ "$(stat -c %a "$T/keys")" = 600 ] || fail "key file mode"
if ! "$R" key add "$name" $KR --keyfile "$T/keys" --kvno 3 2>"$T/err"; then
	cat "$T/err"
	skip "cannot add a key to the keyrings here"
fi
on_exit "'$R' key del '$name'; '$R' key del '${name}b'; '$R' key del '${name}k'"
"$R" key list | grep -q "rxsvc:$name\|^$name" || fail "key list"

start_rxsvcd --keyfile "$T/keys" --stats-file "$T/stats"
for lv in clear auth crypt; do
	for s in 0 1 1400 1401 100000 1048576; do
		mkdata "$T/in" $s
		"$R" call "127.0.0.1:$PORT" --service 1 --key "$name" \
			--level $lv --data-file "$T/in" --out "$T/out" ||
			fail "$lv call of $s bytes"
		cmp "$T/in" "$T/out" || fail "$lv call of $s bytes differs"
	done
	echo "ok: $lv"
done
# rxnull still accepted by this server
out=$("$R" call "127.0.0.1:$PORT" --service 1 --data plain) || fail "rxnull"
[ "$out" = plain ] || fail "rxnull echo"

# A token whose ticket is sealed with another key: RXKADBADTICKET.
"$R" keyfile add "$T/other" --kvno 3 --random || fail "other keyfile"
"$R" key add "${name}b" $KR --keyfile "$T/other" --kvno 3 || fail "key add b"
"$R" call "127.0.0.1:$PORT" --service 1 --key "${name}b" --level crypt \
	--data x 2>"$T/err"
rc=$?
[ $rc -eq 1 ] || { cat "$T/err"; fail "wrong key: exit $rc"; }
grep -q "19270407 (RXKADBADTICKET)" "$T/err" || { cat "$T/err"; fail "wrong key code"; }
# A key version the server does not have: RXKADUNKNOWNKEY.
"$R" keyfile add "$T/other" --kvno 9 --random || fail "kvno 9"
"$R" key add "${name}k" $KR --keyfile "$T/other" --kvno 9 || fail "key add k"
"$R" call "127.0.0.1:$PORT" --service 1 --key "${name}k" --data x 2>"$T/err"
grep -q "19270408 (RXKADUNKNOWNKEY)" "$T/err" || { cat "$T/err"; fail "unknown kvno"; }
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"
for c in responses_ok security_failures challenges_out; do
	v=$(awk -v c=$c '$1==c{print $2}' "$T/stats")
	echo "$c=$v"
	[ "${v:-0}" -gt 0 ] || fail "counter $c"
done

# Server keys from a keyring instead of a file (rxsvcd --keyring),
# looked up at each use: the same token works, and after the key is
# removed a new connection is refused.
# The user keyring is shared by every test run of this user: a kvno of
# our own keeps a concurrent run from deleting our key.
kv=$(( $$ % 200 + 50 ))
"$R" keyfile add "$T/ringkeys" --kvno "$kv" --random || fail "ring keyfile"
"$R" key add "${name}r" $KR --keyfile "$T/ringkeys" --kvno "$kv" ||
	fail "key add r"
on_exit "'$R' key del '${name}r'"
hex=$(awk -v k="$kv" '$1 == k {print $2}' "$T/ringkeys")
"$R" key add-server 1 "$kv" $KR --hex "$hex" >/dev/null || fail "key add-server"
on_exit "'$R' key del-server 1 $kv"
start_rxsvcd --keyring "$RING"
out=$("$R" call "127.0.0.1:$PORT" --service 1 --key "${name}r" --level crypt \
	--data ring) || fail "call with the server key from the keyring"
[ "$out" = ring ] || fail "keyring echo"
"$R" key del-server 1 "$kv" || fail "key del-server"
"$R" call "127.0.0.1:$PORT" --service 1 --key "${name}r" --level crypt \
	--data x 2>"$T/err"
grep -q "19270408 (RXKADUNKNOWNKEY)" "$T/err" ||
	{ cat "$T/err"; fail "removed server key still used"; }
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID"
echo "ok: server keys from the keyring"

# Minimum level crypt: clear is refused with RXKADLEVELFAIL; rxnull with
# RX_INVALID_OPERATION when rxkad is required.
start_rxsvcd --keyfile "$T/keys" --min-level crypt --require-rxkad
"$R" call "127.0.0.1:$PORT" --service 1 --key "$name" --level clear \
	--data x 2>"$T/err"
grep -q "19270402 (RXKADLEVELFAIL)" "$T/err" || { cat "$T/err"; fail "level"; }
"$R" call "127.0.0.1:$PORT" --service 1 --data x 2>"$T/err"
grep -q -- "-2 (RX_INVALID_OPERATION)" "$T/err" || { cat "$T/err"; fail "rxnull refused"; }
out=$("$R" call "127.0.0.1:$PORT" --service 1 --key "$name" --level crypt \
	--data secret) || fail "crypt call on the strict server"
[ "$out" = secret ] || fail "crypt echo"
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID" 2>/dev/null

# Tampering through the engine's fault injection: the server flips a bit
# of what rxkad protects in 10% of the DATA it receives.  At auth and
# crypt every such packet is dropped and counted (sec_bad_packets),
# never delivered: the echo still comes back exact, through resends.
RXSVC_FAULT=flip=10,seed=7 start_rxsvcd --keyfile "$T/keys" \
	--stats-file "$T/stats.flip"
mkdata "$T/in" 300000
for lv in auth crypt; do
	"$R" call "127.0.0.1:$PORT" --service 1 --key "$name" \
		--security $lv --data-file "$T/in" --out "$T/out" ||
		fail "$lv call through bit flips"
	cmp "$T/in" "$T/out" || fail "$lv call through bit flips differs"
done
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID" 2>/dev/null
flipped=$(awk '$1=="fault_flipped"{print $2}' "$T/stats.flip")
bad=$(awk '$1=="sec_bad_packets"{print $2}' "$T/stats.flip")
echo "flipped $flipped, dropped as tampered $bad"
[ "${flipped:-0}" -gt 0 ] || fail "no bit flipped"
# (a flipped copy of a packet already filed is dropped as a duplicate
# before its seal is checked, so bad may be below flipped)
[ "${bad:-0}" -gt 0 ] || fail "no tampered packet counted ($flipped flipped)"
echo "ok: tampering dropped and counted"
# --security is --level's other name; --security needs a key
"$R" call "127.0.0.1:1" --service 1 --security crypt --data x 2>/dev/null
[ $? -eq 2 ] || fail "--security without --key accepted"
# lifetimes take units
"$R" key add "${name}l" $KR --keyfile "$T/keys" --kvno 3 --lifetime 2h >/dev/null ||
	fail "--lifetime 2h"
"$R" key del "${name}l" >/dev/null 2>&1
"$R" key add "${name}l" $KR --keyfile "$T/keys" --kvno 3 --lifetime 8x \
	>/dev/null 2>&1 && fail "--lifetime 8x accepted"
# A RESPONSE with the wrong nonce (the client's fault injection answers
# nonce + 1) is refused with RXKADOUTOFSEQUENCE and counted.
start_rxsvcd --keyfile "$T/keys" --stats-file "$T/stats.nonce"
RXSVC_FAULT=badnonce=1 "$R" call "127.0.0.1:$PORT" --service 1 --key "$name" \
	--security crypt --data x 2>"$T/err" && fail "a wrong nonce was accepted"
grep -q "19270404 (RXKADOUTOFSEQUENCE)" "$T/err" || { cat "$T/err"; fail "wrong nonce code"; }
kill -TERM "$RXSVCD_PID"; wait "$RXSVCD_PID" 2>/dev/null
n=$(awk '$1=="security_failures"{print $2}' "$T/stats.nonce")
[ "${n:-0}" -gt 0 ] || fail "the wrong nonce was not counted"
echo "ok: wrong nonce refused with RXKADOUTOFSEQUENCE"
echo "PASS: rxkad tampering, nonce, options"
