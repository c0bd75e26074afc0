/* SPDX-License-Identifier: MIT */
/*
 * The rxsvc event bus: a connector-style multicast bus (after the Linux
 * kernel connector, drivers/connector), usable in one process and across
 * processes over a local socket (access as in IPN), with pluggable
 * delivery policies and a stream framing parser (after the kernel's
 * strparser).
 *
 * Errors are negative errno values.  Every function may be called from
 * any thread unless its comment says otherwise.  Callbacks run on the
 * thread that delivers the message (the sender's thread for an
 * in-process send, the bus thread for a message from another process);
 * they must not block and must not remove their own registration.
 */
#ifndef RXSVC_EVENTS_H
#define RXSVC_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RXSVC_API
#define RXSVC_API __attribute__((visibility("default")))
#endif

struct event_base; /* libevent, for embedded mode */
struct rxsvc_bus;  /* opaque: one bus (in-process, optionally listening) */
struct rxsvc_evc;  /* opaque: a client's connection to a bus */
struct rxsvc_strp; /* opaque: one stream parser */

/* ---------------------------------------------------------------- */
/* Identity and message (the kernel's struct cb_id / struct cn_msg)  */
/* ---------------------------------------------------------------- */

struct rxsvc_cb_id {
	uint32_t idx;
	uint32_t val;
};

struct rxsvc_cn_msg {
	struct rxsvc_cb_id id;
	uint32_t seq;   /* per-sender sequence number */
	uint32_t ack;   /* a reply carries the request's seq and ack + 1 */
	uint16_t len;   /* bytes of data[] */
	uint16_t flags; /* reserved, 0 */
	uint8_t data[];
};

/* Where a delivered message came from. */
struct rxsvc_cn_src {
	uint32_t group;  /* group it was sent to (0: addressed by id only) */
	uint32_t client; /* sending client's number; 0: this process */
	pid_t pid;       /* SO_PEERCRED of a remote sender, else ours */
	uid_t uid;
	gid_t gid;
};

/* Well-known groups and ids.  Groups 1..0xffff0000 are the users'. */
#define RXSVC_EV_GROUP_NONE 0u          /* deliver by id only */
#define RXSVC_EV_GROUP_IDS  0xffff0001u /* id registration notices */
#define RXSVC_EV_GROUP_CALL 0xffff0010u /* engine: call begun/complete */
#define RXSVC_EV_GROUP_BUSY 0xffff0011u /* engine: BUSY sent */
#define RXSVC_EV_GROUP_NET  0xffff0012u /* engine: network errors */
#define RXSVC_EV_GROUP_SEC  0xffff0013u /* engine: security failures */

#define RXSVC_EV_IDX_BUS    0xffff0000u /* ids of the bus itself */
#define RXSVC_EV_VAL_IDS    1u          /* {BUS, IDS}: id notice */
#define RXSVC_EV_IDX_ENGINE 0xffff0100u /* ids of engine events */
#define RXSVC_EV_VAL_CALL_BEGUN    1u
#define RXSVC_EV_VAL_CALL_COMPLETE 2u
#define RXSVC_EV_VAL_BUSY_SENT     3u
#define RXSVC_EV_VAL_NET_ERROR     4u
#define RXSVC_EV_VAL_SECURITY      5u

/*
 * Data of an id notice ({RXSVC_EV_IDX_BUS, RXSVC_EV_VAL_IDS} sent to
 * RXSVC_EV_GROUP_IDS): 12 bytes, big-endian u32 event (1 added, 0
 * removed), u32 idx, u32 val, then the callback's name (no NUL).
 *
 * Data of an engine event (RXSVC_EV_IDX_ENGINE): 32 bytes, big-endian:
 * u32 type (enum rxsvc_event_type), u32 debug_id, u16 service_id, u8
 * client, u8 how (enum rxsvc_completion), i32 abort_code, i32 error,
 * then the peer: u16 family (AF_INET/AF_INET6, 0 none), u16 port,
 * the first 8 bytes of the address (IPv4: 4 bytes then zero).
 */
#define RXSVC_EV_ENGINE_DATA_LEN 32

/* rxsvc_cn_send flags */
#define RXSVC_CN_NONBLOCK 0x1 /* lossless bus full: -EAGAIN, not wait */

/*
 * A reply to @req: fills @reply's id, seq (the request's) and ack (the
 * request's + 1); len and data are the caller's.
 */
RXSVC_API void rxsvc_cn_reply_init(struct rxsvc_cn_msg *reply,
				   const struct rxsvc_cn_msg *req);
/* 1 if @reply answers @req (same id and seq, ack = req ack + 1), else 0. */
RXSVC_API int rxsvc_cn_is_reply(const struct rxsvc_cn_msg *reply,
				const struct rxsvc_cn_msg *req);

/* ---------------------------------------------------------------- */
/* Delivery policies (who among a group's members gets a message)    */
/* ---------------------------------------------------------------- */

struct rxsvc_bus_node;  /* opaque: one member (a client or a listener) */
struct rxsvc_bus_route; /* opaque: one message being routed */

/*
 * A routing policy.  Every hook is optional except handle_msg and runs
 * with the bus locked: it must not block nor call rxsvc_bus_* or
 * rxsvc_cn_* functions other than the ones named here.
 * - bus_created: when the bus opens; *privp becomes the policy's state.
 * - bus_resized: max subscribers changed.
 * - bus_destroyed: when the bus closes.
 * - node_new / node_gone: a member joined / left (crash included);
 *   *node_privp is the policy's per-node state.
 * - handle_msg: call rxsvc_bus_route_deliver() for each chosen member of
 *   rxsvc_bus_route_members(); return 0 or a negative errno.
 * - setopt: a member's option (RXSVC_BUS_OPT_*); -ENOPROTOOPT if unknown.
 */
struct rxsvc_bus_policy_ops {
	uint32_t size; /* sizeof(struct rxsvc_bus_policy_ops) */
	const char *name;
	int (*bus_created)(struct rxsvc_bus *bus, void **privp);
	void (*bus_resized)(void *priv, unsigned int max_subscribers);
	void (*bus_destroyed)(void *priv);
	int (*node_new)(void *priv, struct rxsvc_bus_node *node,
			void **node_privp);
	void (*node_gone)(void *priv, struct rxsvc_bus_node *node,
			  void *node_priv);
	int (*handle_msg)(void *priv, struct rxsvc_bus_route *route);
	int (*setopt)(void *priv, struct rxsvc_bus_node *node,
		      void *node_priv, int opt, const void *val, size_t len);
};

#define RXSVC_BUS_OPT_ID_ADD 1 /* val: struct rxsvc_cb_id (id filter) */
#define RXSVC_BUS_OPT_ID_DEL 2

/* Built in: all members of the group but the sender. */
RXSVC_API extern const struct rxsvc_bus_policy_ops rxsvc_bus_policy_broadcast;
/* Built in: members whose id filter holds the message's id. */
RXSVC_API extern const struct rxsvc_bus_policy_ops rxsvc_bus_policy_idfilter;

/* For handle_msg: the message, its group, sender, the group's members. */
RXSVC_API const struct rxsvc_cn_msg *
rxsvc_bus_route_msg(const struct rxsvc_bus_route *route);
RXSVC_API uint32_t rxsvc_bus_route_group(const struct rxsvc_bus_route *route);
RXSVC_API struct rxsvc_bus_node *
rxsvc_bus_route_from(const struct rxsvc_bus_route *route);
RXSVC_API unsigned int
rxsvc_bus_route_members(const struct rxsvc_bus_route *route,
			struct rxsvc_bus_node *const **membersp);
/* Choose @node for this message (once per node). */
RXSVC_API void rxsvc_bus_route_deliver(struct rxsvc_bus_route *route,
				       struct rxsvc_bus_node *node);
/* A member's policy state (as set by node_new). */
RXSVC_API void *rxsvc_bus_node_priv(const struct rxsvc_bus_node *node);

/* ---------------------------------------------------------------- */
/* The bus                                                           */
/* ---------------------------------------------------------------- */

enum rxsvc_bus_delivery {
	RXSVC_BUS_LOSSY,    /* per-member bounded queue, drops reported */
	RXSVC_BUS_LOSSLESS, /* shared bounded pool, senders held back */
};

/* Access bits of a bus mode, per class (as in a file mode). */
#define RXSVC_BUS_R 04 /* receive: join groups */
#define RXSVC_BUS_W 02 /* send */
#define RXSVC_BUS_X 01 /* manage: change settings */

struct rxsvc_bus_params {
	uint32_t size;       /* sizeof(struct rxsvc_bus_params) */
	const char *path;    /* SOCK_SEQPACKET socket; NULL: in-process */
	const char *stream_path; /* SOCK_STREAM socket too (or NULL) */
	struct event_base *base; /* NULL: the bus runs its own thread */
	unsigned int mode;   /* r/w/x per owner, group, others (def. 0660) */
	uid_t uid;           /* owner (def. our euid, if uid_set) */
	gid_t gid;
	int owner_set;       /* 1: uid/gid above are meant */
	enum rxsvc_bus_delivery delivery; /* def. lossy */
	const struct rxsvc_bus_policy_ops *policy; /* def. broadcast */
	unsigned int max_subscribers; /* clients (def. 64) */
	unsigned int mtu;        /* max data bytes (def. 4096, max 65000) */
	unsigned int pool;       /* messages held at once (def. 1024) */
	unsigned int queue_len;  /* lossy: per-member queue (def. 256) */
	unsigned int assembly_ms; /* stream frame assembly limit (def. 5000) */
	/* Links to other buses (TCP), needs path: see rxsvc_bus_link_connect */
	const char *link_listen;  /* "HOST:PORT" to accept links on, or NULL */
	unsigned int link_rights; /* RXSVC_BUS_R/W/X of a linked bus (def. R|W) */
};
#define RXSVC_BUS_PARAMS_INIT { .size = sizeof(struct rxsvc_bus_params) }

/*
 * Open a bus.  With p->path NULL it is in-process only; otherwise it also
 * listens on p->path (and p->stream_path), replacing a stale socket file,
 * and serves other processes on its own thread (or on p->base, which the
 * caller drives).  Returns 0 or -EINVAL, -ENOMEM, -EADDRINUSE (a live bus
 * answers on the path), socket errors.
 */
RXSVC_API int rxsvc_bus_open(const struct rxsvc_bus_params *p,
			     struct rxsvc_bus **busp);
/*
 * Close a bus: disconnects clients, removes the socket files, frees all.
 * Callbacks must be idle; not from a callback.
 */
RXSVC_API void rxsvc_bus_close(struct rxsvc_bus *bus);

/*
 * Links join buses over TCP (between hosts; nothing but the address
 * authenticates a linked bus, so listen on loopback or behind a
 * firewall).  A linked bus is a client of ours with the rights of
 * p->link_rights: r lets it receive (subscribe), w lets it send, x
 * manage.  Each bus tells the other which groups it has members in (and
 * only if that bus may send to it), so a message crosses a link only
 * when someone past it listens; a message from a link goes to our
 * members but never back over the link it came from.  Every crossing
 * adds one to the message's hop count and a bus drops a message that
 * would reach 8 crossings, so copies going round a loop of links die
 * out.  Interest carries the number of links to the nearest member, so
 * round a loop it dies out too once the last member leaves; still, a
 * loop delivers copies, so keep links a tree.
 * Counters: link_accepts, link_connects, link_fails, link_refused,
 * link_in, link_out, link_subs, hop_drops.
 *
 * Link this bus to the one listening at @addr ("HOST:PORT", "[V6]:PORT"),
 * reconnecting (1 s, backing off to 30 s) whenever the link is down,
 * until the bus closes.  The bus must have a socket (p->path).  Returns
 * 0 or -EINVAL, -ENOMEM.
 */
RXSVC_API int rxsvc_bus_link_connect(struct rxsvc_bus *bus, const char *addr);
/* The TCP port links are accepted on (p->link_listen), or -ENOENT. */
RXSVC_API int rxsvc_bus_link_port(struct rxsvc_bus *bus);

/* Change max subscribers at run time (existing clients stay). */
RXSVC_API int rxsvc_bus_set_max_subscribers(struct rxsvc_bus *bus,
					    unsigned int n);

struct rxsvc_bus_info {
	uint32_t size; /* sizeof(struct rxsvc_bus_info), set by the caller */
	unsigned int mode;
	enum rxsvc_bus_delivery delivery;
	char policy[32];
	unsigned int max_subscribers;
	unsigned int mtu;
	unsigned int pool;
	unsigned int queue_len;
	unsigned int clients;
	unsigned int senders;
	unsigned int receivers;
	unsigned int pool_used;
};
RXSVC_API int rxsvc_bus_get_info(struct rxsvc_bus *bus,
				 struct rxsvc_bus_info *info);

/*
 * Counters: copy up to @n into @vals, return how many exist;
 * rxsvc_bus_stat_name(i) names counter i (NULL past the end).
 */
RXSVC_API int rxsvc_bus_get_stats(struct rxsvc_bus *bus, uint64_t *vals,
				  size_t n);
RXSVC_API const char *rxsvc_bus_stat_name(size_t i);
RXSVC_API uint64_t rxsvc_bus_stat(struct rxsvc_bus *bus, const char *name);

/* ---------------------------------------------------------------- */
/* The connector core on a bus (in-process)                          */
/* ---------------------------------------------------------------- */

typedef void (*rxsvc_cn_callback_t)(const struct rxsvc_cn_msg *msg,
				    const struct rxsvc_cn_src *src, void *arg);

/*
 * Run @cb for every message addressed to @id (the kernel's
 * cn_add_callback).  @name is copied (up to 31 bytes).  Announces the id
 * on RXSVC_EV_GROUP_IDS.  Returns 0, -EEXIST (id registered), -EINVAL,
 * -ENOMEM.
 */
RXSVC_API int rxsvc_cn_add_callback(struct rxsvc_bus *bus,
				    const struct rxsvc_cb_id *id,
				    const char *name, rxsvc_cn_callback_t cb,
				    void *arg);
/*
 * Remove @id's callback, waiting for a running invocation to return.
 * Announces the removal.  Returns 0 or -ENOENT.  Not from that callback.
 */
RXSVC_API int rxsvc_cn_del_callback(struct rxsvc_bus *bus,
				    const struct rxsvc_cb_id *id);

/*
 * Listen in-process to @group: @cb runs for every message sent to it
 * that the bus's policy gives this listener.  *handlep identifies the
 * listener (> 0).  Returns 0, -EINVAL, -ENOMEM.
 */
RXSVC_API int rxsvc_cn_listen(struct rxsvc_bus *bus, uint32_t group,
			      rxsvc_cn_callback_t cb, void *arg,
			      unsigned int *handlep);
/* Stop listener @handle (waits for a running invocation); 0 or -ENOENT. */
RXSVC_API int rxsvc_cn_unlisten(struct rxsvc_bus *bus, unsigned int handle);
/*
 * Set a policy option (RXSVC_BUS_OPT_*) on listener @handle.  Returns 0,
 * -ENOENT, -ENOPROTOOPT (the policy has none), the policy's error.
 */
RXSVC_API int rxsvc_cn_listen_setopt(struct rxsvc_bus *bus,
				     unsigned int handle, int opt,
				     const void *val, size_t len);

/*
 * Send @msg (msg->len data bytes) to the members of @group chosen by the
 * bus's policy, local listeners and remote clients; with @group
 * RXSVC_EV_GROUP_NONE, to the callback of msg->id instead.  (A message
 * from another process runs the id's callback whatever its group; an
 * in-process send to a group does not, so a callback's reply to a group
 * never comes back to it.)  Returns 0; -ESRCH if nobody listens to @group and no
 * callback has the id; -EMSGSIZE (above the MTU); -EAGAIN (lossless, full,
 * RXSVC_CN_NONBLOCK, or called on the bus thread); -ESHUTDOWN; -ENOMEM.
 * On a lossy bus a full queue or pool drops the message for the members
 * concerned (counted, and they are told) and the send still returns 0.
 * On a lossless bus it waits for room unless RXSVC_CN_NONBLOCK.
 */
RXSVC_API int rxsvc_cn_send(struct rxsvc_bus *bus,
			    const struct rxsvc_cn_msg *msg, uint32_t group,
			    unsigned int flags);

/* ---------------------------------------------------------------- */
/* The engine's publisher (events/engine_pub.c)                      */
/* ---------------------------------------------------------------- */

struct rxsvc_sock;  /* an Rx endpoint (rxsvc/rxsvc.h) */
struct rxsvc_evpub; /* opaque: one endpoint's publisher */

/*
 * Publish @sock's engine events on @bus: registers the endpoint's
 * observer (replacing any other) and sends each event to its group
 * (RXSVC_EV_GROUP_CALL, _BUSY, _NET, _SEC) with id {RXSVC_EV_IDX_ENGINE,
 * RXSVC_EV_VAL_*} and the 32-byte data above.  It never blocks the I/O
 * thread: sends are non-blocking; what cannot be delivered is counted.
 * When nobody listens to the engine's groups (nor has a callback for its
 * ids) an event costs one atomic load.  Returns 0, -EINVAL, -ENOMEM.
 * The bus must outlive the publisher.
 */
RXSVC_API int rxsvc_evpub_start(struct rxsvc_bus *bus, struct rxsvc_sock *sock,
				struct rxsvc_evpub **pubp);
/* Unregister the observer and free the publisher.  Not from a callback. */
RXSVC_API void rxsvc_evpub_stop(struct rxsvc_evpub *pub);
/* Events sent, refused (-EAGAIN, pool) and skipped (nobody listening). */
RXSVC_API void rxsvc_evpub_counts(struct rxsvc_evpub *pub, uint64_t *sent,
				  uint64_t *failed, uint64_t *unheard);

/* ---------------------------------------------------------------- */
/* The client (another process)                                      */
/* ---------------------------------------------------------------- */

#define RXSVC_EVC_STREAM 0x1 /* connect with SOCK_STREAM */
#define RXSVC_EVC_SENDER 0x2 /* count this client as a sender */

struct rxsvc_evc_params {
	uint32_t size;        /* sizeof(struct rxsvc_evc_params) */
	const char *path;     /* the bus's socket */
	unsigned int flags;   /* RXSVC_EVC_* */
	unsigned int timeout_ms; /* for replies from the bus (def. 5000) */
};
#define RXSVC_EVC_PARAMS_INIT { .size = sizeof(struct rxsvc_evc_params) }

/*
 * Join the bus at p->path.  Returns 0 or -ENOENT / -ECONNREFUSED (no
 * bus), -EACCES (no right at all), -EUSERS (bus full), -ETIMEDOUT,
 * -EPROTO, -ENOMEM.  A client is used by one thread at a time.
 */
RXSVC_API int rxsvc_evc_connect(const struct rxsvc_evc_params *p,
				struct rxsvc_evc **cp);
RXSVC_API void rxsvc_evc_close(struct rxsvc_evc *c);
/* The socket, for poll(2) (POLLIN: rxsvc_evc_recv will not wait). */
RXSVC_API int rxsvc_evc_fd(struct rxsvc_evc *c);
/* This client's number on the bus, and the bus's MTU. */
RXSVC_API uint32_t rxsvc_evc_client_id(struct rxsvc_evc *c);
RXSVC_API unsigned int rxsvc_evc_mtu(struct rxsvc_evc *c);

/* Add / drop membership of @group.  0 or -EACCES (no r), -EPROTO... */
RXSVC_API int rxsvc_evc_join(struct rxsvc_evc *c, uint32_t group);
RXSVC_API int rxsvc_evc_leave(struct rxsvc_evc *c, uint32_t group);
/* Id filter (idfilter policy): want messages with @id. -ENOPROTOOPT. */
RXSVC_API int rxsvc_evc_want_id(struct rxsvc_evc *c,
				const struct rxsvc_cb_id *id);
/* Out-of-band notices of the sender/receiver counts: on != 0 to ask. */
RXSVC_API int rxsvc_evc_watch(struct rxsvc_evc *c, int on);
/* Managing (x): change the bus's max subscribers. */
RXSVC_API int rxsvc_evc_set_max_subscribers(struct rxsvc_evc *c,
					    unsigned int n);
/* The bus's settings and counts; counters into @vals (up to @n). */
RXSVC_API int rxsvc_evc_info(struct rxsvc_evc *c, struct rxsvc_bus_info *info,
			     uint64_t *vals, size_t n, size_t *nvals);

#define RXSVC_EVC_MORE     0x1 /* batch: more sends follow at once */
#define RXSVC_EVC_NONBLOCK 0x2 /* -EAGAIN instead of waiting */
#define RXSVC_EVC_SYNC     0x4 /* wait for the bus's verdict */

/*
 * Send @msg to @group.  The bus's verdict comes back asynchronously:
 * failures (-ESRCH nobody listens, -EACCES no w, -EMSGSIZE) are kept and
 * returned by the next rxsvc_evc_flush() (or by this call with
 * RXSVC_EVC_SYNC).  With RXSVC_EVC_MORE the frame is only buffered.
 * Blocks while the bus holds back senders (lossless, full) unless
 * RXSVC_EVC_NONBLOCK, which gives -EAGAIN (message not taken).
 * Returns 0 or -EMSGSIZE, -EAGAIN, -EPIPE (bus gone), verdicts.
 */
RXSVC_API int rxsvc_evc_send(struct rxsvc_evc *c,
			     const struct rxsvc_cn_msg *msg, uint32_t group,
			     unsigned int flags);
/*
 * Write buffered frames and wait until the bus has handled all sent so
 * far; returns the first failure since the last flush, or 0.
 */
RXSVC_API int rxsvc_evc_flush(struct rxsvc_evc *c);

enum rxsvc_evc_kind {
	RXSVC_EVC_MSG,    /* msg, src */
	RXSVC_EVC_MISSED, /* missed: messages dropped for us (lossy) */
	RXSVC_EVC_NOTICE, /* senders, receivers changed */
};

struct rxsvc_evc_event {
	enum rxsvc_evc_kind kind;
	const struct rxsvc_cn_msg *msg; /* valid until the next recv */
	struct rxsvc_cn_src src;
	uint32_t missed;
	uint32_t senders;
	uint32_t receivers;
};

/*
 * Wait up to @timeout_ms (-1: forever, 0: not at all) for the next
 * event.  Returns 1 with *ev filled, 0 on timeout, -EPIPE when the bus
 * closed, -EPROTO on a malformed frame.
 */
RXSVC_API int rxsvc_evc_recv(struct rxsvc_evc *c, struct rxsvc_evc_event *ev,
			     int timeout_ms);

/* ---------------------------------------------------------------- */
/* The stream parser (after the kernel's strparser)                  */
/* ---------------------------------------------------------------- */

#define RXSVC_STRP_RETRY 1 /* rcv_msg: keep the message, pause */

struct rxsvc_strp_callbacks {
	/*
	 * The length of the message starting at @data (@len bytes there so
	 * far), header included; 0 if more bytes are needed to tell; a
	 * negative errno to abort.
	 */
	long (*parse_msg)(struct rxsvc_strp *strp, const uint8_t *data,
			  size_t len);
	/*
	 * A whole message, valid during the call.  Return 0 (consumed) or
	 * RXSVC_STRP_RETRY (paused; delivered again after unpause), or a
	 * negative errno to abort.
	 */
	int (*rcv_msg)(struct rxsvc_strp *strp, const uint8_t *msg,
		       size_t len);
	/* Optional: after each batch of input handled. */
	void (*read_done)(struct rxsvc_strp *strp, int err);
	/* Optional: the parser stopped on @err; feed no more. */
	void (*abort)(struct rxsvc_strp *strp, int err);
};

struct rxsvc_strp_params {
	uint32_t size; /* sizeof(struct rxsvc_strp_params) */
	struct rxsvc_strp_callbacks cb;
	void *arg;
	size_t max_msg;          /* -EMSGSIZE above (def. 65536) */
	unsigned int timeout_ms; /* -ETIMEDOUT assembling (def. 0 none) */
	uint64_t (*now_ms)(void *arg); /* def. CLOCK_MONOTONIC */
};
#define RXSVC_STRP_PARAMS_INIT { .size = sizeof(struct rxsvc_strp_params) }

struct rxsvc_strp_stats {
	uint64_t msgs;
	uint64_t bytes;
	uint64_t aborts;
	uint64_t pauses;
	uint64_t oversize;
	uint64_t timeouts;
	uint64_t partial;  /* messages that needed more than one read */
};

RXSVC_API int rxsvc_strp_new(const struct rxsvc_strp_params *p,
			     struct rxsvc_strp **strpp);
RXSVC_API void rxsvc_strp_free(struct rxsvc_strp *strp);
RXSVC_API void *rxsvc_strp_arg(struct rxsvc_strp *strp);
/*
 * Take @len bytes of the stream, deliver whole messages.  Returns the
 * bytes taken (fewer than @len when paused or the buffer is full), or the
 * abort error (-EMSGSIZE, -ETIMEDOUT, parse_msg's) once stopped.
 */
RXSVC_API long rxsvc_strp_feed(struct rxsvc_strp *strp, const void *data,
			       size_t len);
/*
 * One recv(2) from @fd (non-blocking) into the parser.  Returns bytes
 * read, 0 at end of stream, -EAGAIN, or an error; a SOCK_SEQPACKET
 * record larger than the room left is -EMSGSIZE.
 */
RXSVC_API long rxsvc_strp_recv(struct rxsvc_strp *strp, int fd);
/* Abort with -ETIMEDOUT if a partial message is older than the limit. */
RXSVC_API int rxsvc_strp_check_timeout(struct rxsvc_strp *strp);
RXSVC_API void rxsvc_strp_pause(struct rxsvc_strp *strp);
/* Resume, delivering buffered messages now; 0 or the abort error. */
RXSVC_API int rxsvc_strp_unpause(struct rxsvc_strp *strp);
RXSVC_API int rxsvc_strp_paused(struct rxsvc_strp *strp);
/* Bytes held (a partial message, or whole ones while paused). */
RXSVC_API size_t rxsvc_strp_pending(struct rxsvc_strp *strp);
RXSVC_API void rxsvc_strp_get_stats(struct rxsvc_strp *strp,
				    struct rxsvc_strp_stats *st);
/* @sum += @st, counter by counter (aggregation across parsers). */
RXSVC_API void rxsvc_strp_stats_add(struct rxsvc_strp_stats *sum,
				    const struct rxsvc_strp_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_EVENTS_H */
