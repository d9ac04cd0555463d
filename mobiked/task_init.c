/*
 * task_init.c - IKE_SA_INIT (RFC 7296 1.2) with its embedded NAT
 * detection (2.23): SAi1, KEi, Ni, NAT-D, and the capability notifies
 * (RFC 7383 fragmentation, RFC 7427 signature hashes).  The response
 * either asks for a retry (COOKIE 2.6, INVALID_KE_PAYLOAD 1.2/2.7), fails
 * (an error notify, a proposal we never offered), or gives the suite, the
 * responder's KE and nonce, from which the keys are derived (2.14).
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

#define MAX_COOKIE_TRIES 3
#define NATD_LEN	 20 /* SHA-1 */

/* 2.23: SHA-1(SPIi | SPIr | IP | Port), all in network order. */
int natd_hash(const struct ike_sa *sa, const struct sockaddr_storage *ss,
	      uint8_t out[NATD_LEN])
{
	uint8_t in[8 + 8 + 16 + 2];
	uint64_t si = htobe64(sa->spi_i), sr = htobe64(sa->spi_r);
	struct ipaddr a;
	uint16_t port, pbe;
	size_t alen, n = 0;
	unsigned olen = 0;

	if (ipaddr_from_sockaddr(&a, &port, (const struct sockaddr *)ss,
				 sizeof(*ss)))
		return -1;
	alen = ipaddr_len(&a);
	pbe = htobe16(port);
	memcpy(in, &si, 8);
	memcpy(in + 8, &sr, 8);
	n = 16;
	memcpy(in + n, a.b, alen);
	n += alen;
	memcpy(in + n, &pbe, 2);
	n += 2;
	return EVP_Digest(in, n, out, &olen, EVP_sha1(), NULL) == 1 ? 0 : -1;
}

static void notify(struct ike_builder *b, uint16_t type, const void *data,
		   size_t len)
{
	struct ike_notify_pl n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	n.data.p = data;
	n.data.len = len;
	ike_build_notify(b, &n);
}

/* A fresh DH key for the current group, and our nonce, once per try. */
static int prepare(struct ike_engine *e)
{
	struct ike_sa *sa = &e->sa;

	if (!sa->dh || dh_group(sa->dh) != sa->dh_group) {
		dh_free(sa->dh);
		sa->dh = dh_new(sa->dh_group);
		if (!sa->dh)
			return -1;
	}
	if (!sa->ni_len) {
		if (RAND_bytes(sa->ni, IKE_NONCE_LEN) != 1)
			return -1;
		sa->ni_len = IKE_NONCE_LEN;
	}
	return 0;
}

/* 2.23: with `encap` (or a data plane that only does ESP-in-UDP) the
 * source hash is random, so the responder sees us behind a NAT and both
 * sides use UDP encapsulation (RFC 3948). */
static void build_natd(struct ike_engine *e, struct ike_builder *b)
{
	uint8_t src[NATD_LEN], dst[NATD_LEN];

	if (e->force_encap || e->conf->encap)
		RAND_bytes(src, sizeof(src));
	else if (natd_hash(&e->sa, &e->sa.local, src))
		b->failed = true;
	if (natd_hash(&e->sa, &e->sa.remote, dst))
		b->failed = true;
	notify(b, IKE_N_NAT_DETECTION_SOURCE_IP, src, sizeof(src));
	notify(b, IKE_N_NAT_DETECTION_DESTINATION_IP, dst, sizeof(dst));
}

static int init_build(struct ike_engine *e, struct ike_builder *b)
{
	static const uint8_t hashes[] = {0, 2, 0, 3, 0, 4}; /* RFC 7427 */
	struct ike_sa *sa = &e->sa;
	struct ike_sa_pl sapl;
	struct ike_chunk nonce;
	struct ike_ke ke;
	size_t klen;

	if (prepare(e))
		return -1;
	if (sa->cookie_len) /* 2.6: N(COOKIE) comes first */
		notify(b, IKE_N_COOKIE, sa->cookie, sa->cookie_len);
	proposal_ike_build(e->conf, sa->dh_group, &sapl);
	ike_build_sa(b, &sapl);
	ke.group = sa->dh_group;
	ke.data.p = dh_public(sa->dh, &klen);
	ke.data.len = klen;
	ike_build_ke(b, &ke);
	nonce.p = sa->ni;
	nonce.len = sa->ni_len;
	ike_build_nonce(b, &nonce);
	build_natd(e, b);
	notify(b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	notify(b, IKE_N_SIGNATURE_HASH_ALGORITHMS, hashes, sizeof(hashes));
	return b->failed ? -1 : 0;
}

static bool group_offered(const struct mobiked_conf *c, uint16_t g)
{
	for (size_t i = 0; i < c->n_ike; i++)
		if (c->ike[i].dh == g)
			return true;
	return false;
}

/* 1.2, 2.7: the responder wants another of the groups we offered. */
static int invalid_ke(struct ike_engine *e, const struct ike_notify_pl *n)
{
	uint16_t g;

	if (n->data.len != 2)
		return TASK_FAILED;
	g = (uint16_t)(n->data.p[0] << 8 | n->data.p[1]);
	if (g == e->sa.dh_group || !group_offered(e->conf, g) ||
	    !dh_supported(g)) {
		log_err("gateway wants DH group %u, which we do not offer", g);
		return TASK_FAILED;
	}
	log_info("gateway wants DH group %u instead of %u: retrying", g,
		 e->sa.dh_group);
	e->sa.dh_group = g;
	return TASK_RETRY;
}

static int cookie(struct ike_engine *e, const struct ike_notify_pl *n)
{
	if (n->data.len == 0 || n->data.len > IKE_COOKIE_MAX ||
	    ++e->cookie_tries > MAX_COOKIE_TRIES)
		return TASK_FAILED;
	memcpy(e->sa.cookie, n->data.p, n->data.len);
	e->sa.cookie_len = n->data.len;
	log_info("gateway sent a COOKIE: retrying with it");
	return TASK_RETRY;
}

/* Any of the received hashes matching the expected one means no NAT on
 * that side (2.23: several NAT_DETECTION_SOURCE_IP may come). */
static bool natd_match(const struct ike_msg *m, uint16_t type,
		       const uint8_t want[NATD_LEN], bool *seen)
{
	for (unsigned i = 0; i < m->nnotify; i++) {
		if (m->notify[i].type != type)
			continue;
		*seen = true;
		if (m->notify[i].data.len == NATD_LEN &&
		    !memcmp(m->notify[i].data.p, want, NATD_LEN))
			return true;
	}
	return false;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htobe16(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htobe16(port);
}

/* 2.23: their SOURCE hash is about them, DESTINATION about us.  Any NAT
 * (or forced encapsulation) moves IKE to port 4500 from IKE_AUTH on. */
static void nat_detect(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_sa *sa = &e->sa;
	uint8_t me[NATD_LEN], them[NATD_LEN];
	bool seen = false;

	if (natd_hash(sa, &sa->local, me) || natd_hash(sa, &sa->remote, them))
		return;
	sa->nat_local = !natd_match(m, IKE_N_NAT_DETECTION_DESTINATION_IP, me,
				    &seen);
	sa->nat_remote = !natd_match(m, IKE_N_NAT_DETECTION_SOURCE_IP, them,
				     &seen);
	if (!seen) {
		sa->nat_local = sa->nat_remote = false;
		log_info("gateway does not support NAT detection");
	}
	log_info("NAT detection: local %s, remote %s",
		 sa->nat_local ? "behind NAT" : "no NAT",
		 sa->nat_remote ? "behind NAT (or faked)" : "no NAT");
	if (sa->nat_local || sa->nat_remote || e->force_encap ||
	    e->conf->encap) {
		sa->natt = true;
		set_port(&sa->local, IKE_NATT_PORT);
		set_port(&sa->remote, IKE_NATT_PORT);
	}
}

static int set_suite(struct ike_engine *e, const struct ike_proposal_conf *p)
{
	struct ike_sa *sa = &e->sa;

	sa->prop = *p;
	sa->suite.prf = prf_alg_find(p->prf);
	sa->suite.encr = encr_alg_find(p->encr, p->encr_bits);
	sa->suite.integ = sa->suite.encr && sa->suite.encr->aead
			      ? NULL
			      : integ_alg_find(p->integ);
	if (!sa->suite.prf || !sa->suite.encr ||
	    (!sa->suite.encr->aead && !sa->suite.integ))
		return -1;
	return 0;
}

static int error_notify(struct ike_engine *e, const struct ike_msg *m)
{
	const struct ike_notify_pl *n = ike_error_notify(m);

	if (!n)
		return -1;
	if (n->type == IKE_N_INVALID_KE_PAYLOAD)
		return invalid_ke(e, n);
	log_err("IKE_SA_INIT with the gateway failed: %s",
		ike_notify_name(n->type));
	snprintf(e->last_error, sizeof(e->last_error), "IKE_SA_INIT: %s",
		 ike_notify_name(n->type));
	return TASK_FAILED;
}

static int fail(struct ike_engine *e, const char *why)
{
	log_err("IKE_SA_INIT response: %s", why);
	snprintf(e->last_error, sizeof(e->last_error), "IKE_SA_INIT: %s", why);
	return TASK_FAILED;
}

static int derive(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_sa *sa = &e->sa;
	uint8_t gir[512];
	size_t glen = dh_shared_len(sa->dh_group);
	int rc;

	if (m->ke.group != sa->dh_group)
		return fail(e, "KE payload of a group we did not send");
	if (m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return fail(e, "bad nonce length");
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	if (dh_shared(sa->dh, m->ke.data.p, m->ke.data.len, gir, sizeof(gir)))
		return fail(e, "invalid KE value (RFC 6989 check)");
	rc = ike_sa_derive_keys(sa, gir, glen);
	memset(gir, 0, sizeof(gir));
	if (rc)
		return fail(e, "key derivation failed");
	if (ike_sa_keep(&sa->init_req, &sa->init_req_len, e->x.pkt, e->x.len) ||
	    ike_sa_keep(&sa->init_resp, &sa->init_resp_len, e->cur_pkt,
			e->cur_len))
		return fail(e, "out of memory");
	return TASK_DONE;
}

static int init_process(struct ike_engine *e, const struct ike_msg *m)
{
	const struct ike_notify_pl *c = ike_find_notify(m, IKE_N_COOKIE);
	const struct ike_proposal_conf *p;
	int rc;

	if (c)
		return cookie(e, c);
	rc = error_notify(e, m);
	if (rc >= 0)
		return rc;
	if (!m->has_sa || !m->has_ke || !m->has_nonce)
		return fail(e, "SA, KE or Nonce missing");
	if (m->hdr.spi_r == 0)
		return fail(e, "responder SPI is zero");
	p = proposal_ike_match(e->conf, &m->sa);
	if (!p || set_suite(e, p))
		return fail(e, "the gateway chose a proposal we did not offer");
	e->sa.spi_r = m->hdr.spi_r;
	rc = derive(e, m);
	if (rc != TASK_DONE) {
		e->sa.spi_r = 0;
		return rc;
	}
	nat_detect(e, m);
	return TASK_DONE;
}

const struct task task_init = {
    .name = "ike-init",
    .build_i = init_build,
    .process_i = init_process,
};
