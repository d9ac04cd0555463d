/*
 * fuzz_esp.c - the ESP engine on arbitrary input.  The first byte picks
 * what the rest is:
 *   0  an ESP packet for a fixed AES-GCM-256 SA (ESN, window 64)
 *   1  an ESP packet for a fixed AES-CBC-256/HMAC-SHA2-256-128 SA
 *   2  a plaintext (payload | padding | pad length | next header) that is
 *      sealed with valid keys first, so the trailer checks after the ICV
 *      are reached
 *   3  a list of 32-bit sequence numbers fed to ESN inference and the
 *      anti-replay window, checked against their invariants
 * Keys and SPIs match tests/unit/test_esp.c, which writes seeds with
 * ESP_WRITE_CORPUS=DIR.  Any result code is fine; a crash, leak or UB
 * report, or a broken window invariant (abort), is not.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mobiked/esp.h"
#include "mobiked/ikev2.h"

#define BUF 70000

struct fsa {
	struct esp_sa in, out;
};

static void fuzz_keys(uint8_t *k, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		k[i] = (uint8_t)(seed + i * 31);
}

static void fsa_init(struct fsa *f, uint32_t spi, uint16_t bits, uint16_t encr,
		     uint16_t integ)
{
	uint8_t ek[CRYPTO_MAX_ENCR_KEY], ik[CRYPTO_MAX_INTEG_KEY];
	struct esp_sa_params p = {.spi = spi,
				  .dir = SK_IN,
				  .ekey = ek,
				  .ikey = ik,
				  .esn = true,
				  .replay_window = 64};

	p.encr = encr_alg_find(encr, bits);
	p.integ = integ ? integ_alg_find(integ) : NULL;
	p.elen = p.encr->key_len;
	p.ilen = p.integ ? p.integ->key_len : 0;
	fuzz_keys(ek, sizeof(ek), 1);
	fuzz_keys(ik, sizeof(ik), 2);
	if (esp_sa_init(&f->in, &p))
		abort();
	p.dir = SK_OUT;
	if (esp_sa_init(&f->out, &p))
		abort();
}

static struct fsa *sas(int which)
{
	static struct fsa gcm, cbc;
	static int ready;

	if (!ready) {
		fsa_init(&gcm, 0x0a000001, 256, IKE_ENCR_AES_GCM_16, 0);
		fsa_init(&cbc, 0x0c000001, 256, IKE_ENCR_AES_CBC,
			 IKE_INTEG_HMAC_SHA2_256_128);
		ready = 1;
	}
	return which ? &cbc : &gcm;
}

/* Each input starts from a fresh window and lifetime. */
static void reset(struct esp_sa *sa)
{
	esp_replay_init(&sa->rp, 64);
	memset(&sa->life, 0, sizeof(sa->life));
}

static void decap(struct esp_sa *sa, const uint8_t *data, size_t size)
{
	static uint8_t buf[BUF];
	volatile uint8_t sink;
	uint8_t nh;
	int n;

	if (size > sizeof(buf))
		return;
	reset(sa);
	memcpy(buf, data, size);
	n = esp_decap(sa, buf, size, &nh);
	(void)esp_err_name(n);
	if (n >= 0)
		sink = buf[esp_headroom(sa) + (size_t)n / 2];
	(void)sink;
}

/* Seals the input as the plaintext of packet 1, then opens it. */
static void sealed(struct fsa *f, const uint8_t *data, size_t size)
{
	static uint8_t buf[BUF];
	size_t head = esp_headroom(&f->out);
	uint8_t nh;

	if (size > sizeof(buf) - head - f->out.icv_len)
		return;
	reset(&f->in);
	memcpy(buf, "\x0a\x00\x00\x01\x00\x00\x00\x01", 8);
	memcpy(buf + head, data, size);
	/* ESN is on: the high half (0) is authenticated too. */
	if (sk_encrypt(f->out.ctx, buf, ESP_HDR_LEN, size,
		       (const uint8_t *)"\0\0\0\0"))
		return;
	(void)esp_decap(&f->in, buf, head + size + f->out.icv_len, &nh);
}

static void replay(const uint8_t *data, size_t size)
{
	struct esp_replay rp;
	uint64_t seq;

	esp_replay_init(&rp, size ? (uint32_t)data[0] * 17 : 0);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		uint32_t l = (uint32_t)data[i] << 24 |
			     (uint32_t)data[i + 1] << 16 |
			     (uint32_t)data[i + 2] << 8 | data[i + 3];

		if (esp_seq_infer(&rp, l, &seq) || (uint32_t)seq != l)
			continue;
		if (esp_replay_check(&rp, seq))
			continue;
		esp_replay_update(&rp, seq);
		/* invariants: top never behind, no number accepted twice */
		if (rp.top < seq || (rp.window && !esp_replay_check(&rp, seq)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		decap(&sas(0)->in, data + 1, size - 1);
		break;
	case 1:
		decap(&sas(1)->in, data + 1, size - 1);
		break;
	case 2:
		sealed(sas(0), data + 1, size - 1);
		break;
	default:
		replay(data + 1, size - 1);
		break;
	}
	return 0;
}
