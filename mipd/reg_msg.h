/*
 * reg_msg.h - the Mobile IPv4 message codec: Registration Request and Reply
 * with their extensions (RFC 5944 3.3-3.5, RFC 2794, RFC 3519 3.1-3.2) and
 * the ICMP Agent Advertisement and Agent Solicitation (RFC 5944 2.1-2.2 on
 * RFC 1256).
 *
 * No state, no crypto, no I/O.  A parse records facts in a plain struct,
 * with variable-length data (authenticators, NAI, unknown extensions) as
 * pointers into the caller's packet, which must outlive the struct.  The
 * builders write the same structs back, so parse -> build is byte-exact for
 * every message the codec accepts (reserved bits included, so an FA can
 * relay what it received unchanged).  Authenticators are computed by
 * reg_auth.c over the offsets recorded here.
 */
#ifndef MIPD_REG_MSG_H
#define MIPD_REG_MSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "mipd/mip4.h"

#define REG_MAX_EXT	    16 /* extensions per registration message */
#define REG_ADV_MAX_ROUTERS 16 /* router addresses per advertisement */
#define REG_ADV_MAX_COA	    62 /* (255 - 6) / 4: what one Length holds */
#define REG_ADV_MAX_EXT	    16

/* Results.  reg_err_discard() tells which ones mean "drop silently". */
enum reg_err {
	REG_OK = 0,
	REG_ESHORT,    /* shorter than the fixed part */
	REG_ETYPE,     /* not the expected message type (or ICMP code) */
	REG_ESYNTAX,   /* an extension overruns the message or has a bad
			* length; a field out of range */
	REG_EUNKNOWN,  /* unrecognised extension 0-127 (RFC 5944 1.9) */
	REG_EORDER,    /* extension repeated, or auth extensions misordered */
	REG_ETOOMANY,  /* more items than the fixed arrays hold */
	REG_ECHECKSUM, /* ICMP checksum wrong */
	REG_EMISSING,  /* Router Advertisement without the Mobility Agent
			* Advertisement extension: not an agent */
	REG_ENOSPACE,  /* builder: buffer too small or a field too long */
};

/* Borrowed bytes inside the packet. */
struct reg_chunk {
	const uint8_t *p;
	size_t len;
};

/* RFC 5944 3.3.  flags keeps all eight bits (MIP4_RRQ_*), r and x too. */
struct reg_request {
	uint8_t flags;
	uint16_t lifetime; /* seconds; 0 = deregistration, 0xffff = forever */
	struct in_addr home, ha, coa;
	uint64_t id; /* Identification: NTP timestamp or nonce pair (5.7) */
};

/* RFC 5944 3.4. */
struct reg_reply {
	uint8_t code; /* enum mip4_reply_code */
	uint16_t lifetime;
	struct in_addr home, ha;
	uint64_t id;
};

/* MN-HA, MN-FA or FA-HA authentication extension (RFC 5944 3.5.2-3.5.4).
 * RFC 5944 3.5.1: the authenticator covers the message from its first byte
 * up to and including this extension's SPI, i.e. pkt[0 .. off + 6). */
struct reg_auth_ext {
	uint32_t spi;
	struct reg_chunk auth; /* the authenticator */
	size_t off;	       /* offset of the extension's Type byte */
};

/* UDP Tunnel Request (RFC 3519 3.1); reserved fields kept for relaying. */
struct reg_udp_req {
	uint8_t subtype; /* 0 */
	uint8_t reserved1;
	uint8_t flags; /* MIP4_UDP_REQ_F, MIP4_UDP_REQ_R, reserved bits */
	uint8_t encap; /* MIP4_ENCAP_* */
	uint16_t reserved3;
};

/* UDP Tunnel Reply (RFC 3519 3.2). */
struct reg_udp_rep {
	uint8_t subtype;    /* 0 */
	uint8_t code;	    /* MIP4_UDP_REP_ACCEPT or _DECLINED */
	uint16_t flags;	    /* MIP4_UDP_REP_F and 15 reserved bits */
	uint16_t keepalive; /* seconds */
};

/* One extension in wire order; body is what follows Type and Length
 * (nothing for the one-byte padding of advertisements). */
struct reg_ext {
	uint8_t type;
	size_t off; /* offset of the Type byte in the message */
	struct reg_chunk body;
};

struct reg_msg {
	uint8_t type;	       /* MIP4_REG_REQUEST or MIP4_REG_REPLY */
	struct reg_request rq; /* valid for a request */
	struct reg_reply rp;   /* valid for a reply */
	const uint8_t *pkt;    /* the whole message, for authenticators */
	size_t len;

	/* Each recognised extension at most once (REG_EORDER otherwise). */
	bool has_mnha, has_mnfa, has_faha, has_nai, has_udp_req, has_udp_rep;
	struct reg_auth_ext mnha, mnfa, faha;
	struct reg_chunk nai; /* RFC 2794: not NUL-terminated */
	struct reg_udp_req udp_req;
	struct reg_udp_rep udp_rep;

	bool unknown_skipped; /* unrecognised 128-255 extension(s) ignored */
	uint8_t next;	      /* entries used in ext[] */
	struct reg_ext ext[REG_MAX_EXT];
};

/* --- registration messages ------------------------------------------- */

/*
 * The fixed part must be whole and of the expected type; the extensions
 * must exactly fill the rest (a byte left over is a truncated extension).
 * Extension rules (RFC 5944 1.9, 3.6.1.3, 3.7, 3.8):
 *   - an unrecognised type 0-127 fails with REG_EUNKNOWN at once (the
 *     length byte is not trusted: long-format types have none there);
 *   - an unrecognised type 128-255 is skipped (recorded in ext[]);
 *   - the UDP Tunnel Reply (44) is recognised only in replies, the UDP
 *     Tunnel Request (144) only in requests (in a reply it is skipped);
 *   - a recognised type twice, or MN-FA / FA-HA auth before MN-HA auth,
 *     is REG_EORDER.
 * Fields of the fixed part are filled as soon as it parsed, even if an
 * extension then fails, so an agent can still address a 134/70 reply.
 */
int reg_parse(struct reg_msg *m, const uint8_t *pkt, size_t len);
int reg_parse_request(struct reg_msg *m, const uint8_t *pkt, size_t len);
int reg_parse_reply(struct reg_msg *m, const uint8_t *pkt, size_t len);

/* The first extension of that type, or NULL. */
const struct reg_ext *reg_find_ext(const struct reg_msg *m, uint8_t type);
/* True when the MN-HA authenticator covers the extension (it comes before
 * the MN-HA auth extension).  Extensions after it were added or may be
 * altered by a foreign agent (RFC 5944 3.6.1.3, 3.7.2.2). */
bool reg_mnha_covers(const struct reg_msg *m, const struct reg_ext *e);

/* Builder: the fixed part, then extensions in call order. */
struct reg_builder {
	struct wbuf *w;
	size_t start; /* offset of the message in the wbuf */
	bool failed;
};

void reg_build_request(struct reg_builder *b, struct wbuf *w,
		       const struct reg_request *rq);
void reg_build_reply(struct reg_builder *b, struct wbuf *w,
		     const struct reg_reply *rp);
/* Any extension as Type, Length, body (body <= 255 bytes). */
void reg_add_ext(struct reg_builder *b, uint8_t type, const void *body,
		 size_t len);
void reg_add_nai(struct reg_builder *b, const void *nai, size_t len);
void reg_add_udp_req(struct reg_builder *b, const struct reg_udp_req *u);
void reg_add_udp_rep(struct reg_builder *b, const struct reg_udp_rep *u);
/* Type, Length = 4 + alen, SPI, then alen reserved bytes whose offset in
 * w->data goes to *auth_off.  The bytes to authenticate are
 * w->data[b->start .. *auth_off).  reg_auth_append() fills them. */
void reg_add_auth(struct reg_builder *b, uint8_t type, uint32_t spi,
		  size_t alen, size_t *auth_off);
/* REG_OK and the message length, or REG_ENOSPACE. */
int reg_build_end(const struct reg_builder *b, size_t *len);

/* Rebuilds a parsed message byte for byte (authenticators copied). */
int reg_build_msg(struct wbuf *w, const struct reg_msg *m, size_t *len);

/* --- agent discovery (ICMP) ------------------------------------------ */

struct reg_adv_router {
	struct in_addr addr;
	uint32_t pref; /* RFC 1256 Preference Level, two's complement */
};

/* An Agent Advertisement: ICMP Router Advertisement (RFC 1256 3) with the
 * Mobility Agent Advertisement extension (RFC 5944 2.1.1) and optionally
 * Prefix-Lengths (2.1.2). */
struct reg_adv {
	uint8_t code;	   /* MIP4_ADV_CODE_ROUTER or _NO_ROUTE */
	uint16_t lifetime; /* ICMP lifetime of the advertisement, seconds */
	uint8_t num_addrs; /* may be 0 (RFC 5944 2.1) */
	struct reg_adv_router router[REG_ADV_MAX_ROUTERS];

	uint16_t seq;
	uint16_t reg_lifetime; /* longest lifetime the agent accepts */
	uint16_t flags;	       /* MIP4_ADV_* and 5 reserved bits */
	uint8_t ncoa;
	struct in_addr coa[REG_ADV_MAX_COA];

	bool has_prefix;
	uint8_t prefix_len[REG_ADV_MAX_ROUTERS]; /* one per router address */

	/* Extensions in wire order, padding and skipped ones included.
	 * The builder follows it when next > 0, else writes the Mobility
	 * Agent Advertisement, then Prefix-Lengths if has_prefix. */
	bool unknown_skipped;
	uint8_t next;
	struct reg_ext ext[REG_ADV_MAX_EXT];
};

/* An Agent Solicitation is a Router Solicitation (RFC 5944 2.2). */
struct reg_sol {
	uint32_t reserved;
	struct reg_chunk extra; /* RFC 1256 5.3 accepts length >= 8 */
};

/* icmp = the ICMP message (after the IP header).  The checksum is checked;
 * Addr Entry Size must be 2; the Mobility Agent Advertisement extension
 * must be present and come before Prefix-Lengths, whose count must equal
 * Num Addrs (RFC 5944 2.1.2). */
int reg_adv_parse(struct reg_adv *a, const uint8_t *icmp, size_t len);
int reg_adv_build(struct wbuf *w, const struct reg_adv *a, size_t *len);
int reg_sol_parse(struct reg_sol *s, const uint8_t *icmp, size_t len);
int reg_sol_build(struct wbuf *w, const struct reg_sol *s, size_t *len);

/* RFC 1071 Internet checksum; over a message with a valid checksum in
 * place it returns 0. */
uint16_t reg_icmp_checksum(const void *p, size_t len);

/* --- names for logs --------------------------------------------------- */

const char *reg_err_name(int err);
/* True when the RFC says to drop the message without a reply. */
bool reg_err_discard(int err);
const char *reg_code_name(uint8_t code);
const char *reg_ext_name(uint8_t type);
/* "SBDMGrTx" with '-' for clear bits; buf holds 9 bytes. */
const char *reg_flags_str(uint8_t flags, char buf[9]);

#endif
