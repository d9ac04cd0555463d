/*
 * ip4.c - IPv4 header parsing (see ip4.h).
 */
#include "common/ip4.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * The fixed header is borrowed from the reader in one bounds-checked piece
 * and its fields decoded at their offsets inside those 20 bytes: one check
 * instead of one per field, on the path of every tunnelled packet
 * (tests/bench/tunnel_bench).
 */
static int parse(struct rbuf *r, struct ip4_view *v, bool whole)
{
	size_t left = rb_left(r), len;
	const uint8_t *h;

	/* r is failed on every way out but success: what this takes of it
	 * before a length check fails does not matter */
	if (rb_ptr(r, &h, IP4_HDR_MIN) < 0 || h[0] >> 4 != 4)
		goto bad;
	v->hlen = (size_t)(h[0] & 0x0f) * 4;
	v->tot = be16(h + 2);
	if (v->hlen < IP4_HDR_MIN || v->hlen > left || v->tot < v->hlen ||
	    (whole && v->tot > left))
		goto bad;
	len = v->tot < left ? v->tot : left;
	if (rb_skip(r, len - IP4_HDR_MIN) < 0)
		goto bad;
	v->pkt = h;
	v->len = len;
	v->tos = h[1];
	v->id = be16(h + 4);
	v->frag = be16(h + 6);
	v->ttl = h[8];
	v->proto = h[9];
	memcpy(&v->src, h + 12, 4);
	memcpy(&v->dst, h + 16, 4);
	v->csum_ok = ip4_csum(v->pkt, v->hlen) == 0;
	rb_init(&v->payload, v->pkt + v->hlen, len - v->hlen);
	return 0;
bad:
	memset(v, 0, sizeof(*v));
	rb_init(&v->payload, NULL, 0);
	r->failed = true;
	return -1;
}

int ip4_parse(struct rbuf *r, struct ip4_view *v)
{
	return parse(r, v, true);
}

int ip4_parse_head(struct rbuf *r, struct ip4_view *v)
{
	return parse(r, v, false);
}

const char *ip4_str(uint32_t a)
{
	static char buf[4][INET_ADDRSTRLEN];
	static unsigned next;
	char *s = buf[next++ % 4];
	struct in_addr in = {.s_addr = a};

	return inet_ntop(AF_INET, &in, s, INET_ADDRSTRLEN);
}
