/*
 * mn_path.c - the mobile node's data path for each access mode
 * (docs/architecture.md, "Data path of each access mode"):
 *
 *   home  the home address HoA/plen on the physical interface, default
 *         route via the home link's router: plain routing.
 *   c     HoA/32 on the TUN (mip0); default route dev mip0 src HoA
 *         (metric MN_ROUTE_METRIC, under dhcpcd's); HA/32 via the visited
 *         link's router.  Packets the kernel routes into mip0 from the
 *         HoA go IP-in-IP (RFC 2003) from the co-located CoA to the HA on
 *         a raw socket bound to the physical interface - the reverse
 *         tunnel of RFC 3024 - or IP-in-UDP (RFC 3519 3.3) on the
 *         registration socket when the HA accepted UDP tunnelling.
 *         Tunnelled packets from the HA are checked (outer source the HA,
 *         inner destination the HoA) and written to mip0.
 *   f     HoA/32 on the physical interface, an on-link route to the FA
 *         and the default route via it; no tunnel here (the FA decapsulates
 *         and reverse-tunnels).
 *   none  nothing changes: a move keeps the previous mode's addresses
 *         until the next mode replaces them, so sockets bound to the HoA
 *         never see it vanish.
 *
 * Every kernel change is recorded, and leaving a mode undoes exactly what
 * it added.  The TUN stays open for the daemon's life.
 */
#define LOG_TAG "mn"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "common/log.h"
#include "common/nl.h"
#include "common/tun.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"
#include "mipd/tunnel.h"

static const char *ip4(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static unsigned next;
	char *s = buf[next++ % 4];

	return inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

/* ---- kernel changes ---------------------------------------------------- */

static int addr(bool add, int ifindex, struct in_addr a, unsigned plen)
{
	struct ipaddr ia;
	int rc;

	ipaddr_from_v4(&ia, a.s_addr);
	rc = add ? nl_addr_add(ifindex, &ia, plen)
		 : nl_addr_del(ifindex, &ia, plen);
	if (rc == -EEXIST && add)
		return 1; /* somebody (the admin, the lab) put it there */
	if (rc && !add && (rc == -EADDRNOTAVAIL || rc == -ENODEV))
		return 0;
	if (rc)
		log_warn("%s %s/%u on ifindex %d: %s", add ? "add" : "remove",
			 ip4(a), plen, ifindex, strerror(-rc));
	return rc;
}

static void route(struct nl_route *r, struct in_addr dst, unsigned len,
		  struct in_addr gw, struct in_addr src, int oif,
		  uint32_t metric)
{
	memset(r, 0, sizeof(*r));
	r->family = AF_INET;
	if (len)
		ipaddr_from_v4(&r->dst, dst.s_addr);
	r->dst_len = len;
	if (gw.s_addr)
		ipaddr_from_v4(&r->gateway, gw.s_addr);
	if (src.s_addr)
		ipaddr_from_v4(&r->prefsrc, src.s_addr);
	r->oif = oif;
	r->metric = metric;
}

static int route_set(const struct nl_route *r, const char *what)
{
	int rc = nl_route_replace(r);

	if (rc)
		log_warn("route %s: %s", what, strerror(-rc));
	return rc;
}

static void route_unset(const struct nl_route *r)
{
	nl_route_del(r); /* gone with the link is fine */
}

static const struct in_addr none4;

static void r_dflt_tun(const struct mn_path *p, struct nl_route *r)
{
	route(r, none4, 0, none4, p->conf->home, p->tun_ifindex,
	      MN_ROUTE_METRIC);
}

static void r_ha_host(const struct mn_path *p, struct nl_route *r)
{
	route(r, p->ha, 32, p->ha_host_gw, none4, p->ifindex, 0);
}

static void r_fa_host(const struct mn_path *p, struct nl_route *r)
{
	route(r, p->fa, 32, none4, none4, p->hoa_phys_ifindex, 0);
}

static void r_dflt_fa(const struct mn_path *p, struct nl_route *r)
{
	route(r, none4, 0, p->fa, p->conf->home, p->hoa_phys_ifindex,
	      MN_ROUTE_METRIC);
}

static void r_dflt_home(const struct mn_path *p, struct nl_route *r)
{
	route(r, none4, 0, p->conf->gateway, none4, p->ifindex, 0);
}

/* ---- leaving a mode ----------------------------------------------------- */

static void raw_close(struct mn_path *p)
{
	if (p->raw_fd < 0)
		return;
	eloop_del_fd(p->loop, p->raw_fd);
	close(p->raw_fd);
	p->raw_fd = -1;
}

static void leave_c(struct mn_path *p)
{
	struct nl_route r;

	if (p->dflt_tun) {
		r_dflt_tun(p, &r);
		route_unset(&r);
		p->dflt_tun = false;
	}
	if (p->ha_host) {
		r_ha_host(p, &r);
		route_unset(&r);
		p->ha_host = false;
	}
	if (p->hoa_tun) {
		addr(false, p->tun_ifindex, p->conf->home, 32);
		p->hoa_tun = false;
	}
	raw_close(p);
	p->udp = false;
	mn_keepalive_stop(&p->ka);
}

static void leave_f(struct mn_path *p)
{
	struct nl_route r;

	if (p->dflt_fa) {
		r_dflt_fa(p, &r);
		route_unset(&r);
		p->dflt_fa = false;
	}
	if (p->fa_host) {
		r_fa_host(p, &r);
		route_unset(&r);
		p->fa_host = false;
	}
	if (p->hoa_phys32) {
		addr(false, p->hoa_phys_ifindex, p->conf->home, 32);
		p->hoa_phys32 = false;
	}
}

static void leave_home(struct mn_path *p)
{
	struct nl_route r;

	if (p->dflt_home) {
		r_dflt_home(p, &r);
		route_unset(&r);
		p->dflt_home = false;
	}
	if (p->hoa_home) {
		addr(false, p->ifindex, p->conf->home, p->conf->home_plen);
		p->hoa_home = false;
	}
}

/* ---- entering a mode ------------------------------------------------------
 */

static void ha_host_route(struct mn_path *p)
{
	struct nl_route r;

	if (p->ha_host && p->ha_host_gw.s_addr == p->gw.s_addr)
		return;
	if (p->ha_host) {
		r_ha_host(p, &r);
		route_unset(&r);
		p->ha_host = false;
	}
	if (!p->gw.s_addr)
		return; /* dhcpcd's route comes later: set_gateway */
	p->ha_host_gw = p->gw;
	r_ha_host(p, &r);
	p->ha_host = route_set(&r, "HA/32 via the visited router") == 0;
}

static void on_raw(void *arg, int fd, uint32_t events);

static int raw_open(struct mn_path *p)
{
	const char *dev = p->conf->interface;
	int one = 1, fd;

	if (p->raw_fd >= 0)
		return 0;
	fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_IPIP);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, strlen(dev)) < 0 ||
	    eloop_add_fd(p->loop, fd, EPOLLIN, on_raw, p) < 0) {
		log_err("IP-in-IP socket on %s: %s", dev, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p->raw_fd = fd;
	return 0;
}

static int enter_c(struct mn_path *p, int ifindex, struct in_addr coa)
{
	struct nl_route r;
	int rc = 0;

	if (p->tun_fd < 0 && p->tun_ifindex <= 0) {
		log_err("mode c needs the tunnel device %s", p->conf->tunnel);
		return -1;
	}
	if (p->ifindex != ifindex && p->ha_host) {
		r_ha_host(p, &r);
		route_unset(&r);
		p->ha_host = false;
	}
	p->ifindex = ifindex;
	p->coa = coa;
	if (!p->hoa_tun) {
		rc = addr(true, p->tun_ifindex, p->conf->home, 32);
		p->hoa_tun = rc >= 0;
	}
	if (!p->dflt_tun) {
		r_dflt_tun(p, &r);
		p->dflt_tun = route_set(&r, "default dev tunnel") == 0;
	}
	ha_host_route(p);
	if (p->tun_fd >= 0 && raw_open(p) < 0)
		rc = -1;
	log_info("data path c: %s/32 on %s, IP-in-IP %s -> %s",
		 ip4(p->conf->home), p->tun_name, ip4(coa), ip4(p->ha));
	return rc < 0 || !p->hoa_tun || !p->dflt_tun ? -1 : 0;
}

int mn_path_prepare_fa(struct mn_path *p, int ifindex, struct in_addr fa)
{
	struct nl_route r;

	if (p->hoa_phys32 && p->hoa_phys_ifindex != ifindex)
		leave_f(p);
	if (p->fa_host && p->fa.s_addr != fa.s_addr) {
		if (p->dflt_fa) {
			r_dflt_fa(p, &r);
			route_unset(&r);
			p->dflt_fa = false;
		}
		r_fa_host(p, &r);
		route_unset(&r);
		p->fa_host = false;
	}
	p->hoa_phys_ifindex = ifindex;
	p->fa = fa;
	if (!p->hoa_phys32)
		p->hoa_phys32 = addr(true, ifindex, p->conf->home, 32) >= 0;
	if (!p->fa_host) {
		r_fa_host(p, &r);
		p->fa_host = route_set(&r, "on-link route to the FA") == 0;
	}
	return p->hoa_phys32 && p->fa_host ? 0 : -1;
}

static int enter_f(struct mn_path *p, int ifindex, struct in_addr fa)
{
	struct nl_route r;

	if (mn_path_prepare_fa(p, ifindex, fa) < 0)
		return -1;
	p->ifindex = ifindex;
	r_dflt_fa(p, &r);
	p->dflt_fa = route_set(&r, "default via the FA") == 0;
	log_info("data path f: %s/32 on the link, default via FA %s",
		 ip4(p->conf->home), ip4(fa));
	return p->dflt_fa ? 0 : -1;
}

static int enter_home(struct mn_path *p, int ifindex)
{
	struct nl_route r;
	int rc;

	p->ifindex = ifindex;
	rc = addr(true, ifindex, p->conf->home, p->conf->home_plen);
	if (rc == 0)
		p->hoa_home = true;
	if (p->conf->gateway.s_addr) {
		r_dflt_home(p, &r);
		p->dflt_home =
		    route_set(&r, "default via the home router") == 0;
	}
	log_info("data path home: %s/%u on the link", ip4(p->conf->home),
		 p->conf->home_plen);
	return rc < 0 ? -1 : 0;
}

int mn_path_set(struct mn_path *p, enum access_mode m, int ifindex,
		struct in_addr coa, struct in_addr fa)
{
	int rc;

	if (m != MODE_C)
		mn_keepalive_stop(&p->ka); /* no UDP tunnel to keep open */
	if (m == MODE_NONE || m == MODE_MC) {
		/* none: keep what the last mode set until the next one (see
		 * the top); mc is mobiked's and not wired here */
		p->mode = m;
		return 0;
	}
	if (m != MODE_C)
		leave_c(p);
	if (m != MODE_F)
		leave_f(p);
	if (m != MODE_HOME)
		leave_home(p);
	p->mode = m;
	switch (m) {
	case MODE_C:
		rc = enter_c(p, ifindex, coa);
		if (p->udp)
			mn_keepalive_start(&p->ka, p->conf->home, p->ha,
					   p->keepalive_s);
		return rc;
	case MODE_F:
		return enter_f(p, ifindex, fa);
	default:
		return enter_home(p, ifindex);
	}
}

void mn_path_set_gateway(struct mn_path *p, struct in_addr gw)
{
	if (p->gw.s_addr == gw.s_addr)
		return;
	p->gw = gw;
	if (p->mode == MODE_C && p->hoa_tun)
		ha_host_route(p);
}

void mn_path_set_ha(struct mn_path *p, struct in_addr ha)
{
	struct nl_route r;

	if (p->ha.s_addr == ha.s_addr)
		return;
	log_info("tunnels to home agent %s (was %s)", ip4(ha), ip4(p->ha));
	if (p->ha_host) {
		r_ha_host(p, &r);
		route_unset(&r);
		p->ha_host = false;
	}
	p->ha = ha;
	if (p->mode == MODE_C && p->hoa_tun)
		ha_host_route(p);
	if (p->udp && p->mode == MODE_C)
		mn_keepalive_start(&p->ka, p->conf->home, p->ha,
				   p->keepalive_s);
}

void mn_path_set_udp(struct mn_path *p, bool udp, uint16_t keepalive_s)
{
	if (p->udp != udp)
		log_info("tunnel to the home agent: %s",
			 udp ? "IP-in-UDP (RFC 3519)" : "IP-in-IP");
	p->udp = udp;
	p->keepalive_s = keepalive_s;
	/* RFC 3519 4.9: keepalives while the UDP tunnel is used (mode c;
	 * a first registration sets c only after this, see mn_path_set) */
	if (udp && p->mode == MODE_C)
		mn_keepalive_start(&p->ka, p->conf->home, p->ha, keepalive_s);
	else
		mn_keepalive_stop(&p->ka);
}

/* ---- packets ------------------------------------------------------------ */

/* RFC 3519 3.3: tunnel data message from the co-located CoA's port 434
 * (the registration socket, so the NAT maps it like the requests) to the
 * HA's.  0 or -1. */
static int udp_out(struct mn_path *p, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(MIP4_PORT),
				 .sin_addr = p->ha};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {p->out, 0};
	struct msghdr mh = {.msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	struct in_pktinfo pi = {.ipi_ifindex = p->ifindex,
				.ipi_spec_dst = p->coa};

	iov.iov_len = tunnel_udp_encap(p->out, sizeof(p->out), pkt, len);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (!iov.iov_len || p->udp_fd < 0 ||
	    sendmsg(p->udp_fd, &mh, 0) != (ssize_t)iov.iov_len)
		return -1;
	mn_keepalive_traffic(&p->ka);
	return 0;
}

static void send_udp(struct mn_path *p, const uint8_t *pkt, size_t len)
{
	if (udp_out(p, pkt, len) == 0)
		p->st.tx_udp++;
	else
		p->st.tx_drop++;
}

/* mn_keepalive's way out: only while the UDP tunnel is up (mode c). */
static int ka_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_path *p = arg;

	if (p->mode != MODE_C || !p->udp)
		return -1;
	return udp_out(p, pkt, len);
}

static void send_ipip(struct mn_path *p, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = p->ha};
	size_t n = tunnel_ipip_encap(p->out, sizeof(p->out), pkt, len,
				     p->coa.s_addr, p->ha.s_addr, ++p->ip_id);

	if (n && p->raw_fd >= 0 &&
	    sendto(p->raw_fd, p->out, n, 0, (struct sockaddr *)&to,
		   sizeof(to)) == (ssize_t)n)
		p->st.tx_ipip++;
	else
		p->st.tx_drop++;
}

int mn_path_outbound(struct rbuf *r, struct in_addr hoa, struct ip4_view *v)
{
	if (ip4_parse(r, v) == 0 && v->csum_ok && v->src == hoa.s_addr)
		return 0;
	r->failed = true;
	return -1;
}

int mn_path_ipip_decap(struct rbuf *r, struct in_addr ha, struct in_addr hoa,
		       struct ip4_view *inner)
{
	struct ip4_view outer;

	/* RFC 2003 / 3024: only what our home agent tunnels to us */
	if (tunnel_ipip_decap(r, &outer, inner) == 0 &&
	    outer.src == ha.s_addr && inner->dst == hoa.s_addr)
		return 0;
	r->failed = true;
	return -1;
}

int mn_path_udp_decap(struct rbuf *r, uint32_t src, struct in_addr ha,
		      struct in_addr hoa, struct ip4_view *inner)
{
	if (tunnel_udp_decap(r, inner) == 0 && src == ha.s_addr &&
	    inner->dst == hoa.s_addr)
		return 0;
	r->failed = true;
	return -1;
}

/* From mip0: only the home address's packets, only in mode c. */
static void from_tun(struct mn_path *p, const uint8_t *pkt, size_t len)
{
	struct ip4_view v;
	struct rbuf r;
	uint8_t vers;

	rb_init(&r, pkt, len);
	if (rb_peek_u8(&r, &vers) == 0 && vers >> 4 == 6)
		return; /* the kernel's own IPv6 chatter on an up TUN */
	if (p->mode != MODE_C || mn_path_outbound(&r, p->conf->home, &v) < 0) {
		p->st.tx_drop++;
		return;
	}
	if (p->udp)
		send_udp(p, v.pkt, v.len);
	else
		send_ipip(p, v.pkt, v.len);
}

static void on_tun(void *arg, int fd, uint32_t events)
{
	struct mn_path *p = arg;

	for (int i = 0; i < 64; i++) {
		ssize_t n = read(fd, p->buf, sizeof(p->buf));

		if (n <= 0)
			return;
		from_tun(p, p->buf, (size_t)n);
	}
}

/* The inner packet, checked, to mip0: only its own bytes, not what
 * followed it in the outer packet. */
static void deliver(struct mn_path *p, const struct ip4_view *in, bool udp)
{
	/* the HA's answer to a keepalive has done its job */
	if (udp && mn_keepalive_reply(&p->ka, in))
		return;
	if (p->tun_fd < 0 ||
	    write(p->tun_fd, in->pkt, in->len) != (ssize_t)in->len) {
		p->st.rx_drop++;
		return;
	}
	if (udp)
		p->st.rx_udp++;
	else
		p->st.rx_ipip++;
}

static void raw_input(struct mn_path *p, const uint8_t *pkt, size_t len)
{
	struct ip4_view in;
	struct rbuf r;

	rb_init(&r, pkt, len);
	if (mn_path_ipip_decap(&r, p->ha, p->conf->home, &in) < 0) {
		p->st.rx_drop++;
		return;
	}
	deliver(p, &in, false);
}

static void on_raw(void *arg, int fd, uint32_t events)
{
	struct mn_path *p = arg;

	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, p->buf, sizeof(p->buf), MSG_DONTWAIT);

		if (n <= 0)
			return;
		raw_input(p, p->buf, (size_t)n);
	}
}

void mn_path_udp_input(struct mn_path *p, const uint8_t *msg, size_t len,
		       uint32_t src)
{
	struct ip4_view in;
	struct rbuf r;

	rb_init(&r, msg, len);
	if (mn_path_udp_decap(&r, src, p->ha, p->conf->home, &in) < 0) {
		p->st.rx_drop++;
		return;
	}
	deliver(p, &in, true);
}

/* ---- setup ----------------------------------------------------------------
 */

static int tun_setup(struct mn_path *p)
{
	int rc;

	snprintf(p->tun_name, sizeof(p->tun_name), "%s", p->conf->tunnel);
	p->tun_fd = tun_open(p->tun_name);
	if (p->tun_fd < 0) {
		log_err("tunnel device %s: %s", p->conf->tunnel,
			strerror(-p->tun_fd));
		return -1;
	}
	p->tun_ifindex = nl_ifindex(p->tun_name);
	rc = p->tun_ifindex < 0 ? p->tun_ifindex
				: nl_link_set_mtu(p->tun_ifindex, TUN_MTU);
	if (!rc)
		rc = nl_link_set_up(p->tun_ifindex, true);
	if (rc || eloop_add_fd(p->loop, p->tun_fd, EPOLLIN, on_tun, p) < 0) {
		log_err("tunnel device %s: %s", p->tun_name,
			strerror(rc ? -rc : errno));
		return -1;
	}
	return 0;
}

int mn_path_open(struct mn_path *p, struct eloop *l, const struct mn_conf *c,
		 int udp_fd, bool with_tun)
{
	memset(p, 0, sizeof(*p));
	p->conf = c;
	p->loop = l;
	p->udp_fd = udp_fd;
	p->tun_fd = p->raw_fd = -1;
	p->mode = MODE_NONE;
	p->ha = c->ha;
	mn_keepalive_init(&p->ka, l, ka_send, p);
	if (!with_tun) {
		/* tests: an existing device stands in for the TUN */
		snprintf(p->tun_name, sizeof(p->tun_name), "%s", c->tunnel);
		p->tun_ifindex = nl_ifindex(c->tunnel);
		return p->tun_ifindex > 0 ? 0 : -1;
	}
	return tun_setup(p);
}

void mn_path_close(struct mn_path *p)
{
	leave_c(p);
	leave_f(p);
	leave_home(p);
	if (p->tun_fd >= 0) {
		eloop_del_fd(p->loop, p->tun_fd);
		close(p->tun_fd); /* the kernel removes the device */
	}
	p->tun_fd = -1;
}
