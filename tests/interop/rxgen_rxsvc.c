/* SPDX-License-Identifier: MIT */
/*
 * rxgen_rxsvc - the rxsvc side of the rxgen interop test: a client and a
 * server of tests/interop/rxgen_test.xg written by hand with rxsvc's XDR
 * helpers (include/rxsvc/xdr.h) and no OpenAFS code.  Semantics in
 * rxgen_test.xg.
 *
 *   rxgen_rxsvc server PORTFILE SERVICE  serve until SIGTERM
 *   rxgen_rxsvc client PORT SERVICE      call every procedure, check,
 *                                        print "ok", exit 0 (1: mismatch)
 *
 * The client also sends what rxgen's stubs never would (an opcode out of
 * range, a short request) and checks the server's rxgen abort codes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rxsvc/xdr.h>

#define PROG "rxgen_rxsvc"

enum { OP_ECHO = 1, OP_ADD = 2, OP_FAIL = 3, OP_FETCH = 4 };
#define MAXNAME 64
#define MAXBLOB 1024
#define MAXPTS	16

struct point {
	int32_t x;
	int32_t y;
};

struct shape {
	int32_t kind;
	union {
		int32_t radius;
		struct point corner;
	} u;
};

struct bag {
	int32_t i;
	uint32_t u;
	int64_t h;
	uint64_t uh;
	int16_t s;
	uint16_t us;
	int8_t ch;
	bool flag;
	int c;
	char *name;
	uint8_t fix[5];
	void *data;
	uint32_t ndata;
	int32_t vec[3];
	struct point *pts;
	uint32_t npts;
	struct point *opt;
	struct shape sh;
};

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, PROG ": check failed: %s (line %d)\n", \
				#cond, __LINE__);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

/* ---- codecs, one per type, as rxgen would generate them ---- */

static int xdr_i32(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int32(x, o);
}

static int xdr_point(struct rxsvc_xdr *x, void *o)
{
	struct point *p = o;

	rxsvc_xdr_int32(x, &p->x);
	return rxsvc_xdr_int32(x, &p->y);
}

static int xdr_radius(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int32(x, &((struct shape *)o)->u.radius);
}

static int xdr_corner(struct rxsvc_xdr *x, void *o)
{
	return xdr_point(x, &((struct shape *)o)->u.corner);
}

static int xdr_void(struct rxsvc_xdr *x, void *o)
{
	return x->error; /* rxgen's "default: void" */
}

static const struct rxsvc_xdr_arm shape_arms[] = {
	{ 1, xdr_radius, 0 },
	{ 2, xdr_corner, 0 },
	RXSVC_XDR_ARMS_END,
};

static int xdr_shape(struct rxsvc_xdr *x, void *o)
{
	struct shape *s = o;

	return rxsvc_xdr_union(x, &s->kind, s, shape_arms, xdr_void);
}

static int xdr_bag(struct rxsvc_xdr *x, void *o)
{
	struct bag *b = o;

	rxsvc_xdr_int32(x, &b->i);
	rxsvc_xdr_uint32(x, &b->u);
	rxsvc_xdr_int64(x, &b->h);
	rxsvc_xdr_uint64(x, &b->uh);
	rxsvc_xdr_int16(x, &b->s);
	rxsvc_xdr_uint16(x, &b->us);
	rxsvc_xdr_int8(x, &b->ch);
	rxsvc_xdr_bool(x, &b->flag);
	rxsvc_xdr_enum(x, &b->c);
	rxsvc_xdr_string(x, &b->name, MAXNAME);
	rxsvc_xdr_opaque(x, b->fix, sizeof(b->fix));
	rxsvc_xdr_bytes(x, &b->data, &b->ndata, MAXBLOB);
	rxsvc_xdr_vector(x, b->vec, 3, sizeof(int32_t), xdr_i32);
	rxsvc_xdr_array(x, (void **)&b->pts, &b->npts, MAXPTS, sizeof(*b->pts),
			xdr_point);
	rxsvc_xdr_pointer(x, (void **)&b->opt, sizeof(*b->opt), xdr_point);
	return xdr_shape(x, &b->sh);
}

/* ---- server ---- */

static struct rxsvc_sock *sock;
static unsigned long next_id = 1;

static int32_t do_echo(struct rxsvc_call *call, struct rxsvc_xdr *in)
{
	struct bag b;
	struct rxsvc_xdr out;

	memset(&b, 0, sizeof(b));
	if (xdr_bag(in, &b) < 0) {
		rxsvc_xdr_free(xdr_bag, &b);
		return rxsvc_xdr_abort(in);
	}
	b.i++;
	rxsvc_xdr_init_call(&out, call, RXSVC_XDR_ENCODE);
	xdr_bag(&out, &b);
	rxsvc_xdr_send_end(&out);
	rxsvc_xdr_free(xdr_bag, &b);
	return rxsvc_xdr_abort(&out);
}

static int32_t do_add(struct rxsvc_call *call, struct rxsvc_xdr *in)
{
	int32_t a, b, sum;
	struct rxsvc_xdr out;

	rxsvc_xdr_int32(in, &a);
	rxsvc_xdr_int32(in, &b);
	if (in->error)
		return rxsvc_xdr_abort(in);
	sum = a + b;
	rxsvc_xdr_init_call(&out, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&out, &sum);
	rxsvc_xdr_send_end(&out);
	return rxsvc_xdr_abort(&out);
}

static int32_t do_fail(struct rxsvc_call *call, struct rxsvc_xdr *in)
{
	int32_t code;
	struct rxsvc_xdr out;

	if (rxsvc_xdr_int32(in, &code) < 0)
		return rxsvc_xdr_abort(in);
	if (code) {
		rxsvc_call_abort(call, code, -ECONNABORTED, "Fail");
		return code;
	}
	rxsvc_xdr_init_call(&out, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_send_end(&out);
	return 0;
}

/* Split: raw bytes follow the arguments, raw bytes precede the result. */
static int32_t do_fetch(struct rxsvc_call *call, struct rxsvc_xdr *in)
{
	int32_t n, total = 0;
	struct rxsvc_xdr out;
	uint8_t *buf;

	if (rxsvc_xdr_int32(in, &n) < 0)
		return rxsvc_xdr_abort(in);
	if (n < 0 || n > (16 << 20)) {
		rxsvc_call_abort(call, RXGEN_SS_UNMARSHAL, -EBADMSG, "Fetch");
		return RXGEN_SS_UNMARSHAL;
	}
	buf = malloc((size_t)n + 1);
	/* opaque[n] without padding is exactly n raw bytes... but XDR pads:
	 * read the raw part with plain recv. */
	for (int32_t got = 0; got < n;) {
		unsigned int fl = RXSVC_RECV_WAITALL;
		int32_t code;
		int r = rxsvc_call_recv(call, buf + got, (size_t)(n - got), &fl,
					&code);

		if (r <= 0 || (got + r < n && (fl & RXSVC_RECV_END))) {
			free(buf);
			rxsvc_call_abort(call, RXGEN_SS_UNMARSHAL, -EBADMSG,
					 "Fetch");
			return RXGEN_SS_UNMARSHAL;
		}
		got += r;
	}
	for (int32_t i = 0; i < n; i++) {
		total += buf[i];
		buf[i] ^= 0x5a;
	}
	{
		struct iovec iov = { buf, (size_t)n };

		rxsvc_call_send(call, &iov, 1, (size_t)n, RXSVC_SEND_MORE);
	}
	free(buf);
	rxsvc_xdr_init_call(&out, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&out, &total);
	rxsvc_xdr_send_end(&out);
	return rxsvc_xdr_abort(&out);
}

/* One call on its own thread, as rxgen's TEST_ExecuteRequest does it. */
static void *serve_call(void *arg)
{
	struct rxsvc_call *call = arg;
	struct rxsvc_xdr in;
	int32_t op;

	rxsvc_xdr_init_call(&in, call, RXSVC_XDR_DECODE);
	if (rxsvc_xdr_int32(&in, &op) < 0) {
		rxsvc_call_abort(call, RXGEN_DECODE, -EBADMSG, "opcode");
		goto out;
	}
	switch (op) {
	case OP_ECHO:
		do_echo(call, &in);
		break;
	case OP_ADD:
		do_add(call, &in);
		break;
	case OP_FAIL:
		do_fail(call, &in);
		break;
	case OP_FETCH:
		do_fetch(call, &in);
		break;
	default:
		rxsvc_call_abort(call, RXGEN_OPCODE, -EBADMSG, "opcode");
	}
out:
	rxsvc_call_wait(call, 30000);
	rxsvc_call_end(call);
	return NULL;
}

static void on_new_call(struct rxsvc_sock *s, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	pthread_t th;

	rxsvc_sock_charge(s, NULL,
			  __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED));
	if (pthread_create(&th, NULL, serve_call, call) != 0) {
		rxsvc_call_abort(call, RX_CALL_DEAD, -EAGAIN, "no thread");
		rxsvc_call_end(call);
		return;
	}
	pthread_detach(th);
}

static int serve(const char *port_file, int service)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_srx local;
	sigset_t set;
	FILE *f;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rxsvc_srx_parse(&p.local, "127.0.0.1:0") < 0 ||
	    rxsvc_sock_open(&p, &sock) < 0 ||
	    rxsvc_sock_add_service(sock, (uint16_t)service) < 0 ||
	    rxsvc_sock_listen(sock, 8) < 0)
		return 1;
	rxsvc_sock_set_accept(sock, on_new_call, NULL, NULL);
	for (int i = 0; i < 8; i++)
		rxsvc_sock_charge(
			sock, NULL,
			__atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED));
	rxsvc_sock_local(sock, &local);
	f = fopen(port_file, "w");
	if (!f)
		return 1;
	fprintf(f, "%u\n", (unsigned)ntohs(local.addr.sin.sin_port));
	fclose(f);
	sigwait(&set, &sig);
	return 0;
}

/* ---- client ---- */

static struct rxsvc_srx peer;

static struct rxsvc_call *begin(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call = NULL;

	cp.peer = peer;
	cp.user_call_id = next_id++;
	if (rxsvc_call_begin(sock, &cp, &call) < 0) {
		fprintf(stderr, PROG ": cannot begin a call\n");
		exit(2);
	}
	return call;
}

/* Finish a client call: decode the reply with @proc into @obj (NULL: no
 * results); returns 0 or the abort code, as rxgen's stubs return it. */
static int32_t finish(struct rxsvc_call *call, struct rxsvc_xdr *x,
		      rxsvc_xdr_proc_t proc, void *obj)
{
	int32_t code;

	rxsvc_xdr_send_end(x);
	code = rxsvc_xdr_abort(x);
	if (!code) {
		rxsvc_xdr_init_call(x, call, RXSVC_XDR_DECODE);
		if (proc)
			proc(x, obj);
		rxsvc_xdr_recv_end(x);
		code = rxsvc_xdr_abort(x);
	}
	rxsvc_call_end(call);
	return code;
}

static int32_t call_echo(struct bag *in, struct bag *out)
{
	struct rxsvc_call *call = begin();
	struct rxsvc_xdr x;
	int32_t op = OP_ECHO;

	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	xdr_bag(&x, in);
	return finish(call, &x, xdr_bag, out);
}

static int32_t call_add(int32_t a, int32_t b, int32_t *sum)
{
	struct rxsvc_call *call = begin();
	struct rxsvc_xdr x;
	int32_t op = OP_ADD;

	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	rxsvc_xdr_int32(&x, &a);
	rxsvc_xdr_int32(&x, &b);
	return finish(call, &x, xdr_i32, sum);
}

static int32_t call_fail(int32_t code)
{
	struct rxsvc_call *call = begin();
	struct rxsvc_xdr x;
	int32_t op = OP_FAIL;

	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	rxsvc_xdr_int32(&x, &code);
	return finish(call, &x, NULL, NULL);
}

/* Raw body: what rxgen's stubs never send. */
static int32_t call_raw(const void *body, size_t len)
{
	struct rxsvc_call *call = begin();
	struct iovec iov = { (void *)body, len };
	unsigned int fl = 0;
	int32_t code = 0;
	uint8_t b[64];
	int n;

	rxsvc_call_send(call, &iov, 1, len, 0);
	do
		n = rxsvc_call_recv(call, b, sizeof(b), &fl, &code);
	while (n >= 0 && !(fl & RXSVC_RECV_END));
	rxsvc_call_end(call);
	return n < 0 ? code : 0;
}

static void call_fetch(int32_t n)
{
	struct rxsvc_call *call = begin();
	struct rxsvc_xdr x;
	int32_t op = OP_FETCH, total = -1, want = 0, code;
	uint8_t *buf = malloc((size_t)n + 1);
	struct iovec iov = { buf, (size_t)n };
	unsigned int fl = RXSVC_RECV_WAITALL;
	int bad = 0;

	for (int32_t i = 0; i < n; i++) {
		buf[i] = (uint8_t)(i * 3);
		want += buf[i];
	}
	/* Start: opcode and IN arguments; then the raw bytes. */
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	rxsvc_xdr_int32(&x, &n);
	CHECK(rxsvc_call_send(call, &iov, 1, (size_t)n, RXSVC_SEND_MORE) == n);
	rxsvc_xdr_send_end(&x);
	/* Raw reply bytes, then End: the OUT arguments. */
	if (n)
		CHECK(rxsvc_call_recv(call, buf, (size_t)n, &fl, &code) == n);
	for (int32_t i = 0; i < n; i++)
		bad += buf[i] != (uint8_t)((i * 3) ^ 0x5a);
	CHECK(bad == 0);
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_DECODE);
	rxsvc_xdr_int32(&x, &total);
	rxsvc_xdr_recv_end(&x);
	CHECK(rxsvc_xdr_abort(&x) == 0);
	CHECK(total == want);
	rxsvc_call_end(call);
	free(buf);
}

static void sample(struct bag *b, struct point *pts, struct point *opt,
		   char *blob)
{
	memset(b, 0, sizeof(*b));
	b->i = -123456;
	b->u = 0xdeadbeef;
	b->h = -0x123456789abLL;
	b->uh = 0xfedcba9876543210ULL;
	b->s = -300;
	b->us = 65000;
	b->ch = -5;
	b->flag = true;
	b->c = 2;
	b->name = "rxgen interop";
	memcpy(b->fix, "ABCDE", 5);
	b->data = blob;
	b->ndata = 7;
	b->vec[0] = 1;
	b->vec[1] = -2;
	b->vec[2] = 3;
	pts[0] = (struct point){ 10, 20 };
	pts[1] = (struct point){ -30, 40 };
	b->pts = pts;
	b->npts = 2;
	*opt = (struct point){ 7, 8 };
	b->opt = opt;
	b->sh.kind = 2;
	b->sh.u.corner = (struct point){ 5, 6 };
}

static void check_echo(const struct bag *in, const struct bag *out)
{
	CHECK(out->i == in->i + 1);
	CHECK(out->u == in->u && out->h == in->h && out->uh == in->uh);
	CHECK(out->s == in->s && out->us == in->us && out->ch == in->ch);
	CHECK(out->flag == in->flag && out->c == in->c);
	CHECK(out->name && strcmp(out->name, in->name) == 0);
	CHECK(memcmp(out->fix, in->fix, 5) == 0);
	CHECK(out->ndata == in->ndata &&
	      (!in->ndata || memcmp(out->data, in->data, in->ndata) == 0));
	CHECK(memcmp(out->vec, in->vec, sizeof(in->vec)) == 0);
	CHECK(out->npts == in->npts &&
	      (!in->npts ||
	       memcmp(out->pts, in->pts, in->npts * sizeof(*in->pts)) == 0));
	CHECK(!out->opt == !in->opt);
	if (out->opt && in->opt)
		CHECK(out->opt->x == in->opt->x && out->opt->y == in->opt->y);
	CHECK(out->sh.kind == in->sh.kind);
	if (in->sh.kind == 2)
		CHECK(out->sh.u.corner.x == in->sh.u.corner.x &&
		      out->sh.u.corner.y == in->sh.u.corner.y);
	if (in->sh.kind == 1)
		CHECK(out->sh.u.radius == in->sh.u.radius);
}

static int client(int port, int service)
{
	static const uint8_t bad_op[] = { 0, 0, 0, 99 };
	static const uint8_t short_add[] = { 0, 0, 0, 2, 0, 0, 0, 1 };
	static const uint8_t no_op[] = { 0, 0 };
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	struct point pts[2], opt;
	char blob[] = "b\0l\xffob";
	struct bag in, out;
	int32_t sum = 0;

	if (rxsvc_srx_parse(&p.local, "127.0.0.1:0") < 0 ||
	    rxsvc_sock_open(&p, &sock) < 0 ||
	    rxsvc_srx_parse(&peer, "127.0.0.1:1") < 0)
		return 2;
	peer.addr.sin.sin_port = htons((uint16_t)port);
	peer.service_id = (uint16_t)service;

	sample(&in, pts, &opt, blob);
	memset(&out, 0, sizeof(out));
	CHECK(call_echo(&in, &out) == 0);
	check_echo(&in, &out);
	rxsvc_xdr_free(xdr_bag, &out);
	in.opt = NULL;
	in.sh.kind = 1;
	in.sh.u.radius = -9;
	in.npts = 0;
	in.ndata = 0;
	in.name = "";
	memset(&out, 0, sizeof(out));
	CHECK(call_echo(&in, &out) == 0);
	check_echo(&in, &out);
	rxsvc_xdr_free(xdr_bag, &out);
	in.sh.kind = 77; /* no arm: default void */
	memset(&out, 0, sizeof(out));
	CHECK(call_echo(&in, &out) == 0 && out.sh.kind == 77);
	rxsvc_xdr_free(xdr_bag, &out);

	CHECK(call_add(2, 40, &sum) == 0 && sum == 42);
	{
		/* Say what came back: a rare failure of the second call under
		 * load (one CI run) is not understood yet. */
		int32_t c1 = call_fail(1234), c0 = call_fail(0);

		if (c1 != 1234 || c0 != 0)
			fprintf(stderr, PROG ": fail(1234) -> %d, fail(0) -> %d\n",
				(int)c1, (int)c0);
		CHECK(c1 == 1234);
		CHECK(c0 == 0);
	}
	call_fetch(100000);
	call_fetch(0);
	{
		int32_t r1 = call_raw(bad_op, sizeof(bad_op));
		int32_t r2 = call_raw(short_add, sizeof(short_add));
		int32_t r3 = call_raw(no_op, sizeof(no_op));

		if (r1 != RXGEN_OPCODE || r2 != RXGEN_SS_UNMARSHAL ||
		    r3 != RXGEN_DECODE)
			fprintf(stderr, PROG ": raw calls -> %d %d %d\n",
				(int)r1, (int)r2, (int)r3);
		CHECK(r1 == RXGEN_OPCODE);
		CHECK(r2 == RXGEN_SS_UNMARSHAL);
		CHECK(r3 == RXGEN_DECODE);
	}
	rxsvc_sock_close(sock);
	if (failures)
		return 1;
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "client"))
		return client(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: " PROG
			" server PORTFILE SERVICE | client PORT SERVICE\n");
	return 2;
}
