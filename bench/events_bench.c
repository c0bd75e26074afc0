/* SPDX-License-Identifier: MIT */
/*
 * events_bench: one publisher, 1, 8 and 64 subscriber processes; for
 * each, messages per second and delivery latency through the rxsvc bus
 * (SOCK_SEQPACKET and SOCK_STREAM clients, lossy and lossless) and, in
 * the same run, through a plain AF_UNIX datagram fan-out written the
 * obvious way: a SOCK_DGRAM socketpair per subscriber, the publisher
 * does one send() per message per subscriber (blocking for "lossless",
 * MSG_DONTWAIT and drop on EAGAIN for "lossy"), each subscriber one
 * recv() per message.  Prints one table.
 *
 * usage: events_bench [-m MESSAGES] [-D DELIVERIES] [-b BYTES]
 *                     [-l LAT_MESSAGES] [-r LAT_RATE] [-s SUBS[,SUBS...]]
 *
 * Each configuration runs twice with fresh subscriber processes:
 * - Throughput: min(MESSAGES, DELIVERIES / subs) messages (at least
 *   2000) sent as fast as the publisher can (rxsvc: 64 per write).
 *   Time runs from the first send to the last message received by the
 *   slowest subscriber (CLOCK_MONOTONIC, shared by the processes); the
 *   rate is messages received per subscriber per second of that (what
 *   a lossy policy dropped does not count).  "recv%" is how much of
 *   what was sent the subscribers received, on average (< 100 only
 *   under a lossy policy).
 * - Latency: LAT_MESSAGES messages paced at LAT_RATE per second, each
 *   stamped with CLOCK_MONOTONIC just before its send; each subscriber
 *   takes the difference on receipt.  p50 and p99 are over every
 *   (message, subscriber) pair received.  Paced, so this is the latency
 *   of a bus that keeps up, not of a full queue.
 * Not part of `make check`: bench/events_run.sh runs it.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <rxsvc/events.h>

#define GROUP	   42
#define IDLE_MS	   400
#define MAX_SUBS   64
#define PHASE_TPUT 1
#define PHASE_LAT  2

enum transport {
	T_SEQPACKET, /* rxsvc bus, SOCK_SEQPACKET clients */
	T_STREAM,    /* rxsvc bus, SOCK_STREAM clients */
	T_DGRAM,     /* naive AF_UNIX SOCK_DGRAM fan-out */
};

/* What one subscriber reports, in memory shared with the parent. */
struct result {
	int done;
	uint64_t got;
	uint64_t last_ns;
	uint32_t nlat;
};

struct run {
	enum transport t;
	bool lossless;
	unsigned int nsubs;
	unsigned long nmsg;
	double rate;
	double recv_pct;
	double p50_us;
	double p99_us;
	bool ok;
};

static unsigned long max_msgs = 100000;
static unsigned long deliveries = 640000;
static unsigned int dlen = 64;
static unsigned int lat_n = 1000;
static unsigned int lat_rate = 1000;
static char dir[64];

/* Shared with the children of one run. */
static struct result *res;
static uint32_t *lat; /* [MAX_SUBS][lat_n] nanoseconds */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

/* Message data: u64 send time (latency phase), the rest zero. */
static void stamp(uint8_t *data)
{
	uint64_t t = now_ns();

	memcpy(data, &t, sizeof(t));
}

/*
 * A message received by subscriber @k: count it and, in the latency
 * phase, record its delay.  Returns true once the last one is in.
 */
static bool sub_got(unsigned int k, int phase, unsigned long want,
		    const uint8_t *data)
{
	struct result *r = &res[k];
	uint64_t now = now_ns();

	r->got++;
	r->last_ns = now;
	if (phase == PHASE_LAT && r->nlat < lat_n) {
		uint64_t sent;

		memcpy(&sent, data, sizeof(sent));
		lat[(size_t)k * lat_n + r->nlat++] =
			now - sent > UINT32_MAX ? UINT32_MAX
						: (uint32_t)(now - sent);
	}
	return r->got >= want;
}

/* ---- rxsvc bus subscriber (child) ---- */
static void bus_sub(const char *path, bool stream, unsigned int k, int phase,
		    unsigned long want, int ready)
{
	struct rxsvc_evc_params p = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_evc_event ev;
	struct rxsvc_evc *c;
	char one = 1;

	p.path = path;
	p.flags = stream ? RXSVC_EVC_STREAM : 0;
	if (rxsvc_evc_connect(&p, &c) < 0 || rxsvc_evc_join(c, GROUP) < 0)
		_exit(2);
	if (write(ready, &one, 1) != 1)
		_exit(2);
	for (;;) {
		int r = rxsvc_evc_recv(c, &ev, IDLE_MS);

		if (r <= 0)
			break;
		if (ev.kind == RXSVC_EVC_MSG &&
		    sub_got(k, phase, want, ev.msg->data))
			break;
	}
	res[k].done = 1;
	rxsvc_evc_close(c);
	_exit(0);
}

/* ---- naive subscriber (child): one recv per message ---- */
static void naive_sub(int fd, unsigned int k, int phase, unsigned long want,
		      int ready)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint8_t buf[65536];
	char one = 1;

	if (write(ready, &one, 1) != 1)
		_exit(2);
	while (poll(&pfd, 1, IDLE_MS) > 0) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		if (sub_got(k, phase, want, buf))
			break;
	}
	res[k].done = 1;
	_exit(0);
}

static void wait_ready(int rfd, unsigned int n)
{
	char c;

	while (n-- && read(rfd, &c, 1) == 1)
		;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a;
	uint32_t y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Reap the children; fill rate and recv% or the percentiles. */
static void collect(struct run *r, const pid_t *pids, int phase,
		    unsigned long sent, uint64_t start)
{
	uint64_t total = 0;
	uint64_t end = start;
	size_t nl = 0;
	unsigned int i;

	for (i = 0; i < r->nsubs; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) || !res[i].done)
			r->ok = false;
		total += res[i].got;
		if (res[i].last_ns > end)
			end = res[i].last_ns;
		/* Pack each child's samples after the previous ones. */
		memmove(lat + nl, lat + (size_t)i * lat_n,
			res[i].nlat * sizeof(*lat));
		nl += res[i].nlat;
	}
	if (phase == PHASE_TPUT) {
		/* Received per subscriber: drops do not count as speed. */
		r->rate = end > start ? (double)total / r->nsubs * 1e9 /
						(double)(end - start)
				      : 0;
		r->recv_pct = 100.0 * (double)total / ((double)sent * r->nsubs);
		return;
	}
	if (!nl) {
		r->ok = false;
		return;
	}
	qsort(lat, nl, sizeof(*lat), cmp_u32);
	r->p50_us = lat[nl / 2] / 1e3;
	r->p99_us = lat[nl * 99 / 100] / 1e3;
}

static void reset_results(void)
{
	memset(res, 0, MAX_SUBS * sizeof(*res));
}

/* Send @n messages: as fast as possible, or paced at lat_rate. */
static void bus_publish(struct rxsvc_evc *pub, struct rxsvc_cn_msg *m,
			int phase, unsigned long n)
{
	uint64_t t0 = now_ns();
	uint64_t gap = 1000000000u / lat_rate;
	unsigned long i;

	for (i = 0; i < n; i++) {
		m->seq = (uint32_t)i;
		if (phase == PHASE_LAT) {
			sleep_until(t0 + i * gap);
			stamp(m->data);
			rxsvc_evc_send(pub, m, GROUP, 0);
			continue;
		}
		rxsvc_evc_send(pub, m, GROUP,
			       (i + 1) % 64 ? RXSVC_EVC_MORE : 0);
	}
	rxsvc_evc_flush(pub);
}

static void run_bus(struct run *r, int phase)
{
	struct rxsvc_bus_params bp = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_evc_params cp = RXSVC_EVC_PARAMS_INIT;
	bool stream = r->t == T_STREAM;
	unsigned long n = phase == PHASE_LAT ? lat_n : r->nmsg;
	struct rxsvc_cn_msg *m;
	struct rxsvc_bus *bus;
	struct rxsvc_evc *pub;
	pid_t pids[MAX_SUBS];
	char path[128];
	char spath[128];
	int ready[2];
	uint64_t start;
	unsigned int k;

	snprintf(path, sizeof(path), "%s/bus.sock", dir);
	snprintf(spath, sizeof(spath), "%s/bus.stream", dir);
	bp.path = path;
	bp.stream_path = spath;
	bp.max_subscribers = MAX_SUBS + 8;
	bp.delivery = r->lossless ? RXSVC_BUS_LOSSLESS : RXSVC_BUS_LOSSY;
	if (rxsvc_bus_open(&bp, &bus) < 0 || pipe(ready))
		exit(1);
	reset_results();
	for (k = 0; k < r->nsubs; k++) {
		pids[k] = fork();
		if (pids[k] == 0)
			bus_sub(stream ? spath : path, stream, k, phase, n,
				ready[1]);
	}
	wait_ready(ready[0], r->nsubs);
	cp.path = stream ? spath : path;
	cp.flags = RXSVC_EVC_SENDER | (stream ? RXSVC_EVC_STREAM : 0);
	if (rxsvc_evc_connect(&cp, &pub) < 0)
		exit(1);
	m = calloc(1, sizeof(*m) + dlen);
	if (!m)
		exit(1);
	m->id.idx = 1;
	m->len = (uint16_t)dlen;
	start = now_ns();
	bus_publish(pub, m, phase, n);
	collect(r, pids, phase, n, start);
	rxsvc_evc_close(pub);
	rxsvc_bus_close(bus);
	free(m);
	close(ready[0]);
	close(ready[1]);
}

/* One send per subscriber; a gone subscriber is left out from then on. */
static void naive_fan_out(int *fds, unsigned int nsubs, const uint8_t *msg,
			  int flags, struct run *r)
{
	unsigned int k;

	for (k = 0; k < nsubs; k++) {
		if (fds[k] < 0 || send(fds[k], msg, dlen, flags) >= 0 ||
		    errno == EAGAIN)
			continue;
		r->ok = false;
		close(fds[k]);
		fds[k] = -1;
	}
}

static void run_naive(struct run *r, int phase)
{
	unsigned long n = phase == PHASE_LAT ? lat_n : r->nmsg;
	int flags = r->lossless ? 0 : MSG_DONTWAIT;
	uint64_t gap = 1000000000u / lat_rate;
	uint8_t msg[4096] = { 0 };
	pid_t pids[MAX_SUBS];
	int fds[MAX_SUBS];
	int ready[2];
	uint64_t start;
	unsigned long i;
	unsigned int k;

	if (pipe(ready))
		exit(1);
	reset_results();
	for (k = 0; k < r->nsubs; k++) {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
			exit(1);
		pids[k] = fork();
		if (pids[k] == 0) {
			close(sv[0]);
			naive_sub(sv[1], k, phase, n, ready[1]);
		}
		close(sv[1]);
		fds[k] = sv[0];
	}
	wait_ready(ready[0], r->nsubs);
	start = now_ns();
	for (i = 0; i < n; i++) {
		if (phase == PHASE_LAT) {
			sleep_until(start + i * gap);
			stamp(msg);
		}
		naive_fan_out(fds, r->nsubs, msg, flags, r);
	}
	collect(r, pids, phase, n, start);
	for (k = 0; k < r->nsubs; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	close(ready[0]);
	close(ready[1]);
}

static void run_one(struct run *r)
{
	r->ok = true;
	r->nmsg = deliveries / r->nsubs;
	if (r->nmsg > max_msgs)
		r->nmsg = max_msgs;
	if (r->nmsg < 2000)
		r->nmsg = 2000;
	if (r->t == T_DGRAM) {
		run_naive(r, PHASE_TPUT);
		run_naive(r, PHASE_LAT);
	} else {
		run_bus(r, PHASE_TPUT);
		run_bus(r, PHASE_LAT);
	}
}

static void print_row(const struct run *r, double naive_rate)
{
	static const char *const names[] = { "rxsvc SEQPACKET", "rxsvc STREAM",
					     "naive DGRAM" };

	printf("%-9s %4u  %-16s %7lu %12.0f %6.1f%% %7.2fx %9.1f %9.1f%s\n",
	       r->lossless ? "lossless" : "lossy", r->nsubs, names[r->t],
	       r->nmsg, r->rate, r->recv_pct,
	       naive_rate > 0 ? r->rate / naive_rate : 0.0, r->p50_us,
	       r->p99_us, r->ok ? "" : "  (a child failed)");
	fflush(stdout);
}

static int parse_subs(const char *s, unsigned int *subs, unsigned int *n)
{
	char *end;

	*n = 0;
	while (*s && *n < 8) {
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || !v || v > MAX_SUBS)
			return -1;
		subs[(*n)++] = (unsigned int)v;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *n ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: events_bench [-m MESSAGES] [-D DELIVERIES] "
			"[-b BYTES] [-l LAT_MESSAGES] [-r LAT_RATE] "
			"[-s SUBS[,SUBS...]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned int subs[8] = { 1, 8, 64 };
	unsigned int nsubs = 3;
	unsigned int s;
	unsigned int l;
	unsigned int t;
	int opt;

	while ((opt = getopt(argc, argv, "m:D:b:l:r:s:")) != -1) {
		switch (opt) {
		case 'm':
			max_msgs = strtoul(optarg, NULL, 10);
			break;
		case 'D':
			deliveries = strtoul(optarg, NULL, 10);
			break;
		case 'b':
			dlen = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'l':
			lat_n = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			lat_rate = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 's':
			if (parse_subs(optarg, subs, &nsubs) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (!max_msgs || !deliveries || dlen < 8 || dlen > 4096 || !lat_n ||
	    !lat_rate || lat_rate > 1000000)
		usage();
	res = mmap(NULL,
		   MAX_SUBS * sizeof(*res) +
			   (size_t)MAX_SUBS * lat_n * sizeof(*lat),
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return 1;
	lat = (uint32_t *)(void *)(res + MAX_SUBS);
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/rxsvc-bench.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	printf("events_bench: 1 publisher, %u-byte messages; throughput: "
	       "min(%lu, %lu/subs) messages, flat out;\n"
	       "latency: %u messages paced at %u/s, send to receipt "
	       "(CLOCK_MONOTONIC), over all subscribers\n",
	       dlen, max_msgs, deliveries, lat_n, lat_rate);
	printf("%-9s %4s  %-16s %7s %12s %7s %8s %9s %9s\n", "policy", "subs",
	       "transport", "msgs", "msg/s", "recv%", "x naive", "p50 us",
	       "p99 us");
	for (l = 0; l < 2; l++) {
		for (s = 0; s < nsubs; s++) {
			struct run runs[3];

			for (t = 0; t < 3; t++) {
				memset(&runs[t], 0, sizeof(runs[t]));
				runs[t].t = (enum transport)t;
				runs[t].lossless = l == 1;
				runs[t].nsubs = subs[s];
			}
			/* The naive one first: its rate is the yardstick. */
			run_one(&runs[T_DGRAM]);
			run_one(&runs[T_SEQPACKET]);
			run_one(&runs[T_STREAM]);
			for (t = 0; t < 3; t++)
				print_row(&runs[t], runs[T_DGRAM].rate);
		}
	}
	rmdir(dir);
	return 0;
}
