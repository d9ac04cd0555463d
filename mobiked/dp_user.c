/*
 * dp_user.c - the userspace data plane (dp.h "user"): ESP-in-UDP
 * (RFC 3948) between a TUN device and the IKE socket on port 4500.
 *
 *   TUN --read--> match traffic selectors --esp_encap--> sendmsg(4500)
 *   IKE reader --dp_user_input--> SPI lookup --esp_decap--> TS check --> TUN
 *
 * RFC 3948 2.2: an ESP packet on port 4500 starts directly with the SPI,
 * which is never zero, so it is told apart from IKE (non-ESP marker of four
 * zero bytes) by the caller.  No allocation per packet: one buffer each way,
 * and the TUN read lands after the largest ESP header so encapsulation
 * needs no copy.
 */
#define LOG_TAG "dp"

#include <errno.h>
#include <linux/if_addr.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "common/tun.h"
#include "mobiked/dp.h"
#include "mobiked/dp_inner.h"
#include "mobiked/esp.h"

/*
 * The TUN MTU: the worst case must fit 1500 on the outer path: IPv6 (40)
 * + UDP (8) + SPI/seq (8) + CBC IV (16) + HMAC-SHA-512 ICV (32) leaves
 * 1396 bytes of ciphertext, 1392 once 16-aligned, 1390 after Pad Length
 * and Next Header.
 */
#define DP_USER_MTU	   1390
#define DP_USER_MAX_CHILD  8
#define DP_USER_MAX_ROUTES 64
#define DP_USER_BATCH	   64 /* TUN reads per wake-up, for fairness */
#define DP_HEAD		   (ESP_HDR_LEN + CRYPTO_MAX_IV) /* largest headroom */
#define DP_BUF_LEN	   (DP_HEAD + ESP_MAX_INNER + 64)

struct route {
	struct ipaddr dst;
	unsigned plen;
	bool shared; /* laid by another child (same TS after a rekey) */
};

struct uchild {
	bool used;
	uint64_t gen;	/* install order: outbound prefers the newest */
	uint8_t raised; /* ESP_LIFE_* already reported */
	struct esp_sa in, out;
	struct sockaddr_storage local, remote;
	struct dp_ts lts[DP_MAX_TS], rts[DP_MAX_TS];
	unsigned nlts, nrts;
	struct dp_counters ctr;
	struct route routes[DP_USER_MAX_ROUTES];
	unsigned nroutes;
};

struct dp_user {
	struct dp base; /* first: struct dp * converts back */
	struct eloop *loop;
	int udp_fd, udp_family, tun_fd, ifindex;
	char ifname[IFNAMSIZ];
	struct ipaddr vip4, vip6;
	struct dp_counters orphan; /* packets that matched no CHILD_SA */
	uint64_t gen;
	struct uchild child[DP_USER_MAX_CHILD];
	uint8_t txbuf[DP_BUF_LEN], rxbuf[DP_BUF_LEN];
};

static struct dp_user *user_of(struct dp *dp)
{
	return (struct dp_user *)dp;
}

/* ---- children ---- */

static struct uchild *child_by_spi(struct dp_user *u, uint32_t spi_in)
{
	for (unsigned i = 0; i < DP_USER_MAX_CHILD; i++)
		if (u->child[i].used && u->child[i].in.spi == spi_in)
			return &u->child[i];
	return NULL;
}

/* Outbound: the remote TS must hold the destination, the local TS the
 * source (RFC 4301 5.1 SPD lookup, reduced to our one policy per SA).
 * During a rekey two SAs match: the newest wins, so traffic moves to it
 * as soon as it is installed while the old one still decrypts. */
static struct uchild *child_for(struct dp_user *u, const struct dp_inner *in)
{
	struct uchild *best = NULL;

	for (unsigned i = 0; i < DP_USER_MAX_CHILD; i++) {
		struct uchild *c = &u->child[i];

		if (c->used && (!best || c->gen > best->gen) &&
		    dp_ts_match(c->rts, c->nrts, in, false) &&
		    dp_ts_match(c->lts, c->nlts, in, true))
			best = c;
	}
	return best;
}

/* Lifetime events of both directions, once per child.  The callback may
 * delete the child: nothing touches c after it. */
static void report_life(struct dp_user *u, struct uchild *c)
{
	unsigned ev = esp_life_take(&c->in) | esp_life_take(&c->out);
	uint32_t spi = c->in.spi;

	ev &= ~(unsigned)c->raised;
	if (!ev)
		return;
	c->raised |= (uint8_t)ev;
	if (!u->base.on_event)
		return;
	if (ev & ESP_LIFE_SOFT)
		u->base.on_event(u->base.arg, spi, DP_EV_SOFT_EXPIRE);
	if (ev & ESP_LIFE_HARD)
		u->base.on_event(u->base.arg, spi, DP_EV_HARD_EXPIRE);
}

/* ---- outbound: TUN -> ESP-in-UDP ---- */

static void put_cmsg(struct msghdr *m, int level, int type, const void *p,
		     size_t n)
{
	struct cmsghdr *cm = CMSG_FIRSTHDR(m);

	cm->cmsg_level = level;
	cm->cmsg_type = type;
	cm->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(cm), p, n);
	m->msg_controllen = CMSG_SPACE(n);
}

static void put_pktinfo(struct msghdr *m, const struct sockaddr_storage *local)
{
	if (local->ss_family == AF_INET) {
		struct in_pktinfo pi = {
		    .ipi_spec_dst =
			((const struct sockaddr_in *)local)->sin_addr};

		put_cmsg(m, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi = {
		    .ipi6_addr =
			((const struct sockaddr_in6 *)local)->sin6_addr};

		put_cmsg(m, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
}

/* The source is pinned to the SA's local address (MOBIKE moves it) when
 * the socket's family allows; a dual-stack socket reaches IPv4 peers
 * through a v4-mapped destination and lets the kernel pick. */
static int send_esp(struct dp_user *u, const struct uchild *c, const uint8_t *p,
		    size_t len)
{
	union {
		struct cmsghdr align;
		uint8_t b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	} cbuf;
	struct sockaddr_storage dst = c->remote;
	struct iovec iov = {(void *)p, len};
	struct msghdr m = {.msg_name = &dst, .msg_iov = &iov, .msg_iovlen = 1};
	struct ipaddr a;
	uint16_t port;

	memset(&cbuf, 0, sizeof(cbuf));
	if (ipaddr_from_sockaddr(&a, &port, (struct sockaddr *)&c->remote,
				 sizeof(c->remote)))
		return -1;
	if (u->udp_family == AF_INET6 && a.family == AF_INET) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&dst;

		memset(&dst, 0, sizeof(dst));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&s6->sin6_addr.s6_addr[12], a.b, 4);
	} else if (c->local.ss_family == a.family) {
		m.msg_control = &cbuf;
		m.msg_controllen = sizeof(cbuf);
		put_pktinfo(&m, &c->local);
	}
	m.msg_namelen = dst.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						 : sizeof(struct sockaddr_in6);
	return sendmsg(u->udp_fd, &m, MSG_DONTWAIT) == (ssize_t)len ? 0 : -1;
}

/* The inner packet is at txbuf + DP_HEAD. */
static void tun_packet(struct dp_user *u, size_t len)
{
	uint8_t *ip = u->txbuf + DP_HEAD, *out;
	struct dp_inner in;
	struct uchild *c;
	int n;

	if (dp_inner_parse(ip, len, &in) || !(c = child_for(u, &in))) {
		u->orphan.out_no_sa++;
		return;
	}
	out = ip - esp_headroom(&c->out);
	n = esp_encap(&c->out, in.nh, ip, in.len, out,
		      (size_t)(u->txbuf + sizeof(u->txbuf) - out));
	if (n < 0 || send_esp(u, c, out, (size_t)n)) {
		c->ctr.out_errors++;
	} else {
		c->ctr.out_packets++;
		c->ctr.out_bytes += in.len;
	}
	report_life(u, c);
}

static void tun_readable(void *arg, int fd, uint32_t events)
{
	struct dp_user *u = arg;

	for (int i = 0; i < DP_USER_BATCH; i++) {
		ssize_t n = read(fd, u->txbuf + DP_HEAD, ESP_MAX_INNER);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			if (errno != EAGAIN)
				log_warn("%s: read: %s", u->ifname,
					 strerror(errno));
			return;
		}
		tun_packet(u, (size_t)n);
	}
}

/* ---- inbound: ESP-in-UDP -> TUN ---- */

static void count_decap_err(struct dp_counters *ctr, int err)
{
	if (err == ESP_E_AUTH)
		ctr->in_auth_fail++;
	else if (err == ESP_E_REPLAY)
		ctr->in_replay++;
	else if (err == ESP_E_EXPIRED)
		ctr->in_no_sa++;
	else if (err != ESP_E_DUMMY) /* TFC padding packets are no error */
		ctr->in_malformed++;
}

/* RFC 4301 5.2: after decryption the inner addresses must agree with the
 * SA's selectors, or a peer could inject traffic for another SA.  The
 * packet goes to the TUN without what followed it (TFC padding). */
static void deliver(struct dp_user *u, struct uchild *c, const uint8_t *ip,
		    size_t len, uint8_t nh)
{
	struct dp_inner in;

	if (dp_inner_parse(ip, len, &in) || in.nh != nh) {
		c->ctr.in_malformed++;
		return;
	}
	if (!dp_ts_match(c->rts, c->nrts, &in, true) ||
	    !dp_ts_match(c->lts, c->nlts, &in, false)) {
		c->ctr.in_policy++;
		return;
	}
	if (write(u->tun_fd, ip, in.len) != (ssize_t)in.len) {
		c->ctr.in_errors++;
		return;
	}
	c->ctr.in_packets++;
	c->ctr.in_bytes += in.len;
}

void dp_user_input(struct dp *dp, const uint8_t *pkt, size_t len,
		   const struct sockaddr_storage *from)
{
	struct dp_user *u = user_of(dp);
	struct uchild *c;
	struct rbuf r;
	uint32_t spi;
	uint8_t nh;
	int n;

	rb_init(&r, pkt, len);
	if (len == 1 && rb_peek_u8(&r, &nh) == 0 && nh == 0xff)
		return; /* NAT-keepalive (RFC 3948 2.3) */
	if (len > ESP_MAX_PACKET || esp_peek_spi(pkt, len, &spi) || !spi) {
		u->orphan.in_malformed++;
		return;
	}
	if (!(c = child_by_spi(u, spi))) {
		u->orphan.in_no_sa++;
		return;
	}
	/* The reader's buffer is const: decrypt in our own, in place. */
	memcpy(u->rxbuf, pkt, len);
	n = esp_decap(&c->in, u->rxbuf, len, &nh);
	if (n < 0)
		count_decap_err(&c->ctr, n);
	else
		deliver(u, c, u->rxbuf + esp_headroom(&c->in), (size_t)n, nh);
	report_life(u, c);
}

/* ---- routes for the remote traffic selectors ---- */

/* out = a with the host bits (from bit plen on) all ones or all zeros. */
static void host_bits(uint8_t *out, const uint8_t *a, unsigned plen,
		      size_t alen, bool ones)
{
	for (size_t i = 0; i < alen; i++) {
		unsigned lo = (unsigned)i * 8;
		uint8_t host = plen >= lo + 8 ? 0
			       : plen <= lo   ? 0xff
					      : (uint8_t)(0xff >> (plen - lo));

		out[i] = ones ? a[i] | host : a[i] & (uint8_t)~host;
	}
}

/* The shortest prefix starting exactly at s that does not pass e. */
static unsigned block_plen(const uint8_t *s, const uint8_t *e, size_t alen)
{
	uint8_t t[16];
	unsigned p;

	for (p = 0; p < alen * 8; p++) {
		host_bits(t, s, p, alen, false);
		if (memcmp(t, s, alen))
			continue;
		host_bits(t, s, p, alen, true);
		if (memcmp(t, e, alen) <= 0)
			break;
	}
	return p;
}

/* a += 1; false when it wraps past the top of the space. */
static bool addr_inc(uint8_t *a, size_t alen)
{
	for (size_t i = alen; i-- > 0;)
		if (++a[i])
			return true;
	return false;
}

static bool covers(const struct route *r, const struct ipaddr *a)
{
	uint8_t t[16];

	if (a->family != r->dst.family)
		return false;
	host_bits(t, a->b, r->plen, ipaddr_len(a), false);
	return memcmp(t, r->dst.b, ipaddr_len(a)) == 0;
}

/* A child other than `except` that has this route (laid or shared), or
 * NULL. */
static struct route *route_holder(struct dp_user *u,
				  const struct uchild *except,
				  const struct route *r)
{
	for (unsigned i = 0; i < DP_USER_MAX_CHILD; i++) {
		struct uchild *c = &u->child[i];

		if (!c->used || c == except)
			continue;
		for (unsigned j = 0; j < c->nroutes; j++)
			if (c->routes[j].plen == r->plen &&
			    ipaddr_eq(&c->routes[j].dst, &r->dst))
				return &c->routes[j];
	}
	return NULL;
}

/*
 * Never route the gateway's own outer address into the tunnel: ESP would
 * loop.  A full-tunnel TS (0.0.0.0/0) would need a host route for the
 * gateway via the physical path first; that is not done yet, so such a
 * prefix is skipped with a warning (known limitation).
 */
static void route_add(struct dp_user *u, struct uchild *c,
		      const struct route *r)
{
	struct nl_route nr = {.family = r->dst.family,
			      .dst = r->dst,
			      .dst_len = r->plen,
			      .oif = u->ifindex};
	struct ipaddr gw;
	char buf[IPADDR_STRLEN];
	int rc;

	ipaddr_from_sockaddr(&gw, NULL, (struct sockaddr *)&c->remote,
			     sizeof(c->remote));
	if (r->plen == 0 || covers(r, &gw)) {
		log_warn("%s: not routing %s/%u into the tunnel: it covers the "
			 "gateway",
			 u->ifname, ipaddr_str(&r->dst, buf), r->plen);
		return;
	}
	if (c->nroutes == DP_USER_MAX_ROUTES) {
		log_warn("%s: too many routes, %s/%u skipped", u->ifname,
			 ipaddr_str(&r->dst, buf), r->plen);
		return;
	}
	nr.prefsrc = r->dst.family == AF_INET ? u->vip4 : u->vip6;
	rc = nl_route_add(&nr);
	if (rc && rc != -EEXIST) {
		log_warn("%s: route %s/%u: %s", u->ifname,
			 ipaddr_str(&r->dst, buf), r->plen, strerror(-rc));
		return;
	}
	if (!rc)
		c->routes[c->nroutes++] = *r;
	else if (route_holder(u, c, r))
		c->routes[c->nroutes++] = (struct route){r->dst, r->plen, true};
}

/* A range as the fewest prefixes that cover exactly it. */
static void routes_for_ts(struct dp_user *u, struct uchild *c,
			  const struct dp_ts *ts)
{
	size_t alen = ipaddr_len(&ts->start);
	struct route r = {.dst = ts->start};
	uint8_t last[16];

	if (!alen || ts->end.family != ts->start.family ||
	    memcmp(ts->start.b, ts->end.b, alen) > 0)
		return;
	for (unsigned i = 0; i < 2 * 128 + 1; i++) {
		r.plen = block_plen(r.dst.b, ts->end.b, alen);
		route_add(u, c, &r);
		host_bits(last, r.dst.b, r.plen, alen, true);
		if (!memcmp(last, ts->end.b, alen))
			return;
		memcpy(r.dst.b, last, alen);
		if (!addr_inc(r.dst.b, alen))
			return;
	}
}

static void routes_add(struct dp_user *u, struct uchild *c)
{
	for (unsigned i = 0; i < c->nrts; i++)
		routes_for_ts(u, c, &c->rts[i]);
}

/* A route another child shares is handed over to it, not deleted: the
 * replaced SA of a rekey must not take the new one's routes with it. */
static void routes_del(struct dp_user *u, struct uchild *c)
{
	struct route *h;

	for (unsigned i = 0; i < c->nroutes; i++) {
		struct nl_route nr = {.family = c->routes[i].dst.family,
				      .dst = c->routes[i].dst,
				      .dst_len = c->routes[i].plen,
				      .oif = u->ifindex};

		if (c->routes[i].shared)
			continue;
		h = route_holder(u, c, &c->routes[i]);
		if (h)
			h->shared = false;
		else
			nl_route_del(&nr);
	}
	c->nroutes = 0;
}

/* ---- dp_ops ---- */

static int set_one_vip(struct dp_user *u, struct ipaddr *cur,
		       const struct ipaddr *a, unsigned plen)
{
	int rc;

	if (!a || a->family == AF_UNSPEC || ipaddr_eq(cur, a))
		return 0;
	if (cur->family)
		nl_addr_del(u->ifindex, cur, plen);
	cur->family = AF_UNSPEC;
	/* The gateway assigned the address: skip DAD, or routes using it as
	 * preferred source fail with EINVAL while it is still tentative. */
	rc = nl_addr_add_flags(u->ifindex, a, plen,
			       a->family == AF_INET6 ? IFA_F_NODAD : 0);
	if (rc && rc != -EEXIST)
		return rc;
	*cur = *a;
	return 0;
}

static int user_set_vip(struct dp *dp, const struct ipaddr *v4,
			const struct ipaddr *v6)
{
	struct dp_user *u = user_of(dp);
	int rc = set_one_vip(u, &u->vip4, v4, 32);

	return rc ? rc : set_one_vip(u, &u->vip6, v6, 128);
}

static int child_init(struct uchild *c, const struct dp_child *d)
{
	struct esp_sa_params p = {.spi = d->spi_in,
				  .dir = SK_IN,
				  .encr = d->encr,
				  .integ = d->integ,
				  .ekey = d->in.encr,
				  .elen = d->in.encr_len,
				  .ikey = d->in.integ,
				  .ilen = d->in.integ_len,
				  .esn = d->esn,
				  .replay_window = d->replay_window,
				  .life_bytes = d->life_bytes,
				  .life_packets = d->life_packets};

	if (esp_sa_init(&c->in, &p))
		return -EINVAL;
	p.spi = d->spi_out;
	p.dir = SK_OUT;
	p.ekey = d->out.encr;
	p.elen = d->out.encr_len;
	p.ikey = d->out.integ;
	p.ilen = d->out.integ_len;
	if (esp_sa_init(&c->out, &p)) {
		esp_sa_clear(&c->in);
		return -EINVAL;
	}
	return 0;
}

static int user_add_child(struct dp *dp, const struct dp_child *d)
{
	struct dp_user *u = user_of(dp);
	struct uchild *c = NULL;
	int rc;

	if (!d->encr || !d->spi_in || !d->spi_out || !d->n_remote_ts ||
	    d->n_remote_ts > DP_MAX_TS || d->n_local_ts > DP_MAX_TS)
		return -EINVAL;
	if (child_by_spi(u, d->spi_in))
		return -EEXIST;
	for (unsigned i = 0; i < DP_USER_MAX_CHILD && !c; i++)
		if (!u->child[i].used)
			c = &u->child[i];
	if (!c)
		return -ENOSPC;
	memset(c, 0, sizeof(*c));
	if ((rc = child_init(c, d)))
		return rc;
	c->used = true;
	c->gen = ++u->gen;
	c->local = d->local;
	c->remote = d->remote;
	memcpy(c->lts, d->local_ts, sizeof(c->lts));
	memcpy(c->rts, d->remote_ts, sizeof(c->rts));
	c->nlts = d->n_local_ts;
	c->nrts = d->n_remote_ts;
	routes_add(u, c);
	log_info("%s: CHILD_SA in %08x out %08x, %u route(s)", u->ifname,
		 d->spi_in, d->spi_out, c->nroutes);
	return 0;
}

static int user_update_endpoints(struct dp *dp, uint32_t spi_in,
				 const struct sockaddr_storage *local,
				 const struct sockaddr_storage *remote)
{
	struct dp_user *u = user_of(dp);
	struct uchild *c = child_by_spi(u, spi_in);

	if (!c)
		return -ENOENT;
	c->local = *local;
	c->remote = *remote;
	/* The gateway's address changed: a route may now cover it (or no
	 * longer need skipping), so the routes are laid again. */
	routes_del(u, c);
	routes_add(u, c);
	return 0;
}

static void child_free(struct dp_user *u, struct uchild *c)
{
	routes_del(u, c);
	esp_sa_clear(&c->in);
	esp_sa_clear(&c->out);
	memset(c, 0, sizeof(*c));
}

static int user_del_child(struct dp *dp, uint32_t spi_in)
{
	struct dp_user *u = user_of(dp);
	struct uchild *c = child_by_spi(u, spi_in);

	if (!c)
		return -ENOENT;
	child_free(u, c);
	return 0;
}

static int user_counters(struct dp *dp, uint32_t spi_in,
			 struct dp_counters *out)
{
	struct dp_user *u = user_of(dp);
	struct uchild *c;

	if (spi_in == 0) {
		*out = u->orphan;
		return 0;
	}
	if (!(c = child_by_spi(u, spi_in)))
		return -ENOENT;
	*out = c->ctr;
	return 0;
}

static void user_free(struct dp *dp)
{
	struct dp_user *u = user_of(dp);

	if (!u)
		return;
	for (unsigned i = 0; i < DP_USER_MAX_CHILD; i++)
		if (u->child[i].used)
			child_free(u, &u->child[i]);
	if (u->tun_fd >= 0) {
		eloop_del_fd(u->loop, u->tun_fd);
		close(u->tun_fd); /* the device, its addresses and routes go */
	}
	free(u);
}

static const struct dp_ops user_ops = {
    .name = "user",
    .set_vip = user_set_vip,
    .add_child = user_add_child,
    .update_endpoints = user_update_endpoints,
    .del_child = user_del_child,
    .counters = user_counters,
    .free = user_free,
};

static int tun_setup(struct dp_user *u)
{
	int rc;

	u->tun_fd = tun_open(u->ifname);
	if (u->tun_fd < 0)
		return u->tun_fd;
	if ((rc = u->ifindex = nl_ifindex(u->ifname)) < 0 ||
	    (rc = nl_link_set_mtu(u->ifindex, DP_USER_MTU)) ||
	    (rc = nl_link_set_up(u->ifindex, true)))
		return rc;
	return eloop_add_fd(u->loop, u->tun_fd, EPOLLIN, tun_readable, u);
}

struct dp *dp_user_new(struct eloop *l, int udp_fd, const char *tun_name,
		       dp_event_cb cb, void *arg)
{
	struct dp_user *u = calloc(1, sizeof(*u));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int rc;

	if (!u)
		return NULL;
	u->base = (struct dp){.ops = &user_ops, .on_event = cb, .arg = arg};
	u->loop = l;
	u->udp_fd = udp_fd;
	u->tun_fd = -1;
	u->udp_family =
	    getsockname(udp_fd, (struct sockaddr *)&ss, &sl) ? 0 : ss.ss_family;
	snprintf(u->ifname, sizeof(u->ifname), "%s", tun_name);
	if ((rc = tun_setup(u))) {
		log_err("%s: TUN set-up failed: %s", u->ifname, strerror(-rc));
		user_free(&u->base);
		return NULL;
	}
	log_info("%s: userspace ESP data plane up (ifindex %d, MTU %d)",
		 u->ifname, u->ifindex, DP_USER_MTU);
	return &u->base;
}
