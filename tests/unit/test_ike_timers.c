/*
 * test_ike_timers.c - the engine's timers, fired by hand with the mini
 * responder of ike_peer.h as the gateway: retransmission with exponential
 * backoff and its give-up (RFC 7296 2.1, 2.4), the retry schedule after a
 * failure and keyingtries, NAT keepalives (RFC 3948 2.3), DPD running out
 * of tries, and CHILD_SA volume lifetimes (RFC 4301 4.4.2.1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four headers it needs */

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/eloop.h"
#include "common/json.h"
#include "common/log.h"
#include "mobiked/ike.h"
#include "mobiked/ike_task.h"

#include "ike_peer.h"

#define SA(t) ike_engine_sa((t)->e)

/* A wait armed now for `want` ms reads want (rounded up) or 1 ms less. */
static void assert_wait(const struct timer *tm, uint64_t want)
{
	uint64_t got = remaining_ms(tm);

	if (got > want || got + 2 < want)
		fail_msg("timer armed for %llu ms, want %llu ms",
			 (unsigned long long)got, (unsigned long long)want);
}

static bool last_is_retransmit(const uint8_t *first, size_t n)
{
	size_t len;
	const uint8_t *p = last_sent(&len);

	return len == n && !memcmp(p, first, n);
}

/* 2.4: timeout, then timeout * base^n after retransmit n; the identical
 * bytes each time; after `tries` retransmits the exchange gives up. */
static void retransmit_backoff(void **state)
{
	static const uint64_t want[] = {1000, 1500, 2250, 3375};
	struct t *t = *state;
	const struct timer *tm = &SA(t)->t_retransmit;
	uint8_t first[IKE_MAX_MSG];
	size_t n;

	t->conf.retransmit = (struct retransmit_conf){1000, 1.5, 3};
	assert_int_equal(ike_engine_up(t->e), 0);
	n = copy_sent(first);
	for (unsigned i = 0; i < 4; i++) {
		assert_wait(tm, want[i]);
		assert_int_equal(io.n, i + 1);
		fire(t, tm);
		if (i < 3)
			assert_true(last_is_retransmit(first, n));
	}
	assert_int_equal(io.n, 4); /* 1 + 3 retransmits, then silence */
	assert_false(timer_armed(tm));
	assert_int_equal(SA(t)->state, IKE_ST_DEAD);
	assert_string_equal(t->e->last_error, "no response to IKE_SA_INIT");
	status_contains(t, "\"retransmits\":3");
}

static void give_up_attempt(struct t *t)
{
	const struct timer *tm = &SA(t)->t_retransmit;

	while (timer_armed(tm))
		fire(t, tm);
}

/* A failed attempt is retried after timeout * base^(n-1), n = failures
 * in a row: the retransmission schedule's waits, never at once. */
static void retry_schedule(void **state)
{
	struct t *t = *state;
	const struct timer *te = &SA(t)->t_establish;
	uint64_t spi;

	log_set_level(NULL, L_ERR);
	t->conf.retransmit = (struct retransmit_conf){1000, 1.5, 0};
	assert_int_equal(ike_engine_up(t->e), 0);
	spi = SA(t)->spi_i;
	give_up_attempt(t);
	assert_wait(te, 1000);
	fire(t, te);
	assert_int_equal(SA(t)->state, IKE_ST_INIT_SENT);
	assert_true(SA(t)->spi_i != spi); /* a new IKE SA */
	give_up_attempt(t);
	assert_wait(te, 1500);
	fire(t, te);
	give_up_attempt(t);
	assert_wait(te, 2250);
}

/* keyingtries = 2: two failed attempts, then no more until `up`. */
static void keyingtries_stop(void **state)
{
	struct t *t = *state;
	const struct timer *te = &SA(t)->t_establish;

	log_set_level(NULL, L_ERR);
	t->conf.retransmit = (struct retransmit_conf){1000, 2.0, 0};
	t->conf.keyingtries = 2;
	assert_int_equal(ike_engine_up(t->e), 0);
	give_up_attempt(t);
	fire(t, te);
	give_up_attempt(t);
	assert_false(timer_armed(te));
	assert_int_equal(SA(t)->state, IKE_ST_DEAD);
	assert_non_null(strstr(t->e->last_error, "gave up after 2 attempts"));
	status_contains(t, "\"want_up\":false");
	assert_int_equal(ike_engine_up(t->e), 0); /* mobctl mobiked up */
	assert_int_equal(SA(t)->state, IKE_ST_INIT_SENT);
}

/* RFC 3948 2.3: behind a NAT, a lone 0xFF from port 4500 (no non-ESP
 * marker) every keepalive_s while nothing else goes out. */
static void assert_keepalive(unsigned n)
{
	unsigned i = (io.n - 1) % 16;

	assert_int_equal(io.n, n);
	assert_int_equal(io.len[i], 1);
	assert_int_equal(io.pkt[i][0], 0xff);
	assert_true(io.from_4500[i]);
	assert_false(io.marker[i]);
}

static void keepalive_behind_nat(void **state)
{
	struct t *t = *state;
	const struct timer *tk = &SA(t)->t_keepalive;
	unsigned sent;

	t->conf.dpd_delay_s = 30;
	establish(t);
	assert_true(SA(t)->natt);
	sent = io.n;
	assert_wait(tk, 20000);
	fire(t, tk);
	assert_keepalive(sent + 1);
	assert_wait(tk, 20000);
	fire(t, tk);
	assert_keepalive(sent + 2);
	/* ESP went out meanwhile: the mapping is fresh, no keepalive */
	dpc.out_packets += 5;
	fire(t, tk);
	assert_int_equal(io.n, sent + 2);
	fire(t, tk);
	assert_keepalive(sent + 3);
	/* so does an IKE message (our DPD request) */
	fire(t, &SA(t)->t_dpd);
	assert_int_equal(io.n, sent + 4);
	fire(t, tk);
	assert_int_equal(io.n, sent + 4);
	fire(t, tk);
	assert_keepalive(sent + 5);
}

static void no_keepalive_without_nat(void **state)
{
	struct t *t = *state;
	struct timer *tk = &((struct ike_sa *)SA(t))->t_keepalive;
	unsigned sent;

	popt.no_nat = true;
	establish(t);
	assert_false(SA(t)->natt);
	assert_false(SA(t)->nat_local);
	assert_false(timer_armed(tk));
	sent = io.n;
	tk->cb(tk->owner); /* even if it fired */
	assert_int_equal(io.n, sent);
}

/* 2.4: DPD unanswered through the whole retransmission schedule: the SA
 * is dead, the CHILD_SA gone from the data plane, and with start_action
 * "start" a new IKE_SA_INIT follows after the retry wait. */
static void dpd_gives_up(void **state)
{
	struct t *t = *state;
	struct timer *td = &((struct ike_sa *)SA(t))->t_dpd;
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;
	unsigned sent;

	log_set_level(NULL, L_ERR);
	t->conf.dpd_delay_s = 10;
	establish(t);
	assert_wait(td, 10000);
	fire(t, td);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, INFORMATIONAL);
	assert_int_equal(m.inner.n, 0); /* empty: a liveness check */
	sent = io.n;
	give_up_attempt(t);
	assert_int_equal(io.n, sent + t->conf.retransmit.tries);
	assert_int_equal(SA(t)->state, IKE_ST_DEAD);
	assert_int_equal(dpc.del, 1);
	assert_wait(&SA(t)->t_establish, 1000);
	fire(t, &SA(t)->t_establish);
	assert_int_equal(SA(t)->state, IKE_ST_INIT_SENT);
	assert_int_equal(ike_parse(&m, pkt2, copy_sent(pkt2)), IKE_OK);
	assert_int_equal(m.hdr.exchange, IKE_SA_INIT);
}

/* child_lifetime_bytes / _packets reach the data plane as hard limits; its
 * soft event (90%) rekeys, its hard event on the current SA re-establishes
 * (RFC 4301 4.4.2.1: an expired SA is not used again). */
static void lifetime_limits(void **state)
{
	struct t *t = *state;
	uint8_t buf[IKE_MAX_MSG];
	struct ike_msg m;
	uint32_t spi;

	log_set_level(NULL, L_ERR);
	t->conf.child_life_bytes = 1000000;
	t->conf.child_life_packets = 5000;
	establish(t);
	assert_int_equal(dpc.last.life_bytes, 1000000);
	assert_int_equal(dpc.last.life_packets, 5000);
	spi = SA(t)->child.spi_in;
	ike_engine_dp_event(t->e, spi, DP_EV_SOFT_EXPIRE);
	r_open(t, &m, buf);
	assert_int_equal(m.hdr.exchange, CREATE_CHILD_SA);
	assert_non_null(ike_find_notify(&m, IKE_N_REKEY_SA));
	assert_true(t->e->rk.active);
	ike_engine_dp_event(t->e, spi, DP_EV_HARD_EXPIRE);
	assert_int_equal(SA(t)->state, IKE_ST_DEAD);
	assert_int_equal(dpc.del, 1);
	r_open(t, &m, buf); /* D(IKE), best effort */
	assert_int_equal(m.ndelete, 1);
	assert_int_equal(m.del[0].protocol, IKE_PROTO_IKE);
	assert_true(timer_armed(&SA(t)->t_establish));
	assert_non_null(strstr(t->e->last_error, "hard lifetime"));
}

/* Events for an SPI that is not ours change nothing. */
static void lifetime_unknown_spi(void **state)
{
	struct t *t = *state;
	unsigned sent;

	establish(t);
	sent = io.n;
	ike_engine_dp_event(t->e, 0x12345678, DP_EV_SOFT_EXPIRE);
	ike_engine_dp_event(t->e, 0x12345678, DP_EV_HARD_EXPIRE);
	assert_int_equal(io.n, sent);
	assert_int_equal(SA(t)->state, IKE_ST_ESTABLISHED);
	assert_int_equal(dpc.del, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(retransmit_backoff, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(retry_schedule, setup, teardown),
	    cmocka_unit_test_setup_teardown(keyingtries_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(keepalive_behind_nat, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(no_keepalive_without_nat, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(dpd_gives_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(lifetime_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(lifetime_unknown_spi, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
