# events/: the event bus (issue 4).  Included by the top-level Makefile.am.

EVENTS_LIBS = $(LIBEVENT_LIBS) -lpthread

noinst_LTLIBRARIES += librxsvc_events.la
librxsvc_events_la_SOURCES = events/internal.h transport/bytes.h events/frame.c \
	events/strparser.c events/bus.c events/bus_server.c events/policy.c \
	events/client.c events/link.c
librxsvc_events_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
librxsvc_events_la_LIBADD = $(EVENTS_LIBS)
rxsvcinclude_HEADERS += include/rxsvc/events.h

# The engine's publisher needs the engine's rxsvc_sock_set_observer(); it
# is a library of its own so that the bus, its tests and rxsvc-eventd
# link without the engine.  librxsvc.la takes both.
noinst_LTLIBRARIES += librxsvc_events_engine.la
librxsvc_events_engine_la_SOURCES = events/engine_pub.c
librxsvc_events_engine_la_CFLAGS = $(AM_CFLAGS)

bin_PROGRAMS += cmd/rxsvc-eventd
cmd_rxsvc_eventd_SOURCES = cmd/rxsvc-eventd.c
cmd_rxsvc_eventd_LDADD = librxsvc_events.la $(EVENTS_LIBS)

EVENTS_UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(LIBEVENT_CFLAGS)
EVENTS_UNIT_LDADD = librxsvc_events.la $(CUNIT_LIBS) $(EVENTS_LIBS)

check_PROGRAMS += tests/unit/test_events tests/unit/test_events_strp \
	tests/unit/test_events_bus tests/unit/test_events_link
tests_unit_test_events_SOURCES = tests/unit/test_events.c
tests_unit_test_events_CFLAGS = $(EVENTS_UNIT_CFLAGS)
tests_unit_test_events_LDADD = $(EVENTS_UNIT_LDADD)
tests_unit_test_events_strp_SOURCES = tests/unit/test_events_strp.c
tests_unit_test_events_strp_CFLAGS = $(EVENTS_UNIT_CFLAGS)
tests_unit_test_events_strp_LDADD = $(EVENTS_UNIT_LDADD)
tests_unit_test_events_bus_SOURCES = tests/unit/test_events_bus.c
tests_unit_test_events_bus_CFLAGS = $(EVENTS_UNIT_CFLAGS)
tests_unit_test_events_bus_LDADD = $(EVENTS_UNIT_LDADD)
tests_unit_test_events_link_SOURCES = tests/unit/test_events_link.c
tests_unit_test_events_link_CFLAGS = $(EVENTS_UNIT_CFLAGS)
tests_unit_test_events_link_LDADD = $(EVENTS_UNIT_LDADD)
TESTS += tests/unit/test_events tests/unit/test_events_strp \
	tests/unit/test_events_bus tests/unit/test_events_link

# The engine's events: real endpoints publishing on an in-process bus.
check_PROGRAMS += tests/unit/test_events_engine
tests_unit_test_events_engine_SOURCES = tests/unit/test_events_engine.c
tests_unit_test_events_engine_CFLAGS = $(EVENTS_UNIT_CFLAGS)
tests_unit_test_events_engine_LDADD = librxsvc_events_engine.la \
	librxsvc_core.la librxsvc_events.la $(CUNIT_LIBS) $(LIBEVENT_LIBS) \
	$(CRYPTO_LIBS) $(KEYUTILS_LIBS) -lpthread
TESTS += tests/unit/test_events_engine

# `rxsvc events` without cmd/rxsvc's dispatcher, for the shell tests.
check_PROGRAMS += tests/integration/events_cli
tests_integration_events_cli_SOURCES = tests/integration/events_cli.c \
	cmd/rxsvc_events.c cmd/rxsvc_events.h
tests_integration_events_cli_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_integration_events_cli_LDADD = librxsvc_events.la $(JANSSON_LIBS) \
	$(EVENTS_LIBS)

EVENTS_SH_TESTS = tests/integration/events_basic.sh \
	tests/integration/events_lossy.sh \
	tests/integration/events_lossless.sh \
	tests/integration/events_access.sh \
	tests/integration/events_crash.sh \
	tests/integration/events_many.sh
TESTS += $(EVENTS_SH_TESTS)
EXTRA_DIST += $(EVENTS_SH_TESTS) tests/integration/events_lib.sh

# TCP links between buses (rxsvc-eventd --link-listen / --link-connect).
EVENTS_SH_TESTS += tests/integration/events_link.sh

# Fuzz target for the frame decoder and the client-side decoder, built
# exactly as tests/fuzz/local.mk builds fuzz_wire: a libFuzzer binary in
# --enable-fuzzing builds (the events library instrumented with
# fuzzer-no-link), linked with tests/fuzz/replay.c otherwise.  `make
# check` runs tests/fuzz/fuzz_frame.sh (tests/fuzz/run-fuzz.sh frame).
FUZZ_TARGETS += tests/fuzz/fuzz_frame
check_PROGRAMS += tests/fuzz/fuzz_frame
tests_fuzz_fuzz_frame_SOURCES = tests/fuzz/fuzz_frame.c
tests_fuzz_fuzz_frame_LDADD = librxsvc_events.la $(EVENTS_LIBS)
if FUZZING
librxsvc_events_la_CFLAGS += -fsanitize=fuzzer-no-link
tests_fuzz_fuzz_frame_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) \
	-fsanitize=fuzzer
tests_fuzz_fuzz_frame_LDFLAGS = $(AM_LDFLAGS) -fsanitize=fuzzer
else
tests_fuzz_fuzz_frame_SOURCES += tests/fuzz/replay.c
tests_fuzz_fuzz_frame_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
endif
TESTS += tests/fuzz/fuzz_frame.sh
EVENTS_FUZZ_CORPUS = \
	tests/fuzz/corpus/frame/client-hello-info \
	tests/fuzz/corpus/frame/client-msgs \
	tests/fuzz/corpus/frame/client-seqpacket \
	tests/fuzz/corpus/frame/frames-requests \
	tests/fuzz/corpus/frame/short-len \
	tests/fuzz/corpus/frame/oversize
EXTRA_DIST += tests/fuzz/fuzz_frame.sh $(EVENTS_FUZZ_CORPUS)

# Benchmark (not part of make check): bench/events_run.sh runs it.
noinst_PROGRAMS += bench/events_bench
bench_events_bench_SOURCES = bench/events_bench.c
bench_events_bench_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
bench_events_bench_LDADD = librxsvc_events.la $(EVENTS_LIBS)
EXTRA_DIST += bench/events_run.sh
