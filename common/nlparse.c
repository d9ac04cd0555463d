/*
 * nlparse.c - rtnetlink messages to struct nl_event, through struct rbuf only.
 *
 * Netlink integers are in host byte order while rbuf's getters are big
 * endian, so fixed-size fields are copied out with rb_bytes().  Every length
 * the kernel hands us (nlmsg_len, rta_len) is checked against what is left
 * before it is used; a message that lies about a length, or an attribute we
 * interpret that has the wrong size, makes the whole buffer malformed (-1).
 * Messages of other types or families are skipped, not rejected: a dump with
 * AF_UNSPEC legitimately carries multicast-route and bridge entries.
 */
#include "common/nl.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "common/buf.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP (1u << 16) /* <linux/if.h> clashes with <net/if.h> */
#endif

#define NLHDR_LEN   16u
#define RTA_HDR_LEN 4u

struct nlhdr {
	uint32_t len;
	uint16_t type;
	uint16_t flags;
	uint32_t seq;
	uint32_t pid;
};

static int get_u16(struct rbuf *r, uint16_t *v)
{
	return rb_bytes(r, v, sizeof(*v));
}

static int get_u32(struct rbuf *r, uint32_t *v)
{
	return rb_bytes(r, v, sizeof(*v));
}

/* Netlink pads to 4 bytes, but the last message or attribute of a buffer
 * may come without its padding; tolerate that, never read past the end. */
static void skip_pad(struct rbuf *r, size_t len)
{
	size_t pad = (4 - (len & 3)) & 3;

	rb_skip(r, pad < rb_left(r) ? pad : rb_left(r));
}

/* Carves the next message off r: header into h, payload into body. */
static int next_msg(struct rbuf *r, struct nlhdr *h, struct rbuf *body)
{
	get_u32(r, &h->len);
	get_u16(r, &h->type);
	get_u16(r, &h->flags);
	get_u32(r, &h->seq);
	get_u32(r, &h->pid);
	if (r->failed || h->len < NLHDR_LEN)
		return -1;
	if (rb_sub(r, body, h->len - NLHDR_LEN) < 0)
		return -1;
	skip_pad(r, h->len);
	return 0;
}

/* Carves the next attribute off r; the type loses its NESTED/BYTEORDER bits. */
static int next_attr(struct rbuf *r, uint16_t *type, struct rbuf *val)
{
	uint16_t len = 0;

	get_u16(r, &len);
	get_u16(r, type);
	if (r->failed || len < RTA_HDR_LEN)
		return -1;
	if (rb_sub(r, val, len - RTA_HDR_LEN) < 0)
		return -1;
	*type &= NLA_TYPE_MASK;
	skip_pad(r, len);
	return 0;
}

/* An attribute we interpret must be exactly the size of what it carries. */
static int attr_u32(struct rbuf *val, uint32_t *v)
{
	get_u32(val, v);
	return rb_end(val);
}

static int attr_int(struct rbuf *val, int *v)
{
	uint32_t u = 0;
	int rc = attr_u32(val, &u);

	*v = (int)u;
	return rc;
}

static int attr_ip(struct rbuf *val, int family, struct ipaddr *a)
{
	size_t n = family == AF_INET ? 4 : 16;

	memset(a, 0, sizeof(*a));
	if (rb_left(val) != n || rb_bytes(val, a->b, n) < 0)
		return -1;
	a->family = family;
	return 0;
}

static int attr_name(struct rbuf *val, char name[IFNAMSIZ])
{
	size_t n = rb_left(val);

	if (n > IFNAMSIZ || rb_bytes(val, name, n) < 0)
		return -1;
	name[n < IFNAMSIZ ? n : IFNAMSIZ - 1] = '\0';
	return 0;
}

static int link_attr(struct nl_link *l, uint16_t type, struct rbuf *val)
{
	switch (type) {
	case IFLA_IFNAME:
		return attr_name(val, l->name);
	case IFLA_MTU:
		return attr_u32(val, &l->mtu);
	default:
		return 0;
	}
}

static int parse_link(struct rbuf *body, struct nl_link *l)
{
	uint8_t family = 0;
	int32_t index = 0;
	uint16_t type;
	struct rbuf val;

	rb_u8(body, &family);
	rb_skip(body, 3); /* pad, ifi_type */
	rb_bytes(body, &index, sizeof(index));
	get_u32(body, &l->flags);
	rb_skip(body, 4); /* ifi_change */
	if (body->failed)
		return -1;
	while (rb_left(body))
		if (next_attr(body, &type, &val) < 0 ||
		    link_attr(l, type, &val) < 0)
			return -1;
	l->ifindex = index;
	l->up = l->flags & IFF_UP;
	l->carrier = l->flags & IFF_LOWER_UP;
	/* AF_BRIDGE and friends reuse RTM_DELLINK for "port left a bridge";
	 * only AF_UNSPEC means the link itself changed. */
	return family == AF_UNSPEC ? 1 : 0;
}

struct addr_attrs {
	struct ipaddr local, address;
	uint32_t flags;
	bool has_flags;
};

static int addr_attr(struct addr_attrs *aa, int family, uint16_t type,
		     struct rbuf *val)
{
	switch (type) {
	case IFA_LOCAL:
		return attr_ip(val, family, &aa->local);
	case IFA_ADDRESS:
		return attr_ip(val, family, &aa->address);
	case IFA_FLAGS:
		aa->has_flags = true;
		return attr_u32(val, &aa->flags);
	default:
		return 0;
	}
}

static int parse_addr(struct rbuf *body, struct nl_addr *a)
{
	struct addr_attrs aa = {.flags = 0};
	uint8_t family = 0, plen = 0, flags = 0, scope = 0;
	uint32_t index = 0;
	uint16_t type;
	struct rbuf val;

	rb_u8(body, &family);
	rb_u8(body, &plen);
	rb_u8(body, &flags);
	rb_u8(body, &scope);
	get_u32(body, &index);
	if (body->failed)
		return -1;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	while (rb_left(body))
		if (next_attr(body, &type, &val) < 0 ||
		    addr_attr(&aa, family, type, &val) < 0)
			return -1;
	/* IFA_LOCAL is the interface's own address whenever a peer is set
	 * (IFA_ADDRESS is then the peer), for IPv6 as well as IPv4. */
	a->addr = aa.local.family ? aa.local : aa.address;
	if (!a->addr.family || plen > (family == AF_INET ? 32 : 128))
		return -1;
	a->ifindex = (int)index;
	a->plen = plen;
	a->scope = scope;
	a->flags = aa.has_flags ? aa.flags : flags; /* ifa_flags is 8 bits */
	a->tentative = a->flags & IFA_F_TENTATIVE;
	a->dadfailed = a->flags & IFA_F_DADFAILED;
	a->deprecated = a->flags & IFA_F_DEPRECATED;
	return 1;
}

static int route_attr(struct nl_route *r, uint16_t type, struct rbuf *val)
{
	switch (type) {
	case RTA_DST:
		return attr_ip(val, r->family, &r->dst);
	case RTA_GATEWAY:
		return attr_ip(val, r->family, &r->gateway);
	case RTA_PREFSRC:
		return attr_ip(val, r->family, &r->prefsrc);
	case RTA_OIF:
		return attr_int(val, &r->oif);
	case RTA_TABLE:
		return attr_u32(val, &r->table);
	case RTA_PRIORITY:
		return attr_u32(val, &r->metric);
	default:
		return 0;
	}
}

static int parse_route(struct rbuf *body, struct nl_route *r)
{
	uint8_t family = 0, dst_len = 0, table = 0, proto = 0, scope = 0,
		type = 0;
	uint16_t atype;
	struct rbuf val;

	rb_u8(body, &family);
	rb_u8(body, &dst_len);
	rb_skip(body, 2); /* src_len, tos */
	rb_u8(body, &table);
	rb_u8(body, &proto);
	rb_u8(body, &scope);
	rb_u8(body, &type);
	rb_skip(body, 4); /* rtm_flags */
	if (body->failed)
		return -1;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	r->family = family;
	r->table = table; /* RTA_TABLE, if present, has the full 32 bits */
	while (rb_left(body))
		if (next_attr(body, &atype, &val) < 0 ||
		    route_attr(r, atype, &val) < 0)
			return -1;
	if (dst_len > (family == AF_INET ? 32 : 128))
		return -1;
	if (!r->dst.family) /* default route: no RTA_DST */
		r->dst.family = family;
	r->dst_len = dst_len;
	r->protocol = proto;
	r->scope = scope;
	r->type = type;
	return 1;
}

/* 1: an event was filled in, 0: not ours, -1: malformed. */
static int parse_msg(uint16_t type, struct rbuf *body, struct nl_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	switch (type) {
	case RTM_NEWLINK:
		ev->type = NL_LINK_NEW;
		break;
	case RTM_DELLINK:
		ev->type = NL_LINK_DEL;
		break;
	case RTM_NEWADDR:
		ev->type = NL_ADDR_NEW;
		break;
	case RTM_DELADDR:
		ev->type = NL_ADDR_DEL;
		break;
	case RTM_NEWROUTE:
		ev->type = NL_ROUTE_NEW;
		break;
	case RTM_DELROUTE:
		ev->type = NL_ROUTE_DEL;
		break;
	default:
		return 0;
	}
	if (type == RTM_NEWLINK || type == RTM_DELLINK)
		return parse_link(body, &ev->link);
	if (type == RTM_NEWADDR || type == RTM_DELADDR)
		return parse_addr(body, &ev->addr);
	return parse_route(body, &ev->route);
}

int nl_parse(const void *buf, size_t len, nl_event_cb cb, void *arg)
{
	struct nl_event ev;
	struct nlhdr h;
	struct rbuf r, body;
	int n = 0, rc;

	rb_init(&r, buf, len);
	/* Decode everything first: a malformed tail must not leave the
	 * caller with half a buffer of events already applied. */
	while (rb_left(&r))
		if (next_msg(&r, &h, &body) < 0 ||
		    parse_msg(h.type, &body, &ev) < 0)
			return -1;
	rb_init(&r, buf, len);
	while (rb_left(&r)) {
		next_msg(&r, &h, &body);
		rc = parse_msg(h.type, &body, &ev);
		if (rc > 0 && cb)
			cb(arg, &ev);
		n += rc;
	}
	return n;
}

/* The status of one request: NLMSG_ERROR carries 0 (ack) or -errno, then
 * the request's header; NLMSG_DONE ends a dump, with the dump's own status
 * on kernels that add one.  Anything outside the kernel's errno range
 * (MAX_ERRNO) is malformed, so callers may negate it safely. */
static int msg_status(const struct nlhdr *h, struct rbuf *body, int *err)
{
	int32_t e = 0;

	if (h->type == NLMSG_ERROR || rb_left(body) >= sizeof(e))
		rb_bytes(body, &e, sizeof(e));
	if (body->failed || e > 0 || e < -4095)
		return -1;
	*err = e;
	return 1;
}

int nl_parse_status(const void *buf, size_t len, uint32_t seq, int *err)
{
	struct nlhdr h;
	struct rbuf r, body;

	*err = 0;
	rb_init(&r, buf, len);
	while (rb_left(&r)) {
		if (next_msg(&r, &h, &body) < 0)
			return -1;
		if (h.seq == seq &&
		    (h.type == NLMSG_ERROR || h.type == NLMSG_DONE))
			return msg_status(&h, &body, err);
	}
	return 0;
}

const char *nl_event_name(enum nl_event_type t)
{
	switch (t) {
	case NL_LINK_NEW:
		return "link-new";
	case NL_LINK_DEL:
		return "link-del";
	case NL_ADDR_NEW:
		return "addr-new";
	case NL_ADDR_DEL:
		return "addr-del";
	case NL_ROUTE_NEW:
		return "route-new";
	case NL_ROUTE_DEL:
		return "route-del";
	}
	return "?";
}
