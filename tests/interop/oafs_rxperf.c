/* SPDX-License-Identifier: MIT */
/*
 * oafs_rxperf - an rxperf server and client (service 147) on OpenAFS's own
 * userspace Rx (libafsrpc, pthread build), for interop tests and bench/.
 * Wire protocol: rx-protocol.md §9 (and cmd/rxperf.c's header comment).
 *
 *   oafs_rxperf server [-p PORT] [-P PORTFILE] [-T THREADS] [-t LIFETIME]
 *                      [-u UDPBUF_KB] [-W WINDOW] [-H] [-v]
 *                      [-k none|clear|auth|crypt] [-K HEXKEY]
 *   oafs_rxperf client -c rpc|send|recv|file [-s HOST] [-p PORT]
 *                      [-S SENDBYTES] [-R RECVBYTES] [-b BYTES] [-n CALLS]
 *                      [-T THREADS] [-t LIFETIME] [-u UDPBUF_KB] [-W WINDOW]
 *                      [-H] [-q] [-k none|clear|auth|crypt] [-K HEXKEY]
 *                      [-V KVNO]
 *
 * -k: rxkad.  The server then also offers rxkad with that minimum level
 * (and keeps rxnull) with the service key -K (8 bytes in hex, default
 * a7838acbc783ec94, Linux rxperf's); the client mints its own ticket with
 * that key (kvno -V, default 1), as OpenAFS's tkt_MakeTicket does.
 *
 * The client checks every reply (length and cookie), prints one summary
 * line "op=... calls=N failed=N elapsed=S calls_per_sec=X mb_per_sec=Y
 * lat_us_p50=..." and exits 0 only if every call succeeded.  For FILE it
 * writes SENDBYTES then reads RECVBYTES (word list [S/4, 0, R/4]).
 *
 * The server answers errors with Linux's codes, as rxsvcd does: bad
 * version RX_USER_ABORT, short request RXGEN_SS_UNMARSHAL, unknown opcode
 * RXGEN_OPCODE.  Reachability checks stay off (a PING per new call).
 */
#include <afs/param.h>
#include <rx/rx.h>
#include <rx/rx_null.h>
#include <rx/rx_globals.h>
#include <rx/rxkad.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROG "oafs_rxperf"
#define SERVICE 147
#define VERSION 3
#define OP_SEND 0
#define OP_RECV 1
#define OP_RPC 3
#define OP_FILE 4
#define COOKIE 0x4711
#define CHUNK (256 * 1024)
#define MAX_WORDS 65536

#ifndef RXGEN_OPCODE
#define RXGEN_OPCODE (-455)
#endif
#ifndef RXGEN_SS_UNMARSHAL
#define RXGEN_SS_UNMARSHAL (-453)
#endif

static char zero_buf[CHUNK];
static int verbose;

static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Move @n bytes in or out of the call, in chunks; 0 or -1. */
static int pull(struct rx_call *call, unsigned long long n, char *buf)
{
    while (n > 0) {
        int k = n < CHUNK ? (int)n : CHUNK;

        if (rx_Read(call, buf, k) != k)
            return -1;
        n -= (unsigned long long)k;
    }
    return 0;
}

static int push(struct rx_call *call, unsigned long long n)
{
    while (n > 0) {
        int k = n < CHUNK ? (int)n : CHUNK;

        if (rx_Write(call, zero_buf, k) != k)
            return -1;
        n -= (unsigned long long)k;
    }
    return 0;
}

static int get32(struct rx_call *call, uint32_t *v)
{
    uint32_t x;

    if (rx_Read(call, (char *)&x, 4) != 4)
        return -1;
    *v = ntohl(x);
    return 0;
}

static int put32(struct rx_call *call, uint32_t v)
{
    uint32_t x = htonl(v);

    return rx_Write(call, (char *)&x, 4) == 4 ? 0 : -1;
}

/* ---- server ---- */

static __thread char *sbuf;

static afs_int32 serve_file(struct rx_call *call)
{
    uint32_t n, i, *w;
    int reading = 1;
    afs_int32 code = 0;

    if (get32(call, &n) || n > MAX_WORDS)
        return RXGEN_SS_UNMARSHAL;
    w = calloc(n + 1, sizeof(*w));
    if (!w)
        return RX_CALL_DEAD;
    for (i = 0; i < n && !code; i++)
        if (get32(call, &w[i]))
            code = RXGEN_SS_UNMARSHAL;
    for (i = 0; i < n && !code; i++) {
        unsigned long long bytes = (unsigned long long)w[i] * 4;

        if (w[i] == 0)
            reading = !reading;
        else if (reading ? pull(call, bytes, sbuf) : push(call, bytes))
            code = reading ? RXGEN_SS_UNMARSHAL : RX_CALL_DEAD;
    }
    free(w);
    return code;
}

static afs_int32 serve(struct rx_call *call)
{
    uint32_t hdr[4], a = 0, b = 0;

    if (!sbuf && !(sbuf = malloc(CHUNK)))
        return RX_CALL_DEAD;
    if (rx_Read(call, (char *)hdr, sizeof(hdr)) != sizeof(hdr))
        return RXGEN_SS_UNMARSHAL;
    if (ntohl(hdr[0]) != VERSION)
        return RX_USER_ABORT;
    switch (ntohl(hdr[1])) {
    case OP_SEND:
        if (get32(call, &a) || pull(call, a, sbuf))
            return RXGEN_SS_UNMARSHAL;
        break;
    case OP_RECV:
        if (get32(call, &b))
            return RXGEN_SS_UNMARSHAL;
        break;
    case OP_RPC:
        if (get32(call, &a) || get32(call, &b) || pull(call, a, sbuf))
            return RXGEN_SS_UNMARSHAL;
        break;
    case OP_FILE:
        return serve_file(call);
    default:
        return RXGEN_OPCODE;
    }
    if (push(call, b) || put32(call, COOKIE))
        return RX_CALL_DEAD;
    return 0;
}

static int write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

static void tune(int udpbuf_kb, int window, int hot)
{
    if (hot)
        rx_EnableHotThread();
    if (udpbuf_kb > 0)
        rx_SetUdpBufSize(udpbuf_kb * 1024);
    (void)window; /* applied after rx_Init */
}

static void tune_post(int window)
{
    if (window > 0) {
        rx_SetMaxReceiveWindow(window);
        rx_SetMaxSendWindow(window);
    }
}

static unsigned char service_key[8] = { 0xa7, 0x83, 0x8a, 0xcb,
					 0xc7, 0x83, 0xec, 0x94 };

/* -k LEVEL: -1 for none (rxnull), else an rxkad level. */
static int parse_level(const char *s)
{
	if (!strcmp(s, "none"))
		return -1;
	if (!strcmp(s, "clear"))
		return rxkad_clear;
	if (!strcmp(s, "auth"))
		return rxkad_auth;
	if (!strcmp(s, "crypt"))
		return rxkad_crypt;
	fprintf(stderr, PROG ": bad level %s\n", s);
	exit(2);
}

static void parse_key(const char *s)
{
	for (int i = 0; i < 8; i++) {
		unsigned int v;

		if (strlen(s) != 16 || sscanf(s + 2 * i, "%2x", &v) != 1) {
			fprintf(stderr, PROG ": bad key %s\n", s);
			exit(2);
		}
		service_key[i] = (unsigned char)v;
	}
}

static int get_key(void *rock, int kvno, struct ktc_encryptionKey *key)
{
	(void)rock;
	(void)kvno;
	memcpy(key->data, service_key, 8);
	return 0;
}

static int do_server(int argc, char **argv)
{
    int port = 0, threads = 16, lifetime = 600, udpbuf = 1024, window = 0;
    int hot = 0, ch, sig, level = -1;
    const char *port_file = NULL;
    struct rx_securityClass *sec[3];
    struct rx_service *svc;
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    sigset_t set;

    while ((ch = getopt(argc, argv, "p:P:T:t:u:W:Hvk:K:")) != -1) {
        switch (ch) {
        case 'k': level = parse_level(optarg); break;
        case 'K': parse_key(optarg); break;
        case 'p': port = atoi(optarg); break;
        case 'P': port_file = optarg; break;
        case 'T': threads = atoi(optarg); break;
        case 't': lifetime = atoi(optarg); break;
        case 'u': udpbuf = atoi(optarg); break;
        case 'W': window = atoi(optarg); break;
        case 'H': hot = 1; break;
        case 'v': verbose = 1; break;
        default:
            fprintf(stderr, "usage: " PROG " server [-p PORT] [-P PORTFILE] "
                    "[-T THREADS] [-t LIFETIME] [-u UDPBUF_KB] [-W WINDOW] "
                    "[-H] [-v]\n");
            return 2;
        }
    }
    if (port < 0 || port > 65535 || threads < 1)
        return 2;
    /* Termination signals go to sigwait in this thread; SIGALRM (the
     * lifetime) keeps its default action and kills the process. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (lifetime > 0)
        alarm((unsigned)lifetime);
    tune(udpbuf, window, hot);
    if (rx_Init(htons((unsigned short)port)) != 0) {
        fprintf(stderr, PROG ": rx_Init failed on port %d\n", port);
        return 1;
    }
    tune_post(window);
    if (getsockname(rx_socket, (struct sockaddr *)&sin, &slen) != 0)
        return 1;
    /* rx_Init(0) bound an ephemeral port; services attach to rx_port. */
    rx_port = sin.sin_port;
    sec[0] = rxnull_NewServerSecurityObject();
    sec[1] = NULL;
    sec[2] = level < 0 ? NULL :
        rxkad_NewServerSecurityObject((rxkad_level)level, NULL, get_key,
                                      NULL);
    svc = rx_NewService(0, SERVICE, "rxperf", sec, level < 0 ? 1 : 3,
                        serve);
    if (!svc)
        return 1;
    rx_SetMinProcs(svc, threads < 2 ? threads : 2);
    rx_SetMaxProcs(svc, threads);
    rx_StartServer(0);
    if (port_file && write_port_file(port_file, ntohs(sin.sin_port)) != 0) {
        fprintf(stderr, PROG ": cannot write %s\n", port_file);
        return 1;
    }
    if (verbose)
        fprintf(stderr, PROG ": server on port %u pid %d\n",
                (unsigned)ntohs(sin.sin_port), (int)getpid());
    while (sigwait(&set, &sig) != 0)
        ;
    if (port_file)
        unlink(port_file);
    _exit(0);
}

/* ---- client ---- */

struct job {
    int op;
    unsigned long long send, recv;
    long calls;
};

struct worker {
    pthread_t tid;
    struct rx_connection *conn;
    const struct job *job;
    long ncalls, ok, failed;
    afs_int32 first_code;
    float *lat;
    char *buf;
};

static afs_int32 one_call(struct worker *w)
{
    const struct job *j = w->job;
    struct rx_call *call = rx_NewCall(w->conn);
    uint32_t msg[8], words[3], cookie = 0;
    int nw = 4, nwords = 0, i, bad = 0;
    afs_int32 code;

    msg[0] = htonl(VERSION);
    msg[1] = htonl((uint32_t)j->op);
    msg[2] = htonl(CHUNK);
    msg[3] = htonl(CHUNK);
    switch (j->op) {
    case OP_SEND: msg[nw++] = htonl((uint32_t)j->send); break;
    case OP_RECV: msg[nw++] = htonl((uint32_t)j->recv); break;
    case OP_RPC:
        msg[nw++] = htonl((uint32_t)j->send);
        msg[nw++] = htonl((uint32_t)j->recv);
        break;
    case OP_FILE:
        if (j->send)
            words[nwords++] = htonl((uint32_t)(j->send / 4));
        if (j->recv) {
            words[nwords++] = 0;
            words[nwords++] = htonl((uint32_t)(j->recv / 4));
        }
        msg[nw++] = htonl((uint32_t)nwords);
        for (i = 0; i < nwords; i++)
            msg[nw++] = words[i];
        break;
    }
    if (rx_Write(call, (char *)msg, nw * 4) != nw * 4)
        bad = 1;
    if (!bad && j->op != OP_RECV && push(call, j->send))
        bad = 1;
    if (!bad && j->op != OP_SEND && pull(call, j->recv, w->buf))
        bad = 1;
    if (!bad && j->op != OP_FILE &&
        (rx_Read(call, (char *)&cookie, 4) != 4 || ntohl(cookie) != COOKIE))
        bad = 1;
    /* nothing may follow */
    if (!bad && rx_Read(call, w->buf, 1) != 0)
        bad = 1;
    code = rx_EndCall(call, 0);
    return code ? code : bad ? RX_PROTOCOL_ERROR : 0;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    for (long i = 0; i < w->ncalls; i++) {
        double t0 = now_sec();
        afs_int32 code = one_call(w);

        if (code) {
            if (!w->first_code)
                w->first_code = code;
            w->failed++;
            continue;
        }
        w->lat[w->ok++] = (float)((now_sec() - t0) * 1e6);
    }
    return NULL;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;

    return x < y ? -1 : x > y;
}

static int parse_op(const char *s)
{
    if (!strcmp(s, "send")) return OP_SEND;
    if (!strcmp(s, "recv")) return OP_RECV;
    if (!strcmp(s, "rpc")) return OP_RPC;
    if (!strcmp(s, "file")) return OP_FILE;
    return -1;
}

static void client_usage(void)
{
    fprintf(stderr, "usage: " PROG " client -c rpc|send|recv|file [-s HOST] "
            "[-p PORT] [-S SENDBYTES] [-R RECVBYTES] [-b BYTES] [-n CALLS] "
            "[-T THREADS] [-t LIFETIME] [-u UDPBUF_KB] [-W WINDOW] [-H] [-q]\n");
    exit(2);
}

static void report(const char *opname, const struct job *j, struct worker *w,
                   int threads, double el)
{
    long ok = 0, failed = 0, k = 0;
    afs_int32 code = 0;
    float *all;

    for (int i = 0; i < threads; i++) {
        ok += w[i].ok;
        failed += w[i].failed;
        if (!code)
            code = w[i].first_code;
    }
    all = malloc((size_t)(ok + 1) * sizeof(float));
    for (int i = 0; all && i < threads; i++) {
        memcpy(all + k, w[i].lat, (size_t)w[i].ok * sizeof(float));
        k += w[i].ok;
    }
    if (!all)
        exit(1);
    qsort(all, (size_t)ok, sizeof(float), cmp_float);
    if (el <= 0)
        el = 1e-9;
    printf("op=%s threads=%d calls=%ld failed=%ld first_code=%d send=%llu "
           "recv=%llu elapsed=%.3f calls_per_sec=%.1f mb_per_sec=%.3f "
           "lat_us_p50=%.1f lat_us_p90=%.1f lat_us_p99=%.1f lat_us_max=%.1f\n",
           opname, threads, ok, failed, (int)code, j->send, j->recv, el,
           (double)ok / el, (double)(j->send + j->recv) * (double)ok / el / 1e6,
           ok ? all[ok / 2] : 0, ok ? all[ok * 9 / 10] : 0,
           ok ? all[ok * 99 / 100] : 0, ok ? all[ok - 1] : 0);
    fflush(stdout);
    free(all);
}

static int do_client(int argc, char **argv)
{
    struct job j = { .op = -1, .send = 4, .recv = 4, .calls = 1 };
    const char *host = "127.0.0.1", *opname = "?";
    int port = 7009, threads = 1, lifetime = 600, udpbuf = 1024, window = 0;
    int hot = 0, ch, have_b = 0, level = -1, kvno = 1, secidx = 0;
    struct addrinfo hints = { .ai_family = AF_INET,
                              .ai_socktype = SOCK_DGRAM }, *ai;
    struct sockaddr_in *sin;
    struct rx_securityClass *sec;
    struct rx_connection **conns;
    struct worker *w;
    afs_uint32 addr;
    double t0, el;
    long failed = 0;

    while ((ch = getopt(argc, argv, "c:s:p:S:R:b:n:T:t:u:W:Hqk:K:V:")) != -1) {
        switch (ch) {
        case 'k': level = parse_level(optarg); break;
        case 'K': parse_key(optarg); break;
        case 'V': kvno = atoi(optarg); break;
        case 'c': opname = optarg; j.op = parse_op(optarg); break;
        case 's': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'S': j.send = strtoull(optarg, NULL, 0); break;
        case 'R': j.recv = strtoull(optarg, NULL, 0); break;
        case 'b': j.send = j.recv = strtoull(optarg, NULL, 0); have_b = 1; break;
        case 'n': j.calls = atol(optarg); break;
        case 'T': threads = atoi(optarg); break;
        case 't': lifetime = atoi(optarg); break;
        case 'u': udpbuf = atoi(optarg); break;
        case 'W': window = atoi(optarg); break;
        case 'H': hot = 1; break;
        case 'q': break;
        default: client_usage();
        }
    }
    if (optind != argc || j.op < 0 || threads < 1 || j.calls < 1 ||
        j.send > 0xffffffffULL || j.recv > 0xffffffffULL ||
        (j.op == OP_FILE && (j.send % 4 || j.recv % 4)))
        client_usage();
    if (j.op == OP_SEND)
        j.recv = 0;
    if (j.op == OP_RECV)
        j.send = 0;
    (void)have_b;
    if (lifetime > 0)
        alarm((unsigned)lifetime);
    if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
        fprintf(stderr, PROG ": cannot resolve %s\n", host);
        return 1;
    }
    sin = (struct sockaddr_in *)ai->ai_addr;
    addr = sin->sin_addr.s_addr;
    freeaddrinfo(ai);
    tune(udpbuf, window, hot);
    if (rx_Init(0) != 0)
        return 1;
    tune_post(window);
    if (level < 0) {
        sec = rxnull_NewClientSecurityObject();
    } else {
        /* A ticket of our own, sealed with the service key. */
        struct ktc_encryptionKey skey, session = {
            { 0x10, 0x32, 0x54, 0x76, 0x98, (char)0xba, (char)0xdc,
              (char)0xfe } };
        char ticket[MAXKTCTICKETLEN];
        int len = sizeof(ticket);
        afs_uint32 t = (afs_uint32)time(NULL);

        memcpy(skey.data, service_key, 8);
        if (tkt_MakeTicket(ticket, &len, &skey, "oafsperf", "", "",
                           t - 60, t + 3600, &session, 0, "afs", "") != 0) {
            fprintf(stderr, PROG ": tkt_MakeTicket failed\n");
            return 1;
        }
        sec = rxkad_NewClientSecurityObject((rxkad_level)level, &session,
                                            kvno, len, ticket);
        secidx = 2;
    }
    /* one connection per 4 threads: each uses its own channel */
    conns = calloc((size_t)(threads + 3) / 4, sizeof(*conns));
    w = calloc((size_t)threads, sizeof(*w));
    if (!conns || !w)
        return 1;
    for (int i = 0; i < (threads + 3) / 4; i++)
        conns[i] = rx_NewConnection(addr, htons((unsigned short)port),
                                    SERVICE, sec, secidx);
    for (int i = 0; i < threads; i++) {
        w[i].conn = conns[i / 4];
        w[i].job = &j;
        w[i].ncalls = j.calls / threads + (i < j.calls % threads);
        w[i].lat = calloc((size_t)w[i].ncalls + 1, sizeof(float));
        w[i].buf = malloc(CHUNK);
        if (!w[i].lat || !w[i].buf)
            return 1;
    }
    t0 = now_sec();
    for (int i = 0; i < threads; i++)
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
            return 1;
    for (int i = 0; i < threads; i++)
        pthread_join(w[i].tid, NULL);
    el = now_sec() - t0;
    report(opname, &j, w, threads, el);
    for (int i = 0; i < threads; i++)
        failed += w[i].failed;
    /* rx_Finalize would wait for connection teardown; not needed here. */
    _exit(failed ? 1 : 0);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && !strcmp(argv[1], "server"))
        return do_server(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "client"))
        return do_client(argc - 1, argv + 1);
    fprintf(stderr, "usage: " PROG " server|client ...\n");
    return 2;
}
