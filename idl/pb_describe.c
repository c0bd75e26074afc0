/* SPDX-License-Identifier: MIT */
/*
 * pb_describe.c - the describe opcode (0xFFFFFFFF): what a server offers,
 * in XDR (format in include/rxsvc/pb.h), encoded by the server and
 * decoded, bounded, by rxsvc_pb_describe().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rxsvc/xdr.h>

#include "idl/pb_internal.h"

static int xdr_method(struct rxsvc_xdr *x, void *obj)
{
	struct rxsvc_pb_method_desc *m = obj;

	rxsvc_xdr_string(x, &m->name, RXS_PB_NAME_MAX);
	rxsvc_xdr_string(x, &m->input, RXS_PB_NAME_MAX);
	rxsvc_xdr_string(x, &m->output, RXS_PB_NAME_MAX);
	return x->error;
}

static int xdr_description(struct rxsvc_xdr *x, void *obj)
{
	struct rxsvc_pb_description *d = obj;

	rxsvc_xdr_string(x, &d->service, RXS_PB_NAME_MAX);
	rxsvc_xdr_array(x, (void **)&d->methods, &d->n_methods,
			RXS_PB_METHODS_MAX, sizeof(*d->methods), xdr_method);
	return x->error;
}

/* A description of @desc pointing into it (nothing to free but the
 * methods array). */
static int describe_local(const ProtobufCServiceDescriptor *desc,
			  struct rxsvc_pb_description *d)
{
	d->service = (char *)desc->name;
	d->n_methods = desc->n_methods;
	d->methods = calloc(desc->n_methods ? desc->n_methods : 1,
			    sizeof(*d->methods));
	if (!d->methods)
		return -ENOMEM;
	for (unsigned int i = 0; i < desc->n_methods; i++) {
		const ProtobufCMethodDescriptor *m = &desc->methods[i];

		d->methods[i].name = (char *)m->name;
		d->methods[i].input = (char *)m->input->name;
		d->methods[i].output = (char *)m->output->name;
	}
	return 0;
}

int rxs_pb_describe_encode(const ProtobufCServiceDescriptor *desc,
			   uint8_t **bufp, size_t *lenp)
{
	struct rxsvc_pb_description d;
	struct rxsvc_xdr x;
	uint8_t *buf;
	int ret;

	ret = describe_local(desc, &d);
	if (ret < 0)
		return ret;
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, NULL, 0);
	xdr_description(&x, &d);
	buf = x.error ? NULL : malloc(x.pos ? x.pos : 1);
	if (buf) {
		rxsvc_xdr_init_mem(&x, RXSVC_XDR_ENCODE, buf, x.pos);
		xdr_description(&x, &d);
	}
	free(d.methods);
	if (!buf)
		return x.error ? x.error : -ENOMEM;
	*bufp = buf;
	*lenp = x.pos;
	return 0;
}

RXSVC_API void rxsvc_pb_description_free(struct rxsvc_pb_description *d)
{
	if (!d)
		return;
	rxsvc_xdr_free(xdr_description, d);
	free(d);
}

RXSVC_API int rxsvc_pb_describe(struct rxsvc_sock *sock,
				const struct rxsvc_srx *peer,
				struct rxsvc_key *key,
				struct rxsvc_pb_description **dp,
				int32_t *abort_code)
{
	struct rxsvc_pb_client_params p = RXSVC_PB_CLIENT_PARAMS_INIT;
	struct rxs_pb_reply r = { 0 };
	struct rxsvc_pb_description *d;
	struct rxsvc_xdr x;
	uint8_t req[4];
	int32_t code;
	int ret;

	if (!abort_code)
		abort_code = &code;
	*abort_code = 0;
	if (!sock || !peer || !dp)
		return -EINVAL;
	p.sock = sock;
	p.peer = *peer;
	p.key = key;
	p.max_reply = 4 + RXS_PB_NAME_MAX + 8 +
		      (size_t)RXS_PB_METHODS_MAX * 3 * (4 + RXS_PB_NAME_MAX);
	rxs_pb_put_be32(req, RXSVC_PB_DESCRIBE);
	ret = rxs_pb_call_raw(&p, req, sizeof(req), &r);
	*abort_code = r.abort_code;
	if (ret < 0)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d) {
		free(r.buf);
		return -ENOMEM;
	}
	rxsvc_xdr_init_mem(&x, RXSVC_XDR_DECODE, r.buf, r.len);
	xdr_description(&x, d);
	rxsvc_xdr_recv_end(&x);
	free(r.buf);
	if (x.error) {
		rxsvc_pb_description_free(d);
		*abort_code = RXGEN_CC_UNMARSHAL;
		return -EBADMSG;
	}
	*dp = d;
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

RXSVC_API int rxsvc_pb_description_check(const struct rxsvc_pb_description *d,
					 const ProtobufCServiceDescriptor *desc)
{
	if (!d || !desc || !same(d->service, desc->name) ||
	    d->n_methods != desc->n_methods)
		return -EPROTO;
	for (unsigned int i = 0; i < desc->n_methods; i++) {
		const ProtobufCMethodDescriptor *m = &desc->methods[i];
		const struct rxsvc_pb_method_desc *r = &d->methods[i];

		if (!same(r->name, m->name) ||
		    !same(r->input, m->input->name) ||
		    !same(r->output, m->output->name))
			return -EPROTO;
	}
	return 0;
}
