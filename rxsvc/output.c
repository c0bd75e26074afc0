/* SPDX-License-Identifier: MIT */
/*
 * output.c - everything the I/O thread sends: DATA bursts from a call's
 * transmit ring (jumbograms to peers that advertise them), retransmission,
 * ACKs (with the 3 padding bytes and the full trailer, rx-protocol.md
 * §4.1), ABORTs, BUSYs and raw connection-less packets.
 *
 * Datagrams are gathered into an output queue and leave with one
 * sendmmsg() per batch, flushed at the end of each loop callback or when
 * the queue fills.  DATA is sent straight from the transmit packets
 * (iovecs, no copy); control packets are built in per-slot scratch
 * buffers.  A transmit packet must not be freed while it sits in the
 * queue: the ACK path flushes before it frees.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "rxsvc/internal.h"
#include <rxsvc/rxkad.h>

#define OUT_IOV     (1 + 2 * (RXS_MAX_JUMBO - 1))
#define SCRATCH_LEN 512
#define ADV_MAX_MTU 5692 /* what OpenAFS and Linux advertise */
#define ADV_IF_MTU  1444
#define ADV_JUMBO   4

struct rxs_outq {
	unsigned int n;
	struct mmsghdr msg[RXS_BATCH];
	struct iovec iov[RXS_BATCH][OUT_IOV];
	union rxs_addr to[RXS_BATCH];
	uint8_t scratch[RXS_BATCH][SCRATCH_LEN];
};

int rxs_outq_init(struct rxsvc_sock *sock)
{
	sock->outq = rxs_zalloc(sizeof(*sock->outq));
	return sock->outq ? 0 : -ENOMEM;
}

void rxs_outq_free(struct rxsvc_sock *sock)
{
	rxs_free(sock->outq);
	sock->outq = NULL;
}

/* Send everything queued.  Errors are counted; lost DATA is resent. */
void rxs_output_flush(struct rxsvc_sock *sock)
{
	struct rxs_outq *q = sock->outq;
	unsigned int done = 0;

	while (done < q->n) {
		int r = sendmmsg(sock->fd, &q->msg[done], q->n - done, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* Skip the datagram that failed and go on. */
			RXS_STAT_INC(sock, send_errors);
			done++;
			continue;
		}
		for (int i = 0; i < r; i++) {
			RXS_STAT_INC(sock, pkts_out);
			RXS_STAT_ADD(sock, bytes_out,
				     q->msg[done + (unsigned int)i].msg_len);
		}
		done += (unsigned int)r;
	}
	q->n = 0;
}

/* A free output slot addressed to @to; flushes a full queue first. */
static unsigned int outq_slot(struct rxsvc_sock *sock,
			      const union rxs_addr *to)
{
	struct rxs_outq *q = sock->outq;
	unsigned int i;

	if (q->n == RXS_BATCH)
		rxs_output_flush(sock);
	i = q->n;
	q->to[i] = *to;
	memset(&q->msg[i], 0, sizeof(q->msg[i]));
	q->msg[i].msg_hdr.msg_name = &q->to[i];
	q->msg[i].msg_hdr.msg_namelen = rxs_addr_len(to);
	q->msg[i].msg_hdr.msg_iov = q->iov[i];
	return i;
}

static void outq_commit(struct rxsvc_sock *sock, unsigned int i,
			unsigned int niov)
{
	sock->outq->msg[i].msg_hdr.msg_iovlen = niov;
	/* Test hook: drop outgoing datagrams with the seeded generator. */
	if (sock->fault.on && sock->fault.txdrop &&
	    rxs_fault_roll(&sock->fault) < sock->fault.txdrop) {
		RXS_STAT_INC(sock, fault_dropped);
		return;
	}
	sock->outq->n++;
}

static void call_hdr(struct rxsvc_call *call, struct rxs_hdr *h, uint8_t type)
{
	struct rxs_conn *conn = call->conn;

	memset(h, 0, sizeof(*h));
	h->epoch = conn->epoch;
	h->cid = conn->cid | call->channel;
	h->call_number = call->call_number;
	h->type = type;
	h->flags = call->client ? RXS_CLIENT_INITIATED : 0;
	h->security_index = conn->security_index;
	h->service_id = call->service_id;
}

static void rtt_probe_note(struct rxsvc_call *call, uint32_t serial,
			   uint64_t now)
{
	unsigned int i = call->rtt_probe_next++ & 3;

	call->rtt_probe_serial[i] = serial;
	call->rtt_probe_at[i] = now;
}

/*
 * Queue one datagram carrying @n consecutive DATA packets starting at
 * @first (a jumbogram when n > 1).  @req_ack asks for an ACK on the last
 * sub-packet; @more sets MORE_PACKETS on the last one too.
 */
static void send_data(struct rxsvc_call *call, uint32_t first, unsigned int n,
		      bool req_ack, bool more, uint64_t now)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_conn *conn = call->conn;
	unsigned int slot = outq_slot(sock, &conn->peer->addr), niov = 0;
	struct iovec *iov = sock->outq->iov[slot];
	struct rxs_hdr h;

	/* Seal what goes out for the first time; if that fails (the ticket
	 * ran out in flight) the call ends here: never send it unsealed. */
	for (unsigned int k = 0; k < n; k++) {
		struct rxs_txpkt *p = call->tx.slot[(first + k) & call->tx.mask];
		int ret;

		if (p->nsent || p->sealed)
			continue;
		ret = rxs_sec_seal(call, p);
		if (ret < 0) {
			int32_t code = ret == -EKEYEXPIRED ? RXKADEXPIRED :
							     RXKADSEALEDINCON;

			RXS_STAT_INC(sock, security_failures);
			rxs_send_abort_call(call, code);
			rxs_call_complete(call, RXSVC_COMPLETE_LOCALLY_ABORTED,
					  code, ret);
			return;
		}
	}
	call_hdr(call, &h, RXS_PKT_DATA);
	for (unsigned int k = 0; k < n; k++) {
		struct rxs_txpkt *p = call->tx.slot[(first + k) & call->tx.mask];
		uint8_t fl = p->flags | h.flags;
		uint32_t serial = rxs_conn_next_serial(conn);

		if (k + 1 < n)
			fl |= RXS_JUMBO_PACKET | RXS_MORE_PACKETS;
		else if (more)
			fl |= RXS_MORE_PACKETS;
		if (k + 1 == n && req_ack)
			fl |= RXS_REQUEST_ACK;
		if (p->nsent)
			RXS_STAT_INC(sock, data_retrans);
		p->nsent++;
		p->last_serial = serial;
		p->sent_at = now;
		p->lost = 0;
		if (k == 0) {
			struct rxs_hdr ph = h;

			ph.seq = p->seq;
			ph.serial = serial;
			ph.flags = fl;
			ph.cksum = rxs_sec_cksum(call, p->seq);
			rxs_hdr_encode(p->buf, &ph);
			iov[niov].iov_base = p->buf;
			iov[niov].iov_len = RXS_HEADER_SIZE + p->wire_len;
			niov++;
		} else {
			p->jhdr[0] = fl;
			p->jhdr[1] = 0;
			rxs_put_be16(p->jhdr + 2, rxs_sec_cksum(call, p->seq));
			iov[niov].iov_base = p->jhdr;
			iov[niov].iov_len = RXS_JUMBO_HDRLEN;
			niov++;
			iov[niov].iov_base = p->buf + RXS_HEADER_SIZE;
			iov[niov].iov_len = p->wire_len;
			niov++;
		}
		RXS_STAT_INC(sock, data_out);
		if (k + 1 == n && req_ack)
			rtt_probe_note(call, serial, now);
	}
	if (n > 1)
		RXS_STAT_INC(sock, jumbo_out);
	call->last_tx = now;
	conn->peer->last_sent = now;
	outq_commit(sock, slot, niov);
}

static unsigned int call_window(struct rxsvc_call *call)
{
	unsigned int w = call->cwnd < call->peer_rwind ? call->cwnd :
							 call->peer_rwind;

	return w ? w : 1;
}

/*
 * How many packets from @seq can go in one jumbogram: consecutive, all but
 * the last exactly 1412 bytes, at most what the peer advertised.
 */
static unsigned int jumbo_count(struct rxsvc_call *call, uint32_t seq,
				unsigned int avail)
{
	unsigned int max = call->conn->peer->jumbo_max, n = 1;

	if (max > avail)
		max = avail;
	while (n < max) {
		struct rxs_txpkt *p =
			call->tx.slot[(seq + n - 1) & call->tx.mask];

		if (p->data_len != RXS_JUMBO_DATALEN || call->sec_hdr ||
		    (p->flags & RXS_LAST_PACKET))
			break;
		n++;
	}
	return n;
}

/* Does the last packet of this burst ask for an ACK (rx-protocol §4.7)? */
static bool want_req_ack(struct rxsvc_call *call, uint32_t last_seq,
			 uint64_t now)
{
	struct rxs_txpkt *p = call->tx.slot[last_seq & call->tx.mask];
	struct rxs_peer *peer = call->conn->peer;
	uint64_t last_probe = call->rtt_probe_at[(call->rtt_probe_next - 1) & 3];

	/* Never on the last packet of a reply: OpenAFS would answer with
	 * soft ACKs and never follow up with a hard one. */
	if (!call->client && (p->flags & RXS_LAST_PACKET))
		return false;
	if (p->flags & RXS_LAST_PACKET)
		return peer->rtt_count < 3;
	return peer->rtt_count < 3 || call->cwnd <= 2 ||
	       call->peer_rwind <= 2 || now - last_probe > 1000000u;
}

/*
 * Send whatever the window allows from the transmit ring.  - I/O thread.
 */
void rxs_call_transmit(struct rxsvc_call *call)
{
	struct rxsvc_sock *sock = call->sock;
	uint32_t prepared, hard, seq;
	unsigned int window, room, todo;
	uint64_t now;

	if (!call->conn || call->completed_io)
		return;
	/* Pairs with the release in rxs_txring_push(): slots first. */
	prepared = atomic_load_explicit(&call->tx.prepared,
					memory_order_acquire);
	hard = atomic_load_explicit(&call->tx.hard_ack, memory_order_relaxed);
	if (!rxs_seq_before(call->tx_top_sent, prepared))
		return;
	window = call_window(call);
	if (call->tx_top_sent - hard >= window)
		return;
	room = window - (call->tx_top_sent - hard);
	todo = prepared - call->tx_top_sent;
	if (todo > room)
		todo = room;
	now = rxs_now();
	seq = call->tx_top_sent + 1;
	while (todo && !call->completed_io) {
		unsigned int n = jumbo_count(call, seq, todo);
		bool last = n == todo;

		send_data(call, seq, n,
			  last && want_req_ack(call, seq + n - 1, now), !last,
			  now);
		seq += n;
		todo -= n;
	}
	if (call->completed_io)
		return; /* sealing failed: the call is over */
	call->tx_top_sent = seq - 1;
	{
		struct rxs_txpkt *p = call->tx.slot[call->tx_top_sent &
						    call->tx.mask];

		if (p->flags & RXS_LAST_PACKET)
			call->tx_last = p->seq;
	}
	if (!call->t_resend)
		rxs_call_arm_resend(call, now);
	rxs_call_timers_update(call);
	(void)sock;
}

/*
 * Resend packets: every unacknowledged one (@all_unacked, after a
 * timeout) or only those marked lost (after NACKs).  Each resent packet
 * gets a new serial; the last asks for an ACK.  - I/O thread.
 */
void rxs_call_resend(struct rxsvc_call *call, bool all_unacked)
{
	uint32_t hard, seq, last = 0;
	uint64_t now = rxs_now();
	unsigned int n = 0;

	if (!call->conn || call->completed_io)
		return;
	hard = atomic_load_explicit(&call->tx.hard_ack, memory_order_relaxed);
	for (seq = hard + 1; !rxs_seq_after(seq, call->tx_top_sent); seq++) {
		struct rxs_txpkt *p = call->tx.slot[seq & call->tx.mask];

		if (p->acked || (!all_unacked && !p->lost))
			continue;
		last = seq;
		n++;
	}
	for (seq = hard + 1; n && !rxs_seq_after(seq, last); seq++) {
		struct rxs_txpkt *p = call->tx.slot[seq & call->tx.mask];

		if (p->acked || (!all_unacked && !p->lost))
			continue;
		send_data(call, seq, 1,
			  seq == last && !(!call->client &&
					   (p->flags & RXS_LAST_PACKET)),
			  seq != last, now);
	}
	if (all_unacked) {
		call->tlp_pending = false;
		call->t_resend = now + rxs_rtt_rto(call->conn->peer);
	} else {
		rxs_call_arm_resend(call, now);
	}
	rxs_call_timers_update(call);
}

static uint32_t ack_fill(struct rxsvc_call *call, struct rxs_ack *ack,
			 uint8_t *acks)
{
	uint32_t consumed = atomic_load_explicit(&call->rx.consumed,
						 memory_order_acquire);
	uint32_t n;

	memset(ack, 0, sizeof(*ack));
	ack->first_packet = consumed + 1;
	/* Keep previousPacket monotonic: OpenAFS drops ACKs that go back. */
	if (rxs_seq_after(call->rx_highest, call->rx_prev_reported))
		call->rx_prev_reported = call->rx_highest;
	ack->previous_packet = call->rx_prev_reported;
	n = rxs_seq_after(call->rx_highest, consumed) ?
		    call->rx_highest - consumed :
		    0;
	if (n > RXS_MAX_ACKS)
		n = RXS_MAX_ACKS;
	for (uint32_t i = 0; i < n; i++)
		acks[i] = rxs_rxring_has(&call->rx, consumed + 1 + i) ? 1 : 0;
	ack->n_acks = (uint8_t)n;
	ack->max_mtu = ADV_MAX_MTU;
	ack->if_mtu = ADV_IF_MTU;
	ack->rwind = call->rx_window;
	ack->jumbo_max = ADV_JUMBO;
	return consumed;
}

/*
 * Send an ACK on a call now, quoting @serial; a PING when @ping.
 * - I/O thread.
 */
void rxs_send_ack(struct rxsvc_call *call, uint8_t reason, uint32_t serial,
		  bool ping)
{
	struct rxsvc_sock *sock = call->sock;
	struct rxs_conn *conn = call->conn;
	uint8_t acks[RXS_MAX_ACKS];
	struct rxs_ack ack;
	struct rxs_hdr h;
	unsigned int slot;
	uint8_t *buf;
	size_t blen;
	uint64_t now = rxs_now();

	if (!conn)
		return;
	slot = outq_slot(sock, &conn->peer->addr);
	buf = sock->outq->scratch[slot];
	call->rx_acked_consumed = ack_fill(call, &ack, acks);
	ack.reason = reason;
	ack.serial = serial;
	call_hdr(call, &h, RXS_PKT_ACK);
	h.flags |= RXS_SLOW_START_OK | (ping ? RXS_REQUEST_ACK : 0);
	h.serial = rxs_conn_next_serial(conn);
	rxs_hdr_encode(buf, &h);
	blen = rxs_ack_encode(buf + RXS_HEADER_SIZE,
			      SCRATCH_LEN - RXS_HEADER_SIZE, &ack, acks);
	sock->outq->iov[slot][0].iov_base = buf;
	sock->outq->iov[slot][0].iov_len = RXS_HEADER_SIZE + blen;
	outq_commit(sock, slot, 1);
	RXS_STAT_INC(sock, ack_out);
	if (ping) {
		RXS_STAT_INC(sock, pings_out);
		rtt_probe_note(call, h.serial, now);
	}
	if (reason == RXS_ACK_PING_RESPONSE)
		RXS_STAT_INC(sock, ping_responses_out);
	call->rx_unacked = 0;
	call->ack_reason = 0;
	call->t_ack = 0;
	call->last_tx = now;
	conn->peer->last_sent = now;
}

/* Send an ABORT for a call.  - I/O thread. */
void rxs_send_abort_call(struct rxsvc_call *call, int32_t code)
{
	struct rxsvc_sock *sock = call->sock;
	uint8_t body[4];
	struct rxs_hdr h;

	if (!call->conn)
		return;
	call_hdr(call, &h, RXS_PKT_ABORT);
	h.serial = rxs_conn_next_serial(call->conn);
	rxs_put_be32(body, (uint32_t)code);
	rxs_send_raw(sock, &call->conn->peer->addr, &h, body, 4);
}

/* Queue a packet built from @hdr and @body (at most 480 bytes). */
void rxs_send_raw(struct rxsvc_sock *sock, const union rxs_addr *to,
		  const struct rxs_hdr *hdr, const void *body, size_t blen)
{
	unsigned int slot = outq_slot(sock, to);
	uint8_t *buf = sock->outq->scratch[slot];

	RXS_ASSERT(blen <= SCRATCH_LEN - RXS_HEADER_SIZE);
	rxs_hdr_encode(buf, hdr);
	if (blen)
		memcpy(buf + RXS_HEADER_SIZE, body, blen);
	sock->outq->iov[slot][0].iov_base = buf;
	sock->outq->iov[slot][0].iov_len = RXS_HEADER_SIZE + blen;
	outq_commit(sock, slot, 1);
	switch (hdr->type) {
	case RXS_PKT_ABORT:
		RXS_STAT_INC(sock, abort_out);
		break;
	case RXS_PKT_BUSY:
		RXS_STAT_INC(sock, busy_out);
		break;
	case RXS_PKT_VERSION:
		RXS_STAT_INC(sock, version_out);
		break;
	case RXS_PKT_ACK:
		RXS_STAT_INC(sock, ack_out);
		break;
	}
}

/*
 * The final ACK of a channel's last (client) call, hard-ACKing the whole
 * reply (rx-protocol.md §4.9: OpenAFS and Linux servers wait for it):
 * held back a moment after the call (IDLE), or again when reply DATA
 * shows it was lost (DUPLICATE).
 */
void rxs_send_final_ack_chan(struct rxsvc_sock *sock, struct rxs_conn *conn,
			     unsigned int channel, uint8_t reason)
{
	struct rxs_channel *chan = &conn->chan[channel];
	uint8_t body[64];
	struct rxs_ack ack = { 0 };
	struct rxs_hdr h = { 0 };
	size_t blen;

	ack.first_packet = chan->last_seq + 1;
	ack.previous_packet = chan->last_seq;
	ack.reason = reason;
	ack.max_mtu = ADV_MAX_MTU;
	ack.if_mtu = ADV_IF_MTU;
	ack.rwind = sock->rx_window;
	ack.jumbo_max = ADV_JUMBO;
	blen = rxs_ack_encode(body, sizeof(body), &ack, NULL);
	h.epoch = conn->epoch;
	h.cid = conn->cid | channel;
	h.call_number = chan->last_call;
	h.serial = rxs_conn_next_serial(conn);
	h.type = RXS_PKT_ACK;
	h.flags = RXS_CLIENT_INITIATED | RXS_SLOW_START_OK;
	h.service_id = conn->service_id;
	rxs_send_raw(sock, &conn->peer->addr, &h, body, blen);
	if (reason == RXS_ACK_DUPLICATE)
		RXS_STAT_INC(sock, final_ack_resent);
	else
		RXS_STAT_INC(sock, final_acks_out);
}

bool rxs_output_pending(struct rxsvc_sock *sock)
{
	return sock->outq->n != 0;
}
