/* SPDX-License-Identifier: MIT */
/*
 * pb_stream.c - framed calls: a sequence of length-prefixed messages in
 * each direction of one Rx call (wire format in include/rxsvc/pb.h).
 * Frames are written with RXSVC_SEND_MORE and read with blocking,
 * exact-length reads, so the Rx window is the flow control: a sender
 * blocks in rxsvc_call_send while the receiver has not consumed.  A
 * frame's length is checked against the maximum before any of its bytes
 * are read or any memory is taken for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "idl/pb_internal.h"

struct rxsvc_pb_stream {
	struct rxsvc_call *call;
	const ProtobufCMessageDescriptor *send_type;
	const ProtobufCMessageDescriptor *recv_type;
	size_t max_frame;
	bool client;
	bool send_ended;
	bool recv_ended;
	uint8_t *buf; /* frame buffer, reused */
	size_t cap;
};

static struct rxsvc_pb_stream *stream_alloc(const ProtobufCMethodDescriptor *m,
					    bool client, size_t max_frame)
{
	struct rxsvc_pb_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->client = client;
	st->send_type = client ? m->input : m->output;
	st->recv_type = client ? m->output : m->input;
	st->max_frame = max_frame;
	return st;
}

struct rxsvc_pb_stream *rxs_pb_stream_server(struct rxsvc_call *call,
					     const ProtobufCMethodDescriptor *m,
					     size_t max_frame)
{
	struct rxsvc_pb_stream *st = stream_alloc(m, false, max_frame);

	if (st)
		st->call = call;
	return st;
}

bool rxs_pb_stream_ended(struct rxsvc_pb_stream *st)
{
	return st->send_ended;
}

void rxs_pb_stream_free(struct rxsvc_pb_stream *st)
{
	free(st->buf);
	free(st);
}

RXSVC_API struct rxsvc_call *rxsvc_pb_stream_call(struct rxsvc_pb_stream *st)
{
	return st->call;
}

RXSVC_API int rxsvc_pb_stream_open(ProtobufCService *svc, unsigned int method,
				   struct rxsvc_pb_stream **stp)
{
	const struct rxs_pb_client *cl = rxs_pb_client_of(svc);
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_pb_stream *st;
	uint8_t op[4];
	struct iovec iov = { op, 4 };
	int ret;

	if (!cl || !stp || method >= cl->p.descriptor->n_methods)
		return -EINVAL;
	st = stream_alloc(&cl->p.descriptor->methods[method], true,
			  cl->p.max_reply);
	if (!st)
		return -ENOMEM;
	cp.peer = cl->p.peer;
	cp.key = cl->p.key;
	cp.user_call_id = rxs_pb_call_id();
	cp.hard_time_ms = cl->p.hard_time_ms;
	ret = rxsvc_call_begin(cl->p.sock, &cp, &st->call);
	if (ret < 0) {
		rxs_pb_stream_free(st);
		return ret;
	}
	rxs_pb_put_be32(op, RXSVC_PB_STREAM | method);
	ret = rxsvc_call_send(st->call, &iov, 1, 4, RXSVC_SEND_MORE);
	if (ret < 0) {
		rxsvc_call_end(st->call);
		rxs_pb_stream_free(st);
		return ret;
	}
	*stp = st;
	return 0;
}

RXSVC_API int rxsvc_pb_stream_send(struct rxsvc_pb_stream *st,
				   const ProtobufCMessage *msg)
{
	struct iovec iov[2];
	uint8_t hdr[4];
	size_t len;
	int ret;

	if (!st || !msg || msg->descriptor != st->send_type || st->send_ended)
		return -EINVAL;
	len = protobuf_c_message_get_packed_size(msg);
	if (len > UINT32_MAX || len > INT32_MAX - 4)
		return -EMSGSIZE;
	if (len > st->cap) {
		uint8_t *nb = realloc(st->buf, len);

		if (!nb)
			return -ENOMEM;
		st->buf = nb;
		st->cap = len;
	}
	protobuf_c_message_pack(msg, st->buf);
	rxs_pb_put_be32(hdr, (uint32_t)len);
	iov[0] = (struct iovec){ hdr, 4 };
	iov[1] = (struct iovec){ st->buf, len };
	ret = rxsvc_call_send(st->call, iov, 2, 4 + len, RXSVC_SEND_MORE);
	return ret < 0 ? ret : 0;
}

RXSVC_API int rxsvc_pb_stream_send_end(struct rxsvc_pb_stream *st)
{
	int ret;

	if (!st || st->send_ended)
		return -EINVAL;
	ret = rxsvc_call_send(st->call, NULL, 0, 0, 0);
	if (ret < 0)
		return ret;
	st->send_ended = true;
	return 0;
}

/* Read exactly @n bytes: 1, 0 if the stream ended before the first byte
 * and @may_end, -EBADMSG if it ended part-way, or the call's error. */
static int read_exact(struct rxsvc_pb_stream *st, void *buf, size_t n,
		      bool may_end)
{
	size_t got = 0;

	while (got < n) {
		unsigned int fl = RXSVC_RECV_WAITALL;
		int32_t code;
		int ret = rxsvc_call_recv(st->call, (uint8_t *)buf + got,
					  n - got, &fl, &code);

		if (ret < 0)
			return ret;
		got += (size_t)ret;
		if (got < n && (fl & RXSVC_RECV_END)) {
			st->recv_ended = true;
			return got == 0 && may_end ? 0 : -EBADMSG;
		}
		if (got == n && (fl & RXSVC_RECV_END))
			st->recv_ended = true;
	}
	return 1;
}

RXSVC_API int rxsvc_pb_stream_recv(struct rxsvc_pb_stream *st,
				   ProtobufCMessage **msgp)
{
	uint8_t hdr[4];
	uint32_t len;
	int ret;

	if (!st || !msgp)
		return -EINVAL;
	if (st->recv_ended)
		return 0;
	ret = read_exact(st, hdr, 4, true);
	if (ret <= 0)
		return ret;
	len = rxs_pb_get_be32(hdr);
	if (len > st->max_frame)
		return -EBADMSG;
	if (len > st->cap) {
		/* Bounded by max_frame, checked above. */
		uint8_t *nb = realloc(st->buf, len);

		if (!nb)
			return -ENOMEM;
		st->buf = nb;
		st->cap = len;
	}
	if (len) {
		if (st->recv_ended)
			return -EBADMSG;
		ret = read_exact(st, st->buf, len, false);
		if (ret < 0)
			return ret;
	}
	*msgp = protobuf_c_message_unpack(st->recv_type, NULL, len, st->buf);
	return *msgp ? 1 : -EBADMSG;
}

RXSVC_API int rxsvc_pb_stream_close(struct rxsvc_pb_stream *st,
				    int32_t *abort_code)
{
	int32_t code = 0;
	int ret = 0;

	if (!st || !st->client)
		return -EINVAL;
	if (!st->recv_ended)
		rxsvc_call_abort(st->call, RX_USER_ABORT, -ECANCELED,
				 "pb stream closed early");
	else /* the end was read; completion follows on the I/O thread */
		rxsvc_call_wait(st->call, 10000);
	switch (rxsvc_call_completion(st->call)) {
	case RXSVC_COMPLETE_SUCCEEDED:
		break;
	case RXSVC_COMPLETE_NONE:
		ret = -EINPROGRESS;
		break;
	case RXSVC_COMPLETE_BUSY:
		ret = -EBUSY;
		break;
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		ret = -ECONNABORTED;
		break;
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		ret = -ECONNRESET;
		break;
	case RXSVC_COMPLETE_NET_ERROR:
	case RXSVC_COMPLETE_LOCAL_ERROR:
		ret = rxsvc_call_error(st->call);
		if (!ret)
			ret = -EIO;
		break;
	}
	if (ret)
		rxs_pb_call_failure(st->call, ret, &code);
	if (abort_code)
		*abort_code = code;
	rxsvc_call_end(st->call);
	rxs_pb_stream_free(st);
	return ret;
}
