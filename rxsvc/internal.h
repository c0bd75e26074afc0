/* SPDX-License-Identifier: MIT */
/*
 * internal.h - the engine's objects and the map of which file defines
 * what (the ar-internal.h habit).  Ownership of every shared field is
 * marked: [io] I/O thread only, [user] the user's thread, [atomic],
 * [const] set before publication, [lock] under the named mutex.
 *
 * Lock order: sock->io_lock first (held while doing the I/O thread's
 * work, by the I/O thread or a combining user thread: "[io]" means under
 * it); then call->notify_lock (notifications run under io_lock); libevent's
 * base lock; sock->attend_lock, sock->charge_lock and sock->id_lock are
 * leaves (nothing else is taken while one is held); call->wait_lock is
 * taken alone; txpool.lock is a leaf.
 */
#ifndef RXS_INTERNAL_H
#define RXS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "rxsvc/rxsvc.h"
#include "transport/transport.h"
#include "security/security.h"
#include "rxsvc/ring.h"

struct event;
struct rxs_rxkad_conn;
struct rxsvc_keyset;

#define RXS_ASSERT(x)                                                         \
	do {                                                                  \
		if (!(x))                                                     \
			rxs_assert_fail(#x, __FILE__, __LINE__);              \
	} while (0)

/* ---- counters (one X-macro list: fields and names) ---- */
#define RXS_STAT_LIST(X)                                                      \
	X(pkts_in) X(pkts_out) X(bytes_in) X(bytes_out)                       \
	X(data_in) X(data_out) X(ack_in) X(ack_out) X(busy_in) X(busy_out)    \
	X(abort_in) X(abort_out) X(ackall_in) X(challenge_in)                 \
	X(response_in) X(debug_in) X(params_in) X(version_in)                 \
	X(version_out) X(unknown_type_in)                                     \
	X(data_retrans) X(data_dup) X(data_oos) X(data_exceeds_window)        \
	X(data_after_last) X(jumbo_in) X(jumbo_out) X(pings_out)              \
	X(ping_responses_out) X(rtt_samples) X(resend_timeouts)               \
	X(fast_retrans) X(tail_probes) X(ack_clamped) X(ack_stale)                           \
	X(calls_client) X(calls_service) X(calls_busy_refused)                \
	X(calls_rejected) X(calls_unknown_service) X(calls_succeeded)         \
	X(calls_remote_abort) X(calls_local_abort) X(calls_net_error)         \
	X(calls_local_error) X(calls_busy) X(calls_dead) X(calls_idle)        \
	X(calls_hard_timeout) X(busy_ratelimited)                             \
	X(rx_drop_nobuf) X(rx_drop_nocall) X(rx_drop_stale)                   \
	X(rx_drop_nonservice) X(rx_truncated) X(sock_overruns)                \
	X(send_errors) X(icmp_errors) X(conns_created) X(conns_reaped) X(peers_created)      \
	X(peers_reaped) X(fault_dropped) X(fault_duplicated)                  \
	X(fault_reordered) X(fault_delayed) X(fault_flipped) X(final_ack_resent)               \
	X(final_acks_out) X(final_acks_implicit)                          \
	X(bad_short_hdr) X(bad_bad_type) X(bad_zero_seq) X(bad_zero_call)     \
	X(bad_short_ack) X(bad_short_abort) X(bad_bad_jumbo) X(bad_too_big)   \
	X(bad_bad_ack) X(bad_bad_channel) X(bad_bad_security)                \
	X(rx_drop_unsecured) X(challenges_out) X(responses_out)               \
	X(responses_ok) X(security_failures) X(sec_bad_packets)                 \
	X(bad_packets)

enum rxs_stat {
#define RXS_X(n) RXS_STAT_##n,
	RXS_STAT_LIST(RXS_X)
#undef RXS_X
	RXS_STAT__COUNT
};

/* Written by the I/O thread only: relaxed load + store, no locked add. */
#define RXS_STAT_ADD(sock, s, v)                                              \
	__atomic_store_n(&(sock)->stats[RXS_STAT_##s],                        \
			 __atomic_load_n(&(sock)->stats[RXS_STAT_##s],        \
					 __ATOMIC_RELAXED) + (v),             \
			 __ATOMIC_RELAXED)
#define RXS_STAT_INC(sock, s) RXS_STAT_ADD(sock, s, 1)

/* ---- poke bits: what a user thread asks the I/O thread to do ---- */
#define RXS_EV_NEW_CALL    0x01u /* client call: find a connection */
#define RXS_EV_TX_QUEUED   0x02u /* packets in the transmit ring */
#define RXS_EV_RX_CONSUMED 0x04u /* receive ring consumer moved */
#define RXS_EV_ABORT       0x08u /* user abort (code in call) */
#define RXS_EV_END         0x10u /* user is done: drop its ref */
#define RXS_EV_REJECT      0x20u /* answer with BUSY */

/* ---- timer heap (timer.c) ---- */
struct rxs_heap {
	struct rxsvc_call **v;
	unsigned int n, cap;
};

/* ---- peer ---- */
struct rxs_peer {
	struct rxs_peer *hash_next;   /* [io] */
	unsigned int ref;             /* [io] */
	union rxs_addr addr;          /* [const] */
	socklen_t addrlen;
	uint32_t hash;
	/* RTT (rtt.c), microseconds */
	uint32_t srtt_us;             /* smoothed RTT x 8 */
	uint32_t rttvar_us;           /* variance x 4 */
	uint32_t rto_us;
	unsigned int rtt_count;
	/* what the peer told us in ACK trailers, clamped */
	uint32_t max_mtu;
	uint32_t if_mtu;
	uint32_t jumbo_max;
	uint32_t cwnd_hint;           /* a later call starts here */
	/* BUSY rate limit: tokens per second */
	uint64_t busy_window_start;
	unsigned int busy_sent;
	unsigned int service_calls;   /* [io] active service calls */
	uint64_t last_sent;           /* [io] for the VERSION keepalive */
	uint64_t last_used;
};

/* ---- connection ---- */
struct rxs_channel {
	struct rxsvc_call *call;      /* [io] live call, holds a ref */
	uint32_t call_counter;        /* [io] last call number used/seen */
	/* what the last completed call needs to answer retransmissions */
	uint32_t last_call;
	uint32_t last_seq;            /* client: last reply seq received */
	int32_t last_abort;           /* nonzero: it ended in this ABORT */
	bool last_client_done;
};

struct rxs_conn {
	struct rxs_conn *hash_next;   /* [io] */
	struct rxs_conn *list_next;   /* [io] sock->conns, all conns */
	struct rxs_conn *list_prev;
	unsigned int ref;             /* [io] channels' calls + tables */
	unsigned int debug_id;
	struct rxs_peer *peer;        /* [io] holds a ref */
	uint32_t epoch;               /* [const] */
	uint32_t cid;                 /* [const] channel bits clear */
	bool client;                  /* [const] we are the client */
	bool exclusive;
	uint16_t service_id;          /* [const] */
	uint8_t security_index;
	const struct rxs_security *security;
	struct rxsvc_key *key;
	uint32_t serial;              /* [io] last serial sent */
	unsigned int nactive;         /* [io] busy channels */
	uint64_t idle_since;          /* [io] when nactive became 0 */
	int32_t abort_code;           /* connection aborted with this */
	bool dead;
	struct rxs_rxkad_conn *rxkad; /* [io] NULL for rxnull */
	unsigned int level;           /* [const] client: rxkad level */
	struct rxsvc_keyset *keyset;  /* [const] server: service keys */
	uint64_t challenge_at;        /* [io] last CHALLENGE sent */
	struct rxs_rxpkt *held[RXS_MAXCALLS]; /* [io] DATA awaiting RESPONSE */
	/* client: final ACKs held back a moment, in case the channel's next
	 * call (which ACKs the reply implicitly) comes first */
	uint8_t fack_pending;         /* [io] channel bits */
	uint8_t next_chan;            /* [io] client: where to look first */
	bool on_fack;                 /* [io] on sock->fack list (a ref) */
	uint64_t fack_at;             /* [io] when they go */
	struct rxs_conn *fack_next;   /* [io] */
	struct rxs_channel chan[RXS_MAXCALLS];
};

/* ---- call ---- */
struct rxsvc_call {
	atomic_int ref;
	unsigned int debug_id;          /* [const] */
	struct rxsvc_sock *sock;        /* [const] */
	struct rxs_conn *conn;          /* [io] */
	unsigned int channel;           /* [io] */
	uint32_t call_number;           /* [io] */
	bool client;                    /* [const] */
	uint16_t service_id;            /* [io] then const once visible */
	union rxs_addr peer_addr;       /* [const] client: target */
	socklen_t peer_addrlen;
	unsigned long user_call_id;     /* [const] */
	rxsvc_notify_rx_t notify_rx;    /* [const] */
	unsigned int flags;             /* [const] RXSVC_CALL_* */
	struct rxsvc_key *key;          /* [const] */
	int64_t tx_total_len;           /* [user] */
	uint64_t tx_sent_bytes;         /* [user] */

	atomic_int state;               /* [io writes] enum rxsvc_call_state */
	atomic_int completion;          /* [io writes, release] */
	int32_t abort_code;             /* [io] set before completion */
	int error;                      /* [io] set before completion */
	atomic_uint events;             /* [atomic] RXS_EV_* pokes */
	int32_t user_abort_code;        /* [user] before RXS_EV_ABORT */
	int user_abort_error;
	bool on_attend;                 /* [attend_lock] */
	struct rxsvc_call *attend_next; /* [attend_lock] */
	atomic_bool user_ended;         /* [user writes] read by the engine */
	bool engine_ref;                /* [io] the engine holds a ref */
	bool completed_io;              /* [io] completion processed */

	/* receive side */
	struct rxs_rxring rx;
	uint32_t rx_highest;            /* [io] highest seq received */
	uint32_t rx_prev_reported;      /* [io] previousPacket sent */
	uint32_t rx_freed;              /* [io] ring slots freed up to */
	atomic_uint rx_last;            /* [io writes] seq with LAST, 0 = ? */
	unsigned int rx_window;         /* [const] */
	unsigned int rx_unacked;        /* [io] DATA since the last ACK */
	uint32_t ack_serial;            /* [io] serial to quote */
	uint8_t ack_reason;             /* [io] pending delayed ACK */
	uint32_t rx_acked_consumed;     /* [io] consumed point last ACKed */
	unsigned int interceptor_next;  /* [io] seq next handed out */

	/* transmit side */
	struct rxs_txring tx;
	uint32_t tx_top_sent;           /* [io] highest seq sent once */
	uint32_t tx_last;               /* [io] seq with LAST, 0 = not yet */
	unsigned int cwnd;              /* [io] congestion window, packets */
	unsigned int ssthresh;
	unsigned int cwnd_acc;          /* [io] CA accumulator */
	unsigned int peer_rwind;        /* [io] from the peer's ACKs */
	uint32_t recovery_point;        /* [io] 0: not in recovery */
	uint32_t ack_first_seen;        /* [io] highest firstPacket seen */
	uint32_t ack_prev_seen;
	unsigned int payload_max;       /* [const] user bytes per packet */
	unsigned int sec_hdr;           /* [const] security bytes before them */
	unsigned int sec_level;         /* [const] rxkad level (client) */
	/* a ref on the conn's rxkad state, for decrypting in recv after
	 * the conn is detached and for sealing in send: [io] set once (a
	 * client's when connected, a server's when its first sealed DATA
	 * is filed); the user reads it with acquire */
	_Atomic(struct rxs_rxkad_conn *) rxkad;
	struct rxs_txpkt *tx_cur;       /* [user] packet being filled */
	bool tx_ended;                  /* [user] last packet queued */
	bool reply_begun;               /* [user] server started replying */
	uint32_t rtt_probe_serial[4];   /* [io] PINGs out for RTT */
	uint64_t rtt_probe_at[4];
	unsigned int rtt_probe_next;

	/* timers, microseconds on rxs_now(); 0 = off */
	uint64_t t_ack;                 /* delayed ACK */
	uint64_t t_resend;              /* TLP, then RTO */
	bool tlp_pending;               /* [io] t_resend is a loss probe */
	uint64_t t_ping;                /* keepalive */
	uint64_t t_expect_rx;           /* dead: no packet from peer */
	uint64_t t_idle;                /* no DATA while waiting for it */
	uint64_t t_hard;                /* whole-call limit */
	uint64_t last_rx;               /* [io] any packet from the peer */
	uint64_t last_tx;               /* [io] anything sent */
	uint64_t timer_at;              /* [io] heap key: min of the above */
	unsigned int heap_idx;          /* [io] 0 = not in the heap */
	bool heard_peer;                /* [io] got anything at all */

	/* notify_rx runs under notify_lock; rxsvc_call_end takes it to set
	 * user_ended, so no notification follows end's return */
	pthread_mutex_t notify_lock;
	/* waiting user threads */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cv;
	atomic_int waiters;

	struct rxsvc_call *id_next;     /* [id_lock] user ID hash */
	struct rxsvc_call *release_next; /* [io] sock->release list */
	struct rxsvc_call *wake_next;   /* [io] sock->wake list */
	bool wake_queued;               /* [io] on it (with a ref) */
	bool on_release;                /* [io] */
	bool rejected;                  /* [io] rejected in new_call */
	struct rxsvc_call *all_next;    /* [io] sock->calls */
	struct rxsvc_call *all_prev;
};

/* ---- endpoint ---- */
#define RXS_MAX_SERVICES 16
#define RXS_ID_HASH      1024
#define RXS_BATCH        32

struct rxs_outq; /* output.c */

/* What a service accepts (rxsvc_sock_set_service_security). */
struct rxs_service_sec {
	struct rxsvc_keyset *keyset; /* NULL: rxnull only */
	unsigned int min_level;
	bool require_rxkad;
};

struct rxsvc_sock {
	int fd;
	union rxs_addr local;
	socklen_t local_len;
	struct event_base *base;
	bool own_base;
	pthread_t thread;
	bool thread_running;
	int wake_fd;
	struct event *rx_ev;
	struct event *wake_ev;
	struct event *timer_ev;
	struct event *tick_ev;
	struct event *fault_ev;
	atomic_bool stopping;

	/* settings [const] */
	unsigned int rx_window;
	uint64_t dead_time_us, idle_time_us, hard_time_us;
	unsigned int max_calls;
	unsigned int max_calls_per_peer;
	unsigned int busy_per_sec;
	unsigned int sock_flags;
	uint32_t epoch;

	/* services and preallocation */
	uint16_t services[RXS_MAX_SERVICES];   /* [lock: charge_lock] */
	struct rxs_service_sec service_sec[RXS_MAX_SERVICES];
	unsigned int nservices;
	atomic_bool listening;                 /* written under charge_lock */
	unsigned int backlog;
	pthread_mutex_t charge_lock;
	struct rxsvc_call **charge;            /* ring of backlog slots */
	unsigned int charge_head, charge_n;
	rxsvc_notify_new_call_t new_call;
	rxsvc_discard_t discard;
	void *accept_arg;
	unsigned int active_service_calls;     /* [io] */

	/* the poke path */
	pthread_mutex_t attend_lock;
	struct rxsvc_call *attend_head, *attend_tail;
	/*
	 * io_lock: whoever holds it may run the I/O thread's work.  The
	 * I/O thread holds it in every callback; a user thread that pokes
	 * takes it when it is free and does the work itself (combining:
	 * no wakeup, no thread hop).  Only with our own, thread-safe base.
	 */
	pthread_mutex_t io_lock;
	bool combine;                          /* [const] user threads may */
	uint64_t timer_armed_at;               /* [io] libevent timer, 0 off */
	struct rxsvc_call *wake_head;          /* [io] waiters to wake after */
	struct rxs_conn *fack_head, *fack_tail; /* [io] held final ACKs, FIFO */

	/* user call IDs of live client calls, for -EEXIST */
	pthread_mutex_t id_lock;
	struct rxsvc_call *id_hash[RXS_ID_HASH];

	/* [io] tables */
	struct rxs_peer **peer_hash;
	unsigned int peer_hash_size;
	struct rxs_conn **conn_hash;           /* by (epoch, cid) */
	unsigned int conn_hash_size;
	struct rxs_conn *conns;                /* every conn */
	struct rxsvc_call *calls;              /* every call the engine holds */
	struct rxsvc_call *release_head;       /* complete + ended: drop */
	struct rxs_rxpkt *batch[RXS_BATCH];    /* recvmmsg buffers */
	uint32_t last_ovfl;                    /* SO_RXQ_OVFL last value */
	uint32_t next_cid;
	atomic_uint next_debug_id;
	struct rxs_heap timers;

	struct rxs_rxpool rxpool;
	struct rxs_txpool txpool;
	struct rxs_outq *outq;
	struct rxs_fault fault;
	struct rxs_rxpkt *fault_held;          /* reorder: one held packet */
	struct rxs_rxpkt *delay_head, *delay_tail;

	rxsvc_observer_t observer;
	void *observer_arg;
	rxsvc_interceptor_t interceptor;
	void *interceptor_arg;

	/* rxsvc_sock_set_default_key(): a ref [lock: conn_security.c] */
	struct rxsvc_key *default_key;
	unsigned int default_level;

	uint64_t stats[RXS_STAT__COUNT];
};

/* ---- declarations, by defining file ---- */

/* util.c */
void *rxs_zalloc(size_t n);
void rxs_free(void *p);
uint64_t rxs_now(void);
extern uint64_t (*rxs_clock)(void);
void rxs_log(enum rxsvc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
_Noreturn void rxs_assert_fail(const char *what, const char *file, int line);
uint32_t rxs_random32(void);

/* io_thread.c */
void rxs_io_start_loop(struct rxsvc_sock *sock);
bool rxs_io_held(const struct rxsvc_sock *sock);
bool rxs_notifying(const struct rxsvc_call *call);
void rxs_set_notifying(struct rxsvc_call *call);
void rxs_call_poke(struct rxsvc_call *call, unsigned int events);
void rxs_io_process_attend(struct rxsvc_sock *sock);
bool rxs_io_read(struct rxsvc_sock *sock);

/* peer_object.c */
struct rxs_peer *rxs_peer_lookup(struct rxsvc_sock *sock,
				 const union rxs_addr *addr, bool create);
void rxs_peer_get(struct rxs_peer *peer);
void rxs_peer_put(struct rxsvc_sock *sock, struct rxs_peer *peer);
void rxs_peer_reap(struct rxsvc_sock *sock, uint64_t now);
void rxs_peer_destroy_all(struct rxsvc_sock *sock);
void rxs_peer_keepalive(struct rxsvc_sock *sock, uint64_t now);
void rxs_peer_error(struct rxsvc_sock *sock, const union rxs_addr *addr,
		    int error);

/* conn_object.c */
int rxs_conn_connect_call(struct rxsvc_sock *sock, struct rxsvc_call *call);
struct rxs_conn *rxs_conn_find_service(struct rxsvc_sock *sock,
				       const struct rxs_hdr *hdr,
				       const union rxs_addr *from);
struct rxs_conn *rxs_conn_new_service(struct rxsvc_sock *sock,
				      const struct rxs_hdr *hdr,
				      const union rxs_addr *from);
struct rxs_conn *rxs_conn_find_client(struct rxsvc_sock *sock,
				      const struct rxs_hdr *hdr);
void rxs_conn_detach_call(struct rxsvc_sock *sock, struct rxsvc_call *call);
void rxs_conn_abort(struct rxsvc_sock *sock, struct rxs_conn *conn,
		    int32_t code);
void rxs_conn_local_abort(struct rxsvc_sock *sock, struct rxs_conn *conn,
			  int32_t code, int error);
void rxs_conn_reap(struct rxsvc_sock *sock, uint64_t now, bool all);
uint32_t rxs_conn_next_serial(struct rxs_conn *conn);
void rxs_conn_final_ack_later(struct rxsvc_sock *sock, struct rxs_conn *conn,
			      unsigned int channel);
void rxs_conn_final_acks_run(struct rxsvc_sock *sock, uint64_t now, bool all);

/* call_object.c */
int rxs_call_alloc(struct rxsvc_sock *sock, bool client,
		   struct rxsvc_call **callp);
void rxs_call_get(struct rxsvc_call *call);
void rxs_call_put(struct rxsvc_call *call);
void rxs_call_put_unlocked(struct rxsvc_call *call);
void rxs_call_wake_now(struct rxsvc_call *call);
void rxs_call_set_state(struct rxsvc_call *call, enum rxsvc_call_state st);
bool rxs_call_complete(struct rxsvc_call *call, enum rxsvc_completion how,
		       int32_t abort_code, int error);
void rxs_call_wake(struct rxsvc_call *call);
void rxs_call_notify(struct rxsvc_call *call);
void rxs_call_engine_release(struct rxsvc_call *call);
void rxs_call_release_later(struct rxsvc_call *call);
void rxs_release_drain(struct rxsvc_sock *sock);
void rxs_call_link(struct rxsvc_sock *sock, struct rxsvc_call *call);
int rxs_id_insert(struct rxsvc_sock *sock, struct rxsvc_call *call);
void rxs_id_remove(struct rxsvc_sock *sock, struct rxsvc_call *call);
void rxs_call_free_rx_upto(struct rxsvc_call *call, uint32_t seq);

/* call_accept.c */
struct rxsvc_call *rxs_accept_take(struct rxsvc_sock *sock);
bool rxs_service_known(struct rxsvc_sock *sock, uint16_t service_id);
void rxs_accept_discard_all(struct rxsvc_sock *sock);

/* call_event.c */
void rxs_call_timers_update(struct rxsvc_call *call);
void rxs_call_run_timers(struct rxsvc_call *call, uint64_t now);
void rxs_call_handle_pokes(struct rxsvc_call *call, unsigned int ev);


/* input.c */
void rxs_input_packet(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt);

/* output.c */
int rxs_outq_init(struct rxsvc_sock *sock);
void rxs_outq_free(struct rxsvc_sock *sock);
void rxs_output_flush(struct rxsvc_sock *sock);
bool rxs_output_pending(struct rxsvc_sock *sock);
void rxs_call_transmit(struct rxsvc_call *call);
void rxs_call_resend(struct rxsvc_call *call, bool all_unacked);
void rxs_send_ack(struct rxsvc_call *call, uint8_t reason, uint32_t serial,
		  bool ping);
void rxs_send_abort_call(struct rxsvc_call *call, int32_t code);
void rxs_send_raw(struct rxsvc_sock *sock, const union rxs_addr *to,
		  const struct rxs_hdr *hdr, const void *body, size_t blen);
void rxs_send_final_ack_chan(struct rxsvc_sock *sock, struct rxs_conn *conn,
			     unsigned int channel, uint8_t reason);

/* rtt.c */
void rxs_rtt_init(struct rxs_peer *peer);
void rxs_rtt_sample(struct rxs_peer *peer, uint32_t rtt_us);
uint32_t rxs_rtt_rto(const struct rxs_peer *peer);
uint32_t rxs_rtt_backoff(uint32_t rto_us);
uint64_t rxs_call_arm_resend(struct rxsvc_call *call, uint64_t now);

/* timer.c */
int rxs_heap_init(struct rxs_heap *h);
void rxs_heap_free(struct rxs_heap *h);
int rxs_heap_update(struct rxs_heap *h, struct rxsvc_call *call);
void rxs_heap_remove(struct rxs_heap *h, struct rxsvc_call *call);
struct rxsvc_call *rxs_heap_top(const struct rxs_heap *h);
void rxs_sock_timer_arm(struct rxsvc_sock *sock);

/* stats.c / observer */
void rxs_observe(struct rxsvc_sock *sock, enum rxsvc_event_type type,
		 struct rxsvc_call *call, const union rxs_addr *addr);

/* conn_security.c */
void rxs_sec_call_sizes(struct rxsvc_call *call, unsigned int index,
			unsigned int level);
int rxs_sec_client_init(struct rxs_conn *conn, struct rxsvc_call *call);
int rxs_sec_server_init(struct rxsvc_sock *sock, struct rxs_conn *conn,
			const struct rxs_hdr *hdr);
void rxs_sec_conn_free(struct rxs_conn *conn);
bool rxs_sec_conn_ready(const struct rxs_conn *conn);
int rxs_sec_seal(struct rxsvc_call *call, struct rxs_txpkt *p);
uint16_t rxs_sec_cksum(struct rxsvc_call *call, uint32_t seq);
int rxs_sec_verify(struct rxsvc_call *call, struct rxs_rxpkt *sp,
		   uint16_t cksum, int32_t *abort_code);
extern uint32_t (*rxs_sec_clock)(void);
void rxs_sec_open(struct rxsvc_call *call, struct rxs_rxpkt *p, uint8_t *out,
		  size_t len);
void rxs_sec_open_in_place(struct rxsvc_call *call, struct rxs_rxpkt *p);
void rxs_sec_call_free(struct rxsvc_call *call);
void rxs_sec_seal_user(struct rxsvc_call *call, struct rxs_txpkt *p);
bool rxs_sec_pairs(struct rxsvc_call *call);
void rxs_sec_open2(struct rxsvc_call *call, struct rxs_rxpkt *p, uint8_t *op,
		   size_t np, struct rxs_rxpkt *q, uint8_t *oq, size_t nq);
void rxs_sec_seal_user2(struct rxsvc_call *call, struct rxs_txpkt *a,
			struct rxs_txpkt *b);
void rxs_sec_call_connected(struct rxsvc_call *call);
int rxs_sec_default_key(struct rxsvc_sock *sock, struct rxsvc_key **keyp,
			unsigned int *level);
void rxs_sec_sock_free(struct rxsvc_sock *sock);
void rxs_sec_challenge(struct rxsvc_sock *sock, struct rxs_conn *conn);
void rxs_sec_input_challenge(struct rxsvc_sock *sock, struct rxs_conn *conn,
			     const uint8_t *body, size_t n);
void rxs_sec_input_response(struct rxsvc_sock *sock, struct rxs_conn *conn,
			    const uint8_t *body, size_t n);
const struct rxs_service_sec *rxs_service_sec(struct rxsvc_sock *sock,
					      uint16_t service_id);

/* debug.c */
void rxs_debug_version(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr);
void rxs_debug_request(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt,
		       const struct rxs_hdr *hdr);

#endif /* RXS_INTERNAL_H */
