#!/bin/sh
# Our fcrypt (ECB, PCBC, key schedule) and ticket minting/decoding against
# OpenAFS's librxkad.a on random data (tests/interop/fcrypt_oafs.c).
# Exit 77 when the program was not built (no libopenafs-dev).
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/helpers/lib.sh"

P=$B/tests/interop/fcrypt_oafs
[ -x "$P" ] || skip "fcrypt_oafs not built (needs libopenafs-dev: /usr/lib/librxkad.a)"
# A fixed seed first (reproducible), then a fresh one.
"$P" 1 || fail "fcrypt_oafs seed 1"
"$P" || fail "fcrypt_oafs (seed printed above)"
