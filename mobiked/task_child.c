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
	t->type =
	    family == AF_INET ? IKE_TS_IPV4_ADDR_RANGE : IKE_TS_IPV6_ADDR_RANGE;
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
			ts_all(&tsr->ts[tsr->n++], tsi->ts[i].start.family);
}

/* 3.3.1: SPIs below 256 are reserved. */
int child_new_spi(uint32_t *spi)
{
	*spi = 0;
	while (*spi < 256)
		if (RAND_bytes((uint8_t *)spi, 4) != 1)
			return -1;
	return 0;
}

static int child_build(struct ike_engine *e, struct ike_builder *b)
{
	struct ike_child *ch = &e->sa.child;
	struct ike_ts_set tsi, tsr;
	struct ike_sa_pl sapl;

	if (ch->spi_in < 256 && child_new_spi(&ch->spi_in))
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
bool child_ts_subset(const struct ike_ts_set *got,
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

static bool ts_same(const struct ike_ts *a, const struct ike_ts *b)
{
	return a->type == b->type && a->proto == b->proto &&
	       a->start_port == b->start_port && a->end_port == b->end_port &&
	       !addr_cmp(&a->start, &b->start) && !addr_cmp(&a->end, &b->end);
}

bool child_ts_equal(const struct ike_ts_set *a, const struct ike_ts_set *b)
{
	if (a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (!ts_same(&a->ts[i], &b->ts[i]))
			return false;
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

/* What the data plane gets: SPIs, algorithms, the negotiated selectors,
 * the volume limits (RFC 4301 4.4.2.1; soft at 90% in esp.c) and the
 * keys, ours to send first when we initiated the exchange (2.17). */
static void dc_fill(const struct ike_engine *e, const struct ike_child *ch,
		    const struct child_keys *k, bool we_init,
		    struct dp_child *dc)
{
	struct dp_sa_keys ki = {k->ei, k->e_len, ch->integ ? k->ai : NULL,
				ch->integ ? k->a_len : 0};
	struct dp_sa_keys kr = {k->er, k->e_len, ch->integ ? k->ar : NULL,
				ch->integ ? k->a_len : 0};

	memset(dc, 0, sizeof(*dc));
	dc->spi_in = ch->spi_in;
	dc->spi_out = ch->spi_out;
	dc->encr = ch->encr;
	dc->integ = ch->integ;
	dc->esn = ch->esn;
	dc->replay_window = 64;
	dc->life_bytes = e->conf->child_life_bytes;
	dc->life_packets = e->conf->child_life_packets;
	dc->out = we_init ? ki : kr;
	dc->in = we_init ? kr : ki;
	dc->local = e->sa.local;
	dc->remote = e->sa.remote;
	dp_ts_set(dc->local_ts, &dc->n_local_ts, &ch->tsi);
	dp_ts_set(dc->remote_ts, &dc->n_remote_ts, &ch->tsr);
}

/* 2.17: KEYMAT = prf+(SK_d, [g^ir] | Ni | Nr) with the nonces of the
 * exchange that created the SA; the keys of the exchange's initiator to
 * its responder come first. */
int child_install(struct ike_engine *e, struct ike_child *ch,
		  const uint8_t *gir, size_t gir_len, const uint8_t *ni,
		  size_t ni_len, const uint8_t *nr, size_t nr_len, bool we_init)
{
	struct ike_sa *sa = &e->sa;
	struct child_keys k;
	struct dp_child dc;
	int rc;

	if (child_keys_derive(sa->suite.prf, sa->keys.sk_d, sa->keys.d_len,
			      ch->encr, ch->integ, gir, gir_len, ni, ni_len, nr,
			      nr_len, &k)) {
		fail(e, "key derivation failed");
		return -1;
	}
	dc_fill(e, ch, &k, we_init, &dc);
	rc = e->dp ? e->dp->ops->set_vip(e->dp, &sa->vip4, &sa->vip6) : 0;
	if (!rc && e->dp)
		rc = e->dp->ops->add_child(e->dp, &dc);
	child_keys_wipe(&k);
	if (rc) {
		fail(e, "the data plane refused the SA");
		return -1;
	}
	ch->installed = true;
	ch->seq = ++sa->child_seq;
	log_info("CHILD_SA installed: SPIs %08x_i %08x_o, %s%s%s%s", ch->spi_in,
		 ch->spi_out, ch->encr->name, ch->integ ? "/" : "",
		 ch->integ ? ch->integ->name : "", gir ? " (PFS)" : "");
	return 0;
}

static int child_error(struct ike_engine *e, const struct ike_msg *m)
{
	static const uint16_t errs[] = {
	    IKE_N_NO_PROPOSAL_CHOSEN,	IKE_N_TS_UNACCEPTABLE,
	    IKE_N_SINGLE_PAIR_REQUIRED, IKE_N_INTERNAL_ADDRESS_FAILURE,
	    IKE_N_FAILED_CP_REQUIRED,	IKE_N_INVALID_SELECTORS,
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
	if (!child_ts_subset(&m->tsi, &tsi) || !child_ts_subset(&m->tsr, &tsr))
		return fail(e, "traffic selectors wider than offered");
	ch->encr = encr_alg_find(p->encr, p->encr_bits);
	ch->integ =
	    ch->encr && !ch->encr->aead ? integ_alg_find(p->integ) : NULL;
	if (!ch->encr || (!ch->encr->aead && !ch->integ))
		return fail(e, "unsupported ESP algorithms");
	ch->esn = p->esn;
	ch->tsi = m->tsi;
	ch->tsr = m->tsr;
	if (child_install(e, ch, NULL, 0, e->sa.ni, e->sa.ni_len, e->sa.nr,
			  e->sa.nr_len, true))
		return TASK_FAILED;
	rekey_arm(e);
	return TASK_DONE;
}

void child_uninstall(struct ike_engine *e)
{
	rekey_reset(e);
	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++)
		if (e->sa.old[i].installed)
			child_remove(e, e->sa.old[i].spi_in);
	if (e->sa.child.installed)
		child_remove(e, e->sa.child.spi_in);
}

const struct task task_child = {
    .name = "child-create",
    .build_i = child_build,
    .process_i = child_process,
};
