/*
 * test_ha.c - the home agent (mipd/ha.c) answering real Registration
 * Requests over UDP inside a private network namespace (the test unshares
 * one; it never touches the host's): accept, wrong key, replay, clock skew,
 * deregistration, malformed input, flood, unknown HA address, full cache;
 * the userspace tunnel's encapsulation bytes and reverse-tunnel source
 * check; and the compact SA table (key arena, keys of any length) through
 * the whole request path without sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/ha.h"
#include "mipd/ratelimit.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"
#include "mipd/tunnel.h"

#define HA_PORT 4340
#define SPI 256

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
	struct sockaddr_in me = { .sin_family = AF_INET };

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
	struct reg_request rq = { .flags = q->flags, .lifetime = q->lifetime };
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
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(HA_PORT) };
	ssize_t n = -1;

	to.sin_addr.s_addr = ip("127.0.0.1");
	assert_int_equal(sendto(f->cli, msg, len, 0, (struct sockaddr *)&to,
				sizeof(to)),
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60000, .flags = MIP4_RRQ_T,
			 .key = "mn1-secret-key" };
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "not-the-key" };
	uint8_t reply[512];
	struct reg_msg m;

	assert_int_equal(ask(f, &q, &m, reply, true), MIP4_HA_MN_AUTH_FAILED);
	assert_null(bcache_lookup(ha_bcache(f->ha), ip("10.10.0.100")));
	assert_int_equal(ha_stats(f->ha)->auth_failed, 1);
}

static void replayed_request(void **state)
{
	struct fx *f = *state;
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "mn1-secret-key" };
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "mn1-secret-key",
			 .id = now - (100ULL << 32) };
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "mn1-secret-key" };
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "mn1-secret-key" };
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
	struct ha_from from = { .src = ip("192.0.2.7"), .sport = 434,
				.dst = ip("127.0.0.1") };
	struct rrq q = { .hoa = "10.10.0.100", .coa = "192.0.2.7",
			 .lifetime = 60, .key = "mn1-secret-key" };
	uint8_t req[256], reply[512];
	size_t len, answered = 0;

	for (int i = 0; i < 1000; i++) {
		len = build_rrq(f, &q, req, sizeof(req));
		answered += ha_handle(f->ha, req, len, &from, reply,
				      sizeof(reply)) > 0;
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .ha = "10.10.0.99", .lifetime = 60,
			 .key = "mn1-secret-key" };
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
	struct rrq q = { .hoa = "10.10.0.100", .coa = "10.20.0.5",
			 .lifetime = 60, .key = "mn1-secret-key" };
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
	struct ha_from from = { .src = ip("172.16.1.9"), .sport = 40000,
				.dst = ip("127.0.0.1") };
	struct rrq q = { .hoa = "10.10.0.100", .coa = "192.168.2.50",
			 .lifetime = 60, .key = "mn1-secret-key" };
	struct reg_udp_req u = { .encap = MIP4_ENCAP_IPIP };
	struct reg_request rq = { .lifetime = 60 };
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
	assert_true(reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_UDP_TUN_REP)));
	b = bcache_lookup(ha_bcache(f->ha), rq.home.s_addr);
	assert_int_equal(b->info.encap, BCACHE_ENCAP_UDP);
	assert_int_equal(b->info.nat_addr, from.src);
	assert_int_equal(b->info.nat_port, 40000);
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
	size_t tot = tunnel_ipip_encap(out, sizeof(out), in, n,
				       ip("10.10.0.2"), ip("10.20.0.5"), 0x1234);
	static const uint8_t want[12] = { 0x45, 0x10, 0, 48,   0x12, 0x34,
					  0x40, 0,    64, 4 };

	assert_int_equal(tot, 48);
	assert_memory_equal(out, want, 10);
	assert_memory_equal(out + 12, ((uint8_t[]){ 10, 10, 0, 2 }), 4);
	assert_memory_equal(out + 16, ((uint8_t[]){ 10, 20, 0, 5 }), 4);
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
	assert_memory_equal(out, ((uint8_t[]){ 4, 4, 0, 0 }), 4);
}

static void reverse_source_check(void **state)
{
	struct binding b = { .info = { .hoa = ip("10.10.0.100"),
				       .coa = ip("10.20.0.5"),
				       .encap = BCACHE_ENCAP_IPIP } };
	uint8_t in[28];
	size_t n = inner_packet(in, "10.10.0.100", "198.51.100.1");

	fake_binding = &b;
	assert_ptr_equal(tunnel_src_check(fake_lookup, NULL, in, n,
					  ip("10.20.0.5"), 0),
			 &b);
	/* from another care-of address: spoofed, drop (RFC 3024 5.2) */
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n,
				     ip("10.20.0.6"), 0));
	/* a source that is not a bound home address */
	n = inner_packet(in, "10.10.0.77", "198.51.100.1");
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n,
				     ip("10.20.0.5"), 0));
	/* UDP binding: NAT address and port must match */
	n = inner_packet(in, "10.10.0.100", "198.51.100.1");
	b.info.encap = BCACHE_ENCAP_UDP;
	b.info.nat_addr = ip("172.16.1.9");
	b.info.nat_port = 40000;
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n,
				     ip("10.20.0.5"), 0));
	assert_ptr_equal(tunnel_src_check(fake_lookup, NULL, in, n,
					  ip("172.16.1.9"), 40000),
			 &b);
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n,
				     ip("172.16.1.9"), 40001));
	/* a corrupt inner header */
	in[10] ^= 1;
	assert_null(tunnel_src_check(fake_lookup, NULL, in, n,
				     ip("172.16.1.9"), 40000));
	fake_binding = NULL;
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
	static const size_t lens[] = { 16, 1, 64, 65, 20, 200, REG_KEY_MAX };

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
	struct mn_entry spare = { 0 };
	uint8_t big[REG_KEY_MAX + 1] = { 0 };

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
	assert_int_equal(ha_conf_set_key(&c, &spare, big, REG_KEY_MAX + 1),
			 -1);
	ha_conf_free_mns(&c);
	assert_null(c.mns);
	assert_null(c.keys);
	assert_int_equal(c.nmns, 0);
}

/* Node i's request, authenticated with `key` (its own when NULL). */
static size_t arena_rrq(const struct ha_conf *c, size_t i, uint64_t id,
			const struct reg_sa *key, uint8_t *buf, size_t cap)
{
	struct reg_request rq = { .lifetime = 60, .id = id };
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
		struct ha_from from = { .sport = 434, .dst = c.address.s_addr };
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
	};
	const struct CMUnitTest ns[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(valid_request),	T(wrong_key),
		T(replayed_request),	T(clock_skew),
		T(deregistration),	T(malformed),
		T(flood_rate_limited),	T(unknown_ha_address),
		T(too_many_bindings),	T(udp_tunnel_behind_nat),
#undef T
	};
	int rc;

	log_init("test_ha", false);
	log_set_level(NULL, L_ERR);
	rc = cmocka_run_group_tests_name("tunnel, SA table", pure, NULL,
					   NULL);
	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s; home agent tests "
			      "skipped (they need root)\n",
			      strerror(errno));
		return rc;
	}
	have_ns = nl_link_set_up(nl_ifindex("lo"), true) == 0;
	return rc | cmocka_run_group_tests_name("home agent", ns, NULL, NULL);
}
