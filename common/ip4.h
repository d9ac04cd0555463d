/*
 * ip4.h - the one IPv4 header parser, on the bounds-checked reader
 * (common/buf.h).  Every packet whose IP header a daemon reads goes through
 * it: mipd's tunnels, broadcast forwarding, solicitations and the foreign
 * agent's view of a request's frame; mobiked's inner packets for the
 * traffic selectors.
 *
 * Addresses stay in network byte order (as the binding cache keys them);
 * the other fields are in host order.
 */
#ifndef COMMON_IP4_H
#define COMMON_IP4_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

#define IP4_HDR_MIN 20
#define IP4_DF	    0x4000 /* in ip4_view.frag */

struct ip4_view {
	const uint8_t *pkt; /* the packet as read: header and payload */
	size_t len;	    /* bytes at pkt: tot, or fewer for a capture */
	size_t hlen;	    /* header with options: 20..60 */
	size_t tot;	    /* the Total Length field */
	uint16_t id;
	uint16_t frag; /* flags and fragment offset */
	uint8_t tos, ttl, proto;
	bool csum_ok; /* the header checksum verifies */
	uint32_t src, dst;
	struct rbuf payload; /* the len - hlen bytes after the header */
};

/*
 * A whole IPv4 packet at the reader's position: version 4, IHL >= 5, the
 * header within what r holds, hlen <= total length <= what r holds.  Bytes
 * past the total length (link-layer padding) stay in r.  The checksum is
 * reported, not enforced: a socket that already checked it need not pay
 * twice.  0, or -1 with r failed and *v zeroed.
 */
int ip4_parse(struct rbuf *r, struct ip4_view *v);
/* The same for a capture cut short (a packet socket's snap length): the
 * header must be whole, the payload may end before the total length. */
int ip4_parse_head(struct rbuf *r, struct ip4_view *v);

/* RFC 1071 ones' complement sum, complemented, in host order: 0 over a
 * valid header.  Inline: every packet's header goes through it.  The sum
 * does not depend on byte order, so 32-bit words are added as the host
 * loads them, in 64 bits, folded, and swapped into network order once
 * (2^16 = 1 modulo 0xffff: 32-bit words fold to the 16-bit words' sum). */
static inline uint16_t ip4_csum(const uint8_t *p, size_t len)
{
	uint64_t sum = 0;
	uint32_t w32;
	uint16_t w16;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		memcpy(&w32, p + i, 4);
		sum += w32;
	}
	if (i + 2 <= len) {
		memcpy(&w16, p + i, 2);
		sum += w16;
		i += 2;
	}
	if (i < len) {
		uint8_t last[2] = {p[i], 0}; /* the high byte of a word */

		memcpy(&w16, last, 2);
		sum += w16;
	}
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ntohs((uint16_t)~sum);
}

/* Dotted quad of a, in one of a few rotating static buffers, for logs. */
const char *ip4_str(uint32_t a);

#endif
