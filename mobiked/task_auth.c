/*
 * task_auth.c - IKE_AUTH authentication with a pre-shared key (RFC 7296
 * 1.2, 2.15): IDi, optional IDr, AUTH, and the status notifies that
 * belong to authentication (INITIAL_CONTACT 3.10.1, MOBIKE_SUPPORTED RFC
 * 4555 4.2.1).  The responder's AUTH is recomputed and compared in
 * constant time before anything else of the response is acted on.
 */
#define LOG_TAG "ike"

#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

/* RestOfIDPayload (2.15): ID Type, three reserved octets, the data. */
static size_t id_body(uint8_t type, const uint8_t *data, size_t len,
		      uint8_t *out, size_t cap)
{
	if (len + 4 > cap)
		return 0;
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	memcpy(out + 4, data, len);
	return len + 4;
}

static void status_notify(struct ike_builder *b, uint16_t type)
{
	struct ike_notify_pl n;

	memset(&n, 0, sizeof(n));
	n.type = type;
	ike_build_notify(b, &n);
}

/* AUTH = prf(prf(PSK, "Key Pad for IKEv2"), <signed octets>); the
 * initiator signs its IKE_SA_INIT request, Nr and prf(SK_pi, IDi'). */
static int auth_build(struct ike_engine *e, struct ike_builder *b)
{
	const struct mobiked_conf *c = e->conf;
	struct ike_sa *sa = &e->sa;
	uint8_t body[CONF_ID_MAX + 4], mac[CRYPTO_MAX_PRF_LEN];
	struct ike_id id = {.type = c->local_id.type};
	struct ike_auth auth = {.method = IKE_AUTH_PSK};
	size_t blen;

	blen = id_body(c->local_id.type, c->local_id.data, c->local_id.len,
		       body, sizeof(body));
	if (!blen || psk_auth(sa->suite.prf, c->psk, c->psk_len, sa->init_req,
			      sa->init_req_len, sa->nr, sa->nr_len,
			      sa->keys.sk_pi, sa->keys.p_len, body, blen, mac))
		return -1;
	id.data.p = c->local_id.data;
	id.data.len = c->local_id.len;
	ike_build_id(b, IKE_PL_IDI, &id);
	status_notify(b, IKE_N_INITIAL_CONTACT);
	if (c->remote_id.len) {
		id.type = c->remote_id.type;
		id.data.p = c->remote_id.data;
		id.data.len = c->remote_id.len;
		ike_build_id(b, IKE_PL_IDR, &id);
	}
	auth.data.p = mac;
	auth.data.len = sa->suite.prf->out_len;
	ike_build_auth(b, &auth);
	if (c->mobike)
		status_notify(b, IKE_N_MOBIKE_SUPPORTED);
	OPENSSL_cleanse(mac, sizeof(mac));
	return b->failed ? -1 : 0;
}

static const char *peer_name(struct ike_engine *e, char *buf, size_t n)
{
	char a[IPADDR_STRLEN];
	struct ipaddr ip;
	uint16_t port;

	if (ipaddr_from_sockaddr(&ip, &port,
				 (const struct sockaddr *)&e->sa.remote,
				 sizeof(e->sa.remote)))
		return "gateway";
	snprintf(buf, n, "gateway %s", ipaddr_str(&ip, a));
	return buf;
}

static int auth_failed(struct ike_engine *e, const char *why)
{
	char p[IPADDR_STRLEN + 16];

	log_err("IKE_AUTH with %s: %s", peer_name(e, p, sizeof(p)), why);
	snprintf(e->last_error, sizeof(e->last_error), "IKE_AUTH: %s", why);
	return TASK_FAILED;
}

/* The responder's identity must be the configured one, if any. */
static bool idr_ok(const struct ike_engine *e, const struct ike_id *idr)
{
	const struct id_conf *want = &e->conf->remote_id;

	if (!want->len)
		return true;
	return idr->type == want->type && idr->data.len == want->len &&
	       !memcmp(idr->data.p, want->data, want->len);
}

/* The responder signs its IKE_SA_INIT response, Ni and prf(SK_pr, IDr'). */
static int verify(struct ike_engine *e, const struct ike_msg *m)
{
	const struct mobiked_conf *c = e->conf;
	struct ike_sa *sa = &e->sa;
	uint8_t body[CONF_ID_MAX + 4], mac[CRYPTO_MAX_PRF_LEN];
	size_t blen, mlen = sa->suite.prf->out_len;
	bool ok;

	if (m->auth.method != IKE_AUTH_PSK)
		return auth_failed(e, "gateway used an AUTH method other than "
				      "PSK");
	blen = id_body(m->idr.type, m->idr.data.p, m->idr.data.len, body,
		       sizeof(body));
	if (!blen || psk_auth(sa->suite.prf, c->psk, c->psk_len, sa->init_resp,
			      sa->init_resp_len, sa->ni, sa->ni_len,
			      sa->keys.sk_pr, sa->keys.p_len, body, blen, mac))
		return auth_failed(e, "cannot compute AUTH");
	ok = m->auth.data.len == mlen &&
	     CRYPTO_memcmp(mac, m->auth.data.p, mlen) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	if (!ok)
		return auth_failed(e, "AUTHENTICATION_FAILED: the gateway's "
				      "AUTH does not verify (PSK mismatch?)");
	return TASK_DONE;
}

static void record_peer(struct ike_engine *e, const struct ike_msg *m)
{
	struct id_conf id = {.type = m->idr.type};
	size_t n =
	    m->idr.data.len < CONF_ID_MAX ? m->idr.data.len : CONF_ID_MAX;

	memcpy(id.data, m->idr.data.p, n);
	id.len = n;
	/* Printable for the common types; the rest as a type number. */
	if (id.type == IKE_ID_FQDN || id.type == IKE_ID_RFC822_ADDR)
		snprintf(e->sa.peer_id, sizeof(e->sa.peer_id), "%.*s", (int)n,
			 (const char *)id.data);
	else
		snprintf(e->sa.peer_id, sizeof(e->sa.peer_id), "id-type-%u",
			 id.type);
	e->sa.peer_mobike = ike_find_notify(m, IKE_N_MOBIKE_SUPPORTED);
}

static int auth_process(struct ike_engine *e, const struct ike_msg *m)
{
	const struct ike_notify_pl *err = ike_error_notify(m);
	int rc;

	e->auth_ok = false;
	if (err && err->type == IKE_N_AUTHENTICATION_FAILED)
		return auth_failed(e, "AUTHENTICATION_FAILED (the gateway "
				      "rejected our identity or PSK)");
	if (!m->has_idr || !m->has_auth) {
		if (err)
			return auth_failed(e, ike_notify_name(err->type));
		return auth_failed(e, "IDr or AUTH missing");
	}
	if (!idr_ok(e, &m->idr))
		return auth_failed(e, "AUTHENTICATION_FAILED: unexpected "
				      "gateway identity");
	rc = verify(e, m);
	if (rc != TASK_DONE)
		return rc;
	record_peer(e, m);
	e->auth_ok = true;
	log_info("IKE_AUTH: gateway '%s' authenticated with PSK",
		 e->sa.peer_id);
	return TASK_DONE;
}

const struct task task_auth = {
    .name = "ike-auth",
    .build_i = auth_build,
    .process_i = auth_process,
};
