/*
 * ike_msg.h - the IKEv2 message codec (RFC 7296 section 3, RFC 7383 SKF).
 *
 * No state, no crypto, no I/O.  ike_parse() checks the header and the outer
 * payload chain and records facts in a struct ike_msg; ike_parse_inner()
 * does the same for the decrypted content of an SK payload.  Variable-length
 * data is recorded as pointers into the caller's packet or plaintext buffer,
 * which must therefore outlive the struct.  ike_check_outer() and
 * ike_check_placement() then apply the per-exchange payload table before any
 * exchange logic looks at the facts.
 *
 * The builder writes the same structs back (header, payload chain with
 * next-payload chaining and back-patched lengths), so parse -> build is
 * byte-exact for every message it can express.
 */
#ifndef MOBIKED_IKE_MSG_H
#define MOBIKED_IKE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/buf.h"
#include "mobiked/ikev2.h"

/* Fixed limits: a message exceeding one fails with IKE_ETOOMANY. */
#define IKE_MAX_PROPOSALS  8
#define IKE_MAX_TRANSFORMS 16
#define IKE_MAX_NOTIFY	   16
#define IKE_MAX_DELETE	   4
#define IKE_MAX_VENDOR	   16
#define IKE_MAX_TS	   8
#define IKE_MAX_CP_ATTRS   16
#define IKE_MAX_CERT	   4
#define IKE_MAX_PAYLOADS   48 /* per chain (outer or inner) */
#define IKE_SPI_MAX	   8

/* Result codes; ike_err_notify() maps them to an RFC 7296 notify. */
enum ike_err {
	IKE_OK = 0,
	IKE_EMSGLEN,	/* < 28 bytes, or header length != datagram length */
	IKE_EVERSION,	/* major version is not 2 (see hdr.version) */
	IKE_ESYNTAX,	/* a length or field is malformed */
	IKE_ECRITICAL,	/* unknown payload with the critical bit set */
	IKE_ETOOMANY,	/* more items than the fixed arrays hold */
	IKE_EEXCHANGE,	/* exchange type we have no table for */
	IKE_EPLACEMENT, /* payload not allowed here, or more than max */
	IKE_EMISSING,	/* mandatory payload missing */
	IKE_EENCRYPT,	/* payload outside SK where SK is required */
	IKE_ENOSPACE,	/* builder: buffer too small or misuse */
};

/* Borrowed bytes inside the packet (or plaintext) buffer. */
struct ike_chunk {
	const uint8_t *p;
	size_t len;
};

struct ike_hdr {
	uint64_t spi_i, spi_r;
	uint8_t next;	 /* first payload */
	uint8_t version; /* major << 4 | minor */
	uint8_t exchange;
	uint8_t flags; /* IKE_FLAG_* */
	uint32_t msgid;
	uint32_t length;
};

/* Transform (RFC 7296 3.3.2); key_len 0 = no Key Length attribute. */
struct ike_transform {
	uint8_t type;
	uint16_t id;
	uint16_t key_len;
	bool unknown_attr; /* 3.3.6: not understood, so do not select it */
};

struct ike_proposal {
	uint8_t num;
	uint8_t protocol;
	uint8_t spi_size;
	uint8_t spi[IKE_SPI_MAX];
	uint8_t ntrans;
	struct ike_transform trans[IKE_MAX_TRANSFORMS];
};

struct ike_sa_pl {
	uint8_t nprop;
	struct ike_proposal prop[IKE_MAX_PROPOSALS];
};

struct ike_ke {
	uint16_t group;
	struct ike_chunk data;
};

struct ike_id {
	uint8_t type; /* IKE_ID_* */
	struct ike_chunk data;
};

struct ike_auth {
	uint8_t method; /* IKE_AUTH_* */
	struct ike_chunk data;
};

struct ike_notify_pl {
	uint8_t protocol; /* 0 when no SPI */
	uint8_t spi_size; /* 0, 4 or 8 */
	uint8_t spi[IKE_SPI_MAX];
	uint16_t type; /* IKE_N_* */
	struct ike_chunk data;
};

struct ike_delete {
	uint8_t protocol;
	uint8_t spi_size;
	uint16_t nspi;
	struct ike_chunk spis; /* nspi * spi_size bytes */
};

struct ike_cert {
	uint8_t encoding;
	struct ike_chunk data;
};

struct ike_ts {
	uint8_t type; /* IKE_TS_IPV4_ADDR_RANGE or IKE_TS_IPV6_ADDR_RANGE */
	uint8_t proto;
	uint16_t start_port, end_port;
	struct ipaddr start, end;
};

struct ike_ts_set {
	uint8_t n;
	struct ike_ts ts[IKE_MAX_TS];
};

struct ike_cp_attr {
	uint16_t type; /* IKE_CA_* (15 bits) */
	struct ike_chunk value;
};

struct ike_cp {
	uint8_t type; /* IKE_CFG_* */
	uint8_t nattr;
	struct ike_cp_attr attr[IKE_MAX_CP_ATTRS];
};

/* SK (3.14) or SKF (RFC 7383 2.5): body is IV | ciphertext | ICV; the
 * AAD for AEAD ciphers is the packet up to body.p. */
struct ike_sk {
	uint8_t first;	/* next-payload field: first inner payload */
	size_t hdr_off; /* offset of the payload header in the message */
	uint16_t frag;	/* SKF only: fragment number, from 1 */
	uint16_t total; /* SKF only: total fragments */
	struct ike_chunk body;
};

/* One chain of payload types in the order seen (known types only). */
struct ike_chain {
	uint8_t n;
	uint8_t type[IKE_MAX_PAYLOADS];
};

struct ike_msg {
	struct ike_hdr hdr;
	struct ike_chain outer, inner;
	bool inner_parsed;
	bool unknown_skipped;  /* unknown non-critical payload(s) ignored */
	uint8_t critical_type; /* the unknown critical type (IKE_ECRITICAL) */

	/* Single-instance payloads keep their first occurrence; the
	 * placement check rejects a second one. */
	bool has_sa, has_ke, has_nonce, has_idi, has_idr, has_auth, has_cp;
	bool has_tsi, has_tsr, has_eap, has_sk, has_skf;
	struct ike_sa_pl sa;
	struct ike_ke ke;
	struct ike_chunk nonce; /* Ni or Nr, by direction */
	struct ike_id idi, idr;
	struct ike_auth auth;
	struct ike_ts_set tsi, tsr;
	struct ike_cp cp;
	struct ike_chunk eap; /* opaque EAP message */
	struct ike_sk sk;     /* SK or SKF, see has_sk / has_skf */

	uint8_t nnotify, ndelete, nvendor, ncert, ncertreq;
	struct ike_notify_pl notify[IKE_MAX_NOTIFY];
	struct ike_delete del[IKE_MAX_DELETE];
	struct ike_chunk vendor[IKE_MAX_VENDOR];
	struct ike_cert cert[IKE_MAX_CERT];
	struct ike_cert certreq[IKE_MAX_CERT];
};

/* --- parsing ------------------------------------------------------------ */

/* Header only: fills *h when len >= 28; checks length and major version. */
int ike_parse_hdr(struct ike_hdr *h, const uint8_t *pkt, size_t len);
/* Whole datagram (non-ESP marker already stripped).  On IKE_ECRITICAL,
 * m->critical_type names the payload to report. */
int ike_parse(struct ike_msg *m, const uint8_t *pkt, size_t len);
/* Decrypted SK content (padding removed), first = sk.first.  Records into
 * the same struct, the types into m->inner; sets m->inner_parsed. */
int ike_parse_inner(struct ike_msg *m, uint8_t first, const uint8_t *pt,
		    size_t len);

/* One payload body (after the generic header); public for tests. */
int ike_parse_sa(struct rbuf *r, struct ike_sa_pl *sa);
int ike_parse_ke(struct rbuf *r, struct ike_ke *ke);
int ike_parse_nonce(struct rbuf *r, struct ike_chunk *n);
int ike_parse_id(struct rbuf *r, struct ike_id *id);
int ike_parse_auth(struct rbuf *r, struct ike_auth *a);
int ike_parse_notify(struct rbuf *r, struct ike_notify_pl *n);
int ike_parse_delete(struct rbuf *r, struct ike_delete *d);
int ike_parse_cert(struct rbuf *r, struct ike_cert *c);
int ike_parse_ts(struct rbuf *r, struct ike_ts_set *ts);
int ike_parse_cp(struct rbuf *r, struct ike_cp *cp);
int ike_parse_eap(struct rbuf *r, struct ike_chunk *eap);
int ike_parse_skf(struct rbuf *r, struct ike_sk *sk);

/* Lookups over the parsed facts. */
const struct ike_notify_pl *ike_find_notify(const struct ike_msg *m,
					    uint16_t type);
/* The first error notify (type < 16384), or NULL. */
const struct ike_notify_pl *ike_error_notify(const struct ike_msg *m);
/* INVALID_KE_PAYLOAD's data (3.10.1): exactly the 2-octet DH group the
 * responder wants.  0, or -1 (group 0) if it is anything else. */
int ike_notify_group(const struct ike_notify_pl *n, uint16_t *group);

/* --- placement (RFC 7296 1.2-1.5, 2.21) --------------------------------- */

/* Before decryption: exchange known, outer chain allowed (SK/SKF alone for
 * encrypted exchanges).  *bad (may be NULL) gets the offending type. */
int ike_check_outer(const struct ike_msg *m, bool response, uint8_t *bad);
/* Full check: outer, then the inner chain for encrypted exchanges (which
 * must have been parsed).  Responses carrying an error notify, or only
 * notifies/vendor IDs, are exempt from the minimum counts. */
int ike_check_placement(const struct ike_msg *m, bool response, uint8_t *bad);

/* --- building ----------------------------------------------------------- */

struct ike_builder {
	struct wbuf *w;
	size_t start;	 /* offset of the IKE header (outer) or chain */
	size_t next_off; /* the next-payload byte to patch; SIZE_MAX: none */
	size_t pl_off;	 /* current payload header */
	uint8_t first;	 /* first payload type written */
	bool outer;
	bool closed; /* SK/SKF written: the chain is over */
	bool failed;
};

/* Where an SK/SKF payload's parts went (offsets into the wbuf's data), for
 * the crypto code to fill.  The AAD (RFC 5282 5.1, RFC 7383 2.5.3) is
 * bytes [b->start, iv_off): the IKE header through the SK/SKF header. */
struct ike_sk_layout {
	size_t hdr_off, iv_off, ct_off, icv_off, end;
};

/* Writes h at the wbuf's current end; h->next and h->length are ignored
 * (the first payload and ike_build_end() fill them). */
void ike_build_begin(struct ike_builder *b, struct wbuf *w,
		     const struct ike_hdr *h);
/* A chain with no header: the plaintext for an SK payload; b->first is
 * the type to put in the SK header's Next Payload. */
void ike_build_inner_begin(struct ike_builder *b, struct wbuf *w);
/* Patches the header length (outer).  0 or IKE_ENOSPACE.  Call before
 * computing an ICV: the AAD covers the final length. */
int ike_build_end(struct ike_builder *b);

/* Generic payload framing, for the builders below and for tests. */
void ike_pl_begin(struct ike_builder *b, uint8_t type, bool critical);
void ike_pl_end(struct ike_builder *b);
void ike_build_raw(struct ike_builder *b, uint8_t type, bool critical,
		   const void *body, size_t len);

void ike_build_sa(struct ike_builder *b, const struct ike_sa_pl *sa);
void ike_build_ke(struct ike_builder *b, const struct ike_ke *ke);
void ike_build_nonce(struct ike_builder *b, const struct ike_chunk *n);
/* type: IKE_PL_IDI or IKE_PL_IDR */
void ike_build_id(struct ike_builder *b, uint8_t type, const struct ike_id *id);
void ike_build_auth(struct ike_builder *b, const struct ike_auth *a);
void ike_build_notify(struct ike_builder *b, const struct ike_notify_pl *n);
/* A notify without SPI: its type and data (len octets, p may be NULL). */
void ike_build_notify_data(struct ike_builder *b, uint16_t type,
			   const void *data, size_t len);
void ike_build_delete(struct ike_builder *b, const struct ike_delete *d);
void ike_build_vendor(struct ike_builder *b, const struct ike_chunk *v);
/* type: IKE_PL_CERT or IKE_PL_CERTREQ */
void ike_build_cert(struct ike_builder *b, uint8_t type,
		    const struct ike_cert *c);
/* type: IKE_PL_TSI or IKE_PL_TSR */
void ike_build_ts(struct ike_builder *b, uint8_t type,
		  const struct ike_ts_set *ts);
void ike_build_cp(struct ike_builder *b, const struct ike_cp *cp);
void ike_build_eap(struct ike_builder *b, const struct ike_chunk *eap);
/* SK header (next payload = first) and zeroed room for IV, ciphertext and
 * ICV; must be the last payload.  The crypto code fills *lay. */
void ike_build_sk(struct ike_builder *b, uint8_t first, size_t iv_len,
		  size_t ct_len, size_t icv_len, struct ike_sk_layout *lay);
/* RFC 7383 2.5: first is sent only in fragment 1 (0 in the others). */
void ike_build_skf(struct ike_builder *b, uint16_t frag, uint16_t total,
		   uint8_t first, size_t iv_len, size_t ct_len, size_t icv_len,
		   struct ike_sk_layout *lay);

/* --- names for logs ----------------------------------------------------- */

const char *ike_exchange_name(unsigned x);
const char *ike_payload_name(unsigned t);
const char *ike_notify_name(unsigned t);
const char *ike_err_name(int err);
/* The notify a failed request should be answered with, 0 = drop silently
 * (RFC 7296 2.21: a bad length or IKEv1 gets no answer).  h may be NULL
 * except for IKE_EVERSION. */
uint16_t ike_err_notify(int err, const struct ike_hdr *h);

#endif
