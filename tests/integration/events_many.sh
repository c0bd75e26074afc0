#!/bin/sh
# Many subscribers (16, seqpacket and stream), each gets every message.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --stream-socket "$T/bus.stream" --queue 1024
N=500
pids=""
i=0
while [ $i -lt 16 ]; do
	if [ $((i % 2)) = 0 ]; then
		sock="--socket $T/bus.sock"
	else
		sock="--socket $T/bus.stream --stream"
	fi
	"$EV_BIN" events subscribe $sock --group 7 --count $N --ready-file "$T/r$i" \
		>"$T/o$i" 2>&1 &
	pids="$pids $!"; track $!
	i=$((i + 1))
done
i=0
while [ $i -lt 16 ]; do wait_file "$T/r$i" || fail "subscriber $i"; i=$((i + 1)); done
"$EV_BIN" events send --socket "$T/bus.sock" --group 7 --id 9.9 --data m --count $N || fail "send"
for p in $pids; do wait_pid $p || fail "a subscriber did not get all $N"; done
i=0
while [ $i -lt 16 ]; do
	[ "$(grep -c '^group=7' "$T/o$i")" -eq $N ] || fail "subscriber $i count"
	i=$((i + 1))
done
exit 0
