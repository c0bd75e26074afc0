#!/bin/sh
# Linux AF_RXRPC interop (issue 9): a real Linux 6.12 kernel under qemu
# (tests/interop/linux/: build, run) talks Rx with rxsvc both ways.  One
# boot serves every step:
#   (1) the guest's AF_RXRPC client calls rxsvcd's echo with 0, 1, 1412,
#       1413, 5692 bytes, 100 KiB and 4 MiB; the guest checks each reply
#       byte for byte (and a text call prints its reply);
#   (2) `rxsvc call` calls the guest's AF_RXRPC echo server with the same
#       sizes; cmp checks the replies;
#   (3) `rxsvc perf` rpc/send/recv against the guest's rxperf server;
#   (4) the guest's client sends rxperf requests to rxsvcd (and an unknown
#       opcode gets RXGEN_OPCODE, -455);
#   (5) rxsvcd --backlog 4 against 3 guest processes with 16 calls in
#       flight: Linux ignores BUSY and retransmits; every call must get
#       through as preallocations are recharged;
#  (5b) rxsvcd --backlog 4 --max-calls 4 against 16 calls in flight, so
#       that BUSY is certain (Linux 6.12 stops resending the DATA of
#       calls BUSY'd a few times and only PINGs them; rxsvcd answers
#       those PINGs statelessly, which makes Linux resend).  A plain
#       build gets 64 of 64 through; a sanitizer build (slower) has
#       lost 3 of 64: still an open problem, so reported, and counted
#       only with RXS_LINUX_BUSY_STRICT=1;
#   (6) rxkad, Linux client -> rxsvcd: a token minted with our service
#       key (rxsvc key add), exported as the payload of a Linux `rxrpc`
#       key (rxsvc key export, v1 form) and added in the guest (lxrx
#       key); the guest calls rxsvcd --keyfile at clear, auth and crypt,
#       each level against an rxsvcd whose --min-level is that level,
#       with 0, 1, 1413 and 100 KiB, byte for byte; and once more at
#       crypt with the token in its XDR form, as our keyrings hold it;
#   (7) rxkad, rxsvc -> Linux servers: the guest's servers get `rxrpc_s`
#       keys "1:2" and "147:2" (the same service key) in their keyring;
#       `rxsvc call --key --level` at clear, auth and crypt with 0, 1413
#       and 100 KiB, cmp'd; `rxsvc perf` rpc and send at crypt;
#   (8) wrong keys: a ticket sealed with another service key is refused
#       both ways with RXKADBADTICKET (19270407): rxsvcd aborts the
#       guest's call, the Linux server aborts `rxsvc call`'s; and a
#       Linux client at clear facing rxsvcd --min-level crypt gives up
#       with RXKADLEVELFAIL (19270402);
#   (9) rxsvcd counted the RESPONSEs it accepted at each level and the
#       bad ticket;
#  (10) the guest kernel logged no oops or warning;
#  (11) a tshark capture of all of it (root and tshark needed, else this
#       step is skipped, said so): no malformed frame, no expert error,
#       and rxkad's CHALLENGE and RESPONSE among the frames.
# SKIP (77) when the peer cannot be built for want of a package (kernel
# image, busybox, qemu); the reason is printed.  A guest that dies is
# booted again once (the output says so) and the step that met it runs
# again; an oops or warning on the guest's console fails step (10).  The
# tokens live in a session keyring of the test's own (rxsvc key session),
# or, where one cannot be joined, in the user keyring until the end;
# where no key can be added at all, steps (6)-(9) are skipped, said so.

# Everything below runs in a new session keyring (once: the variable).
if [ -z "${RXS_LX_KEYSESSION:-}" ]; then
	RXS_LX_KEYSESSION=0
	_r=${top_builddir:-$(pwd)}/cmd/rxsvc
	if [ -x "$_r" ] && "$_r" key session true 2>/dev/null; then
		RXS_LX_KEYSESSION=1 RXS_LX_LDPATH=${LD_LIBRARY_PATH-}
		export RXS_LX_KEYSESSION RXS_LX_LDPATH
		exec "$_r" key session sh "$0" "$@"
	fi
elif [ "$RXS_LX_KEYSESSION" = 1 ]; then
	# what rxsvc's libtool wrapper set for itself, not for qemu & co.
	LD_LIBRARY_PATH=$RXS_LX_LDPATH
	[ -n "$LD_LIBRARY_PATH" ] || unset LD_LIBRARY_PATH
fi
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

L=$S/tests/interop/linux
OUT=${RXS_LINUX_PEER_DIR:-$B/tests/interop/linux/out}
SIZES="0 1 1412 1413 5692 102400 4194304"
[ -x "$B/cmd/rxsvcd" ] && [ -x "$B/cmd/rxsvc" ] || fail "rxsvcd/rxsvc not built"
command -v bash >/dev/null || skip "bash not installed"
# make distcheck (RXS_TEST_QUICK) checks the tarball; the guest boots in
# the plain and sanitizer builds of scripts/check.sh already.
[ -z "${RXS_TEST_QUICK:-}" ] || skip "quick mode (distcheck): the Linux peer runs in the full builds"
# Under ASan rxsvcd is several times slower, and the backlog steps then
# race Linux's per-peer retransmission backoff (a call was seen to take
# over 80 s): the interop runs in the plain build, where it is timely.
[ -z "${RXS_SANITIZERS:-}" ] || skip "sanitizer build: the Linux peer runs in the plain build"
command -v qemu-system-x86_64 >/dev/null ||
	skip "qemu-system-x86_64 not installed (Debian package qemu-system-x86)"

bash "$L/build" "$OUT" >"$T/build.log" 2>&1
case $? in
0) ;;
77) skip "Linux peer: $(sed -n 's/^build: SKIP: //p' "$T/build.log" | tail -n 1)" ;;
*) cat "$T/build.log" >&2; fail "building the Linux peer" ;;
esac
echo "peer: $(cat "$OUT/kernel.txt")"

# ---- rxkad keys -----------------------------------------------------------------
# One service key (kvno 7) for rxsvcd's key file and the guest's rxrpc_s
# keys; a token KN sealed with it and a token KB sealed with another.
# Backdated: a Linux server refuses a ticket issued in its future.
R=$B/cmd/rxsvc
KN=lxkad$$ KB=lxbad$$ KR=session
[ "$RXS_LX_KEYSESSION" = 1 ] || KR=user
KAD=""
if ! "$R" keyfile add "$T/kad.keys" --kvno 7 --random >"$T/kad.err" 2>&1 ||
	! "$R" keyfile add "$T/bad.keys" --kvno 7 --random >>"$T/kad.err" 2>&1; then
	KAD="rxsvc keyfile add failed: $(head -c 200 "$T/kad.err")"
elif ! "$R" key add "$KN" --keyfile "$T/kad.keys" --kvno 7 --backdate 120 \
	--keyring $KR >"$T/kad.err" 2>&1 ||
	! "$R" key add "$KB" --keyfile "$T/bad.keys" --kvno 7 --backdate 120 \
		--keyring $KR >>"$T/kad.err" 2>&1; then
	KAD="cannot add a token to the $KR keyring here: $(head -c 200 "$T/kad.err")"
fi
KADHEX=$(awk '$1 == 7 { print $2 }' "$T/kad.keys" 2>/dev/null)
[ $KR = session ] || on_exit "'$R' key del $KN; '$R' key del $KB"

# ---- rxsvcd three times: plain; 4 preallocated calls; and at most 4 active
start_rxsvcd --stats-file "$T/stats.main"
PA=$PORT PIDA=$RXSVCD_PID
mv "$T/rxsvcd.log" "$T/rxsvcd.main.log"
start_rxsvcd --backlog 4 --stats-file "$T/stats.b4"
PB=$PORT PIDB=$RXSVCD_PID
mv "$T/rxsvcd.log" "$T/rxsvcd.b4.log"
start_rxsvcd --backlog 4 --max-calls 4 --stats-file "$T/stats.m4"
PM=$PORT PIDM=$RXSVCD_PID
mv "$T/rxsvcd.log" "$T/rxsvcd.m4.log"
echo "rxsvcd: 127.0.0.1:$PA (echo, rxperf), 127.0.0.1:$PB (--backlog 4), 127.0.0.1:$PM (--backlog 4 --max-calls 4)"
# ... and three with rxkad: --min-level clear, auth and crypt
PKC=0 PKA=0 PKX=0 PIDK=""
if [ -z "$KAD" ]; then
	for lv in clear auth crypt; do
		start_rxsvcd --keyfile "$T/kad.keys" --min-level $lv \
			--stats-file "$T/stats.k$lv"
		mv "$T/rxsvcd.log" "$T/rxsvcd.k$lv.log"
		PIDK="$PIDK $RXSVCD_PID"
		case $lv in
		clear) PKC=$PORT ;;
		auth) PKA=$PORT ;;
		crypt) PKX=$PORT ;;
		esac
	done
	echo "rxsvcd --keyfile (rxkad, kvno 7): 127.0.0.1:$PKC (--min-level clear), 127.0.0.1:$PKA (auth), 127.0.0.1:$PKX (crypt); tokens in the $KR keyring"
fi

# ---- the guest --------------------------------------------------------------
GS=$T/guest
boot() {
	bash "$L/run" start "$GS" "$OUT" -u echo:7001 -u rxperf:7009 -l 600 \
		>"$T/boot.out" 2>"$T/boot.err"
	_rc=$?
	track "$(cat "$GS/qemu.pid" 2>/dev/null)"
	if [ $_rc != 0 ]; then
		cat "$T/boot.err" >&2
		fail "the Linux guest did not boot"
	fi
	sed 's/^run: /boot: /' "$T/boot.err"
	echo "boot: $(tr '\n' ' ' <"$T/boot.out")"
}
on_exit "bash '$L/run' stop '$GS'"
boot
HE=$(sed -n 's/^port_echo=//p' "$GS/info")
HP=$(sed -n 's/^port_rxperf=//p' "$GS/info")
echo "guest: echo on udp 127.0.0.1:$HE, rxperf on udp 127.0.0.1:$HP; it sees the host as 10.0.2.2"

# ---- capture ----------------------------------------------------------------
CAP=$T/linux.pcapng
TS=""
if [ "$(id -u)" != 0 ]; then
	capnote="capturing needs root"
elif ! command -v tshark >/dev/null; then
	capnote="tshark not installed"
else
	tshark -i lo -f "udp port $PA or udp port $PB or udp port $PM or udp port $PKC or udp port $PKA or udp port $PKX or udp port $HE or udp port $HP" \
		-w "$CAP" >"$T/tshark.log" 2>&1 &
	TS=$!
	track "$TS"
	n=150
	while [ $n -gt 0 ] && ! grep -q "Capturing on" "$T/tshark.log"; do
		kill -0 "$TS" 2>/dev/null || break
		sleep 0.1
		n=$((n - 1))
	done
	if ! grep -q "Capturing on" "$T/tshark.log"; then
		capnote="tshark could not capture on lo: $(head -c 200 "$T/tshark.log")"
		kill "$TS" 2>/dev/null
		TS=""
	fi
fi

# ---- steps --------------------------------------------------------------------
passed=0 failed=0 failures="" rebooted=0
ms() { echo $(($(date +%s%N) / 1000000)); }
# a dead guest (6.12.95 has been seen to oops in rxrpc_connection_timer)
# is booted again, once, and the step that met it runs again
reboot_if_dead() {
	bash "$L/run" alive "$GS" && return 1
	[ $rebooted = 0 ] || return 1
	rebooted=1
	echo "     the guest died; its console ends:"
	tail -n 30 "$GS/console.log" | sed 's/^/       | /'
	cp "$GS/console.log" "$T/console.first"
	echo "     booting it again, once"
	boot
}
step() { # NAME COMMAND...: run, time and report one check
	_name=$1
	shift
	_t0=$(ms)
	"$@" >"$T/step.out" 2>&1
	_rc=$?
	if [ $_rc != 0 ] && reboot_if_dead; then
		sed 's/^/     (before the reboot) /' "$T/step.out"
		_t0=$(ms)
		"$@" >"$T/step.out" 2>&1
		_rc=$?
	elif [ $_rc != 0 ] && grep -q "unreachable" "$T/step.out"; then
		# Seen once: the guest's first calls to 10.0.2.2 found no
		# route for a moment after boot.  Say so and try once more.
		sed 's/^/     (first try) /' "$T/step.out"
		sleep 2
		_t0=$(ms)
		"$@" >"$T/step.out" 2>&1
		_rc=$?
	fi
	_dt=$(($(ms) - _t0))
	if [ $_rc = 0 ]; then
		passed=$((passed + 1))
		echo "ok   $_name ($((_dt / 1000)).$((_dt % 1000 / 100)) s)"
	else
		failed=$((failed + 1))
		failures="$failures; $_name"
		echo "FAIL $_name (exit $_rc, $((_dt / 1000)).$((_dt % 1000 / 100)) s)"
	fi
	sed 's/^/     /' "$T/step.out"
	return $_rc
}
# G TIMEOUT SCRIPT: run SCRIPT in the guest (sh), output and exit status
G() {
	bash "$L/run" exec "$GS" -t "$1" -- "$2"
}

guest_to_echo() {
	G 60 "lxrx call 10.0.2.2:$PA -d linux-says-hello -t 30" >"$T/hello" || return 1
	cat "$T/hello"
	grep -q '^linux-says-hello' "$T/hello" || { echo "the reply was not printed"; return 1; }
	G 100 "lxrx call 10.0.2.2:$PA -z $(echo "$SIZES" | tr ' ' ,) -t 90 -v"
}
host_to_echo() {
	_bad=0
	for n in $SIZES; do
		mkdata "$T/in.$n" "$n"
		if timeout -k 2 60 "$B/cmd/rxsvc" call "127.0.0.1:$HE" --service 1 \
			--data-file "$T/in.$n" --out "$T/out.$n" --timeout 50 \
			2>"$T/call.err"; then
			if cmp -s "$T/in.$n" "$T/out.$n"; then
				echo "$n bytes: echoed"
			else
				echo "$n bytes: reply differs"
				_bad=1
			fi
		else
			echo "$n bytes: rxsvc call exit $?: $(cat "$T/call.err")"
			_bad=1
		fi
	done
	return $_bad
}
perf_ok() { # rxsvc perf ARGS...: exit 0 and no failed call
	timeout -k 2 60 "$B/cmd/rxsvc" perf "127.0.0.1:$HP" "$@" --timeout 50 \
		>"$T/perf.out" 2>&1
	_p=$?
	sed -n '1p;/errors:/p;/retransmits:/p' "$T/perf.out"
	[ $_p = 0 ] && grep -q ' 0 failed' "$T/perf.out"
}
host_perf() {
	perf_ok rpc --calls 300 &&
		perf_ok rpc --send 5000 --recv 5000 --calls 40 --threads 4 &&
		perf_ok send --bytes 1048576 --calls 3 &&
		perf_ok recv --bytes 1048576 --calls 3
}
guest_perf() {
	G 100 "lxrx call 10.0.2.2:$PA -R rpc:4:4 -n 300 -t 60 &&
		lxrx call 10.0.2.2:$PA -R rpc:1000:1000 -n 100 -c 8 -t 60 &&
		lxrx call 10.0.2.2:$PA -R send:1048576 -n 3 -t 60 &&
		lxrx call 10.0.2.2:$PA -R recv:1048576 -n 3 -t 60" || return 1
	G 40 "lxrx call 10.0.2.2:$PA -R op:77 -t 30" >"$T/op77"
	_o=$?
	cat "$T/op77"
	[ $_o = 3 ] && grep -q '^abort -455$' "$T/op77"
}
backlog() {
	# one lxrx process = one client endpoint = at most 16 calls in flight
	G 100 "for i in 1 2 3; do lxrx call 10.0.2.2:$PB -z 20000 -n 64 -c 16 -t 80 >/tmp/b\$i 2>&1 & eval p\$i=\$!; done
		r=0; for p in \$p1 \$p2 \$p3; do wait \$p || r=1; done
		cat /tmp/b1 /tmp/b2 /tmp/b3; exit \$r"
}

step "(1) Linux client -> rxsvcd echo: $SIZES bytes" guest_to_echo
step "(2) rxsvc call -> Linux echo server: $SIZES bytes" host_to_echo
step "(3) rxsvc perf -> Linux rxperf server: rpc, send, recv" host_perf
step "(4) Linux client -> rxsvcd rxperf: rpc, send, recv, bad opcode" guest_perf
step "(5) 3 x 64 calls, 16 in flight each, rxsvcd --backlog 4" backlog
busy_max_calls() {
	G 60 "lxrx call 10.0.2.2:$PM -z 20000 -n 64 -c 16 -t 40"
}
if [ "${RXS_LINUX_BUSY_STRICT:-0}" = 1 ]; then
	step "(5b) 64 calls, 16 in flight, rxsvcd --backlog 4 --max-calls 4" busy_max_calls
elif busy_max_calls >"$T/5b.out" 2>&1; then
	echo "ok   (5b) 64 calls, 16 in flight, rxsvcd --backlog 4 --max-calls 4 (not counted)"
	sed 's/^/     /' "$T/5b.out"
else
	echo "KNOWN (5b) 64 calls, 16 in flight, rxsvcd --backlog 4 --max-calls 4: calls lost (not counted; RXS_LINUX_BUSY_STRICT=1 counts it)"
	grep -v '^call ' "$T/5b.out" | sed 's/^/     /'
	grep '^call ' "$T/5b.out" | head -n 5 | sed 's/^/     /'
fi

# ---- rxkad -------------------------------------------------------------------------
CODE_BADTICKET=19270407 CODE_LEVELFAIL=19270402

# (6) the guest adds our token as an `rxrpc` key and calls rxsvcd with it
guest_kad() {
	_v1=$("$R" key export "$KN") && _xdr=$("$R" key export "$KN" --format xdr) ||
		{ echo "rxsvc key export failed"; return 1; }
	echo "token: $((${#_v1} / 2)) bytes as a v1 rxrpc key, $((${#_xdr} / 2)) as XDR"
	G 120 "lxrx key rxrpc lxkad $_v1 >/dev/null &&
		lxrx key rxrpc lxkadx $_xdr >/dev/null || exit 1
		r=0
		for lp in clear:$PKC auth:$PKA crypt:$PKX; do
			echo \"\${lp%%:*}:\"
			lxrx call 10.0.2.2:\${lp#*:} -k lxkad -l \${lp%%:*} \\
				-z 0,1,1413,102400 -t 40 || r=1
		done
		echo 'crypt, XDR token:'
		lxrx call 10.0.2.2:$PKX -k lxkadx -l crypt -d linux-kad-xdr -t 30 &&
			echo || r=1
		exit \$r" >"$T/kad6" 2>&1
	_r=$?
	cat "$T/kad6"
	[ $_r = 0 ] && grep -q '^linux-kad-xdr' "$T/kad6"
}
# (7) the guest's servers get the service key; rxsvc calls them with KN
host_kad() {
	G 30 "lxrx key rxrpc_s 1:2 $KADHEX -r lxrx-kad >/dev/null &&
		lxrx key rxrpc_s 147:2 $KADHEX -r lxrx-kad >/dev/null" ||
		{ echo "cannot add the guest's rxrpc_s keys"; return 1; }
	_bad=0
	for lv in clear auth crypt; do
		_ok=""
		for n in 0 1413 102400; do
			mkdata "$T/kin.$n" "$n"
			if timeout -k 2 50 "$R" call "127.0.0.1:$HE" --service 1 \
				--key "$KN" --level $lv --data-file "$T/kin.$n" \
				--out "$T/kout" --timeout 40 2>"$T/call.err"; then
				if cmp -s "$T/kin.$n" "$T/kout"; then
					_ok="$_ok $n"
				else
					echo "$lv, $n bytes: reply differs"
					_bad=1
				fi
			else
				echo "$lv, $n bytes: rxsvc call exit $?: $(cat "$T/call.err")"
				_bad=1
			fi
		done
		echo "$lv:${_ok:- none} bytes echoed"
	done
	perf_ok rpc --calls 100 --security crypt --key "$KN" || _bad=1
	perf_ok send --bytes 262144 --calls 2 --security crypt --key "$KN" || _bad=1
	return $_bad
}
# (8) tickets sealed with the wrong key, both ways; a level too low
wrong_keys() {
	_bad=0
	_v1=$("$R" key export "$KB") || { echo "rxsvc key export failed"; return 1; }
	G 40 "lxrx key rxrpc lxbad $_v1 >/dev/null || exit 1
		lxrx call 10.0.2.2:$PKC -k lxbad -l crypt -d x -t 30" >"$T/wk" 2>&1
	_r=$?
	sed 's/^/Linux client, wrong key: /' "$T/wk"
	[ $_r = 3 ] && grep -qx "abort $CODE_BADTICKET" "$T/wk" ||
		{ echo "  want exit 3 and abort $CODE_BADTICKET"; _bad=1; }
	timeout -k 2 40 "$R" call "127.0.0.1:$HE" --service 1 --key "$KB" \
		--level crypt --data x --timeout 30 >"$T/wk" 2>&1
	_r=$?
	sed 's/^/rxsvc call, wrong key: /' "$T/wk"
	[ $_r = 1 ] && grep -q "abort code $CODE_BADTICKET (RXKADBADTICKET)" "$T/wk" ||
		{ echo "  want exit 1 and abort code $CODE_BADTICKET"; _bad=1; }
	G 40 "lxrx key rxrpc lxkad $("$R" key export "$KN") >/dev/null || exit 1
		lxrx call 10.0.2.2:$PKX -k lxkad -l clear -d x -t 30" >"$T/wk" 2>&1
	_r=$?
	sed 's/^/Linux client at clear, rxsvcd --min-level crypt: /' "$T/wk"
	[ $_r = 3 ] && grep -qx "abort $CODE_LEVELFAIL" "$T/wk" ||
		{ echo "  want exit 3 and abort $CODE_LEVELFAIL"; _bad=1; }
	return $_bad
}
if [ -z "$KAD" ]; then
	step "(6) rxkad: Linux client -> rxsvcd at clear, auth, crypt" guest_kad
	step "(7) rxkad: rxsvc call, perf -> Linux servers at clear, auth, crypt" host_kad
	step "(8) rxkad: wrong keys refused both ways, with their codes" wrong_keys
else
	echo "skip (6)-(9) rxkad: $KAD"
fi

# rxsvcd's counters: stop them (their stats are written at exit)
# shellcheck disable=SC2086
kill -TERM "$PIDA" "$PIDB" "$PIDM" $PIDK 2>/dev/null
# shellcheck disable=SC2086
wait "$PIDA" "$PIDB" "$PIDM" $PIDK 2>/dev/null
for f in main b4 m4; do
	echo "rxsvcd ($f): $(awk '$1 ~ /^(calls_service|calls_succeeded|calls_busy_refused|busy_out|busy_ratelimited|data_retrans|ping_responses_out|rx_drop_stale|rx_drop_nocall)$/ { printf "%s=%s ", $1, $2 }' "$T/stats.$f" 2>/dev/null)"
done
busy=$(awk '$1 == "busy_out" { print $2 }' "$T/stats.b4" 2>/dev/null)
echo "(5) rxsvcd --backlog 4 answered ${busy:-?} new calls with BUSY; Linux retried them"

kad_counters() { # responses accepted at every level; the bad ticket counted
	_bad=0
	for lv in clear auth crypt; do
		_s=$T/stats.k$lv
		echo "rxsvcd (--min-level $lv): $(awk '$1 ~ /^(calls_succeeded|challenges_out|responses_ok|security_failures)$/ { printf "%s=%s ", $1, $2 }' "$_s" 2>/dev/null)"
		_n=$(awk '$1 == "responses_ok" { print $2 }' "$_s" 2>/dev/null)
		[ "${_n:-0}" -gt 0 ] || { echo "  no RESPONSE accepted"; _bad=1; }
	done
	_n=$(awk '$1 == "security_failures" { print $2 }' "$T/stats.kclear" 2>/dev/null)
	[ "${_n:-0}" -gt 0 ] || { echo "  the wrong ticket was not counted"; _bad=1; }
	return $_bad
}
[ -n "$KAD" ] || step "(9) rxsvcd's rxkad counters" kad_counters

guest_kernel() {
	cat "$T/console.first" "$GS/console.log" 2>/dev/null |
		grep -aE 'Oops|BUG:|WARNING:|Call Trace|general protection|rxrpc.*(error|fail)|lxpeer: .*fail' \
			>"$T/kmsg"
	if [ ! -s "$T/kmsg" ]; then
		[ $rebooted = 0 ] && echo "console clean" ||
			echo "the guest died and was booted again, but logged no oops"
		return 0
	fi
	head -n 20 "$T/kmsg"
	# Debian's 6.12.95 under TCG has been seen to die inside its own
	# rxrpc: a NULL dereference in the connection reaper
	# (rxrpc_connection_timer), a double fault in kmalloc under
	# rxrpc_send_data_packet.  When the guest died of it, was booted
	# again and every step then passed, the crash is the guest kernel's:
	# reported here (above), not counted.  An oops or warning that did
	# not kill the guest still fails.
	if [ $rebooted = 1 ] && [ "$failed" = 0 ]; then
		echo "     the guest kernel crashed once (above) and was booted again; every step passed after it: reported, not counted"
		return 0
	fi
	return 1
}
step "(10) the guest kernel logged no oops or warning" guest_kernel

wire() {
	sleep 1 # last final ACKs
	kill -INT "$TS"
	wait "$TS" 2>/dev/null
	[ -s "$CAP" ] || { echo "nothing captured"; return 1; }
	# the AFS dissector reads every payload as an AFS RPC: off
	DEC="-d udp.port==$PA,rx -d udp.port==$PB,rx -d udp.port==$PM,rx -d udp.port==$HE,rx -d udp.port==$HP,rx --disable-protocol afs"
	[ -n "$KAD" ] ||
		DEC="$DEC -d udp.port==$PKC,rx -d udp.port==$PKA,rx -d udp.port==$PKX,rx"
	# shellcheck disable=SC2086
	tshark -r "$CAP" $DEC -T fields -e rx.type >"$T/types" 2>/dev/null
	echo "$(grep -c . "$T/types") Rx frames: $(sort -n "$T/types" | uniq -c |
		awk '{ t = $2 == 1 ? "DATA" : $2 == 2 ? "ACK" : $2 == 3 ? "BUSY" : $2 == 4 ? "ABORT" : $2 == 6 ? "CHALLENGE" : $2 == 7 ? "RESPONSE" : $2 == 13 ? "VERSION" : "type " $2; printf "%s %s, ", $1, t }')"
	[ "$(grep -c . "$T/types")" -gt 1000 ] || { echo "too few Rx frames"; return 1; }
	if [ -z "$KAD" ] && ! { grep -qx 6 "$T/types" && grep -qx 7 "$T/types"; }; then
		echo "no rxkad CHALLENGE or RESPONSE captured"
		return 1
	fi
	# shellcheck disable=SC2086
	tshark -r "$CAP" $DEC -Y '_ws.malformed || _ws.expert.severity >= error' \
		>"$T/bad" 2>/dev/null
	# shellcheck disable=SC2086
	tshark -r "$CAP" $DEC -Y '_ws.expert.severity == warning' 2>/dev/null |
		wc -l | sed 's/^/expert warnings (not failures): /'
	[ -s "$T/bad" ] || { echo "none malformed, no expert errors"; return 0; }
	head -n 20 "$T/bad"
	_f=$(awk 'NR == 1 { print $1 }' "$T/bad")
	# shellcheck disable=SC2086
	tshark -r "$CAP" $DEC -V -Y "frame.number == $_f" 2>/dev/null | tail -n 40
	return 1
}
if [ -n "$TS" ]; then
	# kept for a look when it fails (make clean removes it)
	step "(11) tshark capture: Rx frames well formed" wire ||
		cp "$CAP" "$B/tests/interop/linux_interop.pcapng" 2>/dev/null
else
	echo "skip (11) tshark capture: $capnote"
fi

echo "$passed passed, $failed failed"
[ $failed = 0 ] || fail "${failures#; }"
