/*
 * ike_task.h - the engine's inside: tasks and exchanges (the strongSwan
 * model).  A task is one protocol feature with its initiator and
 * responder steps side by side in one task_*.c (or *_rekey.c) file:
 *   build_i    adds the task's payloads to our request
 *   process_i  reads the parsed, authenticated, placement-checked response
 *   process_r  reads the gateway's request (already authenticated and
 *              checked) and decides what to answer, in e->ans
 *   build_r    adds the task's part of the answer
 *   done_r     after the answer went out (sent) or could not be built
 *              (!sent: the gateway got nothing, nothing may change)
 * Any step may be NULL.  An exchange is an ordered list of tasks; the
 * lists, ours and the ones answering the gateway, are written down in
 * ike.c, not in comments.  Responder steps see every request of their
 * exchange type and leave alone the ones that are not theirs.
 */
#ifndef MOBIKED_IKE_TASK_H
#define MOBIKED_IKE_TASK_H

#include "mobiked/conf.h"
#include "mobiked/dp.h"
#include "mobiked/ike.h"
#include "mobiked/ike_frag.h"
#include "mobiked/ike_msg.h"
#include "mobiked/ike_sa.h"

#define IKE_MAX_TASKS 4

enum task_rc {
	TASK_DONE,   /* the exchange may go on */
	TASK_RETRY,  /* resend the request rebuilt (COOKIE, INVALID_KE) */
	TASK_IGNORE, /* an unauthenticated response we do not act on
			(2.21.1): keep waiting, e->x.ignored says why */
	TASK_FAILED, /* the SA cannot go on */
};

struct task {
	const char *name;
	int (*build_i)(struct ike_engine *e, struct ike_builder *b);
	int (*process_i)(struct ike_engine *e, const struct ike_msg *m);
	void (*process_r)(struct ike_engine *e, const struct ike_msg *m);
	int (*build_r)(struct ike_engine *e, struct ike_builder *b);
	void (*done_r)(struct ike_engine *e, bool sent);
};

extern const struct task task_init, task_natd, task_auth, task_config,
    task_child, task_dpd, task_delete, task_child_rekey, task_child_delete,
    task_ike_rekey, task_old_ike;

typedef void (*exchange_done_cb)(struct ike_engine *e, int rc);

/* Our outstanding request. */
struct ike_xchg {
	bool active;
	bool sent; /* the request went out on e->sa.req_id (spent) */
	uint8_t type;
	const struct task *tasks[IKE_MAX_TASKS];
	unsigned ntasks;
	exchange_done_cb done;
	/* as sent, for retransmission: the fragments end to end, if any */
	uint8_t pkt[IKE_MAX_WIRE];
	size_t len;
	unsigned tries;
	uint64_t wait_ms;
	char ignored[96]; /* the last response not acted on (TASK_IGNORE) */
};

/* The gateway's CREATE_CHILD_SA rekeying a CHILD_SA (task_rekey.c). */
struct child_rekey_r {
	bool mine;	/* a CHILD_SA rekey, not an IKE SA one */
	uint16_t error; /* the notify to refuse with, 0: accepted */
	uint16_t error_dh;
	struct ike_notify_pl rekey_sa; /* N(REKEY_SA) of the request */
	struct ike_child *old;
	struct ike_child nc;
	struct ike_sa_pl answer;
	struct ike_ts_set tsi, tsr; /* the request's, echoed */
	uint16_t dh;
	struct dh *d;
	uint8_t nr[IKE_NONCE_LEN];
	uint8_t gir[512];
	size_t glen;
};

/* The gateway's CREATE_CHILD_SA rekeying the IKE SA (ike_rekey.c). */
struct ike_rekey_r {
	bool mine;
	uint16_t error;
	uint16_t group;
	struct ike_sa_pl answer;
	uint8_t nr[IKE_NONCE_LEN];
	struct dh *d;
};

/* What the answer to the gateway's current request carries: filled by
 * the process_r steps, read by build_r and done_r, zeroed per request. */
struct ike_answer {
	bool ike_deleted; /* D(IKE): the SA dies once answered */
	uint32_t del_spi_in[IKE_OLD_CHILDREN + 1]; /* D(ESP) in the answer */
	unsigned ndel;
	uint16_t old_error; /* on a replaced IKE SA (task_old_ike) */
	struct child_rekey_r crk;
	struct ike_rekey_r irk;
};

/* Our CHILD_SA rekey (task_rekey.c) and the collision facts its
 * responder side records for it (RFC 7296 2.8.1). */
struct child_rekey {
	struct timer t_rekey; /* child_lifetime * 90% - jitter */
	bool active;	      /* our CREATE_CHILD_SA is outstanding */
	uint32_t old_spi_in;  /* the SA being rekeyed */
	struct ike_child next;
	uint8_t ni[IKE_NONCE_LEN];
	uint16_t dh_group;
	struct dh *dh;
	unsigned ke_retries;
	bool collided; /* the gateway rekeyed old_spi_in meanwhile */
	uint8_t peer_min[IKE_NONCE_MAX];
	size_t peer_min_len;
	uint32_t peer_new_spi_in;
	uint32_t del_spi_in[IKE_OLD_CHILDREN + 1]; /* our DELETE(ESP) */
	unsigned ndel;
};

/* The IKE SA a rekey replaced, kept until its DELETE settles (2.18): as
 * responder until the gateway's D(IKE), as initiator until the answer to
 * ours.  Only what answering and deleting on it takes. */
struct old_ike {
	bool active;
	bool responder;
	uint64_t spi_i, spi_r;
	struct sk_ctx *sk_in, *sk_out;
	uint32_t req_id, peer_req_id;
	bool resp_cached;
	uint32_t resp_cache_id;
	uint8_t *resp_cache;
	size_t resp_cache_len;
	bool deleting; /* our D(IKE) outstanding (pkt) */
	bool gone;     /* deleted: free once the request is answered */
	uint8_t pkt[IKE_MAX_MSG];
	size_t len;
	unsigned tries;
	struct timer t_old; /* retransmit, or give up waiting */
};

/* An IKE SA negotiated by a rekey, before it replaces the current one. */
struct ike_new {
	bool ready;
	bool responder;
	uint64_t spi_i, spi_r;
	struct ike_proposal_conf prop;
	struct ike_suite suite;
	uint16_t dh_group;
	struct ike_keys keys;
	struct sk_ctx *sk_out, *sk_in;
};

/* IKE SA rekeying (ike_rekey.c). */
struct ike_rekey {
	struct timer t_rekey; /* ike_lifetime * 90% - jitter */
	bool active;	      /* our CREATE_CHILD_SA (IKE) outstanding */
	uint64_t spi;	      /* our SPI of the new SA */
	uint8_t ni[IKE_NONCE_LEN];
	uint16_t dh_group;
	struct dh *dh;
	unsigned ke_retries;
	struct ike_new next;
	struct old_ike old;
};

struct ike_engine {
	struct eloop *loop;
	const struct mobiked_conf *conf;
	struct ike_io io;
	struct dp *dp;
	bool force_encap;
	bool want_up;		  /* up requested: failures are retried */
	unsigned failures;	  /* consecutive, for the retry backoff */
	unsigned attempts_failed; /* never established, for keyingtries */
	size_t gw;		  /* index into conf->gateway */
	struct ike_sa sa;
	struct ike_xchg x;
	char last_error[128];
	uint64_t established_ns;
	struct {
		uint64_t rx, tx, retransmits, dropped, established;
		uint64_t rekeys_i, rekeys_r;
		uint64_t ike_rekeys_i, ike_rekeys_r;
	} stats;
	struct child_rekey rk;
	struct ike_rekey irk;
	struct ike_answer ans;
	uint64_t ka_sent; /* packets sent when the keepalive last looked */
	bool auth_ok;	  /* the gateway's AUTH verified (IKE_AUTH response) */
	unsigned cookie_tries, ke_tries; /* IKE_SA_INIT restarts */
	/* The response being processed, as received (IKE_SA_INIT: the
	 * bytes AUTH signs). */
	const uint8_t *cur_pkt;
	size_t cur_len;
	/* Scratch for one received message (decrypted in place). */
	uint8_t rx[IKE_MAX_MSG];
	struct ike_frag_state frag; /* RFC 7383 (ike_frag.c) */
};

/* ike_exchange.c */
int exchange_start(struct ike_engine *e, uint8_t type,
		   const struct task *const *tasks, unsigned n,
		   exchange_done_cb done);
/* Ends our outstanding exchange without its done callback; its Message
 * ID stays spent.  _abandon also logs why (we stop waiting for it). */
void exchange_abort(struct ike_engine *e);
void exchange_abandon(struct ike_engine *e, const char *why);
void exchange_input(struct ike_engine *e, uint8_t *pkt, size_t len,
		    bool via_4500);
void exchange_retransmit_cb(void *owner);
typedef int (*build_fn)(struct ike_engine *e, struct ike_builder *b, void *arg);
int exchange_send_oneshot(struct ike_engine *e, uint8_t type, build_fn fn,
			  void *arg);
int exchange_send_raw(struct ike_engine *e, const uint8_t *p, size_t n);
/* One message on e->sa's SPIs and keys (SK-protected): 0 or -1. */
int exchange_build(struct ike_engine *e, uint8_t type, uint32_t msgid,
		   bool response, build_fn fn, void *arg, uint8_t *out,
		   size_t cap, size_t *olen);
/* Parse, verify, decrypt and placement-check with e->sa's keys: 0 / -1.
 * For the replaced IKE SA (swapped into e->sa): fragments go to
 * frag.other. */
int exchange_open(struct ike_engine *e, struct ike_msg *m, uint8_t *pkt,
		  size_t len, bool response);
/* The gateway's request h (on e->sa, fragments reassembled in d),
 * answered by the responder steps of tasks; none (n 0): not a request we
 * answer. */
void exchange_request(struct ike_engine *e, const struct ike_hdr *h,
		      uint8_t *pkt, size_t len, struct ike_defrag *d,
		      const struct task *const *tasks, unsigned n);
/* The I flag of the gateway's message h is right for e->sa (3.1). */
bool exchange_flag_ok(const struct ike_engine *e, const struct ike_hdr *h);

/* ike.c: what happens when an SA dies (logged reason), from anywhere. */
void engine_sa_dead(struct ike_engine *e, const char *why);
void engine_sa_established(struct ike_engine *e);
/* ike.c: the tasks answering the gateway's requests of an exchange type. */
const struct task *const *engine_responder(uint8_t exchange, unsigned *n);

/* task_delete.c: a best-effort DELETE of the IKE SA, not retransmitted
 * (an SA torn down before it was established, or at exit); an exchange
 * still outstanding is abandoned for it. */
void delete_oneshot(struct ike_engine *e);
/* D(IKE) (3.11) into b, as a build_fn (arg unused). */
int delete_ike_build(struct ike_engine *e, struct ike_builder *b, void *arg);

/* task_natd.c: 2.23 hash of SPIs, address and port. */
int natd_hash(const struct ike_sa *sa, const struct sockaddr_storage *ss,
	      uint8_t out[20]);

/* proposal.c */
/* Our IKE proposals in the configured order, those of first_group (if not
 * 0) first; spi 0: no SPI (IKE_SA_INIT), else each carries it (1.3.2). */
void proposal_ike_build(const struct mobiked_conf *c, uint16_t first_group,
			uint64_t spi, struct ike_sa_pl *out);
/* The configured proposal the responder chose, exactly (one proposal,
 * one transform of each type, 3.3.6) with an SPI of spi_size octets (0 in
 * IKE_SA_INIT, 8 in a rekey), or NULL. */
const struct ike_proposal_conf *
proposal_ike_match(const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
		   uint8_t spi_size);
/* Responder (the gateway rekeys the IKE SA): the first of our proposals
 * (our order, those of ke_group first) the offer contains; *out gets the
 * one proposal to answer with (our SPI spi), *peer_spi the offer's. */
const struct ike_proposal_conf *
proposal_ike_select(const struct mobiked_conf *c, const struct ike_sa_pl *offer,
		    uint16_t ke_group, uint64_t spi, struct ike_sa_pl *out,
		    uint64_t *peer_spi);
/* The algorithms of p: 0, or -1 if one is not supported. */
int proposal_ike_suite(const struct ike_proposal_conf *p, struct ike_suite *s);
/* A configured proposal has DH group g (not 0). */
bool proposal_ike_has_group(const struct mobiked_conf *c, uint16_t g);
bool proposal_esp_has_group(const struct mobiked_conf *c, uint16_t g);
void proposal_esp_build(const struct mobiked_conf *c, uint32_t spi,
			struct ike_sa_pl *out);
const struct esp_proposal_conf *
proposal_esp_match(const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
		   uint32_t *spi);

const struct esp_proposal_conf *
proposal_esp_match_rekey(const struct mobiked_conf *c,
			 const struct ike_sa_pl *chosen, uint32_t *spi);
/* Responder: the first of our proposals (our order) the offer contains;
 * *out gets the one proposal to answer with (our SPI spi_in), *dh the
 * group (0: no PFS).  ke_group: the request's KE group, 0 if none. */
const struct esp_proposal_conf *
proposal_esp_select(const struct mobiked_conf *c, const struct ike_sa_pl *offer,
		    uint16_t ke_group, uint32_t spi_in, struct ike_sa_pl *out,
		    uint32_t *peer_spi, uint16_t *dh);
/* With PFS: a DH transform per proposal that has a group (1.3.1). */
void proposal_esp_build_rekey(const struct mobiked_conf *c, uint32_t spi,
			      struct ike_sa_pl *out);

/* task_child.c: every child is gone (SA dead, down). */
void child_uninstall(struct ike_engine *e);
/* KEYMAT (2.17) from SK_d, [g^ir], the exchange's Ni | Nr; we_init: we
 * initiated the exchange (its i->r keys are then our outbound).  Installs
 * ch in the data plane; 0 or -1. */
int child_install(struct ike_engine *e, struct ike_child *ch,
		  const uint8_t *gir, size_t gir_len, const uint8_t *ni,
		  size_t ni_len, const uint8_t *nr, size_t nr_len,
		  bool we_init);
bool child_ts_subset(const struct ike_ts_set *got,
		     const struct ike_ts_set *offered);
bool child_ts_equal(const struct ike_ts_set *a, const struct ike_ts_set *b);
int child_new_spi(uint32_t *spi);

/* child_sa.c: the set of CHILD_SAs (current + rekeyed). */
struct ike_child *child_by_spi_in(struct ike_engine *e, uint32_t spi_in);
struct ike_child *child_by_spi_out(struct ike_engine *e, uint32_t spi_out);
/* nc (installed) becomes current; the current one joins old[]. */
void child_promote(struct ike_engine *e, const struct ike_child *nc);
/* Removes one child from the data plane and the set. */
void child_remove(struct ike_engine *e, uint32_t spi_in);
unsigned child_count_old(const struct ike_engine *e);

/* task_rekey.c: rekeying the CHILD_SA, both ways (1.3.3, 2.8). */
void rekey_init(struct ike_engine *e);
void rekey_arm(struct ike_engine *e);
/* t at 90% of lifetime_s less jitter; lifetime 0: not armed. */
void rekey_timer_arm(struct ike_engine *e, struct timer *t,
		     uint32_t lifetime_s);
void rekey_arm_soon(struct ike_engine *e); /* busy: try again shortly */
void rekey_reset(struct ike_engine *e);
int rekey_start(struct ike_engine *e);
int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* task_child_delete.c: our DELETE of replaced CHILD_SAs (1.4.1). */
void child_delete_later(struct ike_engine *e, uint32_t spi_in);
int child_delete_start(struct ike_engine *e); /* of those queued */

/* ike_rekey.c: rekeying the IKE SA (RFC 7296 1.3.2, 2.18), both ways. */
void ike_rekey_init(struct ike_engine *e);
void ike_rekey_arm(struct ike_engine *e);   /* on establishment */
void ike_rekey_reset(struct ike_engine *e); /* the SA died */
int ike_rekey_start(struct ike_engine *e);
/* The request carries an IKE SA proposal (1.3.2), not an ESP one. */
bool ike_rekey_request(const struct ike_msg *m);
/* A message for the replaced IKE SA: true if it was one (handled). */
bool ike_rekey_old_input(struct ike_engine *e, const struct ike_hdr *h,
			 uint8_t *pkt, size_t len);

#endif
