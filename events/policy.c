/* SPDX-License-Identifier: MIT */
/*
 * The built-in routing policies (ops tables, as IPN's protocols):
 * broadcast, every member of the group but the sender; and idfilter,
 * members whose filter names the message's id, so that a process never
 * wakes for a message it does not want.  Both run with the bus locked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/internal.h"

static int broadcast_handle_msg(void *priv, struct rxsvc_bus_route *route)
{
	struct rxsvc_bus_node *from = rxsvc_bus_route_from(route);
	struct rxsvc_bus_node *const *m;
	unsigned int n = rxsvc_bus_route_members(route, &m);
	unsigned int i;

	for (i = 0; i < n; i++)
		if (m[i] != from)
			rxsvc_bus_route_deliver(route, m[i]);
	return 0;
}

RXSVC_API const struct rxsvc_bus_policy_ops rxsvc_bus_policy_broadcast = {
	.size = sizeof(struct rxsvc_bus_policy_ops),
	.name = "broadcast",
	.handle_msg = broadcast_handle_msg,
};

#define IDFILTER_MAX 256 /* ids per member: bounds what a client pins */

struct idfilter {
	unsigned int n;
	unsigned int cap;
	struct rxsvc_cb_id *ids;
};

static int idfilter_node_new(void *priv, struct rxsvc_bus_node *node,
			     void **node_privp)
{
	struct idfilter *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	*node_privp = f;
	return 0;
}

static void idfilter_node_gone(void *priv, struct rxsvc_bus_node *node,
			       void *node_priv)
{
	struct idfilter *f = node_priv;

	if (!f)
		return;
	free(f->ids);
	free(f);
}

static int idfilter_find(const struct idfilter *f, const struct rxsvc_cb_id *id)
{
	unsigned int i;

	for (i = 0; i < f->n; i++)
		if (f->ids[i].idx == id->idx && f->ids[i].val == id->val)
			return (int)i;
	return -1;
}

static int idfilter_handle_msg(void *priv, struct rxsvc_bus_route *route)
{
	const struct rxsvc_cn_msg *msg = rxsvc_bus_route_msg(route);
	struct rxsvc_bus_node *from = rxsvc_bus_route_from(route);
	struct rxsvc_bus_node *const *m;
	unsigned int n = rxsvc_bus_route_members(route, &m);
	unsigned int i;

	for (i = 0; i < n; i++) {
		const struct idfilter *f = rxsvc_bus_node_priv(m[i]);

		if (m[i] != from && f && idfilter_find(f, &msg->id) >= 0)
			rxsvc_bus_route_deliver(route, m[i]);
	}
	return 0;
}

static int idfilter_setopt(void *priv, struct rxsvc_bus_node *node,
			   void *node_priv, int opt, const void *val,
			   size_t len)
{
	struct idfilter *f = node_priv;
	struct rxsvc_cb_id id;
	int i;

	if (len != sizeof(id) || !f)
		return -EINVAL;
	memcpy(&id, val, sizeof(id));
	i = idfilter_find(f, &id);
	switch (opt) {
	case RXSVC_BUS_OPT_ID_ADD:
		if (i >= 0)
			return 0;
		if (f->n == IDFILTER_MAX)
			return -ENOSPC;
		if (f->n == f->cap) {
			unsigned int cap = f->cap ? f->cap * 2 : 8;
			void *p = realloc(f->ids, cap * sizeof(*f->ids));

			if (!p)
				return -ENOMEM;
			f->ids = p;
			f->cap = cap;
		}
		f->ids[f->n++] = id;
		return 0;
	case RXSVC_BUS_OPT_ID_DEL:
		if (i < 0)
			return -ENOENT;
		f->ids[i] = f->ids[--f->n];
		return 0;
	}
	return -ENOPROTOOPT;
}

RXSVC_API const struct rxsvc_bus_policy_ops rxsvc_bus_policy_idfilter = {
	.size = sizeof(struct rxsvc_bus_policy_ops),
	.name = "idfilter",
	.node_new = idfilter_node_new,
	.node_gone = idfilter_node_gone,
	.handle_msg = idfilter_handle_msg,
	.setopt = idfilter_setopt,
};
