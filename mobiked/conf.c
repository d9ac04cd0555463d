/*
 * conf.c - the "connection" group of mobiked.conf into struct mobiked_conf.
 * Each problem is reported with file:line and what to write instead, and
 * loading goes on so `mobiked -t` shows all of them.  The PSK is read from
 * a private file and never put into a message.
 */
#include "mobiked/conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mobiked/ikev2.h"

#define ERRLEN	 400
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Called for each string of a list setting; what = "'key'[i] = \"val\"". */
typedef int (*item_fn)(struct cfg *c, const config_setting_t *at,
		       const char *what, const char *val, size_t i, void *out);

static const char *const conn_keys[] = {
    "gateway",
    "port",
    "local_id",
    "remote_id",
    "psk_file",
    "ike_proposals",
    "esp_proposals",
    "remote_ts",
    "local_ts",
    "vips",
    "request_dns",
    "mobike",
    "encap",
    "retransmit",
    "dpd_delay",
    "keepalive",
    "ike_lifetime",
    "child_lifetime",
    "start_action",
    "tunnel",
    "fragment_size",
    "child_lifetime_bytes",
    "child_lifetime_packets",
    "keyingtries",
    NULL,
};

static const char *const default_ike[] = {
    "aes256gcm16-prfsha384-x25519",
    "aes128gcm16-prfsha256-x25519",
    "aes256-sha256-modp2048",
    "aes128-sha256-modp2048",
};

static const char *const default_esp[] = {
    "aes256gcm16",
    "aes128gcm16",
    "aes256-sha256",
    "aes128-sha256",
};

/* ---- list settings ---- */

static int each_elem(struct cfg *c, const config_setting_t *s, size_t max,
		     item_fn fn, void *out, size_t *n)
{
	const char *key = config_setting_name(s);
	unsigned len = (unsigned)config_setting_length(s);
	char what[300];
	int rc = 0;

	if (len > max) {
		cfg_error(c, s,
			  "'%s' has %u entries; at most %zu are supported", key,
			  len, max);
		return -1;
	}
	for (unsigned i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);
		const char *v = config_setting_get_string(e);

		if (!v) {
			cfg_error(c, e,
				  "'%s'[%u] must be a string in double "
				  "quotes",
				  key, i);
			rc = -1;
			continue;
		}
		snprintf(what, sizeof(what), "'%s'[%u] = \"%.200s\"", key, i,
			 v);
		if (fn(c, e, what, v, i, out) < 0)
			rc = -1;
	}
	*n = len;
	return rc;
}

/* A string or a list of strings.  1: present and fine, 0: absent. */
static int each_str(struct cfg *c, const config_setting_t *g, const char *key,
		    size_t max, item_fn fn, void *out, size_t *n)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	const char *v;
	char what[300];

	if (!s)
		return 0;
	if (config_setting_is_aggregate(s) && !config_setting_is_group(s))
		return each_elem(c, s, max, fn, out, n) < 0 ? -1 : 1;
	v = config_setting_get_string(s);
	if (!v) {
		cfg_error(c, s,
			  "'%s' must be a list of strings: %s = [ \"...\", "
			  "\"...\" ];",
			  key, key);
		return -1;
	}
	snprintf(what, sizeof(what), "'%s' = \"%.200s\"", key, v);
	*n = 1;
	return fn(c, s, what, v, 0, out) < 0 ? -1 : 1;
}

/* ---- items ---- */

static int gateway_item(struct cfg *c, const config_setting_t *at,
			const char *what, const char *v, size_t i, void *out)
{
	struct gateway_conf *gw = out;

	if (ipaddr_parse(&gw[i].addr, v) == 0)
		return 0;
	cfg_error(c, at,
		  "%s: not an IP address; write the gateway's IPv4 or "
		  "IPv6 address (host names are not resolved)",
		  what);
	return -1;
}

static int ike_item(struct cfg *c, const config_setting_t *at, const char *what,
		    const char *v, size_t i, void *out)
{
	char err[ERRLEN];

	if (proposal_parse_ike(v, (struct ike_proposal_conf *)out + i, err,
			       sizeof(err)) == 0)
		return 0;
	cfg_error(c, at, "%s: %s", what, err);
	return -1;
}

static int esp_item(struct cfg *c, const config_setting_t *at, const char *what,
		    const char *v, size_t i, void *out)
{
	char err[ERRLEN];

	if (proposal_parse_esp(v, (struct esp_proposal_conf *)out + i, err,
			       sizeof(err)) == 0)
		return 0;
	cfg_error(c, at, "%s: %s", what, err);
	return -1;
}

static int ts_item(struct cfg *c, const config_setting_t *at, const char *what,
		   const char *v, size_t i, void *out)
{
	if (ts_parse(v, (struct ts_conf *)out + i) == 0)
		return 0;
	cfg_error(c, at,
		  "%s: not a traffic selector; write a prefix "
		  "\"10.1.0.0/16\", a range \"10.1.0.1-10.1.0.9\", "
		  "optionally with \"[tcp]\", \"[udp/53]\" or "
		  "\"[tcp/8000-8099]\"",
		  what);
	return -1;
}

static int local_ts_item(struct cfg *c, const config_setting_t *at,
			 const char *what, const char *v, size_t i, void *out)
{
	struct mobiked_conf *conf = out;

	if (strcmp(v, "dynamic") == 0) {
		conf->local_ts_dynamic = true;
		return 0;
	}
	return ts_item(c, at, what, v, i, conf->local_ts);
}

static int vip_item(struct cfg *c, const config_setting_t *at, const char *what,
		    const char *v, size_t i, void *out)
{
	struct ipaddr *vip = out;

	memset(&vip[i], 0, sizeof(vip[i])); /* AF_UNSPEC if unparsable */
	if (ipaddr_parse(&vip[i], v) < 0) {
		cfg_error(c, at,
			  "%s: not an address; write \"0.0.0.0\" and/or "
			  "\"::\" to ask the gateway for any address",
			  what);
		return -1;
	}
	if (i == 1 && vip[0].family == vip[1].family) {
		cfg_error(c, at,
			  "%s: a second address of the same family; "
			  "request at most one IPv4 and one IPv6 address",
			  what);
		return -1;
	}
	return 0;
}

/* A required key with an example of what to write. */
static bool require(struct cfg *c, const config_setting_t *g, const char *key,
		    const char *example)
{
	if (config_setting_get_member(g, key))
		return true;
	cfg_error(c, g,
		  "missing required setting '%s' in connection; write "
		  "%s = %s;",
		  key, key, example);
	return false;
}

static int load_id(struct cfg *c, const config_setting_t *g, const char *key,
		   struct id_conf *id)
{
	const char *s = NULL;
	char err[ERRLEN];

	if (!require(c, g, key, "\"vpn.example.com\"") ||
	    cfg_str(c, g, key, &s, true) < 0)
		return -1;
	if (id_parse(s, id, err, sizeof(err)) == 0)
		return 0;
	cfg_error(c, config_setting_get_member(g, key), "'%s' = \"%.200s\": %s",
		  key, s, err);
	return -1;
}

/* ---- PSK ---- */

static int psk_decode(struct cfg *c, const config_setting_t *at,
		      const char *path, uint8_t *raw, size_t len,
		      struct mobiked_conf *conf)
{
	if (len == 0) {
		cfg_error(c, at,
			  "key file %s is empty; write the shared secret "
			  "into it",
			  path);
		return -1;
	}
	if (len > 2 && raw[0] == '0' && raw[1] == 'x') {
		raw[len] = '\0';
		if (hex_parse((char *)raw + 2, conf->psk, sizeof(conf->psk),
			      &conf->psk_len) == 0)
			return 0;
		cfg_error(c, at,
			  "key file %s starts with 0x but is not valid "
			  "hex (at most %d bytes); write 0x and an even "
			  "number of hex digits, or the secret as text",
			  path, CONF_PSK_MAX);
		return -1;
	}
	if (len > sizeof(conf->psk)) {
		cfg_error(c, at,
			  "key file %s: secret longer than %d bytes; "
			  "shorten it",
			  path, CONF_PSK_MAX);
		return -1;
	}
	memcpy(conf->psk, raw, len);
	conf->psk_len = len;
	return 0;
}

static int load_psk(struct cfg *c, const config_setting_t *g,
		    struct mobiked_conf *conf)
{
	const config_setting_t *at = config_setting_get_member(g, "psk_file");
	uint8_t raw[2 * CONF_PSK_MAX + 8];
	char path[1024];
	struct stat st;
	size_t len = 0;
	int rc;

	if (!require(c, g, "psk_file", "\"mobiked.psk\"") ||
	    cfg_path(c, g, "psk_file", path, sizeof(path), true) < 0)
		return -1;
	if (stat(path, &st) < 0 && errno == ENOENT) {
		cfg_error(c, at,
			  "key file %s does not exist; create it with: "
			  "(umask 077; echo 'the-shared-secret' > %s)",
			  path, path);
		return -1;
	}
	rc =
	    cfg_secret_file(c, g, "psk_file", raw, sizeof(raw) - 1, &len, true);
	if (rc == 0)
		rc = psk_decode(c, at, path, raw, len, conf);
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

/* ---- numbers ---- */

/* Seconds as an integer or a float. */
static int cfg_seconds(struct cfg *c, const config_setting_t *g,
		       const char *key, double *out, double min, double max)
{
	const config_setting_t *s = config_setting_get_member(g, key);
	double v;

	if (!s)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		cfg_error(c, s, "'%s' must be a number, e.g. %s = %g;", key,
			  key, min < 1 ? 2.0 : min);
		return -1;
	}
	if (v < min || v > max) {
		cfg_error(c, s, "'%s' = %g is out of range; use %g..%g", key, v,
			  min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int get_u32(struct cfg *c, const config_setting_t *g, const char *key,
		   uint32_t *out, long long min, long long max)
{
	long long v = *out;
	int rc = cfg_int(c, g, key, &v, min, max, false);

	*out = (uint32_t)v;
	return rc;
}

/* Byte and packet counts: up to 2^62, 0 = no limit. */
static int get_u64(struct cfg *c, const config_setting_t *g, const char *key,
		   uint64_t *out)
{
	long long v = (long long)*out;
	int rc = cfg_int(c, g, key, &v, 0, 1LL << 62, false);

	*out = (uint64_t)v;
	return rc;
}

/* Announcing MOBIKE_SUPPORTED promises address updates (RFC 4555) this
 * mobiked cannot send yet: refuse true rather than pretend. */
static void load_mobike(struct cfg *c, const config_setting_t *g,
			struct mobiked_conf *conf)
{
	bool on = false;

	if (cfg_bool(c, g, "mobike", &on, false) < 0 || !on)
		return;
	cfg_error(c, config_setting_get_member(g, "mobike"),
		  "'mobike' = true: MOBIKE (RFC 4555) is not available in "
		  "this mobiked yet; write mobike = false; (after a move the "
		  "IKE SA is re-established)");
}

static void load_retransmit(struct cfg *c, const config_setting_t *g,
			    struct retransmit_conf *rt)
{
	static const char *const keys[] = {"timeout", "base", "tries", NULL};
	const config_setting_t *r = cfg_group(c, g, "retransmit", false);
	double t = rt->timeout_ms / 1000.0;

	if (!r)
		return;
	cfg_keys(c, r, keys);
	if (cfg_seconds(c, r, "timeout", &t, 0.1, 300) == 0)
		rt->timeout_ms = (uint32_t)(t * 1000 + 0.5);
	cfg_seconds(c, r, "base", &rt->base, 1.0, 10);
	get_u32(c, r, "tries", &rt->tries, 0, 100);
}

static void load_tunnel(struct cfg *c, const config_setting_t *g,
			struct mobiked_conf *conf)
{
	static const char *const keys[] = {"name", "mtu", NULL};
	const config_setting_t *t = cfg_group(c, g, "tunnel", false);
	const char *name = NULL;
	size_t n;

	if (!t)
		return;
	cfg_keys(c, t, keys);
	get_u32(c, t, "mtu", &conf->tun_mtu, 1280, 9000);
	if (cfg_str(c, t, "name", &name, false) < 0 || !name)
		return;
	n = strlen(name);
	if (n == 0 || n >= sizeof(conf->tun_name) ||
	    strspn(
		name,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		"_.-") != n) {
		cfg_error(c, config_setting_get_member(t, "name"),
			  "'name' = \"%.64s\" is not an interface name; use 1 "
			  "to %zu letters, digits, '_', '.' or '-'",
			  name, sizeof(conf->tun_name) - 1);
		return;
	}
	memcpy(conf->tun_name, name, n + 1);
}

/* 0 (never fragment) or room for content in every fragment. */
static void load_fragment_size(struct cfg *c, const config_setting_t *g,
			       struct mobiked_conf *conf)
{
	uint32_t v = conf->fragment_size;

	if (get_u32(c, g, "fragment_size", &v, 0, 65535))
		return;
	if (v && v < CONF_FRAGMENT_SIZE_MIN) {
		cfg_error(c, config_setting_get_member(g, "fragment_size"),
			  "'fragment_size' = %u is too small for any IKE "
			  "fragment; use 0 (never fragment) or %u to 65535",
			  v, (unsigned)CONF_FRAGMENT_SIZE_MIN);
		return;
	}
	conf->fragment_size = v;
}

/* ---- the connection group ---- */

static void set_defaults(struct mobiked_conf *conf)
{
	conf->port = IKE_PORT;
	conf->local_ts_dynamic = true;
	conf->vip[0].family = AF_INET;
	conf->vip[1].family = AF_INET6;
	conf->n_vip = 2;
	conf->request_dns = true;
	conf->mobike = false; /* not implemented yet: load_mobike() */
	conf->retransmit = (struct retransmit_conf){4000, 1.8, 5};
	conf->dpd_delay_s = 30;
	conf->keepalive_s = 20;
	conf->ike_lifetime_s = 14400;
	conf->child_lifetime_s = 3600;
	conf->fragment_size = 1280; /* strongSwan's, both families */
	conf->autostart = CONF_AUTO_START;
	snprintf(conf->tun_name, sizeof(conf->tun_name), "vpn0");
	conf->tun_mtu = 1400;
}

/* Absent proposal lists get the defaults (match the strongSwan lab). */
static void default_proposals(struct mobiked_conf *conf)
{
	char err[ERRLEN];

	if (!conf->n_ike)
		for (size_t i = 0; i < NELEM(default_ike); i++)
			if (proposal_parse_ike(default_ike[i],
					       &conf->ike[conf->n_ike], err,
					       sizeof(err)) == 0)
				conf->n_ike++;
	if (!conf->n_esp)
		for (size_t i = 0; i < NELEM(default_esp); i++)
			if (proposal_parse_esp(default_esp[i],
					       &conf->esp[conf->n_esp], err,
					       sizeof(err)) == 0)
				conf->n_esp++;
}

/* A present but empty list where one entry is needed. */
static void need_one(struct cfg *c, const config_setting_t *g, const char *key,
		     int rc, size_t n, const char *example)
{
	if (rc == 1 && n == 0)
		cfg_error(
		    c, config_setting_get_member(g, key),
		    "'%s' is empty; write at least one, e.g. %s = [ %s ];", key,
		    key, example);
	else if (rc == 0 && !strcmp(key, "gateway"))
		require(c, g, key, "[ \"192.0.2.1\" ]");
	else if (rc == 0 && !strcmp(key, "remote_ts"))
		require(c, g, key, "[ \"10.0.0.0/8\" ]");
}

static void load_lists(struct cfg *c, const config_setting_t *g,
		       struct mobiked_conf *conf)
{
	int rc;

	rc = each_str(c, g, "gateway", CONF_MAX_GATEWAYS, gateway_item,
		      conf->gateway, &conf->n_gateway);
	need_one(c, g, "gateway", rc, conf->n_gateway, "\"192.0.2.1\"");
	rc = each_str(c, g, "ike_proposals", CONF_MAX_PROPOSALS, ike_item,
		      conf->ike, &conf->n_ike);
	need_one(c, g, "ike_proposals", rc, conf->n_ike,
		 "\"aes256gcm16-prfsha384-x25519\"");
	rc = each_str(c, g, "esp_proposals", CONF_MAX_PROPOSALS, esp_item,
		      conf->esp, &conf->n_esp);
	need_one(c, g, "esp_proposals", rc, conf->n_esp, "\"aes256gcm16\"");
	rc = each_str(c, g, "remote_ts", CONF_MAX_TS, ts_item, conf->remote_ts,
		      &conf->n_remote_ts);
	need_one(c, g, "remote_ts", rc, conf->n_remote_ts, "\"10.0.0.0/8\"");
	conf->local_ts_dynamic = false;
	rc = each_str(c, g, "local_ts", CONF_MAX_TS, local_ts_item, conf,
		      &conf->n_local_ts);
	need_one(c, g, "local_ts", rc, conf->n_local_ts, "\"dynamic\"");
	if (rc == 0)
		conf->local_ts_dynamic = true;
	if (conf->local_ts_dynamic && conf->n_local_ts > 1)
		cfg_error(c, config_setting_get_member(g, "local_ts"),
			  "'local_ts': \"dynamic\" stands alone; write "
			  "local_ts = [ \"dynamic\" ]; or list prefixes");
	if (conf->local_ts_dynamic)
		conf->n_local_ts = 0;
	each_str(c, g, "vips", CONF_MAX_VIPS, vip_item, conf->vip,
		 &conf->n_vip);
}

static void load_scalars(struct cfg *c, const config_setting_t *g,
			 struct mobiked_conf *conf)
{
	static const char *const autos[] = {"start", "none", NULL};
	int a = (int)conf->autostart;
	uint32_t port = conf->port;

	get_u32(c, g, "port", &port, 1, 65535);
	conf->port = (uint16_t)port;
	load_id(c, g, "local_id", &conf->local_id);
	load_id(c, g, "remote_id", &conf->remote_id);
	load_psk(c, g, conf);
	cfg_bool(c, g, "request_dns", &conf->request_dns, false);
	load_mobike(c, g, conf);
	cfg_bool(c, g, "encap", &conf->encap, false);
	get_u32(c, g, "dpd_delay", &conf->dpd_delay_s, 0, 86400);
	get_u32(c, g, "keepalive", &conf->keepalive_s, 0, 3600);
	get_u32(c, g, "ike_lifetime", &conf->ike_lifetime_s, 0, 604800);
	get_u32(c, g, "child_lifetime", &conf->child_lifetime_s, 0, 604800);
	get_u64(c, g, "child_lifetime_bytes", &conf->child_life_bytes);
	get_u64(c, g, "child_lifetime_packets", &conf->child_life_packets);
	get_u32(c, g, "keyingtries", &conf->keyingtries, 0, 1000);
	load_fragment_size(c, g, conf);
	if (cfg_enum(c, g, "start_action", autos, &a, false) == 0)
		conf->autostart = (enum conf_auto)a;
	load_retransmit(c, g, &conf->retransmit);
	load_tunnel(c, g, conf);
}

static void fill_sockaddrs(struct mobiked_conf *conf)
{
	for (size_t i = 0; i < conf->n_gateway; i++)
		conf->gateway[i].salen = ipaddr_to_sockaddr(
		    &conf->gateway[i].addr, conf->port, &conf->gateway[i].sa);
}

int mobiked_conf_load(struct cfg *c, struct mobiked_conf *out)
{
	int nerr = c->nerr;
	const config_setting_t *g;

	memset(out, 0, sizeof(*out));
	g = cfg_group(c, NULL, "connection", false);
	if (!g)
		return c->nerr > nerr ? -1 : 0;
	set_defaults(out);
	cfg_keys(c, g, conn_keys);
	load_lists(c, g, out);
	load_scalars(c, g, out);
	if (c->nerr > nerr) {
		mobiked_conf_free(out);
		return -1;
	}
	default_proposals(out);
	fill_sockaddrs(out);
	out->configured = true;
	return 0;
}

void mobiked_conf_free(struct mobiked_conf *conf)
{
	explicit_bzero(conf, sizeof(*conf));
}

const char *mobiked_conf_summary(const struct mobiked_conf *conf, char *buf,
				 size_t n)
{
	char a[IPADDR_STRLEN], more[32] = "";

	if (!conf->configured) {
		snprintf(buf, n, "no connection configured");
		return buf;
	}
	if (conf->n_gateway > 1)
		snprintf(more, sizeof(more), " (+%zu more)",
			 conf->n_gateway - 1);
	snprintf(buf, n, "gateway %s%s, %zu IKE proposal%s, %zu ESP proposal%s",
		 ipaddr_str(&conf->gateway[0].addr, a), more, conf->n_ike,
		 conf->n_ike == 1 ? "" : "s", conf->n_esp,
		 conf->n_esp == 1 ? "" : "s");
	return buf;
}
