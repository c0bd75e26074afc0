/* SPDX-License-Identifier: MIT */
/*
 * pb_internal.h - what the files of librxsvc-pb share.  Map of the
 * library: pb_server.c (rxsvc_pb_serve, workers, dispatch), pb_client.c
 * (the client ProtobufCService, blocking and asynchronous invoke),
 * pb_describe.c (the describe opcode, both sides), pb_stream.c (framed
 * calls, both sides).
 */
#ifndef RXS_IDL_PB_INTERNAL_H
#define RXS_IDL_PB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rxsvc/pb.h>

#define RXS_PB_DEF_MAX_REQUEST (4u << 20)
#define RXS_PB_DEF_MAX_REPLY   (64u << 20)
#define RXS_PB_NAME_MAX	       1024u
#define RXS_PB_METHODS_MAX     4096u

/* The client service: the ProtobufCService the user holds comes first. */
struct rxs_pb_client {
	ProtobufCService base;
	struct rxsvc_pb_client_params p; /* [const] */
};

static inline uint32_t rxs_pb_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void rxs_pb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* pb_client.c */
/* A fresh user call ID for a call whose context needs no ID. */
unsigned long rxs_pb_call_id(void);
/* Record a finished call's status for rxsvc_pb_last_abort()/_error(). */
void rxs_pb_set_last(int error, int32_t abort_code);
/* Abort code and errno that describe a failed call. */
int rxs_pb_call_failure(struct rxsvc_call *call, int ret, int32_t *abort_code);
/* The reply of a raw call: the body (malloc'd) or the failure's code. */
struct rxs_pb_reply {
	uint8_t *buf;
	size_t len;
	int32_t abort_code;
};
/*
 * A blocking call with a raw request body (opcode included) on the
 * client @p describes; the reply may be at most p->max_reply bytes.
 * Returns 0 or an error as rxsvc_pb_invoke.
 */
int rxs_pb_call_raw(const struct rxsvc_pb_client_params *p, const uint8_t *req,
		    size_t reqlen, struct rxs_pb_reply *r);
/* Fill defaults into a copy of the user's client parameters. */
int rxs_pb_client_params(const struct rxsvc_pb_client_params *in,
			 struct rxsvc_pb_client_params *out);

/* The client behind @svc, or NULL if it is not one of ours. */
const struct rxs_pb_client *rxs_pb_client_of(ProtobufCService *svc);

/* pb_describe.c */
/* Encode the describe reply of @desc into a malloc'd buffer. */
int rxs_pb_describe_encode(const ProtobufCServiceDescriptor *desc,
			   uint8_t **bufp, size_t *lenp);

/* pb_stream.c */
/* A server-side stream on @call for the handler; freed by the caller
 * with rxs_pb_stream_free(). */
struct rxsvc_pb_stream *rxs_pb_stream_server(struct rxsvc_call *call,
					     const ProtobufCMethodDescriptor *m,
					     size_t max_frame);
bool rxs_pb_stream_ended(struct rxsvc_pb_stream *st);
void rxs_pb_stream_free(struct rxsvc_pb_stream *st);

#endif
