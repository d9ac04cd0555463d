/*
 * test_ike_rekey.c - CHILD_SA rekeying (RFC 7296 1.3.3, 2.8) with the
 * mini responder of ike_peer.h acting as the gateway: its rekey requests
 * (with and without PFS, INVALID_KE_PAYLOAD, bad ones) and our own rekey
 * on the lifetime timer, each followed by the DELETE of the old SA
 * (make-before-break: the old SA leaves the data plane only then).
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

#define OLD_OUT 0xc0010203u /* the gw's inbound SPI from IKE_AUTH */
#define NEW_OUT 0xc0a0b0c0u

static uint8_t gw_ni[32];

static int setup_pfs(void **state)
{
	struct t *t;

	setup_common(state, false);
	t = *state;
	t->conf.esp[0].dh = IKE_DH_CURVE25519;
	t->conf.esp[1] = t->conf.esp[0];
	t->conf.esp[1].dh = IKE_DH_ECP256;
	t->conf.n_esp = 2;
	return 0;
}

/* The gateway's view of our CHILD_SA selectors: TSi its side, TSr ours. */
static void gw_ts(struct ike_ts_set *tsi, struct ike_ts_set *tsr)
{
	memset(tsi, 0, sizeof(*tsi));
	memset(tsr, 0, sizeof(*tsr));
	tsi->n = tsr->n = 1;
	tsi->ts[0].type = tsr->ts[0].type = IKE_TS_IPV4_ADDR_RANGE;
	tsi->ts[0].end_port = tsr->ts[0].end_port = 0xffff;
	ipaddr_parse(&tsi->ts[0].start, "10.0.0.0");
	ipaddr_parse(&tsi->ts[0].end, "10.255.255.255");
	ipaddr_parse(&tsr->ts[0].start, "10.99.0.1");
	ipaddr_parse(&tsr->ts[0].end, "10.99.0.1");
}

static void esp_prop(struct ike_sa_pl *sa, uint8_t proto, uint16_t dh)
{
	struct ike_proposal *p = &sa->prop[0];
	uint32_t be = htobe32(NEW_OUT);

	memset(sa, 0, sizeof(*sa));
	sa->nprop = 1;
	p->num = 1;
	p->protocol = proto;
	p->spi_size = proto == IKE_PROTO_ESP ? 4 : 8;
	memcpy(p->spi, &be, 4);
	p->trans[p->ntrans++] = (struct ike_transform){
	    IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256, false};
	if (proto == IKE_PROTO_IKE)
		p->trans[p->ntrans++] = (struct ike_transform){
		    IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_384, 0, false};
	if (dh)
		p->trans[p->ntrans++] =
		    (struct ike_transform){IKE_TRANS_DH, dh, 0, false};
	if (proto == IKE_PROTO_ESP)
		p->trans[p->ntrans++] =
		    (struct ike_transform){IKE_TRANS_ESN, IKE_ESN_NO, 0, false};
}

struct gw_req {
	uint8_t proto;	    /* SA protocol */
	uint16_t dh;	    /* DH transform offered, 0: none */
	struct dh *ke;	    /* KE sent, NULL: none */
	uint32_t rekey_spi; /* REKEY_SA SPI, 0: no notify */
	bool no_ts;
};

/* HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr} from the gateway. */
static size_t gw_rekey_req(struct t *t, uint32_t id, const struct gw_req *q,
			   uint8_t *out)
{
	uint8_t ib_buf[IKE_MAX_MSG];
	struct ike_notify_pl n = {
	    .protocol = IKE_PROTO_ESP, .spi_size = 4, .type = IKE_N_REKEY_SA};
	struct ike_chunk nonce = {gw_ni, sizeof(gw_ni)};
	struct ike_ts_set tsi, tsr;
	uint32_t be = htobe32(q->rekey_spi);
	struct ike_builder ib;
	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct wbuf w;
	size_t klen;

	memset(gw_ni, 0x11, sizeof(gw_ni));
	memcpy(n.spi, &be, 4);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	if (q->rekey_spi)
		ike_build_notify(&ib, &n);
	esp_prop(&sa, q->proto, q->dh);
	ike_build_sa(&ib, &sa);
	ike_build_nonce(&ib, &nonce);
	if (q->ke) {
		ke.group = dh_group(q->ke);
		ke.data.p = dh_public(q->ke, &klen);
		ke.data.len = klen;
		ike_build_ke(&ib, &ke);
	}
	gw_ts(&tsi, &tsr);
	if (!q->no_ts) {
		ike_build_ts(&ib, IKE_PL_TSI, &tsi);
		ike_build_ts(&ib, IKE_PL_TSR, &tsr);
	}
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, CREATE_CHILD_SA, 0, id, &ib, out);
}

static size_t gw_delete(struct t *t, uint32_t id, uint32_t spi, uint8_t x,
			uint8_t flags, uint8_t *out)
{
	uint8_t ib_buf[IKE_MAX_MSG];
	uint32_t be = htobe32(spi);
	struct ike_delete d = {IKE_PROTO_ESP, 4, 1, {(uint8_t *)&be, 4}};
	struct ike_builder ib;
	struct wbuf w;

	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_delete(&ib, &d);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, x, flags, id, &ib, out);
}

static uint32_t spi_of(const struct ike_proposal *p)
{
	uint32_t be;

	memcpy(&be, p->spi, 4);
	return be32toh(be);
}

static void assert_keys(struct t *t, const uint8_t *gir, size_t glen,
			const uint8_t *ni, size_t nil, const uint8_t *nr,
			size_t nrl, bool gw_init)
{
	struct child_keys k;
	const struct encr_alg *a = encr_alg_find(IKE_ENCR_AES_GCM_16, 256);

	assert_int_equal(child_keys_derive(t->r.suite.prf, t->r.k.sk_d,
					   t->r.k.d_len, a, NULL, gir, glen, ni,
					   nil, nr, nrl, &k),
			 0);
	/* i->r keys: the gateway's outbound if it initiated. */
	assert_memory_equal(dpc.last.in.encr, gw_init ? k.ei : k.er, k.e_len);
	assert_memory_equal(dpc.last.out.encr, gw_init ? k.er : k.ei, k.e_len);
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

/* The gateway's rekey, answered; returns our new inbound SPI. */
static uint32_t gw_rekeys(struct t *t, bool pfs, uint32_t id)
{
	const struct ike_sa *sa = ike_engine_sa(t->e);
	uint32_t old_in = sa->child.spi_in;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], gir[64];
	struct dh *d = pfs ? dh_new(IKE_DH_CURVE25519) : NULL;
	struct gw_req q = {IKE_PROTO_ESP, pfs ? IKE_DH_CURVE25519 : 0, d,
			   OLD_OUT, false};
	struct ike_msg m;
	size_t n;

	n = gw_rekey_req(t, id, &q, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_int_equal(ike_check_placement(&m, true, NULL), IKE_OK);
	assert_null(ike_error_notify(&m));
	assert_true(m.has_sa && m.has_nonce && m.has_tsi && m.has_tsr);
	assert_int_equal(m.sa.nprop, 1);
	assert_int_equal(m.has_ke, pfs);
	assert_int_equal(dpc.add, 2);
	assert_int_equal(dpc.last.spi_out, NEW_OUT);
	assert_int_equal(dpc.last.spi_in, spi_of(&m.sa.prop[0]));
	assert_int_not_equal(dpc.last.spi_in, old_in);
	assert_int_equal(dpc.del, 0); /* make-before-break */
	if (pfs)
		assert_int_equal(
		    dh_shared(d, m.ke.data.p, m.ke.data.len, gir, sizeof(gir)),
		    0);
	assert_keys(t, pfs ? gir : NULL, pfs ? 32 : 0, gw_ni, sizeof(gw_ni),
		    m.nonce.p, m.nonce.len, true);
	assert_int_equal(sa->child.spi_in, dpc.last.spi_in);
	status_has(t, "\"rekeyed_child_sas\":1");
	dh_free(d);
	return dpc.last.spi_in;
}

/* The gateway deletes the old SA: we answer with our old inbound SPI. */
static void gw_deletes_old(struct t *t, uint32_t old_in, uint32_t id)
{
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	uint32_t be;
	size_t n;

	n = gw_delete(t, id, OLD_OUT, INFORMATIONAL, 0, pkt);
	feed(t, pkt, n);
	r_open(t, &m, buf);
	assert_int_equal(m.ndelete, 1);
	memcpy(&be, m.del[0].spis.p, 4);
	assert_int_equal(be32toh(be), old_in);
	assert_int_equal(dpc.del, 1);
	assert_int_equal(dpc.del_spi[0], old_in);
	status_has(t, "\"rekeyed_child_sas\":0");
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

static void gw_rekey(void **state)
{
	struct t *t = *state;
	uint32_t old_in;

	establish(t);
	old_in = ike_engine_sa(t->e)->child.spi_in;
	gw_rekeys(t, false, 0);
	gw_deletes_old(t, old_in, 1);
}

static void gw_rekey_pfs(void **state)
{
	struct t *t = *state;
	uint32_t old_in;

	establish(t);
	old_in = ike_engine_sa(t->e)->child.spi_in;
	gw_rekeys(t, true, 0);
	gw_deletes_old(t, old_in, 1);
}

/* The responder steps run by hand with the answer never going out (its
 * building failed): the CHILD_SA installed for it goes again and the one
 * it replaced is current; the gateway's retransmission then works. */
static void gw_rekey_unanswered(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa = ike_engine_sa(t->e);
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], out[IKE_MAX_MSG];
	struct gw_req q = {IKE_PROTO_ESP, 0, NULL, OLD_OUT, false};
	struct ike_builder b;
	struct ike_msg m;
	struct wbuf w;
	uint32_t old_in;
	size_t n;

	log_set_level(NULL, L_ERR);
	establish(t);
	old_in = sa->child.spi_in;
	n = gw_rekey_req(t, 0, &q, pkt);
	gw_open(t, &m, pkt, n, buf);
	memset(&t->e->ans, 0, sizeof(t->e->ans));
	task_child_rekey.process_r(t->e, &m);
	assert_int_equal(t->e->ans.crk.error, 0);
	assert_int_equal(dpc.add, 2); /* installed before the answer */
	wb_init(&w, out, sizeof(out));
	ike_build_inner_begin(&b, &w);
	assert_int_equal(task_child_rekey.build_r(t->e, &b), 0);
	task_child_rekey.done_r(t->e, false);
	assert_int_equal(sa->child.spi_in, old_in);
	assert_int_equal(dpc.del, 1);
	assert_int_not_equal(dpc.del_spi[0], old_in);
	status_has(t, "\"rekeyed_child_sas\":0");
	status_has(t, "\"child_rekeys_answered\":0");
	feed(t, pkt, n); /* its retransmission: answered now */
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	assert_null(ike_error_notify(&m));
	assert_int_equal(dpc.add, 3);
	assert_int_equal(sa->child.spi_in, spi_of(&m.sa.prop[0]));
	status_has(t, "\"child_rekeys_answered\":1");
}

/* Expect an answer carrying only this notify, and no state change. */
static void refused(struct t *t, uint16_t type)
{
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;

	r_open(t, &m, buf);
	assert_int_equal(m.inner.n, 1);
	assert_non_null(ike_find_notify(&m, type));
	assert_int_equal(dpc.add, 1);
	assert_int_equal(dpc.del, 0);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

static void gw_rekey_invalid_ke(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct dh *d = dh_new(IKE_DH_ECP256);
	struct gw_req q = {IKE_PROTO_ESP, IKE_DH_CURVE25519, d, OLD_OUT, false};
	struct ike_msg m;
	size_t n;

	establish(t);
	/* KE of another group than the DH transform we select. */
	n = gw_rekey_req(t, 0, &q, pkt);
	feed(t, pkt, n);
	refused(t, IKE_N_INVALID_KE_PAYLOAD);
	r_open(t, &m, buf);
	n = m.notify[0].data.len;
	assert_int_equal(n, 2);
	assert_int_equal(m.notify[0].data.p[1], IKE_DH_CURVE25519);
	/* No KE at all with PFS required: same answer. */
	q.ke = NULL;
	n = gw_rekey_req(t, 1, &q, pkt);
	feed(t, pkt, n);
	refused(t, IKE_N_INVALID_KE_PAYLOAD);
	dh_free(d);
	/* The gateway's retry with the right group works. */
	gw_rekeys(t, true, 2);
}

/* Bad rekey requests: answered with an error, or (unauthenticated)
 * dropped; the SA and the data plane stay as they were. */
static void gw_rekey_bad(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	struct gw_req q = {IKE_PROTO_ESP, 0, NULL, 0x12345678, false};
	unsigned sent;
	size_t n;

	establish(t);
	n = gw_rekey_req(t, 0, &q, pkt); /* an SPI we never used */
	feed(t, pkt, n);
	refused(t, IKE_N_CHILD_SA_NOT_FOUND);
	q.rekey_spi = 0; /* an additional CHILD_SA */
	n = gw_rekey_req(t, 1, &q, pkt);
	feed(t, pkt, n);
	refused(t, IKE_N_NO_ADDITIONAL_SAS);
	q = (struct gw_req){IKE_PROTO_IKE, IKE_DH_CURVE25519, NULL, 0, true};
	n = gw_rekey_req(t, 2, &q, pkt); /* IKE SA rekey without KE */
	feed(t, pkt, n);
	refused(t, IKE_N_INVALID_KE_PAYLOAD);
	q = (struct gw_req){IKE_PROTO_ESP, 0, NULL, OLD_OUT, true};
	n = gw_rekey_req(t, 3, &q, pkt); /* no TS */
	feed(t, pkt, n);
	refused(t, IKE_N_INVALID_SYNTAX);
	/* A flipped ICV byte: dropped, never answered. */
	q.no_ts = false;
	n = gw_rekey_req(t, 4, &q, pkt);
	pkt[n - 1] ^= 1;
	sent = io.n;
	feed(t, pkt, n);
	assert_int_equal(io.n, sent);
	/* Truncated: dropped too. */
	feed(t, pkt, n - 7);
	assert_int_equal(io.n, sent);
	assert_int_equal(dpc.add, 1);
	assert_int_equal(ike_engine_sa(t->e)->child.spi_in,
			 htobe32(t->r.peer_esp_spi));
	/* The well-formed one still goes through with the same ID. */
	gw_rekeys(t, false, 4);
}

/* Only AES-GCM offered to a CBC-only configuration. */
static void gw_rekey_no_proposal(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	struct gw_req q = {IKE_PROTO_ESP, 0, NULL, OLD_OUT, false};
	size_t n;

	establish(t);
	n = gw_rekey_req(t, 0, &q, pkt);
	feed(t, pkt, n);
	refused(t, IKE_N_NO_PROPOSAL_CHOSEN);
}

/* --- our own rekey ------------------------------------------------------- */

/* Checks our CREATE_CHILD_SA request #id; returns it parsed in buf. */
static void our_request(struct t *t, struct ike_msg *m, uint8_t *buf,
			uint32_t id, uint32_t old_in, uint16_t ke_group)
{
	const struct ike_notify_pl *n;
	uint32_t be;

	r_open(t, m, buf);
	assert_int_equal(m->hdr.exchange, CREATE_CHILD_SA);
	assert_false(m->hdr.flags & IKE_FLAG_RESPONSE);
	assert_int_equal(m->hdr.msgid, id);
	assert_int_equal(ike_check_placement(m, false, NULL), IKE_OK);
	n = ike_find_notify(m, IKE_N_REKEY_SA);
	assert_non_null(n);
	assert_int_equal(n->protocol, IKE_PROTO_ESP);
	assert_int_equal(n->spi_size, 4);
	memcpy(&be, n->spi, 4);
	assert_int_equal(be32toh(be), old_in);
	assert_true(m->has_sa && m->has_nonce && m->has_tsi && m->has_tsr);
	assert_int_not_equal(spi_of(&m->sa.prop[0]), old_in);
	assert_int_equal(m->has_ke, ke_group != 0);
	if (ke_group)
		assert_int_equal(m->ke.group, ke_group);
	assert_int_equal(m->tsi.n, 1); /* the narrowed selectors */
	assert_int_equal(m->tsi.ts[0].start.b[3], 1);
}

/* The gateway's answer to our request req; with ke (PFS), KEr from it. */
static size_t gw_answer_ke(struct t *t, const struct ike_msg *req,
			   struct dh *ke, uint8_t *out)
{
	uint8_t ib_buf[IKE_MAX_MSG], nr[32];
	struct ike_chunk nonce = {nr, sizeof(nr)};
	struct ike_builder ib;
	struct ike_sa_pl sa;
	struct ike_ke k;
	struct wbuf w;
	size_t klen;

	memset(nr, 0x22, sizeof(nr));
	sa = req->sa;
	for (unsigned i = 0; ke && i < req->sa.nprop; i++)
		for (unsigned j = 0; j < req->sa.prop[i].ntrans; j++)
			if (req->sa.prop[i].trans[j].type == IKE_TRANS_DH &&
			    req->sa.prop[i].trans[j].id == dh_group(ke))
				sa.prop[0] = req->sa.prop[i]; /* KE's group */
	sa.nprop = 1;
	memcpy(sa.prop[0].spi, "\xd0\xd0\xd0\xd0", 4);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_sa(&ib, &sa);
	ike_build_nonce(&ib, &nonce);
	if (ke) {
		k.group = dh_group(ke);
		k.data.p = dh_public(ke, &klen);
		k.data.len = klen;
		ike_build_ke(&ib, &k);
	}
	ike_build_ts(&ib, IKE_PL_TSI, &req->tsi);
	ike_build_ts(&ib, IKE_PL_TSR, &req->tsr);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, CREATE_CHILD_SA, IKE_FLAG_RESPONSE, req->hdr.msgid,
		      &ib, out);
}

static size_t gw_answer(struct t *t, const struct ike_msg *req, uint8_t *out)
{
	return gw_answer_ke(t, req, NULL, out);
}

static void our_rekey(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], nr[32];
	struct ike_msg m;
	uint32_t old_in, new_in, be;
	struct timer *tm;
	size_t n;

	t->conf.child_lifetime_s = 100;
	establish(t);
	sa = ike_engine_sa(t->e);
	old_in = sa->child.spi_in;
	tm = &t->e->rk.t_rekey;
	assert_true(timer_armed(tm));
	assert_true(timer_remaining_ns(tm) <= 90ull * 1000000000ull);
	assert_true(timer_remaining_ns(tm) > 84ull * 1000000000ull);
	tm->cb(tm->owner); /* the lifetime timer fires */
	our_request(t, &m, buf, 2, old_in, 0);
	new_in = spi_of(&m.sa.prop[0]);
	n = gw_answer(t, &m, pkt);
	feed(t, pkt, n);
	assert_int_equal(dpc.add, 2);
	assert_int_equal(dpc.last.spi_in, new_in);
	assert_int_equal(dpc.last.spi_out, 0xd0d0d0d0);
	memset(nr, 0x22, sizeof(nr));
	assert_keys(t, NULL, 0, m.nonce.p, m.nonce.len, nr, sizeof(nr), false);
	assert_int_equal(sa->child.spi_in, new_in);
	assert_int_equal(dpc.del, 0); /* not before the DELETE is answered */
	/* Then: INFORMATIONAL D(ESP, old inbound SPI). */
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 3);
	assert_int_equal(m.ndelete, 1);
	memcpy(&be, m.del[0].spis.p, 4);
	assert_int_equal(be32toh(be), old_in);
	n = gw_delete(t, 3, OLD_OUT, INFORMATIONAL, IKE_FLAG_RESPONSE, pkt);
	feed(t, pkt, n);
	assert_int_equal(dpc.del, 1);
	assert_int_equal(dpc.del_spi[0], old_in);
	status_has(t, "\"rekeyed_child_sas\":0");
	status_has(t, "\"child_rekeys_initiated\":1");
	assert_true(timer_armed(tm)); /* for the new SA */
}

/* RFC 4301 4.4.2.1 on a replaced SA (still in the data plane until its
 * DELETE is answered): its hard limit removes just it, the soft one is
 * ignored; the current SA and the IKE SA carry on. */
static void replaced_child_expires(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa = ike_engine_sa(t->e);
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	uint32_t old_in, new_in;
	unsigned sent;

	t->conf.child_life_packets = 1000;
	establish(t);
	old_in = sa->child.spi_in;
	assert_int_equal(ike_engine_rekey(t->e), 0);
	our_request(t, &m, buf, 2, old_in, 0);
	new_in = spi_of(&m.sa.prop[0]);
	feed(t, pkt, gw_answer(t, &m, pkt));
	assert_int_equal(dpc.last.life_packets, 1000); /* the new SA too */
	sent = io.n; /* our D(ESP, old) is outstanding */
	ike_engine_dp_event(t->e, old_in, DP_EV_SOFT_EXPIRE);
	assert_int_equal(io.n, sent);
	ike_engine_dp_event(t->e, old_in, DP_EV_HARD_EXPIRE);
	assert_int_equal(dpc.del, 1);
	assert_int_equal(dpc.del_spi[0], old_in);
	assert_int_equal(sa->child.spi_in, new_in);
	assert_int_equal(sa->state, IKE_ST_ESTABLISHED);
	feed(t, pkt,
	     gw_delete(t, 3, OLD_OUT, INFORMATIONAL, IKE_FLAG_RESPONSE, pkt));
	assert_int_equal(dpc.del, 1); /* gone already */
	assert_int_equal(sa->state, IKE_ST_ESTABLISHED);
}

/* The hard limit while the soft limit's CREATE_CHILD_SA (#2) is still
 * outstanding: that exchange is abandoned and the D(IKE) goes on #3 (on
 * #2 the gateway would take it for a retransmission of the rekey). */
static void hard_expiry_while_rekeying(void **state)
{
	struct t *t = *state;
	const struct ike_sa *sa = ike_engine_sa(t->e);
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;
	uint32_t old_in;

	log_set_level(NULL, L_ERR);
	t->conf.child_life_packets = 1000;
	establish(t);
	old_in = sa->child.spi_in;
	ike_engine_dp_event(t->e, old_in, DP_EV_SOFT_EXPIRE);
	our_request(t, &m, buf, 2, old_in, 0);
	ike_engine_dp_event(t->e, old_in, DP_EV_HARD_EXPIRE);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 3);
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].protocol, IKE_PROTO_IKE);
	assert_int_equal(sa->state, IKE_ST_DEAD);
	assert_true(timer_armed(&sa->t_establish));
}

/* The gateway wants another group: the exchange was answered, so the
 * request rebuilt with a KE of that group is a new one, on the next
 * Message ID (2.2: the same ID would be a retransmission to it). */
static void our_rekey_invalid_ke(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], ib_buf[256];
	uint8_t grp[2] = {0, IKE_DH_ECP256};
	struct dh *d = dh_new(IKE_DH_ECP256);
	struct ike_builder ib;
	struct ike_msg m;
	struct wbuf w;
	uint32_t old_in;
	unsigned sent;
	size_t n;

	establish(t);
	old_in = ike_engine_sa(t->e)->child.spi_in;
	assert_int_equal(ike_engine_rekey(t->e), 0);
	our_request(t, &m, buf, 2, old_in, IKE_DH_CURVE25519);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	notify(&ib, IKE_N_INVALID_KE_PAYLOAD, grp, 2);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	n = r_seal(t, CREATE_CHILD_SA, IKE_FLAG_RESPONSE, 2, &ib, pkt);
	feed(t, pkt, n);
	our_request(t, &m, buf, 3, old_in, IKE_DH_ECP256);
	assert_int_equal(dpc.add, 1);
	sent = io.n;
	feed(t, pkt, n); /* #2's answer again: not the one we wait for */
	assert_int_equal(io.n, sent);
	/* An unauthenticated (bad ICV) response changes nothing. */
	n = gw_answer_ke(t, &m, d, pkt);
	pkt[n - 1] ^= 1;
	feed(t, pkt, n);
	assert_int_equal(dpc.add, 1);
	assert_int_equal(ike_engine_sa(t->e)->child.spi_in, old_in);
	pkt[n - 1] ^= 1;
	feed(t, pkt, n);
	assert_int_equal(dpc.add, 2);
	r_open(t, &m, buf); /* then D(ESP, old), on #4 */
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.hdr.msgid, 4);
	dh_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(gw_rekey, setup, teardown),
	    cmocka_unit_test_setup_teardown(gw_rekey_no_proposal, setup_cbc,
					    teardown),
	    cmocka_unit_test_setup_teardown(gw_rekey_pfs, setup_pfs, teardown),
	    cmocka_unit_test_setup_teardown(gw_rekey_invalid_ke, setup_pfs,
					    teardown),
	    cmocka_unit_test_setup_teardown(gw_rekey_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(gw_rekey_unanswered, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(our_rekey, setup, teardown),
	    cmocka_unit_test_setup_teardown(replaced_child_expires, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(our_rekey_invalid_ke, setup_pfs,
					    teardown),
	    cmocka_unit_test_setup_teardown(hard_expiry_while_rekeying, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
