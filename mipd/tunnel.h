/*
 * tunnel.h - Mobile IP tunnels of the home agent, userspace backend.
 *
 * This kernel has no ipip module, so tunnels live in the daemon:
 *   forward   routes HoA/32 dev <TUN>: the kernel hands every packet for an
 *             away mobile node to the TUN; we read it, look the binding up
 *             by the inner destination and send it IP-in-IP (RFC 2003) on a
 *             raw socket to the care-of address, or IP-in-UDP (RFC 3519
 *             3.3) from the HA's port 434 to the NAT's address and port.
 *   reverse   a raw IPPROTO_IPIP socket sees protocol-4 packets (raw
 *             sockets get every protocol, module or not) and the HA hands
 *             us RFC 3519 tunnel data messages from its 434 socket; the
 *             inner packet must come from a home address bound to that
 *             outer source (RFC 3024 5.2), then it is written to the TUN
 *             and the kernel forwards it.
 *
 * The functions below are the backend interface: a kernel ipip backend
 * would implement the same open/route/close calls with an ipip device.
 * Encapsulation and the decapsulation checks are pure functions so tests
 * can check their bytes.  Addresses are IPv4 in network byte order.
 */
#ifndef MIPD_TUNNEL_H
#define MIPD_TUNNEL_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "mipd/bcache.h"

struct eloop;
struct tunnel;

/* RFC 3519 3.3: Type 4, Next Header, 16 reserved bits. */
#define TUN_UDP_HDR_LEN 4
#define TUN_IP_HDR_LEN	20
#define TUN_OUTER_TTL	64 /* RFC 2003 3.1: enough to reach the exit point */
/* Room for the biggest outer headers (IP + UDP + RFC 3519 header) on a
 * 1500-byte path, so the kernel fragments or sends "fragmentation needed"
 * before the packet reaches us rather than after. */
#define TUN_MTU (1500 - TUN_IP_HDR_LEN - 8 - TUN_UDP_HDR_LEN)

typedef const struct binding *(*tunnel_lookup_fn)(void *arg, uint32_t hoa);

struct tunnel_cfg {
	char name[IFNAMSIZ]; /* TUN name, e.g. "mip0" */
	int udp_fd;	     /* the HA's port-434 socket, for IP-in-UDP */
	tunnel_lookup_fn lookup;
	void *arg;
	/* Foreign agent use (RFC 3024 5.1): the packet in the TUN came
	 * from a visitor, so look it up by the inner source.  The binding's
	 * haa is then our care-of address (outer source) and coa the home
	 * agent (outer destination): the same local/remote roles the HA's
	 * bindings give those fields. */
	bool lookup_by_src;
	/* Replaces tunnel_src_check() on decapsulation when set: the FA
	 * accepts inner packets *to* an active visitor from that visitor's
	 * home agent (RFC 5944 4.2.2).  inner is a checked IPv4 packet.
	 * True = write to the TUN. */
	bool (*rx_check)(void *arg, const struct ip4_view *inner,
			 uint32_t outer_src);
};

struct tunnel_stats {
	uint64_t tx_ipip, tx_udp;
	uint64_t tx_no_binding; /* packet in the TUN for an unbound address */
	uint64_t tx_err;	/* send failed or packet malformed */
	uint64_t rx_ipip, rx_udp;
	uint64_t rx_bad;       /* not a well-formed tunnelled IPv4 packet */
	uint64_t rx_src_drop;  /* reverse tunnel source check (RFC 3024) */
	uint64_t rx_keepalive; /* RFC 3519 keepalives (of rx_udp) */
	uint64_t rx_err;       /* write to the TUN failed */
};

/* Opens the TUN (up, MTU TUN_MTU) and the raw socket on the loop. */
struct tunnel *tunnel_open(struct eloop *l, const struct tunnel_cfg *cfg);
void tunnel_close(struct tunnel *t);
const char *tunnel_name(const struct tunnel *t);
int tunnel_ifindex(const struct tunnel *t);
const struct tunnel_stats *tunnel_stats(const struct tunnel *t);

/* Route HoA/32 into the tunnel, or take it out.  0 or -errno. */
int tunnel_route_add(struct tunnel *t, uint32_t hoa);
int tunnel_route_del(struct tunnel *t, uint32_t hoa);

/* Sends the IPv4 packet pkt (from ip4_parse) through b's tunnel (IP-in-IP
 * to the care-of address or IP-in-UDP to the NAT), as for a packet read
 * from the TUN.  0 or -1 (counted in tx_err). */
int tunnel_send(struct tunnel *t, const struct binding *b,
		const struct ip4_view *pkt);

/* A tunnel data message (type 4) that reached the HA's 434 socket from
 * src:sport (port in host order). */
void tunnel_udp_input(struct tunnel *t, const uint8_t *msg, size_t len,
		      uint32_t src, uint16_t sport);

/* --- pure functions --- */

/* RFC 2003 3.1: outer header src -> dst, protocol 4, TTL TUN_OUTER_TTL,
 * TOS and DF copied from the inner header, checksum filled; the inner
 * packet (its total length's worth) follows unchanged.  Total length, or 0
 * if inner is not an IPv4 packet (ip4_parse) or out is too small. */
size_t tunnel_ipip_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			 size_t len, uint32_t src, uint32_t dst, uint16_t id);
/* RFC 3519 3.3 header + inner into out; total length or 0. */
size_t tunnel_udp_encap(uint8_t *out, size_t cap, const uint8_t *inner,
			size_t len);

/* A well-formed IPv4 header at p (ip4_parse, and the header checksum).
 * Returns the header length, or 0. */
size_t tunnel_ip_check(const uint8_t *p, size_t len);

/* Decapsulation: 0 with *inner a whole IPv4 packet whose checksum
 * verifies, or -1 (r failed).  Bytes after the inner packet are ignored.
 * RFC 2003: r holds an IPv4 packet (checksum verified) of protocol 4. */
int tunnel_ipip_decap(struct rbuf *r, struct ip4_view *outer,
		      struct ip4_view *inner);
/* RFC 3519 3.3: r holds a tunnel data message, Next Header 4 (IPv4). */
int tunnel_udp_decap(struct rbuf *r, struct ip4_view *inner);
/* RFC 3519 4.9: a keepalive is an ICMP Echo Request to the home agent
 * haa through the UDP tunnel. */
bool tunnel_is_keepalive(const struct ip4_view *inner, uint32_t haa);

/* RFC 3024 5.2: the inner source must be a home address whose binding's
 * care-of (IP-in-IP) or NAT address and port (IP-in-UDP, sport != 0)
 * is the outer source.  The binding, or NULL (drop). */
const struct binding *tunnel_src_check(tunnel_lookup_fn lookup, void *arg,
				       const uint8_t *inner, size_t len,
				       uint32_t outer_src, uint16_t sport);

#endif
