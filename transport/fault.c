/* SPDX-License-Identifier: MIT */
/*
 * fault.c - seeded fault injection for loss and disorder tests.  Off
 * unless a test sets RXSVC_FAULT; the engine asks rxs_fault_roll() once
 * per decision, so a given seed and packet order give the same faults.
 */
#include <stdlib.h>
#include <string.h>

#include "transport/transport.h"

static unsigned int fault_field(const char *spec, const char *name,
				unsigned int def)
{
	size_t n = strlen(name);
	const char *p = spec;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == spec || p[-1] == ',') && p[n] == '=')
			return (unsigned int)strtoul(p + n + 1, NULL, 10);
		p += n;
	}
	return def;
}

void rxs_fault_init(struct rxs_fault *f, const char *spec)
{
	memset(f, 0, sizeof(*f));
	if (!spec || !*spec)
		return;
	f->drop = fault_field(spec, "drop", 0);
	f->dup = fault_field(spec, "dup", 0);
	f->reorder = fault_field(spec, "reorder", 0);
	f->delay_ms = fault_field(spec, "delay", 0);
	f->delay_pct = fault_field(spec, "delay_pct", f->delay_ms ? 100 : 0);
	f->txdrop = fault_field(spec, "txdrop", 0);
	f->flip = fault_field(spec, "flip", 0);
	f->badnonce = fault_field(spec, "badnonce", 0);
	f->state = fault_field(spec, "seed", 1) * 0x9E3779B97F4A7C15ull + 1;
	f->on = f->drop || f->dup || f->reorder || f->delay_ms || f->txdrop ||
		f->flip;
}

/* xorshift64*: small, seeded, good enough to pick packets. */
unsigned int rxs_fault_roll(struct rxs_fault *f)
{
	uint64_t x = f->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	f->state = x;
	return (unsigned int)(((x * 0x2545F4914F6CDD1Dull) >> 32) % 100);
}
