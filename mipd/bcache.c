/*
 * bcache.c - binding cache: open addressing, chunked bindings, lazy timers.
 *
 * Table: linear probing over a power-of-two array of 8-byte slots {home
 * address, binding ref}.  The key sits in the slot so a probe never touches
 * a binding it does not want; deletion shifts followers back instead of
 * leaving tombstones, so probe lengths depend only on the live load (kept
 * at <= 3/4).  The hash is simple tabulation with tables drawn from
 * getrandom(): it is provably good for linear probing even on structured
 * keys (whole home subnets), and an attacker who picks home addresses
 * cannot predict which slots they collide in.
 *
 * Bindings: fixed-size chunks that never move (their embedded timers sit
 * in the loop's heap by address); a ref is index + 1, 0 meaning "none", and
 * freed bindings go on a free list threaded through their refs.
 *
 * Timers are lazy: a re-registration that extends the lifetime only stores
 * the new expiry; the armed timer, when it fires early, re-arms itself for
 * the stored expiry.  At a million bindings every heap move is a string of
 * cache misses, so most registrations (which extend) touch no heap at all.
 */
#define LOG_TAG "bcache"
#include "mipd/bcache.h"

#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define CHUNK_BITS 10
#define CHUNK	   ((size_t)1 << CHUNK_BITS)
#define MIN_BITS   6
#define MAX_BITS   31

struct slot {
	uint32_t hoa;
	uint32_t ref; /* 0: empty */
};

struct bcache {
	struct eloop *loop;
	size_t max, count;
	bcache_expire_cb expire_cb;
	void *arg;
	uint64_t unit_ns;
	struct slot *tab;
	uint32_t mask;
	uint32_t free_ref;  /* head of the free list, 0 if empty */
	uint32_t used_refs; /* refs ever handed out: high-water mark */
	struct binding **chunks;
	size_t nchunks, chunks_cap;
	uint32_t tabh[4][256]; /* one random table per key byte */
};

/* ---- hashing ---- */

/* Never fails: without getrandom() (old kernel, seccomp) a seed from the
 * clock and pid still beats a fixed one. */
static void fill_random(void *p, size_t n)
{
	uint8_t *b = p;
	uint64_t x = mono_ns() ^ ((uint64_t)getpid() << 32);

	while (n > 0) {
		ssize_t r = getrandom(b, n, 0);

		if (r <= 0)
			break;
		b += r;
		n -= (size_t)r;
	}
	for (; n > 0; n--) {
		/* splitmix64 step */
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		*b++ = (uint8_t)(z ^ (z >> 31));
	}
}

static uint32_t hash(const struct bcache *bc, uint32_t k)
{
	return bc->tabh[0][k & 0xff] ^ bc->tabh[1][(k >> 8) & 0xff] ^
	       bc->tabh[2][(k >> 16) & 0xff] ^ bc->tabh[3][k >> 24];
}

/* ---- binding pool ---- */

static struct binding *ref_ptr(const struct bcache *bc, uint32_t ref)
{
	size_t i = (size_t)ref - 1;

	return &bc->chunks[i >> CHUNK_BITS][i & (CHUNK - 1)];
}

static int pool_add_chunk(struct bcache *bc)
{
	struct binding *c;

	if (bc->nchunks == bc->chunks_cap) {
		size_t cap = bc->chunks_cap ? 2 * bc->chunks_cap : 16;
		struct binding **v = realloc(bc->chunks, cap * sizeof(*v));

		if (!v)
			return -1;
		bc->chunks = v;
		bc->chunks_cap = cap;
	}
	c = malloc(CHUNK * sizeof(*c));
	if (!c)
		return -1;
	bc->chunks[bc->nchunks++] = c;
	return 0;
}

/* Returns a ref to an unused binding, 0 when out of memory or refs. */
static uint32_t pool_get(struct bcache *bc)
{
	uint32_t ref = bc->free_ref;

	if (ref) {
		/* a free binding keeps the next free ref in expires_ns */
		bc->free_ref = (uint32_t)ref_ptr(bc, ref)->expires_ns;
		return ref;
	}
	if (bc->used_refs == UINT32_MAX)
		return 0;
	if (bc->used_refs == bc->nchunks * CHUNK && pool_add_chunk(bc) < 0)
		return 0;
	return ++bc->used_refs;
}

static void pool_put(struct bcache *bc, uint32_t ref)
{
	ref_ptr(bc, ref)->expires_ns = bc->free_ref;
	bc->free_ref = ref;
}

/* ---- table ---- */

/* Index of hoa's slot, or of the empty slot where it would go. */
static uint32_t probe(const struct bcache *bc, uint32_t hoa)
{
	uint32_t i = hash(bc, hoa) & bc->mask;

	while (bc->tab[i].ref && bc->tab[i].hoa != hoa)
		i = (i + 1) & bc->mask;
	return i;
}

/* Empties slot i, then moves back each follower whose home slot is not
 * between the hole and itself, so no search ever stops early at the hole. */
static void slot_delete(struct bcache *bc, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & bc->mask;
		if (!bc->tab[j].ref)
			break;
		home = hash(bc, bc->tab[j].hoa) & bc->mask;
		if (((j - home) & bc->mask) >= ((j - i) & bc->mask)) {
			bc->tab[i] = bc->tab[j];
			i = j;
		}
	}
	bc->tab[i].ref = 0;
}

static int table_resize(struct bcache *bc, unsigned bits)
{
	struct slot *old = bc->tab;
	size_t oldn = old ? (size_t)bc->mask + 1 : 0;
	struct slot *t = calloc((size_t)1 << bits, sizeof(*t));

	if (!t)
		return -1;
	bc->tab = t;
	bc->mask = (uint32_t)(((size_t)1 << bits) - 1);
	for (size_t i = 0; i < oldn; i++) {
		if (old[i].ref)
			t[probe(bc, old[i].hoa)] = old[i];
	}
	free(old);
	return 0;
}

/* Keeps the load at or below 3/4 after one more insert. */
static int table_reserve(struct bcache *bc)
{
	size_t cap = (size_t)bc->mask + 1;
	unsigned bits = (unsigned)__builtin_ctzll(cap);

	if ((bc->count + 1) * 4 <= cap * 3)
		return 0;
	if (bits >= MAX_BITS)
		return -1;
	return table_resize(bc, bits + 1);
}

/* ---- expiry ---- */

static void drop(struct bcache *bc, uint32_t slot)
{
	uint32_t ref = bc->tab[slot].ref;

	timer_cancel(bc->loop, &ref_ptr(bc, ref)->expiry);
	slot_delete(bc, slot);
	bc->count--;
	pool_put(bc, ref);
}

static void expire(void *owner)
{
	struct binding *b = owner;
	struct bcache *bc = b->bc;
	uint32_t slot, ref;

	if (b->expires_ns > mono_ns()) {
		/* extended since this timer was armed: see the top comment */
		timer_arm_at(bc->loop, &b->expiry, b->expires_ns);
		return;
	}
	slot = probe(bc, b->info.hoa);
	ref = bc->tab[slot].ref;
	slot_delete(bc, slot);
	bc->count--;
	/* out of the table first, so the callback may rebind the address */
	if (bc->expire_cb)
		bc->expire_cb(bc->arg, b);
	pool_put(bc, ref);
}

static void start_lifetime(struct bcache *bc, struct binding *b)
{
	uint64_t due;

	if (b->info.lifetime == BCACHE_LIFETIME_INF) {
		b->expires_ns = UINT64_MAX;
		timer_cancel(bc->loop, &b->expiry);
		return;
	}
	due = mono_ns() + b->info.lifetime * bc->unit_ns;
	b->expires_ns = due;
	/* an earlier armed timer will re-arm itself for `due` */
	if (!timer_armed(&b->expiry) || b->expiry.due_ns > due)
		timer_arm_at(bc->loop, &b->expiry, due);
}

/* ---- API ---- */

struct bcache *bcache_new(struct eloop *loop, size_t max,
			  bcache_expire_cb expire_cb, void *arg)
{
	struct bcache *bc = calloc(1, sizeof(*bc));

	if (!bc)
		return NULL;
	bc->loop = loop;
	bc->max = max;
	bc->expire_cb = expire_cb;
	bc->arg = arg;
	bc->unit_ns = NS_PER_S;
	fill_random(bc->tabh, sizeof(bc->tabh));
	if (table_resize(bc, MIN_BITS) < 0) {
		free(bc);
		return NULL;
	}
	return bc;
}

void bcache_free(struct bcache *bc)
{
	if (!bc)
		return;
	/* the loop's heap points into the chunks */
	for (size_t i = 0; i <= bc->mask; i++) {
		if (bc->tab[i].ref)
			timer_cancel(bc->loop,
				     &ref_ptr(bc, bc->tab[i].ref)->expiry);
	}
	for (size_t i = 0; i < bc->nchunks; i++)
		free(bc->chunks[i]);
	free(bc->chunks);
	free(bc->tab);
	free(bc);
}

const struct binding *bcache_lookup(const struct bcache *bc, uint32_t hoa)
{
	uint32_t ref = bc->tab[probe(bc, hoa)].ref;

	return ref ? ref_ptr(bc, ref) : NULL;
}

void bcache_prefetch_slot(const struct bcache *bc, uint32_t hoa)
{
	__builtin_prefetch(&bc->tab[hash(bc, hoa) & bc->mask]);
}

void bcache_prefetch_binding(const struct bcache *bc, uint32_t hoa)
{
	uint32_t ref = bc->tab[probe(bc, hoa)].ref;
	const struct binding *b;

	if (!ref)
		return;
	/* a binding straddles two cache lines: info, timer */
	b = ref_ptr(bc, ref);
	__builtin_prefetch(b, 1);
	__builtin_prefetch((const char *)(b + 1) - 1, 1);
}

static enum bcache_status
insert(struct bcache *bc, const struct binding_info *bi, struct binding **out)
{
	struct binding *b;
	uint32_t ref;

	if (bc->max && bc->count >= bc->max)
		return BCACHE_FULL;
	if (table_reserve(bc) < 0 || !(ref = pool_get(bc))) {
		log_warn("out of memory at %zu bindings", bc->count);
		return BCACHE_NOMEM;
	}
	b = ref_ptr(bc, ref);
	b->bc = bc;
	timer_init(&b->expiry, expire, b);
	/* probe again: table_reserve may have moved every slot */
	bc->tab[probe(bc, bi->hoa)] = (struct slot){bi->hoa, ref};
	bc->count++;
	*out = b;
	return BCACHE_ADDED;
}

enum bcache_status bcache_update(struct bcache *bc,
				 const struct binding_info *bi,
				 const struct binding **out)
{
	uint32_t slot = probe(bc, bi->hoa), ref = bc->tab[slot].ref;
	enum bcache_status st = BCACHE_UPDATED;
	struct binding *b;

	if (out)
		*out = NULL;
	if (bi->lifetime == 0) {
		if (!ref)
			return BCACHE_NOT_FOUND;
		drop(bc, slot);
		return BCACHE_REMOVED;
	}
	if (ref)
		b = ref_ptr(bc, ref);
	else if ((st = insert(bc, bi, &b)) != BCACHE_ADDED)
		return st;
	b->info = *bi;
	start_lifetime(bc, b);
	if (out)
		*out = b;
	return st;
}

bool bcache_remove(struct bcache *bc, uint32_t hoa)
{
	uint32_t slot = probe(bc, hoa);

	if (!bc->tab[slot].ref)
		return false;
	drop(bc, slot);
	return true;
}

size_t bcache_count(const struct bcache *bc)
{
	return bc->count;
}

void bcache_foreach(const struct bcache *bc, bcache_visit_cb cb, void *arg)
{
	for (size_t i = 0; i <= bc->mask; i++) {
		if (bc->tab[i].ref && cb(arg, ref_ptr(bc, bc->tab[i].ref)))
			return;
	}
}

uint32_t bcache_remaining(const struct binding *b)
{
	uint64_t now = mono_ns(), unit = b->bc->unit_ns;

	if (b->expires_ns == UINT64_MAX)
		return BCACHE_LIFETIME_INF;
	if (b->expires_ns <= now)
		return 0;
	return (uint32_t)((b->expires_ns - now + unit - 1) / unit);
}

size_t bcache_mem_bytes(const struct bcache *bc)
{
	return sizeof(*bc) + ((size_t)bc->mask + 1) * sizeof(struct slot) +
	       bc->chunks_cap * sizeof(*bc->chunks) +
	       bc->nchunks * CHUNK * sizeof(struct binding) +
	       bc->count * sizeof(struct timer *);
}

void bcache_probe_stats(const struct bcache *bc, double *mean, size_t *max)
{
	uint64_t sum = 0;
	size_t longest = 0;

	for (uint32_t i = 0; i <= bc->mask; i++) {
		uint32_t d;

		if (!bc->tab[i].ref)
			continue;
		d = (i - hash(bc, bc->tab[i].hoa)) & bc->mask;
		sum += d;
		longest = d > longest ? d : longest;
	}
	*mean = bc->count ? (double)sum / (double)bc->count : 0;
	*max = longest;
}

void bcache_set_unit_ns(struct bcache *bc, uint64_t unit_ns)
{
	bc->unit_ns = unit_ns ? unit_ns : 1;
}
