/* SPDX-License-Identifier: MIT */
/*
 * conn_object.c - connections: client connections shared by calls with
 * the same peer, service, security index and key (4 channels each, call
 * numbers rising per channel, one serial counter), and service
 * connections found by (epoch, cid) - plus the peer's address unless the
 * epoch's top bit says "match on cid only" (rx-protocol.md §1.3-1.5).
 * Idle connections stay a while for reuse and are then reaped.
 * I/O thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rxsvc/internal.h"

#define CONN_HASH_SIZE      4096
#define CONN_IDLE_CLIENT_US (30ull * 1000000u)
#define CONN_IDLE_SERVER_US (120ull * 1000000u)

static unsigned int conn_bucket(uint32_t epoch, uint32_t cid)
{
	return ((epoch * 2654435761u) ^ (cid >> RXS_CIDSHIFT) * 40503u) &
	       (CONN_HASH_SIZE - 1);
}

static int conn_hash_init(struct rxsvc_sock *sock)
{
	if (sock->conn_hash)
		return 0;
	sock->conn_hash = calloc(CONN_HASH_SIZE, sizeof(*sock->conn_hash));
	if (!sock->conn_hash)
		return -1;
	sock->conn_hash_size = CONN_HASH_SIZE;
	return 0;
}

static struct rxs_conn *conn_alloc(struct rxsvc_sock *sock,
				   struct rxs_peer *peer, uint32_t epoch,
				   uint32_t cid, bool client)
{
	struct rxs_conn *conn;
	unsigned int b;

	if (conn_hash_init(sock) < 0)
		return NULL;
	conn = rxs_zalloc(sizeof(*conn));
	if (!conn)
		return NULL;
	conn->peer = peer;
	rxs_peer_get(peer);
	conn->epoch = epoch;
	conn->cid = cid & RXS_CIDMASK;
	conn->client = client;
	conn->debug_id = atomic_fetch_add(&sock->next_debug_id, 1);
	conn->security = &rxs_rxnull;
	conn->idle_since = rxs_now();
	b = conn_bucket(epoch, conn->cid);
	conn->hash_next = sock->conn_hash[b];
	sock->conn_hash[b] = conn;
	conn->list_next = sock->conns;
	if (sock->conns)
		sock->conns->list_prev = conn;
	sock->conns = conn;
	RXS_STAT_INC(sock, conns_created);
	return conn;
}

static void conn_free(struct rxsvc_sock *sock, struct rxs_conn *conn)
{
	unsigned int b = conn_bucket(conn->epoch, conn->cid);
	struct rxs_conn **pp;

	for (pp = &sock->conn_hash[b]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == conn) {
			*pp = conn->hash_next;
			break;
		}
	}
	if (conn->list_prev)
		conn->list_prev->list_next = conn->list_next;
	else
		sock->conns = conn->list_next;
	if (conn->list_next)
		conn->list_next->list_prev = conn->list_prev;
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++)
		rxs_rxpkt_free(&sock->rxpool, conn->held[i]);
	rxs_sec_conn_free(conn);
	rxs_peer_put(sock, conn->peer);
	rxs_free(conn);
}

uint32_t rxs_conn_next_serial(struct rxs_conn *conn)
{
	conn->serial++;
	if (conn->serial == 0) /* 0 means "never sent": skip it */
		conn->serial = 1;
	return conn->serial;
}

/*
 * A client call's reply is all in: its final ACK waits this long for the
 * channel's next call, whose first DATA packet ACKs the reply instead
 * (Linux does the same).  Well under a server's tail-loss probe time
 * (two RTTs plus 2 ms here; OpenAFS and Linux wait an RTO).
 */
#define FINAL_ACK_DELAY_US 1000u

void rxs_conn_final_ack_later(struct rxsvc_sock *sock, struct rxs_conn *conn,
			      unsigned int channel)
{
	conn->fack_pending |= (uint8_t)(1u << channel);
	if (conn->on_fack)
		return;
	conn->on_fack = true;
	conn->ref++;
	conn->fack_at = rxs_now() + FINAL_ACK_DELAY_US;
	conn->fack_next = NULL;
	if (sock->fack_tail)
		sock->fack_tail->fack_next = conn;
	else
		sock->fack_head = conn;
	sock->fack_tail = conn;
}

/* Send the held final ACKs that are due (all of them when closing). */
void rxs_conn_final_acks_run(struct rxsvc_sock *sock, uint64_t now, bool all)
{
	struct rxs_conn *conn;

	while ((conn = sock->fack_head) != NULL &&
	       (all || conn->fack_at <= now)) {
		sock->fack_head = conn->fack_next;
		if (!sock->fack_head)
			sock->fack_tail = NULL;
		conn->fack_next = NULL;
		conn->on_fack = false;
		for (unsigned int ch = 0; ch < RXS_MAXCALLS; ch++)
			if (conn->fack_pending & (1u << ch))
				rxs_send_final_ack_chan(sock, conn, ch,
							RXS_ACK_IDLE);
		conn->fack_pending = 0;
		conn->ref--;
	}
}

/*
 * Give a client call a connection and a channel: reuse a connection to
 * the same peer/service/security/key with a free channel, else make one.
 * Returns 0 or -ENOMEM.
 */
int rxs_conn_connect_call(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	struct rxs_conn *conn = NULL, *c;
	struct rxs_peer *peer;
	unsigned int ch;

	peer = rxs_peer_lookup(sock, &call->peer_addr, true);
	if (!peer)
		return -ENOMEM;
	if (!(call->flags & RXSVC_CALL_EXCLUSIVE)) {
		for (c = sock->conns; c; c = c->list_next) {
			if (c->client && !c->exclusive && !c->dead &&
			    c->peer == peer &&
			    c->service_id == call->service_id &&
			    c->key == call->key &&
			    c->level == call->sec_level &&
			    c->nactive < RXS_MAXCALLS) {
				conn = c;
				break;
			}
		}
	}
	if (!conn) {
		sock->next_cid += 1u << RXS_CIDSHIFT;
		if (sock->next_cid == 0)
			sock->next_cid = 1u << RXS_CIDSHIFT;
		conn = conn_alloc(sock, peer, sock->epoch, sock->next_cid,
				  true);
		if (!conn)
			return -ENOMEM;
		conn->service_id = call->service_id;
		conn->exclusive = call->flags & RXSVC_CALL_EXCLUSIVE;
		if (rxs_sec_client_init(conn, call) < 0) {
			/* Unusable: reaped as soon as it is idle. */
			conn->dead = true;
			return -ENOKEY;
		}
	}
	/* A free channel whose final ACK is still held back first: this
	 * call's first packet ACKs the last reply instead. */
	for (ch = 0; ch < RXS_MAXCALLS; ch++)
		if (!conn->chan[ch].call && (conn->fack_pending & (1u << ch)))
			break;
	/* Otherwise the free channel used least recently: a server may
	 * still be finishing the call it last carried (OpenAFS answers a
	 * new call on a channel whose aborted call it has not yet let go
	 * with BUSY). */
	if (ch == RXS_MAXCALLS)
		for (unsigned int k = 0; k < RXS_MAXCALLS; k++) {
			unsigned int n = (conn->next_chan + k) % RXS_MAXCALLS;

			if (!conn->chan[n].call) {
				ch = n;
				break;
			}
		}
	RXS_ASSERT(ch < RXS_MAXCALLS);
	conn->next_chan = (uint8_t)((ch + 1) % RXS_MAXCALLS);
	if (conn->fack_pending & (1u << ch)) {
		conn->fack_pending &= (uint8_t)~(1u << ch);
		RXS_STAT_INC(sock, final_acks_implicit);
	}
	conn->chan[ch].call = call;
	conn->chan[ch].call_counter++;
	if (conn->chan[ch].call_counter == 0)
		conn->chan[ch].call_counter = 1;
	conn->nactive++;
	conn->ref++;
	call->conn = conn;
	call->channel = ch;
	call->call_number = conn->chan[ch].call_counter;
	return 0;
}

struct rxs_conn *rxs_conn_find_service(struct rxsvc_sock *sock,
				       const struct rxs_hdr *hdr,
				       const union rxs_addr *from)
{
	uint32_t cid = hdr->cid & RXS_CIDMASK;
	struct rxs_conn *c;

	if (!sock->conn_hash)
		return NULL;
	for (c = sock->conn_hash[conn_bucket(hdr->epoch, cid)]; c;
	     c = c->hash_next) {
		if (c->client || c->epoch != hdr->epoch || c->cid != cid)
			continue;
		/* Classic epochs bind the connection to the address too. */
		if (!(hdr->epoch & RXS_EPOCH_RANDOM) &&
		    !rxs_addr_equal(&c->peer->addr, from))
			continue;
		return c;
	}
	return NULL;
}

struct rxs_conn *rxs_conn_new_service(struct rxsvc_sock *sock,
				      const struct rxs_hdr *hdr,
				      const union rxs_addr *from)
{
	struct rxs_peer *peer = rxs_peer_lookup(sock, from, true);
	struct rxs_conn *conn;

	if (!peer)
		return NULL;
	conn = conn_alloc(sock, peer, hdr->epoch, hdr->cid, false);
	if (!conn)
		return NULL;
	conn->service_id = hdr->service_id;
	conn->security_index = hdr->security_index;
	return conn;
}

struct rxs_conn *rxs_conn_find_client(struct rxsvc_sock *sock,
				      const struct rxs_hdr *hdr)
{
	uint32_t cid = hdr->cid & RXS_CIDMASK;
	struct rxs_conn *c;

	if (!sock->conn_hash || hdr->epoch != sock->epoch)
		return NULL;
	for (c = sock->conn_hash[conn_bucket(hdr->epoch, cid)]; c;
	     c = c->hash_next)
		if (c->client && c->cid == cid)
			return c;
	return NULL;
}

/*
 * Take a completed call off its channel, remembering what is needed to
 * answer the peer's retransmissions of it.
 */
void rxs_conn_detach_call(struct rxsvc_sock *sock, struct rxsvc_call *call)
{
	struct rxs_conn *conn = call->conn;
	struct rxs_channel *chan;

	if (!conn)
		return;
	chan = &conn->chan[call->channel];
	if (chan->call == call) {
		chan->call = NULL;
		chan->last_call = call->call_number;
		chan->last_seq = atomic_load(&call->rx_last);
		chan->last_abort = 0;
		chan->last_client_done = false;
		switch (atomic_load(&call->completion)) {
		case RXSVC_COMPLETE_LOCALLY_ABORTED:
			chan->last_abort = call->abort_code;
			break;
		case RXSVC_COMPLETE_SUCCEEDED:
			chan->last_client_done = call->client;
			break;
		case RXSVC_COMPLETE_NONE:
		case RXSVC_COMPLETE_BUSY:
		case RXSVC_COMPLETE_REMOTELY_ABORTED:
		case RXSVC_COMPLETE_NET_ERROR:
		case RXSVC_COMPLETE_LOCAL_ERROR:
			break;
		}
		conn->nactive--;
		if (conn->nactive == 0)
			conn->idle_since = rxs_now();
		/* Remember how far the path's window got for the next call. */
		conn->peer->cwnd_hint = call->cwnd < 4 ? 4 : call->cwnd;
		if (conn->peer->cwnd_hint > 64)
			conn->peer->cwnd_hint = 64;
	}
	conn->ref--;
	call->conn = NULL;
}

/* Abort every call of a connection (a connection-level ABORT). */
void rxs_conn_abort(struct rxsvc_sock *sock, struct rxs_conn *conn,
		    int32_t code)
{
	conn->dead = true;
	conn->abort_code = code;
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++) {
		struct rxsvc_call *call = conn->chan[i].call;

		if (call)
			rxs_call_complete(call,
					  RXSVC_COMPLETE_REMOTELY_ABORTED,
					  code, -ECONNABORTED);
	}
}

/* End every call of a connection locally (e.g. security refused). */
void rxs_conn_local_abort(struct rxsvc_sock *sock, struct rxs_conn *conn,
			  int32_t code, int error)
{
	conn->dead = true;
	conn->abort_code = code;
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++) {
		struct rxsvc_call *call = conn->chan[i].call;

		if (call)
			rxs_call_complete(call,
					  RXSVC_COMPLETE_LOCALLY_ABORTED,
					  code, error);
	}
}

/* Free idle connections (all of them when the endpoint closes). */
void rxs_conn_reap(struct rxsvc_sock *sock, uint64_t now, bool all)
{
	struct rxs_conn *c = sock->conns, *next;

	for (; c; c = next) {
		uint64_t idle = c->client ? CONN_IDLE_CLIENT_US :
					    CONN_IDLE_SERVER_US;

		next = c->list_next;
		if (c->ref || c->nactive)
			continue;
		if (all || c->dead || now - c->idle_since > idle) {
			conn_free(sock, c);
			RXS_STAT_INC(sock, conns_reaped);
		}
	}
	if (all) {
		free(sock->conn_hash);
		sock->conn_hash = NULL;
	}
}
