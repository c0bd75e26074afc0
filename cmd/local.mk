# rxperf (service 147, both ends) and `rxsvc debug` (issue 5).
#
# rxsvcd hosts the rxperf server (cmd/rxperf.c: rxperf_serve_call); the
# same file holds `rxsvc perf`, which reads the peer's counters through
# cmd/rxdebug_cmd.c and prints JSON with jansson, so rxsvcd links both
# and jansson too.
cmd_rxsvc_SOURCES += cmd/rxperf.c cmd/rxperf.h \
	cmd/rxdebug_cmd.c cmd/rxdebug_cmd.h
cmd_rxsvcd_SOURCES += cmd/rxperf.c cmd/rxperf.h \
	cmd/rxdebug_cmd.c cmd/rxdebug_cmd.h
cmd_rxsvcd_LDADD += $(JANSSON_LIBS)

# Captures the loopback traffic of a few calls and fails on malformed Rx
# frames (skips unless root with tshark).
EXTRA_DIST += tests/integration/wirecheck.sh
TESTS += tests/integration/wirecheck.sh
