/*
 * reg_auth.h - registration authenticators and replay protection
 * (RFC 5944 3.5, 5.1, 5.7).
 *
 * Mobility security associations are looked up by SPI in a table the
 * caller owns.  An SA does not hold its key: it points at key_len bytes
 * owned by whoever built it (conf.c's key arena for the home agent's
 * mobile nodes, struct mn_conf for the mobile node), which wipes them
 * (OPENSSL_cleanse) when it frees them.  Keys are never logged.
 *
 * Two algorithms: HMAC-MD5 (RFC 2104), the RFC 5944 default, and the
 * keyed MD5 "prefix+suffix" mode of RFC 2002 3.5.1,
 * MD5(key | data | key), for legacy peers.  Verification is constant time;
 * computing an authenticator allocates nothing (the home agent does two per
 * request).
 *
 * Identification (5.7): 64-bit NTP timestamps checked against a window
 * around the verifier's clock and against the last accepted value; on a
 * mismatch the home agent answers 133 with its own time in the high 32 bits
 * so the mobile node can resynchronise.  Nonces (5.7.2) are optional.
 */
#ifndef MIPD_REG_AUTH_H
#define MIPD_REG_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "mipd/reg_msg.h"

/* Longest key a configuration may hold.  Not a storage size (keys live in
 * their owner's buffer, as long as they are): a sanity bound on key files,
 * far above what RFC 5944 3.5.1 requires (128 bits and more) and the
 * 80-byte keys of RFC 2202. */
#define REG_KEY_MAX 1024

enum reg_alg {
	REG_ALG_HMAC_MD5 = 1,  /* RFC 5944 3.5.1 default */
	REG_ALG_KEYED_MD5 = 2, /* RFC 2002 3.5.1 prefix+suffix */
};

enum reg_replay_mode {
	REG_REPLAY_TIMESTAMP = 0, /* RFC 5944 5.7.1, mandatory to implement */
	REG_REPLAY_NONCE = 1,	  /* RFC 5944 5.7.2 */
};

/* One mobility security association (RFC 5944 1.6): 32 bytes, cheap to
 * build on the stack from a compact table entry. */
struct reg_sa {
	const uint8_t *key; /* key_len bytes, not owned; NULL only if 0 */
	size_t key_len;
	uint32_t spi; /* > MIP4_SPI_RESERVED_MAX */
	enum reg_alg alg;
	enum reg_replay_mode replay;
	uint32_t window; /* seconds; 0 means MIP4_TS_WINDOW_DEFAULT */
};

/* The SA with that SPI in tab[0..n), or NULL. */
const struct reg_sa *reg_sa_find(const struct reg_sa *tab, size_t n,
				 uint32_t spi);
/* Authenticator length for the SA's algorithm (16 for both MD5 modes). */
size_t reg_auth_len(const struct reg_sa *sa);

/* out gets reg_auth_len(sa) bytes; 0 or -1 (bad SA or crypto failure). */
int reg_auth_compute(const struct reg_sa *sa, const void *data, size_t len,
		     uint8_t *out);

enum reg_auth_result {
	REG_AUTH_OK = 0,
	REG_AUTH_NO_SA,	 /* no extension, or no SA for its SPI */
	REG_AUTH_BADLEN, /* authenticator length wrong for the algorithm */
	REG_AUTH_FAIL,	 /* authenticator does not match: wrong key */
};

/* Checks one of m's auth extensions (&m->mnha, &m->mnfa or &m->faha,
 * present per m->has_*) against the SA found in tab by its SPI. */
int reg_auth_verify(const struct reg_msg *m, const struct reg_auth_ext *a,
		    const struct reg_sa *tab, size_t n);
const char *reg_auth_result_name(int res);

/* Appends an auth extension of that type keyed by sa to the message being
 * built and fills its authenticator.  REG_OK or REG_ENOSPACE. */
int reg_auth_append(struct reg_builder *b, uint8_t type,
		    const struct reg_sa *sa);

/* --- identification ------------------------------------------------------- */

/* Unix time -> 64-bit NTP (RFC 5905: seconds since 1900 . 2^-32 fraction).
 * RFC 5944 5.7.1: bits below the clock's resolution SHOULD be random, so
 * the two lowest fraction bits (finer than 1 ns) come from rnd. */
uint64_t reg_ntp_from_timespec(const struct timespec *ts, uint32_t rnd);
/* CLOCK_REALTIME as NTP, with random low bits from the OpenSSL RNG. */
uint64_t reg_ntp_now(void);

/* Per-mobile-node replay state kept by the verifier. */
struct reg_replay {
	uint64_t last; /* last accepted identification */
	bool have_last;
	bool have_nonce;
	uint32_t nonce; /* nonce mode: the HA nonce the next request carries */
};

enum reg_id_result {
	REG_ID_OK = 0,
	REG_ID_MISMATCH, /* outside the window: reply 133 */
	REG_ID_REPLAY,	 /* not newer than the last accepted: reply 133 */
};

/*
 * Timestamp check (RFC 5944 5.7.1): id within +-window seconds of now and
 * strictly greater than the last accepted one.  Differences are taken
 * modulo 2^64 so the NTP era rollover in 2036 does not break the window.
 */
int reg_ts_check(const struct reg_replay *st, uint64_t id, uint64_t now,
		 uint32_t window);
/* Records an accepted identification (after authentication succeeded). */
void reg_id_accept(struct reg_replay *st, uint64_t id);
/* The Identification of a 133 reply: the verifier's seconds in the high
 * 32 bits, the request's low 32 bits (5.7.1). */
uint64_t reg_ts_mismatch_id(uint64_t req_id, uint64_t now);
/* MN side of a 133: the reply must echo our low 32 bits (else -1, it is not
 * an answer to us); *offset gets HA time minus our time, in seconds, to add
 * to the clock used for the next identifications. */
int reg_ts_resync(uint64_t req_id, uint64_t reply_id, uint64_t now,
		  int64_t *offset);
/* Replies carry the request's low 32 bits in both modes (5.7.1, 5.7.2). */
bool reg_id_reply_matches(uint64_t req_id, uint64_t reply_id);

/* Nonce mode (5.7.2): the request's high 32 bits must be the nonce the HA
 * gave last.  The reply carries the HA nonce the next request must use in
 * its high 32 bits: a fresh one (reg_nonce_set) once a request used the
 * current one up, the current one again when a request did not match - so
 * a replayed request cannot make the HA forget the nonce its node holds. */
int reg_nonce_check(const struct reg_replay *st, uint64_t id);
void reg_nonce_set(struct reg_replay *st, uint32_t fresh);
/* The reply's Identification: the current nonce, the request's low half
 * (reg_nonce_set must have been called once). */
uint64_t reg_nonce_reply_id(const struct reg_replay *st, uint64_t req_id);

#endif
