# Security layer: fcrypt, rxkad, keys (included by the top-level
# Makefile.am).  A convenience library the engine links into librxsvc;
# unit tests link it directly (they need the hidden rxs_ symbols).

noinst_LTLIBRARIES += librxsvc_security.la
librxsvc_security_la_SOURCES = \
	security/fcrypt.c security/fcrypt.h \
	security/rxkad.c security/rxkad.h \
	security/key.c
librxsvc_security_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) $(KEYUTILS_CFLAGS)
librxsvc_security_la_LIBADD = $(CRYPTO_LIBS) $(KEYUTILS_LIBS)

rxsvcinclude_HEADERS += include/rxsvc/rxkad.h include/rxsvc/key.h

SECURITY_UNIT_TESTS = tests/unit/test_fcrypt tests/unit/test_rxkad \
	tests/unit/test_key
check_PROGRAMS += $(SECURITY_UNIT_TESTS)
TESTS += $(SECURITY_UNIT_TESTS)
SECURITY_UNIT_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(CRYPTO_CFLAGS) \
	$(KEYUTILS_CFLAGS)
SECURITY_UNIT_LDADD = librxsvc_security.la $(CUNIT_LIBS) $(CRYPTO_LIBS) \
	$(KEYUTILS_LIBS)
tests_unit_test_fcrypt_SOURCES = tests/unit/test_fcrypt.c
tests_unit_test_fcrypt_CFLAGS = $(SECURITY_UNIT_CFLAGS)
tests_unit_test_fcrypt_LDADD = $(SECURITY_UNIT_LDADD)
tests_unit_test_rxkad_SOURCES = tests/unit/test_rxkad.c
tests_unit_test_rxkad_CFLAGS = $(SECURITY_UNIT_CFLAGS)
tests_unit_test_rxkad_LDADD = $(SECURITY_UNIT_LDADD)
tests_unit_test_key_SOURCES = tests/unit/test_key.c
tests_unit_test_key_CFLAGS = $(SECURITY_UNIT_CFLAGS)
tests_unit_test_key_LDADD = $(SECURITY_UNIT_LDADD)

# rxkad through the whole engine in one process (needs the core library).
check_PROGRAMS += tests/unit/test_rxkad_call
TESTS += tests/unit/test_rxkad_call
tests_unit_test_rxkad_call_SOURCES = tests/unit/test_rxkad_call.c
tests_unit_test_rxkad_call_CFLAGS = $(UNIT_CFLAGS) $(KEYUTILS_CFLAGS)
tests_unit_test_rxkad_call_LDADD = $(UNIT_LDADD) $(KEYUTILS_LIBS) -lpthread

# fcrypt and tickets against OpenAFS's librxkad.a on random data.  The
# program gets OpenAFS's flags, not ours (see tests/interop/local.mk); it
# compiles our sources in directly rather than linking the libtool
# library, so no sanitizer runtime is needed.
TESTS += tests/interop/fcrypt_oafs.sh
EXTRA_DIST += tests/interop/fcrypt_oafs.sh
if HAVE_OPENAFS
check_PROGRAMS += tests/interop/fcrypt_oafs
tests_interop_fcrypt_oafs_SOURCES = tests/interop/fcrypt_oafs.c \
	security/fcrypt.c security/rxkad.c
tests_interop_fcrypt_oafs_CPPFLAGS = $(AM_CPPFLAGS) -DAFS_PTHREAD_ENV
tests_interop_fcrypt_oafs_CFLAGS = -O2 -g -Wno-unused-parameter \
	-Wno-deprecated-declarations $(CRYPTO_CFLAGS)
tests_interop_fcrypt_oafs_LDFLAGS =
tests_interop_fcrypt_oafs_LDADD = /usr/lib/librxkad.a /usr/lib/libafsrpc.a \
	-l:libroken.so.19 -l:libhcrypto.so.5 $(CRYPTO_LIBS) -lpthread
endif
