/* test_log.c - levels, per-subsystem overrides, and secrets only on request,
 * to stderr and through syslog(3) to a private /dev/log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#define LOG_TAG "ike"
#include "common/log.h"
#include "tests/unit/devlog.h"

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

static const uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};

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

/* ---- syslog: the same rules on the other sink ---- */

static char logged[16384];

/* Runs emit_all() with syslog on and returns the datagrams /dev/log got. */
static const char *via_syslog(int fd, const char *spec)
{
	assert_int_equal(log_set_spec(spec), 0);
	logged[0] = '\0';
	log_init("test", true);
	emit_all();
	closelog(); /* the next run connects afresh */
	log_init("test", false);
	devlog_read(fd, logged, sizeof(logged), 200);
	return logged;
}

/* "<PRI>... test[PID]: [TAG] MSG": LOG_DAEMON (3 << 3) + the severity */
static void assert_logged(const char *out, int severity, const char *tag,
			  const char *msg)
{
	char want[128];
	const char *line;

	snprintf(want, sizeof(want), "test[%d]: [%s] %s", (int)getpid(), tag,
		 msg);
	line = strstr(out, want);
	if (!line)
		fail_msg("'%s' not in syslog:\n%s", want, out);
	while (line > out && line[-1] != '\n')
		line--;
	snprintf(want, sizeof(want), "<%d>", (3 << 3) + severity);
	if (strncmp(line, want, strlen(want)))
		fail_msg("'%s' not at priority %s:\n%s", msg, want, out);
}

static void syslog_levels_and_secrets(void **state)
{
	int fd = devlog_open();
	const char *out;

	if (fd < 0) {
		print_message("private /dev/log: %s; syslog test skipped "
			      "(needs root)\n",
			      strerror(errno));
		skip();
	}
	/* (a spec keeps earlier per-tag overrides: reset ike's explicitly) */
	out = via_syslog(fd, "debug,ike=debug");
	assert_logged(out, 3, "ike", "err-line");   /* LOG_ERR */
	assert_logged(out, 4, "ike", "warn-line");  /* LOG_WARNING */
	assert_logged(out, 6, "ike", "info-line");  /* LOG_INFO */
	assert_logged(out, 7, "ike", "debug-line"); /* LOG_DEBUG */
	assert_logged(out, 7, "nl", "nl-debug-line");
	assert_null(strstr(out, "deadbeef")); /* debug is not enough */
	assert_null(strstr(out, "SK_d"));

	out = via_syslog(fd, "warn,ike=warn");
	assert_logged(out, 4, "ike", "warn-line");
	assert_null(strstr(out, "info-line"));
	assert_null(strstr(out, "deadbeef"));

	out = via_syslog(fd, "info,ike=secret");
	assert_logged(out, 7, "ike", "SK_d (4 bytes): deadbeef");
	devlog_close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_info),
	    cmocka_unit_test(per_tag_override),
	    cmocka_unit_test(secrets_need_explicit_level),
	    cmocka_unit_test(bad_specs),
	    cmocka_unit_test(syslog_levels_and_secrets),
	};

	log_init("test", false);
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
