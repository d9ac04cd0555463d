/*
 * test_mn_reg.c - the mobile node's registration state machine against a
 * fake home agent: requests are captured from the send callback, parsed
 * and verified with the codec; replies are built and signed as an HA
 * would.  Timers are checked through their due times and fired by hand
 * (the RFC's 1 s minimum would make real waits slow); one test runs the
 * event loop for real.
 */
/* RAND_set_rand_method: a failing RNG in a test below */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/eloop.h"
#include "common/log.h"
#include "mipd/ha.h"
#include "mipd/mn_reg.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define SPI 0x1000

static const struct reg_sa good_sa = {.spi = SPI,
				      .alg = REG_ALG_HMAC_MD5,
				      .key =
					  (const uint8_t *)"0123456789abcdef",
				      .key_len = 16};
static const struct reg_sa other_sa = {.spi = SPI,
				       .alg = REG_ALG_HMAC_MD5,
				       .key =
					   (const uint8_t *)"not-the-same-key",
				       .key_len = 16};

static struct eloop *l;
static struct mn_reg r;
static const char *reply_src; /* see reply_from() */

/* What the send callback saw: every request, in order. */
static struct {
	uint8_t pkt[16][MN_REG_MAX_MSG];
	size_t len[16];
	struct mn_reg_target t[16];
	int n;
} sent;

static struct {
	struct mn_reg_result r[16];
	int n;
} res;

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static int fake_send(void *arg, const struct mn_reg_target *t,
		     const uint8_t *pkt, size_t len)
{
	assert_true(sent.n < 16 && len <= MN_REG_MAX_MSG);
	memcpy(sent.pkt[sent.n], pkt, len);
	sent.len[sent.n] = len;
	sent.t[sent.n] = *t;
	sent.n++;
	return 0;
}

static void on_result(void *arg, const struct mn_reg_result *rr)
{
	assert_true(res.n < 16);
	res.r[res.n++] = *rr;
}

static struct mn_reg_conf base_conf(void)
{
	struct mn_reg_conf c = {.home = ip("10.1.0.50"),
				.ha = ip("10.1.0.1"),
				.sa = good_sa,
				.lifetime = 60,
				.tries = 4};

	return c;
}

static int setup_with(const struct mn_reg_conf *c)
{
	struct mn_reg_io io = {.send = fake_send, .result = on_result};

	memset(&sent, 0, sizeof(sent));
	memset(&res, 0, sizeof(res));
	reply_src = NULL;
	l = eloop_new();
	return l && mn_reg_init(&r, l, c, &io) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct mn_reg_conf c = base_conf();

	return setup_with(&c);
}

static int teardown(void **state)
{
	mn_reg_fini(&r);
	eloop_free(l);
	return 0;
}

static struct mn_reg_target target(enum mn_reg_path p, const char *coa)
{
	struct mn_reg_target t = {.path = p, .coa = ip(coa)};

	if (p == MN_REG_VIA_FA)
		t.fa = t.coa;
	return t;
}

/* The n-th request, parsed and checked as the HA checks it. */
static void request(int n, struct reg_msg *m)
{
	assert_true(n < sent.n);
	assert_int_equal(reg_parse_request(m, sent.pkt[n], sent.len[n]),
			 REG_OK);
	assert_true(m->has_mnha);
	assert_int_equal(m->mnha.spi, SPI);
	assert_int_equal(reg_auth_verify(m, &m->mnha, &good_sa, 1),
			 REG_AUTH_OK);
}

static uint64_t request_id(int n)
{
	struct reg_msg m;

	request(n, &m);
	return m.rq.id;
}

/* Where replies come from: the attempt's foreign agent on that path, else
 * the home agent named; reply_src overrides (a spoofer elsewhere). */
static struct in_addr reply_from(const char *ha)
{
	if (reply_src)
		return ip(reply_src);
	return r.target.path == MN_REG_VIA_FA ? r.target.fa : ip(ha);
}

/* A reply as an HA builds it, naming home agent ha; sa NULL = no MN-HA
 * extension. */
static void reply_full(uint8_t code, uint16_t life, uint64_t id,
		       const struct reg_sa *sa, const char *ha)
{
	struct reg_reply rp = {.code = code,
			       .lifetime = life,
			       .home = ip("10.1.0.50"),
			       .ha = ip(ha),
			       .id = id};
	uint8_t buf[256];
	struct reg_builder b;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, sizeof(buf));
	reg_build_reply(&b, &w, &rp);
	if (sa)
		assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, sa),
				 REG_OK);
	assert_int_equal(reg_build_end(&b, &n), REG_OK);
	mn_reg_input(&r, buf, n, reply_from(ha));
}

static void reply_id(uint8_t code, uint16_t life, uint64_t id,
		     const struct reg_sa *sa)
{
	reply_full(code, life, id, sa, "10.1.0.1");
}

/* Answers the latest request. */
static void reply(uint8_t code, uint16_t life, const struct reg_sa *sa)
{
	reply_id(code, life, request_id(sent.n - 1), sa);
}

static void fire(struct timer *t)
{
	assert_true(timer_armed(t));
	timer_cancel(l, t);
	t->cb(t->owner);
}

/* Due in ms, with room for the time the test itself took. */
static void assert_due_ms(const struct timer *t, uint64_t ms)
{
	uint64_t left = timer_remaining_ns(t) / NS_PER_MS;

	assert_true(timer_armed(t));
	if (left > ms || left + 200 < ms)
		fail_msg("timer due in %llu ms, expected %llu",
			 (unsigned long long)left, (unsigned long long)ms);
}

/* Runs fn with stderr captured; returns what was logged (static). */
static const char *capture(void (*fn)(void))
{
	static char out[8192];
	FILE *f = tmpfile();
	int saved, n;

	assert_non_null(f);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(f), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	n = (int)fread(out, 1, sizeof(out) - 1, f);
	out[n > 0 ? n : 0] = '\0';
	fclose(f);
	return out;
}

/* --- request format --- */

static void request_colocated(void **state)
{
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct reg_msg m;
	uint64_t ntp_now = reg_ntp_now();

	teardown(state);
	c.reverse_tunnel = true;
	c.udp_tunnel = true;
	c.force_udp = true;
	strcpy(c.nai, "mn1@example.org");
	assert_int_equal(setup_with(&c), 0);

	assert_int_equal(mn_reg_start(&r, &t), 0);
	assert_int_equal(sent.n, 1);
	assert_int_equal(sent.t[0].path, MN_REG_DIRECT);
	request(0, &m);
	assert_int_equal(m.rq.flags, MIP4_RRQ_D | MIP4_RRQ_T);
	assert_int_equal(m.rq.lifetime, 60);
	assert_int_equal(m.rq.home.s_addr, ip("10.1.0.50").s_addr);
	assert_int_equal(m.rq.ha.s_addr, ip("10.1.0.1").s_addr);
	assert_int_equal(m.rq.coa.s_addr, ip("10.2.0.77").s_addr);
	/* a timestamp: NTP seconds within a second of ours */
	assert_true((m.rq.id >> 32) - (ntp_now >> 32) <= 1);
	assert_true(m.has_nai && m.has_udp_req);
	assert_int_equal(m.nai.len, 15);
	assert_memory_equal(m.nai.p, "mn1@example.org", 15);
	assert_int_equal(m.udp_req.flags, MIP4_UDP_REQ_F);
	assert_int_equal(m.udp_req.encap, MIP4_ENCAP_IPIP);
	/* both under the authenticator, which is last */
	assert_true(reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_MN_NAI)));
	assert_true(
	    reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_UDP_TUN_REQ)));
	assert_int_equal(m.ext[m.next - 1].type, MIP4_EXT_MN_HA_AUTH);
	assert_int_equal(r.state, MN_REG_REQUESTING);
}

static void request_via_fa_and_vpn(void **state)
{
	struct mn_reg_target fa = target(MN_REG_VIA_FA, "10.3.0.1");
	struct mn_reg_target vpn = target(MN_REG_VIA_VPN, "10.9.0.5");
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &fa), 0);
	request(0, &m);
	assert_int_equal(m.rq.flags, 0); /* no D, no T by default */
	assert_int_equal(m.rq.coa.s_addr, ip("10.3.0.1").s_addr);
	assert_false(m.has_udp_req || m.has_nai);
	assert_int_equal(sent.t[0].fa.s_addr, ip("10.3.0.1").s_addr);

	/* mc: co-located TIA, reverse tunnelled whatever the config says */
	assert_int_equal(mn_reg_start(&r, &vpn), 0);
	request(1, &m);
	assert_int_equal(m.rq.flags, MIP4_RRQ_D | MIP4_RRQ_T);
	assert_int_equal(m.rq.coa.s_addr, ip("10.9.0.5").s_addr);
	assert_int_equal(sent.t[1].path, MN_REG_VIA_VPN);
	assert_true(request_id(1) > request_id(0));
}

/* --- accepted, renewal, expiry --- */

static void accepted_and_renewed(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct mn_reg_status st;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 40, &good_sa); /* HA shortened 60 to 40 */
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.r[0].outcome, MN_REG_ACCEPTED);
	assert_true(res.r[0].authenticated);
	assert_int_equal(res.r[0].lifetime, 40);
	assert_int_equal(res.r[0].target.coa.s_addr, t.coa.s_addr);
	assert_false(timer_armed(&r.t_retx));
	assert_due_ms(&r.t_renew, 32000); /* 80% of 40 s */
	assert_due_ms(&r.t_expire, 40000);

	mn_reg_status(&r, &st);
	assert_int_equal(st.state, MN_REG_REGISTERED);
	assert_int_equal(st.coa.s_addr, t.coa.s_addr);
	assert_int_equal(st.ha.s_addr, ip("10.1.0.1").s_addr);
	assert_int_equal(st.granted, 40);
	assert_true(st.remaining >= 39 && st.remaining <= 40);
	assert_int_equal(st.last_code, 0);

	fire(&r.t_renew);
	assert_int_equal(r.state, MN_REG_RENEWING);
	assert_int_equal(sent.n, 2);
	assert_true(request_id(1) > request_id(0));
	reply(MIP4_ACCEPTED_NO_SIMUL, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_due_ms(&r.t_renew, 48000);
	assert_int_equal(res.n, 2);

	/* a late duplicate of the reply is dropped */
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(res.n, 2);

	/* a lifetime longer than requested is held to ours */
	fire(&r.t_renew);
	reply(MIP4_ACCEPTED, 900, &good_sa);
	assert_int_equal(r.granted, 60);
}

static void expiry(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 10, &good_sa);
	fire(&r.t_expire);
	assert_int_equal(r.state, MN_REG_IDLE);
	assert_int_equal(res.r[res.n - 1].outcome, MN_REG_EXPIRED);
	assert_false(timer_armed(&r.t_renew));
}

/* --- retransmission --- */

static void backoff_and_timeout(void **state)
{
	static const uint64_t waits[] = {1000, 2000, 4000, 8000};
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(sent.n, i + 1);
		assert_due_ms(&r.t_retx, waits[i]);
		if (i)
			assert_true(request_id(i) > request_id(i - 1));
		fire(&r.t_retx);
	}
	assert_int_equal(sent.n, 4); /* tries = 4, then given up */
	assert_int_equal(r.state, MN_REG_IDLE);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.r[0].outcome, MN_REG_TIMEOUT);
	assert_int_equal(res.r[0].target.path, MN_REG_DIRECT);
	assert_false(timer_armed(&r.t_retx));
}

/* RFC 5944 3.6.3: never longer than the requested lifetime, never
 * sooner than 1 s. */
static void backoff_capped(void **state)
{
	static const uint64_t waits[] = {1000, 2000, 3000, 3000};
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	teardown(state);
	c.lifetime = 3;
	c.retx_initial_ms = 10; /* below the RFC minimum: raised */
	assert_int_equal(setup_with(&c), 0);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	for (int i = 0; i < 4; i++) {
		assert_due_ms(&r.t_retx, waits[i]);
		fire(&r.t_retx);
	}
	assert_int_equal(res.r[0].outcome, MN_REG_TIMEOUT);
}

/* A reply to an earlier transmission still counts, and the lifetime
 * runs from when that one was sent. */
static void reply_to_earlier_try(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	uint64_t first;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	first = request_id(0);
	fire(&r.t_retx);
	assert_int_equal(sent.n, 2);
	reply_id(MIP4_ACCEPTED, 60, first, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
}

/* --- denials --- */

static void do_wrong_key(void)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	/* the HA holds another key: its 131 does not verify with ours */
	reply(MIP4_HA_MN_AUTH_FAILED, 0, &other_sa);
}

static void do_second_131(void)
{
	reply(MIP4_HA_MN_AUTH_FAILED, 0, &other_sa);
}

/* An unverifiable 131 - a wrong key, or a spoof by anyone who saw our
 * Identification - changes nothing but the log and a counter (RFC 5944
 * 3.6.2.1): the normal retransmissions go on and the attempt ends in a
 * TIMEOUT, so the policy falls back as for a silent HA. */
static void wrong_key_131(void **state)
{
	const char *log = capture(do_wrong_key);
	struct mn_reg_status st;

	assert_non_null(strstr(log, "home agent rejected our authentication: "
				    "MN-HA key (SPI 4096) is wrong"));
	assert_non_null(strstr(log, "or reply spoofed"));
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_int_equal(res.n, 0);
	assert_int_equal(r.last_code, -1);
	assert_due_ms(&r.t_retx, 1000);
	/* the next one within the rate limit is counted, not logged */
	log = capture(do_second_131);
	assert_null(strstr(log, "MN-HA key"));
	mn_reg_status(&r, &st);
	assert_int_equal(st.unverified_131, 2);
	assert_int_equal(st.forged_131, 0);
	for (int i = 0; i < 3; i++) {
		fire(&r.t_retx);
		reply(MIP4_HA_MN_AUTH_FAILED, 0, &other_sa);
	}
	assert_int_equal(sent.n, 4); /* tries spent */
	assert_int_equal(res.n, 0);
	fire(&r.t_retx);
	assert_false(timer_armed(&r.t_retx));
	assert_int_equal(res.n, 1);
	assert_int_equal(res.r[0].outcome, MN_REG_TIMEOUT);
	assert_int_equal(r.state, MN_REG_IDLE);
}

/* A spoofed 131 while renewing: the renewal keeps its 1 s retransmission
 * and the binding its expiry (no minute-long wait, no lapse). */
static void spoofed_131_while_renewing(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 10, &good_sa);
	fire(&r.t_renew);
	assert_int_equal(r.state, MN_REG_RENEWING);
	reply(MIP4_HA_MN_AUTH_FAILED, 0, NULL);
	assert_int_equal(r.state, MN_REG_RENEWING);
	assert_due_ms(&r.t_retx, 1000);
	assert_true(timer_armed(&r.t_expire));
	fire(&r.t_retx);
	assert_int_equal(sent.n, 3);
	reply(MIP4_ACCEPTED, 10, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
}

static void do_forged_131(void)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_HA_MN_AUTH_FAILED, 0, &good_sa);
}

/* A 131 that verifies with our key answers a request we did not send
 * (ours verify with that key): someone replayed or altered our request.
 * Logged as tampering; the node keeps trying and registers. */
static void authenticated_131(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	const char *log = capture(do_forged_131);
	struct mn_reg_status st;

	assert_non_null(strstr(log, "forges or alters our Registration"));
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_int_equal(res.n, 0);
	assert_due_ms(&r.t_retx, 1000);
	mn_reg_status(&r, &st);
	assert_int_equal(st.forged_131, 1);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	assert_int_equal(mn_reg_deregister(&r), 0);
	assert_int_equal(sent.n, 3);
}

/* An HA whose clock is 1000 s ahead of ours. */
static void clock_skew_133(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	uint64_t ha_now = reg_ntp_now() + (1000ULL << 32);
	uint64_t id;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	id = request_id(0);
	assert_int_equal(reg_ts_check(NULL, id, ha_now, 7), REG_ID_MISMATCH);
	reply_id(MIP4_HA_ID_MISMATCH, 0, reg_ts_mismatch_id(id, ha_now),
		 &good_sa);
	/* resynchronised and sent again at once */
	assert_true(r.clock_offset >= 999 && r.clock_offset <= 1001);
	assert_int_equal(sent.n, 2);
	assert_int_equal(reg_ts_check(NULL, request_id(1), ha_now, 7),
			 REG_ID_OK);
	assert_due_ms(&r.t_retx, 1000);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_int_equal(res.n, 1); /* 133 is not reported */

	/* a second 133 in one attempt backs off instead */
	fire(&r.t_renew);
	id = request_id(2);
	reply_id(MIP4_HA_ID_MISMATCH, 0, reg_ts_mismatch_id(id, ha_now),
		 &good_sa);
	assert_int_equal(sent.n, 4);
	reply_id(MIP4_HA_ID_MISMATCH, 0,
		 reg_ts_mismatch_id(request_id(3), ha_now + (50ULL << 32)),
		 &good_sa);
	assert_int_equal(sent.n, 4);
	assert_due_ms(&r.t_retx, MN_REG_DENIED_WAIT_MS);
	assert_int_equal(res.r[res.n - 1].outcome, MN_REG_DENIED);
	assert_int_equal(res.r[res.n - 1].code, 133);
}

static void other_denial_backs_off(void **state)
{
	struct mn_reg_target t = target(MN_REG_VIA_FA, "10.3.0.1");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_HA_NO_RESOURCES, 0, &good_sa);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_int_equal(res.r[0].outcome, MN_REG_DENIED);
	assert_int_equal(res.r[0].code, 130);
	assert_due_ms(&r.t_retx, MN_REG_DENIED_WAIT_MS);
	fire(&r.t_retx);
	assert_int_equal(sent.n, 2);
	/* a foreign agent's own denial carries no MN-HA authenticator */
	reply(MIP4_FA_ADMIN_PROHIBITED, 0, NULL);
	assert_int_equal(res.r[1].code, 65);
	assert_false(res.r[1].authenticated);
	assert_int_equal(r.last_code, 65);
}

/* --- replies that must be ignored --- */

static void ignored_replies(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	static const uint8_t junk[] = {3, 0, 0, 60, 1, 2};
	uint64_t id;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	id = request_id(0);
	reply_id(MIP4_ACCEPTED, 60, id ^ 1, &good_sa);	      /* wrong id */
	reply_id(MIP4_ACCEPTED, 60, id, &other_sa);	      /* bad auth */
	reply_id(MIP4_ACCEPTED, 60, id, NULL);		      /* no auth */
	reply_id(MIP4_HA_NO_RESOURCES, 0, id, &other_sa);     /* bad auth */
	mn_reg_input(&r, junk, sizeof(junk), ip("10.1.0.1")); /* malformed */
	mn_reg_input(&r, sent.pkt[0], sent.len[0], ip("10.1.0.1"));
	assert_int_equal(res.n, 0);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_int_equal(r.last_code, -1);
	assert_due_ms(&r.t_retx, 1000);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
}

static void do_unsigned_accept(void)
{
	reply(MIP4_ACCEPTED, 60, NULL);
}

static void do_wrong_key_accept(void)
{
	reply(MIP4_ACCEPTED, 60, &other_sa);
}

/* Replies that do not verify are logged, but a flood of them (anyone who
 * sees our requests can send it) is one line per MN_REG_LOG_MS with a
 * count of the ones left out, like the 131 lines. */
static void ignored_replies_rate_limited(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	const char *log;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	log = capture(do_unsigned_accept);
	assert_non_null(strstr(log, "ignored: no MN-HA authenticator"));
	assert_null(strstr(log, "more since the last line"));
	for (int i = 0; i < 3; i++) {
		log = capture(do_unsigned_accept);
		assert_null(strstr(log, "ignored"));
	}
	log = capture(do_wrong_key_accept);
	assert_null(strstr(log, "ignored"));
	/* the 131 lines have their own limit: not silenced by these */
	log = capture(do_second_131);
	assert_non_null(strstr(log, "MN-HA key (SPI 4096) is wrong"));
	/* the interval is over: the next line says how many were left out */
	r.log_ignored.next_ns = 0;
	log = capture(do_wrong_key_accept);
	assert_non_null(strstr(log, "ignored: "));
	assert_non_null(strstr(log, " (4 more since the last line)"));
	log = capture(do_unsigned_accept);
	assert_null(strstr(log, "ignored"));
	assert_int_equal(res.n, 0);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
}

static void home_address_mismatch(void **state)
{
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	/* our home address differs from the one reply() puts in */
	teardown(state);
	c.home = ip("10.1.0.51");
	assert_int_equal(setup_with(&c), 0);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_int_equal(res.n, 0);
}

/* --- deregistration, probes, cancel --- */

static void deregistration(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(mn_reg_deregister(&r), 0);
	assert_int_equal(r.state, MN_REG_DEREGISTERING);
	request(1, &m);
	assert_int_equal(m.rq.lifetime, 0);
	assert_int_equal(m.rq.flags, 0);
	assert_int_equal(m.rq.coa.s_addr, ip("10.1.0.50").s_addr);
	assert_int_equal(m.rq.home.s_addr, ip("10.1.0.50").s_addr);
	assert_int_equal(sent.t[1].path, MN_REG_HOME);
	reply(MIP4_ACCEPTED, 0, &good_sa);
	assert_int_equal(r.state, MN_REG_IDLE);
	assert_int_equal(res.r[1].outcome, MN_REG_DEREGISTERED);
	assert_false(timer_armed(&r.t_renew) || timer_armed(&r.t_expire) ||
		     timer_armed(&r.t_retx));
}

/* A failed trust probe from a new address leaves the mc binding (and its
 * renewal) in place: MOBIKE kept the TIA. */
static void failed_probe_keeps_binding(void **state)
{
	struct mn_reg_target vpn = target(MN_REG_VIA_VPN, "10.9.0.5");
	struct mn_reg_target probe = target(MN_REG_DIRECT, "172.16.0.10");
	struct mn_reg_status st;

	assert_int_equal(mn_reg_start(&r, &vpn), 0);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(mn_reg_start(&r, &probe), 0);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	for (int i = 0; i < 4; i++)
		fire(&r.t_retx);
	assert_int_equal(res.r[1].outcome, MN_REG_TIMEOUT);
	assert_int_equal(res.r[1].target.path, MN_REG_DIRECT);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_true(timer_armed(&r.t_renew));
	mn_reg_status(&r, &st);
	assert_int_equal(st.path, MN_REG_VIA_VPN);
	assert_int_equal(st.coa.s_addr, vpn.coa.s_addr);

	/* the renewal goes through the VPN again */
	fire(&r.t_renew);
	assert_int_equal(sent.t[sent.n - 1].path, MN_REG_VIA_VPN);
	assert_int_equal(r.state, MN_REG_RENEWING);

	reply(MIP4_ACCEPTED, 60, &good_sa);

	/* a cancelled probe also falls back to the binding, renewal armed */
	assert_int_equal(mn_reg_start(&r, &probe), 0);
	mn_reg_cancel(&r);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_due_ms(&r.t_renew, 48000);
	assert_int_equal(r.target.path, MN_REG_VIA_VPN);
}

static void init_rejects_bad_sa(void **state)
{
	struct mn_reg_io io = {.send = fake_send};
	struct mn_reg_conf c = base_conf();
	struct mn_reg x;

	c.sa.spi = 200; /* reserved, RFC 5944 1.6 */
	assert_int_equal(mn_reg_init(&x, l, &c, &io), -1);
	c = base_conf();
	c.sa.replay = (enum reg_replay_mode)7;
	assert_int_equal(mn_reg_init(&x, l, &c, &io), -1);
	c = base_conf();
	c.sa.replay = REG_REPLAY_NONCE;
	assert_int_equal(mn_reg_init(&x, l, &c, &io), 0);
	mn_reg_fini(&x);
	c = base_conf();
	c.sa.key_len = 0;
	assert_int_equal(mn_reg_init(&x, l, &c, &io), -1);
	assert_string_equal(mn_reg_state_name(MN_REG_DEREGISTERING),
			    "deregistering");
	assert_string_equal(mn_reg_path_name(MN_REG_VIA_VPN), "via VPN");
	assert_string_equal(mn_reg_outcome_name(MN_REG_TIMEOUT), "timeout");
}

/* Through the real loop: a 1 s lifetime renews at 800 ms. */
static bool renewed(void)
{
	return sent.n >= 2;
}

static void loop_renewal(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	uint64_t start = mono_ms(), end = start + 3000;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_ACCEPTED, 1, &good_sa);
	while (!renewed() && mono_ms() < end)
		eloop_run_once(l, 50);
	assert_true(renewed());
	assert_true(mono_ms() - start >= 790);
	assert_int_equal(r.state, MN_REG_RENEWING);
}

/* --- what each denial makes the node do --- */

static void code69_lifetime(void **state)
{
	struct mn_reg_target t = target(MN_REG_VIA_FA, "10.3.0.1");
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	/* the FA's own denial: no MN-HA, Lifetime = what it accepts */
	reply(MIP4_FA_LIFETIME_TOO_LONG, 30, NULL);
	assert_int_equal(sent.n, 2);
	request(1, &m);
	assert_int_equal(m.rq.lifetime, 30);
	assert_int_equal(res.n, 0); /* handled, not a verdict */
	/* a second 69 in the attempt backs off */
	reply(MIP4_FA_LIFETIME_TOO_LONG, 20, NULL);
	assert_int_equal(sent.n, 2);
	assert_due_ms(&r.t_retx, MN_REG_DENIED_WAIT_MS);
	/* the cap stays for this attempt, accepted with it */
	fire(&r.t_retx);
	request(2, &m);
	assert_int_equal(m.rq.lifetime, 30);
	reply(MIP4_ACCEPTED, 30, &good_sa);
	assert_int_equal(r.granted, 30);
	/* unauthenticated, it binds no later attempt: not the renewal */
	fire(&r.t_renew);
	request(3, &m);
	assert_int_equal(m.rq.lifetime, 60);
	/* nor another FA */
	t = target(MN_REG_VIA_FA, "10.3.0.9");
	assert_int_equal(mn_reg_start(&r, &t), 0);
	request(4, &m);
	assert_int_equal(m.rq.lifetime, 60);
}

static void code136_new_ha(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct mn_reg_status st;
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply_full(MIP4_HA_UNKNOWN_HA, 0, request_id(0), &good_sa, "10.1.0.2");
	assert_int_equal(sent.n, 2);
	request(1, &m);
	assert_int_equal(m.rq.ha.s_addr, ip("10.1.0.2").s_addr);
	assert_int_equal(r.ha.s_addr, ip("10.1.0.2").s_addr);
	mn_reg_status(&r, &st);
	assert_int_equal(st.ha.s_addr, ip("10.1.0.2").s_addr);
	/* naming the same address again is just a denial */
	reply_full(MIP4_HA_UNKNOWN_HA, 0, request_id(1), &good_sa, "10.1.0.2");
	assert_int_equal(sent.n, 2);
	assert_due_ms(&r.t_retx, MN_REG_DENIED_WAIT_MS);
	/* an unauthenticated 136 is ignored: it could send us anywhere */
	fire(&r.t_retx);
	reply_full(MIP4_HA_UNKNOWN_HA, 0, request_id(2), NULL, "10.9.9.9");
	assert_int_equal(sent.n, 3);
	assert_int_equal(r.ha.s_addr, ip("10.1.0.2").s_addr);
}

/* 74 from the FA: T off once; then a 75 from it is a contradiction. */
static void code74_then_75(void **state)
{
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_VIA_FA, "10.3.0.1");
	struct reg_msg m;

	teardown(state);
	c.reverse_tunnel = true;
	assert_int_equal(setup_with(&c), 0);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	request(0, &m);
	assert_true(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_FA_REVTUN_UNAVAIL, 0, NULL);
	assert_int_equal(sent.n, 2);
	request(1, &m);
	assert_false(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_FA_REVTUN_MANDATORY, 0, NULL);
	assert_int_equal(sent.n, 2);
	assert_int_equal(r.state, MN_REG_IDLE);
	assert_int_equal(res.n, 1);
	assert_int_equal(res.r[0].outcome, MN_REG_DENIED);
	assert_int_equal(res.r[0].code, 75);
	assert_true(res.r[0].final);
	assert_false(timer_armed(&r.t_retx));
}

static void code75_sets_t(void **state)
{
	struct mn_reg_target t = target(MN_REG_VIA_FA, "10.3.0.1");
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_FA_REVTUN_MANDATORY, 0, NULL);
	request(1, &m);
	assert_true(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	/* the FA's word lasts one attempt: the renewal asks as configured,
	 * and a 75 again sets T again */
	fire(&r.t_renew);
	request(2, &m);
	assert_false(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_FA_REVTUN_MANDATORY, 0, NULL);
	request(3, &m);
	assert_true(m.rq.flags & MIP4_RRQ_T);
}

/* RFC 5944 3.6.2.1: an unauthenticated FA code counts only on the path
 * through that FA and from its address; elsewhere anyone could send it.
 * A spoofed 74 on a co-located path must not end the attempt. */
static void fa_code_needs_our_fa(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct reg_msg m;

	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_FA_REVTUN_UNAVAIL, 0, NULL);
	reply(MIP4_FA_ADMIN_PROHIBITED, 0, NULL);
	reply(MIP4_FA_BAD_HA_ADDR, 0, NULL);
	assert_int_equal(res.n, 0);
	assert_int_equal(sent.n, 1);
	assert_int_equal(r.state, MN_REG_REQUESTING);
	assert_due_ms(&r.t_retx, 1000);
	/* via an FA, from some other address: ignored too */
	t = target(MN_REG_VIA_FA, "10.3.0.1");
	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply_src = "10.3.0.66";
	reply(MIP4_FA_LIFETIME_TOO_LONG, 1, NULL);
	reply(MIP4_FA_REVTUN_UNAVAIL, 0, NULL);
	assert_int_equal(sent.n, 2);
	assert_int_equal(res.n, 0);
	/* from the FA itself it counts */
	reply_src = NULL;
	reply(MIP4_FA_LIFETIME_TOO_LONG, 30, NULL);
	assert_int_equal(sent.n, 3);
	request(2, &m);
	assert_int_equal(m.rq.lifetime, 30);
}

/* Nonce mode without random bytes: no request (a clock value as nonce
 * would be guessable). */
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

static void nonce_needs_rng(void **state)
{
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	int rc;

	teardown(state);
	c.sa.replay = REG_REPLAY_NONCE;
	assert_int_equal(setup_with(&c), 0);
	assert_int_equal(RAND_set_rand_method(&rand_failing), 1);
	rc = mn_reg_start(&r, &t);
	RAND_set_rand_method(NULL);
	assert_int_equal(rc, -1);
	assert_int_equal(sent.n, 0);
	assert_int_equal(r.state, MN_REG_IDLE);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	assert_int_equal(sent.n, 1);
}

static void code137_138(void **state)
{
	struct mn_reg_conf c = base_conf();
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct mn_reg_target vpn = target(MN_REG_VIA_VPN, "10.9.0.5");
	struct reg_msg m;

	teardown(state);
	c.reverse_tunnel = true;
	assert_int_equal(setup_with(&c), 0);
	assert_int_equal(mn_reg_start(&r, &t), 0);
	reply(MIP4_HA_REVTUN_UNAVAIL, 0, &good_sa);
	request(1, &m);
	assert_false(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_ACCEPTED, 60, &good_sa);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	/* mode mc needs the reverse tunnel: 137 there is the end */
	assert_int_equal(mn_reg_start(&r, &vpn), 0);
	request(2, &m);
	assert_true(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_HA_REVTUN_UNAVAIL, 0, &good_sa);
	assert_int_equal(sent.n, 3);
	assert_true(res.r[res.n - 1].final);
	assert_int_equal(res.r[res.n - 1].code, 137);
	assert_int_equal(r.state, MN_REG_REGISTERED); /* the c binding */
	/* 138: the HA wants T after all */
	assert_int_equal(mn_reg_start(&r, &t), 0);
	request(3, &m);
	assert_false(m.rq.flags & MIP4_RRQ_T);
	reply(MIP4_HA_REVTUN_MANDATORY, 0, &good_sa);
	request(4, &m);
	assert_true(m.rq.flags & MIP4_RRQ_T);
}

static const char *long_wait_log;

static void deny_135(void)
{
	reply(MIP4_HA_TOO_MANY_BINDINGS, 0, &good_sa);
}

static void deny_139(void)
{
	reply(MIP4_HA_ENCAP_UNAVAIL, 0, &good_sa);
}

static void deny_142(void)
{
	reply(MIP4_HA_UDP_ENCAP_UNAVAIL, 0, &good_sa);
}

/* 135, 139, 142: explained, and a long wait before the next try. */
static void long_backoff_codes(void **state)
{
	static const struct {
		void (*fn)(void);
		const char *want;
	} cases[] = {
	    {deny_135, "code 135 (HA: too many simultaneous mobility "
		       "bindings): the home agent keeps another care-of"},
	    {deny_139, "code 139 (HA: requested encapsulation "
		       "unavailable): the home agent offers only IP-in-IP"},
	    {deny_142, "code 142 (HA: UDP encapsulation unavailable): the "
		       "home agent refuses IP-in-UDP"},
	};
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mn_reg_start(&r, &t), 0);
		long_wait_log = capture(cases[i].fn);
		if (!strstr(long_wait_log, cases[i].want))
			fail_msg("log lacks \"%s\":\n%s", cases[i].want,
				 long_wait_log);
		assert_due_ms(&r.t_retx, MN_REG_DENIED_LONG_MS);
		assert_int_equal(r.state, MN_REG_REQUESTING);
		assert_false(res.r[res.n - 1].final);
	}
}

/* Every code the node may see has a name, and the log uses it. */
static void denial_names_logged(void **state)
{
	static const uint8_t codes[] = {
	    0,	 1,   64,  65,	66,  67,  68,  69,  70,	 71,
	    72,	 73,  74,  75,	76,  77,  78,  79,  80,	 81,
	    82,	 88,  96,  97,	98,  99,  128, 129, 130, 131,
	    132, 133, 134, 135, 136, 137, 138, 139, 142, 194,
	};

	for (size_t i = 0; i < sizeof(codes); i++) {
		const char *n = reg_code_name(codes[i]);

		assert_non_null(strstr(n, codes[i] < 64 ? "accepted" : "A: "));
		assert_null(strstr(n, "unknown code"));
	}
	assert_non_null(strstr(reg_code_name(200), "unknown code"));
}

/* --- against the real home agent, in process (RFC 5944 5.7) --- */

static struct ha_conf ha_conf;
static struct ha *ha;

/* Every request the node sent and the HA has not seen yet goes to
 * ha_handle(); its reply comes back through mn_reg_input().  Replies are
 * handed over after the send returned, as a socket would. */
static int ha_seen;

static void pump(void)
{
	while (ha_seen < sent.n) {
		struct ha_from from = {.src = sent.t[ha_seen].coa.s_addr,
				       .sport = 434,
				       .dst = ip("10.1.0.1").s_addr};
		uint8_t rep[512];
		size_t n = ha_handle(ha, sent.pkt[ha_seen], sent.len[ha_seen],
				     &from, rep, sizeof(rep));

		ha_seen++;
		if (n)
			mn_reg_input(&r, rep, n, ip("10.1.0.1"));
	}
}

static void ha_up(enum reg_replay_mode mode)
{
	ha_conf_defaults(&ha_conf);
	ha_conf.address = ip("10.1.0.1");
	ha_conf.replay = mode;
	ha_conf.rate = 0;
	ha_conf.mns = calloc(1, sizeof(*ha_conf.mns));
	assert_non_null(ha_conf.mns);
	ha_conf.nmns = 1;
	ha_conf.mns[0].hoa = ip("10.1.0.50");
	ha_conf.mns[0].spi = SPI;
	ha_conf.mns[0].alg = REG_ALG_HMAC_MD5;
	assert_int_equal(ha_conf_set_key(&ha_conf, &ha_conf.mns[0], good_sa.key,
					 good_sa.key_len),
			 0);
	ha = ha_new(l, &ha_conf, false);
	assert_non_null(ha);
	ha_seen = sent.n;
}

static void ha_down(void)
{
	ha_free(ha);
	ha_conf_free_mns(&ha_conf);
	ha = NULL;
}

static int setup_mode(enum reg_replay_mode mode)
{
	struct mn_reg_conf c = base_conf();

	c.sa.replay = mode;
	if (setup_with(&c) < 0)
		return -1;
	ha_up(mode);
	return 0;
}

static int setup_ts(void **state)
{
	return setup_mode(REG_REPLAY_TIMESTAMP);
}

static int setup_nonce(void **state)
{
	return setup_mode(REG_REPLAY_NONCE);
}

static int teardown_ha(void **state)
{
	ha_down();
	return teardown(state);
}

static void ts_with_ha(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");

	assert_int_equal(mn_reg_start(&r, &t), 0);
	pump();
	assert_int_equal(sent.n, 1);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_non_null(bcache_lookup(ha_bcache(ha), ip("10.1.0.50").s_addr));
	fire(&r.t_renew);
	pump();
	assert_int_equal(r.state, MN_REG_REGISTERED);
	/* a clock 100 s behind: 133, the HA's time adopted, registered */
	r.clock_offset = -100;
	r.last_id = 0; /* as after a reboot with the clock wrong */
	fire(&r.t_renew);
	pump();
	assert_int_equal(sent.n, 4);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_true(r.clock_offset >= -1 && r.clock_offset <= 1);
	assert_int_equal(ha_stats(ha)->id_mismatch, 1);
}

static uint32_t id_hi(int n)
{
	return (uint32_t)(request_id(n) >> 32);
}

static void nonce_with_ha(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct mn_reg_status st;
	uint8_t rep[512];
	struct ha_from from = {.src = ip("10.2.0.77").s_addr,
			       .sport = 434,
			       .dst = ip("10.1.0.1").s_addr};
	struct reg_msg m;
	size_t n;

	/* first contact: no HA nonce known, so 133 with one, then in */
	assert_int_equal(mn_reg_start(&r, &t), 0);
	pump();
	assert_int_equal(sent.n, 2);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_true(r.have_nonce);
	assert_int_equal(ha_stats(ha)->id_mismatch, 1);
	/* the low halves are ours and fresh, the high half the HA's */
	assert_int_not_equal((uint32_t)request_id(0), (uint32_t)request_id(1));
	/* renewal: the nonce from the accepting reply, no 133 */
	fire(&r.t_renew);
	pump();
	assert_int_equal(sent.n, 3);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_int_equal(ha_stats(ha)->id_mismatch, 1);
	assert_int_not_equal(id_hi(2), id_hi(1)); /* a new nonce each time */
	/* a captured request replayed: its nonce is spent, 133 */
	n = ha_handle(ha, sent.pkt[2], sent.len[2], &from, rep, sizeof(rep));
	assert_int_equal(reg_parse_reply(&m, rep, n), REG_OK);
	assert_int_equal(m.rp.code, MIP4_HA_ID_MISMATCH);
	/* HA restart: it forgot every nonce; 133, the node takes the new
	 * one and registers */
	ha_down();
	ha_up(REG_REPLAY_NONCE);
	fire(&r.t_renew);
	pump();
	assert_int_equal(sent.n, 5);
	assert_int_equal(r.state, MN_REG_REGISTERED);
	mn_reg_status(&r, &st);
	assert_int_equal(st.replay, REG_REPLAY_NONCE);
	assert_true(st.have_nonce);
}

/* A 133 that is lost leaves the node with a stale nonce: the next try
 * gets another 133 and takes that nonce. */
static void nonce_lost_reply(void **state)
{
	struct mn_reg_target t = target(MN_REG_DIRECT, "10.2.0.77");
	struct ha_from from = {.src = ip("10.2.0.77").s_addr,
			       .sport = 434,
			       .dst = ip("10.1.0.1").s_addr};
	uint8_t rep[512];

	assert_int_equal(mn_reg_start(&r, &t), 0);
	/* the first reply (133 with a nonce) never arrives */
	assert_true(ha_handle(ha, sent.pkt[0], sent.len[0], &from, rep,
			      sizeof(rep)) > 0);
	ha_seen = 1;
	fire(&r.t_retx);
	pump();
	assert_int_equal(r.state, MN_REG_REGISTERED);
	assert_int_equal(sent.n, 3);
}

#define T(f)	 cmocka_unit_test_setup_teardown(f, setup, teardown)
#define TH(f, s) cmocka_unit_test_setup_teardown(f, s, teardown_ha)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(request_colocated),
	    T(request_via_fa_and_vpn),
	    T(accepted_and_renewed),
	    T(expiry),
	    T(backoff_and_timeout),
	    T(backoff_capped),
	    T(reply_to_earlier_try),
	    T(wrong_key_131),
	    T(spoofed_131_while_renewing),
	    T(clock_skew_133),
	    T(other_denial_backs_off),
	    T(ignored_replies),
	    T(ignored_replies_rate_limited),
	    T(home_address_mismatch),
	    T(deregistration),
	    T(failed_probe_keeps_binding),
	    T(init_rejects_bad_sa),
	    T(loop_renewal),
	    T(authenticated_131),
	    T(code69_lifetime),
	    T(code136_new_ha),
	    T(code74_then_75),
	    T(code75_sets_t),
	    T(fa_code_needs_our_fa),
	    T(nonce_needs_rng),
	    T(code137_138),
	    T(long_backoff_codes),
	    T(denial_names_logged),
	    TH(ts_with_ha, setup_ts),
	    TH(nonce_with_ha, setup_nonce),
	    TH(nonce_lost_reply, setup_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
