# IDL (issue 7): XDR helpers for rxgen-defined services, built into
# librxsvc (no protobuf-c needed there), and protobuf-c services over Rx
# in their own library, librxsvc-pb (pkg-config rxsvc-pb).  Included by
# the top-level Makefile.am after the librxsvc, cmd and tests sections.

librxsvc_la_SOURCES += idl/xdr.c
rxsvcinclude_HEADERS += include/rxsvc/xdr.h include/rxsvc/pb.h

lib_LTLIBRARIES += librxsvc-pb.la
librxsvc_pb_la_SOURCES = idl/pb_internal.h idl/pb_server.c \
	idl/pb_client.c idl/pb_describe.c idl/pb_stream.c
librxsvc_pb_la_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS) $(LIBEVENT_CFLAGS)
librxsvc_pb_la_LIBADD = librxsvc.la $(PROTOBUF_C_LIBS) $(LIBEVENT_LIBS) \
	-lpthread
librxsvc_pb_la_LDFLAGS = -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(srcdir)/idl/librxsvc-pb.map
EXTRA_librxsvc_pb_la_DEPENDENCIES = idl/librxsvc-pb.map
EXTRA_DIST += idl/librxsvc-pb.map idl/README.md
pkgconfig_DATA += rxsvc-pb.pc

# protoc-c output is generated at build time, never committed.  One rule
# makes both files; the header depends on the source.
PB_GEN = idl/examples/kv.pb-c.c idl/examples/kv.pb-c.h \
	tests/unit/test_pb.pb-c.c tests/unit/test_pb.pb-c.h
BUILT_SOURCES = $(PB_GEN)
CLEANFILES += $(PB_GEN)
EXTRA_DIST += idl/examples/kv.proto tests/unit/test_pb.proto

idl/examples/kv.pb-c.c: $(srcdir)/idl/examples/kv.proto
	$(AM_V_GEN)$(MKDIR_P) idl/examples && \
	$(PROTOC_C) --c_out=idl/examples -I$(srcdir)/idl/examples \
		$(srcdir)/idl/examples/kv.proto
idl/examples/kv.pb-c.h: idl/examples/kv.pb-c.c
	@:
tests/unit/test_pb.pb-c.c: $(srcdir)/tests/unit/test_pb.proto
	$(AM_V_GEN)$(MKDIR_P) tests/unit && \
	$(PROTOC_C) --c_out=tests/unit -I$(srcdir)/tests/unit \
		$(srcdir)/tests/unit/test_pb.proto
tests/unit/test_pb.pb-c.h: tests/unit/test_pb.pb-c.c
	@:

PB_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_builddir)
PB_CFLAGS = $(AM_CFLAGS) $(PROTOBUF_C_CFLAGS)
PB_LDADD = librxsvc-pb.la librxsvc.la $(PROTOBUF_C_LIBS) -lpthread

# The example: `kv-server` and `kv-client` (walkthrough in idl/README.md).
noinst_PROGRAMS += idl/examples/kv-server idl/examples/kv-client
idl_examples_kv_server_SOURCES = idl/examples/kv-server.c
nodist_idl_examples_kv_server_SOURCES = idl/examples/kv.pb-c.c \
	idl/examples/kv.pb-c.h
idl_examples_kv_server_CPPFLAGS = $(PB_CPPFLAGS)
idl_examples_kv_server_CFLAGS = $(PB_CFLAGS)
idl_examples_kv_server_LDADD = $(PB_LDADD)
idl_examples_kv_client_SOURCES = idl/examples/kv-client.c
nodist_idl_examples_kv_client_SOURCES = idl/examples/kv.pb-c.c \
	idl/examples/kv.pb-c.h
idl_examples_kv_client_CPPFLAGS = $(PB_CPPFLAGS)
idl_examples_kv_client_CFLAGS = $(PB_CFLAGS)
idl_examples_kv_client_LDADD = $(PB_LDADD)

# `rxsvc pb describe ADDR:PORT --service N`
cmd_rxsvc_SOURCES += cmd/pb_cmd.c cmd/pb_cmd.h
cmd_rxsvc_CFLAGS += $(PROTOBUF_C_CFLAGS)
cmd_rxsvc_LDADD += librxsvc-pb.la $(PROTOBUF_C_LIBS)

# Tests
check_PROGRAMS += tests/unit/test_xdr tests/unit/test_pb
tests_unit_test_xdr_SOURCES = tests/unit/test_xdr.c
tests_unit_test_xdr_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_xdr_LDADD = librxsvc.la $(CUNIT_LIBS)
tests_unit_test_pb_SOURCES = tests/unit/test_pb.c
nodist_tests_unit_test_pb_SOURCES = tests/unit/test_pb.pb-c.c \
	tests/unit/test_pb.pb-c.h
tests_unit_test_pb_CPPFLAGS = $(PB_CPPFLAGS)
tests_unit_test_pb_CFLAGS = $(PB_CFLAGS) $(CUNIT_CFLAGS) $(LIBEVENT_CFLAGS)
tests_unit_test_pb_LDADD = $(PB_LDADD) $(CUNIT_LIBS) $(LIBEVENT_LIBS)
TESTS += tests/unit/test_xdr tests/unit/test_pb

PB_INTEGRATION_TESTS = tests/integration/pb_kv.sh
TESTS += $(PB_INTEGRATION_TESTS)
EXTRA_DIST += $(PB_INTEGRATION_TESTS)

# rxgen interop (tests/interop/rxgen_interop.sh): rxgen_rxsvc uses only
# our XDR helpers; rxgen_oafs is rxgen's output on OpenAFS's librx, built
# like the other OpenAFS peers (tests/interop/local.mk: AFS_PTHREAD_ENV,
# no sanitizers).  rxgen's output includes two headers of OpenAFS's own
# build tree (afsconfig.h, roken.h) that libopenafs-dev does not ship;
# the rule deletes those lines.
RXGEN_TESTS = tests/interop/rxgen_interop.sh
TESTS += $(RXGEN_TESTS)
EXTRA_DIST += $(RXGEN_TESTS) tests/interop/rxgen_test.xg

check_PROGRAMS += tests/interop/rxgen_rxsvc
tests_interop_rxgen_rxsvc_SOURCES = tests/interop/rxgen_rxsvc.c
tests_interop_rxgen_rxsvc_LDADD = librxsvc.la -lpthread

RXGEN_GEN = tests/interop/rxgen_test.h tests/interop/rxgen_test.cs.c \
	tests/interop/rxgen_test.ss.c tests/interop/rxgen_test.xdr.c
CLEANFILES += $(RXGEN_GEN)
if HAVE_OPENAFS
BUILT_SOURCES += $(RXGEN_GEN)
tests/interop/rxgen_test.cs.c: $(srcdir)/tests/interop/rxgen_test.xg
	$(AM_V_GEN)$(MKDIR_P) tests/interop && cd tests/interop && \
	rxgen -A -x $(abs_srcdir)/tests/interop/rxgen_test.xg && \
	for f in rxgen_test.h rxgen_test.cs.c rxgen_test.ss.c \
		rxgen_test.xdr.c; do \
		sed -e '/#include <afsconfig.h>/d' -e '/#include <roken.h>/d' \
			$$f >$$f.tmp && mv $$f.tmp $$f || exit 1; \
	done
tests/interop/rxgen_test.h tests/interop/rxgen_test.ss.c \
tests/interop/rxgen_test.xdr.c: tests/interop/rxgen_test.cs.c
	@:

check_PROGRAMS += tests/interop/rxgen_oafs
tests_interop_rxgen_oafs_SOURCES = tests/interop/rxgen_oafs.c
nodist_tests_interop_rxgen_oafs_SOURCES = $(RXGEN_GEN)
tests_interop_rxgen_oafs_CPPFLAGS = -I$(top_builddir)/tests/interop \
	-D_GNU_SOURCE
tests_interop_rxgen_oafs_CFLAGS = -O2 -g -DAFS_PTHREAD_ENV \
	-Wno-unused-parameter
tests_interop_rxgen_oafs_LDFLAGS =
tests_interop_rxgen_oafs_LDADD = /usr/lib/libafsrpc.a -l:libroken.so.19 \
	-l:libhcrypto.so.5 -lpthread
else
EXTRA_DIST += tests/interop/rxgen_oafs.c
endif

# A real-world example: idl/examples/vlquery queries OpenAFS's vlserver
# (Debian's openafs-dbserver) with our XDR helpers only;
# tests/interop/vlserver.sh runs one with -noauth and a throwaway database
# in a private network namespace (skips without openafs-dbserver or root).
noinst_PROGRAMS += idl/examples/vlquery
idl_examples_vlquery_SOURCES = idl/examples/vlquery.c
idl_examples_vlquery_LDADD = librxsvc.la -lpthread
VLSERVER_TESTS = tests/interop/vlserver.sh
TESTS += $(VLSERVER_TESTS)
EXTRA_DIST += $(VLSERVER_TESTS)
