/*
 * mobiked - IKEv2/MOBIKE VPN client.  This file wires configuration, the
 * event loop and the control socket; the IKE engine lands beside it.
 */
#define LOG_TAG "mobiked"

#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/log.h"

struct mobiked {
	struct daemon d;
	uint64_t started_ns;
};

static int cmd_status(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen)
{
	struct mobiked *m = arg;

	jw_str(out, "daemon", "mobiked");
	jw_int(out, "pid", getpid());
	jw_uint(out, "uptime_s", (mono_ns() - m->started_ns) / NS_PER_S);
	jw_str(out, "ike_sa", "none");
	return 0;
}

static const struct ctl_cmd commands[] = {
	{ "status", cmd_status, "IKE/CHILD SA state, tunnel address, counters" },
	{ NULL, NULL, NULL },
};

static int load_config(struct mobiked *m)
{
	struct cfg c;
	int rc = 0;

	if (cfg_open(&c, m->d.config_path) < 0 ||
	    daemon_config(&m->d, &c, NULL) < 0)
		rc = daemon_config_failed(&m->d, &c);
	else if (m->d.check_only)
		printf("%s: configuration OK\n", c.path);
	cfg_close(&c);
	return rc;
}

int main(int argc, char **argv)
{
	static struct mobiked m = { .d.name = "mobiked" };
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
