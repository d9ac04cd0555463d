/*
 * task_rekey.c - rekeying our CHILD_SA as the exchange initiator
 * (RFC 7296 1.3.3, 2.8), make-before-break:
 *
 *   CREATE_CHILD_SA  HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
 *                    <- SA, Nr, [KEr], TSi, TSr
 *   the new SA is installed (outbound switches to it), then
 *   INFORMATIONAL    HDR, SK {D(ESP, old inbound SPI)}  <- D(ESP, ...)
 *   and only then is the old SA removed.
 *
 * Timer: t_rekey, armed whenever a CHILD_SA becomes current, fires at 90%
 * of child_lifetime minus up to 5% jitter (so both ends rarely rekey at
 * once); the data plane's soft-expire event starts a rekey early.
 *
 * Collision (2.8.1): if the gateway rekeyed the same SA while our request
 * was outstanding (rekey_respond.c records its nonces), the new SA whose
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
static const struct task *const del_tasks[] = {&task_child_delete};

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

void rekey_arm(struct ike_engine *e)
{
	uint64_t life = (uint64_t)e->conf->child_lifetime_s * 1000, jit = 0;
	uint32_t r = 0;

	if (!life)
		return;
	RAND_bytes((uint8_t *)&r, sizeof(r));
	if (life / 20)
		jit = r % (life / 20);
	timer_arm_ms(e->loop, &e->rk.t_rekey, life * 9 / 10 - jit);
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

/* --- the delete of the replaced (or redundant) SA ------------------------ */

static int cdel_build(struct ike_engine *e, struct ike_builder *b)
{
	uint8_t spis[4 * (IKE_OLD_CHILDREN + 1)];
	struct ike_delete d = {.protocol = IKE_PROTO_ESP, .spi_size = 4};
	uint32_t be;

	for (unsigned i = 0; i < e->rk.ndel; i++) {
		be = htobe32(e->rk.del_spi_in[i]);
		memcpy(spis + 4 * i, &be, 4);
	}
	d.nspi = (uint16_t)e->rk.ndel;
	d.spis = (struct ike_chunk){spis, 4u * e->rk.ndel};
	ike_build_delete(b, &d);
	return b->failed ? -1 : 0;
}

/* 1.4.1: the answer names the gateway's inbound SPIs of the same SAs;
 * whatever it says, ours go now. */
static int cdel_process(struct ike_engine *e, const struct ike_msg *m)
{
	for (unsigned i = 0; i < e->rk.ndel; i++)
		child_remove(e, e->rk.del_spi_in[i]);
	e->rk.ndel = 0;
	(void)m;
	return TASK_DONE;
}

const struct task task_child_delete = {
    .name = "child-delete",
    .build_i = cdel_build,
    .process_i = cdel_process,
};

static void cdel_done(struct ike_engine *e, int rc)
{
	if (rc == -ETIMEDOUT)
		engine_sa_dead(e, "CHILD_SA DELETE not answered");
}

static void delete_later(struct ike_engine *e, uint32_t spi_in)
{
	if (child_by_spi_in(e, spi_in) && e->rk.ndel < IKE_OLD_CHILDREN + 1)
		e->rk.del_spi_in[e->rk.ndel++] = spi_in;
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
	struct ike_notify_pl n = {.protocol = IKE_PROTO_ESP, .spi_size = 4,
				  .type = IKE_N_REKEY_SA};
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

static bool group_offered(const struct mobiked_conf *c, uint16_t g)
{
	for (size_t i = 0; i < c->n_esp; i++)
		if (c->esp[i].dh == g)
			return g != 0;
	return false;
}

/* 1.3 / 3.10.1: INVALID_KE_PAYLOAD names the group the responder wants. */
static int invalid_ke(struct ike_engine *e, const struct ike_notify_pl *n)
{
	uint16_t g;

	if (n->data.len != 2)
		return rk_fail(e, "malformed INVALID_KE_PAYLOAD");
	g = (uint16_t)(n->data.p[0] << 8 | n->data.p[1]);
	if (!group_offered(e->conf, g) || g == e->rk.dh_group ||
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
		delete_later(e, rk->next.spi_in);
		return;
	}
	if (rk->collided)
		log_info("rekey collision: the gateway deletes its redundant "
			 "CHILD_SA");
	delete_later(e, rk->old_spi_in);
}

static int rekey_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct child_rekey *rk = &e->rk;
	struct ike_child *nc = &rk->next;
	const struct ike_notify_pl *n;
	const struct esp_proposal_conf *p;
	uint8_t gir[512];
	size_t glen;
	int rc;

	if ((n = ike_find_notify(m, IKE_N_INVALID_KE_PAYLOAD)))
		return invalid_ke(e, n);
	if ((n = ike_error_notify(m)))
		return rk_fail(e, ike_notify_name(n->type));
	if (!m->has_sa || !m->has_nonce || !m->has_tsi || !m->has_tsr)
		return rk_fail(e, "SA, Nr or TS missing");
	if (m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return rk_fail(e, "bad nonce length");
	p = proposal_esp_match_rekey(e->conf, &m->sa, &nc->spi_out);
	if (!p || nc->spi_out < 256)
		return rk_fail(e, "the gateway chose a proposal we did not "
				  "offer");
	if (!child_ts_subset(&m->tsi, &e->sa.child.tsi) ||
	    !child_ts_subset(&m->tsr, &e->sa.child.tsr))
		return rk_fail(e, "traffic selectors changed");
	nc->encr = encr_alg_find(p->encr, p->encr_bits);
	nc->integ = nc->encr && !nc->encr->aead ? integ_alg_find(p->integ)
						: NULL;
	if (!nc->encr || (!nc->encr->aead && !nc->integ))
		return rk_fail(e, "unsupported ESP algorithms");
	nc->esn = p->esn;
	nc->tsi = m->tsi;
	nc->tsr = m->tsr;
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

const struct task task_child_rekey = {
    .name = "child-rekey",
    .build_i = rekey_build,
    .process_i = rekey_process,
};

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
	if (e->rk.ndel &&
	    exchange_start(e, INFORMATIONAL, del_tasks, 1, cdel_done))
		engine_sa_dead(e, "cannot build DELETE");
}
