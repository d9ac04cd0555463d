/* tun.h - TUN devices (layer 3, no packet-info header) for the userspace
 * data planes of both daemons. */
#ifndef COMMON_TUN_H
#define COMMON_TUN_H

#include <net/if.h>

/* name: requested name ("vpn0", or "mip%d"); the kernel's choice is written
 * back.  Returns a non-blocking, close-on-exec fd or -errno. */
int tun_open(char name[IFNAMSIZ]);

#endif
