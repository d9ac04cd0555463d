/*
 * ike.h - the IKEv2 initiator engine as main.c sees it, and the UDP
 * sockets (ike_net.c) that carry it.
 *
 * The engine owns one IKE SA towards the configured gateway with one
 * CHILD_SA installed in the data plane.  It never touches a socket
 * itself: it sends through struct ike_io and is fed with
 * ike_engine_input(), so tests drive it with a fake io.
 */
#ifndef MOBIKED_IKE_H
#define MOBIKED_IKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/buf.h"

struct eloop;
struct jw;
struct dp;
struct mobiked_conf;
struct ike_engine;
struct ike_sa;

struct ike_io {
	/* Sends p to `to` from our port 4500 (from_4500) or 500; marker:
	 * prefix the 4-byte non-ESP marker (RFC 3948 2.2).  0 or -errno. */
	int (*send)(void *arg, const uint8_t *p, size_t n,
		    const struct sockaddr_storage *to, bool from_4500,
		    bool marker);
	/* The local address the kernel would use towards `to` (port 0). */
	int (*local_addr)(void *arg, const struct sockaddr_storage *to,
			  struct sockaddr_storage *local);
	void *arg;
};

/* force_encap: always negotiate UDP encapsulation (the userspace data
 * plane only does ESP-in-UDP), as the conf's `encap` does. */
struct ike_engine *ike_engine_new(struct eloop *l,
				  const struct mobiked_conf *conf,
				  const struct ike_io *io, struct dp *dp,
				  bool force_encap);
void ike_engine_set_dp(struct ike_engine *e, struct dp *dp);
/* Brings the SA up (and keeps it up: failures are retried). */
int ike_engine_up(struct ike_engine *e);
/* Sends DELETE for the IKE SA (if any) and stops retrying. */
int ike_engine_down(struct ike_engine *e);
/* Rekeys the CHILD_SA now (as its lifetime would): 0 or -errno. */
int ike_engine_rekey(struct ike_engine *e);
/* Rekeys the IKE SA now (as its ike_lifetime would): 0 or -errno. */
int ike_engine_rekey_ike(struct ike_engine *e);
/* True when nothing is outstanding (no SA, or it is dead). */
bool ike_engine_idle(const struct ike_engine *e);
/* One IKE datagram (marker stripped); local/remote with ports. */
void ike_engine_input(struct ike_engine *e, const uint8_t *pkt, size_t len,
		      const struct sockaddr_storage *local,
		      const struct sockaddr_storage *remote, bool via_4500);
/* Fills the members of an open JSON object. */
void ike_engine_status(struct ike_engine *e, struct jw *w);
/* The data plane's event callback (arg = engine). */
void ike_engine_dp_event(void *arg, uint32_t spi_in, int ev);
void ike_engine_free(struct ike_engine *e);
/* For tests and status. */
const struct ike_sa *ike_engine_sa(const struct ike_engine *e);

/* --- sockets (ike_net.c) ------------------------------------------------ */

struct ike_net;
typedef void (*ike_net_rx_cb)(void *arg, const uint8_t *p, size_t n,
			      const struct sockaddr_storage *local,
			      const struct sockaddr_storage *remote,
			      bool via_4500);

/* UDP 500 and 4500, IPv4 and IPv6, on the loop.  NULL if no family could
 * bind either port. */
struct ike_net *ike_net_new(struct eloop *l, ike_net_rx_cb rx, void *arg);
/* ESP arriving on 4500 goes to this data plane (dp_user_input). */
void ike_net_set_dp(struct ike_net *n, struct dp *dp);
/* The port-4500 socket of a family, for the data plane; -1 if none. */
int ike_net_fd_4500(const struct ike_net *n, int family);
/* An ike_io sending through these sockets. */
void ike_net_io(struct ike_net *n, struct ike_io *io);
void ike_net_free(struct ike_net *n);

/* RFC 3948 2.2-2.3: what a datagram on port 4500 carries. */
enum ike_4500 {
	IKE_4500_KEEPALIVE, /* the one octet 0xFF of a NAT keepalive */
	IKE_4500_IKE,	    /* the non-ESP marker: r is left after it */
	IKE_4500_ESP,	    /* anything else, r untouched: the data plane's */
};
/* r holds the datagram. */
enum ike_4500 ike_4500_kind(struct rbuf *r);

#endif
