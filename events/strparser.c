/* SPDX-License-Identifier: MIT */
/*
 * The stream parser: message framing over any byte stream, after the
 * Linux kernel's strparser (net/strparser).  The owner supplies
 * parse_msg (length of the next message), rcv_msg (a whole message) and
 * optional read_done / abort callbacks.
 *
 * Design: one buffer of max_msg + RXS_STRP_READ bytes.  Messages that are
 * whole in the buffer are handed to rcv_msg in place, several per read
 * when the peer coalesced them (no copy); a message split across reads
 * stays at the front of the buffer until it is whole.  The buffer is
 * compacted after each pass, so a partial message always starts at
 * offset 0 and never needs more than max_msg bytes.  A partial message
 * carries the time its first byte arrived: rxsvc_strp_check_timeout()
 * aborts it with -ETIMEDOUT past the limit (a peer that trickles bytes
 * pins a buffer otherwise).  Once aborted the parser is stopped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "events/internal.h"

#define RXS_STRP_READ (128 * 1024) /* room for one read (a record) */

struct rxsvc_strp {
	struct rxsvc_strp_callbacks cb;
	void *arg;
	size_t max_msg;
	unsigned int timeout_ms;
	uint64_t (*now_ms)(void *arg);
	uint8_t *buf;
	size_t cap;
	size_t off;           /* first byte not yet delivered */
	size_t len;           /* bytes in buf */
	uint64_t partial_since; /* ms; valid when a partial message is held */
	int partial;          /* a partial message is held */
	int paused;
	int stopped;          /* abort error, 0 while running */
	struct rxsvc_strp_stats st;
};

uint64_t rxs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t strp_default_now(void *arg)
{
	return rxs_now_ms();
}

RXSVC_API int rxsvc_strp_new(const struct rxsvc_strp_params *p,
			     struct rxsvc_strp **strpp)
{
	struct rxsvc_strp_params pp = RXSVC_STRP_PARAMS_INIT;
	struct rxsvc_strp *strp;

	if (!p || !strpp || p->size < offsetof(struct rxsvc_strp_params, arg))
		return -EINVAL;
	memcpy(&pp, p, p->size < sizeof(pp) ? p->size : sizeof(pp));
	if (!pp.cb.parse_msg || !pp.cb.rcv_msg)
		return -EINVAL;
	if (!pp.max_msg)
		pp.max_msg = 65536;
	if (pp.max_msg > 64 * 1024 * 1024)
		return -EINVAL;
	strp = calloc(1, sizeof(*strp));
	if (!strp)
		return -ENOMEM;
	strp->cap = pp.max_msg + RXS_STRP_READ;
	strp->buf = malloc(strp->cap);
	if (!strp->buf) {
		free(strp);
		return -ENOMEM;
	}
	strp->cb = pp.cb;
	strp->arg = pp.arg;
	strp->max_msg = pp.max_msg;
	strp->timeout_ms = pp.timeout_ms;
	strp->now_ms = pp.now_ms ? pp.now_ms : strp_default_now;
	*strpp = strp;
	return 0;
}

RXSVC_API void rxsvc_strp_free(struct rxsvc_strp *strp)
{
	if (!strp)
		return;
	free(strp->buf);
	free(strp);
}

RXSVC_API void *rxsvc_strp_arg(struct rxsvc_strp *strp)
{
	return strp->arg;
}

static void strp_abort(struct rxsvc_strp *strp, int err)
{
	if (strp->stopped)
		return;
	strp->stopped = err;
	strp->st.aborts++;
	if (err == -EMSGSIZE)
		strp->st.oversize++;
	else if (err == -ETIMEDOUT)
		strp->st.timeouts++;
	if (strp->cb.abort)
		strp->cb.abort(strp, err);
}

/* Deliver every whole message in the buffer; compact what is left. */
static void strp_process(struct rxsvc_strp *strp)
{
	while (!strp->paused && !strp->stopped && strp->off < strp->len) {
		size_t avail = strp->len - strp->off;
		long n = strp->cb.parse_msg(strp, strp->buf + strp->off, avail);
		int ret;

		if (n < 0) {
			strp_abort(strp, (int)n);
			break;
		}
		if ((size_t)n > strp->max_msg ||
		    (n == 0 && avail >= strp->max_msg)) {
			strp_abort(strp, -EMSGSIZE);
			break;
		}
		if (n == 0 || (size_t)n > avail) {
			if (!strp->partial) {
				strp->partial = 1;
				strp->partial_since = strp->now_ms(strp->arg);
			}
			break;
		}
		ret = strp->cb.rcv_msg(strp, strp->buf + strp->off, (size_t)n);
		if (ret == RXSVC_STRP_RETRY) {
			rxsvc_strp_pause(strp);
			break;
		}
		if (ret < 0) {
			strp_abort(strp, ret);
			break;
		}
		if (strp->partial)
			strp->st.partial++;
		strp->partial = 0;
		strp->st.msgs++;
		strp->st.bytes += (uint64_t)n;
		strp->off += (size_t)n;
	}
	if (strp->off == strp->len) {
		strp->off = 0;
		strp->len = 0;
		strp->partial = 0;
	} else if (!strp->paused && strp->off) {
		memmove(strp->buf, strp->buf + strp->off, strp->len - strp->off);
		strp->len -= strp->off;
		strp->off = 0;
	}
}

/* Room for new bytes; compacts first. */
static size_t strp_room(struct rxsvc_strp *strp)
{
	if (strp->off) {
		memmove(strp->buf, strp->buf + strp->off, strp->len - strp->off);
		strp->len -= strp->off;
		strp->off = 0;
	}
	return strp->cap - strp->len;
}

RXSVC_API long rxsvc_strp_feed(struct rxsvc_strp *strp, const void *data,
			       size_t len)
{
	const uint8_t *p = data;
	size_t taken = 0;

	while (taken < len && !strp->stopped && !strp->paused) {
		size_t room = strp_room(strp);
		size_t n = len - taken;

		if (!room)
			break;
		if (n > room)
			n = room;
		memcpy(strp->buf + strp->len, p + taken, n);
		strp->len += n;
		taken += n;
		strp_process(strp);
	}
	if (strp->cb.read_done)
		strp->cb.read_done(strp, strp->stopped);
	if (strp->stopped)
		return strp->stopped;
	return (long)taken;
}

RXSVC_API long rxsvc_strp_recv(struct rxsvc_strp *strp, int fd)
{
	struct msghdr mh = { 0 };
	struct iovec iov;
	size_t room;
	ssize_t n;

	if (strp->stopped)
		return strp->stopped;
	if (strp->paused)
		return -EAGAIN;
	room = strp_room(strp);
	if (!room)
		return -ENOBUFS;
	iov.iov_base = strp->buf + strp->len;
	iov.iov_len = room;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	n = recvmsg(fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if (mh.msg_flags & MSG_TRUNC) {
		/* A record bigger than any batch we allow: refuse the peer. */
		strp_abort(strp, -EMSGSIZE);
		return -EMSGSIZE;
	}
	strp->len += (size_t)n;
	strp_process(strp);
	if (strp->cb.read_done)
		strp->cb.read_done(strp, strp->stopped);
	return strp->stopped ? strp->stopped : n;
}

RXSVC_API int rxsvc_strp_check_timeout(struct rxsvc_strp *strp)
{
	if (strp->stopped)
		return strp->stopped;
	if (!strp->timeout_ms || !strp->partial || strp->paused)
		return 0;
	if (strp->now_ms(strp->arg) - strp->partial_since >= strp->timeout_ms) {
		strp_abort(strp, -ETIMEDOUT);
		return -ETIMEDOUT;
	}
	return 0;
}

RXSVC_API void rxsvc_strp_pause(struct rxsvc_strp *strp)
{
	if (!strp->paused)
		strp->st.pauses++;
	strp->paused = 1;
}

RXSVC_API int rxsvc_strp_unpause(struct rxsvc_strp *strp)
{
	if (!strp->paused)
		return strp->stopped;
	strp->paused = 0;
	strp_process(strp);
	if (strp->cb.read_done)
		strp->cb.read_done(strp, strp->stopped);
	return strp->stopped;
}

RXSVC_API int rxsvc_strp_paused(struct rxsvc_strp *strp)
{
	return strp->paused;
}

RXSVC_API size_t rxsvc_strp_pending(struct rxsvc_strp *strp)
{
	return strp->len - strp->off;
}

RXSVC_API void rxsvc_strp_get_stats(struct rxsvc_strp *strp,
				    struct rxsvc_strp_stats *st)
{
	*st = strp->st;
}

RXSVC_API void rxsvc_strp_stats_add(struct rxsvc_strp_stats *sum,
				    const struct rxsvc_strp_stats *st)
{
	sum->msgs += st->msgs;
	sum->bytes += st->bytes;
	sum->aborts += st->aborts;
	sum->pauses += st->pauses;
	sum->oversize += st->oversize;
	sum->timeouts += st->timeouts;
	sum->partial += st->partial;
}
