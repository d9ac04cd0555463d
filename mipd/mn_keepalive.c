/*
 * mn_keepalive.c - RFC 3519 tunnel keepalives of the mobile node.
 *
 * While the home agent tunnels to us in IP-in-UDP (it answered our UDP
 * Tunnel Request with a UDP Tunnel Reply), a NAT between us and it holds
 * the mapping the tunnel depends on, and forgets it after a while of
 * silence.  So (RFC 3519 3.2, 4.9):
 *
 *   - the interval is the Keepalive Interval of the UDP Tunnel Reply; 0
 *     there means our own default, MN_KEEPALIVE_DEFAULT_S;
 *   - a keepalive goes out when that many seconds passed without anything
 *     (registration request or tunnelled data) sent to the home agent;
 *   - the keepalive is an ICMP Echo Request to the home agent, sent the
 *     way tunnelled data is: MIP tunnel data message (type 4, next header
 *     4) on the registration socket, CCoA:434 -> HA:434, so the NAT sees
 *     the very flow the tunnel uses.  The inner packet goes from the home
 *     address to the home agent's address: the home agent's reverse-tunnel
 *     source check accepts it (home address bound to this NAT address and
 *     port), its stack answers, and the Echo Reply comes back through the
 *     tunnel - refreshing the mapping in that direction too, and telling
 *     us the tunnel works end to end (counted as keepalive_replies).
 *
 * One timer: it fires at (last transmission + interval) and either sends
 * or, when something went out meanwhile, moves itself to the new deadline.
 * Transmissions only record a time; they never touch the timer heap.
 */
#define LOG_TAG "mn"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "mipd/mn_int.h"

#define NS_PER_MS	  1000000ULL
#define ICMP_ECHO_REPLY	  0
#define ICMP_ECHO_REQUEST 8

static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

size_t mn_keepalive_build(uint8_t *out, size_t cap, struct in_addr src,
			  struct in_addr dst, uint16_t ident, uint16_t seq)
{
	uint8_t *icmp = out + MN_KA_IP_LEN;

	if (cap < MN_KA_LEN)
		return 0;
	memset(out, 0, MN_KA_LEN);
	out[0] = 0x45; /* IPv4, 20-byte header */
	put16(out + 2, MN_KA_LEN);
	put16(out + 4, seq); /* IP identification */
	out[8] = 64;	     /* TTL */
	out[9] = IPPROTO_ICMP;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, &dst, 4);
	put16(out + 10, csum(out, MN_KA_IP_LEN));
	icmp[0] = ICMP_ECHO_REQUEST;
	put16(icmp + 4, ident);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, MN_KA_DATA, MN_KA_DATA_LEN);
	put16(icmp + 2, csum(icmp, MN_KA_LEN - MN_KA_IP_LEN));
	return MN_KA_LEN;
}

static void on_timer(void *arg);

void mn_keepalive_init(struct mn_keepalive *k, struct eloop *l,
		       mn_keepalive_send_fn send, void *arg)
{
	memset(k, 0, sizeof(*k));
	k->loop = l;
	k->send = send;
	k->arg = arg;
	/* an identifier of our own, so replies are told from a ping's */
	k->ident = (uint16_t)(getpid() ^ 0x4d49);
	timer_init(&k->t, on_timer, k);
}

void mn_keepalive_traffic_at(struct mn_keepalive *k, uint64_t now)
{
	if (k->interval_ms)
		k->last_tx_ns = now;
}

void mn_keepalive_traffic(struct mn_keepalive *k)
{
	if (k->interval_ms) /* no clock read on the data path otherwise */
		mn_keepalive_traffic_at(k, mono_ns());
}

static uint64_t due(const struct mn_keepalive *k)
{
	return k->last_tx_ns + (uint64_t)k->interval_ms * NS_PER_MS;
}

void mn_keepalive_start_at(struct mn_keepalive *k, struct in_addr hoa,
			   struct in_addr ha, uint16_t interval_s, uint64_t now)
{
	uint32_t ms =
	    (interval_s ? interval_s : MN_KEEPALIVE_DEFAULT_S) * 1000u;

	if (k->interval_ms == ms && k->hoa.s_addr == hoa.s_addr &&
	    k->ha.s_addr == ha.s_addr)
		return; /* a renewal: the schedule runs on */
	k->hoa = hoa;
	k->ha = ha;
	k->interval_ms = ms;
	if (!k->last_tx_ns || k->last_tx_ns > now)
		k->last_tx_ns = now;
	timer_arm_at(k->loop, &k->t, due(k));
	log_info("RFC 3519 keepalives every %u s%s", ms / 1000,
		 interval_s ? "" : " (the home agent left it to us)");
}

void mn_keepalive_start(struct mn_keepalive *k, struct in_addr hoa,
			struct in_addr ha, uint16_t interval_s)
{
	mn_keepalive_start_at(k, hoa, ha, interval_s, mono_ns());
}

void mn_keepalive_stop(struct mn_keepalive *k)
{
	if (!k->loop || !k->interval_ms)
		return;
	timer_cancel(k->loop, &k->t);
	k->interval_ms = 0;
	k->last_tx_ns = 0;
	log_info("RFC 3519 keepalives stopped (%llu sent, %llu answered)",
		 (unsigned long long)k->sent, (unsigned long long)k->replies);
}

void mn_keepalive_fire_at(struct mn_keepalive *k, uint64_t now)
{
	uint8_t pkt[MN_KA_LEN];
	size_t n;

	if (!k->interval_ms)
		return;
	if (now < due(k)) {
		/* something went to the HA since: wait a full interval
		 * after that */
		timer_arm_at(k->loop, &k->t, due(k));
		return;
	}
	n = mn_keepalive_build(pkt, sizeof(pkt), k->hoa, k->ha, k->ident,
			       ++k->seq);
	if (k->send(k->arg, pkt, n) == 0) {
		k->sent++;
		log_debug("keepalive %u to %s through the UDP tunnel", k->seq,
			  inet_ntoa(k->ha));
	} else {
		k->send_errors++;
	}
	/* a failed send is retried an interval later, not at once */
	k->last_tx_ns = now;
	timer_arm_at(k->loop, &k->t, due(k));
}

static void on_timer(void *arg)
{
	mn_keepalive_fire_at(arg, mono_ns());
}

bool mn_keepalive_reply(struct mn_keepalive *k, const struct ip4_view *in)
{
	struct rbuf icmp = in->payload; /* in stays whole */
	uint16_t ident;
	uint8_t type;

	if (in->proto != IPPROTO_ICMP || in->src != k->ha.s_addr ||
	    in->dst != k->hoa.s_addr)
		return false;
	rb_u8(&icmp, &type);
	rb_skip(&icmp, 3); /* code, checksum */
	rb_u16(&icmp, &ident);
	rb_skip(&icmp, 2); /* sequence: the whole echo header is there */
	if (icmp.failed || type != ICMP_ECHO_REPLY || ident != k->ident)
		return false;
	k->replies++;
	return true;
}

void mn_keepalive_status(const struct mn_keepalive *k, struct jw *out)
{
	jw_uint(out, "keepalive_interval", k->interval_ms / 1000);
	jw_uint(out, "keepalives_sent", k->sent);
	jw_uint(out, "keepalive_replies", k->replies);
}
