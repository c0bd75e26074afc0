/* SPDX-License-Identifier: MIT */
/*
 * The bus object and the connector core: callbacks by id, in-process
 * group listeners, group membership, routing through the policy, the
 * message pool, counters.
 *
 * Design: one mutex guards the bus.  A message is routed under it: the
 * policy picks members of the group, remote clients get a reference to
 * one pooled copy of the frame (encoded once, sent to each client as is),
 * in-process listeners and the id's callback are called after the lock
 * is dropped, each holding a reference on its entry so that removal waits
 * for it (the kernel connector's cn_queue refcount).  The pool bounds the
 * memory all queues together can pin; under the lossless policy an empty
 * pool holds senders back, under the lossy one it drops and counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/internal.h"

static const char *const bus_stat_names[] = {
#define RXS_X(n) #n,
	RXS_BUS_STATS(RXS_X)
#undef RXS_X
};

RXSVC_API void rxsvc_cn_reply_init(struct rxsvc_cn_msg *reply,
				   const struct rxsvc_cn_msg *req)
{
	reply->id = req->id;
	reply->seq = req->seq;
	reply->ack = req->ack + 1;
}

RXSVC_API int rxsvc_cn_is_reply(const struct rxsvc_cn_msg *reply,
				const struct rxsvc_cn_msg *req)
{
	return reply->id.idx == req->id.idx && reply->id.val == req->id.val &&
	       reply->seq == req->seq && reply->ack == req->ack + 1;
}

/* ---------------------------------------------------------------- */
/* Pool                                                              */
/* ---------------------------------------------------------------- */

static int pool_init(struct rxsvc_bus *bus)
{
	size_t stride = sizeof(struct rxs_slot) + RXS_EVF_MSG_HDR + bus->mtu;
	unsigned int i;

	stride = (stride + 15) & ~(size_t)15;
	bus->slot_stride = stride;
	bus->pool_mem = calloc(bus->pool_n, stride);
	if (!bus->pool_mem)
		return -ENOMEM;
	for (i = bus->pool_n; i-- > 0;) {
		struct rxs_slot *s = (void *)(bus->pool_mem + i * stride);

		s->next = bus->free_slots;
		bus->free_slots = s;
	}
	return 0;
}

struct rxs_slot *rxs_slot_get(struct rxsvc_bus *bus)
{
	struct rxs_slot *s = bus->free_slots;

	if (!s)
		return NULL;
	bus->free_slots = s->next;
	s->next = NULL;
	s->ref = 1;
	bus->pool_used++;
	return s;
}

void rxs_slot_put(struct rxsvc_bus *bus, struct rxs_slot *slot)
{
	if (--slot->ref)
		return;
	slot->next = bus->free_slots;
	bus->free_slots = slot;
	if (bus->pool_used-- == bus->pool_n) {
		/* Room again: wake in-process senders, resume paused ones. */
		bus->resume = true;
		pthread_cond_broadcast(&bus->cond);
	}
}

/* ---------------------------------------------------------------- */
/* Groups and members                                                */
/* ---------------------------------------------------------------- */

struct rxs_group *rxs_group_find(struct rxsvc_bus *bus, uint32_t group)
{
	unsigned int i;

	for (i = 0; i < bus->ngroups; i++)
		if (bus->groups[i].group == group)
			return &bus->groups[i];
	return NULL;
}

static int grow(void **arr, unsigned int *cap, size_t elem)
{
	unsigned int ncap = *cap ? *cap * 2 : 4;
	void *p = realloc(*arr, ncap * elem);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int rxs_node_join(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		  uint32_t group)
{
	struct rxs_group *g;
	unsigned int i;

	if (group == RXSVC_EV_GROUP_NONE)
		return -EINVAL;
	for (i = 0; i < node->ngroups; i++)
		if (node->groups[i] == group)
			return 0;
	if (node->ngroups == node->capgroups &&
	    grow((void **)&node->groups, &node->capgroups, sizeof(uint32_t)))
		return -ENOMEM;
	g = rxs_group_find(bus, group);
	if (!g) {
		if (bus->ngroups == bus->capgroups &&
		    grow((void **)&bus->groups, &bus->capgroups,
			 sizeof(*bus->groups)))
			return -ENOMEM;
		g = &bus->groups[bus->ngroups++];
		memset(g, 0, sizeof(*g));
		g->group = group;
	}
	if (g->n == g->cap &&
	    grow((void **)&g->members, &g->cap, sizeof(*g->members)))
		return -ENOMEM;
	g->members[g->n++] = node;
	node->groups[node->ngroups++] = group;
	if (rxs_engine_group(group))
		rxs_bus_engine_interest(bus, 1);
	if (node->ngroups == 1)
		rxs_bus_counts_changed(bus);
	rxs_link_interest(bus, group);
	return 0;
}

int rxs_node_leave(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		   uint32_t group)
{
	struct rxs_group *g = rxs_group_find(bus, group);
	unsigned int i;
	bool found = false;

	for (i = 0; i < node->ngroups; i++) {
		if (node->groups[i] == group) {
			node->groups[i] = node->groups[--node->ngroups];
			found = true;
			break;
		}
	}
	if (!found || !g)
		return -ENOENT;
	if (rxs_engine_group(group))
		rxs_bus_engine_interest(bus, -1);
	for (i = 0; i < g->n; i++) {
		if (g->members[i] == node) {
			/* Keep order: delivery order follows joining. */
			memmove(&g->members[i], &g->members[i + 1],
				(g->n - i - 1) * sizeof(*g->members));
			g->n--;
			break;
		}
	}
	if (!g->n) {
		free(g->members);
		*g = bus->groups[--bus->ngroups];
	}
	if (!node->ngroups)
		rxs_bus_counts_changed(bus);
	rxs_link_interest(bus, group);
	return 0;
}

/* Leave every group, tell the policy, take the node off the bus. */
void rxs_node_unlink(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	struct rxsvc_bus_node **pp;

	while (node->ngroups)
		rxs_node_leave(bus, node, node->groups[node->ngroups - 1]);
	if (node->policy_init && bus->policy->node_gone)
		bus->policy->node_gone(bus->policy_priv, node,
				       node->policy_priv);
	node->policy_priv = NULL;
	node->policy_init = false;
	for (pp = &bus->nodes; *pp; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			break;
		}
	}
	node->dead = true;
	free(node->groups);
	node->groups = NULL;
	node->capgroups = 0;
}

void rxs_bus_counts_changed(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_node *n;
	unsigned int senders = 0;
	unsigned int receivers = 0;
	uint8_t frame[16];

	for (n = bus->nodes; n; n = n->next) {
		if (n->kind == RXS_NODE_CLIENT && n->sender && n->joined)
			senders++;
		if (n->ngroups)
			receivers++;
	}
	if (senders == bus->senders && receivers == bus->receivers)
		return;
	bus->senders = senders;
	bus->receivers = receivers;
	rxs_evf_put_pair(frame, RXS_EVF_NOTICE, senders, receivers);
	for (n = bus->nodes; n; n = n->next) {
		if (n->kind != RXS_NODE_CLIENT || !n->watching)
			continue;
		if (rxs_client_ctl(bus, n, frame, sizeof(frame)))
			RXS_BUS_STAT_INC(bus, notices);
	}
	rxs_server_kick(bus);
}

/* ---------------------------------------------------------------- */
/* Routing                                                           */
/* ---------------------------------------------------------------- */

RXSVC_API const struct rxsvc_cn_msg *
rxsvc_bus_route_msg(const struct rxsvc_bus_route *route)
{
	return route->msg;
}

RXSVC_API uint32_t rxsvc_bus_route_group(const struct rxsvc_bus_route *route)
{
	return route->group;
}

RXSVC_API struct rxsvc_bus_node *
rxsvc_bus_route_from(const struct rxsvc_bus_route *route)
{
	return route->from;
}

RXSVC_API unsigned int
rxsvc_bus_route_members(const struct rxsvc_bus_route *route,
			struct rxsvc_bus_node *const **membersp)
{
	if (!route->g) {
		*membersp = NULL;
		return 0;
	}
	*membersp = route->g->members;
	return route->g->n;
}

RXSVC_API void rxsvc_bus_route_deliver(struct rxsvc_bus_route *route,
				       struct rxsvc_bus_node *node)
{
	/* Once per node: the mark says this route has it already. */
	if (node->mark == route->gen)
		return;
	node->mark = route->gen;
	/* capchosen >= members of the group: reserved before routing. */
	if (route->nchosen < route->capchosen)
		route->chosen[route->nchosen++] = node;
}

RXSVC_API void *rxsvc_bus_node_priv(const struct rxsvc_bus_node *node)
{
	return node->policy_priv;
}

static struct rxs_cb *cb_find(struct rxsvc_bus *bus,
			      const struct rxsvc_cb_id *id)
{
	struct rxs_cb *cb;

	for (cb = bus->cbs; cb; cb = cb->next)
		if (cb->id.idx == id->idx && cb->id.val == id->val)
			return cb;
	return NULL;
}

static int route_reserve(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_route *r = &bus->route;
	unsigned int need = 0;
	unsigned int i;
	void *p;

	for (i = 0; i < bus->ngroups; i++)
		if (bus->groups[i].n > need)
			need = bus->groups[i].n;
	if (need <= r->capchosen)
		return 0;
	p = realloc(r->chosen, need * 2 * sizeof(*r->chosen));
	if (!p)
		return -ENOMEM;
	r->chosen = p;
	r->capchosen = need * 2;
	return 0;
}

/* Pick the members; counts remote ones. */
static int bus_route(struct rxsvc_bus *bus, const struct rxsvc_cn_msg *msg,
		     uint32_t group, struct rxsvc_bus_node *from,
		     unsigned int *nremote)
{
	struct rxsvc_bus_route *r = &bus->route;
	unsigned int i;
	int ret;

	r->msg = msg;
	r->group = group;
	r->from = from;
	r->nchosen = 0;
	r->g = NULL;
	r->gen++;
	*nremote = 0;
	if (group == RXSVC_EV_GROUP_NONE)
		return 0;
	r->g = rxs_group_find(bus, group);
	if (!r->g || !r->g->n)
		return 0;
	ret = route_reserve(bus);
	if (ret < 0)
		return ret;
	ret = bus->policy->handle_msg(bus->policy_priv, r);
	if (ret < 0)
		return ret;
	for (i = 0; i < r->nchosen; i++)
		if (r->chosen[i]->kind == RXS_NODE_CLIENT)
			(*nremote)++;
	return 0;
}

static void bus_fan_out(struct rxsvc_bus *bus, const struct rxsvc_cn_msg *msg,
			uint32_t group, const struct rxsvc_cn_src *src,
			uint8_t hops)
{
	struct rxsvc_bus_route *r = &bus->route;
	struct rxs_slot *slot = rxs_slot_get(bus);
	unsigned int i;

	/* On the loop, what is written to subscribers frees slots. */
	if (!slot && rxs_server_flush_dirty(bus))
		slot = rxs_slot_get(bus);
	if (!slot) {
		/* Lossy and the pool is empty: everyone misses this one. */
		RXS_BUS_STAT_INC(bus, drops_pool);
		for (i = 0; i < r->nchosen; i++) {
			if (r->chosen[i]->kind != RXS_NODE_CLIENT)
				continue;
			r->chosen[i]->missed++;
			rxs_client_mark_dirty(bus, r->chosen[i]);
		}
		rxs_server_kick(bus);
		return;
	}
	slot->len = (uint32_t)rxs_evf_put_msg(slot->frame, msg, group, src,
					      hops);
	for (i = 0; i < r->nchosen; i++)
		if (r->chosen[i]->kind == RXS_NODE_CLIENT)
			rxs_client_enqueue(bus, r->chosen[i], slot);
	rxs_slot_put(bus, slot);
	rxs_server_kick(bus);
}

int rxs_bus_send_locked(struct rxsvc_bus *bus, const struct rxsvc_cn_msg *msg,
			uint32_t group, struct rxsvc_bus_node *from,
			const struct rxsvc_cn_src *src, uint8_t hops,
			unsigned int flags)
{
	struct rxsvc_bus_node *stack[16];
	struct rxsvc_bus_node **local = stack;
	struct rxsvc_cn_src s = *src;
	struct rxs_cb *cb;
	unsigned int nremote;
	unsigned int nlocal = 0;
	unsigned int i;
	int ret;

	if (msg->len > bus->mtu) {
		RXS_BUS_STAT_INC(bus, emsgsize);
		return -EMSGSIZE;
	}
	s.group = group;
	if (rxs_server_in_loop(bus) && !(flags & RXS_SEND_REMOTE))
		flags |= RXS_SEND_NONBLOCK; /* we are the one who frees */
again:
	if (bus->stopping)
		return -ESHUTDOWN;
	ret = bus_route(bus, msg, group, from, &nremote);
	if (ret < 0)
		return ret;
	/*
	 * The id's callback takes what other processes send, and what this
	 * process addresses by id alone: a callback's own reply to a group
	 * must not come back to it (the kernel connector's callbacks see
	 * only messages from user space, never the kernel's multicasts).
	 */
	cb = NULL;
	if (group == RXSVC_EV_GROUP_NONE ||
	    (from && from->kind == RXS_NODE_CLIENT))
		cb = cb_find(bus, &msg->id);
	if (cb && cb->dead)
		cb = NULL;
	if (!cb && !bus->route.nchosen) {
		RXS_BUS_STAT_INC(bus, esrch);
		return -ESRCH;
	}
	if (nremote && !bus->free_slots &&
	    bus->delivery == RXSVC_BUS_LOSSLESS) {
		/* On the loop: write what subscribers can take, then retry. */
		if (rxs_server_flush_dirty(bus) && bus->free_slots)
			goto again;
		if (flags & RXS_SEND_REMOTE) {
			RXS_BUS_STAT_INC(bus, stalls);
			return RXSVC_STRP_RETRY;
		}
		if (flags & RXS_SEND_NONBLOCK) {
			RXS_BUS_STAT_INC(bus, eagain);
			return -EAGAIN;
		}
		RXS_BUS_STAT_INC(bus, stalls);
		pthread_cond_wait(&bus->cond, &bus->lock);
		goto again;
	}
	if (from && from->kind == RXS_NODE_CLIENT)
		RXS_BUS_STAT_INC(bus, msgs_remote);
	else
		RXS_BUS_STAT_INC(bus, msgs_local);
	if (nremote)
		bus_fan_out(bus, msg, group, &s, hops);
	if (bus->route.nchosen - nremote > 16) {
		local = malloc((bus->route.nchosen - nremote) * sizeof(*local));
		if (!local)
			return -ENOMEM;
	}
	for (i = 0; i < bus->route.nchosen; i++) {
		struct rxsvc_bus_node *n = bus->route.chosen[i];

		if (n->kind != RXS_NODE_LISTENER)
			continue;
		n->ref++;
		local[nlocal++] = n;
	}
	if (!nlocal && !cb)
		return 0;
	if (cb)
		cb->ref++;
	bus->stats[RXS_BS_delivered] += nlocal;
	pthread_mutex_unlock(&bus->lock);
	if (cb)
		cb->fn(msg, &s, cb->arg);
	for (i = 0; i < nlocal; i++)
		local[i]->cb(msg, &s, local[i]->arg);
	pthread_mutex_lock(&bus->lock);
	if (cb) {
		RXS_BUS_STAT_INC(bus, callbacks);
		if (!--cb->ref && cb->dead)
			pthread_cond_broadcast(&bus->cond);
	}
	for (i = 0; i < nlocal; i++)
		if (!--local[i]->ref && local[i]->dead)
			pthread_cond_broadcast(&bus->cond);
	if (local != stack)
		free(local);
	return 0;
}

static void local_src(struct rxsvc_cn_src *src)
{
	memset(src, 0, sizeof(*src));
	src->pid = getpid();
	src->uid = geteuid();
	src->gid = getegid();
}

RXSVC_API int rxsvc_cn_send(struct rxsvc_bus *bus,
			    const struct rxsvc_cn_msg *msg, uint32_t group,
			    unsigned int flags)
{
	struct rxsvc_cn_src src;
	int ret;

	if (!bus || !msg)
		return -EINVAL;
	local_src(&src);
	pthread_mutex_lock(&bus->lock);
	ret = rxs_bus_send_locked(bus, msg, group, NULL, &src, 0,
				  flags & RXSVC_CN_NONBLOCK ?
					  RXS_SEND_NONBLOCK :
					  0);
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Callbacks and listeners                                           */
/* ---------------------------------------------------------------- */

/* Announce an id on RXSVC_EV_GROUP_IDS; nobody listening is fine. */
static void bus_id_notice(struct rxsvc_bus *bus, const struct rxs_cb *cb,
			  int added)
{
	union {
		struct rxsvc_cn_msg m;
		uint8_t b[sizeof(struct rxsvc_cn_msg) + 12 + 32];
	} u;
	struct rxs_group *g = rxs_group_find(bus, RXSVC_EV_GROUP_IDS);
	struct rxsvc_cn_src src;
	size_t nlen = strlen(cb->name);

	if (!g || !g->n)
		return; /* nobody asked: not an -ESRCH worth counting */
	memset(&u.m, 0, sizeof(u.m));
	u.m.id.idx = RXSVC_EV_IDX_BUS;
	u.m.id.val = RXSVC_EV_VAL_IDS;
	rxs_put_be32(u.m.data, (uint32_t)added);
	rxs_put_be32(u.m.data + 4, cb->id.idx);
	rxs_put_be32(u.m.data + 8, cb->id.val);
	memcpy(u.m.data + 12, cb->name, nlen);
	u.m.len = (uint16_t)(12 + nlen);
	local_src(&src);
	rxs_bus_send_locked(bus, &u.m, RXSVC_EV_GROUP_IDS, NULL, &src, 0,
			    RXS_SEND_NONBLOCK);
}

RXSVC_API int rxsvc_cn_add_callback(struct rxsvc_bus *bus,
				    const struct rxsvc_cb_id *id,
				    const char *name, rxsvc_cn_callback_t cb,
				    void *arg)
{
	struct rxs_cb *e;

	if (!bus || !id || !cb)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->id = *id;
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	e->fn = cb;
	e->arg = arg;
	pthread_mutex_lock(&bus->lock);
	if (cb_find(bus, id)) {
		pthread_mutex_unlock(&bus->lock);
		free(e);
		return -EEXIST;
	}
	e->next = bus->cbs;
	bus->cbs = e;
	if (id->idx == RXSVC_EV_IDX_ENGINE)
		rxs_bus_engine_interest(bus, 1);
	bus_id_notice(bus, e, 1);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

RXSVC_API int rxsvc_cn_del_callback(struct rxsvc_bus *bus,
				    const struct rxsvc_cb_id *id)
{
	struct rxs_cb **pp;
	struct rxs_cb *e = NULL;

	if (!bus || !id)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	for (pp = &bus->cbs; *pp; pp = &(*pp)->next) {
		if ((*pp)->id.idx == id->idx && (*pp)->id.val == id->val &&
		    !(*pp)->dead) {
			e = *pp;
			break;
		}
	}
	if (!e) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOENT;
	}
	e->dead = true;
	if (id->idx == RXSVC_EV_IDX_ENGINE)
		rxs_bus_engine_interest(bus, -1);
	while (e->ref)
		pthread_cond_wait(&bus->cond, &bus->lock);
	for (pp = &bus->cbs; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	bus_id_notice(bus, e, 0);
	pthread_mutex_unlock(&bus->lock);
	free(e);
	return 0;
}

RXSVC_API int rxsvc_cn_listen(struct rxsvc_bus *bus, uint32_t group,
			      rxsvc_cn_callback_t cb, void *arg,
			      unsigned int *handlep)
{
	struct rxsvc_bus_node *n;
	int ret;

	if (!bus || !cb || group == RXSVC_EV_GROUP_NONE)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = RXS_NODE_LISTENER;
	n->bus = bus;
	n->cb = cb;
	n->arg = arg;
	n->fd = -1;
	pthread_mutex_lock(&bus->lock);
	n->handle = ++bus->next_handle;
	if (bus->policy->node_new) {
		ret = bus->policy->node_new(bus->policy_priv, n,
					    &n->policy_priv);
		if (ret < 0)
			goto err_unlock;
	}
	n->policy_init = true;
	n->next = bus->nodes;
	bus->nodes = n;
	ret = rxs_node_join(bus, n, group);
	if (ret < 0) {
		rxs_node_unlink(bus, n);
		goto err_unlock;
	}
	bus->listeners++;
	if (handlep)
		*handlep = n->handle;
	pthread_mutex_unlock(&bus->lock);
	return 0;

err_unlock:
	pthread_mutex_unlock(&bus->lock);
	free(n);
	return ret;
}

RXSVC_API int rxsvc_cn_unlisten(struct rxsvc_bus *bus, unsigned int handle)
{
	struct rxsvc_bus_node *n;

	if (!bus)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	for (n = bus->nodes; n; n = n->next)
		if (n->kind == RXS_NODE_LISTENER && n->handle == handle)
			break;
	if (!n) {
		pthread_mutex_unlock(&bus->lock);
		return -ENOENT;
	}
	rxs_node_unlink(bus, n);
	bus->listeners--;
	while (n->ref)
		pthread_cond_wait(&bus->cond, &bus->lock);
	pthread_mutex_unlock(&bus->lock);
	free(n);
	return 0;
}

RXSVC_API int rxsvc_cn_listen_setopt(struct rxsvc_bus *bus,
				     unsigned int handle, int opt,
				     const void *val, size_t len)
{
	struct rxsvc_bus_node *n;
	int ret = -ENOENT;

	if (!bus)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	for (n = bus->nodes; n; n = n->next) {
		if (n->kind != RXS_NODE_LISTENER || n->handle != handle)
			continue;
		ret = bus->policy->setopt ?
			      bus->policy->setopt(bus->policy_priv, n,
						  n->policy_priv, opt, val,
						  len) :
			      -ENOPROTOOPT;
		break;
	}
	pthread_mutex_unlock(&bus->lock);
	return ret;
}

/* ---------------------------------------------------------------- */
/* Open, close, settings, counters                                   */
/* ---------------------------------------------------------------- */

static int bus_params(struct rxsvc_bus *bus, const struct rxsvc_bus_params *p)
{
	bus->mode = p->mode ? p->mode : 0660;
	if (bus->mode & ~0777u)
		return -EINVAL;
	bus->uid = p->owner_set ? p->uid : geteuid();
	bus->gid = p->owner_set ? p->gid : getegid();
	bus->delivery = p->delivery;
	if (bus->delivery != RXSVC_BUS_LOSSY &&
	    bus->delivery != RXSVC_BUS_LOSSLESS)
		return -EINVAL;
	bus->policy = p->policy ? p->policy : &rxsvc_bus_policy_broadcast;
	if (!bus->policy->handle_msg)
		return -EINVAL;
	bus->max_subscribers = p->max_subscribers ? p->max_subscribers : 64;
	bus->mtu = p->mtu ? p->mtu : 4096;
	bus->pool_n = p->pool ? p->pool : 1024;
	bus->queue_len = p->queue_len ? p->queue_len : 256;
	bus->assembly_ms = p->assembly_ms ? p->assembly_ms : 5000;
	bus->link_rights = p->link_rights ? p->link_rights :
					    RXSVC_BUS_R | RXSVC_BUS_W;
	if (bus->link_rights & ~7u || (p->link_listen && !p->path))
		return -EINVAL;
	if (bus->mtu > RXS_EVF_MAX_MTU || bus->pool_n > (1u << 20) ||
	    bus->queue_len > (1u << 20) || bus->max_subscribers > 65536)
		return -EINVAL;
	return 0;
}

RXSVC_API int rxsvc_bus_open(const struct rxsvc_bus_params *p,
			     struct rxsvc_bus **busp)
{
	struct rxsvc_bus_params pp = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus;
	int ret;

	if (!p || !busp || p->size < offsetof(struct rxsvc_bus_params, base))
		return -EINVAL;
	memcpy(&pp, p, p->size < sizeof(pp) ? p->size : sizeof(pp));
	bus = calloc(1, sizeof(*bus));
	if (!bus)
		return -ENOMEM;
	bus->lfd = -1;
	bus->slfd = -1;
	bus->wakefd = -1;
	bus->tlfd = -1;
	ret = bus_params(bus, &pp);
	if (ret < 0)
		goto err_free;
	pthread_mutex_init(&bus->lock, NULL);
	pthread_cond_init(&bus->cond, NULL);
	ret = pool_init(bus);
	if (ret < 0)
		goto err_sync;
	ret = -ENOMEM;
	bus->rx_scratch = malloc(sizeof(struct rxsvc_cn_msg) + bus->mtu);
	if (!bus->rx_scratch)
		goto err_pool;
	if (bus->policy->bus_created) {
		ret = bus->policy->bus_created(bus, &bus->policy_priv);
		if (ret < 0)
			goto err_scratch;
	}
	if (pp.path) {
		ret = rxs_server_open(bus, &pp);
		if (ret < 0)
			goto err_policy;
	}
	*busp = bus;
	return 0;

err_policy:
	if (bus->policy->bus_destroyed)
		bus->policy->bus_destroyed(bus->policy_priv);
err_scratch:
	free(bus->rx_scratch);
err_pool:
	free(bus->pool_mem);
err_sync:
	pthread_cond_destroy(&bus->cond);
	pthread_mutex_destroy(&bus->lock);
err_free:
	free(bus);
	return ret;
}

RXSVC_API void rxsvc_bus_close(struct rxsvc_bus *bus)
{
	struct rxs_cb *cb;
	unsigned int i;

	if (!bus)
		return;
	pthread_mutex_lock(&bus->lock);
	bus->stopping = true;
	pthread_cond_broadcast(&bus->cond);
	pthread_mutex_unlock(&bus->lock);
	rxs_server_close(bus);
	while (bus->nodes) {
		struct rxsvc_bus_node *n = bus->nodes;

		rxs_node_unlink(bus, n);
		free(n);
	}
	while ((cb = bus->cbs)) {
		bus->cbs = cb->next;
		free(cb);
	}
	for (i = 0; i < bus->ngroups; i++)
		free(bus->groups[i].members);
	free(bus->groups);
	if (bus->policy->bus_destroyed)
		bus->policy->bus_destroyed(bus->policy_priv);
	free(bus->route.chosen);
	free(bus->rx_scratch);
	free(bus->pool_mem);
	pthread_cond_destroy(&bus->cond);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

RXSVC_API int rxsvc_bus_set_max_subscribers(struct rxsvc_bus *bus,
					    unsigned int n)
{
	if (!bus || !n || n > 65536)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	bus->max_subscribers = n;
	if (bus->policy->bus_resized)
		bus->policy->bus_resized(bus->policy_priv, n);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

void rxs_bus_fill_info(struct rxsvc_bus *bus, struct rxsvc_bus_info *info)
{
	struct rxsvc_bus_info i = { .size = sizeof(i) };

	i.mode = bus->mode;
	i.delivery = bus->delivery;
	snprintf(i.policy, sizeof(i.policy), "%s",
		 bus->policy->name ? bus->policy->name : "?");
	i.max_subscribers = bus->max_subscribers;
	i.mtu = bus->mtu;
	i.pool = bus->pool_n;
	i.queue_len = bus->queue_len;
	i.clients = bus->clients;
	i.senders = bus->senders;
	i.receivers = bus->receivers;
	i.pool_used = bus->pool_used;
	*info = i;
}

RXSVC_API int rxsvc_bus_get_info(struct rxsvc_bus *bus,
				 struct rxsvc_bus_info *info)
{
	struct rxsvc_bus_info i;
	size_t n;

	if (!bus || !info || info->size < sizeof(uint32_t))
		return -EINVAL;
	n = info->size < sizeof(i) ? info->size : sizeof(i);
	pthread_mutex_lock(&bus->lock);
	rxs_bus_fill_info(bus, &i);
	pthread_mutex_unlock(&bus->lock);
	i.size = (uint32_t)n;
	memcpy(info, &i, n);
	return 0;
}

void rxs_bus_fill_stats(struct rxsvc_bus *bus, uint64_t *vals)
{
	struct rxsvc_strp_stats st = bus->strp_gone;
	struct rxsvc_bus_node *n;

	for (n = bus->nodes; n; n = n->next) {
		struct rxsvc_strp_stats one;

		if (n->kind != RXS_NODE_CLIENT || !n->strp)
			continue;
		rxsvc_strp_get_stats(n->strp, &one);
		rxsvc_strp_stats_add(&st, &one);
	}
	memcpy(vals, bus->stats, sizeof(bus->stats));
	vals[RXS_BS_strp_msgs] = st.msgs;
	vals[RXS_BS_strp_bytes] = st.bytes;
	vals[RXS_BS_strp_aborts] = st.aborts;
	vals[RXS_BS_strp_pauses] = st.pauses;
	vals[RXS_BS_strp_oversize] = st.oversize;
	vals[RXS_BS_strp_timeouts] = st.timeouts;
	vals[RXS_BS_strp_partial] = st.partial;
}

RXSVC_API int rxsvc_bus_get_stats(struct rxsvc_bus *bus, uint64_t *vals,
				  size_t n)
{
	uint64_t all[RXS_BS__NR];

	if (!bus)
		return -EINVAL;
	pthread_mutex_lock(&bus->lock);
	rxs_bus_fill_stats(bus, all);
	pthread_mutex_unlock(&bus->lock);
	if (n > RXS_BS__NR)
		n = RXS_BS__NR;
	if (vals)
		memcpy(vals, all, n * sizeof(*vals));
	return RXS_BS__NR;
}

RXSVC_API const char *rxsvc_bus_stat_name(size_t i)
{
	return i < RXS_BS__NR ? bus_stat_names[i] : NULL;
}

RXSVC_API uint64_t rxsvc_bus_stat(struct rxsvc_bus *bus, const char *name)
{
	uint64_t all[RXS_BS__NR];
	size_t i;

	rxsvc_bus_get_stats(bus, all, RXS_BS__NR);
	for (i = 0; i < RXS_BS__NR; i++)
		if (!strcmp(bus_stat_names[i], name))
			return all[i];
	return 0;
}
