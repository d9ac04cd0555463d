/*
 * mn.c - the mobile node role: what connects the policy engine
 * (policy/engine.c, events in, actions out) to the world.  See mn.h.
 *
 *   netlink --debounce 100 ms--> LINK_UP/DOWN, ADDR_USABLE/GONE, DHCP_LEASE
 *   mn_agent (advertisements) --> AGENT_ADV
 *   mn_reg (replies, timeouts) --> REG_REPLY / REG_TIMEOUT
 *   policy actions --> mn_reg_start/deregister/cancel, mn_path_set,
 *                      dhcpcd start/stop, timers
 *
 * Events raised while actions run (a VPN that is not configured answers
 * VPN_UP with VPN_DOWN) are queued and fed in order, so the engine never
 * re-enters itself.
 *
 * Timers: t_debounce (netlink, 100 ms), t_agent and t_retry (the engine's
 * POLICY_TIMER_AGENT and POLICY_TIMER_RETRY); mn_reg and mn_agent own
 * their retransmission timers.
 */
#define LOG_TAG "mn"

#include "mipd/mn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/eloop.h"
#include "common/log.h"
#include "mipd/homelink.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"
#include "mipd/mn_reg.h"
#include "mipd/sock.h"

#define DEBOUNCE_MS 100 /* netlink address/link bursts settle first */
#define MAX_ADDRS   8
#define QUEUE_LEN   16

struct mn_addr {
	bool used, present, reported;
	struct in_addr a;
	unsigned plen;
};

struct mn {
	struct eloop *loop;
	const struct mn_conf *conf;
	struct policy pol;
	struct mn_reg reg;
	struct mn_path path;
	struct mn_agent agent;
	struct mn_dhcp dhcp;
	int udp_fd;

	int ifindex;
	bool link_usable, link_dropped, reported_up;
	struct mn_addr addrs[MAX_ADDRS];
	struct timer t_debounce, t_agent, t_retry;

	struct policy_ev q[QUEUE_LEN];
	unsigned qhead, qlen;
	bool draining, vpn_warned;
	uint64_t mode_since_ns;
};

static const char *ip4(struct in_addr a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static unsigned next;
	char *s = buf[next++ % 4];

	return inet_ntop(AF_INET, &a, s, INET_ADDRSTRLEN);
}

/* ---- feeding the engine ---------------------------------------------- */

static void execute(struct mn *m, const struct policy_action *a);

static void drain(struct mn *m)
{
	struct policy_action acts[POLICY_MAX_ACTIONS];

	m->draining = true;
	while (m->qlen) {
		struct policy_ev ev = m->q[m->qhead];
		int n;

		m->qhead = (m->qhead + 1) % QUEUE_LEN;
		m->qlen--;
		log_debug("policy event %s", policy_ev_name(ev.type));
		n = policy_event(&m->pol, &ev, acts, POLICY_MAX_ACTIONS);
		for (int i = 0; i < n; i++)
			execute(m, &acts[i]);
	}
	m->draining = false;
}

static void feed(struct mn *m, const struct policy_ev *ev)
{
	if (m->qlen == QUEUE_LEN) {
		log_err("policy event queue full: %s dropped",
			policy_ev_name(ev->type));
		return;
	}
	m->q[(m->qhead + m->qlen) % QUEUE_LEN] = *ev;
	m->qlen++;
	if (!m->draining)
		drain(m);
}

static void feed_simple(struct mn *m, enum policy_ev_type t)
{
	struct policy_ev ev = {.type = t, .ifindex = m->ifindex};

	feed(m, &ev);
}

/* ---- actions ------------------------------------------------------------ */

static void garp(struct mn *m)
{
	/* RFC 5944 4.6: back home, take the home address back from the
	 * HA's proxy ARP in the neighbours' caches */
	if (m->ifindex > 0 &&
	    homelink_garp(m->ifindex, m->conf->home.s_addr) < 0)
		log_debug("gratuitous ARP for %s failed", ip4(m->conf->home));
}

static void send_rrq(struct mn *m, const struct policy_action *a)
{
	struct mn_reg_target t = {.coa = a->coa};

	if (a->via_fa) {
		t.path = MN_REG_VIA_FA;
		t.fa = a->fa_addr;
	} else {
		t.path = MN_REG_DIRECT;
	}
	mn_reg_start(&m->reg, &t);
}

/* Seed 002 3.4: VPN_UP comes with every new address.  Without mobiked
 * the answer is at once "no VPN", so the engine arms its retry. */
static void vpn_up(struct mn *m)
{
	if (!m->vpn_warned)
		log_warn("mode mc is not available: %s; on an untrusted "
			 "network the node stays unregistered and retries",
			 m->conf->vpn_enabled
			     ? "the mobiked interface is not in this version"
			     : "vpn.enabled is false");
	m->vpn_warned = true;
	feed_simple(m, POLICY_EV_VPN_DOWN);
}

static void timer_action(struct mn *m, const struct policy_action *a)
{
	struct timer *t =
	    a->timer == POLICY_TIMER_AGENT ? &m->t_agent : &m->t_retry;

	if (a->ms)
		timer_arm_ms(m->loop, t, a->ms);
	else
		timer_cancel(m->loop, t);
}

static void set_mode(struct mn *m, const struct policy_action *a)
{
	log_info("mode -> %s (%s)", access_mode_name(a->mode), a->why);
	m->mode_since_ns = mono_ns();
	/* no co-located address needed at home or behind an FA */
	if (a->mode == MODE_HOME || a->mode == MODE_F)
		mn_dhcp_stop(&m->dhcp);
}

static void execute(struct mn *m, const struct policy_action *a)
{
	log_debug("policy action %s (%s)", policy_act_name(a->type), a->why);
	switch (a->type) {
	case POLICY_ACT_SEND_RRQ_DIRECT:
		send_rrq(m, a);
		break;
	case POLICY_ACT_SEND_RRQ_VIA_VPN:
		break; /* never: VPN_UP is answered with VPN_DOWN */
	case POLICY_ACT_REG_CANCEL:
		mn_reg_cancel(&m->reg);
		break;
	case POLICY_ACT_DEREGISTER:
		mn_dhcp_stop(&m->dhcp);
		garp(m);
		mn_reg_deregister(&m->reg);
		break;
	case POLICY_ACT_VPN_UP:
		vpn_up(m);
		break;
	case POLICY_ACT_VPN_DOWN:
		break;
	case POLICY_ACT_SET_MODE:
		set_mode(m, a);
		break;
	case POLICY_ACT_ROUTES:
		mn_path_set(&m->path, a->mode, a->ifindex, a->coa,
			    m->pol.fa_addr);
		break;
	case POLICY_ACT_TIMER:
		timer_action(m, a);
		break;
	}
}

static void on_agent_timer(void *arg)
{
	struct mn *m = arg;
	struct policy_ev ev = {.type = POLICY_EV_TIMER,
			       .timer = POLICY_TIMER_AGENT};

	feed(m, &ev);
}

static void on_retry_timer(void *arg)
{
	struct mn *m = arg;
	struct policy_ev ev = {.type = POLICY_EV_TIMER,
			       .timer = POLICY_TIMER_RETRY};

	feed(m, &ev);
}

/* ---- registration ------------------------------------------------------- */

static enum policy_path policy_path(enum mn_reg_path p)
{
	return p == MN_REG_VIA_VPN ? POLICY_PATH_VPN
	       : p == MN_REG_HOME  ? POLICY_PATH_DEREG
				   : POLICY_PATH_DIRECT;
}

static void on_reg_result(void *arg, const struct mn_reg_result *r)
{
	struct mn *m = arg;
	struct policy_ev ev = {.type = POLICY_EV_REG_REPLY};

	ev.reply.path = policy_path(r->target.path);
	ev.reply.code = r->code;
	ev.reply.coa = r->target.coa;
	switch (r->outcome) {
	case MN_REG_ACCEPTED:
		/* a 136 may have moved us to another home agent address */
		mn_path_set_ha(&m->path, m->reg.ha);
		if (r->target.path == MN_REG_DIRECT)
			mn_path_set_udp(&m->path, r->udp_tunnel, r->keepalive);
		ev.reply.accepted = true;
		ev.reply.authenticated = true;
		break;
	case MN_REG_DEREGISTERED:
		ev.reply.accepted = true;
		garp(m);
		break;
	case MN_REG_DENIED:
		ev.reply.authenticated = r->authenticated;
		ev.reply.final = r->final;
		break;
	case MN_REG_TIMEOUT:
	case MN_REG_EXPIRED:
		/* The engine has no "expired": for the binding its mode
		 * stands on, a lapse is what a silent renewal is. */
		ev.type = POLICY_EV_REG_TIMEOUT;
		break;
	}
	feed(m, &ev);
}

static int reg_send(void *arg, const struct mn_reg_target *t,
		    const uint8_t *pkt, size_t len)
{
	struct mn *m = arg;
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(MIP4_PORT),
				 .sin_addr = m->reg.ha};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) +
			 CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {(void *)pkt, len};
	struct msghdr mh = {.msg_name = &to,
			    .msg_namelen = sizeof(to),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	/* the physical interface: a default route into mip0 must not
	 * swallow the request (RFC 5944 3.6.1.1 sources below) */
	struct in_pktinfo pi = {.ipi_ifindex = m->ifindex > 0 ? m->ifindex : 0};

	memset(u.buf, 0, sizeof(u.buf)); /* CMSG_NXTHDR reads ahead */
	switch (t->path) {
	case MN_REG_VIA_FA: /* from the home address to the agent */
		mn_path_prepare_fa(&m->path, m->ifindex, t->fa);
		to.sin_addr = t->fa;
		pi.ipi_spec_dst = m->conf->home;
		break;
	case MN_REG_HOME:
		pi.ipi_spec_dst = m->conf->home;
		break;
	case MN_REG_DIRECT: /* from the co-located care-of address */
		pi.ipi_spec_dst = t->coa;
		mn_keepalive_traffic(&m->path.ka); /* RFC 3519 3.2 */
		break;
	case MN_REG_VIA_VPN:
		pi.ipi_ifindex = 0;
		pi.ipi_spec_dst = t->coa;
		break;
	}
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (t->path == MN_REG_VIA_FA) {
		/* RFC 3024 3.3: the FA checks TTL 255 (on-link, else 76) */
		int ttl = 255;

		cm = CMSG_NXTHDR(&mh, cm);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_TTL;
		cm->cmsg_len = CMSG_LEN(sizeof(ttl));
		memcpy(CMSG_DATA(cm), &ttl, sizeof(ttl));
	} else {
		mh.msg_controllen = CMSG_SPACE(sizeof(pi));
	}
	if (sendmsg(m->udp_fd, &mh, 0) < 0) {
		log_debug("registration request to %s: %s", ip4(to.sin_addr),
			  strerror(errno));
		return -1;
	}
	return 0;
}

static void on_udp(void *arg, int fd, uint32_t events)
{
	struct mn *m = arg;
	uint8_t buf[2048];

	for (int i = 0; i < 64; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		uint8_t type;
		struct rbuf r;

		if (n <= 0)
			return;
		rb_init(&r, buf, (size_t)n);
		if (rb_peek_u8(&r, &type) == 0 && type == MIP4_TUNNEL_DATA)
			mn_path_udp_input(&m->path, buf, (size_t)n,
					  from.sin_addr.s_addr);
		else
			mn_reg_input(&m->reg, buf, (size_t)n, from.sin_addr);
	}
}

/* ---- netlink ------------------------------------------------------------- */

static bool in_home_prefix(const struct mn_conf *c, struct in_addr a)
{
	uint32_t mask =
	    c->home_plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> c->home_plen);

	return (ntohl(a.s_addr) & mask) == (ntohl(c->home.s_addr) & mask);
}

/* The home address as /32 on the link is ours (mode f), not "home". */
static bool self_added(const struct mn *m, const struct mn_addr *s)
{
	return s->a.s_addr == m->conf->home.s_addr && s->plen == 32 &&
	       m->conf->home_plen != 32;
}

static bool home_on_link(const struct mn *m)
{
	for (int i = 0; i < MAX_ADDRS; i++) {
		const struct mn_addr *s = &m->addrs[i];

		if (s->used && s->present && !self_added(m, s) &&
		    in_home_prefix(m->conf, s->a))
			return true;
	}
	return false;
}

static void link_down(struct mn *m)
{
	m->reported_up = false;
	mn_dhcp_stop(&m->dhcp);
	for (int i = 0; i < MAX_ADDRS; i++)
		m->addrs[i].reported = false;
	feed_simple(m, POLICY_EV_LINK_DOWN);
}

static void link_up(struct mn *m)
{
	m->reported_up = true;
	feed_simple(m, POLICY_EV_LINK_UP);
	/* seed 002 3.2: FA discovery and DHCP at the same time */
	mn_agent_solicit(&m->agent, m->ifindex);
	if (!home_on_link(m))
		mn_dhcp_start(&m->dhcp);
}

static void report_addr(struct mn *m, struct mn_addr *s)
{
	struct policy_ev ev = {.ifindex = m->ifindex, .addr = s->a};

	s->reported = true;
	if (self_added(m, s))
		return;
	ev.is_home = in_home_prefix(m->conf, s->a);
	ev.type = !ev.is_home && m->dhcp.pid > 0 ? POLICY_EV_DHCP_LEASE
						 : POLICY_EV_ADDR_USABLE;
	log_info("address %s/%u on %s%s", ip4(s->a), s->plen,
		 m->conf->interface, ev.is_home ? ": at home" : "");
	if (ev.is_home)
		mn_dhcp_stop(&m->dhcp);
	feed(m, &ev);
}

static void settle(void *arg)
{
	struct mn *m = arg;

	if (m->link_dropped && m->reported_up)
		link_down(m);
	m->link_dropped = false;
	if (m->link_usable && !m->reported_up)
		link_up(m);
	for (int i = 0; i < MAX_ADDRS; i++) {
		struct mn_addr *s = &m->addrs[i];
		struct policy_ev ev = {.type = POLICY_EV_ADDR_GONE,
				       .ifindex = m->ifindex,
				       .addr = s->a};

		if (!s->used || s->present)
			continue;
		if (s->reported && !self_added(m, s))
			feed(m, &ev);
		s->used = false;
	}
	if (!m->link_usable) {
		if (m->reported_up)
			link_down(m);
		return;
	}
	for (int i = 0; i < MAX_ADDRS; i++)
		if (m->addrs[i].used && m->addrs[i].present &&
		    !m->addrs[i].reported)
			report_addr(m, &m->addrs[i]);
}

static void on_link(struct mn *m, const struct nl_event *ev)
{
	bool usable =
	    ev->type == NL_LINK_NEW && ev->link.up && ev->link.carrier;

	if (strcmp(ev->link.name, m->conf->interface) != 0 &&
	    ev->link.ifindex != m->ifindex)
		return;
	if (ev->type == NL_LINK_DEL) {
		m->ifindex = -1;
		memset(m->addrs, 0, sizeof(m->addrs));
	} else {
		m->ifindex = ev->link.ifindex;
	}
	if (m->link_usable && !usable)
		m->link_dropped = true;
	m->link_usable = usable;
	timer_arm_ms(m->loop, &m->t_debounce, DEBOUNCE_MS);
}

static struct mn_addr *addr_slot(struct mn *m, struct in_addr a, unsigned plen,
				 bool create)
{
	struct mn_addr *free_slot = NULL;

	for (int i = 0; i < MAX_ADDRS; i++) {
		struct mn_addr *s = &m->addrs[i];

		if (s->used && s->a.s_addr == a.s_addr && s->plen == plen)
			return s;
		if (!s->used && !free_slot)
			free_slot = s;
	}
	if (!create || !free_slot)
		return NULL;
	*free_slot = (struct mn_addr){.used = true, .a = a, .plen = plen};
	return free_slot;
}

static void on_addr(struct mn *m, const struct nl_event *ev)
{
	struct mn_addr *s;

	if (ev->addr.ifindex != m->ifindex || ev->addr.addr.family != AF_INET)
		return;
	s = addr_slot(m, ev->addr.addr.v4, ev->addr.plen,
		      ev->type == NL_ADDR_NEW);
	if (!s)
		return;
	s->present = ev->type == NL_ADDR_NEW;
	timer_arm_ms(m->loop, &m->t_debounce, DEBOUNCE_MS);
}

/* The visited link's router, from the default route dhcpcd adds; ours
 * are RTPROT_STATIC and not learnt from. */
static void on_route(struct mn *m, const struct nl_event *ev)
{
	const struct nl_route *r = &ev->route;
	struct in_addr none = {0};

	if (r->family != AF_INET || r->dst_len || r->oif != m->ifindex ||
	    r->gateway.family != AF_INET || r->protocol == RTPROT_STATIC ||
	    (r->table && r->table != RT_TABLE_MAIN))
		return;
	if (ev->type == NL_ROUTE_NEW)
		mn_path_set_gateway(&m->path, r->gateway.v4);
	else if (m->path.gw.s_addr == r->gateway.v4.s_addr)
		mn_path_set_gateway(&m->path, none);
}

void mn_on_nl(struct mn *m, const struct nl_event *ev)
{
	if (!m)
		return;
	switch (ev->type) {
	case NL_LINK_NEW:
	case NL_LINK_DEL:
		on_link(m, ev);
		break;
	case NL_ADDR_NEW:
	case NL_ADDR_DEL:
		on_addr(m, ev);
		break;
	case NL_ROUTE_NEW:
	case NL_ROUTE_DEL:
		on_route(m, ev);
		break;
	}
}

/* ---- agent advertisements and dhcpcd ------------------------------------- */

static void on_adv(void *arg, const struct policy_ev *ev)
{
	feed(arg, ev);
}

static void on_sigchld(void *arg, int signo)
{
	struct mn *m = arg;

	mn_dhcp_reap(&m->dhcp);
}

/* ---- lifecycle ------------------------------------------------------------
 */

static void reg_conf(const struct mn_conf *c, struct mn_reg_conf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->home = c->home;
	rc->ha = c->ha;
	rc->sa = c->sa;
	rc->lifetime = c->lifetime;
	rc->reverse_tunnel = c->reverse_tunnel;
	rc->udp_tunnel = c->nat_traversal;
	rc->force_udp = c->force_udp;
	snprintf(rc->nai, sizeof(rc->nai), "%s", c->nai);
	rc->retx_initial_ms = c->retx_initial_ms;
	rc->tries = c->tries;
}

/* Tests only: a clock this many seconds off makes the HA answer 133. */
static void test_clock_skew(struct mn *m)
{
	const char *s = getenv("MIPD_TEST_CLOCK_SKEW");

	if (!s || !*s)
		return;
	m->reg.clock_offset = strtoll(s, NULL, 10);
	log_warn("MIPD_TEST_CLOCK_SKEW: identification clock off by %+lld s "
		 "(test setting)",
		 (long long)m->reg.clock_offset);
}

struct mn *mn_new(struct eloop *l, const struct mn_conf *conf)
{
	struct mn *m = calloc(1, sizeof(*m));
	struct policy_conf pc = {.keep_vpn_when_trusted =
				     conf->keep_vpn_when_trusted,
				 .retry_ms = conf->retry_ms};
	struct mn_reg_io io = {.send = reg_send, .result = on_reg_result};
	struct mn_reg_conf rc;

	if (!m)
		return NULL;
	m->loop = l;
	m->conf = conf;
	m->udp_fd = -1;
	m->ifindex = -1;
	m->path.tun_fd = m->path.raw_fd = -1;
	m->agent.fd = -1;
	io.arg = m;
	timer_init(&m->t_debounce, settle, m);
	timer_init(&m->t_agent, on_agent_timer, m);
	timer_init(&m->t_retry, on_retry_timer, m);
	policy_init(&m->pol, &pc);
	mn_dhcp_init(&m->dhcp, l, conf);
	reg_conf(conf, &rc);
	if (mn_reg_init(&m->reg, l, &rc, &io) < 0) {
		explicit_bzero(&rc, sizeof(rc));
		free(m);
		return NULL;
	}
	explicit_bzero(&rc, sizeof(rc));
	test_clock_skew(m);
	return m;
}

int mn_start(struct mn *m)
{
	m->udp_fd = udp434_open(MIP4_PORT, 0);
	if (m->udp_fd < 0) {
		log_err("UDP port %u: %s", MIP4_PORT, strerror(-m->udp_fd));
		return -1;
	}
	if (eloop_add_fd(m->loop, m->udp_fd, EPOLLIN, on_udp, m) < 0 ||
	    eloop_add_signal(m->loop, SIGCHLD, on_sigchld, m) < 0 ||
	    mn_path_open(&m->path, m->loop, m->conf, m->udp_fd, true) < 0 ||
	    mn_agent_open(&m->agent, m->loop, m->conf, &m->reg.ha, on_adv, m) <
		0)
		return -1;
	m->ifindex = nl_ifindex(m->conf->interface);
	log_info("mobile node %s, home agent %s, on %s (%s), tunnel %s",
		 ip4(m->conf->home), ip4(m->conf->ha), m->conf->interface,
		 m->ifindex > 0 ? "present" : "waiting for it",
		 m->path.tun_name);
	return 0;
}

void mn_free(struct mn *m)
{
	if (!m)
		return;
	mn_dhcp_fini(&m->dhcp);
	mn_agent_close(&m->agent);
	mn_reg_fini(&m->reg);
	explicit_bzero(&m->reg.conf.sa, sizeof(m->reg.conf.sa));
	if (m->loop && m->path.conf)
		mn_path_close(&m->path);
	eloop_cancel_owner(m->loop, m);
	if (m->udp_fd >= 0) {
		eloop_del_fd(m->loop, m->udp_fd);
		close(m->udp_fd);
	}
	free(m);
}

/* ---- control ----------------------------------------------------------------
 */

void mn_ctl_status(const struct mn *m, struct jw *out)
{
	struct mn_reg_status st;
	char b[INET_ADDRSTRLEN];

	mn_reg_status(&m->reg, &st);
	jw_str(out, "mode", access_mode_name(policy_mode(&m->pol)));
	jw_uint(out, "mode_for_s",
		m->mode_since_ns ? (mono_ns() - m->mode_since_ns) / NS_PER_S
				 : 0);
	jw_str(out, "trust", policy_trust_name(m->pol.trust));
	jw_str(out, "registration", mn_reg_state_name(st.state));
	jw_str(out, "reg_path", mn_reg_path_name(st.path));
	jw_str(out, "home_address", ip4(st.home));
	jw_str(out, "home_agent", ip4(st.ha));
	jw_str(out, "coa", st.coa.s_addr ? ip4(st.coa) : "");
	jw_uint(out, "lifetime_granted", st.granted);
	if (st.remaining == UINT32_MAX)
		jw_str(out, "lifetime_remaining", "infinite");
	else
		jw_uint(out, "lifetime_remaining", st.remaining);
	jw_int(out, "last_code", st.last_code);
	jw_str(out, "last_code_name",
	       st.last_code < 0 ? "" : reg_code_name((uint8_t)st.last_code));
	jw_uint(out, "tries", st.tries);
	/* 131s change nothing (mn_reg.h); these say they came */
	jw_uint(out, "unverified_131", st.unverified_131);
	jw_uint(out, "forged_131", st.forged_131);
	jw_str(out, "replay",
	       st.replay == REG_REPLAY_NONCE ? "nonce" : "timestamp");
	if (st.replay == REG_REPLAY_NONCE)
		jw_bool(out, "ha_nonce_known", st.have_nonce);
	else
		jw_int(out, "clock_offset_s", st.clock_offset);
	snprintf(b, sizeof(b), "%s", m->pol.have_fa ? ip4(m->pol.fa_addr) : "");
	jw_str(out, "fa", b);
	jw_str(out, "fa_coa", m->pol.have_fa ? ip4(m->pol.fa_coa) : "");
	jw_str(out, "interface", m->conf->interface);
	jw_int(out, "ifindex", m->ifindex);
	jw_int(out, "dhcp_pid", m->dhcp.pid);
	jw_str(out, "tunnel", m->path.tun_name);
	jw_str(out, "tunnel_encap", m->path.udp ? "ip-in-udp" : "ip-in-ip");
	jw_uint(out, "tunnel_tx", m->path.st.tx_ipip + m->path.st.tx_udp);
	jw_uint(out, "tunnel_rx", m->path.st.rx_ipip + m->path.st.rx_udp);
	jw_uint(out, "tunnel_drops", m->path.st.tx_drop + m->path.st.rx_drop);
	mn_keepalive_status(&m->path.ka, out);
	jw_uint(out, "adv_rx", m->agent.adv_rx);
	jw_uint(out, "sol_tx", m->agent.sol_tx);
}
