/* tun.c - layer-3 TUN devices: packets in and out are bare IP. */
#include "common/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int tun_open(char name[IFNAMSIZ])
{
	struct ifreq ifr;
	int fd, err;

	if (!name || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return -EINVAL;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	/* NO_PI: the daemons know the family from the IP version nibble, and
	 * a 4-byte prefix on every packet would only need stripping. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	/* "mip%d" becomes "mip0": callers look the device up by this name. */
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return fd;
}
