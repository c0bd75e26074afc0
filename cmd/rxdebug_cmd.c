/* SPDX-License-Identifier: MIT */
/*
 * rxdebug_cmd.c - `rxsvc debug`: what OpenAFS's rxdebug shows, from any
 * Rx server (OpenAFS, rxsvc; Linux answers only the version), readable
 * or as JSON.
 *
 * It speaks DEBUG and VERSION itself over a plain UDP socket
 * (rx-protocol.md §S.1): a header with epoch 999, cid 0, a fresh call
 * number per request and flags CLIENT_INITIATED | LAST_PACKET; the reply
 * is matched by call number (and, the socket being connected, by source
 * address).  Every reply is decoded through bounds checks: a reply
 * shorter than its structure is refused, never read past its end, and
 * table walks are capped, so a server that never sends the end marker
 * (or answers BADTYPE, on which rxdebug loops for ever, §S.1.11) cannot
 * keep us here.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <jansson.h>

#include "config.h"
#include "cmd/common.h"
#include "cmd/rxdebug_cmd.h"

#define HDR_LEN	      28
#define PKT_ABORT     4
#define PKT_DEBUG     8
#define PKT_VERSION   13
#define F_CLIENT_INIT 0x01
#define F_LAST	      0x04
#define DBG_EPOCH     999

#define T_GETSTATS   1
#define T_GETCONN    2
#define T_GETALLCONN 3
#define T_RXSTATS    4
#define T_GETPEER    5

#define STATS_LEN   56
#define CONN_LEN    176
#define PEER_LEN    132
#define RXSTATS_LEN (RXDEBUG_RXSTATS_WORDS * 4)
#define MAX_WALK    100000 /* table entries we ask for at most */

#define EXIT_FAILED 1
#define EXIT_USAGE  2

struct dbg {
	int fd;
	uint32_t next_call;
	int timeout_ms;	    /* per request, all retries included */
	int32_t abort_code; /* the last ABORT answer */
};

/* A bounded reader over a reply body. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static uint32_t be32(struct cur *c)
{
	uint32_t v;

	if (c->left < 4) { /* callers check the length first */
		c->left = 0;
		return 0;
	}
	v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
	    (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
	c->p += 4;
	c->left -= 4;
	return v;
}

static uint16_t be16(struct cur *c)
{
	uint16_t v;

	if (c->left < 2) {
		c->left = 0;
		return 0;
	}
	v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return v;
}

static uint8_t u8(struct cur *c)
{
	uint8_t v;

	if (c->left < 1)
		return 0;
	v = c->p[0];
	c->p++;
	c->left--;
	return v;
}

static void raw(struct cur *c, void *out, size_t n)
{
	if (c->left < n) {
		memset(out, 0, n);
		c->left = 0;
		return;
	}
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
}

static void skip(struct cur *c, size_t n)
{
	n = n < c->left ? n : c->left;
	c->p += n;
	c->left -= n;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int dbg_open(struct dbg *d, const char *addr, int timeout_ms)
{
	struct rxsvc_srx srx = { 0 };

	if (rxsvc_srx_parse(&srx, addr) < 0 || !strncmp(addr, "[::]", 4))
		return -EINVAL;
	d->fd = socket(srx.addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -errno;
	/* Connected: the kernel drops datagrams from anyone else. */
	if (connect(d->fd, &srx.addr.sa, srx.addrlen) < 0) {
		int e = -errno;

		close(d->fd);
		return e;
	}
	/* Call numbers: like rxdebug's counter, but from a random start so
	 * that two runs at once do not take each other's replies. */
	d->next_call = (uint32_t)(getpid() * 7919u + (uint32_t)time(NULL)) | 1u;
	d->timeout_ms = timeout_ms;
	return 0;
}

/* Wait for the reply to @call; its body length, 0 on time-out, or a
 * negative errno. */
static int dbg_wait(struct dbg *d, uint32_t call, uint8_t type, uint8_t *buf,
		    size_t cap, int wait_ms)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { .fd = d->fd, .events = POLLIN };
		long el;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (t1.tv_sec - t0.tv_sec) * 1000 +
		     (t1.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= wait_ms || poll(&pfd, 1, (int)(wait_ms - el)) <= 0)
			return 0;
		n = recv(d->fd, buf, cap, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno; /* e.g. ECONNREFUSED: no one there */
		if (n < HDR_LEN || (buf[21] & F_CLIENT_INIT))
			continue;
		if (((uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 |
		     (uint32_t)buf[10] << 8 | buf[11]) != call)
			continue;
		if (buf[20] == PKT_ABORT) {
			struct cur c = { buf + HDR_LEN, (size_t)n - HDR_LEN };

			d->abort_code = (int32_t)be32(&c);
			return -EOPNOTSUPP;
		}
		if (buf[20] != type)
			continue;
		return (int)(n - HDR_LEN);
	}
}

/*
 * One request, resent with back-off until its reply or the time-out.
 * On success the body is at buf + HDR_LEN; returns its length, or
 * -ETIMEDOUT, -EOPNOTSUPP (ABORT), or another negative errno.
 */
static int dbg_request(struct dbg *d, uint8_t type, const uint8_t *body,
		       size_t blen, uint8_t *buf, size_t cap)
{
	uint8_t pkt[HDR_LEN + 8] = { 0 };
	uint32_t call = d->next_call++;
	int left = d->timeout_ms, wait = 250;

	put32(pkt + 0, DBG_EPOCH);
	put32(pkt + 8, call);
	pkt[20] = type;
	pkt[21] = F_CLIENT_INIT | F_LAST;
	memcpy(pkt + HDR_LEN, body, blen);
	while (left > 0) {
		int n;

		if (send(d->fd, pkt, HDR_LEN + blen, 0) < 0 && errno != EINTR)
			return -errno;
		if (wait > left)
			wait = left;
		n = dbg_wait(d, call, type, buf, cap, wait);
		if (n != 0)
			return n;
		left -= wait;
		wait *= 2;
	}
	return -ETIMEDOUT;
}

/* A DEBUG request of @type with @index; body length or -errno. */
static int dbg_debug(struct dbg *d, uint32_t type, uint32_t index, uint8_t *buf,
		     size_t cap)
{
	uint8_t in[8];

	put32(in, type);
	put32(in + 4, index);
	return dbg_request(d, PKT_DEBUG, in, sizeof(in), buf, cap);
}

/* An 8-byte reply of two -8 words: the server has no such request. */
static bool is_badtype(const uint8_t *b, int n)
{
	static const uint8_t bad[8] = { 0xff, 0xff, 0xff, 0xf8,
					0xff, 0xff, 0xff, 0xf8 };

	return n >= 8 && n < 16 && !memcmp(b, bad, 8);
}

int rxdebug_fetch_rxstats(const char *addr, uint32_t w[RXDEBUG_RXSTATS_WORDS],
			  int timeout_ms)
{
	uint8_t buf[2048];
	struct dbg d = { 0 };
	struct cur c;
	int n;

	n = dbg_open(&d, addr, timeout_ms);
	if (n < 0)
		return n;
	n = dbg_debug(&d, T_RXSTATS, 0, buf, sizeof(buf));
	close(d.fd);
	if (n < 0)
		return n;
	if (is_badtype(buf + HDR_LEN, n))
		return -EOPNOTSUPP;
	if (n < RXSTATS_LEN)
		return -EBADMSG;
	c.p = buf + HDR_LEN;
	c.left = RXSTATS_LEN;
	for (int i = 0; i < RXDEBUG_RXSTATS_WORDS; i++)
		w[i] = be32(&c);
	return 0;
}

/* ---------------------------------------------------------------- */
/* decoding into JSON objects                                        */
/* ---------------------------------------------------------------- */

#define JI(o, k, v) json_object_set_new((o), (k), json_integer((json_int_t)(v)))
#define JS(o, k, v) json_object_set_new((o), (k), json_string(v))

static const char *const pkt_names[13] = {
	"data",	     "ack",	 "busy",    "abort",  "ackall",
	"challenge", "response", "debug",   "params", "unused10",
	"unused11",  "unused12", "version",
};

static void ip_text(const uint8_t host[4], char *out, size_t len)
{
	if (!inet_ntop(AF_INET, host, out, (socklen_t)len))
		snprintf(out, len, "?");
}

/* GETSTATS: rx_debugStats (§S.1.5). */
static json_t *decode_stats(const uint8_t *b, int n, char *letter)
{
	struct cur c = { b, (size_t)n };
	json_t *o = json_object();
	char v[2] = { 0 };

	if (n < STATS_LEN)
		return NULL;
	JI(o, "free_packets", be32(&c));
	JI(o, "packet_reclaims", be32(&c));
	JI(o, "calls_executed", be32(&c));
	JI(o, "waiting_for_packets", u8(&c));
	JI(o, "used_fds", u8(&c));
	v[0] = (char)u8(&c);
	*letter = v[0];
	if (v[0] < 0x20 || v[0] > 0x7e)
		v[0] = '?';
	JS(o, "version_letter", v);
	skip(&c, 1);
	JI(o, "calls_waiting", be32(&c));
	JI(o, "idle_threads", be32(&c));
	JI(o, "calls_waited", be32(&c));
	JI(o, "packets_allocated", be32(&c));
	return o;
}

static json_t *packet_array(struct cur *c)
{
	json_t *o = json_object();

	for (int i = 0; i < 13; i++)
		JI(o, pkt_names[i], be32(c));
	return o;
}

static double clock_sec(struct cur *c)
{
	uint32_t s = be32(c);
	uint32_t us = be32(c);

	return (double)s + (double)us / 1e6;
}

/* RXSTATS: rx_statistics, 71 words (§S.1.8). */
static json_t *decode_rxstats(const uint8_t *b, int n)
{
	static const char *const head[11] = {
		"packet_requests",     "receive_alloc_failures",
		"send_alloc_failures", "special_alloc_failures",
		"socket_greedy",       "bogus_packets_read",
		"bogus_host",	       "no_packet_on_read",
		"no_buffers_on_read",  "selects",
		"send_selects",
	};
	static const char *const mid[4] = { "data_packets_read",
					    "ack_packets_read",
					    "dup_packets_read",
					    "spurious_packets_read" };
	static const char *const sent[8] = {
		"ack_packets_sent",    "ping_packets_sent",
		"abort_packets_sent",  "busy_packets_sent",
		"data_packets_sent",   "data_packets_resent",
		"data_packets_pushed", "ignore_acked_packets",
	};
	static const char *const tail[11] = {
		"rtt_samples",	       "server_conns",
		"client_conns",	       "peer_structs",
		"call_structs",	       "free_call_structs",
		"net_send_failures",   "fatal_errors",
		"ignore_packet_dally", "receive_cbuf_failures",
		"send_cbuf_failures",
	};
	struct cur c = { b, (size_t)n };
	json_t *o = json_object();
	double total, min, max;

	if (n < RXSTATS_LEN)
		return NULL;
	for (int i = 0; i < 11; i++)
		JI(o, head[i], be32(&c));
	json_object_set_new(o, "packets_read", packet_array(&c));
	for (int i = 0; i < 4; i++)
		JI(o, mid[i], be32(&c));
	json_object_set_new(o, "packets_sent", packet_array(&c));
	for (int i = 0; i < 8; i++)
		JI(o, sent[i], be32(&c));
	total = clock_sec(&c);
	min = clock_sec(&c);
	max = clock_sec(&c);
	for (int i = 0; i < 11; i++)
		JI(o, tail[i], be32(&c));
	JI(o, "busies", be32(&c));
	json_object_set_new(o, "rtt_total_sec", json_real(total));
	json_object_set_new(o, "rtt_min_sec", json_real(min));
	json_object_set_new(o, "rtt_max_sec", json_real(max));
	return o;
}

static const char *state_name(unsigned int s)
{
	static const char *const n[] = {
		"not_initialized", "precall", "active", "dally", "hold", "reset"
	};

	return s < 6 ? n[s] : "unknown";
}

static const char *mode_name(unsigned int m)
{
	static const char *const n[] = { "none", "sending", "receiving",
					 "error", "eof" };

	return m < 5 ? n[m] : "unknown";
}

/* GETCONN / GETALLCONN: rx_debugConn (§S.1.6); NULL at the end marker.
 * *end is set at the end marker. */
static json_t *decode_conn(const uint8_t *b, int n, bool *end)
{
	struct cur c = { b, (size_t)n };
	uint8_t host[4], port[2], st[4], mode[4], fl[4], oth[4];
	uint32_t cid, serial, callno[4];
	int32_t error;
	char ip[32];
	json_t *o, *calls, *sec;

	*end = false;
	if (n < CONN_LEN)
		return NULL;
	raw(&c, host, 4);
	cid = be32(&c);
	if (cid == 0xffffffffu) {
		*end = true;
		return NULL;
	}
	serial = be32(&c);
	for (int i = 0; i < 4; i++)
		callno[i] = be32(&c);
	error = (int32_t)be32(&c);
	raw(&c, port, 2);
	o = json_object();
	ip_text(host, ip, sizeof(ip));
	JS(o, "host", ip);
	JI(o, "port", (port[0] << 8) | port[1]);
	JI(o, "cid", cid);
	JI(o, "serial", serial);
	JI(o, "error", error);
	JI(o, "flags", u8(&c));
	JS(o, "type", u8(&c) ? "server" : "client");
	JI(o, "security_index", u8(&c));
	skip(&c, 3);
	raw(&c, st, 4);
	raw(&c, mode, 4);
	raw(&c, fl, 4);
	raw(&c, oth, 4);
	calls = json_array();
	for (int i = 0; i < 4; i++) {
		json_t *ch = json_object();

		JI(ch, "call_number", callno[i]);
		JS(ch, "state", state_name(st[i]));
		JS(ch, "mode", st[i] ? mode_name(mode[i]) : "none");
		JI(ch, "flags", fl[i]);
		JI(ch, "other", oth[i]);
		json_array_append_new(calls, ch);
	}
	json_object_set_new(o, "calls", calls);
	sec = json_object();
	JI(sec, "type", u8(&c));
	JI(sec, "level", u8(&c));
	skip(&c, 10);
	JI(sec, "flags", be32(&c));
	JI(sec, "expires", be32(&c));
	JI(sec, "packets_received", be32(&c));
	JI(sec, "packets_sent", be32(&c));
	JI(sec, "bytes_received", be32(&c));
	JI(sec, "bytes_sent", be32(&c));
	skip(&c, 8 + 32);
	json_object_set_new(o, "security_stats", sec);
	JI(o, "epoch", be32(&c));
	JI(o, "nat_mtu", be32(&c));
	return o;
}

/* GETPEER: rx_debugPeer (§S.1.7); *end at the end marker. */
static json_t *decode_peer(const uint8_t *b, int n, bool *end)
{
	struct cur c = { b, (size_t)n };
	uint8_t host[4], port[2];
	char ip[32];
	uint64_t hi, lo;
	json_t *o;

	*end = false;
	if (n < PEER_LEN)
		return NULL;
	raw(&c, host, 4);
	if (!memcmp(host, "\xff\xff\xff\xff", 4)) {
		*end = true;
		return NULL;
	}
	raw(&c, port, 2);
	o = json_object();
	ip_text(host, ip, sizeof(ip));
	JS(o, "host", ip);
	JI(o, "port", (port[0] << 8) | port[1]);
	JI(o, "if_mtu", be16(&c));
	JI(o, "idle_when", be32(&c));
	JI(o, "ref_count", be16(&c));
	skip(&c, 2 + 8);
	JI(o, "rtt_ms", be32(&c) >> 3);
	JI(o, "rtt_dev_ms", be32(&c) >> 2);
	skip(&c, 8);
	JI(o, "packets_sent", be32(&c));
	JI(o, "resends", be32(&c));
	skip(&c, 12);
	JI(o, "nat_mtu", be16(&c));
	JI(o, "max_mtu", be16(&c));
	JI(o, "max_dgram_packets", be16(&c));
	JI(o, "if_dgram_packets", be16(&c));
	JI(o, "mtu", be16(&c));
	JI(o, "cwind", be16(&c));
	JI(o, "n_dgram_packets", be16(&c));
	JI(o, "congest_seq", be16(&c));
	hi = be32(&c);
	lo = be32(&c);
	JI(o, "bytes_sent", hi << 32 | lo);
	hi = be32(&c);
	lo = be32(&c);
	JI(o, "bytes_received", hi << 32 | lo);
	return o;
}

/* ---------------------------------------------------------------- */
/* the command                                                       */
/* ---------------------------------------------------------------- */

struct debug_opts {
	const char *addr;
	int stats, conns, peers, json;
	unsigned long timeout;
};

static void debug_usage(void)
{
	fprintf(stderr,
		"usage: rxsvc debug ADDR:PORT [--stats] [--conns] [--peers] [--json]\n"
		"       [--timeout SECS]\n"
		"  Ask an Rx server (rxsvc, OpenAFS) what rxdebug shows: version and\n"
		"  summary; --stats Rx counters, --conns every connection, --peers\n"
		"  every peer.\n");
	exit(EXIT_USAGE);
}

static void debug_parse(int argc, char **argv, struct debug_opts *o)
{
	static const struct option opts[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "conns", no_argument, NULL, 'c' },
		{ "peers", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	o->timeout = 5;
	while ((ch = getopt_long(argc, argv, "scpjt:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->stats = 1;
			break;
		case 'c':
			o->conns = 1;
			break;
		case 'p':
			o->peers = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 't':
			if (!parse_uint(optarg, 3600, &o->timeout) ||
			    !o->timeout)
				debug_usage();
			break;
		default:
			debug_usage();
		}
	}
	if (optind + 1 != argc)
		debug_usage();
	o->addr = argv[optind];
}

/* Walk GETALLCONN / GETCONN or GETPEER from index 0 to the end marker. */
static int debug_walk(struct dbg *d, uint32_t type, json_t *arr)
{
	uint8_t buf[2048];

	for (uint32_t i = 0; i < MAX_WALK; i++) {
		int n = dbg_debug(d, type, i, buf, sizeof(buf));
		bool end;
		json_t *e;

		if (n < 0)
			return n;
		if (is_badtype(buf + HDR_LEN, n))
			return -EOPNOTSUPP;
		e = type == T_GETPEER ? decode_peer(buf + HDR_LEN, n, &end)
				      : decode_conn(buf + HDR_LEN, n, &end);
		if (end)
			return 0;
		if (!e)
			return -EBADMSG;
		json_array_append_new(arr, e);
	}
	return -E2BIG;
}

static const char *err_text(struct dbg *d, int err, char *buf, size_t len)
{
	char ab[64];

	if (err == -EOPNOTSUPP && d->abort_code) {
		snprintf(buf, len, "refused with abort %s",
			 abort_text(d->abort_code, ab, sizeof(ab)));
		return buf;
	}
	if (err == -EOPNOTSUPP)
		return "not supported by the server";
	if (err == -EBADMSG)
		return "malformed reply";
	if (err == -ETIMEDOUT)
		return "no answer";
	if (err == -E2BIG)
		return "too many entries (stopped)";
	return strerror(-err);
}

static long ji(json_t *o, const char *k)
{
	return (long)json_integer_value(json_object_get(o, k));
}

static void print_stats(json_t *s)
{
	printf("Free packets: %ld/%ld, packet reclaims: %ld, calls: %ld, used FDs: %ld\n",
	       ji(s, "free_packets"), ji(s, "packets_allocated"),
	       ji(s, "packet_reclaims"), ji(s, "calls_executed"),
	       ji(s, "used_fds"));
	printf("%s waiting for packets.\n",
	       ji(s, "waiting_for_packets") ? "" : "not");
	printf("%ld calls waiting for a thread\n%ld threads are idle\n"
	       "%ld calls have waited for a thread\n",
	       ji(s, "calls_waiting"), ji(s, "idle_threads"),
	       ji(s, "calls_waited"));
}

static void print_pkts(const char *what, json_t *a)
{
	printf("  packets %s:", what);
	for (int i = 0; i < 13; i++)
		if (i < 9 || i == 12)
			printf(" %s %ld", pkt_names[i], ji(a, pkt_names[i]));
	putchar('\n');
}

static void print_rxstats(json_t *r)
{
	long n = ji(r, "rtt_samples");

	printf("Rx statistics:\n");
	print_pkts("read", json_object_get(r, "packets_read"));
	print_pkts("sent", json_object_get(r, "packets_sent"));
	printf("  data read %ld, dup %ld, spurious %ld; ack read %ld\n",
	       ji(r, "data_packets_read"), ji(r, "dup_packets_read"),
	       ji(r, "spurious_packets_read"), ji(r, "ack_packets_read"));
	printf("  data sent %ld (not resends), resends %ld, acks sent %ld, pings %ld, aborts %ld, busies %ld\n",
	       ji(r, "data_packets_sent"), ji(r, "data_packets_resent"),
	       ji(r, "ack_packets_sent"), ji(r, "ping_packets_sent"),
	       ji(r, "abort_packets_sent"), ji(r, "busy_packets_sent"));
	printf("  bogus packets %ld, no buffers %ld, send failures %ld\n",
	       ji(r, "bogus_packets_read"), ji(r, "no_buffers_on_read"),
	       ji(r, "net_send_failures"));
	if (n)
		printf("  rtt: average %.3f ms over %ld samples, min %.3f ms, max %.3f ms\n",
		       json_real_value(json_object_get(r, "rtt_total_sec")) *
			       1e3 / (double)n,
		       n,
		       json_real_value(json_object_get(r, "rtt_min_sec")) * 1e3,
		       json_real_value(json_object_get(r, "rtt_max_sec")) *
			       1e3);
	printf("  %ld server connections, %ld client connections, %ld peers, %ld calls, %ld free calls\n",
	       ji(r, "server_conns"), ji(r, "client_conns"),
	       ji(r, "peer_structs"), ji(r, "call_structs"),
	       ji(r, "free_call_structs"));
}

static void print_conns(json_t *a)
{
	size_t i;
	json_t *c;

	printf("Connections: %zu\n", json_array_size(a));
	json_array_foreach(a, i, c)
	{
		json_t *calls = json_object_get(c, "calls"), *ch;
		size_t k;

		printf("  %s conn %s:%ld epoch %08lx cid %08lx serial %ld natMTU %ld secidx %ld",
		       json_string_value(json_object_get(c, "type")),
		       json_string_value(json_object_get(c, "host")),
		       ji(c, "port"), ji(c, "epoch"), ji(c, "cid"),
		       ji(c, "serial"), ji(c, "nat_mtu"),
		       ji(c, "security_index"));
		if (ji(c, "error"))
			printf(" error %ld", ji(c, "error"));
		putchar('\n');
		json_array_foreach(calls, k, ch)
		{
			if (!ji(ch, "call_number"))
				continue;
			printf("    call %zu: #%ld %s, %s\n", k,
			       ji(ch, "call_number"),
			       json_string_value(json_object_get(ch, "state")),
			       json_string_value(json_object_get(ch, "mode")));
		}
	}
}

static void print_peers(json_t *a)
{
	size_t i;
	json_t *p;

	printf("Peers: %zu\n", json_array_size(a));
	json_array_foreach(a, i, p)
	{
		printf("  peer %s:%ld ifMTU %ld maxMTU %ld rtt %ld ms (dev %ld) cwind %ld sent %ld resends %ld bytes sent %ld received %ld\n",
		       json_string_value(json_object_get(p, "host")),
		       ji(p, "port"), ji(p, "if_mtu"), ji(p, "max_mtu"),
		       ji(p, "rtt_ms"), ji(p, "rtt_dev_ms"), ji(p, "cwind"),
		       ji(p, "packets_sent"), ji(p, "resends"),
		       ji(p, "bytes_sent"), ji(p, "bytes_received"));
	}
}

/*
 * Record a failed part: in JSON as "<part>_error", in text on stderr.
 * Returns 1 if that makes the run a failure: a server without some
 * request (Linux answers only the version) is not one.
 */
static int part_failed(struct dbg *d, json_t *out, const char *part, int err)
{
	char key[32], buf[96];

	snprintf(key, sizeof(key), "%s_error", part);
	JS(out, key, err_text(d, err, buf, sizeof(buf)));
	d->abort_code = 0;
	return err != -EOPNOTSUPP;
}

/* The optional parts: RXSTATS, connections, peers. */
static int debug_parts(struct dbg *d, const struct debug_opts *o, char letter,
		       json_t *out)
{
	uint8_t buf[2048];
	int n, bad = 0;

	if (o->stats) {
		json_t *r = NULL;

		n = dbg_debug(d, T_RXSTATS, 0, buf, sizeof(buf));
		if (n >= 0 && is_badtype(buf + HDR_LEN, n))
			n = -EOPNOTSUPP;
		if (n >= 0 && !(r = decode_rxstats(buf + HDR_LEN, n)))
			n = -EBADMSG;
		if (r)
			json_object_set_new(out, "rxstats", r);
		else
			bad |= part_failed(d, out, "rxstats", n);
	}
	if (o->conns) {
		json_t *a = json_array();
		/* 'M' and later have GETALLCONN; older only the interesting */
		n = debug_walk(d, letter >= 'M' ? T_GETALLCONN : T_GETCONN, a);
		json_object_set_new(out, "conns", a);
		if (n < 0)
			bad |= part_failed(d, out, "conns", n);
	}
	if (o->peers) {
		json_t *a = json_array();

		n = letter >= 'Q' ? debug_walk(d, T_GETPEER, a) : -EOPNOTSUPP;
		json_object_set_new(out, "peers", a);
		if (n < 0)
			bad |= part_failed(d, out, "peers", n);
	}
	return bad;
}

static void print_text(json_t *out)
{
	const char *k;
	json_t *v;

	printf("%s: %s\n", json_string_value(json_object_get(out, "address")),
	       json_is_string(json_object_get(out, "version"))
		       ? json_string_value(json_object_get(out, "version"))
		       : "(no version)");
	if ((v = json_object_get(out, "stats")))
		print_stats(v);
	if ((v = json_object_get(out, "rxstats")))
		print_rxstats(v);
	if ((v = json_object_get(out, "conns")))
		print_conns(v);
	if ((v = json_object_get(out, "peers")))
		print_peers(v);
	json_object_foreach(out, k, v)
	{
		size_t l = strlen(k);

		if (l > 6 && !strcmp(k + l - 6, "_error"))
			fprintf(stderr, "rxsvc debug: %.*s: %s\n", (int)(l - 6),
				k, json_string_value(v));
	}
}

int rxsvc_cmd_debug(int argc, char **argv)
{
	struct debug_opts o = { 0 };
	struct dbg d = { 0 };
	uint8_t buf[2048], zero = 0;
	char version[65], letter = 0;
	json_t *out, *s;
	int n, bad = 0;

	debug_parse(argc, argv, &o);
	n = dbg_open(&d, o.addr, (int)o.timeout * 1000);
	if (n == -EINVAL) {
		warnx_("bad address: %s (want HOST:PORT)", o.addr);
		return EXIT_USAGE;
	}
	if (n < 0) {
		warnx_("cannot open a socket: %s", strerror(-n));
		return EXIT_FAILED;
	}
	out = json_object();
	JS(out, "address", o.addr);
	n = dbg_request(&d, PKT_VERSION, &zero, 1, buf, sizeof(buf));
	if (n >= 0) {
		/* at most 64 bytes, printable ASCII, as rxdebug prints it */
		size_t k = 0;

		for (; k < (size_t)n && k < 64 && buf[HDR_LEN + k]; k++)
			version[k] = buf[HDR_LEN + k] >= 0x20 &&
						     buf[HDR_LEN + k] < 0x7f
					     ? (char)buf[HDR_LEN + k]
					     : '?';
		version[k] = 0;
		JS(out, "version", version);
	} else {
		bad = part_failed(&d, out, "version", n);
	}
	n = dbg_debug(&d, T_GETSTATS, 0, buf, sizeof(buf));
	s = n >= 0 ? decode_stats(buf + HDR_LEN, n, &letter) : NULL;
	if (s) {
		json_object_set_new(out, "stats", s);
		bad |= debug_parts(&d, &o, letter, out);
	} else {
		bad |= part_failed(&d, out, "stats", n >= 0 ? -EBADMSG : n);
		/* nothing answered at all */
		if (!json_object_get(out, "version"))
			bad = 1;
	}
	close(d.fd);
	if (o.json) {
		json_dumpf(out, stdout, JSON_COMPACT);
		putchar('\n');
	} else {
		print_text(out);
	}
	json_decref(out);
	return bad ? EXIT_FAILED : 0;
}
