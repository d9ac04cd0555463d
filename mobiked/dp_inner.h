/*
 * dp_inner.h - what the userspace data plane reads of an inner packet,
 * read from the TUN or decrypted: its addresses, protocol and ports for
 * the traffic selectors (RFC 4301 5.1 outbound, 5.2 inbound), and its own
 * length.  IPv4 goes through the one IPv4 parser (common/ip4.h), IPv6's
 * fixed header through the reader.  Pure, for tests and fuzzing.
 */
#ifndef MOBIKED_DP_INNER_H
#define MOBIKED_DP_INNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "mobiked/dp.h"

struct dp_inner {
	uint8_t nh; /* ESP Next Header: ESP_NH_IPV4 or ESP_NH_IPV6 */
	struct ipaddr src, dst;
	uint8_t proto;	/* IPv6: the first Next Header, not walked */
	bool has_ports; /* TCP, UDP or SCTP, a first fragment, ports there */
	uint16_t sport, dport;
	/* The packet's own length (IPv4 Total Length, IPv6 40 + Payload
	 * Length): what follows in the buffer (TFC padding, RFC 4303 2.7)
	 * is not part of it. */
	size_t len;
};

/* 0, or -1 when p is no whole IPv4 or IPv6 packet (*in zeroed then). */
int dp_inner_parse(const uint8_t *p, size_t len, struct dp_inner *in);
/* Whether the source (src true) or destination address, the protocol and
 * that port of in fall inside one of the n selectors. */
bool dp_ts_match(const struct dp_ts *ts, unsigned n, const struct dp_inner *in,
		 bool src);

#endif
