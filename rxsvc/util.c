/* SPDX-License-Identifier: MIT */
/*
 * util.c - allocation, the clock, logging, randomness.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <openssl/rand.h>

#include "rxsvc/internal.h"

void *rxs_zalloc(size_t n)
{
	return calloc(1, n);
}

void rxs_free(void *p)
{
	free(p);
}

static uint64_t clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The engine reads time only through this; unit tests replace it. */
uint64_t (*rxs_clock)(void) = clock_mono_us;

uint64_t rxs_now(void)
{
	return rxs_clock();
}

static rxsvc_log_fn log_fn;
static void *log_arg;
static enum rxsvc_log_level log_max = RXSVC_LOG_ERR;

RXSVC_API void rxsvc_set_log(rxsvc_log_fn fn, void *arg,
			     enum rxsvc_log_level max_level)
{
	log_fn = fn;
	log_arg = arg;
	log_max = max_level;
}

void rxs_log(enum rxsvc_log_level level, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	if (!log_fn || level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(level, buf, log_arg);
}

void rxs_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "rxsvc: assertion failed: %s (%s:%d)\n", what, file,
		line);
	abort();
}

uint32_t rxs_random32(void)
{
	uint32_t v;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		v = (uint32_t)clock_mono_us() * 2654435761u;
	return v;
}
