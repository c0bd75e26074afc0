/* SPDX-License-Identifier: MIT */
/*
 * test_ring.c - the call's receive and transmit rings (rxsvc/ring.h):
 * in-order and out-of-order filing, duplicates, the window, wrap of the
 * uint32_t sequence numbers, the consumer's peek/advance, and the transmit
 * ring's room/push/hard-ACK.  The I/O thread's part (freeing consumed
 * slots, advancing hard_ack) is played by the helpers here, as
 * rxs_call_free_rx_upto() and the ACK path do it.
 */
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "rxsvc/ring.h"

struct rxring_fixture {
	struct rxs_rxring r;
	uint32_t freed;	   /* slots freed up to (the I/O thread's rx_freed) */
	unsigned int live; /* packets allocated and not yet freed */
};

static void rx_setup(struct rxring_fixture *f, unsigned int window,
		     uint32_t start)
{
	uint32_t n = rxs_ring_size(window);

	memset(f, 0, sizeof(*f));
	f->r.slot = calloc(n, sizeof(*f->r.slot));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f->r.slot);
	f->r.mask = n - 1;
	atomic_init(&f->r.top, start);
	atomic_init(&f->r.consumed, start);
	f->freed = start;
}

static struct rxs_rxpkt *pkt_new(struct rxring_fixture *f, uint32_t seq)
{
	/* ~16 KiB each: heap, never the stack */
	struct rxs_rxpkt *p = calloc(1, sizeof(*p));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p->seq = seq;
	p->data_len = 1;
	p->buf[0] = (uint8_t)seq;
	f->live++;
	return p;
}

static void pkt_free(struct rxring_fixture *f, struct rxs_rxpkt *p)
{
	free(p);
	f->live--;
}

/* Put a new packet for @seq; frees it unless the ring took it. */
static enum rxs_rx_verdict put(struct rxring_fixture *f, uint32_t seq,
			       unsigned int window)
{
	struct rxs_rxpkt *p = pkt_new(f, seq);
	enum rxs_rx_verdict v = rxs_rxring_put(&f->r, p, window);

	if (v != RXS_RX_QUEUED)
		pkt_free(f, p);
	return v;
}

/* The I/O thread: free consumed packets (rxs_call_free_rx_upto). */
static void io_free_consumed(struct rxring_fixture *f)
{
	uint32_t consumed = atomic_load(&f->r.consumed);

	while (rxs_seq_before(f->freed, consumed)) {
		uint32_t s = f->freed + 1;
		struct rxs_rxpkt **slot = &f->r.slot[s & f->r.mask];

		if (*slot && (*slot)->seq == s) {
			pkt_free(f, *slot);
			*slot = NULL;
		}
		f->freed = s;
	}
}

/* Consume one packet, checking it is @seq. */
static void consume(struct rxring_fixture *f, uint32_t seq)
{
	struct rxs_rxpkt *p = rxs_rxring_peek(&f->r);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->seq, seq);
	CU_ASSERT_EQUAL(p->buf[0], (uint8_t)seq);
	f->r.offset = 1;
	rxs_rxring_advance(&f->r);
	CU_ASSERT_EQUAL(f->r.offset, 0);
	CU_ASSERT_EQUAL(atomic_load(&f->r.consumed), seq);
}

/*
 * Invariants: everything in (consumed, top] is present with its own seq;
 * top + 1 is not present (top never stops before a filled run nor passes
 * a hole); slots hold only packets of the window.
 */
static void check_invariants(struct rxring_fixture *f)
{
	uint32_t consumed = atomic_load(&f->r.consumed);
	uint32_t top = atomic_load(&f->r.top);

	CU_ASSERT_FALSE(rxs_seq_before(top, consumed));
	CU_ASSERT(top - consumed <= f->r.mask);
	for (uint32_t s = consumed + 1; !rxs_seq_after(s, top); s++) {
		struct rxs_rxpkt *p = f->r.slot[s & f->r.mask];

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(p->seq, s);
		CU_ASSERT_TRUE(rxs_rxring_has(&f->r, s));
	}
	if (top + 1 - consumed <= f->r.mask)
		CU_ASSERT_FALSE(rxs_rxring_has(&f->r, top + 1));
}

static void rx_teardown(struct rxring_fixture *f)
{
	for (uint32_t i = 0; i <= f->r.mask; i++) {
		if (f->r.slot[i]) {
			pkt_free(f, f->r.slot[i]);
			f->r.slot[i] = NULL;
		}
	}
	CU_ASSERT_EQUAL(f->live, 0);
	free(f->r.slot);
}

/* ---- receive ring ---- */

static void test_ring_size(void)
{
	CU_ASSERT_EQUAL(rxs_ring_size(0), 2);
	CU_ASSERT_EQUAL(rxs_ring_size(1), 2);
	CU_ASSERT_EQUAL(rxs_ring_size(2), 4);
	CU_ASSERT_EQUAL(rxs_ring_size(15), 16);
	CU_ASSERT_EQUAL(rxs_ring_size(16), 32);
	CU_ASSERT_EQUAL(rxs_ring_size(32), 64);
	CU_ASSERT_EQUAL(rxs_ring_size(255), 256);
	for (unsigned int w = 0; w < 600; w++) {
		uint32_t n = rxs_ring_size(w);

		CU_ASSERT(n > w);
		CU_ASSERT_EQUAL(n & (n - 1), 0);
		CU_ASSERT(n / 2 <= w || n == 2);
	}
}

static void test_rx_in_order(void)
{
	struct rxring_fixture f;

	rx_setup(&f, 32, 0);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	for (uint32_t s = 1; s <= 20; s++) {
		CU_ASSERT_EQUAL(put(&f, s, 32), RXS_RX_QUEUED);
		CU_ASSERT_EQUAL(atomic_load(&f.r.top), s);
		check_invariants(&f);
	}
	for (uint32_t s = 1; s <= 20; s++) {
		consume(&f, s);
		check_invariants(&f);
	}
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	io_free_consumed(&f);
	CU_ASSERT_EQUAL(f.live, 0);
	/* keep going well past one lap of the ring */
	for (uint32_t s = 21; s <= 300; s++) {
		CU_ASSERT_EQUAL(put(&f, s, 32), RXS_RX_QUEUED);
		consume(&f, s);
		io_free_consumed(&f);
	}
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 300);
	rx_teardown(&f);
}

static void test_rx_out_of_order(void)
{
	struct rxring_fixture f;

	rx_setup(&f, 32, 0);
	CU_ASSERT_EQUAL(put(&f, 3, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, 5, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, 6, 32), RXS_RX_QUEUED);
	/* a hole at 1: top does not move, nothing to read */
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 0);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	CU_ASSERT_TRUE(rxs_rxring_has(&f.r, 3));
	CU_ASSERT_FALSE(rxs_rxring_has(&f.r, 4));
	CU_ASSERT_TRUE(rxs_rxring_has(&f.r, 5));
	check_invariants(&f);
	CU_ASSERT_EQUAL(put(&f, 1, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 1);
	check_invariants(&f);
	/* filling 2 runs top over 3 and stops at the hole at 4 */
	CU_ASSERT_EQUAL(put(&f, 2, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 3);
	check_invariants(&f);
	consume(&f, 1);
	consume(&f, 2);
	consume(&f, 3);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	io_free_consumed(&f);
	CU_ASSERT_EQUAL(put(&f, 4, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 6);
	check_invariants(&f);
	consume(&f, 4);
	consume(&f, 5);
	consume(&f, 6);
	io_free_consumed(&f);
	/* reverse order: nothing until the first arrives */
	for (uint32_t s = 30; s > 7; s--) {
		CU_ASSERT_EQUAL(put(&f, s, 32), RXS_RX_QUEUED);
		CU_ASSERT_EQUAL(atomic_load(&f.r.top), 6);
	}
	CU_ASSERT_EQUAL(put(&f, 7, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 30);
	check_invariants(&f);
	rx_teardown(&f);
}

static void test_rx_duplicates(void)
{
	struct rxring_fixture f;

	rx_setup(&f, 32, 0);
	CU_ASSERT_EQUAL(put(&f, 1, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, 2, 32), RXS_RX_QUEUED);
	/* at or below top, still held */
	CU_ASSERT_EQUAL(put(&f, 1, 32), RXS_RX_DUPLICATE);
	CU_ASSERT_EQUAL(put(&f, 2, 32), RXS_RX_DUPLICATE);
	/* the same out-of-sequence slot twice */
	CU_ASSERT_EQUAL(put(&f, 9, 32), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, 9, 32), RXS_RX_DUPLICATE);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 2);
	/* the original is the one kept */
	CU_ASSERT_PTR_NOT_NULL(f.r.slot[9 & f.r.mask]);
	check_invariants(&f);
	/* below top and already consumed and freed */
	consume(&f, 1);
	consume(&f, 2);
	io_free_consumed(&f);
	CU_ASSERT_EQUAL(put(&f, 1, 32), RXS_RX_DUPLICATE);
	CU_ASSERT_EQUAL(put(&f, 2, 32), RXS_RX_DUPLICATE);
	/* far behind (half the sequence space): duplicate, not new */
	CU_ASSERT_EQUAL(put(&f, 0x80000003u, 32), RXS_RX_DUPLICATE);
	CU_ASSERT_EQUAL(put(&f, 0, 32), RXS_RX_DUPLICATE);
	check_invariants(&f);
	rx_teardown(&f);
}

static void test_rx_window(void)
{
	struct rxring_fixture f;

	/* window 8 -> 16 slots */
	rx_setup(&f, 8, 0);
	CU_ASSERT_EQUAL(f.r.mask, 15);
	CU_ASSERT_EQUAL(put(&f, 9, 8), RXS_RX_WINDOW);
	CU_ASSERT_EQUAL(put(&f, 100, 8), RXS_RX_WINDOW);
	CU_ASSERT_EQUAL(put(&f, 0x7fffffffu, 8), RXS_RX_WINDOW);
	CU_ASSERT_EQUAL(put(&f, 8, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 0);
	for (uint32_t s = 1; s < 8; s++)
		CU_ASSERT_EQUAL(put(&f, s, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 8);
	/* the window is measured from the consumer, not from top */
	CU_ASSERT_EQUAL(put(&f, 9, 8), RXS_RX_WINDOW);
	consume(&f, 1);
	io_free_consumed(&f);
	CU_ASSERT_EQUAL(put(&f, 10, 8), RXS_RX_WINDOW);
	CU_ASSERT_EQUAL(put(&f, 9, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 9);
	check_invariants(&f);
	rx_teardown(&f);

	/* a window larger than the ring is capped by the ring */
	rx_setup(&f, 8, 0);
	CU_ASSERT_EQUAL(put(&f, 16, 1000), RXS_RX_WINDOW);
	CU_ASSERT_EQUAL(put(&f, 15, 1000), RXS_RX_QUEUED);
	check_invariants(&f);
	rx_teardown(&f);
}

static void test_rx_wrap(void)
{
	struct rxring_fixture f;
	const uint32_t start = 0xfffffff0u;
	uint32_t s;

	rx_setup(&f, 8, start);
	/* out of order across the wrap: f1 f3 f2 ... */
	CU_ASSERT_EQUAL(put(&f, start + 3, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, start + 1, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), start + 1);
	CU_ASSERT_EQUAL(put(&f, start + 2, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), start + 3);
	/* below the start: duplicate */
	CU_ASSERT_EQUAL(put(&f, start, 8), RXS_RX_DUPLICATE);
	CU_ASSERT_EQUAL(put(&f, start - 5, 8), RXS_RX_DUPLICATE);
	check_invariants(&f);
	for (s = start + 1; s != start + 4; s++)
		consume(&f, s);
	io_free_consumed(&f);
	/* 0xfffffff4 .. 0x20, in pairs swapped, through 0xffffffff -> 0 */
	for (s = start + 4; s != 0x20; s += 2) {
		CU_ASSERT_EQUAL(put(&f, s + 1, 8), RXS_RX_QUEUED);
		CU_ASSERT_EQUAL(atomic_load(&f.r.top), s - 1);
		CU_ASSERT_EQUAL(put(&f, s, 8), RXS_RX_QUEUED);
		CU_ASSERT_EQUAL(atomic_load(&f.r.top), s + 1);
		CU_ASSERT_EQUAL(put(&f, s, 8), RXS_RX_DUPLICATE);
		check_invariants(&f);
		/* beyond the window on the far side of the wrap */
		CU_ASSERT_EQUAL(put(&f, s + 1 + 9, 8), RXS_RX_WINDOW);
		consume(&f, s);
		consume(&f, s + 1);
		io_free_consumed(&f);
	}
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 0x1f);
	CU_ASSERT_EQUAL(atomic_load(&f.r.consumed), 0x1f);
	CU_ASSERT_EQUAL(f.live, 0);
	rx_teardown(&f);
}

/* A seq that wraps to 0 is an ordinary ring index, not "no packet". */
static void test_rx_wrap_through_zero(void)
{
	struct rxring_fixture f;

	rx_setup(&f, 8, 0xfffffffeu);
	CU_ASSERT_EQUAL(put(&f, 1, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(put(&f, 0, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 0xfffffffeu);
	CU_ASSERT_EQUAL(put(&f, 0xffffffffu, 8), RXS_RX_QUEUED);
	CU_ASSERT_EQUAL(atomic_load(&f.r.top), 1);
	check_invariants(&f);
	consume(&f, 0xffffffffu);
	consume(&f, 0);
	consume(&f, 1);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	io_free_consumed(&f);
	CU_ASSERT_EQUAL(f.live, 0);
	rx_teardown(&f);
}

static void test_rx_peek_advance(void)
{
	struct rxring_fixture f;
	struct rxs_rxpkt *p;

	rx_setup(&f, 16, 0);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	CU_ASSERT_EQUAL(put(&f, 2, 16), RXS_RX_QUEUED);
	/* present but not in order: not readable */
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	CU_ASSERT_EQUAL(put(&f, 1, 16), RXS_RX_QUEUED);
	p = rxs_rxring_peek(&f.r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->seq, 1);
	/* peeking does not consume */
	CU_ASSERT_PTR_EQUAL(rxs_rxring_peek(&f.r), p);
	CU_ASSERT_EQUAL(atomic_load(&f.r.consumed), 0);
	f.r.offset = 1;
	rxs_rxring_advance(&f.r);
	CU_ASSERT_EQUAL(f.r.offset, 0);
	CU_ASSERT_EQUAL(atomic_load(&f.r.consumed), 1);
	/* the consumed packet stays until the I/O thread frees it */
	CU_ASSERT_PTR_EQUAL(f.r.slot[1], p);
	p = rxs_rxring_peek(&f.r);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->seq, 2);
	rxs_rxring_advance(&f.r);
	CU_ASSERT_PTR_NULL(rxs_rxring_peek(&f.r));
	io_free_consumed(&f);
	CU_ASSERT_PTR_NULL(f.r.slot[1]);
	CU_ASSERT_PTR_NULL(f.r.slot[2]);
	CU_ASSERT_EQUAL(f.live, 0);
	rx_teardown(&f);
}

/* Randomised: shuffled arrivals with duplicates; invariants throughout. */
static void test_rx_random(void)
{
	struct rxring_fixture f;
	unsigned int seed = 12345;
	unsigned int queued = 0;

	rx_setup(&f, 32, 0x7ffffff0u);
	for (unsigned int round = 0; round < 20000; round++) {
		uint32_t consumed = atomic_load(&f.r.consumed);
		uint32_t s;
		enum rxs_rx_verdict v;

		seed = seed * 1103515245u + 12345u;
		s = consumed + 1 + (seed >> 16) % 40;
		v = put(&f, s, 32);
		if (s - consumed > 32)
			CU_ASSERT_EQUAL(v, RXS_RX_WINDOW);
		if (v == RXS_RX_QUEUED)
			queued++;
		if ((seed >> 8) % 3 == 0) {
			while (rxs_rxring_peek(&f.r))
				consume(&f, atomic_load(&f.r.consumed) + 1);
			io_free_consumed(&f);
		}
		check_invariants(&f);
	}
	CU_ASSERT(queued > 1000);
	CU_ASSERT(rxs_seq_after(atomic_load(&f.r.top), 0x7ffffff0u + 1000));
	rx_teardown(&f);
}

/* ---- transmit ring ---- */

static void test_tx_ring(void)
{
	struct rxs_txring t;
	uint32_t n = rxs_ring_size(8);
	struct rxs_txpkt **pk;
	unsigned int pushed = 0;

	memset(&t, 0, sizeof(t));
	t.slot = calloc(n, sizeof(*t.slot));
	t.mask = n - 1;
	atomic_init(&t.prepared, 0xfffffff8u);
	atomic_init(&t.hard_ack, 0xfffffff8u);
	pk = calloc(200, sizeof(*pk));
	for (unsigned int i = 0; i < 200; i++)
		pk[i] = calloc(1, sizeof(**pk));

	/* fills to mask packets (one slot kept free) */
	while (rxs_txring_room(&t)) {
		rxs_txring_push(&t, pk[pushed]);
		CU_ASSERT_EQUAL(pk[pushed]->seq, 0xfffffff8u + pushed + 1);
		CU_ASSERT_PTR_EQUAL(t.slot[pk[pushed]->seq & t.mask],
				    pk[pushed]);
		CU_ASSERT_EQUAL(atomic_load(&t.prepared), pk[pushed]->seq);
		pushed++;
		if (pushed > n)
			break;
	}
	CU_ASSERT_EQUAL(pushed, t.mask);
	CU_ASSERT_FALSE(rxs_txring_room(&t));
	/* the ring wrapped the sequence space: 0xfffffff9 .. 0x7 */
	CU_ASSERT_EQUAL(atomic_load(&t.prepared), 0x7);
	/* the I/O thread hard-ACKs 3 packets: room again, exactly 3 */
	for (uint32_t s = 0xfffffff9u; s != 0xfffffffcu; s++)
		t.slot[s & t.mask] = NULL;
	atomic_store(&t.hard_ack, 0xfffffffbu);
	for (unsigned int i = 0; i < 3; i++) {
		CU_ASSERT_TRUE_FATAL(rxs_txring_room(&t));
		CU_ASSERT_PTR_NULL(
			t.slot[(atomic_load(&t.prepared) + 1) & t.mask]);
		rxs_txring_push(&t, pk[pushed++]);
	}
	CU_ASSERT_FALSE(rxs_txring_room(&t));
	CU_ASSERT_EQUAL(atomic_load(&t.prepared), 0xa);
	/* everything acknowledged */
	memset(t.slot, 0, n * sizeof(*t.slot));
	atomic_store(&t.hard_ack, 0xa);
	CU_ASSERT_TRUE(rxs_txring_room(&t));
	/* many laps: push one, ack one */
	for (unsigned int i = 0; i < 100; i++) {
		uint32_t s;

		CU_ASSERT_TRUE_FATAL(rxs_txring_room(&t));
		rxs_txring_push(&t, pk[pushed % 200]);
		s = atomic_load(&t.prepared);
		CU_ASSERT_EQUAL(pk[pushed % 200]->seq, s);
		t.slot[s & t.mask] = NULL;
		atomic_store(&t.hard_ack, s);
		pushed++;
	}
	CU_ASSERT_EQUAL(atomic_load(&t.prepared), 0xa + 100);
	for (unsigned int i = 0; i < 200; i++)
		free(pk[i]);
	free(pk);
	free(t.slot);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "ring size", test_ring_size },
		{ "rx in order", test_rx_in_order },
		{ "rx out of order, gaps filled later", test_rx_out_of_order },
		{ "rx duplicates", test_rx_duplicates },
		{ "rx window", test_rx_window },
		{ "rx wrap near 0xfffffff0", test_rx_wrap },
		{ "rx wrap through 0", test_rx_wrap_through_zero },
		{ "rx peek/advance", test_rx_peek_advance },
		{ "rx random with invariants", test_rx_random },
		{ "tx room/push/hard_ack", test_tx_ring },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("ring", NULL, NULL);
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
