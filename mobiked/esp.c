/*
 * esp.c - ESP (RFC 4303) encapsulation and decapsulation for one SA and
 * direction.  Pure packet processing: the data-plane backend owns I/O.
 */
#include "mobiked/esp.h"

#include <string.h>

#include "common/buf.h"

/* ---- set-up ---- */

/* Smallest power-of-two ring that holds the window plus one spare word:
 * the word being cleared on a slide is never one still inside the window. */
static uint32_t ring_mask(uint32_t window)
{
	uint32_t words = 1;

	while (words < window / 64 + 2)
		words <<= 1;
	return words - 1;
}

void esp_replay_init(struct esp_replay *rp, uint32_t window)
{
	memset(rp, 0, sizeof(*rp));
	rp->window = window > ESP_REPLAY_MAX ? ESP_REPLAY_MAX : window;
	rp->mask = ring_mask(rp->window);
}

/* soft = pct% of hard without overflowing; never 0 when hard is set. */
static uint64_t soft_of(uint64_t hard, unsigned pct)
{
	uint64_t soft = hard / 100 * pct + hard % 100 * pct / 100;

	return hard && !soft ? hard : soft;
}

static void life_init(struct esp_life *l, const struct esp_sa_params *p)
{
	unsigned pct =
	    p->soft_pct && p->soft_pct <= 100 ? p->soft_pct : ESP_SOFT_PCT;

	memset(l, 0, sizeof(*l));
	l->hard_bytes = p->life_bytes;
	l->hard_packets = p->life_packets;
	l->soft_bytes = soft_of(p->life_bytes, pct);
	l->soft_packets = soft_of(p->life_packets, pct);
}

int esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *p)
{
	size_t block;

	memset(sa, 0, sizeof(*sa));
	if (!p->encr || p->spi == 0) /* SPI 0 is reserved (RFC 4303 2.1) */
		return -1;
	sa->ctx = sk_ctx_new(p->encr, p->integ, p->ekey, p->elen, p->ikey,
			     p->ilen, p->dir);
	if (!sa->ctx)
		return -1;
	sa->spi = p->spi;
	sa->dir = p->dir;
	sa->esn = p->esn;
	sa->iv_len = sk_iv_len(sa->ctx);
	sa->icv_len = sk_icv_len(sa->ctx);
	block = sk_block_len(sa->ctx);
	/* RFC 4303 2.4: Pad Length and Next Header end on a 4-byte boundary
	 * even when the cipher has no block (GCM, RFC 4106 3). */
	sa->align = block > 4 ? block : 4;
	esp_replay_init(&sa->rp, p->replay_window);
	life_init(&sa->life, p);
	return 0;
}

void esp_sa_clear(struct esp_sa *sa)
{
	sk_ctx_free(sa->ctx); /* wipes the keys */
	memset(sa, 0, sizeof(*sa));
}

size_t esp_headroom(const struct esp_sa *sa)
{
	return ESP_HDR_LEN + sa->iv_len;
}

size_t esp_overhead(const struct esp_sa *sa)
{
	return esp_headroom(sa) + sa->align - 1 + 2 + sa->icv_len;
}

uint8_t esp_next_header(const uint8_t *ip, size_t len)
{
	struct rbuf r;
	uint8_t vers;

	rb_init(&r, ip, len);
	if (rb_peek_u8(&r, &vers) < 0)
		return 0;
	switch (vers >> 4) {
	case 4:
		return ESP_NH_IPV4;
	case 6:
		return ESP_NH_IPV6;
	default:
		return 0;
	}
}

int esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi)
{
	struct rbuf r;

	rb_init(&r, pkt, len);
	return rb_u32(&r, spi);
}

unsigned esp_life_take(struct esp_sa *sa)
{
	unsigned ev = sa->life.pending;

	sa->life.pending = 0;
	return ev;
}

const char *esp_err_name(int err)
{
	static const char *const names[] = {
	    "ok",	   "no space",
	    "malformed",   "wrong SPI",
	    "bad ICV",	   "replay",
	    "bad padding", "bad next header",
	    "TFC dummy",   "sequence number overflow",
	    "expired",	   "crypto error",
	};

	if (err > 0 || -err >= (int)(sizeof(names) / sizeof(names[0])))
		return "?";
	return names[-err];
}

/* ---- lifetime ---- */

static void life_raise(struct esp_life *l, uint8_t ev)
{
	if (l->raised & ev)
		return;
	l->raised |= ev;
	l->pending |= ev;
}

static bool over(uint64_t v, uint64_t limit)
{
	return limit && v >= limit;
}

/* Counts one packet; the packet that reaches the hard limit still passes,
 * the next one is refused (the SA "can no longer be used"). */
static void life_count(struct esp_sa *sa, size_t len)
{
	struct esp_life *l = &sa->life;

	l->bytes += len;
	l->packets++;
	sa->st.packets++;
	sa->st.bytes += len;
	if (over(l->bytes, l->soft_bytes) || over(l->packets, l->soft_packets))
		life_raise(l, ESP_LIFE_SOFT);
	if (over(l->bytes, l->hard_bytes) || over(l->packets, l->hard_packets))
		life_raise(l, ESP_LIFE_HARD);
}

static bool life_expired(struct esp_sa *sa)
{
	if (!(sa->life.raised & ESP_LIFE_HARD))
		return false;
	sa->st.expired++;
	return true;
}

/* ---- anti-replay (RFC 4303 3.4.3, RFC 6479) ---- */

/* The window used to place a 32-bit number; inference needs one even
 * when the replay check is off (RFC 4303 A2.2). */
static uint64_t infer_window(const struct esp_replay *rp)
{
	return rp->window ? rp->window : ESP_REPLAY_DEFAULT;
}

int esp_seq_infer(const struct esp_replay *rp, uint32_t seql, uint64_t *seq)
{
	uint32_t tl = (uint32_t)rp->top, th = (uint32_t)(rp->top >> 32);
	uint32_t bottom = tl - (uint32_t)infer_window(rp) + 1; /* mod 2^32 */
	uint32_t seqh;

	if (tl >= infer_window(rp) - 1) {
		/* Case A: the window lies within one subspace; anything below
		 * it must come from the next subspace (the counter wrapped). */
		seqh = seql >= bottom ? th : th + 1;
	} else {
		/* Case B: the window spans two subspaces; numbers at the top
		 * of the 32-bit space belong to the previous one. */
		if (seql >= bottom && th == 0)
			return -1;
		seqh = seql >= bottom ? th - 1 : th;
	}
	*seq = (uint64_t)seqh << 32 | seql;
	return 0;
}

int esp_replay_check(const struct esp_replay *rp, uint64_t seq)
{
	if (seq == 0) /* never sent: the first packet is 1 (RFC 4303 3.3.3) */
		return -1;
	if (!rp->window || seq > rp->top)
		return 0;
	if (rp->top - seq >= rp->window)
		return -1;
	return rp->bits[(seq >> 6) & rp->mask] >> (seq & 63) & 1 ? -1 : 0;
}

void esp_replay_update(struct esp_replay *rp, uint64_t seq)
{
	if (seq > rp->top) {
		/* Clear the words the right edge moves into; a jump of a
		 * whole ring or more clears everything once. */
		uint64_t from = rp->top >> 6, to = seq >> 6;
		uint64_t n =
		    to - from > rp->mask + 1 ? rp->mask + 1 : to - from;

		for (uint64_t i = 1; i <= n; i++)
			rp->bits[(from + i) & rp->mask] = 0;
		rp->top = seq;
	}
	if (rp->window)
		rp->bits[(seq >> 6) & rp->mask] |= UINT64_C(1) << (seq & 63);
}

/* ---- encapsulation ---- */

/* Refuses to let the counter cycle (RFC 4303 3.3.3); asks for a rekey
 * when ESP_SOFT_PCT of the 32-bit space is used. */
static int next_seq(struct esp_sa *sa)
{
	uint64_t limit = sa->esn ? UINT64_MAX : UINT32_MAX;

	if (sa->seq >= limit) {
		sa->st.seq_overflow++;
		life_raise(&sa->life, ESP_LIFE_HARD);
		return ESP_E_SEQ_OVERFLOW;
	}
	sa->seq++;
	if (!sa->esn && sa->seq >= soft_of(UINT32_MAX, ESP_SOFT_PCT))
		life_raise(&sa->life, ESP_LIFE_SOFT);
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Payload, Padding, Pad Length and Next Header: a multiple of align. */
static size_t padded_len(const struct esp_sa *sa, size_t len)
{
	return len + 2 + (sa->align - (len + 2) % sa->align) % sa->align;
}

/* Padding 1, 2, 3.. (RFC 4303 2.4), Pad Length, Next Header; returns the
 * plaintext length. */
static size_t put_trailer(const struct esp_sa *sa, uint8_t *pt, size_t len,
			  uint8_t nh)
{
	size_t pad = padded_len(sa, len) - len - 2;

	for (size_t i = 0; i < pad; i++)
		pt[len + i] = (uint8_t)(i + 1);
	pt[len + pad] = (uint8_t)pad;
	pt[len + pad + 1] = nh;
	return len + pad + 2;
}

int esp_encap(struct esp_sa *sa, uint8_t nh, const uint8_t *ip, size_t len,
	      uint8_t *out, size_t cap)
{
	size_t head = esp_headroom(sa), ptlen = padded_len(sa, len);
	uint8_t esn_hi[4];
	int rc;

	if (sa->dir != SK_OUT || len > ESP_MAX_INNER || cap < head ||
	    cap - head < ptlen + sa->icv_len) {
		sa->st.errors++;
		return ESP_E_SPACE;
	}
	if (life_expired(sa))
		return ESP_E_EXPIRED;
	if ((rc = next_seq(sa)))
		return rc;
	if (ip != out + head)
		memmove(out + head, ip, len);
	put_be32(out, sa->spi);
	put_be32(out + 4, (uint32_t)sa->seq);
	put_be32(esn_hi, (uint32_t)(sa->seq >> 32));
	put_trailer(sa, out + head, len, nh);
	if (sk_encrypt(sa->ctx, out, ESP_HDR_LEN, ptlen,
		       sa->esn ? esn_hi : NULL)) {
		sa->st.errors++;
		return ESP_E_CRYPTO;
	}
	life_count(sa, len);
	return (int)(head + ptlen + sa->icv_len);
}

/* ---- decapsulation ---- */

struct esp_in {
	uint32_t spi, seql;
	size_t ct_len;
};

/* Shape only: SPI | seq | IV | ciphertext | ICV with an aligned, non-empty
 * ciphertext (CBC cannot decrypt a partial block; RFC 4303 2.4). */
static int parse_outer(const struct esp_sa *sa, const uint8_t *pkt, size_t len,
		       struct esp_in *in)
{
	struct rbuf r;

	if (len > ESP_MAX_PACKET)
		return ESP_E_MALFORMED;
	rb_init(&r, pkt, len);
	rb_u32(&r, &in->spi);
	rb_u32(&r, &in->seql);
	rb_skip(&r, sa->iv_len);
	if (r.failed || rb_left(&r) < sa->icv_len + sa->align)
		return ESP_E_MALFORMED;
	in->ct_len = rb_left(&r) - sa->icv_len;
	rb_skip(&r, in->ct_len);
	rb_skip(&r, sa->icv_len);
	if (rb_end(&r) || in->ct_len % sa->align)
		return ESP_E_MALFORMED;
	return 0;
}

/* Pad Length, Next Header and the padding bytes, after decryption. */
static int parse_trailer(const uint8_t *pt, size_t ptlen, size_t *inner,
			 uint8_t *nh)
{
	struct rbuf r, pad;
	uint8_t padlen, b;

	rb_init(&r, pt + ptlen - 2, 2);
	rb_u8(&r, &padlen);
	rb_u8(&r, nh);
	if (rb_end(&r) || (size_t)padlen + 2 > ptlen)
		return ESP_E_MALFORMED;
	*inner = ptlen - 2 - padlen;
	/* RFC 4303 2.4: the receiver SHOULD check the 1, 2, 3.. pattern. */
	rb_init(&pad, pt + *inner, padlen);
	for (unsigned i = 1; rb_left(&pad); i++)
		if (rb_u8(&pad, &b) || b != i)
			return ESP_E_PAD;
	if (*nh == ESP_NH_NONE)
		return ESP_E_DUMMY;
	if (*nh != ESP_NH_IPV4 && *nh != ESP_NH_IPV6)
		return ESP_E_NEXT_HDR;
	return 0;
}

static int count_err(struct esp_sa *sa, int err)
{
	switch (err) {
	case ESP_E_MALFORMED:
		sa->st.malformed++;
		break;
	case ESP_E_SPI:
		sa->st.bad_spi++;
		break;
	case ESP_E_AUTH:
		sa->st.auth_fail++;
		break;
	case ESP_E_REPLAY:
		sa->st.replay++;
		break;
	case ESP_E_PAD:
		sa->st.bad_pad++;
		break;
	case ESP_E_NEXT_HDR:
		sa->st.bad_nh++;
		break;
	case ESP_E_DUMMY:
		sa->st.dummy++;
		break;
	default:
		sa->st.errors++;
		break;
	}
	return err;
}

/* The checks that need no key: shape, SPI, lifetime, and the replay
 * pre-check RFC 4303 3.4.3 puts before the costly ICV verification. */
static int precheck(struct esp_sa *sa, const uint8_t *pkt, size_t len,
		    struct esp_in *in, uint64_t *seq)
{
	int rc = parse_outer(sa, pkt, len, in);

	if (rc)
		return rc;
	if (in->spi != sa->spi)
		return ESP_E_SPI;
	if (sa->dir != SK_IN)
		return ESP_E_CRYPTO;
	if (life_expired(sa))
		return ESP_E_EXPIRED;
	*seq = in->seql;
	if (sa->esn && esp_seq_infer(&sa->rp, in->seql, seq))
		return ESP_E_REPLAY;
	return esp_replay_check(&sa->rp, *seq) ? ESP_E_REPLAY : 0;
}

int esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len, uint8_t *nh)
{
	size_t head = esp_headroom(sa), inner;
	struct esp_in in;
	uint8_t esn_hi[4];
	uint64_t seq = 0;
	int rc;

	*nh = 0;
	if ((rc = precheck(sa, pkt, len, &in, &seq)))
		return count_err(sa, rc);
	put_be32(esn_hi, (uint32_t)(seq >> 32));
	/* Integrity first: sk_decrypt verifies the ICV (in constant time)
	 * before it releases any plaintext. */
	if (sk_decrypt(sa->ctx, pkt, ESP_HDR_LEN, in.ct_len,
		       sa->esn ? esn_hi : NULL))
		return count_err(sa, ESP_E_AUTH);
	/* Authentic: only now may the window move (RFC 4303 3.4.3). */
	esp_replay_update(&sa->rp, seq);
	if ((rc = parse_trailer(pkt + head, in.ct_len, &inner, nh)))
		return count_err(sa, rc);
	life_count(sa, inner);
	return (int)inner;
}
