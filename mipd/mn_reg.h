/*
 * mn_reg.h - the mobile node's registration state machine (RFC 5944 3.6).
 *
 * No sockets: a built Registration Request goes out through io->send, and
 * what became of it comes back through io->result (the caller turns that
 * into POLICY_EV_REG_REPLY / POLICY_EV_REG_TIMEOUT).  Received replies are
 * handed in with mn_reg_input().  Timers are embedded and run on the
 * caller's event loop:
 *
 *   t_retx    the outstanding request: retransmission with exponential
 *             backoff, or the wait after a denial (RFC 5944 3.6.3)
 *   t_renew   re-registration before the granted lifetime runs out
 *   t_expire  the end of the granted lifetime: the binding is gone
 *
 * States (one transition function logs every change as old -> new):
 *
 *   IDLE --start--> REQUESTING --accepted--> REGISTERED --t_renew-->
 *   RENEWING --accepted--> REGISTERED;  REQUESTING/RENEWING --tries
 *   spent--> IDLE (or REGISTERED while the binding lasts);  any
 *   --deregister-> DEREGISTERING --accepted or tries spent--> IDLE.
 *
 * Replies whose MN-HA authenticator does not verify are discarded (RFC
 * 5944 3.6.2.1) and change nothing: the retransmissions go on and the
 * attempt ends in a TIMEOUT, as if the HA were silent.  The line saying
 * so is rate-limited like the 131 ones below.  The exception is
 * a foreign agent's own denial (64-127, 194: it has no MN-HA key), taken
 * only on the path through that agent and only from its address; what it
 * teaches (the 69 lifetime cap, the 74/75 T bit) lasts for that attempt.
 *
 * 131 is never acted on.  One that does not verify is a wrong MN-HA key
 * (the HA signed with another) or a spoof: logged "MN-HA key (SPI n) is
 * wrong, or reply spoofed" and counted.  One that verifies answers a
 * request we did not send, since ours verify with that same key: someone
 * forged or altered a request with our Identification - logged as
 * tampering and counted.  Both log lines are rate-limited.
 *
 * Identification (RFC 5944 5.7), per the SA's replay mode:
 *   timestamps  reg_ntp_now() plus an offset learned from a 133 reply,
 *               strictly increasing, a new value for every transmission (a
 *               retransmission with an old value would look like a replay
 *               to a home agent that accepted the first one);
 *   nonces      the low 32 bits random for every transmission, the high 32
 *               bits the last nonce the home agent gave in an
 *               authenticated reply (random before the first one, which
 *               the HA then answers with 133 and a nonce: resync).  No
 *               request goes out when the RNG fails: a clock value as
 *               nonce could be guessed.
 *
 * What a denial makes us do (every code is logged with its name):
 *   69       retry at once with the Lifetime the FA's reply names
 *   133      resynchronise (clock offset or HA nonce), retry at once
 *   136      retry at once with the home agent address the reply names
 *   74, 137  clear T and retry; 75, 138 set T and retry; a second
 *            reverse-tunnel denial in one attempt, or 137 in mode mc
 *            (which needs T), gives up: DENIED with `final`
 *   135, 139, 142  explained in the log, retry after MN_REG_DENIED_LONG_MS
 *   131      ignored, see above
 *   others   retry after MN_REG_DENIED_WAIT_MS
 * Each "at once" adjustment happens at most once per attempt.
 */
#ifndef MIPD_MN_REG_H
#define MIPD_MN_REG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/eloop.h"
#include "mipd/reg_auth.h"

/*
 * RFC 5944 3.6.3: the first retransmission no sooner than 1 s (the minimum
 * between requests is "MUST NOT be less than 1 second"), each timeout at
 * least twice the previous one, none longer than the requested lifetime.
 * Three transmissions (0, 1, 3 s; given up at 7 s) is the default budget
 * for trusted-network detection (seed 002 3.4 makes it configurable).
 */
#define MN_REG_RETX_MIN_MS   1000u
#define MN_REG_TRIES_DEFAULT 3u
#define MN_REG_TRIES_MAX     8u
/* Wait after a denial other than 131/133 before the next try. */
#define MN_REG_DENIED_WAIT_MS 4000u
/* ... after one that a retry soon will not fix (135, 139, 142). */
#define MN_REG_DENIED_LONG_MS 30000u
/* At most one log line about ignored 131 replies, and one about other
 * replies ignored for their authenticator, in this long. */
#define MN_REG_LOG_MS 10000u
/* Re-register once this share of the granted lifetime has passed, counted
 * from when the accepted request was sent (the HA's clock started no
 * earlier), leaving a fifth for retransmissions. */
#define MN_REG_RENEW_PERCENT	80u
#define MN_REG_LIFETIME_DEFAULT 1800u
#define MN_REG_NAI_MAX		72
#define MN_REG_MAX_MSG		512
/* Transmissions one attempt may make: the tries plus one per kind of
 * immediate retry (lifetime, T, HA address, resynchronisation). */
#define MN_REG_MAX_SENT (MN_REG_TRIES_MAX + 4)

struct mn_reg_conf {
	struct in_addr home; /* home address */
	struct in_addr ha;   /* home agent */
	struct reg_sa sa;    /* MN-HA security association */
	uint16_t lifetime;   /* requested; 0 = MN_REG_LIFETIME_DEFAULT */
	bool reverse_tunnel; /* T bit (RFC 3024) in c and f; always in mc */
	bool udp_tunnel;     /* RFC 3519 UDP Tunnel Request (co-located) */
	bool force_udp;	     /* ... with its F flag */
	char nai[MN_REG_NAI_MAX + 1]; /* RFC 2794; "" = no NAI extension */
	uint32_t retx_initial_ms;     /* 0 = MN_REG_RETX_MIN_MS */
	unsigned tries;		      /* transmissions; 0 = default */
};

/* How a request travels (and which care-of address it carries). */
enum mn_reg_path {
	MN_REG_DIRECT,	/* co-located CoA, sent straight to the HA */
	MN_REG_VIA_FA,	/* FA CoA, sent to the FA (RFC 5944 3.6.1) */
	MN_REG_VIA_VPN, /* TIA as co-located CoA, through the VPN */
	MN_REG_HOME,	/* deregistration at home, straight to the HA */
};

struct mn_reg_target {
	enum mn_reg_path path;
	struct in_addr coa;
	struct in_addr fa; /* MN_REG_VIA_FA: the agent's address */
};

enum mn_reg_state {
	MN_REG_IDLE,
	MN_REG_REQUESTING,
	MN_REG_REGISTERED,
	MN_REG_RENEWING,
	MN_REG_DEREGISTERING,
};

enum mn_reg_outcome {
	MN_REG_ACCEPTED,     /* code 0/1: lifetime granted */
	MN_REG_DEREGISTERED, /* the HA accepted lifetime 0 */
	MN_REG_DENIED,	     /* a denial code; retries continue unless final */
	MN_REG_TIMEOUT,	     /* tries spent without an accepted reply */
	MN_REG_EXPIRED,	     /* the binding's lifetime ran out */
};

struct mn_reg_result {
	enum mn_reg_outcome outcome;
	struct mn_reg_target target;
	uint8_t code;	    /* reply code (ACCEPTED/DENIED/DEREGISTERED) */
	bool authenticated; /* the reply's MN-HA authenticator checked */
	bool final;	    /* DENIED: the attempt is over, no retry comes */
	uint16_t lifetime;  /* granted (ACCEPTED) */
	bool udp_tunnel;    /* RFC 3519: the HA accepted UDP tunnelling */
	uint16_t keepalive; /* ... with this keepalive interval, seconds */
};

struct mn_reg_io {
	void *arg;
	/* Send pkt[0..len) along t (to t->fa for MN_REG_VIA_FA, else to the
	 * HA; through the VPN for MN_REG_VIA_VPN).  <0 counts as lost. */
	int (*send)(void *arg, const struct mn_reg_target *t,
		    const uint8_t *pkt, size_t len);
	void (*result)(void *arg, const struct mn_reg_result *r);
};

/* Anyone who sees our requests can answer them: lines about replies we
 * ignore are rate-limited, with a count of those left out. */
struct mn_log_limit {
	uint64_t next_ns; /* monotonic: no line before this */
	unsigned quiet;	  /* lines left out since the last one */
};

struct mn_reg {
	struct mn_reg_conf conf;
	struct mn_reg_io io;
	struct eloop *loop;
	enum mn_reg_state state;
	struct mn_reg_target target;

	/* the current attempt: one Identification per transmission */
	unsigned sent;
	uint64_t ids[MN_REG_MAX_SENT];
	uint64_t sent_ns[MN_REG_MAX_SENT];
	uint8_t flags_sent[MN_REG_MAX_SENT];
	uint32_t next_wait_ms;
	bool resynced;	      /* 133 already answered once in this attempt */
	bool adj_life;	      /* 69 answered once */
	bool adj_t;	      /* a reverse-tunnel denial answered once */
	bool adj_ha;	      /* 136 answered once */
	uint16_t fa_life_cap; /* 69 from the FA of this attempt; 0: none */
	int8_t t_fa;	      /* T as that FA wants it: -1 no opinion */

	uint64_t last_id;     /* Identification must keep increasing */
	int64_t clock_offset; /* seconds, HA minus us, from 133 */
	bool have_nonce;      /* nonce mode: the HA's last nonce */
	uint32_t ha_nonce;

	/* what authenticated replies taught us, for the attempts that follow */
	struct in_addr ha; /* home agent: conf.ha, or from a 136 */
	int8_t t_ha;	   /* T as the HA wants it: -1 no opinion */

	/* 131 replies ignored (see above), and the rate limits of the lines
	 * about them and about other replies that do not verify */
	uint64_t unverified_131, forged_131;
	struct mn_log_limit log_131, log_ignored;

	/* the binding: outlives an attempt for another CoA that fails */
	bool have_binding;
	struct mn_reg_target bound;
	uint16_t granted;
	uint64_t expire_ns; /* monotonic; 0 = none or infinite */
	uint64_t renew_ns;  /* when t_renew is due */
	int last_code;	    /* -1 before any reply */

	struct timer t_retx, t_renew, t_expire;
	uint8_t pkt[MN_REG_MAX_MSG];
	size_t pkt_len;
};

/* Status for the CLI (the mode comes from policy_mode()). */
struct mn_reg_status {
	enum mn_reg_state state;
	enum mn_reg_path path;
	struct in_addr coa, ha, home;
	uint16_t granted;     /* lifetime the HA granted, seconds */
	uint32_t remaining;   /* seconds left; UINT32_MAX = infinite */
	int last_code;	      /* -1 = none yet */
	unsigned tries;	      /* transmissions in the current attempt */
	int64_t clock_offset; /* seconds learned from 133 */
	enum reg_replay_mode replay;
	bool have_nonce;	 /* nonce mode: an HA nonce is known */
	uint64_t unverified_131; /* 131s ignored: wrong key or spoofed */
	uint64_t forged_131;	 /* 131s that verified: tampering */
};

/* -1 if the SA is unusable (reserved SPI, no key). */
int mn_reg_init(struct mn_reg *r, struct eloop *l, const struct mn_reg_conf *c,
		const struct mn_reg_io *io);
/* Cancels the timers; sends nothing. */
void mn_reg_fini(struct mn_reg *r);

/* Registers t->coa (a new attempt; replaces any outstanding one).
 * -1 if the request cannot be built (or no random bytes for a nonce). */
int mn_reg_start(struct mn_reg *r, const struct mn_reg_target *t);
/* Back home: lifetime 0, CoA = home address (RFC 5944 3.6.1.1). */
int mn_reg_deregister(struct mn_reg *r);
/* Drops the outstanding request (policy REG_CANCEL); keeps a binding. */
void mn_reg_cancel(struct mn_reg *r);
/* A Registration Reply received on port 434 from `from` (the HA, the FA,
 * or through the VPN).  Anything not answering our request is dropped.
 * Requests go to r->ha (the configured HA until a 136 names another). */
void mn_reg_input(struct mn_reg *r, const uint8_t *pkt, size_t len,
		  struct in_addr from);

void mn_reg_status(const struct mn_reg *r, struct mn_reg_status *st);
const char *mn_reg_state_name(enum mn_reg_state s);
const char *mn_reg_path_name(enum mn_reg_path p);
const char *mn_reg_outcome_name(enum mn_reg_outcome o);

#endif
