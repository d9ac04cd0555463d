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
    task_dpd, task_delete;

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
	} stats;
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

/* task_child.c: the child is gone (peer DELETE, SA dead). */
void child_uninstall(struct ike_engine *e);

#endif
