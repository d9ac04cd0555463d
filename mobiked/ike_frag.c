/*
 * ike_frag.c - RFC 7383 fragmentation: the reassembler, the fragmenter and
 * the engine's glue.  See ike_frag.h for the rules each part follows.
 */
#define LOG_TAG "ike"

#include <string.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "mobiked/ike_frag.h"
#include "mobiked/ike_task.h"

/* --- reassembly (2.6) ----------------------------------------------------- */

static void drop_set(struct ike_defrag *d)
{
	OPENSSL_cleanse(d->pool, d->used);
	d->active = false;
	d->total = d->count = 0;
	memset(d->have, 0, sizeof(d->have));
	d->used = 0;
	d->set_first = IKE_PL_NONE;
}

void ike_defrag_reset(struct ike_defrag *d)
{
	drop_set(d);
	OPENSSL_cleanse(d->msg, d->msg_len);
	d->msg_len = 0;
	d->first = IKE_PL_NONE;
}

static bool same_message(const struct ike_defrag *d, const struct ike_msg *m)
{
	return d->active && d->spi_i == m->hdr.spi_i &&
	       d->spi_r == m->hdr.spi_r && d->msgid == m->hdr.msgid &&
	       d->exchange == m->hdr.exchange &&
	       d->response == !!(m->hdr.flags & IKE_FLAG_RESPONSE);
}

static void start_set(struct ike_defrag *d, const struct ike_msg *m,
		      uint64_t now_ns)
{
	drop_set(d);
	d->active = true;
	d->spi_i = m->hdr.spi_i;
	d->spi_r = m->hdr.spi_r;
	d->msgid = m->hdr.msgid;
	d->exchange = m->hdr.exchange;
	d->response = !!(m->hdr.flags & IKE_FLAG_RESPONSE);
	d->total = m->sk.total;
	d->started_ns = now_ns;
}

static bool have(const struct ike_defrag *d, uint16_t n)
{
	return d->have[(n - 1) / 64] >> ((n - 1) % 64) & 1;
}

/* Fragments 1..Total in order: the content of one SK payload. */
static void assemble(struct ike_defrag *d)
{
	size_t n = 0;

	for (unsigned i = 0; i < d->total; i++) {
		memcpy(d->msg + n, d->pool + d->off[i], d->len[i]);
		n += d->len[i];
	}
	OPENSSL_cleanse(d->msg + n, d->msg_len > n ? d->msg_len - n : 0);
	d->msg_len = n;
	d->first = d->set_first;
	drop_set(d);
}

int ike_frag_open(struct sk_ctx *in, const struct ike_msg *m, uint8_t *pkt,
		  size_t len, const uint8_t **pt, size_t *pt_len)
{
	size_t hdr_len;

	if (!in || !m->has_skf || m->sk.body.p < pkt ||
	    m->sk.body.p > pkt + len)
		return -1;
	/* 2.5.3: the AAD runs through Total Fragments. */
	hdr_len = (size_t)(m->sk.body.p - pkt);
	return sk_ike_open(in, pkt, len, hdr_len, pt, pt_len);
}

int ike_defrag_add(struct ike_defrag *d, struct sk_ctx *in,
		   const struct ike_msg *m, uint8_t *pkt, size_t len,
		   uint64_t now_ns)
{
	uint16_t f = m->sk.frag, t = m->sk.total;
	const uint8_t *pt;
	size_t pt_len;
	bool same;

	if (!m->has_skf || m->hdr.exchange == IKE_SA_INIT || f == 0 || f > t ||
	    t > IKE_DEFRAG_MAX)
		return IKE_DEFRAG_BAD;
	if (d->active && now_ns - d->started_ns > IKE_DEFRAG_TIMEOUT)
		drop_set(d); /* 2.6: never completed in time */
	same = same_message(d, m);
	if (same && t < d->total)
		return IKE_DEFRAG_OLD;
	if (same && t == d->total && have(d, f))
		return IKE_DEFRAG_DUP;
	/* Authentic before it may replace anything. */
	if (ike_frag_open(in, m, pkt, len, &pt, &pt_len))
		return IKE_DEFRAG_ICV;
	if (!same || t > d->total)
		start_set(d, m, now_ns);
	if (pt_len > sizeof(d->pool) - d->used) {
		drop_set(d);
		return IKE_DEFRAG_BIG;
	}
	memcpy(d->pool + d->used, pt, pt_len);
	d->off[f - 1] = (uint16_t)d->used;
	d->len[f - 1] = (uint16_t)pt_len;
	d->used += pt_len;
	d->have[(f - 1) / 64] |= 1ull << ((f - 1) % 64);
	d->count++;
	if (f == 1)
		d->set_first = m->sk.first; /* 2.5: only fragment 1 says */
	if (d->count < d->total)
		return IKE_DEFRAG_MORE;
	assemble(d);
	return IKE_DEFRAG_DONE;
}

const char *ike_defrag_rc_name(int rc)
{
	static const char *const names[] = {
	    [IKE_DEFRAG_DONE] = "complete",
	    [IKE_DEFRAG_MORE] = "kept",
	    [IKE_DEFRAG_DUP] = "duplicate",
	    [IKE_DEFRAG_OLD] = "smaller Total than the fragments kept",
	    [IKE_DEFRAG_BAD] = "not a fragment we reassemble",
	    [IKE_DEFRAG_ICV] = "integrity check failed",
	    [IKE_DEFRAG_BIG] = "reassembled message too large",
	};

	if (rc < 0 || (size_t)rc >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[rc];
}

/* --- fragmenting (2.5) ---------------------------------------------------- */

size_t ike_frag_room(const struct sk_ctx *c, size_t max_len)
{
	size_t over =
	    IKE_HDR_LEN + IKE_SKF_HDR_LEN + sk_iv_len(c) + sk_icv_len(c);
	size_t b = sk_block_len(c), padded;

	if (b == 0 || max_len <= over)
		return 0;
	padded = (max_len - over) / b * b; /* content, padding, pad length */
	return padded ? padded - 1 : 0;
}

static int seal_one(struct sk_ctx *c, const struct ike_hdr *h, uint16_t n,
		    uint16_t total, uint8_t first, const uint8_t *part,
		    size_t plen, struct wbuf *w)
{
	size_t iv = sk_iv_len(c), icv = sk_icv_len(c);
	size_t sealed = sk_ike_sealed_len(c, plen), start = w->len, got;
	struct ike_sk_layout lay;
	struct ike_builder b;

	ike_build_begin(&b, w, h);
	ike_build_skf(&b, n, total, first, iv, sealed - iv - icv, icv, &lay);
	if (ike_build_end(&b) != IKE_OK)
		return -1;
	memcpy(w->data + lay.ct_off, part, plen);
	if (sk_ike_seal(c, w->data + start, w->cap - start, lay.iv_off - start,
			plen, &got) ||
	    got != w->len - start)
		return -1;
	return 0;
}

int ike_frag_seal(struct sk_ctx *c, const struct ike_hdr *h,
		  const uint8_t *inner, size_t ilen, uint8_t first,
		  size_t max_len, uint8_t *out, size_t cap, size_t *olen)
{
	size_t room = ike_frag_room(c, max_len), part;
	unsigned n;
	struct wbuf w;

	if (!room || h->exchange == IKE_SA_INIT)
		return -1;
	n = (unsigned)((ilen + room - 1) / room);
	if (n > IKE_FRAG_MAX) { /* bigger fragments rather than too many */
		room = (ilen + IKE_FRAG_MAX - 1) / IKE_FRAG_MAX;
		n = (unsigned)((ilen + room - 1) / room);
	}
	if (n == 0)
		n = 1;
	wb_init(&w, out, cap);
	for (unsigned i = 0; i < n; i++) {
		part = ilen - i * room < room ? ilen - i * room : room;
		if (seal_one(c, h, (uint16_t)(i + 1), (uint16_t)n, first,
			     inner + i * room, part, &w)) {
			OPENSSL_cleanse(out, w.len);
			return -1;
		}
	}
	*olen = w.len;
	return (int)n;
}

size_t ike_wire_next(const uint8_t *p, size_t n)
{
	struct rbuf r;
	uint32_t len;

	/* RFC 7296 3.1: the Length is the header's last field */
	rb_init(&r, p, n);
	rb_skip(&r, IKE_HDR_LEN - 4);
	if (rb_u32(&r, &len) < 0)
		return n;
	return len < IKE_HDR_LEN || len > n ? n : len;
}

/* --- the engine ----------------------------------------------------------- */

void frag_note_init(struct ike_engine *e, const struct ike_msg *m)
{
	bool ok = ike_find_notify(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED);

	if (ok != e->frag.peer_ok)
		log_info("gateway %s IKE fragmentation (RFC 7383)",
			 ok ? "supports" : "does not support");
	e->frag.peer_ok = ok;
}

void frag_reset(struct ike_engine *e)
{
	ike_defrag_reset(&e->frag.resp);
	ike_defrag_reset(&e->frag.req);
	ike_defrag_reset(&e->frag.other);
}

int frag_open(struct ike_engine *e, struct ike_defrag *d, struct ike_msg *m,
	      uint8_t *pkt, size_t len)
{
	const char *x = ike_exchange_name(m->hdr.exchange);
	int rc = ike_defrag_add(d, e->sa.sk_in, m, pkt, len, mono_ns());

	switch (rc) {
	case IKE_DEFRAG_DONE:
		log_debug("%s #%u: reassembled %zu octets from %u fragments", x,
			  m->hdr.msgid, d->msg_len, m->sk.total);
		return ike_parse_inner(m, d->first, d->msg, d->msg_len);
	case IKE_DEFRAG_MORE:
		log_debug("%s #%u: fragment %u of %u kept", x, m->hdr.msgid,
			  m->sk.frag, m->sk.total);
		return IKE_FRAG_PENDING;
	case IKE_DEFRAG_ICV:
		return -1;
	default:
		e->stats.dropped++;
		log_info("%s #%u: fragment %u of %u ignored: %s", x,
			 m->hdr.msgid, m->sk.frag, m->sk.total,
			 ike_defrag_rc_name(rc));
		return IKE_FRAG_PENDING;
	}
}

int frag_retransmit(struct ike_engine *e, const struct ike_msg *m, uint8_t *pkt,
		    size_t len)
{
	const uint8_t *pt;
	size_t pt_len;

	if (ike_frag_open(e->sa.sk_in, m, pkt, len, &pt, &pt_len))
		return -1;
	/* 2.6.1: only fragment 1 of a retransmission triggers the answer,
	 * so that one retransmitted request gets one retransmitted answer. */
	return m->sk.frag == 1;
}

size_t frag_max_len(const struct ike_engine *e, uint8_t exchange)
{
	size_t size = e->conf->fragment_size, over;

	if (!e->frag.peer_ok || !size || exchange == IKE_SA_INIT)
		return 0;
	over = (e->sa.remote.ss_family == AF_INET6 ? 40 : 20) + 8;
	if (e->sa.natt)
		over += IKE_NON_ESP_MARKER_LEN;
	return size > over ? size - over : 0;
}
