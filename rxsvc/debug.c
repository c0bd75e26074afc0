/* SPDX-License-Identifier: MIT */
/*
 * debug.c - answers to VERSION and DEBUG (rxdebug) requests, the way
 * OpenAFS 1.8 answers them (rx-protocol.md §5.4 and §S.1), so that the
 * real `rxdebug HOST PORT` shows this endpoint's counters, connections
 * and peers.
 *
 * Every reply is the request's header echoed with CLIENT_INITIATED
 * cleared (rxdebug matches replies by callNumber only) and a body built
 * field by field in zeroed storage: OpenAFS advisory 2015-007
 * ("Tattletale") leaked uninitialised memory through these replies.
 * Nothing here creates or touches connection, call or security state;
 * it only reads the I/O thread's tables, on the I/O thread.
 *
 * The tables are walked afresh for each request, as OpenAFS does: the
 * server keeps no cursor, so an entry created or freed between two
 * requests of one rxdebug run may be skipped or shown twice.
 *
 * Refusal (RXSVC_SOCK_NO_DEBUG) is decided by the caller in input.c: the
 * request is dropped silently, never answered with BADTYPE, since
 * rxdebug loops for ever on a BADTYPE connection reply (§S.1.11).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "rxsvc/internal.h"

/* Request types (rx_debugIn.type) and reply sizes, §S.1.3. */
#define DEBUGI_GETSTATS	  1
#define DEBUGI_GETCONN	  2
#define DEBUGI_GETALLCONN 3
#define DEBUGI_RXSTATS	  4
#define DEBUGI_GETPEER	  5

#define DEBUG_STATS_LEN	     56
#define DEBUG_CONN_LEN	     176
#define DEBUG_PEER_LEN	     132
#define DEBUG_RXSTATS_LEN    (71 * 4)
#define DEBUG_VERSION_LETTER 'S' /* every request type, every field */

/* OpenAFS call states and modes as rxdebug prints them (§S.1.6). */
#define DSTATE_NOTINIT	   0
#define DSTATE_PRECALL	   1
#define DSTATE_ACTIVE	   2
#define DSTATE_DALLY	   3
#define DMODE_NONE	   0
#define DMODE_SENDING	   1
#define DMODE_RECEIVING	   2
#define DMODE_ERROR	   3
#define DMODE_EOF	   4
#define DFLAG_RECEIVE_DONE 0x20
#define DOTHER_IN	   0x01
#define DOTHER_OUT	   0x02

static void debug_reply(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
			const struct rxs_hdr *hdr, const uint8_t *body,
			size_t len)
{
	struct rxs_hdr h = *hdr;

	h.flags &= (uint8_t)~RXS_CLIENT_INITIATED;
	rxs_send_raw(sock, &pkt->from, &h, body, len);
}

void rxs_debug_version(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	uint8_t body[RXS_VERSION_LEN];

	memset(body, 0, sizeof(body));
	snprintf((char *)body, sizeof(body), "rxsvc %s", PACKAGE_VERSION);
	debug_reply(sock, pkt, hdr, body, sizeof(body));
}

static uint32_t stat32(const struct rxsvc_sock *sock, enum rxs_stat s)
{
	return (uint32_t)__atomic_load_n(&sock->stats[s], __ATOMIC_RELAXED);
}

/*
 * The IPv4 address and port of @a in network order, as rxdebug wants
 * them; an IPv4-mapped IPv6 address gives its IPv4 part, any other IPv6
 * address 0.0.0.0 (the reply has no room for it).
 */
static void addr_v4(const union rxs_addr *a, uint8_t host[4], uint8_t port[2])
{
	if (a->sa.sa_family == AF_INET) {
		memcpy(host, &a->sin.sin_addr, 4);
		memcpy(port, &a->sin.sin_port, 2);
	} else if (a->sa.sa_family == AF_INET6) {
		const uint8_t *b = a->sin6.sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
						    0, 0, 0, 0, 0xff, 0xff };

		if (!memcmp(b, mapped, sizeof(mapped)))
			memcpy(host, b + 12, 4);
		memcpy(port, &a->sin6.sin6_port, 2);
	}
}

static unsigned int charged_now(struct rxsvc_sock *sock)
{
	unsigned int n;

	pthread_mutex_lock(&sock->charge_lock);
	n = sock->charge_n;
	pthread_mutex_unlock(&sock->charge_lock);
	return n;
}

/* GETSTATS: rx_debugStats, 56 bytes (§S.1.5). */
static size_t debug_getstats(struct rxsvc_sock *sock, uint8_t *b)
{
	unsigned int fds = (unsigned int)sock->fd + 1;

	rxs_put_be32(b + 0, sock->rxpool.nfree);
	rxs_put_be32(b + 4, 0); /* packetReclaims: no such thing here */
	rxs_put_be32(b + 8, stat32(sock, RXS_STAT_calls_service));
	b[12] = 0; /* waitingForPackets: we drop and count instead */
	b[13] = (uint8_t)(fds > 255 ? 255 : fds);
	b[14] = DEBUG_VERSION_LETTER;
	/* nWaiting: service calls beyond max_calls were refused, not
	 * queued; idleThreads: preallocated calls ready to take a call;
	 * nWaited: calls that found none and got BUSY. */
	rxs_put_be32(b + 16, 0);
	rxs_put_be32(b + 20, charged_now(sock));
	rxs_put_be32(b + 24, stat32(sock, RXS_STAT_calls_busy_refused));
	rxs_put_be32(b + 28, sock->rxpool.total);
	return DEBUG_STATS_LEN;
}

/* OpenAFS's call state and mode for our call state. */
static void call_state_mode(const struct rxsvc_call *call, uint8_t *state,
			    uint8_t *mode)
{
	enum rxsvc_call_state st = (enum rxsvc_call_state)atomic_load_explicit(
		&call->state, memory_order_relaxed);

	*state = DSTATE_ACTIVE;
	switch (st) {
	case RXSVC_CALL_CLIENT_AWAIT_CONN:
		*state = DSTATE_PRECALL;
		*mode = DMODE_SENDING;
		break;
	case RXSVC_CALL_SERVER_PREALLOC:
		*state = DSTATE_PRECALL;
		*mode = DMODE_RECEIVING;
		break;
	case RXSVC_CALL_CLIENT_SEND_REQUEST:
	case RXSVC_CALL_SERVER_SEND_REPLY:
	case RXSVC_CALL_SERVER_AWAIT_ACK:
		*mode = DMODE_SENDING;
		break;
	case RXSVC_CALL_CLIENT_AWAIT_REPLY:
	case RXSVC_CALL_CLIENT_RECV_REPLY:
	case RXSVC_CALL_SERVER_RECV_REQUEST:
	case RXSVC_CALL_SERVER_ACK_REQUEST:
		*mode = DMODE_RECEIVING;
		break;
	case RXSVC_CALL_COMPLETE:
		*state = DSTATE_DALLY;
		*mode = call->abort_code ? DMODE_ERROR : DMODE_EOF;
		break;
	}
}

/* One channel's callNumber, state, mode, flags and "other" bytes. */
static void debug_channel(const struct rxs_conn *conn, unsigned int i,
			  uint8_t *b)
{
	const struct rxs_channel *ch = &conn->chan[i];
	const struct rxsvc_call *call = ch->call;
	uint8_t state = DSTATE_NOTINIT, mode = DMODE_NONE, flags = 0, other = 0;

	if (call) {
		uint32_t top = atomic_load_explicit(&call->rx.top,
						    memory_order_relaxed);
		uint32_t consumed = atomic_load_explicit(&call->rx.consumed,
							 memory_order_relaxed);
		uint32_t prepared = atomic_load_explicit(&call->tx.prepared,
							 memory_order_relaxed);
		uint32_t hard = atomic_load_explicit(&call->tx.hard_ack,
						     memory_order_relaxed);

		rxs_put_be32(b + 12 + 4 * i, call->call_number);
		call_state_mode(call, &state, &mode);
		if (atomic_load_explicit(&call->rx_last, memory_order_relaxed))
			flags |= DFLAG_RECEIVE_DONE;
		if (top != consumed)
			other |= DOTHER_IN;
		if (prepared != hard)
			other |= DOTHER_OUT;
	} else if (ch->call_counter) {
		/* The channel's last call is over: OpenAFS shows it dallying.
		 */
		rxs_put_be32(b + 12 + 4 * i, ch->call_counter);
		state = DSTATE_DALLY;
		mode = ch->last_abort ? DMODE_ERROR : DMODE_EOF;
		flags = DFLAG_RECEIVE_DONE;
	}
	b[40 + i] = state;
	b[44 + i] = mode;
	b[48 + i] = flags;
	b[52 + i] = other;
}

/* GETCONN's "interesting": a call precalling, active, sending or
 * receiving on some channel (§S.1.6). */
static bool conn_interesting(const struct rxs_conn *conn)
{
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++) {
		const struct rxsvc_call *call = conn->chan[i].call;

		if (call &&
		    atomic_load_explicit(&call->state, memory_order_relaxed) !=
			    RXSVC_CALL_COMPLETE)
			return true;
	}
	return false;
}

/* GETCONN / GETALLCONN: rx_debugConn, 176 bytes; the end marker when
 * @index is past the last match (§S.1.6). */
static size_t debug_getconn(struct rxsvc_sock *sock, int32_t index, bool all,
			    uint8_t *b)
{
	const struct rxs_conn *conn;
	int32_t n = 0;

	if (index < 0)
		index = 0; /* OpenAFS: a negative index gives the first match */
	for (conn = sock->conns; conn; conn = conn->list_next) {
		if (!all && !conn_interesting(conn))
			continue;
		if (n++ == index)
			break;
	}
	if (!conn) {
		rxs_put_be32(b + 4, 0xffffffffu);
		return DEBUG_CONN_LEN;
	}
	addr_v4(&conn->peer->addr, b + 0, b + 32);
	rxs_put_be32(b + 4, conn->cid);
	rxs_put_be32(b + 8, conn->serial);
	rxs_put_be32(b + 28, (uint32_t)conn->abort_code);
	b[34] = 0; /* connection flags: none of OpenAFS's apply */
	b[35] = conn->client ? 0 : 1;
	b[36] = conn->security_index;
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++)
		debug_channel(conn, i, b);
	/* secStats (56..131) stays zero: rxnull keeps no statistics, and
	 * rxdebug then prints no security line, as for OpenAFS's rxnull. */
	rxs_put_be32(b + 132, conn->epoch);
	rxs_put_be32(b + 136, conn->peer->if_mtu);
	return DEBUG_CONN_LEN;
}

/* One rx_debugPeer from @p; refCount is the peer's reference count. */
static void peer_fill(const struct rxs_peer *p, uint8_t *b)
{
	/* srtt_us is 8 x srtt in microseconds; rxdebug wants 8 x srtt in
	 * milliseconds, and 4 x rttvar in milliseconds. */
	uint32_t rtt = p->rtt_count ? p->srtt_us / 1000 : 0;
	uint32_t rtt_dev = p->rtt_count ? p->rttvar_us / 1000 : 0;
	uint32_t mtu = p->if_mtu < p->max_mtu ? p->if_mtu : p->max_mtu;
	uint64_t now = rxs_now();
	uint64_t idle =
		now > p->last_used ? (now - p->last_used) / 1000000u : 0;

	addr_v4(&p->addr, b + 0, b + 4);
	rxs_put_be16(b + 6, (uint16_t)p->if_mtu);
	rxs_put_be32(b + 8, (uint32_t)idle);
	rxs_put_be16(b + 12, (uint16_t)(p->ref > 0xffff ? 0xffff : p->ref));
	rxs_put_be32(b + 24, rtt);
	rxs_put_be32(b + 28, rtt_dev);
	rxs_put_be16(b + 60, (uint16_t)p->if_mtu);
	rxs_put_be16(b + 62, (uint16_t)p->max_mtu);
	rxs_put_be16(b + 64, (uint16_t)p->jumbo_max);
	rxs_put_be16(b + 66, (uint16_t)p->jumbo_max);
	rxs_put_be16(b + 68, (uint16_t)mtu);
	rxs_put_be16(b + 70,
		     (uint16_t)(p->cwnd_hint > 0xffff ? 0xffff : p->cwnd_hint));
	rxs_put_be16(b + 72, 1);
	/* nSent, reSends and the byte counters (40, 44, 76..91) stay zero:
	 * the engine counts those per endpoint, not per peer. */
}

/* GETPEER: rx_debugPeer, 132 bytes, the index-th peer in hash order;
 * past the end, host 0xffffffff and all else zero (§S.1.7). */
static size_t debug_getpeer(struct rxsvc_sock *sock, int32_t index, uint8_t *b)
{
	int32_t n = 0;

	if (index < 0)
		index = 0;
	for (unsigned int i = 0; sock->peer_hash && i < sock->peer_hash_size;
	     i++) {
		for (const struct rxs_peer *p = sock->peer_hash[i]; p;
		     p = p->hash_next) {
			if (n++ == index) {
				peer_fill(p, b);
				return DEBUG_PEER_LEN;
			}
		}
	}
	rxs_put_be32(b + 0, 0xffffffffu);
	return DEBUG_PEER_LEN;
}

struct debug_tally {
	uint32_t server_conns, client_conns, peers, calls;
	uint64_t rtt_total_us; /* sum over peers of srtt x samples */
	uint32_t rtt_samples;
	uint32_t rtt_min_us, rtt_max_us;
};

static void debug_tally(struct rxsvc_sock *sock, struct debug_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (const struct rxs_conn *c = sock->conns; c; c = c->list_next) {
		if (c->client)
			t->client_conns++;
		else
			t->server_conns++;
	}
	for (const struct rxsvc_call *call = sock->calls; call;
	     call = call->all_next)
		t->calls++;
	for (unsigned int i = 0; sock->peer_hash && i < sock->peer_hash_size;
	     i++) {
		for (const struct rxs_peer *p = sock->peer_hash[i]; p;
		     p = p->hash_next) {
			uint32_t srtt = p->srtt_us >> 3;

			t->peers++;
			if (!p->rtt_count)
				continue;
			t->rtt_total_us += (uint64_t)srtt * p->rtt_count;
			t->rtt_samples += p->rtt_count;
			if (!t->rtt_min_us || srtt < t->rtt_min_us)
				t->rtt_min_us = srtt;
			if (srtt > t->rtt_max_us)
				t->rtt_max_us = srtt;
		}
	}
}

static void put_clock(uint8_t *b, unsigned int word, uint64_t us)
{
	rxs_put_be32(b + 4 * word, (uint32_t)(us / 1000000u));
	rxs_put_be32(b + 4 * (word + 1), (uint32_t)(us % 1000000u));
}

/*
 * RXSTATS: rx_statistics, 71 words (§S.1.8), from the endpoint's
 * counters.  The RTT lines are the peers' smoothed RTTs weighted by
 * their sample counts (the engine keeps no sum of raw samples).
 */
static size_t debug_rxstats(struct rxsvc_sock *sock, uint8_t *b)
{
	static const enum rxs_stat read_by_type[13] = {
		RXS_STAT_data_in,     RXS_STAT_ack_in,	  RXS_STAT_busy_in,
		RXS_STAT_abort_in,    RXS_STAT_ackall_in, RXS_STAT_challenge_in,
		RXS_STAT_response_in, RXS_STAT_debug_in,  RXS_STAT_params_in,
		RXS_STAT__COUNT,      RXS_STAT__COUNT,	  RXS_STAT__COUNT,
		RXS_STAT_version_in,
	};
	struct debug_tally t;
	uint32_t data_out = stat32(sock, RXS_STAT_data_out);
	uint32_t retrans = stat32(sock, RXS_STAT_data_retrans);

#define W(i, v) rxs_put_be32(b + 4 * (i), (uint32_t)(v))
	debug_tally(sock, &t);
	W(0, stat32(sock, RXS_STAT_pkts_in));
	W(1, stat32(sock, RXS_STAT_rx_drop_nobuf));
	W(5, stat32(sock, RXS_STAT_bad_packets));
	W(8, stat32(sock, RXS_STAT_rx_drop_nobuf));
	for (unsigned int i = 0; i < 13; i++)
		if (read_by_type[i] != RXS_STAT__COUNT)
			W(11 + i, stat32(sock, read_by_type[i]));
	/* packetsRead[data] counts duplicates too, as OpenAFS does. */
	W(11, stat32(sock, RXS_STAT_data_in) + stat32(sock, RXS_STAT_data_dup));
	W(24, stat32(sock, RXS_STAT_data_in) + stat32(sock, RXS_STAT_data_dup));
	W(25, stat32(sock, RXS_STAT_ack_in));
	W(26, stat32(sock, RXS_STAT_data_dup));
	W(27, stat32(sock, RXS_STAT_data_after_last) +
		      stat32(sock, RXS_STAT_data_exceeds_window));
	W(28, data_out);
	W(29, stat32(sock, RXS_STAT_ack_out));
	W(30, stat32(sock, RXS_STAT_busy_out));
	W(31, stat32(sock, RXS_STAT_abort_out));
	W(40, stat32(sock, RXS_STAT_version_out));
	W(41, stat32(sock, RXS_STAT_ack_out));
	W(42, stat32(sock, RXS_STAT_pings_out));
	W(43, stat32(sock, RXS_STAT_abort_out));
	W(44, stat32(sock, RXS_STAT_busy_out));
	W(45, data_out - retrans);
	W(46, retrans);
	W(48, stat32(sock, RXS_STAT_ack_stale));
	if (t.rtt_samples) {
		put_clock(b, 49, t.rtt_total_us);
		put_clock(b, 51, t.rtt_min_us);
		put_clock(b, 53, t.rtt_max_us);
		W(55, t.rtt_samples);
	}
	W(56, t.server_conns);
	W(57, t.client_conns);
	W(58, t.peers);
	W(59, t.calls);
	W(60, charged_now(sock));
	W(61, stat32(sock, RXS_STAT_send_errors));
	W(63, stat32(sock, RXS_STAT_rx_drop_stale));
	W(66, stat32(sock, RXS_STAT_busy_in));
#undef W
	return DEBUG_RXSTATS_LEN;
}

/*
 * A DEBUG request (§S.1): rx_debugIn is {be32 type, be32 index}; bytes
 * missing from a short body count as zero, as OpenAFS reads them (it
 * does not check the length).  Unknown types get OpenAFS's BADTYPE
 * reply, two words of -8.  - I/O thread; does not consume @pkt.
 */
void rxs_debug_request(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr)
{
	uint8_t in[8] = { 0 };
	uint8_t body[DEBUG_RXSTATS_LEN]; /* the largest reply */
	size_t blen = pkt->len - RXS_HEADER_SIZE, len;
	int32_t type, index;

	/* Without CLIENT_INITIATED it may be a reply: never answer one. */
	if (!(hdr->flags & RXS_CLIENT_INITIATED))
		return;
	memcpy(in, pkt->buf + RXS_HEADER_SIZE, blen < 8 ? blen : 8);
	type = (int32_t)rxs_get_be32(in);
	index = (int32_t)rxs_get_be32(in + 4);
	memset(body, 0, sizeof(body));
	switch (type) {
	case DEBUGI_GETSTATS:
		len = debug_getstats(sock, body);
		break;
	case DEBUGI_GETCONN:
	case DEBUGI_GETALLCONN:
		len = debug_getconn(sock, index, type == DEBUGI_GETALLCONN,
				    body);
		break;
	case DEBUGI_RXSTATS:
		len = debug_rxstats(sock, body);
		break;
	case DEBUGI_GETPEER:
		len = debug_getpeer(sock, index, body);
		break;
	default:
		rxs_put_be32(body, (uint32_t)RX_DEBUGI_BADTYPE);
		rxs_put_be32(body + 4, (uint32_t)RX_DEBUGI_BADTYPE);
		len = 8;
		break;
	}
	debug_reply(sock, pkt, hdr, body, len);
}
