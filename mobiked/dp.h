/*
 * dp.h - the VPN data plane as the IKE engine sees it.  The IKE side
 * negotiates CHILD_SAs and hands the results here; a backend carries the
 * packets.  Two backends fit behind this interface:
 *
 *   user   ESP-in-UDP (RFC 3948) in this process: packets from the TUN
 *          device are encrypted and sent from the IKE socket on port 4500,
 *          ESP arriving on that socket is decrypted and written to the TUN.
 *   xfrm   the kernel's ESP (XFRM states and policies over netlink), for
 *          kernels that have it (planned; this lab's kernel has no ESP).
 *
 * All calls return 0 or -errno unless they say otherwise.
 */
#ifndef MOBIKED_DP_H
#define MOBIKED_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/addr.h"

struct eloop;
struct encr_alg;
struct integ_alg;

/* One direction of a CHILD_SA. */
struct dp_sa_keys {
	const uint8_t *encr; /* key, GCM salt appended */
	size_t encr_len;
	const uint8_t *integ; /* NULL for AEAD */
	size_t integ_len;
};

/* A traffic selector range, as negotiated (possibly narrowed).  Ports
 * 0..65535 mean any port; a narrower range matches only first fragments
 * whose TCP/UDP/SCTP ports fall inside it. */
struct dp_ts {
	struct ipaddr start, end;
	uint8_t proto; /* 0 = any */
	uint16_t port_lo, port_hi;
};

#define DP_MAX_TS 8

struct dp_child {
	uint32_t spi_in,
	    spi_out; /* network values as on the wire, host order */
	const struct encr_alg *encr;
	const struct integ_alg *integ; /* NULL for AEAD */
	struct dp_sa_keys in, out;
	bool esn;
	uint32_t replay_window; /* packets; 0 disables the check */
	uint64_t life_bytes;	/* hard limits, 0 = none */
	uint64_t life_packets;
	/* Outer addresses and UDP ports of the IKE SA (port 4500 each side). */
	struct sockaddr_storage local, remote;
	struct dp_ts local_ts[DP_MAX_TS], remote_ts[DP_MAX_TS];
	unsigned n_local_ts, n_remote_ts;
};

struct dp_counters {
	uint64_t out_packets, out_bytes;
	uint64_t in_packets, in_bytes;
	uint64_t in_auth_fail, in_replay, in_malformed, in_no_sa;
	uint64_t out_no_sa, out_errors;
	uint64_t in_policy; /* inner addresses outside the traffic selectors */
	uint64_t in_errors; /* decrypted but not delivered (TUN write) */
};

/* What the data plane tells the IKE engine. */
enum dp_event {
	DP_EV_SOFT_EXPIRE, /* rekey soon */
	DP_EV_HARD_EXPIRE, /* SA can no longer be used */
};
typedef void (*dp_event_cb)(void *arg, uint32_t spi_in, enum dp_event ev);

struct dp;

struct dp_ops {
	const char *name;
	/* Tunnel interface with the inner addresses (TIA) assigned by the
	 * gateway; either may be AF_UNSPEC. */
	int (*set_vip)(struct dp *dp, const struct ipaddr *v4,
		       const struct ipaddr *v6);
	int (*add_child)(struct dp *dp, const struct dp_child *c);
	/* MOBIKE: the IKE SA moved; every CHILD_SA follows it in place. */
	int (*update_endpoints)(struct dp *dp, uint32_t spi_in,
				const struct sockaddr_storage *local,
				const struct sockaddr_storage *remote);
	int (*del_child)(struct dp *dp, uint32_t spi_in);
	/* spi_in 0: the packets that matched no CHILD_SA (*_no_sa). */
	int (*counters)(struct dp *dp, uint32_t spi_in, struct dp_counters *c);
	void (*free)(struct dp *dp);
};

struct dp {
	const struct dp_ops *ops;
	dp_event_cb on_event;
	void *arg;
};

/* The userspace backend.  udp_fd is the IKE socket bound to port 4500
 * (it sends ESP-in-UDP from it); tun_name is e.g. "vpn0". */
struct dp *dp_user_new(struct eloop *l, int udp_fd, const char *tun_name,
		       dp_event_cb cb, void *arg);
/* The IKE socket's reader hands every non-IKE datagram (no non-ESP marker)
 * received on port 4500 to the userspace backend. */
void dp_user_input(struct dp *dp, const uint8_t *pkt, size_t len,
		   const struct sockaddr_storage *from);

#endif
