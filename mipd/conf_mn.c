/*
 * conf_mn.c - the mobile node's `mn` group of mipd.conf (see conf.h and
 * conf/mipd.conf):
 *
 *   mn = {
 *     home_address = "10.10.0.100";  home_prefix_len = 24;
 *     home_agent = "10.10.0.2";      home_gateway = "10.10.0.1";
 *     interface = "mn0";             tunnel = "mip0";
 *     spi = 256;  algorithm = "hmac-md5";  key_file = "mn.key";
 *     replay = "timestamp";          # or "nonce", as the home agent's
 *     reverse_tunnel = true;  nat_traversal = true;  lifetime = 300;
 *     retransmit = { initial = 1.0; tries = 3; };  retry_interval = 30;
 *     dhcp = { command = "dhcpcd"; enabled = true; state_dir = "/run/mipd"; };
 *     vpn = { mobiked_socket = "/run/mobiked.sock"; enabled = false; };
 *     keep_vpn_when_trusted = false;
 *   };
 *
 * Without the group the mobile node has nothing to register and idles
 * (main.c says so); with it, home_address, home_agent, interface, spi and
 * key_file are required.  Errors carry file:line and what to write.
 */
#include "mipd/conf.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const keys[] = {
    "home_address",
    "home_prefix_len",
    "home_agent",
    "home_gateway",
    "interface",
    "tunnel",
    "spi",
    "algorithm",
    "key_file",
    "reverse_tunnel",
    "nat_traversal",
    "force_udp",
    "lifetime",
    "retransmit",
    "retry_interval",
    "nai",
    "dhcp",
    "vpn",
    "keep_vpn_when_trusted",
    "replay",
    NULL,
};
/* Indexed by enum reg_alg - 1, as in the ha group. */
static const char *const algs[] = {"hmac-md5", "keyed-md5", NULL};
/* Indexed by enum reg_replay_mode, as the ha group's `replay`. */
static const char *const replays[] = {"timestamp", "nonce", NULL};

void mn_conf_defaults(struct mn_conf *m)
{
	memset(m, 0, sizeof(*m));
	m->home_plen = 24;
	snprintf(m->tunnel, sizeof(m->tunnel), "mip0");
	m->sa.alg = REG_ALG_HMAC_MD5;
	m->sa.replay = REG_REPLAY_TIMESTAMP;
	m->reverse_tunnel = true;
	m->nat_traversal = true;
	m->lifetime = 300;
	m->retx_initial_ms = 1000;
	m->tries = 3;
	m->retry_ms = MN_RETRY_DEFAULT_S * 1000u;
	m->dhcp_enabled = true;
	snprintf(m->dhcp_command, sizeof(m->dhcp_command), "%s",
		 MN_DHCP_COMMAND_DEFAULT);
	snprintf(m->vpn_socket, sizeof(m->vpn_socket), "/run/mobiked.sock");
	snprintf(m->dhcp_state_dir, sizeof(m->dhcp_state_dir), "/run/mipd");
}

static int v4(struct cfg *c, const config_setting_t *g, const char *key,
	      struct in_addr *out, bool req)
{
	struct ipaddr a = {.family = AF_UNSPEC};

	if (cfg_addr(c, g, key, &a, req) < 0 || a.family == AF_UNSPEC)
		return -1;
	if (a.family != AF_INET) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' must be an IPv4 address: Mobile IPv4 "
			  "(RFC 5944) carries only IPv4",
			  key);
		return -1;
	}
	*out = a.v4;
	return 0;
}

static void ifname(struct cfg *c, const config_setting_t *g, const char *key,
		   char out[IFNAMSIZ], bool req)
{
	const char *s = NULL;

	if (cfg_str(c, g, key, &s, req) < 0 || !s)
		return;
	if (!*s || strlen(s) >= IFNAMSIZ || strchr(s, '/')) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' = \"%s\" is not an interface name (1-%d "
			  "characters, no '/')",
			  key, s, IFNAMSIZ - 1);
		return;
	}
	snprintf(out, IFNAMSIZ, "%s", s);
}

static void str(struct cfg *c, const config_setting_t *g, const char *key,
		char *out, size_t cap)
{
	const char *s = NULL;

	if (cfg_str(c, g, key, &s, false) < 0 || !s)
		return;
	if (strlen(s) >= cap) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' is too long (at most %zu characters)", key,
			  cap - 1);
		return;
	}
	snprintf(out, cap, "%s", s);
}

static void key(struct cfg *c, const config_setting_t *g, struct mn_conf *m)
{
	uint8_t buf[REG_KEY_MAX];
	size_t klen = 0;
	uint8_t *k;

	if (mipd_key_file(c, g, "mn.key", buf, sizeof(buf), &klen) < 0)
		goto out;
	if (!(k = malloc(klen))) {
		cfg_error(c, g, "out of memory for the MN-HA key");
		goto out;
	}
	memcpy(k, buf, klen);
	if (m->key)
		OPENSSL_cleanse(m->key, m->sa.key_len);
	free(m->key);
	m->key = k;
	m->sa.key = k;
	m->sa.key_len = klen;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
}

static void sa(struct cfg *c, const config_setting_t *g, struct mn_conf *m)
{
	long long spi = 0;
	int alg = (int)m->sa.alg - 1;
	int replay = (int)m->sa.replay;

	/* RFC 5944 1.6: SPIs 0-255 are reserved */
	if (cfg_int(c, g, "spi", &spi, MIP4_SPI_RESERVED_MAX + 1, 0xffffffffLL,
		    true) == 0)
		m->sa.spi = (uint32_t)spi;
	if (cfg_enum(c, g, "algorithm", algs, &alg, false) == 0)
		m->sa.alg = (enum reg_alg)(alg + 1);
	/* RFC 5944 5.7: must match the home agent's replay protection */
	if (cfg_enum(c, g, "replay", replays, &replay, false) == 0)
		m->sa.replay = (enum reg_replay_mode)replay;
	key(c, g, m);
}

/* retransmit = { initial = 1.0; tries = 3; }: seconds may be a float. */
static void retransmit(struct cfg *c, const config_setting_t *g,
		       struct mn_conf *m)
{
	static const char *const rk[] = {"initial", "tries", NULL};
	const config_setting_t *r = cfg_group(c, g, "retransmit", false);
	const config_setting_t *s;
	long long tries;
	double v;

	if (!r)
		return;
	cfg_keys(c, r, rk);
	s = config_setting_get_member(r, "initial");
	if (s) {
		int t = config_setting_type(s);

		v = t == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
		    : t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64
			? (double)config_setting_get_int64(s)
			: -1.0;
		/* RFC 5944 3.6.3: no sooner than 1 s */
		if (v < 1.0 || v > 60.0)
			cfg_error(c, s,
				  "'initial' must be seconds between 1.0 and "
				  "60.0 (RFC 5944 3.6.3: retransmit no sooner "
				  "than 1 s), e.g. initial = 1.0;");
		else
			m->retx_initial_ms = (uint32_t)(v * 1000.0 + 0.5);
	}
	if (cfg_int(c, r, "tries", &tries, 1, 8, false) == 0 &&
	    config_setting_get_member(r, "tries"))
		m->tries = (unsigned)tries;
}

static void dhcp(struct cfg *c, const config_setting_t *g, struct mn_conf *m)
{
	static const char *const dk[] = {"command", "enabled", "state_dir",
					 NULL};
	const config_setting_t *d = cfg_group(c, g, "dhcp", false);

	if (!d)
		return;
	cfg_keys(c, d, dk);
	str(c, d, "command", m->dhcp_command, sizeof(m->dhcp_command));
	cfg_bool(c, d, "enabled", &m->dhcp_enabled, false);
	if (config_setting_get_member(d, "state_dir"))
		cfg_path(c, d, "state_dir", m->dhcp_state_dir,
			 sizeof(m->dhcp_state_dir), false);
	if (!m->dhcp_command[0])
		cfg_error(c, d,
			  "'command' is empty; write command = "
			  "\"dhcpcd\"; or enabled = false;");
}

static void vpn(struct cfg *c, const config_setting_t *g, struct mn_conf *m)
{
	static const char *const vk[] = {"mobiked_socket", "enabled", NULL};
	const config_setting_t *v = cfg_group(c, g, "vpn", false);

	if (!v)
		return;
	cfg_keys(c, v, vk);
	str(c, v, "mobiked_socket", m->vpn_socket, sizeof(m->vpn_socket));
	cfg_bool(c, v, "enabled", &m->vpn_enabled, false);
}

static void numbers(struct cfg *c, const config_setting_t *g, struct mn_conf *m)
{
	long long v;

	if (cfg_int(c, g, "home_prefix_len", &v, 1, 32, false) == 0 &&
	    config_setting_get_member(g, "home_prefix_len"))
		m->home_plen = (unsigned)v;
	/* 0 is a deregistration and 0xffff "forever" (RFC 5944 3.3) */
	if (cfg_int(c, g, "lifetime", &v, 1, 0xfffe, false) == 0 &&
	    config_setting_get_member(g, "lifetime"))
		m->lifetime = (uint16_t)v;
	if (cfg_int(c, g, "retry_interval", &v, 1, 3600, false) == 0 &&
	    config_setting_get_member(g, "retry_interval"))
		m->retry_ms = (uint32_t)v * 1000u;
}

static void check_gateway(struct cfg *c, const config_setting_t *g,
			  const struct mn_conf *m)
{
	uint32_t mask =
	    m->home_plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> m->home_plen);

	if (m->gateway.s_addr &&
	    (ntohl(m->gateway.s_addr) & mask) != (ntohl(m->home.s_addr) & mask))
		cfg_error(c, config_setting_get_member(g, "home_gateway"),
			  "'home_gateway' is not on the home subnet of "
			  "home_address/home_prefix_len");
}

void mn_conf_load(struct cfg *c, struct mn_conf *m)
{
	const config_setting_t *g = cfg_group(c, NULL, "mn", false);

	if (!g)
		return;
	m->configured = true;
	cfg_keys(c, g, keys);
	v4(c, g, "home_address", &m->home, true);
	v4(c, g, "home_agent", &m->ha, true);
	v4(c, g, "home_gateway", &m->gateway, false);
	ifname(c, g, "interface", m->interface, true);
	ifname(c, g, "tunnel", m->tunnel, false);
	sa(c, g, m);
	cfg_bool(c, g, "reverse_tunnel", &m->reverse_tunnel, false);
	cfg_bool(c, g, "nat_traversal", &m->nat_traversal, false);
	cfg_bool(c, g, "force_udp", &m->force_udp, false);
	numbers(c, g, m);
	retransmit(c, g, m);
	str(c, g, "nai", m->nai, sizeof(m->nai));
	dhcp(c, g, m);
	vpn(c, g, m);
	cfg_bool(c, g, "keep_vpn_when_trusted", &m->keep_vpn_when_trusted,
		 false);
	check_gateway(c, g, m);
	if (m->interface[0] && !strcmp(m->interface, m->tunnel))
		cfg_error(c, config_setting_get_member(g, "tunnel"),
			  "'tunnel' must differ from 'interface'");
}
