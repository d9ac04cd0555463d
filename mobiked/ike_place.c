/*
 * ike_place.c - which payloads each exchange may carry, how many, and
 * whether inside SK; checked once after parsing and before any exchange
 * logic (the strongSwan idea: a table, not checks scattered over tasks).
 *
 * Everything after IKE_SA_INIT is protected (RFC 7296 1.2, 3.14): its outer
 * chain is a single SK (or, RFC 7383, SKF) and the table applies to the
 * decrypted inner chain.
 */
#include "mobiked/ike_msg.h"

#define ANY 0xff /* no upper bound */

struct rule {
	uint8_t type, min, max;
};

struct place {
	uint8_t exchange;
	bool response;
	bool encrypted;
	const struct rule *rules; /* ends with type IKE_PL_NONE */
};

/* One rule per line reads as a table: */
/* clang-format off */

/* 1.2  HDR, SAi1, KEi, Ni, [N+], [V+]  (N(COOKIE) first on a retry, 2.6) */
static const struct rule sa_init_req[] = {
	{IKE_PL_SA,       1,   1},
	{IKE_PL_KE,       1,   1},
	{IKE_PL_NONCE,    1,   1},
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* 1.2  HDR, SAr1, KEr, Nr, [CERTREQ], [N+], [V+] */
static const struct rule sa_init_resp[] = {
	{IKE_PL_SA,       1,   1},
	{IKE_PL_KE,       1,   1},
	{IKE_PL_NONCE,    1,   1},
	{IKE_PL_CERTREQ,  0, ANY},
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* 1.2  HDR, SK {IDi, [CERT,] [CERTREQ,] [IDr,] AUTH, SAi2, TSi, TSr}
 * 2.19 adds [CP(CFG_REQUEST)]; N and V may appear anywhere.  PSK only:
 * AUTH is mandatory (no EAP rounds). */
static const struct rule auth_req[] = {
	{IKE_PL_IDI,      1,   1},
	{IKE_PL_CERT,     0, ANY},
	{IKE_PL_CERTREQ,  0, ANY},
	{IKE_PL_IDR,      0,   1},
	{IKE_PL_AUTH,     1,   1},
	{IKE_PL_SA,       1,   1},
	{IKE_PL_TSI,      1,   1},
	{IKE_PL_TSR,      1,   1},
	{IKE_PL_CP,       0,   1},
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* 1.2  HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}, 2.19 [CP(CFG_REPLY)].
 * 1.2 also allows IDr, AUTH, N(error) when only the CHILD SA failed: the
 * error-notify exemption below covers it. */
static const struct rule auth_resp[] = {
	{IKE_PL_IDR,      1,   1},
	{IKE_PL_CERT,     0, ANY},
	{IKE_PL_AUTH,     1,   1},
	{IKE_PL_SA,       1,   1},
	{IKE_PL_TSI,      1,   1},
	{IKE_PL_TSR,      1,   1},
	{IKE_PL_CP,       0,   1},
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* 1.3.1-1.3.3  HDR, SK {[N], SA, Ni, [KEi], [TSi, TSr]}; the response is
 * the same shape with Nr.  Rekeying the IKE SA has no TS. */
static const struct rule child_sa[] = {
	{IKE_PL_SA,       1,   1},
	{IKE_PL_NONCE,    1,   1},
	{IKE_PL_KE,       0,   1},
	{IKE_PL_TSI,      0,   1},
	{IKE_PL_TSR,      0,   1},
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* 1.4  HDR, SK {[N,] [D,] [CP,] ...}; empty is a liveness check (DPD).
 * MOBIKE (RFC 4555 3.5-3.8) only adds notifies. */
static const struct rule informational[] = {
	{IKE_PL_NOTIFY,   0, ANY},
	{IKE_PL_DELETE,   0, ANY},
	{IKE_PL_CP,       0,   1},
	{IKE_PL_VENDOR,   0, ANY},
	{IKE_PL_NONE,     0,   0},
};

/* clang-format on */

static const struct place places[] = {
    {IKE_SA_INIT, false, false, sa_init_req},
    {IKE_SA_INIT, true, false, sa_init_resp},
    {IKE_AUTH, false, true, auth_req},
    {IKE_AUTH, true, true, auth_resp},
    {CREATE_CHILD_SA, false, true, child_sa},
    {CREATE_CHILD_SA, true, true, child_sa},
    {INFORMATIONAL, false, true, informational},
    {INFORMATIONAL, true, true, informational},
};

static const struct place *find_place(uint8_t exchange, bool response)
{
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (places[i].exchange == exchange &&
		    places[i].response == response)
			return &places[i];
	return NULL;
}

static unsigned count(const struct ike_chain *c, uint8_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->n; i++)
		n += c->type[i] == type;
	return n;
}

static int fail(uint8_t *bad, uint8_t type, int err)
{
	if (bad)
		*bad = type;
	return err;
}

static const struct rule *find_rule(const struct rule *r, uint8_t type)
{
	for (; r->type != IKE_PL_NONE; r++)
		if (r->type == type)
			return r;
	return NULL;
}

/* Only notifies and vendor IDs: an error answer (2.21), a COOKIE or
 * INVALID_KE_PAYLOAD request to retry (1.2, 2.6, 2.7), or an empty
 * INFORMATIONAL. */
static bool only_notifies(const struct ike_chain *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->type[i] != IKE_PL_NOTIFY && c->type[i] != IKE_PL_VENDOR)
			return false;
	return true;
}

/* 2.21: a response carrying an error notify may omit what the exchange
 * would otherwise require. */
static bool exempt(const struct ike_msg *m, const struct ike_chain *c,
		   bool response)
{
	return response && (ike_error_notify(m) || only_notifies(c));
}

/* 2.9: TSi and TSr come as a pair. */
static int check_ts_pair(const struct ike_chain *c, uint8_t *bad)
{
	unsigned i = count(c, IKE_PL_TSI), r = count(c, IKE_PL_TSR);

	if (i && !r)
		return fail(bad, IKE_PL_TSR, IKE_EMISSING);
	if (r && !i)
		return fail(bad, IKE_PL_TSI, IKE_EMISSING);
	return IKE_OK;
}

static int check_rules(const struct rule *rules, const struct ike_chain *c,
		       bool exempted, uint8_t *bad)
{
	const struct rule *r;

	for (unsigned i = 0; i < c->n; i++) {
		r = find_rule(rules, c->type[i]);
		if (!r || (r->max != ANY && count(c, r->type) > r->max))
			return fail(bad, c->type[i], IKE_EPLACEMENT);
	}
	if (exempted)
		return IKE_OK;
	for (r = rules; r->type != IKE_PL_NONE; r++)
		if (count(c, r->type) < r->min)
			return fail(bad, r->type, IKE_EMISSING);
	return check_ts_pair(c, bad);
}

/* 3.14: SK (or SKF) alone; an unprotected payload in a protected exchange
 * is never acted on (2.21.2: unauthenticated notifies are ignored). */
static int check_encrypted_outer(const struct ike_chain *c, uint8_t *bad)
{
	for (unsigned i = 0; i < c->n; i++)
		if (c->type[i] != IKE_PL_SK && c->type[i] != IKE_PL_SKF)
			return fail(bad, c->type[i], IKE_EENCRYPT);
	if (c->n != 1)
		return fail(bad, IKE_PL_SK,
			    c->n ? IKE_EPLACEMENT : IKE_EMISSING);
	return IKE_OK;
}

int ike_check_outer(const struct ike_msg *m, bool response, uint8_t *bad)
{
	const struct place *p = find_place(m->hdr.exchange, response);

	if (bad)
		*bad = IKE_PL_NONE;
	if (!p)
		return IKE_EEXCHANGE;
	if (p->encrypted)
		return check_encrypted_outer(&m->outer, bad);
	return check_rules(p->rules, &m->outer, exempt(m, &m->outer, response),
			   bad);
}

int ike_check_placement(const struct ike_msg *m, bool response, uint8_t *bad)
{
	const struct place *p = find_place(m->hdr.exchange, response);
	int rc = ike_check_outer(m, response, bad);

	if (rc || !p->encrypted)
		return rc;
	if (!m->inner_parsed)
		return fail(bad, IKE_PL_SK, IKE_EMISSING);
	return check_rules(p->rules, &m->inner, exempt(m, &m->inner, response),
			   bad);
}
