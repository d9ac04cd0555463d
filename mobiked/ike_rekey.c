/*
 * ike_rekey.c - rekeying the IKE SA (RFC 7296 1.3.2, 2.18), both ways:
 *
 *   CREATE_CHILD_SA  HDR, SK {SA(IKE, SPI 8 octets), Ni, KEi}
 *                    <- HDR, SK {SA(IKE, SPI), Nr, KEr}
 *
 * The new IKE SA's initiator is whoever started the exchange: its SPIi is
 * the SPI in the initiator's SA payload, SPIr the responder's, and
 *   SKEYSEED = prf_old(SK_d_old, g^ir (new) | Ni | Nr)
 *   {SK_d, SK_a*, SK_e*, SK_p*} = prf+_new(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * Message IDs restart at 0; the CHILD_SAs move over unchanged; the timers
 * (DPD, keepalive, retransmit) are the engine's and simply go on.  The old
 * SA is kept (struct old_ike) only to answer on it and to delete it: the
 * gateway deletes it after its own rekey, we delete it after ours.
 *
 * Responder refusals, with no state change: TEMPORARY_FAILURE (an exchange
 * of ours or a previous old SA still outstanding; covers a simultaneous
 * rekey, 2.25.2: both sides retry later), NO_PROPOSAL_CHOSEN,
 * INVALID_KE_PAYLOAD (group), INVALID_SYNTAX (nonce, KE value).
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

#define IKE_REKEY_RETRY_MS 10000u
#define IKE_REKEY_BUSY_MS  1000u
#define OLD_WAIT_MS	   30000u /* the gateway's DELETE of the old SA */
#define KE_RETRIES	   2

static const struct task *const ike_rekey_tasks[] = {&task_ike_rekey};

/* --- the replaced SA ----------------------------------------------------- */

static void old_cb(void *owner);

/* The timer is cancelled and set up anew, never saved and restored: a
 * copy would keep the heap slot it had while armed. */
static void old_free(struct ike_engine *e)
{
	struct old_ike *o = &e->irk.old;

	if (!o->active)
		return;
	timer_cancel(e->loop, &o->t_old);
	sk_ctx_free(o->sk_in);
	sk_ctx_free(o->sk_out);
	free(o->resp_cache);
	ike_defrag_reset(&e->frag.other);
	OPENSSL_cleanse(o, sizeof(*o));
	timer_init(&o->t_old, old_cb, e);
}

/* e->sa <-> the old SA: what building and opening messages look at. */
static void swap_old(struct ike_engine *e)
{
	struct old_ike *o = &e->irk.old;
	struct ike_sa *s = &e->sa;

#define SWAP(a, b)                                                             \
	do {                                                                   \
		__typeof__(a) tmp_ = (a);                                      \
		(a) = (b);                                                     \
		(b) = tmp_;                                                    \
	} while (0)
	SWAP(s->responder, o->responder);
	SWAP(s->spi_i, o->spi_i);
	SWAP(s->spi_r, o->spi_r);
	SWAP(s->sk_in, o->sk_in);
	SWAP(s->sk_out, o->sk_out);
	SWAP(s->req_id, o->req_id);
	SWAP(s->peer_req_id, o->peer_req_id);
	SWAP(s->resp_cached, o->resp_cached);
	SWAP(s->resp_cache_id, o->resp_cache_id);
	SWAP(s->resp_cache, o->resp_cache);
	SWAP(s->resp_cache_len, o->resp_cache_len);
#undef SWAP
}

static void old_cb(void *owner)
{
	struct ike_engine *e = owner;
	struct old_ike *o = &e->irk.old;

	if (!o->active)
		return;
	if (o->deleting && o->tries < e->conf->retransmit.tries) {
		o->tries++;
		exchange_send_raw(e, o->pkt, o->len);
		timer_arm_ms(e->loop, &o->t_old,
			     (uint64_t)e->conf->retransmit.timeout_ms *
				 (o->tries + 1));
		return;
	}
	log_info("old IKE SA %016llx_i: %s, dropped",
		 (unsigned long long)o->spi_i,
		 o->deleting ? "DELETE not answered" : "not deleted");
	old_free(e);
}

/* The replaced SA answers only what lets it go: its D(IKE) gets the
 * empty answer, anything else INFORMATIONAL an empty one too, and a
 * CREATE_CHILD_SA on it TEMPORARY_FAILURE (the new SA is the one to
 * use).  Runs with the old SA swapped into e->sa. */
static void old_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	if (m->hdr.exchange != INFORMATIONAL) {
		e->ans.old_error = IKE_N_TEMPORARY_FAILURE;
		return;
	}
	for (unsigned i = 0; i < m->ndelete; i++)
		if (m->del[i].protocol == IKE_PROTO_IKE)
			e->irk.old.gone = true;
	if (e->irk.old.gone)
		log_info("gateway deleted the old IKE SA %016llx_i %016llx_r",
			 (unsigned long long)e->sa.spi_i,
			 (unsigned long long)e->sa.spi_r);
}

static int old_build_r(struct ike_engine *e, struct ike_builder *b)
{
	if (e->ans.old_error)
		ike_build_notify_data(b, e->ans.old_error, NULL, 0);
	return b->failed ? -1 : 0;
}

const struct task task_old_ike = {
    .name = "ike-old",
    .process_r = old_process_r,
    .build_r = old_build_r,
};

static const struct task *const old_tasks[] = {&task_old_ike};

bool ike_rekey_old_input(struct ike_engine *e, const struct ike_hdr *h,
			 uint8_t *pkt, size_t len)
{
	struct old_ike *o = &e->irk.old;
	struct ike_msg m;

	if (!o->active || h->spi_i != o->spi_i || h->spi_r != o->spi_r)
		return false;
	swap_old(e);
	o->gone = false;
	if (!exchange_flag_ok(e, h)) {
		e->stats.dropped++;
	} else if (!(h->flags & IKE_FLAG_RESPONSE)) {
		exchange_request(e, h, pkt, len, &e->frag.other, old_tasks, 1);
	} else if (o->deleting && h->msgid == e->sa.req_id &&
		   h->exchange == INFORMATIONAL &&
		   !exchange_open(e, &m, pkt, len, true)) {
		log_info("old IKE SA %016llx_i deleted",
			 (unsigned long long)e->sa.spi_i);
		o->gone = true;
	}
	swap_old(e);
	if (o->gone)
		old_free(e);
	return true;
}

/* --- the switch ---------------------------------------------------------- */

/* e->sa becomes the new SA; the current one moves to irk.old (whose
 * messages reassemble in frag.other from now on). */
static void switch_sa(struct ike_engine *e)
{
	struct ike_new *n = &e->irk.next;
	struct old_ike *o = &e->irk.old;
	struct ike_sa *s = &e->sa;

	old_free(e);
	o->active = true;
	o->deleting = false;
	o->tries = 0;
	o->resp_cached = false;
	o->resp_cache = NULL;
	o->resp_cache_len = 0;
	o->sk_in = o->sk_out = NULL;
	o->req_id = o->peer_req_id = 0;
	o->spi_i = n->spi_i;
	o->spi_r = n->spi_r;
	o->responder = n->responder;
	o->sk_in = n->sk_in;
	o->sk_out = n->sk_out;
	swap_old(e); /* now: s = new SPIs/keys, IDs 0; o = the old ones */
	n->sk_in = n->sk_out = NULL;
	s->prop = n->prop;
	s->suite = n->suite;
	s->dh_group = n->dh_group;
	dh_free(s->dh);
	s->dh = NULL;
	ike_keys_wipe(&s->keys);
	s->keys = n->keys;
	ike_keys_wipe(&n->keys);
	ike_keys_log(&s->keys);
	n->ready = false;
	ike_defrag_reset(&e->frag.req);
	timer_arm_ms(e->loop, &o->t_old, OLD_WAIT_MS);
	log_info("IKE SA rekeyed: %016llx_i %016llx_r -> %016llx_i %016llx_r",
		 (unsigned long long)o->spi_i, (unsigned long long)o->spi_r,
		 (unsigned long long)s->spi_i, (unsigned long long)s->spi_r);
	if (e->conf->dpd_delay_s)
		timer_arm_ms(e->loop, &s->t_dpd,
			     (uint64_t)e->conf->dpd_delay_s * 1000);
	ike_rekey_arm(e);
}

static void next_free(struct ike_new *n)
{
	sk_ctx_free(n->sk_in);
	sk_ctx_free(n->sk_out);
	OPENSSL_cleanse(n, sizeof(*n));
}

/* 2.18 keys for irk.next (SPIs, suite, direction set). */
static int derive(struct ike_engine *e, const uint8_t *gir, size_t glen,
		  const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		  size_t nr_len)
{
	struct ike_new *n = &e->irk.next;
	const struct ike_sa *s = &e->sa;
	uint64_t si = htobe64(n->spi_i), sr = htobe64(n->spi_r);
	uint8_t seed[CRYPTO_MAX_PRF_LEN];
	const struct ike_keys *k = &n->keys;
	int rc;

	rc = ike_skeyseed_rekey(s->suite.prf, s->keys.sk_d, s->keys.d_len, gir,
				glen, ni, ni_len, nr, nr_len, seed);
	if (!rc)
		rc = ike_keys_derive(&n->suite, seed, s->suite.prf->out_len, ni,
				     ni_len, nr, nr_len, (const uint8_t *)&si,
				     (const uint8_t *)&sr, &n->keys);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc)
		return -1;
	n->sk_out = sk_ctx_new(
	    n->suite.encr, n->suite.integ, n->responder ? k->sk_er : k->sk_ei,
	    k->e_len, n->responder ? k->sk_ar : k->sk_ai, k->a_len, SK_OUT);
	n->sk_in = sk_ctx_new(
	    n->suite.encr, n->suite.integ, n->responder ? k->sk_ei : k->sk_er,
	    k->e_len, n->responder ? k->sk_ai : k->sk_ar, k->a_len, SK_IN);
	return n->sk_out && n->sk_in ? 0 : -1;
}

static int set_suite(struct ike_new *n, const struct ike_proposal_conf *p)
{
	n->prop = *p;
	n->dh_group = p->dh;
	return proposal_ike_suite(p, &n->suite);
}

static int new_spi(uint64_t *spi)
{
	*spi = 0;
	while (!*spi)
		if (RAND_bytes((uint8_t *)spi, sizeof(*spi)) != 1)
			return -1;
	return 0;
}

/* --- responder ----------------------------------------------------------- */

bool ike_rekey_request(const struct ike_msg *m)
{
	return m->sa.nprop && m->sa.prop[0].protocol == IKE_PROTO_IKE;
}

static uint16_t accept_ike(struct ike_engine *e, const struct ike_msg *m,
			   struct ike_rekey_r *r)
{
	struct ike_new *n = &e->irk.next;
	const struct ike_proposal_conf *pc;
	uint64_t spi_i = 0, spi_r;
	uint8_t gir[512];
	int rc;

	if (e->sa.state != IKE_ST_ESTABLISHED || e->x.active ||
	    e->irk.old.active || e->irk.active)
		return IKE_N_TEMPORARY_FAILURE;
	if (!m->has_nonce || m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return IKE_N_INVALID_SYNTAX;
	if (new_spi(&spi_r))
		return IKE_N_TEMPORARY_FAILURE;
	pc = proposal_ike_select(e->conf, &m->sa, m->has_ke ? m->ke.group : 0,
				 spi_r, &r->answer, &spi_i);
	if (!pc)
		return IKE_N_NO_PROPOSAL_CHOSEN;
	r->group = pc->dh;
	if (!m->has_ke || m->ke.group != pc->dh)
		return IKE_N_INVALID_KE_PAYLOAD;
	next_free(n);
	n->spi_i = spi_i;
	n->spi_r = spi_r;
	n->responder = true;
	if (!n->spi_i || set_suite(n, pc) ||
	    RAND_bytes(r->nr, sizeof(r->nr)) != 1 || !(r->d = dh_new(pc->dh)))
		return IKE_N_NO_PROPOSAL_CHOSEN;
	if (dh_shared(r->d, m->ke.data.p, m->ke.data.len, gir, sizeof(gir)))
		return IKE_N_INVALID_SYNTAX;
	rc = derive(e, gir, dh_shared_len(pc->dh), m->nonce.p, m->nonce.len,
		    r->nr, sizeof(r->nr));
	OPENSSL_cleanse(gir, sizeof(gir));
	return rc ? IKE_N_NO_PROPOSAL_CHOSEN : 0;
}

static void irk_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_rekey_r *r = &e->ans.irk;

	if (!ike_rekey_request(m))
		return; /* a CHILD_SA rekey: task_rekey.c */
	r->mine = true;
	r->error = accept_ike(e, m, r);
	if (!r->error)
		return;
	next_free(&e->irk.next);
	log_info("gateway's IKE SA rekey refused: %s",
		 ike_notify_name(r->error));
}

static int irk_build_r(struct ike_engine *e, struct ike_builder *b)
{
	const struct ike_rekey_r *r = &e->ans.irk;
	struct ike_chunk nonce = {r->nr, sizeof(r->nr)};
	uint16_t be = htobe16(r->group);
	struct ike_ke ke;
	size_t klen;

	if (!r->mine)
		return 0;
	if (r->error == IKE_N_INVALID_KE_PAYLOAD) /* 3.10.1: our group */
		ike_build_notify_data(b, r->error, &be, 2);
	else if (r->error)
		ike_build_notify_data(b, r->error, NULL, 0);
	if (r->error)
		return b->failed ? -1 : 0;
	ke.group = r->group;
	ke.data.p = dh_public(r->d, &klen);
	ke.data.len = klen;
	ike_build_sa(b, &r->answer);
	ike_build_nonce(b, &nonce);
	ike_build_ke(b, &ke);
	return b->failed ? -1 : 0;
}

/* Only once the answer went out on the old SA does the new one take
 * over; unanswered, the gateway has no new SA and its keys go. */
static void irk_done_r(struct ike_engine *e, bool sent)
{
	struct ike_rekey_r *r = &e->ans.irk;

	dh_free(r->d);
	r->d = NULL;
	if (!r->mine || r->error)
		return;
	if (!sent) {
		log_warn("gateway's IKE SA rekey not answered: staying on "
			 "%016llx_i",
			 (unsigned long long)e->sa.spi_i);
		next_free(&e->irk.next);
		return;
	}
	e->irk.next.ready = true;
	switch_sa(e);
	e->stats.ike_rekeys_r++;
}

/* --- initiator ----------------------------------------------------------- */

static void irk_free(struct ike_rekey *k)
{
	dh_free(k->dh);
	k->dh = NULL;
	OPENSSL_cleanse(k->ni, sizeof(k->ni));
	k->active = false;
}

static void ike_rekey_cb(void *owner)
{
	struct ike_engine *e = owner;

	if (e->sa.state != IKE_ST_ESTABLISHED)
		return;
	log_info("IKE SA: lifetime reached, rekeying");
	if (ike_rekey_start(e))
		timer_arm_ms(e->loop, &e->irk.t_rekey,
			     e->x.active || e->irk.old.active
				 ? IKE_REKEY_BUSY_MS
				 : IKE_REKEY_RETRY_MS);
}

void ike_rekey_init(struct ike_engine *e)
{
	timer_init(&e->irk.t_rekey, ike_rekey_cb, e);
	timer_init(&e->irk.old.t_old, old_cb, e);
}

void ike_rekey_arm(struct ike_engine *e)
{
	rekey_timer_arm(e, &e->irk.t_rekey, e->conf->ike_lifetime_s);
}

void ike_rekey_reset(struct ike_engine *e)
{
	timer_cancel(e->loop, &e->irk.t_rekey);
	irk_free(&e->irk);
	next_free(&e->irk.next);
	old_free(e);
}

static void ike_rekey_done(struct ike_engine *e, int rc);

int ike_rekey_start(struct ike_engine *e)
{
	struct ike_rekey *k = &e->irk;
	int rc;

	if (e->sa.state != IKE_ST_ESTABLISHED)
		return -ENOENT;
	if (e->x.active || k->old.active)
		return -EBUSY;
	irk_free(k);
	next_free(&k->next);
	k->dh_group = e->sa.dh_group ? e->sa.dh_group : e->conf->ike[0].dh;
	k->ke_retries = 0;
	if (new_spi(&k->spi) || RAND_bytes(k->ni, sizeof(k->ni)) != 1)
		return -EIO;
	k->active = true;
	rc = exchange_start(e, CREATE_CHILD_SA, ike_rekey_tasks, 1,
			    ike_rekey_done);
	if (rc)
		k->active = false;
	return rc;
}

static int irk_build(struct ike_engine *e, struct ike_builder *b)
{
	struct ike_rekey *k = &e->irk;
	struct ike_chunk nonce = {k->ni, sizeof(k->ni)};
	struct ike_sa_pl sapl;
	struct ike_ke ke;
	size_t klen;

	/* 1.3.2: our proposals, each with our new SPI. */
	proposal_ike_build(e->conf, k->dh_group, k->spi, &sapl);
	if (!k->dh && !(k->dh = dh_new(k->dh_group)))
		return -1;
	ike_build_sa(b, &sapl);
	ike_build_nonce(b, &nonce);
	ke.group = k->dh_group;
	ke.data.p = dh_public(k->dh, &klen);
	ke.data.len = klen;
	ike_build_ke(b, &ke);
	return b->failed ? -1 : 0;
}

static int irk_fail(const char *why)
{
	log_warn("IKE SA rekey: %s", why);
	return TASK_FAILED;
}

static int irk_invalid_ke(struct ike_engine *e, const struct ike_notify_pl *n)
{
	struct ike_rekey *k = &e->irk;
	uint16_t g;

	if (ike_notify_group(n, &g))
		return irk_fail("malformed INVALID_KE_PAYLOAD");
	if (!proposal_ike_has_group(e->conf, g) || g == k->dh_group ||
	    k->ke_retries++ >= KE_RETRIES)
		return irk_fail("INVALID_KE_PAYLOAD for a group we did not "
				"offer");
	log_info("IKE SA rekey: gateway wants DH group %u", g);
	dh_free(k->dh);
	k->dh = NULL;
	k->dh_group = g;
	return TASK_RETRY;
}

static int irk_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_rekey *k = &e->irk;
	struct ike_new *n = &k->next;
	const struct ike_proposal_conf *pc;
	const struct ike_notify_pl *nt;
	uint8_t gir[512];
	uint64_t spi;
	int rc;

	if ((nt = ike_find_notify(m, IKE_N_INVALID_KE_PAYLOAD)))
		return irk_invalid_ke(e, nt);
	if ((nt = ike_error_notify(m)))
		return irk_fail(ike_notify_name(nt->type));
	if (!m->has_sa || !m->has_ke || !m->has_nonce)
		return irk_fail("SA, KE or Nr missing");
	if (m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return irk_fail("bad nonce length");
	if (!(pc = proposal_ike_match(e->conf, &m->sa, 8)))
		return irk_fail(
		    "the gateway chose a proposal we did not offer");
	if (m->ke.group != pc->dh || pc->dh != k->dh_group || !k->dh)
		return irk_fail("KE of another group");
	memcpy(&spi, m->sa.prop[0].spi, 8);
	next_free(n);
	n->spi_i = k->spi;
	n->spi_r = be64toh(spi);
	n->responder = false;
	if (!n->spi_r || set_suite(n, pc))
		return irk_fail("bad SPI or suite");
	if (dh_shared(k->dh, m->ke.data.p, m->ke.data.len, gir, sizeof(gir)))
		return irk_fail("invalid KE value");
	rc = derive(e, gir, dh_shared_len(pc->dh), k->ni, sizeof(k->ni),
		    m->nonce.p, m->nonce.len);
	OPENSSL_cleanse(gir, sizeof(gir));
	if (rc)
		next_free(n);
	else
		n->ready = true;
	return rc ? irk_fail("key derivation failed") : TASK_DONE;
}

const struct task task_ike_rekey = {
    .name = "ike-rekey",
    .build_i = irk_build,
    .process_i = irk_process,
    .process_r = irk_process_r,
    .build_r = irk_build_r,
    .done_r = irk_done_r,
};

/* The new SA takes over; D(IKE) goes out on the old one (2.18). */
static void ike_rekey_done(struct ike_engine *e, int rc)
{
	struct old_ike *o = &e->irk.old;
	uint8_t pkt[IKE_MAX_MSG];
	size_t len = 0;
	uint32_t id = e->sa.req_id;

	irk_free(&e->irk);
	if (rc == -ETIMEDOUT) {
		engine_sa_dead(e, "IKE SA rekey not answered");
		return;
	}
	if (rc || !e->irk.next.ready) {
		next_free(&e->irk.next);
		timer_arm_ms(e->loop, &e->irk.t_rekey, IKE_REKEY_RETRY_MS);
		return;
	}
	if (exchange_build(e, INFORMATIONAL, id, false, delete_ike_build, NULL,
			   pkt, sizeof(pkt), &len))
		len = 0;
	switch_sa(e);
	e->stats.ike_rekeys_i++;
	if (!len)
		return; /* the old SA just times out */
	memcpy(o->pkt, pkt, len);
	o->len = len;
	o->req_id = id;
	o->deleting = true;
	timer_arm_ms(e->loop, &o->t_old, e->conf->retransmit.timeout_ms);
	exchange_send_raw(e, o->pkt, o->len);
}
