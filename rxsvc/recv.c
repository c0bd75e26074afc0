/* SPDX-License-Identifier: MIT */
/*
 * recv.c - the user's side of the receive ring (the kernel's
 * rxrpc_kernel_recv_data): copy payload out of the ring, advance the
 * consumed point, and poke the I/O thread so that it frees the packets
 * and opens the window.  No lock on the data path; a user thread only
 * sleeps when the ring is empty.
 *
 * rxkad crypt packets arrive here still encrypted (conn_security.c says
 * how): whole blocks are decrypted straight into the caller's buffer, and
 * a read that ends inside a block, or a PEEK, decrypts the rest of that
 * packet in place first.
 */
#include <errno.h>
#include <string.h>

#include "rxsvc/internal.h"

/* The error a completed call reports to recv/send. */
int rxs_call_error_ret(struct rxsvc_call *call, int32_t *abort_code);
int rxs_call_error_ret(struct rxsvc_call *call, int32_t *abort_code)
{
	enum rxsvc_completion how = rxsvc_call_completion(call);

	/* abort_code is written before the release of completion. */
	if (abort_code)
		*abort_code = how == RXSVC_COMPLETE_NONE ? 0 : call->abort_code;
	switch (how) {
	case RXSVC_COMPLETE_NONE:
		return 0;
	case RXSVC_COMPLETE_SUCCEEDED:
		return -ESHUTDOWN;
	case RXSVC_COMPLETE_BUSY:
		return -EBUSY;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		return -ECONNABORTED;
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		return call->error ? call->error : -ECONNRESET;
	case RXSVC_COMPLETE_NET_ERROR:
	case RXSVC_COMPLETE_LOCAL_ERROR:
		return call->error ? call->error : -EIO;
	}
	return -EIO;
}

/*
 * Copy @n bytes of the ring's head packet @p, from the reader's offset on,
 * to @dst, decrypting what is still sealed.
 */
static void recv_take(struct rxsvc_call *call, struct rxs_rxpkt *p,
		      uint8_t *dst, size_t n)
{
	size_t off = call->rx.offset;

	if (p->sealed) {
		size_t whole = n & ~(size_t)7;

		RXS_ASSERT(off == p->opened);
		if (whole) {
			rxs_sec_open(call, p, dst, whole);
			dst += whole;
			off += whole;
			n -= whole;
		}
		if (n)
			rxs_sec_open_in_place(call, p);
	}
	memcpy(dst, p->buf + p->data_off + off, n);
}

/* Copy what is in order; returns bytes copied. */
static size_t recv_copy(struct rxsvc_call *call, uint8_t *buf, size_t size,
			bool *advanced)
{
	size_t copied = 0;
	struct rxs_rxpkt *p, *done = NULL; /* opened ahead, @done_n bytes */
	size_t done_n = 0;

	while (copied < size && (p = rxs_rxring_peek(&call->rx)) != NULL) {
		size_t avail = p->data_len - call->rx.offset;
		size_t n = avail < size - copied ? avail : size - copied;
		struct rxs_rxpkt *q;

		if (p == done) {
			/* Its first bytes went to the buffer with the packet
			 * before it: skip them. */
			call->rx.offset += (uint32_t)done_n;
			copied += done_n;
			done = NULL;
			continue;
		}
		/*
		 * Two sealed packets read whole: open them together, their
		 * PCBC chains side by side, straight into the buffer.
		 */
		if (p->sealed && n == avail && call->rx.offset == p->opened &&
		    (q = rxs_rxring_peek_next(&call->rx)) != NULL &&
		    q->sealed && q->opened == 0 &&
		    size - copied - n >= q->data_len &&
		    (avail & ~(size_t)7) && (q->data_len & ~7u)) {
			size_t wp = avail & ~(size_t)7;

			done_n = q->data_len & ~7u;
			done = q;
			rxs_sec_open2(call, p, buf + copied, wp, q,
				      buf + copied + avail, done_n);
			call->rx.offset += (uint32_t)wp;
			copied += wp;
			n -= wp;
			if (!n) {
				rxs_rxring_advance(&call->rx);
				*advanced = true;
				continue;
			}
		}
		recv_take(call, p, buf + copied, n);
		copied += n;
		call->rx.offset += (uint32_t)n;
		if (call->rx.offset == p->data_len) {
			rxs_rxring_advance(&call->rx);
			*advanced = true;
		}
	}
	return copied;
}

static bool rx_at_end(struct rxsvc_call *call)
{
	uint32_t last = atomic_load_explicit(&call->rx_last,
					     memory_order_acquire);

	return last && atomic_load_explicit(&call->rx.consumed,
					    memory_order_relaxed) == last;
}

/* Sleep until the ring has data, the call completes, or nothing else. */
static void recv_wait(struct rxsvc_call *call)
{
	/* A call begun but never poked (nothing sent) must start now. */
	if (atomic_load(&call->events) & RXS_EV_NEW_CALL)
		rxs_call_poke(call, 0);
	pthread_mutex_lock(&call->wait_lock);
	atomic_fetch_add(&call->waiters, 1); /* seq_cst: see rxs_call_wake */
	while (!rxs_rxring_peek(&call->rx) && !rx_at_end(call) &&
	       rxsvc_call_completion(call) == RXSVC_COMPLETE_NONE)
		pthread_cond_wait(&call->wait_cv, &call->wait_lock);
	atomic_fetch_sub(&call->waiters, 1);
	pthread_mutex_unlock(&call->wait_lock);
}

/* Copy what is in order without consuming it. */
static int recv_peek(struct rxsvc_call *call, uint8_t *buf, size_t size,
		     unsigned int *flags)
{
	uint32_t consumed = atomic_load_explicit(&call->rx.consumed,
						 memory_order_relaxed);
	uint32_t top = atomic_load_explicit(&call->rx.top,
					    memory_order_acquire);
	uint32_t offset = call->rx.offset;
	size_t copied = 0;

	for (uint32_t s = consumed + 1; copied < size && (int32_t)(top - s) >= 0;
	     s++) {
		struct rxs_rxpkt *p = call->rx.slot[s & call->rx.mask];
		size_t avail = p->data_len - offset;
		size_t n = avail < size - copied ? avail : size - copied;

		/* The data must stay readable: decrypt where it lies. */
		rxs_sec_open_in_place(call, p);
		memcpy(buf + copied, p->buf + p->data_off + offset, n);
		copied += n;
		offset = 0;
	}
	if (flags)
		*flags = rx_at_end(call) ? RXSVC_RECV_END : RXSVC_RECV_MORE;
	if (!copied && !rx_at_end(call)) {
		int ret = rxs_call_error_ret(call, NULL);

		return ret < 0 ? ret : -EAGAIN;
	}
	return (int)copied;
}

RXSVC_API bool rxsvc_call_rx_complete(struct rxsvc_call *call,
				      uint64_t *bytes)
{
	uint32_t last, top, consumed;
	uint64_t n = 0;

	if (bytes)
		*bytes = 0;
	if (!call)
		return false;
	last = atomic_load_explicit(&call->rx_last, memory_order_acquire);
	top = atomic_load_explicit(&call->rx.top, memory_order_acquire);
	consumed = atomic_load_explicit(&call->rx.consumed,
					memory_order_relaxed);
	if (!last || top != last)
		return false;
	for (uint32_t s = consumed + 1; s != last + 1; s++)
		n += call->rx.slot[s & call->rx.mask]->data_len;
	if (consumed != last)
		n -= call->rx.offset;
	if (bytes)
		*bytes = n;
	return true;
}

RXSVC_API int rxsvc_call_recv(struct rxsvc_call *call, void *buf, size_t size,
			      unsigned int *flags, int32_t *abort_code)
{
	unsigned int in = flags ? *flags : 0;
	bool advanced = false;
	size_t copied = 0;
	int ret;

	if (!call || (!buf && size) || call->user_ended)
		return -EINVAL;
	if (size > INT32_MAX)
		size = INT32_MAX;
	if (abort_code)
		*abort_code = 0;
	if (call->sock->interceptor)
		return -EINVAL; /* the interceptor owns the ring */
	if (in & RXSVC_RECV_PEEK)
		return recv_peek(call, buf, size, flags);
	for (;;) {
		copied += recv_copy(call, (uint8_t *)buf + copied,
				    size - copied, &advanced);
		if (rx_at_end(call)) {
			if (flags)
				*flags = RXSVC_RECV_END;
			break;
		}
		if (copied == size ||
		    (copied && !(in & RXSVC_RECV_WAITALL))) {
			if (flags)
				*flags = RXSVC_RECV_MORE;
			break;
		}
		ret = rxs_call_error_ret(call, abort_code);
		if (ret < 0 && !rxs_rxring_peek(&call->rx)) {
			if (copied) {
				if (flags)
					*flags = RXSVC_RECV_MORE;
				break;
			}
			return ret;
		}
		if (in & RXSVC_RECV_NONBLOCK) {
			if (copied) {
				if (flags)
					*flags = RXSVC_RECV_MORE;
				break;
			}
			if (advanced)
				rxs_call_poke(call, RXS_EV_RX_CONSUMED);
			return -EAGAIN;
		}
		if (advanced) {
			/* Let the I/O thread open the window before we sleep. */
			rxs_call_poke(call, RXS_EV_RX_CONSUMED);
			advanced = false;
		}
		recv_wait(call);
	}
	if (advanced)
		rxs_call_poke(call, RXS_EV_RX_CONSUMED);
	return (int)copied;
}

/* Interceptor style: release a DATA message's packet, in order. */
RXSVC_API void rxsvc_msg_data_consumed(struct rxsvc_call *call,
				       const struct rxsvc_msg *msg)
{
	struct rxs_rxpkt *p = rxs_rxring_peek(&call->rx);

	if (!p || p->seq != msg->seq)
		return;
	rxs_rxring_advance(&call->rx);
	rxs_call_poke(call, RXS_EV_RX_CONSUMED);
}
