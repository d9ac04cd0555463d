/*
 * test_mn.c - the mobile node role without the lab: the `mn` config group
 * (errors with file:line, the key file's mode), agent advertisements
 * turned into policy events (and what the engine does with them), and the
 * data path of modes home, c and f checked with `ip` in a private network
 * namespace (skipped without root).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/nl.h"
#include "mipd/conf.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"
#include "mipd/reg_msg.h"
#include "policy/policy.h"

static char dir[] = "/tmp/test_mn.XXXXXX";

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void put(const char *name, const char *text, mode_t mode)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(p, mode);
}

/* Loads name as role mn; returns the error count, errors in err. */
static int load(const char *name, struct mipd_conf *mc, char *err,
		size_t errlen)
{
	char p[256];
	struct cfg c;
	int n;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	memset(mc, 0, sizeof(*mc));
	mc->role = ROLE_MN;
	assert_int_equal(cfg_open(&c, p), 0);
	mipd_conf_load(&c, mc);
	snprintf(err, errlen, "%s", c.err);
	n = c.nerr;
	cfg_close(&c);
	return n;
}

#define GOOD                                                                   \
	"mn = {\n"                                                             \
	"  home_address = \"10.10.0.100\"; home_prefix_len = 24;\n"            \
	"  home_agent = \"10.10.0.2\"; home_gateway = \"10.10.0.1\";\n"        \
	"  interface = \"mn0\"; tunnel = \"mip0\";\n"                          \
	"  spi = 256; algorithm = \"hmac-md5\"; key_file = \"mn.key\";\n"      \
	"  reverse_tunnel = true; nat_traversal = true; lifetime = 300;\n"     \
	"  retransmit = { initial = 1.5; tries = 4; };\n"                      \
	"  dhcp = { command = \"dhcpcd\"; enabled = true; };\n"                \
	"  vpn = { mobiked_socket = \"/run/mobiked.sock\"; enabled = false; "  \
	"};\n"                                                                 \
	"  keep_vpn_when_trusted = false;\n"                                   \
	"};\n"

static void conf_good(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	put("mn.key", "0x00112233445566778899aabbccddeeff\n", 0600);
	put("good.conf", GOOD, 0644);
	assert_int_equal(load("good.conf", &mc, err, sizeof(err)), 0);
	assert_true(mc.mn.configured);
	assert_int_equal(mc.mn.home.s_addr, ip("10.10.0.100").s_addr);
	assert_int_equal(mc.mn.ha.s_addr, ip("10.10.0.2").s_addr);
	assert_int_equal(mc.mn.home_plen, 24);
	assert_string_equal(mc.mn.interface, "mn0");
	assert_int_equal(mc.mn.sa.spi, 256);
	assert_int_equal(mc.mn.sa.alg, REG_ALG_HMAC_MD5);
	assert_int_equal(mc.mn.sa.key_len, 16);
	assert_int_equal(mc.mn.sa.key[15], 0xff);
	assert_int_equal(mc.mn.retx_initial_ms, 1500);
	assert_int_equal(mc.mn.tries, 4);
	assert_int_equal(mc.mn.lifetime, 300);
	assert_false(mc.mn.vpn_enabled);
	mipd_conf_free(&mc);
}

static void conf_absent_idles(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	put("bare.conf", "role = \"mn\";\n", 0644);
	assert_int_equal(load("bare.conf", &mc, err, sizeof(err)), 0);
	assert_false(mc.mn.configured);
	mipd_conf_free(&mc); /* the key, when one was read */
}

static void conf_errors_have_lines(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	put("mn.key", "0x00112233445566778899aabbccddeeff\n", 0600);
	put("bad.conf",
	    "# line 1\n"
	    "mn = {\n"
	    "  home_address = \"10.10.0.100\"; home_agent = \"fd00::2\";\n"
	    "  interface = \"mn0\"; spi = 255; key_file = \"mn.key\";\n"
	    "  lifetime = 0; retransmit = { initial = 0.2; };\n"
	    "  home_gateway = \"10.99.0.1\"; bogus = 1;\n"
	    "};\n",
	    0644);
	assert_true(load("bad.conf", &mc, err, sizeof(err)) >= 5);
	assert_non_null(strstr(err, "bad.conf:3: 'home_agent' must be an "
				    "IPv4 address"));
	assert_non_null(strstr(err, "bad.conf:4: 'spi' = 255 is out of range"));
	assert_non_null(strstr(err, "bad.conf:5: 'initial' must be seconds"));
	assert_non_null(strstr(err, "unknown setting 'bogus'"));
	assert_non_null(
	    strstr(err, "'home_gateway' is not on the home subnet"));
	mipd_conf_free(&mc); /* the key, when one was read */
}

static void conf_key_file_private(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	put("open.key", "0x00112233445566778899aabbccddeeff\n", 0644);
	put("open.conf",
	    "mn = { home_address = \"10.10.0.100\"; home_agent = "
	    "\"10.10.0.2\";\n interface = \"mn0\"; spi = 256; key_file = "
	    "\"open.key\"; };\n",
	    0644);
	assert_int_equal(load("open.conf", &mc, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "open.conf:2: key file"));
	assert_non_null(strstr(err, "readable"));
	mipd_conf_free(&mc); /* the key, when one was read */
}

/* ---- agent advertisements ------------------------------------------------ */

static struct policy_ev seen[4];
static int nseen;

static void on_ev(void *arg, const struct policy_ev *ev)
{
	if (nseen < 4)
		seen[nseen++] = *ev;
}

static struct mn_conf agent_conf;

/* An IPv4 header from src + the advertisement. */
static size_t adv_pkt(uint8_t *pkt, size_t cap, const struct reg_adv *a,
		      const char *src)
{
	struct in_addr s = ip(src), d = ip("224.0.0.1");
	struct wbuf w;
	size_t n = 0;

	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[9] = 1;
	memcpy(pkt + 12, &s, 4);
	memcpy(pkt + 16, &d, 4);
	wb_init(&w, pkt + 20, cap - 20);
	assert_int_equal(reg_adv_build(&w, a, &n), REG_OK);
	pkt[2] = (uint8_t)((n + 20) >> 8); /* Total Length */
	pkt[3] = (uint8_t)(n + 20);
	return n + 20;
}

static void fa_adv(struct reg_adv *a, uint16_t flags)
{
	memset(a, 0, sizeof(*a));
	a->code = MIP4_ADV_CODE_ROUTER;
	a->lifetime = 3;
	a->num_addrs = 1;
	a->router[0].addr = ip("10.30.0.1");
	a->seq = 7;
	a->reg_lifetime = 1800;
	a->flags = flags;
	a->ncoa = 1;
	a->coa[0] = ip("10.30.0.1");
}

static void agent_setup(struct mn_agent *g, struct eloop *l)
{
	memset(&agent_conf, 0, sizeof(agent_conf));
	agent_conf.home = ip("10.10.0.100");
	agent_conf.ha = ip("10.10.0.2");
	agent_conf.home_plen = 24;
	memset(g, 0, sizeof(*g));
	g->conf = &agent_conf;
	g->loop = l;
	g->fd = -1;
	g->ifindex = 5;
	g->cb = on_ev;
	timer_init(&g->t_sol, NULL, g);
	nseen = 0;
}

static void adv_becomes_event(void **state)
{
	struct eloop *l = eloop_new();
	struct policy_action acts[POLICY_MAX_ACTIONS];
	struct policy_conf pc = {0};
	struct policy p;
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];
	size_t n;
	int k, found = 0;

	agent_setup(&g, l);
	fa_adv(&a, MIP4_ADV_F | MIP4_ADV_T);
	n = adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1");
	mn_agent_input(&g, pkt, n);
	assert_int_equal(nseen, 1);
	assert_int_equal(seen[0].type, POLICY_EV_AGENT_ADV);
	assert_int_equal(seen[0].ifindex, 5);
	assert_true(seen[0].adv.fa);
	assert_false(seen[0].adv.home);
	assert_int_equal(seen[0].adv.fa_addr.s_addr, ip("10.30.0.1").s_addr);
	assert_int_equal(seen[0].adv.coa.s_addr, ip("10.30.0.1").s_addr);
	assert_int_equal(seen[0].adv.seq, 7);
	assert_int_equal(seen[0].adv.lifetime, 3);
	assert_int_equal(g.adv_rx, 1);

	/* the engine registers through the FA (seed 002 3.2) */
	policy_init(&p, &pc);
	k = policy_event(&p, &seen[0], acts, POLICY_MAX_ACTIONS);
	for (int i = 0; i < k; i++)
		if (acts[i].type == POLICY_ACT_SEND_RRQ_DIRECT) {
			assert_true(acts[i].via_fa);
			assert_int_equal(acts[i].coa.s_addr,
					 ip("10.30.0.1").s_addr);
			found++;
		}
	assert_int_equal(found, 1);
	eloop_free(l);
}

static void adv_ignored(void **state)
{
	struct eloop *l = eloop_new();
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];
	size_t n;

	agent_setup(&g, l);
	/* a home agent that is not ours */
	fa_adv(&a, MIP4_ADV_H);
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1"));
	assert_int_equal(nseen, 0);
	/* a corrupted checksum is counted, not acted on */
	fa_adv(&a, MIP4_ADV_F);
	n = adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1");
	pkt[20 + 2] ^= 0xff;
	mn_agent_input(&g, pkt, n);
	assert_int_equal(nseen, 0);
	assert_int_equal(g.adv_bad, 1);
	/* not an advertisement at all: an echo request */
	pkt[20] = 8;
	mn_agent_input(&g, pkt, n);
	assert_int_equal(g.adv_bad, 1);
	eloop_free(l);
}

/* The IP header goes through ip4_parse: what it rejects never reaches
 * the advertisement parser, and bytes after the Total Length are not
 * part of the advertisement. */
static void adv_malformed_ip(void **state)
{
	struct eloop *l = eloop_new();
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];
	size_t n;

	agent_setup(&g, l);
	fa_adv(&a, MIP4_ADV_F);
	n = adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1");
	/* the Total Length past the data */
	for (size_t cut = 0; cut < n; cut++)
		mn_agent_input(&g, pkt, cut);
	pkt[0] = 0x44; /* IHL 4 */
	mn_agent_input(&g, pkt, n);
	pkt[0] = 0x4f; /* IHL 15: 60 bytes, into the ICMP message */
	mn_agent_input(&g, pkt, n);
	pkt[0] = 0x65; /* version 6 */
	mn_agent_input(&g, pkt, n);
	pkt[0] = 0x45;
	pkt[2] = 0;
	pkt[3] = 20 + 7; /* shorter than an ICMP header */
	mn_agent_input(&g, pkt, n);
	assert_int_equal(nseen, 0);
	assert_int_equal(g.adv_rx, 0);
	assert_int_equal(g.adv_bad, 0);
	/* cut inside the advertisement: its parser says so */
	pkt[3] = 20 + 8;
	mn_agent_input(&g, pkt, n);
	assert_int_equal(nseen, 0);
	assert_int_equal(g.adv_bad, 1);
	/* padding after the packet is not read as an extension */
	n = adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1");
	memset(pkt + n, 0xee, 16);
	mn_agent_input(&g, pkt, n + 16);
	assert_int_equal(nseen, 1);
	assert_int_equal(g.adv_bad, 1);
	eloop_free(l);
}

static void adv_from_our_ha_means_home(void **state)
{
	struct eloop *l = eloop_new();
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];

	agent_setup(&g, l);
	fa_adv(&a, MIP4_ADV_H);
	a.router[0].addr = ip("10.10.0.2");
	a.coa[0] = ip("10.10.0.2");
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.10.0.2"));
	assert_int_equal(nseen, 1);
	assert_true(seen[0].adv.home);
	eloop_free(l);
}

/* RFC 5944 2.4.2.2: the Prefix-Lengths extension becomes the agent's
 * network prefix in the event; the engine moves on a new prefix only. */
static int rrqs(struct policy *p, const struct policy_ev *ev)
{
	struct policy_action acts[POLICY_MAX_ACTIONS];
	int k = policy_event(p, ev, acts, POLICY_MAX_ACTIONS), n = 0;

	for (int i = 0; i < k; i++)
		n += acts[i].type == POLICY_ACT_SEND_RRQ_DIRECT;
	return n;
}

static void adv_prefix_lengths(void **state)
{
	struct eloop *l = eloop_new();
	struct policy_conf pc = {0};
	struct policy p;
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];

	agent_setup(&g, l);
	policy_init(&p, &pc);
	fa_adv(&a, MIP4_ADV_F | MIP4_ADV_T);
	a.has_prefix = true;
	a.prefix_len[0] = 24;
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1"));
	assert_int_equal(nseen, 1);
	assert_true(seen[0].adv.has_prefix);
	assert_int_equal(seen[0].adv.plen, 24);
	assert_int_equal(seen[0].adv.prefix.s_addr, ip("10.30.0.0").s_addr);
	assert_int_equal(rrqs(&p, &seen[0]), 1);
	/* a second agent on 10.30.0.0/24: no move, no registration */
	a.router[0].addr = a.coa[0] = ip("10.30.0.9");
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.9"));
	assert_int_equal(nseen, 2);
	assert_int_equal(rrqs(&p, &seen[1]), 0);
	/* an agent on 10.31.0.0/24 on the same link: moved */
	a.router[0].addr = a.coa[0] = ip("10.31.0.1");
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.31.0.1"));
	assert_int_equal(seen[2].adv.prefix.s_addr, ip("10.31.0.0").s_addr);
	assert_int_equal(rrqs(&p, &seen[2]), 1);
	/* a prefix length above 32 says nothing */
	a.prefix_len[0] = 40;
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.31.0.1"));
	assert_int_equal(nseen, 4);
	assert_false(seen[3].adv.has_prefix);
	eloop_free(l);
}

/* RFC 5944 2.1.1: a busy FA's advertisement still says it is there: the
 * engine refreshes the agent's lifetime and registers nothing (a full FA
 * must not make all its visitors think it vanished). */
static void adv_busy_keeps_agent(void **state)
{
	struct eloop *l = eloop_new();
	struct policy_action acts[POLICY_MAX_ACTIONS];
	struct policy_conf pc = {0};
	struct policy p;
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];
	int k, timers = 0;

	agent_setup(&g, l);
	policy_init(&p, &pc);
	fa_adv(&a, MIP4_ADV_F);
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1"));
	assert_int_equal(nseen, 1);
	assert_false(seen[0].adv.busy);
	assert_int_equal(rrqs(&p, &seen[0]), 1);
	a.flags |= MIP4_ADV_B;
	a.seq++;
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.30.0.1"));
	assert_int_equal(nseen, 2);
	assert_true(seen[1].adv.fa);
	assert_true(seen[1].adv.busy);
	k = policy_event(&p, &seen[1], acts, POLICY_MAX_ACTIONS);
	for (int i = 0; i < k; i++) {
		assert_int_equal(acts[i].type, POLICY_ACT_TIMER);
		assert_int_equal(acts[i].timer, POLICY_TIMER_AGENT);
		assert_int_equal(acts[i].ms, 3000);
		timers++;
	}
	assert_int_equal(timers, 1);
	/* another busy agent: an event, but nothing to register with */
	a.router[0].addr = a.coa[0] = ip("10.31.0.1");
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.31.0.1"));
	assert_int_equal(nseen, 3);
	assert_int_equal(policy_event(&p, &seen[2], acts, POLICY_MAX_ACTIONS),
			 0);
	eloop_free(l);
}

/* After a 136 the home agent is the one the reply named: its own
 * advertisement means home, the configured address's does not. */
static void adv_home_after_136(void **state)
{
	struct eloop *l = eloop_new();
	struct in_addr learned = ip("10.10.0.9");
	struct mn_agent g;
	struct reg_adv a;
	uint8_t pkt[512];

	agent_setup(&g, l);
	g.ha = &learned;
	fa_adv(&a, MIP4_ADV_H);
	a.router[0].addr = ip("10.10.0.9");
	a.ncoa = 0;
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.10.0.9"));
	assert_int_equal(nseen, 1);
	assert_true(seen[0].adv.home);
	a.router[0].addr = ip("10.10.0.2");
	mn_agent_input(&g, pkt, adv_pkt(pkt, sizeof(pkt), &a, "10.10.0.2"));
	assert_int_equal(nseen, 1);
	eloop_free(l);
}

static void conf_nonce_replay(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	put("mn.key", "0x00112233445566778899aabbccddeeff\n", 0600);
	put("nonce.conf",
	    "mn = { home_address = \"10.10.0.100\"; home_agent = "
	    "\"10.10.0.2\"; interface = \"mn0\"; spi = 256; key_file = "
	    "\"mn.key\"; replay = \"nonce\"; };\n",
	    0644);
	assert_int_equal(load("nonce.conf", &mc, err, sizeof(err)), 0);
	assert_int_equal(mc.mn.sa.replay, REG_REPLAY_NONCE);
	mipd_conf_free(&mc);
	put("nonce.conf",
	    "mn = { home_address = \"10.10.0.100\"; home_agent = "
	    "\"10.10.0.2\"; interface = \"mn0\"; spi = 256; key_file = "
	    "\"mn.key\"; replay = \"counter\"; };\n",
	    0644);
	assert_int_equal(load("nonce.conf", &mc, err, sizeof(err)), 1);
	assert_non_null(strstr(err, "nonce.conf:1"));
	mipd_conf_free(&mc);
}

/* ---- data path in a private namespace ------------------------------------ */

static bool ns_ok;

static int ns_init(void **state)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		print_message("no private network namespace (needs root): "
			      "data path tests skipped\n");
		return 0;
	}
	ns_ok = system("ip link set lo up && ip link add mn0 type veth peer "
		       "name mnp0 && ip link set mnp0 up && ip link set mn0 "
		       "up") == 0;
	return 0;
}

/* Output of `ip ARGS` with runs of spaces squeezed. */
static char *ipout(const char *args)
{
	static char out[4096];
	char cmd[256];
	FILE *f;
	size_t n;

	snprintf(cmd, sizeof(cmd), "ip %s 2>&1 | tr -s ' '", args);
	f = popen(cmd, "r");
	assert_non_null(f);
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	pclose(f);
	return out;
}

static void assert_has(const char *args, const char *what)
{
	char *o = ipout(args);

	if (!strstr(o, what))
		fail_msg("'ip %s' lacks '%s':\n%s", args, what, o);
}

static void assert_lacks(const char *args, const char *what)
{
	char *o = ipout(args);

	if (strstr(o, what))
		fail_msg("'ip %s' has '%s':\n%s", args, what, o);
}

static void path_modes(void **state)
{
	struct in_addr none = {0};
	struct mn_conf c;
	struct mn_path p;
	struct eloop *l;
	int ifx;

	if (!ns_ok)
		skip();
	l = eloop_new();
	mn_conf_defaults(&c);
	c.configured = true;
	c.home = ip("10.10.0.100");
	c.ha = ip("10.10.0.2");
	c.gateway = ip("10.10.0.1");
	snprintf(c.interface, sizeof(c.interface), "mn0");
	ifx = nl_ifindex("mn0");
	assert_true(ifx > 0);
	assert_int_equal(mn_path_open(&p, l, &c, -1, true), 0);
	assert_string_equal(p.tun_name, "mip0");

	/* home: the home address on the link, default via the home router */
	assert_int_equal(mn_path_set(&p, MODE_HOME, ifx, none, none), 0);
	assert_has("-4 addr show dev mn0", "inet 10.10.0.100/24");
	assert_has("-4 route show default", "default via 10.10.0.1 dev mn0");

	/* c: a lease on the link, HoA/32 on mip0, default into mip0 with
	 * the HoA as source, HA/32 via the visited router */
	assert_int_equal(system("ip addr add 10.20.0.110/24 dev mn0 && ip "
				"route add default via 10.20.0.1 dev mn0 "
				"metric 1002"),
			 0);
	mn_path_set_gateway(&p, ip("10.20.0.1"));
	assert_int_equal(mn_path_set(&p, MODE_C, ifx, ip("10.20.0.110"), none),
			 0);
	assert_lacks("-4 addr show dev mn0", "10.10.0.100");
	assert_has("-4 addr show dev mip0", "inet 10.10.0.100/32");
	assert_has("-4 route show default",
		   "default dev mip0 proto static scope link src 10.10.0.100 "
		   "metric 10");
	assert_has("-4 route show default", "via 10.20.0.1 dev mn0");
	assert_has("-4 route show 10.10.0.2",
		   "10.10.0.2 via 10.20.0.1 dev mn0");
	assert_lacks("-4 route show default", "via 10.10.0.1");
	assert_true(p.raw_fd >= 0);

	/* f: HoA/32 on the link, the FA on-link and the default via it */
	assert_int_equal(system("ip route del default via 10.20.0.1 && ip "
				"addr del 10.20.0.110/24 dev mn0"),
			 0);
	assert_int_equal(
	    mn_path_set(&p, MODE_F, ifx, ip("10.30.0.1"), ip("10.30.0.1")), 0);
	assert_lacks("-4 addr show dev mip0", "10.10.0.100");
	assert_has("-4 addr show dev mn0", "inet 10.10.0.100/32");
	assert_has("-4 route show 10.30.0.1",
		   "10.30.0.1 dev mn0 proto static scope link");
	assert_has("-4 route show default",
		   "default via 10.30.0.1 dev mn0 proto static src 10.10.0.100 "
		   "metric 10");
	assert_lacks("-4 route show default", "mip0");
	assert_lacks("-4 route show 10.10.0.2", "10.10.0.2");
	assert_true(p.raw_fd < 0);

	/* none keeps everything until the next mode */
	assert_int_equal(mn_path_set(&p, MODE_NONE, ifx, none, none), 0);
	assert_has("-4 addr show dev mn0", "inet 10.10.0.100/32");

	/* back home: the /32 and the FA routes go */
	assert_int_equal(mn_path_set(&p, MODE_HOME, ifx, none, none), 0);
	assert_has("-4 addr show dev mn0", "inet 10.10.0.100/24");
	assert_lacks("-4 addr show dev mn0", "10.10.0.100/32");
	assert_lacks("-4 route show", "10.30.0.1");
	assert_has("-4 route show default", "default via 10.10.0.1 dev mn0");

	mn_path_close(&p);
	assert_lacks("-4 addr show dev mn0", "10.10.0.100");
	assert_lacks("link show", "mip0");
	eloop_free(l);
}

static int cleanup(void **state)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(conf_good),
	    cmocka_unit_test(conf_absent_idles),
	    cmocka_unit_test(conf_errors_have_lines),
	    cmocka_unit_test(conf_key_file_private),
	    cmocka_unit_test(adv_becomes_event),
	    cmocka_unit_test(adv_ignored),
	    cmocka_unit_test(adv_malformed_ip),
	    cmocka_unit_test(adv_from_our_ha_means_home),
	    cmocka_unit_test(adv_prefix_lengths),
	    cmocka_unit_test(adv_busy_keeps_agent),
	    cmocka_unit_test(adv_home_after_136),
	    cmocka_unit_test(conf_nonce_replay),
	    cmocka_unit_test(path_modes),
	};

	if (!mkdtemp(dir))
		return 1;
	return cmocka_run_group_tests(tests, ns_init, cleanup);
}
