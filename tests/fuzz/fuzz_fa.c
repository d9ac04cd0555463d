/*
 * fuzz_fa.c - the foreign agent's receive paths on arbitrary bytes: the
 * requests of visiting nodes (fa_handle_request), the replies of home
 * agents (fa_handle_reply), the ICMP errors relaying draws
 * (fa_handle_icmp_error) and Agent Solicitations (agent_adv_input).
 *
 * The agent is not started (no interface, no tunnel, no kernel state).
 * When the harness may make a network namespace (root), relayed requests
 * go out for real - onto its loopback, where 10.30.0.1 (us) and the home
 * agents live - so visitors stay pending and replies have something to
 * match; otherwise relaying fails at once (64) and only the checks run.
 * The first byte steers:
 *   bits 0-1  0 request, 1 reply, 2 ICMP error (next two bytes: ICMP type
 *             and code), 3 IP datagram to the ICMP socket
 *   bit 2     the request's TTL is 64 instead of 255 (76)
 *   bit 3     the reply (or ICMP error) names the home agent at 10.10.0.3
 * Seeds in tests/fuzz/corpus/fa/.
 */
#include "tests/fuzz/fuzz.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/log.h"
#include "common/nl.h"
#include "mipd/fa.h"
#include "mipd/fa_int.h"

static struct eloop *loop;
static struct fa_conf conf;
static struct fa *fa;

/* A private network namespace with our addresses on lo; false if we may
 * not (not root): the FA then runs without a socket. */
static bool private_net(void)
{
	if (unshare(CLONE_NEWNET) < 0 ||
	    nl_link_set_up(nl_ifindex("lo"), true) < 0)
		return false;
	return system("ip addr add 10.30.0.1/24 dev lo && "
		      "ip addr add 10.10.0.2/24 dev lo") == 0;
}

/* Everything sent to port 434 here lands in a socket nobody reads: no
 * ICMP errors, the same outcome for every input. */
static void sink(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(434)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		close(fd);
}

static int open_udp(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	sin.sin_addr.s_addr = htonl(0x0a1e0001);
	setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void init(void)
{
	if (loop)
		return;
	log_init("fuzz_fa", true); /* syslog: quiet */
	log_set_level(NULL, L_ERR);
	loop = eloop_new();
	fa_conf_defaults(&conf);
	conf.max_visitors = 64;
	conf.reverse_required = false;
	conf.ha_allow[0].net = 0x0a0a0000; /* 10.10.0.0/16 */
	conf.ha_allow[0].mask = 0xffff0000;
	conf.nha_allow = 1;
	fa = fa_new(loop, &conf);
	if (!loop || !fa)
		abort();
	fa->addr = fa->coa = htonl(0x0a1e0001); /* 10.30.0.1 */
	fa->plen = 24;
	if (private_net()) {
		sink();
		fa->udp_fd = open_udp();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t ha =
	    htonl(data && size && (data[0] & 8) ? 0x0a0a0003 : 0x0a0a0002);
	uint32_t mn = htonl(0x0a0a0064);

	init();
	if (size < 1 || size > 4096)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fa_handle_request(fa, data + 1, size - 1, mn, 434, fa->addr,
				  data[0] & 4 ? 64 : 255);
		break;
	case 1:
		fa_handle_reply(fa, data + 1, size - 1, ha);
		break;
	case 2:
		if (size >= 3)
			fa_handle_icmp_error(fa, data + 3, size - 3, ha,
					     data[1], data[2]);
		break;
	default:
		agent_adv_input(&fa->adv, data + 1, size - 1);
		break;
	}
	if (fa_visitor_count(fa) > conf.max_visitors)
		abort();
	return 0;
}
