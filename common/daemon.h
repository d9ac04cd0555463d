/*
 * daemon.h - what mobiked and mipd share around their protocol code:
 * command line, the common config groups (log, control), the event loop
 * with SIGINT/SIGTERM/SIGHUP, the control socket and the netlink monitor
 * feeding link/address/route events to the daemon and to subscribers.
 */
#ifndef COMMON_DAEMON_H
#define COMMON_DAEMON_H

#include <stdbool.h>

#include "common/cfg.h"
#include "common/ctl.h"
#include "common/nl.h"

struct eloop;

struct daemon {
	const char *name;
	const char *config_path;
	char ctl_path[108];	  /* sun_path size */
	const char *cli_log_spec; /* -d, wins over the config */
	bool check_only;	  /* -t */
	bool use_syslog;
	struct eloop *loop;
	struct ctl_server *ctl;
	struct nlmon *nl;
	nl_event_cb on_nl; /* the daemon's own netlink handler, may be NULL */
	void *arg;
};

/* Parses the command line; exits on -h/-V or a usage error. */
void daemon_args(struct daemon *d, int argc, char **argv);
/* Reads the "log" and "control" groups; names the other top-level keys the
 * daemon accepts so typos are caught. */
int daemon_config(struct daemon *d, struct cfg *c,
		  const char *const *daemon_keys);
/* Prints every config error (file:line: ...) for the admin; exit code. */
int daemon_config_failed(struct daemon *d, struct cfg *c);
/* Loop, signals, control socket (cmds plus built-in "status"-less basics),
 * netlink monitor with an initial dump.  0 or -1 (logged). */
int daemon_start(struct daemon *d, const struct ctl_cmd *cmds);
/* Runs until SIGINT/SIGTERM; returns the process exit code. */
int daemon_run(struct daemon *d);
void daemon_stop(struct daemon *d);

#endif
