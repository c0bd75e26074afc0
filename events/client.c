/* SPDX-License-Identifier: MIT */
/*
 * The client side of the bus: join over AF_UNIX (SOCK_SEQPACKET or
 * SOCK_STREAM), requests with replies matched by tag, sending with
 * batching, receiving messages, drop reports and notices.
 *
 * Design: sends are appended to an output buffer and written with one
 * system call per batch (RXSVC_EVC_MORE defers the write).  The bus's
 * verdict on a message comes back only when it is a refusal (an ERROR
 * frame); rxsvc_evc_flush() is a barrier (PING) after which every
 * verdict for earlier sends has arrived, since the bus handles a
 * client's frames in order.  Replies are found by scanning the receive
 * buffer past messages that are kept for rxsvc_evc_recv(); the buffer
 * grows for that up to RBUF_MAX and no further.  Everything read from
 * the bus is decoded through the bounds-checked frame decoder.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "events/internal.h"

#define RBUF_INIT (512 * 1024)
#define RBUF_ROOM (192 * 1024) /* > the largest record the bus writes */
#define RBUF_MAX  (16 * 1024 * 1024)

struct rxsvc_evc {
	int fd;
	bool stream;
	bool dead;
	unsigned int timeout_ms;
	uint32_t client_id;
	unsigned int mtu;
	unsigned int rights;
	uint32_t next_tag;
	int first_err; /* first refusal since the last flush */
	uint8_t *rbuf;
	size_t rcap;
	size_t rpos; /* first frame not yet returned */
	size_t rlen;
	uint8_t *wbuf;
	size_t wcap;
	size_t woff;
	size_t wlen;
	uint8_t rep[1024]; /* payload of the last reply */
	size_t rep_len;
	struct rxsvc_cn_msg *msg; /* the message last returned */
};

static int deadline_left(uint64_t deadline)
{
	uint64_t now = rxs_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/*
 * Read what the bus sent, waiting up to @timeout_ms (-1 forever).
 * Returns 1 (bytes read, or none yet: look again), 0 (timeout) or a
 * negative errno.  A signal is not a timeout: the callers recompute
 * what is left of their deadline and wait again.
 */
static int evc_read_more(struct rxsvc_evc *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	struct msghdr mh = { 0 };
	struct iovec iov;
	ssize_t n;
	int ret;

	if (c->dead)
		return -EPIPE;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return errno == EINTR ? 1 : -errno;
	if (ret == 0)
		return 0;
	if (c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	if (c->rcap - c->rlen < RBUF_ROOM) {
		size_t cap = c->rcap * 2;
		void *p;

		if (cap > RBUF_MAX)
			return -ENOBUFS;
		p = realloc(c->rbuf, cap);
		if (!p)
			return -ENOMEM;
		c->rbuf = p;
		c->rcap = cap;
	}
	iov.iov_base = c->rbuf + c->rlen;
	iov.iov_len = c->rcap - c->rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 1 : -errno;
	if (n == 0) {
		c->dead = true;
		return -EPIPE;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		c->dead = true;
		return -EPROTO;
	}
	c->rlen += (size_t)n;
	return 1;
}

/* The frame at @pos: > 0 its length, 0 incomplete, < 0 malformed. */
static long evc_frame_at(struct rxsvc_evc *c, size_t pos, struct rxs_evf *f)
{
	long n = rxs_evf_frame_len(c->rbuf + pos, c->rlen - pos,
				   RXS_EVF_MAX_FRAME);

	if (n <= 0 || (size_t)n > c->rlen - pos)
		return n < 0 ? -EPROTO : 0;
	if (rxs_evf_decode(c->rbuf + pos, (size_t)n, f) < 0)
		return -EPROTO;
	return n;
}

static void evc_cut(struct rxsvc_evc *c, size_t pos, size_t n)
{
	memmove(c->rbuf + pos, c->rbuf + pos + n, c->rlen - pos - n);
	c->rlen -= n;
}

static void evc_note_error(struct rxsvc_evc *c, int err)
{
	if (!c->first_err)
		c->first_err = err;
}

/* Wait for the reply to @tag; its payload goes to c->rep. */
static int evc_wait_reply(struct rxsvc_evc *c, uint32_t tag)
{
	uint64_t deadline = rxs_now_ms() + c->timeout_ms;
	size_t scan = 0; /* from c->rpos: compaction moves rpos */
	int ret;

	for (;;) {
		while (c->rpos + scan < c->rlen) {
			size_t pos = c->rpos + scan;
			struct rxs_evf f;
			long n = evc_frame_at(c, pos, &f);

			if (n < 0) {
				c->dead = true;
				return (int)n;
			}
			if (n == 0)
				break;
			if (f.type == RXS_EVF_ERROR) {
				evc_note_error(c, f.status);
				evc_cut(c, pos, (size_t)n);
				continue;
			}
			if (f.type == RXS_EVF_REPLY && f.tag == tag) {
				c->rep_len = f.dlen < sizeof(c->rep) ?
						     f.dlen :
						     sizeof(c->rep);
				memcpy(c->rep, f.data, c->rep_len);
				ret = f.status;
				evc_cut(c, pos, (size_t)n);
				return ret > 0 ? -EPROTO : ret;
			}
			scan += (size_t)n;
		}
		ret = evc_read_more(c, deadline_left(deadline));
		if (ret < 0)
			return ret;
		if (ret == 0)
			return -ETIMEDOUT;
	}
}

/* Write the output buffer; -EAGAIN only when @nonblock. */
static int evc_wflush(struct rxsvc_evc *c, bool nonblock)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n >= 0) {
			c->woff += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			c->dead = true;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		if (nonblock)
			return -EAGAIN;
		{
			/*
			 * Held back by the bus (lossless, full): keep reading
			 * meanwhile, so that messages for us that hold the
			 * pool can drain and free it.
			 */
			struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
			int r;

			if (c->rcap < RBUF_MAX || c->rcap - c->rlen >= RBUF_ROOM)
				pfd.events |= POLLIN;
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return -errno;
			if (pfd.revents & POLLIN) {
				r = evc_read_more(c, 0);
				if (r < 0 && r != -ENOBUFS)
					return r;
			}
		}
	}
	c->woff = 0;
	c->wlen = 0;
	return 0;
}

static int evc_request(struct rxsvc_evc *c, uint8_t type, uint32_t a,
		       uint32_t b)
{
	uint32_t tag = ++c->next_tag;
	int ret;

	if (c->dead)
		return -EPIPE;
	if (c->wlen + RXS_EVF_REQ_LEN > c->wcap) {
		ret = evc_wflush(c, false);
		if (ret < 0)
			return ret;
	}
	c->wlen += rxs_evf_put_req(c->wbuf + c->wlen, type, tag, a, b);
	ret = evc_wflush(c, false);
	if (ret < 0)
		return ret;
	return evc_wait_reply(c, tag);
}

static int evc_socket(const char *path, bool stream)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, (stream ? SOCK_STREAM : SOCK_SEQPACKET) |
				     SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int rxs_evc_new(int fd, bool stream, unsigned int timeout_ms,
		struct rxsvc_evc **cp)
{
	struct rxsvc_evc *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->stream = stream;
	c->timeout_ms = timeout_ms ? timeout_ms : 5000;
	c->rcap = RBUF_INIT;
	c->rbuf = malloc(c->rcap);
	c->wcap = RXS_EVF_BATCH + RXS_EVF_MAX_FRAME;
	c->wbuf = malloc(c->wcap);
	c->msg = malloc(sizeof(*c->msg) + RXS_EVF_MAX_MTU);
	if (!c->rbuf || !c->wbuf || !c->msg) {
		rxsvc_evc_close(c);
		return -ENOMEM;
	}
	c->fd = fd;
	*cp = c;
	return 0;
}

int rxs_evc_hello(struct rxsvc_evc *c, unsigned int flags)
{
	struct rxs_cursor cur;
	uint32_t v[4];
	int ret;
	int i;

	ret = evc_request(c, RXS_EVF_HELLO, RXS_EVF_VERSION,
			  flags & RXSVC_EVC_SENDER);
	if (ret < 0)
		return ret;
	cur.p = c->rep;
	cur.left = c->rep_len;
	for (i = 0; i < 4; i++)
		if (!rxs_cur_be32(&cur, &v[i]))
			return -EPROTO;
	c->client_id = v[0];
	c->mtu = v[1] < RXS_EVF_MAX_MTU ? v[1] : RXS_EVF_MAX_MTU;
	c->rights = v[2];
	return 0;
}

RXSVC_API int rxsvc_evc_connect(const struct rxsvc_evc_params *p,
				struct rxsvc_evc **cp)
{
	struct rxsvc_evc_params pp = RXSVC_EVC_PARAMS_INIT;
	struct rxsvc_evc *c;
	int fd;
	int ret;

	if (!p || !cp || p->size < offsetof(struct rxsvc_evc_params, flags))
		return -EINVAL;
	memcpy(&pp, p, p->size < sizeof(pp) ? p->size : sizeof(pp));
	if (!pp.path)
		return -EINVAL;
	fd = evc_socket(pp.path, pp.flags & RXSVC_EVC_STREAM);
	if (fd < 0)
		return fd;
	ret = rxs_evc_new(fd, pp.flags & RXSVC_EVC_STREAM, pp.timeout_ms, &c);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	ret = rxs_evc_hello(c, pp.flags);
	if (ret < 0) {
		rxsvc_evc_close(c);
		return ret;
	}
	*cp = c;
	return 0;
}

RXSVC_API void rxsvc_evc_close(struct rxsvc_evc *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c->msg);
	free(c);
}

RXSVC_API int rxsvc_evc_fd(struct rxsvc_evc *c)
{
	return c->fd;
}

RXSVC_API uint32_t rxsvc_evc_client_id(struct rxsvc_evc *c)
{
	return c->client_id;
}

RXSVC_API unsigned int rxsvc_evc_mtu(struct rxsvc_evc *c)
{
	return c->mtu;
}

RXSVC_API int rxsvc_evc_join(struct rxsvc_evc *c, uint32_t group)
{
	return evc_request(c, RXS_EVF_SUB, group, 0);
}

RXSVC_API int rxsvc_evc_leave(struct rxsvc_evc *c, uint32_t group)
{
	return evc_request(c, RXS_EVF_UNSUB, group, 0);
}

RXSVC_API int rxsvc_evc_want_id(struct rxsvc_evc *c,
				const struct rxsvc_cb_id *id)
{
	return evc_request(c, RXS_EVF_WANTID, id->idx, id->val);
}

RXSVC_API int rxsvc_evc_watch(struct rxsvc_evc *c, int on)
{
	return evc_request(c, RXS_EVF_WATCH, on ? 1 : 0, 0);
}

RXSVC_API int rxsvc_evc_set_max_subscribers(struct rxsvc_evc *c,
					    unsigned int n)
{
	return evc_request(c, RXS_EVF_SETMAX, n, 0);
}

RXSVC_API int rxsvc_evc_info(struct rxsvc_evc *c, struct rxsvc_bus_info *info,
			     uint64_t *vals, size_t n, size_t *nvals)
{
	struct rxsvc_bus_info i = { .size = sizeof(i) };
	struct rxs_cursor cur;
	uint32_t v[10];
	uint32_t count;
	size_t k;
	int ret;

	ret = evc_request(c, RXS_EVF_INFO, 0, 0);
	if (ret < 0)
		return ret;
	cur.p = c->rep;
	cur.left = c->rep_len;
	for (k = 0; k < 10; k++)
		if (!rxs_cur_be32(&cur, &v[k]))
			return -EPROTO;
	if (cur.left < 32)
		return -EPROTO;
	memcpy(i.policy, cur.p, 31);
	cur.p += 32;
	cur.left -= 32;
	if (!rxs_cur_be32(&cur, &count) || count > cur.left / 8)
		return -EPROTO;
	i.mode = v[0];
	i.delivery = v[1] ? RXSVC_BUS_LOSSLESS : RXSVC_BUS_LOSSY;
	i.max_subscribers = v[2];
	i.mtu = v[3];
	i.pool = v[4];
	i.queue_len = v[5];
	i.clients = v[6];
	i.senders = v[7];
	i.receivers = v[8];
	i.pool_used = v[9];
	for (k = 0; k < count && k < n && vals; k++) {
		uint32_t hi;
		uint32_t lo;

		if (!rxs_cur_be32(&cur, &hi) || !rxs_cur_be32(&cur, &lo))
			return -EPROTO;
		vals[k] = (uint64_t)hi << 32 | lo;
	}
	if (nvals)
		*nvals = count;
	if (info) {
		size_t sz = info->size < sizeof(i) ? info->size : sizeof(i);

		i.size = (uint32_t)sz;
		memcpy(info, &i, sz);
	}
	return 0;
}

RXSVC_API int rxsvc_evc_send(struct rxsvc_evc *c,
			     const struct rxsvc_cn_msg *msg, uint32_t group,
			     unsigned int flags)
{
	static const struct rxsvc_cn_src nosrc; /* the bus fills it in */
	bool nonblock = flags & RXSVC_EVC_NONBLOCK;
	size_t flen;
	int ret;

	if (c->dead)
		return -EPIPE;
	if (msg->len > c->mtu)
		return -EMSGSIZE;
	flen = RXS_EVF_MSG_HDR + msg->len;
	if (nonblock && c->wlen > c->woff) {
		ret = evc_wflush(c, true);
		if (ret < 0)
			return ret;
	}
	if (c->wlen && c->wlen + flen > RXS_EVF_BATCH) {
		ret = evc_wflush(c, nonblock);
		if (ret < 0)
			return ret;
	}
	c->wlen += rxs_evf_put_msg(c->wbuf + c->wlen, msg, group, &nosrc, 0);
	if (!(flags & RXSVC_EVC_MORE)) {
		ret = evc_wflush(c, nonblock);
		if (ret < 0 && ret != -EAGAIN)
			return ret;
	}
	if (flags & RXSVC_EVC_SYNC)
		return rxsvc_evc_flush(c);
	return 0;
}

RXSVC_API int rxsvc_evc_flush(struct rxsvc_evc *c)
{
	int ret = evc_request(c, RXS_EVF_PING, 0, 0);

	if (ret < 0)
		return ret;
	ret = c->first_err;
	c->first_err = 0;
	return ret;
}

RXSVC_API int rxsvc_evc_recv(struct rxsvc_evc *c, struct rxsvc_evc_event *ev,
			     int timeout_ms)
{
	uint64_t deadline = rxs_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int ret;

	if (c->wlen > c->woff) {
		ret = evc_wflush(c, true);
		if (ret < 0 && ret != -EAGAIN)
			return ret;
	}
	for (;;) {
		while (c->rpos < c->rlen) {
			struct rxs_evf f;
			long n = evc_frame_at(c, c->rpos, &f);

			if (n < 0) {
				c->dead = true;
				return (int)n;
			}
			if (n == 0)
				break;
			c->rpos += (size_t)n;
			memset(ev, 0, sizeof(*ev));
			switch (f.type) {
			case RXS_EVF_MSG:
				c->msg->id = f.id;
				c->msg->seq = f.seq;
				c->msg->ack = f.ack;
				c->msg->len = (uint16_t)f.dlen;
				c->msg->flags = f.mflags;
				memcpy(c->msg->data, f.data, f.dlen);
				ev->kind = RXSVC_EVC_MSG;
				ev->msg = c->msg;
				ev->src = f.src;
				return 1;
			case RXS_EVF_MISSED:
				ev->kind = RXSVC_EVC_MISSED;
				ev->missed = f.a;
				return 1;
			case RXS_EVF_NOTICE:
				ev->kind = RXSVC_EVC_NOTICE;
				ev->senders = f.a;
				ev->receivers = f.b;
				return 1;
			case RXS_EVF_ERROR:
				evc_note_error(c, f.status);
				continue;
			case RXS_EVF_REPLY:
				continue; /* a reply we stopped waiting for */
			default:
				c->dead = true;
				return -EPROTO;
			}
		}
		if (c->rpos == c->rlen)
			c->rpos = c->rlen = 0;
		ret = evc_read_more(c, timeout_ms < 0 ? -1 :
							deadline_left(deadline));
		if (ret <= 0)
			return ret;
	}
}
