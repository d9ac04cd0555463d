/*
 * test_daemon.c - the real daemons as processes: `-t` on good and bad
 * configs, and a running daemon that gets oversized and garbled control
 * lines, answers each with an error, and keeps serving.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/ctl.h"

static char bindir[512];
static char tmp[] = "/tmp/test_daemon.XXXXXX";

/* Runs `bin args...` with stdout+stderr captured; returns the exit code. */
static int run(const char *bin, const char *conf, char *out, size_t outsz)
{
	char cmd[2048];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s/%s -t -c %s/%s 2>&1", bindir, bin, tmp,
		 conf);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static void write_conf(const char *name, const char *text)
{
	char path[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void check_good_configs(void **state)
{
	char out[4096];

	write_conf("ok-mipd.conf", "role = \"ha\";\nlog = { level = \"debug\"; };\n");
	assert_int_equal(run("mipd", "ok-mipd.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "configuration OK (role ha)"));
	write_conf("ok-mobiked.conf", "control = { socket = \"/tmp/x.sock\"; };\n");
	assert_int_equal(run("mobiked", "ok-mobiked.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "configuration OK"));
}

static void check_bad_configs(void **state)
{
	char out[4096];

	write_conf("syntax.conf", "role = \"mn\";\nlog = { level = ; };\n");
	assert_int_not_equal(run("mipd", "syntax.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "syntax.conf:2: syntax error"));

	write_conf("role.conf", "\nrole = \"hq\";\n");
	assert_int_not_equal(run("mipd", "role.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "role.conf:2: 'role' = \"hq\" is not one "
				    "of: mn, ha, fa"));

	write_conf("norole.conf", "log = { level = \"loud\"; };\nloog = 1;\n");
	assert_int_not_equal(run("mipd", "norole.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "norole.conf:1: 'level' = \"loud\""));
	assert_non_null(strstr(out, "norole.conf:2: unknown setting 'loog'"));
	assert_non_null(strstr(out, "missing required setting 'role'"));
	assert_non_null(strstr(out, "3 errors in"));

	assert_int_not_equal(run("mobiked", "absent.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "absent.conf: cannot read config file"));
}

static pid_t start_daemon(const char *sock)
{
	char bin[600], conf[600];
	pid_t pid;

	write_conf("run.conf", "log = { level = \"warn\"; };\n");
	snprintf(bin, sizeof(bin), "%s/mobiked", bindir);
	snprintf(conf, sizeof(conf), "%s/run.conf", tmp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(bin, "mobiked", "-c", conf, "-s", sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) { /* up to 2 s for the socket */
		int fd = ctl_connect(sock);

		if (fd >= 0) {
			close(fd);
			return pid;
		}
		usleep(10000);
	}
	kill(pid, SIGKILL);
	fail_msg("mobiked did not open %s", sock);
	return -1;
}

/* Sends raw bytes and reads one reply line. */
static void call_raw(int fd, const char *data, size_t n, char *reply,
		     size_t rsz)
{
	size_t got = 0;

	assert_int_equal(write(fd, data, n), (ssize_t)n);
	while (got < rsz - 1) {
		ssize_t r = read(fd, reply + got, 1);

		assert_true(r == 1);
		if (reply[got++] == '\n')
			break;
	}
	reply[got] = '\0';
}

static void garbage_keeps_daemon_up(void **state)
{
	char sock[600], reply[4096], *big, *ok = NULL;
	int fd, status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/mobiked.sock", tmp);
	pid = start_daemon(sock);
	fd = ctl_connect(sock);
	assert_true(fd >= 0);

	big = malloc(100001);
	memset(big, 'x', 100000);
	big[100000] = '\n';
	call_raw(fd, big, 100001, reply, sizeof(reply));
	free(big);
	assert_non_null(strstr(reply, "\"ok\":false"));

	static const char garbled[] = "{\"cmd\":\x01\x00\xff}\n";

	call_raw(fd, garbled, sizeof(garbled) - 1, reply, sizeof(reply));
	assert_non_null(strstr(reply, "\"ok\":false"));
	call_raw(fd, "[1,2,3]\n", 8, reply, sizeof(reply));
	assert_non_null(strstr(reply, "\"ok\":false"));
	call_raw(fd, "{\"cmd\":\"nope\"}\n", 15, reply, sizeof(reply));
	assert_non_null(strstr(reply, "unknown command 'nope'"));

	/* same connection, still served */
	assert_int_equal(ctl_call(fd, "{\"id\":9,\"cmd\":\"status\"}", &ok, 2000),
			 0);
	assert_non_null(strstr(ok, "\"daemon\":\"mobiked\""));
	assert_non_null(strstr(ok, "\"id\":9"));
	free(ok);
	close(fd);

	assert_int_equal(kill(pid, 0), 0); /* still alive */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
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

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_good_configs),
		cmocka_unit_test(check_bad_configs),
		cmocka_unit_test(garbage_keeps_daemon_up),
	};
	char self[512];

	/* the daemons are built next to tests/: $B/tests/test_daemon */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(bindir, sizeof(bindir), "%s/..", dirname(self));
	return cmocka_run_group_tests_name("daemon", tests, setup, teardown);
}
