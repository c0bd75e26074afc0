# Shared shell helpers for integration and interop tests.
# Source with: . "$top_srcdir/tests/helpers/lib.sh"
# Provides: $B (build dir), $S (source dir), $T (a scratch dir removed on
# exit), start_rxsvcd ARGS... (sets $RXSVCD_PID and $PORT), fail MSG,
# skip MSG, on_exit CMD, track PID (killed on exit; `jobs -p` cannot be
# relied on: dash prints nothing for it inside $(...)).

B=${top_builddir:-$(pwd)}
S=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/rxsvc-test.XXXXXX")
_exit_cmds=""
_pids=""

track() { _pids="$_pids $1"; }

on_exit() { _exit_cmds="$1; $_exit_cmds"; }

_cleanup() {
	eval "$_exit_cmds" 2>/dev/null
	for p in $_pids; do kill "$p" 2>/dev/null; done
	for p in $_pids; do
		# give each child a moment, then force it
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

# wait_file FILE [TENTHS]: wait until FILE is non-empty (default 10 s).
wait_file() {
	_n=${2:-100}
	while [ "$_n" -gt 0 ]; do
		[ -s "$1" ] && return 0
		sleep 0.1; _n=$((_n - 1))
	done
	return 1
}

# start_rxsvcd [ARGS...]: rxsvcd on 127.0.0.1, ephemeral port -> $PORT.
_nstart=0
start_rxsvcd() {
	_nstart=$((_nstart + 1))
	_pf="$T/rxsvcd.port.$_nstart"
	rm -f "$_pf"
	"$B/cmd/rxsvcd" --listen 127.0.0.1:0 --port-file "$_pf" "$@" \
		>"$T/rxsvcd.log" 2>&1 &
	RXSVCD_PID=$!
	track "$RXSVCD_PID"
	wait_file "$_pf" || { cat "$T/rxsvcd.log" >&2; fail "rxsvcd did not start"; }
	PORT=$(cat "$_pf")
}

# mkdata FILE BYTES: a file of BYTES pseudo-random (but repeatable) bytes.
mkdata() {
	head -c "$2" /dev/urandom >"$1"
}
