#!/bin/sh
# The interceptor style of the API against rxsvcd.
. "$top_srcdir/tests/helpers/lib.sh"

start_rxsvcd
for n in 0 1 1412 1413 500000; do
	"$B/tests/integration/intercept_client" "127.0.0.1:$PORT" "$n" ||
		fail "interceptor with $n bytes"
done
