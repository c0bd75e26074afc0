#!/bin/sh
# DEBUG packets both ways:
#  1. OpenAFS's real rxdebug (openafs-client) against rxsvcd while rxperf
#     calls are in flight: -version, -noconns, -allconnections (a call
#     shown active), -peers; then, once the load is over, the numbers
#     `rxdebug -rxstats` prints are checked against rxsvcd's own counters
#     (--stats-file, written at exit);
#  2. `rxsvc debug` against an OpenAFS Rx server (oafs_rxperf server) after
#     a known number of calls, text and JSON;
#  3. rxsvcd --no-debug drops DEBUG requests (rxsvc debug gets no answer).
# Exit 77 when rxdebug or the OpenAFS programs are absent.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

OR=$B/tests/interop/oafs_rxperf
RXDEBUG=$(command -v rxdebug || true)
for d in /usr/bin /usr/sbin; do
	[ -z "$RXDEBUG" ] && [ -x "$d/rxdebug" ] && RXDEBUG=$d/rxdebug
done
[ -n "$RXDEBUG" ] || skip "rxdebug not installed (openafs-client)"
[ -x "$OR" ] || skip "oafs_rxperf not built (needs libopenafs-dev)"
[ -x "$B/cmd/rxsvcd" ] || fail "$B/cmd/rxsvcd not built"

STEP=${RXS_INTEROP_STEP_TIMEOUT:-40}
failed=""
# rxdebug retries for 31 s when nothing answers: bound every run.
rxd() { timeout -k 2 15 "$RXDEBUG" 127.0.0.1 "$@"; }
# the number after WORD on the line starting with PREFIX in FILE
num_after() { sed -n "s/.*$2[: ]* \([0-9][0-9]*\).*/\1/p" "$1" | head -n 1; }
stat_of() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

# ---- 1. rxdebug against rxsvcd under load ----
start_rxsvcd --stats-file "$T/stats"
echo "rxsvcd on 127.0.0.1:$PORT (pid $RXSVCD_PID)"
# load: 16 MiB sends (each call lasts ~0.1 s) and small RPCs, 2 threads
"$OR" client -c send -p "$PORT" -b 16777216 -n 20 -T 2 >"$T/load1" 2>&1 &
L1=$!
track "$L1"
"$OR" client -c rpc -p "$PORT" -S 4 -R 4 -n 3000 >"$T/load2" 2>&1 &
L2=$!
track "$L2"

rxd "$PORT" -version >"$T/ver" 2>&1
grep -q '^AFS version: rxsvc' "$T/ver" && echo "ok   1. -version: $(sed -n 's/^AFS version: //p' "$T/ver")" ||
	{ cat "$T/ver" >&2; failed="$failed version"; }

rxd "$PORT" -noconns >"$T/noconns" 2>&1 &&
	grep -q '^Free packets: .*calls: [0-9]' "$T/noconns" &&
	echo "ok   1. -noconns: $(grep '^Free packets' "$T/noconns")" ||
	{ cat "$T/noconns" >&2; failed="$failed noconns"; }

active=no
for i in 1 2 3 4 5 6 7 8 9 10; do
	rxd "$PORT" -allconnections >"$T/conns" 2>&1 || break
	if grep -q 'state active' "$T/conns"; then
		active=yes
		break
	fi
	sleep 0.2
done
if [ $active = yes ] && grep -q '^Connection from host 127.0.0.1, port' "$T/conns" &&
	grep -q 'server conn' "$T/conns" && tail -n 1 "$T/conns" | grep -q '^Done'; then
	echo "ok   1. -allconnections: $(grep -c '^Connection from' "$T/conns") connection(s), a call active"
else
	sed 's/^/    /' "$T/conns" >&2
	failed="$failed allconnections"
fi
rxd "$PORT" -peers -long -noconns >"$T/peers" 2>&1
if grep -q '^Peer at host 127.0.0.1, port' "$T/peers" &&
	grep -q 'ifMTU' "$T/peers"; then
	echo "ok   1. -peers: $(grep -c '^Peer at' "$T/peers") peer(s)"
else
	sed 's/^/    /' "$T/peers" >&2
	failed="$failed peers"
fi
rxd "$PORT" >"$T/plain" 2>&1 && tail -n 1 "$T/plain" | grep -q '^Done' ||
	{ cat "$T/plain" >&2; failed="$failed plain"; }

wait "$L1" || { cat "$T/load1" >&2; failed="$failed load-send"; }
wait "$L2" || { cat "$T/load2" >&2; failed="$failed load-rpc"; }
# Quiet now (only rxdebug's own packets from here): the data and ACK
# counters rxdebug prints must equal rxsvcd's counters at exit.
sleep 0.3
rxd "$PORT" -rxstats -noconns >"$T/rxstats" 2>&1 ||
	{ cat "$T/rxstats" >&2; failed="$failed rxstats"; }
kill "$RXSVCD_PID"
wait "$RXSVCD_PID" 2>/dev/null
wait_file "$T/stats" 50 || fail "rxsvcd wrote no --stats-file"
read_line=$(grep '^ *packets read:' "$T/rxstats")
sent_line=$(grep '^ *packets sent:' "$T/rxstats")
check() { # WHAT RXDEBUG-VALUE RXSVCD-VALUE
	if [ -n "$2" ] && [ "$2" = "$3" ]; then
		echo "ok   1. -rxstats $1: $2"
	else
		echo "FAIL 1. -rxstats $1: rxdebug '$2', rxsvcd '$3'" >&2
		failed="$failed rxstats:$1"
	fi
}
data_in=$(($(stat_of "$T/stats" data_in) + $(stat_of "$T/stats" data_dup)))
check "data read" "$(echo "$read_line" | sed -n 's/.*: data \([0-9]*\).*/\1/p')" "$data_in"
check "ack read" "$(echo "$read_line" | sed -n 's/.* ack \([0-9]*\).*/\1/p')" "$(stat_of "$T/stats" ack_in)"
check "data sent" "$(echo "$sent_line" | sed -n 's/.*: data \([0-9]*\).*/\1/p')" "$(stat_of "$T/stats" data_out)"
check "ack sent" "$(echo "$sent_line" | sed -n 's/.* ack \([0-9]*\).*/\1/p')" "$(stat_of "$T/stats" ack_out)"
check "resends" "$(sed -n 's/.*resends \([0-9]*\).*/\1/p' "$T/rxstats")" "$(stat_of "$T/stats" data_retrans)"
check "abort sent" "$(echo "$sent_line" | sed -n 's/.* abort \([0-9]*\).*/\1/p')" "$(stat_of "$T/stats" abort_out)"
calls=$(sed -n 's/.*calls: \([0-9]*\).*/\1/p' "$T/rxstats")
check "calls" "$calls" "$(stat_of "$T/stats" calls_service)"

# ---- 2. rxsvc debug against an OpenAFS server ----
"$OR" server -P "$T/oafs.port" -t 300 >"$T/oafs.log" 2>&1 &
OS_PID=$!
track "$OS_PID"
wait_file "$T/oafs.port" || { cat "$T/oafs.log" >&2; fail "oafs_rxperf server did not start"; }
OPORT=$(cat "$T/oafs.port")
timeout -k 2 "$STEP" "$OR" client -c rpc -p "$OPORT" -n 25 >/dev/null 2>&1 ||
	failed="$failed oafs-calls"
if timeout -k 2 "$STEP" "$B/cmd/rxsvc" debug "127.0.0.1:$OPORT" --stats \
	--conns --peers --json >"$T/dj" 2>&1; then
	for want in '"version":"OpenAFS' '"calls_executed":25,' '"version_letter":"S"' \
		'"conns":\[{"host":"127.0.0.1"' '"peers":\[{"host":"127.0.0.1"' \
		'"packets_read":{"data":25,'; do
		grep -q "$want" "$T/dj" || { failed="$failed debug-json:$want"; }
	done
	echo "ok   2. rxsvc debug --json against OpenAFS"
else
	failed="$failed debug-json"
fi
case $failed in *debug-json*) sed 's/^/    /' "$T/dj" >&2 ;; esac
if timeout -k 2 "$STEP" "$B/cmd/rxsvc" debug "127.0.0.1:$OPORT" --stats \
	--conns --peers >"$T/dt" 2>&1 && grep -q 'OpenAFS' "$T/dt" &&
	grep -q 'server conn 127.0.0.1:' "$T/dt" && grep -q 'peer 127.0.0.1:' "$T/dt"; then
	echo "ok   2. rxsvc debug (text) against OpenAFS"
else
	sed 's/^/    /' "$T/dt" >&2
	failed="$failed debug-text"
fi
"$B/cmd/rxsvc" debug 2>/dev/null
[ $? -eq 2 ] || failed="$failed debug-usage"

# ---- 3. --no-debug ----
start_rxsvcd --no-debug
timeout -k 2 "$STEP" "$B/cmd/rxsvc" debug "127.0.0.1:$PORT" --timeout 1 --json >"$T/nd" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '"stats_error":"no answer"' "$T/nd"; then
	echo "ok   3. --no-debug: DEBUG dropped"
else
	echo "FAIL 3. --no-debug: exit $rc" >&2
	cat "$T/nd" >&2
	failed="$failed no-debug"
fi

[ -z "$failed" ] || fail "failed:$failed"
echo "PASS: rxdebug against rxsvcd, rxsvc debug against OpenAFS"
