/* SPDX-License-Identifier: MIT */
/*
 * io_thread.c - the endpoint's I/O loop: recvmmsg batches into the input
 * path, the attend queue that user threads poke (eventfd wakeup), the
 * one timer, a one-second housekeeping tick, and fault injection for
 * tests.  Every callback ends by flushing output, dropping finished
 * calls and re-arming the timer.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/errqueue.h>
#include <event2/event.h>

#include "rxsvc/internal.h"

/*
 * The thread doing the I/O thread's work for an endpoint right now (the
 * I/O thread in a callback, or a combining user thread), and the call
 * whose notify_rx is running on this thread.
 */
static __thread const struct rxsvc_sock *io_holder;
static __thread const struct rxsvc_call *notifying;

bool rxs_io_held(const struct rxsvc_sock *sock)
{
	return io_holder == sock;
}

bool rxs_notifying(const struct rxsvc_call *call)
{
	return notifying == call;
}

void rxs_set_notifying(struct rxsvc_call *call)
{
	notifying = call;
}

static void io_enter(struct rxsvc_sock *sock)
{
	pthread_mutex_lock(&sock->io_lock);
	io_holder = sock;
}

/*
 * Finish a turn of work: take the pokes made meanwhile (notifications
 * run in this turn poke from this very thread, without a wakeup), flush
 * output, drop finished calls, re-arm the timer, and let go.
 */
static void io_leave(struct rxsvc_sock *sock)
{
	struct rxsvc_call *wake[32], *call;
	unsigned int n = 0;
	bool more;

	do {
		rxs_io_process_attend(sock);
		rxs_output_flush(sock);
		rxs_release_drain(sock);
		pthread_mutex_lock(&sock->attend_lock);
		more = sock->attend_head != NULL;
		pthread_mutex_unlock(&sock->attend_lock);
	} while (more);
	rxs_sock_timer_arm(sock);
	/* Waiters are woken once io_lock is free (see rxs_call_wake). */
	while ((call = sock->wake_head) != NULL) {
		sock->wake_head = call->wake_next;
		call->wake_next = NULL;
		call->wake_queued = false;
		if (n < sizeof(wake) / sizeof(wake[0])) {
			wake[n++] = call;
		} else {
			rxs_call_wake_now(call);
			rxs_call_put(call);
		}
	}
	io_holder = NULL;
	pthread_mutex_unlock(&sock->io_lock);
	for (unsigned int i = 0; i < n; i++) {
		rxs_call_wake_now(wake[i]);
		rxs_call_put_unlocked(wake[i]);
	}
}

/*
 * Poke a call: record @events and queue the call for the I/O thread,
 * once, with a reference.  Arguments the I/O thread needs are written
 * into the call before this.  When nobody is doing the I/O thread's work
 * the caller does it at once; when this thread is doing it, the queue is
 * taken before it stops; otherwise the I/O thread is woken.  - Any
 * thread; no allocation.
 */
void rxs_call_poke(struct rxsvc_call *call, unsigned int events)
{
	struct rxsvc_sock *sock = call->sock;
	bool wake = false;
	uint64_t one = 1;

	/*
	 * Queue (with a reference) before publishing the bits, both under
	 * the lock: were the bits visible first, the I/O thread could act
	 * on them through an earlier queue entry (END, say) and free the
	 * call before we took our reference.
	 */
	pthread_mutex_lock(&sock->attend_lock);
	if (!call->on_attend) {
		call->on_attend = true;
		rxs_call_get(call);
		call->attend_next = NULL;
		if (sock->attend_tail)
			sock->attend_tail->attend_next = call;
		else
			sock->attend_head = call;
		sock->attend_tail = call;
		wake = true;
	}
	/* Pairs with the exchange in rxs_io_process_attend(). */
	atomic_fetch_or_explicit(&call->events, events, memory_order_release);
	pthread_mutex_unlock(&sock->attend_lock);
	if (!wake || io_holder == sock)
		return;
	if (sock->combine && !atomic_load(&sock->stopping) &&
	    pthread_mutex_trylock(&sock->io_lock) == 0) {
		io_holder = sock;
		io_leave(sock);
		return;
	}
	if (write(sock->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rxs_log(RXSVC_LOG_WARN, "rxsvc: eventfd write failed");
}

void rxs_io_process_attend(struct rxsvc_sock *sock)
{
	struct rxsvc_call *list, *call;

	pthread_mutex_lock(&sock->attend_lock);
	list = sock->attend_head;
	sock->attend_head = sock->attend_tail = NULL;
	pthread_mutex_unlock(&sock->attend_lock);
	while (list) {
		unsigned int ev;

		/* A call stays marked as queued until we take it off here:
		 * a poke meanwhile only sets bits and must not relink it
		 * (its attend_next still threads our detached list). */
		call = list;
		pthread_mutex_lock(&sock->attend_lock);
		list = call->attend_next;
		call->attend_next = NULL;
		call->on_attend = false;
		pthread_mutex_unlock(&sock->attend_lock);
		ev = atomic_exchange_explicit(&call->events, 0,
					      memory_order_acquire);
		if (ev)
			rxs_call_handle_pokes(call, ev);
		rxs_call_put(call); /* the attend queue's */
	}
}

/* Apply seeded faults to a received datagram; true if it was taken. */
static bool fault_filter(struct rxsvc_sock *sock, struct rxs_rxpkt *pkt)
{
	struct rxs_fault *f = &sock->fault;
	struct rxs_rxpkt *held;

	/* Tampering: a bit of what rxkad protects in a DATA packet (its
	 * first 8 payload bytes).  With rxnull nothing could notice. */
	if (f->flip && pkt->len > RXS_HEADER_SIZE + 8 &&
	    pkt->buf[20] == RXS_PKT_DATA && rxs_fault_roll(f) < f->flip) {
		unsigned int bit = rxs_fault_roll(f) % 64;

		pkt->buf[RXS_HEADER_SIZE + bit / 8] ^= (uint8_t)(1u << (bit % 8));
		RXS_STAT_INC(sock, fault_flipped);
	}
	if (f->drop && rxs_fault_roll(f) < f->drop) {
		RXS_STAT_INC(sock, fault_dropped);
		rxs_rxpkt_free(&sock->rxpool, pkt);
		return true;
	}
	if (f->dup && rxs_fault_roll(f) < f->dup) {
		struct rxs_rxpkt *copy = rxs_rxpkt_alloc(&sock->rxpool);

		if (copy) {
			copy->from = pkt->from;
			copy->fromlen = pkt->fromlen;
			copy->len = pkt->len;
			memcpy(copy->buf, pkt->buf, pkt->len);
			RXS_STAT_INC(sock, fault_duplicated);
			rxs_input_packet(sock, copy);
		}
	}
	if (f->delay_ms && rxs_fault_roll(f) < f->delay_pct) {
		pkt->release_at = rxs_now() + f->delay_ms * 1000ull;
		pkt->next = NULL;
		if (sock->delay_tail)
			sock->delay_tail->next = pkt;
		else
			sock->delay_head = pkt;
		sock->delay_tail = pkt;
		RXS_STAT_INC(sock, fault_delayed);
		return true;
	}
	if (f->reorder && !sock->fault_held && rxs_fault_roll(f) < f->reorder) {
		sock->fault_held = pkt; /* goes after the next one */
		RXS_STAT_INC(sock, fault_reordered);
		return true;
	}
	if (sock->fault_held) {
		held = sock->fault_held;
		sock->fault_held = NULL;
		rxs_input_packet(sock, pkt);
		rxs_input_packet(sock, held);
		return true;
	}
	return false;
}

static void fault_release(struct rxsvc_sock *sock, bool all)
{
	uint64_t now = rxs_now();

	while (sock->delay_head &&
	       (all || sock->delay_head->release_at <= now)) {
		struct rxs_rxpkt *p = sock->delay_head;

		sock->delay_head = p->next;
		if (!sock->delay_head)
			sock->delay_tail = NULL;
		p->next = NULL;
		rxs_input_packet(sock, p);
	}
	if (sock->fault_held) {
		struct rxs_rxpkt *p = sock->fault_held;

		sock->fault_held = NULL;
		rxs_input_packet(sock, p);
	}
}

static void fault_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_sock *sock = arg;

	io_enter(sock);
	fault_release(sock, false);
	io_leave(sock);
}

/*
 * Read datagrams in batches until the socket is empty (bounded).  Returns
 * true when the error queue may hold something: a read failed with a
 * queued ICMP error, or the wakeup found no datagram at all (poll says
 * "readable" for an error-queue entry too).
 */
bool rxs_io_read(struct rxsvc_sock *sock)
{
	bool errors = false;

	struct mmsghdr msg[RXS_BATCH];
	struct iovec iov[RXS_BATCH];
	char cbuf[RXS_BATCH][CMSG_SPACE(sizeof(uint32_t))];
	unsigned int rounds = 0;

	do {
		unsigned int n;
		int r;

		for (n = 0; n < RXS_BATCH; n++) {
			if (!sock->batch[n]) {
				sock->batch[n] = rxs_rxpkt_alloc(&sock->rxpool);
				if (!sock->batch[n])
					break;
			}
			iov[n].iov_base = sock->batch[n]->buf;
			iov[n].iov_len = RXS_RX_BUFSIZE;
			memset(&msg[n], 0, sizeof(msg[n]));
			msg[n].msg_hdr.msg_name = &sock->batch[n]->from;
			msg[n].msg_hdr.msg_namelen = sizeof(union rxs_addr);
			msg[n].msg_hdr.msg_iov = &iov[n];
			msg[n].msg_hdr.msg_iovlen = 1;
			msg[n].msg_hdr.msg_control = cbuf[n];
			msg[n].msg_hdr.msg_controllen = sizeof(cbuf[n]);
		}
		if (n == 0) {
			/* Pool exhausted: read one into the void, count it. */
			uint8_t sink[64];

			if (recv(sock->fd, sink, sizeof(sink), MSG_DONTWAIT) >= 0)
				RXS_STAT_INC(sock, rx_drop_nobuf);
			return true;
		}
		r = recvmmsg(sock->fd, msg, n, MSG_DONTWAIT, NULL);
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			/* A pending ICMP error is reported here once (and
			 * queued for io_read_errors): read on. */
			errors = true;
			continue;
		}
		if (r <= 0)
			return errors || rounds == 0;
		for (int i = 0; i < r; i++) {
			struct rxs_rxpkt *pkt = sock->batch[i];
			struct cmsghdr *c;

			for (c = CMSG_FIRSTHDR(&msg[i].msg_hdr); c;
			     c = CMSG_NXTHDR(&msg[i].msg_hdr, c)) {
				uint32_t ovfl;

				if (c->cmsg_level != SOL_SOCKET ||
				    c->cmsg_type != SO_RXQ_OVFL)
					continue;
				memcpy(&ovfl, CMSG_DATA(c), sizeof(ovfl));
				if (ovfl != sock->last_ovfl)
					RXS_STAT_ADD(sock, sock_overruns,
						     ovfl - sock->last_ovfl);
				sock->last_ovfl = ovfl;
			}
			sock->batch[i] = NULL;
			pkt->len = msg[i].msg_len;
			pkt->fromlen = msg[i].msg_hdr.msg_namelen;
			pkt->next = NULL;
			if (msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				RXS_STAT_INC(sock, rx_truncated);
				pkt->len = RXS_RX_BUFSIZE; /* refused as too big */
			}
			if (sock->fault.on && fault_filter(sock, pkt))
				continue;
			rxs_input_packet(sock, pkt);
		}
		/* Refill the batch from the pool (packets kept by rings). */
		for (int i = 0; i < r; i++)
			if (!sock->batch[i])
				sock->batch[i] = rxs_rxpkt_alloc(&sock->rxpool);
		if ((unsigned int)r < n)
			return errors;
	} while (++rounds < 16);
	return errors;
}

/*
 * Read queued ICMP errors (IP_RECVERR): the offender is the address we
 * sent to.  Only errors that say the peer is unreachable end calls.
 */
static void io_read_errors(struct rxsvc_sock *sock)
{
	for (int n = 0; n < 64; n++) {
		char cbuf[512];
		union rxs_addr to;
		uint8_t data[64];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr msg = { 0 };
		struct cmsghdr *c;

		msg.msg_name = &to;
		msg.msg_namelen = sizeof(to);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		if (recvmsg(sock->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct sock_extended_err ee;

			if (!((c->cmsg_level == SOL_IP &&
			       c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 &&
			       c->cmsg_type == IPV6_RECVERR)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_errno == ECONNREFUSED ||
			    ee.ee_errno == EHOSTUNREACH ||
			    ee.ee_errno == ENETUNREACH)
				rxs_peer_error(sock, &to, (int)ee.ee_errno);
		}
	}
}

static void rx_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_sock *sock = arg;

	io_enter(sock);
	if (rxs_io_read(sock))
		io_read_errors(sock);
	io_leave(sock); /* takes the pokes that arrived meanwhile too */
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_sock *sock = arg;
	uint64_t v;

	if (read(sock->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		rxs_log(RXSVC_LOG_WARN, "rxsvc: eventfd read failed");
	io_enter(sock);
	io_leave(sock);
	if (atomic_load(&sock->stopping) && sock->own_base)
		event_base_loopbreak(sock->base);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_sock *sock = arg;
	struct rxsvc_call *call;
	unsigned int n = 0;
	uint64_t now;

	io_enter(sock);
	now = rxs_now();
	sock->timer_armed_at = 0; /* it fired: nothing is armed now */
	while ((call = rxs_heap_top(&sock->timers)) != NULL &&
	       call->timer_at <= now && n++ < 4096) {
		rxs_call_get(call);
		rxs_call_run_timers(call, now);
		/* Every path moves the key forward or removes the call. */
		if (call->heap_idx && call->timer_at <= now) {
			call->timer_at = now + 1000;
			rxs_heap_update(&sock->timers, call);
		}
		rxs_call_put(call);
	}
	rxs_conn_final_acks_run(sock, now, false);
	io_leave(sock);
}

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct rxsvc_sock *sock = arg;
	uint64_t now;

	io_enter(sock);
	now = rxs_now();
	rxs_conn_reap(sock, now, false);
	rxs_peer_reap(sock, now);
	rxs_peer_keepalive(sock, now);
	io_leave(sock);
}

static void *io_thread_main(void *arg)
{
	struct rxsvc_sock *sock = arg;

	while (!atomic_load(&sock->stopping))
		event_base_loop(sock->base, EVLOOP_ONCE);
	return NULL;
}

/* Create the loop's events; start our own thread unless embedded. */
void rxs_io_start_loop(struct rxsvc_sock *sock)
{
	struct timeval sec = { 1, 0 };
	struct timeval fault = { 0, 5000 };

	sock->rx_ev = event_new(sock->base, sock->fd, EV_READ | EV_PERSIST,
				rx_cb, sock);
	sock->wake_ev = event_new(sock->base, sock->wake_fd,
				  EV_READ | EV_PERSIST, wake_cb, sock);
	sock->timer_ev = evtimer_new(sock->base, timer_cb, sock);
	sock->tick_ev = event_new(sock->base, -1, EV_PERSIST, tick_cb, sock);
	event_add(sock->rx_ev, NULL);
	event_add(sock->wake_ev, NULL);
	event_add(sock->tick_ev, &sec);
	if (sock->fault.on) {
		sock->fault_ev = event_new(sock->base, -1, EV_PERSIST, fault_cb,
					   sock);
		event_add(sock->fault_ev, &fault);
	}
	if (sock->own_base &&
	    pthread_create(&sock->thread, NULL, io_thread_main, sock) == 0)
		sock->thread_running = true;
	/* Our base is thread-safe (evthread_use_pthreads): user threads may
	 * arm its timer while doing the I/O thread's work. */
	sock->combine = sock->thread_running;
}

/* Used by rxsvc_sock_close() once the loop has stopped. */
void rxs_io_fault_flush(struct rxsvc_sock *sock);
void rxs_io_fault_flush(struct rxsvc_sock *sock)
{
	while (sock->delay_head) {
		struct rxs_rxpkt *p = sock->delay_head;

		sock->delay_head = p->next;
		rxs_rxpkt_free(&sock->rxpool, p);
	}
	sock->delay_tail = NULL;
	rxs_rxpkt_free(&sock->rxpool, sock->fault_held);
	sock->fault_held = NULL;
}
