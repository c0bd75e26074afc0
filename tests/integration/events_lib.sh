# Helpers for the events_*.sh tests (after tests/helpers/lib.sh).
# ev ARGS...: `rxsvc events ARGS...` (cmd/rxsvc if it knows `events`,
# else the stand-alone tests/integration/events_cli).
if [ -x "$B/cmd/rxsvc" ] && "$B/cmd/rxsvc" events --help >/dev/null 2>&1; then
	EV_BIN="$B/cmd/rxsvc"
elif [ -x "$B/tests/integration/events_cli" ]; then
	EV_BIN="$B/tests/integration/events_cli"
else
	skip "no rxsvc events tool built"
fi
[ -x "$B/cmd/rxsvc-eventd" ] || skip "rxsvc-eventd not built"

ev() { "$EV_BIN" events "$@"; }

# track PID: kill PID on exit (the bus and every background client).
# untrack PID: it was reaped; its number may already be another
# process's (another test's), which the exit must not kill.
EV_PIDS=""
track() { EV_PIDS="$EV_PIDS $1"; }
untrack() {
	_l=""
	for _p in $EV_PIDS; do [ "$_p" = "$1" ] || _l="$_l $_p"; done
	EV_PIDS=$_l
}
on_exit 'for p in $EV_PIDS; do kill $p 2>/dev/null; done; sleep 0.2; for p in $EV_PIDS; do kill -9 $p 2>/dev/null; done'

# start_bus [ARGS...]: rxsvc-eventd on $T/bus.sock -> $BUS_PID.
start_bus() {
	"$B/cmd/rxsvc-eventd" --socket "$T/bus.sock" \
		--ready-file "$T/bus.ready" "$@" >"$T/bus.log" 2>&1 &
	BUS_PID=$!
	track $BUS_PID
	wait_file "$T/bus.ready" || { cat "$T/bus.log" >&2; fail "rxsvc-eventd did not start"; }
}

# wait_pid PID [TENTHS]: wait for PID to exit (default 20 s); its status.
wait_pid() {
	_n=${2:-200}
	while kill -0 "$1" 2>/dev/null && [ "$_n" -gt 0 ]; do
		sleep 0.1; _n=$((_n - 1))
	done
	kill -0 "$1" 2>/dev/null && return 124
	untrack "$1"
	wait "$1"
}

# stat NAME: a counter of the bus.
stat() { ev info --socket "$T/bus.sock" | awk -v n="$1" '$1 == n { print $2 }'; }
