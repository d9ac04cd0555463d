/*
 * homelink.h - the home agent's presence on the home link for away mobile
 * nodes (RFC 5944 4.6): a proxy ARP entry per home address, so the HA
 * answers ARP for it, and a gratuitous ARP when the node leaves, so hosts
 * and routers on the link drop the node's own MAC from their caches.
 *
 * Proxy entries are per address (`ip neigh add proxy HOA dev IF`, a
 * neighbour entry with NTF_PROXY), not the interface-wide proxy_arp switch
 * that would answer for every address routed elsewhere.  The kernel
 * answers for them only with forwarding enabled on the interface.
 */
#ifndef MIPD_HOMELINK_H
#define MIPD_HOMELINK_H

#include <stdint.h>

/* hoa in network order.  0 or -errno. */
int homelink_proxy_add(int ifindex, uint32_t hoa);
int homelink_proxy_del(int ifindex, uint32_t hoa);
/* ARP request from the interface's MAC with sender and target protocol
 * address both hoa, to the broadcast address (RFC 5944 4.6). */
int homelink_garp(int ifindex, uint32_t hoa);
/* net.ipv4.conf.all.forwarding and .<ifname>.forwarding = 1: the HA
 * routes packets between the home link and its tunnels. */
int homelink_enable_forwarding(const char *ifname);

#endif
