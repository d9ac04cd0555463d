/*
 * fa_adv.c - the foreign agent's agent discovery (RFC 5944 2.1-2.3) on
 * agent_adv.c: F bit, T when reverse tunnelling is offered (RFC 3024 3.3),
 * R when registration through us is required, B while the visitor list is
 * full, our care-of address.
 *
 * ICMP code 0, not 16: this foreign agent is also the link's router (the
 * lab's FA subnet has no other), and RFC 5944 2.1 keeps code 16 for an
 * agent that does not route common traffic.
 */
#define LOG_TAG "fa"

#include <stdio.h>
#include <string.h>

#include "mipd/fa_int.h"

static uint16_t busy(void *arg)
{
	const struct fa *f = arg;

	/* RFC 5944 2.1.1: busy, no new visitors */
	return f->nvisitors >= f->conf->max_visitors ? MIP4_ADV_B : 0;
}

void fa_adv_cfg(const struct fa *f, struct agent_adv_cfg *c)
{
	const struct fa_conf *fc = f->conf;

	memset(c, 0, sizeof(*c));
	snprintf(c->ifname, sizeof(c->ifname), "%s", fc->interface);
	c->ifindex = f->ifindex;
	c->addr = f->addr;
	c->plen = f->plen;
	c->code = MIP4_ADV_CODE_ROUTER;
	c->flags = MIP4_ADV_F;
	if (fc->reverse_tunnel)
		c->flags |= MIP4_ADV_T;
	if (fc->reg_required)
		c->flags |= MIP4_ADV_R;
	c->reg_lifetime = fc->reg_lifetime;
	c->coa = f->coa;
	c->interval_ms = fc->adv_interval_ms;
	c->lifetime = fc->adv_lifetime;
	c->prefix_lengths = fc->prefix_lengths;
	c->extra_flags = busy;
	c->arg = (void *)f;
}

void fa_advertise(struct fa *f)
{
	agent_adv_send(&f->adv);
}

int fa_adv_open(struct fa *f)
{
	struct agent_adv_cfg c;

	fa_adv_cfg(f, &c);
	c.sent = &f->st.adv_sent;
	c.sol_rx = &f->st.sol_rx;
	c.send_err = &f->st.send_err;
	return agent_adv_open(&f->adv, f->loop, &c);
}

void fa_adv_close(struct fa *f)
{
	agent_adv_close(&f->adv);
}
