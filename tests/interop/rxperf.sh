#!/bin/sh
# rxperf (service 147) interop with OpenAFS's userspace Rx:
#  (a) an OpenAFS rxperf client (oafs_rxperf) runs rpc, send, recv and file
#      against rxsvcd with sizes 0 B .. 16 MiB, every reply checked (length
#      and cookie) by the client;
#  (b) `rxsvc perf` runs every operation against the OpenAFS rxperf server;
#  (c) rxsvcd refuses bad requests with Linux's abort codes (design.md
#      "Decisions"): bad version -6, short or overlong request -453,
#      unknown opcode -455.
# 127.0.0.1 only (OpenAFS Rx has no IPv6).  Exit 77 when the OpenAFS
# program was not built.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

OR=$B/tests/interop/oafs_rxperf
[ -x "$OR" ] || skip "oafs_rxperf not built (needs libopenafs-dev: /usr/lib/libafsrpc.a)"
[ -x "$B/cmd/rxsvcd" ] || fail "$B/cmd/rxsvcd not built"
[ -x "$B/cmd/rxsvc" ] || fail "$B/cmd/rxsvc not built"

STEP=${RXS_INTEROP_STEP_TIMEOUT:-40}
SIZES="0 1 1412 1413 5692 102400 1048576 16777216"
failed=""

# ---- (a) OpenAFS rxperf client -> rxsvcd ----
start_rxsvcd
echo "rxsvcd on 127.0.0.1:$PORT (pid $RXSVCD_PID)"
# rxsvcd must host service 147; say so plainly if it does not.
if ! timeout -k 2 "$STEP" "$OR" client -c rpc -p "$PORT" -n 1 >"$T/probe" 2>&1; then
	cat "$T/probe" >&2
	grep -q 'first_code=-2 ' "$T/probe" &&
		fail "rxsvcd does not serve rxperf (service 147): abort -2"
	fail "rxperf probe call to rxsvcd failed"
fi
for op in rpc send recv file; do
	for n in $SIZES; do
		case $op in
		rpc) args="-S $n -R $n" ;;
		send | recv) args="-b $n" ;;
		file) n=$((n - n % 4)); args="-S $n -R $n" ;;
		esac
		calls=2
		[ "$n" -ge 1048576 ] && calls=1
		# shellcheck disable=SC2086
		if timeout -k 2 "$STEP" "$OR" client -c "$op" -p "$PORT" $args \
			-n "$calls" >"$T/a.out" 2>&1; then
			echo "ok   (a) oafs_rxperf $op $n bytes x$calls -> rxsvcd: $(sed -n 's/.*\(mb_per_sec=[0-9.]*\).*/\1/p' "$T/a.out")"
		else
			echo "FAIL (a) oafs_rxperf $op $n bytes -> rxsvcd: exit $?" >&2
			sed 's/^/    /' "$T/a.out" >&2
			failed="$failed a:$op:$n"
		fi
	done
done
# four threads sharing connections, small RPCs
if timeout -k 2 "$STEP" "$OR" client -c rpc -p "$PORT" -S 100 -R 100 -n 400 \
	-T 4 >"$T/a.out" 2>&1; then
	echo "ok   (a) oafs_rxperf rpc x400, 4 threads -> rxsvcd"
else
	sed 's/^/    /' "$T/a.out" >&2
	failed="$failed a:threads"
fi

# ---- (c) refusals, from rxsvcd ----
abort_of() { # FILE -> the abort code `rxsvc call` reports
	timeout -k 2 "$STEP" "$B/cmd/rxsvc" call "127.0.0.1:$PORT" --service 147 \
		--data-file "$1" >/dev/null 2>"$T/c.err"
	sed -n 's/.*abort code \(-*[0-9]*\).*/\1/p' "$T/c.err" | head -n 1
}
w() { printf "\\000\\000\\000\\$(printf %03o "$1")"; } # a be32 < 256
{ w 2; w 3; w 0; w 0; w 0; w 0; } >"$T/badver"
{ w 3; w 7; w 0; w 0; } >"$T/badop"
{ w 3; w 3; } >"$T/short"
{ w 3; w 3; w 0; w 0; w 4; w 4; printf xy; } >"$T/shortdata"
{ w 3; w 3; w 0; w 0; w 0; w 4; printf xyz; } >"$T/extra"
for c in "badver -6" "badop -455" "short -453" "shortdata -453" "extra -453"; do
	set -- $c
	got=$(abort_of "$T/$1")
	if [ "$got" = "$2" ]; then
		echo "ok   (c) $1: abort $got"
	else
		echo "FAIL (c) $1: abort '$got', want $2" >&2
		cat "$T/c.err" >&2
		failed="$failed c:$1"
	fi
done

# ---- our client against our server, one run per op ----
for op in rpc send recv file; do
	if timeout -k 2 "$STEP" "$B/cmd/rxsvc" perf "127.0.0.1:$PORT" "$op" \
		--bytes 65536 --calls 3 --json >"$T/s.out" 2>&1 &&
		grep -q '"calls":3,"failed":0' "$T/s.out"; then
		echo "ok   rxsvc perf $op -> rxsvcd"
	else
		sed 's/^/    /' "$T/s.out" >&2
		failed="$failed s:$op"
	fi
done
# --async: chains of calls run from notify_rx, every reply checked
for sz in 0 1 1413 16384; do
	if timeout -k 2 "$STEP" "$B/cmd/rxsvc" perf "127.0.0.1:$PORT" rpc \
		--send "$sz" --recv "$sz" --calls 300 --threads 4 --async \
		--json >"$T/s.out" 2>&1 &&
		grep -q '"calls":300,"failed":0' "$T/s.out"; then
		echo "ok   rxsvc perf rpc --async $sz bytes x300, 4 chains -> rxsvcd"
	else
		sed 's/^/    /' "$T/s.out" >&2
		failed="$failed s:async:$sz"
	fi
done
kill -0 "$RXSVCD_PID" 2>/dev/null || failed="$failed rxsvcd-died"
kill "$RXSVCD_PID" 2>/dev/null
wait "$RXSVCD_PID" 2>/dev/null

# ---- (b) rxsvc perf -> OpenAFS rxperf server ----
"$OR" server -P "$T/oafs.port" -t 300 -v >"$T/oafs.log" 2>&1 &
OS_PID=$!
track "$OS_PID"
wait_file "$T/oafs.port" || { cat "$T/oafs.log" >&2; fail "oafs_rxperf server did not start"; }
OPORT=$(cat "$T/oafs.port")
for op in rpc send recv file; do
	for n in 0 1412 1413 1048576 16777216; do
		[ "$op" = file ] && n=$((n - n % 4))
		calls=2
		[ "$n" -ge 1048576 ] && calls=1
		if timeout -k 2 "$STEP" "$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" "$op" \
			--bytes "$n" --calls "$calls" --json >"$T/b.out" 2>&1 &&
			grep -q "\"calls\":$calls,\"failed\":0" "$T/b.out"; then
			echo "ok   (b) rxsvc perf $op $n bytes x$calls -> OpenAFS: $(sed -n 's/.*"mb_per_sec":\([0-9.]*\).*/\1/p' "$T/b.out") MB/s"
		else
			echo "FAIL (b) rxsvc perf $op $n bytes -> OpenAFS" >&2
			sed 's/^/    /' "$T/b.out" >&2
			failed="$failed b:$op:$n"
		fi
	done
done
if timeout -k 2 "$STEP" "$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" rpc \
	--send 1000 --recv 1000 --calls 200 --threads 3 --async --json \
	>"$T/b.out" 2>&1 && grep -q '"calls":200,"failed":0' "$T/b.out"; then
	echo "ok   (b) rxsvc perf rpc --async x200, 3 chains -> OpenAFS"
else
	sed 's/^/    /' "$T/b.out" >&2
	failed="$failed b:async"
fi
# the text output names what a user looks for
timeout -k 2 "$STEP" "$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" rpc --calls 50 \
	--threads 2 >"$T/b.txt" 2>&1 || failed="$failed b:text"
for want in "calls/s" "MB/s" "p50" "p99" "errors: none" "retransmits"; do
	grep -q "$want" "$T/b.txt" || { failed="$failed b:text:$want"; cat "$T/b.txt" >&2; }
done
# bad arguments: usage and exit 2
"$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" 2>/dev/null
[ $? -eq 2 ] || failed="$failed usage:noop"
"$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" rpc --bytes 4 --send 4 2>/dev/null
[ $? -eq 2 ] || failed="$failed usage:both"
"$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" dance 2>/dev/null
[ $? -eq 2 ] || failed="$failed usage:op"
"$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" send --async 2>/dev/null
[ $? -eq 2 ] || failed="$failed usage:async-op"
"$B/cmd/rxsvc" perf "127.0.0.1:$OPORT" rpc --recv 20000 --async 2>/dev/null
[ $? -eq 2 ] || failed="$failed usage:async-size"
kill -0 "$OS_PID" 2>/dev/null || failed="$failed oafs-server-died"

[ -z "$failed" ] || fail "failed:$failed"
echo "PASS: rxperf interop, every operation both ways"
