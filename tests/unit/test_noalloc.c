/* SPDX-License-Identifier: MIT */
/*
 * test_noalloc - conventions §7: no allocator on the packet path.  A
 * client streams a large request to an in-process server; after warm-up
 * (pools grown, connection and calls set up) the engine must not call
 * malloc, calloc or realloc while megabytes move.  The engine's objects
 * are linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc so the
 * wrappers below see every allocation they make.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <CUnit/Basic.h>

#include <rxsvc/rxsvc.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static atomic_ulong nalloc;
static atomic_int measuring;

/* RXS_NOALLOC_TRAP=1: stop in a debugger at an allocation being counted. */
static void counted(void)
{
	atomic_fetch_add(&nalloc, 1);
	if (atomic_load(&measuring) && getenv("RXS_NOALLOC_TRAP"))
		__builtin_trap();
}

void *__wrap_malloc(size_t n)
{
	counted();
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
	counted();
	return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
	counted();
	return __real_realloc(p, n);
}

#define CHUNK   65536
#define WARM_MB 16
#define MEAS_MB 24

static struct rxsvc_call *srv_call;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void on_new_call(struct rxsvc_sock *sock, struct rxsvc_call *call,
			unsigned long id, void *arg)
{
	pthread_mutex_lock(&lock);
	srv_call = call;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* The server drains the request into one fixed buffer and replies. */
static void *server(void *arg)
{
	static uint8_t buf[CHUNK];
	struct rxsvc_call *call;
	struct iovec iov = { (void *)"ok", 2 };

	pthread_mutex_lock(&lock);
	while (!srv_call)
		pthread_cond_wait(&cond, &lock);
	call = srv_call;
	pthread_mutex_unlock(&lock);
	size_t total = 0;

	for (;;) {
		/* Warm-up: stop reading at the start and again half way
		 * through it, so the receive window fills and both pools
		 * grow to what a full window needs. */
		if (total == 0 || (total < (size_t)WARM_MB << 19 &&
				   total + sizeof(buf) >= (size_t)WARM_MB << 19))
			usleep(300000);
		unsigned int fl = 0;
		int32_t code;
		int n = rxsvc_call_recv(call, buf, sizeof(buf), &fl, &code);

		if (n < 0 || (fl & RXSVC_RECV_END))
			break;
		total += (size_t)n;
	}
	rxsvc_call_send(call, &iov, 1, 2, 0);
	rxsvc_call_wait(call, 10000);
	rxsvc_call_end(call);
	return NULL;
}

static void test_steady_state_transfer(void)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_sock *ssock, *csock;
	struct rxsvc_call *call;
	static uint8_t data[CHUNK];
	struct iovec iov = { data, CHUNK };
	unsigned long before, after;
	char reply[8];
	unsigned int fl = 0;
	int32_t code;
	pthread_t th;

	CU_ASSERT_FATAL(rxsvc_srx_parse(&sp.local, "127.0.0.1:0") == 0);
	CU_ASSERT_FATAL(rxsvc_sock_open(&sp, &ssock) == 0);
	CU_ASSERT_FATAL(rxsvc_sock_add_service(ssock, 1) == 0);
	CU_ASSERT_FATAL(rxsvc_sock_listen(ssock, 4) == 0);
	rxsvc_sock_set_accept(ssock, on_new_call, NULL, NULL);
	CU_ASSERT_FATAL(rxsvc_sock_charge(ssock, NULL, 1) == 0);
	CU_ASSERT_FATAL(rxsvc_sock_open(&sp, &csock) == 0);
	CU_ASSERT_FATAL(pthread_create(&th, NULL, server, NULL) == 0);

	rxsvc_sock_local(ssock, &cp.peer);
	cp.peer.service_id = 1;
	cp.user_call_id = 7;
	CU_ASSERT_FATAL(rxsvc_call_begin(csock, &cp, &call) == 0);
	memset(data, 0x5a, sizeof(data));
	for (int i = 0; i < WARM_MB * 16; i++)
		CU_ASSERT_FATAL(rxsvc_call_send(call, &iov, 1, CHUNK,
						RXSVC_SEND_MORE) == CHUNK);
	usleep(100000); /* let the pools settle */
	before = atomic_load(&nalloc);
	atomic_store(&measuring, 1);
	for (int i = 0; i < MEAS_MB * 16; i++)
		CU_ASSERT_FATAL(rxsvc_call_send(call, &iov, 1, CHUNK,
						RXSVC_SEND_MORE) == CHUNK);
	after = atomic_load(&nalloc);
	atomic_store(&measuring, 0);
	printf("\nallocations while %d MiB moved: %lu\n", MEAS_MB,
	       after - before);
	CU_ASSERT_EQUAL(after - before, 0);
	CU_ASSERT(rxsvc_call_send(call, &iov, 1, 0, 0) == 0);
	CU_ASSERT_EQUAL(rxsvc_call_recv(call, reply, sizeof(reply), &fl,
					&code),
			2);
	CU_ASSERT(fl & RXSVC_RECV_END);
	CU_ASSERT_EQUAL(rxsvc_call_wait(call, 10000),
			RXSVC_COMPLETE_SUCCEEDED);
	rxsvc_call_end(call);
	pthread_join(th, NULL);
	usleep(20000);
	rxsvc_sock_close(csock);
	rxsvc_sock_close(ssock);
}

int main(void)
{
	CU_pSuite s;
	unsigned int failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("noalloc", NULL, NULL);
	CU_add_test(s, "steady-state transfer allocates nothing",
		    test_steady_state_transfer);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
