/* SPDX-License-Identifier: MIT */
/*
 * vlquery - a client of a real OpenAFS volume location server (vlserver,
 * Debian's openafs-dbserver) written with rxsvc's XDR helpers only
 * (include/rxsvc/xdr.h): no OpenAFS code, no rxgen.  The opcodes and
 * structures below are transcribed by hand from OpenAFS's public
 * interface definition (src/vlserver/vldbint.xg, package VL_, Rx service
 * 52, port 7003); the calls are rxnull, so the server must run with
 * -noauth for `create' (reads are allowed to anyone).
 *
 *   vlquery [--server ADDR:PORT] probe
 *   vlquery [--server ADDR:PORT] newid [BUMP]        VL_GetNewVolumeId
 *   vlquery [--server ADDR:PORT] create NAME RWID SERVER-IP PARTITION
 *                                                    VL_CreateEntryN
 *   vlquery [--server ADDR:PORT] get NAME            VL_GetEntryByNameN
 *   vlquery [--server ADDR:PORT] list                VL_ListAttributesN
 *
 * The server defaults to 127.0.0.1:7003.  `get' prints one line per
 * field ("name NAME", "rw ID", "ro ID", "bk ID", "flags 0x..", then
 * "site SERVER-IP PARTITION FLAGS" per site); `list' prints one line per
 * entry, "NAME RWID", after a line "entries N"; `newid' prints the first
 * of the BUMP (default 1) new volume IDs.  Exit status: 0 success; 1 the
 * server aborted the call (the code is named on stderr, e.g.
 * "aborted: 363524 (VL_NOENT)"); 2 usage; 3 other failures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <rxsvc/abort.h>
#include <rxsvc/xdr.h>

#define PROG "vlquery"

/* ---- from vldbint.xg / vl_opcodes.h ---- */

#define VL_SERVICE_ID 52 /* USER_SERVICE_ID */
#define VL_PORT	      7003

enum {
	VLGETNEWVOLUMEID = 505,
	VLPROBE = 514,
	VLCREATEENTRYN = 517,
	VLGETENTRYBYNAMEN = 519,
	VLLISTATTRIBUTESN = 522,
};

#define VL_MAXNAMELEN 65
#define NMAXNSERVERS  13
#define MAXTYPES      3
#define RWVOL	      0
#define ROVOL	      1
#define BACKVOL	      2
#define VLF_RWEXISTS  0x1000
#define VLSF_RWVOL    0x04
/* Our bound on VL_ListAttributesN's reply (nbulkentries is unbounded in
 * the .xg; vlserver itself stops at a few hundred thousand). */
#define MAX_LIST 100000

/*
 * struct nvldbentry.  `char name[VL_MAXNAMELEN]' is a fixed array of
 * xdr_char: 4 bytes per character on the wire (rx-protocol.md §10.4),
 * 260 bytes in all.
 */
struct nvldbentry {
	int8_t name[VL_MAXNAMELEN];
	int32_t nServers;
	int32_t serverNumber[NMAXNSERVERS]; /* IPv4 address, host order */
	int32_t serverPartition[NMAXNSERVERS];
	int32_t serverFlags[NMAXNSERVERS];
	uint32_t volumeId[MAXTYPES];
	uint32_t cloneId;
	int32_t flags;
	int32_t matchindex;
	int32_t spares[8]; /* spares2 .. spares9 */
};

struct VldbListByAttributes {
	uint32_t Mask;
	int32_t server;
	int32_t partition;
	int32_t spares3;
	uint32_t volumeid;
	int32_t flag;
};

/* VL_ error table (vlserver/vl_errors.et), for messages. */
static const char *const vl_errors[] = {
	"VL_IDEXIST",	     "VL_IO",		 "VL_NAMEEXIST",
	"VL_CREATEFAIL",     "VL_NOENT",	 "VL_EMPTY",
	"VL_ENTDELETED",     "VL_BADNAME",	 "VL_BADINDEX",
	"VL_BADVOLTYPE",     "VL_BADSERVER",	 "VL_BADPARTITION",
	"VL_REPSFULL",	     "VL_NOREPSERVER",	 "VL_DUPREPSERVER",
	"VL_RWNOTFOUND",     "VL_BADREFCOUNT",	 "VL_SIZEEXCEEDED",
	"VL_BADENTRY",	     "VL_BADVOLIDBUMP",	 "VL_IDALREADYHASHED",
	"VL_ENTRYLOCKED",    "VL_BADVOLOPER",	 "VL_BADRELLOCKTYPE",
	"VL_RERELEASE",	     "VL_BADSERVERFLAG", "VL_PERM",
	"VL_NOMEM",	     "VL_BADVERSION",	 "VL_INDEXERANGE",
	"VL_MULTIPADDR",     "VL_BADMASK",	 "VL_DBBAD",
};
#define VL_ERROR_BASE 363520

/* The first codes of ubik's error table (ubik/uerrors.et): a database
 * server that has no quorum yet answers UNOQUORUM. */
static const char *const ubik_errors[] = {
	"UNOQUORUM", "UNOTSYNC",  "UNHOSTS", "UIOERROR", "UINTERNAL",
	"USYNC",     "UNOENT",	  "UBADLOCK", "UBADLOG",  "UBADHOST",
};
#define UBIK_ERROR_BASE 5376
#define NELEM(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

/* ---- codecs, one per type, as rxgen would generate them ---- */

static int xdr_char(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int8(x, o);
}

static int xdr_i32(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_int32(x, o);
}

static int xdr_u32(struct rxsvc_xdr *x, void *o)
{
	return rxsvc_xdr_uint32(x, o);
}

static int xdr_nvldbentry(struct rxsvc_xdr *x, void *o)
{
	struct nvldbentry *e = o;

	rxsvc_xdr_vector(x, e->name, VL_MAXNAMELEN, 1, xdr_char);
	rxsvc_xdr_int32(x, &e->nServers);
	rxsvc_xdr_vector(x, e->serverNumber, NMAXNSERVERS, 4, xdr_i32);
	rxsvc_xdr_vector(x, e->serverPartition, NMAXNSERVERS, 4, xdr_i32);
	rxsvc_xdr_vector(x, e->serverFlags, NMAXNSERVERS, 4, xdr_i32);
	rxsvc_xdr_vector(x, e->volumeId, MAXTYPES, 4, xdr_u32);
	rxsvc_xdr_uint32(x, &e->cloneId);
	rxsvc_xdr_int32(x, &e->flags);
	rxsvc_xdr_int32(x, &e->matchindex);
	rxsvc_xdr_vector(x, e->spares, 8, 4, xdr_i32);
	if (x->op == RXSVC_XDR_DECODE)
		e->name[VL_MAXNAMELEN - 1] = 0; /* a C string whatever came */
	return x->error;
}

static int xdr_listattrs(struct rxsvc_xdr *x, void *o)
{
	struct VldbListByAttributes *a = o;

	rxsvc_xdr_uint32(x, &a->Mask);
	rxsvc_xdr_int32(x, &a->server);
	rxsvc_xdr_int32(x, &a->partition);
	rxsvc_xdr_int32(x, &a->spares3);
	rxsvc_xdr_uint32(x, &a->volumeid);
	return rxsvc_xdr_int32(x, &a->flag);
}

/* OUT arguments of VL_ListAttributesN */
struct list_out {
	int32_t nentries;
	struct nvldbentry *entries;
	uint32_t count;
};

static int xdr_list_out(struct rxsvc_xdr *x, void *o)
{
	struct list_out *l = o;

	rxsvc_xdr_int32(x, &l->nentries);
	return rxsvc_xdr_array(x, (void **)&l->entries, &l->count, MAX_LIST,
			       sizeof(struct nvldbentry), xdr_nvldbentry);
}

/* ---- calls ---- */

static struct rxsvc_sock *sock;
static struct rxsvc_srx server;
static unsigned long next_id = 1;

/* Begin a call and encode its opcode: rxgen's StartVL_... */
static struct rxsvc_call *begin(struct rxsvc_xdr *x, int32_t opcode)
{
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_call *call = NULL;
	int r;

	cp.peer = server;
	cp.user_call_id = next_id++;
	cp.hard_time_ms = 20000;
	r = rxsvc_call_begin(sock, &cp, &call);
	if (r < 0) {
		fprintf(stderr, PROG ": cannot begin a call: %s\n",
			strerror(-r));
		exit(3);
	}
	rxsvc_xdr_init_call(x, call, RXSVC_XDR_ENCODE);
	rxsvc_xdr_int32(x, &opcode);
	return call;
}

/*
 * End the request, decode the OUT arguments with @proc into @obj (NULL:
 * none), end the call: rxgen's EndVL_...  Returns 0, or reports the
 * failure and exits (1 for an abort from the server, 3 otherwise).
 */
static void finish(const char *what, struct rxsvc_call *call,
		   struct rxsvc_xdr *x, rxsvc_xdr_proc_t proc, void *obj)
{
	int32_t code;
	const char *name;

	rxsvc_xdr_send_end(x);
	code = rxsvc_xdr_abort(x);
	if (!code) {
		rxsvc_xdr_init_call(x, call, RXSVC_XDR_DECODE);
		if (proc)
			proc(x, obj);
		rxsvc_xdr_recv_end(x);
		code = rxsvc_xdr_abort(x);
	}
	rxsvc_call_end(call);
	if (!code)
		return;
	if (code >= VL_ERROR_BASE && code < VL_ERROR_BASE + NELEM(vl_errors))
		name = vl_errors[code - VL_ERROR_BASE];
	else if (code >= UBIK_ERROR_BASE &&
		 code < UBIK_ERROR_BASE + NELEM(ubik_errors))
		name = ubik_errors[code - UBIK_ERROR_BASE];
	else
		name = rxsvc_abort_name(code);
	if (x->error == -ECONNABORTED || x->error == -EBADMSG) {
		fprintf(stderr, PROG ": %s: aborted: %d (%s)\n", what,
			(int)code, name ? name : "?");
		exit(1);
	}
	fprintf(stderr, PROG ": %s: %s (abort code %d, %s)\n", what,
		strerror(-x->error), (int)code, name ? name : "?");
	exit(3);
}

static void print_ip(int32_t host_order)
{
	struct in_addr a = { .s_addr = htonl((uint32_t)host_order) };

	printf("%s", inet_ntoa(a));
}

static int do_probe(void)
{
	struct rxsvc_xdr x;
	struct rxsvc_call *call = begin(&x, VLPROBE);

	finish("VL_Probe", call, &x, NULL, NULL);
	printf("ok\n");
	return 0;
}

static int do_newid(uint32_t bump)
{
	struct rxsvc_xdr x;
	struct rxsvc_call *call = begin(&x, VLGETNEWVOLUMEID);
	uint32_t id = 0;

	rxsvc_xdr_uint32(&x, &bump);
	finish("VL_GetNewVolumeId", call, &x, xdr_u32, &id);
	printf("%u\n", id);
	return 0;
}

static int do_create(const char *name, uint32_t rwid, const char *ip,
		     int32_t part)
{
	struct nvldbentry e;
	struct rxsvc_xdr x;
	struct rxsvc_call *call;
	struct in_addr a;

	if (strlen(name) >= VL_MAXNAMELEN || inet_pton(AF_INET, ip, &a) != 1) {
		fprintf(stderr, PROG ": create: bad name or address\n");
		return 2;
	}
	memset(&e, 0, sizeof(e));
	memcpy(e.name, name, strlen(name));
	e.nServers = 1;
	e.serverNumber[0] = (int32_t)ntohl(a.s_addr);
	e.serverPartition[0] = part;
	e.serverFlags[0] = VLSF_RWVOL;
	e.volumeId[RWVOL] = rwid;
	e.volumeId[ROVOL] = rwid + 1;
	e.volumeId[BACKVOL] = rwid + 2;
	e.flags = VLF_RWEXISTS;
	call = begin(&x, VLCREATEENTRYN);
	xdr_nvldbentry(&x, &e);
	finish("VL_CreateEntryN", call, &x, NULL, NULL);
	return 0;
}

static int do_get(const char *name)
{
	struct nvldbentry e;
	struct rxsvc_xdr x;
	struct rxsvc_call *call = begin(&x, VLGETENTRYBYNAMEN);
	char *n = (char *)name;

	memset(&e, 0, sizeof(e));
	rxsvc_xdr_string(&x, &n, VL_MAXNAMELEN); /* string volumename<65> */
	finish("VL_GetEntryByNameN", call, &x, xdr_nvldbentry, &e);
	printf("name %s\n", (const char *)e.name);
	printf("rw %u\nro %u\nbk %u\n", e.volumeId[RWVOL], e.volumeId[ROVOL],
	       e.volumeId[BACKVOL]);
	printf("flags 0x%x\n", (unsigned)e.flags);
	for (int32_t i = 0; i < e.nServers && i < NMAXNSERVERS; i++) {
		printf("site ");
		print_ip(e.serverNumber[i]);
		printf(" %d 0x%x\n", (int)e.serverPartition[i],
		       (unsigned)e.serverFlags[i]);
	}
	return 0;
}

static int do_list(void)
{
	struct VldbListByAttributes attrs;
	struct list_out out;
	struct rxsvc_xdr x;
	struct rxsvc_call *call = begin(&x, VLLISTATTRIBUTESN);

	memset(&attrs, 0, sizeof(attrs)); /* Mask 0: every entry */
	memset(&out, 0, sizeof(out));
	xdr_listattrs(&x, &attrs);
	finish("VL_ListAttributesN", call, &x, xdr_list_out, &out);
	printf("entries %d\n", (int)out.nentries);
	for (uint32_t i = 0; i < out.count; i++)
		printf("%s %u\n", (const char *)out.entries[i].name,
		       out.entries[i].volumeId[RWVOL]);
	rxsvc_xdr_free(xdr_list_out, &out);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: " PROG " [--server ADDR:PORT] probe | newid [BUMP] |\n"
		"       create NAME RWID SERVER-IP PARTITION | get NAME | "
		"list\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct rxsvc_sock_params p = RXSVC_SOCK_PARAMS_INIT;
	const char *addr = "127.0.0.1:7003";
	int i = 1, r;

	if (argc > 2 && strcmp(argv[1], "--server") == 0) {
		addr = argv[2];
		i = 3;
	}
	if (i >= argc)
		return usage();
	if (rxsvc_srx_parse(&server, addr) < 0) {
		fprintf(stderr, PROG ": bad address %s\n", addr);
		return 2;
	}
	server.service_id = VL_SERVICE_ID;
	if (rxsvc_srx_parse(&p.local, "0.0.0.0:0") < 0 ||
	    (r = rxsvc_sock_open(&p, &sock)) < 0) {
		fprintf(stderr, PROG ": cannot open an endpoint\n");
		return 3;
	}
	if (strcmp(argv[i], "probe") == 0 && argc == i + 1)
		r = do_probe();
	else if (strcmp(argv[i], "newid") == 0 && argc <= i + 2)
		r = do_newid(argc == i + 2 ? (uint32_t)strtoul(argv[i + 1],
							       NULL, 0)
					   : 1);
	else if (strcmp(argv[i], "create") == 0 && argc == i + 5)
		r = do_create(argv[i + 1],
			      (uint32_t)strtoul(argv[i + 2], NULL, 0),
			      argv[i + 3], (int32_t)atoi(argv[i + 4]));
	else if (strcmp(argv[i], "get") == 0 && argc == i + 2)
		r = do_get(argv[i + 1]);
	else if (strcmp(argv[i], "list") == 0 && argc == i + 1)
		r = do_list();
	else
		r = usage();
	rxsvc_sock_close(sock);
	return r;
}
