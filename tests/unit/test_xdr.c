/* SPDX-License-Identifier: MIT */
/*
 * test_xdr.c - the XDR codecs (idl/xdr.c, include/rxsvc/xdr.h): every
 * primitive against its RFC 4506 bytes, round trips of a struct using
 * every type, every truncation of that struct's encoding (each decoded
 * from an exact-size heap buffer, so ASan sees any overread), maxima,
 * malformed values, a huge announced count backed by no bytes, and the
 * same over real calls on loopback: a short request aborts with
 * RXGEN_SS_UNMARSHAL, a short reply gives RXGEN_CC_UNMARSHAL, and a
 * split call mixes raw bytes with XDR.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <CUnit/Basic.h>

#include <rxsvc/xdr.h>

/* ---- every type in one struct ---- */

struct inner {
	int32_t a;
	char *s;
};

union arm {
	int32_t num;
	char *str;
};

struct all {
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	int16_t i16;
	uint16_t u16;
	int8_t i8;
	uint8_t u8;
	bool b;
	int e;
	float f;
	double d;
	char *str;
	uint8_t fixed[5];
	void *bytes;
	uint32_t nbytes;
	int32_t vec[3];
	struct inner *arr;
	uint32_t narr;
	struct inner *opt;
	int32_t disc;
	union arm u;
};

static int xdr_i32(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int32(x, o);
}

static int xdr_inner(struct rxsvc_xdr *x, void *o)
{
	struct inner *in = o;

	rxsvc_xdr_int32(x, &in->a);
	return rxsvc_xdr_string(x, &in->s, 16);
}

static int xdr_arm_str(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_string(x, &((union arm *)o)->str, 8);
}

static const struct rxsvc_xdr_arm arms[] = {
	{ 1, xdr_i32, 0 },
	{ 2, xdr_arm_str, 0 },
	{ 3, NULL, 1 },
	RXSVC_XDR_ARMS_END,
};

static int xdr_all(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	rxsvc_xdr_int32(x, &a->i32);
	rxsvc_xdr_uint32(x, &a->u32);
	rxsvc_xdr_int64(x, &a->i64);
	rxsvc_xdr_uint64(x, &a->u64);
	rxsvc_xdr_int16(x, &a->i16);
	rxsvc_xdr_uint16(x, &a->u16);
	rxsvc_xdr_int8(x, &a->i8);
	rxsvc_xdr_uint8(x, &a->u8);
	rxsvc_xdr_bool(x, &a->b);
	rxsvc_xdr_enum(x, &a->e);
	rxsvc_xdr_float(x, &a->f);
	rxsvc_xdr_double(x, &a->d);
	rxsvc_xdr_string(x, &a->str, 32);
	rxsvc_xdr_opaque(x, a->fixed, sizeof(a->fixed));
	rxsvc_xdr_bytes(x, &a->bytes, &a->nbytes, 64);
	rxsvc_xdr_vector(x, a->vec, 3, sizeof(int32_t), xdr_i32);
	rxsvc_xdr_array(x, (void **)&a->arr, &a->narr, 4, sizeof(*a->arr),
			xdr_inner);
	rxsvc_xdr_pointer(x, (void **)&a->opt, sizeof(*a->opt), xdr_inner);
	rxsvc_xdr_union(x, &a->disc, &a->u, arms, NULL);
	return x->error;
}

static struct inner sample_inner[2] = { { 7, "seven" }, { -8, "" } };
static struct inner sample_opt = { 99, "opt" };

static void sample(struct all *a)
{
	memset(a, 0, sizeof(*a));
	a->i32 = -123456;
	a->u32 = 0xdeadbeef;
	a->i64 = -0x123456789abLL;
	a->u64 = 0xfedcba9876543210ULL;
	a->i16 = -300;
	a->u16 = 65000;
	a->i8 = -5;
	a->u8 = 200;
	a->b = true;
	a->e = 3;
	a->f = 1.5f;
	a->d = -2.25;
	a->str = "hello";
	memcpy(a->fixed, "ABCDE", 5);
	a->bytes = "xyz";
	a->nbytes = 3;
	a->vec[0] = 1;
	a->vec[1] = 2;
	a->vec[2] = 3;
	a->arr = sample_inner;
	a->narr = 2;
	a->opt = &sample_opt;
	a->disc = 2;
	a->u.str = "arm";
}

/* Encode @a into a malloc'd buffer of exactly the right size. */
static uint8_t *encode(rxsvc_xdr_proc_t proc, void *a, size_t *lenp)
{
	struct rxsvc_xdr x;
	uint8_t *buf;

	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, NULL, 0);
	CU_ASSERT_EQUAL_FATAL(proc(&x, a), 0);
	buf = malloc(x.pos);
	*lenp = x.pos;
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, buf, *lenp);
	CU_ASSERT_EQUAL_FATAL(proc(&x, a), 0);
	CU_ASSERT_EQUAL(x.pos, *lenp);
	return buf;
}

static int decode(rxsvc_xdr_proc_t proc, void *a, const uint8_t *src,
		  size_t len)
{
	uint8_t *copy = malloc(len ? len : 1); /* exact size for ASan */
	struct rxsvc_xdr x;

	memcpy(copy, src, len);
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_DECODE, copy, len);
	proc(&x, a);
	if (!x.error)
		rxsvc_xdr_recv_end(&x);
	free(copy);
	return x.error;
}

static void test_primitives_bytes(void)
{
	static const uint8_t want[] = {
		0xff, 0xfe, 0x1d, 0xc0,				/* -123456 */
		0xde, 0xad, 0xbe, 0xef,				/* u32 */
		0xff, 0xff, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x55, /* i64 */
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, /* u64 */
		0xff, 0xff, 0xfe, 0xd4,				/* -300 */
		0x00, 0x00, 0xfd, 0xe8,				/* 65000 */
		0xff, 0xff, 0xff, 0xfb,				/* -5 */
		0x00, 0x00, 0x00, 0xc8,				/* 200 */
		0x00, 0x00, 0x00, 0x01,				/* true */
		0x00, 0x00, 0x00, 0x03,				/* enum */
		0x3f, 0xc0, 0x00, 0x00,				/* 1.5f */
		0xc0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* -2.25 */
		0,    0,    0,	  5,	'h',  'e',  'l',  'l',	'o',  0,   0,
		0,					     /* string */
		'A',  'B',  'C',  'D',	'E',  0,    0,	  0, /* opaque[5] */
		0,    0,    0,	  3,	'x',  'y',  'z',  0, /* bytes */
		0,    0,    0,	  1,	0,    0,    0,	  2,	0,    0,   0,
		3,		     /* vector */
		0,    0,    0,	  2, /* count */
		0,    0,    0,	  7,	0,    0,    0,	  5,	's',  'e', 'v',
		'e',  'n',  0,	  0,	0,    0xff, 0xff, 0xff, 0xf8, 0,   0,
		0,    0,    0,	  0,	0,    1,    0,	  0,	0,    99,  0,
		0,    0,    3,	  'o',	'p',  't',  0,	  0,	0,    0,   2,
		0,    0,    0,	  3,	'a',  'r',  'm',  0, /* union */
	};
	struct all a;
	size_t len;
	uint8_t *buf;

	sample(&a);
	buf = encode(xdr_all, &a, &len);
	CU_ASSERT_EQUAL(len, sizeof(want));
	if (len == sizeof(want))
		CU_ASSERT_EQUAL(memcmp(buf, want, len), 0);
	free(buf);
}

static void test_round_trip(void)
{
	struct all a, b;
	size_t len;
	uint8_t *buf;

	sample(&a);
	buf = encode(xdr_all, &a, &len);
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(decode(xdr_all, &b, buf, len), 0);
	CU_ASSERT_EQUAL(b.i32, a.i32);
	CU_ASSERT_EQUAL(b.u32, a.u32);
	CU_ASSERT_EQUAL(b.i64, a.i64);
	CU_ASSERT_EQUAL(b.u64, a.u64);
	CU_ASSERT_EQUAL(b.i16, a.i16);
	CU_ASSERT_EQUAL(b.u16, a.u16);
	CU_ASSERT_EQUAL(b.i8, a.i8);
	CU_ASSERT_EQUAL(b.u8, a.u8);
	CU_ASSERT_EQUAL(b.b, a.b);
	CU_ASSERT_EQUAL(b.e, a.e);
	CU_ASSERT_EQUAL(b.f, a.f);
	CU_ASSERT_EQUAL(b.d, a.d);
	CU_ASSERT_STRING_EQUAL(b.str, "hello");
	CU_ASSERT_EQUAL(memcmp(b.fixed, "ABCDE", 5), 0);
	CU_ASSERT_EQUAL(b.nbytes, 3);
	CU_ASSERT_EQUAL(memcmp(b.bytes, "xyz", 3), 0);
	CU_ASSERT_EQUAL(b.vec[2], 3);
	CU_ASSERT_EQUAL_FATAL(b.narr, 2);
	CU_ASSERT_EQUAL(b.arr[0].a, 7);
	CU_ASSERT_STRING_EQUAL(b.arr[0].s, "seven");
	CU_ASSERT_EQUAL(b.arr[1].a, -8);
	CU_ASSERT_STRING_EQUAL(b.arr[1].s, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b.opt);
	CU_ASSERT_EQUAL(b.opt->a, 99);
	CU_ASSERT_STRING_EQUAL(b.opt->s, "opt");
	CU_ASSERT_EQUAL(b.disc, 2);
	CU_ASSERT_STRING_EQUAL(b.u.str, "arm");
	rxsvc_xdr_free(xdr_all, &b);
	CU_ASSERT_PTR_NULL(b.str);
	CU_ASSERT_PTR_NULL(b.arr);
	CU_ASSERT_PTR_NULL(b.opt);
	/* absent pointer, void arm, empty array */
	a.opt = NULL;
	a.disc = 3;
	a.narr = 0;
	a.arr = NULL;
	free(buf);
	buf = encode(xdr_all, &a, &len);
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(decode(xdr_all, &b, buf, len), 0);
	CU_ASSERT_PTR_NULL(b.opt);
	CU_ASSERT_EQUAL(b.narr, 0);
	CU_ASSERT_EQUAL(b.disc, 3);
	rxsvc_xdr_free(xdr_all, &b);
	free(buf);
}

/* Every prefix of a valid encoding fails with -EBADMSG, no overread. */
static void test_truncations(void)
{
	struct all a, b;
	size_t len;
	uint8_t *buf;

	sample(&a);
	buf = encode(xdr_all, &a, &len);
	for (size_t n = 0; n < len; n++) {
		memset(&b, 0, sizeof(b));
		CU_ASSERT_EQUAL(decode(xdr_all, &b, buf, n), -EBADMSG);
		rxsvc_xdr_free(xdr_all, &b);
	}
	/* one byte too many: recv_end refuses it */
	{
		uint8_t *more = malloc(len + 4);

		memcpy(more, buf, len);
		memset(more + len, 0, 4);
		memset(&b, 0, sizeof(b));
		CU_ASSERT_EQUAL(decode(xdr_all, &b, more, len + 4), -EBADMSG);
		rxsvc_xdr_free(xdr_all, &b);
		free(more);
	}
	free(buf);
}

static int xdr_str8(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_string(x, o, 8);
}

static int xdr_bytes8(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_bytes(x, &a->bytes, &a->nbytes, 8);
}

static int xdr_arr4(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_array(x, (void **)&a->arr, &a->narr, 4,
			       sizeof(*a->arr), xdr_inner);
}

static int xdr_big_array(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_array(x, (void **)&a->arr, &a->narr, 0xffffffffu / 16,
			       sizeof(*a->arr), xdr_inner);
}

static int xdr_big_bytes(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_bytes(x, &a->bytes, &a->nbytes, 0xffffffffu);
}

static int xdr_bool_only(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_bool(x, o);
}

static int xdr_i16_only(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int16(x, o);
}

static int xdr_u8_only(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_uint8(x, o);
}

static int xdr_union_only(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_union(x, &a->disc, &a->u, arms, NULL);
}

static int xdr_ptr_only(struct rxsvc_xdr *x, void *o)
{
	struct all *a = o;

	return rxsvc_xdr_pointer(x, (void **)&a->opt, sizeof(*a->opt),
				 xdr_inner);
}

static void test_malformed(void)
{
	static const struct {
		const char *name;
		rxsvc_xdr_proc_t proc;
		uint8_t in[12];
		size_t len;
	} cases[] = {
		{ "string over max", xdr_str8, { 0, 0, 0, 9 }, 4 },
		{ "string 2^32-1", xdr_str8, { 0xff, 0xff, 0xff, 0xff }, 4 },
		{ "bytes over max", xdr_bytes8, { 0, 0, 0, 9 }, 4 },
		{ "array over max", xdr_arr4, { 0, 0, 0, 5 }, 4 },
		{ "huge array, no elements",
		  xdr_big_array,
		  { 0x0f, 0xff, 0xff, 0xff },
		  4 },
		{ "huge bytes, no bytes",
		  xdr_big_bytes,
		  { 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4 },
		  8 },
		{ "bool 2", xdr_bool_only, { 0, 0, 0, 2 }, 4 },
		{ "int16 out of range", xdr_i16_only, { 0, 1, 0, 0 }, 4 },
		{ "uint8 out of range", xdr_u8_only, { 0, 0, 1, 0 }, 4 },
		{ "union arm not listed", xdr_union_only, { 0, 0, 0, 9 }, 4 },
		{ "pointer flag 2", xdr_ptr_only, { 0, 0, 0, 2 }, 4 },
		{ "string body short", xdr_str8, { 0, 0, 0, 4, 'a', 'b' }, 6 },
		{ "string pad missing",
		  xdr_str8,
		  { 0, 0, 0, 3, 'a', 'b', 'c' },
		  7 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct all b;
		char *s = NULL;
		void *obj = cases[i].proc == xdr_str8	     ? (void *)&s
			    : cases[i].proc == xdr_bool_only ? (void *)&b.b
			    : cases[i].proc == xdr_i16_only  ? (void *)&b.i16
			    : cases[i].proc == xdr_u8_only   ? (void *)&b.u8
							     : (void *)&b;
		int ret;

		memset(&b, 0, sizeof(b));
		ret = decode(cases[i].proc, obj, cases[i].in, cases[i].len);
		if (ret != -EBADMSG)
			fprintf(stderr, "case %s: %d\n", cases[i].name, ret);
		CU_ASSERT_EQUAL(ret, -EBADMSG);
		free(s);
		if (obj == &b)
			cases[i].proc == xdr_union_only
				? (void)0
				: rxsvc_xdr_free(cases[i].proc, &b);
	}
}

static void test_encode_limits(void)
{
	struct rxsvc_xdr x;
	uint8_t buf[8];
	char *s = "123456789";
	struct all a;
	int32_t v = 1;

	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, buf, sizeof(buf));
	CU_ASSERT_EQUAL(xdr_str8(&x, &s), -EMSGSIZE);
	/* sticky */
	CU_ASSERT_EQUAL(rxsvc_xdr_int32(&x, &v), -EMSGSIZE);
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, buf, 6);
	CU_ASSERT_EQUAL(rxsvc_xdr_int32(&x, &v), 0);
	CU_ASSERT_EQUAL(rxsvc_xdr_int32(&x, &v), -EMSGSIZE);
	memset(&a, 0, sizeof(a));
	a.narr = 5;
	a.arr = sample_inner;
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, NULL, 0);
	CU_ASSERT_EQUAL(xdr_arr4(&x, &a), -EMSGSIZE);
	CU_ASSERT_EQUAL(rxsvc_xdr_abort(&x), RXGEN_SS_MARSHAL);
	a.disc = 42;
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, NULL, 0);
	CU_ASSERT_EQUAL(xdr_union_only(&x, &a), -EINVAL);
}

/* ---- over real calls ---- */

#define SVC 4242

static struct rxsvc_sock *srv_sock, *cli_sock;
static struct rxsvc_srx srv_addr;
static pthread_mutex_t acc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t acc_cv = PTHREAD_COND_INITIALIZER;
static struct rxsvc_call *accepted;

static void on_new(struct rxsvc_sock *s, struct rxsvc_call *call,
		   unsigned long id, void *arg)
{
	pthread_mutex_lock(&acc_lock);
	accepted = call;
	pthread_cond_broadcast(&acc_cv);
	pthread_mutex_unlock(&acc_lock);
}

/* Charge the server's one call before the client may call (a call that
 * finds nothing charged is answered BUSY), then run @fn on a thread. */
static void start_server(pthread_t *th, void *(*fn)(void *), void *arg)
{
	static unsigned long charge_id = 1;

	CU_ASSERT_EQUAL(rxsvc_sock_charge(srv_sock, NULL, charge_id++), 0);
	pthread_create(th, NULL, fn, arg);
}

static struct rxsvc_call *accept_one(void)
{
	struct rxsvc_call *c;

	pthread_mutex_lock(&acc_lock);
	while (!accepted)
		pthread_cond_wait(&acc_cv, &acc_lock);
	c = accepted;
	accepted = NULL;
	pthread_mutex_unlock(&acc_lock);
	return c;
}

/* The server of the call tests: opcode, then per opcode:
 * 1: (int32 a, string s<16>) -> (int32 a + 1, string s) split: reads
 *    4 raw bytes after the args, replies 4 raw bytes then the results. */
static void *server(void *arg)
{
	int mode = *(int *)arg;
	struct rxsvc_call *call = accept_one();
	struct rxsvc_xdr in, out;
	struct inner v = { 0, NULL };
	int32_t op;

	(void)mode;
	rxsvc_xdr_init_call(&in, call, RXSVC_XDR_DECODE);
	if (rxsvc_xdr_int32(&in, &op) < 0) {
		rxsvc_call_abort(call, RXGEN_DECODE, -EBADMSG, "test");
		goto out;
	}
	if (xdr_inner(&in, &v) == 0) {
		uint8_t raw[4];
		unsigned int fl = RXSVC_RECV_WAITALL;
		int32_t code;

		if (rxsvc_call_recv(call, raw, 4, &fl, &code) != 4)
			in.error = -EBADMSG;
		else
			rxsvc_xdr_recv_end(&in);
		if (!in.error) {
			struct iovec iov = { raw, 4 };

			v.a++;
			rxsvc_xdr_init_call(&out, call, RXSVC_XDR_ENCODE);
			rxsvc_call_send(call, &iov, 1, 4, RXSVC_SEND_MORE);
			xdr_inner(&out, &v);
			rxsvc_xdr_send_end(&out);
		}
	}
	if (in.error)
		rxsvc_xdr_abort(&in);
out:
	rxsvc_xdr_free(xdr_inner, &v);
	while (rxsvc_call_wait(call, 5000) == RXSVC_COMPLETE_NONE)
		;
	rxsvc_call_end(call);
	return NULL;
}

static struct rxsvc_call *client_call(void)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call;
	static unsigned long next_id = 100;

	cp.peer = srv_addr;
	cp.user_call_id = next_id++; /* an ended call's ID frees later */
	CU_ASSERT_EQUAL_FATAL(rxsvc_call_begin(cli_sock, &cp, &call), 0);
	return call;
}

static void test_call_split(void)
{
	int mode = 0;
	pthread_t th;
	struct rxsvc_call *call;
	struct rxsvc_xdr x;
	struct inner v = { 41, "split" }, r = { 0, NULL };
	int32_t op = 1;
	uint8_t raw[4] = { 1, 2, 3, 4 }, back[4];
	struct iovec iov = { raw, 4 };
	unsigned int fl = RXSVC_RECV_WAITALL;
	int32_t code;

	start_server(&th, server, &mode);
	call = client_call();
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	CU_ASSERT_EQUAL(x.client, 1);
	rxsvc_xdr_int32(&x, &op);
	xdr_inner(&x, &v);
	CU_ASSERT_EQUAL(x.error, 0);
	CU_ASSERT_EQUAL(rxsvc_call_send(call, &iov, 1, 4, RXSVC_SEND_MORE), 4);
	CU_ASSERT_EQUAL(rxsvc_xdr_send_end(&x), 0);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, back, 4, &fl, &code), 4);
	CU_ASSERT_EQUAL(memcmp(back, raw, 4), 0);
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_DECODE);
	CU_ASSERT_EQUAL(xdr_inner(&x, &r), 0);
	CU_ASSERT_EQUAL(rxsvc_xdr_recv_end(&x), 0);
	CU_ASSERT_EQUAL(r.a, 42);
	CU_ASSERT_STRING_EQUAL(r.s, "split");
	rxsvc_xdr_free(xdr_inner, &r);
	rxsvc_call_end(call);
	pthread_join(th, NULL);
}

static void test_call_short_request(void)
{
	int mode = 0;
	pthread_t th;
	struct rxsvc_call *call;
	struct rxsvc_xdr x;
	int32_t op = 1, a = 5, len = 100; /* string of 100 > max 16 */
	uint8_t b;
	unsigned int fl = 0;
	int32_t code = 0;

	start_server(&th, server, &mode);
	call = client_call();
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	rxsvc_xdr_int32(&x, &a);
	rxsvc_xdr_int32(&x, &len);
	rxsvc_xdr_send_end(&x);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, &b, 1, &fl, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, RXGEN_SS_UNMARSHAL);
	/* the client's decoder maps the remote abort through */
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_DECODE);
	CU_ASSERT(rxsvc_xdr_int32(&x, &a) == -ECONNABORTED);
	CU_ASSERT_EQUAL(rxsvc_xdr_abort(&x), RXGEN_SS_UNMARSHAL);
	rxsvc_call_end(call);
	pthread_join(th, NULL);

	/* a request of 2 bytes: no opcode */
	start_server(&th, server, &mode);
	call = client_call();
	{
		struct iovec iov = { "ab", 2 };

		rxsvc_call_send(call, &iov, 1, 2, 0);
	}
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, &b, 1, &fl, &code),
			-ECONNABORTED);
	CU_ASSERT_EQUAL(code, RXGEN_DECODE);
	rxsvc_call_end(call);
	pthread_join(th, NULL);
}

/* A reply that ends early: the client's decode fails, and
 * rxsvc_xdr_abort gives RXGEN_CC_UNMARSHAL. */
static void *short_reply_server(void *arg)
{
	struct rxsvc_call *call = accept_one();
	uint8_t buf[64];
	unsigned int fl = 0;
	int32_t code;
	struct iovec iov = { "\0\0\0\1\0\0", 6 };

	while (rxsvc_call_recv(call, buf, sizeof(buf), &fl, &code) > 0 &&
	       !(fl & RXSVC_RECV_END))
		;
	rxsvc_call_send(call, &iov, 1, 6, 0);
	rxsvc_call_wait(call, 5000);
	rxsvc_call_end(call);
	return NULL;
}

static void test_call_short_reply(void)
{
	pthread_t th;
	struct rxsvc_call *call;
	struct rxsvc_xdr x;
	struct inner r = { 0, NULL };
	int32_t op = 1;

	start_server(&th, short_reply_server, NULL);
	call = client_call();
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(&x, &op);
	rxsvc_xdr_send_end(&x);
	rxsvc_xdr_init_call(&x, call, RXSVC_XDR_DECODE);
	CU_ASSERT_EQUAL(xdr_inner(&x, &r), -EBADMSG);
	CU_ASSERT_EQUAL(rxsvc_xdr_abort(&x), RXGEN_CC_UNMARSHAL);
	rxsvc_xdr_free(xdr_inner, &r);
	rxsvc_call_end(call);
	pthread_join(th, NULL);
}

static int calls_init(void)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;

	if (rxsvc_srx_parse(&p.local, "127.0.0.1:0") < 0 ||
	    rxsvc_sock_open(&p, &srv_sock) < 0 ||
	    rxsvc_sock_add_service(srv_sock, SVC) < 0 ||
	    rxsvc_sock_listen(srv_sock, 4) < 0 ||
	    rxsvc_sock_open(&p, &cli_sock) < 0)
		return 1;
	rxsvc_sock_set_accept(srv_sock, on_new, NULL, NULL);
	rxsvc_sock_local(srv_sock, &srv_addr);
	srv_addr.service_id = SVC;
	return 0;
}

static int calls_clean(void)
{
	rxsvc_sock_close(cli_sock);
	rxsvc_sock_close(srv_sock);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} mem[] = {
		{ "primitive bytes", test_primitives_bytes },
		{ "round trip", test_round_trip },
		{ "every truncation", test_truncations },
		{ "malformed inputs", test_malformed },
		{ "encode limits", test_encode_limits },
	}, calls[] = {
		{ "split call", test_call_split },
		{ "short or bad request", test_call_short_request },
		{ "short reply", test_call_short_reply },
	};
	unsigned int failed;
	CU_pSuite s;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("xdr memory", NULL, NULL);
	for (size_t i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		CU_add_test(s, mem[i].name, mem[i].fn);
	s = CU_add_suite("xdr calls", calls_init, calls_clean);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		CU_add_test(s, calls[i].name, calls[i].fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 99;
	}
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
