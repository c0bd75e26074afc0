/* SPDX-License-Identifier: MIT */
/*
 * The engine's events on the bus (events/engine_pub.c) with real
 * endpoints on 127.0.0.1: a client and servers, each with its own I/O
 * thread and a publisher on one in-process bus, and listeners on the
 * well-known groups that decode the 32-byte data of events.h.  Checks
 * each group: call begun and completed (kind and abort code), BUSY sent
 * (a listening service with nothing charged), a network error from
 * ICMP (a call to a closed port: the peer's address in the event), a
 * security failure (a ticket sealed with the wrong key); and that with
 * nobody listening the publisher sends nothing to the bus.  Every wait
 * is a bounded poll.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include <rxsvc/rxsvc.h>
#include <rxsvc/key.h>
#include <rxsvc/events.h>

#include "transport/bytes.h"

#define WAIT_MS 8000
#define MAX_EV	64

/* One decoded engine event, as a subscriber sees it. */
struct ev {
	uint32_t group;
	uint32_t val;
	uint32_t type;
	uint16_t service;
	uint8_t client;
	uint8_t how;
	int32_t abort_code;
	int32_t error;
	uint16_t family;
	uint16_t port; /* host order */
	uint8_t addr[8];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ev evs[MAX_EV];
static unsigned int nev;
static unsigned int bad_len;

static void rec_cb(const struct rxsvc_cn_msg *msg,
		   const struct rxsvc_cn_src *src, void *arg)
{
	const uint8_t *d = msg->data;
	struct ev e = { 0 };

	pthread_mutex_lock(&lock);
	if (msg->len != RXSVC_EV_ENGINE_DATA_LEN ||
	    msg->id.idx != RXSVC_EV_IDX_ENGINE) {
		bad_len++;
		pthread_mutex_unlock(&lock);
		return;
	}
	e.group = src->group;
	e.val = msg->id.val;
	e.type = rxs_get_be32(d);
	e.service = rxs_get_be16(d + 8);
	e.client = d[10];
	e.how = d[11];
	e.abort_code = (int32_t)rxs_get_be32(d + 12);
	e.error = (int32_t)rxs_get_be32(d + 16);
	e.family = rxs_get_be16(d + 20);
	e.port = (uint16_t)((uint16_t)d[22] << 8 | d[23]);
	memcpy(e.addr, d + 24, 8);
	if (nev < MAX_EV)
		evs[nev++] = e;
	pthread_mutex_unlock(&lock);
}

static void reset_events(void)
{
	pthread_mutex_lock(&lock);
	nev = 0;
	bad_len = 0;
	pthread_mutex_unlock(&lock);
}

/* Wait (bounded) for an event with @val (and @how unless 0); copy it. */
static int wait_event(uint32_t val, uint8_t how, struct ev *out)
{
	int i;

	for (i = 0; i < WAIT_MS / 10; i++) {
		unsigned int k;

		pthread_mutex_lock(&lock);
		for (k = 0; k < nev; k++) {
			if (evs[k].val != val || (how && evs[k].how != how))
				continue;
			*out = evs[k];
			pthread_mutex_unlock(&lock);
			return 1;
		}
		pthread_mutex_unlock(&lock);
		usleep(10000);
	}
	return 0;
}

static struct rxsvc_bus *bus;
static unsigned int handles[4];

static void open_bus(void)
{
	static const uint32_t groups[4] = {
		RXSVC_EV_GROUP_CALL, RXSVC_EV_GROUP_BUSY, RXSVC_EV_GROUP_NET,
		RXSVC_EV_GROUP_SEC
	};
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	unsigned int i;

	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, groups[i], rec_cb, NULL,
						&handles[i]),
				0);
	reset_events();
}

static void close_bus(void)
{
	rxsvc_bus_close(bus);
	bus = NULL;
}

static struct rxsvc_sock *open_sock(void)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_sock *sock = NULL;

	CU_ASSERT_EQUAL_FATAL(rxsvc_srx_parse(&p.local, "127.0.0.1:0"), 0);
	p.dead_time_ms = 4000;
	CU_ASSERT_EQUAL_FATAL(rxsvc_sock_open(&p, &sock), 0);
	return sock;
}

static uint16_t sock_port(struct rxsvc_sock *sock)
{
	struct rxsvc_srx srx;

	CU_ASSERT_EQUAL_FATAL(rxsvc_sock_local(sock, &srx), 0);
	return ntohs(srx.addr.sin.sin_port);
}

static void no_rx(struct rxsvc_sock *sock, struct rxsvc_call *call,
		  unsigned long id)
{
}

/* Begin a call to 127.0.0.1:@port, service @svc, with a small request. */
static struct rxsvc_call *call_to(struct rxsvc_sock *sock, uint16_t port,
				  uint16_t svc, struct rxsvc_key *key,
				  unsigned long id)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call = NULL;
	struct iovec iov = { .iov_base = "ping", .iov_len = 4 };
	char addr[32];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u", port);
	CU_ASSERT_EQUAL_FATAL(rxsvc_srx_parse(&cp.peer, addr), 0);
	cp.peer.service_id = svc;
	cp.user_call_id = id;
	cp.tx_total_len = 4;
	cp.key = key;
	cp.security_level = 2;
	CU_ASSERT_EQUAL_FATAL(rxsvc_call_begin(sock, &cp, &call), 0);
	CU_ASSERT_EQUAL(rxsvc_call_send(call, &iov, 1, 4, 0), 4);
	return call;
}

/* Call begun and completed; a local abort's code reaches the event. */
static void test_call_lifecycle(void)
{
	struct rxsvc_sock *cs;
	struct rxsvc_sock *ss;
	struct rxsvc_evpub *pub;
	struct rxsvc_call *call;
	struct ev e;

	open_bus();
	cs = open_sock();
	ss = open_sock();
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, cs, &pub), 0);
	/* A server that takes the call and never answers. */
	CU_ASSERT_EQUAL(rxsvc_sock_add_service(ss, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_listen(ss, 4), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(ss, no_rx, 1), 0);
	call = call_to(cs, sock_port(ss), 7, NULL, 11);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_CALL_BEGUN, 0, &e));
	CU_ASSERT_EQUAL(e.group, RXSVC_EV_GROUP_CALL);
	CU_ASSERT_EQUAL(e.type, RXSVC_EV_CALL_BEGUN);
	CU_ASSERT_EQUAL(e.service, 7);
	CU_ASSERT_EQUAL(e.client, 1);
	CU_ASSERT_EQUAL(e.family, AF_INET);
	CU_ASSERT_EQUAL(e.port, sock_port(ss));
	CU_ASSERT_EQUAL(rxsvc_call_abort(call, 4242, -ECONNABORTED, "test"),
			1);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_CALL_COMPLETE, 0, &e));
	CU_ASSERT_EQUAL(e.type, RXSVC_EV_CALL_COMPLETE);
	CU_ASSERT_EQUAL(e.how, RXSVC_COMPLETE_LOCALLY_ABORTED);
	CU_ASSERT_EQUAL(e.abort_code, 4242);
	CU_ASSERT_EQUAL(e.service, 7);
	rxsvc_call_end(call);
	CU_ASSERT_EQUAL(bad_len, 0);
	rxsvc_evpub_stop(pub);
	rxsvc_sock_close(cs);
	rxsvc_sock_close(ss);
	close_bus();
}

/* A listening service with nothing charged answers BUSY: both sides. */
static void test_busy(void)
{
	struct rxsvc_sock *cs;
	struct rxsvc_sock *ss;
	struct rxsvc_evpub *cpub;
	struct rxsvc_evpub *spub;
	struct rxsvc_call *call;
	struct ev e;

	open_bus();
	cs = open_sock();
	ss = open_sock();
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, cs, &cpub), 0);
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, ss, &spub), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_add_service(ss, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_listen(ss, 4), 0);
	call = call_to(cs, sock_port(ss), 7, NULL, 12);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_BUSY_SENT, 0, &e));
	CU_ASSERT_EQUAL(e.group, RXSVC_EV_GROUP_BUSY);
	CU_ASSERT_EQUAL(e.type, RXSVC_EV_BUSY_SENT);
	CU_ASSERT_EQUAL(e.family, AF_INET);
	CU_ASSERT_EQUAL(e.port, sock_port(cs)); /* the refused peer */
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_CALL_COMPLETE,
				  RXSVC_COMPLETE_BUSY, &e));
	CU_ASSERT_EQUAL(e.client, 1);
	rxsvc_call_end(call);
	rxsvc_evpub_stop(cpub);
	rxsvc_evpub_stop(spub);
	rxsvc_sock_close(cs);
	rxsvc_sock_close(ss);
	close_bus();
}

/* ICMP port unreachable from a closed port: a network error per peer. */
static void test_net_error(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct rxsvc_sock *cs;
	struct rxsvc_evpub *pub;
	struct rxsvc_call *call;
	uint16_t port;
	struct ev e;
	int fd;

	/* A port that was just free: bound, then closed. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CU_ASSERT_EQUAL_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)),
			      0);
	CU_ASSERT_EQUAL_FATAL(getsockname(fd, (struct sockaddr *)&sin, &len),
			      0);
	port = ntohs(sin.sin_port);
	close(fd);
	open_bus();
	cs = open_sock();
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, cs, &pub), 0);
	call = call_to(cs, port, 7, NULL, 13);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_NET_ERROR, 0, &e));
	CU_ASSERT_EQUAL(e.group, RXSVC_EV_GROUP_NET);
	CU_ASSERT_EQUAL(e.type, RXSVC_EV_NET_ERROR);
	CU_ASSERT_EQUAL(e.family, AF_INET);
	CU_ASSERT_EQUAL(e.port, port);
	CU_ASSERT_EQUAL(memcmp(e.addr, "\x7f\0\0\1", 4), 0);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_CALL_COMPLETE,
				  RXSVC_COMPLETE_NET_ERROR, &e));
	CU_ASSERT_EQUAL(e.error, -ECONNREFUSED);
	rxsvc_call_end(call);
	rxsvc_evpub_stop(pub);
	rxsvc_sock_close(cs);
	close_bus();
}

/* A ticket sealed with a key the server does not have: rxkad refuses. */
static void test_security(void)
{
	static const uint8_t skey[8] = { 0x01, 0x02, 0x04, 0x07,
					  0x08, 0x0b, 0x0d, 0x0e };
	static const uint8_t wrong[8] = { 0x10, 0x20, 0x40, 0x70,
					   0x80, 0xb0, 0xd0, 0xe0 };
	struct rxsvc_service_security sec = RXSVC_SERVICE_SECURITY_INIT;
	struct rxsvc_token_params tp = RXSVC_TOKEN_PARAMS_INIT;
	struct rxsvc_keyset *ks = NULL;
	struct rxsvc_key *key = NULL;
	struct rxsvc_sock *cs;
	struct rxsvc_sock *ss;
	struct rxsvc_evpub *pub;
	struct rxsvc_call *call;
	char dir[] = "/tmp/rxsvc-evengine.XXXXXX";
	char kf[64];
	uint8_t tok[RXSVC_TOKEN_MAX];
	size_t toklen = 0;
	struct ev e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(kf, sizeof(kf), "%s/keys", dir);
	CU_ASSERT_EQUAL_FATAL(rxsvc_keyfile_add(kf, -1, 2, 3, skey), 0);
	CU_ASSERT_EQUAL_FATAL(rxsvc_keyset_load_file(kf, &ks, NULL), 0);
	unlink(kf);
	rmdir(dir);
	tp.client = "tester";
	tp.service_key = wrong;
	tp.kvno = 3;
	CU_ASSERT_EQUAL_FATAL(rxsvc_token_mint(&tp, tok, sizeof(tok), &toklen),
			      0);
	CU_ASSERT_EQUAL_FATAL(rxsvc_key_from_token(tok, toklen, &key), 0);

	open_bus();
	cs = open_sock();
	ss = open_sock();
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, ss, &pub), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_add_service(ss, 7), 0);
	sec.keyset = ks;
	sec.require_rxkad = 1;
	CU_ASSERT_EQUAL(rxsvc_sock_set_service_security(ss, 7, &sec), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_listen(ss, 4), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_charge(ss, no_rx, 1), 0);
	call = call_to(cs, sock_port(ss), 7, key, 14);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_SECURITY, 0, &e));
	CU_ASSERT_EQUAL(e.group, RXSVC_EV_GROUP_SEC);
	CU_ASSERT_EQUAL(e.type, RXSVC_EV_SECURITY);
	CU_ASSERT_EQUAL(e.family, AF_INET);
	CU_ASSERT_EQUAL(e.port, sock_port(cs));
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, WAIT_MS),
			RXSVC_COMPLETE_REMOTELY_ABORTED);
	rxsvc_call_end(call);
	rxsvc_evpub_stop(pub);
	rxsvc_sock_close(cs);
	rxsvc_sock_close(ss);
	rxsvc_key_put(key);
	close_bus();
	rxsvc_keyset_free(ks);
}

/*
 * Nobody listening: every event is counted as unheard and nothing
 * reaches the bus (no message routed, no -ESRCH counted); one listener
 * on one engine group, and events go out again.
 */
static void test_nobody_listens(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_sock *cs;
	struct rxsvc_sock *ss;
	struct rxsvc_evpub *pub;
	struct rxsvc_call *call;
	uint64_t sent = 0;
	uint64_t failed = 0;
	uint64_t unheard = 0;
	unsigned int h;
	int i;

	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	reset_events();
	cs = open_sock();
	ss = open_sock();
	CU_ASSERT_EQUAL_FATAL(rxsvc_evpub_start(bus, cs, &pub), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_add_service(ss, 7), 0);
	CU_ASSERT_EQUAL(rxsvc_sock_listen(ss, 4), 0);
	/* Group 5 has a member: not an engine group, no interest. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, NULL, &h), 0);
	call = call_to(cs, sock_port(ss), 7, NULL, 15);
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, WAIT_MS), RXSVC_COMPLETE_BUSY);
	rxsvc_call_end(call);
	for (i = 0; i < WAIT_MS / 10; i++) {
		rxsvc_evpub_counts(pub, &sent, &failed, &unheard);
		if (unheard >= 2)
			break;
		usleep(10000);
	}
	CU_ASSERT(unheard >= 2); /* begun, complete */
	CU_ASSERT_EQUAL(sent, 0);
	CU_ASSERT_EQUAL(failed, 0);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "msgs_local"), 0);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "esrch"), 0);
	/* Someone listens to calls now. */
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, RXSVC_EV_GROUP_CALL, rec_cb, NULL,
					&h),
			0);
	call = call_to(cs, sock_port(ss), 7, NULL, 16);
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, WAIT_MS), RXSVC_COMPLETE_BUSY);
	rxsvc_call_end(call);
	CU_ASSERT_TRUE(wait_event(RXSVC_EV_VAL_CALL_COMPLETE,
				  RXSVC_COMPLETE_BUSY, &(struct ev){ 0 }));
	rxsvc_evpub_counts(pub, &sent, NULL, NULL);
	CU_ASSERT(sent >= 1);
	rxsvc_evpub_stop(pub);
	rxsvc_sock_close(cs);
	rxsvc_sock_close(ss);
	close_bus();
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "call begun and completed", test_call_lifecycle },
		{ "BUSY sent", test_busy },
		{ "network error from ICMP", test_net_error },
		{ "security failure", test_security },
		{ "nobody listens: nothing sent", test_nobody_listens },
	};
	CU_pSuite s;
	unsigned int fails;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("engine events", NULL, NULL);
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
	return fails ? 1 : 0;
}
