/* SPDX-License-Identifier: MIT */
/*
 * fcrypt.h - the fcrypt block cipher that rxkad uses (rx-protocol.md
 * §S.4): an 8-byte block, a 56-bit key, 16 Feistel rounds.  ECB on one
 * block and PCBC ("fc_cbc_encrypt" in OpenAFS, which is PCBC despite its
 * name) over whole blocks.  libcrypto does not have fcrypt; this is the one
 * cipher we write ourselves.
 *
 * A schedule is key material: clear it with rxs_fcrypt_sched_clear()
 * before it goes out of scope or is freed.
 */
#ifndef RXS_FCRYPT_H
#define RXS_FCRYPT_H

#include <stddef.h>
#include <stdint.h>

#define RXS_FCRYPT_BLOCK  8
#define RXS_FCRYPT_ROUNDS 16

/* The key schedule: sched[0..15] as host-order words (OpenAFS's layout). */
struct rxs_fcrypt_sched {
	uint32_t k[RXS_FCRYPT_ROUNDS];
};

/* fcrypt.c */

/*
 * Compute the schedule of an 8-byte key.  The low bit of every key byte is
 * parity and is ignored.  Never fails (fcrypt has no weak-key check).
 */
void rxs_fcrypt_setkey(struct rxs_fcrypt_sched *s, const uint8_t key[8]);

/* Wipe a schedule (OPENSSL_cleanse). */
void rxs_fcrypt_sched_clear(struct rxs_fcrypt_sched *s);

/*
 * Encrypt or decrypt one block held as two host-order words (bytes 0-3
 * and 4-7 of the block read big-endian).  The hot path of everything else.
 */
void rxs_fcrypt_encrypt_words(const struct rxs_fcrypt_sched *s, uint32_t *l,
			      uint32_t *r);
void rxs_fcrypt_decrypt_words(const struct rxs_fcrypt_sched *s, uint32_t *l,
			      uint32_t *r);

/* ECB on one 8-byte block; @in and @out may be the same buffer. */
void rxs_fcrypt_ecb_encrypt(const struct rxs_fcrypt_sched *s,
			    const uint8_t in[8], uint8_t out[8]);
void rxs_fcrypt_ecb_decrypt(const struct rxs_fcrypt_sched *s,
			    const uint8_t in[8], uint8_t out[8]);

/*
 * PCBC over @len bytes (a multiple of 8): C_i = E(P_i ^ V_i), V_0 = @iv,
 * V_{i+1} = P_i ^ C_i.  @iv is updated in place to the next V, so a payload
 * spread over several buffers can be processed by successive calls (as
 * OpenAFS's fc_cbc_encrypt does).  @in and @out may be the same buffer or
 * not overlap at all.  Returns 0, or -EINVAL if @len is not a multiple of 8
 * (nothing is written then).
 */
/*
 * PCBC-encrypt two buffers in place, each from @iv (which is not
 * changed): the two chains are independent, so a core runs them side by
 * side - nearly twice the throughput of two calls, PCBC being serial.
 * Lengths are multiples of 8; -EINVAL otherwise.
 */
int rxs_fcrypt_pcbc_encrypt2(const struct rxs_fcrypt_sched *s,
			     const uint8_t iv[8], uint8_t *a, size_t na,
			     uint8_t *b, size_t nb);
/* The reverse for two buffers with their own chaining values (updated). */
int rxs_fcrypt_pcbc_decrypt2(const struct rxs_fcrypt_sched *s,
			     uint8_t iva[8], const uint8_t *ina, uint8_t *outa,
			     size_t na, uint8_t ivb[8], const uint8_t *inb,
			     uint8_t *outb, size_t nb);
int rxs_fcrypt_pcbc_encrypt(const struct rxs_fcrypt_sched *s, uint8_t iv[8],
			    const uint8_t *in, uint8_t *out, size_t len);
int rxs_fcrypt_pcbc_decrypt(const struct rxs_fcrypt_sched *s, uint8_t iv[8],
			    const uint8_t *in, uint8_t *out, size_t len);

#endif /* RXS_FCRYPT_H */
