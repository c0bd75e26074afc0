/* SPDX-License-Identifier: MIT */
/*
 * test_call.c - the call state machine driven through the real receive
 * path without a network peer: an endpoint in embedded mode (our own
 * event_base, never dispatched), packets built by hand and fed to
 * rxs_input_packet(), pokes processed with rxs_io_process_attend() and
 * output flushed with rxs_output_flush() as the loop callbacks would.
 * What the engine sends really leaves by sendmmsg() to the address the
 * fed packets came from: a plain UDP socket of ours, so each test also
 * reads and decodes the engine's answers (BUSY, ABORT, ACK, DATA).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <CUnit/Basic.h>

#include "rxsvc/internal.h"

#define SVC	  1
#define EPOCH	  0x80001234u /* random epoch: matched on cid alone */
#define MAX_CALLS 8

struct fx {
	struct event_base *eb;
	struct rxsvc_sock *sock;
	int peer_fd; /* the "client": our own UDP socket */
	union rxs_addr peer_addr;
	union rxs_addr sock_addr;	     /* the endpoint's bound address */
	struct rxsvc_call *calls[MAX_CALLS]; /* from the new-call callback */
	unsigned long ids[MAX_CALLS];
	unsigned int ncalls;
	unsigned int notified; /* notify_rx callbacks */
	unsigned int discarded;
	uint32_t serial; /* our serial counter */
};

static struct fx *cur; /* notify_rx has no user argument */

static void on_rx(struct rxsvc_sock *sock, struct rxsvc_call *call,
		  unsigned long id)
{
	if (cur)
		cur->notified++;
}

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	struct fx *f = arg;

	CU_ASSERT_FATAL(f->ncalls < MAX_CALLS);
	f->calls[f->ncalls] = call;
	f->ids[f->ncalls] = id;
	f->ncalls++;
}

static void on_discard(struct rxsvc_sock *sock, unsigned long id, void *arg)
{
	struct fx *f = arg;

	f->discarded++;
}

/* The value of a counter that must exist. */
static uint64_t counter(struct fx *f, const char *name)
{
	size_t i;

	for (i = 0; rxsvc_stat_name(i); i++)
		if (!strcmp(rxsvc_stat_name(i), name))
			break;
	CU_ASSERT_PTR_NOT_NULL(rxsvc_stat_name(i));
	if (!rxsvc_stat_name(i))
		fprintf(stderr, "no counter named %s\n", name);
	return rxsvc_sock_stat(f->sock, name);
}

static int fx_open(struct fx *f, unsigned int charges)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_srx local;
	socklen_t len = sizeof(f->peer_addr.sin);

	memset(f, 0, sizeof(*f));
	cur = f;
	f->peer_fd = -1;
	f->eb = event_base_new();
	if (!f->eb)
		return -1;
	p.local.addr.sin.sin_family = AF_INET;
	p.local.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.local.addrlen = sizeof(struct sockaddr_in);
	p.base = f->eb;
	p.pool_packets = 512;
	if (rxsvc_sock_open(&p, &f->sock) < 0)
		return -1;
	rxsvc_sock_local(f->sock, &local);
	memcpy(&f->sock_addr, &local.addr, sizeof(f->sock_addr));
	if (rxsvc_sock_add_service(f->sock, SVC) < 0)
		return -1;
	rxsvc_sock_set_accept(f->sock, on_new_call, on_discard, f);
	if (rxsvc_sock_listen(f->sock, 4) < 0)
		return -1;
	for (unsigned int i = 0; i < charges; i++)
		if (rxsvc_sock_charge(f->sock, on_rx, 1001 + i) < 0)
			return -1;
	f->peer_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (f->peer_fd < 0)
		return -1;
	f->peer_addr.sin.sin_family = AF_INET;
	f->peer_addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(f->peer_fd, &f->peer_addr.sa, sizeof(f->peer_addr.sin)) < 0 ||
	    getsockname(f->peer_fd, &f->peer_addr.sa, &len) < 0)
		return -1;
	return 0;
}

/* The loop's end-of-callback work: pokes, output, releases. */
static void fx_pump(struct fx *f)
{
	rxs_io_process_attend(f->sock);
	rxs_output_flush(f->sock);
	rxs_release_drain(f->sock);
}

static void fx_close(struct fx *f)
{
	for (unsigned int i = 0; i < f->ncalls; i++)
		rxsvc_call_end(f->calls[i]);
	if (f->sock) {
		fx_pump(f);
		rxsvc_sock_close(f->sock);
	}
	if (f->eb)
		event_base_free(f->eb);
	if (f->peer_fd >= 0)
		close(f->peer_fd);
	cur = NULL;
}

#define FX_OPEN(f, n)                        \
	do {                                 \
		if (fx_open((f), (n)) < 0) { \
			CU_FAIL("fixture");  \
			fx_close(f);         \
			return;              \
		}                            \
	} while (0)

/* A client-side header for call @call on channel of @cid. */
static struct rxs_hdr chdr(struct fx *f, uint32_t cid, uint32_t call,
			   uint8_t type, uint32_t seq, uint8_t flags)
{
	struct rxs_hdr h = { 0 };

	h.epoch = EPOCH;
	h.cid = cid;
	h.call_number = call;
	h.type = type;
	h.seq = seq;
	h.serial = ++f->serial;
	h.flags = flags;
	h.service_id = SVC;
	return h;
}

/* Feed one datagram of @len bytes (header + body) from our socket. */
static void feed_raw(struct fx *f, const uint8_t *bytes, size_t len)
{
	struct rxs_rxpkt *pkt = rxs_rxpkt_alloc(&f->sock->rxpool);

	CU_ASSERT_PTR_NOT_NULL_FATAL(pkt);
	CU_ASSERT_FATAL(len <= sizeof(pkt->buf));
	pkt->next = NULL;
	pkt->from = f->peer_addr;
	pkt->fromlen = sizeof(f->peer_addr.sin);
	pkt->len = (uint32_t)len;
	memcpy(pkt->buf, bytes, len);
	rxs_input_packet(f->sock, pkt);
	fx_pump(f);
}

static void feed(struct fx *f, const struct rxs_hdr *h, const void *body,
		 size_t blen)
{
	uint8_t buf[RXS_HEADER_SIZE + 2048];

	CU_ASSERT_FATAL(blen <= sizeof(buf) - RXS_HEADER_SIZE);
	rxs_hdr_encode(buf, h);
	if (blen)
		memcpy(buf + RXS_HEADER_SIZE, body, blen);
	feed_raw(f, buf, RXS_HEADER_SIZE + blen);
}

static void feed_data(struct fx *f, uint32_t cid, uint32_t call, uint32_t seq,
		      uint8_t flags, const char *payload)
{
	struct rxs_hdr h = chdr(f, cid, call, RXS_PKT_DATA, seq,
				RXS_CLIENT_INITIATED | flags);

	feed(f, &h, payload, strlen(payload));
}

/* Read what the engine sent us; 0 on timeout (@ms). */
static ssize_t peer_recv(struct fx *f, uint8_t *buf, size_t size, int ms)
{
	struct pollfd pfd = { .fd = f->peer_fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return 0;
	return recv(f->peer_fd, buf, size, MSG_DONTWAIT);
}

/* Read the next packet of @type (skipping others); its length or 0. */
static ssize_t peer_expect(struct fx *f, uint8_t type, struct rxs_hdr *h,
			   uint8_t *buf, size_t size)
{
	for (int i = 0; i < 16; i++) {
		ssize_t n = peer_recv(f, buf, size, 1000);

		if (n <= 0)
			return 0;
		if (rxs_hdr_decode(buf, (size_t)n, h) < 0)
			continue;
		if (h->type == type)
			return n;
	}
	return 0;
}

/* Nothing at all waiting for us. */
static bool peer_silent(struct fx *f)
{
	uint8_t buf[64];

	return peer_recv(f, buf, sizeof(buf), 50) == 0;
}

/* ---- tests ---- */

static void test_new_call_takes_charge(void)
{
	struct fx f;
	struct rxsvc_call *call;
	char buf[64];
	unsigned int flags = RXSVC_RECV_NONBLOCK;
	int32_t code = 77;
	int n;

	FX_OPEN(&f, 1);
	CU_ASSERT_EQUAL(rxsvc_sock_charged(f.sock), 1);
	feed_data(&f, 0x100, 1, 1, RXS_LAST_PACKET, "hello");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	call = f.calls[0];
	CU_ASSERT_EQUAL(f.ids[0], 1001);
	CU_ASSERT_EQUAL(rxsvc_call_user_id(call), 1001);
	CU_ASSERT_EQUAL(rxsvc_call_service_id(call), SVC);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_SERVER_ACK_REQUEST);
	CU_ASSERT_EQUAL(rxsvc_call_completion(call), RXSVC_COMPLETE_NONE);
	CU_ASSERT_EQUAL(rxsvc_sock_charged(f.sock), 0);
	CU_ASSERT(f.notified >= 1);
	CU_ASSERT_EQUAL(counter(&f, "calls_service"), 1);
	CU_ASSERT_EQUAL(counter(&f, "data_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "pkts_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "bad_packets"), 0);
	{
		struct rxsvc_srx srx;

		rxsvc_call_peer(call, &srx);
		CU_ASSERT_EQUAL(srx.addr.sin.sin_port,
				f.peer_addr.sin.sin_port);
	}
	n = rxsvc_call_recv(call, buf, sizeof(buf), &flags, &code);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(flags, RXSVC_RECV_END);
	CU_ASSERT_EQUAL(code, 0);
	CU_ASSERT_EQUAL(memcmp(buf, "hello", 5), 0);
	/* the end again: 0 bytes, still END */
	flags = RXSVC_RECV_NONBLOCK;
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, buf, sizeof(buf), &flags, &code),
			0);
	CU_ASSERT_EQUAL(flags, RXSVC_RECV_END);
	fx_pump(&f);
	fx_close(&f);
}

/* Request in, reply out, final ACK: the whole server call. */
static void test_service_call_complete(void)
{
	struct fx f;
	struct rxsvc_call *call;
	struct iovec iov = { .iov_base = "world!", .iov_len = 6 };
	uint8_t buf[2048];
	struct rxs_hdr h;
	ssize_t n;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x104, 1, 1, RXS_LAST_PACKET, "ping");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	call = f.calls[0];
	{
		char rb[16];
		unsigned int fl = RXSVC_RECV_NONBLOCK;

		CU_ASSERT_EQUAL(
			rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL), 4);
		CU_ASSERT_EQUAL(fl, RXSVC_RECV_END);
	}
	CU_ASSERT_EQUAL(rxsvc_call_send(call, &iov, 1, 6, RXSVC_SEND_NONBLOCK),
			6);
	fx_pump(&f);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_SERVER_AWAIT_ACK);
	n = peer_expect(&f, RXS_PKT_DATA, &h, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, RXS_HEADER_SIZE + 6);
	CU_ASSERT_EQUAL(h.epoch, EPOCH);
	CU_ASSERT_EQUAL(h.cid, 0x104);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.seq, 1);
	CU_ASSERT(h.serial != 0);
	CU_ASSERT_EQUAL(h.service_id, SVC);
	CU_ASSERT(h.flags & RXS_LAST_PACKET);
	CU_ASSERT_FALSE(h.flags & RXS_CLIENT_INITIATED);
	/* §4.7: never REQUEST_ACK on the last packet of a reply */
	CU_ASSERT_FALSE(h.flags & RXS_REQUEST_ACK);
	CU_ASSERT_EQUAL(memcmp(buf + RXS_HEADER_SIZE, "world!", 6), 0);
	/* the client's final ACK: firstPacket 2 hard-ACKs the reply */
	{
		struct rxs_ack a = { 0 };
		uint8_t body[64];
		size_t blen;
		struct rxs_hdr ah =
			chdr(&f, 0x104, 1, RXS_PKT_ACK, 0,
			     RXS_CLIENT_INITIATED | RXS_SLOW_START_OK);

		a.first_packet = 2;
		a.previous_packet = 1;
		a.reason = RXS_ACK_IDLE;
		a.max_mtu = 5692;
		a.if_mtu = 1444;
		a.rwind = 32;
		a.jumbo_max = 4;
		blen = rxs_ack_encode(body, sizeof(body), &a, NULL);
		feed(&f, &ah, body, blen);
	}
	CU_ASSERT_EQUAL(rxsvc_call_completion(call), RXSVC_COMPLETE_SUCCEEDED);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_COMPLETE);
	CU_ASSERT_EQUAL(counter(&f, "calls_succeeded"), 1);
	/* a retransmitted request DATA for the finished call is stale */
	feed_data(&f, 0x104, 1, 1, RXS_LAST_PACKET, "ping");
	CU_ASSERT_EQUAL(f.ncalls, 1);
	fx_close(&f);
}

static void test_busy_when_not_charged(void)
{
	struct fx f;
	uint8_t buf[256];
	struct rxs_hdr h;
	ssize_t n;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, RXS_LAST_PACKET, "one");
	CU_ASSERT_EQUAL(f.ncalls, 1);
	CU_ASSERT_EQUAL(counter(&f, "busy_out"), 0);
	/* a second connection, nothing charged */
	feed_data(&f, 0x200, 1, 1, RXS_LAST_PACKET, "two");
	CU_ASSERT_EQUAL(f.ncalls, 1);
	CU_ASSERT_EQUAL(counter(&f, "calls_busy_refused"), 1);
	CU_ASSERT_EQUAL(counter(&f, "busy_out"), 1);
	n = peer_expect(&f, RXS_PKT_BUSY, &h, buf, sizeof(buf));
	/* header only, CLIENT_INITIATED cleared, serial 0 (§5.2) */
	CU_ASSERT_EQUAL(n, RXS_HEADER_SIZE);
	CU_ASSERT_EQUAL(h.type, RXS_PKT_BUSY);
	CU_ASSERT_EQUAL(h.flags & RXS_CLIENT_INITIATED, 0);
	CU_ASSERT_EQUAL(h.epoch, EPOCH);
	CU_ASSERT_EQUAL(h.cid, 0x200);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.seq, 0);
	CU_ASSERT_EQUAL(h.serial, 0);
	CU_ASSERT_EQUAL(h.service_id, SVC);
	/* recharge: the client's retransmission now gets the call */
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 2001), 0);
	feed_data(&f, 0x200, 1, 1, RXS_LAST_PACKET, "two");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 2);
	CU_ASSERT_EQUAL(f.ids[1], 2001);
	CU_ASSERT_EQUAL(rxsvc_call_state(f.calls[1]),
			RXSVC_CALL_SERVER_ACK_REQUEST);
	CU_ASSERT_EQUAL(counter(&f, "busy_out"), 1);
	fx_close(&f);
}

/* A duplicate charge ID is refused; the backlog caps charges. */
static void test_charge_limits(void)
{
	struct fx f;

	FX_OPEN(&f, 1);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 1001), -EEXIST);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 1002), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 1003), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 1004), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(f.sock, on_rx, 1005), -ENOBUFS);
	CU_ASSERT_EQUAL(rxsvc_sock_charged(f.sock), 4);
	fx_close(&f);
	/* the four unused preallocations were discarded on close */
	CU_ASSERT_EQUAL(f.discarded, 4);
}

static void test_unknown_service(void)
{
	struct fx f;
	uint8_t buf[256];
	struct rxs_hdr h = { 0 }, in;
	ssize_t n;

	FX_OPEN(&f, 1);
	in = chdr(&f, 0x300, 1, RXS_PKT_DATA, 1,
		  RXS_CLIENT_INITIATED | RXS_LAST_PACKET);
	in.service_id = 7;
	feed(&f, &in, "x", 1);
	CU_ASSERT_EQUAL(f.ncalls, 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charged(f.sock), 1);
	CU_ASSERT_EQUAL(counter(&f, "calls_unknown_service"), 1);
	CU_ASSERT_EQUAL(counter(&f, "abort_out"), 1);
	n = peer_expect(&f, RXS_PKT_ABORT, &h, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, RXS_HEADER_SIZE + 4);
	CU_ASSERT_EQUAL(h.flags & RXS_CLIENT_INITIATED, 0);
	CU_ASSERT_EQUAL(h.cid, 0x300);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.service_id, 7);
	CU_ASSERT_EQUAL((int32_t)rxs_get_be32(buf + RXS_HEADER_SIZE),
			RX_INVALID_OPERATION);
	/* an ABORT for an unknown service is never answered (§5.1) */
	in = chdr(&f, 0x304, 1, RXS_PKT_ABORT, 0, RXS_CLIENT_INITIATED);
	in.service_id = 7;
	{
		uint8_t code[4];

		rxs_put_be32(code, (uint32_t)-1);
		feed(&f, &in, code, 4);
	}
	CU_ASSERT_EQUAL(counter(&f, "abort_out"), 1);
	CU_ASSERT_TRUE(peer_silent(&f));
	fx_close(&f);
}

static void test_garbage_counted(void)
{
	struct fx f;
	struct rxs_hdr h;
	uint8_t big[RXS_MAX_PACKET_SIZE + 1];
	uint64_t bad = 0;

	FX_OPEN(&f, 2);
	/* a live call to aim at */
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);

	/* short header: every length below 28 */
	for (size_t len = 0; len < RXS_HEADER_SIZE; len++) {
		uint8_t b[RXS_HEADER_SIZE] = { 0 };

		feed_raw(&f, b, len);
	}
	CU_ASSERT_EQUAL(counter(&f, "bad_short_hdr"), RXS_HEADER_SIZE);
	bad += RXS_HEADER_SIZE;
	CU_ASSERT_EQUAL(counter(&f, "bad_packets"), bad);

	/* unknown type 12 and 200 */
	h = chdr(&f, 0x100, 1, 12, 0, RXS_CLIENT_INITIATED);
	feed(&f, &h, NULL, 0);
	h = chdr(&f, 0x100, 1, 200, 0, RXS_CLIENT_INITIATED);
	feed(&f, &h, NULL, 0);
	CU_ASSERT_EQUAL(counter(&f, "bad_bad_type"), 2);
	CU_ASSERT_EQUAL(counter(&f, "unknown_type_in"), 2);
	bad += 2;

	/* ACK for an unknown call: dropped silently */
	h = chdr(&f, 0x500, 1, RXS_PKT_ACK, 0, RXS_CLIENT_INITIATED);
	feed(&f, &h, NULL, 0);
	CU_ASSERT_EQUAL(counter(&f, "rx_drop_nocall"), 1);
	/* ...and for a client connection we do not have */
	h = chdr(&f, 0x500, 1, RXS_PKT_ACK, 0, 0);
	feed(&f, &h, NULL, 0);
	CU_ASSERT_EQUAL(counter(&f, "rx_drop_nocall"), 2);

	/* ABORT with a short body on the live call: ignored, counted */
	for (size_t blen = 0; blen < 4; blen++) {
		uint8_t code[4] = { 0xff, 0xff, 0xfe, 0x39 };

		h = chdr(&f, 0x100, 1, RXS_PKT_ABORT, 0, RXS_CLIENT_INITIATED);
		feed(&f, &h, code, blen);
	}
	CU_ASSERT_EQUAL(counter(&f, "bad_short_abort"), 4);
	bad += 4;
	CU_ASSERT_EQUAL(rxsvc_call_completion(f.calls[0]), RXSVC_COMPLETE_NONE);

	/* short ACK body on the live call */
	{
		uint8_t body[17] = { 0 };

		h = chdr(&f, 0x100, 1, RXS_PKT_ACK, 0, RXS_CLIENT_INITIATED);
		feed(&f, &h, body, sizeof(body));
		/* nAcks 200 with 10 present */
		h = chdr(&f, 0x100, 1, RXS_PKT_ACK, 0, RXS_CLIENT_INITIATED);
		{
			uint8_t b2[28] = { 0 };

			b2[17] = 200;
			feed(&f, &h, b2, sizeof(b2));
		}
	}
	CU_ASSERT_EQUAL(counter(&f, "bad_short_ack"), 2);
	bad += 2;

	/* oversized datagram */
	memset(big, 0, sizeof(big));
	h = chdr(&f, 0x100, 1, RXS_PKT_DATA, 2, RXS_CLIENT_INITIATED);
	rxs_hdr_encode(big, &h);
	feed_raw(&f, big, sizeof(big));
	CU_ASSERT_EQUAL(counter(&f, "bad_too_big"), 1);
	bad++;

	/* DATA with seq 0 starting a call */
	h = chdr(&f, 0x600, 1, RXS_PKT_DATA, 0, RXS_CLIENT_INITIATED);
	feed(&f, &h, "z", 1);
	CU_ASSERT_EQUAL(counter(&f, "bad_zero_seq"), 1);
	bad++;

	/* DATA on call number 0 */
	h = chdr(&f, 0x100, 0, RXS_PKT_DATA, 1, RXS_CLIENT_INITIATED);
	feed(&f, &h, "z", 1);
	CU_ASSERT_EQUAL(counter(&f, "bad_zero_call"), 1);
	bad++;

	/* jumbo flag on a datagram too short to hold one */
	h = chdr(&f, 0x100, 1, RXS_PKT_DATA, 2,
		 RXS_CLIENT_INITIATED | RXS_JUMBO_PACKET);
	feed(&f, &h, "short", 5);
	CU_ASSERT_EQUAL(counter(&f, "bad_bad_jumbo"), 1);
	bad++;

	/* a new call whose first DATA is far beyond the window (§1.5) */
	h = chdr(&f, 0x700, 1, RXS_PKT_DATA, 1000, RXS_CLIENT_INITIATED);
	feed(&f, &h, "z", 1);
	CU_ASSERT_EQUAL(counter(&f, "rx_drop_stale"), 1);
	CU_ASSERT_EQUAL(f.ncalls, 1);

	CU_ASSERT_EQUAL(counter(&f, "bad_packets"), bad);
	/* none of that disturbed the live call or took the charge */
	CU_ASSERT_EQUAL(rxsvc_call_state(f.calls[0]),
			RXSVC_CALL_SERVER_RECV_REQUEST);
	CU_ASSERT_EQUAL(rxsvc_sock_charged(f.sock), 1);
	/* and the call still works */
	feed_data(&f, 0x100, 1, 2, RXS_LAST_PACKET, "def");
	CU_ASSERT_EQUAL(rxsvc_call_state(f.calls[0]),
			RXSVC_CALL_SERVER_ACK_REQUEST);
	{
		char rb[16];
		unsigned int fl = RXSVC_RECV_NONBLOCK;

		CU_ASSERT_EQUAL(
			rxsvc_call_recv(f.calls[0], rb, sizeof(rb), &fl, NULL),
			6);
		CU_ASSERT_EQUAL(fl, RXSVC_RECV_END);
		CU_ASSERT_EQUAL(memcmp(rb, "abcdef", 6), 0);
	}
	fx_close(&f);
}

static void test_version(void)
{
	struct fx f;
	struct rxs_hdr h, r;
	uint8_t buf[256];
	ssize_t n;

	FX_OPEN(&f, 1);
	/* a keepalive (no CLIENT_INITIATED): ignored */
	h = chdr(&f, 0, 0, RXS_PKT_VERSION, 0, RXS_LAST_PACKET);
	feed(&f, &h, "", 1);
	CU_ASSERT_EQUAL(counter(&f, "version_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "version_out"), 0);
	CU_ASSERT_TRUE(peer_silent(&f));
	/* a query: answered with the header echoed, 65-byte body (§5.4) */
	h = chdr(&f, 0x44, 5, RXS_PKT_VERSION, 6, RXS_CLIENT_INITIATED);
	h.service_id = 99;
	feed(&f, &h, NULL, 0);
	CU_ASSERT_EQUAL(counter(&f, "version_out"), 1);
	n = peer_expect(&f, RXS_PKT_VERSION, &r, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, RXS_HEADER_SIZE + RXS_VERSION_LEN);
	CU_ASSERT_EQUAL(r.flags & RXS_CLIENT_INITIATED, 0);
	CU_ASSERT_EQUAL(r.cid, 0x44);
	CU_ASSERT_EQUAL(r.call_number, 5);
	CU_ASSERT_EQUAL(r.service_id, 99);
	fx_close(&f);
}

static void test_duplicate_data(void)
{
	struct fx f;
	struct rxs_hdr h;
	struct rxs_ack a;
	uint8_t buf[512];
	ssize_t n;
	uint32_t dup_serial;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	CU_ASSERT_EQUAL(counter(&f, "data_dup"), 0);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	dup_serial = f.serial;
	CU_ASSERT_EQUAL(counter(&f, "data_dup"), 1);
	CU_ASSERT_EQUAL(counter(&f, "data_in"), 1);
	/* answered at once with ACK DUPLICATE naming the duplicate */
	n = peer_expect(&f, RXS_PKT_ACK, &h, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > RXS_HEADER_SIZE);
	CU_ASSERT_EQUAL(h.flags & RXS_CLIENT_INITIATED, 0);
	CU_ASSERT_EQUAL(h.cid, 0x100);
	CU_ASSERT_EQUAL(h.seq, 0);
	CU_ASSERT_EQUAL_FATAL(rxs_ack_decode(buf + RXS_HEADER_SIZE,
					     (size_t)n - RXS_HEADER_SIZE, &a),
			      0);
	CU_ASSERT_EQUAL(a.reason, RXS_ACK_DUPLICATE);
	CU_ASSERT_EQUAL(a.serial, dup_serial);
	/* every ACK we send carries the pad and the full trailer */
	CU_ASSERT_EQUAL((size_t)n - RXS_HEADER_SIZE,
			RXS_ACK_BASE_LEN + a.n_acks + 3 + RXS_ACK_TRAILER_LEN);
	CU_ASSERT_TRUE(a.has_trailer);
	CU_ASSERT(a.rwind >= 1);
	/* a second copy of an out-of-sequence packet is a duplicate too */
	feed_data(&f, 0x100, 1, 3, 0, "ghi");
	feed_data(&f, 0x100, 1, 3, 0, "ghi");
	CU_ASSERT_EQUAL(counter(&f, "data_dup"), 2);
	CU_ASSERT_EQUAL(counter(&f, "data_oos"), 1);
	CU_ASSERT_EQUAL(counter(&f, "data_in"), 2);
	fx_close(&f);
}

static void test_requested_ack(void)
{
	struct fx f;
	struct rxs_hdr h;
	struct rxs_ack a;
	uint8_t buf[512];
	ssize_t n;
	uint32_t serial;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, RXS_REQUEST_ACK, "abc");
	serial = f.serial;
	n = peer_expect(&f, RXS_PKT_ACK, &h, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > RXS_HEADER_SIZE);
	CU_ASSERT_EQUAL_FATAL(rxs_ack_decode(buf + RXS_HEADER_SIZE,
					     (size_t)n - RXS_HEADER_SIZE, &a),
			      0);
	CU_ASSERT_EQUAL(a.reason, RXS_ACK_REQUESTED);
	CU_ASSERT_EQUAL(a.serial, serial);
	CU_ASSERT_EQUAL(a.previous_packet, 1);
	/* seq 1 is held: either hard-ACKed or soft-ACKed */
	CU_ASSERT(a.first_packet == 2 ||
		  (a.first_packet == 1 && a.n_acks >= 1 && a.acks[0] == 1));
	CU_ASSERT_TRUE(a.has_trailer);
	CU_ASSERT(a.max_mtu >= 1444);
	CU_ASSERT(a.jumbo_max >= 1);
	fx_close(&f);
}

static void test_out_of_order_recv(void)
{
	struct fx f;
	struct rxsvc_call *call;
	char rb[64];
	unsigned int fl;
	int n;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	call = f.calls[0];
	feed_data(&f, 0x100, 1, 3, RXS_LAST_PACKET, "ghi");
	CU_ASSERT_EQUAL(counter(&f, "data_oos"), 1);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_SERVER_RECV_REQUEST);
	/* only the in-order part is readable */
	fl = RXSVC_RECV_NONBLOCK;
	n = rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(fl, RXSVC_RECV_MORE);
	fl = RXSVC_RECV_NONBLOCK;
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL),
			-EAGAIN);
	fx_pump(&f);
	feed_data(&f, 0x100, 1, 2, 0, "def");
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_SERVER_ACK_REQUEST);
	/* read in small pieces */
	fl = RXSVC_RECV_NONBLOCK;
	n = rxsvc_call_recv(call, rb, 2, &fl, NULL);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(fl, RXSVC_RECV_MORE);
	CU_ASSERT_EQUAL(memcmp(rb, "de", 2), 0);
	fl = RXSVC_RECV_NONBLOCK | RXSVC_RECV_WAITALL;
	n = rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(fl, RXSVC_RECV_END);
	CU_ASSERT_EQUAL(memcmp(rb, "fghi", 4), 0);
	/* DATA after the last one is refused */
	feed_data(&f, 0x100, 1, 4, 0, "jkl");
	CU_ASSERT_EQUAL(counter(&f, "data_after_last"), 1);
	fx_close(&f);
}

static void test_remote_abort(void)
{
	struct fx f;
	struct rxsvc_call *call;
	struct rxs_hdr h;
	uint8_t code[4];
	char rb[16];
	unsigned int fl = RXSVC_RECV_NONBLOCK;
	int32_t ac = 0;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	call = f.calls[0];
	CU_ASSERT_TRUE(peer_silent(&f));
	rxs_put_be32(code, (uint32_t)RXGEN_OPCODE);
	h = chdr(&f, 0x100, 1, RXS_PKT_ABORT, 0, RXS_CLIENT_INITIATED);
	feed(&f, &h, code, 4);
	CU_ASSERT_EQUAL(rxsvc_call_completion(call),
			RXSVC_COMPLETE_REMOTELY_ABORTED);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_COMPLETE);
	CU_ASSERT_EQUAL(rxsvc_call_abort_code(call), RXGEN_OPCODE);
	CU_ASSERT_EQUAL(counter(&f, "abort_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "calls_remote_abort"), 1);
	/* the data that arrived can still be read, then the error */
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, &ac), 3);
	fl = RXSVC_RECV_NONBLOCK;
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, &ac),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(ac, RXGEN_OPCODE);
	/* never answer an ABORT with an ABORT, not even on end */
	rxsvc_call_end(call);
	f.ncalls = 0;
	fx_pump(&f);
	CU_ASSERT_EQUAL(counter(&f, "abort_out"), 0);
	CU_ASSERT_TRUE(peer_silent(&f));
	fx_close(&f);
}

/* Ending an unfinished service call aborts it towards the peer. */
static void test_end_aborts(void)
{
	struct fx f;
	struct rxs_hdr h;
	uint8_t buf[256];
	ssize_t n;

	FX_OPEN(&f, 1);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	rxsvc_call_end(f.calls[0]);
	f.ncalls = 0;
	fx_pump(&f);
	n = peer_expect(&f, RXS_PKT_ABORT, &h, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, RXS_HEADER_SIZE + 4);
	CU_ASSERT_EQUAL(h.cid, 0x100);
	CU_ASSERT_EQUAL(h.call_number, 1);
	CU_ASSERT_EQUAL(h.flags & RXS_CLIENT_INITIATED, 0);
	CU_ASSERT((int32_t)rxs_get_be32(buf + RXS_HEADER_SIZE) < 0);
	CU_ASSERT_EQUAL(counter(&f, "calls_local_abort"), 1);
	/* the client retransmits: the ABORT is repeated, no new call */
	feed_data(&f, 0x100, 1, 2, RXS_LAST_PACKET, "def");
	CU_ASSERT_EQUAL(f.ncalls, 0);
	n = peer_expect(&f, RXS_PKT_ABORT, &h, buf, sizeof(buf));
	CU_ASSERT_EQUAL(n, RXS_HEADER_SIZE + 4);
	fx_close(&f);
}

/*
 * A retransmitted jumbogram whose first sub-packet is a duplicate: the
 * first sub-packet's buffer (the datagram's own) is recycled while the
 * later sub-packets are still copied out of it.  Their bytes must arrive
 * intact (and under ASan no read of a recycled buffer may happen).
 */
static void test_jumbo_retransmitted(void)
{
	struct fx f;
	size_t last_len = 3000, total = 1412 + last_len;
	size_t dlen = RXS_HEADER_SIZE + 1412 + RXS_JUMBO_HDRLEN + last_len;
	uint8_t *dg = malloc(dlen), *got = malloc(total + 16), *p;
	struct rxs_hdr h;
	unsigned int fl = RXSVC_RECV_NONBLOCK | RXSVC_RECV_WAITALL;
	int n;

	FX_OPEN(&f, 1);
	/* seq 1 alone first */
	h = chdr(&f, 0x100, 1, RXS_PKT_DATA, 1, RXS_CLIENT_INITIATED);
	memset(dg, 0x11, 1412);
	feed(&f, &h, dg, 1412);
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	/* then seq 1 + seq 2 (LAST, 3000 bytes) as one jumbogram */
	h = chdr(&f, 0x100, 1, RXS_PKT_DATA, 1,
		 RXS_CLIENT_INITIATED | RXS_JUMBO_PACKET);
	rxs_hdr_encode(dg, &h);
	p = dg + RXS_HEADER_SIZE;
	memset(p, 0x11, 1412);
	p += 1412;
	p[0] = RXS_CLIENT_INITIATED | RXS_LAST_PACKET;
	p[1] = p[2] = p[3] = 0;
	p += RXS_JUMBO_HDRLEN;
	for (size_t i = 0; i < last_len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	f.serial++; /* the second sub-packet's serial */
	feed_raw(&f, dg, dlen);
	CU_ASSERT_EQUAL(counter(&f, "data_dup"), 1);
	CU_ASSERT_EQUAL(counter(&f, "jumbo_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "bad_bad_jumbo"), 0);
	CU_ASSERT_EQUAL(rxsvc_call_state(f.calls[0]),
			RXSVC_CALL_SERVER_ACK_REQUEST);
	n = rxsvc_call_recv(f.calls[0], got, total + 16, &fl, NULL);
	CU_ASSERT_EQUAL(n, (int)total);
	CU_ASSERT_EQUAL(fl, RXSVC_RECV_END);
	if (n == (int)total) {
		size_t bad = 0;

		for (size_t i = 0; i < 1412; i++)
			bad += got[i] != 0x11;
		for (size_t i = 0; i < last_len; i++)
			bad += got[1412 + i] != (uint8_t)(i * 7 + 3);
		CU_ASSERT_EQUAL(bad, 0);
	}
	free(dg);
	free(got);
	fx_close(&f);
}

/* A new call number on a busy channel displaces the old call (§1.5). */
static void test_new_call_number(void)
{
	struct fx f;

	FX_OPEN(&f, 2);
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 1);
	feed_data(&f, 0x100, 2, 1, RXS_LAST_PACKET, "xyz");
	CU_ASSERT_EQUAL(rxsvc_call_completion(f.calls[0]),
			RXSVC_COMPLETE_LOCALLY_ABORTED);
	CU_ASSERT_EQUAL_FATAL(f.ncalls, 2);
	CU_ASSERT_EQUAL(rxsvc_call_state(f.calls[1]),
			RXSVC_CALL_SERVER_ACK_REQUEST);
	/* an older call number is stale */
	feed_data(&f, 0x100, 1, 1, 0, "abc");
	CU_ASSERT_EQUAL(f.ncalls, 2);
	CU_ASSERT(counter(&f, "rx_drop_stale") >= 1);
	fx_close(&f);
}

/* Client side: our DATA goes out; BUSY and a reply are handled. */
static void client_call(struct fx *f, unsigned long id,
			struct rxsvc_call **callp, struct rxs_hdr *out)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct iovec iov = { .iov_base = "req", .iov_len = 3 };
	uint8_t buf[256];
	ssize_t n;

	cp.peer.service_id = 55;
	cp.peer.addrlen = sizeof(struct sockaddr_in);
	memcpy(&cp.peer.addr, &f->peer_addr, sizeof(f->peer_addr.sin));
	cp.user_call_id = id;
	*callp = NULL;
	CU_ASSERT_EQUAL_FATAL(rxsvc_call_begin(f->sock, &cp, callp), 0);
	CU_ASSERT_EQUAL(
		rxsvc_call_send(*callp, &iov, 1, 3, RXSVC_SEND_NONBLOCK), 3);
	fx_pump(f);
	n = peer_expect(f, RXS_PKT_DATA, out, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(n, RXS_HEADER_SIZE + 3);
	CU_ASSERT(out->flags & RXS_CLIENT_INITIATED);
	CU_ASSERT(out->flags & RXS_LAST_PACKET);
	CU_ASSERT_EQUAL(out->seq, 1);
	CU_ASSERT_EQUAL(out->service_id, 55);
	CU_ASSERT(out->epoch & RXS_EPOCH_RANDOM);
	CU_ASSERT_EQUAL(memcmp(buf + RXS_HEADER_SIZE, "req", 3), 0);
}

static void test_client_busy(void)
{
	struct fx f;
	struct rxsvc_call *call;
	struct rxs_hdr out, h;
	char rb[16];
	unsigned int fl = RXSVC_RECV_NONBLOCK;

	FX_OPEN(&f, 0);
	client_call(&f, 77, &call, &out);
	if (!call)
		goto done;
	h = out;
	h.type = RXS_PKT_BUSY;
	h.flags = 0;
	h.seq = 0;
	h.serial = 0;
	feed(&f, &h, NULL, 0);
	CU_ASSERT_EQUAL(rxsvc_call_completion(call), RXSVC_COMPLETE_BUSY);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL),
			-EBUSY);
	CU_ASSERT_EQUAL(counter(&f, "busy_in"), 1);
	CU_ASSERT_EQUAL(counter(&f, "calls_busy"), 1);
	rxsvc_call_end(call);
done:
	fx_close(&f);
}

static void test_client_reply(void)
{
	struct fx f;
	struct rxsvc_call *call;
	struct rxs_hdr out, h;
	char rb[16];
	unsigned int fl = RXSVC_RECV_NONBLOCK;
	uint8_t buf[256];
	struct rxs_ack a;
	ssize_t n;

	FX_OPEN(&f, 0);
	client_call(&f, 78, &call, &out);
	if (!call)
		goto done;
	/* the reply implicitly ACKs the request (§3.1) */
	h = out;
	h.flags = RXS_LAST_PACKET;
	h.serial = 1;
	feed(&f, &h, "reply", 5);
	CU_ASSERT_EQUAL(rxsvc_call_state(call), RXSVC_CALL_CLIENT_RECV_REPLY);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL), 5);
	CU_ASSERT_EQUAL(fl, RXSVC_RECV_END);
	CU_ASSERT_EQUAL(memcmp(rb, "reply", 5), 0);
	fx_pump(&f);
	CU_ASSERT_EQUAL(rxsvc_call_completion(call), RXSVC_COMPLETE_SUCCEEDED);
	/* the final ACK is held back a moment for the channel's next call */
	CU_ASSERT(peer_silent(&f));
	rxs_conn_final_acks_run(f.sock, UINT64_MAX, false);
	rxs_output_flush(f.sock);
	/* then it hard-ACKs the whole reply (§4.9) */
	n = peer_expect(&f, RXS_PKT_ACK, &h, buf, sizeof(buf));
	CU_ASSERT_FATAL(n > RXS_HEADER_SIZE);
	CU_ASSERT(h.flags & RXS_CLIENT_INITIATED);
	CU_ASSERT_EQUAL_FATAL(rxs_ack_decode(buf + RXS_HEADER_SIZE,
					     (size_t)n - RXS_HEADER_SIZE, &a),
			      0);
	CU_ASSERT_EQUAL(a.first_packet, 2);
	CU_ASSERT_EQUAL(a.n_acks, 0);
	CU_ASSERT_EQUAL(a.reason, RXS_ACK_IDLE);
	CU_ASSERT_EQUAL(counter(&f, "final_acks_out"), 1);
	rxsvc_call_end(call);
	fx_pump(&f);
	/* the reply retransmitted after the call is gone: the final ACK
	 * is sent again */
	h = out;
	h.flags = RXS_LAST_PACKET;
	h.serial = 2;
	feed(&f, &h, "reply", 5);
	CU_ASSERT_EQUAL(counter(&f, "final_ack_resent"), 1);
done:
	fx_close(&f);
}

/* The channel's next call ACKs the last reply: no separate final ACK. */
static void test_client_final_ack_implicit(void)
{
	struct fx f;
	struct rxsvc_call *call, *call2;
	struct rxs_hdr out, out2, h;
	char rb[16];
	unsigned int fl = RXSVC_RECV_NONBLOCK;

	FX_OPEN(&f, 0);
	client_call(&f, 79, &call, &out);
	if (!call)
		goto done;
	h = out;
	h.flags = RXS_LAST_PACKET;
	h.serial = 1;
	feed(&f, &h, "reply", 5);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, rb, sizeof(rb), &fl, NULL), 5);
	fx_pump(&f);
	CU_ASSERT_EQUAL(rxsvc_call_completion(call), RXSVC_COMPLETE_SUCCEEDED);
	rxsvc_call_end(call);
	fx_pump(&f);
	client_call(&f, 80, &call2, &out2);
	if (!call2)
		goto done;
	/* same connection and channel, next call number */
	CU_ASSERT_EQUAL(out2.cid, out.cid);
	CU_ASSERT_EQUAL(out2.call_number, out.call_number + 1);
	rxs_conn_final_acks_run(f.sock, UINT64_MAX, false);
	rxs_output_flush(f.sock);
	CU_ASSERT(peer_silent(&f));
	CU_ASSERT_EQUAL(counter(&f, "final_acks_implicit"), 1);
	CU_ASSERT_EQUAL(counter(&f, "final_acks_out"), 0);
	rxsvc_call_end(call2);
done:
	fx_close(&f);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "new call takes the charge", test_new_call_takes_charge },
		{ "service call to completion", test_service_call_complete },
		{ "BUSY when nothing charged", test_busy_when_not_charged },
		{ "charge limits", test_charge_limits },
		{ "unknown service", test_unknown_service },
		{ "garbage counted", test_garbage_counted },
		{ "VERSION", test_version },
		{ "duplicate DATA", test_duplicate_data },
		{ "requested ACK", test_requested_ack },
		{ "out-of-order then recv", test_out_of_order_recv },
		{ "remote ABORT", test_remote_abort },
		{ "end aborts", test_end_aborts },
		{ "new call number", test_new_call_number },
		{ "retransmitted jumbogram", test_jumbo_retransmitted },
		{ "client BUSY", test_client_busy },
		{ "client reply", test_client_reply },
		{ "final ACK implicit in the next call",
		  test_client_final_ack_implicit },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("call", NULL, NULL);
	if (!s)
		goto error;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			goto error;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto error;
	/* read before CU_cleanup_registry(), which clears it */
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
error:
	CU_cleanup_registry();
	return 99;
}
