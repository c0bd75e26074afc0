/* SPDX-License-Identifier: MIT */
/*
 * rxkad.c - the rxkad security class (index 2) as computation on buffers:
 * per-connection keys, the header checksum, DATA sealing at the levels
 * clear/auth/crypt, CHALLENGE and RESPONSE, and Kerberos-4-style tickets.
 * No sockets, no clock, no allocation: the engine calls these from its
 * security ops (security.h) on the I/O thread, or from recv/send for the
 * crypt-level payload.
 *
 * Design note.  Everything here follows rx-protocol.md §S.3, which was
 * checked against a captured OpenAFS exchange (§S.3.5, our unit tests):
 *
 *  - K, the 8-byte session key, keys fcrypt and is also every IV.
 *  - The XOR info is the second half of PCBC_K(epoch, cid & ~3, 0, 2).
 *  - Header checksum: ECB_K((call, chan << 30 | seq) ^ XOR info), bytes
 *    4-5 of the result, 0 mapped to 1.  It covers call, channel and seq
 *    only: not the direction, not the payload.
 *  - auth: be32 W = (seq ^ call) << 16 | L, the data; only the first block
 *    is encrypted (ECB).  crypt: W, 0, the data, zero padding to 8, all
 *    PCBC with IV = K restarted per packet.  Neither level authenticates
 *    the bytes after the first block: a flipped bit there goes undetected
 *    at auth and garbles the rest of the payload at crypt.  That is the
 *    protocol, kept for interop; what can be checked (the checksum, W and
 *    L) is checked on every packet.
 *  - We always send version-2 challenges (every OpenAFS and Linux client
 *    answers them) and check RESPONSEs in the order of OpenAFS's
 *    rxkad_CheckResponse, so a peer gets the abort code OpenAFS would send.
 *  - Tickets are DES-PCBC (libcrypto) with the server key as key and IV.
 *    As in OpenAFS, a server key without odd parity, or a weak one, is
 *    refused (RXKADBADKEY): hcrypto's DES_key_sched checks both.
 *    A valid ticket is at most 344 bytes (OpenAFS's old MAXKTCTICKETLEN),
 *    so only that much is ever decrypted, whatever the announced length.
 *
 * Key material on the stack is wiped with OPENSSL_cleanse before return.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* DES_pcbc_encrypt: no EVP mode */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/rand.h>

#include "security/rxkad.h"
#include "transport/wire.h"

#define RXKAD_SECIDX	 2u
#define RXKAD_MAX_LEVEL	 2u
#define TICKET_PARSE_MAX 344 /* 1 + 5 strings of <= 64 + 17, rounded to 8 */
#define LIFE_MIN_FIXED	 0x80
#define LIFE_MAX_FIXED	 0xbf
#define LIFE_NO_EXPIRE	 0xff

static const char *const rxkad_names[] = {
	"RXKADINCONSISTENCY", "RXKADPACKETSHORT",   "RXKADLEVELFAIL",
	"RXKADTICKETLEN",     "RXKADOUTOFSEQUENCE", "RXKADNOAUTH",
	"RXKADBADKEY",	      "RXKADBADTICKET",	    "RXKADUNKNOWNKEY",
	"RXKADEXPIRED",	      "RXKADSEALEDINCON",   "RXKADDATALEN",
	"RXKADILLEGALLEVEL",
};

const char *rxsvc_rxkad_abort_name(int32_t code)
{
	if (code < RXKADINCONSISTENCY || code > RXKADILLEGALLEVEL)
		return NULL;
	return rxkad_names[code - RXKADINCONSISTENCY];
}

/* Store @code and return the errno the header documents for it. */
static int rxkad_fail(int32_t *abort_code, int32_t code)
{
	*abort_code = code;
	switch (code) {
	case RXKADUNKNOWNKEY:
		return -ENOKEY;
	case RXKADEXPIRED:
		return -EKEYEXPIRED;
	case RXKADNOAUTH:
	case RXKADOUTOFSEQUENCE:
	case RXKADLEVELFAIL:
		return -EACCES;
	case RXKADBADKEY:
		return -EIO;
	}
	return -EBADMSG;
}

/* ---- connection state ---- */

void rxs_rxkad_derive_xor(const struct rxs_fcrypt_sched *s,
			  const uint8_t key[8], uint32_t epoch, uint32_t cid,
			  uint32_t *xor_l, uint32_t *xor_r)
{
	uint8_t blk[16];
	uint8_t iv[8];

	rxs_put_be32(blk, epoch);
	rxs_put_be32(blk + 4, cid & RXS_CIDMASK);
	rxs_put_be32(blk + 8, 0);
	rxs_put_be32(blk + 12, RXKAD_SECIDX);
	memcpy(iv, key, 8);
	rxs_fcrypt_pcbc_encrypt(s, iv, blk, blk, sizeof(blk));
	*xor_l = rxs_get_be32(blk + 8);
	*xor_r = rxs_get_be32(blk + 12);
	OPENSSL_cleanse(iv, sizeof(iv));
}

/* Install session key @key: schedule and XOR info. */
static void rxkad_set_key(struct rxs_rxkad_conn *c, const uint8_t key[8])
{
	memcpy(c->key, key, 8);
	rxs_fcrypt_setkey(&c->sched, key);
	rxs_rxkad_derive_xor(&c->sched, key, c->epoch, c->cid, &c->xor_l,
			     &c->xor_r);
	c->keyed = true;
}

int rxs_rxkad_init_client(struct rxs_rxkad_conn *c, const uint8_t key[8],
			  unsigned int level, uint32_t epoch, uint32_t cid,
			  uint32_t expires)
{
	if (level > RXKAD_MAX_LEVEL)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->epoch = epoch;
	c->cid = cid & RXS_CIDMASK;
	c->level = (uint8_t)level;
	c->expires = expires;
	rxkad_set_key(c, key);
	return 0;
}

int rxs_rxkad_init_server(struct rxs_rxkad_conn *c, unsigned int min_level,
			  uint32_t epoch, uint32_t cid)
{
	if (min_level > RXKAD_MAX_LEVEL)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->server = true;
	c->epoch = epoch;
	c->cid = cid & RXS_CIDMASK;
	c->min_level = (uint8_t)min_level;
	c->level = (uint8_t)min_level;
	c->expires = RXS_RXKAD_NEVER;
	return 0;
}

void rxs_rxkad_conn_clear(struct rxs_rxkad_conn *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

int rxs_rxkad_check_expiry(const struct rxs_rxkad_conn *c, uint32_t now,
			   int32_t *abort_code)
{
	if (c->expires != RXS_RXKAD_NEVER && now >= c->expires)
		return rxkad_fail(abort_code, RXKADEXPIRED);
	return 0;
}

/* ---- DATA packets ---- */

size_t rxs_rxkad_hdr_len(unsigned int level)
{
	return level == 0 ? 0 : level == 1 ? 4 : 8;
}

size_t rxs_rxkad_max_data(unsigned int level, size_t space)
{
	size_t n;

	if (level == 0)
		n = space;
	else if (space < 8)
		return 0;
	else if (level == 1)
		n = space - 4; /* N = max(8, 4 + L) */
	else
		n = (space & ~(size_t)7) - 8; /* N = roundup(8 + L, 8) */
	return n > 0xffff ? 0xffff : n;
}

size_t rxs_rxkad_wire_len(unsigned int level, size_t len)
{
	if (level == 0)
		return len;
	if (level == 1)
		return len + 4 < 8 ? 8 : len + 4;
	return (len + 8 + 7) & ~(size_t)7;
}

uint16_t rxs_rxkad_cksum(const struct rxs_rxkad_conn *c, uint32_t call_number,
			 uint32_t channel, uint32_t seq)
{
	uint32_t l = call_number ^ c->xor_l;
	uint32_t r = ((channel & 3u) << 30 | (seq & 0x3fffffffu)) ^ c->xor_r;
	uint16_t ck;

	rxs_fcrypt_encrypt_words(&c->sched, &l, &r);
	ck = (uint16_t)(r >> 16);
	return ck ? ck : 1;
}

int rxs_rxkad_check_cksum(const struct rxs_rxkad_conn *c, uint32_t call_number,
			  uint32_t channel, uint32_t seq, uint16_t cksum,
			  int32_t *abort_code)
{
	if (!c->keyed)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	if (rxs_rxkad_cksum(c, call_number, channel, seq) != cksum)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	return 0;
}

static uint32_t rxkad_word(uint32_t call_number, uint32_t seq, size_t len)
{
	return ((seq ^ call_number) & 0xffffu) << 16 | (uint32_t)len;
}

int rxs_rxkad_seal(const struct rxs_rxkad_conn *c, uint32_t call_number,
		   uint32_t seq, uint8_t *payload, size_t len, size_t cap,
		   size_t *wire_len)
{
	size_t hdr = rxs_rxkad_hdr_len(c->level);
	size_t n = rxs_rxkad_wire_len(c->level, len);
	uint8_t iv[8];

	if (!c->keyed)
		return -ENOKEY;
	if (len > 0xffff || n > cap)
		return -EMSGSIZE;
	*wire_len = n;
	if (c->level == 0)
		return 0;
	rxs_put_be32(payload, rxkad_word(call_number, seq, len));
	if (c->level == 2)
		rxs_put_be32(payload + 4, 0); /* the unused "checksum" word */
	memset(payload + hdr + len, 0, n - hdr - len);
	if (c->level == 1) {
		rxs_fcrypt_ecb_encrypt(&c->sched, payload, payload);
		return 0;
	}
	memcpy(iv, c->key, 8);
	rxs_fcrypt_pcbc_encrypt(&c->sched, iv, payload, payload, n);
	OPENSSL_cleanse(iv, sizeof(iv));
	return 0;
}

int rxs_rxkad_seal2(const struct rxs_rxkad_conn *c, uint32_t call_number,
		    uint32_t seq_a, uint8_t *a, size_t len_a, size_t *wire_a,
		    uint32_t seq_b, uint8_t *b, size_t len_b, size_t *wire_b,
		    size_t cap)
{
	size_t hdr = rxs_rxkad_hdr_len(c->level);
	size_t na = rxs_rxkad_wire_len(c->level, len_a);
	size_t nb = rxs_rxkad_wire_len(c->level, len_b);
	int ret;

	if (c->level != 2) {
		ret = rxs_rxkad_seal(c, call_number, seq_a, a, len_a, cap,
				     wire_a);
		return ret < 0 ? ret :
				 rxs_rxkad_seal(c, call_number, seq_b, b,
						len_b, cap, wire_b);
	}
	if (!c->keyed)
		return -ENOKEY;
	if (len_a > 0xffff || len_b > 0xffff || na > cap || nb > cap)
		return -EMSGSIZE;
	rxs_put_be32(a, rxkad_word(call_number, seq_a, len_a));
	rxs_put_be32(a + 4, 0);
	memset(a + hdr + len_a, 0, na - hdr - len_a);
	rxs_put_be32(b, rxkad_word(call_number, seq_b, len_b));
	rxs_put_be32(b + 4, 0);
	memset(b + hdr + len_b, 0, nb - hdr - len_b);
	rxs_fcrypt_pcbc_encrypt2(&c->sched, c->key, a, na, b, nb);
	*wire_a = na;
	*wire_b = nb;
	return 0;
}

int rxs_rxkad_seal_copy(const struct rxs_rxkad_conn *c, uint32_t call_number,
			uint32_t seq, uint8_t *out, size_t cap,
			const uint8_t *data, size_t len, size_t *wire_len)
{
	size_t hdr = rxs_rxkad_hdr_len(c->level);

	if (!c->keyed)
		return -ENOKEY;
	if (len > 0xffff || rxs_rxkad_wire_len(c->level, len) > cap)
		return -EMSGSIZE;
	if (len)
		memcpy(out + hdr, data, len);
	return rxs_rxkad_seal(c, call_number, seq, out, len, cap, wire_len);
}

/*
 * Decrypt the first block of a sealed payload into @blk and check it.
 * On success *data_len = L'.  @iv (crypt only) is left as the PCBC chaining
 * value for the next block.
 */
static int rxkad_first_block(const struct rxs_rxkad_conn *c,
			     uint32_t call_number, uint32_t seq,
			     const uint8_t *payload, size_t n, uint8_t blk[8],
			     uint8_t iv[8], size_t *data_len,
			     int32_t *abort_code)
{
	size_t room;
	uint32_t w;

	/* Linux refuses < 8 bytes; OpenAFS would read past the payload. */
	if (n < 8)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	if (c->level == 1) {
		rxs_fcrypt_ecb_decrypt(&c->sched, payload, blk);
		room = n - 4;
	} else {
		memcpy(iv, c->key, 8);
		rxs_fcrypt_pcbc_decrypt(&c->sched, iv, payload, blk, 8);
		/* Only whole blocks are encrypted (Linux rounds down). */
		room = (n & ~(size_t)7) - 8;
	}
	w = rxs_get_be32(blk);
	if (w >> 16 != ((seq ^ call_number) & 0xffffu))
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	if ((w & 0xffffu) > room)
		return rxkad_fail(abort_code, RXKADDATALEN);
	*data_len = w & 0xffffu;
	return 0;
}

int rxs_rxkad_peek(const struct rxs_rxkad_conn *c, uint32_t call_number,
		   uint32_t seq, const uint8_t *payload, size_t n,
		   size_t *data_len, int32_t *abort_code)
{
	uint8_t blk[8];
	uint8_t iv[8];
	int ret;

	if (!c->keyed)
		return -ENOKEY;
	if (c->level == 0) {
		*data_len = n;
		return 0;
	}
	ret = rxkad_first_block(c, call_number, seq, payload, n, blk, iv,
				data_len, abort_code);
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

int rxs_rxkad_check_crypt(const struct rxs_rxkad_conn *c,
			  uint32_t call_number, uint32_t seq,
			  const uint8_t *payload, size_t n, uint8_t chain[8],
			  size_t *data_len, int32_t *abort_code)
{
	uint8_t blk[8];
	int ret;

	if (!c->keyed)
		return -ENOKEY;
	if (c->level != 2)
		return -EINVAL;
	ret = rxkad_first_block(c, call_number, seq, payload, n, blk, chain,
				data_len, abort_code);
	OPENSSL_cleanse(blk, sizeof(blk));
	return ret;
}

void rxs_rxkad_decrypt_more(const struct rxs_rxkad_conn *c, uint8_t chain[8],
			    const uint8_t *in, uint8_t *out, size_t len)
{
	rxs_fcrypt_pcbc_decrypt(&c->sched, chain, in, out, len);
}

int rxs_rxkad_unseal(const struct rxs_rxkad_conn *c, uint32_t call_number,
		     uint32_t seq, uint8_t *payload, size_t n, size_t *data_off,
		     size_t *data_len, int32_t *abort_code)
{
	uint8_t blk[8];
	uint8_t iv[8];
	int ret;

	if (!c->keyed)
		return -ENOKEY;
	if (c->level == 0) {
		*data_off = 0;
		*data_len = n;
		return 0;
	}
	ret = rxkad_first_block(c, call_number, seq, payload, n, blk, iv,
				data_len, abort_code);
	if (ret < 0)
		goto out;
	memcpy(payload, blk, 8);
	*data_off = rxs_rxkad_hdr_len(c->level);
	if (c->level == 2) {
		/* Only the blocks that hold user bytes need decrypting. */
		size_t m = (*data_len + 7) & ~(size_t)7;

		rxs_fcrypt_pcbc_decrypt(&c->sched, iv, payload + 8, payload + 8,
					m);
	}
out:
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

int rxs_rxkad_unseal_copy(const struct rxs_rxkad_conn *c, uint32_t call_number,
			  uint32_t seq, const uint8_t *payload, size_t n,
			  uint8_t *out, size_t out_cap, size_t *data_len,
			  int32_t *abort_code)
{
	uint8_t blk[8];
	uint8_t iv[8];
	size_t len;
	size_t full;
	int ret;

	if (!c->keyed)
		return -ENOKEY;
	if (c->level == 0) {
		*data_len = n;
		if (n > out_cap)
			return -ENOBUFS;
		if (n)
			memcpy(out, payload, n);
		return 0;
	}
	ret = rxkad_first_block(c, call_number, seq, payload, n, blk, iv, &len,
				abort_code);
	if (ret < 0)
		goto out;
	*data_len = len;
	if (len > out_cap) {
		ret = -ENOBUFS;
		goto out;
	}
	if (c->level == 1) {
		/* Bytes 4-7 of the block are user bytes; the rest is clear. */
		memcpy(out, blk + 4, len < 4 ? len : 4);
		if (len > 4)
			memcpy(out + 4, payload + 8, len - 4);
		goto out;
	}
	full = len & ~(size_t)7;
	rxs_fcrypt_pcbc_decrypt(&c->sched, iv, payload + 8, out, full);
	if (len > full) {
		rxs_fcrypt_pcbc_decrypt(&c->sched, iv, payload + 8 + full, blk,
					8);
		memcpy(out + full, blk, len - full);
	}
out:
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

int rxs_rxkad_secure_pkt(const struct rxs_rxkad_conn *c, uint8_t *pkt,
			 size_t data_len, size_t cap, size_t *pkt_len)
{
	uint32_t cid;
	uint32_t call;
	uint32_t seq;
	size_t n;
	int ret;

	if (cap < RXS_HEADER_SIZE)
		return -EMSGSIZE;
	cid = rxs_get_be32(pkt + 4);
	call = rxs_get_be32(pkt + 8);
	seq = rxs_get_be32(pkt + 12);
	ret = rxs_rxkad_seal(c, call, seq, pkt + RXS_HEADER_SIZE, data_len,
			     cap - RXS_HEADER_SIZE, &n);
	if (ret < 0)
		return ret;
	rxs_put_be16(pkt + 24, rxs_rxkad_cksum(c, call, cid & 3u, seq));
	*pkt_len = RXS_HEADER_SIZE + n;
	return 0;
}

int rxs_rxkad_verify_pkt(const struct rxs_rxkad_conn *c, uint8_t *pkt,
			 size_t len, bool decrypt, size_t *data_off,
			 size_t *data_len, int32_t *abort_code)
{
	uint8_t *payload = pkt + RXS_HEADER_SIZE;
	size_t n;
	uint32_t call;
	uint32_t seq;
	size_t off;
	int ret;

	if (!c->keyed)
		return -ENOKEY;
	if (len < RXS_HEADER_SIZE)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	n = len - RXS_HEADER_SIZE;
	call = rxs_get_be32(pkt + 8);
	seq = rxs_get_be32(pkt + 12);
	ret = rxs_rxkad_check_cksum(c, call, rxs_get_be32(pkt + 4) & 3u, seq,
				    rxs_get_be16(pkt + 24), abort_code);
	if (ret < 0)
		return ret;
	if (c->level == 2 && !decrypt) {
		ret = rxs_rxkad_peek(c, call, seq, payload, n, data_len,
				     abort_code);
		off = 8;
	} else {
		ret = rxs_rxkad_unseal(c, call, seq, payload, n, &off, data_len,
				       abort_code);
	}
	if (ret < 0)
		return ret;
	*data_off = RXS_HEADER_SIZE + off;
	return 0;
}

/* ---- CHALLENGE and RESPONSE ---- */

int rxs_rxkad_challenge_issue(struct rxs_rxkad_conn *c, uint8_t *out,
			      size_t cap, size_t *len)
{
	uint8_t rnd[4];

	if (!c->server)
		return -EINVAL;
	if (cap < RXS_RXKAD_CHALLENGE_LEN)
		return -EMSGSIZE;
	if (!c->challenged) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			return -EIO;
		c->nonce = rxs_get_be32(rnd);
		c->challenged = true;
	}
	rxs_put_be32(out, 2);
	rxs_put_be32(out + 4, c->nonce);
	rxs_put_be32(out + 8, c->min_level);
	rxs_put_be32(out + 12, 0);
	*len = RXS_RXKAD_CHALLENGE_LEN;
	return 0;
}

int rxs_rxkad_challenge_parse(const uint8_t *body, size_t n,
			      struct rxs_rxkad_challenge *ch,
			      int32_t *abort_code)
{
	struct rxs_cursor cur = { body, n };

	if (n <= RXS_RXKAD_CHALLENGE_OLD_LEN) {
		ch->version = 0;
		if (!rxs_cur_be32(&cur, &ch->nonce) ||
		    !rxs_cur_be32(&cur, &ch->min_level))
			return rxkad_fail(abort_code, RXKADPACKETSHORT);
		return 0;
	}
	if (n < RXS_RXKAD_CHALLENGE_LEN)
		return rxkad_fail(abort_code, RXKADPACKETSHORT);
	rxs_cur_be32(&cur, &ch->version);
	rxs_cur_be32(&cur, &ch->nonce);
	rxs_cur_be32(&cur, &ch->min_level);
	if (ch->version != 2)
		return rxkad_fail(abort_code, RXKADINCONSISTENCY);
	return 0;
}

uint32_t rxs_rxkad_response_cksum(const uint8_t *buf, size_t n)
{
	uint32_t c = 1000003;
	size_t i;

	for (i = 0; i < n; i++)
		c = c * 0x10204081u + buf[i];
	return c;
}

static int response_build_old(const struct rxs_rxkad_conn *c,
			      const struct rxs_rxkad_challenge *ch,
			      const struct rxs_rxkad_token *tok, uint8_t *out)
{
	rxs_put_be32(out, ch->nonce + 1);
	rxs_put_be32(out + 4, c->level);
	rxs_fcrypt_ecb_encrypt(&c->sched, out, out);
	rxs_put_be32(out + 8, tok->kvno);
	rxs_put_be32(out + 12, (uint32_t)tok->ticket_len);
	memcpy(out + RXS_RXKAD_RESPONSE_OLD_HDR, tok->ticket, tok->ticket_len);
	return 0;
}

int rxs_rxkad_response_build(const struct rxs_rxkad_conn *c,
			     const struct rxs_rxkad_challenge *ch,
			     const uint32_t call_numbers[4],
			     const struct rxs_rxkad_token *tok, uint8_t *out,
			     size_t cap, size_t *len, int32_t *abort_code)
{
	size_t hdr = ch->version ? RXS_RXKAD_RESPONSE_HDR
				 : RXS_RXKAD_RESPONSE_OLD_HDR;
	uint8_t iv[8];
	int i;

	if (!c->keyed || c->server)
		return -ENOKEY;
	if (ch->min_level > c->level) {
		*abort_code = RXKADLEVELFAIL;
		return -EACCES;
	}
	if (tok->ticket_len == 0 || tok->ticket_len > RXS_RXKAD_TICKET_MAX) {
		*abort_code = RXKADTICKETLEN;
		return -EINVAL;
	}
	if (tok->ticket_len > cap || cap - tok->ticket_len < hdr) {
		*abort_code = RXKADPACKETSHORT;
		return -EMSGSIZE;
	}
	*len = hdr + tok->ticket_len;
	if (!ch->version)
		return response_build_old(c, ch, tok, out);
	for (i = 0; i < 4; i++) {
		if (call_numbers[i] > INT32_MAX) {
			*abort_code = RXKADINCONSISTENCY;
			return -EINVAL;
		}
	}
	rxs_put_be32(out, 2);
	rxs_put_be32(out + 4, 0);
	rxs_put_be32(out + 8, c->epoch);
	rxs_put_be32(out + 12, c->cid);
	rxs_put_be32(out + 16, 0); /* checksum, computed over this */
	rxs_put_be32(out + 20, RXKAD_SECIDX);
	for (i = 0; i < 4; i++)
		rxs_put_be32(out + 24 + 4 * i, call_numbers[i]);
	rxs_put_be32(out + 40, ch->nonce + 1);
	rxs_put_be32(out + 44, c->level);
	rxs_put_be32(out + 48, tok->kvno);
	rxs_put_be32(out + 52, (uint32_t)tok->ticket_len);
	rxs_put_be32(out + 16, rxs_rxkad_response_cksum(out, hdr));
	memcpy(iv, c->key, 8);
	rxs_fcrypt_pcbc_encrypt(&c->sched, iv, out + 8, out + 8, 40);
	OPENSSL_cleanse(iv, sizeof(iv));
	memcpy(out + hdr, tok->ticket, tok->ticket_len);
	return 0;
}

/* Steps 3-4 of rxkad_CheckResponse: server key, ticket, times. */
static int response_ticket(const struct rxs_rxkad_verify_params *p,
			   uint32_t kvno, const uint8_t *tkt, size_t tlen,
			   struct rxs_ticket *t, int32_t *abort_code)
{
	uint8_t skey[8];
	int ret;

	/* 256 and 213 are Kerberos 5 tickets, which we do not take. */
	if (kvno > 255)
		return rxkad_fail(abort_code, RXKADUNKNOWNKEY);
	ret = p->get_key(p->key_rock, kvno, skey);
	if (ret == -ENOKEY || ret == -ENOENT)
		return rxkad_fail(abort_code, RXKADUNKNOWNKEY);
	if (ret == -EKEYEXPIRED)
		return rxkad_fail(abort_code, RXKADEXPIRED);
	if (ret < 0)
		return rxkad_fail(abort_code, RXKADNOAUTH);
	ret = rxs_ticket_decode(tkt, tlen, skey, t, abort_code);
	OPENSSL_cleanse(skey, sizeof(skey));
	if (ret < 0)
		return ret;
	switch (rxs_ticket_check_times(t->start, t->end, p->now)) {
	case 0:
		return rxkad_fail(abort_code, RXKADNOAUTH);
	case -1:
		return rxkad_fail(abort_code, RXKADEXPIRED);
	case 1:
	case 2:
		return 0;
	}
	return rxkad_fail(abort_code, RXKADBADTICKET);
}

/* Steps 6-10: the decrypted block @b (56 bytes, in the clear). */
static int response_block(const struct rxs_rxkad_conn *c, uint8_t *b,
			  const struct rxs_rxkad_verify_params *p,
			  uint32_t call_numbers[4], int32_t *abort_code)
{
	uint32_t cksum = rxs_get_be32(b + 16);
	uint32_t level;
	int i;

	rxs_put_be32(b + 16, 0);
	if (rxs_rxkad_response_cksum(b, RXS_RXKAD_RESPONSE_HDR) != cksum)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	if (rxs_get_be32(b + 8) != c->epoch ||
	    (rxs_get_be32(b + 12) & RXS_CIDMASK) != c->cid ||
	    rxs_get_be32(b + 20) != RXKAD_SECIDX)
		return rxkad_fail(abort_code, RXKADSEALEDINCON);
	for (i = 0; i < 4; i++) {
		call_numbers[i] = rxs_get_be32(b + 24 + 4 * i);
		if (call_numbers[i] > INT32_MAX)
			return rxkad_fail(abort_code, RXKADSEALEDINCON);
		if (p->chan_calls && call_numbers[i] < p->chan_calls[i])
			return rxkad_fail(abort_code, RXKADSEALEDINCON);
	}
	if (rxs_get_be32(b + 40) != c->nonce + 1)
		return rxkad_fail(abort_code, RXKADOUTOFSEQUENCE);
	level = rxs_get_be32(b + 44);
	if (level < c->min_level || level > RXKAD_MAX_LEVEL)
		return rxkad_fail(abort_code, RXKADLEVELFAIL);
	return 0;
}

static void response_accept(struct rxs_rxkad_conn *c, const uint8_t *b,
			    const struct rxs_ticket *t, uint32_t kvno)
{
	c->level = (uint8_t)rxs_get_be32(b + 44);
	rxkad_set_key(c, t->session_key);
	c->expires = t->end;
	c->challenged = false;
	memcpy(c->ident.name, t->name, sizeof(c->ident.name));
	memcpy(c->ident.inst, t->inst, sizeof(c->ident.inst));
	memcpy(c->ident.cell, t->cell, sizeof(c->ident.cell));
	c->ident.kvno = kvno;
	c->ident.host = t->host;
	c->ident.start = t->start;
	c->ident.end = t->end;
}

int rxs_rxkad_response_verify(struct rxs_rxkad_conn *c, const uint8_t *body,
			      size_t n, const struct rxs_rxkad_verify_params *p,
			      uint32_t call_numbers[4], int32_t *abort_code)
{
	struct rxs_fcrypt_sched sched;
	struct rxs_ticket t;
	uint8_t b[RXS_RXKAD_RESPONSE_HDR];
	uint8_t iv[8];
	uint32_t kvno;
	uint32_t tlen;
	int ret;

	*abort_code = 0;
	if (!c->server)
		return -EINVAL;
	if (c->keyed)
		return -EALREADY;
	if (!c->challenged)
		return -EPROTO;
	if (n < RXS_RXKAD_RESPONSE_HDR)
		return rxkad_fail(abort_code, RXKADPACKETSHORT);
	kvno = rxs_get_be32(body + 48);
	tlen = rxs_get_be32(body + 52);
	if (tlen > n - RXS_RXKAD_RESPONSE_HDR)
		return rxkad_fail(abort_code, RXKADPACKETSHORT);
	if (rxs_get_be32(body) != 2)
		return rxkad_fail(abort_code, RXKADINCONSISTENCY);
	if (tlen < RXS_RXKAD_TICKET_MIN || tlen > RXS_RXKAD_TICKET_MAX)
		return rxkad_fail(abort_code, RXKADTICKETLEN);
	ret = response_ticket(p, kvno, body + RXS_RXKAD_RESPONSE_HDR, tlen, &t,
			      abort_code);
	if (ret < 0)
		goto out;
	memcpy(b, body, sizeof(b));
	rxs_fcrypt_setkey(&sched, t.session_key);
	memcpy(iv, t.session_key, 8);
	rxs_fcrypt_pcbc_decrypt(&sched, iv, b + 8, b + 8, 40);
	ret = response_block(c, b, p, call_numbers, abort_code);
	if (ret < 0)
		goto out;
	response_accept(c, b, &t, kvno);
	if (p->user_ok && p->user_ok(p->user_rock, &c->ident) < 0) {
		c->keyed = false;
		ret = rxkad_fail(abort_code, RXKADNOAUTH);
	}
out:
	OPENSSL_cleanse(&sched, sizeof(sched));
	OPENSSL_cleanse(&t, sizeof(t));
	OPENSSL_cleanse(b, sizeof(b));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

/* ---- tickets ---- */

static const uint32_t tkt_lifetimes[64] = {
	38400,	 41055,	  43894,   46929,   50174,   53643,   57352,   61318,
	65558,	 70091,	  74937,   80119,   85658,   91581,   97914,   104684,
	111922,	 119661,  127935,  136781,  146239,  156350,  167161,  178720,
	191077,	 204289,  218415,  233517,  249664,  266926,  285383,  305116,
	326213,	 348769,  372885,  398668,  426234,  455705,  487215,  520904,
	556921,	 595430,  636601,  680618,  727680,  777995,  831789,  889303,
	950794,	 1016537, 1086825, 1161973, 1242318, 1328218, 1420057, 1518247,
	1623226, 1735464, 1855462, 1983758, 2120925, 2267576, 2424367, 2592000,
};

uint32_t rxs_life_to_time(uint32_t start, uint8_t life)
{
	if (life == LIFE_NO_EXPIRE)
		return RXS_RXKAD_NEVER;
	if (life < LIFE_MIN_FIXED)
		return start + life * 300u;
	if (life > LIFE_MAX_FIXED)
		return start + RXS_RXKAD_MAX_LIFE;
	return start + tkt_lifetimes[life - LIFE_MIN_FIXED];
}

uint8_t rxs_time_to_life(uint32_t start, uint32_t end)
{
	int32_t lifetime = (int32_t)(end - start);
	int i;

	if (end == RXS_RXKAD_NEVER)
		return LIFE_NO_EXPIRE;
	if (lifetime > (int32_t)RXS_RXKAD_MAX_LIFE || lifetime <= 0)
		return 0;
	if ((uint32_t)lifetime < tkt_lifetimes[0])
		return (uint8_t)((lifetime + 299) / 300);
	/* The table is increasing: the first entry >= lifetime is best. */
	for (i = 0; i < 64; i++)
		if (tkt_lifetimes[i] >= (uint32_t)lifetime)
			return (uint8_t)(LIFE_MIN_FIXED + i);
	return 0;
}

/* OpenAFS tkt_CheckTimes, with its unsigned arithmetic. */
int rxs_ticket_check_times(uint32_t start, uint32_t end, uint32_t now)
{
	int active;

	if (start >= end)
		return -2;
	if (start > now + RXS_RXKAD_SKEW + RXS_RXKAD_MAX_LIFE)
		return -2;
	if (start != 0 && end != RXS_RXKAD_NEVER &&
	    end - start > RXS_RXKAD_MAX_LIFE)
		return -2;
	if (end != RXS_RXKAD_NEVER && end + RXS_RXKAD_SKEW < now) {
		if (start != 0 && now - start > RXS_RXKAD_MAX_LIFE + 86400)
			return -2;
		return -1;
	}
	active = start == 0 || start - RXS_RXKAD_SKEW <= now;
	if (start == 0 || end == RXS_RXKAD_NEVER)
		return active;
	return active * 2;
}

static bool tkt_put_str(uint8_t *buf, size_t *off, const char *s, size_t min)
{
	size_t n = strnlen(s, RXS_RXKAD_NAME_MAX);

	if (n < min || n >= RXS_RXKAD_NAME_MAX)
		return false;
	memcpy(buf + *off, s, n + 1);
	*off += n + 1;
	return true;
}

/*
 * DES-PCBC with key = IV = @key.  Like OpenAFS (hcrypto's DES_key_sched
 * checks), a key without odd parity or a weak key is refused: -EINVAL.
 */
static int des_pcbc(const uint8_t key[8], const uint8_t *in, uint8_t *out,
		    size_t len, int enc)
{
	DES_key_schedule ks;
	DES_cblock k;
	DES_cblock iv;
	int ret = 0;

	memcpy(k, key, 8);
	memcpy(iv, key, 8);
	if (DES_set_key_checked(&k, &ks) != 0)
		ret = -EINVAL;
	else
		DES_pcbc_encrypt(in, out, (long)len, &ks, &iv, enc);
	OPENSSL_cleanse(&ks, sizeof(ks));
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(iv, sizeof(iv));
	return ret;
}

int rxs_ticket_make(const struct rxs_ticket *t, const uint8_t server_key[8],
		    uint8_t *out, size_t cap, size_t *len)
{
	uint8_t buf[TICKET_PARSE_MAX];
	size_t off = 0;
	size_t n;
	uint8_t life;
	int ret = -EINVAL;

	memset(buf, 0, sizeof(buf));
	buf[off++] = 0; /* flags: big-endian, as OpenAFS always writes */
	if (!tkt_put_str(buf, &off, t->name, 1) ||
	    !tkt_put_str(buf, &off, t->inst, 0) ||
	    !tkt_put_str(buf, &off, t->cell, 0))
		goto out;
	rxs_put_be32(buf + off, t->host);
	off += 4;
	memcpy(buf + off, t->session_key, 8);
	off += 8;
	life = rxs_time_to_life(t->start, t->end);
	if (!life)
		goto out;
	buf[off++] = life;
	rxs_put_be32(buf + off, t->start);
	off += 4;
	if (!tkt_put_str(buf, &off, t->sname, 1) ||
	    !tkt_put_str(buf, &off, t->sinst, 0))
		goto out;
	n = (off + 7) & ~(size_t)7;
	ret = -EMSGSIZE;
	if (n > cap)
		goto out;
	ret = des_pcbc(server_key, buf, out, n, DES_ENCRYPT);
	if (ret == 0)
		*len = n;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

/* A NUL-terminated string of min..63 characters inside the cursor. */
static bool tkt_get_str(struct rxs_cursor *cur, char *dst, size_t min)
{
	size_t n = strnlen((const char *)cur->p, cur->left);

	if (n == cur->left || n < min || n >= RXS_RXKAD_NAME_MAX)
		return false;
	memcpy(dst, cur->p, n + 1);
	cur->p += n + 1;
	cur->left -= n + 1;
	return true;
}

/* The 4-byte integers are little-endian when flags bit 0 is set. */
static bool tkt_get_int(struct rxs_cursor *cur, uint8_t flags, uint32_t *v)
{
	if (!rxs_cur_be32(cur, v))
		return false;
	if (flags & 1)
		*v = __builtin_bswap32(*v);
	return true;
}

static bool tkt_parse(const uint8_t *buf, size_t n, struct rxs_ticket *t,
		      size_t *parsed)
{
	struct rxs_cursor cur = { buf, n };
	uint8_t flags;
	uint8_t life;

	if (!rxs_cur_u8(&cur, &flags) || !tkt_get_str(&cur, t->name, 1) ||
	    !tkt_get_str(&cur, t->inst, 0) || !tkt_get_str(&cur, t->cell, 0) ||
	    !tkt_get_int(&cur, flags, &t->host) || cur.left < 8)
		return false;
	memcpy(t->session_key, cur.p, 8);
	rxs_cur_skip(&cur, 8);
	if (!rxs_cur_u8(&cur, &life) || !tkt_get_int(&cur, flags, &t->start) ||
	    !tkt_get_str(&cur, t->sname, 1) || !tkt_get_str(&cur, t->sinst, 0))
		return false;
	t->end = rxs_life_to_time(t->start, life);
	*parsed = n - cur.left;
	return true;
}

int rxs_ticket_decode(const uint8_t *tkt, size_t len,
		      const uint8_t server_key[8], struct rxs_ticket *t,
		      int32_t *abort_code)
{
	uint8_t buf[TICKET_PARSE_MAX];
	size_t n;
	size_t parsed;
	int ret = 0;

	if (len < RXS_RXKAD_TICKET_MIN || len > RXS_RXKAD_TICKET_MAX || len % 8)
		return rxkad_fail(abort_code, RXKADBADTICKET);
	/*
	 * A ticket longer than 344 bytes cannot pass the length check below,
	 * but its first 344 bytes decrypt the same: decrypt no more.
	 */
	n = len < sizeof(buf) ? len : sizeof(buf);
	memset(t, 0, sizeof(*t));
	if (des_pcbc(server_key, tkt, buf, n, DES_DECRYPT) < 0) {
		ret = rxkad_fail(abort_code, RXKADBADKEY);
		goto out;
	}
	if (!tkt_parse(buf, n, t, &parsed)) {
		ret = rxkad_fail(abort_code, RXKADBADTICKET);
		goto out;
	}
	/* OpenAFS accepts 56 whatever was parsed (old tickets). */
	if (((parsed + 7) & ~(size_t)7) != len && len != 56) {
		ret = rxkad_fail(abort_code, RXKADBADTICKET);
		goto out;
	}
out:
	if (ret < 0)
		OPENSSL_cleanse(t, sizeof(*t));
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}
