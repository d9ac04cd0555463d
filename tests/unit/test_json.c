/* test_json.c - the control channel's JSON: strict parsing, accessors,
 * unescaping, and the writer (escaping, commas, round trip). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

#define NTOK 64

static struct json_tok toks[NTOK];

/* Parses a NUL-free literal; the text is copied into an exact-size heap
 * buffer so ASan catches any read past len. */
static char *heap;

static int parse(struct json_doc *d, const char *text)
{
	size_t n = strlen(text);

	free(heap);
	heap = malloc(n ? n : 1);
	memcpy(heap, text, n);
	return json_parse(d, heap, n, toks, NTOK);
}

static int teardown(void **state)
{
	free(heap);
	heap = NULL;
	return 0;
}

static void scalars(void **state)
{
	struct json_doc d;
	long long v;
	bool b;

	assert_int_equal(parse(&d, " 42 "), 0);
	assert_int_equal(d.ntok, 1);
	assert_int_equal(d.tok[0].type, JSON_NUMBER);
	assert_int_equal(json_int(&d, 0, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse(&d, "-9223372036854775808"), 0);
	assert_int_equal(json_int(&d, 0, &v), 0);
	assert_true(v == LLONG_MIN);
	assert_int_equal(parse(&d, "9223372036854775807"), 0);
	assert_int_equal(json_int(&d, 0, &v), 0);
	assert_true(v == LLONG_MAX);
	assert_int_equal(parse(&d, "9223372036854775808"), 0);
	assert_int_equal(json_int(&d, 0, &v), -1); /* valid JSON, too big */
	assert_int_equal(parse(&d, "-0.5e+3"), 0);
	assert_int_equal(json_int(&d, 0, &v), -1); /* not an integer */
	assert_int_equal(parse(&d, "1E2"), 0);
	assert_int_equal(parse(&d, "-0"), 0);
	assert_int_equal(json_int(&d, 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse(&d, "true"), 0);
	assert_int_equal(json_bool(&d, 0, &b), 0);
	assert_true(b);
	assert_int_equal(parse(&d, "false"), 0);
	assert_int_equal(json_bool(&d, 0, &b), 0);
	assert_false(b);
	assert_int_equal(parse(&d, "null"), 0);
	assert_int_equal(d.tok[0].type, JSON_NULL);
	assert_int_equal(json_bool(&d, 0, &b), -1);
	assert_int_equal(json_int(&d, 0, &v), -1);
}

static void nested(void **state)
{
	const char *t = "{\"a\":[1,{\"b\":null},[]],\"c\":\"x\",\"d\":{}}";
	struct json_doc d;
	char s[8];
	long long v;
	int a, b;

	assert_int_equal(parse(&d, t), 0);
	assert_int_equal(d.tok[0].type, JSON_OBJECT);
	assert_int_equal(d.tok[0].size, 3);
	assert_int_equal(d.tok[0].next, d.ntok);
	a = json_get(&d, 0, "a");
	assert_int_equal(d.tok[a].type, JSON_ARRAY);
	assert_int_equal(d.tok[a].size, 3);
	assert_int_equal(json_int(&d, json_at(&d, a, 0), &v), 0);
	assert_int_equal(v, 1);
	b = json_get(&d, json_at(&d, a, 1), "b");
	assert_int_equal(d.tok[b].type, JSON_NULL);
	assert_int_equal(d.tok[json_at(&d, a, 2)].size, 0);
	assert_int_equal(json_at(&d, a, 3), -1);
	assert_int_equal(json_str(&d, json_get(&d, 0, "c"), s, sizeof(s)), 0);
	assert_string_equal(s, "x");
	assert_int_equal(d.tok[json_get(&d, 0, "d")].type, JSON_OBJECT);
	assert_int_equal(json_get(&d, 0, "zz"), -1);
	assert_int_equal(json_get(&d, a, "a"), -1); /* not an object */
	assert_int_equal(json_at(&d, 0, 0), -1);    /* not an array */
	assert_int_equal(json_get(&d, -1, "a"), -1);
	assert_int_equal(json_str(&d, 999, s, sizeof(s)), -1);
	/* the span of a container covers its brackets */
	assert_int_equal(d.tok[0].start, 0);
	assert_int_equal(d.tok[0].end, strlen(t));
}

static void escaped_key(void **state)
{
	struct json_doc d;

	assert_int_equal(parse(&d, "{\"k\\u0065y\":1,\"key\":2}"), 0);
	assert_int_equal(json_get(&d, 0, "key"), 2); /* first match */
}

static void unicode(void **state)
{
	struct json_doc d;
	char s[32];

	assert_int_equal(parse(&d, "\"a\\\"\\\\\\/\\b\\f\\n\\r\\tz\""), 0);
	assert_int_equal(json_str(&d, 0, s, sizeof(s)), 0);
	assert_string_equal(s, "a\"\\/\b\f\n\r\tz");
	assert_int_equal(parse(&d, "\"\\u00e9\\u20AC\\ud83d\\ude00\""), 0);
	assert_int_equal(json_str(&d, 0, s, sizeof(s)), 0);
	assert_string_equal(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	assert_int_equal(parse(&d, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""), 0);
	assert_int_equal(json_str(&d, 0, s, sizeof(s)), 0);
	assert_string_equal(s, "caf\xc3\xa9 \xf0\x9f\x98\x80");
}

static void str_limits(void **state)
{
	struct json_doc d;
	char s[4];

	assert_int_equal(parse(&d, "\"abc\""), 0);
	assert_int_equal(json_str(&d, 0, s, 4), 0);
	assert_int_equal(json_str(&d, 0, s, 3), -1); /* no room for NUL */
	assert_int_equal(parse(&d, "\"ab\\u20ac\""), 0);
	assert_int_equal(json_str(&d, 0, s, 4), -1); /* 3-byte char */
	assert_int_equal(parse(&d, "\"a\\u0000b\""), 0);
	assert_int_equal(json_str(&d, 0, s, 4), -1); /* embedded NUL */
	assert_int_equal(parse(&d, "1"), 0);
	assert_int_equal(json_str(&d, 0, s, 4), -1); /* not a string */
	assert_int_equal(parse(&d, "\"\""), 0);
	assert_int_equal(json_str(&d, 0, s, 1), 0);
	assert_string_equal(s, "");
}

static const struct {
	const char *text;
	const char *error;
} bad[] = {
    {"", "empty input"},
    {"   ", "empty input"},
    {"{} x", "unexpected data after the value"},
    {"1 2", "unexpected data after the value"},
    {"\"abc", "unterminated string"},
    {"[1,2", "',' or ']' expected"},
    {"{\"a\":1", "',' or '}' expected"},
    {"[1,]", "value expected"},
    {"{\"a\":1,}", "string key expected"},
    {"{\"a\" 1}", "':' expected after key"},
    {"{1:2}", "string key expected"},
    {"\"a\\x\"", "invalid escape"},
    {"\"\\u12g4\"", "invalid \\u escape"},
    {"\"\\u12\"", "invalid \\u escape"},
    {"\"a\tb\"", "control character in string"},
    {"\"\\ud800\"", "high surrogate without a low one"},
    {"\"\\ud800\\u0041\"", "high surrogate without a low one"},
    {"\"\\udc00\"", "lone low surrogate"},
    {"\"\xff\"", "invalid UTF-8 in string"},
    {"\"\xc0\xaf\"", "invalid UTF-8 in string"},     /* overlong */
    {"\"\xed\xa0\x80\"", "invalid UTF-8 in string"}, /* surrogate */
    {"\"\xe2\x82\"", "invalid UTF-8 in string"},     /* truncated */
    {"01", "leading zero in number"},
    {"-01", "leading zero in number"},
    {"1.", "digit expected after '.'"},
    {"1.e3", "digit expected after '.'"},
    {"1e", "digit expected in exponent"},
    {"-", "digit expected in number"},
    {"+1", "value expected"},
    {".5", "value expected"},
    {"NaN", "value expected"},
    {"Infinity", "value expected"},
    {"tru", "invalid literal"},
    {"nul", "invalid literal"},
    {"truex", "unexpected data after the value"},
    {"[", "value expected, end of input found"},
    {"{", "string key expected"},
    {"'a'", "value expected"},
    {"[1]]", "unexpected data after the value"},
};

static void malformed(void **state)
{
	struct json_doc d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&d, bad[i].text) != -1 || !d.error ||
		    strcmp(d.error, bad[i].error))
			fail_msg("'%s': expected error '%s', got '%s'",
				 bad[i].text, bad[i].error,
				 d.error ? d.error : "(none)");
		assert_int_equal(d.ntok, 0);
		assert_true(d.error_at <= strlen(bad[i].text));
	}
}

static void error_position(void **state)
{
	struct json_doc d;

	assert_int_equal(parse(&d, "{\"a\":tru}"), -1);
	assert_int_equal(d.error_at, 5);
	assert_int_equal(parse(&d, "[1, 2, x]"), -1);
	assert_int_equal(d.error_at, 7);
}

static void embedded_nul(void **state)
{
	struct json_doc d;

	assert_int_equal(json_parse(&d, "\"a\0b\"", 5, toks, NTOK), -1);
	assert_string_equal(d.error, "control character in string");
	assert_int_equal(json_parse(&d, "1\0", 2, toks, NTOK), -1);
	/* len is honoured: the bytes after it are never looked at */
	assert_int_equal(json_parse(&d, "12x", 2, toks, NTOK), 0);
}

static void depth_limit(void **state)
{
	char deep[2 * JSON_MAX_DEPTH + 8];
	struct json_doc d;
	size_t n = JSON_MAX_DEPTH;

	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(parse(&d, deep), 0);
	memset(deep, '[', n + 1);
	memset(deep + n + 1, ']', n + 1);
	deep[2 * n + 2] = '\0';
	assert_int_equal(parse(&d, deep), -1);
	assert_string_equal(d.error, "nesting too deep");
	assert_int_equal(d.error_at, JSON_MAX_DEPTH);
}

static void too_many_tokens(void **state)
{
	struct json_tok few[3];
	struct json_doc d;

	assert_int_equal(json_parse(&d, "[1,2]", 5, few, 3), 0);
	assert_int_equal(json_parse(&d, "[1,2,3]", 7, few, 3), -1);
	assert_string_equal(d.error, "too many values");
	assert_int_equal(d.error_at, 5);
	assert_int_equal(json_parse(&d, "{\"a\":1}", 7, few, 3), 0);
	assert_int_equal(json_parse(&d, "{\"a\":1}", 7, few, 2), -1);
}

static void writer_basic(void **state)
{
	struct jw w;

	jw_init(&w);
	assert_string_equal(jw_text(&w), "");
	jw_obj_begin(&w, NULL);
	jw_int(&w, "i", -5);
	jw_uint(&w, "u", 18446744073709551615ULL);
	jw_bool(&w, "t", true);
	jw_bool(&w, "f", false);
	jw_null(&w, "n");
	jw_str(&w, "nulls", NULL);
	jw_arr_begin(&w, "a");
	jw_int(&w, NULL, 1);
	jw_obj_begin(&w, NULL);
	jw_obj_end(&w);
	jw_arr_begin(&w, NULL);
	jw_arr_end(&w);
	jw_arr_end(&w);
	jw_raw(&w, "r", "{\"x\":1}", 7);
	jw_obj_end(&w);
	assert_string_equal(jw_text(&w),
			    "{\"i\":-5,\"u\":18446744073709551615,\"t\":true,"
			    "\"f\":false,\"n\":null,\"nulls\":null,"
			    "\"a\":[1,{},[]],\"r\":{\"x\":1}}");
	jw_reset(&w);
	jw_int(&w, NULL, 7);
	assert_string_equal(jw_text(&w), "7");
	jw_free(&w);
}

static void writer_escaping(void **state)
{
	struct jw w;

	jw_init(&w);
	jw_str(&w, NULL, "q\"b\\n\nt\tr\rc\x01\x1f del\x7f \xc3\xa9 bad\xff!");
	assert_string_equal(jw_text(&w),
			    "\"q\\\"b\\\\n\\nt\\tr\\rc\\u0001\\u001f del\x7f "
			    "\xc3\xa9 bad\\ufffd!\"");
	jw_reset(&w);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "k\"", "");
	jw_obj_end(&w);
	assert_string_equal(jw_text(&w), "{\"k\\\"\":\"\"}");
	jw_free(&w);
}

static void writer_misuse(void **state)
{
	struct jw w;

	jw_init(&w);
	jw_obj_end(&w); /* nothing open */
	assert_true(w.failed);
	assert_null(jw_text(&w));
	jw_reset(&w);
	assert_false(w.failed);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		jw_arr_begin(&w, NULL);
	assert_true(w.failed);
	assert_null(jw_text(&w));
	jw_free(&w);
}

static void round_trip(void **state)
{
	static const char *const strs[] = {
	    "",
	    "plain",
	    "quote\" back\\ slash/",
	    "ctl\x01\x02\x1f\n\t",
	    "utf8 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
	};
	size_t n = sizeof(strs) / sizeof(strs[0]);
	struct json_tok t[32];
	struct json_doc d;
	long long v;
	char s[64];
	struct jw w;
	int a;

	jw_init(&w);
	jw_obj_begin(&w, NULL);
	jw_int(&w, "min", LLONG_MIN);
	jw_arr_begin(&w, "strs");
	for (size_t i = 0; i < n; i++)
		jw_str(&w, NULL, strs[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	assert_non_null(jw_text(&w));
	assert_int_equal(json_parse(&d, w.buf, w.len, t, 32), 0);
	assert_int_equal(json_int(&d, json_get(&d, 0, "min"), &v), 0);
	assert_true(v == LLONG_MIN);
	a = json_get(&d, 0, "strs");
	assert_int_equal(d.tok[a].size, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(
		    json_str(&d, json_at(&d, a, (uint32_t)i), s, sizeof(s)), 0);
		assert_string_equal(s, strs[i]);
	}
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(scalars, teardown),
	    cmocka_unit_test_teardown(nested, teardown),
	    cmocka_unit_test_teardown(escaped_key, teardown),
	    cmocka_unit_test_teardown(unicode, teardown),
	    cmocka_unit_test_teardown(str_limits, teardown),
	    cmocka_unit_test_teardown(malformed, teardown),
	    cmocka_unit_test_teardown(error_position, teardown),
	    cmocka_unit_test(embedded_nul),
	    cmocka_unit_test_teardown(depth_limit, teardown),
	    cmocka_unit_test(too_many_tokens),
	    cmocka_unit_test(writer_basic),
	    cmocka_unit_test(writer_escaping),
	    cmocka_unit_test(writer_misuse),
	    cmocka_unit_test(round_trip),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
