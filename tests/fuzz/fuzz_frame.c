/* SPDX-License-Identifier: MIT */
/*
 * fuzz_frame.c - the event bus wire (events/frame.c) and the client-side
 * decoder (events/client.c) on hostile bytes.
 *
 * 1. Frame decoder: the input is cut into frames with rxs_evf_frame_len()
 *    and each is decoded with rxs_evf_decode(); invariants: a length is
 *    refused below a header or above the maximum, a decoded frame's data
 *    lies inside it, and re-encoding a MSG or a request gives its bytes
 *    back.
 * 2. Client decoder: byte 0 chooses what the client does; the rest is
 *    what "the bus" sends it over a socketpair (SOCK_STREAM, or one
 *    SOCK_SEQPACKET record), after which the bus end stops writing.  The
 *    client joins (HELLO reply), asks for info (INFO reply with
 *    counters) and receives until the stream ends or it refuses a frame;
 *    every result must be one the API documents.
 * Any violation abort()s, which libFuzzer and replay.c report.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "events/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                         \
	do {                                                             \
		if (!(x)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #x);                 \
			abort();                                         \
		}                                                        \
	} while (0)

#define MODE_HELLO  0x01
#define MODE_INFO   0x02
#define MODE_SEQPKT 0x04

static uint8_t again[RXS_EVF_MAX_FRAME];
static union {
	struct rxsvc_cn_msg m;
	uint8_t b[sizeof(struct rxsvc_cn_msg) + RXS_EVF_MAX_MTU];
} scratch;

static void check_reencode(const uint8_t *p, size_t len,
			   const struct rxs_evf *f)
{
	struct rxsvc_cn_msg *m = &scratch.m;
	size_t n;

	switch (f->type) {
	case RXS_EVF_MSG:
		CHECK(f->dlen == len - RXS_EVF_MSG_HDR);
		CHECK(f->data == p + RXS_EVF_MSG_HDR);
		m->id = f->id;
		m->seq = f->seq;
		m->ack = f->ack;
		m->len = (uint16_t)f->dlen;
		m->flags = f->mflags;
		memcpy(m->data, f->data, f->dlen);
		n = rxs_evf_put_msg(again, m, f->group, &f->src, f->hops);
		CHECK(n == len);
		CHECK(memcmp(again + 8, p + 8, len - 8) == 0);
		break;
	case RXS_EVF_HELLO:
	case RXS_EVF_SUB:
	case RXS_EVF_UNSUB:
	case RXS_EVF_WANTID:
	case RXS_EVF_WATCH:
	case RXS_EVF_PING:
	case RXS_EVF_INFO:
	case RXS_EVF_SETMAX:
		n = rxs_evf_put_req(again, f->type, f->tag, f->a, f->b);
		CHECK(n == len);
		CHECK(memcmp(again + 8, p + 8, len - 8) == 0);
		break;
	case RXS_EVF_REPLY:
		CHECK(len >= 16 && f->dlen == len - 16);
		CHECK(f->data == p + 16);
		break;
	case RXS_EVF_MISSED:
		CHECK(len == 12);
		break;
	case RXS_EVF_NOTICE:
	case RXS_EVF_ERROR:
		CHECK(len == 16);
		break;
	default:
		CHECK(!"decoded an unknown type");
	}
}

static void fuzz_frames(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct rxs_evf f;
		long n = rxs_evf_frame_len(data + pos, size - pos,
					   RXS_EVF_MAX_FRAME);

		CHECK(n >= 0 || n == -EPROTO || n == -EMSGSIZE);
		if (n <= 0 || (size_t)n > size - pos)
			return;
		CHECK(n >= RXS_EVF_HDR && n <= (long)RXS_EVF_MAX_FRAME);
		if (rxs_evf_decode(data + pos, (size_t)n, &f) == 0)
			check_reencode(data + pos, (size_t)n, &f);
		pos += (size_t)n;
	}
}

static bool errno_ok(int r)
{
	return r == -EPROTO || r == -EPIPE || r == -ETIMEDOUT ||
	       r == -ECONNRESET || r == -ENOBUFS || r == -ENOMEM;
}

static void fuzz_client(uint8_t mode, const uint8_t *data, size_t size)
{
	int type = mode & MODE_SEQPKT ? SOCK_SEQPACKET : SOCK_STREAM;
	struct rxsvc_evc_event ev;
	struct rxsvc_bus_info info = { .size = sizeof(info) };
	uint64_t vals[64];
	size_t nvals = 0;
	struct rxsvc_evc *c;
	int sv[2];
	int r;
	int i;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	/* Up to 16500 bytes: within the default socket buffer. */
	if (size && write(sv[1], data, size) != (ssize_t)size)
		goto out_close;
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (rxs_evc_new(sv[0], type == SOCK_STREAM, 200, &c) < 0)
		goto out_close;
	sv[0] = -1;
	if (mode & MODE_HELLO) {
		r = rxs_evc_hello(c, RXSVC_EVC_SENDER);
		/* a refusal is the bus's status, any negative errno */
		CHECK(r <= 0);
		if (r == 0)
			CHECK(rxsvc_evc_mtu(c) <= RXS_EVF_MAX_MTU);
	}
	if (mode & MODE_INFO) {
		r = rxsvc_evc_info(c, &info, vals, 64, &nvals);
		CHECK(r <= 0);
		if (r == 0)
			CHECK(info.policy[sizeof(info.policy) - 1] == '\0');
	}
	/* Each frame is at least 8 bytes: this bounds the loop. */
	for (i = 0; i < (int)(size / 8) + 2; i++) {
		r = rxsvc_evc_recv(c, &ev, 0);
		if (r <= 0) {
			CHECK(r == 0 || errno_ok(r));
			break;
		}
		CHECK(r == 1);
		if (ev.kind == RXSVC_EVC_MSG) {
			CHECK(ev.msg != NULL);
			CHECK(ev.msg->len <= RXS_EVF_MAX_MTU);
		} else {
			CHECK(ev.kind == RXSVC_EVC_MISSED ||
			      ev.kind == RXSVC_EVC_NOTICE);
		}
	}
	rxsvc_evc_close(c);
out_close:
	if (sv[0] >= 0)
		close(sv[0]);
	close(sv[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16500)
		return 0;
	if (!size)
		return 0;
	fuzz_frames(data + 1, size - 1);
	fuzz_client(data[0], data + 1, size - 1);
	return 0;
}
