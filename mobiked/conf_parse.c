/*
 * conf_parse.c - the value syntax of mobiked.conf, with no config file
 * around it: strongSwan-style proposal strings ("aes256gcm16-prfsha384-
 * x25519"), identities and traffic selectors, and their log strings.
 * Only algorithms the crypto layer implements are accepted; every error
 * names the bad keyword and lists what to write instead.
 */
#include "mobiked/conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mobiked/crypto.h"
#include "mobiked/ikev2.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum kw_kind { KW_ENCR, KW_PRF, KW_INTEG, KW_DH, KW_ESN, KW_NKIND };

static const char *const kind_names[KW_NKIND] = {
    "encryption", "PRF", "integrity", "DH group", "ESN setting",
};

struct kw {
	const char *name;
	uint8_t kind;
	bool alias; /* not listed in suggestions */
	uint16_t id, bits;
};

static const struct kw kws[] = {
    {"aes128", KW_ENCR, false, IKE_ENCR_AES_CBC, 128},
    {"aes192", KW_ENCR, false, IKE_ENCR_AES_CBC, 192},
    {"aes256", KW_ENCR, false, IKE_ENCR_AES_CBC, 256},
    {"aes128gcm16", KW_ENCR, false, IKE_ENCR_AES_GCM_16, 128},
    {"aes192gcm16", KW_ENCR, false, IKE_ENCR_AES_GCM_16, 192},
    {"aes256gcm16", KW_ENCR, false, IKE_ENCR_AES_GCM_16, 256},
    {"aes128gcm128", KW_ENCR, true, IKE_ENCR_AES_GCM_16, 128},
    {"aes192gcm128", KW_ENCR, true, IKE_ENCR_AES_GCM_16, 192},
    {"aes256gcm128", KW_ENCR, true, IKE_ENCR_AES_GCM_16, 256},
    {"sha1", KW_INTEG, false, IKE_INTEG_HMAC_SHA1_96, 0},
    {"sha256", KW_INTEG, false, IKE_INTEG_HMAC_SHA2_256_128, 0},
    {"sha384", KW_INTEG, false, IKE_INTEG_HMAC_SHA2_384_192, 0},
    {"sha512", KW_INTEG, false, IKE_INTEG_HMAC_SHA2_512_256, 0},
    {"prfsha1", KW_PRF, false, IKE_PRF_HMAC_SHA1, 0},
    {"prfsha256", KW_PRF, false, IKE_PRF_HMAC_SHA2_256, 0},
    {"prfsha384", KW_PRF, false, IKE_PRF_HMAC_SHA2_384, 0},
    {"prfsha512", KW_PRF, false, IKE_PRF_HMAC_SHA2_512, 0},
    {"modp2048", KW_DH, false, IKE_DH_MODP2048, 0},
    {"modp3072", KW_DH, false, IKE_DH_MODP3072, 0},
    {"modp4096", KW_DH, false, IKE_DH_MODP4096, 0},
    {"ecp256", KW_DH, false, IKE_DH_ECP256, 0},
    {"ecp384", KW_DH, false, IKE_DH_ECP384, 0},
    {"ecp521", KW_DH, false, IKE_DH_ECP521, 0},
    {"x25519", KW_DH, false, IKE_DH_CURVE25519, 0},
    {"curve25519", KW_DH, true, IKE_DH_CURVE25519, 0},
    {"esn", KW_ESN, false, IKE_ESN_YES, 0},
    {"noesn", KW_ESN, false, IKE_ESN_NO, 0},
};

/* Words that tell which kind an unknown keyword was meant to be. */
static const struct {
	const char *prefix;
	uint8_t kind;
} kind_hints[] = {
    {"prf", KW_PRF},	 {"aes", KW_ENCR},	{"3des", KW_ENCR},
    {"chacha", KW_ENCR}, {"camellia", KW_ENCR}, {"sha", KW_INTEG},
    {"md5", KW_INTEG},	 {"modp", KW_DH},	{"ecp", KW_DH},
    {"curve", KW_DH},	 {"x448", KW_DH},	{"x2", KW_DH},
};

static bool kw_supported(const struct kw *k)
{
	switch (k->kind) {
	case KW_ENCR:
		return encr_alg_find(k->id, k->bits) != NULL;
	case KW_PRF:
		return prf_alg_find(k->id) != NULL;
	case KW_INTEG:
		return integ_alg_find(k->id) != NULL;
	case KW_DH:
		return dh_supported(k->id);
	default:
		return true;
	}
}

/* "a, b, c or d": the supported keywords of one kind. */
static const char *kind_list(int kind, char *buf, size_t n)
{
	const char *last = NULL;
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NELEM(kws); i++) {
		if (kws[i].kind != kind || kws[i].alias ||
		    !kw_supported(&kws[i]))
			continue;
		if (last && off < n)
			off += (size_t)snprintf(buf + off, n - off, "%s%s",
						off ? ", " : "", last);
		last = kws[i].name;
	}
	if (last && off < n)
		snprintf(buf + off, n - off, "%s%s", off ? " or " : "", last);
	return buf;
}

static void err_unknown(const char *w, char *err, size_t errlen)
{
	char l[5][160];

	for (size_t i = 0; i < NELEM(kind_hints); i++) {
		if (strncmp(w, kind_hints[i].prefix,
			    strlen(kind_hints[i].prefix)) == 0) {
			snprintf(
			    err, errlen, "unknown %s '%s'; use %s",
			    kind_names[kind_hints[i].kind], w,
			    kind_list(kind_hints[i].kind, l[0], sizeof(l[0])));
			return;
		}
	}
	for (int k = 0; k < KW_NKIND; k++)
		kind_list(k, l[k], sizeof(l[k]));
	snprintf(err, errlen,
		 "unknown keyword '%s'; use encryption %s; integrity %s; "
		 "PRF %s; DH group %s; ESP only: %s",
		 w, l[KW_ENCR], l[KW_INTEG], l[KW_PRF], l[KW_DH], l[KW_ESN]);
}

/* The keywords of s, at most one per kind. */
static int split_words(const char *s, const struct kw *k[KW_NKIND], char *err,
		       size_t errlen)
{
	char buf[CONF_PROPOSAL_STRLEN], *w, *next;
	size_t i;

	memset(k, 0, KW_NKIND * sizeof(k[0]));
	if (strlen(s) >= sizeof(buf)) {
		snprintf(err, errlen, "too long; at most %zu characters",
			 sizeof(buf) - 1);
		return -1;
	}
	strcpy(buf, s);
	for (w = buf; w; w = next) {
		next = strchr(w, '-');
		if (next)
			*next++ = '\0';
		if (!*w) {
			snprintf(err, errlen,
				 "empty keyword; write keywords "
				 "joined by '-', e.g. "
				 "\"aes256gcm16-prfsha384-x25519\"");
			return -1;
		}
		for (i = 0; i < NELEM(kws) && strcmp(kws[i].name, w); i++)
			;
		if (i == NELEM(kws)) {
			err_unknown(w, err, errlen);
			return -1;
		}
		if (!kw_supported(&kws[i])) {
			snprintf(err, errlen,
				 "'%s' is not supported by this "
				 "build; pick another %s",
				 w, kind_names[kws[i].kind]);
			return -1;
		}
		if (k[kws[i].kind]) {
			snprintf(err, errlen,
				 "two %s keywords ('%s' and '%s'); use one of "
				 "each kind per proposal and list alternatives "
				 "as separate proposals",
				 kind_names[kws[i].kind], k[kws[i].kind]->name,
				 w);
			return -1;
		}
		k[kws[i].kind] = &kws[i];
	}
	return 0;
}

/* Encryption and integrity rules shared by IKE and ESP. */
static int check_cipher(const struct kw *k[KW_NKIND], bool ike, char *err,
			size_t errlen)
{
	char l[160];

	if (!k[KW_ENCR]) {
		snprintf(err, errlen, "no encryption keyword; start with %s",
			 kind_list(KW_ENCR, l, sizeof(l)));
		return -1;
	}
	if (!encr_alg_find(k[KW_ENCR]->id, k[KW_ENCR]->bits)->aead) {
		if (k[KW_INTEG])
			return 0;
		snprintf(err, errlen,
			 "'%s' (CBC) needs an integrity keyword; "
			 "add %s",
			 k[KW_ENCR]->name, kind_list(KW_INTEG, l, sizeof(l)));
		return -1;
	}
	if (!k[KW_INTEG])
		return 0;
	if (ike)
		snprintf(err, errlen,
			 "'%s' is AEAD and needs no integrity "
			 "keyword; remove '%s' (for the PRF write "
			 "'prf%s')",
			 k[KW_ENCR]->name, k[KW_INTEG]->name,
			 k[KW_INTEG]->name);
	else
		snprintf(err, errlen,
			 "'%s' is AEAD and needs no integrity "
			 "keyword; remove '%s'",
			 k[KW_ENCR]->name, k[KW_INTEG]->name);
	return -1;
}

/* CBC without prf*: the PRF follows the integrity hash (strongSwan). */
static uint16_t prf_from_integ(uint16_t integ)
{
	switch (integ) {
	case IKE_INTEG_HMAC_SHA1_96:
		return IKE_PRF_HMAC_SHA1;
	case IKE_INTEG_HMAC_SHA2_384_192:
		return IKE_PRF_HMAC_SHA2_384;
	case IKE_INTEG_HMAC_SHA2_512_256:
		return IKE_PRF_HMAC_SHA2_512;
	default:
		return IKE_PRF_HMAC_SHA2_256;
	}
}

int proposal_parse_ike(const char *s, struct ike_proposal_conf *p, char *err,
		       size_t errlen)
{
	const struct kw *k[KW_NKIND];
	char l[160];

	if (split_words(s, k, err, errlen) < 0 ||
	    check_cipher(k, true, err, errlen) < 0)
		return -1;
	if (k[KW_ESN]) {
		snprintf(err, errlen,
			 "'%s' applies to ESP proposals only; "
			 "remove it",
			 k[KW_ESN]->name);
		return -1;
	}
	if (!k[KW_PRF] && !k[KW_INTEG]) {
		snprintf(err, errlen, "AEAD '%s' needs a PRF; add %s",
			 k[KW_ENCR]->name, kind_list(KW_PRF, l, sizeof(l)));
		return -1;
	}
	if (!k[KW_DH]) {
		snprintf(err, errlen, "no DH group; add %s",
			 kind_list(KW_DH, l, sizeof(l)));
		return -1;
	}
	p->encr = k[KW_ENCR]->id;
	p->encr_bits = k[KW_ENCR]->bits;
	p->integ = k[KW_INTEG] ? k[KW_INTEG]->id : IKE_INTEG_NONE;
	p->prf = k[KW_PRF] ? k[KW_PRF]->id : prf_from_integ(p->integ);
	p->dh = k[KW_DH]->id;
	return 0;
}

int proposal_parse_esp(const char *s, struct esp_proposal_conf *p, char *err,
		       size_t errlen)
{
	const struct kw *k[KW_NKIND];

	if (split_words(s, k, err, errlen) < 0)
		return -1;
	if (k[KW_PRF]) {
		snprintf(err, errlen,
			 "'%s' applies to IKE proposals only; "
			 "remove it",
			 k[KW_PRF]->name);
		return -1;
	}
	if (check_cipher(k, false, err, errlen) < 0)
		return -1;
	p->encr = k[KW_ENCR]->id;
	p->encr_bits = k[KW_ENCR]->bits;
	p->integ = k[KW_INTEG] ? k[KW_INTEG]->id : IKE_INTEG_NONE;
	p->dh = k[KW_DH] ? k[KW_DH]->id : IKE_DH_NONE;
	p->esn = k[KW_ESN] && k[KW_ESN]->id == IKE_ESN_YES;
	return 0;
}

static const char *dh_name(uint16_t dh)
{
	switch (dh) {
	case IKE_DH_MODP2048:
		return "MODP_2048";
	case IKE_DH_MODP3072:
		return "MODP_3072";
	case IKE_DH_MODP4096:
		return "MODP_4096";
	case IKE_DH_ECP256:
		return "ECP_256";
	case IKE_DH_ECP384:
		return "ECP_384";
	case IKE_DH_ECP521:
		return "ECP_521";
	case IKE_DH_CURVE25519:
		return "CURVE_25519";
	default:
		return "DH_UNKNOWN";
	}
}

static const char *encr_name(uint16_t id, uint16_t bits)
{
	const struct encr_alg *a = encr_alg_find(id, bits);

	return a ? a->name : "ENCR_UNKNOWN";
}

/* "/HMAC_SHA2_256_128", or "" for none. */
static const char *integ_name(uint16_t id, char *buf, size_t n)
{
	const struct integ_alg *a = integ_alg_find(id);

	snprintf(buf, n, "%s%s", id ? "/" : "",
		 id ? (a ? a->name : "INTEG_UNKNOWN") : "");
	return buf;
}

const char *proposal_str_ike(const struct ike_proposal_conf *p, char *buf,
			     size_t n)
{
	const struct prf_alg *prf = prf_alg_find(p->prf);
	char integ[32];

	snprintf(buf, n, "%s%s/%s/%s", encr_name(p->encr, p->encr_bits),
		 integ_name(p->integ, integ, sizeof(integ)),
		 prf ? prf->name : "PRF_UNKNOWN", dh_name(p->dh));
	return buf;
}

const char *proposal_str_esp(const struct esp_proposal_conf *p, char *buf,
			     size_t n)
{
	char integ[32];

	snprintf(buf, n, "%s%s%s%s/%s", encr_name(p->encr, p->encr_bits),
		 integ_name(p->integ, integ, sizeof(integ)), p->dh ? "/" : "",
		 p->dh ? dh_name(p->dh) : "",
		 p->esn ? "EXT_SEQ" : "NO_EXT_SEQ");
	return buf;
}

/* ---- traffic selectors ---- */

static int parse_range(const char *s, struct ts_conf *ts)
{
	char a[IPADDR_STRLEN + 8];
	const char *dash = strchr(s, '-');
	size_t n = dash ? (size_t)(dash - s) : 0;

	if (!dash || n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	if (ipaddr_parse(&ts->start, a) < 0 || ipaddr_parse(&ts->end, dash + 1))
		return -1;
	if (ts->start.family != ts->end.family ||
	    memcmp(ts->start.b, ts->end.b, ipaddr_len(&ts->start)) > 0)
		return -1;
	return 0;
}

static int parse_prefix(const char *s, struct ts_conf *ts)
{
	unsigned plen;

	if (ipprefix_parse(&ts->start, &plen, s) < 0)
		return -1;
	ts->end = ts->start;
	for (size_t i = 0; i < ipaddr_len(&ts->start); i++) {
		unsigned bits = plen > 8 * i ? plen - 8 * (unsigned)i : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		ts->start.b[i] &= mask;
		ts->end.b[i] |= (uint8_t)~mask;
	}
	return 0;
}

static int parse_proto(const char *s, uint8_t *proto)
{
	static const struct {
		const char *name;
		uint8_t num;
	} protos[] = {{"icmp", 1},    {"tcp", 6},	 {"udp", 17},
		      {"icmpv6", 58}, {"ipv6-icmp", 58}, {"sctp", 132}};
	char *end;
	unsigned long v;

	for (size_t i = 0; i < NELEM(protos); i++)
		if (strcmp(s, protos[i].name) == 0)
			return *proto = protos[i].num, 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || v > 255)
		return -1;
	*proto = (uint8_t)v;
	return 0;
}

static int parse_port(const char *s, uint16_t *out, char **end)
{
	unsigned long v = strtoul(s, end, 10);

	if (!isdigit((unsigned char)*s) || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "tcp", "udp/53", "tcp/1024-2047" (the text between '[' and ']'). */
static int parse_proto_ports(char *s, struct ts_conf *ts)
{
	char *slash = strchr(s, '/'), *end;

	if (slash)
		*slash++ = '\0';
	if (parse_proto(s, &ts->proto) < 0)
		return -1;
	if (!slash)
		return 0;
	if (parse_port(slash, &ts->port_lo, &end) < 0)
		return -1;
	ts->port_hi = ts->port_lo;
	if (*end == '-' && parse_port(end + 1, &ts->port_hi, &end) < 0)
		return -1;
	return *end || ts->port_lo > ts->port_hi ? -1 : 0;
}

int ts_parse(const char *s, struct ts_conf *ts)
{
	char buf[2 * IPADDR_STRLEN + 32], *br;

	memset(ts, 0, sizeof(*ts));
	ts->port_hi = 65535;
	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	br = strchr(buf, '[');
	if (br) {
		size_t n = strlen(br);

		if (n < 3 || br[n - 1] != ']')
			return -1;
		br[n - 1] = '\0';
		*br++ = '\0';
		if (parse_proto_ports(br, ts) < 0)
			return -1;
	}
	return strchr(buf, '-') ? parse_range(buf, ts) : parse_prefix(buf, ts);
}

/* ---- identities ---- */

int hex_parse(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	if (n == 0 || n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		char h[3] = {s[i], s[i + 1], '\0'}, *end;

		if (!isxdigit((unsigned char)h[0]) ||
		    !isxdigit((unsigned char)h[1]))
			return -1;
		out[i / 2] = (uint8_t)strtoul(h, &end, 16);
	}
	*len = n / 2;
	return 0;
}

static int id_set(struct id_conf *id, uint8_t type, const char *data)
{
	struct ipaddr a;

	id->type = type;
	if (type == IKE_ID_KEY_ID && data[0] == '#')
		return hex_parse(data + 1, id->data, sizeof(id->data),
				 &id->len);
	if (type == IKE_ID_IPV4_ADDR || type == IKE_ID_IPV6_ADDR) {
		if (ipaddr_parse(&a, data) < 0 ||
		    (a.family == AF_INET) != (type == IKE_ID_IPV4_ADDR))
			return -1;
		id->len = ipaddr_len(&a);
		memcpy(id->data, a.b, id->len);
		return 0;
	}
	id->len = strlen(data);
	if (id->len == 0 || id->len > sizeof(id->data))
		return -1;
	memcpy(id->data, data, id->len);
	return 0;
}

/* No prefix: an address, user@fqdn (email), "@fqdn" or an FQDN. */
static int id_auto(struct id_conf *id, const char *s)
{
	struct ipaddr a;

	if (ipaddr_parse(&a, s) == 0)
		return id_set(id,
			      a.family == AF_INET ? IKE_ID_IPV4_ADDR
						  : IKE_ID_IPV6_ADDR,
			      s);
	if (s[0] == '@')
		return id_set(id, s[1] == '#' ? IKE_ID_KEY_ID : IKE_ID_FQDN,
			      s + 1);
	return id_set(id, strchr(s, '@') ? IKE_ID_RFC822_ADDR : IKE_ID_FQDN, s);
}

static const struct {
	const char *prefix;
	uint8_t type;
} id_prefixes[] = {
    {"fqdn:", IKE_ID_FQDN},	     {"email:", IKE_ID_RFC822_ADDR},
    {"rfc822:", IKE_ID_RFC822_ADDR}, {"userfqdn:", IKE_ID_RFC822_ADDR},
    {"ipv4:", IKE_ID_IPV4_ADDR},     {"ipv6:", IKE_ID_IPV6_ADDR},
    {"keyid:", IKE_ID_KEY_ID},
};

int id_parse(const char *s, struct id_conf *id, char *err, size_t errlen)
{
	const char *colon = strchr(s, ':');
	struct ipaddr a;

	for (size_t i = 0; i < NELEM(id_prefixes); i++) {
		size_t n = strlen(id_prefixes[i].prefix);

		if (strncmp(s, id_prefixes[i].prefix, n) != 0)
			continue;
		if (id_set(id, id_prefixes[i].type, s + n) == 0)
			return 0;
		goto bad;
	}
	if (colon && ipaddr_parse(&a, s) < 0) {
		snprintf(err, errlen,
			 "unknown ID type prefix '%.*s:'; use "
			 "fqdn:, email:, ipv4:, ipv6:, keyid: or "
			 "none (auto-detect)",
			 (int)(colon - s < 32 ? colon - s : 32), s);
		return -1;
	}
	if (id_auto(id, s) == 0)
		return 0;
bad:
	snprintf(err, errlen,
		 "not a valid identity; write an FQDN "
		 "\"gw.example.com\", an email "
		 "\"me@example.com\", an address, or "
		 "\"keyid:#0a1b2c\"");
	return -1;
}

const char *id_conf_str(const struct id_conf *id, char *buf, size_t n)
{
	struct ipaddr a = {.family = id->type == IKE_ID_IPV4_ADDR ? AF_INET
								  : AF_INET6};
	char ab[IPADDR_STRLEN];
	size_t off;

	switch (id->type) {
	case IKE_ID_IPV4_ADDR:
	case IKE_ID_IPV6_ADDR:
		memcpy(a.b, id->data, id->len < 16 ? id->len : 16);
		snprintf(buf, n, "%s:%s", a.family == AF_INET ? "ipv4" : "ipv6",
			 ipaddr_str(&a, ab));
		return buf;
	case IKE_ID_FQDN:
	case IKE_ID_RFC822_ADDR:
		snprintf(buf, n, "%s:%.*s",
			 id->type == IKE_ID_FQDN ? "fqdn" : "email",
			 (int)id->len, (const char *)id->data);
		return buf;
	}
	off = (size_t)snprintf(buf, n, "%s:#",
			       id->type == IKE_ID_KEY_ID ? "keyid" : "id");
	for (size_t i = 0; i < id->len && off + 3 <= n; i++, off += 2)
		snprintf(buf + off, n - off, "%02x", id->data[i]);
	return buf;
}

const char *ts_conf_str(const struct ts_conf *ts, char *buf, size_t n)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	int off = snprintf(buf, n, "%s-%s", ipaddr_str(&ts->start, a),
			   ipaddr_str(&ts->end, b));

	if (off > 0 && (size_t)off < n && ts->proto)
		snprintf(buf + off, n - (size_t)off, "[%u/%u-%u]", ts->proto,
			 ts->port_lo, ts->port_hi);
	return buf;
}
