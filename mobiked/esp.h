/*
 * esp.h - the ESP packet engine (RFC 4303) of the userspace data plane:
 * one struct esp_sa per SA and direction, packet in, packet out, no I/O
 * and no allocation per packet.  Tunnel mode only: the protected payload
 * is a whole inner IP packet (Next Header 4 or 41).
 *
 * Wire layout (RFC 4303 2):
 *     SPI(4) | Sequence Number(4) | IV | ciphertext | ICV
 *     ciphertext = E(payload | Padding 1,2,3.. | Pad Length | Next Header)
 * The ciphertext is aligned to max(cipher block, 4) (RFC 4303 2.4); the
 * AAD / HMAC coverage and the ESN high half come from crypto.h sk_encrypt.
 *
 * Buffers: esp_encap builds the packet in `out`; when the inner packet
 * already sits at out + esp_headroom() nothing is copied.  esp_decap
 * works in place and leaves the inner packet at pkt + esp_headroom().
 */
#ifndef MOBIKED_ESP_H
#define MOBIKED_ESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mobiked/crypto.h"

#define ESP_HDR_LEN	   8 /* SPI + Sequence Number */
#define ESP_NH_IPV4	   4
#define ESP_NH_IPV6	   41
#define ESP_NH_NONE	   59	/* TFC dummy packet (RFC 4303 2.6) */
#define ESP_REPLAY_MAX	   4096 /* largest anti-replay window, packets */
#define ESP_REPLAY_DEFAULT 1024
#define ESP_REPLAY_WORDS   128	 /* ring of 64-bit words, > MAX + 64 bits */
#define ESP_SOFT_PCT	   90	 /* soft limit, percent of the hard one */
#define ESP_MAX_INNER	   65535 /* an IP packet */
#define ESP_MAX_PACKET	   65535 /* a UDP payload */

/* Results of esp_encap / esp_decap (negative); >= 0 is a length. */
enum esp_err {
	ESP_E_SPACE = -1,	 /* output buffer too small */
	ESP_E_MALFORMED = -2,	 /* short, misaligned, pad length too big */
	ESP_E_SPI = -3,		 /* not this SA's SPI */
	ESP_E_AUTH = -4,	 /* ICV mismatch */
	ESP_E_REPLAY = -5,	 /* duplicate or left of the window */
	ESP_E_PAD = -6,		 /* padding bytes are not 1, 2, 3.. */
	ESP_E_NEXT_HDR = -7,	 /* neither IPv4 nor IPv6 inside */
	ESP_E_DUMMY = -8,	 /* TFC dummy packet: drop silently */
	ESP_E_SEQ_OVERFLOW = -9, /* counter would cycle: rekey */
	ESP_E_EXPIRED = -10,	 /* hard lifetime reached */
	ESP_E_CRYPTO = -11,	 /* library failure */
};

/* Lifetime events, raised once each and collected by esp_life_take(). */
enum esp_life_ev {
	ESP_LIFE_SOFT = 1,
	ESP_LIFE_HARD = 2,
};

/* RFC 6479-style window: a ring of words, cleared a word at a time as
 * the right edge advances, so a slide costs no bit shifting. */
struct esp_replay {
	uint64_t top;	 /* highest authenticated sequence number, 0: none */
	uint32_t window; /* packets; 0 = no replay check */
	uint32_t mask;	 /* ring words - 1 (a power of two) */
	uint64_t bits[ESP_REPLAY_WORDS];
};

struct esp_life {
	uint64_t soft_bytes, hard_bytes; /* 0 = no limit */
	uint64_t soft_packets, hard_packets;
	uint64_t bytes, packets; /* inner bytes / packets so far */
	uint8_t raised;		 /* ESP_LIFE_* ever raised */
	uint8_t pending;	 /* raised, not yet taken */
};

struct esp_stats {
	uint64_t packets, bytes; /* successful, inner bytes */
	uint64_t auth_fail, replay, malformed, bad_pad, bad_nh, dummy;
	uint64_t bad_spi, seq_overflow, expired, errors;
};

struct esp_sa {
	uint32_t spi;
	enum sk_dir dir;
	bool esn;
	struct sk_ctx *ctx;
	size_t iv_len, icv_len, align;
	uint64_t seq;	      /* outbound: last sequence number sent */
	struct esp_replay rp; /* inbound only */
	struct esp_life life;
	struct esp_stats st;
};

struct esp_sa_params {
	uint32_t spi;
	enum sk_dir dir;
	const struct encr_alg *encr;
	const struct integ_alg *integ; /* NULL with an AEAD */
	const uint8_t *ekey;	       /* GCM: key | salt */
	size_t elen;
	const uint8_t *ikey;
	size_t ilen;
	bool esn;
	uint32_t replay_window; /* 0 disables; clamped to ESP_REPLAY_MAX */
	uint64_t life_bytes, life_packets; /* hard limits, 0 = none */
	unsigned soft_pct;		   /* 0 = ESP_SOFT_PCT */
};

/* 0, or -1 with nothing to clear. */
int esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *p);
void esp_sa_clear(struct esp_sa *sa);

/* Bytes in front of the payload: SPI, sequence number, IV. */
size_t esp_headroom(const struct esp_sa *sa);
/* Most bytes esp_encap adds to an inner packet (header, padding, ICV). */
size_t esp_overhead(const struct esp_sa *sa);
/* 4 or 41 from the IP version nibble, 0 if neither. */
uint8_t esp_next_header(const uint8_t *ip, size_t len);
/* The SPI of a received packet; -1 if too short to hold one. */
int esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi);

/*
 * Protects `len` bytes of inner packet with Next Header nh and writes the
 * ESP packet to out (cap bytes).  ip may be out + esp_headroom(sa) (no
 * copy) or anywhere else (moved into place).  Returns the ESP length or an
 * esp_err.
 */
int esp_encap(struct esp_sa *sa, uint8_t nh, const uint8_t *ip, size_t len,
	      uint8_t *out, size_t cap);

/*
 * Verifies and decrypts the ESP packet in pkt in place.  On success the
 * inner packet is at pkt + esp_headroom(sa), its length is returned and
 * *nh is 4 or 41.  On failure an esp_err; SA state (window, lifetime)
 * changes only for packets whose ICV verified.
 */
int esp_decap(struct esp_sa *sa, uint8_t *pkt, size_t len, uint8_t *nh);

/* ESP_LIFE_* bits raised since the last call. */
unsigned esp_life_take(struct esp_sa *sa);
const char *esp_err_name(int err);

/* ---- the anti-replay window, exposed for tests and fuzzing ---- */

void esp_replay_init(struct esp_replay *rp, uint32_t window);
/* The full 64-bit number from the low half (RFC 4303 Appendix A2.2);
 * -1 if it would lie before the start of the sequence space. */
int esp_seq_infer(const struct esp_replay *rp, uint32_t seql, uint64_t *seq);
/* 0 if seq may be new (call before the ICV check), -1 if a replay. */
int esp_replay_check(const struct esp_replay *rp, uint64_t seq);
/* Records an authenticated seq (after the ICV check). */
void esp_replay_update(struct esp_replay *rp, uint64_t seq);

#endif
