/*
 * fuzz_ip4.c - the data plane's packet parsing on arbitrary bytes: the
 * IPv4 header parser (ip4_parse, ip4_parse_head), decapsulation of IP-in-IP
 * (RFC 2003) and tunnel data messages (RFC 3519 3.3), the reverse-tunnel
 * source check and the keepalive test, and encapsulation of whatever
 * parsed.  The first byte steers:
 *   bits 0-1  0 a packet, 1 an IP-in-IP packet, 2 a tunnel data message,
 *             3 a packet encapsulated (IP-in-IP and UDP) and decapsulated
 *   bit 2     the bound node's binding is IP-in-UDP (else IP-in-IP)
 * Every view must lie inside the input and agree with its own lengths;
 * an encapsulated packet must come back byte for byte.
 * Seeds in tests/fuzz/corpus/ip4/.
 */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "mipd/tunnel.h"

#define OUTER 0x0a140005u /* 10.20.0.5: the care-of address / NAT */

static struct binding bound;

static const struct binding *lookup(void *arg, uint32_t hoa)
{
	return hoa == bound.info.hoa ? &bound : NULL;
}

static void check_view(const struct ip4_view *v, const uint8_t *data,
		       size_t size)
{
	if (v->pkt < data || v->len > size ||
	    (size_t)(v->pkt - data) > size - v->len)
		abort();
	if (v->hlen < IP4_HDR_MIN || v->hlen > 60 || v->hlen > v->len ||
	    v->len > v->tot || rb_left(&v->payload) != v->len - v->hlen)
		abort();
	/* the payload reader reads the packet's own bytes */
	if (v->len > v->hlen && v->payload.data != v->pkt + v->hlen)
		abort();
}

static void packet(const uint8_t *data, size_t size)
{
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, data, size);
	if (ip4_parse(&r, &v) == 0) {
		check_view(&v, data, size);
		if (v.len != v.tot || rb_left(&r) != size - v.tot)
			abort();
		if ((tunnel_ip_check(data, size) != 0) != v.csum_ok)
			abort();
	} else if (v.len || v.pkt || !r.failed) {
		abort();
	}
	rb_init(&r, data, size);
	if (ip4_parse_head(&r, &v) == 0)
		check_view(&v, data, size);
}

static void source_check(const struct ip4_view *in, uint16_t sport)
{
	const struct binding *b;

	/* once bound to its source, the check passes from the right
	 * outer source only */
	bound.info.hoa = in->src;
	b = tunnel_src_check(lookup, NULL, in->pkt, in->len, htonl(OUTER),
			     sport);
	if (b &&
	    (b != &bound || (sport ? bound.info.encap != BCACHE_ENCAP_UDP
				   : bound.info.encap != BCACHE_ENCAP_IPIP)))
		abort();
	(void)tunnel_is_keepalive(in, in->dst);
}

static void ipip(const uint8_t *data, size_t size)
{
	struct ip4_view outer, inner;
	struct rbuf r;

	rb_init(&r, data, size);
	if (tunnel_ipip_decap(&r, &outer, &inner) < 0)
		return;
	check_view(&outer, data, size);
	check_view(&inner, data, size);
	if (outer.proto != 4 || !outer.csum_ok || !inner.csum_ok ||
	    inner.pkt != outer.pkt + outer.hlen)
		abort();
	source_check(&inner, 0);
}

static void udp(const uint8_t *data, size_t size)
{
	struct ip4_view inner;
	struct rbuf r;

	rb_init(&r, data, size);
	if (tunnel_udp_decap(&r, &inner) < 0)
		return;
	check_view(&inner, data, size);
	if (inner.pkt != data + TUN_UDP_HDR_LEN || !inner.csum_ok)
		abort();
	source_check(&inner, 434);
}

static void roundtrip(const uint8_t *data, size_t size)
{
	static uint8_t out[70000];
	struct ip4_view v, outer, inner;
	struct rbuf r;
	size_t n;

	rb_init(&r, data, size);
	if (ip4_parse(&r, &v) < 0)
		return;
	n = tunnel_ipip_encap(out, sizeof(out), data, size, htonl(OUTER),
			      htonl(0x0a0a0002), 1);
	if (!n)
		return; /* only when the result would pass 64 KiB */
	rb_init(&r, out, n);
	if (v.csum_ok != (tunnel_ipip_decap(&r, &outer, &inner) == 0))
		abort();
	if (v.csum_ok &&
	    (inner.len != v.len || memcmp(inner.pkt, data, v.len) != 0 ||
	     outer.tos != v.tos || outer.frag != (v.frag & IP4_DF)))
		abort();
	n = tunnel_udp_encap(out, sizeof(out), data, v.len);
	rb_init(&r, out, n);
	if (v.csum_ok != (tunnel_udp_decap(&r, &inner) == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags;

	if (size < 1 || size > 65536)
		return 0;
	flags = data[0];
	data++, size--;
	bound.info.coa = htonl(OUTER);
	bound.info.nat_addr = htonl(OUTER);
	bound.info.nat_port = 434;
	bound.info.encap = flags & 4 ? BCACHE_ENCAP_UDP : BCACHE_ENCAP_IPIP;
	switch (flags & 3) {
	case 0:
		packet(data, size);
		break;
	case 1:
		ipip(data, size);
		break;
	case 2:
		udp(data, size);
		break;
	default:
		roundtrip(data, size);
		break;
	}
	return 0;
}
