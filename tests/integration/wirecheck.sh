#!/bin/sh
# Wire check: capture the loopback traffic of a few calls to rxsvcd with
# tshark and fail on any malformed Rx packet or any expert warning or
# error Wireshark's Rx dissector raises.  The calls cover echo (small
# and multi-packet, including a jumbo-sized burst), an abort (unknown
# service), rxperf operations (rxsvc perf and, when built, the OpenAFS
# peer oafs_rxperf), and DEBUG/VERSION packets (rxsvc debug; rxdebug
# when installed).  The port is ephemeral, so `-d udp.port==P,rx` says
# what it carries.  The AFS dissector is disabled: it reads every DATA
# payload as an AFS RPC (opcode first), so a 1-byte echo request would
# count as "malformed" though the Rx packet is fine.  Needs root
# (capturing) and tshark; else exit 77.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "capturing needs root"
command -v tshark >/dev/null 2>&1 || skip "tshark not installed"
[ -x "$B/cmd/rxsvcd" ] || fail "$B/cmd/rxsvcd not built"
[ -x "$B/cmd/rxsvc" ] || fail "$B/cmd/rxsvc not built"
STEP=${RXS_INTEROP_STEP_TIMEOUT:-40}

start_rxsvcd
echo "rxsvcd on 127.0.0.1:$PORT (pid $RXSVCD_PID)"
CAP=$T/wire.pcapng
tshark -i lo -f "udp port $PORT" -w "$CAP" >"$T/tshark.log" 2>&1 &
TS=$!
track "$TS"
# tshark says "Capturing on 'Loopback..." once the capture runs
n=100
while [ $n -gt 0 ] && ! grep -q "Capturing on" "$T/tshark.log"; do
	kill -0 "$TS" 2>/dev/null || { cat "$T/tshark.log" >&2; skip "tshark cannot capture on lo"; }
	sleep 0.1; n=$((n - 1))
done
[ $n -gt 0 ] || { cat "$T/tshark.log" >&2; fail "tshark did not start"; }

run() { timeout -k 2 "$STEP" "$@" >>"$T/calls.log" 2>&1 || echo "($* exit $?)" >>"$T/calls.log"; }
mkdata "$T/in" 300000
run "$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data hello
run "$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/in" --out "$T/out"
cmp -s "$T/in" "$T/out" || fail "echo through the capture came back different"
run "$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 4242 --data x
for op in rpc send recv file; do
	run "$B/cmd/rxsvc" perf "127.0.0.1:$PORT" "$op" --bytes 100000 --calls 2
done
run "$B/cmd/rxsvc" debug "127.0.0.1:$PORT" --stats --conns --peers
OR=$B/tests/interop/oafs_rxperf
if [ -x "$OR" ]; then
	run "$OR" client -c rpc -p "$PORT" -S 5000 -R 5000 -n 5
	run "$OR" client -c recv -p "$PORT" -b 200000 -n 2
fi
RXDEBUG=$(command -v rxdebug || true)
[ -n "$RXDEBUG" ] || { [ -x /usr/sbin/rxdebug ] && RXDEBUG=/usr/sbin/rxdebug; }
[ -n "$RXDEBUG" ] && run "$RXDEBUG" 127.0.0.1 "$PORT" -version -rxstats \
	-allconnections -peers

sleep 0.5 # the last final ACKs
kill -INT "$TS"
wait "$TS" 2>/dev/null
[ -s "$CAP" ] || fail "nothing captured"

DEC="-d udp.port==$PORT,rx --disable-protocol afs"
# shellcheck disable=SC2086
frames=$(tshark -r "$CAP" $DEC -Y rx 2>/dev/null | wc -l)
[ "$frames" -gt 100 ] || { cat "$T/calls.log" >&2; fail "only $frames Rx frames captured"; }
# shellcheck disable=SC2086
tshark -r "$CAP" $DEC \
	-Y '_ws.malformed || _ws.expert.severity >= warning' >"$T/bad" 2>/dev/null
if [ -s "$T/bad" ]; then
	head -n 20 "$T/bad" >&2
	# details of the first offender, for the log
	first=$(awk 'NR == 1 { print $1 }' "$T/bad")
	# shellcheck disable=SC2086
	tshark -r "$CAP" $DEC -V -x -Y "frame.number == $first" \
		2>/dev/null | tail -n 60 >&2
	fail "$(wc -l <"$T/bad") malformed or expert-flagged Rx frames of $frames"
fi
echo "PASS: $frames Rx frames, none malformed or expert-flagged"
