/*
 * crypto.c - algorithm tables, prf/prf+, IKE and CHILD_SA key derivation,
 * PSK AUTH, HMAC integrity and the per-SA SK/ESP protection context.
 * Diffie-Hellman lives in dh.c.
 */
#define LOG_TAG "crypto"
#include "mobiked/crypto.h"

#include "common/log.h"
#include "mobiked/ikev2.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/* ---- algorithm tables ---- */

static const struct prf_alg prf_algs[] = {
    {IKE_PRF_HMAC_SHA1, "PRF_HMAC_SHA1", "SHA1", 20, 20},
    {IKE_PRF_HMAC_SHA2_256, "PRF_HMAC_SHA2_256", "SHA256", 32, 32},
    {IKE_PRF_HMAC_SHA2_384, "PRF_HMAC_SHA2_384", "SHA384", 48, 48},
    {IKE_PRF_HMAC_SHA2_512, "PRF_HMAC_SHA2_512", "SHA512", 64, 64},
};

/* RFC 4868: key length = digest length, ICV = half of it (SHA1: 96 bits). */
static const struct integ_alg integ_algs[] = {
    {IKE_INTEG_HMAC_SHA1_96, "HMAC_SHA1_96", "SHA1", 20, 12},
    {IKE_INTEG_HMAC_SHA2_256_128, "HMAC_SHA2_256_128", "SHA256", 32, 16},
    {IKE_INTEG_HMAC_SHA2_384_192, "HMAC_SHA2_384_192", "SHA384", 48, 24},
    {IKE_INTEG_HMAC_SHA2_512_256, "HMAC_SHA2_512_256", "SHA512", 64, 32},
};

static const struct encr_alg encr_algs[] = {
    {IKE_ENCR_AES_CBC, 128, "AES_CBC_128", "AES-128-CBC", 16, 0, 16, 16, 0,
     false},
    {IKE_ENCR_AES_CBC, 192, "AES_CBC_192", "AES-192-CBC", 24, 0, 16, 16, 0,
     false},
    {IKE_ENCR_AES_CBC, 256, "AES_CBC_256", "AES-256-CBC", 32, 0, 16, 16, 0,
     false},
    /* RFC 5282 / 4106: keying material is key | 4-byte salt. */
    {IKE_ENCR_AES_GCM_16, 128, "AES_GCM_16_128", "AES-128-GCM", 20, 4, 8, 1, 16,
     true},
    {IKE_ENCR_AES_GCM_16, 192, "AES_GCM_16_192", "AES-192-GCM", 28, 4, 8, 1, 16,
     true},
    {IKE_ENCR_AES_GCM_16, 256, "AES_GCM_16_256", "AES-256-GCM", 36, 4, 8, 1, 16,
     true},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const struct prf_alg *prf_alg_find(uint16_t id)
{
	for (size_t i = 0; i < NELEM(prf_algs); i++)
		if (prf_algs[i].id == id)
			return &prf_algs[i];
	return NULL;
}

const struct integ_alg *integ_alg_find(uint16_t id)
{
	for (size_t i = 0; i < NELEM(integ_algs); i++)
		if (integ_algs[i].id == id)
			return &integ_algs[i];
	return NULL;
}

const struct encr_alg *encr_alg_find(uint16_t id, uint16_t key_bits)
{
	for (size_t i = 0; i < NELEM(encr_algs); i++)
		if (encr_algs[i].id == id && encr_algs[i].key_bits == key_bits)
			return &encr_algs[i];
	return NULL;
}

/* ---- HMAC over chunks ---- */

/* A keyed HMAC context; the caller frees it. */
static EVP_MAC_CTX *hmac_new(const char *digest, const void *key, size_t klen)
{
	static const uint8_t empty;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[2];

	EVP_MAC_free(mac); /* the context holds its own reference */
	if (!ctx)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* A NULL key means "re-init with the old key" to OpenSSL. */
	if (!EVP_MAC_init(ctx, klen ? key : &empty, klen, params)) {
		EVP_MAC_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Feeds the chunks and writes the full MAC; ctx must be (re)initialised. */
static int hmac_run(EVP_MAC_CTX *ctx, const struct chunk *in, size_t nin,
		    uint8_t *out, size_t outcap)
{
	size_t outl = 0;

	for (size_t i = 0; i < nin; i++)
		if (in[i].n && !EVP_MAC_update(ctx, in[i].p, in[i].n))
			return -1;
	return EVP_MAC_final(ctx, out, &outl, outcap) ? 0 : -1;
}

/* ---- prf, prf+ ---- */

int prf_v(const struct prf_alg *a, const void *key, size_t klen,
	  const struct chunk *in, size_t nin, uint8_t *out)
{
	EVP_MAC_CTX *ctx = hmac_new(a->digest, key, klen);
	int rc;

	if (!ctx)
		return -1;
	rc = hmac_run(ctx, in, nin, out, a->out_len);
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int prf(const struct prf_alg *a, const void *key, size_t klen, const void *data,
	size_t dlen, uint8_t *out)
{
	struct chunk c = {data, dlen};

	return prf_v(a, key, klen, &c, 1, out);
}

/* T(n) = prf(K, T(n-1) | S | n), with T(0) empty. */
static int prf_plus_round(EVP_MAC_CTX *ctx, const struct prf_alg *a, uint8_t *t,
			  size_t tlen, const struct chunk *seed, size_t nseed,
			  uint8_t n)
{
	if (!EVP_MAC_init(ctx, NULL, 0, NULL))
		return -1;
	if (tlen && !EVP_MAC_update(ctx, t, tlen))
		return -1;
	for (size_t i = 0; i < nseed; i++)
		if (seed[i].n && !EVP_MAC_update(ctx, seed[i].p, seed[i].n))
			return -1;
	if (!EVP_MAC_update(ctx, &n, 1))
		return -1;
	return hmac_run(ctx, NULL, 0, t, a->out_len);
}

int prf_plus(const struct prf_alg *a, const void *key, size_t klen,
	     const struct chunk *seed, size_t nseed, uint8_t *out,
	     size_t outlen)
{
	uint8_t t[CRYPTO_MAX_PRF_LEN];
	EVP_MAC_CTX *ctx;
	size_t done = 0, tlen = 0;
	int rc = 0;

	if (outlen > CRYPTO_PRF_PLUS_MAX_ROUNDS * a->out_len)
		return -1;
	ctx = hmac_new(a->digest, key, klen);
	if (!ctx)
		return -1;
	for (unsigned n = 1; done < outlen && rc == 0; n++) {
		size_t take;

		rc = prf_plus_round(ctx, a, t, tlen, seed, nseed, (uint8_t)n);
		tlen = a->out_len;
		take = outlen - done < tlen ? outlen - done : tlen;
		memcpy(out + done, t, take);
		done += take;
	}
	EVP_MAC_CTX_free(ctx);
	OPENSSL_cleanse(t, sizeof(t));
	if (rc)
		OPENSSL_cleanse(out, outlen);
	return rc;
}

/* ---- IKE SA keys ---- */

int ike_skeyseed(const struct prf_alg *prf_a, const uint8_t *ni, size_t ni_len,
		 const uint8_t *nr, size_t nr_len, const uint8_t *gir,
		 size_t gir_len, uint8_t *out)
{
	uint8_t key[2 * 256]; /* nonces are at most 256 bytes each */
	int rc;

	if (ni_len > 256 || nr_len > 256)
		return -1;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	rc = prf(prf_a, key, ni_len + nr_len, gir, gir_len, out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int ike_skeyseed_rekey(const struct prf_alg *old_prf, const uint8_t *old_sk_d,
		       size_t old_d_len, const uint8_t *gir, size_t gir_len,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		       size_t nr_len, uint8_t *out)
{
	struct chunk in[] = {{gir, gir_len}, {ni, ni_len}, {nr, nr_len}};

	return prf_v(old_prf, old_sk_d, old_d_len, in, NELEM(in), out);
}

static void ike_keys_sizes(const struct ike_suite *s, struct ike_keys *k)
{
	k->d_len = s->prf->key_len;
	k->p_len = s->prf->key_len;
	k->e_len = s->encr->key_len;
	k->a_len = s->integ ? s->integ->key_len : 0;
}

size_t ike_keys_len(const struct ike_suite *s)
{
	struct ike_keys k;

	ike_keys_sizes(s, &k);
	return k.d_len + 2 * (k.a_len + k.e_len + k.p_len);
}

/* Copies the next n bytes of the keystream into dst. */
static const uint8_t *take(uint8_t *dst, const uint8_t *src, size_t n)
{
	memcpy(dst, src, n);
	return src + n;
}

static bool suite_ok(const struct ike_suite *s)
{
	return s->prf && s->encr && (s->encr->aead == !s->integ);
}

int ike_keys_derive(const struct ike_suite *s, const uint8_t *skeyseed,
		    size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
		    const uint8_t *nr, size_t nr_len, const uint8_t spii[8],
		    const uint8_t spir[8], struct ike_keys *k)
{
	struct chunk seed[] = {
	    {ni, ni_len}, {nr, nr_len}, {spii, 8}, {spir, 8}};
	uint8_t km[7 * CRYPTO_MAX_PRF_LEN];
	const uint8_t *p = km;
	size_t total;

	memset(k, 0, sizeof(*k));
	if (!suite_ok(s))
		return -1;
	ike_keys_sizes(s, k);
	total = ike_keys_len(s);
	if (prf_plus(s->prf, skeyseed, skeyseed_len, seed, NELEM(seed), km,
		     total))
		return -1;
	p = take(k->sk_d, p, k->d_len);
	p = take(k->sk_ai, p, k->a_len);
	p = take(k->sk_ar, p, k->a_len);
	p = take(k->sk_ei, p, k->e_len);
	p = take(k->sk_er, p, k->e_len);
	p = take(k->sk_pi, p, k->p_len);
	take(k->sk_pr, p, k->p_len);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

void ike_keys_wipe(struct ike_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

void ike_keys_log(const struct ike_keys *k)
{
	if (!log_enabled(LOG_TAG, L_SECRET))
		return;
	log_secret_hex(LOG_TAG, "SK_d", k->sk_d, k->d_len);
	log_secret_hex(LOG_TAG, "SK_ai", k->sk_ai, k->a_len);
	log_secret_hex(LOG_TAG, "SK_ar", k->sk_ar, k->a_len);
	log_secret_hex(LOG_TAG, "SK_ei", k->sk_ei, k->e_len);
	log_secret_hex(LOG_TAG, "SK_er", k->sk_er, k->e_len);
	log_secret_hex(LOG_TAG, "SK_pi", k->sk_pi, k->p_len);
	log_secret_hex(LOG_TAG, "SK_pr", k->sk_pr, k->p_len);
}

/* ---- CHILD_SA keys ---- */

int child_keys_derive(const struct prf_alg *prf_a, const uint8_t *sk_d,
		      size_t d_len, const struct encr_alg *encr,
		      const struct integ_alg *integ, const uint8_t *gir,
		      size_t gir_len, const uint8_t *ni, size_t ni_len,
		      const uint8_t *nr, size_t nr_len, struct child_keys *k)
{
	struct chunk seed[] = {
	    {gir, gir ? gir_len : 0}, {ni, ni_len}, {nr, nr_len}};
	uint8_t km[2 * (CRYPTO_MAX_ENCR_KEY + CRYPTO_MAX_INTEG_KEY)];
	const uint8_t *p = km;

	memset(k, 0, sizeof(*k));
	if (!encr || encr->aead != !integ)
		return -1;
	k->e_len = encr->key_len;
	k->a_len = integ ? integ->key_len : 0;
	if (prf_plus(prf_a, sk_d, d_len, seed, NELEM(seed), km,
		     2 * (k->e_len + k->a_len)))
		return -1;
	p = take(k->ei, p, k->e_len);
	p = take(k->ai, p, k->a_len);
	p = take(k->er, p, k->e_len);
	take(k->ar, p, k->a_len);
	OPENSSL_cleanse(km, sizeof(km));
	return 0;
}

void child_keys_wipe(struct child_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

/* ---- PSK AUTH ---- */

int psk_auth(const struct prf_alg *prf_a, const uint8_t *psk, size_t psk_len,
	     const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
	     size_t nonce_len, const uint8_t *sk_p, size_t sk_p_len,
	     const uint8_t *id_body, size_t id_len, uint8_t *out)
{
	static const char pad[] = "Key Pad for IKEv2"; /* 17 octets, no NUL */
	uint8_t id_mac[CRYPTO_MAX_PRF_LEN], key[CRYPTO_MAX_PRF_LEN];
	struct chunk signed_octets[] = {
	    {msg, msg_len}, {nonce, nonce_len}, {id_mac, prf_a->out_len}};
	int rc = -1;

	if (prf(prf_a, sk_p, sk_p_len, id_body, id_len, id_mac) == 0 &&
	    prf(prf_a, psk, psk_len, pad, sizeof(pad) - 1, key) == 0)
		rc = prf_v(prf_a, key, prf_a->out_len, signed_octets,
			   NELEM(signed_octets), out);
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ---- integrity ---- */

struct integ_ctx {
	const struct integ_alg *alg;
	EVP_MAC_CTX *mac;
};

struct integ_ctx *integ_new(const struct integ_alg *a, const uint8_t *key,
			    size_t klen)
{
	struct integ_ctx *c;

	if (klen != a->key_len)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->alg = a;
	c->mac = hmac_new(a->digest, key, klen);
	if (!c->mac) {
		free(c);
		return NULL;
	}
	return c;
}

void integ_free(struct integ_ctx *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->mac); /* cleanses the HMAC key state */
	free(c);
}

int integ_compute(struct integ_ctx *c, const struct chunk *in, size_t nin,
		  uint8_t *icv)
{
	uint8_t full[EVP_MAX_MD_SIZE];
	int rc = -1;

	if (EVP_MAC_init(c->mac, NULL, 0, NULL) &&
	    hmac_run(c->mac, in, nin, full, sizeof(full)) == 0) {
		memcpy(icv, full, c->alg->icv_len);
		rc = 0;
	}
	OPENSSL_cleanse(full, sizeof(full));
	return rc;
}

int integ_verify(struct integ_ctx *c, const struct chunk *in, size_t nin,
		 const uint8_t *icv)
{
	uint8_t want[CRYPTO_MAX_ICV];

	if (integ_compute(c, in, nin, want))
		return -1;
	return CRYPTO_memcmp(want, icv, c->alg->icv_len) == 0 ? 0 : -1;
}

/* ---- per-SA protection context ---- */

struct sk_ctx {
	const struct encr_alg *encr;
	const struct integ_alg *integ;
	enum sk_dir dir;
	EVP_CIPHER_CTX *cipher;
	struct integ_ctx *mac; /* CBC only */
	uint8_t salt[CRYPTO_GCM_SALT_LEN];
	uint64_t iv_counter; /* GCM outbound */
};

static int sk_cipher_init(struct sk_ctx *c, const uint8_t *key)
{
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, c->encr->cipher, NULL);
	int ok;

	c->cipher = EVP_CIPHER_CTX_new();
	ok = cipher && c->cipher &&
	     EVP_CipherInit_ex(c->cipher, cipher, NULL, key, NULL,
			       c->dir == SK_OUT);
	EVP_CIPHER_free(cipher); /* the context keeps its reference */
	if (ok && !c->encr->aead)
		ok = EVP_CIPHER_CTX_set_padding(c->cipher, 0);
	return ok ? 0 : -1;
}

struct sk_ctx *sk_ctx_new(const struct encr_alg *encr,
			  const struct integ_alg *integ, const uint8_t *ekey,
			  size_t elen, const uint8_t *ikey, size_t ilen,
			  enum sk_dir dir)
{
	struct sk_ctx *c;
	size_t klen = encr->key_len - encr->salt_len;

	if (elen != encr->key_len || encr->aead != !integ)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->encr = encr;
	c->integ = integ;
	c->dir = dir;
	memcpy(c->salt, ekey + klen, encr->salt_len);
	if (encr->aead &&
	    RAND_bytes((uint8_t *)&c->iv_counter, sizeof(c->iv_counter)) != 1)
		goto fail;
	if (sk_cipher_init(c, ekey))
		goto fail;
	if (integ && !(c->mac = integ_new(integ, ikey, ilen)))
		goto fail;
	return c;
fail:
	sk_ctx_free(c);
	return NULL;
}

void sk_ctx_free(struct sk_ctx *c)
{
	if (!c)
		return;
	EVP_CIPHER_CTX_free(c->cipher); /* cleanses the key schedule */
	integ_free(c->mac);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

size_t sk_iv_len(const struct sk_ctx *c)
{
	return c->encr->iv_len;
}

size_t sk_icv_len(const struct sk_ctx *c)
{
	return c->encr->aead ? c->encr->icv_len : c->integ->icv_len;
}

size_t sk_block_len(const struct sk_ctx *c)
{
	return c->encr->block_len;
}

/* ---- AES-GCM ---- */

/* Starts one GCM operation: nonce = salt | iv8, then the AAD chunks. */
static int gcm_start(struct sk_ctx *c, const uint8_t iv8[8],
		     const struct chunk *aad, size_t naad)
{
	uint8_t nonce[CRYPTO_GCM_SALT_LEN + CRYPTO_GCM_IV_LEN];
	int outl;

	memcpy(nonce, c->salt, CRYPTO_GCM_SALT_LEN);
	memcpy(nonce + CRYPTO_GCM_SALT_LEN, iv8, CRYPTO_GCM_IV_LEN);
	if (!EVP_CipherInit_ex(c->cipher, NULL, NULL, NULL, nonce, -1))
		return -1;
	for (size_t i = 0; i < naad; i++) {
		if (aad[i].n > INT_MAX ||
		    (aad[i].n && !EVP_CipherUpdate(c->cipher, NULL, &outl,
						   aad[i].p, (int)aad[i].n)))
			return -1;
	}
	return 0;
}

static int gcm_seal(struct sk_ctx *c, const uint8_t iv8[8],
		    const struct chunk *aad, size_t naad, const uint8_t *pt,
		    size_t len, uint8_t *out)
{
	int l1 = 0, l2 = 0;

	if (c->dir != SK_OUT || !c->encr->aead || len > INT_MAX ||
	    gcm_start(c, iv8, aad, naad))
		return -1;
	if ((len && !EVP_CipherUpdate(c->cipher, out, &l1, pt, (int)len)) ||
	    !EVP_CipherFinal_ex(c->cipher, out + l1, &l2))
		return -1;
	if (EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_AEAD_GET_TAG,
				CRYPTO_GCM_ICV_LEN, out + len) != 1)
		return -1;
	return 0;
}

static int gcm_open(struct sk_ctx *c, const uint8_t iv8[8],
		    const struct chunk *aad, size_t naad, const uint8_t *in,
		    size_t inlen, uint8_t *out)
{
	uint8_t tag[CRYPTO_GCM_ICV_LEN];
	size_t len = inlen - CRYPTO_GCM_ICV_LEN;
	int l1 = 0, l2 = 0;

	if (c->dir != SK_IN || !c->encr->aead || inlen < CRYPTO_GCM_ICV_LEN ||
	    inlen > INT_MAX || gcm_start(c, iv8, aad, naad))
		return -1;
	/* Take the tag before decrypting: out may overlap it. */
	memcpy(tag, in + len, sizeof(tag));
	if ((len && !EVP_CipherUpdate(c->cipher, out, &l1, in, (int)len)) ||
	    EVP_CIPHER_CTX_ctrl(c->cipher, EVP_CTRL_AEAD_SET_TAG, sizeof(tag),
				tag) != 1 ||
	    EVP_CipherFinal_ex(c->cipher, out + l1, &l2) <= 0) {
		/* Never hand out plaintext that failed authentication. */
		OPENSSL_cleanse(out, len);
		return -1;
	}
	return 0;
}

int aead_seal(struct sk_ctx *c, const uint8_t iv8[8], const uint8_t *aad,
	      size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out)
{
	struct chunk a = {aad, aadlen};

	return gcm_seal(c, iv8, &a, 1, pt, len, out);
}

int aead_open(struct sk_ctx *c, const uint8_t iv8[8], const uint8_t *aad,
	      size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out)
{
	struct chunk a = {aad, aadlen};

	return gcm_open(c, iv8, &a, 1, in, inlen, out);
}

/* ---- AES-CBC ---- */

static int cbc_run(struct sk_ctx *c, enum sk_dir dir, const uint8_t iv[16],
		   const uint8_t *in, size_t len, uint8_t *out)
{
	int l1 = 0, l2 = 0;

	if (c->dir != dir || c->encr->aead || len % 16 || len > INT_MAX)
		return -1;
	if (!EVP_CipherInit_ex(c->cipher, NULL, NULL, NULL, iv, -1))
		return -1;
	if (len && !EVP_CipherUpdate(c->cipher, out, &l1, in, (int)len))
		return -1;
	return EVP_CipherFinal_ex(c->cipher, out + l1, &l2) ? 0 : -1;
}

int cbc_encrypt(struct sk_ctx *c, const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out)
{
	return cbc_run(c, SK_OUT, iv, in, len, out);
}

int cbc_decrypt(struct sk_ctx *c, const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out)
{
	return cbc_run(c, SK_IN, iv, in, len, out);
}

/* ---- uniform SK / ESP protection ---- */

/* GCM AAD chunks; with ESN the high half goes between SPI and seq. */
static size_t gcm_aad(const uint8_t *buf, size_t aad_len, const uint8_t *esn_hi,
		      struct chunk a[3])
{
	if (!esn_hi) {
		a[0] = (struct chunk){buf, aad_len};
		return 1;
	}
	a[0] = (struct chunk){buf, 4};
	a[1] = (struct chunk){esn_hi, 4};
	a[2] = (struct chunk){buf + 4, 4};
	return 3;
}

/* The HMAC input: aad | IV | ciphertext [| ESN high half]. */
static size_t cbc_mac_input(const uint8_t *buf, size_t covered,
			    const uint8_t *esn_hi, struct chunk a[2])
{
	a[0] = (struct chunk){buf, covered};
	a[1] = (struct chunk){esn_hi, esn_hi ? 4 : 0};
	return 2;
}

static void gcm_next_iv(struct sk_ctx *c, uint8_t iv[8])
{
	uint64_t v = c->iv_counter++;

	for (int i = 7; i >= 0; i--, v >>= 8)
		iv[i] = (uint8_t)v;
}

int sk_encrypt(struct sk_ctx *c, uint8_t *buf, size_t aad_len, size_t len,
	       const uint8_t *esn_hi)
{
	uint8_t *iv = buf + aad_len, *data = iv + c->encr->iv_len;
	struct chunk a[3];

	if (esn_hi && aad_len != 8)
		return -1;
	if (c->encr->aead) {
		gcm_next_iv(c, iv);
		return gcm_seal(c, iv, a, gcm_aad(buf, aad_len, esn_hi, a),
				data, len, data);
	}
	if (RAND_bytes(iv, (int)c->encr->iv_len) != 1 ||
	    cbc_encrypt(c, iv, data, len, data))
		return -1;
	return integ_compute(
	    c->mac, a,
	    cbc_mac_input(buf, (size_t)(data + len - buf), esn_hi, a),
	    data + len);
}

int sk_decrypt(struct sk_ctx *c, uint8_t *buf, size_t aad_len, size_t len,
	       const uint8_t *esn_hi)
{
	uint8_t *iv = buf + aad_len, *data = iv + c->encr->iv_len;
	struct chunk a[3];

	if (esn_hi && aad_len != 8)
		return -1;
	if (c->encr->aead)
		return gcm_open(c, iv, a, gcm_aad(buf, aad_len, esn_hi, a),
				data, len + c->encr->icv_len, data);
	/* Encrypt-then-MAC: nothing is decrypted before the ICV checks. */
	if (integ_verify(
		c->mac, a,
		cbc_mac_input(buf, (size_t)(data + len - buf), esn_hi, a),
		data + len))
		return -1;
	return cbc_decrypt(c, iv, data, len, data);
}

/* ---- IKE SK payload ---- */

/* Plaintext length once Padding and the Pad Length octet are added. */
static size_t ike_padded_len(const struct sk_ctx *c, size_t inner_len)
{
	size_t b = c->encr->block_len;

	return (inner_len + 1 + b - 1) / b * b;
}

size_t sk_ike_sealed_len(const struct sk_ctx *c, size_t inner_len)
{
	return c->encr->iv_len + ike_padded_len(c, inner_len) + sk_icv_len(c);
}

int sk_ike_seal(struct sk_ctx *c, uint8_t *msg, size_t cap, size_t hdr_len,
		size_t inner_len, size_t *msg_len)
{
	size_t padded = ike_padded_len(c, inner_len);
	size_t total = hdr_len + sk_ike_sealed_len(c, inner_len);
	uint8_t *pad = msg + hdr_len + c->encr->iv_len + inner_len;
	size_t pad_len = padded - inner_len - 1;

	if (total > cap || pad_len > 255)
		return -1;
	/* RFC 7296 3.14: padding content is free; zeros leak nothing. */
	memset(pad, 0, pad_len);
	pad[pad_len] = (uint8_t)pad_len;
	if (sk_encrypt(c, msg, hdr_len, padded, NULL))
		return -1;
	*msg_len = total;
	return 0;
}

int sk_ike_open(struct sk_ctx *c, uint8_t *msg, size_t msg_len, size_t hdr_len,
		const uint8_t **inner, size_t *inner_len)
{
	size_t over = hdr_len + c->encr->iv_len + sk_icv_len(c);
	size_t ct_len, pad_len;
	const uint8_t *pt;

	if (msg_len <= over)
		return -1;
	ct_len = msg_len - over;
	if (ct_len % c->encr->block_len ||
	    sk_decrypt(c, msg, hdr_len, ct_len, NULL))
		return -1;
	pt = msg + hdr_len + c->encr->iv_len;
	pad_len = pt[ct_len - 1];
	if (pad_len + 1 > ct_len) {
		log_debug("SK payload: pad length %zu exceeds %zu octets",
			  pad_len, ct_len);
		return -1;
	}
	*inner = pt;
	*inner_len = ct_len - pad_len - 1;
	return 0;
}
