/* SPDX-License-Identifier: MIT */
/*
 * `rxsvc events`: the event bus from the shell, for people, scripts and
 * benchmarks.
 *
 *   rxsvc events [subscribe] [--socket P] --group N [--group M ...]
 *                [--id IDX.VAL ...] [--json] [--count N] [--idle-exit MS]
 *                [--watch] [--delay-us N] [--ready-file F] [--stream]
 *   rxsvc events send [--socket P] --group N --id IDX.VAL [--data S]
 *                [--count N] [--stdin] [--seq N] [--ack N] [--stream]
 *   rxsvc events info [--socket P] [--json]
 *   rxsvc events manage [--socket P] --max-subscribers N
 *
 * A subscriber prints one line per message (or a JSON object per line
 * with --json), `missed N` (or {"missed":N}) when the bus dropped
 * messages for it, and `notice senders=S receivers=R` with --watch.
 * With --id it prints only messages with one of those ids: the bus's
 * idfilter policy never sends it the others; on a broadcast bus the
 * tool drops them itself.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <rxsvc/events.h>

#include "cmd/rxsvc_events.h"

#define MAX_GROUPS 64

struct ev_opts {
	const char *socket;
	const char *data;
	const char *ready;
	int stream;
	int json;
	int watch;
	int use_stdin;
	unsigned int ngroups;
	uint32_t groups[MAX_GROUPS];
	unsigned int nids;
	struct rxsvc_cb_id ids[MAX_GROUPS];
	int id_set;
	int id_local; /* the bus does not filter: filter here */
	unsigned long count;
	unsigned long idle_ms;
	unsigned long delay_us;
	unsigned long seq;
	unsigned long ack;
	unsigned long max_subs;
};

static void ev_usage(FILE *f)
{
	fprintf(f,
		"usage: rxsvc events [subscribe] [--socket PATH] --group N [--group M ...]\n"
		"                    [--id IDX.VAL ...] [--json] [--count N]\n"
		"                    [--idle-exit MS] [--watch] [--delay-us N]\n"
		"                    [--ready-file FILE] [--stream]\n"
		"       rxsvc events send [--socket PATH] --group N --id IDX.VAL\n"
		"                    [--data STRING] [--count N] [--stdin]\n"
		"                    [--seq N] [--ack N] [--stream]\n"
		"       rxsvc events info [--socket PATH] [--json]\n"
		"       rxsvc events manage [--socket PATH] --max-subscribers N\n");
}

static int ev_ulong(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

static int ev_parse_id(const char *s, struct rxsvc_cb_id *id)
{
	unsigned long idx;
	unsigned long val;
	char *end;

	errno = 0;
	idx = strtoul(s, &end, 0);
	if (errno || end == s || *end != '.' || idx > UINT32_MAX)
		return -1;
	s = end + 1;
	val = strtoul(s, &end, 0);
	if (errno || end == s || *end || val > UINT32_MAX)
		return -1;
	id->idx = (uint32_t)idx;
	id->val = (uint32_t)val;
	return 0;
}

static const char *ev_default_socket(char *buf, size_t len)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (geteuid() == 0 || !rt || !*rt)
		rt = "/run";
	snprintf(buf, len, "%s/rxsvc/events.sock", rt);
	return buf;
}

static int ev_parse(int argc, char **argv, struct ev_opts *o)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "stream", no_argument, NULL, 'S' },
		{ "group", required_argument, NULL, 'g' },
		{ "id", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "count", required_argument, NULL, 'c' },
		{ "idle-exit", required_argument, NULL, 'I' },
		{ "watch", no_argument, NULL, 'w' },
		{ "delay-us", required_argument, NULL, 'd' },
		{ "ready-file", required_argument, NULL, 'R' },
		{ "data", required_argument, NULL, 'D' },
		{ "stdin", no_argument, NULL, 'n' },
		{ "seq", required_argument, NULL, 'q' },
		{ "ack", required_argument, NULL, 'a' },
		{ "max-subscribers", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	optind = 0; /* GNU: start afresh, whoever parsed before us */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'S':
			o->stream = 1;
			break;
		case 'g':
			if (o->ngroups == MAX_GROUPS || ev_ulong(optarg, &v) ||
			    v == 0 || v > UINT32_MAX)
				goto bad;
			o->groups[o->ngroups++] = (uint32_t)v;
			break;
		case 'i':
			if (o->nids == MAX_GROUPS ||
			    ev_parse_id(optarg, &o->ids[o->nids]))
				goto bad;
			o->nids++;
			o->id_set = 1;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'c':
			if (ev_ulong(optarg, &o->count))
				goto bad;
			break;
		case 'I':
			if (ev_ulong(optarg, &o->idle_ms))
				goto bad;
			break;
		case 'w':
			o->watch = 1;
			break;
		case 'd':
			if (ev_ulong(optarg, &o->delay_us))
				goto bad;
			break;
		case 'R':
			o->ready = optarg;
			break;
		case 'D':
			o->data = optarg;
			break;
		case 'n':
			o->use_stdin = 1;
			break;
		case 'q':
			if (ev_ulong(optarg, &o->seq) || o->seq > UINT32_MAX)
				goto bad;
			break;
		case 'a':
			if (ev_ulong(optarg, &o->ack) || o->ack > UINT32_MAX)
				goto bad;
			break;
		case 'm':
			if (ev_ulong(optarg, &o->max_subs) || !o->max_subs ||
			    o->max_subs > 65536)
				goto bad;
			break;
		case 'h':
			ev_usage(stdout);
			return 1;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	return 0;
bad:
	if (optarg && c != '?')
		fprintf(stderr, "rxsvc events: bad value '%s'\n", optarg);
	ev_usage(stderr);
	return 2;
}

static int ev_connect(const struct ev_opts *o, unsigned int flags,
		      struct rxsvc_evc **cp)
{
	struct rxsvc_evc_params p = RXSVC_EVC_PARAMS_INIT;
	int ret;

	p.path = o->socket;
	p.flags = flags | (o->stream ? RXSVC_EVC_STREAM : 0);
	ret = rxsvc_evc_connect(&p, cp);
	if (ret == -EACCES)
		fprintf(stderr, "rxsvc events: access to the bus at %s refused\n",
			o->socket);
	else if (ret == -EUSERS)
		fprintf(stderr, "rxsvc events: the bus at %s is full (max subscribers)\n",
			o->socket);
	else if (ret < 0)
		fprintf(stderr, "rxsvc events: cannot join the bus at %s: %s\n",
			o->socket, strerror(-ret));
	return ret;
}

/* Text form of message data: printable ASCII as is, the rest \xHH. */
static void ev_print_data(const uint8_t *d, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (d[i] >= 0x20 && d[i] < 0x7f && d[i] != '\\')
			putchar(d[i]);
		else
			printf("\\x%02x", d[i]);
	}
}

static void ev_print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(o);
}

static void ev_print_msg(const struct ev_opts *o, const struct rxsvc_evc_event *ev)
{
	const struct rxsvc_cn_msg *m = ev->msg;
	char id[32];
	json_t *j;
	json_t *s;

	if (!o->json) {
		printf("group=%u id=%u.%u seq=%u ack=%u src=%u len=%u data=",
		       ev->src.group, m->id.idx, m->id.val, m->seq, m->ack,
		       ev->src.client, m->len);
		ev_print_data(m->data, m->len);
		putchar('\n');
		return;
	}
	snprintf(id, sizeof(id), "%u.%u", m->id.idx, m->id.val);
	j = json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		      "group", (json_int_t)ev->src.group, "id", id, "seq",
		      (json_int_t)m->seq, "ack", (json_int_t)m->ack, "src",
		      (json_int_t)ev->src.client, "pid",
		      (json_int_t)ev->src.pid, "uid", (json_int_t)ev->src.uid,
		      "gid", (json_int_t)ev->src.gid, "len",
		      (json_int_t)m->len);
	if (!j)
		return;
	/* Data as a string when it is UTF-8, else as hex. */
	s = json_stringn((const char *)m->data, m->len);
	if (s) {
		json_object_set_new(j, "data", s);
	} else {
		char *hex = malloc((size_t)m->len * 2 + 1);
		size_t i;

		if (hex) {
			for (i = 0; i < m->len; i++)
				sprintf(hex + 2 * i, "%02x", m->data[i]);
			hex[2 * (size_t)m->len] = '\0';
			json_object_set_new(j, "data_hex", json_string(hex));
			free(hex);
		}
	}
	ev_print_json(j);
}

static int ev_id_wanted(const struct ev_opts *o, const struct rxsvc_cb_id *id)
{
	unsigned int i;

	for (i = 0; i < o->nids; i++)
		if (o->ids[i].idx == id->idx && o->ids[i].val == id->val)
			return 1;
	return 0;
}

static int ev_subscribe(struct ev_opts *o)
{
	struct rxsvc_evc_event ev;
	struct rxsvc_evc *c;
	unsigned long got = 0;
	unsigned int i;
	int ret;

	if (!o->ngroups) {
		fprintf(stderr, "rxsvc events: --group is required\n");
		ev_usage(stderr);
		return 2;
	}
	if (ev_connect(o, 0, &c) < 0)
		return 1;
	for (i = 0; i < o->nids; i++) {
		ret = rxsvc_evc_want_id(c, &o->ids[i]);
		if (ret == -ENOPROTOOPT) {
			o->id_local = 1;
			break;
		}
		if (ret < 0)
			goto fail;
	}
	for (i = 0; i < o->ngroups; i++) {
		ret = rxsvc_evc_join(c, o->groups[i]);
		if (ret < 0)
			goto fail;
	}
	if (o->watch && (ret = rxsvc_evc_watch(c, 1)) < 0)
		goto fail;
	if (o->ready) {
		FILE *f = fopen(o->ready, "w");

		if (f) {
			fprintf(f, "%u\n", rxsvc_evc_client_id(c));
			fclose(f);
		}
	}
	for (;;) {
		ret = rxsvc_evc_recv(c, &ev, 0);
		if (ret == 0) {
			fflush(stdout);
			ret = rxsvc_evc_recv(c, &ev,
					     o->idle_ms ? (int)o->idle_ms : -1);
		}
		if (ret == 0)
			break; /* idle long enough */
		if (ret < 0) {
			fflush(stdout);
			if (ret == -EPIPE) {
				fprintf(stderr, "rxsvc events: the bus closed\n");
				rxsvc_evc_close(c);
				return 1;
			}
			goto fail;
		}
		switch (ev.kind) {
		case RXSVC_EVC_MSG:
			if (o->id_local && !ev_id_wanted(o, &ev.msg->id))
				break;
			ev_print_msg(o, &ev);
			got++;
			if (o->delay_us)
				usleep((useconds_t)o->delay_us);
			break;
		case RXSVC_EVC_MISSED:
			if (o->json)
				ev_print_json(json_pack("{s:I}", "missed",
							(json_int_t)ev.missed));
			else
				printf("missed %u\n", ev.missed);
			break;
		case RXSVC_EVC_NOTICE:
			if (o->json)
				ev_print_json(json_pack(
					"{s:I, s:I}", "senders",
					(json_int_t)ev.senders, "receivers",
					(json_int_t)ev.receivers));
			else
				printf("notice senders=%u receivers=%u\n",
				       ev.senders, ev.receivers);
			break;
		}
		if (o->count && got >= o->count)
			break;
	}
	fflush(stdout);
	rxsvc_evc_close(c);
	return 0;

fail:
	if (ret == -EACCES)
		fprintf(stderr, "rxsvc events: not allowed to receive on the bus at %s\n",
			o->socket);
	else
		fprintf(stderr, "rxsvc events: %s\n", strerror(-ret));
	rxsvc_evc_close(c);
	return 1;
}

static int ev_send_one(struct rxsvc_evc *c, struct rxsvc_cn_msg *m,
		       const struct ev_opts *o, const char *data, size_t len,
		       unsigned int flags)
{
	if (len > rxsvc_evc_mtu(c))
		return -EMSGSIZE;
	memcpy(m->data, data, len);
	m->len = (uint16_t)len;
	return rxsvc_evc_send(c, m, o->groups[0], flags);
}

static int ev_send(struct ev_opts *o)
{
	struct rxsvc_cn_msg *m;
	struct rxsvc_evc *c;
	const char *data = o->data ? o->data : "";
	unsigned long n = o->count ? o->count : 1;
	unsigned long i;
	int ret = 0;

	if (o->ngroups != 1 || !o->id_set) {
		fprintf(stderr, "rxsvc events send: one --group and an --id are required\n");
		ev_usage(stderr);
		return 2;
	}
	if (ev_connect(o, RXSVC_EVC_SENDER, &c) < 0)
		return 1;
	m = calloc(1, sizeof(*m) + 65536);
	if (!m) {
		rxsvc_evc_close(c);
		return 1;
	}
	m->id = o->ids[0];
	m->seq = (uint32_t)(o->seq ? o->seq : 1);
	m->ack = (uint32_t)o->ack;
	if (o->use_stdin) {
		char *line = NULL;
		size_t cap = 0;
		ssize_t len;

		while ((len = getline(&line, &cap, stdin)) >= 0) {
			if (len && line[len - 1] == '\n')
				line[--len] = '\0';
			ret = ev_send_one(c, m, o, line, (size_t)len,
					  RXSVC_EVC_MORE);
			if (ret < 0)
				break;
			m->seq++;
		}
		free(line);
	} else {
		for (i = 0; i < n && ret >= 0; i++, m->seq++)
			ret = ev_send_one(c, m, o, data, strlen(data),
					  i + 1 < n ? RXSVC_EVC_MORE : 0);
	}
	if (ret >= 0)
		ret = rxsvc_evc_flush(c);
	free(m);
	rxsvc_evc_close(c);
	if (ret == -ESRCH)
		fprintf(stderr, "rxsvc events send: nobody listens to group %u\n",
			o->groups[0]);
	else if (ret == -EACCES)
		fprintf(stderr, "rxsvc events send: not allowed to send on the bus at %s\n",
			o->socket);
	else if (ret == -EMSGSIZE)
		fprintf(stderr, "rxsvc events send: message larger than the bus's MTU\n");
	else if (ret < 0)
		fprintf(stderr, "rxsvc events send: %s\n", strerror(-ret));
	return ret < 0 ? 1 : 0;
}

static int ev_info(struct ev_opts *o)
{
	struct rxsvc_bus_info info = { .size = sizeof(info) };
	uint64_t vals[128];
	struct rxsvc_evc *c;
	size_t nvals = 0;
	size_t i;
	int ret;

	if (ev_connect(o, 0, &c) < 0)
		return 1;
	ret = rxsvc_evc_info(c, &info, vals, 128, &nvals);
	rxsvc_evc_close(c);
	if (ret < 0) {
		fprintf(stderr, "rxsvc events info: %s\n", strerror(-ret));
		return 1;
	}
	if (nvals > 128)
		nvals = 128;
	if (o->json) {
		char mode[8];
		json_t *j;
		json_t *st = json_object();

		snprintf(mode, sizeof(mode), "%04o", info.mode);
		for (i = 0; i < nvals && rxsvc_bus_stat_name(i); i++)
			json_object_set_new(st, rxsvc_bus_stat_name(i),
					    json_integer((json_int_t)vals[i]));
		j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
			      "mode", mode, "delivery",
			      info.delivery == RXSVC_BUS_LOSSLESS ? "lossless" :
								    "lossy",
			      "policy", info.policy, "max_subscribers",
			      (json_int_t)info.max_subscribers, "mtu",
			      (json_int_t)info.mtu, "pool",
			      (json_int_t)info.pool, "queue_len",
			      (json_int_t)info.queue_len, "clients",
			      (json_int_t)info.clients, "senders",
			      (json_int_t)info.senders, "receivers",
			      (json_int_t)info.receivers, "pool_used",
			      (json_int_t)info.pool_used, "stats", st);
		ev_print_json(j);
		return 0;
	}
	printf("mode %04o\ndelivery %s\npolicy %s\nmax_subscribers %u\n"
	       "mtu %u\npool %u\nqueue_len %u\nclients %u\nsenders %u\n"
	       "receivers %u\npool_used %u\n",
	       info.mode,
	       info.delivery == RXSVC_BUS_LOSSLESS ? "lossless" : "lossy",
	       info.policy, info.max_subscribers, info.mtu, info.pool,
	       info.queue_len, info.clients, info.senders, info.receivers,
	       info.pool_used);
	for (i = 0; i < nvals && rxsvc_bus_stat_name(i); i++)
		printf("%s %llu\n", rxsvc_bus_stat_name(i),
		       (unsigned long long)vals[i]);
	return 0;
}

static int ev_manage(struct ev_opts *o)
{
	struct rxsvc_evc *c;
	int ret;

	if (!o->max_subs) {
		fprintf(stderr, "rxsvc events manage: --max-subscribers is required\n");
		return 2;
	}
	if (ev_connect(o, 0, &c) < 0)
		return 1;
	ret = rxsvc_evc_set_max_subscribers(c, (unsigned int)o->max_subs);
	rxsvc_evc_close(c);
	if (ret == -EACCES)
		fprintf(stderr, "rxsvc events manage: not allowed to manage the bus at %s\n",
			o->socket);
	else if (ret < 0)
		fprintf(stderr, "rxsvc events manage: %s\n", strerror(-ret));
	return ret < 0 ? 1 : 0;
}

int rxsvc_cmd_events(int argc, char **argv)
{
	struct ev_opts o = { 0 };
	char defpath[PATH_MAX];
	const char *sub = "subscribe";
	int ret;

	if (argc > 1 && argv[1][0] != '-') {
		sub = argv[1];
		argc--;
		argv++;
	}
	ret = ev_parse(argc, argv, &o);
	if (ret)
		return ret == 1 ? 0 : ret;
	if (!o.socket)
		o.socket = ev_default_socket(defpath, sizeof(defpath));
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(sub, "subscribe"))
		return ev_subscribe(&o);
	if (!strcmp(sub, "send"))
		return ev_send(&o);
	if (!strcmp(sub, "info"))
		return ev_info(&o);
	if (!strcmp(sub, "manage"))
		return ev_manage(&o);
	fprintf(stderr, "rxsvc events: unknown command '%s'\n", sub);
	ev_usage(stderr);
	return 2;
}
