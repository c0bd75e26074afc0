/* SPDX-License-Identifier: MIT */
/*
 * protobuf-c services over Rx (librxsvc-pb, pkg-config rxsvc-pb).
 *
 * A service described by protoc-c's output (a ProtobufCServiceDescriptor)
 * is served on an Rx service ID of the user's choosing; a client is a
 * ProtobufCService whose invoke makes one Rx call per method call, so
 * protoc-c's generated client stubs work unchanged.  This header includes
 * protobuf-c's (design.md, "Decisions → IDL"): it is the one public header
 * that does, and librxsvc itself does not depend on protobuf-c.
 *
 * Wire format, rxgen's shape (rx-protocol.md §10.1):
 *   request = be32 opcode (the method's index in the descriptor),
 *             then the packed input message (to the end of the stream)
 *   reply   = the packed output message (to the end of the stream)
 * Failures are Rx aborts: an unknown opcode is RXGEN_OPCODE (-455); a
 * request that does not unpack, or is longer than the service's maximum,
 * is RXGEN_SS_UNMARSHAL (-453); a reply the client cannot unpack (or
 * longer than its maximum) fails the call locally with RXGEN_CC_UNMARSHAL
 * (-451); a method may abort with a code of its own (rxsvc_pb_abort).
 *
 * Describe: opcode RXSVC_PB_DESCRIBE (0xFFFFFFFF), no arguments; the reply
 * is XDR (include/rxsvc/xdr.h):
 *   string service<1024>           full name, e.g. "kv.KeyValue"
 *   unsigned n                     number of methods, <= 4096
 *   n times: string method<1024>, string input<1024>, string output<1024>
 *                                  (message types by full name)
 *
 * Streams (protobuf-c drops `stream` methods; this is ours): a call whose
 * opcode is RXSVC_PB_STREAM | index is "framed": each direction is a
 * sequence of zero or more frames, frame = be32 length L then L bytes of
 * a packed message (the method's input type from client to server, its
 * output type from server to client); a sequence ends where its Rx stream
 * ends (LAST_PACKET).  An Rx call is half-duplex: the server reads the
 * client's whole sequence before it sends its own.  Flow control is the
 * Rx window: a sender blocks while the peer has not consumed enough.
 * Frames are gathered into packets, so a frame may wait in a part-filled
 * packet until more frames follow or the stream ends.
 *
 * Threads: everything is thread-safe except where noted.  Method
 * implementations run on the server's worker threads.
 */
#ifndef RXSVC_PB_H
#define RXSVC_PB_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>
#include <rxsvc/rxsvc.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXSVC_PB_DESCRIBE 0xFFFFFFFFu /* the describe opcode */
#define RXSVC_PB_STREAM	  0x40000000u /* opcode bit: a framed call */

struct rxsvc_pb_stream; /* opaque: one framed call, either side */

/* ---------------------------------------------------------------- */
/* Server                                                            */
/* ---------------------------------------------------------------- */

/*
 * Runs a framed call of method @method on a worker thread: read the
 * client's frames with rxsvc_pb_stream_recv() until it returns 0, then
 * send frames with rxsvc_pb_stream_send().  Return 0 to end the reply
 * normally, or an abort code to abort the call with it.
 */
typedef int32_t (*rxsvc_pb_stream_fn)(struct rxsvc_pb_stream *st,
				      unsigned int method, void *arg);

struct rxsvc_pb_serve_opts {
	uint32_t size;		   /* sizeof(struct rxsvc_pb_serve_opts) */
	size_t max_request;	   /* largest request body (def. 4 MiB); in
				    * framed calls, the largest frame */
	unsigned int threads;	   /* worker threads of the endpoint (def. 4;
				    * the first serve on an endpoint sets it) */
	unsigned int backlog;	   /* preallocated calls (def. 32; ditto) */
	rxsvc_pb_stream_fn stream; /* framed calls; NULL: RXGEN_OPCODE */
	void *stream_arg;
};
#define RXSVC_PB_SERVE_OPTS_INIT                           \
	{                                                  \
		.size = sizeof(struct rxsvc_pb_serve_opts) \
	}

/*
 * Serve @impl (a protoc-c service, e.g. made with FOO__INIT(prefix_)) on
 * @service_id of @sock.  The first serve on an endpoint makes it listen,
 * takes its accept callbacks and starts worker threads; later calls add
 * services (16 per endpoint at most, the engine's limit).  @impl and its
 * descriptor must outlive the service.  @opts may be NULL.
 *
 * A method is called with the unpacked input (freed when the method
 * returns) and must call the closure exactly once, with the reply, or
 * NULL to abort with RX_USER_ABORT, possibly later and from another
 * thread (the input is gone by then); or call rxsvc_pb_abort().
 *
 * Returns 0 or -EINVAL, -EEXIST (service ID taken), -ENOSPC, -ENOMEM,
 * -EAGAIN (threads).  Not from an engine callback.
 */
RXSVC_API int rxsvc_pb_serve(struct rxsvc_sock *sock, uint16_t service_id,
			     const ProtobufCService *impl,
			     const struct rxsvc_pb_serve_opts *opts);

/*
 * Stop serving on @sock: no new calls are taken, calls in flight are
 * given up to @timeout_ms to finish (then aborted), worker threads stop.
 * Call before rxsvc_sock_close().  Not from a method or engine callback.
 */
RXSVC_API void rxsvc_pb_unserve(struct rxsvc_sock *sock, int timeout_ms);

/*
 * From a method, instead of its closure: abort the call with @abort_code
 * (the client sees it).  @closure_data is the method's closure_data.
 */
RXSVC_API void rxsvc_pb_abort(void *closure_data, int32_t abort_code);

/* From a method: its Rx call (for rxsvc_call_peer() and the like).  Valid
 * until the closure is called. */
RXSVC_API struct rxsvc_call *rxsvc_pb_call(void *closure_data);

/* ---------------------------------------------------------------- */
/* Client                                                            */
/* ---------------------------------------------------------------- */

struct rxsvc_pb_client_params {
	uint32_t size; /* sizeof(struct rxsvc_pb_client_params) */
	const ProtobufCServiceDescriptor *descriptor;
	struct rxsvc_sock *sock;   /* endpoint the calls are made on */
	struct rxsvc_srx peer;	   /* server address and Rx service ID */
	struct rxsvc_key *key;	   /* NULL: the endpoint's default (rxnull) */
	struct event_base *base;   /* NULL: invoke blocks; else asynchronous,
				    * closures run on this loop */
	size_t max_reply;	   /* largest reply (def. 64 MiB); in framed
				    * calls, the largest frame */
	unsigned int flags;	   /* RXSVC_PB_* */
	unsigned int busy_retries; /* BUSY: begin again this often (def. 3) */
	unsigned int hard_time_ms; /* per call; 0: the endpoint's default */
};
#define RXSVC_PB_CLIENT_PARAMS_INIT                           \
	{                                                     \
		.size = sizeof(struct rxsvc_pb_client_params) \
	}
/* rxsvc_pb_client_new describes the server and refuses (-EPROTO) if its
 * service name, methods or message types differ from the descriptor. */
#define RXSVC_PB_CHECK_DESCRIPTOR 0x1

/*
 * Make a client.  *svcp is a ProtobufCService for protoc-c's client stubs
 * (foo__bar(svc, &req, closure, data)) and for rxsvc_pb_invoke(); free it
 * with protobuf_c_service_destroy() once no call is in flight.
 *
 * Blocking (p->base NULL): invoke returns after running the closure with
 * the reply, or with NULL on failure.  Asynchronous: invoke begins the
 * call and returns; the closure runs later on p->base's loop, which must
 * be the endpoint's embedded loop (or one created after the endpoint, so
 * that libevent's locking is on).  In both cases the reply is freed when
 * the closure returns, and rxsvc_pb_last_abort()/_error() tell why a call
 * failed while the closure runs.
 *
 * Returns 0 or -EINVAL, -ENOMEM, and with RXSVC_PB_CHECK_DESCRIPTOR the
 * describe call's failure or -EPROTO.  The check blocks: in embedded mode
 * do it from a thread other than the loop's.
 */
RXSVC_API int rxsvc_pb_client_new(const struct rxsvc_pb_client_params *p,
				  ProtobufCService **svcp);

/*
 * A blocking call on a client made by rxsvc_pb_client_new (either kind):
 * on success *out is the reply (free with protobuf_c_message_free_unpacked
 * (*out, NULL)).  Returns 0; -ECONNABORTED with *abort_code set (the
 * server's code, RXGEN_OPCODE...); -EBADMSG with *abort_code
 * RXGEN_CC_UNMARSHAL (reply did not unpack or was too long); -EBUSY,
 * -ETIMEDOUT, -ENOMEM and other call errors (*abort_code then the
 * call's, or RX_CALL_DEAD).  Any thread except an embedded loop's.
 */
RXSVC_API int rxsvc_pb_invoke(ProtobufCService *svc, unsigned int method,
			      const ProtobufCMessage *in,
			      ProtobufCMessage **out, int32_t *abort_code);

/* The abort code and error (negative errno) of the last call completed on
 * this thread: inside a closure, of the call it reports on.  0 if it
 * succeeded. */
RXSVC_API int32_t rxsvc_pb_last_abort(void);
RXSVC_API int rxsvc_pb_last_error(void);

/* ---------------------------------------------------------------- */
/* Describe                                                          */
/* ---------------------------------------------------------------- */

struct rxsvc_pb_method_desc {
	char *name;
	char *input;  /* full name of the input message type */
	char *output; /* full name of the output message type */
};

struct rxsvc_pb_description {
	char *service; /* full service name */
	uint32_t n_methods;
	struct rxsvc_pb_method_desc *methods;
};

/*
 * Ask the server at @peer (address and service ID) what it serves.  On
 * success *dp is the answer (free with rxsvc_pb_description_free).
 * Returns 0 or an error as rxsvc_pb_invoke does (-ECONNABORTED with
 * RXGEN_OPCODE from a server that is not an rxsvc-pb one).  Blocks.
 */
RXSVC_API int rxsvc_pb_describe(struct rxsvc_sock *sock,
				const struct rxsvc_srx *peer,
				struct rxsvc_key *key,
				struct rxsvc_pb_description **dp,
				int32_t *abort_code);
RXSVC_API void rxsvc_pb_description_free(struct rxsvc_pb_description *d);

/* 0 if @d describes exactly @desc (names, methods in order, types), else
 * -EPROTO. */
RXSVC_API int rxsvc_pb_description_check(
	const struct rxsvc_pb_description *d,
	const ProtobufCServiceDescriptor *desc);

/* ---------------------------------------------------------------- */
/* Framed (streaming) calls                                          */
/* ---------------------------------------------------------------- */

/*
 * Client: begin a framed call of @method.  Send frames, end them with
 * rxsvc_pb_stream_send_end(), receive the server's frames until
 * rxsvc_pb_stream_recv() returns 0, then rxsvc_pb_stream_close().
 * Blocking only.  Returns 0 or rxsvc_call_begin's errors, -EINVAL.
 */
RXSVC_API int rxsvc_pb_stream_open(ProtobufCService *svc, unsigned int method,
				   struct rxsvc_pb_stream **stp);

/* Send one message (the method's input type from a client, output type
 * from a server).  Blocks while the Rx window is full.  0 or -errno
 * (the call's error; -EPROTO when it is not this side's turn). */
RXSVC_API int rxsvc_pb_stream_send(struct rxsvc_pb_stream *st,
				   const ProtobufCMessage *msg);

/* End this side's sequence.  (A server's ends when its handler returns
 * 0, if it has not ended it.)  0 or -errno. */
RXSVC_API int rxsvc_pb_stream_send_end(struct rxsvc_pb_stream *st);

/*
 * Receive the peer's next message into *msgp (free it with
 * protobuf_c_message_free_unpacked(*msgp, NULL)).  Returns 1 with a
 * message, 0 at the end of the peer's sequence, -EBADMSG for a frame
 * longer than the maximum, cut short or not unpacking (the caller should
 * then abort: a server handler returns RXGEN_SS_UNMARSHAL, a client
 * closes), or the call's error (-ECONNABORTED...).  A client must have
 * ended its own sequence first.
 */
RXSVC_API int rxsvc_pb_stream_recv(struct rxsvc_pb_stream *st,
				   ProtobufCMessage **msgp);

/* The stream's Rx call. */
RXSVC_API struct rxsvc_call *rxsvc_pb_stream_call(struct rxsvc_pb_stream *st);

/*
 * Client: finish the call and free @st.  Returns 0 if the call
 * succeeded, else an error as rxsvc_pb_invoke (*abort_code set; may be
 * NULL).  A call not fully received is aborted with RX_USER_ABORT.
 */
RXSVC_API int rxsvc_pb_stream_close(struct rxsvc_pb_stream *st,
				    int32_t *abort_code);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_PB_H */
