/*
 * ctl.h - the control channel between the daemons and mobctl: a Unix stream
 * socket carrying one JSON object per line.
 *
 *   request  {"id":7,"cmd":"status","args":{...}}        (id, args optional)
 *   reply    {"id":7,"ok":true,"result":{...}}
 *            {"id":7,"ok":false,"error":"unknown command 'x'; try 'help'"}
 *   event    {"event":"addr","data":{...}}  to clients that sent
 *            {"cmd":"subscribe","args":{"events":["addr","*"]}}
 *
 * A request line longer than CTL_MAX_LINE gets an error reply and is
 * discarded up to its newline; garbage gets an error reply; neither closes
 * the connection or disturbs the daemon.
 */
#ifndef COMMON_CTL_H
#define COMMON_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "common/json.h"

#define CTL_MAX_LINE	8192
#define CTL_MAX_CLIENTS 32
#define CTL_MAX_REPLY	(1u << 20) /* client side limit */

struct eloop;
struct ctl_server;
struct ctl_conn;

struct ctl_req {
	const struct json_doc *doc;
	const char *cmd;
	int args; /* token of the "args" object, or -1 */
	struct ctl_conn *conn;
};

/* Writes the result members into `out` (an object is already open).
 * Returns 0, or -1 after writing a message for the user into err. */
typedef int (*ctl_fn)(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen);

struct ctl_cmd {
	const char *name;
	ctl_fn fn;
	const char *help;
};

/* Line assembly, separate from sockets so it can be tested and fuzzed. */
struct ctl_lines {
	char buf[CTL_MAX_LINE + 1];
	size_t len;
	bool discarding; /* inside an oversized line */
};
/* Calls on_line for each complete line (without '\n', NUL-terminated) and
 * on_oversize once per oversized line. */
void ctl_lines_feed(struct ctl_lines *lb, const char *data, size_t n,
		    void (*on_line)(void *arg, char *line, size_t len),
		    void (*on_oversize)(void *arg), void *arg);

/* Handles one request line against cmds (NULL-name terminated) and writes
 * the complete reply object into reply.  Built-in: "help". */
void ctl_dispatch(const struct ctl_cmd *cmds, void *arg, struct ctl_conn *c,
		  const char *line, size_t len, struct jw *reply);

/* Listens on path (mode 0600, a stale socket is replaced). */
struct ctl_server *ctl_server_open(struct eloop *l, const char *path,
				   const struct ctl_cmd *cmds, void *arg);
void ctl_server_close(struct ctl_server *s);
/* Sends {"event":name,"data":data_json} to subscribed clients; a client
 * that cannot keep up is dropped rather than blocking the daemon. */
void ctl_event(struct ctl_server *s, const char *name, const char *data_json);

/* Client side (mobctl, tests). */
int ctl_connect(const char *path); /* fd or -errno */
/* Sends one line, waits up to timeout_ms for one reply line; *reply is
 * malloc'd and NUL-terminated.  0 or -errno. */
int ctl_call(int fd, const char *line, char **reply, int timeout_ms);

#endif
