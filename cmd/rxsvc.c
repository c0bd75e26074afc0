/* SPDX-License-Identifier: MIT */
/*
 * rxsvc - the user's tool: `rxsvc call` makes one Rx call and writes the
 * reply; other subcommands arrive with their issues.
 *
 * Exit status of `call`: 0 success, 1 aborted (the code is printed),
 * 2 usage, 3 server busy, 4 timeout or network error, 5 local error.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cmd/common.h"
#include "cmd/rxsvc_events.h"
#include "cmd/rxperf.h"
#include "cmd/rxdebug_cmd.h"
#include "cmd/pb_cmd.h"
#include "cmd/key_cmd.h"
#include <rxsvc/key.h>

#define EXIT_ABORT   1
#define EXIT_USAGE   2
#define EXIT_BUSY    3
#define EXIT_TIMEOUT 4
#define EXIT_LOCAL   5

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxsvc COMMAND [ARGS]\n"
		"commands:\n"
		"  call ADDR:PORT --service N [--data STRING | --data-file F]\n"
		"       [--out F] [--timeout SECS] [--retry-busy N] [--stats] [-v]\n"
		"       [--key NAME [--level clear|auth|crypt]]\n"
		"      make one call; the reply goes to F or standard output\n"
		"  perf ADDR:PORT rpc|send|recv|file [--bytes N | --send N --recv N]\n"
		"       [--calls N] [--threads N] [--duration S] [--json] [--async]\n"
		"       [--security none|clear|auth|crypt [--key NAME]]\n"
		"      drive any rxperf server (service 147)\n"
		"  debug ADDR:PORT [--stats] [--conns] [--peers] [--json]\n"
		"      query any Rx server with DEBUG packets (as rxdebug)\n"
		"  key add NAME --keyfile F [--kvno N] | key list | key del NAME\n"
		"  key export NAME [--format v1|xdr] [--out F] | key session CMD...\n"
		"      rxkad tokens in the kernel keyrings (rxsvc:NAME); export as\n"
		"      the Linux kernel's rxrpc key payload (rxsvc key --help)\n"
		"  keyfile add FILE --kvno N (--hex HEX | --random)\n"
		"      server keys\n"
		"  pb describe ADDR:PORT --service N\n"
		"      what a protobuf-c service over Rx offers\n"
		"  events [subscribe|send|info|manage] [--socket PATH] ...\n"
		"      the event bus (rxsvc events --help)\n"
		"  version\n");
}

struct call_opts {
	const char *addr;
	unsigned long service;
	const char *data;
	const char *data_file;
	const char *out;
	unsigned long timeout;
	unsigned long retry_busy;
	int verbose;
	int stats;
	const char *key;
	unsigned int level;
	bool no_security; /* --security none */
	bool have_level;
};

static void call_usage(void)
{
	fprintf(stderr,
		"usage: rxsvc call ADDR:PORT --service N [--data STRING | "
		"--data-file F] [--out F] [--timeout SECS] [--retry-busy N] "
		"[--key NAME [--security|--level clear|auth|crypt]] "
		"[--security none] [-v]\n");
	exit(EXIT_USAGE);
}

static void call_parse(int argc, char **argv, struct call_opts *o)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "data-file", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },
		{ "timeout", required_argument, NULL, 't' },
		{ "retry-busy", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", no_argument, NULL, 'S' },
		{ "key", required_argument, NULL, 'k' },
		{ "level", required_argument, NULL, 'L' },
		{ "security", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool have_service = false;
	int ch;

	o->timeout = 60;
	o->retry_busy = 5;
	while ((ch = getopt_long(argc, argv, "s:d:f:o:t:r:vh", opts, NULL)) !=
	       -1) {
		switch (ch) {
		case 's':
			if (!parse_uint(optarg, 65535, &o->service))
				call_usage();
			have_service = true;
			break;
		case 'd':
			o->data = optarg;
			break;
		case 'f':
			o->data_file = optarg;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 't':
			if (!parse_uint(optarg, 86400, &o->timeout))
				call_usage();
			break;
		case 'r':
			if (!parse_uint(optarg, 1000, &o->retry_busy))
				call_usage();
			break;
		case 'v':
			o->verbose++;
			break;
		case 'S':
			o->stats = 1;
			break;
		case 'k':
			o->key = optarg;
			break;
		case 'L':
			o->have_level = strcmp(optarg, "none") != 0;
			if (!strcmp(optarg, "none"))
				o->no_security = true;
			else if (!strcmp(optarg, "clear"))
				o->level = 0;
			else if (!strcmp(optarg, "auth"))
				o->level = 1;
			else if (!strcmp(optarg, "crypt"))
				o->level = 2;
			else
				call_usage();
			break;
		case 'h':
		default:
			call_usage();
		}
	}
	if (optind + 1 != argc || !have_service || (o->data && o->data_file) ||
	    (o->no_security && o->key))
		call_usage();
	if (o->have_level && !o->key) {
		fprintf(stderr, "rxsvc call: --security/--level needs --key NAME "
				"(a token from rxsvc key add)\n");
		exit(EXIT_USAGE);
	}
	o->addr = argv[optind];
}

/* Send the request: a string, a file streamed in chunks, or nothing. */
static int call_send_request(struct rxsvc_call *call,
			     const struct call_opts *o, uint64_t *sent)
{
	static uint8_t buf[1 << 16];
	struct iovec iov;
	int fd, ret = 0;

	if (!o->data_file) {
		size_t len = o->data ? strlen(o->data) : 0;

		iov.iov_base = (void *)(o->data ? o->data : "");
		iov.iov_len = len;
		ret = rxsvc_call_send(call, &iov, 1, len, 0);
		*sent = len;
		return ret < 0 ? ret : 0;
	}
	fd = strcmp(o->data_file, "-") ? open(o->data_file, O_RDONLY) : 0;
	if (fd < 0)
		die("cannot open %s: %s", o->data_file, strerror(errno));
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		/* A slow source must not hide a call that has failed. */
		if (poll(&pfd, 1, 200) == 0) {
			if (rxsvc_call_completion(call) != RXSVC_COMPLETE_NONE)
				break;
			continue;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("cannot read %s: %s", o->data_file,
			    strerror(errno));
		iov.iov_base = buf;
		iov.iov_len = (size_t)n;
		/* The last send (n == 0) has no MORE: it ends the request. */
		ret = rxsvc_call_send(call, &iov, 1, (size_t)n,
				      n ? RXSVC_SEND_MORE : 0);
		if (ret < 0 || n == 0)
			break;
		*sent += (uint64_t)n;
	}
	if (fd)
		close(fd);
	return ret < 0 ? ret : 0;
}

static int call_recv_reply(struct rxsvc_call *call, int out, uint64_t *got)
{
	static uint8_t buf[1 << 16];

	for (;;) {
		unsigned int fl = 0;
		int32_t code;
		int n = rxsvc_call_recv(call, buf, sizeof(buf), &fl, &code);

		if (n < 0)
			return n;
		if (n && write_all(out, buf, (size_t)n) < 0)
			die("cannot write the reply: %s", strerror(errno));
		*got += (uint64_t)n;
		if (fl & RXSVC_RECV_END)
			return 0;
	}
}

static int call_report(struct rxsvc_call *call, const char *addr)
{
	enum rxsvc_completion how = rxsvc_call_wait(call, 5000);
	char ab[64];

	switch (how) {
	case RXSVC_COMPLETE_SUCCEEDED:
		return 0;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		warnx_("call to %s aborted by the peer: abort code %s", addr,
		       abort_text(rxsvc_call_abort_code(call), ab, sizeof(ab)));
		return EXIT_ABORT;
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		warnx_("call to %s aborted locally: abort code %s (%s)", addr,
		       abort_text(rxsvc_call_abort_code(call), ab, sizeof(ab)),
		       strerror(-rxsvc_call_error(call)));
		return EXIT_ABORT;
	case RXSVC_COMPLETE_BUSY:
		warnx_("call to %s refused: server BUSY", addr);
		return EXIT_BUSY;
	case RXSVC_COMPLETE_NET_ERROR:
		warnx_("call to %s failed: %s%s", addr,
		       strerror(-rxsvc_call_error(call)),
		       rxsvc_call_error(call) == -ETIMEDOUT ?
			       " (no answer from the peer)" :
			       "");
		return EXIT_TIMEOUT;
	case RXSVC_COMPLETE_LOCAL_ERROR:
		warnx_("call to %s failed: %s", addr,
		       strerror(-rxsvc_call_error(call)));
		return EXIT_LOCAL;
	case RXSVC_COMPLETE_NONE:
		warnx_("call to %s did not complete", addr);
		return EXIT_TIMEOUT;
	}
	return EXIT_LOCAL;
}

static int cmd_call(int argc, char **argv)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct call_opts o = { 0 };
	struct rxsvc_sock *sock;
	struct timespec t0, t1;
	int ret, rc = 0, out = 1;

	call_parse(argc, argv, &o);
	if (rxsvc_srx_parse(&cp.peer, o.addr) < 0 ||
	    !strncmp(o.addr, "[::]", 4)) {
		warnx_("bad address: %s (want HOST:PORT)", o.addr);
		return EXIT_USAGE;
	}
	cp.peer.service_id = (uint16_t)o.service;
	cp.hard_time_ms = (unsigned int)o.timeout * 1000;
	if (o.key) {
		/* A token from the kernel keyrings: rxkad for this call. */
		ret = rxsvc_key_get(o.key, &cp.key);
		if (ret < 0) {
			warnx_("no usable key rxsvc:%s: %s", o.key,
			       strerror(-ret));
			return EXIT_LOCAL;
		}
		cp.security_level = o.level;
	}
	sp.local.addr.sa.sa_family = cp.peer.addr.sa.sa_family;
	sp.local.addrlen = cp.peer.addrlen;
	ret = rxsvc_sock_open(&sp, &sock);
	if (ret < 0) {
		warnx_("cannot open an endpoint: %s", strerror(-ret));
		return EXIT_LOCAL;
	}
	if (o.out) {
		out = open(o.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out < 0)
			die("cannot create %s: %s", o.out, strerror(errno));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long attempt = 0;; attempt++) {
		struct rxsvc_call *call;
		uint64_t sent = 0, got = 0;

		cp.user_call_id = attempt + 1;
		ret = rxsvc_call_begin(sock, &cp, &call);
		if (ret < 0) {
			warnx_("cannot begin a call: %s", strerror(-ret));
			rc = EXIT_LOCAL;
			break;
		}
		ret = call_send_request(call, &o, &sent);
		if (ret == 0)
			ret = call_recv_reply(call, out, &got);
		rc = call_report(call, o.addr);
		rxsvc_call_end(call);
		if (rc == EXIT_BUSY && attempt < o.retry_busy && got == 0) {
			/* BUSY: the server kept nothing; try again shortly. */
			usleep(20000u << (attempt < 5 ? attempt : 5));
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (o.verbose)
			fprintf(stderr,
				"rxsvc: %s service %lu: sent %llu, received %llu bytes in %.3f s\n",
				o.addr, o.service, (unsigned long long)sent,
				(unsigned long long)got,
				(double)(t1.tv_sec - t0.tv_sec) +
					(double)(t1.tv_nsec - t0.tv_nsec) /
						1e9);
		break;
	}
	if (o.stats) {
		int n = rxsvc_sock_get_stats(sock, NULL, 0);
		uint64_t *v = calloc((size_t)n, sizeof(*v));

		rxsvc_sock_get_stats(sock, v, (size_t)n);
		for (int k = 0; v && k < n; k++)
			if (v[k])
				fprintf(stderr, "%s %llu\n",
					rxsvc_stat_name((size_t)k),
					(unsigned long long)v[k]);
		free(v);
	}
	if (o.out && close(out) < 0)
		die("cannot write %s: %s", o.out, strerror(errno));
	rxsvc_sock_close(sock);
	rxsvc_key_put(cp.key);
	return rc;
}

int main(int argc, char **argv)
{
	prog = "rxsvc";
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "call"))
		return cmd_call(argc - 1, argv + 1);
	if (!strcmp(argv[1], "events"))
		return rxsvc_cmd_events(argc - 1, argv + 1);
	if (!strcmp(argv[1], "perf"))
		return rxsvc_cmd_perf(argc - 1, argv + 1);
	if (!strcmp(argv[1], "debug"))
		return rxsvc_cmd_debug(argc - 1, argv + 1);
	if (!strcmp(argv[1], "pb"))
		return rxsvc_cmd_pb(argc - 1, argv + 1);
	if (!strcmp(argv[1], "key"))
		return rxsvc_cmd_key(argc - 1, argv + 1);
	if (!strcmp(argv[1], "keyfile"))
		return rxsvc_cmd_keyfile(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("rxsvc %s (librxsvc %s)\n", PACKAGE_VERSION,
		       rxsvc_version());
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
