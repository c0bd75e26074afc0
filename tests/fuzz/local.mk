# libFuzzer targets (filled in below)
FUZZ_TARGETS =
