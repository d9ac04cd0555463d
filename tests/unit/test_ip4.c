/* test_ip4.c - the IPv4 header parser (common/ip4.c) and the tunnel
 * decapsulation built on it - the home agent's (mipd/tunnel.c) and the
 * mobile node's (mipd/mn_path.c) - on well-formed and malformed headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"
#include "mipd/tunnel.h"

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void set16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix_csum(uint8_t *p)
{
	size_t hl = (size_t)(p[0] & 0x0f) * 4;

	p[10] = p[11] = 0;
	set16(p + 10, ip4_csum(p, hl));
}

/* An IPv4 packet: hl header bytes (options 0x01, NOP), payload bytes of
 * 0xa0.., total length hl + payload, checksum valid.  Returns hl+payload. */
static size_t packet(uint8_t *p, size_t hl, size_t payload, uint8_t proto,
		     const char *src, const char *dst)
{
	uint32_t s = ip(src), d = ip(dst);

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	p[1] = 0x10;
	set16(p + 2, hl + payload);
	set16(p + 4, 0x1234);
	p[6] = 0x40; /* DF */
	p[8] = 63;
	p[9] = proto;
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	memset(p + 20, 0x01, hl - 20);
	for (size_t i = 0; i < payload; i++)
		p[hl + i] = (uint8_t)(0xa0 + i);
	fix_csum(p);
	return hl + payload;
}

/* ip4_parse on len bytes at p must fail, latch and zero the view. */
static void rejects(const uint8_t *p, size_t len)
{
	struct ip4_view v;
	struct rbuf r;

	memset(&v, 0xee, sizeof(v));
	rb_init(&r, p, len);
	assert_int_equal(ip4_parse(&r, &v), -1);
	assert_true(r.failed);
	assert_int_equal(v.hlen, 0);
	assert_int_equal(v.tot, 0);
	assert_int_equal(v.src, 0);
	assert_null(v.pkt);
	assert_int_equal(rb_left(&v.payload), 0);
	assert_int_equal(tunnel_ip_check(p, len), 0);
}

static void checksum_known_vector(void **state)
{
	/* a header with its checksum (0xb861) in place sums to zero */
	static const uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
				      0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
				      0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint8_t z[20];

	assert_int_equal(ip4_csum(h, sizeof(h)), 0);
	memcpy(z, h, sizeof(z));
	z[10] = z[11] = 0;
	assert_int_equal(ip4_csum(z, sizeof(z)), 0xb861);
	/* odd length: the last byte is the high half of a word */
	assert_int_equal(ip4_csum((const uint8_t[]){0x01}, 1), 0xfeff);
}

static void valid_header_fields(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;
	uint8_t b;

	rb_init(&r, p, n);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(rb_end(&r), 0); /* the whole packet consumed */
	assert_ptr_equal(v.pkt, p);
	assert_int_equal(v.len, 28);
	assert_int_equal(v.hlen, 20);
	assert_int_equal(v.tot, 28);
	assert_int_equal(v.tos, 0x10);
	assert_int_equal(v.id, 0x1234);
	assert_int_equal(v.frag, IP4_DF);
	assert_int_equal(v.ttl, 63);
	assert_int_equal(v.proto, IPPROTO_UDP);
	assert_int_equal(v.src, ip("10.0.0.1"));
	assert_int_equal(v.dst, ip("192.0.2.7"));
	assert_true(v.csum_ok);
	assert_int_equal(rb_left(&v.payload), 8);
	assert_int_equal(rb_u8(&v.payload, &b), 0);
	assert_int_equal(b, 0xa0);
	assert_int_equal(tunnel_ip_check(p, n), 20);
	/* a header and nothing else is a packet too */
	n = packet(p, 20, 0, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	rb_init(&r, p, n);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(rb_left(&v.payload), 0);
}

static void short_header(void **state)
{
	uint8_t p[64];

	packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	for (size_t len = 0; len < 20; len++)
		rejects(p, len);
	rejects(NULL, 0);
}

static void bad_version(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");

	for (unsigned ver = 0; ver < 16; ver++) {
		if (ver == 4)
			continue;
		p[0] = (uint8_t)(ver << 4 | 5);
		fix_csum(p);
		rejects(p, n);
	}
}

static void ihl_below_five(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");

	for (unsigned ihl = 0; ihl < 5; ihl++) {
		p[0] = (uint8_t)(0x40 | ihl);
		rejects(p, n);
	}
}

static void ihl_beyond_data(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;

	/* IHL 15 = 60 header bytes, 28 there; the total says 60 too */
	p[0] = 0x4f;
	set16(p + 2, 60);
	rejects(p, n);
	/* nor does a capture excuse a header cut short */
	rb_init(&r, p, n);
	assert_int_equal(ip4_parse_head(&r, &v), -1);
	/* IHL 6 over exactly 23 bytes */
	n = packet(p, 24, 0, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	rejects(p, n - 1);
}

static void total_below_header(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 24, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;

	for (size_t tot = 0; tot < 24; tot++) {
		set16(p + 2, tot);
		fix_csum(p);
		rejects(p, n);
		rb_init(&r, p, n);
		assert_int_equal(ip4_parse_head(&r, &v), -1);
	}
	set16(p + 2, 24); /* header only: fine */
	fix_csum(p);
	rb_init(&r, p, n);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(rb_left(&v.payload), 0);
	assert_int_equal(rb_left(&r), 8); /* the rest is not the packet's */
}

static void total_beyond_data(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");

	rejects(p, n - 1);
	set16(p + 2, 0xffff);
	fix_csum(p);
	rejects(p, n);
}

static void trailing_padding_stays(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 6, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;

	/* an Ethernet frame pads a 26-byte packet to 46 */
	memset(p + n, 0, 20);
	rb_init(&r, p, 46);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(v.len, 26);
	assert_int_equal(rb_left(&v.payload), 6);
	assert_int_equal(rb_left(&r), 20);
	assert_int_equal(rb_end(&r), -1);
}

static void bad_checksum_reported(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;

	p[11] ^= 1;
	rb_init(&r, p, n);
	/* parsed (a raw socket's kernel has checked it), but flagged */
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_false(v.csum_ok);
	assert_int_equal(tunnel_ip_check(p, n), 0);
	/* a changed field without a new checksum, the same */
	p[11] ^= 1;
	p[8]--;
	assert_int_equal(tunnel_ip_check(p, n), 0);
}

static void options_covered(void **state)
{
	uint8_t p[128];
	struct ip4_view v;
	struct rbuf r;
	uint8_t b;

	for (size_t hl = 24; hl <= 60; hl += 4) {
		size_t n =
		    packet(p, hl, 4, IPPROTO_ICMP, "10.0.0.1", "10.0.0.2");

		rb_init(&r, p, n);
		assert_int_equal(ip4_parse(&r, &v), 0);
		assert_int_equal(v.hlen, hl);
		assert_true(v.csum_ok);
		/* the payload starts after the options */
		assert_int_equal(rb_left(&v.payload), 4);
		assert_int_equal(rb_u8(&v.payload, &b), 0);
		assert_int_equal(b, 0xa0);
		assert_int_equal(tunnel_ip_check(p, n), hl);
		/* an option byte flipped: the checksum covers options */
		p[hl - 1] ^= 0x80;
		assert_int_equal(tunnel_ip_check(p, n), 0);
	}
}

static void capture_cut_short(void **state)
{
	uint8_t p[128];
	size_t n = packet(p, 24, 60, IPPROTO_UDP, "10.0.0.1", "10.0.0.2");
	struct ip4_view v;
	struct rbuf r;
	uint16_t sport;

	assert_int_equal(n, 84);
	rb_init(&r, p, 64); /* a 64-byte snap length */
	assert_int_equal(ip4_parse(&r, &v), -1);
	rb_init(&r, p, 64);
	assert_int_equal(ip4_parse_head(&r, &v), 0);
	assert_int_equal(v.tot, 84);
	assert_int_equal(v.len, 64);
	assert_int_equal(rb_left(&v.payload), 40);
	assert_int_equal(rb_u16(&v.payload, &sport), 0);
	assert_int_equal(sport, 0xa0a1);
	assert_int_equal(v.src, ip("10.0.0.1"));
	/* a whole packet is a capture too */
	rb_init(&r, p, n);
	assert_int_equal(ip4_parse_head(&r, &v), 0);
	assert_int_equal(v.len, 84);
}

static void failed_reader_stays_failed(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 20, 8, IPPROTO_UDP, "10.0.0.1", "192.0.2.7");
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, p, n);
	r.failed = true;
	assert_int_equal(ip4_parse(&r, &v), -1);
	/* packets back to back: each parse takes exactly its own */
	memcpy(p + n, p, n);
	rb_init(&r, p, 2 * n);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(ip4_parse(&r, &v), 0);
	assert_int_equal(rb_end(&r), 0);
	assert_int_equal(ip4_parse(&r, &v), -1);
}

static void ipip_roundtrip_and_decap(void **state)
{
	uint8_t in[64], out[128];
	size_t n =
	    packet(in, 20, 8, IPPROTO_UDP, "10.10.0.100", "198.51.100.1");
	size_t tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip("10.10.0.2"),
				       ip("10.20.0.5"), 7);
	struct ip4_view outer, inner;
	struct rbuf r;

	assert_int_equal(tot, n + 20);
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), 0);
	assert_int_equal(outer.proto, IPPROTO_IPIP);
	assert_int_equal(outer.src, ip("10.10.0.2"));
	assert_int_equal(outer.tos, 0x10);
	assert_int_equal(outer.frag, IP4_DF);
	assert_int_equal(inner.src, ip("10.10.0.100"));
	assert_int_equal(inner.len, n);
	assert_memory_equal(inner.pkt, in, n);
	/* not protocol 4 */
	out[9] = IPPROTO_UDP;
	fix_csum(out);
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), -1);
	assert_true(r.failed);
	assert_int_equal(inner.len, 0);
	/* a bad outer checksum */
	out[9] = IPPROTO_IPIP;
	fix_csum(out);
	out[10] ^= 0xff;
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), -1);
	/* a bad inner checksum, or an inner header cut short */
	fix_csum(out);
	out[20 + 10] ^= 0xff;
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), -1);
	out[20 + 10] ^= 0xff;
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), 0);
	set16(out + 2, 39);
	fix_csum(out);
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), -1);
	/* an outer header alone */
	set16(out + 2, 20);
	fix_csum(out);
	rb_init(&r, out, tot);
	assert_int_equal(tunnel_ipip_decap(&r, &outer, &inner), -1);
}

static void udp_decap_and_keepalive(void **state)
{
	uint8_t in[64], msg[128];
	size_t n = packet(in, 20, 8, IPPROTO_ICMP, "10.10.0.100", "10.10.0.2");
	size_t len;
	struct ip4_view inner;
	struct rbuf r;

	in[20] = 8; /* echo request */
	len = tunnel_udp_encap(msg, sizeof(msg), in, n);
	assert_int_equal(len, n + 4);
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), 0);
	assert_memory_equal(inner.pkt, in, n);
	assert_true(tunnel_is_keepalive(&inner, ip("10.10.0.2")));
	/* to another address, or no echo request, or no 8 ICMP bytes */
	assert_false(tunnel_is_keepalive(&inner, ip("10.10.0.3")));
	in[20] = 0;
	tunnel_udp_encap(msg, sizeof(msg), in, n);
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), 0);
	assert_false(tunnel_is_keepalive(&inner, ip("10.10.0.2")));
	n = packet(in, 20, 7, IPPROTO_ICMP, "10.10.0.100", "10.10.0.2");
	in[20] = 8;
	len = tunnel_udp_encap(msg, sizeof(msg), in, n);
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), 0);
	assert_false(tunnel_is_keepalive(&inner, ip("10.10.0.2")));
	/* not a tunnel data message, not IPv4 inside, too short */
	msg[0] = MIP4_REG_REQUEST;
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), -1);
	msg[0] = MIP4_TUNNEL_DATA;
	msg[1] = 41;
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), -1);
	msg[1] = MIP4_ENCAP_IPIP;
	for (size_t cut = 0; cut < len; cut++) {
		rb_init(&r, msg, cut);
		assert_int_equal(tunnel_udp_decap(&r, &inner), -1);
		assert_int_equal(inner.len, 0);
	}
	/* a corrupt inner header */
	msg[4 + 8] ^= 1;
	rb_init(&r, msg, len);
	assert_int_equal(tunnel_udp_decap(&r, &inner), -1);
}

/* ---- the mobile node's data path (mn_path.c) ---- */

#define MN_HOA "10.10.0.100"
#define MN_HA  "10.10.0.2"

static int outbound(const uint8_t *p, size_t len, struct ip4_view *v)
{
	struct in_addr hoa = {ip(MN_HOA)};
	struct rbuf r;
	int rc;

	rb_init(&r, p, len);
	rc = mn_path_outbound(&r, hoa, v);
	assert_true(rc == 0 || r.failed);
	return rc;
}

static void mn_outbound(void **state)
{
	uint8_t p[64];
	size_t n = packet(p, 24, 8, IPPROTO_UDP, MN_HOA, "198.51.100.1");
	struct ip4_view v;

	assert_int_equal(outbound(p, n, &v), 0);
	assert_ptr_equal(v.pkt, p);
	assert_int_equal(v.len, n);
	/* link-layer padding is not sent on */
	assert_int_equal(outbound(p, n + 5, &v), 0);
	assert_int_equal(v.len, n);
	/* not from the home address, a bad checksum, cut short, IPv6 */
	n = packet(p, 20, 8, IPPROTO_UDP, "10.10.0.101", "198.51.100.1");
	assert_int_equal(outbound(p, n, &v), -1);
	n = packet(p, 20, 8, IPPROTO_UDP, MN_HOA, "198.51.100.1");
	p[11] ^= 1;
	assert_int_equal(outbound(p, n, &v), -1);
	p[11] ^= 1;
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(outbound(p, cut, &v), -1);
	p[0] = 0x60;
	assert_int_equal(outbound(p, n, &v), -1);
}

static int ipip_in(const uint8_t *p, size_t len, struct ip4_view *in)
{
	struct in_addr ha = {ip(MN_HA)}, hoa = {ip(MN_HOA)};
	struct rbuf r;
	int rc;

	rb_init(&r, p, len);
	rc = mn_path_ipip_decap(&r, ha, hoa, in);
	assert_true(rc == 0 || r.failed);
	return rc;
}

static void mn_ipip_decap(void **state)
{
	uint8_t in[64], out[128];
	size_t n = packet(in, 20, 8, IPPROTO_UDP, "198.51.100.1", MN_HOA);
	size_t tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip(MN_HA),
				       ip("10.20.0.5"), 1);
	struct ip4_view v;

	assert_int_equal(ipip_in(out, tot, &v), 0);
	assert_ptr_equal(v.pkt, out + 20);
	assert_int_equal(v.len, n);
	/* bytes after the outer packet, then inside it after the inner one
	 * (a shorter inner Total Length): not part of what goes to mip0 */
	assert_int_equal(ipip_in(out, tot + 3, &v), 0);
	assert_int_equal(v.len, n);
	set16(out + 20 + 2, n - 4);
	fix_csum(out + 20);
	assert_int_equal(ipip_in(out, tot, &v), 0);
	assert_int_equal(v.len, n - 4);
	/* every cut of the packet fails */
	tunnel_ipip_encap(out, sizeof(out), in, n, ip(MN_HA), ip("10.20.0.5"),
			  1);
	for (size_t cut = 0; cut < tot; cut++)
		assert_int_equal(ipip_in(out, cut, &v), -1);
	/* from another tunnel end, or for another address */
	tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip("10.10.0.3"),
				ip("10.20.0.5"), 1);
	assert_int_equal(ipip_in(out, tot, &v), -1);
	n = packet(in, 20, 8, IPPROTO_UDP, "198.51.100.1", "10.10.0.101");
	tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip(MN_HA),
				ip("10.20.0.5"), 1);
	assert_int_equal(ipip_in(out, tot, &v), -1);
	/* an inner header that is no IPv4 header */
	n = packet(in, 20, 8, IPPROTO_UDP, "198.51.100.1", MN_HOA);
	tot = tunnel_ipip_encap(out, sizeof(out), in, n, ip(MN_HA),
				ip("10.20.0.5"), 1);
	out[20] = 0x44; /* IHL 4 */
	assert_int_equal(ipip_in(out, tot, &v), -1);
	out[20] = 0x65; /* version 6 */
	assert_int_equal(ipip_in(out, tot, &v), -1);
}

static int udp_in(const uint8_t *p, size_t len, const char *src,
		  struct ip4_view *in)
{
	struct in_addr ha = {ip(MN_HA)}, hoa = {ip(MN_HOA)};
	struct rbuf r;
	int rc;

	rb_init(&r, p, len);
	rc = mn_path_udp_decap(&r, ip(src), ha, hoa, in);
	assert_true(rc == 0 || r.failed);
	return rc;
}

static void mn_udp_decap(void **state)
{
	uint8_t in[64], msg[128];
	size_t n = packet(in, 20, 8, IPPROTO_UDP, "198.51.100.1", MN_HOA);
	size_t len = tunnel_udp_encap(msg, sizeof(msg), in, n);
	struct ip4_view v;

	assert_int_equal(udp_in(msg, len, MN_HA, &v), 0);
	assert_ptr_equal(v.pkt, msg + 4);
	assert_int_equal(v.len, n);
	assert_int_equal(udp_in(msg, len + 2, MN_HA, &v), 0);
	assert_int_equal(v.len, n);
	/* from elsewhere than the home agent */
	assert_int_equal(udp_in(msg, len, "10.10.0.3", &v), -1);
	/* header alone, cut short, wrong type or next header */
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(udp_in(msg, cut, MN_HA, &v), -1);
	msg[0] = MIP4_REG_REPLY;
	assert_int_equal(udp_in(msg, len, MN_HA, &v), -1);
	msg[0] = MIP4_TUNNEL_DATA;
	msg[1] = 41;
	assert_int_equal(udp_in(msg, len, MN_HA, &v), -1);
	msg[1] = MIP4_ENCAP_IPIP;
	/* for another address */
	n = packet(in, 20, 8, IPPROTO_UDP, "198.51.100.1", "10.10.0.101");
	len = tunnel_udp_encap(msg, sizeof(msg), in, n);
	assert_int_equal(udp_in(msg, len, MN_HA, &v), -1);
}

static void dotted_quads(void **state)
{
	const char *a = ip4_str(ip("10.1.2.3")), *b = ip4_str(ip("0.0.0.0"));

	/* distinct buffers: several in one log line */
	assert_string_equal(a, "10.1.2.3");
	assert_string_equal(b, "0.0.0.0");
	assert_string_equal(ip4_str(0xffffffffu), "255.255.255.255");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(checksum_known_vector),
	    cmocka_unit_test(valid_header_fields),
	    cmocka_unit_test(short_header),
	    cmocka_unit_test(bad_version),
	    cmocka_unit_test(ihl_below_five),
	    cmocka_unit_test(ihl_beyond_data),
	    cmocka_unit_test(total_below_header),
	    cmocka_unit_test(total_beyond_data),
	    cmocka_unit_test(trailing_padding_stays),
	    cmocka_unit_test(bad_checksum_reported),
	    cmocka_unit_test(options_covered),
	    cmocka_unit_test(capture_cut_short),
	    cmocka_unit_test(failed_reader_stays_failed),
	    cmocka_unit_test(ipip_roundtrip_and_decap),
	    cmocka_unit_test(udp_decap_and_keepalive),
	    cmocka_unit_test(mn_outbound),
	    cmocka_unit_test(mn_ipip_decap),
	    cmocka_unit_test(mn_udp_decap),
	    cmocka_unit_test(dotted_quads),
	};

	return cmocka_run_group_tests_name("ip4", tests, NULL, NULL);
}
