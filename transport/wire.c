/* SPDX-License-Identifier: MIT */
/*
 * wire.c - encode and decode Rx packets (rx-protocol.md §1-5).
 *
 * Everything here works on byte buffers through rxs_cursor; every length
 * taken from the wire is compared with what is left before it is used.
 * Trailer values are returned raw: clamping them is the engine's job
 * (design.md, hardening: OpenAFS advisory 2017-001).
 */
#include <errno.h>
#include <string.h>

#include "transport/wire.h"

/*
 * Decode the 28-byte header.  Returns 0 or -EBADMSG (short).  Note the
 * order of word 6: checksum first, then service ID (rx-protocol.md §1.2).
 */
int rxs_hdr_decode(const uint8_t *buf, size_t len, struct rxs_hdr *hdr)
{
	struct rxs_cursor c = { buf, len };

	if (len < RXS_HEADER_SIZE)
		return -EBADMSG;
	rxs_cur_be32(&c, &hdr->epoch);
	rxs_cur_be32(&c, &hdr->cid);
	rxs_cur_be32(&c, &hdr->call_number);
	rxs_cur_be32(&c, &hdr->seq);
	rxs_cur_be32(&c, &hdr->serial);
	rxs_cur_u8(&c, &hdr->type);
	rxs_cur_u8(&c, &hdr->flags);
	rxs_cur_u8(&c, &hdr->user_status);
	rxs_cur_u8(&c, &hdr->security_index);
	rxs_cur_be16(&c, &hdr->cksum);
	rxs_cur_be16(&c, &hdr->service_id);
	return 0;
}

/* Encode the header into the first 28 bytes of @buf. */
void rxs_hdr_encode(uint8_t *buf, const struct rxs_hdr *hdr)
{
	rxs_put_be32(buf + 0, hdr->epoch);
	rxs_put_be32(buf + 4, hdr->cid);
	rxs_put_be32(buf + 8, hdr->call_number);
	rxs_put_be32(buf + 12, hdr->seq);
	rxs_put_be32(buf + 16, hdr->serial);
	buf[20] = hdr->type;
	buf[21] = hdr->flags;
	buf[22] = hdr->user_status;
	buf[23] = hdr->security_index;
	rxs_put_be16(buf + 24, hdr->cksum);
	rxs_put_be16(buf + 26, hdr->service_id);
}

/*
 * Decode an ACK body (rx-protocol.md §4.1).  nAcks larger than the bytes
 * present is refused rather than clipped: a peer that lies about it is
 * not worth guessing at.  The trailer is read by length as OpenAFS does:
 * maxMTU/ifMTU with 8 bytes, rwind with 12, jumbo_max with 16.
 * Returns 0 or -EBADMSG.
 */
int rxs_ack_decode(const uint8_t *body, size_t len, struct rxs_ack *ack)
{
	struct rxs_cursor c = { body, len };

	memset(ack, 0, sizeof(*ack));
	if (!rxs_cur_be16(&c, &ack->buffer_space) ||
	    !rxs_cur_be16(&c, &ack->max_skew) ||
	    !rxs_cur_be32(&c, &ack->first_packet) ||
	    !rxs_cur_be32(&c, &ack->previous_packet) ||
	    !rxs_cur_be32(&c, &ack->serial) ||
	    !rxs_cur_u8(&c, &ack->reason) || !rxs_cur_u8(&c, &ack->n_acks))
		return -EBADMSG;
	if (ack->n_acks > c.left)
		return -EBADMSG;
	ack->acks = c.p;
	rxs_cur_skip(&c, ack->n_acks);
	/* 3 bytes of padding, then the trailer, if there is room. */
	if (!rxs_cur_skip(&c, 3))
		return 0;
	/* As OpenAFS: 8 bytes give the MTUs, exactly 12 or at least 16 the
	 * rwind (an AFS 3.4 peer), 16 the jumbogram size too. */
	if (c.left < 8)
		return 0;
	rxs_cur_be32(&c, &ack->max_mtu);
	rxs_cur_be32(&c, &ack->if_mtu);
	ack->has_mtu = true;
	if (c.left != 4 && c.left < 8)
		return 0;
	rxs_cur_be32(&c, &ack->rwind);
	if (c.left >= 4) {
		rxs_cur_be32(&c, &ack->jumbo_max);
		ack->has_trailer = true;
	}
	return 0;
}

/*
 * Encode an ACK body with @ack->n_acks soft-ACK bytes from @acks, the 3
 * padding bytes and the full trailer.  Returns the body length, or 0 if
 * @room is too small.
 */
size_t rxs_ack_encode(uint8_t *body, size_t room, const struct rxs_ack *ack,
		      const uint8_t *acks)
{
	size_t need = RXS_ACK_BASE_LEN + (size_t)ack->n_acks + 3 +
		      RXS_ACK_TRAILER_LEN;
	uint8_t *p = body;

	if (room < need)
		return 0;
	rxs_put_be16(p, ack->buffer_space);
	rxs_put_be16(p + 2, ack->max_skew);
	rxs_put_be32(p + 4, ack->first_packet);
	rxs_put_be32(p + 8, ack->previous_packet);
	rxs_put_be32(p + 12, ack->serial);
	p[16] = ack->reason;
	p[17] = ack->n_acks;
	p += RXS_ACK_BASE_LEN;
	if (ack->n_acks)
		memcpy(p, acks, ack->n_acks);
	p += ack->n_acks;
	p[0] = p[1] = p[2] = 0;
	p += 3;
	rxs_put_be32(p, ack->max_mtu);
	rxs_put_be32(p + 4, ack->if_mtu);
	rxs_put_be32(p + 8, ack->rwind);
	rxs_put_be32(p + 12, ack->jumbo_max);
	return need;
}

/* Decode an ABORT body: one signed be32.  Returns 0 or -EBADMSG. */
int rxs_abort_decode(const uint8_t *body, size_t len, int32_t *code)
{
	struct rxs_cursor c = { body, len };
	uint32_t v;

	if (!rxs_cur_be32(&c, &v))
		return -EBADMSG;
	*code = (int32_t)v;
	return 0;
}

void rxs_jumbo_init(struct rxs_jumbo_iter *it, const struct rxs_hdr *hdr,
		    const uint8_t *body, size_t len)
{
	it->hdr = *hdr;
	it->p = body;
	it->left = len;
	it->n = 0;
	it->done = false;
}

/*
 * Produce the next sub-packet (rx-protocol.md §3.3): while the current
 * flags carry JUMBO_PACKET, the sub-packet is exactly 1412 bytes and a
 * 4-byte jumbo header (flags, pad, cksum) describes the next one, whose
 * seq and serial are one higher.  The last sub-packet runs to the end.
 */
int rxs_jumbo_next(struct rxs_jumbo_iter *it, struct rxs_hdr *sub,
		   const uint8_t **data, size_t *dlen)
{
	struct rxs_hdr next;

	if (it->done)
		return 0;
	*sub = it->hdr;
	*data = it->p;
	if (!(it->hdr.flags & RXS_JUMBO_PACKET)) {
		*dlen = it->left;
		it->done = true;
		it->n++;
		return 1;
	}
	if (it->left < RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN ||
	    it->n + 1 >= RXS_MAX_JUMBO) {
		it->done = true;
		return -EBADMSG;
	}
	*dlen = RXS_JUMBO_DATALEN;
	next = it->hdr;
	next.flags = it->p[RXS_JUMBO_DATALEN];
	next.cksum = rxs_get_be16(it->p + RXS_JUMBO_DATALEN + 2);
	next.seq++;
	next.serial++;
	it->hdr = next;
	it->p += RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN;
	it->left -= RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN;
	it->n++;
	return 1;
}

const char *rxs_pkt_type_name(unsigned int type)
{
	static const char *const names[RXS_PKT_TYPE_MAX] = {
		[RXS_PKT_DATA] = "DATA",	   [RXS_PKT_ACK] = "ACK",
		[RXS_PKT_BUSY] = "BUSY",	   [RXS_PKT_ABORT] = "ABORT",
		[RXS_PKT_ACKALL] = "ACKALL",	   [RXS_PKT_CHALLENGE] = "CHALLENGE",
		[RXS_PKT_RESPONSE] = "RESPONSE", [RXS_PKT_DEBUG] = "DEBUG",
		[RXS_PKT_PARAMS] = "PARAMS",	   [10] = "PARAMS2",
		[11] = "PARAMS3",		   [RXS_PKT_VERSION] = "VERSION",
	};

	if (type < RXS_PKT_TYPE_MAX && names[type])
		return names[type];
	return "UNKNOWN";
}

const char *rxs_ack_reason_name(unsigned int reason)
{
	static const char *const names[RXS_ACK_REASON_MAX] = {
		"NONE",	 "REQUESTED", "DUPLICATE",     "OUT_OF_SEQUENCE",
		"EXCEEDS_WINDOW", "NOSPACE", "PING", "PING_RESPONSE",
		"DELAY", "IDLE",
	};

	if (reason < RXS_ACK_REASON_MAX)
		return names[reason];
	return "UNKNOWN";
}

const char *rxs_badmsg_name(enum rxs_badmsg why)
{
	static const char *const names[] = {
#define RXS_X(n) #n,
		RXS_BADMSG_LIST(RXS_X)
#undef RXS_X
	};

	if ((unsigned int)why < rxs_badmsg__count)
		return names[why];
	return "unknown";
}
