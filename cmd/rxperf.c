/* SPDX-License-Identifier: MIT */
/*
 * rxperf.c - the rxperf protocol (rx-protocol.md §9), both ends.
 *
 * A request starts with four be32 words: version (3), opcode, rsize,
 * wsize (the client's read and write chunk sizes; we read and write in
 * chunks of our own).  Then, per opcode:
 *   SEND (0): n, n bytes                    reply: cookie
 *   RECV (1): n                             reply: n bytes, cookie
 *   RPC  (3): reqlen, replylen, reqlen bytes reply: replylen bytes, cookie
 *   FILE (4): n, n words w[]; then data: a word of 0 flips the direction
 *             (the server starts reading), any other moves w * 4 bytes.
 *             No cookie.
 * cookie = be32 0x4711.  Data bytes are zeros.
 *
 * Rx turns a call around once: after the server starts its reply it
 * cannot read again, so a FILE list that goes back to "read" after a
 * write fails (it fails on OpenAFS too).  Before the first reply byte
 * the server checks that the request ended exactly where the protocol
 * says, as Linux's server does (-453 for too much data).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "cmd/common.h"
#include <rxsvc/key.h>
#include "cmd/rxperf.h"
#include "cmd/rxdebug_cmd.h"

#define RXPERF_VERSION 3
#define OP_SEND	       0
#define OP_RECV	       1
#define OP_RPC	       3
#define OP_FILE	       4
#define RXPERF_COOKIE  0x4711u
#define CHUNK	       (256u * 1024u)
#define FILE_MAX_WORDS 65536u /* a longer list is refused (-453) */

static const uint8_t zeros[CHUNK];

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---------------------------------------------------------------- */
/* server                                                            */
/* ---------------------------------------------------------------- */

/* Outcome of reading part of the request. */
enum srv_rd { RD_OK, RD_SHORT, RD_FAILED };

/*
 * Read exactly @n bytes of the request into @buf (or discard them when
 * @buf is NULL, using @sink of CHUNK bytes).  RD_SHORT: the request
 * ended first; RD_FAILED: the call failed (nothing more to do).
 */
static enum srv_rd srv_read(struct rxsvc_call *call, uint8_t *buf, uint64_t n,
			    uint8_t *sink)
{
	while (n > 0) {
		size_t want = n < CHUNK ? (size_t)n : CHUNK;
		unsigned int fl = RXSVC_RECV_WAITALL;
		int32_t code;
		int got = rxsvc_call_recv(call, buf ? buf : sink, want, &fl,
					  &code);

		if (got < 0)
			return RD_FAILED;
		n -= (uint64_t)got;
		if (buf)
			buf += got;
		if (n && (fl & RXSVC_RECV_END))
			return RD_SHORT;
	}
	return RD_OK;
}

/* The request must end here: 0 if it does, else the abort to send. */
static int32_t srv_expect_end(struct rxsvc_call *call, uint8_t *sink)
{
	unsigned int fl = 0;
	int32_t code;
	int got = rxsvc_call_recv(call, sink, 1, &fl, &code);

	if (got < 0)
		return RX_CALL_DEAD;
	if (got > 0 || !(fl & RXSVC_RECV_END))
		return RXGEN_SS_UNMARSHAL;
	return 0;
}

/* Send @n zero bytes, then @tail (if any); the last piece ends the
 * reply when @last.  Returns 0 or a negative errno. */
static int srv_write(struct rxsvc_call *call, uint64_t n, const uint8_t *tail,
		     size_t tail_len, bool last)
{
	struct iovec iov[2];
	int ret;

	do {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		int niov = 0;
		size_t len = k;
		bool end;

		n -= k;
		iov[niov].iov_base = (void *)zeros;
		iov[niov++].iov_len = k;
		if (n == 0 && tail_len) {
			iov[niov].iov_base = (void *)tail;
			iov[niov++].iov_len = tail_len;
			len += tail_len;
		}
		end = last && n == 0;
		ret = rxsvc_call_send(call, iov, niov, len,
				      end ? 0 : RXSVC_SEND_MORE);
		if (ret < 0)
			return ret;
	} while (n > 0);
	return 0;
}

static void srv_abort(struct rxsvc_call *call, int32_t code, const char *why)
{
	rxsvc_call_abort(call, code, -ECONNABORTED, why);
}

/* FILE: walk the word list in step with the client. */
static int32_t srv_file(struct rxsvc_call *call, uint8_t *sink)
{
	uint8_t nb[4];
	uint32_t n, *w;
	uint64_t reply_total = 0;
	bool reading = true, replied = false;
	int32_t rc = 0;

	if (srv_read(call, nb, 4, sink) != RD_OK)
		return RXGEN_SS_UNMARSHAL;
	n = get_be32(nb);
	if (n > FILE_MAX_WORDS)
		return RXGEN_SS_UNMARSHAL;
	w = calloc(n ? n : 1, sizeof(*w));
	if (!w)
		return RXGEN_SS_MARSHAL;
	for (uint32_t i = 0; i < n; i++) {
		if (srv_read(call, nb, 4, sink) != RD_OK) {
			rc = RXGEN_SS_UNMARSHAL;
			goto out;
		}
		w[i] = get_be32(nb);
	}
	/* Total reply bytes, so that the last one ends the reply. */
	for (uint32_t i = 0; i < n; i++) {
		if (w[i] == 0)
			reading = !reading;
		else if (!reading)
			reply_total += (uint64_t)w[i] * 4;
	}
	reading = true;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		uint64_t bytes = (uint64_t)w[i] * 4;

		if (w[i] == 0) {
			reading = !reading;
			continue;
		}
		if (reading) {
			if (replied) {
				rc = RXGEN_SS_UNMARSHAL; /* Rx cannot */
				break;
			}
			if (srv_read(call, NULL, bytes, sink) != RD_OK)
				rc = RXGEN_SS_UNMARSHAL;
			continue;
		}
		if (!replied && (rc = srv_expect_end(call, sink)) != 0)
			break;
		replied = true;
		reply_total -= bytes;
		if (srv_write(call, bytes, NULL, 0, reply_total == 0) < 0)
			rc = RX_CALL_DEAD;
	}
	if (rc == 0 && !replied) {
		rc = srv_expect_end(call, sink);
		if (rc == 0 && rxsvc_call_send(call, NULL, 0, 0, 0) < 0)
			rc = RX_CALL_DEAD;
	}
out:
	free(w);
	return rc;
}

/* Serve the opcode of a request whose header was read. */
static int32_t srv_op(struct rxsvc_call *call, uint32_t op, uint8_t *sink)
{
	uint8_t a[8], cookie[4];
	uint64_t in = 0, out = 0;
	int32_t rc;

	put_be32(cookie, RXPERF_COOKIE);
	switch (op) {
	case OP_SEND:
		if (srv_read(call, a, 4, sink) != RD_OK)
			return RXGEN_SS_UNMARSHAL;
		in = get_be32(a);
		break;
	case OP_RECV:
		if (srv_read(call, a, 4, sink) != RD_OK)
			return RXGEN_SS_UNMARSHAL;
		out = get_be32(a);
		break;
	case OP_RPC:
		if (srv_read(call, a, 8, sink) != RD_OK)
			return RXGEN_SS_UNMARSHAL;
		in = get_be32(a);
		out = get_be32(a + 4);
		break;
	case OP_FILE:
		return srv_file(call, sink);
	default:
		return RXGEN_OPCODE;
	}
	if (srv_read(call, NULL, in, sink) != RD_OK)
		return RXGEN_SS_UNMARSHAL;
	rc = srv_expect_end(call, sink);
	if (rc)
		return rc;
	if (srv_write(call, out, cookie, sizeof(cookie), true) < 0)
		return RX_CALL_DEAD;
	return 0;
}

/*
 * Each serving thread keeps its discard buffer (CHUNK bytes: a malloc of
 * that size is an mmap and munmap per call otherwise).
 */
static pthread_key_t sink_key;
static pthread_once_t sink_once = PTHREAD_ONCE_INIT;

static void sink_key_init(void)
{
	if (pthread_key_create(&sink_key, free) != 0)
		abort();
}

static uint8_t *thread_sink(void)
{
	uint8_t *sink;

	pthread_once(&sink_once, sink_key_init);
	sink = pthread_getspecific(sink_key);
	if (!sink) {
		sink = malloc(CHUNK);
		if (sink && pthread_setspecific(sink_key, sink) != 0) {
			free(sink);
			sink = NULL;
		}
	}
	return sink;
}

void rxperf_serve_call(struct rxsvc_call *call)
{
	uint8_t hdr[16];
	uint8_t *sink = thread_sink();
	int32_t rc;

	if (!sink) {
		srv_abort(call, RXGEN_SS_MARSHAL, "rxperf: no memory");
		return;
	}
	switch (srv_read(call, hdr, sizeof(hdr), sink)) {
	case RD_OK:
		break;
	case RD_SHORT:
		srv_abort(call, RXGEN_SS_UNMARSHAL, "rxperf: short request");
		return;
	case RD_FAILED:
		return;
	}
	if (get_be32(hdr) != RXPERF_VERSION) {
		srv_abort(call, RX_USER_ABORT, "rxperf: bad version");
		return;
	}
	/* rsize and wsize (words 2, 3) are the client's business: we move
	 * data in chunks of our own, as Linux's server does. */
	rc = srv_op(call, get_be32(hdr + 4), sink);
	if (rc)
		srv_abort(call, rc, "rxperf: refused");
}

bool rxperf_serve_inline(struct rxsvc_call *call)
{
	uint8_t hdr[24];
	uint64_t avail, out;
	unsigned int fl = RXSVC_RECV_PEEK;
	int n;

	if (!rxsvc_call_rx_complete(call, &avail) ||
	    avail > RXPERF_INLINE_MAX)
		return false;
	n = rxsvc_call_recv(call, hdr, sizeof(hdr), &fl, NULL);
	if (n < 0)
		return false;
	if (n < 16 || get_be32(hdr) != RXPERF_VERSION) {
		/* Refused without a reply: nothing can block. */
		rxperf_serve_call(call);
		return true;
	}
	switch (get_be32(hdr + 4)) {
	case OP_SEND:
		out = 0; /* the cookie only */
		break;
	case OP_RECV:
		if (n < 20)
			return false;
		out = get_be32(hdr + 16);
		break;
	case OP_RPC:
		if (n < 24)
			return false;
		out = get_be32(hdr + 20);
		break;
	case OP_FILE:
	default:
		return false;
	}
	if (out > RXPERF_INLINE_MAX)
		return false;
	rxperf_serve_call(call);
	return true;
}

/* ---------------------------------------------------------------- */
/* client: rxsvc perf                                                */
/* ---------------------------------------------------------------- */

#define EXIT_FAILED 1
#define EXIT_USAGE  2
#define EXIT_LOCAL  5

struct perf_opts {
	const char *addr;
	const char *opname;
	int op;
	uint64_t send_bytes; /* request payload per call */
	uint64_t recv_bytes; /* reply payload per call */
	unsigned long calls; /* 0: until --duration */
	unsigned long threads;
	double duration; /* 0: until --calls */
	int json;
	unsigned long timeout;
	int level;            /* -1: rxnull, else the rxkad level */
	const char *key_name; /* rxsvc:NAME in the keyrings */
	struct rxsvc_key *key;
	int async;            /* drive calls from notify_rx */
};

/* Error kinds, counted per run. */
enum perf_err {
	PE_ABORT, /* the server aborted the call */
	PE_BUSY,
	PE_NET,	   /* no answer / ICMP */
	PE_LOCAL,  /* local failure */
	PE_SHORT,  /* reply shorter or longer than asked for */
	PE_COOKIE, /* reply did not end with 0x4711 */
	PE__COUNT
};
static const char *const perf_err_name[PE__COUNT] = {
	"abort", "busy", "net_error", "local_error", "bad_length", "bad_cookie",
};

#define MAX_CODES 8
struct perf_worker {
	pthread_t tid;
	unsigned int idx;
	struct perf_run *run;
	uint32_t *lat; /* microseconds per successful call */
	size_t nlat, cap;
	unsigned long errs[PE__COUNT];
	int32_t codes[MAX_CODES];	/* distinct abort codes seen ... */
	unsigned long ncode[MAX_CODES]; /* ... and how often */
	uint8_t *sink;
	int oom;
	/* --async: the chain's call in flight */
	struct rxsvc_call *call;
	double t0;
	uint64_t got;
	uint8_t last4[4];
};

struct perf_run {
	const struct perf_opts *o;
	struct rxsvc_sock *sock;
	struct rxsvc_srx peer;
	atomic_ulong started; /* calls begun (for --calls) */
	atomic_ulong done;    /* calls finished (progress line) */
	atomic_ulong next_id; /* user call IDs */
	atomic_bool stop;
	double t_end; /* --duration deadline, monotonic seconds */
	uint8_t req_hdr[24];
	size_t req_hdr_len;
	uint8_t *file_words; /* FILE: the list, wire order */
	size_t file_len;
	/* --async */
	struct perf_worker *workers;
	pthread_mutex_t alock;
	pthread_cond_t acond;
	unsigned int chains; /* [alock] still running */
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --async moves at most this much each way: nothing in notify_rx may
 * block, so a request must fit the transmit window at once. */
#define ASYNC_MAX (16u * 1024u)

static void perf_usage(void)
{
	fprintf(stderr,
		"usage: rxsvc perf ADDR:PORT rpc|send|recv|file [--bytes N | --send N --recv N]\n"
		"       [--security none|clear|auth|crypt [--key NAME (def. rxperf)]]\n"
		"       [--calls N] [--threads N] [--duration SECS] [--timeout SECS] [--json]\n"
		"       [--async]\n"
		"  rpc: --send/--recv bytes each way (def. 4/4); send, recv: --bytes\n"
		"  (def. 1M); file: --send N written then --recv N read (multiples\n"
		"  of 4). Default: 1000 calls for rpc, 10 otherwise.\n"
		"  --async (rpc up to 16 KiB each way): no thread waits; each of the\n"
		"  --threads N chains of calls runs from the calls' notifications.\n");
	exit(EXIT_USAGE);
}

static int perf_op(const char *s)
{
	if (!strcmp(s, "rpc"))
		return OP_RPC;
	if (!strcmp(s, "send"))
		return OP_SEND;
	if (!strcmp(s, "recv"))
		return OP_RECV;
	if (!strcmp(s, "file"))
		return OP_FILE;
	return -1;
}

static void perf_parse(int argc, char **argv, struct perf_opts *o)
{
	static const struct option opts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "send", required_argument, NULL, 's' },
		{ "recv", required_argument, NULL, 'r' },
		{ "calls", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "security", required_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "async", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_bytes = false, have_sr = false, have_calls = false;
	uint64_t v;
	char *end;
	int ch;

	o->threads = 1;
	o->timeout = 60;
	o->level = -1;
	o->key_name = "rxperf";
	o->send_bytes = o->recv_bytes = 4;
	while ((ch = getopt_long(argc, argv, "b:s:r:n:t:d:T:jh", opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 'b':
			if (!parse_size(optarg, &v) || v > UINT32_MAX)
				perf_usage();
			o->send_bytes = o->recv_bytes = v;
			have_bytes = true;
			break;
		case 's':
		case 'r':
			if (!parse_size(optarg, &v) || v > UINT32_MAX)
				perf_usage();
			if (ch == 's')
				o->send_bytes = v;
			else
				o->recv_bytes = v;
			have_sr = true;
			break;
		case 'n':
			if (!parse_uint(optarg, 1ul << 30, &o->calls) ||
			    !o->calls)
				perf_usage();
			have_calls = true;
			break;
		case 't':
			if (!parse_uint(optarg, 256, &o->threads) ||
			    !o->threads)
				perf_usage();
			break;
		case 'd':
			o->duration = strtod(optarg, &end);
			if (*end || !(o->duration > 0) || o->duration > 86400)
				perf_usage();
			break;
		case 'T':
			if (!parse_uint(optarg, 86400, &o->timeout) ||
			    !o->timeout)
				perf_usage();
			break;
		case 'S':
			if (!strcmp(optarg, "none"))
				o->level = -1;
			else if (!strcmp(optarg, "clear"))
				o->level = 0;
			else if (!strcmp(optarg, "auth"))
				o->level = 1;
			else if (!strcmp(optarg, "crypt"))
				o->level = 2;
			else
				perf_usage();
			break;
		case 'k':
			o->key_name = optarg;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'A':
			o->async = 1;
			break;
		default:
			perf_usage();
		}
	}
	if (optind + 2 != argc || (have_bytes && have_sr))
		perf_usage();
	o->addr = argv[optind];
	o->opname = argv[optind + 1];
	o->op = perf_op(o->opname);
	if (o->op < 0)
		perf_usage();
	if (o->op != OP_RPC && o->op != OP_FILE && have_sr)
		perf_usage(); /* send/recv move --bytes one way */
	if (o->op != OP_RPC && !have_bytes && !have_sr)
		o->send_bytes = o->recv_bytes = 1u << 20;
	if (o->op == OP_SEND)
		o->recv_bytes = 0;
	if (o->op == OP_RECV)
		o->send_bytes = 0;
	if (o->op == OP_FILE && (o->send_bytes % 4 || o->recv_bytes % 4))
		perf_usage();
	if (!have_calls && o->duration == 0)
		o->calls = o->op == OP_RPC ? 1000 : 10;
	if (o->async && (o->op != OP_RPC || o->send_bytes > ASYNC_MAX ||
			 o->recv_bytes > ASYNC_MAX))
		perf_usage();
}

/* The request's fixed part, and FILE's word list. */
static int perf_build_request(struct perf_run *r)
{
	const struct perf_opts *o = r->o;
	uint8_t *h = r->req_hdr;
	size_t n = 16;

	put_be32(h, RXPERF_VERSION);
	put_be32(h + 4, (uint32_t)o->op);
	put_be32(h + 8, CHUNK);	 /* rsize */
	put_be32(h + 12, CHUNK); /* wsize */
	switch (o->op) {
	case OP_SEND:
		put_be32(h + n, (uint32_t)o->send_bytes);
		n += 4;
		break;
	case OP_RECV:
		put_be32(h + n, (uint32_t)o->recv_bytes);
		n += 4;
		break;
	case OP_RPC:
		put_be32(h + n, (uint32_t)o->send_bytes);
		put_be32(h + n + 4, (uint32_t)o->recv_bytes);
		n += 8;
		break;
	case OP_FILE: {
		uint32_t words[3], nw = 0;

		if (o->send_bytes)
			words[nw++] = (uint32_t)(o->send_bytes / 4);
		if (o->recv_bytes) {
			words[nw++] = 0; /* turn around */
			words[nw++] = (uint32_t)(o->recv_bytes / 4);
		}
		put_be32(h + n, nw);
		n += 4;
		r->file_words = calloc(nw ? nw : 1, 4);
		if (!r->file_words)
			return -ENOMEM;
		for (uint32_t i = 0; i < nw; i++)
			put_be32(r->file_words + 4 * i, words[i]);
		r->file_len = 4 * nw;
		break;
	}
	}
	r->req_hdr_len = n;
	return 0;
}

static void worker_err(struct perf_worker *w, enum perf_err e, int32_t code)
{
	w->errs[e]++;
	if (e != PE_ABORT)
		return;
	for (int i = 0; i < MAX_CODES; i++) {
		if (w->ncode[i] && w->codes[i] != code)
			continue;
		w->codes[i] = code;
		w->ncode[i]++;
		return;
	}
}

/* The error kind of a completed, failed call. */
static enum perf_err call_err_kind(struct rxsvc_call *call)
{
	switch (rxsvc_call_wait(call, 0)) {
	case RXSVC_COMPLETE_BUSY:
		return PE_BUSY;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		return PE_ABORT;
	case RXSVC_COMPLETE_NET_ERROR:
		return PE_NET;
	case RXSVC_COMPLETE_NONE:
	case RXSVC_COMPLETE_SUCCEEDED:
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
	case RXSVC_COMPLETE_LOCAL_ERROR:
		break;
	}
	return PE_LOCAL;
}

/* Send the request: fixed part, FILE list, then zeros. */
static int perf_send_request(struct perf_run *r, struct rxsvc_call *call)
{
	uint64_t left = r->o->op == OP_RECV ? 0 : r->o->send_bytes;
	struct iovec iov[3];
	int niov = 0, ret;
	size_t len = r->req_hdr_len + r->file_len;

	iov[niov].iov_base = r->req_hdr;
	iov[niov++].iov_len = r->req_hdr_len;
	if (r->file_len) {
		iov[niov].iov_base = r->file_words;
		iov[niov++].iov_len = r->file_len;
	}
	for (;;) {
		size_t k = left < CHUNK ? (size_t)left : CHUNK;

		iov[niov].iov_base = (void *)zeros;
		iov[niov++].iov_len = k;
		len += k;
		left -= k;
		ret = rxsvc_call_send(call, iov, niov, len,
				      left ? RXSVC_SEND_MORE : 0);
		if (ret < 0 || !left)
			return ret < 0 ? ret : 0;
		niov = 0;
		len = 0;
	}
}

/* One call; returns 0 or the error kind + 1 (abort code in *code). */
static int perf_one_call(struct perf_worker *w, int32_t *code)
{
	struct perf_run *r = w->run;
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call;
	uint64_t want = r->o->recv_bytes + (r->o->op == OP_FILE ? 0 : 4);
	uint64_t got = 0;
	uint8_t last4[4] = { 0 };
	int ret, rc = 0;

	cp.peer = r->peer;
	/* Fresh per call: rxsvc_call_end() frees the ID only later, on the
	 * I/O thread, so reusing it at once would get -EEXIST. */
	cp.user_call_id = atomic_fetch_add(&r->next_id, 1) + 1;
	cp.hard_time_ms = (unsigned int)r->o->timeout * 1000;
	if (r->o->key) {
		cp.key = r->o->key;
		cp.security_level = (unsigned int)r->o->level;
	}
	*code = 0;
	ret = rxsvc_call_begin(r->sock, &cp, &call);
	if (ret < 0)
		return PE_LOCAL + 1;
	ret = perf_send_request(r, call);
	for (unsigned int fl = 0; ret >= 0 && !(fl & RXSVC_RECV_END);) {
		ret = rxsvc_call_recv(call, w->sink, CHUNK, &fl, code);
		if (ret <= 0)
			continue;
		/* keep the stream's last 4 bytes for the cookie check */
		if (ret >= 4) {
			memcpy(last4, w->sink + ret - 4, 4);
		} else {
			memmove(last4, last4 + ret, (size_t)(4 - ret));
			memcpy(last4 + 4 - ret, w->sink, (size_t)ret);
		}
		got += (uint64_t)ret;
	}
	if (ret < 0) {
		rc = call_err_kind(call) + 1;
		*code = rxsvc_call_abort_code(call);
	} else if (got != want) {
		rc = PE_SHORT + 1;
	} else if (r->o->op != OP_FILE && get_be32(last4) != RXPERF_COOKIE) {
		rc = PE_COOKIE + 1;
	}
	rxsvc_call_end(call);
	return rc;
}

static bool perf_more(struct perf_run *r)
{
	if (atomic_load(&r->stop))
		return false;
	if (r->o->duration > 0 && mono() >= r->t_end)
		return false;
	if (r->o->calls && atomic_fetch_add(&r->started, 1) >= r->o->calls)
		return false;
	return true;
}

/* A finished call's latency, or its error. */
static void perf_record(struct perf_worker *w, double t0, int rc, int32_t code)
{
	if (rc) {
		worker_err(w, (enum perf_err)(rc - 1), code);
	} else {
		if (w->nlat == w->cap) {
			size_t ncap = w->cap ? w->cap * 2 : 4096;
			uint32_t *n = realloc(w->lat, ncap * sizeof(*n));

			if (!n) {
				w->oom = 1;
				atomic_store(&w->run->stop, true);
				return;
			}
			w->lat = n;
			w->cap = ncap;
		}
		w->lat[w->nlat++] = (uint32_t)((mono() - t0) * 1e6);
	}
	atomic_fetch_add(&w->run->done, 1);
}

/*
 * --async: a chain of calls driven by notify_rx.  The callback runs with
 * the engine's work in hand (on its I/O thread, mostly): once the reply
 * is all in it reads it without blocking, ends the call and begins the
 * chain's next one right there, so no thread waits and none is woken.
 * User call IDs carry the chain's index in their low 8 bits.
 */
static void async_notify(struct rxsvc_sock *sock, struct rxsvc_call *call,
			 unsigned long id);
static struct perf_run *async_run; /* notify_rx has only the call's ID */

/* Begin the chain's next call; false when the chain is finished. */
static bool async_next(struct perf_worker *w)
{
	struct perf_run *r = w->run;
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;

	while (perf_more(r)) {
		cp.peer = r->peer;
		cp.user_call_id = ((atomic_fetch_add(&r->next_id, 1) + 1) << 8) |
				  w->idx;
		cp.hard_time_ms = (unsigned int)r->o->timeout * 1000;
		cp.notify_rx = async_notify;
		if (r->o->key) {
			cp.key = r->o->key;
			cp.security_level = (unsigned int)r->o->level;
		}
		w->t0 = mono();
		w->got = 0;
		memset(w->last4, 0, sizeof(w->last4));
		if (rxsvc_call_begin(r->sock, &cp, &w->call) < 0) {
			w->call = NULL;
			perf_record(w, w->t0, PE_LOCAL + 1, 0);
			continue;
		}
		/* Failures show up as the call's completion. */
		(void)perf_send_request(r, w->call);
		return true;
	}
	return false;
}

static void async_chain_done(struct perf_run *r)
{
	pthread_mutex_lock(&r->alock);
	if (--r->chains == 0)
		pthread_cond_signal(&r->acond);
	pthread_mutex_unlock(&r->alock);
}

static void async_notify(struct rxsvc_sock *sock, struct rxsvc_call *call,
			 unsigned long id)
{
	struct perf_run *r = async_run;
	struct perf_worker *w = &r->workers[id & 0xff];
	uint64_t want = r->o->recv_bytes + 4;
	int32_t code = 0;
	int ret = 0, rc = 0;

	if (call != w->call)
		return;
	if (!rxsvc_call_rx_complete(call, NULL) &&
	    rxsvc_call_completion(call) == RXSVC_COMPLETE_NONE)
		return; /* more to come */
	for (unsigned int fl = 0; !(fl & RXSVC_RECV_END);) {
		fl = RXSVC_RECV_NONBLOCK;
		ret = rxsvc_call_recv(call, w->sink, CHUNK, &fl, &code);
		if (ret < 0)
			break;
		if (ret >= 4) {
			memcpy(w->last4, w->sink + ret - 4, 4);
		} else {
			memmove(w->last4, w->last4 + ret, (size_t)(4 - ret));
			memcpy(w->last4 + 4 - ret, w->sink, (size_t)ret);
		}
		w->got += (uint64_t)ret;
	}
	if (ret == -EAGAIN)
		return; /* cannot be: the reply was all in */
	if (ret < 0) {
		rc = call_err_kind(call) + 1;
		code = rxsvc_call_abort_code(call);
	} else if (w->got != want) {
		rc = PE_SHORT + 1;
	} else if (get_be32(w->last4) != RXPERF_COOKIE) {
		rc = PE_COOKIE + 1;
	}
	perf_record(w, w->t0, rc, code);
	w->call = NULL;
	rxsvc_call_end(call);
	if (!async_next(w))
		async_chain_done(r);
}

static void perf_run_async(struct perf_run *r, struct perf_worker *w)
{
	r->workers = w;
	async_run = r;
	pthread_mutex_init(&r->alock, NULL);
	pthread_cond_init(&r->acond, NULL);
	pthread_mutex_lock(&r->alock);
	r->chains = (unsigned int)r->o->threads;
	pthread_mutex_unlock(&r->alock);
	for (unsigned int i = 0; i < r->o->threads; i++)
		if (!async_next(&w[i]))
			async_chain_done(r);
	pthread_mutex_lock(&r->alock);
	while (r->chains)
		pthread_cond_wait(&r->acond, &r->alock);
	pthread_mutex_unlock(&r->alock);
}

static void *perf_worker_main(void *arg)
{
	struct perf_worker *w = arg;

	while (perf_more(w->run) && !w->oom) {
		double t0 = mono();
		int32_t code;
		int rc = perf_one_call(w, &code);

		perf_record(w, t0, rc, code);
	}
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Everything the report needs, gathered from the workers. */
struct perf_result {
	double seconds;
	unsigned long calls, failed;
	unsigned long errs[PE__COUNT];
	int32_t codes[MAX_CODES * 8];
	unsigned long ncode[MAX_CODES * 8];
	unsigned int ncodes;
	uint32_t p50, p90, p99, max;
	double calls_per_sec, mb_per_sec;
	uint64_t bytes_per_call;
	uint64_t retrans, pkts_out;
	bool peer_known;
	uint32_t peer_resends, peer_data_sent;
};

/* The @p-th percentile (nearest rank) of the sorted @v. */
static uint32_t pct(const uint32_t *v, size_t n, unsigned int p)
{
	size_t i;

	if (!n)
		return 0;
	i = (p * n + 99) / 100;
	return v[i ? i - 1 : 0];
}

static void perf_gather(struct perf_worker *w, unsigned int nw,
			struct perf_result *res)
{
	size_t total = 0, k = 0;
	uint32_t *all;

	for (unsigned int i = 0; i < nw; i++) {
		total += w[i].nlat;
		for (int e = 0; e < PE__COUNT; e++) {
			res->errs[e] += w[i].errs[e];
			res->failed += w[i].errs[e];
		}
		for (int c = 0; c < MAX_CODES && w[i].ncode[c]; c++) {
			unsigned int j;

			for (j = 0; j < res->ncodes; j++)
				if (res->codes[j] == w[i].codes[c])
					break;
			if (j == res->ncodes && j < MAX_CODES * 8)
				res->codes[res->ncodes++] = w[i].codes[c];
			if (j < MAX_CODES * 8)
				res->ncode[j] += w[i].ncode[c];
		}
	}
	res->calls = (unsigned long)total;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		die("out of memory");
	for (unsigned int i = 0; i < nw; i++) {
		memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
		k += w[i].nlat;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	res->p50 = pct(all, total, 50);
	res->p90 = pct(all, total, 90);
	res->p99 = pct(all, total, 99);
	res->max = total ? all[total - 1] : 0;
	free(all);
}

static void perf_print_text(const struct perf_opts *o,
			    const struct perf_result *res)
{
	char ab[64];

	printf("rxperf %s to %s: %lu calls ok, %lu failed, in %.3f s, %lu thread%s\n",
	       o->opname, o->addr, res->calls, res->failed, res->seconds,
	       o->threads, o->threads == 1 ? "" : "s");
	printf("  %.1f calls/s, %.3f MB/s (%llu bytes per call: %llu sent, %llu received)\n",
	       res->calls_per_sec, res->mb_per_sec,
	       (unsigned long long)res->bytes_per_call,
	       (unsigned long long)o->send_bytes,
	       (unsigned long long)o->recv_bytes);
	printf("  latency us: p50 %u  p90 %u  p99 %u  max %u\n", res->p50,
	       res->p90, res->p99, res->max);
	printf("  errors:");
	if (!res->failed)
		printf(" none");
	for (int e = 0; e < PE__COUNT; e++)
		if (res->errs[e])
			printf(" %s %lu", perf_err_name[e], res->errs[e]);
	for (unsigned int j = 0; j < res->ncodes; j++)
		printf("%s%s x%lu", j ? ", " : " (codes: ",
		       abort_text(res->codes[j], ab, sizeof(ab)),
		       res->ncode[j]);
	printf("%s\n", res->ncodes ? ")" : "");
	printf("  retransmits: ours %llu of %llu packets sent",
	       (unsigned long long)res->retrans,
	       (unsigned long long)res->pkts_out);
	if (res->peer_known)
		printf("; peer %u of %u DATA packets\n", res->peer_resends,
		       res->peer_data_sent);
	else
		printf("; peer unknown (no rxdebug answer)\n");
}

static int perf_print_json(const struct perf_opts *o,
			   const struct perf_result *res)
{
	json_t *j = json_object(), *lat = json_object(), *err = json_object();
	json_t *codes = json_object(), *rt = json_object();
	char key[16];
	int ret;

	if (!j || !lat || !err || !codes || !rt)
		die("out of memory");
	json_object_set_new(j, "op", json_string(o->opname));
	json_object_set_new(j, "address", json_string(o->addr));
	json_object_set_new(j, "threads", json_integer((json_int_t)o->threads));
	json_object_set_new(j, "calls", json_integer((json_int_t)res->calls));
	json_object_set_new(j, "failed", json_integer((json_int_t)res->failed));
	json_object_set_new(j, "seconds", json_real(res->seconds));
	json_object_set_new(j, "calls_per_sec", json_real(res->calls_per_sec));
	json_object_set_new(j, "mb_per_sec", json_real(res->mb_per_sec));
	json_object_set_new(j, "send_bytes",
			    json_integer((json_int_t)o->send_bytes));
	json_object_set_new(j, "recv_bytes",
			    json_integer((json_int_t)o->recv_bytes));
	json_object_set_new(lat, "p50", json_integer(res->p50));
	json_object_set_new(lat, "p90", json_integer(res->p90));
	json_object_set_new(lat, "p99", json_integer(res->p99));
	json_object_set_new(lat, "max", json_integer(res->max));
	json_object_set_new(j, "latency_us", lat);
	for (int e = 0; e < PE__COUNT; e++)
		json_object_set_new(err, perf_err_name[e],
				    json_integer((json_int_t)res->errs[e]));
	for (unsigned int k = 0; k < res->ncodes; k++) {
		snprintf(key, sizeof(key), "%d", res->codes[k]);
		json_object_set_new(codes, key,
				    json_integer((json_int_t)res->ncode[k]));
	}
	json_object_set_new(err, "abort_codes", codes);
	json_object_set_new(j, "errors", err);
	json_object_set_new(rt, "ours", json_integer((json_int_t)res->retrans));
	json_object_set_new(rt, "packets_sent",
			    json_integer((json_int_t)res->pkts_out));
	json_object_set_new(rt, "peer",
			    res->peer_known ? json_integer(res->peer_resends)
					    : json_null());
	json_object_set_new(j, "retransmits", rt);
	ret = json_dumpf(j, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(j);
	return ret;
}

/* The live progress line: stderr only, and only on a terminal. */
static void *perf_progress(void *arg)
{
	struct perf_run *r = arg;
	double t0 = mono();
	unsigned long prev = 0;

	while (!atomic_load(&r->stop)) {
		unsigned long d;

		for (int i = 0; i < 10 && !atomic_load(&r->stop); i++)
			usleep(100000);
		d = atomic_load(&r->done);
		fprintf(stderr, "\r%lu calls, %.1f s, %lu calls/s   ", d,
			mono() - t0, d - prev);
		prev = d;
	}
	fprintf(stderr, "\r%60s\r", "");
	return NULL;
}

/* The peer's DATA resend counters through DEBUG RXSTATS, if it answers. */
static bool peer_resends(const struct perf_opts *o, uint32_t *resent,
			 uint32_t *sent)
{
	uint32_t w[RXDEBUG_RXSTATS_WORDS];

	if (rxdebug_fetch_rxstats(o->addr, w, 300) < 0)
		return false;
	*resent = w[46];
	*sent = w[45] + w[46];
	return true;
}

static int perf_run_workers(struct perf_run *r, struct perf_worker *w,
			    double *secs)
{
	const struct perf_opts *o = r->o;
	pthread_t ticker;
	bool have_ticker = false;
	double t0;

	t0 = mono();
	r->t_end = t0 + o->duration;
	for (unsigned int i = 0; i < o->threads; i++) {
		w[i].idx = i;
		w[i].run = r;
		w[i].sink = malloc(CHUNK);
		if (!w[i].sink)
			die("out of memory");
	}
	if (isatty(2) && !pthread_create(&ticker, NULL, perf_progress, r))
		have_ticker = true;
	if (o->async) {
		perf_run_async(r, w);
	} else {
		for (unsigned int i = 0; i < o->threads; i++)
			if (pthread_create(&w[i].tid, NULL, perf_worker_main,
					   &w[i]))
				die("cannot start %lu threads", o->threads);
		for (unsigned int i = 0; i < o->threads; i++)
			pthread_join(w[i].tid, NULL);
	}
	*secs = mono() - t0;
	atomic_store(&r->stop, true);
	if (have_ticker)
		pthread_join(ticker, NULL);
	for (unsigned int i = 0; i < o->threads; i++)
		if (w[i].oom)
			return -ENOMEM;
	return 0;
}

int rxsvc_cmd_perf(int argc, char **argv)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct perf_opts o = { 0 };
	struct perf_run r = { 0 };
	struct perf_result res = { 0 };
	struct perf_worker *w;
	uint32_t pr0 = 0, ps0 = 0, pr1, ps1;
	bool peer0;
	int ret;

	perf_parse(argc, argv, &o);
	r.o = &o;
	if (rxsvc_srx_parse(&r.peer, o.addr) < 0 ||
	    !strncmp(o.addr, "[::]", 4)) {
		warnx_("bad address: %s (want HOST:PORT)", o.addr);
		return EXIT_USAGE;
	}
	r.peer.service_id = RXPERF_SERVICE;
	if (o.level >= 0) {
		/* rxkad with a token from the keyrings (rxsvc key add). */
		ret = rxsvc_key_get(o.key_name, &o.key);
		if (ret < 0) {
			warnx_("no usable key rxsvc:%s: %s", o.key_name,
			       strerror(-ret));
			return EXIT_LOCAL;
		}
	}
	sp.local.addr.sa.sa_family = r.peer.addr.sa.sa_family;
	sp.local.addrlen = r.peer.addrlen;
	ret = rxsvc_sock_open(&sp, &r.sock);
	if (ret < 0) {
		warnx_("cannot open an endpoint: %s", strerror(-ret));
		return EXIT_LOCAL;
	}
	if (perf_build_request(&r) < 0)
		die("out of memory");
	w = calloc(o.threads, sizeof(*w));
	if (!w)
		die("out of memory");
	peer0 = peer_resends(&o, &pr0, &ps0);
	if (perf_run_workers(&r, w, &res.seconds) < 0)
		warnx_("out of memory for latencies: stopped early");
	perf_gather(w, (unsigned int)o.threads, &res);
	res.bytes_per_call = o.send_bytes + o.recv_bytes;
	if (res.seconds <= 0)
		res.seconds = 1e-9;
	res.calls_per_sec = (double)res.calls / res.seconds;
	res.mb_per_sec = (double)res.bytes_per_call * (double)res.calls /
			 res.seconds / 1e6;
	res.retrans = rxsvc_sock_stat(r.sock, "data_retrans");
	res.pkts_out = rxsvc_sock_stat(r.sock, "data_out");
	if (peer0 && peer_resends(&o, &pr1, &ps1)) {
		res.peer_known = true;
		res.peer_resends = pr1 - pr0;
		res.peer_data_sent = ps1 - ps0;
	}
	if (o.json)
		perf_print_json(&o, &res);
	else
		perf_print_text(&o, &res);
	for (unsigned long i = 0; i < o.threads; i++) {
		free(w[i].lat);
		free(w[i].sink);
	}
	free(w);
	free(r.file_words);
	rxsvc_sock_close(r.sock);
	rxsvc_key_put(o.key);
	return res.failed || !res.calls ? EXIT_FAILED : 0;
}
