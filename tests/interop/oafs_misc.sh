#!/bin/sh
# Interop with OpenAFS, beyond plain echo, against rxsvcd on 127.0.0.1:
#  1. OpenAFS's `rxdebug HOST PORT -version` (a VERSION packet) gets a
#     version string back (skipped when openafs-client is not installed);
#  2. an OpenAFS client calling a service ID rxsvcd does not serve gets
#     abort -2 (RX_INVALID_OPERATION), as from an OpenAFS server, and a
#     good call still succeeds afterwards;
#  3. 20 concurrent OpenAFS client calls (5 processes x 4 threads, 4 calls
#     sharing each connection's channels), 10 calls per thread, all
#     come back byte-exact.
# Exit 77 when the OpenAFS programs were not built.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

OC=$B/tests/interop/oafs_echo_client
[ -x "$OC" ] ||
	skip "OpenAFS peers not built (needs libopenafs-dev: /usr/lib/libafsrpc.a)"
[ -x "$B/cmd/rxsvcd" ] || fail "$B/cmd/rxsvcd not built"

STEP=${RXS_INTEROP_STEP_TIMEOUT:-40}
failed=""
start_rxsvcd -v
# explicit: lib.sh's `jobs -p` inside $(...) lists nothing under dash
on_exit "kill $RXSVCD_PID"
echo "rxsvcd on 127.0.0.1:$PORT (pid $RXSVCD_PID)"

# ---- 1. rxdebug -version ----
RXDEBUG=$(command -v rxdebug || true)
for d in /usr/bin /usr/sbin; do
	[ -n "$RXDEBUG" ] && break
	[ -x "$d/rxdebug" ] && RXDEBUG=$d/rxdebug
done
if [ -z "$RXDEBUG" ]; then
	echo "skip 1. rxdebug not installed (openafs-client)"
else
	# rxdebug retries for a long time if nothing answers: bound it.
	timeout -k 2 10 "$RXDEBUG" 127.0.0.1 "$PORT" -version >"$T/rxdebug.out" 2>&1
	rc=$?
	ver=$(sed -n 's/^AFS version: *//p' "$T/rxdebug.out" | head -n 1)
	if [ "$rc" -eq 0 ] && [ -n "$(printf '%s' "$ver" | tr -d '[:space:]')" ]; then
		echo "ok   1. rxdebug -version: \"$ver\""
	else
		echo "FAIL 1. rxdebug 127.0.0.1 $PORT -version: exit $rc, output:" >&2
		sed 's/^/    /' "$T/rxdebug.out" >&2
		failed="$failed 1"
	fi
fi

# ---- 2. unknown service ID -> abort RX_INVALID_OPERATION (-2) ----
timeout -k 2 "$STEP" "$OC" -s 127.0.0.1 -p "$PORT" -S 4242 -b 100 -n 1 \
	-t "$STEP" >"$T/unknown.out" 2>&1
rc=$?
if [ "$rc" -eq 3 ] && grep -qx 'abort -2' "$T/unknown.out"; then
	echo "ok   2. service 4242: abort -2"
else
	echo "FAIL 2. service 4242: expected exit 3 and \"abort -2\", got exit $rc:" >&2
	sed 's/^/    /' "$T/unknown.out" >&2
	failed="$failed 2"
fi
if timeout -k 2 "$STEP" "$OC" -s 127.0.0.1 -p "$PORT" -S 1 -b 3000 -n 2 \
	-t "$STEP" -q >"$T/after.out" 2>&1; then
	echo "ok   2. service 1 still answers"
else
	echo "FAIL 2. service 1 after the unknown-service call: exit $?" >&2
	sed 's/^/    /' "$T/after.out" >&2
	failed="$failed 2b"
fi

# ---- 3. 20 concurrent calls from 5 OpenAFS client processes ----
pids=""
for p in 1 2 3 4 5; do
	timeout -k 2 "$STEP" "$OC" -s 127.0.0.1 -p "$PORT" -S 1 -b 20000 \
		-c 4 -n 10 -t "$STEP" >"$T/conc.$p.out" 2>&1 &
	pids="$pids $!"
done
p=0
for pid in $pids; do
	p=$((p + 1))
	if wait "$pid"; then
		:
	else
		echo "FAIL 3. client process $p: exit $?" >&2
		sed 's/^/    /' "$T/conc.$p.out" >&2
		failed="$failed 3:$p"
	fi
done
case $failed in
*3:*) ;;
*) echo "ok   3. 5 processes x 4 threads x 10 calls of 20000 bytes: all byte-exact" ;;
esac

kill -0 "$RXSVCD_PID" 2>/dev/null || failed="$failed rxsvcd-died"
if [ -n "$failed" ]; then
	echo "--- rxsvcd log (last 30 lines)" >&2
	tail -n 30 "$T/rxsvcd.log" >&2
	fail "failed:$failed"
fi
echo "PASS: OpenAFS interop misc"
