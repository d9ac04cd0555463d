/*
 * test_daemon.c - the real daemons as processes: `-t` on good and bad
 * configs, and each running daemon (mobiked, mipd) gets oversized and
 * garbled control lines, answers each with an error, and keeps serving.
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
#include "tests/unit/devlog.h"

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

	write_conf("ok-mipd.conf",
		   "role = \"ha\";\nlog = { level = \"debug\"; };\n");
	assert_int_equal(run("mipd", "ok-mipd.conf", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "configuration OK (role ha)"));
	write_conf("ok-mobiked.conf",
		   "control = { socket = \"/tmp/x.sock\"; };\n");
	assert_int_equal(run("mobiked", "ok-mobiked.conf", out, sizeof(out)),
			 0);
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

	assert_int_not_equal(run("mobiked", "absent.conf", out, sizeof(out)),
			     0);
	assert_non_null(strstr(out, "absent.conf: cannot read config file"));
}

/* Starts $B/name with config text and control socket sock, one more option
 * (opt, or NULL) and stderr on errfd (-1: ours). */
static pid_t start_daemon(const char *name, const char *text, const char *sock,
			  const char *opt, int errfd)
{
	char bin[600], conf[600], cname[64];
	pid_t pid;

	snprintf(cname, sizeof(cname), "run-%s.conf", name);
	write_conf(cname, text);
	snprintf(bin, sizeof(bin), "%s/%s", bindir, name);
	snprintf(conf, sizeof(conf), "%s/%s", tmp, cname);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (errfd >= 0)
			dup2(errfd, 2);
		execl(bin, name, "-c", conf, "-s", sock, opt, (char *)NULL);
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
	fail_msg("%s did not open %s", name, sock);
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

/* Oversized, binary, non-object and unknown requests on one connection:
 * each gets an error reply, and the same connection is served after. */
static void garbage_keeps_up(const char *name, const char *conf)
{
	char sock[600], reply[4096], want[64], *big, *ok = NULL;
	int fd, status;
	pid_t pid;

	snprintf(sock, sizeof(sock), "%s/%s.sock", tmp, name);
	pid = start_daemon(name, conf, sock, NULL, -1);
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
	assert_int_equal(
	    ctl_call(fd, "{\"id\":9,\"cmd\":\"status\"}", &ok, 2000), 0);
	snprintf(want, sizeof(want), "\"daemon\":\"%s\"", name);
	assert_non_null(strstr(ok, want));
	assert_non_null(strstr(ok, "\"id\":9"));
	free(ok);
	close(fd);

	assert_int_equal(kill(pid, 0), 0); /* still alive */
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void garbage_keeps_mobiked_up(void **state)
{
	garbage_keeps_up("mobiked", "log = { level = \"warn\"; };\n");
}

/* Role mn without an mn group: only the control socket runs, so the test
 * binds no Mobile IP port in the host's network namespace. */
static void garbage_keeps_mipd_up(void **state)
{
	garbage_keeps_up("mipd",
			 "role = \"mn\";\nlog = { level = \"error\"; };\n");
}

static void stop_daemon(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* mipd -S: its log lines go to syslog(3) (a private /dev/log, see
 * devlog.h) with the daemon facility, and nothing to stderr. */
static void mipd_syslog(void **state)
{
	char sock[600], want[128], got[8192] = "", err[512];
	int fd = devlog_open(), p[2];
	ssize_t n;
	pid_t pid;

	if (fd < 0) {
		print_message("private /dev/log: %s; skipped (needs root)\n",
			      strerror(errno));
		skip();
	}
	assert_int_equal(pipe(p), 0);
	snprintf(sock, sizeof(sock), "%s/mipd-syslog.sock", tmp);
	pid = start_daemon("mipd",
			   "role = \"mn\";\nlog = { level = \"info\"; };\n",
			   sock, "-S", p[1]);
	close(p[1]);
	stop_daemon(pid);
	devlog_read(fd, got, sizeof(got), 200);
	devlog_close(fd);
	/* LOG_DAEMON (3 << 3) + LOG_WARNING (4), LOG_INFO (6) */
	snprintf(want, sizeof(want), "mipd[%d]: [mipd] role mn without",
		 (int)pid);
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, "<28>"));
	snprintf(want, sizeof(want),
		 "mipd[%d]: [daemon] started, control socket", (int)pid);
	assert_non_null(strstr(got, want));
	assert_non_null(strstr(got, ", shutting down"));
	assert_non_null(strstr(got, "<30>"));
	n = read(p[0], err, sizeof(err) - 1);
	close(p[0]);
	err[n > 0 ? n : 0] = '\0';
	assert_string_equal(err, "");
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
	    cmocka_unit_test(garbage_keeps_mobiked_up),
	    cmocka_unit_test(garbage_keeps_mipd_up),
	    cmocka_unit_test(mipd_syslog),
	};
	char self[512];

	/* the daemons are built next to tests/: $B/tests/test_daemon */
	snprintf(self, sizeof(self), "%s", argv[0]);
	snprintf(bindir, sizeof(bindir), "%s/..", dirname(self));
	return cmocka_run_group_tests_name("daemon", tests, setup, teardown);
}
