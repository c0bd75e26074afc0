/* SPDX-License-Identifier: MIT */
/*
 * test_wire.c - the packet codec (transport/wire.c): header, ACK body and
 * trailer, ABORT, the jumbogram iterator, wrapping comparisons and names.
 * Known-answer vectors are the captured packets of rx-protocol.md §11.2 -
 * §11.4 and the OpenAFS raw-abort quirk of §5.1; every decoder also gets
 * a table of truncated inputs (conventions §10).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "transport/wire.h"
#include "rxsvc/rxsvc.h"

/* rx-protocol.md §11.2: first request DATA packet of an rxperf RPC. */
static const uint8_t cap_data_hdr[28] = {
	0xbe, 0xe8, 0x30, 0x7b, 0xf5, 0xb4, 0x42, 0xa8, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x93,
};
static const uint8_t cap_data_payload_head[24] = {
	0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x03, 0x00, 0x08, 0x00, 0x00,
	0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0xc8,
};

/* rx-protocol.md §11.3: ACK REQUESTED with a full trailer (67 bytes). */
static const uint8_t cap_ack[67] = {
	/* header */
	0xb8, 0xe7, 0x64, 0x3a, 0xf2, 0x11, 0x70, 0x50, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x20, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x93,
	/* body */
	0x00, 0x00,		/* bufferSpace */
	0x00, 0x00,		/* maxSkew */
	0x00, 0x00, 0x00, 0x01, /* firstPacket */
	0x00, 0x00, 0x00, 0x02, /* previousPacket */
	0x00, 0x00, 0x00, 0x03, /* serial */
	0x01,			/* reason REQUESTED */
	0x02,			/* nAcks */
	0x01, 0x01,		/* acks */
	0x00, 0x00, 0x00,	/* pad */
	0x00, 0x00, 0x16, 0x3c, /* maxMTU 5692 */
	0x00, 0x00, 0x05, 0xa4, /* ifMTU 1444 */
	0x00, 0x00, 0x00, 0x10, /* rwind 16 */
	0x00, 0x00, 0x00, 0x04, /* maxDgramPackets 4 */
};

/* rx-protocol.md §11.4: ABORT RXGEN_OPCODE from a server. */
static const uint8_t cap_abort[32] = {
	0xeb, 0x07, 0x9a, 0x7a, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x04, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x93, 0xff, 0xff, 0xfe, 0x39,
};

/* §5.1/§11.4: OpenAFS raw abort for unknown service 99 (quirk). */
static const uint8_t cap_raw_abort[32] = {
	0xeb, 0x07, 0x9a, 0x7a, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
	0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfe,
};

/* ---- header ---- */

static void test_hdr_roundtrip(void)
{
	struct rxs_hdr in = {
		.epoch = 0x81020304,
		.cid = 0x05060708,
		.call_number = 0x090a0b0c,
		.seq = 0x0d0e0f10,
		.serial = 0x11121314,
		.type = 0x15,
		.flags = 0x16,
		.user_status = 0x17,
		.security_index = 0x18,
		.cksum = 0x191a,
		.service_id = 0x1b1c,
	};
	struct rxs_hdr out;
	uint8_t buf[RXS_HEADER_SIZE + 4];

	memset(buf, 0xee, sizeof(buf));
	rxs_hdr_encode(buf, &in);
	/* big-endian, fields in wire order: cksum before service (§1.2) */
	CU_ASSERT_EQUAL(buf[0], 0x81);
	for (unsigned int i = 1; i < RXS_HEADER_SIZE; i++)
		CU_ASSERT_EQUAL(buf[i], i + 1);
	/* nothing written past the header */
	for (unsigned int i = RXS_HEADER_SIZE; i < sizeof(buf); i++)
		CU_ASSERT_EQUAL(buf[i], 0xee);
	memset(&out, 0, sizeof(out));
	CU_ASSERT_EQUAL(rxs_hdr_decode(buf, RXS_HEADER_SIZE, &out), 0);
	CU_ASSERT_EQUAL(out.epoch, in.epoch);
	CU_ASSERT_EQUAL(out.cid, in.cid);
	CU_ASSERT_EQUAL(out.call_number, in.call_number);
	CU_ASSERT_EQUAL(out.seq, in.seq);
	CU_ASSERT_EQUAL(out.serial, in.serial);
	CU_ASSERT_EQUAL(out.type, in.type);
	CU_ASSERT_EQUAL(out.flags, in.flags);
	CU_ASSERT_EQUAL(out.user_status, in.user_status);
	CU_ASSERT_EQUAL(out.security_index, in.security_index);
	CU_ASSERT_EQUAL(out.cksum, in.cksum);
	CU_ASSERT_EQUAL(out.service_id, in.service_id);
}

static void test_hdr_roundtrip_extremes(void)
{
	struct rxs_hdr in, out;
	uint8_t buf[RXS_HEADER_SIZE];

	memset(&in, 0xff, sizeof(in));
	rxs_hdr_encode(buf, &in);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		CU_ASSERT_EQUAL(buf[i], 0xff);
	CU_ASSERT_EQUAL(rxs_hdr_decode(buf, sizeof(buf), &out), 0);
	CU_ASSERT_EQUAL(out.epoch, 0xffffffffu);
	CU_ASSERT_EQUAL(out.serial, 0xffffffffu);
	CU_ASSERT_EQUAL(out.service_id, 0xffff);
	memset(&in, 0, sizeof(in));
	rxs_hdr_encode(buf, &in);
	for (unsigned int i = 0; i < sizeof(buf); i++)
		CU_ASSERT_EQUAL(buf[i], 0);
}

static void test_hdr_captured_data(void)
{
	uint8_t pkt[152];
	struct rxs_hdr h;
	uint8_t again[RXS_HEADER_SIZE];

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt, cap_data_hdr, sizeof(cap_data_hdr));
	memcpy(pkt + 28, cap_data_payload_head, sizeof(cap_data_payload_head));
	CU_ASSERT_EQUAL_FATAL(rxs_hdr_decode(pkt, sizeof(pkt), &h), 0);
	CU_ASSERT_EQUAL(h.epoch, 0xbee8307bu);
	CU_ASSERT(h.epoch & RXS_EPOCH_RANDOM);
	CU_ASSERT_EQUAL(h.cid, 0xf5b442a8u);
	CU_ASSERT_EQUAL(h.cid & RXS_CHANNELMASK, 0);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.seq, 1);
	CU_ASSERT_EQUAL(h.serial, 1);
	CU_ASSERT_EQUAL(h.type, RXS_PKT_DATA);
	CU_ASSERT_EQUAL(h.flags, RXS_CLIENT_INITIATED | RXS_LAST_PACKET);
	CU_ASSERT_EQUAL(h.user_status, 0);
	CU_ASSERT_EQUAL(h.security_index, 0);
	CU_ASSERT_EQUAL(h.cksum, 0);
	CU_ASSERT_EQUAL(h.service_id, 147);
	/* payload: 124 bytes after the header, UDP payload 152 */
	CU_ASSERT_EQUAL(sizeof(pkt) - RXS_HEADER_SIZE, 124);
	CU_ASSERT_EQUAL(rxs_get_be32(pkt + 28 + 16), 100);
	CU_ASSERT_EQUAL(rxs_get_be32(pkt + 28 + 20), 200);
	/* a single (non-jumbo) packet: the iterator yields it whole */
	{
		struct rxs_jumbo_iter it;
		struct rxs_hdr sub;
		const uint8_t *d;
		size_t dl;

		rxs_jumbo_init(&it, &h, pkt + 28, sizeof(pkt) - 28);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
		CU_ASSERT_PTR_EQUAL(d, pkt + 28);
		CU_ASSERT_EQUAL(dl, 124);
		CU_ASSERT_EQUAL(sub.seq, 1);
		CU_ASSERT_EQUAL(sub.flags, 0x05);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
	}
	rxs_hdr_encode(again, &h);
	CU_ASSERT_EQUAL(memcmp(again, cap_data_hdr, sizeof(again)), 0);
}

/* ---- ACK ---- */

static void test_ack_captured(void)
{
	struct rxs_hdr h;
	struct rxs_ack a;
	uint8_t body[64];
	size_t blen = sizeof(cap_ack) - RXS_HEADER_SIZE;

	CU_ASSERT_EQUAL_FATAL(rxs_hdr_decode(cap_ack, sizeof(cap_ack), &h), 0);
	CU_ASSERT_EQUAL(h.epoch, 0xb8e7643au);
	CU_ASSERT_EQUAL(h.cid, 0xf2117050u);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.seq, 0);
	CU_ASSERT_EQUAL(h.serial, 3);
	CU_ASSERT_EQUAL(h.type, RXS_PKT_ACK);
	CU_ASSERT_EQUAL(h.flags, RXS_SLOW_START_OK);
	CU_ASSERT_FALSE(h.flags & RXS_CLIENT_INITIATED);
	CU_ASSERT_EQUAL(h.cksum, 0);
	CU_ASSERT_EQUAL(h.service_id, 147);

	CU_ASSERT_EQUAL(blen, 37 + 2);
	CU_ASSERT_EQUAL_FATAL(
		rxs_ack_decode(cap_ack + RXS_HEADER_SIZE, blen, &a), 0);
	CU_ASSERT_EQUAL(a.buffer_space, 0);
	CU_ASSERT_EQUAL(a.max_skew, 0);
	CU_ASSERT_EQUAL(a.first_packet, 1);
	CU_ASSERT_EQUAL(a.previous_packet, 2);
	CU_ASSERT_EQUAL(a.serial, 3);
	CU_ASSERT_EQUAL(a.reason, RXS_ACK_REQUESTED);
	CU_ASSERT_EQUAL(a.n_acks, 2);
	CU_ASSERT_PTR_EQUAL(a.acks, cap_ack + RXS_HEADER_SIZE + 18);
	CU_ASSERT_EQUAL(a.acks[0], 1);
	CU_ASSERT_EQUAL(a.acks[1], 1);
	CU_ASSERT_TRUE(a.has_mtu);
	CU_ASSERT_TRUE(a.has_trailer);
	CU_ASSERT_EQUAL(a.max_mtu, 5692);
	CU_ASSERT_EQUAL(a.if_mtu, 1444);
	CU_ASSERT_EQUAL(a.rwind, 16);
	CU_ASSERT_EQUAL(a.jumbo_max, 4);

	/* Re-encoding what we decoded gives the captured body back. */
	memset(body, 0xee, sizeof(body));
	CU_ASSERT_EQUAL(rxs_ack_encode(body, sizeof(body), &a, a.acks), blen);
	CU_ASSERT_EQUAL(memcmp(body, cap_ack + RXS_HEADER_SIZE, blen), 0);
	CU_ASSERT_EQUAL(body[blen], 0xee);
}

static void test_ack_encode_layout(void)
{
	static const unsigned int ns[] = { 0, 1, 2, 7, 200, 255 };
	uint8_t acks[255], body[512];

	for (unsigned int i = 0; i < sizeof(acks); i++)
		acks[i] = (uint8_t)(i & 1);
	for (unsigned int k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		struct rxs_ack a = { 0 }, b;
		unsigned int n = ns[k];
		size_t need = 18 + n + 3 + 16;

		a.buffer_space = 0x0102;
		a.max_skew = 0x0304;
		a.first_packet = 0x05060708;
		a.previous_packet = 0x090a0b0c;
		a.serial = 0x0d0e0f10;
		a.reason = RXS_ACK_IDLE;
		a.n_acks = (uint8_t)n;
		a.max_mtu = 0x11121314;
		a.if_mtu = 0x15161718;
		a.rwind = 0x191a1b1c;
		a.jumbo_max = 0x1d1e1f20;
		memset(body, 0xee, sizeof(body));
		/* too small by one: refused, nothing claimed */
		CU_ASSERT_EQUAL(rxs_ack_encode(body, need - 1, &a, acks), 0);
		CU_ASSERT_EQUAL(rxs_ack_encode(body, sizeof(body), &a, acks),
				need);
		CU_ASSERT_EQUAL(rxs_get_be16(body), 0x0102);
		CU_ASSERT_EQUAL(rxs_get_be16(body + 2), 0x0304);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 4), 0x05060708);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 8), 0x090a0b0c);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 12), 0x0d0e0f10);
		CU_ASSERT_EQUAL(body[16], RXS_ACK_IDLE);
		CU_ASSERT_EQUAL(body[17], n);
		CU_ASSERT_EQUAL(memcmp(body + 18, acks, n), 0);
		/* three zero pad bytes, then the trailer */
		CU_ASSERT_EQUAL(body[18 + n], 0);
		CU_ASSERT_EQUAL(body[19 + n], 0);
		CU_ASSERT_EQUAL(body[20 + n], 0);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 21 + n), 0x11121314);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 25 + n), 0x15161718);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 29 + n), 0x191a1b1c);
		CU_ASSERT_EQUAL(rxs_get_be32(body + 33 + n), 0x1d1e1f20);
		CU_ASSERT_EQUAL(body[need], 0xee);
		/* and it decodes back */
		CU_ASSERT_EQUAL_FATAL(rxs_ack_decode(body, need, &b), 0);
		CU_ASSERT_EQUAL(b.first_packet, a.first_packet);
		CU_ASSERT_EQUAL(b.previous_packet, a.previous_packet);
		CU_ASSERT_EQUAL(b.serial, a.serial);
		CU_ASSERT_EQUAL(b.n_acks, n);
		CU_ASSERT_TRUE(b.has_trailer);
		CU_ASSERT_EQUAL(b.max_mtu, a.max_mtu);
		CU_ASSERT_EQUAL(b.if_mtu, a.if_mtu);
		CU_ASSERT_EQUAL(b.rwind, a.rwind);
		CU_ASSERT_EQUAL(b.jumbo_max, a.jumbo_max);
	}
}

/* Build an ACK body with @n acks and @tail trailer-region bytes. */
static size_t ack_body(uint8_t *body, unsigned int n, size_t tail)
{
	size_t len = 18 + n + tail;

	memset(body, 0, len);
	rxs_put_be32(body + 4, 1);
	body[16] = RXS_ACK_REQUESTED;
	body[17] = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++)
		body[18 + i] = 1;
	/* trailer words 1, 2, 3, 4 after the 3 pad bytes, as far as room */
	for (unsigned int w = 0; w < 4; w++)
		if (tail >= 3 + 4 * (w + 1))
			rxs_put_be32(body + 18 + n + 3 + 4 * w, 1000 + w);
	return len;
}

static void test_ack_trailer_by_length(void)
{
	uint8_t body[512];
	struct rxs_ack a;
	unsigned int n;

	for (n = 0; n <= 255; n += 51) {
		/* none: no pad, part of the pad, pad only, pad + <8 */
		static const size_t none[] = { 0, 1, 2, 3, 4, 7, 10 };

		for (unsigned int i = 0; i < sizeof(none) / sizeof(*none);
		     i++) {
			size_t len = ack_body(body, n, none[i]);

			CU_ASSERT_EQUAL_FATAL(rxs_ack_decode(body, len, &a), 0);
			CU_ASSERT_EQUAL(a.n_acks, n);
			CU_ASSERT_FALSE(a.has_mtu);
			CU_ASSERT_FALSE(a.has_trailer);
			CU_ASSERT_EQUAL(a.max_mtu, 0);
			CU_ASSERT_EQUAL(a.rwind, 0);
			CU_ASSERT_EQUAL(a.jumbo_max, 0);
		}
		/* 8 trailer bytes: maxMTU and ifMTU */
		CU_ASSERT_EQUAL(
			rxs_ack_decode(body, ack_body(body, n, 3 + 8), &a), 0);
		CU_ASSERT_TRUE(a.has_mtu);
		CU_ASSERT_FALSE(a.has_trailer);
		CU_ASSERT_EQUAL(a.max_mtu, 1000);
		CU_ASSERT_EQUAL(a.if_mtu, 1001);
		CU_ASSERT_EQUAL(a.rwind, 0);
		CU_ASSERT_EQUAL(a.jumbo_max, 0);
		/* 12: also rwind (AFS 3.4 peer) */
		CU_ASSERT_EQUAL(
			rxs_ack_decode(body, ack_body(body, n, 3 + 12), &a), 0);
		CU_ASSERT_TRUE(a.has_mtu);
		CU_ASSERT_FALSE(a.has_trailer);
		CU_ASSERT_EQUAL(a.max_mtu, 1000);
		CU_ASSERT_EQUAL(a.if_mtu, 1001);
		CU_ASSERT_EQUAL(a.rwind, 1002);
		CU_ASSERT_EQUAL(a.jumbo_max, 0);
		/* 16: the whole trailer */
		CU_ASSERT_EQUAL(
			rxs_ack_decode(body, ack_body(body, n, 3 + 16), &a), 0);
		CU_ASSERT_TRUE(a.has_mtu);
		CU_ASSERT_TRUE(a.has_trailer);
		CU_ASSERT_EQUAL(a.rwind, 1002);
		CU_ASSERT_EQUAL(a.jumbo_max, 1003);
		/* extra bytes after the trailer are ignored */
		CU_ASSERT_EQUAL(
			rxs_ack_decode(body, ack_body(body, n, 3 + 40), &a), 0);
		CU_ASSERT_TRUE(a.has_trailer);
		CU_ASSERT_EQUAL(a.max_mtu, 1000);
		CU_ASSERT_EQUAL(a.jumbo_max, 1003);
	}
}

static void test_ack_truncated(void)
{
	uint8_t body[512];
	struct rxs_ack a;
	const uint8_t *cbody = cap_ack + RXS_HEADER_SIZE;

	/* every length below the 18-byte base, from a real ACK */
	for (size_t len = 0; len < RXS_ACK_BASE_LEN; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, cbody, len);
		CU_ASSERT_EQUAL(rxs_ack_decode(copy, len, &a), -EBADMSG);
		free(copy);
	}
	/* base with nAcks 0 is the shortest valid ACK */
	CU_ASSERT_EQUAL(rxs_ack_decode(body, ack_body(body, 0, 0), &a), 0);
	/* nAcks larger than the bytes present: refused at every n */
	for (unsigned int n = 1; n <= 255; n++) {
		size_t len = ack_body(body, n, 0);
		uint8_t *copy = malloc(len);

		memcpy(copy, body, len);
		CU_ASSERT_EQUAL(rxs_ack_decode(copy, len - 1, &a), -EBADMSG);
		CU_ASSERT_EQUAL(rxs_ack_decode(copy, len, &a), 0);
		CU_ASSERT_EQUAL(a.n_acks, n);
		free(copy);
	}
	/* the captured ACK cut anywhere inside its soft-ACK list */
	CU_ASSERT_EQUAL(rxs_ack_decode(cbody, 19, &a), -EBADMSG);
	CU_ASSERT_EQUAL(rxs_ack_decode(cbody, 20, &a), 0);
}

/* ---- ABORT ---- */

static void test_abort_captured(void)
{
	struct rxs_hdr h;
	int32_t code = 0;

	CU_ASSERT_EQUAL_FATAL(rxs_hdr_decode(cap_abort, sizeof(cap_abort), &h),
			      0);
	CU_ASSERT_EQUAL(h.epoch, 0xeb079a7au);
	CU_ASSERT_EQUAL(h.cid, 0x00011000u);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.seq, 0);
	CU_ASSERT_EQUAL(h.serial, 2);
	CU_ASSERT_EQUAL(h.type, RXS_PKT_ABORT);
	CU_ASSERT_EQUAL(h.flags, 0);
	CU_ASSERT_EQUAL(h.cksum, 0);
	CU_ASSERT_EQUAL(h.service_id, 147);
	CU_ASSERT_EQUAL(rxs_abort_decode(cap_abort + 28, 4, &code), 0);
	CU_ASSERT_EQUAL(code, -455);
	CU_ASSERT_EQUAL(code, RXGEN_OPCODE);
}

static void test_abort_raw_quirk(void)
{
	struct rxs_hdr h;
	int32_t code = 0;

	CU_ASSERT_EQUAL_FATAL(
		rxs_hdr_decode(cap_raw_abort, sizeof(cap_raw_abort), &h), 0);
	CU_ASSERT_EQUAL(h.type, RXS_PKT_ABORT);
	CU_ASSERT_EQUAL(h.serial, 0);
	CU_ASSERT_EQUAL(h.flags, 0);
	/* service id in the checksum slot, wire serviceId 0 (§5.1) */
	CU_ASSERT_EQUAL(h.cksum, 99);
	CU_ASSERT_EQUAL(h.service_id, 0);
	CU_ASSERT_EQUAL(rxs_abort_decode(cap_raw_abort + 28, 4, &code), 0);
	CU_ASSERT_EQUAL(code, RX_INVALID_OPERATION);
}

static void test_abort_truncated(void)
{
	uint8_t body[8] = { 0x80, 0, 0, 0, 1, 2, 3, 4 };
	int32_t code;

	for (size_t len = 0; len < 4; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, body, len);
		code = 12345;
		CU_ASSERT_EQUAL(rxs_abort_decode(copy, len, &code), -EBADMSG);
		CU_ASSERT_EQUAL(code, 12345);
		free(copy);
	}
	CU_ASSERT_EQUAL(rxs_abort_decode(body, 4, &code), 0);
	CU_ASSERT_EQUAL(code, INT32_MIN);
	/* trailing bytes are ignored */
	CU_ASSERT_EQUAL(rxs_abort_decode(body, 8, &code), 0);
	CU_ASSERT_EQUAL(code, INT32_MIN);
}

static void test_hdr_truncated(void)
{
	struct rxs_hdr h;

	for (size_t len = 0; len < RXS_HEADER_SIZE; len++) {
		/* exact-size copies so ASan sees any overread */
		uint8_t *copy = malloc(len ? len : 1);

		memcpy(copy, cap_data_hdr, len);
		CU_ASSERT_EQUAL(rxs_hdr_decode(copy, len, &h), -EBADMSG);
		free(copy);
	}
	CU_ASSERT_EQUAL(rxs_hdr_decode(cap_data_hdr, 28, &h), 0);
	CU_ASSERT_EQUAL(rxs_hdr_decode(cap_data_hdr, 0, &h), -EBADMSG);
}

/* ---- jumbograms ---- */

/*
 * Build a jumbogram body of @n sub-packets (sub-packet i's payload bytes
 * are i + 1, the last one @last_len bytes); the jumbo header before
 * sub-packet i carries flags @fl[i] and cksum 0x100 + i.
 */
static size_t jumbo_build(uint8_t *body, unsigned int n, size_t last_len,
			  const uint8_t *fl)
{
	uint8_t *p = body;

	for (unsigned int i = 0; i < n; i++) {
		if (i > 0) {
			p[0] = fl[i];
			p[1] = 0;
			rxs_put_be16(p + 2, (uint16_t)(0x100 + i));
			p += RXS_JUMBO_HDRLEN;
		}
		if (i + 1 < n) {
			memset(p, i + 1, RXS_JUMBO_DATALEN);
			p += RXS_JUMBO_DATALEN;
		} else {
			memset(p, i + 1, last_len);
			p += last_len;
		}
	}
	return (size_t)(p - body);
}

static void jumbo_check(unsigned int n, size_t last_len)
{
	uint8_t fl[8];
	size_t cap = 8 * (RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN) + 2000;
	uint8_t *tmp = malloc(cap), *body;
	struct rxs_hdr h = { .epoch = 0x80000001,
			     .cid = 0x40,
			     .call_number = 7,
			     .seq = 10,
			     .serial = 100,
			     .type = RXS_PKT_DATA,
			     .service_id = 1,
			     .user_status = 0 };
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *d;
	size_t dl, len;

	for (unsigned int i = 0; i < n; i++)
		fl[i] = RXS_CLIENT_INITIATED |
			(i + 1 < n ? RXS_JUMBO_PACKET | RXS_MORE_PACKETS
				   : RXS_REQUEST_ACK | RXS_LAST_PACKET);
	h.flags = fl[0];
	h.cksum = 0x100;
	len = jumbo_build(tmp, n, last_len, fl);
	/* exact-size copy: ASan catches a read past the datagram */
	body = malloc(len ? len : 1);
	memcpy(body, tmp, len);
	free(tmp);
	rxs_jumbo_init(&it, &h, body, len);
	for (unsigned int i = 0; i < n; i++) {
		CU_ASSERT_EQUAL_FATAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
		CU_ASSERT_EQUAL(sub.seq, 10 + i);
		CU_ASSERT_EQUAL(sub.serial, 100 + i);
		CU_ASSERT_EQUAL(sub.flags, fl[i]);
		CU_ASSERT_EQUAL(sub.cksum, 0x100 + i);
		CU_ASSERT_EQUAL(sub.epoch, h.epoch);
		CU_ASSERT_EQUAL(sub.cid, h.cid);
		CU_ASSERT_EQUAL(sub.call_number, h.call_number);
		CU_ASSERT_EQUAL(sub.type, RXS_PKT_DATA);
		CU_ASSERT_EQUAL(sub.service_id, 1);
		CU_ASSERT_EQUAL(dl, i + 1 < n ? RXS_JUMBO_DATALEN : last_len);
		CU_ASSERT_PTR_EQUAL(
			d, body + i * (RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN));
		if (dl) {
			CU_ASSERT_EQUAL(d[0], i + 1);
			CU_ASSERT_EQUAL(d[dl - 1], i + 1);
		}
		CU_ASSERT_EQUAL(it.n, i + 1);
	}
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
	free(body);
}

static void test_jumbo_1_2_4(void)
{
	jumbo_check(1, 0);
	jumbo_check(1, 500);
	jumbo_check(2, 1412);
	jumbo_check(2, 1);
	jumbo_check(2, 0); /* empty final sub-packet */
	jumbo_check(4, 1412);
	jumbo_check(4, 77);
}

/* The captured 3-sub-packet jumbogram of §3.3: flags 0x29, 0x29, 0x03. */
static void test_jumbo_captured_flags(void)
{
	uint8_t fl[3] = { 0x29, 0x29, 0x03 };
	size_t len;
	uint8_t *body = malloc(4272);
	struct rxs_hdr h = {
		.seq = 1, .serial = 18, .type = RXS_PKT_DATA, .flags = 0x29
	};
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *d;
	size_t dl;

	len = jumbo_build(body, 3, 1412, fl);
	CU_ASSERT_EQUAL(len + RXS_HEADER_SIZE, 4272);
	CU_ASSERT_EQUAL(body[1440 - 28], 0x29);
	CU_ASSERT_EQUAL(body[2856 - 28], 0x03);
	rxs_jumbo_init(&it, &h, body, len);
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
	CU_ASSERT_EQUAL(sub.serial, 18);
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
	CU_ASSERT_EQUAL(sub.serial, 19);
	CU_ASSERT_EQUAL(sub.flags, 0x29);
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
	CU_ASSERT_EQUAL(sub.seq, 3);
	CU_ASSERT_EQUAL(sub.serial, 20);
	CU_ASSERT_EQUAL(sub.flags, 0x03);
	CU_ASSERT_EQUAL(dl, 1412);
	CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
	free(body);
}

static void test_jumbo_bad(void)
{
	struct rxs_hdr h = { .seq = 1,
			     .serial = 1,
			     .type = RXS_PKT_DATA,
			     .flags = RXS_JUMBO_PACKET };
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *d;
	size_t dl;
	size_t lens[] = { 0, 1, 100, RXS_JUMBO_DATALEN,
			  RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN - 1 };

	/* claims a jumbo but is shorter than 1412 + 4 */
	for (unsigned int i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t *b = malloc(lens[i] ? lens[i] : 1);

		memset(b, 0, lens[i]);
		rxs_jumbo_init(&it, &h, b, lens[i]);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), -EBADMSG);
		/* and then stops */
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
		free(b);
	}
	/* exactly 1412 + 4: a valid jumbo with an empty final packet */
	{
		size_t len = RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN;
		uint8_t *b = calloc(1, len);

		rxs_jumbo_init(&it, &h, b, len);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
		CU_ASSERT_EQUAL(dl, 0);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
		free(b);
	}
	/* second sub-packet's jumbo header claims a third that is missing */
	{
		uint8_t fl[2] = { RXS_JUMBO_PACKET, RXS_JUMBO_PACKET };
		uint8_t *tmp = malloc(4000), *b;
		size_t len = jumbo_build(tmp, 2, 600, fl);

		b = malloc(len);
		memcpy(b, tmp, len);
		rxs_jumbo_init(&it, &h, b, len);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 1);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), -EBADMSG);
		CU_ASSERT_EQUAL(rxs_jumbo_next(&it, &sub, &d, &dl), 0);
		free(b);
		free(tmp);
	}
}

/* At most RXS_MAX_JUMBO sub-packets per datagram. */
static void test_jumbo_max(void)
{
	unsigned int n = RXS_MAX_JUMBO;
	size_t len = (size_t)n * (RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN) + 10;
	uint8_t *fl = malloc(n + 1), *b = malloc(len);
	struct rxs_hdr h = { .seq = 1,
			     .serial = 1,
			     .type = RXS_PKT_DATA,
			     .flags = RXS_JUMBO_PACKET };
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *d;
	size_t dl, blen;
	unsigned int got = 0;
	int r;

	for (unsigned int i = 0; i < n + 1; i++)
		fl[i] = RXS_JUMBO_PACKET;
	fl[n - 1] = 0;
	blen = jumbo_build(b, n, 10, fl);
	rxs_jumbo_init(&it, &h, b, blen);
	while ((r = rxs_jumbo_next(&it, &sub, &d, &dl)) == 1)
		got++;
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(got, RXS_MAX_JUMBO);
	CU_ASSERT_EQUAL(sub.seq, RXS_MAX_JUMBO);
	/* one more JUMBO_PACKET flag than allowed: refused */
	fl[n - 1] = RXS_JUMBO_PACKET;
	blen = jumbo_build(b, n, 10, fl);
	rxs_jumbo_init(&it, &h, b, blen);
	got = 0;
	while ((r = rxs_jumbo_next(&it, &sub, &d, &dl)) == 1)
		got++;
	CU_ASSERT_EQUAL(r, -EBADMSG);
	CU_ASSERT(got < RXS_MAX_JUMBO);
	free(fl);
	free(b);
}

/* ---- helpers and names ---- */

static void test_seq_wrap(void)
{
	CU_ASSERT_TRUE(rxs_seq_before(1, 2));
	CU_ASSERT_FALSE(rxs_seq_before(2, 1));
	CU_ASSERT_FALSE(rxs_seq_before(5, 5));
	CU_ASSERT_FALSE(rxs_seq_after(5, 5));
	CU_ASSERT_TRUE(rxs_seq_before(0xffffffffu, 0));
	CU_ASSERT_TRUE(rxs_seq_after(0, 0xffffffffu));
	CU_ASSERT_TRUE(rxs_seq_before(0xfffffff0u, 0x10));
	CU_ASSERT_TRUE(rxs_seq_after(0x10, 0xfffffff0u));
	CU_ASSERT_TRUE(rxs_seq_after(0x7fffffffu, 0));
	CU_ASSERT_TRUE(rxs_seq_before(0x80000001u, 0));
	for (uint32_t base = 0xfffffff0u; base != 0x10; base++) {
		CU_ASSERT_TRUE(rxs_seq_before(base, base + 1));
		CU_ASSERT_TRUE(rxs_seq_after(base + 1, base));
		CU_ASSERT_TRUE(rxs_seq_after(base + 300, base));
	}
}

static void test_names(void)
{
	static const char *const types[] = {
		[1] = "DATA",	  [2] = "ACK",	  [3] = "BUSY",
		[4] = "ABORT",	  [5] = "ACKALL", [6] = "CHALLENGE",
		[7] = "RESPONSE", [8] = "DEBUG",  [9] = "PARAMS",
		[13] = "VERSION",
	};
	static const char *const reasons[] = {
		"NONE",		  "REQUESTED", "DUPLICATE", "OUT_OF_SEQUENCE",
		"EXCEEDS_WINDOW", "NOSPACE",   "PING",	    "PING_RESPONSE",
		"DELAY",	  "IDLE",
	};

	for (unsigned int t = 0; t < sizeof(types) / sizeof(*types); t++)
		if (types[t])
			CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(t), types[t]);
	CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(0), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(12), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(14), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(255), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_pkt_type_name(0xffffffffu), "UNKNOWN");
	CU_ASSERT_PTR_NOT_NULL(rxs_pkt_type_name(10));
	CU_ASSERT_PTR_NOT_NULL(rxs_pkt_type_name(11));
	for (unsigned int r = 0; r < sizeof(reasons) / sizeof(*reasons); r++)
		CU_ASSERT_STRING_EQUAL(rxs_ack_reason_name(r), reasons[r]);
	CU_ASSERT_EQUAL(RXS_ACK_REASON_MAX, 10);
	CU_ASSERT_STRING_EQUAL(rxs_ack_reason_name(10), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_ack_reason_name(255), "UNKNOWN");
	CU_ASSERT_STRING_EQUAL(rxs_badmsg_name(rxs_badmsg_short_hdr),
			       "short_hdr");
	CU_ASSERT_STRING_EQUAL(rxs_badmsg_name(rxs_badmsg_bad_security),
			       "bad_security");
	for (int i = 0; i < rxs_badmsg__count; i++) {
		const char *n = rxs_badmsg_name((enum rxs_badmsg)i);

		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_STRING_NOT_EQUAL(n, "unknown");
		for (int j = 0; j < i; j++)
			CU_ASSERT_STRING_NOT_EQUAL(
				n, rxs_badmsg_name((enum rxs_badmsg)j));
	}
	CU_ASSERT_STRING_EQUAL(rxs_badmsg_name(rxs_badmsg__count), "unknown");
	CU_ASSERT_STRING_EQUAL(rxs_badmsg_name((enum rxs_badmsg) - 1),
			       "unknown");
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "header round trip", test_hdr_roundtrip },
		{ "header extremes", test_hdr_roundtrip_extremes },
		{ "header truncated", test_hdr_truncated },
		{ "captured DATA (11.2)", test_hdr_captured_data },
		{ "captured ACK (11.3)", test_ack_captured },
		{ "ACK encode layout", test_ack_encode_layout },
		{ "ACK trailer by length", test_ack_trailer_by_length },
		{ "ACK truncated", test_ack_truncated },
		{ "captured ABORT (11.4)", test_abort_captured },
		{ "raw abort quirk (5.1)", test_abort_raw_quirk },
		{ "ABORT truncated", test_abort_truncated },
		{ "jumbo 1/2/4", test_jumbo_1_2_4 },
		{ "jumbo captured flags (3.3)", test_jumbo_captured_flags },
		{ "jumbo malformed", test_jumbo_bad },
		{ "jumbo max sub-packets", test_jumbo_max },
		{ "seq wrap helpers", test_seq_wrap },
		{ "names", test_names },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("wire", NULL, NULL);
	if (!s)
		goto error;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			goto error;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto error;
	/* read before CU_cleanup_registry(), which clears it */
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
error:
	CU_cleanup_registry();
	return 99;
}
