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

struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
	bool failed;
};

void rb_init(struct rbuf *r, const void *data, size_t len);
size_t rb_left(const struct rbuf *r);
int rb_u8(struct rbuf *r, uint8_t *v);
int rb_u16(struct rbuf *r, uint16_t *v);
int rb_u32(struct rbuf *r, uint32_t *v);
int rb_u64(struct rbuf *r, uint64_t *v);
int rb_peek_u8(const struct rbuf *r, uint8_t *v);	 /* does not latch */
int rb_bytes(struct rbuf *r, void *dst, size_t n);	 /* copy n bytes */
int rb_ptr(struct rbuf *r, const uint8_t **p, size_t n); /* borrow n bytes */
int rb_skip(struct rbuf *r, size_t n);
/* Carves the next n bytes off as an independent reader. */
int rb_sub(struct rbuf *r, struct rbuf *sub, size_t n);
/* Takes the rest (possibly empty) as a sub-reader. */
void rb_rest(struct rbuf *r, struct rbuf *sub);
/* 0 only if nothing failed and every byte was consumed. */
int rb_end(const struct rbuf *r);

struct wbuf {
	uint8_t *data;
	size_t cap;
	size_t len;
	bool failed;
};

void wb_init(struct wbuf *w, void *data, size_t cap);
size_t wb_room(const struct wbuf *w);
int wb_u8(struct wbuf *w, uint8_t v);
int wb_u16(struct wbuf *w, uint16_t v);
int wb_u32(struct wbuf *w, uint32_t v);
int wb_u64(struct wbuf *w, uint64_t v);
int wb_bytes(struct wbuf *w, const void *src, size_t n);
int wb_zero(struct wbuf *w, size_t n);
/* Reserves n bytes to fill later (lengths, checksums); *off gets their offset.
 */
int wb_reserve(struct wbuf *w, size_t n, size_t *off);
/* Back-patch inside what was already written. */
int wb_set_u8(struct wbuf *w, size_t off, uint8_t v);
int wb_set_u16(struct wbuf *w, size_t off, uint16_t v);
int wb_set_u32(struct wbuf *w, size_t off, uint32_t v);
/* 0 if no write failed. */
int wb_ok(const struct wbuf *w);

#endif
