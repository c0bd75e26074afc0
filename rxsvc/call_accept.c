/* SPDX-License-Identifier: MIT */
/*
 * call_accept.c - preallocation of service calls (the kernel's
 * charge_accept).  The user charges calls, each with its user call ID,
 * into a ring capped by the listen backlog; the receive path takes one
 * for each new incoming call without calling the allocator, and answers
 * BUSY when none is left (design.md, "Decisions").
 */
#include <errno.h>
#include <string.h>

#include "rxsvc/internal.h"

#define DEFAULT_BACKLOG 32

RXSVC_API int rxsvc_sock_add_service(struct rxsvc_sock *sock,
				     uint16_t service_id)
{
	int ret = 0;

	pthread_mutex_lock(&sock->charge_lock);
	for (unsigned int i = 0; i < sock->nservices; i++)
		if (sock->services[i] == service_id)
			ret = -EEXIST;
	if (!ret && sock->nservices == RXS_MAX_SERVICES)
		ret = -ENOSPC;
	if (!ret)
		sock->services[sock->nservices++] = service_id;
	pthread_mutex_unlock(&sock->charge_lock);
	return ret;
}

RXSVC_API int rxsvc_sock_set_service_security(
	struct rxsvc_sock *sock, uint16_t service_id,
	const struct rxsvc_service_security *sec)
{
	struct rxsvc_service_security d = RXSVC_SERVICE_SECURITY_INIT;
	int ret = -ENOENT;

	if (!sec || sec->size < sizeof(uint32_t))
		return -EINVAL;
	memcpy(&d, sec, sec->size < sizeof(d) ? sec->size : sizeof(d));
	if (d.min_level > 2 || (d.require_rxkad && !d.keyset))
		return -EINVAL;
	pthread_mutex_lock(&sock->charge_lock);
	for (unsigned int i = 0; i < sock->nservices; i++) {
		if (sock->services[i] != service_id)
			continue;
		sock->service_sec[i].keyset = d.keyset;
		sock->service_sec[i].min_level = d.min_level;
		sock->service_sec[i].require_rxkad = d.require_rxkad;
		ret = 0;
	}
	pthread_mutex_unlock(&sock->charge_lock);
	return ret;
}

/* A service's security settings, or NULL.  - I/O thread. */
const struct rxs_service_sec *rxs_service_sec(struct rxsvc_sock *sock,
					      uint16_t service_id)
{
	const struct rxs_service_sec *ss = NULL;

	pthread_mutex_lock(&sock->charge_lock);
	for (unsigned int i = 0; i < sock->nservices; i++)
		if (sock->services[i] == service_id)
			ss = &sock->service_sec[i];
	pthread_mutex_unlock(&sock->charge_lock);
	return ss;
}

bool rxs_service_known(struct rxsvc_sock *sock, uint16_t service_id)
{
	bool known = false;

	pthread_mutex_lock(&sock->charge_lock);
	for (unsigned int i = 0; i < sock->nservices; i++)
		if (sock->services[i] == service_id)
			known = true;
	pthread_mutex_unlock(&sock->charge_lock);
	return known;
}

RXSVC_API int rxsvc_sock_listen(struct rxsvc_sock *sock, unsigned int backlog)
{
	struct rxsvc_call **ring;

	if (backlog == 0)
		backlog = DEFAULT_BACKLOG;
	if (backlog > 65536)
		return -EINVAL;
	pthread_mutex_lock(&sock->charge_lock);
	if (sock->listening) {
		pthread_mutex_unlock(&sock->charge_lock);
		return -EALREADY;
	}
	ring = rxs_zalloc(backlog * sizeof(*ring));
	if (!ring) {
		pthread_mutex_unlock(&sock->charge_lock);
		return -ENOMEM;
	}
	sock->charge = ring;
	sock->backlog = backlog;
	sock->listening = true;
	pthread_mutex_unlock(&sock->charge_lock);
	return 0;
}

RXSVC_API void rxsvc_sock_set_accept(struct rxsvc_sock *sock,
				     rxsvc_notify_new_call_t new_call,
				     rxsvc_discard_t discard, void *arg)
{
	pthread_mutex_lock(&sock->charge_lock);
	sock->new_call = new_call;
	sock->discard = discard;
	sock->accept_arg = arg;
	pthread_mutex_unlock(&sock->charge_lock);
}

RXSVC_API int rxsvc_sock_charge(struct rxsvc_sock *sock,
				rxsvc_notify_rx_t notify_rx,
				unsigned long user_call_id)
{
	struct rxsvc_call *call;
	int ret;

	if (atomic_load(&sock->stopping))
		return -ESHUTDOWN;
	pthread_mutex_lock(&sock->charge_lock);
	ret = !sock->listening ? -EINVAL :
	      sock->charge_n >= sock->backlog ? -ENOBUFS : 0;
	pthread_mutex_unlock(&sock->charge_lock);
	if (ret)
		return ret;
	ret = rxs_call_alloc(sock, false, &call);
	if (ret < 0)
		return ret;
	call->user_call_id = user_call_id;
	call->notify_rx = notify_rx;
	ret = rxs_id_insert(sock, call);
	if (ret < 0) {
		rxs_call_put(call);
		return ret;
	}
	pthread_mutex_lock(&sock->charge_lock);
	if (sock->charge_n >= sock->backlog) {
		pthread_mutex_unlock(&sock->charge_lock);
		rxs_id_remove(sock, call);
		rxs_call_put(call);
		return -ENOBUFS;
	}
	sock->charge[(sock->charge_head + sock->charge_n) % sock->backlog] =
		call;
	sock->charge_n++;
	pthread_mutex_unlock(&sock->charge_lock);
	return 0;
}

RXSVC_API unsigned int rxsvc_sock_charged(struct rxsvc_sock *sock)
{
	unsigned int n;

	pthread_mutex_lock(&sock->charge_lock);
	n = sock->charge_n;
	pthread_mutex_unlock(&sock->charge_lock);
	return n;
}

/* Take a charged call for a new incoming call, or NULL.  - I/O thread. */
struct rxsvc_call *rxs_accept_take(struct rxsvc_sock *sock)
{
	struct rxsvc_call *call = NULL;

	pthread_mutex_lock(&sock->charge_lock);
	if (sock->charge_n) {
		call = sock->charge[sock->charge_head];
		sock->charge[sock->charge_head] = NULL;
		sock->charge_head = (sock->charge_head + 1) % sock->backlog;
		sock->charge_n--;
	}
	pthread_mutex_unlock(&sock->charge_lock);
	return call;
}

/* Free unused preallocations, telling the user (discard_new_call). */
void rxs_accept_discard_all(struct rxsvc_sock *sock)
{
	struct rxsvc_call *call;

	while ((call = rxs_accept_take(sock)) != NULL) {
		if (sock->discard)
			sock->discard(sock, call->user_call_id,
				      sock->accept_arg);
		rxs_id_remove(sock, call);
		rxs_call_put(call);
	}
	pthread_mutex_lock(&sock->charge_lock);
	rxs_free(sock->charge);
	sock->charge = NULL;
	sock->listening = false;
	pthread_mutex_unlock(&sock->charge_lock);
}
