/*
 * oafs_echo_client.c - an echo client on OpenAFS's own userspace Rx
 * (libafsrpc, pthread build), rxnull security, for interop tests: it calls
 * an echo service (rxsvcd's, or oafs_echo_server) and checks that every
 * reply is exactly its request.
 *
 *   oafs_echo_client [-s HOST] -p PORT [-S SERVICE] [-b BYTES] [-n CALLS]
 *                    [-c THREADS] [-f FILE] [-o FILE] [-t SECS] [-u UDPBUF_KB]
 *                    [-j] [-q]
 *
 * Each call sends BYTES (default 1000) of a deterministic pseudo-random
 * pattern (a different one per call), or the contents of -f FILE, reads
 * the whole reply and compares it with the request.  -c runs THREADS
 * threads at once, each making CALLS calls; threads share connections,
 * four calls (Rx's channels) per connection.  -o writes the last reply to
 * FILE (one thread only).  -u sets the socket buffers (default 1024 KiB;
 * 0 keeps OpenAFS's 64 KiB), -j turns jumbograms off, -q prints nothing
 * on success.
 *
 * Exit status: 0 every call came back byte-exact; 3 a call failed with an
 * Rx error or abort code (printed on standard output as "abort CODE");
 * 4 a reply differed from its request; 5 the -t alarm (default 120 s)
 * fired; 1 setup failure; 2 usage.
 *
 * Our own code, written against the OpenAFS Rx headers (rx/rx.h).
 */
#include <afs/param.h>
#include <rx/rx.h>
#include <rx/rx_globals.h>
#include <rx/rx_null.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PROG "oafs_echo_client"
#define WRITE_CHUNK (1024 * 1024)
#define SCRATCH (64 * 1024)

enum { EX_OK = 0, EX_SETUP = 1, EX_USAGE = 2, EX_ABORT = 3, EX_DIFF = 4,
       EX_TIMEOUT = 5 };

static long long nbytes = 1000;
static long ncalls = 1;
static int quiet;
static char *file_data; /* -f: the request of every call */
static const char *out_path;

struct worker {
    pthread_t tid;
    int index;
    struct rx_connection *conn;
    char *out, *in, *scratch;
    long ok;
    int status;      /* EX_* */
    afs_int32 code;  /* Rx error / abort code when status == EX_ABORT */
    long long got;   /* reply length of the failing / last call */
};

static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_alarm(int sig)
{
    static const char m[] = PROG ": timeout\n";
    (void)sig;
    if (write(2, m, sizeof m - 1) < 0) {
        /* nothing to do */
    }
    _exit(EX_TIMEOUT);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " [-s HOST] -p PORT [-S SERVICE] [-b BYTES] [-n CALLS]\n"
            "         [-c THREADS] [-f FILE] [-o FILE] [-t SECS] [-u UDPBUF_KB] [-j] [-q]\n");
    exit(EX_USAGE);
}

/* The request of call `seq` of thread `thread`: xorshift64* from a seed
 * that depends on both, so a reply crossed with another call's shows. */
static void fill_pattern(char *buf, long long n, int thread, long seq)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL ^ ((uint64_t)(thread + 1) << 40) ^
                 (uint64_t)(seq + 1) * 0xbf58476d1ce4e5b9ULL;
    long long i = 0;

    if (!x)
        x = 1;
    while (i < n) {
        uint64_t v;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        v = x * 0x2545f4914f6cdd1dULL;
        for (int k = 0; k < 8 && i < n; k++, i++, v >>= 8)
            buf[i] = (char)(v & 0xff);
    }
}

/* One call; returns EX_OK, EX_ABORT (w->code set) or EX_DIFF. */
static int one_call(struct worker *w, long seq)
{
    struct rx_call *call;
    const char *req;
    long long off, got = 0, extra = 0;
    int failed = 0, n;
    afs_int32 code;

    if (file_data)
        req = file_data;
    else {
        fill_pattern(w->out, nbytes, w->index, seq);
        req = w->out;
    }

    call = rx_NewCall(w->conn);
    for (off = 0; off < nbytes;) {
        int k = nbytes - off > WRITE_CHUNK ? WRITE_CHUNK : (int)(nbytes - off);
        if (rx_Write(call, (char *)req + off, k) != k) {
            failed = 1;
            break;
        }
        off += k;
    }
    /* The first rx_Read ends the request phase (flushes the last packet). */
    while (!failed && got < nbytes) {
        long long want = nbytes - got;
        n = rx_Read(call, w->in + got, want > INT32_MAX ? INT32_MAX : (int)want);
        if (n <= 0)
            break;
        got += n;
    }
    /* Anything beyond the request's length is an error too. */
    while (!failed && (n = rx_Read(call, w->scratch, SCRATCH)) > 0)
        extra += n;
    code = rx_EndCall(call, 0);
    w->got = got + extra;
    if (code) {
        w->code = code;
        return EX_ABORT;
    }
    if (failed || got != nbytes || extra || memcmp(w->in, req, (size_t)nbytes))
        return EX_DIFF;
    return EX_OK;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    long i;

    for (i = 0; i < ncalls; i++) {
        w->status = one_call(w, i);
        pthread_mutex_lock(&report_lock);
        if (w->status == EX_ABORT) {
            printf("abort %d\n", (int)w->code);
            fflush(stdout);
            fprintf(stderr, PROG ": thread %d call %ld: Rx error/abort code %d\n",
                    w->index, i + 1, (int)w->code);
        } else if (w->status == EX_DIFF) {
            long long j = 0;
            const char *req = file_data ? file_data : w->out;
            while (j < nbytes && j < w->got && w->in[j] == req[j])
                j++;
            fprintf(stderr, PROG ": thread %d call %ld: reply of %lld bytes "
                            "differs from the %lld-byte request (first "
                            "difference at byte %lld)\n",
                    w->index, i + 1, w->got, nbytes, j);
        }
        pthread_mutex_unlock(&report_lock);
        if (w->status != EX_OK)
            break;
        w->ok++;
    }
    return NULL;
}

static char *slurp(const char *path, long long *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;

    if (!f || fstat(fileno(f), &st) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
        exit(EX_SETUP);
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        fprintf(stderr, PROG ": cannot read %s\n", path);
        exit(EX_SETUP);
    }
    fclose(f);
    *len = st.st_size;
    return buf;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *in_path = NULL;
    int port = -1, service = 1, threads = 1, timeout = 120, nojumbo = 0;
    int udpbuf = 1024 * 1024;
    int ch, i, nconns, status = EX_OK;
    struct rx_securityClass *sc;
    struct rx_connection **conns;
    struct worker *w;
    struct in_addr a;
    long ok = 0;
    double t0, el;

    while ((ch = getopt(argc, argv, "s:p:S:b:n:c:f:o:t:u:jqh")) != -1) {
        switch (ch) {
        case 's': host = optarg; break;
        case 'p': port = atoi(optarg); break;
        case 'S': service = atoi(optarg); break;
        case 'b': nbytes = atoll(optarg); break;
        case 'n': ncalls = atol(optarg); break;
        case 'c': threads = atoi(optarg); break;
        case 'f': in_path = optarg; break;
        case 'o': out_path = optarg; break;
        case 't': timeout = atoi(optarg); break;
        case 'u': udpbuf = atoi(optarg) * 1024; break;
        case 'j': nojumbo = 1; break;
        case 'q': quiet = 1; break;
        default: usage();
        }
    }
    if (optind != argc || port <= 0 || port > 65535 || service <= 0 ||
        service > 65535 || nbytes < 0 || ncalls < 1 || threads < 1 ||
        threads > 1000 || (out_path && threads != 1))
        usage();
    if (inet_pton(AF_INET, host, &a) != 1) {
        fprintf(stderr, PROG ": %s: a numeric IPv4 address is wanted\n", host);
        return EX_USAGE;
    }
    signal(SIGALRM, on_alarm);
    signal(SIGPIPE, SIG_IGN);
    if (timeout > 0)
        alarm((unsigned)timeout);
    if (in_path)
        file_data = slurp(in_path, &nbytes);

    if (udpbuf > 0)
        rx_SetUdpBufSize(udpbuf);
    if (rx_Init(0) != 0) {
        fprintf(stderr, PROG ": rx_Init failed\n");
        return EX_SETUP;
    }
    if (nojumbo)
        rx_SetNoJumbo();
    sc = rxnull_NewClientSecurityObject();
    nconns = (threads + RX_MAXCALLS - 1) / RX_MAXCALLS;
    conns = calloc((size_t)nconns, sizeof *conns);
    w = calloc((size_t)threads, sizeof *w);
    if (!conns || !w)
        return EX_SETUP;
    for (i = 0; i < nconns; i++) {
        conns[i] = rx_NewConnection(a.s_addr, htons((unsigned short)port),
                                    (u_short)service, sc, 0);
        if (!conns[i]) {
            fprintf(stderr, PROG ": rx_NewConnection failed\n");
            return EX_SETUP;
        }
    }
    for (i = 0; i < threads; i++) {
        w[i].index = i;
        w[i].conn = conns[i / RX_MAXCALLS];
        w[i].out = file_data ? NULL : malloc((size_t)nbytes + 1);
        w[i].in = malloc((size_t)nbytes + 1);
        w[i].scratch = malloc(SCRATCH);
        if ((!file_data && !w[i].out) || !w[i].in || !w[i].scratch) {
            fprintf(stderr, PROG ": out of memory\n");
            return EX_SETUP;
        }
    }

    t0 = now();
    if (threads == 1)
        worker_main(&w[0]);
    else
        for (i = 0; i < threads; i++) {
            pthread_attr_t at;
            pthread_attr_init(&at);
            pthread_attr_setstacksize(&at, 256 * 1024);
            if (pthread_create(&w[i].tid, &at, worker_main, &w[i]) != 0) {
                fprintf(stderr, PROG ": pthread_create failed\n");
                return EX_SETUP;
            }
            pthread_attr_destroy(&at);
        }
    if (threads > 1)
        for (i = 0; i < threads; i++)
            pthread_join(w[i].tid, NULL);
    el = now() - t0;

    for (i = 0; i < threads; i++) {
        ok += w[i].ok;
        /* an abort outranks a wrong reply */
        if (w[i].status == EX_ABORT ||
            (w[i].status != EX_OK && status == EX_OK))
            status = w[i].status;
    }
    if (out_path && w[0].got >= 0) {
        FILE *f = fopen(out_path, "wb");
        size_t len = (size_t)(w[0].got < nbytes ? w[0].got : nbytes);
        if (!f || fwrite(w[0].in, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, PROG ": cannot write %s\n", out_path);
            if (status == EX_OK)
                status = EX_SETUP;
        }
    }
    if (!quiet || status != EX_OK) {
        if (el <= 0)
            el = 1e-9;
        printf(PROG ": %s:%d service %d: %ld/%ld calls ok, %lld bytes each "
                    "way per call, %d thread(s), %.3f s, %.1f calls/s, "
                    "%.2f MB/s each way\n",
               host, port, service, ok, ncalls * threads, nbytes, threads, el,
               ok / el, (double)nbytes * ok / el / 1e6);
    }
    fflush(stdout);
    fflush(stderr);
    /* Not rx_Finalize: it would wait for other threads' calls and can
     * block on a peer that stopped answering. */
    _exit(status);
}
