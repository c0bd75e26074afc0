/* SPDX-License-Identifier: MIT */
/*
 * rxgen_oafs - the OpenAFS side of the rxgen interop test: a server and a
 * client of tests/interop/rxgen_test.xg built from rxgen's stubs and
 * OpenAFS's librx (libafsrpc).  Semantics in rxgen_test.xg.
 *
 *   rxgen_oafs server PORTFILE SERVICE   serve until SIGTERM
 *   rxgen_oafs client PORT SERVICE       call every procedure, check,
 *                                        print "ok", exit 0 (1: mismatch)
 */
#include <afs/param.h>
#include <rx/rx.h>
#include <rx/rx_null.h>
#include <rx/xdr.h>
#include <afs/rxgen_consts.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxgen_test.h"

#define PROG "rxgen_oafs"

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, PROG ": check failed: %s (line %d)\n", \
				#cond, __LINE__);                              \
			failures++;                                            \
		}                                                              \
	} while (0)

/* ---- server procedures (called by rxgen's server stubs) ---- */

afs_int32 STEST_Echo(struct rx_call *call, bag *in, bag *out)
{
	*out = *in;
	out->i = in->i + 1;
	/* Deep copies: the stub frees in and out separately. */
	out->name = strdup(in->name ? in->name : "");
	out->data.tblob_val = malloc(in->data.tblob_len + 1);
	memcpy(out->data.tblob_val, in->data.tblob_val, in->data.tblob_len);
	out->pts.tpoints_val =
		malloc((in->pts.tpoints_len + 1) * sizeof(point));
	memcpy(out->pts.tpoints_val, in->pts.tpoints_val,
	       in->pts.tpoints_len * sizeof(point));
	if (in->opt) {
		out->opt = malloc(sizeof(point));
		*out->opt = *in->opt;
	}
	return 0;
}

afs_int32 STEST_Add(struct rx_call *call, afs_int32 a, afs_int32 b,
		    afs_int32 *sum)
{
	*sum = a + b;
	return 0;
}

afs_int32 STEST_Fail(struct rx_call *call, afs_int32 code)
{
	return code;
}

afs_int32 STEST_Fetch(struct rx_call *call, afs_int32 n, afs_int32 *total)
{
	unsigned char *buf;

	if (n < 0 || n > (16 << 20))
		return RXGEN_SS_UNMARSHAL;
	buf = malloc((size_t)n + 1);
	if (rx_Read(call, (char *)buf, n) != n) {
		free(buf);
		return RXGEN_SS_UNMARSHAL;
	}
	*total = 0;
	for (afs_int32 i = 0; i < n; i++) {
		*total += buf[i];
		buf[i] ^= 0x5a;
	}
	if (rx_Write(call, (char *)buf, n) != n) {
		free(buf);
		return RX_CALL_DEAD;
	}
	free(buf);
	return 0;
}

static int serve(const char *port_file, int service)
{
	struct rx_securityClass *sec[1];
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	struct rx_service *svc;
	sigset_t set;
	FILE *f;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	alarm(600);
	if (rx_Init(0) != 0)
		return 1;
	if (getsockname(rx_socket, (struct sockaddr *)&sin, &slen) != 0)
		return 1;
	/* Services attach to rx_socket only when rx_port names it. */
	rx_port = sin.sin_port;
	sec[0] = rxnull_NewServerSecurityObject();
	svc = rx_NewService(0, (u_short)service, "rxgen_test", sec, 1,
			    TEST_ExecuteRequest);
	if (!svc)
		return 1;
	rx_SetMinProcs(svc, 2);
	rx_SetMaxProcs(svc, 4);
	rx_StartServer(0);
	f = fopen(port_file, "w");
	if (!f)
		return 1;
	fprintf(f, "%u\n", (unsigned)ntohs(sin.sin_port));
	fclose(f);
	sigwait(&set, &sig);
	return 0;
}

/* ---- client ---- */

static void sample(bag *b, point *pts, point *opt, char *blob)
{
	memset(b, 0, sizeof(*b));
	b->i = -123456;
	b->u = 0xdeadbeef;
	b->h = -0x123456789abLL;
	b->uh = 0xfedcba9876543210ULL;
	b->s = -300;
	b->us = 65000;
	b->ch = -5;
	b->flag = 1;
	b->c = BLUE;
	b->name = "rxgen interop";
	memcpy(b->fix, "ABCDE", 5);
	b->data.tblob_len = 7;
	b->data.tblob_val = blob;
	b->vec[0] = 1;
	b->vec[1] = -2;
	b->vec[2] = 3;
	pts[0].x = 10;
	pts[0].y = 20;
	pts[1].x = -30;
	pts[1].y = 40;
	b->pts.tpoints_len = 2;
	b->pts.tpoints_val = pts;
	opt->x = 7;
	opt->y = 8;
	b->opt = opt;
	b->sh.kind = 2;
	b->sh.shape_u.corner.x = 5;
	b->sh.shape_u.corner.y = 6;
}

static void check_echo(const bag *in, const bag *out)
{
	CHECK(out->i == in->i + 1);
	CHECK(out->u == in->u);
	CHECK(out->h == in->h);
	CHECK(out->uh == in->uh);
	CHECK(out->s == in->s);
	CHECK(out->us == in->us);
	CHECK(out->ch == in->ch);
	CHECK(out->flag == in->flag);
	CHECK(out->c == in->c);
	CHECK(out->name && strcmp(out->name, in->name) == 0);
	CHECK(memcmp(out->fix, in->fix, 5) == 0);
	CHECK(out->data.tblob_len == in->data.tblob_len &&
	      memcmp(out->data.tblob_val, in->data.tblob_val,
		     in->data.tblob_len) == 0);
	CHECK(memcmp(out->vec, in->vec, sizeof(in->vec)) == 0);
	CHECK(out->pts.tpoints_len == in->pts.tpoints_len &&
	      memcmp(out->pts.tpoints_val, in->pts.tpoints_val,
		     in->pts.tpoints_len * sizeof(point)) == 0);
	CHECK(!out->opt == !in->opt);
	if (out->opt && in->opt)
		CHECK(out->opt->x == in->opt->x && out->opt->y == in->opt->y);
	CHECK(out->sh.kind == in->sh.kind);
	if (in->sh.kind == 2)
		CHECK(out->sh.shape_u.corner.x == in->sh.shape_u.corner.x &&
		      out->sh.shape_u.corner.y == in->sh.shape_u.corner.y);
	if (in->sh.kind == 1)
		CHECK(out->sh.shape_u.radius == in->sh.shape_u.radius);
}

static void call_fetch(struct rx_connection *conn, afs_int32 n)
{
	struct rx_call *call = rx_NewCall(conn);
	unsigned char *buf = malloc((size_t)n + 1);
	afs_int32 total = 0, want = 0, code;

	for (afs_int32 i = 0; i < n; i++) {
		buf[i] = (unsigned char)(i * 3);
		want += buf[i];
	}
	code = StartTEST_Fetch(call, n);
	if (!code && rx_Write(call, (char *)buf, n) != n)
		code = rx_Error(call);
	if (!code && rx_Read(call, (char *)buf, n) != n)
		code = rx_Error(call) ? rx_Error(call) : RXGEN_CC_UNMARSHAL;
	for (afs_int32 i = 0; !code && i < n; i++)
		if (buf[i] != (unsigned char)((i * 3) ^ 0x5a)) {
			code = -1;
			break;
		}
	if (!code)
		code = EndTEST_Fetch(call, &total);
	code = rx_EndCall(call, code);
	CHECK(code == 0);
	CHECK(total == want);
	free(buf);
}

static int client(int port, int service)
{
	struct rx_securityClass *sc;
	struct rx_connection *conn;
	point pts[2], opt;
	char blob[] = "b\0l\xffob";
	bag in, out;
	afs_int32 sum = 0, code;

	if (rx_Init(0) != 0)
		return 2;
	sc = rxnull_NewClientSecurityObject();
	conn = rx_NewConnection(htonl(INADDR_LOOPBACK), htons((u_short)port),
				(u_short)service, sc, 0);

	sample(&in, pts, &opt, blob);
	memset(&out, 0, sizeof(out));
	code = TEST_Echo(conn, &in, &out);
	CHECK(code == 0);
	if (!code)
		check_echo(&in, &out);
	xdr_free((xdrproc_t)xdr_bag, &out);
	/* absent pointer, int arm, empty arrays */
	in.opt = NULL;
	in.sh.kind = 1;
	in.sh.shape_u.radius = -9;
	in.pts.tpoints_len = 0;
	in.data.tblob_len = 0;
	in.name = "";
	memset(&out, 0, sizeof(out));
	code = TEST_Echo(conn, &in, &out);
	CHECK(code == 0);
	if (!code)
		check_echo(&in, &out);
	xdr_free((xdrproc_t)xdr_bag, &out);
	/* a discriminant with no arm: default void */
	in.sh.kind = 77;
	memset(&out, 0, sizeof(out));
	code = TEST_Echo(conn, &in, &out);
	CHECK(code == 0 && out.sh.kind == 77);
	xdr_free((xdrproc_t)xdr_bag, &out);

	CHECK(TEST_Add(conn, 2, 40, &sum) == 0 && sum == 42);
	CHECK(TEST_Fail(conn, 1234) == 1234);
	CHECK(TEST_Fail(conn, 0) == 0);
	call_fetch(conn, 100000);
	call_fetch(conn, 0);
	rx_DestroyConnection(conn);
	if (failures)
		return 1;
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "server"))
		return serve(argv[2], atoi(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "client"))
		return client(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: " PROG
			" server PORTFILE SERVICE | client PORT SERVICE\n");
	return 2;
}
