/*
 * mipd - Mobile IP daemon in one of three roles: mobile node, home agent or
 * foreign agent.  This file wires configuration, the event loop and the
 * control socket; the protocol code of each role lands beside it.
 */
#define LOG_TAG "mipd"

#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"

enum role { ROLE_MN, ROLE_HA, ROLE_FA };
static const char *const role_names[] = { "mn", "ha", "fa", NULL };

struct mipd {
	struct daemon d;
	int role;
	uint64_t started_ns;
};

static int cmd_status(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen)
{
	struct mipd *m = arg;

	jw_str(out, "daemon", "mipd");
	jw_str(out, "role", role_names[m->role]);
	jw_int(out, "pid", getpid());
	jw_uint(out, "uptime_s", (mono_ns() - m->started_ns) / NS_PER_S);
	return 0;
}

static const struct ctl_cmd commands[] = {
	{ "status", cmd_status, "role, registration state and mode" },
	{ NULL, NULL, NULL },
};

static int load_config(struct mipd *m)
{
	static const char *const keys[] = { "role", NULL };
	struct cfg c;
	int rc = 0;

	if (cfg_open(&c, m->d.config_path) == 0) {
		daemon_config(&m->d, &c, keys);
		cfg_enum(&c, NULL, "role", role_names, &m->role, true);
	}
	if (c.nerr)
		rc = daemon_config_failed(&m->d, &c);
	else if (m->d.check_only)
		printf("%s: configuration OK (role %s)\n", c.path,
		       role_names[m->role]);
	cfg_close(&c);
	return rc;
}

int main(int argc, char **argv)
{
	static struct mipd m = { .d.name = "mipd" };
	int rc;

	daemon_args(&m.d, argc, argv);
	rc = load_config(&m);
	if (rc || m.d.check_only)
		return rc;
	m.d.arg = &m;
	m.started_ns = mono_ns();
	rc = daemon_start(&m.d, commands) < 0 ? 1 : daemon_run(&m.d);
	daemon_stop(&m.d);
	return rc;
}
