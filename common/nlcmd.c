/*
 * nlcmd.c - synchronous rtnetlink changes: build one request with libmnl,
 * send it with NLM_F_ACK on a fresh socket and return the kernel's answer.
 *
 * A socket per call costs little and keeps the helpers free of state: the
 * socket lives in the calling thread's network namespace, so tests and the
 * lab can switch namespaces freely.
 */
#include "common/nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

/* A request is one fixed header and a few attributes. */
#define REQ_BUF 512
/* An error ack echoes the request; nothing else comes on this socket. */
#define ACK_BUF 8192
/* The kernel answers within sendmsg(); this only bounds a broken kernel. */
#define ACK_TIMEOUT_S 5

static struct nlmsghdr *new_req(void *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	return nlh;
}

static int open_sock(struct mnl_socket **out)
{
	struct timeval tv = {.tv_sec = ACK_TIMEOUT_S};
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (!sk)
		return -errno;
	setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
		int err = -errno;

		mnl_socket_close(sk);
		return err;
	}
	*out = sk;
	return 0;
}

/* Reads until the ack of seq: 0 or the kernel's -errno. */
static int wait_ack(struct mnl_socket *sk, uint32_t seq)
{
	uint32_t buf[ACK_BUF / 4]; /* aligned */
	int rc, err;
	ssize_t n;

	for (;;) {
		n = mnl_socket_recvfrom(sk, buf, sizeof(buf));
		if (n < 0 && errno == ESRCH)
			continue; /* not from the kernel */
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rc = nl_parse_status(buf, (size_t)n, seq, &err);
		if (rc < 0)
			return -EPROTO;
		if (rc == 1)
			return err;
	}
}

static int talk(struct nlmsghdr *nlh)
{
	struct mnl_socket *sk = NULL;
	int rc = open_sock(&sk);

	if (rc < 0)
		return rc;
	if (mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		rc = -errno;
	else
		rc = wait_ack(sk, nlh->nlmsg_seq);
	mnl_socket_close(sk);
	return rc;
}

static bool valid_prefix(const struct ipaddr *a, unsigned plen)
{
	return (a->family == AF_INET && plen <= 32) ||
	       (a->family == AF_INET6 && plen <= 128);
}

static void put_ip(struct nlmsghdr *nlh, uint16_t type, const struct ipaddr *a)
{
	mnl_attr_put(nlh, type, ipaddr_len(a), a->b);
}

static int addr_change(uint16_t type, uint16_t flags, int ifindex,
		       const struct ipaddr *a, unsigned plen,
		       uint32_t ifa_flags)
{
	uint32_t buf[REQ_BUF / 4];
	struct nlmsghdr *nlh = new_req(buf, type, flags);
	struct ifaddrmsg *ifa;

	if (ifindex <= 0 || !valid_prefix(a, plen))
		return -EINVAL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_flags = (uint8_t)ifa_flags;
	if (ifa_flags > 0xff)
		mnl_attr_put_u32(nlh, IFA_FLAGS, ifa_flags);
	/* For IPv4 IFA_LOCAL is the address and IFA_ADDRESS the peer, which
	 * equals it on a broadcast or point-to-point link without a peer. */
	if (a->family == AF_INET)
		put_ip(nlh, IFA_LOCAL, a);
	put_ip(nlh, IFA_ADDRESS, a);
	return talk(nlh);
}

int nl_addr_add(int ifindex, const struct ipaddr *a, unsigned plen)
{
	return addr_change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, a,
			   plen, 0);
}

int nl_addr_add_flags(int ifindex, const struct ipaddr *a, unsigned plen,
		      uint32_t ifa_flags)
{
	return addr_change(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, a,
			   plen, ifa_flags);
}

int nl_addr_del(int ifindex, const struct ipaddr *a, unsigned plen)
{
	return addr_change(RTM_DELADDR, 0, ifindex, a, plen, 0);
}

/* Tables above 255 only fit in RTA_TABLE / FRA_TABLE. */
static uint8_t table8(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

static void route_hdr(struct nlmsghdr *nlh, const struct nl_route *r, bool del)
{
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint32_t table = r->table ? r->table : RT_TABLE_MAIN;

	rtm->rtm_family = (uint8_t)r->family;
	rtm->rtm_dst_len = (uint8_t)r->dst_len;
	rtm->rtm_table = table8(table);
	if (del) {
		rtm->rtm_scope = RT_SCOPE_NOWHERE; /* match any scope */
	} else {
		rtm->rtm_protocol =
		    r->protocol ? (uint8_t)r->protocol : RTPROT_STATIC;
		rtm->rtm_type = r->type ? (uint8_t)r->type : RTN_UNICAST;
		/* A route straight out of an interface is on-link. */
		rtm->rtm_scope =
		    r->gateway.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	}
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
}

static int route_change(uint16_t type, uint16_t flags, const struct nl_route *r)
{
	uint32_t buf[REQ_BUF / 4];
	struct nlmsghdr *nlh = new_req(buf, type, flags);

	if ((r->family != AF_INET && r->family != AF_INET6) ||
	    (r->dst.family && !valid_prefix(&r->dst, r->dst_len)) ||
	    (r->dst.family && r->dst.family != r->family))
		return -EINVAL;
	route_hdr(nlh, r, type == RTM_DELROUTE);
	if (r->dst.family && r->dst_len)
		put_ip(nlh, RTA_DST, &r->dst);
	if (r->gateway.family)
		put_ip(nlh, RTA_GATEWAY, &r->gateway);
	if (r->prefsrc.family)
		put_ip(nlh, RTA_PREFSRC, &r->prefsrc);
	if (r->oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	if (r->metric)
		mnl_attr_put_u32(nlh, RTA_PRIORITY, r->metric);
	return talk(nlh);
}

int nl_route_add(const struct nl_route *r)
{
	return route_change(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int nl_route_replace(const struct nl_route *r)
{
	return route_change(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r);
}

int nl_route_del(const struct nl_route *r)
{
	return route_change(RTM_DELROUTE, 0, r);
}

static int rule_change(uint16_t type, uint16_t flags, int family, uint32_t prio,
		       const struct ipaddr *src, unsigned src_len,
		       uint32_t table)
{
	uint32_t buf[REQ_BUF / 4];
	struct nlmsghdr *nlh = new_req(buf, type, flags);
	struct fib_rule_hdr *frh;

	if ((family != AF_INET && family != AF_INET6) ||
	    (src && src->family &&
	     (src->family != family || !valid_prefix(src, src_len))))
		return -EINVAL;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)family;
	frh->table = table8(table);
	frh->action = FR_ACT_TO_TBL;
	if (src && src->family && src_len) {
		frh->src_len = (uint8_t)src_len;
		put_ip(nlh, FRA_SRC, src);
	}
	mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
	mnl_attr_put_u32(nlh, FRA_TABLE, table);
	return talk(nlh);
}

int nl_rule_add(int family, uint32_t prio, const struct ipaddr *src,
		unsigned src_len, uint32_t table)
{
	return rule_change(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, family, prio,
			   src, src_len, table);
}

int nl_rule_del(int family, uint32_t prio, const struct ipaddr *src,
		unsigned src_len, uint32_t table)
{
	return rule_change(RTM_DELRULE, 0, family, prio, src, src_len, table);
}

static int link_change(int ifindex, unsigned flags, unsigned change,
		       unsigned mtu)
{
	uint32_t buf[REQ_BUF / 4];
	struct nlmsghdr *nlh = new_req(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -EINVAL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return talk(nlh);
}

int nl_link_set_up(int ifindex, bool up)
{
	return link_change(ifindex, up ? IFF_UP : 0, IFF_UP, 0);
}

int nl_link_set_mtu(int ifindex, unsigned mtu)
{
	return mtu ? link_change(ifindex, 0, 0, mtu) : -EINVAL;
}

int nl_ifindex(const char *name)
{
	unsigned idx;

	if (!name || !*name || strlen(name) >= IFNAMSIZ)
		return -EINVAL;
	idx = if_nametoindex(name);
	if (!idx)
		return errno ? -errno : -ENODEV;
	return (int)idx;
}
