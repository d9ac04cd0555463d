/* test_bcache.c - binding cache (table, lifetimes, limit, model) and the
 * per-source rate limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the four above, which it needs */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/eloop.h"
#include "mipd/bcache.h"
#include "mipd/ratelimit.h"

static struct eloop *l;

/* What the expiry callback saw. */
static struct {
	int n;
	uint32_t last_hoa;
	uint32_t last_coa;
	struct bcache *rebind; /* if set, the callback re-adds the address */
} fired;

static void on_expire(void *arg, const struct binding *b)
{
	fired.n++;
	fired.last_hoa = b->info.hoa;
	fired.last_coa = b->info.coa;
	assert_ptr_equal(arg, &fired);
	assert_null(bcache_lookup(b->bc, b->info.hoa));
	if (fired.rebind) {
		struct binding_info bi = b->info;

		bi.lifetime = 1000;
		assert_int_equal(bcache_update(fired.rebind, &bi, NULL),
				 BCACHE_ADDED);
	}
}

static int setup(void **state)
{
	memset(&fired, 0, sizeof(fired));
	l = eloop_new();
	return l ? 0 : -1;
}

static int teardown(void **state)
{
	eloop_free(l);
	return 0;
}

static uint32_t ip(uint32_t host)
{
	return htonl(host);
}

static struct binding_info info(uint32_t hoa, uint32_t coa, uint16_t life)
{
	return (struct binding_info){.hoa = hoa,
				     .coa = coa,
				     .haa = ip(0x0a000001),
				     .lifetime = life,
				     .ident = 42,
				     .flags = 0x02 /* T */};
}

static enum bcache_status reg(struct bcache *bc, uint32_t hoa, uint32_t coa,
			      uint16_t life)
{
	struct binding_info bi = info(hoa, coa, life);

	return bcache_update(bc, &bi, NULL);
}

/* Runs the loop until cond() holds or ms pass; returns cond(). */
static bool run_until(bool (*cond)(void), uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	while (!cond() && mono_ms() < end)
		eloop_run_once(l, 5);
	return cond();
}

static bool one_expired(void)
{
	return fired.n >= 1;
}

static void test_basic(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);
	struct binding_info bi = info(ip(0x0a000105), ip(0xc0a80002), 300);
	const struct binding *b;

	assert_null(bcache_lookup(bc, bi.hoa));
	assert_int_equal(bcache_update(bc, &bi, &b), BCACHE_ADDED);
	assert_non_null(b);
	assert_ptr_equal(bcache_lookup(bc, bi.hoa), b);
	assert_int_equal(b->info.coa, bi.coa);
	assert_int_equal(b->info.ident, 42);
	assert_int_equal(b->info.flags, 0x02);
	assert_true(bcache_remaining(b) == 300);
	assert_int_equal(bcache_count(bc), 1);

	/* moved: new care-of address, NAT traversal, newer identification */
	bi.coa = ip(0xc0a80102);
	bi.encap = BCACHE_ENCAP_UDP;
	bi.nat_addr = ip(0xcb007101);
	bi.nat_port = 40000;
	bi.ident = 43;
	assert_int_equal(bcache_update(bc, &bi, NULL), BCACHE_UPDATED);
	b = bcache_lookup(bc, bi.hoa);
	assert_int_equal(b->info.coa, bi.coa);
	assert_int_equal(b->info.encap, BCACHE_ENCAP_UDP);
	assert_int_equal(b->info.nat_port, 40000);
	assert_int_equal(b->info.ident, 43);
	assert_int_equal(bcache_count(bc), 1);

	assert_true(bcache_remove(bc, bi.hoa));
	assert_false(bcache_remove(bc, bi.hoa));
	assert_null(bcache_lookup(bc, bi.hoa));
	assert_int_equal(bcache_count(bc), 0);
	assert_int_equal(eloop_timer_count(l), 0);
	bcache_free(bc);
}

static void test_dereg(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);
	const struct binding *b = (const void *)1;

	assert_int_equal(reg(bc, ip(1), ip(2), 0), BCACHE_NOT_FOUND);
	assert_int_equal(reg(bc, ip(1), ip(2), 60), BCACHE_ADDED);
	struct binding_info bi = info(ip(1), ip(2), 0);
	assert_int_equal(bcache_update(bc, &bi, &b), BCACHE_REMOVED);
	assert_null(b);
	assert_null(bcache_lookup(bc, ip(1)));
	assert_int_equal(eloop_timer_count(l), 0);
	assert_int_equal(fired.n, 0); /* deregistration is not an expiry */
	bcache_free(bc);
}

static void test_expiry(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);

	bcache_set_unit_ns(bc, NS_PER_MS);
	assert_int_equal(reg(bc, ip(7), ip(8), 20), BCACHE_ADDED);
	assert_int_equal(reg(bc, ip(9), ip(8), 5000), BCACHE_ADDED);
	assert_true(run_until(one_expired, 1000));
	assert_int_equal(fired.n, 1);
	assert_int_equal(fired.last_hoa, ip(7));
	assert_int_equal(fired.last_coa, ip(8));
	assert_null(bcache_lookup(bc, ip(7)));
	assert_non_null(bcache_lookup(bc, ip(9)));
	assert_int_equal(bcache_count(bc), 1);
	bcache_free(bc);
	assert_int_equal(eloop_timer_count(l), 0);
}

/* Re-registering before expiry moves the expiry: the binding outlives the
 * first lifetime, then expires at the second. */
static void test_reregister(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);
	uint64_t t0 = mono_ms();

	bcache_set_unit_ns(bc, NS_PER_MS);
	assert_int_equal(reg(bc, ip(7), ip(8), 60), BCACHE_ADDED);
	while (mono_ms() < t0 + 30)
		eloop_run_once(l, 5);
	assert_int_equal(reg(bc, ip(7), ip(9), 80), BCACHE_UPDATED);
	while (mono_ms() < t0 + 90)
		eloop_run_once(l, 5);
	assert_int_equal(fired.n, 0);
	assert_non_null(bcache_lookup(bc, ip(7)));
	assert_true(run_until(one_expired, 1000));
	assert_true(mono_ms() >= t0 + 110);
	assert_int_equal(fired.last_coa, ip(9));
	assert_int_equal(eloop_timer_count(l), 0);
	bcache_free(bc);
}

/* A shorter lifetime than the armed timer takes effect at once. */
static void test_shorten(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);
	uint64_t t0 = mono_ms();

	bcache_set_unit_ns(bc, NS_PER_MS);
	assert_int_equal(reg(bc, ip(7), ip(8), 10000), BCACHE_ADDED);
	assert_int_equal(reg(bc, ip(7), ip(8), 20), BCACHE_UPDATED);
	assert_true(run_until(one_expired, 1000));
	assert_true(mono_ms() < t0 + 1000);
	bcache_free(bc);
}

static void test_infinite(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);
	const struct binding *b;

	assert_int_equal(reg(bc, ip(7), ip(8), 30), BCACHE_ADDED);
	assert_int_equal(eloop_timer_count(l), 1);
	assert_int_equal(reg(bc, ip(7), ip(8), BCACHE_LIFETIME_INF),
			 BCACHE_UPDATED);
	assert_int_equal(eloop_timer_count(l), 0);
	b = bcache_lookup(bc, ip(7));
	assert_int_equal(bcache_remaining(b), BCACHE_LIFETIME_INF);
	bcache_free(bc);
}

static void test_rebind_in_callback(void **state)
{
	struct bcache *bc = bcache_new(l, 0, on_expire, &fired);

	fired.rebind = bc;
	bcache_set_unit_ns(bc, NS_PER_MS);
	assert_int_equal(reg(bc, ip(7), ip(8), 10), BCACHE_ADDED);
	assert_true(run_until(one_expired, 1000));
	assert_non_null(bcache_lookup(bc, ip(7)));
	assert_int_equal(bcache_count(bc), 1);
	bcache_free(bc);
	assert_int_equal(eloop_timer_count(l), 0);
}

static void test_limit(void **state)
{
	struct bcache *bc = bcache_new(l, 3, NULL, NULL);

	assert_int_equal(BCACHE_CODE_NO_RESOURCES, 130);
	for (uint32_t i = 1; i <= 3; i++)
		assert_int_equal(reg(bc, ip(i), ip(100), 60), BCACHE_ADDED);
	assert_int_equal(reg(bc, ip(4), ip(100), 60), BCACHE_FULL);
	assert_null(bcache_lookup(bc, ip(4)));
	/* a bound node can still re-register and deregister when full */
	assert_int_equal(reg(bc, ip(2), ip(101), 60), BCACHE_UPDATED);
	assert_int_equal(reg(bc, ip(2), ip(101), 0), BCACHE_REMOVED);
	assert_int_equal(reg(bc, ip(4), ip(100), 60), BCACHE_ADDED);
	assert_int_equal(bcache_count(bc), 3);
	bcache_free(bc);
}

/* ---- against a reference model ---- */

#define MODEL_KEYS 150000
#define MODEL_OPS  400000

static uint32_t model_coa[MODEL_KEYS]; /* 0: not bound */
static uint8_t seen[MODEL_KEYS];

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A dense home subnet: the structured keys a hash must cope with. */
static uint32_t model_key(uint32_t i)
{
	return ip(0x0a000000 + i);
}

static void model_op(struct bcache *bc, size_t *n)
{
	uint32_t i = rnd() % MODEL_KEYS, coa = rnd() | 1;
	unsigned op = rnd() % 10;

	if (op < 6) {
		enum bcache_status want =
		    model_coa[i] ? BCACHE_UPDATED : BCACHE_ADDED;

		assert_int_equal(reg(bc, model_key(i), coa, 3600), want);
		*n += !model_coa[i];
		model_coa[i] = coa;
	} else if (op < 8) {
		assert_int_equal(bcache_remove(bc, model_key(i)),
				 model_coa[i] != 0);
		*n -= model_coa[i] != 0;
		model_coa[i] = 0;
	} else {
		assert_int_equal(reg(bc, model_key(i), 0, 0),
				 model_coa[i] ? BCACHE_REMOVED
					      : BCACHE_NOT_FOUND);
		*n -= model_coa[i] != 0;
		model_coa[i] = 0;
	}
}

static int mark_seen(void *arg, const struct binding *b)
{
	uint32_t i = ntohl(b->info.hoa) - 0x0a000000;

	assert_true(i < MODEL_KEYS);
	assert_int_equal(seen[i], 0);
	assert_int_equal(b->info.coa, model_coa[i]);
	seen[i] = 1;
	(*(size_t *)arg)++;
	return 0;
}

static void model_check(struct bcache *bc, size_t n)
{
	size_t visited = 0;

	assert_int_equal(bcache_count(bc), n);
	for (uint32_t i = 0; i < MODEL_KEYS; i++) {
		const struct binding *b = bcache_lookup(bc, model_key(i));

		if (model_coa[i]) {
			assert_non_null(b);
			assert_int_equal(b->info.coa, model_coa[i]);
		} else {
			assert_null(b);
		}
	}
	memset(seen, 0, sizeof(seen));
	bcache_foreach(bc, mark_seen, &visited);
	assert_int_equal(visited, n);
}

static void test_model(void **state)
{
	struct bcache *bc = bcache_new(l, 0, NULL, NULL);
	size_t n = 0, longest;
	double mean;

	memset(model_coa, 0, sizeof(model_coa));
	/* 100k fresh inserts, then a random mix of everything */
	for (uint32_t i = 0; i < 100000; i++) {
		model_coa[i] = i + 1;
		assert_int_equal(reg(bc, model_key(i), i + 1, 3600),
				 BCACHE_ADDED);
	}
	n = 100000;
	model_check(bc, n);
	bcache_probe_stats(bc, &mean, &longest);
	print_message(
	    "bcache: dense subnet, probe distance mean %.2f max %zu\n", mean,
	    longest);
	assert_true(mean < 2.0 && longest < 100);
	for (int k = 0; k < MODEL_OPS; k++) {
		model_op(bc, &n);
		if (k % 100000 == 99999)
			model_check(bc, n);
	}
	assert_int_equal(eloop_timer_count(l), n);
	bcache_free(bc);
	assert_int_equal(eloop_timer_count(l), 0);
}

static int stop_after_two(void *arg, const struct binding *b)
{
	return ++*(int *)arg == 2;
}

static void test_foreach_stop(void **state)
{
	struct bcache *bc = bcache_new(l, 0, NULL, NULL);
	int n = 0;

	for (uint32_t i = 1; i <= 10; i++)
		reg(bc, ip(i), ip(1), 60);
	bcache_foreach(bc, stop_after_two, &n);
	assert_int_equal(n, 2);
	bcache_free(bc);
}

static void test_memory(void **state)
{
	struct bcache *bc = bcache_new(l, 0, NULL, NULL);
	size_t per, longest;
	double mean;

	for (uint32_t i = 0; i < 100000; i++)
		reg(bc, rnd(), ip(1), 3600);
	per = bcache_mem_bytes(bc) / bcache_count(bc);
	bcache_probe_stats(bc, &mean, &longest);
	print_message("bcache: random keys, probe distance mean %.2f max %zu\n",
		      mean, longest);
	assert_true(mean < 2.0 && longest < 100);
	print_message("bcache: %zu bindings, %zu bytes/binding "
		      "(struct binding %zu)\n",
		      bcache_count(bc), per, sizeof(struct binding));
	assert_true(per <= 256);
	bcache_free(bc);
}

/* ---- rate limiter ---- */

#define MS NS_PER_MS

static void test_rl_burst_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 10, 5); /* 10/s, burst 5 */
	uint64_t t = 1000 * NS_PER_S;

	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_allow(rl, ip(1), t));
	assert_false(ratelimit_allow(rl, ip(1), t));
	assert_false(ratelimit_allow(rl, ip(1), t + 50 * MS));
	assert_int_equal(ratelimit_dropped(rl), 2);
	/* another source has its own bucket */
	assert_true(ratelimit_allow(rl, ip(2), t));
	/* one token back every 100 ms */
	assert_true(ratelimit_allow(rl, ip(1), t + 100 * MS));
	assert_false(ratelimit_allow(rl, ip(1), t + 100 * MS));
	/* a long pause refills to the burst, not beyond */
	t += 10 * NS_PER_S;
	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_allow(rl, ip(1), t));
	assert_false(ratelimit_allow(rl, ip(1), t));
	assert_int_equal(ratelimit_dropped(rl), 4);
	ratelimit_free(rl);
}

static void test_rl_steady_rate(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 100, 1);
	uint64_t t = NS_PER_S;
	int allowed = 0;

	/* 1000 requests/s for 2 s from one source: 100/s get through */
	for (int i = 0; i < 2000; i++)
		allowed += ratelimit_allow(rl, ip(9), t + (uint64_t)i * MS);
	assert_in_range(allowed, 199, 201);
	ratelimit_free(rl);
}

static void test_rl_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new(4096, 10, 2);
	size_t before = ratelimit_mem_bytes(rl);

	assert_true(before < 4096 * 16 + 256);
	for (uint32_t i = 0; i < 1000000; i++)
		ratelimit_allow(rl, ip(i), NS_PER_S + i);
	assert_int_equal(ratelimit_mem_bytes(rl), before);
	ratelimit_free(rl);
}

/* A table of one set: a source deep in debt (throttled) is recycled last,
 * and recycling an entry whose bucket has refilled loses nothing. */
static void test_rl_replacement(void **state)
{
	struct ratelimit *rl = ratelimit_new(4, 1, 5);
	uint64_t t = 100 * NS_PER_S;

	for (int i = 0; i < 5; i++)
		assert_true(ratelimit_allow(rl, ip(1), t));
	assert_false(ratelimit_allow(rl, ip(1), t));
	/* 19 new sources: 3 take free ways, 16 take each other's */
	for (uint32_t s = 2; s <= 20; s++)
		assert_true(ratelimit_allow(rl, ip(s), t));
	assert_int_equal(ratelimit_evicted(rl), 16);
	assert_false(ratelimit_allow(rl, ip(1), t));
	/* much later every bucket is full again: free to recycle */
	t += 100 * NS_PER_S;
	for (uint32_t s = 30; s < 40; s++)
		assert_true(ratelimit_allow(rl, ip(s), t));
	assert_int_equal(ratelimit_evicted(rl), 16 + 6);
	ratelimit_free(rl);
}

static void test_rl_unlimited(void **state)
{
	struct ratelimit *rl = ratelimit_new(16, 0, 0);

	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_allow(rl, ip(1), NS_PER_S));
	ratelimit_configure(rl, 1, 1);
	assert_true(ratelimit_allow(rl, ip(1), NS_PER_S));
	assert_false(ratelimit_allow(rl, ip(1), NS_PER_S));
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dereg, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reregister, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shorten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_infinite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rebind_in_callback, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_model, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreach_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory, setup, teardown),
	    cmocka_unit_test(test_rl_burst_refill),
	    cmocka_unit_test(test_rl_steady_rate),
	    cmocka_unit_test(test_rl_bounded),
	    cmocka_unit_test(test_rl_replacement),
	    cmocka_unit_test(test_rl_unlimited),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
