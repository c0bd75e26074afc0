/* SPDX-License-Identifier: MIT */
/*
 * fuzz_wire.c - the packet decoders on raw bytes: rxs_hdr_decode,
 * rxs_ack_decode, rxs_abort_decode and the jumbogram iterator, with their
 * invariants checked (a decoder that succeeds read only bytes that were
 * there; counts never exceed what is present; re-encoding gives the bytes
 * back).  Any violation abort()s, which libFuzzer and the replay main
 * report as a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #x);                 \
			abort();                                         \
		}                                                        \
	} while (0)

static volatile unsigned int sink;

static void fuzz_hdr(const uint8_t *data, size_t size)
{
	struct rxs_hdr h;
	uint8_t again[RXS_HEADER_SIZE];
	int r = rxs_hdr_decode(data, size, &h);

	CHECK(r == 0 || r == -EBADMSG);
	CHECK((r == 0) == (size >= RXS_HEADER_SIZE));
	if (r == 0) {
		rxs_hdr_encode(again, &h);
		CHECK(memcmp(again, data, RXS_HEADER_SIZE) == 0);
		CHECK(rxs_pkt_type_name(h.type) != NULL);
	}
}

static void fuzz_ack(const uint8_t *body, size_t len)
{
	struct rxs_ack a;
	int r = rxs_ack_decode(body, len, &a);
	unsigned int sum = 0;

	CHECK(r == 0 || r == -EBADMSG);
	if (r < 0) {
		/* refused only when short or nAcks overruns */
		CHECK(len < RXS_ACK_BASE_LEN ||
		      body[17] > len - RXS_ACK_BASE_LEN);
		return;
	}
	CHECK(len >= RXS_ACK_BASE_LEN);
	CHECK(a.n_acks == body[17]);
	CHECK(a.n_acks <= len - RXS_ACK_BASE_LEN);
	CHECK(a.acks == body + RXS_ACK_BASE_LEN);
	for (unsigned int i = 0; i < a.n_acks; i++)
		sum += a.acks[i]; /* ASan: every ack byte is inside */
	sink = sum;
	CHECK(a.first_packet == rxs_get_be32(body + 4));
	CHECK(a.previous_packet == rxs_get_be32(body + 8));
	CHECK(a.serial == rxs_get_be32(body + 12));
	CHECK(a.reason == body[16]);
	CHECK(rxs_ack_reason_name(a.reason) != NULL);
	/* trailer words are read only when their bytes are there */
	if (a.has_mtu) {
		size_t off = RXS_ACK_BASE_LEN + a.n_acks + 3;

		CHECK(len - RXS_ACK_BASE_LEN - a.n_acks >= 3 + 8);
		CHECK(a.max_mtu == rxs_get_be32(body + off));
		CHECK(a.if_mtu == rxs_get_be32(body + off + 4));
	} else {
		CHECK(len < RXS_ACK_BASE_LEN + (size_t)a.n_acks + 3 + 8);
		CHECK(a.max_mtu == 0 && a.if_mtu == 0);
	}
	if (a.has_trailer) {
		size_t need = RXS_ACK_BASE_LEN + (size_t)a.n_acks + 3 +
			      RXS_ACK_TRAILER_LEN;
		uint8_t *out = malloc(need);

		CHECK(a.has_mtu);
		CHECK(len >= need);
		/* re-encoding gives the same bytes, pad bytes zeroed */
		CHECK(rxs_ack_encode(out, need, &a, a.acks) == need);
		CHECK(memcmp(out, body, RXS_ACK_BASE_LEN + a.n_acks) == 0);
		CHECK(memcmp(out + need - 16, body + need - 16, 16) == 0);
		CHECK(out[need - 19] == 0 && out[need - 18] == 0 &&
		      out[need - 17] == 0);
		free(out);
	} else {
		CHECK(a.jumbo_max == 0);
	}
}

static void fuzz_abort(const uint8_t *body, size_t len)
{
	int32_t code = 0x5a5a5a5a;
	int r = rxs_abort_decode(body, len, &code);

	CHECK((r == 0) == (len >= 4));
	if (r == 0)
		CHECK((uint32_t)code == rxs_get_be32(body));
	else
		CHECK(code == 0x5a5a5a5a);
}

static void fuzz_jumbo(const struct rxs_hdr *h, const uint8_t *body, size_t len)
{
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *d;
	size_t dl, total = 0;
	unsigned int n = 0;
	int r;

	rxs_jumbo_init(&it, h, body, len);
	while ((r = rxs_jumbo_next(&it, &sub, &d, &dl)) == 1) {
		unsigned int sum = 0;

		CHECK(n < RXS_MAX_JUMBO);
		CHECK(d >= body && dl <= len && (size_t)(d - body) <= len - dl);
		CHECK(d == body + (size_t)n * (RXS_JUMBO_DATALEN +
					       RXS_JUMBO_HDRLEN));
		CHECK(sub.seq == h->seq + n);
		CHECK(sub.serial == h->serial + n);
		CHECK(sub.epoch == h->epoch && sub.cid == h->cid &&
		      sub.call_number == h->call_number &&
		      sub.type == h->type && sub.service_id == h->service_id);
		if (n == 0)
			CHECK(sub.flags == h->flags && sub.cksum == h->cksum);
		else
			CHECK(sub.flags == d[-4] &&
			      sub.cksum == rxs_get_be16(d - 2));
		if (sub.flags & RXS_JUMBO_PACKET)
			CHECK(dl == RXS_JUMBO_DATALEN);
		else
			CHECK((size_t)(d - body) + dl == len);
		for (size_t i = 0; i < dl; i += 97)
			sum += d[i];
		sink = sum;
		total += dl;
		n++;
	}
	CHECK(r == 0 || r == -EBADMSG);
	CHECK(it.n == n);
	if (r == 0) {
		CHECK(n >= 1);
		CHECK(total + (n - 1) * RXS_JUMBO_HDRLEN == len);
	}
	/* the iterator stays finished */
	CHECK(rxs_jumbo_next(&it, &sub, &d, &dl) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rxs_hdr h;

	fuzz_hdr(data, size);
	/* the bodies as if after a header, and as bare bodies */
	fuzz_ack(data, size);
	fuzz_abort(data, size);
	if (rxs_hdr_decode(data, size, &h) == 0) {
		const uint8_t *body = data + RXS_HEADER_SIZE;
		size_t blen = size - RXS_HEADER_SIZE;

		fuzz_ack(body, blen);
		fuzz_abort(body, blen);
		fuzz_jumbo(&h, body, blen);
		/* and once more forcing the jumbo flag on */
		h.flags |= RXS_JUMBO_PACKET;
		fuzz_jumbo(&h, body, blen);
	}
	return 0;
}
