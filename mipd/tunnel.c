/*
 * tunnel.c - the userspace Mobile IP tunnel backend (see tunnel.h):
 * TUN device + raw IP-in-IP socket + the HA's UDP 434 socket.
 */
#define LOG_TAG "tunnel"

#include "mipd/tunnel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "common/tun.h"
#include "mipd/mip4.h"

#define PKT_MAX 65535

struct tunnel {
	struct tunnel_cfg cfg;
	struct eloop *loop;
	int tun_fd, raw_fd, ifindex;
	uint16_t ip_id;
	struct tunnel_stats st;
	uint8_t buf[PKT_MAX + 64];
	uint8_t out[PKT_MAX + 64];
};

/* ---- pure helpers ---- */

static uint16_t ip_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v; /* stays in network order */
}

size_t tunnel_ip_check(const uint8_t *p, size_t len)
{
	size_t hl, tot;

	if (len < TUN_IP_HDR_LEN || p[0] >> 4 != 4)
		return 0;
	hl = (size_t)(p[0] & 0x0f) * 4;
	tot = (size_t)p[2] << 8 | p[3];
	if (hl < TUN_IP_HDR_LEN || hl > len || tot < hl || tot > len)
		return 0;
	return ip_csum(p, hl) == 0 ? hl : 0;
}

size_t tunnel_ipip_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			 size_t len, uint32_t src, uint32_t dst, uint16_t id)
{
	size_t tot = len + TUN_IP_HDR_LEN;
	uint16_t sum;

	if (len < TUN_IP_HDR_LEN || inner[0] >> 4 != 4 || tot > cap ||
	    tot > 0xffff)
		return 0;
	out[0] = 0x45;
	out[1] = inner[1]; /* RFC 2003 3.1: TOS copied */
	out[2] = (uint8_t)(tot >> 8);
	out[3] = (uint8_t)tot;
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = inner[6] & 0x40; /* RFC 2003 5.1: DF copied, no offset */
	out[7] = 0;
	out[8] = TUN_OUTER_TTL;
	out[9] = IPPROTO_IPIP;
	out[10] = out[11] = 0;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, &dst, 4);
	sum = ip_csum(out, TUN_IP_HDR_LEN);
	out[10] = (uint8_t)(sum >> 8);
	out[11] = (uint8_t)sum;
	memcpy(out + TUN_IP_HDR_LEN, inner, len);
	return tot;
}

size_t tunnel_udp_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			size_t len)
{
	if (len + TUN_UDP_HDR_LEN > cap)
		return 0;
	out[0] = MIP4_TUNNEL_DATA;
	out[1] = MIP4_ENCAP_IPIP; /* Next Header: the inner is IPv4 */
	out[2] = out[3] = 0;
	memcpy(out + TUN_UDP_HDR_LEN, inner, len);
	return len + TUN_UDP_HDR_LEN;
}

const struct binding *tunnel_src_check(tunnel_lookup_fn lookup, void *arg,
				       const uint8_t *inner, size_t len,
				       uint32_t outer_src, uint16_t sport)
{
	const struct binding *b;

	if (!tunnel_ip_check(inner, len))
		return NULL;
	b = lookup(arg, get32(inner + 12));
	if (!b)
		return NULL;
	if (sport)
		return b->info.encap == BCACHE_ENCAP_UDP &&
			       b->info.nat_addr == outer_src &&
			       b->info.nat_port == sport
			   ? b
			   : NULL;
	return b->info.encap == BCACHE_ENCAP_IPIP && b->info.coa == outer_src
		   ? b
		   : NULL;
}

/* ---- forward direction: TUN -> tunnel ---- */

static void send_ipip(struct tunnel *t, const struct binding *b,
		      const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	size_t n = tunnel_ipip_encap(t->out, sizeof(t->out), pkt, len,
				     b->info.haa, b->info.coa, ++t->ip_id);

	to.sin_addr.s_addr = b->info.coa;
	if (n && sendto(t->raw_fd, t->out, n, 0, (struct sockaddr *)&to,
			sizeof(to)) == (ssize_t)n) {
		t->st.tx_ipip++;
		return;
	}
	t->st.tx_err++;
	log_debug("IP-in-IP to care-of address failed: %s",
		  n ? strerror(errno) : "bad packet");
}

/* From the HA address the MN registered with: the NAT's mapping is for
 * that address, not for whatever source the route would pick. */
static void send_udp(struct tunnel *t, const struct binding *b,
		     const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {t->out, 0};
	struct msghdr mh = {.msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = {.ipi_spec_dst.s_addr = b->info.haa};

	iov.iov_len = tunnel_udp_encap(t->out, sizeof(t->out), pkt, len);
	to.sin_addr.s_addr = b->info.nat_addr;
	to.sin_port = htons(b->info.nat_port);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (iov.iov_len && t->cfg.udp_fd >= 0 &&
	    sendmsg(t->cfg.udp_fd, &mh, 0) == (ssize_t)iov.iov_len) {
		t->st.tx_udp++;
		return;
	}
	t->st.tx_err++;
}

int tunnel_send(struct tunnel *t, const struct binding *b, const uint8_t *pkt,
		size_t len)
{
	uint64_t before = t->st.tx_err;

	if (b->info.encap == BCACHE_ENCAP_UDP)
		send_udp(t, b, pkt, len);
	else
		send_ipip(t, b, pkt, len);
	return t->st.tx_err == before ? 0 : -1;
}

static void forward(struct tunnel *t, const uint8_t *pkt, size_t len)
{
	const struct binding *b;

	/* the kernel also routes its own IPv6 chatter (router and listener
	 * discovery) into an up TUN: not ours to tunnel, not an error */
	if (len && pkt[0] >> 4 == 6)
		return;
	if (!tunnel_ip_check(pkt, len)) {
		t->st.tx_err++;
		return;
	}
	b = t->cfg.lookup(t->cfg.arg,
			  get32(pkt + (t->cfg.lookup_by_src ? 12 : 16)));
	if (!b) {
		t->st.tx_no_binding++;
		return;
	}
	tunnel_send(t, b, pkt, len);
}

/* Bounded batch: one busy tunnel must not starve registrations. */
static void on_tun(void *arg, int fd, uint32_t events)
{
	struct tunnel *t = arg;

	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, t->buf, sizeof(t->buf));

		if (n <= 0)
			return;
		forward(t, t->buf, (size_t)n);
	}
}

/* ---- reverse direction: tunnel -> TUN ---- */

/* RFC 3519 4.9: a keepalive is an ICMP Echo Request to the home agent
 * through the UDP tunnel (inner header checked by the caller). */
static bool is_keepalive(const uint8_t *inner, size_t len, uint32_t haa)
{
	size_t hl = (size_t)(inner[0] & 0x0f) * 4;

	return inner[9] == IPPROTO_ICMP && len >= hl + 8 &&
	       get32(inner + 16) == haa && inner[hl] == 8 /* echo */;
}

static void deliver(struct tunnel *t, const uint8_t *inner, size_t len,
		    uint32_t outer_src, uint16_t sport)
{
	const struct binding *b = NULL;
	bool ok = t->cfg.rx_check
		      ? sport == 0 && tunnel_ip_check(inner, len) &&
			    t->cfg.rx_check(t->cfg.arg, inner, len, outer_src)
		      : (b = tunnel_src_check(t->cfg.lookup, t->cfg.arg, inner,
					      len, outer_src, sport)) != NULL;

	if (!ok) {
		t->st.rx_src_drop++;
		return;
	}
	/* Passed the source check: the home address is bound to exactly
	 * this NAT address and port (a keepalive from anywhere else was
	 * dropped above and never moves the binding, RFC 3519 6.1.2).  Our
	 * stack answers the echo; the reply goes back through the tunnel
	 * and keeps the NAT's mapping warm from this side too. */
	if (sport && b && is_keepalive(inner, len, b->info.haa))
		t->st.rx_keepalive++;
	if (write(t->tun_fd, inner, len) != (ssize_t)len) {
		t->st.rx_err++;
		return;
	}
	if (sport)
		t->st.rx_udp++;
	else
		t->st.rx_ipip++;
}

static void raw_input(struct tunnel *t, const uint8_t *p, size_t len)
{
	size_t hl = tunnel_ip_check(p, len);
	size_t tot = hl ? ((size_t)p[2] << 8 | p[3]) : 0;

	/* fragments of the outer packet are reassembled by the kernel
	 * before raw delivery, so a whole protocol-4 packet is here */
	if (!hl || p[9] != IPPROTO_IPIP || tot <= hl) {
		t->st.rx_bad++;
		return;
	}
	deliver(t, p + hl, tot - hl, get32(p + 12), 0);
}

static void on_raw(void *arg, int fd, uint32_t events)
{
	struct tunnel *t = arg;

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, t->buf, sizeof(t->buf), MSG_DONTWAIT);

		if (n <= 0)
			return;
		raw_input(t, t->buf, (size_t)n);
	}
}

void tunnel_udp_input(struct tunnel *t, const uint8_t *msg, size_t len,
		      uint32_t src, uint16_t sport)
{
	/* RFC 3519 3.3: only IPv4 inside (Next Header 4) is supported */
	if (len <= TUN_UDP_HDR_LEN || msg[0] != MIP4_TUNNEL_DATA ||
	    msg[1] != MIP4_ENCAP_IPIP || sport == 0) {
		t->st.rx_bad++;
		return;
	}
	deliver(t, msg + TUN_UDP_HDR_LEN, len - TUN_UDP_HDR_LEN, src, sport);
}

/* ---- setup ---- */

static int open_raw(void)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			IPPROTO_IPIP);

	if (fd < 0)
		return -errno;
	/* we write the outer header ourselves (RFC 2003 3.1 fields) */
	if (setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int setup_link(struct tunnel *t)
{
	int rc;

	t->ifindex = nl_ifindex(t->cfg.name);
	if (t->ifindex < 0)
		return t->ifindex;
	rc = nl_link_set_mtu(t->ifindex, TUN_MTU);
	return rc ? rc : nl_link_set_up(t->ifindex, true);
}

static int tunnel_setup(struct tunnel *t)
{
	int rc;

	t->tun_fd = tun_open(t->cfg.name);
	if (t->tun_fd < 0)
		return t->tun_fd;
	rc = setup_link(t);
	if (rc)
		return rc;
	t->raw_fd = open_raw();
	if (t->raw_fd < 0)
		return t->raw_fd;
	if (eloop_add_fd(t->loop, t->tun_fd, EPOLLIN, on_tun, t) < 0 ||
	    eloop_add_fd(t->loop, t->raw_fd, EPOLLIN, on_raw, t) < 0)
		return -EIO;
	return 0;
}

struct tunnel *tunnel_open(struct eloop *l, const struct tunnel_cfg *cfg)
{
	struct tunnel *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return NULL;
	t->cfg = *cfg;
	t->loop = l;
	t->tun_fd = t->raw_fd = -1;
	rc = tunnel_setup(t);
	if (rc) {
		log_err("tunnel %s: %s", cfg->name, strerror(-rc));
		tunnel_close(t);
		return NULL;
	}
	log_info("userspace tunnel %s up (IP-in-IP raw socket, IP-in-UDP "
		 "on port 434), MTU %d",
		 t->cfg.name, TUN_MTU);
	return t;
}

void tunnel_close(struct tunnel *t)
{
	if (!t)
		return;
	if (t->tun_fd >= 0) {
		eloop_del_fd(t->loop, t->tun_fd);
		close(t->tun_fd); /* the kernel removes the device and routes */
	}
	if (t->raw_fd >= 0) {
		eloop_del_fd(t->loop, t->raw_fd);
		close(t->raw_fd);
	}
	free(t);
}

const char *tunnel_name(const struct tunnel *t)
{
	return t->cfg.name;
}

int tunnel_ifindex(const struct tunnel *t)
{
	return t->ifindex;
}

const struct tunnel_stats *tunnel_stats(const struct tunnel *t)
{
	return &t->st;
}

static void host_route(struct nl_route *r, const struct tunnel *t, uint32_t hoa)
{
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	ipaddr_from_v4(&r->dst, hoa);
	r->dst_len = 32;
	r->oif = t->ifindex;
}

int tunnel_route_add(struct tunnel *t, uint32_t hoa)
{
	struct nl_route r;

	host_route(&r, t, hoa);
	/* replace: a route left by a crashed predecessor is fine */
	return nl_route_replace(&r);
}

int tunnel_route_del(struct tunnel *t, uint32_t hoa)
{
	struct nl_route r;

	host_route(&r, t, hoa);
	return nl_route_del(&r);
}
