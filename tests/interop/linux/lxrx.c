/* SPDX-License-Identifier: MIT */
/*
 * lxrx - the Rx programs the Linux guest runs, on the kernel's own
 * AF_RXRPC sockets (one static binary, built by ./build).
 *
 *   lxrx serve echo|rxperf PORT [-s SERVICE] [-K KEYRING] [-v]
 *       A server on UDP PORT.  echo (service 1 unless -s): the reply is
 *       the request.  rxperf (service 147): the rxperf protocol
 *       (rx-protocol.md §9): SEND, RECV and RPC; any other opcode is
 *       aborted with RXGEN_OPCODE (-455), a bad version with -6 and a
 *       request of the wrong length with RXGEN_SS_UNMARSHAL (-453), as
 *       the kernel's rxperf.ko does (Debian builds no rxperf.ko).
 *       -K: rxkad too, with the server keys of KEYRING (a keyring of
 *       that description in root's user keyring, made if missing): the
 *       kernel looks up an `rxrpc_s` key "SERVICE:2" there when a
 *       RESPONSE comes, so the key may be added after the start.
 *       rxnull calls are served as before.
 *
 *   lxrx call HOST:PORT [-s SERVICE] [-d TEXT | -z SIZES | -R OP]
 *             [-k KEYDESC [-l clear|auth|crypt]]
 *             [-n CALLS] [-c PARALLEL] [-t SECONDS] [-v]
 *       Calls on one socket, up to PARALLEL of them in flight.
 *       -k KEYDESC  rxkad with the `rxrpc` key KEYDESC from the caller's
 *                 keyrings (lxrx key), at level -l (default clear)
 *       -d TEXT   send TEXT, print the reply (one call)
 *       -z SIZES  comma list of request sizes (a fixed byte pattern);
 *                 call k sends SIZES[k mod count]; the reply must be
 *                 the request, byte for byte (an echo service);
 *                 CALLS defaults to the number of sizes
 *       -R OP     rxperf request: send:N, recv:N, rpc:REQ:REPLY or op:K
 *                 (raw opcode); the reply's length and cookie are checked
 *       Prints one line per failed call, "abort CODE" for the first
 *       abort, and a summary.  Exit: 0 all calls ok, 3 a call was
 *       aborted, 4 network or local error, 5 busy, 6 wrong reply,
 *       7 timeout, 1 other errors, 2 usage.
 *
 *   lxrx key TYPE DESC [HEX | @FILE] [-r RING]
 *       add_key(2), as `keyctl padd` would (the guest has no keyctl):
 *       a key of TYPE (rxrpc, rxrpc_s, user, keyring) described DESC
 *       whose payload is HEX (hex digits) or FILE's bytes, none if
 *       omitted, linked into RING: @u (default), @s, @p, @t or the
 *       description of a keyring in @u.  Prints the key's serial.
 *       E.g. a client token exported by `rxsvc key export NAME`:
 *           lxrx key rxrpc mytoken 01000000...    (then lxrx call -k)
 *       or a server key for service 1:
 *           lxrx key rxrpc_s 1:2 0123456789abcdef -r KEYRING
 *
 * Kernel API (Linux >= 5.11, include/uapi/linux/rxrpc.h): the call tag
 * travels in an RXRPC_USER_CALL_ID cmsg.  A server bind()s with its
 * service ID, listen()s (the backlog may not exceed the sysctl
 * net.rxrpc.max_backlog) and charges the accept pool ahead of time with
 * data-less sendmsg()s carrying the tag and an empty RXRPC_CHARGE_ACCEPT;
 * an incoming call takes a charged tag and simply appears on recvmsg().
 * A call ends with a terminal message (MSG_EOR): RXRPC_ACK (the client's
 * final ACK), RXRPC_ABORT, RXRPC_NET_ERROR, RXRPC_LOCAL_ERROR or
 * RXRPC_BUSY.  rxkad (rx-protocol.md §S.5): a client names its `rxrpc`
 * key with RXRPC_SECURITY_KEY and its level with RXRPC_MIN_SECURITY_LEVEL
 * (the level it uses) before its first sendmsg; a server names a keyring
 * of `rxrpc_s` keys with RXRPC_SECURITY_KEYRING before bind().
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/keyctl.h>
#include <linux/rxrpc.h>

#ifndef AF_RXRPC
#define AF_RXRPC 33
#endif
#ifndef SOL_RXRPC
#define SOL_RXRPC 272
#endif

#define RBUF_SIZE (256 * 1024)
#define COOKIE 0x4711u
#define OP_SEND 0
#define OP_RECV 1
#define OP_RPC 3

static int verbose;
static unsigned char rbuf[RBUF_SIZE];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void set_addr(struct sockaddr_rxrpc *srx, unsigned int service,
		     in_addr_t addr, unsigned int port)
{
	memset(srx, 0, sizeof(*srx));
	srx->srx_family = AF_RXRPC;
	srx->srx_service = (uint16_t)service;
	srx->transport_type = SOCK_DGRAM;
	srx->transport_len = sizeof(srx->transport.sin);
	srx->transport.sin.sin_family = AF_INET;
	srx->transport.sin.sin_addr.s_addr = addr;
	srx->transport.sin.sin_port = htons((uint16_t)port);
}

/* ---- sendmsg / recvmsg with the call tag ---------------------------- */

struct ctl {
	union {
		struct cmsghdr align;
		char buf[128];
	} u;
	size_t len;
};

static void ctl_add(struct ctl *c, int type, const void *data, size_t n)
{
	struct cmsghdr *h = (struct cmsghdr *)(c->u.buf + c->len);

	h->cmsg_level = SOL_RXRPC;
	h->cmsg_type = type;
	h->cmsg_len = CMSG_LEN(n);
	if (n)
		memcpy(CMSG_DATA(h), data, n);
	c->len += CMSG_SPACE(n);
}

/* Send n bytes on call `tag`; `to` only on a client call's first send.
 * more: the phase goes on (MSG_MORE).  Returns 0 or -1 (errno). */
static int send_data(int fd, unsigned long tag, const void *p, size_t n,
		     int more, const struct sockaddr_rxrpc *to)
{
	struct msghdr m;
	struct iovec v;
	struct ctl c;
	ssize_t r;

	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	ctl_add(&c, RXRPC_USER_CALL_ID, &tag, sizeof(tag));
	v.iov_base = (void *)p;
	v.iov_len = n;
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	m.msg_control = c.u.buf;
	m.msg_controllen = c.len;
	if (to) {
		m.msg_name = (void *)to;
		m.msg_namelen = sizeof(*to);
	}
	r = sendmsg(fd, &m, more ? MSG_MORE : 0);
	if (r < 0)
		return -1;
	if ((size_t)r != n) {
		errno = EMSGSIZE; /* a blocking send queues everything */
		return -1;
	}
	return 0;
}

/* A data-less sendmsg with one more cmsg (ABORT or CHARGE_ACCEPT). */
static int send_ctl(int fd, unsigned long tag, int type, const void *d,
		    size_t n)
{
	struct msghdr m;
	struct ctl c;

	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	ctl_add(&c, RXRPC_USER_CALL_ID, &tag, sizeof(tag));
	ctl_add(&c, type, d, n);
	m.msg_control = c.u.buf;
	m.msg_controllen = c.len;
	return sendmsg(fd, &m, 0) < 0 ? -1 : 0;
}

struct msg {
	ssize_t n;		/* data bytes in rbuf */
	int more;		/* MSG_MORE: the phase has more data */
	int eor;		/* MSG_EOR: the call is over */
	int has_tag;
	unsigned long tag;
	int end;		/* terminal cmsg type, 0 if none */
	int32_t code;		/* its abort code or errno */
};

static int recv_msg(int fd, struct msg *r)
{
	struct sockaddr_rxrpc from;
	struct cmsghdr *h;
	struct msghdr m;
	struct iovec v;
	struct ctl c;

	memset(r, 0, sizeof(*r));
	memset(&m, 0, sizeof(m));
	v.iov_base = rbuf;
	v.iov_len = sizeof(rbuf);
	m.msg_iov = &v;
	m.msg_iovlen = 1;
	m.msg_name = &from;
	m.msg_namelen = sizeof(from);
	m.msg_control = c.u.buf;
	m.msg_controllen = sizeof(c.u.buf);
	r->n = recvmsg(fd, &m, 0);
	if (r->n < 0)
		return -1;
	r->more = !!(m.msg_flags & MSG_MORE);
	r->eor = !!(m.msg_flags & MSG_EOR);
	for (h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_RXRPC)
			continue;
		switch (h->cmsg_type) {
		case RXRPC_USER_CALL_ID:
			memcpy(&r->tag, CMSG_DATA(h), sizeof(r->tag));
			r->has_tag = 1;
			break;
		case RXRPC_ABORT:
		case RXRPC_NET_ERROR:
		case RXRPC_LOCAL_ERROR:
			memcpy(&r->code, CMSG_DATA(h), sizeof(r->code));
			/* fall through */
		case RXRPC_ACK:
		case RXRPC_BUSY:
			r->end = h->cmsg_type;
			break;
		}
	}
	return 0;
}

static const char *end_name(int end)
{
	switch (end) {
	case RXRPC_ACK: return "final ACK";
	case RXRPC_ABORT: return "abort";
	case RXRPC_NET_ERROR: return "network error";
	case RXRPC_LOCAL_ERROR: return "local error";
	case RXRPC_BUSY: return "busy";
	}
	return "end";
}

/* ---- keys (add_key and keyctl, without libkeyutils) ------------------- */

#define KEY_PERM_ALL 0x3f3f0000 /* possessor and owner: everything */

static long keyring_find(const char *name, int create)
{
	long id;

	id = syscall(SYS_keyctl, KEYCTL_SEARCH, KEY_SPEC_USER_KEYRING,
		     "keyring", name, 0);
	if (id >= 0 || !create)
		return id;
	id = syscall(SYS_add_key, "keyring", name, NULL, (size_t)0,
		     KEY_SPEC_USER_KEYRING);
	if (id >= 0)
		syscall(SYS_keyctl, KEYCTL_SETPERM, id, KEY_PERM_ALL);
	return id;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A payload from hex digits or "@FILE"; *len its size.  NULL on error. */
static unsigned char *payload_of(const char *arg, size_t *len)
{
	unsigned char *p;
	size_t n = 0;

	if (arg[0] == '@') {
		FILE *f = fopen(arg + 1, "rb");
		size_t cap = 65536;

		if (!f || !(p = malloc(cap))) {
			perror(arg + 1);
			if (f)
				fclose(f);
			return NULL;
		}
		n = fread(p, 1, cap, f);
		if (ferror(f) || !feof(f)) {
			fprintf(stderr, "lxrx: %s: unreadable or too big\n",
				arg + 1);
			fclose(f);
			free(p);
			return NULL;
		}
		fclose(f);
		*len = n;
		return p;
	}
	if (strlen(arg) % 2 || !(p = malloc(strlen(arg) / 2 + 1)))
		goto bad;
	for (const char *s = arg; *s; s += 2) {
		int h = hexval(s[0]), l = hexval(s[1]);

		if (h < 0 || l < 0) {
			free(p);
			goto bad;
		}
		p[n++] = (unsigned char)(h << 4 | l);
	}
	*len = n;
	return p;
bad:
	fprintf(stderr, "lxrx: the payload is neither hex digits nor @FILE\n");
	return NULL;
}

static int key_cmd(int argc, char **argv)
{
	const char *ring = "@u";
	unsigned char *p = NULL;
	size_t n = 0;
	long dest, id;
	int ch;

	while ((ch = getopt(argc, argv, "r:")) != -1) {
		switch (ch) {
		case 'r': ring = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3)
		return 2;
	if (!strcmp(ring, "@u"))
		dest = KEY_SPEC_USER_KEYRING;
	else if (!strcmp(ring, "@s"))
		dest = KEY_SPEC_SESSION_KEYRING;
	else if (!strcmp(ring, "@p"))
		dest = KEY_SPEC_PROCESS_KEYRING;
	else if (!strcmp(ring, "@t"))
		dest = KEY_SPEC_THREAD_KEYRING;
	else if ((dest = keyring_find(ring, 0)) < 0) {
		fprintf(stderr, "lxrx: keyring %s: %s\n", ring,
			strerror(errno));
		return 1;
	}
	if (argc - optind == 3 &&
	    !(p = payload_of(argv[optind + 2], &n)))
		return 1;
	id = syscall(SYS_add_key, argv[optind], argv[optind + 1], p, n, dest);
	if (p) {
		memset(p, 0, n);
		free(p);
	}
	if (id < 0) {
		fprintf(stderr, "lxrx: add_key(%s, %s): %s\n", argv[optind],
			argv[optind + 1], strerror(errno));
		return 1;
	}
	syscall(SYS_keyctl, KEYCTL_SETPERM, id, KEY_PERM_ALL);
	printf("%ld\n", id);
	return 0;
}

/* ---- server ----------------------------------------------------------- */

#define NSLOT 256
enum { FREE, CHARGED, READING, REPLIED };

struct slot {
	int state;
	unsigned long tag;
	size_t len, cap;	/* request bytes (echo: kept in buf) */
	unsigned char *buf;
	unsigned char hdr[24];	/* rxperf: the fixed part */
};

static struct slot slots[NSLOT];
static int srv_fd, srv_rxperf, charged, backlog;
static unsigned long next_tag = 1;
static long served, aborted, failed;

static struct slot *slot_of(unsigned long tag)
{
	for (int i = 0; i < NSLOT; i++)
		if (slots[i].state != FREE && slots[i].tag == tag)
			return &slots[i];
	return NULL;
}

static void slot_free(struct slot *s)
{
	s->state = FREE;
	if (s->cap > (1u << 20)) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
}

/* Keep `backlog` tags charged (incoming calls take them). */
static void charge(void)
{
	while (charged < backlog) {
		struct slot *s = NULL;

		for (int i = 0; i < NSLOT && !s; i++)
			if (slots[i].state == FREE)
				s = &slots[i];
		if (!s)
			return; /* every slot busy: the kernel says BUSY */
		if (send_ctl(srv_fd, next_tag, RXRPC_CHARGE_ACCEPT, NULL, 0) <
		    0) {
			if (errno != ENOBUFS)
				fprintf(stderr, "lxrx: charge: %s\n",
					strerror(errno));
			return;
		}
		s->state = CHARGED;
		s->tag = next_tag++;
		s->len = 0;
		charged++;
	}
}

static void srv_abort(struct slot *s, int32_t code, const char *why)
{
	uint32_t c = (uint32_t)code;

	if (verbose)
		fprintf(stderr, "lxrx: call %lu: abort %d (%s)\n", s->tag, code,
			why);
	if (send_ctl(srv_fd, s->tag, RXRPC_ABORT, &c, sizeof(c)) < 0)
		fprintf(stderr, "lxrx: abort: %s\n", strerror(errno));
	aborted++;
	slot_free(s); /* its terminal message is ignored */
}

static void reply_echo(struct slot *s)
{
	if (send_data(srv_fd, s->tag, s->buf, s->len, 0, NULL) < 0)
		fprintf(stderr, "lxrx: call %lu: reply: %s\n", s->tag,
			strerror(errno));
	else if (verbose)
		fprintf(stderr, "lxrx: call %lu: echoed %zu bytes\n", s->tag,
			s->len);
}

static void reply_rxperf(struct slot *s)
{
	static const unsigned char zeros[65536];
	unsigned char cookie[4];
	uint32_t op, need, rep = 0;

	if (s->len < 16)
		return srv_abort(s, -453, "short request");
	if (get_be32(s->hdr) != 3)
		return srv_abort(s, -6, "bad version");
	op = get_be32(s->hdr + 4);
	need = op == OP_RPC ? 24 : 20;
	if (op != OP_SEND && op != OP_RECV && op != OP_RPC)
		return srv_abort(s, -455, "unknown opcode");
	if (s->len < need)
		return srv_abort(s, -453, "short request");
	if (op == OP_RECV) {
		rep = get_be32(s->hdr + 16);
		need = 20;
	} else {
		need += get_be32(s->hdr + 16);
		if (op == OP_RPC)
			rep = get_be32(s->hdr + 20);
	}
	if (s->len != need)
		return srv_abort(s, -453, "request length");
	for (uint32_t left = rep; left > 0;) {
		uint32_t k = left > sizeof(zeros) ? sizeof(zeros) : left;

		if (send_data(srv_fd, s->tag, zeros, k, 1, NULL) < 0)
			goto err;
		left -= k;
	}
	put_be32(cookie, COOKIE);
	if (send_data(srv_fd, s->tag, cookie, 4, 0, NULL) < 0)
		goto err;
	if (verbose)
		fprintf(stderr, "lxrx: call %lu: rxperf op %u, %zu in, %u out\n",
			s->tag, op, s->len, rep + 4);
	return;
err:
	fprintf(stderr, "lxrx: call %lu: reply: %s\n", s->tag, strerror(errno));
}

static int take_data(struct slot *s, const unsigned char *p, size_t n)
{
	if (srv_rxperf) { /* keep the fixed part, count the rest */
		if (s->len < sizeof(s->hdr)) {
			size_t k = sizeof(s->hdr) - s->len;

			memcpy(s->hdr + s->len, p, k < n ? k : n);
		}
		s->len += n;
		return 0;
	}
	if (s->len + n > s->cap) {
		size_t nc = s->cap ? s->cap : 65536;
		unsigned char *nb;

		while (nc < s->len + n)
			nc *= 2;
		nb = realloc(s->buf, nc);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = nc;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static int serve(int argc, char **argv)
{
	struct sockaddr_rxrpc srx;
	unsigned int service = 0;
	const char *keyring = NULL;
	FILE *f;
	int ch;

	while ((ch = getopt(argc, argv, "s:K:v")) != -1) {
		switch (ch) {
		case 's': service = (unsigned int)atoi(optarg); break;
		case 'K': keyring = optarg; break;
		case 'v': verbose++; break;
		default: return 2;
		}
	}
	if (optind + 2 != argc)
		return 2;
	if (!strcmp(argv[optind], "rxperf"))
		srv_rxperf = 1;
	else if (strcmp(argv[optind], "echo"))
		return 2;
	if (!service)
		service = srv_rxperf ? 147 : 1;

	srv_fd = socket(AF_RXRPC, SOCK_DGRAM, PF_INET);
	if (srv_fd < 0) {
		perror("lxrx: socket(AF_RXRPC)");
		return 1;
	}
	/* the server keyring must be named before bind() */
	if (keyring && (keyring_find(keyring, 1) < 0 ||
			setsockopt(srv_fd, SOL_RXRPC, RXRPC_SECURITY_KEYRING,
				   keyring, (socklen_t)strlen(keyring)) < 0)) {
		fprintf(stderr, "lxrx: server keyring %s: %s\n", keyring,
			strerror(errno));
		return 1;
	}
	set_addr(&srx, service, htonl(INADDR_ANY),
		 (unsigned int)atoi(argv[optind + 1]));
	if (bind(srv_fd, (struct sockaddr *)&srx, sizeof(srx)) < 0) {
		perror("lxrx: bind");
		return 1;
	}
	/* listen() refuses more than net.rxrpc.max_backlog */
	f = fopen("/proc/sys/net/rxrpc/max_backlog", "r");
	if (!f || fscanf(f, "%d", &backlog) != 1 || backlog < 1)
		backlog = 10;
	if (f)
		fclose(f);
	if (listen(srv_fd, backlog) < 0) {
		perror("lxrx: listen");
		return 1;
	}
	charge();
	printf("lxrx: serving %s, service %u, port %s, %d calls charged%s%s\n",
	       srv_rxperf ? "rxperf" : "echo", service, argv[optind + 1],
	       charged, keyring ? ", rxkad keys in " : "",
	       keyring ? keyring : "");
	fflush(stdout);

	for (;;) {
		struct slot *s;
		struct msg r;

		if (recv_msg(srv_fd, &r) < 0) {
			if (errno == EINTR)
				continue;
			perror("lxrx: recvmsg");
			return 1;
		}
		if (!r.has_tag || !(s = slot_of(r.tag)))
			continue; /* an aborted call's last word */
		if (s->state == CHARGED) { /* a new call took this tag */
			s->state = READING;
			charged--;
			charge();
		}
		if (r.end || r.eor) {
			if (r.end == RXRPC_ACK && s->state == REPLIED)
				served++;
			else
				failed++;
			if (verbose || (r.end != RXRPC_ACK))
				fprintf(stderr, "lxrx: call %lu: %s %d (%ld ok, "
					"%ld failed, %ld aborted)\n", s->tag,
					end_name(r.end), r.code, served, failed,
					aborted);
			slot_free(s);
			charge();
			continue;
		}
		if (s->state != READING)
			continue;
		if (take_data(s, rbuf, (size_t)r.n) < 0) {
			srv_abort(s, -6, "out of memory");
			charge();
			continue;
		}
		if (r.more)
			continue;
		s->state = REPLIED; /* then wait for the final ACK */
		if (srv_rxperf)
			reply_rxperf(s);
		else
			reply_echo(s);
		charge();
	}
}

/* ---- client ----------------------------------------------------------- */

struct ccall {
	size_t len;		/* request bytes */
	uint64_t got;		/* reply bytes */
	unsigned char tail[4];	/* the reply's last four bytes */
	int bad;		/* reply differs from the request */
	int state;		/* 0 waiting, 1 in flight, 2 done */
};

static struct ccall *calls;
static long ncalls, ndone;
static volatile sig_atomic_t timeout_secs;

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 131 + i / 1413 + 7);
}

static void on_alarm(int sig)
{
	char m[128];
	int n;

	(void)sig;
	n = snprintf(m, sizeof(m), "lxrx: timeout after %d s, %ld of %ld "
		     "calls done\n", (int)timeout_secs, ndone, ncalls);
	if (write(2, m, (size_t)n) < 0)
		_exit(7);
	_exit(7);
}

static int client(int argc, char **argv)
{
	const char *text = NULL, *sizes = NULL, *perf = NULL, *key = NULL;
	uint32_t level = RXRPC_SECURITY_PLAIN;
	unsigned long long a = 0, b = 0;
	size_t *szv = NULL, nsz = 0, maxlen = 0, hl = 0;
	unsigned int service = 0, port;
	long parallel = 1, inflight = 0, started = 0, ok = 0, peak = 0;
	int ch, fd, rc = 0, op = -1, first_abort = 1;
	struct sockaddr_rxrpc to;
	unsigned char *req;
	uint64_t bytes = 0, perf_reply = 0;
	char host[64], *colon;
	struct in_addr ia;
	double t0, dt;

	timeout_secs = 120;
	while ((ch = getopt(argc, argv, "s:d:z:R:k:l:n:c:t:v")) != -1) {
		switch (ch) {
		case 's': service = (unsigned int)atoi(optarg); break;
		case 'k': key = optarg; break;
		case 'l':
			if (!strcmp(optarg, "clear"))
				level = RXRPC_SECURITY_PLAIN;
			else if (!strcmp(optarg, "auth"))
				level = RXRPC_SECURITY_AUTH;
			else if (!strcmp(optarg, "crypt"))
				level = RXRPC_SECURITY_ENCRYPT;
			else
				return 2;
			break;
		case 'd': text = optarg; break;
		case 'z': sizes = optarg; break;
		case 'R': perf = optarg; break;
		case 'n': ncalls = atol(optarg); break;
		case 'c': parallel = atol(optarg); break;
		case 't': timeout_secs = atoi(optarg); break;
		case 'v': verbose++; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc || !!text + !!sizes + !!perf != 1 ||
	    parallel < 1)
		return 2;
	snprintf(host, sizeof(host), "%s", argv[optind]);
	colon = strrchr(host, ':');
	if (!colon)
		return 2;
	*colon = 0;
	port = (unsigned int)atoi(colon + 1);
	if (inet_pton(AF_INET, host, &ia) != 1) {
		fprintf(stderr, "lxrx: %s: numeric IPv4 address wanted\n", host);
		return 2;
	}

	if (text) {
		maxlen = strlen(text);
		req = (unsigned char *)text;
		nsz = 1;
		szv = &maxlen;
	} else if (sizes) {
		for (const char *p = sizes; p; p = strchr(p, ','), p = p ? p + 1 : p) {
			size_t *nv = realloc(szv, (nsz + 1) * sizeof(*szv));

			if (!nv)
				return 1;
			szv = nv;
			szv[nsz] = (size_t)strtoull(p, NULL, 0);
			if (szv[nsz] > maxlen)
				maxlen = szv[nsz];
			nsz++;
		}
		req = malloc(maxlen ? maxlen : 1);
		if (!req)
			return 1;
		for (size_t i = 0; i < maxlen; i++)
			req[i] = pattern(i);
	} else {
		if (sscanf(perf, "send:%llu", &a) == 1)
			op = OP_SEND;
		else if (sscanf(perf, "recv:%llu", &b) == 1)
			op = OP_RECV;
		else if (sscanf(perf, "rpc:%llu:%llu", &a, &b) == 2)
			op = OP_RPC;
		else if (sscanf(perf, "op:%llu", &b) == 1)
			op = (int)b, b = 0;
		else
			return 2;
		if (op == OP_SEND)
			b = 0;
		hl = op == OP_RPC ? 24 : 20;
		maxlen = hl + (size_t)a;
		req = calloc(1, maxlen);
		if (!req)
			return 1;
		put_be32(req, 3);
		put_be32(req + 4, (uint32_t)op);
		put_be32(req + 8, 65536);
		put_be32(req + 12, 65536);
		put_be32(req + 16, (uint32_t)(op == OP_RECV ? b : a));
		if (op == OP_RPC)
			put_be32(req + 20, (uint32_t)b);
		perf_reply = b + 4;
		nsz = 1;
		szv = &maxlen;
	}
	if (!service)
		service = perf ? 147 : 1;
	if (ncalls < 1)
		ncalls = (long)nsz;
	if (text)
		ncalls = 1;
	calls = calloc((size_t)ncalls, sizeof(*calls));
	if (!calls)
		return 1;
	for (long i = 0; i < ncalls; i++)
		calls[i].len = szv[(size_t)i % nsz];
	set_addr(&to, service, ia.s_addr, port);

	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned int)timeout_secs);
	fd = socket(AF_RXRPC, SOCK_DGRAM, PF_INET);
	if (fd < 0) {
		perror("lxrx: socket(AF_RXRPC)");
		return 1;
	}
	/* rxkad: the key (request_key("rxrpc", key)) and the level to use */
	if (key && (setsockopt(fd, SOL_RXRPC, RXRPC_SECURITY_KEY, key,
			       (socklen_t)strlen(key)) < 0 ||
		    setsockopt(fd, SOL_RXRPC, RXRPC_MIN_SECURITY_LEVEL, &level,
			       sizeof(level)) < 0)) {
		fprintf(stderr, "lxrx: rxrpc key %s: %s\n", key,
			strerror(errno));
		return 4;
	}
	t0 = now();
	while (ndone < ncalls) {
		struct ccall *c;
		struct msg r;
		int why = 0;

		while (inflight < parallel && started < ncalls) {
			c = &calls[started];
			/* the tag is the call's index + 1 */
			if (send_data(fd, (unsigned long)started + 1, req, c->len,
				      0, &to) < 0 &&
			    errno != ECONNABORTED && errno != ECONNRESET) {
				/* an abort or error shows up on recvmsg */
				fprintf(stderr, "lxrx: call %ld: sendmsg: %s\n",
					started + 1, strerror(errno));
				return 4;
			}
			c->state = 1;
			started++;
			if (++inflight > peak)
				peak = inflight;
		}
		if (recv_msg(fd, &r) < 0) {
			if (errno == EINTR)
				continue;
			perror("lxrx: recvmsg");
			return 4;
		}
		if (!r.has_tag || r.tag < 1 || r.tag > (unsigned long)ncalls)
			continue;
		c = &calls[r.tag - 1];
		if (c->state != 1)
			continue;
		if (r.n > 0) {
			size_t n = (size_t)r.n;

			if (text && fwrite(rbuf, 1, n, stdout) != n)
				return 1;
			if (sizes) {
				for (size_t i = 0; i < n && !c->bad; i++)
					if (c->got + i >= c->len ||
					    rbuf[i] != pattern(c->got + i))
						c->bad = 1;
			}
			for (size_t i = n > 4 ? n - 4 : 0; i < n; i++) {
				memmove(c->tail, c->tail + 1, 3);
				c->tail[3] = rbuf[i];
			}
			c->got += n;
		}
		if (!r.eor && !r.end)
			continue;
		c->state = 2;
		inflight--;
		ndone++;
		bytes += c->len + c->got;
		switch (r.end) {
		case RXRPC_ABORT:
			printf("call %ld: abort %d after %llu reply bytes\n",
			       (long)r.tag, r.code, (unsigned long long)c->got);
			if (first_abort)
				printf("abort %d\n", r.code);
			first_abort = 0;
			why = 3;
			break;
		case RXRPC_NET_ERROR:
		case RXRPC_LOCAL_ERROR:
			printf("call %ld: %s: %s\n", (long)r.tag,
			       end_name(r.end), strerror(r.code));
			why = 4;
			break;
		case RXRPC_BUSY:
			printf("call %ld: busy\n", (long)r.tag);
			why = 5;
			break;
		default:
			if (sizes && (c->bad || c->got != c->len)) {
				printf("call %ld: reply differs from the request"
				       " (%llu bytes back, %zu sent)\n",
				       (long)r.tag, (unsigned long long)c->got,
				       c->len);
				why = 6;
			}
			if (perf && (c->got != perf_reply ||
				     get_be32(c->tail) != COOKIE)) {
				printf("call %ld: bad rxperf reply: %llu bytes "
				       "(want %llu), last word 0x%x\n",
				       (long)r.tag, (unsigned long long)c->got,
				       (unsigned long long)perf_reply,
				       get_be32(c->tail));
				why = 6;
			}
		}
		if (why) {
			if (!rc)
				rc = why;
		} else {
			ok++;
			if (verbose)
				fprintf(stderr, "lxrx: call %ld ok: %zu bytes "
					"out, %llu back\n", (long)r.tag,
					c->len, (unsigned long long)c->got);
		}
	}
	dt = now() - t0;
	fflush(stdout);
	fprintf(stderr, "lxrx: %s service %u: %ld/%ld calls ok, at most %ld "
		"in flight, %.3f s, %.1f calls/s, %.2f MB/s\n", argv[optind],
		service, ok, ncalls, peak, dt, ok / (dt > 0 ? dt : 1e-9),
		(double)bytes / 1e6 / (dt > 0 ? dt : 1e-9));
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		rc = serve(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "call"))
		rc = client(argc - 1, argv + 1);
	else if (argc >= 2 && !strcmp(argv[1], "key"))
		rc = key_cmd(argc - 1, argv + 1);
	if (rc == 2)
		fprintf(stderr,
			"usage: lxrx serve echo|rxperf PORT [-s SERVICE] "
			"[-K KEYRING] [-v]\n"
			"       lxrx call HOST:PORT [-s SERVICE] "
			"[-d TEXT | -z SIZES | -R OP]\n"
			"                 [-k KEYDESC [-l clear|auth|crypt]]\n"
			"                 [-n CALLS] [-c PARALLEL] [-t SECONDS] "
			"[-v]\n"
			"       lxrx key TYPE DESC [HEX | @FILE] [-r RING]\n"
			"  OP: send:N recv:N rpc:REQ:REPLY op:K\n");
	return rc;
}
