/* SPDX-License-Identifier: MIT */
/*
 * rxnull.c - security index 0: no authentication, no checksum, no
 * per-packet header.  Packets pass through untouched.
 */
#include <stddef.h>

#include "security/security.h"

static unsigned int rxnull_header_size(const struct rxs_conn *conn)
{
	return 0;
}

static int rxnull_init_conn(struct rxs_conn *conn)
{
	return 0;
}

static int rxnull_secure_packet(struct rxs_conn *conn, uint8_t *pkt,
				size_t len)
{
	return 0;
}

static int rxnull_verify_packet(struct rxs_conn *conn, const uint8_t *pkt,
				size_t len)
{
	return 0;
}

static void rxnull_free_conn(struct rxs_conn *conn)
{
}

const struct rxs_security rxs_rxnull = {
	.name = "rxnull",
	.index = 0,
	.header_size = rxnull_header_size,
	.init_conn = rxnull_init_conn,
	.secure_packet = rxnull_secure_packet,
	.verify_packet = rxnull_verify_packet,
	.free_conn = rxnull_free_conn,
};

/* The class for a security index, or NULL if we do not speak it. */
const struct rxs_security *rxs_security_find(uint8_t index)
{
	switch (index) {
	case 0:
		return &rxs_rxnull;
	}
	return NULL;
}
