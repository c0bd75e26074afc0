/* SPDX-License-Identifier: MIT */
/*
 * stats.c - counters, names of enums, and the observer hook.
 */
#include <string.h>

#include "rxsvc/internal.h"
#include <rxsvc/rxkad.h>

static const char *const stat_names[] = {
#define RXS_X(n) #n,
	RXS_STAT_LIST(RXS_X)
#undef RXS_X
};

RXSVC_API int rxsvc_sock_get_stats(struct rxsvc_sock *sock, uint64_t *vals,
				   size_t n)
{
	for (size_t i = 0; i < n && i < RXS_STAT__COUNT; i++)
		vals[i] = __atomic_load_n(&sock->stats[i], __ATOMIC_RELAXED);
	return RXS_STAT__COUNT;
}

RXSVC_API const char *rxsvc_stat_name(size_t i)
{
	return i < RXS_STAT__COUNT ? stat_names[i] : NULL;
}

RXSVC_API uint64_t rxsvc_sock_stat(struct rxsvc_sock *sock, const char *name)
{
	for (size_t i = 0; i < RXS_STAT__COUNT; i++)
		if (!strcmp(stat_names[i], name))
			return __atomic_load_n(&sock->stats[i],
					       __ATOMIC_RELAXED);
	return 0;
}

RXSVC_API const char *rxsvc_abort_name(int32_t code)
{
	switch (code) {
	case RX_CALL_DEAD:
		return "RX_CALL_DEAD";
	case RX_INVALID_OPERATION:
		return "RX_INVALID_OPERATION";
	case RX_CALL_TIMEOUT:
		return "RX_CALL_TIMEOUT";
	case RX_EOF:
		return "RX_EOF";
	case RX_PROTOCOL_ERROR:
		return "RX_PROTOCOL_ERROR";
	case RX_USER_ABORT:
		return "RX_USER_ABORT";
	case RX_ADDRINUSE:
		return "RX_ADDRINUSE";
	case RX_DEBUGI_BADTYPE:
		return "RX_DEBUGI_BADTYPE";
	case RX_RESTARTING:
		return "RX_RESTARTING";
	case RXGEN_CC_MARSHAL:
		return "RXGEN_CC_MARSHAL";
	case RXGEN_CC_UNMARSHAL:
		return "RXGEN_CC_UNMARSHAL";
	case RXGEN_SS_MARSHAL:
		return "RXGEN_SS_MARSHAL";
	case RXGEN_SS_UNMARSHAL:
		return "RXGEN_SS_UNMARSHAL";
	case RXGEN_DECODE:
		return "RXGEN_DECODE";
	case RXGEN_OPCODE:
		return "RXGEN_OPCODE";
	case RXGEN_SS_XDRFREE:
		return "RXGEN_SS_XDRFREE";
	case RXGEN_CC_XDRFREE:
		return "RXGEN_CC_XDRFREE";
	}
	return rxsvc_rxkad_abort_name(code);
}

RXSVC_API const char *rxsvc_completion_name(enum rxsvc_completion how)
{
	switch (how) {
	case RXSVC_COMPLETE_NONE:
		return "none";
	case RXSVC_COMPLETE_SUCCEEDED:
		return "succeeded";
	case RXSVC_COMPLETE_BUSY:
		return "busy";
	case RXSVC_COMPLETE_REMOTELY_ABORTED:
		return "remotely aborted";
	case RXSVC_COMPLETE_LOCALLY_ABORTED:
		return "locally aborted";
	case RXSVC_COMPLETE_NET_ERROR:
		return "network error";
	case RXSVC_COMPLETE_LOCAL_ERROR:
		return "local error";
	}
	return "?";
}

RXSVC_API const char *rxsvc_call_state_name(enum rxsvc_call_state state)
{
	switch (state) {
	case RXSVC_CALL_CLIENT_AWAIT_CONN:
		return "CLIENT_AWAIT_CONN";
	case RXSVC_CALL_CLIENT_SEND_REQUEST:
		return "CLIENT_SEND_REQUEST";
	case RXSVC_CALL_CLIENT_AWAIT_REPLY:
		return "CLIENT_AWAIT_REPLY";
	case RXSVC_CALL_CLIENT_RECV_REPLY:
		return "CLIENT_RECV_REPLY";
	case RXSVC_CALL_SERVER_PREALLOC:
		return "SERVER_PREALLOC";
	case RXSVC_CALL_SERVER_RECV_REQUEST:
		return "SERVER_RECV_REQUEST";
	case RXSVC_CALL_SERVER_ACK_REQUEST:
		return "SERVER_ACK_REQUEST";
	case RXSVC_CALL_SERVER_SEND_REPLY:
		return "SERVER_SEND_REPLY";
	case RXSVC_CALL_SERVER_AWAIT_ACK:
		return "SERVER_AWAIT_ACK";
	case RXSVC_CALL_COMPLETE:
		return "COMPLETE";
	}
	return "?";
}

/* Report an engine event to the observer, if one is set.  - I/O. */
void rxs_observe(struct rxsvc_sock *sock, enum rxsvc_event_type type,
		 struct rxsvc_call *call, const union rxs_addr *addr)
{
	struct rxsvc_engine_event ev = { 0 };
	struct rxsvc_srx srx = { 0 };

	if (__builtin_expect(!sock->observer, 1))
		return;
	ev.type = type;
	if (call) {
		ev.debug_id = call->debug_id;
		ev.service_id = call->service_id;
		ev.client = call->client;
		ev.how = (enum rxsvc_completion)atomic_load(&call->completion);
		ev.abort_code = call->abort_code;
		ev.error = call->error;
		addr = &call->peer_addr;
	}
	if (addr) {
		memcpy(&srx.addr, addr, sizeof(srx.addr));
		srx.addrlen = rxs_addr_len(addr);
		ev.peer = &srx;
	}
	sock->observer(sock, &ev, sock->observer_arg);
}
