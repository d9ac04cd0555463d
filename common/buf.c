#include "common/buf.h"

#include <stdint.h>
#include <string.h>

/* Stands in for a NULL buffer: NULL + 0 is undefined, and take()/put()
 * returning NULL for a zero-length get or put would read as a failure. */
static uint8_t no_data[1];

void rb_init(struct rbuf *r, const void *data, size_t len)
{
	r->data = data ? data : no_data;
	r->len = data ? len : 0;
	r->pos = 0;
	r->failed = false;
}

size_t rb_left(const struct rbuf *r)
{
	return r->len - r->pos;
}

/* The one bounds check every get goes through. */
static const uint8_t *take(struct rbuf *r, size_t n)
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

int rb_u8(struct rbuf *r, uint8_t *v)
{
	const uint8_t *p = take(r, 1);

	*v = p ? p[0] : 0;
	return p ? 0 : -1;
}

int rb_u16(struct rbuf *r, uint16_t *v)
{
	const uint8_t *p = take(r, 2);

	*v = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
	return p ? 0 : -1;
}

int rb_u32(struct rbuf *r, uint32_t *v)
{
	const uint8_t *p = take(r, 4);

	*v = p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		     (uint32_t)p[2] << 8 | p[3]
	       : 0;
	return p ? 0 : -1;
}

int rb_u64(struct rbuf *r, uint64_t *v)
{
	uint32_t hi, lo;

	if (rb_left(r) < 8 || r->failed) {
		r->failed = true;
		*v = 0;
		return -1;
	}
	rb_u32(r, &hi);
	rb_u32(r, &lo);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int rb_peek_u8(const struct rbuf *r, uint8_t *v)
{
	if (r->failed || rb_left(r) < 1) {
		*v = 0;
		return -1;
	}
	*v = r->data[r->pos];
	return 0;
}

int rb_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = take(r, n);

	if (!p) {
		/* No object is larger than PTRDIFF_MAX: such an n is an
		 * underflowed length, and must fail, not become a memset
		 * far past the end of dst. */
		if (n && n <= PTRDIFF_MAX)
			memset(dst, 0, n);
		return -1;
	}
	if (n)
		memcpy(dst, p, n);
	return 0;
}

int rb_ptr(struct rbuf *r, const uint8_t **pp, size_t n)
{
	*pp = take(r, n);
	return *pp ? 0 : -1;
}

int rb_skip(struct rbuf *r, size_t n)
{
	return take(r, n) ? 0 : -1;
}

int rb_sub(struct rbuf *r, struct rbuf *sub, size_t n)
{
	const uint8_t *p = take(r, n);

	rb_init(sub, p, p ? n : 0);
	sub->failed = !p;
	return p ? 0 : -1;
}

void rb_rest(struct rbuf *r, struct rbuf *sub)
{
	rb_sub(r, sub, r->failed ? 0 : rb_left(r));
}

int rb_end(const struct rbuf *r)
{
	return !r->failed && r->pos == r->len ? 0 : -1;
}

void wb_init(struct wbuf *w, void *data, size_t cap)
{
	w->data = data ? data : no_data;
	w->cap = data ? cap : 0;
	w->len = 0;
	w->failed = false;
}

size_t wb_room(const struct wbuf *w)
{
	return w->cap - w->len;
}

/* The one bounds check every put goes through. */
static uint8_t *put(struct wbuf *w, size_t n)
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

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

int wb_u8(struct wbuf *w, uint8_t v)
{
	uint8_t *p = put(w, 1);

	if (p)
		*p = v;
	return p ? 0 : -1;
}

int wb_u16(struct wbuf *w, uint16_t v)
{
	uint8_t *p = put(w, 2);

	if (p)
		be16(p, v);
	return p ? 0 : -1;
}

int wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t *p = put(w, 4);

	if (p)
		be32(p, v);
	return p ? 0 : -1;
}

int wb_u64(struct wbuf *w, uint64_t v)
{
	uint8_t *p = put(w, 8);

	if (!p)
		return -1;
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
	return 0;
}

int wb_bytes(struct wbuf *w, const void *src, size_t n)
{
	uint8_t *p = put(w, n);

	if (p && n)
		memcpy(p, src, n);
	return p ? 0 : -1;
}

int wb_zero(struct wbuf *w, size_t n)
{
	uint8_t *p = put(w, n);

	if (p && n)
		memset(p, 0, n);
	return p ? 0 : -1;
}

int wb_reserve(struct wbuf *w, size_t n, size_t *off)
{
	*off = w->len;
	return wb_zero(w, n);
}

/* Back-patches may only touch bytes already written. */
static uint8_t *at(struct wbuf *w, size_t off, size_t n)
{
	if (w->failed || off > w->len || n > w->len - off) {
		w->failed = true;
		return NULL;
	}
	return w->data + off;
}

int wb_set_u8(struct wbuf *w, size_t off, uint8_t v)
{
	uint8_t *p = at(w, off, 1);

	if (p)
		*p = v;
	return p ? 0 : -1;
}

int wb_set_u16(struct wbuf *w, size_t off, uint16_t v)
{
	uint8_t *p = at(w, off, 2);

	if (p)
		be16(p, v);
	return p ? 0 : -1;
}

int wb_set_u32(struct wbuf *w, size_t off, uint32_t v)
{
	uint8_t *p = at(w, off, 4);

	if (p)
		be32(p, v);
	return p ? 0 : -1;
}

int wb_ok(const struct wbuf *w)
{
	return w->failed ? -1 : 0;
}
