/* SPDX-License-Identifier: MIT */
/*
 * rxsvc-eventd: the event bus as a daemon.  It opens a bus with
 * rxsvc_bus_open() (the same bus any program can embed), listens on an
 * AF_UNIX SOCK_SEQPACKET socket (and optionally a SOCK_STREAM one) and
 * runs until SIGTERM or SIGINT.  With --link-listen and --link-connect
 * it joins other buses over TCP; a linked bus has the rights of
 * --link-rights (default rw).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <rxsvc/events.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxsvc-eventd [--socket PATH] [--stream-socket PATH]\n"
		"                    [--mode OCTAL] [--policy lossy|lossless]\n"
		"                    [--route broadcast|idfilter]\n"
		"                    [--max-subscribers N] [--mtu N] [--pool N]\n"
		"                    [--queue N] [--ready-file FILE]\n"
		"                    [--link-listen HOST:PORT] [--link-port-file FILE]\n"
		"                    [--link-connect HOST:PORT ...] [--link-rights rwx]\n");
}

static int parse_uint(const char *s, int base, unsigned int *v)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, base);
	if (errno || end == s || *end || n > UINT_MAX)
		return -1;
	*v = (unsigned int)n;
	return 0;
}

/* "rw", "r-x", "-" ... or one octal digit, into RXSVC_BUS_* bits. */
static int parse_rights(const char *s, unsigned int *v)
{
	unsigned int r = 0;

	if (s[0] >= '0' && s[0] <= '7' && !s[1]) {
		*v = (unsigned int)(s[0] - '0');
		return 0;
	}
	for (; *s; s++) {
		if (*s == 'r')
			r |= RXSVC_BUS_R;
		else if (*s == 'w')
			r |= RXSVC_BUS_W;
		else if (*s == 'x')
			r |= RXSVC_BUS_X;
		else if (*s != '-')
			return -1;
	}
	*v = r;
	return 0;
}

static int write_port_file(const char *file, int port)
{
	FILE *f = fopen(file, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", port);
	return fclose(f);
}

/* $XDG_RUNTIME_DIR/rxsvc/events.sock, or /run/rxsvc/events.sock (root). */
static const char *default_socket(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char dir[PATH_MAX];

	if (geteuid() == 0 || !rt || !*rt)
		rt = "/run";
	if (snprintf(dir, sizeof(dir), "%s/rxsvc", rt) >= (int)sizeof(dir) - 16)
		rt = "/run";
	snprintf(dir, sizeof(dir), "%s/rxsvc", rt);
	mkdir(dir, 0755);
	if (snprintf(buf, len, "%.*s/events.sock", (int)(len - 16), dir) >=
	    (int)len)
		buf[0] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "stream-socket", required_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'm' },
		{ "policy", required_argument, NULL, 'p' },
		{ "route", required_argument, NULL, 'r' },
		{ "max-subscribers", required_argument, NULL, 'n' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "pool", required_argument, NULL, 'P' },
		{ "queue", required_argument, NULL, 'q' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "link-listen", required_argument, NULL, 'l' },
		{ "link-port-file", required_argument, NULL, 'L' },
		{ "link-connect", required_argument, NULL, 'c' },
		{ "link-rights", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	const char *ready = NULL;
	const char *port_file = NULL;
	const char *connects[16];
	unsigned int nconnects = 0;
	unsigned int i;
	char defpath[PATH_MAX];
	struct rxsvc_bus *bus;
	sigset_t set;
	unsigned int *field;
	int base;
	int sig;
	int ret;
	int c;

	p.mode = 0660;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		field = NULL;
		base = 10;
		switch (c) {
		case 's':
			p.path = optarg;
			break;
		case 'S':
			p.stream_path = optarg;
			break;
		case 'm':
			field = &p.mode;
			base = 8;
			break;
		case 'p':
			if (!strcmp(optarg, "lossy"))
				p.delivery = RXSVC_BUS_LOSSY;
			else if (!strcmp(optarg, "lossless"))
				p.delivery = RXSVC_BUS_LOSSLESS;
			else
				goto bad;
			break;
		case 'r':
			if (!strcmp(optarg, "broadcast"))
				p.policy = &rxsvc_bus_policy_broadcast;
			else if (!strcmp(optarg, "idfilter"))
				p.policy = &rxsvc_bus_policy_idfilter;
			else
				goto bad;
			break;
		case 'n':
			field = &p.max_subscribers;
			break;
		case 'M':
			field = &p.mtu;
			break;
		case 'P':
			field = &p.pool;
			break;
		case 'q':
			field = &p.queue_len;
			break;
		case 'R':
			ready = optarg;
			break;
		case 'l':
			p.link_listen = optarg;
			break;
		case 'L':
			port_file = optarg;
			break;
		case 'c':
			if (nconnects ==
			    sizeof(connects) / sizeof(connects[0])) {
				fprintf(stderr,
					"rxsvc-eventd: too many --link-connect\n");
				return 2;
			}
			connects[nconnects++] = optarg;
			break;
		case 'g':
			if (parse_rights(optarg, &p.link_rights) < 0 ||
			    !p.link_rights) {
				fprintf(stderr,
					"rxsvc-eventd: bad link rights '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
		if (field && parse_uint(optarg, base, field) < 0) {
			fprintf(stderr, "rxsvc-eventd: bad value '%s'\n",
				optarg);
			return 2;
		}
	}
	if (optind != argc)
		goto bad;
	if (p.mode > 0777) {
		fprintf(stderr, "rxsvc-eventd: bad mode %o\n", p.mode);
		return 2;
	}
	if (!p.path)
		p.path = default_socket(defpath, sizeof(defpath));

	/* Signals are taken by sigwait below, not by the bus thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = rxsvc_bus_open(&p, &bus);
	if (ret < 0) {
		fprintf(stderr, "rxsvc-eventd: cannot open bus on %s: %s\n",
			p.path, strerror(-ret));
		return 1;
	}
	for (i = 0; i < nconnects; i++) {
		ret = rxsvc_bus_link_connect(bus, connects[i]);
		if (ret < 0) {
			fprintf(stderr, "rxsvc-eventd: cannot link to %s: %s\n",
				connects[i], strerror(-ret));
			rxsvc_bus_close(bus);
			return 1;
		}
	}
	if (port_file) {
		ret = rxsvc_bus_link_port(bus);
		if (ret < 0 || write_port_file(port_file, ret) < 0) {
			fprintf(stderr,
				"rxsvc-eventd: cannot write the link port: %s\n",
				ret < 0 ? strerror(-ret) : "write failed");
			rxsvc_bus_close(bus);
			return 1;
		}
	}
	if (ready) {
		FILE *f = fopen(ready, "w");

		if (f) {
			fprintf(f, "%s\n", p.path);
			fclose(f);
		}
	}
	do {
		if (sigwait(&set, &sig))
			break;
	} while (sig == SIGHUP);
	rxsvc_bus_close(bus);
	return 0;

bad:
	usage(stderr);
	return 2;
}
