/*
 * bcache.h - the home agent's binding cache (RFC 5944 section 3.8).
 *
 * One binding per home address.  The S bit (simultaneous bindings) is
 * recorded in the flags but not honoured: a new registration replaces the
 * care-of address.  Simultaneous bindings are optional for a home agent in
 * RFC 5944, and a list per home address would cost memory on every binding
 * for a feature (bicasting to several care-of addresses) nobody here uses.
 *
 * Sized for a busy home agent: an open-addressing table of 8-byte slots
 * (home address + binding index) with a keyed hash, bindings allocated in
 * chunks, and one timer embedded in each binding.  Re-registrations that
 * extend a lifetime do not touch the loop's timer heap (see bcache.c).
 *
 * All addresses are IPv4 in network byte order; ports in host order.
 */
#ifndef MIPD_BCACHE_H
#define MIPD_BCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/eloop.h"

/* RFC 5944 "registration lifetime" of all ones: never expires. */
#define BCACHE_LIFETIME_INF 0xffffu
/* Reply code for BCACHE_FULL and BCACHE_NOMEM: "insufficient resources". */
#define BCACHE_CODE_NO_RESOURCES 130

enum bcache_encap {
	BCACHE_ENCAP_IPIP, /* IP-in-IP (RFC 2003) to the care-of address */
	BCACHE_ENCAP_UDP,  /* IP-in-UDP (RFC 3519) to nat_addr:nat_port */
};

/* What a registration asks for; copied into the binding. */
struct binding_info {
	uint64_t ident;	   /* Identification of the last accepted request */
	uint32_t hoa;	   /* home address: the key */
	uint32_t coa;	   /* care-of address */
	uint32_t haa;	   /* home agent address the MN registered with */
	uint32_t nat_addr; /* outer source address of the request */
	uint16_t nat_port; /* outer source port of the request */
	uint16_t lifetime; /* seconds; 0 deregisters, 0xffff is infinite */
	uint8_t flags;	   /* the request's S B D M G r T x byte as sent */
	uint8_t encap;	   /* enum bcache_encap */
};

struct bcache;

/* Read-only for users: change bindings through bcache_update(). */
struct binding {
	struct binding_info info;
	uint64_t expires_ns; /* monotonic; UINT64_MAX for infinite */
	struct timer expiry;
	struct bcache *bc;
};

/* Called when a binding's lifetime ran out, after it left the table and
 * before it is freed: tear down its tunnel and proxy ARP here.  The cache
 * may be used from the callback (the expired binding is already gone). */
typedef void (*bcache_expire_cb)(void *arg, const struct binding *b);
/* Return non-zero to stop the walk.  Must not modify the cache. */
typedef int (*bcache_visit_cb)(void *arg, const struct binding *b);

enum bcache_status {
	BCACHE_ADDED,	  /* new binding */
	BCACHE_UPDATED,	  /* existing binding replaced, timer re-armed */
	BCACHE_REMOVED,	  /* lifetime 0: the binding was deleted */
	BCACHE_NOT_FOUND, /* lifetime 0 for a home address not bound */
	BCACHE_FULL,	  /* configured limit reached: reply code 130 */
	BCACHE_NOMEM,	  /* allocation failed: reply code 130 */
};

/* max: limit on bindings (0 = no limit).  expire_cb may be NULL. */
struct bcache *bcache_new(struct eloop *loop, size_t max,
			  bcache_expire_cb expire_cb, void *arg);
/* Frees every binding without calling expire_cb. */
void bcache_free(struct bcache *bc);

const struct binding *bcache_lookup(const struct bcache *bc, uint32_t hoa);
/* Insert or replace the binding for bi->hoa and (re)start its lifetime.
 * out (may be NULL) gets the binding for ADDED/UPDATED, else NULL. */
enum bcache_status bcache_update(struct bcache *bc,
				 const struct binding_info *bi,
				 const struct binding **out);
/* Cache hints for a batch of lookups, in two passes over the batch: first
 * the table slots, then (reading those slots) the bindings.  Neither
 * changes anything or is needed for correctness. */
void bcache_prefetch_slot(const struct bcache *bc, uint32_t hoa);
void bcache_prefetch_binding(const struct bcache *bc, uint32_t hoa);
/* Deletes without calling expire_cb; false if hoa had no binding. */
bool bcache_remove(struct bcache *bc, uint32_t hoa);
size_t bcache_count(const struct bcache *bc);
/* Visits every binding, in no particular order. */
void bcache_foreach(const struct bcache *bc, bcache_visit_cb cb, void *arg);
/* Seconds left (rounded up); BCACHE_LIFETIME_INF for infinite. */
uint32_t bcache_remaining(const struct binding *b);

/* Bytes held by the cache, plus one pointer in the loop's timer heap per
 * armed binding timer: what a binding really costs. */
size_t bcache_mem_bytes(const struct bcache *bc);
/* Mean and longest distance of a home address from its hash slot, over
 * the whole table (O(table size)): shows the hash keeps probes short. */
void bcache_probe_stats(const struct bcache *bc, double *mean, size_t *max);
/* Length of one lifetime unit: 1 s unless a test shortens it. */
void bcache_set_unit_ns(struct bcache *bc, uint64_t unit_ns);

#endif
