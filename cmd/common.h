/* SPDX-License-Identifier: MIT */
/* common.h - small helpers shared by the command-line tools. */
#ifndef RXS_CMD_COMMON_H
#define RXS_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rxsvc/rxsvc.h>

extern const char *prog;

__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt,
							 ...);
__attribute__((format(printf, 1, 2))) void warnx_(const char *fmt, ...);
/* Parse a decimal number with an optional K/M/G suffix; false if bad. */
bool parse_size(const char *s, uint64_t *v);
bool parse_uint(const char *s, unsigned long max, unsigned long *v);
/* Seconds, or with a unit: 90, 90s, 15m, 8h, 2d. */
bool parse_duration(const char *s, unsigned long max, unsigned long *v);
/* "-2 (RX_INVALID_OPERATION)" into buf */
const char *abort_text(int32_t code, char *buf, size_t len);
/* Write all of buf to fd; 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);

#endif
