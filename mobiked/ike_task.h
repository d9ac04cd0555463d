/*
 * ike_task.h - the engine's inside: tasks and exchanges (the strongSwan
 * model).  A task is one protocol feature with an initiator build step
 * (adds payloads to the request) and a process step (reads the parsed,
 * authenticated, placement-checked response).  An exchange is an ordered
 * list of tasks; the order is written down in ike.c, not in comments.
 */
#ifndef MOBIKED_IKE_TASK_H
#define MOBIKED_IKE_TASK_H

#include "mobiked/conf.h"
#include "mobiked/dp.h"
#include "mobiked/ike.h"
#include "mobiked/ike_msg.h"
#include "mobiked/ike_sa.h"

#define IKE_MAX_TASKS 4

enum task_rc {
	TASK_DONE,   /* the exchange may go on */
	TASK_RETRY,  /* resend the request rebuilt (COOKIE, INVALID_KE) */
	TASK_FAILED, /* the SA cannot go on */
};

struct task {
	const char *name;
	int (*build_i)(struct ike_engine *e, struct ike_builder *b);
	int (*process_i)(struct ike_engine *e, const struct ike_msg *m);
};

extern const struct task task_init, task_auth, task_config, task_child,
    task_dpd, task_delete, task_child_rekey, task_child_delete;

typedef void (*exchange_done_cb)(struct ike_engine *e, int rc);

/* Our outstanding request. */
struct ike_xchg {
	bool active;
	uint8_t type;
	const struct task *tasks[IKE_MAX_TASKS];
	unsigned ntasks;
	exchange_done_cb done;
	uint8_t pkt[IKE_MAX_MSG]; /* as sent, for retransmission */
	size_t len;
	unsigned tries;
	uint64_t wait_ms;
};

/* Our CHILD_SA rekey (task_rekey.c) and the collision facts the
 * responder side (rekey_respond.c) records for it (RFC 7296 2.8.1). */
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
	bool want_up;	  /* up requested: failures are retried */
	unsigned failures; /* consecutive, for the retry backoff */
	size_t gw;	  /* index into conf->gateway */
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
	bool auth_ok; /* the gateway's AUTH verified (IKE_AUTH response) */
	unsigned cookie_tries;
	/* The response being processed, as received (IKE_SA_INIT: the
	 * bytes AUTH signs). */
	const uint8_t *cur_pkt;
	size_t cur_len;
	/* Scratch for one received message (decrypted in place). */
	uint8_t rx[IKE_MAX_MSG];
};

/* ike_exchange.c */
int exchange_start(struct ike_engine *e, uint8_t type,
		   const struct task *const *tasks, unsigned n,
		   exchange_done_cb done);
void exchange_abort(struct ike_engine *e);
void exchange_input(struct ike_engine *e, uint8_t *pkt, size_t len,
		    bool via_4500);
void exchange_retransmit_cb(void *owner);
typedef int (*build_fn)(struct ike_engine *e, struct ike_builder *b,
			void *arg);
int exchange_send_oneshot(struct ike_engine *e, uint8_t type, build_fn fn,
			  void *arg);
int exchange_send_raw(struct ike_engine *e, const uint8_t *p, size_t n);
/* One message on e->sa's SPIs and keys (SK-protected): 0 or -1. */
int exchange_build(struct ike_engine *e, uint8_t type, uint32_t msgid,
		   bool response, build_fn fn, void *arg, uint8_t *out,
		   size_t cap, size_t *olen);
/* Parse, verify, decrypt and placement-check with e->sa's keys: 0 / -1. */
int exchange_open(struct ike_engine *e, struct ike_msg *m, uint8_t *pkt,
		  size_t len, bool response);

/* ike.c: what happens when an SA dies (logged reason), from anywhere. */
void engine_sa_dead(struct ike_engine *e, const char *why);
void engine_sa_established(struct ike_engine *e);

/* task_delete.c: a best-effort DELETE of the IKE SA, not retransmitted
 * (an SA torn down before it was established, or at exit). */
void delete_oneshot(struct ike_engine *e);
/* task_delete.c: responder side of INFORMATIONAL (DELETE, DPD). */
void info_respond(struct ike_engine *e, const struct ike_msg *m,
		  struct ike_builder *b, bool *kill_sa);

/* task_init.c */
int natd_hash(const struct ike_sa *sa, const struct sockaddr_storage *ss,
	      uint8_t out[20]);

/* proposal.c */
void proposal_ike_build(const struct mobiked_conf *c, uint16_t dh_group,
			struct ike_sa_pl *out);
/* The offered proposal the chosen one matches, or NULL. */
const struct ike_proposal_conf *proposal_ike_match(
    const struct mobiked_conf *c, const struct ike_sa_pl *chosen);
void proposal_esp_build(const struct mobiked_conf *c, uint32_t spi,
			struct ike_sa_pl *out);
const struct esp_proposal_conf *proposal_esp_match(
    const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
    uint32_t *spi);

const struct esp_proposal_conf *proposal_esp_match_rekey(
    const struct mobiked_conf *c, const struct ike_sa_pl *chosen,
    uint32_t *spi);
/* Responder: the first of our proposals (our order) the offer contains;
 * *out gets the one proposal to answer with (our SPI spi_in), *dh the
 * group (0: no PFS).  ke_group: the request's KE group, 0 if none. */
const struct esp_proposal_conf *proposal_esp_select(
    const struct mobiked_conf *c, const struct ike_sa_pl *offer,
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
		  size_t ni_len, const uint8_t *nr, size_t nr_len, bool we_init);
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

/* task_rekey.c: initiator side. */
void rekey_init(struct ike_engine *e);
void rekey_arm(struct ike_engine *e);
void rekey_arm_soon(struct ike_engine *e); /* busy: try again shortly */
void rekey_reset(struct ike_engine *e);
int rekey_start(struct ike_engine *e);
/* rekey_respond.c: the gateway's CREATE_CHILD_SA (2.8, 1.3.3). */
void rekey_respond(struct ike_engine *e, const struct ike_msg *m,
		   struct ike_builder *b);
int nonce_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* ike_rekey.c: rekeying the IKE SA (RFC 7296 1.3.2, 2.18). */
extern const struct task task_ike_rekey;
void ike_rekey_init(struct ike_engine *e);
void ike_rekey_arm(struct ike_engine *e);	/* on establishment */
void ike_rekey_reset(struct ike_engine *e); /* the SA died */
int ike_rekey_start(struct ike_engine *e);
/* Responder: the gateway's CREATE_CHILD_SA with an IKE proposal. */
void ike_rekey_respond(struct ike_engine *e, const struct ike_msg *m,
		       struct ike_builder *b);
/* After the answer went out on the old SA: the new one takes over. */
void ike_rekey_commit(struct ike_engine *e);
/* A message for the replaced IKE SA: true if it was one (handled). */
bool ike_rekey_old_input(struct ike_engine *e, const struct ike_hdr *h,
			 uint8_t *pkt, size_t len);

#endif
