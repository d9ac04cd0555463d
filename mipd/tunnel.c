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

#include "common/buf.h"
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

/* A whole IPv4 packet whose header checksum verifies. */
static int ip_ok(struct rbuf *r, struct ip4_view *v)
{
	if (ip4_parse(r, v) < 0)
		return -1;
	if (v->csum_ok)
		return 0;
	r->failed = true;
	return -1;
}

size_t tunnel_ip_check(const uint8_t *p, size_t len)
{
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, p, len);
	return ip_ok(&r, &v) == 0 ? v.hlen : 0;
}

static size_t ipip_encap(uint8_t *out, size_t cap, const struct ip4_view *in,
			 uint32_t src, uint32_t dst, uint16_t id)
{
	size_t tot = in->len + TUN_IP_HDR_LEN;
	/* RFC 2003 3.1: TOS copied; 5.1: DF copied, no fragment offset */
	uint8_t h[TUN_IP_HDR_LEN] = {0x45,
				     in->tos,
				     (uint8_t)(tot >> 8),
				     (uint8_t)tot,
				     (uint8_t)(id >> 8),
				     (uint8_t)id,
				     (uint8_t)((in->frag & IP4_DF) >> 8),
				     0,
				     TUN_OUTER_TTL,
				     IPPROTO_IPIP};
	uint16_t sum;
	struct wbuf w;

	if (tot > 0xffff)
		return 0;
	memcpy(h + 12, &src, 4);
	memcpy(h + 16, &dst, 4);
	sum = ip4_csum(h, sizeof(h));
	h[10] = (uint8_t)(sum >> 8);
	h[11] = (uint8_t)sum;
	wb_init(&w, out, cap);
	if (wb_bytes(&w, h, sizeof(h)) < 0 ||
	    wb_bytes(&w, in->pkt, in->len) < 0)
		return 0;
	return w.len;
}

size_t tunnel_ipip_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			 size_t len, uint32_t src, uint32_t dst, uint16_t id)
{
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, inner, len);
	return ip4_parse(&r, &v) == 0 ? ipip_encap(out, cap, &v, src, dst, id)
				      : 0;
}

size_t tunnel_udp_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			size_t len)
{
	/* Next Header: the inner is IPv4 */
	static const uint8_t h[TUN_UDP_HDR_LEN] = {MIP4_TUNNEL_DATA,
						   MIP4_ENCAP_IPIP};
	struct wbuf w;

	wb_init(&w, out, cap);
	wb_bytes(&w, h, sizeof(h));
	wb_bytes(&w, inner, len);
	return wb_ok(&w) == 0 ? w.len : 0;
}

int tunnel_ipip_decap(struct rbuf *r, struct ip4_view *outer,
		      struct ip4_view *inner)
{
	/* fragments of the outer packet are reassembled by the kernel
	 * before raw delivery, so a whole protocol-4 packet is here */
	struct rbuf in;

	if (ip_ok(r, outer) == 0 && outer->proto == IPPROTO_IPIP) {
		in = outer->payload; /* the outer view stays whole */
		if (ip_ok(&in, inner) == 0)
			return 0;
	}
	memset(inner, 0, sizeof(*inner));
	r->failed = true;
	return -1;
}

int tunnel_udp_decap(struct rbuf *r, struct ip4_view *inner)
{
	uint8_t type, next;

	/* RFC 3519 3.3: only IPv4 inside (Next Header 4) is supported */
	rb_u8(r, &type);
	rb_u8(r, &next);
	rb_skip(r, 2); /* reserved */
	if (r->failed || type != MIP4_TUNNEL_DATA || next != MIP4_ENCAP_IPIP) {
		memset(inner, 0, sizeof(*inner));
		r->failed = true;
		return -1;
	}
	return ip_ok(r, inner);
}

bool tunnel_is_keepalive(const struct ip4_view *inner, uint32_t haa)
{
	uint8_t type;

	return inner->proto == IPPROTO_ICMP && inner->dst == haa &&
	       rb_left(&inner->payload) >= 8 &&
	       rb_peek_u8(&inner->payload, &type) == 0 && type == 8 /* echo */;
}

static const struct binding *src_check(tunnel_lookup_fn lookup, void *arg,
				       const struct ip4_view *in,
				       uint32_t outer_src, uint16_t sport)
{
	const struct binding *b = lookup(arg, in->src);

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

const struct binding *tunnel_src_check(tunnel_lookup_fn lookup, void *arg,
				       const uint8_t *inner, size_t len,
				       uint32_t outer_src, uint16_t sport)
{
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, inner, len);
	return ip_ok(&r, &v) == 0 ? src_check(lookup, arg, &v, outer_src, sport)
				  : NULL;
}

/* ---- forward direction: TUN -> tunnel ---- */

static void send_ipip(struct tunnel *t, const struct binding *b,
		      const struct ip4_view *pkt)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	size_t n = ipip_encap(t->out, sizeof(t->out), pkt, b->info.haa,
			      b->info.coa, ++t->ip_id);

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
		     const struct ip4_view *pkt)
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

	iov.iov_len =
	    tunnel_udp_encap(t->out, sizeof(t->out), pkt->pkt, pkt->len);
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

int tunnel_send(struct tunnel *t, const struct binding *b,
		const struct ip4_view *pkt)
{
	uint64_t before = t->st.tx_err;

	if (b->info.encap == BCACHE_ENCAP_UDP)
		send_udp(t, b, pkt);
	else
		send_ipip(t, b, pkt);
	return t->st.tx_err == before ? 0 : -1;
}

static void forward(struct tunnel *t, const uint8_t *pkt, size_t len)
{
	const struct binding *b;
	struct ip4_view v;
	struct rbuf r;
	uint8_t vers;

	rb_init(&r, pkt, len);
	/* the kernel also routes its own IPv6 chatter (router and listener
	 * discovery) into an up TUN: not ours to tunnel, not an error */
	if (rb_peek_u8(&r, &vers) == 0 && vers >> 4 == 6)
		return;
	if (ip_ok(&r, &v) < 0) {
		t->st.tx_err++;
		return;
	}
	b = t->cfg.lookup(t->cfg.arg, t->cfg.lookup_by_src ? v.src : v.dst);
	if (!b) {
		t->st.tx_no_binding++;
		return;
	}
	tunnel_send(t, b, &v);
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

static void deliver(struct tunnel *t, const struct ip4_view *in,
		    uint32_t outer_src, uint16_t sport)
{
	const struct binding *b = NULL;
	bool ok = t->cfg.rx_check
		      ? sport == 0 && t->cfg.rx_check(t->cfg.arg, in, outer_src)
		      : (b = src_check(t->cfg.lookup, t->cfg.arg, in, outer_src,
				       sport)) != NULL;

	if (!ok) {
		t->st.rx_src_drop++;
		return;
	}
	/* Passed the source check: the home address is bound to exactly
	 * this NAT address and port (a keepalive from anywhere else was
	 * dropped above and never moves the binding, RFC 3519 6.1.2).  Our
	 * stack answers the echo; the reply goes back through the tunnel
	 * and keeps the NAT's mapping warm from this side too. */
	if (sport && b && tunnel_is_keepalive(in, b->info.haa))
		t->st.rx_keepalive++;
	if (write(t->tun_fd, in->pkt, in->len) != (ssize_t)in->len) {
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
	struct ip4_view outer, inner;
	struct rbuf r;

	rb_init(&r, p, len);
	if (tunnel_ipip_decap(&r, &outer, &inner) < 0) {
		t->st.rx_bad++;
		return;
	}
	deliver(t, &inner, outer.src, 0);
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
	struct ip4_view inner;
	struct rbuf r;

	rb_init(&r, msg, len);
	if (sport == 0 || tunnel_udp_decap(&r, &inner) < 0) {
		t->st.rx_bad++;
		return;
	}
	deliver(t, &inner, src, sport);
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
