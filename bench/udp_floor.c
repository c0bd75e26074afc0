/* SPDX-License-Identifier: MIT */
/*
 * udp_floor.c - what plain UDP does on this machine over 127.0.0.1, so that
 * bench/run.sh can print Rx figures next to the floor under them.
 *
 *   udp_floor pingpong [-n ROUNDTRIPS] [-s SIZE] [-t THREADS] [-a S:C]
 *       A forked echo process (one socket, one thread, blocking recvfrom +
 *       sendto) and THREADS client threads (a connect()ed socket each,
 *       blocking send + recv), ROUNDTRIPS in all, SIZE bytes each way
 *       (default 48: a 4-byte rxperf RPC's datagram size).  Prints
 *       round trips/s, latency p50/p99 and CPU (user+sys) per round trip
 *       of each side.
 *
 *   udp_floor blast [-s SIZE] [-d SECONDS] [-B BATCH] [-a S:C]
 *       A one-way stream of SIZE-byte datagrams (default 1444) sent in
 *       batches of BATCH (default 64) with sendmmsg for SECONDS (default
 *       1.0) to a forked receiver using recvmmsg.  Prints what the receiver
 *       got (MB/s of UDP payload, 1 MB = 10^6 bytes; packets/s) and the
 *       share lost.
 *
 * -a S:C pins the echo/receiver process to CPU S and the client/sender to
 * CPU C (default: no pinning; the caller may use taskset instead).
 * Output: one line of key=value pairs on stdout.  Everything is bounded by
 * a 60 s alarm.  Loopback only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXSIZE	 65000
#define MAXBATCH 256

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "udp_floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* In a forked peer: die with the parent, and never outlive the alarm. */
static void child_guard(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	alarm(60);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fail("sched_setaffinity");
}

static double ru_sec(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* A loopback UDP socket bound to an ephemeral port, big buffers. */
static int udp_socket(struct sockaddr_in *bound)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sz = 8 << 20;

	if (fd < 0)
		fail("socket");
	/* FORCE works as root; otherwise the plain call caps at rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail("bind");
	if (bound && getsockname(fd, (struct sockaddr *)bound, &len) < 0)
		fail("getsockname");
	return fd;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

/* ---------------------------------------------------------------- */

struct pp_worker {
	pthread_t tid;
	struct sockaddr_in srv;
	size_t size;
	long n;
	float *lat; /* n entries, microseconds */
	long done;
};

static void *pp_client(void *arg)
{
	struct pp_worker *w = arg;
	char buf[MAXSIZE];
	int fd = udp_socket(NULL);
	long i;

	memset(buf, 0, sizeof(buf));
	if (connect(fd, (struct sockaddr *)&w->srv, sizeof(w->srv)) < 0)
		fail("connect");
	for (i = 0; i < w->n; i++) {
		double t0 = mono();

		if (send(fd, buf, w->size, 0) < 0)
			fail("send");
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			fail("recv");
		w->lat[i] = (float)((mono() - t0) * 1e6);
		w->done++;
	}
	close(fd);
	return NULL;
}

static int pingpong(long n, size_t size, int threads, int cpu_srv,
		    int cpu_cli)
{
	struct sockaddr_in srv;
	struct pp_worker *w;
	struct rusage ru_self, ru_child;
	float *all;
	long total = 0, k = 0;
	double t0, el;
	int fd = udp_socket(&srv), status, i;
	pid_t child;

	child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		char buf[MAXSIZE];
		struct sockaddr_in from;

		child_guard();
		pin(cpu_srv);
		for (;;) {
			socklen_t fl = sizeof(from);
			ssize_t r = recvfrom(fd, buf, sizeof(buf), 0,
					     (struct sockaddr *)&from, &fl);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&from,
			       fl);
		}
	}
	close(fd);
	pin(cpu_cli);
	w = calloc((size_t)threads, sizeof(*w));
	if (!w)
		fail("calloc");
	t0 = mono();
	for (i = 0; i < threads; i++) {
		w[i].srv = srv;
		w[i].size = size;
		w[i].n = n / threads + (i < n % threads);
		w[i].lat = malloc(sizeof(float) * (size_t)(w[i].n + 1));
		if (!w[i].lat ||
		    pthread_create(&w[i].tid, NULL, pp_client, &w[i]) != 0)
			fail("thread");
	}
	for (i = 0; i < threads; i++)
		pthread_join(w[i].tid, NULL);
	el = mono() - t0;
	getrusage(RUSAGE_SELF, &ru_self);
	kill(child, SIGKILL);
	if (wait4(child, &status, 0, &ru_child) < 0)
		fail("wait4");
	for (i = 0; i < threads; i++)
		total += w[i].done;
	all = malloc(sizeof(float) * (size_t)(total + 1));
	for (i = 0; i < threads; i++) {
		memcpy(all + k, w[i].lat, sizeof(float) * (size_t)w[i].done);
		k += w[i].done;
	}
	qsort(all, (size_t)total, sizeof(float), cmp_float);
	printf("op=pingpong threads=%d size=%zu roundtrips=%ld seconds=%.3f "
	       "rt_per_sec=%.1f lat_us_p50=%.1f lat_us_p99=%.1f "
	       "cpu_us_server=%.2f cpu_us_client=%.2f\n",
	       threads, size, total, el, (double)total / el,
	       total ? all[total / 2] : 0.0,
	       total ? all[total * 99 / 100] : 0.0,
	       ru_sec(&ru_child) * 1e6 / (double)total,
	       ru_sec(&ru_self) * 1e6 / (double)total);
	return 0;
}

/* ---------------------------------------------------------------- */

struct blast_result {
	long long packets, bytes;
	double seconds; /* first to last data datagram received */
};

static void blast_receiver(int fd, int batch, int pipe_w)
{
	static char bufs[MAXBATCH][MAXSIZE + 1];
	struct mmsghdr msgs[MAXBATCH];
	struct iovec iov[MAXBATCH];
	struct blast_result res = { 0 };
	struct timeval tv = { .tv_sec = 1 };
	double first = 0, last = 0;
	int i, done = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < batch; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (!done) {
		int r = recvmmsg(fd, msgs, (unsigned int)batch,
				 MSG_WAITFORONE, NULL);
		int got = 0;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break; /* timeout: the end markers were lost */
		}
		for (i = 0; i < r; i++) {
			if (msgs[i].msg_len <= 1) { /* end marker */
				done = 1;
				break;
			}
			if (res.packets == 0)
				first = mono();
			res.packets++;
			res.bytes += msgs[i].msg_len;
			got = 1;
		}
		if (got)
			last = mono();
	}
	res.seconds = last - first;
	if (write(pipe_w, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

static int blast(size_t size, double seconds, int batch, int cpu_srv,
		 int cpu_cli)
{
	static char buf[MAXSIZE];
	struct mmsghdr msgs[MAXBATCH];
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct sockaddr_in dst;
	struct blast_result res;
	long long sent = 0;
	double t0, el;
	int rfd = udp_socket(&dst), sfd, p[2], i, status;
	pid_t child;

	if (pipe(p) < 0)
		fail("pipe");
	child = fork();
	if (child < 0)
		fail("fork");
	if (child == 0) {
		close(p[0]);
		child_guard();
		pin(cpu_srv);
		blast_receiver(rfd, batch, p[1]);
	}
	close(rfd);
	close(p[1]);
	pin(cpu_cli);
	sfd = udp_socket(NULL);
	if (connect(sfd, (struct sockaddr *)&dst, sizeof(dst)) < 0)
		fail("connect");
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	usleep(50000); /* let the receiver reach recvmmsg */
	t0 = mono();
	do {
		int r = sendmmsg(sfd, msgs, (unsigned int)batch, 0);

		if (r < 0) {
			if (errno == ENOBUFS || errno == EAGAIN ||
			    errno == EINTR)
				continue;
			fail("sendmmsg");
		}
		sent += r;
	} while ((el = mono() - t0) < seconds);
	/* End markers, spaced out so that a full receive buffer drains. */
	for (i = 0; i < 20; i++) {
		usleep(10000);
		send(sfd, buf, 1, 0);
	}
	if (read(p[0], &res, sizeof(res)) != sizeof(res))
		memset(&res, 0, sizeof(res));
	waitpid(child, &status, 0);
	if (res.seconds <= 0)
		res.seconds = el;
	printf("op=blast size=%zu batch=%d send_seconds=%.3f sent=%lld received=%lld "
	       "seconds=%.3f mb_per_sec=%.1f pkts_per_sec=%.0f loss_pct=%.2f\n",
	       size, batch, el, sent, res.packets, res.seconds,
	       (double)res.bytes / res.seconds / 1e6,
	       (double)res.packets / res.seconds,
	       sent ? 100.0 * (double)(sent - res.packets) / (double)sent
		    : 0.0);
	return 0;
}

/* ---------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: udp_floor pingpong [-n ROUNDTRIPS] [-s SIZE] "
		"[-t THREADS] [-a SRVCPU:CLICPU]\n"
		"       udp_floor blast [-s SIZE] [-d SECONDS] [-B BATCH] "
		"[-a SRVCPU:CLICPU]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *mode;
	long n = 20000;
	long size = -1;
	double seconds = 1.0;
	int threads = 1, batch = 64, cpu_srv = -1, cpu_cli = -1, c;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "n:s:t:d:B:a:")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 's': size = atol(optarg); break;
		case 't': threads = atoi(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'B': batch = atoi(optarg); break;
		case 'a':
			if (sscanf(optarg, "%d:%d", &cpu_srv, &cpu_cli) != 2)
				usage();
			break;
		default: usage();
		}
	}
	if (optind != argc || n < 1 || threads < 1 || threads > 1024 ||
	    batch < 1 || batch > MAXBATCH || seconds <= 0 || seconds > 30 ||
	    size > MAXSIZE)
		usage();
	signal(SIGPIPE, SIG_IGN);
	alarm(60);
	if (strcmp(mode, "pingpong") == 0)
		return pingpong(n, size < 1 ? 48 : (size_t)size, threads,
				cpu_srv, cpu_cli);
	if (strcmp(mode, "blast") == 0)
		return blast(size < 2 ? 1444 : (size_t)size, seconds, batch,
			     cpu_srv, cpu_cli);
	usage();
	return 2;
}
