/*
 * mn_int.h - mobile node internals shared by mn.c (netlink, policy and
 * registration glue), mn_path.c (the data path of each access mode),
 * mn_agent.c (agent discovery), mn_dhcp.c (dhcpcd as a helper) and
 * mn_keepalive.c (RFC 3519 keepalives of the UDP tunnel).
 * Not for other modules; unit tests use it.
 */
#ifndef MIPD_MN_INT_H
#define MIPD_MN_INT_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/ip4.h"
#include "common/json.h"
#include "mipd/conf.h"
#include "mipd/reg_msg.h"
#include "policy/policy.h"

/* ---- RFC 3519 keepalives (mn_keepalive.c) ---------------------------- */

/* The interval when the UDP Tunnel Reply says 0 ("use your default",
 * RFC 3519 3.2): short enough for NATs that drop idle UDP mappings after
 * 30 s (the value RFC 3948 uses for its NAT keepalives). */
#define MN_KEEPALIVE_DEFAULT_S 20u
/* The inner packet: IPv4 header, ICMP Echo Request header, 8 data bytes. */
#define MN_KA_IP_LEN   20
#define MN_KA_DATA     "mipd-ka!"
#define MN_KA_DATA_LEN 8
#define MN_KA_LEN      (MN_KA_IP_LEN + 8 + MN_KA_DATA_LEN)

/* Sends an inner packet through the UDP tunnel; 0 or -1. */
typedef int (*mn_keepalive_send_fn)(void *arg, const uint8_t *pkt, size_t len);

struct mn_keepalive {
	struct eloop *loop;
	mn_keepalive_send_fn send;
	void *arg;
	struct timer t;
	uint32_t interval_ms; /* 0: stopped */
	uint64_t last_tx_ns;  /* last request or tunnelled packet sent */
	struct in_addr hoa, ha;
	uint16_t ident, seq;
	uint64_t sent, replies, send_errors;
};

void mn_keepalive_init(struct mn_keepalive *k, struct eloop *l,
		       mn_keepalive_send_fn send, void *arg);
/* IP-in-UDP in use: keepalives every interval_s (0 = the default) of
 * silence towards the HA.  Again with the same values: nothing changes. */
void mn_keepalive_start(struct mn_keepalive *k, struct in_addr hoa,
			struct in_addr ha, uint16_t interval_s);
void mn_keepalive_stop(struct mn_keepalive *k);
/* Something (request, tunnelled packet) was just sent to the HA. */
void mn_keepalive_traffic(struct mn_keepalive *k);
/* An inner packet out of the UDP tunnel (checked, from ip4_parse): true
 * (and counted) if it answers one of our keepalives - the caller drops it
 * then. */
bool mn_keepalive_reply(struct mn_keepalive *k, const struct ip4_view *in);
void mn_keepalive_status(const struct mn_keepalive *k, struct jw *out);
/* The inner packet: ICMP Echo Request src -> dst, identifier ident and
 * sequence seq (also the IP identification).  MN_KA_LEN, or 0. */
size_t mn_keepalive_build(uint8_t *out, size_t cap, struct in_addr src,
			  struct in_addr dst, uint16_t ident, uint16_t seq);
/* The same with the monotonic time given (tests). */
void mn_keepalive_start_at(struct mn_keepalive *k, struct in_addr hoa,
			   struct in_addr ha, uint16_t interval_s,
			   uint64_t now);
void mn_keepalive_traffic_at(struct mn_keepalive *k, uint64_t now);
/* The timer at now: a keepalive if the interval passed in silence, else
 * the timer moves to last transmission + interval. */
void mn_keepalive_fire_at(struct mn_keepalive *k, uint64_t now);

/* ---- data path (mn_path.c) ------------------------------------------- */

/* Metric of the default routes of modes c and f: below dhcpcd's (1000 +
 * ifindex), above a static metric-0 default a user or the lab adds at
 * home, so neither `ip route add` collides with ours. */
#define MN_ROUTE_METRIC 10

struct mn_path_stats {
	uint64_t tx_ipip, tx_udp, tx_drop; /* mip0 -> HA */
	uint64_t rx_ipip, rx_udp, rx_drop; /* HA -> mip0 */
};

struct mn_path {
	const struct mn_conf *conf;
	struct eloop *loop;
	int udp_fd; /* the registration socket (IP-in-UDP), not owned */
	int tun_fd, tun_ifindex, raw_fd;
	char tun_name[IFNAMSIZ];
	enum access_mode mode;
	int ifindex;	      /* physical interface of the current mode */
	struct in_addr coa;   /* co-located CoA (c) */
	struct in_addr fa;    /* foreign agent (f) */
	struct in_addr gw;    /* the visited link's router (c) */
	struct in_addr ha;    /* tunnel peer: conf->ha, or what a 136 said */
	bool udp;	      /* RFC 3519 IP-in-UDP instead of IP-in-IP */
	uint16_t keepalive_s; /* ... and the HA's keepalive interval */
	/* what we added, so leaving a mode removes exactly that */
	bool hoa_tun, hoa_phys32, hoa_home, dflt_tun, dflt_fa, fa_host;
	bool ha_host, dflt_home;
	int hoa_phys_ifindex;
	struct in_addr ha_host_gw;
	uint16_t ip_id;
	struct mn_path_stats st;
	struct mn_keepalive ka; /* RFC 3519, while udp */
	uint8_t buf[65600], out[65600];
};

/* with_tun false: routes and addresses only (unit tests without TUN). */
int mn_path_open(struct mn_path *p, struct eloop *l, const struct mn_conf *c,
		 int udp_fd, bool with_tun);
void mn_path_close(struct mn_path *p);
/* The data path for mode m through ifindex; coa: co-located CoA (c);
 * fa: the agent (f).  Undoes what the previous mode needed and not this
 * one.  0, or -1 when a kernel change failed (logged). */
int mn_path_set(struct mn_path *p, enum access_mode m, int ifindex,
		struct in_addr coa, struct in_addr fa);
/* Before a request through an FA: the home address on the link as /32
 * and an on-link route to the agent (RFC 5944 3.6.1.2: the request
 * comes from the home address). */
int mn_path_prepare_fa(struct mn_path *p, int ifindex, struct in_addr fa);
/* The home agent the registration now goes to (mn_reg's, after 136). */
void mn_path_set_ha(struct mn_path *p, struct in_addr ha);
/* The visited link's router (a default route dhcpcd added), 0 = none. */
void mn_path_set_gateway(struct mn_path *p, struct in_addr gw);
/* RFC 3519: IP-in-UDP (udp true) with keepalives every keepalive_s
 * seconds (0: MN_KEEPALIVE_DEFAULT_S) in mode c, or IP-in-IP. */
void mn_path_set_udp(struct mn_path *p, bool udp, uint16_t keepalive_s);
/* RFC 3519 tunnel data (type 4) that reached the registration socket. */
void mn_path_udp_input(struct mn_path *p, const uint8_t *msg, size_t len,
		       uint32_t src);
/* The checks of the data path, pure (tests, fuzzing).  Each is 0, or -1
 * with r failed.  What mode c tunnels: r holds a whole IPv4 packet from
 * the home address hoa whose header checksum verifies (*v). */
int mn_path_outbound(struct rbuf *r, struct in_addr hoa, struct ip4_view *v);
/* What it takes out of the tunnel: r holds an IP-in-IP packet (RFC 2003)
 * from the home agent ha whose inner packet (*inner, checksum verified)
 * is for hoa; bytes after the inner packet are not part of it. */
int mn_path_ipip_decap(struct rbuf *r, struct in_addr ha, struct in_addr hoa,
		       struct ip4_view *inner);
/* The same for a tunnel data message (RFC 3519 3.3) from UDP source src. */
int mn_path_udp_decap(struct rbuf *r, uint32_t src, struct in_addr ha,
		      struct in_addr hoa, struct ip4_view *inner);

/* ---- agent discovery (mn_agent.c) ------------------------------------ */

typedef void (*mn_adv_cb)(void *arg, const struct policy_ev *ev);

struct mn_agent {
	const struct mn_conf *conf;
	/* The home agent registrations go to (mn_reg's: conf->ha, or what a
	 * 136 named), whose advertisement means home; NULL: conf->ha. */
	const struct in_addr *ha;
	struct eloop *loop;
	int fd, ifindex;
	mn_adv_cb cb;
	void *arg;
	struct timer t_sol;
	unsigned sol_left;
	uint64_t adv_rx, adv_bad, sol_tx;
	bool have_last;
	struct policy_adv last;
};

/* An advertisement from src on ifindex as a policy AGENT_ADV event; ha:
 * our home agent's address now.  false when it offers nothing to us (not
 * an agent, or another home agent).  A busy FA's advertisement is an
 * event with adv.busy: it refreshes the agent, offers no registration. */
bool mn_adv_event(struct in_addr ha, const struct reg_adv *a,
		  struct in_addr src, int ifindex, struct policy_ev *ev);
/* ha: see struct mn_agent. */
int mn_agent_open(struct mn_agent *g, struct eloop *l, const struct mn_conf *c,
		  const struct in_addr *ha, mn_adv_cb cb, void *arg);
void mn_agent_close(struct mn_agent *g);
/* Link up or a new address: up to three solicitations, 1 s apart
 * (RFC 5944 2.4), stopped by the first advertisement. */
void mn_agent_solicit(struct mn_agent *g, int ifindex);
/* One received ICMP datagram (IP header included); for tests. */
void mn_agent_input(struct mn_agent *g, const uint8_t *pkt, size_t len);

/* ---- dhcpcd (mn_dhcp.c) ---------------------------------------------- */

struct mn_dhcp {
	const struct mn_conf *conf;
	struct eloop *loop;
	pid_t pid;	/* running */
	pid_t stopping; /* SIGTERM sent, not reaped yet */
	struct timer t_kill;
	unsigned starts;
};

void mn_dhcp_init(struct mn_dhcp *d, struct eloop *l, const struct mn_conf *c);
/* Starts dhcpcd on the interface unless it runs.  0 or -1. */
int mn_dhcp_start(struct mn_dhcp *d);
/* SIGTERM by PID without waiting: reaped on SIGCHLD, SIGKILL after 2 s. */
void mn_dhcp_stop(struct mn_dhcp *d);
/* SIGCHLD: reaps what exited (stopped or on its own). */
void mn_dhcp_reap(struct mn_dhcp *d);
/* Exit: stop and wait for it. */
void mn_dhcp_fini(struct mn_dhcp *d);

#endif
