/* SPDX-License-Identifier: MIT */
/*
 * udp_relay.c - a seeded lossy, slow UDP relay on 127.0.0.1 for bench/.
 *
 *   udp_relay -t PORT [-l PORT] [-P PORTFILE] [-L LOSS_PCT] [-D DELAY_MS]
 *             [-S SEED] [-T LIFETIME_S]
 *
 * Listens on 127.0.0.1:PORT (-l, default 0 = any free port, written to
 * PORTFILE when given) and forwards each client's datagrams to
 * 127.0.0.1:PORT (-t) from an upstream socket of that client's own (so
 * the target sees one peer per client), and the target's replies back.
 * In both directions every datagram is dropped with probability LOSS_PCT
 * percent (a decimal, default 0) and the others are delayed by DELAY_MS
 * milliseconds (a decimal, default 0; the order is kept).  The drop
 * decisions come from a PRNG per direction seeded with SEED (default 1):
 * for a given seed the Nth datagram of a direction always has the same
 * fate.  Runs LIFETIME_S seconds (default 300) or until SIGTERM/SIGINT,
 * then prints "udp_relay: c2s in=N drop=N out=N s2c in=N drop=N out=N"
 * on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXDGRAM   65536
#define MAXCLIENTS 32
#define MAXQUEUED  200000 /* datagrams in flight in the delay line */

enum { C2S, S2C };

struct dgram {
	struct dgram *next;
	double due;
	int fd;                  /* socket to send from */
	int dir;
	struct sockaddr_in to;
	size_t len;
	unsigned char data[];
};

struct client {
	struct sockaddr_in addr; /* the client's address */
	int fd;                  /* our upstream socket for it */
};

struct dir {
	uint64_t prng;
	unsigned long long in, drop, out, overflow, sendfail;
};

static struct client clients[MAXCLIENTS];
static int nclients;
static struct dir dirs[2];
static struct dgram *q_head, *q_tail; /* one delay line: same delay, FIFO */
static long queued;
static volatile sig_atomic_t stop;

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "udp_relay: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* splitmix64: small, seedable, good enough for drop decisions. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int loopback_socket(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int sz = 4 << 20;

	if (fd < 0)
		fail("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail("bind");
	return fd;
}

/* Drop it, or queue it to go out from @fd to @to after the delay. */
static void relay(int d, const unsigned char *buf, size_t len, int fd,
		  const struct sockaddr_in *to, double loss, double delay)
{
	struct dgram *g;

	dirs[d].in++;
	/* 53 random bits as a uniform double in [0, 100). */
	if (loss > 0 &&
	    (double)(next_rand(&dirs[d].prng) >> 11) / 9007199254740992.0 *
			    100.0 < loss) {
		dirs[d].drop++;
		return;
	}
	if (queued >= MAXQUEUED) {
		dirs[d].overflow++;
		return;
	}
	g = malloc(sizeof(*g) + len);
	if (!g)
		fail("malloc");
	g->next = NULL;
	g->due = mono() + delay;
	g->fd = fd;
	g->dir = d;
	g->to = *to;
	g->len = len;
	memcpy(g->data, buf, len);
	if (q_tail)
		q_tail->next = g;
	else
		q_head = g;
	q_tail = g;
	queued++;
}

/* Send everything that is due; the return is the next due time or 0. */
static double flush(void)
{
	double t = mono();

	while (q_head && q_head->due <= t) {
		struct dgram *g = q_head;

		q_head = g->next;
		if (!q_head)
			q_tail = NULL;
		queued--;
		/* A full socket buffer drops, like a congested link would. */
		if (sendto(g->fd, g->data, g->len, MSG_DONTWAIT,
			   (struct sockaddr *)&g->to, sizeof(g->to)) >= 0)
			dirs[g->dir].out++;
		else
			dirs[g->dir].sendfail++;
		free(g);
	}
	return q_head ? q_head->due : 0;
}

static struct client *client_for(const struct sockaddr_in *from)
{
	int i;

	for (i = 0; i < nclients; i++)
		if (clients[i].addr.sin_port == from->sin_port &&
		    clients[i].addr.sin_addr.s_addr == from->sin_addr.s_addr)
			return &clients[i];
	if (nclients == MAXCLIENTS)
		return NULL;
	clients[nclients].addr = *from;
	clients[nclients].fd = loopback_socket(0);
	return &clients[nclients++];
}

static void usage(void)
{
	fprintf(stderr, "usage: udp_relay -t PORT [-l PORT] [-P PORTFILE] "
			"[-L LOSS_PCT] [-D DELAY_MS] [-S SEED] "
			"[-T LIFETIME_S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static unsigned char buf[MAXDGRAM];
	struct sockaddr_in target = { .sin_family = AF_INET }, bound;
	socklen_t blen = sizeof(bound);
	const char *port_file = NULL;
	double loss = 0, delay = 0, lifetime = 300, end;
	unsigned long long seed = 1;
	int lport = 0, tport = -1, lfd, c, i;

	while ((c = getopt(argc, argv, "t:l:P:L:D:S:T:")) != -1) {
		switch (c) {
		case 't': tport = atoi(optarg); break;
		case 'l': lport = atoi(optarg); break;
		case 'P': port_file = optarg; break;
		case 'L': loss = atof(optarg); break;
		case 'D': delay = atof(optarg) / 1000.0; break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'T': lifetime = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || tport <= 0 || tport > 65535 || lport < 0 ||
	    lport > 65535 || loss < 0 || loss > 100 || delay < 0 ||
	    lifetime <= 0)
		usage();
	target.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	target.sin_port = htons((uint16_t)tport);
	dirs[C2S].prng = seed * 2 + 1;
	dirs[S2C].prng = seed * 2 + 2;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	lfd = loopback_socket(lport);
	if (getsockname(lfd, (struct sockaddr *)&bound, &blen) < 0)
		fail("getsockname");
	if (port_file) {
		char tmp[4096];
		FILE *f;

		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", ntohs(bound.sin_port)) < 0 ||
		    fclose(f) != 0 || rename(tmp, port_file) < 0)
			fail(port_file);
	} else {
		printf("%d\n", ntohs(bound.sin_port));
		fflush(stdout);
	}
	end = mono() + lifetime;
	while (!stop && mono() < end) {
		struct pollfd pfd[MAXCLIENTS + 1];
		struct timespec ts;
		double next = flush(), t = mono();

		pfd[0].fd = lfd;
		pfd[0].events = POLLIN;
		for (i = 0; i < nclients; i++) {
			pfd[i + 1].fd = clients[i].fd;
			pfd[i + 1].events = POLLIN;
		}
		if (next == 0 || next > end)
			next = end;
		if (next > t) {
			ts.tv_sec = (time_t)(next - t);
			ts.tv_nsec = (long)((next - t - (double)ts.tv_sec) * 1e9);
		} else {
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
		}
		if (ppoll(pfd, (nfds_t)nclients + 1, &ts, NULL) < 0) {
			if (errno == EINTR)
				continue;
			fail("ppoll");
		}
		/* Drain each readable socket (bounded, to stay fair). */
		if (pfd[0].revents & POLLIN) {
			for (i = 0; i < 256; i++) {
				struct sockaddr_in from;
				socklen_t fl = sizeof(from);
				struct client *cl;
				ssize_t r = recvfrom(lfd, buf, sizeof(buf),
						     MSG_DONTWAIT,
						     (struct sockaddr *)&from,
						     &fl);

				if (r < 0)
					break;
				cl = client_for(&from);
				if (cl)
					relay(C2S, buf, (size_t)r, cl->fd,
					      &target, loss, delay);
			}
		}
		for (c = 0; c < nclients; c++) {
			if (!(pfd[c + 1].revents & POLLIN))
				continue;
			for (i = 0; i < 256; i++) {
				ssize_t r = recv(clients[c].fd, buf,
						 sizeof(buf), MSG_DONTWAIT);

				if (r < 0)
					break;
				relay(S2C, buf, (size_t)r, lfd,
				      &clients[c].addr, loss, delay);
			}
		}
	}
	fprintf(stderr,
		"udp_relay: c2s in=%llu drop=%llu out=%llu overflow=%llu "
		"sendfail=%llu s2c in=%llu drop=%llu out=%llu overflow=%llu "
		"sendfail=%llu\n",
		dirs[C2S].in, dirs[C2S].drop, dirs[C2S].out, dirs[C2S].overflow,
		dirs[C2S].sendfail, dirs[S2C].in, dirs[S2C].drop,
		dirs[S2C].out, dirs[S2C].overflow, dirs[S2C].sendfail);
	return 0;
}
