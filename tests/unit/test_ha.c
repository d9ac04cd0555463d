/*
 * test_ha.c - the home agent (mipd/ha.c) answering real Registration
 * Requests over UDP inside a private network namespace (the test unshares
 * one; it never touches the host's): accept, wrong key, replay, clock skew,
 * deregistration, malformed input, flood, unknown HA address, full cache;
 * the userspace tunnel's encapsulation bytes and reverse-tunnel source
 * check; and the compact SA table (key arena, keys of any length) through
 * the whole request path without sockets.
 */
/* RAND_set_rand_method: a failing RNG in a test below */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netpacket/packet.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/ha.h"
#include "mipd/ha_int.h"
#include "mipd/mn_int.h"
#include "mipd/ratelimit.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"
#include "mipd/tunnel.h"

#define HA_PORT 4340
#define SPI	256

static bool have_ns;

struct fx {
	struct eloop *l;
	struct ha_conf conf; /* conf.mns and its key arena malloc'd */
	struct ha *ha;
	int cli;
	uint64_t last_id;
};

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void set_sa(struct ha_conf *c, size_t i, const char *hoa,
		   const char *key)
{
	struct mn_entry *m = &c->mns[i];

	m->hoa.s_addr = ip(hoa);
	m->spi = SPI;
	m->alg = REG_ALG_HMAC_MD5;
	assert_int_equal(ha_conf_set_key(c, m, key, strlen(key)), 0);
}

/* Node i's SA as the HA sees it (pointing into the key arena). */
static struct reg_sa sa_of(const struct fx *f, size_t i)
{
	return mn_entry_sa(&f->conf, &f->conf.mns[i]);
}

static int fx_start(struct fx *f, bool dataplane)
{
	struct sockaddr_in me = {.sin_family = AF_INET};

	f->l = eloop_new();
	f->ha = ha_new(f->l, &f->conf, dataplane);
	if (!f->ha || ha_start(f->ha) < 0)
		return -1;
	f->cli = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	me.sin_addr.s_addr = ip("127.0.0.1");
	return bind(f->cli, (struct sockaddr *)&me, sizeof(me));
}

static void fx_conf(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	ha_conf_defaults(&f->conf);
	f->conf.port = HA_PORT;
	f->conf.address.s_addr = ip("127.0.0.1");
	snprintf(f->conf.tunnel, sizeof(f->conf.tunnel), "mipt%%d");
	f->conf.mns = calloc(2, sizeof(*f->conf.mns));
	assert_non_null(f->conf.mns);
	f->conf.nmns = 2;
	set_sa(&f->conf, 0, "10.10.0.100", "mn1-secret-key");
	set_sa(&f->conf, 1, "10.10.0.101", "mn2-secret-key");
}

static int setup(void **state)
{
	static struct fx f;

	if (!have_ns)
		return -1;
	fx_conf(&f);
	*state = &f;
	return fx_start(&f, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ha_free(f->ha);
	close(f->cli);
	eloop_free(f->l);
	ha_conf_free_mns(&f->conf);
	return 0;
}

/* ---- requests ---- */

struct rrq {
	const char *hoa, *coa, *ha;
	uint16_t lifetime;
	uint8_t flags;
	uint64_t id; /* 0: a fresh timestamp */
	const char *key;
};

static uint64_t fresh_id(struct fx *f)
{
	uint64_t id = reg_ntp_now();

	if (id <= f->last_id)
		id = f->last_id + 1;
	return f->last_id = id;
}

static size_t build_rrq(struct fx *f, const struct rrq *q, uint8_t *buf,
			size_t cap)
{
	struct reg_request rq = {.flags = q->flags, .lifetime = q->lifetime};
	struct reg_sa sa = sa_of(f, 0);
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	rq.home.s_addr = ip(q->hoa);
	rq.coa.s_addr = ip(q->coa ? q->coa : "127.0.0.1");
	rq.ha.s_addr = ip(q->ha ? q->ha : "127.0.0.1");
	rq.id = q->id ? q->id : fresh_id(f);
	sa.key = (const uint8_t *)q->key;
	sa.key_len = strlen(q->key);
	wb_init(&w, buf, cap);
	reg_build_request(&b, &w, &rq);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa), 0);
	assert_int_equal(reg_build_end(&b, &len), 0);
	return len;
}

/* Sends, runs the loop, returns the reply length (0 if none came). */
static size_t exchange(struct fx *f, const uint8_t *msg, size_t len,
		       uint8_t *reply, size_t cap)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(HA_PORT)};
	ssize_t n = -1;

	to.sin_addr.s_addr = ip("127.0.0.1");
	assert_int_equal(
	    sendto(f->cli, msg, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
	for (int i = 0; i < 20 && n < 0; i++) {
		eloop_run_once(f->l, 10);
		n = recv(f->cli, reply, cap, 0);
	}
	return n < 0 ? 0 : (size_t)n;
}

/* Request -> parsed reply; checks the reply's MN-HA authenticator with
 * the node's real key when `verify`. */
static int ask(struct fx *f, const struct rrq *q, struct reg_msg *m,
	       uint8_t *reply, bool verify)
{
	uint8_t req[256];
	size_t len = build_rrq(f, q, req, sizeof(req));
	size_t rlen = exchange(f, req, len, reply, 512);

	assert_true(rlen > 0);
	assert_int_equal(reg_parse_reply(m, reply, rlen), REG_OK);
	if (verify) {
		struct reg_sa sa = sa_of(f, 0);

		assert_true(m->has_mnha);
		assert_int_equal(reg_auth_verify(m, &m->mnha, &sa, 1),
				 REG_AUTH_OK);
	}
	return m->rp.code;
}

static bool route_via_tunnel(const char *hoa)
{
	char line[256], want[16];
	bool found = false;
	FILE *r = fopen("/proc/net/route", "r");

	snprintf(want, sizeof(want), "%08X", ip(hoa));
	while (r && fgets(line, sizeof(line), r))
		if (strncmp(line, "mipt", 4) == 0 && strstr(line, want))
			found = true;
	if (r)
		fclose(r);
	return found;
}

/* ---- tests ---- */

static void valid_request(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60000,
			.flags = MIP4_RRQ_T,
			.key = "mn1-secret-key"};
	const struct binding *b;
	uint8_t reply[512];
	struct reg_msg m;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	/* clamped to max_lifetime, echoed identification */
	assert_int_equal(m.rp.lifetime, HA_MAX_LIFETIME_DEFAULT);
	assert_int_equal(m.rp.id, f->last_id);
	b = bcache_lookup(ha_bcache(f->ha), ip("10.10.0.100"));
	assert_non_null(b);
	assert_int_equal(b->info.coa, ip("10.20.0.5"));
	assert_true(b->info.flags & MIP4_RRQ_T);
	/* no NAT (source 127.0.0.1 != CoA but no UDP tunnel request) */
	assert_int_equal(b->info.encap, BCACHE_ENCAP_IPIP);
	assert_true(route_via_tunnel("10.10.0.100"));
	assert_int_equal(ha_stats(f->ha)->accepted, 1);
}

static void wrong_key(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "not-the-key"};
	uint8_t reply[512];
	struct reg_msg m;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_HA_MN_AUTH_FAILED);
	assert_null(bcache_lookup(ha_bcache(f->ha), ip("10.10.0.100")));
	assert_int_equal(ha_stats(f->ha)->auth_failed, 1);
}

static void replayed_request(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t req[256], reply[512];
	struct reg_msg m;
	size_t len = build_rrq(f, &q, req, sizeof(req)), rlen;

	rlen = exchange(f, req, len, reply, sizeof(reply));
	assert_int_equal(reg_parse_reply(&m, reply, rlen), REG_OK);
	assert_int_equal(m.rp.code, MIP4_ACCEPTED);
	/* the identical bytes again, as captured on the wire */
	rlen = exchange(f, req, len, reply, sizeof(reply));
	assert_int_equal(reg_parse_reply(&m, reply, rlen), REG_OK);
	assert_int_equal(m.rp.code, MIP4_HA_ID_MISMATCH);
	assert_int_equal(ha_stats(f->ha)->id_mismatch, 1);
}

static void clock_skew(void **state)
{
	struct fx *f = *state;
	uint64_t now = reg_ntp_now();
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key",
			.id = now - (100ULL << 32)};
	uint8_t reply[512];
	struct reg_msg m;
	int64_t off;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_HA_ID_MISMATCH);
	/* RFC 5944 5.7.1: our time in the high half, their low half */
	assert_int_equal(reg_ts_resync(q.id, m.rp.id, q.id, &off), 0);
	assert_in_range(off, 98, 102);
	/* resynchronised, the node registers */
	q.id = now + (1ULL << 32);
	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
}

static void deregistration(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	assert_true(route_via_tunnel("10.10.0.100"));
	q.lifetime = 0;
	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	assert_int_equal(m.rp.lifetime, 0);
	assert_null(bcache_lookup(ha_bcache(f->ha), ip("10.10.0.100")));
	assert_false(route_via_tunnel("10.10.0.100"));
	/* back home: CoA = HoA deregisters too */
	q.lifetime = 60;
	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	q.coa = q.hoa;
	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	assert_int_equal(bcache_count(ha_bcache(f->ha)), 0);
	assert_int_equal(ha_stats(f->ha)->deregistered, 2);
}

static void malformed(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t req[256], reply[512];
	struct reg_msg m;
	size_t len = build_rrq(f, &q, req, sizeof(req)), rlen;

	/* shorter than the fixed part: RFC says drop, no reply */
	assert_int_equal(exchange(f, req, 10, reply, sizeof(reply)), 0);
	/* NAI extension whose length overruns the message: 134 */
	req[len] = MIP4_EXT_MN_NAI;
	req[len + 1] = 50;
	rlen = exchange(f, req, len + 2, reply, sizeof(reply));
	assert_int_equal(reg_parse_reply(&m, reply, rlen), REG_OK);
	assert_int_equal(m.rp.code, MIP4_HA_BAD_REQUEST);
	/* unknown non-skippable extension (RFC 5944 1.9): drop */
	req[len] = 100;
	req[len + 1] = 0;
	assert_int_equal(exchange(f, req, len + 2, reply, sizeof(reply)), 0);
	assert_int_equal(ha_stats(f->ha)->malformed, 3);
	assert_int_equal(bcache_count(ha_bcache(f->ha)), 0);
}

static void flood_rate_limited(void **state)
{
	struct fx *f = *state;
	struct ha_from from = {
	    .src = ip("192.0.2.7"), .sport = 434, .dst = ip("127.0.0.1")};
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "192.0.2.7",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t req[256], reply[512];
	size_t len, answered = 0;

	for (int i = 0; i < 1000; i++) {
		len = build_rrq(f, &q, req, sizeof(req));
		answered +=
		    ha_handle(f->ha, req, len, &from, reply, sizeof(reply)) > 0;
	}
	/* burst 20 plus 100/s over the run at most */
	assert_in_range(answered, HA_BURST_DEFAULT, 200);
	assert_int_equal(ha_stats(f->ha)->rate_limited, 1000 - answered);
	assert_int_equal(ratelimit_dropped(ha_ratelimit(f->ha)),
			 1000 - answered);
}

static void unknown_ha_address(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.ha = "10.10.0.99",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_HA_UNKNOWN_HA);
	/* RFC 5944 3.8.3.1: the reply names our address */
	assert_int_equal(m.rp.ha.s_addr, ip("127.0.0.1"));
	assert_int_equal(bcache_count(ha_bcache(f->ha)), 0);
}

static void too_many_bindings(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;
	struct reg_sa sa1;

	ha_free(f->ha);
	f->conf.max_bindings = 1;
	f->ha = ha_new(f->l, &f->conf, false);
	assert_int_equal(ha_start(f->ha), 0);
	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_ACCEPTED);
	q.hoa = "10.10.0.101";
	q.key = "mn2-secret-key";
	assert_int_equal(ask(f, &q, &m, reply, false), MIP4_HA_NO_RESOURCES);
	sa1 = sa_of(f, 1);
	assert_int_equal(reg_auth_verify(&m, &m.mnha, &sa1, 1), REG_AUTH_OK);
}

static void udp_tunnel_behind_nat(void **state)
{
	struct fx *f = *state;
	struct ha_from from = {
	    .src = ip("172.16.1.9"), .sport = 40000, .dst = ip("127.0.0.1")};
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "192.168.2.50",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	struct reg_udp_req u = {.encap = MIP4_ENCAP_IPIP};
	struct reg_request rq = {.lifetime = 60};
	struct reg_sa sa0;
	uint8_t req[256], reply[512];
	const struct binding *b;
	struct reg_builder bl;
	struct reg_msg m;
	struct wbuf w;
	size_t len;

	rq.home.s_addr = ip(q.hoa);
	rq.coa.s_addr = ip(q.coa);
	rq.ha.s_addr = ip("127.0.0.1");
	rq.id = fresh_id(f);
	wb_init(&w, req, sizeof(req));
	reg_build_request(&bl, &w, &rq);
	reg_add_udp_req(&bl, &u);
	sa0 = sa_of(f, 0);
	reg_auth_append(&bl, MIP4_EXT_MN_HA_AUTH, &sa0);
	assert_int_equal(reg_build_end(&bl, &len), 0);
	len = ha_handle(f->ha, req, len, &from, reply, sizeof(reply));
	assert_int_equal(reg_parse_reply(&m, reply, len), REG_OK);
	assert_int_equal(m.rp.code, MIP4_ACCEPTED);
	assert_true(m.has_udp_rep);
	assert_true(
	    reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_UDP_TUN_REP)));
	b = bcache_lookup(ha_bcache(f->ha), rq.home.s_addr);
	assert_int_equal(b->info.encap, BCACHE_ENCAP_UDP);
	assert_int_equal(b->info.nat_addr, from.src);
	assert_int_equal(b->info.nat_port, 40000);
}

/* ---- reply codes ---- */

/* ha_handle() from a fixed source; the reply's code (verified with node
 * i's key when it carries an MN-HA authenticator). */
static int handle(struct fx *f, const struct rrq *q, size_t i,
		  struct reg_msg *m, uint8_t *reply)
{
	struct ha_from from = {
	    .src = ip(q->coa), .sport = 434, .dst = ip("127.0.0.1")};
	uint8_t req[256];
	size_t len = build_rrq(f, q, req, sizeof(req));

	len = ha_handle(f->ha, req, len, &from, reply, 512);
	assert_true(len > 0);
	assert_int_equal(reg_parse_reply(m, reply, len), REG_OK);
	if (m->has_mnha) {
		struct reg_sa sa = sa_of(f, i);

		assert_int_equal(reg_auth_verify(m, &m->mnha, &sa, 1),
				 REG_AUTH_OK);
	}
	return m->rp.code;
}

static void restart(struct fx *f, bool dataplane)
{
	ha_free(f->ha);
	f->ha = ha_new(f->l, &f->conf, dataplane);
	assert_non_null(f->ha);
	assert_int_equal(ha_start(f->ha), 0);
}

/* 128: the binding's route into the tunnel cannot be installed. */
static void code128_route_failed(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key"};
	int ifx = tunnel_ifindex(ha_tunnel(f->ha));
	uint8_t reply[512];
	struct reg_msg m;

	/* a route via a down device: ENETDOWN */
	assert_int_equal(nl_link_set_up(ifx, false), 0);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_UNSPECIFIED);
	assert_true(m.has_mnha);
	assert_int_equal(m.rp.lifetime, 0);
	assert_null(bcache_lookup(ha_bcache(f->ha), ip(q.hoa)));
	assert_true(ha_stats(f->ha)->kernel_err >= 1);
	assert_int_equal(nl_link_set_up(ifx, true), 0);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	assert_true(route_via_tunnel(q.hoa));
}

/* 129: outside the home network (no SA can exist: unauthenticated), or a
 * node switched off by configuration (authenticated; it may still
 * deregister). */
static void code129_prohibited(void **state)
{
	struct fx *f = *state;
	struct rrq out = {.hoa = "10.99.0.5",
			  .coa = "10.20.0.5",
			  .lifetime = 60,
			  .key = "mn1-secret-key"};
	struct rrq q = {.hoa = "10.10.0.101",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn2-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;

	f->conf.prefix.s_addr = ip("10.10.0.0");
	f->conf.plen = 24;
	restart(f, false);
	assert_int_equal(handle(f, &out, 0, &m, reply),
			 MIP4_HA_ADMIN_PROHIBITED);
	assert_false(m.has_mnha);
	/* inside the prefix but unknown: still 131 */
	out.hoa = "10.10.0.77";
	assert_int_equal(handle(f, &out, 0, &m, reply), MIP4_HA_MN_AUTH_FAILED);

	f->conf.mns[1].flags |= MN_ENTRY_DISABLED;
	restart(f, false);
	assert_int_equal(handle(f, &q, 1, &m, reply), MIP4_HA_ADMIN_PROHIBITED);
	assert_true(m.has_mnha);
	assert_int_equal(bcache_count(ha_bcache(f->ha)), 0);
	q.lifetime = 0;
	assert_int_equal(handle(f, &q, 1, &m, reply), MIP4_ACCEPTED);
	f->conf.mns[1].flags = 0;
}

/* 135: S set for a second care-of address, one allowed. */
static void code135_simultaneous(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.flags = MIP4_RRQ_S,
			.key = "mn1-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;

	f->conf.max_simultaneous = 1;
	restart(f, false);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED_NO_SIMUL);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED_NO_SIMUL);
	q.coa = "10.20.0.6";
	assert_int_equal(handle(f, &q, 0, &m, reply),
			 MIP4_HA_TOO_MANY_BINDINGS);
	assert_int_equal(bcache_lookup(ha_bcache(f->ha), ip(q.hoa))->info.coa,
			 ip("10.20.0.5"));
	/* without S the new care-of address replaces the old one */
	q.flags = 0;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	assert_int_equal(bcache_lookup(ha_bcache(f->ha), ip(q.hoa))->info.coa,
			 ip("10.20.0.6"));
	/* the default ignores S: replaced, code 1 */
	f->conf.max_simultaneous = 0;
	restart(f, false);
	q.flags = MIP4_RRQ_S;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED_NO_SIMUL);
	q.coa = "10.20.0.5";
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED_NO_SIMUL);
}

/* 137 and 138: ha.reverse_tunnel "off" and "required" (RFC 3024 4.2). */
static void code137_138_revtun(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.flags = MIP4_RRQ_T,
			.key = "mn1-secret-key"};
	uint8_t reply[512];
	struct reg_msg m;

	f->conf.reverse_tunnel = HA_REVTUN_OFF;
	restart(f, false);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_REVTUN_UNAVAIL);
	assert_int_equal(bcache_count(ha_bcache(f->ha)), 0);
	q.flags = 0;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);

	f->conf.reverse_tunnel = HA_REVTUN_REQUIRED;
	restart(f, false);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_REVTUN_MANDATORY);
	q.flags = MIP4_RRQ_T;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	/* a deregistration needs no T */
	q.flags = 0;
	q.lifetime = 0;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	f->conf.reverse_tunnel = HA_REVTUN_OFFERED;
}

/* 133 in nonce mode: the reply carries the nonce to use, and a request
 * with it is accepted (the node side is in test_mn_reg.c). */
static void nonce_replies(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key",
			.id = 0x1111111122222222ULL};
	uint8_t reply[512];
	struct reg_msg m;

	f->conf.replay = REG_REPLAY_NONCE;
	restart(f, false);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_ID_MISMATCH);
	assert_int_equal((uint32_t)m.rp.id, 0x22222222u);
	q.id = (m.rp.id & 0xffffffff00000000ULL) | 0x33333333u;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	assert_int_equal((uint32_t)m.rp.id, 0x33333333u);
	/* the same nonce twice: spent */
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_ID_MISMATCH);
	f->conf.replay = REG_REPLAY_TIMESTAMP;
}

/* RFC 5944 5.7.2: a replayed request (its nonce spent) is answered with
 * the nonce in force, which stays: replays cannot rotate the nonce away
 * from the node, whose next request still goes through. */
static void nonce_replay_keeps_nonce(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key",
			.id = 0x1111111122222222ULL};
	uint8_t reply[512];
	struct reg_msg m;
	uint32_t nonce;

	f->conf.replay = REG_REPLAY_NONCE;
	restart(f, false);
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_ID_MISMATCH);
	q.id = (m.rp.id & 0xffffffff00000000ULL) | 0x33333333u;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	nonce = (uint32_t)(m.rp.id >> 32);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(handle(f, &q, 0, &m, reply),
				 MIP4_HA_ID_MISMATCH);
		assert_int_equal((uint32_t)(m.rp.id >> 32), nonce);
		assert_int_equal((uint32_t)m.rp.id, 0x33333333u);
	}
	q.id = (uint64_t)nonce << 32 | 0x44444444u;
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_ACCEPTED);
	assert_int_not_equal((uint32_t)(m.rp.id >> 32), nonce);
	f->conf.replay = REG_REPLAY_TIMESTAMP;
}

static int rand_fail_bytes(unsigned char *buf, int num)
{
	(void)buf, (void)num;
	return 0;
}

static int rand_fail_status(void)
{
	return 0;
}

static const RAND_METHOD rand_failing = {.bytes = rand_fail_bytes,
					 .status = rand_fail_status};

/* No random bytes: no guessable nonce either, the request is refused
 * (128) and the nonce stays. */
static void nonce_without_rng(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.key = "mn1-secret-key",
			.id = 0x1111111122222222ULL};
	uint8_t reply[512];
	struct reg_msg m;
	int code;

	f->conf.replay = REG_REPLAY_NONCE;
	restart(f, false);
	assert_int_equal(RAND_set_rand_method(&rand_failing), 1);
	code = handle(f, &q, 0, &m, reply);
	RAND_set_rand_method(NULL);
	assert_int_equal(code, MIP4_HA_UNSPECIFIED);
	assert_null(bcache_lookup(ha_bcache(f->ha), ip("10.10.0.100")));
	/* with the RNG back, the usual first 133 */
	assert_int_equal(handle(f, &q, 0, &m, reply), MIP4_HA_ID_MISMATCH);
	f->conf.replay = REG_REPLAY_TIMESTAMP;
}

/* ---- the home link: broadcasts (B bit) and advertisements ---- */

#define HL	"hal" /* the HA's home link, 10.10.0.2/24 */
#define HL_PEER "hlp" /* a host on it */

static int make_homelink(void)
{
	return system("ip link add " HL " type veth peer name " HL_PEER
		      " && ip link set " HL " up && ip link set " HL_PEER
		      " up && ip addr add 10.10.0.2/24 dev " HL
		      " && ip addr add 10.20.0.5/32 dev lo"
		      " && ip addr add 10.20.0.6/32 dev lo") == 0
		   ? 0
		   : -1;
}

static int setup_homelink(void **state)
{
	static struct fx f;

	if (!have_ns)
		return -1;
	fx_conf(&f);
	f.conf.address.s_addr = ip("10.10.0.2");
	f.conf.prefix.s_addr = ip("10.10.0.0");
	f.conf.plen = 24;
	snprintf(f.conf.interface, sizeof(f.conf.interface), HL);
	f.conf.advertise = true;
	f.conf.adv_interval_ms = 200;
	*state = &f;
	return fx_start(&f, true);
}

/* A packet socket on the peer: sends frames onto the home link and sees
 * what the HA sends there. */
static int peer_socket(void)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = nl_ifindex(HL_PEER)};
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_IP));

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ll, sizeof(ll)), 0);
	return fd;
}

static void peer_send(int fd, const uint8_t *pkt, size_t len,
		      const uint8_t mac[6])
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = nl_ifindex(HL_PEER),
				 .sll_halen = 6};

	memcpy(ll.sll_addr, mac, 6);
	assert_int_equal(
	    sendto(fd, pkt, len, 0, (struct sockaddr *)&ll, sizeof(ll)),
	    (ssize_t)len);
}

/* An IPv4 packet of protocol proto, 8 payload bytes. */
static size_t ip_pkt(uint8_t *p, const char *src, const char *dst,
		     uint8_t proto, const uint8_t pl[8])
{
	uint32_t s = ip(src), d = ip(dst), acc = 0;
	uint16_t sum;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 1;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	for (int i = 0; i < 20; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	sum = (uint16_t)~acc;
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	memcpy(p + 20, pl, 8);
	return 28;
}

/* Tunnelled packets that reach 10.20.0.5 and 10.20.0.6 (on lo) within
 * ms; how many went to dst, the last one's bytes in buf. */
static int tunnelled_to(struct fx *f, int raw, const char *dst, uint8_t *buf,
			size_t cap, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000;
	uint32_t d = ip(dst);
	int n = 0;

	while (mono_ns() < end) {
		ssize_t r;

		eloop_run_once(f->l, 5);
		while ((r = recv(raw, buf, cap, MSG_DONTWAIT)) > 20)
			if (buf[9] == IPPROTO_IPIP && !memcmp(buf + 16, &d, 4))
				n++;
	}
	return n;
}

static void broadcast_b_bit(void **state)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 0xfb};
	struct fx *f = *state;
	struct rrq b = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.flags = MIP4_RRQ_B | MIP4_RRQ_D,
			.ha = "10.10.0.2",
			.key = "mn1-secret-key"};
	struct rrq nob = {.hoa = "10.10.0.101",
			  .coa = "10.20.0.6",
			  .lifetime = 60,
			  .flags = MIP4_RRQ_D,
			  .ha = "10.10.0.2",
			  .key = "mn2-secret-key"};
	uint8_t reply[512], pkt[64], buf[2048];
	int peer = peer_socket();
	int raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_IPIP);
	struct reg_msg m;
	size_t n;

	assert_true(raw >= 0);
	assert_int_equal(handle(f, &b, 0, &m, reply), MIP4_ACCEPTED);
	assert_int_equal(handle(f, &nob, 1, &m, reply), MIP4_ACCEPTED);
	/* a broadcast on the home link: to the B binding only, as it is
	 * (co-located care-of address) */
	n = ip_pkt(pkt, "10.10.0.9", "10.10.0.255", IPPROTO_UDP,
		   (const uint8_t *)"bcast-1!");
	peer_send(peer, pkt, n, bcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 300), 1);
	assert_memory_equal(buf + 20, pkt, n);
	assert_int_equal(ha_stats(f->ha)->bcast_tx, 1);
	n = ip_pkt(pkt, "10.10.0.9", "255.255.255.255", IPPROTO_UDP,
		   (const uint8_t *)"bcast-2!");
	peer_send(peer, pkt, n, bcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.6", buf, sizeof(buf), 300), 0);
	assert_int_equal(ha_stats(f->ha)->bcast_tx, 2);
	/* multicast is off by default; unicast is not ours to copy */
	n = ip_pkt(pkt, "10.10.0.9", "224.0.0.251", IPPROTO_UDP,
		   (const uint8_t *)"mcast-1!");
	peer_send(peer, pkt, n, mcast);
	n = ip_pkt(pkt, "10.10.0.9", "10.10.0.2", IPPROTO_UDP,
		   (const uint8_t *)"ucast-1!");
	peer_send(peer, pkt, n, bcast); /* even to the broadcast MAC */
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 200), 0);
	/* the node's own broadcast, back through us: not returned to it */
	n = ip_pkt(pkt, "10.10.0.100", "10.10.0.255", IPPROTO_UDP,
		   (const uint8_t *)"own-bc!!");
	peer_send(peer, pkt, n, bcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 200), 0);
	/* B through a foreign agent (no D): encapsulated to the home
	 * address first (RFC 5944 4.3) */
	b.flags = MIP4_RRQ_B;
	assert_int_equal(handle(f, &b, 0, &m, reply), MIP4_ACCEPTED);
	n = ip_pkt(pkt, "10.10.0.9", "10.10.0.255", IPPROTO_UDP,
		   (const uint8_t *)"bcast-3!");
	peer_send(peer, pkt, n, bcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 300), 1);
	assert_int_equal(buf[20 + 9], IPPROTO_IPIP);
	assert_memory_equal(buf + 20 + 16, &(uint32_t){ip("10.10.0.100")}, 4);
	assert_memory_equal(buf + 40, pkt, n);
	/* B cleared on re-registration: nothing any more */
	b.flags = MIP4_RRQ_D;
	assert_int_equal(handle(f, &b, 0, &m, reply), MIP4_ACCEPTED);
	peer_send(peer, pkt, n, bcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 200), 0);
	close(raw);
	close(peer);
}

static void multicast_when_enabled(void **state)
{
	static const uint8_t mcast[6] = {0x01, 0, 0x5e, 0, 0, 0xfb};
	struct fx *f = *state;
	struct rrq b = {.hoa = "10.10.0.100",
			.coa = "10.20.0.5",
			.lifetime = 60,
			.flags = MIP4_RRQ_B | MIP4_RRQ_D,
			.ha = "10.10.0.2",
			.key = "mn1-secret-key"};
	uint8_t reply[512], pkt[64], buf[2048];
	int peer, raw;
	struct reg_msg m;
	size_t n;

	f->conf.fwd_multicast = true;
	restart(f, true);
	peer = peer_socket();
	raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_IPIP);
	assert_int_equal(handle(f, &b, 0, &m, reply), MIP4_ACCEPTED);
	n = ip_pkt(pkt, "10.10.0.9", "224.0.0.251", IPPROTO_UDP,
		   (const uint8_t *)"mcast-2!");
	peer_send(peer, pkt, n, mcast);
	assert_int_equal(
	    tunnelled_to(f, raw, "10.20.0.5", buf, sizeof(buf), 300), 1);
	assert_memory_equal(buf + 20, pkt, n);
	assert_true(ha_bcast_wanted(&f->conf, ip("239.1.2.3")));
	f->conf.fwd_multicast = false;
	assert_false(ha_bcast_wanted(&f->conf, ip("239.1.2.3")));
	assert_true(ha_bcast_wanted(&f->conf, ip("10.10.0.255")));
	assert_false(ha_bcast_wanted(&f->conf, ip("10.10.1.255")));
	close(raw);
	close(peer);
}

/* The next ICMP advertisement on the home link within ms; *dst its IP
 * destination. */
static bool next_adv_dst(struct fx *f, int peer, struct reg_adv *a,
			 struct in_addr *src, struct in_addr *dst, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000;
	uint8_t buf[1500];

	while (mono_ns() < end) {
		ssize_t n;

		eloop_run_once(f->l, 5);
		while ((n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT)) > 28) {
			if (buf[9] != IPPROTO_ICMP ||
			    buf[20] != MIP4_ICMP_ROUTER_ADV)
				continue;
			assert_int_equal(
			    reg_adv_parse(a, buf + 20, (size_t)n - 20), REG_OK);
			memcpy(&src->s_addr, buf + 12, 4);
			memcpy(&dst->s_addr, buf + 16, 4);
			return true;
		}
	}
	return false;
}

static bool next_adv(struct fx *f, int peer, struct reg_adv *a,
		     struct in_addr *src, int ms)
{
	struct in_addr dst;

	return next_adv_dst(f, peer, a, src, &dst, ms);
}

/* An Agent Solicitation from src onto the home link. */
static void solicit(int peer, const char *src)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t sol[8] = {MIP4_ICMP_ROUTER_SOL}, pkt[64];
	uint16_t c = reg_icmp_checksum(sol, sizeof(sol));
	size_t n = ip_pkt(pkt, src, "255.255.255.255", IPPROTO_ICMP,
			  (const uint8_t[8]){0});

	sol[2] = (uint8_t)(c >> 8);
	sol[3] = (uint8_t)c;
	memcpy(pkt + 20, sol, sizeof(sol));
	peer_send(peer, pkt, n, bcast);
}

static void ha_advertises(void **state)
{
	struct fx *f = *state;
	struct in_addr ha = {.s_addr = ip("10.10.0.2")};
	struct reg_adv a;
	struct policy_ev ev;
	struct in_addr src, dst;
	int peer = peer_socket();
	uint16_t seq;

	/* the first went out before our socket: the next, within 1.25 s */
	assert_true(next_adv(f, peer, &a, &src, 1500));
	/* RFC 5944 2.1: H, no care-of address, code 16, never a default
	 * router; the home prefix in Prefix-Lengths */
	assert_int_equal(src.s_addr, ip("10.10.0.2"));
	assert_int_equal(a.code, MIP4_ADV_CODE_NO_ROUTE);
	assert_int_equal(a.flags, MIP4_ADV_H | MIP4_ADV_T);
	assert_int_equal(a.ncoa, 0);
	assert_int_equal(a.num_addrs, 1);
	assert_int_equal(a.router[0].addr.s_addr, ip("10.10.0.2"));
	assert_int_equal(a.router[0].pref, AGENT_ADV_PREF_NEVER);
	assert_true(a.has_prefix);
	assert_int_equal(a.prefix_len[0], 24);
	assert_int_equal(a.reg_lifetime, HA_MAX_LIFETIME_DEFAULT);
	/* 200 ms is below the 1/s limit: 3 x 1 s */
	assert_int_equal(a.lifetime, 3);
	/* the mobile node takes it for "at home" */
	assert_true(mn_adv_event(ha, &a, src, 7, &ev));
	assert_true(ev.adv.home);
	assert_false(ev.adv.fa);
	/* a solicitation from the link is answered at once, by unicast */
	assert_int_equal(system("ip neigh replace 10.10.0.100 lladdr "
				"$(ip -o link show " HL_PEER " | sed "
				"'s/.*link.ether \\([^ ]*\\).*/\\1/') "
				"dev " HL " nud permanent"),
			 0);
	seq = a.seq;
	solicit(peer, "10.10.0.100");
	do
		assert_true(next_adv_dst(f, peer, &a, &src, &dst, 100));
	while (dst.s_addr != ip("10.10.0.100"));
	assert_true(a.seq > seq);
	assert_int_equal(ha_stats(f->ha)->sol_rx, 1);
	assert_true(ha_stats(f->ha)->adv_sent >= 2);
	close(peer);
}

/* RFC 5944 2.3.1: multicast advertisements at most once a second, even
 * when solicitations pour in (from 0.0.0.0: no unicast possible). */
static void adv_rate_limited(void **state)
{
	struct fx *f = *state;
	struct in_addr src, dst;
	uint64_t start, last = 0, t, min_gap = UINT64_MAX;
	struct reg_adv a;
	int peer = peer_socket(), mcast = 0;

	/* in step with the periodic ones first */
	assert_true(next_adv(f, peer, &a, &src, 1500));
	last = start = mono_ns();
	while ((t = mono_ns()) < start + 2500 * NS_PER_MS) {
		solicit(peer, "0.0.0.0");
		if (!next_adv_dst(f, peer, &a, &src, &dst, 100))
			continue;
		assert_int_equal(dst.s_addr, htonl(0xe0000001u));
		t = mono_ns();
		if (t - last < min_gap)
			min_gap = t - last;
		last = t;
		mcast++;
	}
	/* 2.5 s: two or three, never closer than the limit (a little
	 * slack for the loop's 5 ms steps) */
	assert_in_range(mcast, 2, 3);
	assert_true(min_gap >= 950 * NS_PER_MS);
	assert_true(ha_stats(f->ha)->sol_rx >= 20);
	close(peer);
}

/* ---- tunnel: pure functions ---- */

static const struct binding *fake_binding;

static const struct binding *fake_lookup(void *arg, uint32_t hoa)
{
	return fake_binding && fake_binding->info.hoa == hoa ? fake_binding
							     : NULL;
}

static size_t inner_packet(uint8_t *p, const char *src, const char *dst)
{
	uint32_t s = ip(src), d = ip(dst);
	uint16_t sum;
	uint32_t acc = 0;

	memset(p, 0, 28);
	p[0] = 0x45;
	p[1] = 0x10; /* TOS */
	p[3] = 28;
	p[6] = 0x40; /* DF */
	p[8] = 63;
	p[9] = IPPROTO_UDP;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	for (int i = 0; i < 20; i += 2)
		acc += (uint32_t)p[i] << 8 | p[i + 1];
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	sum = (uint16_t)~acc;
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	return 28;
}

static void ipip_encap_bytes(void **state)
{
	uint8_t in[28], out[64];
	size_t n = inner_packet(in, "198.51.100.1", "10.10.0.100");
	size_t tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip("10.10.0.2"),
				       ip("10.20.0.5"), 0x1234);
	static const uint8_t want[12] = {0x45, 0x10, 0, 48, 0x12,
					 0x34, 0x40, 0, 64, 4};

	assert_int_equal(tot, 48);
	assert_memory_equal(out, want, 10);
	assert_memory_equal(out + 12, ((uint8_t[]){10, 10, 0, 2}), 4);
	assert_memory_equal(out + 16, ((uint8_t[]){10, 20, 0, 5}), 4);
	assert_int_equal(tunnel_ip_check(out, tot), 20); /* checksum valid */
	assert_memory_equal(out + 20, in, n);
	/* no DF inside: none outside */
	in[6] = 0;
	in[10] = in[11] = 0;
	assert_int_equal(tunnel_ipip_encap(out, sizeof(out), in, n, 1, 2, 0),
			 48);
	assert_int_equal(out[6], 0);
	/* too small a buffer, or not IPv4 */
	assert_int_equal(tunnel_ipip_encap(out, 40, in, n, 1, 2, 0), 0);
	in[0] = 0x60;
	assert_int_equal(tunnel_ipip_encap(out, sizeof(out), in, n, 1, 2, 0),
			 0);
	assert_int_equal(tunnel_udp_encap(out, sizeof(out), in, n), 32);
	assert_memory_equal(out, ((uint8_t[]){4, 4, 0, 0}), 4);
}

static void reverse_source_check(void **state)
{
	struct binding b = {.info = {.hoa = ip("10.10.0.100"),
				     .coa = ip("10.20.0.5"),
				     .encap = BCACHE_ENCAP_IPIP}};
	uint8_t in[28];
	size_t n = inner_packet(in, "10.10.0.100", "198.51.100.1");

	fake_binding = &b;
	assert_ptr_equal(
	    tunnel_src_check(fake_lookup, NULL, in, n, ip("10.20.0.5"), 0), &b);
	/* from another care-of address: spoofed, drop (RFC 3024 5.2) */
	assert_null(
	    tunnel_src_check(fake_lookup, NULL, in, n, ip("10.20.0.6"), 0));
	/* a source that is not a bound home address */
	n = inner_packet(in, "10.10.0.77", "198.51.100.1");
	assert_null(
	    tunnel_src_check(fake_lookup, NULL, in, n, ip("10.20.0.5"), 0));
	/* UDP binding: NAT address and port must match */
	n = inner_packet(in, "10.10.0.100", "198.51.100.1");
	b.info.encap = BCACHE_ENCAP_UDP;
	b.info.nat_addr = ip("172.16.1.9");
	b.info.nat_port = 40000;
	assert_null(
	    tunnel_src_check(fake_lookup, NULL, in, n, ip("10.20.0.5"), 0));
	assert_ptr_equal(
	    tunnel_src_check(fake_lookup, NULL, in, n, ip("172.16.1.9"), 40000),
	    &b);
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n, ip("172.16.1.9"),
				     40001));
	/* a corrupt inner header */
	in[10] ^= 1;
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n, ip("172.16.1.9"),
				     40000));
	fake_binding = NULL;
}

/* ---- configuration of the new policies ---- */

/* Writes text as a config (and a private key file) in a fresh directory
 * and loads it as role ha: the error count, errors in err. */
static int load_ha_conf(const char *text, struct mipd_conf *mc, char *err,
			size_t errlen)
{
	char dir[] = "/tmp/test_ha.XXXXXX", p[128];
	struct cfg c;
	FILE *f;
	int n;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/mn1.key", dir);
	assert_non_null(f = fopen(p, "w"));
	fputs("0x00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	chmod(p, 0600);
	snprintf(p, sizeof(p), "%s/ha.conf", dir);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
	memset(mc, 0, sizeof(*mc));
	mc->role = ROLE_HA;
	assert_int_equal(cfg_open(&c, p), 0);
	mipd_conf_load(&c, mc);
	snprintf(err, errlen, "%s", c.err);
	n = c.nerr;
	cfg_close(&c);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
	return n;
}

static void ha_conf_keys(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	(void)state;
	assert_int_equal(
	    load_ha_conf(
		"ha = { interface = \"ha0\";\n"
		"  reverse_tunnel = \"required\";\n"
		"  max_simultaneous_bindings = 1;\n"
		"  advertise = true; advertise_interval = 2;\n"
		"  adv_lifetime = 6;\n"
		"  forward_broadcast = false; forward_multicast = true;\n"
		"};\n"
		"mobile_nodes = ( { home_address = \"10.10.0.100\";\n"
		"  spi = 256; key_file = \"mn1.key\"; enabled = false; } );\n",
		&mc, err, sizeof(err)),
	    0);
	assert_int_equal(mc.ha.reverse_tunnel, HA_REVTUN_REQUIRED);
	assert_int_equal(mc.ha.max_simultaneous, 1);
	assert_true(mc.ha.advertise);
	assert_int_equal(mc.ha.adv_interval_ms, 2000);
	assert_int_equal(mc.ha.adv_lifetime, 6);
	assert_false(mc.ha.fwd_broadcast);
	assert_true(mc.ha.fwd_multicast);
	assert_int_equal(mc.ha.mns[0].flags, MN_ENTRY_DISABLED);
	mipd_conf_free(&mc);
	/* defaults */
	assert_int_equal(load_ha_conf("ha = { };\n", &mc, err, sizeof(err)), 0);
	assert_int_equal(mc.ha.reverse_tunnel, HA_REVTUN_OFFERED);
	assert_int_equal(mc.ha.max_simultaneous, 0);
	assert_false(mc.ha.advertise);
	assert_true(mc.ha.fwd_broadcast);
	assert_false(mc.ha.fwd_multicast);
	mipd_conf_free(&mc);
	/* what cannot be done is said, with the line */
	assert_int_equal(load_ha_conf("ha = {\n  max_simultaneous_bindings = 2;"
				      "\n  reverse_tunnel = \"sometimes\";\n"
				      "  advertise = true;\n};\n",
				      &mc, err, sizeof(err)),
			 3);
	assert_non_null(strstr(err, ":2: 'max_simultaneous_bindings' = 2"));
	assert_non_null(strstr(err, ":3:"));
	assert_non_null(strstr(err, "'advertise' needs 'interface'"));
	mipd_conf_free(&mc);
}

/* RFC 5944 2.3.1: adv_lifetime at least 3 x the interval, said with the
 * line; Prefix-Lengths can be switched off (Appendix E); an entry that
 * failed to load is not "0.0.0.0 listed twice". */
static void ha_conf_adv_checks(void **state)
{
	struct mipd_conf mc;
	struct agent_adv aa;
	struct agent_adv_cfg ac;
	struct reg_adv adv;
	struct eloop *l = eloop_new();
	struct ha *h;
	char err[4096];

	(void)state;
	assert_int_equal(load_ha_conf("ha = { interface = \"ha0\";\n"
				      "  advertise_interval = 2;\n"
				      "  adv_lifetime = 5;\n};\n",
				      &mc, err, sizeof(err)),
			 1);
	assert_non_null(strstr(err, ":3: 'adv_lifetime' (5 s) is shorter "
				    "than 3 x 'advertise_interval' (2 s): use "
				    "at least 6"));
	mipd_conf_free(&mc);
	assert_int_equal(load_ha_conf("ha = { advertise_interval = 2; "
				      "adv_lifetime = 6; };\n",
				      &mc, err, sizeof(err)),
			 0);
	assert_true(mc.ha.prefix_lengths); /* the default */
	mipd_conf_free(&mc);
	assert_int_equal(load_ha_conf("ha = { prefix_lengths = false; };\n",
				      &mc, err, sizeof(err)),
			 0);
	assert_false(mc.ha.prefix_lengths);
	h = ha_new(l, &mc.ha, false);
	assert_non_null(h);
	ha_adv_cfg(h, ip("10.10.0.2"), 24, &ac);
	agent_adv_init(&aa);
	aa.cfg = ac;
	agent_adv_fill(&aa, &adv);
	assert_false(adv.has_prefix);
	ha_free(h);
	mipd_conf_free(&mc);
	/* two entries whose home address did not load: two errors */
	assert_int_equal(
	    load_ha_conf("mobile_nodes = (\n"
			 " { home_address = \"fd00::1\"; spi = 256; "
			 "key_file = \"mn1.key\"; },\n"
			 " { home_address = \"fd00::2\"; spi = 257; "
			 "key_file = \"mn1.key\"; } );\n",
			 &mc, err, sizeof(err)),
	    2);
	assert_null(strstr(err, "listed twice"));
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, ":3:"));
	mipd_conf_free(&mc);
	eloop_free(l);
}

/* ---- compact SA table ---- */

#define ARENA_NODES 5000

static uint8_t key_byte(size_t node, size_t j)
{
	return (uint8_t)(node * 131 + j * 7 + 1);
}

/* Key lengths cycle through 1..REG_KEY_MAX, so the arena grows many times
 * and holds the 16-byte RFC minimum, the 64-byte HMAC block, longer keys
 * that HMAC hashes first, and the longest the config takes. */
static size_t key_len_of(size_t node)
{
	static const size_t lens[] = {16, 1, 64, 65, 20, 200, REG_KEY_MAX};

	return lens[node % (sizeof(lens) / sizeof(lens[0]))];
}

static void arena_conf(struct ha_conf *c)
{
	uint8_t k[REG_KEY_MAX];

	ha_conf_defaults(c);
	c->address.s_addr = ip("10.0.255.254");
	c->rate = 0;
	c->mns = calloc(ARENA_NODES, sizeof(*c->mns));
	assert_non_null(c->mns);
	c->nmns = ARENA_NODES;
	for (size_t i = 0; i < ARENA_NODES; i++) {
		struct mn_entry *m = &c->mns[i];
		size_t n = key_len_of(i);

		m->hoa.s_addr = htonl(0x0a000001u + (uint32_t)i);
		m->spi = 256 + (uint32_t)i;
		m->alg = i % 3 ? REG_ALG_HMAC_MD5 : REG_ALG_KEYED_MD5;
		for (size_t j = 0; j < n; j++)
			k[j] = key_byte(i, j);
		assert_int_equal(ha_conf_set_key(c, m, k, n), 0);
	}
}

static void key_arena(void **state)
{
	struct ha_conf c;
	struct mn_entry spare = {0};
	uint8_t big[REG_KEY_MAX + 1] = {0};

	(void)state;
	assert_int_equal(sizeof(struct mn_entry), 16);
	assert_true(sizeof(struct reg_sa) <= 32);
	arena_conf(&c);
	for (size_t i = 0; i < ARENA_NODES; i++) {
		struct reg_sa sa = mn_entry_sa(&c, &c.mns[i]);

		assert_int_equal(sa.spi, 256 + i);
		assert_int_equal(sa.key_len, key_len_of(i));
		assert_int_equal(sa.replay, c.replay);
		for (size_t j = 0; j < sa.key_len; j++)
			assert_int_equal(sa.key[j], key_byte(i, j));
	}
	/* no empty keys, none past the config's bound */
	assert_int_equal(ha_conf_set_key(&c, &spare, big, 0), -1);
	assert_int_equal(ha_conf_set_key(&c, &spare, big, REG_KEY_MAX + 1), -1);
	ha_conf_free_mns(&c);
	assert_null(c.mns);
	assert_null(c.keys);
	assert_int_equal(c.nmns, 0);
}

/* Node i's request, authenticated with `key` (its own when NULL). */
static size_t arena_rrq(const struct ha_conf *c, size_t i, uint64_t id,
			const struct reg_sa *key, uint8_t *buf, size_t cap)
{
	struct reg_request rq = {.lifetime = 60, .id = id};
	struct reg_sa sa = mn_entry_sa(c, &c->mns[i]);
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	rq.home = c->mns[i].hoa;
	rq.coa.s_addr = htonl(0xac100001u + (uint32_t)i);
	rq.ha = c->address;
	wb_init(&w, buf, cap);
	reg_build_request(&b, &w, &rq);
	assert_int_equal(
	    reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, key ? key : &sa), 0);
	assert_int_equal(reg_build_end(&b, &len), 0);
	return len;
}

/* Every key length through ha_handle(): lookup by home address, verify
 * with the arena's key, a reply signed with it; a one-bit-off key of the
 * same length is refused with 131. */
static void long_keys_end_to_end(void **state)
{
	struct ha_conf c;
	struct eloop *l = eloop_new();
	struct ha *h;
	uint64_t id = reg_ntp_now();

	(void)state;
	arena_conf(&c);
	h = ha_new(l, &c, false);
	assert_non_null(h);
	for (size_t i = 0; i < ARENA_NODES; i += 37) {
		struct ha_from from = {.sport = 434, .dst = c.address.s_addr};
		struct reg_sa sa = mn_entry_sa(&c, &c.mns[i]), bad = sa;
		uint8_t req[128], reply[512], k[REG_KEY_MAX];
		struct reg_msg m;
		size_t n = arena_rrq(&c, i, ++id, NULL, req, sizeof(req));

		from.src = htonl(0xac100001u + (uint32_t)i);
		n = ha_handle(h, req, n, &from, reply, sizeof(reply));
		assert_int_equal(reg_parse_reply(&m, reply, n), REG_OK);
		assert_int_equal(m.rp.code, MIP4_ACCEPTED);
		assert_true(m.has_mnha);
		assert_int_equal(reg_auth_verify(&m, &m.mnha, &sa, 1),
				 REG_AUTH_OK);
		assert_non_null(
		    bcache_lookup(ha_bcache(h), c.mns[i].hoa.s_addr));

		memcpy(k, sa.key, sa.key_len);
		k[sa.key_len - 1] ^= 0x80;
		bad.key = k;
		n = arena_rrq(&c, i, ++id, &bad, req, sizeof(req));
		n = ha_handle(h, req, n, &from, reply, sizeof(reply));
		assert_int_equal(reg_parse_reply(&m, reply, n), REG_OK);
		assert_int_equal(m.rp.code, MIP4_HA_MN_AUTH_FAILED);
	}
	ha_free(h);
	eloop_free(l);
	ha_conf_free_mns(&c);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(ipip_encap_bytes),
	    cmocka_unit_test(reverse_source_check),
	    cmocka_unit_test(key_arena),
	    cmocka_unit_test(long_keys_end_to_end),
	    cmocka_unit_test(ha_conf_keys),
	    cmocka_unit_test(ha_conf_adv_checks),
	};
	const struct CMUnitTest ns[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(valid_request),	     T(wrong_key),
	    T(replayed_request),     T(clock_skew),
	    T(deregistration),	     T(malformed),
	    T(flood_rate_limited),   T(unknown_ha_address),
	    T(too_many_bindings),    T(udp_tunnel_behind_nat),
	    T(code128_route_failed), T(code129_prohibited),
	    T(code135_simultaneous), T(code137_138_revtun),
	    T(nonce_replies),	     T(nonce_replay_keeps_nonce),
	    T(nonce_without_rng),
#undef T
#define H(f) cmocka_unit_test_setup_teardown(f, setup_homelink, teardown)
	    H(broadcast_b_bit),	     H(multicast_when_enabled),
	    H(ha_advertises),	     H(adv_rate_limited),
#undef H
	};
	int rc;

	log_init("test_ha", false);
	log_set_level(NULL, L_ERR);
	rc = cmocka_run_group_tests_name("tunnel, SA table", pure, NULL, NULL);
	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s; home agent tests "
			      "skipped (they need root)\n",
			      strerror(errno));
		return rc;
	}
	have_ns =
	    nl_link_set_up(nl_ifindex("lo"), true) == 0 && make_homelink() == 0;
	return rc | cmocka_run_group_tests_name("home agent", ns, NULL, NULL);
}
