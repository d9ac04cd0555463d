/* test_cfg.c - config helpers: every error names file:line and what to do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cfg.h"

static char dir[] = "/tmp/test_cfg.XXXXXX";

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Opens name (written from text) and returns the open cfg's status. */
static int open_text(struct cfg *c, const char *name, const char *text)
{
	char path[256];

	write_file(name, text, 0644);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return cfg_open(c, path);
}

static void assert_err(const struct cfg *c, const char *needle)
{
	if (!strstr(c->err, needle))
		fail_msg("expected \"%s\" in errors:\n%s", needle, c->err);
}

static void syntax_error_names_line(void **state)
{
	struct cfg c;

	assert_int_equal(open_text(&c, "a.conf", "a = 1;\nb = ;\n"), -1);
	assert_err(&c, "a.conf:2: ");
	assert_int_equal(c.nerr, 1);
	cfg_close(&c);
}

static void missing_file(void **state)
{
	struct cfg c;

	assert_int_equal(cfg_open(&c, "/nonexistent/x.conf"), -1);
	assert_err(&c, "/nonexistent/x.conf: cannot read config file");
	cfg_close(&c);
}

static void include_error_names_included_file(void **state)
{
	struct cfg c;

	write_file("inc.conf", "x = 1;\n\ny = ;\n", 0644);
	assert_int_equal(open_text(&c, "main.conf", "@include \"inc.conf\"\n"),
			 -1);
	assert_err(&c, "inc.conf:3");
	cfg_close(&c);
}

static void types_and_ranges(void **state)
{
	const char *s = NULL;
	long long n = 7;
	bool b = false;
	struct cfg c;

	assert_int_equal(open_text(&c, "t.conf",
				   "s = 5;\n"
				   "n = 70000;\n"
				   "b = \"yes\";\n"
				   "ok = 12;\n"
				   "big = 5000000000L;\n"),
			 0);
	assert_int_equal(cfg_str(&c, NULL, "s", &s, true), -1);
	assert_err(&c, "t.conf:1: 's' must be a string");
	assert_int_equal(cfg_int(&c, NULL, "n", &n, 0, 65535, true), -1);
	assert_err(&c, "t.conf:2: 'n' = 70000 is out of range; use 0..65535");
	assert_int_equal(n, 7);
	assert_int_equal(cfg_bool(&c, NULL, "b", &b, true), -1);
	assert_err(&c, "t.conf:3: 'b' must be true or false");
	assert_int_equal(cfg_int(&c, NULL, "ok", &n, 0, 100, true), 0);
	assert_int_equal(n, 12);
	assert_int_equal(cfg_int(&c, NULL, "big", &n, 0, 1LL << 40, true), 0);
	assert_int_equal(n, 5000000000LL);
	assert_int_equal(c.nerr, 3);
	cfg_close(&c);
}

static void missing_required_and_optional(void **state)
{
	const config_setting_t *g;
	long long n = 42;
	struct cfg c;

	assert_int_equal(
	    open_text(&c, "m.conf", "\n\ngw = {\n  port = 1;\n};\n"), 0);
	g = cfg_group(&c, NULL, "gw", true);
	assert_non_null(g);
	assert_int_equal(cfg_int(&c, g, "retries", &n, 0, 9, false), 0);
	assert_int_equal(n, 42); /* default kept */
	assert_int_equal(cfg_int(&c, g, "timeout", &n, 0, 9, true), -1);
	assert_err(&c, "m.conf:3: missing required setting 'timeout' in gw");
	assert_null(cfg_group(&c, NULL, "absent", false));
	assert_int_equal(c.nerr, 1);
	cfg_close(&c);
}

static void addresses_prefixes_enums(void **state)
{
	static const char *const roles[] = {"mn", "ha", "fa", NULL};
	struct ipaddr a;
	unsigned plen;
	int role = -1;
	struct cfg c;

	assert_int_equal(open_text(&c, "e.conf",
				   "a = \"10.1.1.2\";\n"
				   "b = \"fd00::1\";\n"
				   "bad = \"10.1.1.300\";\n"
				   "p = \"10.1.0.0/16\";\n"
				   "pbad = \"10.1.0.0/33\";\n"
				   "role = \"ha\";\n"
				   "rbad = \"hq\";\n"),
			 0);
	assert_int_equal(cfg_addr(&c, NULL, "a", &a, true), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(cfg_addr(&c, NULL, "b", &a, true), 0);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(cfg_addr(&c, NULL, "bad", &a, true), -1);
	assert_err(&c,
		   "e.conf:3: 'bad' = \"10.1.1.300\" is not an IPv4 or IPv6");
	assert_int_equal(cfg_prefix(&c, NULL, "p", &a, &plen, true), 0);
	assert_int_equal(plen, 16);
	assert_int_equal(cfg_prefix(&c, NULL, "pbad", &a, &plen, true), -1);
	assert_err(&c, "e.conf:5: 'pbad'");
	assert_int_equal(cfg_enum(&c, NULL, "role", roles, &role, true), 0);
	assert_int_equal(role, 1);
	assert_int_equal(cfg_enum(&c, NULL, "rbad", roles, &role, true), -1);
	assert_err(&c, "e.conf:7: 'rbad' = \"hq\" is not one of: mn, ha, fa");
	cfg_close(&c);
}

static void unknown_keys(void **state)
{
	static const char *const known[] = {"gateway", "port", NULL};
	struct cfg c;

	assert_int_equal(
	    open_text(&c, "k.conf", "gateway = \"10.0.0.1\";\nprot = 500;\n"),
	    0);
	assert_int_equal(cfg_keys(&c, NULL, known), -1);
	assert_err(&c, "k.conf:2: unknown setting 'prot' in top level; "
		       "known: gateway, port");
	cfg_close(&c);
}

static void secret_files(void **state)
{
	uint8_t key[64];
	size_t len = 0;
	struct cfg c;

	write_file("good.key", "s3cret\n", 0600);
	write_file("open.key", "s3cret\n", 0644);
	write_file("empty.key", "", 0600);
	assert_int_equal(open_text(&c, "s.conf",
				   "good = \"good.key\";\n"
				   "open = \"open.key\";\n"
				   "none = \"missing.key\";\n"
				   "empty = \"empty.key\";\n"),
			 0);
	assert_int_equal(
	    cfg_secret_file(&c, NULL, "good", key, sizeof(key), &len, true), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(key, "s3cret", 6);
	assert_int_equal(
	    cfg_secret_file(&c, NULL, "open", key, sizeof(key), &len, true),
	    -1);
	assert_err(&c, "s.conf:2: key file ");
	assert_err(&c,
		   "open.key is readable by others (mode 644); run: chmod 600");
	assert_int_equal(
	    cfg_secret_file(&c, NULL, "none", key, sizeof(key), &len, true),
	    -1);
	assert_err(&c, "s.conf:3: cannot open key file");
	assert_int_equal(
	    cfg_secret_file(&c, NULL, "empty", key, sizeof(key), &len, true),
	    -1);
	assert_err(&c, "empty.key: empty");
	/* the secret itself never appears in an error */
	assert_null(strstr(c.err, "s3cret"));
	cfg_close(&c);
}

static void error_buffer_bounded(void **state)
{
	struct cfg c;

	assert_int_equal(open_text(&c, "b.conf", "x = 1;\n"), 0);
	for (int i = 0; i < 500; i++)
		cfg_error(&c, NULL, "error number %d with some padding text",
			  i);
	assert_int_equal(c.nerr, 500);
	assert_true(strlen(c.err) < sizeof(c.err));
	cfg_close(&c);
}

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(syntax_error_names_line),
	    cmocka_unit_test(missing_file),
	    cmocka_unit_test(include_error_names_included_file),
	    cmocka_unit_test(types_and_ranges),
	    cmocka_unit_test(missing_required_and_optional),
	    cmocka_unit_test(addresses_prefixes_enums),
	    cmocka_unit_test(unknown_keys),
	    cmocka_unit_test(secret_files),
	    cmocka_unit_test(error_buffer_bounded),
	};

	return cmocka_run_group_tests_name("cfg", tests, setup, teardown);
}
