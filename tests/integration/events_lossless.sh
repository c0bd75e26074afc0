#!/bin/sh
# Lossless bus: a slow subscriber loses nothing, in order, and the
# sender is held back (the bus counted stalls) rather than dropping.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --policy lossless --pool 32
N=1500
data=$(head -c 2000 /dev/zero | tr '\0' y)

"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 2 --count $N --delay-us 300 \
	--ready-file "$T/slow.ready" >"$T/slow.out" 2>&1 &
slow=$!; track $slow
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 2 --count $N \
	--ready-file "$T/fast.ready" >"$T/fast.out" 2>&1 &
fast=$!; track $fast
wait_file "$T/slow.ready" && wait_file "$T/fast.ready" || fail "subscribers did not join"
"$EV_BIN" events send --socket "$T/bus.sock" --group 2 --id 1.1 --data "$data" --count $N \
	|| fail "send"
wait_pid $slow 600 || fail "slow subscriber did not get all $N"
wait_pid $fast || fail "fast subscriber did not get all $N"
grep -q '^missed' "$T/slow.out" && fail "lossless bus dropped"
[ "$(grep -c '^group=2' "$T/slow.out")" -eq $N ] || fail "slow subscriber count"
awk -v n=$N '{ split($3, a, "="); if (a[2] != NR) { bad = 1 } }
	END { exit bad || NR != n }' "$T/slow.out" || fail "out of order or lost"
[ "$(stat stalls)" -gt 0 ] || fail "sender never held back"
[ "$(stat drops_queue)" -eq 0 ] || fail "drops on a lossless bus"
exit 0
