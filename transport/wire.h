/* SPDX-License-Identifier: MIT */
/*
 * wire.h - the Rx wire format (rx-protocol.md §1-5): the 28-byte header,
 * ACK bodies with their trailer, ABORT, jumbogram splitting, VERSION.
 *
 * Packets are decoded into host-order structs through a bounds-checked
 * cursor; nothing is ever overlaid on a receive buffer (conventions §9).
 */
#ifndef RXS_WIRE_H
#define RXS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/bytes.h"

#define RXS_HEADER_SIZE     28
#define RXS_JUMBO_DATALEN   1412 /* payload of a non-final jumbo sub-packet */
#define RXS_JUMBO_HDRLEN    4
#define RXS_MAX_PACKET_SIZE 16384 /* largest datagram we accept */
#define RXS_MAX_ACKS        255
#define RXS_ACK_BASE_LEN    18 /* ACK body before acks[] */
#define RXS_ACK_TRAILER_LEN 16
#define RXS_VERSION_LEN     65
#define RXS_MAX_JUMBO       46 /* most sub-packets we split */

enum rxs_pkt_type {
	RXS_PKT_DATA = 1,
	RXS_PKT_ACK = 2,
	RXS_PKT_BUSY = 3,
	RXS_PKT_ABORT = 4,
	RXS_PKT_ACKALL = 5,
	RXS_PKT_CHALLENGE = 6,
	RXS_PKT_RESPONSE = 7,
	RXS_PKT_DEBUG = 8,
	RXS_PKT_PARAMS = 9,
	RXS_PKT_VERSION = 13,
};
#define RXS_PKT_TYPE_MAX 14 /* counters index 0..13; 0 and 12 = unknown */

/* header flags */
#define RXS_CLIENT_INITIATED 0x01
#define RXS_REQUEST_ACK      0x02
#define RXS_LAST_PACKET      0x04
#define RXS_MORE_PACKETS     0x08
#define RXS_JUMBO_PACKET     0x20
#define RXS_SLOW_START_OK    0x20

#define RXS_CIDSHIFT    2
#define RXS_CHANNELMASK 3u
#define RXS_CIDMASK     (~3u)
#define RXS_MAXCALLS    4
#define RXS_EPOCH_RANDOM 0x80000000u /* match connections on cid only */

/* ACK reasons */
enum rxs_ack_reason {
	RXS_ACK_REQUESTED = 1,
	RXS_ACK_DUPLICATE = 2,
	RXS_ACK_OUT_OF_SEQUENCE = 3,
	RXS_ACK_EXCEEDS_WINDOW = 4,
	RXS_ACK_NOSPACE = 5,
	RXS_ACK_PING = 6,
	RXS_ACK_PING_RESPONSE = 7,
	RXS_ACK_DELAY = 8,
	RXS_ACK_IDLE = 9,
};
#define RXS_ACK_REASON_MAX 10

typedef uint32_t rxs_seq_t;
typedef uint32_t rxs_serial_t;

/* Wrapping comparisons for sequence and serial numbers. */
static inline bool rxs_seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool rxs_seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* The Rx header in host order. */
struct rxs_hdr {
	uint32_t epoch;
	uint32_t cid;
	uint32_t call_number;
	uint32_t seq;
	uint32_t serial;
	uint8_t type;
	uint8_t flags;
	uint8_t user_status;
	uint8_t security_index;
	uint16_t cksum;
	uint16_t service_id;
};

/* A decoded ACK body. @acks points into the packet. */
struct rxs_ack {
	uint16_t buffer_space;
	uint16_t max_skew;
	uint32_t first_packet;
	uint32_t previous_packet;
	uint32_t serial;
	uint8_t reason;
	uint8_t n_acks;
	const uint8_t *acks;
	bool has_trailer;   /* all 16 trailer bytes present */
	bool has_mtu;       /* at least maxMTU and ifMTU present */
	uint32_t max_mtu;
	uint32_t if_mtu;
	uint32_t rwind;     /* 0 when absent */
	uint32_t jumbo_max; /* 0 when absent */
};

/* Why a packet was refused; also the names of the bad-packet counters. */
#define RXS_BADMSG_LIST(X)                                                    \
	X(short_hdr)                                                          \
	X(bad_type)                                                           \
	X(zero_seq)                                                           \
	X(zero_call)                                                          \
	X(short_ack)                                                          \
	X(short_abort)                                                        \
	X(bad_jumbo)                                                          \
	X(too_big)                                                            \
	X(bad_ack)                                                            \
	X(bad_channel)                                                        \
	X(bad_security)

enum rxs_badmsg {
#define RXS_X(n) rxs_badmsg_##n,
	RXS_BADMSG_LIST(RXS_X)
#undef RXS_X
	rxs_badmsg__count
};

/* wire.c */
int rxs_hdr_decode(const uint8_t *buf, size_t len, struct rxs_hdr *hdr);
void rxs_hdr_encode(uint8_t *buf, const struct rxs_hdr *hdr);
int rxs_ack_decode(const uint8_t *body, size_t len, struct rxs_ack *ack);
size_t rxs_ack_encode(uint8_t *body, size_t room, const struct rxs_ack *ack,
		      const uint8_t *acks);
int rxs_abort_decode(const uint8_t *body, size_t len, int32_t *code);
const char *rxs_pkt_type_name(unsigned int type);
const char *rxs_ack_reason_name(unsigned int reason);
const char *rxs_badmsg_name(enum rxs_badmsg why);

/*
 * Jumbogram splitting.  rxs_jumbo_next() walks the DATA sub-packets of
 * one datagram: on each call it fills @sub (the sub-packet's header) and
 * its payload slice.  Returns 1 for a sub-packet, 0 at the end, or
 * -EBADMSG (the datagram claims a jumbo it does not contain).
 */
struct rxs_jumbo_iter {
	struct rxs_hdr hdr; /* header of the next sub-packet */
	const uint8_t *p;   /* its payload */
	size_t left;        /* bytes from p to the end of the datagram */
	unsigned int n;     /* sub-packets produced so far */
	bool done;
};
void rxs_jumbo_init(struct rxs_jumbo_iter *it, const struct rxs_hdr *hdr,
		    const uint8_t *body, size_t len);
int rxs_jumbo_next(struct rxs_jumbo_iter *it, struct rxs_hdr *sub,
		   const uint8_t **data, size_t *dlen);

#endif /* RXS_WIRE_H */
