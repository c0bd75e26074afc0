/* SPDX-License-Identifier: MIT */
/*
 * ring.h - a call's receive and transmit rings.
 *
 * Both are indexed by DATA sequence number (slot = seq & mask), sized to
 * a power of two above the window, and shared by exactly one producer and
 * one consumer with free-running uint32_t indexes; no lock.
 *
 * Receive ring: the I/O thread (producer) files each DATA packet at its
 * seq, discarding duplicates and anything outside the window, and keeps
 * out-of-sequence packets in their slots until the gap fills; it then
 * advances @top, the highest seq below which everything is present, with
 * release.  The user (consumer) reads slots up to @top (acquire) and
 * publishes @consumed (release); the I/O thread frees consumed packets.
 *
 * Transmit ring: the user (producer) fills packets and publishes
 * @prepared, the highest seq queued (release); the I/O thread sends,
 * retransmits, frees what the peer hard-ACKs and publishes @hard_ack
 * (release), which tells the user there is room again.
 */
#ifndef RXS_RING_H
#define RXS_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "transport/transport.h"

struct rxs_rxring {
	struct rxs_rxpkt **slot;
	uint32_t mask;
	atomic_uint top;        /* [io writes] all seq <= top present */
	atomic_uint consumed;   /* [user writes] seq <= consumed read */
	uint32_t offset;        /* [user] bytes read of packet consumed+1 */
};

struct rxs_txring {
	struct rxs_txpkt **slot;
	uint32_t mask;
	atomic_uint prepared;   /* [user writes] highest seq queued */
	atomic_uint hard_ack;   /* [io writes] all seq <= hard_ack done */
};

/* Slots for a window of @window packets: a power of two > window. */
static inline uint32_t rxs_ring_size(unsigned int window)
{
	uint32_t n = 2;

	while (n <= window)
		n <<= 1;
	return n;
}

enum rxs_rx_verdict {
	RXS_RX_QUEUED,    /* filed in its slot */
	RXS_RX_DUPLICATE, /* already consumed or already held */
	RXS_RX_WINDOW,    /* beyond the receive window */
};

/*
 * Producer: file @pkt (seq in pkt->seq) if it is new and in the window of
 * @window packets above the consumer's point.  On RXS_RX_QUEUED the ring
 * owns @pkt; otherwise the caller keeps it.  Advances @top over any run of
 * present slots and publishes it.  - Called on the I/O thread.
 */
static inline enum rxs_rx_verdict rxs_rxring_put(struct rxs_rxring *r,
						 struct rxs_rxpkt *pkt,
						 unsigned int window)
{
	uint32_t consumed = atomic_load_explicit(&r->consumed,
						 memory_order_acquire);
	uint32_t top = atomic_load_explicit(&r->top, memory_order_relaxed);
	uint32_t seq = pkt->seq;

	/* Everything <= top is held or consumed already. */
	if ((int32_t)(seq - top) <= 0)
		return RXS_RX_DUPLICATE;
	if (seq - consumed > window || seq - consumed > r->mask)
		return RXS_RX_WINDOW;
	if (r->slot[seq & r->mask])
		return RXS_RX_DUPLICATE;
	r->slot[seq & r->mask] = pkt;
	while (r->slot[(top + 1) & r->mask] &&
	       (top + 1) - consumed <= r->mask &&
	       r->slot[(top + 1) & r->mask]->seq == top + 1)
		top++;
	/* Pairs with the acquire in rxs_rxring_peek(): slots before top. */
	atomic_store_explicit(&r->top, top, memory_order_release);
	return RXS_RX_QUEUED;
}

/*
 * Consumer: the next packet to read (seq consumed + 1), or NULL if it has
 * not arrived in order yet.  - Called on the user's thread.
 */
static inline struct rxs_rxpkt *rxs_rxring_peek(struct rxs_rxring *r)
{
	uint32_t consumed = atomic_load_explicit(&r->consumed,
						 memory_order_relaxed);
	uint32_t top = atomic_load_explicit(&r->top, memory_order_acquire);

	if (consumed == top)
		return NULL;
	return r->slot[(consumed + 1) & r->mask];
}

/* Consumer: the packet after the one peek gives, or NULL. */
static inline struct rxs_rxpkt *rxs_rxring_peek_next(struct rxs_rxring *r)
{
	uint32_t consumed = atomic_load_explicit(&r->consumed,
						 memory_order_relaxed);
	uint32_t top = atomic_load_explicit(&r->top, memory_order_acquire);

	if (top - consumed < 2)
		return NULL;
	return r->slot[(consumed + 2) & r->mask];
}

/* Consumer: done with packet consumed + 1. */
static inline void rxs_rxring_advance(struct rxs_rxring *r)
{
	uint32_t consumed = atomic_load_explicit(&r->consumed,
						 memory_order_relaxed);

	r->offset = 0;
	/* Pairs with the acquire in rxs_rxring_put() and the I/O thread's
	 * freeing: we no longer touch the slot. */
	atomic_store_explicit(&r->consumed, consumed + 1,
			      memory_order_release);
}

/* Is slot @seq held (out of sequence)?  - I/O thread. */
static inline bool rxs_rxring_has(const struct rxs_rxring *r, uint32_t seq)
{
	struct rxs_rxpkt *p = r->slot[seq & r->mask];

	return p && p->seq == seq;
}

/* Producer (user): room for one more packet? */
static inline bool rxs_txring_room(struct rxs_txring *r)
{
	uint32_t prepared = atomic_load_explicit(&r->prepared,
						 memory_order_relaxed);
	uint32_t hard = atomic_load_explicit(&r->hard_ack,
					     memory_order_acquire);

	return prepared - hard < r->mask;
}

/* Producer (user): queue @pkt as seq prepared + 1. */
static inline void rxs_txring_push(struct rxs_txring *r, struct rxs_txpkt *pkt)
{
	uint32_t prepared = atomic_load_explicit(&r->prepared,
						 memory_order_relaxed);

	pkt->seq = prepared + 1;
	r->slot[pkt->seq & r->mask] = pkt;
	/* Pairs with the acquire in the I/O thread's transmit: slot first. */
	atomic_store_explicit(&r->prepared, pkt->seq, memory_order_release);
}

#endif /* RXS_RING_H */
