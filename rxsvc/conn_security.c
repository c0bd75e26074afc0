/* SPDX-License-Identifier: MIT */
/*
 * conn_security.c - a connection's security: rxnull, or rxkad (index 2)
 * at clear, auth or crypt (rx-protocol.md §S.3), glued to the engine.
 *
 * Client connections are keyed from the call's token when they are made;
 * the server's CHALLENGE is answered with a RESPONSE carrying the ticket,
 * and the calls' unacknowledged DATA is resent at once.  Service
 * connections start unkeyed: DATA on them is dropped (counted) and
 * answered with a CHALLENGE until a RESPONSE checks out against the
 * service's keys; a RESPONSE that does not is answered with a connection
 * ABORT carrying the RXKAD code.  Every DATA packet's header checksum is
 * checked on the I/O thread before it enters a ring, and so is its
 * sealed length word at auth and crypt: a bad packet is dropped and
 * counted, never ACKed or delivered.  - All on the I/O thread unless noted.
 *
 * Decryption in recv (design.md, "Decisions").  At crypt the I/O thread
 * decrypts only the first 8-byte block, which holds the length word (the
 * packet check), into a local; the payload stays ciphertext.  PCBC chains
 * each block to the one before only through V_{i+1} = P_i ^ C_i, so the
 * packet keeps that value for its first user block (chain[]) and the user
 * bytes can be decrypted later, from any block boundary on:
 *
 *   - rxsvc_call_recv() decrypts whole blocks straight from the packet
 *     into the user's buffer (no extra copy: rxs_sec_open());
 *   - a read that ends inside a block, and PEEK (which must leave the
 *     data readable again), decrypt the rest of the packet in place once
 *     (rxs_sec_open_in_place()) and copy from there.
 *
 * @opened counts the user bytes decrypted so far; while @sealed, the
 * reader's offset in the packet equals @opened (bytes before it were
 * consumed).  The call holds its own reference on the connection's rxkad
 * state (call->rxkad, taken when its first crypt packet is filed), as it
 * may be read after completion, when the connection is detached.  The
 * state is wiped (OPENSSL_cleanse) when its last reference goes.
 *
 * Interceptor-style endpoints see DATA on the I/O thread and never call
 * recv: there the payload is decrypted in place before it is filed.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <openssl/crypto.h>

#include "rxsvc/internal.h"
#include "security/rxkad.h"
#include <rxsvc/key.h>

#define CHALLENGE_GAP_US 100000 /* at most 10 CHALLENGEs a second */

/* Guards every endpoint's default key (rare: set once, read per begin). */
static pthread_mutex_t default_key_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t unix_clock(void)
{
	return (uint32_t)time(NULL);
}

/* Unix seconds for ticket times (a test moves it to expire tickets). */
uint32_t (*rxs_sec_clock)(void) = unix_clock;

static uint32_t unix_now(void)
{
	return __atomic_load_n(&rxs_sec_clock, __ATOMIC_RELAXED)();
}

/*
 * A connection's rxkad state with the references on it: the connection's
 * and those of its calls that decrypt in recv.  The last put may come from
 * a user thread (rxs_call_put) or the I/O thread.
 */
struct sec_state {
	struct rxs_rxkad_conn rk; /* first: conn->rxkad points here */
	atomic_uint ref;
};

static struct rxs_rxkad_conn *sec_state_new(void)
{
	struct sec_state *st = rxs_zalloc(sizeof(*st));

	if (!st)
		return NULL;
	atomic_init(&st->ref, 1);
	return &st->rk;
}

static struct rxs_rxkad_conn *sec_state_get(struct rxs_rxkad_conn *rk)
{
	struct sec_state *st = (struct sec_state *)(void *)rk;

	atomic_fetch_add_explicit(&st->ref, 1, memory_order_relaxed);
	return rk;
}

static void sec_state_put(struct rxs_rxkad_conn *rk)
{
	struct sec_state *st = (struct sec_state *)(void *)rk;

	/* acq_rel: every user is done with it (and TSan sees that). */
	if (!rk ||
	    atomic_fetch_sub_explicit(&st->ref, 1, memory_order_acq_rel) != 1)
		return;
	rxs_rxkad_conn_clear(rk);
	rxs_free(st);
}

/*
 * A client call got its connection: give it its reference on the rxkad
 * state now, so that its sender can seal packets itself.  - [io]
 */
void rxs_sec_call_connected(struct rxsvc_call *call)
{
	struct rxs_rxkad_conn *rk = call->conn ? call->conn->rxkad : NULL;

	if (rk && !atomic_load_explicit(&call->rxkad, memory_order_relaxed))
		atomic_store_explicit(&call->rxkad, sec_state_get(rk),
				      memory_order_release);
}

/*
 * Seal a full packet on the sending user's thread, before it is queued
 * (send_data): the cipher work then runs beside the I/O thread instead
 * of on it.  Left to the I/O thread when the call has no state yet (not
 * connected) or sealing fails there (it aborts the call).  - [user]
 */
void rxs_sec_seal_user(struct rxsvc_call *call, struct rxs_txpkt *p)
{
	struct rxs_rxkad_conn *rk =
		atomic_load_explicit(&call->rxkad, memory_order_acquire);
	const struct rxs_rxkad_token *t;
	size_t wire;

	if (!rk)
		return;
	t = call->key ? rxs_key_token(call->key) : NULL;
	if (t && t->expiry && unix_clock() >= t->expiry)
		return; /* the I/O thread ends the call */
	if (rxs_rxkad_seal(rk, call->call_number, p->seq,
			   p->buf + RXS_HEADER_SIZE, p->data_len,
			   RXS_TX_BUFSIZE - RXS_HEADER_SIZE, &wire) < 0)
		return;
	p->wire_len = (uint16_t)wire;
	p->sealed = 1;
}

/* Can two packets of this call be sealed at once (crypt, keyed)?  [user] */
bool rxs_sec_pairs(struct rxsvc_call *call)
{
	struct rxs_rxkad_conn *rk =
		atomic_load_explicit(&call->rxkad, memory_order_acquire);

	return rk && rk->level == 2;
}

/* rxs_sec_seal_user for two packets at once (@a first).  - [user] */
void rxs_sec_seal_user2(struct rxsvc_call *call, struct rxs_txpkt *a,
			struct rxs_txpkt *b)
{
	struct rxs_rxkad_conn *rk =
		atomic_load_explicit(&call->rxkad, memory_order_acquire);
	const struct rxs_rxkad_token *t;
	size_t wa, wb;

	if (!rk)
		return;
	t = call->key ? rxs_key_token(call->key) : NULL;
	if (t && t->expiry && unix_clock() >= t->expiry)
		return; /* the I/O thread ends the call */
	if (rxs_rxkad_seal2(rk, call->call_number, a->seq,
			    a->buf + RXS_HEADER_SIZE, a->data_len, &wa, b->seq,
			    b->buf + RXS_HEADER_SIZE, b->data_len, &wb,
			    RXS_TX_BUFSIZE - RXS_HEADER_SIZE) < 0)
		return;
	a->wire_len = (uint16_t)wa;
	a->sealed = 1;
	b->wire_len = (uint16_t)wb;
	b->sealed = 1;
}

/* Drop the call's reference on the rxkad state.  - Any thread. */
void rxs_sec_call_free(struct rxsvc_call *call)
{
	sec_state_put(call->rxkad);
	call->rxkad = NULL;
}

/* The user bytes per DATA packet and the payload offset of a call. */
void rxs_sec_call_sizes(struct rxsvc_call *call, unsigned int index,
			unsigned int level)
{
	if (index != 2) {
		call->sec_hdr = 0;
		call->payload_max = RXS_TX_PAYLOAD;
		return;
	}
	call->sec_hdr = (unsigned int)rxs_rxkad_hdr_len(level);
	call->payload_max =
		(unsigned int)rxs_rxkad_max_data(level, RXS_TX_PAYLOAD);
}

/* Client: key a new connection from the call's token.  0 or -errno. */
int rxs_sec_client_init(struct rxs_conn *conn, struct rxsvc_call *call)
{
	const struct rxs_rxkad_token *tok;
	int ret;

	conn->key = call->key;
	conn->level = call->sec_level;
	if (!call->key)
		return 0;
	tok = rxs_key_token(call->key);
	if (!tok)
		return -ENOKEY;
	conn->rxkad = sec_state_new();
	if (!conn->rxkad)
		return -ENOMEM;
	ret = rxs_rxkad_init_client(conn->rxkad, tok->session_key,
				    call->sec_level, conn->epoch, conn->cid,
				    tok->expiry);
	if (ret < 0)
		return ret;
	rxs_key_get(call->key);
	conn->security_index = 2;
	return 0;
}

/*
 * Server: what a new connection with this header's security index may
 * be.  0 (conn set up), or -EPROTONOSUPPORT: the service does not offer
 * that index (answer RX_INVALID_OPERATION, as OpenAFS does).
 */
int rxs_sec_server_init(struct rxsvc_sock *sock, struct rxs_conn *conn,
			const struct rxs_hdr *hdr)
{
	const struct rxs_service_sec *ss = rxs_service_sec(sock,
							   hdr->service_id);
	int ret;

	if (hdr->security_index == 0)
		return ss && ss->require_rxkad ? -EPROTONOSUPPORT : 0;
	if (hdr->security_index != 2 || !ss || !ss->keyset)
		return -EPROTONOSUPPORT;
	conn->rxkad = sec_state_new();
	if (!conn->rxkad)
		return -ENOMEM;
	ret = rxs_rxkad_init_server(conn->rxkad, ss->min_level, hdr->epoch,
				    hdr->cid);
	if (ret < 0)
		return ret;
	conn->keyset = ss->keyset;
	conn->security_index = 2;
	return 0;
}

void rxs_sec_conn_free(struct rxs_conn *conn)
{
	sec_state_put(conn->rxkad);
	conn->rxkad = NULL;
	if (conn->client && conn->key)
		rxsvc_key_put(conn->key);
	conn->key = NULL;
}

bool rxs_sec_conn_ready(const struct rxs_conn *conn)
{
	return !conn->rxkad || conn->rxkad->keyed;
}

/*
 * Seal a DATA packet's payload in place before its first transmission
 * (the user's bytes sit after sec_hdr free bytes).  Sets the wire length.
 */
int rxs_sec_seal(struct rxsvc_call *call, struct rxs_txpkt *p)
{
	struct rxs_conn *conn = call->conn;
	size_t wire;
	int ret;

	if (!conn->rxkad) {
		p->wire_len = p->data_len;
		return 0;
	}
	/* A client's ticket that ran out while the call was in flight: the
	 * server would refuse what we send (RXKADEXPIRED). */
	if (conn->client && call->key) {
		const struct rxs_rxkad_token *t = rxs_key_token(call->key);

		/* The wall clock, not rxs_sec_clock: tests move that one to
		 * expire tickets under the server's checks. */
		if (t && t->expiry && unix_clock() >= t->expiry)
			return -EKEYEXPIRED;
	}
	ret = rxs_rxkad_seal(conn->rxkad, call->call_number, p->seq,
			     p->buf + RXS_HEADER_SIZE, p->data_len,
			     RXS_TX_BUFSIZE - RXS_HEADER_SIZE, &wire);
	if (ret < 0)
		return ret;
	p->wire_len = (uint16_t)wire;
	return 0;
}

/* The header checksum of a DATA packet (0 for rxnull). */
uint16_t rxs_sec_cksum(struct rxsvc_call *call, uint32_t seq)
{
	struct rxs_conn *conn = call->conn;

	if (!conn->rxkad)
		return 0;
	return rxs_rxkad_cksum(conn->rxkad, call->call_number, call->channel,
			       seq);
}

/* A crypt packet's ticket ran out in flight: abort the call. */
static void verify_expired(struct rxsvc_call *call)
{
	rxs_send_abort_call(call, RXKADEXPIRED);
	rxs_call_complete(call, RXSVC_COMPLETE_LOCALLY_ABORTED, RXKADEXPIRED,
			  -EKEYEXPIRED);
}

/*
 * Check a received DATA (sub-)packet before it is filed: the header
 * checksum @cksum, then per level.  At auth the first block is unsealed
 * in place; at crypt only checked, and the payload is left for recv to
 * decrypt (see the top of this file), unless an interceptor takes the
 * data on this thread.  On success the user bytes are at sp->buf +
 * sp->data_off, sp->data_len long.  -EBADMSG (drop it) with *abort_code,
 * or 0.  A ticket that expired aborts the call with RXKADEXPIRED.
 */
int rxs_sec_verify(struct rxsvc_call *call, struct rxs_rxpkt *sp,
		   uint16_t cksum, int32_t *abort_code)
{
	struct rxs_conn *conn = call->conn;
	struct rxs_rxkad_conn *rk;
	size_t off, len;
	int ret;

	sp->sealed = 0;
	if (!conn)
		return -EBADMSG; /* completed by an earlier sub-packet */
	rk = conn->rxkad;
	if (!rk)
		return 0;
	ret = rxs_rxkad_check_expiry(rk, unix_now(), abort_code);
	if (ret < 0) {
		verify_expired(call);
		return -EBADMSG;
	}
	ret = rxs_rxkad_check_cksum(rk, call->call_number, call->channel,
				    sp->seq, cksum, abort_code);
	if (ret < 0)
		return ret;
	if (rk->level == 2 && !call->sock->interceptor) {
		ret = rxs_rxkad_check_crypt(rk, call->call_number, sp->seq,
					    sp->buf + sp->data_off,
					    sp->data_len, sp->chain, &len,
					    abort_code);
		if (ret < 0)
			return ret;
		if (!call->rxkad)
			call->rxkad = sec_state_get(rk);
		sp->data_off = (uint16_t)(sp->data_off + 8);
		sp->data_len = (uint16_t)len;
		sp->opened = 0;
		sp->sealed = len != 0;
		return 0;
	}
	ret = rxs_rxkad_unseal(rk, call->call_number, sp->seq,
			       sp->buf + sp->data_off, sp->data_len, &off,
			       &len, abort_code);
	if (ret < 0)
		return ret;
	sp->data_off = (uint16_t)(sp->data_off + off);
	sp->data_len = (uint16_t)len;
	return 0;
}

/*
 * Decrypt @len bytes (whole blocks) of @p's user data from @p->opened on,
 * straight into @out (the user's buffer); @p's buffer is not changed.
 * - The user's thread, at the head of the receive ring.
 */
void rxs_sec_open(struct rxsvc_call *call, struct rxs_rxpkt *p, uint8_t *out,
		  size_t len)
{
	RXS_ASSERT(p->sealed && !(len & 7) && p->opened + len <= p->data_len);
	rxs_rxkad_decrypt_more(call->rxkad, p->chain,
			       p->buf + p->data_off + p->opened, out, len);
	p->opened = (uint16_t)(p->opened + len);
	if (p->opened == p->data_len) {
		p->sealed = 0;
		OPENSSL_cleanse(p->chain, sizeof(p->chain));
	}
}

/* rxs_sec_open for two packets at once (two chains side by side). */
void rxs_sec_open2(struct rxsvc_call *call, struct rxs_rxpkt *p, uint8_t *op,
		   size_t np, struct rxs_rxpkt *q, uint8_t *oq, size_t nq)
{
	struct rxs_rxkad_conn *rk = call->rxkad;

	RXS_ASSERT(p->sealed && !(np & 7) && p->opened + np <= p->data_len);
	RXS_ASSERT(q->sealed && !(nq & 7) && q->opened + nq <= q->data_len);
	rxs_fcrypt_pcbc_decrypt2(&rk->sched, p->chain,
				 p->buf + p->data_off + p->opened, op, np,
				 q->chain, q->buf + q->data_off + q->opened, oq,
				 nq);
	p->opened = (uint16_t)(p->opened + np);
	q->opened = (uint16_t)(q->opened + nq);
	if (p->opened == p->data_len) {
		p->sealed = 0;
		OPENSSL_cleanse(p->chain, sizeof(p->chain));
	}
	if (q->opened == q->data_len) {
		q->sealed = 0;
		OPENSSL_cleanse(q->chain, sizeof(q->chain));
	}
}

/*
 * Decrypt the rest of @p's user data in place (the padding of its last
 * block too: the check in rxs_rxkad_check_crypt() keeps it inside the
 * payload).  - The user's thread, on a packet not yet consumed.
 */
void rxs_sec_open_in_place(struct rxsvc_call *call, struct rxs_rxpkt *p)
{
	uint8_t *at = p->buf + p->data_off + p->opened;
	size_t n = (((size_t)p->data_len + 7) & ~(size_t)7) - p->opened;

	if (!p->sealed)
		return;
	rxs_rxkad_decrypt_more(call->rxkad, p->chain, at, at, n);
	p->opened = p->data_len;
	p->sealed = 0;
	OPENSSL_cleanse(p->chain, sizeof(p->chain));
}

/* A connection-level packet built here (RESPONSEs can be ~12 KB). */
static void conn_send(struct rxsvc_sock *sock, struct rxs_conn *conn,
		      uint8_t type, const uint8_t *body, size_t blen)
{
	static __thread uint8_t buf[RXS_HEADER_SIZE + RXS_RXKAD_RESPONSE_HDR +
				    RXS_RXKAD_TICKET_MAX + 64];
	struct rxs_hdr h = { 0 };

	if (blen > sizeof(buf) - RXS_HEADER_SIZE)
		return;
	h.epoch = conn->epoch;
	h.cid = conn->cid;
	h.serial = rxs_conn_next_serial(conn);
	h.type = type;
	h.flags = conn->client ? RXS_CLIENT_INITIATED : 0;
	h.security_index = conn->security_index;
	h.service_id = conn->service_id;
	rxs_hdr_encode(buf, &h);
	memcpy(buf + RXS_HEADER_SIZE, body, blen);
	rxs_output_flush(sock); /* keep the order of what is queued */
	if (sendto(sock->fd, buf, RXS_HEADER_SIZE + blen, 0,
		   &conn->peer->addr.sa, conn->peer->addrlen) < 0)
		RXS_STAT_INC(sock, send_errors);
	else
		RXS_STAT_INC(sock, pkts_out);
}

/* Abort a whole connection with @code (a security failure). */
static void conn_abort_send(struct rxsvc_sock *sock, struct rxs_conn *conn,
			    int32_t code)
{
	uint8_t body[4];

	rxs_put_be32(body, (uint32_t)code);
	conn_send(sock, conn, RXS_PKT_ABORT, body, 4);
	RXS_STAT_INC(sock, abort_out);
	RXS_STAT_INC(sock, security_failures);
	rxs_observe(sock, RXSVC_EV_SECURITY, NULL, &conn->peer->addr);
}

/*
 * Server: DATA arrived on a connection not yet authenticated.  Send a
 * CHALLENGE (not more often than every 100 ms); the client resends its
 * DATA once it has answered.
 */
void rxs_sec_challenge(struct rxsvc_sock *sock, struct rxs_conn *conn)
{
	uint8_t body[RXS_RXKAD_CHALLENGE_LEN];
	uint64_t now = rxs_now();
	size_t len;

	RXS_STAT_INC(sock, rx_drop_unsecured);
	if (conn->challenge_at && now - conn->challenge_at < CHALLENGE_GAP_US)
		return;
	if (rxs_rxkad_challenge_issue(conn->rxkad, body, sizeof(body),
				      &len) < 0)
		return;
	conn->challenge_at = now;
	conn_send(sock, conn, RXS_PKT_CHALLENGE, body, len);
	RXS_STAT_INC(sock, challenges_out);
}

/* Client: answer a CHALLENGE; then resend what is waiting. */
void rxs_sec_input_challenge(struct rxsvc_sock *sock, struct rxs_conn *conn,
			     const uint8_t *body, size_t n)
{
	static __thread uint8_t out[RXS_RXKAD_RESPONSE_HDR +
				    RXS_RXKAD_TICKET_MAX + 64];
	struct rxs_rxkad_challenge ch;
	uint32_t calls[RXS_MAXCALLS];
	int32_t code = 0;
	size_t len;
	int ret;

	RXS_STAT_INC(sock, challenge_in);
	if (!conn->client || !conn->rxkad || !conn->key)
		return;
	ret = rxs_rxkad_challenge_parse(body, n, &ch, &code);
	if (ret == 0 && sock->fault.badnonce)
		ch.nonce++; /* a test's replayed or forged RESPONSE */
	if (ret == 0) {
		for (unsigned int i = 0; i < RXS_MAXCALLS; i++)
			calls[i] = conn->chan[i].call_counter;
		ret = rxs_rxkad_response_build(conn->rxkad, &ch, calls,
					       rxs_key_token(conn->key), out,
					       sizeof(out), &len, &code);
	}
	if (ret < 0) {
		/* E.g. the server wants a higher level than ours. */
		if (code)
			conn_abort_send(sock, conn, code);
		rxs_conn_local_abort(sock, conn, code ? code : RX_PROTOCOL_ERROR,
				     ret);
		return;
	}
	conn_send(sock, conn, RXS_PKT_RESPONSE, out, len);
	RXS_STAT_INC(sock, responses_out);
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++) {
		struct rxsvc_call *call = conn->chan[i].call;

		if (call && call->tx_top_sent)
			rxs_call_resend(call, true);
	}
}

/* Server: check a RESPONSE; abort the connection if it does not hold. */
void rxs_sec_input_response(struct rxsvc_sock *sock, struct rxs_conn *conn,
			    const uint8_t *body, size_t n)
{
	struct rxs_keyset_rock rock = { 0 };
	struct rxs_rxkad_verify_params p = { 0 };
	uint32_t calls[RXS_MAXCALLS];
	int32_t code = 0;
	int ret;

	RXS_STAT_INC(sock, response_in);
	if (conn->client || !conn->rxkad)
		return;
	rock.ks = conn->keyset;
	rock.service = conn->service_id;
	rock.security_index = 2;
	p.get_key = rxs_keyset_get_key;
	p.key_rock = &rock;
	p.now = unix_now();
	ret = rxs_rxkad_response_verify(conn->rxkad, body, n, &p, calls,
					&code);
	if (ret == -EALREADY || (ret < 0 && code == 0))
		return;
	if (ret < 0) {
		conn_abort_send(sock, conn, code);
		conn->dead = true;
		conn->abort_code = code;
		return;
	}
	RXS_STAT_INC(sock, responses_ok);
	for (unsigned int i = 0; i < RXS_MAXCALLS; i++) {
		struct rxs_rxpkt *held = conn->held[i];

		conn->held[i] = NULL;
		if (held)
			rxs_input_packet(sock, held);
	}
}

/* ---- the endpoint's default key ---- */

RXSVC_API int rxsvc_sock_set_default_key(struct rxsvc_sock *sock,
					 struct rxsvc_key *key,
					 unsigned int level)
{
	struct rxsvc_key *old;

	if (!sock || level > 2 || (key && rxs_key_security_index(key) != 2))
		return -EINVAL;
	if (key)
		rxs_key_get(key);
	pthread_mutex_lock(&default_key_lock);
	old = sock->default_key;
	sock->default_key = key;
	sock->default_level = key ? level : 0;
	pthread_mutex_unlock(&default_key_lock);
	rxsvc_key_put(old);
	return 0;
}

/*
 * The endpoint's default key with a reference for the caller, and its
 * level: 1, or 0 when there is none.  - Any thread.
 */
int rxs_sec_default_key(struct rxsvc_sock *sock, struct rxsvc_key **keyp,
			unsigned int *level)
{
	int ret = 0;

	pthread_mutex_lock(&default_key_lock);
	if (sock->default_key) {
		*keyp = rxs_key_get(sock->default_key);
		*level = sock->default_level;
		ret = 1;
	}
	pthread_mutex_unlock(&default_key_lock);
	return ret;
}

/* Drop the endpoint's default key when it closes. */
void rxs_sec_sock_free(struct rxsvc_sock *sock)
{
	rxsvc_sock_set_default_key(sock, NULL, 0);
}
