/*
 * mn.h - the mobile node role (RFC 5944 3.6; seed 002 3.2-3.4).
 *
 * Events from the netlink monitor (the configured interface: link, IPv4
 * addresses, the visited router's default route; debounced 100 ms), agent
 * advertisements (mn_agent.c), dhcpcd's lease (mn_dhcp.c, as a new
 * address) and registration results (mn_reg) go into the policy engine;
 * its actions come back out as registrations (mn_reg), data path changes
 * (mn_path.c), dhcpcd starts and stops, and timers.
 */
#ifndef MIPD_MN_H
#define MIPD_MN_H

#include "common/json.h"
#include "common/nl.h"
#include "mipd/conf.h"

struct eloop;
struct mn;

/* conf must outlive the MN.  NULL when the configuration cannot run
 * (logged). */
struct mn *mn_new(struct eloop *l, const struct mn_conf *conf);
/* Sockets, tunnel device, agent discovery.  0 or -1, logged. */
int mn_start(struct mn *m);
/* Stops dhcpcd, undoes the data path, frees. */
void mn_free(struct mn *m);
/* The daemon's netlink events. */
void mn_on_nl(struct mn *m, const struct nl_event *ev);
/* Members of the "status" result. */
void mn_ctl_status(const struct mn *m, struct jw *out);

#endif
