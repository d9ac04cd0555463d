/*
 * conf.h - mipd configuration beyond `role`: the home agent's `ha` group
 * and the `mobile_nodes` list of mobility security associations (RFC 5944
 * 1.6, 3.5).  The `mn` and `fa` groups belong to those roles' code and are
 * only accepted (not read) here while those roles are being written.
 *
 *   ha = {
 *     address = "10.10.0.2";        # default: the address requests reach
 *     home_prefix = "10.10.0.0/24"; # home addresses must be inside
 *     interface = "ha0";            # home link: proxy + gratuitous ARP
 *     tunnel = "mip0";              # the TUN device of the tunnels
 *     max_bindings = 65536;  max_lifetime = 1800;
 *     replay = "timestamp";  replay_window = 7;
 *     rate = { per_source = 100; burst = 20; };
 *     udp_tunnel = true;     keepalive = 110;
 *   };
 *   mobile_nodes = ( { home_address = "10.10.0.100"; spi = 256;
 *                      algorithm = "hmac-md5"; key_file = "mn1.key"; } );
 *
 * Every setting has a default, so `role = "ha";` alone is a valid (if
 * useless: no mobile node can register) home agent.
 */
#ifndef MIPD_CONF_H
#define MIPD_CONF_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cfg.h"
#include "mipd/reg_auth.h"

enum mipd_role { ROLE_MN, ROLE_HA, ROLE_FA };

/* RFC 3519 3.2: the keepalive interval the HA asks for; 110 s is the
 * RFC's default, under the usual 120 s NAT UDP timeout. */
#define HA_KEEPALIVE_DEFAULT 110
#define HA_MAX_BINDINGS_DEFAULT 65536
#define HA_MAX_LIFETIME_DEFAULT 1800
#define HA_RATE_DEFAULT 100
#define HA_BURST_DEFAULT 20

/* One mobile node the home agent serves: home address and its MN-HA
 * security association (the SPI indexes it, RFC 5944 3.5.2). */
struct mn_entry {
	struct in_addr hoa;
	struct reg_sa sa;
};

struct ha_conf {
	struct in_addr address; /* INADDR_ANY: whatever address was hit */
	struct in_addr prefix;	/* home prefix; plen 0 = not checked */
	unsigned plen;
	char interface[IFNAMSIZ]; /* "" = no home link (no proxy ARP) */
	char tunnel[IFNAMSIZ];
	uint16_t port; /* MIP4_PORT; tests may change it */
	uint32_t max_bindings;
	uint16_t max_lifetime;
	enum reg_replay_mode replay;
	uint32_t window;
	uint32_t rate, burst;
	bool udp_tunnel;
	uint16_t keepalive;
	struct mn_entry *mns; /* malloc'd */
	size_t nmns;
};

struct mipd_conf {
	int role; /* enum mipd_role */
	struct ha_conf ha;
};

extern const char *const mipd_role_names[];

/* Top-level keys besides log/control, for daemon_config(). */
extern const char *const mipd_conf_keys[];

/* Fills defaults for the role, then reads the groups.  Errors go into c
 * (file:line, what to write); returns -1 if any. */
int mipd_conf_load(struct cfg *c, struct mipd_conf *mc);
void mipd_conf_free(struct mipd_conf *mc);
void ha_conf_defaults(struct ha_conf *h);

#endif
