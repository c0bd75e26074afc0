#!/bin/sh
# make check: fuzz target fuzz_frame (see run-fuzz.sh).
exec sh "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fuzz/run-fuzz.sh" frame
