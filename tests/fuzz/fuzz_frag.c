/*
 * fuzz_frag.c - RFC 7383 reassembly and fragmentation on arbitrary input.
 * The input is a list of records  op (1) | length (2, BE) | data;  each
 * record is one step on a reassembler that lives for the whole input:
 *   op & 3 == 0  data is a datagram: parsed, and an SKF one is added
 *   op & 3 == 1  data is  Fragment Number (2) | Total (2) | Message ID (1)
 *                | exchange and flags (1) | Next Payload (1) | content:
 *                sealed with the fixed keys (any numbering, even invalid,
 *                is authentic), so the checks after the ICV are reached
 *   op & 3 == 2  the same with one octet of the sealed datagram flipped
 *                (position from the first content octet)
 *   op & 3 == 3  data is  max_len (2) | content: our fragmenter, every
 *                fragment reassembled backwards by a second reassembler,
 *                which must give back the content (abort otherwise)
 *   op & 0x40    the AES-CBC/HMAC keys instead of AES-GCM
 *   op & 0x80    the clock jumps past the reassembly timeout first
 * A completed message goes through ike_parse_inner() and the placement
 * check both ways, like an SK message.  Any result is fine; a crash, UB,
 * leak or a round trip that does not return its input is not.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mobiked/ike_frag.h"

#define CONTENT_MAX 6000

struct keys {
	struct sk_ctx *out, *in;
};

static struct keys *keys(int cbc)
{
	static struct keys k[2];
	static uint8_t ek[CRYPTO_MAX_ENCR_KEY], ik[CRYPTO_MAX_INTEG_KEY];
	const struct encr_alg *a;
	const struct integ_alg *i;

	if (k[cbc].out)
		return &k[cbc];
	for (size_t n = 0; n < sizeof(ek); n++)
		ek[n] = (uint8_t)(n * 13 + 5);
	for (size_t n = 0; n < sizeof(ik); n++)
		ik[n] = (uint8_t)(n * 7 + 1);
	a = encr_alg_find(cbc ? IKE_ENCR_AES_CBC : IKE_ENCR_AES_GCM_16, 256);
	i = cbc ? integ_alg_find(IKE_INTEG_HMAC_SHA2_256_128) : NULL;
	k[cbc].out =
	    sk_ctx_new(a, i, ek, a->key_len, ik, i ? i->key_len : 0, SK_OUT);
	k[cbc].in =
	    sk_ctx_new(a, i, ek, a->key_len, ik, i ? i->key_len : 0, SK_IN);
	if (!k[cbc].out || !k[cbc].in)
		abort();
	return &k[cbc];
}

static struct ike_defrag d, d2;
static struct ike_msg m;
static uint8_t pkt[IKE_MAX_MSG + IKE_FRAG_OVERHEAD], wire[IKE_MAX_WIRE];

static void hdr(struct ike_hdr *h, uint8_t msgid, uint8_t xf)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = 0xa1a2a3a4a5a6a7a8ull;
	h->spi_r = 0xb1b2b3b4b5b6b7b8ull;
	h->version = IKE_VERSION;
	h->exchange = (uint8_t)(IKE_SA_INIT + (xf & 3));
	h->flags = xf & (IKE_FLAG_INITIATOR | IKE_FLAG_RESPONSE);
	h->msgid = msgid;
}

/* Sealed with valid keys; the numbering is patched in before sealing so
 * it is authenticated whatever it says. */
static size_t seal(struct sk_ctx *c, const uint8_t *p, size_t n)
{
	size_t iv = sk_iv_len(c), icv = sk_icv_len(c), got = 0, sealed;
	struct ike_sk_layout lay;
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	if (n < 7 || n - 7 > IKE_MAX_MSG - 200)
		return 0;
	sealed = sk_ike_sealed_len(c, n - 7);
	hdr(&h, p[4], p[5]);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	ike_build_skf(&b, 1, 1, p[6], iv, sealed - iv - icv, icv, &lay);
	if (ike_build_end(&b) != IKE_OK)
		return 0;
	memcpy(pkt + lay.hdr_off + 4, p, 4);
	memcpy(pkt + lay.ct_off, p + 7, n - 7);
	if (sk_ike_seal(c, pkt, sizeof(pkt), lay.iv_off, n - 7, &got))
		return 0;
	return got;
}

static void completed(void)
{
	uint8_t bad;

	if (ike_parse_inner(&m, d.first, d.msg, d.msg_len) == IKE_OK) {
		ike_check_placement(&m, false, &bad);
		ike_check_placement(&m, true, &bad);
	}
}

static void add(struct sk_ctx *in, size_t n, uint64_t now)
{
	int rc;

	if (ike_parse(&m, pkt, n) != IKE_OK || !m.has_skf)
		return;
	rc = ike_defrag_add(&d, in, &m, pkt, n, now);
	(void)ike_defrag_rc_name(rc);
	if (rc == IKE_DEFRAG_DONE)
		completed();
}

static void roundtrip(struct keys *k, const uint8_t *p, size_t n)
{
	static const uint8_t *f[IKE_FRAG_MAX];
	static size_t flen[IKE_FRAG_MAX];
	size_t max, olen = 0, one, left;
	const uint8_t *w;
	struct ike_hdr h;
	unsigned nf = 0;
	int rc = IKE_DEFRAG_MORE;

	if (n < 2 || n - 2 > CONTENT_MAX)
		return;
	max = (size_t)p[0] << 8 | p[1];
	hdr(&h, 7, IKE_FLAG_INITIATOR | 3);
	if (ike_frag_seal(k->out, &h, p + 2, n - 2, IKE_PL_NOTIFY, max, wire,
			  sizeof(wire), &olen) <= 0)
		return;
	for (w = wire, left = olen; left && nf < IKE_FRAG_MAX;
	     w += one, left -= one) {
		one = ike_wire_next(w, left);
		f[nf] = w;
		flen[nf++] = one;
	}
	if (left)
		abort(); /* more fragments than IKE_FRAG_MAX */
	ike_defrag_reset(&d2);
	while (nf--) {
		if (flen[nf] > sizeof(pkt))
			break; /* content over IKE_MAX_MSG: oversize */
		memcpy(pkt, f[nf], flen[nf]);
		if (ike_parse(&m, pkt, flen[nf]) != IKE_OK)
			abort();
		rc = ike_defrag_add(&d2, k->in, &m, pkt, flen[nf], 0);
		if (rc != (nf ? IKE_DEFRAG_MORE : IKE_DEFRAG_DONE))
			break;
	}
	if (n - 2 <= IKE_MAX_MSG &&
	    (rc != IKE_DEFRAG_DONE || d2.msg_len != n - 2 ||
	     memcmp(d2.msg, p + 2, n - 2)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1;
	struct keys *k;
	size_t len, n;
	uint8_t op;

	ike_defrag_reset(&d);
	while (size >= 3) {
		op = data[0];
		len = (size_t)data[1] << 8 | data[2];
		data += 3, size -= 3;
		if (len > size)
			len = size;
		k = keys(!!(op & 0x40));
		if (op & 0x80)
			now += IKE_DEFRAG_TIMEOUT + 1;
		now++;
		switch (op & 3) {
		case 0:
			if (len <= sizeof(pkt)) {
				memcpy(pkt, data, len);
				add(k->in, len, now);
			}
			break;
		case 1:
		case 2:
			n = seal(k->out, data, len);
			if (n && (op & 3) == 2 && len > 7)
				pkt[(IKE_HDR_LEN + IKE_SKF_HDR_LEN + data[7]) %
				    n] ^= 0x20;
			if (n)
				add(k->in, n, now);
			break;
		default:
			roundtrip(k, data, len);
			break;
		}
		data += len, size -= len;
	}
	return 0;
}
