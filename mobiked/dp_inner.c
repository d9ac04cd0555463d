/*
 * dp_inner.c - inner packets against traffic selectors (see dp_inner.h).
 */
#include "mobiked/dp_inner.h"

#include <netinet/in.h>
#include <string.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "mobiked/esp.h"

#define IP6_HDR_LEN 40

static bool port_proto(uint8_t p)
{
	return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_SCTP;
}

static void get_ports(struct rbuf *r, struct dp_inner *in)
{
	if (!port_proto(in->proto))
		return;
	in->has_ports =
	    rb_u16(r, &in->sport) == 0 && rb_u16(r, &in->dport) == 0;
}

static int parse_ip4(struct rbuf *r, struct dp_inner *in)
{
	struct ip4_view v;

	/* the checksum is the kernel's business: it built the packet (TUN)
	 * or checks it when we write it (and ESP authenticated it) */
	if (ip4_parse(r, &v) < 0)
		return -1;
	in->nh = ESP_NH_IPV4;
	in->proto = v.proto;
	ipaddr_from_v4(&in->src, v.src);
	ipaddr_from_v4(&in->dst, v.dst);
	in->len = v.len;
	if ((v.frag & 0x1fff) == 0) /* ports only in a first fragment */
		get_ports(&v.payload, in);
	return 0;
}

/* Extension headers are not walked: their ports count as unknown. */
static int parse_ip6(struct rbuf *r, struct dp_inner *in)
{
	uint16_t plen;
	struct rbuf payload;

	rb_skip(r, 4); /* version, class, flow label */
	rb_u16(r, &plen);
	rb_u8(r, &in->proto);
	rb_skip(r, 1); /* hop limit */
	in->src.family = in->dst.family = AF_INET6;
	rb_bytes(r, in->src.b, 16);
	rb_bytes(r, in->dst.b, 16);
	if (rb_sub(r, &payload, plen) < 0)
		return -1;
	in->nh = ESP_NH_IPV6;
	in->len = IP6_HDR_LEN + (size_t)plen;
	get_ports(&payload, in);
	return 0;
}

int dp_inner_parse(const uint8_t *p, size_t len, struct dp_inner *in)
{
	struct rbuf r;
	uint8_t vers = 0;
	int rc = -1;

	memset(in, 0, sizeof(*in));
	rb_init(&r, p, len);
	rb_peek_u8(&r, &vers);
	if (vers >> 4 == 4)
		rc = parse_ip4(&r, in);
	else if (vers >> 4 == 6)
		rc = parse_ip6(&r, in);
	if (rc < 0)
		memset(in, 0, sizeof(*in));
	return rc;
}

static bool addr_in(const struct ipaddr *a, const struct dp_ts *ts)
{
	size_t n = ipaddr_len(a);

	return n && a->family == ts->start.family &&
	       memcmp(a->b, ts->start.b, n) >= 0 &&
	       memcmp(a->b, ts->end.b, n) <= 0;
}

bool dp_ts_match(const struct dp_ts *ts, unsigned n, const struct dp_inner *in,
		 bool src)
{
	uint16_t port = src ? in->sport : in->dport;

	for (unsigned i = 0; i < n; i++, ts++) {
		if (!addr_in(src ? &in->src : &in->dst, ts) ||
		    (ts->proto && ts->proto != in->proto))
			continue;
		if (ts->port_lo == 0 && ts->port_hi == 0xffff)
			return true;
		if (in->has_ports && port >= ts->port_lo && port <= ts->port_hi)
			return true;
	}
	return false;
}
