/*
 * policy.h - the access-mode policy engine (seed 002 section 3.4): events in,
 * actions out, no I/O.  Both daemons share the vocabulary; mipd in role mn
 * feeds the engine and carries out what it returns.
 *
 * The rules (seed 002 3.2-3.4, docs/architecture.md "Moves and
 * trusted-network detection"):
 *   - On every new usable address, at the same time: bring the VPN up or
 *     keep it (mobiked does MOBIKE or a fresh setup from the new address),
 *     and send a Registration Request to the internal HA outside the VPN.
 *   - An authenticated accepted reply to that request means trusted: mode f
 *     if it went through a foreign agent, else c.  The VPN is then torn
 *     down or kept idle (conf.keep_vpn_when_trusted).
 *   - No reply within the configured retransmissions (REG_TIMEOUT) means
 *     untrusted: once the VPN is up, register through it with the TIA as
 *     co-located care-of address (mc).
 *   - A TIA or VPN gateway change means a new registration through the VPN;
 *     a MOBIKE move that keeps the TIA needs none.
 *   - At home (our HA's advertisement, or the home address on the link):
 *     deregister, mode home.
 *   - FA discovery and DHCP run in parallel; whichever yields a care-of
 *     address first is used, and an FA found later is preferred (3.2).
 *   - Only authenticated replies decide trust; hints never do.  mn_reg
 *     drops what does not verify, 131 included (RFC 5944 3.6.2.1), so a
 *     wrong MN-HA key ends in REG_TIMEOUT like a silent HA: untrusted,
 *     the VPN.  Nothing latches: whoever sees one request must not be
 *     able to stop the node.
 *   - A denial that ends mn_reg's attempt (final: e.g. the T bit both
 *     ways refused) arms the retry timer.
 *   - Movement (RFC 5944 2.4.2.1/2.4.2.2): our agent is there while its
 *     advertisements come within their lifetime; a new prefix is a move.
 *     Another agent with our agent's prefix is no move while ours is
 *     still heard (POLICY_OTHER_ADV_MAX of its advertisements in a row
 *     without one of ours say ours is not), and a move after that.
 *   - A busy foreign agent (B bit) takes no new registration, but its
 *     advertisements keep it alive for its visitors (RFC 5944 2.1.1).
 *
 * The engine owns no timers: it asks for them with POLICY_ACT_TIMER and is
 * told with POLICY_EV_TIMER.  Addresses are IPv4 in network byte order.
 */
#ifndef POLICY_POLICY_H
#define POLICY_POLICY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Access modes of seed 002 section 3.1, plus being at home. */
enum access_mode {
	MODE_NONE, /* no usable address */
	MODE_HOME, /* on the home link: plain routing */
	MODE_C,	   /* co-located care-of address from DHCP */
	MODE_F,	   /* foreign-agent care-of address */
	MODE_MC,   /* Mobile IP inside the VPN, TIA as co-located CoA */
};

const char *access_mode_name(enum access_mode m);

/* --- events ------------------------------------------------------------ */

enum policy_ev_type {
	POLICY_EV_ADDR_USABLE, /* ifindex, addr, is_home */
	POLICY_EV_ADDR_GONE,   /* ifindex, addr */
	POLICY_EV_LINK_UP,     /* ifindex */
	POLICY_EV_LINK_DOWN,   /* ifindex */
	POLICY_EV_AGENT_ADV,   /* ifindex, adv */
	POLICY_EV_DHCP_LEASE,  /* ifindex, addr */
	POLICY_EV_REG_REPLY,   /* reply */
	POLICY_EV_REG_TIMEOUT, /* reply.path (code unused) */
	POLICY_EV_VPN_UP,      /* vpn */
	POLICY_EV_VPN_DOWN,
	POLICY_EV_TIA_CHANGED, /* vpn */
	POLICY_EV_TIMER,       /* timer */
};

/* Which request a reply or timeout belongs to. */
enum policy_path {
	POLICY_PATH_DIRECT, /* outside the VPN: co-located or via an FA */
	POLICY_PATH_VPN,    /* through the VPN, TIA as co-located CoA */
	POLICY_PATH_DEREG,  /* deregistration at home */
};

/* The engine's two timers. */
enum policy_timer {
	POLICY_TIMER_AGENT, /* the FA's advertisement lifetime ran out */
	POLICY_TIMER_RETRY, /* start detection again after a failure */
};

struct policy_adv {
	bool fa;   /* F bit: offers care-of addresses */
	bool home; /* our home agent's own advertisement: at home */
	struct in_addr fa_addr; /* where to send the RRQ (the agent) */
	struct in_addr coa;	/* first care-of address advertised */
	uint16_t seq;
	uint16_t lifetime;     /* ICMP advertisement lifetime, seconds */
	bool has_prefix;       /* Prefix-Lengths extension present */
	struct in_addr prefix; /* network prefix of the agent's address */
	uint8_t plen;
	bool busy; /* FA with the B bit: no new registrations */
};

struct policy_reply {
	enum policy_path path;
	bool accepted;	    /* code 0 or 1 and authenticated */
	bool authenticated; /* the reply's MN-HA authenticator verified */
	bool final;	    /* denied, and mn_reg stopped trying */
	uint8_t code;	    /* enum mip4_reply_code */
	struct in_addr coa; /* the care-of address the request carried */
};

struct policy_vpn {
	struct in_addr tia; /* tunnel inner address */
	struct in_addr gw;  /* VPN gateway */
};

struct policy_ev {
	enum policy_ev_type type;
	int ifindex;
	struct in_addr addr;
	bool is_home; /* ADDR_USABLE: the home address/prefix on this link */
	struct policy_adv adv;
	struct policy_reply reply;
	struct policy_vpn vpn;
	enum policy_timer timer;
};

/* --- actions ------------------------------------------------------------ */

enum policy_act_type {
	POLICY_ACT_SEND_RRQ_DIRECT,  /* coa, via_fa (fa_addr), ifindex */
	POLICY_ACT_SEND_RRQ_VIA_VPN, /* coa = TIA */
	POLICY_ACT_REG_CANCEL,	     /* drop the outstanding request */
	POLICY_ACT_DEREGISTER,	     /* at home: lifetime 0, CoA = HoA */
	POLICY_ACT_VPN_UP,	     /* start, or keep (MOBIKE) from addr */
	POLICY_ACT_VPN_DOWN,	     /* keep_idle: keep the IKE SA, no data */
	POLICY_ACT_SET_MODE,	     /* mode */
	POLICY_ACT_ROUTES,	     /* data path for mode via coa, ifindex */
	POLICY_ACT_TIMER,	     /* arm timer after ms; ms 0 = cancel */
};

struct policy_action {
	enum policy_act_type type;
	enum access_mode mode;
	int ifindex;
	struct in_addr coa;	/* RRQ / ROUTES care-of address */
	struct in_addr addr;	/* VPN_UP: local address to use */
	bool via_fa;		/* SEND_RRQ_DIRECT: through the FA */
	struct in_addr fa_addr; /* ... at this address */
	bool keep_idle;		/* VPN_DOWN */
	enum policy_timer timer;
	uint32_t ms;
	const char *why; /* static text for the log */
};

/* Advertisements from another agent with our agent's prefix, in a row
 * without one of ours, after which ours counts as no longer heard. */
#define POLICY_OTHER_ADV_MAX 3

/* At most this many actions come out of one event. */
#define POLICY_MAX_ACTIONS 8

/* --- the engine ------------------------------------------------------- */

struct policy_conf {
	bool keep_vpn_when_trusted; /* VPN_DOWN keep_idle on trusted nets */
	uint32_t retry_ms;	    /* POLICY_TIMER_RETRY; 0 = 30 s */
};

enum policy_trust {
	TRUST_UNKNOWN,	/* nothing sent yet on this attachment */
	TRUST_PROBING,	/* direct RRQ outstanding */
	TRUST_TRUSTED,	/* the HA answered outside the VPN */
	TRUST_UNTRUSTED /* it did not: the VPN carries Mobile IP */
};

/* What we last asked mobiked for, corrected by its events. */
enum policy_vpn_state {
	PVPN_OFF,      /* torn down (or never started) */
	PVPN_STARTING, /* VPN_UP asked, no VPN_UP event yet */
	PVPN_UP,       /* carrying data, TIA known */
	PVPN_IDLE,     /* kept idle on a trusted network */
};

/* What is outstanding at mn_reg, so stale replies are recognised. */
struct policy_pending {
	bool active;
	enum policy_path path;
	struct in_addr coa;
	bool via_fa;
};

struct policy {
	struct policy_conf conf;
	enum access_mode mode;
	enum policy_trust trust;
	bool at_home;
	int ifindex; /* the link we are attached through */

	bool have_addr; /* a local (co-located) address on the link */
	struct in_addr addr;

	bool have_fa; /* an FA advertises on the link */
	struct in_addr fa_addr, fa_coa;
	uint16_t fa_seq;
	bool fa_has_prefix; /* its Prefix-Lengths (RFC 5944 2.4.2.2) */
	struct in_addr fa_prefix;
	uint8_t fa_plen;
	unsigned other_advs; /* same-prefix ones from others since ours */

	enum policy_vpn_state vpn;
	struct policy_vpn tun;	       /* valid when vpn == PVPN_UP/IDLE */
	struct policy_vpn reg_tun;     /* TIA and gateway of the mc binding */
	struct policy_pending pending; /* outstanding registration */

	struct in_addr mode_coa; /* what the last ROUTES action carried */
	bool retry_armed;
};

void policy_init(struct policy *p, const struct policy_conf *conf);
/* Configuration reload. */
void policy_reconfigure(struct policy *p, const struct policy_conf *conf);

/* Feeds one event; writes the resulting actions to out[0..max) in the
 * order they must be carried out and returns how many, or -1 if max was
 * too small (POLICY_MAX_ACTIONS always suffices; the state is updated
 * either way). */
int policy_event(struct policy *p, const struct policy_ev *ev,
		 struct policy_action *out, size_t max);

enum access_mode policy_mode(const struct policy *p);
const char *policy_ev_name(enum policy_ev_type t);
const char *policy_act_name(enum policy_act_type t);
const char *policy_trust_name(enum policy_trust t);

#endif
