/* SPDX-License-Identifier: MIT */
/*
 * timer.c - one timer mechanism per endpoint: a binary min-heap of calls
 * keyed by each call's earliest deadline (call->timer_at), and a single
 * libevent timer armed for the heap's top.  A call sits in the heap at
 * most once (heap_idx, 1-based; 0 = absent), so updates are O(log n) and
 * nothing scans all calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <event2/event.h>

#include "rxsvc/internal.h"

int rxs_heap_init(struct rxs_heap *h)
{
	h->cap = 64;
	h->n = 0;
	h->v = calloc(h->cap + 1, sizeof(*h->v));
	return h->v ? 0 : -ENOMEM;
}

void rxs_heap_free(struct rxs_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

static void heap_set(struct rxs_heap *h, unsigned int i, struct rxsvc_call *c)
{
	h->v[i] = c;
	c->heap_idx = i;
}

static void heap_up(struct rxs_heap *h, unsigned int i)
{
	struct rxsvc_call *c = h->v[i];

	while (i > 1 && h->v[i / 2]->timer_at > c->timer_at) {
		heap_set(h, i, h->v[i / 2]);
		i /= 2;
	}
	heap_set(h, i, c);
}

static void heap_down(struct rxs_heap *h, unsigned int i)
{
	struct rxsvc_call *c = h->v[i];

	for (;;) {
		unsigned int l = 2 * i, m = i;
		uint64_t best = c->timer_at;

		if (l <= h->n && h->v[l]->timer_at < best) {
			m = l;
			best = h->v[l]->timer_at;
		}
		if (l + 1 <= h->n && h->v[l + 1]->timer_at < best)
			m = l + 1;
		if (m == i)
			break;
		heap_set(h, i, h->v[m]);
		i = m;
	}
	heap_set(h, i, c);
}

/*
 * Insert @call or move it to its new key; a key of 0 removes it.
 * The heap holds no reference: a call leaves the heap before it is freed.
 */
int rxs_heap_update(struct rxs_heap *h, struct rxsvc_call *call)
{
	if (call->timer_at == 0) {
		rxs_heap_remove(h, call);
		return 0;
	}
	if (!call->heap_idx) {
		if (h->n == h->cap) {
			struct rxsvc_call **v = realloc(
				h->v, (2 * h->cap + 1) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			h->v = v;
			h->cap *= 2;
		}
		h->n++;
		heap_set(h, h->n, call);
		heap_up(h, h->n);
		return 0;
	}
	heap_up(h, call->heap_idx);
	heap_down(h, call->heap_idx);
	return 0;
}

void rxs_heap_remove(struct rxs_heap *h, struct rxsvc_call *call)
{
	unsigned int i = call->heap_idx;

	if (!i)
		return;
	call->heap_idx = 0;
	if (i == h->n) {
		h->n--;
		return;
	}
	heap_set(h, i, h->v[h->n]);
	h->n--;
	heap_up(h, i);
	heap_down(h, h->v[i] == NULL ? i : h->v[i]->heap_idx);
}

struct rxsvc_call *rxs_heap_top(const struct rxs_heap *h)
{
	return h->n ? h->v[1] : NULL;
}

/*
 * Arm the endpoint's one timer for the earliest call deadline.  A timer
 * already armed for an earlier moment is left alone (when it fires it
 * finds nothing due and re-arms), and an empty heap leaves it armed: so
 * a user thread doing the I/O thread's work rarely needs to move it,
 * which would wake the I/O thread (libevent notifies its loop when a
 * timer moves earlier from another thread).  - [io]
 */
void rxs_sock_timer_arm(struct rxsvc_sock *sock)
{
	struct rxsvc_call *top = rxs_heap_top(&sock->timers);
	struct timeval tv;
	uint64_t now, at;

	if (!top && !sock->fack_head)
		return;
	at = top ? top->timer_at : UINT64_MAX;
	if (sock->fack_head && sock->fack_head->fack_at < at)
		at = sock->fack_head->fack_at;
	if (sock->timer_armed_at && sock->timer_armed_at <= at)
		return;
	now = rxs_now();
	if (at <= now) {
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else {
		tv.tv_sec = (time_t)((at - now) / 1000000u);
		tv.tv_usec = (suseconds_t)((at - now) % 1000000u);
	}
	sock->timer_armed_at = at;
	event_add(sock->timer_ev, &tv);
}
