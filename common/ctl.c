/*
 * ctl.c - the socket-free half of the control channel: line framing,
 * request dispatch and reply building, plus the blocking client calls
 * mobctl and the tests use.  The listening side is in ctlserver.c.
 */
#define LOG_TAG "ctl"

#include "common/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Requests are small objects; a line that needs more tokens than this
 * (thousands of array elements) gets a "too many values" error. */
#define CTL_MAX_TOKENS 1024
#define CTL_MAX_CMD    64

/* ---- framing ---- */

/* Appends the bytes before a newline, or starts discarding when the line
 * grows past the limit.  One '\r' beyond the limit is tolerated so that a
 * CRLF client may send a full-length line. */
static void lines_append(struct ctl_lines *lb, const char *data, size_t n,
			 void (*on_oversize)(void *arg), void *arg)
{
	size_t total;

	if (lb->discarding || n == 0)
		return;
	total = lb->len + n;
	if (total <= CTL_MAX_LINE ||
	    (total == CTL_MAX_LINE + 1 && data[n - 1] == '\r')) {
		memcpy(lb->buf + lb->len, data, n);
		lb->len = total;
		return;
	}
	lb->discarding = true;
	lb->len = 0;
	if (on_oversize)
		on_oversize(arg);
}

static void lines_finish(struct ctl_lines *lb,
			 void (*on_line)(void *arg, char *line, size_t len),
			 void *arg)
{
	size_t len = lb->len;

	lb->len = 0;
	if (lb->discarding) {
		lb->discarding = false;
		return;
	}
	if (len > 0 && lb->buf[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	lb->buf[len] = '\0';
	on_line(arg, lb->buf, len);
}

void ctl_lines_feed(struct ctl_lines *lb, const char *data, size_t n,
		    void (*on_line)(void *arg, char *line, size_t len),
		    void (*on_oversize)(void *arg), void *arg)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl ? (size_t)(nl - data) : n;

		lines_append(lb, data, seg, on_oversize, arg);
		if (!nl)
			return;
		lines_finish(lb, on_line, arg);
		data += seg + 1;
		n -= seg + 1;
	}
}

/* ---- dispatch ---- */

static void reply_error(struct jw *w, bool has_id, long long id,
			const char *msg)
{
	jw_reset(w);
	jw_obj_begin(w, NULL);
	if (has_id)
		jw_int(w, "id", id);
	jw_bool(w, "ok", false);
	jw_str(w, "error", msg);
	jw_obj_end(w);
}

static const struct ctl_cmd *find_cmd(const struct ctl_cmd *cmds,
				      const char *name)
{
	for (; cmds && cmds->name; cmds++)
		if (!strcmp(cmds->name, name))
			return cmds;
	return NULL;
}

static void write_help(const struct ctl_cmd *cmds, struct jw *out)
{
	jw_str(out, "help", "list the commands");
	for (; cmds && cmds->name; cmds++)
		if (strcmp(cmds->name, "help"))
			jw_str(out, cmds->name, cmds->help ? cmds->help : "");
}

/* Checks the request's shape; fills req and cmd, or writes an error. */
static int check_request(const struct json_doc *d, struct ctl_req *req,
			 char *cmd, char *err, size_t errlen)
{
	int t;

	if (d->tok[0].type != JSON_OBJECT) {
		snprintf(err, errlen,
			 "a request must be a JSON object like "
			 "{\"cmd\":\"help\"}");
		return -1;
	}
	t = json_get(d, 0, "cmd");
	if (t < 0 || d->tok[t].type != JSON_STRING) {
		snprintf(err, errlen,
			 "missing \"cmd\" string; try "
			 "{\"cmd\":\"help\"}");
		return -1;
	}
	if (json_str(d, t, cmd, CTL_MAX_CMD) < 0) {
		snprintf(err, errlen,
			 "\"cmd\" is not a valid command name; "
			 "try 'help'");
		return -1;
	}
	req->args = json_get(d, 0, "args");
	if (req->args >= 0 && d->tok[req->args].type != JSON_OBJECT) {
		snprintf(err, errlen, "\"args\" must be an object");
		return -1;
	}
	req->cmd = cmd;
	return 0;
}

/* Runs the command into reply; -1 with err set if it failed. */
static int run_cmd(const struct ctl_cmd *cmds, void *arg,
		   const struct ctl_req *req, bool has_id, long long id,
		   struct jw *reply, char *err, size_t errlen)
{
	const struct ctl_cmd *c = find_cmd(cmds, req->cmd);
	bool help = !c && !strcmp(req->cmd, "help");

	if (!c && !help) {
		snprintf(err, errlen, "unknown command '%s'; try 'help'",
			 req->cmd);
		return -1;
	}
	jw_obj_begin(reply, NULL);
	if (has_id)
		jw_int(reply, "id", id);
	jw_bool(reply, "ok", true);
	jw_obj_begin(reply, "result");
	if (help) {
		write_help(cmds, reply);
	} else if (c->fn(arg, req, reply, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "'%s' failed", req->cmd);
		return -1;
	}
	jw_obj_end(reply);
	jw_obj_end(reply);
	return 0;
}

void ctl_dispatch(const struct ctl_cmd *cmds, void *arg, struct ctl_conn *c,
		  const char *line, size_t len, struct jw *reply)
{
	struct json_tok toks[CTL_MAX_TOKENS];
	struct ctl_req req = {.args = -1, .conn = c};
	char cmd[CTL_MAX_CMD], err[256] = "";
	struct json_doc d;
	long long id = 0;
	bool has_id;

	jw_reset(reply);
	if (json_parse(&d, line, len, toks, CTL_MAX_TOKENS) < 0) {
		snprintf(err, sizeof(err), "malformed JSON at byte %zu: %s",
			 d.error_at, d.error);
		reply_error(reply, false, 0, err);
		return;
	}
	req.doc = &d;
	has_id = d.tok[0].type == JSON_OBJECT &&
		 json_int(&d, json_get(&d, 0, "id"), &id) == 0;
	if (check_request(&d, &req, cmd, err, sizeof(err)) < 0 ||
	    run_cmd(cmds, arg, &req, has_id, id, reply, err, sizeof(err)) < 0)
		reply_error(reply, has_id, id, err);
}

/* ---- client ---- */

int ctl_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline (< 0: none); 0 or -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int left = -1, r;

	if (deadline >= 0) {
		long long d = deadline - now_ms();

		left = d > 0 ? (int)(d > 1000000 ? 1000000 : d) : 0;
	}
	r = poll(&p, 1, left);
	if (r < 0)
		return errno == EINTR ? 0 : -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int write_all(int fd, const char *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if ((rc = wait_fd(fd, POLLOUT, deadline)) < 0)
			return rc;
	}
	return 0;
}

/* Reads exactly one line (peeking first so that bytes after the newline,
 * e.g. events following a subscribe reply, stay in the socket). */
static int read_line(int fd, char **out, long long deadline)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;

	for (;;) {
		char tmp[4096], *nb, *nl;
		ssize_t r = recv(fd, tmp, sizeof(tmp), MSG_PEEK | MSG_DONTWAIT);
		size_t take;
		int rc;

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			rc = r == 0 ? -ECONNRESET : -errno;
			free(buf);
			return rc;
		}
		if (r < 0) {
			if ((rc = wait_fd(fd, POLLIN, deadline)) < 0) {
				free(buf);
				return rc;
			}
			continue;
		}
		nl = memchr(tmp, '\n', (size_t)r);
		take = nl ? (size_t)(nl - tmp) + 1 : (size_t)r;
		if (len + take > CTL_MAX_REPLY) {
			free(buf);
			return -EMSGSIZE;
		}
		if (len + take + 1 > cap) {
			cap = (len + take + 1) * 2;
			if (!(nb = realloc(buf, cap))) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		if (recv(fd, buf + len, take, 0) != (ssize_t)take) {
			free(buf);
			return -EIO;
		}
		len += take;
		if (nl) {
			buf[len - 1] = '\0';
			*out = buf;
			return 0;
		}
	}
}

static bool is_event(const char *line)
{
	return !strncmp(line, "{\"event\":", 9);
}

int ctl_call(int fd, const char *line, char **reply, int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t n = strlen(line);
	char *msg;
	int rc;

	*reply = NULL;
	if (!(msg = malloc(n + 2)))
		return -ENOMEM;
	memcpy(msg, line, n);
	memcpy(msg + n, "\n", 2);
	rc = write_all(fd, msg, n + 1, deadline);
	free(msg);
	while (rc == 0) {
		char *got;

		if ((rc = read_line(fd, &got, deadline)) < 0)
			break;
		if (!is_event(got)) {
			*reply = got;
			return 0;
		}
		free(got);
	}
	return rc;
}
