/* SPDX-License-Identifier: MIT */
/*
 * test_rtt.c - RTT estimation and the retransmission timeout (rtt.c:
 * RFC 6298 arithmetic, 200 ms floor, 60 s cap, backoff) and the
 * endpoint's timer heap (timer.c), driven with fake calls of which only
 * timer_at and heap_idx are used.
 */
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include "rxsvc/internal.h"

#define MS  1000u
#define SEC 1000000u

/* ---- RTT / RTO ---- */

static void test_rtt_init(void)
{
	struct rxs_peer peer;

	memset(&peer, 0xa5, sizeof(peer));
	rxs_rtt_init(&peer);
	CU_ASSERT_EQUAL(peer.rtt_count, 0);
	CU_ASSERT_EQUAL(peer.srtt_us, 0);
	CU_ASSERT_EQUAL(peer.rttvar_us, 0);
	/* 1 s before any sample */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 1 * SEC);
}

static void test_rtt_first_sample(void)
{
	struct rxs_peer peer;

	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 100 * MS);
	CU_ASSERT_EQUAL(peer.rtt_count, 1);
	/* srtt = rtt (stored x 8), rttvar = rtt / 2 (stored x 4) */
	CU_ASSERT_EQUAL(peer.srtt_us >> 3, 100 * MS);
	CU_ASSERT_EQUAL(peer.rttvar_us >> 2, 50 * MS);
	/* RTO = srtt + 4 * rttvar = 3 * rtt */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 300 * MS);

	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 2 * SEC);
	CU_ASSERT_EQUAL(peer.srtt_us >> 3, 2 * SEC);
	CU_ASSERT_EQUAL(peer.rttvar_us >> 2, 1 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 6 * SEC);
}

static void test_rtt_second_sample(void)
{
	struct rxs_peer peer;

	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 100 * MS);
	rxs_rtt_sample(&peer, 200 * MS);
	/* srtt = 7/8 * 100 + 1/8 * 200 = 112.5 ms;
	 * rttvar = 3/4 * 50 + 1/4 * |200 - 100| = 62.5 ms;
	 * RTO = 112.5 + 250 = 362.5 ms */
	CU_ASSERT_EQUAL(peer.rtt_count, 2);
	CU_ASSERT_EQUAL(peer.srtt_us >> 3, 112500);
	CU_ASSERT_EQUAL(peer.rttvar_us >> 2, 62500);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 362500);
	/* a smaller sample: delta is taken as an absolute value */
	rxs_rtt_sample(&peer, 12500);
	/* srtt = 7/8 * 112.5 + 1/8 * 12.5 = 100 ms;
	 * rttvar = 3/4 * 62.5 + 1/4 * 100 = 71.875 ms */
	CU_ASSERT_EQUAL(peer.srtt_us >> 3, 100000);
	CU_ASSERT_EQUAL(peer.rttvar_us, 287500);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 100000 + 287500);
}

static void test_rto_floor(void)
{
	struct rxs_peer peer;

	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 1 * MS);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 200 * MS);
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 66 * MS); /* 3 x 66 = 198 ms < 200 */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 200 * MS);
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 67 * MS); /* 201 ms */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 201 * MS);
	/* a zero sample counts as 1 us and still floors */
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 0);
	CU_ASSERT_EQUAL(peer.rtt_count, 1);
	CU_ASSERT(peer.srtt_us >> 3 >= 1);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 200 * MS);
	for (int i = 0; i < 100; i++)
		rxs_rtt_sample(&peer, 0);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 200 * MS);
}

static void test_rto_cap(void)
{
	struct rxs_peer peer;

	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 20 * SEC); /* 60 s exactly */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 60 * SEC);
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 30 * SEC); /* 90 s -> capped */
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 60 * SEC);
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 100 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 60 * SEC);
	/* whatever a sample is, the RTO stays within the bounds */
	for (uint64_t v = 1; v <= 0xffffffffu; v = v * 3 + 7) {
		rxs_rtt_sample(&peer, (uint32_t)v);
		CU_ASSERT(rxs_rtt_rto(&peer) >= 200 * MS);
		CU_ASSERT(rxs_rtt_rto(&peer) <= 60 * SEC);
	}
}

static void test_rto_backoff(void)
{
	uint32_t rto = 200 * MS;
	unsigned int steps = 0;

	CU_ASSERT_EQUAL(rxs_rtt_backoff(200 * MS), 400 * MS);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(1 * SEC), 2 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(29 * SEC), 58 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(30 * SEC - 1), 60 * SEC - 2);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(30 * SEC), 60 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(45 * SEC), 60 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(60 * SEC), 60 * SEC);
	/* no overflow for huge inputs */
	CU_ASSERT_EQUAL(rxs_rtt_backoff(0x80000000u), 60 * SEC);
	CU_ASSERT_EQUAL(rxs_rtt_backoff(0xffffffffu), 60 * SEC);
	/* doubling from the floor reaches the cap and stays */
	while (rto < 60 * SEC && steps < 100) {
		uint32_t next = rxs_rtt_backoff(rto);

		CU_ASSERT(next > rto);
		CU_ASSERT(next == 2 * rto || next == 60 * SEC);
		rto = next;
		steps++;
	}
	CU_ASSERT_EQUAL(rto, 60 * SEC);
	CU_ASSERT_EQUAL(steps, 9); /* 0.2 * 2^8 = 51.2 s, then the cap */
	CU_ASSERT_EQUAL(rxs_rtt_backoff(rto), 60 * SEC);
}

static void test_rtt_converges(void)
{
	struct rxs_peer peer;

	/* a steady 500 ms path: srtt -> 500 ms, rttvar -> 0 */
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 50 * MS);
	for (int i = 0; i < 200; i++)
		rxs_rtt_sample(&peer, 500 * MS);
	CU_ASSERT(peer.srtt_us >> 3 >= 499 * MS);
	CU_ASSERT(peer.srtt_us >> 3 <= 501 * MS);
	CU_ASSERT(peer.rttvar_us >> 2 < 1 * MS);
	CU_ASSERT(rxs_rtt_rto(&peer) >= 500 * MS);
	CU_ASSERT(rxs_rtt_rto(&peer) <= 510 * MS);
	/* then the path gets fast: the RTO falls to the floor */
	for (int i = 0; i < 300; i++)
		rxs_rtt_sample(&peer, 10 * MS);
	CU_ASSERT(peer.srtt_us >> 3 >= 9 * MS);
	CU_ASSERT(peer.srtt_us >> 3 <= 11 * MS);
	CU_ASSERT_EQUAL(rxs_rtt_rto(&peer), 200 * MS);
	/* and monotonically approaches from above on the way down */
	rxs_rtt_init(&peer);
	rxs_rtt_sample(&peer, 2 * SEC);
	{
		uint32_t prev = peer.srtt_us;

		for (int i = 0; i < 50; i++) {
			rxs_rtt_sample(&peer, 1 * SEC);
			CU_ASSERT(peer.srtt_us <= prev);
			CU_ASSERT(peer.srtt_us >> 3 >= 1 * SEC);
			prev = peer.srtt_us;
		}
	}
	/* alternating samples keep a variance: RTO above srtt */
	rxs_rtt_init(&peer);
	for (int i = 0; i < 100; i++)
		rxs_rtt_sample(&peer, (i & 1) ? 300 * MS : 100 * MS);
	CU_ASSERT(peer.srtt_us >> 3 > 150 * MS);
	CU_ASSERT(peer.srtt_us >> 3 < 250 * MS);
	CU_ASSERT(rxs_rtt_rto(&peer) > (peer.srtt_us >> 3) + 200 * MS);
	CU_ASSERT_EQUAL(peer.rtt_count, 100);
}

/* ---- timer heap ---- */

static struct rxsvc_call *fake_call(uint64_t at)
{
	struct rxsvc_call *c = calloc(1, sizeof(*c));

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->timer_at = at;
	return c;
}

/* Heap shape: indexes consistent, every parent <= its children. */
static void heap_check(const struct rxs_heap *h)
{
	for (unsigned int i = 1; i <= h->n; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(h->v[i]);
		CU_ASSERT_EQUAL(h->v[i]->heap_idx, i);
		if (i > 1)
			CU_ASSERT(h->v[i / 2]->timer_at <= h->v[i]->timer_at);
	}
	CU_ASSERT(h->n <= h->cap);
}

static void test_heap_order(void)
{
	static const uint64_t keys[] = { 50, 20, 70, 10, 40, 60, 30, 80, 5 };
	enum { N = sizeof(keys) / sizeof(keys[0]) };
	struct rxsvc_call *c[N];
	struct rxs_heap h;
	uint64_t last = 0;

	CU_ASSERT_EQUAL_FATAL(rxs_heap_init(&h), 0);
	CU_ASSERT_PTR_NULL(rxs_heap_top(&h));
	for (unsigned int i = 0; i < N; i++) {
		c[i] = fake_call(keys[i]);
		CU_ASSERT_EQUAL(rxs_heap_update(&h, c[i]), 0);
		CU_ASSERT(c[i]->heap_idx != 0);
		heap_check(&h);
	}
	CU_ASSERT_EQUAL(h.n, N);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[8]); /* key 5 */
	/* updating with the same key changes nothing */
	CU_ASSERT_EQUAL(rxs_heap_update(&h, c[0]), 0);
	CU_ASSERT_EQUAL(h.n, N);
	heap_check(&h);
	for (unsigned int i = 0; i < N; i++) {
		struct rxsvc_call *t = rxs_heap_top(&h);

		CU_ASSERT_PTR_NOT_NULL_FATAL(t);
		CU_ASSERT(t->timer_at >= last);
		last = t->timer_at;
		rxs_heap_remove(&h, t);
		CU_ASSERT_EQUAL(t->heap_idx, 0);
		heap_check(&h);
	}
	CU_ASSERT_EQUAL(last, 80);
	CU_ASSERT_PTR_NULL(rxs_heap_top(&h));
	for (unsigned int i = 0; i < N; i++)
		free(c[i]);
	rxs_heap_free(&h);
	CU_ASSERT_PTR_NULL(h.v);
}

static void test_heap_update_up_down(void)
{
	struct rxsvc_call *c[10];
	struct rxs_heap h;

	CU_ASSERT_EQUAL_FATAL(rxs_heap_init(&h), 0);
	for (unsigned int i = 0; i < 10; i++) {
		c[i] = fake_call(100 + 10 * i);
		rxs_heap_update(&h, c[i]);
	}
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[0]);
	/* move a deep one up to the top */
	c[9]->timer_at = 1;
	rxs_heap_update(&h, c[9]);
	heap_check(&h);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[9]);
	CU_ASSERT_EQUAL(c[9]->heap_idx, 1);
	/* move the top down to the bottom */
	c[9]->timer_at = 10000;
	rxs_heap_update(&h, c[9]);
	heap_check(&h);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[0]);
	CU_ASSERT(c[9]->heap_idx > 1);
	/* a middle one down past its children */
	c[1]->timer_at = 5000;
	rxs_heap_update(&h, c[1]);
	heap_check(&h);
	/* the top slightly later: still the top */
	c[0]->timer_at = 105;
	rxs_heap_update(&h, c[0]);
	heap_check(&h);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[0]);
	/* the top later than the next: c[2] (120) is the new top */
	c[0]->timer_at = 125;
	rxs_heap_update(&h, c[0]);
	heap_check(&h);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[2]);
	/* a key of 0 removes */
	c[2]->timer_at = 0;
	rxs_heap_update(&h, c[2]);
	CU_ASSERT_EQUAL(c[2]->heap_idx, 0);
	CU_ASSERT_EQUAL(h.n, 9);
	heap_check(&h);
	CU_ASSERT_PTR_EQUAL(rxs_heap_top(&h), c[0]);
	/* removing again, or removing a call never inserted: no-op */
	rxs_heap_remove(&h, c[2]);
	rxs_heap_update(&h, c[2]);
	CU_ASSERT_EQUAL(h.n, 9);
	for (unsigned int i = 0; i < 10; i++) {
		rxs_heap_remove(&h, c[i]);
		free(c[i]);
	}
	CU_ASSERT_EQUAL(h.n, 0);
	rxs_heap_free(&h);
}

static void test_heap_remove_middle(void)
{
	struct rxsvc_call *c[31];
	struct rxs_heap h;

	CU_ASSERT_EQUAL_FATAL(rxs_heap_init(&h), 0);
	for (unsigned int i = 0; i < 31; i++) {
		c[i] = fake_call(1 + i);
		rxs_heap_update(&h, c[i]);
	}
	/* inserted in order: c[i] sits at index i + 1 */
	CU_ASSERT_EQUAL(c[5]->heap_idx, 6);
	/* removing index 6 moves the last (31, a leaf of another subtree)
	 * there: it must sift down below 6's children */
	rxs_heap_remove(&h, c[5]);
	heap_check(&h);
	CU_ASSERT_EQUAL(h.n, 30);
	/* a case where the moved-in last element must sift *up*: make the
	 * last one small, then remove a node in another subtree */
	c[30]->timer_at = 2;
	rxs_heap_update(&h, c[30]);
	heap_check(&h);
	for (unsigned int i = 0; i < 31; i++)
		if (i != 5 && c[i]->heap_idx == h.n)
			c[i]->timer_at = 3;
	for (unsigned int i = 0; i < 31; i++)
		if (i != 5 && c[i]->heap_idx)
			rxs_heap_update(&h, c[i]);
	heap_check(&h);
	rxs_heap_remove(&h, c[20]);
	heap_check(&h);
	rxs_heap_remove(&h, c[10]);
	heap_check(&h);
	/* remove the last element itself */
	for (unsigned int i = 0; i < 31; i++) {
		if (c[i]->heap_idx && c[i]->heap_idx == h.n) {
			rxs_heap_remove(&h, c[i]);
			break;
		}
	}
	heap_check(&h);
	CU_ASSERT_EQUAL(h.n, 27);
	for (unsigned int i = 0; i < 31; i++) {
		rxs_heap_remove(&h, c[i]);
		heap_check(&h);
		free(c[i]);
	}
	CU_ASSERT_EQUAL(h.n, 0);
	rxs_heap_free(&h);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_heap_random_1000(void)
{
	enum { N = 1000 };
	struct rxsvc_call **c = calloc(N, sizeof(*c));
	uint64_t *sorted = calloc(N, sizeof(*sorted));
	struct rxs_heap h;
	uint64_t x = 88172645463325252ull;

	CU_ASSERT_EQUAL_FATAL(rxs_heap_init(&h), 0);
	for (unsigned int i = 0; i < N; i++) {
		/* xorshift64; duplicates likely in the low range */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		c[i] = fake_call(1 + x % (i & 1 ? 500 : 1000000007ull));
		sorted[i] = c[i]->timer_at;
		CU_ASSERT_EQUAL(rxs_heap_update(&h, c[i]), 0);
	}
	CU_ASSERT_EQUAL(h.n, N);
	CU_ASSERT(h.cap >= N); /* grew past its initial 64 */
	heap_check(&h);
	/* re-key a third of them, remove a tenth */
	for (unsigned int i = 0; i < N; i += 3) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		c[i]->timer_at = 1 + x % 2000000;
		rxs_heap_update(&h, c[i]);
	}
	heap_check(&h);
	for (unsigned int i = 5; i < N; i += 10)
		rxs_heap_remove(&h, c[i]);
	heap_check(&h);
	{
		unsigned int m = 0;

		for (unsigned int i = 0; i < N; i++)
			if (c[i]->heap_idx)
				sorted[m++] = c[i]->timer_at;
		CU_ASSERT_EQUAL(m, h.n);
		qsort(sorted, m, sizeof(*sorted), cmp_u64);
		for (unsigned int k = 0; k < m; k++) {
			struct rxsvc_call *t = rxs_heap_top(&h);

			CU_ASSERT_PTR_NOT_NULL_FATAL(t);
			CU_ASSERT_EQUAL(t->timer_at, sorted[k]);
			rxs_heap_remove(&h, t);
		}
		CU_ASSERT_PTR_NULL(rxs_heap_top(&h));
	}
	for (unsigned int i = 0; i < N; i++)
		free(c[i]);
	free(c);
	free(sorted);
	rxs_heap_free(&h);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "rtt init", test_rtt_init },
		{ "rtt first sample", test_rtt_first_sample },
		{ "rtt second sample", test_rtt_second_sample },
		{ "rto floor 200 ms", test_rto_floor },
		{ "rto cap 60 s", test_rto_cap },
		{ "rto backoff", test_rto_backoff },
		{ "rtt converges", test_rtt_converges },
		{ "heap order", test_heap_order },
		{ "heap update up/down", test_heap_update_up_down },
		{ "heap remove from middle", test_heap_remove_middle },
		{ "heap 1000 random keys", test_heap_random_1000 },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("rtt+timer", NULL, NULL);
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
