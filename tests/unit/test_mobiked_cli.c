/*
 * test_mobiked_cli.c - the real mobiked binary's `-t`: the shipped example
 * conf/mobiked.conf passes once the key file its comment asks for exists
 * next to it (as an admin installs it: copy the example, create the PSK
 * file with umask 077), fails with the file:line of psk_file and the
 * command to create it when it does not, and bad configs exit 1 naming
 * file:line for each error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char bindir[512], example[600];
static char tmp[] = "/tmp/test_mobiked_cli.XXXXXX";

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmp, name);
}

/* `mobiked -t -c tmp/conf`, stdout + stderr captured: the exit code. */
static int check_conf(const char *conf, char *out, size_t outsz)
{
	char cmd[2048];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/mobiked -t -c %s/%s 2>&1", bindir, tmp,
		 conf);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[700];
	FILE *f;

	path_in(path, sizeof(path), name);
	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static char *slurp(const char *path)
{
	static char buf[32768];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The line of the example where psk_file is set (1-based). */
static int psk_line(const char *text)
{
	int line = 1;

	for (const char *p = text; *p; p++) {
		if (!strncmp(p, "  psk_file", 10) &&
		    (p == text || p[-1] == '\n'))
			return line;
		line += *p == '\n';
	}
	return -1;
}

static void example_passes(void **state)
{
	char out[4096], want[128];
	const char *text = slurp(example);

	write_file("mobiked.conf", text, 0644);
	write_file("mobiked.psk", "an-example-secret\n", 0600);
	assert_int_equal(check_conf("mobiked.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "mobiked.conf: configuration OK ("
				    "gateway 192.0.2.1 (+1 more), 2 IKE "
				    "proposals, 2 ESP proposals)"));
	/* without the key file: where to look and what to run */
	write_file("mobiked.psk", "", 0600);
	path_in(want, sizeof(want), "mobiked.psk");
	unlink(want);
	assert_int_equal(check_conf("mobiked.conf", out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "mobiked.conf:%d: key file ",
		 psk_line(text));
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "does not exist; create it with: (umask "
				    "077; echo 'the-shared-secret' > "));
}

static void example_does_not_announce_mobike(void **state)
{
	const char *text = slurp(example);

	assert_non_null(strstr(text, "\n  mobike = false;"));
	assert_null(strstr(text, "mobike = true"));
}

#define CONN_HEAD                                                              \
	"connection = {\n"		      /* 1 */                          \
	"  gateway = \"192.0.2.1\";\n"	      /* 2 */                          \
	"  local_id = \"mn.lab\";\n"	      /* 3 */                          \
	"  remote_id = \"gw.lab\";\n"	      /* 4 */                          \
	"  psk_file = \"bad.psk\";\n"	      /* 5 */                          \
	"  remote_ts = [ \"10.0.0.0/8\" ];\n" /* 6 */

/* Each error with file:line, a summary line, exit code 1. */
static void bad_config_exits_1(void **state)
{
	char out[4096];

	write_file("bad.psk", "secret\n", 0600);
	write_file("bad.conf",
		   CONN_HEAD "  mobike = true;\n"		  /* 7 */
			     "  keyingtries = -2;\n"		  /* 8 */
			     "  child_lifetime_bytes = \"1G\";\n" /* 9 */
			     "};\n",
		   0644);
	assert_int_equal(check_conf("bad.conf", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "bad.conf:7: 'mobike' = true: MOBIKE "
				    "(RFC 4555) is not available"));
	assert_non_null(strstr(out, "bad.conf:8: 'keyingtries' = -2 is out of "
				    "range; use 0..1000"));
	assert_non_null(strstr(out, "bad.conf:9: 'child_lifetime_bytes' must "
				    "be an integer"));
	assert_non_null(strstr(out, "mobiked: 3 errors in "));
	assert_null(strstr(out, "secret")); /* the PSK never shows */
}

/* A syntax error is reported at its line too, and a readable key file
 * (group/other bits) is refused. */
static void syntax_and_key_mode(void **state)
{
	char out[4096];

	write_file("syntax.conf", CONN_HEAD "  dpd_delay = ;\n};\n", 0644);
	assert_int_equal(check_conf("syntax.conf", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "syntax.conf:7: syntax error"));
	write_file("bad.psk", "secret\n", 0644);
	write_file("mode.conf", CONN_HEAD "};\n", 0644);
	assert_int_equal(check_conf("mode.conf", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "mode.conf:5: key file "));
	assert_non_null(strstr(out, "is readable by others (mode 644); run: "
				    "chmod 600 "));
	assert_null(strstr(out, "secret"));
}

static int setup(void **state)
{
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* conf/mobiked.conf of the tree the binary was built in: the build dir
 * is build/, build/asan/ or build-x/ at the top of the tree. */
static int find_example(void)
{
	static const char *const up[] = {"..", "../..", "../../.."};

	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		snprintf(example, sizeof(example), "%s/%s/conf/mobiked.conf",
			 bindir, up[i]);
		if (access(example, R_OK) == 0)
			return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(example_passes),
	    cmocka_unit_test(example_does_not_announce_mobike),
	    cmocka_unit_test(bad_config_exits_1),
	    cmocka_unit_test(syntax_and_key_mode),
	};
	char self[512];

	/* mobiked is built next to tests/: $B/tests/test_mobiked_cli */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(bindir, sizeof(bindir), "%s/..", dirname(self));
	if (find_example()) {
		fprintf(stderr, "conf/mobiked.conf not found above %s\n",
			bindir);
		return 1;
	}
	return cmocka_run_group_tests_name("mobiked_cli", tests, setup,
					   teardown);
}
