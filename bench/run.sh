#!/bin/sh
# bench/run.sh [BUILDDIR] - rxsvc against OpenAFS's userspace Rx, side by
# side in one run, on rxperf (service 147): serial small RPCs (calls/s),
# 8-thread small RPCs, and bulk one-call transfers both ways (MB/s).
# Prints a table of ratios (rxsvc / OpenAFS) per placement: unpinned, and
# both processes on one CPU (taskset).  Not part of `make check`.
#
# rxsvc side:   BUILDDIR/cmd/rxsvcd (server) and `rxsvc perf` (client).
# OpenAFS side: tests/interop/oafs_rxperf (built here if BUILDDIR lacks
#               it), tuned: 1 MiB UDP buffers, window 64, hot threads.
# Environment: BENCH_RPC_CALLS (default 20000), BENCH_BULK_MB (100),
# BENCH_PLACEMENTS ("unpinned one-cpu").
set -u
B=${1:-$(pwd)}
S=$(cd "$(dirname "$0")/.." && pwd)
RPC_CALLS=${BENCH_RPC_CALLS:-20000}
BULK_MB=${BENCH_BULK_MB:-100}
PLACEMENTS=${BENCH_PLACEMENTS:-unpinned one-cpu}
RXSVCD=$B/cmd/rxsvcd
RXSVC=$B/cmd/rxsvc
OR=$B/tests/interop/oafs_rxperf
T=$(mktemp -d "${TMPDIR:-/tmp}/rxsvc-bench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$RXSVCD" ] && [ -x "$RXSVC" ] || die "no $RXSVCD / $RXSVC (give the build directory)"
if [ ! -x "$OR" ]; then
	[ -f /usr/lib/libafsrpc.a ] || die "needs libopenafs-dev for the OpenAFS side"
	OR=$T/oafs_rxperf
	cc -O2 -DAFS_PTHREAD_ENV -Wno-unused-parameter -o "$OR" \
		"$S/tests/interop/oafs_rxperf.c" /usr/lib/libafsrpc.a \
		-l:libroken.so.19 -l:libhcrypto.so.5 -lpthread ||
		die "cannot build oafs_rxperf"
fi
BULK=$((BULK_MB * 1000000))

wait_file() {
	n=100
	while [ $n -gt 0 ] && [ ! -s "$1" ]; do sleep 0.1; n=$((n - 1)); done
	[ -s "$1" ]
}

# pin PLACEMENT ROLE -> a command prefix
pin() {
	case $1 in
	unpinned) echo "" ;;
	one-cpu) echo "taskset -c 0" ;;
	split) [ "$2" = server ] && echo "taskset -c 0" || echo "taskset -c 1" ;;
	esac
}

start_servers() { # PLACEMENT
	rm -f "$T/r.port" "$T/o.port"
	# shellcheck disable=SC2046
	$(pin "$1" server) "$RXSVCD" --listen 127.0.0.1:0 --port-file "$T/r.port" \
		--threads 8 >"$T/rxsvcd.log" 2>&1 &
	RPID=$!
	# shellcheck disable=SC2046
	$(pin "$1" server) "$OR" server -P "$T/o.port" -T 64 -u 4096 -W 64 -H \
		-t 900 >"$T/oafs.log" 2>&1 &
	OPID=$!
	PIDS="$PIDS $RPID $OPID"
	wait_file "$T/r.port" || die "rxsvcd did not start"
	wait_file "$T/o.port" || die "oafs_rxperf server did not start"
	RPORT=$(cat "$T/r.port")
	OPORT=$(cat "$T/o.port")
}

stop_servers() {
	kill "$RPID" "$OPID" 2>/dev/null
	wait "$RPID" "$OPID" 2>/dev/null
}

# ours PLACEMENT FIELD ARGS... -> calls_per_sec or mb_per_sec of rxsvc perf
ours() {
	pl=$1 field=$2
	shift 2
	# shellcheck disable=SC2046
	$(pin "$pl" client) "$RXSVC" perf "127.0.0.1:$RPORT" "$@" --json \
		>"$T/ours.out" 2>&1 || { cat "$T/ours.out" >&2; echo 0; return; }
	sed -n "s/.*\"$field\":\([0-9.e+-]*\).*/\1/p" "$T/ours.out"
}

theirs() { # PLACEMENT FIELD ARGS...
	pl=$1 field=$2
	shift 2
	# shellcheck disable=SC2046
	$(pin "$pl" client) "$OR" client -p "$OPORT" -u 4096 -W 64 -H "$@" \
		>"$T/theirs.out" 2>&1 || { cat "$T/theirs.out" >&2; echo 0; return; }
	sed -n "s/.* $field=\([0-9.]*\).*/\1/p" "$T/theirs.out"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { # NAME UNIT OURS THEIRS
	printf "| %-34s | %12.1f | %12.1f | %6s |\n" "$1 ($2)" "$3" "$4" "$(ratio "$3" "$4")"
	printf '{"placement":"%s","workload":"%s","unit":"%s","rxsvc":%s,"openafs":%s,"ratio":"%s"}\n' \
		"$pl" "$1" "$2" "$3" "$4" "$(ratio "$3" "$4")" >>"$T/results.json"
}

echo "rxsvc vs OpenAFS 1.8 userspace Rx (rxperf, 127.0.0.1), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs"
for pl in $PLACEMENTS; do
	start_servers "$pl"
	# warm up both (connection set-up, page faults)
	ours "$pl" calls_per_sec rpc --calls 200 >/dev/null
	theirs "$pl" calls_per_sec -c rpc -n 200 >/dev/null
	echo
	echo "placement: $pl"
	printf "| %-34s | %12s | %12s | %6s |\n" workload rxsvc OpenAFS ratio
	printf "|%s|%s|%s|%s|\n" "------------------------------------" "--------------" "--------------" "--------"
	row "serial 4-byte RPC, 1 thread" "calls/s" \
		"$(ours "$pl" calls_per_sec rpc --send 4 --recv 4 --calls "$RPC_CALLS")" \
		"$(theirs "$pl" calls_per_sec -c rpc -S 4 -R 4 -n "$RPC_CALLS")"
	row "4-byte RPC, 8 threads" "calls/s" \
		"$(ours "$pl" calls_per_sec rpc --send 4 --recv 4 --calls "$RPC_CALLS" --threads 8)" \
		"$(theirs "$pl" calls_per_sec -c rpc -S 4 -R 4 -n "$RPC_CALLS" -T 8)"
	row "bulk send ${BULK_MB} MB, one call" "MB/s" \
		"$(ours "$pl" mb_per_sec send --bytes "$BULK" --calls 1)" \
		"$(theirs "$pl" mb_per_sec -c send -b "$BULK" -n 1)"
	row "bulk recv ${BULK_MB} MB, one call" "MB/s" \
		"$(ours "$pl" mb_per_sec recv --bytes "$BULK" --calls 1)" \
		"$(theirs "$pl" mb_per_sec -c recv -b "$BULK" -n 1)"
	stop_servers
done
if [ -d "$S/bench" ] && [ -w "$S/bench" ]; then
	mkdir -p "$S/bench/results"
	cp "$T/results.json" "$S/bench/results/latest.jsonl"
	echo
	echo "results: $S/bench/results/latest.jsonl"
fi
