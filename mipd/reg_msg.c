/*
 * reg_msg.c - Mobile IPv4 registration and agent discovery codec; see
 * reg_msg.h for the rules.  Every received byte goes through struct rbuf.
 */
#include "mipd/reg_msg.h"

#include <string.h>

/* --- shared helpers --- */

static void rb_in_addr(struct rbuf *r, struct in_addr *a)
{
	/* copied as is: s_addr is in network order, like the wire */
	rb_bytes(r, &a->s_addr, 4);
}

static void wb_in_addr(struct wbuf *w, struct in_addr a)
{
	wb_bytes(w, &a.s_addr, 4);
}

static int add_ext(struct reg_ext *ext, uint8_t *next, uint8_t max,
		   uint8_t type, size_t off, const struct rbuf *body)
{
	if (*next >= max)
		return REG_ETOOMANY;
	ext[*next].type = type;
	ext[*next].off = off;
	ext[*next].body.p = body ? body->data : NULL;
	ext[*next].body.len = body ? body->len : 0;
	(*next)++;
	return REG_OK;
}

/* --- registration: extension bodies --- */

static int parse_auth(struct reg_msg *m, uint8_t type, size_t off,
		      struct rbuf *body)
{
	struct reg_auth_ext *a;
	bool *has;

	if (type == MIP4_EXT_MN_HA_AUTH) {
		a = &m->mnha, has = &m->has_mnha;
		/* 3.6.1.3: MN-FA and FA-HA auth follow the MN-HA one */
		if (m->has_mnfa || m->has_faha)
			return REG_EORDER;
	} else if (type == MIP4_EXT_MN_FA_AUTH) {
		a = &m->mnfa, has = &m->has_mnfa;
	} else {
		a = &m->faha, has = &m->has_faha;
	}
	if (*has)
		return REG_EORDER;
	if (rb_u32(body, &a->spi))
		return REG_ESYNTAX; /* Length < 4: no room for the SPI */
	a->auth.len = rb_left(body);
	rb_ptr(body, &a->auth.p, a->auth.len);
	a->off = off;
	*has = true;
	return REG_OK;
}

static int parse_udp_req(struct reg_msg *m, struct rbuf *b)
{
	struct reg_udp_req *u = &m->udp_req;

	if (m->has_udp_req)
		return REG_EORDER;
	rb_u8(b, &u->subtype);
	rb_u8(b, &u->reserved1);
	rb_u8(b, &u->flags);
	rb_u8(b, &u->encap);
	rb_u16(b, &u->reserved3);
	if (rb_end(b))
		return REG_ESYNTAX; /* 3.1: Length is 6 */
	m->has_udp_req = true;
	return REG_OK;
}

static int parse_udp_rep(struct reg_msg *m, struct rbuf *b)
{
	struct reg_udp_rep *u = &m->udp_rep;

	if (m->has_udp_rep)
		return REG_EORDER;
	rb_u8(b, &u->subtype);
	rb_u8(b, &u->code);
	rb_u16(b, &u->flags);
	rb_u16(b, &u->keepalive);
	if (rb_end(b))
		return REG_ESYNTAX; /* 3.2: Length is 6 */
	m->has_udp_rep = true;
	return REG_OK;
}

static int parse_nai(struct reg_msg *m, struct rbuf *b)
{
	if (m->has_nai)
		return REG_EORDER;
	if (rb_left(b) == 0)
		return REG_ESYNTAX; /* RFC 2794 2: an empty NAI names nobody */
	m->nai.len = rb_left(b);
	rb_ptr(b, &m->nai.p, m->nai.len);
	m->has_nai = true;
	return REG_OK;
}

/* Is this type one this message kind understands? */
static bool reg_known(const struct reg_msg *m, uint8_t type)
{
	bool req = m->type == MIP4_REG_REQUEST;

	switch (type) {
	case MIP4_EXT_MN_HA_AUTH:
	case MIP4_EXT_MN_FA_AUTH:
	case MIP4_EXT_FA_HA_AUTH:
	case MIP4_EXT_MN_NAI:
		return true;
	case MIP4_EXT_UDP_TUN_REQ:
		return req;
	case MIP4_EXT_UDP_TUN_REP:
		return !req;
	default:
		return false;
	}
}

static int parse_body(struct reg_msg *m, uint8_t type, size_t off,
		      struct rbuf *body)
{
	switch (type) {
	case MIP4_EXT_MN_HA_AUTH:
	case MIP4_EXT_MN_FA_AUTH:
	case MIP4_EXT_FA_HA_AUTH:
		return parse_auth(m, type, off, body);
	case MIP4_EXT_MN_NAI:
		return parse_nai(m, body);
	case MIP4_EXT_UDP_TUN_REQ:
		return parse_udp_req(m, body);
	default:
		return parse_udp_rep(m, body);
	}
}

static int parse_exts(struct reg_msg *m, struct rbuf *r)
{
	while (rb_left(r) > 0) {
		size_t off = r->pos;
		uint8_t type, len;
		struct rbuf body;
		int rc;

		rb_u8(r, &type);
		/* 1.9: decided before the length is trusted */
		if (!MIP4_EXT_SKIPPABLE(type) && !reg_known(m, type))
			return REG_EUNKNOWN;
		if (rb_u8(r, &len) || rb_sub(r, &body, len))
			return REG_ESYNTAX;
		rc = add_ext(m->ext, &m->next, REG_MAX_EXT, type, off, &body);
		if (rc == REG_OK && reg_known(m, type))
			rc = parse_body(m, type, off, &body);
		else if (rc == REG_OK)
			m->unknown_skipped = true; /* 1.9: skip, go on */
		if (rc != REG_OK)
			return rc;
	}
	return REG_OK;
}

/* --- registration: fixed parts --- */

static int parse_start(struct reg_msg *m, const uint8_t *pkt, size_t len,
		       struct rbuf *r, uint8_t type, size_t min)
{
	memset(m, 0, sizeof(*m));
	rb_init(r, pkt, len);
	m->pkt = r->data;
	m->len = r->len;
	if (len < min)
		return REG_ESHORT;
	rb_u8(r, &m->type);
	return m->type == type ? REG_OK : REG_ETYPE;
}

int reg_parse_request(struct reg_msg *m, const uint8_t *pkt, size_t len)
{
	struct reg_request *q = &m->rq;
	struct rbuf r;
	int rc;

	rc = parse_start(m, pkt, len, &r, MIP4_REG_REQUEST, MIP4_RRQ_LEN);
	if (rc)
		return rc;
	rb_u8(&r, &q->flags);
	rb_u16(&r, &q->lifetime);
	rb_in_addr(&r, &q->home);
	rb_in_addr(&r, &q->ha);
	rb_in_addr(&r, &q->coa);
	rb_u64(&r, &q->id);
	return parse_exts(m, &r);
}

int reg_parse_reply(struct reg_msg *m, const uint8_t *pkt, size_t len)
{
	struct reg_reply *p = &m->rp;
	struct rbuf r;
	int rc;

	rc = parse_start(m, pkt, len, &r, MIP4_REG_REPLY, MIP4_RRP_LEN);
	if (rc)
		return rc;
	rb_u8(&r, &p->code);
	rb_u16(&r, &p->lifetime);
	rb_in_addr(&r, &p->home);
	rb_in_addr(&r, &p->ha);
	rb_u64(&r, &p->id);
	return parse_exts(m, &r);
}

int reg_parse(struct reg_msg *m, const uint8_t *pkt, size_t len)
{
	uint8_t type = 0;
	struct rbuf r;

	rb_init(&r, pkt, len);
	if (rb_peek_u8(&r, &type) == 0 && type == MIP4_REG_REPLY)
		return reg_parse_reply(m, pkt, len);
	return reg_parse_request(m, pkt, len);
}

const struct reg_ext *reg_find_ext(const struct reg_msg *m, uint8_t type)
{
	for (uint8_t i = 0; i < m->next; i++)
		if (m->ext[i].type == type)
			return &m->ext[i];
	return NULL;
}

bool reg_mnha_covers(const struct reg_msg *m, const struct reg_ext *e)
{
	return m->has_mnha && e && e->off < m->mnha.off;
}

/* --- registration: building --- */

static void builder_init(struct reg_builder *b, struct wbuf *w)
{
	b->w = w;
	b->start = w->len;
	b->failed = false;
}

void reg_build_request(struct reg_builder *b, struct wbuf *w,
		       const struct reg_request *rq)
{
	builder_init(b, w);
	wb_u8(w, MIP4_REG_REQUEST);
	wb_u8(w, rq->flags);
	wb_u16(w, rq->lifetime);
	wb_in_addr(w, rq->home);
	wb_in_addr(w, rq->ha);
	wb_in_addr(w, rq->coa);
	wb_u64(w, rq->id);
}

void reg_build_reply(struct reg_builder *b, struct wbuf *w,
		     const struct reg_reply *rp)
{
	builder_init(b, w);
	wb_u8(w, MIP4_REG_REPLY);
	wb_u8(w, rp->code);
	wb_u16(w, rp->lifetime);
	wb_in_addr(w, rp->home);
	wb_in_addr(w, rp->ha);
	wb_u64(w, rp->id);
}

/* Type and Length; the body (len bytes) is the caller's to write. */
static void ext_hdr(struct reg_builder *b, uint8_t type, size_t len)
{
	if (len > 255) {
		b->failed = true;
		return;
	}
	wb_u8(b->w, type);
	wb_u8(b->w, (uint8_t)len);
}

void reg_add_ext(struct reg_builder *b, uint8_t type, const void *body,
		 size_t len)
{
	ext_hdr(b, type, len);
	if (!b->failed && len)
		wb_bytes(b->w, body, len);
}

void reg_add_nai(struct reg_builder *b, const void *nai, size_t len)
{
	reg_add_ext(b, MIP4_EXT_MN_NAI, nai, len);
}

void reg_add_udp_req(struct reg_builder *b, const struct reg_udp_req *u)
{
	ext_hdr(b, MIP4_EXT_UDP_TUN_REQ, MIP4_UDP_REQ_LEN);
	wb_u8(b->w, u->subtype);
	wb_u8(b->w, u->reserved1);
	wb_u8(b->w, u->flags);
	wb_u8(b->w, u->encap);
	wb_u16(b->w, u->reserved3);
}

void reg_add_udp_rep(struct reg_builder *b, const struct reg_udp_rep *u)
{
	ext_hdr(b, MIP4_EXT_UDP_TUN_REP, MIP4_UDP_REP_LEN);
	wb_u8(b->w, u->subtype);
	wb_u8(b->w, u->code);
	wb_u16(b->w, u->flags);
	wb_u16(b->w, u->keepalive);
}

void reg_add_auth(struct reg_builder *b, uint8_t type, uint32_t spi,
		  size_t alen, size_t *auth_off)
{
	*auth_off = 0;
	ext_hdr(b, type, 4 + alen);
	wb_u32(b->w, spi);
	if (!b->failed)
		wb_reserve(b->w, alen, auth_off);
}

int reg_build_end(const struct reg_builder *b, size_t *len)
{
	*len = 0;
	if (b->failed || wb_ok(b->w))
		return REG_ENOSPACE;
	*len = b->w->len - b->start;
	return REG_OK;
}

static void rebuild_auth(struct reg_builder *b, uint8_t type,
			 const struct reg_auth_ext *a)
{
	size_t off;

	reg_add_auth(b, type, a->spi, a->auth.len, &off);
	if (!b->failed && wb_ok(b->w) == 0 && a->auth.len)
		memcpy(b->w->data + off, a->auth.p, a->auth.len);
}

static void rebuild_ext(struct reg_builder *b, const struct reg_msg *m,
			const struct reg_ext *e)
{
	switch (reg_known(m, e->type) ? e->type : 0) {
	case MIP4_EXT_MN_HA_AUTH:
		rebuild_auth(b, e->type, &m->mnha);
		break;
	case MIP4_EXT_MN_FA_AUTH:
		rebuild_auth(b, e->type, &m->mnfa);
		break;
	case MIP4_EXT_FA_HA_AUTH:
		rebuild_auth(b, e->type, &m->faha);
		break;
	case MIP4_EXT_MN_NAI:
		reg_add_nai(b, m->nai.p, m->nai.len);
		break;
	case MIP4_EXT_UDP_TUN_REQ:
		reg_add_udp_req(b, &m->udp_req);
		break;
	case MIP4_EXT_UDP_TUN_REP:
		reg_add_udp_rep(b, &m->udp_rep);
		break;
	default:
		reg_add_ext(b, e->type, e->body.p, e->body.len);
		break;
	}
}

int reg_build_msg(struct wbuf *w, const struct reg_msg *m, size_t *len)
{
	struct reg_builder b;

	if (m->type == MIP4_REG_REPLY)
		reg_build_reply(&b, w, &m->rp);
	else
		reg_build_request(&b, w, &m->rq);
	for (uint8_t i = 0; i < m->next; i++)
		rebuild_ext(&b, m, &m->ext[i]);
	return reg_build_end(&b, len);
}

/* --- ICMP --- */

uint16_t reg_icmp_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (i < len)
		sum += (uint32_t)b[i] << 8; /* odd length: pad with zero */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Type, code and checksum; the checksum is verified over all len bytes. */
static int icmp_start(struct rbuf *r, const uint8_t *icmp, size_t len,
		      uint8_t type, uint8_t *code)
{
	uint8_t t;
	uint16_t csum;

	rb_init(r, icmp, len);
	if (len < MIP4_ICMP_HDR_LEN)
		return REG_ESHORT;
	rb_u8(r, &t);
	rb_u8(r, code);
	rb_u16(r, &csum);
	if (t != type)
		return REG_ETYPE;
	return reg_icmp_checksum(icmp, len) ? REG_ECHECKSUM : REG_OK;
}

/* Fills the checksum of the ICMP message written from start. */
static int icmp_finish(struct wbuf *w, size_t start, size_t *len)
{
	*len = 0;
	if (wb_ok(w))
		return REG_ENOSPACE;
	*len = w->len - start;
	wb_set_u16(w, start + 2, reg_icmp_checksum(w->data + start, *len));
	return REG_OK;
}

/* --- agent advertisement --- */

static int parse_mobility(struct reg_adv *a, struct rbuf *b)
{
	rb_u16(b, &a->seq);
	rb_u16(b, &a->reg_lifetime);
	rb_u16(b, &a->flags);
	if (b->failed || rb_left(b) % 4)
		return REG_ESYNTAX; /* 2.1.1: Length = 6 + 4 * N */
	if (rb_left(b) / 4 > REG_ADV_MAX_COA)
		return REG_ETOOMANY;
	while (rb_left(b))
		rb_in_addr(b, &a->coa[a->ncoa++]);
	return REG_OK;
}

static int parse_prefix(struct reg_adv *a, struct rbuf *b)
{
	/* 2.1.2: one prefix length per router address */
	if (rb_left(b) != a->num_addrs)
		return REG_ESYNTAX;
	rb_bytes(b, a->prefix_len, a->num_addrs);
	a->has_prefix = true;
	return REG_OK;
}

/* Whether one of the first n extensions has that type. */
static bool adv_seen(const struct reg_adv *a, uint8_t type, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		if (a->ext[i].type == type)
			return true;
	return false;
}

/* The extension just added to a->ext (type > 0). */
static int adv_ext_body(struct reg_adv *a, uint8_t type, struct rbuf *b)
{
	bool have_ma = adv_seen(a, MIP4_ADV_EXT_MOBILITY, a->next - 1);

	if (type == MIP4_ADV_EXT_MOBILITY) {
		if (have_ma)
			return REG_EORDER;
		return parse_mobility(a, b);
	}
	if (type == MIP4_ADV_EXT_PREFIX_LEN) {
		/* 2.1.2: it follows the Mobility Agent Advertisement */
		if (!have_ma || a->has_prefix)
			return REG_EORDER;
		return parse_prefix(a, b);
	}
	a->unknown_skipped = true;
	return REG_OK;
}

static int adv_ext(struct reg_adv *a, struct rbuf *r)
{
	size_t off = r->pos;
	uint8_t type, len;
	struct rbuf body;
	int rc;

	rb_u8(r, &type);
	if (type == MIP4_ADV_EXT_PAD) /* 2.1.3: a lone byte */
		return add_ext(a->ext, &a->next, REG_ADV_MAX_EXT, type, off,
			       NULL);
	if (type != MIP4_ADV_EXT_MOBILITY && type != MIP4_ADV_EXT_PREFIX_LEN &&
	    !MIP4_EXT_SKIPPABLE(type))
		return REG_EUNKNOWN; /* 1.9, applied to ICMP extensions too */
	if (rb_u8(r, &len) || rb_sub(r, &body, len))
		return REG_ESYNTAX;
	rc = add_ext(a->ext, &a->next, REG_ADV_MAX_EXT, type, off, &body);
	return rc ? rc : adv_ext_body(a, type, &body);
}

static int adv_routers(struct reg_adv *a, struct rbuf *r)
{
	uint8_t entry;

	rb_u8(r, &a->num_addrs);
	rb_u8(r, &entry);
	rb_u16(r, &a->lifetime);
	if (entry != MIP4_ADV_ENTRY_WORDS)
		return REG_ESYNTAX;
	if (a->num_addrs > REG_ADV_MAX_ROUTERS)
		return REG_ETOOMANY;
	for (uint8_t i = 0; i < a->num_addrs; i++) {
		rb_in_addr(r, &a->router[i].addr);
		rb_u32(r, &a->router[i].pref);
	}
	return r->failed ? REG_ESHORT : REG_OK;
}

int reg_adv_parse(struct reg_adv *a, const uint8_t *icmp, size_t len)
{
	struct rbuf r;
	int rc;

	memset(a, 0, sizeof(*a));
	rc = icmp_start(&r, icmp, len, MIP4_ICMP_ROUTER_ADV, &a->code);
	if (rc)
		return rc;
	if (a->code != MIP4_ADV_CODE_ROUTER &&
	    a->code != MIP4_ADV_CODE_NO_ROUTE)
		return REG_ETYPE; /* RFC 5944 2.1: 0 or 16 */
	rc = adv_routers(a, &r);
	while (rc == REG_OK && rb_left(&r) > 0)
		rc = adv_ext(a, &r);
	if (rc == REG_OK && !adv_seen(a, MIP4_ADV_EXT_MOBILITY, a->next))
		rc = REG_EMISSING;
	return rc;
}

static void build_mobility(struct wbuf *w, const struct reg_adv *a)
{
	wb_u8(w, MIP4_ADV_EXT_MOBILITY);
	wb_u8(w, (uint8_t)(MIP4_ADV_MOBILITY_MIN + 4 * a->ncoa));
	wb_u16(w, a->seq);
	wb_u16(w, a->reg_lifetime);
	wb_u16(w, a->flags);
	for (uint8_t i = 0; i < a->ncoa; i++)
		wb_in_addr(w, a->coa[i]);
}

static void build_adv_ext(struct wbuf *w, const struct reg_adv *a,
			  const struct reg_ext *e)
{
	switch (e->type) {
	case MIP4_ADV_EXT_PAD:
		wb_u8(w, MIP4_ADV_EXT_PAD);
		break;
	case MIP4_ADV_EXT_MOBILITY:
		build_mobility(w, a);
		break;
	case MIP4_ADV_EXT_PREFIX_LEN:
		wb_u8(w, MIP4_ADV_EXT_PREFIX_LEN);
		wb_u8(w, a->num_addrs);
		wb_bytes(w, a->prefix_len, a->num_addrs);
		break;
	default:
		wb_u8(w, e->type);
		wb_u8(w, (uint8_t)e->body.len);
		wb_bytes(w, e->body.p, e->body.len);
		break;
	}
}

static bool adv_fits(const struct reg_adv *a)
{
	if (a->num_addrs > REG_ADV_MAX_ROUTERS || a->ncoa > REG_ADV_MAX_COA)
		return false;
	for (uint8_t i = 0; i < a->next; i++)
		if (a->ext[i].body.len > 255)
			return false;
	return true;
}

int reg_adv_build(struct wbuf *w, const struct reg_adv *a, size_t *len)
{
	static const struct reg_ext dflt[2] = {
	    {.type = MIP4_ADV_EXT_MOBILITY}, {.type = MIP4_ADV_EXT_PREFIX_LEN}};
	size_t start = w->len;

	*len = 0;
	if (!adv_fits(a))
		return REG_ENOSPACE;
	wb_u8(w, MIP4_ICMP_ROUTER_ADV);
	wb_u8(w, a->code);
	wb_u16(w, 0); /* checksum, filled last */
	wb_u8(w, a->num_addrs);
	wb_u8(w, MIP4_ADV_ENTRY_WORDS);
	wb_u16(w, a->lifetime);
	for (uint8_t i = 0; i < a->num_addrs; i++) {
		wb_in_addr(w, a->router[i].addr);
		wb_u32(w, a->router[i].pref);
	}
	if (a->next)
		for (uint8_t i = 0; i < a->next; i++)
			build_adv_ext(w, a, &a->ext[i]);
	else
		for (int i = 0; i < (a->has_prefix ? 2 : 1); i++)
			build_adv_ext(w, a, &dflt[i]);
	return icmp_finish(w, start, len);
}

/* --- agent solicitation --- */

int reg_sol_parse(struct reg_sol *s, const uint8_t *icmp, size_t len)
{
	struct rbuf r;
	uint8_t code;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = icmp_start(&r, icmp, len, MIP4_ICMP_ROUTER_SOL, &code);
	if (rc)
		return rc;
	if (code != 0)
		return REG_ETYPE; /* RFC 1256 6.1.1 */
	rb_u32(&r, &s->reserved);
	s->extra.len = rb_left(&r);
	rb_ptr(&r, &s->extra.p, s->extra.len);
	return REG_OK;
}

int reg_sol_build(struct wbuf *w, const struct reg_sol *s, size_t *len)
{
	size_t start = w->len;

	wb_u8(w, MIP4_ICMP_ROUTER_SOL);
	wb_u8(w, 0);
	wb_u16(w, 0);
	wb_u32(w, s->reserved);
	if (s->extra.len)
		wb_bytes(w, s->extra.p, s->extra.len);
	return icmp_finish(w, start, len);
}

/* --- names --- */

const char *reg_err_name(int err)
{
	static const char *const names[] = {
	    [REG_OK] = "ok",
	    [REG_ESHORT] = "message too short",
	    [REG_ETYPE] = "wrong message type or code",
	    [REG_ESYNTAX] = "malformed extension or field",
	    [REG_EUNKNOWN] = "unknown non-skippable extension",
	    [REG_EORDER] = "extension repeated or out of order",
	    [REG_ETOOMANY] = "too many items",
	    [REG_ECHECKSUM] = "bad ICMP checksum",
	    [REG_EMISSING] = "no mobility agent advertisement extension",
	    [REG_ENOSPACE] = "no space",
	};

	if (err < 0 || (size_t)err >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[err];
}

/* RFC 5944 1.9, 3.7.1, 3.8.2: too short to read, not ours, a bad ICMP
 * checksum or an unknown 0-127 extension: silently discarded.  The rest
 * are poorly formed messages an agent answers (134 at the HA, 70 at FA). */
bool reg_err_discard(int err)
{
	return err == REG_ESHORT || err == REG_ETYPE || err == REG_EUNKNOWN ||
	       err == REG_ECHECKSUM || err == REG_EMISSING;
}

struct code_name {
	uint8_t code;
	const char *name;
};

static const struct code_name reply_codes[] = {
    {0, "accepted"},
    {1, "accepted, simultaneous bindings unsupported"},
    {64, "FA: reason unspecified"},
    {65, "FA: administratively prohibited"},
    {66, "FA: insufficient resources"},
    {67, "FA: mobile node failed authentication"},
    {68, "FA: home agent failed authentication"},
    {69, "FA: requested lifetime too long"},
    {70, "FA: poorly formed request"},
    {71, "FA: poorly formed reply"},
    {72, "FA: requested encapsulation unavailable"},
    {73, "FA: reserved and unavailable"},
    {74, "FA: requested reverse tunnel unavailable"},
    {75, "FA: reverse tunnel is mandatory and T bit not set"},
    {76, "FA: mobile node too distant"},
    {77, "FA: invalid care-of address"},
    {78, "FA: registration timeout"},
    {79, "FA: delivery style not supported"},
    {80, "FA: home network unreachable"},
    {81, "FA: home agent host unreachable"},
    {82, "FA: home agent port unreachable"},
    {88, "FA: home agent unreachable"},
    {96, "FA: non-zero home address required"},
    {97, "FA: missing NAI"},
    {98, "FA: missing home agent"},
    {99, "FA: missing home address"},
    {128, "HA: reason unspecified"},
    {129, "HA: administratively prohibited"},
    {130, "HA: insufficient resources"},
    {131, "HA: mobile node failed authentication"},
    {132, "HA: foreign agent failed authentication"},
    {133, "HA: registration identification mismatch"},
    {134, "HA: poorly formed request"},
    {135, "HA: too many simultaneous mobility bindings"},
    {136, "HA: unknown home agent address"},
    {137, "HA: requested reverse tunnel unavailable"},
    {138, "HA: reverse tunnel is mandatory and T bit not set"},
    {139, "HA: requested encapsulation unavailable"},
    {142, "HA: UDP encapsulation unavailable"},
    {194, "FA: invalid home agent address"},
};

const char *reg_code_name(uint8_t code)
{
	for (size_t i = 0; i < sizeof(reply_codes) / sizeof(reply_codes[0]);
	     i++)
		if (reply_codes[i].code == code)
			return reply_codes[i].name;
	return code < 64 ? "accepted (unknown code)" : "denied (unknown code)";
}

const char *reg_ext_name(uint8_t type)
{
	switch (type) {
	case MIP4_EXT_MN_HA_AUTH:
		return "MN-HA auth";
	case MIP4_EXT_MN_FA_AUTH:
		return "MN-FA auth";
	case MIP4_EXT_FA_HA_AUTH:
		return "FA-HA auth";
	case MIP4_EXT_GEN_AUTH:
		return "generalized auth";
	case MIP4_EXT_UDP_TUN_REP:
		return "UDP tunnel reply";
	case MIP4_EXT_MN_NAI:
		return "MN-NAI";
	case MIP4_EXT_ENCAP_DELIVERY:
		return "encapsulating delivery style";
	case MIP4_EXT_UDP_TUN_REQ:
		return "UDP tunnel request";
	default:
		return MIP4_EXT_SKIPPABLE(type) ? "skippable" : "unknown";
	}
}

const char *reg_flags_str(uint8_t flags, char buf[9])
{
	static const char letters[] = "SBDMGrTx";

	for (int i = 0; i < 8; i++)
		buf[i] = flags & (0x80 >> i) ? letters[i] : '-';
	buf[8] = '\0';
	return buf;
}
