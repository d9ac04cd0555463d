/*
 * proposal.c - SA payloads from the configured proposals, and checking
 * the one the responder chose (RFC 7296 2.7, 3.3).
 *
 * The responder must return exactly one proposal with one transform of
 * each type, taken from one of ours (3.3.6); anything else means it did
 * not follow the rules and the exchange fails.
 */
#include <endian.h>
#include <string.h>

#include "mobiked/ike_task.h"

static void add_trans(struct ike_proposal *p, uint8_t type, uint16_t id,
		      uint16_t key_len)
{
	struct ike_transform *t;

	if (p->ntrans >= IKE_MAX_TRANSFORMS)
		return;
	t = &p->trans[p->ntrans++];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->id = id;
	t->key_len = key_len;
}

static bool is_aead(uint16_t encr)
{
	return encr == IKE_ENCR_AES_GCM_8 || encr == IKE_ENCR_AES_GCM_12 ||
	       encr == IKE_ENCR_AES_GCM_16 ||
	       encr == IKE_ENCR_CHACHA20_POLY1305;
}

/* One IKE proposal of pc, numbered num; an SPI of 8 octets unless 0. */
static void ike_prop(struct ike_proposal *p, uint8_t num, uint64_t spi,
		     const struct ike_proposal_conf *pc)
{
	uint64_t be = htobe64(spi);

	memset(p, 0, sizeof(*p));
	p->num = num;
	p->protocol = IKE_PROTO_IKE;
	if (spi) {
		p->spi_size = 8;
		memcpy(p->spi, &be, 8);
	}
	add_trans(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits);
	add_trans(p, IKE_TRANS_PRF, pc->prf, 0);
	if (!is_aead(pc->encr))
		add_trans(p, IKE_TRANS_INTEG, pc->integ, 0);
	add_trans(p, IKE_TRANS_DH, pc->dh, 0);
}

/* 2.7: one proposal per configured entry, numbered from 1.  A rekey puts
 * those of its KE's group first so the gateway need not ask for another;
 * IKE_SA_INIT keeps the configured order. */
void proposal_ike_build(const struct mobiked_conf *c, uint16_t first_group,
			uint64_t spi, struct ike_sa_pl *out)
{
	bool first;

	memset(out, 0, sizeof(*out));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0;
		     i < c->n_ike && out->nprop < IKE_MAX_PROPOSALS; i++) {
			first = !first_group || c->ike[i].dh == first_group;
			if (first != (pass == 0))
				continue;
			ike_prop(&out->prop[out->nprop],
				 (uint8_t)(out->nprop + 1), spi, &c->ike[i]);
			out->nprop++;
		}
}

int proposal_ike_suite(const struct ike_proposal_conf *p, struct ike_suite *s)
{
	s->prf = prf_alg_find(p->prf);
	s->encr = encr_alg_find(p->encr, p->encr_bits);
	s->integ = s->encr && s->encr->aead ? NULL : integ_alg_find(p->integ);
	return s->prf && s->encr && (s->encr->aead || s->integ) ? 0 : -1;
}

bool proposal_ike_has_group(const struct mobiked_conf *c, uint16_t g)
{
	for (size_t i = 0; i < c->n_ike; i++)
		if (g && c->ike[i].dh == g)
			return true;
	return false;
}

bool proposal_esp_has_group(const struct mobiked_conf *c, uint16_t g)
{
	for (size_t i = 0; i < c->n_esp; i++)
		if (g && c->esp[i].dh == g)
			return true;
	return false;
}

/* The chosen proposal's single transform of a type; -1 if absent, -2 if
 * there are several (3.3.6: the responder picks one of each). */
static int pick(const struct ike_proposal *p, uint8_t type,
		const struct ike_transform **t)
{
	int n = 0;

	*t = NULL;
	for (unsigned i = 0; i < p->ntrans; i++)
		if (p->trans[i].type == type) {
			*t = &p->trans[i];
			n++;
		}
	return n == 1 ? 0 : n == 0 ? -1 : -2;
}

static bool trans_is(const struct ike_proposal *p, uint8_t type, uint16_t id,
		     uint16_t key_len, bool optional_none)
{
	const struct ike_transform *t;
	int rc = pick(p, type, &t);

	if (rc == -1)
		return optional_none && id == 0;
	return rc == 0 && t->id == id && t->key_len == key_len &&
	       !t->unknown_attr;
}

/* Only the transform types an IKE SA has (we offer no others). */
static bool ike_types_only(const struct ike_proposal *p)
{
	for (unsigned i = 0; i < p->ntrans; i++)
		if (p->trans[i].type != IKE_TRANS_ENCR &&
		    p->trans[i].type != IKE_TRANS_PRF &&
		    p->trans[i].type != IKE_TRANS_INTEG &&
		    p->trans[i].type != IKE_TRANS_DH)
			return false;
	return true;
}

static bool ike_is(const struct ike_proposal *p,
		   const struct ike_proposal_conf *pc)
{
	return trans_is(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits, false) &&
	       trans_is(p, IKE_TRANS_PRF, pc->prf, 0, false) &&
	       trans_is(p, IKE_TRANS_INTEG, is_aead(pc->encr) ? 0 : pc->integ,
			0, true) &&
	       trans_is(p, IKE_TRANS_DH, pc->dh, 0, false);
}

const struct ike_proposal_conf *
proposal_ike_match(const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
		   uint8_t spi_size)
{
	const struct ike_proposal *p = &chosen->prop[0];

	if (chosen->nprop != 1 || p->protocol != IKE_PROTO_IKE ||
	    p->spi_size != spi_size || !ike_types_only(p))
		return NULL;
	for (size_t i = 0; i < c->n_ike; i++)
		if (ike_is(p, &c->ike[i]))
			return &c->ike[i];
	return NULL;
}

/* 1.2: SAi2 in IKE_AUTH carries no DH transform (the CHILD_SA keys come
 * from the IKE SA's SK_d); the SPI is our inbound ESP SPI (3.3.1). */
static void esp_build(const struct mobiked_conf *c, uint32_t spi,
		      struct ike_sa_pl *out, bool pfs)
{
	const struct esp_proposal_conf *pc;
	struct ike_proposal *p;
	uint32_t be = htobe32(spi);

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < c->n_esp && i < IKE_MAX_PROPOSALS; i++) {
		pc = &c->esp[i];
		p = &out->prop[out->nprop++];
		p->num = (uint8_t)out->nprop;
		p->protocol = IKE_PROTO_ESP;
		p->spi_size = 4;
		memcpy(p->spi, &be, 4);
		add_trans(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits);
		if (!is_aead(pc->encr))
			add_trans(p, IKE_TRANS_INTEG, pc->integ, 0);
		if (pfs && pc->dh)
			add_trans(p, IKE_TRANS_DH, pc->dh, 0);
		add_trans(p, IKE_TRANS_ESN, pc->esn ? IKE_ESN_YES : IKE_ESN_NO,
			  0);
	}
}

void proposal_esp_build(const struct mobiked_conf *c, uint32_t spi,
			struct ike_sa_pl *out)
{
	esp_build(c, spi, out, false);
}

void proposal_esp_build_rekey(const struct mobiked_conf *c, uint32_t spi,
			      struct ike_sa_pl *out)
{
	esp_build(c, spi, out, true);
}

static const struct esp_proposal_conf *esp_match(const struct mobiked_conf *c,
						 const struct ike_sa_pl *chosen,
						 uint32_t *spi, bool pfs)
{
	const struct ike_proposal *p;
	const struct esp_proposal_conf *pc;
	uint32_t be;

	if (chosen->nprop != 1)
		return NULL;
	p = &chosen->prop[0];
	if (p->protocol != IKE_PROTO_ESP || p->spi_size != 4)
		return NULL;
	memcpy(&be, p->spi, 4);
	*spi = be32toh(be);
	for (size_t i = 0; i < c->n_esp; i++) {
		pc = &c->esp[i];
		if (trans_is(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits,
			     false) &&
		    trans_is(p, IKE_TRANS_INTEG,
			     is_aead(pc->encr) ? 0 : pc->integ, 0, true) &&
		    trans_is(p, IKE_TRANS_ESN,
			     pc->esn ? IKE_ESN_YES : IKE_ESN_NO, 0, true) &&
		    trans_is(p, IKE_TRANS_DH, pfs ? pc->dh : 0, 0, true))
			return pc;
	}
	return NULL;
}

const struct esp_proposal_conf *
proposal_esp_match(const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
		   uint32_t *spi)
{
	return esp_match(c, chosen, spi, false);
}

const struct esp_proposal_conf *
proposal_esp_match_rekey(const struct mobiked_conf *c,
			 const struct ike_sa_pl *chosen, uint32_t *spi)
{
	return esp_match(c, chosen, spi, true);
}

/* --- responder: choosing from the gateway's offer (2.7, 3.3.6) ---------- */

static bool offers(const struct ike_proposal *p, uint8_t type, uint16_t id,
		   uint16_t key_len)
{
	for (unsigned i = 0; i < p->ntrans; i++)
		if (p->trans[i].type == type && p->trans[i].id == id &&
		    p->trans[i].key_len == key_len && !p->trans[i].unknown_attr)
			return true;
	return false;
}

static bool offers_type(const struct ike_proposal *p, uint8_t type)
{
	for (unsigned i = 0; i < p->ntrans; i++)
		if (p->trans[i].type == type)
			return true;
	return false;
}

/* With an AEAD cipher the offer may list integrity "none" only. */
static bool ike_offer_has(const struct ike_proposal *p,
			  const struct ike_proposal_conf *pc)
{
	bool integ_other = false;

	if (p->protocol != IKE_PROTO_IKE || p->spi_size != 8 ||
	    !offers(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits) ||
	    !offers(p, IKE_TRANS_PRF, pc->prf, 0) ||
	    !offers(p, IKE_TRANS_DH, pc->dh, 0))
		return false;
	if (!is_aead(pc->encr))
		return offers(p, IKE_TRANS_INTEG, pc->integ, 0);
	for (unsigned i = 0; i < p->ntrans; i++)
		integ_other |=
		    p->trans[i].type == IKE_TRANS_INTEG && p->trans[i].id != 0;
	return !integ_other || offers(p, IKE_TRANS_INTEG, 0, 0);
}

const struct ike_proposal_conf *
proposal_ike_select(const struct mobiked_conf *c, const struct ike_sa_pl *offer,
		    uint16_t ke_group, uint64_t spi, struct ike_sa_pl *out,
		    uint64_t *peer_spi)
{
	const struct ike_proposal *p;
	uint64_t be;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < c->n_ike; i++)
			for (unsigned j = 0; j < offer->nprop; j++) {
				p = &offer->prop[j];
				if ((pass == 0 && c->ike[i].dh != ke_group) ||
				    !ike_offer_has(p, &c->ike[i]))
					continue;
				memcpy(&be, p->spi, 8);
				*peer_spi = be64toh(be);
				memset(out, 0, sizeof(*out));
				out->nprop = 1;
				ike_prop(&out->prop[0], p->num, spi,
					 &c->ike[i]);
				return &c->ike[i];
			}
	return NULL;
}

/* Our group if we want PFS; without, "none" when the offer allows it,
 * else the gateway's KE group (or its first supported one): its policy
 * may require PFS on rekeys. */
static bool pick_dh(const struct ike_proposal *p, uint16_t want, uint16_t ke,
		    uint16_t *dh)
{
	if (want) {
		*dh = want;
		return offers(p, IKE_TRANS_DH, want, 0);
	}
	*dh = 0;
	if (!offers_type(p, IKE_TRANS_DH) || offers(p, IKE_TRANS_DH, 0, 0))
		return true;
	if (ke && dh_supported(ke) && offers(p, IKE_TRANS_DH, ke, 0)) {
		*dh = ke;
		return true;
	}
	for (unsigned i = 0; i < p->ntrans; i++)
		if (p->trans[i].type == IKE_TRANS_DH &&
		    dh_supported(p->trans[i].id)) {
			*dh = p->trans[i].id;
			return true;
		}
	return false;
}

static bool esp_fits(const struct esp_proposal_conf *pc,
		     const struct ike_proposal *p, uint16_t ke, uint16_t *dh)
{
	uint16_t esn = pc->esn ? IKE_ESN_YES : IKE_ESN_NO;

	if (p->protocol != IKE_PROTO_ESP || p->spi_size != 4)
		return false;
	if (!offers(p, IKE_TRANS_ENCR, pc->encr, pc->encr_bits))
		return false;
	if (!is_aead(pc->encr) && !offers(p, IKE_TRANS_INTEG, pc->integ, 0))
		return false;
	if (!(offers(p, IKE_TRANS_ESN, esn, 0) ||
	      (!pc->esn && !offers_type(p, IKE_TRANS_ESN))))
		return false;
	return pick_dh(p, pc->dh, ke, dh);
}

static void answer(const struct esp_proposal_conf *pc,
		   const struct ike_proposal *p, uint32_t spi_in, uint16_t dh,
		   struct ike_sa_pl *out)
{
	struct ike_proposal *a = &out->prop[0];
	uint32_t be = htobe32(spi_in);

	memset(out, 0, sizeof(*out));
	out->nprop = 1;
	a->num = p->num;
	a->protocol = IKE_PROTO_ESP;
	a->spi_size = 4;
	memcpy(a->spi, &be, 4);
	add_trans(a, IKE_TRANS_ENCR, pc->encr, pc->encr_bits);
	if (!is_aead(pc->encr))
		add_trans(a, IKE_TRANS_INTEG, pc->integ, 0);
	if (dh)
		add_trans(a, IKE_TRANS_DH, dh, 0);
	add_trans(a, IKE_TRANS_ESN, pc->esn ? IKE_ESN_YES : IKE_ESN_NO, 0);
}

const struct esp_proposal_conf *
proposal_esp_select(const struct mobiked_conf *c, const struct ike_sa_pl *offer,
		    uint16_t ke_group, uint32_t spi_in, struct ike_sa_pl *out,
		    uint32_t *peer_spi, uint16_t *dh)
{
	const struct ike_proposal *p;
	uint32_t be;

	for (size_t i = 0; i < c->n_esp; i++)
		for (unsigned j = 0; j < offer->nprop; j++) {
			p = &offer->prop[j];
			if (!esp_fits(&c->esp[i], p, ke_group, dh))
				continue;
			memcpy(&be, p->spi, 4);
			*peer_spi = be32toh(be);
			answer(&c->esp[i], p, spi_in, *dh, out);
			return &c->esp[i];
		}
	return NULL;
}
