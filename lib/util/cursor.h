/*
 * Bounded cursor over untrusted bytes (OpenSSH sshbuf idea). Every read checks
 * the remaining length first, in a form that cannot overflow, and fails with
 * "truncated" instead of walking off the end. Parsers never do raw p + off.
 */
#ifndef WARD_CURSOR_H
#define WARD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct cursor {
	const uint8_t *base; /* start of the whole buffer */
	size_t len;          /* bytes in the whole buffer */
	size_t pos;          /* next byte to read; always <= len */
} cursor;

static inline cursor cur_make(const void *p, size_t len)
{
	cursor c = {(const uint8_t *)p, len, 0};
	return c;
}

static inline size_t cur_left(const cursor *c) { return c->len - c->pos; }

/* Is [off, off+n) inside the buffer? Written so off+n cannot overflow. */
static inline bool cur_fits(const cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

static inline bool cur_seek(cursor *c, size_t off)
{
	if (off > c->len)
		return false;
	c->pos = off;
	return true;
}

static inline bool cur_skip(cursor *c, size_t n)
{
	if (n > cur_left(c))
		return false;
	c->pos += n;
	return true;
}

/* Pointer to n readable bytes at the cursor, advancing past them; NULL if short. */
static inline const uint8_t *cur_take(cursor *c, size_t n)
{
	if (n > cur_left(c))
		return NULL;
	const uint8_t *p = c->base + c->pos;
	c->pos += n;
	return p;
}

/* Pointer to n bytes at absolute offset off, cursor unchanged; NULL if outside. */
static inline const uint8_t *cur_at(const cursor *c, size_t off, size_t n)
{
	return cur_fits(c, off, n) ? c->base + off : NULL;
}

static inline bool cur_u8(cursor *c, uint8_t *v)
{
	const uint8_t *p = cur_take(c, 1);
	if (!p)
		return false;
	*v = p[0];
	return true;
}

static inline bool cur_le16(cursor *c, uint16_t *v)
{
	const uint8_t *p = cur_take(c, 2);
	if (!p)
		return false;
	*v = (uint16_t)(p[0] | (p[1] << 8));
	return true;
}

static inline bool cur_le32(cursor *c, uint32_t *v)
{
	const uint8_t *p = cur_take(c, 4);
	if (!p)
		return false;
	*v = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	     ((uint32_t)p[3] << 24);
	return true;
}

static inline bool cur_le64(cursor *c, uint64_t *v)
{
	uint32_t lo, hi;
	if (cur_left(c) < 8 || !cur_le32(c, &lo) || !cur_le32(c, &hi))
		return false;
	*v = (uint64_t)lo | ((uint64_t)hi << 32);
	return true;
}

static inline bool cur_be16(cursor *c, uint16_t *v)
{
	const uint8_t *p = cur_take(c, 2);
	if (!p)
		return false;
	*v = (uint16_t)((p[0] << 8) | p[1]);
	return true;
}

static inline bool cur_be32(cursor *c, uint32_t *v)
{
	const uint8_t *p = cur_take(c, 4);
	if (!p)
		return false;
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) |
	     (uint32_t)p[3];
	return true;
}

static inline bool cur_be64(cursor *c, uint64_t *v)
{
	uint32_t hi, lo;
	if (cur_left(c) < 8 || !cur_be32(c, &hi) || !cur_be32(c, &lo))
		return false;
	*v = ((uint64_t)hi << 32) | (uint64_t)lo;
	return true;
}

#endif /* WARD_CURSOR_H */
