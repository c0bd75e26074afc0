/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the stream parser (events/strparser.c) and the frame
 * decoder (events/frame.c): split and coalesced input, oversize,
 * assembly timeout on a fake clock, pause / unpause, parse errors,
 * counters and their aggregation, a table of truncated frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "events/internal.h"

/* Test framing: u16 big-endian length of the body, then the body. */
struct ctx {
	int msgs;
	int retry_next;
	int aborted;
	int read_done;
	uint64_t now;
	char last[256];
	size_t last_len;
};

static long t_parse(struct rxsvc_strp *strp, const uint8_t *d, size_t len)
{
	if (len < 2)
		return 0;
	if (d[0] == 0xff)
		return -EBADMSG;
	return 2 + ((long)d[0] << 8 | d[1]);
}

static int t_rcv(struct rxsvc_strp *strp, const uint8_t *msg, size_t len)
{
	struct ctx *c = rxsvc_strp_arg(strp);

	if (c->retry_next) {
		c->retry_next = 0;
		return RXSVC_STRP_RETRY;
	}
	c->msgs++;
	c->last_len = len - 2 < sizeof(c->last) ? len - 2 : sizeof(c->last);
	memcpy(c->last, msg + 2, c->last_len);
	return 0;
}

static void t_abort(struct rxsvc_strp *strp, int err)
{
	struct ctx *c = rxsvc_strp_arg(strp);

	c->aborted = err;
}

static void t_done(struct rxsvc_strp *strp, int err)
{
	struct ctx *c = rxsvc_strp_arg(strp);

	c->read_done++;
}

static uint64_t t_now(void *arg)
{
	return ((struct ctx *)arg)->now;
}

static struct rxsvc_strp *mk(struct ctx *c, size_t max, unsigned int tmo)
{
	struct rxsvc_strp_params p = RXSVC_STRP_PARAMS_INIT;
	struct rxsvc_strp *s = NULL;

	memset(c, 0, sizeof(*c));
	p.cb.parse_msg = t_parse;
	p.cb.rcv_msg = t_rcv;
	p.cb.abort = t_abort;
	p.cb.read_done = t_done;
	p.arg = c;
	p.max_msg = max;
	p.timeout_ms = tmo;
	p.now_ms = t_now;
	CU_ASSERT_EQUAL_FATAL(rxsvc_strp_new(&p, &s), 0);
	return s;
}

static size_t frame(uint8_t *b, const char *body)
{
	size_t n = strlen(body);

	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	memcpy(b + 2, body, n);
	return n + 2;
}

static void test_coalesced(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 0);
	struct rxsvc_strp_stats st;
	uint8_t b[64];
	size_t n = 0;

	n += frame(b + n, "one");
	n += frame(b + n, "two");
	n += frame(b + n, "three");
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n), (long)n);
	CU_ASSERT_EQUAL(c.msgs, 3);
	CU_ASSERT_EQUAL(c.last_len, 5);
	CU_ASSERT_EQUAL(memcmp(c.last, "three", 5), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_pending(s), 0);
	rxsvc_strp_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.msgs, 3);
	CU_ASSERT_EQUAL(st.bytes, n);
	CU_ASSERT_EQUAL(st.partial, 0);
	CU_ASSERT_EQUAL(c.read_done, 1);
	rxsvc_strp_free(s);
}

static void test_split(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 0);
	struct rxsvc_strp_stats st;
	uint8_t b[64];
	size_t n = 0;
	size_t i;

	n += frame(b + n, "hello");
	n += frame(b + n, "world!");
	for (i = 0; i < n; i++)
		CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b + i, 1), 1);
	CU_ASSERT_EQUAL(c.msgs, 2);
	CU_ASSERT_EQUAL(memcmp(c.last, "world!", 6), 0);
	rxsvc_strp_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.partial, 2);
	/* A whole one plus half of the next. */
	n = frame(b, "abc");
	n += frame(b + n, "defgh");
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n - 3), (long)(n - 3));
	CU_ASSERT_EQUAL(c.msgs, 3);
	CU_ASSERT_EQUAL(rxsvc_strp_pending(s), 4);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b + n - 3, 3), 3);
	CU_ASSERT_EQUAL(c.msgs, 4);
	CU_ASSERT_EQUAL(memcmp(c.last, "defgh", 5), 0);
	rxsvc_strp_free(s);
}

static void test_oversize(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 16, 0);
	struct rxsvc_strp_stats st;
	uint8_t b[64];
	size_t n = frame(b, "this body is far too long");

	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n), -EMSGSIZE);
	CU_ASSERT_EQUAL(c.aborted, -EMSGSIZE);
	CU_ASSERT_EQUAL(c.msgs, 0);
	/* Stopped: nothing more is taken. */
	n = frame(b, "ok");
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n), -EMSGSIZE);
	CU_ASSERT_EQUAL(c.msgs, 0);
	rxsvc_strp_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.aborts, 1);
	CU_ASSERT_EQUAL(st.oversize, 1);
	rxsvc_strp_free(s);
}

/* parse_msg keeps saying "need more" past max_msg: -EMSGSIZE too. */
static long t_parse_never(struct rxsvc_strp *strp, const uint8_t *d,
			  size_t len)
{
	return 0;
}

static void test_never_ends(void)
{
	struct rxsvc_strp_params p = RXSVC_STRP_PARAMS_INIT;
	struct rxsvc_strp *s = NULL;
	uint8_t b[40] = { 0 };

	p.cb.parse_msg = t_parse_never;
	p.cb.rcv_msg = t_rcv;
	p.max_msg = 32;
	CU_ASSERT_EQUAL_FATAL(rxsvc_strp_new(&p, &s), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 20), 20);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 20), -EMSGSIZE);
	rxsvc_strp_free(s);
}

static void test_timeout(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 500);
	struct rxsvc_strp_stats st;
	uint8_t b[64];
	size_t n = frame(b, "slow");

	c.now = 1000;
	CU_ASSERT_EQUAL(rxsvc_strp_check_timeout(s), 0); /* nothing held */
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 3), 3);
	c.now = 1400;
	CU_ASSERT_EQUAL(rxsvc_strp_check_timeout(s), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b + 3, 1), 1); /* still partial */
	c.now = 1500;
	/* Measured from the first byte, not the last. */
	CU_ASSERT_EQUAL(rxsvc_strp_check_timeout(s), -ETIMEDOUT);
	CU_ASSERT_EQUAL(c.aborted, -ETIMEDOUT);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b + 4, n - 4), -ETIMEDOUT);
	CU_ASSERT_EQUAL(c.msgs, 0);
	rxsvc_strp_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.timeouts, 1);
	rxsvc_strp_free(s);

	/* A message completed in time resets the clock. */
	s = mk(&c, 100, 500);
	c.now = 0;
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 3), 3);
	c.now = 400;
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b + 3, n - 3), (long)(n - 3));
	CU_ASSERT_EQUAL(c.msgs, 1);
	c.now = 10000;
	CU_ASSERT_EQUAL(rxsvc_strp_check_timeout(s), 0);
	rxsvc_strp_free(s);
}

static void test_pause(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 0);
	struct rxsvc_strp_stats st;
	uint8_t b[64];
	size_t n = 0;
	long taken;

	n += frame(b + n, "a");
	n += frame(b + n, "b");
	c.retry_next = 1;
	taken = rxsvc_strp_feed(s, b, n);
	CU_ASSERT_EQUAL(taken, (long)n); /* buffered, not delivered */
	CU_ASSERT_TRUE(rxsvc_strp_paused(s));
	CU_ASSERT_EQUAL(c.msgs, 0);
	CU_ASSERT_EQUAL(rxsvc_strp_pending(s), n);
	/* Paused: more input is refused, not lost. */
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 3), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_unpause(s), 0);
	CU_ASSERT_FALSE(rxsvc_strp_paused(s));
	CU_ASSERT_EQUAL(c.msgs, 2);
	CU_ASSERT_EQUAL(c.last[0], 'b');
	/* Explicit pause. */
	rxsvc_strp_pause(s);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_unpause(s), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, n), (long)n);
	CU_ASSERT_EQUAL(c.msgs, 4);
	rxsvc_strp_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.pauses, 2);
	rxsvc_strp_free(s);
}

static void test_parse_error(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 0);
	uint8_t b[8] = { 0xff, 0, 1, 2 };

	CU_ASSERT_EQUAL(rxsvc_strp_feed(s, b, 4), -EBADMSG);
	CU_ASSERT_EQUAL(c.aborted, -EBADMSG);
	rxsvc_strp_free(s);
}

static void test_stats_add(void)
{
	struct rxsvc_strp_stats a = { 1, 2, 3, 4, 5, 6, 7 };
	struct rxsvc_strp_stats b = { 10, 20, 30, 40, 50, 60, 70 };

	rxsvc_strp_stats_add(&a, &b);
	CU_ASSERT_EQUAL(a.msgs, 11);
	CU_ASSERT_EQUAL(a.bytes, 22);
	CU_ASSERT_EQUAL(a.aborts, 33);
	CU_ASSERT_EQUAL(a.pauses, 44);
	CU_ASSERT_EQUAL(a.oversize, 55);
	CU_ASSERT_EQUAL(a.timeouts, 66);
	CU_ASSERT_EQUAL(a.partial, 77);
}

static void test_recv_socket(void)
{
	struct ctx c;
	struct rxsvc_strp *s = mk(&c, 100, 0);
	uint8_t b[64];
	size_t n = 0;
	int sv[2];

	CU_ASSERT_EQUAL_FATAL(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CU_ASSERT_EQUAL(rxsvc_strp_recv(s, sv[0]), -EAGAIN);
	n += frame(b + n, "x1");
	n += frame(b + n, "x2");
	CU_ASSERT_EQUAL(write(sv[1], b, 5), 5);
	CU_ASSERT_EQUAL(rxsvc_strp_recv(s, sv[0]), 5);
	CU_ASSERT_EQUAL(c.msgs, 1);
	CU_ASSERT_EQUAL(write(sv[1], b + 5, n - 5), (ssize_t)(n - 5));
	CU_ASSERT_EQUAL(rxsvc_strp_recv(s, sv[0]), (long)(n - 5));
	CU_ASSERT_EQUAL(c.msgs, 2);
	close(sv[1]);
	CU_ASSERT_EQUAL(rxsvc_strp_recv(s, sv[0]), 0);
	close(sv[0]);
	rxsvc_strp_free(s);
}

static void test_params(void)
{
	struct rxsvc_strp_params p = RXSVC_STRP_PARAMS_INIT;
	struct rxsvc_strp *s = NULL;

	CU_ASSERT_EQUAL(rxsvc_strp_new(&p, &s), -EINVAL); /* no callbacks */
	p.cb.parse_msg = t_parse;
	p.cb.rcv_msg = t_rcv;
	p.max_msg = (size_t)1 << 40;
	CU_ASSERT_EQUAL(rxsvc_strp_new(&p, &s), -EINVAL);
}

/* ---- frame decoder ---- */

static void test_frame_roundtrip(void)
{
	uint8_t buf[RXS_EVF_MSG_HDR + 8];
	struct rxsvc_cn_msg *m = calloc(1, sizeof(*m) + 8);
	struct rxsvc_cn_src src = { .client = 3, .pid = 4, .uid = 5, .gid = 6 };
	struct rxs_evf f;
	size_t n;

	m->id.idx = 0x01020304;
	m->id.val = 0xa0b0c0d0;
	m->seq = 7;
	m->ack = 8;
	m->len = 5;
	memcpy(m->data, "hello", 5);
	n = rxs_evf_put_msg(buf, m, 99, &src, 2);
	CU_ASSERT_EQUAL(n, RXS_EVF_MSG_HDR + 5);
	CU_ASSERT_EQUAL(rxs_evf_frame_len(buf, n, 1000), (long)n);
	CU_ASSERT_EQUAL_FATAL(rxs_evf_decode(buf, n, &f), 0);
	CU_ASSERT_EQUAL(f.type, RXS_EVF_MSG);
	CU_ASSERT_EQUAL(f.hops, 2);
	CU_ASSERT_EQUAL(f.group, 99);
	CU_ASSERT_EQUAL(f.src.client, 3);
	CU_ASSERT_EQUAL(f.src.uid, 5);
	CU_ASSERT_EQUAL(f.id.idx, 0x01020304);
	CU_ASSERT_EQUAL(f.id.val, 0xa0b0c0d0);
	CU_ASSERT_EQUAL(f.seq, 7);
	CU_ASSERT_EQUAL(f.ack, 8);
	CU_ASSERT_EQUAL(f.dlen, 5);
	CU_ASSERT_EQUAL(memcmp(f.data, "hello", 5), 0);
	free(m);
}

static void test_frame_truncated(void)
{
	uint8_t buf[128];
	struct rxsvc_cn_msg m = { .len = 0 };
	struct rxsvc_cn_src src = { 0 };
	struct rxs_evf f;
	size_t lens[4];
	size_t n;
	size_t i;
	size_t k;

	lens[0] = rxs_evf_put_msg(buf, &m, 1, &src, 0);
	lens[1] = rxs_evf_put_req(buf + 64, RXS_EVF_SUB, 1, 2, 3);
	/* Every proper prefix, relabelled as whole, is refused. */
	for (k = 0; k < 2; k++) {
		uint8_t *p = k ? buf + 64 : buf;

		for (i = 0; i < lens[k]; i++) {
			uint8_t t[128];

			memcpy(t, p, i);
			if (i >= 4)
				rxs_put_be32(t, (uint32_t)i);
			CU_ASSERT_EQUAL(rxs_evf_decode(t, i, &f), -EPROTO);
		}
	}
	/* Length field disagreeing with the buffer. */
	n = rxs_evf_put_req(buf, RXS_EVF_PING, 1, 0, 0);
	CU_ASSERT_EQUAL(rxs_evf_decode(buf, n - 1, &f), -EPROTO);
	/* Trailing bytes after a request. */
	rxs_put_be32(buf, (uint32_t)n + 4);
	CU_ASSERT_EQUAL(rxs_evf_decode(buf, n + 4, &f), -EPROTO);
	/* MSG whose u16 len disagrees with the frame. */
	n = rxs_evf_put_msg(buf, &m, 1, &src, 0);
	buf[RXS_EVF_HDR + 37] = 1;
	CU_ASSERT_EQUAL(rxs_evf_decode(buf, n, &f), -EPROTO);
	/* Unknown type. */
	n = rxs_evf_put_req(buf, RXS_EVF_PING, 1, 0, 0);
	buf[4] = RXS_EVF__NR;
	CU_ASSERT_EQUAL(rxs_evf_decode(buf, n, &f), -EPROTO);
	buf[4] = 0;
	CU_ASSERT_EQUAL(rxs_evf_decode(buf, n, &f), -EPROTO);
	/* Frame length: short, tiny, huge. */
	CU_ASSERT_EQUAL(rxs_evf_frame_len(buf, 3, 100), 0);
	rxs_put_be32(buf, 7);
	CU_ASSERT_EQUAL(rxs_evf_frame_len(buf, 4, 100), -EPROTO);
	rxs_put_be32(buf, 0xffffffff);
	CU_ASSERT_EQUAL(rxs_evf_frame_len(buf, 4, 100), -EMSGSIZE);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "coalesced", test_coalesced },
		{ "split", test_split },
		{ "oversize", test_oversize },
		{ "never ends", test_never_ends },
		{ "assembly timeout", test_timeout },
		{ "pause / unpause", test_pause },
		{ "parse error", test_parse_error },
		{ "stats aggregation", test_stats_add },
		{ "recv from a socket", test_recv_socket },
		{ "params", test_params },
		{ "frame round trip", test_frame_roundtrip },
		{ "frame truncated / malformed", test_frame_truncated },
	};
	CU_pSuite s;
	unsigned int fails;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("strparser and frames", NULL, NULL);
	if (!s)
		return 99;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return 99;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		return 99;
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
