/* buf.c - the reader's and writer's calls that are not hot enough to be
 * inline in buf.h. */
#include "common/buf.h"

#include <stdint.h>
#include <string.h>

uint8_t buf_no_data[1];

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

int rb_bytes(struct rbuf *r, void *dst, size_t n)
{
	const uint8_t *p = rb_take_(r, n);

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

int rb_sub(struct rbuf *r, struct rbuf *sub, size_t n)
{
	const uint8_t *p = rb_take_(r, n);

	rb_init(sub, p, p ? n : 0);
	sub->failed = !p;
	return p ? 0 : -1;
}

void rb_rest(struct rbuf *r, struct rbuf *sub)
{
	rb_sub(r, sub, r->failed ? 0 : rb_left(r));
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

int wb_u64(struct wbuf *w, uint64_t v)
{
	uint8_t *p = wb_put_(w, 8);

	if (!p)
		return -1;
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
	return 0;
}

int wb_zero(struct wbuf *w, size_t n)
{
	uint8_t *p = wb_put_(w, n);

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
