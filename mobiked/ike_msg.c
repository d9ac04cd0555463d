/*
 * ike_msg.c - IKEv2 header and payload chains (RFC 7296 3.1-3.2, 3.14,
 * RFC 7383 2.5), the builder's framing, and names for logs.  The payload
 * bodies live in ike_payload.c, the placement table in ike_place.c.
 */
#include <string.h>

#include "mobiked/ike_msg.h"

#define NO_OFF SIZE_MAX

/*
 * 3.1 IKE header:
 *  IKE SA Initiator's SPI (8) | IKE SA Responder's SPI (8)
 *  Next Payload | MjVer | MnVer | Exchange Type | Flags
 *  Message ID (4) | Length (4)
 * A length that disagrees with the datagram means truncation or garbage:
 * drop silently.  2.5: a higher major version earns INVALID_MAJOR_VERSION.
 */
int ike_parse_hdr(struct ike_hdr *h, const uint8_t *pkt, size_t len)
{
	struct rbuf r;

	memset(h, 0, sizeof(*h));
	if (len < IKE_HDR_LEN)
		return IKE_EMSGLEN;
	rb_init(&r, pkt, len);
	rb_u64(&r, &h->spi_i);
	rb_u64(&r, &h->spi_r);
	rb_u8(&r, &h->next);
	rb_u8(&r, &h->version);
	rb_u8(&r, &h->exchange);
	rb_u8(&r, &h->flags);
	rb_u32(&r, &h->msgid);
	rb_u32(&r, &h->length);
	if (r.failed || h->length != len)
		return IKE_EMSGLEN;
	if (h->version >> 4 != IKE_VERSION >> 4)
		return IKE_EVERSION;
	return IKE_OK;
}

static bool known_payload(uint8_t t)
{
	return (t >= IKE_PL_SA && t <= IKE_PL_EAP) || t == IKE_PL_SKF;
}

/* Single-instance payloads keep the first copy; later ones are still
 * checked for syntax (into scratch) and counted for the placement check. */
static bool first_copy(bool *has)
{
	bool first = !*has;

	*has = true;
	return first;
}

union scratch {
	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct ike_chunk chunk;
	struct ike_id id;
	struct ike_auth auth;
	struct ike_ts_set ts;
	struct ike_cp cp;
};

static int take_rest(struct rbuf *r, struct ike_chunk *v)
{
	size_t n = rb_left(r);

	v->len = n;
	return rb_ptr(r, &v->p, n) ? IKE_ESYNTAX : IKE_OK;
}

static int parse_notify(struct ike_msg *m, struct rbuf *r)
{
	int rc;

	if (m->nnotify == IKE_MAX_NOTIFY)
		return IKE_ETOOMANY;
	rc = ike_parse_notify(r, &m->notify[m->nnotify]);
	m->nnotify += rc == IKE_OK;
	return rc;
}

static int parse_multi(struct ike_msg *m, uint8_t type, struct rbuf *r)
{
	int rc;

	switch (type) {
	case IKE_PL_NOTIFY:
		return parse_notify(m, r);
	case IKE_PL_DELETE:
		if (m->ndelete == IKE_MAX_DELETE)
			return IKE_ETOOMANY;
		rc = ike_parse_delete(r, &m->del[m->ndelete]);
		m->ndelete += rc == IKE_OK;
		return rc;
	case IKE_PL_VENDOR:
		if (m->nvendor == IKE_MAX_VENDOR)
			return IKE_ETOOMANY;
		rc = take_rest(r, &m->vendor[m->nvendor]);
		m->nvendor += rc == IKE_OK;
		return rc;
	case IKE_PL_CERT:
		if (m->ncert == IKE_MAX_CERT)
			return IKE_ETOOMANY;
		rc = ike_parse_cert(r, &m->cert[m->ncert]);
		m->ncert += rc == IKE_OK;
		return rc;
	default: /* IKE_PL_CERTREQ */
		if (m->ncertreq == IKE_MAX_CERT)
			return IKE_ETOOMANY;
		rc = ike_parse_cert(r, &m->certreq[m->ncertreq]);
		m->ncertreq += rc == IKE_OK;
		return rc;
	}
}

/* Every known type but SK/SKF, which parse_chain() handles. */
static int parse_payload(struct ike_msg *m, uint8_t type, struct rbuf *r)
{
	union scratch s;

	switch (type) {
	case IKE_PL_SA:
		return ike_parse_sa(r, first_copy(&m->has_sa) ? &m->sa : &s.sa);
	case IKE_PL_KE:
		return ike_parse_ke(r, first_copy(&m->has_ke) ? &m->ke : &s.ke);
	case IKE_PL_NONCE:
		return ike_parse_nonce(r, first_copy(&m->has_nonce) ? &m->nonce
								    : &s.chunk);
	case IKE_PL_IDI:
		return ike_parse_id(r,
				    first_copy(&m->has_idi) ? &m->idi : &s.id);
	case IKE_PL_IDR:
		return ike_parse_id(r,
				    first_copy(&m->has_idr) ? &m->idr : &s.id);
	case IKE_PL_AUTH:
		return ike_parse_auth(r, first_copy(&m->has_auth) ? &m->auth
								  : &s.auth);
	case IKE_PL_TSI:
		return ike_parse_ts(r,
				    first_copy(&m->has_tsi) ? &m->tsi : &s.ts);
	case IKE_PL_TSR:
		return ike_parse_ts(r,
				    first_copy(&m->has_tsr) ? &m->tsr : &s.ts);
	case IKE_PL_CP:
		return ike_parse_cp(r, first_copy(&m->has_cp) ? &m->cp : &s.cp);
	case IKE_PL_EAP:
		return ike_parse_eap(r, first_copy(&m->has_eap) ? &m->eap
								: &s.chunk);
	default:
		return parse_multi(m, type, r);
	}
}

/* 3.14 / RFC 7383 2.5: the Next Payload field names the first payload
 * inside; the body (IV | ciphertext | ICV) is left to the crypto code. */
static int parse_sk(struct ike_msg *m, uint8_t type, uint8_t next,
		    struct rbuf *body, size_t off)
{
	int rc = IKE_OK;

	memset(&m->sk, 0, sizeof(m->sk));
	if (type == IKE_PL_SKF) {
		m->has_skf = true;
		rc = ike_parse_skf(body, &m->sk);
	} else {
		m->has_sk = true;
		rc = take_rest(body, &m->sk.body);
	}
	m->sk.first = next;
	m->sk.hdr_off = off;
	return rc;
}

static int record(struct ike_chain *c, uint8_t type)
{
	if (c->n == IKE_MAX_PAYLOADS)
		return IKE_ETOOMANY;
	c->type[c->n++] = type;
	return IKE_OK;
}

/*
 * 3.2 Generic payload header:  Next Payload | C | RESERVED | Length (2)
 * Length covers the header, so it is at least 4 and must stay inside the
 * message.  An unknown payload is skipped unless C is set (2.5); the
 * chain ends exactly at the end of the message, or with SK/SKF, which
 * must be last (3.14).
 */
static int parse_chain(struct ike_msg *m, struct rbuf *r, uint8_t next,
		       bool inner)
{
	struct ike_chain *c = inner ? &m->inner : &m->outer;
	uint8_t type, flags;
	uint16_t len;
	struct rbuf body;
	size_t off;
	int rc;

	while (next != IKE_PL_NONE) {
		type = next;
		off = r->pos;
		rb_u8(r, &next);
		rb_u8(r, &flags);
		rb_u16(r, &len);
		if (r->failed || len < IKE_PAYLOAD_HDR_LEN ||
		    rb_sub(r, &body, len - IKE_PAYLOAD_HDR_LEN))
			return IKE_ESYNTAX;
		if (!known_payload(type)) {
			if (flags & IKE_PAYLOAD_CRITICAL) {
				m->critical_type = type;
				return IKE_ECRITICAL;
			}
			m->unknown_skipped = true;
			continue;
		}
		rc = record(c, type);
		if (rc)
			return rc;
		if (type == IKE_PL_SK || type == IKE_PL_SKF) {
			if (inner)
				return IKE_ESYNTAX;
			rc = parse_sk(m, type, next, &body, off);
			/* nothing may follow SK */
			return rc ? rc : rb_end(r) ? IKE_ESYNTAX : IKE_OK;
		}
		rc = parse_payload(m, type, &body);
		if (rc)
			return rc;
	}
	/* the last payload must end where the message ends */
	return rb_end(r) ? IKE_ESYNTAX : IKE_OK;
}

int ike_parse(struct ike_msg *m, const uint8_t *pkt, size_t len)
{
	struct rbuf r;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = ike_parse_hdr(&m->hdr, pkt, len);
	if (rc)
		return rc;
	rb_init(&r, pkt, len);
	rb_skip(&r, IKE_HDR_LEN);
	return parse_chain(m, &r, m->hdr.next, false);
}

int ike_parse_inner(struct ike_msg *m, uint8_t first, const uint8_t *pt,
		    size_t len)
{
	struct rbuf r;
	int rc;

	m->inner.n = 0;
	m->inner_parsed = false;
	rb_init(&r, pt, len);
	rc = parse_chain(m, &r, first, true);
	m->inner_parsed = rc == IKE_OK;
	return rc;
}

const struct ike_notify_pl *ike_find_notify(const struct ike_msg *m,
					    uint16_t type)
{
	for (unsigned i = 0; i < m->nnotify; i++)
		if (m->notify[i].type == type)
			return &m->notify[i];
	return NULL;
}

const struct ike_notify_pl *ike_error_notify(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->nnotify; i++)
		if (m->notify[i].type < IKE_N_STATUS_FIRST)
			return &m->notify[i];
	return NULL;
}

int ike_notify_group(const struct ike_notify_pl *n, uint16_t *group)
{
	struct rbuf r;

	rb_init(&r, n->data.p, n->data.len);
	rb_u16(&r, group);
	if (rb_end(&r) == 0)
		return 0;
	*group = 0;
	return -1;
}

/* --- builder ------------------------------------------------------------ */

void ike_build_begin(struct ike_builder *b, struct wbuf *w,
		     const struct ike_hdr *h)
{
	size_t len_off;

	memset(b, 0, sizeof(*b));
	b->w = w;
	b->outer = true;
	b->start = w->len;
	wb_u64(w, h->spi_i);
	wb_u64(w, h->spi_r);
	b->next_off = w->len; /* patched by the first payload */
	wb_u8(w, IKE_PL_NONE);
	wb_u8(w, h->version);
	wb_u8(w, h->exchange);
	wb_u8(w, h->flags);
	wb_u32(w, h->msgid);
	wb_reserve(w, 4, &len_off);
}

void ike_build_inner_begin(struct ike_builder *b, struct wbuf *w)
{
	memset(b, 0, sizeof(*b));
	b->w = w;
	b->start = w->len;
	b->next_off = NO_OFF;
}

int ike_build_end(struct ike_builder *b)
{
	size_t len = b->w->len - b->start;

	if (b->outer && len <= UINT32_MAX)
		wb_set_u32(b->w, b->start + 24, (uint32_t)len);
	return b->failed || wb_ok(b->w) ? IKE_ENOSPACE : IKE_OK;
}

/* Links the previous payload's Next Payload to this one, then writes a
 * generic header whose length ike_pl_end() patches. */
void ike_pl_begin(struct ike_builder *b, uint8_t type, bool critical)
{
	if (b->closed) {
		b->failed = true;
		return;
	}
	if (!b->first)
		b->first = type;
	if (b->next_off != NO_OFF)
		wb_set_u8(b->w, b->next_off, type);
	b->pl_off = b->w->len;
	b->next_off = b->w->len;
	wb_u8(b->w, IKE_PL_NONE);
	wb_u8(b->w, critical ? IKE_PAYLOAD_CRITICAL : 0);
	wb_u16(b->w, 0);
}

void ike_pl_end(struct ike_builder *b)
{
	size_t len = b->w->len - b->pl_off;

	if (b->closed || len > UINT16_MAX) {
		b->failed = true;
		return;
	}
	wb_set_u16(b->w, b->pl_off + 2, (uint16_t)len);
}

void ike_build_raw(struct ike_builder *b, uint8_t type, bool critical,
		   const void *body, size_t len)
{
	ike_pl_begin(b, type, critical);
	wb_bytes(b->w, body, len);
	ike_pl_end(b);
}

/* Zeroed room for the crypto code; the payload closes the chain. */
static void sk_room(struct ike_builder *b, uint8_t first, size_t iv_len,
		    size_t ct_len, size_t icv_len, struct ike_sk_layout *lay)
{
	lay->hdr_off = b->pl_off;
	wb_set_u8(b->w, b->pl_off, first);
	lay->iv_off = b->w->len;
	wb_zero(b->w, iv_len);
	lay->ct_off = b->w->len;
	wb_zero(b->w, ct_len);
	lay->icv_off = b->w->len;
	wb_zero(b->w, icv_len);
	lay->end = b->w->len;
	ike_pl_end(b);
	b->closed = true;
	b->next_off = NO_OFF;
}

void ike_build_sk(struct ike_builder *b, uint8_t first, size_t iv_len,
		  size_t ct_len, size_t icv_len, struct ike_sk_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	if (!b->outer)
		b->failed = true; /* no SK inside SK */
	ike_pl_begin(b, IKE_PL_SK, false);
	if (!b->failed)
		sk_room(b, first, iv_len, ct_len, icv_len, lay);
}

void ike_build_skf(struct ike_builder *b, uint16_t frag, uint16_t total,
		   uint8_t first, size_t iv_len, size_t ct_len, size_t icv_len,
		   struct ike_sk_layout *lay)
{
	memset(lay, 0, sizeof(*lay));
	if (!b->outer || frag == 0 || frag > total)
		b->failed = true;
	ike_pl_begin(b, IKE_PL_SKF, false);
	wb_u16(b->w, frag);
	wb_u16(b->w, total);
	if (!b->failed)
		sk_room(b, frag == 1 ? first : IKE_PL_NONE, iv_len, ct_len,
			icv_len, lay);
}

/* --- names -------------------------------------------------------------- */

struct name {
	unsigned v;
	const char *s;
};

/* clang-format off */
#define N(x) {IKE_N_##x, #x}
static const struct name notify_names[] = {
	N(UNSUPPORTED_CRITICAL_PAYLOAD),
	N(INVALID_IKE_SPI),
	N(INVALID_MAJOR_VERSION),
	N(INVALID_SYNTAX),
	N(INVALID_MESSAGE_ID),
	N(INVALID_SPI),
	N(NO_PROPOSAL_CHOSEN),
	N(INVALID_KE_PAYLOAD),
	N(AUTHENTICATION_FAILED),
	N(SINGLE_PAIR_REQUIRED),
	N(NO_ADDITIONAL_SAS),
	N(INTERNAL_ADDRESS_FAILURE),
	N(FAILED_CP_REQUIRED),
	N(TS_UNACCEPTABLE),
	N(INVALID_SELECTORS),
	N(UNACCEPTABLE_ADDRESSES),
	N(UNEXPECTED_NAT_DETECTED),
	N(TEMPORARY_FAILURE),
	N(CHILD_SA_NOT_FOUND),
	N(INITIAL_CONTACT),
	N(SET_WINDOW_SIZE),
	N(ADDITIONAL_TS_POSSIBLE),
	N(IPCOMP_SUPPORTED),
	N(NAT_DETECTION_SOURCE_IP),
	N(NAT_DETECTION_DESTINATION_IP),
	N(COOKIE),
	N(USE_TRANSPORT_MODE),
	N(REKEY_SA),
	N(ESP_TFC_PADDING_NOT_SUPPORTED),
	N(NON_FIRST_FRAGMENTS_ALSO),
	N(MOBIKE_SUPPORTED),
	N(ADDITIONAL_IP4_ADDRESS),
	N(ADDITIONAL_IP6_ADDRESS),
	N(NO_ADDITIONAL_ADDRESSES),
	N(UPDATE_SA_ADDRESSES),
	N(COOKIE2),
	N(NO_NATS_ALLOWED),
	N(MULTIPLE_AUTH_SUPPORTED),
	N(REDIRECT_SUPPORTED),
	N(IKEV2_FRAGMENTATION_SUPPORTED),
	N(SIGNATURE_HASH_ALGORITHMS),
};
#undef N

static const struct name payload_names[] = {
	{IKE_PL_NONE,     "NONE"},
	{IKE_PL_SA,       "SA"},
	{IKE_PL_KE,       "KE"},
	{IKE_PL_IDI,      "IDi"},
	{IKE_PL_IDR,      "IDr"},
	{IKE_PL_CERT,     "CERT"},
	{IKE_PL_CERTREQ,  "CERTREQ"},
	{IKE_PL_AUTH,     "AUTH"},
	{IKE_PL_NONCE,    "No"},
	{IKE_PL_NOTIFY,   "N"},
	{IKE_PL_DELETE,   "D"},
	{IKE_PL_VENDOR,   "V"},
	{IKE_PL_TSI,      "TSi"},
	{IKE_PL_TSR,      "TSr"},
	{IKE_PL_SK,       "SK"},
	{IKE_PL_CP,       "CP"},
	{IKE_PL_EAP,      "EAP"},
	{IKE_PL_SKF,      "SKF"},
};
/* clang-format on */

static const struct name exchange_names[] = {
    {IKE_SA_INIT, "IKE_SA_INIT"},
    {IKE_AUTH, "IKE_AUTH"},
    {CREATE_CHILD_SA, "CREATE_CHILD_SA"},
    {INFORMATIONAL, "INFORMATIONAL"},
};

static const char *lookup(const struct name *t, size_t n, unsigned v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].s;
	return "UNKNOWN";
}

#define LOOKUP(t, v) lookup(t, sizeof(t) / sizeof(t[0]), v)

const char *ike_exchange_name(unsigned x)
{
	return LOOKUP(exchange_names, x);
}

const char *ike_payload_name(unsigned t)
{
	return LOOKUP(payload_names, t);
}

const char *ike_notify_name(unsigned t)
{
	return LOOKUP(notify_names, t);
}

const char *ike_err_name(int err)
{
	static const char *const names[] = {
	    [IKE_OK] = "ok",
	    [IKE_EMSGLEN] = "bad message length",
	    [IKE_EVERSION] = "unsupported major version",
	    [IKE_ESYNTAX] = "malformed payload",
	    [IKE_ECRITICAL] = "unsupported critical payload",
	    [IKE_ETOOMANY] = "too many payloads or items",
	    [IKE_EEXCHANGE] = "unknown exchange type",
	    [IKE_EPLACEMENT] = "payload not allowed here",
	    [IKE_EMISSING] = "mandatory payload missing",
	    [IKE_EENCRYPT] = "payload must be encrypted",
	    [IKE_ENOSPACE] = "message does not fit",
	};

	if (err < 0 || (size_t)err >= sizeof(names) / sizeof(names[0]))
		return "unknown error";
	return names[err];
}

/* 2.5: INVALID_MAJOR_VERSION only for a higher major (IKEv1 is dropped);
 * 2.21: INVALID_SYNTAX for a request we cannot make sense of. */
uint16_t ike_err_notify(int err, const struct ike_hdr *h)
{
	switch (err) {
	case IKE_EVERSION:
		return h && h->version >> 4 > IKE_VERSION >> 4
			   ? IKE_N_INVALID_MAJOR_VERSION
			   : 0;
	case IKE_ECRITICAL:
		return IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
	case IKE_ESYNTAX:
	case IKE_ETOOMANY:
	case IKE_EPLACEMENT:
	case IKE_EMISSING:
	case IKE_EENCRYPT:
		return IKE_N_INVALID_SYNTAX;
	default:
		return 0;
	}
}
