/* SPDX-License-Identifier: MIT */
/*
 * XDR (RFC 4506 as used by Rx, rx-protocol.md §10) for rxgen-defined
 * services: encode and decode straight to and from a call's byte stream,
 * as OpenAFS's xdrrx does, or to and from a memory buffer.
 *
 * The functions are bidirectional in the Sun/rxgen manner: one function
 * per type, whose direction is the stream's op, so that a struct's codec
 * is written once:
 *
 *	static int xdr_pair(struct rxsvc_xdr *x, void *obj)
 *	{
 *		struct pair *p = obj;
 *
 *		rxsvc_xdr_int32(x, &p->a);
 *		rxsvc_xdr_string(x, &p->name, 64);
 *		return x->error;
 *	}
 *
 * Errors are sticky: after the first failure every function returns it
 * without touching the stream, so a codec may check only at the end.
 * Every decode is bounded by the caller's maxima (a string's length, an
 * array's count) and by the bytes the peer really sent: a count is never
 * trusted to size an allocation beyond what has arrived (buffers grow as
 * data comes in).  Failures:
 *   -EBADMSG   malformed or short input (a length above its maximum, the
 *              peer's stream ended early, a union arm not listed)
 *   -EMSGSIZE  encode: a value above its maximum, or a memory buffer full
 *   -ENOMEM    decode: no memory for a string, opaque, array or pointer
 *   other      the call failed (see rxsvc_call_recv/send); x->abort_code
 *              holds the abort code when it was aborted
 * rxsvc_xdr_abort() turns a failure into the rxgen abort code the peer
 * must see (RXGEN_CC_UNMARSHAL, RXGEN_SS_UNMARSHAL...) and aborts the call.
 *
 * Decoding allocates (with malloc) where a pointer is NULL, as Sun XDR
 * does; rxsvc_xdr_free() releases what a decode allocated.  A failed
 * decode leaves what it allocated so far in the object: free it too.
 *
 * Split calls (rx-protocol.md §10.3): XDR reads and writes go straight to
 * the call with no buffering, so raw rxsvc_call_send/recv may be mixed
 * freely with XDR on the same call: encode the opcode and IN arguments,
 * stream raw bytes, rxsvc_xdr_send_end(), read raw bytes, decode the OUT
 * arguments, rxsvc_xdr_recv_end().
 *
 * Threads: a struct rxsvc_xdr is used by one thread at a time; a stream
 * on a call blocks like rxsvc_call_send/recv do.
 */
#ifndef RXSVC_XDR_H
#define RXSVC_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rxsvc/rxsvc.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rxsvc_xdr_op {
	RXSVC_XDR_ENCODE,
	RXSVC_XDR_DECODE,
	RXSVC_XDR_FREE, /* release what a decode allocated */
};

/*
 * An XDR stream.  Every field is documented and may be read; set them
 * only through the init functions.  (A plain struct so that it lives on
 * the stack, like OpenAFS's XDR: no internal state hides in it.)
 */
struct rxsvc_xdr {
	enum rxsvc_xdr_op op;
	struct rxsvc_call *call; /* the call, or NULL for a memory stream */
	uint8_t *buf;		 /* memory stream: the buffer */
	size_t len;		 /* memory stream: its size */
	size_t pos;		 /* bytes encoded or decoded so far */
	int error;		 /* 0, or the first failure (negative errno) */
	int32_t abort_code;	 /* the call's abort code when it failed */
	int client;		 /* 1: a client call (rxgen CC_ codes) */
};

/* Encodes or decodes one object; returns 0 or x->error. */
typedef int (*rxsvc_xdr_proc_t)(struct rxsvc_xdr *x, void *obj);

/*
 * A stream on @call in direction @op (ENCODE writes the call's outgoing
 * stream with RXSVC_SEND_MORE, DECODE reads the incoming one).  Whether
 * the call is a client call is taken from its state.
 */
RXSVC_API void rxsvc_xdr_init_call(struct rxsvc_xdr *x, struct rxsvc_call *call,
				   enum rxsvc_xdr_op op);

/*
 * A stream on memory: DECODE reads @len bytes of @buf; ENCODE writes at
 * most @len bytes into @buf (then -EMSGSIZE), or with @buf NULL only
 * counts the bytes into x->pos.  FREE ignores @buf.
 */
RXSVC_API void rxsvc_xdr_init_mem(struct rxsvc_xdr *x, enum rxsvc_xdr_op op,
				  void *buf, size_t len);

/* Integers: 4 bytes big-endian each; 64-bit ones are 8 (high word first).
 * Decoding the 8- and 16-bit forms fails with -EBADMSG if the value does
 * not fit (rxgen truncates; we refuse). */
RXSVC_API int rxsvc_xdr_int32(struct rxsvc_xdr *x, int32_t *v);
RXSVC_API int rxsvc_xdr_uint32(struct rxsvc_xdr *x, uint32_t *v);
RXSVC_API int rxsvc_xdr_int64(struct rxsvc_xdr *x, int64_t *v);
RXSVC_API int rxsvc_xdr_uint64(struct rxsvc_xdr *x, uint64_t *v);
RXSVC_API int rxsvc_xdr_int16(struct rxsvc_xdr *x, int16_t *v);
RXSVC_API int rxsvc_xdr_uint16(struct rxsvc_xdr *x, uint16_t *v);
RXSVC_API int rxsvc_xdr_int8(struct rxsvc_xdr *x, int8_t *v);
RXSVC_API int rxsvc_xdr_uint8(struct rxsvc_xdr *x, uint8_t *v);
/* bool: 4 bytes, 0 or 1; any other value decodes as -EBADMSG. */
RXSVC_API int rxsvc_xdr_bool(struct rxsvc_xdr *x, bool *v);
/* enum: 4 bytes; C enums are ints. */
RXSVC_API int rxsvc_xdr_enum(struct rxsvc_xdr *x, int *v);
RXSVC_API int rxsvc_xdr_float(struct rxsvc_xdr *x, float *v);
RXSVC_API int rxsvc_xdr_double(struct rxsvc_xdr *x, double *v);

/*
 * string s<max>: length, bytes, zero pad to 4.  Decode: a length above
 * @max is -EBADMSG; with *sp NULL a buffer of length + 1 is allocated,
 * otherwise *sp must have room for @max + 1 bytes.  The result is always
 * NUL-terminated (bytes after an embedded NUL are kept but invisible to
 * C string functions).  Encode: strlen(*sp) > @max is -EMSGSIZE; a NULL
 * *sp encodes as "".
 */
RXSVC_API int rxsvc_xdr_string(struct rxsvc_xdr *x, char **sp, uint32_t max);

/* opaque p[n] (fixed): @n bytes and zero pad to 4. */
RXSVC_API int rxsvc_xdr_opaque(struct rxsvc_xdr *x, void *p, uint32_t n);

/*
 * opaque p<max> (counted): length, bytes, pad.  Decode: a length above
 * @max is -EBADMSG; with *pp NULL the buffer is allocated (and grows with
 * the bytes that arrive), otherwise *pp must have room for @max bytes.
 */
RXSVC_API int rxsvc_xdr_bytes(struct rxsvc_xdr *x, void **pp, uint32_t *lenp,
			      uint32_t max);

/* T a[n] (fixed array): @n elements of @elsize bytes, no count. */
RXSVC_API int rxsvc_xdr_vector(struct rxsvc_xdr *x, void *base, uint32_t n,
			       size_t elsize, rxsvc_xdr_proc_t proc);

/*
 * T a<max> (counted array): count, then the elements.  Decode: a count
 * above @max is -EBADMSG; with *basep NULL the array is allocated (zeroed,
 * growing with the elements that arrive), otherwise *basep must have room
 * for @max elements.  Six parameters, as Sun's xdr_array has.
 */
RXSVC_API int rxsvc_xdr_array(struct rxsvc_xdr *x, void **basep,
			      uint32_t *countp, uint32_t max, size_t elsize,
			      rxsvc_xdr_proc_t proc);

/*
 * T *p (optional): a bool, then the object if present.  Decode allocates
 * a zeroed object of @size bytes when present (*pp must be NULL or point
 * to an object of that size); absent sets *pp to NULL.
 */
RXSVC_API int rxsvc_xdr_pointer(struct rxsvc_xdr *x, void **pp, size_t size,
				rxsvc_xdr_proc_t proc);

/* One arm of a union: discriminant value and the arm's codec
 * (NULL proc with a non-zero `void_arm' is an arm with no data). */
struct rxsvc_xdr_arm {
	int32_t value;
	rxsvc_xdr_proc_t proc;
	int void_arm;
};
#define RXSVC_XDR_ARMS_END \
	{                  \
		0, NULL, 0 \
	}

/*
 * union: the 4-byte discriminant *d, then the arm listed for it in @arms
 * (ended by RXSVC_XDR_ARMS_END) applied to @arm; a discriminant not listed
 * uses @dflt, or fails with -EBADMSG (decode) / -EINVAL (encode) if NULL.
 */
RXSVC_API int rxsvc_xdr_union(struct rxsvc_xdr *x, int32_t *d, void *arm,
			      const struct rxsvc_xdr_arm *arms,
			      rxsvc_xdr_proc_t dflt);

/*
 * Release what decoding with @proc allocated inside @obj (not @obj
 * itself), setting freed pointers to NULL.
 */
RXSVC_API void rxsvc_xdr_free(rxsvc_xdr_proc_t proc, void *obj);

/*
 * Call streams.  send_end ends the outgoing stream (the request on a
 * client, the reply on a server: a final packet with LAST_PACKET).
 * recv_end checks that the incoming stream has no bytes left; extra
 * bytes are -EBADMSG (Linux's services refuse them, OpenAFS ignores
 * them: call it or not accordingly).  Both return 0 or the error, which
 * also becomes x->error.  On a memory stream recv_end checks pos == len.
 */
RXSVC_API int rxsvc_xdr_send_end(struct rxsvc_xdr *x);
RXSVC_API int rxsvc_xdr_recv_end(struct rxsvc_xdr *x);

/*
 * The abort code for a failed stream, after aborting the call with it
 * when the failure was ours: an XDR failure on a client call aborts with
 * RXGEN_CC_MARSHAL (encode) or RXGEN_CC_UNMARSHAL (decode), on a server
 * call with RXGEN_SS_MARSHAL or RXGEN_SS_UNMARSHAL (rx-protocol.md §10.2);
 * if the call itself was aborted, its abort code is returned.  Returns 0
 * if x->error is 0.  Memory streams return the code without aborting.
 */
RXSVC_API int32_t rxsvc_xdr_abort(struct rxsvc_xdr *x);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_XDR_H */
