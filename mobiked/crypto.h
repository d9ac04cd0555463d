/*
 * crypto.h - IKEv2 and ESP cryptography on OpenSSL 3 EVP.
 *
 * Three layers:
 *   - algorithm tables looked up by IANA transform id (ikev2.h);
 *   - key derivation: prf, prf+ (RFC 7296 2.13), SKEYSEED and SK_* (2.14),
 *     CHILD_SA KEYMAT (2.17), the PSK AUTH value (2.15);
 *   - per-SA protection contexts (struct sk_ctx) used for both the IKE SK
 *     payload and ESP: AES-GCM-16 (RFC 5282 / RFC 4106) or AES-CBC with
 *     HMAC-SHA1/SHA2 (RFC 7296 3.14 / RFC 4303, encrypt-then-MAC);
 * and Diffie-Hellman (dh.c) with RFC 6989-style checks of peer values.
 *
 * Every function returns 0 or -1 unless it says otherwise.  Key material
 * is wiped when the owning object is freed; nothing here logs a key except
 * through log_secret_hex().
 */
#ifndef MOBIKED_CRYPTO_H
#define MOBIKED_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MAX_PRF_LEN	   64 /* HMAC-SHA-512 output and key */
#define CRYPTO_MAX_INTEG_KEY	   64 /* HMAC-SHA-512-256 key */
#define CRYPTO_MAX_ENCR_KEY	   36 /* AES-256 + 4-byte GCM salt */
#define CRYPTO_MAX_ICV		   32
#define CRYPTO_MAX_IV		   16
#define CRYPTO_GCM_SALT_LEN	   4
#define CRYPTO_GCM_IV_LEN	   8 /* explicit IV on the wire */
#define CRYPTO_GCM_ICV_LEN	   16
#define CRYPTO_PRF_PLUS_MAX_ROUNDS 255

/* ---- algorithm tables ---- */

struct prf_alg {
	uint16_t id; /* enum ike_prf */
	const char *name;
	const char *digest; /* OpenSSL digest name */
	size_t out_len;
	size_t key_len; /* preferred key length: SK_d, SK_pi, SK_pr */
};

struct integ_alg {
	uint16_t id; /* enum ike_integ */
	const char *name;
	const char *digest;
	size_t key_len;
	size_t icv_len; /* truncated output */
};

struct encr_alg {
	uint16_t id; /* enum ike_encr */
	uint16_t key_bits;
	const char *name;
	const char *cipher; /* OpenSSL cipher name */
	size_t key_len;	    /* keying material, salt included */
	size_t salt_len;    /* GCM: 4, CBC: 0 */
	size_t iv_len;	    /* explicit IV on the wire */
	size_t block_len;   /* plaintext alignment (IKE padding) */
	size_t icv_len;	    /* AEAD tag; 0 for CBC (INTEG supplies it) */
	bool aead;
};

const struct prf_alg *prf_alg_find(uint16_t id);
const struct integ_alg *integ_alg_find(uint16_t id);
/* key_bits is the Key Length attribute; AES requires it (128/192/256). */
const struct encr_alg *encr_alg_find(uint16_t id, uint16_t key_bits);

/* ---- prf and prf+ ---- */

/* One piece of a scattered input. */
struct chunk {
	const void *p;
	size_t n;
};

/* out receives a->out_len bytes. */
int prf(const struct prf_alg *a, const void *key, size_t klen, const void *data,
	size_t dlen, uint8_t *out);
int prf_v(const struct prf_alg *a, const void *key, size_t klen,
	  const struct chunk *in, size_t nin, uint8_t *out);
/* prf+ (RFC 7296 2.13); fails if outlen needs more than 255 rounds. */
int prf_plus(const struct prf_alg *a, const void *key, size_t klen,
	     const struct chunk *seed, size_t nseed, uint8_t *out,
	     size_t outlen);

/* ---- IKE SA keys ---- */

/* The negotiated IKE SA transforms; integ is NULL with an AEAD. */
struct ike_suite {
	const struct prf_alg *prf;
	const struct encr_alg *encr;
	const struct integ_alg *integ;
};

struct ike_keys {
	size_t d_len, a_len, e_len, p_len;
	uint8_t sk_d[CRYPTO_MAX_PRF_LEN];
	uint8_t sk_ai[CRYPTO_MAX_INTEG_KEY], sk_ar[CRYPTO_MAX_INTEG_KEY];
	uint8_t sk_ei[CRYPTO_MAX_ENCR_KEY], sk_er[CRYPTO_MAX_ENCR_KEY];
	uint8_t sk_pi[CRYPTO_MAX_PRF_LEN], sk_pr[CRYPTO_MAX_PRF_LEN];
};

/* SKEYSEED = prf(Ni | Nr, g^ir); out gets prf->out_len bytes. */
int ike_skeyseed(const struct prf_alg *prf, const uint8_t *ni, size_t ni_len,
		 const uint8_t *nr, size_t nr_len, const uint8_t *gir,
		 size_t gir_len, uint8_t *out);
/* Rekeyed IKE SA (RFC 7296 2.18): prf_old(SK_d_old, g^ir | Ni | Nr). */
int ike_skeyseed_rekey(const struct prf_alg *old_prf, const uint8_t *old_sk_d,
		       size_t old_d_len, const uint8_t *gir, size_t gir_len,
		       const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		       size_t nr_len, uint8_t *out);
/* {SK_d|SK_ai|SK_ar|SK_ei|SK_er|SK_pi|SK_pr} = prf+(SKEYSEED, Ni|Nr|SPIi|SPIr)
 */
int ike_keys_derive(const struct ike_suite *s, const uint8_t *skeyseed,
		    size_t skeyseed_len, const uint8_t *ni, size_t ni_len,
		    const uint8_t *nr, size_t nr_len, const uint8_t spii[8],
		    const uint8_t spir[8], struct ike_keys *k);
/* Total prf+ output an IKE SA needs with this suite (for tests and logs). */
size_t ike_keys_len(const struct ike_suite *s);
void ike_keys_wipe(struct ike_keys *k);
/* Only at the "secret" log level. */
void ike_keys_log(const struct ike_keys *k);

/* ---- CHILD_SA keys ---- */

struct child_keys {
	size_t e_len, a_len;
	uint8_t ei[CRYPTO_MAX_ENCR_KEY], ai[CRYPTO_MAX_INTEG_KEY]; /* i -> r */
	uint8_t er[CRYPTO_MAX_ENCR_KEY], ar[CRYPTO_MAX_INTEG_KEY]; /* r -> i */
};

/*
 * KEYMAT = prf+(SK_d, [g^ir (new)] | Ni | Nr), taken in the order
 * encr i->r, integ i->r, encr r->i, integ r->i (RFC 7296 2.17).  gir may be
 * NULL (no PFS).  integ is NULL with an AEAD.
 */
int child_keys_derive(const struct prf_alg *prf, const uint8_t *sk_d,
		      size_t d_len, const struct encr_alg *encr,
		      const struct integ_alg *integ, const uint8_t *gir,
		      size_t gir_len, const uint8_t *ni, size_t ni_len,
		      const uint8_t *nr, size_t nr_len, struct child_keys *k);
void child_keys_wipe(struct child_keys *k);

/* ---- PSK authentication (RFC 7296 2.15) ---- */

/*
 * AUTH = prf(prf(PSK, "Key Pad for IKEv2"),
 *            RealMessage | Nonce | prf(SK_p, RestOfIDPayload))
 * msg is the whole IKE_SA_INIT message the signer sent, nonce the peer's
 * nonce data, sk_p the signer's SK_pi or SK_pr, id_body the signer's ID
 * payload after its 4-byte generic header.  out gets prf->out_len bytes.
 */
int psk_auth(const struct prf_alg *prf, const uint8_t *psk, size_t psk_len,
	     const uint8_t *msg, size_t msg_len, const uint8_t *nonce,
	     size_t nonce_len, const uint8_t *sk_p, size_t sk_p_len,
	     const uint8_t *id_body, size_t id_len, uint8_t *out);

/* ---- integrity (HMAC truncated) ---- */

struct integ_ctx;

struct integ_ctx *integ_new(const struct integ_alg *a, const uint8_t *key,
			    size_t klen);
void integ_free(struct integ_ctx *c);
/* icv gets a->icv_len bytes over the concatenated chunks. */
int integ_compute(struct integ_ctx *c, const struct chunk *in, size_t nin,
		  uint8_t *icv);
/* Constant-time compare; -1 on mismatch. */
int integ_verify(struct integ_ctx *c, const struct chunk *in, size_t nin,
		 const uint8_t *icv);

/* ---- per-SA protection context: IKE SK payload and ESP ---- */

enum sk_dir {
	SK_OUT, /* encrypt / seal */
	SK_IN,	/* decrypt / open */
};

/*
 * Created once per SA and direction, from the encryption key (salt
 * included for GCM) and, for CBC, the integrity key.  The per-packet calls
 * allocate nothing in this code and re-key nothing: the cipher context
 * keeps its key schedule and only the IV changes.  (With HMAC, OpenSSL 3.0
 * copies its precomputed inner/outer digest states on each re-init; GCM,
 * the data-plane choice, has no such cost.)
 *
 * Outbound IVs: GCM uses a 64-bit counter seeded from RAND_bytes, so an IV
 * never repeats under one key before 2^64 packets (RFC 4106 8.1 asks only
 * uniqueness); CBC draws 16 unpredictable bytes from RAND_bytes per packet
 * (RFC 3602 requires unpredictability).
 */
struct sk_ctx;

struct sk_ctx *sk_ctx_new(const struct encr_alg *encr,
			  const struct integ_alg *integ, const uint8_t *ekey,
			  size_t elen, const uint8_t *ikey, size_t ilen,
			  enum sk_dir dir);
void sk_ctx_free(struct sk_ctx *c);
size_t sk_iv_len(const struct sk_ctx *c);
size_t sk_icv_len(const struct sk_ctx *c);
size_t sk_block_len(const struct sk_ctx *c);

/*
 * AES-GCM with nonce = salt | iv8.  seal: out = ciphertext | 16-byte ICV
 * (len + 16 bytes).  open: in = ciphertext | ICV, out gets inlen - 16
 * bytes; -1 on ICV mismatch, and then out is wiped.  out may equal the
 * plaintext / ciphertext pointer (in place).
 */
int aead_seal(struct sk_ctx *c, const uint8_t iv8[8], const uint8_t *aad,
	      size_t aadlen, const uint8_t *pt, size_t len, uint8_t *out);
int aead_open(struct sk_ctx *c, const uint8_t iv8[8], const uint8_t *aad,
	      size_t aadlen, const uint8_t *in, size_t inlen, uint8_t *out);

/* AES-CBC without padding; len must be a multiple of 16.  In place ok. */
int cbc_encrypt(struct sk_ctx *c, const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out);
int cbc_decrypt(struct sk_ctx *c, const uint8_t iv[16], const uint8_t *in,
		size_t len, uint8_t *out);

/*
 * Uniform in-place protection of one unit laid out as
 *     [aad_len: authenticated only][IV][plaintext/ciphertext][ICV]
 * IKE: aad = IKE header .. SK payload header.  ESP: aad = SPI | seq.
 * GCM authenticates aad as AAD; CBC computes the HMAC over aad | IV |
 * ciphertext (encrypt-then-MAC), which is exactly the RFC 7296 and RFC 4303
 * coverage.  sk_encrypt writes the IV and ICV; len is the plaintext length
 * (CBC: a multiple of 16; the caller pads).  sk_decrypt checks the ICV
 * before decrypting anything and returns -1 if it fails.
 *
 * esn_hi: ESP with extended sequence numbers only (NULL otherwise): the
 * 4 high-order sequence bytes, never sent.  GCM inserts them after the SPI
 * in the AAD (RFC 4106 5, aad_len must be 8); HMAC appends them after the
 * ciphertext (RFC 4303 2.2.1).
 */
int sk_encrypt(struct sk_ctx *c, uint8_t *buf, size_t aad_len, size_t len,
	       const uint8_t *esn_hi);
int sk_decrypt(struct sk_ctx *c, uint8_t *buf, size_t aad_len, size_t len,
	       const uint8_t *esn_hi);

/*
 * IKE SK payload (RFC 7296 3.14).  The message in msg holds hdr_len bytes
 * (IKE header through the SK generic payload header), sk_iv_len() bytes
 * reserved for the IV, then inner_len bytes of inner payloads.
 * sk_ike_sealed_len() is what follows the SK generic header once sealed
 * (IV, ciphertext, ICV): the caller sets the SK payload length (4 + it) and
 * the IKE length (hdr_len + it) first, since both are authenticated.
 * sk_ike_seal appends Padding and Pad Length, encrypts and appends the ICV;
 * *msg_len gets the total message length. -1 if cap is too small.  sk_ike_open
 * verifies, decrypts in place and strips the padding; *inner points into msg.
 */
size_t sk_ike_sealed_len(const struct sk_ctx *c, size_t inner_len);
int sk_ike_seal(struct sk_ctx *c, uint8_t *msg, size_t cap, size_t hdr_len,
		size_t inner_len, size_t *msg_len);
int sk_ike_open(struct sk_ctx *c, uint8_t *msg, size_t msg_len, size_t hdr_len,
		const uint8_t **inner, size_t *inner_len);

/* ---- Diffie-Hellman (dh.c) ---- */

struct dh;

/* Wire lengths; 0 for an unsupported group. */
size_t dh_public_len(uint16_t group);
size_t dh_shared_len(uint16_t group);
bool dh_supported(uint16_t group);

/* A fresh key pair for group (enum ike_dh). */
struct dh *dh_new(uint16_t group);
/*
 * FOR TESTS (known-answer vectors) ONLY: a key pair from a fixed private
 * value (big-endian for MODP/ECP, RFC 7748 little-endian for X25519).
 */
struct dh *dh_new_from_private(uint16_t group, const uint8_t *priv, size_t len);
void dh_free(struct dh *d);
uint16_t dh_group(const struct dh *d);
/* The KE payload data: MODP y padded to the prime, ECP x|y, X25519 u. */
const uint8_t *dh_public(const struct dh *d, size_t *len);
/*
 * g^ir from the peer's KE data, after checking it: exact length; MODP
 * 1 < y < p-1; ECP point on the curve; X25519 result not all zero.
 * out gets dh_shared_len() bytes (MODP left-padded to the prime, ECP the
 * x coordinate, RFC 5903 7).  cap is the room in out.
 */
int dh_shared(struct dh *d, const uint8_t *peer, size_t peer_len, uint8_t *out,
	      size_t cap);

#endif
