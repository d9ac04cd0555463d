/*
 * test_ike_msg.c - the IKEv2 codec: build -> parse -> same facts -> build
 * -> same bytes for every payload; malformed input rejected with the right
 * code; the per-exchange placement table; a hand-assembled IKE_SA_INIT.
 *
 * IKE_WRITE_CORPUS=DIR writes the messages built here to DIR as fuzz seeds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four headers it needs */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobiked/ike.h"
#include "mobiked/ike_msg.h"

#define SPI_I 0x0102030405060708ull
#define SPI_R 0x1112131415161718ull

static uint8_t blob[512]; /* filler for keys, nonces, hashes */

/* A message under construction. */
struct tmsg {
	uint8_t buf[4096];
	struct wbuf w;
	struct ike_builder b;
};

static void save(const char *name, const uint8_t *p, size_t len)
{
	const char *dir = getenv("IKE_WRITE_CORPUS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
}

static void tbegin(struct tmsg *t, uint8_t exchange, bool response)
{
	struct ike_hdr h = {
	    .spi_i = SPI_I,
	    .spi_r = exchange == IKE_SA_INIT && !response ? 0 : SPI_R,
	    .version = IKE_VERSION,
	    .exchange = exchange,
	    .flags = response ? IKE_FLAG_RESPONSE : IKE_FLAG_INITIATOR,
	    .msgid = exchange == IKE_SA_INIT ? 0 : 7,
	};

	wb_init(&t->w, t->buf, sizeof(t->buf));
	ike_build_begin(&t->b, &t->w, &h);
}

static void tinner(struct tmsg *t)
{
	wb_init(&t->w, t->buf, sizeof(t->buf));
	ike_build_inner_begin(&t->b, &t->w);
}

static size_t tend(struct tmsg *t)
{
	assert_int_equal(ike_build_end(&t->b), IKE_OK);
	return t->w.len;
}

/* An SK payload whose "ciphertext" is the plaintext inner chain (no IV,
 * no ICV): what the fuzz harness feeds to ike_parse_inner(). */
static size_t wrap_sk(struct tmsg *t, uint8_t exchange, bool response,
		      struct tmsg *in)
{
	struct ike_sk_layout lay;

	assert_int_equal(tend(in), in->w.len);
	tbegin(t, exchange, response);
	ike_build_sk(&t->b, in->b.first, 0, in->w.len, 0, &lay);
	memcpy(t->buf + lay.ct_off, in->buf, in->w.len);
	return tend(t);
}

/* --- rebuilding from parsed facts --------------------------------------- */

struct idx {
	unsigned n, d, v, cert, creq;
};

static void rebuild_sk(struct ike_builder *b, const struct ike_msg *m,
		       uint8_t type)
{
	struct ike_sk_layout lay;

	if (type == IKE_PL_SK)
		ike_build_sk(b, m->sk.first, 0, m->sk.body.len, 0, &lay);
	else
		ike_build_skf(b, m->sk.frag, m->sk.total, m->sk.first, 0,
			      m->sk.body.len, 0, &lay);
	assert_false(b->failed);
	memcpy(b->w->data + lay.ct_off, m->sk.body.p, m->sk.body.len);
}

static void rebuild_one(struct ike_builder *b, const struct ike_msg *m,
			uint8_t type, struct idx *i)
{
	switch (type) {
	case IKE_PL_SA:
		ike_build_sa(b, &m->sa);
		break;
	case IKE_PL_KE:
		ike_build_ke(b, &m->ke);
		break;
	case IKE_PL_NONCE:
		ike_build_nonce(b, &m->nonce);
		break;
	case IKE_PL_IDI:
		ike_build_id(b, type, &m->idi);
		break;
	case IKE_PL_IDR:
		ike_build_id(b, type, &m->idr);
		break;
	case IKE_PL_AUTH:
		ike_build_auth(b, &m->auth);
		break;
	case IKE_PL_TSI:
		ike_build_ts(b, type, &m->tsi);
		break;
	case IKE_PL_TSR:
		ike_build_ts(b, type, &m->tsr);
		break;
	case IKE_PL_CP:
		ike_build_cp(b, &m->cp);
		break;
	case IKE_PL_EAP:
		ike_build_eap(b, &m->eap);
		break;
	case IKE_PL_NOTIFY:
		ike_build_notify(b, &m->notify[i->n++]);
		break;
	case IKE_PL_DELETE:
		ike_build_delete(b, &m->del[i->d++]);
		break;
	case IKE_PL_VENDOR:
		ike_build_vendor(b, &m->vendor[i->v++]);
		break;
	case IKE_PL_CERT:
		ike_build_cert(b, type, &m->cert[i->cert++]);
		break;
	case IKE_PL_CERTREQ:
		ike_build_cert(b, type, &m->certreq[i->creq++]);
		break;
	default:
		rebuild_sk(b, m, type);
		break;
	}
}

static void rebuild(struct ike_builder *b, const struct ike_msg *m,
		    const struct ike_chain *c)
{
	struct idx i = {0};

	for (unsigned k = 0; k < c->n; k++)
		rebuild_one(b, m, c->type[k], &i);
}

/* Parses p and checks that building the parsed facts gives p back. */
static void roundtrip(struct ike_msg *m, const uint8_t *p, size_t len)
{
	struct tmsg t;

	assert_int_equal(ike_parse(m, p, len), IKE_OK);
	wb_init(&t.w, t.buf, sizeof(t.buf));
	ike_build_begin(&t.b, &t.w, &m->hdr);
	rebuild(&t.b, m, &m->outer);
	assert_int_equal(ike_build_end(&t.b), IKE_OK);
	assert_int_equal(t.w.len, len);
	assert_memory_equal(t.buf, p, len);
}

/* The same for an inner chain (the decrypted SK content). */
static void roundtrip_inner(struct ike_msg *m, struct tmsg *in)
{
	struct tmsg t;
	size_t len = tend(in);

	memset(m, 0, sizeof(*m));
	assert_int_equal(ike_parse_inner(m, in->b.first, in->buf, len), IKE_OK);
	tinner(&t);
	rebuild(&t.b, m, &m->inner);
	assert_int_equal(tend(&t), len);
	assert_int_equal(t.b.first, in->b.first);
	assert_memory_equal(t.buf, in->buf, len);
}

static void assert_chunk(const struct ike_chunk *a, const struct ike_chunk *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->p, b->p, a->len);
}

/* --- fixtures ----------------------------------------------------------- */

static struct ike_chunk chunk(const void *p, size_t len)
{
	return (struct ike_chunk){p, len};
}

static void add_trans(struct ike_proposal *p, uint8_t type, uint16_t id,
		      uint16_t key_len)
{
	p->trans[p->ntrans++] = (struct ike_transform){type, id, key_len, 0};
}

/* aes256gcm16-prfsha384-x25519, aes256-sha256-modp2048 (RFC 7296 3.3) */
static void ike_proposals(struct ike_sa_pl *sa)
{
	struct ike_proposal *p;

	memset(sa, 0, sizeof(*sa));
	p = &sa->prop[sa->nprop++];
	p->num = 1;
	p->protocol = IKE_PROTO_IKE;
	add_trans(p, IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256);
	add_trans(p, IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_384, 0);
	add_trans(p, IKE_TRANS_DH, IKE_DH_CURVE25519, 0);
	p = &sa->prop[sa->nprop++];
	p->num = 2;
	p->protocol = IKE_PROTO_IKE;
	add_trans(p, IKE_TRANS_ENCR, IKE_ENCR_AES_CBC, 256);
	add_trans(p, IKE_TRANS_PRF, IKE_PRF_HMAC_SHA2_256, 0);
	add_trans(p, IKE_TRANS_INTEG, IKE_INTEG_HMAC_SHA2_256_128, 0);
	add_trans(p, IKE_TRANS_DH, IKE_DH_MODP2048, 0);
}

static void esp_proposal(struct ike_sa_pl *sa, uint8_t num)
{
	struct ike_proposal *p = &sa->prop[sa->nprop++];

	memset(p, 0, sizeof(*p));
	p->num = num;
	p->protocol = IKE_PROTO_ESP;
	p->spi_size = 4;
	memcpy(p->spi, "\xc0\x01\xd0\x0d", 4);
	add_trans(p, IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 128);
	add_trans(p, IKE_TRANS_ENCR, IKE_ENCR_AES_GCM_16, 256);
	add_trans(p, IKE_TRANS_ESN, IKE_ESN_NO, 0);
}

static void assert_sa_equal(const struct ike_sa_pl *a,
			    const struct ike_sa_pl *b)
{
	assert_int_equal(a->nprop, b->nprop);
	for (unsigned i = 0; i < a->nprop; i++) {
		const struct ike_proposal *p = &a->prop[i], *q = &b->prop[i];

		assert_int_equal(p->num, q->num);
		assert_int_equal(p->protocol, q->protocol);
		assert_int_equal(p->spi_size, q->spi_size);
		assert_memory_equal(p->spi, q->spi, p->spi_size);
		assert_int_equal(p->ntrans, q->ntrans);
		for (unsigned k = 0; k < p->ntrans; k++) {
			assert_int_equal(p->trans[k].type, q->trans[k].type);
			assert_int_equal(p->trans[k].id, q->trans[k].id);
			assert_int_equal(p->trans[k].key_len,
					 q->trans[k].key_len);
			assert_false(q->trans[k].unknown_attr);
		}
	}
}

static struct ike_notify_pl notify(uint16_t type, const void *data, size_t len)
{
	return (struct ike_notify_pl){.type = type, .data = chunk(data, len)};
}

static struct ike_ts ts(const char *start, const char *end, uint8_t proto,
			uint16_t sport, uint16_t eport)
{
	struct ike_ts t = {
	    .proto = proto, .start_port = sport, .end_port = eport};

	assert_int_equal(ipaddr_parse(&t.start, start), 0);
	assert_int_equal(ipaddr_parse(&t.end, end), 0);
	t.type = t.start.family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE
					   : IKE_TS_IPV6_ADDR_RANGE;
	return t;
}

/* HDR, SAi1, KEi, Ni, N(NAT_D_SRC), N(NAT_D_DST), V */
static size_t sa_init_req(struct tmsg *t)
{
	struct ike_sa_pl sa;
	struct ike_ke ke = {IKE_DH_CURVE25519, chunk(blob, 32)};
	struct ike_chunk nonce = chunk(blob + 32, 32), vid = chunk(blob, 16);
	struct ike_notify_pl src = notify(IKE_N_NAT_DETECTION_SOURCE_IP, blob,
					  20),
			     dst = notify(IKE_N_NAT_DETECTION_DESTINATION_IP,
					  blob + 20, 20);

	ike_proposals(&sa);
	tbegin(t, IKE_SA_INIT, false);
	ike_build_sa(&t->b, &sa);
	ike_build_ke(&t->b, &ke);
	ike_build_nonce(&t->b, &nonce);
	ike_build_notify(&t->b, &src);
	ike_build_notify(&t->b, &dst);
	ike_build_vendor(&t->b, &vid);
	return tend(t);
}

/* --- round trips -------------------------------------------------------- */

static void rt_sa_ke_nonce(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	struct ike_sa_pl sa;
	size_t len = sa_init_req(&t);

	save("sa_init_req", t.buf, len);
	roundtrip(&m, t.buf, len);
	ike_proposals(&sa);
	assert_sa_equal(&sa, &m.sa);
	assert_int_equal(m.hdr.spi_i, SPI_I);
	assert_int_equal(m.hdr.spi_r, 0);
	assert_int_equal(m.hdr.exchange, IKE_SA_INIT);
	assert_int_equal(m.hdr.flags, IKE_FLAG_INITIATOR);
	assert_int_equal(m.hdr.next, IKE_PL_SA);
	assert_int_equal(m.hdr.length, len);
	assert_int_equal(m.ke.group, IKE_DH_CURVE25519);
	assert_chunk(&m.ke.data, &(struct ike_chunk){blob, 32});
	assert_chunk(&m.nonce, &(struct ike_chunk){blob + 32, 32});
	assert_int_equal(m.nnotify, 2);
	assert_int_equal(m.nvendor, 1);
	assert_int_equal(m.outer.n, 6);
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
}

/* ESP proposals with SPIs and an IKE rekey proposal with an 8-byte SPI. */
static void rt_sa_child_and_rekey(void **state)
{
	struct tmsg in, t;
	struct ike_msg m;
	struct ike_sa_pl sa = {0}, rekey;
	struct ike_chunk nonce = chunk(blob, 16);

	esp_proposal(&sa, 1);
	esp_proposal(&sa, 2);
	sa.prop[1].protocol = IKE_PROTO_AH;
	tinner(&in);
	ike_build_sa(&in.b, &sa);
	ike_build_nonce(&in.b, &nonce);
	roundtrip_inner(&m, &in);
	assert_sa_equal(&sa, &m.sa);

	ike_proposals(&rekey);
	rekey.prop[0].spi_size = 8;
	memcpy(rekey.prop[0].spi, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	tinner(&in);
	ike_build_sa(&in.b, &rekey);
	ike_build_nonce(&in.b, &nonce);
	ike_build_ke(&in.b, &(struct ike_ke){IKE_DH_ECP256, chunk(blob, 64)});
	roundtrip_inner(&m, &in);
	assert_sa_equal(&rekey, &m.sa);
	save("create_child_rekey_ike", t.buf,
	     wrap_sk(&t, CREATE_CHILD_SA, false, &in));
}

static void rt_id_each_type(void **state)
{
	static const struct {
		uint8_t type;
		size_t len;
	} ids[] = {
	    {IKE_ID_IPV4_ADDR, 4},    {IKE_ID_FQDN, 13},
	    {IKE_ID_RFC822_ADDR, 9},  {IKE_ID_IPV6_ADDR, 16},
	    {IKE_ID_DER_ASN1_DN, 40}, {IKE_ID_KEY_ID, 7},
	};
	struct tmsg in;
	struct ike_msg m;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct ike_id a = {ids[i].type, chunk(blob, ids[i].len)};
		struct ike_id b = {ids[i].type, chunk(blob + 1, ids[i].len)};

		tinner(&in);
		ike_build_id(&in.b, IKE_PL_IDI, &a);
		ike_build_id(&in.b, IKE_PL_IDR, &b);
		roundtrip_inner(&m, &in);
		assert_true(m.has_idi && m.has_idr);
		assert_int_equal(m.idi.type, ids[i].type);
		assert_chunk(&m.idi.data, &a.data);
		assert_int_equal(m.idr.type, ids[i].type);
		assert_chunk(&m.idr.data, &b.data);
	}
}

static void build_auth_req(struct tmsg *in)
{
	struct ike_sa_pl sa = {0};
	struct ike_ts_set tsi = {1,
				 {ts("0.0.0.0", "255.255.255.255", 0, 0,
				     65535)}},
			  tsr = tsi;
	struct ike_cp cp = {.type = IKE_CFG_REQUEST,
			    .nattr = 3,
			    .attr = {{.type = IKE_CA_INTERNAL_IP4_ADDRESS},
				     {.type = IKE_CA_INTERNAL_IP4_DNS},
				     {.type = IKE_CA_INTERNAL_IP6_ADDRESS}}};
	struct ike_notify_pl ic = notify(IKE_N_INITIAL_CONTACT, NULL, 0),
			     mob = notify(IKE_N_MOBIKE_SUPPORTED, NULL, 0);

	esp_proposal(&sa, 1);
	tinner(in);
	ike_build_id(&in->b, IKE_PL_IDI,
		     &(struct ike_id){IKE_ID_FQDN, chunk("mn.example", 10)});
	ike_build_notify(&in->b, &ic);
	ike_build_auth(&in->b,
		       &(struct ike_auth){IKE_AUTH_PSK, chunk(blob, 48)});
	ike_build_cp(&in->b, &cp);
	ike_build_sa(&in->b, &sa);
	ike_build_ts(&in->b, IKE_PL_TSI, &tsi);
	ike_build_ts(&in->b, IKE_PL_TSR, &tsr);
	ike_build_notify(&in->b, &mob);
}

static void rt_auth(void **state)
{
	struct tmsg in, t;
	struct ike_msg m;
	size_t len;

	build_auth_req(&in);
	roundtrip_inner(&m, &in);
	assert_int_equal(m.auth.method, IKE_AUTH_PSK);
	assert_chunk(&m.auth.data, &(struct ike_chunk){blob, 48});
	assert_int_equal(m.inner.n, 8);

	len = wrap_sk(&t, IKE_AUTH, false, &in);
	save("auth_req", t.buf, len);
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_OK);
	assert_int_equal(ike_check_outer(&m, false, NULL), IKE_OK);
	assert_int_equal(
	    ike_parse_inner(&m, m.sk.first, m.sk.body.p, m.sk.body.len),
	    IKE_OK);
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
}

static void rt_notify(void **state)
{
	struct ike_notify_pl n[4] = {
	    notify(IKE_N_COOKIE, blob, 32),
	    notify(IKE_N_REKEY_SA, NULL, 0),
	    notify(IKE_N_INVALID_IKE_SPI, NULL, 0),
	    notify(IKE_N_UPDATE_SA_ADDRESSES, NULL, 0),
	};
	struct tmsg in;
	struct ike_msg m;

	n[1].protocol = IKE_PROTO_ESP;
	n[1].spi_size = 4;
	memcpy(n[1].spi, "\xaa\xbb\xcc\xdd", 4);
	n[2].protocol = IKE_PROTO_IKE;
	n[2].spi_size = 8;
	memcpy(n[2].spi, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	n[2].data = chunk(blob, 5);
	tinner(&in);
	for (int i = 0; i < 4; i++)
		ike_build_notify(&in.b, &n[i]);
	roundtrip_inner(&m, &in);
	assert_int_equal(m.nnotify, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(m.notify[i].type, n[i].type);
		assert_int_equal(m.notify[i].protocol, n[i].protocol);
		assert_int_equal(m.notify[i].spi_size, n[i].spi_size);
		assert_memory_equal(m.notify[i].spi, n[i].spi, IKE_SPI_MAX);
		assert_chunk(&m.notify[i].data, &n[i].data);
	}
	assert_ptr_equal(ike_find_notify(&m, IKE_N_REKEY_SA), &m.notify[1]);
	assert_ptr_equal(ike_error_notify(&m), &m.notify[2]);
	assert_null(ike_find_notify(&m, IKE_N_MOBIKE_SUPPORTED));
}

static void rt_delete_vendor(void **state)
{
	struct ike_delete d[2] = {
	    {IKE_PROTO_ESP, 4, 3, chunk(blob, 12)},
	    {IKE_PROTO_IKE, 0, 0, chunk(NULL, 0)},
	};
	struct ike_chunk v[2] = {chunk(blob, 16), chunk(NULL, 0)};
	struct tmsg in, t;
	struct ike_msg m;

	tinner(&in);
	ike_build_delete(&in.b, &d[0]);
	ike_build_vendor(&in.b, &v[0]);
	ike_build_delete(&in.b, &d[1]);
	ike_build_vendor(&in.b, &v[1]);
	roundtrip_inner(&m, &in);
	assert_int_equal(m.ndelete, 2);
	assert_int_equal(m.nvendor, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(m.del[i].protocol, d[i].protocol);
		assert_int_equal(m.del[i].spi_size, d[i].spi_size);
		assert_int_equal(m.del[i].nspi, d[i].nspi);
		assert_chunk(&m.del[i].spis, &d[i].spis);
		assert_chunk(&m.vendor[i], &v[i]);
	}
	save("informational_delete", t.buf,
	     wrap_sk(&t, INFORMATIONAL, false, &in));
}

static void rt_ts_v4_v6(void **state)
{
	struct ike_ts_set tsi = {2,
				 {ts("10.0.0.1", "10.0.0.1", 0, 0, 65535),
				  ts("fd00::1", "fd00::ffff", 17, 500, 4500)}},
			  tsr = {1,
				 {ts("::",
				     "ffff:ffff:ffff:ffff:ffff:ffff:"
				     "ffff:ffff",
				     6, 80, 80)}};
	struct tmsg in;
	struct ike_msg m;

	tinner(&in);
	ike_build_ts(&in.b, IKE_PL_TSI, &tsi);
	ike_build_ts(&in.b, IKE_PL_TSR, &tsr);
	roundtrip_inner(&m, &in);
	assert_int_equal(m.tsi.n, 2);
	assert_int_equal(m.tsr.n, 1);
	for (int i = 0; i < 2; i++) {
		const struct ike_ts *a = &tsi.ts[i], *b = &m.tsi.ts[i];

		assert_int_equal(a->type, b->type);
		assert_int_equal(a->proto, b->proto);
		assert_int_equal(a->start_port, b->start_port);
		assert_int_equal(a->end_port, b->end_port);
		assert_true(ipaddr_eq(&a->start, &b->start));
		assert_true(ipaddr_eq(&a->end, &b->end));
	}
	assert_int_equal(m.tsr.ts[0].type, IKE_TS_IPV6_ADDR_RANGE);
	assert_true(ipaddr_eq(&m.tsr.ts[0].end, &tsr.ts[0].end));
}

static void assert_cp_equal(const struct ike_cp *a, const struct ike_cp *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->nattr, b->nattr);
	for (unsigned i = 0; i < a->nattr; i++) {
		assert_int_equal(a->attr[i].type, b->attr[i].type);
		assert_chunk(&a->attr[i].value, &b->attr[i].value);
	}
}

/* A request lists empty attributes; a reply carries the values (3.15.1). */
static void rt_cp(void **state)
{
	static const uint16_t types[] = {
	    IKE_CA_INTERNAL_IP4_ADDRESS, IKE_CA_INTERNAL_IP4_NETMASK,
	    IKE_CA_INTERNAL_IP4_DNS,	 IKE_CA_INTERNAL_IP4_NBNS,
	    IKE_CA_INTERNAL_IP4_DHCP,	 IKE_CA_APPLICATION_VERSION,
	    IKE_CA_INTERNAL_IP6_ADDRESS, IKE_CA_INTERNAL_IP6_DNS,
	    IKE_CA_INTERNAL_IP4_SUBNET,	 IKE_CA_SUPPORTED_ATTRIBUTES,
	    IKE_CA_INTERNAL_IP6_SUBNET,
	};
	static const size_t lens[] = {4, 4, 4, 4, 4, 7, 17, 16, 8, 4, 17};
	struct ike_cp req = {.type = IKE_CFG_REQUEST},
		      rep = {.type = IKE_CFG_REPLY};
	struct tmsg in;
	struct ike_msg m;

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		req.attr[req.nattr++] = (struct ike_cp_attr){.type = types[i]};
		rep.attr[rep.nattr++] =
		    (struct ike_cp_attr){types[i], chunk(blob, lens[i])};
	}
	tinner(&in);
	ike_build_cp(&in.b, &req);
	roundtrip_inner(&m, &in);
	assert_cp_equal(&req, &m.cp);
	tinner(&in);
	ike_build_cp(&in.b, &rep);
	roundtrip_inner(&m, &in);
	assert_cp_equal(&rep, &m.cp);
}

static void rt_cert_certreq_eap(void **state)
{
	struct ike_cert c = {4, chunk(blob, 100)}, r = {4, chunk(blob, 20)};
	static const uint8_t eap[] = {1, 7, 0, 9, 1, 'm', 'o', 'b', 'i'};
	struct tmsg in;
	struct ike_msg m;

	tinner(&in);
	ike_build_cert(&in.b, IKE_PL_CERT, &c);
	ike_build_cert(&in.b, IKE_PL_CERTREQ, &r);
	ike_build_cert(&in.b, IKE_PL_CERTREQ, &c);
	ike_build_eap(&in.b, &(struct ike_chunk){eap, sizeof(eap)});
	roundtrip_inner(&m, &in);
	assert_int_equal(m.ncert, 1);
	assert_int_equal(m.ncertreq, 2);
	assert_int_equal(m.cert[0].encoding, 4);
	assert_chunk(&m.cert[0].data, &c.data);
	assert_chunk(&m.certreq[0].data, &r.data);
	assert_true(m.has_eap);
	assert_int_equal(m.eap.len, sizeof(eap));
}

/* The SK layout is what the crypto code needs: AAD = [0, iv_off). */
static void rt_sk(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	struct ike_sk_layout lay;
	size_t len;

	tbegin(&t, INFORMATIONAL, true);
	ike_build_sk(&t.b, IKE_PL_NOTIFY, 8, 40, 16, &lay);
	memcpy(t.buf + lay.iv_off, blob, 64);
	len = tend(&t);
	assert_int_equal(lay.hdr_off, IKE_HDR_LEN);
	assert_int_equal(lay.iv_off, IKE_HDR_LEN + 4);
	assert_int_equal(lay.ct_off, lay.iv_off + 8);
	assert_int_equal(lay.icv_off, lay.ct_off + 40);
	assert_int_equal(lay.end, len);
	assert_int_equal(t.buf[IKE_HDR_LEN], IKE_PL_NOTIFY);

	roundtrip(&m, t.buf, len);
	assert_true(m.has_sk);
	assert_int_equal(m.sk.first, IKE_PL_NOTIFY);
	assert_int_equal(m.sk.hdr_off, lay.hdr_off);
	assert_ptr_equal(m.sk.body.p, t.buf + lay.iv_off);
	assert_int_equal(m.sk.body.len, 64);
	assert_int_equal(ike_check_outer(&m, true, NULL), IKE_OK);

	/* nothing may follow SK in the builder either */
	ike_build_vendor(&t.b, &(struct ike_chunk){blob, 4});
	assert_int_equal(ike_build_end(&t.b), IKE_ENOSPACE);
}

static void rt_skf(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	struct ike_sk_layout lay;
	size_t len;

	tbegin(&t, IKE_AUTH, false);
	ike_build_skf(&t.b, 1, 3, IKE_PL_IDI, 16, 32, 16, &lay);
	len = tend(&t);
	assert_int_equal(lay.iv_off, IKE_HDR_LEN + 8); /* RFC 7383 2.5.3 */
	save("auth_skf_1of3", t.buf, len);
	roundtrip(&m, t.buf, len);
	assert_true(m.has_skf);
	assert_int_equal(m.sk.frag, 1);
	assert_int_equal(m.sk.total, 3);
	assert_int_equal(m.sk.first, IKE_PL_IDI);
	assert_int_equal(m.sk.body.len, 64);
	assert_int_equal(ike_check_outer(&m, false, NULL), IKE_OK);

	tbegin(&t, IKE_AUTH, false);
	ike_build_skf(&t.b, 3, 3, IKE_PL_IDI, 16, 8, 16, &lay);
	len = tend(&t);
	roundtrip(&m, t.buf, len);
	assert_int_equal(m.sk.first, IKE_PL_NONE); /* only fragment 1 */
	assert_int_equal(m.sk.frag, 3);

	tbegin(&t, IKE_AUTH, false);
	ike_build_skf(&t.b, 4, 3, IKE_PL_IDI, 16, 8, 16, &lay);
	assert_int_equal(ike_build_end(&t.b), IKE_ENOSPACE);
}

static void builder_errors(void **state)
{
	uint8_t small[40];
	struct wbuf w;
	struct ike_builder b;
	struct ike_hdr h = {.version = IKE_VERSION, .exchange = IKE_SA_INIT};
	struct ike_sk_layout lay;
	struct tmsg in;

	wb_init(&w, small, sizeof(small));
	ike_build_begin(&b, &w, &h);
	ike_build_nonce(&b, &(struct ike_chunk){blob, 32});
	assert_int_equal(ike_build_end(&b), IKE_ENOSPACE);

	tinner(&in); /* no SK inside SK */
	ike_build_sk(&in.b, IKE_PL_NOTIFY, 0, 0, 0, &lay);
	assert_int_equal(ike_build_end(&in.b), IKE_ENOSPACE);

	tinner(&in); /* address family must match the TS type */
	struct ike_ts_set set = {1, {ts("10.0.0.1", "10.0.0.2", 0, 0, 0)}};
	set.ts[0].type = IKE_TS_IPV6_ADDR_RANGE;
	ike_build_ts(&in.b, IKE_PL_TSI, &set);
	assert_int_equal(ike_build_end(&in.b), IKE_ENOSPACE);
}

/* --- hand-assembled sample --------------------------------------------- */

static size_t put(uint8_t *p, size_t off, const void *src, size_t n)
{
	memcpy(p + off, src, n);
	return off + n;
}

/*
 * A typical strongSwan-style IKE_SA_INIT request assembled byte by byte
 * from RFC 7296 section 3, independent of the builder.
 */
static size_t sample_sa_init(uint8_t *p)
{
	static const uint8_t hdr[] = {
	    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* SPIi */
	    0,	  0,	0,    0,    0,	  0,	0,    0,    /* SPIr */
	    33,	  0x20, 34,   0x08, 0,	  0,	0,    0,    0, 0, 0x01, 0x0a,
	};
	static const uint8_t sa[] = {
	    34, 0, 0, 84,	      /* SA, next KE */
	    2,	0, 0, 36, 1, 1, 0, 3, /* prop 1 IKE, 3 transforms */
	    3,	0, 0, 12, 1, 0, 0, 20, 0x80, 14, 1, 0, /* AES-GCM-16 256 */
	    3,	0, 0, 8,  2, 0, 0, 6,		       /* PRF SHA384 */
	    0,	0, 0, 8,  4, 0, 0, 31,		       /* Curve25519 */
	    0,	0, 0, 44, 2, 1, 0, 4, /* prop 2 IKE, 4 transforms */
	    3,	0, 0, 12, 1, 0, 0, 12, 0x80, 14, 1, 0, /* AES-CBC 256 */
	    3,	0, 0, 8,  2, 0, 0, 5,		       /* PRF SHA256 */
	    3,	0, 0, 8,  3, 0, 0, 12,		       /* SHA256-128 */
	    0,	0, 0, 8,  4, 0, 0, 14,		       /* MODP2048 */
	};
	static const uint8_t ke[] = {40, 0, 0, 40, 0, 31, 0, 0};
	static const uint8_t no[] = {41, 0, 0, 36};
	static const uint8_t nsrc[] = {41, 0, 0, 28, 0, 0, 0x40, 0x04};
	static const uint8_t ndst[] = {41, 0, 0, 28, 0, 0, 0x40, 0x05};
	static const uint8_t nsha[] = {41,   0, 0, 14, 0, 0, 0x40,
				       0x2f, 0, 2, 0,  3, 0, 4};
	static const uint8_t nfrag[] = {0, 0, 0, 8, 0, 0, 0x40, 0x2e};
	size_t off = 0;

	off = put(p, off, hdr, sizeof(hdr));
	off = put(p, off, sa, sizeof(sa));
	off = put(p, off, ke, sizeof(ke));
	off = put(p, off, blob, 32);
	off = put(p, off, no, sizeof(no));
	off = put(p, off, blob + 32, 32);
	off = put(p, off, nsrc, sizeof(nsrc));
	off = put(p, off, blob + 64, 20);
	off = put(p, off, ndst, sizeof(ndst));
	off = put(p, off, blob + 84, 20);
	off = put(p, off, nsha, sizeof(nsha));
	return put(p, off, nfrag, sizeof(nfrag));
}

static void sample_parses(void **state)
{
	uint8_t p[512];
	size_t len = sample_sa_init(p);
	struct ike_msg m;
	struct ike_sa_pl sa;
	const struct ike_notify_pl *n;

	assert_int_equal(len, 266);
	save("sample_sa_init", p, len);
	roundtrip(&m, p, len); /* the builder writes the very same bytes */
	assert_int_equal(ike_check_placement(&m, false, NULL), IKE_OK);
	assert_int_equal(m.hdr.spi_i, 0x1122334455667788ull);
	ike_proposals(&sa);
	assert_sa_equal(&sa, &m.sa);
	assert_int_equal(m.ke.group, IKE_DH_CURVE25519);
	assert_int_equal(m.ke.data.len, 32);
	assert_int_equal(m.nonce.len, 32);
	assert_int_equal(m.nnotify, 4);
	assert_non_null(ike_find_notify(&m, IKE_N_NAT_DETECTION_SOURCE_IP));
	assert_non_null(
	    ike_find_notify(&m, IKE_N_NAT_DETECTION_DESTINATION_IP));
	assert_non_null(
	    ike_find_notify(&m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
	n = ike_find_notify(&m, IKE_N_SIGNATURE_HASH_ALGORITHMS);
	assert_non_null(n);
	assert_int_equal(n->data.len, 6);
	assert_null(ike_error_notify(&m));
}

/* --- malformed input ----------------------------------------------------- */

static int parse(const uint8_t *p, size_t len)
{
	struct ike_msg m;

	return ike_parse(&m, p, len);
}

static void bad_header(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	size_t len = sa_init_req(&t);

	assert_int_equal(parse(t.buf, 0), IKE_EMSGLEN);
	assert_int_equal(parse(t.buf, IKE_HDR_LEN - 1), IKE_EMSGLEN);
	assert_int_equal(parse(t.buf, len - 1), IKE_EMSGLEN); /* > datagram */
	assert_int_equal(parse(t.buf, len + 1), IKE_EMSGLEN); /* < datagram */
	save("bad_truncated", t.buf, 20);

	t.buf[17] = 0x30; /* major 3 */
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_EVERSION);
	assert_int_equal(ike_err_notify(IKE_EVERSION, &m.hdr),
			 IKE_N_INVALID_MAJOR_VERSION);
	assert_int_equal(m.hdr.spi_i, SPI_I); /* known for the answer */
	t.buf[17] = 0x21;		      /* minor versions are ignored */
	assert_int_equal(parse(t.buf, len), IKE_OK);
	t.buf[17] = 0x10; /* IKEv1: dropped, not answered */
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_EVERSION);
	assert_int_equal(ike_err_notify(IKE_EVERSION, &m.hdr), 0);
}

/* Payload lengths: < 4, past the message, and trailing bytes. */
static void bad_payload_length(void **state)
{
	struct tmsg t;
	size_t len = sa_init_req(&t);
	size_t sa = IKE_HDR_LEN;

	t.buf[sa + 2] = 0;
	t.buf[sa + 3] = 3;
	assert_int_equal(parse(t.buf, len), IKE_ESYNTAX);
	save("bad_payload_len3", t.buf, len);
	t.buf[sa + 2] = 0x10; /* 4096: overruns the message */
	assert_int_equal(parse(t.buf, len), IKE_ESYNTAX);

	/* last payload ends before the message does */
	len = sa_init_req(&t);
	t.buf[len - 16 - 4 + 3] -= 1; /* vendor ID one byte short */
	assert_int_equal(parse(t.buf, len), IKE_ESYNTAX);
	/* next payload says more, but the message is over */
	len = sa_init_req(&t);
	t.buf[len - 16 - 4] = IKE_PL_VENDOR;
	assert_int_equal(parse(t.buf, len), IKE_ESYNTAX);
}

/* A message with one raw payload; returns the parse result. */
static int parse_raw(uint8_t type, bool critical, const void *body, size_t len)
{
	struct tmsg t;
	size_t n;

	tbegin(&t, IKE_SA_INIT, false);
	ike_build_raw(&t.b, type, critical, body, len);
	n = tend(&t);
	return parse(t.buf, n);
}

/* Payloads shorter than their own fixed fields. */
static void bad_underrun(void **state)
{
	static const uint8_t two[2] = {0, 14};

	assert_int_equal(parse_raw(IKE_PL_KE, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_IDI, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_AUTH, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_NOTIFY, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_DELETE, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_TSI, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_CP, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_SKF, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_EAP, false, two, 2), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_CERT, false, two, 0), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_SA, false, two, 0), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_NONCE, false, blob, 15), IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_NONCE, false, blob, 257),
			 IKE_ESYNTAX);
	/* ID of type IPv4 with 5 bytes */
	assert_int_equal(
	    parse_raw(IKE_PL_IDI, false, "\x01\0\0\0\x0a\0\0\x01\x01", 9),
	    IKE_ESYNTAX);
	/* EAP length disagreeing with the payload */
	assert_int_equal(parse_raw(IKE_PL_EAP, false, "\x01\x01\0\x05", 4),
			 IKE_ESYNTAX);
}

/* SA body: one proposal with one 12-byte transform (with a key length). */
static uint8_t sa_body[] = {
    0, 0,  0,	 20, 1, IKE_PROTO_IKE,
    0, 1, /* proposal, length 20 */
    0, 0,  0,	 12, 1, 0,
    0, 20, 0x80, 14, 0, 128,
};

static int parse_sa_body(void)
{
	return parse_raw(IKE_PL_SA, false, sa_body, sizeof(sa_body));
}

static void bad_proposal_transform(void **state)
{
	uint8_t keep[sizeof(sa_body)];

	memcpy(keep, sa_body, sizeof(sa_body));
	assert_int_equal(parse_sa_body(), IKE_OK);
	sa_body[3] = 24; /* proposal longer than the SA */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[3] = 16; /* shorter than its transforms */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[3] = 20;
	sa_body[11] = 8; /* transform shorter than its attributes */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[11] = 14; /* transform longer than the proposal */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[11] = 7; /* below the fixed 8 bytes */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[11] = 12;
	sa_body[7] = 2; /* Num Transforms says 2 */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[7] = 1;
	sa_body[0] = 2; /* "more proposals" on the last one */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[0] = 0;
	sa_body[8] = 3; /* "more transforms" on the last one */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[8] = 0;
	sa_body[16] = 0x00; /* Key Length as TLV */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[17] = 99; /* TLV attribute, length 128: overruns */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[16] = 0x80; /* unknown TV attribute: recorded, not fatal */
	assert_int_equal(parse_sa_body(), IKE_OK);
	sa_body[17] = 14;
	sa_body[6] = 4; /* IKE proposal with a 4-byte SPI */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	sa_body[6] = 0;
	sa_body[5] = IKE_PROTO_ESP; /* ESP proposal without SPI */
	assert_int_equal(parse_sa_body(), IKE_ESYNTAX);
	memcpy(sa_body, keep, sizeof(sa_body));
}

/* 3.3.6: an unknown attribute is skipped by its format and recorded. */
static void unknown_attr_recorded(void **state)
{
	uint8_t body[] = {
	    0,	0, 0, 22, 1,  IKE_PROTO_IKE, 0,	 1, 0, 0,    0,
	    14, 1, 0, 0,  12, 0x00,	     99, 0, 2, 0xab, 0xcd,
	};
	struct rbuf r;
	struct ike_sa_pl sa;

	rb_init(&r, body, sizeof(body));
	assert_int_equal(ike_parse_sa(&r, &sa), IKE_OK);
	assert_true(sa.prop[0].trans[0].unknown_attr);
	assert_int_equal(sa.prop[0].trans[0].key_len, 0);
	body[19] = 3; /* TLV value past the transform */
	rb_init(&r, body, sizeof(body));
	assert_int_equal(ike_parse_sa(&r, &sa), IKE_ESYNTAX);
	body[19] = 1; /* one stray byte after the value */
	rb_init(&r, body, sizeof(body));
	assert_int_equal(ike_parse_sa(&r, &sa), IKE_ESYNTAX);
}

static void bad_spi_sizes(void **state)
{
	/* notify with a 5-byte SPI */
	assert_int_equal(
	    parse_raw(IKE_PL_NOTIFY, false, "\x03\x05\x40\x09\1\2\3\4\5", 9),
	    IKE_ESYNTAX);
	/* notify SPI size larger than the payload */
	assert_int_equal(
	    parse_raw(IKE_PL_NOTIFY, false, "\x03\x04\x40\x09\1", 5),
	    IKE_ESYNTAX);
	/* delete: ESP with 8-byte SPIs, IKE with an SPI, unknown protocol */
	assert_int_equal(parse_raw(IKE_PL_DELETE, false,
				   "\x03\x08\0\x01\1\2\3\4\5\6\7\x08", 12),
			 IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_DELETE, false,
				   "\x01\x08\0\x01\1\2\3\4\5\6\7\x08", 12),
			 IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_DELETE, false, "\x09\x04\0\0", 4),
			 IKE_ESYNTAX);
	/* delete: 3 SPIs announced, 2 present, and 1 announced, 2 present */
	assert_int_equal(parse_raw(IKE_PL_DELETE, false,
				   "\x03\x04\0\x03\1\2\3\4\5\6\7\x08", 12),
			 IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_DELETE, false,
				   "\x03\x04\0\x01\1\2\3\4\5\6\7\x08", 12),
			 IKE_ESYNTAX);
	assert_int_equal(parse_raw(IKE_PL_DELETE, false,
				   "\x03\x04\0\x02\1\2\3\4\5\6\7\x08", 12),
			 IKE_OK);
}

static void bad_ts(void **state)
{
	uint8_t v4[4 + 16] = {1,    0,	  0,  0, IKE_TS_IPV4_ADDR_RANGE,
			      0,    0,	  16, 0, 0,
			      0xff, 0xff, 10, 0, 0,
			      0,    10,	  0,  0, 255};
	uint8_t v6[4 + 40] = {1, 0, 0, 0, IKE_TS_IPV6_ADDR_RANGE, 0, 0, 40};

	assert_int_equal(parse_raw(IKE_PL_TSI, false, v4, sizeof(v4)), IKE_OK);
	assert_int_equal(parse_raw(IKE_PL_TSR, false, v6, sizeof(v6)), IKE_OK);
	v4[7] = 17; /* selector length wrong */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v4, sizeof(v4)),
			 IKE_ESYNTAX);
	v6[4] = IKE_TS_IPV4_ADDR_RANGE; /* v4 type with the v6 length */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v6, sizeof(v6)),
			 IKE_ESYNTAX);
	v6[4] = 13; /* unknown TS type */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v6, sizeof(v6)),
			 IKE_ESYNTAX);
	v4[7] = 16;
	v4[0] = 2; /* two announced, one present */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v4, sizeof(v4)),
			 IKE_ESYNTAX);
	v4[0] = 0; /* none */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v4, 4), IKE_ESYNTAX);
	v4[0] = 1; /* selector cut short */
	assert_int_equal(parse_raw(IKE_PL_TSI, false, v4, sizeof(v4) - 1),
			 IKE_ESYNTAX);
}

static void bad_cp(void **state)
{
	/* attribute length 10 with 4 value bytes */
	assert_int_equal(
	    parse_raw(IKE_PL_CP, false, "\x01\0\0\0\0\x01\0\x0a\1\2\3\4", 12),
	    IKE_ESYNTAX);
	/* INTERNAL_IP4_ADDRESS of 3 bytes */
	assert_int_equal(
	    parse_raw(IKE_PL_CP, false, "\x01\0\0\0\0\x01\0\x03\1\2\3", 11),
	    IKE_ESYNTAX);
	/* R bit set */
	assert_int_equal(
	    parse_raw(IKE_PL_CP, false, "\x01\0\0\0\x80\x01\0\0", 8),
	    IKE_ESYNTAX);
	/* half an attribute header */
	assert_int_equal(parse_raw(IKE_PL_CP, false, "\x01\0\0\0\0\x01", 6),
			 IKE_ESYNTAX);
	/* empty request attribute and an unknown one are fine */
	assert_int_equal(parse_raw(IKE_PL_CP, false,
				   "\x01\0\0\0\0\x01\0\0\x40\0\0\x02\1\2", 14),
			 IKE_OK);
}

static void sk_must_be_last(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	size_t len;

	tbegin(&t, IKE_AUTH, false);
	ike_build_raw(&t.b, IKE_PL_SK, false, blob, 32);
	ike_build_raw(&t.b, IKE_PL_NOTIFY, false, "\0\0\x40\x00", 4);
	len = tend(&t);
	save("bad_sk_not_last", t.buf, len);
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_ESYNTAX);

	/* no SK inside SK */
	memset(&m, 0, sizeof(m));
	assert_int_equal(
	    ike_parse_inner(&m, IKE_PL_SK, (const uint8_t *)"\0\0\0\x04", 4),
	    IKE_ESYNTAX);
	assert_false(m.inner_parsed);
}

static void unknown_payloads(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	size_t len;

	/* 2.5: unknown and critical: reject, name it for the notify */
	tbegin(&t, IKE_SA_INIT, false);
	ike_build_vendor(&t.b, &(struct ike_chunk){blob, 8});
	ike_build_raw(&t.b, 200, true, blob, 8);
	len = tend(&t);
	save("bad_critical", t.buf, len);
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_ECRITICAL);
	assert_int_equal(m.critical_type, 200);
	assert_int_equal(ike_err_notify(IKE_ECRITICAL, &m.hdr),
			 IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);

	/* unknown, not critical: skipped; known with C set: C ignored */
	tbegin(&t, IKE_SA_INIT, false);
	ike_build_raw(&t.b, 1, false, blob, 8);
	ike_build_raw(&t.b, IKE_PL_VENDOR, true, blob, 8);
	ike_build_raw(&t.b, 52, false, NULL, 0);
	len = tend(&t);
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_OK);
	assert_true(m.unknown_skipped);
	assert_int_equal(m.outer.n, 1);
	assert_int_equal(m.nvendor, 1);

	/* inside SK too */
	tinner(&t);
	ike_build_raw(&t.b, 60, true, NULL, 0);
	len = tend(&t);
	assert_int_equal(ike_parse_inner(&m, t.b.first, t.buf, len),
			 IKE_ECRITICAL);
	assert_int_equal(m.critical_type, 60);
}

static void too_many(void **state)
{
	struct tmsg t;
	struct ike_notify_pl n = notify(IKE_N_COOKIE, blob, 8);
	size_t len;

	tbegin(&t, INFORMATIONAL, false);
	for (int i = 0; i <= IKE_MAX_NOTIFY; i++)
		ike_build_notify(&t.b, &n);
	len = tend(&t);
	assert_int_equal(parse(t.buf, len), IKE_ETOOMANY);
	assert_int_equal(ike_err_notify(IKE_ETOOMANY, NULL),
			 IKE_N_INVALID_SYNTAX);
}

/* --- placement ----------------------------------------------------------- */

static int place_outer(struct tmsg *t, bool response, uint8_t *bad)
{
	struct ike_msg m;
	size_t len = tend(t);

	assert_int_equal(ike_parse(&m, t->buf, len), IKE_OK);
	return ike_check_placement(&m, response, bad);
}

/* Wraps in SK and checks outer and inner. */
static int place_inner(uint8_t exchange, bool response, struct tmsg *in,
		       uint8_t *bad)
{
	struct tmsg t;
	struct ike_msg m;
	size_t len = wrap_sk(&t, exchange, response, in);

	assert_int_equal(ike_parse(&m, t.buf, len), IKE_OK);
	assert_int_equal(ike_check_outer(&m, response, bad), IKE_OK);
	assert_int_equal(
	    ike_parse_inner(&m, m.sk.first, m.sk.body.p, m.sk.body.len),
	    IKE_OK);
	return ike_check_placement(&m, response, bad);
}

static void place_sa_init(void **state)
{
	struct tmsg t;
	struct ike_sa_pl sa;
	struct ike_chunk no = chunk(blob, 32);
	struct ike_ke ke = {IKE_DH_ECP256, chunk(blob, 64)};
	uint8_t bad;

	sa_init_req(&t);
	ike_build_auth(&t.b, &(struct ike_auth){IKE_AUTH_PSK, chunk(blob, 8)});
	assert_int_equal(place_outer(&t, false, &bad), IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_AUTH);
	save("bad_sa_init_auth", t.buf, t.w.len);

	ike_proposals(&sa);
	tbegin(&t, IKE_SA_INIT, false); /* no KE */
	ike_build_sa(&t.b, &sa);
	ike_build_nonce(&t.b, &no);
	assert_int_equal(place_outer(&t, false, &bad), IKE_EMISSING);
	assert_int_equal(bad, IKE_PL_KE);

	sa_init_req(&t); /* two nonces */
	ike_build_nonce(&t.b, &no);
	assert_int_equal(place_outer(&t, false, &bad), IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_NONCE);

	tbegin(&t, IKE_SA_INIT, true); /* response with CERTREQ */
	ike_build_sa(&t.b, &sa);
	ike_build_ke(&t.b, &ke);
	ike_build_nonce(&t.b, &no);
	ike_build_cert(&t.b, IKE_PL_CERTREQ, &(struct ike_cert){.encoding = 4});
	assert_int_equal(place_outer(&t, true, &bad), IKE_OK);
	save("sa_init_resp", t.buf, t.w.len);
	assert_int_equal(place_outer(&t, false, &bad), IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_CERTREQ);
}

/* Responses of only notifies pass: COOKIE, INVALID_KE_PAYLOAD, errors. */
static void place_error_responses(void **state)
{
	struct tmsg t, in;
	struct ike_notify_pl cookie = notify(IKE_N_COOKIE, blob, 16),
			     ke = notify(IKE_N_INVALID_KE_PAYLOAD, "\0\x13", 2),
			     af = notify(IKE_N_AUTHENTICATION_FAILED, NULL, 0),
			     npc = notify(IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);

	tbegin(&t, IKE_SA_INIT, true);
	ike_build_notify(&t.b, &cookie);
	assert_int_equal(place_outer(&t, true, NULL), IKE_OK);
	save("sa_init_resp_cookie", t.buf, t.w.len);
	assert_int_equal(place_outer(&t, false, NULL), IKE_EMISSING);

	tbegin(&t, IKE_SA_INIT, true);
	ike_build_notify(&t.b, &ke);
	assert_int_equal(place_outer(&t, true, NULL), IKE_OK);

	tinner(&in);
	ike_build_notify(&in.b, &af);
	assert_int_equal(place_inner(IKE_AUTH, true, &in, NULL), IKE_OK);
	save("auth_resp_failed", t.buf, wrap_sk(&t, IKE_AUTH, true, &in));
	tinner(&in);
	ike_build_notify(&in.b, &af);
	assert_int_equal(place_inner(IKE_AUTH, false, &in, NULL), IKE_EMISSING);

	/* 1.2: IKE SA up, CHILD SA refused */
	tinner(&in);
	ike_build_id(&in.b, IKE_PL_IDR,
		     &(struct ike_id){IKE_ID_FQDN, chunk("gw", 2)});
	ike_build_auth(&in.b,
		       &(struct ike_auth){IKE_AUTH_PSK, chunk(blob, 48)});
	ike_build_notify(&in.b, &npc);
	assert_int_equal(place_inner(IKE_AUTH, true, &in, NULL), IKE_OK);

	tinner(&in);
	ike_build_notify(&in.b, &npc);
	assert_int_equal(place_inner(CREATE_CHILD_SA, true, &in, NULL), IKE_OK);
}

static void place_auth_and_child(void **state)
{
	struct tmsg in;
	struct ike_sa_pl sa = {0};
	struct ike_ts_set set = {1,
				 {ts("10.0.0.0", "10.0.0.255", 0, 0, 65535)}};
	struct ike_chunk no = chunk(blob, 32);
	uint8_t bad;

	build_auth_req(&in);
	assert_int_equal(place_inner(IKE_AUTH, false, &in, &bad), IKE_OK);
	build_auth_req(&in); /* AUTH twice */
	ike_build_auth(&in.b,
		       &(struct ike_auth){IKE_AUTH_PSK, chunk(blob, 48)});
	assert_int_equal(place_inner(IKE_AUTH, false, &in, &bad),
			 IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_AUTH);
	build_auth_req(&in); /* as a response: IDi not allowed */
	assert_int_equal(place_inner(IKE_AUTH, true, &in, &bad),
			 IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_IDI);

	esp_proposal(&sa, 1);
	tinner(&in); /* CREATE_CHILD_SA with TSi but no TSr */
	ike_build_sa(&in.b, &sa);
	ike_build_nonce(&in.b, &no);
	ike_build_ts(&in.b, IKE_PL_TSI, &set);
	assert_int_equal(place_inner(CREATE_CHILD_SA, false, &in, &bad),
			 IKE_EMISSING);
	assert_int_equal(bad, IKE_PL_TSR);
	ike_build_ts(&in.b, IKE_PL_TSR, &set);
	assert_int_equal(place_inner(CREATE_CHILD_SA, false, &in, &bad),
			 IKE_OK);
	ike_build_delete(&in.b,
			 &(struct ike_delete){.protocol = IKE_PROTO_IKE});
	assert_int_equal(place_inner(CREATE_CHILD_SA, false, &in, &bad),
			 IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_DELETE);

	tinner(&in); /* empty INFORMATIONAL: a liveness check */
	assert_int_equal(place_inner(INFORMATIONAL, false, &in, &bad), IKE_OK);
}

/* A complete IKE_AUTH response with a CP reply, and a MOBIKE update. */
static void place_auth_resp_and_mobike(void **state)
{
	struct tmsg in, t;
	struct ike_sa_pl sa = {0};
	struct ike_ts_set tsi = {1, {ts("10.3.0.7", "10.3.0.7", 0, 0, 65535)}},
			  tsr = {1,
				 {ts("10.1.0.0", "10.1.255.255", 0, 0, 65535)}};
	struct ike_cp cp = {.type = IKE_CFG_REPLY,
			    .nattr = 2,
			    .attr = {{IKE_CA_INTERNAL_IP4_ADDRESS,
				      {(const uint8_t *)"\x0a\x03\0\x07", 4}},
				     {IKE_CA_INTERNAL_IP4_DNS,
				      {(const uint8_t *)"\x0a\x01\0\x35", 4}}}};
	struct ike_notify_pl upd = notify(IKE_N_UPDATE_SA_ADDRESSES, NULL, 0),
			     cookie2 = notify(IKE_N_COOKIE2, blob, 16);

	esp_proposal(&sa, 1);
	sa.prop[0].ntrans = 2;
	tinner(&in);
	ike_build_id(&in.b, IKE_PL_IDR,
		     &(struct ike_id){IKE_ID_FQDN, chunk("gw.example", 10)});
	ike_build_auth(&in.b,
		       &(struct ike_auth){IKE_AUTH_PSK, chunk(blob, 48)});
	ike_build_cp(&in.b, &cp);
	ike_build_sa(&in.b, &sa);
	ike_build_ts(&in.b, IKE_PL_TSI, &tsi);
	ike_build_ts(&in.b, IKE_PL_TSR, &tsr);
	assert_int_equal(place_inner(IKE_AUTH, true, &in, NULL), IKE_OK);
	save("auth_resp", t.buf, wrap_sk(&t, IKE_AUTH, true, &in));

	tinner(&in);
	ike_build_notify(&in.b, &upd);
	ike_build_notify(&in.b, &cookie2);
	assert_int_equal(place_inner(INFORMATIONAL, false, &in, NULL), IKE_OK);
	save("info_mobike_update", t.buf,
	     wrap_sk(&t, INFORMATIONAL, false, &in));
}

/* Protected exchanges: SK alone outside, and decrypted before the check. */
static void place_encryption(void **state)
{
	struct tmsg t;
	struct ike_msg m;
	struct ike_sk_layout lay;
	uint8_t bad;
	size_t len;

	tbegin(&t, IKE_AUTH, false);
	ike_build_id(&t.b, IKE_PL_IDI,
		     &(struct ike_id){IKE_ID_FQDN, chunk("mn", 2)});
	assert_int_equal(place_outer(&t, false, &bad), IKE_EENCRYPT);
	assert_int_equal(bad, IKE_PL_IDI);

	tbegin(&t, INFORMATIONAL, false); /* unauthenticated notify */
	ike_build_notify(
	    &t.b, &(struct ike_notify_pl){.type = IKE_N_INVALID_IKE_SPI});
	assert_int_equal(place_outer(&t, false, &bad), IKE_EENCRYPT);
	save("bad_info_plain", t.buf, t.w.len);

	tbegin(&t, INFORMATIONAL, false); /* no payload at all */
	assert_int_equal(place_outer(&t, false, &bad), IKE_EMISSING);

	tbegin(&t, IKE_AUTH, false); /* V before SK */
	ike_build_vendor(&t.b, &(struct ike_chunk){blob, 4});
	ike_build_sk(&t.b, IKE_PL_IDI, 16, 16, 16, &lay);
	assert_int_equal(place_outer(&t, false, &bad), IKE_EENCRYPT);

	tbegin(&t, IKE_AUTH, false); /* not yet decrypted */
	ike_build_sk(&t.b, IKE_PL_IDI, 16, 16, 16, &lay);
	len = tend(&t);
	assert_int_equal(ike_parse(&m, t.buf, len), IKE_OK);
	assert_int_equal(ike_check_outer(&m, false, &bad), IKE_OK);
	assert_int_equal(ike_check_placement(&m, false, &bad), IKE_EMISSING);

	tbegin(&t, IKE_SA_INIT, false); /* SK in IKE_SA_INIT */
	ike_build_sk(&t.b, IKE_PL_NONE, 16, 16, 16, &lay);
	assert_int_equal(place_outer(&t, false, &bad), IKE_EPLACEMENT);
	assert_int_equal(bad, IKE_PL_SK);

	t.buf[18] = 99; /* unknown exchange type */
	assert_int_equal(place_outer(&t, false, &bad), IKE_EEXCHANGE);
}

static void names(void **state)
{
	assert_string_equal(ike_exchange_name(IKE_AUTH), "IKE_AUTH");
	assert_string_equal(ike_exchange_name(1), "UNKNOWN");
	assert_string_equal(ike_payload_name(IKE_PL_SKF), "SKF");
	assert_string_equal(ike_payload_name(IKE_PL_TSR), "TSr");
	assert_string_equal(ike_notify_name(IKE_N_NAT_DETECTION_SOURCE_IP),
			    "NAT_DETECTION_SOURCE_IP");
	assert_string_equal(ike_notify_name(IKE_N_SIGNATURE_HASH_ALGORITHMS),
			    "SIGNATURE_HASH_ALGORITHMS");
	assert_string_equal(ike_notify_name(9999), "UNKNOWN");
	assert_string_equal(ike_err_name(IKE_ECRITICAL),
			    "unsupported critical payload");
	assert_string_equal(ike_err_name(-1), "unknown error");
}

static int setup(void **state)
{
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 1);
	return 0;
}

/* 3.10.1: INVALID_KE_PAYLOAD carries exactly a 2-octet group; shorter,
 * longer or absent data is malformed (group 0). */
static void notify_group(void **state)
{
	static const uint8_t ok[2] = {0, 19}, big[3] = {0, 19, 0};
	struct ike_notify_pl n = {.type = IKE_N_INVALID_KE_PAYLOAD};
	uint16_t g = 7;

	n.data = (struct ike_chunk){ok, 2};
	assert_int_equal(ike_notify_group(&n, &g), 0);
	assert_int_equal(g, 19);
	n.data = (struct ike_chunk){ok, 1};
	assert_int_equal(ike_notify_group(&n, &g), -1);
	assert_int_equal(g, 0);
	g = 7;
	n.data = (struct ike_chunk){big, 3};
	assert_int_equal(ike_notify_group(&n, &g), -1);
	assert_int_equal(g, 0);
	n.data = (struct ike_chunk){NULL, 0};
	assert_int_equal(ike_notify_group(&n, &g), -1);
}

/* RFC 3948 2.2-2.3: port 4500 tells IKE (non-ESP marker), a NAT keepalive
 * and ESP apart by their first octets, never reading past the datagram. */
static void port_4500_kinds(void **state)
{
	static const uint8_t ike[] = {0, 0, 0, 0, 0x01, 0x02};
	static const uint8_t ff2[] = {0xff, 0xff}, esp[] = {0xc0, 1, 2, 3, 4};
	const uint8_t *p;
	struct rbuf r;

	rb_init(&r, ike, sizeof(ike));
	assert_int_equal(ike_4500_kind(&r), IKE_4500_IKE);
	assert_int_equal(rb_left(&r), 2);
	assert_int_equal(rb_ptr(&r, &p, 2), 0);
	assert_ptr_equal(p, ike + 4);
	/* the marker alone: an empty IKE message, for the engine to drop */
	rb_init(&r, ike, 4);
	assert_int_equal(ike_4500_kind(&r), IKE_4500_IKE);
	assert_int_equal(rb_left(&r), 0);
	assert_false(r.failed);
	rb_init(&r, ff2, 1);
	assert_int_equal(ike_4500_kind(&r), IKE_4500_KEEPALIVE);
	/* everything else goes to the data plane untouched: two 0xFF, a
	 * cut-short marker, a non-zero SPI, nothing at all */
	rb_init(&r, ff2, 2);
	assert_int_equal(ike_4500_kind(&r), IKE_4500_ESP);
	assert_int_equal(rb_left(&r), 2);
	for (size_t n = 0; n < 4; n++) {
		rb_init(&r, ike, n);
		assert_int_equal(ike_4500_kind(&r), IKE_4500_ESP);
		assert_int_equal(rb_left(&r), n);
		assert_false(r.failed);
	}
	rb_init(&r, esp, sizeof(esp));
	assert_int_equal(ike_4500_kind(&r), IKE_4500_ESP);
	assert_int_equal(rb_left(&r), sizeof(esp));
	rb_init(&r, NULL, 0);
	assert_int_equal(ike_4500_kind(&r), IKE_4500_ESP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(port_4500_kinds),
	    cmocka_unit_test(rt_sa_ke_nonce),
	    cmocka_unit_test(rt_sa_child_and_rekey),
	    cmocka_unit_test(rt_id_each_type),
	    cmocka_unit_test(rt_auth),
	    cmocka_unit_test(rt_notify),
	    cmocka_unit_test(rt_delete_vendor),
	    cmocka_unit_test(rt_ts_v4_v6),
	    cmocka_unit_test(rt_cp),
	    cmocka_unit_test(rt_cert_certreq_eap),
	    cmocka_unit_test(rt_sk),
	    cmocka_unit_test(rt_skf),
	    cmocka_unit_test(builder_errors),
	    cmocka_unit_test(sample_parses),
	    cmocka_unit_test(bad_header),
	    cmocka_unit_test(bad_payload_length),
	    cmocka_unit_test(bad_underrun),
	    cmocka_unit_test(bad_proposal_transform),
	    cmocka_unit_test(unknown_attr_recorded),
	    cmocka_unit_test(bad_spi_sizes),
	    cmocka_unit_test(bad_ts),
	    cmocka_unit_test(bad_cp),
	    cmocka_unit_test(sk_must_be_last),
	    cmocka_unit_test(unknown_payloads),
	    cmocka_unit_test(too_many),
	    cmocka_unit_test(place_sa_init),
	    cmocka_unit_test(place_error_responses),
	    cmocka_unit_test(place_auth_and_child),
	    cmocka_unit_test(place_auth_resp_and_mobike),
	    cmocka_unit_test(place_encryption),
	    cmocka_unit_test(names),
	    cmocka_unit_test(notify_group),
	};

	return cmocka_run_group_tests_name("ike_msg", tests, setup, NULL);
}
