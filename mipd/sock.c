/*
 * sock.c - shared socket setup (see sock.h).
 */
#include "mipd/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail_close(int fd)
{
	int err = -errno;

	close(fd);
	return err;
}

static int on(int fd, int level, int name)
{
	int one = 1;

	return setsockopt(fd, level, name, &one, sizeof(one));
}

int udp434_open(uint16_t port, unsigned opts)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (on(fd, SOL_SOCKET, SO_REUSEADDR) < 0 ||
	    ((opts & UDP434_PKTINFO) && on(fd, IPPROTO_IP, IP_PKTINFO) < 0) ||
	    ((opts & UDP434_RECVTTL) && on(fd, IPPROTO_IP, IP_RECVTTL) < 0) ||
	    ((opts & UDP434_RECVERR) && on(fd, IPPROTO_IP, IP_RECVERR) < 0) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return fail_close(fd);
	return fd;
}

int packet_open(int ifindex, const struct sock_fprog *filter)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = ifindex};
	/* protocol 0: the socket sees nothing until bind() names one */
	int fd =
	    socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, filter,
		       sizeof(*filter)) < 0 ||
	    bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		return fail_close(fd);
	return fd;
}

int random32(uint32_t *v)
{
	*v = 0;
	return RAND_bytes((unsigned char *)v, sizeof(*v)) == 1 ? 0 : -1;
}
