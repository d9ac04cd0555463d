/*
 * ratelimit.h - per-source rate limit for Registration Requests.
 *
 * A token bucket per IPv4 source address (rate per second, burst), kept in
 * a fixed table sized once: a flood from many (spoofed) sources costs no
 * memory, it only recycles entries.  Sources that are idle or have a full
 * bucket are recycled first, so a throttled source keeps its state unless
 * more sources than the table holds are active at once.
 */
#ifndef MIPD_RATELIMIT_H
#define MIPD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/* entries: table size, rounded up to a power of two (0: 4096).
 * rate: requests per second per source, 0 = unlimited; burst >= 1. */
struct ratelimit *ratelimit_new(size_t entries, uint32_t rate, uint32_t burst);
void ratelimit_free(struct ratelimit *rl);
/* Changes rate and burst (config reload); sources keep their state. */
void ratelimit_configure(struct ratelimit *rl, uint32_t rate, uint32_t burst);

/* src in network byte order; now_ns monotonic.  False: drop the request. */
bool ratelimit_allow(struct ratelimit *rl, uint32_t src, uint64_t now_ns);

uint64_t ratelimit_dropped(const struct ratelimit *rl);
/* Entries taken over while their bucket was not yet full: state lost.
 * Steady growth means more active sources than the table holds. */
uint64_t ratelimit_evicted(const struct ratelimit *rl);
size_t ratelimit_mem_bytes(const struct ratelimit *rl);

#endif
