/* SPDX-License-Identifier: MIT */
/*
 * events_bench: messages per second from one publisher to 1 and 8
 * subscriber processes, through the rxsvc bus (SOCK_SEQPACKET and
 * SOCK_STREAM clients, lossy and lossless) and, in the same run, through
 * a naive fan-out written the obvious way: the publisher does one send()
 * per message per subscriber on a socketpair of the same type (blocking
 * for "lossless", MSG_DONTWAIT and drop for "lossy"), and each
 * subscriber does one recv() per message.  Prints one table.
 *
 * usage: events_bench [MESSAGES] [DATA_BYTES]   (defaults 100000, 64)
 *
 * Time is from the first send to the last message received by the
 * slowest subscriber (CLOCK_MONOTONIC, shared by the processes); the
 * rate is messages sent per second of that.  Under the lossy policy
 * "recv%" says how much of what was sent each subscriber received on
 * average.  Not part of `make check`: bench/events_run.sh runs it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <rxsvc/events.h>

#define GROUP	42
#define IDLE_MS 400

struct result {
	uint64_t got;
	uint64_t last_ns;
};

static unsigned long nmsg = 100000;
static unsigned int dlen = 64;
static char dir[64];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void report(int wfd, uint64_t got, uint64_t last)
{
	struct result r = { got, last };

	if (write(wfd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
	_exit(0);
}

/* ---- rxsvc bus subscriber (child) ---- */
static void bus_sub(const char *path, bool stream, int ready, int wfd)
{
	struct rxsvc_evc_params p = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_evc_event ev;
	struct rxsvc_evc *c;
	uint64_t got = 0;
	uint64_t last = 0;
	char one = 1;

	p.path = path;
	p.flags = stream ? RXSVC_EVC_STREAM : 0;
	if (rxsvc_evc_connect(&p, &c) < 0 || rxsvc_evc_join(c, GROUP) < 0)
		_exit(2);
	if (write(ready, &one, 1) != 1)
		_exit(2);
	while (got < nmsg) {
		int r = rxsvc_evc_recv(c, &ev, IDLE_MS);

		if (r <= 0)
			break;
		if (ev.kind == RXSVC_EVC_MSG) {
			got++;
			last = now_ns();
		}
	}
	rxsvc_evc_close(c);
	report(wfd, got, last);
}

/* ---- naive subscriber (child): one recv per message ---- */
static void naive_sub(int fd, bool stream, int ready, int wfd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[65536];
	uint64_t got = 0;
	uint64_t last = 0;
	char one = 1;

	if (write(ready, &one, 1) != 1)
		_exit(2);
	while (got < nmsg && poll(&pfd, 1, IDLE_MS) > 0) {
		ssize_t n = stream ? recv(fd, buf, dlen, MSG_WAITALL)
				   : recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		got++;
		last = now_ns();
	}
	report(wfd, got, last);
}

struct run {
	bool stream;
	bool lossless;
	unsigned int nsubs;
	double rate;
	double recv_pct;
	bool ok;
};

/* Gather the children's results; fills rate and recv%. */
static void collect(struct run *r, pid_t *pids, int rfd, uint64_t start)
{
	uint64_t total = 0;
	uint64_t end = start;
	unsigned int i;

	r->ok = true;
	for (i = 0; i < r->nsubs; i++) {
		struct result res;

		if (read(rfd, &res, sizeof(res)) != sizeof(res)) {
			r->ok = false;
			continue;
		}
		total += res.got;
		if (res.last_ns > end)
			end = res.last_ns;
	}
	for (i = 0; i < r->nsubs; i++)
		waitpid(pids[i], NULL, 0);
	r->rate = end > start ? (double)nmsg * 1e9 / (double)(end - start) : 0;
	r->recv_pct = 100.0 * (double)total / ((double)nmsg * r->nsubs);
}

static void wait_ready(int rfd, unsigned int n)
{
	char c;

	while (n-- && read(rfd, &c, 1) == 1)
		;
}

static void run_bus(struct run *r)
{
	struct rxsvc_bus_params bp = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_evc_params cp = RXSVC_EVC_PARAMS_INIT;
	char path[128];
	char spath[128];
	union {
		struct rxsvc_cn_msg m;
		uint8_t b[sizeof(struct rxsvc_cn_msg) + 65536];
	} u;
	struct rxsvc_bus *bus;
	struct rxsvc_evc *pub;
	pid_t pids[64];
	int ready[2];
	int res[2];
	uint64_t start;
	unsigned long i;
	unsigned int k;

	snprintf(path, sizeof(path), "%s/bus.sock", dir);
	snprintf(spath, sizeof(spath), "%s/bus.stream", dir);
	bp.path = path;
	bp.stream_path = spath;
	bp.delivery = r->lossless ? RXSVC_BUS_LOSSLESS : RXSVC_BUS_LOSSY;
	if (rxsvc_bus_open(&bp, &bus) < 0 || pipe(ready) || pipe(res))
		exit(1);
	for (k = 0; k < r->nsubs; k++) {
		pids[k] = fork();
		if (pids[k] == 0)
			bus_sub(r->stream ? spath : path, r->stream, ready[1],
				res[1]);
	}
	wait_ready(ready[0], r->nsubs);
	cp.path = r->stream ? spath : path;
	cp.flags = RXSVC_EVC_SENDER | (r->stream ? RXSVC_EVC_STREAM : 0);
	if (rxsvc_evc_connect(&cp, &pub) < 0)
		exit(1);
	memset(&u, 0, sizeof(u));
	u.m.id.idx = 1;
	u.m.len = (uint16_t)dlen;
	start = now_ns();
	for (i = 0; i < nmsg; i++) {
		u.m.seq = (uint32_t)i;
		rxsvc_evc_send(pub, &u.m, GROUP,
			       (i + 1) % 64 ? RXSVC_EVC_MORE : 0);
	}
	rxsvc_evc_flush(pub);
	collect(r, pids, res[0], start);
	rxsvc_evc_close(pub);
	rxsvc_bus_close(bus);
	close(ready[0]);
	close(ready[1]);
	close(res[0]);
	close(res[1]);
}

static void run_naive(struct run *r)
{
	int type = r->stream ? SOCK_STREAM : SOCK_SEQPACKET;
	uint8_t msg[65536] = { 0 };
	int fds[64];
	pid_t pids[64];
	int ready[2];
	int res[2];
	uint64_t start;
	unsigned long i;
	unsigned int k;

	if (pipe(ready) || pipe(res))
		exit(1);
	for (k = 0; k < r->nsubs; k++) {
		int sv[2];

		if (socketpair(AF_UNIX, type, 0, sv) < 0)
			exit(1);
		pids[k] = fork();
		if (pids[k] == 0) {
			close(sv[0]);
			naive_sub(sv[1], r->stream, ready[1], res[1]);
		}
		close(sv[1]);
		fds[k] = sv[0];
	}
	wait_ready(ready[0], r->nsubs);
	start = now_ns();
	for (i = 0; i < nmsg; i++) {
		memcpy(msg, &i, sizeof(i));
		for (k = 0; k < r->nsubs; k++)
			if (send(fds[k], msg, dlen,
				 r->lossless ? 0 : MSG_DONTWAIT) < 0 &&
			    errno != EAGAIN)
				exit(1);
	}
	collect(r, pids, res[0], start);
	for (k = 0; k < r->nsubs; k++)
		close(fds[k]);
	close(ready[0]);
	close(ready[1]);
	close(res[0]);
	close(res[1]);
}

int main(int argc, char **argv)
{
	static const unsigned int subs[] = { 1, 8 };
	unsigned int s;
	unsigned int t;
	unsigned int l;

	if (argc > 1)
		nmsg = strtoul(argv[1], NULL, 10);
	if (argc > 2)
		dlen = (unsigned int)strtoul(argv[2], NULL, 10);
	if (!nmsg || !dlen || dlen > 4096) {
		fprintf(stderr,
			"usage: events_bench [MESSAGES] [BYTES<=4096]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/rxsvc-bench.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	printf("events_bench: %lu messages of %u bytes, 1 publisher\n", nmsg,
	       dlen);
	printf("%-10s %-9s %5s | %12s %6s | %12s %6s | %6s\n", "socket",
	       "policy", "subs", "rxsvc msg/s", "recv%", "naive msg/s", "recv%",
	       "ratio");
	for (t = 0; t < 2; t++) {
		for (l = 0; l < 2; l++) {
			for (s = 0; s < 2; s++) {
				struct run a = { .stream = t == 1,
						 .lossless = l == 1,
						 .nsubs = subs[s] };
				struct run b = a;

				run_bus(&a);
				run_naive(&b);
				printf("%-10s %-9s %5u | %12.0f %5.1f%% | "
				       "%12.0f %5.1f%% | %5.2fx%s\n",
				       a.stream ? "STREAM" : "SEQPACKET",
				       a.lossless ? "lossless" : "lossy",
				       a.nsubs, a.rate, a.recv_pct, b.rate,
				       b.recv_pct,
				       b.rate > 0 ? a.rate / b.rate : 0.0,
				       a.ok && b.ok ? "" : " (a child failed)");
				fflush(stdout);
			}
		}
	}
	rmdir(dir);
	return 0;
}
