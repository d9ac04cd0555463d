/*
 * conf.h - mipd configuration beyond `role`: the home agent's `ha` group
 * and the `mobile_nodes` list of mobility security associations (RFC 5944
 * 1.6, 3.5).  The `mn` and `fa` groups are read by conf_mn.c and
 * conf_fa.c; each is accepted only in its own role.
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
 *     reverse_tunnel = "offered";    # or "required" (138), "off" (137)
 *     max_simultaneous_bindings = 0; # 1: S for a second CoA gets 135
 *     advertise = false;  advertise_interval = 1;  adv_lifetime = 3;
 *     prefix_lengths = true;  # RFC 5944 2.1.2 extension, see below
 *     forward_broadcast = true;  forward_multicast = false;  # B bit
 *   };
 *   mobile_nodes = ( { home_address = "10.10.0.100"; spi = 256;
 *                      algorithm = "hmac-md5"; key_file = "mn1.key";
 *                      enabled = true; } );       # false: 129
 *
 * Every setting has a default, so `role = "ha";` alone is a valid (if
 * useless: no mobile node can register) home agent.
 *
 * prefix_lengths (ha and fa): advertisements carry the Prefix-Lengths
 * extension, from which mobile nodes tell a move by a new network prefix
 * (RFC 5944 2.4.2.2).  On by default, right for wired links like the
 * lab's, where every agent of a subnet reaches every node on it.  Turn it
 * off where agents of one subnet cover different cells (wireless): RFC
 * 5944 Appendix E says they SHOULD NOT send it.  adv_lifetime must be at
 * least 3 x advertise_interval (RFC 5944 2.3.1).
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
#define HA_KEEPALIVE_DEFAULT	110
#define HA_MAX_BINDINGS_DEFAULT 65536
#define HA_MAX_LIFETIME_DEFAULT 1800
#define HA_RATE_DEFAULT		100
#define HA_BURST_DEFAULT	20

/* One mobile node the home agent serves: home address and its MN-HA
 * security association (the SPI indexes it, RFC 5944 3.5.2), 16 bytes.
 * The key is key_len bytes at key_off in the ha_conf's key arena, so a
 * node costs its key's length and no fixed-size slot; the replay mode and
 * window are the home agent's (ha_conf), the same for every node.
 * mn_entry_sa() gives the struct reg_sa that reg_auth.h works with. */
struct mn_entry {
	struct in_addr hoa;
	uint32_t spi;
	uint32_t key_off;
	uint16_t key_len; /* 1..REG_KEY_MAX */
	uint8_t alg;	  /* enum reg_alg */
	uint8_t flags;	  /* MN_ENTRY_* */
};

/* `enabled = false`: the node authenticates but may not register (129). */
#define MN_ENTRY_DISABLED 0x01

/* RFC 3024 4.2: the home agent's reverse tunnelling policy. */
enum ha_revtun {
	HA_REVTUN_OFFERED,  /* T honoured, not needed */
	HA_REVTUN_REQUIRED, /* no T bit: 138 */
	HA_REVTUN_OFF,	    /* T bit: 137 */
};

/* RFC 1256 / RFC 5944 2.3.1 defaults of agent advertisements. */
#define AGENT_ADV_INTERVAL_DEFAULT 1 /* s; RFC 5944 2.3.1: not above 1/s */

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
	enum ha_revtun reverse_tunnel;
	/* RFC 5944 3.3 S bit.  0: not honoured, a registration replaces the
	 * binding (reply 1); 1: a request with S that would add a second
	 * care-of address is refused with 135.  The cache holds one. */
	uint8_t max_simultaneous;
	bool advertise;		  /* RFC 5944 2.3: H-bit advertisements */
	uint32_t adv_interval_ms; /* 0: answer solicitations only */
	uint16_t adv_lifetime;	  /* s; 0: 3 x interval */
	bool prefix_lengths;	  /* Prefix-Lengths in advertisements */
	bool fwd_broadcast;	  /* RFC 5944 4.3: for bindings with B */
	bool fwd_multicast;	  /* ... multicast too */
	struct mn_entry *mns;	  /* malloc'd */
	size_t nmns;
	uint8_t *keys; /* key arena of the mns, malloc'd; wiped on free */
	size_t keys_len, keys_cap;
};

/* The foreign agent's `fa` group (RFC 5944 2.3, 3.7); read by
 * conf_fa.c, documented in fa.h. */
#define FA_ADV_INTERVAL_DEFAULT	   AGENT_ADV_INTERVAL_DEFAULT
#define FA_MAX_HOME_AGENTS	   16 /* entries of fa.home_agents */
#define FA_REG_LIFETIME_DEFAULT	   1800
#define FA_MAX_VISITORS_DEFAULT	   1024
#define FA_PENDING_TIMEOUT_DEFAULT 7   /* s before a 78 reply */
#define FA_TABLE_DEFAULT	   434 /* reverse-tunnel routing table */

struct fa_conf {
	char interface[IFNAMSIZ]; /* the visited link; required to run */
	struct in_addr address;	  /* 0: the interface's address */
	struct in_addr coa;	  /* care-of address; 0: address */
	char tunnel[IFNAMSIZ];	  /* TUN of the tunnel to home agents */
	uint16_t port;		  /* MIP4_PORT; tests may change it */
	uint16_t ha_port;	  /* where requests are relayed to */
	uint32_t adv_interval_ms; /* 0: no unsolicited advertisements */
	uint16_t adv_lifetime;	  /* s; 0: 3 x interval */
	bool prefix_lengths;	  /* Prefix-Lengths in advertisements */
	uint16_t reg_lifetime;	  /* longest lifetime granted */
	bool reverse_tunnel;	  /* T bit offered (RFC 3024) */
	bool reverse_required;	  /* 75 without the T bit */
	bool reg_required;	  /* R bit (RFC 5944 2.1.1) */
	uint32_t max_visitors;
	uint32_t pending_ms;
	uint32_t table, rule_priority;
	/* fa.home_agents: the home agents requests may name (prefixes, host
	 * order); none configured = any.  Others get 65. */
	struct {
		uint32_t net, mask;
	} ha_allow[FA_MAX_HOME_AGENTS];
	unsigned nha_allow;
};

/* The mobile node's `mn` group; read by conf_mn.c, used by mn.c.
 * `configured` is false when the group is absent: the MN then idles. */
#define MN_DHCP_COMMAND_DEFAULT "dhcpcd"
#define MN_RETRY_DEFAULT_S	30

struct mn_conf {
	bool configured;
	struct in_addr home;	  /* home address */
	unsigned home_plen;	  /* home prefix length */
	struct in_addr ha;	  /* home agent */
	struct in_addr gateway;	  /* home link router; 0: none */
	char interface[IFNAMSIZ]; /* the physical interface */
	char tunnel[IFNAMSIZ];	  /* TUN of the co-located tunnel */
	struct reg_sa sa;	  /* MN-HA security association; sa.replay
				   * is the `replay` key (timestamp/nonce) */
	uint8_t *key;		  /* owns sa.key's bytes; wiped on free */
	bool reverse_tunnel, nat_traversal, force_udp;
	uint16_t lifetime;
	uint32_t retx_initial_ms;
	unsigned tries;
	uint32_t retry_ms; /* policy retry after a failed attachment */
	char nai[73];
	bool dhcp_enabled;
	char dhcp_command[256];
	char dhcp_state_dir[512]; /* "": no private dirs for dhcpcd */
	bool vpn_enabled;
	char vpn_socket[108];
	bool keep_vpn_when_trusted;
};

struct mipd_conf {
	int role; /* enum mipd_role */
	struct ha_conf ha;
	struct fa_conf fa;
	struct mn_conf mn;
};

extern const char *const mipd_role_names[];

/* Top-level keys besides log/control, for daemon_config(). */
extern const char *const mipd_conf_keys[];

/* Fills defaults for the role, then reads the groups.  Errors go into c
 * (file:line, what to write); returns -1 if any. */
int mipd_conf_load(struct cfg *c, struct mipd_conf *mc);
void mipd_conf_free(struct mipd_conf *mc);
void ha_conf_defaults(struct ha_conf *h);

/* Copies len (1..REG_KEY_MAX) key bytes into h's arena and points m at
 * them; -1 on a bad length or out of memory.  The arena grows by copying
 * and wiping the old block, so no stale key is left in freed memory. */
int ha_conf_set_key(struct ha_conf *h, struct mn_entry *m, const void *key,
		    size_t len);
/* Wipes and frees the mns and the key arena (mipd_conf_free does it). */
void ha_conf_free_mns(struct ha_conf *h);

/* The SA of node m, pointing into h's arena: valid until the arena grows
 * or is freed. */
static inline struct reg_sa mn_entry_sa(const struct ha_conf *h,
					const struct mn_entry *m)
{
	return (struct reg_sa){
	    .key = m->key_len ? h->keys + m->key_off : NULL,
	    .key_len = m->key_len,
	    .spi = m->spi,
	    .alg = (enum reg_alg)m->alg,
	    .replay = h->replay,
	    .window = h->window,
	};
}

/* A key file's contents: "0x" and an even number of hex digits, or the
 * raw bytes.  Writes at most cap bytes to out; -1 if malformed, empty or
 * longer than cap. */
int mipd_key_decode(const uint8_t *raw, size_t len, uint8_t *out, size_t cap,
		    size_t *out_len);
/* Reads group g's `key_file` (must not be group/world readable) into
 * key; every problem is a cfg error naming file:line and the fix.
 * example: the file name suggested when the setting is missing. */
int mipd_key_file(struct cfg *c, const config_setting_t *g, const char *example,
		  uint8_t *key, size_t cap, size_t *klen);
void fa_conf_defaults(struct fa_conf *f);
/* The `fa` group (conf_fa.c); errors go into c. */
void fa_conf_load(struct cfg *c, struct fa_conf *f);
/* The `mn` group (conf_mn.c); errors go into c. */
void mn_conf_defaults(struct mn_conf *m);
void mn_conf_load(struct cfg *c, struct mn_conf *m);

#endif
