/*
 * ha_io.c - the home agent's edges: the UDP 434 socket (IP_PKTINFO, so a
 * reply leaves from the address the request reached, which a NAT in front
 * of the mobile node needs), reply building (RFC 5944 3.4, 3.8.3) and the
 * control-channel views of the binding cache.
 */
#define LOG_TAG "ha"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "mipd/ha_int.h"
#include "mipd/ratelimit.h"
#include "mipd/tunnel.h"

#define DGRAM_MAX 2048

const struct binding *ha_lookup(void *arg, uint32_t hoa)
{
	const struct ha *h = arg;

	return bcache_lookup(h->bc, hoa);
}

/* ---- replies ---- */

static uint32_t reply_ha(const struct ha *h, const struct ha_req *r, int code)
{
	/* RFC 5944 3.8.3.1: on 136 the field tells the node our address */
	if (code != MIP4_HA_UNKNOWN_HA)
		return r->m.rq.ha.s_addr;
	return h->conf->address.s_addr ? h->conf->address.s_addr : r->from->dst;
}

static void add_udp_rep(const struct ha *h, struct reg_builder *b)
{
	struct reg_udp_rep u = {.code = MIP4_UDP_REP_ACCEPT,
				.keepalive = h->conf->keepalive};

	/* RFC 3519 3.2: before the MN-HA authenticator, so covered by it */
	reg_add_udp_rep(b, &u);
}

size_t ha_build_reply(struct ha *h, const struct ha_req *r, int code,
		      uint8_t *out, size_t cap)
{
	struct reg_reply rp = {
	    .code = (uint8_t)code,
	    .lifetime = MIP4_CODE_IS_SUCCESS(code) ? r->lifetime : 0,
	    .home = r->m.rq.home,
	    .id = r->reply_id,
	};
	struct reg_builder b;
	struct wbuf w;
	size_t len = 0;

	if (MIP4_CODE_IS_SUCCESS(code) && ha_is_dereg(&r->m.rq))
		rp.lifetime = 0;
	rp.ha.s_addr = reply_ha(h, r, code);
	wb_init(&w, out, cap);
	reg_build_reply(&b, &w, &rp);
	if (MIP4_CODE_IS_SUCCESS(code) && r->encap == BCACHE_ENCAP_UDP)
		add_udp_rep(h, &b);
	/* RFC 5944 3.8.3.1: authenticated whenever we share an SA */
	if (r->mn)
		reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &r->sa);
	if (reg_build_end(&b, &len) != REG_OK) {
		h->st.send_err++;
		return 0;
	}
	return len;
}

/* ---- batches ---- */

uint32_t ha_req_home(const uint8_t *pkt, size_t len)
{
	uint32_t hoa = 0;
	uint8_t type;
	struct rbuf r;

	/* RFC 5944 3.3: type, flags, lifetime, then the home address */
	rb_init(&r, pkt, len);
	if (rb_u8(&r, &type) < 0 || type != MIP4_REG_REQUEST ||
	    rb_skip(&r, 3) < 0 || rb_bytes(&r, &hoa, 4) < 0)
		return 0;
	return hoa;
}

/*
 * At a million nodes every table a request touches is far bigger than the
 * cache, and each lookup is a chain of dependent misses: MN table slot ->
 * entry -> key, and binding cache slot -> binding.  Handled one by one,
 * a batch pays them in series; here each pass starts the next link of
 * every chain before any request waits on one, so the misses of the whole
 * batch overlap.
 */
void ha_prefetch(const struct ha *h, const uint32_t *hoas, size_t n)
{
	const struct ha_conf *c = h->conf;

	for (size_t i = 0; i < n; i++) {
		if (!hoas[i])
			continue;
		__builtin_prefetch(&h->mn_tab[ha_mn_hash(hoas[i], h->mn_mask)]);
		bcache_prefetch_slot(h->bc, hoas[i]);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t k;

		if (!hoas[i])
			continue;
		/* the first slot of the probe: at load <= 1/2, nearly
		 * always the node's */
		k = h->mn_tab[ha_mn_hash(hoas[i], h->mn_mask)];
		if (k) {
			__builtin_prefetch(&c->mns[k - 1]);
			__builtin_prefetch(&h->mns[k - 1], 1);
		}
		bcache_prefetch_binding(h->bc, hoas[i]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ha_mn *mn =
		    hoas[i] ? ha_mn_find(h, hoas[i]) : NULL;
		const struct mn_entry *e = mn ? ha_mn_entry(h, mn) : NULL;

		if (e && e->key_len)
			__builtin_prefetch(c->keys + e->key_off);
	}
}

/* ---- socket ---- */

static void pktinfo_dst(struct msghdr *mh, struct ha_from *from)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		struct in_pktinfo pi;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		/* the local unicast address, also for a broadcast request */
		from->dst = pi.ipi_spec_dst.s_addr;
	}
}

/*
 * A flood is the load that matters, so datagrams are moved HA_RX_BATCH at
 * a time: one recvmmsg, ha_prefetch() over the batch, each request through
 * ha_handle() in arrival order, the replies in one sendmmsg.  The slots are
 * static (mipd is single-threaded), so a request costs no allocation.
 */
struct rx_slot {
	uint8_t pkt[DGRAM_MAX];
	uint8_t reply[DGRAM_MAX];
	struct sockaddr_in sin, to;
	struct iovec iov, riov;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
		struct cmsghdr align;
	} cin;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cout;
};

static struct rx_slot rx[HA_RX_BATCH];

static void rx_prepare(struct rx_slot *s, struct msghdr *mh)
{
	s->iov = (struct iovec){s->pkt, sizeof(s->pkt)};
	*mh = (struct msghdr){.msg_name = &s->sin,
			      .msg_namelen = sizeof(s->sin),
			      .msg_iov = &s->iov,
			      .msg_iovlen = 1,
			      .msg_control = s->cin.buf,
			      .msg_controllen = sizeof(s->cin.buf)};
}

/* The reply goes to the request's source, from the address it reached. */
static void tx_prepare(struct rx_slot *s, const struct ha_from *from,
		       size_t len, struct msghdr *mh)
{
	struct in_pktinfo pi = {.ipi_spec_dst.s_addr = from->dst};
	struct cmsghdr *c;

	s->to = (struct sockaddr_in){.sin_family = AF_INET,
				     .sin_port = htons(from->sport),
				     .sin_addr.s_addr = from->src};
	s->riov = (struct iovec){s->reply, len};
	*mh = (struct msghdr){.msg_name = &s->to,
			      .msg_namelen = sizeof(s->to),
			      .msg_iov = &s->riov,
			      .msg_iovlen = 1,
			      .msg_control = s->cout.buf,
			      .msg_controllen = sizeof(s->cout.buf)};
	c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
}

/* sendmmsg stops at the first datagram that fails: count it, go on. */
static void send_replies(struct ha *h, int fd, struct mmsghdr *out, unsigned n)
{
	for (unsigned done = 0; done < n;) {
		int r = sendmmsg(fd, out + done, n - done, 0);

		if (r <= 0) {
			h->st.send_err++;
			done++;
			continue;
		}
		for (unsigned i = done; i < done + (unsigned)r; i++)
			if (out[i].msg_len != out[i].msg_hdr.msg_iov->iov_len)
				h->st.send_err++;
		done += (unsigned)r;
	}
}

int ha_recv_batch(struct ha *h, int fd)
{
	struct mmsghdr in[HA_RX_BATCH], out[HA_RX_BATCH];
	uint32_t hoas[HA_RX_BATCH] = {0};
	unsigned nout = 0;
	int n;

	for (unsigned i = 0; i < HA_RX_BATCH; i++)
		rx_prepare(&rx[i], &in[i].msg_hdr);
	n = recvmmsg(fd, in, HA_RX_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	for (int i = 0; i < n; i++)
		hoas[i] = in[i].msg_hdr.msg_flags & MSG_TRUNC
			      ? 0
			      : ha_req_home(rx[i].pkt, in[i].msg_len);
	ha_prefetch(h, hoas, (size_t)n);
	for (int i = 0; i < n; i++) {
		struct rx_slot *s = &rx[i];
		struct ha_from from = {.src = s->sin.sin_addr.s_addr,
				       .sport = ntohs(s->sin.sin_port)};
		size_t rlen;

		/* longer than any registration: not one */
		if (in[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue;
		pktinfo_dst(&in[i].msg_hdr, &from);
		rlen = ha_handle(h, s->pkt, in[i].msg_len, &from, s->reply,
				 sizeof(s->reply));
		if (rlen)
			tx_prepare(s, &from, rlen, &out[nout++].msg_hdr);
	}
	send_replies(h, fd, out, nout);
	return n;
}

/* ---- control channel ---- */

static void stats_json(const struct ha *h, struct jw *o)
{
	const struct ha_stats *s = &h->st;

	jw_obj_begin(o, "ha_counters");
	jw_uint(o, "requests", s->rx);
	jw_uint(o, "accepted", s->accepted);
	jw_uint(o, "denied", s->denied);
	jw_uint(o, "malformed", s->malformed);
	jw_uint(o, "rate_limited", s->rate_limited);
	jw_uint(o, "auth_failed", s->auth_failed);
	jw_uint(o, "id_mismatch", s->id_mismatch);
	jw_uint(o, "deregistered", s->deregistered);
	jw_uint(o, "expired", s->expired);
	jw_uint(o, "kernel_errors", s->kernel_err);
	jw_uint(o, "send_errors", s->send_err);
	jw_obj_end(o);
}

static void tunnel_json(const struct ha *h, struct jw *o)
{
	const struct tunnel_stats *t;

	if (!h->tun)
		return;
	t = tunnel_stats(h->tun);
	jw_obj_begin(o, "tunnel");
	jw_str(o, "device", tunnel_name(h->tun));
	jw_uint(o, "tx_ipip", t->tx_ipip);
	jw_uint(o, "tx_udp", t->tx_udp);
	jw_uint(o, "tx_no_binding", t->tx_no_binding);
	jw_uint(o, "tx_errors", t->tx_err);
	jw_uint(o, "rx_ipip", t->rx_ipip);
	jw_uint(o, "rx_udp", t->rx_udp);
	jw_uint(o, "rx_keepalives", t->rx_keepalive);
	jw_uint(o, "rx_bad", t->rx_bad);
	jw_uint(o, "rx_source_check_drops", t->rx_src_drop);
	jw_obj_end(o);
}

void ha_ctl_status(const struct ha *h, struct jw *o)
{
	const struct ha_conf *c = h->conf;

	jw_str(o, "ha_address",
	       c->address.s_addr ? ha_ip(c->address.s_addr) : "any");
	jw_str(o, "home_link", c->interface[0] ? c->interface : "-");
	jw_uint(o, "mobile_nodes", c->nmns);
	jw_uint(o, "bindings", bcache_count(h->bc));
	jw_uint(o, "max_bindings", c->max_bindings);
	jw_uint(o, "max_lifetime", c->max_lifetime);
	jw_str(o, "replay",
	       c->replay == REG_REPLAY_NONCE ? "nonce" : "timestamp");
	jw_uint(o, "rate_limiter_drops", ratelimit_dropped(h->rl));
	stats_json(h, o);
	tunnel_json(h, o);
}

static int binding_json(void *arg, const struct binding *b)
{
	struct jw *o = arg;
	const struct binding_info *i = &b->info;
	char flags[9];

	jw_obj_begin(o, NULL);
	jw_str(o, "home_address", ha_ip(i->hoa));
	jw_str(o, "care_of", ha_ip(i->coa));
	jw_str(o, "ha_address", ha_ip(i->haa));
	jw_uint(o, "lifetime", i->lifetime);
	jw_uint(o, "remaining", bcache_remaining(b));
	jw_str(o, "flags", reg_flags_str(i->flags, flags));
	jw_bool(o, "reverse_tunnel", i->flags & MIP4_RRQ_T);
	jw_str(o, "encap", i->encap == BCACHE_ENCAP_UDP ? "udp" : "ipip");
	jw_str(o, "nat_address", ha_ip(i->nat_addr));
	jw_uint(o, "nat_port", i->nat_port);
	jw_obj_end(o);
	return 0;
}

void ha_ctl_bindings(const struct ha *h, struct jw *o)
{
	jw_uint(o, "count", bcache_count(h->bc));
	jw_arr_begin(o, "bindings");
	bcache_foreach(h->bc, binding_json, o);
	jw_arr_end(o);
}

const struct ha_stats *ha_stats(const struct ha *h)
{
	return &h->st;
}

struct bcache *ha_bcache(const struct ha *h)
{
	return h->bc;
}

struct ratelimit *ha_ratelimit(const struct ha *h)
{
	return h->rl;
}

struct tunnel *ha_tunnel(const struct ha *h)
{
	return h->tun;
}

int ha_fd(const struct ha *h)
{
	return h->fd;
}
