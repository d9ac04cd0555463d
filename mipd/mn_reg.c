/*
 * mn_reg.c - the mobile node's registration state machine: building and
 * retransmitting Registration Requests, checking replies, keeping the
 * binding alive, deregistering at home.  See mn_reg.h for the states and
 * timers; RFC 5944 3.6 for the rules.
 */
#define LOG_TAG "mn"

#include <arpa/inet.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "mipd/mn_reg.h"

#define NTP_SECOND (1ULL << 32)

static const char *ip(struct in_addr a, char buf[INET_ADDRSTRLEN])
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN) ? buf : "?";
}

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
static void report(struct mn_reg *r, enum mn_reg_outcome o,
		   const struct mn_reg_target *t, uint8_t code, bool authed,
		   const struct reg_msg *m)
{
	struct mn_reg_result res = { .outcome = o,
				     .target = *t,
				     .code = code,
				     .authenticated = authed,
				     .lifetime = r->granted };

	if (m && m->has_udp_rep && m->udp_rep.code == MIP4_UDP_REP_ACCEPT) {
		res.udp_tunnel = true;
		res.keepalive = m->udp_rep.keepalive;
	}
	if (r->io.result)
		r->io.result(r->io.arg, &res);
}

/* --- building a request --------------------------------------------------- */

static bool colocated(enum mn_reg_path p)
{
	return p == MN_REG_DIRECT || p == MN_REG_VIA_VPN;
}

static uint8_t request_flags(const struct mn_reg *r)
{
	uint8_t f = 0;

	if (r->target.path == MN_REG_HOME)
		return 0;
	/* RFC 5944 3.3: D when the MN decapsulates itself (co-located). */
	if (colocated(r->target.path))
		f |= MIP4_RRQ_D;
	/* Seed 002 3: in mc the Mobile IP tunnel is reverse-tunnelled
	 * through the HA; elsewhere it is a configuration choice. */
	if (r->conf.reverse_tunnel || r->target.path == MN_REG_VIA_VPN)
		f |= MIP4_RRQ_T;
	return f;
}

/* Timestamps (RFC 5944 5.7.1), corrected by what a 133 taught us, and
 * strictly increasing even if the clock steps back. */
static uint64_t next_id(struct mn_reg *r)
{
	uint64_t id = reg_ntp_now() + ((uint64_t)r->clock_offset << 32);

	if (id <= r->last_id)
		id = r->last_id + 1;
	r->last_id = id;
	return id;
}

static int build(struct mn_reg *r, uint64_t id)
{
	bool home = r->target.path == MN_REG_HOME;
	struct reg_request rq = {
	    .flags = request_flags(r),
	    .lifetime = home ? 0 : r->conf.lifetime,
	    .home = r->conf.home,
	    .ha = r->conf.ha,
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
	/* RFC 5944 3.6.3: no longer than the requested lifetime. */
	return (uint32_t)r->conf.lifetime * 1000u;
}

static int transmit(struct mn_reg *r)
{
	char b[INET_ADDRSTRLEN];
	uint64_t id = next_id(r);
	uint32_t cap = wait_cap_ms(r);

	if (build(r, id) < 0) {
		log_err("cannot build a Registration Request (NAI too long?)");
		return -1;
	}
	r->ids[r->sent] = id;
	r->sent_ns[r->sent] = mono_ns();
	r->sent++;
	log_debug("RRQ %u/%u %s CoA %s id %016llx", r->sent, r->conf.tries,
		  mn_reg_path_name(r->target.path), ip(r->target.coa, b),
		  (unsigned long long)id);
	if (r->io.send(r->io.arg, &r->target, r->pkt, r->pkt_len) < 0)
		log_debug("send failed: counts as lost");
	timer_arm_ms(r->loop, &r->t_retx, r->next_wait_ms);
	r->next_wait_ms = r->next_wait_ms >= cap / 2 ? cap : r->next_wait_ms * 2;
	return 0;
}

/* A new attempt: fresh try count and backoff. */
static int begin(struct mn_reg *r, const struct mn_reg_target *t,
		 enum mn_reg_state st)
{
	timer_cancel(r->loop, &r->t_retx);
	r->target = *t;
	r->sent = 0;
	r->resynced = false;
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
	/* RFC 5944 3.8.3.1: the HA may shorten, never lengthen. */
	uint16_t granted = m->rp.lifetime < r->conf.lifetime ||
				   r->target.path == MN_REG_HOME
			       ? m->rp.lifetime
			       : r->conf.lifetime;

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

static void on_wrong_key(struct mn_reg *r, bool authed)
{
	log_err("home agent rejected our authentication: MN-HA key (SPI %u) "
		"is wrong%s; not registering until the configuration or the "
		"link changes",
		r->conf.sa.spi,
		authed ? "" : " (its reply does not verify with our key either)");
	timer_cancel(r->loop, &r->t_retx);
	timer_cancel(r->loop, &r->t_renew); /* a binding lapses at t_expire */
	set_state(r, MN_REG_AUTH_FAILED);
	report(r, MN_REG_DENIED, &r->target, MIP4_HA_MN_AUTH_FAILED, authed,
	       NULL);
}

/* RFC 5944 5.7.1: the HA put its time in the high 32 bits; adopt the
 * difference and try again at once, once per attempt. */
static bool resync(struct mn_reg *r, const struct reg_msg *m, int idx)
{
	int64_t off;

	if (r->resynced ||
	    reg_ts_resync(r->ids[idx], m->rp.id, reg_ntp_now(), &off) < 0)
		return false;
	log_info("home agent clock is %+lld s from ours (code 133): "
		 "resynchronised",
		 (long long)off);
	r->clock_offset = off;
	r->resynced = true;
	r->next_wait_ms = r->conf.retx_initial_ms;
	timer_cancel(r->loop, &r->t_retx);
	if (transmit(r) < 0)
		give_up(r);
	return true;
}

static void on_denied(struct mn_reg *r, const struct reg_msg *m, bool authed)
{
	uint32_t wait = r->next_wait_ms > MN_REG_DENIED_WAIT_MS
			    ? r->next_wait_ms
			    : MN_REG_DENIED_WAIT_MS;

	log_warn("registration denied: code %u (%s)%s", m->rp.code,
		 reg_code_name(m->rp.code),
		 authed ? "" : ", from the foreign agent");
	/* Back off; the next try (or give_up) comes from t_retx. */
	timer_arm_ms(r->loop, &r->t_retx, wait);
	report(r, MN_REG_DENIED, &r->target, m->rp.code, authed, m);
}

/* RFC 5944 3.6.2.1: the MN-HA authenticator must verify.  Two exceptions
 * are let through unverified: a foreign agent's own denial (64-127; it has
 * no MN-HA key) to back off on, and 131, which a HA holding another key
 * cannot sign in a way we can check - reporting it is the only way to tell
 * the admin. */
static bool check_auth(struct mn_reg *r, const struct reg_msg *m,
		       bool *authed)
{
	uint8_t code = m->rp.code;
	int res = m->has_mnha
		      ? reg_auth_verify(m, &m->mnha, &r->conf.sa, 1)
		      : REG_AUTH_NO_SA;

	*authed = res == REG_AUTH_OK;
	if (*authed || code == MIP4_HA_MN_AUTH_FAILED)
		return true;
	if (!m->has_mnha && code >= 64 && code < 128)
		return true;
	log_warn("reply code %u ignored: MN-HA authentication %s", code,
		 reg_auth_result_name(res));
	return false;
}

static void dispatch(struct mn_reg *r, const struct reg_msg *m, int idx,
		     bool authed)
{
	uint8_t code = m->rp.code;

	r->last_code = code;
	if (code == MIP4_HA_MN_AUTH_FAILED)
		on_wrong_key(r, authed);
	else if (!authed)
		on_denied(r, m, false);
	else if (MIP4_CODE_IS_SUCCESS(code))
		on_accepted(r, m, idx);
	else if (code != MIP4_HA_ID_MISMATCH || !resync(r, m, idx))
		on_denied(r, m, true);
}

void mn_reg_input(struct mn_reg *r, const uint8_t *pkt, size_t len)
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
	if (check_auth(r, &m, &authed))
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
	    sa->key_len > REG_KEY_MAX || !reg_auth_len(sa)) {
		log_err("MN-HA security association unusable (SPI %u)",
			sa->spi);
		return -1;
	}
	if (sa->replay != REG_REPLAY_TIMESTAMP) {
		log_err("MN-HA SPI %u: only timestamp replay protection is "
			"supported on the mobile node", sa->spi);
		return -1;
	}
	return 0;
}

int mn_reg_init(struct mn_reg *r, struct eloop *l,
		const struct mn_reg_conf *c, const struct mn_reg_io *io)
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

static bool refuse_auth_failed(const struct mn_reg *r)
{
	if (r->state != MN_REG_AUTH_FAILED)
		return false;
	log_warn("not registering: the home agent rejected MN-HA key SPI %u",
		 r->conf.sa.spi);
	return true;
}

int mn_reg_start(struct mn_reg *r, const struct mn_reg_target *t)
{
	bool renew;

	if (refuse_auth_failed(r))
		return -1;
	renew = r->have_binding && r->bound.path == t->path &&
		r->bound.coa.s_addr == t->coa.s_addr;
	return begin(r, t, renew ? MN_REG_RENEWING : MN_REG_REQUESTING);
}

int mn_reg_deregister(struct mn_reg *r)
{
	struct mn_reg_target t = { .path = MN_REG_HOME, .coa = r->conf.home };

	if (refuse_auth_failed(r))
		return -1;
	return begin(r, &t, MN_REG_DEREGISTERING);
}

void mn_reg_cancel(struct mn_reg *r)
{
	if (!awaiting(r))
		return;
	timer_cancel(r->loop, &r->t_retx);
	resume_binding(r);
}

void mn_reg_clear_failure(struct mn_reg *r, const struct mn_reg_conf *c)
{
	if (c) {
		if (check_sa(&c->sa) < 0)
			return;
		r->conf = *c;
		normalise(&r->conf);
	}
	if (r->state == MN_REG_AUTH_FAILED)
		resume_binding(r);
}

void mn_reg_status(const struct mn_reg *r, struct mn_reg_status *st)
{
	const struct mn_reg_target *t = r->have_binding ? &r->bound : &r->target;
	uint64_t now = mono_ns();

	memset(st, 0, sizeof(*st));
	st->state = r->state;
	st->path = t->path;
	st->coa = t->coa;
	st->ha = r->conf.ha;
	st->home = r->conf.home;
	st->granted = r->granted;
	if (r->have_binding)
		st->remaining = !r->expire_ns ? UINT32_MAX
				: r->expire_ns > now
				    ? (uint32_t)((r->expire_ns - now) / NS_PER_S)
				    : 0;
	st->last_code = r->last_code;
	st->tries = awaiting(r) ? r->sent : 0;
	st->clock_offset = r->clock_offset;
}

const char *mn_reg_state_name(enum mn_reg_state s)
{
	static const char *const names[] = {
	    [MN_REG_IDLE] = "idle",
	    [MN_REG_REQUESTING] = "requesting",
	    [MN_REG_REGISTERED] = "registered",
	    [MN_REG_RENEWING] = "renewing",
	    [MN_REG_DEREGISTERING] = "deregistering",
	    [MN_REG_AUTH_FAILED] = "auth-failed",
	};

	return (unsigned)s <= MN_REG_AUTH_FAILED ? names[s] : "?";
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
