/* SPDX-License-Identifier: MIT */
/*
 * librxsvc: Rx (the AFS RPC protocol) over UDP, with an interface shaped
 * like the Linux kernel's AF_RXRPC in-kernel API.  Each function names the
 * kernel function it corresponds to.
 *
 * Errors are negative errno values.  Rx abort codes are data: they end a
 * call and are read from the call, never returned by a function.
 *
 * Threads: every function may be called from any thread unless its comment
 * says otherwise.  Callbacks run on the endpoint's I/O thread (or the
 * caller's event loop in embedded mode) and must not block.
 */
#ifndef RXSVC_RXSVC_H
#define RXSVC_RXSVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>

#include <rxsvc/abort.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXSVC_API __attribute__((visibility("default")))

struct event_base;   /* libevent, for embedded mode */
struct rxsvc_sock;   /* opaque: one UDP endpoint and its I/O loop */
struct rxsvc_call;   /* opaque: one Rx call */
struct rxsvc_key;    /* opaque: a security key (rxnull for now) */

/* The library's version string, e.g. "0.1.0". */
RXSVC_API const char *rxsvc_version(void);

/*
 * A transport address plus an Rx service ID (the kernel's sockaddr_rxrpc).
 */
struct rxsvc_srx {
	uint16_t service_id;
	socklen_t addrlen;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;
};

/*
 * Parse "HOST:PORT", "[V6]:PORT" or "PORT" (meaning "*") into @srx (the
 * service ID is left as it was).  Numeric hosts only, plus "localhost".
 * Returns 0 or -EINVAL.
 */
RXSVC_API int rxsvc_srx_parse(struct rxsvc_srx *srx, const char *text);

/* Format @srx as "HOST:PORT" into @buf; returns @buf. */
RXSVC_API char *rxsvc_srx_format(const struct rxsvc_srx *srx, char *buf,
				 size_t len);

/* ---------------------------------------------------------------- */
/* Endpoints                                                         */
/* ---------------------------------------------------------------- */

/*
 * Notifications (the kernel's notify_rx and friends) run with the engine's
 * work in hand: on the endpoint's I/O thread, or on a user thread that is
 * doing that work inside an rxsvc_call_*() function (user threads that
 * find the engine idle do its work themselves instead of waking the I/O
 * thread).  So a callback must not block, and must not take a lock that
 * any thread holds while calling rxsvc functions.  It may call
 * rxsvc_call_recv() with RXSVC_RECV_NONBLOCK (or once
 * rxsvc_call_rx_complete() says the request is all in), rxsvc_call_send()
 * while the transmit window has room (RXSVC_SEND_NONBLOCK to be sure),
 * rxsvc_call_abort() and rxsvc_call_end(): a service can answer a small
 * request right there, with no thread hop at all.
 */
typedef void (*rxsvc_notify_rx_t)(struct rxsvc_sock *sock,
				  struct rxsvc_call *call,
				  unsigned long user_call_id);
typedef void (*rxsvc_notify_new_call_t)(struct rxsvc_sock *sock,
					struct rxsvc_call *call,
					unsigned long user_call_id, void *arg);
typedef void (*rxsvc_discard_t)(struct rxsvc_sock *sock,
				unsigned long user_call_id, void *arg);

struct rxsvc_sock_params {
	uint32_t size;              /* sizeof(struct rxsvc_sock_params) */
	struct rxsvc_srx local;     /* address to bind; port 0 = any */
	struct event_base *base;    /* NULL: the library runs its own thread */
	unsigned int rx_window;     /* receive window, packets (def. 255) */
	unsigned int dead_time_ms;  /* no packet from peer (def. 12000) */
	unsigned int idle_time_ms;  /* no DATA on a call (def. 60000) */
	unsigned int hard_time_ms;  /* whole call (def. 0 = none) */
	unsigned int max_calls;     /* active service calls (def. 1024) */
	unsigned int busy_per_sec;  /* BUSY replies per peer (def. 1000) */
	unsigned int pool_packets;  /* packet buffers (def. 16384) */
	unsigned int flags;         /* RXSVC_SOCK_* */
	unsigned int max_calls_per_peer; /* def. max_calls / 2 */
};
#define RXSVC_SOCK_PARAMS_INIT { .size = sizeof(struct rxsvc_sock_params) }
#define RXSVC_SOCK_NO_DEBUG 0x1 /* refuse DEBUG (rxdebug) requests */

/*
 * Open an endpoint: a UDP socket bound to p->local and an I/O loop (the
 * kernel's socket(AF_RXRPC) + bind).  Returns 0 or -EINVAL, -ENOMEM,
 * -EADDRINUSE and other socket errors.
 */
RXSVC_API int rxsvc_sock_open(const struct rxsvc_sock_params *p,
			      struct rxsvc_sock **sockp);

/*
 * Close an endpoint: aborts live calls locally (the user must still end
 * the calls it holds before closing), stops the loop, frees everything.
 * Must not be called from a callback.
 */
RXSVC_API void rxsvc_sock_close(struct rxsvc_sock *sock);

/* The bound local address (with the real port after binding port 0). */
RXSVC_API int rxsvc_sock_local(struct rxsvc_sock *sock, struct rxsvc_srx *srx);

/*
 * Answer calls for @service_id on this endpoint (the kernel binds service
 * IDs to the socket).  Returns 0, -EEXIST or -ENOSPC (16 services max).
 */
RXSVC_API int rxsvc_sock_add_service(struct rxsvc_sock *sock,
				     uint16_t service_id);

/*
 * Start accepting calls; at most @backlog preallocated calls may be
 * charged (0 = default 32).  The kernel's listen().
 */
RXSVC_API int rxsvc_sock_listen(struct rxsvc_sock *sock, unsigned int backlog);

/*
 * Callbacks for service calls: @new_call runs on the I/O thread when an
 * incoming call takes a preallocated call (the kernel's notify_new_call);
 * the call is the user's from then on (end it with rxsvc_call_end).
 * @discard runs for each preallocation freed unused when the endpoint
 * closes (the kernel's discard_new_call).
 */
RXSVC_API void rxsvc_sock_set_accept(struct rxsvc_sock *sock,
				     rxsvc_notify_new_call_t new_call,
				     rxsvc_discard_t discard, void *arg);

/*
 * Preallocate a service call with the user's ID (the kernel's
 * rxrpc_kernel_charge_accept).  An incoming call takes it without
 * allocating.  Returns 0, -ENOBUFS (backlog full), -EINVAL (not
 * listening), -ENOMEM.
 */
RXSVC_API int rxsvc_sock_charge(struct rxsvc_sock *sock,
				rxsvc_notify_rx_t notify_rx,
				unsigned long user_call_id);

struct rxsvc_keyset; /* server keys: rxsvc/key.h */

struct rxsvc_service_security {
	uint32_t size;               /* sizeof(struct rxsvc_service_security) */
	struct rxsvc_keyset *keyset; /* rxkad service keys (NULL: none) */
	unsigned int min_level;      /* lowest rxkad level accepted */
	int require_rxkad;           /* 1: refuse rxnull connections */
};
#define RXSVC_SERVICE_SECURITY_INIT                                           \
	{ .size = sizeof(struct rxsvc_service_security) }

/*
 * What a service on this endpoint accepts: rxnull (unless require_rxkad)
 * and, with a keyset, rxkad at min_level or above.  The keyset must
 * outlive the endpoint.  A connection with an index the service does not
 * offer gets ABORT RX_INVALID_OPERATION; a RESPONSE that does not check
 * out, a connection ABORT with the RXKAD code.  Set before listening.
 * Returns 0, -ENOENT (service not added), -EINVAL.
 */
RXSVC_API int rxsvc_sock_set_service_security(
	struct rxsvc_sock *sock, uint16_t service_id,
	const struct rxsvc_service_security *sec);

/* Number of charged preallocations not yet taken. */
RXSVC_API unsigned int rxsvc_sock_charged(struct rxsvc_sock *sock);

/* ---------------------------------------------------------------- */
/* Calls                                                             */
/* ---------------------------------------------------------------- */

enum rxsvc_call_state {
	RXSVC_CALL_CLIENT_AWAIT_CONN,
	RXSVC_CALL_CLIENT_SEND_REQUEST,
	RXSVC_CALL_CLIENT_AWAIT_REPLY,
	RXSVC_CALL_CLIENT_RECV_REPLY,
	RXSVC_CALL_SERVER_PREALLOC,
	RXSVC_CALL_SERVER_RECV_REQUEST,
	RXSVC_CALL_SERVER_ACK_REQUEST,
	RXSVC_CALL_SERVER_SEND_REPLY,
	RXSVC_CALL_SERVER_AWAIT_ACK,
	RXSVC_CALL_COMPLETE,
};

/* How a call completed: the "marks" of the original kernel interface. */
enum rxsvc_completion {
	RXSVC_COMPLETE_NONE,             /* not complete yet */
	RXSVC_COMPLETE_SUCCEEDED,
	RXSVC_COMPLETE_BUSY,             /* server busy; the caller may retry */
	RXSVC_COMPLETE_REMOTELY_ABORTED, /* abort code from the peer */
	RXSVC_COMPLETE_LOCALLY_ABORTED,  /* we aborted (code sent to peer) */
	RXSVC_COMPLETE_NET_ERROR,        /* peer gone / ICMP: error set */
	RXSVC_COMPLETE_LOCAL_ERROR,      /* local failure: error set */
};

struct rxsvc_call_params {
	uint32_t size;                /* sizeof(struct rxsvc_call_params) */
	struct rxsvc_srx peer;        /* peer address and service ID */
	/* NULL: the endpoint's default key (rxsvc_sock_set_default_key) if
	 * it has one, else rxnull */
	struct rxsvc_key *key;
	unsigned long user_call_id;   /* caller's tag, unique per endpoint */
	int64_t tx_total_len;         /* request length, -1 if unknown */
	rxsvc_notify_rx_t notify_rx;  /* NULL: none (blocking use) */
	unsigned int flags;           /* RXSVC_CALL_* */
	unsigned int hard_time_ms;    /* 0: endpoint default */
	unsigned int security_level;  /* with a key: 0 clear, 1 auth, 2 crypt */
};
#define RXSVC_CALL_PARAMS_INIT                                                \
	{ .size = sizeof(struct rxsvc_call_params), .tx_total_len = -1 }
#define RXSVC_CALL_EXCLUSIVE 0x1 /* a connection of its own */
/* rxnull although the endpoint has a default key (no key given) */
#define RXSVC_CALL_NO_SECURITY 0x2

/*
 * Begin a client call (the kernel's rxrpc_kernel_begin_call).  On success
 * *callp holds a call the caller must finish with rxsvc_call_end().
 * Returns 0 or -EINVAL, -ENOMEM, -EEXIST (user_call_id in use),
 * -ESHUTDOWN.  Does not block.
 */
RXSVC_API int rxsvc_call_begin(struct rxsvc_sock *sock,
			       const struct rxsvc_call_params *p,
			       struct rxsvc_call **callp);

#define RXSVC_SEND_MORE     0x1 /* more data follows (kernel: MSG_MORE) */
#define RXSVC_SEND_NONBLOCK 0x2 /* -EAGAIN instead of waiting for window */

/*
 * Send data on a call (the kernel's rxrpc_kernel_send_data): the request
 * on a client call, the reply on a service call.  The last send without
 * RXSVC_SEND_MORE ends this direction's stream.  Blocks while the
 * transmit window is full unless RXSVC_SEND_NONBLOCK.  Returns the number
 * of bytes taken (all of @len when blocking; possibly fewer, or -EAGAIN,
 * when not), or -EPROTO (wrong phase), -ECONNABORTED / -ETIMEDOUT /
 * other errors if the call completed (see the completion queries),
 * -EMSGSIZE (more than tx_total_len).
 */
RXSVC_API int rxsvc_call_send(struct rxsvc_call *call, const struct iovec *iov,
			      int iovcnt, size_t len, unsigned int flags);

/* Input flags of rxsvc_call_recv */
#define RXSVC_RECV_NONBLOCK 0x1 /* -EAGAIN when no data is ready */
#define RXSVC_RECV_WAITALL  0x2 /* fill @size or reach the end */
#define RXSVC_RECV_PEEK     0x4 /* copy what is there, consume nothing;
				   never blocks (MSG_PEEK) */
/* Output flags */
#define RXSVC_RECV_MORE 0x10 /* more data is to come */
#define RXSVC_RECV_END  0x20 /* the peer's stream is fully received */

/*
 * Receive data (the kernel's rxrpc_kernel_recv_data).  Copies up to @size
 * bytes of the peer's stream into @buf.  Returns the number of bytes
 * copied and sets *flags to RXSVC_RECV_MORE or RXSVC_RECV_END; on a
 * client call RXSVC_RECV_END means the whole reply is in: the I/O thread
 * then sends the final ACK and completes the call (SUCCEEDED) at once,
 * so rxsvc_call_wait() returns promptly.  Blocks until
 * at least one byte (or the end) is available unless RXSVC_RECV_NONBLOCK.
 * Returns -EAGAIN, or on failure a negative errno with *abort_code set
 * when the call was aborted: -ECONNABORTED (remote abort), -ECONNRESET
 * (local abort), -EBUSY (server busy), -ETIMEDOUT (peer silent), others.
 */
RXSVC_API int rxsvc_call_recv(struct rxsvc_call *call, void *buf, size_t size,
			      unsigned int *flags, int32_t *abort_code);

/*
 * Has the peer's whole stream (the request, on a service call) arrived,
 * so that the rest of it can be read without blocking?  *@bytes (if not
 * NULL) gets the number of bytes not yet read when it has.  For the
 * call's owner, or its notify_rx.
 */
RXSVC_API bool rxsvc_call_rx_complete(struct rxsvc_call *call,
				      uint64_t *bytes);

/*
 * Abort a call (the kernel's rxrpc_kernel_abort_call): sends ABORT with
 * @abort_code and completes the call as locally aborted with @error
 * (a negative errno).  @why is a short static string for traces.
 * Returns 1 if this aborted the call, 0 if it was already complete.
 */
RXSVC_API int rxsvc_call_abort(struct rxsvc_call *call, int32_t abort_code,
			       int error, const char *why);

/*
 * Refuse a new service call with BUSY (the original kernel interface's
 * rxrpc_kernel_reject_call); only from the new-call notification.
 * The endpoint keeps no state for it.  Returns 0 or -EINVAL.
 */
RXSVC_API int rxsvc_call_reject(struct rxsvc_call *call);

/*
 * Finish with a call (the kernel's rxrpc_kernel_end_call).  An incomplete
 * call is aborted with RX_USER_ABORT, unless it is a service call whose
 * reply is all queued (it finishes on its own).  No notify_rx runs for
 * the call once this returns, and its user call ID may be reused at
 * once.  The call must not be used afterwards.
 */
RXSVC_API void rxsvc_call_end(struct rxsvc_call *call);

RXSVC_API enum rxsvc_call_state rxsvc_call_state(struct rxsvc_call *call);
RXSVC_API enum rxsvc_completion rxsvc_call_completion(struct rxsvc_call *call);
/* Abort code of a remotely or locally aborted call, else 0. */
RXSVC_API int32_t rxsvc_call_abort_code(struct rxsvc_call *call);
/* Local error number (negative errno) of a failed call, else 0. */
RXSVC_API int rxsvc_call_error(struct rxsvc_call *call);
RXSVC_API unsigned long rxsvc_call_user_id(struct rxsvc_call *call);
RXSVC_API uint16_t rxsvc_call_service_id(struct rxsvc_call *call);
RXSVC_API int rxsvc_call_peer(struct rxsvc_call *call, struct rxsvc_srx *srx);
/*
 * Block until the call completes or @timeout_ms passes (-1: forever).
 * Returns the completion kind (RXSVC_COMPLETE_NONE on timeout).
 */
RXSVC_API enum rxsvc_completion rxsvc_call_wait(struct rxsvc_call *call,
						int timeout_ms);

RXSVC_API const char *rxsvc_completion_name(enum rxsvc_completion how);
RXSVC_API const char *rxsvc_call_state_name(enum rxsvc_call_state state);

/* ---------------------------------------------------------------- */
/* Interceptor style (the original kernel interface's skb marks)      */
/* ---------------------------------------------------------------- */

enum rxsvc_mark {
	RXSVC_MARK_DATA,         /* a DATA packet's payload */
	RXSVC_MARK_FINAL_ACK,    /* service call: reply acknowledged */
	RXSVC_MARK_BUSY,         /* client call: server busy */
	RXSVC_MARK_REMOTE_ABORT, /* abort_code set */
	RXSVC_MARK_LOCAL_ABORT,  /* abort_code set */
	RXSVC_MARK_NET_ERROR,    /* error set */
	RXSVC_MARK_LOCAL_ERROR,  /* error set */
	RXSVC_MARK_NEW_CALL,     /* a new service call */
};

struct rxsvc_msg {
	enum rxsvc_mark mark;
	const void *data;     /* DATA: payload, valid until consumed */
	size_t len;
	int is_data_last;     /* DATA: last packet of the peer's stream */
	int32_t abort_code;
	int error;
	unsigned long user_call_id;
	uint32_t seq;         /* DATA: sequence number */
};

typedef void (*rxsvc_interceptor_t)(struct rxsvc_sock *sock,
				    struct rxsvc_call *call,
				    const struct rxsvc_msg *msg, void *arg);

/*
 * Receive messages instead of using rxsvc_call_recv: @fn is called on the
 * I/O thread for every message of every call of this endpoint, in order.
 * A DATA message's payload stays in the call's receive ring until
 * rxsvc_msg_data_consumed() (any thread) releases it; other marks need no
 * release.  Set before any call exists.
 */
RXSVC_API void rxsvc_sock_set_interceptor(struct rxsvc_sock *sock,
					  rxsvc_interceptor_t fn, void *arg);
/* Release a DATA message, in order (rxrpc_kernel_data_consumed). */
RXSVC_API void rxsvc_msg_data_consumed(struct rxsvc_call *call,
				       const struct rxsvc_msg *msg);

/* ---------------------------------------------------------------- */
/* Counters, logging and the observer hook                           */
/* ---------------------------------------------------------------- */

/*
 * Copy up to @n counters of the endpoint into @vals; returns how many
 * exist (call with n = 0 to learn the count).  rxsvc_stat_name(i) names
 * counter i (NULL past the end).
 */
RXSVC_API int rxsvc_sock_get_stats(struct rxsvc_sock *sock, uint64_t *vals,
				   size_t n);
RXSVC_API const char *rxsvc_stat_name(size_t i);
/* The value of the counter named @name, or 0. */
RXSVC_API uint64_t rxsvc_sock_stat(struct rxsvc_sock *sock, const char *name);

enum rxsvc_log_level { RXSVC_LOG_ERR, RXSVC_LOG_WARN, RXSVC_LOG_INFO,
		       RXSVC_LOG_DEBUG };
typedef void (*rxsvc_log_fn)(enum rxsvc_log_level level, const char *msg,
			     void *arg);
/* Library-wide log sink; silent by default. */
RXSVC_API void rxsvc_set_log(rxsvc_log_fn fn, void *arg,
			     enum rxsvc_log_level max_level);

enum rxsvc_event_type {
	RXSVC_EV_CALL_BEGUN,     /* client or service call started */
	RXSVC_EV_CALL_COMPLETE,  /* how, abort_code, error set */
	RXSVC_EV_BUSY_SENT,      /* a new call was refused with BUSY */
	RXSVC_EV_NET_ERROR,      /* error set */
	RXSVC_EV_SECURITY,       /* security failure, abort_code set */
};

struct rxsvc_engine_event {
	enum rxsvc_event_type type;
	unsigned int debug_id;
	uint16_t service_id;
	int client;                 /* 1: client call, 0: service call */
	enum rxsvc_completion how;
	int32_t abort_code;
	int error;
	const struct rxsvc_srx *peer;
};
typedef void (*rxsvc_observer_t)(struct rxsvc_sock *sock,
				 const struct rxsvc_engine_event *ev,
				 void *arg);
/* One observer per endpoint, called on the I/O thread. */
RXSVC_API void rxsvc_sock_set_observer(struct rxsvc_sock *sock,
				       rxsvc_observer_t fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_RXSVC_H */
