/*
 * task_child.c - the CHILD_SA created with IKE_AUTH (RFC 7296 1.2, 2.9,
 * 2.17): ESP proposal with our SPI, traffic selectors, and on the
 * response the chosen proposal, the (possibly narrowed) selectors, the
 * keys, and installation into the data plane.  Tunnel mode only, so
 * USE_TRANSPORT_MODE is never sent (and refused if the gateway says it).
 */
#define LOG_TAG "ike"

#include <string.h>

#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

static void ts_all(struct ike_ts *t, int family)
{
	memset(t, 0, sizeof(*t));
	t->type = family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE
				    : IKE_TS_IPV6_ADDR_RANGE;
	t->start.family = t->end.family = family;
	memset(t->end.b, 0xff, family == AF_INET ? 4 : 16);
	t->end_port = 0xffff;
}

static void ts_from_conf(struct ike_ts *t, const struct ts_conf *c)
{
	memset(t, 0, sizeof(*t));
	t->type = c->start.family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE
					     : IKE_TS_IPV6_ADDR_RANGE;
	t->proto = c->proto;
	t->start = c->start;
	t->end = c->end;
	t->start_port = c->port_lo;
	t->end_port = c->port_hi;
}

static bool want_family(const struct mobiked_conf *c, int family)
{
	for (size_t i = 0; i < c->n_vip; i++)
		if (c->vip[i].family == family)
			return true;
	return c->n_vip == 0 && family == AF_INET;
}

/* TSi: dynamic = every address of the families we ask an inner address
 * for (the gateway narrows to the address it assigns, 2.9); TSr: the
 * configured remote networks, or everything. */
static void offered_ts(const struct mobiked_conf *c, struct ike_ts_set *tsi,
		       struct ike_ts_set *tsr)
{
	memset(tsi, 0, sizeof(*tsi));
	memset(tsr, 0, sizeof(*tsr));
	if (c->local_ts_dynamic || !c->n_local_ts) {
		if (want_family(c, AF_INET))
			ts_all(&tsi->ts[tsi->n++], AF_INET);
		if (want_family(c, AF_INET6))
			ts_all(&tsi->ts[tsi->n++], AF_INET6);
	} else {
		for (size_t i = 0; i < c->n_local_ts && i < IKE_MAX_TS; i++)
			ts_from_conf(&tsi->ts[tsi->n++], &c->local_ts[i]);
	}
	for (size_t i = 0; i < c->n_remote_ts && i < IKE_MAX_TS; i++)
		ts_from_conf(&tsr->ts[tsr->n++], &c->remote_ts[i]);
	if (!tsr->n)
		for (unsigned i = 0; i < tsi->n; i++)
			ts_all(&tsr->ts[tsr->n++],
			       tsi->ts[i].start.family);
}

static int child_build(struct ike_engine *e, struct ike_builder *b)
{
	struct ike_child *ch = &e->sa.child;
	struct ike_ts_set tsi, tsr;
	struct ike_sa_pl sapl;

	/* 3.3.1: SPIs below 256 are reserved. */
	while (ch->spi_in < 256)
		if (RAND_bytes((uint8_t *)&ch->spi_in, 4) != 1)
			return -1;
	proposal_esp_build(e->conf, ch->spi_in, &sapl);
	offered_ts(e->conf, &tsi, &tsr);
	ike_build_sa(b, &sapl);
	ike_build_ts(b, IKE_PL_TSI, &tsi);
	ike_build_ts(b, IKE_PL_TSR, &tsr);
	return b->failed ? -1 : 0;
}

static int addr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	return memcmp(a->b, b->b, a->family == AF_INET ? 4 : 16);
}

static bool ts_within(const struct ike_ts *r, const struct ike_ts *o)
{
	return r->type == o->type && addr_cmp(&r->start, &o->start) >= 0 &&
	       addr_cmp(&r->end, &o->end) <= 0 &&
	       addr_cmp(&r->start, &r->end) <= 0 &&
	       (o->proto == 0 || r->proto == o->proto) &&
	       r->start_port >= o->start_port && r->end_port <= o->end_port;
}

/* 2.9: the responder may narrow, never widen: every selector it returns
 * must lie inside one we offered. */
static bool ts_subset(const struct ike_ts_set *got,
		      const struct ike_ts_set *offered)
{
	bool in;

	if (!got->n)
		return false;
	for (unsigned i = 0; i < got->n; i++) {
		in = false;
		for (unsigned j = 0; j < offered->n && !in; j++)
			in = ts_within(&got->ts[i], &offered->ts[j]);
		if (!in)
			return false;
	}
	return true;
}

static int fail(struct ike_engine *e, const char *why)
{
	log_err("CHILD_SA: %s", why);
	snprintf(e->last_error, sizeof(e->last_error), "CHILD_SA: %s", why);
	return TASK_FAILED;
}

static void dp_ts_set(struct dp_ts *out, unsigned *n,
		      const struct ike_ts_set *in)
{
	*n = 0;
	for (unsigned i = 0; i < in->n && i < DP_MAX_TS; i++) {
		out[i].start = in->ts[i].start;
		out[i].end = in->ts[i].end;
		out[i].proto = in->ts[i].proto;
		out[i].port_lo = in->ts[i].start_port;
		out[i].port_hi = in->ts[i].end_port;
		(*n)++;
	}
}

/* 2.17: KEYMAT from SK_d and the IKE_AUTH nonces (no PFS here); the
 * initiator-to-responder keys come first and are our outbound keys. */
static int install(struct ike_engine *e)
{
	struct ike_sa *sa = &e->sa;
	struct ike_child *ch = &sa->child;
	struct child_keys k;
	struct dp_child dc;
	int rc;

	if (child_keys_derive(sa->suite.prf, sa->keys.sk_d, sa->keys.d_len,
			      ch->encr, ch->integ, NULL, 0, sa->ni, sa->ni_len,
			      sa->nr, sa->nr_len, &k))
		return fail(e, "key derivation failed");
	memset(&dc, 0, sizeof(dc));
	dc.spi_in = ch->spi_in;
	dc.spi_out = ch->spi_out;
	dc.encr = ch->encr;
	dc.integ = ch->integ;
	dc.esn = ch->esn;
	dc.replay_window = 64;
	dc.out = (struct dp_sa_keys){k.ei, k.e_len, ch->integ ? k.ai : NULL,
				     ch->integ ? k.a_len : 0};
	dc.in = (struct dp_sa_keys){k.er, k.e_len, ch->integ ? k.ar : NULL,
				    ch->integ ? k.a_len : 0};
	dc.local = sa->local;
	dc.remote = sa->remote;
	dp_ts_set(dc.local_ts, &dc.n_local_ts, &ch->tsi);
	dp_ts_set(dc.remote_ts, &dc.n_remote_ts, &ch->tsr);
	rc = e->dp ? e->dp->ops->set_vip(e->dp, &sa->vip4, &sa->vip6) : 0;
	if (!rc && e->dp)
		rc = e->dp->ops->add_child(e->dp, &dc);
	child_keys_wipe(&k);
	if (rc)
		return fail(e, "the data plane refused the SA");
	ch->installed = true;
	log_info("CHILD_SA installed: SPIs %08x_i %08x_o, %s%s%s",
		 ch->spi_in, ch->spi_out, ch->encr->name,
		 ch->integ ? "/" : "", ch->integ ? ch->integ->name : "");
	return TASK_DONE;
}

static int child_error(struct ike_engine *e, const struct ike_msg *m)
{
	static const uint16_t errs[] = {
	    IKE_N_NO_PROPOSAL_CHOSEN,	     IKE_N_TS_UNACCEPTABLE,
	    IKE_N_SINGLE_PAIR_REQUIRED,	     IKE_N_INTERNAL_ADDRESS_FAILURE,
	    IKE_N_FAILED_CP_REQUIRED,	     IKE_N_INVALID_SELECTORS,
	    IKE_N_NO_ADDITIONAL_SAS,
	};

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (ike_find_notify(m, errs[i]))
			return fail(e, ike_notify_name(errs[i]));
	return TASK_DONE;
}

static int child_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_child *ch = &e->sa.child;
	const struct esp_proposal_conf *p;
	struct ike_ts_set tsi, tsr;

	if (child_error(e, m) != TASK_DONE)
		return TASK_FAILED;
	if (!m->has_sa || !m->has_tsi || !m->has_tsr)
		return fail(e, "SA or TS missing in the response");
	if (ike_find_notify(m, IKE_N_USE_TRANSPORT_MODE))
		return fail(e, "gateway wants transport mode");
	p = proposal_esp_match(e->conf, &m->sa, &ch->spi_out);
	if (!p || ch->spi_out < 256)
		return fail(e, "the gateway chose an ESP proposal we did not "
			       "offer");
	offered_ts(e->conf, &tsi, &tsr);
	if (!ts_subset(&m->tsi, &tsi) || !ts_subset(&m->tsr, &tsr))
		return fail(e, "traffic selectors wider than offered");
	ch->encr = encr_alg_find(p->encr, p->encr_bits);
	ch->integ = ch->encr && !ch->encr->aead ? integ_alg_find(p->integ)
						: NULL;
	if (!ch->encr || (!ch->encr->aead && !ch->integ))
		return fail(e, "unsupported ESP algorithms");
	ch->esn = p->esn;
	ch->tsi = m->tsi;
	ch->tsr = m->tsr;
	return install(e);
}

void child_uninstall(struct ike_engine *e)
{
	struct ike_child *ch = &e->sa.child;

	if (ch->installed && e->dp)
		e->dp->ops->del_child(e->dp, ch->spi_in);
	if (ch->installed)
		log_info("CHILD_SA %08x_i %08x_o removed", ch->spi_in,
			 ch->spi_out);
	ch->installed = false;
}

const struct task task_child = {
    .name = "child-create",
    .build_i = child_build,
    .process_i = child_process,
};
