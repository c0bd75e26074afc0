/* SPDX-License-Identifier: MIT */
/*
 * fcrypt_oafs.c - our fcrypt and tickets against OpenAFS's own, linked
 * from /usr/lib/librxkad.a (Debian libopenafs-dev), on random data:
 *   - key schedules: rxs_fcrypt_setkey vs fc_keysched;
 *   - ECB both ways: rxs_fcrypt_ecb_* vs fc_ecb_encrypt;
 *   - PCBC both ways, with the IV carried: vs fc_cbc_encrypt;
 *   - tickets: ours decoded by tkt_DecodeTicket, theirs by ours, and
 *     byte-identical output for the same fields (tkt_MakeTicket);
 *   - life_to_time / time_to_life / tkt_CheckTimes on many inputs;
 * then prints the PCBC speed of both.  Exit 0 when all agree, 1 if not.
 * Built without our sanitizer flags (OpenAFS is not built with them).
 */
/* OpenAFS first: its rxkad.h defines the RXKAD codes with an L suffix. */
#include <afs/param.h>
#include <afs/stds.h>
#include <rx/rx.h>
#include <rx/rxkad.h>
#include <rx/fcrypt.h>
#include <rx/rxkad_prototypes.h>

#undef RXKADINCONSISTENCY
#undef RXKADPACKETSHORT
#undef RXKADLEVELFAIL
#undef RXKADTICKETLEN
#undef RXKADOUTOFSEQUENCE
#undef RXKADNOAUTH
#undef RXKADBADKEY
#undef RXKADBADTICKET
#undef RXKADUNKNOWNKEY
#undef RXKADEXPIRED
#undef RXKADSEALEDINCON
#undef RXKADDATALEN
#undef RXKADILLEGALLEVEL

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "security/fcrypt.h"
#include "security/rxkad.h"

static unsigned int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			if (failures++ < 20) {                            \
				fprintf(stderr, "FAIL %s:%d: ", __func__, \
					__LINE__);                        \
				fprintf(stderr, __VA_ARGS__);             \
				fputc('\n', stderr);                      \
			}                                                 \
		}                                                         \
	} while (0)

static void rnd(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(random() >> 7);
}

static void test_schedule_ecb(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		struct ktc_encryptionKey k;
		fc_KeySchedule theirs;
		struct rxs_fcrypt_sched ours;
		uint8_t in[8], a[8], b[8];

		rnd(k.data, 8);
		rnd(in, 8);
		fc_keysched(&k, theirs);
		rxs_fcrypt_setkey(&ours, (uint8_t *)k.data);
		CHECK(memcmp(theirs, ours.k, sizeof(ours.k)) == 0,
		      "schedule differs");
		fc_ecb_encrypt(in, a, theirs, ENCRYPT);
		rxs_fcrypt_ecb_encrypt(&ours, in, b);
		CHECK(memcmp(a, b, 8) == 0, "ecb encrypt differs");
		fc_ecb_encrypt(in, a, theirs, DECRYPT);
		rxs_fcrypt_ecb_decrypt(&ours, in, b);
		CHECK(memcmp(a, b, 8) == 0, "ecb decrypt differs");
	}
}

static void test_pcbc(int rounds)
{
	static uint8_t in[8192], a[8192], b[8192];

	for (int i = 0; i < rounds; i++) {
		struct ktc_encryptionKey k;
		fc_KeySchedule theirs;
		struct rxs_fcrypt_sched ours;
		afs_uint32 xor [2];
		uint8_t iv[8];
		size_t n = (size_t)(random() % 1024) * 8;
		size_t cut = (size_t)(random() % (n / 8 + 1)) * 8;

		rnd(k.data, 8);
		rnd(in, n);
		rnd(iv, 8);
		fc_keysched(&k, theirs);
		rxs_fcrypt_setkey(&ours, (uint8_t *)k.data);
		for (int enc = 0; enc <= 1; enc++) {
			memcpy(xor, iv, 8);
			fc_cbc_encrypt(in, a, (afs_int32)n, theirs, xor,
				       enc ? ENCRYPT : DECRYPT);
			{
				uint8_t v[8];

				memcpy(v, iv, 8);
				/* in two segments: the IV is carried */
				if (enc) {
					rxs_fcrypt_pcbc_encrypt(&ours, v, in, b,
								cut);
					rxs_fcrypt_pcbc_encrypt(
						&ours, v, in + cut, b + cut,
						n - cut);
				} else {
					rxs_fcrypt_pcbc_decrypt(&ours, v, in, b,
								cut);
					rxs_fcrypt_pcbc_decrypt(
						&ours, v, in + cut, b + cut,
						n - cut);
				}
				CHECK(memcmp(a, b, n) == 0,
				      "pcbc %s differs (n=%zu)",
				      enc ? "encrypt" : "decrypt", n);
				CHECK(memcmp(xor, v, 8) == 0,
				      "pcbc %s iv differs",
				      enc ? "encrypt" : "decrypt");
			}
		}
	}
}

/* DES keys need odd parity (hcrypto's DES_key_sched checks it). */
static void odd_parity(char *k)
{
	for (int i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)k[i] & 0xfe;

		k[i] = (char)(b | !(__builtin_popcount(b) & 1));
	}
}

static void rnd_str(char *s, size_t min, size_t max)
{
	size_t n = min + (size_t)random() % (max - min + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + random() % 26);
	s[n] = '\0';
}

static void test_tickets(int rounds)
{
	uint32_t now = (uint32_t)time(NULL);

	for (int i = 0; i < rounds; i++) {
		struct ktc_encryptionKey skey, sess, sess2;
		struct rxs_ticket t, d;
		char name[64], inst[64], cell[64];
		char tkt_theirs[MAXKTCTICKETLEN];
		uint8_t tkt_ours[RXS_RXKAD_TICKET_MAX];
		int len_theirs = 0;
		size_t len_ours = 0;
		afs_int32 host;
		afs_uint32 start, end;
		int32_t ab = 0;
		int code;

		memset(&t, 0, sizeof(t));
		rnd(skey.data, 8);
		if (i % 50 == 0) {
			/* bad parity: both refuse (one weak-key case too) */
			uint8_t junk[64];
			size_t jl;

			odd_parity(skey.data);
			skey.data[i % 8] ^= 1;
			if (i == 0)
				memset(skey.data, 0x01, 8);
			CHECK(rxs_ticket_make(&t, (uint8_t *)skey.data, junk,
					      sizeof(junk), &jl) == -EINVAL,
			      "bad key accepted by rxs_ticket_make");
			continue;
		}
		odd_parity(skey.data);
		rnd(t.session_key, 8);
		rnd_str(t.name, 1, 63);
		rnd_str(t.inst, 0, 63);
		rnd_str(t.cell, 0, 63);
		rnd_str(t.sname, 1, 63);
		rnd_str(t.sinst, 0, 63);
		t.host = (uint32_t)random();
		t.start = now - (uint32_t)(random() % 600);
		t.end = t.start + 300 + (uint32_t)(random() % (29 * 86400));
		memcpy(sess.data, t.session_key, 8);
		/* tkt_MakeTicket leaves the padding as it finds it */
		memset(tkt_theirs, 0, sizeof(tkt_theirs));
		code = tkt_MakeTicket(tkt_theirs, &len_theirs, &skey, t.name,
				      t.inst, t.cell, t.start, t.end, &sess,
				      t.host, t.sname, t.sinst);
		CHECK(code == 0, "tkt_MakeTicket: %d", code);
		CHECK(rxs_ticket_make(&t, (uint8_t *)skey.data, tkt_ours,
				      sizeof(tkt_ours), &len_ours) == 0,
		      "rxs_ticket_make");
		CHECK((size_t)len_theirs == len_ours &&
			      memcmp(tkt_theirs, tkt_ours, len_ours) == 0,
		      "tickets differ (%d vs %zu bytes)", len_theirs, len_ours);
		/* theirs decodes ours */
		code = tkt_DecodeTicket((char *)tkt_ours, (afs_int32)len_ours,
					&skey, name, inst, cell, &sess2, &host,
					&start, &end);
		CHECK(code == 0, "tkt_DecodeTicket(ours): %d", code);
		CHECK(!strcmp(name, t.name) && !strcmp(inst, t.inst) &&
			      !strcmp(cell, t.cell) &&
			      !memcmp(sess2.data, t.session_key, 8) &&
			      start == t.start && (uint32_t)host == t.host,
		      "tkt_DecodeTicket(ours) fields");
		/* ours decodes theirs */
		CHECK(rxs_ticket_decode((uint8_t *)tkt_theirs,
					(size_t)len_theirs,
					(uint8_t *)skey.data, &d, &ab) == 0,
		      "rxs_ticket_decode(theirs): %d", ab);
		CHECK(!strcmp(d.name, t.name) && !strcmp(d.sinst, t.sinst) &&
			      d.end == end && d.start == start,
		      "rxs_ticket_decode(theirs) fields");
	}
}

static void test_times(int rounds)
{
	uint32_t now = (uint32_t)time(NULL);

	for (unsigned int l = 0; l < 256; l++)
		CHECK(life_to_time(now, (unsigned char)l) ==
			      rxs_life_to_time(now, (uint8_t)l),
		      "life_to_time(%u)", l);
	for (int i = 0; i < rounds; i++) {
		uint32_t s =
			now - 40 * 86400 + (uint32_t)(random() % (80 * 86400));
		uint32_t e = s + (uint32_t)(random() % (32 * 86400)) - 3600;
		uint32_t n =
			now - 40 * 86400 + (uint32_t)(random() % (80 * 86400));

		if (random() % 16 == 0)
			s = 0;
		if (random() % 16 == 0)
			e = 0xffffffff;
		CHECK(time_to_life(s, e) == rxs_time_to_life(s, e),
		      "time_to_life(%u, %u)", s, e);
		CHECK(tkt_CheckTimes(s, e, n) ==
			      rxs_ticket_check_times(s, e, n),
		      "tkt_CheckTimes(%u, %u, %u)", s, e, n);
	}
}

static double mbps(int ours)
{
	static uint8_t buf[65536];
	struct ktc_encryptionKey k = { { 1, 2, 4, 8, 16, 32, 64, -128 } };
	fc_KeySchedule theirs;
	struct rxs_fcrypt_sched s;
	struct timespec a, b;
	int rounds = 64;

	fc_keysched(&k, theirs);
	rxs_fcrypt_setkey(&s, (uint8_t *)k.data);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < rounds; i++) {
		uint8_t iv[8] = { 0 };
		afs_uint32 xor [2] = { 0, 0 };

		if (ours)
			rxs_fcrypt_pcbc_encrypt(&s, iv, buf, buf, sizeof(buf));
		else
			fc_cbc_encrypt(buf, buf, sizeof(buf), theirs, xor,
				       ENCRYPT);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return rounds * sizeof(buf) /
	       ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9) /
	       1e6;
}

int main(int argc, char **argv)
{
	long seed = argc > 1 ? atol(argv[1]) : (long)time(NULL);

	printf("seed %ld\n", seed);
	srandom((unsigned int)seed);
	test_schedule_ecb(20000);
	test_pcbc(300);
	test_tickets(2000);
	test_times(200000);
	printf("pcbc(fcrypt) MB/s: ours %.0f, OpenAFS %.0f\n", mbps(1),
	       mbps(0));
	if (failures) {
		printf("%u mismatches\n", failures);
		return 1;
	}
	printf("fcrypt, tickets and times agree with OpenAFS\n");
	return 0;
}
