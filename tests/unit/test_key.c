/* SPDX-License-Identifier: MIT */
/*
 * test_key.c - keys: token minting and bounded decoding, key files (text
 * and OpenAFS binary, bad permissions, malformed lines), and a keyring
 * round trip in a fresh anonymous session keyring, so nothing leaks into
 * the caller's keyrings.  If the kernel keyrings are unavailable the
 * keyring suite is skipped and the program exits 77 once the rest passed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <keyutils.h>

#include "rxsvc/key.h"
#include "security/rxkad.h"
#include "transport/wire.h"

static const uint8_t SKEY[8] = {
	0xa7, 0x83, 0x8a, 0xcb, 0xc7, 0x83, 0xec, 0x94
};
static char dir[64];
static char name[64]; /* unique per run: "t<pid>" */

static int write_file(const char *fn, const void *buf, size_t len, mode_t mode)
{
	int fd;

	unlink(fn);
	fd = open(fn, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	fchmod(fd, mode);
	close(fd);
	return 0;
}

static char *path(const char *leaf)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, leaf);
	return p;
}

static size_t mint(uint8_t *buf, size_t cap, uint32_t start, uint32_t lifetime)
{
	struct rxsvc_token_params p = RXSVC_TOKEN_PARAMS_INIT;
	size_t len = 0;

	p.client = "alice";
	p.cell = "example.org";
	p.service_key = SKEY;
	p.kvno = 3;
	p.start = start;
	p.lifetime = lifetime;
	p.vice_id = 1001;
	CU_ASSERT_FATAL(rxsvc_token_mint(&p, buf, cap, &len) == 0);
	return len;
}

/* ---- tokens ---- */

static void test_token_roundtrip(void)
{
	uint8_t buf[RXSVC_TOKEN_MAX];
	uint32_t now = (uint32_t)time(NULL);
	size_t len = mint(buf, sizeof(buf), 0, 3600);
	struct rxsvc_key_info info = RXSVC_KEY_INFO_INIT;
	const struct rxs_rxkad_token *tok;
	struct rxsvc_key *key;
	struct rxs_ticket t;
	int32_t ab;

	CU_ASSERT_EQUAL(len % 4, 0);
	CU_ASSERT_EQUAL(rxs_get_be32(buf), 0);	    /* flags */
	CU_ASSERT_EQUAL(rxs_get_be32(buf + 4), 11); /* "example.org" */
	CU_ASSERT_EQUAL(rxs_get_be32(buf + 20), 1); /* ntoken */
	CU_ASSERT_EQUAL(rxs_get_be32(buf + 28), 2); /* rxkad */
	CU_ASSERT_FATAL(rxsvc_key_from_token(buf, len, &key) == 0);
	CU_ASSERT_EQUAL(rxsvc_key_info(key, &info), 0);
	CU_ASSERT_EQUAL(info.security_index, 2);
	CU_ASSERT_EQUAL(info.kvno, 3);
	CU_ASSERT_EQUAL(info.vice_id, 1001);
	CU_ASSERT_STRING_EQUAL(info.cell, "example.org");
	CU_ASSERT(info.start >= now - 1 && info.start <= now + 1);
	CU_ASSERT_EQUAL(info.expiry, info.start + 3600);
	CU_ASSERT_EQUAL(info.serial, 0);
	tok = rxs_key_token(key);
	/* the server, holding SKEY, finds the same session key inside */
	CU_ASSERT_EQUAL(
		rxs_ticket_decode(tok->ticket, tok->ticket_len, SKEY, &t, &ab),
		0);
	CU_ASSERT(memcmp(t.session_key, tok->session_key, 8) == 0);
	CU_ASSERT_STRING_EQUAL(t.name, "alice");
	CU_ASSERT_EQUAL(t.end, info.expiry);
	CU_ASSERT_EQUAL(rxs_key_check(key, now), 0);
	CU_ASSERT_EQUAL(rxs_key_check(key, info.expiry), -EKEYEXPIRED);
	rxs_key_get(key);
	rxsvc_key_put(key);
	rxsvc_key_put(key);
	rxsvc_key_put(NULL);
}

static void test_token_expired(void)
{
	uint8_t buf[RXSVC_TOKEN_MAX];
	struct rxsvc_key *key;
	size_t len = mint(buf, sizeof(buf), (uint32_t)time(NULL) - 7200, 3600);

	CU_ASSERT_EQUAL(rxsvc_key_from_token(buf, len, &key), -EKEYEXPIRED);
}

static void test_token_mint_args(void)
{
	struct rxsvc_token_params p = RXSVC_TOKEN_PARAMS_INIT;
	uint8_t buf[RXSVC_TOKEN_MAX];
	size_t len;

	p.service_key = SKEY;
	CU_ASSERT_EQUAL(rxsvc_token_mint(&p, buf, sizeof(buf), &len),
			-EINVAL); /* no client */
	p.client = "bob";
	p.kvno = 256;
	CU_ASSERT_EQUAL(rxsvc_token_mint(&p, buf, sizeof(buf), &len), -EINVAL);
	p.kvno = 0;
	p.lifetime = 31 * 86400;
	CU_ASSERT_EQUAL(rxsvc_token_mint(&p, buf, sizeof(buf), &len), -EINVAL);
	p.lifetime = 0; /* 8 h */
	CU_ASSERT_EQUAL(rxsvc_token_mint(&p, buf, 40, &len), -EMSGSIZE);
	CU_ASSERT_EQUAL(rxsvc_token_mint(&p, buf, sizeof(buf), &len), 0);
	/* no cell: token cell "rxsvc", ticket realm "" */
	CU_ASSERT_EQUAL(rxs_get_be32(buf + 4), 5);
	CU_ASSERT(memcmp(buf + 8, "rxsvc", 5) == 0);
}

/* Every malformed or truncated payload is refused, never read past. */
static void test_token_malformed(void)
{
	uint8_t good[RXSVC_TOKEN_MAX], bad[RXSVC_TOKEN_MAX + 8];
	struct rxsvc_key *key;
	size_t len = mint(good, sizeof(good), 0, 3600);
	size_t tl = len - 64; /* offset of nothing in particular */

	(void)tl;
	for (size_t n = 0; n < len; n++) {
		/* exact-size heap copy: ASan catches any over-read */
		uint8_t *p = malloc(n ? n : 1);

		memcpy(p, good, n);
		CU_ASSERT_EQUAL(rxsvc_key_from_token(p, n, &key), -EBADMSG);
		free(p);
	}
#define SPOIL(off, val)                                               \
	do {                                                          \
		memcpy(bad, good, len);                               \
		rxs_put_be32(bad + (off), (val));                     \
		CU_ASSERT_EQUAL(rxsvc_key_from_token(bad, len, &key), \
				-EBADMSG);                            \
	} while (0)
	SPOIL(0, 1);  /* flags */
	SPOIL(4, 0);  /* cell length 0 */
	SPOIL(4, 65); /* cell too long */
	SPOIL(4, 0xffffffff);
	SPOIL(20, 0); /* ntoken */
	SPOIL(20, 9);
	SPOIL(24, 19);		   /* toklen < 20 */
	SPOIL(24, 0xfffffffc);	   /* toklen beyond the payload */
	SPOIL(28, 5);		   /* not rxkad: nothing usable */
	SPOIL(28 + 4 + 28, 12001); /* ticket length > 12000 */
	SPOIL(28 + 4 + 28, 0);
	SPOIL(28 + 4 + 28, 0x7fffffff);
	/* a non-printable cell byte */
	memcpy(bad, good, len);
	bad[8] = 0x01;
	CU_ASSERT_EQUAL(rxsvc_key_from_token(bad, len, &key), -EBADMSG);
	/* trailing bytes after the last token */
	memcpy(bad, good, len);
	memset(bad + len, 0, 4);
	CU_ASSERT_EQUAL(rxsvc_key_from_token(bad, len + 4, &key), -EBADMSG);
	CU_ASSERT_EQUAL(rxsvc_key_from_token(bad, RXSVC_TOKEN_MAX + 4, &key),
			-EBADMSG);
}

/* ---- key files ---- */

static void lookup_ok(struct rxsvc_keyset *ks, uint16_t svc, uint8_t idx,
		      uint32_t kvno, const char *hex)
{
	uint8_t key[8], want[8];

	for (int i = 0; i < 8; i++) {
		unsigned int b;

		sscanf(hex + 2 * i, "%2x", &b);
		want[i] = (uint8_t)b;
	}
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, svc, idx, kvno, key), 0);
	CU_ASSERT(memcmp(key, want, 8) == 0);
}

static void test_keyfile_text(void)
{
	static const char text[] =
		"# rxsvc server keys\n"
		"\n"
		"3 a7838acbc783ec94\n"
		"   147 2 3 0102040810204080   # service 147 only\n"
		"147:2:4 1111111111111111\n"
		"\t7 FFEEDDCCBBAA9988\r\n"
		"200 5 1 2222222222222222";
	struct rxsvc_keyset *ks;
	unsigned int line = 99;
	uint8_t key[8];

	CU_ASSERT_FATAL(write_file(path("text"), text, strlen(text), 0600) ==
			0);
	CU_ASSERT_FATAL(rxsvc_keyset_load_file(path("text"), &ks, &line) == 0);
	CU_ASSERT_EQUAL(line, 0);
	lookup_ok(ks, 1, 2, 3, "a7838acbc783ec94");   /* any service */
	lookup_ok(ks, 147, 2, 3, "0102040810204080"); /* its own first */
	lookup_ok(ks, 147, 2, 4, "1111111111111111");
	lookup_ok(ks, 9, 2, 7, "ffeeddccbbaa9988");
	lookup_ok(ks, 200, 5, 1, "2222222222222222");
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 148, 2, 4, key), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 147, 2, 5, key), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 200, 2, 1, key), -ENOKEY);
	rxsvc_keyset_free(ks);
	rxsvc_keyset_free(NULL);
}

static void test_keyfile_malformed(void)
{
	static const struct {
		const char *text;
		unsigned int line;
	} bad[] = {
		{ "3 a7838acbc783ec9\n", 1 },		   /* 15 hex digits */
		{ "3 a7838acbc783ec944\n", 1 },		   /* 17 */
		{ "3 a7838acbc783ecxx\n", 1 },		   /* not hex */
		{ "#ok\n256 a7838acbc783ec94\n", 2 },	   /* kvno > 255 */
		{ "\n\n70000 2 1 a7838acbc783ec94\n", 3 }, /* service */
		{ "147 0 1 a7838acbc783ec94\n", 1 },	   /* index 0 */
		{ "147 2 a7838acbc783ec94\n", 1 },	   /* 3 fields */
		{ "1 2 3 4 a7838acbc783ec94\n", 1 },	   /* 5 fields */
		{ "a7838acbc783ec94\n", 1 },		   /* 1 field */
		{ "-1 a7838acbc783ec94\n", 1 },
		{ "147:2 a7838acbc783ec94\n", 1 },
		{ "147:2:3:4 a7838acbc783ec94\n", 1 },
		{ "3 a7838acbc783ec94 extra\n", 1 },
	};
	struct rxsvc_keyset *ks;
	unsigned int line;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path("bad"), bad[i].text, strlen(bad[i].text), 0600);
		line = 0;
		CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("bad"), &ks, &line),
				-EBADMSG);
		CU_ASSERT_EQUAL(line, bad[i].line);
		if (line != bad[i].line)
			printf("\n    case %zu: line %u ", i, line);
	}
	/* binary junk that is not a KeyFile */
	write_file(path("bad"), "\x00\x01\x02\x03\x04", 5, 0600);
	CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("bad"), &ks, NULL),
			-EBADMSG);
	CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("missing"), &ks, NULL),
			-ENOENT);
	CU_ASSERT_EQUAL(rxsvc_keyset_load_file(dir, &ks, NULL), -EINVAL);
}

static void test_keyfile_perms(void)
{
	static const char text[] = "3 a7838acbc783ec94\n";
	static const mode_t modes[] = { 0644, 0640, 0604, 0620, 0602, 0660 };
	struct rxsvc_keyset *ks;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_file(path("perm"), text, strlen(text), modes[i]);
		CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("perm"), &ks, NULL),
				-EPERM);
	}
	write_file(path("perm"), text, strlen(text), 0400);
	CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("perm"), &ks, NULL), 0);
	rxsvc_keyset_free(ks);
}

static void test_keyfile_binary(void)
{
	uint8_t kf[4 + 2 * 12];
	struct rxsvc_keyset *ks;
	uint8_t key[8];

	rxs_put_be32(kf, 2);
	rxs_put_be32(kf + 4, 1);
	memcpy(kf + 8, SKEY, 8);
	rxs_put_be32(kf + 16, 9);
	memset(kf + 20, 0x5e, 8);
	write_file(path("KeyFile"), kf, sizeof(kf), 0600);
	CU_ASSERT_FATAL(rxsvc_keyset_load_file(path("KeyFile"), &ks, NULL) ==
			0);
	lookup_ok(ks, 147, 2, 1, "a7838acbc783ec94");
	lookup_ok(ks, 1, 2, 9, "5e5e5e5e5e5e5e5e");
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 1, 2, 2, key), -ENOKEY);
	rxsvc_keyset_free(ks);
	/* empty KeyFile: no keys */
	write_file(path("KeyFile"), kf, 4, 0600);
	rxs_put_be32(kf, 0);
	write_file(path("KeyFile"), kf, 4, 0600);
	CU_ASSERT_EQUAL(rxsvc_keyset_load_file(path("KeyFile"), &ks, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 1, 2, 1, key), -ENOKEY);
	rxsvc_keyset_free(ks);
	/* keyfile_add refuses to append text to it */
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("KeyFile"), -1, 2, 1, SKEY),
			-EINVAL);
}

static void test_keyfile_add(void)
{
	struct rxsvc_keyset *ks;
	struct stat st;

	unlink(path("added"));
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("added"), -1, 2, 3, SKEY), 0);
	CU_ASSERT_EQUAL(stat(path("added"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("added"), 147, 2, 4, SKEY), 0);
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("added"), -1, 2, 3, SKEY),
			-EEXIST);
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("added"), 147, 2, 300, SKEY),
			-EINVAL);
	CU_ASSERT_FATAL(rxsvc_keyset_load_file(path("added"), &ks, NULL) == 0);
	lookup_ok(ks, 5, 2, 3, "a7838acbc783ec94");
	lookup_ok(ks, 147, 2, 4, "a7838acbc783ec94");
	rxsvc_keyset_free(ks);
	chmod(path("added"), 0644);
	CU_ASSERT_EQUAL(rxsvc_keyfile_add(path("added"), -1, 2, 5, SKEY),
			-EPERM);
}

/* ---- keyrings (own anonymous session keyring) ---- */

static void test_keyring_client(void)
{
	uint8_t buf[RXSVC_TOKEN_MAX];
	size_t len = mint(buf, sizeof(buf), 0, 3600);
	struct rxsvc_key_info info = RXSVC_KEY_INFO_INIT;
	struct rxsvc_key *key, *key2;
	int32_t serial = 0;
	uint32_t now = (uint32_t)time(NULL);
	char n2[80];

	CU_ASSERT_EQUAL(rxsvc_key_get(name, &key), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_key_get("", &key), -EINVAL);
	CU_ASSERT_EQUAL(
		rxsvc_key_add(name, buf, 12, RXSVC_KEYRING_SESSION, &serial),
		-EBADMSG);
	CU_ASSERT_EQUAL(
		rxsvc_key_add(name, buf, len, RXSVC_KEYRING_SESSION, &serial),
		0);
	CU_ASSERT(serial > 0);
	CU_ASSERT_FATAL(rxsvc_key_get(name, &key) == 0);
	rxsvc_key_info(key, &info);
	CU_ASSERT_EQUAL(info.serial, serial);
	CU_ASSERT_EQUAL(info.kvno, 3);
	CU_ASSERT_EQUAL(rxs_key_security_index(key), 2);
	CU_ASSERT_EQUAL(rxs_key_check(key, now), 0);
	/* revoked: no longer usable for new calls, nor found */
	CU_ASSERT_EQUAL(keyctl_revoke(serial), 0);
	CU_ASSERT_EQUAL(rxs_key_check(key, now), -EKEYREVOKED);
	CU_ASSERT_EQUAL(rxsvc_key_get(name, &key2), -EKEYREVOKED);
	rxsvc_key_put(key);
	/* a second name: found, listed, then deleted */
	snprintf(n2, sizeof(n2), "%s-b", name);
	CU_ASSERT_EQUAL(
		rxsvc_key_add(n2, buf, len, RXSVC_KEYRING_SESSION, NULL), 0);
	CU_ASSERT_FATAL(rxsvc_key_get(n2, &key) == 0);
	CU_ASSERT_EQUAL(rxsvc_key_del(n2), 0);
	CU_ASSERT_EQUAL(rxs_key_check(key, now), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_key_get(n2, &key2), -ENOKEY);
	rxsvc_key_put(key);
	CU_ASSERT_EQUAL(rxsvc_key_del(n2), -ENOKEY);
	/* a payload that is not a token, added behind our back */
	CU_ASSERT(add_key("user", "rxsvc:junk-test", "xyz", 3,
			  KEY_SPEC_SESSION_KEYRING) > 0);
	CU_ASSERT_EQUAL(rxsvc_key_get("junk-test", &key), -EBADMSG);
}

static int count_listed(void *arg, const char *n,
			const struct rxsvc_key_info *info)
{
	if (!strcmp(n, name) && info->security_index == 2)
		(*(int *)arg)++;
	return 0;
}

static void test_keyring_list(void)
{
	uint8_t buf[RXSVC_TOKEN_MAX];
	size_t len = mint(buf, sizeof(buf), 0, 600);
	int found = 0;

	CU_ASSERT_EQUAL(
		rxsvc_key_add(name, buf, len, RXSVC_KEYRING_SESSION, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_key_list(count_listed, &found), 0);
	CU_ASSERT_EQUAL(found, 1);
}

static void test_keyring_server(void)
{
	char ring[80];
	struct rxsvc_keyset *ks;
	key_serial_t r, k;
	uint8_t key[8];
	int32_t ab = 0;
	struct rxs_keyset_rock rock;

	snprintf(ring, sizeof(ring), "%s-srv", name);
	CU_ASSERT_EQUAL(rxsvc_keyset_open_keyring(ring, &ks), -ENOKEY);
	r = add_key("keyring", ring, NULL, 0, KEY_SPEC_SESSION_KEYRING);
	CU_ASSERT_FATAL(r > 0);
	k = add_key("user", "rxsvc_s:147:2:1", SKEY, 8, r);
	CU_ASSERT_FATAL(k > 0);
	CU_ASSERT(add_key("user", "rxsvc_s:147:2:9", SKEY, 7, r) > 0);
	CU_ASSERT_FATAL(rxsvc_keyset_open_keyring(ring, &ks) == 0);
	lookup_ok(ks, 147, 2, 1, "a7838acbc783ec94");
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 147, 2, 2, key), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 148, 2, 1, key), -ENOKEY);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 147, 2, 9, key), -EBADMSG);
	/* the engine's callback */
	rock.ks = ks;
	rock.service = 147;
	rock.security_index = 2;
	CU_ASSERT_EQUAL(rxs_keyset_get_key(&rock, 1, key), 0);
	CU_ASSERT_EQUAL(rxs_keyset_get_key(&rock, 5, key), -ENOKEY);
	/* a key without kvno serves any, as Linux's rxrpc_s */
	CU_ASSERT(add_key("user", "rxsvc_s:147:2", SKEY, 8, r) > 0);
	CU_ASSERT_EQUAL(rxs_keyset_get_key(&rock, 5, key), 0);
	/* revoked: no longer used */
	CU_ASSERT_EQUAL(keyctl_revoke(k), 0);
	CU_ASSERT_EQUAL(rxsvc_keyset_lookup(ks, 147, 2, 1, key), -EKEYREVOKED);
	rxsvc_keyset_free(ks);
	/* "@s" names the session keyring itself */
	CU_ASSERT(add_key("user", "rxsvc_s:7:2:2", SKEY, 8,
			  KEY_SPEC_SESSION_KEYRING) > 0);
	CU_ASSERT_FATAL(rxsvc_keyset_open_keyring("@s", &ks) == 0);
	lookup_ok(ks, 7, 2, 2, "a7838acbc783ec94");
	rxsvc_keyset_free(ks);
	(void)ab;
}

static int add(CU_pSuite s, const char *n, CU_TestFunc fn)
{
	return CU_add_test(s, n, fn) ? 0 : -1;
}

int main(void)
{
	CU_pSuite s;
	unsigned int failed;
	bool keyrings;

	snprintf(dir, sizeof(dir), "/tmp/rxsvc-test-key.XXXXXX");
	if (!mkdtemp(dir))
		return 99;
	snprintf(name, sizeof(name), "test-%ld", (long)getpid());
	/* Our own session keyring: nothing leaks to the caller's. */
	keyrings = keyctl_join_session_keyring(NULL) > 0;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("tokens+files", NULL, NULL);
	if (!s || add(s, "token round trip", test_token_roundtrip) ||
	    add(s, "token expired", test_token_expired) ||
	    add(s, "token mint arguments", test_token_mint_args) ||
	    add(s, "token malformed", test_token_malformed) ||
	    add(s, "key file text", test_keyfile_text) ||
	    add(s, "key file malformed", test_keyfile_malformed) ||
	    add(s, "key file permissions", test_keyfile_perms) ||
	    add(s, "key file binary", test_keyfile_binary) ||
	    add(s, "key file add", test_keyfile_add))
		goto error;
	if (keyrings) {
		s = CU_add_suite("keyrings", NULL, NULL);
		if (!s || add(s, "client token", test_keyring_client) ||
		    add(s, "list", test_keyring_list) ||
		    add(s, "server keys", test_keyring_server))
			goto error;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		goto error;
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	if (keyrings)
		keyctl_clear(KEY_SPEC_SESSION_KEYRING);
	unlink(path("text"));
	unlink(path("bad"));
	unlink(path("perm"));
	unlink(path("KeyFile"));
	unlink(path("added"));
	rmdir(dir);
	if (failed)
		return 1;
	if (!keyrings) {
		printf("SKIP: kernel keyrings unavailable (keyctl_join_session_keyring)\n");
		return 77;
	}
	return 0;
error:
	CU_cleanup_registry();
	return 99;
}
