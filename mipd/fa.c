/*
 * fa.c - the foreign agent's visitor list (RFC 5944 3.7.1) and the
 * relaying of registrations (3.7.2, 3.7.3), plus the role's lifecycle.
 * Sockets and kernel changes are in fa_io.c, agent discovery in
 * fa_adv.c; see fa.h for the whole picture.
 */
#define LOG_TAG "fa"

#include "mipd/fa.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "mipd/fa_int.h"
#include "mipd/reg_msg.h"
#include "mipd/tunnel.h"

/* ---- the visitor list ---- */

static unsigned bucket(uint32_t hoa)
{
	return (unsigned)(((uint64_t)hoa * 0x9e3779b97f4a7c15ULL) >> 56) %
	       FA_HASH_SIZE;
}

struct visitor *fa_find(const struct fa *f, uint32_t hoa)
{
	for (struct visitor *v = f->hash[bucket(hoa)]; v; v = v->next)
		if (v->b.info.hoa == hoa)
			return v;
	return NULL;
}

static void on_pending_timeout(void *owner);
static void on_lifetime(void *owner);

static struct visitor *visitor_new(struct fa *f, uint32_t hoa)
{
	struct visitor *v;

	if (f->nvisitors >= f->conf->max_visitors ||
	    !(v = calloc(1, sizeof(*v))))
		return NULL;
	v->fa = f;
	v->b.info.hoa = hoa;
	v->b.info.haa = f->coa;
	v->b.info.encap = BCACHE_ENCAP_IPIP;
	timer_init(&v->pend_timer, on_pending_timeout, v);
	timer_init(&v->life_timer, on_lifetime, v);
	v->next = f->hash[bucket(hoa)];
	f->hash[bucket(hoa)] = v;
	f->nvisitors++;
	return v;
}

/* Undoes everything the entry did to the kernel, then forgets it. */
static void visitor_del(struct fa *f, struct visitor *v)
{
	struct visitor **pp = &f->hash[bucket(v->b.info.hoa)];

	while (*pp && *pp != v)
		pp = &(*pp)->next;
	if (*pp)
		*pp = v->next;
	timer_cancel(f->loop, &v->pend_timer);
	timer_cancel(f->loop, &v->life_timer);
	fa_kernel_rule(f, v, false);
	fa_kernel_link(f, v, false);
	f->nvisitors--;
	free(v);
}

/* A pending request ended without an accepting reply: an entry that was
 * active keeps its old registration (the home agent's binding was not
 * changed by a denial either); a new one goes. */
static void pending_end(struct fa *f, struct visitor *v)
{
	v->pending = false;
	timer_cancel(f->loop, &v->pend_timer);
	if (!v->active)
		visitor_del(f, v);
}

static void on_lifetime(void *owner)
{
	struct visitor *v = owner;
	struct fa *f = v->fa;

	/* RFC 5944 3.7: the FA sends nothing when a lifetime runs out */
	f->st.expired++;
	log_info("visitor %s expired", fa_ip(v->b.info.hoa));
	v->active = false;
	if (!v->pending)
		visitor_del(f, v);
	else
		fa_kernel_rule(f, v, false);
}

/* ---- replies from the FA itself (RFC 5944 3.7.2.3) ---- */

static void send_denial(struct fa *f, const struct visitor *v,
			const struct reg_request *rq, int code)
{
	struct reg_reply rp = { .code = (uint8_t)code, .home = rq->home,
				.ha = rq->ha, .id = rq->id };
	uint8_t out[64];
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	wb_init(&w, out, sizeof(out));
	reg_build_reply(&b, &w, &rp);
	if (reg_build_end(&b, &len) != REG_OK)
		return;
	f->st.req_denied++;
	log_info("denying %s: %u (%s)", fa_ip(rq->home.s_addr), code,
		 reg_code_name((uint8_t)code));
	fa_send(f, v->local, v->src, v->sport, out, len);
}

/* The node's link state is needed to reach it at all; a node we do not
 * know yet gets it just for this reply. */
static void deny(struct fa *f, struct visitor *v, const struct reg_request *rq,
		 int code)
{
	bool temp = !v->k_link;

	if (temp)
		fa_kernel_link(f, v, true);
	send_denial(f, v, rq, code);
	if (temp)
		fa_kernel_link(f, v, false);
}

/* ---- requests from visiting mobile nodes ---- */

/* RFC 5944 3.7.2.1, RFC 3024 3.3, RFC 2794: -1 to relay, or the code. */
static int check_request(const struct fa *f, const struct reg_request *rq)
{
	if (rq->home.s_addr == 0)
		return MIP4_FA_NONZERO_HOMEADDR_REQ; /* no NAI support */
	if (rq->ha.s_addr == 0 || rq->ha.s_addr == INADDR_BROADCAST)
		return MIP4_FA_MISSING_HA;
	if (rq->lifetime > f->conf->reg_lifetime)
		return MIP4_FA_LIFETIME_TOO_LONG;
	/* D: a co-located address registered through us (R bit) */
	if (!(rq->flags & MIP4_RRQ_D) && rq->lifetime &&
	    rq->coa.s_addr != f->coa)
		return MIP4_FA_BAD_COA;
	if (rq->flags & (MIP4_RRQ_M | MIP4_RRQ_G))
		return MIP4_FA_ENCAP_UNAVAIL; /* IP-in-IP only */
	if ((rq->flags & MIP4_RRQ_T) && !f->conf->reverse_tunnel)
		return MIP4_FA_REVTUN_UNAVAIL;
	if (!(rq->flags & MIP4_RRQ_T) && f->conf->reverse_required &&
	    rq->lifetime)
		return MIP4_FA_REVTUN_MANDATORY;
	return -1;
}

/* RFC 5944 3.7.2.2: relayed unchanged through the MN-HA authenticator;
 * what follows it was addressed to us (3.6.1.3) and is not passed on. */
static size_t relay_len(const struct reg_msg *m)
{
	const struct reg_ext *e = reg_find_ext(m, MIP4_EXT_MN_HA_AUTH);

	return e ? e->off + 2 + e->body.len : m->len;
}

static void remember(struct visitor *v, const struct reg_request *rq,
		     uint32_t src, uint16_t sport, uint32_t local)
{
	v->src = src;
	v->sport = sport;
	v->local = local;
	v->pend_id = rq->id;
	v->pend_lifetime = rq->lifetime;
	v->pend_flags = rq->flags;
	if (!v->active)
		v->ha = rq->ha.s_addr;
	v->pending = true;
}

static void relay_request(struct fa *f, struct visitor *v,
			  const struct reg_msg *m)
{
	if (!v->k_link)
		fa_kernel_link(f, v, true);
	timer_arm_ms(f->loop, &v->pend_timer, f->conf->pending_ms);
	/* From the care-of address: a home agent comparing the outer
	 * source with the CoA (RFC 3519 NAT detection) must see them equal */
	fa_send(f, f->coa, m->rq.ha.s_addr, f->conf->ha_port, m->pkt,
		relay_len(m));
	f->st.req_relayed++;
	log_debug("relayed request of %s to %s (lifetime %u)",
		  fa_ip(m->rq.home.s_addr), fa_ip(m->rq.ha.s_addr),
		  m->rq.lifetime);
}

void fa_handle_request(struct fa *f, const uint8_t *pkt, size_t len,
		       uint32_t src, uint16_t sport, uint32_t local)
{
	struct visitor tmp = { .fa = f, .src = src, .sport = sport,
			       .local = local };
	struct reg_msg m;
	struct visitor *v;
	int err, code;

	f->st.req_rx++;
	err = reg_parse_request(&m, pkt, len);
	tmp.b.info.hoa = m.rq.home.s_addr;
	tmp.has_mac = fa_learn_mac(f, src, sport, tmp.mac);
	if (err != REG_OK) {
		f->st.malformed++;
		/* RFC 5944 3.7.2.1: poorly formed -> 70, unless the RFC
		 * says to drop (unknown extension 0-127, too short) */
		if (!reg_err_discard(err) && m.rq.home.s_addr)
			deny(f, &tmp, &m.rq, MIP4_FA_BAD_REQUEST);
		return;
	}
	v = fa_find(f, m.rq.home.s_addr);
	code = check_request(f, &m.rq);
	if (code < 0 && !v && !(v = visitor_new(f, m.rq.home.s_addr)))
		code = MIP4_FA_NO_RESOURCES;
	if (code >= 0) {
		/* a known node's route and neighbour entry stay as they are */
		tmp.k_link = v && v->k_link;
		deny(f, &tmp, &m.rq, code);
		return;
	}
	if (tmp.has_mac) {
		if (v->k_link && memcmp(v->mac, tmp.mac, ETH_ALEN))
			fa_kernel_link(f, v, false); /* new MAC: redo */
		memcpy(v->mac, tmp.mac, ETH_ALEN);
		v->has_mac = true;
	}
	remember(v, &m.rq, src, sport, local);
	relay_request(f, v, &m);
}

static void on_pending_timeout(void *owner)
{
	struct visitor *v = owner;
	struct fa *f = v->fa;
	struct reg_request rq = { .id = v->pend_id };

	rq.home.s_addr = v->b.info.hoa;
	rq.ha.s_addr = v->ha;
	f->st.timeouts++;
	log_info("no reply from home agent %s for %s: 78 to the node",
		 fa_ip(v->ha), fa_ip(v->b.info.hoa));
	send_denial(f, v, &rq, MIP4_FA_REG_TIMEOUT);
	pending_end(f, v);
}

/* ---- replies from home agents ---- */

static void activate(struct fa *f, struct visitor *v, uint16_t lifetime)
{
	bool t = (v->pend_flags & MIP4_RRQ_T) && f->conf->reverse_tunnel;

	if (!v->active)
		log_info("visitor %s active: home agent %s, %us%s",
			 fa_ip(v->b.info.hoa), fa_ip(v->ha), lifetime,
			 t ? ", reverse tunnel" : "");
	v->active = true;
	v->b.info.coa = v->ha;
	v->b.info.ident = v->pend_id;
	v->b.info.flags = v->pend_flags;
	v->b.info.lifetime = lifetime;
	fa_kernel_rule(f, v, t);
	if (lifetime == BCACHE_LIFETIME_INF) {
		v->expires_ns = UINT64_MAX;
		timer_cancel(f->loop, &v->life_timer);
		return;
	}
	v->expires_ns = mono_ns() + (uint64_t)lifetime * NS_PER_S;
	timer_arm_at(f->loop, &v->life_timer, v->expires_ns);
}

/* RFC 5944 3.7.3.1: the pending request with this home address and the
 * same low-order 32 bits of Identification (the home agent may have
 * rewritten the high-order ones, 5.7). */
static struct visitor *match_reply(const struct fa *f,
				   const struct reg_reply *rp)
{
	struct visitor *v = fa_find(f, rp->home.s_addr);

	if (!v || !v->pending || (uint32_t)v->pend_id != (uint32_t)rp->id)
		return NULL;
	return v;
}

static void relay_reply(struct fa *f, struct visitor *v,
			const struct reg_msg *m)
{
	uint16_t lifetime = m->rp.lifetime;

	/* 3.7.3.2: the visitor entry takes the granted lifetime */
	if (MIP4_CODE_IS_SUCCESS(m->rp.code) && lifetime > v->pend_lifetime)
		lifetime = v->pend_lifetime;
	fa_send(f, v->local, v->src, v->sport, m->pkt, relay_len(m));
	f->st.rep_relayed++;
	if (!MIP4_CODE_IS_SUCCESS(m->rp.code)) {
		log_info("home agent %s denied %s: %u (%s)", fa_ip(v->ha),
			 fa_ip(v->b.info.hoa), m->rp.code,
			 reg_code_name(m->rp.code));
		pending_end(f, v);
	} else if (lifetime == 0 || v->pend_lifetime == 0) {
		log_info("visitor %s deregistered", fa_ip(v->b.info.hoa));
		visitor_del(f, v);
	} else {
		v->pending = false;
		timer_cancel(f->loop, &v->pend_timer);
		activate(f, v, lifetime);
	}
}

void fa_handle_reply(struct fa *f, const uint8_t *pkt, size_t len,
		     uint32_t src)
{
	struct reg_msg m;
	struct visitor *v;
	int err = reg_parse_reply(&m, pkt, len);

	f->st.rep_rx++;
	v = err == REG_OK || !reg_err_discard(err) ? match_reply(f, &m.rp)
						   : NULL;
	if (!v) {
		f->st.rep_unmatched++;
		log_debug("reply from %s matches no pending request",
			  fa_ip(src));
		return;
	}
	if (err != REG_OK) {
		struct reg_request rq = { .home = m.rp.home, .ha.s_addr = v->ha,
					  .id = v->pend_id };

		/* RFC 5944 3.7.3.1: poorly formed reply -> 71 */
		f->st.malformed++;
		send_denial(f, v, &rq, MIP4_FA_BAD_REPLY);
		pending_end(f, v);
		return;
	}
	relay_reply(f, v, &m);
}

/* ---- lifecycle ---- */

struct fa *fa_new(struct eloop *l, const struct fa_conf *conf)
{
	struct fa *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->loop = l;
	f->conf = conf;
	f->udp_fd = f->icmp_fd = f->pkt_fd = -1;
	return f;
}

int fa_start(struct fa *f)
{
	if (!f->conf->interface[0]) {
		log_err("foreign agent: set fa.interface to the visited "
			"link, e.g. fa = { interface = \"br-fa\"; };");
		return -1;
	}
	if (fa_io_open(f) < 0 || fa_adv_open(f) < 0)
		return -1;
	log_info("foreign agent on %s: care-of address %s, advertising "
		 "every %u ms, reverse tunnelling %s",
		 f->conf->interface, fa_ip(f->coa), f->conf->adv_interval_ms,
		 f->conf->reverse_tunnel ? "offered" : "off");
	return 0;
}

void fa_free(struct fa *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < FA_HASH_SIZE; i++)
		while (f->hash[i])
			visitor_del(f, f->hash[i]);
	fa_adv_close(f);
	fa_io_close(f);
	free(f);
}

const struct fa_stats *fa_stats(const struct fa *f)
{
	return &f->st;
}

size_t fa_visitor_count(const struct fa *f)
{
	return f->nvisitors;
}

uint32_t fa_coa(const struct fa *f)
{
	return f->coa;
}

bool fa_visitor_get(const struct fa *f, uint32_t hoa,
		    struct fa_visitor_info *o)
{
	const struct visitor *v = fa_find(f, hoa);
	uint64_t now = mono_ns();

	if (!v)
		return false;
	memset(o, 0, sizeof(*o));
	o->hoa = hoa;
	o->ha = v->ha;
	o->src = v->src;
	o->sport = v->sport;
	memcpy(o->mac, v->mac, ETH_ALEN);
	o->has_mac = v->has_mac;
	o->active = v->active;
	o->pending = v->pending;
	o->flags = v->active ? v->b.info.flags : v->pend_flags;
	o->lifetime = v->active ? v->b.info.lifetime : v->pend_lifetime;
	if (v->active && v->expires_ns == UINT64_MAX)
		o->remaining = BCACHE_LIFETIME_INF;
	else if (v->active && v->expires_ns > now)
		o->remaining =
			(uint32_t)((v->expires_ns - now + NS_PER_S - 1) / NS_PER_S);
	return true;
}

/* ---- control channel ---- */

static void counters_json(const struct fa_stats *s, struct jw *o)
{
	jw_obj_begin(o, "fa_counters");
	jw_uint(o, "advertisements", s->adv_sent);
	jw_uint(o, "solicitations", s->sol_rx);
	jw_uint(o, "requests", s->req_rx);
	jw_uint(o, "relayed_requests", s->req_relayed);
	jw_uint(o, "denied_by_fa", s->req_denied);
	jw_uint(o, "replies", s->rep_rx);
	jw_uint(o, "relayed_replies", s->rep_relayed);
	jw_uint(o, "unmatched_replies", s->rep_unmatched);
	jw_uint(o, "malformed", s->malformed);
	jw_uint(o, "timeouts", s->timeouts);
	jw_uint(o, "expired", s->expired);
	jw_uint(o, "kernel_errors", s->kernel_err);
	jw_uint(o, "send_errors", s->send_err);
	jw_obj_end(o);
}

static void tunnel_json(const struct tunnel *t, struct jw *o)
{
	const struct tunnel_stats *s = tunnel_stats(t);

	jw_obj_begin(o, "tunnel");
	jw_str(o, "device", tunnel_name(t));
	jw_uint(o, "delivered", s->rx_ipip);	  /* decapsulated to visitors */
	jw_uint(o, "not_for_visitor", s->rx_src_drop);
	jw_uint(o, "rx_bad", s->rx_bad);
	jw_uint(o, "reverse_tunnelled", s->tx_ipip);
	jw_uint(o, "reverse_no_visitor", s->tx_no_binding);
	jw_uint(o, "errors", s->tx_err + s->rx_err);
	jw_obj_end(o);
}

void fa_ctl_status(const struct fa *f, struct jw *o)
{
	const struct fa_conf *c = f->conf;

	jw_str(o, "fa_interface", c->interface);
	jw_str(o, "care_of_address", fa_ip(f->coa));
	jw_uint(o, "advertise_interval_ms", c->adv_interval_ms);
	jw_uint(o, "advertisement_seq", f->adv_seq);
	jw_uint(o, "registration_lifetime", c->reg_lifetime);
	jw_bool(o, "reverse_tunnel", c->reverse_tunnel);
	jw_uint(o, "visitors", f->nvisitors);
	jw_uint(o, "max_visitors", c->max_visitors);
	counters_json(&f->st, o);
	if (f->tun)
		tunnel_json(f->tun, o);
}

static void visitor_json(const struct fa *f, const struct visitor *v,
			 struct jw *o)
{
	struct fa_visitor_info i;
	char mac[18] = "-", flags[9];

	fa_visitor_get(f, v->b.info.hoa, &i);
	if (i.has_mac)
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 i.mac[0], i.mac[1], i.mac[2], i.mac[3], i.mac[4],
			 i.mac[5]);
	jw_obj_begin(o, NULL);
	jw_str(o, "home_address", fa_ip(i.hoa));
	jw_str(o, "home_agent", fa_ip(i.ha));
	jw_str(o, "mac", mac);
	jw_uint(o, "source_port", i.sport);
	jw_str(o, "state", i.active ? "active" : "pending");
	jw_bool(o, "pending", i.pending);
	jw_uint(o, "lifetime", i.lifetime);
	jw_uint(o, "remaining", i.remaining);
	jw_str(o, "flags", reg_flags_str(i.flags, flags));
	jw_bool(o, "reverse_tunnel", i.flags & MIP4_RRQ_T);
	jw_obj_end(o);
}

void fa_ctl_visitors(const struct fa *f, struct jw *o)
{
	jw_uint(o, "count", f->nvisitors);
	jw_arr_begin(o, "visitors");
	for (unsigned b = 0; b < FA_HASH_SIZE; b++)
		for (const struct visitor *v = f->hash[b]; v; v = v->next)
			visitor_json(f, v, o);
	jw_arr_end(o);
}
