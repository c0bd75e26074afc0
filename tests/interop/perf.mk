# rxperf and rxdebug interop with OpenAFS (issue 5), included by the
# top-level Makefile.am next to tests/interop/local.mk, whose OAFS_CFLAGS
# and OAFS_LDADD (inside HAVE_OPENAFS) it reuses.
#
# oafs_rxperf: our own rxperf client and server on OpenAFS's userspace
# Rx.  rxperf.sh runs it against rxsvcd and `rxsvc perf` against it;
# rxdebug.sh runs OpenAFS's real rxdebug against rxsvcd and `rxsvc
# debug` against oafs_rxperf.  Both exit 77 when a program is absent.

INTEROP_PERF_TESTS = tests/interop/rxperf.sh tests/interop/rxdebug.sh \
	tests/interop/rxkad_oafs.sh
TESTS += $(INTEROP_PERF_TESTS)
EXTRA_DIST += $(INTEROP_PERF_TESTS)

if HAVE_OPENAFS
check_PROGRAMS += tests/interop/oafs_rxperf
tests_interop_oafs_rxperf_SOURCES = tests/interop/oafs_rxperf.c
tests_interop_oafs_rxperf_CFLAGS = $(OAFS_CFLAGS)
tests_interop_oafs_rxperf_LDFLAGS =
tests_interop_oafs_rxperf_LDADD = /usr/lib/librxkad.a $(OAFS_LDADD)
endif
