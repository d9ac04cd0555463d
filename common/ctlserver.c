/*
 * ctlserver.c - the daemon side of the control socket: accepts clients on
 * the event loop, frames and dispatches their request lines, queues replies
 * and events, and handles "subscribe".
 *
 * The daemon never blocks on a client: every write is non-blocking, and a
 * client whose queue grows past CTL_OUT_MAX (it stopped reading) is dropped.
 * A connection is never freed while its own callback is on the stack; it is
 * marked dead and freed when the callback unwinds.
 */
#define LOG_TAG "ctl"

#include "common/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/eloop.h"
#include "common/log.h"

#define CTL_OUT_MAX	(256u * 1024)
#define CTL_MAX_SUBS	16
#define CTL_EVENT_NAME	32
#define CTL_READ_ROUNDS 16 /* reads per wakeup, so one client cannot hog */

struct ctl_conn {
	struct ctl_server *s;
	struct ctl_conn *next;
	int fd;
	uint32_t events; /* registered with the loop */
	bool busy;	 /* its callback is running: defer the free */
	bool dead;
	bool eof; /* the client finished sending; close once drained */
	bool all_events;
	unsigned nsubs;
	char subs[CTL_MAX_SUBS][CTL_EVENT_NAME];
	char *out;
	size_t out_off, out_len, out_cap;
	struct ctl_lines lb;
};

struct ctl_server {
	struct eloop *l;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	struct ctl_cmd *cmds; /* built-ins followed by the daemon's */
	void *arg;
	struct ctl_conn *conns;
	unsigned nconns;
	struct timer accept_retry; /* after EMFILE, see on_accept */
};

static void conn_free(struct ctl_conn *c)
{
	struct ctl_server *s = c->s;
	struct ctl_conn **pp;

	for (pp = &s->conns; *pp && *pp != c; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = c->next;
	s->nconns--;
	eloop_del_fd(s->l, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void conn_drop(struct ctl_conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	if (!c->busy)
		conn_free(c);
}

static size_t pending(const struct ctl_conn *c)
{
	return c->out_len - c->out_off;
}

/* Writes what the socket takes now; -1 if the client is gone. */
static int conn_flush(struct ctl_conn *c)
{
	while (pending(c) > 0) {
		ssize_t w = send(c->fd, c->out + c->out_off, pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w < 0) {
			log_debug("client fd %d: %s", c->fd, strerror(errno));
			conn_drop(c);
			return -1;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/* Re-registers for output only while something is queued. */
static void conn_settle(struct ctl_conn *c)
{
	uint32_t ev = (c->eof ? 0 : EPOLLIN) | (pending(c) ? EPOLLOUT : 0);

	if (c->dead || c->busy)
		return;
	if (ev == 0) {
		conn_free(c);
		return;
	}
	if (ev != c->events && eloop_mod_fd(c->s->l, c->fd, ev) == 0)
		c->events = ev;
}

static int queue_append(struct ctl_conn *c, const char *text, size_t n)
{
	size_t need;

	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + n + 1;
	if (need > c->out_cap) {
		size_t cap = need < 4096 ? 4096 : need * 2;
		char *b = realloc(c->out, cap);

		if (!b)
			return -1;
		c->out = b;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, text, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
	return 0;
}

/* Queues one line (text without its newline) and tries to send it. */
static void conn_send(struct ctl_conn *c, const char *text, size_t n)
{
	if (c->dead)
		return;
	if (pending(c) + n + 1 > CTL_OUT_MAX) {
		log_warn("client fd %d is not reading its replies or events "
			 "(%zu bytes queued); dropped",
			 c->fd, pending(c));
		conn_drop(c);
		return;
	}
	if (queue_append(c, text, n) < 0) {
		log_warn("client fd %d: out of memory; dropped", c->fd);
		conn_drop(c);
		return;
	}
	if (conn_flush(c) == 0)
		conn_settle(c);
}

static void on_line(void *arg, char *line, size_t len)
{
	static const char internal[] =
	    "{\"ok\":false,\"error\":\"internal error: the reply could "
	    "not be built\"}";
	struct ctl_conn *c = arg;
	const char *text;
	struct jw reply;

	if (c->dead)
		return;
	jw_init(&reply);
	ctl_dispatch(c->s->cmds, c->s->arg, c, line, len, &reply);
	text = jw_text(&reply);
	if (!text)
		text = internal;
	conn_send(c, text, strlen(text));
	jw_free(&reply);
}

static void on_oversize(void *arg)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg),
			 "{\"ok\":false,\"error\":\"request line longer than "
			 "%d bytes; discarded\"}",
			 CTL_MAX_LINE);

	conn_send(arg, msg, (size_t)n);
}

static void conn_read(struct ctl_conn *c)
{
	char buf[4096];

	for (int i = 0; i < CTL_READ_ROUNDS && !c->dead && !c->eof; i++) {
		ssize_t r = read(c->fd, buf, sizeof(buf));

		if (r > 0) {
			ctl_lines_feed(&c->lb, buf, (size_t)r, on_line,
				       on_oversize, c);
		} else if (r == 0) {
			/* a last request without its newline still counts */
			ctl_lines_feed(&c->lb, "\n", 1, on_line, on_oversize,
				       c);
			c->eof = true;
		} else if (errno == EAGAIN) {
			return;
		} else if (errno != EINTR) {
			log_debug("client fd %d: %s", c->fd, strerror(errno));
			conn_drop(c);
		}
	}
}

static void conn_cb(void *arg, int fd, uint32_t events)
{
	struct ctl_conn *c = arg;

	c->busy = true;
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && pending(c))
		conn_flush(c);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_read(c);
	c->busy = false;
	if (c->dead)
		conn_free(c);
	else
		conn_settle(c);
}

static void refuse(int fd)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"too many "
				  "clients\"}\n";

	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("refusing client: %s", strerror(errno));
	close(fd);
}

static void conn_new(struct ctl_server *s, int fd)
{
	struct ctl_conn *c = calloc(1, sizeof(*c));

	if (!c || eloop_add_fd(s->l, fd, EPOLLIN, conn_cb, c) < 0) {
		log_warn("cannot take a control client: %s", strerror(errno));
		free(c);
		close(fd);
		return;
	}
	c->s = s;
	c->fd = fd;
	c->events = EPOLLIN;
	c->next = s->conns;
	s->conns = c;
	s->nconns++;
	log_debug("client fd %d connected (%u)", fd, s->nconns);
}

static void accept_resume(void *owner)
{
	struct ctl_server *s = owner;

	eloop_mod_fd(s->l, s->fd, EPOLLIN);
}

/* Out of descriptors: the pending connection stays in the backlog and a
 * level-triggered loop would spin on it, so stop listening for a while. */
static void accept_pause(struct ctl_server *s)
{
	log_warn("accept on %s: %s; pausing for a second", s->path,
		 strerror(errno));
	eloop_mod_fd(s->l, s->fd, 0);
	timer_arm_ms(s->l, &s->accept_retry, 1000);
}

static void on_accept(void *arg, int lfd, uint32_t events)
{
	struct ctl_server *s = arg;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				accept_pause(s);
			return;
		}
		if (s->nconns >= CTL_MAX_CLIENTS) {
			log_warn("%u control clients already; refusing one",
				 s->nconns);
			refuse(fd);
			continue;
		}
		conn_new(s, fd);
	}
}

/* ---- subscribe ---- */

static bool wants(const struct ctl_conn *c, const char *name)
{
	if (c->dead)
		return false;
	if (c->all_events)
		return true;
	for (unsigned i = 0; i < c->nsubs; i++)
		if (!strcmp(c->subs[i], name))
			return true;
	return false;
}

static int cmd_subscribe(void *arg, const struct ctl_req *req, struct jw *out,
			 char *err, size_t errlen)
{
	char names[CTL_MAX_SUBS][CTL_EVENT_NAME];
	const struct json_doc *d = req->doc;
	struct ctl_conn *c = req->conn;
	int ev = req->args < 0 ? -1 : json_get(d, req->args, "events");
	uint32_t n;

	if (!c) {
		snprintf(err, errlen, "subscribe needs a control connection");
		return -1;
	}
	if (ev < 0 || d->tok[ev].type != JSON_ARRAY) {
		snprintf(err, errlen,
			 "subscribe needs args {\"events\":"
			 "[\"addr\",\"link\"]} or [\"*\"] for all");
		return -1;
	}
	n = d->tok[ev].size;
	if (n > CTL_MAX_SUBS) {
		snprintf(err, errlen, "at most %d event names; use [\"*\"]",
			 CTL_MAX_SUBS);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (json_str(d, json_at(d, ev, i), names[i], CTL_EVENT_NAME) ||
		    !names[i][0]) {
			snprintf(err, errlen,
				 "event %u: names are short "
				 "strings like \"addr\" or \"*\"",
				 i);
			return -1;
		}
	}
	c->all_events = false;
	c->nsubs = n;
	jw_arr_begin(out, "events");
	for (uint32_t i = 0; i < n; i++) {
		c->all_events |= !strcmp(names[i], "*");
		memcpy(c->subs[i], names[i], CTL_EVENT_NAME);
		jw_str(out, NULL, names[i]);
	}
	jw_arr_end(out);
	return 0;
}

static const struct ctl_cmd builtins[] = {
    {"subscribe", cmd_subscribe,
     "args {\"events\":[\"addr\",\"link\",...]} or [\"*\"]: stream "
     "events on this connection (mobctl DAEMON monitor)"},
};

void ctl_event(struct ctl_server *s, const char *name, const char *data_json)
{
	struct ctl_conn *c, *next;
	const char *text;
	struct jw w;

	if (!s || !s->conns)
		return;
	jw_init(&w);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", name);
	if (data_json)
		jw_raw(&w, "data", data_json, strlen(data_json));
	else
		jw_null(&w, "data");
	jw_obj_end(&w);
	text = jw_text(&w);
	for (c = s->conns; text && c; c = next) {
		next = c->next; /* c may be freed by the send */
		if (wants(c, name))
			conn_send(c, text, w.len);
	}
	jw_free(&w);
}

/* ---- listening socket ---- */

/* Makes the path free for bind: a socket nobody answers on is a leftover
 * of a crashed daemon; a live one means another daemon owns the path. */
static int claim_path(const char *path)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; not replacing it",
			path);
		errno = EEXIST;
		return -1;
	}
	fd = ctl_connect(path);
	if (fd >= 0) {
		close(fd);
		log_err("%s: another daemon is answering on it", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (fd != -ECONNREFUSED) {
		errno = -fd;
		log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removing stale control socket %s", path);
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

static int listen_on(struct ctl_server *s)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int rc;

	memcpy(sa.sun_path, s->path, sizeof(sa.sun_path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -1;
	/* umask, not chmod afterwards: no window where others may connect */
	old = umask(0177);
	rc = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(s->fd, 16) < 0 || stat(s->path, &st) < 0) {
		log_err("%s: %s", s->path, strerror(errno));
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return eloop_add_fd(s->l, s->fd, EPOLLIN, on_accept, s);
}

static struct ctl_cmd *merge_cmds(const struct ctl_cmd *cmds)
{
	size_t nb = sizeof(builtins) / sizeof(builtins[0]), n = 0;
	struct ctl_cmd *all;

	while (cmds && cmds[n].name)
		n++;
	all = calloc(nb + n + 1, sizeof(*all));
	if (!all)
		return NULL;
	memcpy(all, builtins, sizeof(builtins));
	if (n)
		memcpy(all + nb, cmds, n * sizeof(*cmds));
	return all;
}

struct ctl_server *ctl_server_open(struct eloop *l, const char *path,
				   const struct ctl_cmd *cmds, void *arg)
{
	struct ctl_server *s;

	if (strlen(path) >= sizeof(s->path)) {
		log_err("control socket path %s is too long (max %zu bytes)",
			path, sizeof(s->path) - 1);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->l = l;
	s->arg = arg;
	s->fd = -1;
	timer_init(&s->accept_retry, accept_resume, s);
	strcpy(s->path, path);
	s->cmds = merge_cmds(cmds);
	if (!s->cmds || claim_path(path) < 0 || listen_on(s) < 0) {
		int e = errno;

		if (s->fd >= 0) {
			close(s->fd);
			if (s->ino)
				unlink(s->path);
		}
		free(s->cmds);
		free(s);
		errno = e;
		return NULL;
	}
	return s;
}

void ctl_server_close(struct ctl_server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	timer_cancel(s->l, &s->accept_retry);
	eloop_del_fd(s->l, s->fd);
	close(s->fd);
	/* only our own socket: a newer daemon may have taken the path */
	if (stat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	free(s->cmds);
	free(s);
}
