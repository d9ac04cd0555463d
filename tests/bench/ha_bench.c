/*
 * ha_bench.c - home agent registration throughput and memory at 10k, 100k
 * and 1M bindings.  A benchmark, not a test: it asserts nothing.
 *
 * The load generator builds authenticated Registration Requests (HMAC-MD5,
 * NTP timestamps) for N mobile nodes, each from its own care-of address,
 * and feeds them to ha_handle(): the HA's whole request path in process,
 * no sockets -- per-source rate limit, parse, SA lookup by home address,
 * MN-HA verification, timestamp check, binding cache update, and the
 * authenticated reply built.  Requests are built in batches outside the
 * timed region, so only the HA is measured, on one core.
 *
 *   register   first registration of every node (bindings are created)
 *   rereg      re-registrations in random node order (cache at N), one
 *              ha_handle() after the other
 *   batch      the same, HA_RX_BATCH at a time as the socket path does:
 *              ha_prefetch() over the group, then each ha_handle()
 *   ref        the floor: the two HMAC-MD5 computations a request costs
 *              (verify the request, sign the reply) over the same bytes,
 *              nothing else; "ratio" = rereg time / ref time
 *
 * Memory, per mobile node, counted from the structures:
 *   bc     bcache_mem_bytes() / N: a binding in the cache
 *   sa     the MN table: configured entries (16 bytes), the key arena
 *          (the key's own length), the HA's replay state and its
 *          home-address hash index (ha_mn_mem_bytes())
 *   total  bc + sa, and that times N in MiB: the HA's whole per-node state
 * and from the outside: rss/node = RSS growth from before the MN table was
 * built to after every node registered, over N; rss = the process's VmRSS
 * then.  Each size runs in a child process so RSS starts from a clean heap.
 *
 * Run: make bench, or build/bench/ha_bench [-k KEYLEN] [N...]
 * (KEYLEN: bytes of every MN-HA key, default 16 = 128 bits).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/eloop.h"
#include "common/log.h"
#include "mipd/bcache.h"
#include "mipd/ha.h"
#include "mipd/ha_int.h" /* ha_mn_mem_bytes(): white-box accounting */
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define BATCH	  4096
#define REQ_MAX	  64
#define REREG_OPS 1000000u

struct batch {
	uint8_t req[BATCH][REQ_MAX];
	size_t len[BATCH];
	struct ha_from from[BATCH];
};

static struct batch bt;
static size_t key_len = 16;
static uint8_t reply[512];
static volatile size_t sink;

static long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	return kib;
}

static uint32_t hoa_of(size_t i)
{
	return htonl(0x0a000001u + (uint32_t)i); /* dense 10/8 home net */
}

static uint32_t coa_of(size_t i)
{
	return htonl(0xac100001u + (uint32_t)i); /* 172.16/12 and up */
}

static uint64_t ntp_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return reg_ntp_from_timespec(&ts, 0);
}

static struct ha_conf *make_conf(size_t n)
{
	static struct ha_conf c;

	ha_conf_defaults(&c);
	c.address.s_addr = htonl(0x0a000000u + 0xfffffeu); /* 10.255.255.254 */
	c.max_bindings = (uint32_t)n;
	c.mns = calloc(n, sizeof(*c.mns));
	c.nmns = n;
	for (size_t i = 0; i < n; i++) {
		struct mn_entry *m = &c.mns[i];
		uint8_t key[REG_KEY_MAX];

		m->hoa.s_addr = hoa_of(i);
		m->spi = 256 + (uint32_t)(i & 0xffff);
		m->alg = REG_ALG_HMAC_MD5;
		memset(key, 0x5a, key_len);
		/* distinct keys */
		memcpy(key, &i, key_len < sizeof(i) ? key_len : sizeof(i));
		if (ha_conf_set_key(&c, m, key, key_len) < 0) {
			fprintf(stderr, "ha_bench: key arena: out of memory\n");
			exit(1);
		}
	}
	return &c;
}

/* One request from node i, with a timestamp newer than its last one. */
static void build_one(const struct ha_conf *c, size_t i, uint64_t id,
		      size_t slot)
{
	struct reg_request rq = {
	    .lifetime = 600, .flags = MIP4_RRQ_T, .id = id};
	struct reg_sa sa = mn_entry_sa(c, &c->mns[i]);
	struct reg_builder b;
	struct wbuf w;

	rq.home.s_addr = hoa_of(i);
	rq.coa.s_addr = coa_of(i);
	rq.ha = c->address;
	wb_init(&w, bt.req[slot], REQ_MAX);
	reg_build_request(&b, &w, &rq);
	reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa);
	reg_build_end(&b, &bt.len[slot]);
	bt.from[slot] = (struct ha_from){
	    .src = rq.coa.s_addr, .sport = 434, .dst = c->address.s_addr};
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static size_t rnd_below(size_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (size_t)(rnd_state % n);
}

/* A group of requests as ha_recv_batch() handles a recvmmsg's worth:
 * ha_prefetch() over all of them first, then each through ha_handle(). */
static size_t handle_batched(struct ha *h, size_t k)
{
	size_t ok = 0;

	for (size_t g = 0; g < k; g += HA_RX_BATCH) {
		size_t m = k - g < HA_RX_BATCH ? k - g : HA_RX_BATCH;
		uint32_t hoas[HA_RX_BATCH];

		for (size_t j = 0; j < m; j++)
			hoas[j] = ha_req_home(bt.req[g + j], bt.len[g + j]);
		ha_prefetch(h, hoas, m);
		for (size_t j = 0; j < m; j++) {
			size_t r =
			    ha_handle(h, bt.req[g + j], bt.len[g + j],
				      &bt.from[g + j], reply, sizeof(reply));

			ok += r > 4 && reply[1] == MIP4_ACCEPTED;
		}
	}
	return ok;
}

/* Runs `ops` requests (sequential nodes when !random) through the HA,
 * one by one or (batched) as ha_recv_batch() does; returns the HA's
 * nanoseconds and counts accepted replies. */
static uint64_t drive(struct ha *h, const struct ha_conf *c, size_t ops,
		      int random, int batched, size_t *ok)
{
	uint64_t spent = 0, seq = 0;

	for (size_t done = 0; done < ops;) {
		size_t k = ops - done < BATCH ? ops - done : BATCH;
		uint64_t id = ntp_realtime() + (++seq << 8), t0;

		for (size_t j = 0; j < k; j++)
			build_one(c, random ? rnd_below(c->nmns) : done + j,
				  id + j, j);
		t0 = mono_ns();
		if (batched)
			*ok += handle_batched(h, k);
		for (size_t j = 0; !batched && j < k; j++) {
			size_t r = ha_handle(h, bt.req[j], bt.len[j],
					     &bt.from[j], reply, sizeof(reply));

			*ok += r > 4 && reply[1] == MIP4_ACCEPTED;
		}
		spent += mono_ns() - t0;
		done += k;
	}
	return spent;
}

/* The floor: verify + sign, i.e. two HMAC-MD5 over a request's bytes. */
static double hmac_floor_once(const struct ha_conf *c)
{
	uint8_t out[16];
	uint64_t t0;
	size_t n = 200000;

	build_one(c, 0, ntp_realtime(), 0);
	t0 = mono_ns();
	for (size_t i = 0; i < n; i++) {
		struct reg_sa sa = mn_entry_sa(c, &c->mns[rnd_below(c->nmns)]);

		reg_auth_compute(&sa, bt.req[0], bt.len[0] - 16, out);
		reg_auth_compute(&sa, bt.req[0], 26, out);
		sink += out[0];
	}
	return (double)(mono_ns() - t0) / (double)n;
}

/* Best of three, like the timed runs it divides: noise only adds. */
static double hmac_floor_ns(const struct ha_conf *c)
{
	double best = 0;

	for (int i = 0; i < 3; i++) {
		double v = hmac_floor_once(c);

		if (i == 0 || v < best)
			best = v;
	}
	return best;
}

static void run_size(size_t n)
{
	long rss0 = rss_kib(), rss2;
	struct ha_conf *c = make_conf(n);
	struct eloop *l = eloop_new();
	struct ha *h;
	size_t ok_reg = 0, ok_re = 0, ok_pf = 0;
	size_t ops = n < REREG_OPS ? 2 * n : REREG_OPS;
	uint64_t t_reg, t_re, t_pf;
	double ref, per_re, per_pf, bc, sa;

	c->rate = 0; /* sources are all distinct; see the limiter note */
	h = ha_new(l, c, false);
	t_reg = drive(h, c, n, 0, 0, &ok_reg);
	rss2 = rss_kib();
	t_re = drive(h, c, ops, 1, 0, &ok_re);
	t_pf = drive(h, c, ops, 1, 1, &ok_pf);
	ref = hmac_floor_ns(c);
	per_re = (double)t_re / (double)ops;
	per_pf = (double)t_pf / (double)ops;
	bc = (double)bcache_mem_bytes(ha_bcache(h)) / (double)n;
	sa = (double)ha_mn_mem_bytes(h) / (double)n;
	printf("%8zu %9.0f %9.0f %6.0f %9.0f %6.0f %6.0f %5.2f %6.1f %6.1f "
	       "%6.1f %7.1f %7.1f %7.1f %4zu\n",
	       n, (double)n * 1e9 / (double)t_reg,
	       (double)ops * 1e9 / (double)t_re, per_re,
	       (double)ops * 1e9 / (double)t_pf, per_pf, ref, per_re / ref, bc,
	       sa, bc + sa, (bc + sa) * (double)n / 1048576.0,
	       (double)(rss2 - rss0) * 1024.0 / (double)n,
	       (double)rss2 / 1024.0, bcache_count(ha_bcache(h)) * 100 / n);
	fflush(stdout);
	if (ok_reg != n || ok_re != ops || ok_pf != ops)
		printf("   (!) accepted %zu/%zu registrations, %zu+%zu/%zu "
		       "re-registrations\n",
		       ok_reg, n, ok_re, ok_pf, 2 * ops);
	ha_free(h);
	eloop_free(l);
	ha_conf_free_mns(c);
}

/* Same path with the per-source limiter on (100/s, burst 20, 4096
 * sources tracked): what a limiter costs when every node is a source. */
static void run_limiter(size_t n)
{
	struct ha_conf *c = make_conf(n);
	struct eloop *l = eloop_new();
	struct ha *h = ha_new(l, c, false);
	size_t ok = 0;
	uint64_t t = drive(h, c, n, 0, 0, &ok);

	printf("limiter on, %zu nodes: %.0f req/s (%zu accepted)\n", n,
	       (double)n * 1e9 / (double)t, ok);
	ha_free(h);
	eloop_free(l);
	ha_conf_free_mns(c);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {10000, 100000, 1000000};
	size_t want[8], nw = 0;
	int st = 0;

	log_init("ha_bench", false);
	log_set_level(NULL, L_ERR);
	for (int i = 1; i < argc && nw < 8; i++) {
		if (strcmp(argv[i], "-k") == 0 && i + 1 < argc) {
			key_len = strtoul(argv[++i], NULL, 10);
			if (key_len < 1 || key_len > REG_KEY_MAX) {
				fprintf(stderr, "ha_bench: -k 1..%d\n",
					REG_KEY_MAX);
				return 2;
			}
			continue;
		}
		want[nw++] = strtoul(argv[i], NULL, 10);
	}
	if (!nw)
		for (; nw < 3; nw++)
			want[nw] = sizes[nw];
	printf("home agent request path, one core, in process (ha_handle); "
	       "%zu-byte keys\n",
	       key_len);
	printf("%8s %9s %9s %6s %9s %6s %6s %5s %6s %6s %6s %7s %7s %7s %4s\n",
	       "nodes", "reg/s", "rereg/s", "ns/req", "batch/s", "b_ns",
	       "ref_ns", "ratio", "bc/n", "sa/n", "tot/n", "tot_MiB", "rss/n",
	       "rss_MiB", "bnd%");
	for (size_t i = 0; i < nw; i++) {
		pid_t p;

		fflush(stdout);
		p = fork();

		if (p == 0) {
			run_size(want[i]);
			if (i == 0)
				run_limiter(want[i]);
			fflush(stdout);
			_exit(0);
		}
		if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			printf("   (!) size %zu: child failed (status %d)\n",
			       want[i], st);
	}
	printf("rereg = one by one, batch = %d at a time with ha_prefetch() "
	       "first (as the socket path), b_ns its ns/req.\n"
	       "ref = HMAC-MD5 verify + sign alone; ratio = ns/req / ref_ns "
	       "(near 1: the HA adds little to the crypto floor).\n",
	       HA_RX_BATCH);
	printf("bytes per node: bc/n = binding cache (bcache_mem_bytes()/N); "
	       "sa/n = MN table: entries, key arena, replay state, hash "
	       "index;\ntot/n = bc/n + sa/n, tot_MiB = tot/n x N; rss/n = "
	       "RSS growth from building the MN table to all registered; "
	       "rss_MiB = VmRSS then.\ntarget (issue 4): >= 200k req/s, "
	       "1M bindings in <= 256 MiB\n");
	return 0;
}
