/*
 * fuzz_reg.c - the Mobile IPv4 codec on arbitrary input.  The first byte
 * picks the parser for the rest:
 *   0  Registration Request     1  Registration Reply
 *   2  Agent Advertisement      3  Agent Solicitation
 * Whatever parses must build back to the same bytes (abort otherwise; an
 * ICMP checksum may come back in its other form, 0xffff vs 0), and
 * a registration's auth extensions are verified against fixed SAs (those of
 * tests/unit/test_reg_msg.c, which writes seeds with REG_WRITE_CORPUS=DIR).
 * Any result code is fine; a crash, leak, UB report or broken round trip
 * is not.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "mipd/reg_auth.h"
#include "mipd/reg_msg.h"

#define BUF 70000

static const struct reg_sa sas[] = {
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
#define NSA (sizeof(sas) / sizeof(sas[0]))

static uint8_t out[BUF];

static void same(const uint8_t *data, size_t size, int rc, size_t n)
{
	if (rc != REG_OK || n != size || memcmp(out, data, size))
		abort();
}

/* ICMP: 0x0000 and 0xffff are the same one's complement checksum (RFC
 * 1624 3), so only require a valid one in the rebuilt message. */
static void same_icmp(const uint8_t *data, size_t size, int rc, size_t n)
{
	if (rc != REG_OK || n != size || reg_icmp_checksum(out, n) ||
	    memcmp(out, data, 2) || memcmp(out + 4, data + 4, size - 4))
		abort();
}

static void registration(const uint8_t *data, size_t size, bool reply)
{
	struct reg_msg m;
	struct wbuf w;
	size_t n = 0;
	int rc;

	rc = reply ? reg_parse_reply(&m, data, size)
		   : reg_parse_request(&m, data, size);
	(void)reg_err_name(rc);
	(void)reg_err_discard(rc);
	if (rc != REG_OK)
		return;
	wb_init(&w, out, sizeof(out));
	rc = reg_build_msg(&w, &m, &n);
	same(data, size, rc, n);
	(void)reg_auth_verify(&m, m.has_mnha ? &m.mnha : NULL, sas, NSA);
	(void)reg_auth_verify(&m, m.has_mnfa ? &m.mnfa : NULL, sas, NSA);
	(void)reg_auth_verify(&m, m.has_faha ? &m.faha : NULL, sas, NSA);
	for (uint8_t i = 0; i < m.next; i++) {
		(void)reg_mnha_covers(&m, &m.ext[i]);
		(void)reg_ext_name(m.ext[i].type);
	}
	(void)reg_code_name(m.rp.code);
}

static void advertisement(const uint8_t *data, size_t size)
{
	struct reg_adv a;
	struct wbuf w;
	size_t n = 0;
	int rc;

	if (reg_adv_parse(&a, data, size) != REG_OK)
		return;
	wb_init(&w, out, sizeof(out));
	rc = reg_adv_build(&w, &a, &n);
	same_icmp(data, size, rc, n);
}

static void solicitation(const uint8_t *data, size_t size)
{
	struct reg_sol s;
	struct wbuf w;
	size_t n = 0;
	int rc;

	if (reg_sol_parse(&s, data, size) != REG_OK)
		return;
	wb_init(&w, out, sizeof(out));
	rc = reg_sol_build(&w, &s, &n);
	same_icmp(data, size, rc, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size - 1 > BUF)
		return 0;
	switch (data[0] & 3) {
	case 0:
		registration(data + 1, size - 1, false);
		break;
	case 1:
		registration(data + 1, size - 1, true);
		break;
	case 2:
		advertisement(data + 1, size - 1);
		break;
	default:
		solicitation(data + 1, size - 1);
		break;
	}
	return 0;
}
