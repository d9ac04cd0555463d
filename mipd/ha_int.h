/*
 * ha_int.h - home agent internals shared by ha.c (registration logic) and
 * ha_io.c (socket, replies, control commands).  Not for other modules.
 */
#ifndef MIPD_HA_INT_H
#define MIPD_HA_INT_H

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

/* O(1): an open-addressing hash of the home addresses (load <= 1/2). */
struct ha_mn *ha_mn_find(const struct ha *h, uint32_t hoa);
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
int ha_open_socket(uint16_t port);
/* Receives and answers one datagram: 1, 0 when drained, -1 on error. */
int ha_recv_one(struct ha *h, int fd);
uint32_t ha_random32(void);
/* Dotted quad in one of a few rotating static buffers, for logs. */
const char *ha_ip(uint32_t a);

#endif
