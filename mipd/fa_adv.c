/*
 * fa_adv.c - agent discovery on the visited link (RFC 5944 2.1-2.3):
 * Agent Advertisements to 224.0.0.1 every interval with jitter and at once
 * after an Agent Solicitation, on a raw ICMP socket bound to the link.
 *
 * ICMP code 0, not 16: this foreign agent is also the link's router (the
 * lab's FA subnet has no other), and RFC 5944 2.1 keeps code 16 for an
 * agent that does not route common traffic.  Our address is the one
 * router address, preference 0, with its prefix length (2.1.2) so nodes
 * can tell a prefix change (movement, 2.4.2).
 */
#define LOG_TAG "fa"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "mipd/fa_int.h"
#include "mipd/reg_msg.h"

#define ALL_SYSTEMS 0xe0000001u /* 224.0.0.1: RFC 5944 2.3.1 */
#define ALL_ROUTERS 0xe0000002u /* 224.0.0.2: solicitations (RFC 1256) */
#define SEQ_WRAP    256		/* RFC 5944 2.1.1: after 0xffff */
/* <linux/icmp.h> clashes with <net/if.h>: its raw-socket type filter */
#define FA_ICMP_FILTER 1
struct fa_icmp_filter {
	uint32_t data; /* bit n set: drop ICMP type n */
};

static uint16_t adv_lifetime(const struct fa_conf *c)
{
	uint32_t s;

	if (c->adv_lifetime)
		return c->adv_lifetime;
	if (!c->adv_interval_ms)
		return 1800; /* RFC 1256 3: default AdvertisementLifetime */
	/* three intervals: one lost advertisement does not look like a
	 * move (RFC 5944 2.3.1, RFC 1256 default 3 x MaxAdvInterval) */
	s = (3 * c->adv_interval_ms + 999) / 1000;
	return (uint16_t)(s > 9000 ? 9000 : s);
}

/* RFC 5944 2.1.1: 0-255 only after a reboot, so a node sees one. */
static uint16_t next_seq(struct fa *f)
{
	uint16_t s = f->adv_seq;

	f->adv_seq = s == 0xffff ? SEQ_WRAP : (uint16_t)(s + 1);
	return s;
}

static void fill_adv(struct fa *f, struct reg_adv *a)
{
	const struct fa_conf *c = f->conf;

	memset(a, 0, sizeof(*a));
	a->code = MIP4_ADV_CODE_ROUTER;
	a->lifetime = adv_lifetime(c);
	a->num_addrs = 1;
	a->router[0].addr.s_addr = f->addr;
	a->seq = next_seq(f);
	a->reg_lifetime = c->reg_lifetime;
	a->flags = MIP4_ADV_F;
	if (c->reverse_tunnel)
		a->flags |= MIP4_ADV_T; /* RFC 3024 3.3 */
	if (c->reg_required)
		a->flags |= MIP4_ADV_R;
	if (f->nvisitors >= c->max_visitors)
		a->flags |= MIP4_ADV_B; /* busy: no new visitors */
	a->ncoa = 1;
	a->coa[0].s_addr = f->coa;
	a->has_prefix = true;
	a->prefix_len[0] = f->plen;
}

static void send_adv(struct fa *f)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(ALL_SYSTEMS) };
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	uint8_t out[512];
	struct iovec iov = { out, 0 };
	struct msghdr mh = { .msg_name = &to, .msg_namelen = sizeof(to),
			     .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = { .ipi_ifindex = f->ifindex,
				 .ipi_spec_dst.s_addr = f->addr };
	struct reg_adv a;
	struct wbuf w;

	fill_adv(f, &a);
	wb_init(&w, out, sizeof(out));
	if (reg_adv_build(&w, &a, &iov.iov_len) != REG_OK)
		return;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(f->icmp_fd, &mh, 0) == (ssize_t)iov.iov_len)
		f->st.adv_sent++;
	else
		f->st.send_err++;
}

void fa_advertise(struct fa *f)
{
	if (f->icmp_fd >= 0)
		send_adv(f);
}

/* RFC 1256 / RFC 5944 2.3.1: uniformly between 0.75 and 1 interval, so
 * agents on one link do not synchronise. */
static uint64_t jittered(uint32_t ms)
{
	uint16_t r = 0;

	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0x8000;
	return ms - (uint64_t)ms / 4 * r / 0x10000;
}

static void on_adv_timer(void *owner)
{
	struct fa *f = owner;

	send_adv(f);
	timer_arm_ms(f->loop, &f->adv_timer, jittered(f->conf->adv_interval_ms));
}

/* RFC 5944 2.3.2: answer a solicitation at once (no RFC 1256 random
 * delay: a node that just moved is waiting on us). */
static void on_icmp(void *arg, int fd, uint32_t events)
{
	struct fa *f = arg;
	uint8_t p[1500];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, p, sizeof(p), MSG_DONTWAIT);
		size_t hl;
		struct reg_sol s;

		if (n <= 0)
			return;
		hl = (size_t)(p[0] & 0x0f) * 4;
		if ((size_t)n <= hl ||
		    reg_sol_parse(&s, p + hl, (size_t)n - hl) != REG_OK)
			continue;
		f->st.sol_rx++;
		send_adv(f);
	}
}

static int icmp_opts(struct fa *f, int fd)
{
	struct fa_icmp_filter filt = { .data = ~(1u << MIP4_ICMP_ROUTER_SOL) };
	struct ip_mreqn mr = { .imr_ifindex = f->ifindex };
	int ttl = 1, loop = 0;

	mr.imr_multiaddr.s_addr = htonl(ALL_ROUTERS);
	/* RFC 5944 2.3.1: TTL 1, on this link only */
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, f->conf->interface,
		       (socklen_t)strlen(f->conf->interface)) < 0 ||
	    setsockopt(fd, SOL_RAW, FA_ICMP_FILTER, &filt, sizeof(filt)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) <
		    0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop,
		       sizeof(loop)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
		return -errno;
	/* solicitations go to 224.0.0.2 or the broadcast address */
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		return -errno;
	return 0;
}

int fa_adv_open(struct fa *f)
{
	int rc = 0, fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    IPPROTO_ICMP);

	if (fd < 0 || (rc = icmp_opts(f, fd)) < 0 ||
	    eloop_add_fd(f->loop, fd, EPOLLIN, on_icmp, f) < 0) {
		log_err("ICMP socket on %s: %s", f->conf->interface,
			strerror(fd < 0 ? errno : rc < 0 ? -rc : EIO));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	f->icmp_fd = fd;
	timer_init(&f->adv_timer, on_adv_timer, f);
	send_adv(f);
	if (f->conf->adv_interval_ms)
		timer_arm_ms(f->loop, &f->adv_timer,
			     jittered(f->conf->adv_interval_ms));
	return 0;
}

void fa_adv_close(struct fa *f)
{
	if (f->icmp_fd < 0)
		return;
	timer_cancel(f->loop, &f->adv_timer);
	eloop_del_fd(f->loop, f->icmp_fd);
	close(f->icmp_fd);
	f->icmp_fd = -1;
}
