/*
 * fuzz_ha.c - the home agent's whole request path, ha_handle(), on
 * arbitrary bytes.  Two home agents without a data plane serve two nodes
 * (10.10.0.100: HMAC-MD5, 10.10.0.101: keyed MD5), one with timestamps,
 * one with nonces.  The first byte steers:
 *   bit 0    the nonce home agent instead of the timestamp one
 *   bit 1    the request came from behind a NAT (source != CoA)
 *   bit 2    sign: the rest is a request without its authenticator; the
 *            harness appends a valid MN-HA extension (node: bit 3)
 *   bit 4    with bit 2: a fresh Identification (a timestamp in the window,
 *            or the nonce the HA expects), so the checks past 133 run
 * Every reply must parse; the cache never holds more than the two nodes.
 * Seeds in tests/fuzz/corpus/ha/.
 */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/eloop.h"
#include "common/log.h"
#include "mipd/ha.h"
#include "mipd/ha_int.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define MAXMSG 2048

static struct eloop *loop;
static struct ha_conf conf[2];
static struct ha *ha[2];
static uint64_t last_ts;

static void add_mn(struct ha_conf *c, size_t i, uint32_t hoa, uint32_t spi,
		   uint8_t alg, const char *key)
{
	c->mns[i].hoa.s_addr = htonl(hoa);
	c->mns[i].spi = spi;
	c->mns[i].alg = alg;
	if (ha_conf_set_key(c, &c->mns[i], key, strlen(key)) < 0)
		abort();
}

static void make(size_t n, enum reg_replay_mode mode)
{
	struct ha_conf *c = &conf[n];

	ha_conf_defaults(c);
	c->address.s_addr = htonl(0x0a0a0002); /* 10.10.0.2 */
	c->prefix.s_addr = htonl(0x0a0a0000);
	c->plen = 24;
	c->replay = mode;
	c->rate = 0;
	c->max_simultaneous = 1;
	c->reverse_tunnel = n ? HA_REVTUN_REQUIRED : HA_REVTUN_OFFERED;
	c->mns = calloc(2, sizeof(*c->mns));
	if (!c->mns)
		abort();
	c->nmns = 2;
	add_mn(c, 0, 0x0a0a0064, 256, REG_ALG_HMAC_MD5, "0123456789abcdef");
	add_mn(c, 1, 0x0a0a0065, 257, REG_ALG_KEYED_MD5, "legacy");
	if (n)
		c->mns[1].flags = MN_ENTRY_DISABLED;
	ha[n] = ha_new(loop, c, false);
	if (!ha[n])
		abort();
}

static void init(void)
{
	if (loop)
		return;
	/* to syslog, i.e. nowhere here: a denial logs on every input */
	log_init("fuzz_ha", true);
	log_set_level(NULL, L_ERR);
	loop = eloop_new();
	if (!loop)
		abort();
	make(0, REG_REPLAY_TIMESTAMP);
	make(1, REG_REPLAY_NONCE);
}

/* The request with a fresh Identification and a valid authenticator. */
static size_t sign(struct ha *h, uint8_t flags, const uint8_t *data,
		   size_t size, uint8_t *out)
{
	size_t node = (flags >> 3) & 1, len = 0;
	const struct ha_conf *c = h->conf;
	struct reg_sa sa = mn_entry_sa(c, &c->mns[node]);
	struct reg_builder b;
	struct wbuf w;

	if (size < MIP4_RRQ_LEN || size > MAXMSG - 64)
		return 0;
	memcpy(out, data, size);
	if (flags & 0x10) {
		uint64_t id;

		if (c->replay == REG_REPLAY_NONCE) {
			id = (uint64_t)h->mns[node].rp.nonce << 32 |
			     (uint32_t)reg_ntp_now();
		} else {
			id = reg_ntp_now();
			if (id <= last_ts)
				id = last_ts + 1;
			last_ts = id;
		}
		for (int i = 0; i < 8; i++)
			out[16 + i] = (uint8_t)(id >> (56 - 8 * i));
	}
	wb_init(&w, out, MAXMSG);
	w.len = size;
	b.w = &w;
	b.start = 0;
	b.failed = false;
	if (reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa) != REG_OK ||
	    reg_build_end(&b, &len) != REG_OK)
		return 0;
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[MAXMSG], reply[MAXMSG];
	struct ha_from from = {
	    .src = htonl(0x0a140005), .sport = 434, .dst = htonl(0x0a0a0002)};
	struct reg_msg m;
	struct ha *h;
	uint8_t flags;
	size_t n;

	init();
	if (size < 1 || size > MAXMSG)
		return 0;
	flags = data[0];
	h = ha[flags & 1];
	data++, size--;
	if (size >= 20)
		memcpy(&from.src, data + 12, 4); /* the CoA: no NAT */
	if (flags & 2)
		from.src ^= htonl(0x00010000);
	if (flags & 4) {
		size = sign(h, flags, data, size, msg);
		if (!size)
			return 0;
		data = msg;
	}
	n = ha_handle(h, data, size, &from, reply, sizeof(reply));
	if (n && reg_parse_reply(&m, reply, n) != REG_OK)
		abort(); /* we must never send what we cannot parse */
	if (bcache_count(ha_bcache(h)) > 2)
		abort();
	return 0;
}
