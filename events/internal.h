/* SPDX-License-Identifier: MIT */
/*
 * Internal declarations of the event bus, grouped by the file that
 * defines them (the ar-internal.h habit), so this header is also the map.
 *
 * Lock order: bus->lock is the only lock; callbacks and listeners run
 * with it dropped.
 */
#ifndef RXS_EVENTS_INTERNAL_H
#define RXS_EVENTS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <rxsvc/events.h>
#include "transport/bytes.h"

struct event;
struct event_base;

/* ---------------------------------------------------------------- */
/* frame.c: the bus <-> client wire                                  */
/* ---------------------------------------------------------------- */

/*
 * Every frame, on SOCK_SEQPACKET (many per record, never split across
 * records) and SOCK_STREAM alike, big-endian:
 *
 *   0 u32 len    whole frame, header included (>= 8)
 *   4 u8  type   RXS_EVF_*
 *   5 u8  hops   links crossed (a link drops it at RXS_EVF_MAX_HOPS)
 *   6 u16 flags  0
 *
 * MSG body (40 bytes, then data): u32 group, src, pid, uid, gid, idx,
 * val, seq, ack, u16 len (= frame len - 48), u16 flags.
 * Requests (HELLO, SUB, UNSUB, WANTID, WATCH, PING, INFO, SETMAX): u32
 * tag, a, b.  REPLY: u32 tag, i32 status, payload.  MISSED: u32 count.
 * NOTICE: u32 senders, receivers.  ERROR: u32 seq, i32 status.
 */
#define RXS_EVF_HDR       8
#define RXS_EVF_MSG_HDR   48
#define RXS_EVF_REQ_LEN   20
#define RXS_EVF_MAX_HOPS  8
#define RXS_EVF_VERSION   1
#define RXS_EVF_MAX_MTU   65000u
#define RXS_EVF_MAX_FRAME (RXS_EVF_MAX_MTU + RXS_EVF_MSG_HDR)
#define RXS_EVF_BATCH     (64 * 1024) /* bytes per write, at most */
#define RXS_EVF_HELLO_LINK 0x100      /* HELLO b: from a linked bus */

enum rxs_evf_type {
	RXS_EVF_HELLO = 1,
	RXS_EVF_REPLY,
	RXS_EVF_SUB,
	RXS_EVF_UNSUB,
	RXS_EVF_WANTID,
	RXS_EVF_WATCH,
	RXS_EVF_PING,
	RXS_EVF_INFO,
	RXS_EVF_SETMAX,
	RXS_EVF_MSG,
	RXS_EVF_MISSED,
	RXS_EVF_NOTICE,
	RXS_EVF_ERROR,
	RXS_EVF__NR
};

/* A decoded frame; data points into the decoded buffer. */
struct rxs_evf {
	uint8_t type;
	uint8_t hops;
	uint16_t flags;
	uint32_t tag;
	uint32_t a;
	uint32_t b;
	int32_t status;
	uint32_t group;
	struct rxsvc_cn_src src;
	struct rxsvc_cb_id id;
	uint32_t seq;
	uint32_t ack;
	uint16_t mflags;
	const uint8_t *data;
	size_t dlen;
};

/*
 * Length of the frame at @p (@avail bytes there): > 0, 0 (need more),
 * -EPROTO (length below a header) or -EMSGSIZE (above @max).
 */
long rxs_evf_frame_len(const uint8_t *p, size_t avail, size_t max);
/* Decode one whole frame of @len bytes; 0 or -EPROTO. */
int rxs_evf_decode(const uint8_t *p, size_t len, struct rxs_evf *f);
/* Encoders return the frame length; @buf must have room. */
size_t rxs_evf_put_hdr(uint8_t *buf, size_t len, uint8_t type, uint8_t hops);
size_t rxs_evf_put_msg(uint8_t *buf, const struct rxsvc_cn_msg *msg,
		       uint32_t group, const struct rxsvc_cn_src *src,
		       uint8_t hops);
size_t rxs_evf_put_req(uint8_t *buf, uint8_t type, uint32_t tag, uint32_t a,
		       uint32_t b);
size_t rxs_evf_put_pair(uint8_t *buf, uint8_t type, uint32_t a, uint32_t b);
size_t rxs_evf_put_missed(uint8_t *buf, uint32_t count);
/* REPLY header; the caller appends @plen payload bytes after it. */
size_t rxs_evf_put_reply(uint8_t *buf, uint32_t tag, int32_t status,
			 size_t plen);

/* ---------------------------------------------------------------- */
/* strparser.c                                                       */
/* ---------------------------------------------------------------- */

uint64_t rxs_now_ms(void);

/* ---------------------------------------------------------------- */
/* bus.c: the bus object and the connector core                      */
/* ---------------------------------------------------------------- */

#define RXS_BUS_STATS(X)                                                      \
	X(msgs_local)                                                         \
	X(msgs_remote)                                                        \
	X(delivered)                                                          \
	X(callbacks)                                                          \
	X(batches)                                                            \
	X(frames_out)                                                         \
	X(drops_queue)                                                        \
	X(drops_pool)                                                         \
	X(esrch)                                                              \
	X(eacces)                                                             \
	X(emsgsize)                                                           \
	X(eagain)                                                             \
	X(stalls)                                                             \
	X(resumes)                                                            \
	X(joins)                                                              \
	X(leaves)                                                             \
	X(crashes)                                                            \
	X(refused_full)                                                       \
	X(proto_errors)                                                       \
	X(notices)                                                            \
	X(hop_drops)                                                          \
	X(strp_msgs)                                                          \
	X(strp_bytes)                                                         \
	X(strp_aborts)                                                        \
	X(strp_pauses)                                                        \
	X(strp_oversize)                                                      \
	X(strp_timeouts)                                                      \
	X(strp_partial)                                                       \
	X(link_accepts)                                                       \
	X(link_connects)                                                      \
	X(link_fails)                                                         \
	X(link_refused)                                                       \
	X(link_in)                                                            \
	X(link_out)                                                           \
	X(link_subs)

enum rxs_bus_stat {
#define RXS_X(n) RXS_BS_##n,
	RXS_BUS_STATS(RXS_X)
#undef RXS_X
	RXS_BS__NR
};

#define RXS_BUS_STAT_INC(bus, s) ((bus)->stats[RXS_BS_##s]++)

/* A pooled message: its frame, as sent to clients, refcounted. */
struct rxs_slot {
	struct rxs_slot *next; /* free list */
	unsigned int ref;
	uint32_t len;          /* frame bytes */
	uint8_t frame[];
};

/* One entry of a client's queue: a MISSED frame, then a message. */
struct rxs_qent {
	struct rxs_slot *slot; /* NULL: the MISSED frame only */
	uint32_t missed;       /* > 0: MISSED frame before the slot */
	uint8_t mframe[12];
};

enum rxs_node_kind {
	RXS_NODE_LISTENER, /* in-process group listener */
	RXS_NODE_CLIENT,   /* another process over the socket */
};

struct rxsvc_bus_node {
	enum rxs_node_kind kind;   /* [const] */
	unsigned int handle;       /* [const] listener handle / client id */
	unsigned int ref;          /* [lock] callbacks running */
	uint64_t mark;             /* [lock] route->gen when chosen */
	bool dead;                 /* [lock] unlinked, free at ref 0 */
	void *policy_priv;         /* [lock] */
	uint32_t *groups;          /* [lock] memberships */
	unsigned int ngroups;
	unsigned int capgroups;
	struct rxsvc_bus_node *next; /* [lock] bus->nodes */
	struct rxsvc_bus *bus;
	/* listener */
	rxsvc_cn_callback_t cb;
	void *arg;
	/* client (all [lock]) */
	int fd;
	bool stream;
	bool joined;
	bool sender;
	bool watching;
	bool stalled;
	bool dirty;
	bool wait_write;
	bool doomed;     /* to be removed by the bus thread */
	bool closing;    /* refused: remove once the reply is out */
	bool policy_init; /* node_new ran */
	bool partial;    /* its parser holds part of a frame (npartial) */
	bool link;       /* another bus, over TCP (link.c) */
	struct rxs_link *link_out; /* our outgoing link, or NULL */
	struct rxs_link_adv *adv;   /* link: groups we asked it for */
	unsigned int nadv;
	unsigned int capadv;
	struct rxs_link_adv *heard; /* link: groups it asked us for */
	unsigned int nheard;
	unsigned int capheard;
	unsigned int rights;
	struct rxsvc_cn_src cred;
	struct rxsvc_strp *strp;
	struct event *rev;
	struct event *wev;
	struct rxs_qent *q;
	uint32_t qmask;
	uint32_t qhead;  /* next to fill */
	uint32_t qtail;  /* next to send */
	uint32_t missed; /* drops not yet reported */
	size_t head_off; /* bytes of the entry at qtail already sent */
	uint8_t *ctl;    /* control frames (replies, notices), in order */
	size_t ctl_len;
	size_t ctl_off;
	size_t ctl_cap;
	struct rxsvc_bus_node *dirty_next;
	struct rxsvc_bus_node *stall_next;
};

struct rxs_cb {
	struct rxsvc_cb_id id;
	char name[32];
	rxsvc_cn_callback_t fn;
	void *arg;
	unsigned int ref;
	bool dead;
	struct rxs_cb *next;
};

struct rxs_group {
	uint32_t group;
	unsigned int n;
	unsigned int cap;
	struct rxsvc_bus_node **members;
};

struct rxsvc_bus_route {
	const struct rxsvc_cn_msg *msg;
	uint32_t group;
	struct rxsvc_bus_node *from;
	struct rxs_group *g;
	struct rxsvc_bus_node **chosen;
	unsigned int nchosen;
	unsigned int capchosen;
	uint64_t gen;
};

struct rxsvc_bus {
	pthread_mutex_t lock;
	pthread_cond_t cond;  /* slot freed, callback idle */
	/* settings [const] but max_subscribers [lock] */
	unsigned int mode;
	uid_t uid;
	gid_t gid;
	enum rxsvc_bus_delivery delivery;
	const struct rxsvc_bus_policy_ops *policy;
	void *policy_priv;
	unsigned int max_subscribers;
	unsigned int mtu;
	unsigned int pool_n;
	unsigned int queue_len;
	unsigned int assembly_ms;
	/* pool [lock] */
	uint8_t *pool_mem;
	size_t slot_stride;
	struct rxs_slot *free_slots;
	unsigned int pool_used;
	/* connector [lock] */
	struct rxs_cb *cbs;
	struct rxsvc_bus_node *nodes;
	struct rxs_group *groups;
	unsigned int ngroups;
	unsigned int capgroups;
	unsigned int next_handle;
	unsigned int clients;
	unsigned int senders;
	unsigned int receivers;
	unsigned int listeners;
	struct rxsvc_bus_route route; /* scratch, under the lock */
	uint8_t *rx_scratch;          /* bus thread: a remote msg decoded */
	/* server */
	char *path;
	char *stream_path;
	int lfd;
	int slfd;
	int wakefd;
	bool wake_pending;            /* [lock] */
	bool stopping;
	bool resume;                  /* [lock] slots freed: unstall */
	struct event_base *base;
	bool own_base;
	bool thread_started;          /* creating thread only: join at close */
	pthread_t thread;
	struct event *lev;
	struct event *slev;
	struct event *wakeev;
	struct event *tickev;         /* assembly and link retry tick */
	bool tick_armed;              /* [loop] tickev is added */
	unsigned int npartial;        /* [lock] clients with partial frames */
	int tlfd;                     /* TCP link listener (link.c) */
	struct event *tlev;
	unsigned int link_rights;     /* [const] of every linked bus */
	struct rxs_link *links;       /* [lock] outgoing links */
	unsigned int ndoomed;         /* [lock] */
	struct rxsvc_bus_node *dirty; /* [lock] clients to flush */
	struct rxsvc_bus_node *stalled; /* [lock] paused lossless senders */
	struct rxsvc_strp_stats strp_gone; /* [lock] of closed clients */
	uint64_t stats[RXS_BS__NR];   /* [lock] */
	/* [atomic] members of engine groups + callbacks of engine ids */
	unsigned int engine_interest;
};

static inline bool rxs_engine_group(uint32_t group)
{
	return group >= RXSVC_EV_GROUP_CALL && group <= RXSVC_EV_GROUP_SEC;
}

/* Lock-free: does anyone care for the engine's events? (engine_pub.c) */
static inline bool rxs_bus_engine_heard(struct rxsvc_bus *bus)
{
	return __atomic_load_n(&bus->engine_interest, __ATOMIC_RELAXED) != 0;
}

static inline void rxs_bus_engine_interest(struct rxsvc_bus *bus, int delta)
{
	__atomic_add_fetch(&bus->engine_interest, (unsigned int)delta,
			   __ATOMIC_RELAXED);
}

struct rxs_slot *rxs_slot_get(struct rxsvc_bus *bus);
void rxs_slot_put(struct rxsvc_bus *bus, struct rxs_slot *slot);
struct rxs_group *rxs_group_find(struct rxsvc_bus *bus, uint32_t group);
int rxs_node_join(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		  uint32_t group);
int rxs_node_leave(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		   uint32_t group);
void rxs_node_unlink(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);
void rxs_bus_counts_changed(struct rxsvc_bus *bus);

#define RXS_SEND_NONBLOCK 0x1 /* as RXSVC_CN_NONBLOCK */
#define RXS_SEND_REMOTE   0x2 /* from a client: pause instead of waiting */

/*
 * Route and deliver one message.  Called with the lock held; drops and
 * retakes it around in-process callbacks.  Returns 0, -ESRCH,
 * -EMSGSIZE, -EAGAIN, or RXSVC_STRP_RETRY (remote, lossless, full).
 */
int rxs_bus_send_locked(struct rxsvc_bus *bus, const struct rxsvc_cn_msg *msg,
			uint32_t group, struct rxsvc_bus_node *from,
			const struct rxsvc_cn_src *src, uint8_t hops,
			unsigned int flags);
void rxs_bus_fill_info(struct rxsvc_bus *bus, struct rxsvc_bus_info *info);
void rxs_bus_fill_stats(struct rxsvc_bus *bus, uint64_t *vals);

/* ---------------------------------------------------------------- */
/* bus_server.c: the socket side, on the bus thread                  */
/* ---------------------------------------------------------------- */

int rxs_server_open(struct rxsvc_bus *bus, const struct rxsvc_bus_params *p);
void rxs_server_close(struct rxsvc_bus *bus);
/* Queue @slot for @node (lossy: drop if full).  Lock held. */
void rxs_client_enqueue(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
			struct rxs_slot *slot);
/* Append a control frame; false if the client is over its limit. */
bool rxs_client_ctl(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		    const uint8_t *frame, size_t len);
void rxs_client_mark_dirty(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);
/* Make the bus thread flush dirty clients.  Lock held. */
void rxs_server_kick(struct rxsvc_bus *bus);
/* Wake the bus thread whatever is pending.  Lock held. */
void rxs_server_wake(struct rxsvc_bus *bus);
/* In a loop handler of @bus: write dirty clients now; else false. */
bool rxs_server_flush_dirty(struct rxsvc_bus *bus);
/* Is this thread in a loop handler of @bus (or a callback it runs)? */
bool rxs_server_in_loop(const struct rxsvc_bus *bus);
/* Arm the tick if it has work, else stop it.  Lock held, loop handler. */
void rxs_server_tick_update(struct rxsvc_bus *bus);
struct rxs_client_init {
	bool stream;
	bool link;
	unsigned int rights;
	struct rxsvc_cn_src cred;
};

/*
 * A client on connected socket @fd (non-blocking), as @ci says; the node
 * is on bus->nodes on success.  Lock held, bus thread.
 */
int rxs_client_new(struct rxsvc_bus *bus, int fd,
		   const struct rxs_client_init *ci,
		   struct rxsvc_bus_node **nodep);
void rxs_client_doom(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);

/* ---------------------------------------------------------------- */
/* client.c                                                          */
/* ---------------------------------------------------------------- */

/*
 * A client on connected non-blocking socket @fd, not yet joined (the
 * fuzz target drives it over a socketpair); takes @fd on success.
 */
int rxs_evc_new(int fd, bool stream, unsigned int timeout_ms,
		struct rxsvc_evc **cp);
/* Join: HELLO and its reply.  0 or the errors of rxsvc_evc_connect. */
int rxs_evc_hello(struct rxsvc_evc *c, unsigned int flags);

/* ---------------------------------------------------------------- */
/* link.c: buses joined over TCP                                     */
/* ---------------------------------------------------------------- */

/*
 * An advert (SUB) sent to or heard from a link: @group has a member
 * @dist links past it (0: a member of that bus's own).
 */
struct rxs_link_adv {
	uint32_t group;
	uint32_t dist;
};

/* An outgoing link: where to, and the node while it is up. */
struct rxs_link {
	struct rxs_link *next;
	struct rxsvc_bus *bus;
	struct sockaddr_storage sa;   /* [const] resolved once */
	socklen_t salen;
	struct rxsvc_bus_node *node;  /* [lock] NULL: down */
	int fd;                       /* connecting, else -1 */
	struct event *cev;            /* connect completion */
	uint64_t next_try;            /* ms */
	unsigned int backoff_ms;
};

int rxs_link_listen(struct rxsvc_bus *bus, const char *addr);
/* Free the listener and the outgoing links; nodes are gone already. */
void rxs_link_close(struct rxsvc_bus *bus);
/* Connect links that are down and due.  Lock held, bus thread. */
void rxs_link_run(struct rxsvc_bus *bus);
/* Is a link down and waiting to be retried?  Lock held. */
bool rxs_link_waiting(const struct rxsvc_bus *bus);
/* @group's membership changed: tell the links.  Lock held. */
void rxs_link_interest(struct rxsvc_bus *bus, uint32_t group);
/* @node's HELLO was accepted: our queued HELLO, then our groups. */
void rxs_link_joined(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);
/*
 * SUB (@dist: its a is the group, b the distance) or UNSUB from a linked
 * bus.  Returns 0 or the errors of rxs_node_join / rxs_node_leave.
 */
int rxs_link_sub(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		 const struct rxs_evf *f);
/* A frame only a linked bus sends us (REPLY, ERROR, ...); 0 or -EPROTO. */
int rxs_link_frame(struct rxsvc_bus *bus, struct rxsvc_bus_node *node,
		   const struct rxs_evf *f);
/* @node (a link) is being destroyed. */
void rxs_link_gone(struct rxsvc_bus *bus, struct rxsvc_bus_node *node);

#endif /* RXS_EVENTS_INTERNAL_H */
