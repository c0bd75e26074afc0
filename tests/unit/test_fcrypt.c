/* SPDX-License-Identifier: MIT */
/*
 * test_fcrypt.c - fcrypt against the published vectors (rx-protocol.md
 * §S.4.3: Linux crypto/testmgr.h fcrypt_pcbc_tv_template, now the
 * net/rxrpc KUnit tests), the key schedule OpenAFS's fc_keysched prints,
 * and the mode rules (IV carried across calls, parity bits ignored, whole
 * blocks only).  tests/interop/fcrypt_oafs.c compares with OpenAFS itself
 * on random data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "security/fcrypt.h"

static void unhex(const char *h, uint8_t *out)
{
	size_t i;

	for (i = 0; h[2 * i] && h[2 * i + 1]; i++) {
		unsigned int b;

		sscanf(h + 2 * i, "%2x", &b);
		out[i] = (uint8_t)b;
	}
}

struct vec {
	const char *key;
	const char *iv;
	const char *pt; /* hex, or NULL: the fox text */
	const char *ct;
};

static const char fox[48] = "The quick brown fox jumps over the lazy dogs.";

static const struct vec vecs[] = {
	{ "0000000000000000", "0000000000000000", "0000000000000000",
	  "0e0900c73ef7ed41" },
	{ "114477aadd003366", "0000000000000000", "123456789abcdef0",
	  "d8ed787477ec0680" },
	{ "f0e1d2c3b4a59687", "fedcba9876543210", NULL,
	  "00f00e1175e62382eeac98624451e484c359d8aa6460aef7"
	  "d2d9137972a3450323b562d70cf527d1f8913cac442292ef" },
	{ "fedcba9876543210", "f0e1d2c3b4a59687", NULL,
	  "ca90f59dcbd4d23c01887f3e316e629dd8e057a3063a4258"
	  "2a28fe72522fdde01989091c2a8e8c94fcc768e488aade0f" },
};

static size_t vec_load(const struct vec *v, uint8_t key[8], uint8_t iv[8],
		       uint8_t *pt, uint8_t *ct)
{
	size_t n = strlen(v->ct) / 2;

	unhex(v->key, key);
	unhex(v->iv, iv);
	if (v->pt)
		unhex(v->pt, pt);
	else
		memcpy(pt, fox, sizeof(fox));
	unhex(v->ct, ct);
	return n;
}

static void test_pcbc_vectors(void)
{
	for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
		struct rxs_fcrypt_sched s;
		uint8_t key[8], iv[8], iv2[8], pt[48], ct[48], out[48];
		size_t n = vec_load(&vecs[i], key, iv, pt, ct);

		rxs_fcrypt_setkey(&s, key);
		memcpy(iv2, iv, 8);
		CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_encrypt(&s, iv2, pt, out, n),
				0);
		CU_ASSERT(memcmp(out, ct, n) == 0);
		memcpy(iv2, iv, 8);
		CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_decrypt(&s, iv2, ct, out, n),
				0);
		CU_ASSERT(memcmp(out, pt, n) == 0);
		/* in place */
		memcpy(out, pt, n);
		memcpy(iv2, iv, 8);
		rxs_fcrypt_pcbc_encrypt(&s, iv2, out, out, n);
		CU_ASSERT(memcmp(out, ct, n) == 0);
		memcpy(iv2, iv, 8);
		rxs_fcrypt_pcbc_decrypt(&s, iv2, out, out, n);
		CU_ASSERT(memcmp(out, pt, n) == 0);
	}
}

/* Vectors 1 and 2 have IV 0 and one block: ECB vectors too. */
static void test_ecb_vectors(void)
{
	for (size_t i = 0; i < 2; i++) {
		struct rxs_fcrypt_sched s;
		uint8_t key[8], iv[8], pt[48], ct[48], out[8];

		vec_load(&vecs[i], key, iv, pt, ct);
		rxs_fcrypt_setkey(&s, key);
		rxs_fcrypt_ecb_encrypt(&s, pt, out);
		CU_ASSERT(memcmp(out, ct, 8) == 0);
		rxs_fcrypt_ecb_decrypt(&s, ct, out);
		CU_ASSERT(memcmp(out, pt, 8) == 0);
	}
}

static void test_key_schedule(void)
{
	static const uint32_t want[16] = {
		0x5dc00cb3, 0x3babb801, 0x42277577, 0x598844ee,
		0x00cb3108, 0xbb801966, 0x77577003, 0x844eeaee,
		0xb31089dd, 0x01966211, 0x770032cc, 0xeeaee006,
		0x089dd5dc, 0x662113ba, 0x032cc422, 0xee006598,
	};
	struct rxs_fcrypt_sched s;
	uint8_t key[8];

	unhex("114477aadd003366", key);
	rxs_fcrypt_setkey(&s, key);
	CU_ASSERT(memcmp(s.k, want, sizeof(want)) == 0);
	rxs_fcrypt_sched_clear(&s);
	for (int i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(s.k[i], 0);
}

/* The low bit of each key byte is parity: flipping it changes nothing. */
static void test_parity_ignored(void)
{
	struct rxs_fcrypt_sched a, b;
	uint8_t key[8];

	unhex("114477aadd003366", key);
	rxs_fcrypt_setkey(&a, key);
	for (int i = 0; i < 8; i++)
		key[i] ^= 1;
	rxs_fcrypt_setkey(&b, key);
	CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
}

/*
 * OpenAFS pads a short final block with zeros: 0102030405 under
 * 114477aadd003366 encrypts like 0102030405000000 (§S.4.3).  We take
 * whole blocks only, so the caller pads; the result must be the same.
 */
static void test_short_block_padded(void)
{
	struct rxs_fcrypt_sched s;
	uint8_t key[8], iv[8] = { 0 }, blk[8] = { 1, 2, 3, 4, 5 }, want[8];

	unhex("114477aadd003366", key);
	unhex("6aa3d58db4a1edb8", want);
	rxs_fcrypt_setkey(&s, key);
	CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_encrypt(&s, iv, blk, blk, 5), -EINVAL);
	CU_ASSERT(blk[5] == 0 && blk[0] == 1); /* untouched */
	CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_encrypt(&s, iv, blk, blk, 8), 0);
	CU_ASSERT(memcmp(blk, want, 8) == 0);
}

/* The IV is carried: two calls on 16 + 32 bytes equal one on 48. */
static void test_pcbc_segments(void)
{
	struct rxs_fcrypt_sched s;
	uint8_t key[8], iv[8], iv0[8], pt[48], ct[48], out[48];
	size_t n = vec_load(&vecs[2], key, iv0, pt, ct);

	rxs_fcrypt_setkey(&s, key);
	memcpy(iv, iv0, 8);
	rxs_fcrypt_pcbc_encrypt(&s, iv, pt, out, 16);
	rxs_fcrypt_pcbc_encrypt(&s, iv, pt + 16, out + 16, n - 16);
	CU_ASSERT(memcmp(out, ct, n) == 0);
	memcpy(iv, iv0, 8);
	rxs_fcrypt_pcbc_decrypt(&s, iv, ct, out, 24);
	rxs_fcrypt_pcbc_decrypt(&s, iv, ct + 24, out + 24, n - 24);
	CU_ASSERT(memcmp(out, pt, n) == 0);
	CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_decrypt(&s, iv, ct, out, 0), 0);
}

static void test_random_roundtrip(void)
{
	static uint8_t buf[4096], enc[4096], dec[4096];
	struct rxs_fcrypt_sched s;
	uint8_t key[8], iv[8], iv0[8];

	srand(1234);
	for (int round = 0; round < 50; round++) {
		size_t n = (size_t)(rand() % 512) * 8;

		for (size_t i = 0; i < 8; i++) {
			key[i] = (uint8_t)rand();
			iv0[i] = (uint8_t)rand();
		}
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rand();
		rxs_fcrypt_setkey(&s, key);
		memcpy(iv, iv0, 8);
		rxs_fcrypt_pcbc_encrypt(&s, iv, buf, enc, n);
		memcpy(iv, iv0, 8);
		rxs_fcrypt_pcbc_decrypt(&s, iv, enc, dec, n);
		CU_ASSERT(memcmp(buf, dec, n) == 0);
	}
}

/* Two chains at once give what two single calls give, any lengths. */
static void test_pcbc_pair(void)
{
	static uint8_t a[2048], b[2048], a2[2048], b2[2048];
	struct rxs_fcrypt_sched s;
	uint8_t key[8], iv[8], iv0[8];

	srand(4321);
	for (int round = 0; round < 100; round++) {
		size_t na = (size_t)(rand() % 256) * 8;
		size_t nb = (size_t)(rand() % 256) * 8;

		for (size_t i = 0; i < 8; i++) {
			key[i] = (uint8_t)rand();
			iv0[i] = (uint8_t)rand();
		}
		for (size_t i = 0; i < sizeof(a); i++) {
			a[i] = a2[i] = (uint8_t)rand();
			b[i] = b2[i] = (uint8_t)rand();
		}
		rxs_fcrypt_setkey(&s, key);
		memcpy(iv, iv0, 8);
		rxs_fcrypt_pcbc_encrypt(&s, iv, a, a, na);
		memcpy(iv, iv0, 8);
		rxs_fcrypt_pcbc_encrypt(&s, iv, b, b, nb);
		CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_encrypt2(&s, iv0, a2, na, b2, nb),
				0);
		CU_ASSERT(memcmp(a, a2, sizeof(a)) == 0);
		CU_ASSERT(memcmp(b, b2, sizeof(b)) == 0);
	}
	CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_encrypt2(&s, iv0, a, 7, b, 8),
			-EINVAL);
}

/* Two chains opened at once match two single calls, chaining values too. */
static void test_pcbc_pair_decrypt(void)
{
	static uint8_t a[2048], b[2048], oa[2048], ob[2048], oa2[2048],
		ob2[2048];
	struct rxs_fcrypt_sched s;
	uint8_t key[8], ia[8], ib[8], ia2[8], ib2[8];

	srand(5678);
	for (int round = 0; round < 100; round++) {
		size_t na = (size_t)(rand() % 256) * 8;
		size_t nb = (size_t)(rand() % 256) * 8;

		for (size_t i = 0; i < 8; i++) {
			key[i] = (uint8_t)rand();
			ia[i] = ia2[i] = (uint8_t)rand();
			ib[i] = ib2[i] = (uint8_t)rand();
		}
		for (size_t i = 0; i < sizeof(a); i++) {
			a[i] = (uint8_t)rand();
			b[i] = (uint8_t)rand();
		}
		memset(oa, 0, sizeof(oa));
		memset(ob, 0, sizeof(ob));
		memset(oa2, 0, sizeof(oa2));
		memset(ob2, 0, sizeof(ob2));
		rxs_fcrypt_setkey(&s, key);
		rxs_fcrypt_pcbc_decrypt(&s, ia, a, oa, na);
		rxs_fcrypt_pcbc_decrypt(&s, ib, b, ob, nb);
		CU_ASSERT_EQUAL(rxs_fcrypt_pcbc_decrypt2(&s, ia2, a, oa2, na,
							 ib2, b, ob2, nb),
				0);
		CU_ASSERT(memcmp(oa, oa2, sizeof(oa)) == 0);
		CU_ASSERT(memcmp(ob, ob2, sizeof(ob)) == 0);
		CU_ASSERT(memcmp(ia, ia2, 8) == 0);
		CU_ASSERT(memcmp(ib, ib2, 8) == 0);
	}
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "pcbc vectors 1-4", test_pcbc_vectors },
		{ "ecb vectors 1-2", test_ecb_vectors },
		{ "key schedule 114477aadd003366", test_key_schedule },
		{ "parity bits ignored", test_parity_ignored },
		{ "short block zero padded", test_short_block_padded },
		{ "pcbc iv carried across calls", test_pcbc_segments },
		{ "random round trips", test_random_roundtrip },
		{ "two chains at once", test_pcbc_pair },
		{ "two chains opened at once", test_pcbc_pair_decrypt },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("fcrypt", NULL, NULL);
	if (!s)
		goto error;
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			goto error;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto error;
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
error:
	CU_cleanup_registry();
	return 99;
}
