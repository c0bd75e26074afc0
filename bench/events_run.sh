#!/bin/sh
# bench/events_run.sh [MESSAGES] [BYTES]: the event bus against a naive
# one-send-per-message-per-subscriber fan-out, 1 and 8 subscribers,
# SOCK_SEQPACKET and SOCK_STREAM, lossy and lossless, in one run (one
# table).  Run from a build directory (or set top_builddir); builds the
# benchmark if needed.  Not part of `make check`.
B=${top_builddir:-.}
if [ ! -x "$B/bench/events_bench" ]; then
	make -C "$B" bench/events_bench >/dev/null || exit 1
fi
exec "$B/bench/events_bench" "${1:-100000}" "${2:-64}"
