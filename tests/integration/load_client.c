/* SPDX-License-Identifier: MIT */
/*
 * load_client - an integration-test client on librxsvc: many concurrent
 * echo calls over one endpoint (so over shared connections), with BUSY
 * retries, byte checks, and mid-transfer aborts.
 *
 *   load_client ADDR:PORT [-n CALLS] [-b BYTES] [-s SERVICE] [-r RETRIES]
 *               [-A ABORT_AFTER_BYTES] [-e EXPECT_ABORT_CODE] [-B]
 *
 * All calls are begun at once and their requests queued; replies are then
 * read call by call (the engine moves all of them meanwhile).  A call
 * that ends BUSY is begun again, up to RETRIES times.  Prints one summary
 * line "ok=N busy=N busy_final=N failed=N aborted=N" and exits 0 only if
 * every call did what was expected:
 *   default: every reply equals its request;
 *   -A N:  send N bytes with MORE, abort the call locally with code 4242,
 *          check it completes LOCALLY_ABORTED (and the server survives);
 *   -e C:  every call must end remotely aborted with code C;
 *   -B:    BUSY without retries is expected for some calls (reports only,
 *          fails if no call at all was busy or any call failed otherwise).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rxsvc/rxsvc.h>

struct lc {
	struct rxsvc_call *call;
	uint8_t *req;
	size_t len;
	unsigned int tries;
	int done; /* 1 ok, 2 busy final, 3 failed, 4 aborted as expected */
};

static unsigned long next_id = 1;
static struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	uint32_t x = seed * 2654435761u + 12345;

	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static int start(struct rxsvc_sock *sock, struct lc *c, size_t abort_after)
{
	struct iovec iov = { c->req, c->len };
	int ret;

	cp.user_call_id = next_id++;
	ret = rxsvc_call_begin(sock, &cp, &c->call);
	if (ret < 0)
		return ret;
	if (abort_after) {
		iov.iov_len = abort_after < c->len ? abort_after : c->len;
		ret = rxsvc_call_send(c->call, &iov, 1, iov.iov_len,
				      RXSVC_SEND_MORE);
		return ret < 0 ? ret : 0;
	}
	ret = rxsvc_call_send(c->call, &iov, 1, c->len, 0);
	return ret < 0 && ret != -EBUSY ? 0 : 0; /* failure shows at recv */
}

/* Read the reply and check it; returns the completion. */
static enum rxsvc_completion finish(struct lc *c, uint8_t *buf,
				    int32_t *abort_code)
{
	size_t got = 0;
	int bad = 0;

	for (;;) {
		unsigned int fl = 0;
		int n = rxsvc_call_recv(c->call, buf, 1 << 16, &fl, abort_code);

		if (n < 0)
			break;
		if (got + (size_t)n > c->len ||
		    memcmp(buf, c->req + got, (size_t)n))
			bad = 1;
		got += (size_t)n;
		if (fl & RXSVC_RECV_END)
			break;
	}
	if (rxsvc_call_wait(c->call, 30000) == RXSVC_COMPLETE_SUCCEEDED &&
	    (bad || got != c->len)) {
		fprintf(stderr, "call %lu: reply differs (%zu of %zu bytes)\n",
			rxsvc_call_user_id(c->call), got, c->len);
		return RXSVC_COMPLETE_LOCAL_ERROR;
	}
	*abort_code = rxsvc_call_abort_code(c->call);
	return rxsvc_call_completion(c->call);
}

int main(int argc, char **argv)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	unsigned long ncalls = 1, retries = 50, service = 1;
	size_t bytes = 100, abort_after = 0;
	long expect_abort = 0;
	int expect_busy = 0, ch, fails = 0;
	unsigned int ok = 0, busy = 0, busy_final = 0, failed = 0, aborted = 0;
	struct rxsvc_sock *sock;
	struct lc *calls;
	uint8_t *buf;
	int ret;

	while ((ch = getopt(argc, argv, "n:b:s:r:A:e:B")) != -1) {
		switch (ch) {
		case 'n':
			ncalls = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			bytes = strtoul(optarg, NULL, 10);
			break;
		case 's':
			service = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			retries = strtoul(optarg, NULL, 10);
			break;
		case 'A':
			abort_after = strtoul(optarg, NULL, 10);
			break;
		case 'e':
			expect_abort = strtol(optarg, NULL, 10);
			break;
		case 'B':
			expect_busy = 1;
			retries = 0;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || rxsvc_srx_parse(&cp.peer, argv[optind]) < 0)
		return 2;
	cp.peer.service_id = (uint16_t)service;
	sp.local.addr.sa.sa_family = cp.peer.addr.sa.sa_family;
	sp.local.addrlen = cp.peer.addrlen;
	ret = rxsvc_sock_open(&sp, &sock);
	if (ret < 0) {
		fprintf(stderr, "open: %s\n", strerror(-ret));
		return 1;
	}
	calls = calloc(ncalls, sizeof(*calls));
	buf = malloc(1 << 16);
	for (unsigned long i = 0; i < ncalls; i++) {
		calls[i].len = bytes;
		calls[i].req = malloc(bytes ? bytes : 1);
		fill(calls[i].req, bytes, (unsigned int)i);
		ret = start(sock, &calls[i], abort_after);
		if (ret < 0) {
			fprintf(stderr, "begin: %s\n", strerror(-ret));
			return 1;
		}
	}
	if (abort_after) {
		usleep(100000);
		for (unsigned long i = 0; i < ncalls; i++)
			rxsvc_call_abort(calls[i].call, 4242, -ECANCELED,
					 "test");
	}
	for (unsigned long i = 0; i < ncalls; i++) {
		struct lc *c = &calls[i];

		for (;;) {
			int32_t code = 0;
			enum rxsvc_completion how = finish(c, buf, &code);

			if (how == RXSVC_COMPLETE_BUSY) {
				busy++;
				if (c->tries++ < retries) {
					rxsvc_call_end(c->call);
					usleep(2000u * (c->tries < 50 ? c->tries : 50));
					start(sock, c, abort_after);
					continue;
				}
				busy_final++;
			} else if (how == RXSVC_COMPLETE_SUCCEEDED &&
				   !abort_after && !expect_abort) {
				ok++;
			} else if (abort_after &&
				   how == RXSVC_COMPLETE_LOCALLY_ABORTED &&
				   code == 4242) {
				aborted++;
			} else if (expect_abort &&
				   how == RXSVC_COMPLETE_REMOTELY_ABORTED &&
				   code == expect_abort) {
				aborted++;
			} else {
				fprintf(stderr, "call %lu: %s, abort %d, error %d\n",
					i, rxsvc_completion_name(how), code,
					rxsvc_call_error(c->call));
				failed++;
			}
			break;
		}
		rxsvc_call_end(c->call);
		free(c->req);
	}
	printf("ok=%u busy=%u busy_final=%u failed=%u aborted=%u\n", ok, busy,
	       busy_final, failed, aborted);
	if (failed)
		fails = 1;
	if (expect_busy ? busy == 0 : busy_final != 0)
		fails = 1;
	if ((abort_after || expect_abort) && aborted + busy_final != ncalls)
		fails = 1;
	if (!abort_after && !expect_abort && !expect_busy && ok != ncalls)
		fails = 1;
	/* Let the final ACKs and ABORTs leave before the endpoint goes. */
	usleep(50000);
	rxsvc_sock_close(sock);
	free(calls);
	free(buf);
	return fails;
}
