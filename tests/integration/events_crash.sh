#!/bin/sh
# A subscriber killed mid-stream is removed cleanly; the others go on.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --policy lossless --pool 64
N=3000
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 4 --delay-us 1000 \
	--ready-file "$T/victim.ready" >/dev/null 2>&1 &
victim=$!; track $victim
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 4 --count $N \
	--ready-file "$T/ok.ready" >"$T/ok.out" 2>&1 &
ok=$!; track $ok
wait_file "$T/victim.ready" && wait_file "$T/ok.ready" || fail "subscribers did not join"
"$EV_BIN" events send --socket "$T/bus.sock" --group 4 --id 1.1 --data abc --count $N &
sender=$!; track $sender
# Let the victim fill the pool (it reads one message a millisecond).
n=0
while [ "$(stat stalls)" -eq 0 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
kill -9 $victim
wait_pid $sender || fail "sender stuck after the victim died"
wait_pid $ok || fail "the other subscriber did not get all $N"
[ "$(grep -c '^group=4' "$T/ok.out")" -eq $N ] || fail "messages lost for the survivor"
n=0
while [ "$(ev info --socket "$T/bus.sock" | awk '$1 == "pool_used" { print $2 }')" != 0 ] && [ $n -lt 50 ]; do
	sleep 0.1; n=$((n + 1))
done
ev info --socket "$T/bus.sock" >"$T/info"
grep -q '^pool_used 0$' "$T/info" || { cat "$T/info"; fail "victim's queue not freed"; }
grep -q '^clients 1$' "$T/info" || fail "victim still counted (only info's own client should be)"
exit 0
