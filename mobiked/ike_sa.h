/*
 * ike_sa.h - the IKE SA as state: SPIs, negotiated suite, keys, nonces,
 * message IDs, path and NAT facts, the one CHILD_SA it carries, and the
 * timers embedded in it.
 *
 * Every state change goes through ike_sa_set_state(), which checks the
 * transition against a table and logs "old -> new" (the iked rule: one
 * place to read how an SA lives).
 *
 * Timers (all armed by ike_exchange.c / ike.c from named events):
 *   t_retransmit  our outstanding request, exponential backoff (RFC 7296 2.1)
 *   t_dpd         inbound silence for dpd_delay -> liveness check (2.4)
 *   t_keepalive   NAT keepalive every keepalive_s behind a NAT (RFC 3948 2.3)
 *   t_establish   a failed or dead SA is retried after a backoff
 */
#ifndef MOBIKED_IKE_SA_H
#define MOBIKED_IKE_SA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/addr.h"
#include "common/eloop.h"
#include "mobiked/conf.h"
#include "mobiked/crypto.h"
#include "mobiked/ike_msg.h"

#define IKE_NONCE_LEN  32  /* ours: >= half the PRF key size (2.10) */
#define IKE_NONCE_MAX  256 /* 3.9 */
#define IKE_COOKIE_MAX 64  /* 2.6: at most 64 octets */
#define IKE_MAX_MSG    4096
#define IKE_MAX_DNS    4

enum ike_state {
	IKE_ST_IDLE,	    /* nothing sent */
	IKE_ST_INIT_SENT,   /* IKE_SA_INIT request outstanding */
	IKE_ST_AUTH_SENT,   /* keys derived, IKE_AUTH request outstanding */
	IKE_ST_ESTABLISHED, /* authenticated, CHILD_SA installed */
	IKE_ST_DELETING,    /* our DELETE outstanding */
	IKE_ST_DEAD,	    /* failed, deleted or timed out */
};

struct ike_child {
	bool installed;
	uint32_t spi_in, spi_out; /* host order; spi_in is ours */
	const struct encr_alg *encr;
	const struct integ_alg *integ; /* NULL with an AEAD */
	bool esn;
	struct ike_ts_set tsi, tsr; /* as narrowed by the responder */
	uint64_t seq;		    /* install order: the newest is current */
};

/* CHILD_SAs replaced by a rekey and kept until their DELETE settles
 * (make-before-break, RFC 7296 2.8); at most this many. */
#define IKE_OLD_CHILDREN 3

struct ike_sa {
	enum ike_state state;
	uint64_t spi_i, spi_r; /* as in the header (host order) */
	/* Not the original initiator: an IKE SA the gateway created by
	 * rekeying (2.18); the I flag (3.1) and SK_e/SK_a directions follow. */
	bool responder;

	/* Negotiated in IKE_SA_INIT. */
	struct ike_proposal_conf prop;
	struct ike_suite suite;
	uint16_t dh_group; /* group of the KE we send */
	struct dh *dh;
	struct ike_keys keys;
	struct sk_ctx *sk_out, *sk_in;
	uint8_t ni[IKE_NONCE_LEN], nr[IKE_NONCE_MAX];
	size_t ni_len, nr_len;
	uint8_t cookie[IKE_COOKIE_MAX];
	size_t cookie_len;
	/* The IKE_SA_INIT messages, signed by AUTH (2.15). */
	uint8_t *init_req, *init_resp;
	size_t init_req_len, init_resp_len;

	/* Message IDs (2.2): our outstanding request, and the next request
	 * we expect from the peer with the response cached for the previous
	 * one, replayed when it is retransmitted (2.1). */
	uint32_t req_id;
	uint32_t peer_req_id;
	bool resp_cached;
	uint32_t resp_cache_id;
	uint8_t *resp_cache;
	size_t resp_cache_len;

	/* Path: addresses with the ports in use. */
	struct sockaddr_storage local, remote;
	bool natt;		    /* floated to 4500 (2.23) */
	bool nat_local, nat_remote; /* from NAT-D */
	bool peer_mobike;
	uint64_t last_rx_ns;

	struct timer t_retransmit, t_dpd, t_keepalive, t_establish;

	struct ike_child child; /* the current (newest) CHILD_SA */
	struct ike_child old[IKE_OLD_CHILDREN]; /* rekeyed, not yet deleted */
	uint64_t child_seq;
	struct ipaddr vip4, vip6;
	struct ipaddr dns[IKE_MAX_DNS];
	unsigned ndns;
	char peer_id[CONF_ID_MAX + 16]; /* IDr as received, for logs */
};

/* Zeroes sa and embeds the timers with owner as their owner. */
void ike_sa_init(struct ike_sa *sa, void *owner, timer_cb retransmit,
		 timer_cb dpd, timer_cb keepalive, timer_cb establish);
/* Frees and wipes everything negotiated; state back to IDLE is done by
 * the caller through ike_sa_set_state().  Timers are not touched. */
void ike_sa_clear(struct ike_sa *sa);

/* The one checked transition: 0, or -1 (logged, state unchanged) for a
 * transition the table does not allow. */
int ike_sa_set_state(struct ike_sa *sa, enum ike_state to);
bool ike_sa_can_transition(enum ike_state from, enum ike_state to);
const char *ike_state_name(enum ike_state s);

/* Copies a message (IKE_SA_INIT request/response, cached response). */
int ike_sa_keep(uint8_t **dst, size_t *dlen, const uint8_t *p, size_t n);
/* Derives SKEYSEED and SK_* from g^ir and the nonces and creates the SK
 * contexts (2.14).  0 or -1. */
int ike_sa_derive_keys(struct ike_sa *sa, const uint8_t *gir, size_t gir_len);

#endif
