/*
 * ha_bcast.c - broadcasts on the home link for away mobile nodes that
 * asked for them with the B bit (RFC 5944 4.3), in the userspace data
 * plane.
 *
 * A packet socket on the home link, filtered in the kernel to frames sent
 * to the link-layer broadcast or a multicast address, sees what a node at
 * home would.  An IPv4 packet to the limited broadcast address, to the
 * home subnet's broadcast address or (ha.forward_multicast) to a
 * multicast group goes to each binding with B, except the one whose home
 * address sent it:
 *   co-located care-of address (D set): tunnelled as it is, the node
 *     decapsulates it itself;
 *   foreign agent care-of address: first encapsulated to the home
 *     address, then tunnelled, so the FA delivers a unicast datagram the
 *     node decapsulates (4.3: an FA must not see a broadcast to deliver).
 * Bindings without B get nothing.  The set of home addresses with B is a
 * small array kept beside the binding cache, so a broadcast does not walk
 * the whole cache.
 */
#define LOG_TAG "ha"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/ip4.h"
#include "common/log.h"
#include "mipd/ha_int.h"
#include "mipd/sock.h"
#include "mipd/tunnel.h"

void ha_bcast_track(struct ha *h, uint32_t hoa, bool on)
{
	struct ha_bcast *bc = &h->bcast;
	size_t i;

	for (i = 0; i < bc->n && bc->hoas[i] != hoa; i++)
		;
	if (!on) {
		if (i < bc->n)
			bc->hoas[i] = bc->hoas[--bc->n];
		return;
	}
	if (i < bc->n)
		return;
	if (bc->n == bc->cap) {
		size_t cap = bc->cap ? bc->cap * 2 : 16;
		uint32_t *p = realloc(bc->hoas, cap * sizeof(*p));

		if (!p) {
			log_warn("no memory to forward broadcasts to %s",
				 ip4_str(hoa));
			return;
		}
		bc->hoas = p;
		bc->cap = cap;
	}
	bc->hoas[bc->n++] = hoa;
}

bool ha_bcast_wanted(const struct ha_conf *c, uint32_t dst)
{
	uint32_t d = ntohl(dst);

	if (d == 0xffffffffu)
		return c->fwd_broadcast;
	if ((d >> 28) == 0xe)
		return c->fwd_multicast;
	/* the subnet-directed broadcast of the home network (no /31, /32) */
	if (c->plen && c->plen < 31) {
		uint32_t host = 0xffffffffu >> c->plen;

		return c->fwd_broadcast &&
		       (d & ~host) == (ntohl(c->prefix.s_addr) & ~host) &&
		       (d & host) == host;
	}
	return false;
}

static void to_binding(struct ha *h, const struct binding *b,
		       const struct ip4_view *pkt)
{
	struct ha_bcast *bc = &h->bcast;
	struct ip4_view outer;
	struct rbuf r;
	size_t n;

	if (b->info.flags & MIP4_RRQ_D) {
		if (tunnel_send(h->tun, b, pkt) == 0)
			h->st.bcast_tx++;
		return;
	}
	n = tunnel_ipip_encap(bc->mid, sizeof(bc->mid), pkt->pkt, pkt->len,
			      b->info.haa, b->info.hoa, ++bc->ip_id);
	rb_init(&r, bc->mid, n);
	if (n && ip4_parse(&r, &outer) == 0 &&
	    tunnel_send(h->tun, b, &outer) == 0)
		h->st.bcast_tx++;
}

void ha_bcast_input(struct ha *h, const uint8_t *pkt, size_t len)
{
	struct ha_bcast *bc = &h->bcast;
	struct ip4_view v;
	struct rbuf r;

	if (!h->tun || !bc->n)
		return;
	/* the view ends at the total length: no link-layer padding */
	rb_init(&r, pkt, len);
	if (ip4_parse(&r, &v) < 0 || !v.csum_ok ||
	    !ha_bcast_wanted(h->conf, v.dst))
		return;
	h->st.bcast_rx++;
	for (size_t i = 0; i < bc->n; i++) {
		const struct binding *b = bcache_lookup(h->bc, bc->hoas[i]);

		/* never back to the node that sent it (through us) */
		if (b && b->info.hoa != v.src && (b->info.flags & MIP4_RRQ_B))
			to_binding(h, b, &v);
	}
}

static void on_pkt(void *arg, int fd, uint32_t events)
{
	struct ha *h = arg;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_ll ll;
		socklen_t sl = sizeof(ll);
		ssize_t n = recvfrom(fd, h->bcast.buf, sizeof(h->bcast.buf),
				     MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&ll, &sl);

		if (n <= 0)
			return;
		if ((size_t)n > sizeof(h->bcast.buf) ||
		    (ll.sll_pkttype != PACKET_BROADCAST &&
		     ll.sll_pkttype != PACKET_MULTICAST))
			continue;
		ha_bcast_input(h, h->bcast.buf, (size_t)n);
	}
}

/* Only frames to the link's broadcast or a multicast address reach the
 * socket, so a busy home link costs nothing. */
static int open_pkt(int ifindex)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_BROADCAST, 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_MULTICAST, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]),
				  .filter = code};

	return packet_open(ifindex, &prog);
}

int ha_bcast_open(struct ha *h)
{
	int fd = open_pkt(h->home_ifindex);

	if (fd < 0) {
		log_warn("packet socket on %s: %s", h->conf->interface,
			 strerror(-fd));
		return -1;
	}
	if (eloop_add_fd(h->loop, fd, EPOLLIN, on_pkt, h) < 0) {
		close(fd);
		return -1;
	}
	h->bcast.fd = fd;
	return 0;
}

void ha_bcast_close(struct ha *h)
{
	if (h->bcast.fd >= 0) {
		eloop_del_fd(h->loop, h->bcast.fd);
		close(h->bcast.fd);
	}
	h->bcast.fd = -1;
	free(h->bcast.hoas);
	h->bcast.hoas = NULL;
	h->bcast.n = h->bcast.cap = 0;
}
