/*
 * task_rekey.c - rekeying the CHILD_SA (RFC 7296 1.3.3, 2.8), both ways,
 * make-before-break:
 *
 *   CREATE_CHILD_SA  HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
 *                    <- SA, Nr, [KEr], TSi, TSr
 *   the new SA is installed (outbound switches to it), then
 *   INFORMATIONAL    HDR, SK {D(ESP, old inbound SPI)}  <- D(ESP, ...)
 *   and only then is the old SA removed (task_child_delete.c).
 *
 * As responder (the gateway's CREATE_CHILD_SA) N(REKEY_SA) carries the
 * SPI the gateway receives on (our outbound SPI of the SA it replaces).
 * The new SA is installed before the answer goes out; the old one stays
 * until the gateway's DELETE.  An SA payload for IKE is an IKE SA rekey
 * (ike_rekey.c).  Refused, with only an error notify and no state change:
 *   a new CHILD_SA without REKEY_SA           NO_ADDITIONAL_SAS
 *   REKEY_SA naming no SA of ours             CHILD_SA_NOT_FOUND
 *   an SA already rekeyed                     TEMPORARY_FAILURE
 *   no acceptable proposal                    NO_PROPOSAL_CHOSEN
 *   TS not those of the SA                    TS_UNACCEPTABLE
 *   KE missing or of another group            INVALID_KE_PAYLOAD (group)
 *   nonce/TS missing or bad KE value          INVALID_SYNTAX
 *
 * Timer: t_rekey, armed whenever a CHILD_SA becomes current, fires at 90%
 * of child_lifetime minus up to 5% jitter (so both ends rarely rekey at
 * once); the data plane's soft-expire event starts a rekey early.
 *
 * Collision (2.8.1): if the gateway rekeyed the same SA while our request
 * was outstanding (the responder side records its nonces), the new SA whose
 * exchange carried the lowest nonce is redundant and is deleted by its
 * creator; the other creator deletes the old SA.  Both new SAs stay
 * usable until those DELETEs settle.
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

#define REKEY_RETRY_MS	 10000u
#define REKEY_BUSY_MS	 1000u
#define REKEY_KE_RETRIES 2

static const struct task *const rekey_tasks[] = {&task_child_rekey};

int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static void rekey_free(struct child_rekey *rk)
{
	dh_free(rk->dh);
	rk->dh = NULL;
	OPENSSL_cleanse(rk->ni, sizeof(rk->ni));
	rk->active = false;
	rk->collided = false;
}

static void rekey_cb(void *owner)
{
	struct ike_engine *e = owner;

	if (e->sa.state != IKE_ST_ESTABLISHED || !e->sa.child.installed)
		return;
	if (e->x.active) {
		timer_arm_ms(e->loop, &e->rk.t_rekey, REKEY_BUSY_MS);
		return;
	}
	log_info("CHILD_SA %08x_i: lifetime reached, rekeying",
		 e->sa.child.spi_in);
	if (rekey_start(e))
		timer_arm_ms(e->loop, &e->rk.t_rekey, REKEY_RETRY_MS);
}

void rekey_init(struct ike_engine *e)
{
	timer_init(&e->rk.t_rekey, rekey_cb, e);
}

/* At 90% of the lifetime less up to 5% random jitter, so that the two ends
 * (and many clients of one gateway) do not rekey at the same instant. */
void rekey_timer_arm(struct ike_engine *e, struct timer *t, uint32_t lifetime_s)
{
	uint64_t life = (uint64_t)lifetime_s * 1000, jit = 0;
	uint32_t r = 0;

	if (!life)
		return;
	RAND_bytes((uint8_t *)&r, sizeof(r));
	if (life / 20)
		jit = r % (life / 20);
	timer_arm_ms(e->loop, t, life * 9 / 10 - jit);
}

void rekey_arm(struct ike_engine *e)
{
	rekey_timer_arm(e, &e->rk.t_rekey, e->conf->child_lifetime_s);
}

void rekey_arm_soon(struct ike_engine *e)
{
	timer_arm_ms(e->loop, &e->rk.t_rekey, REKEY_BUSY_MS);
}

void rekey_reset(struct ike_engine *e)
{
	timer_cancel(e->loop, &e->rk.t_rekey);
	rekey_free(&e->rk);
	e->rk.ndel = 0;
}

/* --- CREATE_CHILD_SA ----------------------------------------------------- */

static void rekey_exchange_done(struct ike_engine *e, int rc);

int rekey_start(struct ike_engine *e)
{
	struct child_rekey *rk = &e->rk;
	int rc;

	if (e->sa.state != IKE_ST_ESTABLISHED || !e->sa.child.installed)
		return -ENOENT;
	if (e->x.active)
		return -EBUSY;
	rekey_free(rk);
	memset(&rk->next, 0, sizeof(rk->next));
	rk->old_spi_in = e->sa.child.spi_in;
	rk->dh_group = e->conf->esp[0].dh;
	rk->ke_retries = 0;
	if (child_new_spi(&rk->next.spi_in) ||
	    RAND_bytes(rk->ni, sizeof(rk->ni)) != 1)
		return -EIO;
	rk->active = true;
	rc = exchange_start(e, CREATE_CHILD_SA, rekey_tasks, 1,
			    rekey_exchange_done);
	if (rc) {
		rk->active = false;
		return rc;
	}
	return 0;
}

static int rekey_build(struct ike_engine *e, struct ike_builder *b)
{
	struct child_rekey *rk = &e->rk;
	struct ike_notify_pl n = {
	    .protocol = IKE_PROTO_ESP, .spi_size = 4, .type = IKE_N_REKEY_SA};
	struct ike_chunk nonce = {rk->ni, sizeof(rk->ni)};
	uint32_t be = htobe32(rk->old_spi_in);
	struct ike_sa_pl sapl;
	struct ike_ke ke;
	size_t klen;

	memcpy(n.spi, &be, 4);
	ike_build_notify(b, &n);
	proposal_esp_build_rekey(e->conf, rk->next.spi_in, &sapl);
	ike_build_sa(b, &sapl);
	ike_build_nonce(b, &nonce);
	if (rk->dh_group) {
		if (!rk->dh && !(rk->dh = dh_new(rk->dh_group)))
			return -1;
		ke.group = rk->dh_group;
		ke.data.p = dh_public(rk->dh, &klen);
		ke.data.len = klen;
		ike_build_ke(b, &ke);
	}
	ike_build_ts(b, IKE_PL_TSI, &e->sa.child.tsi);
	ike_build_ts(b, IKE_PL_TSR, &e->sa.child.tsr);
	return b->failed ? -1 : 0;
}

static int rk_fail(struct ike_engine *e, const char *why)
{
	log_warn("CHILD_SA rekey: %s", why);
	return TASK_FAILED;
}

/* 1.3 / 3.10.1: INVALID_KE_PAYLOAD names the group the responder wants. */
static int invalid_ke(struct ike_engine *e, const struct ike_notify_pl *n)
{
	uint16_t g;

	if (ike_notify_group(n, &g))
		return rk_fail(e, "malformed INVALID_KE_PAYLOAD");
	if (!proposal_esp_has_group(e->conf, g) || g == e->rk.dh_group ||
	    e->rk.ke_retries++ >= REKEY_KE_RETRIES)
		return rk_fail(e, "INVALID_KE_PAYLOAD for a group we did not "
				  "offer");
	log_info("CHILD_SA rekey: gateway wants DH group %u", g);
	dh_free(e->rk.dh);
	e->rk.dh = NULL;
	e->rk.dh_group = g;
	return TASK_RETRY;
}

static int shared_secret(struct ike_engine *e, const struct ike_msg *m,
			 uint16_t group, uint8_t *gir, size_t *glen)
{
	*glen = 0;
	if (!group)
		return m->has_ke ? -1 : 0;
	if (!m->has_ke || m->ke.group != group || group != e->rk.dh_group ||
	    !e->rk.dh)
		return -1;
	if (dh_shared(e->rk.dh, m->ke.data.p, m->ke.data.len, gir, 512))
		return -1;
	*glen = dh_shared_len(group);
	return 0;
}

/* 2.8.1: which SA goes after a collision. */
static void choose_deletes(struct ike_engine *e, const struct ike_msg *m)
{
	struct child_rekey *rk = &e->rk;
	const uint8_t *mine = rk->ni;
	size_t mine_len = sizeof(rk->ni);

	if (nonce_cmp(m->nonce.p, m->nonce.len, mine, mine_len) < 0) {
		mine = m->nonce.p;
		mine_len = m->nonce.len;
	}
	if (rk->collided && child_by_spi_in(e, rk->peer_new_spi_in) &&
	    nonce_cmp(mine, mine_len, rk->peer_min, rk->peer_min_len) < 0) {
		log_info("rekey collision: our CHILD_SA %08x_i is redundant",
			 rk->next.spi_in);
		child_delete_later(e, rk->next.spi_in);
		return;
	}
	if (rk->collided)
		log_info("rekey collision: the gateway deletes its redundant "
			 "CHILD_SA");
	child_delete_later(e, rk->old_spi_in);
}

/* The answer's proposal and selectors into nc: NULL, or what is wrong. */
static const char *take_answer(struct ike_engine *e, const struct ike_msg *m,
			       struct ike_child *nc,
			       const struct esp_proposal_conf **pp)
{
	const struct esp_proposal_conf *p;

	if (!m->has_sa || !m->has_nonce || !m->has_tsi || !m->has_tsr)
		return "SA, Nr or TS missing";
	if (m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return "bad nonce length";
	p = proposal_esp_match_rekey(e->conf, &m->sa, &nc->spi_out);
	if (!p || nc->spi_out < 256)
		return "the gateway chose a proposal we did not offer";
	if (!child_ts_subset(&m->tsi, &e->sa.child.tsi) ||
	    !child_ts_subset(&m->tsr, &e->sa.child.tsr))
		return "traffic selectors changed";
	nc->encr = encr_alg_find(p->encr, p->encr_bits);
	nc->integ =
	    nc->encr && !nc->encr->aead ? integ_alg_find(p->integ) : NULL;
	if (!nc->encr || (!nc->encr->aead && !nc->integ))
		return "unsupported ESP algorithms";
	nc->esn = p->esn;
	nc->tsi = m->tsi;
	nc->tsr = m->tsr;
	*pp = p;
	return NULL;
}

static int rekey_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct child_rekey *rk = &e->rk;
	struct ike_child *nc = &rk->next;
	const struct esp_proposal_conf *p = NULL;
	const struct ike_notify_pl *n;
	const char *why;
	uint8_t gir[512];
	size_t glen;
	int rc;

	if ((n = ike_find_notify(m, IKE_N_INVALID_KE_PAYLOAD)))
		return invalid_ke(e, n);
	if ((n = ike_error_notify(m)))
		return rk_fail(e, ike_notify_name(n->type));
	if ((why = take_answer(e, m, nc, &p)))
		return rk_fail(e, why);
	if (shared_secret(e, m, p->dh, gir, &glen))
		return rk_fail(e, "KE missing or invalid");
	rc = child_install(e, nc, glen ? gir : NULL, glen, rk->ni,
			   sizeof(rk->ni), m->nonce.p, m->nonce.len, true);
	OPENSSL_cleanse(gir, sizeof(gir));
	if (rc)
		return TASK_FAILED;
	child_promote(e, nc);
	e->stats.rekeys_i++;
	log_info("CHILD_SA %08x_i rekeyed to %08x_i %08x_o", rk->old_spi_in,
		 nc->spi_in, nc->spi_out);
	choose_deletes(e, m);
	return TASK_DONE;
}

/* After the exchange: DELETE what has to go; a failed rekey is retried
 * while the old SA lives (its hard expiry re-establishes). */
static void rekey_exchange_done(struct ike_engine *e, int rc)
{
	rekey_free(&e->rk);
	if (rc == -ETIMEDOUT) {
		engine_sa_dead(e, "CREATE_CHILD_SA not answered");
		return;
	}
	if (rc) {
		timer_arm_ms(e->loop, &e->rk.t_rekey, REKEY_RETRY_MS);
		return;
	}
	if (child_delete_start(e))
		engine_sa_dead(e, "cannot build DELETE");
}

/* --- responder ----------------------------------------------------------- */

/* Which SA the request replaces: 0, or the notify to refuse with. */
static uint16_t find_old(struct ike_engine *e, const struct ike_msg *m,
			 struct child_rekey_r *r)
{
	const struct ike_notify_pl *n = ike_find_notify(m, IKE_N_REKEY_SA);
	uint32_t be;

	if (!n)
		return IKE_N_NO_ADDITIONAL_SAS; /* one CHILD_SA only */
	r->rekey_sa = *n;
	if (n->protocol != IKE_PROTO_ESP || n->spi_size != 4)
		return IKE_N_CHILD_SA_NOT_FOUND;
	memcpy(&be, n->spi, 4);
	r->old = child_by_spi_out(e, be32toh(be));
	if (!r->old)
		return IKE_N_CHILD_SA_NOT_FOUND;
	if (r->old != &e->sa.child)
		return IKE_N_TEMPORARY_FAILURE; /* being deleted */
	return 0;
}

/* The gateway is the initiator: its TSi is our TSr and vice versa. */
static uint16_t check_shape(const struct ike_msg *m,
			    const struct child_rekey_r *r)
{
	if (!m->has_tsi || !m->has_tsr || !m->has_nonce || m->nonce.len < 16 ||
	    m->nonce.len > IKE_NONCE_MAX)
		return IKE_N_INVALID_SYNTAX;
	if (!child_ts_subset(&m->tsi, &r->old->tsr) ||
	    !child_ts_subset(&m->tsr, &r->old->tsi))
		return IKE_N_TS_UNACCEPTABLE;
	return 0;
}

static uint16_t choose(struct ike_engine *e, const struct ike_msg *m,
		       struct child_rekey_r *r)
{
	const struct esp_proposal_conf *p;
	struct ike_child *nc = &r->nc;

	memset(nc, 0, sizeof(*nc));
	if (child_new_spi(&nc->spi_in))
		return IKE_N_TEMPORARY_FAILURE;
	p = proposal_esp_select(e->conf, &m->sa, m->has_ke ? m->ke.group : 0,
				nc->spi_in, &r->answer, &nc->spi_out, &r->dh);
	if (!p || nc->spi_out < 256)
		return IKE_N_NO_PROPOSAL_CHOSEN;
	nc->encr = encr_alg_find(p->encr, p->encr_bits);
	nc->integ =
	    nc->encr && !nc->encr->aead ? integ_alg_find(p->integ) : NULL;
	if (!nc->encr || (!nc->encr->aead && !nc->integ))
		return IKE_N_NO_PROPOSAL_CHOSEN;
	nc->esn = p->esn;
	nc->tsi = m->tsr;
	nc->tsr = m->tsi;
	return 0;
}

/* 1.3: with a DH group chosen, the KE must be of that group. */
static uint16_t key_exchange(const struct ike_msg *m, struct child_rekey_r *r)
{
	if (!r->dh)
		return 0;
	if (!m->has_ke || m->ke.group != r->dh)
		return IKE_N_INVALID_KE_PAYLOAD;
	r->d = dh_new(r->dh);
	if (!r->d)
		return IKE_N_NO_PROPOSAL_CHOSEN;
	if (dh_shared(r->d, m->ke.data.p, m->ke.data.len, r->gir,
		      sizeof(r->gir)))
		return IKE_N_INVALID_SYNTAX; /* RFC 6989 check failed */
	r->glen = dh_shared_len(r->dh);
	return 0;
}

/* 2.8.1: the gateway rekeyed the SA our own request is rekeying. */
static void note_collision(struct ike_engine *e, const struct ike_msg *m,
			   const struct child_rekey_r *r)
{
	struct child_rekey *rk = &e->rk;
	const struct ike_chunk *ni = &m->nonce;

	if (!rk->active || rk->old_spi_in != r->old->spi_in)
		return;
	log_info("rekey collision on CHILD_SA %08x_i", rk->old_spi_in);
	rk->collided = true;
	rk->peer_new_spi_in = r->nc.spi_in;
	if (nonce_cmp(ni->p, ni->len, r->nr, sizeof(r->nr)) < 0) {
		memcpy(rk->peer_min, ni->p, ni->len);
		rk->peer_min_len = ni->len;
	} else {
		memcpy(rk->peer_min, r->nr, sizeof(r->nr));
		rk->peer_min_len = sizeof(r->nr);
	}
}

static uint16_t accept_rekey(struct ike_engine *e, const struct ike_msg *m,
			     struct child_rekey_r *r)
{
	const struct ike_chunk *ni = &m->nonce;
	uint32_t old_in = r->old->spi_in;
	uint16_t err;

	if ((err = check_shape(m, r)) || (err = choose(e, m, r)) ||
	    (err = key_exchange(m, r)))
		return err;
	if (RAND_bytes(r->nr, sizeof(r->nr)) != 1)
		return IKE_N_TEMPORARY_FAILURE;
	if (child_install(e, &r->nc, r->glen ? r->gir : NULL, r->glen, ni->p,
			  ni->len, r->nr, sizeof(r->nr), false))
		return IKE_N_TEMPORARY_FAILURE;
	note_collision(e, m, r);
	child_promote(e, &r->nc);
	log_info("gateway rekeyed CHILD_SA %08x_i to %08x_i %08x_o%s", old_in,
		 r->nc.spi_in, r->nc.spi_out, r->glen ? " (PFS)" : "");
	r->tsi = m->tsi;
	r->tsr = m->tsr;
	return 0;
}

static void rekey_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	struct child_rekey_r *r = &e->ans.crk;

	if (ike_rekey_request(m))
		return; /* ike_rekey.c */
	r->mine = true;
	r->error = find_old(e, m, r);
	if (!r->error)
		r->error = accept_rekey(e, m, r);
	if (r->error)
		log_info("gateway's CREATE_CHILD_SA refused: %s",
			 ike_notify_name(r->error));
	OPENSSL_cleanse(r->gir, sizeof(r->gir));
}

/* 3.10: INVALID_KE_PAYLOAD names our group, CHILD_SA_NOT_FOUND the SPI. */
static void refuse(struct ike_builder *b, const struct child_rekey_r *r)
{
	struct ike_notify_pl n;
	uint16_t be = htobe16(r->dh);

	memset(&n, 0, sizeof(n));
	n.type = r->error;
	if (r->error == IKE_N_INVALID_KE_PAYLOAD)
		n.data = (struct ike_chunk){(const uint8_t *)&be, 2};
	if (r->error == IKE_N_CHILD_SA_NOT_FOUND) {
		n.protocol = r->rekey_sa.protocol;
		n.spi_size = r->rekey_sa.spi_size;
		memcpy(n.spi, r->rekey_sa.spi, sizeof(n.spi));
	}
	ike_build_notify(b, &n);
}

static void answer(struct ike_builder *b, const struct child_rekey_r *r)
{
	struct ike_chunk nonce = {r->nr, sizeof(r->nr)};
	struct ike_ke ke;
	size_t klen;

	ike_build_sa(b, &r->answer);
	ike_build_nonce(b, &nonce);
	if (r->d) {
		ke.group = r->dh;
		ke.data.p = dh_public(r->d, &klen);
		ke.data.len = klen;
		ike_build_ke(b, &ke);
	}
	ike_build_ts(b, IKE_PL_TSI, &r->tsi);
	ike_build_ts(b, IKE_PL_TSR, &r->tsr);
}

static int rekey_build_r(struct ike_engine *e, struct ike_builder *b)
{
	const struct child_rekey_r *r = &e->ans.crk;

	if (!r->mine)
		return 0;
	if (r->error)
		refuse(b, r);
	else
		answer(b, r);
	return b->failed ? -1 : 0;
}

/* The new SA was installed before the answer was built; unanswered, the
 * gateway never got it: it goes and the one it replaced is current again. */
static void rekey_done_r(struct ike_engine *e, bool sent)
{
	struct child_rekey_r *r = &e->ans.crk;

	dh_free(r->d);
	r->d = NULL;
	if (!r->mine || r->error)
		return;
	if (sent) {
		e->stats.rekeys_r++;
		return;
	}
	log_warn("gateway's CHILD_SA rekey not answered: %08x_i dropped",
		 r->nc.spi_in);
	if (e->rk.collided && e->rk.peer_new_spi_in == r->nc.spi_in)
		e->rk.collided = false;
	child_remove(e, r->nc.spi_in);
}

const struct task task_child_rekey = {
    .name = "child-rekey",
    .build_i = rekey_build,
    .process_i = rekey_process,
    .process_r = rekey_process_r,
    .build_r = rekey_build_r,
    .done_r = rekey_done_r,
};
