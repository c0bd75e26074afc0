/* SPDX-License-Identifier: MIT */
/*
 * call_object.c - a call's life cycle: allocation, references,
 * completion and destruction.
 *
 * A call holds up to two references: the user's (from begin or accept
 * until rxsvc_call_end) and the engine's (while the call sits on a
 * connection channel or in the charge ring).  User threads never free a
 * call: rxsvc_call_end() pokes the I/O thread, which drops the user's
 * reference at a safe point.  Completion is published with a release
 * store of @completion after @abort_code and @error are written.
 */
#include <errno.h>
#include <string.h>

#include "rxsvc/internal.h"
#include <rxsvc/key.h>

int rxs_call_alloc(struct rxsvc_sock *sock, bool client,
		   struct rxsvc_call **callp)
{
	struct rxsvc_call *call;
	uint32_t n = rxs_ring_size(sock->rx_window);

	call = rxs_zalloc(sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->rx.slot = rxs_zalloc(n * sizeof(*call->rx.slot));
	call->tx.slot = rxs_zalloc(n * sizeof(*call->tx.slot));
	if (!call->rx.slot || !call->tx.slot) {
		rxs_free(call->rx.slot);
		rxs_free(call->tx.slot);
		rxs_free(call);
		return -ENOMEM;
	}
	call->rx.mask = n - 1;
	call->tx.mask = n - 1;
	call->rx_window = sock->rx_window;
	call->sock = sock;
	call->client = client;
	call->debug_id = atomic_fetch_add(&sock->next_debug_id, 1);
	call->cwnd = 4;
	call->ssthresh = RXS_MAX_ACKS; /* as high as the window: RFC 5681 */
	call->peer_rwind = 16;
	call->payload_max = RXS_TX_PAYLOAD;
	call->tx_total_len = -1;
	atomic_init(&call->ref, 1);
	atomic_init(&call->state, client ? RXSVC_CALL_CLIENT_AWAIT_CONN :
					   RXSVC_CALL_SERVER_PREALLOC);
	atomic_init(&call->completion, RXSVC_COMPLETE_NONE);
	pthread_mutex_init(&call->wait_lock, NULL);
	pthread_mutex_init(&call->notify_lock, NULL);
	pthread_cond_init(&call->wait_cv, NULL);
	*callp = call;
	return 0;
}

void rxs_call_get(struct rxsvc_call *call)
{
	atomic_fetch_add_explicit(&call->ref, 1, memory_order_relaxed);
}

/* Free every packet still held.  - I/O thread (or a stopped endpoint). */
static void call_destroy(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_txpkt *head = NULL, *tail = NULL;

	RXS_ASSERT(call->heap_idx == 0);
	for (uint32_t i = 0; i <= call->rx.mask; i++) {
		rxs_rxpkt_free(&sock->rxpool, call->rx.slot[i]);
		call->rx.slot[i] = NULL;
	}
	for (uint32_t i = 0; i <= call->tx.mask; i++) {
		struct rxs_txpkt *p = call->tx.slot[i];

		if (!p)
			continue;
		p->next = head;
		head = p;
		if (!tail)
			tail = p;
	}
	if (call->tx_cur) {
		call->tx_cur->next = head;
		head = call->tx_cur;
		if (!tail)
			tail = head;
	}
	rxs_txpkt_free_list(&sock->txpool, head, tail);
	if (call->key)
		rxsvc_key_put(call->key);
	rxs_sec_call_free(call);
	pthread_mutex_destroy(&call->wait_lock);
	pthread_mutex_destroy(&call->notify_lock);
	pthread_cond_destroy(&call->wait_cv);
	rxs_free(call->rx.slot);
	rxs_free(call->tx.slot);
	rxs_free(call);
}

void rxs_call_put(struct rxsvc_call *call)
{
	/* acq_rel, not release + fence: the same order, and visible to
	 * ThreadSanitizer, which does not model fences. */
	int n = atomic_fetch_sub_explicit(&call->ref, 1, memory_order_acq_rel);

	RXS_ASSERT(n > 0);
	if (n == 1)
		call_destroy(call);
}

/* Drop a reference without holding io_lock: the last one is dropped
 * under it (freeing returns packets to the I/O thread's pools). */
void rxs_call_put_unlocked(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	int n = atomic_fetch_sub_explicit(&call->ref, 1, memory_order_acq_rel);

	RXS_ASSERT(n > 0);
	if (n == 1) {
		pthread_mutex_lock(&sock->io_lock);
		call_destroy(call);
		pthread_mutex_unlock(&sock->io_lock);
	}
}

void rxs_call_set_state(struct rxsvc_call *call, enum rxsvc_call_state st)
{
	atomic_store_explicit(&call->state, st, memory_order_release);
}

void rxs_call_wake_now(struct rxsvc_call *call)
{
	pthread_mutex_lock(&call->wait_lock);
	pthread_cond_broadcast(&call->wait_cv);
	pthread_mutex_unlock(&call->wait_lock);
}

/*
 * Wake user threads blocked in send, recv or wait on this call.  While
 * the engine's work is in hand the wakeup waits until io_lock is let go
 * (io_thread.c): a thread woken at once would, on a busy CPU, preempt
 * us, find io_lock held and sleep again.
 */
void rxs_call_wake(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;

	/* Pairs with the seq_cst increment of waiters in the waiter: either
	 * it sees our state change, or we see it waiting. */
	atomic_thread_fence(memory_order_seq_cst);
	if (!atomic_load(&call->waiters))
		return;
	if (!rxs_io_held(sock)) {
		rxs_call_wake_now(call);
		return;
	}
	if (call->wake_queued)
		return;
	call->wake_queued = true;
	rxs_call_get(call);
	call->wake_next = sock->wake_head;
	sock->wake_head = call;
}

/* Tell the user something happened: notify_rx callback and wakeup. */
void rxs_call_notify(struct rxsvc_call *call)
{
	if (call->notify_rx) {
		pthread_mutex_lock(&call->notify_lock);
		if (!call->user_ended) {
			/* The callback may end the call (rxsvc_call_end knows
			 * it holds notify_lock through us). */
			rxs_set_notifying(call);
			call->notify_rx(call->sock, call, call->user_call_id);
			rxs_set_notifying(NULL);
		}
		pthread_mutex_unlock(&call->notify_lock);
	}
	rxs_call_wake(call);
}

/* Put every completed rx packet up to @seq back in the pool.  - I/O. */
void rxs_call_free_rx_upto(struct rxsvc_call *call, uint32_t seq)
{
	struct rxsvc_sock *sock = call->sock;

	while (rxs_seq_before(call->rx_freed, seq)) {
		uint32_t s = call->rx_freed + 1;
		struct rxs_rxpkt **slot = &call->rx.slot[s & call->rx.mask];

		if (*slot && (*slot)->seq == s) {
			rxs_rxpkt_free(&sock->rxpool, *slot);
			*slot = NULL;
		}
		call->rx_freed = s;
	}
}

static void call_interceptor_terminal(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxsvc_msg msg = { 0 };
	enum rxsvc_completion how = atomic_load(&call->completion);

	switch (how) {
	case RXSVC_COMPLETE_NONE:
		return;
	case RXSVC_COMPLETE_SUCCEEDED:
		if (call->client)
			return; /* the DATA marks told everything */
		msg.mark = RXSVC_MARK_FINAL_ACK;
		break;
	case RXSVC_COMPLETE_BUSY:
		msg.mark = RXSVC_MARK_BUSY;
		break;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		msg.mark = RXSVC_MARK_REMOTE_ABORT;
		break;
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		msg.mark = RXSVC_MARK_LOCAL_ABORT;
		break;
	case RXSVC_COMPLETE_NET_ERROR:
		msg.mark = RXSVC_MARK_NET_ERROR;
		break;
	case RXSVC_COMPLETE_LOCAL_ERROR:
		msg.mark = RXSVC_MARK_LOCAL_ERROR;
		break;
	}
	msg.abort_code = call->abort_code;
	msg.error = call->error;
	msg.user_call_id = call->user_call_id;
	sock->interceptor(sock, call, &msg, sock->interceptor_arg);
}

/*
 * Complete a call: record how, detach it from its connection, stop its
 * timers, free its transmit packets and tell the user.  Returns false if
 * it was already complete.  - Called on the I/O thread.
 */
bool rxs_call_complete(struct rxsvc_call *call, enum rxsvc_completion how,
		       int32_t abort_code, int error)
{
	struct rxsvc_sock *sock = call->sock;

	if (call->completed_io)
		return false;
	call->completed_io = true;
	call->abort_code = abort_code;
	call->error = error;
	/* Pairs with the acquire loads in recv/send/queries. */
	atomic_store_explicit(&call->completion, how, memory_order_release);
	rxs_call_set_state(call, RXSVC_CALL_COMPLETE);

	switch (how) {
	case RXSVC_COMPLETE_NONE:
		break;
	case RXSVC_COMPLETE_SUCCEEDED:
		RXS_STAT_INC(sock, calls_succeeded);
		break;
	case RXSVC_COMPLETE_BUSY:
		RXS_STAT_INC(sock, calls_busy);
		break;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		RXS_STAT_INC(sock, calls_remote_abort);
		break;
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		RXS_STAT_INC(sock, calls_local_abort);
		break;
	case RXSVC_COMPLETE_NET_ERROR:
		RXS_STAT_INC(sock, calls_net_error);
		break;
	case RXSVC_COMPLETE_LOCAL_ERROR:
		RXS_STAT_INC(sock, calls_local_error);
		break;
	}
	call->timer_at = 0;
	rxs_heap_remove(&sock->timers, call);
	if (!call->client && call->conn) {
		sock->active_service_calls--;
		call->conn->peer->service_calls--;
	}
	rxs_conn_detach_call(sock, call);
	rxs_observe(sock, RXSVC_EV_CALL_COMPLETE, call, NULL);
	if (sock->interceptor && !call->user_ended)
		call_interceptor_terminal(call);
	rxs_call_notify(call);
	if (call->user_ended)
		rxs_call_release_later(call);
	return true;
}

/* Link a call onto the endpoint's list of calls.  - I/O thread. */
void rxs_call_link(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	call->all_prev = NULL;
	call->all_next = sock->calls;
	if (sock->calls)
		sock->calls->all_prev = call;
	sock->calls = call;
}

static void call_unlink(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	if (call->all_prev)
		call->all_prev->all_next = call->all_next;
	else if (sock->calls == call)
		sock->calls = call->all_next;
	if (call->all_next)
		call->all_next->all_prev = call->all_prev;
	call->all_next = call->all_prev = NULL;
}

/*
 * Drop the engine's reference once the call is complete and the user is
 * done with it.  - I/O thread.
 */
void rxs_call_engine_release(struct rxsvc_call *call)
{
	if (!call->engine_ref)
		return;
	call->engine_ref = false;
	call_unlink(call->sock, call);
	rxs_call_put(call);
}

static unsigned int id_bucket(unsigned long id)
{
	return (unsigned int)((id * 0x9E3779B97F4A7C15ull) >> 54) &
	       (RXS_ID_HASH - 1);
}

/* Register a client call's user ID; -EEXIST if a live call has it. */
int rxs_id_insert(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	unsigned int b = id_bucket(call->user_call_id);
	struct rxsvc_call *c;

	pthread_mutex_lock(&sock->id_lock);
	for (c = sock->id_hash[b]; c; c = c->id_next) {
		if (c->user_call_id == call->user_call_id) {
			pthread_mutex_unlock(&sock->id_lock);
			return -EEXIST;
		}
	}
	call->id_next = sock->id_hash[b];
	sock->id_hash[b] = call;
	pthread_mutex_unlock(&sock->id_lock);
	return 0;
}

void rxs_id_remove(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	unsigned int b = id_bucket(call->user_call_id);
	struct rxsvc_call **pp;

	pthread_mutex_lock(&sock->id_lock);
	for (pp = &sock->id_hash[b]; *pp; pp = &(*pp)->id_next) {
		if (*pp == call) {
			*pp = call->id_next;
			break;
		}
	}
	pthread_mutex_unlock(&sock->id_lock);
}

/*
 * Queue a complete call whose user has ended it for the engine's last
 * put; drained at the end of each loop callback so that no caller up the
 * stack still holds a pointer to it.  - I/O thread.
 */
void rxs_call_release_later(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;

	if (call->on_release || !call->engine_ref)
		return;
	call->on_release = true;
	call->release_next = sock->release_head;
	sock->release_head = call;
}

void rxs_release_drain(struct rxsvc_sock *sock)
{
	while (sock->release_head) {
		struct rxsvc_call *call = sock->release_head;

		sock->release_head = call->release_next;
		call->on_release = false;
		rxs_call_engine_release(call);
	}
}
