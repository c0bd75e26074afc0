/* SPDX-License-Identifier: MIT */
/*
 * test_rxkad.c - rxkad without sockets: the XOR info, header checksum and
 * DATA protection against the OpenAFS capture of rx-protocol.md §S.3.5;
 * CHALLENGE/RESPONSE and tickets against the same capture and in round
 * trips; every refusal with its abort code; tampered, truncated and
 * oversized inputs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "security/rxkad.h"
#include "transport/wire.h"

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	while (h[0] && h[1]) {
		unsigned int b;

		if (h[0] == ' ') {
			h++;
			continue;
		}
		sscanf(h, "%2x", &b);
		out[n++] = (uint8_t)b;
		h += 2;
	}
	return n;
}

static const uint8_t K[8] = { 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80 };
static const uint8_t SKEY[8] = {
	0xa7, 0x83, 0x8a, 0xcb, 0xc7, 0x83, 0xec, 0x94
};
#define EPOCH  0x93064235u
#define CID    0xee0e94b8u
#define TSTART 0x6b0787c9u /* the captured ticket's start */

/* ---- §S.3.1 / §S.3.2 vectors ---- */

static void test_xor_info(void)
{
	struct rxs_rxkad_conn c;

	CU_ASSERT_EQUAL(
		rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER),
		0);
	CU_ASSERT_EQUAL(c.xor_l, 0x893f54ba);
	CU_ASSERT_EQUAL(c.xor_r, 0x27e5bdf2);
	CU_ASSERT_EQUAL(rxs_rxkad_init_client(&c, K, 2, 0x12345678, 0xabcdef02,
					      RXS_RXKAD_NEVER),
			0);
	CU_ASSERT_EQUAL(c.xor_l, 0x199e80b9);
	CU_ASSERT_EQUAL(c.xor_r, 0x42516763);
	CU_ASSERT_EQUAL(rxs_rxkad_init_client(&c, K, 3, EPOCH, CID, 0),
			-EINVAL);
	rxs_rxkad_conn_clear(&c);
	CU_ASSERT(!c.keyed && c.key[0] == 0 && c.sched.k[0] == 0);
}

static void test_header_cksum(void)
{
	struct rxs_rxkad_conn c;
	int32_t ab = 0;

	rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_cksum(&c, 1, 0, 1), 0xf5d1);
	CU_ASSERT_EQUAL(rxs_rxkad_check_cksum(&c, 1, 0, 1, 0xf5d1, &ab), 0);
	CU_ASSERT_EQUAL(rxs_rxkad_check_cksum(&c, 1, 0, 1, 0xf5d0, &ab),
			-EBADMSG);
	CU_ASSERT_EQUAL(ab, RXKADSEALEDINCON);
	rxs_rxkad_init_client(&c, K, 0, 0x12345678, 0xabcdef02,
			      RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_cksum(&c, 7, 2, 0x40000005), 0xe2ef);
	/* The top two seq bits are masked off. */
	CU_ASSERT_EQUAL(rxs_rxkad_cksum(&c, 7, 2, 0x00000005), 0xe2ef);
}

/* ---- §S.3.5 worked example ---- */

static const char *CAP_CLIENT_DATA =
	"93064235ee0e94b8000000010000000100000001010500 02f5d10093"
	"5ae61ce57dcb7858369f68399bde44b5e8aacad3b817a226"
	"c3955c2ff8fe7d312303cc3f3b6e871c";
static const char *CAP_USER =
	"00000003000000030008000000080000000000040000000400000000";

static void test_capture_crypt_client(void)
{
	struct rxs_rxkad_conn c;
	uint8_t pkt[128], user[28], out[128];
	size_t n = unhex(CAP_CLIENT_DATA, pkt), off, len, wire;
	int32_t ab = 0;

	CU_ASSERT_EQUAL(n, 28 + 40);
	CU_ASSERT_EQUAL(unhex(CAP_USER, user), 28);
	rxs_rxkad_init_server(&c, 1, EPOCH, CID);
	/* Unkeyed server conn: nothing can be checked yet. */
	CU_ASSERT_EQUAL(rxs_rxkad_verify_pkt(&c, pkt, n, true, &off, &len, &ab),
			-ENOKEY);
	rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER);

	/* unseal_copy leaves the packet alone and fills the user buffer */
	CU_ASSERT_EQUAL(rxs_rxkad_unseal_copy(&c, 1, 1, pkt + 28, 40, out,
					      sizeof(out), &len, &ab),
			0);
	CU_ASSERT_EQUAL(len, 28);
	CU_ASSERT(memcmp(out, user, 28) == 0);
	CU_ASSERT_EQUAL(rxs_rxkad_unseal_copy(&c, 1, 1, pkt + 28, 40, out, 27,
					      &len, &ab),
			-ENOBUFS);
	CU_ASSERT_EQUAL(len, 28);

	/* verify without decrypting: checksum and first block only */
	CU_ASSERT_EQUAL(
		rxs_rxkad_verify_pkt(&c, pkt, n, false, &off, &len, &ab), 0);
	CU_ASSERT_EQUAL(off, 36);
	CU_ASSERT_EQUAL(len, 28);
	/* then in place */
	CU_ASSERT_EQUAL(rxs_rxkad_verify_pkt(&c, pkt, n, true, &off, &len, &ab),
			0);
	CU_ASSERT_EQUAL(off, 36);
	CU_ASSERT_EQUAL(len, 28);
	CU_ASSERT(memcmp(pkt + off, user, 28) == 0);
	CU_ASSERT_EQUAL(rxs_get_be32(pkt + 28), 0x1c);
	CU_ASSERT_EQUAL(rxs_get_be32(pkt + 32), 0);

	/* Sealing the same bytes gives the captured packet exactly. */
	unhex(CAP_CLIENT_DATA, pkt);
	memcpy(out, pkt, 28);
	rxs_put_be16(out + 24, 0);
	memcpy(out + 36, user, 28);
	CU_ASSERT_EQUAL(rxs_rxkad_secure_pkt(&c, out, 28, sizeof(out), &wire),
			0);
	CU_ASSERT_EQUAL(wire, n);
	CU_ASSERT(memcmp(out, pkt, n) == 0);
	memset(out, 0xee, sizeof(out));
	CU_ASSERT_EQUAL(rxs_rxkad_seal_copy(&c, 1, 1, out, 40, user, 28, &wire),
			0);
	CU_ASSERT_EQUAL(wire, 40);
	CU_ASSERT(memcmp(out, pkt + 28, 40) == 0);
}

static void test_capture_crypt_server(void)
{
	struct rxs_rxkad_conn c;
	uint8_t p[16], want[8];
	size_t off, len;
	int32_t ab = 0;

	unhex("7fb8f4e8cb0e991066fce85441edc598", p);
	unhex("0000000000004711", want);
	rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_unseal(&c, 1, 1, p, 16, &off, &len, &ab), 0);
	CU_ASSERT_EQUAL(off, 8);
	CU_ASSERT_EQUAL(len, 8);
	CU_ASSERT(memcmp(p + 8, want, 8) == 0);
}

/* Auth level: only the first 8 bytes are encrypted; no padding at 1412. */
static void test_capture_auth(void)
{
	struct rxs_rxkad_conn c;
	static uint8_t p[1412];
	uint8_t ref[1412];
	size_t off, len;
	int32_t ab = 0;

	rxs_rxkad_init_client(&c, K, 1, 0x90eaa439, 0x2a198cf0,
			      RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_cksum(&c, 1, 0x2a198cf0 & 3, 2), 0x2a86);
	memset(p, 0x5a, sizeof(p));
	unhex("e55161fd18533d6c", p);
	memcpy(ref, p, sizeof(p));
	CU_ASSERT_EQUAL(rxs_rxkad_peek(&c, 1, 2, p, sizeof(p), &len, &ab), 0);
	CU_ASSERT_EQUAL(len, 1408);
	CU_ASSERT(memcmp(p, ref, sizeof(p)) == 0); /* peek changes nothing */
	CU_ASSERT_EQUAL(
		rxs_rxkad_unseal(&c, 1, 2, p, sizeof(p), &off, &len, &ab), 0);
	CU_ASSERT_EQUAL(off, 4);
	CU_ASSERT_EQUAL(rxs_get_be32(p), 0x00030580);
	CU_ASSERT_EQUAL(rxs_get_be32(p + 4), 0);
	CU_ASSERT(memcmp(p + 8, ref + 8, sizeof(p) - 8) == 0);
	/* A Linux-style padded payload (1416) is accepted too. */
	CU_ASSERT_EQUAL(rxs_rxkad_wire_len(1, 1408), 1412);
	CU_ASSERT_EQUAL(rxs_rxkad_max_data(1, 1412), 1408);
	CU_ASSERT_EQUAL(rxs_rxkad_max_data(2, 1412), 1400);
	CU_ASSERT_EQUAL(rxs_rxkad_max_data(2, 1408), 1400);
	CU_ASSERT_EQUAL(rxs_rxkad_max_data(0, 1412), 1412);
	CU_ASSERT_EQUAL(rxs_rxkad_max_data(1, 7), 0);
	CU_ASSERT_EQUAL(rxs_rxkad_wire_len(1, 0), 8);
	CU_ASSERT_EQUAL(rxs_rxkad_wire_len(2, 0), 8);
	CU_ASSERT_EQUAL(rxs_rxkad_wire_len(2, 1), 16);
}

static const char *CAP_RESPONSE =
	"00000002 00000000"
	"aa1e90b16f4e0035ca4ac0f4e20243774c687fd43a13b5b3e49e0532385a7fbf"
	"968f9a6908643aaa"
	"00000001 00000020"
	"40831944f5aa9053124ddfd6c3748436042b8861b1e2c81c677ab1c330f31e98";

static int get_skey(void *rock, uint32_t kvno, uint8_t key[8])
{
	(void)rock;
	if (kvno != 1)
		return -ENOKEY;
	memcpy(key, SKEY, 8);
	return 0;
}

static struct rxs_rxkad_verify_params vparams(uint32_t now)
{
	struct rxs_rxkad_verify_params p = { .get_key = get_skey, .now = now };

	return p;
}

/* A server conn that has sent the captured challenge. */
static void server_challenged(struct rxs_rxkad_conn *c)
{
	rxs_rxkad_init_server(c, 1, EPOCH, CID);
	c->challenged = true;
	c->nonce = 0xf5696133;
}

static void test_capture_challenge(void)
{
	struct rxs_rxkad_challenge ch;
	uint8_t b[16];
	int32_t ab = 0;

	unhex("00000002f569613300000001 00000000", b);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_parse(b, 16, &ch, &ab), 0);
	CU_ASSERT_EQUAL(ch.version, 2);
	CU_ASSERT_EQUAL(ch.nonce, 0xf5696133);
	CU_ASSERT_EQUAL(ch.min_level, 1);
}

static void test_capture_response_verify(void)
{
	struct rxs_rxkad_conn c;
	struct rxs_rxkad_verify_params p = vparams(TSTART + 100);
	uint8_t b[128];
	uint32_t calls[4];
	size_t n = unhex(CAP_RESPONSE, b);
	int32_t ab = -1;

	CU_ASSERT_EQUAL(n, 56 + 32);
	server_challenged(&c);
	CU_ASSERT_EQUAL(rxs_rxkad_response_verify(&c, b, n, &p, calls, &ab), 0);
	CU_ASSERT_EQUAL(ab, 0);
	CU_ASSERT(c.keyed);
	CU_ASSERT_EQUAL(c.level, 2);
	CU_ASSERT(memcmp(c.key, K, 8) == 0);
	CU_ASSERT_EQUAL(c.xor_l, 0x893f54ba);
	CU_ASSERT_EQUAL(c.expires, TSTART + 29100);
	CU_ASSERT_STRING_EQUAL(c.ident.name, "rxperf");
	CU_ASSERT_STRING_EQUAL(c.ident.inst, "");
	CU_ASSERT_STRING_EQUAL(c.ident.cell, "");
	CU_ASSERT_EQUAL(c.ident.kvno, 1);
	CU_ASSERT_EQUAL(calls[0], 1);
	CU_ASSERT_EQUAL(calls[1] | calls[2] | calls[3], 0);
	CU_ASSERT_EQUAL(rxs_rxkad_cksum(&c, 1, 0, 1), 0xf5d1);
	/* A second RESPONSE is a retransmission: ignored. */
	CU_ASSERT_EQUAL(rxs_rxkad_response_verify(&c, b, n, &p, calls, &ab),
			-EALREADY);
	CU_ASSERT_EQUAL(ab, 0);
	/* The checksum field of the captured response. */
	{
		uint8_t blk[56];

		memcpy(blk, b, 56);
		unhex("93064235ee0e94b8 00000000 00000002 00000001 00000000"
		      "00000000 00000000 f5696134 00000002",
		      blk + 8);
		CU_ASSERT_EQUAL(rxs_rxkad_response_cksum(blk, 56), 0x96aa8336);
	}
}

/* The client side rebuilds the captured RESPONSE byte for byte. */
static void test_capture_response_build(void)
{
	struct rxs_rxkad_conn c;
	struct rxs_rxkad_challenge ch = { 2, 0xf5696133, 1 };
	struct rxs_rxkad_token tok = { .kvno = 1 };
	const uint32_t calls[4] = { 1, 0, 0, 0 };
	uint8_t want[128], tkt[32], out[128];
	size_t n = unhex(CAP_RESPONSE, want), len;
	int32_t ab = 0;

	memcpy(tkt, want + 56, 32);
	tok.ticket = tkt;
	tok.ticket_len = 32;
	rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_response_build(&c, &ch, calls, &tok, out,
						 sizeof(out), &len, &ab),
			0);
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT(memcmp(out, want, n) == 0);
	CU_ASSERT_EQUAL(rxs_rxkad_response_build(&c, &ch, calls, &tok, out,
						 n - 1, &len, &ab),
			-EMSGSIZE);
	CU_ASSERT_EQUAL(ab, RXKADPACKETSHORT);
}

static void test_capture_ticket(void)
{
	struct rxs_ticket t;
	uint8_t b[128], out[64];
	size_t len;
	int32_t ab = 0;

	unhex(CAP_RESPONSE, b);
	CU_ASSERT_EQUAL(rxs_ticket_decode(b + 56, 32, SKEY, &t, &ab), 0);
	CU_ASSERT_STRING_EQUAL(t.name, "rxperf");
	CU_ASSERT_STRING_EQUAL(t.sname, "afs");
	CU_ASSERT(memcmp(t.session_key, K, 8) == 0);
	CU_ASSERT_EQUAL(t.start, TSTART);
	CU_ASSERT_EQUAL(t.end, TSTART + 97 * 300);
	CU_ASSERT_EQUAL(t.host, 0);
	/* Minting the same fields gives the same ticket (life 0x61). */
	t.end = TSTART + 8 * 3600 + 300; /* 8 h 05 min -> 97 */
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, sizeof(out), &len), 0);
	CU_ASSERT_EQUAL(len, 32);
	CU_ASSERT(memcmp(out, b + 56, 32) == 0);
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, 31, &len), -EMSGSIZE);
	/* wrong server key: garbage, refused */
	{
		uint8_t bad[8];

		memcpy(bad, SKEY, 8);
		bad[0] ^= 0x30; /* parity kept */
		CU_ASSERT_EQUAL(rxs_ticket_decode(b + 56, 32, bad, &t, &ab),
				-EBADMSG);
		CU_ASSERT_EQUAL(ab, RXKADBADTICKET);
		/* parity broken: refused as OpenAFS's DES_key_sched does */
		bad[0] ^= 0x01;
		CU_ASSERT_EQUAL(rxs_ticket_decode(b + 56, 32, bad, &t, &ab),
				-EIO);
		CU_ASSERT_EQUAL(ab, RXKADBADKEY);
		CU_ASSERT_EQUAL(
			rxs_ticket_make(&t, bad, out, sizeof(out), &len),
			-EINVAL);
		memset(bad, 0x01, 8); /* weak key */
		CU_ASSERT_EQUAL(rxs_ticket_decode(b + 56, 32, bad, &t, &ab),
				-EIO);
	}
}

/* ---- round trips ---- */

struct pair {
	struct rxs_rxkad_conn cl;
	struct rxs_rxkad_conn sv;
	uint8_t tkt[RXS_RXKAD_TICKET_MAX];
	struct rxs_rxkad_token tok;
	uint8_t resp[RXS_RXKAD_RESPONSE_HDR + RXS_RXKAD_TICKET_MAX];
	size_t resp_len;
};

static const uint8_t SESSION[8] = { 0x3e, 0x91, 0x07, 0xc4,
				    0x5b, 0xd6, 0x29, 0x8a };
#define NOW 1700000000u

static void mint(struct pair *p, uint32_t start, uint32_t end, uint32_t kvno)
{
	struct rxs_ticket t = { .start = start, .end = end };
	size_t len = 0;

	strcpy(t.name, "alice");
	strcpy(t.cell, "example.org");
	strcpy(t.sname, "afs");
	memcpy(t.session_key, SESSION, 8);
	CU_ASSERT_FATAL(
		rxs_ticket_make(&t, SKEY, p->tkt, sizeof(p->tkt), &len) == 0);
	memset(&p->tok, 0, sizeof(p->tok));
	memcpy(p->tok.session_key, SESSION, 8);
	p->tok.kvno = kvno;
	p->tok.start = start;
	p->tok.expiry = end;
	p->tok.ticket = p->tkt;
	p->tok.ticket_len = len;
}

/*
 * Client at @level, server at @min: challenge, response.  Returns what
 * the server's verify returned; *ab its abort code.
 */
static int handshake(struct pair *p, unsigned int level, unsigned int min,
		     uint32_t now, int32_t *ab)
{
	struct rxs_rxkad_verify_params vp = vparams(now);
	struct rxs_rxkad_challenge ch;
	uint8_t chb[32];
	size_t chn;
	uint32_t calls[4] = { 3, 0, 7, 0 };
	uint32_t got[4];
	int ret;

	rxs_rxkad_init_client(&p->cl, p->tok.session_key, level, EPOCH, CID,
			      p->tok.expiry);
	rxs_rxkad_init_server(&p->sv, min, EPOCH, CID | 2);
	CU_ASSERT_FATAL(
		rxs_rxkad_challenge_issue(&p->sv, chb, sizeof(chb), &chn) == 0);
	CU_ASSERT_EQUAL(chn, 16);
	CU_ASSERT_FATAL(rxs_rxkad_challenge_parse(chb, chn, &ch, ab) == 0);
	ret = rxs_rxkad_response_build(&p->cl, &ch, calls, &p->tok, p->resp,
				       sizeof(p->resp), &p->resp_len, ab);
	if (ret < 0)
		return ret;
	ret = rxs_rxkad_response_verify(&p->sv, p->resp, p->resp_len, &vp, got,
					ab);
	if (ret == 0)
		CU_ASSERT(memcmp(got, calls, sizeof(calls)) == 0);
	return ret;
}

static void test_handshake_levels(void)
{
	static struct pair p;
	int32_t ab;

	mint(&p, NOW - 60, NOW + 3600, 1);
	for (unsigned int min = 0; min <= 2; min++) {
		for (unsigned int lvl = min; lvl <= 2; lvl++) {
			ab = -1;
			CU_ASSERT_EQUAL(handshake(&p, lvl, min, NOW, &ab), 0);
			CU_ASSERT_EQUAL(ab, 0);
			CU_ASSERT_EQUAL(p.sv.level, lvl);
			CU_ASSERT(memcmp(p.sv.key, SESSION, 8) == 0);
			CU_ASSERT_EQUAL(p.sv.xor_l, p.cl.xor_l);
			CU_ASSERT_EQUAL(p.sv.xor_r, p.cl.xor_r);
			CU_ASSERT_STRING_EQUAL(p.sv.ident.name, "alice");
			CU_ASSERT_STRING_EQUAL(p.sv.ident.cell, "example.org");
			/* the life byte rounds 3660 s up to 13 x 5 min */
			CU_ASSERT_EQUAL(p.sv.expires, NOW - 60 + 13 * 300);
		}
	}
}

/* The nonce is drawn once per series and reused for resends. */
static void test_challenge_resend(void)
{
	struct rxs_rxkad_conn c;
	uint8_t a[16], b[16];
	size_t n;

	rxs_rxkad_init_server(&c, 2, EPOCH, CID);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_issue(&c, a, sizeof(a), &n), 0);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_issue(&c, b, sizeof(b), &n), 0);
	CU_ASSERT(memcmp(a, b, 16) == 0);
	CU_ASSERT_EQUAL(rxs_get_be32(a), 2);
	CU_ASSERT_EQUAL(rxs_get_be32(a + 8), 2);
	CU_ASSERT_EQUAL(rxs_get_be32(a + 12), 0);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_issue(&c, a, 15, &n), -EMSGSIZE);
	rxs_rxkad_init_client(&c, K, 2, EPOCH, CID, RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_issue(&c, a, sizeof(a), &n),
			-EINVAL);
}

static void test_challenge_parse_lengths(void)
{
	struct rxs_rxkad_challenge ch;
	uint8_t b[20];
	int32_t ab;

	memset(b, 0, sizeof(b));
	rxs_put_be32(b, 2);
	for (size_t n = 0; n <= sizeof(b); n++) {
		int ret;

		ab = 0;
		ret = rxs_rxkad_challenge_parse(b, n, &ch, &ab);
		if (n == 8) {
			CU_ASSERT_EQUAL(ret, 0); /* old form */
			CU_ASSERT_EQUAL(ch.version, 0);
			CU_ASSERT_EQUAL(ch.nonce, 2);
		} else if (n >= 16) {
			CU_ASSERT_EQUAL(ret, 0);
			CU_ASSERT_EQUAL(ch.version, 2);
		} else {
			CU_ASSERT_EQUAL(ret, -EBADMSG);
			CU_ASSERT_EQUAL(ab, RXKADPACKETSHORT);
		}
	}
	rxs_put_be32(b, 3);
	CU_ASSERT_EQUAL(rxs_rxkad_challenge_parse(b, 16, &ch, &ab), -EBADMSG);
	CU_ASSERT_EQUAL(ab, RXKADINCONSISTENCY);
}

/* An old (8-byte) challenge gets the old response: ECB, no checksum. */
static void test_old_response(void)
{
	static struct pair p;
	struct rxs_rxkad_challenge ch = { 0, 0x11223344, 1 };
	const uint32_t calls[4] = { 0 };
	struct rxs_fcrypt_sched s;
	uint8_t out[512], blk[8];
	size_t len;
	int32_t ab;

	mint(&p, NOW, NOW + 3600, 4);
	rxs_rxkad_init_client(&p.cl, SESSION, 2, EPOCH, CID, NOW + 3600);
	CU_ASSERT_EQUAL(rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, out,
						 sizeof(out), &len, &ab),
			0);
	CU_ASSERT_EQUAL(len, 16 + p.tok.ticket_len);
	rxs_fcrypt_setkey(&s, SESSION);
	rxs_fcrypt_ecb_decrypt(&s, out, blk);
	CU_ASSERT_EQUAL(rxs_get_be32(blk), 0x11223345);
	CU_ASSERT_EQUAL(rxs_get_be32(blk + 4), 2);
	CU_ASSERT_EQUAL(rxs_get_be32(out + 8), 4);
	CU_ASSERT_EQUAL(rxs_get_be32(out + 12), p.tok.ticket_len);
}

/* ---- refusals, each with its code ---- */

/* @ab by address: it must be read after the call that fills it. */
static void expect(int ret, int err, const int32_t *abp, int32_t code)
{
	int32_t ab = *abp;

	CU_ASSERT_EQUAL(ret, err);
	CU_ASSERT_EQUAL(ab, code);
	if (ret != err || ab != code)
		printf("\n    got %d/%d (%s), want %d/%d (%s) ", ret, ab,
		       rxsvc_rxkad_abort_name(ab), err, code,
		       rxsvc_rxkad_abort_name(code));
}

static void test_refuse_level(void)
{
	static struct pair p;
	int32_t ab = 0;
	struct rxs_rxkad_verify_params vp = vparams(NOW);
	struct rxs_rxkad_challenge forged = { 2, 0, 0 };
	uint32_t calls[4] = { 0 };
	uint32_t got[4];

	mint(&p, NOW, NOW + 3600, 1);
	/* client: challenge min_level above its own */
	expect(handshake(&p, 0, 1, NOW, &ab), -EACCES, &ab, RXKADLEVELFAIL);
	expect(handshake(&p, 1, 2, NOW, &ab), -EACCES, &ab, RXKADLEVELFAIL);
	/* server: a client that claims min 0 and answers at clear */
	rxs_rxkad_init_server(&p.sv, 2, EPOCH, CID);
	rxs_rxkad_challenge_issue(&p.sv, p.resp, 16, &p.resp_len);
	forged.nonce = p.sv.nonce;
	rxs_rxkad_init_client(&p.cl, SESSION, 0, EPOCH, CID, NOW + 3600);
	CU_ASSERT_EQUAL(rxs_rxkad_response_build(&p.cl, &forged, calls, &p.tok,
						 p.resp, sizeof(p.resp),
						 &p.resp_len, &ab),
			0);
	ab = 0;
	expect(rxs_rxkad_response_verify(&p.sv, p.resp, p.resp_len, &vp, got,
					 &ab),
	       -EACCES, &ab, RXKADLEVELFAIL);
	CU_ASSERT(!p.sv.keyed);
}

static void test_refuse_ticket_times(void)
{
	static struct pair p;
	int32_t ab = 0;

	/* expired: end + 900 s skew passed, within 31 days of start */
	mint(&p, NOW - 7200, NOW - 3600, 1);
	expect(handshake(&p, 2, 0, NOW, &ab), -EKEYEXPIRED, &ab, RXKADEXPIRED);
	/* expired long ago: inconsistent */
	mint(&p, NOW - 40 * 86400, NOW - 39 * 86400, 1);
	expect(handshake(&p, 2, 0, NOW, &ab), -EBADMSG, &ab, RXKADBADTICKET);
	/* not yet valid: start beyond the skew */
	mint(&p, NOW + 3600, NOW + 7200, 1);
	expect(handshake(&p, 2, 0, NOW, &ab), -EACCES, &ab, RXKADNOAUTH);
	/* within the skew: fine */
	mint(&p, NOW + 600, NOW + 7200, 1);
	expect(handshake(&p, 2, 0, NOW, &ab), 0, &ab, 0);
	/* client side expiry of a keyed connection */
	CU_ASSERT_EQUAL(rxs_rxkad_check_expiry(&p.sv, NOW, &ab), 0);
	expect(rxs_rxkad_check_expiry(&p.sv, p.sv.expires, &ab), -EKEYEXPIRED,
	       &ab, RXKADEXPIRED);
}

static void test_refuse_keys(void)
{
	static struct pair p;
	int32_t ab = 0;

	mint(&p, NOW, NOW + 3600, 2); /* no server key for kvno 2 */
	expect(handshake(&p, 2, 0, NOW, &ab), -ENOKEY, &ab, RXKADUNKNOWNKEY);
	mint(&p, NOW, NOW + 3600, 256); /* Kerberos 5: not taken */
	expect(handshake(&p, 2, 0, NOW, &ab), -ENOKEY, &ab, RXKADUNKNOWNKEY);
	/* a ticket sealed with another key under kvno 1 */
	mint(&p, NOW, NOW + 3600, 1);
	p.tkt[5] ^= 0x40;
	expect(handshake(&p, 2, 0, NOW, &ab), -EBADMSG, &ab, RXKADBADTICKET);
}

/* Build a good response, then let @mut spoil it before the server sees it. */
static int spoiled(struct pair *p, void (*mut)(struct pair *),
		   uint32_t *chan_calls, int32_t *ab)
{
	struct rxs_rxkad_verify_params vp = vparams(NOW);
	struct rxs_rxkad_challenge ch;
	uint8_t chb[16];
	size_t chn;
	uint32_t calls[4] = { 5, 6, 7, 8 };
	uint32_t got[4];

	vp.chan_calls = chan_calls;
	mint(p, NOW, NOW + 3600, 1);
	rxs_rxkad_init_client(&p->cl, SESSION, 2, EPOCH, CID, NOW + 3600);
	rxs_rxkad_init_server(&p->sv, 0, EPOCH, CID);
	rxs_rxkad_challenge_issue(&p->sv, chb, sizeof(chb), &chn);
	rxs_rxkad_challenge_parse(chb, chn, &ch, ab);
	CU_ASSERT_FATAL(rxs_rxkad_response_build(&p->cl, &ch, calls, &p->tok,
						 p->resp, sizeof(p->resp),
						 &p->resp_len, ab) == 0);
	if (mut)
		mut(p);
	*ab = 0;
	return rxs_rxkad_response_verify(&p->sv, p->resp, p->resp_len, &vp, got,
					 ab);
}

static void mut_nonce(struct pair *p)
{
	p->sv.nonce++; /* as if the response answered another challenge */
}
static void mut_flip_block(struct pair *p)
{
	p->resp[20] ^= 0x01;
}
static void mut_epoch(struct pair *p)
{
	p->sv.epoch ^= 1;
}
static void mut_short(struct pair *p)
{
	p->resp_len = 55;
}
static void mut_short_ticket(struct pair *p)
{
	p->resp_len -= 1;
}
static void mut_version(struct pair *p)
{
	rxs_put_be32(p->resp, 3);
}
static void mut_tlen_small(struct pair *p)
{
	rxs_put_be32(p->resp + 52, 16);
}
static void mut_tlen_huge(struct pair *p)
{
	rxs_put_be32(p->resp + 52, 0xfffffff0);
}
static void mut_tlen_odd(struct pair *p)
{
	/* one byte less than sent, still inside the payload: not 0 mod 8 */
	rxs_put_be32(p->resp + 52, rxs_get_be32(p->resp + 52) - 1);
}
static void mut_no_challenge(struct pair *p)
{
	p->sv.challenged = false;
}

static void test_refuse_response(void)
{
	static struct pair p;
	uint32_t high[4] = { 6, 0, 0, 0 };
	uint32_t low[4] = { 5, 6, 7, 8 };
	int32_t ab;

	expect(spoiled(&p, NULL, NULL, &ab), 0, &ab, 0);
	expect(spoiled(&p, mut_nonce, NULL, &ab), -EACCES, &ab,
	       RXKADOUTOFSEQUENCE);
	expect(spoiled(&p, mut_flip_block, NULL, &ab), -EBADMSG, &ab,
	       RXKADSEALEDINCON);
	expect(spoiled(&p, mut_epoch, NULL, &ab), -EBADMSG, &ab,
	       RXKADSEALEDINCON);
	expect(spoiled(&p, mut_short, NULL, &ab), -EBADMSG, &ab,
	       RXKADPACKETSHORT);
	expect(spoiled(&p, mut_short_ticket, NULL, &ab), -EBADMSG, &ab,
	       RXKADPACKETSHORT);
	expect(spoiled(&p, mut_version, NULL, &ab), -EBADMSG, &ab,
	       RXKADINCONSISTENCY);
	expect(spoiled(&p, mut_tlen_small, NULL, &ab), -EBADMSG, &ab,
	       RXKADTICKETLEN);
	expect(spoiled(&p, mut_tlen_huge, NULL, &ab), -EBADMSG, &ab,
	       RXKADPACKETSHORT);
	expect(spoiled(&p, mut_tlen_odd, NULL, &ab), -EBADMSG, &ab,
	       RXKADBADTICKET);
	expect(spoiled(&p, mut_no_challenge, NULL, &ab), -EPROTO, &ab, 0);
	/* Linux's call-number rule: not below the server's counters */
	expect(spoiled(&p, NULL, high, &ab), -EBADMSG, &ab, RXKADSEALEDINCON);
	expect(spoiled(&p, NULL, low, &ab), 0, &ab, 0);
	/* every truncation of a good response is refused */
	spoiled(&p, mut_nonce, NULL, &ab);
	for (size_t n = 0; n < p.resp_len; n++) {
		struct rxs_rxkad_verify_params vp = vparams(NOW);
		uint32_t got[4];

		p.sv.keyed = false;
		ab = 0;
		CU_ASSERT(rxs_rxkad_response_verify(&p.sv, p.resp, n, &vp, got,
						    &ab) < 0);
		CU_ASSERT(ab != 0);
	}
}

static int refuse_all(void *rock, const struct rxs_rxkad_ident *id)
{
	(void)rock;
	return strcmp(id->name, "alice") ? 0 : -EACCES;
}

static void test_refuse_user_ok(void)
{
	static struct pair p;
	struct rxs_rxkad_verify_params vp = vparams(NOW);
	struct rxs_rxkad_challenge ch;
	uint8_t chb[16];
	size_t n;
	const uint32_t calls[4] = { 0 };
	uint32_t got[4];
	int32_t ab = 0;

	vp.user_ok = refuse_all;
	mint(&p, NOW, NOW + 3600, 1);
	rxs_rxkad_init_client(&p.cl, SESSION, 1, EPOCH, CID, NOW + 3600);
	rxs_rxkad_init_server(&p.sv, 0, EPOCH, CID);
	rxs_rxkad_challenge_issue(&p.sv, chb, sizeof(chb), &n);
	rxs_rxkad_challenge_parse(chb, n, &ch, &ab);
	rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, p.resp,
				 sizeof(p.resp), &p.resp_len, &ab);
	expect(rxs_rxkad_response_verify(&p.sv, p.resp, p.resp_len, &vp, got,
					 &ab),
	       -EACCES, &ab, RXKADNOAUTH);
	CU_ASSERT(!p.sv.keyed);
}

static void test_refuse_build(void)
{
	static struct pair p;
	struct rxs_rxkad_challenge ch = { 2, 1, 0 };
	uint32_t calls[4] = { 0, 0x80000000u, 0, 0 };
	uint8_t out[64];
	size_t len;
	int32_t ab = 0;

	mint(&p, NOW, NOW + 3600, 1);
	rxs_rxkad_init_client(&p.cl, SESSION, 2, EPOCH, CID, NOW + 3600);
	expect(rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, p.resp,
					sizeof(p.resp), &len, &ab),
	       -EINVAL, &ab, RXKADINCONSISTENCY);
	calls[1] = 0;
	p.tok.ticket_len = 0;
	expect(rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, p.resp,
					sizeof(p.resp), &len, &ab),
	       -EINVAL, &ab, RXKADTICKETLEN);
	p.tok.ticket_len = RXS_RXKAD_TICKET_MAX + 1;
	expect(rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, p.resp,
					sizeof(p.resp), &len, &ab),
	       -EINVAL, &ab, RXKADTICKETLEN);
	p.tok.ticket_len = 40;
	expect(rxs_rxkad_response_build(&p.cl, &ch, calls, &p.tok, out,
					sizeof(out), &len, &ab),
	       -EMSGSIZE, &ab, RXKADPACKETSHORT);
}

/* ---- DATA: round trips, tampering, truncation ---- */

static void test_seal_roundtrip(void)
{
	static uint8_t data[3000], buf[3100], out[3000];
	struct rxs_rxkad_conn c;
	size_t sizes[] = { 0,  1,  3,  4,    5,	   7,	 8,    9,
			   15, 16, 17, 1400, 1404, 1408, 1412, 2999 };

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	for (unsigned int lvl = 0; lvl <= 2; lvl++) {
		rxs_rxkad_init_client(&c, SESSION, lvl, EPOCH, CID,
				      RXS_RXKAD_NEVER);
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			size_t L = sizes[k], hdr = rxs_rxkad_hdr_len(lvl);
			size_t wire, off, len, len2;
			int32_t ab = 0;

			memset(buf, 0xcc, sizeof(buf));
			memcpy(buf + hdr, data, L);
			CU_ASSERT_EQUAL(rxs_rxkad_seal(&c, 9, 1000 + k, buf, L,
						       sizeof(buf), &wire),
					0);
			CU_ASSERT_EQUAL(wire, rxs_rxkad_wire_len(lvl, L));
			CU_ASSERT(rxs_rxkad_max_data(lvl, wire) >= L);
			if (lvl == 2 && L >= 8)
				CU_ASSERT(memcmp(buf + 8, data, 8) != 0);
			CU_ASSERT_EQUAL(rxs_rxkad_unseal_copy(
						&c, 9, 1000 + k, buf, wire, out,
						sizeof(out), &len2, &ab),
					0);
			CU_ASSERT_EQUAL(len2, L);
			CU_ASSERT(memcmp(out, data, L) == 0);
			CU_ASSERT_EQUAL(rxs_rxkad_unseal(&c, 9, 1000 + k, buf,
							 wire, &off, &len, &ab),
					0);
			CU_ASSERT_EQUAL(off, hdr);
			CU_ASSERT_EQUAL(len, L);
			CU_ASSERT(memcmp(buf + off, data, L) == 0);
		}
	}
	/* oversized and no room */
	rxs_rxkad_init_client(&c, SESSION, 2, EPOCH, CID, RXS_RXKAD_NEVER);
	{
		size_t wire;

		CU_ASSERT_EQUAL(
			rxs_rxkad_seal(&c, 1, 1, buf, 0x10000, 0x20000, &wire),
			-EMSGSIZE);
		CU_ASSERT_EQUAL(rxs_rxkad_seal(&c, 1, 1, buf, 9, 16, &wire),
				-EMSGSIZE);
		CU_ASSERT_EQUAL(rxs_rxkad_seal(&c, 1, 1, buf, 8, 16, &wire), 0);
	}
}

/* Every single-bit flip in the protected parts is refused. */
static void test_tamper(void)
{
	static uint8_t pkt[28 + 200], ref[28 + 200];
	struct rxs_rxkad_conn c;

	for (unsigned int lvl = 0; lvl <= 2; lvl++) {
		size_t plen, off, len;
		int32_t ab;
		int refused = 0;
		int tried = 0;

		rxs_rxkad_init_client(&c, SESSION, lvl, EPOCH, CID,
				      RXS_RXKAD_NEVER);
		memset(pkt, 0, sizeof(pkt));
		/* epoch, cid (channel 1), call 77, seq 3, serial 9, DATA,
		 * CLIENT_INITIATED, index 2, service 147 */
		rxs_put_be32(pkt, EPOCH);
		rxs_put_be32(pkt + 4, CID | 1);
		rxs_put_be32(pkt + 8, 77);
		rxs_put_be32(pkt + 12, 3);
		rxs_put_be32(pkt + 16, 9);
		pkt[20] = 1;
		pkt[21] = 1;
		pkt[23] = 2;
		rxs_put_be16(pkt + 26, 147);
		memset(pkt + 28 + rxs_rxkad_hdr_len(lvl), 0x41, 100);
		CU_ASSERT_FATAL(rxs_rxkad_secure_pkt(&c, pkt, 100, sizeof(pkt),
						     &plen) == 0);
		memcpy(ref, pkt, plen);
		CU_ASSERT_EQUAL(rxs_rxkad_verify_pkt(&c, pkt, plen, true, &off,
						     &len, &ab),
				0);
		CU_ASSERT_EQUAL(len, 100);
		/* header: channel bits (4..), call (8..11), seq (12..15),
		 * cksum (24..25); payload block 0 at auth and crypt */
		for (size_t byte = 4; byte < 36; byte++) {
			bool prot = (byte == 7) || (byte >= 8 && byte < 16) ||
				    byte == 24 || byte == 25 ||
				    (lvl && byte >= 28);

			if (!prot)
				continue;
			for (int bit = 0; bit < 8; bit++) {
				/* Only the channel bits of the cid, and not
				 * seq's top two bits: the checksum masks them
				 * off (§S.3.2), W holds seq's low 16. */
				if ((byte == 7 && bit > 1) ||
				    (byte == 12 && bit > 5))
					continue;
				memcpy(pkt, ref, plen);
				pkt[byte] ^= (uint8_t)(1 << bit);
				tried++;
				ab = 0;
				if (rxs_rxkad_verify_pkt(&c, pkt, plen, false,
							 &off, &len, &ab) < 0 &&
				    (ab == RXKADSEALEDINCON ||
				     ab == RXKADDATALEN))
					refused++;
				else
					printf("\n    level %u byte %zu bit %d "
					       "accepted ",
					       lvl, byte, bit);
			}
		}
		CU_ASSERT_EQUAL(refused, tried);
		if (refused != tried)
			printf("\n    level %u: %d of %d flips refused ", lvl,
			       refused, tried);
	}
}

static void test_truncated_payloads(void)
{
	static uint8_t buf[64], work[64];
	struct rxs_rxkad_conn c;
	size_t wire, len, off;
	int32_t ab;

	for (unsigned int lvl = 1; lvl <= 2; lvl++) {
		rxs_rxkad_init_client(&c, SESSION, lvl, EPOCH, CID,
				      RXS_RXKAD_NEVER);
		memset(buf, 0x33, sizeof(buf));
		CU_ASSERT_FATAL(rxs_rxkad_seal(&c, 4, 4, buf, 40, sizeof(buf),
					       &wire) == 0);
		for (size_t n = 0; n < wire; n++) {
			int ret;

			memcpy(work, buf, wire);
			ab = 0;
			ret = rxs_rxkad_unseal(&c, 4, 4, work, n, &off, &len,
					       &ab);
			/* L' = 40 no longer fits, or < 8 bytes at all */
			CU_ASSERT_EQUAL(ret, -EBADMSG);
			CU_ASSERT_EQUAL(ab, n < 8 ? RXKADSEALEDINCON
						  : RXKADDATALEN);
			ab = 0;
			CU_ASSERT_EQUAL(rxs_rxkad_unseal_copy(&c, 4, 4, buf, n,
							      work, 64, &len,
							      &ab),
					-EBADMSG);
		}
		/* Too short a packet for the header at all */
		CU_ASSERT_EQUAL(rxs_rxkad_verify_pkt(&c, work, 27, true, &off,
						     &len, &ab),
				-EBADMSG);
	}
}

/* ---- tickets ---- */

static void test_ticket_lengths(void)
{
	static uint8_t junk[RXS_RXKAD_TICKET_MAX + 16];
	struct rxs_ticket t;
	size_t lens[] = { 0,
			  8,
			  24,
			  31,
			  33,
			  40,
			  344,
			  352,
			  4096,
			  RXS_RXKAD_TICKET_MAX,
			  RXS_RXKAD_TICKET_MAX + 8 };
	int32_t ab;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 13);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ab = 0;
		CU_ASSERT_EQUAL(rxs_ticket_decode(junk, lens[i], SKEY, &t, &ab),
				-EBADMSG);
		CU_ASSERT_EQUAL(ab, RXKADBADTICKET);
	}
}

static void test_ticket_strings(void)
{
	struct rxs_ticket t = { .start = NOW, .end = NOW + 3600 }, d;
	uint8_t out[400];
	size_t len;
	int32_t ab = 0;

	strcpy(t.name, "");
	strcpy(t.sname, "afs");
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, sizeof(out), &len),
			-EINVAL);
	memset(t.name, 'n', 63);
	t.name[63] = '\0';
	memset(t.inst, 'i', 63);
	memset(t.cell, 'c', 63);
	memset(t.sname, 's', 63);
	memset(t.sinst, 'z', 63);
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, sizeof(out), &len), 0);
	CU_ASSERT_EQUAL(len, 344);
	CU_ASSERT_EQUAL(rxs_ticket_decode(out, len, SKEY, &d, &ab), 0);
	CU_ASSERT(memcmp(d.sinst, t.sinst, 64) == 0);
	CU_ASSERT_EQUAL(d.end, rxs_life_to_time(
				       NOW, rxs_time_to_life(NOW, NOW + 3600)));
	t.name[63] = 'n'; /* 64 characters: too long */
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, sizeof(out), &len),
			-EINVAL);
	t.name[63] = '\0';
	t.end = t.start; /* no lifetime */
	CU_ASSERT_EQUAL(rxs_ticket_make(&t, SKEY, out, sizeof(out), &len),
			-EINVAL);
}

static void test_life_and_times(void)
{
	/* life byte <-> end time, OpenAFS's table */
	CU_ASSERT_EQUAL(rxs_life_to_time(1000, 0x61), 1000 + 29100);
	CU_ASSERT_EQUAL(rxs_life_to_time(1000, 0x80), 1000 + 38400);
	CU_ASSERT_EQUAL(rxs_life_to_time(1000, 0xbf), 1000 + 2592000);
	CU_ASSERT_EQUAL(rxs_life_to_time(1000, 0xc0), 1000 + 2592000);
	CU_ASSERT_EQUAL(rxs_life_to_time(1000, 0xff), RXS_RXKAD_NEVER);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, RXS_RXKAD_NEVER), 0xff);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1000), 0);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1001), 1);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1300), 1);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1301), 2);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1000 + 38400), 0x80);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1000 + 38401), 0x81);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1000 + 2592000), 0xbf);
	CU_ASSERT_EQUAL(rxs_time_to_life(1000, 1000 + 2592001), 0);
	for (unsigned int l = 1; l < 0xc0; l++)
		CU_ASSERT_EQUAL(
			rxs_time_to_life(5000,
					 rxs_life_to_time(5000, (uint8_t)l)),
			l);
	/* tkt_CheckTimes */
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW, NOW, NOW), -2);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW - 10, NOW + 10, NOW), 2);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(0, NOW + 10, NOW), 1);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW, RXS_RXKAD_NEVER, NOW), 1);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW + 901, NOW + 2000, NOW), 0);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW + 900, NOW + 2000, NOW), 2);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW - 2000, NOW - 900, NOW), 2);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW - 2000, NOW - 901, NOW), -1);
	CU_ASSERT_EQUAL(
		rxs_ticket_check_times(NOW - 32 * 86400, NOW - 31 * 86400, NOW),
		-2);
	CU_ASSERT_EQUAL(rxs_ticket_check_times(NOW, NOW + 31 * 86400, NOW), -2);
}

static void test_abort_names(void)
{
	CU_ASSERT_STRING_EQUAL(rxsvc_rxkad_abort_name(RXKADINCONSISTENCY),
			       "RXKADINCONSISTENCY");
	CU_ASSERT_STRING_EQUAL(rxsvc_rxkad_abort_name(19270409),
			       "RXKADEXPIRED");
	CU_ASSERT_STRING_EQUAL(rxsvc_rxkad_abort_name(RXKADILLEGALLEVEL),
			       "RXKADILLEGALLEVEL");
	CU_ASSERT_PTR_NULL(rxsvc_rxkad_abort_name(19270413));
	CU_ASSERT_PTR_NULL(rxsvc_rxkad_abort_name(-1));
	CU_ASSERT_EQUAL(RXKADSEALEDINCON, 19270410);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "xor info vectors", test_xor_info },
		{ "header checksum vectors", test_header_cksum },
		{ "capture: crypt client DATA", test_capture_crypt_client },
		{ "capture: crypt server DATA", test_capture_crypt_server },
		{ "capture: auth DATA", test_capture_auth },
		{ "capture: CHALLENGE", test_capture_challenge },
		{ "capture: RESPONSE verify", test_capture_response_verify },
		{ "capture: RESPONSE build", test_capture_response_build },
		{ "capture: ticket", test_capture_ticket },
		{ "handshake at every level", test_handshake_levels },
		{ "challenge resend keeps nonce", test_challenge_resend },
		{ "challenge lengths", test_challenge_parse_lengths },
		{ "old response", test_old_response },
		{ "refuse: level", test_refuse_level },
		{ "refuse: ticket times", test_refuse_ticket_times },
		{ "refuse: keys and tickets", test_refuse_keys },
		{ "refuse: response fields", test_refuse_response },
		{ "refuse: user_ok", test_refuse_user_ok },
		{ "refuse: response build", test_refuse_build },
		{ "seal/unseal round trips", test_seal_roundtrip },
		{ "tampered packets", test_tamper },
		{ "truncated payloads", test_truncated_payloads },
		{ "ticket lengths", test_ticket_lengths },
		{ "ticket strings", test_ticket_strings },
		{ "life bytes and times", test_life_and_times },
		{ "abort names", test_abort_names },
	};
	CU_pSuite s;
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("rxkad", NULL, NULL);
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
