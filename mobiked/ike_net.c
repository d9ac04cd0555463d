/*
 * ike_net.c - the IKE sockets: UDP 500 and 4500, IPv4 and IPv6, on the
 * event loop.
 *
 * Port 4500 carries three things (RFC 3948 2.2-2.3, RFC 7296 2.23): IKE
 * after a 4-octet zero non-ESP marker, one-octet 0xFF NAT keepalives
 * (ignored), and ESP (a non-zero SPI first), which goes to the userspace
 * data plane.  IP_PKTINFO / IPV6_RECVPKTINFO give the local address a
 * datagram arrived on; IPV6_V6ONLY keeps the families apart.
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/eloop.h"
#include "common/log.h"
#include "mobiked/dp.h"
#include "mobiked/ike.h"
#include "mobiked/ikev2.h"

#define RX_MAX 65536

enum { S4_500, S4_4500, S6_500, S6_4500, NSOCK };

struct ike_net {
	struct eloop *loop;
	ike_net_rx_cb rx;
	void *arg;
	struct dp *dp;
	int fd[NSOCK];
	uint8_t buf[RX_MAX];
};

static bool is_4500(int slot)
{
	return slot == S4_4500 || slot == S6_4500;
}

static int slot_of(const struct ike_net *n, int fd)
{
	for (int i = 0; i < NSOCK; i++)
		if (n->fd[i] == fd)
			return i;
	return -1;
}

/* The destination address from IP_PKTINFO / IPV6_PKTINFO. */
static void local_from_cmsg(struct msghdr *mh, int fd,
			    struct sockaddr_storage *local)
{
	socklen_t sl = sizeof(*local);
	struct cmsghdr *c;

	memset(local, 0, sizeof(*local));
	getsockname(fd, (struct sockaddr *)local, &sl);
	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in *)local)->sin_addr = pi.ipi_addr;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			((struct sockaddr_in6 *)local)->sin6_addr =
			    pi.ipi6_addr;
		}
	}
}

enum ike_4500 ike_4500_kind(struct rbuf *r)
{
	static const uint8_t marker[IKE_NON_ESP_MARKER_LEN];
	struct rbuf after = *r;
	const uint8_t *m;
	uint8_t b;

	if (rb_left(r) == 1 && rb_peek_u8(r, &b) == 0 && b == 0xff)
		return IKE_4500_KEEPALIVE;
	if (rb_ptr(&after, &m, sizeof(marker)) == 0 &&
	    !memcmp(m, marker, sizeof(marker))) {
		*r = after;
		return IKE_4500_IKE;
	}
	return IKE_4500_ESP;
}

static void dispatch(struct ike_net *n, int slot, size_t len,
		     const struct sockaddr_storage *local,
		     const struct sockaddr_storage *from)
{
	const uint8_t *p;
	struct rbuf r;

	if (!is_4500(slot)) {
		n->rx(n->arg, n->buf, len, local, from, false);
		return;
	}
	rb_init(&r, n->buf, len);
	switch (ike_4500_kind(&r)) {
	case IKE_4500_KEEPALIVE:
		return;
	case IKE_4500_IKE:
		len = rb_left(&r);
		if (rb_ptr(&r, &p, len) == 0)
			n->rx(n->arg, p, len, local, from, true);
		return;
	case IKE_4500_ESP:
		if (n->dp)
			dp_user_input(n->dp, n->buf, len, from);
		return;
	}
}

static void on_readable(void *arg, int fd, uint32_t events)
{
	struct ike_net *n = arg;
	struct sockaddr_storage from, local;
	union {
		char b[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		       CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {n->buf, sizeof(n->buf)};
	struct msghdr mh;
	int slot = slot_of(n, fd);
	ssize_t r;

	/* Bounded: leave the loop to others after a burst (ESP floods). */
	for (int i = 0; i < 64 && slot >= 0; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf.b;
		mh.msg_controllen = sizeof(cbuf.b);
		r = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (r < 0)
			return;
		if (mh.msg_flags & MSG_TRUNC)
			continue;
		local_from_cmsg(&mh, fd, &local);
		dispatch(n, slot, (size_t)r, &local, &from);
	}
}

static int open_one(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&ss;

		s->sin_family = AF_INET;
		s->sin_port = htobe16(port);
		sl = sizeof(*s);
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htobe16(port);
		sl = sizeof(*s);
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			   sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		log_warn("cannot bind UDP port %u (%s): %s", port,
			 family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct ike_net *ike_net_new(struct eloop *l, ike_net_rx_cb rx, void *arg)
{
	static const struct {
		int family;
		uint16_t port;
	} want[NSOCK] = {{AF_INET, IKE_PORT},
			 {AF_INET, IKE_NATT_PORT},
			 {AF_INET6, IKE_PORT},
			 {AF_INET6, IKE_NATT_PORT}};
	struct ike_net *n = calloc(1, sizeof(*n));
	int ok = 0;

	if (!n)
		return NULL;
	n->loop = l;
	n->rx = rx;
	n->arg = arg;
	for (int i = 0; i < NSOCK; i++) {
		n->fd[i] = open_one(want[i].family, want[i].port);
		if (n->fd[i] >= 0 &&
		    eloop_add_fd(l, n->fd[i], EPOLLIN, on_readable, n) == 0)
			ok++;
	}
	if (!ok) {
		ike_net_free(n);
		return NULL;
	}
	return n;
}

void ike_net_set_dp(struct ike_net *n, struct dp *dp)
{
	n->dp = dp;
}

int ike_net_fd_4500(const struct ike_net *n, int family)
{
	return n->fd[family == AF_INET6 ? S6_4500 : S4_4500];
}

static int net_send(void *arg, const uint8_t *p, size_t len,
		    const struct sockaddr_storage *to, bool from_4500,
		    bool marker)
{
	static const uint8_t zero[IKE_NON_ESP_MARKER_LEN];
	struct ike_net *n = arg;
	bool v6 = to->ss_family == AF_INET6;
	int fd = n->fd[v6 ? (from_4500 ? S6_4500 : S6_500)
			  : (from_4500 ? S4_4500 : S4_500)];
	struct iovec iov[2] = {{(void *)zero, sizeof(zero)}, {(void *)p, len}};
	struct msghdr mh;

	if (fd < 0)
		return -EAFNOSUPPORT;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = (void *)to;
	mh.msg_namelen =
	    v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	mh.msg_iov = marker ? iov : iov + 1;
	mh.msg_iovlen = marker ? 2 : 1;
	return sendmsg(fd, &mh, 0) < 0 ? -errno : 0;
}

/* A connected UDP socket asks the routing table for the source address. */
static int net_local_addr(void *arg, const struct sockaddr_storage *to,
			  struct sockaddr_storage *local)
{
	socklen_t sl = sizeof(*local);
	int fd = socket(to->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)to,
		     to->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in));
	if (rc == 0)
		rc = getsockname(fd, (struct sockaddr *)local, &sl);
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

void ike_net_io(struct ike_net *n, struct ike_io *io)
{
	io->send = net_send;
	io->local_addr = net_local_addr;
	io->arg = n;
}

void ike_net_free(struct ike_net *n)
{
	if (!n)
		return;
	for (int i = 0; i < NSOCK; i++)
		if (n->fd[i] >= 0) {
			eloop_del_fd(n->loop, n->fd[i]);
			close(n->fd[i]);
		}
	free(n);
}
