/*
 * agent_adv.c - Agent Advertisements and Solicitations on one link, for
 * the foreign and the home agent; see agent_adv.h.
 */
#define LOG_TAG "adv"

#include "mipd/agent_adv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/ip4.h"
#include "common/log.h"

#define ALL_SYSTEMS 0xe0000001u /* 224.0.0.1: RFC 5944 2.3.1 */
#define ALL_ROUTERS 0xe0000002u /* 224.0.0.2: solicitations (RFC 1256) */
#define SEQ_WRAP    256		/* RFC 5944 2.1.1: after 0xffff */
/* <linux/icmp.h> clashes with <net/if.h>: its raw-socket type filter */
#define ADV_ICMP_FILTER 1
struct adv_icmp_filter {
	uint32_t data; /* bit n set: drop ICMP type n */
};

static void count(uint64_t *owner, uint64_t *own)
{
	(*(owner ? owner : own))++;
}

uint16_t agent_adv_lifetime(uint32_t interval_ms, uint16_t configured)
{
	uint32_t s;

	if (configured)
		return configured;
	if (!interval_ms)
		return 1800; /* RFC 1256 3: default AdvertisementLifetime */
	/* one lost advertisement must not look like a move; the rate limit
	 * stretches a shorter interval */
	if (interval_ms < AGENT_ADV_MIN_GAP_MS)
		interval_ms = AGENT_ADV_MIN_GAP_MS;
	s = (3 * interval_ms + 999) / 1000;
	return (uint16_t)(s > 9000 ? 9000 : s);
}

static uint16_t next_seq(struct agent_adv *a)
{
	uint16_t s = a->seq;

	a->seq = s == 0xffff ? SEQ_WRAP : (uint16_t)(s + 1);
	return s;
}

void agent_adv_fill(struct agent_adv *a, struct reg_adv *out)
{
	const struct agent_adv_cfg *c = &a->cfg;

	memset(out, 0, sizeof(*out));
	out->code = c->code;
	out->lifetime = agent_adv_lifetime(c->interval_ms, c->lifetime);
	out->num_addrs = 1;
	out->router[0].addr.s_addr = c->addr;
	out->router[0].pref = c->pref;
	out->seq = next_seq(a);
	out->reg_lifetime = c->reg_lifetime;
	out->flags = c->flags;
	if (c->extra_flags)
		out->flags |= c->extra_flags(c->arg);
	/* RFC 5944 2.1.1: care-of addresses only from a foreign agent */
	if (c->coa) {
		out->ncoa = 1;
		out->coa[0].s_addr = c->coa;
	}
	if (c->prefix_lengths) {
		out->has_prefix = true;
		out->prefix_len[0] = c->plen;
	}
}

/* To dst (network order): 224.0.0.1, or a soliciting node. */
static void send_to(struct agent_adv *a, uint32_t dst)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = dst};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	uint8_t out[512];
	struct iovec iov = {out, 0};
	struct msghdr mh = {.msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = {.ipi_ifindex = a->cfg.ifindex,
				.ipi_spec_dst.s_addr = a->cfg.addr};
	struct reg_adv adv;
	struct wbuf w;

	if (a->fd < 0)
		return;
	agent_adv_fill(a, &adv);
	wb_init(&w, out, sizeof(out));
	if (reg_adv_build(&w, &adv, &iov.iov_len) != REG_OK)
		return;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(a->fd, &mh, 0) == (ssize_t)iov.iov_len)
		count(a->cfg.sent, &a->st.sent);
	else
		count(a->cfg.send_err, &a->st.send_err);
}

void agent_adv_send(struct agent_adv *a)
{
	send_to(a, htonl(ALL_SYSTEMS));
	a->last_mcast_ns = mono_ns();
}

/* RFC 1256 / RFC 5944 2.3.1: uniformly between 0.75 and 1 interval, so
 * agents on one link do not synchronise - or, where 0.75 would break the
 * one-per-second limit, between 1 and 1.25 times the larger of interval
 * and limit. */
static uint64_t jittered(uint32_t ms)
{
	uint64_t lo = ms - ms / 4, span = ms / 4;
	uint16_t r = 0;

	if (lo < AGENT_ADV_MIN_GAP_MS) {
		lo = ms > AGENT_ADV_MIN_GAP_MS ? ms : AGENT_ADV_MIN_GAP_MS;
		span = lo / 4;
	}
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0x8000;
	return lo + span * r / 0x10000;
}

static void on_timer(void *owner)
{
	struct agent_adv *a = owner;

	agent_adv_send(a);
	if (a->cfg.interval_ms)
		timer_arm_ms(a->loop, &a->t, jittered(a->cfg.interval_ms));
}

/* The next multicast no sooner than the rate limit allows: the periodic
 * one if it comes by then, else one then. */
static void mcast_soon(struct agent_adv *a)
{
	uint64_t now = mono_ns();
	uint64_t due = a->last_mcast_ns + AGENT_ADV_MIN_GAP_MS * NS_PER_MS;

	if (!a->last_mcast_ns || now >= due) {
		on_timer(a);
		return;
	}
	if (!timer_armed(&a->t) || timer_remaining_ns(&a->t) > due - now)
		timer_arm_at(a->loop, &a->t, due);
}

/* RFC 5944 2.3.1: a unicast answer only to a node we can reach on the
 * link without routing: an address in our prefix, not ours. */
static bool unicast_ok(const struct agent_adv_cfg *c, uint32_t src)
{
	uint32_t h = ntohl(src), mask;

	if (!src || src == c->addr || h == 0xffffffffu || (h >> 28) >= 0xe)
		return false;
	mask = c->plen ? ~(0xffffffffu >> (c->plen - 1) >> 1) : 0;
	return (h & mask) == (ntohl(c->addr) & mask) && (h & ~mask) != ~mask;
}

/* RFC 5944 2.3.2: answer a solicitation at once (no RFC 1256 random
 * delay: a node that just moved is waiting on us), within the rate limit
 * above. */
void agent_adv_input(struct agent_adv *a, const uint8_t *p, size_t n)
{
	const uint8_t *icmp;
	struct ip4_view v;
	struct reg_sol s;
	struct rbuf r;
	size_t len;

	/* from a raw socket: the kernel checked the header checksum */
	rb_init(&r, p, n);
	if (ip4_parse(&r, &v) < 0)
		return;
	len = rb_left(&v.payload);
	if (!len || rb_ptr(&v.payload, &icmp, len) < 0 ||
	    reg_sol_parse(&s, icmp, len) != REG_OK)
		return;
	count(a->cfg.sol_rx, &a->st.sol_rx);
	if (a->fd < 0)
		return; /* not open: nothing to answer with (fuzzing) */
	if (unicast_ok(&a->cfg, v.src))
		send_to(a, v.src);
	else
		mcast_soon(a);
}

static void on_icmp(void *arg, int fd, uint32_t events)
{
	struct agent_adv *a = arg;
	uint8_t p[1500];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, p, sizeof(p), MSG_DONTWAIT);

		if (n <= 0)
			return;
		agent_adv_input(a, p, (size_t)n);
	}
}

static int icmp_opts(const struct agent_adv_cfg *c, int fd)
{
	struct adv_icmp_filter filt = {.data = ~(1u << MIP4_ICMP_ROUTER_SOL)};
	struct ip_mreqn mr = {.imr_ifindex = c->ifindex};
	int ttl = 1, loop = 0;

	mr.imr_multiaddr.s_addr = htonl(ALL_ROUTERS);
	/* RFC 5944 2.3.1: TTL 1, on this link only */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->ifname,
		       (socklen_t)strlen(c->ifname)) < 0 ||
	    setsockopt(fd, SOL_RAW, ADV_ICMP_FILTER, &filt, sizeof(filt)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) <
		0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) <
		0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
		return -errno;
	/* solicitations go to 224.0.0.2 or the broadcast address */
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return -errno;
	return 0;
}

void agent_adv_init(struct agent_adv *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

int agent_adv_open(struct agent_adv *a, struct eloop *l,
		   const struct agent_adv_cfg *c)
{
	int rc = 0, fd;

	agent_adv_init(a);
	a->loop = l;
	a->cfg = *c;
	timer_init(&a->t, on_timer, a);
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_ICMP);
	if (fd < 0 || (rc = icmp_opts(c, fd)) < 0 ||
	    eloop_add_fd(l, fd, EPOLLIN, on_icmp, a) < 0) {
		log_err("ICMP socket on %s: %s", c->ifname,
			strerror(fd < 0	  ? errno
				 : rc < 0 ? -rc
					  : EIO));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	a->fd = fd;
	agent_adv_send(a);
	if (c->interval_ms)
		timer_arm_ms(l, &a->t, jittered(c->interval_ms));
	return 0;
}

void agent_adv_close(struct agent_adv *a)
{
	if (a->fd < 0)
		return;
	timer_cancel(a->loop, &a->t);
	eloop_del_fd(a->loop, a->fd);
	close(a->fd);
	a->fd = -1;
}

int agent_if_address(const char *ifname, uint32_t want, uint32_t *addr,
		     uint8_t *plen)
{
	struct ifaddrs *ifa, *i;

	*addr = 0;
	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (void *)i->ifa_addr;
		const struct sockaddr_in *m = (void *)i->ifa_netmask;

		if (!a || a->sin_family != AF_INET ||
		    strcmp(i->ifa_name, ifname) ||
		    (want && a->sin_addr.s_addr != want))
			continue;
		*addr = a->sin_addr.s_addr;
		*plen =
		    m ? (uint8_t)__builtin_popcount(m->sin_addr.s_addr) : 32;
		break;
	}
	freeifaddrs(ifa);
	return *addr ? 0 : -EADDRNOTAVAIL;
}
