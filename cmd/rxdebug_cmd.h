/* SPDX-License-Identifier: MIT */
/*
 * rxdebug_cmd.h - `rxsvc debug`: query any Rx server's DEBUG and VERSION
 * answers (rx-protocol.md §S.1) over a plain UDP socket, the way
 * OpenAFS's rxdebug does.
 */
#ifndef RXS_CMD_RXDEBUG_CMD_H
#define RXS_CMD_RXDEBUG_CMD_H

#include <stdint.h>

#define RXDEBUG_RXSTATS_WORDS 71 /* rx_statistics, §S.1.8 */

/*
 * `rxsvc debug ADDR:PORT [--stats] [--conns] [--peers] [--json]`;
 * argv[0] is "debug".  Returns the exit status: 0 answered, 1 no or bad
 * answer, 2 usage.
 */
int rxsvc_cmd_debug(int argc, char **argv);

/*
 * Ask the Rx server at @addr ("HOST:PORT") for its rx_statistics words
 * (host order) with one RXSTATS request, retried within @timeout_ms.
 * Returns 0, or -ETIMEDOUT (no answer), -EOPNOTSUPP (BADTYPE or an
 * ABORT: the server has no such request), -EBADMSG (short reply),
 * -EINVAL (bad address) or another negative errno.
 */
int rxdebug_fetch_rxstats(const char *addr, uint32_t w[RXDEBUG_RXSTATS_WORDS],
			  int timeout_ms);

#endif /* RXS_CMD_RXDEBUG_CMD_H */
