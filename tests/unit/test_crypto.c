/*
 * test_crypto.c - known-answer tests (RFC 4868, RFC 3602, GCM spec,
 * RFC 5903, RFC 7748) and property tests for mobiked/crypto.
 * Vector values are copied from the RFC / spec texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>

#include "mobiked/crypto.h"
#include "mobiked/ikev2.h"

/* ---- helpers ---- */

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes hex, ignoring spaces (RFC layout); fails the test on junk. */
static size_t unhex(uint8_t *out, size_t cap, const char *s)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (isspace((unsigned char)*s))
			continue;
		v = nibble(*s);
		if (v < 0)
			fail_msg("bad hex digit '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			fail_msg("hex longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits");
	return n;
}

static void assert_hex(const uint8_t *got, size_t n, const char *hex)
{
	uint8_t want[512];
	size_t wn = unhex(want, sizeof(want), hex);

	assert_int_equal(n, wn);
	assert_memory_equal(got, want, n);
}

static const struct prf_alg *P(uint16_t id)
{
	const struct prf_alg *a = prf_alg_find(id);

	assert_non_null(a);
	return a;
}

static const struct integ_alg *I(uint16_t id)
{
	const struct integ_alg *a = integ_alg_find(id);

	assert_non_null(a);
	return a;
}

static const struct encr_alg *E(uint16_t id, uint16_t bits)
{
	const struct encr_alg *a = encr_alg_find(id, bits);

	assert_non_null(a);
	return a;
}

/* ---- RFC 4868 2.7.1: PRF test vectors ---- */

struct prf_vec {
	uint8_t key[131];
	size_t klen;
	const char *data;
	size_t dlen;
	const char *sha256, *sha384, *sha512;
};

static void check_prf_vec(const struct prf_vec *v)
{
	uint8_t out[64];

	assert_int_equal(prf(P(IKE_PRF_HMAC_SHA2_256), v->key, v->klen, v->data,
			     v->dlen, out),
			 0);
	assert_hex(out, 32, v->sha256);
	assert_int_equal(prf(P(IKE_PRF_HMAC_SHA2_384), v->key, v->klen, v->data,
			     v->dlen, out),
			 0);
	assert_hex(out, 48, v->sha384);
	assert_int_equal(prf(P(IKE_PRF_HMAC_SHA2_512), v->key, v->klen, v->data,
			     v->dlen, out),
			 0);
	assert_hex(out, 64, v->sha512);
}

static void rfc4868_prf_1_hi_there(void **state)
{
	struct prf_vec v = {.klen = 20, .data = "Hi There", .dlen = 8};

	memset(v.key, 0x0b, v.klen);
	v.sha256 = "b0344c61d8db38535ca8afceaf0bf12b"
		   "881dc200c9833da726e9376c2e32cff7";
	v.sha384 = "afd03944d84895626b0825f4ab46907f"
		   "15f9dadbe4101ec682aa034c7cebc59c"
		   "faea9ea9076ede7f4af152e8b2fa9cb6";
	v.sha512 = "87aa7cdea5ef619d4ff0b4241a1d6cb0"
		   "2379f4e2ce4ec2787ad0b30545e17cde"
		   "daa833b7d6b8a702038b274eaea3f4e4"
		   "be9d914eeb61f1702e696c203a126854";
	check_prf_vec(&v);
}

static void rfc4868_prf_2_jefe(void **state)
{
	struct prf_vec v = {
	    .klen = 4, .data = "what do ya want for nothing?", .dlen = 28};

	memcpy(v.key, "Jefe", 4);
	v.sha256 = "5bdcc146bf60754e6a042426089575c7"
		   "5a003f089d2739839dec58b964ec3843";
	v.sha384 = "af45d2e376484031617f78d2b58a6b1b"
		   "9c7ef464f5a01b47e42ec3736322445e"
		   "8e2240ca5e69e2c78b3239ecfab21649";
	v.sha512 = "164b7a7bfcf819e2e395fbe73b56e0a3"
		   "87bd64222e831fd610270cd7ea250554"
		   "9758bf75c05a994a6d034f65f8f0e6fd"
		   "caeab1a34d4a6b4b636e070a38bce737";
	check_prf_vec(&v);
}

static void rfc4868_prf_3_dd(void **state)
{
	char data[50];
	struct prf_vec v = {.klen = 20, .data = data, .dlen = 50};

	memset(v.key, 0xaa, v.klen);
	memset(data, 0xdd, sizeof(data));
	v.sha256 = "773ea91e36800e46854db8ebd09181a7"
		   "2959098b3ef8c122d9635514ced565fe";
	v.sha384 = "88062608d3e6ad8a0aa2ace014c8a86f"
		   "0aa635d947ac9febe83ef4e55966144b"
		   "2a5ab39dc13814b94e3ab6e101a34f27";
	v.sha512 = "fa73b0089d56a284efb0f0756c890be9"
		   "b1b5dbdd8ee81a3655f83e33b2279d39"
		   "bf3e848279a722c806b485a47e67c807"
		   "b946a337bee8942674278859e13292fb";
	check_prf_vec(&v);
}

static void rfc4868_prf_4_cd(void **state)
{
	char data[50];
	struct prf_vec v = {.klen = 25, .data = data, .dlen = 50};

	for (size_t i = 0; i < v.klen; i++)
		v.key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, sizeof(data));
	v.sha256 = "82558a389a443c0ea4cc819899f2083a"
		   "85f0faa3e578f8077a2e3ff46729665b";
	v.sha384 = "3e8a69b7783c25851933ab6290af6ca7"
		   "7a9981480850009cc5577c6e1f573b4e"
		   "6801dd23c4a7d679ccf8a386c674cffb";
	v.sha512 = "b0ba465637458c6990e5a8c5f61d4af7"
		   "e576d97ff94b872de76f8050361ee3db"
		   "a91ca5c11aa25eb4d679275cc5788063"
		   "a5f19741120c4f2de2adebeb10a298dd";
	check_prf_vec(&v);
}

static void rfc4868_prf_5_long_key(void **state)
{
	const char *d =
	    "Test Using Larger Than Block-Size Key - Hash Key First";
	struct prf_vec v = {.klen = 131, .data = d, .dlen = strlen(d)};

	memset(v.key, 0xaa, v.klen);
	v.sha256 = "60e431591ee0b67f0d8a26aacbf5b77f"
		   "8e0bc6213728c5140546040f0ee37f54";
	v.sha384 = "4ece084485813e9088d2c63a041bc5b4"
		   "4f9ef1012a2b588f3cd11f05033ac4c6"
		   "0c2ef6ab4030fe8296248df163f44952";
	v.sha512 = "80b24263c7c1a3ebb71493c1dd7be8b4"
		   "9b46d1f41b4aeec1121b013783f8f352"
		   "6b56d037e05f2598bd0fd2215d6a1e52"
		   "95e64f73f63f0aec8b915a985d786598";
	check_prf_vec(&v);
}

/* ---- RFC 4868 2.7.2: authenticator (truncated) test vectors ---- */

/* Checks the full PRF output and the truncated ICV with the same key. */
static void check_auth(uint16_t prf_id, uint16_t integ_id, const uint8_t *key,
		       size_t klen, const void *data, size_t dlen,
		       const char *full, const char *icv_hex)
{
	const struct integ_alg *ia = I(integ_id);
	struct integ_ctx *c = integ_new(ia, key, klen);
	struct chunk in = {data, dlen};
	uint8_t out[64];

	assert_non_null(c);
	assert_int_equal(prf(P(prf_id), key, klen, data, dlen, out), 0);
	assert_hex(out, P(prf_id)->out_len, full);
	assert_int_equal(integ_compute(c, &in, 1, out), 0);
	assert_hex(out, ia->icv_len, icv_hex);
	/* The same context again: the key must survive the re-init. */
	assert_int_equal(integ_compute(c, &in, 1, out), 0);
	assert_hex(out, ia->icv_len, icv_hex);
	assert_int_equal(integ_verify(c, &in, 1, out), 0);
	out[ia->icv_len - 1] ^= 1;
	assert_int_equal(integ_verify(c, &in, 1, out), -1);
	integ_free(c);
}

static void rfc4868_auth256(void **state)
{
	const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefe";
	const char *what = "what do ya want for nothing?";
	uint8_t key[32], data[50];

	memset(key, 0x0b, 32);
	check_auth(IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128, key, 32,
		   "Hi There", 8,
		   "198a607eb44bfbc69903a0f1cf2bbdc5"
		   "ba0aa3f3d9ae3c1c7a3b1696a0b68cf7",
		   "198a607eb44bfbc69903a0f1cf2bbdc5");
	check_auth(IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128,
		   (const uint8_t *)jefe, 32, what, strlen(what),
		   "167f928588c5cc2eef8e3093caa0e87c"
		   "9ff566a14794aa61648d81621a2a40c6",
		   "167f928588c5cc2eef8e3093caa0e87c");
	memset(key, 0xaa, 32);
	memset(data, 0xdd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128, key, 32,
		   data, 50,
		   "cdcb1220d1ecccea91e53aba3092f962"
		   "e549fe6ce9ed7fdc43191fbde45c30b0",
		   "cdcb1220d1ecccea91e53aba3092f962");
	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_256, IKE_INTEG_HMAC_SHA2_256_128, key, 32,
		   data, 50,
		   "372efcf9b40b35c2115b1346903d2ef4"
		   "2fced46f0846e7257bb156d3d7b30d3f",
		   "372efcf9b40b35c2115b1346903d2ef4");
}

static void rfc4868_auth384(void **state)
{
	const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefeJefe";
	const char *what = "what do ya want for nothing?";
	uint8_t key[48], data[50];

	memset(key, 0x0b, 48);
	check_auth(IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192, key, 48,
		   "Hi There", 8,
		   "b6a8d5636f5c6a7224f9977dcf7ee6c7"
		   "fb6d0c48cbdee9737a959796489bddbc"
		   "4c5df61d5b3297b4fb68dab9f1b582c2",
		   "b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee973");
	check_auth(IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192,
		   (const uint8_t *)jefe, 48, what, strlen(what),
		   "2c7353974f1842fd66d53c452ca42122"
		   "b28c0b594cfb184da86a368e9b8e16f5"
		   "349524ca4e82400cbde0686d403371c9",
		   "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d");
	memset(key, 0xaa, 48);
	memset(data, 0xdd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192, key, 48,
		   data, 50,
		   "809f439be00274321d4a538652164b53"
		   "554a508184a0c3160353e3428597003d"
		   "35914a18770f9443987054944b7c4b4a",
		   "809f439be00274321d4a538652164b53554a508184a0c316");
	unhex(key, 48,
	      "0102030405060708090a0b0c0d0e0f10"
	      "1112131415161718191a1b1c1d1e1f20"
	      "0a0b0c0d0e0f10111213141516171819");
	memset(data, 0xcd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_384, IKE_INTEG_HMAC_SHA2_384_192, key, 48,
		   data, 50,
		   "5b540085c6e6358096532b2493609ed1"
		   "cb298f774f87bb5c2ebf182c83cc7428"
		   "707fb92eab2536a5812258228bc96687",
		   "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c");
}

static void rfc4868_auth512(void **state)
{
	const char *jefe = "JefeJefeJefeJefeJefeJefeJefeJefe"
			   "JefeJefeJefeJefeJefeJefeJefeJefe";
	const char *what = "what do ya want for nothing?";
	uint8_t key[64], data[50];

	memset(key, 0x0b, 64);
	check_auth(IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256, key, 64,
		   "Hi There", 8,
		   "637edc6e01dce7e6742a99451aae82df"
		   "23da3e92439e590e43e761b33e910fb8"
		   "ac2878ebd5803f6f0b61dbce5e251ff8"
		   "789a4722c1be65aea45fd464e89f8f5b",
		   "637edc6e01dce7e6742a99451aae82df"
		   "23da3e92439e590e43e761b33e910fb8");
	check_auth(IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256,
		   (const uint8_t *)jefe, 64, what, strlen(what),
		   "cb370917ae8a7ce28cfd1d8f4705d614"
		   "1c173b2a9362c15df235dfb251b15454"
		   "6aa334ae9fb9afc2184932d8695e397b"
		   "fa0ffb93466cfcceaae38c833b7dba38",
		   "cb370917ae8a7ce28cfd1d8f4705d614"
		   "1c173b2a9362c15df235dfb251b15454");
	memset(key, 0xaa, 64);
	memset(data, 0xdd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256, key, 64,
		   data, 50,
		   "2ee7acd783624ca9398710f3ee05ae41"
		   "b9f9b0510c87e49e586cc9bf961733d8"
		   "623c7b55cebefccf02d5581acc1c9d5f"
		   "b1ff68a1de45509fbe4da9a433922655",
		   "2ee7acd783624ca9398710f3ee05ae41"
		   "b9f9b0510c87e49e586cc9bf961733d8");
	for (size_t i = 0; i < 64; i++)
		key[i] = (uint8_t)(i + 1); /* RFC 4868 errata: 0x01..0x40 */
	memset(data, 0xcd, 50);
	check_auth(IKE_PRF_HMAC_SHA2_512, IKE_INTEG_HMAC_SHA2_512_256, key, 64,
		   data, 50,
		   "5e6688e5a3daec826ca32eaea224eff5"
		   "e700628947470e13ad01302561bab108"
		   "b8c48cbc6b807dcfbd850521a685babc"
		   "7eae4a2a2e660dc0e86b931d65503fd2",
		   "5e6688e5a3daec826ca32eaea224eff5"
		   "e700628947470e13ad01302561bab108");
}

/* ---- algorithm tables ---- */

static void alg_tables(void **state)
{
	assert_null(encr_alg_find(IKE_ENCR_AES_CBC, 0));
	assert_null(encr_alg_find(IKE_ENCR_AES_GCM_8, 128));
	assert_null(prf_alg_find(99));
	assert_null(integ_alg_find(IKE_INTEG_NONE));
	assert_int_equal(E(IKE_ENCR_AES_GCM_16, 256)->key_len, 36);
	assert_int_equal(E(IKE_ENCR_AES_GCM_16, 128)->key_len, 20);
	assert_int_equal(E(IKE_ENCR_AES_CBC, 256)->key_len, 32);
	assert_int_equal(I(IKE_INTEG_HMAC_SHA1_96)->icv_len, 12);
	assert_int_equal(I(IKE_INTEG_HMAC_SHA2_384_192)->icv_len, 24);
	assert_int_equal(P(IKE_PRF_HMAC_SHA2_384)->key_len, 48);
}

/* ---- prf+ ---- */

static void prf_plus_properties(void **state)
{
	const struct prf_alg *a = P(IKE_PRF_HMAC_SHA2_256);
	const uint8_t key[] = "some key", s[] = "seed octets";
	struct chunk seed = {s, sizeof(s)};
	uint8_t long_out[200], short_out[100], t[64], in[32 + sizeof(s) + 1];

	assert_int_equal(prf_plus(a, key, sizeof(key), &seed, 1, long_out, 200),
			 0);
	assert_int_equal(
	    prf_plus(a, key, sizeof(key), &seed, 1, short_out, 100), 0);
	assert_memory_equal(long_out, short_out, 100);

	/* T1 = prf(K, S | 0x01) */
	memcpy(in, s, sizeof(s));
	in[sizeof(s)] = 0x01;
	assert_int_equal(prf(a, key, sizeof(key), in, sizeof(s) + 1, t), 0);
	assert_memory_equal(long_out, t, 32);
	/* T2 = prf(K, T1 | S | 0x02) */
	memcpy(in, t, 32);
	memcpy(in + 32, s, sizeof(s));
	in[32 + sizeof(s)] = 0x02;
	assert_int_equal(prf(a, key, sizeof(key), in, sizeof(in), t), 0);
	assert_memory_equal(long_out + 32, t, 32);
}

static void prf_plus_bounded(void **state)
{
	const struct prf_alg *a = P(IKE_PRF_HMAC_SHA2_256);
	size_t max = 255 * a->out_len;
	uint8_t *out = malloc(max + 1);
	struct chunk seed = {"s", 1};

	assert_non_null(out);
	assert_int_equal(prf_plus(a, "k", 1, &seed, 1, out, max), 0);
	assert_int_equal(prf_plus(a, "k", 1, &seed, 1, out, max + 1), -1);
	free(out);
}

/* ---- IKE SA and CHILD_SA keys ---- */

static const uint8_t ni[32] = {1, 2, 3}, nr[48] = {4, 5, 6};
static const uint8_t spii[8] = {0xa1, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t spir[8] = {0xb2, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t gir[64] = {7, 8, 9};

/* Derives and checks every SK_* against slices of the raw prf+ stream. */
static void check_suite(const struct ike_suite *s, size_t d, size_t a, size_t e,
			size_t p)
{
	uint8_t skeyseed[64], key[80], stream[7 * 64], want[64];
	struct chunk seed[] = {
	    {ni, sizeof(ni)}, {nr, sizeof(nr)}, {spii, 8}, {spir, 8}};
	struct ike_keys k;
	size_t total = d + 2 * (a + e + p), off = d;

	assert_int_equal(ike_keys_len(s), total);
	assert_int_equal(ike_skeyseed(s->prf, ni, sizeof(ni), nr, sizeof(nr),
				      gir, sizeof(gir), skeyseed),
			 0);
	memcpy(key, ni, sizeof(ni));
	memcpy(key + sizeof(ni), nr, sizeof(nr));
	assert_int_equal(prf(s->prf, key, sizeof(key), gir, sizeof(gir), want),
			 0);
	assert_memory_equal(skeyseed, want, s->prf->out_len);

	assert_int_equal(ike_keys_derive(s, skeyseed, s->prf->out_len, ni,
					 sizeof(ni), nr, sizeof(nr), spii, spir,
					 &k),
			 0);
	assert_int_equal(
	    prf_plus(s->prf, skeyseed, s->prf->out_len, seed, 4, stream, total),
	    0);
	assert_int_equal(k.d_len, d);
	assert_int_equal(k.a_len, a);
	assert_int_equal(k.e_len, e);
	assert_int_equal(k.p_len, p);
	assert_memory_equal(k.sk_d, stream, d);
	assert_memory_equal(k.sk_ai, stream + off, a);
	assert_memory_equal(k.sk_ar, stream + (off += a), a);
	assert_memory_equal(k.sk_ei, stream + (off += a), e);
	assert_memory_equal(k.sk_er, stream + (off += e), e);
	assert_memory_equal(k.sk_pi, stream + (off += e), p);
	assert_memory_equal(k.sk_pr, stream + (off += p), p);
	assert_int_equal(off + p, total);
	ike_keys_wipe(&k);
	assert_int_equal(k.d_len, 0);
}

static void ike_key_sizes(void **state)
{
	struct ike_suite gcm256 = {P(IKE_PRF_HMAC_SHA2_384),
				   E(IKE_ENCR_AES_GCM_16, 256), NULL};
	struct ike_suite gcm128 = {P(IKE_PRF_HMAC_SHA2_256),
				   E(IKE_ENCR_AES_GCM_16, 128), NULL};
	struct ike_suite cbc256 = {P(IKE_PRF_HMAC_SHA2_256),
				   E(IKE_ENCR_AES_CBC, 256),
				   I(IKE_INTEG_HMAC_SHA2_256_128)};
	struct ike_suite cbc128 = {P(IKE_PRF_HMAC_SHA2_512),
				   E(IKE_ENCR_AES_CBC, 128),
				   I(IKE_INTEG_HMAC_SHA2_512_256)};
	struct ike_suite bad = {P(IKE_PRF_HMAC_SHA2_256),
				E(IKE_ENCR_AES_CBC, 128), NULL};
	struct ike_keys k;
	uint8_t seed[32] = {0};

	check_suite(&gcm256, 48, 0, 36, 48);
	check_suite(&gcm128, 32, 0, 20, 32);
	check_suite(&cbc256, 32, 32, 32, 32);
	check_suite(&cbc128, 64, 64, 16, 64);
	/* CBC without INTEG is not a valid IKE suite. */
	assert_int_equal(ike_keys_derive(&bad, seed, 32, ni, sizeof(ni), nr,
					 sizeof(nr), spii, spir, &k),
			 -1);
}

static void ike_rekey_skeyseed(void **state)
{
	const struct prf_alg *a = P(IKE_PRF_HMAC_SHA2_256);
	uint8_t sk_d[32] = {0x55}, out[32], want[32];
	uint8_t in[sizeof(gir) + sizeof(ni) + sizeof(nr)];

	assert_int_equal(ike_skeyseed_rekey(a, sk_d, 32, gir, sizeof(gir), ni,
					    sizeof(ni), nr, sizeof(nr), out),
			 0);
	memcpy(in, gir, sizeof(gir));
	memcpy(in + sizeof(gir), ni, sizeof(ni));
	memcpy(in + sizeof(gir) + sizeof(ni), nr, sizeof(nr));
	assert_int_equal(prf(a, sk_d, 32, in, sizeof(in), want), 0);
	assert_memory_equal(out, want, 32);
}

static void child_keys_order(void **state)
{
	const struct prf_alg *a = P(IKE_PRF_HMAC_SHA2_256);
	const struct encr_alg *cbc = E(IKE_ENCR_AES_CBC, 256);
	const struct integ_alg *h = I(IKE_INTEG_HMAC_SHA2_256_128);
	uint8_t sk_d[32] = {0x42}, stream[2 * (36 + 64)];
	struct chunk pfs[] = {
	    {gir, sizeof(gir)}, {ni, sizeof(ni)}, {nr, sizeof(nr)}};
	struct child_keys k;

	/* CBC + HMAC, with PFS: ei | ai | er | ar. */
	assert_int_equal(child_keys_derive(a, sk_d, 32, cbc, h, gir,
					   sizeof(gir), ni, sizeof(ni), nr,
					   sizeof(nr), &k),
			 0);
	assert_int_equal(prf_plus(a, sk_d, 32, pfs, 3, stream, 128), 0);
	assert_int_equal(k.e_len, 32);
	assert_int_equal(k.a_len, 32);
	assert_memory_equal(k.ei, stream, 32);
	assert_memory_equal(k.ai, stream + 32, 32);
	assert_memory_equal(k.er, stream + 64, 32);
	assert_memory_equal(k.ar, stream + 96, 32);

	/* AES-GCM-256 without PFS: key | salt, 36 octets per direction. */
	assert_int_equal(
	    child_keys_derive(a, sk_d, 32, E(IKE_ENCR_AES_GCM_16, 256), NULL,
			      NULL, 0, ni, sizeof(ni), nr, sizeof(nr), &k),
	    0);
	assert_int_equal(prf_plus(a, sk_d, 32, pfs + 1, 2, stream, 72), 0);
	assert_int_equal(k.e_len, 36);
	assert_int_equal(k.a_len, 0);
	assert_memory_equal(k.ei, stream, 36);
	assert_memory_equal(k.er, stream + 36, 36);
	child_keys_wipe(&k);
	assert_int_equal(child_keys_derive(a, sk_d, 32, cbc, NULL, NULL, 0, ni,
					   sizeof(ni), nr, sizeof(nr), &k),
			 -1);
}

/* ---- PSK AUTH ---- */

static void psk_auth_composition(void **state)
{
	const struct prf_alg *a = P(IKE_PRF_HMAC_SHA2_384);
	const uint8_t psk[] = "correct horse battery staple";
	const uint8_t msg[] = "IKE_SA_INIT request bytes";
	const uint8_t id[] = {IKE_ID_FQDN, 0, 0, 0, 'm', 'n'};
	uint8_t sk_p[48] = {9}, out[48], padkey[48], idmac[48];
	uint8_t octets[sizeof(msg) + sizeof(nr) + 48], want[48];

	assert_int_equal(psk_auth(a, psk, sizeof(psk) - 1, msg, sizeof(msg), nr,
				  sizeof(nr), sk_p, 48, id, sizeof(id), out),
			 0);
	assert_int_equal(
	    prf(a, psk, sizeof(psk) - 1, "Key Pad for IKEv2", 17, padkey), 0);
	assert_int_equal(prf(a, sk_p, 48, id, sizeof(id), idmac), 0);
	memcpy(octets, msg, sizeof(msg));
	memcpy(octets + sizeof(msg), nr, sizeof(nr));
	memcpy(octets + sizeof(msg) + sizeof(nr), idmac, 48);
	assert_int_equal(prf(a, padkey, 48, octets, sizeof(octets), want), 0);
	assert_memory_equal(out, want, 48);
}

/* ---- AES-GCM: McGrew & Viega test cases with salt = IV[0..4] ---- */

#define GCM_P                                                                  \
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"     \
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
#define GCM_A  "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define GCM_IV "cafebabefacedbaddecaf888"

struct gcm_vec {
	const char *key, *aad, *ct, *tag;
	size_t len; /* plaintext bytes used from GCM_P */
};

/* Builds a SK_OUT/SK_IN pair from key | salt (first 4 bytes of the IV). */
static struct sk_ctx *gcm_ctx(const char *key_hex, enum sk_dir dir,
			      uint8_t iv8[8])
{
	uint8_t km[36], iv[12];
	size_t klen = unhex(km, sizeof(km), key_hex);

	unhex(iv, sizeof(iv), GCM_IV);
	memcpy(km + klen, iv, 4);
	memcpy(iv8, iv + 4, 8);
	return sk_ctx_new(E(IKE_ENCR_AES_GCM_16, (uint16_t)(klen * 8)), NULL,
			  km, klen + 4, NULL, 0, dir);
}

static void check_gcm(const struct gcm_vec *v)
{
	uint8_t pt[64], aad[20], out[80], back[64], iv8[8];
	size_t aadlen = v->aad ? unhex(aad, sizeof(aad), v->aad) : 0;
	struct sk_ctx *enc = gcm_ctx(v->key, SK_OUT, iv8);
	struct sk_ctx *dec = gcm_ctx(v->key, SK_IN, iv8);
	char want[300];

	assert_non_null(enc);
	assert_non_null(dec);
	unhex(pt, sizeof(pt), GCM_P);
	assert_int_equal(aead_seal(enc, iv8, aad, aadlen, pt, v->len, out), 0);
	snprintf(want, sizeof(want), "%s%s", v->ct, v->tag);
	assert_hex(out, v->len + 16, want);
	assert_int_equal(
	    aead_open(dec, iv8, aad, aadlen, out, v->len + 16, back), 0);
	assert_memory_equal(back, pt, v->len);
	/* Direction is fixed at creation. */
	assert_int_equal(aead_seal(dec, iv8, aad, aadlen, pt, v->len, out), -1);
	sk_ctx_free(enc);
	sk_ctx_free(dec);
}

static void gcm_spec_tc3_tc4_aes128(void **state)
{
	struct gcm_vec tc3 = {
	    "feffe9928665731c6d6a8f9467308308", NULL,
	    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
	    "4d5c2af327cd64a62cf35abd2ba6fab4", 64};
	struct gcm_vec tc4 = {
	    "feffe9928665731c6d6a8f9467308308", GCM_A,
	    "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	    "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	    "5bc94fbc3221a5db94fae95ae7121a47", 60};

	check_gcm(&tc3);
	check_gcm(&tc4);
}

static void gcm_spec_tc15_tc16_aes256(void **state)
{
	struct gcm_vec tc15 = {
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    NULL,
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	    "b094dac5d93471bdec1a502270e3cc6c", 64};
	struct gcm_vec tc16 = {
	    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    GCM_A,
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	    "76fc6ece0f4e1768cddf8853bb2d551b", 60};

	check_gcm(&tc15);
	check_gcm(&tc16);
}

static void gcm_tamper_fails(void **state)
{
	uint8_t pt[60], aad[20], sealed[76], tmp[76], out[60], iv8[8];
	const char *key = "feffe9928665731c6d6a8f9467308308";
	struct sk_ctx *enc = gcm_ctx(key, SK_OUT, iv8);
	struct sk_ctx *dec = gcm_ctx(key, SK_IN, iv8);
	size_t where[] = {0, 30, 59, 60, 75}; /* ciphertext and ICV */

	unhex(pt, 60,
	      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
	      "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de6"
	      "57ba637b39");
	unhex(aad, 20, GCM_A);
	assert_int_equal(aead_seal(enc, iv8, aad, 20, pt, 60, sealed), 0);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		memcpy(tmp, sealed, sizeof(tmp));
		tmp[where[i]] ^= 0x01;
		memset(out, 0xee, sizeof(out));
		assert_int_equal(aead_open(dec, iv8, aad, 20, tmp, 76, out),
				 -1);
		/* Unauthenticated plaintext is not left behind. */
		for (size_t j = 0; j < sizeof(out); j++)
			assert_int_equal(out[j], 0);
	}
	aad[19] ^= 0x80;
	assert_int_equal(aead_open(dec, iv8, aad, 20, sealed, 76, out), -1);
	aad[19] ^= 0x80;
	iv8[7] ^= 1;
	assert_int_equal(aead_open(dec, iv8, aad, 20, sealed, 76, out), -1);
	iv8[7] ^= 1;
	assert_int_equal(aead_open(dec, iv8, aad, 20, sealed, 76, out), 0);
	assert_memory_equal(out, pt, 60);
	assert_int_equal(aead_open(dec, iv8, aad, 20, sealed, 15, out), -1);
	sk_ctx_free(enc);
	sk_ctx_free(dec);
}

/* ---- AES-CBC: RFC 3602 section 4, cases 1-3 ---- */

static void check_cbc(const char *key_hex, const char *iv_hex,
		      const uint8_t *pt, size_t len, const char *ct_hex)
{
	const struct integ_alg *h = I(IKE_INTEG_HMAC_SHA2_256_128);
	uint8_t key[16], iv[16], mkey[32] = {0}, out[64], back[64];
	struct sk_ctx *enc, *dec;

	unhex(key, sizeof(key), key_hex);
	unhex(iv, sizeof(iv), iv_hex);
	enc =
	    sk_ctx_new(E(IKE_ENCR_AES_CBC, 128), h, key, 16, mkey, 32, SK_OUT);
	dec = sk_ctx_new(E(IKE_ENCR_AES_CBC, 128), h, key, 16, mkey, 32, SK_IN);
	assert_non_null(enc);
	assert_non_null(dec);
	assert_int_equal(cbc_encrypt(enc, iv, pt, len, out), 0);
	assert_hex(out, len, ct_hex);
	assert_int_equal(cbc_decrypt(dec, iv, out, len, back), 0);
	assert_memory_equal(back, pt, len);
	/* The same contexts again: IV reset, key kept. */
	assert_int_equal(cbc_encrypt(enc, iv, pt, len, out), 0);
	assert_hex(out, len, ct_hex);
	assert_int_equal(cbc_encrypt(enc, iv, pt, len - 1, out), -1);
	sk_ctx_free(enc);
	sk_ctx_free(dec);
}

static void rfc3602_cbc(void **state)
{
	const char *msg3 = "This is a 48-byte message (exactly 3 AES blocks)";
	uint8_t pt2[32];

	check_cbc("06a9214036b8a15b512e03d534120006",
		  "3dafba429d9eb430b422da802c9fac41",
		  (const uint8_t *)"Single block msg", 16,
		  "e353779c1079aeb82708942dbe77181a");
	for (size_t i = 0; i < 32; i++)
		pt2[i] = (uint8_t)i;
	check_cbc("c286696d887c9aa0611bbb3e2025a45a",
		  "562e17996d093d28ddb3ba695a2e6f58", pt2, 32,
		  "d296cd94c2cccf8a3a863028b5e1dc0a"
		  "7586602d253cfff91b8266bea6d61ab1");
	assert_int_equal(strlen(msg3), 48);
	check_cbc("6c3ea0477630ce21a2ce334aa746c2cd",
		  "c782dc4c098c66cbd9cd27d825682c81", (const uint8_t *)msg3, 48,
		  "d0a02b3836451753d493665d33f0e886"
		  "2dea54cdb293abc7506939276772f8d5"
		  "021c19216bad525c8579695d83ba2684");
}

/* ---- uniform sk_encrypt / sk_decrypt ---- */

struct pair {
	struct sk_ctx *out, *in;
};

static struct pair make_pair(const struct encr_alg *e,
			     const struct integ_alg *h)
{
	uint8_t ek[36], ik[64];
	struct pair p;

	for (size_t i = 0; i < sizeof(ek); i++)
		ek[i] = (uint8_t)(0x30 + i);
	for (size_t i = 0; i < sizeof(ik); i++)
		ik[i] = (uint8_t)(0x90 + i);
	p.out =
	    sk_ctx_new(e, h, ek, e->key_len, ik, h ? h->key_len : 0, SK_OUT);
	p.in = sk_ctx_new(e, h, ek, e->key_len, ik, h ? h->key_len : 0, SK_IN);
	assert_non_null(p.out);
	assert_non_null(p.in);
	return p;
}

static void free_pair(struct pair *p)
{
	sk_ctx_free(p->out);
	sk_ctx_free(p->in);
}

/* ESP-shaped unit: SPI | seq (8) | IV | payload (64) | ICV. */
static void sk_roundtrip_one(const struct encr_alg *e,
			     const struct integ_alg *h, const uint8_t *esn)
{
	struct pair p = make_pair(e, h);
	size_t iv = sk_iv_len(p.out), icv = sk_icv_len(p.out);
	uint8_t buf[8 + 16 + 64 + 32], pt[64], hi[4] = {0, 0, 0, 9};

	for (size_t i = 0; i < 64; i++)
		pt[i] = (uint8_t)(i * 7);
	memcpy(buf, "\x00\x00\x10\x01\x00\x00\x00\x05", 8);
	memcpy(buf + 8 + iv, pt, 64);
	assert_int_equal(sk_encrypt(p.out, buf, 8, 64, esn), 0);
	assert_memory_not_equal(buf + 8 + iv, pt, 64);
	assert_int_equal(sk_decrypt(p.in, buf, 8, 64, esn), 0);
	assert_memory_equal(buf + 8 + iv, pt, 64);
	if (esn) {
		/* A different ESN high half must fail authentication. */
		memcpy(buf + 8 + iv, pt, 64);
		assert_int_equal(sk_encrypt(p.out, buf, 8, 64, esn), 0);
		assert_int_equal(sk_decrypt(p.in, buf, 8, 64, hi), -1);
	}
	assert_true(icv == 16 || icv == 24 || icv == 32 || icv == 12);
	free_pair(&p);
}

static void sk_roundtrip_all(void **state)
{
	static const uint16_t integs[] = {
	    IKE_INTEG_HMAC_SHA1_96, IKE_INTEG_HMAC_SHA2_256_128,
	    IKE_INTEG_HMAC_SHA2_384_192, IKE_INTEG_HMAC_SHA2_512_256};
	static const uint16_t bits[] = {128, 192, 256};
	const uint8_t esn[4] = {0, 0, 0, 1};

	for (size_t b = 0; b < 3; b++) {
		sk_roundtrip_one(E(IKE_ENCR_AES_GCM_16, bits[b]), NULL, NULL);
		sk_roundtrip_one(E(IKE_ENCR_AES_GCM_16, bits[b]), NULL, esn);
		for (size_t i = 0; i < 4; i++) {
			sk_roundtrip_one(E(IKE_ENCR_AES_CBC, bits[b]),
					 I(integs[i]), NULL);
			sk_roundtrip_one(E(IKE_ENCR_AES_CBC, bits[b]),
					 I(integs[i]), esn);
		}
	}
}

static void gcm_ivs_unique(void **state)
{
	struct pair p = make_pair(E(IKE_ENCR_AES_GCM_16, 128), NULL);
	uint8_t a[8 + 8 + 16 + 16] = {0}, b[sizeof(a)] = {0};

	assert_int_equal(sk_encrypt(p.out, a, 8, 16, NULL), 0);
	assert_int_equal(sk_encrypt(p.out, b, 8, 16, NULL), 0);
	assert_memory_not_equal(a + 8, b + 8, 8);
	assert_memory_not_equal(a + 16, b + 16, 16);
	free_pair(&p);
}

static void cbc_bad_icv_before_decrypt(void **state)
{
	struct pair p =
	    make_pair(E(IKE_ENCR_AES_CBC, 256), I(IKE_INTEG_HMAC_SHA2_256_128));
	uint8_t buf[8 + 16 + 48 + 16], copy[sizeof(buf)];

	memset(buf, 0x11, sizeof(buf));
	assert_int_equal(sk_encrypt(p.out, buf, 8, 48, NULL), 0);
	for (size_t at = 0; at < sizeof(buf); at += 9) {
		buf[at] ^= 0x04;
		memcpy(copy, buf, sizeof(buf));
		assert_int_equal(sk_decrypt(p.in, buf, 8, 48, NULL), -1);
		/* Nothing was decrypted in place. */
		assert_memory_equal(buf, copy, sizeof(buf));
		buf[at] ^= 0x04;
	}
	assert_int_equal(sk_decrypt(p.in, buf, 8, 48, NULL), 0);
	for (size_t i = 0; i < 48; i++)
		assert_int_equal(buf[24 + i], 0x11);
	free_pair(&p);
}

/* ---- IKE SK payload ---- */

static void ike_sk_one(const struct encr_alg *e, const struct integ_alg *h,
		       size_t inner_len)
{
	struct pair p = make_pair(e, h);
	uint8_t msg[32 + 16 + 100 + 16 + 32];
	size_t hdr = 32, iv = sk_iv_len(p.out), total = 0, got_len = 0;
	size_t sealed = sk_ike_sealed_len(p.out, inner_len);
	const uint8_t *got = NULL;

	memset(msg, 0xa5, hdr); /* IKE header + SK header stand-in */
	for (size_t i = 0; i < inner_len; i++)
		msg[hdr + iv + i] = (uint8_t)i;
	assert_int_equal(
	    sk_ike_seal(p.out, msg, sizeof(msg), hdr, inner_len, &total), 0);
	assert_int_equal(total, hdr + sealed);
	/* IV + padded plaintext (with Pad Length) aligned + ICV. */
	assert_int_equal(
	    (sealed - iv - sk_icv_len(p.out)) % sk_block_len(p.out), 0);
	assert_true(sealed - iv - sk_icv_len(p.out) >= inner_len + 1);
	assert_int_equal(sk_ike_open(p.in, msg, total, hdr, &got, &got_len), 0);
	assert_int_equal(got_len, inner_len);
	for (size_t i = 0; i < inner_len; i++)
		assert_int_equal(got[i], (uint8_t)i);
	/* Too short and too small a buffer. */
	assert_int_equal(sk_ike_open(p.in, msg, hdr + iv, hdr, &got, &got_len),
			 -1);
	assert_int_equal(
	    sk_ike_seal(p.out, msg, total - 1, hdr, inner_len, &total), -1);
	free_pair(&p);
}

static void ike_sk_payload(void **state)
{
	for (size_t n = 0; n <= 40; n += 5) {
		ike_sk_one(E(IKE_ENCR_AES_GCM_16, 256), NULL, n);
		ike_sk_one(E(IKE_ENCR_AES_CBC, 128),
			   I(IKE_INTEG_HMAC_SHA2_256_128), n);
		ike_sk_one(E(IKE_ENCR_AES_CBC, 256),
			   I(IKE_INTEG_HMAC_SHA2_512_256), n);
	}
}

static void ike_sk_tampered_header(void **state)
{
	struct pair p = make_pair(E(IKE_ENCR_AES_GCM_16, 128), NULL);
	uint8_t msg[28 + 4 + 8 + 20 + 16];
	const uint8_t *inner;
	size_t total, len;

	memset(msg, 0, sizeof(msg));
	assert_int_equal(sk_ike_seal(p.out, msg, sizeof(msg), 32, 10, &total),
			 0);
	msg[17] ^= 1; /* the exchange type is authenticated */
	assert_int_equal(sk_ike_open(p.in, msg, total, 32, &inner, &len), -1);
	free_pair(&p);
}

/* ---- DH: RFC 5903 section 8 ---- */

struct ecp_vec {
	uint16_t group;
	const char *i, *gi, *r, *gr, *girx;
};

static void check_ecp(const struct ecp_vec *v)
{
	uint8_t priv[66], out[66];
	size_t plen, len;
	struct dh *di, *dr;
	const uint8_t *pub;

	plen = unhex(priv, sizeof(priv), v->i);
	di = dh_new_from_private(v->group, priv, plen);
	plen = unhex(priv, sizeof(priv), v->r);
	dr = dh_new_from_private(v->group, priv, plen);
	assert_non_null(di);
	assert_non_null(dr);
	pub = dh_public(di, &len);
	assert_hex(pub, len, v->gi);
	pub = dh_public(dr, &len);
	assert_hex(pub, len, v->gr);

	assert_int_equal(dh_shared(di, pub, len, out, sizeof(out)), 0);
	assert_hex(out, dh_shared_len(v->group), v->girx);
	pub = dh_public(di, &len);
	assert_int_equal(dh_shared(dr, pub, len, out, sizeof(out)), 0);
	assert_hex(out, dh_shared_len(v->group), v->girx);
	dh_free(di);
	dh_free(dr);
}

static void rfc5903_ecp256(void **state)
{
	struct ecp_vec v = {
	    IKE_DH_ECP256,
	    "C88F01F5 10D9AC3F 70A292DA A2316DE5 44E9AAB8 AFE84049 C62A9C57 "
	    "862D1433",
	    "DAD0B653 94221CF9 B051E1FE CA5787D0 98DFE637 FC90B9EF 945D0C37 "
	    "72581180 5271A046 1CDB8252 D61F1C45 6FA3E59A B1F45B33 ACCF5F58 "
	    "389E0577 B8990BB3",
	    "C6EF9C5D 78AE012A 011164AC B397CE20 88685D8F 06BF9BE0 B283AB46 "
	    "476BEE53",
	    "D12DFB52 89C8D4F8 1208B702 70398C34 2296970A 0BCCB74C 736FC755 "
	    "4494BF63 56FBF3CA 366CC23E 8157854C 13C58D6A AC23F046 ADA30F83 "
	    "53E74F33 039872AB",
	    "D6840F6B 42F6EDAF D13116E0 E1256520 2FEF8E9E CE7DCE03 812464D0 "
	    "4B9442DE",
	};

	check_ecp(&v);
}

static void rfc5903_ecp384(void **state)
{
	struct ecp_vec v = {
	    IKE_DH_ECP384,
	    "099F3C70 34D4A2C6 99884D73 A375A67F 7624EF7C 6B3C0F16 0647B674 "
	    "14DCE655 E35B5380 41E649EE 3FAEF896 783AB194",
	    "667842D7 D180AC2C DE6F74F3 7551F557 55C7645C 20EF73E3 1634FE72 "
	    "B4C55EE6 DE3AC808 ACB4BDB4 C88732AE E95F41AA 9482ED1F C0EEB9CA "
	    "FC498462 5CCFC23F 65032149 E0E144AD A0241815 35A0F38E EB9FCFF3 "
	    "C2C947DA E69B4C63 4573A81C",
	    "41CB0779 B4BDB85D 47846725 FBEC3C94 30FAB46C C8DC5060 855CC9BD "
	    "A0AA2942 E0308312 916B8ED2 960E4BD5 5A7448FC",
	    "E558DBEF 53EECDE3 D3FCCFC1 AEA08A89 A987475D 12FD950D 83CFA417 "
	    "32BC509D 0D1AC43A 0336DEF9 6FDA41D0 774A3571 DCFBEC7A ACF31964 "
	    "72169E83 8430367F 66EEBE3C 6E70C416 DD5F0C68 759DD1FF F83FA401 "
	    "42209DFF 5EAAD96D B9E6386C",
	    "11187331 C279962D 93D60424 3FD592CB 9D0A926F 422E4718 7521287E "
	    "7156C5C4 D6031355 69B9E9D0 9CF5D4A2 70F59746",
	};

	check_ecp(&v);
}

static void rfc5903_ecp521(void **state)
{
	struct ecp_vec v = {
	    IKE_DH_ECP521,
	    "0037ADE9 319A89F4 DABDB3EF 411AACCC A5123C61 ACAB57B5 393DCE47 "
	    "608172A0 95AA85A3 0FE1C295 2C6771D9 37BA9777 F5957B26 39BAB072 "
	    "462F68C2 7A57382D 4A52",
	    "0015417E 84DBF28C 0AD3C278 713349DC 7DF153C8 97A1891B D98BAB43 "
	    "57C9ECBE E1E3BF42 E00B8E38 0AEAE57C 2D107564 94188594 2AF5A7F4 "
	    "601723C4 195D176C ED3E"
	    "017CAE20 B6641D2E EB695786 D8C94614 6239D099 E18E1D5A 514C739D "
	    "7CB4A10A D8A78801 5AC405D7 799DC75E 7B7D5B6C F2261A6A 7F150743 "
	    "8BF01BEB 6CA3926F 9582",
	    "0145BA99 A847AF43 793FDD0E 872E7CDF A16BE30F DC780F97 BCCC3F07 "
	    "8380201E 9C677D60 0B343757 A3BDBF2A 3163E4C2 F869CCA7 458AA4A4 "
	    "EFFC311F 5CB15168 5EB9",
	    "00D0B397 5AC4B799 F5BEA16D 5E13E9AF 971D5E9B 984C9F39 728B5E57 "
	    "39735A21 9B97C356 436ADC6E 95BB0352 F6BE64A6 C2912D4E F2D0433C "
	    "ED2B6171 640012D9 460F"
	    "015C6822 6383956E 3BD066E7 97B623C2 7CE0EAC2 F551A10C 2C724D98 "
	    "52077B87 220B6536 C5C408A1 D2AEBB8E 86D678AE 49CB5709 1F473229 "
	    "6579AB44 FCD17F0F C56A",
	    "01144C7D 79AE6956 BC8EDB8E 7C787C45 21CB086F A64407F9 7894E5E6 "
	    "B2D79B04 D1427E73 CA4BAA24 0A347868 59810C06 B3C715A3 A8CC3151 "
	    "F2BEE417 996D19F3 DDEA",
	};

	check_ecp(&v);
}

/* ---- DH: RFC 7748 ---- */

static void rfc7748_x25519_dh(void **state)
{
	uint8_t a[32], b[32], out[32];
	const uint8_t *pub;
	struct dh *da, *db;
	size_t len;

	unhex(a, 32,
	      "77076d0a7318a57d3c16c17251b26645"
	      "df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32,
	      "5dab087e624a8a4b79e17f8b83800ee6"
	      "6f3bb1292618b6fd1c2f8b27ff88e0eb");
	da = dh_new_from_private(IKE_DH_CURVE25519, a, 32);
	db = dh_new_from_private(IKE_DH_CURVE25519, b, 32);
	assert_non_null(da);
	assert_non_null(db);
	pub = dh_public(da, &len);
	assert_hex(pub, len,
		   "8520f0098930a754748b7ddcb43ef75a"
		   "0dbf3a0d26381af4eba4a98eaa9b4e6a");
	assert_int_equal(dh_shared(db, pub, len, out, sizeof(out)), 0);
	assert_hex(out, 32,
		   "4a5d9d5ba4ce2de1728e3bf480350f25"
		   "e07e21c947d19e3376f09b3c1e161742");
	pub = dh_public(db, &len);
	assert_hex(pub, len,
		   "de9edb7d7b7dc1b4d35b61c2ece43537"
		   "3f8343c85b78674dadfc7e146f882b4f");
	assert_int_equal(dh_shared(da, pub, len, out, sizeof(out)), 0);
	assert_hex(out, 32,
		   "4a5d9d5ba4ce2de1728e3bf480350f25"
		   "e07e21c947d19e3376f09b3c1e161742");
	dh_free(da);
	dh_free(db);
}

static void check_x25519(const char *k, const char *u, const char *res)
{
	uint8_t kb[32], ub[32], out[32];
	struct dh *d;

	unhex(kb, 32, k);
	unhex(ub, 32, u);
	d = dh_new_from_private(IKE_DH_CURVE25519, kb, 32);
	assert_non_null(d);
	assert_int_equal(dh_shared(d, ub, 32, out, sizeof(out)), 0);
	assert_hex(out, 32, res);
	dh_free(d);
}

static void rfc7748_x25519_function(void **state)
{
	check_x25519(
	    "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
	check_x25519(
	    "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

/* ---- DH: round trips and validation ---- */

static const uint16_t all_groups[] = {IKE_DH_MODP2048, IKE_DH_ECP256,
				      IKE_DH_ECP384, IKE_DH_ECP521,
				      IKE_DH_CURVE25519};

static void dh_roundtrip_all_groups(void **state)
{
	for (size_t g = 0; g < sizeof(all_groups) / sizeof(all_groups[0]);
	     g++) {
		struct dh *a = dh_new(all_groups[g]),
			  *b = dh_new(all_groups[g]);
		uint8_t sa[256], sb[256];
		const uint8_t *pa, *pb;
		size_t la, lb, n = dh_shared_len(all_groups[g]);

		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(dh_group(a), all_groups[g]);
		pa = dh_public(a, &la);
		pb = dh_public(b, &lb);
		assert_int_equal(la, dh_public_len(all_groups[g]));
		assert_int_equal(lb, la);
		assert_memory_not_equal(pa, pb, la);
		assert_int_equal(dh_shared(a, pb, lb, sa, sizeof(sa)), 0);
		assert_int_equal(dh_shared(b, pa, la, sb, sizeof(sb)), 0);
		assert_memory_equal(sa, sb, n);
		/* Output room too small. */
		assert_int_equal(dh_shared(a, pb, lb, sa, n - 1), -1);
		dh_free(a);
		dh_free(b);
	}
}

static void dh_unsupported(void **state)
{
	assert_null(dh_new(IKE_DH_MODP3072));
	assert_null(dh_new(IKE_DH_NONE));
	assert_int_equal(dh_public_len(IKE_DH_MODP4096), 0);
	assert_false(dh_supported(IKE_DH_MODP3072));
	assert_true(dh_supported(IKE_DH_CURVE25519));
	assert_int_equal(dh_public_len(IKE_DH_ECP521), 132);
	assert_int_equal(dh_shared_len(IKE_DH_ECP521), 66);
}

static void dh_rejects_wrong_length(void **state)
{
	uint8_t v[300] = {0}, out[256];

	for (size_t g = 0; g < sizeof(all_groups) / sizeof(all_groups[0]);
	     g++) {
		struct dh *d = dh_new(all_groups[g]);
		size_t len;
		const uint8_t *pub = dh_public(d, &len);

		memcpy(v, pub, len);
		assert_int_equal(dh_shared(d, v, len - 1, out, sizeof(out)),
				 -1);
		assert_int_equal(dh_shared(d, v, len + 1, out, sizeof(out)),
				 -1);
		assert_int_equal(dh_shared(d, v, 0, out, sizeof(out)), -1);
		/* A valid value of the right length is fine (our own). */
		assert_int_equal(dh_shared(d, v, len, out, sizeof(out)), 0);
		dh_free(d);
	}
}

static void dh_modp_rejects_range(void **state)
{
	struct dh *d = dh_new(IKE_DH_MODP2048);
	BIGNUM *p = BN_get_rfc3526_prime_2048(NULL);
	uint8_t pv[256], v[256], out[256];

	assert_non_null(d);
	assert_non_null(p);
	assert_int_equal(BN_bn2binpad(p, pv, 256), 256);
	memset(v, 0, 256);
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), -1); /* 0 */
	v[255] = 1;
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), -1); /* 1 */
	memcpy(v, pv, 256);
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), -1); /* p */
	v[255] -= 1;
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), -1); /* p-1 */
	v[255] -= 1;
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), 0); /* p-2 */
	memset(v, 0xff, 256);
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), -1); /* > p */
	v[255] = 2;
	memset(v, 0, 255);
	assert_int_equal(dh_shared(d, v, 256, out, sizeof(out)), 0); /* 2 */
	BN_free(p);
	dh_free(d);
}

static void dh_ecp_rejects_off_curve(void **state)
{
	static const uint16_t ecp[] = {IKE_DH_ECP256, IKE_DH_ECP384,
				       IKE_DH_ECP521};
	uint8_t v[132], out[66];

	for (size_t g = 0; g < 3; g++) {
		struct dh *a = dh_new(ecp[g]), *b = dh_new(ecp[g]);
		size_t len;
		const uint8_t *pub = dh_public(b, &len);

		memcpy(v, pub, len);
		v[len - 1] ^= 0x01; /* y changed: off the curve */
		assert_int_equal(dh_shared(a, v, len, out, sizeof(out)), -1);
		memset(v, 0, len); /* (0, 0) is on none of these curves */
		assert_int_equal(dh_shared(a, v, len, out, sizeof(out)), -1);
		memset(v, 0xff, len); /* coordinates >= p */
		assert_int_equal(dh_shared(a, v, len, out, sizeof(out)), -1);
		memcpy(v, pub, len);
		assert_int_equal(dh_shared(a, v, len, out, sizeof(out)), 0);
		dh_free(a);
		dh_free(b);
	}
}

static void dh_x25519_rejects_low_order(void **state)
{
	struct dh *d = dh_new(IKE_DH_CURVE25519);
	uint8_t v[32] = {0}, out[32];

	assert_non_null(d);
	/* u = 0 and u = 1 are low-order: the shared secret is all zero. */
	assert_int_equal(dh_shared(d, v, 32, out, sizeof(out)), -1);
	v[0] = 1;
	assert_int_equal(dh_shared(d, v, 32, out, sizeof(out)), -1);
	dh_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rfc4868_prf_1_hi_there),
	    cmocka_unit_test(rfc4868_prf_2_jefe),
	    cmocka_unit_test(rfc4868_prf_3_dd),
	    cmocka_unit_test(rfc4868_prf_4_cd),
	    cmocka_unit_test(rfc4868_prf_5_long_key),
	    cmocka_unit_test(rfc4868_auth256),
	    cmocka_unit_test(rfc4868_auth384),
	    cmocka_unit_test(rfc4868_auth512),
	    cmocka_unit_test(alg_tables),
	    cmocka_unit_test(prf_plus_properties),
	    cmocka_unit_test(prf_plus_bounded),
	    cmocka_unit_test(ike_key_sizes),
	    cmocka_unit_test(ike_rekey_skeyseed),
	    cmocka_unit_test(child_keys_order),
	    cmocka_unit_test(psk_auth_composition),
	    cmocka_unit_test(gcm_spec_tc3_tc4_aes128),
	    cmocka_unit_test(gcm_spec_tc15_tc16_aes256),
	    cmocka_unit_test(gcm_tamper_fails),
	    cmocka_unit_test(rfc3602_cbc),
	    cmocka_unit_test(sk_roundtrip_all),
	    cmocka_unit_test(gcm_ivs_unique),
	    cmocka_unit_test(cbc_bad_icv_before_decrypt),
	    cmocka_unit_test(ike_sk_payload),
	    cmocka_unit_test(ike_sk_tampered_header),
	    cmocka_unit_test(rfc5903_ecp256),
	    cmocka_unit_test(rfc5903_ecp384),
	    cmocka_unit_test(rfc5903_ecp521),
	    cmocka_unit_test(rfc7748_x25519_dh),
	    cmocka_unit_test(rfc7748_x25519_function),
	    cmocka_unit_test(dh_roundtrip_all_groups),
	    cmocka_unit_test(dh_unsupported),
	    cmocka_unit_test(dh_rejects_wrong_length),
	    cmocka_unit_test(dh_modp_rejects_range),
	    cmocka_unit_test(dh_ecp_rejects_off_curve),
	    cmocka_unit_test(dh_x25519_rejects_low_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
