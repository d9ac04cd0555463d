/*
 * engine.c - the access-mode policy engine: one handler per event, each
 * updating struct policy and appending actions.  No I/O, no clock, no
 * logging: what happened and why is in the actions' `why` text, which the
 * caller logs.  See policy.h for the rules and seed 002 3.4 for their
 * source.
 */
#include <string.h>

#include "policy/policy.h"

#define RETRY_MS_DEFAULT 30000u

/* RFC 5944 2.3.1: a sequence number that falls back below 256 means the
 * agent rebooted and lost its visitor list. */
#define ADV_SEQ_REBOOT_MAX 256u

/* Where actions go; past max they land in scratch and overflow is set. */
struct out {
	struct policy_action *a;
	size_t n, max;
	bool overflow;
	struct policy_action scratch;
};

static struct policy_action *emit(struct out *o, enum policy_act_type t,
				  const char *why)
{
	struct policy_action *a = &o->scratch;

	if (o->n < o->max)
		a = &o->a[o->n++];
	else
		o->overflow = true;
	memset(a, 0, sizeof(*a));
	a->type = t;
	a->why = why;
	return a;
}

static bool same_addr(struct in_addr a, struct in_addr b)
{
	return a.s_addr == b.s_addr;
}

/* --- timers ------------------------------------------------------------ */

static void timer_req(struct out *o, enum policy_timer t, uint32_t ms,
		      const char *why)
{
	struct policy_action *a = emit(o, POLICY_ACT_TIMER, why);

	a->timer = t;
	a->ms = ms;
}

static void arm_retry(struct policy *p, struct out *o, const char *why)
{
	p->retry_armed = true;
	timer_req(o, POLICY_TIMER_RETRY,
		  p->conf.retry_ms ? p->conf.retry_ms : RETRY_MS_DEFAULT, why);
}

static void cancel_retry(struct policy *p, struct out *o)
{
	if (!p->retry_armed)
		return;
	p->retry_armed = false;
	timer_req(o, POLICY_TIMER_RETRY, 0, "attachment decided");
}

/* The FA is forgotten with its timer. */
static void forget_fa(struct policy *p, struct out *o)
{
	if (!p->have_fa)
		return;
	p->have_fa = false;
	timer_req(o, POLICY_TIMER_AGENT, 0, "foreign agent forgotten");
}

/* --- mode and data path ------------------------------------------------ */

static struct in_addr mode_coa(const struct policy *p, enum access_mode m)
{
	struct in_addr none = {0};

	/* At home the data path is plain routing on the link: no CoA. */
	switch (m) {
	case MODE_C:
		return p->have_addr ? p->addr : none;
	case MODE_F:
		return p->fa_coa;
	case MODE_MC:
		return p->tun.tia;
	case MODE_HOME:
	case MODE_NONE:
		break;
	}
	return none;
}

/* SET_MODE when the mode changes; ROUTES when the mode or the address the
 * data path uses changes (c -> c on a new subnet re-routes only). */
static void set_mode(struct policy *p, struct out *o, enum access_mode m,
		     const char *why)
{
	struct in_addr coa = mode_coa(p, m);
	struct policy_action *a;

	if (p->mode == m && same_addr(p->mode_coa, coa))
		return;
	if (p->mode != m)
		emit(o, POLICY_ACT_SET_MODE, why)->mode = m;
	a = emit(o, POLICY_ACT_ROUTES, why);
	a->mode = m;
	a->coa = coa;
	a->ifindex = m == MODE_MC || m == MODE_NONE ? 0 : p->ifindex;
	p->mode = m;
	p->mode_coa = coa;
}

/* --- VPN --------------------------------------------------------------- */

/* Seed 002 3.4.1 step 1a / 3.4.2 step 1: MOBIKE if a VPN exists, a new
 * one otherwise; mobiked knows which from its own state. */
static void vpn_up(struct policy *p, struct out *o, const char *why)
{
	if (!p->have_addr)
		return;
	emit(o, POLICY_ACT_VPN_UP, why)->addr = p->addr;
	if (p->vpn == PVPN_OFF)
		p->vpn = PVPN_STARTING;
	else if (p->vpn == PVPN_IDLE)
		p->vpn = PVPN_UP;
}

/* Seed 002 3.4.1 step 2: on a trusted network the VPN MAY go. */
static void vpn_down(struct policy *p, struct out *o, const char *why)
{
	bool keep = p->conf.keep_vpn_when_trusted;

	if (p->vpn == PVPN_OFF || (keep && p->vpn == PVPN_IDLE))
		return;
	emit(o, POLICY_ACT_VPN_DOWN, why)->keep_idle = keep;
	p->vpn = keep ? PVPN_IDLE : PVPN_OFF;
}

/* --- registrations ----------------------------------------------------- */

static void cancel_pending(struct policy *p, struct out *o, const char *why)
{
	if (!p->pending.active)
		return;
	p->pending.active = false;
	emit(o, POLICY_ACT_REG_CANCEL, why);
}

static void set_pending(struct policy *p, enum policy_path path,
			struct in_addr coa, bool via_fa)
{
	p->pending = (struct policy_pending){
	    .active = true, .path = path, .coa = coa, .via_fa = via_fa};
}

/* The trust probe: a RRQ outside the VPN, through the FA if one
 * advertises (preferred, seed 002 3.2), else from the local address. */
static void send_direct(struct policy *p, struct out *o, const char *why)
{
	struct policy_action *a;

	if (p->at_home || (!p->have_fa && !p->have_addr))
		return;
	a = emit(o, POLICY_ACT_SEND_RRQ_DIRECT, why);
	a->ifindex = p->ifindex;
	a->via_fa = p->have_fa;
	a->coa = p->have_fa ? p->fa_coa : p->addr;
	a->fa_addr = p->have_fa ? p->fa_addr : (struct in_addr){0};
	set_pending(p, POLICY_PATH_DIRECT, a->coa, a->via_fa);
	p->trust = TRUST_PROBING;
}

/* Seed 002 3.4.2 step 4: register through the VPN, TIA as CoA. */
static void send_vpn(struct policy *p, struct out *o, const char *why)
{
	if (p->vpn != PVPN_UP)
		return;
	emit(o, POLICY_ACT_SEND_RRQ_VIA_VPN, why)->coa = p->tun.tia;
	set_pending(p, POLICY_PATH_VPN, p->tun.tia, false);
}

/* Both halves of seed 002 3.4 on a new attachment, "at the same time". */
static void attach(struct policy *p, struct out *o, const char *why)
{
	vpn_up(p, o, why);
	send_direct(p, o, why);
}

/* --- at home ----------------------------------------------------------- */

static void go_home(struct policy *p, struct out *o, int ifindex,
		    const struct in_addr *addr)
{
	if (p->at_home && p->mode == MODE_HOME)
		return;
	if (p->ifindex != ifindex)
		forget_fa(p, o);
	p->at_home = true;
	p->ifindex = ifindex;
	if (addr) {
		p->addr = *addr;
		p->have_addr = true;
	}
	p->trust = TRUST_TRUSTED;
	cancel_retry(p, o);
	if (p->pending.active && p->pending.path != POLICY_PATH_DEREG)
		cancel_pending(p, o, "at home: registration no longer wanted");
	/* RFC 5944 3.6.1.1: back home, deregister (also at boot, which
	 * clears a binding left over from before a crash). */
	emit(o, POLICY_ACT_DEREGISTER, "at home");
	set_pending(p, POLICY_PATH_DEREG, (struct in_addr){0}, false);
	vpn_down(p, o, "at home");
	set_mode(p, o, MODE_HOME, "at home");
}

/* --- address and link events ------------------------------------------ */

static void on_local_addr(struct policy *p, struct out *o,
			  const struct policy_ev *ev)
{
	if (p->have_addr && same_addr(p->addr, ev->addr) &&
	    p->ifindex == ev->ifindex)
		return; /* lease renewal, or netlink repeating the lease */
	if (p->at_home && p->ifindex == ev->ifindex)
		return; /* a second address on the home link: no move */
	if (p->ifindex != ev->ifindex)
		forget_fa(p, o);
	p->at_home = false;
	p->ifindex = ev->ifindex;
	p->addr = ev->addr;
	p->have_addr = true;
	vpn_up(p, o, "new address");
	/* An FA on this link already gave the care-of address and its probe
	 * is out or answered: the lease does not change it (FA preferred,
	 * seed 002 3.2). */
	if (!p->have_fa || p->trust == TRUST_UNKNOWN)
		send_direct(p, o, "new address: trusted-network probe");
}

static void on_addr_usable(struct policy *p, struct out *o,
			   const struct policy_ev *ev)
{
	if (ev->is_home)
		go_home(p, o, ev->ifindex, &ev->addr);
	else
		on_local_addr(p, o, ev);
}

static void lose_attachment(struct policy *p, struct out *o, const char *why)
{
	bool direct = p->pending.active && p->pending.path != POLICY_PATH_VPN;

	if (direct)
		cancel_pending(p, o, why);
	if (p->trust != TRUST_UNTRUSTED)
		p->trust = TRUST_UNKNOWN;
	/* mc survives: the binding is on the TIA and MOBIKE moves the VPN
	 * once a new address appears. */
	if (p->mode != MODE_MC)
		set_mode(p, o, MODE_NONE, why);
}

static void on_addr_gone(struct policy *p, struct out *o,
			 const struct policy_ev *ev)
{
	bool in_use;

	if (!p->have_addr || !same_addr(p->addr, ev->addr))
		return;
	p->have_addr = false;
	if (p->at_home) {
		p->at_home = false;
		lose_attachment(p, o, "home address gone");
		return;
	}
	/* Only c and a co-located probe depend on this address. */
	in_use = p->mode == MODE_C ||
		 (p->pending.active && p->pending.path == POLICY_PATH_DIRECT &&
		  !p->pending.via_fa);
	if (in_use)
		lose_attachment(p, o, "care-of address gone");
}

static void on_link_down(struct policy *p, struct out *o,
			 const struct policy_ev *ev)
{
	if (ev->ifindex != p->ifindex)
		return;
	p->have_addr = false;
	p->at_home = false;
	forget_fa(p, o);
	lose_attachment(p, o, "link down");
}

/* Nothing to do yet: the addresses and advertisements on the link come
 * as their own events. */
static void on_link_up(struct policy *p, struct out *o,
		       const struct policy_ev *ev)
{
}

/* --- agent advertisements ---------------------------------------------- */

/* RFC 5944 2.4.2.2: both advertisements carry Prefix-Lengths and the
 * network prefixes differ: the node moved. */
static bool new_prefix(const struct policy *p, const struct policy_adv *adv)
{
	return p->have_fa && p->fa_has_prefix && adv->has_prefix &&
	       (p->fa_plen != adv->plen ||
		!same_addr(p->fa_prefix, adv->prefix));
}

static bool our_agent(const struct policy *p, const struct policy_ev *ev)
{
	return p->have_fa && p->ifindex == ev->ifindex &&
	       same_addr(p->fa_addr, ev->adv.fa_addr);
}

/* RFC 5944 2.4.2.1: our agent is there until its lifetime passes. */
static void agent_heard(struct policy *p, struct out *o,
			const struct policy_adv *adv)
{
	p->other_advs = 0;
	timer_req(o, POLICY_TIMER_AGENT, (uint32_t)adv->lifetime * 1000u,
		  "foreign agent advertisement lifetime");
}

/* Another agent on the link of ours, with our agent's prefix, while ours
 * is still heard: switching would only cost a registration.  The same
 * prefix is no proof that we did not move (agents of one subnet may cover
 * different cells, RFC 5944 Appendix E), so once ours has been silent for
 * POLICY_OTHER_ADV_MAX of the other's advertisements, the other wins. */
static bool other_agent_same_prefix(struct policy *p,
				    const struct policy_ev *ev)
{
	const struct policy_adv *adv = &ev->adv;

	if (!p->have_fa || p->ifindex != ev->ifindex ||
	    same_addr(p->fa_addr, adv->fa_addr) || !p->fa_has_prefix ||
	    !adv->has_prefix || new_prefix(p, adv))
		return false;
	return ++p->other_advs <= POLICY_OTHER_ADV_MAX;
}

/* RFC 5944 2.1.1: a busy agent registers nobody new, but it is alive:
 * ours keeps its place (its sequence number is left alone, so a reboot
 * while busy still shows once it is not). */
static void on_busy_agent(struct policy *p, struct out *o,
			  const struct policy_ev *ev)
{
	if (our_agent(p, ev) && same_addr(p->fa_coa, ev->adv.coa) &&
	    !new_prefix(p, &ev->adv))
		agent_heard(p, o, &ev->adv);
}

static void on_agent_adv(struct policy *p, struct out *o,
			 const struct policy_ev *ev)
{
	const struct policy_adv *adv = &ev->adv;
	bool fresh, rebooted;

	if (adv->home) {
		go_home(p, o, ev->ifindex, NULL);
		return;
	}
	if (!adv->fa || (p->at_home && p->ifindex == ev->ifindex))
		return;
	if (adv->busy) {
		on_busy_agent(p, o, ev);
		return;
	}
	if (other_agent_same_prefix(p, ev))
		return; /* RFC 5944 2.4.2.2: no move, keep our agent */
	fresh = !p->have_fa || p->ifindex != ev->ifindex ||
		!same_addr(p->fa_coa, adv->coa) || new_prefix(p, adv);
	rebooted =
	    !fresh && adv->seq < p->fa_seq && adv->seq < ADV_SEQ_REBOOT_MAX;
	if (p->ifindex != ev->ifindex) {
		p->have_addr = false; /* that address is on the old link */
		p->at_home = false;
	}
	p->have_fa = true;
	p->ifindex = ev->ifindex;
	p->fa_addr = adv->fa_addr;
	p->fa_coa = adv->coa;
	p->fa_seq = adv->seq;
	p->fa_has_prefix = adv->has_prefix;
	p->fa_prefix = adv->prefix;
	p->fa_plen = adv->plen;
	agent_heard(p, o, adv);
	if (fresh)
		send_direct(p, o, "foreign agent found: trusted-network probe");
	else if (rebooted)
		send_direct(p, o, "foreign agent rebooted: re-register");
}

/* The FA stopped advertising: fall back to the co-located address. */
static void on_agent_lost(struct policy *p, struct out *o)
{
	bool used =
	    p->mode == MODE_F || (p->pending.active && p->pending.via_fa);

	if (!p->have_fa)
		return;
	p->have_fa = false;
	if (!used)
		return;
	if (p->have_addr) {
		send_direct(p, o, "foreign agent lost: co-located probe");
		return;
	}
	cancel_pending(p, o, "foreign agent lost");
	p->trust = TRUST_UNKNOWN;
	set_mode(p, o, MODE_NONE, "foreign agent lost");
}

/* --- registration results ---------------------------------------------- */

/* mn_reg reports only for its current request, but an event may cross a
 * newer action in the caller's queue: match what we asked for last. */
static bool is_pending(const struct policy *p, const struct policy_reply *r)
{
	if (!p->pending.active || p->pending.path != r->path)
		return false;
	/* a deregistration's CoA is the home address, which we do not
	 * track: the path is enough */
	return r->path == POLICY_PATH_DEREG ||
	       same_addr(p->pending.coa, r->coa);
}

static void on_accepted(struct policy *p, struct out *o,
			const struct policy_reply *r)
{
	bool via_fa = p->pending.via_fa;

	p->pending.active = false;
	if (r->path == POLICY_PATH_DEREG)
		return;
	cancel_retry(p, o);
	if (r->path == POLICY_PATH_VPN) {
		p->reg_tun = p->tun;
		set_mode(p, o, MODE_MC, "registered through the VPN");
		return;
	}
	p->trust = TRUST_TRUSTED;
	vpn_down(p, o, "trusted network");
	set_mode(p, o, via_fa ? MODE_F : MODE_C,
		 "home agent answered outside the VPN: trusted");
}

static void on_reg_reply(struct policy *p, struct out *o,
			 const struct policy_ev *ev)
{
	const struct policy_reply *r = &ev->reply;

	if (!is_pending(p, r))
		return;
	if (r->accepted) {
		on_accepted(p, o, r);
		return;
	}
	/* Denials decide nothing: mn_reg backs off and retries, and reports
	 * a timeout when its tries are spent - unless it gave up, which
	 * only time can fix. */
	if (r->final) {
		p->pending.active = false;
		arm_retry(p, o, "registration refused: retry later");
	}
}

/* Seed 002 3.4.2 step 4: no reply outside the VPN means untrusted. */
static void on_direct_timeout(struct policy *p, struct out *o)
{
	p->trust = TRUST_UNTRUSTED;
	if (p->mode == MODE_MC && p->vpn == PVPN_UP &&
	    same_addr(p->reg_tun.tia, p->tun.tia) &&
	    same_addr(p->reg_tun.gw, p->tun.gw))
		return; /* MOBIKE moved the VPN; the TIA binding stands */
	if (p->vpn == PVPN_UP || p->vpn == PVPN_IDLE) {
		p->vpn = PVPN_UP;
		send_vpn(p, o, "no reply outside the VPN: untrusted");
	} else if (p->vpn == PVPN_OFF) {
		vpn_up(p, o, "untrusted: the VPN is needed");
	}
}

/* The registration the current mode stands on (mn_reg renews it without
 * telling us, and reports when a renewal gets no answer). */
static bool is_current(const struct policy *p, const struct policy_reply *r)
{
	bool direct = p->mode == MODE_C || p->mode == MODE_F;

	if (!same_addr(p->mode_coa, r->coa))
		return false;
	return (r->path == POLICY_PATH_DIRECT && direct) ||
	       (r->path == POLICY_PATH_VPN && p->mode == MODE_MC);
}

static void on_reg_timeout(struct policy *p, struct out *o,
			   const struct policy_ev *ev)
{
	if (!is_pending(p, &ev->reply) && !is_current(p, &ev->reply))
		return;
	p->pending.active = false;
	if (ev->reply.path == POLICY_PATH_DIRECT)
		on_direct_timeout(p, o);
	else if (ev->reply.path == POLICY_PATH_VPN)
		arm_retry(p, o, "home agent silent through the VPN");
}

/* --- VPN events --------------------------------------------------------- */

/* True when the mc binding is for another TIA or gateway (seed 002 3.3). */
static bool vpn_moved(const struct policy *p)
{
	return !same_addr(p->reg_tun.tia, p->tun.tia) ||
	       !same_addr(p->reg_tun.gw, p->tun.gw);
}

static void on_vpn(struct policy *p, struct out *o, const struct policy_ev *ev)
{
	p->tun = ev->vpn;
	if (p->trust == TRUST_TRUSTED || p->at_home) {
		if (p->vpn == PVPN_IDLE)
			return;
		p->vpn = PVPN_UP; /* it is, whatever we asked before */
		vpn_down(p, o, "trusted network");
		return;
	}
	p->vpn = PVPN_UP;
	if (p->trust != TRUST_UNTRUSTED)
		return; /* the direct probe decides first (3.4.2 step 4) */
	if (p->pending.active && p->pending.path == POLICY_PATH_VPN &&
	    same_addr(p->pending.coa, p->tun.tia))
		return;
	if (p->mode == MODE_MC && !vpn_moved(p))
		return;
	send_vpn(p, o,
		 p->mode == MODE_MC ? "TIA or VPN gateway changed"
				    : "VPN up on an untrusted network");
}

static void on_vpn_down(struct policy *p, struct out *o,
			const struct policy_ev *ev)
{
	p->vpn = PVPN_OFF;
	memset(&p->tun, 0, sizeof(p->tun));
	if (p->pending.active && p->pending.path == POLICY_PATH_VPN)
		cancel_pending(p, o, "VPN down");
	if (p->mode == MODE_MC)
		set_mode(p, o, MODE_NONE, "VPN down");
	/* Untrusted, the VPN is the only way in: try again later rather
	 * than at once, so a gateway that refuses us is not hammered. */
	if (p->trust == TRUST_UNTRUSTED)
		arm_retry(p, o, "VPN down on an untrusted network");
}

/* --- timers ------------------------------------------------------------ */

static void on_timer(struct policy *p, struct out *o,
		     const struct policy_ev *ev)
{
	if (ev->timer == POLICY_TIMER_AGENT) {
		on_agent_lost(p, o);
		return;
	}
	if (!p->retry_armed)
		return;
	p->retry_armed = false;
	if (!p->at_home)
		attach(p, o, "retry: probe again");
}

/* --- entry points ------------------------------------------------------ */

void policy_init(struct policy *p, const struct policy_conf *conf)
{
	memset(p, 0, sizeof(*p));
	p->conf = *conf;
	p->mode = MODE_NONE;
	p->ifindex = -1;
}

void policy_reconfigure(struct policy *p, const struct policy_conf *conf)
{
	p->conf = *conf;
}

typedef void (*handler)(struct policy *p, struct out *o,
			const struct policy_ev *ev);

static const handler handlers[] = {
    [POLICY_EV_ADDR_USABLE] = on_addr_usable,
    [POLICY_EV_ADDR_GONE] = on_addr_gone,
    [POLICY_EV_LINK_UP] = on_link_up,
    [POLICY_EV_LINK_DOWN] = on_link_down,
    [POLICY_EV_AGENT_ADV] = on_agent_adv,
    [POLICY_EV_DHCP_LEASE] = on_local_addr,
    [POLICY_EV_REG_REPLY] = on_reg_reply,
    [POLICY_EV_REG_TIMEOUT] = on_reg_timeout,
    [POLICY_EV_VPN_UP] = on_vpn,
    [POLICY_EV_VPN_DOWN] = on_vpn_down,
    [POLICY_EV_TIA_CHANGED] = on_vpn,
    [POLICY_EV_TIMER] = on_timer,
};

int policy_event(struct policy *p, const struct policy_ev *ev,
		 struct policy_action *out, size_t max)
{
	struct out o = {.a = out, .max = max};

	if ((unsigned)ev->type <= POLICY_EV_TIMER)
		handlers[ev->type](p, &o, ev);
	return o.overflow ? -1 : (int)o.n;
}

enum access_mode policy_mode(const struct policy *p)
{
	return p->mode;
}

/* The name tables below follow the enums' order. */
const char *policy_ev_name(enum policy_ev_type t)
{
	static const char *const names[] = {
	    "addr-usable", "addr-gone",	 "link-up",	"link-down",
	    "agent-adv",   "dhcp-lease", "reg-reply",	"reg-timeout",
	    "vpn-up",	   "vpn-down",	 "tia-changed", "timer",
	};

	return (unsigned)t <= POLICY_EV_TIMER ? names[t] : "?";
}

const char *policy_act_name(enum policy_act_type t)
{
	static const char *const names[] = {
	    "send-rrq-direct", "send-rrq-via-vpn", "reg-cancel",
	    "deregister",      "vpn-up",	   "vpn-down",
	    "set-mode",	       "routes",	   "timer",
	};

	return (unsigned)t <= POLICY_ACT_TIMER ? names[t] : "?";
}

const char *policy_trust_name(enum policy_trust t)
{
	static const char *const names[] = {"unknown", "probing", "trusted",
					    "untrusted"};

	return (unsigned)t <= TRUST_UNTRUSTED ? names[t] : "?";
}
