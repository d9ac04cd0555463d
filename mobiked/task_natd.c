/*
 * task_natd.c - NAT detection in IKE_SA_INIT (RFC 7296 2.23), run after
 * task_init: NAT_DETECTION_SOURCE_IP / _DESTINATION_IP in the request,
 * and from the response's hashes whether a NAT sits on either side.  Any
 * NAT (or forced encapsulation) floats IKE to port 4500 from IKE_AUTH on,
 * which then carries the non-ESP marker (RFC 3948 2.2) and gets NAT
 * keepalives (ike.c).  MOBIKE will run the same hashes again later.
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

#define NATD_LEN 20 /* SHA-1 */

/* 2.23: SHA-1(SPIi | SPIr | IP | Port), all in network order. */
int natd_hash(const struct ike_sa *sa, const struct sockaddr_storage *ss,
	      uint8_t out[NATD_LEN])
{
	uint8_t in[8 + 8 + 16 + 2];
	uint64_t si = htobe64(sa->spi_i), sr = htobe64(sa->spi_r);
	struct ipaddr a;
	uint16_t port, pbe;
	size_t alen, n;
	unsigned olen = 0;

	if (ipaddr_from_sockaddr(&a, &port, (const struct sockaddr *)ss,
				 sizeof(*ss)))
		return -1;
	alen = ipaddr_len(&a);
	pbe = htobe16(port);
	memcpy(in, &si, 8);
	memcpy(in + 8, &sr, 8);
	n = 16;
	memcpy(in + n, a.b, alen);
	n += alen;
	memcpy(in + n, &pbe, 2);
	n += 2;
	return EVP_Digest(in, n, out, &olen, EVP_sha1(), NULL) == 1 ? 0 : -1;
}

/* With `encap` (or a data plane that only does ESP-in-UDP) the source
 * hash is random, so the responder sees us behind a NAT and both sides
 * use UDP encapsulation (RFC 3948). */
static int natd_build(struct ike_engine *e, struct ike_builder *b)
{
	uint8_t src[NATD_LEN], dst[NATD_LEN];

	if (e->force_encap || e->conf->encap) {
		if (RAND_bytes(src, sizeof(src)) != 1)
			return -1;
	} else if (natd_hash(&e->sa, &e->sa.local, src)) {
		return -1;
	}
	if (natd_hash(&e->sa, &e->sa.remote, dst))
		return -1;
	ike_build_notify_data(b, IKE_N_NAT_DETECTION_SOURCE_IP, src, NATD_LEN);
	ike_build_notify_data(b, IKE_N_NAT_DETECTION_DESTINATION_IP, dst,
			      NATD_LEN);
	return b->failed ? -1 : 0;
}

/* Any of the received hashes matching the expected one means no NAT on
 * that side (2.23: several NAT_DETECTION_SOURCE_IP may come). */
static bool natd_match(const struct ike_msg *m, uint16_t type,
		       const uint8_t want[NATD_LEN], bool *seen)
{
	for (unsigned i = 0; i < m->nnotify; i++) {
		if (m->notify[i].type != type)
			continue;
		*seen = true;
		if (m->notify[i].data.len == NATD_LEN &&
		    !memcmp(m->notify[i].data.p, want, NATD_LEN))
			return true;
	}
	return false;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htobe16(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htobe16(port);
}

/* Their SOURCE hash is about them, DESTINATION about us.  Runs after
 * task_init accepted the response, so SPIr is known. */
static int natd_process(struct ike_engine *e, const struct ike_msg *m)
{
	struct ike_sa *sa = &e->sa;
	uint8_t me[NATD_LEN], them[NATD_LEN];
	bool seen = false;

	if (natd_hash(sa, &sa->local, me) || natd_hash(sa, &sa->remote, them))
		return TASK_DONE;
	sa->nat_local =
	    !natd_match(m, IKE_N_NAT_DETECTION_DESTINATION_IP, me, &seen);
	sa->nat_remote =
	    !natd_match(m, IKE_N_NAT_DETECTION_SOURCE_IP, them, &seen);
	if (!seen) {
		sa->nat_local = sa->nat_remote = false;
		log_info("gateway does not support NAT detection");
	}
	log_info("NAT detection: local %s, remote %s",
		 sa->nat_local ? "behind NAT" : "no NAT",
		 sa->nat_remote ? "behind NAT (or faked)" : "no NAT");
	if (sa->nat_local || sa->nat_remote || e->force_encap ||
	    e->conf->encap) {
		sa->natt = true;
		set_port(&sa->local, IKE_NATT_PORT);
		set_port(&sa->remote, IKE_NATT_PORT);
	}
	return TASK_DONE;
}

const struct task task_natd = {
    .name = "ike-natd",
    .build_i = natd_build,
    .process_i = natd_process,
};
