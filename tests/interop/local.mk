# Interop with OpenAFS (included by the top-level Makefile.am).
#
# Two peer programs of our own on OpenAFS's userspace Rx (libopenafs-dev):
# an echo server and an echo client.  They are built only when
# /usr/lib/libafsrpc.a exists (HAVE_OPENAFS); the scripts exit 77 (skip)
# when the programs are absent.  (Automake distributes the sources of
# conditional programs either way.)
#
# libafsrpc.a is the pthread build: everything that includes its headers
# must define AFS_PTHREAD_ENV or the structures have another layout.  It
# needs Heimdal's libroken and libhcrypto, which Debian ships without -dev
# symlinks, hence -l:.  These programs get neither $(AM_CFLAGS) nor
# $(AM_LDFLAGS): OpenAFS is not built with our sanitizers, visibility or
# warning flags, so the per-target flags replace them.

INTEROP_OAFS_TESTS = tests/interop/oafs_echo.sh tests/interop/oafs_misc.sh
TESTS += $(INTEROP_OAFS_TESTS)
EXTRA_DIST += $(INTEROP_OAFS_TESTS)

if HAVE_OPENAFS
OAFS_CFLAGS = -O2 -g -DAFS_PTHREAD_ENV -Wno-unused-parameter
OAFS_LDADD = /usr/lib/libafsrpc.a -l:libroken.so.19 -l:libhcrypto.so.5 \
	-lpthread

check_PROGRAMS += tests/interop/oafs_echo_server tests/interop/oafs_echo_client
tests_interop_oafs_echo_server_SOURCES = tests/interop/oafs_echo_server.c
tests_interop_oafs_echo_server_CFLAGS = $(OAFS_CFLAGS)
tests_interop_oafs_echo_server_LDFLAGS =
tests_interop_oafs_echo_server_LDADD = $(OAFS_LDADD)
tests_interop_oafs_echo_client_SOURCES = tests/interop/oafs_echo_client.c
tests_interop_oafs_echo_client_CFLAGS = $(OAFS_CFLAGS)
tests_interop_oafs_echo_client_LDFLAGS =
tests_interop_oafs_echo_client_LDADD = $(OAFS_LDADD)
endif
