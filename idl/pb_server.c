/* SPDX-License-Identifier: MIT */
/*
 * pb_server.c - serving protobuf-c services over Rx (rxsvc_pb_serve).
 *
 * One server object per endpoint (struct pbs) holds the services served
 * on it, a pool of worker threads and the accept callbacks; calls are
 * charged as preallocations whose user call ID is their context, as
 * rxsvcd does.  A call's life on the workers:
 *
 *   OPCODE  drain 4 bytes without blocking; refuse a bad opcode at once
 *           (RXGEN_DECODE / RXGEN_OPCODE, as rxgen's stubs do), or run a
 *           framed call's handler (it blocks this worker)
 *   BODY    drain the request without blocking, never more than the
 *           service's max_request (RXGEN_SS_UNMARSHAL beyond)
 *   METHOD  the method runs; its closure (any thread, any time) sends
 *           the reply and moves the call to
 *   WAIT    until the call completes (final ACK or abort); then end it.
 *
 * The engine's notify_rx queues the context; one worker at a time runs a
 * given context (`running`/`again`, under qlock), and the closure moves
 * the phase and queues under the same lock, so that the worker which
 * ends and frees the context can never race with it.
 *
 * Lifetime of struct pbs: a reference per charged or live context plus
 * one for being served; rxsvc_pb_unserve drops the last, and contexts
 * still charged are discarded when the endpoint closes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "idl/pb_internal.h"

#define MAX_SERVICES 16

struct pbs_service {
	uint16_t id;
	const ProtobufCService *impl;
	size_t max_request;
	rxsvc_pb_stream_fn stream;
	void *stream_arg;
};

enum pbc_phase { PH_OPCODE, PH_BODY, PH_METHOD, PH_WAIT };

struct pbs;

struct pbc {
	struct pbc *next;	 /* [qlock] work queue */
	bool queued;		 /* [qlock] */
	bool running;		 /* [qlock] a worker has it */
	bool again;		 /* [qlock] queued while running */
	enum pbc_phase phase;	 /* [qlock] to change; see process() */
	struct pbc *lnext;	 /* [live_lock] live list */
	struct pbc *lprev;	 /* [live_lock] */
	struct pbs *srv;	 /* [const] */
	struct rxsvc_call *call; /* set by the new-call notification */
	struct pbs_service svc;	 /* copy, taken at new call */
	bool have_svc;
	uint8_t op[4];
	size_t oplen;
	uint32_t opcode;
	uint8_t *buf;
	size_t len;
	size_t cap;
	atomic_bool replied; /* closure or abort already ran */
};

struct pbs {
	struct pbs *next;	 /* [reg_lock] registry */
	struct rxsvc_sock *sock; /* [const] */
	atomic_int ref;
	pthread_mutex_t svc_lock; /* services */
	struct pbs_service svc[MAX_SERVICES];
	unsigned int nsvc;
	unsigned int backlog;  /* [const] */
	unsigned int nthreads; /* [const] */
	pthread_t *th;
	atomic_bool stopping;
	atomic_int active; /* contexts taken, not yet ended */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct pbc *qhead; /* [qlock] */
	struct pbc *qtail; /* [qlock] */
	bool quit;	   /* [qlock] */
	pthread_mutex_t live_lock;
	struct pbc *live; /* [live_lock] */
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pbs *reg;

static void pbs_put(struct pbs *s)
{
	if (atomic_fetch_sub(&s->ref, 1) != 1)
		return;
	pthread_mutex_destroy(&s->svc_lock);
	pthread_mutex_destroy(&s->qlock);
	pthread_cond_destroy(&s->qcond);
	pthread_mutex_destroy(&s->live_lock);
	free(s->th);
	free(s);
}

/* Queue @c for a worker.  - Holds qlock. */
static void enqueue_locked(struct pbc *c)
{
	struct pbs *s = c->srv;

	if (c->running) {
		c->again = true;
	} else if (!c->queued) {
		c->queued = true;
		c->next = NULL;
		if (s->qtail)
			s->qtail->next = c;
		else
			s->qhead = c;
		s->qtail = c;
		pthread_cond_signal(&s->qcond);
	}
}

static void enqueue(struct pbc *c)
{
	pthread_mutex_lock(&c->srv->qlock);
	enqueue_locked(c);
	pthread_mutex_unlock(&c->srv->qlock);
}

static enum pbc_phase get_phase(struct pbc *c)
{
	enum pbc_phase ph;

	pthread_mutex_lock(&c->srv->qlock);
	ph = c->phase;
	pthread_mutex_unlock(&c->srv->qlock);
	return ph;
}

/* Move @c to WAIT and queue it: the last thing a closure does with @c. */
static void to_wait(struct pbc *c)
{
	pthread_mutex_lock(&c->srv->qlock);
	c->phase = PH_WAIT;
	enqueue_locked(c);
	pthread_mutex_unlock(&c->srv->qlock);
}

/* Engine callbacks: on the I/O thread, must not block. */
static void on_rx(struct rxsvc_sock *sock, struct rxsvc_call *call,
		  unsigned long id)
{
	enqueue((struct pbc *)id);
}

static bool find_service(struct pbs *s, uint16_t id, struct pbs_service *out)
{
	bool found = false;

	pthread_mutex_lock(&s->svc_lock);
	for (unsigned int i = 0; i < s->nsvc; i++) {
		if (s->svc[i].id == id) {
			*out = s->svc[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&s->svc_lock);
	return found;
}

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	struct pbc *c = (struct pbc *)id;
	struct pbs *s = c->srv;

	if (atomic_load(&s->stopping)) {
		/* Workers may be gone: refuse, keep nothing. */
		rxsvc_call_reject(call);
		free(c);
		pbs_put(s);
		return;
	}
	c->call = call;
	c->have_svc = find_service(s, rxsvc_call_service_id(call), &c->svc);
	atomic_fetch_add(&s->active, 1);
	pthread_mutex_lock(&s->live_lock);
	c->lnext = s->live;
	if (s->live)
		s->live->lprev = c;
	s->live = c;
	pthread_mutex_unlock(&s->live_lock);
	enqueue(c);
}

static void on_discard(struct rxsvc_sock *sock, unsigned long id, void *arg)
{
	struct pbc *c = (struct pbc *)id;
	struct pbs *s = c->srv;

	free(c);
	pbs_put(s);
}

/*
 * Charge one preallocated call whose user call ID is its context.  The
 * engine keeps an ended call's ID busy for a while, so a context
 * allocated where a finished one was can clash (-EEXIST): keep the
 * clashing block while trying another, so that it does not come back.
 */
static int charge_one(struct pbs *s)
{
	struct pbc *tried[4];
	int n = 0, ret;

	do {
		struct pbc *c = calloc(1, sizeof(*c));

		if (!c) {
			ret = -ENOMEM;
			break;
		}
		c->srv = s;
		atomic_fetch_add(&s->ref, 1);
		ret = rxsvc_sock_charge(s->sock, on_rx, (unsigned long)c);
		if (ret == 0)
			break;
		tried[n++] = c;
	} while (ret == -EEXIST && n < 4);
	while (n > 0) {
		free(tried[--n]);
		pbs_put(s);
	}
	return ret;
}

static void recharge(struct pbs *s)
{
	while (!atomic_load(&s->stopping) &&
	       rxsvc_sock_charged(s->sock) < s->backlog)
		if (charge_one(s) < 0)
			break;
}

static void finish(struct pbc *c)
{
	struct pbs *s = c->srv;

	pthread_mutex_lock(&s->live_lock);
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		s->live = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	pthread_mutex_unlock(&s->live_lock);
	rxsvc_call_end(c->call);
	free(c->buf);
	free(c);
	atomic_fetch_sub(&s->active, 1);
	pbs_put(s);
}

/* Nothing more to do but wait for the call to complete. */
static void set_wait(struct pbc *c)
{
	pthread_mutex_lock(&c->srv->qlock);
	c->phase = PH_WAIT;
	pthread_mutex_unlock(&c->srv->qlock);
}

static void fail(struct pbc *c, int32_t code, int err, const char *why)
{
	rxsvc_call_abort(c->call, code, err, why);
	set_wait(c);
}

/* Send a whole reply body and end the reply.  0 or -errno. */
static int send_reply(struct pbc *c, const void *buf, size_t len)
{
	struct iovec iov = { (void *)buf, len };
	int n = rxsvc_call_send(c->call, &iov, 1, len, 0);

	return n < 0 ? n : 0;
}

static void server_closure(const ProtobufCMessage *msg, void *data)
{
	struct pbc *c = data;
	const ProtobufCMethodDescriptor *m;
	uint8_t *buf;
	size_t len;

	if (atomic_exchange(&c->replied, true))
		return; /* a second closure, or after rxsvc_pb_abort */
	m = &c->svc.impl->descriptor->methods[c->opcode];
	if (!msg) {
		rxsvc_call_abort(c->call, RX_USER_ABORT, -ECANCELED,
				 "pb method failed");
	} else if (msg->descriptor != m->output) {
		rxsvc_call_abort(c->call, RXGEN_SS_MARSHAL, -EINVAL,
				 "pb reply type");
	} else {
		len = protobuf_c_message_get_packed_size(msg);
		buf = malloc(len ? len : 1);
		if (!buf) {
			rxsvc_call_abort(c->call, RXGEN_SS_MARSHAL, -ENOMEM,
					 "pb reply alloc");
		} else {
			protobuf_c_message_pack(msg, buf);
			send_reply(c, buf, len);
			free(buf);
		}
	}
	to_wait(c);
}

RXSVC_API void rxsvc_pb_abort(void *closure_data, int32_t abort_code)
{
	struct pbc *c = closure_data;

	if (atomic_exchange(&c->replied, true))
		return;
	rxsvc_call_abort(c->call, abort_code, -ECONNABORTED, "pb method");
	to_wait(c);
}

RXSVC_API struct rxsvc_call *rxsvc_pb_call(void *closure_data)
{
	return ((struct pbc *)closure_data)->call;
}

static void run_describe(struct pbc *c)
{
	uint8_t *buf;
	size_t len;

	if (rxs_pb_describe_encode(c->svc.impl->descriptor, &buf, &len) < 0) {
		fail(c, RXGEN_SS_MARSHAL, -ENOMEM, "pb describe");
		return;
	}
	send_reply(c, buf, len);
	free(buf);
	set_wait(c);
}

static void run_stream(struct pbc *c, unsigned int method)
{
	const ProtobufCServiceDescriptor *d = c->svc.impl->descriptor;
	struct rxsvc_pb_stream *st;
	int32_t code;

	st = rxs_pb_stream_server(c->call, &d->methods[method],
				  c->svc.max_request);
	if (!st) {
		fail(c, RX_USER_ABORT, -ENOMEM, "pb stream alloc");
		return;
	}
	code = c->svc.stream(st, method, c->svc.stream_arg);
	if (code)
		rxsvc_call_abort(c->call, code, -ECONNABORTED, "pb stream");
	else if (!rxs_pb_stream_ended(st))
		rxsvc_pb_stream_send_end(st);
	rxs_pb_stream_free(st);
	set_wait(c);
}

static void dispatch(struct pbc *c)
{
	const ProtobufCServiceDescriptor *d = c->svc.impl->descriptor;
	ProtobufCMessage *in;

	if (c->opcode == RXSVC_PB_DESCRIBE) {
		run_describe(c);
		return;
	}
	in = protobuf_c_message_unpack(d->methods[c->opcode].input, NULL,
				       c->len, c->buf);
	free(c->buf);
	c->buf = NULL;
	c->cap = 0;
	if (!in) {
		fail(c, RXGEN_SS_UNMARSHAL, -EBADMSG, "pb request unpack");
		return;
	}
	pthread_mutex_lock(&c->srv->qlock);
	c->phase = PH_METHOD;
	pthread_mutex_unlock(&c->srv->qlock);
	/* The closure may run inside (usual) or later; after it, @c may be
	 * touched only by the worker that owns it, which is this one until
	 * we return (running is set). */
	c->svc.impl->invoke((ProtobufCService *)c->svc.impl, c->opcode, in,
			    server_closure, c);
	protobuf_c_message_free_unpacked(in, NULL);
}

/* Read the opcode; false while more must come. */
static bool read_opcode(struct pbc *c)
{
	const ProtobufCServiceDescriptor *d;
	unsigned int fl = RXSVC_RECV_NONBLOCK;
	int32_t code;
	int n;

	n = rxsvc_call_recv(c->call, c->op + c->oplen, 4 - c->oplen, &fl,
			    &code);
	if (n == -EAGAIN)
		return false;
	if (n < 0) {
		set_wait(c);
		return false;
	}
	c->oplen += (size_t)n;
	if (c->oplen < 4) {
		if (fl & RXSVC_RECV_END)
			fail(c, RXGEN_DECODE, -EBADMSG, "pb short opcode");
		return false;
	}
	c->opcode = rxs_pb_get_be32(c->op);
	d = c->svc.impl->descriptor;
	if (c->opcode == RXSVC_PB_DESCRIBE)
		return true;
	if ((c->opcode & RXSVC_PB_STREAM) && c->svc.stream &&
	    (c->opcode & ~RXSVC_PB_STREAM) < d->n_methods) {
		run_stream(c, c->opcode & ~RXSVC_PB_STREAM);
		return false;
	}
	if (c->opcode >= d->n_methods) {
		fail(c, RXGEN_OPCODE, -EBADMSG, "pb opcode");
		return false;
	}
	return true;
}

/* Drain the request body; true when it is all in. */
static bool read_body(struct pbc *c)
{
	for (;;) {
		unsigned int fl = RXSVC_RECV_NONBLOCK;
		int32_t code;
		int n;

		if (c->cap == c->len) {
			size_t max = c->svc.max_request;
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			uint8_t *nb;

			/* One byte beyond the limit tells "too long". */
			if (ncap > max + 1)
				ncap = max + 1;
			if (c->len > max) {
				fail(c, RXGEN_SS_UNMARSHAL, -EMSGSIZE,
				     "pb request too long");
				return false;
			}
			nb = realloc(c->buf, ncap);
			if (!nb) {
				fail(c, RX_USER_ABORT, -ENOMEM, "pb alloc");
				return false;
			}
			c->buf = nb;
			c->cap = ncap;
		}
		n = rxsvc_call_recv(c->call, c->buf + c->len, c->cap - c->len,
				    &fl, &code);
		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			set_wait(c);
			return false;
		}
		c->len += (size_t)n;
		if (fl & RXSVC_RECV_END) {
			if (c->len > c->svc.max_request) {
				fail(c, RXGEN_SS_UNMARSHAL, -EMSGSIZE,
				     "pb request too long");
				return false;
			}
			return true;
		}
	}
}

/* Advance @c as far as it goes; true when it is finished and freed. */
static bool process(struct pbc *c)
{
	enum pbc_phase ph = get_phase(c);

	if (!c->call)
		return false;
	if (ph == PH_OPCODE && !c->have_svc) {
		fail(c, RX_INVALID_OPERATION, -EINVAL, "pb no service");
		ph = PH_WAIT;
	}
	if (ph == PH_OPCODE) {
		if (read_opcode(c)) {
			pthread_mutex_lock(&c->srv->qlock);
			c->phase = PH_BODY;
			pthread_mutex_unlock(&c->srv->qlock);
		}
		ph = get_phase(c);
	}
	if (ph == PH_BODY) {
		/* Describe too: a reply may start only once the whole
		 * request is in. */
		if (read_body(c))
			dispatch(c);
		ph = get_phase(c);
	}
	if (ph == PH_WAIT &&
	    rxsvc_call_completion(c->call) != RXSVC_COMPLETE_NONE) {
		finish(c);
		return true;
	}
	return false;
}

static void *worker(void *arg)
{
	struct pbs *s = arg;

	for (;;) {
		struct pbc *c;
		bool fresh;

		pthread_mutex_lock(&s->qlock);
		while (!s->qhead && !s->quit)
			pthread_cond_wait(&s->qcond, &s->qlock);
		if (!s->qhead) {
			pthread_mutex_unlock(&s->qlock);
			return NULL;
		}
		c = s->qhead;
		s->qhead = c->next;
		if (!s->qhead)
			s->qtail = NULL;
		c->queued = false;
		c->running = true;
		fresh = c->phase == PH_OPCODE && c->oplen == 0;
		pthread_mutex_unlock(&s->qlock);
		if (fresh)
			recharge(s);
		for (;;) {
			if (process(c))
				break;
			pthread_mutex_lock(&s->qlock);
			if (!c->again) {
				c->running = false;
				pthread_mutex_unlock(&s->qlock);
				break;
			}
			c->again = false;
			pthread_mutex_unlock(&s->qlock);
		}
	}
}

static struct pbs *pbs_find(struct rxsvc_sock *sock, bool unlink)
{
	struct pbs **pp;

	for (pp = &reg; *pp; pp = &(*pp)->next) {
		if ((*pp)->sock == sock) {
			struct pbs *s = *pp;

			if (unlink)
				*pp = s->next;
			return s;
		}
	}
	return NULL;
}

static void pbs_stop_threads(struct pbs *s, unsigned int n)
{
	pthread_mutex_lock(&s->qlock);
	s->quit = true;
	pthread_cond_broadcast(&s->qcond);
	pthread_mutex_unlock(&s->qlock);
	for (unsigned int i = 0; i < n; i++)
		pthread_join(s->th[i], NULL);
}

static int pbs_create(struct rxsvc_sock *sock,
		      const struct rxsvc_pb_serve_opts *o, struct pbs **sp)
{
	struct pbs *s = calloc(1, sizeof(*s));
	int ret = -ENOMEM;
	unsigned int i;

	if (!s)
		return -ENOMEM;
	s->sock = sock;
	atomic_init(&s->ref, 1);
	s->backlog = o->backlog ? o->backlog : 32;
	s->nthreads = o->threads ? o->threads : 4;
	pthread_mutex_init(&s->svc_lock, NULL);
	pthread_mutex_init(&s->qlock, NULL);
	pthread_cond_init(&s->qcond, NULL);
	pthread_mutex_init(&s->live_lock, NULL);
	s->th = calloc(s->nthreads, sizeof(*s->th));
	if (!s->th)
		goto err_put;
	ret = rxsvc_sock_listen(sock, s->backlog);
	if (ret < 0 && ret != -EALREADY)
		goto err_put;
	for (i = 0; i < s->nthreads; i++) {
		if (pthread_create(&s->th[i], NULL, worker, s) != 0) {
			ret = -EAGAIN;
			goto err_threads;
		}
	}
	rxsvc_sock_set_accept(sock, on_new_call, on_discard, NULL);
	*sp = s;
	return 0;

err_threads:
	pbs_stop_threads(s, i);
err_put:
	pbs_put(s);
	return ret;
}

RXSVC_API int rxsvc_pb_serve(struct rxsvc_sock *sock, uint16_t service_id,
			     const ProtobufCService *impl,
			     const struct rxsvc_pb_serve_opts *opts)
{
	struct rxsvc_pb_serve_opts o = RXSVC_PB_SERVE_OPTS_INIT;
	struct pbs_service svc = { 0 };
	struct pbs *s;
	bool created = false;
	int ret;

	if (!sock || !impl || !impl->descriptor || !impl->invoke ||
	    impl->descriptor->magic != PROTOBUF_C__SERVICE_DESCRIPTOR_MAGIC)
		return -EINVAL;
	if (opts) {
		if (opts->size < sizeof(uint32_t))
			return -EINVAL;
		memcpy(&o, opts,
		       opts->size < sizeof(o) ? opts->size : sizeof(o));
	}
	svc.id = service_id;
	svc.impl = impl;
	svc.max_request =
		o.max_request ? o.max_request : RXS_PB_DEF_MAX_REQUEST;
	svc.stream = o.stream;
	svc.stream_arg = o.stream_arg;

	pthread_mutex_lock(&reg_lock);
	s = pbs_find(sock, false);
	if (!s) {
		ret = pbs_create(sock, &o, &s);
		if (ret < 0)
			goto out;
		created = true;
	}
	pthread_mutex_lock(&s->svc_lock);
	ret = s->nsvc == MAX_SERVICES ? -ENOSPC : 0;
	for (unsigned int i = 0; i < s->nsvc && !ret; i++)
		if (s->svc[i].id == service_id)
			ret = -EEXIST;
	if (!ret)
		ret = rxsvc_sock_add_service(sock, service_id);
	if (!ret)
		s->svc[s->nsvc++] = svc;
	pthread_mutex_unlock(&s->svc_lock);
	if (ret < 0 && created) {
		pbs_stop_threads(s, s->nthreads);
		pbs_put(s);
		goto out;
	}
	if (created) {
		s->next = reg;
		reg = s;
	}
	if (!ret)
		recharge(s);
out:
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

static void wait_idle(struct pbs *s, int timeout_ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&s->active) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (timeout_ms >= 0 &&
		    (t.tv_sec - t0.tv_sec) * 1000 +
				    (t.tv_nsec - t0.tv_nsec) / 1000000 >=
			    timeout_ms)
			return;
		usleep(5000);
	}
}

RXSVC_API void rxsvc_pb_unserve(struct rxsvc_sock *sock, int timeout_ms)
{
	struct pbs *s;

	pthread_mutex_lock(&reg_lock);
	s = pbs_find(sock, true);
	pthread_mutex_unlock(&reg_lock);
	if (!s)
		return;
	atomic_store(&s->stopping, true);
	wait_idle(s, timeout_ms);
	if (atomic_load(&s->active) > 0) {
		pthread_mutex_lock(&s->live_lock);
		for (struct pbc *c = s->live; c; c = c->lnext)
			rxsvc_call_abort(c->call, RX_RESTARTING, -ESHUTDOWN,
					 "pb unserve");
		pthread_mutex_unlock(&s->live_lock);
		/* Aborted calls complete at once; a method that never calls
		 * its closure keeps its context (and @s) alive. */
		wait_idle(s, 1000);
	}
	pbs_stop_threads(s, s->nthreads);
	pbs_put(s);
}
