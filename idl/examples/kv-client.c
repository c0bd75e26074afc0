/* SPDX-License-Identifier: MIT */
/*
 * kv-client - a client of the example kv.KeyValue service
 * (idl/examples/kv.proto) using protoc-c's generated stubs on a
 * librxsvc-pb client service (walkthrough in idl/README.md).
 *
 *   kv-client ADDR:PORT [--service N] [--no-check]
 *             put KEY VALUE | get KEY | del KEY | list [PREFIX]
 *
 * Before the first call the client asks the server to describe itself
 * and refuses a server whose service differs from kv.KeyValue (exit 3),
 * unless --no-check.  Exit status: 0 success; 1 the call was aborted
 * (the code is named on stderr, e.g. "aborted: 1 (not found)"); 2 usage;
 * 3 other failures.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rxsvc/pb.h>

#include "idl/examples/kv.pb-c.h"

#define KV_NOT_FOUND	   1
#define KV_DEFAULT_SERVICE 100

static int status; /* exit status, set by the closures */

static void report_failure(const char *what)
{
	int32_t code = rxsvc_pb_last_abort();
	int err = rxsvc_pb_last_error();
	const char *name = rxsvc_abort_name(code);

	if (err == -ECONNABORTED || err == -EBADMSG) {
		fprintf(stderr, "kv-client: %s: aborted: %d (%s)\n", what,
			(int)code,
			code == KV_NOT_FOUND ? "not found"
			: name		     ? name
					     : "?");
		status = 1;
	} else {
		fprintf(stderr, "kv-client: %s: %s\n", what, strerror(-err));
		status = 3;
	}
}

static void put_done(const Kv__PutReply *r, void *data)
{
	if (!r)
		return report_failure("put");
	if (r->replaced)
		printf("replaced\n");
}

static void get_done(const Kv__GetReply *r, void *data)
{
	if (!r)
		return report_failure("get");
	fwrite(r->value.data, 1, r->value.len, stdout);
	putchar('\n');
}

static void del_done(const Kv__DelReply *r, void *data)
{
	if (!r)
		report_failure("del");
}

static void list_done(const Kv__ListReply *r, void *data)
{
	if (!r)
		return report_failure("list");
	for (size_t i = 0; i < r->n_keys; i++)
		printf("%s\n", r->keys[i]);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kv-client ADDR:PORT [--service N] [--no-check]\n"
		"                 put KEY VALUE | get KEY | del KEY | list [PREFIX]\n");
}

static int run(ProtobufCService *svc, int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "put") && argc == 3) {
		Kv__PutRequest req = KV__PUT_REQUEST__INIT;

		req.key = argv[1];
		req.value.data = (uint8_t *)argv[2];
		req.value.len = strlen(argv[2]);
		kv__key_value__put(svc, &req, put_done, NULL);
	} else if (!strcmp(cmd, "get") && argc == 2) {
		Kv__GetRequest req = KV__GET_REQUEST__INIT;

		req.key = argv[1];
		kv__key_value__get(svc, &req, get_done, NULL);
	} else if (!strcmp(cmd, "del") && argc == 2) {
		Kv__DelRequest req = KV__DEL_REQUEST__INIT;

		req.key = argv[1];
		kv__key_value__del(svc, &req, del_done, NULL);
	} else if (!strcmp(cmd, "list") && argc <= 2) {
		Kv__ListRequest req = KV__LIST_REQUEST__INIT;

		if (argc == 2)
			req.prefix = argv[1];
		kv__key_value__list(svc, &req, list_done, NULL);
	} else {
		usage(stderr);
		return 2;
	}
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service", required_argument, NULL, 's' },
		{ "no-check", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_pb_client_params cp = RXSVC_PB_CLIENT_PARAMS_INIT;
	unsigned long service = KV_DEFAULT_SERVICE;
	ProtobufCService *svc;
	struct rxsvc_sock *sock;
	const char *addr;
	int check = 1, ch, ret;
	char *end;

	/* "+": stop at the first operand, so that values may start with -. */
	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			service = strtoul(optarg, &end, 10);
			if (*end || !*optarg || service > 65535) {
				usage(stderr);
				return 2;
			}
			break;
		case 'n':
			check = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || rxsvc_srx_parse(&cp.peer, argv[optind]) < 0) {
		usage(stderr);
		return 2;
	}
	/* Options may also follow the address. */
	addr = argv[optind++];
	while ((ch = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		if (ch == 's') {
			service = strtoul(optarg, &end, 10);
			if (*end || !*optarg || service > 65535)
				return usage(stderr), 2;
		} else if (ch == 'n') {
			check = 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cp.peer.service_id = (uint16_t)service;
	if (rxsvc_srx_parse(&sp.local, cp.peer.addr.sa.sa_family == AF_INET6
					       ? "[::]:0"
					       : "0.0.0.0:0") < 0)
		return 3;
	ret = rxsvc_sock_open(&sp, &sock);
	if (ret < 0) {
		fprintf(stderr, "kv-client: cannot open an endpoint: %s\n",
			strerror(-ret));
		return 3;
	}
	cp.descriptor = &kv__key_value__descriptor;
	cp.sock = sock;
	cp.flags = check ? RXSVC_PB_CHECK_DESCRIPTOR : 0;
	ret = rxsvc_pb_client_new(&cp, &svc);
	if (ret == -EPROTO || ret == -EBADMSG || ret == -ECONNABORTED) {
		/* It answered, but not as a kv.KeyValue server would. */
		fprintf(stderr,
			"kv-client: the server at %s service %lu does not serve %s\n",
			addr, service, kv__key_value__descriptor.name);
		rxsvc_sock_close(sock);
		return 3;
	}
	if (ret < 0) {
		fprintf(stderr, "kv-client: cannot reach the server: %s\n",
			strerror(-ret));
		rxsvc_sock_close(sock);
		return 3;
	}
	ret = run(svc, argc - optind, argv + optind);
	protobuf_c_service_destroy(svc);
	rxsvc_sock_close(sock);
	return ret;
}
