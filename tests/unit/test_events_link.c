/* SPDX-License-Identifier: MIT */
/*
 * Tests of links between buses (events/link.c) in one process: two or
 * three buses on their own threads joined over TCP on 127.0.0.1 (port
 * 0), in-process listeners and socket clients on either side, and a
 * "fake link" (a raw TCP connection to a bus's link port that speaks the
 * frame protocol by hand) to control hop counts, framing and malformed
 * input exactly.  Checks: messages cross intact; the hop count grows by
 * one per crossing and a message at the limit is dropped, so copies die
 * out round a loop; framing survives split and coalesced TCP reads; a
 * link that closes or misbehaves is dropped and counted while the bus
 * goes on; interest ("has members") crosses links, goes away when the
 * last far member leaves, and dies out round a cycle of links.  Every
 * wait is a bounded poll.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "events/internal.h"

#define WAIT_MS	 10000 /* bound of every poll below; valgrind is slow */
#define DATA_MAX 512

/* Poll @cond every millisecond for up to WAIT_MS; its last value. */
#define WAIT_FOR(cond)                                            \
	({                                                        \
		int w_i_;                                         \
		for (w_i_ = 0; w_i_ < WAIT_MS && !(cond); w_i_++) \
			usleep(1000);                             \
		(cond);                                           \
	})

static char dir[64];

static void sock_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s.sock", dir, name);
}

/* ---------------------------------------------------------------- */
/* Buses                                                             */
/* ---------------------------------------------------------------- */

struct bus_opts {
	const char *name;
	bool listen;
	unsigned int link_rights;
	enum rxsvc_bus_delivery delivery;
};

static struct rxsvc_bus *open_bus(const struct bus_opts *o)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus = NULL;
	char path[128];

	sock_path(path, sizeof(path), o->name);
	p.path = path;
	p.mode = 0600;
	p.delivery = o->delivery;
	p.pool = 256;
	p.queue_len = 256;
	p.assembly_ms = 300;
	p.link_listen = o->listen ? "127.0.0.1:0" : NULL;
	p.link_rights = o->link_rights;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	return bus;
}

static struct rxsvc_bus *open_listening(const char *name)
{
	struct bus_opts o = { .name = name, .listen = true };

	return open_bus(&o);
}

/* Link @from to @to's link port. */
static void link_to(struct rxsvc_bus *from, struct rxsvc_bus *to)
{
	char addr[64];
	int port = rxsvc_bus_link_port(to);

	CU_ASSERT_FATAL(port > 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_link_connect(from, addr), 0);
}

static uint64_t bstat(struct rxsvc_bus *bus, const char *name)
{
	return rxsvc_bus_stat(bus, name);
}

/* Members of @group on @bus (0: a send there is -ESRCH). */
static unsigned int members(struct rxsvc_bus *bus, uint32_t group)
{
	struct rxs_group *g;
	unsigned int n;

	pthread_mutex_lock(&bus->lock);
	g = rxs_group_find(bus, group);
	n = g ? g->n : 0;
	pthread_mutex_unlock(&bus->lock);
	return n;
}

static unsigned int joined_clients(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_info info = { .size = sizeof(info) };

	rxsvc_bus_get_info(bus, &info);
	return info.clients;
}

/* Two buses, B linked to A; returns once both accepted the other. */
static void open_pair(struct rxsvc_bus **a, struct rxsvc_bus **b)
{
	struct bus_opts ob = { .name = "b" };

	*a = open_listening("a");
	*b = open_bus(&ob);
	link_to(*b, *a);
	CU_ASSERT_FATAL(
		WAIT_FOR(bstat(*a, "joins") >= 1 && bstat(*b, "joins") >= 1));
	CU_ASSERT_EQUAL(bstat(*a, "link_accepts"), 1);
	CU_ASSERT_EQUAL(bstat(*b, "link_connects"), 1);
}

/* ---------------------------------------------------------------- */
/* In-process listeners that record what they get                    */
/* ---------------------------------------------------------------- */

struct got {
	struct rxsvc_cb_id id;
	uint32_t seq;
	uint32_t ack;
	uint16_t len;
	uint16_t flags;
	uint8_t data[DATA_MAX];
	struct rxsvc_cn_src src;
};

struct box {
	pthread_mutex_t lock;
	unsigned int n;
	struct got m[512];
};

static struct box box_a = { .lock = PTHREAD_MUTEX_INITIALIZER };
static struct box box_b = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void box_reset(struct box *b)
{
	pthread_mutex_lock(&b->lock);
	b->n = 0;
	pthread_mutex_unlock(&b->lock);
}

static unsigned int box_count(struct box *b)
{
	unsigned int n;

	pthread_mutex_lock(&b->lock);
	n = b->n;
	pthread_mutex_unlock(&b->lock);
	return n;
}

static void box_cb(const struct rxsvc_cn_msg *msg,
		   const struct rxsvc_cn_src *src, void *arg)
{
	struct box *b = arg;
	struct got *g;

	pthread_mutex_lock(&b->lock);
	if (b->n < sizeof(b->m) / sizeof(b->m[0])) {
		g = &b->m[b->n];
		g->id = msg->id;
		g->seq = msg->seq;
		g->ack = msg->ack;
		g->len = msg->len;
		g->flags = msg->flags;
		memcpy(g->data, msg->data,
		       msg->len < DATA_MAX ? msg->len : DATA_MAX);
		g->src = *src;
	}
	b->n++;
	pthread_mutex_unlock(&b->lock);
}

/* A message of @len bytes (< DATA_MAX) whose data depends on @seq. */
static struct rxsvc_cn_msg *mkmsg(uint32_t seq, uint32_t ack, size_t len)
{
	struct rxsvc_cn_msg *m = calloc(1, sizeof(*m) + DATA_MAX);
	size_t i;

	m->id.idx = 0x11223344;
	m->id.val = 0x55667788;
	m->seq = seq;
	m->ack = ack;
	m->len = (uint16_t)len;
	for (i = 0; i < len; i++)
		m->data[i] = (uint8_t)(seq * 31 + i);
	return m;
}

static bool same_msg(const struct got *g, const struct rxsvc_cn_msg *m)
{
	return g->id.idx == m->id.idx && g->id.val == m->id.val &&
	       g->seq == m->seq && g->ack == m->ack && g->len == m->len &&
	       !memcmp(g->data, m->data, m->len);
}

/* ---------------------------------------------------------------- */
/* A fake linked bus: raw frames over TCP                            */
/* ---------------------------------------------------------------- */

struct fake {
	int fd;
	size_t len;
	uint8_t buf[RXS_EVF_MAX_FRAME + 4096];
	uint8_t frame[RXS_EVF_MAX_FRAME];
};

static struct fake *fake_connect(struct rxsvc_bus *bus)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct fake *f = calloc(1, sizeof(*f));
	int one = 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	sin.sin_port = htons((uint16_t)rxsvc_bus_link_port(bus));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(f->fd >= 0);
	CU_ASSERT_FATAL(connect(f->fd, (struct sockaddr *)&sin, sizeof(sin)) ==
			0);
	setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return f;
}

static void fake_close(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}

static void fake_write(struct fake *f, const void *p, size_t len)
{
	CU_ASSERT_EQUAL(write(f->fd, p, len), (ssize_t)len);
}

/*
 * The next frame from the bus, decoded into *ev (valid until the next
 * call): 1, 0 on timeout, -EPIPE once the bus closed the connection.
 */
static int fake_frame(struct fake *f, struct rxs_evf *ev, int timeout_ms)
{
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	long flen;
	ssize_t n;

	for (;;) {
		flen = rxs_evf_frame_len(f->buf, f->len, RXS_EVF_MAX_FRAME);
		CU_ASSERT_FATAL(flen >= 0);
		if (flen > 0 && f->len >= (size_t)flen)
			break;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		n = read(f->fd, f->buf + f->len, sizeof(f->buf) - f->len);
		if (n <= 0)
			return -EPIPE;
		f->len += (size_t)n;
	}
	memcpy(f->frame, f->buf, (size_t)flen);
	memmove(f->buf, f->buf + flen, f->len - (size_t)flen);
	f->len -= (size_t)flen;
	CU_ASSERT_EQUAL_FATAL(rxs_evf_decode(f->frame, (size_t)flen, ev), 0);
	return 1;
}

/* The next frame of @type, skipping others; as fake_frame. */
static int fake_expect(struct fake *f, uint8_t type, struct rxs_evf *ev,
		       int timeout_ms)
{
	int ret;

	while ((ret = fake_frame(f, ev, timeout_ms)) == 1)
		if (ev->type == type)
			return 1;
	return ret;
}

/* Wait (bounded) until the bus closes the connection. */
static bool fake_dropped(struct fake *f)
{
	struct rxs_evf ev;
	int i;

	for (i = 0; i < WAIT_MS / 100; i++)
		if (fake_frame(f, &ev, 100) < 0)
			return true;
	return false;
}

/* Join as a linked bus: HELLO, then its accepting REPLY. */
static struct fake *fake_link(struct rxsvc_bus *bus)
{
	struct fake *f = fake_connect(bus);
	uint8_t hello[RXS_EVF_REQ_LEN];
	struct rxs_evf ev;

	rxs_evf_put_req(hello, RXS_EVF_HELLO, 1, RXS_EVF_VERSION,
			RXS_EVF_HELLO_LINK | RXSVC_EVC_SENDER);
	fake_write(f, hello, sizeof(hello));
	CU_ASSERT_EQUAL_FATAL(fake_expect(f, RXS_EVF_REPLY, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.tag, 1);
	CU_ASSERT_EQUAL(ev.status, 0);
	return f;
}

/* Advertise @group at distance @dist, as a linked bus does. */
static void fake_sub(struct fake *f, uint8_t type, uint32_t group,
		     uint32_t dist)
{
	uint8_t req[RXS_EVF_REQ_LEN];

	rxs_evf_put_req(req, type, 0, group, dist);
	fake_write(f, req, sizeof(req));
}

/* Encode @m to @group with @hops into @buf; returns its length. */
static size_t put_msg(uint8_t *buf, const struct rxsvc_cn_msg *m,
		      uint32_t group, uint8_t hops)
{
	struct rxsvc_cn_src src = { .pid = 4242, .uid = 1234, .gid = 5678 };

	return rxs_evf_put_msg(buf, m, group, &src, hops);
}

static void fake_send(struct fake *f, const struct rxsvc_cn_msg *m,
		      uint32_t group, uint8_t hops)
{
	uint8_t buf[RXS_EVF_MSG_HDR + DATA_MAX];

	fake_write(f, buf, put_msg(buf, m, group, hops));
}

/* ---------------------------------------------------------------- */
/* Tests                                                             */
/* ---------------------------------------------------------------- */

/* A message crossing the link arrives whole, both ways, once. */
static void test_cross(void)
{
	struct rxsvc_bus *a;
	struct rxsvc_bus *b;
	struct rxsvc_evc_params cp = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_cn_msg *m = mkmsg(1234, 77, 300);
	struct rxsvc_evc_event ev;
	struct rxsvc_evc *c = NULL;
	char path[128];
	unsigned int ha;
	unsigned int hb;

	box_reset(&box_a);
	box_reset(&box_b);
	open_pair(&a, &b);
	/* A listener on each side of group 5. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 5, box_cb, &box_a, &ha), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 5, box_cb, &box_b, &hb), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 5) == 2 && members(b, 5) == 2));
	m->flags = 0;
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 5, 0), 0);
	CU_ASSERT_FATAL(WAIT_FOR(box_count(&box_b) == 1));
	CU_ASSERT_EQUAL(box_count(&box_a), 1);
	CU_ASSERT(same_msg(&box_b.m[0], m));
	CU_ASSERT_EQUAL(box_b.m[0].src.group, 5);
	CU_ASSERT_EQUAL(box_b.m[0].src.pid, getpid());
	CU_ASSERT_EQUAL(box_b.m[0].src.uid, geteuid());
	CU_ASSERT_EQUAL(box_b.m[0].src.gid, getegid());
	CU_ASSERT_NOT_EQUAL(box_b.m[0].src.client, 0); /* via the link */
	/* The other way. */
	m->seq = 99;
	m->ack = 100;
	CU_ASSERT_EQUAL(rxsvc_cn_send(b, m, 5, 0), 0);
	CU_ASSERT_FATAL(WAIT_FOR(box_count(&box_a) == 2));
	CU_ASSERT(same_msg(&box_a.m[1], m));
	/* Nothing came back over the link it came from. */
	CU_ASSERT_EQUAL(box_count(&box_b), 2);
	CU_ASSERT_EQUAL(bstat(a, "link_out"), 1);
	CU_ASSERT_EQUAL(bstat(a, "link_in"), 1);
	CU_ASSERT_EQUAL(bstat(b, "link_out"), 1);
	CU_ASSERT_EQUAL(bstat(b, "link_in"), 1);
	/* A socket client on B gets what is sent on A. */
	sock_path(path, sizeof(path), "b");
	cp.path = path;
	cp.timeout_ms = WAIT_MS;
	CU_ASSERT_EQUAL_FATAL(rxsvc_evc_connect(&cp, &c), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 6), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 6) == 1));
	m->seq = 7;
	m->ack = 8;
	m->len = 0; /* empty data crosses too */
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 6, 0), 0);
	m->seq = 8;
	m->len = 200;
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 6, 0), 0);
	CU_ASSERT_EQUAL_FATAL(rxsvc_evc_recv(c, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
	CU_ASSERT_EQUAL(ev.msg->seq, 7);
	CU_ASSERT_EQUAL(ev.msg->len, 0);
	CU_ASSERT_EQUAL_FATAL(rxsvc_evc_recv(c, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
	CU_ASSERT_EQUAL(ev.msg->id.idx, m->id.idx);
	CU_ASSERT_EQUAL(ev.msg->id.val, m->id.val);
	CU_ASSERT_EQUAL(ev.msg->seq, 8);
	CU_ASSERT_EQUAL(ev.msg->ack, 8);
	CU_ASSERT_EQUAL(ev.msg->len, 200);
	CU_ASSERT(!memcmp(ev.msg->data, m->data, 200));
	CU_ASSERT_EQUAL(ev.src.group, 6);
	CU_ASSERT_EQUAL(ev.src.pid, getpid());
	rxsvc_evc_close(c);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, ha), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, hb), 0);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/*
 * Hops: each crossing adds one; a message whose next crossing would
 * reach RXS_EVF_MAX_HOPS is dropped whole (not delivered there, not
 * forwarded), and so is one claiming a hop count past the limit.
 */
static void test_hops(void)
{
	static const uint8_t dropped[] = { RXS_EVF_MAX_HOPS - 1,
					   RXS_EVF_MAX_HOPS, 100, 254, 255 };
	struct rxsvc_bus *a = open_listening("a");
	struct fake *f1 = fake_link(a);
	struct fake *f2 = fake_link(a);
	struct rxsvc_cn_msg *m = mkmsg(1, 2, 40);
	struct rxs_evf ev;
	unsigned int h;
	size_t i;

	box_reset(&box_a);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 9, box_cb, &box_a, &h), 0);
	fake_sub(f2, RXS_EVF_SUB, 9, 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 9) == 2));
	/* Forwarded from f1 to f2 one hop further; never back to f1. */
	for (i = 0; i < RXS_EVF_MAX_HOPS - 1; i++) {
		m->seq = (uint32_t)i;
		fake_send(f1, m, 9, (uint8_t)i);
		CU_ASSERT_EQUAL_FATAL(
			fake_expect(f2, RXS_EVF_MSG, &ev, WAIT_MS), 1);
		CU_ASSERT_EQUAL(ev.hops, i + 1);
		CU_ASSERT_EQUAL(ev.seq, i);
		CU_ASSERT_EQUAL(ev.ack, 2);
		CU_ASSERT_EQUAL(ev.group, 9);
		CU_ASSERT_EQUAL(ev.src.pid, 4242); /* the sender's, kept */
		CU_ASSERT_EQUAL(ev.src.uid, 1234);
		CU_ASSERT_EQUAL(ev.dlen, 40);
		CU_ASSERT(!memcmp(ev.data, m->data, 40));
	}
	CU_ASSERT_FATAL(WAIT_FOR(box_count(&box_a) == RXS_EVF_MAX_HOPS - 1));
	CU_ASSERT_EQUAL(box_a.m[0].src.pid, 4242);
	CU_ASSERT_EQUAL(box_a.m[0].src.uid, 1234);
	CU_ASSERT_EQUAL(box_a.m[0].src.gid, 5678);
	/* At or past the limit: dropped, counted, delivered nowhere. */
	for (i = 0; i < sizeof(dropped); i++) {
		m->seq = 1000 + (uint32_t)i;
		fake_send(f1, m, 9, dropped[i]);
	}
	CU_ASSERT(WAIT_FOR(bstat(a, "hop_drops") == sizeof(dropped)));
	/* In order behind them, one that passes: f2 sees it next. */
	m->seq = 2000;
	fake_send(f1, m, 9, 0);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_MSG, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.seq, 2000);
	CU_ASSERT_EQUAL(ev.hops, 1);
	CU_ASSERT_FATAL(WAIT_FOR(box_count(&box_a) == RXS_EVF_MAX_HOPS));
	CU_ASSERT_EQUAL(box_a.m[RXS_EVF_MAX_HOPS - 1].seq, 2000);
	/* A local send leaves with no hop. */
	m->seq = 3000;
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 9, 0), 0);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_MSG, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.seq, 3000);
	CU_ASSERT_EQUAL(ev.hops, 0);
	CU_ASSERT_EQUAL(bstat(a, "link_in"),
			RXS_EVF_MAX_HOPS + sizeof(dropped));
	/* f1 never got a message: it is no member, and the sender. */
	CU_ASSERT_EQUAL(fake_expect(f1, RXS_EVF_MSG, &ev, 50), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, h), 0);
	fake_close(f1);
	fake_close(f2);
	rxsvc_bus_close(a);
	free(m);
}

/*
 * Copies of a message going round a loop of links die out: B linked to
 * A twice, a listener on B; one send on A reaches it over each link at
 * 1, 3, 5 and 7 crossings, and each copy is dropped at the eighth.
 */
static void test_loop_dies_out(void)
{
	struct bus_opts ob = { .name = "b" };
	struct rxsvc_bus *a = open_listening("a");
	struct rxsvc_bus *b = open_bus(&ob);
	struct rxsvc_cn_msg *m = mkmsg(5, 0, 16);
	uint64_t in;
	unsigned int h;

	box_reset(&box_b);
	link_to(b, a);
	link_to(b, a);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 7, box_cb, &box_b, &h), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 7) == 2 && members(b, 7) == 3));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 7, 0), 0);
	CU_ASSERT(WAIT_FOR(bstat(a, "hop_drops") == 2));
	CU_ASSERT(WAIT_FOR(box_count(&box_b) == 8));
	/* Settled: nothing crosses any more. */
	in = bstat(a, "link_in") + bstat(b, "link_in");
	usleep(50000);
	CU_ASSERT_EQUAL(bstat(a, "link_in") + bstat(b, "link_in"), in);
	CU_ASSERT_EQUAL(box_count(&box_b), 8);
	CU_ASSERT_EQUAL(bstat(b, "hop_drops"), 0);
	CU_ASSERT(same_msg(&box_b.m[7], m));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, h), 0);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/* Frames split across reads and many frames in one read. */
static void test_framing(void)
{
	static const size_t chunks[] = { 1, 3, 13, 47, 49, 300, 4096, 30000 };
	struct rxsvc_bus *a = open_listening("a");
	struct fake *f = fake_link(a);
	const unsigned int n = 400;
	size_t cap = (size_t)n * (RXS_EVF_MSG_HDR + DATA_MAX);
	uint8_t *buf = malloc(cap);
	struct rxsvc_cn_msg *m;
	size_t len = 0;
	size_t off = 0;
	unsigned int k = 0;
	unsigned int i;
	unsigned int h;
	bool ok = true;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	box_reset(&box_a);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 3, box_cb, &box_a, &h), 0);
	for (i = 0; i < n; i++) {
		m = mkmsg(i, i + 1, (i * 37) % DATA_MAX);
		len += put_msg(buf + len, m, 3, 0);
		free(m);
	}
	/* Written in odd pieces, pausing now and then so reads split. */
	while (off < len) {
		size_t c = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];

		if (c > len - off)
			c = len - off;
		fake_write(f, buf + off, c);
		off += c;
		if (k % 3 == 0)
			usleep(500);
	}
	CU_ASSERT(WAIT_FOR(box_count(&box_a) == n));
	for (i = 0; i < n && i < box_count(&box_a); i++) {
		m = mkmsg(i, i + 1, (i * 37) % DATA_MAX);
		ok = ok && same_msg(&box_a.m[i], m);
		free(m);
	}
	CU_ASSERT(ok);
	CU_ASSERT(bstat(a, "strp_partial") > 0);
	CU_ASSERT_EQUAL(bstat(a, "link_in"), n);
	CU_ASSERT_EQUAL(bstat(a, "proto_errors"), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, h), 0);
	fake_close(f);
	rxsvc_bus_close(a);
	free(buf);
}

/* The bus still serves: a local send and one across the real link. */
static void check_still_serves(struct rxsvc_bus *a, struct rxsvc_bus *b,
			       uint32_t seq)
{
	struct rxsvc_cn_msg *m = mkmsg(seq, 0, 10);
	unsigned int ha;
	unsigned int hb;

	box_reset(&box_a);
	box_reset(&box_b);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 40, box_cb, &box_a, &ha), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 40, box_cb, &box_b, &hb), 0);
	CU_ASSERT(WAIT_FOR(members(a, 40) == 2));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 40, 0), 0);
	CU_ASSERT(WAIT_FOR(box_count(&box_b) == 1));
	CU_ASSERT_EQUAL(box_count(&box_a), 1);
	CU_ASSERT(box_count(&box_b) == 1 && same_msg(&box_b.m[0], m));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, ha), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, hb), 0);
	CU_ASSERT(WAIT_FOR(members(a, 40) == 0));
	free(m);
}

/* A link that closes is removed with its memberships, and counted. */
static void test_peer_closes(void)
{
	struct rxsvc_bus *a;
	struct rxsvc_bus *b;
	struct rxsvc_cn_msg *m = mkmsg(1, 0, 8);
	struct fake *f;
	uint64_t leaves;

	open_pair(&a, &b);
	f = fake_link(a);
	CU_ASSERT_EQUAL(joined_clients(a), 2);
	fake_sub(f, RXS_EVF_SUB, 4, 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 4) == 1));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 4, 0), 0);
	leaves = bstat(a, "leaves");
	fake_close(f);
	CU_ASSERT(WAIT_FOR(members(a, 4) == 0 && joined_clients(a) == 1));
	CU_ASSERT_EQUAL(bstat(a, "leaves"), leaves + 1);
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 4, 0), -ESRCH);
	check_still_serves(a, b, 2);
	/* A real linked bus closing: its interest goes with it. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 4, box_cb, &box_b, NULL), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 4) == 1));
	rxsvc_bus_close(b);
	CU_ASSERT(WAIT_FOR(members(a, 4) == 0 && joined_clients(a) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 4, 0), -ESRCH);
	rxsvc_bus_close(a);
	free(m);
}

/* Malformed, oversized and truncated input drops that link only. */
static void test_bad_input(void)
{
	struct rxsvc_bus *a;
	struct rxsvc_bus *b;
	struct rxsvc_cn_msg *m = mkmsg(1, 0, 8);
	uint8_t buf[RXS_EVF_MSG_HDR + 5000];
	struct rxs_evf ev;
	struct fake *f;
	unsigned int h;
	uint64_t v;
	size_t len;

	open_pair(&a, &b);
	/* An unknown frame type. */
	f = fake_link(a);
	rxs_evf_put_req(buf, 0x7f, 0, 0, 0);
	fake_write(f, buf, RXS_EVF_REQ_LEN);
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "proto_errors") == 1));
	/* A MSG whose data length disagrees with the frame's. */
	f = fake_link(a);
	len = put_msg(buf, m, 3, 0);
	rxs_put_be16(buf + RXS_EVF_HDR + 36, 9);
	fake_write(f, buf, len);
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "proto_errors") == 2));
	/* A frame before HELLO. */
	f = fake_connect(a);
	fake_write(f, buf, put_msg(buf, m, 3, 0));
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "proto_errors") == 3));
	/* A length of 4 GB: refused before any byte of it is kept. */
	f = fake_link(a);
	rxs_put_be32(buf, 0xffffffffu);
	fake_write(f, buf, 8);
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "strp_oversize") == 1));
	/* A length below a header. */
	f = fake_link(a);
	rxs_put_be32(buf, 4);
	fake_write(f, buf, 8);
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "proto_errors") == 5));
	/* Half a frame, never finished: the assembly limit (300 ms). */
	f = fake_link(a);
	fake_write(f, buf, put_msg(buf, m, 3, 0) / 2);
	CU_ASSERT(fake_dropped(f));
	fake_close(f);
	CU_ASSERT(WAIT_FOR(bstat(a, "strp_timeouts") == 1));
	/*
	 * A message above our MTU but within a link's frame limit (a
	 * linked bus may have a larger MTU): the message is refused and
	 * counted, the link stays, and the next message passes.
	 */
	f = fake_link(a);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 3, box_cb, &box_a, &h), 0);
	box_reset(&box_a);
	v = bstat(a, "emsgsize");
	{
		struct rxsvc_cn_msg *big = calloc(1, sizeof(*big) + 5000);

		big->len = 5000;
		fake_write(f, buf, put_msg(buf, big, 3, 0));
		free(big);
	}
	fake_send(f, m, 3, 0);
	CU_ASSERT(WAIT_FOR(box_count(&box_a) == 1));
	CU_ASSERT_EQUAL(bstat(a, "emsgsize"), v + 1);
	/* No verdict (a link gets none), no close: a PING is answered. */
	rxs_evf_put_req(buf, RXS_EVF_PING, 77, 0, 0);
	fake_write(f, buf, RXS_EVF_REQ_LEN);
	while (fake_frame(f, &ev, WAIT_MS) == 1 && ev.type != RXS_EVF_ERROR)
		if (ev.type == RXS_EVF_REPLY && ev.tag == 77)
			break;
	CU_ASSERT_EQUAL(ev.type, RXS_EVF_REPLY);
	CU_ASSERT_EQUAL(ev.tag, 77);
	CU_ASSERT_EQUAL(ev.status, 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, h), 0);
	fake_close(f);
	/* All gone but B's link, which still works. */
	CU_ASSERT(WAIT_FOR(joined_clients(a) == 1));
	check_still_serves(a, b, 3);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/* "Has members" crosses the link and goes away with the far member. */
static void test_interest(void)
{
	struct rxsvc_evc_params cp = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_bus *a;
	struct rxsvc_bus *b;
	struct rxsvc_cn_msg *m = mkmsg(1, 0, 8);
	struct rxsvc_evc *c = NULL;
	char path[128];
	unsigned int h;

	open_pair(&a, &b);
	box_reset(&box_b);
	/* An in-process listener on B. */
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 20, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 20, box_cb, &box_b, &h), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 20) == 1));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 20, 0), 0);
	CU_ASSERT(WAIT_FOR(box_count(&box_b) == 1));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, h), 0);
	CU_ASSERT(WAIT_FOR(members(a, 20) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 20, 0), -ESRCH);
	/* A socket client on B: leave, then join and crash. */
	sock_path(path, sizeof(path), "b");
	cp.path = path;
	cp.timeout_ms = WAIT_MS;
	CU_ASSERT_EQUAL_FATAL(rxsvc_evc_connect(&cp, &c), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 21), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 21) == 1));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 21, 0), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_leave(c, 21), 0);
	CU_ASSERT(WAIT_FOR(members(a, 21) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 21, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 21), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 22), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 21) == 1 && members(a, 22) == 1));
	rxsvc_evc_close(c);
	CU_ASSERT(WAIT_FOR(members(a, 21) == 0 && members(a, 22) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 22, 0), -ESRCH);
	/* Members on both sides: one side leaving keeps the other's. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 23, box_cb, &box_b, &h), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 23, box_cb, &box_a, NULL), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 23) == 2 && members(b, 23) == 2));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, h), 0);
	CU_ASSERT(WAIT_FOR(members(a, 23) == 1));
	CU_ASSERT_EQUAL(members(b, 23), 1); /* A's link, for A's listener */
	CU_ASSERT_EQUAL(rxsvc_cn_send(b, m, 23, 0), 0);
	CU_ASSERT(bstat(b, "link_subs") >= 4);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/* A bus giving links only r never asks them for its groups. */
static void test_interest_rights(void)
{
	struct bus_opts oa = { .name = "a",
			       .listen = true,
			       .link_rights = RXSVC_BUS_R };
	struct bus_opts ob = { .name = "b" };
	struct rxsvc_bus *a = open_bus(&oa);
	struct rxsvc_bus *b = open_bus(&ob);
	struct rxsvc_cn_msg *m = mkmsg(1, 0, 8);

	box_reset(&box_a);
	box_reset(&box_b);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 30, box_cb, &box_a, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 31, box_cb, &box_b, NULL), 0);
	link_to(b, a);
	/* B asks A for 31 (A's link may send to B): A to B works. */
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 31) == 1));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 31, 0), 0);
	CU_ASSERT(WAIT_FOR(box_count(&box_b) == 1));
	/* A's SUB, had A sent one, would have come before that message. */
	CU_ASSERT_EQUAL(members(b, 30), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_send(b, m, 30, 0), -ESRCH);
	CU_ASSERT_EQUAL(bstat(a, "link_subs"), 0);
	CU_ASSERT_EQUAL(box_count(&box_a), 0);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/*
 * Interest round a cycle of links dies out once the last real member
 * leaves: adverts carry a distance (links crossed to a real member),
 * which counts up round the cycle until past the hop limit.  A cycle of
 * two (B linked to A twice) and of three (A, B, C).
 */
static void test_cycle_interest(void)
{
	struct bus_opts ob = { .name = "b", .listen = true };
	struct bus_opts oc = { .name = "c", .listen = true };
	struct rxsvc_bus *a = open_listening("a");
	struct rxsvc_bus *b = open_bus(&ob);
	struct rxsvc_bus *c;
	struct rxsvc_cn_msg *m = mkmsg(1, 0, 8);
	unsigned int h;

	link_to(b, a);
	link_to(b, a);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(b, 7, box_cb, &box_b, &h), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 7) == 2 && members(b, 7) == 3));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(b, h), 0);
	CU_ASSERT(WAIT_FOR(members(a, 7) == 0 && members(b, 7) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 7, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_send(b, m, 7, 0), -ESRCH);
	/* And it comes back when a member joins again. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 7, box_cb, &box_a, &h), 0);
	CU_ASSERT(WAIT_FOR(members(b, 7) == 2));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(a, h), 0);
	CU_ASSERT(WAIT_FOR(members(a, 7) == 0 && members(b, 7) == 0));
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	/* A triangle: B -> A, C -> B, A -> C. */
	a = open_listening("a");
	b = open_bus(&ob);
	c = open_bus(&oc);
	link_to(b, a);
	link_to(c, b);
	link_to(a, c);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(c, 8, box_cb, &box_b, &h), 0);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 8) == 2 && members(b, 8) == 2 &&
				 members(c, 8) == 3));
	box_reset(&box_b);
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 8, 0), 0);
	CU_ASSERT(WAIT_FOR(box_count(&box_b) >= 1));
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(c, h), 0);
	CU_ASSERT(WAIT_FOR(members(a, 8) == 0 && members(b, 8) == 0 &&
			   members(c, 8) == 0));
	CU_ASSERT_EQUAL(rxsvc_cn_send(a, m, 8, 0), -ESRCH);
	rxsvc_bus_close(c);
	rxsvc_bus_close(b);
	rxsvc_bus_close(a);
	free(m);
}

/* The distances a linked bus hears: a SUB again updates, UNSUB ends. */
static void test_advert_distance(void)
{
	struct rxsvc_bus *a = open_listening("a");
	struct fake *f1 = fake_link(a);
	struct fake *f2 = fake_link(a);
	struct rxs_evf ev;

	/* f1 has a member 2 links away: f2 hears it at 3. */
	fake_sub(f1, RXS_EVF_SUB, 12, 2);
	CU_ASSERT_FATAL(WAIT_FOR(members(a, 12) == 1));
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_SUB, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.a, 12);
	CU_ASSERT_EQUAL(ev.b, 3);
	/* Farther: told again. */
	fake_sub(f1, RXS_EVF_SUB, 12, 5);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_SUB, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.a, 12);
	CU_ASSERT_EQUAL(ev.b, 6);
	/* Too far to reach within the hop limit: withdrawn from f2. */
	fake_sub(f1, RXS_EVF_SUB, 12, RXS_EVF_MAX_HOPS - 2);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_UNSUB, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.a, 12);
	/* A local member is 0 away: f1 hears that, f2 hears 0 again. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(a, 12, box_cb, &box_a, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f2, RXS_EVF_SUB, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.a, 12);
	CU_ASSERT_EQUAL(ev.b, 0);
	CU_ASSERT_EQUAL_FATAL(fake_expect(f1, RXS_EVF_SUB, &ev, WAIT_MS), 1);
	CU_ASSERT_EQUAL(ev.a, 12);
	CU_ASSERT_EQUAL(ev.b, 0);
	/* f1 withdraws: still a member (the listener). */
	fake_sub(f1, RXS_EVF_UNSUB, 12, 0);
	CU_ASSERT(WAIT_FOR(members(a, 12) == 1));
	fake_close(f1);
	fake_close(f2);
	rxsvc_bus_close(a);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "a message crosses a link intact", test_cross },
		{ "hop count per crossing, dropped at the limit", test_hops },
		{ "copies round a loop of links die out", test_loop_dies_out },
		{ "framing over split and coalesced reads", test_framing },
		{ "a link that closes is removed", test_peer_closes },
		{ "bad input drops only that link", test_bad_input },
		{ "interest crosses links and goes", test_interest },
		{ "no interest asked of a link without w",
		  test_interest_rights },
		{ "interest round a cycle dies out", test_cycle_interest },
		{ "advert distances", test_advert_distance },
	};
	CU_pSuite s;
	unsigned int fails;
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/rxsvc-evlink.XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("events links", NULL, NULL);
	if (!s)
		return 99;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return 99;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		return 99;
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	rmdir(dir);
	return fails ? 1 : 0;
}
