/*
 * buf.h - the bounds-checked reader and writer every parser and serialiser
 * uses.  Multi-byte integers are in network byte order.
 *
 * Each call returns 0 or -1.  A failed call also latches `failed`, so a
 * parser may chain gets and check once at rb_end(); outputs of a failed get
 * are zeroed so nothing half-read leaks into the caller's struct.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool failed;
};

struct wbuf {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool failed;
};

/* Stands in for a NULL buffer: NULL + 0 is undefined, and a zero-length get
 * or put returning NULL from the bounds check would read as a failure.
 * Nothing is ever read from or written to it. */
extern uint8_t buf_no_data[1];

/*
 * The small, hot calls are inline: every packet's header goes through
 * them, and a call per field costs more than the field (tunnel_bench's
 * header check: 7.7 ns inline, 11.9 out of line).  The rest is in buf.c.
 */

static inline void rb_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data ? data : buf_no_data;
	r->len = data ? len : 0;
	r->pos = 0;
	r->failed = false;
}

static inline size_t rb_left(const struct rbuf *r)
{
	return r->len - r->pos;
}

/* The one bounds check every get goes through: the next n bytes, or NULL
 * with r failed. */
static inline const uint8_t *rb_take_(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->failed || n > rb_left(r)) {
		r->failed = true;
		return NULL;
	}
	p = r->data + r->pos;
	r->pos += n;
	return p;
}

static inline int rb_u8(struct rbuf *r, uint8_t *v)
{
	const uint8_t *p = rb_take_(r, 1);

	*v = p ? p[0] : 0;
	return p ? 0 : -1;
}

static inline int rb_u16(struct rbuf *r, uint16_t *v)
{
	const uint8_t *p = rb_take_(r, 2);

	*v = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	return p ? 0 : -1;
}

static inline int rb_u32(struct rbuf *r, uint32_t *v)
{
	const uint8_t *p = rb_take_(r, 4);

	*v = p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[2] << 8 | p[3]
	       : 0;
	return p ? 0 : -1;
}

int rb_u64(struct rbuf *r, uint64_t *v);

/* Does not latch. */
static inline int rb_peek_u8(const struct rbuf *r, uint8_t *v)
{
	if (r->failed || rb_left(r) < 1) {
		*v = 0;
		return -1;
	}
	*v = r->data[r->pos];
	return 0;
}

/* Copies n bytes; on failure dst is zeroed. */
int rb_bytes(struct rbuf *r, void *dst, size_t n);

/* Borrows n bytes: *p points into the buffer, or is NULL. */
static inline int rb_ptr(struct rbuf *r, const uint8_t **p, size_t n)
{
	*p = rb_take_(r, n);
	return *p ? 0 : -1;
}

static inline int rb_skip(struct rbuf *r, size_t n)
{
	return rb_take_(r, n) ? 0 : -1;
}

/* Carves the next n bytes off as an independent reader. */
int rb_sub(struct rbuf *r, struct rbuf *sub, size_t n);
/* Takes the rest (possibly empty) as a sub-reader. */
void rb_rest(struct rbuf *r, struct rbuf *sub);

/* 0 only if nothing failed and every byte was consumed. */
static inline int rb_end(const struct rbuf *r)
{
	return !r->failed && r->pos == r->len ? 0 : -1;
}

static inline void wb_init(struct wbuf *w, void *data, size_t cap)
{
	w->data = data ? data : buf_no_data;
	w->cap = data ? cap : 0;
	w->len = 0;
	w->failed = false;
}

static inline size_t wb_room(const struct wbuf *w)
{
	return w->cap - w->len;
}

/* The one bounds check every put goes through. */
static inline uint8_t *wb_put_(struct wbuf *w, size_t n)
{
	uint8_t *p;

	if (w->failed || n > wb_room(w)) {
		w->failed = true;
		return NULL;
	}
	p = w->data + w->len;
	w->len += n;
	return p;
}

static inline int wb_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = wb_put_(w, 1);

	if (p)
		*p = v;
	return p ? 0 : -1;
}

static inline int wb_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = wb_put_(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
	return p ? 0 : -1;
}

static inline int wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = wb_put_(w, 4);

	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
	return p ? 0 : -1;
}

int wb_u64(struct wbuf *w, uint64_t v);

static inline int wb_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *p = wb_put_(w, n);

	/* n > PTRDIFF_MAX never fits (no object is that large); saying so
	 * keeps the compiler from warning about a memcpy of that size */
	if (p && n && n <= PTRDIFF_MAX)
		memcpy(p, src, n);
	return p ? 0 : -1;
}

int wb_zero(struct wbuf *w, size_t n);
/* Reserves n bytes to fill later (lengths, checksums); *off gets their offset.
 */
int wb_reserve(struct wbuf *w, size_t n, size_t *off);
/* Back-patch inside what was already written. */
int wb_set_u8(struct wbuf *w, size_t off, uint8_t v);
int wb_set_u16(struct wbuf *w, size_t off, uint16_t v);
int wb_set_u32(struct wbuf *w, size_t off, uint32_t v);

/* 0 if no write failed. */
static inline int wb_ok(const struct wbuf *w)
{
	return w->failed ? -1 : 0;
}

#endif
