#define LOG_TAG "daemon"

#include "common/daemon.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/eloop.h"
#include "common/log.h"

#ifndef SUITE_VERSION
#define SUITE_VERSION "0.1.0"
#endif

static void usage(const struct daemon *d, FILE *f)
{
	fprintf(f,
		"usage: %s [-t] [-c FILE] [-s SOCKET] [-d LEVELS] [-S]\n"
		"  -c FILE    configuration (default /etc/mobility/%s.conf)\n"
		"  -t         check the configuration and exit\n"
		"  -s SOCKET  control socket (overrides control.socket)\n"
		"  -d LEVELS  log levels, e.g. debug or info,nl=debug\n"
		"  -S         log to syslog instead of stderr\n"
		"  -V         print the version\n",
		d->name, d->name);
}

void daemon_args(struct daemon *d, int argc, char **argv)
{
	static char conf[128];
	int opt;

	snprintf(conf, sizeof(conf), "/etc/mobility/%s.conf", d->name);
	d->config_path = conf;
	snprintf(d->ctl_path, sizeof(d->ctl_path), "/run/%s.sock", d->name);
	while ((opt = getopt(argc, argv, "c:d:hs:tSV")) != -1) {
		switch (opt) {
		case 'c':
			d->config_path = optarg;
			break;
		case 'd':
			d->cli_log_spec = optarg;
			break;
		case 's':
			snprintf(d->ctl_path, sizeof(d->ctl_path), "%s",
				 optarg);
			break;
		case 't':
			d->check_only = true;
			break;
		case 'S':
			d->use_syslog = true;
			break;
		case 'V':
			printf("%s %s\n", d->name, SUITE_VERSION);
			exit(0);
		case 'h':
			usage(d, stdout);
			exit(0);
		default:
			usage(d, stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", d->name,
			argv[optind]);
		usage(d, stderr);
		exit(2);
	}
	if (d->cli_log_spec && log_set_spec(d->cli_log_spec) < 0) {
		fprintf(stderr,
			"%s: -d %s: use levels error, warn, info, "
			"debug, secret, optionally per subsystem "
			"(info,ike=debug)\n",
			d->name, d->cli_log_spec);
		exit(2);
	}
	log_init(d->name, d->use_syslog);
}

static int config_log(struct daemon *d, struct cfg *c)
{
	static const char *const keys[] = {"level", "syslog", NULL};
	const config_setting_t *g = cfg_group(c, NULL, "log", false);
	const char *spec = NULL;
	bool sys = false;

	if (!g)
		return 0;
	cfg_keys(c, g, keys);
	if (cfg_str(c, g, "level", &spec, false) == 0 && spec &&
	    !d->cli_log_spec && log_set_spec(spec) < 0)
		cfg_error(
		    c, config_setting_get_member(g, "level"),
		    "'level' = \"%s\": use error, warn, info, debug or "
		    "secret, optionally per subsystem (\"info,ike=debug\")",
		    spec);
	if (cfg_bool(c, g, "syslog", &sys, false) == 0 && sys &&
	    !d->use_syslog && !d->check_only) {
		d->use_syslog = true;
		log_init(d->name, true);
	}
	return 0;
}

static int config_control(struct daemon *d, struct cfg *c, bool cli_socket)
{
	static const char *const keys[] = {"socket", NULL};
	const config_setting_t *g = cfg_group(c, NULL, "control", false);
	const char *path = NULL;

	if (!g)
		return 0;
	cfg_keys(c, g, keys);
	if (cfg_str(c, g, "socket", &path, false) < 0 || !path || cli_socket)
		return 0;
	if (strlen(path) >= sizeof(d->ctl_path)) {
		cfg_error(c, config_setting_get_member(g, "socket"),
			  "'socket' path is longer than %zu bytes",
			  sizeof(d->ctl_path) - 1);
		return -1;
	}
	strcpy(d->ctl_path, path);
	return 0;
}

int daemon_config(struct daemon *d, struct cfg *c,
		  const char *const *daemon_keys)
{
	const char *keys[32];
	char defpath[128];
	size_t n = 0;

	keys[n++] = "log";
	keys[n++] = "control";
	for (; daemon_keys && *daemon_keys && n < 31; daemon_keys++)
		keys[n++] = *daemon_keys;
	keys[n] = NULL;
	cfg_keys(c, NULL, keys);
	config_log(d, c);
	/* -s given on the command line wins over control.socket */
	snprintf(defpath, sizeof(defpath), "/run/%s.sock", d->name);
	config_control(d, c, strcmp(defpath, d->ctl_path) != 0);
	return c->nerr ? -1 : 0;
}

int daemon_config_failed(struct daemon *d, struct cfg *c)
{
	fprintf(stderr, "%s", c->err);
	fprintf(stderr,
		"%s: %d error%s in %s; fix and check with: %s -t -c %s\n",
		d->name, c->nerr, c->nerr == 1 ? "" : "s", c->path, d->name,
		c->path);
	return 1;
}

static void on_signal(void *arg, int signo)
{
	struct daemon *d = arg;

	if (signo == SIGHUP) {
		log_info("SIGHUP: reload is not supported yet; restart to "
			 "apply a new configuration");
		return;
	}
	log_info("%s, shutting down", strsignal(signo));
	eloop_stop(d->loop, 0);
}

static void publish_nl(struct daemon *d, const struct nl_event *ev)
{
	char a[IPADDR_STRLEN], b[IPADDR_STRLEN];
	char json[256];

	switch (ev->type) {
	case NL_LINK_NEW:
	case NL_LINK_DEL:
		snprintf(json, sizeof(json),
			 "{\"type\":\"%s\",\"ifindex\":%d,\"name\":\"%s\","
			 "\"up\":%s,\"carrier\":%s}",
			 nl_event_name(ev->type), ev->link.ifindex,
			 ev->link.name, ev->link.up ? "true" : "false",
			 ev->link.carrier ? "true" : "false");
		ctl_event(d->ctl, "link", json);
		break;
	case NL_ADDR_NEW:
	case NL_ADDR_DEL:
		snprintf(json, sizeof(json),
			 "{\"type\":\"%s\",\"ifindex\":%d,\"addr\":\"%s/%u\","
			 "\"tentative\":%s}",
			 nl_event_name(ev->type), ev->addr.ifindex,
			 ipaddr_str(&ev->addr.addr, a), ev->addr.plen,
			 ev->addr.tentative ? "true" : "false");
		ctl_event(d->ctl, "addr", json);
		break;
	case NL_ROUTE_NEW:
	case NL_ROUTE_DEL:
		snprintf(
		    json, sizeof(json),
		    "{\"type\":\"%s\",\"dst\":\"%s/%u\",\"gateway\":\"%s\","
		    "\"oif\":%d,\"table\":%u,\"metric\":%u}",
		    nl_event_name(ev->type), ipaddr_str(&ev->route.dst, a),
		    ev->route.dst_len, ipaddr_str(&ev->route.gateway, b),
		    ev->route.oif, ev->route.table, ev->route.metric);
		ctl_event(d->ctl, "route", json);
		break;
	}
}

static void on_nl(void *arg, const struct nl_event *ev)
{
	struct daemon *d = arg;

	publish_nl(d, ev);
	if (d->on_nl)
		d->on_nl(d->arg, ev);
}

int daemon_start(struct daemon *d, const struct ctl_cmd *cmds)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};

	signal(SIGPIPE, SIG_IGN);
	d->loop = eloop_new();
	if (!d->loop)
		return -1;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (eloop_add_signal(d->loop, sigs[i], on_signal, d) < 0)
			return -1;
	d->ctl = ctl_server_open(d->loop, d->ctl_path, cmds, d->arg);
	if (!d->ctl) {
		log_err("cannot listen on control socket %s; is another %s "
			"running? use -s to pick another path",
			d->ctl_path, d->name);
		return -1;
	}
	d->nl = nlmon_open(d->loop, on_nl, d);
	if (!d->nl || nlmon_dump(d->nl) < 0) {
		log_err("cannot monitor netlink; %s needs CAP_NET_ADMIN",
			d->name);
		return -1;
	}
	log_info("started, control socket %s", d->ctl_path);
	return 0;
}

int daemon_run(struct daemon *d)
{
	return eloop_run(d->loop);
}

void daemon_stop(struct daemon *d)
{
	if (d->nl)
		nlmon_close(d->nl);
	if (d->ctl)
		ctl_server_close(d->ctl);
	if (d->loop)
		eloop_free(d->loop);
	d->nl = NULL;
	d->ctl = NULL;
	d->loop = NULL;
}
