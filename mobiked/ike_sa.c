/*
 * ike_sa.c - IKE SA state: the checked transition table, key derivation
 * into the SA, and cleanup that wipes secrets.
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "mobiked/ike_sa.h"

static const char *const state_names[] = {
    [IKE_ST_IDLE] = "IDLE",	      [IKE_ST_INIT_SENT] = "INIT_SENT",
    [IKE_ST_AUTH_SENT] = "AUTH_SENT", [IKE_ST_ESTABLISHED] = "ESTABLISHED",
    [IKE_ST_DELETING] = "DELETING",   [IKE_ST_DEAD] = "DEAD",
};

const char *ike_state_name(enum ike_state s)
{
	if ((unsigned)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "?";
	return state_names[s];
}

/*
 * Allowed transitions, one row per state.  An initiator's life (1.2):
 * IDLE -> INIT_SENT -> AUTH_SENT -> ESTABLISHED -> DELETING -> DEAD -> IDLE;
 * any step can fail to DEAD (no response, error notify, AUTH failure,
 * peer DELETE).  COOKIE / INVALID_KE retries stay in INIT_SENT.
 */
#define BIT(s) (1u << (s))
static const unsigned allowed[] = {
    [IKE_ST_IDLE] = BIT(IKE_ST_INIT_SENT),
    [IKE_ST_INIT_SENT] = BIT(IKE_ST_AUTH_SENT) | BIT(IKE_ST_DEAD),
    [IKE_ST_AUTH_SENT] = BIT(IKE_ST_ESTABLISHED) | BIT(IKE_ST_DEAD),
    [IKE_ST_ESTABLISHED] = BIT(IKE_ST_DELETING) | BIT(IKE_ST_DEAD),
    [IKE_ST_DELETING] = BIT(IKE_ST_DEAD),
    [IKE_ST_DEAD] = BIT(IKE_ST_IDLE),
};

bool ike_sa_can_transition(enum ike_state from, enum ike_state to)
{
	if ((unsigned)from >= sizeof(allowed) / sizeof(allowed[0]) ||
	    (unsigned)to >= sizeof(allowed) / sizeof(allowed[0]))
		return false;
	return (allowed[from] & BIT(to)) != 0;
}

int ike_sa_set_state(struct ike_sa *sa, enum ike_state to)
{
	if (!ike_sa_can_transition(sa->state, to)) {
		log_err("IKE SA %016llx: refused transition %s -> %s",
			(unsigned long long)sa->spi_i,
			ike_state_name(sa->state), ike_state_name(to));
		return -1;
	}
	log_info("IKE SA %016llx_i %016llx_r: %s -> %s",
		 (unsigned long long)sa->spi_i, (unsigned long long)sa->spi_r,
		 ike_state_name(sa->state), ike_state_name(to));
	sa->state = to;
	return 0;
}

void ike_sa_init(struct ike_sa *sa, void *owner, timer_cb retransmit,
		 timer_cb dpd, timer_cb keepalive, timer_cb establish)
{
	memset(sa, 0, sizeof(*sa));
	timer_init(&sa->t_retransmit, retransmit, owner);
	timer_init(&sa->t_dpd, dpd, owner);
	timer_init(&sa->t_keepalive, keepalive, owner);
	timer_init(&sa->t_establish, establish, owner);
}

static void free_copy(uint8_t **p, size_t *n)
{
	if (*p) {
		OPENSSL_cleanse(*p, *n);
		free(*p);
	}
	*p = NULL;
	*n = 0;
}

#define TIMERS_OFF offsetof(struct ike_sa, t_retransmit)
#define TIMERS_END (offsetof(struct ike_sa, t_establish) + sizeof(struct timer))
_Static_assert(TIMERS_END - TIMERS_OFF == 4 * sizeof(struct timer),
	       "the timers of struct ike_sa must be declared together");

/* The timers may be armed, in the loop's heap: they are left in place,
 * never copied out and back (a copy of an armed timer is a stale one). */
void ike_sa_clear(struct ike_sa *sa)
{
	enum ike_state st = sa->state;
	uint8_t *p = (uint8_t *)sa;

	dh_free(sa->dh);
	sk_ctx_free(sa->sk_out);
	sk_ctx_free(sa->sk_in);
	ike_keys_wipe(&sa->keys);
	free_copy(&sa->init_req, &sa->init_req_len);
	free_copy(&sa->init_resp, &sa->init_resp_len);
	free_copy(&sa->resp_cache, &sa->resp_cache_len);
	OPENSSL_cleanse(p, TIMERS_OFF);
	OPENSSL_cleanse(p + TIMERS_END, sizeof(*sa) - TIMERS_END);
	sa->state = st;
}

int ike_sa_keep(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	if (!c)
		return -1;
	memcpy(c, p, n);
	free_copy(dst, dlen);
	*dst = c;
	*dlen = n;
	return 0;
}

/* 2.14: SKEYSEED = prf(Ni | Nr, g^ir); keys = prf+(SKEYSEED, Ni | Nr |
 * SPIi | SPIr).  The initiator seals with SK_ei/SK_ai and opens with
 * SK_er/SK_ar. */
int ike_sa_derive_keys(struct ike_sa *sa, const uint8_t *gir, size_t gir_len)
{
	uint8_t seed[CRYPTO_MAX_PRF_LEN];
	uint64_t si = htobe64(sa->spi_i), sr = htobe64(sa->spi_r);
	const struct ike_keys *k = &sa->keys;
	int rc;

	rc = ike_skeyseed(sa->suite.prf, sa->ni, sa->ni_len, sa->nr, sa->nr_len,
			  gir, gir_len, seed);
	if (!rc)
		rc = ike_keys_derive(&sa->suite, seed, sa->suite.prf->out_len,
				     sa->ni, sa->ni_len, sa->nr, sa->nr_len,
				     (const uint8_t *)&si, (const uint8_t *)&sr,
				     &sa->keys);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (rc)
		return -1;
	ike_keys_log(k);
	sa->sk_out = sk_ctx_new(sa->suite.encr, sa->suite.integ, k->sk_ei,
				k->e_len, k->sk_ai, k->a_len, SK_OUT);
	sa->sk_in = sk_ctx_new(sa->suite.encr, sa->suite.integ, k->sk_er,
			       k->e_len, k->sk_ar, k->a_len, SK_IN);
	return sa->sk_out && sa->sk_in ? 0 : -1;
}
