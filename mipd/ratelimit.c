/*
 * ratelimit.c - GCRA token buckets in a 4-way set-associative table.
 *
 * Each source keeps one number, its "theoretical arrival time" (tat): the
 * instant its bucket would be full again.  A request is allowed when tat
 * is at most (burst - 1) intervals in the future, and pushes tat one
 * interval on.  This is a token bucket with no refill arithmetic and an
 * entry of 16 bytes.
 *
 * A set of 4 entries is one cache line.  The set comes from a keyed
 * multiply-add-shift hash, so spoofed sources cannot be aimed at the set of
 * a source being throttled.  The victim in a full set is the entry with the
 * smallest tat: if tat <= now its bucket is full and forgetting it changes
 * nothing; otherwise it is the source closest to being allowed anyway.
 */
#include "mipd/ratelimit.h"

#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/clock.h"

#define WAYS		4
#define DEFAULT_ENTRIES 4096

struct rl_entry {
	uint32_t src;
	uint32_t used;
	uint64_t tat;
};

struct ratelimit {
	struct rl_entry *tab;
	size_t set_mask; /* number of sets - 1 */
	uint64_t interval_ns, tolerance_ns;
	uint64_t ka, kb; /* hash keys; ka odd */
	uint64_t dropped, evicted;
};

static uint64_t random_u64(void)
{
	uint64_t x;

	if (getrandom(&x, sizeof(x), 0) == (ssize_t)sizeof(x))
		return x;
	/* no getrandom(): a varying key is still better than a fixed one */
	x = mono_ns() ^ ((uint64_t)getpid() << 40);
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 31);
}

/* Top half of a*x + b: strongly universal for 32-bit x (Dietzfelbinger). */
static size_t set_of(const struct ratelimit *rl, uint32_t src)
{
	return (size_t)((rl->ka * src + rl->kb) >> 32) & rl->set_mask;
}

void ratelimit_configure(struct ratelimit *rl, uint32_t rate, uint32_t burst)
{
	rl->interval_ns = rate ? NS_PER_S / rate : 0;
	rl->tolerance_ns = rl->interval_ns * (burst ? burst - 1 : 0);
}

struct ratelimit *ratelimit_new(size_t entries, uint32_t rate, uint32_t burst)
{
	struct ratelimit *rl = calloc(1, sizeof(*rl));
	size_t n = WAYS;

	if (!rl)
		return NULL;
	entries = entries ? entries : DEFAULT_ENTRIES;
	while (n < entries && n < ((size_t)1 << 30))
		n <<= 1;
	/* one set per cache line */
	rl->tab = aligned_alloc(64, n * sizeof(*rl->tab));
	if (!rl->tab) {
		free(rl);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		rl->tab[i] = (struct rl_entry){0};
	rl->set_mask = n / WAYS - 1;
	rl->ka = random_u64() | 1;
	rl->kb = random_u64();
	ratelimit_configure(rl, rate, burst);
	return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->tab);
	free(rl);
}

/* The source's entry, taking one over if it has none. */
static struct rl_entry *entry_for(struct ratelimit *rl, uint32_t src,
				  uint64_t now_ns)
{
	struct rl_entry *set = &rl->tab[set_of(rl, src) * WAYS];
	struct rl_entry *victim = set;

	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && set[i].src == src)
			return &set[i];
		if (!set[i].used)
			victim = &set[i]; /* an unused one beats any tat */
		else if (victim->used && set[i].tat < victim->tat)
			victim = &set[i];
	}
	if (victim->used && victim->tat > now_ns)
		rl->evicted++;
	*victim = (struct rl_entry){.src = src, .used = 1, .tat = 0};
	return victim;
}

bool ratelimit_allow(struct ratelimit *rl, uint32_t src, uint64_t now_ns)
{
	struct rl_entry *e;

	if (!rl->interval_ns)
		return true;
	e = entry_for(rl, src, now_ns);
	if (e->tat > now_ns + rl->tolerance_ns) {
		rl->dropped++;
		return false;
	}
	e->tat = (e->tat > now_ns ? e->tat : now_ns) + rl->interval_ns;
	return true;
}

uint64_t ratelimit_dropped(const struct ratelimit *rl)
{
	return rl->dropped;
}

uint64_t ratelimit_evicted(const struct ratelimit *rl)
{
	return rl->evicted;
}

size_t ratelimit_mem_bytes(const struct ratelimit *rl)
{
	return sizeof(*rl) + (rl->set_mask + 1) * WAYS * sizeof(*rl->tab);
}
