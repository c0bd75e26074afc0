/* SPDX-License-Identifier: MIT */
/*
 * Keys for rxkad (design.md "Security and keys", rx-protocol.md §S.5).
 *
 * Client tokens are kernel keys of the ordinary `user` type described
 * "rxsvc:NAME", whose payload is the XDR token format of Linux's `rxrpc`
 * key type: be32 flags (0), the cell as an XDR string, be32 ntoken, then
 * per token be32 toklen, be32 security index and the body; the rxkad body
 * is viceId, kvno, the 8-byte session key, start, expiry, primary flag,
 * ticket length and the ticket, padded to 4.  A call takes a key; calls
 * with different keys never share a connection.
 *
 * Server keys come from a keyring the server names (`user` keys described
 * "rxsvc_s:SERVICE:SECINDEX:KVNO", 8-byte payload) or from a key file:
 * OpenAFS's binary KeyFile (be32 count, then be32 kvno and 8 key bytes per
 * key) or text, one key per line, `#` comments, `KVNO HEXKEY` or
 * `SERVICE SECINDEX KVNO HEXKEY` (or `SERVICE:SECINDEX:KVNO HEXKEY`).  A
 * key file readable or writable by group or others is refused.
 *
 * Key material is wiped (OPENSSL_cleanse) when the last reference goes.
 * All functions return 0 or a negative errno; keyutils errors pass through.
 */
#ifndef RXSVC_KEY_H
#define RXSVC_KEY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef RXSVC_API
#define RXSVC_API __attribute__((visibility("default")))
#endif

struct rxsvc_key;    /* opaque: a client token, reference counted */
struct rxsvc_keyset; /* opaque: a server's keys (file or keyring) */
struct rxsvc_sock;   /* opaque: an endpoint (rxsvc.h) */

#define RXSVC_KEY_PREFIX      "rxsvc:"
#define RXSVC_SKEY_PREFIX     "rxsvc_s:"
#define RXSVC_KEY_NAME_MAX    200 /* longest NAME in "rxsvc:NAME" */
#define RXSVC_TOKEN_MAX	      16384
#define RXSVC_KEYRING_SESSION (-3) /* KEY_SPEC_SESSION_KEYRING */
#define RXSVC_KEYRING_USER    (-4) /* KEY_SPEC_USER_KEYRING */
#define RXSVC_KEY_NEVER	      0xffffffffu

/*
 * Find the `user` key "rxsvc:NAME" in the caller's keyrings (session, then
 * user) and decode its token.  On success *keyp holds a reference the
 * caller drops with rxsvc_key_put().  Returns 0, -EINVAL (bad name),
 * -ENOKEY (no such key), -EKEYEXPIRED (key or token expired),
 * -EKEYREVOKED, -EACCES (not readable), -EBADMSG (payload is not a valid
 * rxkad token), -ENOMEM.  Any thread; makes keyctl system calls.
 */
RXSVC_API int rxsvc_key_get(const char *name, struct rxsvc_key **keyp);

/*
 * A key from a token payload held in memory (no keyring): tests, or a
 * token handed over by other means.  Errors as rxsvc_key_get().
 */
RXSVC_API int rxsvc_key_from_token(const void *payload, size_t len,
				   struct rxsvc_key **keyp);

/* Drop a reference; the last one wipes and frees the key.  NULL is ok. */
RXSVC_API void rxsvc_key_put(struct rxsvc_key *key);

/*
 * Give the endpoint a default key: client calls begun on it without a key
 * in their parameters (and without RXSVC_CALL_NO_SECURITY) use @key at
 * @level (0 clear, 1 auth, 2 crypt), as if the caller had passed them; a
 * key in the parameters overrides it (design.md, "Security").  The
 * endpoint takes its own reference, dropped when another key is set, when
 * @key is NULL (back to rxnull) or when the endpoint closes; calls already
 * begun keep theirs.  The key is checked at each rxsvc_call_begin(), which
 * then fails with -EKEYEXPIRED, -EKEYREVOKED or -ENOKEY as for a key in
 * the parameters.  Returns 0, or -EINVAL (@level above 2, not an rxkad
 * key).  Any thread.
 */
RXSVC_API int rxsvc_sock_set_default_key(struct rxsvc_sock *sock,
					 struct rxsvc_key *key,
					 unsigned int level);

struct rxsvc_key_info {
	uint32_t size;		 /* sizeof(struct rxsvc_key_info) */
	uint32_t security_index; /* 2: rxkad */
	uint32_t kvno;
	uint32_t vice_id;
	uint32_t start;	 /* Unix seconds */
	uint32_t expiry; /* Unix seconds; RXSVC_KEY_NEVER */
	uint32_t ticket_len;
	int32_t serial; /* kernel key serial, 0 if not from a keyring */
	char cell[65];
};
#define RXSVC_KEY_INFO_INIT                           \
	{                                             \
		.size = sizeof(struct rxsvc_key_info) \
	}

/* Describe a key (no key material).  0 or -EINVAL. */
RXSVC_API int rxsvc_key_info(const struct rxsvc_key *key,
			     struct rxsvc_key_info *info);

struct rxsvc_token_params {
	uint32_t size;		    /* RXSVC_TOKEN_PARAMS_INIT sets it */
	const char *client;	    /* ticket name, 1-63 chars (required) */
	const char *instance;	    /* NULL: "" */
	const char *cell;	    /* ticket realm; token cell; NULL: "" */
	const char *service;	    /* ticket service name; NULL: "afs" */
	const char *service_inst;   /* NULL: "" */
	const uint8_t *service_key; /* 8 bytes, seals the ticket (required) */
	uint32_t kvno;		    /* 0-255 */
	uint32_t start;		    /* 0: now */
	uint32_t lifetime;	    /* seconds, <= 30 days; 0: 8 hours */
	uint32_t vice_id;
	const uint8_t *session_key; /* 8 bytes; NULL: random */
};
#define RXSVC_TOKEN_PARAMS_INIT                           \
	{                                                 \
		.size = sizeof(struct rxsvc_token_params) \
	}

/*
 * Mint a token as `aklog` would get one: a ticket for @p->client sealed
 * with the service key (OpenAFS tkt_MakeTicket), wrapped in the XDR token
 * format, into @buf (at most RXSVC_TOKEN_MAX bytes needed).  *len gets the
 * payload size.  0, -EINVAL, -EMSGSIZE, -EIO (libcrypto).  Any thread.
 */
RXSVC_API int rxsvc_token_mint(const struct rxsvc_token_params *p, void *buf,
			       size_t cap, size_t *len);

/*
 * Add (or update) "rxsvc:NAME" with @payload (a token) to @keyring
 * (RXSVC_KEYRING_USER or _SESSION, or a keyring serial), readable and
 * searchable by the owning user, expiring with the token.  *serial (may be
 * NULL) gets the key's serial.  0, -EINVAL, -EBADMSG, keyutils errors.
 */
RXSVC_API int rxsvc_key_add(const char *name, const void *payload, size_t len,
			    int32_t keyring, int32_t *serial);

/* Remove "rxsvc:NAME" from the caller's keyrings.  0 or -ENOKEY, ... */
RXSVC_API int rxsvc_key_del(const char *name);

/*
 * Call @fn for every "rxsvc:" key directly in the session and user
 * keyrings (a key whose token does not decode gets info with
 * security_index 0).  Stops early and returns what @fn returns if that is
 * nonzero.  0, keyutils errors.
 */
RXSVC_API int rxsvc_key_list(int (*fn)(void *arg, const char *name,
				       const struct rxsvc_key_info *info),
			     void *arg);

/*
 * Load a key file (binary KeyFile or text).  0, -EPERM (readable or
 * writable by group or others), -EBADMSG (malformed; *bad_line, if not
 * NULL, gets the 1-based line, 0 for a binary file), -EFBIG, -ENOMEM,
 * open/read errors.
 */
RXSVC_API int rxsvc_keyset_load_file(const char *path,
				     struct rxsvc_keyset **ksp,
				     unsigned int *bad_line);
/*
 * Server keys from a keyring: @name is a keyring's description (found with
 * request_key("keyring", name)), or "@s" / "@u".  Keys are looked up at
 * each use, so a key revoked or unlinked is no longer used.  0, -ENOKEY.
 */
RXSVC_API int rxsvc_keyset_open_keyring(const char *name,
					struct rxsvc_keyset **ksp);
/*
 * The 8-byte server key for (service, security index, kvno).  A key file
 * line without a service matches any service at index 2.  0, -ENOKEY,
 * -EKEYEXPIRED, -EKEYREVOKED, -EBADMSG (keyring payload not 8 bytes).
 */
RXSVC_API int rxsvc_keyset_lookup(const struct rxsvc_keyset *ks,
				  uint16_t service, uint8_t security_index,
				  uint32_t kvno, uint8_t key[8]);
/* Wipe and free.  NULL is ok. */
RXSVC_API void rxsvc_keyset_free(struct rxsvc_keyset *ks);

/*
 * Append "SERVICE SECINDEX KVNO HEX" (or "KVNO HEX" when @service < 0) to
 * the text key file @path, creating it with mode 0600.  0, -EPERM (file
 * too open), -EEXIST (that key is there), -EINVAL (binary KeyFile or bad
 * arguments), I/O errors.
 */
RXSVC_API int rxsvc_keyfile_add(const char *path, int32_t service,
				uint8_t security_index, uint32_t kvno,
				const uint8_t key[8]);

#ifdef __cplusplus
}
#endif
#endif /* RXSVC_KEY_H */
