/* SPDX-License-Identifier: MIT */
/*
 * bytes.h - big-endian loads and stores and the bounded reader that every
 * decoder uses (conventions §9, §10).  A leaf: it knows no Rx and no bus,
 * so the wire codec and the event bus share it without the bus depending
 * on the engine.
 */
#ifndef RXS_BYTES_H
#define RXS_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounded reader (conventions §10). */
struct rxs_cursor {
	const uint8_t *p;
	size_t left;
};

static inline uint32_t rxs_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}
static inline uint16_t rxs_get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}
static inline void rxs_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void rxs_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline bool rxs_cur_be32(struct rxs_cursor *c, uint32_t *v)
{
	if (c->left < 4)
		return false;
	*v = rxs_get_be32(c->p);
	c->p += 4;
	c->left -= 4;
	return true;
}
static inline bool rxs_cur_be16(struct rxs_cursor *c, uint16_t *v)
{
	if (c->left < 2)
		return false;
	*v = rxs_get_be16(c->p);
	c->p += 2;
	c->left -= 2;
	return true;
}
static inline bool rxs_cur_u8(struct rxs_cursor *c, uint8_t *v)
{
	if (c->left < 1)
		return false;
	*v = c->p[0];
	c->p++;
	c->left--;
	return true;
}
static inline bool rxs_cur_skip(struct rxs_cursor *c, size_t n)
{
	if (n > c->left)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

#endif /* RXS_BYTES_H */
