/*
 * mipd - Mobile IP daemon in one of three roles: mobile node, home agent or
 * foreign agent.  This file wires configuration, the event loop and the
 * control socket; the protocol code of each role lands beside it.
 */
#define LOG_TAG "mipd"

#include <malloc.h>
#include <stdio.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/eloop.h"
#include "common/log.h"
#include "mipd/conf.h"
#include "mipd/fa.h"
#include "mipd/ha.h"
#include "mipd/mn.h"

struct mipd {
	struct daemon d;
	struct mipd_conf conf;
	struct ha *ha; /* role ha */
	struct fa *fa; /* role fa */
	struct mn *mn; /* role mn */
	uint64_t started_ns;
};

static int cmd_status(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen)
{
	struct mipd *m = arg;

	jw_str(out, "daemon", "mipd");
	jw_str(out, "role", mipd_role_names[m->conf.role]);
	jw_int(out, "pid", getpid());
	jw_uint(out, "uptime_s", (mono_ns() - m->started_ns) / NS_PER_S);
	if (m->ha)
		ha_ctl_status(m->ha, out);
	if (m->fa)
		fa_ctl_status(m->fa, out);
	if (m->mn)
		mn_ctl_status(m->mn, out);
	return 0;
}

static int cmd_bindings(void *arg, const struct ctl_req *req, struct jw *out,
			char *err, size_t errlen)
{
	struct mipd *m = arg;

	if (!m->ha) {
		snprintf(err, errlen,
			 "'bindings' is a home agent command; this mipd runs "
			 "as role %s",
			 mipd_role_names[m->conf.role]);
		return -1;
	}
	ha_ctl_bindings(m->ha, out);
	return 0;
}

static int cmd_visitors(void *arg, const struct ctl_req *req, struct jw *out,
			char *err, size_t errlen)
{
	struct mipd *m = arg;

	if (!m->fa) {
		snprintf(err, errlen,
			 "'visitors' is a foreign agent command; this mipd "
			 "runs as role %s",
			 mipd_role_names[m->conf.role]);
		return -1;
	}
	fa_ctl_visitors(m->fa, out);
	return 0;
}

static const struct ctl_cmd commands[] = {
    {"status", cmd_status, "role, registration state and mode"},
    {"bindings", cmd_bindings,
     "home agent binding cache: home address, care-of, lifetime"},
    {"visitors", cmd_visitors,
     "foreign agent visitor list: home address, home agent, MAC, "
     "lifetime, state"},
    {NULL, NULL, NULL},
};

static int load_config(struct mipd *m)
{
	struct cfg c;
	int rc = 0;

	if (cfg_open(&c, m->d.config_path) == 0) {
		daemon_config(&m->d, &c, mipd_conf_keys);
		if (cfg_enum(&c, NULL, "role", mipd_role_names, &m->conf.role,
			     true) == 0)
			mipd_conf_load(&c, &m->conf);
	}
	if (c.nerr)
		rc = daemon_config_failed(&m->d, &c);
	else if (m->d.check_only)
		printf("%s: configuration OK (role %s)\n", c.path,
		       mipd_role_names[m->conf.role]);
	cfg_close(&c);
	/* the parsed tree of a large mobile_nodes list is freed now, but
	 * glibc keeps its pages (~0.6 KiB per node) until told */
	malloc_trim(0);
	return rc;
}

static int start_fa(struct mipd *m)
{
	m->fa = fa_new(m->d.loop, &m->conf.fa);
	if (!m->fa || fa_start(m->fa) < 0) {
		log_err("foreign agent failed to start");
		return -1;
	}
	return 0;
}

static void mn_nl(void *arg, const struct nl_event *ev)
{
	struct mipd *m = arg;

	mn_on_nl(m->mn, ev);
}

static int start_mn(struct mipd *m)
{
	if (!m->conf.mn.configured) {
		log_warn("role mn without an 'mn' group (home_address, "
			 "home_agent, key_file...): idle, control socket only");
		return 0;
	}
	m->mn = mn_new(m->d.loop, &m->conf.mn);
	if (!m->mn || mn_start(m->mn) < 0) {
		log_err("mobile node failed to start");
		return -1;
	}
	m->d.on_nl = mn_nl;
	/* the first dump may have been read already: ask again */
	return nlmon_dump(m->d.nl) < 0 ? -1 : 0;
}

static int start_role(struct mipd *m)
{
	if (m->conf.role == ROLE_MN)
		return start_mn(m);
	if (m->conf.role == ROLE_FA)
		return start_fa(m);
	if (m->conf.role != ROLE_HA) {
		log_info("role %s: only the control socket runs in this "
			 "version",
			 mipd_role_names[m->conf.role]);
		return 0;
	}
	m->ha = ha_new(m->d.loop, &m->conf.ha, true);
	if (!m->ha || ha_start(m->ha) < 0) {
		log_err("home agent failed to start");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct mipd m = {.d.name = "mipd"};
	int rc;

	daemon_args(&m.d, argc, argv);
	rc = load_config(&m);
	if (rc || m.d.check_only) {
		mipd_conf_free(&m.conf);
		return rc;
	}
	m.d.arg = &m;
	m.started_ns = mono_ns();
	if (daemon_start(&m.d, commands) < 0 || start_role(&m) < 0)
		rc = 1;
	else
		rc = daemon_run(&m.d);
	ha_free(m.ha);
	fa_free(m.fa);
	mn_free(m.mn);
	daemon_stop(&m.d);
	mipd_conf_free(&m.conf);
	return rc;
}
