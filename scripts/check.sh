#!/bin/sh
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. install missing Debian packages (scripts/deps.sh)
#   2. plain gcc build with -Werror, `make check` (fuzz targets replay
#      their corpus)
#   3. clang build with ASan+UBSan and libFuzzer, `make check` (each fuzz
#      target runs a bounded number of inputs)
#   4. `make distcheck` (the tarball builds and passes from scratch)
# Build trees: _build/plain, _build/san (git-ignored).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)

./scripts/deps.sh
autoreconf -fi >/dev/null
# The Linux AF_RXRPC peer (kernel, initramfs) is built once and shared by
# the three builds below.
RXS_LINUX_PEER_DIR=${RXS_LINUX_PEER_DIR:-$top/_build/linux-peer}
export RXS_LINUX_PEER_DIR

status=0
summary() {
	# Sum automake's per-test results into one closing line.
	pass=0; fail=0; skip=0
	for log in _build/plain/test-suite.log _build/san/test-suite.log; do
		[ -f "$log" ] || continue
		p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
		f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
		e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
		x=$(sed -n 's/^# XPASS: *//p' "$log" | head -1)
		s=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${f:-0} + ${e:-0} + ${x:-0}))
		skip=$((skip + ${s:-0}))
	done
	echo "$pass passed, $fail failed, $skip skipped"
}

run_build() {
	dir=$1; shift
	echo "== $dir: configure $*"
	mkdir -p "_build/$dir"
	(cd "_build/$dir" && "$top/configure" -q "$@" >/dev/null) || return 1
	echo "== $dir: make"
	make -C "_build/$dir" -j"$jobs" >/dev/null || return 1
	echo "== $dir: make check"
	if ! make -C "_build/$dir" -j"$jobs" check >"_build/$dir.check.log" 2>&1
	then
		grep -E '^(FAIL|ERROR|XPASS)' "_build/$dir.check.log" || true
		for t in $(sed -n 's/^\(FAIL\|ERROR\): \(.*\)/\2/p' \
			"_build/$dir.check.log"); do
			echo "---- $t.log"
			tail -40 "_build/$dir/$t.log" 2>/dev/null || true
		done
		return 1
	fi
	grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "_build/$dir.check.log" || true
	grep -E '^SKIP' "_build/$dir.check.log" || true
}

run_build plain --enable-werror || status=1
run_build san CC=clang --enable-sanitizers --enable-fuzzing --enable-werror ||
	status=1
if [ $status -eq 0 ]; then
	echo "== distcheck"
	if ! RXS_TEST_QUICK=1 make -C _build/plain -j"$jobs" distcheck \
		DISTCHECK_CONFIGURE_FLAGS=--enable-werror \
		>_build/distcheck.log 2>&1; then
		tail -60 _build/distcheck.log
		status=1
	else
		grep -E 'archives ready|\.tar\.gz' _build/distcheck.log | head -3
	fi
fi
summary
exit $status
