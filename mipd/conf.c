/*
 * conf.c - the `ha` group and the `mobile_nodes` list of mipd.conf into
 * struct mipd_conf (see conf.h).  Problems are reported with file:line and
 * what to write instead, and loading goes on so `mipd -t` shows them all.
 * Keys are read from private files and never put into a message.
 */
#include "mipd/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *const mipd_role_names[] = {"mn", "ha", "fa", NULL};
const char *const mipd_conf_keys[] = {"role", "ha", "mobile_nodes",
				      "mn",   "fa", NULL};

static const char *const ha_keys[] = {
    "address",
    "home_prefix",
    "interface",
    "tunnel",
    "max_bindings",
    "max_lifetime",
    "replay",
    "replay_window",
    "rate",
    "udp_tunnel",
    "keepalive",
    "reverse_tunnel",
    "max_simultaneous_bindings",
    "advertise",
    "advertise_interval",
    "adv_lifetime",
    "prefix_lengths",
    "forward_broadcast",
    "forward_multicast",
    NULL,
};
static const char *const mn_keys[] = {"home_address", "spi",	 "algorithm",
				      "key_file",     "enabled", NULL};
static const char *const replay_names[] = {"timestamp", "nonce", NULL};
/* Indexed by enum ha_revtun. */
static const char *const revtun_names[] = {"offered", "required", "off", NULL};
/* Indexed by enum reg_alg - 1. */
static const char *const alg_names[] = {"hmac-md5", "keyed-md5", NULL};

void ha_conf_defaults(struct ha_conf *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->tunnel, sizeof(h->tunnel), "mip0");
	h->port = MIP4_PORT;
	h->max_bindings = HA_MAX_BINDINGS_DEFAULT;
	h->max_lifetime = HA_MAX_LIFETIME_DEFAULT;
	h->replay = REG_REPLAY_TIMESTAMP;
	h->window = MIP4_TS_WINDOW_DEFAULT;
	h->rate = HA_RATE_DEFAULT;
	h->burst = HA_BURST_DEFAULT;
	h->udp_tunnel = true;
	h->keepalive = HA_KEEPALIVE_DEFAULT;
	h->reverse_tunnel = HA_REVTUN_OFFERED;
	h->adv_interval_ms = AGENT_ADV_INTERVAL_DEFAULT * 1000;
	h->prefix_lengths = true;
	h->fwd_broadcast = true;
}

/* ---- small typed getters ---- */

static int get_v4(struct cfg *c, const config_setting_t *g, const char *key,
		  struct in_addr *out)
{
	struct ipaddr a = {.family = AF_UNSPEC};

	if (cfg_addr(c, g, key, &a, false) < 0 || a.family == AF_UNSPEC)
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

static int get_ifname(struct cfg *c, const config_setting_t *g, const char *key,
		      char out[IFNAMSIZ])
{
	const char *s = NULL;

	if (cfg_str(c, g, key, &s, false) < 0 || !s)
		return -1;
	if (strlen(s) == 0 || strlen(s) >= IFNAMSIZ || strchr(s, '/')) {
		cfg_error(c, config_setting_get_member(g, key),
			  "'%s' = \"%s\" is not an interface name (1-%d "
			  "characters, no '/')",
			  key, s, IFNAMSIZ - 1);
		return -1;
	}
	snprintf(out, IFNAMSIZ, "%s", s);
	return 0;
}

static void get_u32(struct cfg *c, const config_setting_t *g, const char *key,
		    uint32_t *out, long long min, long long max)
{
	long long v;

	if (cfg_int(c, g, key, &v, min, max, false) == 0 &&
	    config_setting_get_member(g, key))
		*out = (uint32_t)v;
}

static void get_u16(struct cfg *c, const config_setting_t *g, const char *key,
		    uint16_t *out, long long min, long long max)
{
	uint32_t v = *out;

	get_u32(c, g, key, &v, min, max);
	*out = (uint16_t)v;
}

/* ---- ha group ---- */

static void load_prefix(struct cfg *c, const config_setting_t *g,
			struct ha_conf *h)
{
	struct ipaddr a = {.family = AF_UNSPEC};
	unsigned plen = 0;

	if (cfg_prefix(c, g, "home_prefix", &a, &plen, false) < 0 ||
	    a.family == AF_UNSPEC)
		return;
	if (a.family != AF_INET || plen == 0) {
		cfg_error(c, config_setting_get_member(g, "home_prefix"),
			  "'home_prefix' must be an IPv4 prefix such as "
			  "\"10.10.0.0/24\"");
		return;
	}
	h->prefix = a.v4;
	h->plen = plen;
}

static void load_rate(struct cfg *c, const config_setting_t *g,
		      struct ha_conf *h)
{
	static const char *const keys[] = {"per_source", "burst", NULL};
	const config_setting_t *r = cfg_group(c, g, "rate", false);

	if (!r)
		return;
	cfg_keys(c, r, keys);
	/* 0 = no limit: for benchmarks, never for a public HA */
	get_u32(c, r, "per_source", &h->rate, 0, 1000000);
	get_u32(c, r, "burst", &h->burst, 1, 1000000);
}

/* RFC 3024 4.2 reverse tunnelling and the RFC 5944 3.3 S bit. */
static void load_policy(struct cfg *c, const config_setting_t *g,
			struct ha_conf *h)
{
	int mode = (int)h->reverse_tunnel;
	uint32_t simul = h->max_simultaneous;

	if (cfg_enum(c, g, "reverse_tunnel", revtun_names, &mode, false) == 0)
		h->reverse_tunnel = (enum ha_revtun)mode;
	get_u32(c, g, "max_simultaneous_bindings", &simul, 0, 0xffff);
	if (simul > 1)
		cfg_error(
		    c,
		    config_setting_get_member(g, "max_simultaneous_bindings"),
		    "'max_simultaneous_bindings' = %u: the binding cache "
		    "keeps one care-of address per home address; write "
		    "0 (S ignored, reply 1) or 1 (S for a second care-of "
		    "address refused with 135)",
		    simul);
	else
		h->max_simultaneous = (uint8_t)simul;
	cfg_bool(c, g, "forward_broadcast", &h->fwd_broadcast, false);
	cfg_bool(c, g, "forward_multicast", &h->fwd_multicast, false);
}

/* RFC 5944 2.3: advertisements with the H bit on the home link. */
static void load_adv(struct cfg *c, const config_setting_t *g,
		     struct ha_conf *h)
{
	uint32_t v = h->adv_interval_ms / 1000;

	cfg_bool(c, g, "advertise", &h->advertise, false);
	get_u32(c, g, "advertise_interval", &v, 0, 1800);
	h->adv_interval_ms = v * 1000;
	/* RFC 1256 3: AdvertisementLifetime at most 9000 s */
	get_u16(c, g, "adv_lifetime", &h->adv_lifetime, 1, 9000);
	/* RFC 5944 2.3.1: one lost advertisement must not lose the agent */
	if (h->adv_lifetime && h->adv_interval_ms &&
	    h->adv_lifetime * 1000u < 3 * h->adv_interval_ms)
		cfg_error(c, config_setting_get_member(g, "adv_lifetime"),
			  "'adv_lifetime' (%u s) is shorter than 3 x "
			  "'advertise_interval' (%u s): use at least %u",
			  h->adv_lifetime, h->adv_interval_ms / 1000,
			  3 * h->adv_interval_ms / 1000);
	cfg_bool(c, g, "prefix_lengths", &h->prefix_lengths, false);
	if (h->advertise && !h->interface[0])
		cfg_error(c, config_setting_get_member(g, "advertise"),
			  "'advertise' needs 'interface', the home link to "
			  "advertise on");
}

static void load_ha(struct cfg *c, struct ha_conf *h)
{
	const config_setting_t *g = cfg_group(c, NULL, "ha", false);
	int mode = (int)h->replay;

	if (!g)
		return;
	cfg_keys(c, g, ha_keys);
	get_v4(c, g, "address", &h->address);
	load_prefix(c, g, h);
	get_ifname(c, g, "interface", h->interface);
	get_ifname(c, g, "tunnel", h->tunnel);
	get_u32(c, g, "max_bindings", &h->max_bindings, 1, 16u << 20);
	/* 0xffff means "forever" on the wire (RFC 5944 3.3): not a cap */
	get_u16(c, g, "max_lifetime", &h->max_lifetime, 1, 0xfffe);
	if (cfg_enum(c, g, "replay", replay_names, &mode, false) == 0)
		h->replay = (enum reg_replay_mode)mode;
	get_u32(c, g, "replay_window", &h->window, 1, 3600);
	load_rate(c, g, h);
	cfg_bool(c, g, "udp_tunnel", &h->udp_tunnel, false);
	get_u16(c, g, "keepalive", &h->keepalive, 1, 0xffff);
	load_policy(c, g, h);
	load_adv(c, g, h);
}

/* ---- mobile nodes ---- */

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int mipd_key_decode(const uint8_t *raw, size_t len, uint8_t *out, size_t cap,
		    size_t *out_len)
{
	if (len > 2 && raw[0] == '0' && (raw[1] == 'x' || raw[1] == 'X')) {
		size_t n = len - 2;

		if (n % 2 || n / 2 > cap)
			return -1;
		for (size_t i = 0; i < n / 2; i++) {
			int hi = hexval((char)raw[2 + 2 * i]);
			int lo = hexval((char)raw[3 + 2 * i]);

			if (hi < 0 || lo < 0)
				return -1;
			out[i] = (uint8_t)(hi << 4 | lo);
		}
		*out_len = n / 2;
		return 0;
	}
	if (len == 0 || len > cap)
		return -1;
	memcpy(out, raw, len);
	*out_len = len;
	return 0;
}

int ha_conf_set_key(struct ha_conf *h, struct mn_entry *m, const void *key,
		    size_t len)
{
	if (len == 0 || len > REG_KEY_MAX || len > UINT16_MAX ||
	    h->keys_len + len > UINT32_MAX)
		return -1;
	if (h->keys_len + len > h->keys_cap) {
		size_t cap = h->keys_cap ? h->keys_cap : 1024;
		uint8_t *k;

		while (cap < h->keys_len + len)
			cap *= 2;
		/* not realloc: the old block must be wiped, not just freed */
		k = malloc(cap);
		if (!k)
			return -1;
		if (h->keys_len)
			memcpy(k, h->keys, h->keys_len);
		if (h->keys)
			OPENSSL_cleanse(h->keys, h->keys_cap);
		free(h->keys);
		h->keys = k;
		h->keys_cap = cap;
	}
	memcpy(h->keys + h->keys_len, key, len);
	m->key_off = (uint32_t)h->keys_len;
	m->key_len = (uint16_t)len;
	h->keys_len += len;
	return 0;
}

void ha_conf_free_mns(struct ha_conf *h)
{
	if (h->mns)
		OPENSSL_cleanse(h->mns, h->nmns * sizeof(*h->mns));
	free(h->mns);
	if (h->keys)
		OPENSSL_cleanse(h->keys, h->keys_cap);
	free(h->keys);
	h->mns = NULL;
	h->nmns = 0;
	h->keys = NULL;
	h->keys_len = h->keys_cap = 0;
}

int mipd_key_file(struct cfg *c, const config_setting_t *g, const char *example,
		  uint8_t *key, size_t cap, size_t *klen)
{
	const config_setting_t *at = config_setting_get_member(g, "key_file");
	uint8_t raw[2 * REG_KEY_MAX + 8];
	char path[1024];
	struct stat st;
	size_t len = 0;
	int rc = -1;

	if (!at) {
		cfg_error(c, g,
			  "mobile node without 'key_file'; add key_file = "
			  "\"%s\"; (a private file: umask 077)",
			  example);
		return -1;
	}
	if (cfg_path(c, g, "key_file", path, sizeof(path), true) == 0 &&
	    stat(path, &st) < 0 && errno == ENOENT) {
		cfg_error(c, at,
			  "key file %s does not exist; create it with: "
			  "(umask 077; openssl rand -hex 16 | sed 's/^/0x/' "
			  "> %s)",
			  path, path);
		return -1;
	}
	if (cfg_secret_file(c, g, "key_file", raw, sizeof(raw), &len, true) <
	    0) {
		/* cfg_secret_file named the problem */
	} else if (mipd_key_decode(raw, len, key, cap, klen) < 0) {
		cfg_error(c, at,
			  "key file %s: write the key as 0x and an even "
			  "number of hex digits, or as 1-%d raw bytes",
			  path, REG_KEY_MAX);
	} else {
		rc = 0;
	}
	OPENSSL_cleanse(raw, sizeof(raw));
	return rc;
}

static void load_key(struct cfg *c, const config_setting_t *e,
		     struct ha_conf *h, struct mn_entry *m)
{
	uint8_t key[REG_KEY_MAX];
	size_t klen = 0;

	if (mipd_key_file(c, e, "mn1.key", key, sizeof(key), &klen) == 0 &&
	    ha_conf_set_key(h, m, key, klen) < 0)
		cfg_error(c, e, "out of memory for a mobile node key");
	OPENSSL_cleanse(key, sizeof(key));
}

static bool in_prefix(const struct ha_conf *h, struct in_addr a)
{
	uint32_t mask = h->plen >= 32 ? 0xffffffffu : ~(0xffffffffu >> h->plen);

	return h->plen == 0 ||
	       (ntohl(a.s_addr) & mask) == (ntohl(h->prefix.s_addr) & mask);
}

static void check_hoa(struct cfg *c, const config_setting_t *e,
		      const struct ha_conf *h, size_t i)
{
	struct in_addr a = h->mns[i].hoa;
	char s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, s, sizeof(s));
	if (!in_prefix(h, a))
		cfg_error(c, e,
			  "home address %s is outside ha.home_prefix; a "
			  "home agent serves only its home network",
			  s);
}

struct hoa_ix {
	uint32_t hoa;
	unsigned i;
};

static int hoa_ix_cmp(const void *a, const void *b)
{
	const struct hoa_ix *x = a, *y = b;

	if (x->hoa != y->hoa)
		return x->hoa < y->hoa ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* By sorting: a pairwise scan takes minutes at a million nodes. */
static void check_dup_hoas(struct cfg *c, const config_setting_t *l,
			   const struct ha_conf *h)
{
	struct hoa_ix *v = malloc((h->nmns ? h->nmns : 1) * sizeof(*v));
	char s[INET_ADDRSTRLEN];

	if (!v) {
		cfg_error(c, l, "out of memory for %zu mobile nodes", h->nmns);
		return;
	}
	for (size_t i = 0; i < h->nmns; i++)
		v[i] = (struct hoa_ix){h->mns[i].hoa.s_addr, (unsigned)i};
	qsort(v, h->nmns, sizeof(*v), hoa_ix_cmp);
	for (size_t k = 1; k < h->nmns; k++) {
		/* 0: an entry that failed to load, already reported */
		if (v[k].hoa != v[k - 1].hoa || v[k].hoa == 0)
			continue;
		inet_ntop(AF_INET, &h->mns[v[k].i].hoa, s, sizeof(s));
		cfg_error(c, config_setting_get_elem(l, v[k].i),
			  "home address %s is listed twice; one "
			  "security association per mobile node",
			  s);
	}
	free(v);
}

static void load_mn(struct cfg *c, const config_setting_t *e, struct ha_conf *h,
		    size_t i)
{
	struct mn_entry *m = &h->mns[i];
	bool enabled = true;
	long long spi = 0;
	int alg = 0;

	if (!config_setting_is_group(e)) {
		cfg_error(c, e,
			  "each mobile node is a group: { home_address "
			  "= \"...\"; spi = 256; key_file = \"...\"; }");
		return;
	}
	cfg_keys(c, e, mn_keys);
	if (get_v4(c, e, "home_address", &m->hoa) < 0 &&
	    !config_setting_get_member(e, "home_address"))
		cfg_error(c, e, "mobile node without 'home_address'");
	/* RFC 5944 1.6: SPIs 0-255 are reserved */
	cfg_int(c, e, "spi", &spi, MIP4_SPI_RESERVED_MAX + 1, 0xffffffffLL,
		true);
	cfg_enum(c, e, "algorithm", alg_names, &alg, false);
	m->spi = (uint32_t)spi;
	m->alg = (uint8_t)(alg + 1);
	if (cfg_bool(c, e, "enabled", &enabled, false) == 0 && !enabled)
		m->flags |= MN_ENTRY_DISABLED;
	load_key(c, e, h, m);
	check_hoa(c, e, h, i);
}

static void load_mns(struct cfg *c, struct ha_conf *h)
{
	const config_setting_t *l = config_lookup(&c->cf, "mobile_nodes");
	unsigned n;

	if (!l)
		return;
	if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
		cfg_error(c, l,
			  "'mobile_nodes' must be a list: mobile_nodes "
			  "= ( { ... }, { ... } );");
		return;
	}
	n = (unsigned)config_setting_length(l);
	h->mns = calloc(n ? n : 1, sizeof(*h->mns));
	if (!h->mns) {
		cfg_error(c, l, "out of memory for %u mobile nodes", n);
		return;
	}
	h->nmns = n;
	for (unsigned i = 0; i < n; i++)
		load_mn(c, config_setting_get_elem(l, i), h, i);
	check_dup_hoas(c, l, h);
}

/* The groups of the other roles are read by their code. */
static void other_roles(struct cfg *c, int role)
{
	static const char *const grp[] = {"mn", "ha", "fa"};

	for (int r = 0; r < 3; r++) {
		const config_setting_t *s = config_lookup(&c->cf, grp[r]);

		if (s && r != role)
			cfg_error(c, s,
				  "group '%s' is for role \"%s\" but role is "
				  "\"%s\"; remove it or change 'role'",
				  grp[r], grp[r], mipd_role_names[role]);
	}
	if (role != ROLE_HA && config_lookup(&c->cf, "mobile_nodes"))
		cfg_error(c, config_lookup(&c->cf, "mobile_nodes"),
			  "'mobile_nodes' is read by the home agent only "
			  "(role = \"ha\")");
}

int mipd_conf_load(struct cfg *c, struct mipd_conf *mc)
{
	int before = c->nerr;

	ha_conf_defaults(&mc->ha);
	fa_conf_defaults(&mc->fa);
	mn_conf_defaults(&mc->mn);
	other_roles(c, mc->role);
	if (mc->role == ROLE_HA) {
		load_ha(c, &mc->ha);
		load_mns(c, &mc->ha);
	}
	if (mc->role == ROLE_FA)
		fa_conf_load(c, &mc->fa);
	if (mc->role == ROLE_MN)
		mn_conf_load(c, &mc->mn);
	return c->nerr > before ? -1 : 0;
}

void mipd_conf_free(struct mipd_conf *mc)
{
	ha_conf_free_mns(&mc->ha);
	if (mc->mn.key)
		OPENSSL_cleanse(mc->mn.key, mc->mn.sa.key_len);
	free(mc->mn.key);
	mc->mn.key = NULL;
	OPENSSL_cleanse(&mc->mn.sa, sizeof(mc->mn.sa));
}
