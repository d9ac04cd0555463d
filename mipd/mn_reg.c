/*
 * mn_reg.c - the mobile node's registration state machine: building and
 * retransmitting Registration Requests, checking replies, keeping the
 * binding alive, deregistering at home.  See mn_reg.h for the states and
 * timers; RFC 5944 3.6 for the rules.
 */
#define LOG_TAG "mn"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "mipd/mn_reg.h"
#include "mipd/sock.h"

#define NTP_SECOND (1ULL << 32)

static const char *ip(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

/* A request is out whose reply we take. */
static bool awaiting(const struct mn_reg *r)
{
	return r->state == MN_REG_REQUESTING || r->state == MN_REG_RENEWING ||
	       r->state == MN_REG_DEREGISTERING;
}

/* The one place the state changes, so every change is logged. */
static void set_state(struct mn_reg *r, enum mn_reg_state to)
{
	char b[INET_ADDRSTRLEN];

	if (r->state == to)
		return;
	log_info("registration: %s -> %s (%s, CoA %s)",
		 mn_reg_state_name(r->state), mn_reg_state_name(to),
		 mn_reg_path_name(r->target.path), ip(r->target.coa, b));
	r->state = to;
}

/* Last thing a handler does: the callback may start a new attempt. */
static void report_final(struct mn_reg *r, enum mn_reg_outcome o,
			 const struct mn_reg_target *t, uint8_t code,
			 bool authed, const struct reg_msg *m, bool final)
{
	struct mn_reg_result res = {.outcome = o,
				    .target = *t,
				    .code = code,
				    .authenticated = authed,
				    .final = final,
				    .lifetime = r->granted};

	if (m && m->has_udp_rep && m->udp_rep.code == MIP4_UDP_REP_ACCEPT) {
		res.udp_tunnel = true;
		res.keepalive = m->udp_rep.keepalive;
	}
	if (r->io.result)
		r->io.result(r->io.arg, &res);
}

static void report(struct mn_reg *r, enum mn_reg_outcome o,
		   const struct mn_reg_target *t, uint8_t code, bool authed,
		   const struct reg_msg *m)
{
	report_final(r, o, t, code, authed, m, false);
}

/* --- building a request --------------------------------------------------- */

static bool colocated(enum mn_reg_path p)
{
	return p == MN_REG_DIRECT || p == MN_REG_VIA_VPN;
}

/* The T bit: the configuration, unless a 137/138 (the HA) or a 74/75
 * (this attempt's FA) said otherwise.  Seed 002 3: in mc the Mobile IP
 * tunnel is reverse-tunnelled through the HA whatever anyone says. */
static bool want_t(const struct mn_reg *r)
{
	bool t = r->conf.reverse_tunnel;

	if (r->target.path == MN_REG_VIA_VPN)
		return true;
	if (r->t_ha >= 0)
		t = r->t_ha;
	if (r->t_fa >= 0 && r->target.path == MN_REG_VIA_FA)
		t = r->t_fa;
	return t;
}

static uint8_t request_flags(const struct mn_reg *r)
{
	uint8_t f = 0;

	if (r->target.path == MN_REG_HOME)
		return 0;
	/* RFC 5944 3.3: D when the MN decapsulates itself (co-located). */
	if (colocated(r->target.path))
		f |= MIP4_RRQ_D;
	if (want_t(r))
		f |= MIP4_RRQ_T;
	return f;
}

/* The configured lifetime, or less where this attempt's FA said so
 * (69). */
static uint16_t request_lifetime(const struct mn_reg *r)
{
	if (r->target.path == MN_REG_HOME)
		return 0;
	if (r->fa_life_cap && r->target.path == MN_REG_VIA_FA &&
	    r->fa_life_cap < r->conf.lifetime)
		return r->fa_life_cap;
	return r->conf.lifetime;
}

/* A nonce half nobody can guess, or -1: a clock value would be
 * guessable, so without the RNG no request goes out. */
static int nonce32(uint32_t *v)
{
	if (random32(v) == 0)
		return 0;
	log_err("no random bytes for a nonce (OpenSSL RNG failed): not "
		"sending the Registration Request");
	return -1;
}

/* RFC 5944 5.7.1: timestamps corrected by what a 133 taught us, and
 * strictly increasing even if the clock steps back.  5.7.2: nonces, the
 * HA's in the high half, a fresh one of ours in the low half.  -1 when
 * the RNG fails. */
static int next_id(struct mn_reg *r, uint64_t *out)
{
	uint64_t id;

	if (r->conf.sa.replay == REG_REPLAY_NONCE) {
		uint32_t hi = r->ha_nonce, lo;

		if ((!r->have_nonce && nonce32(&hi) < 0) || nonce32(&lo) < 0)
			return -1;
		/* a new low half every time: replies are matched on it */
		if (lo == (uint32_t)r->last_id)
			lo++;
		id = (uint64_t)hi << 32 | lo;
	} else {
		id = reg_ntp_now() + ((uint64_t)r->clock_offset << 32);
		if (id <= r->last_id)
			id = r->last_id + 1;
	}
	*out = r->last_id = id;
	return 0;
}

static int build(struct mn_reg *r, uint64_t id)
{
	bool home = r->target.path == MN_REG_HOME;
	struct reg_request rq = {
	    .flags = request_flags(r),
	    .lifetime = request_lifetime(r),
	    .home = r->conf.home,
	    .ha = r->ha,
	    .coa = home ? r->conf.home : r->target.coa,
	    .id = id,
	};
	struct reg_builder b;
	struct wbuf w;

	wb_init(&w, r->pkt, sizeof(r->pkt));
	reg_build_request(&b, &w, &rq);
	/* RFC 2794 2: the NAI comes before any authentication extension. */
	if (r->conf.nai[0])
		reg_add_nai(&b, r->conf.nai, strlen(r->conf.nai));
	/* RFC 3519 3.1: only a co-located CoA asks; the HA must see it under
	 * the MN-HA authenticator. */
	if (r->conf.udp_tunnel && colocated(r->target.path)) {
		struct reg_udp_req u = {
		    .flags = r->conf.force_udp ? MIP4_UDP_REQ_F : 0,
		    .encap = MIP4_ENCAP_IPIP,
		};

		reg_add_udp_req(&b, &u);
	}
	if (reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &r->conf.sa) != REG_OK)
		return -1;
	return reg_build_end(&b, &r->pkt_len) == REG_OK ? 0 : -1;
}

/* --- sending and retransmission --------------------------------------- */

static uint32_t wait_cap_ms(const struct mn_reg *r)
{
	uint16_t life = request_lifetime(r);

	/* RFC 5944 3.6.3: no longer than the requested lifetime. */
	return (uint32_t)(life ? life : r->conf.lifetime) * 1000u;
}

static int transmit(struct mn_reg *r)
{
	char b[INET_ADDRSTRLEN];
	uint64_t id;
	uint32_t cap = wait_cap_ms(r);

	if (r->sent >= MN_REG_MAX_SENT || next_id(r, &id) < 0)
		return -1;
	if (build(r, id) < 0) {
		log_err("cannot build a Registration Request (NAI too long?)");
		return -1;
	}
	r->ids[r->sent] = id;
	r->sent_ns[r->sent] = mono_ns();
	r->flags_sent[r->sent] = request_flags(r);
	r->sent++;
	log_debug("RRQ %u/%u %s CoA %s id %016llx", r->sent, r->conf.tries,
		  mn_reg_path_name(r->target.path), ip(r->target.coa, b),
		  (unsigned long long)id);
	if (r->io.send(r->io.arg, &r->target, r->pkt, r->pkt_len) < 0)
		log_debug("send failed: counts as lost");
	timer_arm_ms(r->loop, &r->t_retx, r->next_wait_ms);
	r->next_wait_ms =
	    r->next_wait_ms >= cap / 2 ? cap : r->next_wait_ms * 2;
	return 0;
}

/* A new attempt: fresh try count and backoff. */
static int begin(struct mn_reg *r, const struct mn_reg_target *t,
		 enum mn_reg_state st)
{
	timer_cancel(r->loop, &r->t_retx);
	r->target = *t;
	r->sent = 0;
	r->resynced = r->adj_life = r->adj_t = r->adj_ha = false;
	/* an FA's unauthenticated lesson lasts for one attempt */
	r->fa_life_cap = 0;
	r->t_fa = -1;
	r->next_wait_ms = r->conf.retx_initial_ms;
	set_state(r, st);
	if (transmit(r) == 0)
		return 0;
	set_state(r, MN_REG_IDLE);
	return -1;
}

/* --- the binding -------------------------------------------------------- */

static void drop_binding(struct mn_reg *r)
{
	r->have_binding = false;
	r->granted = 0;
	r->expire_ns = 0;
	r->renew_ns = 0;
	timer_cancel(r->loop, &r->t_renew);
	timer_cancel(r->loop, &r->t_expire);
}

/* Lifetimes count from when the accepted request was sent: the HA's
 * countdown cannot have started earlier, so we only err early. */
static void keep_binding(struct mn_reg *r, uint16_t granted, uint64_t sent)
{
	uint64_t life_ns = (uint64_t)granted * NS_PER_S;

	drop_binding(r);
	r->have_binding = true;
	r->bound = r->target;
	r->granted = granted;
	if (granted == 0xffff)
		return; /* RFC 5944 3.3: infinity */
	r->expire_ns = sent + life_ns;
	r->renew_ns = sent + life_ns / 100 * MN_REG_RENEW_PERCENT;
	timer_arm_at(r->loop, &r->t_expire, r->expire_ns);
	timer_arm_at(r->loop, &r->t_renew, r->renew_ns);
}

/* An attempt ended without replacing the binding: carry on with it,
 * renewing now if its time came while the attempt was out. */
static void resume_binding(struct mn_reg *r)
{
	if (!r->have_binding) {
		set_state(r, MN_REG_IDLE);
		return;
	}
	r->target = r->bound;
	set_state(r, MN_REG_REGISTERED);
	if (!r->renew_ns)
		return; /* infinite lifetime */
	if (mono_ns() >= r->renew_ns)
		begin(r, &r->bound, MN_REG_RENEWING);
	else
		timer_arm_at(r->loop, &r->t_renew, r->renew_ns);
}

/* --- timers ------------------------------------------------------------ */

static void give_up(struct mn_reg *r)
{
	char b[INET_ADDRSTRLEN];
	struct mn_reg_target t = r->target;
	enum mn_reg_state was = r->state;

	log_warn("no registration reply after %u tries (%s, CoA %s)", r->sent,
		 mn_reg_path_name(t.path), ip(t.coa, b));
	if (was == MN_REG_DEREGISTERING) {
		drop_binding(r); /* at home; the HA lets it expire */
		set_state(r, MN_REG_IDLE);
	} else if (was == MN_REG_RENEWING) {
		/* No renewal loop: the binding lasts until t_expire, and the
		 * policy decides what to try next. */
		set_state(r, MN_REG_REGISTERED);
	} else {
		resume_binding(r);
	}
	report(r, MN_REG_TIMEOUT, &t, 0, false, NULL);
}

static void on_retx(void *arg)
{
	struct mn_reg *r = arg;

	if (!awaiting(r))
		return;
	if (r->sent >= r->conf.tries || transmit(r) < 0)
		give_up(r);
}

static void on_renew(void *arg)
{
	struct mn_reg *r = arg;

	/* With another attempt out, resume_binding() renews afterwards. */
	if (r->state == MN_REG_REGISTERED && r->have_binding)
		begin(r, &r->bound, MN_REG_RENEWING);
}

static void on_expire(void *arg)
{
	struct mn_reg *r = arg;
	char b[INET_ADDRSTRLEN];
	struct mn_reg_target t = r->bound;

	log_warn("binding for CoA %s expired", ip(t.coa, b));
	drop_binding(r);
	if (r->state == MN_REG_REGISTERED)
		set_state(r, MN_REG_IDLE);
	else if (r->state == MN_REG_RENEWING)
		set_state(r, MN_REG_REQUESTING); /* keep trying */
	report(r, MN_REG_EXPIRED, &t, 0, false, NULL);
}

/* --- replies ------------------------------------------------------------ */

/* Index of the transmission the reply answers, or -1. */
static int match_id(const struct mn_reg *r, uint64_t id)
{
	for (unsigned i = r->sent; i-- > 0;)
		if (reg_id_reply_matches(r->ids[i], id))
			return (int)i;
	return -1;
}

static void on_accepted(struct mn_reg *r, const struct reg_msg *m, int idx)
{
	char b[INET_ADDRSTRLEN];
	uint16_t asked = request_lifetime(r);
	/* RFC 5944 3.8.3.1: the HA may shorten, never lengthen. */
	uint16_t granted =
	    m->rp.lifetime < asked || r->target.path == MN_REG_HOME
		? m->rp.lifetime
		: asked;

	timer_cancel(r->loop, &r->t_retx);
	if (r->state == MN_REG_DEREGISTERING || granted == 0) {
		drop_binding(r);
		set_state(r, MN_REG_IDLE);
		report(r, MN_REG_DEREGISTERED, &r->target, m->rp.code, true, m);
		return;
	}
	keep_binding(r, granted, r->sent_ns[idx]);
	log_info("registered CoA %s for %u s (%s)", ip(r->target.coa, b),
		 granted, reg_code_name(m->rp.code));
	set_state(r, MN_REG_REGISTERED);
	report(r, MN_REG_ACCEPTED, &r->target, m->rp.code, true, m);
}

/* The attempt is over without a binding for its target: an old binding
 * carries on (or lapses), and the caller hears it is final. */
static void give_up_denied(struct mn_reg *r, uint8_t code, bool authed,
			   const char *why)
{
	char b[INET_ADDRSTRLEN];
	struct mn_reg_target t = r->target;
	enum mn_reg_state was = r->state;

	log_err("registration denied: code %u (%s): %s; giving up on CoA %s "
		"(%s)",
		code, reg_code_name(code), why, ip(t.coa, b),
		mn_reg_path_name(t.path));
	timer_cancel(r->loop, &r->t_retx);
	if (was == MN_REG_DEREGISTERING) {
		drop_binding(r);
		set_state(r, MN_REG_IDLE);
	} else if (was == MN_REG_RENEWING) {
		set_state(r, MN_REG_REGISTERED);
	} else {
		resume_binding(r);
	}
	report_final(r, MN_REG_DENIED, &t, code, authed, NULL, true);
}

/* One line per MN_REG_LOG_MS at most: a flood of replies (anyone who sees
 * our requests can answer them) must not flood the log.  Returns how many
 * were left out since the last line, or -1 to stay quiet. */
static int log_allowed(struct mn_log_limit *l)
{
	uint64_t now = mono_ns();
	int quiet;

	if (now < l->next_ns) {
		l->quiet++;
		return -1;
	}
	quiet = (int)l->quiet;
	l->quiet = 0;
	l->next_ns = now + (uint64_t)MN_REG_LOG_MS * NS_PER_MS;
	return quiet;
}

/* " (n more since the last line)" or "". */
static const char *quiet_note(int quiet, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (quiet > 0)
		snprintf(buf, cap, " (%d more since the last line)", quiet);
	return buf;
}

/* 131 changes nothing (mn_reg.h): the retransmissions go on, and a wrong
 * key ends like a silent HA, in TIMEOUT. */
static void on_131(struct mn_reg *r, const struct reg_msg *m, bool authed)
{
	char more[64];
	int quiet;

	if (authed)
		r->forged_131++;
	else
		r->unverified_131++;
	if ((quiet = log_allowed(&r->log_131)) < 0)
		return;
	quiet_note(quiet, more, sizeof(more));
	if (authed)
		/* ours verify with this key, so the HA never refuses them:
		 * the request it answers was forged or altered */
		log_warn("code 131 for Identification %016llx verifies with "
			 "our MN-HA key (SPI %u), so it answers a request we "
			 "did not send: someone forges or alters our "
			 "Registration Requests; ignored%s",
			 (unsigned long long)m->rp.id, r->conf.sa.spi, more);
	else
		log_err("home agent rejected our authentication: MN-HA key "
			"(SPI %u) is wrong, or reply spoofed (code 131 that "
			"does not verify with our key); check the key file on "
			"both ends; ignored, retrying as usual%s",
			r->conf.sa.spi, more);
}

/* A new request at once, after a reply told us what to change. */
static void retry_now(struct mn_reg *r)
{
	r->next_wait_ms = r->conf.retx_initial_ms;
	timer_cancel(r->loop, &r->t_retx);
	if (transmit(r) < 0)
		give_up(r);
}

/* RFC 5944 5.7: timestamps - the HA put its time in the high 32 bits:
 * adopt the difference; nonces - its new nonce is there, already taken
 * by learn_nonce().  Then try again at once, once per attempt. */
static bool resync(struct mn_reg *r, const struct reg_msg *m, int idx)
{
	int64_t off;

	if (r->resynced)
		return false;
	if (r->conf.sa.replay == REG_REPLAY_NONCE) {
		log_info("home agent refused our nonce (code 133): taking its "
			 "new nonce %08x",
			 r->ha_nonce);
	} else {
		if (reg_ts_resync(r->ids[idx], m->rp.id, reg_ntp_now(), &off) <
		    0)
			return false;
		log_info("home agent clock is %+lld s from ours (code 133): "
			 "resynchronised",
			 (long long)off);
		r->clock_offset = off;
	}
	r->resynced = true;
	retry_now(r);
	return true;
}

/* RFC 5944 5.7.2: every authenticated reply carries the nonce the HA
 * wants in our next request. */
static void learn_nonce(struct mn_reg *r, const struct reg_msg *m, bool authed)
{
	if (r->conf.sa.replay != REG_REPLAY_NONCE || !authed)
		return;
	r->ha_nonce = (uint32_t)(m->rp.id >> 32);
	r->have_nonce = true;
}

static void deny_wait(struct mn_reg *r, const struct reg_msg *m, bool authed,
		      uint32_t min_ms, const char *hint)
{
	uint32_t wait = r->next_wait_ms > min_ms ? r->next_wait_ms : min_ms;

	log_warn("registration denied: code %u (%s)%s%s%s; next try in %u s",
		 m->rp.code, reg_code_name(m->rp.code),
		 authed ? "" : ", from the foreign agent", hint ? ": " : "",
		 hint ? hint : "", (wait + 999) / 1000);
	/* Back off; the next try (or give_up) comes from t_retx. */
	timer_arm_ms(r->loop, &r->t_retx, wait);
	report(r, MN_REG_DENIED, &r->target, m->rp.code, authed, m);
}

static void on_denied(struct mn_reg *r, const struct reg_msg *m, bool authed)
{
	deny_wait(r, m, authed, MN_REG_DENIED_WAIT_MS, NULL);
}

/* 74/75 (the FA) and 137/138 (the HA): flip T once per attempt. */
static void on_revtun(struct mn_reg *r, const struct reg_msg *m, bool authed,
		      int idx)
{
	uint8_t code = m->rp.code;
	bool had_t = r->flags_sent[idx] & MIP4_RRQ_T;
	bool want = code == MIP4_FA_REVTUN_MANDATORY ||
		    code == MIP4_HA_REVTUN_MANDATORY;
	bool by_fa =
	    code == MIP4_FA_REVTUN_UNAVAIL || code == MIP4_FA_REVTUN_MANDATORY;

	if (!want && r->target.path == MN_REG_VIA_VPN) {
		give_up_denied(r, code, authed,
			       "mode mc needs reverse tunnelling through the "
			       "home agent");
		return;
	}
	if (r->adj_t || had_t == want ||
	    (by_fa && r->target.path != MN_REG_VIA_FA)) {
		give_up_denied(r, code, authed,
			       "the foreign agent and the home agent disagree "
			       "on reverse tunnelling (T bit)");
		return;
	}
	log_warn("registration denied: code %u (%s): retrying %s the T bit",
		 code, reg_code_name(code), want ? "with" : "without");
	if (by_fa) {
		r->t_fa = want;
	} else {
		r->t_ha = want;
	}
	r->adj_t = true;
	retry_now(r);
}

/* 69: RFC 5944 3.7.2.3 puts the FA's maximum in the reply's Lifetime. */
static void on_lifetime(struct mn_reg *r, const struct reg_msg *m)
{
	uint16_t max = m->rp.lifetime;

	if (r->adj_life || r->target.path != MN_REG_VIA_FA || max == 0 ||
	    max >= request_lifetime(r)) {
		on_denied(r, m, false);
		return;
	}
	log_warn("registration denied: code 69 (%s): retrying with the "
		 "foreign agent's %u s",
		 reg_code_name(69), max);
	r->fa_life_cap = max;
	r->adj_life = true;
	retry_now(r);
}

/* 136: RFC 5944 3.8.3.1 puts the HA's own address in the reply. */
static void on_unknown_ha(struct mn_reg *r, const struct reg_msg *m)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t h = ntohl(m->rp.ha.s_addr);

	if (r->adj_ha || m->rp.ha.s_addr == r->ha.s_addr || h == 0 ||
	    h == 0xffffffffu || (h >> 28) >= 0xe) {
		on_denied(r, m, true);
		return;
	}
	log_warn("registration denied: code 136 (%s): home agent %s answers "
		 "as %s; retrying with that address",
		 reg_code_name(136), ip(r->ha, a), ip(m->rp.ha, b));
	r->ha = m->rp.ha;
	r->adj_ha = true;
	retry_now(r);
}

static void on_fa_denial(struct mn_reg *r, const struct reg_msg *m, int idx)
{
	switch (m->rp.code) {
	case MIP4_FA_LIFETIME_TOO_LONG:
		on_lifetime(r, m);
		break;
	case MIP4_FA_REVTUN_UNAVAIL:
	case MIP4_FA_REVTUN_MANDATORY:
		on_revtun(r, m, false, idx);
		break;
	case MIP4_FA_HOME_NET_UNREACH:
	case MIP4_FA_HA_HOST_UNREACH:
	case MIP4_FA_HA_PORT_UNREACH:
	case MIP4_FA_HA_UNREACH:
		deny_wait(r, m, false, MN_REG_DENIED_WAIT_MS,
			  "the foreign agent cannot reach our home agent");
		break;
	default:
		on_denied(r, m, false);
		break;
	}
}

static void on_ha_denial(struct mn_reg *r, const struct reg_msg *m, int idx)
{
	switch (m->rp.code) {
	case MIP4_HA_ID_MISMATCH:
		if (!resync(r, m, idx))
			on_denied(r, m, true);
		break;
	case MIP4_HA_UNKNOWN_HA:
		on_unknown_ha(r, m);
		break;
	case MIP4_HA_REVTUN_UNAVAIL:
	case MIP4_HA_REVTUN_MANDATORY:
		on_revtun(r, m, true, idx);
		break;
	case MIP4_HA_TOO_MANY_BINDINGS:
		deny_wait(r, m, true, MN_REG_DENIED_LONG_MS,
			  "the home agent keeps another care-of address for "
			  "us");
		break;
	case MIP4_HA_ENCAP_UNAVAIL:
		deny_wait(r, m, true, MN_REG_DENIED_LONG_MS,
			  "the home agent offers only IP-in-IP");
		break;
	case MIP4_HA_UDP_ENCAP_UNAVAIL:
		deny_wait(r, m, true, MN_REG_DENIED_LONG_MS,
			  "the home agent refuses IP-in-UDP (RFC 3519), which "
			  "this NAT needs; enable udp_tunnel on the home "
			  "agent");
		break;
	default:
		on_denied(r, m, true);
		break;
	}
}

/* A foreign agent's own denial, which it cannot sign (no MN-HA key): only
 * on the path through that agent, and from its address. */
static bool from_our_fa(const struct mn_reg *r, const struct reg_msg *m,
			struct in_addr from)
{
	uint8_t code = m->rp.code;

	return !m->has_mnha &&
	       ((code >= 64 && code < 128) || code == MIP4_FA_BAD_HA_ADDR) &&
	       r->target.path == MN_REG_VIA_FA &&
	       from.s_addr == r->target.fa.s_addr;
}

/* RFC 5944 3.6.2.1: a reply whose MN-HA authenticator does not verify is
 * silently discarded (here: logged), except a foreign agent's own denial.
 * 131 goes to on_131 and no further. */
static bool check_auth(struct mn_reg *r, const struct reg_msg *m,
		       struct in_addr from, bool *authed)
{
	char b[INET_ADDRSTRLEN], more[64];
	uint8_t code = m->rp.code;
	int res = m->has_mnha ? reg_auth_verify(m, &m->mnha, &r->conf.sa, 1)
			      : REG_AUTH_NO_SA;
	int quiet;

	*authed = res == REG_AUTH_OK;
	if (code == MIP4_HA_MN_AUTH_FAILED) {
		on_131(r, m, *authed);
		return false;
	}
	if (*authed || from_our_fa(r, m, from))
		return true;
	if ((quiet = log_allowed(&r->log_ignored)) < 0)
		return false;
	log_warn("reply code %u (%s) from %s ignored: %s%s", code,
		 reg_code_name(code), ip(from, b),
		 m->has_mnha ? reg_auth_result_name(res)
			     : "no MN-HA authenticator, and not a denial "
			       "from the foreign agent of this attempt",
		 quiet_note(quiet, more, sizeof(more)));
	return false;
}

static void dispatch(struct mn_reg *r, const struct reg_msg *m, int idx,
		     bool authed)
{
	uint8_t code = m->rp.code;

	r->last_code = code;
	learn_nonce(r, m, authed);
	if (!authed)
		on_fa_denial(r, m, idx);
	else if (MIP4_CODE_IS_SUCCESS(code))
		on_accepted(r, m, idx);
	else
		on_ha_denial(r, m, idx);
}

void mn_reg_input(struct mn_reg *r, const uint8_t *pkt, size_t len,
		  struct in_addr from)
{
	struct reg_msg m;
	bool authed;
	int err, idx;

	err = reg_parse_reply(&m, pkt, len);
	if (err != REG_OK) {
		log_debug("malformed reply dropped: %s", reg_err_name(err));
		return;
	}
	if (!awaiting(r)) {
		log_debug("reply dropped: no request outstanding");
		return;
	}
	idx = match_id(r, m.rp.id);
	if (idx < 0 || m.rp.home.s_addr != r->conf.home.s_addr) {
		log_info("reply dropped: not for our request (id %016llx)",
			 (unsigned long long)m.rp.id);
		return;
	}
	if (check_auth(r, &m, from, &authed))
		dispatch(r, &m, idx, authed);
}

/* --- API ----------------------------------------------------------------- */

static void normalise(struct mn_reg_conf *c)
{
	if (!c->lifetime)
		c->lifetime = MN_REG_LIFETIME_DEFAULT;
	if (c->retx_initial_ms < MN_REG_RETX_MIN_MS)
		c->retx_initial_ms = MN_REG_RETX_MIN_MS; /* RFC 5944 3.6.3 */
	if (!c->tries)
		c->tries = MN_REG_TRIES_DEFAULT;
	if (c->tries > MN_REG_TRIES_MAX)
		c->tries = MN_REG_TRIES_MAX;
	c->nai[MN_REG_NAI_MAX] = '\0';
}

static int check_sa(const struct reg_sa *sa)
{
	if (sa->spi <= MIP4_SPI_RESERVED_MAX || !sa->key || !sa->key_len ||
	    sa->key_len > REG_KEY_MAX || !reg_auth_len(sa) ||
	    (sa->replay != REG_REPLAY_TIMESTAMP &&
	     sa->replay != REG_REPLAY_NONCE)) {
		log_err("MN-HA security association unusable (SPI %u)",
			sa->spi);
		return -1;
	}
	return 0;
}

/* What replies taught us about the HA and FAs: the configuration again. */
static void forget_learnt(struct mn_reg *r)
{
	r->ha = r->conf.ha;
	r->fa_life_cap = 0;
	r->t_ha = r->t_fa = -1;
	r->have_nonce = false;
}

int mn_reg_init(struct mn_reg *r, struct eloop *l, const struct mn_reg_conf *c,
		const struct mn_reg_io *io)
{
	memset(r, 0, sizeof(*r));
	if (check_sa(&c->sa) < 0 || !io->send)
		return -1;
	r->conf = *c;
	normalise(&r->conf);
	r->io = *io;
	r->loop = l;
	r->state = MN_REG_IDLE;
	r->last_code = -1;
	forget_learnt(r);
	timer_init(&r->t_retx, on_retx, r);
	timer_init(&r->t_renew, on_renew, r);
	timer_init(&r->t_expire, on_expire, r);
	return 0;
}

void mn_reg_fini(struct mn_reg *r)
{
	timer_cancel(r->loop, &r->t_retx);
	timer_cancel(r->loop, &r->t_renew);
	timer_cancel(r->loop, &r->t_expire);
}

int mn_reg_start(struct mn_reg *r, const struct mn_reg_target *t)
{
	bool renew = r->have_binding && r->bound.path == t->path &&
		     r->bound.coa.s_addr == t->coa.s_addr;

	return begin(r, t, renew ? MN_REG_RENEWING : MN_REG_REQUESTING);
}

int mn_reg_deregister(struct mn_reg *r)
{
	struct mn_reg_target t = {.path = MN_REG_HOME, .coa = r->conf.home};

	return begin(r, &t, MN_REG_DEREGISTERING);
}

void mn_reg_cancel(struct mn_reg *r)
{
	if (!awaiting(r))
		return;
	timer_cancel(r->loop, &r->t_retx);
	resume_binding(r);
}

void mn_reg_status(const struct mn_reg *r, struct mn_reg_status *st)
{
	const struct mn_reg_target *t =
	    r->have_binding ? &r->bound : &r->target;
	uint64_t now = mono_ns();

	memset(st, 0, sizeof(*st));
	st->state = r->state;
	st->path = t->path;
	st->coa = t->coa;
	st->ha = r->ha;
	st->home = r->conf.home;
	st->granted = r->granted;
	if (r->have_binding)
		st->remaining =
		    !r->expire_ns ? UINT32_MAX
		    : r->expire_ns > now
			? (uint32_t)((r->expire_ns - now) / NS_PER_S)
			: 0;
	st->last_code = r->last_code;
	st->tries = awaiting(r) ? r->sent : 0;
	st->clock_offset = r->clock_offset;
	st->replay = r->conf.sa.replay;
	st->have_nonce = r->have_nonce;
	st->unverified_131 = r->unverified_131;
	st->forged_131 = r->forged_131;
}

const char *mn_reg_state_name(enum mn_reg_state s)
{
	static const char *const names[] = {
	    [MN_REG_IDLE] = "idle",
	    [MN_REG_REQUESTING] = "requesting",
	    [MN_REG_REGISTERED] = "registered",
	    [MN_REG_RENEWING] = "renewing",
	    [MN_REG_DEREGISTERING] = "deregistering",
	};

	return (unsigned)s <= MN_REG_DEREGISTERING ? names[s] : "?";
}

const char *mn_reg_path_name(enum mn_reg_path p)
{
	static const char *const names[] = {
	    [MN_REG_DIRECT] = "co-located",
	    [MN_REG_VIA_FA] = "via FA",
	    [MN_REG_VIA_VPN] = "via VPN",
	    [MN_REG_HOME] = "at home",
	};

	return (unsigned)p <= MN_REG_HOME ? names[p] : "?";
}

const char *mn_reg_outcome_name(enum mn_reg_outcome o)
{
	static const char *const names[] = {
	    [MN_REG_ACCEPTED] = "accepted",
	    [MN_REG_DEREGISTERED] = "deregistered",
	    [MN_REG_DENIED] = "denied",
	    [MN_REG_TIMEOUT] = "timeout",
	    [MN_REG_EXPIRED] = "expired",
	};

	return (unsigned)o <= MN_REG_EXPIRED ? names[o] : "?";
}
