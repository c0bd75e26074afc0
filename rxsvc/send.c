/* SPDX-License-Identifier: MIT */
/*
 * send.c - the user's side of the transmit ring (the kernel's
 * rxrpc_kernel_send_data): cut the byte stream into packets of the size
 * the security class allows, queue them, and poke the I/O thread.  The
 * last send without RXSVC_SEND_MORE queues the packet that carries
 * LAST_PACKET (an empty one if need be, rx-protocol.md §3.1).
 */
#include <errno.h>
#include <string.h>

#include "rxsvc/internal.h"

int rxs_call_error_ret(struct rxsvc_call *call, int32_t *abort_code);

/* Is it this side's turn to send? */
static int send_phase_ok(struct rxsvc_call *call)
{
	enum rxsvc_call_state st = rxsvc_call_state(call);

	if (call->tx_ended)
		return -EPROTO;
	if (call->client)
		return st == RXSVC_CALL_CLIENT_AWAIT_CONN ||
			       st == RXSVC_CALL_CLIENT_SEND_REQUEST ?
		       0 :
		       -EPROTO;
	/* A reply may start once the whole request has arrived. */
	if (st == RXSVC_CALL_SERVER_ACK_REQUEST ||
	    st == RXSVC_CALL_SERVER_SEND_REPLY)
		return 0;
	if (st == RXSVC_CALL_SERVER_RECV_REQUEST) {
		uint32_t last = atomic_load(&call->rx_last);

		if (last && atomic_load(&call->rx.top) == last)
			return 0;
	}
	return -EPROTO;
}

/* Wait for room in the transmit ring; 0, -EAGAIN or the call's error. */
static int send_wait_room(struct rxsvc_call *call, bool nonblock)
{
	int ret = 0;

	if (rxs_txring_room(&call->tx))
		return 0;
	if (nonblock)
		return -EAGAIN;
	pthread_mutex_lock(&call->wait_lock);
	atomic_fetch_add(&call->waiters, 1); /* seq_cst: see rxs_call_wake */
	while (!rxs_txring_room(&call->tx) &&
	       rxsvc_call_completion(call) == RXSVC_COMPLETE_NONE)
		pthread_cond_wait(&call->wait_cv, &call->wait_lock);
	atomic_fetch_sub(&call->waiters, 1);
	pthread_mutex_unlock(&call->wait_lock);
	if (!rxs_txring_room(&call->tx))
		ret = rxs_call_error_ret(call, NULL);
	return ret ? ret : 0;
}

RXSVC_API int rxsvc_call_send(struct rxsvc_call *call, const struct iovec *iov,
			      int iovcnt, size_t len, unsigned int flags)
{
	bool more = flags & RXSVC_SEND_MORE;
	bool nonblock = flags & RXSVC_SEND_NONBLOCK;
	struct rxs_txpkt *hold = NULL; /* full, waiting to be sealed in pair */
	bool pairs;
	size_t taken = 0, total = 0;
	int i = 0, ret, queued = 0;
	size_t ioff = 0;

	if (!call || call->user_ended || (iovcnt && !iov) || iovcnt < 0)
		return -EINVAL;
	for (int k = 0; k < iovcnt; k++)
		total += iov[k].iov_len;
	if (len > total || len > INT32_MAX)
		return -EINVAL;
	ret = rxs_call_error_ret(call, NULL);
	if (ret < 0)
		return ret;
	ret = send_phase_ok(call);
	if (ret < 0)
		return ret;
	if (call->tx_total_len >= 0 &&
	    call->tx_sent_bytes + len > (uint64_t)call->tx_total_len)
		return -EMSGSIZE;
	if (!call->client)
		call->reply_begun = true;
	pairs = !nonblock && rxs_sec_pairs(call);

	while (taken < len || (!more && !call->tx_ended)) {
		struct rxs_txpkt *p = call->tx_cur;
		size_t here = 0; /* bytes of this call put in p */
		bool full;

		if (!p) {
			p = rxs_txpkt_alloc(&call->sock->txpool);
			if (!p) {
				ret = -ENOBUFS;
				break;
			}
			call->tx_cur = p;
		}
		while (taken < len && p->data_len < call->payload_max) {
			size_t room = call->payload_max - p->data_len;
			size_t n = iov[i].iov_len - ioff;

			if (n > room)
				n = room;
			if (n > len - taken)
				n = len - taken;
			memcpy(p->buf + RXS_HEADER_SIZE + call->sec_hdr +
				       p->data_len,
			       (const uint8_t *)iov[i].iov_base + ioff, n);
			p->data_len += (uint16_t)n;
			taken += n;
			here += n;
			ioff += n;
			if (ioff == iov[i].iov_len) {
				i++;
				ioff = 0;
			}
		}
		full = p->data_len == call->payload_max;
		/* Hold a partly filled packet while more data is coming;
		 * a full one goes only when we know whether it is last. */
		if (more && taken == len)
			break;
		if (full && taken == len && more)
			break;
		if (!full && taken < len)
			continue;
		if (full && taken < len)
			; /* more bytes follow in this call: not the last */
		else if (!more)
			p->flags |= RXS_LAST_PACKET;
		/*
		 * At crypt a full packet with more to follow waits for the
		 * next one, and the two are sealed at once: their PCBC chains
		 * run side by side (nearly twice the cipher throughput).
		 * Blocking sends only, so that a short count stays simple.
		 */
		if (!hold && pairs && !(p->flags & RXS_LAST_PACKET) &&
		    taken < len) {
			call->tx_cur = NULL;
			hold = p;
			continue;
		}
		if (hold) {
			ret = send_wait_room(call, nonblock);
			if (ret < 0) {
				/* The call failed: p's bytes go back; the held
				 * packet becomes the one being filled. */
				p->next = NULL;
				rxs_txpkt_free_list(&call->sock->txpool, p, p);
				call->tx_cur = hold;
				hold = NULL;
				taken -= here;
				break;
			}
			hold->seq = atomic_load_explicit(&call->tx.prepared,
							 memory_order_relaxed) +
				    1;
			p->seq = hold->seq + 1;
			rxs_sec_seal_user2(call, hold, p);
			rxs_txring_push(&call->tx, hold);
			hold = NULL;
			queued++;
		}
		ret = send_wait_room(call, nonblock);
		if (ret < 0) {
			/* Give back what this call put in the packet that
			 * could not be queued: the caller sees a short count
			 * and sends the rest again. */
			p->flags &= (uint8_t)~RXS_LAST_PACKET;
			p->data_len -= (uint16_t)here;
			taken -= here;
			break;
		}
		call->tx_cur = NULL;
		/* Seal here, beside the I/O thread, once the call is keyed
		 * (it will be seq prepared + 1; only we move prepared). */
		if (!p->sealed) {
			p->seq = atomic_load_explicit(&call->tx.prepared,
						      memory_order_relaxed) +
				 1;
			rxs_sec_seal_user(call, p);
		}
		rxs_txring_push(&call->tx, p);
		if (p->flags & RXS_LAST_PACKET)
			call->tx_ended = true;
		if (++queued % 16 == 0)
			rxs_call_poke(call, RXS_EV_TX_QUEUED);
	}
	if (hold) {
		/* The loop ended with a packet held for pairing: it goes
		 * alone (the partial one after it stays in tx_cur). */
		ret = send_wait_room(call, nonblock);
		if (ret < 0) {
			/* Failed call: nothing more will be sent anyway. */
			hold->next = NULL;
			rxs_txpkt_free_list(&call->sock->txpool, hold, hold);
			taken = 0;
		} else {
			hold->seq = atomic_load_explicit(&call->tx.prepared,
							 memory_order_relaxed) +
				    1;
			rxs_sec_seal_user(call, hold);
			rxs_txring_push(&call->tx, hold);
			queued++;
		}
	}
	call->tx_sent_bytes += taken;
	if (queued)
		rxs_call_poke(call, RXS_EV_TX_QUEUED);
	if (ret < 0 && taken == 0)
		return ret;
	return (int)taken;
}
