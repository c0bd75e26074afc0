/* SPDX-License-Identifier: MIT */
/*
 * Rx and rxgen abort codes (rx-protocol.md §6).  Abort codes are data: they
 * travel in ABORT packets and end calls; they are never function return
 * values.  The names are the ones OpenAFS and Linux use, defined only where
 * not already defined so that this header can sit beside theirs.
 */
#ifndef RXSVC_ABORT_H
#define RXSVC_ABORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RX_CALL_DEAD
#define RX_CALL_DEAD         (-1)   /* peer silent too long */
#define RX_INVALID_OPERATION (-2)   /* unknown service, bad API use */
#define RX_CALL_TIMEOUT      (-3)   /* idle or hard timeout */
#define RX_EOF               (-4)   /* unexpected end of data */
#define RX_PROTOCOL_ERROR    (-5)   /* malformed or unexpected packet */
#define RX_USER_ABORT        (-6)   /* generic application abort */
#define RX_ADDRINUSE         (-7)   /* local only */
#define RX_DEBUGI_BADTYPE    (-8)   /* rxdebug: unknown request type */
#define RX_RESTARTING        (-100) /* server shutting down */
#endif

#ifndef RXGEN_CC_MARSHAL
#define RXGEN_CC_MARSHAL   (-450)
#define RXGEN_CC_UNMARSHAL (-451)
#define RXGEN_SS_MARSHAL   (-452)
#define RXGEN_SS_UNMARSHAL (-453)
#define RXGEN_DECODE       (-454)
#define RXGEN_OPCODE       (-455)
#define RXGEN_SS_XDRFREE   (-456)
#define RXGEN_CC_XDRFREE   (-457)
#endif

/*
 * A short name for an abort code ("RX_CALL_DEAD", "RXGEN_OPCODE"), or NULL
 * for a code this library does not know.  Any thread.
 */
__attribute__((visibility("default"))) const char *
rxsvc_abort_name(int32_t code);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_ABORT_H */
