/* SPDX-License-Identifier: MIT */
/* common.c - small helpers shared by the command-line tools. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"

const char *prog = "rxsvc";

void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

bool parse_size(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k':
	case 'K':
		n <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		n <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		n <<= 30;
		end++;
		break;
	}
	if (*end)
		return false;
	*v = n;
	return true;
}

bool parse_uint(const char *s, unsigned long max, unsigned long *v)
{
	char *end;
	unsigned long n;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || *end || n > max)
		return false;
	*v = n;
	return true;
}

bool parse_duration(const char *s, unsigned long max, unsigned long *v)
{
	unsigned long mult = 1, n;
	char num[32];
	size_t len = s ? strlen(s) : 0;

	if (!len || len >= sizeof(num))
		return false;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return parse_uint(num, max, v);
	}
	num[len - 1] = '\0';
	if (!parse_uint(num, max / mult, &n))
		return false;
	*v = n * mult;
	return true;
}

const char *abort_text(int32_t code, char *buf, size_t len)
{
	const char *name = rxsvc_abort_name(code);

	if (name)
		snprintf(buf, len, "%d (%s)", code, name);
	else
		snprintf(buf, len, "%d", code);
	return buf;
}

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
