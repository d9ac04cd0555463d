/*
 * fa_io.c - the foreign agent's edges: the UDP 434 socket (IP_PKTINFO),
 * learning a visitor's link-layer address, the kernel state a visitor
 * needs (static neighbour entry, host route, reverse-tunnel rule) and the
 * tunnel to home agents.  See fa.h.
 */
#define LOG_TAG "fa"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/errqueue.h>
#include <linux/filter.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/fa_int.h"
#include "mipd/homelink.h"
#include "mipd/sock.h"
#include "mipd/tunnel.h"

/* ---- link-layer addresses of requests ---- */

/* A packet socket sees each request's Ethernet source before the UDP
 * socket gets the datagram (taps run before IP input), so draining it
 * when a request is read always finds that request's frame.  The filter
 * keeps everything but unfragmented UDP to our port out of it. */
static int open_pkt(int ifindex, uint16_t port)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9), /* protocol */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_UDP, 0, 6),
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6), /* fragment offset */
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
	    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0), /* X = header len */
	    BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2),  /* destination port */
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, port, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 64),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]),
				  .filter = code};

	return packet_open(ifindex, &prog);
}

/* p is the frame's IPv4 packet cut to the filter's 64 bytes. */
static void mac_record(struct fa *f, const uint8_t *p, size_t n,
		       const struct sockaddr_ll *ll)
{
	struct fa_mac *e = &f->macs[f->mac_next++ % FA_MAC_CACHE];
	struct ip4_view v;
	struct rbuf r;
	uint16_t sport;

	if (ll->sll_halen != ETH_ALEN || ll->sll_pkttype == PACKET_OUTGOING)
		return;
	rb_init(&r, p, n);
	if (ip4_parse_head(&r, &v) < 0 || rb_u16(&v.payload, &sport) < 0)
		return;
	e->src = v.src;
	e->sport = sport;
	memcpy(e->mac, ll->sll_addr, ETH_ALEN);
}

static void mac_drain(struct fa *f)
{
	uint8_t p[64];

	for (int i = 0; i < 256; i++) {
		struct sockaddr_ll ll;
		socklen_t sl = sizeof(ll);
		ssize_t n = recvfrom(f->pkt_fd, p, sizeof(p), MSG_TRUNC,
				     (struct sockaddr *)&ll, &sl);

		if (n <= 0)
			return;
		mac_record(f, p, (size_t)n < sizeof(p) ? (size_t)n : sizeof(p),
			   &ll);
	}
}

bool fa_learn_mac(struct fa *f, uint32_t src, uint16_t sport,
		  uint8_t mac[ETH_ALEN])
{
	if (f->pkt_fd < 0)
		return false;
	mac_drain(f);
	for (unsigned i = 1; i <= FA_MAC_CACHE; i++) {
		const struct fa_mac *e =
		    &f->macs[(f->mac_next - i) % FA_MAC_CACHE];

		if (e->src == src && e->sport == sport && e->sport) {
			memcpy(mac, e->mac, ETH_ALEN);
			return true;
		}
	}
	return false;
}

/* ---- kernel state of a visitor ---- */

static int neigh_talk(struct nlmsghdr *nlh)
{
	struct timeval tv = {.tv_sec = 5};
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	uint32_t buf[8192 / 4];
	int rc, err = 0;

	if (!sk)
		return -errno;
	setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
	} else {
		do {
			ssize_t n = mnl_socket_recvfrom(sk, buf, sizeof(buf));

			rc = n < 0 ? -ETIMEDOUT
				   : nl_parse_status(buf, (size_t)n,
						     nlh->nlmsg_seq, &err);
		} while (rc == 0);
		rc = rc < 0 ? rc : err;
	}
	mnl_socket_close(sk);
	return rc;
}

/* RFC 5944 3.7.2.2 / 4.2.2: the FA reaches a visitor by the link-layer
 * address of its request, never by ARP for the home address (the node
 * must not answer ARP for it away from home). */
static int neigh_change(uint16_t type, int ifindex, uint32_t hoa,
			const uint8_t *mac)
{
	uint32_t buf[256 / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags =
	    NLM_F_REQUEST | NLM_F_ACK |
	    (type == RTM_NEWNEIGH ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, 4, &hoa);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, ETH_ALEN, mac);
	return neigh_talk(nlh);
}

static void host_route(struct nl_route *r, int oif, uint32_t dst, unsigned len,
		       uint32_t table)
{
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	ipaddr_from_v4(&r->dst, dst);
	r->dst_len = len;
	r->oif = oif;
	r->table = table;
}

static void kernel_err(struct fa *f, const char *what, uint32_t hoa, int rc)
{
	if (rc >= 0)
		return;
	f->st.kernel_err++;
	log_warn("%s for visitor %s: %s", what, fa_ip(hoa), strerror(-rc));
}

int fa_kernel_link(struct fa *f, struct visitor *v, bool on)
{
	uint32_t hoa = v->b.info.hoa;
	struct nl_route r;
	int rc = 0;

	if (on == v->k_link || f->ifindex <= 0)
		return 0;
	host_route(&r, f->ifindex, hoa, 32, 0);
	if (on) {
		if (v->has_mac)
			kernel_err(f, "neighbour entry", hoa,
				   neigh_change(RTM_NEWNEIGH, f->ifindex, hoa,
						v->mac));
		rc = nl_route_replace(&r);
		kernel_err(f, "host route", hoa, rc);
	} else {
		nl_route_del(&r);
		if (v->has_mac)
			neigh_change(RTM_DELNEIGH, f->ifindex, hoa, NULL);
	}
	/* recorded even on failure: taking it down again is harmless */
	v->k_link = on;
	return rc < 0 ? -1 : 0;
}

/* RFC 3024 5.1: everything the visitor sends goes to its home agent;
 * local destinations still win (the local table comes first). */
void fa_kernel_rule(struct fa *f, struct visitor *v, bool on)
{
	struct ipaddr src;
	int rc;

	if (on == v->k_rule || !f->tun)
		return;
	ipaddr_from_v4(&src, v->b.info.hoa);
	if (on)
		rc = nl_rule_add(AF_INET, f->conf->rule_priority, &src, 32,
				 f->conf->table);
	else
		rc = nl_rule_del(AF_INET, f->conf->rule_priority, &src, 32,
				 f->conf->table);
	kernel_err(f, "reverse tunnel rule", v->b.info.hoa, rc);
	v->k_rule = on;
}

/* ---- tunnel to home agents ---- */

static const struct binding *tun_lookup(void *arg, uint32_t hoa)
{
	const struct visitor *v = fa_find(arg, hoa);

	/* RFC 3024 5.1: only visitors that asked for it go back reversed */
	return v && v->active && (v->b.info.flags & MIP4_RRQ_T) ? &v->b : NULL;
}

/* RFC 5944 4.2.2: decapsulated packets go to active visitors only, and
 * only from the home agent they registered with. */
static bool tun_rx_check(void *arg, const struct ip4_view *inner,
			 uint32_t outer_src)
{
	const struct visitor *v = fa_find(arg, inner->dst);

	return v && v->active && v->ha == outer_src;
}

static int write_sysctl(const char *ifname, const char *key, const char *val)
{
	char path[128];
	int rc = 0, fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/%s", ifname,
		 key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		rc = -errno;
	close(fd);
	return rc;
}

static int open_tunnel(struct fa *f)
{
	struct tunnel_cfg tc = {.udp_fd = -1,
				.lookup = tun_lookup,
				.arg = f,
				.lookup_by_src = true,
				.rx_check = tun_rx_check};
	struct nl_route r;
	int rc;

	snprintf(tc.name, sizeof(tc.name), "%s", f->conf->tunnel);
	f->tun = tunnel_open(f->loop, &tc);
	if (!f->tun)
		return -1;
	/* decapsulated packets enter from the TUN with a correspondent's
	 * source: loose reverse-path filtering there, forwarding on */
	if (homelink_enable_forwarding(tunnel_name(f->tun)) < 0 ||
	    write_sysctl(tunnel_name(f->tun), "rp_filter", "2\n") < 0)
		log_warn("cannot set forwarding / rp_filter on %s",
			 tunnel_name(f->tun));
	host_route(&r, tunnel_ifindex(f->tun), 0, 0, f->conf->table);
	rc = nl_route_replace(&r);
	if (rc < 0)
		log_err("default route of table %u into %s: %s", f->conf->table,
			tunnel_name(f->tun), strerror(-rc));
	return rc < 0 ? -1 : 0;
}

/* ---- UDP 434 ---- */

static int open_udp(struct fa *f)
{
	struct ip_mreqn mr = {.imr_ifindex = f->ifindex};
	/* IP_RECVTTL: RFC 3024 3.3 (76); IP_RECVERR: the ICMP errors a
	 * relayed request draws (RFC 5944 3.7.2.3, 80-88) */
	int fd = udp434_open(f->conf->port,
			     UDP434_PKTINFO | UDP434_RECVTTL | UDP434_RECVERR);

	if (fd < 0)
		return fd;
	/* RFC 5944 3.6.1.1: a node may address 224.0.0.11 (all mobility
	 * agents) before it knows our address */
	mr.imr_multiaddr.s_addr = htonl(0xe000000b);
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		log_debug("224.0.0.11 on %s: %s", f->conf->interface,
			  strerror(errno));
	return fd;
}

int fa_send(struct fa *f, uint32_t from, uint32_t to, uint16_t port,
	    const uint8_t *msg, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = to};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)msg, len};
	struct msghdr mh = {.msg_name = &sin,
			    .msg_namelen = sizeof(sin),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = {.ipi_spec_dst.s_addr = from ? from : f->addr};

	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	if (sendmsg(f->udp_fd, &mh, 0) != (ssize_t)len) {
		int err = errno ? errno : EIO;

		f->st.send_err++;
		log_debug("send to %s: %s", fa_ip(to), strerror(err));
		return -err;
	}
	return 0;
}

static void dispatch(struct fa *f, const uint8_t *p, size_t n,
		     const struct sockaddr_in *sin, const struct in_pktinfo *pi,
		     uint8_t ttl)
{
	uint32_t src = sin->sin_addr.s_addr;
	uint8_t type = 0;
	struct rbuf r;

	rb_init(&r, p, n);
	rb_peek_u8(&r, &type);
	if (type == MIP4_REG_REQUEST && pi->ipi_ifindex == f->ifindex)
		fa_handle_request(f, p, n, src, ntohs(sin->sin_port),
				  pi->ipi_spec_dst.s_addr, ttl);
	else if (type == MIP4_REG_REPLY)
		fa_handle_reply(f, p, n, src);
	/* else: a request from elsewhere (we are nobody's home agent),
	 * tunnel data or noise */
}

static int recv_one(struct fa *f)
{
	static uint8_t pkt[FA_DGRAM_MAX];
	struct sockaddr_in sin;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
		struct cmsghdr align;
	} u;
	struct iovec iov = {pkt, sizeof(pkt)};
	struct msghdr mh = {.msg_name = &sin,
			    .msg_namelen = sizeof(sin),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct in_pktinfo pi = {0};
	ssize_t n = recvmsg(f->udp_fd, &mh, MSG_DONTWAIT);
	int ttl = 0;

	if (n < 0)
		/* a pending ICMP error (IP_RECVERR) fails one read: go on */
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : 1;
	if (mh.msg_flags & MSG_TRUNC)
		return 1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL)
			memcpy(&ttl, CMSG_DATA(c), sizeof(ttl));
	}
	dispatch(f, pkt, (size_t)n, &sin, &pi,
		 (uint8_t)(ttl > 0 && ttl < 256 ? ttl : 0));
	return 1;
}

/* One queued ICMP error: the quoted datagram we sent, where to, and the
 * ICMP type and code.  1, or 0 when the queue is empty. */
static int recv_err(struct fa *f)
{
	uint8_t payload[FA_DGRAM_MAX];
	struct sockaddr_in to;
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in)) +
			 64];
		struct cmsghdr align;
	} u;
	struct iovec iov = {payload, sizeof(payload)};
	struct msghdr mh = {.msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(f->udp_fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT);

	if (n < 0)
		return 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		struct sock_extended_err ee;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR ||
		    c->cmsg_len < CMSG_LEN(sizeof(ee)))
			continue;
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		if (ee.ee_origin == SO_EE_ORIGIN_ICMP)
			fa_handle_icmp_error(f, payload, (size_t)n,
					     to.sin_addr.s_addr, ee.ee_type,
					     ee.ee_code);
	}
	return 1;
}

static void on_udp(void *arg, int fd, uint32_t events)
{
	if (events & EPOLLERR)
		for (int i = 0; i < 64 && recv_err(arg); i++)
			;
	for (int i = 0; i < 64; i++)
		if (recv_one(arg) <= 0)
			return;
}

/* The packet socket is only read on demand; keep it from filling up
 * when no request follows (a flood to port 434 from elsewhere). */
static void on_pkt(void *arg, int fd, uint32_t events)
{
	mac_drain(arg);
}

int fa_io_open(struct fa *f)
{
	int rc = 0;

	f->ifindex = nl_ifindex(f->conf->interface);
	if (f->ifindex < 0 ||
	    (rc = agent_if_address(f->conf->interface, f->conf->address.s_addr,
				   &f->addr, &f->plen)) < 0) {
		log_err("foreign agent interface %s: %s", f->conf->interface,
			strerror(f->ifindex < 0 ? -f->ifindex : -rc));
		return -1;
	}
	f->coa = f->conf->coa.s_addr ? f->conf->coa.s_addr : f->addr;
	if (homelink_enable_forwarding(f->conf->interface) < 0)
		log_warn("cannot enable IPv4 forwarding on %s",
			 f->conf->interface);
	f->udp_fd = open_udp(f);
	f->pkt_fd = open_pkt(f->ifindex, f->conf->port);
	if (f->udp_fd < 0 ||
	    eloop_add_fd(f->loop, f->udp_fd, EPOLLIN, on_udp, f) < 0) {
		log_err("UDP port %u: %s", f->conf->port,
			strerror(f->udp_fd < 0 ? -f->udp_fd : EIO));
		return -1;
	}
	if (f->pkt_fd < 0 ||
	    eloop_add_fd(f->loop, f->pkt_fd, EPOLLIN, on_pkt, f) < 0)
		log_warn("no packet socket on %s: visitors will be reached "
			 "by ARP",
			 f->conf->interface);
	return open_tunnel(f);
}

void fa_io_close(struct fa *f)
{
	tunnel_close(f->tun); /* takes its routes with the device */
	f->tun = NULL;
	if (f->udp_fd >= 0) {
		eloop_del_fd(f->loop, f->udp_fd);
		close(f->udp_fd);
	}
	if (f->pkt_fd >= 0) {
		eloop_del_fd(f->loop, f->pkt_fd);
		close(f->pkt_fd);
	}
	f->udp_fd = f->pkt_fd = -1;
}
