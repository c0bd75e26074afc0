# tests/fuzz/: fuzz targets (included by the top-level Makefile.am).
#
# Each target defines LLVMFuzzerTestOneInput.  With --enable-fuzzing
# (CC=clang, and --enable-sanitizers) they are libFuzzer binaries: the
# target is built with -fsanitize=fuzzer and the engine library with
# -fsanitize=fuzzer-no-link, so that libFuzzer sees the engine's coverage
# and not only the harness's.  Otherwise each target is linked with
# tests/fuzz/replay.c, a plain main that feeds every corpus file in an
# exact-size allocation (conventions §14), so gcc and ASan builds replay
# the corpus too.  `make check` runs tests/fuzz/fuzz_<x>.sh: a bounded
# libFuzzer run (RXS_FUZZ_RUNS inputs, default 200000) over
# tests/fuzz/corpus/<x>/ in FUZZING builds, a replay otherwise.
# `make fuzz` (top-level Makefile.am) runs $(FUZZ_TARGETS) open-ended.

FUZZ_TARGETS = tests/fuzz/fuzz_packet tests/fuzz/fuzz_wire \
	tests/fuzz/fuzz_ring
check_PROGRAMS += $(FUZZ_TARGETS)

tests_fuzz_fuzz_packet_SOURCES = tests/fuzz/fuzz_packet.c
tests_fuzz_fuzz_packet_LDADD = librxsvc_core.la
tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz_wire.c
tests_fuzz_fuzz_wire_LDADD = librxsvc_core.la
tests_fuzz_fuzz_ring_SOURCES = tests/fuzz/fuzz_ring.c
tests_fuzz_fuzz_ring_LDADD = librxsvc_core.la

if FUZZING
librxsvc_core_la_CFLAGS += -fsanitize=fuzzer-no-link
tests_fuzz_fuzz_packet_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	-fsanitize=fuzzer
tests_fuzz_fuzz_packet_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_wire_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	-fsanitize=fuzzer
tests_fuzz_fuzz_wire_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_ring_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	-fsanitize=fuzzer
tests_fuzz_fuzz_ring_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
AM_TESTS_ENVIRONMENT += RXS_FUZZ_MODE=libfuzzer; export RXS_FUZZ_MODE;
else
tests_fuzz_fuzz_packet_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_packet_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_fuzz_wire_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_wire_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_fuzz_fuzz_ring_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_ring_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
endif

FUZZ_TESTS = tests/fuzz/fuzz_packet.sh tests/fuzz/fuzz_wire.sh \
	tests/fuzz/fuzz_ring.sh
TESTS += $(FUZZ_TESTS)

# Seeds: listed one by one so that `make dist` ships exactly these
# (tests/fuzz/gen-corpus.py writes them).
FUZZ_CORPUS = \
	tests/fuzz/corpus/packet/abort-11.4 \
	tests/fuzz/corpus/packet/ack-11.3 \
	tests/fuzz/corpus/packet/call-busy \
	tests/fuzz/corpus/packet/call-dup-oos \
	tests/fuzz/corpus/packet/call-new-number \
	tests/fuzz/corpus/packet/call-reply-acked \
	tests/fuzz/corpus/packet/client-abort \
	tests/fuzz/corpus/packet/client-ack \
	tests/fuzz/corpus/packet/client-busy \
	tests/fuzz/corpus/packet/client-reply \
	tests/fuzz/corpus/packet/data-11.2 \
	tests/fuzz/corpus/packet/garbage \
	tests/fuzz/corpus/packet/jumbo-3 \
	tests/fuzz/corpus/packet/raw-abort \
	tests/fuzz/corpus/packet/version \
	tests/fuzz/corpus/ring/fill-drain \
	tests/fuzz/corpus/ring/reverse \
	tests/fuzz/corpus/ring/window-edge \
	tests/fuzz/corpus/ring/wrap \
	tests/fuzz/corpus/wire/abort-11.4 \
	tests/fuzz/corpus/wire/ack-11.3 \
	tests/fuzz/corpus/wire/ack-no-trailer \
	tests/fuzz/corpus/wire/ack-trailer-12 \
	tests/fuzz/corpus/wire/data-11.2 \
	tests/fuzz/corpus/wire/jumbo-3 \
	tests/fuzz/corpus/wire/jumbo-bad \
	tests/fuzz/corpus/wire/raw-abort \
	tests/fuzz/corpus/wire/short

EXTRA_DIST += $(FUZZ_TESTS) tests/fuzz/run-fuzz.sh tests/fuzz/gen-corpus.py \
	$(FUZZ_CORPUS)
