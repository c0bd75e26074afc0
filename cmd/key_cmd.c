/* SPDX-License-Identifier: MIT */
/*
 * key_cmd.c - `rxsvc key` and `rxsvc keyfile`: server key files and
 * client tokens in the kernel keyrings (design.md, "Decisions →
 * Security and keys").
 *
 *   rxsvc keyfile add FILE --kvno N (--hex HEX | --random) [--service S]
 *   rxsvc key add NAME (--keyfile FILE | --service-key-hex HEX) [--kvno N]
 *                 [--service S] [--client NAME] [--cell CELL]
 *                 [--lifetime SECS|8h|2d] [--backdate SECS]
 *                 [--keyring user|session]
 *   rxsvc key export NAME [--format v1|xdr] [--out FILE]
 *   rxsvc key session COMMAND [ARG]...
 *   rxsvc key list
 *   rxsvc key del NAME
 *
 * `key add` mints a token as aklog would get one: a ticket for CLIENT
 * sealed with the service key taken from the key file or given in hex (so
 * a single-site deployment or a test needs no Kerberos), stored as
 * "rxsvc:NAME".  `key export` hands that token to the Linux kernel: the
 * payload of an `rxrpc` key (rx-protocol.md §S.5.1), for add_key(2) or
 * `keyctl padd rxrpc DESC @s <FILE`.  `key session` runs a command in a
 * new session keyring of its own (as `keyctl session - COMMAND`), so that
 * tokens added with --keyring session vanish with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <keyutils.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cmd/common.h"
#include "cmd/key_cmd.h"
#include <rxsvc/key.h>
#include <rxsvc/rxkad.h>

static int key_usage(void)
{
	fprintf(stderr,
		"usage: rxsvc keyfile add FILE --kvno N (--hex HEX | --random) [--service S]\n"
		"       rxsvc key add NAME (--keyfile FILE | --service-key-hex HEX) [--kvno N]\n"
		"                     [--service S] [--client NAME] [--cell CELL]\n"
		"                     [--lifetime SECS|8h|2d] [--backdate SECS]\n"
		"                     [--keyring user|session]\n"
		"       rxsvc key add-server SERVICE KVNO (--hex HEX | --random)\n"
		"                     [--keyring user|session]\n"
		"       rxsvc key del-server SERVICE KVNO\n"
		"       rxsvc key export NAME [--format v1|xdr] [--out FILE]\n"
		"       rxsvc key session COMMAND [ARG]...\n"
		"       rxsvc key list\n"
		"       rxsvc key del NAME\n"
		"key add: mint a token (a ticket sealed with the service key) as\n"
		"  rxsvc:NAME; --backdate starts it SECS in the past, for servers\n"
		"  whose clock is behind (Linux allows no skew).\n"
		"key export: the token as the payload of a Linux `rxrpc` key, in hex\n"
		"  on standard output, or binary into FILE (mode 0600): v1 (default;\n"
		"  this machine's byte order) or xdr; e.g.\n"
		"    rxsvc key export NAME --out tok && keyctl padd rxrpc afs@cell @s <tok\n"
		"  then an AF_RXRPC client names it with RXRPC_SECURITY_KEY.\n"
		"key session: run COMMAND in a new session keyring of its own.\n");
	return 2;
}

static bool parse_hex8(const char *s, uint8_t out[8])
{
	if (strlen(s) != 16)
		return false;
	for (int i = 0; i < 8; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return false;
		out[i] = (uint8_t)v;
	}
	return true;
}

/*
 * A random DES key with odd parity, as OpenAFS requires of service keys
 * (the chance of a weak key, 2^-52, is left to the keyset check at use).
 */
static void random_des_key(uint8_t key[8])
{
	if (RAND_bytes(key, 8) != 1)
		die("no randomness");
	for (int i = 0; i < 8; i++) {
		uint8_t b = key[i] & 0xfe;

		key[i] = b | !(__builtin_popcount(b) & 1);
	}
}

static int cmd_keyfile_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kvno", required_argument, NULL, 'k' },
		{ "hex", required_argument, NULL, 'x' },
		{ "random", no_argument, NULL, 'r' },
		{ "service", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long kvno = 0, service = 0;
	bool have_kvno = false, have_key = false, have_service = false;
	uint8_t key[8];
	int ch, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if (!parse_uint(optarg, 255, &kvno))
				return key_usage();
			have_kvno = true;
			break;
		case 'x':
			if (!parse_hex8(optarg, key))
				return key_usage();
			have_key = true;
			break;
		case 'r':
			random_des_key(key);
			have_key = true;
			break;
		case 's':
			if (!parse_uint(optarg, 65535, &service))
				return key_usage();
			have_service = true;
			break;
		default:
			return key_usage();
		}
	}
	if (optind + 1 != argc || !have_kvno || !have_key)
		return key_usage();
	ret = rxsvc_keyfile_add(argv[optind],
				have_service ? (int32_t)service : -1, 2,
				(uint32_t)kvno, key);
	OPENSSL_cleanse(key, sizeof(key));
	if (ret < 0) {
		warnx_("cannot add the key to %s: %s", argv[optind],
		       strerror(-ret));
		return 1;
	}
	return 0;
}

static int cmd_key_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keyfile", required_argument, NULL, 'f' },
		{ "service-key", required_argument, NULL, 'f' },
		{ "service-key-hex", required_argument, NULL, 'x' },
		{ "backdate", required_argument, NULL, 'b' },
		{ "kvno", required_argument, NULL, 'k' },
		{ "service", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "cell", required_argument, NULL, 'C' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "keyring", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_token_params tp = RXSVC_TOKEN_PARAMS_INIT;
	unsigned long kvno = 0, service = 1, lifetime = 8 * 3600, backdate = 0;
	const char *keyfile = NULL;
	int32_t keyring = RXSVC_KEYRING_USER;
	struct rxsvc_keyset *ks;
	static uint8_t token[RXSVC_TOKEN_MAX];
	uint8_t skey[8];
	bool have_hex = false;
	unsigned int bad_line = 0;
	size_t len;
	int ch, ret;

	tp.client = "rxsvc";
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			keyfile = optarg;
			break;
		case 'x':
			if (!parse_hex8(optarg, skey))
				goto usage;
			have_hex = true;
			break;
		case 'b':
			if (!parse_uint(optarg, 24ul * 3600, &backdate))
				goto usage;
			break;
		case 'k':
			if (!parse_uint(optarg, 255, &kvno))
				goto usage;
			break;
		case 's':
			if (!parse_uint(optarg, 65535, &service))
				goto usage;
			break;
		case 'c':
			tp.client = optarg;
			break;
		case 'C':
			tp.cell = optarg;
			break;
		case 'l':
			if (!parse_duration(optarg, 30ul * 24 * 3600,
					    &lifetime) ||
			    lifetime == 0)
				goto usage;
			break;
		case 'K':
			if (!strcmp(optarg, "user"))
				keyring = RXSVC_KEYRING_USER;
			else if (!strcmp(optarg, "session"))
				keyring = RXSVC_KEYRING_SESSION;
			else
				goto usage;
			break;
		default:
			goto usage;
		}
	}
	if (optind + 1 != argc || !keyfile == !have_hex) {
		goto usage;
	}
	if (keyfile) {
		ret = rxsvc_keyset_load_file(keyfile, &ks, &bad_line);
		if (ret < 0) {
			warnx_("cannot load %s: %s%s", keyfile, strerror(-ret),
			       bad_line ? " (see the line number above)" : "");
			return 1;
		}
		ret = rxsvc_keyset_lookup(ks, (uint16_t)service, 2,
					  (uint32_t)kvno, skey);
		rxsvc_keyset_free(ks);
		if (ret < 0) {
			warnx_("no key for service %lu, kvno %lu in %s",
			       service, kvno, keyfile);
			OPENSSL_cleanse(skey, sizeof(skey));
			return 1;
		}
	}
	tp.service_key = skey;
	tp.kvno = (uint32_t)kvno;
	tp.lifetime = (uint32_t)lifetime;
	if (backdate)
		tp.start = (uint32_t)time(NULL) - (uint32_t)backdate;
	ret = rxsvc_token_mint(&tp, token, sizeof(token), &len);
	OPENSSL_cleanse(skey, sizeof(skey));
	if (ret == 0)
		ret = rxsvc_key_add(argv[optind], token, len, keyring, NULL);
	OPENSSL_cleanse(token, sizeof(token));
	if (ret < 0) {
		warnx_("cannot add key %s: %s", argv[optind], strerror(-ret));
		return 1;
	}
	return 0;
usage:
	OPENSSL_cleanse(skey, sizeof(skey));
	return key_usage();
}

/*
 * A server key "rxsvc_s:SERVICE:2:KVNO" (8 bytes) in the user or session
 * keyring, for rxsvcd --keyring (design.md: the same lookup as a key
 * file).  Readable by its owner only.
 */
static int cmd_key_add_server(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hex", required_argument, NULL, 'x' },
		{ "random", no_argument, NULL, 'r' },
		{ "keyring", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long service, kvno;
	key_serial_t ring = KEY_SPEC_USER_KEYRING, id;
	bool have_key = false;
	uint8_t key[8];
	char desc[64];
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'x':
			if (!parse_hex8(optarg, key))
				return key_usage();
			have_key = true;
			break;
		case 'r':
			random_des_key(key);
			have_key = true;
			break;
		case 'K':
			if (!strcmp(optarg, "user"))
				ring = KEY_SPEC_USER_KEYRING;
			else if (!strcmp(optarg, "session"))
				ring = KEY_SPEC_SESSION_KEYRING;
			else
				return key_usage();
			break;
		default:
			return key_usage();
		}
	}
	if (optind + 2 != argc || !have_key ||
	    !parse_uint(argv[optind], 65535, &service) ||
	    !parse_uint(argv[optind + 1], 255, &kvno))
		return key_usage();
	snprintf(desc, sizeof(desc), RXSVC_SKEY_PREFIX "%lu:2:%lu", service,
		 kvno);
	id = add_key("user", desc, key, sizeof(key), ring);
	OPENSSL_cleanse(key, sizeof(key));
	if (id < 0) {
		warnx_("cannot add %s: %s", desc, strerror(errno));
		return 1;
	}
	keyctl_setperm(id, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ |
				   KEY_USR_SEARCH);
	printf("%s\n", desc);
	return 0;
}

/* Remove "rxsvc_s:SERVICE:2:KVNO" from the user and session keyrings. */
static int cmd_key_del_server(int argc, char **argv)
{
	unsigned long service, kvno;
	key_serial_t rings[2] = { KEY_SPEC_SESSION_KEYRING,
				  KEY_SPEC_USER_KEYRING };
	char desc[64];
	int found = 0;

	if (argc != 3 || !parse_uint(argv[1], 65535, &service) ||
	    !parse_uint(argv[2], 255, &kvno))
		return key_usage();
	snprintf(desc, sizeof(desc), RXSVC_SKEY_PREFIX "%lu:2:%lu", service,
		 kvno);
	for (int i = 0; i < 2; i++) {
		long id = keyctl_search(rings[i], "user", desc, 0);

		if (id >= 0 && keyctl_unlink((key_serial_t)id, rings[i]) == 0)
			found = 1;
	}
	if (!found) {
		warnx_("no key %s", desc);
		return 1;
	}
	return 0;
}

/* Search session, then user keyring: the key's serial or -1 (errno). */
static key_serial_t token_search(const char *desc)
{
	long id = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);

	if (id < 0 && errno != EKEYEXPIRED && errno != EKEYREVOKED)
		id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0);
	return (key_serial_t)id;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * The rxkad token of an XDR token payload (already checked by
 * rxsvc_key_from_token) as Linux's binary "v1" rxrpc key payload
 * (net/rxrpc/key.c, rxrpc_preparse; host byte order): u32 version 1,
 * then struct rxrpc_key_data_v1: u16 security index, u16 ticket length,
 * u32 expiry, u32 kvno, 8-byte session key, the ticket.  Returns its
 * length, 0 if no rxkad token is found or it does not fit @cap.
 */
#define V1_HEAD 24
static size_t token_to_v1(const uint8_t *p, size_t len, uint8_t *out,
			  size_t cap)
{
	size_t off, clen, n, i;
	uint32_t ntoken, toklen, tlen, u32;
	uint16_t u16;

	if (len < 12)
		return 0;
	clen = get_be32(p + 4);
	off = 8 + ((clen + 3) & ~(size_t)3);
	if (off + 4 > len || clen > len)
		return 0;
	ntoken = get_be32(p + off);
	off += 4;
	for (i = 0; i < ntoken; i++, off += (toklen + 3) & ~(size_t)3) {
		if (off + 8 > len)
			return 0;
		toklen = get_be32(p + off);
		off += 4;
		if (toklen > len - off)
			return 0;
		if (toklen < 4 + 32 || get_be32(p + off) != RXSVC_SECIDX_RXKAD)
			continue;
		/* viceId, kvno, key[8], start, expiry, primary, tktlen */
		tlen = get_be32(p + off + 4 + 28);
		if (tlen > toklen - 4 - 32 || tlen > 0xffff)
			return 0;
		n = V1_HEAD + tlen;
		if (n > cap)
			return 0;
		u32 = 1;
		memcpy(out, &u32, 4);
		u16 = RXSVC_SECIDX_RXKAD;
		memcpy(out + 4, &u16, 2);
		u16 = (uint16_t)tlen;
		memcpy(out + 6, &u16, 2);
		u32 = get_be32(p + off + 4 + 20); /* expiry */
		memcpy(out + 8, &u32, 4);
		u32 = get_be32(p + off + 4 + 4); /* kvno */
		memcpy(out + 12, &u32, 4);
		memcpy(out + 16, p + off + 4 + 8, 8); /* session key */
		memcpy(out + V1_HEAD, p + off + 4 + 32, tlen);
		return n;
	}
	return 0;
}

/*
 * `rxsvc key export NAME`: the token "rxsvc:NAME" as the payload of a
 * Linux `rxrpc` key, v1 (the kernel's binary form) or xdr (our token
 * as it is: the kernel reads the same XDR format).
 */
static int cmd_key_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	char desc[sizeof(RXSVC_KEY_PREFIX) + RXSVC_KEY_NAME_MAX];
	static uint8_t v1[V1_HEAD + RXSVC_TOKEN_MAX];
	const char *out = NULL;
	struct rxsvc_key *key;
	const uint8_t *pl;
	void *buf = NULL;
	bool xdr = false;
	key_serial_t id;
	long len;
	size_t n;
	int ch, ret, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			if (!strcmp(optarg, "xdr"))
				xdr = true;
			else if (strcmp(optarg, "v1"))
				return key_usage();
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return key_usage();
		}
	}
	if (optind + 1 != argc || strlen(argv[optind]) > RXSVC_KEY_NAME_MAX)
		return key_usage();
	snprintf(desc, sizeof(desc), RXSVC_KEY_PREFIX "%s", argv[optind]);
	id = token_search(desc);
	if (id < 0) {
		warnx_("no key %s: %s", desc, strerror(errno));
		return 1;
	}
	len = keyctl_read_alloc(id, &buf);
	if (len < 0) {
		warnx_("cannot read %s: %s", desc, strerror(errno));
		return 1;
	}
	/* the same checks as a call makes: format, expiry */
	ret = rxsvc_key_from_token(buf, (size_t)len, &key);
	if (ret < 0) {
		warnx_("%s is not a usable token: %s", desc, strerror(-ret));
		goto out;
	}
	rxsvc_key_put(key);
	pl = buf;
	n = (size_t)len;
	if (!xdr) {
		n = token_to_v1(buf, (size_t)len, v1, sizeof(v1));
		if (!n) {
			warnx_("%s holds no rxkad token", desc);
			goto out;
		}
		pl = v1;
	}
	if (out) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || write_all(fd, pl, n) < 0 || close(fd) < 0) {
			warnx_("cannot write %s: %s", out, strerror(errno));
			goto out;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			printf("%02x", pl[i]);
		printf("\n");
		if (fflush(stdout) != 0)
			goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(v1, sizeof(v1));
	OPENSSL_cleanse(buf, (size_t)len);
	free(buf);
	return rc;
}

/* `rxsvc key session COMMAND...`: a new anonymous session keyring. */
static int cmd_key_session(int argc, char **argv)
{
	int i = 1;

	if (argc > 1 && !strcmp(argv[1], "--"))
		i++;
	if (i >= argc)
		return key_usage();
	if (keyctl_join_session_keyring(NULL) < 0) {
		warnx_("cannot join a new session keyring: %s",
		       strerror(errno));
		return 1;
	}
	execvp(argv[i], argv + i);
	warnx_("cannot run %s: %s", argv[i], strerror(errno));
	return 127;
}

static int list_one(void *arg, const char *name,
		    const struct rxsvc_key_info *info)
{
	printf("%s\tsecurity index %u, kvno %u, expires %u\n", name,
	       info->security_index, info->kvno, info->expiry);
	return 0;
}

int rxsvc_cmd_key(int argc, char **argv)
{
	int ret;

	if (argc < 2)
		return key_usage();
	if (!strcmp(argv[1], "add"))
		return cmd_key_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "add-server"))
		return cmd_key_add_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del-server"))
		return cmd_key_del_server(argc - 1, argv + 1);
	if (!strcmp(argv[1], "export"))
		return cmd_key_export(argc - 1, argv + 1);
	if (!strcmp(argv[1], "session"))
		return cmd_key_session(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list")) {
		ret = rxsvc_key_list(list_one, NULL);
		if (ret < 0)
			warnx_("cannot list keys: %s", strerror(-ret));
		return ret < 0 ? 1 : 0;
	}
	if (!strcmp(argv[1], "del") && argc == 3) {
		ret = rxsvc_key_del(argv[2]);
		if (ret < 0)
			warnx_("cannot delete %s: %s", argv[2], strerror(-ret));
		return ret < 0 ? 1 : 0;
	}
	return key_usage();
}

int rxsvc_cmd_keyfile(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "add"))
		return cmd_keyfile_add(argc - 1, argv + 1);
	return key_usage();
}
