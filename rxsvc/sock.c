/* SPDX-License-Identifier: MIT */
/*
 * sock.c - the public entry points for endpoints and calls: open and
 * close, begin, abort, reject, end and the queries.  Work that touches
 * protocol state is handed to the I/O thread as a poke (io_thread.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "rxsvc/internal.h"
#include "security/rxkad.h"

void rxs_io_fault_flush(struct rxsvc_sock *sock);

RXSVC_API int rxsvc_srx_parse(struct rxsvc_srx *srx, const char *text)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *port_s;
	unsigned long port;
	char *end;
	size_t hl;

	if (!text || !*text)
		return -EINVAL;
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (!rb || rb[1] != ':')
			return -EINVAL;
		hl = (size_t)(rb - text - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, text + 1, hl);
		host[hl] = 0;
		port_s = rb + 2;
	} else if ((colon = strrchr(text, ':')) != NULL) {
		hl = (size_t)(colon - text);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, text, hl);
		host[hl] = 0;
		port_s = colon + 1;
	} else {
		strcpy(host, "*");
		port_s = text;
	}
	port = strtoul(port_s, &end, 10);
	if (*port_s == 0 || *end || port > 65535)
		return -EINVAL;
	memset(&srx->addr, 0, sizeof(srx->addr));
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (!strcmp(host, "*") || !strcmp(host, "")) {
		srx->addr.sin6.sin6_family = AF_INET6;
		srx->addr.sin6.sin6_addr = in6addr_any;
		srx->addr.sin6.sin6_port = htons((uint16_t)port);
		srx->addrlen = sizeof(struct sockaddr_in6);
	} else if (inet_pton(AF_INET, host, &srx->addr.sin.sin_addr) == 1) {
		srx->addr.sin.sin_family = AF_INET;
		srx->addr.sin.sin_port = htons((uint16_t)port);
		srx->addrlen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &srx->addr.sin6.sin6_addr) == 1) {
		srx->addr.sin6.sin6_family = AF_INET6;
		srx->addr.sin6.sin6_port = htons((uint16_t)port);
		srx->addrlen = sizeof(struct sockaddr_in6);
	} else {
		return -EINVAL;
	}
	return 0;
}

RXSVC_API char *rxsvc_srx_format(const struct rxsvc_srx *srx, char *buf,
				 size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (srx->addr.sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &srx->addr.sin6.sin6_addr, host,
			  sizeof(host));
		snprintf(buf, len, "[%s]:%u", host,
			 ntohs(srx->addr.sin6.sin6_port));
	} else {
		inet_ntop(AF_INET, &srx->addr.sin.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host,
			 ntohs(srx->addr.sin.sin_port));
	}
	return buf;
}

static unsigned int param_or(unsigned int v, unsigned int def)
{
	return v ? v : def;
}

static int sock_init(struct rxsvc_sock *sock, const struct rxsvc_sock_params *p)
{
	struct rxsvc_sock_params d = RXSVC_SOCK_PARAMS_INIT;
	size_t n = p->size < sizeof(d) ? p->size : sizeof(d);
	int ret;

	/* Read only the fields the caller's struct has (conventions §3). */
	memcpy(&d, p, n);
	d.size = sizeof(d);
	sock->rx_window = param_or(d.rx_window, 255);
	if (sock->rx_window > RXS_MAX_ACKS)
		sock->rx_window = RXS_MAX_ACKS;
	sock->dead_time_us = param_or(d.dead_time_ms, 12000) * 1000ull;
	sock->idle_time_us = param_or(d.idle_time_ms, 60000) * 1000ull;
	sock->hard_time_us = d.hard_time_ms * 1000ull;
	sock->max_calls = param_or(d.max_calls, 1024);
	sock->busy_per_sec = param_or(d.busy_per_sec, 1000);
	sock->max_calls_per_peer = param_or(d.max_calls_per_peer,
					    sock->max_calls / 2 ?
						    sock->max_calls / 2 :
						    1);
	sock->sock_flags = d.flags;
	/* Random epoch with bit 31 set and bit 30 clear (§1.3). */
	sock->epoch = (rxs_random32() & ~0x40000000u) | RXS_EPOCH_RANDOM;
	sock->next_cid = rxs_random32() & RXS_CIDMASK;
	atomic_init(&sock->next_debug_id, 1);
	pthread_mutex_init(&sock->attend_lock, NULL);
	pthread_mutex_init(&sock->io_lock, NULL);
	pthread_mutex_init(&sock->charge_lock, NULL);
	pthread_mutex_init(&sock->id_lock, NULL);
	rxs_rxpool_init(&sock->rxpool, param_or(d.pool_packets, 8192));
	ret = rxs_txpool_init(&sock->txpool, param_or(d.pool_packets, 8192) * 4);
	if (ret < 0)
		return ret;
	ret = rxs_heap_init(&sock->timers);
	if (ret < 0)
		return ret;
	ret = rxs_outq_init(sock);
	if (ret < 0)
		return ret;
	rxs_fault_init(&sock->fault, getenv("RXSVC_FAULT"));
	sock->base = d.base;
	return 0;
}

static void sock_free(struct rxsvc_sock *sock)
{
	rxs_sec_sock_free(sock); /* the default key */
	if (sock->rx_ev)
		event_free(sock->rx_ev);
	if (sock->wake_ev)
		event_free(sock->wake_ev);
	if (sock->timer_ev)
		event_free(sock->timer_ev);
	if (sock->tick_ev)
		event_free(sock->tick_ev);
	if (sock->fault_ev)
		event_free(sock->fault_ev);
	if (sock->own_base && sock->base)
		event_base_free(sock->base);
	if (sock->fd >= 0)
		close(sock->fd);
	if (sock->wake_fd >= 0)
		close(sock->wake_fd);
	for (unsigned int i = 0; i < RXS_BATCH; i++)
		rxs_rxpkt_free(&sock->rxpool, sock->batch[i]);
	rxs_outq_free(sock);
	rxs_heap_free(&sock->timers);
	rxs_rxpool_destroy(&sock->rxpool);
	rxs_txpool_destroy(&sock->txpool);
	pthread_mutex_destroy(&sock->attend_lock);
	pthread_mutex_destroy(&sock->io_lock);
	pthread_mutex_destroy(&sock->charge_lock);
	pthread_mutex_destroy(&sock->id_lock);
	rxs_free(sock);
}

RXSVC_API int rxsvc_sock_open(const struct rxsvc_sock_params *p,
			      struct rxsvc_sock **sockp)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct rxsvc_sock *sock;
	union rxs_addr local;
	int ret;

	if (!p || p->size < offsetof(struct rxsvc_sock_params, base))
		return -EINVAL;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);
	sock = rxs_zalloc(sizeof(*sock));
	if (!sock)
		return -ENOMEM;
	sock->fd = -1;
	sock->wake_fd = -1;
	ret = sock_init(sock, p);
	if (ret < 0)
		goto err;
	memset(&local, 0, sizeof(local));
	if (p->local.addrlen) {
		memcpy(&local, &p->local.addr,
		       p->local.addrlen < sizeof(local) ? p->local.addrlen :
							  sizeof(local));
	} else {
		local.sin6.sin6_family = AF_INET6;
		local.sin6.sin6_addr = in6addr_any;
	}
	ret = rxs_udp_open(&local, rxs_addr_len(&local), &sock->fd);
	if (ret < 0)
		goto err;
	rxs_udp_local(sock->fd, &sock->local, &sock->local_len);
	sock->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sock->wake_fd < 0) {
		ret = -errno;
		goto err;
	}
	if (!sock->base) {
		sock->base = event_base_new();
		if (!sock->base) {
			ret = -ENOMEM;
			goto err;
		}
		sock->own_base = true;
	}
	rxs_io_start_loop(sock);
	if (sock->own_base && !sock->thread_running) {
		ret = -EAGAIN;
		goto err;
	}
	*sockp = sock;
	return 0;
err:
	sock_free(sock);
	return ret;
}

/*
 * Tear down once the loop no longer runs: abort what is live, drop every
 * reference the engine holds, free preallocations.
 */
static void sock_teardown(struct rxsvc_sock *sock)
{
	struct rxsvc_call *call, *next;

	rxs_io_process_attend(sock);
	for (call = sock->calls; call; call = call->all_next) {
		if (call->completed_io)
			continue;
		rxs_send_abort_call(call, RX_CALL_DEAD);
		rxs_call_complete(call, RXSVC_COMPLETE_LOCAL_ERROR, 0,
				  -ESHUTDOWN);
	}
	/* Servers wait for these: send them now rather than never. */
	rxs_conn_final_acks_run(sock, 0, true);
	rxs_output_flush(sock);
	rxs_release_drain(sock);
	rxs_io_fault_flush(sock);
	/* Calls the user never ended: the engine's ref goes, the user's
	 * is forfeit (closing with live calls is documented as misuse). */
	for (call = sock->calls; call; call = next) {
		next = call->all_next;
		call->all_next = call->all_prev = NULL;
		call->heap_idx = 0;
		if (atomic_load(&call->ref) > 1)
			atomic_store(&call->ref, 1);
		call->engine_ref = false;
		rxs_call_put(call);
	}
	sock->calls = NULL;
	pthread_mutex_lock(&sock->charge_lock);
	if (!sock->listening) {
		pthread_mutex_unlock(&sock->charge_lock);
	} else {
		pthread_mutex_unlock(&sock->charge_lock);
		rxs_accept_discard_all(sock);
	}
	rxs_conn_reap(sock, rxs_now(), true);
	rxs_peer_destroy_all(sock);
}

RXSVC_API void rxsvc_sock_close(struct rxsvc_sock *sock)
{
	uint64_t one = 1;

	if (!sock)
		return;
	atomic_store(&sock->stopping, true);
	if (sock->thread_running) {
		if (write(sock->wake_fd, &one, sizeof(one)) < 0)
			rxs_log(RXSVC_LOG_WARN, "rxsvc: eventfd write failed");
		pthread_join(sock->thread, NULL);
		sock->thread_running = false;
	}
	/* A user thread may still be finishing a turn of the I/O thread's
	 * work (combining): wait for it. */
	pthread_mutex_lock(&sock->io_lock);
	pthread_mutex_unlock(&sock->io_lock);
	if (sock->rx_ev)
		event_del(sock->rx_ev);
	if (sock->wake_ev)
		event_del(sock->wake_ev);
	if (sock->timer_ev)
		event_del(sock->timer_ev);
	if (sock->tick_ev)
		event_del(sock->tick_ev);
	if (sock->fault_ev)
		event_del(sock->fault_ev);
	sock_teardown(sock);
	sock_free(sock);
}

RXSVC_API int rxsvc_sock_local(struct rxsvc_sock *sock, struct rxsvc_srx *srx)
{
	memset(srx, 0, sizeof(*srx));
	memcpy(&srx->addr, &sock->local, sizeof(srx->addr));
	srx->addrlen = sock->local_len;
	return 0;
}

RXSVC_API void rxsvc_sock_set_interceptor(struct rxsvc_sock *sock,
					  rxsvc_interceptor_t fn, void *arg)
{
	sock->interceptor = fn;
	sock->interceptor_arg = arg;
}

RXSVC_API void rxsvc_sock_set_observer(struct rxsvc_sock *sock,
				       rxsvc_observer_t fn, void *arg)
{
	/* Observers run with io_lock held: once this returns, the old one
	 * is not running anywhere and what it used may be freed. */
	bool held = rxs_io_held(sock);

	if (!held)
		pthread_mutex_lock(&sock->io_lock);
	sock->observer_arg = arg;
	sock->observer = fn;
	if (!held)
		pthread_mutex_unlock(&sock->io_lock);
}

/* ---------------------------------------------------------------- */
/* Calls                                                             */
/* ---------------------------------------------------------------- */

RXSVC_API int rxsvc_call_begin(struct rxsvc_sock *sock,
			       const struct rxsvc_call_params *p,
			       struct rxsvc_call **callp)
{
	struct rxsvc_call_params d = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_key *dkey = NULL; /* the endpoint's default, a ref */
	struct rxsvc_call *call;
	int ret;

	if (!sock || !p || !callp || p->size < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&d, p, p->size < sizeof(d) ? p->size : sizeof(d));
	if (d.peer.addrlen == 0 ||
	    (d.peer.addr.sa.sa_family != AF_INET &&
	     d.peer.addr.sa.sa_family != AF_INET6))
		return -EINVAL;
	if (!d.key && !(d.flags & RXSVC_CALL_NO_SECURITY) &&
	    rxs_sec_default_key(sock, &dkey, &d.security_level) > 0)
		d.key = dkey;
	ret = 0;
	if (d.key) {
		ret = rxs_key_check(d.key, rxs_sec_clock());
		if (ret == 0 && (rxs_key_security_index(d.key) != 2 ||
				 d.security_level > 2))
			ret = -EINVAL;
	}
	if (ret == 0 && atomic_load(&sock->stopping))
		ret = -ESHUTDOWN;
	/* An IPv4 peer from a dual-stack socket needs a mapped address. */
	if (ret == 0)
		ret = rxs_call_alloc(sock, true, &call);
	if (ret < 0) {
		rxsvc_key_put(dkey);
		return ret;
	}
	memcpy(&call->peer_addr, &d.peer.addr, sizeof(call->peer_addr));
	if (sock->local.sa.sa_family == AF_INET6 &&
	    d.peer.addr.sa.sa_family == AF_INET) {
		struct sockaddr_in6 m = { 0 };

		m.sin6_family = AF_INET6;
		m.sin6_port = d.peer.addr.sin.sin_port;
		m.sin6_addr.s6_addr[10] = 0xff;
		m.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&m.sin6_addr.s6_addr[12], &d.peer.addr.sin.sin_addr, 4);
		call->peer_addr.sin6 = m;
	} else if (sock->local.sa.sa_family == AF_INET &&
		   d.peer.addr.sa.sa_family == AF_INET6) {
		rxs_call_put(call);
		rxsvc_key_put(dkey);
		return -EAFNOSUPPORT;
	}
	call->peer_addrlen = rxs_addr_len(&call->peer_addr);
	call->service_id = d.peer.service_id;
	call->user_call_id = d.user_call_id;
	call->notify_rx = d.notify_rx;
	call->flags = d.flags;
	call->tx_total_len = d.tx_total_len;
	if (d.key) {
		call->key = rxs_key_get(d.key); /* put when the call goes */
		call->sec_level = d.security_level;
	}
	rxsvc_key_put(dkey); /* the call has its own */
	rxs_sec_call_sizes(call, d.key ? 2 : 0, call->sec_level);
	if (d.hard_time_ms)
		call->t_hard = rxs_now() + d.hard_time_ms * 1000ull;
	ret = rxs_id_insert(sock, call);
	if (ret < 0) {
		rxs_call_put(call);
		return ret;
	}
	rxs_call_get(call); /* the engine's */
	call->engine_ref = true;
	*callp = call;
	/* The connection is found when the call is first poked (its first
	 * send, usually): one wakeup of the I/O thread instead of two. */
	atomic_fetch_or_explicit(&call->events, RXS_EV_NEW_CALL,
				 memory_order_relaxed);
	return 0;
}

RXSVC_API int rxsvc_call_abort(struct rxsvc_call *call, int32_t abort_code,
			       int error, const char *why)
{
	if (atomic_load_explicit(&call->completion, memory_order_acquire) !=
	    RXSVC_COMPLETE_NONE)
		return 0;
	call->user_abort_code = abort_code;
	call->user_abort_error = error ? error : -ECONNABORTED;
	rxs_call_poke(call, RXS_EV_ABORT);
	(void)why;
	return 1;
}

RXSVC_API int rxsvc_call_reject(struct rxsvc_call *call)
{
	if (call->client ||
	    atomic_load(&call->state) != RXSVC_CALL_SERVER_RECV_REQUEST ||
	    call->heard_peer)
		return -EINVAL;
	call->rejected = true;
	return 0;
}

RXSVC_API void rxsvc_call_end(struct rxsvc_call *call)
{
	if (!call || call->user_ended)
		return;
	/* After this no notify_rx runs for the call (see rxs_call_notify):
	 * the user may free what its user call ID points to. */
	if (rxs_notifying(call)) {
		call->user_ended = true; /* from its own notify_rx */
	} else {
		pthread_mutex_lock(&call->notify_lock);
		call->user_ended = true;
		pthread_mutex_unlock(&call->notify_lock);
	}
	/* The user call ID is free for reuse as soon as end returns. */
	rxs_id_remove(call->sock, call);
	rxs_call_poke(call, RXS_EV_END);
}

RXSVC_API enum rxsvc_call_state rxsvc_call_state(struct rxsvc_call *call)
{
	return (enum rxsvc_call_state)atomic_load_explicit(
		&call->state, memory_order_acquire);
}

RXSVC_API enum rxsvc_completion rxsvc_call_completion(struct rxsvc_call *call)
{
	return (enum rxsvc_completion)atomic_load_explicit(
		&call->completion, memory_order_acquire);
}

RXSVC_API int32_t rxsvc_call_abort_code(struct rxsvc_call *call)
{
	switch (rxsvc_call_completion(call)) {
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
	case RXSVC_COMPLETE_NET_ERROR:
		return call->abort_code;
	case RXSVC_COMPLETE_NONE:
	case RXSVC_COMPLETE_SUCCEEDED:
	case RXSVC_COMPLETE_BUSY:
	case RXSVC_COMPLETE_LOCAL_ERROR:
		break;
	}
	return 0;
}

RXSVC_API int rxsvc_call_error(struct rxsvc_call *call)
{
	if (rxsvc_call_completion(call) == RXSVC_COMPLETE_NONE)
		return 0;
	return call->error;
}

RXSVC_API unsigned long rxsvc_call_user_id(struct rxsvc_call *call)
{
	return call->user_call_id;
}

RXSVC_API uint16_t rxsvc_call_service_id(struct rxsvc_call *call)
{
	return call->service_id;
}

RXSVC_API int rxsvc_call_peer(struct rxsvc_call *call, struct rxsvc_srx *srx)
{
	memset(srx, 0, sizeof(*srx));
	memcpy(&srx->addr, &call->peer_addr, sizeof(srx->addr));
	srx->addrlen = call->peer_addrlen;
	srx->service_id = call->service_id;
	return 0;
}

RXSVC_API enum rxsvc_completion rxsvc_call_wait(struct rxsvc_call *call,
						int timeout_ms)
{
	struct timespec ts;
	enum rxsvc_completion how;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (timeout_ms >= 0) {
		ts.tv_sec += timeout_ms / 1000;
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
	}
	if (atomic_load(&call->events) & RXS_EV_NEW_CALL)
		rxs_call_poke(call, 0); /* begun, never poked: start it */
	pthread_mutex_lock(&call->wait_lock);
	atomic_fetch_add(&call->waiters, 1);
	while ((how = rxsvc_call_completion(call)) == RXSVC_COMPLETE_NONE) {
		if (timeout_ms < 0)
			pthread_cond_wait(&call->wait_cv, &call->wait_lock);
		else if (pthread_cond_timedwait(&call->wait_cv,
						&call->wait_lock,
						&ts) == ETIMEDOUT)
			break;
	}
	atomic_fetch_sub(&call->waiters, 1);
	pthread_mutex_unlock(&call->wait_lock);
	return rxsvc_call_completion(call);
}
