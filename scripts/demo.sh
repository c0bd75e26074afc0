#!/bin/sh
# Set up and run the main job: install what is missing, build, start
# rxsvcd on loopback, make calls against it with `rxsvc call`, and print
# what happened.  Build tree: _build/plain.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
./scripts/deps.sh
autoreconf -fi >/dev/null
mkdir -p _build/plain
[ -f _build/plain/Makefile ] ||
	(cd _build/plain && "$top/configure" -q >/dev/null)
make -C _build/plain -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
B=_build/plain/cmd

tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
"$B/rxsvcd" --listen 127.0.0.1:0 --port-file "$tmp/port" -v \
	2>"$tmp/rxsvcd.log" &
pid=$!
i=0
while [ ! -s "$tmp/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/port" ] || { cat "$tmp/rxsvcd.log"; echo "rxsvcd did not start"; exit 1; }
port=$(cat "$tmp/port")
echo "rxsvcd is serving echo (service 1) and rxperf (147) on 127.0.0.1:$port"
echo
echo "\$ rxsvc call 127.0.0.1:$port --service 1 --data 'hello, Rx'"
"$B/rxsvc" call "127.0.0.1:$port" --service 1 --data 'hello, Rx'
echo
echo
head -c 16777216 /dev/urandom >"$tmp/in"
echo "\$ rxsvc call 127.0.0.1:$port --service 1 --data-file 16MiB --out copy -v"
"$B/rxsvc" call "127.0.0.1:$port" --service 1 --data-file "$tmp/in" \
	--out "$tmp/out" -v
cmp "$tmp/in" "$tmp/out" && echo "the 16 MiB reply is byte-identical to the request"
echo
echo "\$ rxsvc call 127.0.0.1:$port --service 99 --data x   (nobody serves 99)"
"$B/rxsvc" call "127.0.0.1:$port" --service 99 --data x || echo "(exit status $?)"
echo
kill -TERM "$pid"
wait "$pid" && echo "rxsvcd exited 0 on SIGTERM"
pid=""
echo
echo "rxsvcd's log:"
cat "$tmp/rxsvcd.log"
