/* SPDX-License-Identifier: MIT */
/*
 * rxkad security index, levels and abort codes (rx-protocol.md §S.2,
 * §S.3.7).  The codes are the com_err table "RXK" (base 19270400); they
 * travel in ABORT packets and end calls, and are never function return
 * values.  The names are OpenAFS's, defined only where not already defined
 * so that this header can sit beside <rx/rxkad.h>.
 */
#ifndef RXSVC_RXKAD_H
#define RXSVC_RXKAD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RXSVC_SECIDX_NULL  0
#define RXSVC_SECIDX_RXKAD 2

/* rxkad levels (rxgk uses the same numbers). */
enum rxsvc_security_level {
	RXSVC_LEVEL_CLEAR = 0, /* header checksum only */
	RXSVC_LEVEL_AUTH = 1,  /* plus an encrypted length/sequence word */
	RXSVC_LEVEL_CRYPT = 2, /* plus the whole payload encrypted */
};

#ifndef RXKADINCONSISTENCY
#define RXKADINCONSISTENCY (19270400) /* internal inconsistency, bad version \
				       */
#define RXKADPACKETSHORT   (19270401) /* CHALLENGE/RESPONSE too short */
#define RXKADLEVELFAIL	   (19270402) /* level below the minimum */
#define RXKADTICKETLEN	   (19270403) /* ticket length out of range */
#define RXKADOUTOFSEQUENCE (19270404) /* wrong nonce (replay) */
#define RXKADNOAUTH	   (19270405) /* ticket not yet valid */
#define RXKADBADKEY	   (19270406) /* key schedule failed */
#define RXKADBADTICKET	   (19270407) /* ticket would not decode */
#define RXKADUNKNOWNKEY	   (19270408) /* no server key for the kvno */
#define RXKADEXPIRED	   (19270409) /* ticket expired */
#define RXKADSEALEDINCON   (19270410) /* checksum or sealed data mismatch */
#define RXKADDATALEN	   (19270411) /* sealed length beyond the payload */
#define RXKADILLEGALLEVEL  (19270412) /* defined, used nowhere */
#endif

/*
 * The name of an rxkad abort code ("RXKADEXPIRED"), or NULL if @code is
 * not one.  Any thread.
 */
__attribute__((visibility("default"))) const char *rxsvc_rxkad_abort_name(
	int32_t code);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_RXKAD_H */
