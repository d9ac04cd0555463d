/*
 * fuzz_mn.c - the mobile node's inputs on arbitrary bytes: Registration
 * Replies into the registration state machine (mn_reg_input, from the
 * foreign agent of the attempt, so its own denials are reachable) and Agent
 * Advertisements into the policy engine (mn_agent_input).
 *
 * Two state machines, one with timestamps and one with nonces, always
 * have a request out (one is started when none is).  The first byte
 * steers:
 *   bits 0-1  0 the rest as a reply, as it is; 1 a reply the harness
 *             builds to answer the request that is out: byte 1 the code,
 *             2-3 the Lifetime, 4-7 the Home Agent field, 8-11 the high
 *             half of the Identification, the rest extensions; 2 the rest
 *             as an IP datagram on the ICMP socket; 3 fire a timer
 *             (byte 1: 0 retransmission, 1 renewal, 2 expiry)
 *   bit 2     the nonce state machine
 *   bit 3     mode 1: sign the reply with the node's key
 *   bits 4-5  the path of a request the harness starts (co-located, via
 *             FA, via VPN, deregistration)
 * Seeds in tests/fuzz/corpus/mn/.
 */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/eloop.h"
#include "common/log.h"
#include "mipd/mn_int.h"
#include "mipd/mn_reg.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"
#include "policy/policy.h"

static const struct reg_sa sa_ts = {
    .spi = 0x1000,
    .alg = REG_ALG_HMAC_MD5,
    .key = (const uint8_t *)"0123456789abcdef",
    .key_len = 16,
    .replay = REG_REPLAY_TIMESTAMP,
};

static struct eloop *loop;
static struct mn_reg reg[2];
static uint64_t last_id[2];
static struct mn_conf mconf;
static struct mn_agent agent;
static struct policy pol;

static int fake_send(void *arg, const struct mn_reg_target *t,
		     const uint8_t *pkt, size_t len)
{
	uint64_t *last = arg;
	struct reg_msg m;

	/* whatever the machine sends must be a request we can parse */
	if (reg_parse_request(&m, pkt, len) != REG_OK)
		abort();
	*last = m.rq.id;
	return 0;
}

static void on_adv(void *arg, const struct policy_ev *ev)
{
	struct policy_action out[POLICY_MAX_ACTIONS];

	if (policy_event(&pol, ev, out, POLICY_MAX_ACTIONS) < 0)
		abort();
}

static void init(void)
{
	struct policy_conf pc = {0};

	if (loop)
		return;
	log_init("fuzz_mn", true); /* syslog: quiet */
	log_set_level(NULL, L_ERR);
	loop = eloop_new();
	if (!loop)
		abort();
	for (int i = 0; i < 2; i++) {
		struct mn_reg_conf c = {.sa = sa_ts,
					.lifetime = 60,
					.tries = 3,
					.reverse_tunnel = true,
					.udp_tunnel = true};
		struct mn_reg_io io = {.send = fake_send, .arg = &last_id[i]};

		c.home.s_addr = htonl(0x0a010032); /* 10.1.0.50 */
		c.ha.s_addr = htonl(0x0a010001);
		if (i)
			c.sa.replay = REG_REPLAY_NONCE;
		if (mn_reg_init(&reg[i], loop, &c, &io) < 0)
			abort();
	}
	mconf.ha.s_addr = htonl(0x0a010001);
	agent.conf = &mconf;
	agent.loop = loop;
	agent.fd = -1;
	agent.cb = on_adv;
	policy_init(&pol, &pc);
}

static void start(struct mn_reg *r, uint8_t flags)
{
	static const enum mn_reg_path paths[] = {MN_REG_DIRECT, MN_REG_VIA_FA,
						 MN_REG_VIA_VPN, MN_REG_HOME};
	struct mn_reg_target t = {.path = paths[(flags >> 4) & 3]};

	t.coa.s_addr = htonl(0x0a020001);
	t.fa = t.coa;
	if (t.path == MN_REG_HOME)
		mn_reg_deregister(r);
	else
		mn_reg_start(r, &t);
}

/* A reply to the request that is out, fields and extensions from data. */
static void crafted(struct mn_reg *r, uint64_t id, const uint8_t *d, size_t n,
		    bool signed_)
{
	struct reg_reply rp = {.home = r->conf.home};
	uint8_t buf[1024];
	struct reg_builder b;
	struct wbuf w;
	size_t len;

	if (n < 11 || n > 512)
		return;
	rp.code = d[0];
	rp.lifetime = (uint16_t)(d[1] << 8 | d[2]);
	memcpy(&rp.ha.s_addr, d + 3, 4);
	rp.id = (uint64_t)((uint32_t)d[7] << 24 | (uint32_t)d[8] << 16 |
			   (uint32_t)d[9] << 8 | d[10])
		    << 32 |
		(uint32_t)id;
	wb_init(&w, buf, sizeof(buf));
	reg_build_reply(&b, &w, &rp);
	wb_bytes(&w, d + 11, n - 11);
	if (signed_)
		reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &r->conf.sa);
	if (reg_build_end(&b, &len) == REG_OK)
		mn_reg_input(r, buf, len, r->target.fa);
}

static void fire(struct timer *t)
{
	if (!timer_armed(t))
		return;
	timer_cancel(loop, t);
	t->cb(t->owner);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mn_reg *r;
	uint8_t flags;
	int i;

	init();
	if (size < 1 || size > 4096)
		return 0;
	flags = data[0];
	i = (flags >> 2) & 1;
	r = &reg[i];
	if (!timer_armed(&r->t_retx))
		start(r, flags);
	switch (flags & 3) {
	case 0:
		mn_reg_input(r, data + 1, size - 1, r->target.fa);
		break;
	case 1:
		crafted(r, last_id[i], data + 1, size - 1, flags & 8);
		break;
	case 2:
		mn_agent_input(&agent, data + 1, size - 1);
		break;
	default:
		if (size >= 2)
			fire(data[1] % 3 == 0	? &r->t_retx
			     : data[1] % 3 == 1 ? &r->t_renew
						: &r->t_expire);
		break;
	}
	return 0;
}
