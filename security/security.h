/* SPDX-License-Identifier: MIT */
/*
 * security.h - the security-class ops table (design.md, "Security").
 * rxnull (index 0) lives behind it now; rxkad (index 2) joins it later.
 * Each class says how many bytes of each DATA payload it uses for its
 * own header, so payload sizing never assumes 1412 user bytes.
 */
#ifndef RXS_SECURITY_H
#define RXS_SECURITY_H

#include <stddef.h>
#include <stdint.h>

struct rxs_conn;
struct rxs_txpkt;

struct rxs_security {
	const char *name;
	uint8_t index;
	/* bytes of each DATA payload the class uses (0 for rxnull) */
	unsigned int (*header_size)(const struct rxs_conn *conn);
	int (*init_conn)(struct rxs_conn *conn);
	/* secure a packet whose header is encoded; may change cksum */
	int (*secure_packet)(struct rxs_conn *conn, uint8_t *pkt, size_t len);
	/* verify a received packet before it enters a ring; 0 or -EBADMSG */
	int (*verify_packet)(struct rxs_conn *conn, const uint8_t *pkt,
			     size_t len);
	void (*free_conn)(struct rxs_conn *conn);
};

/* rxnull.c */
extern const struct rxs_security rxs_rxnull;
const struct rxs_security *rxs_security_find(uint8_t index);

#endif /* RXS_SECURITY_H */
