/*
 * conf.h - the mobiked "connection" configuration as plain structs.
 *
 * mobiked_conf_load() reads the top-level `connection = { ... };` group of
 * an open config (see conf/mobiked.conf for every key and its default) and
 * reports each problem through cfg_error() as "file:line: what is wrong;
 * what to write instead".  Proposal strings use strongSwan's spelling
 * ("aes256gcm16-prfsha384-x25519", "aes256-sha256-modp2048", "aes256gcm16",
 * "aes256-sha256-x25519-esn"), one algorithm of each kind per proposal.
 *
 * All ids are IANA values from ikev2.h.  The PSK stays in memory only
 * here; mobiked_conf_free() wipes it.  Nothing in this module logs it.
 */
#ifndef MOBIKED_CONF_H
#define MOBIKED_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/addr.h"
#include "common/cfg.h"

#define CONF_MAX_GATEWAYS    4
#define CONF_MAX_PROPOSALS   8
#define CONF_MAX_TS	     8
#define CONF_MAX_VIPS	     2
#define CONF_ID_MAX	     256
#define CONF_PSK_MAX	     256
#define CONF_TUN_NAME_MAX    16 /* IFNAMSIZ */
#define CONF_PROPOSAL_STRLEN 128
/* The smallest fragment_size: room for content in an IKE fragment with
 * every suite over IPv6 with the non-ESP marker (ike_frag.h). */
#define CONF_FRAGMENT_SIZE_MIN 256

/* One IKE SA proposal; integ is IKE_INTEG_NONE with an AEAD cipher. */
struct ike_proposal_conf {
	uint16_t encr;	    /* enum ike_encr */
	uint16_t encr_bits; /* Key Length attribute: 128, 192, 256 */
	uint16_t prf;	    /* enum ike_prf */
	uint16_t integ;	    /* enum ike_integ */
	uint16_t dh;	    /* enum ike_dh, never NONE */
};

/* One CHILD_SA (ESP) proposal; dh NONE = no PFS. */
struct esp_proposal_conf {
	uint16_t encr, encr_bits;
	uint16_t integ; /* IKE_INTEG_NONE with an AEAD cipher */
	uint16_t dh;	/* enum ike_dh; IKE_DH_NONE = no PFS */
	bool esn;	/* offer only ESN ("esn"); default: only no-ESN */
};

/* A traffic selector: an address range plus optional protocol/ports. */
struct ts_conf {
	struct ipaddr start, end;  /* same family, start <= end */
	uint8_t proto;		   /* 0 = any */
	uint16_t port_lo, port_hi; /* 0..65535 = any */
};

/* IKE identity: ID payload type and its data (RFC 7296 3.5). */
struct id_conf {
	uint8_t type; /* enum ike_id_type */
	uint8_t data[CONF_ID_MAX];
	size_t len;
};

struct gateway_conf {
	struct ipaddr addr;
	struct sockaddr_storage sa; /* addr with the IKE port */
	socklen_t salen;
};

struct retransmit_conf {
	uint32_t timeout_ms; /* first retransmit after this */
	double base;	     /* each next wait = previous * base */
	uint32_t tries;	     /* retransmits before giving up */
};

enum conf_auto {
	CONF_AUTO_START, /* bring the connection up when the daemon starts */
	CONF_AUTO_NONE,	 /* wait for `mobctl mobiked up` */
};

struct mobiked_conf {
	bool configured; /* false: no connection group, the daemon idles */

	struct gateway_conf gateway[CONF_MAX_GATEWAYS]; /* in order of use */
	size_t n_gateway;
	uint16_t port; /* IKE port on the gateway, default 500 */

	struct id_conf local_id, remote_id;
	uint8_t psk[CONF_PSK_MAX]; /* secret: never log */
	size_t psk_len;

	struct ike_proposal_conf ike[CONF_MAX_PROPOSALS]; /* preference order */
	size_t n_ike;
	struct esp_proposal_conf esp[CONF_MAX_PROPOSALS];
	size_t n_esp;

	struct ts_conf remote_ts[CONF_MAX_TS];
	size_t n_remote_ts;
	/* local_ts_dynamic: TSi = the virtual IP(s) received (or the outer
	 * address without one); local_ts[] unused then. */
	bool local_ts_dynamic;
	struct ts_conf local_ts[CONF_MAX_TS];
	size_t n_local_ts;

	/* INTERNAL_IP4/IP6_ADDRESS requests: "0.0.0.0" / "::" ask for any
	 * address, a specific address asks for that one. */
	struct ipaddr vip[CONF_MAX_VIPS];
	size_t n_vip;
	bool request_dns; /* INTERNAL_IP4_DNS / INTERNAL_IP6_DNS */

	bool mobike; /* announce MOBIKE_SUPPORTED; true refused for now */
	bool encap;  /* force UDP encapsulation (fake NAT-D source) */

	struct retransmit_conf retransmit;
	uint32_t dpd_delay_s;	   /* 0 = no DPD */
	uint32_t keepalive_s;	   /* NAT keepalive interval; 0 = off */
	uint32_t ike_lifetime_s;   /* IKE SA rekey/reauth time */
	uint32_t child_lifetime_s; /* CHILD_SA rekey time */
	/* RFC 4301 4.4.2.1 hard limits per SA and direction, 0 = none;
	 * rekeyed at 90% (the soft limit). */
	uint64_t child_life_bytes, child_life_packets;
	uint32_t keyingtries; /* attempts to establish; 0 = keep trying */
	/* RFC 7383 2.5.1: the largest IP datagram (IP + UDP + IKE) of ours
	 * before we fragment a message; 0 = never fragment. */
	uint32_t fragment_size;
	enum conf_auto autostart;

	char tun_name[CONF_TUN_NAME_MAX];
	uint32_t tun_mtu;
};

/* Fills out from the "connection" group; defaults for absent keys.  No
 * group: 0 with out->configured false.  -1 after reporting every error
 * into c (out is then wiped). */
int mobiked_conf_load(struct cfg *c, struct mobiked_conf *out);
/* Wipes the PSK and everything else. */
void mobiked_conf_free(struct mobiked_conf *conf);
/* One line for `-t` and logs: "gateway 192.0.2.1, 2 IKE proposals, 2 ESP
 * proposals" or "no connection configured"; returns buf. */
const char *mobiked_conf_summary(const struct mobiked_conf *conf, char *buf,
				 size_t n);

/* strongSwan-style proposal strings.  0, or -1 with a message in err that
 * names the bad keyword and lists the valid ones. */
int proposal_parse_ike(const char *s, struct ike_proposal_conf *p, char *err,
		       size_t errlen);
int proposal_parse_esp(const char *s, struct esp_proposal_conf *p, char *err,
		       size_t errlen);
/* "AES_GCM_16_256/PRF_HMAC_SHA2_384/CURVE_25519"; returns buf. */
const char *proposal_str_ike(const struct ike_proposal_conf *p, char *buf,
			     size_t n);
/* "AES_CBC_256/HMAC_SHA2_256_128/MODP_2048/EXT_SEQ"; returns buf. */
const char *proposal_str_esp(const struct esp_proposal_conf *p, char *buf,
			     size_t n);

/* "10.1.0.0/16", "10.1.0.1-10.1.0.9", "::/0", optionally followed by
 * "[tcp]", "[udp/53]" or "[tcp/8000-8099]" (protocol name or number). */
int ts_parse(const char *s, struct ts_conf *ts);
/* "fqdn:", "email:" (or "rfc822:", "userfqdn:"), "ipv4:", "ipv6:",
 * "keyid:" ("keyid:#hex" for bytes); without a prefix: an address, an
 * email if it has '@', "@name" = FQDN, otherwise an FQDN.  0, or -1 with
 * a message in err. */
int id_parse(const char *s, struct id_conf *id, char *err, size_t errlen);
/* Hex digits (even count, no prefix) into at most cap bytes. */
int hex_parse(const char *s, uint8_t *out, size_t cap, size_t *len);
/* For logs: "fqdn:gw.lab", "email:mn@lab", "ipv4:10.0.0.1", "keyid:#0a1b". */
const char *id_conf_str(const struct id_conf *id, char *buf, size_t n);
/* For logs: "10.0.0.0-10.255.255.255" plus "[tcp/80]" when narrowed. */
const char *ts_conf_str(const struct ts_conf *ts, char *buf, size_t n);

#endif
