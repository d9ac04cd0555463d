/*
 * ike_payload.c - each IKEv2 payload body: its layout (RFC 7296 section 3),
 * the parser that checks every length field and rejects trailing bytes, and
 * the builder writing the same struct back, kept side by side so the two
 * cannot drift.  Parsers get a reader over the body (after the generic
 * payload header) and return IKE_OK or an enum ike_err.
 */
#include <string.h>

#include "mobiked/ike_msg.h"

#define PROPOSAL_MORE  2      /* 3.3.1 Last Substruc */
#define TRANSFORM_MORE 3      /* 3.3.2 Last Substruc */
#define CP_ATTR_R      0x8000 /* 3.15.1 reserved bit */

static int done(const struct rbuf *r)
{
	return rb_end(r) ? IKE_ESYNTAX : IKE_OK;
}

static void get_chunk(struct rbuf *r, struct ike_chunk *c)
{
	size_t n = rb_left(r);

	c->len = rb_ptr(r, &c->p, n) ? 0 : n;
}

static void put_chunk(struct ike_builder *b, const struct ike_chunk *c)
{
	wb_bytes(b->w, c->p, c->len);
}

/*
 * 3.3.5 Transform attributes.  Only Key Length (14) is defined; it is TV
 * (AF set).  An unknown attribute is skipped by its own format and
 * recorded, so the proposal selector can decline the transform (3.3.6).
 */
static int parse_attrs(struct rbuf *r, struct ike_transform *t)
{
	uint16_t at, val;

	while (rb_left(r) > 0) {
		rb_u16(r, &at);
		rb_u16(r, &val);
		if (r->failed)
			return IKE_ESYNTAX;
		if ((at & ~IKE_ATTR_AF) == IKE_ATTR_KEY_LENGTH) {
			/* must be TV, non-zero and not repeated */
			if (!(at & IKE_ATTR_AF) || val == 0 || t->key_len)
				return IKE_ESYNTAX;
			t->key_len = val;
			continue;
		}
		t->unknown_attr = true;
		if (!(at & IKE_ATTR_AF) && rb_skip(r, val))
			return IKE_ESYNTAX;
	}
	return IKE_OK;
}

/*
 *  0 (last) or 3 | RESERVED | Transform Length (2)
 *  Transform Type | RESERVED | Transform ID (2)
 *  Transform Attributes ...
 */
static int parse_transform(struct rbuf *r, struct ike_transform *t, bool last)
{
	uint8_t more, res;
	uint16_t len;
	struct rbuf body;

	memset(t, 0, sizeof(*t));
	rb_u8(r, &more);
	rb_u8(r, &res);
	rb_u16(r, &len);
	if (r->failed || len < 8 || rb_sub(r, &body, len - 4u))
		return IKE_ESYNTAX;
	if (more != (last ? 0 : TRANSFORM_MORE))
		return IKE_ESYNTAX;
	rb_u8(&body, &t->type);
	rb_u8(&body, &res);
	rb_u16(&body, &t->id);
	return parse_attrs(&body, t);
}

/* 3.3.1: IKE has no SPI in an initial exchange and 8 bytes when rekeying;
 * AH and ESP have 4.  Unknown protocols are kept for the selector to skip. */
static bool proposal_spi_ok(uint8_t proto, uint8_t size)
{
	switch (proto) {
	case IKE_PROTO_IKE:
		return size == 0 || size == 8;
	case IKE_PROTO_AH:
	case IKE_PROTO_ESP:
		return size == 4;
	default:
		return size <= IKE_SPI_MAX;
	}
}

/*
 *  0 (last) or 2 | RESERVED | Proposal Length (2)
 *  Proposal Num | Protocol ID | SPI Size | Num Transforms
 *  SPI (SPI Size) ...  Transforms ...
 */
static int parse_proposal(struct rbuf *r, struct ike_proposal *p)
{
	uint8_t more, res;
	uint16_t len;
	struct rbuf body;
	int rc;

	memset(p, 0, sizeof(*p));
	rb_u8(r, &more);
	rb_u8(r, &res);
	rb_u16(r, &len);
	if (r->failed || len < 8 || rb_sub(r, &body, len - 4u))
		return IKE_ESYNTAX;
	if (more != (rb_left(r) == 0 ? 0 : PROPOSAL_MORE))
		return IKE_ESYNTAX;
	rb_u8(&body, &p->num);
	rb_u8(&body, &p->protocol);
	rb_u8(&body, &p->spi_size);
	rb_u8(&body, &p->ntrans);
	if (body.failed || !proposal_spi_ok(p->protocol, p->spi_size) ||
	    rb_bytes(&body, p->spi, p->spi_size))
		return IKE_ESYNTAX;
	if (p->ntrans > IKE_MAX_TRANSFORMS)
		return IKE_ETOOMANY;
	for (unsigned i = 0; i < p->ntrans; i++) {
		rc = parse_transform(&body, &p->trans[i], i + 1u == p->ntrans);
		if (rc)
			return rc;
	}
	/* Proposal Length must match the transforms it announced. */
	return done(&body);
}

/* 3.3: one or more proposals, nothing else. */
int ike_parse_sa(struct rbuf *r, struct ike_sa_pl *sa)
{
	int rc;

	sa->nprop = 0;
	if (rb_left(r) == 0)
		return IKE_ESYNTAX;
	while (rb_left(r) > 0) {
		if (sa->nprop == IKE_MAX_PROPOSALS)
			return IKE_ETOOMANY;
		rc = parse_proposal(r, &sa->prop[sa->nprop]);
		if (rc)
			return rc;
		sa->nprop++;
	}
	return done(r);
}

static void build_transform(struct ike_builder *b,
			    const struct ike_transform *t, bool last)
{
	size_t off = b->w->len, len_off;

	wb_u8(b->w, last ? 0 : TRANSFORM_MORE);
	wb_u8(b->w, 0);
	wb_reserve(b->w, 2, &len_off);
	wb_u8(b->w, t->type);
	wb_u8(b->w, 0);
	wb_u16(b->w, t->id);
	if (t->key_len) {
		wb_u16(b->w, IKE_ATTR_AF | IKE_ATTR_KEY_LENGTH);
		wb_u16(b->w, t->key_len);
	}
	wb_set_u16(b->w, len_off, (uint16_t)(b->w->len - off));
}

static void build_proposal(struct ike_builder *b, const struct ike_proposal *p,
			   bool last)
{
	size_t off = b->w->len, len_off;

	if (p->spi_size > IKE_SPI_MAX || p->ntrans > IKE_MAX_TRANSFORMS) {
		b->failed = true;
		return;
	}
	wb_u8(b->w, last ? 0 : PROPOSAL_MORE);
	wb_u8(b->w, 0);
	wb_reserve(b->w, 2, &len_off);
	wb_u8(b->w, p->num);
	wb_u8(b->w, p->protocol);
	wb_u8(b->w, p->spi_size);
	wb_u8(b->w, p->ntrans);
	wb_bytes(b->w, p->spi, p->spi_size);
	for (unsigned i = 0; i < p->ntrans; i++)
		build_transform(b, &p->trans[i], i + 1u == p->ntrans);
	wb_set_u16(b->w, len_off, (uint16_t)(b->w->len - off));
}

void ike_build_sa(struct ike_builder *b, const struct ike_sa_pl *sa)
{
	ike_pl_begin(b, IKE_PL_SA, false);
	if (sa->nprop > IKE_MAX_PROPOSALS)
		b->failed = true;
	for (unsigned i = 0; i < sa->nprop && !b->failed; i++)
		build_proposal(b, &sa->prop[i], i + 1u == sa->nprop);
	ike_pl_end(b);
}

/* 3.4  DH Group Num (2) | RESERVED (2) | Key Exchange Data ... */
int ike_parse_ke(struct rbuf *r, struct ike_ke *ke)
{
	uint16_t res;

	rb_u16(r, &ke->group);
	rb_u16(r, &res);
	get_chunk(r, &ke->data);
	return done(r);
}

void ike_build_ke(struct ike_builder *b, const struct ike_ke *ke)
{
	ike_pl_begin(b, IKE_PL_KE, false);
	wb_u16(b->w, ke->group);
	wb_u16(b->w, 0);
	put_chunk(b, &ke->data);
	ike_pl_end(b);
}

/* 3.9  Nonce Data: "at least 128 bits in size ... at most 2048 bits". */
int ike_parse_nonce(struct rbuf *r, struct ike_chunk *n)
{
	get_chunk(r, n);
	if (n->len < 16 || n->len > 256)
		return IKE_ESYNTAX;
	return done(r);
}

void ike_build_nonce(struct ike_builder *b, const struct ike_chunk *n)
{
	ike_pl_begin(b, IKE_PL_NONCE, false);
	put_chunk(b, n);
	ike_pl_end(b);
}

/* 3.5  ID Type | RESERVED (3) | Identification Data ...
 * Address types have their address's exact length; others are non-empty. */
int ike_parse_id(struct rbuf *r, struct ike_id *id)
{
	uint8_t res[3];

	rb_u8(r, &id->type);
	rb_bytes(r, res, sizeof(res));
	get_chunk(r, &id->data);
	if (r->failed || id->data.len == 0)
		return IKE_ESYNTAX;
	if (id->type == IKE_ID_IPV4_ADDR && id->data.len != 4)
		return IKE_ESYNTAX;
	if (id->type == IKE_ID_IPV6_ADDR && id->data.len != 16)
		return IKE_ESYNTAX;
	return done(r);
}

void ike_build_id(struct ike_builder *b, uint8_t type, const struct ike_id *id)
{
	if (type != IKE_PL_IDI && type != IKE_PL_IDR)
		b->failed = true;
	ike_pl_begin(b, type, false);
	wb_u8(b->w, id->type);
	wb_zero(b->w, 3);
	put_chunk(b, &id->data);
	ike_pl_end(b);
}

/* 3.8  Auth Method | RESERVED (3) | Authentication Data ... */
int ike_parse_auth(struct rbuf *r, struct ike_auth *a)
{
	uint8_t res[3];

	rb_u8(r, &a->method);
	rb_bytes(r, res, sizeof(res));
	get_chunk(r, &a->data);
	if (r->failed || a->data.len == 0)
		return IKE_ESYNTAX;
	return done(r);
}

void ike_build_auth(struct ike_builder *b, const struct ike_auth *a)
{
	ike_pl_begin(b, IKE_PL_AUTH, false);
	wb_u8(b->w, a->method);
	wb_zero(b->w, 3);
	put_chunk(b, &a->data);
	ike_pl_end(b);
}

/* 3.10  Protocol ID | SPI Size | Notify Message Type (2) | SPI | Data ...
 * The SPI is absent (0), a CHILD SA's (4) or an IKE SA's (8). */
int ike_parse_notify(struct rbuf *r, struct ike_notify_pl *n)
{
	memset(n->spi, 0, sizeof(n->spi));
	rb_u8(r, &n->protocol);
	rb_u8(r, &n->spi_size);
	rb_u16(r, &n->type);
	if (r->failed ||
	    (n->spi_size != 0 && n->spi_size != 4 && n->spi_size != 8))
		return IKE_ESYNTAX;
	rb_bytes(r, n->spi, n->spi_size);
	get_chunk(r, &n->data);
	return done(r);
}

void ike_build_notify(struct ike_builder *b, const struct ike_notify_pl *n)
{
	if (n->spi_size > IKE_SPI_MAX)
		b->failed = true;
	ike_pl_begin(b, IKE_PL_NOTIFY, false);
	wb_u8(b->w, n->protocol);
	wb_u8(b->w, n->spi_size);
	wb_u16(b->w, n->type);
	wb_bytes(b->w, n->spi, n->spi_size);
	put_chunk(b, &n->data);
	ike_pl_end(b);
}

void ike_build_notify_data(struct ike_builder *b, uint16_t type,
			   const void *data, size_t len)
{
	struct ike_notify_pl n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = len;
	ike_build_notify(b, &n);
}

/* 3.11  Protocol ID | SPI Size | Num of SPIs (2) | SPIs ...
 * IKE: SPI size 0 (the SA is the message's); AH/ESP: 4; SPIs fill the rest
 * exactly. */
int ike_parse_delete(struct rbuf *r, struct ike_delete *d)
{
	rb_u8(r, &d->protocol);
	rb_u8(r, &d->spi_size);
	rb_u16(r, &d->nspi);
	if (r->failed)
		return IKE_ESYNTAX;
	if (d->protocol == IKE_PROTO_IKE ? d->spi_size != 0
	    : d->protocol == IKE_PROTO_AH || d->protocol == IKE_PROTO_ESP
		? d->spi_size != 4
		: true)
		return IKE_ESYNTAX;
	if ((size_t)d->nspi * d->spi_size != rb_left(r))
		return IKE_ESYNTAX;
	get_chunk(r, &d->spis);
	return done(r);
}

void ike_build_delete(struct ike_builder *b, const struct ike_delete *d)
{
	if (d->spis.len != (size_t)d->nspi * d->spi_size)
		b->failed = true;
	ike_pl_begin(b, IKE_PL_DELETE, false);
	wb_u8(b->w, d->protocol);
	wb_u8(b->w, d->spi_size);
	wb_u16(b->w, d->nspi);
	put_chunk(b, &d->spis);
	ike_pl_end(b);
}

/* 3.12  Vendor ID: opaque. */
void ike_build_vendor(struct ike_builder *b, const struct ike_chunk *v)
{
	ike_pl_begin(b, IKE_PL_VENDOR, false);
	put_chunk(b, v);
	ike_pl_end(b);
}

/* 3.6 / 3.7  Cert Encoding | Certificate Data or Certification Authority */
int ike_parse_cert(struct rbuf *r, struct ike_cert *c)
{
	rb_u8(r, &c->encoding);
	get_chunk(r, &c->data);
	return done(r);
}

void ike_build_cert(struct ike_builder *b, uint8_t type,
		    const struct ike_cert *c)
{
	if (type != IKE_PL_CERT && type != IKE_PL_CERTREQ)
		b->failed = true;
	ike_pl_begin(b, type, false);
	wb_u8(b->w, c->encoding);
	put_chunk(b, &c->data);
	ike_pl_end(b);
}

/*
 * 3.13.1 Traffic selector:
 *  TS Type | IP Protocol ID | Selector Length (2)
 *  Start Port (2) | End Port (2) | Starting Address | Ending Address
 * Selector Length is 16 for IPv4 ranges and 40 for IPv6 ranges.
 */
static int ts_addr_len(uint8_t type)
{
	switch (type) {
	case IKE_TS_IPV4_ADDR_RANGE:
		return 4;
	case IKE_TS_IPV6_ADDR_RANGE:
		return 16;
	default:
		return 0;
	}
}

static void get_addr(struct rbuf *r, struct ipaddr *a, int alen)
{
	memset(a, 0, sizeof(*a));
	a->family = alen == 4 ? AF_INET : AF_INET6;
	rb_bytes(r, a->b, (size_t)alen);
}

static int parse_selector(struct rbuf *r, struct ike_ts *ts)
{
	uint16_t len;
	int alen;

	rb_u8(r, &ts->type);
	rb_u8(r, &ts->proto);
	rb_u16(r, &len);
	alen = ts_addr_len(ts->type);
	/* unknown TS types cannot be narrowed or represented: reject */
	if (r->failed || alen == 0 || len != 8 + 2 * alen)
		return IKE_ESYNTAX;
	rb_u16(r, &ts->start_port);
	rb_u16(r, &ts->end_port);
	get_addr(r, &ts->start, alen);
	get_addr(r, &ts->end, alen);
	return r->failed ? IKE_ESYNTAX : IKE_OK;
}

/* 3.13  Number of TSs | RESERVED (3) | Traffic Selectors ... */
int ike_parse_ts(struct rbuf *r, struct ike_ts_set *ts)
{
	uint8_t n, res[3];
	int rc;

	ts->n = 0;
	rb_u8(r, &n);
	rb_bytes(r, res, sizeof(res));
	if (r->failed || n == 0)
		return IKE_ESYNTAX;
	if (n > IKE_MAX_TS)
		return IKE_ETOOMANY;
	for (; ts->n < n; ts->n++) {
		rc = parse_selector(r, &ts->ts[ts->n]);
		if (rc)
			return rc;
	}
	return done(r);
}

static void build_selector(struct ike_builder *b, const struct ike_ts *ts)
{
	int alen = ts_addr_len(ts->type);

	if (alen == 0 || (int)ipaddr_len(&ts->start) != alen ||
	    (int)ipaddr_len(&ts->end) != alen) {
		b->failed = true;
		return;
	}
	wb_u8(b->w, ts->type);
	wb_u8(b->w, ts->proto);
	wb_u16(b->w, (uint16_t)(8 + 2 * alen));
	wb_u16(b->w, ts->start_port);
	wb_u16(b->w, ts->end_port);
	wb_bytes(b->w, ts->start.b, (size_t)alen);
	wb_bytes(b->w, ts->end.b, (size_t)alen);
}

void ike_build_ts(struct ike_builder *b, uint8_t type,
		  const struct ike_ts_set *ts)
{
	if ((type != IKE_PL_TSI && type != IKE_PL_TSR) || ts->n == 0 ||
	    ts->n > IKE_MAX_TS)
		b->failed = true;
	ike_pl_begin(b, type, false);
	wb_u8(b->w, ts->n);
	wb_zero(b->w, 3);
	for (unsigned i = 0; i < ts->n && !b->failed; i++)
		build_selector(b, &ts->ts[i]);
	ike_pl_end(b);
}

/*
 * 3.15.1 Value lengths of the attributes we use: either empty (a request
 * for any value) or exactly this long.  -1: any length.
 */
static int cp_value_len(uint16_t type)
{
	switch (type) {
	case IKE_CA_INTERNAL_IP4_ADDRESS:
	case IKE_CA_INTERNAL_IP4_NETMASK:
	case IKE_CA_INTERNAL_IP4_DNS:
	case IKE_CA_INTERNAL_IP4_NBNS:
	case IKE_CA_INTERNAL_IP4_DHCP:
		return 4;
	case IKE_CA_INTERNAL_IP6_ADDRESS:
	case IKE_CA_INTERNAL_IP6_SUBNET:
		return 17; /* address + prefix length */
	case IKE_CA_INTERNAL_IP6_DNS:
		return 16;
	case IKE_CA_INTERNAL_IP4_SUBNET:
		return 8; /* address + netmask */
	default:
		return -1;
	}
}

/*  R | Attribute Type (15 bits) | Length (2) | Value ... */
static int parse_cp_attr(struct rbuf *r, struct ike_cp_attr *a)
{
	uint16_t type, len;
	int want;

	rb_u16(r, &type);
	rb_u16(r, &len);
	if (r->failed || (type & CP_ATTR_R) || rb_ptr(r, &a->value.p, len))
		return IKE_ESYNTAX;
	a->type = type;
	a->value.len = len;
	want = cp_value_len(type);
	if (want >= 0 && len != 0 && len != want)
		return IKE_ESYNTAX;
	/* 3.15.1: SUPPORTED_ATTRIBUTES is a list of 2-byte types */
	if (type == IKE_CA_SUPPORTED_ATTRIBUTES && len % 2)
		return IKE_ESYNTAX;
	return IKE_OK;
}

/* 3.15  CFG Type | RESERVED (3) | Configuration Attributes ... */
int ike_parse_cp(struct rbuf *r, struct ike_cp *cp)
{
	uint8_t res[3];
	int rc;

	cp->nattr = 0;
	rb_u8(r, &cp->type);
	rb_bytes(r, res, sizeof(res));
	if (r->failed)
		return IKE_ESYNTAX;
	while (rb_left(r) > 0) {
		if (cp->nattr == IKE_MAX_CP_ATTRS)
			return IKE_ETOOMANY;
		rc = parse_cp_attr(r, &cp->attr[cp->nattr]);
		if (rc)
			return rc;
		cp->nattr++;
	}
	return done(r);
}

void ike_build_cp(struct ike_builder *b, const struct ike_cp *cp)
{
	const struct ike_cp_attr *a;

	if (cp->nattr > IKE_MAX_CP_ATTRS)
		b->failed = true;
	ike_pl_begin(b, IKE_PL_CP, false);
	wb_u8(b->w, cp->type);
	wb_zero(b->w, 3);
	for (unsigned i = 0; i < cp->nattr && !b->failed; i++) {
		a = &cp->attr[i];
		if ((a->type & CP_ATTR_R) || a->value.len > UINT16_MAX)
			b->failed = true;
		wb_u16(b->w, a->type);
		wb_u16(b->w, (uint16_t)a->value.len);
		put_chunk(b, &a->value);
	}
	ike_pl_end(b);
}

/* 3.16: the EAP message is opaque to us; its own Length must fill the
 * payload (RFC 3748 4: Code | Identifier | Length (2) | Data). */
int ike_parse_eap(struct rbuf *r, struct ike_chunk *eap)
{
	struct rbuf hdr;
	uint8_t code, id;
	uint16_t len;

	hdr = *r;
	rb_u8(&hdr, &code);
	rb_u8(&hdr, &id);
	rb_u16(&hdr, &len);
	if (hdr.failed || len != rb_left(r))
		return IKE_ESYNTAX;
	get_chunk(r, eap);
	return done(r);
}

void ike_build_eap(struct ike_builder *b, const struct ike_chunk *eap)
{
	ike_pl_begin(b, IKE_PL_EAP, false);
	put_chunk(b, eap);
	ike_pl_end(b);
}

/* RFC 7383 2.5  Fragment Number (2) | Total Fragments (2) | IV | ... | ICV
 * Numbering starts at 1 and never exceeds the total. */
int ike_parse_skf(struct rbuf *r, struct ike_sk *sk)
{
	rb_u16(r, &sk->frag);
	rb_u16(r, &sk->total);
	if (r->failed || sk->frag == 0 || sk->frag > sk->total)
		return IKE_ESYNTAX;
	get_chunk(r, &sk->body);
	return done(r);
}
