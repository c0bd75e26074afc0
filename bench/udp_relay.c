/* SPDX-License-Identifier: MIT */
/*
 * udp_relay.c - a seeded lossy UDP relay on 127.0.0.1 for bench/: it
 * drops, duplicates, reorders and delays datagrams, in both directions.
 *
 *   udp_relay -t PORT [-l PORT] [-P PORTFILE] [-L DROP_PCT] [-U DUP_PCT]
 *             [-O REORDER_PCT] [-r REORDER_MS] [-D DELAY_MS] [-S SEED]
 *             [-T LIFETIME_S]
 *
 * Listens on 127.0.0.1:PORT (-l, default 0 = any free port, written to
 * PORTFILE when given) and forwards each client's datagrams to
 * 127.0.0.1:PORT (-t) from an upstream socket of that client's own (so
 * the target sees one peer per client), and the target's replies back.
 *
 * In each direction, every datagram meets this fate:
 *   - it is dropped with probability DROP_PCT percent (default 0);
 *   - otherwise it goes out after DELAY_MS milliseconds (default 0), and
 *     with probability DUP_PCT percent (default 0) it goes out twice,
 *     back to back;
 *   - with probability REORDER_PCT percent (default 0) it is held
 *     REORDER_MS milliseconds longer (default 1), so that the datagrams
 *     behind it overtake it.
 * All percentages are decimals.  The decisions come from a PRNG per
 * direction seeded with SEED (default 1), and every datagram takes the
 * same three draws whatever befalls it, so for a given seed the Nth
 * datagram of a direction always meets the same fate.
 *
 * Runs LIFETIME_S seconds (default 300) or until SIGTERM/SIGINT, then
 * prints one line of counters per direction on stderr:
 * "udp_relay: c2s in=N drop=N dup=N reorder=N out=N bytes=N ... s2c ...".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#define MAXQUEUED  200000 /* datagrams in flight in the delay lines */

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

/* A delay line: every datagram in it waits the same time, so it is FIFO. */
struct line {
	struct dgram *head, *tail;
};

struct client {
	struct sockaddr_in addr; /* the client's address */
	int fd;                  /* our upstream socket for it */
};

struct dir {
	uint64_t prng;
	unsigned long long in, drop, dup, reorder, out, bytes, overflow,
		sendfail;
};

static struct client clients[MAXCLIENTS];
static int nclients;
static struct dir dirs[2];
static struct line on_time, late; /* late: the reordered datagrams */
static long queued;
static double drop_pct, dup_pct, reorder_pct, delay, reorder_delay = 0.001;
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

/* splitmix64: small, seedable, good enough for these decisions. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One draw: true with probability @pct percent. */
static int chance(uint64_t *s, double pct)
{
	/* 53 random bits as a uniform double in [0, 100). */
	double r = (double)(next_rand(s) >> 11) / 9007199254740992.0 * 100.0;

	return r < pct;
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

static void enqueue(struct line *l, int d, const unsigned char *buf,
		    size_t len, int fd, const struct sockaddr_in *to,
		    double due)
{
	struct dgram *g;

	if (queued >= MAXQUEUED) {
		dirs[d].overflow++;
		return;
	}
	g = malloc(sizeof(*g) + len);
	if (!g)
		fail("malloc");
	g->next = NULL;
	g->due = due;
	g->fd = fd;
	g->dir = d;
	g->to = *to;
	g->len = len;
	memcpy(g->data, buf, len);
	if (l->tail)
		l->tail->next = g;
	else
		l->head = g;
	l->tail = g;
	queued++;
}

/* Decide the fate of one datagram from @fd to @to, and queue it. */
static void relay(int d, const unsigned char *buf, size_t len, int fd,
		  const struct sockaddr_in *to)
{
	struct dir *dr = &dirs[d];
	int drop = chance(&dr->prng, drop_pct);
	int dup = chance(&dr->prng, dup_pct);
	int reorder = chance(&dr->prng, reorder_pct);
	struct line *l = &on_time;
	double due = mono() + delay;

	dr->in++;
	if (drop) {
		dr->drop++;
		return;
	}
	if (reorder) {
		dr->reorder++;
		l = &late;
		due += reorder_delay;
	}
	enqueue(l, d, buf, len, fd, to, due);
	if (dup) {
		dr->dup++;
		enqueue(l, d, buf, len, fd, to, due);
	}
}

/* The line whose head is due first, or NULL when both are empty. */
static struct line *first_line(void)
{
	if (!on_time.head)
		return late.head ? &late : NULL;
	if (!late.head)
		return &on_time;
	return late.head->due < on_time.head->due ? &late : &on_time;
}

/* Send everything that is due; the return is the next due time or 0. */
static double flush(void)
{
	double t = mono();
	struct line *l;

	while ((l = first_line()) && l->head->due <= t) {
		struct dgram *g = l->head;

		l->head = g->next;
		if (!l->head)
			l->tail = NULL;
		queued--;
		/* A full socket buffer drops, like a congested link would. */
		if (sendto(g->fd, g->data, g->len, MSG_DONTWAIT,
			   (struct sockaddr *)&g->to, sizeof(g->to)) >= 0) {
			dirs[g->dir].out++;
			dirs[g->dir].bytes += g->len;
		} else {
			dirs[g->dir].sendfail++;
		}
		free(g);
	}
	l = first_line();
	return l ? l->head->due : 0;
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
			"[-L DROP_PCT] [-U DUP_PCT] [-O REORDER_PCT] "
			"[-r REORDER_MS] [-D DELAY_MS] [-S SEED] "
			"[-T LIFETIME_S]\n");
	exit(2);
}

static int bad_pct(double p)
{
	return !(p >= 0 && p <= 100);
}

static void write_port(const char *port_file, int port)
{
	char tmp[4096];
	FILE *f;

	if (!port_file) {
		printf("%d\n", port);
		fflush(stdout);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp, port_file) < 0)
		fail(port_file);
}

static void drain_listener(int lfd, unsigned char *buf,
			   const struct sockaddr_in *target)
{
	int i;

	for (i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		struct client *cl;
		ssize_t r = recvfrom(lfd, buf, MAXDGRAM, MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (r < 0)
			break;
		cl = client_for(&from);
		if (cl)
			relay(C2S, buf, (size_t)r, cl->fd, target);
	}
}

static void drain_upstream(int lfd, struct client *cl, unsigned char *buf)
{
	int i;

	for (i = 0; i < 256; i++) {
		ssize_t r = recv(cl->fd, buf, MAXDGRAM, MSG_DONTWAIT);

		if (r < 0)
			break;
		relay(S2C, buf, (size_t)r, lfd, &cl->addr);
	}
}

static void print_dir(const char *name, const struct dir *d)
{
	fprintf(stderr,
		" %s in=%llu drop=%llu dup=%llu reorder=%llu out=%llu "
		"bytes=%llu overflow=%llu sendfail=%llu",
		name, d->in, d->drop, d->dup, d->reorder, d->out, d->bytes,
		d->overflow, d->sendfail);
}

int main(int argc, char **argv)
{
	static unsigned char buf[MAXDGRAM];
	struct sockaddr_in target = { .sin_family = AF_INET }, bound;
	socklen_t blen = sizeof(bound);
	const char *port_file = NULL;
	double lifetime = 300, end;
	unsigned long long seed = 1;
	int lport = 0, tport = -1, lfd, c, i;

	while ((c = getopt(argc, argv, "t:l:P:L:U:O:r:D:S:T:")) != -1) {
		switch (c) {
		case 't': tport = atoi(optarg); break;
		case 'l': lport = atoi(optarg); break;
		case 'P': port_file = optarg; break;
		case 'L': drop_pct = atof(optarg); break;
		case 'U': dup_pct = atof(optarg); break;
		case 'O': reorder_pct = atof(optarg); break;
		case 'r': reorder_delay = atof(optarg) / 1000.0; break;
		case 'D': delay = atof(optarg) / 1000.0; break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'T': lifetime = atof(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || tport <= 0 || tport > 65535 || lport < 0 ||
	    lport > 65535 || bad_pct(drop_pct) || bad_pct(dup_pct) ||
	    bad_pct(reorder_pct) || !(delay >= 0) || !(reorder_delay >= 0) ||
	    !(lifetime > 0))
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
	write_port(port_file, ntohs(bound.sin_port));
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
		if (pfd[0].revents & POLLIN)
			drain_listener(lfd, buf, &target);
		for (c = 0; c < nclients; c++)
			if (pfd[c + 1].revents & POLLIN)
				drain_upstream(lfd, &clients[c], buf);
	}
	fprintf(stderr, "udp_relay:");
	print_dir("c2s", &dirs[C2S]);
	print_dir("s2c", &dirs[S2C]);
	fprintf(stderr, "\n");
	return 0;
}
