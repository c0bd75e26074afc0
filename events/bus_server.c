/* SPDX-License-Identifier: MIT */
/*
 * The bus's socket side: listening sockets (AF_UNIX SOCK_SEQPACKET and
 * SOCK_STREAM), clients, access control, queues and flushing, all on the
 * bus thread (a libevent loop of its own, or the caller's in embedded
 * mode).
 *
 * Design:
 * - Input: each client has a stream parser; a SEQPACKET record carries
 *   many frames, never a partial one; a stream carries them back to back.
 *   Frames handled in one read are routed one by one.
 * - Output: routing only queues (a pooled slot reference per client) and
 *   marks the client dirty; the end of each event handler flushes every
 *   dirty client with one sendmsg() per batch of up to RXS_EVF_BATCH
 *   bytes (the many-messages-per-system-call lesson of ZeroMQ).  A
 *   handler that routes many frames (one stream read can hold a
 *   thousand) writes a client out as soon as its queue is full, and all
 *   dirty clients when the pool runs dry, before counting a drop or
 *   holding a sender back (rxs_server_flush_dirty).  Control
 *   frames (replies, notices, errors) go first, from a small per-client
 *   buffer bounded at CTL_MAX: a client that never reads its replies is
 *   disconnected rather than allowed to pin memory.
 * - Lossy: a full queue drops the message for that client only and
 *   counts it; the next entry queued (or an entry of its own when the
 *   queue drains) carries a MISSED frame with the count.
 * - Lossless: a client's queue holds as many entries as the pool, so only
 *   the pool runs out; then a sender's parser is paused with the frame
 *   kept, its socket is no longer read, and the kernel's socket buffer
 *   holds the sender back (blocking, or EAGAIN for a non-blocking one).
 *   Freeing a slot resumes paused senders.
 * - Access: rights come from SO_PEERCRED (and SO_PEERGROUPS) against the
 *   bus's own mode, checked at each request, as IPN does in the kernel.
 * - A client that closes or crashes is removed at once: its queued
 *   references go back to the pool, its memberships end, the counts and
 *   their watchers are updated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <event2/event.h>

#include "events/internal.h"

#define CTL_MAX   (32 * 1024) /* control bytes a client may leave unread */
#define IOV_BATCH 128
#define TICK_MS   250

static void client_doom(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);
static void client_flush(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);

/*
 * The bus whose loop handler this thread is running (NULL: none).  Only
 * there may a client's socket be written while routing: see
 * rxs_server_flush_dirty().
 */
static __thread struct rxsvc_bus *loop_bus;

/* Enter / leave a loop handler of @bus; lock held.  Returns the outer. */
static struct rxsvc_bus *loop_enter(struct rxsvc_bus *bus)
{
	struct rxsvc_bus *outer = loop_bus;

	loop_bus = bus;
	return outer;
}

static void loop_leave(struct rxsvc_bus *outer)
{
	loop_bus = outer;
}

/*
 * On the loop of @bus: only a thread-local says so.  Not
 * pthread_equal(pthread_self(), bus->thread): the creating thread writes
 * bus->thread and thread_started, unordered with the loop's first reads.
 */
bool rxs_server_in_loop(const struct rxsvc_bus *bus)
{
	return loop_bus == bus;
}

void rxs_client_doom(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	client_doom(bus, node);
}

/* ---------------------------------------------------------------- */
/* Access                                                            */
/* ---------------------------------------------------------------- */

static bool peer_in_group(int fd, gid_t gid, gid_t pgid)
{
	gid_t groups[64];
	socklen_t len = sizeof(groups);
	size_t i;

	if (pgid == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * The peer's rights: the owner, group or others bits of the bus's mode,
 * chosen as for a file.  Root is not special: the bus's mode is the
 * bus's own policy, and a root-run bus's owner class is root.
 */
static unsigned int client_rights(struct rxsvc_bus *bus, int fd,
				  const struct ucred *uc)
{
	if (uc->uid == bus->uid)
		return (bus->mode >> 6) & 7;
	if (peer_in_group(fd, bus->gid, uc->gid))
		return (bus->mode >> 3) & 7;
	return bus->mode & 7;
}

/* ---------------------------------------------------------------- */
/* Output                                                            */
/* ---------------------------------------------------------------- */

void rxs_client_mark_dirty(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	if (node->dirty || node->fd < 0)
		return;
	node->dirty = true;
	node->dirty_next = bus->dirty;
	bus->dirty = node;
}

bool rxs_client_ctl(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		    const uint8_t *frame, size_t len)
{
	if (node->doomed)
		return false;
	if (node->ctl_len - node->ctl_off + len > CTL_MAX) {
		client_doom(bus, node);
		return false;
	}
	if (node->ctl_off && node->ctl_off == node->ctl_len) {
		node->ctl_off = 0;
		node->ctl_len = 0;
	}
	if (node->ctl_len + len > node->ctl_cap) {
		size_t cap = node->ctl_cap ? node->ctl_cap : 256;
		void *p;

		while (cap < node->ctl_len + len)
			cap *= 2;
		p = realloc(node->ctl, cap);
		if (!p) {
			client_doom(bus, node);
			return false;
		}
		node->ctl = p;
		node->ctl_cap = cap;
	}
	memcpy(node->ctl + node->ctl_len, frame, len);
	node->ctl_len += len;
	rxs_client_mark_dirty(bus, node);
	return true;
}

static void client_reply(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			 uint32_t tag, int status, const uint8_t *payload,
			 size_t plen)
{
	uint8_t buf[16 + 512];

	if (plen > sizeof(buf) - 16)
		return;
	rxs_evf_put_reply(buf, tag, status, plen);
	if (plen)
		memcpy(buf + 16, payload, plen);
	rxs_client_ctl(bus, node, buf, 16 + plen);
}

void rxs_client_enqueue(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			struct rxs_slot *slot)
{
	struct rxs_qent *e;

	if (node->doomed || node->closing || node->fd < 0)
		return;
	/*
	 * Full: on the loop, first write what is queued (a full queue is
	 * only a slow subscriber once its socket buffer is full too).
	 */
	if (node->qhead - node->qtail > node->qmask && loop_bus == bus)
		client_flush(bus, node);
	if (node->qhead - node->qtail > node->qmask) {
		node->missed++;
		RXS_BUS_STAT_INC(bus, drops_queue);
		return;
	}
	e = &node->q[node->qhead & node->qmask];
	e->slot = slot;
	slot->ref++;
	e->missed = node->missed;
	if (e->missed)
		rxs_evf_put_missed(e->mframe, e->missed);
	node->missed = 0;
	node->qhead++;
	RXS_BUS_STAT_INC(bus, delivered);
	if (node->link)
		RXS_BUS_STAT_INC(bus, link_out);
	rxs_client_mark_dirty(bus, node);
}

static size_t qent_len(const struct rxs_qent *e)
{
	return (e->missed ? sizeof(e->mframe) : 0) + (e->slot ? e->slot->len : 0);
}

/* Fill @iov from the control buffer and the queue; returns the count. */
static int client_build_iov(struct rxsvc_bus_node *node, struct iovec *iov,
			    size_t *totalp)
{
	size_t total = 0;
	uint32_t i;
	int n = 0;

	if (node->ctl_len > node->ctl_off) {
		iov[n].iov_base = node->ctl + node->ctl_off;
		iov[n++].iov_len = node->ctl_len - node->ctl_off;
		total += node->ctl_len - node->ctl_off;
	}
	for (i = node->qtail; i != node->qhead && n < IOV_BATCH - 1; i++) {
		struct rxs_qent *e = &node->q[i & node->qmask];
		size_t skip = i == node->qtail ? node->head_off : 0;
		size_t mlen = e->missed ? sizeof(e->mframe) : 0;

		if (total && total + qent_len(e) - skip > RXS_EVF_BATCH)
			break;
		if (skip < mlen) {
			iov[n].iov_base = e->mframe + skip;
			iov[n++].iov_len = mlen - skip;
			skip = 0;
		} else {
			skip -= mlen;
		}
		if (e->slot) {
			iov[n].iov_base = e->slot->frame + skip;
			iov[n++].iov_len = e->slot->len - skip;
		}
		total += qent_len(e) - (i == node->qtail ? node->head_off : 0);
	}
	*totalp = total;
	return n;
}

/* Account for @n bytes written. */
static void client_consume(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			   size_t n)
{
	size_t take = node->ctl_len - node->ctl_off;

	if (take > n)
		take = n;
	node->ctl_off += take;
	n -= take;
	if (node->ctl_off == node->ctl_len) {
		node->ctl_off = 0;
		node->ctl_len = 0;
	}
	while (n) {
		struct rxs_qent *e = &node->q[node->qtail & node->qmask];
		size_t rem = qent_len(e) - node->head_off;

		if (n < rem) {
			node->head_off += n;
			return;
		}
		n -= rem;
		if (e->slot)
			rxs_slot_put(bus, e->slot);
		e->slot = NULL;
		node->head_off = 0;
		node->qtail++;
		RXS_BUS_STAT_INC(bus, frames_out);
	}
}

static void client_flush(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	struct iovec iov[IOV_BATCH];
	int round;

	if (node->fd < 0 || node->doomed || node->wait_write)
		return;
	for (round = 0; round < 16; round++) {
		struct msghdr mh = { .msg_iov = iov };
		size_t total;
		ssize_t n;

		if (node->qhead == node->qtail && node->missed) {
			/* Drained with drops unreported: a MISSED of its own. */
			struct rxs_qent *e = &node->q[node->qhead & node->qmask];

			e->slot = NULL;
			e->missed = node->missed;
			rxs_evf_put_missed(e->mframe, e->missed);
			node->missed = 0;
			node->qhead++;
		}
		mh.msg_iovlen = (size_t)client_build_iov(node, iov, &total);
		if (!mh.msg_iovlen)
			break;
		n = sendmsg(node->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			goto wait;
		if (n < 0) {
			RXS_BUS_STAT_INC(bus, crashes);
			client_doom(bus, node);
			return;
		}
		RXS_BUS_STAT_INC(bus, batches);
		client_consume(bus, node, (size_t)n);
		if ((size_t)n < total)
			goto wait;
	}
	if (node->qhead != node->qtail || node->ctl_len > node->ctl_off) {
		rxs_client_mark_dirty(bus, node); /* fairness: later */
		return;
	}
	if (node->closing)
		client_doom(bus, node);
	return;
wait:
	node->wait_write = true;
	event_add(node->wev, NULL);
}

/*
 * In a loop handler of @bus, write every dirty client now, returning
 * the slots their written messages held to the pool.  One read from a
 * stream client routes up to RXS_STRP_READ bytes (a thousand small
 * frames) before the handler's final flush; without this, queues
 * (lossy) and the pool (lossless) would fill with messages the
 * subscribers could take at once, and be dropped or hold the sender
 * back for no slow subscriber at all.  Returns false (nothing done)
 * off the loop.  Lock held.
 */
bool rxs_server_flush_dirty(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_node *list;

	if (loop_bus != bus)
		return false;
	list = bus->dirty;
	bus->dirty = NULL;
	while (list) {
		struct rxsvc_bus_node *n = list;

		list = n->dirty_next;
		n->dirty = false;
		client_flush(bus, n);
	}
	return true;
}

void rxs_server_wake(struct rxsvc_bus *bus)
{
	uint64_t one = 1;

	if (bus->wakefd < 0 || bus->wake_pending)
		return;
	bus->wake_pending = true;
	if (write(bus->wakefd, &one, sizeof(one)) < 0)
		bus->wake_pending = false;
}

void rxs_server_kick(struct rxsvc_bus *bus)
{
	uint64_t one = 1;

	if (bus->wakefd < 0 || bus->wake_pending || !bus->dirty)
		return;
	if (loop_bus == bus)
		return; /* the handler we are in flushes before it returns */
	bus->wake_pending = true;
	if (write(bus->wakefd, &one, sizeof(one)) < 0)
		bus->wake_pending = false;
}

/* ---------------------------------------------------------------- */
/* Client life cycle                                                 */
/* ---------------------------------------------------------------- */

static void client_doom(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	if (node->doomed)
		return;
	node->doomed = true;
	bus->ndoomed++;
}

static void list_remove(struct rxsvc_bus_node **head,
			struct rxsvc_bus_node *node, size_t link_off)
{
	struct rxsvc_bus_node **pp = head;

	while (*pp) {
		struct rxsvc_bus_node **next =
			(struct rxsvc_bus_node **)(void *)((char *)*pp +
							   link_off);

		if (*pp == node) {
			*pp = *next;
			return;
		}
		pp = next;
	}
}

static void client_destroy(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	struct rxsvc_strp_stats st;

	if (node->joined) {
		bus->clients--;
		RXS_BUS_STAT_INC(bus, leaves);
	}
	if (node->doomed)
		bus->ndoomed--;
	if (node->partial)
		bus->npartial--;
	if (node->stalled)
		list_remove(&bus->stalled, node,
			    offsetof(struct rxsvc_bus_node, stall_next));
	if (node->dirty)
		list_remove(&bus->dirty, node,
			    offsetof(struct rxsvc_bus_node, dirty_next));
	if (node->link)
		rxs_link_gone(bus, node);
	rxsvc_strp_get_stats(node->strp, &st);
	rxsvc_strp_stats_add(&bus->strp_gone, &st);
	rxsvc_strp_free(node->strp);
	event_free(node->rev);
	event_free(node->wev);
	close(node->fd);
	node->fd = -1;
	while (node->qtail != node->qhead) {
		struct rxs_qent *e = &node->q[node->qtail++ & node->qmask];

		if (e->slot)
			rxs_slot_put(bus, e->slot);
	}
	free(node->q);
	free(node->ctl);
	node->joined = false;
	rxs_node_unlink(bus, node);
	rxs_bus_counts_changed(bus);
	free(node);
}

static void reap_doomed(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_node *n;

	while (bus->ndoomed) {
		for (n = bus->nodes; n; n = n->next)
			if (n->kind == RXS_NODE_CLIENT && n->doomed)
				break;
		if (!n)
			break;
		client_destroy(bus, n);
	}
}

/*
 * Work left by a handler: resume paused senders when slots came back,
 * flush dirty clients, remove doomed ones.  Lock held, bus thread.
 */
static void bus_run_pending(struct rxsvc_bus *bus)
{
	int round;

	for (round = 0; round < 8; round++) {
		bool progress = false;

		if (bus->resume && bus->stalled && bus->free_slots) {
			struct rxsvc_bus_node *list = bus->stalled;

			bus->stalled = NULL;
			while (list) {
				struct rxsvc_bus_node *n = list;

				list = n->stall_next;
				n->stalled = false;
				RXS_BUS_STAT_INC(bus, resumes);
				if (rxsvc_strp_unpause(n->strp) < 0)
					client_doom(bus, n);
				else if (!n->stalled && !n->doomed)
					event_add(n->rev, NULL);
			}
			progress = true;
		}
		if (!bus->stalled)
			bus->resume = false;
		while (bus->dirty) {
			struct rxsvc_bus_node *n = bus->dirty;

			bus->dirty = n->dirty_next;
			n->dirty = false;
			client_flush(bus, n);
			progress = true;
			if (bus->dirty == n)
				break; /* re-marked for later: next round */
		}
		reap_doomed(bus);
		if (!progress)
			break;
	}
	if (bus->dirty || (bus->resume && bus->stalled)) {
		uint64_t one = 1;

		if (!bus->wake_pending &&
		    write(bus->wakefd, &one, sizeof(one)) == sizeof(one))
			bus->wake_pending = true;
	}
	rxs_server_tick_update(bus);
}

/* ---------------------------------------------------------------- */
/* Requests                                                          */
/* ---------------------------------------------------------------- */

static void client_hello(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			 const struct rxs_evf *f)
{
	uint8_t p[16];
	int ret = 0;

	if (f->a != RXS_EVF_VERSION)
		ret = -EPROTONOSUPPORT;
	else if (!node->rights)
		ret = -EACCES;
	else if (bus->clients >= bus->max_subscribers)
		ret = -EUSERS;
	else if (bus->policy->node_new)
		ret = bus->policy->node_new(bus->policy_priv, node,
					    &node->policy_priv);
	if (ret == -EACCES)
		RXS_BUS_STAT_INC(bus, eacces);
	if (ret == -EUSERS)
		RXS_BUS_STAT_INC(bus, refused_full);
	if (ret < 0) {
		client_reply(bus, node, f->tag, ret, NULL, 0);
		node->closing = true;
		return;
	}
	node->joined = true;
	node->policy_init = true;
	node->sender = (f->b & RXSVC_EVC_SENDER) && (node->rights & RXSVC_BUS_W);
	bus->clients++;
	RXS_BUS_STAT_INC(bus, joins);
	rxs_put_be32(p, node->handle);
	rxs_put_be32(p + 4, bus->mtu);
	rxs_put_be32(p + 8, node->rights);
	rxs_put_be32(p + 12, (uint32_t)bus->delivery);
	client_reply(bus, node, f->tag, 0, p, sizeof(p));
	rxs_bus_counts_changed(bus);
	if (node->link)
		rxs_link_joined(bus, node);
}

static void client_info(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			uint32_t tag)
{
	uint8_t p[40 + 32 + 4 + 8 * RXS_BS__NR];
	struct rxsvc_bus_info info;
	uint64_t vals[RXS_BS__NR];
	uint8_t *q = p;
	size_t i;

	rxs_bus_fill_info(bus, &info);
	rxs_bus_fill_stats(bus, vals);
	rxs_put_be32(q, info.mode);
	rxs_put_be32(q + 4, (uint32_t)info.delivery);
	rxs_put_be32(q + 8, info.max_subscribers);
	rxs_put_be32(q + 12, info.mtu);
	rxs_put_be32(q + 16, info.pool);
	rxs_put_be32(q + 20, info.queue_len);
	rxs_put_be32(q + 24, info.clients);
	rxs_put_be32(q + 28, info.senders);
	rxs_put_be32(q + 32, info.receivers);
	rxs_put_be32(q + 36, info.pool_used);
	memcpy(q + 40, info.policy, 32);
	q += 72;
	rxs_put_be32(q, RXS_BS__NR);
	q += 4;
	for (i = 0; i < RXS_BS__NR; i++, q += 8) {
		rxs_put_be32(q, (uint32_t)(vals[i] >> 32));
		rxs_put_be32(q + 4, (uint32_t)vals[i]);
	}
	client_reply(bus, node, tag, 0, p, sizeof(p));
}

static int client_request(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			  const struct rxs_evf *f)
{
	struct rxsvc_cb_id id = { f->a, f->b };
	uint8_t frame[16];
	unsigned int need = 0;
	int ret = 0;

	switch (f->type) {
	case RXS_EVF_SUB:
	case RXS_EVF_UNSUB:
	case RXS_EVF_WANTID:
		need = RXSVC_BUS_R;
		break;
	case RXS_EVF_SETMAX:
		need = RXSVC_BUS_X;
		break;
	default:
		break;
	}
	if ((node->rights & need) != need) {
		RXS_BUS_STAT_INC(bus, eacces);
		client_reply(bus, node, f->tag, -EACCES, NULL, 0);
		return 0;
	}
	switch (f->type) {
	case RXS_EVF_SUB:
		ret = node->link ? rxs_link_sub(bus, node, f) :
				   rxs_node_join(bus, node, f->a);
		break;
	case RXS_EVF_UNSUB:
		ret = node->link ? rxs_link_sub(bus, node, f) :
				   rxs_node_leave(bus, node, f->a);
		break;
	case RXS_EVF_WANTID:
		ret = bus->policy->setopt ?
			      bus->policy->setopt(bus->policy_priv, node,
						  node->policy_priv,
						  RXSVC_BUS_OPT_ID_ADD, &id,
						  sizeof(id)) :
			      -ENOPROTOOPT;
		break;
	case RXS_EVF_WATCH:
		node->watching = f->a != 0;
		client_reply(bus, node, f->tag, 0, NULL, 0);
		if (node->watching) {
			rxs_evf_put_pair(frame, RXS_EVF_NOTICE, bus->senders,
					 bus->receivers);
			rxs_client_ctl(bus, node, frame, sizeof(frame));
		}
		return 0;
	case RXS_EVF_PING:
		break;
	case RXS_EVF_INFO:
		client_info(bus, node, f->tag);
		return 0;
	case RXS_EVF_SETMAX:
		if (!f->a || f->a > 65536) {
			ret = -EINVAL;
			break;
		}
		bus->max_subscribers = f->a;
		if (bus->policy->bus_resized)
			bus->policy->bus_resized(bus->policy_priv, f->a);
		break;
	default:
		return -EPROTO;
	}
	client_reply(bus, node, f->tag, ret, NULL, 0);
	return 0;
}

static int client_msg(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		      const struct rxs_evf *f)
{
	/* malloc()ed: suitably aligned for any type. */
	struct rxsvc_cn_msg *msg = (struct rxsvc_cn_msg *)(void *)bus->rx_scratch;
	struct rxsvc_cn_src src = node->cred;
	unsigned int hops = f->hops; /* not uint8_t: 255 + 1 must not wrap */
	uint8_t frame[16];
	int ret;

	if (!(node->rights & RXSVC_BUS_W)) {
		RXS_BUS_STAT_INC(bus, eacces);
		ret = -EACCES;
		goto refuse;
	}
	if (f->dlen > bus->mtu) {
		RXS_BUS_STAT_INC(bus, emsgsize);
		ret = -EMSGSIZE;
		goto refuse;
	}
	if (node->link) {
		/* One more crossing; the remote sender's credentials stay. */
		hops++;
		src.pid = f->src.pid;
		src.uid = f->src.uid;
		src.gid = f->src.gid;
		RXS_BUS_STAT_INC(bus, link_in);
	}
	if (hops >= RXS_EVF_MAX_HOPS) {
		RXS_BUS_STAT_INC(bus, hop_drops);
		return 0;
	}
	msg->id = f->id;
	msg->seq = f->seq;
	msg->ack = f->ack;
	msg->len = (uint16_t)f->dlen;
	msg->flags = f->mflags;
	memcpy(msg->data, f->data, f->dlen);
	ret = rxs_bus_send_locked(bus, msg, f->group, node, &src,
				  (uint8_t)hops, RXS_SEND_REMOTE);
	if (ret == RXSVC_STRP_RETRY) {
		node->stalled = true;
		node->stall_next = bus->stalled;
		bus->stalled = node;
		event_del(node->rev);
		return RXSVC_STRP_RETRY;
	}
	if (ret >= 0)
		return 0;
refuse:
	/* A linked bus gets no verdicts: it has no sender to give them to. */
	if (node->link)
		return 0;
	rxs_evf_put_hdr(frame, 16, RXS_EVF_ERROR, 0);
	rxs_put_be32(frame + 8, f->seq);
	rxs_put_be32(frame + 12, (uint32_t)ret);
	rxs_client_ctl(bus, node, frame, sizeof(frame));
	return 0;
}

static long client_parse(struct rxsvc_strp *strp, const uint8_t *data,
			 size_t len)
{
	struct rxsvc_bus_node *node = rxsvc_strp_arg(strp);
	long ret;

	/* A linked bus may have a larger MTU: refuse the message, not it. */
	ret = rxs_evf_frame_len(data, len,
				node->link ? RXS_EVF_MAX_FRAME :
					     RXS_EVF_MSG_HDR + node->bus->mtu);
	if (ret == -EPROTO)
		RXS_BUS_STAT_INC(node->bus, proto_errors);
	return ret;
}

/*
 * After each read: does the parser now hold part of a frame?  Counted
 * in bus->npartial, which keeps the assembly tick running.  A paused
 * parser holds whole frames and is not timed; unpausing comes back here.
 */
static void client_read_done(struct rxsvc_strp *strp, int err)
{
	struct rxsvc_bus_node *node = rxsvc_strp_arg(strp);
	bool partial = !err && !rxsvc_strp_paused(strp) &&
		       rxsvc_strp_pending(strp) > 0;

	if (partial == node->partial)
		return;
	node->partial = partial;
	if (partial)
		node->bus->npartial++;
	else
		node->bus->npartial--;
}

static int client_rcv(struct rxsvc_strp *strp, const uint8_t *data,
		      size_t len)
{
	struct rxsvc_bus_node *node = rxsvc_strp_arg(strp);
	struct rxsvc_bus *bus = node->bus;
	struct rxs_evf f;

	if (node->doomed || node->closing)
		return 0;
	if (rxs_evf_decode(data, len, &f) < 0)
		goto bad;
	if (f.type == RXS_EVF_HELLO) {
		if (node->joined)
			goto bad;
		client_hello(bus, node, &f);
		return 0;
	}
	if (!node->joined)
		goto bad;
	if (f.type == RXS_EVF_MSG)
		return client_msg(bus, node, &f);
	if (node->link && (f.type == RXS_EVF_REPLY || f.type == RXS_EVF_ERROR ||
			   f.type == RXS_EVF_MISSED ||
			   f.type == RXS_EVF_NOTICE)) {
		if (rxs_link_frame(bus, node, &f) < 0)
			goto bad;
		return 0;
	}
	if (client_request(bus, node, &f) < 0)
		goto bad;
	return 0;
bad:
	RXS_BUS_STAT_INC(bus, proto_errors);
	return -EPROTO;
}

/* ---------------------------------------------------------------- */
/* Event handlers                                                    */
/* ---------------------------------------------------------------- */

static void client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_bus_node *node = arg;
	struct rxsvc_bus *bus = node->bus;
	struct rxsvc_bus *outer;
	long n;

	pthread_mutex_lock(&bus->lock);
	outer = loop_enter(bus);
	n = rxsvc_strp_recv(node->strp, node->fd);
	if (n == 0 || (n < 0 && n != -EAGAIN && n != -EINTR)) {
		/* -EPROTO: counted where the frame was refused. */
		if (n < 0 && n != -ECONNRESET && n != -EPROTO)
			RXS_BUS_STAT_INC(bus, proto_errors);
		if (n == -ECONNRESET || node->qhead != node->qtail)
			RXS_BUS_STAT_INC(bus, crashes);
		client_doom(bus, node);
	}
	bus_run_pending(bus);
	loop_leave(outer);
	pthread_mutex_unlock(&bus->lock);
}

static void client_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_bus_node *node = arg;
	struct rxsvc_bus *bus = node->bus;
	struct rxsvc_bus *outer;

	pthread_mutex_lock(&bus->lock);
	outer = loop_enter(bus);
	node->wait_write = false;
	client_flush(bus, node);
	bus_run_pending(bus);
	loop_leave(outer);
	pthread_mutex_unlock(&bus->lock);
}

static uint32_t roundup_pow2(uint32_t v)
{
	uint32_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

static int client_new(struct rxsvc_bus *bus, int fd, bool stream)
{
	struct rxs_client_init ci = { .stream = stream };
	struct rxsvc_bus_node *node;
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	ci.cred.pid = uc.pid;
	ci.cred.uid = uc.uid;
	ci.cred.gid = uc.gid;
	ci.rights = client_rights(bus, fd, &uc);
	return rxs_client_new(bus, fd, &ci, &node);
}

int rxs_client_new(struct rxsvc_bus *bus, int fd,
		   const struct rxs_client_init *ci,
		   struct rxsvc_bus_node **nodep)
{
	struct rxsvc_strp_params sp = RXSVC_STRP_PARAMS_INIT;
	struct rxsvc_bus_node *node;
	uint32_t qn;
	int ret;

	node = calloc(1, sizeof(*node));
	if (!node)
		return -ENOMEM;
	node->kind = RXS_NODE_CLIENT;
	node->bus = bus;
	node->fd = fd;
	node->stream = ci->stream;
	node->link = ci->link;
	node->handle = ++bus->next_handle;
	node->rights = ci->rights;
	node->cred = ci->cred;
	node->cred.client = node->handle;
	qn = roundup_pow2(bus->delivery == RXSVC_BUS_LOSSLESS ?
				  bus->pool_n + 1 :
				  bus->queue_len);
	ret = -ENOMEM;
	node->q = calloc(qn, sizeof(*node->q));
	if (!node->q)
		goto err_free;
	node->qmask = qn - 1;
	sp.cb.parse_msg = client_parse;
	sp.cb.rcv_msg = client_rcv;
	sp.cb.read_done = client_read_done;
	sp.arg = node;
	sp.max_msg = ci->link ? RXS_EVF_MAX_FRAME : RXS_EVF_MSG_HDR + bus->mtu;
	sp.timeout_ms = bus->assembly_ms;
	ret = rxsvc_strp_new(&sp, &node->strp);
	if (ret < 0)
		goto err_q;
	ret = -ENOMEM;
	node->rev = event_new(bus->base, fd, EV_READ | EV_PERSIST,
			      client_read_cb, node);
	node->wev = event_new(bus->base, fd, EV_WRITE, client_write_cb, node);
	if (!node->rev || !node->wev || event_add(node->rev, NULL) < 0)
		goto err_ev;
	node->next = bus->nodes;
	bus->nodes = node;
	*nodep = node;
	return 0;

err_ev:
	if (node->rev)
		event_free(node->rev);
	if (node->wev)
		event_free(node->wev);
	rxsvc_strp_free(node->strp);
err_q:
	free(node->q);
err_free:
	free(node);
	return ret;
}

static void bus_accept(struct rxsvc_bus *bus, int lfd, bool stream)
{
	struct rxsvc_bus_node *n;
	unsigned int conns = 0;
	int i;

	for (n = bus->nodes; n; n = n->next)
		if (n->kind == RXS_NODE_CLIENT)
			conns++;
	for (i = 0; i < 16; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		/* Joined or not, connections are bounded too. */
		if (conns >= bus->max_subscribers + 16 ||
		    client_new(bus, fd, stream) < 0) {
			RXS_BUS_STAT_INC(bus, refused_full);
			close(fd);
			continue;
		}
		conns++;
	}
}

static void accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_bus *bus = arg;

	pthread_mutex_lock(&bus->lock);
	bus_accept(bus, (int)fd, (int)fd == bus->slfd);
	bus_run_pending(bus);
	pthread_mutex_unlock(&bus->lock);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_bus *bus = arg;
	struct rxsvc_bus *outer;
	uint64_t v;

	if (read(bus->wakefd, &v, sizeof(v)) < 0)
		v = 0;
	pthread_mutex_lock(&bus->lock);
	outer = loop_enter(bus);
	bus->wake_pending = false;
	if (bus->stopping && bus->own_base) {
		event_base_loopbreak(bus->base);
	} else {
		rxs_link_run(bus);
		bus_run_pending(bus);
	}
	loop_leave(outer);
	pthread_mutex_unlock(&bus->lock);
}

/*
 * The tick: assembly timeouts and link retries.  It runs only while it
 * has work (rxs_server_tick_update): an idle bus does not wake.
 */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_bus *bus = arg;
	struct rxsvc_bus_node *n;
	struct rxsvc_bus *outer;

	pthread_mutex_lock(&bus->lock);
	outer = loop_enter(bus);
	for (n = bus->nodes; n; n = n->next)
		if (n->kind == RXS_NODE_CLIENT && !n->doomed &&
		    rxsvc_strp_check_timeout(n->strp) < 0)
			client_doom(bus, n);
	rxs_link_run(bus);
	bus_run_pending(bus);
	loop_leave(outer);
	pthread_mutex_unlock(&bus->lock);
}

void rxs_server_tick_update(struct rxsvc_bus *bus)
{
	const struct timeval tick = { 0, TICK_MS * 1000 };
	bool want = !bus->stopping && (bus->npartial || rxs_link_waiting(bus));

	if (!bus->tickev || want == bus->tick_armed)
		return;
	if (want && event_add(bus->tickev, &tick) < 0)
		return; /* the next handler tries again */
	if (!want)
		event_del(bus->tickev);
	bus->tick_armed = want;
}

/* ---------------------------------------------------------------- */
/* Open and close                                                    */
/* ---------------------------------------------------------------- */

/* Connectable by every class that holds any right (design.md). */
static mode_t socket_file_mode(unsigned int mode)
{
	mode_t m = 0;

	if (mode & 0700)
		m |= 0600;
	if (mode & 0070)
		m |= 0060;
	if (mode & 0007)
		m |= 0006;
	return m;
}

static int listen_unix(struct rxsvc_bus *bus, const char *path, int type,
		       const struct rxsvc_bus_params *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;
	int probe;
	int ret;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* A live bus answers: leave it alone; a stale file goes. */
	probe = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	ret = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
	close(probe);
	if (ret == 0)
		return -EADDRINUSE;
	if (errno == ECONNREFUSED || errno == EPROTOTYPE)
		unlink(path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto err;
	if (chmod(path, socket_file_mode(bus->mode)) < 0)
		goto err_unlink;
	if (p->owner_set && chown(path, p->uid, p->gid) < 0)
		goto err_unlink;
	if (listen(fd, 128) < 0)
		goto err_unlink;
	return fd;

err_unlink:
	ret = -errno;
	unlink(path);
	close(fd);
	return ret;
err:
	ret = -errno;
	close(fd);
	return ret;
}

static void *bus_thread(void *arg)
{
	struct rxsvc_bus *bus = arg;

	event_base_loop(bus->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static struct event *add_event(struct rxsvc_bus *bus, int fd, short what,
			       event_callback_fn fn, const struct timeval *tv)
{
	struct event *ev = event_new(bus->base, fd, what, fn, bus);

	if (ev && event_add(ev, tv) < 0) {
		event_free(ev);
		ev = NULL;
	}
	return ev;
}

int rxs_server_open(struct rxsvc_bus *bus, const struct rxsvc_bus_params *p)
{
	int ret;

	bus->path = strdup(p->path);
	if (!bus->path || (p->stream_path &&
			   !(bus->stream_path = strdup(p->stream_path)))) {
		ret = -ENOMEM;
		goto err;
	}
	ret = bus->lfd = listen_unix(bus, p->path, SOCK_SEQPACKET, p);
	if (ret < 0)
		goto err;
	if (p->stream_path) {
		ret = bus->slfd = listen_unix(bus, p->stream_path, SOCK_STREAM,
					      p);
		if (ret < 0)
			goto err;
	}
	bus->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (bus->wakefd < 0) {
		ret = -errno;
		goto err;
	}
	bus->base = p->base;
	if (!bus->base) {
		bus->base = event_base_new();
		bus->own_base = true;
	}
	ret = -ENOMEM;
	if (!bus->base)
		goto err;
	bus->lev = add_event(bus, bus->lfd, EV_READ | EV_PERSIST, accept_cb,
			     NULL);
	bus->wakeev = add_event(bus, bus->wakefd, EV_READ | EV_PERSIST,
				wake_cb, NULL);
	/* Created idle: armed while a frame is partial or a link waits. */
	bus->tickev = event_new(bus->base, -1, EV_PERSIST, tick_cb, bus);
	if (!bus->lev || !bus->wakeev || !bus->tickev)
		goto err;
	if (bus->slfd >= 0) {
		bus->slev = add_event(bus, bus->slfd, EV_READ | EV_PERSIST,
				      accept_cb, NULL);
		if (!bus->slev)
			goto err;
	}
	if (p->link_listen) {
		ret = rxs_link_listen(bus, p->link_listen);
		if (ret < 0)
			goto err;
	}
	if (bus->own_base) {
		ret = -pthread_create(&bus->thread, NULL, bus_thread, bus);
		if (ret < 0)
			goto err;
		bus->thread_started = true;
	}
	return 0;

err:
	rxs_server_close(bus);
	return ret;
}

void rxs_server_close(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_node *n;
	uint64_t one = 1;

	if (bus->thread_started) {
		if (write(bus->wakefd, &one, sizeof(one)) < 0)
			event_base_loopbreak(bus->base);
		pthread_join(bus->thread, NULL);
		bus->thread_started = false;
	}
	pthread_mutex_lock(&bus->lock);
	for (;;) {
		for (n = bus->nodes; n; n = n->next)
			if (n->kind == RXS_NODE_CLIENT)
				break;
		if (!n)
			break;
		client_destroy(bus, n);
	}
	rxs_link_close(bus);
	pthread_mutex_unlock(&bus->lock);
	if (bus->lev)
		event_free(bus->lev);
	if (bus->slev)
		event_free(bus->slev);
	if (bus->wakeev)
		event_free(bus->wakeev);
	if (bus->tickev)
		event_free(bus->tickev);
	bus->lev = bus->slev = bus->wakeev = bus->tickev = NULL;
	if (bus->own_base && bus->base)
		event_base_free(bus->base);
	bus->base = NULL;
	if (bus->lfd >= 0) {
		close(bus->lfd);
		unlink(bus->path);
	}
	if (bus->slfd >= 0) {
		close(bus->slfd);
		unlink(bus->stream_path);
	}
	if (bus->wakefd >= 0)
		close(bus->wakefd);
	bus->lfd = bus->slfd = bus->wakefd = -1;
	free(bus->path);
	free(bus->stream_path);
	bus->path = bus->stream_path = NULL;
}
