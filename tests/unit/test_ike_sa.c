/*
 * test_ike_sa.c - the IKE SA state machine and the initiator engine,
 * driven in-process by a mini responder written with the codec and the
 * crypto (no network): IKE_SA_INIT, IKE_AUTH with PSK, CP, CHILD_SA into
 * a fake data plane; then malformed and unauthenticated input, each of
 * which must leave the SA state alone (RFC 7296 2.21).
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

#define PSK "test-psk-0123456789"

/* --- fake io and data plane ---------------------------------------------- */

static struct {
	uint8_t pkt[16][IKE_MAX_MSG];
	size_t len[16];
	bool marker[16], from_4500[16];
	unsigned n;
} io;

static int fake_send(void *arg, const uint8_t *p, size_t n,
		     const struct sockaddr_storage *to, bool from_4500,
		     bool marker)
{
	unsigned i = io.n++ % 16;

	assert_true(n <= IKE_MAX_MSG);
	memcpy(io.pkt[i], p, n);
	io.len[i] = n;
	io.marker[i] = marker;
	io.from_4500[i] = from_4500;
	return 0;
}

static int fake_local(void *arg, const struct sockaddr_storage *to,
		      struct sockaddr_storage *local)
{
	struct ipaddr a;

	ipaddr_parse(&a, "198.51.100.2");
	ipaddr_to_sockaddr(&a, 0, local);
	return 0;
}

static struct {
	unsigned add, del, vip;
	struct dp_child last;
	struct ipaddr v4;
} dpc;

static int fake_vip(struct dp *dp, const struct ipaddr *v4,
		    const struct ipaddr *v6)
{
	dpc.vip++;
	dpc.v4 = *v4;
	return 0;
}

static int fake_add(struct dp *dp, const struct dp_child *c)
{
	dpc.add++;
	dpc.last = *c;
	return 0;
}

static int fake_del(struct dp *dp, uint32_t spi)
{
	dpc.del++;
	return 0;
}

static int fake_counters(struct dp *dp, uint32_t spi, struct dp_counters *c)
{
	return 0;
}

static const struct dp_ops fake_ops = {
    .name = "fake",
    .set_vip = fake_vip,
    .add_child = fake_add,
    .del_child = fake_del,
    .counters = fake_counters,
};
static struct dp fake_dp = {.ops = &fake_ops};

/* --- configuration --------------------------------------------------------- */

static void make_conf(struct mobiked_conf *c, bool cbc)
{
	memset(c, 0, sizeof(*c));
	c->configured = true;
	ipaddr_parse(&c->gateway[0].addr, "192.0.2.1");
	c->gateway[0].salen =
	    ipaddr_to_sockaddr(&c->gateway[0].addr, 500, &c->gateway[0].sa);
	c->n_gateway = 1;
	c->local_id = (struct id_conf){.type = IKE_ID_FQDN, .len = 6};
	memcpy(c->local_id.data, "mn.lab", 6);
	c->remote_id = (struct id_conf){.type = IKE_ID_FQDN, .len = 6};
	memcpy(c->remote_id.data, "gw.lab", 6);
	memcpy(c->psk, PSK, strlen(PSK));
	c->psk_len = strlen(PSK);
	if (cbc) {
		c->ike[0] = (struct ike_proposal_conf){
		    IKE_ENCR_AES_CBC, 256, IKE_PRF_HMAC_SHA2_256,
		    IKE_INTEG_HMAC_SHA2_256_128, IKE_DH_MODP2048};
		c->esp[0] = (struct esp_proposal_conf){
		    IKE_ENCR_AES_CBC, 256, IKE_INTEG_HMAC_SHA2_256_128, 0,
		    false};
	} else {
		c->ike[0] = (struct ike_proposal_conf){
		    IKE_ENCR_AES_GCM_16, 256, IKE_PRF_HMAC_SHA2_384, 0,
		    IKE_DH_CURVE25519};
		c->esp[0] = (struct esp_proposal_conf){IKE_ENCR_AES_GCM_16,
						       256, 0, 0, false};
	}
	c->n_ike = c->n_esp = 1;
	ipaddr_parse(&c->remote_ts[0].start, "10.0.0.0");
	ipaddr_parse(&c->remote_ts[0].end, "10.255.255.255");
	c->remote_ts[0].port_hi = 0xffff;
	c->n_remote_ts = 1;
	c->local_ts_dynamic = true;
	ipaddr_parse(&c->vip[0], "0.0.0.0");
	c->n_vip = 1;
	c->retransmit = (struct retransmit_conf){1000, 2.0, 2};
	c->keepalive_s = 20;
	c->autostart = CONF_AUTO_START;
}

/* --- the mini responder ---------------------------------------------------- */

struct resp {
	uint64_t spi_i, spi_r;
	struct dh *dh;
	uint8_t ni[256], nr[32];
	size_t ni_len;
	struct ike_suite suite;
	struct ike_keys k;
	struct sk_ctx *in, *out;
	uint8_t init_resp[2048];
	size_t init_resp_len;
	uint32_t peer_esp_spi;
};

struct t {
	struct eloop *loop;
	struct mobiked_conf conf;
	struct ike_engine *e;
	struct resp r;
};

static void feed(struct t *t, const uint8_t *p, size_t n)
{
	ike_engine_input(t->e, p, n, NULL, NULL, true);
}

static const uint8_t *last_sent(size_t *n)
{
	unsigned i = (io.n - 1) % 16;

	*n = io.len[i];
	return io.pkt[i];
}

static uint8_t pkt2[IKE_MAX_MSG];

static size_t copy_sent(uint8_t *buf)
{
	size_t n;
	const uint8_t *p = last_sent(&n);

	memcpy(buf, p, n);
	return n;
}

static void hdr(struct ike_hdr *h, const struct resp *r, uint8_t x,
		uint8_t flags, uint32_t id)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = r->spi_i;
	h->spi_r = r->spi_r;
	h->version = IKE_VERSION;
	h->exchange = x;
	h->flags = flags;
	h->msgid = id;
}

static void notify(struct ike_builder *b, uint16_t type, const void *d,
		   size_t n)
{
	struct ike_notify_pl pl = {.type = type, .data = {d, n}};

	ike_build_notify(b, &pl);
}

/* Builds IKE_SA_INIT's response from the engine's request; cut: drop the
 * KE payload (missing mandatory payload). */
static size_t init_response(struct t *t, uint8_t *out, bool cut)
{
	struct resp *r = &t->r;
	size_t n, klen;
	const uint8_t *req = last_sent(&n);
	struct ike_msg m;
	struct ike_builder b;
	struct wbuf w;
	struct ike_hdr h;
	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct ike_chunk nonce = {r->nr, sizeof(r->nr)};
	uint8_t natd[20];
	struct ike_sa tmp;

	assert_int_equal(ike_parse(&m, req, n), IKE_OK);
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
	assert_int_equal(m.hdr.exchange, IKE_SA_INIT);
	assert_non_null(ike_find_notify(&m, IKE_N_SIGNATURE_HASH_ALGORITHMS));
	assert_non_null(
	    ike_find_notify(&m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	r->spi_i = m.hdr.spi_i;
	r->spi_r = 0x1122334455667788ull;
	memcpy(r->ni, m.nonce.p, m.nonce.len);
	r->ni_len = m.nonce.len;
	memset(r->nr, 0x5a, sizeof(r->nr));
	r->dh = dh_new(m.ke.group);
	assert_non_null(r->dh);
	sa = m.sa;
	sa.nprop = 1;
	ke.group = m.ke.group;
	ke.data.p = dh_public(r->dh, &klen);
	ke.data.len = klen;
	wb_init(&w, out, 2048);
	hdr(&h, r, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0);
	ike_build_begin(&b, &w, &h);
	ike_build_sa(&b, &sa);
	if (!cut)
		ike_build_ke(&b, &ke);
	ike_build_nonce(&b, &nonce);
	memset(&tmp, 0, sizeof(tmp));
	tmp.spi_i = r->spi_i;
	tmp.spi_r = r->spi_r;
	natd_hash(&tmp, &t->conf.gateway[0].sa, natd);
	notify(&b, IKE_N_NAT_DETECTION_SOURCE_IP, natd, 20);
	notify(&b, IKE_N_NAT_DETECTION_DESTINATION_IP, natd, 20); /* NAT */
	assert_int_equal(ike_build_end(&b), IKE_OK);
	if (!cut) {
		memcpy(r->init_resp, out, w.len);
		r->init_resp_len = w.len;
	}
	return w.len;
}

static void responder_keys(struct t *t, const struct ike_msg *req)
{
	struct resp *r = &t->r;
	const struct ike_sa_pl *sa = &req->sa;
	uint8_t gir[512], seed[64];
	uint64_t si = htobe64(r->spi_i), sr = htobe64(r->spi_r);
	const struct ike_proposal_conf *p = &t->conf.ike[0];

	(void)sa;
	r->suite.prf = prf_alg_find(p->prf);
	r->suite.encr = encr_alg_find(p->encr, p->encr_bits);
	r->suite.integ = r->suite.encr->aead ? NULL : integ_alg_find(p->integ);
	assert_int_equal(dh_shared(r->dh, req->ke.data.p, req->ke.data.len,
				   gir, sizeof(gir)),
			 0);
	assert_int_equal(ike_skeyseed(r->suite.prf, r->ni, r->ni_len, r->nr,
				      sizeof(r->nr), gir,
				      dh_shared_len(p->dh), seed),
			 0);
	assert_int_equal(ike_keys_derive(&r->suite, seed, r->suite.prf->out_len,
					 r->ni, r->ni_len, r->nr,
					 sizeof(r->nr), (uint8_t *)&si,
					 (uint8_t *)&sr, &r->k),
			 0);
	r->in = sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_ei,
			   r->k.e_len, r->k.sk_ai, r->k.a_len, SK_IN);
	r->out = sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_er,
			    r->k.e_len, r->k.sk_ar, r->k.a_len, SK_OUT);
	assert_non_null(r->in);
	assert_non_null(r->out);
}

/* Decrypts a protected message the engine sent (copy kept in buf). */
static void r_open(struct t *t, struct ike_msg *m, uint8_t *buf)
{
	size_t n, ilen;
	const uint8_t *p = last_sent(&n), *inner;

	memcpy(buf, p, n);
	assert_int_equal(ike_parse(m, buf, n), IKE_OK);
	assert_true(m->has_sk);
	assert_int_equal(sk_ike_open(t->r.in, buf, n,
				     (size_t)(m->sk.body.p - buf), &inner,
				     &ilen),
			 0);
	assert_int_equal(ike_parse_inner(m, m->sk.first, inner, ilen), IKE_OK);
}

/* HDR, SK{inner} from the responder. */
static size_t r_seal(struct t *t, uint8_t x, uint8_t flags, uint32_t id,
		     struct ike_builder *ib, uint8_t *out)
{
	struct sk_ctx *c = t->r.out;
	size_t iv = sk_iv_len(c), icv = sk_icv_len(c), total = 0;
	size_t sealed = sk_ike_sealed_len(c, ib->w->len);
	struct ike_sk_layout lay;
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;

	hdr(&h, &t->r, x, flags, id);
	wb_init(&w, out, IKE_MAX_MSG);
	ike_build_begin(&b, &w, &h);
	ike_build_sk(&b, ib->first, iv, sealed - iv - icv, icv, &lay);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	memcpy(out + lay.ct_off, ib->w->data, ib->w->len);
	assert_int_equal(
	    sk_ike_seal(c, out, IKE_MAX_MSG, lay.iv_off, ib->w->len, &total),
	    0);
	return total;
}

static void id_body(const char *id, uint8_t *out, size_t *n)
{
	out[0] = IKE_ID_FQDN;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id, strlen(id));
	*n = 4 + strlen(id);
}

/* IKE_AUTH response; bad_auth: AUTH from the wrong PSK. */
static size_t auth_response(struct t *t, uint8_t *out, bool bad_auth)
{
	struct resp *r = &t->r;
	uint8_t buf[IKE_MAX_MSG], ib_buf[IKE_MAX_MSG], body[64], mac[64];
	uint8_t vip[4] = {10, 99, 0, 1};
	struct ike_msg m;
	struct ike_builder ib;
	struct wbuf w;
	size_t blen;
	struct ike_id idr = {.type = IKE_ID_FQDN, .data = {(uint8_t *)"gw.lab", 6}};
	struct ike_auth auth = {.method = IKE_AUTH_PSK};
	struct ike_cp cp = {.type = IKE_CFG_REPLY, .nattr = 1};
	struct ike_sa_pl sa;
	struct ike_ts_set tsi = {0}, tsr = {0};
	const char *psk = bad_auth ? "wrong" : PSK;

	r_open(t, &m, buf);
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
	assert_true(m.has_cp);
	assert_null(ike_find_notify(&m, IKE_N_USE_TRANSPORT_MODE));
	memcpy(&r->peer_esp_spi, m.sa.prop[0].spi, 4);
	id_body("gw.lab", body, &blen);
	assert_int_equal(psk_auth(r->suite.prf, (const uint8_t *)psk,
				  strlen(psk), r->init_resp, r->init_resp_len,
				  r->ni, r->ni_len, r->k.sk_pr, r->k.p_len,
				  body, blen, mac),
			 0);
	auth.data.p = mac;
	auth.data.len = r->suite.prf->out_len;
	cp.attr[0].type = IKE_CA_INTERNAL_IP4_ADDRESS;
	cp.attr[0].value.p = vip;
	cp.attr[0].value.len = 4;
	sa = m.sa;
	sa.nprop = 1;
	memcpy(sa.prop[0].spi, "\xc0\x01\x02\x03", 4);
	tsi.n = tsr.n = 1;
	tsi.ts[0] = m.tsi.ts[0];
	ipaddr_parse(&tsi.ts[0].start, "10.99.0.1"); /* narrowed */
	ipaddr_parse(&tsi.ts[0].end, "10.99.0.1");
	tsr.ts[0] = m.tsr.ts[0];
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	ike_build_id(&ib, IKE_PL_IDR, &idr);
	ike_build_auth(&ib, &auth);
	ike_build_cp(&ib, &cp);
	ike_build_sa(&ib, &sa);
	ike_build_ts(&ib, IKE_PL_TSI, &tsi);
	ike_build_ts(&ib, IKE_PL_TSR, &tsr);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, IKE_AUTH, IKE_FLAG_RESPONSE, 1, &ib, out);
}

static void establish(struct t *t)
{
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_INIT_SENT);
	n = copy_sent(buf);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	n = init_response(t, pkt, false);
	responder_keys(t, &m);
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_AUTH_SENT);
	/* 2.23: NAT detected -> IKE_AUTH from port 4500 with the marker. */
	assert_true(io.from_4500[(io.n - 1) % 16]);
	assert_true(io.marker[(io.n - 1) % 16]);
	n = auth_response(t, pkt, false);
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

static int setup_common(void **state, bool cbc)
{
	struct t *t = calloc(1, sizeof(*t));
	struct ike_io fio = {fake_send, fake_local, NULL};

	log_set_level(NULL, L_WARN);
	memset(&io, 0, sizeof(io));
	memset(&dpc, 0, sizeof(dpc));
	t->loop = eloop_new();
	make_conf(&t->conf, cbc);
	t->e = ike_engine_new(t->loop, &t->conf, &fio, &fake_dp, false);
	*state = t;
	return 0;
}

static int setup(void **state)
{
	return setup_common(state, false);
}

static int setup_cbc(void **state)
{
	return setup_common(state, true);
}

static int teardown(void **state)
{
	struct t *t = *state;

	ike_engine_free(t->e);
	dh_free(t->r.dh);
	sk_ctx_free(t->r.in);
	sk_ctx_free(t->r.out);
	eloop_free(t->loop);
	free(t);
	return 0;
}


/* --- state machine ------------------------------------------------------- */

static void transitions(void **state)
{
	struct ike_sa sa;

	memset(&sa, 0, sizeof(sa));
	assert_true(ike_sa_can_transition(IKE_ST_IDLE, IKE_ST_INIT_SENT));
	assert_true(ike_sa_can_transition(IKE_ST_AUTH_SENT, IKE_ST_ESTABLISHED));
	assert_true(ike_sa_can_transition(IKE_ST_ESTABLISHED, IKE_ST_DEAD));
	assert_false(ike_sa_can_transition(IKE_ST_IDLE, IKE_ST_ESTABLISHED));
	assert_false(ike_sa_can_transition(IKE_ST_INIT_SENT, IKE_ST_ESTABLISHED));
	assert_false(ike_sa_can_transition(IKE_ST_DEAD, IKE_ST_ESTABLISHED));
	assert_false(ike_sa_can_transition(IKE_ST_DELETING, IKE_ST_ESTABLISHED));
	assert_false(ike_sa_can_transition(IKE_ST_IDLE, (enum ike_state)99));
	log_set_level(NULL, L_ERR);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_ESTABLISHED), -1);
	assert_int_equal(sa.state, IKE_ST_IDLE);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_INIT_SENT), 0);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_AUTH_SENT), 0);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_ESTABLISHED), 0);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_DELETING), 0);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_INIT_SENT), -1);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_DEAD), 0);
	assert_int_equal(ike_sa_set_state(&sa, IKE_ST_IDLE), 0);
	assert_string_equal(ike_state_name(IKE_ST_ESTABLISHED), "ESTABLISHED");
}

/* --- a full exchange ----------------------------------------------------- */

static void established(void **state)
{
	struct t *t = *state;
	char a[IPADDR_STRLEN];
	struct jw w;

	establish(t);
	assert_int_equal(dpc.add, 1);
	assert_int_equal(dpc.vip, 1);
	assert_string_equal(ipaddr_str(&dpc.v4, a), "10.99.0.1");
	assert_int_equal(dpc.last.spi_out, 0xc0010203);
	assert_int_equal(htobe32(dpc.last.spi_in), t->r.peer_esp_spi);
	assert_int_equal(dpc.last.n_local_ts, 1);
	assert_string_equal(ipaddr_str(&dpc.last.local_ts[0].start, a),
			    "10.99.0.1");
	assert_int_equal(dpc.last.n_remote_ts, 1);
	assert_non_null(dpc.last.out.encr);
	jw_init(&w);
	jw_obj_begin(&w, NULL);
	ike_engine_status(t->e, &w);
	jw_obj_end(&w);
	assert_non_null(strstr(jw_text(&w), "\"ike_sa\":\"ESTABLISHED\""));
	assert_non_null(strstr(jw_text(&w), "10.99.0.1"));
	jw_free(&w);
}

/* --- requests from the responder --------------------------------------- */

typedef void (*fill_fn)(struct ike_builder *b);

static size_t r_request(struct t *t, uint32_t id, fill_fn fill, uint8_t *out)
{
	uint8_t ib_buf[IKE_MAX_MSG];
	struct ike_builder ib;
	struct wbuf w;

	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	if (fill)
		fill(&ib);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	return r_seal(t, INFORMATIONAL, 0, id, &ib, out);
}

static void fill_delete_ike(struct ike_builder *b)
{
	struct ike_delete d = {.protocol = IKE_PROTO_IKE};

	ike_build_delete(b, &d);
}

static void fill_delete_child(struct ike_builder *b)
{
	static const uint8_t spi[4] = {0xc0, 0x01, 0x02, 0x03};
	struct ike_delete d = {.protocol = IKE_PROTO_ESP,
			       .spi_size = 4,
			       .nspi = 1,
			       .spis = {spi, 4}};

	ike_build_delete(b, &d);
}

static void fill_critical(struct ike_builder *b)
{
	static const uint8_t junk[4] = {1, 2, 3, 4};

	ike_build_raw(b, 200, true, junk, sizeof(junk));
}

static void fill_ke(struct ike_builder *b)
{
	static const uint8_t v[32] = {9};
	struct ike_ke ke = {.group = IKE_DH_CURVE25519, .data = {v, 32}};

	ike_build_ke(b, &ke);
}

#define ASSERT_UNCHANGED(t, st, sent)                                          \
	do {                                                                   \
		assert_int_equal(ike_engine_sa((t)->e)->state, (st));          \
		assert_int_equal(io.n, (sent));                                \
	} while (0)

static void truncated_and_bad_lengths(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	unsigned sent;
	size_t n;

	establish(t);
	sent = io.n;
	n = r_request(t, 0, fill_delete_ike, pkt);
	feed(t, pkt, 10); /* truncated header */
	feed(t, pkt, n - 1); /* header length overruns the datagram */
	pkt[27] += 4;	     /* ...and underruns it */
	feed(t, pkt, n);
	pkt[27] -= 4;
	pkt[IKE_HDR_LEN + 2] = 0xff; /* SK payload length overruns */
	feed(t, pkt, n);
	ASSERT_UNCHANGED(t, IKE_ST_ESTABLISHED, sent);
	assert_int_equal(dpc.del, 0);
}

/* 2.21.2: a plaintext INFORMATIONAL after the SA exists is ignored. */
static void unauthenticated_informational(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	struct ike_builder b;
	struct ike_hdr h;
	struct wbuf w;
	unsigned sent;

	establish(t);
	sent = io.n;
	hdr(&h, &t->r, INFORMATIONAL, 0, 0);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	notify(&b, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
	fill_delete_ike(&b);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	feed(t, pkt, w.len);
	/* The same as an unprotected "response" to nothing. */
	hdr(&h, &t->r, INFORMATIONAL, IKE_FLAG_RESPONSE, 1);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	notify(&b, IKE_N_AUTHENTICATION_FAILED, NULL, 0);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	feed(t, pkt, w.len);
	ASSERT_UNCHANGED(t, IKE_ST_ESTABLISHED, sent);
}

static void bad_icv(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	unsigned sent;
	size_t n;

	establish(t);
	sent = io.n;
	n = r_request(t, 0, fill_delete_ike, pkt);
	pkt[n - 1] ^= 1;
	feed(t, pkt, n);
	ASSERT_UNCHANGED(t, IKE_ST_ESTABLISHED, sent);
	assert_int_equal(dpc.del, 0);
	pkt[n - 1] ^= 1; /* intact: the gateway's DELETE works */
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_DEAD);
	assert_int_equal(io.n, sent + 1);
	assert_int_equal(dpc.del, 1);
}

static void wrong_message_id(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	unsigned sent;
	size_t n;

	establish(t);
	sent = io.n;
	n = r_request(t, 7, fill_delete_ike, pkt);
	feed(t, pkt, n);
	ASSERT_UNCHANGED(t, IKE_ST_ESTABLISHED, sent);
}

/* 2.1: a retransmitted request gets the identical response again. */
static void retransmitted_request(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], first[IKE_MAX_MSG];
	size_t n, n1, n2;
	const uint8_t *p;

	establish(t);
	n = r_request(t, 0, NULL, pkt); /* DPD from the gateway */
	feed(t, pkt, n);
	p = last_sent(&n1);
	memcpy(first, p, n1);
	feed(t, pkt, n);
	p = last_sent(&n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(first, p, n1);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
	assert_int_equal(ike_engine_sa(t->e)->peer_req_id, 1);
}

/* 2.5: an unknown critical payload in a request: the response says
 * UNSUPPORTED_CRITICAL_PAYLOAD with the type; nothing else happens. */
static void unknown_critical(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	const struct ike_notify_pl *n;
	struct ike_msg m;
	unsigned sent;
	size_t len;

	establish(t);
	sent = io.n;
	len = r_request(t, 0, fill_critical, pkt);
	feed(t, pkt, len);
	assert_int_equal(io.n, sent + 1);
	r_open(t, &m, buf);
	assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
	n = ike_find_notify(&m, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
	assert_non_null(n);
	assert_int_equal(n->data.len, 1);
	assert_int_equal(n->data.p[0], 200);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

static void payload_in_wrong_exchange(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t len;

	establish(t);
	len = r_request(t, 0, fill_ke, pkt); /* KE in INFORMATIONAL */
	feed(t, pkt, len);
	r_open(t, &m, buf);
	assert_non_null(ike_find_notify(&m, IKE_N_INVALID_SYNTAX));
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
	assert_int_equal(dpc.del, 0);
}

static void missing_mandatory(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG];
	unsigned sent;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	sent = io.n;
	n = init_response(t, pkt, true); /* no KE */
	feed(t, pkt, n);
	ASSERT_UNCHANGED(t, IKE_ST_INIT_SENT, sent);
	assert_true(timer_armed(&ike_engine_sa(t->e)->t_retransmit));
}

static void bad_icv_in_auth_response(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	unsigned sent;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	n = copy_sent(buf);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	n = init_response(t, pkt, false);
	responder_keys(t, &m);
	feed(t, pkt, n);
	sent = io.n;
	n = auth_response(t, pkt, false);
	pkt[n - 5] ^= 0x80;
	feed(t, pkt, n);
	ASSERT_UNCHANGED(t, IKE_ST_AUTH_SENT, sent);
	assert_int_equal(dpc.add, 0);
	pkt[n - 5] ^= 0x80;
	feed(t, pkt, n);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_ESTABLISHED);
}

/* A wrong PSK: the SA dies and a retry is scheduled, not run at once. */
static void wrong_psk(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	unsigned sent;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	n = copy_sent(buf);
	assert_int_equal(ike_parse(&m, buf, n), IKE_OK);
	n = init_response(t, pkt, false);
	responder_keys(t, &m);
	feed(t, pkt, n);
	n = auth_response(t, pkt, true);
	log_set_level(NULL, L_ERR);
	feed(t, pkt, n);
	sent = io.n;
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_DEAD);
	assert_int_equal(dpc.add, 0);
	assert_true(timer_armed(&ike_engine_sa(t->e)->t_establish));
	assert_true(timer_remaining_ns(&ike_engine_sa(t->e)->t_establish) >
		    500000000ull);
	assert_int_equal(io.n, sent);
}

static void peer_deletes_child(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG];
	struct ike_msg m;
	size_t len;
	uint32_t be;

	establish(t);
	len = r_request(t, 0, fill_delete_child, pkt);
	feed(t, pkt, len);
	assert_int_equal(dpc.del, 1);
	r_open(t, &m, buf);
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].protocol, IKE_PROTO_ESP);
	memcpy(&be, m.del[0].spis.p, 4);
	assert_int_equal(be, t->r.peer_esp_spi);
}

static void down_sends_delete(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], buf[IKE_MAX_MSG], ib_buf[64];
	struct ike_builder ib;
	struct ike_msg m;
	struct wbuf w;
	size_t n;

	establish(t);
	assert_int_equal(ike_engine_down(t->e), 0);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_DELETING);
	assert_int_equal(dpc.del, 1);
	r_open(t, &m, buf);
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].protocol, IKE_PROTO_IKE);
	wb_init(&w, ib_buf, sizeof(ib_buf));
	ike_build_inner_begin(&ib, &w);
	assert_int_equal(ike_build_end(&ib), IKE_OK);
	n = r_seal(t, INFORMATIONAL, IKE_FLAG_RESPONSE, m.hdr.msgid, &ib, pkt);
	feed(t, pkt, n);
	assert_true(ike_engine_idle(t->e));
	assert_false(timer_armed(&ike_engine_sa(t->e)->t_establish));
}

/* 2.6: a COOKIE makes us resend IKE_SA_INIT with N(COOKIE) first. */
static void cookie_retry(void **state)
{
	struct t *t = *state;
	static const uint8_t cookie[16] = {7, 7, 7};
	uint8_t pkt[IKE_MAX_MSG];
	struct ike_builder b;
	struct ike_msg m;
	struct ike_hdr h;
	struct wbuf w;
	const uint8_t *p;
	size_t n;

	assert_int_equal(ike_engine_up(t->e), 0);
	assert_int_equal(ike_parse(&m, pkt2, copy_sent(pkt2)), IKE_OK);
	t->r.spi_i = m.hdr.spi_i;
	t->r.spi_r = 0;
	hdr(&h, &t->r, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	notify(&b, IKE_N_COOKIE, cookie, sizeof(cookie));
	assert_int_equal(ike_build_end(&b), IKE_OK);
	feed(t, pkt, w.len);
	p = last_sent(&n);
	assert_int_equal(ike_parse(&m, p, n), IKE_OK);
	assert_int_equal(m.outer.type[0], IKE_PL_NOTIFY);
	assert_int_equal(m.notify[0].type, IKE_N_COOKIE);
	assert_memory_equal(m.notify[0].data.p, cookie, sizeof(cookie));
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_INIT_SENT);
}

/* 1.2: INVALID_KE_PAYLOAD names a group we offer: retry with it. */
static void invalid_ke_retry(void **state)
{
	struct t *t = *state;
	uint8_t pkt[IKE_MAX_MSG], g[2] = {0, IKE_DH_ECP256};
	struct ike_builder b;
	struct ike_msg m;
	struct ike_hdr h;
	struct wbuf w;

	t->conf.ike[1] = t->conf.ike[0];
	t->conf.ike[1].dh = IKE_DH_ECP256;
	t->conf.n_ike = 2;
	assert_int_equal(ike_engine_up(t->e), 0);
	assert_int_equal(ike_parse(&m, pkt2, copy_sent(pkt2)), IKE_OK);
	assert_int_equal(m.ke.group, IKE_DH_CURVE25519);
	assert_int_equal(m.sa.nprop, 2);
	t->r.spi_i = m.hdr.spi_i;
	hdr(&h, &t->r, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0);
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	notify(&b, IKE_N_INVALID_KE_PAYLOAD, g, 2);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	feed(t, pkt, w.len);
	assert_int_equal(ike_parse(&m, pkt2, copy_sent(pkt2)), IKE_OK);
	assert_int_equal(m.ke.group, IKE_DH_ECP256);
	/* NO_PROPOSAL_CHOSEN: a clear failure, then a scheduled retry. */
	wb_init(&w, pkt, sizeof(pkt));
	ike_build_begin(&b, &w, &h);
	notify(&b, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	log_set_level(NULL, L_ERR);
	feed(t, pkt, w.len);
	assert_int_equal(ike_engine_sa(t->e)->state, IKE_ST_DEAD);
	assert_non_null(strstr(t->e->last_error, "NO_PROPOSAL_CHOSEN"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(transitions),
	    cmocka_unit_test_setup_teardown(established, setup, teardown),
	    cmocka_unit_test_setup_teardown(established, setup_cbc, teardown),
	    cmocka_unit_test_setup_teardown(truncated_and_bad_lengths, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(unauthenticated_informational,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_icv, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_icv, setup_cbc, teardown),
	    cmocka_unit_test_setup_teardown(wrong_message_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(retransmitted_request, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(unknown_critical, setup, teardown),
	    cmocka_unit_test_setup_teardown(payload_in_wrong_exchange, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(missing_mandatory, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_icv_in_auth_response, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(wrong_psk, setup, teardown),
	    cmocka_unit_test_setup_teardown(peer_deletes_child, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(down_sends_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(cookie_retry, setup, teardown),
	    cmocka_unit_test_setup_teardown(invalid_ke_retry, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
