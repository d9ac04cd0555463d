#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#define MAX_TAG_LEVELS 16

static struct {
	const char *ident;
	bool syslog;
	enum log_level level;
	struct {
		char tag[16];
		enum log_level level;
	} tags[MAX_TAG_LEVELS];
	size_t ntags;
} lg = {.ident = "mobility", .level = L_INFO};

enum log_level log_max_level = L_INFO;

static const char *const level_names[] = {
    [L_ERR] = "error",	 [L_WARN] = "warn",	[L_INFO] = "info",
    [L_DEBUG] = "debug", [L_SECRET] = "secret",
};

void log_init(const char *ident, bool use_syslog)
{
	lg.ident = ident;
	lg.syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
}

const char *log_level_name(enum log_level lvl)
{
	return lvl <= L_SECRET ? level_names[lvl] : "?";
}

int log_level_parse(const char *s, enum log_level *lvl)
{
	for (size_t i = 0; i <= L_SECRET; i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*lvl = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/* Recomputed on every change: levels change rarely, logs are frequent. */
static void update_max(void)
{
	log_max_level = lg.level;
	for (size_t i = 0; i < lg.ntags; i++)
		if (lg.tags[i].level > log_max_level)
			log_max_level = lg.tags[i].level;
}

int log_set_level(const char *tag, enum log_level lvl)
{
	size_t i;

	if (!tag) {
		lg.level = lvl;
		update_max();
		return 0;
	}
	if (strlen(tag) >= sizeof(lg.tags[0].tag))
		return -1;
	for (i = 0; i < lg.ntags && strcmp(lg.tags[i].tag, tag); i++)
		;
	if (i == MAX_TAG_LEVELS)
		return -1;
	if (i == lg.ntags)
		strcpy(lg.tags[lg.ntags++].tag, tag);
	lg.tags[i].level = lvl;
	update_max();
	return 0;
}

/* "info" or "debug,ike=secret,nl=warn" */
int log_set_spec(const char *spec)
{
	char buf[256], *save = NULL, *item, *eq;
	enum log_level lvl;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (item = strtok_r(buf, ", ", &save); item;
	     item = strtok_r(NULL, ", ", &save)) {
		eq = strchr(item, '=');
		if (eq)
			*eq = '\0';
		if (log_level_parse(eq ? eq + 1 : item, &lvl) < 0 ||
		    log_set_level(eq ? item : NULL, lvl) < 0)
			return -1;
	}
	return 0;
}

bool log_enabled(const char *tag, enum log_level lvl)
{
	for (size_t i = 0; i < lg.ntags; i++)
		if (strcmp(lg.tags[i].tag, tag) == 0)
			return lvl <= lg.tags[i].level;
	return lvl <= lg.level;
}

static void emit(enum log_level lvl, const char *tag, const char *msg)
{
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG,
				   LOG_DEBUG};
	struct timespec ts;
	struct tm tm;

	if (lg.syslog) {
		syslog(prio[lvl], "[%s] %s", tag, msg);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s %-5s [%s] %s\n", tm.tm_hour,
		tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, lg.ident,
		level_names[lvl], tag, msg);
}

void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (lvl > L_DEBUG || !log_enabled(tag, lvl))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(lvl, tag, msg);
}

void log_secret_hex(const char *tag, const char *what, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *b = p;
	char msg[1024];
	size_t off;

	if (!log_enabled(tag, L_SECRET))
		return;
	off = (size_t)snprintf(msg, sizeof(msg), "%s (%zu bytes): ", what, n);
	for (size_t i = 0; i < n && off + 3 < sizeof(msg); i++) {
		msg[off++] = hex[b[i] >> 4];
		msg[off++] = hex[b[i] & 15];
	}
	msg[off < sizeof(msg) ? off : sizeof(msg) - 1] = '\0';
	emit(L_SECRET, tag, msg);
}
