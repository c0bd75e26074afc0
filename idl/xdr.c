/* SPDX-License-Identifier: MIT */
/*
 * xdr.c - XDR codecs over a call's byte stream or a memory buffer
 * (include/rxsvc/xdr.h; encodings in rx-protocol.md §10.4).
 *
 * Design: no buffering.  An encode is an rxsvc_call_send() with
 * RXSVC_SEND_MORE (the engine already gathers bytes into packets); a
 * decode is an rxsvc_call_recv() with RXSVC_RECV_WAITALL of exactly the
 * bytes the type needs, so nothing is ever read ahead and raw reads and
 * writes (split calls) can be interleaved with XDR.  Counts from the wire
 * are compared with the caller's maximum before anything else, and
 * allocations grow with the bytes that really arrive (at most 64 KiB
 * ahead of them), so a peer announcing a large count and sending nothing
 * pins no memory (OpenAFS advisory 2024-003 was about such decoders).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rxsvc/xdr.h>

#define GROW_STEP 65536u /* largest allocation ahead of received bytes */

static int xdr_fail(struct rxsvc_xdr *x, int err)
{
	if (!x->error)
		x->error = err;
	return x->error;
}

RXSVC_API void rxsvc_xdr_init_call(struct rxsvc_xdr *x, struct rxsvc_call *call,
				   enum rxsvc_xdr_op op)
{
	memset(x, 0, sizeof(*x));
	x->op = op;
	x->call = call;
	x->client = rxsvc_call_state(call) < RXSVC_CALL_SERVER_PREALLOC;
}

RXSVC_API void rxsvc_xdr_init_mem(struct rxsvc_xdr *x, enum rxsvc_xdr_op op,
				  void *buf, size_t len)
{
	memset(x, 0, sizeof(*x));
	x->op = op;
	x->buf = buf;
	x->len = len;
}

/* Write @n bytes of @p (NULL: zeros, n <= 4). */
static int put(struct rxsvc_xdr *x, const void *p, size_t n)
{
	static const uint8_t zero[4];

	if (x->error)
		return x->error;
	if (!p)
		p = zero;
	if (!x->call) {
		if (x->buf) {
			if (n > x->len - x->pos)
				return xdr_fail(x, -EMSGSIZE);
			memcpy(x->buf + x->pos, p, n);
		}
		x->pos += n;
		return 0;
	}
	while (n) {
		struct iovec iov = { (void *)p, n };
		int ret = rxsvc_call_send(x->call, &iov, 1, n, RXSVC_SEND_MORE);

		if (ret < 0) {
			x->abort_code = rxsvc_call_abort_code(x->call);
			return xdr_fail(x, ret);
		}
		if (ret == 0)
			return xdr_fail(x, -EIO);
		p = (const uint8_t *)p + ret;
		n -= (size_t)ret;
		x->pos += (size_t)ret;
	}
	return 0;
}

/* Read exactly @n bytes into @p; a stream ending first is -EBADMSG. */
static int get(struct rxsvc_xdr *x, void *p, size_t n)
{
	if (x->error)
		return x->error;
	if (!x->call) {
		if (n > x->len - x->pos)
			return xdr_fail(x, -EBADMSG);
		memcpy(p, x->buf + x->pos, n);
		x->pos += n;
		return 0;
	}
	while (n) {
		unsigned int fl = RXSVC_RECV_WAITALL;
		int32_t code = 0;
		int ret = rxsvc_call_recv(x->call, p, n, &fl, &code);

		if (ret < 0) {
			x->abort_code = code;
			return xdr_fail(x, ret);
		}
		p = (uint8_t *)p + ret;
		n -= (size_t)ret;
		x->pos += (size_t)ret;
		if (n && (fl & RXSVC_RECV_END))
			return xdr_fail(x, -EBADMSG);
	}
	return 0;
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int pad(struct rxsvc_xdr *x, size_t n)
{
	uint8_t scratch[4];
	size_t k = (4 - (n & 3)) & 3;

	if (!k || x->op == RXSVC_XDR_FREE)
		return x->error;
	if (x->op == RXSVC_XDR_ENCODE)
		return put(x, NULL, k);
	/* Pad bytes are not checked (rx-protocol.md §10.4). */
	return get(x, scratch, k);
}

RXSVC_API int rxsvc_xdr_uint32(struct rxsvc_xdr *x, uint32_t *v)
{
	uint8_t b[4];

	switch (x->op) {
	case RXSVC_XDR_ENCODE:
		put_be32(b, *v);
		return put(x, b, 4);
	case RXSVC_XDR_DECODE:
		if (get(x, b, 4) == 0)
			*v = get_be32(b);
		return x->error;
	case RXSVC_XDR_FREE:
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_int32(struct rxsvc_xdr *x, int32_t *v)
{
	uint32_t u = (uint32_t)*v;

	if (rxsvc_xdr_uint32(x, &u) == 0)
		*v = (int32_t)u;
	return x->error;
}

RXSVC_API int rxsvc_xdr_uint64(struct rxsvc_xdr *x, uint64_t *v)
{
	uint32_t hi = (uint32_t)(*v >> 32);
	uint32_t lo = (uint32_t)*v;

	rxsvc_xdr_uint32(x, &hi);
	if (rxsvc_xdr_uint32(x, &lo) == 0 && x->op == RXSVC_XDR_DECODE)
		*v = (uint64_t)hi << 32 | lo;
	return x->error;
}

RXSVC_API int rxsvc_xdr_int64(struct rxsvc_xdr *x, int64_t *v)
{
	uint64_t u = (uint64_t)*v;

	if (rxsvc_xdr_uint64(x, &u) == 0)
		*v = (int64_t)u;
	return x->error;
}

/* The small types travel as 4-byte values; decoded ones must fit. */
static int small(struct rxsvc_xdr *x, int32_t *v, int32_t lo, int32_t hi)
{
	if (rxsvc_xdr_int32(x, v) == 0 && x->op == RXSVC_XDR_DECODE &&
	    (*v < lo || *v > hi))
		return xdr_fail(x, -EBADMSG);
	return x->error;
}

RXSVC_API int rxsvc_xdr_int16(struct rxsvc_xdr *x, int16_t *v)
{
	int32_t w = *v;

	if (small(x, &w, INT16_MIN, INT16_MAX) == 0)
		*v = (int16_t)w;
	return x->error;
}

RXSVC_API int rxsvc_xdr_uint16(struct rxsvc_xdr *x, uint16_t *v)
{
	int32_t w = *v;

	if (small(x, &w, 0, UINT16_MAX) == 0)
		*v = (uint16_t)w;
	return x->error;
}

RXSVC_API int rxsvc_xdr_int8(struct rxsvc_xdr *x, int8_t *v)
{
	int32_t w = *v;

	if (small(x, &w, INT8_MIN, INT8_MAX) == 0)
		*v = (int8_t)w;
	return x->error;
}

RXSVC_API int rxsvc_xdr_uint8(struct rxsvc_xdr *x, uint8_t *v)
{
	int32_t w = *v;

	if (small(x, &w, 0, UINT8_MAX) == 0)
		*v = (uint8_t)w;
	return x->error;
}

RXSVC_API int rxsvc_xdr_bool(struct rxsvc_xdr *x, bool *v)
{
	int32_t w = *v ? 1 : 0;

	if (small(x, &w, 0, 1) == 0)
		*v = w != 0;
	return x->error;
}

RXSVC_API int rxsvc_xdr_enum(struct rxsvc_xdr *x, int *v)
{
	int32_t w = *v;

	if (rxsvc_xdr_int32(x, &w) == 0)
		*v = w;
	return x->error;
}

RXSVC_API int rxsvc_xdr_float(struct rxsvc_xdr *x, float *v)
{
	uint32_t u;

	memcpy(&u, v, 4);
	if (rxsvc_xdr_uint32(x, &u) == 0)
		memcpy(v, &u, 4);
	return x->error;
}

RXSVC_API int rxsvc_xdr_double(struct rxsvc_xdr *x, double *v)
{
	uint64_t u;

	memcpy(&u, v, 8);
	if (rxsvc_xdr_uint64(x, &u) == 0)
		memcpy(v, &u, 8);
	return x->error;
}

/*
 * Decode @len bytes into a buffer allocated here, growing as they arrive,
 * with @extra zeroed bytes after them.  *bufp is set even on failure.
 */
static int get_alloc(struct rxsvc_xdr *x, uint8_t **bufp, size_t len,
		     size_t extra)
{
	size_t cap = len < GROW_STEP ? len : GROW_STEP;
	size_t have = 0;
	uint8_t *buf = calloc(1, cap + extra);

	*bufp = buf;
	if (!buf)
		return xdr_fail(x, -ENOMEM);
	while (have < len) {
		size_t n = len - have;

		if (have == cap) {
			size_t ncap = cap * 2 < len ? cap * 2 : len;
			uint8_t *nb = realloc(buf, ncap + extra);

			if (!nb)
				return xdr_fail(x, -ENOMEM);
			*bufp = buf = nb;
			memset(buf + cap, 0, ncap - cap + extra);
			cap = ncap;
		}
		if (n > cap - have)
			n = cap - have;
		if (get(x, buf + have, n) < 0)
			return x->error;
		have += n;
	}
	return 0;
}

RXSVC_API int rxsvc_xdr_string(struct rxsvc_xdr *x, char **sp, uint32_t max)
{
	uint32_t len;

	if (x->error)
		return x->error;
	switch (x->op) {
	case RXSVC_XDR_ENCODE: {
		size_t n = *sp ? strlen(*sp) : 0;

		if (n > max)
			return xdr_fail(x, -EMSGSIZE);
		len = (uint32_t)n;
		rxsvc_xdr_uint32(x, &len);
		put(x, *sp, len);
		return pad(x, len);
	}
	case RXSVC_XDR_DECODE:
		if (rxsvc_xdr_uint32(x, &len) < 0)
			return x->error;
		if (len > max)
			return xdr_fail(x, -EBADMSG);
		if (*sp) {
			if (get(x, *sp, len) == 0)
				(*sp)[len] = '\0';
		} else {
			get_alloc(x, (uint8_t **)sp, len, 1);
		}
		return pad(x, len);
	case RXSVC_XDR_FREE:
		free(*sp);
		*sp = NULL;
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_opaque(struct rxsvc_xdr *x, void *p, uint32_t n)
{
	switch (x->op) {
	case RXSVC_XDR_ENCODE:
		put(x, p, n);
		return pad(x, n);
	case RXSVC_XDR_DECODE:
		get(x, p, n);
		return pad(x, n);
	case RXSVC_XDR_FREE:
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_bytes(struct rxsvc_xdr *x, void **pp, uint32_t *lenp,
			      uint32_t max)
{
	uint32_t len;

	if (x->error)
		return x->error;
	switch (x->op) {
	case RXSVC_XDR_ENCODE:
		if (*lenp > max)
			return xdr_fail(x, -EMSGSIZE);
		if (*lenp && !*pp)
			return xdr_fail(x, -EINVAL);
		rxsvc_xdr_uint32(x, lenp);
		put(x, *pp, *lenp);
		return pad(x, *lenp);
	case RXSVC_XDR_DECODE:
		if (rxsvc_xdr_uint32(x, &len) < 0)
			return x->error;
		if (len > max)
			return xdr_fail(x, -EBADMSG);
		*lenp = len;
		if (*pp)
			get(x, *pp, len);
		else
			get_alloc(x, (uint8_t **)pp, len, 0);
		return pad(x, len);
	case RXSVC_XDR_FREE:
		free(*pp);
		*pp = NULL;
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_vector(struct rxsvc_xdr *x, void *base, uint32_t n,
			       size_t elsize, rxsvc_xdr_proc_t proc)
{
	uint8_t *p = base;

	for (uint32_t i = 0; i < n && !x->error; i++)
		proc(x, p + (size_t)i * elsize);
	return x->error;
}

/*
 * Decode @count elements into an array allocated here, growing.  *countp
 * counts the elements allocated so far, so that after a failure
 * rxsvc_xdr_free() walks only those.
 */
static int array_decode_alloc(struct rxsvc_xdr *x, void **basep,
			      uint32_t *countp, uint32_t count, size_t elsize,
			      rxsvc_xdr_proc_t proc)
{
	size_t step = GROW_STEP / elsize ? GROW_STEP / elsize : 1;
	size_t cap = count < step ? count : step;
	uint8_t *a = calloc(cap ? cap : 1, elsize);

	*basep = a;
	if (!a)
		return xdr_fail(x, -ENOMEM);
	for (uint32_t i = 0; i < count && !x->error; i++) {
		if (i == cap) {
			size_t ncap = cap * 2 < count ? cap * 2 : count;
			uint8_t *na = realloc(a, ncap * elsize);

			if (!na)
				return xdr_fail(x, -ENOMEM);
			memset(na + cap * elsize, 0, (ncap - cap) * elsize);
			*basep = a = na;
			cap = ncap;
		}
		*countp = i + 1;
		proc(x, a + (size_t)i * elsize);
	}
	return x->error;
}

RXSVC_API int rxsvc_xdr_array(struct rxsvc_xdr *x, void **basep,
			      uint32_t *countp, uint32_t max, size_t elsize,
			      rxsvc_xdr_proc_t proc)
{
	uint32_t count;

	if (x->error)
		return x->error;
	if (elsize == 0 || (max && elsize > SIZE_MAX / max))
		return xdr_fail(x, -EINVAL);
	switch (x->op) {
	case RXSVC_XDR_ENCODE:
		if (*countp > max)
			return xdr_fail(x, -EMSGSIZE);
		if (*countp && !*basep)
			return xdr_fail(x, -EINVAL);
		rxsvc_xdr_uint32(x, countp);
		return rxsvc_xdr_vector(x, *basep, *countp, elsize, proc);
	case RXSVC_XDR_DECODE:
		if (rxsvc_xdr_uint32(x, &count) < 0)
			return x->error;
		if (count > max)
			return xdr_fail(x, -EBADMSG);
		if (*basep) {
			*countp = count;
			return rxsvc_xdr_vector(x, *basep, count, elsize, proc);
		}
		*countp = 0;
		return array_decode_alloc(x, basep, countp, count, elsize,
					  proc);
	case RXSVC_XDR_FREE:
		if (*basep)
			rxsvc_xdr_vector(x, *basep, *countp, elsize, proc);
		free(*basep);
		*basep = NULL;
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_pointer(struct rxsvc_xdr *x, void **pp, size_t size,
				rxsvc_xdr_proc_t proc)
{
	bool present = *pp != NULL;

	if (x->error)
		return x->error;
	switch (x->op) {
	case RXSVC_XDR_ENCODE:
		if (rxsvc_xdr_bool(x, &present) == 0 && present)
			proc(x, *pp);
		return x->error;
	case RXSVC_XDR_DECODE:
		if (rxsvc_xdr_bool(x, &present) < 0)
			return x->error;
		if (!present) {
			free(*pp);
			*pp = NULL;
			return 0;
		}
		if (!*pp && !(*pp = calloc(1, size ? size : 1)))
			return xdr_fail(x, -ENOMEM);
		return proc(x, *pp);
	case RXSVC_XDR_FREE:
		if (*pp)
			proc(x, *pp);
		free(*pp);
		*pp = NULL;
		return 0;
	}
	return xdr_fail(x, -EINVAL);
}

RXSVC_API int rxsvc_xdr_union(struct rxsvc_xdr *x, int32_t *d, void *arm,
			      const struct rxsvc_xdr_arm *arms,
			      rxsvc_xdr_proc_t dflt)
{
	const struct rxsvc_xdr_arm *a;

	if (rxsvc_xdr_int32(x, d) < 0)
		return x->error;
	for (a = arms; a->proc || a->void_arm; a++)
		if (a->value == *d)
			return a->proc ? a->proc(x, arm) : 0;
	if (dflt)
		return dflt(x, arm);
	return xdr_fail(x, x->op == RXSVC_XDR_DECODE ? -EBADMSG : -EINVAL);
}

RXSVC_API void rxsvc_xdr_free(rxsvc_xdr_proc_t proc, void *obj)
{
	struct rxsvc_xdr x;

	rxsvc_xdr_init_mem(&x, RXSVC_XDR_FREE, NULL, 0);
	proc(&x, obj);
}

RXSVC_API int rxsvc_xdr_send_end(struct rxsvc_xdr *x)
{
	int ret;

	if (x->error || !x->call)
		return x->error;
	ret = rxsvc_call_send(x->call, NULL, 0, 0, 0);
	if (ret < 0) {
		x->abort_code = rxsvc_call_abort_code(x->call);
		return xdr_fail(x, ret);
	}
	return 0;
}

RXSVC_API int rxsvc_xdr_recv_end(struct rxsvc_xdr *x)
{
	unsigned int fl = 0;
	int32_t code = 0;
	uint8_t b;
	int ret;

	if (x->error)
		return x->error;
	if (!x->call)
		return x->pos == x->len ? 0 : xdr_fail(x, -EBADMSG);
	ret = rxsvc_call_recv(x->call, &b, 1, &fl, &code);
	if (ret < 0) {
		x->abort_code = code;
		return xdr_fail(x, ret);
	}
	if (ret > 0)
		return xdr_fail(x, -EBADMSG);
	return 0;
}

static bool is_xdr_failure(int err)
{
	return err == -EBADMSG || err == -EMSGSIZE || err == -ENOMEM ||
	       err == -EINVAL;
}

RXSVC_API int32_t rxsvc_xdr_abort(struct rxsvc_xdr *x)
{
	int32_t code;

	if (!x->error)
		return 0;
	if (!is_xdr_failure(x->error)) {
		if (x->abort_code)
			return x->abort_code;
		code = x->call ? rxsvc_call_abort_code(x->call) : 0;
		return code ? code : RX_CALL_DEAD;
	}
	if (x->op == RXSVC_XDR_ENCODE)
		code = x->client ? RXGEN_CC_MARSHAL : RXGEN_SS_MARSHAL;
	else
		code = x->client ? RXGEN_CC_UNMARSHAL : RXGEN_SS_UNMARSHAL;
	if (x->call)
		rxsvc_call_abort(x->call, code, x->error, "xdr");
	return code;
}
