#!/bin/sh
# run-fuzz.sh NAME: the `make check` step for fuzz target fuzz_NAME.
#
# libFuzzer build (RXS_FUZZ_MODE=libfuzzer, set by tests/fuzz/local.mk in
# --enable-fuzzing builds): a bounded run of RXS_FUZZ_RUNS inputs
# (default 200000, at most RXS_FUZZ_TIME seconds, default 90) starting
# from the seeds in tests/fuzz/corpus/NAME.  New inputs go to a scratch
# directory (the source tree may be read-only, as in distcheck); crash
# reproducers are kept in the build tree as tests/fuzz/NAME-crash-*.
# Otherwise: the target is linked with replay.c and replays the seeds.
name=$1
B=${top_builddir:-.}
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=$B/tests/fuzz/fuzz_$name
seeds=$S/tests/fuzz/corpus/$name

[ -x "$bin" ] || { echo "missing $bin" >&2; exit 99; }
[ -d "$seeds" ] || { echo "missing $seeds" >&2; exit 99; }

if [ "$RXS_FUZZ_MODE" != libfuzzer ]; then
	exec "$bin" "$seeds"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rxsvc-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
start=$(date +%s)
"$bin" -runs="${RXS_FUZZ_RUNS:-200000}" \
	-max_total_time="${RXS_FUZZ_TIME:-90}" -max_len=16500 -timeout=10 \
	-print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
	-artifact_prefix="$B/tests/fuzz/$name-crash-" "$work" "$seeds"
rc=$?
echo "fuzz_$name: exit $rc after $(($(date +%s) - start)) s"
# libFuzzer's own default error code is 77, which automake reads as SKIP:
# a finding must fail the test.
[ $rc -eq 0 ] || exit 1
exit 0
