/*
 * fa.h - the foreign agent role (RFC 5944 2.3, 3.7, 4.2.2; RFC 3024).
 *
 * On the visited link (fa.interface) the agent
 *   advertises  ICMP Router Advertisements (code 0: this FA is also the
 *               link's router, RFC 5944 2.1) with the Mobility Agent
 *               Advertisement (F, T, R bits, care-of address) and
 *               Prefix-Lengths extensions, to 224.0.0.1 every interval
 *               with jitter and at once after an Agent Solicitation;
 *   relays      Registration Requests from visiting mobile nodes to
 *               their home agents, unchanged through the MN-HA
 *               authenticator, after the checks of RFC 5944 3.7.2.1
 *               (69, 70, 72, 74/75, 77, 66 from the FA itself), and the
 *               home agents' replies back to the node, to its home
 *               address and the link-layer address its request came from
 *               (a static neighbour entry: RFC 5944 3.7.2.2 forbids ARP
 *               for a visitor's home address);
 *   delivers    packets the home agent tunnels (IP-in-IP to the care-of
 *               address) on the link: the userspace tunnel decapsulates
 *               into a TUN, the kernel routes HoA/32 dev <interface>;
 *   reverse-    with the T bit, packets from the home address are routed
 *   tunnels     ("from HoA lookup <route_table>", default dev <TUN>) into
 *               the TUN and go IP-in-IP from the care-of address to the
 *               home agent (RFC 3024 5.1).
 *
 * A visitor entry (RFC 5944 3.7.1) is pending from the relayed request
 * until the reply (or pending_timeout: code 78 to the node), active for
 * the granted lifetime after an accepting reply.  Every kernel change it
 * made is undone when it goes: expiry, deregistration, denial, shutdown.
 */
#ifndef MIPD_FA_H
#define MIPD_FA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "mipd/conf.h"

struct eloop;
struct fa;

struct fa_stats {
	uint64_t adv_sent; /* unsolicited + solicited advertisements */
	uint64_t sol_rx;   /* agent solicitations answered */
	uint64_t req_rx;   /* requests from visiting nodes */
	uint64_t req_relayed;
	uint64_t req_denied; /* replies 64-99 from the FA itself */
	uint64_t rep_rx;     /* replies from home agents */
	uint64_t rep_relayed;
	uint64_t rep_unmatched; /* no pending request: dropped */
	uint64_t malformed;
	uint64_t timeouts; /* 78 sent */
	uint64_t expired;  /* active visitors whose lifetime ran out */
	uint64_t kernel_err;
	uint64_t send_err;
};

struct fa_visitor_info {
	uint32_t hoa, ha, src; /* network order */
	uint16_t sport;	       /* host order */
	uint8_t mac[6];
	bool has_mac, active, pending;
	uint8_t flags;	    /* the request's flags byte */
	uint16_t lifetime;  /* granted (active) or requested (pending) */
	uint32_t remaining; /* s */
};

/* conf must outlive the FA. */
struct fa *fa_new(struct eloop *l, const struct fa_conf *conf);
/* Sockets, tunnel, routing table; first advertisement.  0 or -1. */
int fa_start(struct fa *f);
/* Removes every visitor's kernel state, then frees. */
void fa_free(struct fa *f);

const struct fa_stats *fa_stats(const struct fa *f);
size_t fa_visitor_count(const struct fa *f);
/* false if hoa has no entry. */
bool fa_visitor_get(const struct fa *f, uint32_t hoa,
		    struct fa_visitor_info *out);
/* The care-of address advertised (network order). */
uint32_t fa_coa(const struct fa *f);
/* Sends one advertisement now (as for a solicitation). */
void fa_advertise(struct fa *f);

/* Control channel: members of "status" and the "visitors" result. */
void fa_ctl_status(const struct fa *f, struct jw *out);
void fa_ctl_visitors(const struct fa *f, struct jw *out);

#endif
