/*
 * reg_auth.c - registration authenticators (RFC 5944 3.5.1, RFC 2002
 * 3.5.1) and replay protection (RFC 5944 5.7); see reg_auth.h.
 */
#include "mipd/reg_auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <string.h>

const struct reg_sa *reg_sa_find(const struct reg_sa *tab, size_t n,
				 uint32_t spi)
{
	for (size_t i = 0; i < n; i++)
		if (tab[i].spi == spi)
			return &tab[i];
	return NULL;
}

size_t reg_auth_len(const struct reg_sa *sa)
{
	switch (sa->alg) {
	case REG_ALG_HMAC_MD5:
	case REG_ALG_KEYED_MD5:
		return MIP4_AUTH_MD5_LEN;
	default:
		return 0;
	}
}

/* Fetched once: a fetch per message would dominate the HA's cost.  mipd
 * is single-threaded, so the lazy init needs no lock. */
static EVP_MAC *hmac_alg(void)
{
	static EVP_MAC *mac;

	if (!mac)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

static EVP_MD *md5_alg(void)
{
	static EVP_MD *md;

	if (!md)
		md = EVP_MD_fetch(NULL, "MD5", NULL);
	return md;
}

static int hmac_md5(const struct reg_sa *sa, const uint8_t *data, size_t len,
		    uint8_t *out)
{
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "MD5", 0),
	    OSSL_PARAM_construct_end()};
	EVP_MAC *mac = hmac_alg();
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	static const uint8_t empty[1];
	size_t outl = 0;
	int ok;

	/* an empty key is legal HMAC; OpenSSL wants a non-NULL pointer */
	ok = ctx &&
	     EVP_MAC_init(ctx, sa->key_len ? sa->key : empty, sa->key_len,
			  params) &&
	     EVP_MAC_update(ctx, data, len) &&
	     EVP_MAC_final(ctx, out, &outl, MIP4_AUTH_MD5_LEN) &&
	     outl == MIP4_AUTH_MD5_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* RFC 2002 3.5.1: MD5 over the key, the protected data, the key again. */
static int keyed_md5(const struct reg_sa *sa, const uint8_t *data, size_t len,
		     uint8_t *out)
{
	EVP_MD *md = md5_alg();
	EVP_MD_CTX *ctx = md ? EVP_MD_CTX_new() : NULL;
	unsigned outl = 0;
	int ok;

	ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
	     EVP_DigestUpdate(ctx, sa->key, sa->key_len) &&
	     EVP_DigestUpdate(ctx, data, len) &&
	     EVP_DigestUpdate(ctx, sa->key, sa->key_len) &&
	     EVP_DigestFinal_ex(ctx, out, &outl) && outl == MIP4_AUTH_MD5_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

int reg_auth_compute(const struct reg_sa *sa, const void *data, size_t len,
		     uint8_t *out)
{
	if (sa->key_len && !sa->key)
		return -1;
	switch (sa->alg) {
	case REG_ALG_HMAC_MD5:
		return hmac_md5(sa, data, len, out);
	case REG_ALG_KEYED_MD5:
		return keyed_md5(sa, data, len, out);
	default:
		return -1;
	}
}

int reg_auth_verify(const struct reg_msg *m, const struct reg_auth_ext *a,
		    const struct reg_sa *tab, size_t n)
{
	const struct reg_sa *sa = a ? reg_sa_find(tab, n, a->spi) : NULL;
	uint8_t want[MIP4_AUTH_MD5_LEN];
	size_t alen;
	int res;

	if (!sa || a->off + MIP4_AUTH_HDR_LEN > m->len)
		return REG_AUTH_NO_SA;
	alen = reg_auth_len(sa);
	if (alen == 0 || a->auth.len != alen)
		return REG_AUTH_BADLEN;
	/* 3.5.1: everything before the extension, then its Type, Length
	 * and SPI */
	if (reg_auth_compute(sa, m->pkt, a->off + MIP4_AUTH_HDR_LEN, want))
		return REG_AUTH_FAIL;
	res =
	    CRYPTO_memcmp(want, a->auth.p, alen) ? REG_AUTH_FAIL : REG_AUTH_OK;
	OPENSSL_cleanse(want, sizeof(want));
	return res;
}

const char *reg_auth_result_name(int res)
{
	switch (res) {
	case REG_AUTH_OK:
		return "ok";
	case REG_AUTH_NO_SA:
		return "no security association for the SPI";
	case REG_AUTH_BADLEN:
		return "authenticator length wrong for the algorithm";
	case REG_AUTH_FAIL:
		return "authenticator mismatch (wrong key?)";
	default:
		return "?";
	}
}

int reg_auth_append(struct reg_builder *b, uint8_t type,
		    const struct reg_sa *sa)
{
	size_t alen = reg_auth_len(sa), off;

	if (alen == 0)
		return REG_ENOSPACE;
	reg_add_auth(b, type, sa->spi, alen, &off);
	if (b->failed || wb_ok(b->w))
		return REG_ENOSPACE;
	if (reg_auth_compute(sa, b->w->data + b->start, off - b->start,
			     b->w->data + off)) {
		b->failed = true;
		return REG_ENOSPACE;
	}
	return REG_OK;
}

/* --- identification --- */

uint64_t reg_ntp_from_timespec(const struct timespec *ts, uint32_t rnd)
{
	uint64_t secs = (uint64_t)ts->tv_sec + MIP4_NTP_UNIX_OFFSET;
	uint64_t frac = ((uint64_t)ts->tv_nsec << 32) / 1000000000ULL;

	/* NTP seconds are 32 bits: truncation is the 2036 era rollover */
	return (secs & 0xffffffffULL) << 32 | ((frac & ~3ULL) | (rnd & 3));
}

uint64_t reg_ntp_now(void)
{
	struct timespec ts;
	uint32_t rnd = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)ts.tv_nsec;
	return reg_ntp_from_timespec(&ts, rnd);
}

int reg_ts_check(const struct reg_replay *st, uint64_t id, uint64_t now,
		 uint32_t window)
{
	uint32_t secs = window ? window : MIP4_TS_WINDOW_DEFAULT;
	uint64_t w = (uint64_t)(secs > 0x7fffffff ? 0x7fffffff : secs) << 32;
	int64_t skew = (int64_t)(id - now);

	if (skew > (int64_t)w || skew < -(int64_t)w)
		return REG_ID_MISMATCH;
	if (st && st->have_last && (int64_t)(id - st->last) <= 0)
		return REG_ID_REPLAY;
	return REG_ID_OK;
}

void reg_id_accept(struct reg_replay *st, uint64_t id)
{
	st->last = id;
	st->have_last = true;
}

uint64_t reg_ts_mismatch_id(uint64_t req_id, uint64_t now)
{
	return (now & 0xffffffff00000000ULL) | (req_id & 0xffffffffULL);
}

bool reg_id_reply_matches(uint64_t req_id, uint64_t reply_id)
{
	return (uint32_t)req_id == (uint32_t)reply_id;
}

int reg_ts_resync(uint64_t req_id, uint64_t reply_id, uint64_t now,
		  int64_t *offset)
{
	*offset = 0;
	if (!reg_id_reply_matches(req_id, reply_id))
		return -1;
	/* whole seconds; 32-bit wrap keeps it right across 2036 */
	*offset = (int32_t)((uint32_t)(reply_id >> 32) - (uint32_t)(now >> 32));
	return 0;
}

int reg_nonce_check(const struct reg_replay *st, uint64_t id)
{
	if (!st->have_nonce || (uint32_t)(id >> 32) != st->nonce)
		return REG_ID_MISMATCH;
	return REG_ID_OK;
}

uint64_t reg_nonce_reply_id(struct reg_replay *st, uint64_t req_id,
			    uint32_t fresh)
{
	st->nonce = fresh;
	st->have_nonce = true;
	return (uint64_t)fresh << 32 | (req_id & 0xffffffffULL);
}
