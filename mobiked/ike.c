/*
 * ike.c - the engine: the life of the one IKE SA towards the gateway.
 *
 * Our exchanges, each an ordered task list (the order is the payload
 * order of the request and the processing order of the response):
 *   IKE_SA_INIT      init, natd
 *   IKE_AUTH         auth, config, child   (config before child: the inner
 *                                           address goes to the data plane
 *                                           with the SA)
 *   INFORMATIONAL    dpd | delete | child-delete
 *   CREATE_CHILD_SA  child-rekey | ike-rekey
 * The gateway's requests, answered by the responder steps of:
 *   INFORMATIONAL    dpd, child-delete, delete   (delete last: the SA dies
 *                                                 after the answer)
 *   CREATE_CHILD_SA  ike-rekey, child-rekey      (each takes its own kind)
 *   on a replaced IKE SA: old-ike (ike_rekey.c)
 *
 * Timers are named events: t_dpd (2.4), t_keepalive (RFC 3948 2.3),
 * t_establish (retry after a failure, growing wait), t_retransmit
 * (ike_exchange.c), rk.t_rekey (CHILD_SA lifetime, task_rekey.c),
 * irk.t_rekey (IKE SA lifetime, ike_rekey.c).
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "mobiked/ike_task.h"

#define RETRY_MAX_MS 60000u

static const struct task *const init_tasks[] = {&task_init, &task_natd};
static const struct task *const auth_tasks[] = {&task_auth, &task_config,
						&task_child};
static const struct task *const dpd_tasks[] = {&task_dpd};
static const struct task *const delete_tasks[] = {&task_delete};

static const struct task *const info_r[] = {&task_dpd, &task_child_delete,
					    &task_delete};
static const struct task *const create_r[] = {&task_ike_rekey,
					      &task_child_rekey};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* IKE_SA_INIT and IKE_AUTH are never answered: we only initiate them. */
const struct task *const *engine_responder(uint8_t exchange, unsigned *n)
{
	switch (exchange) {
	case INFORMATIONAL:
		*n = N(info_r);
		return info_r;
	case CREATE_CHILD_SA:
		*n = N(create_r);
		return create_r;
	default:
		*n = 0;
		return NULL;
	}
}

static void start_sa(struct ike_engine *e);

static void set_dead(struct ike_engine *e)
{
	if (e->sa.state != IKE_ST_DEAD && e->sa.state != IKE_ST_IDLE)
		ike_sa_set_state(&e->sa, IKE_ST_DEAD);
}

/* Failures are retried after timeout * base^n, at most a minute: never a
 * busy loop, even with a wrong PSK. */
static uint64_t retry_ms(const struct ike_engine *e)
{
	const struct retransmit_conf *r = &e->conf->retransmit;
	double ms = r->timeout_ms ? r->timeout_ms : 1000;

	for (unsigned i = 1; i < e->failures && ms < RETRY_MAX_MS; i++)
		ms *= r->base > 1 ? r->base : 2;
	return ms < RETRY_MAX_MS ? (uint64_t)ms : RETRY_MAX_MS;
}

/* keyingtries: after that many failed attempts in a row, wait for `up`.
 * An attempt counts when its schedule ran out or an authenticated message
 * ended it, never for unauthenticated input alone (2.21.1: anyone on the
 * path could forge that and stop us for good). */
static bool give_up(struct ike_engine *e)
{
	unsigned n = ++e->attempts_failed;
	size_t l = strlen(e->last_error);

	if (!e->conf->keyingtries || n < e->conf->keyingtries)
		return false;
	log_warn("giving up after %u failed attempt%s (keyingtries); "
		 "`mobctl mobiked up` tries again",
		 n, n == 1 ? "" : "s");
	snprintf(e->last_error + l, sizeof(e->last_error) - l,
		 "%sgave up after %u attempts", l ? "; " : "", n);
	e->want_up = false;
	return true;
}

static void retry_later(struct ike_engine *e)
{
	e->failures++;
	/* Several gateways: try the next one (in order of use). */
	if (e->conf->n_gateway > 1)
		e->gw = (e->gw + 1) % e->conf->n_gateway;
	log_info("retrying in %llu ms", (unsigned long long)retry_ms(e));
	timer_arm_ms(e->loop, &e->sa.t_establish, retry_ms(e));
}

/* counts: the failure counts against keyingtries (give_up). */
static void sa_down(struct ike_engine *e, const char *why, bool counts)
{
	exchange_abort(e);
	child_uninstall(e);
	timer_cancel(e->loop, &e->sa.t_dpd);
	timer_cancel(e->loop, &e->sa.t_keepalive);
	ike_rekey_reset(e);
	frag_reset(e);
	if (e->sa.state != IKE_ST_DEAD && e->sa.state != IKE_ST_IDLE)
		log_warn("IKE SA with the gateway is down: %s", why);
	set_dead(e);
	ike_sa_clear(&e->sa);
	if (e->want_up && !(counts && give_up(e)))
		retry_later(e);
}

/* In IKE_AUTH every response is authenticated (SK); IKE_SA_INIT's are
 * not, so init_done decides for itself. */
void engine_sa_dead(struct ike_engine *e, const char *why)
{
	sa_down(e, why, e->sa.state == IKE_ST_AUTH_SENT);
}

/* IKE messages and ESP packets we sent: either keeps the NAT mapping. */
static uint64_t sent_count(struct ike_engine *e)
{
	struct dp_counters c;

	memset(&c, 0, sizeof(c));
	if (e->dp && e->sa.child.installed)
		e->dp->ops->counters(e->dp, e->sa.child.spi_in, &c);
	return e->stats.tx + c.out_packets;
}

static void keepalive_arm(struct ike_engine *e)
{
	if (e->sa.natt && e->conf->keepalive_s)
		timer_arm_ms(e->loop, &e->sa.t_keepalive,
			     (uint64_t)e->conf->keepalive_s * 1000);
}

void engine_sa_established(struct ike_engine *e)
{
	if (ike_sa_set_state(&e->sa, IKE_ST_ESTABLISHED))
		return;
	e->failures = 0;
	e->attempts_failed = 0;
	e->last_error[0] = 0;
	e->established_ns = mono_ns();
	e->stats.established++;
	if (e->conf->dpd_delay_s)
		timer_arm_ms(e->loop, &e->sa.t_dpd,
			     (uint64_t)e->conf->dpd_delay_s * 1000);
	e->ka_sent = sent_count(e);
	keepalive_arm(e);
	ike_rekey_arm(e);
}

static void auth_done(struct ike_engine *e, int rc)
{
	if (rc == 0) {
		engine_sa_established(e);
		return;
	}
	/* The gateway has an IKE SA if it authenticated us: tell it. */
	if (e->auth_ok)
		delete_oneshot(e);
	engine_sa_dead(e, e->last_error[0] ? e->last_error : "IKE_AUTH");
}

/* Nothing unauthenticated ends IKE_SA_INIT (task_init.c ignores it):
 * only the schedule running out counts as a failed attempt. */
static void init_done(struct ike_engine *e, int rc)
{
	if (rc || ike_sa_set_state(&e->sa, IKE_ST_AUTH_SENT)) {
		sa_down(e, e->last_error[0] ? e->last_error : "IKE_SA_INIT",
			rc == -ETIMEDOUT);
		return;
	}
	if (exchange_start(e, IKE_AUTH, auth_tasks, N(auth_tasks), auth_done))
		engine_sa_dead(e, "cannot build IKE_AUTH");
}

static int path_init(struct ike_engine *e)
{
	const struct gateway_conf *g = &e->conf->gateway[e->gw];
	struct ike_sa *sa = &e->sa;

	sa->remote = g->sa;
	if (e->io.local_addr(e->io.arg, &sa->remote, &sa->local))
		return -1;
	if (sa->local.ss_family == AF_INET)
		((struct sockaddr_in *)&sa->local)->sin_port =
		    htobe16(IKE_PORT);
	else
		((struct sockaddr_in6 *)&sa->local)->sin6_port =
		    htobe16(IKE_PORT);
	return 0;
}

static void start_sa(struct ike_engine *e)
{
	struct ike_sa *sa = &e->sa;

	if (sa->state == IKE_ST_DEAD)
		ike_sa_set_state(sa, IKE_ST_IDLE);
	ike_sa_clear(sa);
	e->auth_ok = false;
	e->cookie_tries = e->ke_tries = 0;
	while (!sa->spi_i)
		RAND_bytes((uint8_t *)&sa->spi_i, sizeof(sa->spi_i));
	sa->dh_group = e->conf->ike[0].dh;
	if (!e->conf->n_gateway || path_init(e)) {
		snprintf(e->last_error, sizeof(e->last_error),
			 "no route to the gateway");
		e->want_up = e->want_up && e->conf->n_gateway;
		if (e->want_up && !give_up(e))
			retry_later(e);
		return;
	}
	ike_sa_set_state(sa, IKE_ST_INIT_SENT);
	if (exchange_start(e, IKE_SA_INIT, init_tasks, N(init_tasks),
			   init_done))
		engine_sa_dead(e, "cannot build IKE_SA_INIT");
}

static void establish_cb(void *owner)
{
	struct ike_engine *e = owner;

	if (e->want_up &&
	    (e->sa.state == IKE_ST_DEAD || e->sa.state == IKE_ST_IDLE))
		start_sa(e);
}

static void dpd_done(struct ike_engine *e, int rc)
{
	if (rc)
		engine_sa_dead(e, "DPD: the gateway does not answer");
}

/* 2.4: only inbound silence triggers a check; traffic we receive (any
 * authenticated IKE message) re-arms the timer in ike_exchange.c. */
static void dpd_cb(void *owner)
{
	struct ike_engine *e = owner;
	uint64_t delay = (uint64_t)e->conf->dpd_delay_s * 1000;

	if (e->sa.state != IKE_ST_ESTABLISHED || !delay)
		return;
	if (e->x.active) {
		timer_arm_ms(e->loop, &e->sa.t_dpd, delay);
		return;
	}
	log_debug("DPD: %llu s without a message from the gateway",
		  (unsigned long long)e->conf->dpd_delay_s);
	if (exchange_start(e, INFORMATIONAL, dpd_tasks, N(dpd_tasks), dpd_done))
		engine_sa_dead(e, "cannot build DPD request");
}

/* RFC 3948 2.3: one 0xFF octet keeps the NAT mapping of port 4500.  It
 * is needed only when nothing else went out for keepalive_s (RFC 3948 4):
 * our IKE messages and ESP packets use the same mapping. */
static void keepalive_cb(void *owner)
{
	static const uint8_t ka = 0xff;
	struct ike_engine *e = owner;
	uint64_t n;

	if (e->sa.state != IKE_ST_ESTABLISHED || !e->sa.natt)
		return;
	n = sent_count(e);
	if (n == e->ka_sent)
		e->io.send(e->io.arg, &ka, 1, &e->sa.remote, true, false);
	e->ka_sent = n;
	keepalive_arm(e);
}

struct ike_engine *ike_engine_new(struct eloop *l,
				  const struct mobiked_conf *conf,
				  const struct ike_io *io, struct dp *dp,
				  bool force_encap)
{
	struct ike_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->loop = l;
	e->conf = conf;
	e->io = *io;
	e->dp = dp;
	e->force_encap = force_encap;
	ike_sa_init(&e->sa, e, exchange_retransmit_cb, dpd_cb, keepalive_cb,
		    establish_cb);
	rekey_init(e);
	ike_rekey_init(e);
	return e;
}

void ike_engine_set_dp(struct ike_engine *e, struct dp *dp)
{
	e->dp = dp;
}

int ike_engine_up(struct ike_engine *e)
{
	if (!e->conf->configured || !e->conf->n_gateway)
		return -ENOENT;
	e->want_up = true;
	e->failures = 0;
	e->attempts_failed = 0;
	if (e->sa.state == IKE_ST_IDLE || e->sa.state == IKE_ST_DEAD) {
		timer_cancel(e->loop, &e->sa.t_establish);
		start_sa(e);
	}
	return 0;
}

static void delete_done(struct ike_engine *e, int rc)
{
	engine_sa_dead(e, rc ? "DELETE not answered" : "deleted");
}

int ike_engine_down(struct ike_engine *e)
{
	e->want_up = false;
	timer_cancel(e->loop, &e->sa.t_establish);
	switch (e->sa.state) {
	case IKE_ST_ESTABLISHED:
		exchange_abandon(e, "deleting the IKE SA");
		child_uninstall(e);
		ike_sa_set_state(&e->sa, IKE_ST_DELETING);
		if (exchange_start(e, INFORMATIONAL, delete_tasks,
				   N(delete_tasks), delete_done))
			engine_sa_dead(e, "deleted");
		return 0;
	case IKE_ST_AUTH_SENT:
		delete_oneshot(e);
		engine_sa_dead(e, "down while connecting");
		return 0;
	case IKE_ST_INIT_SENT:
		engine_sa_dead(e, "down while connecting");
		return 0;
	default:
		return 0;
	}
}

bool ike_engine_idle(const struct ike_engine *e)
{
	return e->sa.state == IKE_ST_IDLE || e->sa.state == IKE_ST_DEAD;
}

void ike_engine_input(struct ike_engine *e, const uint8_t *pkt, size_t len,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool via_4500)
{
	if (len > sizeof(e->rx)) {
		e->stats.dropped++;
		return;
	}
	memcpy(e->rx, pkt, len); /* decrypted in place */
	exchange_input(e, e->rx, len, via_4500);
	(void)local;
	(void)remote;
}

/* RFC 4301 4.4.2.1: at the soft limit (90% of child_lifetime_bytes /
 * _packets) a replacement is negotiated; at the hard limit the SA may not
 * carry another packet (the data plane already refuses) and is deleted.
 * A replaced SA just goes; without a replacement for the current one the
 * tunnel is gone, so the IKE SA is deleted and established anew. */
void ike_engine_dp_event(void *arg, uint32_t spi_in, int ev)
{
	struct ike_engine *e = arg;
	bool current = e->sa.child.installed && e->sa.child.spi_in == spi_in;

	if (ev == DP_EV_SOFT_EXPIRE && current && !e->rk.active) {
		log_info("CHILD_SA %08x_i soft limit reached: rekeying",
			 spi_in);
		if (rekey_start(e))
			rekey_arm_soon(e);
		return;
	}
	if (ev != DP_EV_HARD_EXPIRE || !child_by_spi_in(e, spi_in))
		return;
	if (!current) {
		log_info("replaced CHILD_SA %08x_i hit its hard limit", spi_in);
		child_remove(e, spi_in);
		return;
	}
	log_warn("CHILD_SA %08x_i expired: re-establishing", spi_in);
	snprintf(e->last_error, sizeof(e->last_error),
		 "CHILD_SA hard lifetime reached before its rekey");
	delete_oneshot(e);
	engine_sa_dead(e, "CHILD_SA lifetime expired");
}

int ike_engine_rekey(struct ike_engine *e)
{
	return rekey_start(e);
}

int ike_engine_rekey_ike(struct ike_engine *e)
{
	int rc = ike_rekey_start(e);

	if (rc == -EBUSY) { /* another exchange first: shortly after it */
		timer_arm_ms(e->loop, &e->irk.t_rekey, 1000);
		return 0;
	}
	return rc;
}

const struct ike_sa *ike_engine_sa(const struct ike_engine *e)
{
	return &e->sa;
}

void ike_engine_free(struct ike_engine *e)
{
	if (!e)
		return;
	exchange_abort(e);
	child_uninstall(e);
	ike_rekey_reset(e);
	frag_reset(e);
	eloop_cancel_owner(e->loop, e);
	ike_sa_clear(&e->sa);
	free(e);
}

/* --- status -------------------------------------------------------------- */

static void jw_sockaddr(struct jw *w, const char *key,
			const struct sockaddr_storage *ss)
{
	char a[IPADDR_STRLEN], buf[IPADDR_STRLEN + 8];
	struct ipaddr ip;
	uint16_t port;

	if (ipaddr_from_sockaddr(&ip, &port, (const struct sockaddr *)ss,
				 sizeof(*ss))) {
		jw_null(w, key);
		return;
	}
	snprintf(buf, sizeof(buf), ip.family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 ipaddr_str(&ip, a), port);
	jw_str(w, key, buf);
}

static void jw_hex(struct jw *w, const char *key, uint64_t v, int width)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%0*llx", width, (unsigned long long)v);
	jw_str(w, key, buf);
}

static void jw_addr(struct jw *w, const struct ipaddr *a)
{
	char s[IPADDR_STRLEN];

	jw_str(w, NULL, ipaddr_str(a, s));
}

static void jw_ts(struct jw *w, const char *key, const struct ike_ts_set *t)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN], buf[2 * IPADDR_STRLEN + 24];

	jw_arr_begin(w, key);
	for (unsigned i = 0; i < t->n; i++) {
		snprintf(buf, sizeof(buf), "%s-%s",
			 ipaddr_str(&t->ts[i].start, a),
			 ipaddr_str(&t->ts[i].end, b));
		jw_str(w, NULL, buf);
	}
	jw_arr_end(w);
}

static void status_proposal(struct jw *w, const struct ike_sa *sa)
{
	char buf[96];

	if (!sa->suite.encr) {
		jw_null(w, "proposal");
		return;
	}
	snprintf(buf, sizeof(buf), "%s/%s%s%s/DH%u", sa->suite.encr->name,
		 sa->suite.integ ? sa->suite.integ->name : "",
		 sa->suite.integ ? "/" : "", sa->suite.prf->name, sa->dh_group);
	jw_str(w, "proposal", buf);
}

static void status_counters(struct ike_engine *e, struct jw *w)
{
	struct dp_counters c;

	memset(&c, 0, sizeof(c));
	if (!e->dp || e->dp->ops->counters(e->dp, e->sa.child.spi_in, &c))
		return;
	jw_obj_begin(w, "counters");
	jw_uint(w, "in_packets", c.in_packets);
	jw_uint(w, "in_bytes", c.in_bytes);
	jw_uint(w, "out_packets", c.out_packets);
	jw_uint(w, "out_bytes", c.out_bytes);
	jw_uint(w, "in_auth_fail", c.in_auth_fail);
	jw_uint(w, "in_replay", c.in_replay);
	jw_obj_end(w);
}

static void status_child(struct ike_engine *e, struct jw *w)
{
	const struct ike_child *ch = &e->sa.child;
	char buf[64];

	if (!ch->installed) {
		jw_null(w, "child_sa");
		return;
	}
	jw_obj_begin(w, "child_sa");
	jw_str(w, "state", "INSTALLED");
	jw_hex(w, "spi_in", ch->spi_in, 8);
	jw_hex(w, "spi_out", ch->spi_out, 8);
	snprintf(buf, sizeof(buf), "%s%s%s%s", ch->encr->name,
		 ch->integ ? "/" : "", ch->integ ? ch->integ->name : "",
		 ch->esn ? "/ESN" : "");
	jw_str(w, "proposal", buf);
	jw_ts(w, "local_ts", &ch->tsi);
	jw_ts(w, "remote_ts", &ch->tsr);
	status_counters(e, w);
	jw_obj_end(w);
	jw_uint(w, "rekeyed_child_sas", child_count_old(e));
}

static void status_sa(struct ike_engine *e, struct jw *w)
{
	const struct ike_sa *sa = &e->sa;

	jw_hex(w, "spi_i", sa->spi_i, 16);
	jw_hex(w, "spi_r", sa->spi_r, 16);
	status_proposal(w, sa);
	jw_sockaddr(w, "local", &sa->local);
	jw_sockaddr(w, "remote", &sa->remote);
	jw_obj_begin(w, "nat");
	jw_bool(w, "local", sa->nat_local);
	jw_bool(w, "remote", sa->nat_remote);
	jw_bool(w, "udp_encap", sa->natt);
	jw_obj_end(w);
	jw_str(w, "peer_id", sa->peer_id);
	jw_bool(w, "peer_mobike", sa->peer_mobike);
	jw_arr_begin(w, "tia");
	if (sa->vip4.family)
		jw_addr(w, &sa->vip4);
	if (sa->vip6.family)
		jw_addr(w, &sa->vip6);
	jw_arr_end(w);
	jw_arr_begin(w, "dns");
	for (unsigned i = 0; i < sa->ndns; i++)
		jw_addr(w, &sa->dns[i]);
	jw_arr_end(w);
	if (sa->state == IKE_ST_ESTABLISHED)
		jw_uint(w, "established_s",
			(mono_ns() - e->established_ns) / NS_PER_S);
}

void ike_engine_status(struct ike_engine *e, struct jw *w)
{
	jw_str(w, "ike_sa", ike_state_name(e->sa.state));
	jw_bool(w, "want_up", e->want_up);
	if (e->conf->n_gateway)
		jw_sockaddr(w, "gateway", &e->conf->gateway[e->gw].sa);
	if (e->sa.state != IKE_ST_IDLE && e->sa.state != IKE_ST_DEAD)
		status_sa(e, w);
	status_child(e, w);
	jw_str(w, "last_error", e->last_error);
	jw_obj_begin(w, "ike_stats");
	jw_uint(w, "rx", e->stats.rx);
	jw_uint(w, "tx", e->stats.tx);
	jw_uint(w, "retransmits", e->stats.retransmits);
	jw_uint(w, "dropped", e->stats.dropped);
	jw_uint(w, "established", e->stats.established);
	jw_uint(w, "child_rekeys_initiated", e->stats.rekeys_i);
	jw_uint(w, "child_rekeys_answered", e->stats.rekeys_r);
	jw_uint(w, "ike_rekeys_initiated", e->stats.ike_rekeys_i);
	jw_uint(w, "ike_rekeys_answered", e->stats.ike_rekeys_r);
	jw_obj_end(w);
}
