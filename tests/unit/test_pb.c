/* SPDX-License-Identifier: MIT */
/*
 * test_pb.c - protobuf-c services over Rx (librxsvc-pb) on loopback:
 * round trips of every message shape (tests/unit/test_pb.proto: scalars,
 * strings, bytes, repeated, nested, oneof, empty, 16 MiB), an unknown
 * opcode, garbage and oversize requests, a method's own abort code, a
 * reply the client cannot unpack, concurrent calls on shared
 * connections, the asynchronous client on a caller-owned event loop
 * (embedded endpoint), describe and the descriptor check, and framed
 * (streaming) calls beyond the Rx window in both directions.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>
#include <event2/event.h>

#include <rxsvc/pb.h>

#include "tests/unit/test_pb.pb-c.h"

#define SVC	  900 /* rxtest.Test, default limits */
#define SVC_SMALL 901 /* rxtest.Test, max_request 1 MiB */
#define SVC_ECHO  902 /* raw echo: replies the request bytes */

static struct rxsvc_sock *srv_sock, *cli_sock, *echo_sock;
static struct rxsvc_srx srv_addr, echo_addr;
static ProtobufCService *cli;

/* ---- the service ---- */

static void t_echo(Rxtest__Test_Service *s, const Rxtest__Shapes *in,
		   Rxtest__Shapes_Closure closure, void *data)
{
	closure(in, data);
}

static void t_nothing(Rxtest__Test_Service *s, const Rxtest__Empty *in,
		      Rxtest__Empty_Closure closure, void *data)
{
	Rxtest__Empty out = RXTEST__EMPTY__INIT;

	closure(&out, data);
}

static void t_big(Rxtest__Test_Service *s, const Rxtest__Blob *in,
		  Rxtest__Blob_Closure closure, void *data)
{
	closure(in, data);
}

static void t_fail(Rxtest__Test_Service *s, const Rxtest__Code *in,
		   Rxtest__Empty_Closure closure, void *data)
{
	if (in->code == 0) {
		closure(NULL, data); /* RX_USER_ABORT */
		return;
	}
	rxsvc_pb_abort(data, in->code);
}

static void t_garbage(Rxtest__Test_Service *s, const Rxtest__Empty *in,
		      Rxtest__Blob_Closure closure, void *data)
{
	/* The wrong type: the server refuses it with RXGEN_SS_MARSHAL. */
	Rxtest__Empty out = RXTEST__EMPTY__INIT;

	closure((const Rxtest__Blob *)&out, data);
}

static void t_sum(Rxtest__Test_Service *s, const Rxtest__Code *in,
		  Rxtest__Code_Closure closure, void *data)
{
	closure(in, data);
}

static Rxtest__Test_Service test_service = RXTEST__TEST__INIT(t_);

/* Framed Sum: read every Code, then send back count frames, sum + i. */
static int32_t stream_handler(struct rxsvc_pb_stream *st, unsigned int method,
			      void *arg)
{
	ProtobufCMessage *m;
	int64_t sum = 0;
	int32_t n = 0;
	int ret;

	if (method != 5)
		return RXGEN_OPCODE;
	while ((ret = rxsvc_pb_stream_recv(st, &m)) == 1) {
		sum += ((Rxtest__Code *)m)->code;
		n++;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	if (ret < 0)
		return RXGEN_SS_UNMARSHAL;
	if (sum == -1)
		return 777; /* the client asked for an abort */
	for (int32_t i = 0; i < n; i++) {
		Rxtest__Code c = RXTEST__CODE__INIT;

		c.code = (int32_t)sum + i;
		if (rxsvc_pb_stream_send(st, &c.base) < 0)
			return RX_USER_ABORT;
	}
	return 0;
}

/* ---- a raw echo server, for replies the client cannot unpack ---- */

static void *echo_server(void *arg)
{
	struct rxsvc_call *call = arg;
	uint8_t buf[65536];
	size_t len = 0;
	unsigned int fl = 0;
	int32_t code;
	int n;

	while ((n = rxsvc_call_recv(call, buf + len, sizeof(buf) - len, &fl,
				    &code)) > 0) {
		len += (size_t)n;
		if (fl & RXSVC_RECV_END)
			break;
	}
	if (n >= 0) {
		struct iovec iov = { buf, len };

		rxsvc_call_send(call, &iov, 1, len, 0);
	}
	rxsvc_call_wait(call, 5000);
	rxsvc_call_end(call);
	return NULL;
}

static unsigned long echo_ids = 1;

static void echo_new_call(struct rxsvc_sock *s, struct rxsvc_call *call,
			  unsigned long id, void *arg)
{
	pthread_t th;

	rxsvc_sock_charge(s, NULL, ++echo_ids);
	pthread_create(&th, NULL, echo_server, call);
	pthread_detach(th);
}

/* ---- helpers ---- */

static void fill_shapes(Rxtest__Shapes *m, Rxtest__Inner *inner,
			Rxtest__Inner **inners, int32_t *nums, char **names)
{
	static uint8_t bytes[] = { 0, 1, 2, 0xff, 0x80 };

	rxtest__shapes__init(m);
	m->i32 = -7;
	m->i64 = -(1LL << 40);
	m->u32 = 0xffffffffu;
	m->u64 = ~0ULL;
	m->s32 = -123;
	m->s64 = -1234567890123LL;
	m->f32 = 0xdeadbeef;
	m->f64 = 0x0123456789abcdefULL;
	m->fl = 3.5f;
	m->db = -1e300;
	m->b = 1;
	m->color = RXTEST__COLOR__BLUE;
	m->str = "héllo";
	m->data.data = bytes;
	m->data.len = sizeof(bytes);
	nums[0] = 1;
	nums[1] = -2;
	nums[2] = 300000;
	m->n_nums = 3;
	m->nums = nums;
	names[0] = "a";
	names[1] = "";
	m->n_names = 2;
	m->names = names;
	rxtest__inner__init(inner);
	inner->a = 5;
	inner->s = "inner";
	m->inner = inner;
	m->n_inners = 2;
	inners[0] = inner;
	inners[1] = inner;
	m->inners = inners;
	m->choice_case = RXTEST__SHAPES__CHOICE_CHOICE_INNER;
	m->choice_inner = inner;
}

/* Same packed bytes: protobuf-c packs fields in order, deterministic. */
static int same_msg(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a);
	size_t lb = protobuf_c_message_get_packed_size(b);
	uint8_t *pa, *pb;
	int eq;

	if (la != lb)
		return 0;
	pa = malloc(la + 1);
	pb = malloc(lb + 1);
	protobuf_c_message_pack(a, pa);
	protobuf_c_message_pack(b, pb);
	eq = memcmp(pa, pb, la) == 0;
	free(pa);
	free(pb);
	return eq;
}

static ProtobufCService *new_client(const struct rxsvc_srx *peer,
				    struct event_base *base,
				    struct rxsvc_sock *sock)
{
	struct rxsvc_pb_client_params p = RXSVC_PB_CLIENT_PARAMS_INIT;
	ProtobufCService *svc = NULL;

	p.descriptor = &rxtest__test__descriptor;
	p.sock = sock;
	p.peer = *peer;
	p.base = base;
	CU_ASSERT_EQUAL(rxsvc_pb_client_new(&p, &svc), 0);
	return svc;
}

/* A raw call: body bytes as given; returns the abort code (0: ok). */
static int32_t raw_call(uint16_t service, const void *body, size_t len)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	static unsigned long id = 1;
	struct rxsvc_call *call;
	struct iovec iov = { (void *)body, len };
	uint8_t buf[4096];
	unsigned int fl = 0;
	int32_t code = 0;
	int n;

	cp.peer = srv_addr;
	cp.peer.service_id = service;
	cp.user_call_id = id++;
	CU_ASSERT_EQUAL_FATAL(rxsvc_call_begin(cli_sock, &cp, &call), 0);
	rxsvc_call_send(call, &iov, 1, len, 0);
	do
		n = rxsvc_call_recv(call, buf, sizeof(buf), &fl, &code);
	while (n >= 0 && !(fl & RXSVC_RECV_END));
	rxsvc_call_end(call);
	return n < 0 ? code : 0;
}

/* ---- tests ---- */

static void test_shapes(void)
{
	Rxtest__Shapes in, *out = NULL;
	Rxtest__Inner inner, *inners[2];
	int32_t nums[3];
	char *names[2];
	int32_t code;

	fill_shapes(&in, &inner, inners, nums, names);
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 0, &in.base,
					(ProtobufCMessage **)&out, &code),
			0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT(same_msg(&in.base, &out->base));
	CU_ASSERT_STRING_EQUAL(out->str, "héllo");
	CU_ASSERT_EQUAL(out->choice_case, RXTEST__SHAPES__CHOICE_CHOICE_INNER);
	CU_ASSERT_EQUAL(out->n_inners, 2);
	CU_ASSERT_EQUAL(out->u64, ~0ULL);
	protobuf_c_message_free_unpacked(&out->base, NULL);
	/* oneof string arm, defaults everywhere else */
	rxtest__shapes__init(&in);
	in.choice_case = RXTEST__SHAPES__CHOICE_CHOICE_STR;
	in.choice_str = "arm";
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 0, &in.base,
					(ProtobufCMessage **)&out, &code),
			0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(out->choice_case, RXTEST__SHAPES__CHOICE_CHOICE_STR);
	CU_ASSERT_STRING_EQUAL(out->choice_str, "arm");
	protobuf_c_message_free_unpacked(&out->base, NULL);
}

static int stub_done;

static void empty_done(const Rxtest__Empty *m, void *data)
{
	stub_done = m ? 1 : -1;
}

static void test_empty_via_stub(void)
{
	Rxtest__Empty in = RXTEST__EMPTY__INIT;

	stub_done = 0;
	/* protoc-c's client stub, blocking: the closure runs inside */
	rxtest__test__nothing(cli, &in, empty_done, NULL);
	CU_ASSERT_EQUAL(stub_done, 1);
	CU_ASSERT_EQUAL(rxsvc_pb_last_error(), 0);
}

static void test_big(void)
{
	Rxtest__Blob in = RXTEST__BLOB__INIT, *out = NULL;
	size_t len = 16u << 20;
	uint8_t *data = malloc(len);
	int32_t code;

	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + (i >> 13));
	in.data.data = data;
	in.data.len = len;
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 2, &in.base,
					(ProtobufCMessage **)&out, &code),
			0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	CU_ASSERT_EQUAL(out->data.len, len);
	CU_ASSERT(out->data.len == len && !memcmp(out->data.data, data, len));
	protobuf_c_message_free_unpacked(&out->base, NULL);
	free(data);
}

static void test_errors(void)
{
	static const uint8_t unknown[] = { 0, 0, 0, 77, 1, 2 };
	static const uint8_t garbage[] = { 0,	 0,    0,    0,	   0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t shorty[] = { 0, 0 };
	Rxtest__Code c = RXTEST__CODE__INIT;
	Rxtest__Empty e = RXTEST__EMPTY__INIT;
	ProtobufCMessage *out = NULL;
	int32_t code;

	CU_ASSERT_EQUAL(raw_call(SVC, unknown, sizeof(unknown)), RXGEN_OPCODE);
	CU_ASSERT_EQUAL(raw_call(SVC, garbage, sizeof(garbage)),
			RXGEN_SS_UNMARSHAL);
	CU_ASSERT_EQUAL(raw_call(SVC, shorty, sizeof(shorty)), RXGEN_DECODE);
	/* a method's own code, and a NULL closure */
	c.code = 4321;
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 3, &c.base, &out, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, 4321);
	c.code = 0;
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 3, &c.base, &out, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, RX_USER_ABORT);
	/* a reply of the wrong type never leaves the server */
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 4, &e.base, &out, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, RXGEN_SS_MARSHAL);
	/* wrong input type or method: refused locally */
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 0, &e.base, &out, &code), -EINVAL);
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 99, &e.base, &out, &code),
			-EINVAL);
	/* still serving */
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(cli, 1, &e.base, &out, &code), 0);
	protobuf_c_message_free_unpacked(out, NULL);
}

static void test_oversize(void)
{
	Rxtest__Blob in = RXTEST__BLOB__INIT;
	struct rxsvc_srx small = srv_addr;
	ProtobufCService *svc;
	ProtobufCMessage *out = NULL;
	size_t len = 2u << 20;
	uint8_t *data = calloc(1, len);
	int32_t code;

	small.service_id = SVC_SMALL;
	svc = new_client(&small, NULL, cli_sock);
	in.data.data = data;
	in.data.len = len;
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(svc, 2, &in.base, &out, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, RXGEN_SS_UNMARSHAL);
	in.data.len = 1000;
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(svc, 2, &in.base, &out, &code), 0);
	protobuf_c_message_free_unpacked(out, NULL);
	protobuf_c_service_destroy(svc);
	free(data);
}

static void test_bad_reply(void)
{
	Rxtest__Shapes in;
	Rxtest__Inner inner, *inners[2];
	int32_t nums[3];
	char *names[2];
	ProtobufCService *svc = new_client(&echo_addr, NULL, cli_sock);
	ProtobufCMessage *out = NULL;
	int32_t code;

	/* The echo returns opcode + request: field 0 is no valid tag. */
	fill_shapes(&in, &inner, inners, nums, names);
	CU_ASSERT_EQUAL(rxsvc_pb_invoke(svc, 0, &in.base, &out, &code),
			-EBADMSG);
	CU_ASSERT_EQUAL(code, RXGEN_CC_UNMARSHAL);
	protobuf_c_service_destroy(svc);
}

#define NTHREADS 8
#define NCALLS	 50

static void *conc_thread(void *arg)
{
	long t = (long)arg;
	int *bad = calloc(1, sizeof(int));

	for (int i = 0; i < NCALLS; i++) {
		Rxtest__Code in = RXTEST__CODE__INIT;
		Rxtest__Code *out = NULL;
		int32_t code;

		in.code = (int32_t)(t * 1000 + i);
		if (rxsvc_pb_invoke(cli, 5, &in.base, (ProtobufCMessage **)&out,
				    &code) < 0 ||
		    out->code != in.code)
			(*bad)++;
		if (out)
			protobuf_c_message_free_unpacked(&out->base, NULL);
	}
	return bad;
}

static void test_concurrent(void)
{
	pthread_t th[NTHREADS];
	int bad = 0;

	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, conc_thread, (void *)i);
	for (int i = 0; i < NTHREADS; i++) {
		void *r;

		pthread_join(th[i], &r);
		bad += *(int *)r;
		free(r);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---- asynchronous client on a caller-owned loop ---- */

#define NASYNC 40

static int async_left, async_ok, async_abort_ok;
static struct event_base *abase;

static void async_code_done(const Rxtest__Code *m, void *data)
{
	long want = (long)data;

	if (m && m->code == want)
		async_ok++;
	else
		fprintf(stderr, "async call %ld: error %d abort %d\n", want,
			rxsvc_pb_last_error(), (int)rxsvc_pb_last_abort());
	if (--async_left == 0)
		event_base_loopbreak(abase);
}

static void async_fail_done(const Rxtest__Empty *m, void *data)
{
	if (!m && rxsvc_pb_last_abort() == 999 &&
	    rxsvc_pb_last_error() == -ECONNABORTED)
		async_abort_ok++;
	else
		fprintf(stderr, "async fail: error %d abort %d\n",
			rxsvc_pb_last_error(), (int)rxsvc_pb_last_abort());
	if (--async_left == 0)
		event_base_loopbreak(abase);
}

static void async_big_done(const Rxtest__Blob *m, void *data)
{
	if (m && m->data.len == (size_t)(long)data)
		async_ok++;
	else
		fprintf(stderr, "async big: error %d abort %d\n",
			rxsvc_pb_last_error(), (int)rxsvc_pb_last_abort());
	if (--async_left == 0)
		event_base_loopbreak(abase);
}

static void test_async(void)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_sock *sock;
	ProtobufCService *svc;
	Rxtest__Code c = RXTEST__CODE__INIT;
	Rxtest__Blob b = RXTEST__BLOB__INIT;
	size_t blen = 3u << 20; /* beyond the transmit window */
	uint8_t *data = calloc(1, blen);

	abase = event_base_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(abase);
	rxsvc_srx_parse(&sp.local, "127.0.0.1:0");
	sp.base = abase;
	CU_ASSERT_EQUAL_FATAL(rxsvc_sock_open(&sp, &sock), 0);
	svc = new_client(&srv_addr, abase, sock);
	async_left = NASYNC + 2;
	async_ok = 0;
	async_abort_ok = 0;
	for (long i = 0; i < NASYNC; i++) {
		c.code = (int32_t)i;
		rxtest__test__sum(svc, &c, async_code_done, (void *)i);
	}
	c.code = 999;
	rxtest__test__fail(svc, &c, async_fail_done, NULL);
	b.data.data = data;
	b.data.len = blen;
	rxtest__test__big(svc, &b, async_big_done, (void *)(long)blen);
	/* Every closure runs from here, on this thread. */
	event_base_dispatch(abase);
	CU_ASSERT_EQUAL(async_left, 0);
	CU_ASSERT_EQUAL(async_ok, NASYNC + 1);
	CU_ASSERT_EQUAL(async_abort_ok, 1);
	protobuf_c_service_destroy(svc);
	rxsvc_sock_close(sock);
	event_base_free(abase);
	free(data);
}

static void test_describe(void)
{
	struct rxsvc_pb_client_params p = RXSVC_PB_CLIENT_PARAMS_INIT;
	struct rxsvc_pb_description *d = NULL;
	ProtobufCService *svc = NULL;
	int32_t code;

	CU_ASSERT_EQUAL_FATAL(
		rxsvc_pb_describe(cli_sock, &srv_addr, NULL, &d, &code), 0);
	CU_ASSERT_STRING_EQUAL(d->service, "rxtest.Test");
	CU_ASSERT_EQUAL_FATAL(d->n_methods, 6);
	CU_ASSERT_STRING_EQUAL(d->methods[2].name, "Big");
	CU_ASSERT_STRING_EQUAL(d->methods[2].input, "rxtest.Blob");
	CU_ASSERT_STRING_EQUAL(d->methods[3].output, "rxtest.Empty");
	CU_ASSERT_EQUAL(
		rxsvc_pb_description_check(d, &rxtest__test__descriptor), 0);
	CU_ASSERT_EQUAL(
		rxsvc_pb_description_check(d, &rxtest__other__descriptor),
		-EPROTO);
	rxsvc_pb_description_free(d);

	p.sock = cli_sock;
	p.peer = srv_addr;
	p.flags = RXSVC_PB_CHECK_DESCRIPTOR;
	p.descriptor = &rxtest__test__descriptor;
	CU_ASSERT_EQUAL(rxsvc_pb_client_new(&p, &svc), 0);
	if (svc)
		protobuf_c_service_destroy(svc);
	p.descriptor = &rxtest__other__descriptor;
	CU_ASSERT_EQUAL(rxsvc_pb_client_new(&p, &svc), -EPROTO);
	/* a server that is not rxsvc-pb: the echo answers nonsense */
	p.peer = echo_addr;
	CU_ASSERT_EQUAL(rxsvc_pb_client_new(&p, &svc), -EBADMSG);
}

static void test_stream(void)
{
	struct rxsvc_pb_stream *st;
	ProtobufCMessage *m;
	int32_t code = 0, n = 5000, got = 0, bad = 0;
	int64_t sum = 0;
	int ret;

	CU_ASSERT_EQUAL_FATAL(rxsvc_pb_stream_open(cli, 5, &st), 0);
	for (int32_t i = 0; i < n; i++) {
		Rxtest__Code c = RXTEST__CODE__INIT;

		c.code = i;
		sum += i;
		CU_ASSERT_EQUAL(rxsvc_pb_stream_send(st, &c.base), 0);
	}
	CU_ASSERT_EQUAL(rxsvc_pb_stream_send_end(st), 0);
	while ((ret = rxsvc_pb_stream_recv(st, &m)) == 1) {
		if (((Rxtest__Code *)m)->code != (int32_t)sum + got)
			bad++;
		got++;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	CU_ASSERT_EQUAL(ret, 0);
	CU_ASSERT_EQUAL(got, n);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_close(st, &code), 0);

	/* empty sequences both ways */
	CU_ASSERT_EQUAL_FATAL(rxsvc_pb_stream_open(cli, 5, &st), 0);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_send_end(st), 0);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_recv(st, &m), 0);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_close(st, &code), 0);

	/* the handler aborts */
	CU_ASSERT_EQUAL_FATAL(rxsvc_pb_stream_open(cli, 5, &st), 0);
	{
		Rxtest__Code c = RXTEST__CODE__INIT;

		c.code = -1;
		rxsvc_pb_stream_send(st, &c.base);
	}
	rxsvc_pb_stream_send_end(st);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_recv(st, &m), -ECONNABORTED);
	CU_ASSERT_EQUAL(rxsvc_pb_stream_close(st, &code), -ECONNABORTED);
	CU_ASSERT_EQUAL(code, 777);
}

static int suite_init(void)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_pb_serve_opts o = RXSVC_PB_SERVE_OPTS_INIT;

	if (rxsvc_srx_parse(&p.local, "127.0.0.1:0") < 0 ||
	    rxsvc_sock_open(&p, &srv_sock) < 0 ||
	    rxsvc_sock_open(&p, &cli_sock) < 0 ||
	    rxsvc_sock_open(&p, &echo_sock) < 0)
		return 1;
	o.max_request = 20u << 20;
	o.stream = stream_handler;
	if (rxsvc_pb_serve(srv_sock, SVC, &test_service.base, &o) < 0)
		return 1;
	o.max_request = 1u << 20;
	if (rxsvc_pb_serve(srv_sock, SVC_SMALL, &test_service.base, &o) < 0 ||
	    rxsvc_pb_serve(srv_sock, SVC, &test_service.base, &o) != -EEXIST)
		return 1;
	rxsvc_sock_local(srv_sock, &srv_addr);
	srv_addr.service_id = SVC;
	/* the raw echo */
	if (rxsvc_sock_add_service(echo_sock, SVC_ECHO) < 0 ||
	    rxsvc_sock_listen(echo_sock, 4) < 0)
		return 1;
	rxsvc_sock_set_accept(echo_sock, echo_new_call, NULL, NULL);
	rxsvc_sock_charge(echo_sock, NULL, ++echo_ids);
	rxsvc_sock_local(echo_sock, &echo_addr);
	echo_addr.service_id = SVC_ECHO;
	{
		struct rxsvc_pb_client_params cp = RXSVC_PB_CLIENT_PARAMS_INIT;

		cp.descriptor = &rxtest__test__descriptor;
		cp.sock = cli_sock;
		cp.peer = srv_addr;
		if (rxsvc_pb_client_new(&cp, &cli) < 0)
			return 1;
	}
	return 0;
}

static int suite_clean(void)
{
	protobuf_c_service_destroy(cli);
	rxsvc_pb_unserve(srv_sock, 5000);
	rxsvc_sock_close(cli_sock);
	rxsvc_sock_close(srv_sock);
	rxsvc_sock_close(echo_sock);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "every message shape", test_shapes },
		{ "empty messages, generated stub", test_empty_via_stub },
		{ "16 MiB messages", test_big },
		{ "opcode, garbage, method aborts", test_errors },
		{ "oversize request", test_oversize },
		{ "reply that does not unpack", test_bad_reply },
		{ "concurrent calls", test_concurrent },
		{ "async client on the caller's loop", test_async },
		{ "describe and descriptor check", test_describe },
		{ "framed streams", test_stream },
	};
	unsigned int failed;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("pb", suite_init, suite_clean);
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		CU_add_test(s, tests[i].name, tests[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 99;
	}
	failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
