/* SPDX-License-Identifier: MIT */
/*
 * Links: two buses joined over TCP (design.md "Events": stream links
 * between hosts), on the bus thread.
 *
 * Design:
 * - A link is a client of each bus it joins (a node with `link` set), so
 *   queues, batching, the lossy and lossless policies, the stream parser
 *   with its size and assembly-time limits and its counters all apply as
 *   they do to a local stream client.  TCP carries no SO_PEERCRED: a
 *   linked bus has the rights the bus was given for links
 *   (p->link_rights), checked at each request as for any client.
 * - Both ends speak first: each sends HELLO (with RXS_EVF_HELLO_LINK) as
 *   soon as the connection is up and answers the other's HELLO as a bus
 *   answers a client.  A refused HELLO (no right, bus full) closes the
 *   link; the connecting end tries again later.
 * - Interest, as XPUB forwards subscriptions: each bus tells a link, with
 *   SUB and UNSUB, the groups it has a member in other than that link,
 *   and only when the link may send to it (w).  The other bus makes the
 *   link a member of those groups, so routing, -ESRCH and the policies
 *   need nothing new, and a message crosses a link only when someone
 *   past it listens.  A link is never routed what it sent (the policies
 *   skip the sender).
 * - Loops: a frame carries the links it has crossed; receiving it over a
 *   link adds one and a bus drops it (hop_drops) at RXS_EVF_MAX_HOPS, so
 *   copies going round a cycle of links die out.
 * - Interest round a cycle: a SUB carries a distance (its b), the links
 *   from the advertising bus to the nearest real member: 0 for a member
 *   of its own, else one more than the nearest a link told it of, the
 *   link we advertise to left out (split horizon, as in RIP).  A bus
 *   advertises a group only while a message could still reach that
 *   member within the hop limit, and says SUB again when the distance
 *   changes.  When the last real member of a cycle leaves, the buses on
 *   it tell each other ever larger distances (counting to infinity, as
 *   distance-vector routing does) until they pass the limit and UNSUB:
 *   interest dies out in at most RXS_EVF_MAX_HOPS rounds, as copies do.
 *   A peer that sends no distance (b = 0) is taken at its word: a
 *   member of its own.
 * - The connecting end resolves the address once (in the caller's
 *   thread: no DNS on the bus thread), connects without blocking, and
 *   reconnects after 1 s when the link drops, doubling up to 30 s while
 *   it keeps failing.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "events/internal.h"

#define LINK_RETRY_MS	  1000
#define LINK_RETRY_MAX_MS 30000
#define LINK_TAG_HELLO	  1 /* REPLY tags we look at; SUBs use 0 */
#define LINK_DIST_NONE	  UINT32_MAX

/* "HOST:PORT" or "[V6]:PORT"; an empty host is the wildcard (passive). */
static int link_resolve(const char *addr, bool passive,
			struct sockaddr_storage *sa, socklen_t *salen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	const char *host = addr;
	const char *port;
	char buf[256];
	size_t hlen;
	int ret;

	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = addr + 1;
		hlen = (size_t)(end - host);
		port = end + 2;
	} else {
		port = strrchr(addr, ':');
		if (!port)
			return -EINVAL;
		hlen = (size_t)(port - addr);
		port++;
	}
	if (hlen >= sizeof(buf) || !*port)
		return -EINVAL;
	memcpy(buf, host, hlen);
	buf[hlen] = '\0';
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	ret = getaddrinfo(hlen ? buf : NULL, port, &hints, &res);
	if (ret)
		return ret == EAI_MEMORY ? -ENOMEM : -EINVAL;
	if (res->ai_addrlen > sizeof(*sa)) {
		freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(sa, res->ai_addr, res->ai_addrlen);
	*salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static unsigned int link_count(struct rxsvc_bus *bus)
{
	struct rxsvc_bus_node *n;
	unsigned int k = 0;

	for (n = bus->nodes; n; n = n->next)
		if (n->link)
			k++;
	return k;
}

/* Make @fd (connected) a link node and say HELLO.  Consumes @fd on 0. */
static int link_start(struct rxsvc_bus *bus, int fd, struct rxs_link *l)
{
	struct rxs_client_init ci = { .stream = true, .link = true };
	struct rxsvc_bus_node *node;
	uint8_t hello[RXS_EVF_REQ_LEN];
	int one = 1;
	int ret;

	/* Latency over segment count: the bus batches writes itself. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ci.rights = bus->link_rights;
	ci.cred.uid = (uid_t)-1; /* unknown; each message says its own */
	ci.cred.gid = (gid_t)-1;
	ret = rxs_client_new(bus, fd, &ci, &node);
	if (ret < 0)
		return ret;
	node->link_out = l;
	if (l)
		l->node = node;
	rxs_evf_put_req(hello, RXS_EVF_HELLO, LINK_TAG_HELLO, RXS_EVF_VERSION,
			RXS_EVF_HELLO_LINK | RXSVC_EVC_SENDER);
	rxs_client_ctl(bus, node, hello, sizeof(hello));
	rxs_server_wake(bus);
	return 0;
}

static void link_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct rxsvc_bus *bus = arg;
	int i;

	pthread_mutex_lock(&bus->lock);
	for (i = 0; i < 16; i++) {
		int fd = accept4((int)lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			break;
		/* Joined or not, link connections are bounded too. */
		if (link_count(bus) >= bus->max_subscribers ||
		    link_start(bus, fd, NULL) < 0) {
			RXS_BUS_STAT_INC(bus, refused_full);
			close(fd);
			continue;
		}
		RXS_BUS_STAT_INC(bus, link_accepts);
	}
	pthread_mutex_unlock(&bus->lock);
}

int rxs_link_listen(struct rxsvc_bus *bus, const char *addr)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	int one = 1;
	int fd;
	int ret;

	ret = link_resolve(addr, true, &sa, &salen);
	if (ret < 0)
		return ret;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, salen) < 0 || listen(fd, 16) < 0)
		goto err;
	bus->tlfd = fd;
	bus->tlev = event_new(bus->base, fd, EV_READ | EV_PERSIST,
			      link_accept_cb, bus);
	if (!bus->tlev || event_add(bus->tlev, NULL) < 0)
		return -ENOMEM; /* rxs_link_close() frees both */
	return 0;

err:
	ret = -errno;
	close(fd);
	return ret;
}

static void link_backoff(struct rxs_link *l)
{
	l->next_try = rxs_now_ms() + l->backoff_ms;
	l->backoff_ms *= 2;
	if (l->backoff_ms > LINK_RETRY_MAX_MS)
		l->backoff_ms = LINK_RETRY_MAX_MS;
}

static void link_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxs_link *l = arg;
	struct rxsvc_bus *bus = l->bus;
	socklen_t len = sizeof(int);
	int err = 0;

	pthread_mutex_lock(&bus->lock);
	event_free(l->cev);
	l->cev = NULL;
	l->fd = -1;
	if (getsockopt((int)fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err || bus->stopping || link_start(bus, (int)fd, l) < 0) {
		close((int)fd);
		RXS_BUS_STAT_INC(bus, link_fails);
		link_backoff(l);
	} else {
		RXS_BUS_STAT_INC(bus, link_connects);
	}
	rxs_server_tick_update(bus); /* a failed link waits for its retry */
	pthread_mutex_unlock(&bus->lock);
}

static void link_try(struct rxsvc_bus *bus, struct rxs_link *l)
{
	int fd = socket(l->sa.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&l->sa, l->salen) < 0 &&
	    errno != EINPROGRESS)
		goto fail_close;
	/* Writable once connected or failed: SO_ERROR tells which. */
	l->cev = event_new(bus->base, fd, EV_WRITE, link_connect_cb, l);
	if (!l->cev)
		goto fail_close;
	if (event_add(l->cev, NULL) < 0) {
		event_free(l->cev);
		l->cev = NULL;
		goto fail_close;
	}
	l->fd = fd;
	return;

fail_close:
	close(fd);
fail:
	RXS_BUS_STAT_INC(bus, link_fails);
	link_backoff(l);
}

void rxs_link_run(struct rxsvc_bus *bus)
{
	struct rxs_link *l;
	uint64_t now;

	if (!bus->links || bus->stopping)
		return;
	now = rxs_now_ms();
	for (l = bus->links; l; l = l->next)
		if (!l->node && l->fd < 0 && now >= l->next_try)
			link_try(bus, l);
}

bool rxs_link_waiting(const struct rxsvc_bus *bus)
{
	const struct rxs_link *l;

	for (l = bus->links; l; l = l->next)
		if (!l->node && l->fd < 0)
			return true;
	return false;
}

void rxs_link_close(struct rxsvc_bus *bus)
{
	while (bus->links) {
		struct rxs_link *l = bus->links;

		bus->links = l->next;
		if (l->cev)
			event_free(l->cev);
		if (l->fd >= 0)
			close(l->fd);
		free(l);
	}
	if (bus->tlev)
		event_free(bus->tlev);
	bus->tlev = NULL;
	if (bus->tlfd >= 0)
		close(bus->tlfd);
	bus->tlfd = -1;
}

static struct rxs_link_adv *adv_find(struct rxs_link_adv *v, unsigned int n,
				     uint32_t group)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (v[i].group == group)
			return &v[i];
	return NULL;
}

/* Record @group at @dist in the array @v (@n used, @cap room). */
static int adv_set(struct rxs_link_adv **v, unsigned int *n, unsigned int *cap,
		   uint32_t group, uint32_t dist)
{
	struct rxs_link_adv *a = adv_find(*v, *n, group);

	if (!a) {
		if (*n == *cap) {
			unsigned int ncap = *cap ? 2 * *cap : 8;
			void *p = realloc(*v, ncap * sizeof(**v));

			if (!p)
				return -ENOMEM;
			*v = p;
			*cap = ncap;
		}
		a = &(*v)[(*n)++];
		a->group = group;
	}
	a->dist = dist;
	return 0;
}

static void adv_del(struct rxs_link_adv *v, unsigned int *n, uint32_t group)
{
	struct rxs_link_adv *a = adv_find(v, *n, group);

	if (a)
		*a = v[--*n];
}

/*
 * Links from here to the nearest member of @g other than @skip: 0 for a
 * member of ours, LINK_DIST_NONE if there is none.
 */
static uint32_t link_distance(const struct rxs_group *g,
			      const struct rxsvc_bus_node *skip)
{
	uint32_t best = LINK_DIST_NONE;
	unsigned int i;

	for (i = 0; g && i < g->n; i++) {
		const struct rxsvc_bus_node *m = g->members[i];
		const struct rxs_link_adv *h;

		if (m == skip)
			continue;
		if (!m->link)
			return 0;
		h = adv_find(m->heard, m->nheard, g->group);
		if (h && h->dist + 1 < best)
			best = h->dist + 1;
	}
	return best;
}

/* Tell @n whether we want @group (@g: its members here, or NULL). */
static void link_advertise(struct rxsvc_bus *bus, struct rxsvc_bus_node *n,
			   uint32_t group, const struct rxs_group *g)
{
	uint8_t frame[RXS_EVF_REQ_LEN];
	const struct rxs_link_adv *had;
	uint32_t dist;
	bool want;

	if (!n->joined || n->doomed || n->closing || n->fd < 0 ||
	    !(n->rights & RXSVC_BUS_W))
		return;
	/*
	 * A message sent past @n crosses dist + 1 links to the member;
	 * past the hop limit it would be dropped on the way: no interest.
	 */
	dist = link_distance(g, n);
	want = dist < RXS_EVF_MAX_HOPS - 1;
	had = adv_find(n->adv, n->nadv, group);
	if (want ? had && had->dist == dist : !had)
		return;
	if (!want) {
		adv_del(n->adv, &n->nadv, group);
	} else if (adv_set(&n->adv, &n->nadv, &n->capadv, group, dist) < 0) {
		rxs_client_doom(bus, n);
		return;
	}
	rxs_evf_put_req(frame, want ? RXS_EVF_SUB : RXS_EVF_UNSUB, 0, group,
			want ? dist : 0);
	if (rxs_client_ctl(bus, n, frame, sizeof(frame)))
		RXS_BUS_STAT_INC(bus, link_subs);
}

void rxs_link_interest(struct rxsvc_bus *bus, uint32_t group)
{
	const struct rxs_group *g;
	struct rxsvc_bus_node *n;
	bool any = false;

	if (bus->stopping || (bus->tlfd < 0 && !bus->links))
		return;
	g = rxs_group_find(bus, group);
	for (n = bus->nodes; n; n = n->next) {
		if (!n->link)
			continue;
		link_advertise(bus, n, group, g);
		any = true;
	}
	if (any)
		rxs_server_kick(bus);
}

void rxs_link_joined(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	unsigned int i;

	for (i = 0; i < bus->ngroups; i++)
		link_advertise(bus, node, bus->groups[i].group,
			       &bus->groups[i]);
}

int rxs_link_sub(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		 const struct rxs_evf *f)
{
	uint32_t group = f->a;
	uint32_t dist = f->b;
	bool had;
	int ret;

	if (f->type == RXS_EVF_UNSUB) {
		adv_del(node->heard, &node->nheard, group);
		return rxs_node_leave(bus, node, group);
	}
	if (group == RXSVC_EV_GROUP_NONE)
		return -EINVAL;
	/* Past the limit is as good as at it; keeps dist + 1 from wrapping. */
	if (dist > RXS_EVF_MAX_HOPS)
		dist = RXS_EVF_MAX_HOPS;
	had = adv_find(node->heard, node->nheard, group) != NULL;
	ret = adv_set(&node->heard, &node->nheard, &node->capheard, group,
		      dist);
	if (ret < 0)
		return ret;
	ret = rxs_node_join(bus, node, group);
	if (ret < 0) {
		adv_del(node->heard, &node->nheard, group);
		return ret;
	}
	/* A new member told the links already; a new distance did not. */
	if (had)
		rxs_link_interest(bus, group);
	return 0;
}

int rxs_link_frame(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		   const struct rxs_evf *f)
{
	switch (f->type) {
	case RXS_EVF_REPLY:
		if (f->status >= 0) {
			if (f->tag == LINK_TAG_HELLO && node->link_out)
				node->link_out->backoff_ms = LINK_RETRY_MS;
			return 0;
		}
		/* Refused: our HELLO closes the link, a SUB is counted. */
		RXS_BUS_STAT_INC(bus, link_refused);
		if (f->tag == LINK_TAG_HELLO)
			rxs_client_doom(bus, node);
		return 0;
	case RXS_EVF_ERROR:
	case RXS_EVF_MISSED:
	case RXS_EVF_NOTICE:
		/* The other bus counts its own drops; nothing to do here. */
		return 0;
	default:
		return -EPROTO;
	}
}

void rxs_link_gone(struct rxsvc_bus *bus, struct rxsvc_bus_node *node)
{
	struct rxs_link *l = node->link_out;

	free(node->adv);
	node->adv = NULL;
	node->nadv = node->capadv = 0;
	free(node->heard);
	node->heard = NULL;
	node->nheard = node->capheard = 0;
	if (!l)
		return;
	l->node = NULL;
	node->link_out = NULL;
	link_backoff(l);
}

RXSVC_API int rxsvc_bus_link_connect(struct rxsvc_bus *bus, const char *addr)
{
	struct rxs_link *l;
	int ret;

	if (!bus || !addr || bus->wakefd < 0)
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	ret = link_resolve(addr, false, &l->sa, &l->salen);
	if (ret < 0) {
		free(l);
		return ret;
	}
	l->bus = bus;
	l->fd = -1;
	l->backoff_ms = LINK_RETRY_MS;
	pthread_mutex_lock(&bus->lock);
	if (bus->stopping) {
		pthread_mutex_unlock(&bus->lock);
		free(l);
		return -ESHUTDOWN;
	}
	l->next = bus->links;
	bus->links = l;
	rxs_server_wake(bus);
	pthread_mutex_unlock(&bus->lock);
	return 0;
}

RXSVC_API int rxsvc_bus_link_port(struct rxsvc_bus *bus)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (!bus || bus->tlfd < 0)
		return -ENOENT;
	if (getsockname(bus->tlfd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)(void *)&sa)->sin_port);
	if (sa.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)(void *)&sa)->sin6_port);
	return -ENOENT;
}
