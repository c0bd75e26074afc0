/* SPDX-License-Identifier: MIT */
/*
 * key.c - rxkad keys: client tokens from the kernel keyrings (libkeyutils)
 * and server key sets from a keyring or a key file.
 *
 * Design note.  A client token is a `user` key "rxsvc:NAME" (the kernel's
 * own `rxrpc` type is not usable from userspace on most systems) holding
 * the XDR token format of Linux's rxrpc key type (rx-protocol.md §S.5.1),
 * so one format serves both.  The payload is hostile until checked: every
 * length is compared with the bytes left and with the format's maximum
 * (16384 bytes in all, cell <= 64, 1-8 tokens, ticket <= 12000) before it
 * sizes a copy, as Linux's 2026 rxrpc hardening does.  A struct rxsvc_key
 * is immutable after creation and reference counted atomically (a user
 * thread and the I/O thread both hold it); the last put wipes it.
 *
 * Server keys are looked up by (service, security index, kvno).  From a
 * keyring they are searched at each lookup, so revoking or unlinking one
 * takes effect for the next RESPONSE; from a file they are read once.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* DES_set_odd_parity */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <keyutils.h>
#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/rand.h>

#include "rxsvc/key.h"
#include "security/rxkad.h"
#include "transport/wire.h"

#define TOKEN_CELL_MAX	 64
#define TOKEN_NTOKEN_MAX 8
#define TOKEN_RXKAD_BODY 32 /* rxkad body before the ticket */
#define KEYFILE_MAX	 (1u << 20)
#define KEYSET_MAX	 1024
#define OAFS_MAXKEYS	 8 /* AFSCONF_MAXKEYS: binary KeyFile */
#define ANY_SERVICE	 (-1)

struct rxsvc_key {
	atomic_int ref;
	int32_t serial; /* kernel key, 0 if from a payload */
	char desc[sizeof(RXSVC_KEY_PREFIX) + RXSVC_KEY_NAME_MAX];
	uint32_t security_index;
	char cell[TOKEN_CELL_MAX + 1];
	struct rxs_rxkad_token tok; /* tok.ticket points into ticket[] */
	uint8_t ticket[];
};

struct keyset_entry {
	int32_t service; /* ANY_SERVICE: a line without one */
	uint8_t security_index;
	uint32_t kvno;
	uint8_t key[8];
};

struct rxsvc_keyset {
	int32_t keyring; /* 0: entries from a file */
	size_t n;
	struct keyset_entry e[];
};

/* ---- client tokens ---- */

static bool key_name_ok(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strnlen(name, RXSVC_KEY_NAME_MAX + 1);
	return n > 0 && n <= RXSVC_KEY_NAME_MAX && !strchr(name, ';');
}

static uint32_t now32(void)
{
	return (uint32_t)time(NULL);
}

/* Bounded XDR string: 1..max printable bytes, zero padding. */
static bool xdr_cell(struct rxs_cursor *cur, char *out)
{
	uint32_t len;
	uint32_t pad;
	uint32_t i;

	if (!rxs_cur_be32(cur, &len) || len < 1 || len > TOKEN_CELL_MAX)
		return false;
	pad = (len + 3) & ~3u;
	if (pad > cur->left)
		return false;
	for (i = 0; i < pad; i++) {
		if (i < len ? !isprint(cur->p[i]) : cur->p[i] != 0)
			return false;
	}
	memcpy(out, cur->p, len);
	out[len] = '\0';
	return rxs_cur_skip(cur, pad);
}

/* Parse the rxkad token body (@n bytes) into a new key. */
static int token_rxkad(const uint8_t *body, size_t n, const char *cell,
		       struct rxsvc_key **keyp)
{
	struct rxsvc_key *key;
	uint32_t tlen;

	if (n <= TOKEN_RXKAD_BODY)
		return -EBADMSG;
	tlen = rxs_get_be32(body + 28);
	if (tlen < 1 || tlen > RXS_RXKAD_TICKET_MAX ||
	    tlen > n - TOKEN_RXKAD_BODY)
		return -EBADMSG;
	key = calloc(1, sizeof(*key) + tlen);
	if (!key)
		return -ENOMEM;
	atomic_init(&key->ref, 1);
	key->security_index = RXSVC_SECIDX_RXKAD;
	snprintf(key->cell, sizeof(key->cell), "%s", cell);
	key->tok.vice_id = rxs_get_be32(body);
	key->tok.kvno = rxs_get_be32(body + 4);
	memcpy(key->tok.session_key, body + 8, 8);
	key->tok.start = rxs_get_be32(body + 16);
	key->tok.expiry = rxs_get_be32(body + 20);
	key->tok.primary_flag = rxs_get_be32(body + 24);
	memcpy(key->ticket, body + TOKEN_RXKAD_BODY, tlen);
	key->tok.ticket = key->ticket;
	key->tok.ticket_len = tlen;
	*keyp = key;
	return 0;
}

/*
 * Decode an XDR token payload; the first rxkad token wins.  The whole
 * container is checked (every token's length) before any is used.
 */
static int token_decode(const uint8_t *p, size_t len, struct rxsvc_key **keyp)
{
	struct rxs_cursor cur = { p, len };
	char cell[TOKEN_CELL_MAX + 1];
	const uint8_t *first;
	uint32_t flags;
	uint32_t ntoken;
	uint32_t i;

	if (len > RXSVC_TOKEN_MAX || len % 4 || len <= 28)
		return -EBADMSG;
	if (!rxs_cur_be32(&cur, &flags) || flags != 0 || !xdr_cell(&cur, cell))
		return -EBADMSG;
	if (!rxs_cur_be32(&cur, &ntoken) || ntoken < 1 ||
	    ntoken > TOKEN_NTOKEN_MAX)
		return -EBADMSG;
	first = cur.p;
	for (i = 0; i < ntoken; i++) {
		uint32_t toklen;

		if (!rxs_cur_be32(&cur, &toklen) || toklen < 20 ||
		    toklen > cur.left || ((toklen + 3) & ~3u) > cur.left)
			return -EBADMSG;
		rxs_cur_skip(&cur, (toklen + 3) & ~3u);
	}
	if (cur.left != 0)
		return -EBADMSG;
	cur.p = first;
	cur.left = (size_t)(p + len - first);
	for (i = 0; i < ntoken; i++) {
		uint32_t toklen = 0;
		uint32_t secidx;

		rxs_cur_be32(&cur, &toklen);
		secidx = rxs_get_be32(cur.p);
		if (secidx == RXSVC_SECIDX_RXKAD)
			return token_rxkad(cur.p + 4, toklen - 4, cell, keyp);
		rxs_cur_skip(&cur, (toklen + 3) & ~3u);
	}
	return -EBADMSG; /* no rxkad token */
}

int rxsvc_key_from_token(const void *payload, size_t len,
			 struct rxsvc_key **keyp)
{
	struct rxsvc_key *key;
	int ret;

	if (!payload || !keyp)
		return -EINVAL;
	ret = token_decode(payload, len, &key);
	if (ret < 0)
		return ret;
	if (key->tok.expiry != RXSVC_KEY_NEVER && key->tok.expiry <= now32()) {
		rxsvc_key_put(key);
		return -EKEYEXPIRED;
	}
	*keyp = key;
	return 0;
}

/* Search session, then user; keyutils errors as negative errno. */
static int32_t key_search(const char *type, const char *desc)
{
	static const key_serial_t rings[] = { KEY_SPEC_SESSION_KEYRING,
					      KEY_SPEC_USER_KEYRING };
	int err = ENOKEY;
	size_t i;

	for (i = 0; i < sizeof(rings) / sizeof(rings[0]); i++) {
		long id = keyctl_search(rings[i], type, desc, 0);

		if (id >= 0)
			return (int32_t)id;
		/* A definite answer about the key beats "not in this one". */
		if (errno == EKEYEXPIRED || errno == EKEYREVOKED)
			return -errno;
		if (errno != ENOKEY)
			err = errno;
	}
	return -err;
}

/* Read a key's payload into a fresh buffer (*lenp bytes); wipe it after. */
static int key_read(int32_t id, uint8_t **bufp, size_t *lenp)
{
	void *buf = NULL;
	long n = keyctl_read_alloc(id, &buf);

	if (n < 0)
		return -errno;
	*bufp = buf;
	*lenp = (size_t)n;
	return 0;
}

static void wipe_free(uint8_t *buf, size_t len)
{
	if (!buf)
		return;
	OPENSSL_cleanse(buf, len);
	free(buf);
}

int rxsvc_key_get(const char *name, struct rxsvc_key **keyp)
{
	char desc[sizeof(RXSVC_KEY_PREFIX) + RXSVC_KEY_NAME_MAX];
	struct rxsvc_key *key;
	uint8_t *buf = NULL;
	size_t len = 0;
	int32_t id;
	int ret;

	if (!key_name_ok(name) || !keyp)
		return -EINVAL;
	snprintf(desc, sizeof(desc), RXSVC_KEY_PREFIX "%s", name);
	id = key_search("user", desc);
	if (id < 0)
		return id;
	ret = key_read(id, &buf, &len);
	if (ret < 0)
		return ret;
	ret = rxsvc_key_from_token(buf, len, &key);
	wipe_free(buf, len);
	if (ret < 0)
		return ret;
	key->serial = id;
	memcpy(key->desc, desc, sizeof(desc));
	*keyp = key;
	return 0;
}

struct rxsvc_key *rxs_key_get(struct rxsvc_key *key)
{
	atomic_fetch_add_explicit(&key->ref, 1, memory_order_relaxed);
	return key;
}

void rxsvc_key_put(struct rxsvc_key *key)
{
	size_t size;

	if (!key)
		return;
	/* Pairs with itself: the last put sees every other put's writes. */
	if (atomic_fetch_sub_explicit(&key->ref, 1, memory_order_acq_rel) != 1)
		return;
	size = sizeof(*key) + key->tok.ticket_len;
	OPENSSL_cleanse(key, size);
	free(key);
}

const struct rxs_rxkad_token *rxs_key_token(const struct rxsvc_key *key)
{
	return &key->tok;
}

unsigned int rxs_key_security_index(const struct rxsvc_key *key)
{
	return key->security_index;
}

int rxs_key_check(const struct rxsvc_key *key, uint32_t now)
{
	int32_t id;

	if (key->tok.expiry != RXSVC_KEY_NEVER && key->tok.expiry <= now)
		return -EKEYEXPIRED;
	if (!key->serial)
		return 0;
	id = key_search("user", key->desc);
	if (id < 0)
		return id;
	return id == key->serial ? 0 : -ENOKEY;
}

int rxsvc_key_info(const struct rxsvc_key *key, struct rxsvc_key_info *info)
{
	struct rxsvc_key_info i;
	size_t n;

	if (!key || !info || info->size < sizeof(uint32_t))
		return -EINVAL;
	memset(&i, 0, sizeof(i));
	i.size = info->size;
	i.security_index = key->security_index;
	i.kvno = key->tok.kvno;
	i.vice_id = key->tok.vice_id;
	i.start = key->tok.start;
	i.expiry = key->tok.expiry;
	i.ticket_len = (uint32_t)key->tok.ticket_len;
	i.serial = key->serial;
	memcpy(i.cell, key->cell, sizeof(i.cell));
	n = info->size < sizeof(i) ? info->size : sizeof(i);
	memcpy(info, &i, n);
	return 0;
}

/* ---- minting ---- */

static const char *or_empty(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* Read the caller's params struct, defaulting what an older one lacks. */
static void token_params(const struct rxsvc_token_params *in,
			 struct rxsvc_token_params *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p, in, in->size < sizeof(*p) ? in->size : sizeof(*p));
}

static int token_encode(const struct rxsvc_token_params *p, const char *cell,
			const uint8_t skey[8], uint32_t start, uint32_t end,
			const uint8_t *tkt, size_t tlen, uint8_t *out,
			size_t cap, size_t *len)
{
	size_t clen = strlen(cell);
	size_t cpad = (clen + 3) & ~(size_t)3;
	size_t tpad = (tlen + 3) & ~(size_t)3;
	size_t n = 4 + 4 + cpad + 4 + 4 + 4 + TOKEN_RXKAD_BODY + tpad;
	uint8_t *q = out;

	if (n > cap)
		return -EMSGSIZE;
	memset(out, 0, n);
	rxs_put_be32(q, 0); /* flags */
	rxs_put_be32(q + 4, (uint32_t)clen);
	memcpy(q + 8, cell, clen);
	q += 8 + cpad;
	rxs_put_be32(q, 1); /* ntoken */
	rxs_put_be32(q + 4, (uint32_t)(4 + TOKEN_RXKAD_BODY + tlen));
	rxs_put_be32(q + 8, RXSVC_SECIDX_RXKAD);
	q += 12;
	rxs_put_be32(q, p->vice_id);
	rxs_put_be32(q + 4, p->kvno);
	memcpy(q + 8, skey, 8);
	rxs_put_be32(q + 16, start);
	rxs_put_be32(q + 20, end);
	rxs_put_be32(q + 24, 1); /* primary */
	rxs_put_be32(q + 28, (uint32_t)tlen);
	memcpy(q + TOKEN_RXKAD_BODY, tkt, tlen);
	*len = n;
	return 0;
}

static bool cell_ok(const char *cell)
{
	size_t i;
	size_t n = strnlen(cell, TOKEN_CELL_MAX + 1);

	if (n < 1 || n >= RXS_RXKAD_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)cell[i]))
			return false;
	return true;
}

int rxsvc_token_mint(const struct rxsvc_token_params *in, void *buf, size_t cap,
		     size_t *len)
{
	struct rxsvc_token_params p;
	struct rxs_ticket t;
	uint8_t tkt[RXS_RXKAD_TICKET_MAX];
	size_t tlen;
	const char *cell;
	int ret = -EINVAL;

	if (!in || in->size < offsetof(struct rxsvc_token_params, kvno) ||
	    !buf || !len)
		return -EINVAL;
	token_params(in, &p);
	if (!p.client || !p.service_key || p.kvno > 255 ||
	    p.lifetime > RXS_RXKAD_MAX_LIFE)
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	cell = or_empty(p.cell, "");
	if (strlen(p.client) >= RXS_RXKAD_NAME_MAX ||
	    strlen(or_empty(p.instance, "")) >= RXS_RXKAD_NAME_MAX ||
	    strlen(cell) >= RXS_RXKAD_NAME_MAX ||
	    strlen(or_empty(p.service, "afs")) >= RXS_RXKAD_NAME_MAX ||
	    strlen(or_empty(p.service_inst, "")) >= RXS_RXKAD_NAME_MAX)
		goto out;
	strcpy(t.name, p.client);
	strcpy(t.inst, or_empty(p.instance, ""));
	strcpy(t.cell, cell);
	strcpy(t.sname, or_empty(p.service, "afs"));
	strcpy(t.sinst, or_empty(p.service_inst, ""));
	if (p.session_key) {
		memcpy(t.session_key, p.session_key, 8);
	} else {
		ret = -EIO;
		if (RAND_bytes(t.session_key, 8) != 1)
			goto out;
		DES_set_odd_parity((DES_cblock *)t.session_key);
	}
	t.start = p.start ? p.start : now32();
	t.end = t.start + (p.lifetime ? p.lifetime : 8 * 3600);
	ret = rxs_ticket_make(&t, p.service_key, tkt, sizeof(tkt), &tlen);
	if (ret < 0)
		goto out;
	/* The server computes the end from the life byte: so do we. */
	t.end = rxs_life_to_time(t.start, rxs_time_to_life(t.start, t.end));
	ret = token_encode(&p, cell_ok(cell) ? cell : "rxsvc", t.session_key,
			   t.start, t.end, tkt, tlen, buf, cap, len);
out:
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(&p, sizeof(p));
	OPENSSL_cleanse(tkt, sizeof(tkt));
	return ret;
}

int rxsvc_key_add(const char *name, const void *payload, size_t len,
		  int32_t keyring, int32_t *serial)
{
	char desc[sizeof(RXSVC_KEY_PREFIX) + RXSVC_KEY_NAME_MAX];
	struct rxsvc_key *key;
	key_serial_t id;
	uint32_t now = now32();
	int ret;

	if (!key_name_ok(name) || !payload)
		return -EINVAL;
	ret = rxsvc_key_from_token(payload, len, &key); /* validates it */
	if (ret < 0)
		return ret;
	snprintf(desc, sizeof(desc), RXSVC_KEY_PREFIX "%s", name);
	id = add_key("user", desc, payload, len, keyring);
	if (id < 0) {
		ret = -errno;
		goto out;
	}
	/* Readable by the owner without possession (rx-protocol.md §S.5.3). */
	if (keyctl_setperm(id, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ |
				       KEY_USR_SEARCH) < 0) {
		ret = -errno;
		goto out;
	}
	if (key->tok.expiry != RXSVC_KEY_NEVER &&
	    keyctl_set_timeout(id, key->tok.expiry - now) < 0) {
		ret = -errno;
		goto out;
	}
	if (serial)
		*serial = id;
out:
	rxsvc_key_put(key);
	return ret;
}

int rxsvc_key_del(const char *name)
{
	char desc[sizeof(RXSVC_KEY_PREFIX) + RXSVC_KEY_NAME_MAX];
	int32_t id;

	if (!key_name_ok(name))
		return -EINVAL;
	snprintf(desc, sizeof(desc), RXSVC_KEY_PREFIX "%s", name);
	id = key_search("user", desc);
	if (id < 0 && id != -EKEYEXPIRED && id != -EKEYREVOKED)
		return id;
	if (id < 0)
		return id; /* cannot get the serial of a dead key by search */
	/*
	 * Unlink first: an invalidated key is still found (as revoked) until
	 * the kernel's garbage collector runs; an unlinked one is not.
	 */
	keyctl_unlink(id, KEY_SPEC_SESSION_KEYRING);
	keyctl_unlink(id, KEY_SPEC_USER_KEYRING);
	if (keyctl_invalidate(id) == 0 || keyctl_revoke(id) == 0)
		return 0;
	return errno == ENOKEY ? 0 : -errno;
}

/* One "rxsvc:" key of a keyring for rxsvc_key_list(). */
static int list_one(key_serial_t id,
		    int (*fn)(void *, const char *,
			      const struct rxsvc_key_info *),
		    void *arg)
{
	struct rxsvc_key_info info = RXSVC_KEY_INFO_INIT;
	struct rxsvc_key *key;
	char *d = NULL;
	char *desc;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = 0;

	if (keyctl_describe_alloc(id, &d) < 0)
		return 0; /* gone meanwhile, or not ours to see */
	desc = strrchr(d, ';');
	if (strncmp(d, "user;", 5) || !desc ||
	    strncmp(desc + 1, RXSVC_KEY_PREFIX, strlen(RXSVC_KEY_PREFIX)))
		goto out;
	desc += 1 + strlen(RXSVC_KEY_PREFIX);
	info.serial = id;
	if (key_read(id, &buf, &len) == 0) {
		if (token_decode(buf, len, &key) == 0) {
			rxsvc_key_info(key, &info);
			info.serial = id;
			rxsvc_key_put(key);
		}
		wipe_free(buf, len);
	}
	ret = fn(arg, desc, &info);
out:
	free(d);
	return ret;
}

int rxsvc_key_list(int (*fn)(void *arg, const char *name,
			     const struct rxsvc_key_info *info),
		   void *arg)
{
	static const key_serial_t rings[] = { KEY_SPEC_SESSION_KEYRING,
					      KEY_SPEC_USER_KEYRING };
	key_serial_t seen = 0;
	size_t r;
	int ret = 0;

	if (!fn)
		return -EINVAL;
	for (r = 0; r < 2 && !ret; r++) {
		key_serial_t ring = keyctl_get_keyring_ID(rings[r], 0);
		void *ids = NULL;
		long n;
		long i;

		if (ring < 0 || ring == seen)
			continue;
		seen = ring;
		n = keyctl_read_alloc(ring, &ids);
		if (n < 0)
			continue;
		for (i = 0; i < n / 4 && !ret; i++)
			ret = list_one(((key_serial_t *)ids)[i], fn, arg);
		free(ids);
	}
	return ret;
}

/* ---- server keys ---- */

static int hex_key(const char *s, uint8_t key[8])
{
	int i;

	if (strlen(s) != 16)
		return -EBADMSG;
	for (i = 0; i < 16; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -EBADMSG;
	for (i = 0; i < 8; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 };

		key[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	return 0;
}

/* A decimal number in [0, max], the whole string. */
static bool num(const char *s, unsigned long max, unsigned long *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v <= max;
}

/* One text line (comment stripped) into @e; -EBADMSG if malformed. */
static int keyfile_line(char *line, struct keyset_entry *e)
{
	char *f[5];
	char *save = NULL;
	unsigned long v[3];
	int n = 0;
	int ret;

	for (char *t = strtok_r(line, " \t\r", &save); t && n < 5;
	     t = strtok_r(NULL, " \t\r", &save))
		f[n++] = t;
	if (n == 2 && strchr(f[0], ':')) { /* SERVICE:SECINDEX:KVNO HEX */
		char *save2 = NULL;
		char *s = f[0];

		f[0] = strtok_r(s, ":", &save2);
		f[3] = f[1];
		f[1] = strtok_r(NULL, ":", &save2);
		f[2] = strtok_r(NULL, ":", &save2);
		if (!f[0] || !f[1] || !f[2] || strtok_r(NULL, ":", &save2))
			return -EBADMSG;
		n = 4;
	}
	if (n == 2) {
		if (!num(f[0], 255, &v[2]))
			return -EBADMSG;
		e->service = ANY_SERVICE;
		e->security_index = RXSVC_SECIDX_RXKAD;
		e->kvno = (uint32_t)v[2];
		return hex_key(f[1], e->key);
	}
	if (n != 4 || !num(f[0], 65535, &v[0]) || !num(f[1], 255, &v[1]) ||
	    v[1] < 1 || !num(f[2], 255, &v[2]))
		return -EBADMSG;
	e->service = (int32_t)v[0];
	e->security_index = (uint8_t)v[1];
	e->kvno = (uint32_t)v[2];
	ret = hex_key(f[3], e->key);
	return ret;
}

static struct rxsvc_keyset *keyset_alloc(size_t n)
{
	return calloc(1, sizeof(struct rxsvc_keyset) +
				 n * sizeof(struct keyset_entry));
}

static int keyfile_text(char *text, size_t len, struct rxsvc_keyset **ksp,
			unsigned int *bad_line)
{
	struct rxsvc_keyset *ks;
	unsigned int line = 0;
	size_t lines = 1;
	size_t i;
	char *save = NULL;
	char *l;

	for (i = 0; i < len; i++) {
		if (text[i] == '\n')
			lines++;
		else if (!isprint((unsigned char)text[i]) && text[i] != '\t' &&
			 text[i] != '\r')
			return -EBADMSG;
	}
	if (lines > KEYSET_MAX)
		lines = KEYSET_MAX;
	ks = keyset_alloc(lines);
	if (!ks)
		return -ENOMEM;
	/* strtok_r would skip empty lines and lose the count: walk by hand. */
	for (l = text; l; l = save) {
		char *c;

		save = strchr(l, '\n');
		if (save)
			*save++ = '\0';
		line++;
		c = strchr(l, '#');
		if (c)
			*c = '\0';
		if (strspn(l, " \t\r") == strlen(l))
			continue;
		if (ks->n == KEYSET_MAX || keyfile_line(l, &ks->e[ks->n]) < 0) {
			int err = ks->n == KEYSET_MAX ? -EFBIG : -EBADMSG;

			if (bad_line)
				*bad_line = line;
			rxsvc_keyset_free(ks);
			return err;
		}
		ks->n++;
	}
	*ksp = ks;
	return 0;
}

/* OpenAFS KeyFile: be32 count (<= 8), then count x (be32 kvno, 8 bytes). */
static bool keyfile_is_binary(const uint8_t *buf, size_t len)
{
	uint32_t n;

	if (len < 4)
		return false;
	n = rxs_get_be32(buf);
	return n <= OAFS_MAXKEYS && len == 4 + 12 * (size_t)n;
}

static int keyfile_binary(const uint8_t *buf, size_t len,
			  struct rxsvc_keyset **ksp)
{
	uint32_t n = rxs_get_be32(buf);
	struct rxsvc_keyset *ks = keyset_alloc(n);
	uint32_t i;

	if (!ks)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const uint8_t *p = buf + 4 + 12 * i;

		ks->e[i].service = ANY_SERVICE;
		ks->e[i].security_index = RXSVC_SECIDX_RXKAD;
		ks->e[i].kvno = rxs_get_be32(p);
		memcpy(ks->e[i].key, p + 4, 8);
	}
	ks->n = n;
	*ksp = ks;
	return 0;
}

/* Open @path and refuse it unless it is a regular file closed to others. */
static int keyfile_open(const char *path, int flags, mode_t mode,
			struct stat *st)
{
	int fd = open(path, flags | O_CLOEXEC, mode);

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Read a whole key file (NUL-terminated) into a fresh buffer. */
static int keyfile_read(const char *path, uint8_t **bufp, size_t *lenp)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd = keyfile_open(path, O_RDONLY, 0, &st);

	if (fd < 0)
		return fd;
	if ((uint64_t)st.st_size > KEYFILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

int rxsvc_keyset_load_file(const char *path, struct rxsvc_keyset **ksp,
			   unsigned int *bad_line)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (!path || !ksp)
		return -EINVAL;
	if (bad_line)
		*bad_line = 0;
	ret = keyfile_read(path, &buf, &len);
	if (ret < 0)
		return ret;
	if (keyfile_is_binary(buf, len))
		ret = keyfile_binary(buf, len, ksp);
	else
		ret = keyfile_text((char *)buf, len, ksp, bad_line);
	wipe_free(buf, len + 1);
	return ret;
}

int rxsvc_keyset_open_keyring(const char *name, struct rxsvc_keyset **ksp)
{
	struct rxsvc_keyset *ks;
	long id;

	if (!name || !ksp)
		return -EINVAL;
	if (!strcmp(name, "@s"))
		id = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
	else if (!strcmp(name, "@u"))
		id = keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 0);
	else
		id = request_key("keyring", name, NULL, 0);
	if (id < 0 && strcmp(name, "@s") && strcmp(name, "@u"))
		id = keyctl_search(KEY_SPEC_USER_KEYRING, "keyring", name, 0);
	if (id < 0)
		return -errno;
	ks = keyset_alloc(0);
	if (!ks)
		return -ENOMEM;
	ks->keyring = (int32_t)id;
	*ksp = ks;
	return 0;
}

static int keyring_lookup(int32_t ring, uint16_t service, uint8_t secidx,
			  uint32_t kvno, uint8_t key[8])
{
	char desc[64];
	uint8_t *buf = NULL;
	size_t len = 0;
	long id;
	int ret;

	snprintf(desc, sizeof(desc), RXSVC_SKEY_PREFIX "%u:%u:%u", service,
		 secidx, kvno);
	id = keyctl_search(ring, "user", desc, 0);
	if (id < 0 && errno == ENOKEY) {
		/* Like Linux's rxrpc_s: a key without kvno serves any. */
		snprintf(desc, sizeof(desc), RXSVC_SKEY_PREFIX "%u:%u", service,
			 secidx);
		id = keyctl_search(ring, "user", desc, 0);
	}
	if (id < 0)
		return -errno;
	ret = key_read((int32_t)id, &buf, &len);
	if (ret < 0)
		return ret;
	if (len == 8)
		memcpy(key, buf, 8);
	else
		ret = -EBADMSG;
	wipe_free(buf, len);
	return ret;
}

int rxsvc_keyset_lookup(const struct rxsvc_keyset *ks, uint16_t service,
			uint8_t security_index, uint32_t kvno, uint8_t key[8])
{
	const struct keyset_entry *any = NULL;
	size_t i;

	if (!ks || !key)
		return -EINVAL;
	if (ks->keyring)
		return keyring_lookup(ks->keyring, service, security_index,
				      kvno, key);
	for (i = 0; i < ks->n; i++) {
		const struct keyset_entry *e = &ks->e[i];

		if (e->kvno != kvno || e->security_index != security_index)
			continue;
		if (e->service == service) {
			memcpy(key, e->key, 8);
			return 0;
		}
		if (e->service == ANY_SERVICE && !any)
			any = e;
	}
	if (!any)
		return -ENOKEY;
	memcpy(key, any->key, 8);
	return 0;
}

void rxsvc_keyset_free(struct rxsvc_keyset *ks)
{
	if (!ks)
		return;
	OPENSSL_cleanse(ks, sizeof(*ks) + ks->n * sizeof(ks->e[0]));
	free(ks);
}

int rxs_keyset_get_key(void *rock, uint32_t kvno, uint8_t key[8])
{
	const struct rxs_keyset_rock *r = rock;

	return rxsvc_keyset_lookup(r->ks, r->service, r->security_index, kvno,
				   key);
}

/* The keys already in a text key file; -EINVAL for a binary KeyFile. */
static int keyfile_existing(const char *path, struct rxsvc_keyset **ksp)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret = keyfile_read(path, &buf, &len);

	if (ret < 0)
		return ret;
	if (keyfile_is_binary(buf, len))
		ret = -EINVAL;
	else
		ret = keyfile_text((char *)buf, len, ksp, NULL);
	wipe_free(buf, len + 1);
	return ret;
}

int rxsvc_keyfile_add(const char *path, int32_t service, uint8_t security_index,
		      uint32_t kvno, const uint8_t key[8])
{
	struct rxsvc_keyset *ks = NULL;
	struct stat st;
	char line[80];
	uint8_t old[8];
	int fd;
	int n;
	int ret;

	if (!path || !key || service > 65535 || kvno > 255 ||
	    security_index < 1)
		return -EINVAL;
	fd = keyfile_open(path, O_WRONLY | O_CREAT | O_APPEND, 0600, &st);
	if (fd < 0)
		return fd;
	ret = st.st_size ? keyfile_existing(path, &ks) : 0;
	if (ret < 0)
		goto out;
	ret = -EEXIST;
	if (ks && rxsvc_keyset_lookup(ks, service < 0 ? 0 : (uint16_t)service,
				      security_index, kvno, old) == 0)
		goto out;
	if (service < 0)
		n = snprintf(line, sizeof(line), "%u ", kvno);
	else
		n = snprintf(line, sizeof(line), "%d %u %u ", service,
			     security_index, kvno);
	for (int i = 0; i < 8; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%02x",
			      key[i]);
	line[n++] = '\n';
	ret = write(fd, line, (size_t)n) == n ? 0 : -EIO;
out:
	OPENSSL_cleanse(line, sizeof(line));
	OPENSSL_cleanse(old, sizeof(old));
	rxsvc_keyset_free(ks);
	close(fd);
	return ret;
}
