/* SPDX-License-Identifier: MIT */
/*
 * Tests of the bus across a socket (events/bus_server.c, events/client.c)
 * in one process: the bus on its own thread, clients in the test thread.
 * Join, membership, -ESRCH and -EACCES verdicts, notices, lossy drops
 * reported, lossless -EAGAIN and no loss, a client gone with messages
 * queued, max subscribers, stream clients, oversized and truncated
 * frames on a raw stream.  Every wait is bounded.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <CUnit/Basic.h>
#include <event2/event.h>

#include "events/internal.h"

static char dir[64];
static char path[128];
static char spath[128];

static struct rxsvc_bus *open_bus(unsigned int mode,
				  enum rxsvc_bus_delivery d,
				  unsigned int pool, unsigned int qlen)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus = NULL;

	p.path = path;
	p.stream_path = spath;
	p.mode = mode;
	p.delivery = d;
	p.pool = pool;
	p.queue_len = qlen;
	p.max_subscribers = 8;
	p.assembly_ms = 200;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	return bus;
}

static struct rxsvc_evc *join(const char *where, unsigned int flags, int *err)
{
	struct rxsvc_evc_params p = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_evc *c = NULL;
	int ret;

	p.path = where;
	p.flags = flags;
	p.timeout_ms = 3000;
	ret = rxsvc_evc_connect(&p, &c);
	if (err)
		*err = ret;
	return ret < 0 ? NULL : c;
}

static struct rxsvc_cn_msg *mkmsg(uint32_t seq, size_t len)
{
	struct rxsvc_cn_msg *m = calloc(1, sizeof(*m) + len);

	m->id.idx = 1;
	m->id.val = 2;
	m->seq = seq;
	m->len = (uint16_t)len;
	memset(m->data, 'a' + (int)(seq % 26), len);
	return m;
}

/* Wait (bounded) until the bus's counter @name reaches @v. */
static int wait_stat(struct rxsvc_bus *bus, const char *name, uint64_t v)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (rxsvc_bus_stat(bus, name) >= v)
			return 1;
		usleep(10000);
	}
	return 0;
}

struct rec {
	int calls;
	uint32_t client;
	uint32_t seq;
};

static void rec_cb(const struct rxsvc_cn_msg *msg,
		   const struct rxsvc_cn_src *src, void *arg)
{
	struct rec *r = arg;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_SEQ_CST);
	r->client = src->client;
	r->seq = msg->seq;
}

static void test_basic(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 64, 64);
	struct rxsvc_evc *sub = join(path, 0, NULL);
	struct rxsvc_evc *pub = join(spath, RXSVC_EVC_SENDER | RXSVC_EVC_STREAM,
				     NULL);
	struct rxsvc_cn_msg *m = mkmsg(5, 10);
	struct rxsvc_evc_event ev;
	struct rec r = { 0 };
	struct rxsvc_cb_id id = { 1, 2 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_NOT_EQUAL(rxsvc_evc_client_id(sub), rxsvc_evc_client_id(pub));
	/* Nobody in group 7 yet. */
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, RXSVC_EVC_SYNC), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_evc_join(sub, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
	CU_ASSERT_EQUAL(ev.msg->seq, 5);
	CU_ASSERT_EQUAL(ev.msg->len, 10);
	CU_ASSERT_EQUAL(ev.src.group, 7);
	CU_ASSERT_EQUAL(ev.src.client, rxsvc_evc_client_id(pub));
	CU_ASSERT_EQUAL(ev.src.pid, getpid());
	/* Remote to in-process: listener and the id's callback. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 8, rec_cb, &r, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "t", rec_cb, &r), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 8, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(r.calls, 2);
	CU_ASSERT_EQUAL(r.client, rxsvc_evc_client_id(pub));
	/* In-process to remote. */
	m->seq = 6;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 7, 0), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.msg->seq, 6);
	CU_ASSERT_EQUAL(ev.src.client, 0);
	/* The sender never gets its own message back. */
	CU_ASSERT_EQUAL(rxsvc_evc_join(pub, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(pub, &ev, 100), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, 3000), 1);
	/* Leave: -ESRCH again once nobody else is in. */
	CU_ASSERT_EQUAL(rxsvc_evc_leave(sub, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_leave(sub, 7), -ENOENT);
	CU_ASSERT_EQUAL(rxsvc_evc_leave(pub, 7), 0);
	/* (the id's callback takes remote messages whatever the group) */
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_del_callback(bus, &id), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, RXSVC_EVC_SYNC), -ESRCH);
	/* Above the MTU: refused locally. */
	m->len = (uint16_t)(rxsvc_evc_mtu(pub) + 1);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 7, 0), -EMSGSIZE);
	rxsvc_evc_close(sub);
	rxsvc_evc_close(pub);
	free(m);
	rxsvc_bus_close(bus);
	CU_ASSERT_EQUAL(access(path, F_OK), -1); /* socket file removed */
}

static void test_access(void)
{
	struct rxsvc_bus *bus;
	struct rxsvc_evc *c;
	struct rxsvc_cn_msg *m = mkmsg(1, 4);
	int err;

	/* Owner may receive only. */
	bus = open_bus(0400, RXSVC_BUS_LOSSY, 16, 16);
	c = join(path, RXSVC_EVC_SENDER, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 3), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(c, m, 3, RXSVC_EVC_SYNC), -EACCES);
	CU_ASSERT_EQUAL(rxsvc_evc_set_max_subscribers(c, 4), -EACCES);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "eacces"), 2);
	rxsvc_evc_close(c);
	rxsvc_bus_close(bus);
	/* Owner may send only. */
	bus = open_bus(0200, RXSVC_BUS_LOSSY, 16, 16);
	c = join(path, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c, 3), -EACCES);
	rxsvc_evc_close(c);
	rxsvc_bus_close(bus);
	/* No right at all for the owner: refused at join. */
	bus = open_bus(0066, RXSVC_BUS_LOSSY, 16, 16);
	c = join(path, 0, &err);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(err, -EACCES);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "eacces"), 1);
	rxsvc_bus_close(bus);
	free(m);
}

static void test_notices_and_max(void)
{
	struct rxsvc_bus *bus = open_bus(0770, RXSVC_BUS_LOSSY, 16, 16);
	struct rxsvc_evc *w = join(path, 0, NULL);
	struct rxsvc_evc *c[8];
	struct rxsvc_evc_event ev;
	int err;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(w);
	CU_ASSERT_EQUAL(rxsvc_evc_watch(w, 1), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(w, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_NOTICE);
	CU_ASSERT_EQUAL(ev.senders, 0);
	CU_ASSERT_EQUAL(ev.receivers, 0);
	c[0] = join(path, RXSVC_EVC_SENDER, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c[0]);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(w, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_NOTICE);
	CU_ASSERT_EQUAL(ev.senders, 1);
	CU_ASSERT_EQUAL(rxsvc_evc_join(c[0], 4), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(w, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.receivers, 1);
	rxsvc_evc_close(c[0]);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(w, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.senders, 0);
	CU_ASSERT_EQUAL(ev.receivers, 0);
	/* Max subscribers 8 (w is one). */
	for (i = 0; i < 7; i++) {
		c[i] = join(path, 0, NULL);
		CU_ASSERT_PTR_NOT_NULL(c[i]);
	}
	CU_ASSERT_PTR_NULL(join(path, 0, &err));
	CU_ASSERT_EQUAL(err, -EUSERS);
	CU_ASSERT_EQUAL(rxsvc_evc_set_max_subscribers(w, 9), 0);
	c[7] = join(path, 0, &err);
	CU_ASSERT_PTR_NOT_NULL(c[7]);
	for (i = 0; i < 8; i++)
		rxsvc_evc_close(c[i]);
	rxsvc_evc_close(w);
	rxsvc_bus_close(bus);
}

/*
 * Lossy: a subscriber that does not read loses messages, is told how
 * many, and every message is either received or counted as missed.
 */
static void test_lossy(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 256, 64);
	struct rxsvc_evc *slow = join(path, 0, NULL);
	struct rxsvc_evc *fast = join(path, 0, NULL);
	struct rxsvc_cn_msg *m = mkmsg(0, 3000);
	struct rxsvc_evc_event ev;
	unsigned int got = 0;
	unsigned int missed = 0;
	unsigned int fast_got = 0;
	unsigned int fast_missed = 0;
	unsigned int i;
	const unsigned int n = 2000;
	int ret;

	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fast);
	CU_ASSERT_EQUAL(rxsvc_evc_join(slow, 3), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(fast, 3), 0);
	for (i = 0; i < n; i++) {
		m->seq = i;
		CU_ASSERT_EQUAL_FATAL(rxsvc_cn_send(bus, m, 3, 0), 0);
		/* fast keeps up: never more than 8 behind (its queue: 64) */
		while (fast_got + fast_missed + 8 <= i + 1) {
			if (rxsvc_evc_recv(fast, &ev, 3000) != 1)
				break;
			if (ev.kind == RXSVC_EVC_MSG)
				fast_got++;
			else if (ev.kind == RXSVC_EVC_MISSED)
				fast_missed += ev.missed;
		}
	}
	while (fast_got + fast_missed < n && rxsvc_evc_recv(fast, &ev, 3000) == 1)
		if (ev.kind == RXSVC_EVC_MSG)
			fast_got++;
		else if (ev.kind == RXSVC_EVC_MISSED)
			fast_missed += ev.missed;
	CU_ASSERT_EQUAL(fast_got, n);
	CU_ASSERT_EQUAL(fast_missed, 0);
	while ((ret = rxsvc_evc_recv(slow, &ev, 500)) == 1) {
		if (ev.kind == RXSVC_EVC_MSG)
			got++;
		else if (ev.kind == RXSVC_EVC_MISSED)
			missed += ev.missed;
	}
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT(missed > 0);
	CU_ASSERT_EQUAL(got + missed, n);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "drops_queue") +
				rxsvc_bus_stat(bus, "drops_pool"),
			missed);
	rxsvc_evc_close(slow);
	rxsvc_evc_close(fast);
	free(m);
	rxsvc_bus_close(bus);
}

/*
 * A burst read in one go from a stream sender (hundreds of frames) is
 * written to subscribers as their queues fill, not dropped: a lossy
 * queue of 16 and a subscriber that reads nothing until the end lose
 * nothing while its socket buffer has room (600 small frames fit).
 */
static void test_stream_burst(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 1024, 16);
	struct rxsvc_evc *sub = join(spath, RXSVC_EVC_STREAM, NULL);
	struct rxsvc_evc *pub = join(spath, RXSVC_EVC_SENDER | RXSVC_EVC_STREAM,
				     NULL);
	struct rxsvc_cn_msg *m = mkmsg(0, 32);
	struct rxsvc_evc_event ev;
	const unsigned int n = 600;
	unsigned int got = 0;
	unsigned int missed = 0;
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL(rxsvc_evc_join(sub, 3), 0);
	for (i = 0; i < n; i++) {
		m->seq = i;
		CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 3, RXSVC_EVC_MORE), 0);
	}
	CU_ASSERT_EQUAL(rxsvc_evc_flush(pub), 0);
	while (got + missed < n && rxsvc_evc_recv(sub, &ev, 3000) == 1) {
		if (ev.kind == RXSVC_EVC_MSG) {
			CU_ASSERT_EQUAL(ev.msg->seq, got + missed);
			got++;
		} else if (ev.kind == RXSVC_EVC_MISSED) {
			missed += ev.missed;
		}
	}
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(missed, 0);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "drops_queue"), 0);
	rxsvc_evc_close(sub);
	rxsvc_evc_close(pub);
	free(m);
	rxsvc_bus_close(bus);
}

/* Lossless: a full pool refuses a non-blocking send; nothing is lost. */
static void test_lossless(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSLESS, 16, 0);
	struct rxsvc_evc *slow = join(path, 0, NULL);
	struct rxsvc_cn_msg *m = mkmsg(0, 3000);
	struct rxsvc_evc_event ev;
	unsigned int sent = 0;
	unsigned int got = 0;
	int ret = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_EQUAL(rxsvc_evc_join(slow, 3), 0);
	while (sent < 100000) {
		m->seq = sent;
		ret = rxsvc_cn_send(bus, m, 3, RXSVC_CN_NONBLOCK);
		if (ret < 0)
			break;
		sent++;
	}
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	CU_ASSERT(sent >= 16);
	while (rxsvc_evc_recv(slow, &ev, 500) == 1) {
		CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
		if (ev.kind == RXSVC_EVC_MSG) {
			CU_ASSERT_EQUAL(ev.msg->seq, got);
			got++;
		}
	}
	CU_ASSERT_EQUAL(got, sent);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "drops_queue"), 0);
	/* Room again. */
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 3, RXSVC_CN_NONBLOCK), 0);
	rxsvc_evc_close(slow);
	free(m);
	rxsvc_bus_close(bus);
}

struct blocked_send {
	struct rxsvc_bus *bus;
	struct rxsvc_cn_msg *m;
	int ret;
	int done;
};

static void *blocked_send_thread(void *arg)
{
	struct blocked_send *b = arg;

	b->ret = rxsvc_cn_send(b->bus, b->m, 3, 0);
	__atomic_store_n(&b->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Lossless, blocking: with the pool full a send waits (the sender is
 * held back, not refused) and completes once the subscriber reads.
 */
static void test_lossless_blocks(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSLESS, 8, 0);
	struct rxsvc_evc *slow = join(path, 0, NULL);
	struct blocked_send b = { .bus = bus, .m = mkmsg(0, 3000) };
	struct rxsvc_evc_event ev;
	unsigned int got = 0;
	pthread_t t;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_EQUAL(rxsvc_evc_join(slow, 3), 0);
	/*
	 * Fill the pool and the subscriber's socket buffer: until -EAGAIN
	 * lasts (the bus thread cannot write any more of the pool out).
	 */
	for (i = 0; i < 100; i++) {
		while (rxsvc_cn_send(bus, b.m, 3, RXSVC_CN_NONBLOCK) == 0)
			b.m->seq++;
		usleep(50000);
		if (rxsvc_cn_send(bus, b.m, 3, RXSVC_CN_NONBLOCK) == -EAGAIN)
			break;
		b.m->seq++;
	}
	CU_ASSERT(i < 100);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, blocked_send_thread, &b),
			      0);
	usleep(200000);
	CU_ASSERT_EQUAL(__atomic_load_n(&b.done, __ATOMIC_SEQ_CST), 0);
	CU_ASSERT(rxsvc_bus_stat(bus, "stalls") >= 1);
	while (rxsvc_evc_recv(slow, &ev, 500) == 1)
		if (ev.kind == RXSVC_EVC_MSG)
			got++;
	for (i = 0; i < 300 && !__atomic_load_n(&b.done, __ATOMIC_SEQ_CST);
	     i++)
		usleep(10000);
	CU_ASSERT_EQUAL(__atomic_load_n(&b.done, __ATOMIC_SEQ_CST), 1);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(b.ret, 0);
	/* Every message, the one held back included. */
	CU_ASSERT_EQUAL(got, b.m->seq + 1);
	rxsvc_evc_close(slow);
	free(b.m);
	rxsvc_bus_close(bus);
}

static int raw_stream(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sun.sun_path, spath);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *loop_thread(void *arg)
{
	event_base_loop(arg, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

/* On the loop: a byte on the stop pipe ends it. */
static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/*
 * Embedded: the bus on the caller's event_base (as a program hosting
 * it in its own loop), driven by a thread of ours; stopped before close.
 */
static void test_embedded(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct event_base *base = event_base_new();
	struct rxsvc_bus *bus = NULL;
	struct rxsvc_evc *sub;
	struct rxsvc_evc *pub;
	struct rxsvc_cn_msg *m = mkmsg(3, 16);
	struct rxsvc_evc_event ev;
	struct event *stop;
	int pfd[2];
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	CU_ASSERT_EQUAL_FATAL(pipe(pfd), 0);
	stop = event_new(base, pfd[0], EV_READ, stop_cb, base);
	CU_ASSERT_EQUAL_FATAL(event_add(stop, NULL), 0);
	p.path = path;
	p.base = base;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, loop_thread, base), 0);
	sub = join(path, 0, NULL);
	pub = join(path, RXSVC_EVC_SENDER, NULL);
	CU_ASSERT_PTR_NOT_NULL(sub);
	CU_ASSERT_PTR_NOT_NULL(pub);
	if (sub && pub) {
		CU_ASSERT_EQUAL(rxsvc_evc_join(sub, 4), 0);
		CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 4, RXSVC_EVC_SYNC), 0);
		CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, 3000), 1);
		CU_ASSERT_EQUAL(ev.msg->seq, 3);
		/* In-process send from another thread: the loop is woken. */
		m->seq = 4;
		CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 4, 0), 0);
		CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, 3000), 1);
		CU_ASSERT_EQUAL(ev.msg->seq, 4);
	}
	rxsvc_evc_close(sub);
	rxsvc_evc_close(pub);
	/* An idle bus has no tick to wake the loop: stop it on the loop. */
	CU_ASSERT_EQUAL(write(pfd[1], "x", 1), 1);
	pthread_join(t, NULL);
	rxsvc_bus_close(bus);
	event_free(stop);
	event_base_free(base);
	close(pfd[0]);
	close(pfd[1]);
	free(m);
}

/* Run the embedded loop until nothing is ready (this thread's base). */
static void loop_idle(struct event_base *base)
{
	int i;

	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static bool tick_on(struct rxsvc_bus *bus)
{
	return bus->tick_armed && event_pending(bus->tickev, EV_TIMEOUT, NULL);
}

/*
 * The assembly tick runs only while a client holds part of a frame: an
 * idle bus never wakes.  Embedded, driven from this thread, so the
 * bus's loop state can be looked at between turns.
 */
static void test_tick_only_when_partial(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct event_base *base = event_base_new();
	struct rxsvc_bus *bus = NULL;
	uint8_t b[RXS_EVF_REQ_LEN];
	uint8_t r[64];
	int fd;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(base);
	p.path = path;
	p.stream_path = spath;
	p.base = base;
	p.assembly_ms = 200;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	loop_idle(base);
	CU_ASSERT(!tick_on(bus));
	fd = raw_stream();
	CU_ASSERT_FATAL(fd >= 0);
	loop_idle(base); /* accepted: still nothing to time */
	CU_ASSERT(!tick_on(bus));
	/* Half a HELLO: the tick runs. */
	rxs_evf_put_req(b, RXS_EVF_HELLO, 1, RXS_EVF_VERSION, 0);
	CU_ASSERT_EQUAL(write(fd, b, 10), 10);
	loop_idle(base);
	CU_ASSERT(tick_on(bus));
	CU_ASSERT_EQUAL(bus->npartial, 1);
	/* The rest: whole, answered, and the tick stops. */
	CU_ASSERT_EQUAL(write(fd, b + 10, sizeof(b) - 10),
			(ssize_t)(sizeof(b) - 10));
	loop_idle(base);
	CU_ASSERT(!tick_on(bus));
	CU_ASSERT_EQUAL(bus->npartial, 0);
	CU_ASSERT_EQUAL(read(fd, r, sizeof(r)), 32); /* REPLY + 16 bytes */
	/* Half a PING never finished: the tick times it out, then stops. */
	rxs_evf_put_req(b, RXS_EVF_PING, 2, 0, 0);
	CU_ASSERT_EQUAL(write(fd, b, 10), 10);
	loop_idle(base);
	CU_ASSERT(tick_on(bus));
	for (i = 0; i < 20 && bus->npartial; i++)
		event_base_loop(base, EVLOOP_ONCE); /* waits for the tick */
	CU_ASSERT_EQUAL(bus->npartial, 0);
	CU_ASSERT(!tick_on(bus));
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "strp_timeouts"), 1);
	CU_ASSERT_EQUAL(read(fd, r, sizeof(r)), 0); /* closed by the bus */
	close(fd);
	rxsvc_bus_close(bus);
	event_base_free(base);
}

static void on_usr1(int sig)
{
}

struct late_send {
	struct rxsvc_bus *bus;
	pthread_t victim;
	struct rxsvc_cn_msg *m;
};

/* Interrupt the victim's wait with a signal, then send. */
static void *late_send_thread(void *arg)
{
	struct late_send *ls = arg;

	usleep(100 * 1000);
	pthread_kill(ls->victim, SIGUSR1);
	usleep(100 * 1000);
	rxsvc_cn_send(ls->bus, ls->m, 6, 0);
	return NULL;
}

/*
 * A signal is not a timeout: rxsvc_evc_recv(-1) interrupted by one
 * waits on (it used to return 0, "timed out", and `rxsvc events
 * subscribe` took that for --idle-exit and left the bus).
 */
static void test_recv_signal(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 16, 16);
	struct rxsvc_evc *sub = join(path, 0, NULL);
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct sigaction old;
	struct late_send ls = { bus, pthread_self(), mkmsg(9, 4) };
	struct rxsvc_evc_event ev;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(sub);
	CU_ASSERT_EQUAL(rxsvc_evc_join(sub, 6), 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, &old); /* no SA_RESTART */
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, late_send_thread, &ls),
			      0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(sub, &ev, -1), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
	pthread_join(t, NULL);
	sigaction(SIGUSR1, &old, NULL);
	rxsvc_evc_close(sub);
	free(ls.m);
	rxsvc_bus_close(bus);
}

/* A subscriber closing with messages queued: they go back to the pool. */
static void test_gone_with_queue(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSLESS, 32, 0);
	struct rxsvc_bus_info info = { .size = sizeof(info) };
	struct rxsvc_evc *a = join(path, 0, NULL);
	struct rxsvc_evc *b = join(path, 0, NULL);
	struct rxsvc_cn_msg *m = mkmsg(0, 3000);
	struct rxsvc_evc_event ev;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(rxsvc_evc_join(a, 3), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(b, 3), 0);
	while (rxsvc_cn_send(bus, m, 3, RXSVC_CN_NONBLOCK) == 0)
		;
	rxsvc_bus_get_info(bus, &info);
	CU_ASSERT_EQUAL(info.pool_used, 32);
	rxsvc_evc_close(a);
	while (rxsvc_evc_recv(b, &ev, 300) == 1)
		;
	for (i = 0; i < 100; i++) {
		rxsvc_bus_get_info(bus, &info);
		if (!info.pool_used && info.clients == 1)
			break;
		usleep(10000);
	}
	CU_ASSERT_EQUAL(info.pool_used, 0);
	CU_ASSERT_EQUAL(info.clients, 1);
	CU_ASSERT_EQUAL(info.receivers, 1);
	rxsvc_evc_close(b);
	free(m);
	rxsvc_bus_close(bus);
}

/*
 * The idfilter policy across the socket: a client is sent only the ids
 * it asked for, so a message it does not want never makes its socket
 * readable (never wakes it); nobody wanting an id is -ESRCH; a
 * broadcast bus has no filter (-ENOPROTOOPT).
 */
static void test_idfilter_socket(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_cb_id want_a = { 1, 2 };
	struct rxsvc_cb_id want_b = { 9, 9 };
	struct rxsvc_bus *bus = NULL;
	struct rxsvc_evc *a;
	struct rxsvc_evc *b;
	struct rxsvc_evc *pub;
	struct rxsvc_cn_msg *m = mkmsg(1, 8);
	struct rxsvc_evc_event ev;
	struct pollfd pfd;

	p.path = path;
	p.policy = &rxsvc_bus_policy_idfilter;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	a = join(path, 0, NULL);
	b = join(path, 0, NULL);
	pub = join(path, RXSVC_EVC_SENDER, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pub);
	CU_ASSERT_EQUAL(rxsvc_evc_join(a, 3), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_join(b, 3), 0);
	/* Members, but no filter names the id yet. */
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 3, RXSVC_EVC_SYNC), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_evc_want_id(a, &want_a), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_want_id(b, &want_b), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 3, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(a, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.kind, RXSVC_EVC_MSG);
	CU_ASSERT_EQUAL(ev.msg->id.idx, 1);
	/* The bus handled the send (SYNC) and a's copy is out: b's is not. */
	pfd.fd = rxsvc_evc_fd(b);
	pfd.events = POLLIN;
	CU_ASSERT_EQUAL(poll(&pfd, 1, 200), 0);
	m->id = want_b;
	CU_ASSERT_EQUAL(rxsvc_evc_send(pub, m, 3, RXSVC_EVC_SYNC), 0);
	CU_ASSERT_EQUAL(rxsvc_evc_recv(b, &ev, 3000), 1);
	CU_ASSERT_EQUAL(ev.msg->id.idx, 9);
	pfd.fd = rxsvc_evc_fd(a);
	CU_ASSERT_EQUAL(poll(&pfd, 1, 200), 0);
	rxsvc_evc_close(a);
	rxsvc_evc_close(b);
	rxsvc_evc_close(pub);
	rxsvc_bus_close(bus);
	/* The default (broadcast) policy has no id filter. */
	bus = open_bus(0660, RXSVC_BUS_LOSSY, 16, 16);
	a = join(path, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(rxsvc_evc_want_id(a, &want_a), -ENOPROTOOPT);
	rxsvc_evc_close(a);
	rxsvc_bus_close(bus);
	free(m);
}

/* The bus's parser on a raw stream: oversized, truncated, garbage. */
static void test_bad_frames(void)
{
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 16, 16);
	uint8_t b[64] = { 0 };
	struct rxsvc_evc *c;
	char x;
	int fd;

	/* Oversized length: dropped at once. */
	fd = raw_stream();
	CU_ASSERT_FATAL(fd >= 0);
	rxs_put_be32(b, 1u << 30);
	CU_ASSERT_EQUAL(write(fd, b, 8), 8);
	CU_ASSERT_EQUAL(read(fd, &x, 1), 0);
	close(fd);
	CU_ASSERT(wait_stat(bus, "strp_oversize", 1));
	/* Truncated: half a HELLO, never finished: assembly timeout. */
	fd = raw_stream();
	CU_ASSERT_FATAL(fd >= 0);
	rxs_evf_put_req(b, RXS_EVF_HELLO, 1, RXS_EVF_VERSION, 0);
	CU_ASSERT_EQUAL(write(fd, b, 10), 10);
	CU_ASSERT_EQUAL(read(fd, &x, 1), 0); /* closed by the bus */
	close(fd);
	CU_ASSERT(wait_stat(bus, "strp_timeouts", 1));
	/* A frame before HELLO: protocol error. */
	fd = raw_stream();
	CU_ASSERT_FATAL(fd >= 0);
	rxs_evf_put_req(b, RXS_EVF_PING, 1, 0, 0);
	CU_ASSERT_EQUAL(write(fd, b, RXS_EVF_REQ_LEN), RXS_EVF_REQ_LEN);
	CU_ASSERT_EQUAL(read(fd, &x, 1), 0);
	close(fd);
	CU_ASSERT(wait_stat(bus, "proto_errors", 1));
	/* And the bus still serves. */
	c = join(path, 0, NULL);
	CU_ASSERT_PTR_NOT_NULL(c);
	rxsvc_evc_close(c);
	rxsvc_bus_close(bus);
}

static void test_stale_and_busy_path(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus = open_bus(0660, RXSVC_BUS_LOSSY, 16, 16);
	struct rxsvc_bus *bus2 = NULL;

	p.path = path;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus2), -EADDRINUSE);
	rxsvc_bus_close(bus);
	/* A stale socket file is replaced. */
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);

		strcpy(sun.sun_path, path);
		CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sun, sizeof(sun)),
				0);
		close(fd);
	}
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus2), 0);
	rxsvc_bus_close(bus2);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "join, send, -ESRCH, both socket types", test_basic },
		{ "access by mode, -EACCES", test_access },
		{ "notices, max subscribers", test_notices_and_max },
		{ "lossy: drops reported", test_lossy },
		{ "lossy: a stream burst is not dropped", test_stream_burst },
		{ "lossless: -EAGAIN, no loss", test_lossless },
		{ "lossless: a blocking send waits", test_lossless_blocks },
		{ "embedded in the caller's event_base", test_embedded },
		{ "the tick runs only while a frame is partial",
		  test_tick_only_when_partial },
		{ "a signal does not end a wait", test_recv_signal },
		{ "subscriber gone with a queue", test_gone_with_queue },
		{ "idfilter: unwanted ids never wake", test_idfilter_socket },
		{ "oversized, truncated, bad frames", test_bad_frames },
		{ "stale and busy socket path", test_stale_and_busy_path },
	};
	CU_pSuite s;
	unsigned int fails;
	size_t i;

	snprintf(dir, sizeof(dir), "/tmp/rxsvc-evbus.XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	snprintf(path, sizeof(path), "%s/bus.sock", dir);
	snprintf(spath, sizeof(spath), "%s/bus.stream", dir);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("events bus", NULL, NULL);
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
	unlink(path);
	unlink(spath);
	rmdir(dir);
	return fails ? 1 : 0;
}
