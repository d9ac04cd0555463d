/*
 * fuzz_dp.c - what mobiked's userspace data plane reads of arbitrary
 * bytes, each input both ways:
 *   - as a datagram on port 4500, told apart (ike_4500_kind): IKE after
 *     the non-ESP marker, a NAT keepalive, or ESP for the data plane;
 *   - as an inner packet read from the TUN or decrypted (dp_inner_parse),
 *     then matched against IPv4 and IPv6 traffic selectors.
 * What is reported must lie inside the input and agree with its bytes.
 * Seeds in tests/fuzz/corpus/dp/.
 */
#include "tests/fuzz/fuzz.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "mobiked/dp_inner.h"
#include "mobiked/esp.h"
#include "mobiked/ike.h"

static void datagram(const uint8_t *data, size_t size)
{
	static const uint8_t marker[4];
	struct rbuf r;

	rb_init(&r, data, size);
	switch (ike_4500_kind(&r)) {
	case IKE_4500_KEEPALIVE:
		if (size != 1 || data[0] != 0xff)
			abort();
		break;
	case IKE_4500_IKE:
		if (size < 4 || memcmp(data, marker, 4) || r.failed ||
		    rb_left(&r) != size - 4)
			abort();
		break;
	case IKE_4500_ESP:
		if (r.failed || rb_left(&r) != size ||
		    (size >= 4 && !memcmp(data, marker, 4)))
			abort();
		break;
	default:
		abort();
	}
}

static struct dp_ts ts[4];

static void ts_init(void)
{
	if (ts[0].start.family)
		return;
	ipaddr_parse(&ts[0].start, "10.0.0.0");
	ipaddr_parse(&ts[0].end, "10.255.255.255");
	ts[0].port_hi = 0xffff;
	ts[1] = ts[0];
	ts[1].proto = IPPROTO_UDP;
	ts[1].port_lo = 1000;
	ts[1].port_hi = 2000;
	ipaddr_parse(&ts[2].start, "fd00::");
	ipaddr_parse(&ts[2].end, "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ts[2].port_hi = 0xffff;
	ts[3] = ts[2];
	ts[3].proto = IPPROTO_TCP;
	ts[3].port_lo = ts[3].port_hi = 443;
}

static void inner(const uint8_t *data, size_t size)
{
	struct dp_inner in;
	int family;
	size_t min;

	if (dp_inner_parse(data, size, &in) < 0) {
		if (in.nh || in.len || in.src.family || in.has_ports)
			abort();
		return;
	}
	if (in.nh == ESP_NH_IPV4) {
		family = AF_INET;
		min = 20;
	} else if (in.nh == ESP_NH_IPV6) {
		family = AF_INET6;
		min = 40;
	} else {
		abort();
	}
	if (in.len < min || in.len > size || in.src.family != family ||
	    in.dst.family != family || esp_next_header(data, size) != in.nh)
		abort();
	if (in.has_ports && in.proto != IPPROTO_TCP &&
	    in.proto != IPPROTO_UDP && in.proto != IPPROTO_SCTP)
		abort();
	ts_init();
	(void)dp_ts_match(ts, 4, &in, true);
	(void)dp_ts_match(ts, 4, &in, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 70000)
		return 0;
	datagram(data, size);
	inner(data, size);
	return 0;
}
