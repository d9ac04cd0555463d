/*
 * json.c - strict RFC 8259 parser into a fixed token array, and a writer.
 *
 * The parser reads only text[0..len): control lines are not NUL-terminated
 * and may hold arbitrary bytes.  Strings are validated completely while
 * parsing (escapes, surrogate pairs, UTF-8), so json_str() on a parsed
 * document can only fail on an embedded NUL or a short output buffer.
 */
#include "common/json.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	struct json_doc *d;
	size_t pos;
	unsigned depth;
};

static int parse_value(struct parser *p);

static int fail(struct parser *p, const char *msg)
{
	if (!p->d->error) {
		p->d->error = msg;
		p->d->error_at = p->pos;
	}
	return -1;
}

/* Current byte, or -1 at the end of the text. */
static int cur(const struct parser *p)
{
	return p->pos < p->d->len ? (unsigned char)p->d->text[p->pos] : -1;
}

static void skip_ws(struct parser *p)
{
	int c;

	while ((c = cur(p)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		p->pos++;
}

static int new_tok(struct parser *p, enum json_type type)
{
	struct json_doc *d = p->d;
	struct json_tok *t;

	if (d->ntok >= d->cap)
		return fail(p, "too many values");
	t = &d->tok[d->ntok];
	t->type = type;
	t->start = t->end = (uint32_t)p->pos;
	t->size = 0;
	t->next = d->ntok + 1;
	return (int)d->ntok++;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if none:
 * overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The four hex digits at text[at..], bounded by end; -1 if not there. */
static long hex4(const char *text, size_t at, size_t end)
{
	long v = 0;

	if (end < 4 || at > end - 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		int h = hexval((unsigned char)text[at + i]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* Decodes the \uXXXX escape (or surrogate pair) at text[at] = '\\'.
 * Returns the code point and sets *used, or -1 with *why set. */
static long decode_u(const char *text, size_t at, size_t end, size_t *used,
		     const char **why)
{
	long hi = hex4(text, at + 2, end), lo;

	*why = "invalid \\u escape";
	if (hi < 0)
		return -1;
	*used = 6;
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		*why = "lone low surrogate";
		return -1;
	}
	if (hi < 0xd800 || hi > 0xdbff)
		return hi;
	*why = "high surrogate without a low one";
	if (at + 7 >= end || text[at + 6] != '\\' || text[at + 7] != 'u')
		return -1;
	lo = hex4(text, at + 8, end);
	if (lo < 0xdc00 || lo > 0xdfff)
		return -1;
	*used = 12;
	return 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
}

static int scan_escape(struct parser *p)
{
	const char *why;
	size_t used;
	int e;

	p->pos++;
	e = cur(p);
	if (e > 0 && strchr("\"\\/bfnrt", e)) {
		p->pos++;
		return 0;
	}
	if (e != 'u') {
		p->pos--;
		return fail(p, "invalid escape");
	}
	p->pos--;
	if (decode_u(p->d->text, p->pos, p->d->len, &used, &why) < 0)
		return fail(p, why);
	p->pos += used;
	return 0;
}

static int parse_string(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->d->text;
	int t = new_tok(p, JSON_STRING);
	int c;

	if (t < 0)
		return -1;
	p->d->tok[t].start = (uint32_t)++p->pos;
	while ((c = cur(p)) != '"') {
		if (c < 0)
			return fail(p, "unterminated string");
		if (c < 0x20)
			return fail(p, "control character in string");
		if (c == '\\') {
			if (scan_escape(p) < 0)
				return -1;
		} else {
			size_t n = utf8_seq(s + p->pos, p->d->len - p->pos);

			if (!n)
				return fail(p, "invalid UTF-8 in string");
			p->pos += n;
		}
	}
	p->d->tok[t].end = (uint32_t)p->pos++;
	return 0;
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int digits(struct parser *p, const char *msg)
{
	if (!is_digit(cur(p)))
		return fail(p, msg);
	while (is_digit(cur(p)))
		p->pos++;
	return 0;
}

static int parse_number(struct parser *p)
{
	int t = new_tok(p, JSON_NUMBER);

	if (t < 0)
		return -1;
	if (cur(p) == '-')
		p->pos++;
	if (cur(p) == '0') {
		p->pos++;
		if (is_digit(cur(p)))
			return fail(p, "leading zero in number");
	} else if (digits(p, "digit expected in number") < 0) {
		return -1;
	}
	if (cur(p) == '.') {
		p->pos++;
		if (digits(p, "digit expected after '.'") < 0)
			return -1;
	}
	if (cur(p) == 'e' || cur(p) == 'E') {
		p->pos++;
		if (cur(p) == '+' || cur(p) == '-')
			p->pos++;
		if (digits(p, "digit expected in exponent") < 0)
			return -1;
	}
	p->d->tok[t].end = (uint32_t)p->pos;
	return 0;
}

static int parse_literal(struct parser *p, const char *word,
			 enum json_type type)
{
	size_t n = strlen(word);
	int t;

	if (p->d->len - p->pos < n || memcmp(p->d->text + p->pos, word, n))
		return fail(p, "invalid literal");
	t = new_tok(p, type);
	if (t < 0)
		return -1;
	p->pos += n;
	p->d->tok[t].end = (uint32_t)p->pos;
	return 0;
}

/* One array element, or one object member (key ':' value). */
static int parse_member(struct parser *p, bool object)
{
	skip_ws(p);
	if (object) {
		if (cur(p) != '"')
			return fail(p, "string key expected");
		if (parse_string(p) < 0)
			return -1;
		skip_ws(p);
		if (cur(p) != ':')
			return fail(p, "':' expected after key");
		p->pos++;
		skip_ws(p);
	}
	return parse_value(p);
}

static int parse_container(struct parser *p, bool object)
{
	int close = object ? '}' : ']';
	int t = new_tok(p, object ? JSON_OBJECT : JSON_ARRAY);
	struct json_tok *tok;

	if (t < 0)
		return -1;
	if (++p->depth > JSON_MAX_DEPTH)
		return fail(p, "nesting too deep");
	p->pos++;
	skip_ws(p);
	tok = &p->d->tok[t];
	if (cur(p) != close) {
		for (;;) {
			if (parse_member(p, object) < 0)
				return -1;
			tok->size++;
			skip_ws(p);
			if (cur(p) != ',')
				break;
			p->pos++;
		}
		if (cur(p) != close)
			return fail(p, object ? "',' or '}' expected"
					      : "',' or ']' expected");
	}
	tok->end = (uint32_t)++p->pos;
	tok->next = p->d->ntok;
	p->depth--;
	return 0;
}

static int parse_value(struct parser *p)
{
	int c = cur(p);

	switch (c) {
	case '{':
		return parse_container(p, true);
	case '[':
		return parse_container(p, false);
	case '"':
		return parse_string(p);
	case 't':
		return parse_literal(p, "true", JSON_TRUE);
	case 'f':
		return parse_literal(p, "false", JSON_FALSE);
	case 'n':
		return parse_literal(p, "null", JSON_NULL);
	case -1:
		return fail(p, "value expected, end of input found");
	default:
		if (c == '-' || is_digit(c))
			return parse_number(p);
		return fail(p, "value expected");
	}
}

int json_parse(struct json_doc *d, const char *text, size_t len,
	       struct json_tok *toks, uint32_t cap)
{
	struct parser p = {.d = d};

	*d = (struct json_doc){
	    .text = text, .len = len, .tok = toks, .cap = cap};
	if (len >= UINT32_MAX)
		return fail(&p, "input too large");
	skip_ws(&p);
	if (cur(&p) < 0)
		return fail(&p, "empty input");
	if (parse_value(&p) == 0) {
		skip_ws(&p);
		if (cur(&p) < 0)
			return 0;
		fail(&p, "unexpected data after the value");
	}
	d->ntok = 0;
	return -1;
}

static const struct json_tok *tok_of(const struct json_doc *d, int t,
				     enum json_type type)
{
	if (t < 0 || (uint32_t)t >= d->ntok || d->tok[t].type != type)
		return NULL;
	return &d->tok[t];
}

static bool key_equals(const struct json_doc *d, int t, const char *key)
{
	const struct json_tok *k = &d->tok[t];
	size_t n = k->end - k->start;
	char buf[256];

	if (!memchr(d->text + k->start, '\\', n))
		return strlen(key) == n && !memcmp(d->text + k->start, key, n);
	return json_str(d, t, buf, sizeof(buf)) == 0 && !strcmp(buf, key);
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
	const struct json_tok *o = tok_of(d, obj, JSON_OBJECT);
	uint32_t i;

	if (!o)
		return -1;
	i = (uint32_t)obj + 1;
	for (uint32_t m = 0; m < o->size && i + 1 < d->ntok; m++) {
		if (key_equals(d, (int)i, key))
			return (int)i + 1;
		i = d->tok[i + 1].next;
	}
	return -1;
}

int json_at(const struct json_doc *d, int arr, uint32_t idx)
{
	const struct json_tok *a = tok_of(d, arr, JSON_ARRAY);
	uint32_t i;

	if (!a || idx >= a->size)
		return -1;
	i = (uint32_t)arr + 1;
	for (uint32_t n = 0; n < idx && i < d->ntok; n++)
		i = d->tok[i].next;
	return i < d->ntok ? (int)i : -1;
}

static size_t utf8_put(uint32_t cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes the escape at text[i] = '\\' into u (up to 4 bytes). */
static int unescape_one(const char *text, size_t i, size_t end, char *u,
			size_t *ulen, size_t *used)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *why, *e;
	long cp;

	if (i + 1 >= end)
		return -1;
	e = text[i + 1] ? strchr(from, text[i + 1]) : NULL;
	if (e) {
		u[0] = to[e - from];
		*ulen = 1;
		*used = 2;
		return 0;
	}
	if (text[i + 1] != 'u')
		return -1;
	cp = decode_u(text, i, end, used, &why);
	if (cp <= 0) /* \u0000 would cut the C string short */
		return -1;
	*ulen = utf8_put((uint32_t)cp, u);
	return 0;
}

int json_str(const struct json_doc *d, int t, char *out, size_t outsz)
{
	const struct json_tok *s = tok_of(d, t, JSON_STRING);
	size_t o = 0, i, used, ulen;
	char u[4];

	if (!s || outsz == 0)
		return -1;
	for (i = s->start; i < s->end; i += used) {
		if (d->text[i] == '\\') {
			if (unescape_one(d->text, i, s->end, u, &ulen, &used))
				return -1;
		} else {
			u[0] = d->text[i];
			ulen = used = 1;
			if (!u[0])
				return -1;
		}
		if (outsz - o <= ulen)
			return -1;
		memcpy(out + o, u, ulen);
		o += ulen;
	}
	out[o] = '\0';
	return 0;
}

int json_int(const struct json_doc *d, int t, long long *v)
{
	const struct json_tok *n = tok_of(d, t, JSON_NUMBER);
	unsigned long long acc = 0, lim = LLONG_MAX;
	bool neg;
	size_t i;

	if (!n)
		return -1;
	i = n->start;
	neg = i < n->end && d->text[i] == '-';
	i += neg;
	if (neg)
		lim = (unsigned long long)LLONG_MAX + 1;
	if (i >= n->end)
		return -1;
	for (; i < n->end; i++) {
		unsigned dig = (unsigned)(d->text[i] - '0');

		if (dig > 9 || acc > (lim - dig) / 10)
			return -1; /* fraction, exponent or overflow */
		acc = acc * 10 + dig;
	}
	*v = neg && acc ? -(long long)(acc - 1) - 1 : (long long)acc;
	return 0;
}

int json_bool(const struct json_doc *d, int t, bool *v)
{
	if (t < 0 || (uint32_t)t >= d->ntok)
		return -1;
	if (d->tok[t].type != JSON_TRUE && d->tok[t].type != JSON_FALSE)
		return -1;
	*v = d->tok[t].type == JSON_TRUE;
	return 0;
}

/* ---- writer ---- */

void jw_init(struct jw *w)
{
	*w = (struct jw){0};
	w->first[0] = true;
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	if (w->buf)
		w->buf[0] = '\0';
	w->failed = false;
	w->depth = 0;
	w->first[0] = true;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (n >= SIZE_MAX / 2 - w->len) {
		w->failed = true;
		return;
	}
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *b;

		while (cap < w->len + n + 1)
			cap *= 2;
		b = realloc(w->buf, cap);
		if (!b) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Invalid UTF-8 becomes U+FFFD so the output is always valid JSON, even
 * when a string came from the kernel or a peer. */
static void put_string(struct jw *w, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), run = 0, i = 0;
	char esc[8];

	put(w, "\"", 1);
	while (i < n) {
		size_t seq = utf8_seq(s + i, n - i);

		if (seq && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\') {
			i += seq;
			run += seq;
			continue;
		}
		put(w, (const char *)s + i - run, run);
		run = 0;
		if (!seq)
			put(w, "\\ufffd", 6);
		else if (s[i] == '"' || s[i] == '\\')
			put(w, (const char[]){'\\', (char)s[i]}, 2);
		else if (s[i] == '\n')
			put(w, "\\n", 2);
		else if (s[i] == '\t')
			put(w, "\\t", 2);
		else if (s[i] == '\r')
			put(w, "\\r", 2);
		else
			put(w, esc,
			    (size_t)snprintf(esc, sizeof(esc), "\\u%04x",
					     s[i]));
		i++;
	}
	put(w, (const char *)s + i - run, run);
	put(w, "\"", 1);
}

/* Comma before every member but the first, then the key if any. */
static void member(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			put(w, ",", 1);
		w->first[w->depth] = false;
	}
	if (key) {
		put_string(w, key);
		put(w, ":", 1);
	}
}

static void open_container(struct jw *w, const char *key, const char *c)
{
	member(w, key);
	put(w, c, 1);
	if (w->depth >= JSON_MAX_DEPTH) {
		w->failed = true;
		return;
	}
	w->first[++w->depth] = true;
}

static void close_container(struct jw *w, const char *c)
{
	if (w->depth == 0) {
		w->failed = true;
		return;
	}
	w->depth--;
	put(w, c, 1);
}

void jw_obj_begin(struct jw *w, const char *key)
{
	open_container(w, key, "{");
}

void jw_obj_end(struct jw *w)
{
	close_container(w, "}");
}

void jw_arr_begin(struct jw *w, const char *key)
{
	open_container(w, key, "[");
}

void jw_arr_end(struct jw *w)
{
	close_container(w, "]");
}

void jw_str(struct jw *w, const char *key, const char *v)
{
	member(w, key);
	if (v)
		put_string(w, v);
	else
		put(w, "null", 4);
}

void jw_int(struct jw *w, const char *key, long long v)
{
	char num[24];

	member(w, key);
	put(w, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

void jw_uint(struct jw *w, const char *key, unsigned long long v)
{
	char num[24];

	member(w, key);
	put(w, num, (size_t)snprintf(num, sizeof(num), "%llu", v));
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	member(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w, const char *key)
{
	member(w, key);
	put(w, "null", 4);
}

void jw_raw(struct jw *w, const char *key, const char *json, size_t len)
{
	member(w, key);
	put(w, json, len);
}

const char *jw_text(const struct jw *w)
{
	if (w->failed)
		return NULL;
	return w->buf ? w->buf : "";
}
