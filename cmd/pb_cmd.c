/* SPDX-License-Identifier: MIT */
/*
 * pb_cmd.c - `rxsvc pb describe ADDR:PORT --service N [--timeout S]`:
 * ask an rxsvc-pb server what it serves (the describe opcode,
 * include/rxsvc/pb.h) and print it as a .proto service block:
 *
 *	service kv.KeyValue {
 *		rpc Put (kv.PutRequest) returns (kv.PutReply); // opcode 0
 *	}
 *
 * Exit status: 0 success, 1 aborted (e.g. -455 RXGEN_OPCODE from a
 * server that is not an rxsvc-pb one), 2 usage, 3 busy, 4 timeout or
 * network error, 5 local error or a malformed answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rxsvc/pb.h>

#include "cmd/common.h"
#include "cmd/pb_cmd.h"

static void pb_usage(FILE *f)
{
	fprintf(f,
		"usage: rxsvc pb describe ADDR:PORT --service N [--timeout SECS]\n"
		"  show the service an rxsvc-pb server offers on service ID N\n");
}

static int exit_for(int err)
{
	switch (err) {
	case -ECONNABORTED:
	case -ECONNRESET:
		return 1;
	case -EBUSY:
		return 3;
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ECONNREFUSED:
		return 4;
	default:
		return 5;
	}
}

static int pb_describe(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_pb_description *d;
	struct rxsvc_sock *sock;
	struct rxsvc_srx peer;
	unsigned long service = 0, timeout = 0;
	int have_service = 0, ch, ret;
	int32_t code;
	char ab[64];

	memset(&peer, 0, sizeof(peer));
	optind = 0; /* GNU: start afresh */
	while ((ch = getopt_long(argc, argv, "s:t:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!parse_uint(optarg, 65535, &service)) {
				warnx_("bad --service: %s", optarg);
				return 2;
			}
			have_service = 1;
			break;
		case 't':
			if (!parse_uint(optarg, 86400, &timeout)) {
				warnx_("bad --timeout: %s", optarg);
				return 2;
			}
			break;
		case 'h':
			pb_usage(stdout);
			return 0;
		default:
			pb_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1 || !have_service ||
	    rxsvc_srx_parse(&peer, argv[optind]) < 0) {
		pb_usage(stderr);
		return 2;
	}
	peer.service_id = (uint16_t)service;
	if (rxsvc_srx_parse(&sp.local, peer.addr.sa.sa_family == AF_INET6
					       ? "[::]:0"
					       : "0.0.0.0:0") < 0)
		return 5;
	sp.hard_time_ms = (unsigned int)timeout * 1000;
	ret = rxsvc_sock_open(&sp, &sock);
	if (ret < 0) {
		warnx_("cannot open an endpoint: %s", strerror(-ret));
		return 5;
	}
	ret = rxsvc_pb_describe(sock, &peer, NULL, &d, &code);
	if (ret < 0) {
		if (ret == -ECONNABORTED || ret == -EBADMSG)
			warnx_("describe: aborted %s",
			       abort_text(code, ab, sizeof(ab)));
		else
			warnx_("describe: %s", strerror(-ret));
		rxsvc_sock_close(sock);
		return ret == -EBADMSG ? 5 : exit_for(ret);
	}
	printf("service %s {\n", d->service);
	for (uint32_t i = 0; i < d->n_methods; i++)
		printf("\trpc %s (%s) returns (%s); // opcode %u\n",
		       d->methods[i].name, d->methods[i].input,
		       d->methods[i].output, i);
	printf("}\n");
	rxsvc_pb_description_free(d);
	rxsvc_sock_close(sock);
	return 0;
}

int rxsvc_cmd_pb(int argc, char **argv)
{
	if (argc < 2) {
		pb_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "describe"))
		return pb_describe(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		pb_usage(stdout);
		return 0;
	}
	pb_usage(stderr);
	return 2;
}
