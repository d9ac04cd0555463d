/*
 * task_config.c - the configuration payload in IKE_AUTH (RFC 7296 2.19,
 * 3.15): CFG_REQUEST for the tunnel inner address(es) and DNS servers,
 * and the CFG_REPLY recorded into the SA for the data plane and status.
 */
#define LOG_TAG "ike"

#include <string.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

static void attr(struct ike_cp *cp, uint16_t type, const void *v, size_t n)
{
	if (cp->nattr >= IKE_MAX_CP_ATTRS)
		return;
	cp->attr[cp->nattr].type = type;
	cp->attr[cp->nattr].value.p = v;
	cp->attr[cp->nattr].value.len = n;
	cp->nattr++;
}

static bool is_any(const struct ipaddr *a)
{
	static const uint8_t zero[16];

	return !memcmp(a->b, zero, ipaddr_len(a));
}

/* 3.15.1: an empty value asks for any address; INTERNAL_IP6_ADDRESS
 * carries address + prefix length (17 octets). */
static int config_build(struct ike_engine *e, struct ike_builder *b)
{
	const struct mobiked_conf *c = e->conf;
	struct ike_cp cp = {.type = IKE_CFG_REQUEST};
	uint8_t v6[CONF_MAX_VIPS][17];
	bool v4 = false, want6 = false;

	if (!c->n_vip)
		return 0;
	for (size_t i = 0; i < c->n_vip; i++) {
		const struct ipaddr *a = &c->vip[i];

		if (a->family == AF_INET) {
			v4 = true;
			attr(&cp, IKE_CA_INTERNAL_IP4_ADDRESS, a->b,
			     is_any(a) ? 0 : 4);
		} else {
			want6 = true;
			memcpy(v6[i], a->b, 16);
			v6[i][16] = 128;
			attr(&cp, IKE_CA_INTERNAL_IP6_ADDRESS, v6[i],
			     is_any(a) ? 0 : 17);
		}
	}
	if (c->request_dns && v4)
		attr(&cp, IKE_CA_INTERNAL_IP4_DNS, NULL, 0);
	if (c->request_dns && want6)
		attr(&cp, IKE_CA_INTERNAL_IP6_DNS, NULL, 0);
	ike_build_cp(b, &cp);
	return b->failed ? -1 : 0;
}

static void add_dns(struct ike_sa *sa, int family, const uint8_t *p)
{
	struct ipaddr *d;

	if (sa->ndns >= IKE_MAX_DNS)
		return;
	d = &sa->dns[sa->ndns++];
	memset(d, 0, sizeof(*d));
	d->family = family;
	memcpy(d->b, p, family == AF_INET ? 4 : 16);
}

static void take_attr(struct ike_sa *sa, const struct ike_cp_attr *a)
{
	const uint8_t *v = a->value.p;

	switch (a->type) {
	case IKE_CA_INTERNAL_IP4_ADDRESS:
		if (a->value.len == 4) {
			sa->vip4.family = AF_INET;
			memcpy(sa->vip4.b, v, 4);
		}
		break;
	case IKE_CA_INTERNAL_IP6_ADDRESS:
		if (a->value.len == 17) {
			sa->vip6.family = AF_INET6;
			memcpy(sa->vip6.b, v, 16);
		}
		break;
	case IKE_CA_INTERNAL_IP4_DNS:
		if (a->value.len == 4)
			add_dns(sa, AF_INET, v);
		break;
	case IKE_CA_INTERNAL_IP6_DNS:
		if (a->value.len == 16)
			add_dns(sa, AF_INET6, v);
		break;
	default:
		break; /* 3.15.1: attributes we did not ask for are ignored */
	}
}

static int fail(struct ike_engine *e, const char *why)
{
	log_err("IKE_AUTH: %s", why);
	snprintf(e->last_error, sizeof(e->last_error), "IKE_AUTH: %s", why);
	return TASK_FAILED;
}

static int config_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_sa *sa = &e->sa;
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];

	if (!e->conf->n_vip)
		return TASK_DONE;
	if (ike_find_notify(m, IKE_N_INTERNAL_ADDRESS_FAILURE))
		return fail(e, "INTERNAL_ADDRESS_FAILURE: the gateway has no "
			       "inner address for us");
	if (ike_find_notify(m, IKE_N_FAILED_CP_REQUIRED))
		return fail(e, "FAILED_CP_REQUIRED");
	if (m->has_cp && m->cp.type == IKE_CFG_REPLY)
		for (unsigned i = 0; i < m->cp.nattr; i++)
			take_attr(sa, &m->cp.attr[i]);
	if (sa->vip4.family == AF_UNSPEC && sa->vip6.family == AF_UNSPEC)
		return fail(e, "no inner address in the gateway's CFG_REPLY");
	log_info("tunnel inner address %s %s, %u DNS server(s)",
		 ipaddr_str(&sa->vip4, a), ipaddr_str(&sa->vip6, b), sa->ndns);
	return TASK_DONE;
}

const struct task task_config = {
    .name = "ike-config",
    .build_i = config_build,
    .process_i = config_process,
};
