/*
 * test_policy.c - the access-mode policy engine as a table of scenarios.
 * Each scenario starts from a fresh engine and is a list of rows: one event
 * and the exact list of actions it must produce, in order.
 *
 * Addresses (host order in the tables, converted by the runner):
 *   link 2  home link      HoA 10.1.0.50
 *   link 3  internal DHCP  CCoA 10.2.0.77 (10.2.0.78, .79 later)
 *   link 4  internal FA    FA 10.3.0.1 advertising CoA 10.3.0.1,
 *                          DHCP also gives 10.3.0.66
 *   link 5  external       192.0.2.10
 *   link 6  external, NAT  172.16.0.10
 *   VPN     TIA 10.9.0.5 (10.9.0.6 after a change), gateways .100.1/.100.2
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "policy/policy.h"

#define IP(a, b, c, d)                                                         \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define HOA  IP(10, 1, 0, 50)
#define CCOA IP(10, 2, 0, 77)
#define CCO2 IP(10, 2, 0, 78)
#define CCO3 IP(10, 2, 0, 79)
#define FA   IP(10, 3, 0, 1)
#define FAL  IP(10, 3, 0, 66) /* DHCP lease on the FA subnet */
#define EXT  IP(192, 0, 2, 10)
#define NAT  IP(172, 16, 0, 10)
#define TIA  IP(10, 9, 0, 5)
#define TIA2 IP(10, 9, 0, 6)
#define GW   IP(198, 51, 100, 1)
#define GW2  IP(198, 51, 100, 2)

/* One event, addresses in host order. */
struct tev {
	enum policy_ev_type type;
	int ifx;
	uint32_t addr;
	bool home;
	bool fa;
	uint32_t coa;
	uint16_t seq, life;
	enum policy_path path;
	bool ok;
	uint8_t code;
	bool auth, final; /* reply authenticated; mn_reg gave up */
	uint32_t tia, gw;
	enum policy_timer timer;
	uint32_t pfx; /* Prefix-Lengths: network prefix ... */
	uint8_t plen; /* ... and its length; 0: no extension */
	bool busy;    /* the FA's B bit */
};

/* One expected action; t is 1 + enum policy_act_type, 0 ends the list. */
struct tact {
	int t;
	enum access_mode mode;
	uint32_t coa, addr, fa;
	bool via_fa, keep;
	enum policy_timer timer;
	uint32_t ms;
};

struct row {
	struct tev ev;
	struct tact act[POLICY_MAX_ACTIONS];
};

struct scenario {
	const char *name;
	bool keep_vpn;
	const struct row *rows;
	size_t n;
};

/* Scenario tables: one event and its actions per line. */
/* clang-format off */
/* --- events --- */
#define E_HOME(i, a) {.type = POLICY_EV_ADDR_USABLE, .ifx = i, .addr = a, .home = true}
#define E_ADDR(i, a) {.type = POLICY_EV_ADDR_USABLE, .ifx = i, .addr = a}
#define E_GONE(i, a) {.type = POLICY_EV_ADDR_GONE, .ifx = i, .addr = a}
#define E_LEASE(i, a) {.type = POLICY_EV_DHCP_LEASE, .ifx = i, .addr = a}
#define E_LDOWN(i) {.type = POLICY_EV_LINK_DOWN, .ifx = i}
#define E_LUP(i) {.type = POLICY_EV_LINK_UP, .ifx = i}
#define E_FA(i, s) {.type = POLICY_EV_AGENT_ADV, .ifx = i, .fa = true, .addr = FA, .coa = FA, .seq = s, .life = 9}
#define E_HA_ADV(i) {.type = POLICY_EV_AGENT_ADV, .ifx = i, .home = true}
#define E_OK(p, c) {.type = POLICY_EV_REG_REPLY, .path = POLICY_PATH_##p, .ok = true, .coa = c}
#define E_DENY(p, c, k) {.type = POLICY_EV_REG_REPLY, .path = POLICY_PATH_##p, .code = k, .coa = c}
#define E_DENY_A(p, c, k) {.type = POLICY_EV_REG_REPLY, .path = POLICY_PATH_##p, .code = k, .coa = c, .auth = true}
#define E_DENY_F(p, c, k) {.type = POLICY_EV_REG_REPLY, .path = POLICY_PATH_##p, .code = k, .coa = c, .auth = true, .final = true}
/* An FA at a advertising CoA c with network prefix pf/pl. */
#define E_FAX(i, a, c, s, pf, pl) {.type = POLICY_EV_AGENT_ADV, .ifx = i, .fa = true, .addr = a, .coa = c, .seq = s, .life = 9, .pfx = pf, .plen = pl}
/* The same, busy (B bit). */
#define E_FAB(i, a, c, s, pf, pl) {.type = POLICY_EV_AGENT_ADV, .ifx = i, .fa = true, .addr = a, .coa = c, .seq = s, .life = 9, .pfx = pf, .plen = pl, .busy = true}
#define E_TMO(p, c) {.type = POLICY_EV_REG_TIMEOUT, .path = POLICY_PATH_##p, .coa = c}
#define E_VUP(t, g) {.type = POLICY_EV_VPN_UP, .tia = t, .gw = g}
#define E_TIA(t, g) {.type = POLICY_EV_TIA_CHANGED, .tia = t, .gw = g}
#define E_VDOWN {.type = POLICY_EV_VPN_DOWN}
#define E_TIMER(w) {.type = POLICY_EV_TIMER, .timer = POLICY_TIMER_##w}

/* --- actions --- */
#define T(a) (1 + POLICY_ACT_##a)
#define A_RRQ(c) {.t = T(SEND_RRQ_DIRECT), .coa = c}
#define A_RRQ_FA {.t = T(SEND_RRQ_DIRECT), .coa = FA, .via_fa = true, .fa = FA}
#define A_RRQ_VPN(c) {.t = T(SEND_RRQ_VIA_VPN), .coa = c}
#define A_RRQ_FAX(a) {.t = T(SEND_RRQ_DIRECT), .coa = a, .via_fa = true, .fa = a}
#define A_CANCEL {.t = T(REG_CANCEL)}
#define A_DEREG {.t = T(DEREGISTER)}
#define A_VUP(a) {.t = T(VPN_UP), .addr = a}
#define A_VDOWN(k) {.t = T(VPN_DOWN), .keep = k}
#define A_MODE(m) {.t = T(SET_MODE), .mode = MODE_##m}
#define A_ROUTES(m, c) {.t = T(ROUTES), .mode = MODE_##m, .coa = c}
#define A_TIMER(w, m) {.t = T(TIMER), .timer = POLICY_TIMER_##w, .ms = m}
#define A_AGENT A_TIMER(AGENT, 9000)
#define NONE {{0}}

/* Reaching home from anywhere, VPN torn down. */
#define GO_HOME(k)                                                            \
	{E_HOME(2, HOA), {A_DEREG, A_VDOWN(k), A_MODE(HOME), A_ROUTES(HOME, 0)}}
/* Boot on an external network and end in mc. */
#define TO_MC                                                                 \
	{E_LEASE(5, EXT), {A_VUP(EXT), A_RRQ(EXT)}},                          \
	    {E_TMO(DIRECT, EXT), NONE}, {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},   \
	{                                                                     \
		E_OK(VPN, TIA), { A_MODE(MC), A_ROUTES(MC, TIA) }             \
	}

static const struct row boot_home[] = {
    {E_HOME(2, HOA), {A_DEREG, A_MODE(HOME), A_ROUTES(HOME, 0)}},
    {E_OK(DEREG, 0), NONE},
    {E_HA_ADV(2), NONE},		    /* already home */
    {E_ADDR(2, IP(10, 1, 0, 51)), NONE},   /* second address: no move */
    {E_OK(DEREG, 0), NONE},		    /* nothing pending */
};

/* Figure 1 internal side: home -> c -> f -> home. */
static const struct row intranet_moves[] = {
    {E_HOME(2, HOA), {A_DEREG, A_MODE(HOME), A_ROUTES(HOME, 0)}},
    {E_OK(DEREG, 0), NONE},
    {E_GONE(2, HOA), {A_MODE(NONE), A_ROUTES(NONE, 0)}},
    /* DHCP-only subnet: VPN and probe at the same time */
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_ADDR(3, CCOA), NONE}, /* netlink repeats the lease */
    {E_VUP(TIA, GW), NONE},  /* the probe decides first */
    {E_OK(DIRECT, CCOA), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, CCOA)}},
    {E_OK(DIRECT, CCOA), NONE}, /* a renewal is mn_reg's business */
    /* FA subnet */
    {E_LDOWN(3), {A_MODE(NONE), A_ROUTES(NONE, 0)}},
    {E_FA(4, 5), {A_AGENT, A_RRQ_FA}},
    {E_LEASE(4, FAL), {A_VUP(FAL)}}, /* FA preferred: no second RRQ */
    {E_OK(DIRECT, FA), {A_VDOWN(false), A_MODE(F), A_ROUTES(F, FA)}},
    {E_FA(4, 6), {A_AGENT}},
    {E_FA(4, 2), {A_AGENT, A_RRQ_FA}}, /* sequence fell below 256 */
    {E_OK(DIRECT, FA), NONE},
    /* home again */
    {E_HOME(2, HOA),
     {A_TIMER(AGENT, 0), A_DEREG, A_MODE(HOME), A_ROUTES(HOME, 0)}},
    {E_HA_ADV(2), NONE},
};

/* c -> c on another internal subnet re-routes without a mode change. */
static const struct row c_to_c[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_OK(DIRECT, CCOA), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, CCOA)}},
    {E_LEASE(3, CCO2), {A_VUP(CCO2), A_RRQ(CCO2)}},
    {E_OK(DIRECT, CCO2), {A_VDOWN(false), A_ROUTES(C, CCO2)}},
};

/* Renewals stop being answered in c: seed 002 3.4 says untrusted. */
static const struct row c_renewal_silent[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_OK(DIRECT, CCOA), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, CCOA)}},
    {E_TMO(DIRECT, CCO2), NONE}, /* not ours */
    {E_TMO(DIRECT, CCOA), {A_VUP(CCOA)}},
    {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), {A_MODE(MC), A_ROUTES(MC, TIA)}},
    {E_TMO(VPN, TIA), {A_TIMER(RETRY, 30000)}}, /* mc renewal silent */
    {E_TIMER(RETRY), {A_VUP(CCOA), A_RRQ(CCOA)}},
};

static const struct row external[] = {
    TO_MC,
    {E_LEASE(5, EXT), NONE}, /* lease renewal */
    {E_VUP(TIA, GW), NONE},	 /* nothing new */
    {E_GONE(5, EXT), NONE},	 /* mc lives on the TIA */
};

/* The VPN comes up before the probe gives up. */
static const struct row external_vpn_first[] = {
    {E_LEASE(5, EXT), {A_VUP(EXT), A_RRQ(EXT)}},
    {E_VUP(TIA, GW), NONE},
    {E_TMO(DIRECT, EXT), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), {A_MODE(MC), A_ROUTES(MC, TIA)}},
};

/* MOBIKE keeps the TIA: the probe times out and nothing else happens. */
static const struct row nat_same_tia[] = {
    TO_MC,
    {E_LDOWN(5), NONE},
    {E_LEASE(6, NAT), {A_VUP(NAT), A_RRQ(NAT)}},
    {E_VUP(TIA, GW), NONE},
    {E_TMO(DIRECT, NAT), NONE},
};

static const struct row nat_new_tia[] = {
    TO_MC,
    {E_LEASE(6, NAT), {A_VUP(NAT), A_RRQ(NAT)}},
    {E_TIA(TIA2, GW), NONE}, /* still probing */
    {E_TMO(DIRECT, NAT), {A_RRQ_VPN(TIA2)}},
    {E_OK(VPN, TIA2), {A_ROUTES(MC, TIA2)}},
    /* settled in mc: TIA change, then another gateway */
    {E_TIA(TIA, GW), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), {A_ROUTES(MC, TIA)}},
    {E_VUP(TIA, GW2), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), NONE},
};

static const struct row mc_to_home[] = {
    TO_MC,
    GO_HOME(false),
    {E_VUP(TIA, GW), {A_VDOWN(false)}}, /* late event: down again */
};

static const struct row mc_to_home_keep[] = {
    TO_MC,
    GO_HOME(true),
    {E_VUP(TIA, GW), NONE},
};

/* External -> intranet: the probe answers, mc gives way to c. */
static const struct row mc_to_c_keep[] = {
    TO_MC,
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_OK(DIRECT, CCOA), {A_VDOWN(true), A_MODE(C), A_ROUTES(C, CCOA)}},
    {E_TIA(TIA, GW), NONE},
    /* and out again: the idle VPN is woken by MOBIKE */
    {E_LEASE(5, EXT), {A_VUP(EXT), A_RRQ(EXT)}},
    {E_TMO(DIRECT, EXT), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), {A_MODE(MC), A_ROUTES(MC, TIA)}},
};

/* Nothing latches on a 131, authenticated or not (anyone who saw one
 * request can make the HA sign one): the request stays pending, mn_reg's
 * timeout makes the network untrusted and the VPN carries Mobile IP. */
static const struct row wrong_key[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_DENY_A(DIRECT, CCOA, 131), NONE},
    {E_TMO(DIRECT, CCOA), NONE}, /* still pending: untrusted */
    {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},
    {E_DENY_A(VPN, TIA, 131), NONE},
    {E_OK(VPN, TIA), {A_MODE(MC), A_ROUTES(MC, TIA)}},
    {E_LEASE(3, CCO2), {A_VUP(CCO2), A_RRQ(CCO2)}},
};

/* An unverifiable 131 may be spoofed: nothing stops, and the eventual
 * answer to the request still counts. */
static const struct row wrong_key_unverified[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_DENY(DIRECT, CCOA, 131), NONE},
    {E_OK(DIRECT, CCOA), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, CCOA)}},
    {E_LEASE(3, CCO2), {A_VUP(CCO2), A_RRQ(CCO2)}},
    {E_DENY(DIRECT, CCO2, 131), NONE},
    {E_LEASE(3, CCO3), {A_VUP(CCO3), A_RRQ(CCO3)}}, /* not latched */
};

/* mn_reg gave up (e.g. the T bit refused both ways): retry later. */
static const struct row denied_final[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_DENY_F(DIRECT, CCOA, 138), {A_TIMER(RETRY, 30000)}},
    {E_TMO(DIRECT, CCOA), NONE}, /* no longer pending */
    {E_TIMER(RETRY), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_OK(DIRECT, CCOA), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, CCOA)}},
};

/* RFC 5944 2.4.2.2: Prefix-Lengths tell a second agent on our network
 * (no move) from an agent on another network (a move). */
#define FA2  IP(10, 3, 0, 2)
#define FA3  IP(10, 4, 0, 1)
#define NET3 IP(10, 3, 0, 0)
#define NET4 IP(10, 4, 0, 0)
static const struct row prefix_movement[] = {
    {E_FAX(4, FA, FA, 1, NET3, 24), {A_AGENT, A_RRQ_FAX(FA)}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    /* another FA, same network: stay with ours, its lifetime ignored */
    {E_FAX(4, FA2, FA2, 7, NET3, 24), NONE},
    {E_FAX(4, FA, FA, 2, NET3, 24), {A_AGENT}},
    /* an agent on another network prefix on this link: moved */
    {E_FAX(4, FA3, FA3, 1, NET4, 24), {A_AGENT, A_RRQ_FAX(FA3)}},
    {E_OK(DIRECT, FA3), {A_ROUTES(F, FA3)}},
    /* our agent's own prefix changed (renumbered): moved too */
    {E_FAX(4, FA3, FA3, 2, NET4, 16), {A_AGENT, A_RRQ_FAX(FA3)}},
};

/* The same prefix is no proof of staying (RFC 5944 Appendix E): another
 * agent of our prefix is no move only while ours is still heard.  After
 * POLICY_OTHER_ADV_MAX of the other's advertisements without one of ours,
 * or once our agent's lifetime ran out, the other one is a move. */
static const struct row same_prefix_other_agent[] = {
    {E_FAX(4, FA, FA, 1, NET3, 24), {A_AGENT, A_RRQ_FAX(FA)}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    {E_FAX(4, FA2, FA2, 1, NET3, 24), NONE},
    {E_FAX(4, FA2, FA2, 2, NET3, 24), NONE},
    {E_FAX(4, FA, FA, 2, NET3, 24), {A_AGENT}}, /* ours: still here */
    {E_FAX(4, FA2, FA2, 3, NET3, 24), NONE},
    {E_FAX(4, FA2, FA2, 4, NET3, 24), NONE},
    {E_FAX(4, FA2, FA2, 5, NET3, 24), NONE},
    {E_FAX(4, FA2, FA2, 6, NET3, 24), {A_AGENT, A_RRQ_FAX(FA2)}},
    {E_OK(DIRECT, FA2), {A_ROUTES(F, FA2)}},
    /* FA2's lifetime runs out: FA, same prefix, is taken at once */
    {E_TIMER(AGENT), {A_MODE(NONE), A_ROUTES(NONE, 0)}},
    {E_FAX(4, FA, FA, 3, NET3, 24), {A_AGENT, A_RRQ_FAX(FA)}},
};

/* RFC 5944 2.1.1: a busy FA registers nobody new, but its advertisements
 * keep it alive for its visitors; another busy FA is not taken. */
static const struct row busy_fa[] = {
    {E_FAB(4, FA2, FA2, 1, NET3, 24), NONE}, /* busy, not ours: nothing */
    {E_FAX(4, FA, FA, 1, NET3, 24), {A_AGENT, A_RRQ_FAX(FA)}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    {E_FAB(4, FA, FA, 2, NET3, 24), {A_AGENT}}, /* refreshed, no RRQ */
    {E_FAB(4, FA, FA, 3, NET3, 24), {A_AGENT}},
    {E_FAB(4, FA3, FA3, 1, NET4, 24), NONE}, /* busy, elsewhere */
    {E_FAX(4, FA, FA, 4, NET3, 24), {A_AGENT}},
    /* rebooted while busy: seen once it takes visitors again */
    {E_FAB(4, FA, FA, 0, NET3, 24), {A_AGENT}},
    {E_FAX(4, FA, FA, 1, NET3, 24), {A_AGENT, A_RRQ_FAX(FA)}},
};

/* Without Prefix-Lengths another agent's care-of address is a move. */
static const struct row no_prefix_other_fa[] = {
    {E_FAX(4, FA, FA, 1, 0, 0), {A_AGENT, A_RRQ_FAX(FA)}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    {E_FAX(4, FA2, FA2, 1, 0, 0), {A_AGENT, A_RRQ_FAX(FA2)}},
};

/* Other denials wait for mn_reg's verdict. */
static const struct row denied_other[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_DENY(DIRECT, CCOA, 130), NONE},
    {E_DENY(DIRECT, CCOA, 65), NONE},
    {E_TMO(DIRECT, CCOA), NONE},
    {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},
};

static const struct row vpn_fails_untrusted[] = {
    TO_MC,
    {E_VDOWN,
     {A_MODE(NONE), A_ROUTES(NONE, 0), A_TIMER(RETRY, 30000)}},
    {E_TIMER(RETRY), {A_VUP(EXT), A_RRQ(EXT)}},
    {E_VDOWN, NONE},		       /* fails again: the probe decides */
    {E_TMO(DIRECT, EXT), {A_VUP(EXT)}}, /* untrusted: VPN needed */
    {E_VDOWN, {A_TIMER(RETRY, 30000)}}, /* and fails again */
    {E_TIMER(RETRY), {A_VUP(EXT), A_RRQ(EXT)}},
    {E_TMO(DIRECT, EXT), NONE}, /* VPN starting */
    {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},
    {E_TMO(VPN, TIA), {A_TIMER(RETRY, 30000)}}, /* HA silent */
    {E_TIMER(RETRY), {A_VUP(EXT), A_RRQ(EXT)}},
    {E_TMO(DIRECT, EXT), {A_RRQ_VPN(TIA)}},
    {E_TMO(VPN, TIA), {A_TIMER(RETRY, 30000)}},
    /* moved inside before the retry: the timer is cancelled */
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_OK(DIRECT, CCOA), {A_TIMER(RETRY, 0), A_VDOWN(false), A_MODE(C),
			  A_ROUTES(C, CCOA)}},
    {E_TIMER(RETRY), NONE}, /* a stale expiry does nothing */
};

static const struct row fa_then_dhcp[] = {
    {E_FA(4, 1), {A_AGENT, A_RRQ_FA}},
    {E_LEASE(4, FAL), {A_VUP(FAL)}},
    {E_OK(DIRECT, FA), {A_VDOWN(false), A_MODE(F), A_ROUTES(F, FA)}},
};

static const struct row dhcp_then_fa[] = {
    {E_LEASE(4, FAL), {A_VUP(FAL), A_RRQ(FAL)}},
    {E_FA(4, 1), {A_AGENT, A_RRQ_FA}},
    {E_OK(DIRECT, FAL), NONE}, /* superseded by the FA request */
    {E_OK(DIRECT, FA), {A_VDOWN(false), A_MODE(F), A_ROUTES(F, FA)}},
};

/* A slow FA after c is settled: f is preferred. */
static const struct row dhcp_c_then_fa[] = {
    {E_LEASE(4, FAL), {A_VUP(FAL), A_RRQ(FAL)}},
    {E_OK(DIRECT, FAL), {A_VDOWN(false), A_MODE(C), A_ROUTES(C, FAL)}},
    {E_FA(4, 1), {A_AGENT, A_RRQ_FA}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    /* the FA stops advertising: back to c on the lease */
    {E_TIMER(AGENT), {A_RRQ(FAL)}},
    {E_OK(DIRECT, FAL), {A_MODE(C), A_ROUTES(C, FAL)}},
};

static const struct row fa_lost_no_lease[] = {
    {E_FA(4, 1), {A_AGENT, A_RRQ_FA}},
    {E_OK(DIRECT, FA), {A_MODE(F), A_ROUTES(F, FA)}},
    {E_TIMER(AGENT), {A_MODE(NONE), A_ROUTES(NONE, 0)}},
    {E_TIMER(AGENT), NONE},
};

/* An FA on an external network: its relay never reaches the i-HA. */
static const struct row external_fa[] = {
    {E_FA(5, 1), {A_AGENT, A_RRQ_FA}},
    {E_LEASE(5, EXT), {A_VUP(EXT)}},
    {E_TMO(DIRECT, FA), NONE},
    {E_VUP(TIA, GW), {A_RRQ_VPN(TIA)}},
    {E_OK(VPN, TIA), {A_MODE(MC), A_ROUTES(MC, TIA)}},
};

/* Link down in the middle of a probe cancels it. */
static const struct row link_down_probing[] = {
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
    {E_LDOWN(9), NONE}, /* another link */
    {E_LDOWN(3), {A_CANCEL}},
    {E_TMO(DIRECT, CCOA), NONE},
    {E_LEASE(3, CCOA), {A_VUP(CCOA), A_RRQ(CCOA)}},
};

#define SC(n, k) {#n, k, n, sizeof(n) / sizeof(n[0])}
static const struct scenario scenarios[] = {
    SC(boot_home, false),	    SC(intranet_moves, false),
    SC(c_to_c, false),		    SC(external, false),
    SC(c_renewal_silent, false),
    SC(external_vpn_first, false),  SC(nat_same_tia, false),
    SC(nat_new_tia, false),	    SC(mc_to_home, false),
    SC(mc_to_home_keep, true),	    SC(mc_to_c_keep, true),
    SC(wrong_key, false),	    SC(denied_other, false),
    SC(vpn_fails_untrusted, false), SC(fa_then_dhcp, false),
    SC(dhcp_then_fa, false),	    SC(dhcp_c_then_fa, false),
    SC(fa_lost_no_lease, false),    SC(external_fa, false),
    SC(link_down_probing, false),   SC(wrong_key_unverified, false),
    SC(denied_final, false),	    SC(prefix_movement, false),
    SC(no_prefix_other_fa, false),  SC(same_prefix_other_agent, false),
    SC(busy_fa, false),
};
/* clang-format on */

/* --- runner --- */

static struct in_addr in(uint32_t host)
{
	return (struct in_addr){htonl(host)};
}

static struct policy_ev make_ev(const struct tev *t)
{
	struct policy_ev ev = {.type = t->type,
			       .ifindex = t->ifx,
			       .addr = in(t->addr),
			       .is_home = t->home,
			       .timer = t->timer};

	ev.adv = (struct policy_adv){.fa = t->fa,
				     .home = t->home,
				     .fa_addr = in(t->addr),
				     .coa = in(t->coa),
				     .seq = t->seq,
				     .lifetime = t->life,
				     .has_prefix = t->plen != 0,
				     .prefix = in(t->pfx),
				     .plen = t->plen,
				     .busy = t->busy};
	ev.reply = (struct policy_reply){.path = t->path,
					 .accepted = t->ok,
					 .authenticated = t->ok || t->auth,
					 .final = t->final,
					 .code = t->code,
					 .coa = in(t->coa)};
	ev.vpn = (struct policy_vpn){in(t->tia), in(t->gw)};
	return ev;
}

/* The action as the table would spell it, for comparison and messages. */
static struct tact to_tact(const struct policy_action *a)
{
	struct tact t = {.t = 1 + (int)a->type};

	switch (a->type) {
	case POLICY_ACT_SEND_RRQ_DIRECT:
		t.via_fa = a->via_fa;
		t.fa = ntohl(a->fa_addr.s_addr);
		/* fall through */
	case POLICY_ACT_SEND_RRQ_VIA_VPN:
		t.coa = ntohl(a->coa.s_addr);
		break;
	case POLICY_ACT_VPN_UP:
		t.addr = ntohl(a->addr.s_addr);
		break;
	case POLICY_ACT_VPN_DOWN:
		t.keep = a->keep_idle;
		break;
	case POLICY_ACT_SET_MODE:
		t.mode = a->mode;
		break;
	case POLICY_ACT_ROUTES:
		t.mode = a->mode;
		t.coa = ntohl(a->coa.s_addr);
		break;
	case POLICY_ACT_TIMER:
		t.timer = a->timer;
		t.ms = a->ms;
		break;
	default:
		break;
	}
	return t;
}

static void fmt(char *buf, size_t n, const struct tact *t)
{
	snprintf(buf, n,
		 "%s(mode=%s coa=%08x addr=%08x fa=%08x%s%s t=%d ms=%u)",
		 policy_act_name((enum policy_act_type)(t->t - 1)),
		 access_mode_name(t->mode), t->coa, t->addr, t->fa,
		 t->via_fa ? " via-fa" : "", t->keep ? " keep" : "",
		 (int)t->timer, t->ms);
}

static bool same(const struct tact *a, const struct tact *b)
{
	return a->t == b->t && a->mode == b->mode && a->coa == b->coa &&
	       a->addr == b->addr && a->fa == b->fa && a->via_fa == b->via_fa &&
	       a->keep == b->keep && a->timer == b->timer && a->ms == b->ms;
}

static size_t expected_count(const struct row *r)
{
	size_t n = 0;

	while (n < POLICY_MAX_ACTIONS && r->act[n].t)
		n++;
	return n;
}

static void dump(const char *sc, size_t i, const struct row *r,
		 const struct policy_action *got, int n)
{
	char buf[160];

	print_error("%s row %zu (%s): expected\n", sc, i,
		    policy_ev_name(r->ev.type));
	for (size_t k = 0; k < expected_count(r); k++) {
		fmt(buf, sizeof(buf), &r->act[k]);
		print_error("    %s\n", buf);
	}
	print_error("  got\n");
	for (int k = 0; k < n; k++) {
		struct tact t = to_tact(&got[k]);

		fmt(buf, sizeof(buf), &t);
		print_error("    %s  [%s]\n", buf, got[k].why);
	}
}

static bool check_row(const char *sc, size_t i, const struct row *r,
		      const struct policy_action *got, int n)
{
	bool ok = n >= 0 && (size_t)n == expected_count(r);

	for (int k = 0; ok && k < n; k++) {
		struct tact t = to_tact(&got[k]);

		ok = same(&t, &r->act[k]) && got[k].why && got[k].why[0];
	}
	if (!ok)
		dump(sc, i, r, got, n);
	return ok;
}

static void run_scenario(const struct scenario *s)
{
	struct policy_conf conf = {.keep_vpn_when_trusted = s->keep_vpn};
	struct policy_action out[POLICY_MAX_ACTIONS];
	struct policy p;

	policy_init(&p, &conf);
	for (size_t i = 0; i < s->n; i++) {
		struct policy_ev ev = make_ev(&s->rows[i].ev);
		int n = policy_event(&p, &ev, out, POLICY_MAX_ACTIONS);

		if (!check_row(s->name, i, &s->rows[i], out, n))
			fail_msg("scenario %s failed at row %zu", s->name, i);
	}
}

static void test_scenario(void **state)
{
	run_scenario(*state);
}

/* Final modes, checked through the accessor. */
static void test_mode_accessor(void **state)
{
	struct policy_conf conf = {0};
	struct policy_action out[POLICY_MAX_ACTIONS];
	struct policy p;

	policy_init(&p, &conf);
	assert_int_equal(policy_mode(&p), MODE_NONE);
	for (size_t i = 0; i < 4; i++) {
		struct policy_ev ev = make_ev(&external[i].ev);

		assert_true(policy_event(&p, &ev, out, POLICY_MAX_ACTIONS) >=
			    0);
	}
	assert_int_equal(policy_mode(&p), MODE_MC);
	assert_int_equal(p.trust, TRUST_UNTRUSTED);
}

/* Too small an output array: -1, and the state still moves on. */
static void test_overflow(void **state)
{
	struct policy_conf conf = {0};
	struct policy_action out[1];
	struct tev home = E_HOME(2, HOA);
	struct policy_ev ev = make_ev(&home);
	struct policy p;

	policy_init(&p, &conf);
	assert_int_equal(policy_event(&p, &ev, out, 1), -1);
	assert_int_equal(out[0].type, POLICY_ACT_DEREGISTER);
	assert_int_equal(policy_mode(&p), MODE_HOME);
	assert_int_equal(policy_event(&p, &ev, out, 0), 0);
}

static void test_names(void **state)
{
	assert_string_equal(policy_ev_name(POLICY_EV_TIA_CHANGED),
			    "tia-changed");
	assert_string_equal(policy_act_name(POLICY_ACT_SEND_RRQ_VIA_VPN),
			    "send-rrq-via-vpn");
	assert_string_equal(policy_trust_name(TRUST_UNTRUSTED), "untrusted");
	assert_string_equal(access_mode_name(MODE_MC), "mc");
	assert_string_equal(policy_ev_name((enum policy_ev_type)99), "?");
}

/* Reconfiguration takes the new settings and keeps the state. */
static void test_reconfigure(void **state)
{
	struct policy_conf conf = {0}, more = {.retry_ms = 5000};
	struct policy_action out[POLICY_MAX_ACTIONS];
	struct tev t[] = {E_LEASE(3, CCOA), E_DENY_F(DIRECT, CCOA, 138)};
	struct policy p;
	struct policy_ev ev;

	policy_init(&p, &conf);
	ev = make_ev(&t[0]);
	assert_int_equal(policy_event(&p, &ev, out, POLICY_MAX_ACTIONS), 2);
	policy_reconfigure(&p, &more);
	assert_int_equal(p.trust, TRUST_PROBING);
	ev = make_ev(&t[1]);
	assert_int_equal(policy_event(&p, &ev, out, POLICY_MAX_ACTIONS), 1);
	assert_int_equal(out[0].type, POLICY_ACT_TIMER);
	assert_int_equal(out[0].ms, 5000);
}

#define NSC (sizeof(scenarios) / sizeof(scenarios[0]))

int main(void)
{
	struct CMUnitTest tests[NSC + 4];
	size_t n = 0;

	for (size_t i = 0; i < NSC; i++)
		tests[n++] = (struct CMUnitTest){
		    .name = scenarios[i].name,
		    .test_func = test_scenario,
		    .initial_state = (void *)&scenarios[i],
		};
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mode_accessor);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_overflow);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_reconfigure);
	return _cmocka_run_group_tests("policy", tests, n, NULL, NULL);
}
