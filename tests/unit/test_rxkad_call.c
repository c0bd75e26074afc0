/* SPDX-License-Identifier: MIT */
/*
 * test_rxkad_call.c - rxkad through the whole engine, in one process: an
 * echo server endpoint with a service key (key file) and client
 * endpoints with tokens minted for it.  Calls at every level from 0 B to
 * 16 MiB; crypt payloads decrypted in recv with awkward read sizes (1, 7,
 * 8, 9, 1412, 1413 ...), with PEEK and rxsvc_call_rx_complete() byte
 * counts; the interceptor style at crypt; tampering with the protected
 * parts of DATA packets on the way (a relay flips bits: never delivered,
 * counted); tickets that expire at the RESPONSE or in flight
 * (RXKADEXPIRED); the endpoint's default key and RXSVC_CALL_NO_SECURITY;
 * tokens from the kernel keyrings (our own session keyring), revoked or
 * unlinked ones refused for new calls.
 *
 * Ticket times are Unix seconds read through rxs_sec_clock, which the
 * expiry tests move forward instead of sleeping.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <keyutils.h>
#include <CUnit/Basic.h>

#include "rxsvc/internal.h"
#include <rxsvc/key.h>
#include <rxsvc/rxkad.h>

#define SVC	 1
#define KVNO	 3
#define BACKLOG	 8
#define CHUNK	 65536
#define BIG	 (16u << 20)
#define SHIFT	 (2u * 86400) /* past any test ticket */

static const uint8_t skey[8] = { 0xa7, 0x83, 0x8a, 0xcb,
				 0xc7, 0x83, 0xec, 0x94 };

/* ---- the echo server ---- */

struct server {
	struct rxsvc_sock *sock;
	struct rxsvc_keyset *ks;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rxsvc_call *q[64];
	unsigned int qh, qt;
	bool stop;
	unsigned long next_id;
	size_t read_size;     /* bytes per recv of the request */
	bool peek;            /* PEEK before each recv and compare */
	int64_t expect_len;   /* >= 0: check rx_complete counts */
	atomic_int bad;       /* server-side check failures */
	atomic_int served;
};

static struct server srv;
static char tmpdir[] = "/tmp/rxkad_call.XXXXXX";

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	pthread_mutex_lock(&srv.lock);
	srv.q[srv.qt++ % 64] = call;
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
}

/*
 * Read a whole stream @rs bytes at a time into a growing buffer; with
 * @peek, PEEK first and check that recv then returns the same bytes.
 * Returns the length, or a negative errno (*code: the abort code).
 */
static ssize_t read_all(struct rxsvc_call *call, size_t rs, bool peek,
			uint8_t **out, int32_t *code, int *bad)
{
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	uint8_t *pk = malloc(rs);
	unsigned int k = 0;

	for (;;) {
		unsigned int fl = 0;
		int n, m = 0;

		if (len + rs > cap) {
			while (len + rs > cap)
				cap *= 2;
			buf = realloc(buf, cap);
		}
		if (peek && (k++ & 1)) {
			fl = RXSVC_RECV_PEEK;
			m = rxsvc_call_recv(call, pk, rs, &fl, code);
		}
		fl = 0;
		n = rxsvc_call_recv(call, buf + len, rs, &fl, code);
		if (n < 0) {
			free(buf);
			free(pk);
			return n;
		}
		if (m > 0 && memcmp(pk, buf + len, (size_t)(m < n ? m : n)))
			(*bad)++;
		len += (size_t)n;
		if (fl & RXSVC_RECV_END)
			break;
	}
	free(pk);
	*out = buf;
	return (ssize_t)len;
}

/* Wait (bounded) until the whole request is in; check the counts. */
static void check_rx_complete(struct rxsvc_call *call, int64_t total)
{
	uint64_t bytes = 0;
	uint8_t b;
	unsigned int fl = 0;
	int32_t code;

	for (int i = 0; i < 2000 && !rxsvc_call_rx_complete(call, &bytes);
	     i++)
		usleep(1000);
	if (bytes != (uint64_t)total)
		atomic_fetch_add(&srv.bad, 1);
	if (total < 2)
		return;
	if (rxsvc_call_recv(call, &b, 1, &fl, &code) != 1 ||
	    !rxsvc_call_rx_complete(call, &bytes) ||
	    bytes != (uint64_t)total - 1)
		atomic_fetch_add(&srv.bad, 1);
	/* Checked: the client expects this abort instead of an echo. */
	rxsvc_call_abort(call, 1, -EINVAL, "rx_complete checked");
}

static void serve(struct rxsvc_call *call)
{
	uint8_t *req = NULL;
	int32_t code = 0;
	int bad = 0;
	ssize_t n;

	if (srv.expect_len >= 0) {
		check_rx_complete(call, srv.expect_len);
		rxsvc_call_end(call);
		return;
	}
	n = read_all(call, srv.read_size, srv.peek, &req, &code, &bad);
	if (bad)
		atomic_fetch_add(&srv.bad, bad);
	if (n >= 0) {
		for (size_t off = 0;;) {
			size_t k = (size_t)n - off < CHUNK ? (size_t)n - off :
							      CHUNK;
			struct iovec iov = { req + off, k };
			bool last = off + k == (size_t)n;

			if (rxsvc_call_send(call, &iov, 1, k,
					    last ? 0 : RXSVC_SEND_MORE) < 0)
				break;
			off += k;
			if (last)
				break;
		}
		rxsvc_call_wait(call, 20000);
		atomic_fetch_add(&srv.served, 1);
	}
	free(req);
	rxsvc_call_end(call);
}

static void *server_main(void *arg)
{
	for (;;) {
		struct rxsvc_call *call;

		pthread_mutex_lock(&srv.lock);
		while (srv.qh == srv.qt && !srv.stop)
			pthread_cond_wait(&srv.cond, &srv.lock);
		if (srv.qh == srv.qt) {
			pthread_mutex_unlock(&srv.lock);
			return NULL;
		}
		call = srv.q[srv.qh++ % 64];
		pthread_mutex_unlock(&srv.lock);
		rxsvc_sock_charge(srv.sock, NULL, srv.next_id++);
		serve(call);
	}
}

static void server_start(unsigned int min_level, bool require)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_service_security sec = RXSVC_SERVICE_SECURITY_INIT;
	char path[64];

	snprintf(path, sizeof(path), "%s/keys", tmpdir);
	pthread_mutex_init(&srv.lock, NULL);
	pthread_cond_init(&srv.cond, NULL);
	srv.qh = srv.qt = 0;
	srv.stop = false;
	srv.next_id = 1000;
	srv.read_size = CHUNK;
	srv.peek = false;
	srv.expect_len = -1;
	atomic_store(&srv.bad, 0);
	CU_ASSERT_FATAL(rxsvc_keyset_load_file(path, &srv.ks, NULL) == 0);
	CU_ASSERT_FATAL(rxsvc_srx_parse(&sp.local, "127.0.0.1:0") == 0);
	sp.dead_time_ms = 5000;
	CU_ASSERT_FATAL(rxsvc_sock_open(&sp, &srv.sock) == 0);
	CU_ASSERT_FATAL(rxsvc_sock_add_service(srv.sock, SVC) == 0);
	sec.keyset = srv.ks;
	sec.min_level = min_level;
	sec.require_rxkad = require;
	CU_ASSERT_FATAL(rxsvc_sock_set_service_security(srv.sock, SVC,
							&sec) == 0);
	rxsvc_sock_set_accept(srv.sock, on_new_call, NULL, NULL);
	CU_ASSERT_FATAL(rxsvc_sock_listen(srv.sock, BACKLOG) == 0);
	for (unsigned int i = 0; i < BACKLOG; i++)
		CU_ASSERT(rxsvc_sock_charge(srv.sock, NULL, srv.next_id++) ==
			  0);
	CU_ASSERT_FATAL(pthread_create(&srv.th, NULL, server_main, NULL) ==
			0);
}

static void server_stop(void)
{
	pthread_mutex_lock(&srv.lock);
	srv.stop = true;
	pthread_cond_broadcast(&srv.cond);
	pthread_mutex_unlock(&srv.lock);
	pthread_join(srv.th, NULL);
	rxsvc_sock_close(srv.sock);
	rxsvc_keyset_free(srv.ks);
	pthread_mutex_destroy(&srv.lock);
	pthread_cond_destroy(&srv.cond);
}

/*
 * A counter of @sock once it exceeds @than (the peer may hear of a
 * refusal before the refusing I/O thread has counted it): bounded wait.
 */
static uint64_t stat_above(struct rxsvc_sock *sock, const char *name,
			   uint64_t than)
{
	uint64_t v = rxsvc_sock_stat(sock, name);

	for (int i = 0; i < 2000 && v <= than; i++) {
		usleep(1000);
		v = rxsvc_sock_stat(sock, name);
	}
	return v;
}

/* ---- clients ---- */

static struct rxsvc_key *mint(uint32_t lifetime)
{
	struct rxsvc_token_params tp = RXSVC_TOKEN_PARAMS_INIT;
	static uint8_t tok[RXSVC_TOKEN_MAX];
	struct rxsvc_key *key = NULL;
	size_t len;

	tp.client = "tester";
	tp.cell = "test.example";
	tp.service_key = skey;
	tp.kvno = KVNO;
	tp.lifetime = lifetime;
	CU_ASSERT_FATAL(rxsvc_token_mint(&tp, tok, sizeof(tok), &len) == 0);
	CU_ASSERT_FATAL(rxsvc_key_from_token(tok, len, &key) == 0);
	return key;
}

static struct rxsvc_sock *client_open(void)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_sock *sock = NULL;

	CU_ASSERT_FATAL(rxsvc_srx_parse(&sp.local, "127.0.0.1:0") == 0);
	sp.dead_time_ms = 5000;
	CU_ASSERT_FATAL(rxsvc_sock_open(&sp, &sock) == 0);
	return sock;
}

struct echo {
	struct rxsvc_key *key;  /* NULL: the endpoint's default or rxnull */
	unsigned int level;
	unsigned int flags;
	size_t read_size;
	bool peek;
	const struct rxsvc_srx *to; /* NULL: the server */
	/* results */
	enum rxsvc_completion how;
	int32_t abort_code;
	int bad;
};

static unsigned long next_call_id = 1;

/* One echo call of @len bytes; true if the reply is the request. */
static bool echo_call(struct rxsvc_sock *cs, struct echo *e,
		      const uint8_t *data, size_t len)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call;
	uint8_t *out = NULL;
	int32_t code = 0;
	ssize_t n;
	bool ok;

	if (e->to)
		cp.peer = *e->to;
	else
		rxsvc_sock_local(srv.sock, &cp.peer);
	cp.peer.service_id = SVC;
	cp.user_call_id = next_call_id++;
	cp.key = e->key;
	cp.security_level = e->level;
	cp.flags = e->flags;
	if (rxsvc_call_begin(cs, &cp, &call) < 0)
		return false;
	for (size_t off = 0;;) {
		size_t k = len - off < CHUNK ? len - off : CHUNK;
		struct iovec iov = { (void *)(data + off), k };
		bool last = off + k == len;

		if (rxsvc_call_send(call, &iov, 1, k,
				    last ? 0 : RXSVC_SEND_MORE) < 0)
			break;
		off += k;
		if (last)
			break;
	}
	n = read_all(call, e->read_size ? e->read_size : CHUNK, e->peek, &out,
		     &code, &e->bad);
	e->how = rxsvc_call_wait(call, 20000);
	e->abort_code = rxsvc_call_abort_code(call);
	ok = n == (ssize_t)len && (!len || !memcmp(out, data, len)) &&
	     e->how == RXSVC_COMPLETE_SUCCEEDED;
	free(out);
	rxsvc_call_end(call);
	return ok;
}

static uint8_t *pattern(size_t len, unsigned int seed)
{
	uint8_t *p = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)((i * 131 + seed) ^ (i >> 9));
	return p;
}

/* ---- tests ---- */

/* Every level, 0 B to 16 MiB, byte-exact. */
static void test_levels_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 1399, 1400, 1401,
					1404, 1408, 1412, 1413, 4096, 100000,
					1 << 20, BIG };
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	uint8_t *data = pattern(BIG, 5);

	server_start(0, false);
	cs = client_open();
	key = mint(0);
	for (unsigned int lv = 0; lv <= 2; lv++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct echo e = { .key = key, .level = lv };
			bool ok = echo_call(cs, &e, data, sizes[i]);

			if (!ok)
				printf("\n    level %u, %zu bytes: %s %d ", lv,
				       sizes[i], rxsvc_completion_name(e.how),
				       e.abort_code);
			CU_ASSERT(ok);
		}
	}
	CU_ASSERT(rxsvc_sock_stat(srv.sock, "responses_ok") >= 1);
	CU_ASSERT_EQUAL(rxsvc_sock_stat(srv.sock, "sec_bad_packets"), 0);
	CU_ASSERT_EQUAL(atomic_load(&srv.bad), 0);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(data);
}

/* Calls with different keys (or levels) never share a connection. */
static void test_keys_conns(void)
{
	struct rxsvc_sock *cs;
	struct rxsvc_key *a, *b;
	const uint8_t *d = (const uint8_t *)"conn";
	static const struct {
		int key; /* 0: a, 1: b */
		unsigned int level;
		uint64_t conns; /* client connections made so far */
	} seq[] = { { 0, 2, 1 }, { 0, 2, 1 }, { 1, 2, 2 }, { 0, 2, 2 },
		    { 0, 1, 3 }, { 1, 2, 3 } };

	server_start(0, false);
	cs = client_open();
	a = mint(0);
	b = mint(0);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct echo e = { .key = seq[i].key ? b : a,
				  .level = seq[i].level };

		CU_ASSERT(echo_call(cs, &e, d, 4));
		CU_ASSERT_EQUAL(rxsvc_sock_stat(cs, "conns_created"),
				seq[i].conns);
	}
	rxsvc_key_put(a);
	rxsvc_key_put(b);
	rxsvc_sock_close(cs);
	server_stop();
}

/* Crypt decrypted in recv, whatever the read size, both sides; PEEK. */
static void test_crypt_read_sizes(void)
{
	static const size_t reads[] = { 1, 7, 8, 9, 15, 16, 1400, 1412, 1413,
					CHUNK };
	static const size_t sizes[] = { 0, 1, 9, 1400, 1401, 5000, 70001 };
	const size_t nreads = sizeof(reads) / sizeof(reads[0]);
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	uint8_t *data = pattern(70001, 9);

	server_start(2, true);
	cs = client_open();
	key = mint(0);
	for (size_t r = 0; r < nreads; r++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			struct echo e = { .key = key, .level = 2 };
			bool ok;

			srv.read_size = reads[(r + i) % nreads];
			srv.peek = i & 1;
			e.read_size = reads[r];
			e.peek = !(i & 1);
			ok = echo_call(cs, &e, data, sizes[i]);
			if (!ok || e.bad)
				printf("\n    read %zu, %zu B: %s %d bad %d ",
				       reads[r], sizes[i],
				       rxsvc_completion_name(e.how),
				       e.abort_code, e.bad);
			CU_ASSERT(ok);
			CU_ASSERT_EQUAL(e.bad, 0);
		}
	}
	CU_ASSERT_EQUAL(atomic_load(&srv.bad), 0);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(data);
}

/* rxsvc_call_rx_complete() counts user bytes of crypt packets. */
static void test_crypt_rx_complete(void)
{
	static const size_t sizes[] = { 1, 9, 1400, 1401, 30000 };
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	uint8_t *data = pattern(30000, 1);

	server_start(2, true);
	cs = client_open();
	key = mint(0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct echo e = { .key = key, .level = 2 };

		srv.expect_len = (int64_t)sizes[i];
		echo_call(cs, &e, data, sizes[i]);
		/* The server checked and aborted the call on purpose. */
		CU_ASSERT_EQUAL(e.how, RXSVC_COMPLETE_REMOTELY_ABORTED);
	}
	CU_ASSERT_EQUAL(atomic_load(&srv.bad), 0);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(data);
}

/* The interceptor style sees plaintext at crypt. */
static pthread_mutex_t ic_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ic_cond = PTHREAD_COND_INITIALIZER;
static uint8_t *ic_got;
static size_t ic_len, ic_cap;
static bool ic_last;

static void ic_msg(struct rxsvc_sock *sock, struct rxsvc_call *call,
		   const struct rxsvc_msg *msg, void *arg)
{
	pthread_mutex_lock(&ic_lock);
	if (msg->mark == RXSVC_MARK_DATA) {
		if (ic_len + msg->len <= ic_cap)
			memcpy(ic_got + ic_len, msg->data, msg->len);
		ic_len += msg->len;
		if (msg->is_data_last)
			ic_last = true;
		rxsvc_msg_data_consumed(call, msg);
	}
	pthread_cond_broadcast(&ic_cond);
	pthread_mutex_unlock(&ic_lock);
}

static void test_crypt_interceptor(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	struct rxsvc_call *call;
	size_t len = 50001;
	uint8_t *data = pattern(len, 3);
	struct iovec iov = { data, len };
	struct timespec until;

	server_start(2, true);
	cs = client_open();
	rxsvc_sock_set_interceptor(cs, ic_msg, NULL);
	key = mint(0);
	ic_got = malloc(len);
	ic_cap = len;
	rxsvc_sock_local(srv.sock, &cp.peer);
	cp.peer.service_id = SVC;
	cp.user_call_id = next_call_id++;
	cp.key = key;
	cp.security_level = 2;
	CU_ASSERT_FATAL(rxsvc_call_begin(cs, &cp, &call) == 0);
	CU_ASSERT((size_t)rxsvc_call_send(call, &iov, 1, len, 0) == len);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&ic_lock);
	while (!ic_last &&
	       pthread_cond_timedwait(&ic_cond, &ic_lock, &until) == 0)
		;
	pthread_mutex_unlock(&ic_lock);
	CU_ASSERT(ic_last);
	CU_ASSERT_EQUAL(ic_len, len);
	CU_ASSERT(ic_len == len && !memcmp(ic_got, data, len));
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, 10000),
			RXSVC_COMPLETE_SUCCEEDED);
	rxsvc_call_end(call);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(ic_got);
	free(data);
}

/*
 * A relay between client and server that flips one bit in the protected
 * part (header checksum, or the first 8 payload bytes: the sealed length
 * word) of every 4th DATA packet each way.  rxkad protects no more than
 * that: bits beyond the first block at auth, or garbling later blocks at
 * crypt, are not detectable by design (rx-protocol.md §S.3.3).
 */
struct relay {
	int fd;
	union rxs_addr server;
	union rxs_addr client;
	bool have_client;
	atomic_bool stop;
	unsigned int flipped;
	unsigned int n;
	pthread_t th;
};

static void relay_flip(struct relay *r, uint8_t *b, ssize_t len)
{
	unsigned int which;

	if (len <= RXS_HEADER_SIZE + 8 || b[20] != RXS_PKT_DATA ||
	    b[23] != 2 || ++r->n % 4)
		return;
	which = (r->n / 4) % 10;
	if (which < 2)
		b[24 + which] ^= (uint8_t)(1u << (r->n % 8));
	else
		b[RXS_HEADER_SIZE + which - 2] ^= (uint8_t)(1u << (r->n % 8));
	r->flipped++;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	uint8_t buf[2048];

	while (!atomic_load(&r->stop)) {
		struct pollfd pfd = { r->fd, POLLIN, 0 };
		union rxs_addr from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(r->fd, buf, sizeof(buf), 0, &from.sa, &fl);
		if (n <= 0)
			continue;
		relay_flip(r, buf, n);
		if (rxs_addr_equal(&from, &r->server)) {
			if (r->have_client)
				sendto(r->fd, buf, (size_t)n, 0, &r->client.sa,
				       sizeof(r->client.sin));
		} else {
			r->client = from;
			r->have_client = true;
			sendto(r->fd, buf, (size_t)n, 0, &r->server.sa,
			       sizeof(r->server.sin));
		}
	}
	return NULL;
}

static void test_tamper_relay(void)
{
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	struct relay r = { 0 };
	struct rxsvc_srx to, s;
	socklen_t al = sizeof(to.addr.sin);
	size_t len = 300000;
	uint8_t *data = pattern(len, 11);

	server_start(1, true);
	cs = client_open();
	key = mint(0);
	rxsvc_sock_local(srv.sock, &s);
	memcpy(&r.server, &s.addr, sizeof(r.server));
	r.fd = socket(AF_INET, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(r.fd >= 0);
	memset(&to, 0, sizeof(to));
	to.addr.sin.sin_family = AF_INET;
	to.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_FATAL(bind(r.fd, &to.addr.sa, sizeof(to.addr.sin)) == 0);
	getsockname(r.fd, &to.addr.sa, &al);
	to.addrlen = al;
	CU_ASSERT_FATAL(pthread_create(&r.th, NULL, relay_main, &r) == 0);
	for (unsigned int lv = 1; lv <= 2; lv++) {
		uint64_t before = rxsvc_sock_stat(srv.sock, "sec_bad_packets");
		uint64_t cbefore = rxsvc_sock_stat(cs, "sec_bad_packets");
		struct echo e = { .key = key, .level = lv, .to = &to };
		bool ok = echo_call(cs, &e, data, len);

		if (!ok)
			printf("\n    level %u: %s %d ", lv,
			       rxsvc_completion_name(e.how), e.abort_code);
		CU_ASSERT(ok);
		CU_ASSERT(stat_above(srv.sock, "sec_bad_packets", before) >
			  before);
		CU_ASSERT(stat_above(cs, "sec_bad_packets", cbefore) > cbefore);
	}
	printf("\n    %u bits flipped; dropped: server %llu, client %llu ",
	       r.flipped,
	       (unsigned long long)rxsvc_sock_stat(srv.sock,
						   "sec_bad_packets"),
	       (unsigned long long)rxsvc_sock_stat(cs, "sec_bad_packets"));
	atomic_store(&r.stop, true);
	pthread_join(r.th, NULL);
	close(r.fd);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(data);
}

static atomic_uint clock_shift;

static uint32_t shifted_clock(void)
{
	return (uint32_t)time(NULL) + atomic_load(&clock_shift);
}

/* A ticket already expired when the server checks the RESPONSE. */
static void test_expired_at_response(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	struct rxsvc_call *call;
	struct iovec iov = { (void *)"x", 1 };
	uint64_t fails;

	server_start(0, false);
	cs = client_open();
	key = mint(600);
	fails = rxsvc_sock_stat(srv.sock, "security_failures");
	rxsvc_sock_local(srv.sock, &cp.peer);
	cp.peer.service_id = SVC;
	cp.user_call_id = next_call_id++;
	cp.key = key;
	cp.security_level = 2;
	CU_ASSERT_FATAL(rxsvc_call_begin(cs, &cp, &call) == 0);
	/* Valid when the call began; expired by the time it reaches the
	 * server (the clock is the same for both ends here). */
	rxs_sec_clock = shifted_clock;
	atomic_store(&clock_shift, SHIFT);
	rxsvc_call_send(call, &iov, 1, 1, 0);
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, 20000),
			RXSVC_COMPLETE_REMOTELY_ABORTED);
	CU_ASSERT_EQUAL(rxsvc_call_abort_code(call), RXKADEXPIRED);
	rxsvc_call_end(call);
	CU_ASSERT(stat_above(srv.sock, "security_failures", fails) > fails);
	CU_ASSERT_EQUAL(rxsvc_sock_stat(srv.sock, "responses_ok"), 0);
	atomic_store(&clock_shift, 0);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
}

/* The ticket runs out while the request is being sent: RXKADEXPIRED. */
static void test_expired_in_flight(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	struct rxsvc_call *call;
	uint8_t *data = pattern(CHUNK, 2);
	struct iovec iov = { data, CHUNK };
	uint64_t bad;
	int ret = 0;

	server_start(0, false);
	cs = client_open();
	key = mint(600);
	atomic_store(&clock_shift, 0);
	rxs_sec_clock = shifted_clock;
	rxsvc_sock_local(srv.sock, &cp.peer);
	cp.peer.service_id = SVC;
	cp.user_call_id = next_call_id++;
	cp.key = key;
	cp.security_level = 2;
	CU_ASSERT_FATAL(rxsvc_call_begin(cs, &cp, &call) == 0);
	CU_ASSERT(rxsvc_call_send(call, &iov, 1, CHUNK, RXSVC_SEND_MORE) ==
		  CHUNK);
	/* Let the connection be authenticated before the ticket ends. */
	for (int i = 0; i < 2000 &&
			rxsvc_sock_stat(srv.sock, "responses_ok") == 0;
	     i++)
		usleep(1000);
	CU_ASSERT_FATAL(rxsvc_sock_stat(srv.sock, "responses_ok") > 0);
	bad = rxsvc_sock_stat(srv.sock, "sec_bad_packets");
	atomic_store(&clock_shift, SHIFT);
	for (int i = 0; i < 4 && ret >= 0; i++)
		ret = rxsvc_call_send(call, &iov, 1, CHUNK,
				      i < 3 ? RXSVC_SEND_MORE : 0);
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, 20000),
			RXSVC_COMPLETE_REMOTELY_ABORTED);
	CU_ASSERT_EQUAL(rxsvc_call_abort_code(call), RXKADEXPIRED);
	CU_ASSERT(stat_above(srv.sock, "sec_bad_packets", bad) > bad);
	rxsvc_call_end(call);
	atomic_store(&clock_shift, 0);
	rxsvc_key_put(key);
	rxsvc_sock_close(cs);
	server_stop();
	free(data);
}

/* The endpoint's default key, overridden per call or refused per call. */
static void test_default_key(void)
{
	struct rxsvc_sock *cs;
	struct rxsvc_key *key;
	const uint8_t *d = (const uint8_t *)"default";
	uint64_t out;

	server_start(2, true); /* crypt only: rxnull is refused */
	cs = client_open();
	key = mint(0);
	{
		struct echo e = { 0 };

		/* No key anywhere: rxnull, refused. */
		CU_ASSERT(!echo_call(cs, &e, d, 7));
		CU_ASSERT_EQUAL(e.abort_code, RX_INVALID_OPERATION);
	}
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(cs, key, 3), -EINVAL);
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(NULL, key, 2), -EINVAL);
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(cs, key, 2), 0);
	rxsvc_key_put(key); /* the endpoint holds its own reference */
	{
		struct echo e = { 0 };

		CU_ASSERT(echo_call(cs, &e, d, 7));
	}
	{
		struct echo e = { .flags = RXSVC_CALL_NO_SECURITY };

		CU_ASSERT(!echo_call(cs, &e, d, 7));
		CU_ASSERT_EQUAL(e.abort_code, RX_INVALID_OPERATION);
	}
	{
		/* A key in the parameters overrides the default's level. */
		struct rxsvc_key *k2 = mint(0);
		struct echo e = { .key = k2, .level = 1 };

		CU_ASSERT(!echo_call(cs, &e, d, 7));
		CU_ASSERT_EQUAL(e.abort_code, RXKADLEVELFAIL);
		rxsvc_key_put(k2);
	}
	/* The default key expired: begin fails, nothing is sent. */
	usleep(100000); /* let the last call's final packets go */
	out = rxsvc_sock_stat(cs, "pkts_out");
	rxs_sec_clock = shifted_clock;
	atomic_store(&clock_shift, SHIFT);
	{
		struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
		struct rxsvc_call *call;

		rxsvc_sock_local(srv.sock, &cp.peer);
		cp.peer.service_id = SVC;
		cp.user_call_id = next_call_id++;
		CU_ASSERT_EQUAL(rxsvc_call_begin(cs, &cp, &call),
				-EKEYEXPIRED);
		CU_ASSERT_EQUAL(rxsvc_sock_stat(cs, "pkts_out"), out);
	}
	atomic_store(&clock_shift, 0);
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(cs, NULL, 0), 0);
	{
		struct echo e = { 0 };

		CU_ASSERT(!echo_call(cs, &e, d, 7));
		CU_ASSERT_EQUAL(e.abort_code, RX_INVALID_OPERATION);
	}
	rxsvc_sock_close(cs);
	server_stop();
}

/* Tokens from the keyrings: used, then refused once revoked/unlinked. */
static void test_keyring_calls(void)
{
	struct rxsvc_token_params tp = RXSVC_TOKEN_PARAMS_INIT;
	static uint8_t tok[RXSVC_TOKEN_MAX];
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_key *key, *key2;
	struct rxsvc_sock *cs;
	struct rxsvc_call *call;
	char name[64], name2[72];
	int32_t serial = 0;
	size_t len;

	snprintf(name, sizeof(name), "rxkad-call-%ld", (long)getpid());
	snprintf(name2, sizeof(name2), "%s-b", name);
	tp.client = "tester";
	tp.service_key = skey;
	tp.kvno = KVNO;
	CU_ASSERT_FATAL(rxsvc_token_mint(&tp, tok, sizeof(tok), &len) == 0);
	CU_ASSERT_EQUAL(rxsvc_key_get(name, &key), -ENOKEY); /* no rxnull */
	CU_ASSERT_FATAL(rxsvc_key_add(name, tok, len, RXSVC_KEYRING_SESSION,
				      &serial) == 0);
	CU_ASSERT_FATAL(rxsvc_key_add(name2, tok, len, RXSVC_KEYRING_SESSION,
				      NULL) == 0);
	CU_ASSERT_FATAL(rxsvc_key_get(name, &key) == 0);
	CU_ASSERT_FATAL(rxsvc_key_get(name2, &key2) == 0);
	server_start(2, true);
	cs = client_open();
	{
		struct echo e = { .key = key, .level = 2 };

		CU_ASSERT(echo_call(cs, &e, (const uint8_t *)"ring", 4));
	}
	/* Revoked: new calls refused, even with a connection to reuse. */
	CU_ASSERT_EQUAL(keyctl_revoke(serial), 0);
	rxsvc_sock_local(srv.sock, &cp.peer);
	cp.peer.service_id = SVC;
	cp.user_call_id = next_call_id++;
	cp.key = key;
	cp.security_level = 2;
	CU_ASSERT_EQUAL(rxsvc_call_begin(cs, &cp, &call), -EKEYREVOKED);
	/* Unlinked from the keyrings: likewise, and as a default key. */
	{
		struct echo e = { .key = key2, .level = 2 };

		CU_ASSERT(echo_call(cs, &e, (const uint8_t *)"ring", 4));
	}
	CU_ASSERT_EQUAL(rxsvc_key_del(name2), 0);
	cp.key = key2;
	CU_ASSERT_EQUAL(rxsvc_call_begin(cs, &cp, &call), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(cs, key2, 2), 0);
	cp.key = NULL;
	CU_ASSERT_EQUAL(rxsvc_call_begin(cs, &cp, &call), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_sock_set_default_key(cs, NULL, 0), 0);
	rxsvc_key_put(key);
	rxsvc_key_put(key2);
	rxsvc_key_del(name);
	rxsvc_sock_close(cs);
	server_stop();
}

static int suite_init(void)
{
	char path[64];

	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(path, sizeof(path), "%s/keys", tmpdir);
	return rxsvc_keyfile_add(path, -1, 2, KVNO, skey) == 0 ? 0 : -1;
}

static int suite_clean(void)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/keys", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "every level, 0 B to 16 MiB", test_levels_sizes },
		{ "crypt: decrypt in recv, odd read sizes, PEEK",
		  test_crypt_read_sizes },
		{ "crypt: rx_complete byte counts", test_crypt_rx_complete },
		{ "crypt: interceptor sees plaintext", test_crypt_interceptor },
		{ "tampering at auth and crypt: dropped, counted",
		  test_tamper_relay },
		{ "ticket expired at RESPONSE: RXKADEXPIRED",
		  test_expired_at_response },
		{ "ticket expires in flight: RXKADEXPIRED",
		  test_expired_in_flight },
		{ "default key, NO_SECURITY, override", test_default_key },
		{ "different keys never share a connection", test_keys_conns },
	};
	unsigned int failures;
	bool keyrings;
	CU_pSuite s;

	/* Our own session keyring: nothing leaks to the caller's. */
	keyrings = keyctl_join_session_keyring(NULL) > 0;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("rxkad calls", suite_init, suite_clean);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return 99;
	if (keyrings &&
	    !CU_add_test(s, "keyring tokens: revoked, unlinked, missing",
			 test_keyring_calls))
		return 99;
	if (!keyrings)
		printf("note: kernel keyrings unavailable, keyring test left out\n");
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	if (keyrings)
		keyctl_clear(KEY_SPEC_SESSION_KEYRING);
	return failures ? 1 : 0;
}
