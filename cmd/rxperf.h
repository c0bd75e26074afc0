/* SPDX-License-Identifier: MIT */
/*
 * rxperf.h - the rxperf protocol (service 147, rx-protocol.md §9): the
 * server side rxsvcd hosts on every endpoint, and `rxsvc perf`, a client
 * that drives any rxperf server (ours, OpenAFS's, Linux's).
 */
#ifndef RXS_CMD_RXPERF_H
#define RXS_CMD_RXPERF_H

#include <rxsvc/rxsvc.h>

#define RXPERF_SERVICE 147
#define RXPERF_PORT    7009

/*
 * Serve one incoming rxperf call to completion with blocking receives and
 * sends: SEND, RECV, RPC and FILE as OpenAFS's src/tools/rxperf defines
 * them.  Errors abort the call with Linux's codes (design.md
 * "Decisions"): bad version RX_USER_ABORT (-6), short or overlong
 * request RXGEN_SS_UNMARSHAL (-453), unknown opcode RXGEN_OPCODE (-455).
 * It does not end the call: the caller calls rxsvc_call_end() after it
 * returns.  Any thread but the endpoint's I/O thread (it blocks).
 */
void rxperf_serve_call(struct rxsvc_call *call);

/* Requests and replies up to this size may be served from notify_rx. */
#define RXPERF_INLINE_MAX (16u * 1024u)

/*
 * Serve the call right away if that cannot block: the whole request has
 * arrived, and the reply (which rxperf's request header announces) is at
 * most RXPERF_INLINE_MAX bytes.  Returns true if it did (the caller then
 * ends the call), false with nothing read otherwise.  Safe in notify_rx.
 */
bool rxperf_serve_inline(struct rxsvc_call *call);

/*
 * `rxsvc perf ADDR:PORT rpc|send|recv|file [options]`; argv[0] is
 * "perf".  Returns the exit status: 0 all calls succeeded, 1 some
 * failed, 2 usage, 5 local error.
 */
int rxsvc_cmd_perf(int argc, char **argv);

#endif /* RXS_CMD_RXPERF_H */
