/*
 * sock.h - socket setup the agents and the mobile node share, and the
 * random numbers they put on the wire.
 */
#ifndef MIPD_SOCK_H
#define MIPD_SOCK_H

#include <linux/filter.h>
#include <stdint.h>

/* udp434_open() options: which ancillary data recvmsg() gets. */
#define UDP434_PKTINFO 0x1 /* IP_PKTINFO: the local address it reached */
#define UDP434_RECVTTL 0x2 /* IP_RECVTTL: the request's TTL */
#define UDP434_RECVERR 0x4 /* IP_RECVERR: ICMP errors on the error queue */

/* A non-blocking UDP socket bound to port (host order) on every address,
 * SO_REUSEADDR so a restart need not wait.  fd or -errno. */
int udp434_open(uint16_t port, unsigned opts);

/* A non-blocking SOCK_DGRAM packet socket for IPv4 on ifindex that sees
 * only what filter passes: the filter is attached before the socket is
 * bound to a protocol, so no unfiltered frame ever queues.  fd or -errno. */
int packet_open(int ifindex, const struct sock_fprog *filter);

/* 32 bits from the CSPRNG for nonces; 0, or -1 when it failed (no
 * fallback: a guessable nonce defeats its purpose). */
int random32(uint32_t *v);

#endif
