/* test_log.c - levels, per-subsystem overrides, and secrets only on request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LOG_TAG "ike"
#include "common/log.h"

static char captured[8192];

/* Runs fn with stderr sent to a pipe and returns what it wrote. */
static const char *capture(void (*fn)(void))
{
	int p[2], saved = dup(2);
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	fflush(stderr);
	dup2(p[1], 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], captured, sizeof(captured) - 1);
	close(p[0]);
	captured[n > 0 ? n : 0] = '\0';
	return captured;
}

static const uint8_t key[4] = { 0xde, 0xad, 0xbe, 0xef };

static void emit_all(void)
{
	log_err("err-line");
	log_warn("warn-line");
	log_info("info-line");
	log_debug("debug-line");
	log_msg(L_DEBUG, "nl", "nl-debug-line");
	log_secret_hex("ike", "SK_d", key, sizeof(key));
}

static void default_info(void **state)
{
	const char *out;

	assert_int_equal(log_set_spec("info"), 0);
	out = capture(emit_all);
	assert_non_null(strstr(out, "error [ike] err-line"));
	assert_non_null(strstr(out, "info  [ike] info-line"));
	assert_null(strstr(out, "debug-line"));
	assert_null(strstr(out, "deadbeef"));
}

static void per_tag_override(void **state)
{
	const char *out;

	assert_int_equal(log_set_spec("warn,nl=debug"), 0);
	out = capture(emit_all);
	assert_non_null(strstr(out, "warn-line"));
	assert_null(strstr(out, "info-line"));
	assert_non_null(strstr(out, "nl-debug-line"));
	assert_null(strstr(out, "deadbeef"));
}

static void secrets_need_explicit_level(void **state)
{
	const char *out;

	assert_int_equal(log_set_spec("debug,ike=debug"), 0);
	out = capture(emit_all);
	assert_non_null(strstr(out, "debug-line"));
	assert_null(strstr(out, "deadbeef")); /* debug is not enough */

	assert_int_equal(log_set_spec("info,ike=secret"), 0);
	out = capture(emit_all);
	assert_non_null(strstr(out, "SK_d (4 bytes): deadbeef"));
	/* log_msg never emits at L_SECRET, even when enabled */
	assert_null(strstr(out, "secret [ike]  "));
}

static void bad_specs(void **state)
{
	assert_int_equal(log_set_spec("loud"), -1);
	assert_int_equal(log_set_spec("ike=loud"), -1);
	assert_int_equal(log_set_spec("averyveryverylongtagname=debug"), -1);
	assert_int_equal(log_set_spec("info"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_info),
		cmocka_unit_test(per_tag_override),
		cmocka_unit_test(secrets_need_explicit_level),
		cmocka_unit_test(bad_specs),
	};

	log_init("test", false);
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
