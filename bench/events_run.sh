#!/bin/sh
# bench/events_run.sh [events_bench options]: the event bus against a
# plain AF_UNIX datagram fan-out (one send per message per subscriber),
# 1, 8 and 64 subscriber processes, SOCK_SEQPACKET and SOCK_STREAM
# clients, lossy and lossless: messages per second and p50/p99 delivery
# latency in one run (one table), about 40 s on 2 cores.  Options go to
# bench/events_bench (-m MESSAGES -D DELIVERIES -b BYTES -l LAT_MESSAGES
# -r LAT_RATE -s SUBS,...; see bench/README.md).  Run from a build
# directory (or set top_builddir); builds the benchmark if needed.  Not
# part of `make check`.
B=${top_builddir:-.}
if [ ! -x "$B/bench/events_bench" ]; then
	make -C "$B" bench/events_bench >/dev/null || exit 1
fi
exec "$B/bench/events_bench" "$@"
