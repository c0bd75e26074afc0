/* SPDX-License-Identifier: MIT */
/*
 * input.c - the receive path ("data_ready"): decode a datagram's header,
 * find its connection and call, and act on it.  DATA is split (jumbo),
 * checked and filed in the call's receive ring; ACK, ABORT, BUSY and
 * ACKALL are acted on at once and their buffers recycled.  A new service
 * call takes a charged preallocation; when none is left the peer gets
 * BUSY and we keep no state (design.md, "Decisions").
 *
 * Every refusal has a reason and a counter; nothing a peer sends can make
 * this code allocate without bound or crash.  - All on the I/O thread.
 */
#include <errno.h>
#include <string.h>

#include "rxsvc/internal.h"
#include "security/rxkad.h"

static void bad(struct rxsvc_sock *sock, enum rxs_badmsg why)
{
	static const enum rxs_stat map[] = {
		[rxs_badmsg_short_hdr] = RXS_STAT_bad_short_hdr,
		[rxs_badmsg_bad_type] = RXS_STAT_bad_bad_type,
		[rxs_badmsg_zero_seq] = RXS_STAT_bad_zero_seq,
		[rxs_badmsg_zero_call] = RXS_STAT_bad_zero_call,
		[rxs_badmsg_short_ack] = RXS_STAT_bad_short_ack,
		[rxs_badmsg_short_abort] = RXS_STAT_bad_short_abort,
		[rxs_badmsg_bad_jumbo] = RXS_STAT_bad_bad_jumbo,
		[rxs_badmsg_too_big] = RXS_STAT_bad_too_big,
		[rxs_badmsg_bad_ack] = RXS_STAT_bad_bad_ack,
		[rxs_badmsg_bad_channel] = RXS_STAT_bad_bad_channel,
		[rxs_badmsg_bad_security] = RXS_STAT_bad_bad_security,
	};
	enum rxs_stat s = map[why];

	__atomic_store_n(&sock->stats[s],
			 __atomic_load_n(&sock->stats[s], __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELAXED);
	RXS_STAT_INC(sock, bad_packets);
}

/*
 * Answer a packet with a connection-less reply: its header with the
 * CLIENT_INITIATED bit inverted, serial 0, everything else echoed.
 */
static void reply_raw(struct rxsvc_sock *sock, const struct rxs_rxpkt *pkt,
		      const struct rxs_hdr *in, uint8_t type, int32_t code)
{
	struct rxs_hdr h = *in;
	uint8_t body[4];

	h.type = type;
	h.flags = (in->flags & RXS_CLIENT_INITIATED) ^ RXS_CLIENT_INITIATED;
	h.seq = 0;
	h.serial = 0;
	h.cksum = 0;
	h.user_status = 0;
	rxs_put_be32(body, (uint32_t)code);
	rxs_send_raw(sock, &pkt->from, &h, body,
		     type == RXS_PKT_ABORT ? 4 : 0);
}

/*
 * A PING for a call we keep no state for (typically one we answered with
 * BUSY): answer it with a PING_RESPONSE that acknowledges nothing.  Linux
 * resends the call's DATA at once on it and resets its backoff; dropping
 * it left Linux pinging until its call timed out.  Rate-limited with the
 * BUSYs.
 */
static bool ping_stateless(struct rxsvc_sock *sock, const struct rxs_rxpkt *pkt,
			   const struct rxs_hdr *hdr)
{
	struct rxs_peer *peer;
	struct rxs_ack ack = { 0 };
	struct rxs_hdr h = *hdr;
	uint8_t body[64];
	size_t blen;
	uint64_t now = rxs_now();

	if (hdr->type != RXS_PKT_ACK || !(hdr->flags & RXS_REQUEST_ACK))
		return false;
	peer = rxs_peer_lookup(sock, &pkt->from, false);
	if (peer) {
		if (now - peer->busy_window_start >= 1000000u) {
			peer->busy_window_start = now;
			peer->busy_sent = 0;
		}
		if (peer->busy_sent >= sock->busy_per_sec)
			return false;
		peer->busy_sent++;
	}
	ack.first_packet = 1;
	ack.serial = hdr->serial;
	ack.reason = RXS_ACK_PING_RESPONSE;
	ack.max_mtu = 5692;
	ack.if_mtu = 1444;
	ack.rwind = sock->rx_window;
	ack.jumbo_max = 4;
	blen = rxs_ack_encode(body, sizeof(body), &ack, NULL);
	h.seq = 0;
	h.serial = 0;
	h.cksum = 0;
	h.user_status = 0;
	h.flags = RXS_SLOW_START_OK;
	rxs_send_raw(sock, &pkt->from, &h, body, blen);
	RXS_STAT_INC(sock, ping_responses_out);
	return true;
}

/* BUSY for a new call we cannot take, rate-limited per peer. */
static void send_busy(struct rxsvc_sock *sock, const struct rxs_rxpkt *pkt,
		      const struct rxs_hdr *hdr)
{
	struct rxs_peer *peer = rxs_peer_lookup(sock, &pkt->from, true);
	uint64_t now = rxs_now();

	RXS_STAT_INC(sock, calls_busy_refused);
	if (peer) {
		if (now - peer->busy_window_start >= 1000000u) {
			peer->busy_window_start = now;
			peer->busy_sent = 0;
		}
		if (peer->busy_sent >= sock->busy_per_sec) {
			RXS_STAT_INC(sock, busy_ratelimited);
			return;
		}
		peer->busy_sent++;
	}
	reply_raw(sock, pkt, hdr, RXS_PKT_BUSY, 0);
	rxs_observe(sock, RXSVC_EV_BUSY_SENT, NULL, &pkt->from);
}

/* ---------------------------------------------------------------- */
/* DATA                                                              */
/* ---------------------------------------------------------------- */

struct data_verdict {
	uint8_t imm_reason;  /* DUPLICATE / OUT_OF_SEQUENCE / EXCEEDS_WINDOW */
	uint32_t imm_serial;
	bool requested;
	uint32_t last_serial;
	unsigned int queued;
	bool protocol_error;
};

static void data_file_one(struct rxsvc_call *call, struct rxs_rxpkt *sp,
			  struct data_verdict *v)
{
	struct rxsvc_sock *sock = call->sock;
	uint32_t last = atomic_load_explicit(&call->rx_last,
					     memory_order_relaxed);

	v->last_serial = sp->serial;
	if (sp->flags & RXS_REQUEST_ACK)
		v->requested = true;
	if (last && rxs_seq_after(sp->seq, last)) {
		RXS_STAT_INC(sock, data_after_last);
		rxs_rxpkt_free(&sock->rxpool, sp);
		return;
	}
	if (sp->flags & RXS_LAST_PACKET) {
		if ((last && last != sp->seq) ||
		    rxs_seq_before(sp->seq, call->rx_highest)) {
			/* A second end, or an end below what we hold. */
			v->protocol_error = true;
			rxs_rxpkt_free(&sock->rxpool, sp);
			return;
		}
		/* Published before top moves past it (release in put). */
		atomic_store_explicit(&call->rx_last, sp->seq,
				      memory_order_relaxed);
	}
	switch (rxs_rxring_put(&call->rx, sp, call->rx_window)) {
	case RXS_RX_QUEUED:
		RXS_STAT_INC(sock, data_in);
		v->queued++;
		if (rxs_seq_after(sp->seq, call->rx_highest)) {
			if (sp->seq != call->rx_highest + 1 && !v->imm_reason) {
				v->imm_reason = RXS_ACK_OUT_OF_SEQUENCE;
				v->imm_serial = sp->serial;
				RXS_STAT_INC(sock, data_oos);
			}
			call->rx_highest = sp->seq;
		}
		return;
	case RXS_RX_DUPLICATE:
		RXS_STAT_INC(sock, data_dup);
		if (!v->imm_reason) {
			v->imm_reason = RXS_ACK_DUPLICATE;
			v->imm_serial = sp->serial;
		}
		break;
	case RXS_RX_WINDOW:
		RXS_STAT_INC(sock, data_exceeds_window);
		v->imm_reason = RXS_ACK_EXCEEDS_WINDOW;
		v->imm_serial = sp->serial;
		/* Not filed: the end is not known after all. */
		atomic_store(&call->rx_last, last);
		break;
	}
	rxs_rxpkt_free(&sock->rxpool, sp);
}

/* Hand newly in-order packets to the interceptor, if there is one. */
static void data_intercept(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	uint32_t top = atomic_load(&call->rx.top);
	uint32_t last = atomic_load(&call->rx_last);

	if (!sock->interceptor || call->user_ended)
		return;
	if (call->interceptor_next == 0)
		call->interceptor_next = 1;
	while (!rxs_seq_after(call->interceptor_next, top)) {
		struct rxs_rxpkt *p =
			call->rx.slot[call->interceptor_next & call->rx.mask];
		struct rxsvc_msg msg = { 0 };

		msg.mark = RXSVC_MARK_DATA;
		msg.data = p->buf + p->data_off;
		msg.len = p->data_len;
		msg.seq = p->seq;
		msg.is_data_last = p->seq == last;
		msg.user_call_id = call->user_call_id;
		call->interceptor_next++;
		sock->interceptor(sock, call, &msg, sock->interceptor_arg);
	}
}

/*
 * The first reply DATA packet implicitly acknowledges the whole request
 * (rx-protocol.md §3.1): free the transmit ring.
 */
static bool client_reply_begins(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_txpkt *head = NULL, *tail = NULL;
	uint32_t hard = atomic_load(&call->tx.hard_ack);

	if (!call->tx_last || call->tx_top_sent != call->tx_last)
		return false; /* reply before we finished the request */
	if (rxs_output_pending(sock))
		rxs_output_flush(sock);
	for (uint32_t s = hard + 1; !rxs_seq_after(s, call->tx_last); s++) {
		struct rxs_txpkt **slot = &call->tx.slot[s & call->tx.mask];

		if (*slot) {
			(*slot)->next = head;
			head = *slot;
			if (!tail)
				tail = head;
			*slot = NULL;
		}
	}
	rxs_txpkt_free_list(&sock->txpool, head, tail);
	atomic_store_explicit(&call->tx.hard_ack, call->tx_last,
			      memory_order_release);
	call->t_resend = 0;
	rxs_call_set_state(call, RXSVC_CALL_CLIENT_RECV_REPLY);
	rxs_call_wake(call);
	return true;
}

/* Consumes @pkt. */
static void input_data(struct rxsvc_call *call, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	struct rxsvc_sock *sock = call->sock;
	struct data_verdict v = { 0 };
	struct rxs_rxpkt *subs[RXS_MAX_JUMBO];
	unsigned int nsub;
	struct rxs_jumbo_iter it;
	struct rxs_hdr sub;
	const uint8_t *data;
	size_t dlen;
	uint32_t top_before = atomic_load(&call->rx.top);
	enum rxsvc_call_state st = atomic_load(&call->state);
	int r;

	if (call->client) {
		if (st == RXSVC_CALL_CLIENT_SEND_REQUEST ||
		    st == RXSVC_CALL_CLIENT_AWAIT_REPLY) {
			if (!client_reply_begins(call)) {
				rxs_rxpkt_free(&sock->rxpool, pkt);
				rxs_send_abort_call(call, RX_PROTOCOL_ERROR);
				rxs_call_complete(call,
						  RXSVC_COMPLETE_LOCALLY_ABORTED,
						  RX_PROTOCOL_ERROR, -EPROTO);
				return;
			}
		} else if (st != RXSVC_CALL_CLIENT_RECV_REPLY) {
			rxs_rxpkt_free(&sock->rxpool, pkt);
			return;
		}
	}
	/* Slots the user has finished with may be reused by this packet. */
	rxs_call_free_rx_upto(call, atomic_load_explicit(
					    &call->rx.consumed,
					    memory_order_acquire));
	if (hdr->flags & RXS_JUMBO_PACKET)
		RXS_STAT_INC(sock, jumbo_in);
	/*
	 * Split first, file afterwards: sub-packets 1..n are copied out of
	 * the datagram before sub-packet 0 (which keeps the datagram's own
	 * buffer) can be filed, or freed as a duplicate, under them.
	 */
	rxs_jumbo_init(&it, hdr, pkt->buf + RXS_HEADER_SIZE,
		       pkt->len - RXS_HEADER_SIZE);
	nsub = 0;
	while ((r = rxs_jumbo_next(&it, &sub, &data, &dlen)) == 1) {
		struct rxs_rxpkt *sp;

		if (sub.seq == 0) {
			bad(sock, rxs_badmsg_zero_seq);
			break;
		}
		if (it.n == 1) {
			sp = pkt;
		} else {
			sp = rxs_rxpkt_alloc(&sock->rxpool);
			if (!sp) {
				RXS_STAT_INC(sock, rx_drop_nobuf);
				break;
			}
			memcpy(sp->buf + RXS_HEADER_SIZE, data, dlen);
		}
		sp->data_off = RXS_HEADER_SIZE;
		sp->data_len = (uint16_t)dlen;
		sp->seq = sub.seq;
		sp->serial = sub.serial;
		sp->flags = sub.flags;
		sp->cksum = sub.cksum;
		subs[nsub++] = sp;
	}
	if (r < 0)
		bad(sock, rxs_badmsg_bad_jumbo);
	if (nsub == 0)
		rxs_rxpkt_free(&sock->rxpool, pkt);
	for (unsigned int k = 0; k < nsub; k++) {
		struct rxs_rxpkt *sp = subs[k];

		int32_t code = 0;

		if (rxs_sec_verify(call, sp, sp->cksum, &code) < 0) {
			/* Tampered or stale: dropped, never ACKed. */
			RXS_STAT_INC(sock, sec_bad_packets);
			rxs_observe(sock, RXSVC_EV_SECURITY, call, NULL);
			rxs_rxpkt_free(&sock->rxpool, sp);
			continue;
		}
		data_file_one(call, sp, &v);
	}

	if (v.protocol_error) {
		rxs_send_abort_call(call, RX_PROTOCOL_ERROR);
		rxs_call_complete(call, RXSVC_COMPLETE_LOCALLY_ABORTED,
				  RX_PROTOCOL_ERROR, -EBADMSG);
		return;
	}
	if (v.imm_reason) {
		rxs_send_ack(call, v.imm_reason, v.imm_serial, false);
	} else if (v.requested) {
		rxs_send_ack(call, RXS_ACK_REQUESTED, v.last_serial, false);
	} else if (v.queued) {
		call->rx_unacked += v.queued;
		call->ack_serial = v.last_serial;
		if (call->rx_unacked >= 4) {
			rxs_send_ack(call, RXS_ACK_IDLE, v.last_serial, false);
		} else if (!call->t_ack) {
			call->ack_reason = RXS_ACK_DELAY;
			call->t_ack = rxs_now() + 1000;
		}
	}
	if (atomic_load(&call->rx.top) != top_before) {
		uint32_t last = atomic_load(&call->rx_last);

		call->t_idle = sock->idle_time_us ?
				       rxs_now() + sock->idle_time_us :
				       0;
		if (!call->client && last &&
		    atomic_load(&call->rx.top) == last &&
		    atomic_load(&call->state) ==
			    RXSVC_CALL_SERVER_RECV_REQUEST) {
			rxs_call_set_state(call, RXSVC_CALL_SERVER_ACK_REQUEST);
			call->t_idle = 0;
		}
		data_intercept(call);
		rxs_call_notify(call);
	}
}

/* ---------------------------------------------------------------- */
/* ACK                                                               */
/* ---------------------------------------------------------------- */

static uint32_t clamp32(struct rxsvc_sock *sock, uint32_t v, uint32_t lo,
			uint32_t hi)
{
	if (v < lo || v > hi)
		RXS_STAT_INC(sock, ack_clamped);
	return v < lo ? lo : v > hi ? hi : v;
}

/* Take what the peer's trailer says, clamped (OpenAFS advisory 2017-001). */
static void ack_trailer(struct rxsvc_call *call, const struct rxs_ack *ack)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_peer *peer = call->conn->peer;
	uint32_t fit;

	if (!ack->has_mtu) {
		peer->jumbo_max = 1;
		return;
	}
	peer->max_mtu = clamp32(sock, ack->max_mtu, 520, RXS_MAX_PACKET_SIZE);
	peer->if_mtu = clamp32(sock, ack->if_mtu, 520, RXS_MAX_PACKET_SIZE);
	if (ack->rwind)
		call->peer_rwind = clamp32(sock, ack->rwind, 1, RXS_MAX_ACKS);
	if (!ack->has_trailer || ack->jumbo_max <= 1) {
		peer->jumbo_max = 1;
		return;
	}
	/* Sub-packets that fit the peer's maxMTU: 28 + n*1412 + (n-1)*4. */
	fit = (peer->max_mtu - RXS_HEADER_SIZE + RXS_JUMBO_HDRLEN) /
	      (RXS_JUMBO_DATALEN + RXS_JUMBO_HDRLEN);
	peer->jumbo_max = clamp32(sock, ack->jumbo_max, 1, RXS_MAX_JUMBO);
	if (peer->jumbo_max > fit)
		peer->jumbo_max = fit ? fit : 1;
}

static void ack_rtt(struct rxsvc_call *call, const struct rxs_ack *ack,
		    uint64_t now)
{
	struct rxs_peer *peer = call->conn->peer;

	if (!ack->serial || ack->reason == RXS_ACK_DELAY)
		return;
	for (unsigned int i = 0; i < 4; i++) {
		if (call->rtt_probe_serial[i] == ack->serial &&
		    call->rtt_probe_at[i]) {
			rxs_rtt_sample(peer,
				       (uint32_t)(now - call->rtt_probe_at[i]));
			call->rtt_probe_serial[i] = 0;
			RXS_STAT_INC(call->sock, rtt_samples);
			return;
		}
	}
}

/* Free transmit packets below @first; returns how many were not acked. */
static unsigned int ack_hard(struct rxsvc_call *call, uint32_t first)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_txpkt *head = NULL, *tail = NULL;
	uint32_t hard = atomic_load(&call->tx.hard_ack);
	unsigned int newly = 0;

	if (!rxs_seq_after(first - 1, hard))
		return 0;
	if (rxs_output_pending(sock))
		rxs_output_flush(sock); /* queued iovecs may point at them */
	for (uint32_t s = hard + 1; rxs_seq_before(s, first); s++) {
		struct rxs_txpkt **slot = &call->tx.slot[s & call->tx.mask];

		if (!*slot)
			continue;
		if (!(*slot)->acked)
			newly++;
		(*slot)->next = head;
		head = *slot;
		if (!tail)
			tail = head;
		*slot = NULL;
	}
	rxs_txpkt_free_list(&sock->txpool, head, tail);
	/* Pairs with the acquire in rxs_txring_room(): slots are free. */
	atomic_store_explicit(&call->tx.hard_ack, first - 1,
			      memory_order_release);
	rxs_call_wake(call);
	return newly;
}

static void ack_congestion(struct rxsvc_call *call, unsigned int newly,
			   unsigned int lost, uint32_t first)
{
	unsigned int cap = call->tx.mask < RXS_MAX_ACKS ? call->tx.mask :
							  RXS_MAX_ACKS;

	if (call->recovery_point && rxs_seq_after(first, call->recovery_point))
		call->recovery_point = 0;
	if (lost && !call->recovery_point) {
		call->ssthresh = call->cwnd / 2 < 2 ? 2 : call->cwnd / 2;
		call->cwnd = call->ssthresh;
		call->cwnd_acc = 0;
		call->recovery_point = call->tx_top_sent;
		RXS_STAT_INC(call->sock, fast_retrans);
		return;
	}
	if (!newly || call->recovery_point)
		return;
	if (call->cwnd < call->ssthresh) {
		call->cwnd += newly; /* slow start */
	} else {
		call->cwnd_acc += newly; /* congestion avoidance */
		while (call->cwnd_acc >= call->cwnd) {
			call->cwnd_acc -= call->cwnd;
			call->cwnd++;
		}
	}
	if (call->cwnd > cap)
		call->cwnd = cap;
}

static bool tx_all_acked(struct rxsvc_call *call)
{
	uint32_t hard = atomic_load(&call->tx.hard_ack);

	for (uint32_t s = hard + 1; !rxs_seq_after(s, call->tx_top_sent); s++) {
		struct rxs_txpkt *p = call->tx.slot[s & call->tx.mask];

		if (p && !p->acked)
			return false;
	}
	return true;
}

static void input_ack(struct rxsvc_call *call, struct rxs_rxpkt *pkt,
		      const struct rxs_hdr *hdr)
{
	struct rxsvc_sock *sock = call->sock;
	uint64_t now = rxs_now();
	unsigned int newly = 0, lost = 0;
	uint32_t highest_sacked = 0, srtt;
	struct rxs_ack ack;

	if (rxs_ack_decode(pkt->buf + RXS_HEADER_SIZE,
			   pkt->len - RXS_HEADER_SIZE, &ack) < 0) {
		bad(sock, rxs_badmsg_short_ack);
		return;
	}
	ack_trailer(call, &ack);
	ack_rtt(call, &ack, now);
	if (hdr->flags & RXS_REQUEST_ACK)
		rxs_send_ack(call,
			     ack.reason == RXS_ACK_PING ?
				     RXS_ACK_PING_RESPONSE :
				     RXS_ACK_REQUESTED,
			     hdr->serial, false);
	if (ack.reason == RXS_ACK_PING || ack.reason == RXS_ACK_PING_RESPONSE)
		if (ack.first_packet <= 1 && ack.n_acks == 0)
			goto out; /* nothing about our DATA in it */
	if (ack.first_packet == 0 ||
	    rxs_seq_after(ack.first_packet - 1, call->tx_top_sent)) {
		/* ACKs something we never sent */
		if (ack.first_packet != 0)
			bad(sock, rxs_badmsg_bad_ack);
		goto out;
	}
	if (rxs_seq_before(ack.first_packet, call->ack_first_seen)) {
		RXS_STAT_INC(sock, ack_stale);
		goto out;
	}
	call->ack_first_seen = ack.first_packet;
	newly += ack_hard(call, ack.first_packet);
	for (unsigned int i = 0; i < ack.n_acks; i++) {
		uint32_t s = ack.first_packet + i;
		struct rxs_txpkt *p;

		if (rxs_seq_after(s, call->tx_top_sent))
			break;
		p = call->tx.slot[s & call->tx.mask];
		if (!p)
			continue;
		if (ack.acks[i] & 1) {
			if (!p->acked)
				newly++;
			p->acked = 1;
			highest_sacked = s;
		} else {
			p->acked = 0;
		}
	}
	/* A NACKed packet sent well before one the peer has is lost
	 * (RACK-like: allow a quarter RTT of reordering). */
	srtt = call->conn->peer->srtt_us >> 3;
	for (uint32_t s = ack.first_packet;
	     highest_sacked && rxs_seq_before(s, highest_sacked); s++) {
		struct rxs_txpkt *p = call->tx.slot[s & call->tx.mask];

		if (p && !p->acked && !p->lost &&
		    now - p->sent_at > srtt + srtt / 4) {
			p->lost = 1;
			lost++;
		}
	}
	ack_congestion(call, newly, lost, ack.first_packet);
	if (lost)
		rxs_call_resend(call, false);
	/* With everything soft-ACKed the timer stays on as a probe: the
	 * window update that would let us go on can be lost. */
	if (call->tx_top_sent == atomic_load(&call->tx.hard_ack))
		call->t_resend = 0;
	else if (newly || !call->t_resend)
		rxs_call_arm_resend(call, now);

	if (call->tx_last && !rxs_seq_before(call->tx_top_sent, call->tx_last) &&
	    tx_all_acked(call)) {
		enum rxsvc_call_state st = atomic_load(&call->state);

		if (!call->client && (st == RXSVC_CALL_SERVER_SEND_REPLY ||
				      st == RXSVC_CALL_SERVER_AWAIT_ACK)) {
			rxs_call_complete(call, RXSVC_COMPLETE_SUCCEEDED, 0, 0);
			return;
		}
		if (call->client && st == RXSVC_CALL_CLIENT_SEND_REQUEST)
			rxs_call_set_state(call, RXSVC_CALL_CLIENT_AWAIT_REPLY);
	}
out:
	rxs_call_transmit(call);
}

/* ---------------------------------------------------------------- */
/* Dispatch                                                          */
/* ---------------------------------------------------------------- */

/* A packet for a known call.  Consumes @pkt. */
static void call_input(struct rxsvc_call *call, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	struct rxsvc_sock *sock = call->sock;
	bool heard = call->heard_peer;
	int32_t code;

	call->heard_peer = true;
	call->last_rx = rxs_now();
	if (sock->dead_time_us)
		call->t_expect_rx = call->last_rx + sock->dead_time_us;
	switch (hdr->type) {
	case RXS_PKT_DATA:
		input_data(call, pkt, hdr);
		pkt = NULL;
		break;
	case RXS_PKT_ACK:
		input_ack(call, pkt, hdr);
		break;
	case RXS_PKT_BUSY:
		/* Only a call the server never took can be busy. */
		if (call->client && !heard && !call->ack_first_seen)
			rxs_call_complete(call, RXSVC_COMPLETE_BUSY, 0, -EBUSY);
		break;
	case RXS_PKT_ABORT:
		if (rxs_abort_decode(pkt->buf + RXS_HEADER_SIZE,
				     pkt->len - RXS_HEADER_SIZE, &code) < 0) {
			bad(sock, rxs_badmsg_short_abort);
			break;
		}
		rxs_call_complete(call, RXSVC_COMPLETE_REMOTELY_ABORTED, code,
				  -ECONNABORTED);
		break;
	case RXS_PKT_ACKALL:
		if (call->tx_top_sent)
			ack_hard(call, call->tx_top_sent + 1);
		if (!call->client && call->tx_last &&
		    call->tx_top_sent == call->tx_last)
			rxs_call_complete(call, RXSVC_COMPLETE_SUCCEEDED, 0, 0);
		break;
	default:
		break;
	}
	rxs_rxpkt_free(&sock->rxpool, pkt);
	if (!call->completed_io)
		rxs_call_timers_update(call);
}

/* Set up a charged call for a new incoming call on @conn. */
static struct rxsvc_call *service_new_call(struct rxsvc_sock *sock,
					   struct rxs_conn *conn,
					   struct rxs_rxpkt *pkt,
					   const struct rxs_hdr *hdr)
{
	unsigned int ch = hdr->cid & RXS_CHANNELMASK;
	struct rxsvc_call *call;
	uint64_t now = rxs_now();

	if (sock->active_service_calls >= sock->max_calls ||
	    conn->peer->service_calls >= sock->max_calls_per_peer)
		return NULL;
	call = rxs_accept_take(sock);
	if (!call)
		return NULL;
	call->conn = conn;
	call->channel = ch;
	call->call_number = hdr->call_number;
	call->service_id = hdr->service_id;
	call->peer_addr = pkt->from;
	call->peer_addrlen = rxs_addr_len(&pkt->from);
	rxs_sec_call_sizes(call, conn->security_index,
			   conn->rxkad ? conn->rxkad->level : 0);
	call->cwnd = conn->peer->cwnd_hint;
	conn->chan[ch].call = call;
	conn->chan[ch].call_counter = hdr->call_number;
	conn->nactive++;
	conn->ref++;
	sock->active_service_calls++;
	conn->peer->service_calls++;
	rxs_call_get(call); /* the user's; the charge ring's becomes ours */
	call->engine_ref = true;
	rxs_call_link(sock, call);
	rxs_call_set_state(call, RXSVC_CALL_SERVER_RECV_REQUEST);
	call->last_rx = now;
	call->t_expect_rx = sock->dead_time_us ? now + sock->dead_time_us : 0;
	call->t_ping = sock->dead_time_us ? now + sock->dead_time_us / 3 : 0;
	call->t_idle = sock->idle_time_us ? now + sock->idle_time_us : 0;
	call->t_hard = sock->hard_time_us ? now + sock->hard_time_us : 0;
	RXS_STAT_INC(sock, calls_service);
	rxs_observe(sock, RXSVC_EV_CALL_BEGUN, call, NULL);
	if (sock->interceptor) {
		struct rxsvc_msg msg = { 0 };

		msg.mark = RXSVC_MARK_NEW_CALL;
		msg.user_call_id = call->user_call_id;
		sock->interceptor(sock, call, &msg, sock->interceptor_arg);
	}
	if (sock->new_call)
		sock->new_call(sock, call, call->user_call_id,
			       sock->accept_arg);
	return call;
}

/*
 * The user refused the call in its new-call notification: undo the
 * accept, put the preallocation back and answer BUSY.
 */
static void service_unaccept(struct rxsvc_sock *sock, struct rxsvc_call *call,
			     struct rxs_rxpkt *pkt, const struct rxs_hdr *hdr)
{
	struct rxs_conn *conn = call->conn;
	struct rxs_channel *chan = &conn->chan[call->channel];

	chan->call = NULL;
	chan->call_counter = chan->last_call;
	conn->nactive--;
	conn->ref--;
	sock->active_service_calls--;
	conn->peer->service_calls--;
	RXS_STAT_INC(sock, calls_rejected);
	send_busy(sock, pkt, hdr);
	/* Complete it so that the user's end just drops it. */
	call->completed_io = true;
	call->conn = NULL;
	call->abort_code = 0;
	call->error = -EBUSY;
	atomic_store_explicit(&call->completion, RXSVC_COMPLETE_BUSY,
			      memory_order_release);
	rxs_call_set_state(call, RXSVC_CALL_COMPLETE);
	call->timer_at = 0;
	rxs_heap_remove(&sock->timers, call);
	if (call->user_ended)
		rxs_call_release_later(call);
}

static void input_service(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
			  const struct rxs_hdr *hdr, struct rxs_conn *conn)
{
	unsigned int ch = hdr->cid & RXS_CHANNELMASK;
	struct rxs_channel *chan;
	struct rxsvc_call *call;
	uint32_t cur;

	if (!conn) {
		/* Only a DATA packet may start a call (OpenAFS drops the
		 * rest silently; so do we). */
		if (hdr->type != RXS_PKT_DATA) {
			if (!ping_stateless(sock, pkt, hdr))
				RXS_STAT_INC(sock, rx_drop_nocall);
			goto drop;
		}
		if (hdr->security_index != 0 && hdr->security_index != 2) {
			bad(sock, rxs_badmsg_bad_security);
			reply_raw(sock, pkt, hdr, RXS_PKT_ABORT,
				  RX_INVALID_OPERATION);
			goto drop;
		}
	}
	chan = conn ? &conn->chan[ch] : NULL;
	call = chan ? chan->call : NULL;
	if (call && call->call_number == hdr->call_number) {
		call_input(call, pkt, hdr);
		return;
	}
	cur = call ? call->call_number : chan ? chan->call_counter : 0;
	if (chan && !rxs_seq_after(hdr->call_number, cur)) {
		/* An old call: repeat its ABORT if it ended in one. */
		if (!call && hdr->call_number == chan->last_call &&
		    chan->last_abort && hdr->type != RXS_PKT_ABORT)
			reply_raw(sock, pkt, hdr, RXS_PKT_ABORT,
				  chan->last_abort);
		RXS_STAT_INC(sock, rx_drop_stale);
		goto drop;
	}
	/* A new call number on this channel. */
	if (hdr->type != RXS_PKT_DATA) {
		if (!ping_stateless(sock, pkt, hdr))
			RXS_STAT_INC(sock, rx_drop_nocall);
		goto drop;
	}
	if (hdr->seq == 0) {
		bad(sock, rxs_badmsg_zero_seq);
		goto drop;
	}
	if (hdr->seq > sock->rx_window) {
		/* Looks like a call from before our restart (§1.5). */
		RXS_STAT_INC(sock, rx_drop_stale);
		goto drop;
	}
	if (!sock->listening || !rxs_service_known(sock, hdr->service_id)) {
		RXS_STAT_INC(sock, calls_unknown_service);
		reply_raw(sock, pkt, hdr, RXS_PKT_ABORT, RX_INVALID_OPERATION);
		goto drop;
	}
	if (call) {
		/* The client moved on: a new call number implicitly ACKs a
		 * reply we were waiting on; anything else is abandoned. */
		if (atomic_load(&call->state) == RXSVC_CALL_SERVER_AWAIT_ACK)
			rxs_call_complete(call, RXSVC_COMPLETE_SUCCEEDED, 0, 0);
		else
			rxs_call_complete(call, RXSVC_COMPLETE_LOCALLY_ABORTED,
					  RX_CALL_DEAD, -ECONNRESET);
	}
	if (sock->active_service_calls >= sock->max_calls ||
	    !rxsvc_sock_charged(sock)) {
		send_busy(sock, pkt, hdr);
		goto drop;
	}
	{
		/* One peer may not take every call slot (a flood of new
		 * calls from one address must not lock others out). */
		struct rxs_peer *peer = rxs_peer_lookup(sock, &pkt->from,
							false);

		if (peer && peer->service_calls >= sock->max_calls_per_peer) {
			send_busy(sock, pkt, hdr);
			goto drop;
		}
	}
	if (!conn) {
		conn = rxs_conn_new_service(sock, hdr, &pkt->from);
		if (!conn) {
			RXS_STAT_INC(sock, rx_drop_nobuf);
			goto drop;
		}
		if (rxs_sec_server_init(sock, conn, hdr) < 0) {
			/* The service does not offer this security index. */
			conn->dead = true;
			bad(sock, rxs_badmsg_bad_security);
			reply_raw(sock, pkt, hdr, RXS_PKT_ABORT,
				  RX_INVALID_OPERATION);
			goto drop;
		}
	}
	if (conn->dead) {
		RXS_STAT_INC(sock, rx_drop_stale);
		goto drop;
	}
	if (!rxs_sec_conn_ready(conn)) {
		/* Authenticate first.  The call's latest first packet is
		 * kept (one per channel) and replayed once the RESPONSE
		 * checks out: OpenAFS clients would otherwise wait out their
		 * retransmission timer, seconds on a new peer. */
		rxs_sec_challenge(sock, conn);
		rxs_rxpkt_free(&sock->rxpool, conn->held[ch]);
		conn->held[ch] = pkt;
		return;
	}
	call = service_new_call(sock, conn, pkt, hdr);
	if (!call) {
		send_busy(sock, pkt, hdr);
		goto drop;
	}
	if (call->rejected) {
		service_unaccept(sock, call, pkt, hdr);
		goto drop;
	}
	call_input(call, pkt, hdr);
	return;
drop:
	rxs_rxpkt_free(&sock->rxpool, pkt);
}

static void input_client(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
			 const struct rxs_hdr *hdr, struct rxs_conn *conn)
{
	unsigned int ch = hdr->cid & RXS_CHANNELMASK;
	struct rxs_channel *chan = &conn->chan[ch];
	struct rxsvc_call *call = chan->call;

	if (call && call->call_number == hdr->call_number) {
		call_input(call, pkt, hdr);
		return;
	}
	if (!call && hdr->call_number == chan->last_call &&
	    chan->last_client_done && hdr->type == RXS_PKT_DATA)
		rxs_send_final_ack_chan(sock, conn, ch, RXS_ACK_DUPLICATE);
	else
		RXS_STAT_INC(sock, rx_drop_stale);
	rxs_rxpkt_free(&sock->rxpool, pkt);
}

/* A packet with call number 0: about the whole connection. */
static void input_conn(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr, struct rxs_conn *conn)
{
	int32_t code;

	switch (hdr->type) {
	case RXS_PKT_ABORT:
		if (rxs_abort_decode(pkt->buf + RXS_HEADER_SIZE,
				     pkt->len - RXS_HEADER_SIZE, &code) < 0) {
			bad(sock, rxs_badmsg_short_abort);
			break;
		}
		if (conn)
			rxs_conn_abort(sock, conn, code);
		break;
	case RXS_PKT_CHALLENGE:
		if (conn)
			rxs_sec_input_challenge(sock, conn,
						pkt->buf + RXS_HEADER_SIZE,
						pkt->len - RXS_HEADER_SIZE);
		break;
	case RXS_PKT_RESPONSE:
		if (conn)
			rxs_sec_input_response(sock, conn,
					       pkt->buf + RXS_HEADER_SIZE,
					       pkt->len - RXS_HEADER_SIZE);
		break;
	default:
		bad(sock, rxs_badmsg_zero_call);
		break;
	}
	rxs_rxpkt_free(&sock->rxpool, pkt);
}

/*
 * Process one received datagram.  Consumes @pkt.  - I/O thread.
 */
void rxs_input_packet(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt)
{
	struct rxs_hdr hdr;
	struct rxs_conn *conn;

	RXS_STAT_INC(sock, pkts_in);
	RXS_STAT_ADD(sock, bytes_in, pkt->len);
	if (pkt->len > RXS_MAX_PACKET_SIZE) {
		bad(sock, rxs_badmsg_too_big);
		goto drop;
	}
	if (rxs_hdr_decode(pkt->buf, pkt->len, &hdr) < 0) {
		bad(sock, rxs_badmsg_short_hdr);
		goto drop;
	}
	switch (hdr.type) {
	case RXS_PKT_DATA:
	case RXS_PKT_ACK:
	case RXS_PKT_BUSY:
	case RXS_PKT_ABORT:
	case RXS_PKT_ACKALL:
	case RXS_PKT_CHALLENGE:
	case RXS_PKT_RESPONSE:
		break;
	case RXS_PKT_VERSION:
		RXS_STAT_INC(sock, version_in);
		/* Without CLIENT_INITIATED it is a keepalive: ignore it. */
		if (hdr.flags & RXS_CLIENT_INITIATED)
			rxs_debug_version(sock, pkt, &hdr);
		goto drop;
	case RXS_PKT_DEBUG:
		RXS_STAT_INC(sock, debug_in);
		if (!(sock->sock_flags & RXSVC_SOCK_NO_DEBUG))
			rxs_debug_request(sock, pkt, &hdr);
		goto drop;
	case RXS_PKT_PARAMS:
	case 10:
	case 11:
		RXS_STAT_INC(sock, params_in);
		goto drop;
	default:
		RXS_STAT_INC(sock, unknown_type_in);
		bad(sock, rxs_badmsg_bad_type);
		goto drop;
	}
	switch (hdr.type) {
	case RXS_PKT_ACK:
		RXS_STAT_INC(sock, ack_in);
		break;
	case RXS_PKT_BUSY:
		RXS_STAT_INC(sock, busy_in);
		break;
	case RXS_PKT_ABORT:
		RXS_STAT_INC(sock, abort_in);
		break;
	case RXS_PKT_ACKALL:
		RXS_STAT_INC(sock, ackall_in);
		break;
	}
	if (hdr.flags & RXS_CLIENT_INITIATED) {
		conn = rxs_conn_find_service(sock, &hdr, &pkt->from);
		if (conn && conn->security_index != hdr.security_index) {
			bad(sock, rxs_badmsg_bad_security);
			goto drop;
		}
		if (hdr.call_number == 0) {
			input_conn(sock, pkt, &hdr, conn);
			return;
		}
		input_service(sock, pkt, &hdr, conn);
		return;
	}
	conn = rxs_conn_find_client(sock, &hdr);
	if (!conn) {
		RXS_STAT_INC(sock, rx_drop_nocall);
		goto drop;
	}
	if (hdr.call_number == 0) {
		input_conn(sock, pkt, &hdr, conn);
		return;
	}
	input_client(sock, pkt, &hdr, conn);
	return;
drop:
	rxs_rxpkt_free(&sock->rxpool, pkt);
}
