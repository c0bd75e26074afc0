/* SPDX-License-Identifier: MIT */
/*
 * pb_client.c - the client side: a ProtobufCService whose invoke makes
 * one Rx call (request = be32 method index + packed input; reply = packed
 * output), blocking, or asynchronous on the caller's event loop.
 *
 * Asynchronous calls run entirely on that loop: invoke packs, begins the
 * call and queues what the transmit window takes without blocking; the
 * engine's notify_rx only activates the call's event, whose callback
 * drains the reply without blocking and, at the end, unpacks it, runs the
 * closure and ends the call.  The engine does not notify when its
 * transmit window opens, so a request larger than the window is pushed
 * on by a 1 ms timer on the same event.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "idl/pb_internal.h"

static __thread int32_t last_abort;
/* User call IDs of blocking calls: a counter in a range callers do not
 * use (top bit set).  Not stack addresses: the engine keeps an ended
 * call's ID busy for a while, so an address reused at once would clash
 * (-EEXIST). */
static atomic_ulong next_call_id;
static __thread int last_error;

unsigned long rxs_pb_call_id(void)
{
	return (~0UL ^ (~0UL >> 1)) | atomic_fetch_add(&next_call_id, 1);
}

void rxs_pb_set_last(int error, int32_t abort_code)
{
	last_error = error;
	last_abort = abort_code;
}

RXSVC_API int32_t rxsvc_pb_last_abort(void)
{
	return last_abort;
}

RXSVC_API int rxsvc_pb_last_error(void)
{
	return last_error;
}

int rxs_pb_call_failure(struct rxsvc_call *call, int ret, int32_t *abort_code)
{
	int32_t code = rxsvc_call_abort_code(call);

	*abort_code = code ? code : RX_CALL_DEAD;
	return ret;
}

/* Read the whole reply into r->buf; 0 or -errno (r->abort_code set). */
static int recv_reply_buf(struct rxsvc_call *call, size_t max,
			  struct rxs_pb_reply *r)
{
	size_t cap = 0;

	r->buf = NULL;
	r->len = 0;
	for (;;) {
		unsigned int fl = 0;
		int32_t code = 0;
		int n;

		if (r->len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			uint8_t *nb;

			if (r->len > max) {
				rxsvc_call_abort(call, RXGEN_CC_UNMARSHAL,
						 -EMSGSIZE,
						 "pb reply too long");
				r->abort_code = RXGEN_CC_UNMARSHAL;
				return -EBADMSG;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nb = realloc(r->buf, ncap);
			if (!nb) {
				rxsvc_call_abort(call, RX_USER_ABORT, -ENOMEM,
						 "pb reply alloc");
				r->abort_code = RX_USER_ABORT;
				return -ENOMEM;
			}
			r->buf = nb;
			cap = ncap;
		}
		n = rxsvc_call_recv(call, r->buf + r->len, cap - r->len, &fl,
				    &code);
		if (n < 0)
			return rxs_pb_call_failure(call, n, &r->abort_code);
		r->len += (size_t)n;
		if (fl & RXSVC_RECV_END)
			break;
	}
	if (r->len > max) {
		r->abort_code = RXGEN_CC_UNMARSHAL;
		return -EBADMSG;
	}
	return 0;
}

/* As recv_reply_buf, with no buffer left behind on failure. */
static int recv_reply(struct rxsvc_call *call, size_t max,
		      struct rxs_pb_reply *r)
{
	int ret = recv_reply_buf(call, max, r);

	if (ret < 0) {
		free(r->buf);
		r->buf = NULL;
		r->len = 0;
	}
	return ret;
}

int rxs_pb_call_raw(const struct rxsvc_pb_client_params *p, const uint8_t *req,
		    size_t reqlen, struct rxs_pb_reply *r)
{
	unsigned int tries = 0;

	for (;;) {
		struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
		struct iovec iov = { (void *)req, reqlen };
		struct rxsvc_call *call;
		int ret;

		cp.peer = p->peer;
		cp.key = p->key;
		cp.user_call_id = rxs_pb_call_id();
		cp.tx_total_len = (int64_t)reqlen;
		cp.hard_time_ms = p->hard_time_ms;
		r->abort_code = 0;
		ret = rxsvc_call_begin(p->sock, &cp, &call);
		if (ret < 0)
			return ret;
		/* A failed send shows again, with its cause, at recv. */
		rxsvc_call_send(call, &iov, 1, reqlen, 0);
		ret = recv_reply(call, p->max_reply, r);
		rxsvc_call_end(call);
		if (ret != -EBUSY || tries++ >= p->busy_retries)
			return ret;
		free(r->buf);
		r->buf = NULL;
		usleep(10000u << (tries < 6 ? tries : 6));
	}
}

/* Pack @in behind its opcode into a malloc'd buffer. */
static int pack_request(const struct rxs_pb_client *cl, unsigned int method,
			const ProtobufCMessage *in, uint8_t **bufp,
			size_t *lenp)
{
	const ProtobufCServiceDescriptor *d = cl->p.descriptor;
	size_t len;
	uint8_t *buf;

	if (method >= d->n_methods || !in ||
	    in->descriptor != d->methods[method].input)
		return -EINVAL;
	len = protobuf_c_message_get_packed_size(in);
	buf = malloc(4 + len);
	if (!buf)
		return -ENOMEM;
	rxs_pb_put_be32(buf, method);
	protobuf_c_message_pack(in, buf + 4);
	*bufp = buf;
	*lenp = 4 + len;
	return 0;
}

static void client_invoke(ProtobufCService *svc, unsigned method_index,
			  const ProtobufCMessage *input,
			  ProtobufCClosure closure, void *closure_data);

static struct rxs_pb_client *to_client(ProtobufCService *svc)
{
	if (!svc || svc->invoke != client_invoke)
		return NULL;
	return (struct rxs_pb_client *)svc;
}

RXSVC_API int rxsvc_pb_invoke(ProtobufCService *svc, unsigned int method,
			      const ProtobufCMessage *in,
			      ProtobufCMessage **out, int32_t *abort_code)
{
	struct rxs_pb_client *cl = to_client(svc);
	struct rxs_pb_reply r = { 0 };
	uint8_t *req;
	size_t reqlen;
	int32_t code;
	int ret;

	if (!abort_code)
		abort_code = &code;
	*abort_code = 0;
	if (!cl || !out)
		return -EINVAL;
	ret = pack_request(cl, method, in, &req, &reqlen);
	if (ret < 0)
		return ret;
	ret = rxs_pb_call_raw(&cl->p, req, reqlen, &r);
	free(req);
	*abort_code = r.abort_code;
	if (ret < 0) {
		free(r.buf);
		return ret;
	}
	*out = protobuf_c_message_unpack(
		cl->p.descriptor->methods[method].output, NULL, r.len, r.buf);
	free(r.buf);
	if (!*out) {
		*abort_code = RXGEN_CC_UNMARSHAL;
		return -EBADMSG;
	}
	return 0;
}

/* ---- asynchronous calls ---- */

struct async_call {
	struct rxs_pb_client *cl;
	unsigned int method;
	ProtobufCClosure closure;
	void *closure_data;
	struct rxsvc_call *call;
	struct event *ev;
	int fail; /* begin failed: report it */
	uint8_t *req;
	size_t reqlen;
	size_t sent;
	struct rxs_pb_reply r;
	size_t cap;
	unsigned int tries;	  /* BUSY retries so far */
	unsigned long id;	  /* user call ID of the current call */
	struct async_call *hnext; /* [map_lock] */
	bool resend;		  /* send again when the pause timer fires */
};

/*
 * Async calls by user call ID.  The ID is not the context's address: the
 * engine keeps an ended call's ID busy for a while, and a context
 * allocated where a finished one was would clash (-EEXIST).
 */
#define MAP_SIZE 256
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;
static struct async_call *map[MAP_SIZE];

static void map_add(struct async_call *ac)
{
	pthread_mutex_lock(&map_lock);
	ac->hnext = map[ac->id % MAP_SIZE];
	map[ac->id % MAP_SIZE] = ac;
	pthread_mutex_unlock(&map_lock);
}

static void map_del(struct async_call *ac)
{
	struct async_call **pp;

	pthread_mutex_lock(&map_lock);
	for (pp = &map[ac->id % MAP_SIZE]; *pp; pp = &(*pp)->hnext) {
		if (*pp == ac) {
			*pp = ac->hnext;
			break;
		}
	}
	pthread_mutex_unlock(&map_lock);
}

/* Engine callback (the loop's thread in embedded mode): no blocking. */
static void async_notify(struct rxsvc_sock *sock, struct rxsvc_call *call,
			 unsigned long id)
{
	struct async_call *ac;

	pthread_mutex_lock(&map_lock);
	for (ac = map[id % MAP_SIZE]; ac; ac = ac->hnext)
		if (ac->id == id)
			break;
	/* Under the lock: map_del precedes event_free. */
	if (ac)
		event_active(ac->ev, EV_TIMEOUT, 0);
	pthread_mutex_unlock(&map_lock);
}

static void async_finish(struct async_call *ac, int ret)
{
	const ProtobufCMethodDescriptor *m =
		&ac->cl->p.descriptor->methods[ac->method];
	ProtobufCMessage *out = NULL;

	if (ret == 0) {
		out = protobuf_c_message_unpack(m->output, NULL, ac->r.len,
						ac->r.buf);
		if (!out) {
			ret = -EBADMSG;
			ac->r.abort_code = RXGEN_CC_UNMARSHAL;
		}
	}
	if (ac->call)
		rxsvc_call_end(ac->call); /* no notify after this */
	map_del(ac);
	rxs_pb_set_last(ret, ret ? ac->r.abort_code : 0);
	ac->closure(out, ac->closure_data);
	if (out)
		protobuf_c_message_free_unpacked(out, NULL);
	event_free(ac->ev);
	free(ac->req);
	free(ac->r.buf);
	free(ac);
}

/* Queue more of the request without blocking. */
static void async_send(struct async_call *ac)
{
	while (ac->sent < ac->reqlen) {
		struct iovec iov = { ac->req + ac->sent,
				     ac->reqlen - ac->sent };
		int n = rxsvc_call_send(ac->call, &iov, 1, iov.iov_len,
					RXSVC_SEND_NONBLOCK);

		if (n == -EAGAIN) {
			struct timeval tv = { 0, 1000 };

			event_add(ac->ev, &tv);
			return;
		}
		if (n < 0) {
			ac->sent = ac->reqlen; /* the failure shows at recv */
			return;
		}
		ac->sent += (size_t)n;
	}
}

/* Drain the reply without blocking; 1 when it is all in, 0 for more. */
static int async_recv(struct async_call *ac, int *ret)
{
	size_t max = ac->cl->p.max_reply;

	for (;;) {
		unsigned int fl = RXSVC_RECV_NONBLOCK;
		int32_t code = 0;
		int n;

		if (ac->r.len == ac->cap) {
			size_t ncap = ac->cap ? ac->cap * 2 : 4096;
			uint8_t *nb;

			if (ac->r.len > max) {
				rxsvc_call_abort(ac->call, RXGEN_CC_UNMARSHAL,
						 -EMSGSIZE,
						 "pb reply too long");
				ac->r.abort_code = RXGEN_CC_UNMARSHAL;
				*ret = -EBADMSG;
				return 1;
			}
			if (ncap > max + 1)
				ncap = max + 1;
			nb = realloc(ac->r.buf, ncap);
			if (!nb) {
				rxsvc_call_abort(ac->call, RX_USER_ABORT,
						 -ENOMEM, "pb reply alloc");
				ac->r.abort_code = RX_USER_ABORT;
				*ret = -ENOMEM;
				return 1;
			}
			ac->r.buf = nb;
			ac->cap = ncap;
		}
		n = rxsvc_call_recv(ac->call, ac->r.buf + ac->r.len,
				    ac->cap - ac->r.len, &fl, &code);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			*ret = rxs_pb_call_failure(ac->call, n,
						   &ac->r.abort_code);
			return 1;
		}
		ac->r.len += (size_t)n;
		if (fl & RXSVC_RECV_END) {
			*ret = 0;
			if (ac->r.len > max) {
				ac->r.abort_code = RXGEN_CC_UNMARSHAL;
				*ret = -EBADMSG;
			}
			return 1;
		}
	}
}

static int async_begin(struct async_call *ac);

/* The server was busy: begin again after a pause, as the blocking path
 * does.  Returns 0, or the error to finish with. */
static int async_retry(struct async_call *ac)
{
	struct timeval tv = { 0, 10000 << (ac->tries < 6 ? ac->tries : 6) };
	int ret;

	ac->tries++;
	rxsvc_call_end(ac->call);
	ac->call = NULL;
	ac->sent = 0;
	ac->r.len = 0;
	ac->r.abort_code = 0;
	ret = async_begin(ac);
	if (ret < 0)
		return ret;
	/* The send starts when the pause is over. */
	ac->sent = ac->reqlen;
	ac->resend = true;
	event_add(ac->ev, &tv);
	return 0;
}

static void async_event(evutil_socket_t fd, short what, void *arg)
{
	struct async_call *ac = arg;
	int ret = 0;

	if (ac->fail) {
		async_finish(ac, ac->fail);
		return;
	}
	if (ac->resend && (what & EV_TIMEOUT)) {
		ac->resend = false;
		ac->sent = 0;
	}
	async_send(ac);
	if (!async_recv(ac, &ret))
		return;
	if (ret == -EBUSY && ac->tries < ac->cl->p.busy_retries) {
		ret = async_retry(ac);
		if (ret == 0)
			return;
		ac->r.abort_code = RX_USER_ABORT;
	}
	async_finish(ac, ret);
}

static int async_begin(struct async_call *ac)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;

	map_del(ac);
	ac->id = rxs_pb_call_id();
	map_add(ac);
	cp.peer = ac->cl->p.peer;
	cp.key = ac->cl->p.key;
	cp.user_call_id = ac->id;
	cp.tx_total_len = (int64_t)ac->reqlen;
	cp.notify_rx = async_notify;
	cp.hard_time_ms = ac->cl->p.hard_time_ms;
	return rxsvc_call_begin(ac->cl->p.sock, &cp, &ac->call);
}

static void invoke_async(struct rxs_pb_client *cl, unsigned int method,
			 const ProtobufCMessage *input,
			 ProtobufCClosure closure, void *closure_data)
{
	struct async_call *ac = calloc(1, sizeof(*ac));
	int ret;

	if (ac)
		ac->ev = event_new(cl->p.base, -1, 0, async_event, ac);
	if (!ac || !ac->ev) {
		/* Nothing to schedule the failure with: report it now. */
		free(ac);
		rxs_pb_set_last(-ENOMEM, RX_USER_ABORT);
		closure(NULL, closure_data);
		return;
	}
	ac->cl = cl;
	ac->method = method;
	ac->closure = closure;
	ac->closure_data = closure_data;
	ret = pack_request(cl, method, input, &ac->req, &ac->reqlen);
	if (ret == 0)
		ret = async_begin(ac);
	if (ret < 0) {
		ac->fail = ret;
		ac->r.abort_code = RX_USER_ABORT;
	} else {
		async_send(ac);
	}
	/* The reply may have raced ahead of ac->call being set: look once. */
	event_active(ac->ev, EV_TIMEOUT, 0);
}

static void client_invoke(ProtobufCService *svc, unsigned method_index,
			  const ProtobufCMessage *input,
			  ProtobufCClosure closure, void *closure_data)
{
	struct rxs_pb_client *cl = (struct rxs_pb_client *)svc;
	ProtobufCMessage *out = NULL;
	int32_t code = 0;
	int ret;

	if (cl->p.base) {
		invoke_async(cl, method_index, input, closure, closure_data);
		return;
	}
	ret = rxsvc_pb_invoke(svc, method_index, input, &out, &code);
	rxs_pb_set_last(ret, ret ? code : 0);
	closure(out, closure_data);
	if (out)
		protobuf_c_message_free_unpacked(out, NULL);
}

static void client_destroy(ProtobufCService *svc)
{
	free(svc);
}

int rxs_pb_client_params(const struct rxsvc_pb_client_params *in,
			 struct rxsvc_pb_client_params *out)
{
	struct rxsvc_pb_client_params def = RXSVC_PB_CLIENT_PARAMS_INIT;

	if (!in || in->size < sizeof(uint32_t))
		return -EINVAL;
	*out = def;
	memcpy(out, in, in->size < sizeof(*out) ? in->size : sizeof(*out));
	out->size = sizeof(*out);
	if (!out->sock || !out->descriptor ||
	    out->descriptor->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC)
		return -EINVAL;
	if (!out->max_reply)
		out->max_reply = RXS_PB_DEF_MAX_REPLY;
	if (!out->busy_retries)
		out->busy_retries = 3;
	return 0;
}

RXSVC_API int rxsvc_pb_client_new(const struct rxsvc_pb_client_params *p,
				  ProtobufCService **svcp)
{
	struct rxs_pb_client *cl;
	int ret;

	if (!svcp)
		return -EINVAL;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	ret = rxs_pb_client_params(p, &cl->p);
	if (ret < 0)
		goto err_free;
	if (cl->p.flags & RXSVC_PB_CHECK_DESCRIPTOR) {
		struct rxsvc_pb_description *d;

		ret = rxsvc_pb_describe(cl->p.sock, &cl->p.peer, cl->p.key, &d,
					NULL);
		if (ret < 0)
			goto err_free;
		ret = rxsvc_pb_description_check(d, cl->p.descriptor);
		rxsvc_pb_description_free(d);
		if (ret < 0)
			goto err_free;
	}
	cl->base.descriptor = cl->p.descriptor;
	cl->base.invoke = client_invoke;
	cl->base.destroy = client_destroy;
	*svcp = &cl->base;
	return 0;

err_free:
	free(cl);
	return ret;
}

const struct rxs_pb_client *rxs_pb_client_of(ProtobufCService *svc)
{
	return to_client(svc);
}
