/* SPDX-License-Identifier: MIT */
/*
 * fuzz_ring.c - the receive ring (rxsvc/ring.h) fed an arbitrary sequence
 * of arrivals and consumer operations decoded from the input, the I/O
 * thread's freeing played as input.c does it (free what is consumed
 * before filing).  After every step: top is exactly the end of the run of
 * present packets after the consumer's point (never passes a hole, never
 * stops before a present packet), every slot holds a packet of its own
 * seq in the window, verdicts match a model; at the end everything is
 * freed and nothing may be left over.
 *
 * Input: byte 0 = window (1..255), bytes 1-4 = the starting seq (so wrap
 * near 0xffffffff is reachable), then one op per byte:
 *   00xxxxxx  a packet with seq consumed + 1 + x  (x < 64)
 *   01xxxxxx  a packet with seq top - x (duplicates, far behind)
 *   10xxxxxx  consume up to x + 1 packets
 *   11xxxxxx  a packet with seq consumed + 1 + x * 8 (window edge)
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxsvc/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #x);                 \
			abort();                                         \
		}                                                        \
	} while (0)

/*
 * Packets come from a pool of our own, as the engine's do: a calloc of
 * 16 KiB per arrival under ASan would dominate the run.  The pool also
 * counts what is out, for the leak check.
 */
#define POOL 1024
static struct rxs_rxpkt *pool[POOL];
static unsigned int npool;

static struct rxs_rxpkt *pkt_get(void)
{
	struct rxs_rxpkt *p;

	if (npool)
		p = pool[--npool];
	else
		p = malloc(sizeof(*p));
	CHECK(p != NULL);
	memset(p, 0, offsetof(struct rxs_rxpkt, buf));
	return p;
}

static void pkt_put(struct rxs_rxpkt *p)
{
	if (npool < POOL)
		pool[npool++] = p;
	else
		free(p);
}

struct state {
	struct rxs_rxring r;
	unsigned int window;
	uint32_t freed;
	unsigned int live;
};

static void free_consumed(struct state *s)
{
	uint32_t consumed = atomic_load(&s->r.consumed);

	while (rxs_seq_before(s->freed, consumed)) {
		uint32_t q = s->freed + 1;
		struct rxs_rxpkt **slot = &s->r.slot[q & s->r.mask];

		if (*slot && (*slot)->seq == q) {
			pkt_put(*slot);
			*slot = NULL;
			s->live--;
		}
		s->freed = q;
	}
}

static void check(struct state *s)
{
	uint32_t consumed = atomic_load(&s->r.consumed);
	uint32_t top = atomic_load(&s->r.top);
	uint32_t run = consumed;
	unsigned int held = 0;

	CHECK(!rxs_seq_before(top, consumed));
	CHECK(top - consumed <= s->r.mask);
	while (run + 1 - consumed <= s->r.mask &&
	       rxs_rxring_has(&s->r, run + 1))
		run++;
	CHECK(run == top);
	for (uint32_t i = 0; i <= s->r.mask; i++) {
		struct rxs_rxpkt *p = s->r.slot[i];

		if (!p)
			continue;
		held++;
		CHECK((p->seq & s->r.mask) == i);
		/* a packet not yet freed was consumed or is in the window */
		CHECK(!rxs_seq_after(p->seq, consumed) ||
		      p->seq - consumed <= s->window);
	}
	CHECK(held == s->live);
	if (consumed == top)
		CHECK(rxs_rxring_peek(&s->r) == NULL);
	else
		CHECK(rxs_rxring_peek(&s->r) &&
		      rxs_rxring_peek(&s->r)->seq == consumed + 1);
}

static void arrive(struct state *s, uint32_t seq)
{
	struct rxs_rxpkt *p;
	uint32_t consumed, top;
	bool had;
	enum rxs_rx_verdict v;

	free_consumed(s); /* as input_data() does before filing */
	consumed = atomic_load(&s->r.consumed);
	top = atomic_load(&s->r.top);
	had = rxs_rxring_has(&s->r, seq);
	p = pkt_get();
	p->seq = seq;
	v = rxs_rxring_put(&s->r, p, s->window);
	if (!rxs_seq_after(seq, top) || had) {
		CHECK(v == RXS_RX_DUPLICATE);
	} else if (seq - consumed > s->window || seq - consumed > s->r.mask) {
		CHECK(v == RXS_RX_WINDOW);
	} else {
		CHECK(v == RXS_RX_QUEUED);
	}
	if (v == RXS_RX_QUEUED) {
		s->live++;
		CHECK(rxs_rxring_has(&s->r, seq));
	} else {
		pkt_put(p);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state s;
	uint32_t start, n;

	if (size < 5)
		return 0;
	memset(&s, 0, sizeof(s));
	s.window = data[0] ? data[0] : 1;
	start = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
		(uint32_t)data[3] << 8 | data[4];
	n = rxs_ring_size(s.window);
	s.r.slot = calloc(n, sizeof(*s.r.slot));
	CHECK(s.r.slot != NULL);
	s.r.mask = n - 1;
	atomic_init(&s.r.top, start);
	atomic_init(&s.r.consumed, start);
	s.freed = start;
	check(&s);
	for (size_t i = 5; i < size; i++) {
		unsigned int x = data[i] & 63;
		uint32_t consumed = atomic_load(&s.r.consumed);

		switch (data[i] >> 6) {
		case 0:
			arrive(&s, consumed + 1 + x);
			break;
		case 1:
			arrive(&s, atomic_load(&s.r.top) - x);
			break;
		case 2:
			for (unsigned int k = 0; k <= x; k++) {
				struct rxs_rxpkt *p = rxs_rxring_peek(&s.r);

				if (!p)
					break;
				CHECK(p->seq == atomic_load(&s.r.consumed) + 1);
				rxs_rxring_advance(&s.r);
			}
			break;
		case 3:
			arrive(&s, consumed + 1 + x * 8);
			break;
		}
		check(&s);
	}
	/* no slot leaks: everything still held is freed here, once */
	for (uint32_t i = 0; i <= s.r.mask; i++) {
		if (s.r.slot[i]) {
			pkt_put(s.r.slot[i]);
			s.r.slot[i] = NULL;
			s.live--;
		}
	}
	CHECK(s.live == 0);
	free(s.r.slot);
	return 0;
}
