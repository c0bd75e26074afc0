/* SPDX-License-Identifier: MIT */
/*
 * rxkad.h - the rxkad security class without sockets (rx-protocol.md §S.3):
 * per-connection state, the header checksum, DATA sealing and unsealing,
 * CHALLENGE/RESPONSE, Kerberos-4-style tickets; and (key.c) the internal
 * side of client tokens and server key sets.
 *
 * Return values follow conventions §4: 0 or a negative errno.  Where a
 * peer's packet is refused, the rxkad abort code that OpenAFS or Linux
 * would send is stored in *abort_code (data, never a return value).
 *
 * Every function here is pure computation on caller-owned memory: no
 * allocation, no locks, no clock.  Callers pass "now" in Unix seconds.
 * A struct rxs_rxkad_conn holds key material: clear it with
 * rxs_rxkad_conn_clear() before it is freed.
 */
#ifndef RXS_RXKAD_H
#define RXS_RXKAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rxsvc/key.h"
#include "rxsvc/rxkad.h"
#include "security/fcrypt.h"

#define RXS_RXKAD_CHALLENGE_LEN	    16 /* version 2 */
#define RXS_RXKAD_CHALLENGE_OLD_LEN 8
#define RXS_RXKAD_RESPONSE_HDR	    56 /* version 2, before the ticket */
#define RXS_RXKAD_RESPONSE_OLD_HDR  16
#define RXS_RXKAD_TICKET_MIN	    32		/* MINKTCTICKETLEN */
#define RXS_RXKAD_TICKET_MAX	    12000	/* MAXKTCTICKETLEN */
#define RXS_RXKAD_NAME_MAX	    64		/* buffer; strings are <= 63 */
#define RXS_RXKAD_NEVER		    0xffffffffu /* end time: no expiry */
#define RXS_RXKAD_MAX_LIFE	    (30u * 24 * 3600)
#define RXS_RXKAD_SKEW		    900u /* KTC_TIME_UNCERTAINTY */

/* Who the client is, taken from its ticket (server side). */
struct rxs_rxkad_ident {
	char name[RXS_RXKAD_NAME_MAX];
	char inst[RXS_RXKAD_NAME_MAX];
	char cell[RXS_RXKAD_NAME_MAX];
	uint32_t kvno;
	uint32_t host;
	uint32_t start;
	uint32_t end; /* RXS_RXKAD_NEVER: no expiry */
};

/*
 * The rxkad state of one connection.  The engine embeds it in its conn
 * (or allocates it in init_conn) and owns it on the I/O thread.
 */
struct rxs_rxkad_conn {
	struct rxs_fcrypt_sched sched; /* schedule of the session key */
	uint8_t key[8];		       /* session key, also the IV */
	uint32_t xor_l;		       /* XOR info ("preSeq", "csum_iv") */
	uint32_t xor_r;
	uint32_t epoch;
	uint32_t cid;	   /* channel bits clear */
	uint32_t expires;  /* ticket end; RXS_RXKAD_NEVER: none */
	uint8_t level;	   /* level in use (server: the client's) */
	uint8_t min_level; /* server: the service's minimum */
	bool server;
	bool keyed;	 /* key, schedule and XOR info are valid */
	bool challenged; /* server: a challenge series has a nonce */
	uint32_t nonce;	 /* server: the challenge's nonce */
	struct rxs_rxkad_ident ident; /* server: after the RESPONSE */
};

/* A client token's rxkad part (what the RESPONSE needs). */
struct rxs_rxkad_token {
	uint8_t session_key[8];
	uint32_t kvno;
	uint32_t start;
	uint32_t expiry;
	uint32_t vice_id;
	uint32_t primary_flag;
	const uint8_t *ticket;
	size_t ticket_len;
};

/* A decoded CHALLENGE. */
struct rxs_rxkad_challenge {
	uint32_t version; /* 2, or 0 for the old 8-byte form */
	uint32_t nonce;
	uint32_t min_level;
};

/* A Kerberos-4-style ("Athena") ticket in the clear (§S.3.6). */
struct rxs_ticket {
	char name[RXS_RXKAD_NAME_MAX];
	char inst[RXS_RXKAD_NAME_MAX];
	char cell[RXS_RXKAD_NAME_MAX];
	uint32_t host;
	uint8_t session_key[8];
	uint32_t start;
	uint32_t end; /* RXS_RXKAD_NEVER: no expiry */
	char sname[RXS_RXKAD_NAME_MAX];
	char sinst[RXS_RXKAD_NAME_MAX];
};

/* Server-key lookup: 0 and the 8-byte key, or -ENOKEY, -EKEYEXPIRED... */
typedef int (*rxs_rxkad_get_key_fn)(void *rock, uint32_t kvno, uint8_t key[8]);
/* Optional admission check after a good RESPONSE: 0 or -EACCES. */
typedef int (*rxs_rxkad_user_ok_fn)(void *rock,
				    const struct rxs_rxkad_ident *id);

struct rxs_rxkad_verify_params {
	rxs_rxkad_get_key_fn get_key; /* required */
	void *key_rock;
	rxs_rxkad_user_ok_fn user_ok; /* NULL: everyone with a ticket */
	void *user_rock;
	uint32_t now; /* Unix seconds */
	/*
	 * NULL: OpenAFS's rule (each call number < 2^31, then adopted).
	 * Otherwise also Linux's: the server's current per-channel call
	 * numbers; a RESPONSE value below one is refused.
	 */
	const uint32_t *chan_calls;
};

/* rxkad.c: connection state */

/*
 * Client connection: key, schedule and XOR info from the token's session
 * key and the connection's ids (@cid's channel bits are ignored).
 * @expires is the token's end time.  -EINVAL for a level above crypt.
 */
int rxs_rxkad_init_client(struct rxs_rxkad_conn *c, const uint8_t key[8],
			  unsigned int level, uint32_t epoch, uint32_t cid,
			  uint32_t expires);
/* Server connection: no key until a RESPONSE is accepted. -EINVAL. */
int rxs_rxkad_init_server(struct rxs_rxkad_conn *c, unsigned int min_level,
			  uint32_t epoch, uint32_t cid);
/* Wipe everything (OPENSSL_cleanse); the struct may then be freed. */
void rxs_rxkad_conn_clear(struct rxs_rxkad_conn *c);
/*
 * 0 while the connection's ticket is valid at @now, else -EKEYEXPIRED with
 * *abort_code = RXKADEXPIRED (checked before each DATA sent or received).
 */
int rxs_rxkad_check_expiry(const struct rxs_rxkad_conn *c, uint32_t now,
			   int32_t *abort_code);
/* XOR info from a key and the ids (exposed for tests and interop). */
void rxs_rxkad_derive_xor(const struct rxs_fcrypt_sched *s,
			  const uint8_t key[8], uint32_t epoch, uint32_t cid,
			  uint32_t *xor_l, uint32_t *xor_r);

/* rxkad.c: DATA packets */

/* Bytes of security header at the start of each payload: 0, 4 or 8. */
size_t rxs_rxkad_hdr_len(unsigned int level);
/* Most user bytes that fit in a payload of @space bytes at @level. */
size_t rxs_rxkad_max_data(unsigned int level, size_t space);
/* Payload length on the wire for @len user bytes at @level. */
size_t rxs_rxkad_wire_len(unsigned int level, size_t len);

/* The 16-bit header checksum (never 0) for call, channel (0-3) and seq. */
uint16_t rxs_rxkad_cksum(const struct rxs_rxkad_conn *c, uint32_t call_number,
			 uint32_t channel, uint32_t seq);
/* 0, or -EBADMSG with RXKADSEALEDINCON if @cksum is not the right one. */
int rxs_rxkad_check_cksum(const struct rxs_rxkad_conn *c, uint32_t call_number,
			  uint32_t channel, uint32_t seq, uint16_t cksum,
			  int32_t *abort_code);

/*
 * Seal a payload in place.  @payload holds rxs_rxkad_hdr_len(level) free
 * bytes, then the @len user bytes; @cap is the room from @payload on.
 * Writes the security header and padding and encrypts per level; the wire
 * length goes to *wire_len.  0, -EMSGSIZE (len > 0xffff or does not fit
 * @cap), -ENOKEY (no key yet).
 */
int rxs_rxkad_seal(const struct rxs_rxkad_conn *c, uint32_t call_number,
		   uint32_t seq, uint8_t *payload, size_t len, size_t cap,
		   size_t *wire_len);
/*
 * Seal two packets of one call at once (@a at @seq_a, @b at @seq_b): at
 * crypt their PCBC chains run side by side (rxs_fcrypt_pcbc_encrypt2).
 * Same results and errors as two rxs_rxkad_seal calls.
 */
int rxs_rxkad_seal2(const struct rxs_rxkad_conn *c, uint32_t call_number,
		    uint32_t seq_a, uint8_t *a, size_t len_a, size_t *wire_a,
		    uint32_t seq_b, uint8_t *b, size_t len_b, size_t *wire_b,
		    size_t cap);
/*
 * The same, encrypting while copying @len bytes from @data (the user's
 * buffer) into @out; @data and @out must not overlap.
 */
int rxs_rxkad_seal_copy(const struct rxs_rxkad_conn *c, uint32_t call_number,
			uint32_t seq, uint8_t *out, size_t cap,
			const uint8_t *data, size_t len, size_t *wire_len);
/*
 * Check a received payload without changing it: at auth and crypt,
 * decrypt the first block into a local and check the seq/call word and the
 * length.  *data_len gets L'.  For the I/O thread before a crypt packet
 * enters the ring.  0 or -EBADMSG with RXKADSEALEDINCON (payload < 8,
 * wrong word) or RXKADDATALEN (L' beyond the payload); -ENOKEY.
 */
int rxs_rxkad_peek(const struct rxs_rxkad_conn *c, uint32_t call_number,
		   uint32_t seq, const uint8_t *payload, size_t n,
		   size_t *data_len, int32_t *abort_code);
/*
 * Crypt only: check a payload as rxs_rxkad_peek() does, without changing
 * it, and keep what lets the rest be decrypted later and apart from the
 * first block: *chain gets the PCBC chaining value of the block at
 * payload + 8, where the user bytes start (rx-protocol.md §S.4.2: V_1 =
 * P_0 ^ C_0).  Errors as rxs_rxkad_peek(); -EINVAL below crypt.
 */
int rxs_rxkad_check_crypt(const struct rxs_rxkad_conn *c,
			  uint32_t call_number, uint32_t seq,
			  const uint8_t *payload, size_t n, uint8_t chain[8],
			  size_t *data_len, int32_t *abort_code);
/*
 * Go on decrypting a crypt payload: @len bytes (a multiple of 8) of whole
 * blocks from @in to @out (the same buffer, or not overlapping), starting
 * from @chain, which is updated for the block that follows.
 */
void rxs_rxkad_decrypt_more(const struct rxs_rxkad_conn *c, uint8_t chain[8],
			    const uint8_t *in, uint8_t *out, size_t len);
/*
 * Unseal in place: the user bytes are then at payload + *data_off, length
 * *data_len.  Errors as rxs_rxkad_peek(); on error the payload is garbage.
 */
int rxs_rxkad_unseal(const struct rxs_rxkad_conn *c, uint32_t call_number,
		     uint32_t seq, uint8_t *payload, size_t n, size_t *data_off,
		     size_t *data_len, int32_t *abort_code);
/*
 * Unseal into @out (the user's buffer) without touching @payload.  If
 * @out_cap < L', returns -ENOBUFS with *data_len = L' and writes nothing
 * (fall back to rxs_rxkad_unseal()).  Other errors as rxs_rxkad_peek().
 */
int rxs_rxkad_unseal_copy(const struct rxs_rxkad_conn *c, uint32_t call_number,
			  uint32_t seq, const uint8_t *payload, size_t n,
			  uint8_t *out, size_t out_cap, size_t *data_len,
			  int32_t *abort_code);

/*
 * Whole packets (28-byte Rx header + payload), for non-jumbo DATA: call,
 * seq and channel come from the encoded header.
 * secure: seals the payload (user bytes at pkt + 28 + hdr_len) and writes
 * the checksum at header offset 24; *pkt_len = 28 + wire length.
 * verify: checks the checksum, then per level; @decrypt false leaves a
 * crypt payload encrypted (peek only) for decryption in recv.  The user
 * bytes are at pkt + *data_off (from the packet start), *data_len long.
 * At auth the first block is decrypted in place (it holds user bytes).
 */
int rxs_rxkad_secure_pkt(const struct rxs_rxkad_conn *c, uint8_t *pkt,
			 size_t data_len, size_t cap, size_t *pkt_len);
int rxs_rxkad_verify_pkt(const struct rxs_rxkad_conn *c, uint8_t *pkt,
			 size_t len, bool decrypt, size_t *data_off,
			 size_t *data_len, int32_t *abort_code);

/* rxkad.c: CHALLENGE and RESPONSE */

/*
 * Server: build a version-2 CHALLENGE body (16 bytes) into @out.  The
 * nonce is drawn (RAND_bytes) on the first call of a series and reused for
 * resends.  0, -EMSGSIZE, -EIO (no randomness), -EINVAL (client conn).
 */
int rxs_rxkad_challenge_issue(struct rxs_rxkad_conn *c, uint8_t *out,
			      size_t cap, size_t *len);
/*
 * Client: decode a CHALLENGE body.  Like OpenAFS, a body of at most 8
 * bytes is the old form.  0 or -EBADMSG with RXKADPACKETSHORT (too short)
 * or RXKADINCONSISTENCY (long form with version != 2).
 */
int rxs_rxkad_challenge_parse(const uint8_t *body, size_t n,
			      struct rxs_rxkad_challenge *ch,
			      int32_t *abort_code);
/*
 * Client: build the RESPONSE to @ch (version 2, or the old form for an old
 * challenge) with the connection's current @call_numbers[4] and the
 * token's kvno and ticket.  0, or -EACCES with RXKADLEVELFAIL (min_level
 * above our level), -EINVAL with RXKADINCONSISTENCY (a call number >=
 * 2^31) or RXKADTICKETLEN (ticket empty or > 12000), -EMSGSIZE with
 * RXKADPACKETSHORT (does not fit @cap), -ENOKEY (no key).
 */
int rxs_rxkad_response_build(const struct rxs_rxkad_conn *c,
			     const struct rxs_rxkad_challenge *ch,
			     const uint32_t call_numbers[4],
			     const struct rxs_rxkad_token *tok, uint8_t *out,
			     size_t cap, size_t *len, int32_t *abort_code);
/*
 * Server: check a RESPONSE body in the order of OpenAFS's
 * rxkad_CheckResponse (§S.3.4).  On success the connection is keyed at
 * the client's level, expires at the ticket's end, c->ident names the
 * client, and @call_numbers[4] holds the values to adopt per channel.
 * Errors, with *abort_code:
 *   -EALREADY  (0)  already authenticated: ignore (a retransmission)
 *   -EPROTO    (0)  no challenge was sent: ignore
 *   -EBADMSG   RXKADPACKETSHORT, RXKADINCONSISTENCY, RXKADTICKETLEN,
 *              RXKADBADTICKET, RXKADSEALEDINCON
 *   -ENOKEY    RXKADUNKNOWNKEY (no server key for the kvno, kvno >= 256)
 *   -EKEYEXPIRED RXKADEXPIRED
 *   -EACCES    RXKADNOAUTH, RXKADOUTOFSEQUENCE, RXKADLEVELFAIL
 * On error the connection stays unauthenticated.
 */
int rxs_rxkad_response_verify(struct rxs_rxkad_conn *c, const uint8_t *body,
			      size_t n, const struct rxs_rxkad_verify_params *p,
			      uint32_t call_numbers[4], int32_t *abort_code);
/* The RESPONSE checksum over 56 plaintext bytes (checksum field zero). */
uint32_t rxs_rxkad_response_cksum(const uint8_t *buf, size_t n);

/* rxkad.c: tickets */

/*
 * Mint a ticket as OpenAFS's tkt_MakeTicket: assemble, pad to 8, DES-PCBC
 * encrypt with @server_key (IV = key).  0, -EINVAL (bad string, times with
 * no life byte, server key without odd parity or weak), -EMSGSIZE (@cap
 * too small).
 */
int rxs_ticket_make(const struct rxs_ticket *t, const uint8_t server_key[8],
		    uint8_t *out, size_t cap, size_t *len);
/*
 * Decrypt and parse a ticket (no time checks): 0, or -EBADMSG with
 * RXKADBADTICKET (length not 32-12000 or not a multiple of 8, bad strings,
 * length mismatch), -EIO with RXKADBADKEY (server key without odd parity
 * or weak: OpenAFS refuses those too).
 */
int rxs_ticket_decode(const uint8_t *tkt, size_t len,
		      const uint8_t server_key[8], struct rxs_ticket *t,
		      int32_t *abort_code);
/* OpenAFS tkt_CheckTimes: 2/1 valid, 0 not yet, -1 expired, -2 bad. */
int rxs_ticket_check_times(uint32_t start, uint32_t end, uint32_t now);
uint32_t rxs_life_to_time(uint32_t start, uint8_t life);
uint8_t rxs_time_to_life(uint32_t start, uint32_t end); /* 0: invalid */

/* key.c: client tokens and server key sets (public side: rxsvc/key.h) */

struct rxsvc_key;
struct rxsvc_keyset;

/* Take another reference (the engine keeps one per conn). */
struct rxsvc_key *rxs_key_get(struct rxsvc_key *key);
/* The token inside a key; valid while a reference is held. */
const struct rxs_rxkad_token *rxs_key_token(const struct rxsvc_key *key);
/* The key's security index (2 for rxkad). */
unsigned int rxs_key_security_index(const struct rxsvc_key *key);
/*
 * Is the key still usable for a new call at @now?  0, -EKEYEXPIRED (token
 * ended), -EKEYREVOKED, -ENOKEY (unlinked from the keyrings).  Keys made
 * from a payload (not a keyring) are only checked for expiry.
 */
int rxs_key_check(const struct rxsvc_key *key, uint32_t now);

/* For rxs_rxkad_verify_params.get_key: @rock is a struct rxs_keyset_rock. */
struct rxs_keyset_rock {
	const struct rxsvc_keyset *ks;
	uint16_t service;
	uint8_t security_index;
};
int rxs_keyset_get_key(void *rock, uint32_t kvno, uint8_t key[8]);

#endif /* RXS_RXKAD_H */
