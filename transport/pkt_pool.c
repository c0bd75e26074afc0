/* SPDX-License-Identifier: MIT */
/*
 * pkt_pool.c - packet buffers.
 *
 * Receive buffers belong to the I/O thread alone: no lock.  Transmit
 * buffers are filled by user threads (rxsvc_call_send) and returned by the
 * I/O thread when hard-ACKed, so that pool has one mutex; both sides take
 * and return in batches where they can.  Pools grow in chunks of 64 up to
 * their maximum and never shrink, so a warmed-up endpoint does not call
 * the allocator on the packet path (conventions §7).
 */
#include <errno.h>
#include <stdlib.h>

#include "transport/transport.h"

#define RXS_POOL_CHUNK 64

static int pool_add_chunk(void ***chunks, unsigned int *nchunks, void *mem)
{
	void **n = realloc(*chunks, (*nchunks + 1) * sizeof(void *));

	if (!n)
		return -ENOMEM;
	n[(*nchunks)++] = mem;
	*chunks = n;
	return 0;
}

int rxs_rxpool_init(struct rxs_rxpool *pool, unsigned int max)
{
	pool->free = NULL;
	pool->nfree = 0;
	pool->total = 0;
	pool->max = max;
	pool->chunks = NULL;
	pool->nchunks = 0;
	return 0;
}

void rxs_rxpool_destroy(struct rxs_rxpool *pool)
{
	for (unsigned int i = 0; i < pool->nchunks; i++)
		free(pool->chunks[i]);
	free(pool->chunks);
	pool->chunks = NULL;
	pool->nchunks = 0;
	pool->free = NULL;
}

static int rxpool_grow(struct rxs_rxpool *pool)
{
	struct rxs_rxpkt *pk;

	if (pool->total + RXS_POOL_CHUNK > pool->max)
		return -ENOBUFS;
	pk = calloc(RXS_POOL_CHUNK, sizeof(*pk));
	if (!pk)
		return -ENOMEM;
	if (pool_add_chunk(&pool->chunks, &pool->nchunks, pk) < 0) {
		free(pk);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < RXS_POOL_CHUNK; i++) {
		pk[i].next = pool->free;
		pool->free = &pk[i];
	}
	pool->total += RXS_POOL_CHUNK;
	pool->nfree += RXS_POOL_CHUNK;
	return 0;
}

/* Take a receive buffer, or NULL when the pool is exhausted. */
struct rxs_rxpkt *rxs_rxpkt_alloc(struct rxs_rxpool *pool)
{
	struct rxs_rxpkt *pkt;

	if (!pool->free && rxpool_grow(pool) < 0)
		return NULL;
	pkt = pool->free;
	pool->free = pkt->next;
	pool->nfree--;
	pkt->next = NULL;
	return pkt;
}

void rxs_rxpkt_free(struct rxs_rxpool *pool, struct rxs_rxpkt *pkt)
{
	if (!pkt)
		return;
	pkt->next = pool->free;
	pool->free = pkt;
	pool->nfree++;
}

int rxs_txpool_init(struct rxs_txpool *pool, unsigned int max)
{
	pool->free = NULL;
	pool->total = 0;
	pool->max = max;
	pool->chunks = NULL;
	pool->nchunks = 0;
	return -pthread_mutex_init(&pool->lock, NULL);
}

void rxs_txpool_destroy(struct rxs_txpool *pool)
{
	for (unsigned int i = 0; i < pool->nchunks; i++)
		free(pool->chunks[i]);
	free(pool->chunks);
	pool->chunks = NULL;
	pool->nchunks = 0;
	pool->free = NULL;
	pthread_mutex_destroy(&pool->lock);
}

/* Take a transmit buffer (any thread); NULL when exhausted. */
struct rxs_txpkt *rxs_txpkt_alloc(struct rxs_txpool *pool)
{
	struct rxs_txpkt *pkt = NULL, *pk;

	pthread_mutex_lock(&pool->lock);
	if (!pool->free && pool->total + RXS_POOL_CHUNK <= pool->max) {
		pk = calloc(RXS_POOL_CHUNK, sizeof(*pk));
		if (pk && pool_add_chunk(&pool->chunks, &pool->nchunks, pk) == 0) {
			for (unsigned int i = 0; i < RXS_POOL_CHUNK; i++) {
				pk[i].next = pool->free;
				pool->free = &pk[i];
			}
			pool->total += RXS_POOL_CHUNK;
		} else {
			free(pk);
		}
	}
	if (pool->free) {
		pkt = pool->free;
		pool->free = pkt->next;
	}
	pthread_mutex_unlock(&pool->lock);
	if (pkt) {
		pkt->next = NULL;
		pkt->acked = 0;
		pkt->nsent = 0;
		pkt->lost = 0;
		pkt->sealed = 0;
		pkt->flags = 0;
		pkt->data_len = 0;
	}
	return pkt;
}

/* Return a linked list of transmit buffers (any thread). */
void rxs_txpkt_free_list(struct rxs_txpool *pool, struct rxs_txpkt *head,
			 struct rxs_txpkt *tail)
{
	if (!head)
		return;
	pthread_mutex_lock(&pool->lock);
	tail->next = pool->free;
	pool->free = head;
	pthread_mutex_unlock(&pool->lock);
}
