/*
 * homelink.c - proxy ARP entries and gratuitous ARP on the home link
 * (RFC 5944 4.6); see homelink.h.
 */
#include "mipd/homelink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/nl.h"

/* ---- proxy neighbour entries over rtnetlink ---- */

static int wait_ack(struct mnl_socket *sk, uint32_t seq)
{
	uint32_t buf[8192 / 4];
	int err, rc;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(sk, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		rc = nl_parse_status(buf, (size_t)n, seq, &err);
		if (rc < 0)
			return -EPROTO;
		if (rc == 1)
			return err;
	}
}

static int neigh_talk(struct nlmsghdr *nlh)
{
	struct timeval tv = {.tv_sec = 5};
	struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	int rc;

	if (!sk)
		return -errno;
	setsockopt(mnl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_sendto(sk, nlh, nlh->nlmsg_len) < 0)
		rc = -errno;
	else
		rc = wait_ack(sk, nlh->nlmsg_seq);
	mnl_socket_close(sk);
	return rc;
}

static int proxy_change(uint16_t type, uint16_t flags, int ifindex,
			uint32_t hoa)
{
	uint32_t buf[256 / 4];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_INET;
	nd->ndm_ifindex = ifindex;
	nd->ndm_flags = NTF_PROXY;
	nd->ndm_state = NUD_PERMANENT;
	mnl_attr_put(nlh, NDA_DST, 4, &hoa);
	return neigh_talk(nlh);
}

int homelink_proxy_add(int ifindex, uint32_t hoa)
{
	return proxy_change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, ifindex,
			    hoa);
}

int homelink_proxy_del(int ifindex, uint32_t hoa)
{
	return proxy_change(RTM_DELNEIGH, 0, ifindex, hoa);
}

/* ---- gratuitous ARP ---- */

struct arp_frame {
	uint8_t dst[ETH_ALEN], src[ETH_ALEN];
	uint16_t proto;
	struct arphdr ah;
	uint8_t sha[ETH_ALEN], spa[4], tha[ETH_ALEN], tpa[4];
} __attribute__((packed));

static int if_mac(int fd, int ifindex, uint8_t mac[ETH_ALEN])
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name) ||
	    ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EAFNOSUPPORT;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	return 0;
}

static void build_garp(struct arp_frame *f, const uint8_t mac[ETH_ALEN],
		       uint32_t hoa)
{
	memset(f, 0, sizeof(*f));
	memset(f->dst, 0xff, ETH_ALEN);
	memcpy(f->src, mac, ETH_ALEN);
	f->proto = htons(ETH_P_ARP);
	f->ah.ar_hrd = htons(ARPHRD_ETHER);
	f->ah.ar_pro = htons(ETH_P_IP);
	f->ah.ar_hln = ETH_ALEN;
	f->ah.ar_pln = 4;
	/* RFC 5944 4.6: a request with both protocol addresses the home
	 * address; the target hardware address is ignored (zero) */
	f->ah.ar_op = htons(ARPOP_REQUEST);
	memcpy(f->sha, mac, ETH_ALEN);
	memcpy(f->spa, &hoa, 4);
	memcpy(f->tpa, &hoa, 4);
}

int homelink_garp(int ifindex, uint32_t hoa)
{
	struct sockaddr_ll ll = {.sll_family = AF_PACKET,
				 .sll_protocol = htons(ETH_P_ARP),
				 .sll_ifindex = ifindex,
				 .sll_halen = ETH_ALEN};
	uint8_t mac[ETH_ALEN];
	struct arp_frame f;
	int rc, fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	rc = if_mac(fd, ifindex, mac);
	if (rc == 0) {
		build_garp(&f, mac, hoa);
		memset(ll.sll_addr, 0xff, ETH_ALEN);
		if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&ll,
			   sizeof(ll)) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

static int write_sysctl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		rc = -errno;
	close(fd);
	return rc;
}

int homelink_enable_forwarding(const char *ifname)
{
	char path[128];
	int rc = write_sysctl("/proc/sys/net/ipv4/conf/all/forwarding");

	if (rc || !ifname || !*ifname)
		return rc;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/forwarding",
		 ifname);
	return write_sysctl(path);
}
