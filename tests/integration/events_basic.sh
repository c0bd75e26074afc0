#!/bin/sh
# rxsvc-eventd + `rxsvc events`: subscribe, send (--count, --stdin),
# JSON output, -ESRCH exit status, a stream subscriber, --id (on a
# broadcast bus and an idfilter one), --watch, manage, info.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

start_bus --stream-socket "$T/bus.stream"

# (`rxsvc events` alone subscribes, as the issue writes it)
"$EV_BIN" events --socket "$T/bus.sock" --group 5 --count 3 \
	--ready-file "$T/s1.ready" >"$T/s1.out" 2>&1 &
s1=$!; track $s1
"$EV_BIN" events subscribe --socket "$T/bus.stream" --stream --group 5 --json --count 3 \
	--ready-file "$T/s2.ready" >"$T/s2.out" 2>&1 &
s2=$!; track $s2
wait_file "$T/s1.ready" && wait_file "$T/s2.ready" || fail "subscribers did not join"

"$EV_BIN" events send --socket "$T/bus.sock" --group 5 --id 1.2 --data hello --count 3 \
	|| fail "send failed"
wait_pid $s1 || fail "subscriber 1 did not get 3 messages"
wait_pid $s2 || fail "subscriber 2 did not get 3 messages"
[ "$(grep -c 'id=1.2 .*data=hello' "$T/s1.out")" = 3 ] || { cat "$T/s1.out"; fail "text output"; }
grep -q 'seq=3 ' "$T/s1.out" || fail "seq not rising"
[ "$(grep -c '"data": *"hello"' "$T/s2.out")" = 3 ] || { cat "$T/s2.out"; fail "json output"; }
grep -q '"seq": *2' "$T/s2.out" || fail "json seq"

# Nobody listens to group 99: non-zero, and said so.
if ev send --socket "$T/bus.sock" --group 99 --id 1.2 --data x 2>"$T/err"; then
	fail "send to an empty group succeeded"
fi
grep -q "nobody listens to group 99" "$T/err" || { cat "$T/err"; fail "no -ESRCH message"; }

# --stdin: one message per line.
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 6 --count 2 \
	--ready-file "$T/s3.ready" >"$T/s3.out" 2>&1 &
s3=$!; track $s3
wait_file "$T/s3.ready" || fail "subscriber 3 did not join"
printf 'first line\nsecond\n' | ev send --socket "$T/bus.sock" --group 6 \
	--id 3.4 --stdin || fail "send --stdin"
wait_pid $s3 || fail "subscriber 3 did not get 2 messages"
grep -q 'data=first line$' "$T/s3.out" || { cat "$T/s3.out"; fail "stdin line 1"; }
grep -q 'data=second$' "$T/s3.out" || fail "stdin line 2"

# No bus: clear failure.
"$EV_BIN" events send --socket "$T/none.sock" --group 5 --id 1.2 2>"$T/err" && fail "send without a bus"
grep -q "cannot join" "$T/err" || fail "no message without a bus"

# --id on a broadcast bus: the tool itself keeps only that id.
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 8 --id 7.7 --count 1 \
	--ready-file "$T/s4.ready" >"$T/s4.out" 2>&1 &
s4=$!; track $s4
wait_file "$T/s4.ready" || fail "subscriber 4 did not join"
ev send --socket "$T/bus.sock" --group 8 --id 1.2 --data other || fail "send 1.2"
ev send --socket "$T/bus.sock" --group 8 --id 7.7 --data wanted || fail "send 7.7"
wait_pid $s4 || fail "--id subscriber did not get its message"
[ "$(wc -l <"$T/s4.out")" -eq 1 ] && grep -q '^group=8 id=7.7 .*data=wanted$' "$T/s4.out" ||
	{ cat "$T/s4.out"; fail "--id on a broadcast bus"; }

# --watch: the count of senders and receivers, out of band.
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 9 --watch --idle-exit 1500 \
	--ready-file "$T/w.ready" >"$T/w.out" 2>&1 &
w=$!; track $w
wait_file "$T/w.ready" || fail "watcher did not join"
ev send --socket "$T/bus.sock" --group 9 --id 1.1 --data n || fail "send to the watcher"
wait_pid $w || fail "watcher"
grep -q '^notice senders=0 receivers=1$' "$T/w.out" || { cat "$T/w.out"; fail "no first notice"; }
grep -q '^notice senders=1 receivers=1$' "$T/w.out" || { cat "$T/w.out"; fail "sender not noticed"; }

# manage: max subscribers changed at run time (x: the owner has 0660's
# rw only, so refused), then on a bus whose mode gives x.
ev manage --socket "$T/bus.sock" --max-subscribers 5 2>"$T/err" && fail "manage without x"
grep -q "not allowed to manage" "$T/err" || { cat "$T/err"; fail "no refusal to manage"; }

ev info --socket "$T/bus.sock" >"$T/info" || fail "info"
grep -q '^delivery lossy$' "$T/info" || fail "default policy is not lossy"
grep -q '^esrch 1$' "$T/info" || { cat "$T/info"; fail "esrch not counted"; }
ev info --socket "$T/bus.sock" --json | grep -q '"mode": *"0660"' || fail "info --json"
kill $BUS_PID; wait $BUS_PID 2>/dev/null; untrack $BUS_PID

# An idfilter bus with x for the owner: --id is the bus's filter.
rm -f "$T/bus.ready"
start_bus --route idfilter --mode 0770 --max-subscribers 8
ev manage --socket "$T/bus.sock" --max-subscribers 3 || fail "manage"
ev info --socket "$T/bus.sock" | grep -q '^max_subscribers 3$' || fail "max subscribers not changed"
ev info --socket "$T/bus.sock" | grep -q '^policy idfilter$' || fail "policy"
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 8 --id 7.7 --count 1 \
	--ready-file "$T/s5.ready" >"$T/s5.out" 2>&1 &
s5=$!; track $s5
wait_file "$T/s5.ready" || fail "subscriber 5 did not join"
# Nobody wants 1.2: -ESRCH, though group 8 has a member.
ev send --socket "$T/bus.sock" --group 8 --id 1.2 --data other 2>"$T/err" &&
	fail "an unwanted id was taken"
grep -q "nobody listens to group 8" "$T/err" || { cat "$T/err"; fail "idfilter -ESRCH"; }
ev send --socket "$T/bus.sock" --group 8 --id 7.7 --data wanted || fail "send 7.7"
wait_pid $s5 || fail "idfilter subscriber"
grep -q 'id=7.7 .*data=wanted$' "$T/s5.out" || { cat "$T/s5.out"; fail "idfilter output"; }
exit 0
