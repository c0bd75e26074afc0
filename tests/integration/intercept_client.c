/* SPDX-License-Identifier: MIT */
/*
 * intercept_client - the interceptor style of the API (the original
 * kernel interface's marks) against an echo server: DATA marks arrive in
 * order with their payload, the last one flagged, each released with
 * rxsvc_msg_data_consumed(); a call to an unserved service gets a
 * REMOTE_ABORT mark with RX_INVALID_OPERATION.
 *
 *   intercept_client ADDR:PORT BYTES
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rxsvc/rxsvc.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint8_t *got;
static size_t got_len, want_len;
static int saw_last, marks_after_last, terminal, bad_order;
static int32_t terminal_code;
static enum rxsvc_mark terminal_mark;
static uint32_t next_seq = 1;

static void on_msg(struct rxsvc_sock *sock, struct rxsvc_call *call,
		   const struct rxsvc_msg *msg, void *arg)
{
	pthread_mutex_lock(&lock);
	switch (msg->mark) {
	case RXSVC_MARK_DATA:
		if (saw_last)
			marks_after_last++;
		if (msg->seq != next_seq++)
			bad_order++;
		if (got_len + msg->len <= want_len)
			memcpy(got + got_len, msg->data, msg->len);
		got_len += msg->len;
		if (msg->is_data_last)
			saw_last = 1;
		/* Released at once here; any thread may do it later. */
		rxsvc_msg_data_consumed(call, msg);
		break;
	case RXSVC_MARK_FINAL_ACK:
	case RXSVC_MARK_BUSY:
	case RXSVC_MARK_REMOTE_ABORT:
	case RXSVC_MARK_LOCAL_ABORT:
	case RXSVC_MARK_NET_ERROR:
	case RXSVC_MARK_LOCAL_ERROR:
	case RXSVC_MARK_NEW_CALL:
		terminal = 1;
		terminal_mark = msg->mark;
		terminal_code = msg->abort_code;
		break;
	}
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

static struct rxsvc_call *start(struct rxsvc_sock *sock,
				struct rxsvc_call_params *cp, uint8_t *req,
				size_t len)
{
	struct iovec iov = { req, len };
	struct rxsvc_call *call;

	if (rxsvc_call_begin(sock, cp, &call) < 0)
		exit(1);
	if (rxsvc_call_send(call, &iov, 1, len, 0) < 0)
		exit(1);
	return call;
}

int main(int argc, char **argv)
{
	struct rxsvc_sock_params sp = RXSVC_SOCK_PARAMS_INIT;
	struct rxsvc_call_params cp = RXSVC_CALL_PARAMS_INIT;
	struct rxsvc_sock *sock;
	struct rxsvc_call *call;
	uint8_t *req;
	int fails = 0;

	if (argc != 3 || rxsvc_srx_parse(&cp.peer, argv[1]) < 0)
		return 2;
	want_len = strtoul(argv[2], NULL, 10);
	req = malloc(want_len + 16); /* the second call sends 10 */
	got = malloc(want_len + 1);
	for (size_t i = 0; i < want_len; i++)
		req[i] = (uint8_t)(i * 7 + 3);
	sp.local.addr.sa.sa_family = cp.peer.addr.sa.sa_family;
	sp.local.addrlen = cp.peer.addrlen;
	if (rxsvc_sock_open(&sp, &sock) < 0)
		return 1;
	rxsvc_sock_set_interceptor(sock, on_msg, NULL);

	cp.peer.service_id = 1;
	cp.user_call_id = 1;
	call = start(sock, &cp, req, want_len);
	pthread_mutex_lock(&lock);
	while (!saw_last && !terminal)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	if (rxsvc_call_wait(call, 10000) != RXSVC_COMPLETE_SUCCEEDED) {
		fprintf(stderr, "echo call: %s\n",
			rxsvc_completion_name(rxsvc_call_completion(call)));
		fails++;
	}
	if (got_len != want_len || memcmp(got, req, want_len)) {
		fprintf(stderr, "echo: got %zu of %zu bytes or wrong bytes\n",
			got_len, want_len);
		fails++;
	}
	if (bad_order || marks_after_last || !saw_last) {
		fprintf(stderr, "marks: order %d, after last %d, last %d\n",
			bad_order, marks_after_last, saw_last);
		fails++;
	}
	rxsvc_call_end(call);

	/* Nobody serves 999: a REMOTE_ABORT mark with -2. */
	cp.peer.service_id = 999;
	cp.user_call_id = 2;
	call = start(sock, &cp, req, 10);
	pthread_mutex_lock(&lock);
	while (!terminal)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	if (terminal_mark != RXSVC_MARK_REMOTE_ABORT ||
	    terminal_code != RX_INVALID_OPERATION) {
		fprintf(stderr, "unknown service: mark %d code %d\n",
			terminal_mark, terminal_code);
		fails++;
	}
	rxsvc_call_end(call);
	usleep(20000);
	rxsvc_sock_close(sock);
	free(req);
	free(got);
	printf("intercept: %s\n", fails ? "FAILED" : "ok");
	return fails ? 1 : 0;
}
