/*
 * test_ctl.c - the control channel: line framing, request dispatch and
 * its error replies, and a real server on a Unix socket in a temp dir,
 * driven by eloop_run_once() while non-blocking clients talk to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ctl.h"
#include "common/eloop.h"
#include "common/log.h"

/* ---- framing ---- */

struct got {
	char *line[16];
	size_t len[16];
	int n, oversize;
};

static void got_line(void *arg, char *line, size_t len)
{
	struct got *g = arg;

	assert_int_equal(line[len], '\0');
	assert_true(g->n < 16);
	g->line[g->n] = strndup(line, len);
	g->len[g->n++] = len;
}

static void got_oversize(void *arg)
{
	((struct got *)arg)->oversize++;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->line[i]);
	memset(g, 0, sizeof(*g));
}

static struct ctl_lines lb;

static void feed(struct got *g, const char *s, size_t n)
{
	ctl_lines_feed(&lb, s, n, got_line, got_oversize, g);
}

static int setup_lines(void **state)
{
	memset(&lb, 0, sizeof(lb));
	return 0;
}

static void one_byte_chunks(void **state)
{
	const char *s = "{\"cmd\":\"status\"}\n";
	struct got g = {0};

	for (size_t i = 0; s[i]; i++)
		feed(&g, s + i, 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "{\"cmd\":\"status\"}");
	got_free(&g);
}

static void several_lines_crlf_and_empty(void **state)
{
	const char *s = "a\n\nbb\r\n\r\n\n c \ntail";
	struct got g = {0};

	feed(&g, s, strlen(s));
	assert_int_equal(g.n, 3);
	assert_string_equal(g.line[0], "a");
	assert_string_equal(g.line[1], "bb");
	assert_string_equal(g.line[2], " c ");
	feed(&g, "\n", 1);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.line[3], "tail");
	assert_int_equal(g.oversize, 0);
	got_free(&g);
}

static void max_line_accepted(void **state)
{
	char *big = malloc(CTL_MAX_LINE + 2);
	struct got g = {0};

	memset(big, 'x', CTL_MAX_LINE);
	big[CTL_MAX_LINE] = '\n';
	feed(&g, big, CTL_MAX_LINE + 1);
	/* a CRLF client may send a full-length line too */
	big[CTL_MAX_LINE] = '\r';
	big[CTL_MAX_LINE + 1] = '\n';
	feed(&g, big, CTL_MAX_LINE + 1);
	feed(&g, big + CTL_MAX_LINE + 1, 1);
	assert_int_equal(g.oversize, 0);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], CTL_MAX_LINE);
	assert_int_equal(g.len[1], CTL_MAX_LINE);
	got_free(&g);
	free(big);
}

static void oversize_once_then_next_line(void **state)
{
	char *big = malloc(CTL_MAX_LINE + 8);
	struct got g = {0};

	memset(big, 'y', CTL_MAX_LINE + 1);
	memcpy(big + CTL_MAX_LINE + 1, "\nok\n", 4);
	feed(&g, big, CTL_MAX_LINE + 5);
	assert_int_equal(g.oversize, 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.line[0], "ok");
	got_free(&g);
	free(big);
}

static void oversize_across_feeds(void **state)
{
	char chunk[1000];
	struct got g = {0};

	feed(&g, "first\nsecond-", 13);
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 100; i++) /* 100 KB without a newline */
		feed(&g, chunk, sizeof(chunk));
	assert_int_equal(g.oversize, 1);
	feed(&g, "zz\r\nnext\n", 9);
	assert_int_equal(g.oversize, 1);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.line[0], "first");
	assert_string_equal(g.line[1], "next");
	got_free(&g);
}

/* ---- dispatch ---- */

static int cmd_echo(void *arg, const struct ctl_req *req, struct jw *out,
		    char *err, size_t errlen)
{
	char v[32] = "none";

	if (req->args >= 0)
		json_str(req->doc, json_get(req->doc, req->args, "v"), v,
			 sizeof(v));
	jw_str(out, "v", v);
	jw_bool(out, "conn", req->conn != NULL);
	return 0;
}

static int cmd_fail(void *arg, const struct ctl_req *req, struct jw *out,
		    char *err, size_t errlen)
{
	jw_str(out, "partial", "dropped"); /* must not leak into the reply */
	snprintf(err, errlen, "no tunnel; run 'up' first");
	return -1;
}

static int cmd_mute(void *arg, const struct ctl_req *req, struct jw *out,
		    char *err, size_t errlen)
{
	return -1;
}

static const struct ctl_cmd cmds[] = {
    {"echo", cmd_echo, "echoes args.v"},
    {"fail", cmd_fail, "always fails"},
    {"mute", cmd_mute, NULL},
    {NULL, NULL, NULL},
};

static void expect_reply(const char *req, const char *want)
{
	struct jw w;

	jw_init(&w);
	ctl_dispatch(cmds, NULL, NULL, req, strlen(req), &w);
	assert_non_null(jw_text(&w));
	if (strcmp(jw_text(&w), want))
		fail_msg("request %s\n  got  %s\n  want %s", req, jw_text(&w),
			 want);
	jw_free(&w);
}

static void dispatch_errors(void **state)
{
	expect_reply("hello", "{\"ok\":false,\"error\":\"malformed JSON at "
			      "byte 0: value expected\"}");
	expect_reply("{\"id\":1,", "{\"ok\":false,\"error\":\"malformed JSON "
				   "at byte 8: string key expected\"}");
	expect_reply("[1,2]", "{\"ok\":false,\"error\":\"a request must be a "
			      "JSON object like {\\\"cmd\\\":\\\"help\\\"}\"}");
	expect_reply("{\"id\":3}",
		     "{\"id\":3,\"ok\":false,\"error\":\"missing \\\"cmd\\\" "
		     "string; try {\\\"cmd\\\":\\\"help\\\"}\"}");
	expect_reply("{\"id\":3,\"cmd\":5}",
		     "{\"id\":3,\"ok\":false,\"error\":\"missing \\\"cmd\\\" "
		     "string; try {\\\"cmd\\\":\\\"help\\\"}\"}");
	expect_reply("{\"id\":4,\"cmd\":\"echo\",\"args\":[1]}",
		     "{\"id\":4,\"ok\":false,\"error\":\"\\\"args\\\" must be "
		     "an object\"}");
	expect_reply("{\"id\":5,\"cmd\":\"nope\"}",
		     "{\"id\":5,\"ok\":false,\"error\":\"unknown command "
		     "'nope'; try 'help'\"}");
	expect_reply("{\"cmd\":\"x\\\"y\"}",
		     "{\"ok\":false,\"error\":\"unknown command 'x\\\"y'; try "
		     "'help'\"}");
	expect_reply("{\"id\":6,\"cmd\":\"fail\"}",
		     "{\"id\":6,\"ok\":false,\"error\":\"no tunnel; run 'up' "
		     "first\"}");
	expect_reply("{\"cmd\":\"mute\"}",
		     "{\"ok\":false,\"error\":\"'mute' failed\"}");
}

static void dispatch_id_echo(void **state)
{
	/* only an integer id is echoed */
	expect_reply("{\"id\":\"7\",\"cmd\":\"nope\"}",
		     "{\"ok\":false,\"error\":\"unknown command 'nope'; try "
		     "'help'\"}");
	expect_reply("{\"id\":1.5,\"cmd\":\"nope\"}",
		     "{\"ok\":false,\"error\":\"unknown command 'nope'; try "
		     "'help'\"}");
	expect_reply("{\"cmd\":\"echo\",\"id\":-12}",
		     "{\"id\":-12,\"ok\":true,\"result\":{\"v\":\"none\","
		     "\"conn\":false}}");
	expect_reply("{\"id\":8,\"cmd\":\"echo\",\"args\":{\"v\":\"\\u00e9\"}}",
		     "{\"id\":8,\"ok\":true,\"result\":{\"v\":\"\xc3\xa9\","
		     "\"conn\":false}}");
}

static void dispatch_help(void **state)
{
	expect_reply("{\"id\":2,\"cmd\":\"help\"}",
		     "{\"id\":2,\"ok\":true,\"result\":{\"help\":\"list the "
		     "commands\",\"echo\":\"echoes args.v\",\"fail\":\"always "
		     "fails\",\"mute\":\"\"}}");
}

/* ---- server ---- */

static char dir[] = "/tmp/test_ctl.XXXXXX";
static char path[256];
static struct eloop *loop;
static struct ctl_server *srv;

struct client {
	int fd;
	size_t len;
	char buf[1 << 16];
};

static struct client *client_new(void)
{
	struct client *c = calloc(1, sizeof(*c));

	c->fd = ctl_connect(path);
	assert_true(c->fd >= 0);
	eloop_run_once(loop, 0); /* accept it */
	return c;
}

static void client_free(struct client *c)
{
	close(c->fd);
	free(c);
}

static void client_send(struct client *c, const char *s)
{
	assert_int_equal(send(c->fd, s, strlen(s), MSG_NOSIGNAL),
			 (ssize_t)strlen(s));
}

/* Runs the loop until the client has a line (copied into out without the
 * newline): 0; or -1 on EOF or after about a second. */
static int client_line(struct client *c, char *out, size_t outsz)
{
	for (int i = 0; i < 200; i++) {
		char *nl = memchr(c->buf, '\n', c->len);
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - c->buf);

			assert_true(n < outsz);
			memcpy(out, c->buf, n);
			out[n] = '\0';
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return 0;
		}
		eloop_run_once(loop, 5);
		r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len,
			 MSG_DONTWAIT);
		if (r == 0)
			return -1;
		if (r > 0)
			c->len += (size_t)r;
	}
	return -1;
}

static void expect_line(struct client *c, const char *want)
{
	char line[4096];

	assert_int_equal(client_line(c, line, sizeof(line)), 0);
	assert_string_equal(line, want);
}

static void expect_silence(struct client *c)
{
	char b;

	for (int i = 0; i < 5; i++)
		eloop_run_once(loop, 1);
	assert_int_equal(c->len, 0);
	assert_int_equal(recv(c->fd, &b, 1, MSG_DONTWAIT | MSG_PEEK), -1);
	assert_int_equal(errno, EAGAIN);
}

static int setup_server(void **state)
{
	loop = eloop_new();
	srv = ctl_server_open(loop, path, cmds, NULL);
	return loop && srv ? 0 : -1;
}

static int teardown_server(void **state)
{
	ctl_server_close(srv);
	eloop_free(loop);
	srv = NULL;
	loop = NULL;
	return 0;
}

static void request_reply(void **state)
{
	struct client *c = client_new();
	char *big = malloc(CTL_MAX_LINE + 100);
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	client_send(c, "{\"id\":1,\"cmd\":\"echo\",\"args\":{\"v\":\"hi\"}}\n"
		       "garbage\r\n");
	expect_line(c, "{\"id\":1,\"ok\":true,\"result\":{\"v\":\"hi\","
		       "\"conn\":true}}");
	expect_line(c, "{\"ok\":false,\"error\":\"malformed JSON at byte 0: "
		       "value expected\"}");
	memset(big, ' ', CTL_MAX_LINE + 99);
	big[CTL_MAX_LINE + 99] = '\0';
	client_send(c, big);
	client_send(c, "\n{\"id\":2,\"cmd\":\"echo\"}\n");
	expect_line(c, "{\"ok\":false,\"error\":\"request line longer than "
		       "8192 bytes; discarded\"}");
	expect_line(c, "{\"id\":2,\"ok\":true,\"result\":{\"v\":\"none\","
		       "\"conn\":true}}");
	/* a client that stops sending still gets its reply, then EOF */
	client_send(c, "{\"id\":3,\"cmd\":\"fail\"}\n"
		       "{\"id\":4,\"cmd\":\"echo\"}");
	shutdown(c->fd, SHUT_WR);
	expect_line(c, "{\"id\":3,\"ok\":false,\"error\":\"no tunnel; run "
		       "'up' first\"}");
	/* and EOF ends a last line sent without its newline */
	expect_line(c, "{\"id\":4,\"ok\":true,\"result\":{\"v\":\"none\","
		       "\"conn\":true}}");
	assert_int_equal(client_line(c, big, CTL_MAX_LINE), -1);
	free(big);
	client_free(c);
}

static void subscribe_and_events(void **state)
{
	struct client *a = client_new(), *b = client_new(), *all = client_new();

	client_send(a, "{\"id\":1,\"cmd\":\"subscribe\",\"args\":"
		       "{\"events\":[\"addr\",\"link\"]}}\n");
	expect_line(a, "{\"id\":1,\"ok\":true,\"result\":{\"events\":"
		       "[\"addr\",\"link\"]}}");
	client_send(all, "{\"cmd\":\"subscribe\",\"args\":{\"events\":"
			 "[\"*\"]}}\n");
	expect_line(all, "{\"ok\":true,\"result\":{\"events\":[\"*\"]}}");
	client_send(b, "{\"cmd\":\"subscribe\",\"args\":{\"events\":[1]}}\n");
	expect_line(b, "{\"ok\":false,\"error\":\"event 0: names are short "
		       "strings like \\\"addr\\\" or \\\"*\\\"\"}");
	client_send(b, "{\"cmd\":\"subscribe\"}\n");
	expect_line(b, "{\"ok\":false,\"error\":\"subscribe needs args "
		       "{\\\"events\\\":[\\\"addr\\\",\\\"link\\\"]} or "
		       "[\\\"*\\\"] for all\"}");

	ctl_event(srv, "addr", "{\"ifindex\":3}");
	ctl_event(srv, "route", NULL);
	expect_line(a, "{\"event\":\"addr\",\"data\":{\"ifindex\":3}}");
	expect_line(all, "{\"event\":\"addr\",\"data\":{\"ifindex\":3}}");
	expect_line(all, "{\"event\":\"route\",\"data\":null}");
	expect_silence(a);
	expect_silence(b);

	/* subscribing again replaces the set; [] unsubscribes */
	client_send(a, "{\"cmd\":\"subscribe\",\"args\":{\"events\":[]}}\n");
	expect_line(a, "{\"ok\":true,\"result\":{\"events\":[]}}");
	ctl_event(srv, "link", "{}");
	expect_line(all, "{\"event\":\"link\",\"data\":{}}");
	expect_silence(a);
	client_free(a);
	client_free(b);
	client_free(all);
}

static void too_many_clients(void **state)
{
	struct client *c[CTL_MAX_CLIENTS], *extra;
	char line[64];

	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		c[i] = client_new();
	extra = client_new();
	expect_line(extra, "{\"ok\":false,\"error\":\"too many clients\"}");
	assert_int_equal(client_line(extra, line, sizeof(line)), -1); /* EOF */
	client_free(extra);
	client_send(c[CTL_MAX_CLIENTS - 1], "{\"cmd\":\"echo\"}\n");
	expect_line(c[CTL_MAX_CLIENTS - 1], "{\"ok\":true,\"result\":{\"v\":"
					    "\"none\",\"conn\":true}}");
	/* a freed slot is usable again */
	client_free(c[0]);
	eloop_run_once(loop, 5);
	c[0] = client_new();
	client_send(c[0], "{\"cmd\":\"echo\"}\n");
	expect_line(c[0], "{\"ok\":true,\"result\":{\"v\":\"none\",\"conn\":"
			  "true}}");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		client_free(c[i]);
}

static void slow_client_dropped(void **state)
{
	struct client *slow = client_new(), *other = client_new();
	char data[1100], line[64];
	size_t drained = 0;
	ssize_t r;

	client_send(slow, "{\"cmd\":\"subscribe\",\"args\":{\"events\":"
			  "[\"*\"]}}\n");
	expect_line(slow, "{\"ok\":true,\"result\":{\"events\":[\"*\"]}}");
	memset(data, 'd', sizeof(data));
	memcpy(data, "\"", 1);
	memcpy(data + sizeof(data) - 2, "\"", 2);
	/* 4 MB of events: far beyond socket buffers plus the queue bound */
	for (int i = 0; i < 4000; i++)
		ctl_event(srv, "addr", data);
	client_send(other, "{\"id\":5,\"cmd\":\"echo\"}\n");
	expect_line(other, "{\"id\":5,\"ok\":true,\"result\":{\"v\":\"none\","
			   "\"conn\":true}}");
	/* the slow client finds what was in flight, then EOF */
	while ((r = recv(slow->fd, line, sizeof(line), MSG_DONTWAIT)) > 0)
		drained += (size_t)r;
	assert_int_equal(r, 0);
	assert_true(drained < 4000 * sizeof(data));
	client_free(slow);
	client_free(other);
}

/* With no descriptor left, accept fails with EMFILE and the connection
 * stays in the backlog: the server must pause rather than spin. */
static void accept_backs_off_when_out_of_fds(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct client *c = calloc(1, sizeof(*c));
	struct rlimit old, low;
	uint64_t t0;
	int lowest;

	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	lowest = dup(0);
	close(lowest);
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	strcpy(sa.sun_path, path);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	eloop_run_once(loop, 10);		       /* EMFILE: pause */
	assert_int_equal(eloop_run_once(loop, 50), 0); /* and no spinning */
	setrlimit(RLIMIT_NOFILE, &old);
	client_send(c, "{\"cmd\":\"echo\"}\n");
	t0 = mono_ms();
	eloop_run_once(loop, 1500); /* the retry timer */
	expect_line(c, "{\"ok\":true,\"result\":{\"v\":\"none\",\"conn\":"
		       "true}}");
	assert_true(mono_ms() - t0 >= 800); /* it really was paused */
	client_free(c);
}

static void make_stale_socket(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	strcpy(sa.sun_path, path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd); /* never listened: connecting gets ECONNREFUSED */
}

static void socket_lifecycle(void **state)
{
	struct eloop *l = eloop_new();
	struct ctl_server *s, *s2;
	struct client *c;
	struct stat st;

	make_stale_socket();
	s = ctl_server_open(l, path, cmds, NULL);
	assert_non_null(s);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a live daemon keeps its socket */
	s2 = ctl_server_open(l, path, cmds, NULL);
	assert_null(s2);
	assert_int_equal(errno, EADDRINUSE);
	loop = l;
	c = client_new();
	client_send(c, "{\"cmd\":\"echo\"}\n");
	expect_line(c, "{\"ok\":true,\"result\":{\"v\":\"none\",\"conn\":"
		       "true}}");
	client_free(c);
	loop = NULL;

	ctl_server_close(s);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);

	/* a file that is not a socket is never replaced */
	fclose(fopen(path, "w"));
	assert_null(ctl_server_open(l, path, cmds, NULL));
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
	eloop_free(l);
}

static int setup(void **state)
{
	log_set_level(NULL, L_ERR); /* the drops are expected here */
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(one_byte_chunks, setup_lines),
	    cmocka_unit_test_setup(several_lines_crlf_and_empty, setup_lines),
	    cmocka_unit_test_setup(max_line_accepted, setup_lines),
	    cmocka_unit_test_setup(oversize_once_then_next_line, setup_lines),
	    cmocka_unit_test_setup(oversize_across_feeds, setup_lines),
	    cmocka_unit_test(dispatch_errors),
	    cmocka_unit_test(dispatch_id_echo),
	    cmocka_unit_test(dispatch_help),
	    cmocka_unit_test_setup_teardown(request_reply, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(subscribe_and_events, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(too_many_clients, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(slow_client_dropped, setup_server,
					    teardown_server),
	    cmocka_unit_test_setup_teardown(accept_backs_off_when_out_of_fds,
					    setup_server, teardown_server),
	    cmocka_unit_test(socket_lifecycle),
	};

	return cmocka_run_group_tests_name("ctl", tests, setup, teardown);
}
