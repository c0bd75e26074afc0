#!/bin/sh
# Lossy bus: a slow subscriber loses messages and is told how many; a
# fast one loses nothing; every message is received or reported missed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --policy lossy --queue 1024 --pool 8192
N=4000
data=$(head -c 1000 /dev/zero | tr '\0' x)

"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 1 --delay-us 2000 \
	--idle-exit 1500 --ready-file "$T/slow.ready" >"$T/slow.out" 2>&1 &
slow=$!; track $slow
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 1 --count $N \
	--ready-file "$T/fast.ready" >"$T/fast.out" 2>&1 &
fast=$!; track $fast
wait_file "$T/slow.ready" && wait_file "$T/fast.ready" || fail "subscribers did not join"

# Ten bursts, so that a fast reader keeps up whatever the machine.
i=0
while [ $i -lt 10 ]; do
	"$EV_BIN" events send --socket "$T/bus.sock" --group 1 --id 1.1 --data "$data" \
		--count $((N / 10)) || fail "send"
	sleep 0.2
	i=$((i + 1))
done
wait_pid $fast || { tail -3 "$T/fast.out"; fail "fast subscriber did not get all $N"; }
grep -q '^missed' "$T/fast.out" && fail "fast subscriber lost messages"
wait_pid $slow 300 || fail "slow subscriber did not finish"
got=$(grep -c '^group=' "$T/slow.out")
missed=$(awk '$1 == "missed" { s += $2 } END { print s + 0 }' "$T/slow.out")
[ "$missed" -gt 0 ] || fail "slow subscriber was not told of drops (got $got)"
[ $((got + missed)) -eq $N ] || fail "got $got + missed $missed != $N"
[ "$(stat drops_queue)" -ge "$missed" ] || fail "drops not counted"
exit 0
