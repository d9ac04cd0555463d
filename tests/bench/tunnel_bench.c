/*
 * tunnel_bench.c - CPU cost of the tunnel's per-packet header work, in
 * process, no sockets.  A benchmark, not a test: it asserts nothing.
 *
 * Per packet size (a 20-byte header plus payload):
 *   check    tunnel_ip_check(): the header parsed (ip4_parse) and its
 *            checksum verified - what the forward path does to a packet
 *            read from the TUN before the binding lookup
 *   src      tunnel_src_check(): the same plus the reverse-tunnel source
 *            check against a binding (the decapsulation path)
 *   encap    tunnel_ipip_encap(): the outer header built and the packet
 *            copied behind it
 *   ref      memcpy of the same bytes: the floor of encap
 * Each figure is the best of five runs of 2M packets, in ns per packet.
 *
 * Run: make bench, or build/bench/tunnel_bench
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "mipd/tunnel.h"

#define RUNS 5
#define OPS  2000000u

static struct binding bound;
static volatile size_t sink;

static const struct binding *lookup(void *arg, uint32_t hoa)
{
	return hoa == bound.info.hoa ? &bound : NULL;
}

/* Its own checksum, so the bench also links against older tunnel code. */
static uint16_t csum20(const uint8_t *p)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < 20; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static size_t make_packet(uint8_t *p, size_t len)
{
	uint32_t src = htonl(0x0a0a0064), dst = htonl(0xc6336401);
	uint16_t sum;

	memset(p, 0x5a, len);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[6] = 0x40;
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	p[10] = p[11] = 0;
	memcpy(p + 12, &src, 4);
	memcpy(p + 16, &dst, 4);
	sum = csum20(p);
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	bound.info.hoa = src;
	return len;
}

enum what { CHECK, SRC, ENCAP, REF };

static double once(enum what w, const uint8_t *p, size_t len)
{
	static uint8_t out[2048];
	uint32_t coa = bound.info.coa;
	uint64_t t0 = mono_ns();
	size_t acc = 0;

	for (unsigned i = 0; i < OPS; i++) {
		switch (w) {
		case CHECK:
			acc += tunnel_ip_check(p, len);
			break;
		case SRC:
			acc += tunnel_src_check(lookup, NULL, p, len, coa, 0) !=
			       NULL;
			break;
		case ENCAP:
			acc += tunnel_ipip_encap(out, sizeof(out), p, len, coa,
						 coa, (uint16_t)i);
			break;
		case REF:
			memcpy(out + 20, p, len);
			acc += out[20 + (i & 15)];
			break;
		}
	}
	sink += acc;
	return (double)(mono_ns() - t0) / OPS;
}

static double best(enum what w, const uint8_t *p, size_t len)
{
	double b = 0;

	for (int i = 0; i < RUNS; i++) {
		double v = once(w, p, len);

		if (i == 0 || v < b)
			b = v;
	}
	return b;
}

int main(void)
{
	static const size_t sizes[] = {28, 84, 576, 1400};
	uint8_t pkt[1500];

	bound.info.coa = htonl(0x0a140005);
	bound.info.encap = BCACHE_ENCAP_IPIP;
	printf("tunnel per-packet header work, one core, in process; ns per "
	       "packet (best of %d x %u)\n",
	       RUNS, OPS);
	printf("%6s %7s %7s %7s %7s\n", "bytes", "check", "src", "encap",
	       "ref");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = make_packet(pkt, sizes[i]);

		printf("%6zu %7.1f %7.1f %7.1f %7.1f\n", n, best(CHECK, pkt, n),
		       best(SRC, pkt, n), best(ENCAP, pkt, n),
		       best(REF, pkt, n));
	}
	printf("check = tunnel_ip_check (parse + checksum), src = "
	       "tunnel_src_check (that + binding check), encap = "
	       "tunnel_ipip_encap;\nref = memcpy of the packet (encap's "
	       "floor).\n");
	return 0;
}
