# Linux AF_RXRPC interop (issue 9), included by the top-level Makefile.am.
#
# tests/interop/linux/ builds a Linux 6.12 peer from Debian packages
# (build), boots it under qemu (run) and holds the guest's own programs
# (lxrx.c, init, lx-exec).  linux_build.sh builds or refreshes the peer
# (downloads the kernel package once; the result is kept in the build
# tree, tests/interop/linux/out, or in $RXS_LINUX_PEER_DIR when set, e.g.
# to share one download between several build trees); linux_interop.sh
# boots it once and runs every check.  Both SKIP (77) with the reason
# when a package cannot be had.  Their time limits are raised above
# run-test's default: the first build downloads ~100 MB, and the guest
# runs under software emulation where KVM does not work.

LINUX_INTEROP_TESTS = tests/interop/linux_build.sh \
	tests/interop/linux_interop.sh
TESTS += $(LINUX_INTEROP_TESTS)
EXTRA_DIST += $(LINUX_INTEROP_TESTS) tests/interop/linux/README.md \
	tests/interop/linux/build tests/interop/linux/run \
	tests/interop/linux/init tests/interop/linux/lx-exec \
	tests/interop/linux/lxrx.c

tests/interop/linux_interop.log: tests/interop/linux_build.log
tests/interop/linux_build.log: export RXS_TEST_TIMEOUT = 600
tests/interop/linux_interop.log: export RXS_TEST_TIMEOUT = 300

# the peer's cache lives through `make clean` (it is a download), not
# through `make distclean`
distclean-local: linux-peer-distclean
linux-peer-distclean:
	-rm -rf tests/interop/linux/out
CLEANFILES += tests/interop/linux_interop.pcapng
.PHONY: linux-peer-distclean
