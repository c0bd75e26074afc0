#!/bin/sh
# Access by the bus's mode with SO_PEERCRED: another uid is refused at
# join, or at send, with a clear message and a counter.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to run a client as another uid"
command -v setpriv >/dev/null || skip "no setpriv"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody true 2>/dev/null || skip "setpriv does not work here"
chmod 755 "$T"
# The tool must be reachable by nobody too.
as_nobody test -x "$EV_BIN" || skip "build tree not accessible to uid 65534"

# 0664: others may receive, not send.
start_bus --mode 0664
"$EV_BIN" events subscribe --socket "$T/bus.sock" --group 3 --count 1 \
	--ready-file "$T/root.ready" >"$T/root.out" 2>&1 &
sub=$!; track $sub
wait_file "$T/root.ready" || fail "root subscriber"
as_nobody "$EV_BIN" events send --socket "$T/bus.sock" --group 3 --id 1.1 \
	--data no 2>"$T/err" && fail "nobody could send on a 0664 bus"
grep -q "not allowed to send" "$T/err" || { cat "$T/err"; fail "no refusal message"; }
[ "$(stat eacces)" -ge 1 ] || fail "refusal not counted"
touch "$T/nobody.ready"; chmod 666 "$T/nobody.ready"
as_nobody "$EV_BIN" events subscribe --socket "$T/bus.sock" --group 3 \
	--count 1 --ready-file "$T/nobody.ready" >"$T/nobody.out" 2>&1 &
nb=$!; track $nb
wait_file "$T/nobody.ready" || { cat "$T/nobody.out"; fail "nobody could not subscribe (r)"; }
"$EV_BIN" events send --socket "$T/bus.sock" --group 3 --id 1.1 --data yes || fail "root send"
wait_pid $sub || fail "root subscriber got nothing"
wait_pid $nb || fail "nobody's subscriber got nothing"
grep -q 'data=yes' "$T/nobody.out" || fail "nobody's subscriber output"
kill $BUS_PID; wait $BUS_PID 2>/dev/null; untrack $BUS_PID

# 0660: others have no right at all: refused at join.
rm -f "$T/bus.ready"
start_bus --mode 0660
as_nobody "$EV_BIN" events subscribe --socket "$T/bus.sock" --group 3 \
	--count 1 2>"$T/err" && fail "nobody joined a 0660 bus"
grep -q "refused" "$T/err" || { cat "$T/err"; fail "no refusal message at join"; }
kill $BUS_PID; wait $BUS_PID 2>/dev/null; untrack $BUS_PID

# 0602: the socket file is connectable, the bus refuses others (w only
# for others, r asked): -EACCES from the bus itself.
rm -f "$T/bus.ready"
start_bus --mode 0602
as_nobody "$EV_BIN" events subscribe --socket "$T/bus.sock" --group 3 \
	--count 1 2>"$T/err" && fail "nobody subscribed without r"
grep -q "not allowed to receive" "$T/err" || { cat "$T/err"; fail "no refusal at subscribe"; }
[ "$(stat eacces)" -ge 1 ] || fail "refusal not counted"
exit 0
