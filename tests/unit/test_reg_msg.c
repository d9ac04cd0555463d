/*
 * test_reg_msg.c - the Mobile IPv4 codec and authenticators: round trips
 * of every message and extension, malformed input handled as RFC 5944 1.9
 * says, HMAC-MD5 (RFC 2202) and keyed MD5 vectors, replay windows.
 *
 * REG_WRITE_CORPUS=DIR also writes the valid messages built here (and a few
 * malformed ones) as seeds for tests/fuzz/fuzz_reg.c: first byte = which
 * parser (0 request, 1 reply, 2 advertisement, 3 solicitation).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define BUF 2048

static const struct reg_sa test_sas[] = {
    {.spi = 0x1000,
     .alg = REG_ALG_HMAC_MD5,
     .key = (const uint8_t *)"0123456789abcdef",
     .key_len = 16},
    {.spi = 0x1001,
     .alg = REG_ALG_KEYED_MD5,
     .key = (const uint8_t *)"legacy",
     .key_len = 6},
    {.spi = 0x2000,
     .alg = REG_ALG_HMAC_MD5,
     .key = (const uint8_t *)"fa-key",
     .key_len = 6},
};
#define NSA (sizeof(test_sas) / sizeof(test_sas[0]))

static void seed(const char *name, uint8_t which, const uint8_t *p, size_t n)
{
	const char *dir = getenv("REG_WRITE_CORPUS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite(&which, 1, 1, f);
	fwrite(p, 1, n, f);
	fclose(f);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct reg_request sample_rq(uint8_t flags)
{
	struct reg_request rq = {
	    .flags = flags, .lifetime = 1800, .id = 0xe8d4a51000000001ULL};

	rq.home = ip("10.1.0.10");
	rq.ha = ip("10.1.0.1");
	rq.coa = ip("10.3.0.20");
	return rq;
}

/* Parses buf[0..n) and checks that building it again gives the same bytes. */
static void assert_roundtrip(const uint8_t *buf, size_t n, struct reg_msg *m)
{
	uint8_t out[BUF];
	struct wbuf w;
	size_t len;

	assert_int_equal(reg_parse(m, buf, n), REG_OK);
	wb_init(&w, out, sizeof(out));
	assert_int_equal(reg_build_msg(&w, m, &len), REG_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, buf, n);
}

/* --- registration round trips --- */

static void rrq_every_flag(void **state)
{
	uint8_t buf[BUF];
	struct reg_builder b;
	struct reg_msg m;
	struct wbuf w;
	size_t n;
	char fs[9];

	for (int bit = -1; bit < 8; bit++) {
		uint8_t flags = bit < 0 ? 0xff : (uint8_t)(1u << bit);
		struct reg_request rq = sample_rq(flags);

		wb_init(&w, buf, sizeof(buf));
		reg_build_request(&b, &w, &rq);
		assert_int_equal(reg_build_end(&b, &n), REG_OK);
		assert_int_equal(n, MIP4_RRQ_LEN);
		assert_int_equal(buf[1], flags);
		assert_roundtrip(buf, n, &m);
		assert_int_equal(m.type, MIP4_REG_REQUEST);
		assert_int_equal(m.rq.flags, flags);
		assert_int_equal(m.rq.lifetime, 1800);
		assert_int_equal(m.rq.home.s_addr, rq.home.s_addr);
		assert_int_equal(m.rq.ha.s_addr, rq.ha.s_addr);
		assert_int_equal(m.rq.coa.s_addr, rq.coa.s_addr);
		assert_true(m.rq.id == rq.id);
		assert_int_equal(m.next, 0);
	}
	assert_string_equal(reg_flags_str(0xff, fs), "SBDMGrTx");
	assert_string_equal(reg_flags_str(MIP4_RRQ_D | MIP4_RRQ_T, fs),
			    "--D---T-");
}

/* RRQ: NAI, UDP Tunnel Request, skippable 200 | MN-HA | FA ext, MN-FA. */
static size_t build_full_rrq(uint8_t *buf, size_t cap, size_t *mnha_off)
{
	struct reg_request rq = sample_rq(MIP4_RRQ_D | MIP4_RRQ_T);
	struct reg_udp_req u = {.flags = MIP4_UDP_REQ_F,
				.encap = MIP4_ENCAP_IPIP};
	struct reg_builder b;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, cap);
	reg_build_request(&b, &w, &rq);
	reg_add_nai(&b, "mn1@example.org", 15);
	reg_add_udp_req(&b, &u);
	reg_add_ext(&b, 200, "\x01\x02\x03", 3);
	*mnha_off = w.len;
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &test_sas[0]),
			 REG_OK);
	reg_add_ext(&b, 201, NULL, 0);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_FA_AUTH, &test_sas[2]),
			 REG_OK);
	assert_int_equal(reg_build_end(&b, &n), REG_OK);
	return n;
}

static void rrq_every_extension(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;
	size_t n, mnha_off;

	n = build_full_rrq(buf, sizeof(buf), &mnha_off);
	seed("rrq_full", 0, buf, n);
	assert_roundtrip(buf, n, &m);
	assert_int_equal(m.next, 6);
	assert_true(m.has_nai && m.has_udp_req && m.has_mnha && m.has_mnfa);
	assert_false(m.has_faha || m.has_udp_rep);
	assert_true(m.unknown_skipped);
	assert_int_equal(m.nai.len, 15);
	assert_memory_equal(m.nai.p, "mn1@example.org", 15);
	assert_int_equal(m.udp_req.flags, MIP4_UDP_REQ_F);
	assert_int_equal(m.udp_req.encap, MIP4_ENCAP_IPIP);
	assert_int_equal(m.mnha.off, mnha_off);
	assert_int_equal(m.mnha.spi, 0x1000);
	assert_int_equal(m.mnha.auth.len, 16);
	/* what the MN-HA authenticator covers, and what it does not */
	assert_true(reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_MN_NAI)));
	assert_true(
	    reg_mnha_covers(&m, reg_find_ext(&m, MIP4_EXT_UDP_TUN_REQ)));
	assert_false(reg_mnha_covers(&m, reg_find_ext(&m, 201)));
	assert_null(reg_find_ext(&m, MIP4_EXT_FA_HA_AUTH));
	assert_int_equal(reg_auth_verify(&m, &m.mnha, test_sas, NSA),
			 REG_AUTH_OK);
	assert_int_equal(reg_auth_verify(&m, &m.mnfa, test_sas, NSA),
			 REG_AUTH_OK);
}

static void rrp_every_code_and_extension(void **state)
{
	struct reg_reply rp = {.lifetime = 600, .id = 0x0123456789abcdefULL};
	struct reg_udp_rep u = {.code = MIP4_UDP_REP_ACCEPT,
				.flags = MIP4_UDP_REP_F,
				.keepalive = 110};
	static const uint8_t codes[] = {
	    0,	 1,   64,  65,	66,  67,  68,  69,  70,	 71,  72,  73, 74,  75,
	    76,	 77,  78,  79,	80,  81,  82,  88,  96,	 97,  98,  99, 128, 129,
	    130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 142, 194};
	uint8_t buf[BUF];
	struct reg_builder b;
	struct reg_msg m;
	struct wbuf w;
	size_t n;

	rp.home = ip("10.1.0.10");
	rp.ha = ip("10.1.0.1");
	for (size_t i = 0; i < sizeof(codes); i++) {
		rp.code = codes[i];
		wb_init(&w, buf, sizeof(buf));
		reg_build_reply(&b, &w, &rp);
		reg_add_udp_rep(&b, &u);
		reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &test_sas[1]);
		reg_auth_append(&b, MIP4_EXT_FA_HA_AUTH, &test_sas[2]);
		assert_int_equal(reg_build_end(&b, &n), REG_OK);
		assert_roundtrip(buf, n, &m);
		assert_int_equal(m.type, MIP4_REG_REPLY);
		assert_int_equal(m.rp.code, codes[i]);
		assert_true(m.rp.id == rp.id);
		assert_int_equal(m.rp.lifetime, 600);
		assert_true(m.has_udp_rep && m.has_mnha && m.has_faha);
		assert_int_equal(m.udp_rep.keepalive, 110);
		assert_int_equal(m.udp_rep.flags, MIP4_UDP_REP_F);
		assert_int_equal(reg_auth_verify(&m, &m.mnha, test_sas, NSA),
				 REG_AUTH_OK);
		assert_int_equal(reg_auth_verify(&m, &m.faha, test_sas, NSA),
				 REG_AUTH_OK);
		assert_null(strstr(reg_code_name(codes[i]), "(unknown code)"));
		if (codes[i] == 0)
			seed("rrp_accept", 1, buf, n);
		if (codes[i] == MIP4_HA_ID_MISMATCH)
			seed("rrp_133", 1, buf, n);
	}
}

/* A UDP Tunnel Request in a reply is an unknown skippable extension. */
static void udp_req_in_reply_skipped(void **state)
{
	struct reg_reply rp = {.code = 0};
	struct reg_udp_req u = {.encap = MIP4_ENCAP_IPIP};
	uint8_t buf[BUF];
	struct reg_builder b;
	struct reg_msg m;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, sizeof(buf));
	reg_build_reply(&b, &w, &rp);
	reg_add_udp_req(&b, &u);
	assert_int_equal(reg_build_end(&b, &n), REG_OK);
	assert_roundtrip(buf, n, &m);
	assert_false(m.has_udp_req);
	assert_true(m.unknown_skipped);
}

/* --- registration: malformed --- */

static void rrq_truncated(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg full, m;
	size_t n, off;

	n = build_full_rrq(buf, sizeof(buf), &off);
	assert_int_equal(reg_parse(&full, buf, n), REG_OK);
	for (size_t i = 0; i < n; i++) {
		int rc = reg_parse_request(&m, buf, i);
		bool boundary = i == MIP4_RRQ_LEN;

		for (uint8_t k = 0; k < full.next; k++)
			boundary |= full.ext[k].off == i;
		if (i < MIP4_RRQ_LEN)
			assert_int_equal(rc, REG_ESHORT);
		else
			assert_int_equal(rc, boundary ? REG_OK : REG_ESYNTAX);
	}
	assert_int_equal(reg_parse(&m, NULL, 0), REG_ESHORT);
	seed("bad_truncated", 0, buf, n - 5);
}

static void wrong_type(void **state)
{
	struct reg_request rq = sample_rq(0);
	uint8_t buf[BUF];
	struct reg_builder b;
	struct reg_msg m;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, sizeof(buf));
	reg_build_request(&b, &w, &rq);
	reg_build_end(&b, &n);
	assert_int_equal(reg_parse_reply(&m, buf, n), REG_ETYPE);
	buf[0] = 2;
	assert_int_equal(reg_parse(&m, buf, n), REG_ETYPE);
	assert_true(reg_err_discard(REG_ETYPE));
}

/* Fixed RRQ followed by the given extension bytes. */
static int parse_with(struct reg_msg *m, uint8_t *buf, const void *ext,
		      size_t elen)
{
	struct reg_request rq = sample_rq(0);
	struct reg_builder b;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, BUF);
	reg_build_request(&b, &w, &rq);
	wb_bytes(&w, ext, elen);
	assert_int_equal(reg_build_end(&b, &n), REG_OK);
	return reg_parse(m, buf, n);
}

static void ext_length_overrun(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;

	assert_int_equal(parse_with(&m, buf,
				    "\x83\x05"
				    "abcd",
				    6),
			 REG_ESYNTAX);
	assert_false(reg_err_discard(REG_ESYNTAX)); /* 134 at the HA */
	/* the fixed part is usable for the 134 reply */
	assert_int_equal(m.rq.lifetime, 1800);
	seed("bad_overrun", 0, buf, MIP4_RRQ_LEN + 6);
	/* a lone byte after the last extension */
	assert_int_equal(parse_with(&m, buf,
				    "\x83\x01"
				    "a"
				    "\xc8",
				    4),
			 REG_ESYNTAX);
	/* UDP Tunnel Request must be 6 bytes (RFC 3519 3.1) */
	assert_int_equal(parse_with(&m, buf, "\x90\x04\0\0\0\x04", 6),
			 REG_ESYNTAX);
	/* empty NAI */
	assert_int_equal(parse_with(&m, buf, "\x83\x00", 2), REG_ESYNTAX);
}

static void unknown_below_128_discards(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;

	assert_int_equal(parse_with(&m, buf, "\x05\x02xy", 4), REG_EUNKNOWN);
	assert_true(reg_err_discard(REG_EUNKNOWN));
	seed("bad_unknown_5", 0, buf, MIP4_RRQ_LEN + 4);
	/* long format (RFC 5944 1.11): the second byte is not a length, the
	 * verdict must not depend on it */
	assert_int_equal(parse_with(&m, buf, "\x24\x01\x00\xff", 4),
			 REG_EUNKNOWN);
	/* UDP Tunnel Reply (44) is meaningless in a request */
	assert_int_equal(parse_with(&m, buf, "\x2c\x06\0\0\0\0\0\0", 8),
			 REG_EUNKNOWN);
	/* one-byte padding exists for ICMP only */
	assert_int_equal(parse_with(&m, buf, "\x00", 1), REG_EUNKNOWN);
}

static void unknown_above_127_skipped(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;

	assert_int_equal(parse_with(&m, buf, "\x80\x02xy\xff\x00\x83\x01z", 9),
			 REG_OK);
	assert_true(m.unknown_skipped);
	assert_int_equal(m.next, 3);
	assert_true(m.has_nai); /* processing went on after the skip */
	assert_int_equal(m.nai.len, 1);
	seed("rrq_skippable", 0, buf, MIP4_RRQ_LEN + 9);
}

static void auth_bad_lengths(void **state)
{
	uint8_t buf[BUF];
	uint8_t ext[2 + 4 + 15] = {MIP4_EXT_MN_HA_AUTH, 4 + 15, 0, 0, 0x10, 0};
	struct reg_msg m;

	/* Length 3: no room for the SPI */
	assert_int_equal(parse_with(&m, buf, "\x20\x03\0\0\x10", 5),
			 REG_ESYNTAX);
	/* 15-byte authenticator parses, but is wrong for HMAC-MD5 */
	assert_int_equal(parse_with(&m, buf, ext, sizeof(ext)), REG_OK);
	assert_int_equal(m.mnha.auth.len, 15);
	assert_int_equal(reg_auth_verify(&m, &m.mnha, test_sas, NSA),
			 REG_AUTH_BADLEN);
}

static void auth_order_and_duplicates(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;

	assert_int_equal(parse_with(&m, buf,
				    "\x20\x04\0\0\x10\0"
				    "\x20\x04\0\0\x10\0",
				    12),
			 REG_EORDER);
	seed("bad_order", 0, buf, MIP4_RRQ_LEN + 12);
	assert_int_equal(parse_with(&m, buf,
				    "\x21\x04\0\0\x10\0"
				    "\x20\x04\0\0\x10\0",
				    12),
			 REG_EORDER);
	assert_int_equal(parse_with(&m, buf, "\x83\x01x\x83\x01y", 6),
			 REG_EORDER);
}

static void too_many_extensions(void **state)
{
	uint8_t ext[2 * (REG_MAX_EXT + 1)] = {0};
	uint8_t buf[BUF];
	struct reg_msg m;

	for (size_t i = 0; i < sizeof(ext); i += 2)
		ext[i] = 0xc0;
	assert_int_equal(parse_with(&m, buf, ext, sizeof(ext) - 2), REG_OK);
	assert_int_equal(parse_with(&m, buf, ext, sizeof(ext)), REG_ETOOMANY);
}

static void builder_no_space(void **state)
{
	struct reg_request rq = sample_rq(0);
	uint8_t buf[BUF], big[256] = {0};
	struct reg_builder b;
	struct wbuf w;
	size_t n;

	wb_init(&w, buf, MIP4_RRQ_LEN - 1);
	reg_build_request(&b, &w, &rq);
	assert_int_equal(reg_build_end(&b, &n), REG_ENOSPACE);
	wb_init(&w, buf, sizeof(buf));
	reg_build_request(&b, &w, &rq);
	reg_add_ext(&b, 200, big, sizeof(big)); /* Length is one byte */
	assert_int_equal(reg_build_end(&b, &n), REG_ENOSPACE);
	wb_init(&w, buf, MIP4_RRQ_LEN + 10);
	reg_build_request(&b, &w, &rq);
	assert_int_equal(reg_auth_append(&b, MIP4_EXT_MN_HA_AUTH, &test_sas[0]),
			 REG_ENOSPACE);
}

/* --- agent discovery --- */

static void sample_adv(struct reg_adv *a)
{
	memset(a, 0, sizeof(*a));
	a->code = MIP4_ADV_CODE_NO_ROUTE;
	a->lifetime = 9000;
	a->num_addrs = 2;
	a->router[0].addr = ip("10.3.0.1");
	a->router[0].pref = 0;
	a->router[1].addr = ip("10.3.1.1");
	a->router[1].pref = 0x80000000u;
	a->seq = 257;
	a->reg_lifetime = 1800;
	a->flags = 0xffe0; /* every defined flag */
	a->ncoa = 2;
	a->coa[0] = ip("10.3.0.1");
	a->coa[1] = ip("10.3.1.1");
	a->has_prefix = true;
	a->prefix_len[0] = 24;
	a->prefix_len[1] = 16;
}

static void adv_roundtrip(void **state)
{
	uint8_t buf[BUF], out[BUF];
	struct reg_adv a, p;
	struct wbuf w;
	size_t n, n2;

	sample_adv(&a);
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(reg_adv_build(&w, &a, &n), REG_OK);
	assert_int_equal(n, 8 + 16 + 2 + 6 + 8 + 2 + 2);
	assert_int_equal(reg_icmp_checksum(buf, n), 0);
	seed("adv", 2, buf, n);
	assert_int_equal(reg_adv_parse(&p, buf, n), REG_OK);
	assert_int_equal(p.code, 16);
	assert_int_equal(p.lifetime, 9000);
	assert_int_equal(p.num_addrs, 2);
	assert_int_equal(p.router[1].addr.s_addr, a.router[1].addr.s_addr);
	assert_int_equal(p.router[1].pref, 0x80000000u);
	assert_int_equal(p.seq, 257);
	assert_int_equal(p.reg_lifetime, 1800);
	assert_int_equal(p.flags, 0xffe0);
	assert_int_equal(p.ncoa, 2);
	assert_int_equal(p.coa[1].s_addr, a.coa[1].s_addr);
	assert_true(p.has_prefix);
	assert_int_equal(p.prefix_len[1], 16);
	wb_init(&w, out, sizeof(out));
	assert_int_equal(reg_adv_build(&w, &p, &n2), REG_OK);
	assert_int_equal(n2, n);
	assert_memory_equal(out, buf, n);
}

/* Padding, a skippable unknown, no router addresses, no prefix lengths. */
static void adv_padding_and_skippable(void **state)
{
	static const uint8_t adv[] = {
	    9,	  0, 0,	   0,	 0, 2,	0x07, 0x08, /* ICMP, 0 routers */
	    16,	  6, 0,	   1,	 0, 60, 0x90, 0x00, /* MA: R and F */
	    0xc8, 2, 0xaa, 0xbb,		    /* skippable 200 */
	    0};					    /* padding */
	uint8_t buf[sizeof(adv)], out[BUF];
	uint16_t c;
	struct reg_adv p;
	struct wbuf w;
	size_t n;

	memcpy(buf, adv, sizeof(adv));
	c = reg_icmp_checksum(buf, sizeof(buf));
	buf[2] = (uint8_t)(c >> 8), buf[3] = (uint8_t)c;
	assert_int_equal(reg_adv_parse(&p, buf, sizeof(buf)), REG_OK);
	assert_int_equal(p.num_addrs, 0);
	assert_int_equal(p.flags, MIP4_ADV_R | MIP4_ADV_F);
	assert_int_equal(p.ncoa, 0);
	assert_false(p.has_prefix);
	assert_true(p.unknown_skipped);
	assert_int_equal(p.next, 3);
	seed("adv_pad", 2, buf, sizeof(buf));
	wb_init(&w, out, sizeof(out));
	assert_int_equal(reg_adv_build(&w, &p, &n), REG_OK);
	assert_int_equal(n, sizeof(buf));
	assert_memory_equal(out, buf, n);
}

/* Rebuilds adv with byte i set to v and a fixed checksum, then parses. */
static int adv_patched(const uint8_t *adv, size_t n, size_t i, uint8_t v)
{
	uint8_t buf[BUF];
	struct reg_adv p;
	uint16_t c;

	memcpy(buf, adv, n);
	buf[i] = v;
	buf[2] = buf[3] = 0;
	c = reg_icmp_checksum(buf, n);
	buf[2] = (uint8_t)(c >> 8), buf[3] = (uint8_t)c;
	return reg_adv_parse(&p, buf, n);
}

static void adv_malformed(void **state)
{
	uint8_t buf[BUF];
	struct reg_adv a, p;
	struct wbuf w;
	size_t n;

	sample_adv(&a);
	wb_init(&w, buf, sizeof(buf));
	reg_adv_build(&w, &a, &n);
	buf[9] ^= 1;
	assert_int_equal(reg_adv_parse(&p, buf, n), REG_ECHECKSUM);
	seed("bad_adv_csum", 2, buf, n);
	buf[9] ^= 1;
	assert_int_equal(reg_adv_parse(&p, buf, 7), REG_ESHORT);
	assert_int_equal(adv_patched(buf, n, 0, 10), REG_ETYPE);
	assert_int_equal(adv_patched(buf, n, 1, 1), REG_ETYPE);	  /* code */
	assert_int_equal(adv_patched(buf, n, 5, 3), REG_ESYNTAX); /* entry */
	assert_int_equal(adv_patched(buf, 24, 4, 3), REG_ESHORT); /* Num */
	assert_int_equal(adv_patched(buf, n, 4, 200), REG_ETOOMANY);
	assert_int_equal(adv_patched(buf, n, 24, 19), REG_EORDER);
	assert_int_equal(adv_patched(buf, n, 24, 20), REG_EUNKNOWN);
	assert_int_equal(adv_patched(buf, n, 25, 7), REG_ESYNTAX); /* 6+4N */
	assert_int_equal(adv_patched(buf, n, n - 3, 3), REG_ESYNTAX);
	/* a plain router advertisement: no mobility agent there */
	assert_int_equal(adv_patched(buf, 24, 0, 9), REG_EMISSING);
}

static void sol_roundtrip(void **state)
{
	uint8_t buf[BUF], out[BUF];
	struct reg_sol s = {0}, p;
	struct wbuf w;
	size_t n, n2;

	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(reg_sol_build(&w, &s, &n), REG_OK);
	assert_int_equal(n, 8);
	assert_int_equal(buf[0], 10);
	seed("sol", 3, buf, n);
	assert_int_equal(reg_sol_parse(&p, buf, n), REG_OK);
	s.reserved = 0xdeadbeef;
	s.extra.p = (const uint8_t *)"xyz";
	s.extra.len = 3;
	wb_init(&w, buf, sizeof(buf));
	assert_int_equal(reg_sol_build(&w, &s, &n), REG_OK);
	assert_int_equal(reg_sol_parse(&p, buf, n), REG_OK);
	assert_int_equal(p.reserved, 0xdeadbeef);
	assert_int_equal(p.extra.len, 3);
	wb_init(&w, out, sizeof(out));
	assert_int_equal(reg_sol_build(&w, &p, &n2), REG_OK);
	assert_int_equal(n2, n);
	assert_memory_equal(out, buf, n);
	buf[5] ^= 0x40;
	assert_int_equal(reg_sol_parse(&p, buf, n), REG_ECHECKSUM);
	buf[5] ^= 0x40;
	buf[1] = 1;
	assert_int_not_equal(reg_sol_parse(&p, buf, n), REG_OK);
	assert_int_equal(reg_sol_parse(&p, buf, 7), REG_ESHORT);
}

/* RFC 1071 example bytes: sum 0xddf2, checksum 0x220d. */
static void checksum_rfc1071(void **state)
{
	static const uint8_t d[] = {0x00, 0x01, 0xf2, 0x03,
				    0xf4, 0xf5, 0xf6, 0xf7};

	assert_int_equal(reg_icmp_checksum(d, sizeof(d)), 0x220d);
	assert_int_equal(reg_icmp_checksum(d, 1), 0xffff);
}

/* --- authenticators --- */

static void hex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void check_mac(enum reg_alg alg, const uint8_t *key, size_t klen,
		      const void *data, size_t dlen, const char *want_hex)
{
	struct reg_sa sa = {
	    .spi = 0x100, .alg = alg, .key = key, .key_len = klen};
	uint8_t got[16], want[16];

	hex(want_hex, want, 16);
	assert_int_equal(reg_auth_compute(&sa, data, dlen, got), 0);
	assert_memory_equal(got, want, 16);
}

/* RFC 2202 section 2, test cases 1-7. */
static void hmac_md5_rfc2202(void **state)
{
	uint8_t k[80], d[80];

	memset(k, 0x0b, 16);
	check_mac(REG_ALG_HMAC_MD5, k, 16, "Hi There", 8,
		  "9294727a3638bb1c13f48ef8158bfc9d");
	check_mac(REG_ALG_HMAC_MD5, (const uint8_t *)"Jefe", 4,
		  "what do ya want for nothing?", 28,
		  "750c783e6ab0b503eaa86e310a5db738");
	memset(k, 0xaa, 16);
	memset(d, 0xdd, 50);
	check_mac(REG_ALG_HMAC_MD5, k, 16, d, 50,
		  "56be34521d144c88dbb8c733f0e8b3f6");
	for (int i = 0; i < 25; i++)
		k[i] = (uint8_t)(i + 1);
	memset(d, 0xcd, 50);
	check_mac(REG_ALG_HMAC_MD5, k, 25, d, 50,
		  "697eaf0aca3a3aea3a75164746ffaa79");
	memset(k, 0x0c, 16);
	check_mac(REG_ALG_HMAC_MD5, k, 16, "Test With Truncation", 20,
		  "56461ef2342edc00f9bab995690efd4c");
	memset(k, 0xaa, 80);
	check_mac(REG_ALG_HMAC_MD5, k, 80,
		  "Test Using Larger Than Block-Size Key - Hash Key First", 54,
		  "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd");
	check_mac(REG_ALG_HMAC_MD5, k, 80,
		  "Test Using Larger Than Block-Size Key and Larger Than One "
		  "Block-Size Data",
		  73, "6f630fad67cda0ee1fb1f562db3aa53e");
}

/* RFC 2002 prefix+suffix: MD5(key | data | key). */
static void keyed_md5_prefix_suffix(void **state)
{
	/* empty key: plain MD5, RFC 1321 A.5 "abc" */
	check_mac(REG_ALG_KEYED_MD5, NULL, 0, "abc", 3,
		  "900150983cd24fb0d6963f7d28e17f72");
	/* = MD5("keymessage digestkey"), computed with `openssl md5` */
	check_mac(REG_ALG_KEYED_MD5, (const uint8_t *)"key", 3,
		  "message digest", 14, "39ef423fd6796acb5f442e9f05adfeed");
	/* differs from HMAC with the same key */
	{
		struct reg_sa a = {.alg = REG_ALG_KEYED_MD5,
				   .key = (const uint8_t *)"k",
				   .key_len = 1};
		struct reg_sa h = a;
		uint8_t x[16], y[16];

		h.alg = REG_ALG_HMAC_MD5;
		reg_auth_compute(&a, "data", 4, x);
		reg_auth_compute(&h, "data", 4, y);
		assert_memory_not_equal(x, y, 16);
	}
}

/* Keys of any length: the SA points at its owner's bytes.  HMAC (RFC 2104
 * 2) hashes a key longer than the 64-byte block first, so a 300-byte key
 * must give what its MD5 gives; a 64-byte key is used as is. */
static void long_keys(void **state)
{
	static const char data[] = "registration request bytes";
	uint8_t big[300], digest[16], a[16], b[16];
	struct reg_sa sa = {.spi = 0x100, .alg = REG_ALG_HMAC_MD5};
	struct reg_sa md = sa;
	unsigned dl = 0;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 29 + 3);
	assert_int_equal(
	    EVP_Digest(big, sizeof(big), digest, &dl, EVP_md5(), NULL), 1);
	sa.key = big;
	sa.key_len = sizeof(big);
	md.key = digest;
	md.key_len = sizeof(digest);
	assert_int_equal(reg_auth_compute(&sa, data, sizeof(data), a), 0);
	assert_int_equal(reg_auth_compute(&md, data, sizeof(data), b), 0);
	assert_memory_equal(a, b, 16);
	/* 64 bytes: a different MAC from the 300-byte key's, and stable */
	sa.key_len = 64;
	assert_int_equal(reg_auth_compute(&sa, data, sizeof(data), b), 0);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(reg_auth_compute(&sa, data, sizeof(data), a), 0);
	assert_memory_equal(a, b, 16);
	/* a length without bytes is refused, not read through NULL */
	sa.key = NULL;
	assert_int_equal(reg_auth_compute(&sa, data, sizeof(data), a), -1);
}

static void auth_verify_flips(void **state)
{
	uint8_t buf[BUF];
	struct reg_msg m;
	struct reg_sa wrong[NSA];
	uint8_t wrong_key[16];
	size_t n, off;

	n = build_full_rrq(buf, sizeof(buf), &off);
	/* every byte the MN-HA authenticator covers, and itself */
	for (size_t i = 0; i < off + MIP4_AUTH_HDR_LEN + 16; i++) {
		buf[i] ^= 0x01;
		if (reg_parse(&m, buf, n) == REG_OK)
			assert_int_not_equal(
			    reg_auth_verify(&m, &m.mnha, test_sas, NSA),
			    REG_AUTH_OK);
		buf[i] ^= 0x01;
	}
	/* after it: MN-HA still fine, MN-FA catches it */
	buf[n - 1] ^= 0x80;
	assert_int_equal(reg_parse(&m, buf, n), REG_OK);
	assert_int_equal(reg_auth_verify(&m, &m.mnha, test_sas, NSA),
			 REG_AUTH_OK);
	assert_int_equal(reg_auth_verify(&m, &m.mnfa, test_sas, NSA),
			 REG_AUTH_FAIL);
	buf[n - 1] ^= 0x80;
	/* wrong key, unknown SPI, no extension */
	memcpy(wrong, test_sas, sizeof(wrong));
	memcpy(wrong_key, test_sas[0].key, sizeof(wrong_key));
	wrong_key[0] ^= 1;
	wrong[0].key = wrong_key;
	assert_int_equal(reg_parse(&m, buf, n), REG_OK);
	assert_int_equal(reg_auth_verify(&m, &m.mnha, wrong, NSA),
			 REG_AUTH_FAIL);
	assert_int_equal(reg_auth_verify(&m, &m.mnha, test_sas + 1, NSA - 1),
			 REG_AUTH_NO_SA);
	assert_int_equal(reg_auth_verify(&m, NULL, test_sas, NSA),
			 REG_AUTH_NO_SA);
	assert_non_null(strstr(reg_auth_result_name(REG_AUTH_FAIL), "key"));
	assert_ptr_equal(reg_sa_find(test_sas, NSA, 0x2000), &test_sas[2]);
}

/* --- identification --- */

#define SEC(s) ((uint64_t)(s) << 32)

static void ntp_conversion(void **state)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 500000000};
	uint64_t now;

	assert_true(reg_ntp_from_timespec(&ts, 0) ==
		    (SEC(2208988800u) | 0x80000000u));
	assert_true(reg_ntp_from_timespec(&ts, 3) ==
		    (SEC(2208988800u) | 0x80000003u));
	/* 2036-02-07 06:28:16 UTC: NTP era 1 starts at second 0 again */
	ts.tv_sec = 2085978496;
	ts.tv_nsec = 0;
	assert_true(reg_ntp_from_timespec(&ts, 0) == 0);
	now = reg_ntp_now();
	assert_true((now >> 32) > 3900000000u); /* after 2023 */
}

static void replay_window(void **state)
{
	uint64_t now = SEC(3900000000u) + 0x1234;
	struct reg_replay st = {0};

	assert_int_equal(reg_ts_check(&st, now, now, 0), REG_ID_OK);
	assert_int_equal(reg_ts_check(&st, now + SEC(6), now, 0), REG_ID_OK);
	assert_int_equal(reg_ts_check(&st, now - SEC(7), now, 0), REG_ID_OK);
	assert_int_equal(reg_ts_check(&st, now + SEC(7) + 1, now, 0),
			 REG_ID_MISMATCH);
	assert_int_equal(reg_ts_check(&st, now - SEC(8), now, 0),
			 REG_ID_MISMATCH);
	assert_int_equal(reg_ts_check(&st, now - SEC(8), now, 10), REG_ID_OK);
	/* equal to, or older than, the last accepted: replay */
	reg_id_accept(&st, now);
	assert_int_equal(reg_ts_check(&st, now, now, 0), REG_ID_REPLAY);
	assert_int_equal(reg_ts_check(&st, now - 1, now, 0), REG_ID_REPLAY);
	assert_int_equal(reg_ts_check(&st, now + 1, now, 0), REG_ID_OK);
	/* across the 2036 rollover the window still holds */
	assert_int_equal(reg_ts_check(NULL, SEC(2), SEC(0xffffffffu), 0),
			 REG_ID_OK);
}

static void mismatch_and_resync(void **state)
{
	uint64_t mn_now = SEC(3900000000u) + 0xabcd;
	uint64_t ha_now = mn_now + SEC(100);
	uint64_t req = mn_now, rep;
	int64_t off;

	assert_int_equal(reg_ts_check(NULL, req, ha_now, 0), REG_ID_MISMATCH);
	rep = reg_ts_mismatch_id(req, ha_now);
	assert_int_equal((uint32_t)(rep >> 32), (uint32_t)(ha_now >> 32));
	assert_int_equal((uint32_t)rep, (uint32_t)req);
	assert_int_equal(reg_ts_resync(req, rep, mn_now, &off), 0);
	assert_int_equal(off, 100);
	/* the next request, on the corrected clock, passes */
	assert_int_equal(reg_ts_check(NULL, mn_now + SEC(off) + 1, ha_now, 0),
			 REG_ID_OK);
	/* a reply that does not echo our low bits is not ours */
	assert_int_equal(reg_ts_resync(req, rep ^ 1, mn_now, &off), -1);
	assert_false(reg_id_reply_matches(req, rep ^ 1));
}

static void nonce_mode(void **state)
{
	struct reg_replay st = {0};
	uint64_t rep;

	/* no nonce given yet: 133, which hands one out */
	assert_int_equal(reg_nonce_check(&st, 0x1111111122222222ULL),
			 REG_ID_MISMATCH);
	reg_nonce_set(&st, 0xcafef00d);
	rep = reg_nonce_reply_id(&st, 0x1111111122222222ULL);
	assert_true(rep == 0xcafef00d22222222ULL);
	assert_int_equal(reg_nonce_check(&st, 0xcafef00d33333333ULL),
			 REG_ID_OK);
	reg_nonce_set(&st, 0x0badcafe);
	/* the old HA nonce is spent; a mismatch is answered with the
	 * current nonce, which stays */
	assert_int_equal(reg_nonce_check(&st, 0xcafef00d33333333ULL),
			 REG_ID_MISMATCH);
	rep = reg_nonce_reply_id(&st, 0xcafef00d44444444ULL);
	assert_true(rep == 0x0badcafe44444444ULL);
	assert_int_equal(reg_nonce_check(&st, 0x0badcafe55555555ULL),
			 REG_ID_OK);
}

static void names(void **state)
{
	for (int e = REG_OK; e <= REG_ENOSPACE; e++)
		assert_string_not_equal(reg_err_name(e), "?");
	assert_string_equal(reg_err_name(99), "?");
	assert_string_equal(reg_ext_name(32), "MN-HA auth");
	assert_string_equal(reg_ext_name(250), "skippable");
	assert_string_equal(reg_ext_name(100), "unknown");
	assert_non_null(strstr(reg_code_name(133), "identification"));
	assert_non_null(strstr(reg_code_name(150), "unknown"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rrq_every_flag),
	    cmocka_unit_test(rrq_every_extension),
	    cmocka_unit_test(rrp_every_code_and_extension),
	    cmocka_unit_test(udp_req_in_reply_skipped),
	    cmocka_unit_test(rrq_truncated),
	    cmocka_unit_test(wrong_type),
	    cmocka_unit_test(ext_length_overrun),
	    cmocka_unit_test(unknown_below_128_discards),
	    cmocka_unit_test(unknown_above_127_skipped),
	    cmocka_unit_test(auth_bad_lengths),
	    cmocka_unit_test(auth_order_and_duplicates),
	    cmocka_unit_test(too_many_extensions),
	    cmocka_unit_test(builder_no_space),
	    cmocka_unit_test(adv_roundtrip),
	    cmocka_unit_test(adv_padding_and_skippable),
	    cmocka_unit_test(adv_malformed),
	    cmocka_unit_test(sol_roundtrip),
	    cmocka_unit_test(checksum_rfc1071),
	    cmocka_unit_test(hmac_md5_rfc2202),
	    cmocka_unit_test(keyed_md5_prefix_suffix),
	    cmocka_unit_test(long_keys),
	    cmocka_unit_test(auth_verify_flips),
	    cmocka_unit_test(ntp_conversion),
	    cmocka_unit_test(replay_window),
	    cmocka_unit_test(mismatch_and_resync),
	    cmocka_unit_test(nonce_mode),
	    cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
