/*
 * mn_agent.c - agent discovery on the mobile node (RFC 5944 2.4):
 * a raw ICMP socket bound to the physical interface receives Agent
 * Advertisements (Router Advertisements with the Mobility Agent
 * Advertisement extension), which become policy AGENT_ADV events; on
 * link up and on a new address the node solicits (RFC 5944 2.4.1: at
 * most three, one per second, until an advertisement arrives).
 *
 * Movement detection by advertisement lifetime (RFC 5944 2.4.2.1) and by
 * network prefix (2.4.2.2, from the Prefix-Lengths extension, which
 * mn_adv_event passes on) lives in the policy engine; at home we are told
 * by the home prefix on the link, or by our home agent's own
 * advertisement (H bit, ha.advertise).
 */
#define LOG_TAG "mn"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/ip4.h"
#include "common/log.h"
#include "mipd/mip4.h"
#include "mipd/mn_int.h"

#define SOL_TRIES	3     /* RFC 5944 2.4.1: MAX_SOLICITATIONS */
#define SOL_INTERVAL_MS 1000u /* ... no more than one per second */

/* RFC 5944 2.4.2.2: the network prefix of the router address the
 * advertisement came from (else the first), for movement detection. */
static void adv_prefix(const struct reg_adv *a, struct in_addr src,
		       struct policy_adv *out)
{
	unsigned i = 0;
	uint32_t mask;

	if (!a->has_prefix || a->num_addrs == 0)
		return;
	for (unsigned j = 0; j < a->num_addrs && j < REG_ADV_MAX_ROUTERS; j++)
		if (a->router[j].addr.s_addr == src.s_addr)
			i = j;
	if (a->prefix_len[i] > 32)
		return; /* not a prefix length: ignore the extension */
	mask = a->prefix_len[i] ? ~(0xffffffffu >> (a->prefix_len[i] - 1) >> 1)
				: 0;
	out->has_prefix = true;
	out->plen = a->prefix_len[i];
	out->prefix.s_addr = htonl(ntohl(a->router[i].addr.s_addr) & mask);
}

bool mn_adv_event(struct in_addr ha, const struct reg_adv *a,
		  struct in_addr src, int ifindex, struct policy_ev *ev)
{
	bool ours = src.s_addr == ha.s_addr;

	for (unsigned i = 0; i < a->num_addrs && i < REG_ADV_MAX_ROUTERS; i++)
		if (a->router[i].addr.s_addr == ha.s_addr)
			ours = true;
	memset(ev, 0, sizeof(*ev));
	ev->type = POLICY_EV_AGENT_ADV;
	ev->ifindex = ifindex;
	ev->adv.home = (a->flags & MIP4_ADV_H) && ours;
	/* One without a care-of address offers none.  RFC 5944 2.1.1: a
	 * busy FA takes no new registrations, but it is still there: its
	 * visitors must not take it for gone (3.7). */
	ev->adv.fa = (a->flags & MIP4_ADV_F) && a->ncoa > 0;
	ev->adv.busy = ev->adv.fa && (a->flags & MIP4_ADV_B);
	if (!ev->adv.home && !ev->adv.fa)
		return false;
	ev->adv.fa_addr = src;
	ev->adv.coa = a->ncoa ? a->coa[0] : src;
	ev->adv.seq = a->seq;
	ev->adv.lifetime = a->lifetime;
	adv_prefix(a, src, &ev->adv);
	return true;
}

void mn_agent_input(struct mn_agent *g, const uint8_t *pkt, size_t len)
{
	const uint8_t *icmp;
	struct reg_adv a;
	struct policy_ev ev;
	struct in_addr src;
	struct ip4_view v;
	struct rbuf r;
	uint8_t type;
	size_t n;
	int err;

	/* from a raw socket: the kernel checked the header checksum */
	rb_init(&r, pkt, len);
	if (ip4_parse(&r, &v) < 0)
		return;
	n = rb_left(&v.payload);
	if (n < MIP4_ICMP_HDR_LEN || rb_peek_u8(&v.payload, &type) < 0 ||
	    type != MIP4_ICMP_ROUTER_ADV || rb_ptr(&v.payload, &icmp, n) < 0)
		return; /* echo, unreachables...: not ours */
	src.s_addr = v.src;
	err = reg_adv_parse(&a, icmp, n);
	if (err == REG_EMISSING)
		return; /* a plain router, not a mobility agent */
	if (err != REG_OK) {
		g->adv_bad++;
		log_debug("agent advertisement from %s dropped: %s",
			  inet_ntoa(src), reg_err_name(err));
		return;
	}
	g->adv_rx++;
	if (!mn_adv_event(g->ha ? *g->ha : g->conf->ha, &a, src, g->ifindex,
			  &ev))
		return;
	if (!g->have_last || g->last.fa_addr.s_addr != src.s_addr ||
	    g->last.busy != ev.adv.busy)
		log_info("agent advertisement from %s seq %u lifetime %u%s%s%s",
			 inet_ntoa(src), ev.adv.seq, ev.adv.lifetime,
			 ev.adv.fa ? " FA" : "", ev.adv.busy ? " busy" : "",
			 ev.adv.home ? " HA" : "");
	g->have_last = true;
	g->last = ev.adv;
	g->sol_left = 0;
	timer_cancel(g->loop, &g->t_sol);
	g->cb(g->arg, &ev);
}

static void on_icmp(void *arg, int fd, uint32_t events)
{
	struct mn_agent *g = arg;
	uint8_t buf[2048];

	for (int i = 0; i < 16; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n <= 0)
			return;
		mn_agent_input(g, buf, (size_t)n);
	}
}

/* RFC 5944 2.4: to the limited broadcast address (every agent's raw
 * socket sees it; 224.0.0.11 needs a membership the agent may lack). */
static void send_sol(struct mn_agent *g)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_addr.s_addr = INADDR_BROADCAST};
	struct reg_sol s = {0};
	uint8_t pkt[64];
	struct wbuf w;
	size_t len = 0;

	wb_init(&w, pkt, sizeof(pkt));
	if (reg_sol_build(&w, &s, &len) != REG_OK)
		return;
	if (sendto(g->fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		log_debug("agent solicitation: %s", strerror(errno));
	else
		g->sol_tx++;
}

static void on_sol_timer(void *arg)
{
	struct mn_agent *g = arg;

	if (!g->sol_left)
		return;
	g->sol_left--;
	send_sol(g);
	if (g->sol_left)
		timer_arm_ms(g->loop, &g->t_sol, SOL_INTERVAL_MS);
}

void mn_agent_solicit(struct mn_agent *g, int ifindex)
{
	g->ifindex = ifindex;
	if (g->fd < 0)
		return;
	g->sol_left = SOL_TRIES;
	on_sol_timer(g);
}

int mn_agent_open(struct mn_agent *g, struct eloop *l, const struct mn_conf *c,
		  const struct in_addr *ha, mn_adv_cb cb, void *arg)
{
	const char *dev = c->interface;
	int one = 1, ttl = 1;

	memset(g, 0, sizeof(*g));
	g->conf = c;
	g->ha = ha;
	g->loop = l;
	g->cb = cb;
	g->arg = arg;
	g->ifindex = -1;
	timer_init(&g->t_sol, on_sol_timer, g);
	g->fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       IPPROTO_ICMP);
	if (g->fd < 0 ||
	    setsockopt(g->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, strlen(dev)) <
		0 ||
	    setsockopt(g->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) <
		0 ||
	    setsockopt(g->fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0 ||
	    eloop_add_fd(l, g->fd, EPOLLIN, on_icmp, g) < 0) {
		log_err("agent discovery socket on %s: %s", dev,
			strerror(errno));
		if (g->fd >= 0)
			close(g->fd);
		g->fd = -1;
		return -1;
	}
	return 0;
}

void mn_agent_close(struct mn_agent *g)
{
	timer_cancel(g->loop, &g->t_sol);
	if (g->fd >= 0) {
		eloop_del_fd(g->loop, g->fd);
		close(g->fd);
	}
	g->fd = -1;
}
