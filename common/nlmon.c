/*
 * nlmon.c - the rtnetlink monitor: one socket subscribed to the link,
 * address and route groups, read from the event loop and fed to nl_parse().
 *
 * Dumps go through the same socket on purpose.  The kernel builds each dump
 * chunk when we read, and appends it behind the notifications already
 * queued, so reading one socket in order never shows a dumped state older
 * than a notification we already delivered.  Only one dump may run per
 * socket, so link, address and route dumps are chained: the NLMSG_DONE of
 * one sends the next.
 *
 * A receive-queue overrun (ENOBUFS) loses notifications we cannot name, so
 * the only safe recovery is a fresh dump that lets the daemon rebuild.
 */
#define LOG_TAG "nl"

#include "common/nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/eloop.h"
#include "common/log.h"

/* Netlink caps dump chunks at 32 KiB once a reader has shown it can take
 * them; a smaller buffer would get MSG_TRUNC. */
#define NLMON_BUF    (32 * 1024)
#define NLMON_RCVBUF (4 * 1024 * 1024)
/* Reads per wakeup, so a netlink storm cannot starve the other fds. */
#define NLMON_BURST 32

#define GROUPS                                                                 \
	(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |               \
	 RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE)

static const struct {
	uint16_t type;
	size_t hdrlen; /* the family-carrying header the request needs */
} dumps[] = {
    {RTM_GETLINK, sizeof(struct ifinfomsg)},
    {RTM_GETADDR, sizeof(struct ifaddrmsg)},
    {RTM_GETROUTE, sizeof(struct rtmsg)},
};

#define NDUMPS	  (sizeof(dumps) / sizeof(dumps[0]))
#define DUMP_IDLE NDUMPS

struct nlmon {
	struct eloop *loop;
	struct mnl_socket *sk;
	nl_event_cb cb;
	void *arg;
	size_t step;  /* dump in flight, DUMP_IDLE if none */
	uint32_t seq; /* of the dump in flight */
	bool redump;  /* asked for again while one ran */
	uint8_t buf[NLMON_BUF];
};

static int send_dump(struct nlmon *m)
{
	uint32_t req[16]; /* aligned for the netlink header */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);

	nlh->nlmsg_type = dumps[m->step].type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++m->seq; /* multicast carries seq 0: never ours */
	/* zeroed, so family is AF_UNSPEC: every family */
	mnl_nlmsg_put_extra_header(nlh, dumps[m->step].hdrlen);
	if (mnl_socket_sendto(m->sk, nlh, nlh->nlmsg_len) < 0) {
		log_err("netlink dump request: %s", strerror(errno));
		m->step = DUMP_IDLE;
		return -1;
	}
	return 0;
}

/* The current dump finished: start the next, or start over if a dump was
 * asked for meanwhile (its answer must reflect the later state). */
static void dump_done(struct nlmon *m, int err)
{
	if (err < 0)
		log_warn("netlink dump %zu failed: %s", m->step,
			 strerror(-err));
	if (++m->step == NDUMPS) {
		if (!m->redump) {
			m->step = DUMP_IDLE;
			return;
		}
		m->redump = false;
		m->step = 0;
	}
	send_dump(m);
}

static void handle(struct nlmon *m, size_t len)
{
	int err;

	if (nl_parse(m->buf, len, m->cb, m->arg) < 0)
		log_warn("malformed netlink message (%zu bytes) dropped", len);
	if (m->step != DUMP_IDLE &&
	    nl_parse_status(m->buf, len, m->seq, &err) == 1)
		dump_done(m, err);
}

/* false when the socket has nothing more for now. */
static bool read_one(struct nlmon *m)
{
	ssize_t n = mnl_socket_recvfrom(m->sk, m->buf, sizeof(m->buf));

	if (n >= 0) {
		handle(m, (size_t)n);
		return true;
	}
	switch (errno) {
	case EAGAIN:
	case EINTR:
		return false;
	case ENOBUFS:
		log_warn("netlink receive queue overrun: events lost, "
			 "dumping links, addresses and routes again");
		nlmon_dump(m);
		return true;
	case ESRCH: /* libmnl: not from the kernel */
		return true;
	default:
		log_err("netlink receive: %s", strerror(errno));
		return false;
	}
}

static void on_readable(void *arg, int fd, uint32_t events)
{
	struct nlmon *m = arg;

	for (int i = 0; i < NLMON_BURST && read_one(m); i++)
		;
}

static void set_rcvbuf(int fd)
{
	int sz = NLMON_RCVBUF;

	/* FORCE passes rmem_max, which is small by default; it needs
	 * CAP_NET_ADMIN, which a daemon that changes routes has anyway. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) == 0)
		return;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) < 0)
		log_warn("netlink SO_RCVBUF: %s", strerror(errno));
}

struct nlmon *nlmon_open(struct eloop *l, nl_event_cb cb, void *arg)
{
	struct nlmon *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->loop = l;
	m->cb = cb;
	m->arg = arg;
	m->step = DUMP_IDLE;
	m->sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->sk) {
		log_err("netlink socket: %s", strerror(errno));
		free(m);
		return NULL;
	}
	set_rcvbuf(mnl_socket_get_fd(m->sk));
	if (mnl_socket_bind(m->sk, GROUPS, MNL_SOCKET_AUTOPID) < 0) {
		log_err("netlink bind: %s", strerror(errno));
	} else if (eloop_add_fd(l, mnl_socket_get_fd(m->sk), EPOLLIN,
				on_readable, m) == 0) {
		return m;
	}
	mnl_socket_close(m->sk);
	free(m);
	return NULL;
}

int nlmon_dump(struct nlmon *m)
{
	if (m->step != DUMP_IDLE) {
		m->redump = true;
		return 0;
	}
	m->step = 0;
	return send_dump(m);
}

void nlmon_close(struct nlmon *m)
{
	if (!m)
		return;
	eloop_del_fd(m->loop, mnl_socket_get_fd(m->sk));
	mnl_socket_close(m->sk);
	free(m);
}
