/*
 * ike_frag.h - IKEv2 message fragmentation (RFC 7383), both directions.
 *
 * Receiving (2.6): each Encrypted Fragment (SKF) message is verified and
 * decrypted on its own, then kept in a struct ike_defrag until fragments
 * 1..Total of one message (same SPIs, Message ID, exchange and direction)
 * are in; their plaintexts joined in order are the inner chain of an SK
 * payload whose first payload is fragment 1's Next Payload.  Duplicates
 * are ignored, a smaller Total than the set's is ignored, a larger one
 * replaces the set (2.6.1, 2.5.2), a fragment failing its ICV is dropped
 * and the set kept.  Memory is fixed: at most IKE_DEFRAG_MAX fragments and
 * IKE_MAX_MSG octets of plaintext per set, dropped after IKE_DEFRAG_TIMEOUT.
 *
 * Sending (2.5): an inner chain is split into fragments that are each an
 * IKE message of at most max_len octets, sealed one by one, written end to
 * end into one buffer; ike_wire_next() walks such a buffer (a single
 * message is its own only "fragment"), so retransmissions and the
 * response cache keep and resend all fragments as one unit.
 *
 * The ike_defrag_* and ike_frag_* calls are pure (no engine, no I/O: unit
 * tests and the fuzz harness drive them); frag_* is the engine's glue for
 * ike_exchange.c.  IKE_SA_INIT is never fragmented nor reassembled.
 */
#ifndef MOBIKED_IKE_FRAG_H
#define MOBIKED_IKE_FRAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mobiked/crypto.h"
#include "mobiked/ike_msg.h"
#include "mobiked/ike_sa.h"

#define IKE_FRAG_MAX	64  /* fragments of one message we send */
#define IKE_DEFRAG_MAX	255 /* ... we take: Total above is dropped */
#define IKE_SKF_HDR_LEN 8   /* generic header, Fragment Number, Total */
/* Per fragment at most: IKE header, SKF header, IV 16, ICV 32, padding. */
#define IKE_FRAG_OVERHEAD 128
/* All fragments of one message laid end to end. */
#define IKE_MAX_WIRE	   (IKE_MAX_MSG + IKE_FRAG_MAX * IKE_FRAG_OVERHEAD)
#define IKE_DEFRAG_TIMEOUT (30 * 1000000000ULL) /* ns, 2.6 */

enum ike_defrag_rc {
	IKE_DEFRAG_DONE, /* d->msg holds the inner chain, d->first its type */
	IKE_DEFRAG_MORE, /* kept: waiting for the other fragments */
	IKE_DEFRAG_DUP,	 /* already have it: ignored (2.6.1) */
	IKE_DEFRAG_OLD,	 /* Total below the set's: ignored (2.5.2) */
	IKE_DEFRAG_BAD,	 /* no SKF, IKE_SA_INIT, or Total over IKE_DEFRAG_MAX */
	IKE_DEFRAG_ICV,	 /* integrity check failed: dropped, the set kept */
	IKE_DEFRAG_BIG,	 /* the message exceeds IKE_MAX_MSG: the set dropped */
};

struct ike_defrag {
	bool active; /* a set is being collected */
	uint64_t spi_i, spi_r;
	uint32_t msgid;
	uint8_t exchange;
	bool response;
	uint16_t total, count;
	uint8_t set_first; /* fragment 1's Next Payload, once it is in */
	uint64_t started_ns;
	uint64_t have[(IKE_DEFRAG_MAX + 63) / 64]; /* bit n - 1: fragment n */
	uint16_t off[IKE_DEFRAG_MAX], len[IKE_DEFRAG_MAX];
	size_t used;
	uint8_t pool[IKE_MAX_MSG]; /* plaintexts in arrival order */

	/* The last completed message: what ike_parse_inner() reads and the
	 * parsed facts point into; kept until the next one completes. */
	uint8_t first;
	size_t msg_len;
	uint8_t msg[IKE_MAX_MSG];
};

/* Adds the parsed SKF message m (pkt, len: as received, decrypted in
 * place on success) opened with in.  now_ns: monotonic time. */
int ike_defrag_add(struct ike_defrag *d, struct sk_ctx *in,
		   const struct ike_msg *m, uint8_t *pkt, size_t len,
		   uint64_t now_ns);
/* Drops the set being collected and wipes every plaintext. */
void ike_defrag_reset(struct ike_defrag *d);
const char *ike_defrag_rc_name(int rc);

/* Verifies and decrypts one SKF message on its own: 0 or -1. */
int ike_frag_open(struct sk_ctx *in, const struct ike_msg *m, uint8_t *pkt,
		  size_t len, const uint8_t **pt, size_t *pt_len);

/* Inner-chain octets one fragment carries when each fragment is an IKE
 * message of at most max_len octets; 0 if nothing fits. */
size_t ike_frag_room(const struct sk_ctx *c, size_t max_len);
/* 2.5.3: inner (ilen octets, first payload type first) as SKF fragments
 * with header h (next and length are filled in), each at most max_len
 * octets when IKE_FRAG_MAX of them suffice (otherwise larger, never
 * more), written end to end into out.  The number of fragments, or -1. */
int ike_frag_seal(struct sk_ctx *c, const struct ike_hdr *h,
		  const uint8_t *inner, size_t ilen, uint8_t first,
		  size_t max_len, uint8_t *out, size_t cap, size_t *olen);
/* The length of the first IKE message in p (its header Length), or n
 * when p does not start with a well-formed header. */
size_t ike_wire_next(const uint8_t *p, size_t n);

/* --- the engine (ike_exchange.c) ----------------------------------------- */

struct ike_engine;

struct ike_frag_state {
	bool peer_ok; /* N(IKEV2_FRAGMENTATION_SUPPORTED) in IKE_SA_INIT */
	/* On the current IKE SA: responses to our request and the gateway's
	 * requests.  other: both directions on the IKE SA a rekey replaced
	 * (ike_rekey.c), so its traffic never disturbs the current SA's. */
	struct ike_defrag resp, req, other;
};

/* Returned by frag_open() while the message is incomplete or the fragment
 * was ignored: nothing more to do with this datagram. */
#define IKE_FRAG_PENDING (-2)

/* The accepted IKE_SA_INIT response m: does the gateway take fragments? */
void frag_note_init(struct ike_engine *e, const struct ike_msg *m);
/* Drops every set and wipes every plaintext (the SA is gone). */
void frag_reset(struct ike_engine *e);
/* m is an SKF message for d: ike_parse_inner()'s result once the message
 * is complete, -1 for a fragment failing its ICV, else IKE_FRAG_PENDING. */
int frag_open(struct ike_engine *e, struct ike_defrag *d, struct ike_msg *m,
	      uint8_t *pkt, size_t len);
/* A fragment of a request we answered already (2.6.1): 1 if it is fragment
 * 1 and authentic (resend the answer), 0 to ignore it, -1 bad ICV. */
int frag_retransmit(struct ike_engine *e, const struct ike_msg *m, uint8_t *pkt,
		    size_t len);
/* The largest IKE message one datagram of ours may be (2.5.1: the
 * configured IP datagram size less IP, UDP and non-ESP marker), or 0 to
 * send exchange unfragmented. */
size_t frag_max_len(const struct ike_engine *e, uint8_t exchange);

#endif
