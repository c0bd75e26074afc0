/* SPDX-License-Identifier: MIT */
/*
 * idle_conns.c - open N Rx connections to an rxperf server and leave them
 * idle, for bench/run.sh's server-memory figure.  Two builds of this one
 * file: with librxsvc (default) and, with -DOAFS, with OpenAFS's
 * userspace Rx (libafsrpc), so that both servers see the same traffic.
 *
 *   idle_conns HOST PORT N [HOLD_S]
 *
 * Each connection is a new Rx connection (rxsvc: RXSVC_CALL_EXCLUSIVE;
 * OpenAFS: rx_NewConnection) carrying one rxperf RPC call (4 bytes each
 * way, service 147), so the server holds N connections, each with one
 * used channel.  Prints "opened=N failed=N seconds=S conns_per_sec=X",
 * then "ready", and keeps the connections until SIGTERM or until HOLD_S
 * seconds (default 60) pass.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef OAFS
#include <afs/param.h>
#include <rx/rx.h>
#include <rx/rx_null.h>
#else
#include <rxsvc/rxsvc.h>
#endif

#define SERVICE 147

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* rxperf RPC request: version 3, op 3, rsize, wsize, reqlen 4, replylen 4,
 * then 4 bytes.  Reply: 4 bytes + cookie 0x4711. */
static void build_request(unsigned char req[28])
{
	memset(req, 0, 28);
	put_be32(req, 3);
	put_be32(req + 4, 3);
	put_be32(req + 8, 65536);
	put_be32(req + 12, 65536);
	put_be32(req + 16, 4);
	put_be32(req + 20, 4);
}

static int reply_ok(const unsigned char r[8])
{
	return r[4] == 0 && r[5] == 0 && r[6] == 0x47 && r[7] == 0x11;
}

#ifdef OAFS
static struct rx_securityClass *sec;
static struct rx_connection **conns;

static int setup(const char *host, int port, long n)
{
	(void)host;
	(void)port;
	if (rx_Init(0) != 0)
		return -1;
	sec = rxnull_NewClientSecurityObject();
	conns = calloc((size_t)n, sizeof(*conns));
	return conns ? 0 : -1;
}

static int open_one(const char *host, int port, long i)
{
	unsigned char req[28], rep[8];
	struct rx_call *call;
	int code;

	conns[i] = rx_NewConnection(inet_addr(host), htons((uint16_t)port),
				    SERVICE, sec, 0);
	if (!conns[i])
		return -1;
	build_request(req);
	call = rx_NewCall(conns[i]);
	if (rx_Write(call, (char *)req, 28) != 28) {
		rx_EndCall(call, 0);
		return -1;
	}
	code = rx_Read(call, (char *)rep, 8) == 8 ? 0 : -1;
	if (rx_EndCall(call, 0) != 0 || code < 0)
		return -1;
	return reply_ok(rep) ? 0 : -1;
}
#else
static struct rxsvc_sock *sock;
static struct rxsvc_srx peer;

static int setup(const char *host, int port, long n)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	char text[300];

	(void)n;
	snprintf(text, sizeof(text), "%s:%d", host, port);
	memset(&peer, 0, sizeof(peer));
	if (rxsvc_srx_parse(&peer, text) < 0)
		return -1;
	peer.service_id = SERVICE;
	sp.local.addr.sa.sa_family = peer.addr.sa.sa_family;
	sp.local.addrlen = peer.addrlen;
	return rxsvc_sock_open(&sp, &sock);
}

static int open_one(const char *host, int port, long i)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call;
	unsigned char req[28], rep[8];
	struct iovec iov = { .iov_base = req, .iov_len = 28 };
	size_t got = 0;
	int32_t abort_code;
	unsigned int fl = 0;
	int ret;

	(void)host;
	(void)port;
	build_request(req);
	cp.peer = peer;
	cp.user_call_id = (unsigned long)i + 1;
	cp.tx_total_len = 28;
	cp.flags = RXSVC_CALL_EXCLUSIVE;
	cp.hard_time_ms = 10000;
	if (rxsvc_call_begin(sock, &cp, &call) < 0)
		return -1;
	ret = rxsvc_call_send(call, &iov, 1, 28, 0);
	while (ret >= 0 && !(fl & RXSVC_RECV_END) && got < sizeof(rep)) {
		fl = RXSVC_RECV_WAITALL;
		ret = rxsvc_call_recv(call, rep + got, sizeof(rep) - got, &fl,
				      &abort_code);
		if (ret > 0)
			got += (size_t)ret;
	}
	if (ret >= 0 && !(fl & RXSVC_RECV_END)) { /* drain to the end */
		unsigned char extra[64];

		fl = RXSVC_RECV_WAITALL;
		ret = rxsvc_call_recv(call, extra, sizeof(extra), &fl,
				      &abort_code);
	}
	rxsvc_call_end(call);
	return ret >= 0 && got == sizeof(rep) && reply_ok(rep) ? 0 : -1;
}
#endif

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	const char *host;
	long n, i, failed = 0;
	double hold = 60, t0, el, end;
	int port;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: idle_conns HOST PORT N [HOLD_S]\n");
		return 2;
	}
	host = argv[1];
	port = atoi(argv[2]);
	n = atol(argv[3]);
	if (argc == 5)
		hold = atof(argv[4]);
	if (port <= 0 || port > 65535 || n < 1 || n > 1000000) {
		fprintf(stderr, "idle_conns: bad arguments\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	if (setup(host, port, n) < 0) {
		fprintf(stderr, "idle_conns: cannot set up the Rx endpoint\n");
		return 1;
	}
	t0 = mono();
	for (i = 0; i < n && !stop; i++)
		if (open_one(host, port, i) < 0)
			failed++;
	el = mono() - t0;
	printf("opened=%ld failed=%ld seconds=%.3f conns_per_sec=%.1f\n",
	       i - failed, failed, el, (double)(i - failed) / el);
	printf("ready\n");
	fflush(stdout);
	/* Hold: until SIGTERM, or the hold time is over. */
	end = mono() + hold;
	while (!stop && mono() < end)
		poll(NULL, 0, 100);
	_exit(failed ? 1 : 0); /* no teardown: the server sees no goodbye */
}
