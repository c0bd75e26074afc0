#!/bin/sh
# Two rxsvc-eventd buses joined by a TCP link on loopback: interest
# crosses the link, messages follow it, --link-rights decides what a
# linked bus may do, copies going round a loop of links die by hop count,
# a dropped link comes back, a malformed stream drops only the link.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/lib.sh"
. "$S/tests/integration/events_lib.sh"

# bus NAME ARGS...: rxsvc-eventd on $T/NAME.sock.
bus() {
	_name=$1; shift
	"$B/cmd/rxsvc-eventd" --socket "$T/$_name.sock" \
		--ready-file "$T/$_name.ready" "$@" >>"$T/$_name.log" 2>&1 &
	eval "${_name}_pid=\$!"
	track $!
	wait_file "$T/$_name.ready" || { cat "$T/$_name.log" >&2; fail "bus $_name did not start"; }
}
# st NAME COUNTER: a counter (or info line) of bus NAME.
st() { ev info --socket "$T/$1.sock" | awk -v n="$2" '$1 == n { print $2 }'; }
# wait_st NAME COUNTER MIN: until the counter reaches MIN (10 s).
wait_st() {
	_n=100
	while [ "$_n" -gt 0 ]; do
		[ "$(st "$1" "$2")" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

# --- A listens and lets links only receive; B connects with rw. ---
bus a --link-listen 127.0.0.1:0 --link-port-file "$T/a.port" --link-rights r
port=$(cat "$T/a.port")
[ "$port" -gt 0 ] 2>/dev/null || fail "no link port"
bus b --link-connect "127.0.0.1:$port" --link-rights rw
wait_st b link_connects 1 || fail "B did not link to A"
wait_st a link_accepts 1 || fail "A did not accept the link"

"$EV_BIN" events subscribe --socket "$T/b.sock" --group 5 --count 3 \
	--ready-file "$T/s1.ready" >"$T/s1.out" 2>&1 &
s1=$!; track $s1
wait_file "$T/s1.ready" || fail "subscriber on B did not join"
# B's interest reaches A: A's link becomes a receiver of group 5.
wait_st a receivers 1 || fail "interest did not cross the link"
ev send --socket "$T/a.sock" --group 5 --id 1.2 --data across --count 3 \
	|| fail "send on A to a group only B listens to"
wait_pid $s1 || { cat "$T/s1.out"; fail "subscriber on B did not get 3 messages"; }
[ "$(grep -c 'id=1.2 .*data=across' "$T/s1.out")" = 3 ] || { cat "$T/s1.out"; fail "messages over the link"; }
grep -q 'seq=3 ' "$T/s1.out" || fail "seq not kept over the link"
[ "$(st a link_out)" = 3 ] || fail "A link_out $(st a link_out)"
[ "$(st b link_in)" = 3 ] || fail "B link_in $(st b link_in)"

# A gives links no w: it does not ask B for group 6, so B finds nobody.
"$EV_BIN" events subscribe --socket "$T/a.sock" --group 6 --count 1 \
	--ready-file "$T/s2.ready" >"$T/s2.out" 2>&1 &
s2=$!; track $s2
wait_file "$T/s2.ready" || fail "subscriber on A did not join"
sleep 0.3 # a SUB, were A to send one, would be here by now
[ "$(st a link_subs)" = 0 ] || fail "A advertised a group to a link without w"
if ev send --socket "$T/b.sock" --group 6 --id 1.2 --data x 2>"$T/err"; then
	fail "B sent to A over a link without w"
fi
grep -q "nobody listens to group 6" "$T/err" || { cat "$T/err"; fail "no -ESRCH over the link"; }
kill $s2

# A malformed stream on the link port (a frame of 4 GB) drops that
# connection alone: A counts it and keeps serving B.
if command -v python3 >/dev/null 2>&1; then
	python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=5)
s.sendall(b'\xff\xff\xff\xff\x0a\x00\x00\x00')
s.settimeout(5)
try:
    while s.recv(4096): pass
except OSError: pass
" "$port" || fail "garbage client"
	wait_st a strp_oversize 1 || fail "oversize frame on a link not counted"
	[ "$(st a clients)" -ge 1 ] || fail "A lost its link to B"
fi

# The link drops and comes back: A restarts on the same port.
kill $a_pid; wait_pid $a_pid
bus a --link-listen "127.0.0.1:$port" --link-rights r
wait_st b link_connects 2 || fail "B did not link again"
"$EV_BIN" events subscribe --socket "$T/b.sock" --group 8 --count 1 \
	--ready-file "$T/s3.ready" >"$T/s3.out" 2>&1 &
s3=$!; track $s3
wait_file "$T/s3.ready" || fail "subscriber 3 did not join"
wait_st a receivers 1 || fail "interest did not cross the new link"
ev send --socket "$T/a.sock" --group 8 --id 3.4 --data again || fail "send after relink"
wait_pid $s3 || fail "no message over the new link"

# --- A loop: D links to C twice, both rw.  One message sent on C goes
# round C -> D -> C ... in two copies; every crossing adds a hop and the
# copies die at 8: the subscriber on D sees each at hops 1, 3, 5, 7.
bus c --link-listen 127.0.0.1:0 --link-port-file "$T/c.port" --link-rights rw
cport=$(cat "$T/c.port")
bus d --link-connect "127.0.0.1:$cport" --link-connect "127.0.0.1:$cport" \
	--link-rights rw
wait_st d link_connects 2 || fail "D did not link twice"
"$EV_BIN" events subscribe --socket "$T/d.sock" --group 7 --idle-exit 1500 \
	--ready-file "$T/s4.ready" >"$T/s4.out" 2>&1 &
s4=$!; track $s4
wait_file "$T/s4.ready" || fail "subscriber on D did not join"
wait_st c receivers 2 || fail "interest did not reach C over both links"
ev send --socket "$T/c.sock" --group 7 --id 5.6 --data loop || fail "send on C"
wait_pid $s4
n=$(grep -c 'data=loop' "$T/s4.out")
[ "$n" = 8 ] || { cat "$T/s4.out"; fail "loop delivered $n copies, not 8"; }
[ "$(st c hop_drops)" = 2 ] || fail "C hop_drops $(st c hop_drops)"
in1=$(st d link_in); sleep 0.5
[ "$(st d link_in)" = "$in1" ] || fail "the loop goes on"
exit 0
