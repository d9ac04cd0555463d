/*
 * test_fa.c - the foreign agent (mipd/fa*.c) on a veth link inside a
 * private network namespace (the test unshares one; it never touches the
 * host's):
 *
 *   [FA: fal 10.30.0.1/24] ==veth== [mnl: the "mobile node", raw frames
 *                                    through a packet socket]
 *   "home agent": UDP 10.40.0.1:4342 (on lo) and a raw IP-in-IP socket
 *
 * Advertisement bytes, solicitation, relaying in both directions with the
 * visitor's MAC, FA denials (69), denial and timeout (78) clean-up,
 * expiry, deregistration, the data path both ways, the `visitors` view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/eloop.h"
#include "common/json.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/fa.h"
#include "mipd/fa_int.h"
#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define FA_PORT	 4341
#define HA_PORT	 4342
#define MN_PORT	 40000
#define HOA	 "10.10.0.100"
#define HA_ADDR	 "10.40.0.1" /* the "home agent", on lo */
#define HA2_ADDR "10.40.0.2" /* another one (after a 136) */

static bool have_ns;
static uint8_t fa_mac[6], mn_mac[6];
static uint8_t mn_ttl = 255; /* IP TTL of the node's packets */

struct fx {
	struct eloop *l;
	struct fa_conf conf;
	struct fa *fa;
	int mn;	    /* packet socket on mnl */
	int ha;	    /* UDP HA_ADDR:HA_PORT */
	int ha_raw; /* IP-in-IP */
	uint64_t id;
};

static uint32_t ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static int get_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int rc, fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	rc = ioctl(fd, SIOCGIFHWADDR, &ifr);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return rc;
}

static int make_link(void)
{
	return system("ip link add fal type veth peer name mnl && "
		      "ip link set lo up && ip addr add " HA_ADDR
		      "/32 dev lo && ip addr add " HA2_ADDR "/32 dev lo && "
		      "ip link set fal up && "
		      "ip link set mnl up && "
		      "ip addr add 10.30.0.1/24 dev fal && "
		      "ip route add 192.0.2.0/24 via 10.30.0.50 dev fal && "
		      "ip route add unreachable 198.51.100.7 && "
		      "ip route add prohibit 198.51.100.8 && "
		      "sysctl -qw net.ipv4.conf.all.rp_filter=0") == 0 &&
		       get_mac("fal", fa_mac) == 0 &&
		       get_mac("mnl", mn_mac) == 0
		   ? 0
		   : -1;
}

static int open_mn(void)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = nl_ifindex("mnl")};
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK, htons(ETH_P_IP));

	bind(fd, (struct sockaddr *)&ll, sizeof(ll));
	return fd;
}

static int open_ha_at(const char *addr)
{
	struct sockaddr_in me = {.sin_family = AF_INET,
				 .sin_port = htons(HA_PORT)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	me.sin_addr.s_addr = ip(addr);
	bind(fd, (struct sockaddr *)&me, sizeof(me));
	return fd;
}

static int open_ha(void)
{
	return open_ha_at(HA_ADDR);
}

static void fx_conf(struct fx *f, uint32_t adv_ms)
{
	memset(f, 0, sizeof(*f));
	fa_conf_defaults(&f->conf);
	snprintf(f->conf.interface, IFNAMSIZ, "fal");
	snprintf(f->conf.tunnel, IFNAMSIZ, "fat%%d");
	f->conf.port = FA_PORT;
	f->conf.ha_port = HA_PORT;
	f->conf.adv_interval_ms = adv_ms;
	f->conf.pending_ms = 300;
}

static int fx_start(struct fx *f)
{
	f->l = eloop_new();
	f->fa = fa_new(f->l, &f->conf);
	if (!f->fa || fa_start(f->fa) < 0)
		return -1;
	f->mn = open_mn();
	f->ha = open_ha();
	f->ha_raw = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_IPIP);
	setsockopt(f->ha_raw, IPPROTO_IP, IP_HDRINCL, &(int){1}, sizeof(int));
	f->id = reg_ntp_now();
	return f->mn < 0 || f->ha < 0 || f->ha_raw < 0 ? -1 : 0;
}

static int setup_with(void **state, uint32_t adv_ms)
{
	static struct fx f;

	if (!have_ns)
		return -1;
	fx_conf(&f, adv_ms);
	*state = &f;
	return fx_start(&f);
}

static int setup(void **state)
{
	return setup_with(state, 10000);
}

static int setup_fast_adv(void **state)
{
	return setup_with(state, 100);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fa_free(f->fa);
	close(f->mn);
	close(f->ha);
	close(f->ha_raw);
	eloop_free(f->l);
	return 0;
}

/* ---- frames of the mobile node ---- */

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 header + payload; proto UDP adds the UDP header (no checksum). */
static size_t ip_packet(uint8_t *out, uint8_t proto, uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport, const uint8_t *pl,
			size_t len)
{
	size_t hl = proto == IPPROTO_UDP ? 28 : 20, tot = hl + len;
	uint16_t c;

	memset(out, 0, hl);
	out[0] = 0x45;
	out[2] = (uint8_t)(tot >> 8);
	out[3] = (uint8_t)tot;
	out[8] = mn_ttl; /* on-link: 255 (RFC 3024 3.3: 76 otherwise) */
	out[9] = proto;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, &dst, 4);
	c = csum(out, 20);
	out[10] = (uint8_t)(c >> 8);
	out[11] = (uint8_t)c;
	if (proto == IPPROTO_UDP) {
		out[20] = (uint8_t)(sport >> 8);
		out[21] = (uint8_t)sport;
		out[22] = (uint8_t)(dport >> 8);
		out[23] = (uint8_t)dport;
		out[24] = (uint8_t)((len + 8) >> 8);
		out[25] = (uint8_t)(len + 8);
	}
	memcpy(out + hl, pl, len);
	return tot;
}

static void mn_send(struct fx *f, const uint8_t *pkt, size_t len,
		    const uint8_t *dmac)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = nl_ifindex("mnl"),
				 .sll_halen = 6};

	memcpy(ll.sll_addr, dmac, 6);
	assert_int_equal(
	    sendto(f->mn, pkt, len, 0, (struct sockaddr *)&ll, sizeof(ll)),
	    (ssize_t)len);
}

/* Next IPv4 packet of protocol proto (and UDP destination port) that
 * reaches mnl addressed to its MAC or a multicast group; *ip_out the
 * whole packet.  Returns the payload length, 0 after timeout_ms. */
static size_t mn_recv(struct fx *f, uint8_t proto, uint16_t dport, uint8_t *buf,
		      size_t cap, const uint8_t **pl, int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000;

	while (mono_ns() < end) {
		struct sockaddr_ll ll;
		socklen_t sl = sizeof(ll);
		ssize_t n;
		size_t hl;

		eloop_run_once(f->l, 5);
		n = recvfrom(f->mn, buf, cap, 0, (struct sockaddr *)&ll, &sl);
		if (n < 20 || ll.sll_pkttype == PACKET_OUTGOING ||
		    buf[9] != proto)
			continue;
		hl = (size_t)(buf[0] & 15) * 4;
		if (proto == IPPROTO_UDP) {
			if ((buf[hl + 2] << 8 | buf[hl + 3]) != dport)
				continue;
			hl += 8;
		}
		*pl = buf + hl;
		return (size_t)n - hl;
	}
	return 0;
}

/* ---- registration messages ---- */

struct rrq {
	uint16_t lifetime;
	uint8_t flags;
	const char *ha;	 /* NULL: HA_ADDR */
	const char *hoa; /* NULL: HOA */
};

static size_t build_rrq(struct fx *f, const struct rrq *q, uint8_t *buf,
			size_t cap)
{
	struct reg_request rq = {
	    .flags = q->flags, .lifetime = q->lifetime, .id = ++f->id};
	struct reg_sa sa = {.spi = 256,
			    .alg = REG_ALG_HMAC_MD5,
			    .key = (const uint8_t *)"secret",
			    .key_len = 6};
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	rq.home.s_addr = ip(q->hoa ? q->hoa : HOA);
	rq.ha.s_addr = ip(q->ha ? q->ha : HA_ADDR);
	rq.coa.s_addr = ip("10.30.0.1");
	wb_init(&w, buf, cap);
	reg_build_request(&b, &w, &rq);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa), 0);
	assert_int_equal(reg_build_end(&b, &len), 0);
	return len;
}

static void mn_request(struct fx *f, const uint8_t *req, size_t len)
{
	uint8_t pkt[600];
	size_t n = ip_packet(pkt, IPPROTO_UDP, ip(HOA), ip("10.30.0.1"),
			     MN_PORT, FA_PORT, req, len);

	mn_send(f, pkt, n, fa_mac);
}

/* What reached the "home agent", and from where. */
static size_t ha_recv(struct fx *f, uint8_t *buf, size_t cap, uint32_t *from,
		      uint16_t *port, int timeout_ms)
{
	for (int i = 0; i < timeout_ms / 5; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		ssize_t n;

		eloop_run_once(f->l, 5);
		n = recvfrom(f->ha, buf, cap, 0, (struct sockaddr *)&sin, &sl);
		if (n > 0) {
			*from = sin.sin_addr.s_addr;
			*port = ntohs(sin.sin_port);
			return (size_t)n;
		}
	}
	return 0;
}

static size_t build_rrp(uint8_t code, uint16_t lifetime, uint64_t id,
			uint8_t *buf, size_t cap)
{
	struct reg_reply rp = {.code = code, .lifetime = lifetime, .id = id};
	struct reg_sa sa = {.spi = 256,
			    .alg = REG_ALG_HMAC_MD5,
			    .key = (const uint8_t *)"secret",
			    .key_len = 6};
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	rp.home.s_addr = ip(HOA);
	rp.ha.s_addr = ip(HA_ADDR);
	wb_init(&w, buf, cap);
	reg_build_reply(&b, &w, &rp);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa), 0);
	assert_int_equal(reg_build_end(&b, &len), 0);
	return len;
}

static void ha_reply(struct fx *f, uint16_t port, const uint8_t *msg,
		     size_t len)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(port)};

	to.sin_addr.s_addr = ip("10.30.0.1");
	assert_int_equal(
	    sendto(f->ha, msg, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
}

/* The reply the node gets (relayed or the FA's own); its code. */
static int mn_reply(struct fx *f, uint8_t *copy, size_t *len)
{
	uint8_t buf[2048];
	const uint8_t *pl;
	struct reg_msg m;
	size_t n =
	    mn_recv(f, IPPROTO_UDP, MN_PORT, buf, sizeof(buf), &pl, 1500);

	assert_true(n > 0);
	assert_int_equal(reg_parse_reply(&m, pl, n), REG_OK);
	if (copy) {
		memcpy(copy, pl, n);
		*len = n;
	}
	return m.rp.code;
}

/* Request relayed to the HA; returns its port.  req/len: what was sent. */
static uint16_t relay(struct fx *f, const struct rrq *q, uint64_t *id)
{
	uint8_t req[256], got[512];
	size_t len = build_rrq(f, q, req, sizeof(req)), n;
	uint32_t from = 0;
	uint16_t port = 0;

	*id = f->id;
	mn_request(f, req, len);
	n = ha_recv(f, got, sizeof(got), &from, &port, 1000);
	assert_int_equal(n, len);
	assert_memory_equal(got, req, len);	 /* relayed unchanged */
	assert_int_equal(from, ip("10.30.0.1")); /* from the care-of address */
	return port;
}

static void register_ok(struct fx *f, uint16_t granted, uint8_t flags)
{
	struct rrq q = {.lifetime = 600, .flags = flags};
	uint8_t rep[256], got[256];
	uint64_t id;
	uint16_t port = relay(f, &q, &id);
	size_t len = build_rrp(0, granted, id, rep, sizeof(rep)), glen = 0;

	ha_reply(f, port, rep, len);
	assert_int_equal(mn_reply(f, got, &glen), 0);
	assert_int_equal(glen, len);
	assert_memory_equal(got, rep, len);
}

/* ---- kernel state ---- */

static bool file_has(const char *path, const char *a, const char *b)
{
	char line[512];
	bool found = false;
	FILE *r = fopen(path, "r");

	while (r && fgets(line, sizeof(line), r))
		if (strstr(line, a) && (!b || strstr(line, b)))
			found = true;
	if (r)
		fclose(r);
	return found;
}

static bool cmd_has(const char *cmd, const char *want)
{
	char line[512];
	bool found = false;
	FILE *p = popen(cmd, "r");

	while (p && fgets(line, sizeof(line), p))
		if (strstr(line, want))
			found = true;
	if (p)
		pclose(p);
	return found;
}

static bool has_route(void)
{
	return file_has("/proc/net/route", "fal", "64000A0A");
}

static bool has_neigh(void)
{
	char mac[18];

	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", mn_mac[0],
		 mn_mac[1], mn_mac[2], mn_mac[3], mn_mac[4], mn_mac[5]);
	return file_has("/proc/net/arp", HOA " ", mac);
}

static bool has_rule(void)
{
	return cmd_has("ip rule show", "from " HOA " lookup 434");
}

static void wait_ms(struct fx *f, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000;

	while (mono_ns() < end)
		eloop_run_once(f->l, 10);
}

/* ---- tests ---- */

static size_t next_adv(struct fx *f, struct reg_adv *a, uint8_t *buf,
		       int timeout_ms)
{
	const uint8_t *pl;
	size_t n = mn_recv(f, IPPROTO_ICMP, 0, buf, 1500, &pl, timeout_ms);

	if (n)
		assert_int_equal(reg_adv_parse(a, pl, n), REG_OK);
	return n;
}

static void advertisement(void **state)
{
	struct fx *f = *state;
	struct agent_adv_cfg c;
	struct agent_adv x;
	struct reg_adv a, b;
	uint8_t buf[1500];
	uint64_t t0;

	/* the first went out before our socket: the next, within 1.25 s */
	assert_true(next_adv(f, &a, buf, 1500) > 0);
	assert_int_equal(buf[8], 1); /* TTL */
	assert_int_equal(a.code, MIP4_ADV_CODE_ROUTER);
	assert_int_equal(a.flags, MIP4_ADV_F | MIP4_ADV_T);
	assert_int_equal(a.ncoa, 1);
	assert_int_equal(a.coa[0].s_addr, ip("10.30.0.1"));
	assert_int_equal(a.num_addrs, 1);
	assert_int_equal(a.router[0].addr.s_addr, ip("10.30.0.1"));
	assert_true(a.has_prefix);
	assert_int_equal(a.prefix_len[0], 24);
	assert_int_equal(a.reg_lifetime, 1800);
	/* 100 ms is below RFC 5944 2.3.1's one per second: 3 x 1 s */
	assert_int_equal(a.lifetime, 3);
	/* ... and the next comes after 1 s (jittered upward), not 100 ms */
	t0 = mono_ns();
	assert_int_equal(next_adv(f, &b, buf, 900), 0);
	assert_true(next_adv(f, &b, buf, 500) > 0);
	assert_true(mono_ns() - t0 >= 990 * NS_PER_MS);
	assert_int_equal(b.seq, a.seq + 1);
	/* prefix_lengths = false: no Prefix-Lengths (RFC 5944 Appendix E) */
	f->conf.prefix_lengths = false;
	fa_adv_cfg(f->fa, &c);
	agent_adv_init(&x);
	x.cfg = c;
	agent_adv_fill(&x, &a);
	assert_false(a.has_prefix);
	f->conf.prefix_lengths = true;
}

static void solicitation(void **state)
{
	struct fx *f = *state;
	static const uint8_t dmac[6] = {0x01, 0, 0x5e, 0, 0, 2};
	uint8_t sol[8] = {MIP4_ICMP_ROUTER_SOL}, pkt[64], buf[1500];
	struct reg_adv a;
	uint16_t c = reg_icmp_checksum(sol, sizeof(sol));
	char cmd[160];
	uint64_t t0;
	size_t n;

	/* one was sent at start (seq 0), the next is 10 s away */
	t0 = f->fa->adv.last_mcast_ns;
	assert_true(t0 > 0);
	assert_int_equal(next_adv(f, &a, buf, 200), 0);
	sol[2] = (uint8_t)(c >> 8);
	sol[3] = (uint8_t)c;
	/* from a home address: not on our link, so multicast - but no
	 * sooner than 1 s after the last one (RFC 5944 2.3.1) */
	n = ip_packet(pkt, IPPROTO_ICMP, ip(HOA), ip("224.0.0.2"), 0, 0, sol,
		      sizeof(sol));
	mn_send(f, pkt, n, dmac);
	mn_send(f, pkt, n, dmac);
	assert_true(next_adv(f, &a, buf, 1500) > 0);
	assert_true(f->fa->adv.last_mcast_ns - t0 >= 1000 * NS_PER_MS);
	assert_true(f->fa->adv.last_mcast_ns - t0 < 1100 * NS_PER_MS);
	assert_int_equal(buf[16], 224);
	assert_int_equal(a.seq, 1);
	assert_int_equal(next_adv(f, &a, buf, 300), 0); /* one for both */
	assert_int_equal(fa_stats(f->fa)->sol_rx, 2);
	/* from an address on the link: answered at once, by unicast */
	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace 10.30.0.77 lladdr "
		 "%02x:%02x:%02x:%02x:%02x:%02x dev fal nud permanent",
		 mn_mac[0], mn_mac[1], mn_mac[2], mn_mac[3], mn_mac[4],
		 mn_mac[5]);
	assert_int_equal(system(cmd), 0);
	n = ip_packet(pkt, IPPROTO_ICMP, ip("10.30.0.77"), ip("224.0.0.2"), 0,
		      0, sol, sizeof(sol));
	mn_send(f, pkt, n, dmac);
	assert_true(next_adv(f, &a, buf, 100) > 0);
	assert_memory_equal(buf + 16, &(uint32_t){ip("10.30.0.77")}, 4);
	assert_int_equal(a.seq, 2);
	assert_int_equal(system("ip neigh del 10.30.0.77 dev fal"), 0);
}

static void relay_and_accept(void **state)
{
	struct fx *f = *state;
	struct fa_visitor_info vi;
	struct rrq q = {.lifetime = 600, .flags = MIP4_RRQ_T};
	const struct visitor *v;
	uint64_t id;

	relay(f, &q, &id);
	assert_true(fa_visitor_get(f->fa, ip(HOA), &vi));
	assert_true(vi.pending);
	assert_false(vi.active);
	/* only the pending request's timer runs: a zeroed timer would read
	 * as armed (slot 0) */
	v = fa_find(f->fa, ip(HOA));
	assert_true(timer_armed(&v->pend_timer));
	assert_false(timer_armed(&v->life_timer));
	assert_false(timer_armed(&v->b.expiry));
	assert_true(vi.has_mac);
	assert_memory_equal(vi.mac, mn_mac, 6);
	assert_int_equal(vi.sport, MN_PORT);
	assert_true(has_route());
	assert_true(has_neigh());
	assert_false(has_rule()); /* not before the home agent agreed */

	register_ok(f, 300, MIP4_RRQ_T); /* a second request, answered */
	assert_true(fa_visitor_get(f->fa, ip(HOA), &vi));
	assert_true(vi.active);
	assert_false(vi.pending);
	assert_int_equal(vi.lifetime, 300);
	assert_true(vi.remaining >= 299 && vi.remaining <= 300);
	assert_int_equal(vi.ha, ip(HA_ADDR));
	assert_true(has_rule());
	assert_int_equal(fa_visitor_count(f->fa), 1);
	assert_false(timer_armed(&v->pend_timer));
	assert_true(timer_armed(&v->life_timer));
	assert_false(timer_armed(&v->b.expiry));
	assert_int_equal(eloop_check(f->l), 0);
}

static void denial_removes(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600};
	uint8_t rep[256];
	uint64_t id;
	uint16_t port = relay(f, &q, &id);
	size_t len = build_rrp(MIP4_HA_MN_AUTH_FAILED, 0, id, rep, sizeof(rep));

	ha_reply(f, port, rep, len);
	assert_int_equal(mn_reply(f, NULL, NULL), MIP4_HA_MN_AUTH_FAILED);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_false(has_route());
	assert_false(has_neigh());
}

static void lifetime_too_long(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 1801};
	uint8_t req[256], got[256];
	uint32_t from;
	uint16_t port;
	size_t len = build_rrq(f, &q, req, sizeof(req)), glen = 0;
	struct reg_msg m;

	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, got, &glen), MIP4_FA_LIFETIME_TOO_LONG);
	/* RFC 5944 3.7.2.3: the reply's Lifetime is our maximum */
	assert_int_equal(reg_parse_reply(&m, got, glen), REG_OK);
	assert_int_equal(m.rp.lifetime, 1800);
	assert_int_equal(ha_recv(f, got, sizeof(got), &from, &port, 50), 0);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_false(has_route());
	/* minimal encapsulation is not offered: 72 */
	q.lifetime = 100;
	q.flags = MIP4_RRQ_M;
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, NULL, NULL), MIP4_FA_ENCAP_UNAVAIL);
}

static void wrong_id_ignored_then_timeout(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600};
	uint8_t rep[256];
	uint64_t id;
	uint16_t port = relay(f, &q, &id);
	size_t len = build_rrp(0, 600, id + 1, rep, sizeof(rep));

	ha_reply(f, port, rep, len); /* answers another request: dropped */
	wait_ms(f, 50);
	assert_int_equal(fa_stats(f->fa)->rep_unmatched, 1);
	assert_int_equal(mn_reply(f, NULL, NULL), MIP4_FA_REG_TIMEOUT);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_false(has_route());
	assert_false(has_neigh());
}

static void expiry_cleans_up(void **state)
{
	struct fx *f = *state;

	register_ok(f, 1, MIP4_RRQ_T);
	assert_true(has_rule());
	assert_true(has_route());
	wait_ms(f, 1300);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_int_equal(fa_stats(f->fa)->expired, 1);
	assert_false(has_rule());
	assert_false(has_route());
	assert_false(has_neigh());
}

static void deregistration(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 0};
	uint8_t rep[256];
	uint64_t id;
	uint16_t port;
	size_t len;

	register_ok(f, 600, 0);
	port = relay(f, &q, &id);
	len = build_rrp(0, 0, id, rep, sizeof(rep));
	ha_reply(f, port, rep, len);
	assert_int_equal(mn_reply(f, NULL, NULL), 0);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_false(has_route());
}

/* An active visitor registering with another home agent (after a 136):
 * the pending request's HA is the one ICMP errors and 78 name, and it
 * becomes the visitor's HA (tunnel peer) once it accepts. */
static void new_home_agent(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600, .ha = HA2_ADDR};
	struct fa_visitor_info vi;
	uint8_t req[256], got[512], rep[256];
	struct reg_msg m;
	struct sockaddr_in to = {.sin_family = AF_INET};
	uint32_t from;
	uint16_t port;
	size_t len, glen = 0;
	int ha2;

	register_ok(f, 600, 0);
	/* nobody on the new HA's port: its ICMP error counts (82) */
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, got, &glen), MIP4_FA_HA_PORT_UNREACH);
	assert_int_equal(reg_parse_reply(&m, got, glen), REG_OK);
	assert_int_equal(m.rp.ha.s_addr, ip(HA2_ADDR));
	assert_true(fa_visitor_get(f->fa, ip(HOA), &vi));
	assert_true(vi.active);
	assert_int_equal(vi.ha, ip(HA_ADDR)); /* still the old one */
	/* the new HA is silent: 78 names it */
	ha2 = open_ha_at(HA2_ADDR);
	assert_true(ha2 >= 0);
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, got, &glen), MIP4_FA_REG_TIMEOUT);
	assert_int_equal(reg_parse_reply(&m, got, glen), REG_OK);
	assert_int_equal(m.rp.ha.s_addr, ip(HA2_ADDR));
	/* it accepts: the visitor's HA (the tunnel's peer) changes */
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	for (int i = 0; i < 200; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		ssize_t k;

		eloop_run_once(f->l, 5);
		k = recvfrom(ha2, got, sizeof(got), 0, (struct sockaddr *)&sin,
			     &sl);
		if (k > 0) {
			port = ntohs(sin.sin_port);
			break;
		}
		port = 0;
	}
	assert_true(port > 0);
	len = build_rrp(0, 600, f->id, rep, sizeof(rep));
	to.sin_port = htons(port);
	to.sin_addr.s_addr = ip("10.30.0.1");
	assert_int_equal(
	    sendto(ha2, rep, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
	assert_int_equal(mn_reply(f, NULL, NULL), 0);
	assert_true(fa_visitor_get(f->fa, ip(HOA), &vi));
	assert_true(vi.active);
	assert_int_equal(vi.ha, ip(HA2_ADDR));
	assert_int_equal(fa_find(f->fa, ip(HOA))->b.info.coa, ip(HA2_ADDR));
	close(ha2);
	(void)from;
}

static void data_path(void **state)
{
	struct fx *f = *state;
	uint8_t inner[128], outer[256], buf[2048];
	const uint8_t *pl;
	struct sockaddr_in to = {.sin_family = AF_INET};
	size_t n, m;
	ssize_t r;

	register_ok(f, 600, MIP4_RRQ_T);
	/* home agent -> care-of address: delivered on the link to the MAC */
	n = ip_packet(inner, IPPROTO_UDP, ip("192.0.2.1"), ip(HOA), 7, 5555,
		      (const uint8_t *)"down", 4);
	m = ip_packet(outer, IPPROTO_IPIP, ip(HA_ADDR), ip("10.30.0.1"), 0, 0,
		      inner, n);
	to.sin_addr.s_addr = ip("10.30.0.1");
	assert_int_equal(
	    sendto(f->ha_raw, outer, m, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)m);
	n = mn_recv(f, IPPROTO_UDP, 5555, buf, sizeof(buf), &pl, 1000);
	assert_int_equal(n, 4);
	assert_memory_equal(pl, "down", 4);
	/* visitor -> correspondent: reverse tunnelled to the home agent */
	n = ip_packet(inner, IPPROTO_UDP, ip(HOA), ip("192.0.2.1"), 5555, 7,
		      (const uint8_t *)"up", 2);
	mn_send(f, inner, n, fa_mac);
	for (int i = 0; i < 200; i++) {
		eloop_run_once(f->l, 5);
		r = recv(f->ha_raw, buf, sizeof(buf), 0);
		if (r > 20 && buf[9] == IPPROTO_IPIP &&
		    memcmp(buf + 12, &(uint32_t){ip("10.30.0.1")}, 4) == 0)
			break;
		r = 0;
	}
	assert_true(r > 48);
	assert_memory_equal(buf + 16, &(uint32_t){ip(HA_ADDR)}, 4);
	assert_memory_equal(buf + 20 + 12, &(uint32_t){ip(HOA)}, 4);
	assert_memory_equal(buf + 20 + 28, "up", 2);
}

static void visitors_json(void **state)
{
	struct fx *f = *state;
	struct jw w;
	const char *t;

	register_ok(f, 600, MIP4_RRQ_T);
	jw_init(&w);
	jw_obj_begin(&w, NULL);
	fa_ctl_visitors(f->fa, &w);
	jw_obj_end(&w);
	t = jw_text(&w);
	assert_non_null(strstr(t, "\"count\":1"));
	assert_non_null(strstr(t, "\"home_address\":\"" HOA "\""));
	assert_non_null(strstr(t, "\"home_agent\":\"" HA_ADDR "\""));
	assert_non_null(strstr(t, "\"state\":\"active\""));
	assert_non_null(strstr(t, "\"reverse_tunnel\":true"));
	assert_non_null(strstr(t, "\"lifetime\":600"));
	jw_reset(&w);
	jw_obj_begin(&w, NULL);
	fa_ctl_status(f->fa, &w);
	jw_obj_end(&w);
	assert_non_null(
	    strstr(jw_text(&w), "\"care_of_address\":\"10.30.0.1\""));
	jw_free(&w);
}

/* fa.home_agents: prefixes in host order; a bad entry names its line. */
static int load_fa_conf(const char *text, struct mipd_conf *mc, char *err,
			size_t errlen)
{
	char path[] = "/tmp/test_fa.XXXXXX";
	int fd = mkstemp(path), n;
	struct cfg c;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(mc, 0, sizeof(*mc));
	mc->role = ROLE_FA;
	assert_int_equal(cfg_open(&c, path), 0);
	mipd_conf_load(&c, mc);
	snprintf(err, errlen, "%s", c.err);
	n = c.nerr;
	cfg_close(&c);
	unlink(path);
	return n;
}

static void fa_conf_home_agents(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	(void)state;
	assert_int_equal(
	    load_fa_conf("fa = { home_agents = [ \"10.10.0.0/24\", "
			 "\"10.40.0.1\" ]; };\n",
			 &mc, err, sizeof(err)),
	    0);
	assert_int_equal(mc.fa.nha_allow, 2);
	assert_int_equal(mc.fa.ha_allow[0].net, 0x0a0a0000);
	assert_int_equal(mc.fa.ha_allow[0].mask, 0xffffff00);
	assert_int_equal(mc.fa.ha_allow[1].net, 0x0a280001);
	assert_int_equal(mc.fa.ha_allow[1].mask, 0xffffffff);
	mipd_conf_free(&mc);
	assert_int_equal(load_fa_conf("fa = {\n  home_agents = [ \"fd00::1\" ];"
				      "\n};\n",
				      &mc, err, sizeof(err)),
			 1);
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, "IPv4 address or prefix"));
	mipd_conf_free(&mc);
}

/* RFC 5944 2.3.1: adv_lifetime at least 3 x advertise_interval, with the
 * line; Prefix-Lengths on unless switched off. */
static void fa_conf_adv(void **state)
{
	struct mipd_conf mc;
	char err[4096];

	(void)state;
	assert_int_equal(load_fa_conf("fa = {\n  advertise_interval = 2;\n"
				      "  adv_lifetime = 5;\n};\n",
				      &mc, err, sizeof(err)),
			 1);
	assert_non_null(strstr(err, ":3: 'adv_lifetime' (5 s) is shorter "
				    "than 3 x 'advertise_interval' (2 s): use "
				    "at least 6"));
	mipd_conf_free(&mc);
	assert_int_equal(load_fa_conf("fa = { advertise_interval = 2; "
				      "adv_lifetime = 6; };\n",
				      &mc, err, sizeof(err)),
			 0);
	assert_true(mc.fa.prefix_lengths);
	mipd_conf_free(&mc);
	assert_int_equal(load_fa_conf("fa = { prefix_lengths = false; };\n",
				      &mc, err, sizeof(err)),
			 0);
	assert_false(mc.fa.prefix_lengths);
	mipd_conf_free(&mc);
}

/* ---- the FA's own reply codes ---- */

/* A request the way fa_check_request() sees it; eds: an Encapsulating
 * Delivery Style extension after the MN-HA authenticator; nai: one
 * before it. */
static void parse_rrq(uint8_t *buf, size_t cap, struct reg_msg *m,
		      const char *hoa, const char *ha, const char *coa,
		      uint16_t life, uint8_t flags, bool nai, bool eds)
{
	struct reg_request rq = {.flags = flags, .lifetime = life, .id = 7};
	struct reg_sa sa = {.spi = 256,
			    .alg = REG_ALG_HMAC_MD5,
			    .key = (const uint8_t *)"secret",
			    .key_len = 6};
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	rq.home.s_addr = ip(hoa);
	rq.ha.s_addr = ip(ha);
	rq.coa.s_addr = ip(coa);
	wb_init(&w, buf, cap);
	reg_build_request(&b, &w, &rq);
	if (nai)
		reg_add_nai(&b, "mn@lab", 6);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &sa), 0);
	if (eds)
		reg_add_ext(&b, MIP4_EXT_ENCAP_DELIVERY, NULL, 0);
	assert_int_equal(reg_build_end(&b, &len), 0);
	assert_int_equal(reg_parse_request(m, buf, len), REG_OK);
}

static int check(struct fa *f, const char *hoa, const char *ha, const char *coa,
		 uint16_t life, uint8_t flags, bool nai, bool eds, uint8_t ttl)
{
	uint8_t buf[256];
	struct reg_msg m;

	parse_rrq(buf, sizeof(buf), &m, hoa, ha, coa, life, flags, nai, eds);
	return fa_check_request(f, &m, ttl);
}

#define CHK(hoa, ha, life, flags, ttl)                                         \
	check(f, hoa, ha, "10.30.0.1", life, flags, false, false, ttl)

static void fa_codes(void **state)
{
	struct fa_conf c;
	struct fa *f;

	(void)state;
	fa_conf_defaults(&c);
	c.reverse_required = true;
	c.ha_allow[0].net = 0x0a0a0000; /* 10.10.0.0/16, host order */
	c.ha_allow[0].mask = 0xffff0000;
	c.nha_allow = 1;
	f = fa_new(NULL, &c);
	assert_non_null(f);
	f->addr = f->coa = ip("10.30.0.1");

	assert_int_equal(CHK(HOA, "10.10.0.2", 600, MIP4_RRQ_T, 255), -1);
	/* RFC 2794: who the node is, which home agent it names */
	assert_int_equal(CHK("0.0.0.0", "10.10.0.2", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_MISSING_NAI);
	assert_int_equal(check(f, "0.0.0.0", "10.10.0.2", "10.30.0.1", 600,
			       MIP4_RRQ_T, true, false, 255),
			 MIP4_FA_NONZERO_HOMEADDR_REQ);
	assert_int_equal(CHK(HOA, "0.0.0.0", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_MISSING_HA);
	assert_int_equal(CHK(HOA, "255.255.255.255", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_MISSING_HA);
	assert_int_equal(CHK(HOA, "224.0.0.11", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_BAD_HA_ADDR);
	assert_int_equal(CHK(HOA, "127.0.0.1", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_BAD_HA_ADDR);
	assert_int_equal(CHK(HOA, "10.30.0.1", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_BAD_HA_ADDR);
	assert_int_equal(CHK(HOA, "10.11.0.2", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_ADMIN_PROHIBITED);
	/* lifetime, care-of address, encapsulation */
	assert_int_equal(CHK(HOA, "10.10.0.2", 1801, MIP4_RRQ_T, 255),
			 MIP4_FA_LIFETIME_TOO_LONG);
	assert_int_equal(check(f, HOA, "10.10.0.2", "10.30.0.9", 600,
			       MIP4_RRQ_T, false, false, 255),
			 MIP4_FA_BAD_COA);
	assert_int_equal(
	    CHK(HOA, "10.10.0.2", 600, MIP4_RRQ_T | MIP4_RRQ_G, 255),
	    MIP4_FA_ENCAP_UNAVAIL);
	/* RFC 3024 3.3 */
	assert_int_equal(CHK(HOA, "10.10.0.2", 600, 0, 255),
			 MIP4_FA_REVTUN_MANDATORY);
	assert_int_equal(CHK(HOA, "10.10.0.2", 0, 0, 255), -1); /* dereg */
	assert_int_equal(CHK(HOA, "10.10.0.2", 600, MIP4_RRQ_T, 64),
			 MIP4_FA_TOO_DISTANT);
	assert_int_equal(CHK(HOA, "10.10.0.2", 600, MIP4_RRQ_T, 0), -1);
	assert_int_equal(check(f, HOA, "10.10.0.2", "10.30.0.1", 600,
			       MIP4_RRQ_T, false, true, 255),
			 MIP4_FA_DELIVERY_UNSUPPORTED);
	c.reverse_required = false;
	assert_int_equal(
	    check(f, HOA, "10.10.0.2", "10.30.0.1", 600, 0, false, true, 255),
	    MIP4_FA_BAD_REQUEST);
	c.reverse_tunnel = false;
	assert_int_equal(CHK(HOA, "10.10.0.2", 600, MIP4_RRQ_T, 255),
			 MIP4_FA_REVTUN_UNAVAIL);
	fa_free(f);
}

static void unreach_codes(void **state)
{
	(void)state;
	assert_int_equal(fa_unreach_code(3, 0), MIP4_FA_HOME_NET_UNREACH);
	assert_int_equal(fa_unreach_code(3, 6), MIP4_FA_HOME_NET_UNREACH);
	assert_int_equal(fa_unreach_code(3, 1), MIP4_FA_HA_HOST_UNREACH);
	assert_int_equal(fa_unreach_code(3, 3), MIP4_FA_HA_PORT_UNREACH);
	assert_int_equal(fa_unreach_code(3, 13), MIP4_FA_HA_UNREACH);
	assert_int_equal(fa_unreach_code(11, 0), MIP4_FA_HA_UNREACH);
	assert_int_equal(fa_errno_code(-ENETUNREACH), MIP4_FA_HOME_NET_UNREACH);
	assert_int_equal(fa_errno_code(EHOSTUNREACH), MIP4_FA_HA_HOST_UNREACH);
	assert_int_equal(fa_errno_code(ECONNREFUSED), MIP4_FA_HA_PORT_UNREACH);
	assert_int_equal(fa_errno_code(EACCES), MIP4_FA_UNSPECIFIED);
}

/* The whole request path denies, and nothing stays behind. */
static void denied_on_wire(struct fx *f, const struct rrq *q, int code)
{
	uint8_t req[256], got[256];
	uint32_t from;
	uint16_t port;
	size_t len = build_rrq(f, q, req, sizeof(req));

	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, NULL, NULL), code);
	assert_int_equal(fa_visitor_count(f->fa), 0);
	assert_false(has_route());
	assert_false(has_neigh());
	(void)got, (void)from, (void)port;
}

/* RFC 5944 3.7.2.3: relaying that fails - the kernel's own refusal at
 * sendmsg (80, 81, 64) or an ICMP error from the path (82). */
static void relay_unreachable(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600};
	struct jw w;

	q.ha = "203.0.113.1"; /* no route at all */
	denied_on_wire(f, &q, MIP4_FA_HOME_NET_UNREACH);
	q.ha = "198.51.100.7"; /* `unreachable` route */
	denied_on_wire(f, &q, MIP4_FA_HA_HOST_UNREACH);
	q.ha = "198.51.100.8"; /* `prohibit`: EACCES */
	denied_on_wire(f, &q, MIP4_FA_UNSPECIFIED);
	/* nobody on the home agent's port: ICMP port unreachable */
	close(f->ha);
	f->ha = -1;
	q.ha = NULL;
	denied_on_wire(f, &q, MIP4_FA_HA_PORT_UNREACH);
	assert_int_equal(fa_stats(f->fa)->req_denied, 4);
	jw_init(&w);
	jw_obj_begin(&w, NULL);
	fa_ctl_status(f->fa, &w);
	jw_obj_end(&w);
	assert_non_null(strstr(jw_text(&w), "\"last_denial\":82"));
	assert_non_null(strstr(jw_text(&w), "\"last_denial_name\":\"FA: home "
					    "agent port unreachable\""));
	jw_free(&w);
}

/* 76 on the wire: a reverse-tunnel request that crossed a router. */
static void too_distant(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600, .flags = MIP4_RRQ_T};

	mn_ttl = 64;
	denied_on_wire(f, &q, MIP4_FA_TOO_DISTANT);
	mn_ttl = 255;
}

/* 66: the visitor list is full (and the advertisement says busy). */
static void visitor_list_full(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600};
	uint8_t req[256], got[512];
	struct agent_adv_cfg c;
	struct reg_adv a;
	uint32_t from;
	uint16_t port;
	size_t len;

	fa_free(f->fa);
	f->conf.max_visitors = 1;
	f->fa = fa_new(f->l, &f->conf);
	assert_int_equal(fa_start(f->fa), 0);
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	assert_true(ha_recv(f, got, sizeof(got), &from, &port, 1000) > 0);
	q.hoa = "10.10.0.101";
	len = build_rrq(f, &q, req, sizeof(req));
	mn_request(f, req, len);
	assert_int_equal(mn_reply(f, NULL, NULL), MIP4_FA_NO_RESOURCES);
	assert_int_equal(fa_visitor_count(f->fa), 1);
	fa_adv_cfg(f->fa, &c);
	assert_int_equal(c.extra_flags(c.arg), MIP4_ADV_B);
	agent_adv_fill(&f->fa->adv, &a);
	assert_true(a.flags & MIP4_ADV_B);
}

/* 65: a home agent outside fa.home_agents. */
static void home_agent_not_allowed(void **state)
{
	struct fx *f = *state;
	struct rrq q = {.lifetime = 600};

	fa_free(f->fa);
	f->conf.ha_allow[0].net = 0x0a0b0000; /* 10.11.0.0/16 */
	f->conf.ha_allow[0].mask = 0xffff0000;
	f->conf.nha_allow = 1;
	f->fa = fa_new(f->l, &f->conf);
	assert_int_equal(fa_start(f->fa), 0);
	denied_on_wire(f, &q, MIP4_FA_ADMIN_PROHIBITED);
}

int main(void)
{
	const struct CMUnitTest ns[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    cmocka_unit_test_setup_teardown(advertisement, setup_fast_adv,
					    teardown),
	    T(solicitation),
	    T(relay_and_accept),
	    T(denial_removes),
	    T(lifetime_too_long),
	    T(wrong_id_ignored_then_timeout),
	    T(expiry_cleans_up),
	    T(deregistration),
	    T(new_home_agent),
	    T(data_path),
	    T(visitors_json),
	    T(relay_unreachable),
	    T(too_distant),
	    T(visitor_list_full),
	    T(home_agent_not_allowed),
#undef T
	};
	const struct CMUnitTest pure[] = {
	    cmocka_unit_test(fa_codes),
	    cmocka_unit_test(unreach_codes),
	    cmocka_unit_test(fa_conf_home_agents),
	    cmocka_unit_test(fa_conf_adv),
	};
	int rc;

	log_init("test_fa", false);
	log_set_level(NULL, getenv("FA_DEBUG") ? L_DEBUG : L_ERR);
	rc = cmocka_run_group_tests_name("foreign agent codes", pure, NULL,
					 NULL);
	if (unshare(CLONE_NEWNET) < 0) {
		print_message("unshare(CLONE_NEWNET): %s; foreign agent tests "
			      "skipped (they need root)\n",
			      strerror(errno));
		return rc;
	}
	have_ns = make_link() == 0;
	return rc |
	       cmocka_run_group_tests_name("foreign agent", ns, NULL, NULL);
}
