# bench/ (issue 5), included by the top-level Makefile.am.  Never part of
# `make check`: `make bench` runs bench/run.sh against this build tree.

bench: all
	$(SHELL) $(top_srcdir)/bench/run.sh $(abs_top_builddir)

.PHONY: bench
