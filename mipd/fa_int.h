/*
 * fa_int.h - foreign agent internals shared by fa.c (visitor list and
 * relaying), fa_adv.c (agent discovery) and fa_io.c (sockets, kernel
 * state, control views).  Not for other modules.
 */
#ifndef MIPD_FA_INT_H
#define MIPD_FA_INT_H

#include <net/ethernet.h>

#include "common/eloop.h"
#include "common/ip4.h"
#include "mipd/agent_adv.h"
#include "mipd/bcache.h"
#include "mipd/fa.h"
#include "mipd/reg_msg.h"

#define FA_HASH_SIZE 256 /* buckets of the visitor list */
#define FA_MAC_CACHE 32	 /* recent (source, port) -> MAC of requests */
#define FA_DGRAM_MAX 2048

/* RFC 5944 3.7.1: one visitor list entry.  b.info is what the tunnel
 * reads: hoa, haa = our care-of address (outer source of the reverse
 * tunnel), coa = the home agent (its outer destination). */
struct visitor {
	struct visitor *next; /* hash chain */
	struct fa *fa;
	struct binding b;
	uint32_t ha;	  /* the home agent of the registration in force */
	uint32_t pend_ha; /* ... of the pending request (ha once accepted) */
	uint32_t src;	  /* IP source of the request */
	uint32_t local;	  /* our address the request reached */
	uint16_t sport;	  /* UDP source port of the request */
	uint8_t mac[ETH_ALEN];
	bool has_mac;
	bool active;	  /* an accepting reply was relayed */
	bool pending;	  /* a relayed request awaits its reply */
	uint64_t pend_id; /* Identification of the pending request */
	uint16_t pend_lifetime;
	uint8_t pend_flags;
	uint64_t expires_ns; /* active: monotonic */
	struct timer pend_timer, life_timer;
	bool k_link, k_rule; /* kernel state installed */
};

struct fa_mac {
	uint32_t src;
	uint16_t sport;
	uint8_t mac[ETH_ALEN];
};

struct fa {
	struct eloop *loop;
	const struct fa_conf *conf;
	int ifindex;
	uint32_t addr, coa; /* network order */
	uint8_t plen;	    /* of addr on the interface */
	int udp_fd, pkt_fd;
	struct tunnel *tun;
	struct visitor *hash[FA_HASH_SIZE];
	size_t nvisitors;
	struct agent_adv adv;
	int last_denial; /* -1: none yet */
	struct fa_mac macs[FA_MAC_CACHE];
	unsigned mac_next;
	struct fa_stats st;
};

/* fa.c */
struct visitor *fa_find(const struct fa *f, uint32_t hoa);
/* ttl: the request's IP TTL, 0 when unknown (RFC 3024 76 is then not
 * checked). */
void fa_handle_request(struct fa *f, const uint8_t *pkt, size_t len,
		       uint32_t src, uint16_t sport, uint32_t local,
		       uint8_t ttl);
void fa_handle_reply(struct fa *f, const uint8_t *pkt, size_t len,
		     uint32_t src);
/* An ICMP error about a request we relayed to dst (RFC 5944 3.7.2.3):
 * payload is the quoted UDP payload, possibly truncated. */
void fa_handle_icmp_error(struct fa *f, const uint8_t *payload, size_t len,
			  uint32_t dst, uint8_t type, uint8_t code);
/* RFC 5944 3.7.2.1, RFC 3024 3.3, RFC 2794: -1 to relay, else the code
 * the FA denies with; ttl as for fa_handle_request. */
int fa_check_request(const struct fa *f, const struct reg_msg *m, uint8_t ttl);
/* RFC 5944 3.7.2.3: ICMP Destination Unreachable code -> 80, 81, 82 or
 * 88; a local send error (errno) -> the same codes, 64 for the rest. */
int fa_unreach_code(uint8_t icmp_type, uint8_t icmp_code);
int fa_errno_code(int err);

/* fa_adv.c */
void fa_adv_cfg(const struct fa *f, struct agent_adv_cfg *c);
int fa_adv_open(struct fa *f);
void fa_adv_close(struct fa *f);

/* fa_io.c */
int fa_io_open(struct fa *f);
void fa_io_close(struct fa *f);
/* 0 or -errno (also counted as a send error). */
int fa_send(struct fa *f, uint32_t from, uint32_t to, uint16_t port,
	    const uint8_t *msg, size_t len);
/* The link-layer address of the request src:sport just received. */
bool fa_learn_mac(struct fa *f, uint32_t src, uint16_t sport,
		  uint8_t mac[ETH_ALEN]);
/* 0, or -1 when the host route to the visitor could not be installed. */
int fa_kernel_link(struct fa *f, struct visitor *v, bool on);
void fa_kernel_rule(struct fa *f, struct visitor *v, bool on);
/* ip4_str(), under the name the foreign agent's logs use. */
static inline const char *fa_ip(uint32_t a)
{
	return ip4_str(a);
}

#endif
