/*
 * test_esp.c - the ESP engine (mobiked/esp.c): round trips for every
 * suite, wire layout, tampering, anti-replay, ESN inference, lifetimes and
 * malformed input; then the userspace data plane (dp_user.c) end to end in
 * a private network namespace.
 *
 * ESP_WRITE_CORPUS=DIR writes seeds for tests/fuzz/fuzz_esp.c into DIR
 * (the harness uses the same keys and SPIs, see fuzz_keys()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/nl.h"
#include "mobiked/dp.h"
#include "mobiked/esp.h"
#include "mobiked/ikev2.h"

#define BUF 2048

struct suite {
	uint16_t encr, bits, integ;
};

static const struct suite suites[] = {
    {IKE_ENCR_AES_GCM_16, 128, 0},
    {IKE_ENCR_AES_GCM_16, 256, 0},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_256_128},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_384_192},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_384_192},
    {IKE_ENCR_AES_CBC, 128, IKE_INTEG_HMAC_SHA2_512_256},
    {IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_512_256},
};

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

/* Deterministic keys, the same as the fuzz harness's. */
static void fuzz_keys(uint8_t *k, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed + i * 31);
}

struct pair {
	struct esp_sa out, in;
};

struct pair_opts {
	bool esn;
	uint32_t window;
	uint64_t life_bytes, life_packets;
};

static void pair_init(struct pair *p, const struct suite *s, uint32_t spi,
		      const struct pair_opts *o)
{
	uint8_t ek[CRYPTO_MAX_ENCR_KEY], ik[CRYPTO_MAX_INTEG_KEY];
	struct esp_sa_params prm = {
	    .spi = spi, .dir = SK_OUT, .ekey = ek, .ikey = ik};

	prm.encr = encr_alg_find(s->encr, s->bits);
	prm.integ = s->integ ? integ_alg_find(s->integ) : NULL;
	assert_non_null(prm.encr);
	prm.elen = prm.encr->key_len;
	prm.ilen = prm.integ ? prm.integ->key_len : 0;
	fuzz_keys(ek, sizeof(ek), 1);
	fuzz_keys(ik, sizeof(ik), 2);
	prm.esn = o ? o->esn : false;
	prm.replay_window = o ? o->window : ESP_REPLAY_DEFAULT;
	prm.life_bytes = o ? o->life_bytes : 0;
	prm.life_packets = o ? o->life_packets : 0;
	assert_int_equal(esp_sa_init(&p->out, &prm), 0);
	prm.dir = SK_IN;
	assert_int_equal(esp_sa_init(&p->in, &prm), 0);
}

static void pair_clear(struct pair *p)
{
	esp_sa_clear(&p->out);
	esp_sa_clear(&p->in);
}

/* A fake inner packet: the version nibble, then a pattern. */
static void fill_inner(uint8_t *p, size_t len, int version, unsigned salt)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + salt);
	if (len)
		p[0] = (uint8_t)(version << 4 | (p[0] & 15));
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Encapsulates len bytes (IPv4-looking) into pkt; returns the length. */
static size_t seal(struct esp_sa *out, uint8_t *pkt, size_t len, unsigned salt)
{
	uint8_t inner[BUF];
	int n;

	fill_inner(inner, len, 4, salt);
	n = esp_encap(out, ESP_NH_IPV4, inner, len, pkt, BUF);
	assert_true(n > 0);
	return (size_t)n;
}

/* Encapsulates with sequence number seq. */
static size_t seal_seq(struct esp_sa *out, uint8_t *pkt, uint64_t seq)
{
	out->seq = seq - 1;
	return seal(out, pkt, 40, (unsigned)seq);
}

static int open_copy(struct esp_sa *in, const uint8_t *pkt, size_t len)
{
	uint8_t b[BUF];
	uint8_t nh;

	memcpy(b, pkt, len);
	return esp_decap(in, b, len, &nh);
}

/* ---- round trips and layout ---- */

static void check_layout(const struct esp_sa *in, const uint8_t *pkt,
			 size_t inner, uint8_t nh)
{
	const uint8_t *pt = pkt + esp_headroom(in) + inner;
	size_t i = 0;

	/* after esp_decap the trailer is still in the buffer */
	while (pt[i] == i + 1)
		i++;
	assert_int_equal(pt[i], i);	 /* Pad Length */
	assert_int_equal(pt[i + 1], nh); /* Next Header */
	assert_int_equal((inner + i + 2) % in->align, 0);
	assert_true(i < in->align);
}

static void roundtrip_one(struct pair *p, size_t len, int version)
{
	uint8_t inner[BUF], pkt[BUF], nh = 0;
	uint8_t want_nh = version == 4 ? ESP_NH_IPV4 : ESP_NH_IPV6;
	uint64_t seq = p->out.seq + 1;
	size_t head = esp_headroom(&p->out);
	int n, m;

	fill_inner(inner, len, version, (unsigned)len);
	n = esp_encap(&p->out,
		      esp_next_header(inner, len) ? esp_next_header(inner, len)
						  : want_nh,
		      inner, len, pkt, sizeof(pkt));
	assert_true(n > 0);
	assert_int_equal(be32(pkt), p->out.spi);
	assert_int_equal(be32(pkt + 4), (uint32_t)seq);
	assert_int_equal(((size_t)n - head - p->out.icv_len) % p->out.align, 0);
	assert_true((size_t)n <= len + esp_overhead(&p->out));
	m = esp_decap(&p->in, pkt, (size_t)n, &nh);
	assert_int_equal(m, (int)len);
	assert_int_equal(nh, want_nh);
	assert_memory_equal(pkt + head, inner, len);
	check_layout(&p->in, pkt, len, nh);
}

static void test_roundtrip(void **state)
{
	static const size_t sizes[] = {
	    0,	1,  2,	3,   4,	  5,   13,  14,	  15,	16,   17,   31,
	    40, 63, 64, 100, 255, 256, 577, 1000, 1280, 1399, 1400, 1500};

	for (size_t s = 0; s < NSUITES; s++) {
		for (int esn = 0; esn < 2; esn++) {
			struct pair_opts o = {.esn = esn, .window = 64};
			struct pair p;

			pair_init(&p, &suites[s], 0x11223344, &o);
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]);
			     i++) {
				roundtrip_one(&p, sizes[i], 4);
				roundtrip_one(&p, sizes[i], 6);
			}
			assert_int_equal(p.in.st.packets, p.out.st.packets);
			assert_int_equal(p.in.st.bytes, p.out.st.bytes);
			pair_clear(&p);
		}
	}
}

/* GCM-128: 8-byte header, 8-byte IV, 4-aligned ciphertext, 16-byte ICV. */
static void test_layout_gcm(void **state)
{
	uint8_t inner[64], pkt[BUF];
	struct pair p;

	pair_init(&p, &suites[0], 0xabcdef01, NULL);
	assert_int_equal(esp_headroom(&p.out), 16);
	assert_int_equal(p.out.align, 4);
	fill_inner(inner, 21, 4, 0);
	for (uint32_t seq = 1; seq <= 3; seq++) {
		int n =
		    esp_encap(&p.out, ESP_NH_IPV4, inner, 21, pkt, sizeof(pkt));

		/* 21 + 2 = 23 -> 24: one padding byte */
		assert_int_equal(n, 8 + 8 + 24 + 16);
		assert_memory_equal(pkt, "\xab\xcd\xef\x01", 4);
		assert_int_equal(be32(pkt + 4), seq);
	}
	/* the inner packet already in place: no copy, same result */
	fill_inner(pkt + 16, 21, 4, 0);
	assert_int_equal(esp_encap(&p.out, ESP_NH_IPV4, pkt + 16, 21, pkt, 56),
			 56);
	assert_int_equal(esp_encap(&p.out, ESP_NH_IPV4, pkt + 16, 21, pkt, 55),
			 ESP_E_SPACE);
	pair_clear(&p);
}

/* CBC: 16-byte IV, 16-aligned ciphertext, padding 1..n. */
static void test_layout_cbc(void **state)
{
	uint8_t inner[64], pkt[BUF], nh;
	struct pair p;
	int n;

	pair_init(&p, &suites[2], 0x01020304, NULL);
	assert_int_equal(esp_headroom(&p.out), 24);
	fill_inner(inner, 20, 4, 0);
	n = esp_encap(&p.out, ESP_NH_IPV4, inner, 20, pkt, sizeof(pkt));
	assert_int_equal(n, 8 + 16 + 32 + 16);
	assert_int_equal(esp_decap(&p.in, pkt, (size_t)n, &nh), 20);
	assert_memory_equal(pkt + 24 + 20,
			    "\x01\x02\x03\x04\x05\x06\x07\x08"
			    "\x09\x0a\x0a\x04",
			    12);
	pair_clear(&p);
}

/* ---- tampering ---- */

static void tamper_one(struct pair *p, const uint8_t *good, size_t n,
		       size_t off, int want)
{
	uint8_t b[BUF];
	struct esp_replay before = p->in.rp;
	struct esp_life life = p->in.life;

	memcpy(b, good, n);
	b[off] ^= 0x40;
	assert_int_equal(open_copy(&p->in, b, n), want);
	assert_memory_equal(&before, &p->in.rp, sizeof(before));
	assert_memory_equal(&life, &p->in.life, sizeof(life));
}

static void test_tamper(void **state)
{
	for (size_t s = 0; s < NSUITES; s++) {
		uint8_t pkt[BUF];
		struct pair p;
		size_t n, head;

		pair_init(&p, &suites[s], 0x5a5a0001, NULL);
		head = esp_headroom(&p.in);
		/* one accepted packet so the window is not empty */
		n = seal(&p.out, pkt, 100, 1);
		assert_int_equal(open_copy(&p.in, pkt, n), 100);
		n = seal(&p.out, pkt, 100, 2);
		tamper_one(&p, pkt, n, n - 1, ESP_E_AUTH);    /* ICV */
		tamper_one(&p, pkt, n, head + 3, ESP_E_AUTH); /* ciphertext */
		tamper_one(&p, pkt, n, ESP_HDR_LEN, ESP_E_AUTH); /* IV */
		tamper_one(&p, pkt, n, 6, ESP_E_AUTH);		 /* seq */
		tamper_one(&p, pkt, n, 1, ESP_E_SPI);		 /* SPI */
		assert_int_equal(p.in.st.auth_fail, 4);
		assert_int_equal(p.in.st.bad_spi, 1);
		assert_int_equal(open_copy(&p.in, pkt, n), 100);
		pair_clear(&p);
	}
}

/* ---- anti-replay ---- */

static void test_replay(void **state)
{
	struct pair_opts o = {.window = 64};
	uint8_t pkt[BUF], old[BUF];
	size_t n, nold;
	struct pair p;

	pair_init(&p, &suites[1], 0x0000a001, &o);
	n = seal_seq(&p.out, pkt, 0 + 1);
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	assert_int_equal(open_copy(&p.in, pkt, n), ESP_E_REPLAY); /* dup */
	nold = seal_seq(&p.out, old, 5);
	n = seal_seq(&p.out, pkt, 10);
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	/* out of order within the window: once */
	assert_int_equal(open_copy(&p.in, old, nold), 40);
	assert_int_equal(open_copy(&p.in, old, nold), ESP_E_REPLAY);
	/* a large jump slides the window: 5 + 64 leaves 5 behind */
	n = seal_seq(&p.out, pkt, 1000);
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	n = seal_seq(&p.out, pkt, 1000 - 63); /* last slot inside */
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	n = seal_seq(&p.out, pkt, 1000 - 64); /* first slot outside */
	assert_int_equal(open_copy(&p.in, pkt, n), ESP_E_REPLAY);
	nold = seal_seq(&p.out, old, 10);
	assert_int_equal(open_copy(&p.in, old, nold), ESP_E_REPLAY);
	/* sequence number 0 is never valid */
	n = seal_seq(&p.out, pkt, 1 << 20);
	pkt[4] = pkt[5] = pkt[6] = pkt[7] = 0;
	assert_int_equal(open_copy(&p.in, pkt, n), ESP_E_REPLAY);
	assert_int_equal(p.in.st.replay, 5);
	pair_clear(&p);
}

/* The window against a model (set of seen numbers) for random traffic. */
static void replay_model(uint32_t window, unsigned rounds)
{
	static uint8_t seen[1 << 16];
	struct esp_replay rp;
	uint64_t top = 0;

	memset(seen, 0, sizeof(seen));
	esp_replay_init(&rp, window);
	window = rp.window; /* clamped to ESP_REPLAY_MAX */
	srand(window);
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t s = top + 8 - (uint64_t)(rand() % (int)(window + 64));

		if (rand() % 50 == 0)
			s = top + (uint64_t)(rand() % 3000);
		if (s == 0 || s >= sizeof(seen))
			continue;
		bool ok = s > top || (top - s < window && !seen[s]);

		assert_int_equal(esp_replay_check(&rp, s) == 0, ok);
		if (ok) {
			esp_replay_update(&rp, s);
			seen[s] = 1;
			top = s > top ? s : top;
		}
	}
	assert_int_equal(rp.top, top);
}

static void test_replay_model(void **state)
{
	replay_model(32, 20000);
	replay_model(64, 20000);
	replay_model(1024, 40000);
	replay_model(4096, 60000);
	replay_model(10000, 1000); /* clamped to 4096 */
}

static void test_replay_disabled(void **state)
{
	struct pair_opts o = {.window = 0};
	uint8_t pkt[BUF];
	struct pair p;
	size_t n;

	pair_init(&p, &suites[0], 0x0000a002, &o);
	n = seal_seq(&p.out, pkt, 7);
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	assert_int_equal(open_copy(&p.in, pkt, n), 40);
	pair_clear(&p);
}

/* ---- extended sequence numbers ---- */

static void test_esn_infer(void **state)
{
	struct esp_replay rp;
	uint64_t s;

	esp_replay_init(&rp, 64);
	/* nothing seen: numbers from the "previous" subspace are invalid */
	assert_int_equal(esp_seq_infer(&rp, 0xfffffff0u, &s), -1);
	assert_int_equal(esp_seq_infer(&rp, 5, &s), 0);
	assert_int_equal(s, 5);
	/* Case A: window inside one subspace */
	rp.top = UINT64_C(0x1fffffff0);
	assert_int_equal(esp_seq_infer(&rp, 0xffffffe0u, &s), 0);
	assert_int_equal(s, UINT64_C(0x1ffffffe0));
	assert_int_equal(esp_seq_infer(&rp, 3, &s), 0); /* wrapped */
	assert_int_equal(s, UINT64_C(0x200000003));
	/* Case B: window spans the boundary */
	rp.top = UINT64_C(0x200000010);
	assert_int_equal(esp_seq_infer(&rp, 0xfffffff0u, &s), 0);
	assert_int_equal(s, UINT64_C(0x1fffffff0));
	assert_int_equal(esp_seq_infer(&rp, 0x11, &s), 0);
	assert_int_equal(s, UINT64_C(0x200000011));
}

static void test_esn_wrap(void **state)
{
	for (int s = 0; s < 3; s += 2) {
		struct pair_opts o = {.esn = true, .window = 128};
		uint8_t pkt[BUF], late[BUF];
		size_t n, nlate = 0;
		struct pair p;

		pair_init(&p, &suites[s], 0x0000e001, &o);
		/* both ends have been running a while */
		p.out.seq = p.in.rp.top = UINT64_C(0xffffffe0);
		for (int i = 0; i < 64; i++) {
			n = seal(&p.out, pkt, 60, (unsigned)i);
			if (i == 20) { /* hold 0xfffffff5 back */
				memcpy(late, pkt, n);
				nlate = n;
				continue;
			}
			assert_int_equal(open_copy(&p.in, pkt, n), 60);
		}
		assert_int_equal(p.in.rp.top, UINT64_C(0x100000020));
		/* from before the wrap, still inside the window */
		assert_int_equal(open_copy(&p.in, late, nlate), 60);
		assert_int_equal(open_copy(&p.in, late, nlate), ESP_E_REPLAY);
		pair_clear(&p);
	}
}

static void test_seq_overflow(void **state)
{
	uint8_t pkt[BUF];
	struct pair p;
	int n;

	pair_init(&p, &suites[0], 0x0000f001, NULL);
	p.out.seq = UINT32_MAX - 1;
	assert_true(seal(&p.out, pkt, 10, 0) > 0); /* 0xffffffff is used */
	assert_int_equal(esp_life_take(&p.out), ESP_LIFE_SOFT);
	n = esp_encap(&p.out, ESP_NH_IPV4, pkt + 16, 10, pkt, sizeof(pkt));
	assert_int_equal(n, ESP_E_SEQ_OVERFLOW);
	assert_int_equal(esp_life_take(&p.out), ESP_LIFE_HARD);
	assert_int_equal(p.out.seq, UINT32_MAX);
	pair_clear(&p);
	/* with ESN the counter goes on */
	struct pair_opts o = {.esn = true, .window = 64};

	pair_init(&p, &suites[0], 0x0000f002, &o);
	p.out.seq = UINT32_MAX;
	assert_true(seal(&p.out, pkt, 10, 0) > 0);
	assert_int_equal(p.out.seq, UINT64_C(1) << 32);
	assert_int_equal(be32(pkt + 4), 0);
	pair_clear(&p);
}

/* ---- lifetime ---- */

static void test_lifetime_packets(void **state)
{
	struct pair_opts o = {.window = 64, .life_packets = 10};
	uint8_t pkt[BUF];
	struct pair p;
	size_t n = 0;

	pair_init(&p, &suites[0], 0x0000b001, &o);
	for (int i = 1; i <= 10; i++) {
		n = seal(&p.out, pkt, 50, (unsigned)i);
		assert_int_equal(open_copy(&p.in, pkt, n), 50);
		unsigned want = i == 9	  ? ESP_LIFE_SOFT
				: i == 10 ? ESP_LIFE_HARD
					  : 0;

		assert_int_equal(esp_life_take(&p.out), want);
		assert_int_equal(esp_life_take(&p.in), want);
	}
	assert_int_equal(esp_encap(&p.out, 4, pkt + 16, 50, pkt, sizeof(pkt)),
			 ESP_E_EXPIRED);
	p.out.life.raised = 0; /* pretend the sender did not stop */
	n = seal(&p.out, pkt, 50, 11);
	assert_int_equal(open_copy(&p.in, pkt, n), ESP_E_EXPIRED);
	assert_int_equal(esp_life_take(&p.in), 0); /* raised once only */
	pair_clear(&p);
}

static void test_lifetime_bytes(void **state)
{
	struct pair_opts o = {.window = 64, .life_bytes = 1000};
	uint8_t pkt[BUF];
	struct pair p;

	pair_init(&p, &suites[2], 0x0000b002, &o);
	seal(&p.out, pkt, 800, 0);
	assert_int_equal(esp_life_take(&p.out), 0);
	seal(&p.out, pkt, 100, 0); /* 900: 90% */
	assert_int_equal(esp_life_take(&p.out), ESP_LIFE_SOFT);
	seal(&p.out, pkt, 200, 0); /* crosses: passes, then hard */
	assert_int_equal(esp_life_take(&p.out), ESP_LIFE_HARD);
	assert_int_equal(esp_encap(&p.out, 4, pkt + 24, 1, pkt, sizeof(pkt)),
			 ESP_E_EXPIRED);
	pair_clear(&p);
}

/* ---- malformed ---- */

/* An authentic packet around an arbitrary plaintext (trailer included). */
static size_t seal_raw(struct esp_sa *out, uint8_t *pkt, const uint8_t *pt,
		       size_t len)
{
	size_t head = esp_headroom(out);

	out->seq++;
	pkt[0] = (uint8_t)(out->spi >> 24);
	pkt[1] = (uint8_t)(out->spi >> 16);
	pkt[2] = (uint8_t)(out->spi >> 8);
	pkt[3] = (uint8_t)out->spi;
	pkt[4] = pkt[5] = pkt[6] = 0;
	pkt[7] = (uint8_t)out->seq;
	memcpy(pkt + head, pt, len);
	assert_int_equal(sk_encrypt(out->ctx, pkt, ESP_HDR_LEN, len, NULL), 0);
	return head + len + out->icv_len;
}

static void test_malformed_short(void **state)
{
	uint8_t pkt[BUF];
	struct pair p;
	size_t n;

	for (size_t s = 0; s < 3; s += 2) {
		pair_init(&p, &suites[s], 0x0000c001, NULL);
		memset(pkt, 0, sizeof(pkt));
		n = seal(&p.out, pkt, 40, 0);
		for (size_t k = 0;
		     k < esp_headroom(&p.in) + p.in.icv_len + p.in.align; k++)
			assert_int_equal(open_copy(&p.in, pkt, k),
					 ESP_E_MALFORMED);
		/* ciphertext not aligned (CBC: not whole blocks) */
		assert_int_equal(open_copy(&p.in, pkt, n - 1), ESP_E_MALFORMED);
		assert_int_equal(open_copy(&p.in, pkt, n + 1), ESP_E_MALFORMED);
		if (p.in.align == 16)
			assert_int_equal(open_copy(&p.in, pkt, n - 4),
					 ESP_E_MALFORMED);
		assert_int_equal(p.in.rp.top, 0);
		assert_int_equal(open_copy(&p.in, pkt, n), 40);
		pair_clear(&p);
	}
}

static void test_malformed_trailer(void **state)
{
	static const struct {
		uint8_t pt[16];
		int want;
	} cases[] = {
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 1, 4}, 13},
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 4}, 14},
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 4},
	     ESP_E_MALFORMED}, /* pad length > payload */
	    {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 14, 4},
	     0}, /* all padding: an empty payload */
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 3, 3, 3, 4}, ESP_E_PAD},
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 6},
	     ESP_E_NEXT_HDR},
	    {{0x45, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 59},
	     ESP_E_DUMMY},
	};
	uint8_t pkt[BUF], nh;
	struct pair p;

	for (size_t s = 0; s < 3; s += 2) {
		pair_init(&p, &suites[s], 0x0000c002, NULL);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			size_t n = seal_raw(&p.out, pkt, cases[i].pt, 16);

			assert_int_equal(esp_decap(&p.in, pkt, n, &nh),
					 cases[i].want);
			/* authentic: the window moved anyway */
			assert_int_equal(p.in.rp.top, p.out.seq);
		}
		assert_int_equal(p.in.st.malformed, 1);
		assert_int_equal(p.in.st.bad_pad, 1);
		assert_int_equal(p.in.st.bad_nh, 1);
		assert_int_equal(p.in.st.dummy, 1);
		assert_int_equal(p.in.st.packets, 3);
		pair_clear(&p);
	}
}

static void test_wrong_direction(void **state)
{
	uint8_t pkt[BUF], nh;
	struct pair p;

	pair_init(&p, &suites[0], 0x0000d001, NULL);
	size_t n = seal(&p.out, pkt, 40, 0);

	assert_true(esp_decap(&p.out, pkt, n, &nh) < 0);
	assert_int_equal(esp_encap(&p.in, 4, pkt, 10, pkt + 100, 200),
			 ESP_E_SPACE);
	assert_string_equal(esp_err_name(ESP_E_REPLAY), "replay");
	pair_clear(&p);
}

/* ---- throughput (information only) ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(const struct suite *s, const char *name)
{
	struct pair_opts o = {.window = ESP_REPLAY_DEFAULT};
	uint8_t pkt[BUF], nh;
	struct pair p;
	unsigned n = 0;
	double t0 = now_s(), t;

	pair_init(&p, s, 0x0000f00d, &o);
	fill_inner(pkt + esp_headroom(&p.out), 1400, 4, 0);
	do {
		for (int i = 0; i < 256; i++, n++) {
			int len =
			    esp_encap(&p.out, 4, pkt + esp_headroom(&p.out),
				      1400, pkt, sizeof(pkt));

			assert_int_equal(
			    esp_decap(&p.in, pkt, (size_t)len, &nh), 1400);
		}
		t = now_s() - t0;
	} while (t < 0.25);
	print_message("esp %s: 1400-byte encap+decap %.0f Mbit/s (%.0f kpps) "
		      "on one core\n",
		      name, (double)n * 1400 * 8 / t / 1e6, n / t / 1e3);
	pair_clear(&p);
}

static void test_throughput(void **state)
{
	bench(&suites[1], "AES-GCM-256");
	bench(&suites[3], "AES-CBC-256/HMAC-SHA2-256-128");
}

/* ---- fuzz seeds ---- */

static void write_seed(const char *dir, const char *name, uint8_t mode,
		       const uint8_t *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputc(mode, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

/* Keep in sync with tests/fuzz/fuzz_esp.c: SPIs and suites per mode. */
static void test_write_corpus(void **state)
{
	/* window selector, then sequence numbers */
	static const uint8_t seqs[] = {4, 0, 0, 0, 5,	 0, 0, 0, 3, 0, 0,
				       0, 5, 0, 0, 0x10, 0, 0, 0, 0, 1};
	static const uint8_t pt_bad[16] = {0x45, 1, 2, 3, 4, 5, 6, 7,
					   8,	 9, 1, 2, 3, 5, 4, 4};
	static const uint8_t pt_ok[8] = {0x60, 0, 0, 0, 1, 2, 2, 41};
	const char *dir = getenv("ESP_WRITE_CORPUS");
	struct pair_opts o = {.esn = true, .window = 64};
	struct pair g, c;
	uint8_t pkt[BUF];
	size_t n;

	if (!dir)
		skip();
	pair_init(&g, &suites[1], 0x0a000001, &o);
	pair_init(&c, &suites[3], 0x0c000001, &o);
	n = seal(&g.out, pkt, 60, 1);
	write_seed(dir, "gcm-v4", 0, pkt, n);
	write_seed(dir, "gcm-short", 0, pkt, 20);
	n = seal(&c.out, pkt, 200, 2);
	write_seed(dir, "cbc-v4", 1, pkt, n);
	write_seed(dir, "cbc-misaligned", 1, pkt, n - 4);
	write_seed(dir, "plain-ok", 2, pt_ok, sizeof(pt_ok));
	write_seed(dir, "plain-badpad", 2, pt_bad, sizeof(pt_bad));
	write_seed(dir, "replay-seqs", 3, seqs, sizeof(seqs));
	write_seed(dir, "empty", 0, pkt, 0);
	pair_clear(&g);
	pair_clear(&c);
}

/* ---- dp_user in a private network namespace ----
 *
 *   test socket 10.77.0.2:5555 --route 10.78/16--> esptest0 (TUN)
 *        dp_user: ESP-in-UDP from 127.0.0.1:4500 --> "peer" 127.0.0.1:14500
 *   peer reply --esp--> dp_user_input --> esptest0 --> test socket
 */

#define SPI_IN	0xc0000001u
#define SPI_OUT 0xc0000002u

static int events[2];

static void on_event(void *arg, uint32_t spi, enum dp_event ev)
{
	events[ev]++;
}

static int udp_bound(const char *ip, uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	inet_pton(AF_INET, ip, &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void sin_of(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct ipaddr a;

	assert_int_equal(ipaddr_parse(&a, ip), 0);
	ipaddr_to_sockaddr(&a, port, ss);
}

static void ts_of(struct dp_ts *ts, const char *lo, const char *hi)
{
	memset(ts, 0, sizeof(*ts));
	assert_int_equal(ipaddr_parse(&ts->start, lo), 0);
	assert_int_equal(ipaddr_parse(&ts->end, hi), 0);
	ts->port_hi = 0xffff;
}

struct dpt {
	struct eloop *l;
	struct dp *dp;
	int ike, peer, app;
	uint8_t ek_in[36], ek_out[36];
	struct esp_sa p_in, p_out; /* the peer's SAs: mirrored keys */
};

static void dpt_child(struct dpt *t, struct dp_child *c, uint32_t si,
		      uint32_t so, uint64_t life_packets)
{
	memset(c, 0, sizeof(*c));
	c->spi_in = si;
	c->spi_out = so;
	c->encr = encr_alg_find(IKE_ENCR_AES_GCM_16, 256);
	c->in = (struct dp_sa_keys){t->ek_in, 36, NULL, 0};
	c->out = (struct dp_sa_keys){t->ek_out, 36, NULL, 0};
	c->replay_window = 64;
	c->life_packets = life_packets;
	sin_of(&c->local, "127.0.0.1", 4500);
	sin_of(&c->remote, "127.0.0.1", 14500);
	ts_of(&c->local_ts[0], "10.77.0.2", "10.77.0.2");
	ts_of(&c->remote_ts[0], "10.78.0.0", "10.78.255.255");
	ts_of(&c->remote_ts[1], "10.79.0.1", "10.79.0.6");   /* 4 prefixes */
	ts_of(&c->remote_ts[2], "127.0.0.0", "127.0.0.255"); /* the gateway */
	c->n_local_ts = 1;
	c->n_remote_ts = 3;
}

static void peer_sas(struct dpt *t, uint32_t si, uint32_t so)
{
	struct esp_sa_params p = {.spi = so,
				  .dir = SK_IN,
				  .ekey = t->ek_out,
				  .elen = 36,
				  .replay_window = 64};

	p.encr = encr_alg_find(IKE_ENCR_AES_GCM_16, 256);
	assert_int_equal(esp_sa_init(&t->p_in, &p), 0);
	p.spi = si;
	p.dir = SK_OUT;
	p.ekey = t->ek_in;
	assert_int_equal(esp_sa_init(&t->p_out, &p), 0);
}

/* Routes in the main table through the TUN, as "a.b.c.d/len" lines. */
struct routes {
	int oif;
	char s[512];
};

static void route_cb(void *arg, const struct nl_event *ev)
{
	struct routes *r = arg;
	char a[IPADDR_STRLEN], line[64];

	if (ev->type != NL_ROUTE_NEW || ev->route.oif != r->oif ||
	    ev->route.table != 254 || ev->route.family != AF_INET)
		return;
	snprintf(line, sizeof(line), "%s/%u ", ipaddr_str(&ev->route.dst, a),
		 ev->route.dst_len);
	strncat(r->s, line, sizeof(r->s) - strlen(r->s) - 1);
}

static void check_routes(struct dpt *t, const char *want)
{
	struct routes r = {.oif = nl_ifindex("esptest0")};
	struct nlmon *m = nlmon_open(t->l, route_cb, &r);

	assert_non_null(m);
	assert_int_equal(nlmon_dump(m), 0);
	for (int i = 0; i < 20 && eloop_run_once(t->l, 50) > 0; i++)
		;
	nlmon_close(m);
	assert_string_equal(r.s, want);
}

/* Runs the loop until fd is readable; then reads it. */
static ssize_t pump_recv(struct dpt *t, int fd, uint8_t *b, size_t cap)
{
	for (int i = 0; i < 40; i++) {
		struct pollfd p = {.fd = fd, .events = POLLIN};

		if (poll(&p, 1, 0) == 1)
			return recv(fd, b, cap, 0);
		eloop_run_once(t->l, 50);
	}
	return -1;
}

static void app_send(struct dpt *t, const char *msg)
{
	struct sockaddr_storage to;

	sin_of(&to, "10.78.0.5", 7777);
	assert_int_equal(sendto(t->app, msg, strlen(msg), 0,
				(struct sockaddr *)&to,
				sizeof(struct sockaddr_in)),
			 (ssize_t)strlen(msg));
}

/* The peer receives ESP and finds the app's datagram inside. */
static void peer_expect(struct dpt *t, int fd, const char *msg)
{
	uint8_t b[BUF], nh, *ip;
	ssize_t n = pump_recv(t, fd, b, sizeof(b));
	int m;

	assert_true(n > 0);
	assert_int_equal(be32(b), SPI_OUT);
	m = esp_decap(&t->p_in, b, (size_t)n, &nh);
	assert_int_equal(m, 28 + (int)strlen(msg));
	ip = b + esp_headroom(&t->p_in);
	assert_int_equal(nh, ESP_NH_IPV4);
	assert_memory_equal(ip + 12, "\x0a\x4d\x00\x02\x0a\x4e\x00\x05", 8);
	assert_int_equal(ip[9], 17);
	assert_memory_equal(ip + 22, "\x1e\x61", 2); /* dport 7777 */
	assert_memory_equal(ip + 28, msg, strlen(msg));
}

static void ip4_csum(uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	h[10] = (uint8_t)(~sum >> 8);
	h[11] = (uint8_t)~sum;
}

/* An ESP packet from the peer holding UDP src:7777 -> 10.77.0.2:5555. */
static size_t peer_reply(struct dpt *t, uint8_t *pkt, const uint8_t src[4],
			 const char *msg)
{
	size_t head = esp_headroom(&t->p_out), len = 28 + strlen(msg);
	uint8_t *ip = pkt + head;
	int n;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, "\x0a\x4d\x00\x02", 4);
	ip4_csum(ip);
	memcpy(ip + 20, "\x1e\x61\x15\xb3", 4); /* 7777 -> 5555 */
	ip[24] = (uint8_t)((len - 20) >> 8);
	ip[25] = (uint8_t)(len - 20);
	memcpy(ip + 28, msg, strlen(msg));
	n = esp_encap(&t->p_out, ESP_NH_IPV4, ip, len, pkt, BUF);
	assert_true(n > 0);
	return (size_t)n;
}

static void dpt_setup(struct dpt *t)
{
	struct ipaddr vip;
	struct dp_child c;

	for (size_t i = 0; i < 36; i++) {
		t->ek_in[i] = (uint8_t)(i + 1);
		t->ek_out[i] = (uint8_t)(0xa0 + i);
	}
	assert_int_equal(nl_link_set_up(nl_ifindex("lo"), true), 0);
	t->ike = udp_bound("127.0.0.1", 4500);
	t->peer = udp_bound("127.0.0.1", 14500);
	t->l = eloop_new();
	t->dp = dp_user_new(t->l, t->ike, "esptest0", on_event, NULL);
	assert_non_null(t->dp);
	assert_int_equal(ipaddr_parse(&vip, "10.77.0.2"), 0);
	assert_int_equal(t->dp->ops->set_vip(t->dp, &vip, NULL), 0);
	dpt_child(t, &c, SPI_IN, SPI_OUT, 0);
	assert_int_equal(t->dp->ops->add_child(t->dp, &c), 0);
	assert_int_equal(t->dp->ops->add_child(t->dp, &c), -EEXIST);
	peer_sas(t, SPI_IN, SPI_OUT);
	t->app = udp_bound("10.77.0.2", 5555);
}

static void dpt_inbound(struct dpt *t)
{
	struct sockaddr_storage from;
	struct dp_counters ctr;
	uint8_t pkt[BUF], b[BUF];
	size_t n;

	sin_of(&from, "127.0.0.1", 14500);
	n = peer_reply(t, pkt, (const uint8_t *)"\x0a\x4e\x00\x05", "reply");
	dp_user_input(t->dp, pkt, n, &from);
	assert_int_equal(pump_recv(t, t->app, b, sizeof(b)), 5);
	assert_memory_equal(b, "reply", 5);
	dp_user_input(t->dp, pkt, n, &from); /* replayed */
	n = peer_reply(t, pkt, (const uint8_t *)"\x0a\x63\x00\x01", "spoof");
	dp_user_input(t->dp, pkt, n, &from); /* outside the remote TS */
	pkt[0] ^= 1;
	dp_user_input(t->dp, pkt, n, &from); /* unknown SPI */
	assert_int_equal(t->dp->ops->counters(t->dp, SPI_IN, &ctr), 0);
	assert_int_equal(ctr.in_packets, 1);
	assert_int_equal(ctr.in_replay, 1);
	assert_int_equal(ctr.in_policy, 1);
	assert_int_equal(ctr.out_packets, 1);
	assert_int_equal(t->dp->ops->counters(t->dp, 0, &ctr), 0);
	assert_int_equal(ctr.in_no_sa, 1);
}

/* MOBIKE: the peer moves to port 14501; the SA follows in place. */
static void dpt_move(struct dpt *t)
{
	struct sockaddr_storage l, r;
	int peer2 = udp_bound("127.0.0.1", 14501);

	sin_of(&l, "127.0.0.1", 4500);
	sin_of(&r, "127.0.0.1", 14501);
	assert_int_equal(t->dp->ops->update_endpoints(t->dp, SPI_IN, &l, &r),
			 0);
	app_send(t, "moved");
	peer_expect(t, peer2, "moved");
	close(peer2);
}

/* A CHILD_SA with a 2-packet life: soft after 1 (90%), hard after 2. */
static void dpt_expiry(struct dpt *t)
{
	struct dp_child c;

	assert_int_equal(t->dp->ops->del_child(t->dp, SPI_IN), 0);
	check_routes(t, "");
	dpt_child(t, &c, SPI_IN + 2, SPI_OUT, 2);
	assert_int_equal(t->dp->ops->add_child(t->dp, &c), 0);
	esp_replay_init(&t->p_in.rp, 64);
	app_send(t, "one");
	peer_expect(t, t->peer, "one");
	assert_int_equal(events[DP_EV_SOFT_EXPIRE], 1);
	app_send(t, "two");
	peer_expect(t, t->peer, "two");
	assert_int_equal(events[DP_EV_HARD_EXPIRE], 1);
}

static void test_dp_user_netns(void **state)
{
	struct dpt t;

	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s; skipped\n",
			      strerror(errno));
		skip();
	}
	memset(&t, 0, sizeof(t));
	dpt_setup(&t);
	check_routes(&t, "10.78.0.0/16 10.79.0.1/32 10.79.0.2/31 "
			 "10.79.0.4/31 10.79.0.6/32 ");
	app_send(&t, "hello esp");
	peer_expect(&t, t.peer, "hello esp");
	dpt_inbound(&t);
	dpt_move(&t);
	dpt_expiry(&t);
	t.dp->ops->free(t.dp);
	esp_sa_clear(&t.p_in);
	esp_sa_clear(&t.p_out);
	eloop_free(t.l);
	close(t.ike);
	close(t.peer);
	close(t.app);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_layout_gcm),
	    cmocka_unit_test(test_layout_cbc),
	    cmocka_unit_test(test_tamper),
	    cmocka_unit_test(test_replay),
	    cmocka_unit_test(test_replay_model),
	    cmocka_unit_test(test_replay_disabled),
	    cmocka_unit_test(test_esn_infer),
	    cmocka_unit_test(test_esn_wrap),
	    cmocka_unit_test(test_seq_overflow),
	    cmocka_unit_test(test_lifetime_packets),
	    cmocka_unit_test(test_lifetime_bytes),
	    cmocka_unit_test(test_malformed_short),
	    cmocka_unit_test(test_malformed_trailer),
	    cmocka_unit_test(test_wrong_direction),
	    cmocka_unit_test(test_throughput),
	    cmocka_unit_test(test_write_corpus),
	    cmocka_unit_test(test_dp_user_netns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
