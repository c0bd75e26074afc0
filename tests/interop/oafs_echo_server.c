/*
 * oafs_echo_server.c - an echo server on OpenAFS's own userspace Rx
 * (libafsrpc, pthread build), rxnull security, for interop tests: an
 * rxsvc client calls it and must get back exactly the bytes it sent.
 *
 *   oafs_echo_server [-p PORT] [-P PORTFILE] [-S SERVICE] [-m MAXBYTES]
 *                    [-T THREADS] [-t LIFETIME_SECS] [-u UDPBUF_KB] [-j] [-v]
 *
 * -p 0 (the default) binds an ephemeral port on 127.0.0.1's wildcard; the
 * port actually bound is written to PORTFILE (atomically, via a rename)
 * once the service is installed and the server threads run.  The reply of
 * a call is exactly its request: an Rx server cannot start the reply
 * before it has read the whole request (rx_Write on a server call ends its
 * receive phase), so the request is buffered, up to MAXBYTES (default
 * 256 MiB; larger requests are aborted with RX_MSGSIZE).
 *
 * -T caps the server threads (default 16), -u sets the socket buffers
 * (default 1024 KiB; 0 keeps OpenAFS's 64 KiB, which drops packets on
 * loopback as soon as a few calls run at once), -j turns jumbograms off,
 * -v logs a line per call on standard error.
 *
 * SIGTERM / SIGINT / SIGHUP: remove PORTFILE and exit 0.  A lifetime
 * (default 600 s, 0 = none) bounds a server whose test harness vanished.
 *
 * Our own code, written against the OpenAFS Rx headers (rx/rx.h).
 */
#include <afs/param.h>
#include <rx/rx.h>
#include <rx/rx_globals.h>
#include <rx/rx_null.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "oafs_echo_server"
#define READ_CHUNK (256 * 1024)
#define WRITE_CHUNK (1024 * 1024)
#define KEEP_BUFFER (4 * 1024 * 1024) /* per-thread buffer kept between calls */

static long long max_bytes = 256LL * 1024 * 1024;
static int verbose;
static volatile long ncalls;

static __thread char *tbuf;
static __thread size_t tcap;

static void usage(void)
{
    fprintf(stderr,
            "usage: " PROG " [-p PORT] [-P PORTFILE] [-S SERVICE] [-m MAXBYTES]\n"
            "         [-T THREADS] [-t LIFETIME_SECS] [-u UDPBUF_KB] [-j] [-v]\n");
    exit(2);
}

/* Make room for at least `need` bytes in this thread's buffer. */
static int reserve(size_t need)
{
    size_t cap;
    char *p;

    if (need <= tcap)
        return 0;
    cap = tcap ? tcap : 64 * 1024;
    while (cap < need)
        cap *= 2;
    p = realloc(tbuf, cap);
    if (!p)
        return -1;
    tbuf = p;
    tcap = cap;
    return 0;
}

static afs_int32 echo_call(struct rx_call *call)
{
    size_t len = 0, off;
    afs_int32 code = 0;
    long n = __sync_add_and_fetch(&ncalls, 1);

    /* Read the whole request. */
    for (;;) {
        int got;
        if ((long long)len >= max_bytes) {
            /* one byte more than allowed? */
            char probe;
            if (rx_Read(call, &probe, 1) == 1) {
                code = RX_MSGSIZE;
                goto out;
            }
            break;
        }
        size_t want = READ_CHUNK;
        if ((long long)(len + want) > max_bytes)
            want = (size_t)(max_bytes - (long long)len);
        if (reserve(len + want) != 0) {
            code = RX_MSGSIZE;
            goto out;
        }
        got = rx_Read(call, tbuf + len, (int)want);
        if (got < 0) {
            code = RX_PROTOCOL_ERROR;
            goto out;
        }
        len += (size_t)got;
        if ((size_t)got < want)
            break; /* end of request, or an error (checked below) */
    }
    code = rx_Error(call);
    if (code)
        goto out;

    /* Send it back. */
    for (off = 0; off < len;) {
        int k = len - off > WRITE_CHUNK ? WRITE_CHUNK : (int)(len - off);
        if (rx_Write(call, tbuf + off, k) != k) {
            code = rx_Error(call);
            if (!code)
                code = RX_CALL_DEAD;
            goto out;
        }
        off += (size_t)k;
    }

out:
    if (verbose) {
        struct rx_peer *peer = rx_PeerOf(rx_ConnectionOf(call));
        struct in_addr a;
        char host[INET_ADDRSTRLEN];
        a.s_addr = rx_HostOf(peer);
        if (!inet_ntop(AF_INET, &a, host, sizeof host))
            strcpy(host, "?");
        fprintf(stderr, PROG ": call %ld from %s:%u: %zu bytes, code %d\n", n,
                host, (unsigned)ntohs(rx_PortOf(peer)), len, (int)code);
    }
    if (tcap > KEEP_BUFFER) {
        free(tbuf);
        tbuf = NULL;
        tcap = 0;
    }
    return code;
}

static int write_port_file(const char *path, unsigned port)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 8);
    FILE *f;

    if (!tmp)
        return -1;
    snprintf(tmp, plen + 8, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (!f) {
        free(tmp);
        return -1;
    }
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0, service = 1, threads = 16, lifetime = 600, nojumbo = 0;
    int udpbuf = 1024 * 1024;
    int ch, sig;
    const char *port_file = NULL;
    struct rx_securityClass *sec[1];
    struct rx_service *svc;
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    sigset_t set;

    while ((ch = getopt(argc, argv, "p:P:S:m:T:t:u:jvh")) != -1) {
        switch (ch) {
        case 'p': port = atoi(optarg); break;
        case 'P': port_file = optarg; break;
        case 'S': service = atoi(optarg); break;
        case 'm': max_bytes = atoll(optarg); break;
        case 'T': threads = atoi(optarg); break;
        case 't': lifetime = atoi(optarg); break;
        case 'u': udpbuf = atoi(optarg) * 1024; break;
        case 'j': nojumbo = 1; break;
        case 'v': verbose = 1; break;
        default: usage();
        }
    }
    if (optind != argc || port < 0 || port > 65535 || service <= 0 ||
        service > 65535 || threads < 1 || max_bytes < 0)
        usage();

    /* Block the termination signals in every thread (Rx's threads inherit
     * this mask); the main thread takes them with sigwait.  SIGALRM keeps
     * its default action: the lifetime kills the process. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (lifetime > 0)
        alarm((unsigned)lifetime);

    if (udpbuf > 0)
        rx_SetUdpBufSize(udpbuf);
    if (rx_Init(htons((unsigned short)port)) != 0) {
        fprintf(stderr, PROG ": rx_Init failed on port %d\n", port);
        return 1;
    }
    if (getsockname(rx_socket, (struct sockaddr *)&sin, &slen) != 0) {
        fprintf(stderr, PROG ": getsockname: %s\n", strerror(errno));
        return 1;
    }
    /* With rx_Init(0) the socket got an ephemeral port, but Rx only
     * attaches services to rx_socket when rx_port names it. */
    rx_port = sin.sin_port;
    if (nojumbo)
        rx_SetNoJumbo();

    sec[0] = rxnull_NewServerSecurityObject();
    svc = rx_NewService(0, (u_short)service, "echo", sec, 1, echo_call);
    if (!svc) {
        fprintf(stderr, PROG ": rx_NewService failed\n");
        return 1;
    }
    rx_SetMinProcs(svc, 2 < threads ? 2 : threads);
    rx_SetMaxProcs(svc, threads);
    rx_StartServer(0);

    if (port_file && write_port_file(port_file, ntohs(sin.sin_port)) != 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", port_file,
                strerror(errno));
        return 1;
    }
    if (verbose)
        fprintf(stderr, PROG ": port %u service %d pid %d\n",
                (unsigned)ntohs(sin.sin_port), service, (int)getpid());

    for (;;) {
        if (sigwait(&set, &sig) == 0)
            break;
    }
    if (port_file)
        unlink(port_file);
    if (verbose)
        fprintf(stderr, PROG ": signal %d after %ld calls, exiting\n", sig,
                ncalls);
    fflush(stderr);
    _exit(0);
}
