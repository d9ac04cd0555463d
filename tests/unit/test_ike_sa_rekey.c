/*
 * test_ike_sa_rekey.c - rekeying the IKE SA (RFC 7296 1.3.2, 2.18) with
 * the mini responder of ike_peer.h as the gateway: its rekey (the new
 * SPIs and keys checked by decrypting a DPD on the new SA, the old SA
 * deleted, the CHILD_SA kept), our own rekey on the ike_lifetime timer,
 * INVALID_KE_PAYLOAD and the refused cases (no state change).
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

#include "common/eloop.h"
#include "common/json.h"
#include "common/log.h"
#include "mobiked/ike.h"
#include "mobiked/ike_task.h"

#include "ike_peer.h"

#define GW_NEW_SPI 0x0123456789abcdefull

static uint8_t gw_n[32];

static int setup_dpd(void **state)
{
	struct t *t;

	setup_common(state, false);
	t = *state;
	t->conf.dpd_delay_s = 30;
	t->conf.ike_lifetime_s = 100;
	return 0;
}

/* SA(IKE) with one proposal of the test suite and an 8-octet SPI. */
static void ike_prop(struct ike_sa_pl *sa, uint64_t spi, uint16_t encr,
		     uint16_t dh)
{
	struct ike_proposal *p = &sa->prop[0];
	uint64_t be = htobe64(spi);

	memset(sa, 0, sizeof(*sa));
	sa->nprop = 1;
	p->num = 1;
	p->protocol = IKE_PROTO_IKE;
	p->spi_size = 8;
	memcpy(p->spi, &be, 8);
	p->trans[p->ntrans++] =
	    (struct ike_transform){IKE_TRANS_ENCR, encr, 256, false};
	p->trans[p->ntrans++] = (struct ike_transform){
	    IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_384, 0, false};
	if (encr == IKE_ENCR_AES_CBC)
		p->trans[p->ntrans++] = (struct ike_transform){
		    IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0, false};
	p->trans[p->ntrans++] =
	    (struct ike_transform){IKE_TRANS_DH, dh, 0, false};
}

/* SA, Nonce, [KE] in a CREATE_CHILD_SA request or response. */
static size_t gw_msg(struct t *t, uint32_t id, uint8_t flags, uint16_t encr,
		     struct dh *ke, uint64_t spi, uint8_t *out)
{
	uint8_t ib_buf[IKE_MAX_MSG];
	struct ike_chunk nonce = {gw_n, sizeof(gw_n)};
	struct ike_builder ib;
	struct ike_sa_pl sa;
	struct ike_ke k;
	struct wbuf w;
	size_t klen;

	memset(gw_n, 0x33, sizeof(gw_n));
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_prop(&sa, spi, encr, IKE_DH_CURVE25519);
	ike_build_sa(&ib, &sa);
	ike_build_nonce(&ib, &nonce);
	if (ke) {
		k.group = dh_group(ke);
		k.data.p = dh_public(ke, &klen);
		k.data.len = klen;
		ike_build_ke(&ib, &k);
	}
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, CREATE_CHILD_SA, flags, id, &ib, out);
}

static size_t gw_info(struct t *t, uint32_t id, uint8_t flags, bool del,
		      uint8_t *out)
{
	uint8_t ib_buf[256];
	struct ike_delete d = {.protocol = IKE_PROTO_IKE};
	struct ike_builder ib;
	struct wbuf w;

	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	if (del)
		ike_build_delete(&ib, &d);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, INFORMATIONAL, flags, id, &ib, out);
}

/* The gateway's side of the new SA (2.18): keys from its old SK_d. */
static void gw_new_keys(struct t *t, struct resp *nr, struct dh *d,
			const struct ike_msg *peer, uint64_t spi_i,
			uint64_t spi_r, bool gw_init)
{
	struct resp *r = &t->r;
	uint8_t gir[64], seed[64];
	uint64_t si = htobe64(spi_i), sr = htobe64(spi_r);
	const uint8_t *ni = gw_init ? gw_n : peer->nonce.p;
	const uint8_t *nrn = gw_init ? peer->nonce.p : gw_n;
	size_t nil = gw_init ? sizeof(gw_n) : peer->nonce.len;
	size_t nrl = gw_init ? peer->nonce.len : sizeof(gw_n);

	memset(nr, 0, sizeof(*nr));
	nr->spi_i = spi_i;
	nr->spi_r = spi_r;
	nr->suite = r->suite;
	assert_int_equal(
	    dh_shared(d, peer->ke.data.p, peer->ke.data.len, gir, sizeof(gir)),
	    0);
	assert_int_equal(ike_skeyseed_rekey(r->suite.prf, r->k.sk_d, r->k.d_len,
					    gir, 32, ni, nil, nrn, nrl, seed),
			 0);
	assert_int_equal(
	    ike_keys_derive(&nr->suite, seed, r->suite.prf->out_len, ni, nil,
			    nrn, nrl, (uint8_t *)&si, (uint8_t *)&sr, &nr->k),
	    0);
	nr->in = sk_ctx_new(nr->suite.encr, NULL,
			    gw_init ? nr->k.sk_er : nr->k.sk_ei, nr->k.e_len,
			    NULL, 0, SK_IN);
	nr->out = sk_ctx_new(nr->suite.encr, NULL,
			     gw_init ? nr->k.sk_ei : nr->k.sk_er, nr->k.e_len,
			     NULL, 0, SK_OUT);
	assert_non_null(nr->in);
	assert_non_null(nr->out);
}

static void swap_resp(struct t *t, struct resp *o)
{
	struct resp tmp = t->r;

	t->r = *o;
	*o = tmp;
}

static void free_resp(struct resp *r)
{
	sk_ctx_free(r->in);
	sk_ctx_free(r->out);
	r->in = r->out = NULL;
}

static void status_has(struct t *t, const char *s)
{
	struct jw w;

	jw_init(&w);
	jw_obj_begin(&w, NULL);
	ike_engine_status(t->e, &w);
	jw_obj_end(&w);
	if (!strstr(jw_text(&w), s))
		fail_msg("status lacks %s: %s", s, jw_text(&w));
	jw_free(&w);
}

/* Fires DPD and checks the request decrypts with the test's current
 * (new) keys: message ID 0 on the new SA, I flag as given. */
static void dpd_on_new(struct t *t, bool we_init)
{
	struct timer *tm = &t->e->sa.t_dpd;
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;

	assert_true(timer_armed(tm));
	tm->cb(tm->owner);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 0);
	assert_true(m.hdr.spi_i == t->r.spi_i && m.hdr.spi_r == t->r.spi_r);
	assert_int_equal(!!(m.hdr.flags & IKE_FLAG_INITIATOR), we_init);
	assert_false(m.hdr.flags & IKE_FLAG_RESPONSE);
}

static void gw_ike_rekey(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	struct resp old;
	struct ike_msg m;
	uint32_t child_in;
	uint64_t ours, be;
	unsigned sent;
	char s[64];
	size_t n;

	establish(t);
	sa = ike_engine_sa(t->e);
	child_in = sa->child.spi_in;
	n = gw_msg(t, 0, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf); /* the answer, on the old SA */
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_int_equal(m.hdr.msgid, 0);
	assert_true(m.has_sa && m.has_ke && m.has_nonce);
	assert_int_equal(m.sa.prop[0].spi_size, 8);
	memcpy(&be, m.sa.prop[0].spi, 8);
	ours = be64toh(be);
	/* The new SA: the gateway is its initiator. */
	assert_true(sa->spi_i == GW_NEW_SPI && sa->spi_r == ours);
	assert_true(sa->responder);
	assert_int_equal(sa->state, IKE_ST_ESTABLISHED);
	assert_int_equal(sa->child.spi_in, child_in);
	assert_int_equal(dpc.del, 0);
	gw_new_keys(t, &old, d, &m, GW_NEW_SPI, ours, true);
	swap_resp(t, &old); /* t->r: the new SA; old: the old one */
	snprintf(s, sizeof(s), "\"spi_i\":\"%016llx\"",
		 (unsigned long long)GW_NEW_SPI);
	status_has(t, s);
	status_has(t, "\"ike_rekeys_answered\":1");
	dpd_on_new(t, false);
	/* The gateway deletes the old SA: answered there, nothing else. */
	swap_resp(t, &old);
	n = gw_info(t, 1, 0, true, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_int_equal(m.hdr.msgid, 1);
	assert_int_equal(m.inner.n, 0);
	assert_false(t->e->irk.old.active);
	assert_int_equal(sa->state, IKE_ST_ESTABLISHED);
	assert_int_equal(sa->child.spi_in, child_in);
	assert_int_equal(dpc.del, 0);
	/* Now unknown: a further message on the old SA is dropped. */
	n = gw_info(t, 2, 0, false, pkt);
	sent = io.n;
	feed(t, pkt, n);
	assert_int_equal(io.n, sent);
	free_resp(&old); /* the new SA's (t->r is the original again) */
	dh_free(d);
}

static void our_ike_rekey(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	struct timer *tm = &t->e->irk.t_rekey;
	struct resp nr;
	struct ike_msg m;
	uint64_t ours, be;
	uint32_t child_in;
	size_t n;

	establish(t);
	sa = ike_engine_sa(t->e);
	child_in = sa->child.spi_in;
	assert_true(timer_armed(tm));
	assert_true(timer_remaining_ns(tm) <= 90ull * 1000000000ull);
	assert_true(timer_remaining_ns(tm) > 84ull * 1000000000ull);
	tm->cb(tm->owner);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, CREATE_CHILD_SA);
	assert_int_equal(m.hdr.msgid, 2);
	assert_true(m.has_sa && m.has_ke && m.has_nonce && !m.has_tsi);
	assert_int_equal(m.sa.prop[0].protocol, IKE_PROTO_IKE);
	assert_int_equal(m.sa.prop[0].spi_size, 8);
	assert_int_equal(m.ke.group, IKE_DH_CURVE25519);
	memcpy(&be, m.sa.prop[0].spi, 8);
	ours = be64toh(be);
	gw_new_keys(t, &nr, d, &m, ours, GW_NEW_SPI, false);
	n = gw_msg(t, 2, IKE_FLAG_RESPONSE, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI,
		   pkt);
	feed(t, pkt, n);
	assert_true(sa->spi_i == ours && sa->spi_r == GW_NEW_SPI);
	assert_false(sa->responder);
	assert_int_equal(sa->child.spi_in, child_in);
	status_has(t, "\"ike_rekeys_initiated\":1");
	/* D(IKE) on the old SA, answered there. */
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 3);
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].protocol, IKE_PROTO_IKE);
	assert_true(t->e->irk.old.active);
	n = gw_info(t, 3, IKE_FLAG_RESPONSE, false, pkt);
	feed(t, pkt, n);
	assert_false(t->e->irk.old.active);
	assert_int_equal(dpc.del, 0);
	assert_true(timer_armed(tm)); /* for the new SA */
	swap_resp(t, &nr);
	dpd_on_new(t, true);
	swap_resp(t, &nr);
	free_resp(&nr);
	dh_free(d);
}

/* Our rekey answered with INVALID_KE_PAYLOAD: the exchange is over, so
 * the retry with the wanted group is a new request, on #3 (the gateway
 * takes #2 again for a retransmission and resends its refusal, 2.2). */
static void our_ike_rekey_invalid_ke(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], ib_buf[64];
	uint8_t grp[2] = {0, IKE_DH_ECP256};
	struct ike_builder ib;
	struct ike_msg m;
	struct wbuf w;

	t->conf.ike[1] = t->conf.ike[0];
	t->conf.ike[1].dh = IKE_DH_ECP256;
	t->conf.n_ike = 2;
	establish(t);
	assert_int_equal(ike_engine_rekey_ike(t->e), 0);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.msgid, 2);
	assert_int_equal(m.ke.group, IKE_DH_CURVE25519);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	notify(&ib, IKE_N_INVALID_KE_PAYLOAD, grp, 2);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	feed(t, pkt,
	     r_seal(t, CREATE_CHILD_SA, IKE_FLAG_RESPONSE, 2, &ib, pkt));
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, CREATE_CHILD_SA);
	assert_int_equal(m.hdr.msgid, 3);
	assert_int_equal(m.ke.group, IKE_DH_ECP256);
	/* the KE's group first (AEAD: ENCR, PRF, DH) */
	assert_int_equal(m.sa.prop[0].trans[2].type, IKE_TRANS_DH);
	assert_int_equal(m.sa.prop[0].trans[2].id, IKE_DH_ECP256);
	assert_true(t->e->x.active);
}

/* Wrong KE group: INVALID_KE_PAYLOAD naming ours; nothing changes. */
static void gw_ike_rekey_invalid_ke(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_ECP256);
	const struct ike_notify_pl *nt;
	const struct ike_sa *sa;
	struct ike_msg m;
	uint64_t spi_i;
	size_t n;

	establish(t);
	sa = ike_engine_sa(t->e);
	spi_i = sa->spi_i;
	n = gw_msg(t, 0, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	nt = ike_find_notify(&m, IKE_N_INVALID_KE_PAYLOAD);
	assert_non_null(nt);
	assert_int_equal(nt->data.len, 2);
	assert_int_equal(nt->data.p[1], IKE_DH_CURVE25519);
	assert_true(sa->spi_i == spi_i);
	assert_false(t->e->irk.next.ready);
	dh_free(d);
}

/* NO_PROPOSAL_CHOSEN, TEMPORARY_FAILURE (our exchange outstanding: a
 * simultaneous rekey), and a bad ICV (dropped): no state change. */
static void gw_ike_rekey_refused(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	const struct ike_sa *sa;
	struct ike_msg m;
	uint64_t spi_i;
	unsigned sent;
	size_t n;

	establish(t);
	sa = ike_engine_sa(t->e);
	spi_i = sa->spi_i;
	n = gw_msg(t, 0, 0, IKE_ENCR_AES_CBC, d, GW_NEW_SPI, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	assert_non_null(ike_find_notify(&m, IKE_N_NO_PROPOSAL_CHOSEN));
	n = gw_msg(t, 1, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt);
	pkt[n - 1] ^= 1;
	sent = io.n;
	feed(t, pkt, n);
	assert_int_equal(io.n, sent);
	assert_int_equal(ike_engine_rekey_ike(t->e), 0); /* ours first */
	n = gw_msg(t, 1, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	assert_non_null(ike_find_notify(&m, IKE_N_TEMPORARY_FAILURE));
	assert_true(sa->spi_i == spi_i);
	assert_false(sa->responder);
	assert_int_equal(sa->state, IKE_ST_ESTABLISHED);
	assert_int_equal(dpc.del, 0);
	dh_free(d);
}

/* The responder steps run by hand with the answer never going out (its
 * building failed): the gateway has no new SA, so we stay on the current
 * one and the new keys are wiped; its retransmission then works. */
static void gw_ike_rekey_unanswered(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], out[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	const struct ike_sa *sa;
	struct ike_builder b;
	struct ike_msg m;
	struct wbuf w;
	uint64_t spi_i;
	size_t n;

	log_set_level(NULL, L_ERR);
	establish(t);
	sa = ike_engine_sa(t->e);
	spi_i = sa->spi_i;
	n = gw_msg(t, 0, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt);
	gw_open(t, &m, pkt, n, buf);
	memset(&t->e->ans, 0, sizeof(t->e->ans));
	task_ike_rekey.process_r(t->e, &m);
	assert_true(t->e->ans.irk.mine);
	assert_int_equal(t->e->ans.irk.error, 0);
	assert_non_null(t->e->irk.next.sk_in);
	wb_init(&w, out, sizeof(out));
	ike_build_inner_begin(&b, &w);
	assert_int_equal(task_ike_rekey.build_r(t->e, &b), 0);
	task_ike_rekey.done_r(t->e, false);
	assert_true(sa->spi_i == spi_i);
	assert_false(t->e->irk.old.active);
	assert_false(t->e->irk.next.ready);
	assert_null(t->e->irk.next.sk_in);
	assert_null(t->e->irk.next.sk_out);
	assert_true(t->e->irk.next.spi_i == 0);
	status_has(t, "\"ike_rekeys_answered\":0");
	feed(t, pkt, n); /* its retransmission: answered now */
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_true(m.has_sa && m.has_ke);
	assert_true(sa->spi_i == GW_NEW_SPI);
	status_has(t, "\"ike_rekeys_answered\":1");
	dh_free(d);
}

/* The gateway's INFORMATIONAL request #id on t->r's SA as RFC 7383
 * fragments of at most 100 octets: two vendor IDs, and D(IKE) if del. */
struct gw_frags {
	uint8_t wire[IKE_MAX_WIRE];
	const uint8_t *p[16];
	size_t len[16];
	unsigned n;
};

static void gw_frag_request(struct t *t, uint32_t id, uint8_t flags, bool del,
			    struct gw_frags *f)
{
	uint8_t ib_buf[IKE_MAX_MSG], v[100];
	struct ike_chunk vid = {v, sizeof(v)};
	struct ike_delete d = {.protocol = IKE_PROTO_IKE};
	struct ike_builder ib;
	struct ike_hdr h;
	struct wbuf w;
	size_t olen = 0, one;

	memset(v, 0x66, sizeof(v));
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	if (del)
		ike_build_delete(&ib, &d);
	ike_build_vendor(&ib, &vid);
	ike_build_vendor(&ib, &vid);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	hdr(&h, &t->r, INFORMATIONAL, flags, id);
	assert_true(ike_frag_seal(t->r.out, &h, ib_buf, w.len, ib.first, 100,
				  f->wire, sizeof(f->wire), &olen) > 1);
	f->n = 0;
	for (size_t off = 0; off < olen; off += one) {
		one = ike_wire_next(f->wire + off, olen - off);
		assert_true(f->n < 16);
		f->p[f->n] = f->wire + off;
		f->len[f->n++] = one;
	}
}

/* After the gateway's rekey its D(IKE) of the old SA and a request on
 * the new one come as fragments, interleaved: each SA reassembles apart
 * (the old one in frag.other), both are answered, and the old SA's
 * plaintext goes with it. */
static void old_and_new_fragments_apart(void **state)
{
	struct t *t = *state;
	static struct gw_frags fo, fn;
	uint8_t pkt[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	struct ike_msg m;
	struct resp nr;
	uint64_t ours, be, spi[2];
	unsigned sent;

	establish(t);
	feed(t, pkt, gw_msg(t, 0, 0, IKE_ENCR_AES_GCM_16, d, GW_NEW_SPI, pkt));
	r_open(t, &m, pkt);
	memcpy(&be, m.sa.prop[0].spi, 8);
	ours = be64toh(be);
	gw_new_keys(t, &nr, d, &m, GW_NEW_SPI, ours, true);
	gw_frag_request(t, 1, 0, true, &fo); /* on the old SA */
	swap_resp(t, &nr);
	gw_frag_request(t, 0, IKE_FLAG_INITIATOR, false, &fn); /* the new */
	swap_resp(t, &nr);
	sent = io.n;
	for (unsigned i = 0; i < fo.n || i < fn.n; i++) {
		if (i < fo.n)
			feed(t, fo.p[i], fo.len[i]);
		if (i < fn.n)
			feed(t, fn.p[i], fn.len[i]);
	}
	assert_int_equal(io.n, sent + 2); /* both answered, each on its SA */
	for (unsigned i = 0; i < 2; i++) {
		struct ike_hdr h;

		assert_int_equal(ike_parse_hdr(&h, io.pkt[(sent + i) % 16],
					       io.len[(sent + i) % 16]),
				 IKE_OK);
		assert_true(h.flags & IKE_FLAG_RESPONSE);
		spi[i] = h.spi_i;
	}
	assert_true((spi[0] == t->r.spi_i && spi[1] == GW_NEW_SPI) ||
		    (spi[1] == t->r.spi_i && spi[0] == GW_NEW_SPI));
	assert_false(t->e->irk.old.active);
	assert_int_equal(t->e->frag.other.msg_len, 0);
	assert_false(t->e->frag.other.active);
	assert_int_equal(ike_engine_sa(t->e)->peer_req_id, 1);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
	free_resp(&nr);
	dh_free(d);
}

/* proposal.c's IKE side, as both IKE_SA_INIT and the rekeys use it:
 * building (order, SPI), matching the choice exactly, and selecting from
 * the gateway's offer. */
static void ike_proposals(void **state)
{
	struct mobiked_conf c;
	struct ike_sa_pl sa, ans;
	uint64_t peer = 0;

	make_conf(&c, false);
	c.ike[1] = c.ike[0];
	c.ike[1].dh = IKE_DH_ECP256;
	c.n_ike = 2;
	proposal_ike_build(&c, 0, 0, &sa); /* IKE_SA_INIT: as configured */
	assert_int_equal(sa.nprop, 2);
	assert_int_equal(sa.prop[0].spi_size, 0);
	assert_int_equal(sa.prop[0].trans[2].id, IKE_DH_CURVE25519);
	proposal_ike_build(&c, IKE_DH_ECP256, GW_NEW_SPI, &sa);
	assert_int_equal(sa.prop[0].num, 1);
	assert_int_equal(sa.prop[0].spi_size, 8);
	assert_int_equal(sa.prop[0].trans[2].id, IKE_DH_ECP256);
	assert_int_equal(sa.prop[1].trans[2].id, IKE_DH_CURVE25519);
	/* the choice: exactly one of ours, with the exchange's SPI size */
	ike_prop(&sa, GW_NEW_SPI, IKE_ENCR_AES_GCM_16, IKE_DH_ECP256);
	assert_ptr_equal(proposal_ike_match(&c, &sa, 8), &c.ike[1]);
	assert_null(proposal_ike_match(&c, &sa, 0));
	sa.prop[0].trans[sa.prop[0].ntrans++] =
	    (struct ike_transform){IKE_TRANS_ESN, IKE_ESN_NO, 0, false};
	assert_null(proposal_ike_match(&c, &sa, 8)); /* a type not ours */
	/* the gateway's offer: ours for its KE group first, its SPI taken */
	ike_prop(&sa, GW_NEW_SPI, IKE_ENCR_AES_GCM_16, IKE_DH_ECP256);
	sa.prop[1] = sa.prop[0];
	sa.prop[1].num = 2;
	sa.prop[1].trans[2].id = IKE_DH_CURVE25519;
	sa.nprop = 2;
	assert_ptr_equal(
	    proposal_ike_select(&c, &sa, IKE_DH_ECP256, 42, &ans, &peer),
	    &c.ike[1]);
	assert_true(peer == GW_NEW_SPI);
	assert_int_equal(ans.nprop, 1);
	assert_int_equal(ans.prop[0].num, 1);
	assert_ptr_equal(proposal_ike_match(&c, &ans, 8), &c.ike[1]);
	assert_ptr_equal(proposal_ike_select(&c, &sa, 0, 42, &ans, &peer),
			 &c.ike[0]);
	assert_int_equal(ans.prop[0].num, 2);
	sa.prop[0].trans[0].key_len = 128; /* AES-GCM-128: not ours */
	sa.prop[1].trans[0].key_len = 128;
	assert_null(proposal_ike_select(&c, &sa, 0, 42, &ans, &peer));
}

/* --- several rekeys in a row: the timers stay in the loop --------------- */

/* t->r becomes the SA the test negotiated (nr); the one it replaces goes. */
static void become(struct t *t, struct resp *nr)
{
	swap_resp(t, nr);
	free_resp(nr);
	dh_free(nr->dh);
	nr->dh = NULL;
}

/* The engine's timers, for checks against the loop. */
static size_t engine_timers(struct t *t, struct timer **all)
{
	struct ike_engine *e = t->e;
	struct timer *list[] = {
	    &e->sa.t_retransmit, &e->sa.t_dpd,	 &e->sa.t_keepalive,
	    &e->sa.t_establish,	 &e->rk.t_rekey, &e->irk.t_rekey,
	    &e->irk.old.t_old,
	};

	memcpy(all, list, sizeof(list));
	return sizeof(list) / sizeof(list[0]);
}

/* Every engine timer that says it is armed is in the loop's heap. */
static void assert_timers_in_loop(struct t *t)
{
	struct timer *all[8];
	size_t n = engine_timers(t, all), armed = 0;

	assert_int_equal(eloop_check(t->loop), 0);
	for (size_t i = 0; i < n; i++) {
		if (!timer_armed(all[i]))
			continue;
		if (!eloop_has_timer(t->loop, all[i]))
			fail_msg("engine timer %zu armed but not in the loop",
				 i);
		armed++;
	}
	assert_int_equal(eloop_timer_count(t->loop), armed);
}

/* ... and each fires once when due (made due now). */
static void assert_timers_fire(struct t *t)
{
	struct timer *all[8];
	size_t n = engine_timers(t, all);
	int armed = 0;

	assert_timers_in_loop(t);
	for (size_t i = 0; i < n; i++)
		if (timer_armed(all[i])) {
			timer_arm_ns(t->loop, all[i], 0);
			armed++;
		}
	assert_int_equal(armed, 5); /* DPD, keepalive, both rekeys, old SA */
	assert_int_equal(eloop_check(t->loop), 0);
	assert_int_equal(eloop_run_once(t->loop, 0), armed);
	assert_int_equal(eloop_check(t->loop), 0);
}

/* Our rekey of t->r's SA, answered, and our D(IKE) of the old SA answered
 * there; t->r becomes the new SA. */
static void our_round(struct t *t, uint64_t gw_spi)
{
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	const struct ike_sa *sa = ike_engine_sa(t->e);
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	struct ike_msg m;
	struct resp nr;
	uint64_t ours, be;
	uint32_t id;

	fire(t, &t->e->irk.t_rekey);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, CREATE_CHILD_SA);
	id = m.hdr.msgid;
	memcpy(&be, m.sa.prop[0].spi, 8);
	ours = be64toh(be);
	gw_new_keys(t, &nr, d, &m, ours, gw_spi, false);
	feed(t, pkt,
	     gw_msg(t, id, IKE_FLAG_RESPONSE, IKE_ENCR_AES_GCM_16, d, gw_spi,
		    pkt));
	assert_true(sa->spi_i == ours && sa->spi_r == gw_spi);
	assert_true(eloop_has_timer(t->loop, &t->e->irk.old.t_old));
	r_open(t, &m, buf); /* D(IKE) on the old SA */
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, id + 1);
	assert_int_equal(m.ndelete, 1);
	feed(t, pkt, gw_info(t, id + 1, IKE_FLAG_RESPONSE, false, pkt));
	assert_false(t->e->irk.old.active);
	become(t, &nr);
	dh_free(d);
}

/* The gateway's rekey of t->r's SA (its requests carry iflag there), and
 * if del its D(IKE) of the old SA; t->r becomes the new SA. */
static void gw_round(struct t *t, uint64_t gw_spi, uint8_t iflag, bool del)
{
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	const struct ike_sa *sa = ike_engine_sa(t->e);
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	struct ike_msg m;
	struct resp nr;
	uint64_t ours, be;

	feed(t, pkt, gw_msg(t, 0, iflag, IKE_ENCR_AES_GCM_16, d, gw_spi, pkt));
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_true(m.has_sa && m.has_ke);
	memcpy(&be, m.sa.prop[0].spi, 8);
	ours = be64toh(be);
	assert_true(sa->spi_i == gw_spi && sa->spi_r == ours);
	assert_true(eloop_has_timer(t->loop, &t->e->irk.old.t_old));
	gw_new_keys(t, &nr, d, &m, gw_spi, ours, true);
	if (del) {
		feed(t, pkt, gw_info(t, 1, iflag, true, pkt));
		r_open(t, &m, buf);
		assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
		assert_int_equal(m.hdr.msgid, 1);
		assert_false(t->e->irk.old.active);
	}
	become(t, &nr);
	dh_free(d);
}

/* Two IKE SA rekeys of ours, then three of the gateway's: each replaced
 * SA is freed and the next rekey arms its timer again (the old SA's
 * timer was once kept as a stale copy outside the loop's heap). */
static void rekeys_in_a_row(void **state)
{
	struct t *t = *state;

	t->conf.child_lifetime_s = 200;
	establish(t);
	our_round(t, GW_NEW_SPI);
	assert_timers_in_loop(t);
	our_round(t, GW_NEW_SPI + 1);
	assert_timers_in_loop(t);
	gw_round(t, GW_NEW_SPI + 2, 0, true);
	assert_timers_in_loop(t);
	gw_round(t, GW_NEW_SPI + 3, IKE_FLAG_INITIATOR, true);
	assert_timers_in_loop(t);
	/* A third, whose old SA the gateway never deletes: t_old runs. */
	gw_round(t, GW_NEW_SPI + 4, IKE_FLAG_INITIATOR, false);
	assert_true(t->e->irk.old.active);
	assert_timers_fire(t);
	assert_false(t->e->irk.old.active);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
	status_has(t, "\"ike_rekeys_initiated\":2");
	status_has(t, "\"ike_rekeys_answered\":3");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(gw_ike_rekey, setup_dpd, teardown),
	    cmocka_unit_test_setup_teardown(our_ike_rekey, setup_dpd, teardown),
	    cmocka_unit_test_setup_teardown(gw_ike_rekey_invalid_ke, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(our_ike_rekey_invalid_ke, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(gw_ike_rekey_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(rekeys_in_a_row, setup_dpd,
					    teardown),
	    cmocka_unit_test_setup_teardown(gw_ike_rekey_unanswered, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(old_and_new_fragments_apart, setup,
					    teardown),
	    cmocka_unit_test(ike_proposals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
