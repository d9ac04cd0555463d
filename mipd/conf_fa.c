/*
 * conf_fa.c - the foreign agent's `fa` group of mipd.conf into struct
 * fa_conf (conf.h).  Every key has a default, so `role = "fa";` alone
 * passes `mipd -t`; the interface is checked when the role starts.
 *
 *   fa = {
 *     interface = "br-fa";          # the visited link (required to run)
 *     address = "10.30.0.1";        # default: the interface's address
 *     care_of_address = "10.30.0.1";# default: address
 *     tunnel = "mipfa0";            # TUN of the tunnels to home agents
 *     advertise_interval = 1;       # s; 0 = answer solicitations only
 *     adv_lifetime = 3;             # s; >= 3 x advertise_interval
 *     prefix_lengths = true;        # Prefix-Lengths extension (conf.h)
 *     registration_lifetime = 1800; # longest lifetime relayed (69 above)
 *     reverse_tunnel = true;        # T bit (RFC 3024)
 *     reverse_tunnel_required = false; # 75 for requests without T
 *     registration_required = false;   # R bit (RFC 5944 2.1.1)
 *     max_visitors = 1024;
 *     pending_timeout = 7;          # s until the MN gets 78
 *     route_table = 434;  rule_priority = 434;  # reverse tunnelling
 *     home_agents = [ "10.10.0.0/24" ]; # home agents served (else 65)
 *   };
 */
#include "mipd/conf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const char *const fa_keys[] = {
    "interface",
    "address",
    "care_of_address",
    "tunnel",
    "advertise_interval",
    "adv_lifetime",
    "prefix_lengths",
    "registration_lifetime",
    "reverse_tunnel",
    "reverse_tunnel_required",
    "registration_required",
    "max_visitors",
    "pending_timeout",
    "route_table",
    "rule_priority",
    "home_agents",
    NULL,
};

void fa_conf_defaults(struct fa_conf *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->tunnel, sizeof(f->tunnel), "mipfa0");
	f->port = MIP4_PORT;
	f->ha_port = MIP4_PORT;
	f->adv_interval_ms = FA_ADV_INTERVAL_DEFAULT * 1000;
	f->prefix_lengths = true;
	f->reg_lifetime = FA_REG_LIFETIME_DEFAULT;
	f->reverse_tunnel = true;
	f->max_visitors = FA_MAX_VISITORS_DEFAULT;
	f->pending_ms = FA_PENDING_TIMEOUT_DEFAULT * 1000;
	f->table = FA_TABLE_DEFAULT;
	f->rule_priority = FA_TABLE_DEFAULT;
}

static void fa_v4(struct cfg *c, const config_setting_t *g, const char *key,
		  struct in_addr *out)
{
	struct ipaddr a = {.family = AF_UNSPEC};

	if (cfg_addr(c, g, key, &a, false) < 0 || a.family == AF_UNSPEC)
		return;
	if (a.family != AF_INET) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' must be an IPv4 address: Mobile IPv4 "
			  "(RFC 5944) carries only IPv4",
			  key);
		return;
	}
	*out = a.v4;
}

static void fa_ifname(struct cfg *c, const config_setting_t *g, const char *key,
		      char out[IFNAMSIZ])
{
	const char *s = NULL;

	if (cfg_str(c, g, key, &s, false) < 0 || !s)
		return;
	if (strlen(s) == 0 || strlen(s) >= IFNAMSIZ || strchr(s, '/')) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' = \"%s\" is not an interface name (1-%d "
			  "characters, no '/')",
			  key, s, IFNAMSIZ - 1);
		return;
	}
	snprintf(out, IFNAMSIZ, "%s", s);
}

static bool fa_uint(struct cfg *c, const config_setting_t *g, const char *key,
		    uint32_t *out, long long min, long long max)
{
	long long v;

	if (!config_setting_get_member(g, key) ||
	    cfg_int(c, g, key, &v, min, max, false) < 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* RFC 5944 2.3.1 / RFC 1256: the ICMP Lifetime SHOULD be at least three
 * intervals, so a lost advertisement or two do not make every mobile
 * node think the agent vanished. */
static void check_lifetimes(struct cfg *c, const config_setting_t *g,
			    struct fa_conf *f)
{
	if (f->adv_lifetime && f->adv_interval_ms &&
	    f->adv_lifetime * 1000u < 3 * f->adv_interval_ms)
		cfg_error(c, config_setting_get_member(g, "adv_lifetime"),
			  "'adv_lifetime' (%u s) is shorter than 3 x "
			  "'advertise_interval' (%u s): use at least %u",
			  f->adv_lifetime, f->adv_interval_ms / 1000,
			  3 * f->adv_interval_ms / 1000);
}

static void load_numbers(struct cfg *c, const config_setting_t *g,
			 struct fa_conf *f)
{
	uint32_t v;

	if (fa_uint(c, g, "advertise_interval", &v, 0, 1800))
		f->adv_interval_ms = v * 1000;
	if (fa_uint(c, g, "adv_lifetime", &v, 1, 9000))
		f->adv_lifetime = (uint16_t)v; /* RFC 1256 3: <= 9000 s */
	/* 0xffff is "infinite" on the wire: never a foreign agent's cap */
	if (fa_uint(c, g, "registration_lifetime", &v, 1, 0xfffe))
		f->reg_lifetime = (uint16_t)v;
	fa_uint(c, g, "max_visitors", &f->max_visitors, 1, 1u << 20);
	if (fa_uint(c, g, "pending_timeout", &v, 1, 600))
		f->pending_ms = v * 1000;
	fa_uint(c, g, "route_table", &f->table, 1, 0xfffffffe);
	fa_uint(c, g, "rule_priority", &f->rule_priority, 1, 32765);
}

static void home_agent_entry(struct cfg *c, const config_setting_t *e,
			     struct fa_conf *f)
{
	const char *s = config_setting_get_string(e);
	struct ipaddr a;
	unsigned plen;

	if (!s || ipprefix_parse(&a, &plen, s) < 0 || a.family != AF_INET) {
		cfg_error(c, e,
			  "each of 'home_agents' is an IPv4 address or "
			  "prefix in quotes, e.g. \"10.10.0.2\" or "
			  "\"10.10.0.0/24\"");
		return;
	}
	f->ha_allow[f->nha_allow].mask =
	    plen ? ~(0xffffffffu >> (plen - 1) >> 1) : 0;
	f->ha_allow[f->nha_allow].net =
	    ntohl(a.v4.s_addr) & f->ha_allow[f->nha_allow].mask;
	f->nha_allow++;
}

/* RFC 5944 3.7.2.1 "administratively prohibited": which home agents the
 * visitors may register with. */
static void load_home_agents(struct cfg *c, const config_setting_t *g,
			     struct fa_conf *f)
{
	const config_setting_t *l = config_setting_get_member(g, "home_agents");
	int n;

	if (!l)
		return;
	if (!config_setting_is_array(l) && !config_setting_is_list(l)) {
		cfg_error(c, l,
			  "'home_agents' must be a list: home_agents = "
			  "[ \"10.10.0.0/24\" ];");
		return;
	}
	n = config_setting_length(l);
	if (n > FA_MAX_HOME_AGENTS) {
		cfg_error(c, l,
			  "'home_agents' has %d entries; at most %d (use "
			  "prefixes)",
			  n, FA_MAX_HOME_AGENTS);
		return;
	}
	for (int i = 0; i < n; i++)
		home_agent_entry(c, config_setting_get_elem(l, (unsigned)i), f);
}

void fa_conf_load(struct cfg *c, struct fa_conf *f)
{
	const config_setting_t *g = cfg_group(c, NULL, "fa", false);

	if (!g)
		return;
	cfg_keys(c, g, fa_keys);
	fa_ifname(c, g, "interface", f->interface);
	fa_v4(c, g, "address", &f->address);
	fa_v4(c, g, "care_of_address", &f->coa);
	fa_ifname(c, g, "tunnel", f->tunnel);
	load_numbers(c, g, f);
	cfg_bool(c, g, "reverse_tunnel", &f->reverse_tunnel, false);
	cfg_bool(c, g, "reverse_tunnel_required", &f->reverse_required, false);
	cfg_bool(c, g, "registration_required", &f->reg_required, false);
	cfg_bool(c, g, "prefix_lengths", &f->prefix_lengths, false);
	if (f->reverse_required && !f->reverse_tunnel)
		cfg_error(c, config_setting_get_member(g, "reverse_tunnel"),
			  "'reverse_tunnel_required' needs 'reverse_tunnel' "
			  "= true");
	check_lifetimes(c, g, f);
	load_home_agents(c, g, f);
}
