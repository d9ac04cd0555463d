/*
 * test_ike_frag.c - RFC 7383 IKE fragmentation.  The reassembler and the
 * fragmenter on their own (fixed keys, GCM and CBC): in and out of order,
 * duplicates, bad Fragment Number / Total, Total growing and shrinking, a
 * fragment failing its ICV, oversize messages, the reassembly timeout, and
 * our fragments round-tripped; then the engine against the mini gateway of
 * ike_peer.h: a fragmented IKE_AUTH response (also across a
 * retransmission), our fragmented IKE_AUTH request and its retransmission,
 * the gateway's fragmented requests with the cached (fragmented) answer
 * replayed for a retransmitted fragment 1 only, an unknown critical inner
 * payload, interleaved request and response fragments, and the
 * fragment_size key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four headers it needs */

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/json.h"
#include "common/log.h"
#include "mobiked/ike.h"
#include "mobiked/ike_frag.h"
#include "mobiked/ike_task.h"

#include "ike_peer.h"

static struct ike_defrag d; /* large: off the stack */

/* --- pure: fixed keys, one context per direction ------------------------- */

struct pure {
	struct sk_ctx *out, *in;
	bool cbc;
};

static int setup_keys(void **state, bool cbc)
{
	static const uint8_t ek[36] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	static const uint8_t ik[32] = {42, 43, 44};
	const struct encr_alg *a =
	    encr_alg_find(cbc ? IKE_ENCR_AES_CBC : IKE_ENCR_AES_GCM_16, 256);
	const struct integ_alg *i =
	    cbc ? integ_alg_find(IKE_INTEG_HMAC_SHA2_256_128) : NULL;
	struct pure *p = calloc(1, sizeof(*p));

	log_set_level(NULL, L_ERR);
	p->cbc = cbc;
	p->out =
	    sk_ctx_new(a, i, ek, a->key_len, ik, i ? i->key_len : 0, SK_OUT);
	p->in = sk_ctx_new(a, i, ek, a->key_len, ik, i ? i->key_len : 0, SK_IN);
	assert_non_null(p->out);
	assert_non_null(p->in);
	ike_defrag_reset(&d);
	*state = p;
	return 0;
}

static int setup_gcm(void **state)
{
	return setup_keys(state, false);
}

static int setup_cbc_keys(void **state)
{
	return setup_keys(state, true);
}

static int teardown_keys(void **state)
{
	struct pure *p = *state;

	sk_ctx_free(p->out);
	sk_ctx_free(p->in);
	free(p);
	return 0;
}

static void pure_hdr(struct ike_hdr *h, uint32_t msgid)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = 0x0102030405060708ull;
	h->spi_r = 0x1112131415161718ull;
	h->version = IKE_VERSION;
	h->exchange = INFORMATIONAL;
	h->flags = IKE_FLAG_INITIATOR;
	h->msgid = msgid;
}

/* An inner chain of status notifies, about want octets. */
static uint8_t inner[8192];

static size_t make_inner(size_t want, unsigned *count)
{
	uint8_t data[60];
	struct ike_builder b;
	struct wbuf w;
	unsigned n = 0;

	wb_init(&w, inner, sizeof(inner));
	ike_build_inner_begin(&b, &w);
	while (w.len + 8 + sizeof(data) <= want && n < IKE_MAX_NOTIFY) {
		memset(data, (int)n + 1, sizeof(data));
		notify(&b, (uint16_t)(40000 + n), data, sizeof(data));
		n++;
	}
	assert_int_equal(ike_build_end(&b), IKE_OK);
	*count = n;
	return w.len;
}

static uint8_t wire[IKE_MAX_WIRE + 8192];

/* Splits an end-to-end buffer into its datagrams. */
static unsigned split(const uint8_t *p, size_t n, const uint8_t **f,
		      size_t *flen, unsigned max)
{
	unsigned k = 0;
	size_t one;

	for (; n && k < max; p += one, n -= one, k++) {
		one = ike_wire_next(p, n);
		f[k] = p;
		flen[k] = one;
	}
	assert_int_equal(n, 0);
	return k;
}

/* Parses a copy (opened in place) and adds it. */
static int add_at(struct sk_ctx *in, const uint8_t *p, size_t n, uint64_t now)
{
	static uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;

	assert_true(n <= sizeof(buf));
	memcpy(buf, p, n);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	return ike_defrag_add(&d, in, &m, buf, n, now);
}

static int add(struct sk_ctx *in, const uint8_t *p, size_t n)
{
	return add_at(in, p, n, 1000);
}

struct frags {
	const uint8_t *p[IKE_FRAG_MAX];
	size_t len[IKE_FRAG_MAX];
	unsigned n;
};

static void fragment(struct pure *p, uint32_t msgid, size_t ilen,
		     size_t max_len, uint8_t *out, struct frags *fr)
{
	struct ike_hdr h;
	size_t olen = 0;
	int n;

	pure_hdr(&h, msgid);
	n = ike_frag_seal(p->out, &h, inner, ilen, IKE_PL_NOTIFY, max_len, out,
			  IKE_MAX_WIRE, &olen);
	assert_true(n > 0);
	fr->n = split(out, olen, fr->p, fr->len, IKE_FRAG_MAX);
	assert_int_equal(fr->n, (unsigned)n);
}

static void assert_message(size_t ilen)
{
	assert_false(d.active);
	assert_int_equal(d.first, IKE_PL_NOTIFY);
	assert_int_equal(d.msg_len, ilen);
	assert_memory_equal(d.msg, inner, ilen);
}

/* The fragments as sent: headers, numbering, Next Payload, sizes. */
static void in_order(void **state)
{
	struct pure *p = *state;
	struct frags fr;
	struct ike_msg m;
	unsigned count;
	size_t ilen = make_inner(700, &count);
	uint8_t buf[IKE_MAX_MSG];

	fragment(p, 5, ilen, 200, wire, &fr);
	assert_true(fr.n >= 4);
	for (unsigned i = 0; i < fr.n; i++) {
		assert_true(fr.len[i] <= 200);
		memcpy(buf, fr.p[i], fr.len[i]);
		assert_int_equal(ike_parse(&m, buf, fr.len[i]), IKE_OK);
		assert_true(m.has_skf && !m.has_sk);
		assert_int_equal(m.hdr.msgid, 5);
		assert_int_equal(m.hdr.next, IKE_PL_SKF);
		assert_int_equal(m.sk.frag, i + 1);
		assert_int_equal(m.sk.total, fr.n);
		assert_int_equal(m.sk.first, i ? IKE_PL_NONE : IKE_PL_NOTIFY);
		assert_int_equal(ike_check_outer(&m, false, NULL), IKE_OK);
		assert_int_equal(
		    ike_defrag_add(&d, p->in, &m, buf, fr.len[i], 1),
		    i + 1 < fr.n ? IKE_DEFRAG_MORE : IKE_DEFRAG_DONE);
	}
	assert_message(ilen);
	/* The same inner parse and placement check as an SK message. */
	assert_int_equal(ike_parse_inner(&m, d.first, d.msg, d.msg_len),
			 IKE_OK);
	assert_int_equal(m.nnotify, count);
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
}

static void out_of_order(void **state)
{
	struct pure *p = *state;
	struct frags fr;
	unsigned count;
	size_t ilen = make_inner(900, &count);

	fragment(p, 5, ilen, 180, wire, &fr);
	assert_true(fr.n >= 6);
	/* even numbers backwards, then odd ones forwards */
	for (int i = (int)fr.n - 1; i >= 0; i--)
		if (i % 2)
			assert_int_equal(add(p->in, fr.p[i], fr.len[i]),
					 IKE_DEFRAG_MORE);
	for (unsigned i = 0; i < fr.n; i += 2)
		assert_int_equal(add(p->in, fr.p[i], fr.len[i]),
				 i + 2 < fr.n ? IKE_DEFRAG_MORE
					      : IKE_DEFRAG_DONE);
	assert_message(ilen);
}

static void duplicates(void **state)
{
	struct pure *p = *state;
	struct frags fr;
	unsigned count;
	size_t ilen = make_inner(500, &count);

	fragment(p, 5, ilen, 200, wire, &fr);
	assert_true(fr.n >= 3);
	assert_int_equal(add(p->in, fr.p[0], fr.len[0]), IKE_DEFRAG_MORE);
	assert_int_equal(add(p->in, fr.p[0], fr.len[0]), IKE_DEFRAG_DUP);
	assert_int_equal(add(p->in, fr.p[1], fr.len[1]), IKE_DEFRAG_MORE);
	assert_int_equal(add(p->in, fr.p[0], fr.len[0]), IKE_DEFRAG_DUP);
	assert_int_equal(add(p->in, fr.p[1], fr.len[1]), IKE_DEFRAG_DUP);
	assert_int_equal(d.count, 2);
	for (unsigned i = 2; i < fr.n; i++)
		add(p->in, fr.p[i], fr.len[i]);
	assert_message(ilen);
	/* A late copy after completion starts a new set: the engine keeps
	 * completed messages out (Message IDs, 2.6.1). */
	assert_int_equal(add(p->in, fr.p[0], fr.len[0]), IKE_DEFRAG_MORE);
	assert_true(d.active);
}

/* One fragment built by hand: any numbering, any exchange. */
static size_t seal_frag(struct pure *p, const struct ike_hdr *h, uint16_t n,
			uint16_t total, const uint8_t *part, size_t plen,
			uint8_t *out)
{
	size_t iv = sk_iv_len(p->out), icv = sk_icv_len(p->out), got = 0;
	size_t sealed = sk_ike_sealed_len(p->out, plen);
	struct ike_sk_layout lay;
	struct ike_builder b;
	struct wbuf w;

	wb_init(&w, out, IKE_MAX_MSG);
	ike_build_begin(&b, &w, h);
	ike_build_skf(&b, n, total, IKE_PL_NOTIFY, iv, sealed - iv - icv, icv,
		      &lay);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	memcpy(out + lay.ct_off, part, plen);
	assert_int_equal(
	    sk_ike_seal(p->out, out, IKE_MAX_MSG, lay.iv_off, plen, &got), 0);
	return got;
}

#define SKF_NUM (IKE_HDR_LEN + 4) /* Fragment Number in a fragment */

static void bad_numbers(void **state)
{
	struct pure *p = *state;
	uint8_t pkt[IKE_MAX_MSG];
	struct ike_builder b;
	struct ike_sk_layout lay;
	struct ike_hdr h;
	struct ike_msg m;
	struct wbuf w;
	size_t n;

	pure_hdr(&h, 5);
	n = seal_frag(p, &h, 2, 3, inner, 40, pkt);
	assert_int_equal(ike_parse(&m, pkt, n), IKE_OK);
	pkt[SKF_NUM] = 0, pkt[SKF_NUM + 1] = 0; /* Fragment Number 0 */
	assert_int_equal(ike_parse(&m, pkt, n), IKE_ESYNTAX);
	pkt[SKF_NUM + 1] = 4; /* 4 of 3 */
	assert_int_equal(ike_parse(&m, pkt, n), IKE_ESYNTAX);
	pkt[SKF_NUM + 1] = 1, pkt[SKF_NUM + 3] = 0; /* 1 of 0 */
	assert_int_equal(ike_parse(&m, pkt, n), IKE_ESYNTAX);
	/* truncated inside Fragment Number / Total */
	n = seal_frag(p, &h, 1, 1, inner, 40, pkt);
	pkt[IKE_HDR_LEN + 3] = 6; /* SKF length 6 */
	pkt[27] = IKE_HDR_LEN + 6;
	assert_int_equal(ike_parse(&m, pkt, IKE_HDR_LEN + 6), IKE_ESYNTAX);
	/* the builder refuses them too */
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	ike_build_skf(&b, 0, 3, IKE_PL_NOTIFY, 8, 16, 16, &lay);
	assert_int_not_equal(ike_build_end(&b), IKE_OK);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	ike_build_skf(&b, 4, 3, IKE_PL_NOTIFY, 8, 16, 16, &lay);
	assert_int_not_equal(ike_build_end(&b), IKE_OK);
	/* and the reassembler, given such facts directly */
	n = seal_frag(p, &h, 1, 2, inner, 40, pkt);
	assert_int_equal(ike_parse(&m, pkt, n), IKE_OK);
	m.sk.frag = 0;
	assert_int_equal(ike_defrag_add(&d, p->in, &m, pkt, n, 1),
			 IKE_DEFRAG_BAD);
	m.sk.frag = 3;
	assert_int_equal(ike_defrag_add(&d, p->in, &m, pkt, n, 1),
			 IKE_DEFRAG_BAD);
	m.sk.frag = 1, m.sk.total = 0;
	assert_int_equal(ike_defrag_add(&d, p->in, &m, pkt, n, 1),
			 IKE_DEFRAG_BAD);
	assert_false(d.active);
}

/* Never for IKE_SA_INIT (2.5.3), and never more than IKE_DEFRAG_MAX. */
static void sa_init_and_oversize_total(void **state)
{
	struct pure *p = *state;
	uint8_t pkt[IKE_MAX_MSG];
	struct ike_hdr h;
	size_t n, olen;

	pure_hdr(&h, 0);
	h.exchange = IKE_SA_INIT;
	n = seal_frag(p, &h, 1, 2, inner, 40, pkt);
	assert_int_equal(add(p->in, pkt, n), IKE_DEFRAG_BAD);
	assert_int_equal(ike_frag_seal(p->out, &h, inner, 400, IKE_PL_NOTIFY,
				       200, wire, sizeof(wire), &olen),
			 -1);
	pure_hdr(&h, 5);
	n = seal_frag(p, &h, 1, IKE_DEFRAG_MAX + 1, inner, 40, pkt);
	assert_int_equal(add(p->in, pkt, n), IKE_DEFRAG_BAD);
	n = seal_frag(p, &h, 1, 65535, inner, 40, pkt);
	assert_int_equal(add(p->in, pkt, n), IKE_DEFRAG_BAD);
	assert_false(d.active);
	/* the largest Total: every bit of the set's map works */
	for (unsigned k = IKE_DEFRAG_MAX; k >= 1; k--) {
		n = seal_frag(p, &h, (uint16_t)k, IKE_DEFRAG_MAX, inner + k, 3,
			      pkt);
		assert_int_equal(add(p->in, pkt, n),
				 k > 1 ? IKE_DEFRAG_MORE : IKE_DEFRAG_DONE);
	}
	assert_int_equal(d.msg_len, 3 * IKE_DEFRAG_MAX);
	for (unsigned k = 1; k <= IKE_DEFRAG_MAX; k++)
		assert_memory_equal(d.msg + 3 * (k - 1), inner + k, 3);
}

/* 2.5.2 / 2.6.1: a larger Total replaces the set, a smaller one is old. */
static void total_changes(void **state)
{
	struct pure *p = *state;
	static uint8_t wire2[IKE_MAX_WIRE];
	struct frags a, b;
	unsigned count;
	size_t ilen = make_inner(500, &count);

	fragment(p, 5, ilen, 260, wire, &a);
	fragment(p, 5, ilen, 160, wire2, &b);
	assert_true(b.n > a.n && a.n >= 3);
	assert_int_equal(add(p->in, a.p[0], a.len[0]), IKE_DEFRAG_MORE);
	assert_int_equal(add(p->in, a.p[1], a.len[1]), IKE_DEFRAG_MORE);
	assert_int_equal(add(p->in, b.p[1], b.len[1]), IKE_DEFRAG_MORE);
	assert_int_equal(d.total, b.n);
	assert_int_equal(d.count, 1); /* a's fragments are gone */
	assert_int_equal(add(p->in, a.p[2], a.len[2]), IKE_DEFRAG_OLD);
	assert_int_equal(add(p->in, a.p[0], a.len[0]), IKE_DEFRAG_OLD);
	for (unsigned i = 0; i < b.n; i++)
		if (i != 1)
			assert_int_equal(add(p->in, b.p[i], b.len[i]),
					 i + 1 < b.n ? IKE_DEFRAG_MORE
						     : IKE_DEFRAG_DONE);
	assert_message(ilen);
}

static void bad_icv(void **state)
{
	struct pure *p = *state;
	uint8_t bad[IKE_MAX_MSG];
	struct frags fr;
	unsigned count;
	size_t ilen = make_inner(500, &count);

	fragment(p, 5, ilen, 200, wire, &fr);
	assert_true(fr.n >= 3);
	assert_int_equal(add(p->in, fr.p[0], fr.len[0]), IKE_DEFRAG_MORE);
	memcpy(bad, fr.p[1], fr.len[1]);
	bad[fr.len[1] - 1] ^= 0x80; /* ICV */
	assert_int_equal(add(p->in, bad, fr.len[1]), IKE_DEFRAG_ICV);
	memcpy(bad, fr.p[1], fr.len[1]);
	bad[IKE_HDR_LEN + IKE_SKF_HDR_LEN + 12] ^= 1; /* ciphertext */
	assert_int_equal(add(p->in, bad, fr.len[1]), IKE_DEFRAG_ICV);
	/* a forged larger Total (authenticated data) must not flush */
	memcpy(bad, fr.p[1], fr.len[1]);
	bad[SKF_NUM + 3] = (uint8_t)(fr.n + 1);
	assert_int_equal(add(p->in, bad, fr.len[1]), IKE_DEFRAG_ICV);
	assert_true(d.active);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.total, fr.n);
	for (unsigned i = 1; i < fr.n; i++)
		assert_int_equal(add(p->in, fr.p[i], fr.len[i]),
				 i + 1 < fr.n ? IKE_DEFRAG_MORE
					      : IKE_DEFRAG_DONE);
	assert_message(ilen);
}

/* More plaintext than IKE_MAX_MSG: the set goes, memory stays bounded. */
static void oversize_message(void **state)
{
	struct pure *p = *state;
	struct frags fr;
	int rc = IKE_DEFRAG_MORE;
	unsigned i;

	memset(inner, 0x41, 6000);
	fragment(p, 5, 6000, 1400, wire, &fr);
	assert_true(fr.n >= 5);
	for (i = 0; i < fr.n && rc == IKE_DEFRAG_MORE; i++)
		rc = add(p->in, fr.p[i], fr.len[i]);
	assert_int_equal(rc, IKE_DEFRAG_BIG);
	assert_true(i < fr.n);
	assert_false(d.active);
	assert_int_equal(d.used, 0);
}

static void timeout(void **state)
{
	struct pure *p = *state;
	struct frags fr;
	unsigned count;
	size_t ilen = make_inner(400, &count);

	fragment(p, 5, ilen, 200, wire, &fr);
	assert_true(fr.n >= 3);
	assert_int_equal(add_at(p->in, fr.p[0], fr.len[0], 1), IKE_DEFRAG_MORE);
	assert_int_equal(add_at(p->in, fr.p[1], fr.len[1], 2), IKE_DEFRAG_MORE);
	/* 2.6: too late for the set; this fragment starts a new one */
	assert_int_equal(
	    add_at(p->in, fr.p[2], fr.len[2], 3 + IKE_DEFRAG_TIMEOUT),
	    IKE_DEFRAG_MORE);
	assert_int_equal(d.count, 1);
	for (unsigned i = 0; i < fr.n; i++)
		if (i != 2)
			add_at(p->in, fr.p[i], fr.len[i],
			       4 + IKE_DEFRAG_TIMEOUT);
	assert_message(ilen);
}

/* Fragments of another message (authentic) replace an unfinished set. */
static void other_message(void **state)
{
	struct pure *p = *state;
	static uint8_t wire2[IKE_MAX_WIRE];
	struct frags a, b;
	unsigned count;
	size_t ilen = make_inner(400, &count);

	fragment(p, 5, ilen, 200, wire, &a);
	fragment(p, 6, ilen, 200, wire2, &b);
	assert_int_equal(add(p->in, a.p[0], a.len[0]), IKE_DEFRAG_MORE);
	assert_int_equal(add(p->in, b.p[0], b.len[0]), IKE_DEFRAG_MORE);
	assert_int_equal(d.msgid, 6);
	assert_int_equal(d.count, 1);
	for (unsigned i = 1; i < b.n; i++)
		add(p->in, b.p[i], b.len[i]);
	assert_message(ilen);
	ike_defrag_reset(&d);
	assert_int_equal(d.msg_len, 0);
}

/* Our fragmenter through the reassembler, backwards, for many sizes. */
static void own_roundtrip(void **state)
{
	struct pure *p = *state;
	static const size_t maxes[] = {100, 150, 200, 333, 544, 1248};
	size_t room, sizes[10], total;
	struct frags fr;

	for (size_t k = 0; k < 6000; k++)
		inner[k] = (uint8_t)(k * 7 + 3);
	for (size_t mi = 0; mi < sizeof(maxes) / sizeof(maxes[0]); mi++) {
		room = ike_frag_room(p->out, maxes[mi]);
		assert_true(room > 0);
		sizes[0] = 1, sizes[1] = 15, sizes[2] = 16, sizes[3] = 17;
		sizes[4] = room, sizes[5] = room + 1, sizes[6] = 2 * room;
		sizes[7] = 700, sizes[8] = 2500, sizes[9] = 4000;
		for (size_t si = 0; si < 10; si++) {
			fragment(p, 9, sizes[si], maxes[mi], wire, &fr);
			assert_true(fr.n <= IKE_FRAG_MAX);
			total = 0;
			for (unsigned i = 0; i < fr.n; i++) {
				/* over max_len only when IKE_FRAG_MAX
				 * fragments of room would not do */
				if (sizes[si] <= room * IKE_FRAG_MAX)
					assert_true(fr.len[i] <= maxes[mi]);
				total += fr.len[i];
			}
			assert_int_equal(fr.n,
					 sizes[si] <= room * IKE_FRAG_MAX
					     ? (sizes[si] + room - 1) / room
					     : fr.n);
			assert_true(total <=
				    sizes[si] + fr.n * IKE_FRAG_OVERHEAD);
			for (int i = (int)fr.n - 1; i >= 0; i--)
				assert_int_equal(add(p->in, fr.p[i], fr.len[i]),
						 i ? IKE_DEFRAG_MORE
						   : IKE_DEFRAG_DONE);
			assert_message(sizes[si]);
		}
	}
}

static void room_and_refusals(void **state)
{
	struct pure *p = *state;
	size_t over = IKE_HDR_LEN + IKE_SKF_HDR_LEN + sk_iv_len(p->out) +
		      sk_icv_len(p->out);
	size_t b = sk_block_len(p->out), olen;
	struct ike_hdr h;

	assert_int_equal(ike_frag_room(p->out, over), 0);
	assert_int_equal(ike_frag_room(p->out, over + b - 1), 0);
	assert_int_equal(ike_frag_room(p->out, over + b), b - 1);
	assert_int_equal(ike_frag_room(p->out, over + 3 * b + b - 1),
			 3 * b - 1);
	pure_hdr(&h, 1);
	assert_int_equal(ike_frag_seal(p->out, &h, inner, 100, IKE_PL_NOTIFY,
				       over, wire, sizeof(wire), &olen),
			 -1);
	assert_int_equal(ike_frag_seal(p->out, &h, inner, 100, IKE_PL_NOTIFY,
				       200, wire, 100, &olen),
			 -1); /* no room in out */
}

static void wire_next(void **state)
{
	uint8_t two[2 * IKE_HDR_LEN + 8];

	(void)state;
	memset(two, 0, sizeof(two));
	assert_int_equal(ike_wire_next(two, 10), 10);
	assert_int_equal(ike_wire_next(two, IKE_HDR_LEN), IKE_HDR_LEN); /* 0 */
	two[27] = IKE_HDR_LEN + 4;
	two[IKE_HDR_LEN + 4 + 27] = IKE_HDR_LEN + 4;
	assert_int_equal(ike_wire_next(two, sizeof(two)), IKE_HDR_LEN + 4);
	assert_int_equal(ike_wire_next(two + IKE_HDR_LEN + 4, IKE_HDR_LEN + 4),
			 IKE_HDR_LEN + 4);
	two[27] = 200; /* longer than what is left */
	assert_int_equal(ike_wire_next(two, sizeof(two)), sizeof(two));
	two[27] = 10; /* shorter than a header */
	assert_int_equal(ike_wire_next(two, sizeof(two)), sizeof(two));
}

/* --- the engine and the mini gateway -------------------------------------- */

static int setup_frag(void **state)
{
	setup_common(state, false);
	peer_frag = true;
	return 0;
}

static int setup_frag_cbc(void **state)
{
	setup_common(state, true);
	peer_frag = true;
	return 0;
}

static int teardown_frag(void **state)
{
	peer_frag = false;
	return teardown(state);
}

/* The gateway's SK message (its keys) as SKF fragments of max_len, the
 * inner chain optionally led by an unknown critical payload. */
static unsigned gw_frags(struct t *t, const uint8_t *sk_msg, size_t n,
			 size_t max_len, bool critical, uint8_t *out,
			 struct frags *fr)
{
	struct resp *r = &t->r;
	struct sk_ctx *rin =
	    sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_er, r->k.e_len,
		       r->k.sk_ar, r->k.a_len, SK_IN);
	uint8_t buf[IKE_MAX_MSG], chain[IKE_MAX_MSG];
	const uint8_t *pt;
	size_t ptlen, clen = 0, olen = 0;
	struct ike_msg m;
	uint8_t first;
	int k;

	assert_non_null(rin);
	memcpy(buf, sk_msg, n);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	assert_int_equal(
	    sk_ike_open(rin, buf, n, (size_t)(m.sk.body.p - buf), &pt, &ptlen),
	    0);
	first = m.sk.first;
	if (critical) {
		static const uint8_t c[8] = {
		    0, IKE_PAYLOAD_CRITICAL, 0, 8, 1, 2, 3, 4};
		memcpy(chain, c, 8);
		chain[0] = first;
		first = 200;
		clen = 8;
	}
	memcpy(chain + clen, pt, ptlen);
	clen += ptlen;
	k = ike_frag_seal(r->out, &m.hdr, chain, clen, first, max_len, out,
			  IKE_MAX_WIRE, &olen);
	assert_true(k > 1);
	fr->n = split(out, olen, fr->p, fr->len, IKE_FRAG_MAX);
	sk_ctx_free(rin);
	return fr->n;
}

static void feed_frag(struct t *t, const struct frags *fr, unsigned i)
{
	feed(t, fr->p[i], fr->len[i]);
}

/* Up to the IKE_AUTH request (AUTH_SENT). */
static void to_auth_sent(struct t *t)
{
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	n = copy_sent(buf);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	n = init_response(t, pkt, false);
	responder_keys(t, &m);
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_AUTH_SENT);
}

static void fragmented_auth_response(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE];
	uint8_t pkt[IKE_MAX_MSG], bad[IKE_MAX_MSG];
	struct frags fr;
	unsigned sent;
	size_t n;

	to_auth_sent(t);
	assert_true(t->e->frag.peer_ok);
	n = auth_response(t, pkt, false);
	gw_frags(t, pkt, n, 100, false, out, &fr);
	assert_true(fr.n >= 4);
	sent = io.n;
	feed_frag(t, &fr, 2);
	feed_frag(t, &fr, 0);
	feed_frag(t, &fr, 0); /* duplicate */
	memcpy(bad, fr.p[1], fr.len[1]);
	bad[fr.len[1] - 2] ^= 4;
	feed(t, bad, fr.len[1]); /* bad ICV: dropped, the rest kept */
	for (unsigned i = 3; i < fr.n; i++)
		feed_frag(t, &fr, i);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_AUTH_SENT);
	assert_true(t->e->frag.resp.active);
	assert_int_equal(io.n, sent);
	feed_frag(t, &fr, 1); /* the good one */
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
	assert_int_equal(dpc.add, 1);
	assert_int_equal(dpc.v4.b[0], 10);
	assert_false(t->e->frag.resp.active);
}

/* The gateway resends every fragment after our retransmission. */
static void auth_response_across_retransmit(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE];
	uint8_t pkt[IKE_MAX_MSG], req[IKE_MAX_MSG];
	struct frags fr;
	size_t n, rn;

	to_auth_sent(t);
	rn = copy_sent(req);
	n = auth_response(t, pkt, false);
	gw_frags(t, pkt, n, 100, false, out, &fr);
	assert_true(fr.n >= 3);
	feed_frag(t, &fr, 0);
	feed_frag(t, &fr, fr.n - 1);
	exchange_retransmit_cb(t->e); /* our IKE_AUTH again, unchanged */
	assert_memory_equal(last_sent(&n), req, rn);
	assert_int_equal(n, rn);
	assert_true(t->e->frag.resp.active);
	for (unsigned i = 0; i < fr.n; i++) /* all again, dups ignored */
		feed_frag(t, &fr, i);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* fragment_size small: our IKE_AUTH goes as fragments (2.5.1 sizes),
 * retransmitted whole, and the gateway reassembles it. */
static void fragmented_auth_request(void **state)
{
	struct t *t = *state;
	static uint8_t first[16][IKE_MAX_MSG];
	size_t flen[16], max = 256 - 20 - 8 - 4; /* IPv4, UDP, marker */
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	unsigned before, k;
	struct ike_msg m;
	size_t n;

	t->conf.fragment_size = 256;
	assert_int_equal(ike_engine_up(t->e), 0);
	n = copy_sent(buf);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK); /* never SKF */
	n = init_response(t, pkt, false);
	responder_keys(t, &m);
	before = io.n;
	feed(t, pkt, n);
	k = io.n - before;
	assert_true(k >= 2 && k <= 16);
	for (unsigned i = 0; i < k; i++) {
		flen[i] = io.len[(before + i) % 16];
		memcpy(first[i], io.pkt[(before + i) % 16], flen[i]);
		assert_true(flen[i] <= max);
		assert_true(io.marker[(before + i) % 16]);
		assert_int_equal(ike_parse(&m, first[i], flen[i]), IKE_OK);
		assert_true(m.has_skf);
		assert_int_equal(m.hdr.exchange, IKE_AUTH);
		assert_int_equal(m.hdr.msgid, 1);
		assert_int_equal(m.sk.frag, i + 1);
		assert_int_equal(m.sk.total, k);
	}
	exchange_retransmit_cb(t->e); /* all fragments, identical */
	assert_int_equal(io.n, before + 2 * k);
	for (unsigned i = 0; i < k; i++) {
		assert_int_equal(io.len[(before + k + i) % 16], flen[i]);
		assert_memory_equal(io.pkt[(before + k + i) % 16], first[i],
				    flen[i]);
	}
	n = auth_response(t, pkt, false); /* r_open reassembles */
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* Without the gateway's N(IKEV2_FRAGMENTATION_SUPPORTED): never. */
static void no_fragments_unless_announced(void **state)
{
	struct t *t = *state;
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t n;

	peer_frag = false;
	t->conf.fragment_size = 256;
	to_auth_sent(t);
	assert_false(t->e->frag.peer_ok);
	n = copy_sent(buf);
	assert_true(n > 256 - 32);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	assert_true(m.has_sk);
}

/* An SKF payload in IKE_SA_INIT is out of place: dropped. */
static void skf_in_sa_init(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], body[40] = {0, 1, 0, 1};
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	unsigned sent;

	assert_int_equal(ike_engine_up(t->e), 0);
	sent = io.n;
	t->r.spi_i = ike_engine_sa(t->e)->spi_i;
	t->r.spi_r = 99;
	hdr(&h, &t->r, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	ike_build_raw(&b, IKE_PL_SKF, false, body, sizeof(body));
	assert_int_equal(ike_build_end(&b), IKE_OK);
	feed(t, pkt, w.len);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_INIT_SENT);
	assert_int_equal(io.n, sent);
	assert_false(t->e->frag.resp.active);
}

/* An unknown critical payload inside a reassembled response: dropped
 * like in an SK message; the proper response still works. */
static void critical_in_fragmented_response(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE], out2[IKE_MAX_WIRE];
	uint8_t pkt[IKE_MAX_MSG];
	struct frags bad, good;
	size_t n;

	to_auth_sent(t);
	n = auth_response(t, pkt, false);
	gw_frags(t, pkt, n, 200, true, out, &bad);
	gw_frags(t, pkt, n, 200, false, out2, &good);
	for (unsigned i = 0; i < bad.n; i++)
		feed_frag(t, &bad, i);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_AUTH_SENT);
	assert_int_equal(dpc.add, 0);
	for (unsigned i = 0; i < good.n; i++)
		feed_frag(t, &good, i);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* The gateway's INFORMATIONAL (r_request-style) as fragments. */
static unsigned gw_request_frags(struct t *t, uint32_t id, bool critical,
				 size_t max_len, uint8_t *out, struct frags *fr)
{
	uint8_t ib_buf[IKE_MAX_MSG], pkt[IKE_MAX_MSG], v[100];
	struct ike_chunk vid = {v, sizeof(v)};
	struct ike_builder ib;
	struct wbuf w;
	size_t n;

	memset(v, 0x77, sizeof(v));
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_vendor(&ib, &vid);
	ike_build_vendor(&ib, &vid);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	n = r_seal(t, INFORMATIONAL, 0, id, &ib, pkt);
	return gw_frags(t, pkt, n, max_len, critical, out, fr);
}

/* 2.6.1: answered once all fragments are in; a retransmitted fragment 1
 * gets the cached answer, other fragments nothing. */
static void fragmented_request(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE];
	uint8_t resp[IKE_MAX_MSG], buf[IKE_MAX_MSG], bad[IKE_MAX_MSG];
	struct frags fr;
	struct ike_msg m;
	unsigned sent;
	size_t rn, n;

	establish(t);
	gw_request_frags(t, 0, false, 110, out, &fr);
	assert_true(fr.n >= 3);
	sent = io.n;
	for (int i = (int)fr.n - 1; i > 0; i--)
		feed_frag(t, &fr, (unsigned)i);
	assert_int_equal(io.n, sent); /* not before the last one */
	feed_frag(t, &fr, 0);
	assert_int_equal(io.n, sent + 1);
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 0);
	assert_int_equal(ike_engine_sa(t->e)->peer_req_id, 1);
	assert_false(t->e->frag.req.active);
	rn = copy_sent(resp);
	feed_frag(t, &fr, 1); /* retransmitted, not fragment 1 */
	feed_frag(t, &fr, fr.n - 1);
	assert_int_equal(io.n, sent + 1);
	memcpy(bad, fr.p[0], fr.len[0]);
	bad[fr.len[0] - 1] ^= 1;
	feed(t, bad, fr.len[0]); /* forged fragment 1 */
	assert_int_equal(io.n, sent + 1);
	feed_frag(t, &fr, 0);
	assert_int_equal(io.n, sent + 2);
	assert_memory_equal(last_sent(&n), resp, rn);
	assert_int_equal(n, rn);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* 2.5: our answer is fragmented too and cached as its fragments; the
 * unknown critical payload in the fragmented request is reported. */
static void fragmented_answer_cached(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE], cached[4][IKE_MAX_MSG];
	const struct ike_notify_pl *nt;
	uint8_t buf[IKE_MAX_MSG];
	size_t clen[4];
	struct frags fr;
	struct ike_msg m;
	unsigned sent, k;

	establish(t);
	/* 96: a 9-octet N(UNSUPPORTED_CRITICAL_PAYLOAD) needs fragments
	 * (below the configuration's minimum: only a test can ask) */
	t->conf.fragment_size = 96;
	gw_request_frags(t, 0, true, 130, out, &fr);
	sent = io.n;
	for (unsigned i = 0; i < fr.n; i++)
		feed_frag(t, &fr, i);
	k = io.n - sent;
	assert_true(k >= 2 && k <= 4);
	r_open(t, &m, buf);
	assert_int_equal(m.sk.total, k);
	nt = ike_find_notify(&m, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_non_null(nt);
	assert_int_equal(nt->data.len, 1);
	assert_int_equal(nt->data.p[0], 200);
	for (unsigned i = 0; i < k; i++) {
		clen[i] = io.len[(sent + i) % 16];
		assert_true(clen[i] <= 96 - 32);
		memcpy(cached[i], io.pkt[(sent + i) % 16], clen[i]);
	}
	feed_frag(t, &fr, 0); /* retransmitted fragment 1 */
	assert_int_equal(io.n, sent + 2 * k);
	for (unsigned i = 0; i < k; i++) {
		assert_int_equal(io.len[(sent + k + i) % 16], clen[i]);
		assert_memory_equal(io.pkt[(sent + k + i) % 16], cached[i],
				    clen[i]);
	}
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* Our DPD's fragmented answer and the gateway's fragmented request,
 * interleaved: two reassemblies side by side. */
static void interleaved(void **state)
{
	struct t *t = *state;
	static uint8_t rq[IKE_MAX_WIRE], rs[IKE_MAX_WIRE];
	uint8_t ib_buf[IKE_MAX_MSG], pkt[IKE_MAX_MSG], v[150];
	struct ike_chunk vid = {v, sizeof(v)};
	struct timer *tm;
	struct frags req, resp;
	struct ike_builder ib;
	struct wbuf w;
	unsigned sent;
	size_t n;

	t->conf.dpd_delay_s = 30;
	establish(t);
	tm = &t->e->sa.t_dpd;
	assert_true(timer_armed(tm));
	tm->cb(tm->owner); /* our INFORMATIONAL #2 */
	assert_true(t->e->x.active);
	memset(v, 0x55, sizeof(v));
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_vendor(&ib, &vid);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	n = r_seal(t, INFORMATIONAL, IKE_FLAG_RESPONSE, 2, &ib, pkt);
	gw_frags(t, pkt, n, 100, false, rs, &resp);
	gw_request_frags(t, 0, false, 100, rq, &req);
	sent = io.n;
	for (unsigned i = 0; i < req.n || i < resp.n; i++) {
		if (i < resp.n)
			feed_frag(t, &resp, i);
		if (i < req.n)
			feed_frag(t, &req, i);
	}
	assert_false(t->e->x.active);	  /* DPD answered */
	assert_int_equal(io.n, sent + 1); /* request answered */
	assert_int_equal(ike_engine_sa(t->e)->req_id, 3);
	assert_int_equal(ike_engine_sa(t->e)->peer_req_id, 1);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* Giving up on the exchange drops what was collected. */
static void abort_drops(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE];
	uint8_t pkt[IKE_MAX_MSG];
	struct frags fr;
	size_t n;

	to_auth_sent(t);
	n = auth_response(t, pkt, false);
	gw_frags(t, pkt, n, 150, false, out, &fr);
	feed_frag(t, &fr, 0);
	assert_true(t->e->frag.resp.active);
	assert_true(t->e->frag.resp.used > 0);
	ike_engine_down(t->e);
	assert_false(t->e->frag.resp.active);
	assert_int_equal(t->e->frag.resp.used, 0);
}

/* An IKE_SA_INIT response with just a notify and
 * N(IKEV2_FRAGMENTATION_SUPPORTED), SPIr 0: what a forger can send. */
static size_t forged_init(struct t *t, uint16_t type, const void *data,
			  size_t len, uint8_t *pkt)
{
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	t->r.spi_i = ike_engine_sa(t->e)->spi_i;
	t->r.spi_r = 0;
	hdr(&h, &t->r, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0);
	wb_init(&w, pkt, IKE_MAX_MSG);
	ike_build_begin(&b, &w, &h);
	notify(&b, type, data, len);
	notify(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	return w.len;
}

/* Only the IKE_SA_INIT response accepted says whether the gateway takes
 * fragments: not an ignored (forged) one, nor a COOKIE. */
static void frag_support_from_accepted_init(void **state)
{
	struct t *t = *state;
	static const uint8_t cookie[8] = {1, 2, 3};
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t n;

	log_set_level(NULL, L_ERR);
	assert_int_equal(ike_engine_up(t->e), 0);
	feed(t, pkt, forged_init(t, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0, pkt));
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_INIT_SENT);
	assert_false(t->e->frag.peer_ok);
	feed(t, pkt, forged_init(t, IKE_N_COOKIE, cookie, sizeof(cookie), pkt));
	assert_false(t->e->frag.peer_ok);
	n = copy_sent(buf); /* the request again, with the COOKIE */
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	assert_int_equal(m.notify[0].type, IKE_N_COOKIE);
	n = init_response(t, pkt, false); /* the gateway's: no RFC 7383 */
	responder_keys(t, &m);
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_AUTH_SENT);
	assert_false(t->e->frag.peer_ok);
}

/* The IKE SA dies: every reassembler is emptied and wiped, not just the
 * one for responses (the plaintexts must not outlive the keys). */
static void sa_death_wipes_reassembly(void **state)
{
	struct t *t = *state;
	static uint8_t out[IKE_MAX_WIRE], out2[IKE_MAX_WIRE];
	uint8_t pkt[IKE_MAX_MSG], ib_buf[64];
	struct ike_delete del = {.protocol = IKE_PROTO_IKE};
	struct ike_builder ib;
	struct frags fr, fr2;
	struct wbuf w;
	const struct ike_defrag *req = &t->e->frag.req;

	establish(t);
	gw_request_frags(t, 0, false, 110, out, &fr);
	for (unsigned i = 0; i < fr.n; i++)
		feed_frag(t, &fr, i); /* answered: its plaintext kept */
	assert_true(req->msg_len > 0);
	gw_request_frags(t, 1, false, 110, out2, &fr2);
	feed_frag(t, &fr2, 0); /* a set being collected */
	assert_true(req->active && req->used > 0);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_delete(&ib, &del);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	/* D(IKE) as #1: the partial set above is for #1 too, and a whole
	 * message wins over it */
	feed(t, pkt, r_seal(t, INFORMATIONAL, 0, 1, &ib, pkt));
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_DEAD);
	assert_false(req->active);
	assert_int_equal(req->used, 0);
	assert_int_equal(req->msg_len, 0);
	for (size_t i = 0; i < sizeof(req->msg); i++)
		if (req->msg[i] || req->pool[i])
			fail_msg("reassembly plaintext left at %zu", i);
}

/* --- the fragment_size key ------------------------------------------------ */

static char dir[] = "/tmp/test_ike_frag.XXXXXX";

static int conf_load(const char *line, struct cfg *c, struct mobiked_conf *conf)
{
	char text[1024], path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/x.conf", dir);
	snprintf(text, sizeof(text),
		 "connection = {\n"
		 "  gateway = \"192.0.2.1\";\n"
		 "  local_id = \"mn@lab\";\n  remote_id = \"gw.lab\";\n"
		 "  psk_file = \"x.psk\";\n"
		 "  remote_ts = [ \"10.0.0.0/8\" ];\n%s};\n",
		 line);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(cfg_open(c, path), 0);
	return mobiked_conf_load(c, conf);
}

static void conf_fragment_size(void **state)
{
	struct mobiked_conf conf;
	char path[300];
	struct cfg c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.psk", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("lab-psk\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0600), 0);

	assert_int_equal(conf_load("", &c, &conf), 0);
	assert_int_equal(conf.fragment_size, 1280);
	cfg_close(&c);
	assert_int_equal(conf_load("  fragment_size = 0;\n", &c, &conf), 0);
	assert_int_equal(conf.fragment_size, 0);
	cfg_close(&c);
	assert_int_equal(conf_load("  fragment_size = 576;\n", &c, &conf), 0);
	assert_int_equal(conf.fragment_size, 576);
	cfg_close(&c);
	assert_int_not_equal(conf_load("  fragment_size = 100;\n", &c, &conf),
			     0);
	if (!strstr(c.err, "x.conf:7: 'fragment_size' = 100 is too small"))
		fail_msg("unexpected: %s", c.err);
	cfg_close(&c);
	assert_int_not_equal(conf_load("  fragment_size = 70000;\n", &c, &conf),
			     0);
	if (!strstr(c.err, "x.conf:7:"))
		fail_msg("unexpected: %s", c.err);
	cfg_close(&c);
	unlink(path);
	snprintf(path, sizeof(path), "%s/x.conf", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(in_order, setup_gcm, teardown_keys),
	    cmocka_unit_test_setup_teardown(in_order, setup_cbc_keys,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(out_of_order, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(out_of_order, setup_cbc_keys,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(duplicates, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(bad_numbers, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(sa_init_and_oversize_total,
					    setup_gcm, teardown_keys),
	    cmocka_unit_test_setup_teardown(total_changes, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(bad_icv, setup_gcm, teardown_keys),
	    cmocka_unit_test_setup_teardown(bad_icv, setup_cbc_keys,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(oversize_message, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(timeout, setup_gcm, teardown_keys),
	    cmocka_unit_test_setup_teardown(other_message, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(own_roundtrip, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(own_roundtrip, setup_cbc_keys,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(room_and_refusals, setup_gcm,
					    teardown_keys),
	    cmocka_unit_test_setup_teardown(room_and_refusals, setup_cbc_keys,
					    teardown_keys),
	    cmocka_unit_test(wire_next),
	    cmocka_unit_test_setup_teardown(fragmented_auth_response,
					    setup_frag, teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_auth_response,
					    setup_frag_cbc, teardown_frag),
	    cmocka_unit_test_setup_teardown(auth_response_across_retransmit,
					    setup_frag, teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_auth_request, setup_frag,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_auth_request,
					    setup_frag_cbc, teardown_frag),
	    cmocka_unit_test_setup_teardown(no_fragments_unless_announced,
					    setup_frag, teardown_frag),
	    cmocka_unit_test_setup_teardown(skf_in_sa_init, setup_frag,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(critical_in_fragmented_response,
					    setup_frag, teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_request, setup_frag,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_request, setup_frag_cbc,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(fragmented_answer_cached,
					    setup_frag, teardown_frag),
	    cmocka_unit_test_setup_teardown(interleaved, setup_frag,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(abort_drops, setup_frag,
					    teardown_frag),
	    cmocka_unit_test_setup_teardown(frag_support_from_accepted_init,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(sa_death_wipes_reassembly,
					    setup_frag, teardown_frag),
	    cmocka_unit_test(conf_fragment_size),
	};

	return cmocka_run_group_tests_name("ike_frag", tests, NULL, NULL);
}
