/*
 * test_dp_inner.c - what the userspace data plane reads of an inner packet
 * (mobiked/dp_inner.c) for its traffic selectors: IPv4 through the one
 * IPv4 parser, IPv6's fixed header; ports only where they are; malformed
 * and cut-short packets refused; the packet's own length, not the buffer's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/ip4.h"
#include "mobiked/dp_inner.h"
#include "mobiked/esp.h"

static void set16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 UDP 10.77.0.2:5555 -> 10.78.0.5:7777 with payload bytes; the
 * header hl bytes long.  Returns the total length. */
static size_t v4(uint8_t *p, size_t hl, uint8_t proto, size_t payload)
{
	size_t tot = hl + 8 + payload;

	memset(p, 0, tot);
	p[0] = (uint8_t)(0x40 | hl / 4);
	set16(p + 2, tot);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x4d\x00\x02\x0a\x4e\x00\x05", 8);
	memset(p + 20, 0x01, hl - 20);
	set16(p + hl, 5555);
	set16(p + hl + 2, 7777);
	set16(p + 10, ip4_csum(p, hl));
	return tot;
}

/* IPv6 UDP fd00::2:5555 -> fd00::5:7777, payload after the UDP header. */
static size_t v6(uint8_t *p, uint8_t nh, size_t payload)
{
	size_t plen = 8 + payload;

	memset(p, 0, 40 + plen);
	p[0] = 0x60;
	set16(p + 4, plen);
	p[6] = nh;
	p[7] = 64;
	p[8] = 0xfd;
	p[23] = 2;
	p[24] = 0xfd;
	p[39] = 5;
	set16(p + 40, 5555);
	set16(p + 42, 7777);
	return 40 + plen;
}

static void refused(const uint8_t *p, size_t len)
{
	struct dp_inner in;

	memset(&in, 0xee, sizeof(in));
	assert_int_equal(dp_inner_parse(p, len, &in), -1);
	assert_int_equal(in.nh, 0);
	assert_int_equal(in.len, 0);
	assert_int_equal(in.src.family, 0);
	assert_false(in.has_ports);
}

static void ipv4_fields(void **state)
{
	uint8_t p[128];
	size_t n = v4(p, 24, IPPROTO_UDP, 4);
	struct dp_inner in;
	char a[IPADDR_STRLEN];

	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_int_equal(in.nh, ESP_NH_IPV4);
	assert_int_equal(in.len, n);
	assert_string_equal(ipaddr_str(&in.src, a), "10.77.0.2");
	assert_string_equal(ipaddr_str(&in.dst, a), "10.78.0.5");
	assert_int_equal(in.proto, IPPROTO_UDP);
	assert_true(in.has_ports);
	assert_int_equal(in.sport, 5555);
	assert_int_equal(in.dport, 7777);
	/* TFC padding after the packet: not part of it */
	memset(p + n, 0, 16);
	assert_int_equal(dp_inner_parse(p, n + 16, &in), 0);
	assert_int_equal(in.len, n);
	/* a later fragment, or ICMP: no ports */
	set16(p + 6, 0x0001);
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_false(in.has_ports);
	n = v4(p, 20, IPPROTO_ICMP, 0);
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_false(in.has_ports);
	/* ports cut off by the Total Length: unknown, not read past it */
	n = v4(p, 20, IPPROTO_TCP, 0);
	set16(p + 2, 22);
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_false(in.has_ports);
	assert_int_equal(in.len, 22);
}

static void ipv4_malformed(void **state)
{
	uint8_t p[128];
	size_t n = v4(p, 20, IPPROTO_UDP, 4);

	/* the Total Length past the data, IHL 4, IHL 15 (past the Total
	 * Length) */
	for (size_t cut = 0; cut < n; cut++)
		refused(p, cut);
	p[0] = 0x44;
	refused(p, n);
	p[0] = 0x4f;
	refused(p, n);
	p[0] = 0x45;
	set16(p + 2, 19); /* Total Length below the header */
	refused(p, n);
	p[0] = 0x55; /* version 5 */
	refused(p, n);
	refused(NULL, 0);
}

static void ipv6_fields(void **state)
{
	uint8_t p[128];
	size_t n = v6(p, IPPROTO_UDP, 4);
	struct dp_inner in;
	char a[IPADDR_STRLEN];

	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_int_equal(in.nh, ESP_NH_IPV6);
	assert_int_equal(in.len, n);
	assert_string_equal(ipaddr_str(&in.src, a), "fd00::2");
	assert_string_equal(ipaddr_str(&in.dst, a), "fd00::5");
	assert_true(in.has_ports);
	assert_int_equal(in.dport, 7777);
	assert_int_equal(dp_inner_parse(p, n + 9, &in), 0);
	assert_int_equal(in.len, n);
	/* an extension header first: ports unknown */
	n = v6(p, 0 /* hop-by-hop */, 4);
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_false(in.has_ports);
	/* a header alone is a packet */
	n = v6(p, IPPROTO_UDP, 0);
	set16(p + 4, 0);
	assert_int_equal(dp_inner_parse(p, 40, &in), 0);
	assert_false(in.has_ports);
	assert_int_equal(in.len, 40);
}

static void ipv6_malformed(void **state)
{
	uint8_t p[128];
	size_t n = v6(p, IPPROTO_UDP, 4);

	for (size_t cut = 0; cut < n; cut++)
		refused(p, cut); /* Payload Length past the data */
	set16(p + 4, 0xffff);
	refused(p, n);
}

static void selectors(void **state)
{
	uint8_t p[128];
	size_t n = v4(p, 20, IPPROTO_UDP, 0);
	struct dp_ts ts[2];
	struct dp_inner in;

	memset(ts, 0, sizeof(ts));
	assert_int_equal(ipaddr_parse(&ts[0].start, "10.78.0.0"), 0);
	assert_int_equal(ipaddr_parse(&ts[0].end, "10.78.255.255"), 0);
	ts[0].port_hi = 0xffff;
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_true(dp_ts_match(ts, 1, &in, false));
	assert_false(dp_ts_match(ts, 1, &in, true));
	/* a port range: only with the ports known */
	ts[1] = ts[0];
	ts[0].port_lo = ts[0].port_hi = 7778;
	ts[1].port_lo = ts[1].port_hi = 7777;
	assert_false(dp_ts_match(ts, 1, &in, false));
	assert_true(dp_ts_match(ts, 2, &in, false));
	set16(p + 6, 0x0001); /* a later fragment */
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	assert_false(dp_ts_match(ts, 2, &in, false));
	/* the protocol, and the family */
	ts[1].port_lo = 0;
	ts[1].port_hi = 0xffff;
	ts[1].proto = IPPROTO_TCP;
	assert_false(dp_ts_match(ts, 2, &in, false));
	n = v6(p, IPPROTO_UDP, 0);
	assert_int_equal(dp_inner_parse(p, n, &in), 0);
	ts[1].proto = 0;
	assert_false(dp_ts_match(ts, 2, &in, false));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(ipv4_fields), cmocka_unit_test(ipv4_malformed),
	    cmocka_unit_test(ipv6_fields), cmocka_unit_test(ipv6_malformed),
	    cmocka_unit_test(selectors),
	};

	return cmocka_run_group_tests_name("dp_inner", tests, NULL, NULL);
}
