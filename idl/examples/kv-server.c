/* SPDX-License-Identifier: MIT */
/*
 * kv-server - the example key-value service of idl/examples/kv.proto,
 * served over Rx with librxsvc-pb (walkthrough in idl/README.md).
 *
 *   kv-server [--listen ADDR:PORT] [--service N] [--port-file F] [-v]
 *
 * Keys live in memory, in a list under a mutex (methods run on several
 * worker threads).  Get and Del of a missing key abort the call with
 * KV_NOT_FOUND (1), which the client sees as the call's abort code.
 * SIGINT or SIGTERM stop it cleanly.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rxsvc/pb.h>

#include "idl/examples/kv.pb-c.h"

#define KV_NOT_FOUND	   1
#define KV_DEFAULT_SERVICE 100

struct entry {
	struct entry *next;
	char *key;
	uint8_t *value;
	size_t len;
};

static struct entry *table;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static int verbose;

/* The entry for @key, or the link where it would go.  - table_lock. */
static struct entry **lookup(const char *key)
{
	struct entry **pp;

	for (pp = &table; *pp; pp = &(*pp)->next)
		if (strcmp((*pp)->key, key) >= 0)
			break;
	return pp;
}

static int found(struct entry **pp, const char *key)
{
	return *pp && strcmp((*pp)->key, key) == 0;
}

static void kv_put(Kv__KeyValue_Service *svc, const Kv__PutRequest *in,
		   Kv__PutReply_Closure closure, void *data)
{
	Kv__PutReply out = KV__PUT_REPLY__INIT;
	struct entry **pp, *e;
	uint8_t *v = malloc(in->value.len ? in->value.len : 1);
	char *k = strdup(in->key);

	if (!v || !k) {
		free(v);
		free(k);
		closure(NULL, data); /* RX_USER_ABORT */
		return;
	}
	memcpy(v, in->value.data, in->value.len);
	pthread_mutex_lock(&table_lock);
	pp = lookup(in->key);
	if (found(pp, in->key)) {
		e = *pp;
		free(e->value);
		free(k);
		out.replaced = 1;
	} else {
		e = calloc(1, sizeof(*e));
		if (!e) {
			pthread_mutex_unlock(&table_lock);
			free(v);
			free(k);
			closure(NULL, data);
			return;
		}
		e->key = k;
		e->next = *pp;
		*pp = e;
	}
	e->value = v;
	e->len = in->value.len;
	pthread_mutex_unlock(&table_lock);
	if (verbose)
		fprintf(stderr, "kv-server: put %s (%zu bytes)\n", in->key,
			in->value.len);
	closure(&out, data);
}

static void kv_get(Kv__KeyValue_Service *svc, const Kv__GetRequest *in,
		   Kv__GetReply_Closure closure, void *data)
{
	Kv__GetReply out = KV__GET_REPLY__INIT;
	struct entry **pp;

	pthread_mutex_lock(&table_lock);
	pp = lookup(in->key);
	if (!found(pp, in->key)) {
		pthread_mutex_unlock(&table_lock);
		rxsvc_pb_abort(data, KV_NOT_FOUND);
		return;
	}
	/* The reply is packed inside the closure, under the lock. */
	out.value.data = (*pp)->value;
	out.value.len = (*pp)->len;
	closure(&out, data);
	pthread_mutex_unlock(&table_lock);
}

static void kv_del(Kv__KeyValue_Service *svc, const Kv__DelRequest *in,
		   Kv__DelReply_Closure closure, void *data)
{
	Kv__DelReply out = KV__DEL_REPLY__INIT;
	struct entry **pp, *e;

	pthread_mutex_lock(&table_lock);
	pp = lookup(in->key);
	if (!found(pp, in->key)) {
		pthread_mutex_unlock(&table_lock);
		rxsvc_pb_abort(data, KV_NOT_FOUND);
		return;
	}
	e = *pp;
	*pp = e->next;
	pthread_mutex_unlock(&table_lock);
	free(e->key);
	free(e->value);
	free(e);
	closure(&out, data);
}

static void kv_list(Kv__KeyValue_Service *svc, const Kv__ListRequest *in,
		    Kv__ListReply_Closure closure, void *data)
{
	Kv__ListReply out = KV__LIST_REPLY__INIT;
	size_t plen = strlen(in->prefix), n = 0;
	struct entry *e;

	pthread_mutex_lock(&table_lock);
	for (e = table; e; e = e->next)
		n++;
	out.keys = calloc(n ? n : 1, sizeof(*out.keys));
	if (!out.keys) {
		pthread_mutex_unlock(&table_lock);
		closure(NULL, data);
		return;
	}
	for (e = table; e; e = e->next)
		if (strncmp(e->key, in->prefix, plen) == 0)
			out.keys[out.n_keys++] = e->key;
	closure(&out, data);
	pthread_mutex_unlock(&table_lock);
	free(out.keys);
}

static Kv__KeyValue_Service kv_service = KV__KEY_VALUE__INIT(kv_);

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kv-server [--listen ADDR:PORT] [--service N] [--port-file F] [-v]\n"
		"Serve the kv.KeyValue example service over Rx.\n"
		"  -l, --listen ADDR:PORT  endpoint (default 127.0.0.1:7100)\n"
		"  -s, --service N         Rx service ID (default 100)\n"
		"      --port-file F       write the bound port to F\n"
		"  -v, --verbose           a line per put on stderr\n");
}

static void write_port(const char *path, struct rxsvc_sock *sock)
{
	struct rxsvc_srx srx;
	char tmp[4096];
	FILE *f;

	rxsvc_sock_local(sock, &srx);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "%u\n",
		ntohs(srx.addr.sa.sa_family == AF_INET6
			      ? srx.addr.sin6.sin6_port
			      : srx.addr.sin.sin_port));
	if (fclose(f) == 0)
		rename(tmp, path);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "service", required_argument, NULL, 's' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	const char *listen = "127.0.0.1:7100", *port_file = NULL;
	unsigned long service = KV_DEFAULT_SERVICE;
	struct rxsvc_sock *sock;
	sigset_t set;
	char *end;
	int ch, ret, sig;

	while ((ch = getopt_long(argc, argv, "l:s:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen = optarg;
			break;
		case 's':
			service = strtoul(optarg, &end, 10);
			if (*end || !*optarg || service > 65535) {
				fprintf(stderr, "kv-server: bad --service\n");
				return 2;
			}
			break;
		case 'P':
			port_file = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || rxsvc_srx_parse(&p.local, listen) < 0) {
		usage(stderr);
		return 2;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ret = rxsvc_sock_open(&p, &sock);
	if (ret < 0) {
		fprintf(stderr, "kv-server: cannot listen on %s: %s\n", listen,
			strerror(-ret));
		return 1;
	}
	ret = rxsvc_pb_serve(sock, (uint16_t)service, &kv_service.base, NULL);
	if (ret < 0) {
		fprintf(stderr, "kv-server: cannot serve: %s\n",
			strerror(-ret));
		return 1;
	}
	if (port_file)
		write_port(port_file, sock);
	if (verbose)
		fprintf(stderr, "kv-server: serving %s on %s service %lu\n",
			kv__key_value__descriptor.name, listen, service);
	sigwait(&set, &sig);
	rxsvc_pb_unserve(sock, 5000);
	rxsvc_sock_close(sock);
	while (table) {
		struct entry *e = table;

		table = e->next;
		free(e->key);
		free(e->value);
		free(e);
	}
	return 0;
}
