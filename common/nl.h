/*
 * nl.h - rtnetlink through libmnl: a monitor delivering typed link, address
 * and route events, and synchronous helpers that change addresses, routes,
 * rules and link state.  Helpers return 0 or -errno.
 */
#ifndef COMMON_NL_H
#define COMMON_NL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct eloop;

enum nl_event_type {
	NL_LINK_NEW,
	NL_LINK_DEL,
	NL_ADDR_NEW,
	NL_ADDR_DEL,
	NL_ROUTE_NEW,
	NL_ROUTE_DEL,
};

struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags; /* IFF_* */
	bool up;	/* administratively up */
	bool carrier;	/* IFF_LOWER_UP */
	unsigned mtu;
};

struct nl_addr {
	int ifindex;
	struct ipaddr addr;
	unsigned plen;
	unsigned scope; /* RT_SCOPE_* */
	uint32_t flags; /* IFA_F_* */
	bool tentative; /* IPv6 DAD still running: not usable yet */
	bool dadfailed;
	bool deprecated;
};

struct nl_route {
	int family;
	struct ipaddr dst;
	unsigned dst_len;
	struct ipaddr gateway; /* AF_UNSPEC if none */
	struct ipaddr prefsrc; /* AF_UNSPEC if none */
	int oif;
	uint32_t table;
	uint32_t metric;
	unsigned protocol; /* RTPROT_* */
	unsigned type;	   /* RTN_* */
	unsigned scope;
};

struct nl_event {
	enum nl_event_type type;
	union {
		struct nl_link link;
		struct nl_addr addr;
		struct nl_route route;
	};
};

typedef void (*nl_event_cb)(void *arg, const struct nl_event *ev);

struct nlmon;

/* Subscribes to link, IPv4/IPv6 address and route groups on the loop. */
struct nlmon *nlmon_open(struct eloop *l, nl_event_cb cb, void *arg);
/* Asks for the current links, addresses and routes: each arrives as a
 * *_NEW event, so a daemon starts from the same path as later changes. */
int nlmon_dump(struct nlmon *m);
void nlmon_close(struct nlmon *m);

/* Decodes one buffer of netlink messages into events; no sockets, no
 * state, so it can be fuzzed.  Returns messages decoded or -1. */
int nl_parse(const void *buf, size_t len, nl_event_cb cb, void *arg);

const char *nl_event_name(enum nl_event_type t);
/* Finds the NLMSG_ERROR or NLMSG_DONE answering request seq in a buffer:
 * 1 with *err = 0 or -errno, 0 if absent, -1 if malformed. */
int nl_parse_status(const void *buf, size_t len, uint32_t seq, int *err);

int nl_addr_add(int ifindex, const struct ipaddr *a, unsigned plen);
/* With IFA_F_* flags, e.g. IFA_F_NODAD for an address another party
 * assigned (a VPN tunnel address), which must be usable at once. */
int nl_addr_add_flags(int ifindex, const struct ipaddr *a, unsigned plen,
		      uint32_t ifa_flags);
int nl_addr_del(int ifindex, const struct ipaddr *a, unsigned plen);
/* Uses family, dst/dst_len, gateway, prefsrc, oif, table (0 = main), metric. */
int nl_route_add(const struct nl_route *r);
int nl_route_replace(const struct nl_route *r);
int nl_route_del(const struct nl_route *r);
/* "from src/src_len lookup table" policy rule at priority prio. */
int nl_rule_add(int family, uint32_t prio, const struct ipaddr *src,
		unsigned src_len, uint32_t table);
int nl_rule_del(int family, uint32_t prio, const struct ipaddr *src,
		unsigned src_len, uint32_t table);
int nl_link_set_up(int ifindex, bool up);
int nl_link_set_mtu(int ifindex, unsigned mtu);
int nl_ifindex(const char *name); /* -errno if absent */

#endif
