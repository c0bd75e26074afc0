/* SPDX-License-Identifier: MIT */
/*
 * The engine's publisher: registers on an endpoint's observer hook
 * (rxsvc_sock_set_observer, include/rxsvc/rxsvc.h) and turns engine
 * events into bus messages on the well-known groups of events.h.
 *
 * It runs on the endpoint's I/O thread, so it must never block: the bus
 * is asked with RXSVC_CN_NONBLOCK (a full lossless bus gives -EAGAIN),
 * and every failure is counted rather than retried.  With nobody
 * interested the observer returns after one relaxed atomic load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rxsvc/rxsvc.h>
#include <rxsvc/events.h>

#include "events/internal.h"

struct rxsvc_evpub {
	struct rxsvc_bus *bus;         /* [const] */
	struct rxsvc_sock *sock;       /* [const] */
	uint64_t sent;                 /* [atomic] */
	uint64_t failed;               /* [atomic] */
	uint64_t unheard;              /* [atomic] */
};

static void count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

static void evpub_group(enum rxsvc_event_type type, uint32_t *group,
			uint32_t *val)
{
	switch (type) {
	case RXSVC_EV_CALL_BEGUN:
		*group = RXSVC_EV_GROUP_CALL;
		*val = RXSVC_EV_VAL_CALL_BEGUN;
		return;
	case RXSVC_EV_CALL_COMPLETE:
		*group = RXSVC_EV_GROUP_CALL;
		*val = RXSVC_EV_VAL_CALL_COMPLETE;
		return;
	case RXSVC_EV_BUSY_SENT:
		*group = RXSVC_EV_GROUP_BUSY;
		*val = RXSVC_EV_VAL_BUSY_SENT;
		return;
	case RXSVC_EV_NET_ERROR:
		*group = RXSVC_EV_GROUP_NET;
		*val = RXSVC_EV_VAL_NET_ERROR;
		return;
	case RXSVC_EV_SECURITY:
		*group = RXSVC_EV_GROUP_SEC;
		*val = RXSVC_EV_VAL_SECURITY;
		return;
	}
	*group = RXSVC_EV_GROUP_CALL;
	*val = 0;
}

/* The 32-byte data of events.h, big-endian, from zeroed storage. */
static void evpub_encode(uint8_t *d, const struct rxsvc_engine_event *ev)
{
	memset(d, 0, RXSVC_EV_ENGINE_DATA_LEN);
	rxs_put_be32(d, (uint32_t)ev->type);
	rxs_put_be32(d + 4, ev->debug_id);
	rxs_put_be16(d + 8, ev->service_id);
	d[10] = (uint8_t)(ev->client != 0);
	d[11] = (uint8_t)ev->how;
	rxs_put_be32(d + 12, (uint32_t)ev->abort_code);
	rxs_put_be32(d + 16, (uint32_t)ev->error);
	if (!ev->peer)
		return;
	if (ev->peer->addr.sa.sa_family == AF_INET) {
		rxs_put_be16(d + 20, AF_INET);
		memcpy(d + 22, &ev->peer->addr.sin.sin_port, 2);
		memcpy(d + 24, &ev->peer->addr.sin.sin_addr, 4);
	} else if (ev->peer->addr.sa.sa_family == AF_INET6) {
		rxs_put_be16(d + 20, AF_INET6);
		memcpy(d + 22, &ev->peer->addr.sin6.sin6_port, 2);
		memcpy(d + 24, &ev->peer->addr.sin6.sin6_addr, 8);
	}
}

static void evpub_observe(struct rxsvc_sock *sock,
			  const struct rxsvc_engine_event *ev, void *arg)
{
	struct rxsvc_evpub *pub = arg;
	union {
		struct rxsvc_cn_msg m;
		uint8_t b[sizeof(struct rxsvc_cn_msg) + RXSVC_EV_ENGINE_DATA_LEN];
	} u;
	uint32_t group;
	int ret;

	if (!rxs_bus_engine_heard(pub->bus)) {
		count(&pub->unheard);
		return;
	}
	memset(&u.m, 0, sizeof(u.m));
	evpub_group(ev->type, &group, &u.m.id.val);
	u.m.id.idx = RXSVC_EV_IDX_ENGINE;
	u.m.seq = (uint32_t)__atomic_add_fetch(&pub->sent, 0, __ATOMIC_RELAXED);
	u.m.len = RXSVC_EV_ENGINE_DATA_LEN;
	evpub_encode(u.m.data, ev);
	ret = rxsvc_cn_send(pub->bus, &u.m, group, RXSVC_CN_NONBLOCK);
	if (ret == 0)
		count(&pub->sent);
	else if (ret == -ESRCH)
		count(&pub->unheard);
	else
		count(&pub->failed);
}

RXSVC_API int rxsvc_evpub_start(struct rxsvc_bus *bus, struct rxsvc_sock *sock,
				struct rxsvc_evpub **pubp)
{
	struct rxsvc_evpub *pub;

	if (!bus || !sock || !pubp)
		return -EINVAL;
	pub = calloc(1, sizeof(*pub));
	if (!pub)
		return -ENOMEM;
	pub->bus = bus;
	pub->sock = sock;
	rxsvc_sock_set_observer(sock, evpub_observe, pub);
	*pubp = pub;
	return 0;
}

RXSVC_API void rxsvc_evpub_stop(struct rxsvc_evpub *pub)
{
	if (!pub)
		return;
	rxsvc_sock_set_observer(pub->sock, NULL, NULL);
	free(pub);
}

RXSVC_API void rxsvc_evpub_counts(struct rxsvc_evpub *pub, uint64_t *sent,
				  uint64_t *failed, uint64_t *unheard)
{
	if (sent)
		*sent = __atomic_load_n(&pub->sent, __ATOMIC_RELAXED);
	if (failed)
		*failed = __atomic_load_n(&pub->failed, __ATOMIC_RELAXED);
	if (unheard)
		*unheard = __atomic_load_n(&pub->unheard, __ATOMIC_RELAXED);
}
