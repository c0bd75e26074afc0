/* SPDX-License-Identifier: MIT */
/*
 * peer_object.c - remote transport addresses.  A peer carries what is
 * learned about a path and shared by every connection over it: the RTT
 * estimate, the MTU and jumbogram size the peer advertised, a congestion
 * hint for the next call, and the BUSY rate limit.  I/O thread only.
 */
#include <stdlib.h>

#include "rxsvc/internal.h"

#define PEER_IDLE_US (60ull * 1000000u) /* reap unused peers after 60 s */

static int peer_hash_grow(struct rxsvc_sock *sock)
{
	unsigned int nsize = sock->peer_hash_size ? sock->peer_hash_size * 2 :
						    256;
	struct rxs_peer **n = calloc(nsize, sizeof(*n));

	if (!n)
		return -1;
	for (unsigned int i = 0; i < sock->peer_hash_size; i++) {
		struct rxs_peer *p = sock->peer_hash[i], *next;

		for (; p; p = next) {
			next = p->hash_next;
			p->hash_next = n[p->hash & (nsize - 1)];
			n[p->hash & (nsize - 1)] = p;
		}
	}
	free(sock->peer_hash);
	sock->peer_hash = n;
	sock->peer_hash_size = nsize;
	return 0;
}

/*
 * Find the peer for @addr, creating it if @create.  Returns a peer with
 * no new reference (callers that keep it take one), or NULL.
 */
struct rxs_peer *rxs_peer_lookup(struct rxsvc_sock *sock,
				 const union rxs_addr *addr, bool create)
{
	uint32_t h = rxs_addr_hash(addr);
	struct rxs_peer *p;

	if (sock->peer_hash) {
		for (p = sock->peer_hash[h & (sock->peer_hash_size - 1)]; p;
		     p = p->hash_next)
			if (p->hash == h && rxs_addr_equal(&p->addr, addr))
				return p;
	}
	if (!create)
		return NULL;
	if (!sock->peer_hash && peer_hash_grow(sock) < 0)
		return NULL;
	p = rxs_zalloc(sizeof(*p));
	if (!p)
		return NULL;
	p->addr = *addr;
	p->addrlen = rxs_addr_len(addr);
	p->hash = h;
	p->max_mtu = 1444;
	p->if_mtu = 1444;
	p->jumbo_max = 1;
	p->cwnd_hint = 4;
	p->last_used = rxs_now();
	rxs_rtt_init(p);
	p->hash_next = sock->peer_hash[h & (sock->peer_hash_size - 1)];
	sock->peer_hash[h & (sock->peer_hash_size - 1)] = p;
	RXS_STAT_INC(sock, peers_created);
	return p;
}

void rxs_peer_get(struct rxs_peer *peer)
{
	peer->ref++;
}

void rxs_peer_put(struct rxsvc_sock *sock, struct rxs_peer *peer)
{
	RXS_ASSERT(peer->ref > 0);
	peer->ref--;
	if (peer->ref == 0)
		peer->last_used = rxs_now();
}

/* Free peers that no connection uses and that have been idle a while. */
void rxs_peer_reap(struct rxsvc_sock *sock, uint64_t now)
{
	for (unsigned int i = 0; i < sock->peer_hash_size; i++) {
		struct rxs_peer **pp = &sock->peer_hash[i];

		while (*pp) {
			struct rxs_peer *p = *pp;

			if (p->ref == 0 && now - p->last_used > PEER_IDLE_US) {
				*pp = p->hash_next;
				rxs_free(p);
				RXS_STAT_INC(sock, peers_reaped);
			} else {
				pp = &p->hash_next;
			}
		}
	}
}

void rxs_peer_destroy_all(struct rxsvc_sock *sock)
{
	for (unsigned int i = 0; i < sock->peer_hash_size; i++) {
		struct rxs_peer *p = sock->peer_hash[i], *next;

		for (; p; p = next) {
			next = p->hash_next;
			rxs_free(p);
		}
	}
	free(sock->peer_hash);
	sock->peer_hash = NULL;
	sock->peer_hash_size = 0;
}

#define PEER_KEEPALIVE_US (20ull * 1000000u)

/*
 * Keep NAT mappings and the peer's idea of us alive: a VERSION packet
 * without CLIENT_INITIATED (no answer expected) to every peer that has
 * live connections and heard nothing from us for 20 s, as Linux does
 * (rx-protocol.md §5.4).  - I/O thread, from the one-second tick.
 */
void rxs_peer_keepalive(struct rxsvc_sock *sock, uint64_t now)
{
	static const uint8_t nul;

	for (unsigned int i = 0; i < sock->peer_hash_size; i++) {
		for (struct rxs_peer *p = sock->peer_hash[i]; p;
		     p = p->hash_next) {
			struct rxs_hdr h = { 0 };

			if (!p->ref || now - p->last_sent < PEER_KEEPALIVE_US)
				continue;
			h.epoch = sock->epoch;
			h.type = RXS_PKT_VERSION;
			h.flags = RXS_LAST_PACKET;
			rxs_send_raw(sock, &p->addr, &h, &nul, 1);
			p->last_sent = now;
		}
	}
}

/*
 * An ICMP error about @addr (port or host unreachable): every call with
 * that peer ends as a network error with the errno (design.md,
 * "Decisions"); no ABORT goes to a peer that is not there.
 */
void rxs_peer_error(struct rxsvc_sock *sock, const union rxs_addr *addr,
		    int error)
{
	struct rxs_peer *peer = rxs_peer_lookup(sock, addr, false);

	RXS_STAT_INC(sock, icmp_errors);
	if (!peer)
		return;
	for (struct rxs_conn *c = sock->conns; c; c = c->list_next) {
		if (c->peer != peer)
			continue;
		for (unsigned int ch = 0; ch < RXS_MAXCALLS; ch++) {
			struct rxsvc_call *call = c->chan[ch].call;

			if (call) {
				rxs_observe(sock, RXSVC_EV_NET_ERROR, call,
					    NULL);
				rxs_call_complete(call,
						  RXSVC_COMPLETE_NET_ERROR, 0,
						  -error);
			}
		}
	}
}
