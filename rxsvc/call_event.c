/* SPDX-License-Identifier: MIT */
/*
 * call_event.c - a call's timers and the requests user threads poke it
 * with.  Timers (delayed ACK, retransmission, keepalive PING, dead, idle,
 * hard deadline) are plain deadlines in the call; the earliest one keys
 * the call in the endpoint's heap (timer.c).  - I/O thread.
 */
#include <errno.h>

#include "rxsvc/internal.h"

static uint64_t min_nz(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

void rxs_call_timers_update(struct rxsvc_call *call)
{
	uint64_t t = 0;

	if (!call->completed_io) {
		t = min_nz(call->t_ack, call->t_resend);
		t = min_nz(t, call->t_ping);
		t = min_nz(t, call->t_expect_rx);
		t = min_nz(t, call->t_idle);
		t = min_nz(t, call->t_hard);
	}
	if (t == call->timer_at && (t == 0 || call->heap_idx))
		return;
	call->timer_at = t;
	rxs_heap_update(&call->sock->timers, call);
}

static void call_local_abort(struct rxsvc_call *call, int32_t code, int error)
{
	rxs_send_abort_call(call, code);
	rxs_call_complete(call, RXSVC_COMPLETE_LOCALLY_ABORTED, code, error);
}

static bool tx_unacked(struct rxsvc_call *call)
{
	uint32_t hard = atomic_load(&call->tx.hard_ack);

	for (uint32_t s = hard + 1; !rxs_seq_after(s, call->tx_top_sent); s++) {
		struct rxs_txpkt *p = call->tx.slot[s & call->tx.mask];

		if (p && !p->acked)
			return true;
	}
	return false;
}

/*
 * Tail-loss probe: resend the highest unacknowledged packet, asking for
 * an ACK, without touching the window; the ACK it draws lets the NACK
 * path repair anything else.  The RTO follows if that fails too.
 */
static void tlp_probe(struct rxsvc_call *call)
{
	struct rxs_peer *peer = call->conn->peer;
	uint32_t hard = atomic_load(&call->tx.hard_ack);
	uint64_t now = rxs_now();

	call->tlp_pending = false;
	for (uint32_t s = call->tx_top_sent; rxs_seq_after(s, hard); s--) {
		struct rxs_txpkt *p = call->tx.slot[s & call->tx.mask];

		if (p && !p->acked) {
			p->lost = 1;
			rxs_call_resend(call, false);
			break;
		}
	}
	if (!tx_unacked(call) && call->tx_top_sent != hard)
		rxs_send_ack(call, RXS_ACK_PING, 0, true);
	RXS_STAT_INC(call->sock, tail_probes);
	call->t_resend = now + rxs_rtt_rto(peer);
}

/* Retransmission timeout: back off, collapse the window, resend. */
static void call_resend_timeout(struct rxsvc_call *call)
{
	struct rxs_peer *peer = call->conn->peer;

	if (call->tlp_pending) {
		tlp_probe(call);
		return;
	}
	if (!tx_unacked(call)) {
		/* All soft-ACKed, none hard-ACKed for an RTO: the peer's
		 * window update may be lost, so ask for an ACK. */
		if (call->tx_top_sent != atomic_load(&call->tx.hard_ack)) {
			rxs_send_ack(call, RXS_ACK_PING, 0, true);
			call->t_resend = rxs_now() + rxs_rtt_rto(peer);
		} else {
			call->t_resend = 0;
		}
		return;
	}
	RXS_STAT_INC(call->sock, resend_timeouts);
	peer->rto_us = rxs_rtt_backoff(peer->rto_us);
	call->ssthresh = call->cwnd / 2 < 2 ? 2 : call->cwnd / 2;
	call->cwnd = 1;
	call->cwnd_acc = 0;
	call->recovery_point = call->tx_top_sent;
	peer->jumbo_max = 1;
	rxs_call_resend(call, true);
}

/* Run whatever timers of @call have expired at @now. */
void rxs_call_run_timers(struct rxsvc_call *call, uint64_t now)
{
	struct rxsvc_sock *sock = call->sock;

	if (call->completed_io) {
		rxs_call_timers_update(call);
		return;
	}
	if (call->t_hard && now >= call->t_hard) {
		RXS_STAT_INC(sock, calls_hard_timeout);
		call_local_abort(call, RX_CALL_TIMEOUT, -ETIME);
		return;
	}
	if (call->t_expect_rx && now >= call->t_expect_rx) {
		/* The peer is gone: no ABORT to a peer that cannot hear. */
		RXS_STAT_INC(sock, calls_dead);
		rxs_call_complete(call, RXSVC_COMPLETE_NET_ERROR, RX_CALL_DEAD,
				  -ETIMEDOUT);
		return;
	}
	if (call->t_idle && now >= call->t_idle) {
		RXS_STAT_INC(sock, calls_idle);
		call_local_abort(call, RX_CALL_TIMEOUT, -ETIME);
		return;
	}
	if (call->t_ack && now >= call->t_ack)
		rxs_send_ack(call, call->ack_reason ? call->ack_reason :
						      RXS_ACK_DELAY,
			     call->ack_serial, false);
	if (call->t_resend && now >= call->t_resend)
		call_resend_timeout(call);
	if (call->t_ping && now >= call->t_ping) {
		uint64_t period = sock->dead_time_us / 3;

		/* Keep the peer from declaring us dead on a quiet call
		 * (OpenAFS drops a call silent for 12-16 s, §7.1). */
		if (call->conn && now - call->last_tx >= period)
			rxs_send_ack(call, RXS_ACK_PING, 0, true);
		call->t_ping = now + period;
	}
	rxs_call_timers_update(call);
}

/* A client call got its connection: start it.  */
static void call_connect(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	uint64_t now = rxs_now();
	int ret;

	rxs_call_link(sock, call);
	ret = rxs_conn_connect_call(sock, call);
	if (ret < 0) {
		rxs_call_complete(call, RXSVC_COMPLETE_LOCAL_ERROR, 0, ret);
		return;
	}
	call->cwnd = call->conn->peer->cwnd_hint;
	call->peer_rwind = 16;
	rxs_sec_call_connected(call);
	rxs_call_set_state(call, RXSVC_CALL_CLIENT_SEND_REQUEST);
	if (sock->dead_time_us) {
		call->t_expect_rx = now + sock->dead_time_us;
		call->t_ping = now + sock->dead_time_us / 3;
	}
	if (call->t_hard == 0 && sock->hard_time_us)
		call->t_hard = now + sock->hard_time_us;
	RXS_STAT_INC(sock, calls_client);
	rxs_observe(sock, RXSVC_EV_CALL_BEGUN, call, NULL);
}

/* The user consumed data: free it, ACK, maybe complete a client call. */
static void call_rx_consumed(struct rxsvc_call *call)
{
	uint32_t consumed = atomic_load_explicit(&call->rx.consumed,
						 memory_order_acquire);
	uint32_t last = atomic_load(&call->rx_last);

	rxs_call_free_rx_upto(call, consumed);
	if (call->completed_io)
		return;
	if (call->client && last && consumed == last) {
		/* The whole reply is consumed: the final ACK hard-ACKs it
		 * (§4.9: OpenAFS and Linux servers wait for it), unless the
		 * channel's next call comes first and does it. */
		struct rxs_conn *conn = call->conn;
		unsigned int ch = call->channel;

		rxs_call_complete(call, RXSVC_COMPLETE_SUCCEEDED, 0, 0);
		if (conn)
			rxs_conn_final_ack_later(call->sock, conn, ch);
		return;
	}
	/* Tell the sender about the room it has again. */
	if (consumed - call->rx_acked_consumed >= 4)
		rxs_send_ack(call, RXS_ACK_DELAY, 0, false);
	else if (consumed != call->rx_acked_consumed && !call->t_ack) {
		call->ack_reason = RXS_ACK_DELAY;
		call->t_ack = rxs_now() + 1000;
	}
}

static void call_tx_queued(struct rxsvc_call *call)
{
	enum rxsvc_call_state st = atomic_load(&call->state);
	uint32_t prepared = atomic_load_explicit(&call->tx.prepared,
						 memory_order_acquire);
	struct rxs_txpkt *p;

	if (call->completed_io)
		return;
	if (!call->client && st == RXSVC_CALL_SERVER_ACK_REQUEST) {
		rxs_call_set_state(call, RXSVC_CALL_SERVER_SEND_REPLY);
		st = RXSVC_CALL_SERVER_SEND_REPLY;
	}
	if (!call->client && st == RXSVC_CALL_SERVER_SEND_REPLY && prepared) {
		p = call->tx.slot[prepared & call->tx.mask];
		if (p && (p->flags & RXS_LAST_PACKET)) {
			rxs_call_set_state(call, RXSVC_CALL_SERVER_AWAIT_ACK);
			call->t_idle = 0;
		}
	}
	rxs_call_transmit(call);
}

/*
 * Act on what user threads asked for (the bits of RXS_EV_*).  The
 * attend queue's reference is dropped by the caller.
 */
void rxs_call_handle_pokes(struct rxsvc_call *call, unsigned int ev)
{
	struct rxsvc_sock *sock = call->sock;

	if (ev & RXS_EV_NEW_CALL)
		call_connect(call);
	if ((ev & RXS_EV_ABORT) && !call->completed_io)
		call_local_abort(call, call->user_abort_code,
				 call->user_abort_error);
	if (ev & RXS_EV_TX_QUEUED)
		call_tx_queued(call);
	if (ev & RXS_EV_RX_CONSUMED)
		call_rx_consumed(call);
	if (ev & RXS_EV_END) {
		if (!call->completed_io) {
			enum rxsvc_call_state st = atomic_load(&call->state);

			/* A reply fully queued finishes on its own; anything
			 * else is abandoned: tell the peer. */
			if (st != RXSVC_CALL_SERVER_AWAIT_ACK)
				call_local_abort(call, RX_USER_ABORT,
						 -ECONNRESET);
		}
		rxs_id_remove(sock, call);
		if (call->completed_io)
			rxs_call_release_later(call);
		rxs_call_put(call); /* the user's reference */
		return;
	}
	if (!call->completed_io)
		rxs_call_timers_update(call);
}
