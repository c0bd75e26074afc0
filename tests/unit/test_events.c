/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the connector core (events/bus.c, events/policy.c):
 * callbacks by id, -EEXIST, -ESRCH, listeners, reply matching, id
 * notices, the MTU, both built-in policies and a custom ops table.
 * In-process only: no socket, no thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "events/internal.h"

struct rec {
	int calls;
	uint32_t last_seq;
	struct rxsvc_cn_src src;
	uint8_t data[64];
	size_t len;
};

static void rec_cb(const struct rxsvc_cn_msg *msg,
		   const struct rxsvc_cn_src *src, void *arg)
{
	struct rec *r = arg;

	r->calls++;
	r->last_seq = msg->seq;
	r->src = *src;
	r->len = msg->len < sizeof(r->data) ? msg->len : sizeof(r->data);
	memcpy(r->data, msg->data, r->len);
}

static struct rxsvc_bus *open_bus(const struct rxsvc_bus_policy_ops *pol)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus = NULL;

	p.policy = pol;
	p.mtu = 128;
	p.pool = 16;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	return bus;
}

static struct rxsvc_cn_msg *mkmsg(uint32_t idx, uint32_t val, uint32_t seq,
				  const char *data)
{
	size_t len = strlen(data);
	struct rxsvc_cn_msg *m = calloc(1, sizeof(*m) + len);

	m->id.idx = idx;
	m->id.val = val;
	m->seq = seq;
	m->len = (uint16_t)len;
	memcpy(m->data, data, len);
	return m;
}

static void test_callback_add_del(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cb_id id = { 7, 1 };
	struct rxsvc_cn_msg *m = mkmsg(7, 1, 42, "hi");
	struct rec r = { 0 };

	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "seven", rec_cb, &r), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "again", rec_cb, &r),
			-EEXIST);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, RXSVC_EV_GROUP_NONE, 0), 0);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.last_seq, 42);
	CU_ASSERT_EQUAL(r.len, 2);
	CU_ASSERT_EQUAL(memcmp(r.data, "hi", 2), 0);
	CU_ASSERT_EQUAL(r.src.client, 0);
	/* Another id reaches nobody. */
	m->id.val = 2;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, RXSVC_EV_GROUP_NONE, 0), -ESRCH);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(rxsvc_cn_del_callback(bus, &id), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_del_callback(bus, &id), -ENOENT);
	m->id.val = 1;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, RXSVC_EV_GROUP_NONE, 0), -ESRCH);
	/* Registered again after removal: fine. */
	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "seven", rec_cb, &r), 0);
	CU_ASSERT_EQUAL(rxsvc_bus_stat(bus, "esrch"), 2);
	free(m);
	rxsvc_bus_close(bus);
}

static void test_group_esrch(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cn_msg *m = mkmsg(1, 1, 1, "x");
	struct rec r1 = { 0 };
	struct rec r2 = { 0 };
	unsigned int h1;
	unsigned int h2;

	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r1, &h1), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r2, &h2), 0);
	CU_ASSERT_NOT_EQUAL(h1, h2);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 6, 0), -ESRCH);
	CU_ASSERT_EQUAL(r1.calls, 1);
	CU_ASSERT_EQUAL(r2.calls, 1);
	CU_ASSERT_EQUAL(r1.src.group, 5);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(bus, h1), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(bus, h1), -ENOENT);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), 0);
	CU_ASSERT_EQUAL(r1.calls, 1);
	CU_ASSERT_EQUAL(r2.calls, 2);
	CU_ASSERT_EQUAL(rxsvc_cn_unlisten(bus, h2), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, RXSVC_EV_GROUP_NONE, rec_cb, &r1,
					&h1),
			-EINVAL);
	free(m);
	rxsvc_bus_close(bus);
}

static void test_mtu(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cn_msg *m = calloc(1, sizeof(*m) + 200);
	struct rec r = { 0 };

	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r, NULL), 0);
	m->len = 129;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -EMSGSIZE);
	m->len = 128;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), 0);
	CU_ASSERT_EQUAL(r.calls, 1);
	free(m);
	rxsvc_bus_close(bus);
}

static void test_reply_match(void)
{
	struct rxsvc_cn_msg req = { .id = { 3, 4 }, .seq = 10, .ack = 7 };
	struct rxsvc_cn_msg rep = { 0 };
	struct rxsvc_cn_msg other;

	rxsvc_cn_reply_init(&rep, &req);
	CU_ASSERT_EQUAL(rep.seq, 10);
	CU_ASSERT_EQUAL(rep.ack, 8);
	CU_ASSERT_TRUE(rxsvc_cn_is_reply(&rep, &req));
	other = rep;
	other.seq = 11;
	CU_ASSERT_FALSE(rxsvc_cn_is_reply(&other, &req));
	other = rep;
	other.ack = 7;
	CU_ASSERT_FALSE(rxsvc_cn_is_reply(&other, &req));
	other = rep;
	other.id.val = 5;
	CU_ASSERT_FALSE(rxsvc_cn_is_reply(&other, &req));
	/* Wrapping ack. */
	req.ack = UINT32_MAX;
	rxsvc_cn_reply_init(&rep, &req);
	CU_ASSERT_EQUAL(rep.ack, 0);
	CU_ASSERT_TRUE(rxsvc_cn_is_reply(&rep, &req));
}

/* A callback that answers: the reply goes to group 9 with seq/ack. */
static struct rxsvc_bus *echo_bus;

static void echo_cb(const struct rxsvc_cn_msg *msg,
		    const struct rxsvc_cn_src *src, void *arg)
{
	struct rxsvc_cn_msg rep = { 0 };

	rxsvc_cn_reply_init(&rep, msg);
	*(int *)arg = rxsvc_cn_send(echo_bus, &rep, 9, 0);
}

static void test_reply_from_callback(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cb_id id = { 20, 1 };
	struct rxsvc_cn_msg *m = mkmsg(20, 1, 77, "q");
	struct rec r = { 0 };
	int sent = 1;

	echo_bus = bus;
	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "echo", echo_cb, &sent),
			0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 9, rec_cb, &r, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, RXSVC_EV_GROUP_NONE, 0), 0);
	CU_ASSERT_EQUAL(sent, 0);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.last_seq, 77);
	free(m);
	rxsvc_bus_close(bus);
}

static void test_id_notices(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cb_id id = { 0x1234, 0x56 };
	struct rec r = { 0 };

	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, RXSVC_EV_GROUP_IDS, rec_cb, &r,
					NULL),
			0);
	CU_ASSERT_EQUAL(rxsvc_cn_add_callback(bus, &id, "name", rec_cb, &r), 0);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL_FATAL(r.len, 16);
	CU_ASSERT_EQUAL(rxs_get_be32(r.data), 1);
	CU_ASSERT_EQUAL(rxs_get_be32(r.data + 4), 0x1234);
	CU_ASSERT_EQUAL(rxs_get_be32(r.data + 8), 0x56);
	CU_ASSERT_EQUAL(memcmp(r.data + 12, "name", 4), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_del_callback(bus, &id), 0);
	CU_ASSERT_EQUAL(r.calls, 2);
	CU_ASSERT_EQUAL(rxs_get_be32(r.data), 0);
	rxsvc_bus_close(bus);
}

static void test_idfilter(void)
{
	struct rxsvc_bus *bus = open_bus(&rxsvc_bus_policy_idfilter);
	struct rxsvc_cn_msg *m = mkmsg(1, 2, 1, "x");
	struct rxsvc_cb_id want = { 1, 2 };
	struct rec r1 = { 0 };
	struct rec r2 = { 0 };
	unsigned int h1;
	unsigned int h2;

	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r1, &h1), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r2, &h2), 0);
	/* Nobody named the id: nobody is chosen. */
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, h1, RXSVC_BUS_OPT_ID_ADD,
					       &want, sizeof(want)),
			0);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), 0);
	CU_ASSERT_EQUAL(r1.calls, 1);
	CU_ASSERT_EQUAL(r2.calls, 0);
	m->id.val = 3;
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -ESRCH);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, h1, RXSVC_BUS_OPT_ID_DEL,
					       &want, sizeof(want)),
			0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, h1, RXSVC_BUS_OPT_ID_DEL,
					       &want, sizeof(want)),
			-ENOENT);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, h1, 99, &want,
					       sizeof(want)),
			-ENOPROTOOPT);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, 999, RXSVC_BUS_OPT_ID_ADD,
					       &want, sizeof(want)),
			-ENOENT);
	free(m);
	rxsvc_bus_close(bus);
}

static void test_broadcast_no_opts(void)
{
	struct rxsvc_bus *bus = open_bus(NULL);
	struct rxsvc_cb_id want = { 1, 2 };
	struct rec r = { 0 };
	unsigned int h;

	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r, &h), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen_setopt(bus, h, RXSVC_BUS_OPT_ID_ADD,
					       &want, sizeof(want)),
			-ENOPROTOOPT);
	rxsvc_bus_close(bus);
}

/* A custom policy: only the most recent member; records its hooks. */
static int pol_created;
static int pol_destroyed;
static int pol_new;
static int pol_gone;
static unsigned int pol_max;

static int last_created(struct rxsvc_bus *bus, void **privp)
{
	pol_created++;
	*privp = &pol_created;
	return 0;
}

static void last_destroyed(void *priv)
{
	CU_ASSERT_PTR_EQUAL(priv, &pol_created);
	pol_destroyed++;
}

static void last_resized(void *priv, unsigned int n)
{
	pol_max = n;
}

static int last_node_new(void *priv, struct rxsvc_bus_node *node,
			 void **node_privp)
{
	pol_new++;
	return 0;
}

static void last_node_gone(void *priv, struct rxsvc_bus_node *node,
			   void *node_priv)
{
	pol_gone++;
}

static int last_handle(void *priv, struct rxsvc_bus_route *route)
{
	struct rxsvc_bus_node *const *m;
	unsigned int n = rxsvc_bus_route_members(route, &m);

	if (n) {
		rxsvc_bus_route_deliver(route, m[n - 1]);
		rxsvc_bus_route_deliver(route, m[n - 1]); /* once only */
	}
	return 0;
}

static const struct rxsvc_bus_policy_ops last_policy = {
	.size = sizeof(struct rxsvc_bus_policy_ops),
	.name = "last",
	.bus_created = last_created,
	.bus_resized = last_resized,
	.bus_destroyed = last_destroyed,
	.node_new = last_node_new,
	.node_gone = last_node_gone,
	.handle_msg = last_handle,
};

static void test_custom_policy(void)
{
	struct rxsvc_bus *bus = open_bus(&last_policy);
	struct rxsvc_bus_info info = { .size = sizeof(info) };
	struct rxsvc_cn_msg *m = mkmsg(1, 1, 1, "x");
	struct rec r1 = { 0 };
	struct rec r2 = { 0 };

	CU_ASSERT_EQUAL(pol_created, 1);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r1, NULL), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r2, NULL), 0);
	CU_ASSERT_EQUAL(pol_new, 2);
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), 0);
	CU_ASSERT_EQUAL(r1.calls, 0);
	CU_ASSERT_EQUAL(r2.calls, 1);
	CU_ASSERT_EQUAL(rxsvc_bus_set_max_subscribers(bus, 9), 0);
	CU_ASSERT_EQUAL(pol_max, 9);
	CU_ASSERT_EQUAL(rxsvc_bus_get_info(bus, &info), 0);
	CU_ASSERT_STRING_EQUAL(info.policy, "last");
	CU_ASSERT_EQUAL(info.max_subscribers, 9);
	CU_ASSERT_EQUAL(info.receivers, 2);
	rxsvc_bus_close(bus);
	CU_ASSERT_EQUAL(pol_gone, 2);
	CU_ASSERT_EQUAL(pol_destroyed, 1);
	free(m);
}

/* A policy whose hooks fail: the errors reach the caller. */
static int fail_created(struct rxsvc_bus *bus, void **privp)
{
	return -ENOTSUP;
}

static int fail_node_new(void *priv, struct rxsvc_bus_node *node,
			 void **node_privp)
{
	return -EPERM;
}

static int fail_handle(void *priv, struct rxsvc_bus_route *route)
{
	return -EIO;
}

static void test_policy_errors(void)
{
	struct rxsvc_bus_policy_ops ops = {
		.size = sizeof(ops),
		.name = "failing",
		.bus_created = fail_created,
		.handle_msg = fail_handle,
	};
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_cn_msg *m = mkmsg(1, 1, 1, "x");
	struct rxsvc_bus *bus = NULL;
	struct rec r = { 0 };

	p.policy = &ops;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -ENOTSUP);
	ops.bus_created = NULL;
	ops.node_new = fail_node_new;
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r, NULL), -EPERM);
	ops.node_new = NULL;
	CU_ASSERT_EQUAL(rxsvc_cn_listen(bus, 5, rec_cb, &r, NULL), 0);
	/* Never swallowed: not 0, not -ESRCH. */
	CU_ASSERT_EQUAL(rxsvc_cn_send(bus, m, 5, 0), -EIO);
	CU_ASSERT_EQUAL(r.calls, 0);
	rxsvc_bus_close(bus);
	/* No handle_msg: refused at open. */
	ops.handle_msg = NULL;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -EINVAL);
	free(m);
}

static void test_params(void)
{
	struct rxsvc_bus_params p = RXSVC_BUS_PARAMS_INIT;
	struct rxsvc_bus *bus = NULL;
	struct rxsvc_bus_info info = { .size = sizeof(info) };

	p.mtu = 70000;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -EINVAL);
	p.mtu = 0;
	p.mode = 01777;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -EINVAL);
	p.mode = 0;
	p.delivery = 7;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -EINVAL);
	p.delivery = RXSVC_BUS_LOSSY;
	p.size = 4;
	CU_ASSERT_EQUAL(rxsvc_bus_open(&p, &bus), -EINVAL);
	p.size = sizeof(p);
	CU_ASSERT_EQUAL_FATAL(rxsvc_bus_open(&p, &bus), 0);
	CU_ASSERT_EQUAL(rxsvc_bus_get_info(bus, &info), 0);
	CU_ASSERT_EQUAL(info.mode, 0660);
	CU_ASSERT_EQUAL(info.delivery, RXSVC_BUS_LOSSY);
	CU_ASSERT_EQUAL(info.mtu, 4096);
	CU_ASSERT_STRING_EQUAL(info.policy, "broadcast");
	CU_ASSERT_STRING_EQUAL(rxsvc_bus_stat_name(0), "msgs_local");
	CU_ASSERT_PTR_NULL(rxsvc_bus_stat_name(1000));
	rxsvc_bus_close(bus);
}

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		{ "callback add/del, -EEXIST", test_callback_add_del },
		{ "group send, -ESRCH", test_group_esrch },
		{ "mtu", test_mtu },
		{ "reply matching", test_reply_match },
		{ "reply from a callback", test_reply_from_callback },
		{ "id notices", test_id_notices },
		{ "idfilter policy", test_idfilter },
		{ "broadcast has no options", test_broadcast_no_opts },
		{ "custom policy ops", test_custom_policy },
		{ "policy errors reach the caller", test_policy_errors },
		{ "params", test_params },
	};
	CU_pSuite s;
	unsigned int fails;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 99;
	s = CU_add_suite("events core", NULL, NULL);
	if (!s)
		return 99;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(s, tests[i].name, tests[i].fn))
			return 99;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS)
		return 99;
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	return fails ? 1 : 0;
}
