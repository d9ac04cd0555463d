/*
 * mobiked - IKEv2/MOBIKE VPN client.  This file wires configuration, the
 * event loop, the control socket, the IKE sockets, the userspace data
 * plane and the IKE engine; on SIGTERM/SIGINT it deletes the IKE SA
 * (waiting at most a second for the answer) before exiting.
 */
#define LOG_TAG "mobiked"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/daemon.h"
#include "common/eloop.h"
#include "common/json.h"
#include "common/log.h"
#include "mobiked/conf.h"
#include "mobiked/dp.h"
#include "mobiked/ike.h"

#define SHUTDOWN_WAIT_MS 1000

struct mobiked {
	struct daemon d;
	uint64_t started_ns;
	struct mobiked_conf conf;
	struct ike_net *net;
	struct dp *dp;
	struct ike_engine *ike;
};

static int cmd_status(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen)
{
	struct mobiked *m = arg;

	jw_str(out, "daemon", "mobiked");
	jw_int(out, "pid", getpid());
	jw_uint(out, "uptime_s", (mono_ns() - m->started_ns) / NS_PER_S);
	if (m->ike)
		ike_engine_status(m->ike, out);
	else
		jw_str(out, "ike_sa", "none");
	return 0;
}

static int cmd_up(void *arg, const struct ctl_req *req, struct jw *out,
		  char *err, size_t errlen)
{
	struct mobiked *m = arg;

	if (!m->ike || ike_engine_up(m->ike) < 0) {
		snprintf(err, errlen, "no connection configured");
		return -1;
	}
	jw_str(out, "result", "connecting");
	return 0;
}

static int cmd_down(void *arg, const struct ctl_req *req, struct jw *out,
		    char *err, size_t errlen)
{
	struct mobiked *m = arg;

	if (!m->ike) {
		snprintf(err, errlen, "no connection configured");
		return -1;
	}
	ike_engine_down(m->ike);
	jw_str(out, "result", "deleting");
	return 0;
}

static int cmd_rekey(void *arg, const struct ctl_req *req, struct jw *out,
		     char *err, size_t errlen)
{
	struct mobiked *m = arg;
	char what[8] = "child";

	if (req->args >= 0 && json_get(req->doc, req->args, "sa") >= 0 &&
	    json_str(req->doc, json_get(req->doc, req->args, "sa"), what,
		     sizeof(what)) < 0)
		what[0] = 0;
	if (strcmp(what, "ike") && strcmp(what, "child")) {
		snprintf(err, errlen, "sa=ike or sa=child");
		return -1;
	}
	if (!m->ike || (what[0] == 'i' ? ike_engine_rekey_ike(m->ike)
				       : ike_engine_rekey(m->ike)) < 0) {
		snprintf(err, errlen, "no %s SA to rekey (or busy)",
			 what[0] == 'i' ? "IKE" : "CHILD");
		return -1;
	}
	jw_str(out, "result", "rekeying");
	return 0;
}

static const struct ctl_cmd commands[] = {
    {"status", cmd_status, "IKE/CHILD SA state, tunnel address, counters"},
    {"up", cmd_up, "bring the VPN connection up (and keep it up)"},
    {"down", cmd_down, "delete the IKE SA and stay down"},
    {"rekey", cmd_rekey, "rekey the CHILD_SA now (sa=ike: the IKE SA)"},
    {NULL, NULL, NULL},
};

static int load_config(struct mobiked *m)
{
	static const char *const keys[] = {"connection", NULL};
	char sum[160];
	struct cfg c;
	int rc = 0;

	/* both parts run so that -t lists every error at once */
	if (cfg_open(&c, m->d.config_path) == 0) {
		daemon_config(&m->d, &c, keys);
		mobiked_conf_load(&c, &m->conf);
	}
	if (c.nerr)
		rc = daemon_config_failed(&m->d, &c);
	else if (m->d.check_only)
		printf("%s: configuration OK (%s)\n", c.path,
		       mobiked_conf_summary(&m->conf, sum, sizeof(sum)));
	cfg_close(&c);
	return rc;
}

static void net_rx(void *arg, const uint8_t *p, size_t n,
		   const struct sockaddr_storage *local,
		   const struct sockaddr_storage *remote, bool via_4500)
{
	struct mobiked *m = arg;

	ike_engine_input(m->ike, p, n, local, remote, via_4500);
}

static void dp_event(void *arg, uint32_t spi_in, enum dp_event ev)
{
	struct mobiked *m = arg;

	if (m->ike)
		ike_engine_dp_event(m->ike, spi_in, (int)ev);
}

/* Sockets, engine, then the data plane on the 4500 socket of the first
 * gateway's family (ESP-in-UDP leaves from the IKE port, RFC 3948). */
static int ike_start(struct mobiked *m)
{
	struct eloop *l = m->d.loop;
	struct ike_io io;
	int fd;

	if (!m->conf.configured)
		return 0;
	m->net = ike_net_new(l, net_rx, m);
	if (!m->net)
		return -1;
	ike_net_io(m->net, &io);
	m->ike = ike_engine_new(l, &m->conf, &io, NULL, true);
	if (!m->ike)
		return -1;
	fd = ike_net_fd_4500(m->net, m->conf.gateway[0].addr.family);
	m->dp =
	    fd >= 0 ? dp_user_new(l, fd, m->conf.tun_name, dp_event, m) : NULL;
	if (!m->dp) {
		log_err("cannot create the data plane (TUN %s)",
			m->conf.tun_name);
		return -1;
	}
	ike_engine_set_dp(m->ike, m->dp);
	ike_net_set_dp(m->net, m->dp);
	if (m->conf.autostart == CONF_AUTO_START)
		ike_engine_up(m->ike);
	return 0;
}

/* Delete the IKE SA and give the gateway a moment to answer. */
static void ike_stop(struct mobiked *m)
{
	uint64_t end = mono_ns() + SHUTDOWN_WAIT_MS * 1000000ull;

	if (m->ike) {
		ike_engine_down(m->ike);
		while (!ike_engine_idle(m->ike) && mono_ns() < end)
			eloop_run_once(m->d.loop, 50);
	}
	ike_engine_free(m->ike);
	if (m->dp)
		m->dp->ops->free(m->dp);
	ike_net_free(m->net);
	m->ike = NULL;
	m->dp = NULL;
	m->net = NULL;
}

int main(int argc, char **argv)
{
	static struct mobiked m = {.d.name = "mobiked"};
	int rc;

	daemon_args(&m.d, argc, argv);
	rc = load_config(&m);
	if (rc || m.d.check_only)
		return rc;
	m.d.arg = &m;
	m.started_ns = mono_ns();
	if (daemon_start(&m.d, commands) < 0 || ike_start(&m) < 0)
		rc = 1;
	else
		rc = daemon_run(&m.d);
	ike_stop(&m);
	daemon_stop(&m.d);
	mobiked_conf_free(&m.conf);
	return rc;
}
