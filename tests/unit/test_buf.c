/* test_buf.c - every bounds case of the reader and writer all parsers use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/buf.h"

static const uint8_t seq8[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

/* Calls the getter of `size` bytes, widened; the output starts as all ones
 * so a failed get visibly zeroes it. */
static int get(struct rbuf *r, size_t size, uint64_t *v)
{
	uint8_t v8 = 0xff;
	uint16_t v16 = 0xffff;
	uint32_t v32 = 0xffffffff;
	int rc;

	*v = UINT64_MAX;
	switch (size) {
	case 1:
		rc = rb_u8(r, &v8);
		*v = v8;
		return rc;
	case 2:
		rc = rb_u16(r, &v16);
		*v = v16;
		return rc;
	case 4:
		rc = rb_u32(r, &v32);
		*v = v32;
		return rc;
	default:
		return rb_u64(r, v);
	}
}

static const size_t sizes[] = {1, 2, 4, 8};

static void getters_exact_length(void **state)
{
	static const uint64_t want[] = {0x01, 0x0102, 0x01020304,
					0x0102030405060708ULL};
	struct rbuf r;
	uint64_t v;

	for (size_t i = 0; i < 4; i++) {
		rb_init(&r, seq8, sizes[i]);
		assert_int_equal(get(&r, sizes[i], &v), 0);
		assert_int_equal(v, want[i]);
		assert_int_equal(rb_left(&r), 0);
		assert_int_equal(rb_end(&r), 0);
	}
}

static void getters_one_short(void **state)
{
	struct rbuf r;
	uint64_t v;
	uint8_t b = 0xff;

	for (size_t i = 0; i < 4; i++) {
		rb_init(&r, seq8, sizes[i] - 1);
		assert_int_equal(get(&r, sizes[i], &v), -1);
		assert_int_equal(v, 0);
		assert_true(r.failed);
		assert_int_equal(rb_left(&r), sizes[i] - 1); /* not consumed */
		/* latched: even a byte that is there is no longer handed out */
		if (sizes[i] > 1) {
			assert_int_equal(rb_u8(&r, &b), -1);
			assert_int_equal(b, 0);
		}
		assert_int_equal(rb_end(&r), -1);
	}
}

static void getters_zero_length(void **state)
{
	struct rbuf r;
	uint64_t v;

	for (size_t i = 0; i < 4; i++) {
		rb_init(&r, seq8, 0);
		assert_int_equal(get(&r, sizes[i], &v), -1);
		assert_int_equal(v, 0);
		rb_init(&r, NULL, 0);
		assert_int_equal(get(&r, sizes[i], &v), -1);
		assert_int_equal(v, 0);
		assert_true(r.failed);
	}
	rb_init(&r, NULL, 100); /* no data means no length */
	assert_int_equal(rb_left(&r), 0);
}

static void failure_latches_and_zeroes(void **state)
{
	const uint8_t *p = seq8;
	struct rbuf r, sub;
	uint8_t dst[4] = {9, 9, 9, 9}, b = 9;
	uint64_t v;

	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_skip(&r, sizeof(seq8) + 1), -1);
	assert_int_equal(rb_left(&r), sizeof(seq8)); /* all still there */
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(get(&r, sizes[i], &v), -1);
		assert_int_equal(v, 0);
	}
	assert_int_equal(rb_bytes(&r, dst, sizeof(dst)), -1);
	assert_memory_equal(dst, "\0\0\0\0", 4);
	assert_int_equal(rb_ptr(&r, &p, 1), -1);
	assert_null(p);
	assert_int_equal(rb_skip(&r, 0), -1);
	assert_int_equal(rb_sub(&r, &sub, 1), -1);
	assert_true(sub.failed);
	assert_int_equal(rb_left(&sub), 0);
	rb_rest(&r, &sub);
	assert_true(sub.failed);
	assert_int_equal(rb_end(&sub), -1);
	assert_int_equal(rb_peek_u8(&r, &b), -1);
	assert_int_equal(b, 0);
	assert_int_equal(rb_end(&r), -1);
}

static void peek_does_not_latch(void **state)
{
	struct rbuf r;
	uint8_t b = 9;

	rb_init(&r, seq8, 1);
	assert_int_equal(rb_peek_u8(&r, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(rb_left(&r), 1); /* not consumed */
	assert_int_equal(rb_u8(&r, &b), 0);
	b = 9;
	assert_int_equal(rb_peek_u8(&r, &b), -1); /* at the end */
	assert_int_equal(b, 0);
	assert_false(r.failed);
	assert_int_equal(rb_end(&r), 0);
	rb_init(&r, seq8, 0);
	assert_int_equal(rb_peek_u8(&r, &b), -1);
	assert_false(r.failed);
}

static void bytes_bounds(void **state)
{
	uint8_t dst[sizeof(seq8) + 1];
	struct rbuf r;

	rb_init(&r, seq8, 4);
	assert_int_equal(rb_bytes(&r, dst, 0), 0);
	assert_int_equal(rb_bytes(&r, dst, 4), 0);
	assert_memory_equal(dst, seq8, 4);
	assert_int_equal(rb_end(&r), 0);
	assert_int_equal(rb_bytes(&r, dst, 0), 0); /* empty read at the end */

	/* one more than left: nothing copied, all of dst zeroed */
	rb_init(&r, seq8, sizeof(seq8));
	memset(dst, 0xaa, sizeof(dst));
	assert_int_equal(rb_bytes(&r, dst, sizeof(seq8) + 1), -1);
	for (size_t i = 0; i < sizeof(dst); i++)
		assert_int_equal(dst[i], 0);
	assert_true(r.failed);

	/* a length no input can satisfy (an underflowed one) fails cleanly
	 * and is not used to zero: dst holds far fewer bytes */
	for (size_t pos = 1; pos < 3; pos++) {
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_bytes(&r, dst, SIZE_MAX - pos + 1), -1);
		assert_true(r.failed);
	}
	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_bytes(&r, dst, SIZE_MAX), -1);
	assert_int_equal(rb_left(&r), sizeof(seq8));
	rb_init(&r, NULL, 0);
	assert_int_equal(rb_bytes(&r, dst, 0), 0);
	assert_int_equal(rb_end(&r), 0);
}

static void ptr_bounds(void **state)
{
	const uint8_t *p = NULL;
	struct rbuf r;

	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_skip(&r, 2), 0);
	assert_int_equal(rb_ptr(&r, &p, 10), 0);
	assert_ptr_equal(p, seq8 + 2);
	assert_int_equal(rb_ptr(&r, &p, 0), 0); /* empty borrow at the end */
	assert_non_null(p);
	assert_int_equal(rb_ptr(&r, &p, 1), -1);
	assert_null(p);
	assert_true(r.failed);

	/* pos + n would wrap to a small number */
	for (size_t pos = 1; pos < 4; pos++) {
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_ptr(&r, &p, SIZE_MAX - pos + 1), -1);
		assert_null(p);
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_ptr(&r, &p, SIZE_MAX), -1);
	}
	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_ptr(&r, &p, SIZE_MAX), -1);
	assert_null(p);
	rb_init(&r, NULL, 0);
	assert_int_equal(rb_ptr(&r, &p, 0), 0);
	assert_false(r.failed);
}

static void skip_bounds(void **state)
{
	struct rbuf r;
	uint8_t b;

	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_skip(&r, 0), 0);
	assert_int_equal(rb_skip(&r, 11), 0);
	assert_int_equal(rb_u8(&r, &b), 0);
	assert_int_equal(b, 12);
	assert_int_equal(rb_skip(&r, 1), -1);
	for (size_t pos = 1; pos < 4; pos++) {
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_skip(&r, SIZE_MAX - pos + 1), -1);
		assert_int_equal(rb_left(&r), sizeof(seq8) - pos);
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_skip(&r, SIZE_MAX), -1);
	}
	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_skip(&r, sizeof(seq8) + 1), -1);
	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_skip(&r, SIZE_MAX), -1);
	assert_int_equal(rb_left(&r), sizeof(seq8));
	rb_init(&r, NULL, 0);
	assert_int_equal(rb_skip(&r, 0), 0);
	assert_int_equal(rb_end(&r), 0);
}

static void sub_bounds_and_independence(void **state)
{
	struct rbuf r, sub;
	uint16_t v16;
	uint8_t b;

	rb_init(&r, seq8, 6);
	assert_int_equal(rb_u8(&r, &b), 0);
	assert_int_equal(rb_sub(&r, &sub, 3), 0);
	assert_int_equal(rb_left(&r), 2); /* parent advanced past the sub */
	assert_int_equal(rb_left(&sub), 3);
	assert_int_equal(rb_u16(&sub, &v16), 0);
	assert_int_equal(v16, 0x0203);
	/* a failure in the sub stays in the sub */
	assert_int_equal(rb_u16(&sub, &v16), -1);
	assert_false(r.failed);
	assert_int_equal(rb_u8(&r, &b), 0);
	assert_int_equal(b, 5); /* the sub's bytes are not read again */
	/* and a failure in the parent does not reach the sub */
	rb_init(&r, seq8, 4);
	assert_int_equal(rb_sub(&r, &sub, 2), 0);
	assert_int_equal(rb_u32(&r, &(uint32_t){0}), -1);
	assert_int_equal(rb_u16(&sub, &v16), 0);
	assert_int_equal(v16, 0x0102);
	assert_int_equal(rb_end(&sub), 0);

	/* n > left: sub empty and failed, parent failed and not advanced */
	rb_init(&r, seq8, 4);
	assert_int_equal(rb_sub(&r, &sub, 5), -1);
	assert_true(sub.failed);
	assert_int_equal(rb_left(&sub), 0);
	assert_true(r.failed);
	assert_int_equal(rb_left(&r), 4);
	for (size_t pos = 1; pos < 3; pos++) {
		rb_init(&r, seq8, sizeof(seq8));
		assert_int_equal(rb_skip(&r, pos), 0);
		assert_int_equal(rb_sub(&r, &sub, SIZE_MAX - pos + 1), -1);
		assert_int_equal(rb_left(&sub), 0);
	}
	rb_init(&r, seq8, sizeof(seq8));
	assert_int_equal(rb_sub(&r, &sub, SIZE_MAX), -1);
	assert_int_equal(rb_left(&sub), 0);
	/* a zero-length sub is fine, even at the end or on no data */
	rb_init(&r, seq8, 0);
	assert_int_equal(rb_sub(&r, &sub, 0), 0);
	assert_int_equal(rb_end(&sub), 0);
	rb_init(&r, NULL, 0);
	assert_int_equal(rb_sub(&r, &sub, 0), 0);
	assert_false(sub.failed);
}

static void rest(void **state)
{
	struct rbuf r, sub;
	uint8_t b;

	rb_init(&r, seq8, 5);
	assert_int_equal(rb_skip(&r, 2), 0);
	rb_rest(&r, &sub);
	assert_int_equal(rb_left(&sub), 3);
	assert_int_equal(rb_end(&r), 0); /* parent fully consumed */
	assert_int_equal(rb_u8(&sub, &b), 0);
	assert_int_equal(b, 3);

	rb_init(&r, seq8, 2); /* empty: rest is empty, not failed */
	assert_int_equal(rb_skip(&r, 2), 0);
	rb_rest(&r, &sub);
	assert_false(sub.failed);
	assert_int_equal(rb_left(&sub), 0);
	assert_int_equal(rb_end(&sub), 0);
	assert_int_equal(rb_end(&r), 0);

	rb_init(&r, NULL, 0);
	rb_rest(&r, &sub);
	assert_false(sub.failed);
	assert_false(r.failed);
	assert_int_equal(rb_end(&sub), 0);
}

static void end_checks(void **state)
{
	struct rbuf r;
	uint8_t b;

	rb_init(&r, seq8, 2);
	assert_int_equal(rb_end(&r), -1); /* nothing read */
	assert_int_equal(rb_u8(&r, &b), 0);
	assert_int_equal(rb_end(&r), -1); /* one trailing byte */
	assert_int_equal(rb_u8(&r, &b), 0);
	assert_int_equal(rb_end(&r), 0);
	assert_int_equal(rb_u8(&r, &b), -1); /* consumed all, then failed */
	assert_int_equal(rb_end(&r), -1);
	rb_init(&r, seq8, 0);
	assert_int_equal(rb_end(&r), 0);
}

static void network_byte_order(void **state)
{
	static const uint8_t be[] = {0x12, 0x34, 0x89, 0xab, 0xcd, 0xef, 0xfe,
				     0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
	uint8_t out[sizeof(be)];
	struct rbuf r;
	struct wbuf w;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	rb_init(&r, be, sizeof(be));
	assert_int_equal(rb_u16(&r, &v16), 0);
	assert_int_equal(rb_u32(&r, &v32), 0);
	assert_int_equal(rb_u64(&r, &v64), 0);
	assert_int_equal(rb_end(&r), 0);
	assert_int_equal(v16, 0x1234);
	assert_int_equal(v32, 0x89abcdef);
	assert_true(v64 == 0xfedcba9876543210ULL);

	wb_init(&w, out, sizeof(out));
	assert_int_equal(wb_u16(&w, 0x1234), 0);
	assert_int_equal(wb_u32(&w, 0x89abcdef), 0);
	assert_int_equal(wb_u64(&w, 0xfedcba9876543210ULL), 0);
	assert_int_equal(wb_ok(&w), 0);
	assert_int_equal(w.len, sizeof(be));
	assert_memory_equal(out, be, sizeof(be));
}

/* ---- writer ---- */

/* Writes a value of `size` bytes with the matching wb_* call. */
static int put(struct wbuf *w, size_t size, uint64_t v)
{
	switch (size) {
	case 1:
		return wb_u8(w, (uint8_t)v);
	case 2:
		return wb_u16(w, (uint16_t)v);
	case 4:
		return wb_u32(w, (uint32_t)v);
	default:
		return wb_u64(w, v);
	}
}

static void writers_exact_and_over(void **state)
{
	uint8_t buf[16];
	struct wbuf w;

	for (size_t i = 0; i < 4; i++) {
		memset(buf, 0xaa, sizeof(buf));
		wb_init(&w, buf, sizes[i]);
		assert_int_equal(put(&w, sizes[i], 0x0102030405060708ULL), 0);
		assert_int_equal(w.len, sizes[i]);
		assert_int_equal(wb_room(&w), 0);
		assert_memory_equal(buf, seq8 + 8 - sizes[i], sizes[i]);
		assert_int_equal(buf[sizes[i]], 0xaa);
		assert_int_equal(wb_ok(&w), 0);

		/* one byte short: nothing written at all, latched */
		memset(buf, 0xaa, sizeof(buf));
		wb_init(&w, buf, sizes[i] - 1);
		assert_int_equal(put(&w, sizes[i], 0), -1);
		assert_int_equal(w.len, 0);
		for (size_t j = 0; j < sizeof(buf); j++)
			assert_int_equal(buf[j], 0xaa);
		assert_int_equal(wb_ok(&w), -1);
	}
}

static void bytes_and_zero(void **state)
{
	uint8_t buf[8];
	struct wbuf w;

	memset(buf, 0xaa, sizeof(buf));
	wb_init(&w, buf, 6);
	assert_int_equal(wb_bytes(&w, seq8, 0), 0);
	assert_int_equal(wb_bytes(&w, seq8, 3), 0);
	assert_int_equal(wb_zero(&w, 3), 0); /* exactly the room left */
	assert_memory_equal(buf, "\1\2\3\0\0\0\xaa", 7);
	assert_int_equal(wb_zero(&w, 0), 0);
	assert_int_equal(wb_bytes(&w, seq8, 0), 0);
	assert_int_equal(wb_zero(&w, 1), -1);
	assert_int_equal(wb_ok(&w), -1);

	wb_init(&w, buf, 6);
	assert_int_equal(wb_bytes(&w, seq8, 7), -1);
	assert_int_equal(w.len, 0);
	for (size_t pos = 1; pos < 3; pos++) {
		wb_init(&w, buf, sizeof(buf));
		assert_int_equal(wb_zero(&w, pos), 0);
		assert_int_equal(wb_bytes(&w, seq8, SIZE_MAX - pos + 1), -1);
		wb_init(&w, buf, sizeof(buf));
		assert_int_equal(wb_zero(&w, pos), 0);
		assert_int_equal(wb_zero(&w, SIZE_MAX - pos + 1), -1);
		assert_int_equal(w.len, pos);
	}
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(wb_bytes(&w, seq8, SIZE_MAX), -1);
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(wb_zero(&w, SIZE_MAX), -1);
	assert_int_equal(w.len, 0);
}

static void reserve_and_patch(void **state)
{
	uint8_t buf[12];
	size_t off1, off2, off4;
	struct wbuf w;

	memset(buf, 0xaa, sizeof(buf));
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(wb_u8(&w, 0x7f), 0);
	assert_int_equal(wb_reserve(&w, 4, &off4), 0);
	assert_int_equal(off4, 1);
	assert_int_equal(wb_reserve(&w, 2, &off2), 0);
	assert_int_equal(off2, 5);
	assert_int_equal(wb_reserve(&w, 1, &off1), 0);
	assert_int_equal(off1, 7);
	assert_memory_equal(buf, "\x7f\0\0\0\0\0\0\0\xaa", 9); /* zeroed */
	assert_int_equal(wb_set_u32(&w, off4, 0xdeadbeef), 0);
	assert_int_equal(wb_set_u16(&w, off2, 0xcafe), 0);
	assert_int_equal(wb_set_u8(&w, off1, 0x42), 0); /* ends at len */
	assert_memory_equal(buf, "\x7f\xde\xad\xbe\xef\xca\xfe\x42\xaa", 9);
	assert_int_equal(w.len, 8);
	assert_int_equal(wb_ok(&w), 0);

	/* reserving more than the room fails like any write */
	assert_int_equal(wb_reserve(&w, 5, &off1), -1);
	assert_int_equal(w.len, 8);
	assert_int_equal(wb_ok(&w), -1);
}

/* Each back-patch that reaches past what was written (off + size > len),
 * including offsets where off + size wraps, fails and latches. */
static void patch_out_of_range(void **state)
{
	static const struct {
		size_t size, off;
	} bad[] = {
	    {1, 4},
	    {2, 3},
	    {4, 1},
	    {1, 5},
	    {2, 4},
	    {4, 4},
	    {1, SIZE_MAX},
	    {2, SIZE_MAX},
	    {2, SIZE_MAX - 1},
	    {4, SIZE_MAX - 1},
	    {4, SIZE_MAX - 3},
	};
	uint8_t buf[8];
	struct wbuf w;
	int rc;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(buf, 0xaa, sizeof(buf));
		wb_init(&w, buf, sizeof(buf));
		assert_int_equal(wb_u32(&w, 0), 0); /* len 4, room 4 */
		if (bad[i].size == 1)
			rc = wb_set_u8(&w, bad[i].off, 1);
		else if (bad[i].size == 2)
			rc = wb_set_u16(&w, bad[i].off, 1);
		else
			rc = wb_set_u32(&w, bad[i].off, 1);
		assert_int_equal(rc, -1);
		assert_int_equal(wb_ok(&w), -1);
		assert_memory_equal(buf, "\0\0\0\0\xaa\xaa\xaa\xaa", 8);
	}
	/* the in-range edge cases succeed */
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(wb_u32(&w, 0), 0);
	assert_int_equal(wb_set_u8(&w, 3, 1), 0);
	assert_int_equal(wb_set_u16(&w, 2, 1), 0);
	assert_int_equal(wb_set_u32(&w, 0, 1), 0);
	assert_int_equal(wb_ok(&w), 0);
}

static void writer_latches(void **state)
{
	uint8_t buf[4];
	size_t off;
	struct wbuf w;

	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(wb_u8(&w, 1), 0);
	assert_int_equal(wb_u32(&w, 2), -1);
	assert_int_equal(wb_ok(&w), -1);
	/* everything after a failure fails, even what would fit */
	assert_int_equal(wb_u8(&w, 3), -1);
	assert_int_equal(wb_u16(&w, 3), -1);
	assert_int_equal(wb_bytes(&w, seq8, 1), -1);
	assert_int_equal(wb_zero(&w, 1), -1);
	assert_int_equal(wb_reserve(&w, 1, &off), -1);
	assert_int_equal(wb_set_u8(&w, 0, 9), -1);
	assert_int_equal(w.len, 1);
	assert_int_equal(buf[0], 1);
	assert_int_equal(wb_ok(&w), -1);
}

static void zero_capacity(void **state)
{
	uint8_t buf[1] = {0xaa};
	size_t off = 99;
	struct wbuf w;

	wb_init(&w, buf, 0);
	assert_int_equal(wb_room(&w), 0);
	assert_int_equal(wb_bytes(&w, seq8, 0), 0); /* nothing fits nothing */
	assert_int_equal(wb_zero(&w, 0), 0);
	assert_int_equal(wb_reserve(&w, 0, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(wb_ok(&w), 0);
	assert_int_equal(wb_u8(&w, 1), -1);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(wb_ok(&w), -1);

	wb_init(&w, NULL, 16); /* no storage means no room */
	assert_int_equal(wb_room(&w), 0);
	assert_int_equal(wb_bytes(&w, seq8, 0), 0);
	assert_int_equal(wb_zero(&w, 0), 0);
	assert_int_equal(wb_ok(&w), 0);
	for (size_t i = 0; i < 4; i++) {
		wb_init(&w, NULL, 16);
		assert_int_equal(put(&w, sizes[i], 1), -1);
		assert_int_equal(wb_ok(&w), -1);
	}
	wb_init(&w, NULL, 0);
	assert_int_equal(wb_set_u8(&w, 0, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(getters_exact_length),
	    cmocka_unit_test(getters_one_short),
	    cmocka_unit_test(getters_zero_length),
	    cmocka_unit_test(failure_latches_and_zeroes),
	    cmocka_unit_test(peek_does_not_latch),
	    cmocka_unit_test(bytes_bounds),
	    cmocka_unit_test(ptr_bounds),
	    cmocka_unit_test(skip_bounds),
	    cmocka_unit_test(sub_bounds_and_independence),
	    cmocka_unit_test(rest),
	    cmocka_unit_test(end_checks),
	    cmocka_unit_test(network_byte_order),
	    cmocka_unit_test(writers_exact_and_over),
	    cmocka_unit_test(bytes_and_zero),
	    cmocka_unit_test(reserve_and_patch),
	    cmocka_unit_test(patch_out_of_range),
	    cmocka_unit_test(writer_latches),
	    cmocka_unit_test(zero_capacity),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
