/*
 * dh.c - IKEv2 Diffie-Hellman: MODP 2048 (RFC 3526 group 14), ECP 256/384/
 * 521 (RFC 5903) and Curve25519 (RFC 8031), with the checks RFC 6989 asks
 * of a received public value before it is used.
 */
#define LOG_TAG "crypto"
#include "mobiked/crypto.h"

#include "common/log.h"
#include "mobiked/ikev2.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

enum dh_kind { DH_MODP, DH_ECP, DH_X25519 };

struct dh_group_info {
	uint16_t group;
	enum dh_kind kind;
	const char *name; /* OpenSSL group or key type name */
	int nid;	  /* ECP only */
	size_t pub_len;
	size_t shared_len;
};

static const struct dh_group_info groups[] = {
    {IKE_DH_MODP2048, DH_MODP, "modp_2048", 0, 256, 256},
    {IKE_DH_ECP256, DH_ECP, "P-256", NID_X9_62_prime256v1, 64, 32},
    {IKE_DH_ECP384, DH_ECP, "P-384", NID_secp384r1, 96, 48},
    {IKE_DH_ECP521, DH_ECP, "P-521", NID_secp521r1, 132, 66},
    {IKE_DH_CURVE25519, DH_X25519, "X25519", 0, 32, 32},
};

#define DH_MAX_PUB 256

struct dh {
	const struct dh_group_info *g;
	EVP_PKEY *key;
	uint8_t pub[DH_MAX_PUB];
};

static const struct dh_group_info *group_find(uint16_t group)
{
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (groups[i].group == group)
			return &groups[i];
	return NULL;
}

size_t dh_public_len(uint16_t group)
{
	const struct dh_group_info *g = group_find(group);

	return g ? g->pub_len : 0;
}

size_t dh_shared_len(uint16_t group)
{
	const struct dh_group_info *g = group_find(group);

	return g ? g->shared_len : 0;
}

bool dh_supported(uint16_t group)
{
	return group_find(group) != NULL;
}

uint16_t dh_group(const struct dh *d)
{
	return d->g->group;
}

const uint8_t *dh_public(const struct dh *d, size_t *len)
{
	*len = d->g->pub_len;
	return d->pub;
}

void dh_free(struct dh *d)
{
	if (!d)
		return;
	EVP_PKEY_free(d->key); /* clears the private value */
	free(d);
}

/* ---- encoding our public value ---- */

static int export_modp(struct dh *d)
{
	int len = (int)d->g->pub_len;
	BIGNUM *y = NULL;
	int ok;

	ok = EVP_PKEY_get_bn_param(d->key, OSSL_PKEY_PARAM_PUB_KEY, &y) &&
	     BN_bn2binpad(y, d->pub, len) == len;
	BN_free(y);
	return ok ? 0 : -1;
}

/* OpenSSL gives SEC1 uncompressed 0x04 | x | y; IKE sends x | y. */
static int export_ecp(struct dh *d)
{
	uint8_t enc[1 + DH_MAX_PUB];
	size_t len = 0;

	if (!EVP_PKEY_get_octet_string_param(d->key,
					     OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
					     enc, sizeof(enc), &len) ||
	    len != 1 + d->g->pub_len || enc[0] != 0x04)
		return -1;
	memcpy(d->pub, enc + 1, d->g->pub_len);
	return 0;
}

static int export_x25519(struct dh *d)
{
	size_t len = d->g->pub_len;

	if (!EVP_PKEY_get_raw_public_key(d->key, d->pub, &len))
		return -1;
	return len == d->g->pub_len ? 0 : -1;
}

static int export_public(struct dh *d)
{
	switch (d->g->kind) {
	case DH_MODP:
		return export_modp(d);
	case DH_ECP:
		return export_ecp(d);
	case DH_X25519:
		return export_x25519(d);
	}
	return -1;
}

static struct dh *dh_wrap(const struct dh_group_info *g, EVP_PKEY *key)
{
	struct dh *d;

	if (!key)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		EVP_PKEY_free(key);
		return NULL;
	}
	d->g = g;
	d->key = key;
	if (export_public(d)) {
		dh_free(d);
		return NULL;
	}
	return d;
}

/* ---- key generation ---- */

static EVP_PKEY *modp_generate(const struct dh_group_info *g)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	OSSL_PARAM params[2];
	EVP_PKEY *key = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
						     (char *)g->name, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* The named group gives a 2x-security-strength private exponent. */
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    !EVP_PKEY_CTX_set_params(ctx, params) ||
	    EVP_PKEY_generate(ctx, &key) <= 0)
		key = NULL;
	EVP_PKEY_CTX_free(ctx);
	return key;
}

struct dh *dh_new(uint16_t group)
{
	const struct dh_group_info *g = group_find(group);

	if (!g)
		return NULL;
	switch (g->kind) {
	case DH_MODP:
		return dh_wrap(g, modp_generate(g));
	case DH_ECP:
		return dh_wrap(g, EVP_PKEY_Q_keygen(NULL, NULL, "EC", g->name));
	case DH_X25519:
		return dh_wrap(g, EVP_PKEY_Q_keygen(NULL, NULL, "X25519"));
	}
	return NULL;
}

/* ---- keys from parameters (peer values, KAT private keys) ---- */

/* Builds a key of type from group name plus optional pub/priv values. */
static EVP_PKEY *key_fromdata(const char *type, const char *group,
			      const BIGNUM *bn_pub, const uint8_t *oct_pub,
			      size_t oct_len, const BIGNUM *priv)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *key = NULL;
	int sel = priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;

	if (!b || !ctx ||
	    !OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
					     group, 0) ||
	    (bn_pub &&
	     !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PUB_KEY, bn_pub)) ||
	    (oct_pub && !OSSL_PARAM_BLD_push_octet_string(
			    b, OSSL_PKEY_PARAM_PUB_KEY, oct_pub, oct_len)) ||
	    (priv &&
	     !OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_PRIV_KEY, priv)) ||
	    !(params = OSSL_PARAM_BLD_to_param(b)) ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &key, sel, params) <= 0)
		key = NULL;
	OSSL_PARAM_free(params); /* priv is set only by KATs */
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* y = 2^x mod p; OpenSSL 3.0 does not derive it on import. */
static EVP_PKEY *modp_from_private(const struct dh_group_info *g,
				   const BIGNUM *x)
{
	BN_CTX *bctx = BN_CTX_new();
	BIGNUM *p = BN_get_rfc3526_prime_2048(NULL), *two = BN_new();
	BIGNUM *y = BN_new();
	EVP_PKEY *key = NULL;

	if (bctx && p && two && y && BN_set_word(two, 2) &&
	    BN_mod_exp(y, two, x, p, bctx))
		key = key_fromdata("DH", g->name, y, NULL, 0, x);
	BN_free(y);
	BN_free(two);
	BN_free(p);
	BN_CTX_free(bctx);
	return key;
}

/* Q = x.G, encoded uncompressed for the import. */
static EVP_PKEY *ecp_from_private(const struct dh_group_info *g,
				  const BIGNUM *x)
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(g->nid);
	EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
	uint8_t enc[1 + DH_MAX_PUB];
	size_t len = 1 + g->pub_len;
	EVP_PKEY *key = NULL;

	if (q && EC_POINT_mul(grp, q, x, NULL, NULL, NULL) &&
	    EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, enc, len,
			       NULL) == len)
		key = key_fromdata("EC", g->name, NULL, enc, len, x);
	EC_POINT_free(q);
	EC_GROUP_free(grp);
	return key;
}

struct dh *dh_new_from_private(uint16_t group, const uint8_t *priv, size_t len)
{
	const struct dh_group_info *g = group_find(group);
	EVP_PKEY *key = NULL;
	BIGNUM *x;

	if (!g)
		return NULL;
	if (g->kind == DH_X25519)
		return dh_wrap(g, EVP_PKEY_new_raw_private_key_ex(
				      NULL, "X25519", NULL, priv, len));
	x = BN_bin2bn(priv, (int)len, NULL);
	if (!x)
		return NULL;
	key = g->kind == DH_MODP ? modp_from_private(g, x)
				 : ecp_from_private(g, x);
	BN_clear_free(x);
	return dh_wrap(g, key);
}

/* ---- peer values (RFC 6989) ---- */

/*
 * 1 < y < p-1.  With a safe prime the only small subgroup is {1, p-1}, so
 * the range check is all RFC 6989 2.2 asks.
 */
static EVP_PKEY *modp_peer(const struct dh_group_info *g, const uint8_t *v)
{
	BIGNUM *y = BN_bin2bn(v, (int)g->pub_len, NULL);
	BIGNUM *pm1 = BN_get_rfc3526_prime_2048(NULL);
	EVP_PKEY *key = NULL;

	if (!y || !pm1 || !BN_sub_word(pm1, 1))
		goto out;
	if (BN_cmp(y, BN_value_one()) <= 0 || BN_cmp(y, pm1) >= 0) {
		log_debug("MODP public value out of range (1, p-1)");
		goto out;
	}
	key = key_fromdata("DH", g->name, y, NULL, 0, NULL);
out:
	BN_free(pm1);
	BN_free(y);
	return key;
}

/* x | y must name a point on the curve, other than infinity. */
static EVP_PKEY *ecp_peer(const struct dh_group_info *g, const uint8_t *v)
{
	uint8_t enc[1 + DH_MAX_PUB];
	EVP_PKEY *key;
	EVP_PKEY_CTX *ctx;
	int ok;

	enc[0] = 0x04;
	memcpy(enc + 1, v, g->pub_len);
	key = key_fromdata("EC", g->name, NULL, enc, 1 + g->pub_len, NULL);
	if (!key) {
		log_debug("ECP public value is not a point on %s", g->name);
		return NULL;
	}
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	/* Quick check: on the curve, not infinity, coordinates < p.  The
	 * curves have cofactor 1, so the order check would add nothing. */
	ok = ctx && EVP_PKEY_public_check_quick(ctx) > 0;
	EVP_PKEY_CTX_free(ctx);
	if (!ok) {
		log_debug("ECP public value fails the curve check");
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

static EVP_PKEY *peer_key(const struct dh_group_info *g, const uint8_t *v)
{
	switch (g->kind) {
	case DH_MODP:
		return modp_peer(g, v);
	case DH_ECP:
		return ecp_peer(g, v);
	case DH_X25519:
		return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, v,
						      g->pub_len);
	}
	return NULL;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static int derive(struct dh *d, EVP_PKEY *peer, uint8_t *out, size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, d->key, NULL);
	size_t outl = len;
	int ok;

	/* The peer value was validated above; set_peer need not redo it. */
	ok = ctx && EVP_PKEY_derive_init(ctx) > 0 &&
	     (d->g->kind != DH_MODP || EVP_PKEY_CTX_set_dh_pad(ctx, 1) > 0) &&
	     EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) > 0 &&
	     EVP_PKEY_derive(ctx, out, &outl) > 0 && outl == len;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

int dh_shared(struct dh *d, const uint8_t *peer, size_t peer_len, uint8_t *out,
	      size_t cap)
{
	size_t len = d->g->shared_len;
	EVP_PKEY *pk;
	int rc;

	if (peer_len != d->g->pub_len || cap < len) {
		log_debug("KE value: %zu octets, group %u needs %zu", peer_len,
			  d->g->group, d->g->pub_len);
		return -1;
	}
	pk = peer_key(d->g, peer);
	if (!pk)
		return -1;
	rc = derive(d, pk, out, len);
	EVP_PKEY_free(pk);
	/* RFC 7748 6.1: a low-order point yields zero; refuse it. */
	if (rc == 0 && d->g->kind == DH_X25519 && all_zero(out, len))
		rc = -1;
	if (rc) {
		log_debug("KE value for group %u rejected", d->g->group);
		OPENSSL_cleanse(out, len);
	}
	return rc;
}
