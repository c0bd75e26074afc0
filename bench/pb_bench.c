/* SPDX-License-Identifier: MIT */
/*
 * pb_bench - what the protobuf-c binding (librxsvc-pb) costs over raw
 * rxsvc calls carrying the same bytes (issue 7: at most 15%, aim 5%).
 * Built and run by bench/pb_run.sh; not part of `make check`.
 *
 *   pb_bench serve PORTFILE [THREADS]
 *	One process, two endpoints on 127.0.0.1 (ephemeral ports, written
 *	to PORTFILE as "RAWPORT PBPORT"), the same number of worker
 *	threads each (default 4):
 *	  pb   rxsvc_pb_serve() of pbbench.Bench (bench/pb_bench.proto),
 *	       service 100; Echo answers with its input message.
 *	  raw  service 100 on the bare engine: worker threads take each
 *	       new call, read the request, reply with the request minus its
 *	       4-byte opcode (exactly the bytes pb's Echo reply carries),
 *	       wait for the call to complete, end it.
 *	Runs until SIGTERM/SIGINT.
 *
 *   pb_bench client RAWPORT PBPORT [CALLS [ROUNDS [THREADS]]]
 *	Small RPCs (a Msg of ~50 bytes packed) against both servers in the
 *	same run, alternating raw and pb rounds of CALLS calls (default
 *	20000, 5 rounds) from THREADS client threads (default 1: serial
 *	calls) on one endpoint, and prints calls/s of each (all rounds
 *	together, and the best round) and the binding's overhead,
 *	1 - pb calls/s / raw calls/s: the median over the rounds of each
 *	round's pair (robust against a burst of load from other processes
 *	on a shared machine), and from the totals.
 *	  pb   rxsvc_pb_invoke(): pack, one Rx call, unpack, free.
 *	  raw  rxsvc_call_begin/send/recv/end with the same request bytes
 *	       (packed once, up front) into a stack buffer.
 *	Exit status 0, or 1 when the (median) overhead is above 15%.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <rxsvc/pb.h>

#include "pb_bench.pb-c.h"

#define SERVICE 100
#define LIMIT	15.0
#define AIM	5.0

static void die(const char *what, int err)
{
	fprintf(stderr, "pb_bench: %s: %s\n", what, strerror(-err));
	exit(2);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------- */
/* Servers                                                           */
/* ---------------------------------------------------------------- */

static void bench_echo(Pbbench__Bench_Service *svc, const Pbbench__Msg *in,
		       Pbbench__Msg_Closure closure, void *data)
{
	closure(in, data);
}

static Pbbench__Bench_Service pb_impl = PBBENCH__BENCH__INIT(bench_);

/* The raw server: a queue of new calls and a pool of workers. */
struct rawq {
	struct rxsvc_call **calls;
	size_t head, n, cap;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};
static struct rawq rq = { .lock = PTHREAD_MUTEX_INITIALIZER,
			  .cond = PTHREAD_COND_INITIALIZER };
static atomic_ulong raw_next_id = 1;

static void raw_new_call(struct rxsvc_sock *s, struct rxsvc_call *call,
			 unsigned long id, void *arg)
{
	pthread_mutex_lock(&rq.lock);
	if (rq.n == rq.cap) {
		size_t ncap = rq.cap ? rq.cap * 2 : 256;
		struct rxsvc_call **nc = malloc(ncap * sizeof(*nc));

		if (!nc) {
			pthread_mutex_unlock(&rq.lock);
			rxsvc_call_abort(call, RX_CALL_DEAD, -ENOMEM, "queue");
			rxsvc_call_end(call);
			return;
		}
		for (size_t i = 0; i < rq.n; i++)
			nc[i] = rq.calls[(rq.head + i) % rq.cap];
		free(rq.calls);
		rq.calls = nc;
		rq.head = 0;
		rq.cap = ncap;
	}
	rq.calls[(rq.head + rq.n++) % rq.cap] = call;
	pthread_cond_signal(&rq.cond);
	pthread_mutex_unlock(&rq.lock);
	/* Replace the preallocation this call took (as pb_server does). */
	rxsvc_sock_charge(s, NULL, atomic_fetch_add(&raw_next_id, 1));
}

static void *raw_worker(void *arg)
{
	uint8_t buf[65536];

	for (;;) {
		struct rxsvc_call *call;
		struct iovec iov;
		size_t len = 0;
		int n = 0;

		pthread_mutex_lock(&rq.lock);
		while (!rq.n)
			pthread_cond_wait(&rq.cond, &rq.lock);
		call = rq.calls[rq.head];
		rq.head = (rq.head + 1) % rq.cap;
		rq.n--;
		pthread_mutex_unlock(&rq.lock);
		for (;;) {
			unsigned int fl = 0;
			int32_t code = 0;

			n = rxsvc_call_recv(call, buf + len, sizeof(buf) - len,
					    &fl, &code);
			if (n < 0)
				break;
			len += (size_t)n;
			if (fl & RXSVC_RECV_END)
				break;
			if (len == sizeof(buf)) {
				rxsvc_call_abort(call, RXGEN_SS_UNMARSHAL,
						 -EMSGSIZE, "too long");
				n = -EMSGSIZE;
				break;
			}
		}
		if (n >= 0 && len < 4) {
			rxsvc_call_abort(call, RXGEN_DECODE, -EBADMSG, "op");
			n = -EBADMSG;
		}
		if (n >= 0) {
			iov.iov_base = buf + 4;
			iov.iov_len = len - 4;
			rxsvc_call_send(call, &iov, 1, len - 4, 0);
		}
		rxsvc_call_wait(call, 30000);
		rxsvc_call_end(call);
	}
	return NULL;
}

static struct rxsvc_sock *open_sock(void)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_sock *s;
	int r;

	if ((r = rxsvc_srx_parse(&p.local, "127.0.0.1:0")) < 0 ||
	    (r = rxsvc_sock_open(&p, &s)) < 0)
		die("open endpoint", r);
	return s;
}

static unsigned int port_of(struct rxsvc_sock *s)
{
	struct rxsvc_srx a;

	rxsvc_sock_local(s, &a);
	return ntohs(a.addr.sin.sin_port);
}

static int serve(const char *portfile, unsigned int threads)
{
	struct rxsvc_pb_serve_opts o = RXSVC_PB_SERVE_OPTS_INIT;
	struct rxsvc_sock *raw = open_sock(), *pb = open_sock();
	unsigned int backlog = 32;
	sigset_t set;
	pthread_t th;
	FILE *f;
	int r, sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	o.threads = threads;
	o.backlog = backlog;
	if ((r = rxsvc_pb_serve(pb, SERVICE, &pb_impl.base, &o)) < 0)
		die("rxsvc_pb_serve", r);

	if ((r = rxsvc_sock_add_service(raw, SERVICE)) < 0 ||
	    (r = rxsvc_sock_listen(raw, backlog)) < 0)
		die("raw listen", r);
	rxsvc_sock_set_accept(raw, raw_new_call, NULL, NULL);
	for (unsigned int i = 0; i < backlog; i++)
		rxsvc_sock_charge(raw, NULL, atomic_fetch_add(&raw_next_id, 1));
	for (unsigned int i = 0; i < threads; i++)
		if (pthread_create(&th, NULL, raw_worker, NULL) != 0)
			die("threads", -EAGAIN);

	f = fopen(portfile, "w");
	if (!f)
		die(portfile, -errno);
	fprintf(f, "%u %u\n", port_of(raw), port_of(pb));
	fclose(f);
	sigwait(&set, &sig);
	rxsvc_pb_unserve(pb, 1000);
	_exit(0); /* raw workers block in their queue */
}

/* ---------------------------------------------------------------- */
/* Client                                                            */
/* ---------------------------------------------------------------- */

static struct rxsvc_sock *csock;
static struct rxsvc_srx raw_peer;
static ProtobufCService *pb_svc;
static Pbbench__Msg req_msg = PBBENCH__MSG__INIT;
static uint8_t req_bytes[256];
static size_t req_len;
static size_t reply_len; /* packed reply, for the header line */
static atomic_ulong raw_call_id = 1;
static atomic_int failures;

static int raw_call(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct iovec iov = { req_bytes, req_len };
	struct rxsvc_call *call;
	uint8_t buf[512];
	size_t len = 0;
	int r;

	cp.peer = raw_peer;
	cp.user_call_id = atomic_fetch_add(&raw_call_id, 1);
	cp.tx_total_len = (int64_t)req_len;
	if ((r = rxsvc_call_begin(csock, &cp, &call)) < 0)
		return r;
	rxsvc_call_send(call, &iov, 1, req_len, 0);
	for (;;) {
		unsigned int fl = 0;
		int32_t code = 0;

		r = rxsvc_call_recv(call, buf + len, sizeof(buf) - len, &fl,
				    &code);
		if (r < 0)
			break;
		len += (size_t)r;
		if (fl & RXSVC_RECV_END)
			break;
		if (len == sizeof(buf)) {
			r = -EMSGSIZE;
			break;
		}
	}
	rxsvc_call_end(call);
	if (r >= 0 && len != req_len - 4)
		r = -EBADMSG;
	return r < 0 ? r : 0;
}

static int pb_call(void)
{
	ProtobufCMessage *out = NULL;
	int32_t code;
	int r = rxsvc_pb_invoke(pb_svc, 0, &req_msg.base, &out, &code);

	if (r < 0)
		return r;
	if (((Pbbench__Msg *)out)->id != req_msg.id)
		r = -EBADMSG;
	protobuf_c_message_free_unpacked(out, NULL);
	return r;
}

struct job {
	int (*fn)(void);
	unsigned long calls;
};

static void *run_job(void *arg)
{
	struct job *j = arg;

	for (unsigned long i = 0; i < j->calls; i++) {
		int r = j->fn();

		if (r < 0) {
			if (atomic_fetch_add(&failures, 1) < 5)
				fprintf(stderr, "pb_bench: call failed: %s\n",
					strerror(-r));
		}
	}
	return NULL;
}

/* CALLS calls of @fn from @threads threads; returns the seconds taken. */
static double round_of(int (*fn)(void), unsigned long calls,
		       unsigned int threads)
{
	pthread_t th[64];
	struct job j = { fn, calls / threads };
	double t0 = now();

	for (unsigned int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, run_job, &j) != 0)
			die("threads", -EAGAIN);
	for (unsigned int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int client(unsigned int raw_port, unsigned int pb_port,
		  unsigned long calls, unsigned int rounds,
		  unsigned int threads)
{
	struct rxsvc_pb_client_params cp = RXSVC_PB_CLIENT_PARAMS_INIT;
	static uint8_t data[32];
	double raw_t = 0, pb_t = 0, raw_best = 0, pb_best = 0, ovh, tot;
	double pair[64];
	unsigned long per = calls / threads * threads;
	int r;

	csock = open_sock();
	if ((r = rxsvc_srx_parse(&raw_peer, "127.0.0.1:1")) < 0)
		die("address", r);
	raw_peer.addr.sin.sin_port = htons((uint16_t)raw_port);
	raw_peer.service_id = SERVICE;
	cp.descriptor = &pbbench__bench__descriptor;
	cp.sock = csock;
	cp.peer = raw_peer;
	cp.peer.addr.sin.sin_port = htons((uint16_t)pb_port);
	cp.flags = RXSVC_PB_CHECK_DESCRIPTOR;
	if ((r = rxsvc_pb_client_new(&cp, &pb_svc)) < 0)
		die("rxsvc_pb_client_new", r);

	/* The small message and its bytes on the wire. */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	req_msg.id = 42;
	req_msg.name = "a small message";
	req_msg.data.data = data;
	req_msg.data.len = sizeof(data);
	reply_len = protobuf_c_message_get_packed_size(&req_msg.base);
	if (reply_len + 4 > sizeof(req_bytes))
		die("message", -EMSGSIZE);
	memset(req_bytes, 0, 4); /* opcode 0: Echo */
	protobuf_c_message_pack(&req_msg.base, req_bytes + 4);
	req_len = reply_len + 4;

	/* Warm up both paths (connections, caches). */
	round_of(raw_call, 1000, threads);
	round_of(pb_call, 1000, threads);
	if (atomic_load(&failures))
		die("warm-up calls failed", -EIO);

	printf("pb_bench: %lu calls x %u rounds per side, %u client "
	       "thread(s); request %zu bytes (opcode + packed Msg), reply "
	       "%zu bytes\n",
	       per, rounds, threads, req_len, reply_len);
	for (unsigned int i = 0; i < rounds; i++) {
		/* Alternate which side goes first, against drift. */
		double a, b;

		if (i % 2 == 0) {
			a = round_of(raw_call, calls, threads);
			b = round_of(pb_call, calls, threads);
		} else {
			b = round_of(pb_call, calls, threads);
			a = round_of(raw_call, calls, threads);
		}
		printf("  round %u: raw %.0f calls/s, pb %.0f calls/s\n", i + 1,
		       per / a, per / b);
		raw_t += a;
		pb_t += b;
		pair[i] = 100.0 * (1.0 - a / b);
		if (per / a > raw_best)
			raw_best = per / a;
		if (per / b > pb_best)
			pb_best = per / b;
	}
	qsort(pair, rounds, sizeof(pair[0]), cmp_double);
	ovh = rounds % 2 ? pair[rounds / 2]
			 : (pair[rounds / 2 - 1] + pair[rounds / 2]) / 2;
	tot = 100.0 * (1.0 - raw_t / pb_t);
	printf("raw rxsvc:      %8.0f calls/s (best round %.0f)\n",
	       per * rounds / raw_t, raw_best);
	printf("protobuf-c/rx:  %8.0f calls/s (best round %.0f)\n",
	       per * rounds / pb_t, pb_best);
	printf("pb overhead:    %8.1f%% of raw calls/s (median of rounds; "
	       "totals %.1f%%, best rounds %.1f%%); limit %.0f%%, aim %.0f%%: "
	       "%s\n",
	       ovh, tot, 100.0 * (1.0 - pb_best / raw_best), LIMIT, AIM,
	       ovh <= AIM ? "within aim" : ovh <= LIMIT ? "within limit"
							: "OVER LIMIT");
	if (atomic_load(&failures)) {
		fprintf(stderr, "pb_bench: %d calls failed\n",
			atomic_load(&failures));
		return 2;
	}
	protobuf_c_service_destroy(pb_svc);
	rxsvc_sock_close(csock);
	return ovh <= LIMIT ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], argc > 3 ? (unsigned)atoi(argv[3]) : 4);
	if (argc >= 4 && strcmp(argv[1], "client") == 0) {
		unsigned long calls = argc > 4 ? strtoul(argv[4], NULL, 0)
					       : 20000;
		unsigned int rounds = argc > 5 ? (unsigned)atoi(argv[5]) : 5;
		unsigned int threads = argc > 6 ? (unsigned)atoi(argv[6]) : 1;

		if (!calls || !rounds || rounds > 64 || !threads ||
		    threads > 64 ||
		    calls < threads)
			goto usage;
		return client((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]),
			      calls, rounds, threads);
	}
usage:
	fprintf(stderr, "usage: pb_bench serve PORTFILE [THREADS]\n"
			"       pb_bench client RAWPORT PBPORT [CALLS [ROUNDS "
			"[THREADS]]]\n");
	return 2;
}
