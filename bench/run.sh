#!/bin/sh
# bench/run.sh [BUILDDIR] - rxsvc against OpenAFS's userspace Rx and
# against raw UDP, side by side in one run, on rxperf (service 147) over
# 127.0.0.1.  See bench/README.md for what every figure means.
#
# Per placement (unpinned, both on one CPU, split over two; taskset):
#   serial and 8-thread 4-byte RPCs (calls/s), bulk one-call send and recv
#   (MB/s), CPU per serial call of each side (us), each next to the
#   raw-UDP floor (bench/udp_floor.c: blocking ping-pong, sendmmsg/recvmmsg
#   blast at 1444 and 5692 bytes).
# Once, unpinned: server memory per idle connection (N connections opened
#   by bench/idle_conns.c and left idle) and the time to open them; bulk
#   MB/s through a seeded lossy, slow relay (bench/udp_relay.c).
# Prints Markdown; writes bench/results/latest.md and latest.jsonl.
# Not part of `make check`.  The C helpers are built here with cc.
#
# rxsvc side:   BUILDDIR/cmd/rxsvcd (server) and `rxsvc perf` (client).
# OpenAFS side: tests/interop/oafs_rxperf (built here if BUILDDIR lacks
#               it), tuned: 4 MiB UDP buffers, window 64, 64 hot threads.
# Environment (defaults): BENCH_RPC_CALLS (20000), BENCH_BULK_MB (100),
# BENCH_PLACEMENTS ("unpinned one-cpu split"), BENCH_FLOOR_SECONDS (1),
# BENCH_IDLE_CONNS (2000), BENCH_LOSSY_MB (4), BENCH_LOSS_PCT (1),
# BENCH_DELAY_MS (5), BENCH_SEED (1), BENCH_TIMEOUT (60, per client run).
# PIN_S, PIN_C, FLOOR_PIN are word lists on purpose.
# shellcheck disable=SC2086
set -u
B=${1:-$(pwd)}
B=$(cd "$B" && pwd) || exit 1
S=$(cd "$(dirname "$0")/.." && pwd)
RPC_CALLS=${BENCH_RPC_CALLS:-20000}
BULK_MB=${BENCH_BULK_MB:-100}
PLACEMENTS=${BENCH_PLACEMENTS:-unpinned one-cpu split}
FLOOR_SECONDS=${BENCH_FLOOR_SECONDS:-1}
IDLE_CONNS=${BENCH_IDLE_CONNS:-2000}
LOSSY_MB=${BENCH_LOSSY_MB:-4}
LOSS_PCT=${BENCH_LOSS_PCT:-1}
DELAY_MS=${BENCH_DELAY_MS:-5}
SEED=${BENCH_SEED:-1}
TMO=${BENCH_TIMEOUT:-60}
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
warn() { echo "bench: $*" >&2; }

# Run the real programs, not libtool's wrapper scripts: the PIDs are then
# the servers' own (for /proc) and no shell start-up is counted as CPU.
export LD_LIBRARY_PATH="$B/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
realbin() {
	if [ -x "$B/cmd/.libs/$1" ]; then echo "$B/cmd/.libs/$1"; else echo "$B/cmd/$1"; fi
}
[ -x "$B/cmd/rxsvcd" ] && [ -x "$B/cmd/rxsvc" ] ||
	die "no $B/cmd/rxsvcd / rxsvc (give the build directory)"
[ -f "$B/.libs/librxsvc.so" ] || die "no $B/.libs/librxsvc.so"
[ -f /usr/lib/libafsrpc.a ] || die "needs libopenafs-dev for the OpenAFS side"
RXSVCD=$(realbin rxsvcd)
RXSVC=$(realbin rxsvc)

# --- helpers, built here --------------------------------------------------
OAFS_LIBS="/usr/lib/libafsrpc.a -l:libroken.so.19 -l:libhcrypto.so.5 -lpthread"
OR=$B/tests/interop/oafs_rxperf
if [ ! -x "$OR" ]; then
	OR=$T/oafs_rxperf
	# shellcheck disable=SC2086
	cc -O2 -DAFS_PTHREAD_ENV -Wno-unused-parameter -o "$OR" \
		"$S/tests/interop/oafs_rxperf.c" $OAFS_LIBS || die "cannot build oafs_rxperf"
fi
cc -O2 -Wall -o "$T/udp_floor" "$S/bench/udp_floor.c" -lpthread ||
	die "cannot build udp_floor"
cc -O2 -Wall -o "$T/udp_relay" "$S/bench/udp_relay.c" || die "cannot build udp_relay"
cc -O2 -Wall -I"$S/include" -o "$T/idle_conns" "$S/bench/idle_conns.c" \
	"$B/.libs/librxsvc.so" -Wl,-rpath,"$B/.libs" || die "cannot build idle_conns"
# shellcheck disable=SC2086
cc -O2 -DOAFS -DAFS_PTHREAD_ENV -Wno-unused-parameter -o "$T/oafs_idle_conns" \
	"$S/bench/idle_conns.c" $OAFS_LIBS || die "cannot build oafs_idle_conns"

BULK=$((BULK_MB * 1000000))
LOSSY=$((LOSSY_MB * 1000000))
HZ=$(getconf CLK_TCK)

wait_file() { # FILE [PATTERN]
	n=100
	while [ $n -gt 0 ]; do
		if [ -s "$1" ] && { [ $# -lt 2 ] || grep -q "$2" "$1"; }; then return 0; fi
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# Placement -> command prefixes for servers (PIN_S), clients (PIN_C), and
# udp_floor's own pinning of its two processes (FLOOR_PIN).
set_placement() {
	case $1 in
	unpinned) PIN_S="" PIN_C="" FLOOR_PIN="" ;;
	one-cpu) PIN_S="taskset -c 0" PIN_C="taskset -c 0" FLOOR_PIN="-a 0:0" ;;
	split) PIN_S="taskset -c 0" PIN_C="taskset -c 1" FLOOR_PIN="-a 0:1" ;;
	*) die "unknown placement $1 (unpinned, one-cpu, split)" ;;
	esac
}

start_servers() {
	rm -f "$T/r.port" "$T/o.port"
	$PIN_S "$RXSVCD" --listen 127.0.0.1:0 --port-file "$T/r.port" \
		--threads 8 >>"$T/rxsvcd.log" 2>&1 &
	RPID=$!
	$PIN_S "$OR" server -P "$T/o.port" -T 64 -u 4096 -W 64 -H \
		-t 900 >>"$T/oafs.log" 2>&1 &
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

alive() { # PID NAME
	kill -0 "$1" 2>/dev/null || warn "$2 (pid $1) is gone; its figures are 0"
}

# CPU seconds (user+sys, all threads) a live process has used so far.
cpu_of() {
	awk -v hz="$HZ" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Each client run leaves its output in $T/last.out and the client's own
# CPU seconds (user+sys, from the shell's `times`) in $T/last.cpu.
# (`times` must not run in a pipeline: a forked shell has no children yet.)
client_cpu() {
	times >"$T/times.out"
	awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$T/times.out" >"$T/last.cpu"
}

# ours PORT FIELD ARGS... -> FIELD of `rxsvc perf --json`
ours() {
	port=$1 field=$2
	shift 2
	timeout "$TMO" $PIN_C "$RXSVC" perf "127.0.0.1:$port" "$@" --json >"$T/last.out" 2>&1
	rc=$?
	client_cpu
	[ $rc -eq 0 ] || { warn "rxsvc perf $*: exit $rc"; sed 's/^/  /' "$T/last.out" >&2; echo 0; return; }
	sed -n "s/.*\"$field\":\([0-9.e+-]*\).*/\1/p" "$T/last.out"
}

# theirs PORT FIELD ARGS... -> FIELD of oafs_rxperf client's summary line
theirs() {
	port=$1 field=$2
	shift 2
	timeout "$TMO" $PIN_C "$OR" client -p "$port" -u 4096 -W 64 -H "$@" >"$T/last.out" 2>&1
	rc=$?
	client_cpu
	[ $rc -eq 0 ] || { warn "oafs_rxperf client $*: exit $rc"; sed 's/^/  /' "$T/last.out" >&2; echo 0; return; }
	sed -n "s/.* $field=\([0-9.]*\).*/\1/p" "$T/last.out"
}

# floor ARGS... KEY -> KEY of udp_floor's line (all keys kept in $T/floor.out)
floor() {
	key=$1
	shift
	timeout "$TMO" "$T/udp_floor" "$@" $FLOOR_PIN >"$T/floor.out" 2>&1 ||
		{ warn "udp_floor $*: failed"; cat "$T/floor.out" >&2; echo 0; return; }
	floor_key "$key"
}
floor_key() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$T/floor.out"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b != "" && a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
fmt() { awk -v v="$1" 'BEGIN { if (v == "") print "—"; else if (v >= 1000) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.2f", v }'; }
jnum() { if [ -z "$1" ]; then echo null; else echo "$1"; fi; }

header() { # TITLE
	{
		echo
		echo "$1"
		echo
		echo "| workload | unit | better | rxsvc | OpenAFS | UDP floor | rxsvc ÷ OpenAFS | rxsvc ÷ floor |"
		echo "|---|---|---|--:|--:|--:|--:|--:|"
	} | tee -a "$T/results.md"
}

# row PLACEMENT NAME UNIT BETTER(higher|lower) OURS THEIRS [FLOOR]
row() {
	f=${7:-}
	ro=$(ratio "$5" "$6")
	rf=$(ratio "$5" "$f")
	[ -n "$f" ] || rf="—"
	printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$2" "$3" "$4" \
		"$(fmt "$5")" "$(fmt "$6")" "$(fmt "$f")" "$ro" "$rf" | tee -a "$T/results.md"
	printf '{"placement":"%s","workload":"%s","unit":"%s","better":"%s","rxsvc":%s,"openafs":%s,"udp_floor":%s,"ratio":"%s","ratio_floor":"%s"}\n' \
		"$1" "$2" "$3" "$4" "$(jnum "$5")" "$(jnum "$6")" "$(jnum "$f")" "$ro" "$rf" >>"$T/results.jsonl"
}

: >"$T/results.md"
: >"$T/results.jsonl"
{
	echo "# rxsvc vs OpenAFS 1.8 userspace Rx vs raw UDP"
	echo
	echo "rxperf over 127.0.0.1, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r)," \
		"rxsvc $(git -C "$S" describe --always --dirty 2>/dev/null || echo '?')." \
		"Ratios: rxsvc ÷ other; for \"better: lower\" rows a ratio below 1 is rxsvc ahead."
} | tee -a "$T/results.md"

for pl in $PLACEMENTS; do
	set_placement "$pl"
	start_servers
	# warm up both (connection set-up, page faults)
	ours "$RPORT" calls_per_sec rpc --calls 500 >/dev/null
	theirs "$OPORT" calls_per_sec -c rpc -n 500 >/dev/null
	case $pl in
	unpinned) where="unpinned" ;;
	one-cpu) where="both on CPU 0" ;;
	split) where="servers (and the floor's echo/receiver) on CPU 0, clients on CPU 1" ;;
	esac
	header "## placement: $pl ($where)"

	# serial RPC, with each side's CPU per call
	c0=$(cpu_of "$RPID")
	r_ser=$(ours "$RPORT" calls_per_sec rpc --send 4 --recv 4 --calls "$RPC_CALLS")
	r_ccpu=$(cat "$T/last.cpu")
	r_scpu=$(awk -v a="$c0" -v b="$(cpu_of "$RPID")" 'BEGIN { print b - a }')
	alive "$RPID" rxsvcd
	c0=$(cpu_of "$OPID")
	o_ser=$(theirs "$OPORT" calls_per_sec -c rpc -S 4 -R 4 -n "$RPC_CALLS")
	o_ccpu=$(cat "$T/last.cpu")
	o_scpu=$(awk -v a="$c0" -v b="$(cpu_of "$OPID")" 'BEGIN { print b - a }')
	alive "$OPID" "OpenAFS server"
	f_ser=$(floor rt_per_sec pingpong -n "$RPC_CALLS" -s 48)
	f_scpu=$(floor_key cpu_us_server)
	f_ccpu=$(floor_key cpu_us_client)
	row "$pl" "serial 4-byte RPC, 1 thread" calls/s higher "$r_ser" "$o_ser" "$f_ser"

	r_8=$(ours "$RPORT" calls_per_sec rpc --send 4 --recv 4 --calls "$RPC_CALLS" --threads 8)
	o_8=$(theirs "$OPORT" calls_per_sec -c rpc -S 4 -R 4 -n "$RPC_CALLS" -T 8)
	f_8=$(floor rt_per_sec pingpong -n "$RPC_CALLS" -s 48 -t 8)
	row "$pl" "4-byte RPC, 8 threads" calls/s higher "$r_8" "$o_8" "$f_8"

	f_1444=$(floor mb_per_sec blast -s 1444 -d "$FLOOR_SECONDS")
	f_5692=$(floor mb_per_sec blast -s 5692 -d "$FLOOR_SECONDS")
	row "$pl" "bulk send $BULK_MB MB, one call" MB/s higher \
		"$(ours "$RPORT" mb_per_sec send --bytes "$BULK" --calls 1)" \
		"$(theirs "$OPORT" mb_per_sec -c send -b "$BULK" -n 1)" "$f_1444"
	row "$pl" "bulk recv $BULK_MB MB, one call" MB/s higher \
		"$(ours "$RPORT" mb_per_sec recv --bytes "$BULK" --calls 1)" \
		"$(theirs "$OPORT" mb_per_sec -c recv -b "$BULK" -n 1)" "$f_1444"
	row "$pl" "UDP blast at 5692 B (jumbogram size)" MB/s higher "" "" "$f_5692"

	per_call() { awk -v s="$1" -v n="$2" 'BEGIN { if (s > 0 && n > 0) printf "%.2f", s * 1e6 / n }'; }
	row "$pl" "server CPU per serial call" µs lower \
		"$(per_call "$r_scpu" "$RPC_CALLS")" "$(per_call "$o_scpu" "$RPC_CALLS")" "$f_scpu"
	row "$pl" "client CPU per serial call" µs lower \
		"$(per_call "$r_ccpu" "$RPC_CALLS")" "$(per_call "$o_ccpu" "$RPC_CALLS")" "$f_ccpu"
	alive "$RPID" rxsvcd
	alive "$OPID" "OpenAFS server"
	stop_servers
done

# --- memory: N idle connections on fresh servers ---------------------------
set_placement unpinned
start_servers
ours "$RPORT" calls_per_sec rpc --calls 200 >/dev/null
theirs "$OPORT" calls_per_sec -c rpc -n 200 >/dev/null
sleep 0.3

# idle PROGRAM SERVERPID PORT TAG -> sets MEM_PER (bytes/conn), MEM_KB
# (server RSS after, KiB), OPEN_RATE (conns/s), HELD (server connections
# the server reports, from rxdebug stats)
idle() {
	prog=$1 spid=$2 port=$3 tag=$4
	rss0=$(rss_kb "$spid")
	rm -f "$T/idle.$tag"
	"$prog" 127.0.0.1 "$port" "$IDLE_CONNS" "$TMO" >"$T/idle.$tag" 2>&1 &
	ipid=$!
	PIDS="$PIDS $ipid"
	if wait_file "$T/idle.$tag" ready || { sleep 30; grep -q ready "$T/idle.$tag"; }; then
		sleep 0.5
		rss1=$(rss_kb "$spid")
		MEM_KB=$rss1
		MEM_PER=$(awk -v a="$rss0" -v b="$rss1" -v n="$IDLE_CONNS" 'BEGIN { printf "%.0f", (b - a) * 1024 / n }')
		OPEN_RATE=$(sed -n 's/.*conns_per_sec=\([0-9.]*\).*/\1/p' "$T/idle.$tag")
		# what the server itself says it holds (DEBUG stats, both kinds)
		HELD=$(timeout 10 "$RXSVC" debug "127.0.0.1:$port" --stats --json 2>/dev/null |
			sed -n 's/.*"server_conns":\([0-9]*\).*/\1/p')
		grep -q 'failed=0' "$T/idle.$tag" || warn "$tag: $(head -1 "$T/idle.$tag")"
	else
		warn "$tag: idle connections not ready: $(cat "$T/idle.$tag")"
		MEM_KB="" MEM_PER="" OPEN_RATE="" HELD=""
	fi
	kill "$ipid" 2>/dev/null
	wait "$ipid" 2>/dev/null
}
idle "$T/idle_conns" "$RPID" "$RPORT" rxsvc
r_mem=$MEM_PER r_kb=$MEM_KB r_open=$OPEN_RATE r_held=$HELD
idle "$T/oafs_idle_conns" "$OPID" "$OPORT" openafs
o_mem=$MEM_PER o_kb=$MEM_KB o_open=$OPEN_RATE o_held=$HELD
alive "$RPID" rxsvcd
alive "$OPID" "OpenAFS server"
stop_servers
header "## server memory, $IDLE_CONNS idle connections (fresh servers, unpinned)"
row memory "server RSS growth per idle connection" bytes lower "$r_mem" "$o_mem"
row memory "server RSS with $IDLE_CONNS idle connections" KiB lower "$r_kb" "$o_kb"
row memory "opening $IDLE_CONNS connections, one call each, serially" conns/s higher "$r_open" "$o_open"
row memory "server connections held (its rxdebug stats)" count — "$r_held" "$o_held"

# --- lossy, slow path through udp_relay -------------------------------------
start_servers
# relay NAME TARGETPORT LOSS -> sets RELAY_PORT
relay() {
	rm -f "$T/relay.$1.port"
	"$T/udp_relay" -t "$2" -P "$T/relay.$1.port" -L "$3" -D "$DELAY_MS" -S "$SEED" \
		-T 600 2>"$T/relay.$1.log" &
	PIDS="$PIDS $!"
	eval "RELAY_$1=$!"
	wait_file "$T/relay.$1.port" || die "udp_relay did not start"
	RELAY_PORT=$(cat "$T/relay.$1.port")
}
relay r0 "$RPORT" 0
rp0=$RELAY_PORT
relay o0 "$OPORT" 0
op0=$RELAY_PORT
relay rl "$RPORT" "$LOSS_PCT"
rpl=$RELAY_PORT
relay ol "$OPORT" "$LOSS_PCT"
opl=$RELAY_PORT
header "## lossy, slow path: udp_relay, $DELAY_MS ms each way, seed $SEED (unpinned)"
row lossy "send $LOSSY_MB MB, one call, no loss" MB/s higher \
	"$(ours "$rp0" mb_per_sec send --bytes "$LOSSY" --calls 1)" \
	"$(theirs "$op0" mb_per_sec -c send -b "$LOSSY" -n 1)"
row lossy "send $LOSSY_MB MB, one call, $LOSS_PCT% loss each way" MB/s higher \
	"$(ours "$rpl" mb_per_sec send --bytes "$LOSSY" --calls 1)" \
	"$(theirs "$opl" mb_per_sec -c send -b "$LOSSY" -n 1)"
row lossy "recv $LOSSY_MB MB, one call, no loss" MB/s higher \
	"$(ours "$rp0" mb_per_sec recv --bytes "$LOSSY" --calls 1)" \
	"$(theirs "$op0" mb_per_sec -c recv -b "$LOSSY" -n 1)"
row lossy "recv $LOSSY_MB MB, one call, $LOSS_PCT% loss each way" MB/s higher \
	"$(ours "$rpl" mb_per_sec recv --bytes "$LOSSY" --calls 1)" \
	"$(theirs "$opl" mb_per_sec -c recv -b "$LOSSY" -n 1)"
# shellcheck disable=SC2154
kill "$RELAY_r0" "$RELAY_o0" "$RELAY_rl" "$RELAY_ol" 2>/dev/null
wait "$RELAY_r0" "$RELAY_o0" "$RELAY_rl" "$RELAY_ol" 2>/dev/null
alive "$RPID" rxsvcd
alive "$OPID" "OpenAFS server"
stop_servers
echo
echo "relay counters (datagrams per direction, send and recv calls together):"
for r in r0 rl o0 ol; do
	case $r in r*) who=rxsvc ;; *) who=OpenAFS ;; esac
	case $r in ?0) how="no loss" ;; *) how="$LOSS_PCT% loss" ;; esac
	printf '  %-8s %-8s %s\n' "$who" "$how" "$(sed 's/^udp_relay: //' "$T/relay.$r.log")"
done

if [ -d "$S/bench" ] && [ -w "$S/bench" ]; then
	mkdir -p "$S/bench/results"
	cp "$T/results.jsonl" "$S/bench/results/latest.jsonl"
	cp "$T/results.md" "$S/bench/results/latest.md"
	echo
	echo "results: $S/bench/results/latest.md, latest.jsonl"
fi
