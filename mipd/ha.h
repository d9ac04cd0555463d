/*
 * ha.h - the home agent role (RFC 5944 3.8, 4.6; RFC 3024; RFC 3519).
 *
 * Registration Requests arrive on UDP 434; each goes through, in order:
 *   dispatch by type (RFC 3519 tunnel data goes to the tunnel, never to
 *   the limiter) -> per-source rate limit -> parse (malformed: 134, or
 *   silent drop where RFC 5944 1.9 says so) -> mobile node by home
 *   address -> MN-HA authentication (131) -> identification (133) -> HA
 *   address (136) -> disabled node (129) -> reverse tunnel policy (137,
 *   138) -> encapsulation (139, 142) -> lifetime clamp -> simultaneous
 *   bindings (135) -> binding cache (130) -> routes and proxy ARP (128)
 *   -> authenticated reply.  A home address outside ha.home_prefix gets
 *   129 before authentication (no SA can exist for it).
 *
 * The codes each check produces are listed in ha.c.  With a data plane
 * the home agent also tunnels home-link broadcasts to bindings with the
 * B bit (RFC 5944 4.3, ha_bcast.c) and, with ha.advertise, sends Agent
 * Advertisements with the H bit on the home link (RFC 5944 2.3).
 *
 * ha_handle() is that whole pipeline on one datagram, with no I/O of its
 * own besides the kernel changes a new or removed binding needs (and none
 * at all when the HA was made without a data plane): the daemon's socket
 * callback, the unit tests and the benchmark all drive it.
 */
#ifndef MIPD_HA_H
#define MIPD_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "mipd/bcache.h"
#include "mipd/conf.h"

struct eloop;
struct ha;

struct ha_stats {
	uint64_t rx;	       /* registration requests received */
	uint64_t accepted;     /* codes 0 and 1, deregistrations included */
	uint64_t denied;       /* any 128-192 code */
	uint64_t malformed;    /* parse failures (replied 134 or dropped) */
	uint64_t rate_limited; /* dropped by the per-source limiter */
	uint64_t auth_failed;  /* 131 */
	uint64_t id_mismatch;  /* 133: outside the window, replayed, nonce */
	uint64_t deregistered;
	uint64_t expired;
	uint64_t kernel_err; /* route / proxy ARP changes that failed */
	uint64_t send_err;
	uint64_t tunnel_msgs; /* RFC 3519 tunnel data handed to the tunnel */
	uint64_t adv_sent;    /* RFC 5944 2.3 advertisements (ha.advertise) */
	uint64_t sol_rx;      /* agent solicitations answered */
	uint64_t bcast_rx;    /* home-link broadcasts for B bindings (4.3) */
	uint64_t bcast_tx;    /* ... tunnelled, one per binding */
};

/* Where a datagram came from and which of our addresses it reached;
 * addresses in network order, port in host order. */
struct ha_from {
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
};

/* conf must outlive the HA.  dataplane: open the tunnel, routes and
 * proxy ARP; false for benchmarks and pure protocol tests. */
struct ha *ha_new(struct eloop *l, const struct ha_conf *conf, bool dataplane);
/* Opens UDP conf->port (and the data plane).  0 or -1, logged. */
int ha_start(struct ha *h);
/* Removes every binding's routes and proxy entries, then frees. */
void ha_free(struct ha *h);

/* One datagram: the reply to send back to from->src:sport goes into
 * reply; returns its length, or 0 for no reply. */
size_t ha_handle(struct ha *h, const uint8_t *pkt, size_t len,
		 const struct ha_from *from, uint8_t *reply, size_t cap);

const struct ha_stats *ha_stats(const struct ha *h);
struct bcache *ha_bcache(const struct ha *h);
struct ratelimit *ha_ratelimit(const struct ha *h);
struct tunnel *ha_tunnel(const struct ha *h);
int ha_fd(const struct ha *h);

/* Control channel: members of "status" and the "bindings" result. */
void ha_ctl_status(const struct ha *h, struct jw *out);
void ha_ctl_bindings(const struct ha *h, struct jw *out);

#endif
