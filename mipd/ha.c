/*
 * ha.c - home agent registration processing (RFC 5944 3.8) and binding
 * lifecycle: tunnel routes and proxy ARP follow the binding cache.
 * See ha.h for the order of checks.
 */
#define LOG_TAG "ha"

#include "mipd/ha.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/agent_adv.h"
#include "mipd/ha_int.h"
#include "mipd/homelink.h"
#include "mipd/ratelimit.h"
#include "mipd/reg_msg.h"
#include "mipd/sock.h"
#include "mipd/tunnel.h"

#define RL_ENTRIES 4096

/* ---- mobile nodes by home address ---- */

static int mn_index(struct ha *h)
{
	size_t n = 16;

	while (n < h->conf->nmns * 2)
		n *= 2;
	h->mn_tab = calloc(n, sizeof(*h->mn_tab));
	h->mns = calloc(h->conf->nmns ? h->conf->nmns : 1, sizeof(*h->mns));
	if (!h->mn_tab || !h->mns)
		return -1;
	h->mn_mask = n - 1;
	for (size_t i = 0; i < h->conf->nmns; i++) {
		uint32_t s = ha_mn_hash(h->conf->mns[i].hoa.s_addr, h->mn_mask);

		while (h->mn_tab[s])
			s = (s + 1) & (uint32_t)h->mn_mask;
		h->mn_tab[s] = (uint32_t)i + 1;
	}
	return 0;
}

struct ha_mn *ha_mn_find(const struct ha *h, uint32_t hoa)
{
	uint32_t s = ha_mn_hash(hoa, h->mn_mask);

	for (uint32_t i; (i = h->mn_tab[s]) != 0;
	     s = (s + 1) & (uint32_t)h->mn_mask)
		if (h->conf->mns[i - 1].hoa.s_addr == hoa)
			return &h->mns[i - 1];
	return NULL;
}

size_t ha_mn_mem_bytes(const struct ha *h)
{
	const struct ha_conf *c = h->conf;

	return (h->mn_tab ? (h->mn_mask + 1) * sizeof(*h->mn_tab) : 0) +
	       c->nmns * (sizeof(*h->mns) + sizeof(*c->mns)) + c->keys_cap;
}

/* ---- kernel side of a binding ---- */

/* 0, or -1 when packets for the node cannot reach the tunnel. */
static int kernel_bind(struct ha *h, const struct binding *b)
{
	uint32_t hoa = b->info.hoa;
	int rc;

	if (!h->dataplane)
		return 0;
	if (h->tun && (rc = tunnel_route_add(h->tun, hoa)) < 0) {
		h->st.kernel_err++;
		log_warn("route for %s into %s: %s; refusing the binding "
			 "(128)",
			 ha_ip(hoa), tunnel_name(h->tun), strerror(-rc));
		return -1;
	}
	if (h->home_ifindex <= 0)
		return 0;
	if ((rc = homelink_proxy_add(h->home_ifindex, hoa)) < 0) {
		h->st.kernel_err++;
		log_warn("proxy ARP for %s on %s: %s", ha_ip(hoa),
			 h->conf->interface, strerror(-rc));
	}
	/* RFC 5944 4.6: move the node's address to our MAC at once */
	if (homelink_garp(h->home_ifindex, hoa) < 0)
		h->st.kernel_err++;
	return 0;
}

static void kernel_unbind(struct ha *h, uint32_t hoa)
{
	if (!h->dataplane)
		return;
	if (h->tun && tunnel_route_del(h->tun, hoa) < 0)
		h->st.kernel_err++;
	if (h->home_ifindex > 0 && homelink_proxy_del(h->home_ifindex, hoa) < 0)
		h->st.kernel_err++;
}

static void on_expire(void *arg, const struct binding *b)
{
	struct ha *h = arg;

	h->st.expired++;
	log_info("binding %s -> %s expired", ha_ip(b->info.hoa),
		 ha_ip(b->info.coa));
	ha_bcast_track(h, b->info.hoa, false);
	kernel_unbind(h, b->info.hoa);
}

/* ---- request checks; each returns a reply code or -1 to go on ----
 *
 * The home agent's own reply codes (RFC 5944 3.4, RFC 3024 4.2, RFC 3519
 * 3.2) and where they come from:
 *
 *   0/1  accepted; 1 when S was set (one binding per node, see bcache.h)
 *   128  unspecified: the binding's route into the tunnel failed
 *   129  administratively prohibited: a home address outside
 *        ha.home_prefix, or a node configured `enabled = false`
 *   130  insufficient resources: binding cache full (ha.max_bindings)
 *   131  MN failed authentication: no SA for the home address, no or a
 *        wrong MN-HA authenticator
 *   132  FA failed authentication: never, no FA-HA SAs are configured
 *   133  identification mismatch: timestamp outside the window or not
 *        newer, or not the nonce we gave (RFC 5944 5.7)
 *   134  poorly formed request (ha_handle, from the codec)
 *   135  too many simultaneous bindings: S set, a binding for another
 *        care-of address exists and ha.max_simultaneous_bindings is 1
 *   136  unknown home agent address: the reply names ours (3.8.3.1)
 *   137  reverse tunnel unavailable: T with ha.reverse_tunnel "off"
 *   138  reverse tunnel mandatory: no T with ha.reverse_tunnel "required"
 *   139  encapsulation unavailable: M or G (only IP-in-IP and RFC 3519)
 *   142  UDP encapsulation unavailable: ha.udp_tunnel false, or an inner
 *        protocol other than IPv4 asked for
 */

static bool in_home_prefix(const struct ha_conf *c, uint32_t a)
{
	uint32_t mask = c->plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> c->plen);

	return c->plen == 0 ||
	       (ntohl(a) & mask) == (ntohl(c->prefix.s_addr) & mask);
}

static uint64_t ntp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return reg_ntp_from_timespec(&ts, 0);
}

static int check_auth(struct ha *h, struct ha_req *r)
{
	int res;

	if (!r->mn && !in_home_prefix(h->conf, r->m.rq.home.s_addr)) {
		/* not a home address we could ever serve */
		log_info("request for %s from %s: outside home prefix; "
			 "replying 129",
			 ha_ip(r->m.rq.home.s_addr), ha_ip(r->from->src));
		return MIP4_HA_ADMIN_PROHIBITED;
	}
	if (!r->mn) {
		/* no security association: nothing can authenticate it */
		log_info("request for unknown home address %s from %s",
			 ha_ip(r->m.rq.home.s_addr), ha_ip(r->from->src));
		return MIP4_HA_MN_AUTH_FAILED;
	}
	res = reg_auth_verify(&r->m, r->m.has_mnha ? &r->m.mnha : NULL, &r->sa,
			      1);
	if (res == REG_AUTH_OK)
		return -1;
	h->st.auth_failed++;
	if (res == REG_AUTH_FAIL)
		log_warn("mobile node %s: authentication failed: wrong key? "
			 "(SPI %u, from %s)",
			 ha_ip(r->m.rq.home.s_addr), r->sa.spi,
			 ha_ip(r->from->src));
	else
		log_warn("mobile node %s: %s (SPI %u)",
			 ha_ip(r->m.rq.home.s_addr), reg_auth_result_name(res),
			 r->m.has_mnha ? r->m.mnha.spi : 0);
	return MIP4_HA_MN_AUTH_FAILED;
}

/* RFC 5944 5.7: the reply's Identification per replay mode. */
static int check_id(struct ha *h, struct ha_req *r)
{
	struct reg_replay *rp = &r->mn->rp;
	uint64_t id = r->m.rq.id;
	int res;

	if (h->conf->replay == REG_REPLAY_NONCE) {
		res = reg_nonce_check(rp, id);
		/* RFC 5944 5.7.2: a nonce serves one request.  A new one only
		 * when this request used the current one up (or there is none
		 * yet): a replayed request never matches, so it cannot rotate
		 * the nonce away from the node that holds it. */
		if (res == REG_ID_OK || !rp->have_nonce) {
			uint32_t fresh;

			/* a guessable nonce protects nothing */
			if (random32(&fresh) < 0) {
				log_err("no random bytes for a nonce; "
					"replying 128");
				return MIP4_HA_UNSPECIFIED;
			}
			reg_nonce_set(rp, fresh);
		}
		r->reply_id = reg_nonce_reply_id(rp, id);
	} else {
		res = reg_ts_check(rp, id, r->now, h->conf->window);
		r->reply_id =
		    res == REG_ID_OK ? id : reg_ts_mismatch_id(id, r->now);
	}
	if (res == REG_ID_OK) {
		reg_id_accept(rp, id);
		return -1;
	}
	h->st.id_mismatch++;
	log_info("mobile node %s: identification %s; replying 133",
		 ha_ip(r->m.rq.home.s_addr),
		 h->conf->replay == REG_REPLAY_NONCE
		     ? "not the nonce we gave (stale or replayed)"
		 : res == REG_ID_REPLAY ? "replayed"
					: "outside the window");
	return MIP4_HA_ID_MISMATCH;
}

/* RFC 5944 3.8.2.1: the Home Agent field must be one of ours. */
static int check_ha_addr(struct ha *h, struct ha_req *r)
{
	uint32_t ours =
	    h->conf->address.s_addr ? h->conf->address.s_addr : r->from->dst;

	r->haa = ours;
	return r->m.rq.ha.s_addr == ours ? -1 : MIP4_HA_UNKNOWN_HA;
}

/* A configured node switched off: it may still deregister. */
static int check_admin(struct ha *h, struct ha_req *r)
{
	if (!(ha_mn_entry(h, r->mn)->flags & MN_ENTRY_DISABLED) ||
	    ha_is_dereg(&r->m.rq))
		return -1;
	log_info("mobile node %s is disabled (enabled = false): replying 129",
		 ha_ip(r->m.rq.home.s_addr));
	return MIP4_HA_ADMIN_PROHIBITED;
}

/* RFC 3024 4.2: the T bit against ha.reverse_tunnel. */
static int check_revtun(struct ha *h, struct ha_req *r)
{
	bool t = r->m.rq.flags & MIP4_RRQ_T;

	if (ha_is_dereg(&r->m.rq))
		return -1;
	if (t && h->conf->reverse_tunnel == HA_REVTUN_OFF)
		return MIP4_HA_REVTUN_UNAVAIL;
	if (!t && h->conf->reverse_tunnel == HA_REVTUN_REQUIRED)
		return MIP4_HA_REVTUN_MANDATORY;
	return -1;
}

/* RFC 5944 3.6.1.2: S asks to keep the other care-of addresses; we keep
 * at most max_simultaneous (0 = S ignored, the new one replaces). */
static int check_simul(struct ha *h, struct ha_req *r)
{
	const struct binding *b;

	if (!h->conf->max_simultaneous || !(r->m.rq.flags & MIP4_RRQ_S) ||
	    ha_is_dereg(&r->m.rq))
		return -1;
	b = bcache_lookup(h->bc, r->m.rq.home.s_addr);
	if (!b || b->info.coa == r->m.rq.coa.s_addr)
		return -1;
	log_info("mobile node %s: S set with a binding to %s already; "
		 "replying 135",
		 ha_ip(r->m.rq.home.s_addr), ha_ip(b->info.coa));
	return MIP4_HA_TOO_MANY_BINDINGS;
}

/* RFC 3519 3.2 / 4.2: IP-in-UDP when asked and a NAT sits between the
 * care-of address and us (outer source differs from the CoA), or when
 * the F bit forces it.  Only IPv4 inside the UDP tunnel is offered. */
static int check_encap(struct ha *h, struct ha_req *r)
{
	const struct reg_udp_req *u = &r->m.udp_req;
	bool nat = r->from->src != r->m.rq.coa.s_addr;

	/* RFC 5944 3.8.2.1: minimal and GRE encapsulation not offered */
	if (r->m.rq.flags & (MIP4_RRQ_M | MIP4_RRQ_G))
		return MIP4_HA_ENCAP_UNAVAIL;
	r->encap = BCACHE_ENCAP_IPIP;
	if (!r->m.has_udp_req || !(nat || (u->flags & MIP4_UDP_REQ_F)))
		return -1;
	if (!h->conf->udp_tunnel || u->encap != MIP4_ENCAP_IPIP)
		return MIP4_HA_UDP_ENCAP_UNAVAIL;
	r->encap = BCACHE_ENCAP_UDP;
	return -1;
}

static uint16_t grant_lifetime(const struct ha *h, uint16_t asked)
{
	/* RFC 5944 3.8.3.1: the reply carries the lifetime granted */
	return asked > h->conf->max_lifetime ? h->conf->max_lifetime : asked;
}

static int bind_update(struct ha *h, struct ha_req *r)
{
	struct binding_info bi = {
	    .ident = r->m.rq.id,
	    .hoa = r->m.rq.home.s_addr,
	    .coa = r->m.rq.coa.s_addr,
	    .haa = r->haa,
	    .nat_addr = r->from->src,
	    .nat_port = r->from->sport,
	    .lifetime = ha_is_dereg(&r->m.rq) ? 0 : r->lifetime,
	    .flags = r->m.rq.flags,
	    .encap = (uint8_t)r->encap,
	};
	const struct binding *b = NULL;

	switch (bcache_update(h->bc, &bi, &b)) {
	case BCACHE_ADDED:
		log_info("binding %s -> %s added (%s, %us)", ha_ip(bi.hoa),
			 ha_ip(bi.coa),
			 bi.encap == BCACHE_ENCAP_UDP ? "IP-in-UDP"
						      : "IP-in-IP",
			 bi.lifetime);
		if (kernel_bind(h, b) < 0) {
			bcache_remove(h->bc, bi.hoa);
			kernel_unbind(h, bi.hoa);
			ha_bcast_track(h, bi.hoa, false);
			return MIP4_HA_UNSPECIFIED;
		}
		ha_bcast_track(h, bi.hoa, bi.flags & MIP4_RRQ_B);
		return -1;
	case BCACHE_UPDATED:
		ha_bcast_track(h, bi.hoa, bi.flags & MIP4_RRQ_B);
		return -1;
	case BCACHE_REMOVED:
		h->st.deregistered++;
		log_info("binding %s deregistered", ha_ip(bi.hoa));
		ha_bcast_track(h, bi.hoa, false);
		kernel_unbind(h, bi.hoa);
		return -1;
	case BCACHE_NOT_FOUND:
		return -1;
	default:
		log_warn("binding cache full (%zu): refusing %s",
			 bcache_count(h->bc), ha_ip(bi.hoa));
		return MIP4_HA_NO_RESOURCES;
	}
}

static int process(struct ha *h, struct ha_req *r)
{
	int code;

	if ((code = check_auth(h, r)) >= 0 || (code = check_id(h, r)) >= 0 ||
	    (code = check_ha_addr(h, r)) >= 0 ||
	    (code = check_admin(h, r)) >= 0 ||
	    (code = check_revtun(h, r)) >= 0 || (code = check_encap(h, r)) >= 0)
		return code;
	r->lifetime = grant_lifetime(h, r->m.rq.lifetime);
	if ((code = check_simul(h, r)) >= 0 || (code = bind_update(h, r)) >= 0)
		return code;
	/* RFC 5944 3.8.3.1: 1 when S was asked, we keep one binding */
	return r->m.rq.flags & MIP4_RRQ_S ? MIP4_ACCEPTED_NO_SIMUL
					  : MIP4_ACCEPTED;
}

/* ---- entry point ---- */

size_t ha_handle(struct ha *h, const uint8_t *pkt, size_t len,
		 const struct ha_from *from, uint8_t *reply, size_t cap)
{
	struct ha_req r = {.from = from};
	uint8_t type = 0;
	struct rbuf in;
	int err, code;

	rb_init(&in, pkt, len);
	if (rb_peek_u8(&in, &type) == 0 && type == MIP4_TUNNEL_DATA) {
		h->st.tunnel_msgs++;
		if (h->tun)
			tunnel_udp_input(h->tun, pkt, len, from->src,
					 from->sport);
		return 0;
	}
	h->st.rx++;
	if (!ratelimit_allow(h->rl, from->src, mono_ns())) {
		h->st.rate_limited++;
		return 0;
	}
	err = reg_parse_request(&r.m, pkt, len);
	r.mn = err == REG_OK || !reg_err_discard(err)
		   ? ha_mn_find(h, r.m.rq.home.s_addr)
		   : NULL;
	if (r.mn)
		r.sa = mn_entry_sa(h->conf, ha_mn_entry(h, r.mn));
	r.now = ntp_now();
	r.reply_id = r.m.rq.id;
	if (err != REG_OK) {
		h->st.malformed++;
		log_debug("malformed request from %s: %s", ha_ip(from->src),
			  reg_err_name(err));
		if (reg_err_discard(err))
			return 0;
		code = MIP4_HA_BAD_REQUEST;
	} else {
		code = process(h, &r);
	}
	if (code < MIP4_HA_UNSPECIFIED)
		h->st.accepted++;
	else
		h->st.denied++;
	return ha_build_reply(h, &r, code, reply, cap);
}

/* ---- socket ---- */

static void on_udp(void *arg, int fd, uint32_t events)
{
	struct ha *h = arg;

	/* one batch: a flood must not starve timers and the control socket */
	(void)ha_recv_batch(h, fd);
}

struct ha *ha_new(struct eloop *l, const struct ha_conf *conf, bool dataplane)
{
	struct ha *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = l;
	h->conf = conf;
	h->dataplane = dataplane;
	h->fd = -1;
	agent_adv_init(&h->adv);
	h->bcast.fd = -1;
	h->bc = bcache_new(l, conf->max_bindings, on_expire, h);
	h->rl = ratelimit_new(RL_ENTRIES, conf->rate, conf->burst);
	if (!h->bc || !h->rl || mn_index(h) < 0) {
		ha_free(h);
		return NULL;
	}
	return h;
}

void ha_adv_cfg(const struct ha *h, uint32_t addr, uint8_t plen,
		struct agent_adv_cfg *c)
{
	const struct ha_conf *hc = h->conf;

	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", hc->interface);
	c->ifindex = h->home_ifindex;
	c->addr = addr;
	c->plen = plen;
	/* the home link has its own router: we only do mobility */
	c->code = MIP4_ADV_CODE_NO_ROUTE;
	c->pref = AGENT_ADV_PREF_NEVER;
	c->flags = MIP4_ADV_H;
	if (hc->reverse_tunnel != HA_REVTUN_OFF)
		c->flags |= MIP4_ADV_T;
	c->reg_lifetime = hc->max_lifetime;
	c->interval_ms = hc->adv_interval_ms;
	c->lifetime = hc->adv_lifetime;
	c->prefix_lengths = hc->prefix_lengths;
}

/* RFC 5944 2.3: H-bit advertisements on the home link, so a node that
 * comes home hears it is there. */
static int start_adv(struct ha *h)
{
	struct agent_adv_cfg c;
	uint32_t addr;
	uint8_t plen = 32;
	int rc = agent_if_address(h->conf->interface, h->conf->address.s_addr,
				  &addr, &plen);

	if (rc < 0) {
		log_err("advertise on %s: no IPv4 address%s%s there: %s",
			h->conf->interface, h->conf->address.s_addr ? " " : "",
			h->conf->address.s_addr ? ha_ip(h->conf->address.s_addr)
						: "",
			strerror(-rc));
		return -1;
	}
	ha_adv_cfg(h, addr, plen, &c);
	c.sent = &h->st.adv_sent;
	c.sol_rx = &h->st.sol_rx;
	c.send_err = &h->st.send_err;
	if (agent_adv_open(&h->adv, h->loop, &c) < 0)
		return -1;
	log_info("advertising as home agent %s on %s every %u ms", ha_ip(addr),
		 h->conf->interface, h->conf->adv_interval_ms);
	return 0;
}

static int start_dataplane(struct ha *h)
{
	struct tunnel_cfg tc = {.udp_fd = h->fd, .lookup = ha_lookup, .arg = h};

	if (h->conf->interface[0]) {
		h->home_ifindex = nl_ifindex(h->conf->interface);
		if (h->home_ifindex < 0) {
			log_err("home link %s: %s", h->conf->interface,
				strerror(-h->home_ifindex));
			return -1;
		}
	}
	if (homelink_enable_forwarding(h->conf->interface) < 0)
		log_warn("cannot enable IPv4 forwarding: tunnelled packets "
			 "will not be forwarded");
	snprintf(tc.name, sizeof(tc.name), "%s", h->conf->tunnel);
	h->tun = tunnel_open(h->loop, &tc);
	if (!h->tun)
		return -1;
	if (h->home_ifindex > 0 &&
	    (h->conf->fwd_broadcast || h->conf->fwd_multicast) &&
	    ha_bcast_open(h) < 0)
		log_warn("home link %s: no broadcast forwarding (B bit)",
			 h->conf->interface);
	if (h->home_ifindex > 0 && h->conf->advertise && start_adv(h) < 0)
		return -1;
	return 0;
}

int ha_start(struct ha *h)
{
	h->fd = udp434_open(h->conf->port, UDP434_PKTINFO);
	if (h->fd < 0) {
		log_err("UDP port %u: %s", h->conf->port, strerror(-h->fd));
		return -1;
	}
	if (eloop_add_fd(h->loop, h->fd, EPOLLIN, on_udp, h) < 0)
		return -1;
	if (h->dataplane && start_dataplane(h) < 0)
		return -1;
	log_info("home agent on UDP %u: %zu mobile node%s, up to %u "
		 "bindings, replay protection by %s",
		 h->conf->port, h->conf->nmns, h->conf->nmns == 1 ? "" : "s",
		 h->conf->max_bindings,
		 h->conf->replay == REG_REPLAY_NONCE ? "nonce" : "timestamp");
	return 0;
}

static int unbind_visit(void *arg, const struct binding *b)
{
	kernel_unbind(arg, b->info.hoa);
	return 0;
}

void ha_free(struct ha *h)
{
	if (!h)
		return;
	agent_adv_close(&h->adv);
	ha_bcast_close(h);
	if (h->bc) {
		bcache_foreach(h->bc, unbind_visit, h);
		bcache_free(h->bc);
	}
	tunnel_close(h->tun);
	if (h->fd >= 0) {
		eloop_del_fd(h->loop, h->fd);
		close(h->fd);
	}
	ratelimit_free(h->rl);
	if (h->mns)
		explicit_bzero(h->mns, h->conf->nmns * sizeof(*h->mns));
	free(h->mns);
	free(h->mn_tab);
	free(h);
}
