/*
 * reg_auth.c - registration authenticators (RFC 5944 3.5.1, RFC 2002
 * 3.5.1) and replay protection (RFC 5944 5.7); see reg_auth.h.
 */
/* before any OpenSSL header: MD5_Init and friends are deprecated in 3.0,
 * see struct hmac_tmp for why they are used */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "mipd/reg_auth.h"

#include <openssl/crypto.h>
#include <openssl/md5.h>
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

/*
 * MD5 through OpenSSL's low-level interface, deprecated in 3.0 but kept by
 * it, because the EVP one allocates: OpenSSL 3.0 frees and reallocates the
 * provider state on every EVP_DigestInit_ex, even on a reused context, and
 * an EVP_MAC_CTX per message costs more than the hashing.  MD5_CTX is a
 * plain struct on our stack: no allocation, no fetch, no lock.
 *
 * Everything key-derived an HMAC touches lives in one struct, wiped in one
 * call.
 */
struct hmac_tmp {
	uint8_t k[MD5_CBLOCK];
	uint8_t pad[MD5_CBLOCK];
	uint8_t inner[MD5_DIGEST_LENGTH];
	MD5_CTX c;
};

static void md5_key_pad(struct hmac_tmp *t, uint8_t x)
{
	for (size_t i = 0; i < MD5_CBLOCK; i++)
		t->pad[i] = t->k[i] ^ x;
	MD5_Init(&t->c);
	MD5_Update(&t->c, t->pad, sizeof(t->pad));
}

/* RFC 2104: MD5((K ^ opad) || MD5((K ^ ipad) || data)), a key longer than
 * the block replaced by its MD5. */
static void hmac_md5(const struct reg_sa *sa, const uint8_t *data, size_t len,
		     uint8_t *out)
{
	struct hmac_tmp t;

	memset(t.k, 0, sizeof(t.k));
	if (sa->key_len > MD5_CBLOCK) {
		MD5_Init(&t.c);
		MD5_Update(&t.c, sa->key, sa->key_len);
		MD5_Final(t.k, &t.c);
	} else if (sa->key_len) {
		memcpy(t.k, sa->key, sa->key_len);
	}
	md5_key_pad(&t, 0x36);
	MD5_Update(&t.c, data, len);
	MD5_Final(t.inner, &t.c);
	md5_key_pad(&t, 0x5c);
	MD5_Update(&t.c, t.inner, sizeof(t.inner));
	MD5_Final(out, &t.c);
	OPENSSL_cleanse(&t, sizeof(t));
}

/* RFC 2002 3.5.1: MD5 over the key, the protected data, the key again. */
static void keyed_md5(const struct reg_sa *sa, const uint8_t *data, size_t len,
		      uint8_t *out)
{
	MD5_CTX c;

	MD5_Init(&c);
	MD5_Update(&c, sa->key, sa->key_len);
	MD5_Update(&c, data, len);
	MD5_Update(&c, sa->key, sa->key_len);
	MD5_Final(out, &c);
	OPENSSL_cleanse(&c, sizeof(c));
}

int reg_auth_compute(const struct reg_sa *sa, const void *data, size_t len,
		     uint8_t *out)
{
	if (sa->key_len && !sa->key)
		return -1;
	switch (sa->alg) {
	case REG_ALG_HMAC_MD5:
		hmac_md5(sa, data, len, out);
		return 0;
	case REG_ALG_KEYED_MD5:
		keyed_md5(sa, data, len, out);
		return 0;
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

void reg_nonce_set(struct reg_replay *st, uint32_t fresh)
{
	st->nonce = fresh;
	st->have_nonce = true;
}

uint64_t reg_nonce_reply_id(const struct reg_replay *st, uint64_t req_id)
{
	return (uint64_t)st->nonce << 32 | (req_id & 0xffffffffULL);
}
