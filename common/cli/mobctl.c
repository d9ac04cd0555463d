/*
 * mobctl - talks to mobiked and mipd over their control sockets.
 *
 *   mobctl [-s SOCKET] [-j|--json] [-t MS] mobiked|mipd COMMAND [key=value...]
 *
 * One request, one reply, printed as indented "key: value" lines (or the
 * raw reply with --json).  "monitor [events...]" subscribes and prints
 * events until interrupted.  Exit: 0 ok, 1 the daemon said no or went away,
 * 2 usage or cannot connect.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctl.h"

struct opts {
	const char *sock;
	const char *daemon;
	const char *cmd;
	bool json;
	int timeout_ms;
	char **args;
	int nargs;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mobctl [-s SOCKET] [-j|--json] [-t MS] mobiked|mipd "
		   "COMMAND [key=value...]\n"
		   "       mobctl [options] mobiked|mipd monitor [EVENT...]\n"
		   "  -s SOCKET  control socket (default /run/DAEMON.sock, or\n"
		   "             $MOBIKED_SOCKET / $MIPD_SOCKET)\n"
		   "  -j, --json print the raw JSON reply or events\n"
		   "  -t MS      reply timeout in milliseconds (default 5000)\n"
		   "Values are sent as integers, true/false, [a,b] lists or "
		   "strings.\n"
		   "Try: mobctl mobiked help\n");
}

static void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mobctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	usage(stderr);
	exit(2);
}

static const char *default_socket(const char *daemon)
{
	const char *env =
	    getenv(strcmp(daemon, "mipd") ? "MOBIKED_SOCKET" : "MIPD_SOCKET");

	if (env && *env)
		return env;
	return strcmp(daemon, "mipd") ? "/run/mobiked.sock" : "/run/mipd.sock";
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	*o = (struct opts){.timeout_ms = 5000};
	/* '+': options end at the daemon name, so values may start with '-' */
	while ((c = getopt_long(argc, argv, "+s:jt:h", lopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->sock = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			o->timeout_ms = (int)strtol(optarg, &end, 10);
			if (*end || o->timeout_ms <= 0)
				usage_error("-t %s: use milliseconds > 0",
					    optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (argc - optind < 2)
		usage_error("%s", "name a daemon and a command");
	o->daemon = argv[optind];
	o->cmd = argv[optind + 1];
	if (strcmp(o->daemon, "mobiked") && strcmp(o->daemon, "mipd"))
		usage_error("unknown daemon '%s'; use mobiked or mipd",
			    o->daemon);
	if (!o->sock)
		o->sock = default_socket(o->daemon);
	o->args = argv + optind + 2;
	o->nargs = argc - optind - 2;
}

/* ---- request ---- */

static bool parse_ll(const char *s, long long *v)
{
	char *end;

	if (!*s || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoll(s, &end, 10);
	return !*end && errno == 0;
}

/* [a,b,c] as an array of strings */
static void write_list(struct jw *w, const char *key, const char *v)
{
	char *copy = strndup(v + 1, strlen(v) - 2), *save = NULL, *item;

	jw_arr_begin(w, key);
	for (item = copy ? strtok_r(copy, ",", &save) : NULL; item;
	     item = strtok_r(NULL, ",", &save))
		jw_str(w, NULL, item);
	jw_arr_end(w);
	free(copy);
}

static void write_value(struct jw *w, const char *key, const char *v)
{
	size_t n = strlen(v);
	long long i;

	if (parse_ll(v, &i))
		jw_int(w, key, i);
	else if (!strcmp(v, "true") || !strcmp(v, "false"))
		jw_bool(w, key, !strcmp(v, "true"));
	else if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
		write_list(w, key, v);
	else
		jw_str(w, key, v);
}

static void write_args(struct jw *w, char **args, int n)
{
	jw_obj_begin(w, "args");
	for (int i = 0; i < n; i++) {
		char *eq = strchr(args[i], '=');

		if (!eq || eq == args[i])
			usage_error("argument '%s' is not key=value", args[i]);
		*eq = '\0';
		write_value(w, args[i], eq + 1);
		*eq = '=';
	}
	jw_obj_end(w);
}

static void build_request(struct jw *w, const struct opts *o)
{
	jw_obj_begin(w, NULL);
	jw_int(w, "id", 1);
	if (!strcmp(o->cmd, "monitor")) {
		jw_str(w, "cmd", "subscribe");
		jw_obj_begin(w, "args");
		jw_arr_begin(w, "events");
		for (int i = 0; i < o->nargs; i++)
			jw_str(w, NULL, o->args[i]);
		if (o->nargs == 0)
			jw_str(w, NULL, "*");
		jw_arr_end(w);
		jw_obj_end(w);
	} else {
		jw_str(w, "cmd", o->cmd);
		if (o->nargs)
			write_args(w, o->args, o->nargs);
	}
	jw_obj_end(w);
}

/* ---- output ---- */

/* Parses text into a token array sized for it; NULL toks on failure. */
static int parse_doc(struct json_doc *d, const char *text,
		     struct json_tok **toks)
{
	size_t len = strlen(text);

	*toks = calloc(len + 1, sizeof(**toks));
	if (*toks && json_parse(d, text, len, *toks, (uint32_t)len + 1) == 0)
		return 0;
	free(*toks);
	*toks = NULL;
	return -1;
}

static bool is_scalar(const struct json_doc *d, int t)
{
	return d->tok[t].type != JSON_OBJECT && d->tok[t].type != JSON_ARRAY;
}

/* A scalar as the user reads it: strings unquoted, control characters
 * replaced so a daemon string cannot drive the terminal. */
static void print_scalar(FILE *f, const struct json_doc *d, int t)
{
	const struct json_tok *k = &d->tok[t];
	size_t n = k->end - k->start;
	char *s = malloc(n + 1);

	if (k->type == JSON_STRING && s && json_str(d, t, s, n + 1) == 0) {
		for (char *p = s; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		fputs(s, f);
	} else {
		fwrite(d->text + k->start, 1, n, f);
	}
	free(s);
}

static void print_value(const struct json_doc *d, int t, int indent,
			const char *key);

static void print_array(const struct json_doc *d, int t, int indent,
			const char *key)
{
	uint32_t n = d->tok[t].size;
	bool flat = true;
	char label[32];

	for (uint32_t i = 0; i < n; i++)
		flat = flat && is_scalar(d, json_at(d, t, i));
	if (flat) {
		printf("%*s%s: ", indent, "", key);
		for (uint32_t i = 0; i < n; i++) {
			printf(i ? ", " : "");
			print_scalar(stdout, d, json_at(d, t, i));
		}
		printf(n ? "\n" : "[]\n");
		return;
	}
	printf("%*s%s:\n", indent, "", key);
	for (uint32_t i = 0; i < n; i++) {
		snprintf(label, sizeof(label), "[%u]", i);
		print_value(d, json_at(d, t, i), indent + 2, label);
	}
}

static void print_members(const struct json_doc *d, int obj, int indent)
{
	uint32_t k = (uint32_t)obj + 1;

	for (uint32_t m = 0; m < d->tok[obj].size; m++) {
		size_t n = d->tok[k].end - d->tok[k].start;
		char *key = malloc(n + 1);

		if (key && json_str(d, (int)k, key, n + 1) == 0)
			print_value(d, (int)k + 1, indent, key);
		free(key);
		k = d->tok[k + 1].next;
	}
}

static void print_value(const struct json_doc *d, int t, int indent,
			const char *key)
{
	if (d->tok[t].type == JSON_OBJECT) {
		printf("%*s%s:%s\n", indent, "", key,
		       d->tok[t].size ? "" : " {}");
		print_members(d, t, indent + 2);
	} else if (d->tok[t].type == JSON_ARRAY) {
		print_array(d, t, indent, key);
	} else {
		printf("%*s%s: ", indent, "", key);
		print_scalar(stdout, d, t);
		printf("\n");
	}
}

/* "addr type=addr-new ifindex=3 ..." on one line */
static void print_event(const struct json_doc *d)
{
	int name = json_get(d, 0, "event"), data = json_get(d, 0, "data");
	uint32_t k;

	if (name < 0)
		return;
	print_scalar(stdout, d, name);
	if (data >= 0 && d->tok[data].type == JSON_OBJECT) {
		k = (uint32_t)data + 1;
		for (uint32_t m = 0; m < d->tok[data].size; m++) {
			printf(" ");
			print_scalar(stdout, d, (int)k);
			printf("=");
			if (is_scalar(d, (int)k + 1))
				print_scalar(stdout, d, (int)k + 1);
			else
				fwrite(d->text + d->tok[k + 1].start, 1,
				       d->tok[k + 1].end - d->tok[k + 1].start,
				       stdout);
			k = d->tok[k + 1].next;
		}
	} else if (data >= 0) {
		printf(" ");
		print_scalar(stdout, d, data);
	}
	printf("\n");
}

/* Prints the reply (unless quiet); the exit code. */
static int show_reply(const struct opts *o, const char *reply, bool quiet)
{
	struct json_tok *toks;
	struct json_doc d;
	bool ok = false;
	char err[1024] = "no error message";
	int res, rc;

	if (parse_doc(&d, reply, &toks) < 0 || d.tok[0].type != JSON_OBJECT ||
	    json_bool(&d, json_get(&d, 0, "ok"), &ok) < 0) {
		fprintf(stderr, "mobctl: %s: malformed reply: %.200s\n",
			o->daemon, reply);
		free(toks);
		return 1;
	}
	if (!ok) {
		json_str(&d, json_get(&d, 0, "error"), err, sizeof(err));
		fprintf(stderr, "mobctl: %s: %s\n", o->daemon, err);
		rc = 1;
	} else {
		if (quiet)
			;
		else if (o->json)
			printf("%s\n", reply);
		else if ((res = json_get(&d, 0, "result")) >= 0 &&
			 d.tok[res].type == JSON_OBJECT)
			print_members(&d, res, 0);
		else if (res >= 0)
			print_value(&d, res, 0, "result");
		rc = 0;
	}
	free(toks);
	return rc;
}

/* ---- monitor ---- */

static void on_event_line(void *arg, char *line, size_t len)
{
	const struct opts *o = arg;
	struct json_tok *toks;
	struct json_doc d;

	if (o->json) {
		printf("%s\n", line);
	} else if (parse_doc(&d, line, &toks) == 0) {
		if (d.tok[0].type == JSON_OBJECT)
			print_event(&d);
		free(toks);
	}
	fflush(stdout);
}

static void on_event_oversize(void *arg)
{
	fprintf(stderr, "mobctl: skipped an event longer than %d bytes\n",
		CTL_MAX_LINE);
}

static int monitor(const struct opts *o, int fd)
{
	static struct ctl_lines lb;
	char buf[4096];
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "mobctl: %s: %s\n", o->daemon,
				strerror(errno));
			return 1;
		}
		ctl_lines_feed(&lb, buf, (size_t)r, on_event_line,
			       on_event_oversize, (void *)o);
	}
	fprintf(stderr, "mobctl: %s closed the connection\n", o->daemon);
	return 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	char *reply = NULL;
	struct jw req;
	int fd, rc;

	parse_opts(&o, argc, argv);
	jw_init(&req);
	build_request(&req, &o);
	if (!jw_text(&req)) {
		fprintf(stderr, "mobctl: cannot build the request\n");
		jw_free(&req);
		return 1;
	}
	fd = ctl_connect(o.sock);
	if (fd < 0) {
		fprintf(stderr,
			"mobctl: cannot connect to %s: %s; is %s "
			"running? (use -s to pick the socket)\n",
			o.sock, strerror(-fd), o.daemon);
		jw_free(&req);
		return 2;
	}
	rc = ctl_call(fd, jw_text(&req), &reply, o.timeout_ms);
	jw_free(&req);
	if (rc < 0) {
		fprintf(stderr, "mobctl: %s: no reply on %s: %s\n", o.daemon,
			o.sock, strerror(-rc));
		close(fd);
		return 1;
	}
	/* monitor: the subscribe reply is not what the user asked to see */
	rc = show_reply(&o, reply, !strcmp(o.cmd, "monitor"));
	fflush(stdout);
	if (rc == 0 && !strcmp(o.cmd, "monitor"))
		rc = monitor(&o, fd);
	free(reply);
	close(fd);
	return rc;
}
