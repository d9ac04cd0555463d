/*
 * fuzz_mn_path.c - the mobile node's data path (mipd/mn_path.c) on
 * arbitrary bytes.  The first byte steers:
 *   bits 0-1  0 a packet read from mip0 (mn_path_outbound); 1 an IP-in-IP
 *             packet from the raw socket (mn_path_ipip_decap); 2 a tunnel
 *             data message (mn_path_udp_decap, then mn_keepalive_reply);
 *             3 the same through mn_path_udp_input, no TUN behind it
 *   bit 2     (2, 3) from a UDP source other than the home agent
 * Views must lie inside the input and name the home address; a message
 * from elsewhere than the home agent never passes.  Seeds in
 * tests/fuzz/corpus/mn_path/.
 */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/ip4.h"
#include "common/log.h"
#include "mipd/mn_int.h"

#define HOA 0x0a0a0064u /* 10.10.0.100 */
#define HA  0x0a0a0002u /* 10.10.0.2 */

static struct eloop *loop;
static struct mn_conf conf;
static struct mn_path path;

static int no_send(void *arg, const uint8_t *pkt, size_t len)
{
	return -1;
}

static void init(void)
{
	struct in_addr hoa = {htonl(HOA)}, ha = {htonl(HA)};

	if (loop)
		return;
	log_init("fuzz_mn_path", true); /* syslog: quiet */
	log_set_level(NULL, L_ERR);
	loop = eloop_new();
	if (!loop)
		abort();
	conf.home = hoa;
	conf.ha = ha;
	path.conf = &conf;
	path.loop = loop;
	path.tun_fd = path.raw_fd = path.udp_fd = -1;
	path.ha = ha;
	mn_keepalive_init(&path.ka, loop, no_send, NULL);
	mn_keepalive_start_at(&path.ka, hoa, ha, 20, 1);
	path.ka.ident = 0x4d49; /* not the PID's: seeds must replay */
}

static void inside(const struct ip4_view *v, const uint8_t *data, size_t size)
{
	if (v->pkt < data || v->len > size ||
	    (size_t)(v->pkt - data) > size - v->len || v->len < v->hlen ||
	    v->hlen < IP4_HDR_MIN || !v->csum_ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_path_stats before;
	uint64_t replies;
	struct ip4_view v;
	struct rbuf r;
	uint32_t src;
	uint8_t flags;

	init();
	if (size < 1 || size > 65536)
		return 0;
	flags = data[0];
	data++, size--;
	src = htonl(flags & 4 ? HA + 1 : HA);
	rb_init(&r, data, size);
	switch (flags & 3) {
	case 0:
		if (mn_path_outbound(&r, conf.home, &v) == 0) {
			inside(&v, data, size);
			if (v.src != conf.home.s_addr || v.pkt != data)
				abort();
		} else if (!r.failed) {
			abort();
		}
		break;
	case 1:
		if (mn_path_ipip_decap(&r, conf.ha, conf.home, &v) == 0) {
			inside(&v, data, size);
			if (v.dst != conf.home.s_addr)
				abort();
		} else if (!r.failed) {
			abort();
		}
		break;
	case 2:
		if (mn_path_udp_decap(&r, src, conf.ha, conf.home, &v) == 0) {
			inside(&v, data, size);
			if (v.dst != conf.home.s_addr || src != conf.ha.s_addr)
				abort();
			(void)mn_keepalive_reply(&path.ka, &v);
		} else if (!r.failed) {
			abort();
		}
		break;
	default:
		/* no TUN: what is not a keepalive reply is dropped */
		before = path.st;
		replies = path.ka.replies;
		mn_path_udp_input(&path, data, size, src);
		if (path.st.rx_drop + path.ka.replies !=
		    before.rx_drop + replies + 1)
			abort();
		break;
	}
	return 0;
}
