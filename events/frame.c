/* SPDX-License-Identifier: MIT */
/*
 * The bus <-> client wire: frame encoding and bounds-checked decoding
 * (layout in events/internal.h).  Shared by the bus, the client and the
 * fuzz target; decodes into host-order structs through a cursor, never
 * by overlaying a struct on the buffer.
 */
#include <errno.h>
#include <string.h>

#include "events/internal.h"

long rxs_evf_frame_len(const uint8_t *p, size_t avail, size_t max)
{
	uint32_t len;

	if (avail < 4)
		return 0;
	len = rxs_get_be32(p);
	if (len < RXS_EVF_HDR)
		return -EPROTO;
	if (len > max)
		return -EMSGSIZE;
	return (long)len;
}

static int evf_decode_msg(struct rxs_cursor *c, struct rxs_evf *f)
{
	uint32_t v[9];
	uint16_t len;
	size_t i;

	for (i = 0; i < 9; i++)
		if (!rxs_cur_be32(c, &v[i]))
			return -EPROTO;
	if (!rxs_cur_be16(c, &len) || !rxs_cur_be16(c, &f->mflags))
		return -EPROTO;
	if (len != c->left)
		return -EPROTO;
	f->group = v[0];
	f->src.client = v[1];
	f->src.pid = (pid_t)v[2];
	f->src.uid = (uid_t)v[3];
	f->src.gid = (gid_t)v[4];
	f->src.group = v[0];
	f->id.idx = v[5];
	f->id.val = v[6];
	f->seq = v[7];
	f->ack = v[8];
	f->data = c->p;
	f->dlen = len;
	return 0;
}

int rxs_evf_decode(const uint8_t *p, size_t len, struct rxs_evf *f)
{
	struct rxs_cursor c = { p, len };
	uint32_t flen;
	uint32_t v;

	memset(f, 0, sizeof(*f));
	if (!rxs_cur_be32(&c, &flen) || flen != len || c.left < 4)
		return -EPROTO;
	f->type = c.p[0];
	f->hops = c.p[1];
	f->flags = (uint16_t)((uint16_t)c.p[2] << 8 | c.p[3]);
	c.p += 4;
	c.left -= 4;
	switch (f->type) {
	case RXS_EVF_HELLO:
	case RXS_EVF_SUB:
	case RXS_EVF_UNSUB:
	case RXS_EVF_WANTID:
	case RXS_EVF_WATCH:
	case RXS_EVF_PING:
	case RXS_EVF_INFO:
	case RXS_EVF_SETMAX:
		if (!rxs_cur_be32(&c, &f->tag) || !rxs_cur_be32(&c, &f->a) ||
		    !rxs_cur_be32(&c, &f->b) || c.left)
			return -EPROTO;
		return 0;
	case RXS_EVF_REPLY:
		if (!rxs_cur_be32(&c, &f->tag) || !rxs_cur_be32(&c, &v))
			return -EPROTO;
		f->status = (int32_t)v;
		f->data = c.p;
		f->dlen = c.left;
		return 0;
	case RXS_EVF_MSG:
		return evf_decode_msg(&c, f);
	case RXS_EVF_MISSED:
		if (!rxs_cur_be32(&c, &f->a) || c.left)
			return -EPROTO;
		return 0;
	case RXS_EVF_NOTICE:
		if (!rxs_cur_be32(&c, &f->a) || !rxs_cur_be32(&c, &f->b) ||
		    c.left)
			return -EPROTO;
		return 0;
	case RXS_EVF_ERROR:
		if (!rxs_cur_be32(&c, &f->seq) || !rxs_cur_be32(&c, &v) ||
		    c.left)
			return -EPROTO;
		f->status = (int32_t)v;
		return 0;
	}
	return -EPROTO;
}

size_t rxs_evf_put_hdr(uint8_t *buf, size_t len, uint8_t type, uint8_t hops)
{
	rxs_put_be32(buf, (uint32_t)len);
	buf[4] = type;
	buf[5] = hops;
	buf[6] = 0;
	buf[7] = 0;
	return len;
}

size_t rxs_evf_put_msg(uint8_t *buf, const struct rxsvc_cn_msg *msg,
		       uint32_t group, const struct rxsvc_cn_src *src,
		       uint8_t hops)
{
	size_t len = RXS_EVF_MSG_HDR + msg->len;
	uint8_t *p = buf + RXS_EVF_HDR;

	rxs_evf_put_hdr(buf, len, RXS_EVF_MSG, hops);
	rxs_put_be32(p, group);
	rxs_put_be32(p + 4, src->client);
	rxs_put_be32(p + 8, (uint32_t)src->pid);
	rxs_put_be32(p + 12, (uint32_t)src->uid);
	rxs_put_be32(p + 16, (uint32_t)src->gid);
	rxs_put_be32(p + 20, msg->id.idx);
	rxs_put_be32(p + 24, msg->id.val);
	rxs_put_be32(p + 28, msg->seq);
	rxs_put_be32(p + 32, msg->ack);
	rxs_put_be16(p + 36, msg->len);
	rxs_put_be16(p + 38, msg->flags);
	memcpy(p + 40, msg->data, msg->len);
	return len;
}

size_t rxs_evf_put_req(uint8_t *buf, uint8_t type, uint32_t tag, uint32_t a,
		       uint32_t b)
{
	rxs_evf_put_hdr(buf, RXS_EVF_REQ_LEN, type, 0);
	rxs_put_be32(buf + 8, tag);
	rxs_put_be32(buf + 12, a);
	rxs_put_be32(buf + 16, b);
	return RXS_EVF_REQ_LEN;
}

size_t rxs_evf_put_pair(uint8_t *buf, uint8_t type, uint32_t a, uint32_t b)
{
	rxs_evf_put_hdr(buf, 16, type, 0);
	rxs_put_be32(buf + 8, a);
	rxs_put_be32(buf + 12, b);
	return 16;
}

size_t rxs_evf_put_missed(uint8_t *buf, uint32_t count)
{
	rxs_evf_put_hdr(buf, 12, RXS_EVF_MISSED, 0);
	rxs_put_be32(buf + 8, count);
	return 12;
}

size_t rxs_evf_put_reply(uint8_t *buf, uint32_t tag, int32_t status,
			 size_t plen)
{
	rxs_evf_put_hdr(buf, 16 + plen, RXS_EVF_REPLY, 0);
	rxs_put_be32(buf + 8, tag);
	rxs_put_be32(buf + 12, (uint32_t)status);
	return 16;
}
