/*
 * ha_int.h - home agent internals shared by ha.c (registration logic) and
 * ha_io.c (socket, replies, control commands).  Not for other modules.
 */
#ifndef MIPD_HA_INT_H
#define MIPD_HA_INT_H

#include "common/ip4.h"
#include "mipd/agent_adv.h"
#include "mipd/ha.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

/* Per mobile node: the replay state that must survive deregistration (a
 * replayed request is refused either way).  h->mns[i] belongs to
 * h->conf->mns[i]: the configured entry (home address, SA) is found by
 * index, so no pointer is stored. */
struct ha_mn {
	struct reg_replay rp;
};

/* RFC 5944 4.3: home addresses whose binding has the B bit, and the
 * packet socket that sees the home link's broadcasts (ha_bcast.c). */
struct ha_bcast {
	int fd;
	uint32_t *hoas; /* unordered; small: few nodes ask for broadcasts */
	size_t n, cap;
	uint16_t ip_id;
	uint8_t buf[9216], mid[9216 + 20];
};

struct ha {
	struct eloop *loop;
	const struct ha_conf *conf;
	bool dataplane;
	int fd;
	int home_ifindex;
	struct bcache *bc;
	struct ratelimit *rl;
	struct tunnel *tun;
	struct ha_mn *mns; /* parallel to conf->mns */
	uint32_t *mn_tab;  /* open addressing: index + 1, 0 = empty */
	size_t mn_mask;
	struct ha_stats st;
	uint64_t started_ns;
	struct agent_adv adv; /* RFC 5944 2.3, when ha.advertise */
	struct ha_bcast bcast;
};

/* One request being processed. */
struct ha_req {
	const struct ha_from *from;
	struct reg_msg m;
	struct ha_mn *mn; /* NULL: unknown home address */
	struct reg_sa sa; /* mn's MN-HA SA (mn_entry_sa), when mn is set */
	uint64_t now;	  /* our clock as NTP */
	uint64_t reply_id;
	uint32_t haa; /* the HA address we answer as */
	uint16_t lifetime;
	int encap; /* enum bcache_encap */
};

/* RFC 5944 3.6.1.1: lifetime 0, or back home (CoA = HoA). */
static inline bool ha_is_dereg(const struct reg_request *rq)
{
	return rq->lifetime == 0 || rq->coa.s_addr == rq->home.s_addr;
}

/* O(1): an open-addressing hash of the home addresses (load <= 1/2),
 * probed linearly from ha_mn_hash(). */
struct ha_mn *ha_mn_find(const struct ha *h, uint32_t hoa);
static inline uint32_t ha_mn_hash(uint32_t hoa, size_t mask)
{
	/* Fibonacci hashing: dense home subnets spread over the table */
	return (uint32_t)(((uint64_t)hoa * 0x9e3779b97f4a7c15ULL) >> 32) &
	       (uint32_t)mask;
}
/* Bytes the HA's per-node tables take: its replay states and home-address
 * index, plus the configuration's entries and key arena (the binding
 * cache is bcache_mem_bytes()).  For the benchmark. */
size_t ha_mn_mem_bytes(const struct ha *h);
/* The configured entry of a node ha_mn_find returned. */
static inline const struct mn_entry *ha_mn_entry(const struct ha *h,
						 const struct ha_mn *mn)
{
	return &h->conf->mns[mn - h->mns];
}
const struct binding *ha_lookup(void *h, uint32_t hoa);
size_t ha_build_reply(struct ha *h, const struct ha_req *r, int code,
		      uint8_t *out, size_t cap);
/* Receives and answers up to HA_RX_BATCH datagrams (one recvmmsg, one
 * sendmmsg): how many, 0 when drained, -1 on error. */
#define HA_RX_BATCH 64
int ha_recv_batch(struct ha *h, int fd);
/* The home address a datagram asks to register (network order), or 0
 * when it is no Registration Request. */
uint32_t ha_req_home(const uint8_t *pkt, size_t len);
/* Before a batch is handled: brings in the MN table slots, entries, keys,
 * replay states and binding cache slots and bindings of the home
 * addresses hoas (0 = skip), n <= HA_RX_BATCH.  Only a cache hint. */
void ha_prefetch(const struct ha *h, const uint32_t *hoas, size_t n);
/* The advertisement the home agent sends from addr/plen (ha.c). */
void ha_adv_cfg(const struct ha *h, uint32_t addr, uint8_t plen,
		struct agent_adv_cfg *c);

/* ha_bcast.c */
int ha_bcast_open(struct ha *h);
void ha_bcast_close(struct ha *h);
/* The binding of hoa has (on) or no longer has the B bit. */
void ha_bcast_track(struct ha *h, uint32_t hoa, bool on);
/* Whether a packet to dst is one forwarded to B bindings: the limited or
 * the home subnet's broadcast, multicast when ha.forward_multicast. */
bool ha_bcast_wanted(const struct ha_conf *c, uint32_t dst);
/* One IPv4 packet the home link carried to its broadcast or a multicast
 * address: tunnelled to every binding with B but its sender's. */
void ha_bcast_input(struct ha *h, const uint8_t *pkt, size_t len);
/* ip4_str(), under the name the home agent's logs use. */
static inline const char *ha_ip(uint32_t a)
{
	return ip4_str(a);
}

#endif
