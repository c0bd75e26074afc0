# bench/ (issues 5 and 6), included by the top-level Makefile.am.  Never part of
# `make check` (nor of `make all`): `make bench` builds what bench/run.sh
# needs and runs it against this build tree, writing bench/results/ in
# the source tree (or in the build tree when the source is read-only).
# bench/README.md says what it measures.
#
# The helpers are EXTRA_PROGRAMS, built only on demand.  udp_floor and
# udp_relay get neither our sanitizers nor -fvisibility (the floor is
# plain C), idle_conns links the uninstalled librxsvc with -no-install
# (no libtool wrapper: run.sh runs the real program), and
# oafs_idle_conns is the same file built on OpenAFS's libafsrpc with the
# flags of tests/interop/local.mk.  The OpenAFS rxperf peer is the check
# program tests/interop/oafs_rxperf (tests/interop/perf.mk).

BENCH_PROGS = bench/udp_floor$(EXEEXT) bench/udp_relay$(EXEEXT) \
	bench/idle_conns$(EXEEXT)
EXTRA_PROGRAMS = bench/udp_floor bench/udp_relay bench/idle_conns
CLEANFILES += $(BENCH_PROGS)

BENCH_CFLAGS = -std=gnu11 $(WARN_CFLAGS)
bench_udp_floor_SOURCES = bench/udp_floor.c
bench_udp_floor_CFLAGS = $(BENCH_CFLAGS)
bench_udp_floor_LDFLAGS =
bench_udp_floor_LDADD = -lpthread
bench_udp_relay_SOURCES = bench/udp_relay.c
bench_udp_relay_CFLAGS = $(BENCH_CFLAGS)
bench_udp_relay_LDFLAGS =
bench_idle_conns_SOURCES = bench/idle_conns.c
bench_idle_conns_LDFLAGS = $(AM_LDFLAGS) -no-install
bench_idle_conns_LDADD = librxsvc.la -lpthread

if HAVE_OPENAFS
BENCH_PROGS += tests/interop/oafs_rxperf$(EXEEXT) \
	bench/oafs_idle_conns$(EXEEXT)
EXTRA_PROGRAMS += bench/oafs_idle_conns
bench_oafs_idle_conns_SOURCES = bench/idle_conns.c
bench_oafs_idle_conns_CFLAGS = $(OAFS_CFLAGS) -DOAFS
bench_oafs_idle_conns_LDFLAGS =
bench_oafs_idle_conns_LDADD = $(OAFS_LDADD)
endif

EXTRA_DIST += bench/README.md bench/run.sh bench/chart.gp \
	bench/pb_run.sh bench/pb_bench.c bench/pb_bench.proto

# The helpers only after `all`: both would otherwise build librxsvc.la at
# once under make -j (`all` runs a sub-make).
bench: all
	$(MAKE) $(AM_MAKEFLAGS) $(BENCH_PROGS)
	$(SHELL) $(top_srcdir)/bench/run.sh $(abs_top_builddir)

.PHONY: bench
