/*
 * agent_adv.h - agent discovery on one link, shared by both agents
 * (RFC 5944 2.1-2.3): ICMP Agent Advertisements (RFC 1256 Router
 * Advertisements with the Mobility Agent Advertisement and Prefix-Lengths
 * extensions) to 224.0.0.1 every interval with jitter and at once after an
 * Agent Solicitation, on a raw ICMP socket bound to the link.
 *
 *   foreign agent  F bit, its care-of address, code 0 (it is also the
 *                  visited link's router), busy (B) when full (fa_adv.c)
 *   home agent     H bit, no care-of address, code 16 (the home link has
 *                  its own router) and the lowest RFC 1256 preference, so
 *                  no host takes it for a default router (ha.c); a mobile
 *                  node that hears its home agent knows it is at home
 *
 * Our address is the one router address, with its prefix length (2.1.2)
 * so nodes can tell a prefix change (movement, 2.4.2.2) unless
 * cfg.prefix_lengths is off (Appendix E: agents of one subnet covering
 * different cells SHOULD NOT send it).
 *
 * Rate (2.3.1: agents MUST limit multicast advertisements): at most one
 * per AGENT_ADV_MIN_GAP_MS, the periodic ones jittered upward past it.  A
 * solicitation from an address on our link is answered at once by
 * unicast; any other (source 0.0.0.0, or a home address) by the next
 * multicast, at once or as soon as the limit allows.
 */
#ifndef MIPD_AGENT_ADV_H
#define MIPD_AGENT_ADV_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/eloop.h"
#include "mipd/reg_msg.h"

/* RFC 1256 3: "not to be used as a default router". */
#define AGENT_ADV_PREF_NEVER 0x80000000u
/* RFC 5944 2.3.1: "a recommended maximum rate is once per second". */
#define AGENT_ADV_MIN_GAP_MS 1000u

struct agent_adv_cfg {
	char ifname[IFNAMSIZ];
	int ifindex;
	uint32_t addr;	       /* router address, network order */
	uint8_t plen;	       /* its prefix length */
	uint8_t code;	       /* MIP4_ADV_CODE_ROUTER or _NO_ROUTE */
	uint32_t pref;	       /* RFC 1256 preference level */
	uint16_t flags;	       /* MIP4_ADV_* */
	uint16_t reg_lifetime; /* longest registration lifetime accepted */
	uint32_t coa;	       /* care-of address; 0: none (home agent) */
	uint32_t interval_ms;  /* 0: answer solicitations only */
	uint16_t lifetime;     /* ICMP lifetime, s; 0: agent_adv_lifetime */
	bool prefix_lengths;   /* send the Prefix-Lengths extension */
	/* Flags that change at run time (the FA's busy bit); may be NULL. */
	uint16_t (*extra_flags)(void *arg);
	void *arg;
	/* Where counts go (the owner's stats); NULL: agent_adv.st. */
	uint64_t *sent, *sol_rx, *send_err;
};

struct agent_adv_stats {
	uint64_t sent, sol_rx, send_err;
};

struct agent_adv {
	struct eloop *loop;
	struct agent_adv_cfg cfg;
	int fd;
	uint16_t seq;
	struct timer t;
	uint64_t last_mcast_ns; /* monotonic; 0: none sent yet */
	struct agent_adv_stats st;
};

/* Zeroes a (fd -1): agent_adv_close() is then harmless. */
void agent_adv_init(struct agent_adv *a);
/* Socket, first advertisement, timer.  0 or -1 (logged). */
int agent_adv_open(struct agent_adv *a, struct eloop *l,
		   const struct agent_adv_cfg *c);
void agent_adv_close(struct agent_adv *a);
/* One multicast advertisement now, whatever the rate limit. */
void agent_adv_send(struct agent_adv *a);
/* One datagram from the raw socket (IP header included): answers an
 * Agent Solicitation.  For tests and the socket callback. */
void agent_adv_input(struct agent_adv *a, const uint8_t *pkt, size_t len);

/* --- pure ------------------------------------------------------------ */

/* The advertisement agent_adv_send() would send now; takes a sequence
 * number (RFC 5944 2.1.1: 0-255 only after a reboot). */
void agent_adv_fill(struct agent_adv *a, struct reg_adv *out);
/* configured, else three intervals (RFC 5944 2.3.1, RFC 1256 3 x
 * MaxAdvInterval; an interval under AGENT_ADV_MIN_GAP_MS counts as that),
 * else RFC 1256's 1800 s. */
uint16_t agent_adv_lifetime(uint32_t interval_ms, uint16_t configured);
/* The IPv4 address of ifname (want if not 0) and its prefix length.
 * 0 or -errno. */
int agent_if_address(const char *ifname, uint32_t want, uint32_t *addr,
		     uint8_t *plen);

#endif
