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

/* Every timer idle: a zeroed one has slot 0 and reads as armed. */
static void visitor_init(struct visitor *v, struct fa *f, uint32_t hoa)
{
	memset(v, 0, sizeof(*v));
	v->fa = f;
	v->b.info.hoa = hoa;
	v->b.info.haa = f->coa;
	v->b.info.encap = BCACHE_ENCAP_IPIP;
	timer_init(&v->pend_timer, on_pending_timeout, v);
	timer_init(&v->life_timer, on_lifetime, v);
	/* never armed: the binding only describes the tunnel, no cache
	 * expires it */
	timer_init(&v->b.expiry, NULL, v);
}

static struct visitor *visitor_new(struct fa *f, uint32_t hoa)
{
	struct visitor *v;

	if (f->nvisitors >= f->conf->max_visitors || !(v = malloc(sizeof(*v))))
		return NULL;
	visitor_init(v, f, hoa);
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

/* ---- replies from the FA itself (RFC 5944 3.7.2.3) ----
 *
 * Which Registration Reply codes the foreign agent produces itself, and
 * why the others never come from it:
 *
 *  64 unspecified      a relayed request could not be sent for a reason
 *                      that is not unreachability (e.g. a firewall's
 *                      EPERM), or the host route to the visitor failed
 *  65 admin prohibited the Home Agent field is outside fa.home_agents
 *  66 resources        the visitor list is full (fa.max_visitors)
 *  67 MN auth failed   never: no MN-FA security associations configured,
 *                      an MN-FA extension is not checked (RFC 5944 3.7.2.1
 *                      makes it required only when an SA exists)
 *  68 HA auth failed   never: no FA-HA security associations; a reply's
 *                      FA-HA extension is not checked
 *  69 lifetime         longer than fa.registration_lifetime; the reply's
 *                      Lifetime is that maximum (3.7.2.3)
 *  70 bad request      malformed request (reg_parse_request), or an
 *                      Encapsulating Delivery Style extension without T
 *  71 bad reply        malformed reply from the home agent
 *  72 encapsulation    M or G bit: only IP-in-IP
 *  73 VJ               never: reserved, no bit asks for it any more
 *  74 revtun unavail   T bit, fa.reverse_tunnel false (RFC 3024 3.3)
 *  75 revtun mandatory no T bit, fa.reverse_tunnel_required
 *  76 too distant      T bit and the request's IP TTL is not 255
 *  77 bad CoA          not our care-of address (no D bit)
 *  78 timeout          no reply within fa.pending_timeout
 *  79 delivery style   Encapsulating Delivery Style extension with T:
 *                      only the Direct Delivery Style is supported
 *  80/81/82/88         relaying met ICMP net / host / port / other
 *                      unreachable from the path to the home agent, or
 *                      the same refusal from our own stack at sendmsg
 *  96 nonzero HoA      Home Address 0 with an NAI: we assign no home
 *                      addresses (RFC 2794)
 *  97 missing NAI      Home Address 0 and no NAI to name the node
 *  98 missing HA       Home Agent 0 or 255.255.255.255: we pick none
 *  99 missing HoA      never: it answers a dynamic home address request,
 *                      which 96 already refuses
 * 194 invalid HA       Home Agent multicast, class E, loopback, 0/8 or
 *                      one of our own addresses
 */

static void send_denial(struct fa *f, const struct visitor *v,
			const struct reg_request *rq, int code)
{
	struct reg_reply rp = {.code = (uint8_t)code,
			       .home = rq->home,
			       .ha = rq->ha,
			       .id = rq->id};
	uint8_t out[64];
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	/* RFC 5944 3.7.2.3: with 69 the Lifetime says what we accept */
	if (code == MIP4_FA_LIFETIME_TOO_LONG)
		rp.lifetime = f->conf->reg_lifetime;
	wb_init(&w, out, sizeof(out));
	reg_build_reply(&b, &w, &rp);
	if (reg_build_end(&b, &len) != REG_OK)
		return;
	f->st.req_denied++;
	f->last_denial = code;
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

/* 0/8, loopback, multicast, class E: no home agent lives there. */
static bool bad_unicast(uint32_t a)
{
	uint32_t h = ntohl(a);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

static bool ha_allowed(const struct fa_conf *c, uint32_t ha)
{
	uint32_t h = ntohl(ha);

	if (!c->nha_allow)
		return true;
	for (unsigned i = 0; i < c->nha_allow; i++)
		if ((h & c->ha_allow[i].mask) == c->ha_allow[i].net)
			return true;
	return false;
}

/* RFC 2794: who the node is and which home agent it names. */
static int check_identity(const struct fa *f, const struct reg_msg *m)
{
	const struct reg_request *rq = &m->rq;

	if (rq->home.s_addr == 0)
		return m->has_nai ? MIP4_FA_NONZERO_HOMEADDR_REQ
				  : MIP4_FA_MISSING_NAI;
	if (rq->ha.s_addr == 0 || rq->ha.s_addr == INADDR_BROADCAST)
		return MIP4_FA_MISSING_HA;
	if (bad_unicast(rq->ha.s_addr) || rq->ha.s_addr == f->addr ||
	    rq->ha.s_addr == f->coa)
		return MIP4_FA_BAD_HA_ADDR;
	if (!ha_allowed(f->conf, rq->ha.s_addr))
		return MIP4_FA_ADMIN_PROHIBITED;
	return -1;
}

/* RFC 3024 3.3: reverse tunnelling, its TTL check and delivery style. */
static int check_reverse(const struct fa *f, const struct reg_msg *m,
			 uint8_t ttl)
{
	bool t = m->rq.flags & MIP4_RRQ_T;
	bool eds = reg_find_ext(m, MIP4_EXT_ENCAP_DELIVERY) != NULL;

	if (t && !f->conf->reverse_tunnel)
		return MIP4_FA_REVTUN_UNAVAIL;
	if (!t && f->conf->reverse_required && m->rq.lifetime)
		return MIP4_FA_REVTUN_MANDATORY;
	if (t && ttl && ttl != 255)
		return MIP4_FA_TOO_DISTANT; /* not on our link */
	if (eds)
		return t ? MIP4_FA_DELIVERY_UNSUPPORTED : MIP4_FA_BAD_REQUEST;
	return -1;
}

int fa_check_request(const struct fa *f, const struct reg_msg *m, uint8_t ttl)
{
	const struct reg_request *rq = &m->rq;
	int code = check_identity(f, m);

	if (code >= 0)
		return code;
	if (rq->lifetime > f->conf->reg_lifetime)
		return MIP4_FA_LIFETIME_TOO_LONG;
	/* D: a co-located address registered through us (R bit) */
	if (!(rq->flags & MIP4_RRQ_D) && rq->lifetime &&
	    rq->coa.s_addr != f->coa)
		return MIP4_FA_BAD_COA;
	if (rq->flags & (MIP4_RRQ_M | MIP4_RRQ_G))
		return MIP4_FA_ENCAP_UNAVAIL; /* IP-in-IP only */
	return check_reverse(f, m, ttl);
}

int fa_unreach_code(uint8_t type, uint8_t code)
{
	if (type != 3) /* not Destination Unreachable: time exceeded... */
		return MIP4_FA_HA_UNREACH;
	switch (code) {
	case 0: /* net */
	case 6: /* destination network unknown */
		return MIP4_FA_HOME_NET_UNREACH;
	case 1: /* host */
	case 7: /* destination host unknown */
		return MIP4_FA_HA_HOST_UNREACH;
	case 3:
		return MIP4_FA_HA_PORT_UNREACH;
	default: /* protocol, fragmentation, prohibited... */
		return MIP4_FA_HA_UNREACH;
	}
}

int fa_errno_code(int err)
{
	switch (err < 0 ? -err : err) {
	case ENETUNREACH:
		return MIP4_FA_HOME_NET_UNREACH;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		return MIP4_FA_HA_HOST_UNREACH;
	case ECONNREFUSED:
		return MIP4_FA_HA_PORT_UNREACH;
	default:
		return MIP4_FA_UNSPECIFIED;
	}
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
	/* An active entry keeps tunnelling to its home agent until the new
	 * one accepts (a request after 136 names another). */
	v->pend_ha = rq->ha.s_addr;
	if (!v->active)
		v->ha = v->pend_ha;
	v->pending = true;
}

/* -1 when relayed, else the code to deny with. */
static int relay_request(struct fa *f, struct visitor *v,
			 const struct reg_msg *m)
{
	int rc;

	if (!v->k_link && fa_kernel_link(f, v, true) < 0)
		return MIP4_FA_UNSPECIFIED; /* we could not deliver to it */
	/* From the care-of address: a home agent comparing the outer
	 * source with the CoA (RFC 3519 NAT detection) must see them equal */
	rc = fa_send(f, f->coa, m->rq.ha.s_addr, f->conf->ha_port, m->pkt,
		     relay_len(m));
	if (rc < 0) {
		log_info("relaying the request of %s to %s failed: %s",
			 fa_ip(m->rq.home.s_addr), fa_ip(m->rq.ha.s_addr),
			 strerror(-rc));
		return fa_errno_code(rc);
	}
	timer_arm_ms(f->loop, &v->pend_timer, f->conf->pending_ms);
	f->st.req_relayed++;
	log_debug("relayed request of %s to %s (lifetime %u)",
		  fa_ip(m->rq.home.s_addr), fa_ip(m->rq.ha.s_addr),
		  m->rq.lifetime);
	return -1;
}

void fa_handle_request(struct fa *f, const uint8_t *pkt, size_t len,
		       uint32_t src, uint16_t sport, uint32_t local,
		       uint8_t ttl)
{
	struct visitor tmp; /* where a denial goes, never registered */
	struct reg_msg m;
	struct visitor *v;
	int err, code;

	f->st.req_rx++;
	err = reg_parse_request(&m, pkt, len);
	visitor_init(&tmp, f, m.rq.home.s_addr);
	tmp.src = src;
	tmp.sport = sport;
	tmp.local = local;
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
	code = fa_check_request(f, &m, ttl);
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
	code = relay_request(f, v, &m);
	if (code >= 0) {
		deny(f, v, &m.rq, code);
		pending_end(f, v);
	}
}

/* The relayed request the quoted bytes are, by home address and the
 * whole Identification; the fixed part is all a quote must hold. */
void fa_handle_icmp_error(struct fa *f, const uint8_t *payload, size_t len,
			  uint32_t dst, uint8_t type, uint8_t code)
{
	struct reg_request rq = {0};
	struct visitor *v;
	struct rbuf r;
	uint8_t t = 0;
	int deny_code;

	rb_init(&r, payload, len);
	rb_u8(&r, &t);
	rb_skip(&r, 3);
	rb_bytes(&r, &rq.home.s_addr, 4);
	rb_skip(&r, 8);
	rb_u64(&r, &rq.id);
	if (r.failed || t != MIP4_REG_REQUEST)
		return;
	v = fa_find(f, rq.home.s_addr);
	if (!v || !v->pending || v->pend_id != rq.id || v->pend_ha != dst)
		return;
	deny_code = fa_unreach_code(type, code);
	log_info("ICMP type %u code %u from the path to home agent %s for "
		 "%s: %d (%s) to the node",
		 type, code, fa_ip(dst), fa_ip(rq.home.s_addr), deny_code,
		 reg_code_name((uint8_t)deny_code));
	rq.ha.s_addr = v->pend_ha;
	send_denial(f, v, &rq, deny_code);
	pending_end(f, v);
}

static void on_pending_timeout(void *owner)
{
	struct visitor *v = owner;
	struct fa *f = v->fa;
	struct reg_request rq = {.id = v->pend_id};

	rq.home.s_addr = v->b.info.hoa;
	rq.ha.s_addr = v->pend_ha;
	f->st.timeouts++;
	log_info("no reply from home agent %s for %s: 78 to the node",
		 fa_ip(v->pend_ha), fa_ip(v->b.info.hoa));
	send_denial(f, v, &rq, MIP4_FA_REG_TIMEOUT);
	pending_end(f, v);
}

/* ---- replies from home agents ---- */

static void activate(struct fa *f, struct visitor *v, uint16_t lifetime)
{
	bool t = (v->pend_flags & MIP4_RRQ_T) && f->conf->reverse_tunnel;

	if (!v->active || v->ha != v->pend_ha)
		log_info("visitor %s active: home agent %s, %us%s",
			 fa_ip(v->b.info.hoa), fa_ip(v->pend_ha), lifetime,
			 t ? ", reverse tunnel" : "");
	v->ha = v->pend_ha;
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
		log_info("home agent %s denied %s: %u (%s)", fa_ip(v->pend_ha),
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

void fa_handle_reply(struct fa *f, const uint8_t *pkt, size_t len, uint32_t src)
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
		struct reg_request rq = {.home = m.rp.home,
					 .ha.s_addr = v->pend_ha,
					 .id = v->pend_id};

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
	f->udp_fd = f->pkt_fd = -1;
	f->last_denial = -1;
	agent_adv_init(&f->adv);
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

bool fa_visitor_get(const struct fa *f, uint32_t hoa, struct fa_visitor_info *o)
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
	jw_uint(o, "delivered", s->rx_ipip); /* decapsulated to visitors */
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
	jw_uint(o, "advertisement_seq", f->adv.seq);
	jw_uint(o, "registration_lifetime", c->reg_lifetime);
	jw_bool(o, "reverse_tunnel", c->reverse_tunnel);
	jw_uint(o, "visitors", f->nvisitors);
	jw_uint(o, "max_visitors", c->max_visitors);
	jw_int(o, "last_denial", f->last_denial);
	jw_str(o, "last_denial_name",
	       f->last_denial < 0 ? ""
				  : reg_code_name((uint8_t)f->last_denial));
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
