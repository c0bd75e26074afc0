/* SPDX-License-Identifier: MIT */
/*
 * fuzz_packet.c - whole datagrams through rxs_input_packet(): the header
 * decoder, connection and call lookup, new-call preallocation and BUSY,
 * the DATA path (jumbo split, receive ring), ACK / ABORT / BUSY / ACKALL
 * handlers and the transmit side they drive.
 *
 * One embedded-mode endpoint (our own event_base, never dispatched) lives
 * across inputs, listening on service 1 with a few charged calls, and
 * with a client call of its own to the fuzzer's address; its epoch and
 * cid are fixed (0x8c0ffee0, 0x1004) so that inputs can aim at it.
 * After each datagram we do what the loop callbacks do (pokes, output
 * flush, releases); after each input we play the user: read what service
 * calls received, answer complete requests with a 3000-byte reply, end
 * completed calls and re-charge, run expired timers on a fake clock.
 * Memory stays bounded: small pools and limits, and the endpoint is
 * closed and reopened every RESET_EVERY inputs.
 *
 * Input: a sequence of records [2-byte big-endian length][datagram]; bit
 * 15 of the length picks the second source address.  When a record's
 * length runs past the end, the rest of the input (from that record's
 * first byte) is one datagram, so a raw captured packet is a valid input.
 * What the endpoint sends goes to two sink sockets that nobody reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <event2/event.h>

#include "rxsvc/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #x);                 \
			abort();                                         \
		}                                                        \
	} while (0)

#define FUZZ_EPOCH  0x8c0ffee0u
#define FUZZ_CID    0x1000u /* the first client conn gets 0x1004 */
#define BACKLOG	    4
#define MAX_HELD    32
#define RESET_EVERY 4096
#define REPLY_LEN   3000

struct held {
	struct rxsvc_call *call;
	bool client;
	bool replied;
	unsigned int age;
};

static struct {
	bool ready;
	struct event_base *eb;
	struct rxsvc_sock *sock;
	int sink[2];
	union rxs_addr from[2];
	struct held held[MAX_HELD];
	unsigned int nheld;
	unsigned long next_id;
	unsigned int inputs;
	uint64_t clock;
	uint8_t scratch[RXS_RX_BUFSIZE];
} g;

static uint64_t fake_clock(void)
{
	return g.clock;
}

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	if (g.nheld == MAX_HELD) {
		rxsvc_call_end(call); /* we cannot hold it: let it go */
		return;
	}
	g.held[g.nheld++] = (struct held){ .call = call };
}

static void pump(void)
{
	rxs_io_process_attend(g.sock);
	rxs_output_flush(g.sock);
	rxs_release_drain(g.sock);
}

/* What timer_cb() does, on the fake clock. */
static void run_timers(void)
{
	struct rxsvc_call *call;
	unsigned int n = 0;

	while ((call = rxs_heap_top(&g.sock->timers)) != NULL &&
	       call->timer_at <= g.clock && n++ < 256) {
		rxs_call_get(call);
		rxs_call_run_timers(call, g.clock);
		if (call->heap_idx && call->timer_at <= g.clock) {
			call->timer_at = g.clock + 1000;
			rxs_heap_update(&g.sock->timers, call);
		}
		rxs_call_put(call);
	}
	pump();
}

static void client_begin(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct iovec iov = { .iov_base = "fuzz", .iov_len = 4 };
	struct rxsvc_call *call;

	if (g.nheld == MAX_HELD)
		return;
	cp.peer.service_id = 1;
	cp.peer.addrlen = sizeof(struct sockaddr_in);
	memcpy(&cp.peer.addr, &g.from[0], sizeof(g.from[0].sin));
	cp.user_call_id = g.next_id++;
	if (rxsvc_call_begin(g.sock, &cp, &call) < 0)
		return;
	rxsvc_call_send(call, &iov, 1, 4, RXSVC_SEND_NONBLOCK);
	g.held[g.nheld++] = (struct held){ .call = call, .client = true };
	pump();
}

static void recharge(void)
{
	while (rxsvc_sock_charged(g.sock) < BACKLOG &&
	       rxsvc_sock_charge(g.sock, NULL, g.next_id++) == 0)
		;
}

static void endpoint_close(void)
{
	for (unsigned int i = 0; i < g.nheld; i++)
		rxsvc_call_end(g.held[i].call);
	g.nheld = 0;
	pump();
	rxsvc_sock_close(g.sock);
	g.sock = NULL;
}

static void endpoint_open(void)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;

	p.local.addr.sin.sin_family = AF_INET;
	p.local.addr.sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	p.local.addrlen = sizeof(struct sockaddr_in);
	p.base = g.eb;
	p.rx_window = 32;
	p.pool_packets = 256;
	p.max_calls = 16;
	p.busy_per_sec = 4;
	p.dead_time_ms = 3000;
	p.idle_time_ms = 6000;
	p.hard_time_ms = 20000;
	CHECK(rxsvc_sock_open(&p, &g.sock) == 0);
	/* fixed, so that inputs can address our client connection */
	g.sock->epoch = FUZZ_EPOCH;
	g.sock->next_cid = FUZZ_CID;
	CHECK(rxsvc_sock_add_service(g.sock, 1) == 0);
	CHECK(rxsvc_sock_add_service(g.sock, 147) == 0);
	rxsvc_sock_set_accept(g.sock, on_new_call, NULL, NULL);
	CHECK(rxsvc_sock_listen(g.sock, BACKLOG) == 0);
	recharge();
	client_begin();
}

static void cleanup(void)
{
	if (!g.ready)
		return;
	endpoint_close();
	event_base_free(g.eb);
	close(g.sink[0]);
	close(g.sink[1]);
	g.ready = false;
}

static void init(void)
{
	rxs_clock = fake_clock;
	g.clock = 1000000;
	g.next_id = 1;
	g.eb = event_base_new();
	CHECK(g.eb != NULL);
	for (int i = 0; i < 2; i++) {
		socklen_t len = sizeof(g.from[i].sin);
		int small = 4096;

		g.sink[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(g.sink[i] >= 0);
		setsockopt(g.sink[i], SOL_SOCKET, SO_RCVBUF, &small,
			   sizeof(small));
		g.from[i].sin.sin_family = AF_INET;
		g.from[i].sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		CHECK(bind(g.sink[i], &g.from[i].sa, len) == 0);
		CHECK(getsockname(g.sink[i], &g.from[i].sa, &len) == 0);
	}
	endpoint_open();
	atexit(cleanup);
	g.ready = true;
}

static void feed(const uint8_t *p, size_t len, unsigned int src)
{
	struct rxs_rxpkt *pkt = rxs_rxpkt_alloc(&g.sock->rxpool);

	if (!pkt)
		return; /* pool exhausted: as the loop would, drop */
	if (len > RXS_RX_BUFSIZE)
		len = RXS_RX_BUFSIZE; /* what recvmmsg would truncate to */
	pkt->next = NULL;
	pkt->from = g.from[src];
	pkt->fromlen = sizeof(g.from[src].sin);
	pkt->len = (uint32_t)len;
	memcpy(pkt->buf, p, len);
	rxs_input_packet(g.sock, pkt);
	pump();
	g.clock += 1000;
}

/* Play the user of each call we hold. */
static void serve_calls(void)
{
	bool have_client = false;
	unsigned int i = 0;

	while (i < g.nheld) {
		struct held *h = &g.held[i];
		enum rxsvc_call_state st = rxsvc_call_state(h->call);
		unsigned int fl = RXSVC_RECV_NONBLOCK;
		int r;

		CHECK(rxsvc_call_completion(h->call) == RXSVC_COMPLETE_NONE ||
		      st == RXSVC_CALL_COMPLETE);
		r = rxsvc_call_recv(h->call, g.scratch, sizeof(g.scratch), &fl,
				    NULL);
		CHECK(r <= (int)sizeof(g.scratch));
		if (!h->client && !h->replied && r >= 0 &&
		    fl == RXSVC_RECV_END) {
			struct iovec iov = { .iov_base = g.scratch,
					     .iov_len = REPLY_LEN };

			memset(g.scratch, 0x5a, REPLY_LEN);
			rxsvc_call_send(h->call, &iov, 1, REPLY_LEN,
					RXSVC_SEND_NONBLOCK);
			h->replied = true;
		}
		if (st == RXSVC_CALL_COMPLETE || ++h->age > 2000) {
			rxsvc_call_end(h->call);
			*h = g.held[--g.nheld];
			continue;
		}
		if (h->client)
			have_client = true;
		i++;
	}
	pump();
	if (!have_client)
		client_begin();
	recharge();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	if (!g.ready)
		init();
	if (++g.inputs % RESET_EVERY == 0) {
		endpoint_close();
		endpoint_open();
	}
	while (off < size) {
		size_t left = size - off, len;
		unsigned int src;

		if (left < 2) {
			feed(data + off, left, 0);
			break;
		}
		len = ((size_t)data[off] << 8 | data[off + 1]) & 0x7fff;
		src = data[off] >> 7;
		if (len > left - 2) {
			feed(data + off, left, 0);
			break;
		}
		feed(data + off + 2, len, src);
		off += 2 + len;
	}
	g.clock += 50000;
	run_timers();
	serve_calls();
	/* the engine never holds more packets than its pool allows */
	CHECK(g.sock->rxpool.total <= g.sock->rxpool.max);
	CHECK(g.sock->active_service_calls <= g.sock->max_calls);
	return 0;
}
