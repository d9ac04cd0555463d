/*
 * ike_peer.h - shared by the IKE engine tests: a fake io and data plane,
 * a configuration, and the mini responder (the gateway) written with the
 * codec and the crypto, which brings an engine to ESTABLISHED.  Included
 * by one test file each (static functions; not all used everywhere).
 */
#ifndef TESTS_UNIT_IKE_PEER_H
#define TESTS_UNIT_IKE_PEER_H

#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"

#define PSK "test-psk-0123456789"

/* --- fake io and data plane ---------------------------------------------- */

/* The responder announces RFC 7383 support in IKE_SA_INIT. */
static bool peer_frag;

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
	struct ipaddr v4, v6;
	uint64_t out_packets; /* what fake_counters reports as sent */
	uint32_t del_spi[16]; /* spi_in of each del_child, in order */
	uint8_t in_key[64], out_key[64]; /* last.in/out.encr point here */
} dpc;

static int fake_vip(struct dp *dp, const struct ipaddr *v4,
		    const struct ipaddr *v6)
{
	dpc.vip++;
	dpc.v4 = *v4;
	dpc.v6 = *v6;
	return 0;
}

static int fake_add(struct dp *dp, const struct dp_child *c)
{
	dpc.add++;
	dpc.last = *c;
	memcpy(dpc.in_key, c->in.encr, c->in.encr_len);
	memcpy(dpc.out_key, c->out.encr, c->out.encr_len);
	dpc.last.in.encr = dpc.in_key;
	dpc.last.out.encr = dpc.out_key;
	return 0;
}

static int fake_del(struct dp *dp, uint32_t spi)
{
	dpc.del_spi[dpc.del % 16] = spi;
	dpc.del++;
	return 0;
}

static int fake_counters(struct dp *dp, uint32_t spi, struct dp_counters *c)
{
	c->out_packets = dpc.out_packets;
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

/* --- configuration ---------------------------------------------------------
 */

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
		c->ike[0] = (struct ike_proposal_conf){IKE_ENCR_AES_GCM_16, 256,
						       IKE_PRF_HMAC_SHA2_384, 0,
						       IKE_DH_CURVE25519};
		c->esp[0] = (struct esp_proposal_conf){IKE_ENCR_AES_GCM_16, 256,
						       0, 0, false};
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

/* --- the mini responder ----------------------------------------------------
 */

/* What the mini responder does differently (zeroed by setup). */
enum init_variant {
	INIT_OK,
	INIT_BAD_KE,   /* a KE value failing the RFC 6989 / 7748 check */
	INIT_BAD_PROP, /* a proposal we never offered */
};

static struct {
	bool no_nat;		/* NAT-D hashes that match: no NAT */
	enum init_variant init; /* for the next init_response() */
	bool wide_tsr;		/* TSr wider than we offered */
	bool wide_tsi;		/* TSi 10.99.0.1-10.99.1.0 */
	bool cp6_dns;		/* CFG_REPLY with IPv6 address and DNS */
} popt;

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

static const uint8_t zero_ke[512];

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
	dh_free(r->dh);
	r->dh = dh_new(m.ke.group);
	assert_non_null(r->dh);
	sa = m.sa;
	sa.nprop = 1;
	ke.group = m.ke.group;
	ke.data.p = dh_public(r->dh, &klen);
	ke.data.len = klen;
	if (popt.init == INIT_BAD_KE) /* x25519: a low-order point */
		ke.data.p = zero_ke;
	if (popt.init == INIT_BAD_PROP)
		sa.prop[0].trans[0].key_len = 128; /* we offer 256 only */
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
	if (popt.no_nat)
		natd_hash(&tmp, &ike_engine_sa(t->e)->local, natd);
	notify(&b, IKE_N_NAT_DETECTION_DESTINATION_IP, natd, 20); /* NAT */
	if (peer_frag) /* RFC 7383 2.3 */
		notify(&b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	assert_int_equal(ike_build_end(&b), IKE_OK);
	if (!cut && popt.init == INIT_OK) {
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
	assert_int_equal(dh_shared(r->dh, req->ke.data.p, req->ke.data.len, gir,
				   sizeof(gir)),
			 0);
	assert_int_equal(ike_skeyseed(r->suite.prf, r->ni, r->ni_len, r->nr,
				      sizeof(r->nr), gir, dh_shared_len(p->dh),
				      seed),
			 0);
	assert_int_equal(ike_keys_derive(&r->suite, seed, r->suite.prf->out_len,
					 r->ni, r->ni_len, r->nr, sizeof(r->nr),
					 (uint8_t *)&si, (uint8_t *)&sr, &r->k),
			 0);
	r->in = sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_ei,
			   r->k.e_len, r->k.sk_ai, r->k.a_len, SK_IN);
	r->out = sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_er,
			    r->k.e_len, r->k.sk_ar, r->k.a_len, SK_OUT);
	assert_non_null(r->in);
	assert_non_null(r->out);
}

/* Decrypts a protected message the engine sent (copy kept in buf). */
/* The engine's last message as RFC 7383 fragments: the last `total`
 * datagrams sent, reassembled with the responder's keys. */
static void r_open_frags(struct t *t, struct ike_msg *m, uint8_t *buf)
{
	static struct ike_defrag d;
	unsigned total = m->sk.total, first = io.n - total;
	size_t n;
	int rc = IKE_DEFRAG_MORE;

	assert_true(total >= 1 && total <= 16 && io.n >= total);
	ike_defrag_reset(&d);
	for (unsigned k = 0; k < total; k++) {
		n = io.len[(first + k) % 16];
		memcpy(buf, io.pkt[(first + k) % 16], n);
		assert_int_equal(ike_parse(m, buf, n), IKE_OK);
		assert_true(m->has_skf);
		rc = ike_defrag_add(&d, t->r.in, m, buf, n, 0);
		assert_int_equal(rc, k + 1 == total ? IKE_DEFRAG_DONE
						    : IKE_DEFRAG_MORE);
	}
	assert_int_equal(ike_parse_inner(m, d.first, d.msg, d.msg_len), IKE_OK);
}

static void r_open(struct t *t, struct ike_msg *m, uint8_t *buf)
{
	size_t n, ilen;
	const uint8_t *p = last_sent(&n), *inner;

	memcpy(buf, p, n);
	assert_int_equal(ike_parse(m, buf, n), IKE_OK);
	if (m->has_skf)
		return r_open_frags(t, m, buf);
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

/* The gateway's own SK message (pkt, n) on the first IKE SA (SK_er)
 * opened as the engine would see it, into m (decrypted in buf): for
 * driving task steps directly. */
static void gw_open(struct t *t, struct ike_msg *m, const uint8_t *pkt,
		    size_t n, uint8_t *buf)
{
	struct resp *r = &t->r;
	struct sk_ctx *in =
	    sk_ctx_new(r->suite.encr, r->suite.integ, r->k.sk_er, r->k.e_len,
		       r->k.sk_ar, r->k.a_len, SK_IN);
	const uint8_t *pt;
	size_t ptlen;

	assert_non_null(in);
	memcpy(buf, pkt, n);
	assert_int_equal(ike_parse(m, buf, n), IKE_OK);
	assert_int_equal(
	    sk_ike_open(in, buf, n, (size_t)(m->sk.body.p - buf), &pt, &ptlen),
	    0);
	assert_int_equal(ike_parse_inner(m, m->sk.first, pt, ptlen), IKE_OK);
	sk_ctx_free(in);
}

static void id_body(const char *id, uint8_t *out, size_t *n)
{
	out[0] = IKE_ID_FQDN;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, id, strlen(id));
	*n = 4 + strlen(id);
}

/* INTERNAL_IP6_ADDRESS fd00:99::1/64, INTERNAL_IP4_DNS 10.99.3.53 and
 * INTERNAL_IP6_DNS fd99:3::53 (RFC 7296 3.15.1 lengths). */
static void cp_v6_dns(struct ike_cp *cp)
{
	static uint8_t v6[17], dns4[4] = {10, 99, 3, 53}, dns6[16];
	struct ipaddr a;

	ipaddr_parse(&a, "fd00:99::1");
	memcpy(v6, a.b, 16);
	v6[16] = 64;
	ipaddr_parse(&a, "fd99:3::53");
	memcpy(dns6, a.b, 16);
	cp->attr[cp->nattr++] =
	    (struct ike_cp_attr){IKE_CA_INTERNAL_IP6_ADDRESS, {v6, sizeof(v6)}};
	cp->attr[cp->nattr++] =
	    (struct ike_cp_attr){IKE_CA_INTERNAL_IP4_DNS, {dns4, 4}};
	cp->attr[cp->nattr++] =
	    (struct ike_cp_attr){IKE_CA_INTERNAL_IP6_DNS, {dns6, 16}};
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
	struct ike_id idr = {.type = IKE_ID_FQDN,
			     .data = {(uint8_t *)"gw.lab", 6}};
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
	if (popt.cp6_dns)
		cp_v6_dns(&cp);
	sa = m.sa;
	sa.nprop = 1;
	memcpy(sa.prop[0].spi, "\xc0\x01\x02\x03", 4);
	tsi.n = tsr.n = 1;
	tsi.ts[0] = m.tsi.ts[0];
	ipaddr_parse(&tsi.ts[0].start, "10.99.0.1"); /* narrowed */
	ipaddr_parse(&tsi.ts[0].end, "10.99.0.1");
	tsr.ts[0] = m.tsr.ts[0];
	if (popt.wide_tsr) /* we offered 10.0.0.0/8 */
		ipaddr_parse(&tsr.ts[0].start, "0.0.0.0");
	if (popt.wide_tsi) /* wider than a local_ts of 10.99.0.0/24 */
		ipaddr_parse(&tsi.ts[0].end, "10.99.1.0");
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
	assert_int_equal(io.from_4500[(io.n - 1) % 16], !popt.no_nat);
	assert_int_equal(io.marker[(io.n - 1) % 16], !popt.no_nat);
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
	memset(&popt, 0, sizeof(popt));
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

/* Runs an armed timer's callback now, as the loop would when it is due
 * (the loop disarms a timer before calling it). */
static void fire(struct t *t, const struct timer *ctm)
{
	struct timer *tm = (struct timer *)ctm;

	assert_true(timer_armed(tm));
	timer_cancel(t->loop, tm);
	tm->cb(tm->owner);
}

static uint64_t remaining_ms(const struct timer *tm)
{
	return (timer_remaining_ns(tm) + 999999) / 1000000;
}

/* The engine's status as JSON contains s. */
static void status_contains(struct t *t, const char *s)
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

#endif
