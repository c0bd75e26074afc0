/* SPDX-License-Identifier: MIT */
/*
 * key_cmd.c - `rxsvc key` and `rxsvc keyfile`: server key files and
 * client tokens in the kernel keyrings (design.md, "Decisions →
 * Security and keys").
 *
 *   rxsvc keyfile add FILE --kvno N (--hex HEX | --random) [--service S]
 *   rxsvc key add NAME --keyfile FILE [--kvno N] [--service S]
 *                 [--client NAME] [--cell CELL] [--lifetime SECS]
 *                 [--keyring user|session]
 *   rxsvc key list
 *   rxsvc key del NAME
 *
 * `key add` mints a token as aklog would get one: a ticket for CLIENT
 * sealed with the service key taken from the key file (so a single-site
 * deployment or a test needs no Kerberos), stored as "rxsvc:NAME".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <keyutils.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cmd/common.h"
#include "cmd/key_cmd.h"
#include <rxsvc/key.h>

static int key_usage(void)
{
	fprintf(stderr,
		"usage: rxsvc keyfile add FILE --kvno N (--hex HEX | --random) [--service S]\n"
		"       rxsvc key add NAME --keyfile FILE [--kvno N] [--service S]\n"
		"                     [--client NAME] [--cell CELL] [--lifetime SECS]\n"
		"                     [--keyring user|session]\n"
		"       rxsvc key add-server SERVICE KVNO (--hex HEX | --random)\n"
		"                     [--keyring user|session]\n"
		"       rxsvc key del-server SERVICE KVNO\n"
		"       rxsvc key list\n"
		"       rxsvc key del NAME\n");
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
		{ "kvno", required_argument, NULL, 'k' },
		{ "service", required_argument, NULL, 's' },
		{ "client", required_argument, NULL, 'c' },
		{ "cell", required_argument, NULL, 'C' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "keyring", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct rxsvc_token_params tp = RXSVC_TOKEN_PARAMS_INIT;
	unsigned long kvno = 0, service = 1, lifetime = 8 * 3600;
	const char *keyfile = NULL;
	int32_t keyring = RXSVC_KEYRING_USER;
	struct rxsvc_keyset *ks;
	static uint8_t token[RXSVC_TOKEN_MAX];
	uint8_t skey[8];
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
		case 'k':
			if (!parse_uint(optarg, 255, &kvno))
				return key_usage();
			break;
		case 's':
			if (!parse_uint(optarg, 65535, &service))
				return key_usage();
			break;
		case 'c':
			tp.client = optarg;
			break;
		case 'C':
			tp.cell = optarg;
			break;
		case 'l':
			if (!parse_uint(optarg, 30ul * 24 * 3600, &lifetime) ||
			    lifetime == 0)
				return key_usage();
			break;
		case 'K':
			if (!strcmp(optarg, "user"))
				keyring = RXSVC_KEYRING_USER;
			else if (!strcmp(optarg, "session"))
				keyring = RXSVC_KEYRING_SESSION;
			else
				return key_usage();
			break;
		default:
			return key_usage();
		}
	}
	if (optind + 1 != argc || !keyfile)
		return key_usage();
	ret = rxsvc_keyset_load_file(keyfile, &ks, &bad_line);
	if (ret < 0) {
		warnx_("cannot load %s: %s%s", keyfile, strerror(-ret),
		       bad_line ? " (see the line number above)" : "");
		return 1;
	}
	ret = rxsvc_keyset_lookup(ks, (uint16_t)service, 2, (uint32_t)kvno,
				  skey);
	rxsvc_keyset_free(ks);
	if (ret < 0) {
		warnx_("no key for service %lu, kvno %lu in %s", service, kvno,
		       keyfile);
		return 1;
	}
	tp.service_key = skey;
	tp.kvno = (uint32_t)kvno;
	tp.lifetime = (uint32_t)lifetime;
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
