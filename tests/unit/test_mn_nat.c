/*
 * test_mn_nat.c - RFC 3519 NAT traversal keepalives (mipd/mn_keepalive.c,
 * their use in mipd/mn_path.c, the home agent's side in mipd/tunnel.c):
 * the inner ICMP Echo Request's bytes, the timer schedule (sent only after
 * an interval of silence towards the home agent, the HA's interval or the
 * default for 0), replies recognised; then in a private network namespace
 * (skipped without root) a keepalive on the wire - UDP 434 -> 434, MIP
 * tunnel data header, the inner packet - from the mobile node's data path
 * with its real timer, stopped when the mode or the encapsulation changes,
 * and the home agent's tunnel counting it only from the bound NAT address
 * and port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/eloop.h"
#include "common/ip4.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/conf.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"
#include "mipd/tunnel.h"

#define S_NS 1000000000ULL

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static uint16_t sum16(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* ---- the packet -------------------------------------------------------- */

static void keepalive_bytes(void **state)
{
	uint8_t p[64];
	static const uint8_t ip_hdr[10] = {0x45, 0, 0, MN_KA_LEN, 0x12,
					   0x34, 0, 0, 64,	  IPPROTO_ICMP};
	static const uint8_t icmp_hdr[8] = {8, 0, 0, 0, 0xbe, 0xef, 0x12, 0x34};
	size_t n = mn_keepalive_build(p, sizeof(p), ip("10.10.0.100"),
				      ip("10.10.0.2"), 0xbeef, 0x1234);

	assert_int_equal(n, 36);
	assert_int_equal(MN_KA_LEN, 36);
	/* IPv4: 20-byte header, total 36, id = seq, no DF, TTL 64, ICMP */
	assert_memory_equal(p, ip_hdr, 10);
	/* from the home address to the home agent (RFC 3519 4.9) */
	assert_memory_equal(p + 12, ((uint8_t[]){10, 10, 0, 100}), 4);
	assert_memory_equal(p + 16, ((uint8_t[]){10, 10, 0, 2}), 4);
	assert_int_equal(sum16(p, 20), 0xffff); /* header checksum */
	assert_int_equal(tunnel_ip_check(p, n), 20);
	/* Echo Request, code 0, identifier, sequence, then the data */
	assert_memory_equal(p + 20, icmp_hdr, 2);
	assert_memory_equal(p + 24, icmp_hdr + 4, 4);
	assert_memory_equal(p + 28, MN_KA_DATA, MN_KA_DATA_LEN);
	assert_int_equal(sum16(p + 20, 16), 0xffff); /* ICMP checksum */
	/* in the MIP tunnel data message (RFC 3519 3.3): type 4, next
	 * header 4 (IPv4), reserved 0, the packet */
	{
		uint8_t m[64];

		assert_int_equal(tunnel_udp_encap(m, sizeof(m), p, n), 40);
		assert_memory_equal(m, ((uint8_t[]){4, 4, 0, 0}), 4);
		assert_memory_equal(m + 4, p, n);
	}
	assert_int_equal(
	    mn_keepalive_build(p, 35, ip("1.2.3.4"), ip("5.6.7.8"), 1, 1), 0);
}

/* ---- the schedule -------------------------------------------------------- */

static uint8_t sent_pkt[8][64];
static size_t nsent;
static int send_rc;

static int fake_send(void *arg, const uint8_t *pkt, size_t len)
{
	assert_true(len <= sizeof(sent_pkt[0]));
	if (send_rc == 0 && nsent < 8)
		memcpy(sent_pkt[nsent++], pkt, len);
	return send_rc;
}

static void keepalive_schedule(void **state)
{
	struct eloop *l = eloop_new();
	struct mn_keepalive k;
	struct in_addr hoa = ip("10.10.0.100"), ha = ip("10.10.0.2");
	const uint64_t t0 = 1000 * S_NS;

	assert_non_null(l);
	nsent = 0;
	send_rc = 0;
	mn_keepalive_init(&k, l, fake_send, NULL);
	assert_false(timer_armed(&k.t));
	/* the accepted request went out at t0; the HA asked for 5 s */
	mn_keepalive_traffic_at(&k, t0); /* ignored: not started yet */
	assert_int_equal(k.last_tx_ns, 0);
	mn_keepalive_start_at(&k, hoa, ha, 5, t0);
	assert_true(timer_armed(&k.t));
	assert_int_equal(k.t.due_ns, t0 + 5 * S_NS);
	/* data at t0 + 3 s only records the time */
	mn_keepalive_traffic_at(&k, t0 + 3 * S_NS);
	assert_int_equal(k.t.due_ns, t0 + 5 * S_NS);
	/* at t0 + 5 s: not 5 s of silence yet, wait until t0 + 8 s */
	mn_keepalive_fire_at(&k, t0 + 5 * S_NS);
	assert_int_equal(nsent, 0);
	assert_int_equal(k.t.due_ns, t0 + 8 * S_NS);
	/* t0 + 8 s: silence, keepalive 1; the next 5 s later */
	mn_keepalive_fire_at(&k, t0 + 8 * S_NS);
	assert_int_equal(nsent, 1);
	assert_int_equal(k.sent, 1);
	assert_int_equal(k.t.due_ns, t0 + 13 * S_NS);
	mn_keepalive_fire_at(&k, t0 + 13 * S_NS);
	assert_int_equal(nsent, 2);
	assert_int_equal(k.t.due_ns, t0 + 18 * S_NS);
	/* the packets: HoA -> HA echo requests, sequence 1 and 2 */
	{
		uint8_t want[MN_KA_LEN];

		mn_keepalive_build(want, sizeof(want), hoa, ha, k.ident, 1);
		assert_memory_equal(sent_pkt[0], want, MN_KA_LEN);
		mn_keepalive_build(want, sizeof(want), hoa, ha, k.ident, 2);
		assert_memory_equal(sent_pkt[1], want, MN_KA_LEN);
	}
	/* a renewal's reply with the same interval changes nothing */
	mn_keepalive_start_at(&k, hoa, ha, 5, t0 + 14 * S_NS);
	assert_int_equal(k.t.due_ns, t0 + 18 * S_NS);
	/* a failed send is counted and retried an interval later */
	send_rc = -1;
	mn_keepalive_fire_at(&k, t0 + 18 * S_NS);
	assert_int_equal(k.sent, 2);
	assert_int_equal(k.send_errors, 1);
	assert_int_equal(k.t.due_ns, t0 + 23 * S_NS);
	send_rc = 0;
	/* a new interval from the HA reschedules from the last send */
	mn_keepalive_start_at(&k, hoa, ha, 2, t0 + 19 * S_NS);
	assert_int_equal(k.t.due_ns, t0 + 20 * S_NS);
	/* stopped: timer off, a late callback sends nothing */
	mn_keepalive_stop(&k);
	assert_false(timer_armed(&k.t));
	mn_keepalive_fire_at(&k, t0 + 30 * S_NS);
	assert_int_equal(nsent, 2);
	/* Keepalive Interval 0: our default (RFC 3519 3.2) */
	mn_keepalive_start_at(&k, hoa, ha, 0, t0 + 40 * S_NS);
	assert_int_equal(k.interval_ms, MN_KEEPALIVE_DEFAULT_S * 1000);
	assert_int_equal(k.t.due_ns, t0 + (40 + MN_KEEPALIVE_DEFAULT_S) * S_NS);
	mn_keepalive_stop(&k);
	eloop_free(l);
}

static size_t echo_reply(uint8_t *p, struct in_addr from, struct in_addr to,
			 uint16_t ident)
{
	size_t n = mn_keepalive_build(p, 64, from, to, ident, 7);
	uint16_t s;

	p[20] = 0; /* Echo Reply */
	p[22] = p[23] = 0;
	s = (uint16_t)~sum16(p + 20, 16);
	p[22] = (uint8_t)(s >> 8);
	p[23] = (uint8_t)s;
	return n;
}

/* The keepalive check on an inner packet as the data path parses it. */
static bool ka_reply(struct mn_keepalive *k, const uint8_t *p, size_t n)
{
	struct ip4_view v;
	struct rbuf r;

	rb_init(&r, p, n);
	return ip4_parse(&r, &v) == 0 && mn_keepalive_reply(k, &v);
}

/* An IPv4 header's Total Length and checksum, after changing it. */
static void fix_ip(uint8_t *p, size_t tot)
{
	uint16_t s;

	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[10] = p[11] = 0;
	s = (uint16_t)~sum16(p, 20);
	p[10] = (uint8_t)(s >> 8);
	p[11] = (uint8_t)s;
}

static void keepalive_replies(void **state)
{
	struct eloop *l = eloop_new();
	struct mn_keepalive k;
	struct in_addr hoa = ip("10.10.0.100"), ha = ip("10.10.0.2");
	uint8_t p[64];
	size_t n;

	mn_keepalive_init(&k, l, fake_send, NULL);
	mn_keepalive_start_at(&k, hoa, ha, 5, S_NS);
	n = echo_reply(p, ha, hoa, k.ident);
	assert_true(ka_reply(&k, p, n));
	assert_int_equal(k.replies, 1);
	/* somebody's ping (another identifier), or not from the HA, or a
	 * request rather than a reply: not ours */
	n = echo_reply(p, ha, hoa, (uint16_t)(k.ident + 1));
	assert_false(ka_reply(&k, p, n));
	n = echo_reply(p, ip("10.40.0.2"), hoa, k.ident);
	assert_false(ka_reply(&k, p, n));
	n = mn_keepalive_build(p, sizeof(p), ha, hoa, k.ident, 1);
	assert_false(ka_reply(&k, p, n));
	assert_false(ka_reply(&k, p, 20));
	/* malformed: the echo header cut short by the Total Length (the
	 * bytes after it are not the packet's), or not ICMP */
	n = echo_reply(p, ha, hoa, k.ident);
	for (size_t tot = 20; tot < 28; tot++) {
		fix_ip(p, tot);
		assert_false(ka_reply(&k, p, n));
	}
	n = echo_reply(p, ha, hoa, k.ident);
	p[9] = IPPROTO_UDP;
	fix_ip(p, n);
	assert_false(ka_reply(&k, p, n));
	assert_int_equal(k.replies, 1);
	mn_keepalive_stop(&k);
	eloop_free(l);
}

/* ---- on the wire, in a private namespace -----------------------------------
 */

static bool ns_ok;

static int ns_init(void **state)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		print_message("no private network namespace (needs root): "
			      "wire tests skipped\n");
		return 0;
	}
	ns_ok = nl_link_set_up(nl_ifindex("lo"), true) == 0;
	return 0;
}

static int udp_bound(const char *addr, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr = ip(addr)};
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Runs the loop until fd is readable or ms passed; the datagram or -1. */
static ssize_t wait_dgram(struct eloop *l, int fd, uint8_t *buf, size_t cap,
			  struct sockaddr_in *from, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ULL;
	socklen_t fl = sizeof(*from);

	while (mono_ns() < end) {
		struct pollfd pf = {.fd = fd, .events = POLLIN};

		if (poll(&pf, 1, 0) == 1)
			return recvfrom(fd, buf, cap, 0,
					(struct sockaddr *)from, &fl);
		eloop_run_once(l, 50);
	}
	return -1;
}

static void keepalive_on_the_wire(void **state)
{
	struct in_addr none = {0};
	struct sockaddr_in from;
	struct mn_conf c;
	struct mn_path p;
	struct eloop *l;
	uint8_t buf[256], want[MN_KA_LEN], msg[64];
	int ha_fd, mn_fd, lo;
	uint64_t t_start;
	ssize_t n;

	if (!ns_ok)
		skip();
	l = eloop_new();
	/* the HA listens on 127.0.0.1:434, the MN's registration socket
	 * is 127.0.0.2:434 and its co-located CoA 127.0.0.2 */
	ha_fd = udp_bound("127.0.0.1", MIP4_PORT);
	mn_fd = udp_bound("127.0.0.2", MIP4_PORT);
	mn_conf_defaults(&c);
	c.configured = true;
	c.home = ip("10.10.0.100");
	c.ha = ip("127.0.0.1");
	snprintf(c.interface, sizeof(c.interface), "lo");
	lo = nl_ifindex("lo");
	assert_int_equal(mn_path_open(&p, l, &c, mn_fd, true), 0);

	/* the HA said IP-in-UDP, keepalive 1 s, before mode c: nothing
	 * yet; entering c starts the keepalives */
	mn_path_set_udp(&p, true, 1);
	assert_false(timer_armed(&p.ka.t));
	t_start = mono_ns();
	assert_int_equal(mn_path_set(&p, MODE_C, lo, ip("127.0.0.2"), none), 0);
	assert_true(timer_armed(&p.ka.t));
	assert_int_equal(p.ka.interval_ms, 1000);

	/* the real timer: one keepalive after 1 s of silence */
	n = wait_dgram(l, ha_fd, buf, sizeof(buf), &from, 3000);
	assert_int_equal(n, TUN_UDP_HDR_LEN + MN_KA_LEN);
	assert_true(mono_ns() - t_start >= 990000000ULL);
	assert_int_equal(p.ka.sent, 1);
	/* outer: UDP from the CoA's port 434 to the HA's port 434 */
	assert_int_equal(from.sin_addr.s_addr, ip("127.0.0.2").s_addr);
	assert_int_equal(ntohs(from.sin_port), MIP4_PORT);
	/* MIP tunnel data header, then the echo request HoA -> HA */
	assert_memory_equal(
	    buf, ((uint8_t[]){MIP4_TUNNEL_DATA, MIP4_ENCAP_IPIP, 0, 0}), 4);
	mn_keepalive_build(want, sizeof(want), c.home, c.ha, p.ka.ident, 1);
	assert_memory_equal(buf + 4, want, MN_KA_LEN);
	/* keepalives are not data: the tunnel counters stay put */
	assert_int_equal(p.st.tx_udp, 0);

	/* the HA's echo reply comes back through the tunnel: counted and
	 * consumed, not handed to the TUN */
	msg[0] = MIP4_TUNNEL_DATA;
	msg[1] = MIP4_ENCAP_IPIP;
	msg[2] = msg[3] = 0;
	echo_reply(msg + 4, c.ha, c.home, p.ka.ident);
	mn_path_udp_input(&p, msg, 4 + MN_KA_LEN, c.ha.s_addr);
	assert_int_equal(p.ka.replies, 1);
	assert_int_equal(p.st.rx_udp, 0);
	assert_int_equal(p.st.rx_drop, 0);

	/* IP-in-IP again (a registration without the UDP Tunnel Reply):
	 * stopped, nothing more on the wire */
	mn_path_set_udp(&p, false, 0);
	assert_false(timer_armed(&p.ka.t));
	assert_int_equal(wait_dgram(l, ha_fd, buf, sizeof(buf), &from, 1300),
			 -1);
	/* back to UDP, then a move (mode none): stopped again */
	mn_path_set_udp(&p, true, 1);
	assert_true(timer_armed(&p.ka.t));
	assert_int_equal(mn_path_set(&p, MODE_NONE, lo, none, none), 0);
	assert_false(timer_armed(&p.ka.t));
	assert_int_equal(p.ka.interval_ms, 0);

	mn_path_close(&p);
	close(ha_fd);
	close(mn_fd);
	eloop_free(l);
}

/* ---- the home agent's side ---------------------------------------------- */

static struct binding nat_binding;

static const struct binding *lookup_one(void *arg, uint32_t hoa)
{
	return nat_binding.info.hoa == hoa ? &nat_binding : NULL;
}

static void ha_counts_keepalives(void **state)
{
	struct tunnel_cfg tc = {
	    .name = "hamip0", .udp_fd = -1, .lookup = lookup_one};
	const struct tunnel_stats *st;
	struct eloop *l;
	struct tunnel *t;
	uint8_t msg[64];

	if (!ns_ok)
		skip();
	l = eloop_new();
	t = tunnel_open(l, &tc);
	assert_non_null(t);
	st = tunnel_stats(t);
	nat_binding.info = (struct binding_info){
	    .hoa = ip("10.10.0.100").s_addr,
	    .coa = ip("192.168.50.100").s_addr,
	    .haa = ip("10.10.0.2").s_addr,
	    .nat_addr = ip("10.1.3.2").s_addr,
	    .nat_port = 434,
	    .encap = BCACHE_ENCAP_UDP,
	};
	msg[0] = MIP4_TUNNEL_DATA;
	msg[1] = MIP4_ENCAP_IPIP;
	msg[2] = msg[3] = 0;
	mn_keepalive_build(msg + 4, sizeof(msg) - 4, ip("10.10.0.100"),
			   ip("10.10.0.2"), 0x4242, 1);
	/* from the bound NAT address and port: passes the reverse-tunnel
	 * source check, counted, handed to the stack (which answers) */
	tunnel_udp_input(t, msg, 4 + MN_KA_LEN, ip("10.1.3.2").s_addr, 434);
	assert_int_equal(st->rx_udp, 1);
	assert_int_equal(st->rx_keepalive, 1);
	/* the same from another port (a forged or stale mapping): dropped,
	 * and the binding keeps its NAT address and port */
	tunnel_udp_input(t, msg, 4 + MN_KA_LEN, ip("10.1.3.2").s_addr, 1024);
	assert_int_equal(st->rx_src_drop, 1);
	assert_int_equal(st->rx_keepalive, 1);
	assert_int_equal(nat_binding.info.nat_port, 434);
	/* an echo to somebody else through the tunnel is data, not a
	 * keepalive */
	mn_keepalive_build(msg + 4, sizeof(msg) - 4, ip("10.10.0.100"),
			   ip("10.40.0.2"), 0x4242, 2);
	tunnel_udp_input(t, msg, 4 + MN_KA_LEN, ip("10.1.3.2").s_addr, 434);
	assert_int_equal(st->rx_udp, 2);
	assert_int_equal(st->rx_keepalive, 1);
	tunnel_close(t);
	eloop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keepalive_bytes),
	    cmocka_unit_test(keepalive_schedule),
	    cmocka_unit_test(keepalive_replies),
	    cmocka_unit_test(keepalive_on_the_wire),
	    cmocka_unit_test(ha_counts_keepalives),
	};

	log_init("test_mn_nat", false);
	log_set_level(NULL, L_ERR);
	return cmocka_run_group_tests(tests, ns_init, NULL);
}
