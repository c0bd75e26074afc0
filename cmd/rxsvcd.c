/* SPDX-License-Identifier: MIT */
/*
 * rxsvcd - the rxsvc daemon: on every endpoint it listens on it serves
 * the echo service (service ID 1: the reply is exactly the request) and
 * the rxperf service (service ID 147, cmd/rxperf.c).
 * Unknown service IDs are answered with ABORT RX_INVALID_OPERATION by the
 * engine, as OpenAFS does.  On SIGTERM or SIGINT it stops taking new
 * calls, lets the calls in flight finish (bounded), and exits 0.
 *
 * Calls are driven by a small pool of worker threads: the engine's
 * notify_rx callback queues a call's context; a worker drains what has
 * arrived without blocking, and once the whole request is in, sends the
 * reply.  Each context is charged as a preallocated call whose user call
 * ID is the context's address.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "config.h"
#include "cmd/common.h"
#include "cmd/rxperf.h"
#include <rxsvc/key.h>
#include <rxsvc/events.h>

#define MAX_LISTEN     8
#define ECHO_SERVICE   1

enum ctx_phase { PH_RECV, PH_SEND, PH_WAIT_DONE, PH_RXPERF };

struct ctx {
	struct ctx *next;          /* work queue */
	struct ctx *rp_next;       /* rxperf queue */
	bool queued;               /* [qlock] on the work queue */
	bool running;              /* [qlock] a worker has it */
	bool again;                /* [qlock] notified while running */
	bool dead;                 /* [qlock] owner gone: free when idle */
	bool started;              /* [io] handed to a worker or the pool */
	struct rxsvc_sock *sock;
	struct rxsvc_call *call;   /* set by the new-call notification */
	_Atomic(enum ctx_phase) phase; /* read by on_rx on the engine side */
	uint8_t *buf;
	size_t len, cap;
	struct timespec t0;
};

static struct {
	struct rxsvc_sock *socks[MAX_LISTEN];
	struct rxsvc_evpub *pubs[MAX_LISTEN];
	struct rxsvc_bus *bus;
	const char *events_socket;
	const char *keyfile;
	const char *keyring;
	struct rxsvc_keyset *keyset;
	unsigned int min_level;
	int require_rxkad;
	unsigned int nsocks;
	unsigned int backlog;
	unsigned int max_calls;
	uint64_t max_echo;
	unsigned int nthreads;
	int verbose;
	const char *stats_file;
	unsigned int max_calls_per_peer;
	unsigned int busy_rate;
	bool no_debug;
	atomic_bool stopping;
	atomic_int active;         /* calls taken and not yet ended */

	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct ctx *qhead, *qtail;
	atomic_bool quit;          /* read under qlock or rp.lock */
} d = {
	.backlog = 32,
	.max_calls = 1024,
	.max_echo = 256u << 20,
	.nthreads = 4,
	.qlock = PTHREAD_MUTEX_INITIALIZER,
	.qcond = PTHREAD_COND_INITIALIZER,
};

static void enqueue(struct ctx *c)
{
	pthread_mutex_lock(&d.qlock);
	if (c->running) {
		/* One worker per call: the one running it goes round again. */
		c->again = true;
	} else if (!c->queued) {
		c->queued = true;
		c->next = NULL;
		if (d.qtail)
			d.qtail->next = c;
		else
			d.qhead = c;
		d.qtail = c;
		pthread_cond_signal(&d.qcond);
	}
	pthread_mutex_unlock(&d.qlock);
}

static void start_rxperf(struct ctx *c);
static void recharge(struct rxsvc_sock *sock);
static bool process(struct ctx *c);
static void rxperf_done(struct ctx *c, bool queued);

/*
 * Small complete requests are answered right in the notification, with
 * no thread hop (a "hot thread", as OpenAFS's listener becomes one): the
 * engine guarantees nothing there blocks as long as the request is all
 * in and the reply fits the transmit window.  Larger ones go to a pool.
 */
#define INLINE_MAX (16u * 1024u)

static bool echo_inline(struct ctx *c)
{
	uint64_t avail;
	bool mine;

	/* Take the context first: a worker may be in it right now. */
	pthread_mutex_lock(&d.qlock);
	mine = !c->queued && !c->running;
	if (mine)
		c->running = true;
	pthread_mutex_unlock(&d.qlock);
	if (!mine)
		return false;
	if (c->phase == PH_RECV &&
	    (c->len || !rxsvc_call_rx_complete(c->call, &avail) ||
	     avail > INLINE_MAX)) {
		pthread_mutex_lock(&d.qlock);
		c->running = false;
		pthread_mutex_unlock(&d.qlock);
		return false;
	}
	if (process(c))
		return true; /* finished and freed */
	pthread_mutex_lock(&d.qlock);
	c->running = false;
	if (c->again) {
		/* Notified meanwhile: cannot be, we run in notify_rx. */
		c->again = false;
		pthread_mutex_unlock(&d.qlock);
		enqueue(c);
		return true;
	}
	pthread_mutex_unlock(&d.qlock);
	return true;
}

/* Engine callbacks: on the I/O thread, must not block. */
/*
 * A call is handed on at its first notification, not at the new-call
 * one: the engine notifies a new call before filing its first packet, so
 * a handler woken then would find nothing and sleep again.
 */
static void on_rx(struct rxsvc_sock *sock, struct rxsvc_call *call,
		  unsigned long id)
{
	struct ctx *c = (struct ctx *)id;

	if (c->phase == PH_RXPERF)
		return; /* its thread blocks in recv/send: no need */
	if (!c->started) {
		c->started = true;
		/* A preallocation was used up: make another at once. */
		recharge(c->sock);
		if (rxsvc_call_service_id(call) == RXPERF_SERVICE) {
			if (rxperf_serve_inline(call)) {
				c->phase = PH_RXPERF;
				rxperf_done(c, false);
				return;
			}
			/* Otherwise straight to its pool: one thread hop. */
			start_rxperf(c);
			return;
		}
	}
	if (echo_inline(c))
		return;
	enqueue(c);
}

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	struct ctx *c = (struct ctx *)id;

	c->call = call;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	atomic_fetch_add(&d.active, 1);
}

static void on_discard(struct rxsvc_sock *sock, unsigned long id, void *arg)
{
	free((struct ctx *)id);
}

static int charge_one(struct rxsvc_sock *sock)
{
	struct ctx *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->sock = sock;
	ret = rxsvc_sock_charge(sock, on_rx, (unsigned long)c);
	if (ret < 0)
		free(c);
	return ret;
}

static void recharge(struct rxsvc_sock *sock)
{
	if (atomic_load(&d.stopping))
		return;
	while (rxsvc_sock_charged(sock) < d.backlog)
		if (charge_one(sock) < 0)
			break;
}

static void log_call(struct ctx *c, const char *what)
{
	struct rxsvc_srx peer;
	struct timespec t1;
	char addr[64], ab[64];
	enum rxsvc_completion how;
	double ms;

	if (!d.verbose)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - c->t0.tv_sec) * 1e3 +
	     (double)(t1.tv_nsec - c->t0.tv_nsec) / 1e6;
	rxsvc_call_peer(c->call, &peer);
	how = rxsvc_call_completion(c->call);
	fprintf(stderr, "rxsvcd: call from %s service %u: %zu bytes, %s%s%s, %.1f ms%s%s\n",
		rxsvc_srx_format(&peer, addr, sizeof(addr)),
		rxsvc_call_service_id(c->call), c->len,
		rxsvc_completion_name(how),
		how == RXSVC_COMPLETE_REMOTELY_ABORTED ||
				how == RXSVC_COMPLETE_LOCALLY_ABORTED ?
			" " :
			"",
		how == RXSVC_COMPLETE_REMOTELY_ABORTED ||
				how == RXSVC_COMPLETE_LOCALLY_ABORTED ?
			abort_text(rxsvc_call_abort_code(c->call), ab,
				   sizeof(ab)) :
			"",
		ms, what ? ", " : "", what ? what : "");
}

static void finish(struct ctx *c, const char *what)
{
	log_call(c, what);
	rxsvc_call_end(c->call);
	free(c->buf);
	free(c);
	atomic_fetch_sub(&d.active, 1);
}

/* Drain the request; returns true when it is complete. */
static bool echo_recv(struct ctx *c)
{
	for (;;) {
		unsigned int fl = RXSVC_RECV_NONBLOCK;
		int32_t code;
		int n;

		if (c->cap - c->len < 65536) {
			size_t ncap = c->cap ? c->cap * 2 : 65536;
			uint8_t *nb;

			if (ncap > d.max_echo + 65536)
				ncap = d.max_echo + 65536;
			if (ncap <= c->cap) {
				/* Bigger than we are willing to hold. */
				rxsvc_call_abort(c->call, RX_USER_ABORT,
						 -EMSGSIZE, "echo too big");
				c->phase = PH_WAIT_DONE;
				return false;
			}
			nb = realloc(c->buf, ncap);
			if (!nb) {
				rxsvc_call_abort(c->call, RX_USER_ABORT,
						 -ENOMEM, "no memory");
				c->phase = PH_WAIT_DONE;
				return false;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		n = rxsvc_call_recv(c->call, c->buf + c->len, c->cap - c->len,
				    &fl, &code);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			c->phase = PH_WAIT_DONE;
			return false;
		}
		c->len += (size_t)n;
		if (fl & RXSVC_RECV_END)
			return true;
	}
}

/*
 * rxperf calls block in recv/send, so they run on a pool of their own
 * (threads are made as calls wait, up to RXPERF_MAX_THREADS, and then
 * kept): a thread per call cost a thread creation per RPC.
 */
#define RXPERF_MAX_THREADS 256

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ctx *head, *tail;
	unsigned int nthreads, idle;
} rp = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

/* An rxperf call is served: end it and free its context.  @queued: it
 * may sit on the work queue (not when served in its notification). */
static void rxperf_done(struct ctx *c, bool queued)
{
	bool free_now = true;

	log_call(c, queued ? "rxperf" : "rxperf, inline");
	/* No notification follows rxsvc_call_end, so after it only a queue
	 * entry made before can still point at the context. */
	rxsvc_call_end(c->call);
	if (queued) {
		pthread_mutex_lock(&d.qlock);
		free_now = !c->queued && !c->running;
		c->dead = true;
		pthread_mutex_unlock(&d.qlock);
	}
	if (free_now)
		free(c);
	atomic_fetch_sub(&d.active, 1);
}

static void rxperf_run(struct ctx *c)
{
	rxperf_serve_call(c->call);
	rxperf_done(c, true);
}

static void *rxperf_thread(void *arg)
{
	for (;;) {
		struct ctx *c;

		pthread_mutex_lock(&rp.lock);
		rp.idle++;
		while (!rp.head && !d.quit)
			pthread_cond_wait(&rp.cond, &rp.lock);
		rp.idle--;
		if (!rp.head) {
			pthread_mutex_unlock(&rp.lock);
			return NULL;
		}
		c = rp.head;
		rp.head = c->rp_next;
		if (!rp.head)
			rp.tail = NULL;
		pthread_mutex_unlock(&rp.lock);
		rxperf_run(c);
	}
}

static void start_rxperf(struct ctx *c)
{
	pthread_attr_t attr;
	pthread_t th;
	bool spawn;

	c->phase = PH_RXPERF;
	pthread_mutex_lock(&rp.lock);
	c->rp_next = NULL;
	if (rp.tail)
		rp.tail->rp_next = c;
	else
		rp.head = c;
	rp.tail = c;
	spawn = rp.idle == 0 && rp.nthreads < RXPERF_MAX_THREADS;
	if (spawn)
		rp.nthreads++;
	pthread_cond_signal(&rp.cond);
	pthread_mutex_unlock(&rp.lock);
	if (!spawn)
		return;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, rxperf_thread, NULL) != 0) {
		pthread_mutex_lock(&rp.lock);
		rp.nthreads--;
		pthread_mutex_unlock(&rp.lock);
	}
	pthread_attr_destroy(&attr);
}

/* Returns true when the context is finished and freed. */
static bool process(struct ctx *c)
{
	if (!c->call || c->phase == PH_RXPERF)
		return false;
	if (c->phase == PH_RECV && c->len == 0 && !c->buf &&
	    rxsvc_call_service_id(c->call) == RXPERF_SERVICE) {
		start_rxperf(c);
		if (c->phase == PH_RXPERF)
			return false;
	}
	if (c->phase == PH_RECV) {
		if (!echo_recv(c) && c->phase == PH_RECV)
			return false;
		if (c->phase == PH_RECV)
			c->phase = PH_SEND;
	}
	if (c->phase == PH_SEND) {
		struct iovec iov = { c->buf, c->len };
		int n = rxsvc_call_send(c->call, &iov, 1, c->len, 0);

		if (n < 0 && d.verbose)
			fprintf(stderr, "rxsvcd: reply failed: %s\n",
				strerror(-n));
		free(c->buf);
		c->buf = NULL;
		c->cap = 0;
		c->phase = PH_WAIT_DONE;
	}
	/* Keep the context until the peer has the reply (final ACK) or
	 * the call failed: shutdown waits for exactly this. */
	if (rxsvc_call_completion(c->call) != RXSVC_COMPLETE_NONE) {
		finish(c, NULL);
		return true;
	}
	return false;
}

static void *worker(void *arg)
{
	for (;;) {
		struct ctx *c;

		pthread_mutex_lock(&d.qlock);
		while (!d.qhead && !d.quit)
			pthread_cond_wait(&d.qcond, &d.qlock);
		if (!d.qhead && d.quit) {
			pthread_mutex_unlock(&d.qlock);
			return NULL;
		}
		c = d.qhead;
		d.qhead = c->next;
		if (!d.qhead)
			d.qtail = NULL;
		c->queued = false;
		if (c->dead) {
			pthread_mutex_unlock(&d.qlock);
			free(c);
			continue;
		}
		c->running = true;
		pthread_mutex_unlock(&d.qlock);
		for (;;) {
			if (process(c))
				break; /* finished and freed */
			pthread_mutex_lock(&d.qlock);
			if (c->dead) {
				pthread_mutex_unlock(&d.qlock);
				free(c);
				break;
			}
			if (!c->again) {
				c->running = false;
				pthread_mutex_unlock(&d.qlock);
				break;
			}
			c->again = false;
			pthread_mutex_unlock(&d.qlock);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxsvcd [--listen ADDR:PORT]... [options]\n"
		"Serve the Rx echo service (service ID 1) and rxperf (147) on\n"
		"each endpoint.\n"
		"  -l, --listen ADDR:PORT  endpoint (repeatable; default [::]:7009,\n"
		"                          all IPv4 and IPv6 addresses)\n"
		"      --port-file FILE    write the first endpoint's port to FILE\n"
		"  -b, --backlog N         preallocated calls per endpoint (def. 32)\n"
		"      --max-calls N       active service calls per endpoint (1024)\n"
		"      --max-calls-per-peer N  active calls one peer may hold\n"
		"                          (def. half of --max-calls)\n"
		"      --busy-rate N       BUSY replies per second per peer (1000)\n"
		"      --max-echo BYTES    largest request echoed (def. 256M)\n"
		"  -t, --threads N         worker threads (def. 4)\n"
		"      --no-debug          refuse rxdebug requests\n"
		"      --stats-file FILE   write the endpoints' counters at exit\n"
		"      --keyfile FILE      rxkad service keys (OpenAFS KeyFile or text)\n"
		"      --keyring NAME      or keys rxsvc_s:SERVICE:2:KVNO in a keyring\n"
		"                          (@u, @s, or a keyring's description)\n"
		"      --min-level LEVEL   lowest rxkad level accepted (clear)\n"
		"      --require-rxkad     refuse unauthenticated (rxnull) calls\n"
		"      --events-socket PATH  host the event bus there and publish\n"
		"                          the engine's events on it\n"
		"  -v, --verbose           a line per call on stderr\n"
		"  -h, --help, -V, --version\n");
}

static void parse_args(int argc, char **argv, const char **listen,
		       unsigned int *nlisten, const char **port_file)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "backlog", required_argument, NULL, 'b' },
		{ "max-calls", required_argument, NULL, 'M' },
		{ "max-echo", required_argument, NULL, 'E' },
		{ "threads", required_argument, NULL, 't' },
		{ "no-debug", no_argument, NULL, 'D' },
		{ "max-calls-per-peer", required_argument, NULL, 'p' },
		{ "busy-rate", required_argument, NULL, 'B' },
		{ "stats-file", required_argument, NULL, 'S' },
		{ "events-socket", required_argument, NULL, 'e' },
		{ "keyfile", required_argument, NULL, 'K' },
		{ "keyring", required_argument, NULL, 'k' },
		{ "min-level", required_argument, NULL, 'm' },
		{ "require-rxkad", no_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	uint64_t sz;
	int ch;

	while ((ch = getopt_long(argc, argv, "l:b:t:vhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (*nlisten == MAX_LISTEN)
				die("at most %d --listen", MAX_LISTEN);
			listen[(*nlisten)++] = optarg;
			break;
		case 'P':
			*port_file = optarg;
			break;
		case 'b':
			if (!parse_uint(optarg, 65536, &v) || v == 0)
				die("bad --backlog: %s", optarg);
			d.backlog = (unsigned int)v;
			break;
		case 'M':
			if (!parse_uint(optarg, 1u << 20, &v) || v == 0)
				die("bad --max-calls: %s", optarg);
			d.max_calls = (unsigned int)v;
			break;
		case 'E':
			if (!parse_size(optarg, &sz))
				die("bad --max-echo: %s", optarg);
			d.max_echo = sz;
			break;
		case 't':
			if (!parse_uint(optarg, 256, &v) || v == 0)
				die("bad --threads: %s", optarg);
			d.nthreads = (unsigned int)v;
			break;
		case 'D':
			d.no_debug = true;
			break;
		case 'B':
			if (!parse_uint(optarg, 1u << 24, &v) || v == 0)
				die("bad --busy-rate: %s", optarg);
			d.busy_rate = (unsigned int)v;
			break;
		case 'p':
			if (!parse_uint(optarg, 1u << 20, &v) || v == 0)
				die("bad --max-calls-per-peer: %s", optarg);
			d.max_calls_per_peer = (unsigned int)v;
			break;
		case 'S':
			d.stats_file = optarg;
			break;
		case 'e':
			d.events_socket = optarg;
			break;
		case 'K':
			d.keyfile = optarg;
			break;
		case 'k':
			d.keyring = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "clear"))
				d.min_level = 0;
			else if (!strcmp(optarg, "auth"))
				d.min_level = 1;
			else if (!strcmp(optarg, "crypt"))
				d.min_level = 2;
			else
				die("bad --min-level: %s", optarg);
			break;
		case 'R':
			d.require_rxkad = 1;
			break;
		case 'v':
			d.verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("rxsvcd %s (librxsvc %s)\n", PACKAGE_VERSION,
			       rxsvc_version());
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
}

static struct rxsvc_sock *open_endpoint(const char *spec)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_sock *sock;
	int ret;

	if (rxsvc_srx_parse(&p.local, spec) < 0) {
		fprintf(stderr, "rxsvcd: bad address: %s\n", spec);
		exit(2);
	}
	p.max_calls = d.max_calls;
	p.max_calls_per_peer = d.max_calls_per_peer;
	p.busy_per_sec = d.busy_rate;
	p.flags = d.no_debug ? RXSVC_SOCK_NO_DEBUG : 0;
	ret = rxsvc_sock_open(&p, &sock);
	if (ret < 0)
		die("cannot listen on %s: %s", spec, strerror(-ret));
	if ((ret = rxsvc_sock_add_service(sock, ECHO_SERVICE)) < 0 ||
	    (ret = rxsvc_sock_add_service(sock, RXPERF_SERVICE)) < 0 ||
	    (ret = rxsvc_sock_listen(sock, d.backlog)) < 0)
		die("cannot serve on %s: %s", spec, strerror(-ret));
	if (d.keyset) {
		struct rxsvc_service_security sec = RXSVC_SERVICE_SECURITY_INIT;

		sec.keyset = d.keyset;
		sec.min_level = d.min_level;
		sec.require_rxkad = d.require_rxkad;
		if ((ret = rxsvc_sock_set_service_security(sock, ECHO_SERVICE,
							   &sec)) < 0 ||
		    (ret = rxsvc_sock_set_service_security(
			     sock, RXPERF_SERVICE, &sec)) < 0)
			die("cannot set security: %s", strerror(-ret));
	}
	rxsvc_sock_set_accept(sock, on_new_call, on_discard, NULL);
	recharge(sock);
	return sock;
}

static void write_port_file(const char *path, struct rxsvc_sock *sock)
{
	struct rxsvc_srx srx;
	char tmp[4096], buf[16];
	int fd, n;

	rxsvc_sock_local(sock, &srx);
	n = snprintf(buf, sizeof(buf), "%u\n",
		     ntohs(srx.addr.sa.sa_family == AF_INET6 ?
				   srx.addr.sin6.sin6_port :
				   srx.addr.sin.sin_port));
	/* Written whole, then renamed: a reader never sees half a number. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_all(fd, buf, (size_t)n) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* Host the event bus (no separate daemon) and publish engine events. */
static void start_events(void)
{
	struct rxsvc_bus_params bp = RXSVC_BUS_PARAMS_INIT;
	int ret;

	bp.path = d.events_socket;
	ret = rxsvc_bus_open(&bp, &d.bus);
	if (ret < 0)
		die("cannot open the event bus at %s: %s", d.events_socket,
		    strerror(-ret));
	for (unsigned int i = 0; i < d.nsocks; i++) {
		ret = rxsvc_evpub_start(d.bus, d.socks[i], &d.pubs[i]);
		if (ret < 0)
			die("cannot publish engine events: %s",
			    strerror(-ret));
	}
}

/* Counters of all endpoints, summed, one "name value" line each. */
static void write_stats(const char *path)
{
	int n = rxsvc_sock_get_stats(d.socks[0], NULL, 0);
	uint64_t *sum = calloc((size_t)n, sizeof(*sum));
	uint64_t *v = calloc((size_t)n, sizeof(*v));
	FILE *f = fopen(path, "w");

	if (!f || !sum || !v)
		die("cannot write %s", path);
	for (unsigned int i = 0; i < d.nsocks; i++) {
		rxsvc_sock_get_stats(d.socks[i], v, (size_t)n);
		for (int k = 0; k < n; k++)
			sum[k] += v[k];
	}
	for (int k = 0; k < n; k++)
		fprintf(f, "%s %llu\n", rxsvc_stat_name((size_t)k),
			(unsigned long long)sum[k]);
	fclose(f);
	free(sum);
	free(v);
}

int main(int argc, char **argv)
{
	const char *listen[MAX_LISTEN], *port_file = NULL;
	unsigned int nlisten = 0;
	pthread_t th[256];
	sigset_t set;
	int sig;

	prog = "rxsvcd";
	parse_args(argc, argv, listen, &nlisten, &port_file);
	if (nlisten == 0)
		listen[nlisten++] = "[::]:7009";

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (d.keyfile && d.keyring)
		die("--keyfile and --keyring exclude each other");
	if (d.keyring) {
		int ret = rxsvc_keyset_open_keyring(d.keyring, &d.keyset);

		if (ret < 0)
			die("cannot use keyring %s: %s", d.keyring,
			    strerror(-ret));
	} else if (d.keyfile) {
		unsigned int line = 0;
		int ret = rxsvc_keyset_load_file(d.keyfile, &d.keyset, &line);

		if (ret < 0 && line)
			die("cannot load key file %s: %s at line %u", d.keyfile,
			    strerror(-ret), line);
		if (ret < 0)
			die("cannot load key file %s: %s", d.keyfile,
			    strerror(-ret));
	} else if (d.require_rxkad) {
		die("--require-rxkad needs --keyfile or --keyring");
	}
	for (unsigned int i = 0; i < d.nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, NULL) != 0)
			die("cannot start worker threads");
	for (unsigned int i = 0; i < nlisten; i++)
		d.socks[d.nsocks++] = open_endpoint(listen[i]);
	if (d.events_socket)
		start_events();
	if (port_file)
		write_port_file(port_file, d.socks[0]);
	if (d.verbose)
		fprintf(stderr, "rxsvcd: serving echo (service %d) and rxperf (%d) on %u endpoint(s)\n",
			ECHO_SERVICE, RXPERF_SERVICE, d.nsocks);

	do {
		if (sigwait(&set, &sig) != 0)
			sig = SIGTERM;
	} while (sig == SIGHUP);

	/* Stop taking calls; let those in flight finish (at most 30 s). */
	atomic_store(&d.stopping, true);
	for (int i = 0; i < 3000 && atomic_load(&d.active) > 0; i++)
		usleep(10000);
	if (d.verbose)
		fprintf(stderr, "rxsvcd: stopping (%d calls unfinished)\n",
			atomic_load(&d.active));
	pthread_mutex_lock(&d.qlock);
	d.quit = true;
	pthread_cond_broadcast(&d.qcond);
	pthread_mutex_unlock(&d.qlock);
	pthread_mutex_lock(&rp.lock);
	pthread_cond_broadcast(&rp.cond);
	pthread_mutex_unlock(&rp.lock);
	for (unsigned int i = 0; i < d.nthreads; i++)
		pthread_join(th[i], NULL);
	if (d.stats_file)
		write_stats(d.stats_file);
	for (unsigned int i = 0; i < d.nsocks; i++) {
		if (d.pubs[i])
			rxsvc_evpub_stop(d.pubs[i]);
		rxsvc_sock_close(d.socks[i]);
	}
	if (d.bus)
		rxsvc_bus_close(d.bus);
	rxsvc_keyset_free(d.keyset);
	return 0;
}
