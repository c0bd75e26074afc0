/* SPDX-License-Identifier: MIT */
/*
 * debug.c - answers to VERSION requests (rx-protocol.md §5.4): the
 * request's header echoed with CLIENT_INITIATED cleared and a 65-byte,
 * NUL-padded version string, built field by field from zeroed storage
 * (OpenAFS advisory 2015-007 leaked memory through such replies).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rxsvc/internal.h"

void rxs_debug_version(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	uint8_t body[RXS_VERSION_LEN];
	struct rxs_hdr h = *hdr;

	memset(body, 0, sizeof(body));
	snprintf((char *)body, sizeof(body), "rxsvc %s", PACKAGE_VERSION);
	h.flags &= (uint8_t)~RXS_CLIENT_INITIATED;
	rxs_send_raw(sock, &pkt->from, &h, body, sizeof(body));
}

/*
 * A DEBUG (rxdebug) request (rx-protocol.md §S.1).  Answered by the
 * measurement issue's code; until then refused like an unknown type.
 */
void rxs_debug_request(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	RXS_STAT_INC(sock, unknown_type_in);
}
