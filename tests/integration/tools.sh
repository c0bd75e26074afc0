#!/bin/sh
# The tools behave as users expect: --help, --version, bad arguments,
# SIGTERM letting a call in flight finish.
. "$top_srcdir/tests/helpers/lib.sh"

"$B/cmd/rxsvcd" --help | grep -q -- "--listen" || fail "rxsvcd --help"
"$B/cmd/rxsvcd" --version | grep -q rxsvcd || fail "rxsvcd --version"
"$B/cmd/rxsvcd" --bogus 2>/dev/null; [ $? -eq 2 ] || fail "rxsvcd bad option"
"$B/cmd/rxsvcd" --listen nonsense 2>/dev/null; [ $? -eq 2 ] || fail "rxsvcd bad address"
"$B/cmd/rxsvc" call 2>/dev/null; [ $? -eq 2 ] || fail "rxsvc call without args"
"$B/cmd/rxsvc" call 127.0.0.1:1 2>/dev/null; [ $? -eq 2 ] || fail "rxsvc call without --service"
"$B/cmd/rxsvc" --version | grep -q rxsvc || fail "rxsvc --version"

# A call to a port where nobody listens ends at once as a network error
# (the ICMP port unreachable), not after the dead time.
t0=$(date +%s)
"$B/cmd/rxsvc" call 127.0.0.1:9 --service 1 --data x --timeout 30 2>"$T/err"
rc=$?
t1=$(date +%s)
[ $rc -eq 4 ] || { cat "$T/err"; fail "dead port: exit $rc, want 4"; }
grep -q "refused" "$T/err" || { cat "$T/err"; fail "dead port: not refused"; }
[ $((t1 - t0)) -le 3 ] || fail "dead port took $((t1 - t0)) s"

# SIGTERM while a call is in flight (its request still arriving): the
# call completes, then rxsvcd exits 0.
start_rxsvcd -v
mkdata "$T/a" 1048576
mkdata "$T/b" 1048576
cat "$T/a" "$T/b" >"$T/in"
mkfifo "$T/fifo"
"$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 1 --data-file "$T/fifo" \
	--out "$T/out" &
cpid=$!
{ cat "$T/a"; sleep 1; cat "$T/b"; } >"$T/fifo" &
track $!
track $cpid
sleep 0.5
kill -TERM "$RXSVCD_PID"
wait "$cpid" || fail "the call in flight failed on SIGTERM"
cmp "$T/in" "$T/out" || fail "the call in flight differs"
wait "$RXSVCD_PID" || fail "rxsvcd did not exit 0 on SIGTERM"
echo "ok: SIGTERM let the call finish"
