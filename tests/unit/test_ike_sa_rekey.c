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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(gw_ike_rekey, setup_dpd, teardown),
	    cmocka_unit_test_setup_teardown(our_ike_rekey, setup_dpd, teardown),
	    cmocka_unit_test_setup_teardown(gw_ike_rekey_invalid_ke, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(gw_ike_rekey_refused, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
