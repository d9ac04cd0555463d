/*
 * task_init.c - IKE_SA_INIT (RFC 7296 1.2): SAi1, KEi, Ni and the
 * capability notifies (RFC 7383 fragmentation, RFC 7427 signature
 * hashes); NAT detection is the next task in the list (task_natd.c).
 *
 * The response is not authenticated, so anyone on the path can forge one
 * and it must not end the attempt (RFC 7296 2.21.1: errors before the IKE
 * SA is protected need great care, an unprotected error notify is no
 * proof; 2.4: the initiator retransmits until its schedule runs out).  A
 * response with an error notify, a bad KE value or a proposal we never
 * offered is logged and ignored (TASK_IGNORE) without touching the SA;
 * if no acceptable one comes before the retransmissions end, the attempt
 * fails naming the last thing ignored.  COOKIE (2.6) and a well-formed
 * INVALID_KE_PAYLOAD (1.2, 2.7) restart the exchange, a few times per
 * attempt (forged ones could otherwise restart it forever, each time
 * with a fresh DH key); past that they are ignored too.  An acceptable
 * response gives the suite, the responder's KE and nonce, from which the
 * keys are derived (2.14).
 */
#define LOG_TAG "ike"

#include <stdarg.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

#define MAX_COOKIE_TRIES 3
#define MAX_KE_TRIES	 2

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
		ike_build_notify_data(b, IKE_N_COOKIE, sa->cookie,
				      sa->cookie_len);
	proposal_ike_build(e->conf, 0, 0, &sapl);
	ike_build_sa(b, &sapl);
	ke.group = sa->dh_group;
	ke.data.p = dh_public(sa->dh, &klen);
	ke.data.len = klen;
	ike_build_ke(b, &ke);
	nonce.p = sa->ni;
	nonce.len = sa->ni_len;
	ike_build_nonce(b, &nonce);
	ike_build_notify_data(b, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, NULL, 0);
	ike_build_notify_data(b, IKE_N_SIGNATURE_HASH_ALGORITHMS, hashes,
			      sizeof(hashes));
	return b->failed ? -1 : 0;
}

/* The response is not acted on; the exchange keeps retransmitting. */
static int ignore(struct ike_engine *e, const char *fmt, ...)
{
	char a[IPADDR_STRLEN];
	struct ipaddr ip;
	uint16_t port;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->x.ignored, sizeof(e->x.ignored), fmt, ap);
	va_end(ap);
	if (ipaddr_from_sockaddr(&ip, &port,
				 (const struct sockaddr *)&e->sa.remote,
				 sizeof(e->sa.remote)))
		a[0] = 0;
	else
		ipaddr_str(&ip, a);
	log_warn("IKE_SA_INIT response from gateway %s ignored (not "
		 "authenticated, RFC 7296 2.21.1): %s; still waiting",
		 a, e->x.ignored);
	return TASK_IGNORE;
}

/* 1.2, 2.7: the responder wants another of the groups we offered. */
static int invalid_ke(struct ike_engine *e, const struct ike_notify_pl *n)
{
	uint16_t g;

	if (ike_notify_group(n, &g))
		return ignore(e, "INVALID_KE_PAYLOAD without a group");
	if (g == e->sa.dh_group || !proposal_ike_has_group(e->conf, g) ||
	    !dh_supported(g))
		return ignore(
		    e,
		    "INVALID_KE_PAYLOAD: gateway wants DH group %u, "
		    "which we %s",
		    g, g == e->sa.dh_group ? "just sent" : "do not offer");
	if (++e->ke_tries > MAX_KE_TRIES)
		return ignore(e,
			      "INVALID_KE_PAYLOAD (group %u) after %u "
			      "group changes already",
			      g, MAX_KE_TRIES);
	log_info("gateway wants DH group %u instead of %u: retrying", g,
		 e->sa.dh_group);
	e->sa.dh_group = g;
	return TASK_RETRY;
}

static int cookie(struct ike_engine *e, const struct ike_notify_pl *n)
{
	if (n->data.len == 0 || n->data.len > IKE_COOKIE_MAX)
		return ignore(e, "malformed COOKIE (%zu octets)", n->data.len);
	if (++e->cookie_tries > MAX_COOKIE_TRIES)
		return ignore(e, "COOKIE after %u COOKIEs already",
			      MAX_COOKIE_TRIES);
	memcpy(e->sa.cookie, n->data.p, n->data.len);
	e->sa.cookie_len = n->data.len;
	log_info("gateway sent a COOKIE: retrying with it");
	return TASK_RETRY;
}

/* What an acceptable response has, checked on local copies only. */
struct init_resp {
	const struct ike_proposal_conf *prop;
	struct ike_suite suite;
	uint8_t gir[512];
};

static int check(struct ike_engine *e, const struct ike_msg *m,
		 struct init_resp *r)
{
	const struct ike_notify_pl *n = ike_error_notify(m);

	if (n && n->type == IKE_N_INVALID_KE_PAYLOAD)
		return invalid_ke(e, n);
	if (n)
		return ignore(e, "%s", ike_notify_name(n->type));
	if (!m->has_sa || !m->has_ke || !m->has_nonce)
		return ignore(e, "SA, KE or Nonce missing");
	if (m->hdr.spi_r == 0)
		return ignore(e, "responder SPI is zero");
	r->prop = proposal_ike_match(e->conf, &m->sa, 0);
	if (!r->prop || r->prop->dh != e->sa.dh_group ||
	    proposal_ike_suite(r->prop, &r->suite))
		return ignore(e, "the gateway chose a proposal we did not "
				 "offer");
	if (m->ke.group != e->sa.dh_group)
		return ignore(e, "KE payload of a group we did not send");
	if (m->nonce.len < 16 || m->nonce.len > IKE_NONCE_MAX)
		return ignore(e, "bad nonce length");
	if (dh_shared(e->sa.dh, m->ke.data.p, m->ke.data.len, r->gir,
		      sizeof(r->gir)))
		return ignore(e, "invalid KE value (RFC 6989 check)");
	return TASK_DONE;
}

static int fail(struct ike_engine *e, const char *why)
{
	log_err("IKE_SA_INIT: %s", why);
	snprintf(e->last_error, sizeof(e->last_error), "IKE_SA_INIT: %s", why);
	return TASK_FAILED;
}

/* Only now does the SA change: what fails here is ours, not the peer's. */
static int commit(struct ike_engine *e, const struct ike_msg *m,
		  const struct init_resp *r)
{
	struct ike_sa *sa = &e->sa;

	sa->prop = *r->prop;
	sa->suite = r->suite;
	sa->spi_r = m->hdr.spi_r;
	memcpy(sa->nr, m->nonce.p, m->nonce.len);
	sa->nr_len = m->nonce.len;
	if (ike_sa_derive_keys(sa, r->gir, dh_shared_len(sa->dh_group)))
		return fail(e, "key derivation failed");
	if (ike_sa_keep(&sa->init_req, &sa->init_req_len, e->x.pkt, e->x.len) ||
	    ike_sa_keep(&sa->init_resp, &sa->init_resp_len, e->cur_pkt,
			e->cur_len))
		return fail(e, "out of memory");
	frag_note_init(e, m);
	return TASK_DONE;
}

static int init_process(struct ike_engine *e, const struct ike_msg *m)
{
	const struct ike_notify_pl *c = ike_find_notify(m, IKE_N_COOKIE);
	struct init_resp r;
	int rc;

	if (c)
		return cookie(e, c);
	rc = check(e, m, &r);
	if (rc == TASK_DONE)
		rc = commit(e, m, &r);
	OPENSSL_cleanse(r.gir, sizeof(r.gir));
	return rc;
}

const struct task task_init = {
    .name = "ike-init",
    .build_i = init_build,
    .process_i = init_process,
};
