/*
 * rekey_respond.c - the gateway's CREATE_CHILD_SA, answered as responder.
 *
 * Rekeying a CHILD_SA (RFC 7296 1.3.3, 2.8):
 *   HDR, SK {N(REKEY_SA), SA, Ni, [KEi], TSi, TSr}
 *   -> HDR, SK {SA, Nr, [KEr], TSi, TSr}
 * N(REKEY_SA) carries the SPI the gateway receives on (our outbound SPI
 * of the SA it replaces).  The new SA is installed before the answer goes
 * out; the old one stays until the gateway's DELETE (task_delete.c).
 *
 * An SA payload for IKE rekeys the IKE SA (1.3.2): ike_rekey.c.
 * Refused, with only an error notify and no state change:
 *   a new CHILD_SA without REKEY_SA           NO_ADDITIONAL_SAS
 *   REKEY_SA naming no SA of ours             CHILD_SA_NOT_FOUND
 *   an SA already rekeyed                     TEMPORARY_FAILURE
 *   no acceptable proposal                    NO_PROPOSAL_CHOSEN
 *   TS not those of the SA                    TS_UNACCEPTABLE
 *   KE missing or of another group            INVALID_KE_PAYLOAD (group)
 *   nonce/TS missing or bad KE value          INVALID_SYNTAX
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

struct rr {
	const struct ike_msg *m;
	struct ike_child *old;
	struct ike_child nc;
	struct ike_sa_pl answer;
	uint16_t dh;
	struct dh *d;
	uint8_t nr[IKE_NONCE_LEN];
	uint8_t gir[512];
	size_t glen;
};

static void refuse(struct ike_builder *b, uint16_t type, const void *data,
		   size_t len, const struct ike_notify_pl *about)
{
	struct ike_notify_pl n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data = (struct ike_chunk){data, len};
	if (about) { /* 3.10: the SPI the error is about */
		n.protocol = about->protocol;
		n.spi_size = about->spi_size;
		memcpy(n.spi, about->spi, sizeof(n.spi));
	}
	ike_build_notify(b, &n);
	log_info("gateway's CREATE_CHILD_SA refused: %s",
		 ike_notify_name(type));
}

/* Which SA the request replaces: 0, or the notify to refuse with. */
static uint16_t find_old(struct ike_engine *e, struct rr *r,
			 const struct ike_notify_pl **rn)
{
	const struct ike_msg *m = r->m;
	uint32_t be;

	*rn = ike_find_notify(m, IKE_N_REKEY_SA);
	if (!*rn)
		return IKE_N_NO_ADDITIONAL_SAS; /* one CHILD_SA only */
	if ((*rn)->protocol != IKE_PROTO_ESP || (*rn)->spi_size != 4)
		return IKE_N_CHILD_SA_NOT_FOUND;
	memcpy(&be, (*rn)->spi, 4);
	r->old = child_by_spi_out(e, be32toh(be));
	if (!r->old)
		return IKE_N_CHILD_SA_NOT_FOUND;
	if (r->old != &e->sa.child)
		return IKE_N_TEMPORARY_FAILURE; /* being deleted */
	return 0;
}

/* The gateway is the initiator: its TSi is our TSr and vice versa. */
static uint16_t check_shape(const struct rr *r)
{
	const struct ike_msg *m = r->m;

	if (!m->has_tsi || !m->has_tsr || !m->has_nonce ||
	    m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return IKE_N_INVALID_SYNTAX;
	if (!child_ts_subset(&m->tsi, &r->old->tsr) ||
	    !child_ts_subset(&m->tsr, &r->old->tsi))
		return IKE_N_TS_UNACCEPTABLE;
	return 0;
}

static uint16_t choose(struct ike_engine *e, struct rr *r)
{
	const struct ike_msg *m = r->m;
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
	nc->integ = nc->encr && !nc->encr->aead ? integ_alg_find(p->integ)
						: NULL;
	if (!nc->encr || (!nc->encr->aead && !nc->integ))
		return IKE_N_NO_PROPOSAL_CHOSEN;
	nc->esn = p->esn;
	nc->tsi = m->tsr;
	nc->tsr = m->tsi;
	return 0;
}

/* 1.3: with a DH group chosen, the KE must be of that group. */
static uint16_t key_exchange(struct rr *r)
{
	const struct ike_msg *m = r->m;

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
static void note_collision(struct ike_engine *e, const struct rr *r)
{
	struct child_rekey *rk = &e->rk;
	const struct ike_chunk *ni = &r->m->nonce;

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

static void answer(struct rr *r, struct ike_builder *b)
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
	ike_build_ts(b, IKE_PL_TSI, &r->m->tsi);
	ike_build_ts(b, IKE_PL_TSR, &r->m->tsr);
}

static uint16_t accept_rekey(struct ike_engine *e, struct rr *r,
			     struct ike_builder *b)
{
	const struct ike_chunk *ni = &r->m->nonce;
	uint32_t old_in = r->old->spi_in;
	uint16_t err;

	if ((err = check_shape(r)) || (err = choose(e, r)) ||
	    (err = key_exchange(r)))
		return err;
	if (RAND_bytes(r->nr, sizeof(r->nr)) != 1)
		return IKE_N_TEMPORARY_FAILURE;
	if (child_install(e, &r->nc, r->glen ? r->gir : NULL, r->glen, ni->p,
			  ni->len, r->nr, sizeof(r->nr), false))
		return IKE_N_TEMPORARY_FAILURE;
	note_collision(e, r);
	child_promote(e, &r->nc);
	e->stats.rekeys_r++;
	log_info("gateway rekeyed CHILD_SA %08x_i to %08x_i %08x_o%s", old_in,
		 r->nc.spi_in, r->nc.spi_out, r->glen ? " (PFS)" : "");
	answer(r, b);
	return 0;
}

void rekey_respond(struct ike_engine *e, const struct ike_msg *m,
		   struct ike_builder *b)
{
	const struct ike_notify_pl *rn = NULL;
	struct rr r;
	uint16_t err, be;

	if (m->sa.nprop && m->sa.prop[0].protocol == IKE_PROTO_IKE) {
		ike_rekey_respond(e, m, b); /* 1.3.2: ike_rekey.c */
		return;
	}
	memset(&r, 0, sizeof(r));
	r.m = m;
	err = find_old(e, &r, &rn);
	if (!err)
		err = accept_rekey(e, &r, b);
	if (err == IKE_N_INVALID_KE_PAYLOAD) {
		be = htobe16(r.dh);
		refuse(b, err, &be, 2, NULL);
	} else if (err) {
		refuse(b, err, NULL, 0,
		       err == IKE_N_CHILD_SA_NOT_FOUND ? rn : NULL);
	}
	dh_free(r.d);
	OPENSSL_cleanse(r.gir, sizeof(r.gir));
}
