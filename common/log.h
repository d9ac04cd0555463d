/*
 * log.h - levelled logging with a subsystem tag, to stderr or syslog.
 *
 * A file sets its tag before including this header:
 *     #define LOG_TAG "ike"
 * Levels can be set per tag ("ike=debug").  L_SECRET is above L_DEBUG and is
 * never reached by a default or "debug" configuration: keys and nonces are
 * logged only through log_secret_hex(), and only when an admin asked for
 * "secret" explicitly.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { L_ERR, L_WARN, L_INFO, L_DEBUG, L_SECRET };

#ifndef LOG_TAG
#define LOG_TAG "-"
#endif

/* ident: program name for syslog and the stderr prefix. */
void log_init(const char *ident, bool use_syslog);
/* tag NULL sets the default level; otherwise an override for that tag. */
int log_set_level(const char *tag, enum log_level lvl);
/* Parses "info" or "ike=debug,nl=warn"; -1 on a bad word. */
int log_set_spec(const char *spec);
int log_level_parse(const char *s, enum log_level *lvl);
const char *log_level_name(enum log_level lvl);
bool log_enabled(const char *tag, enum log_level lvl);
/* The most verbose level any tag logs at: log_on()'s first, cheap test. */
extern enum log_level log_max_level;
/* Whether this file's tag logs at lvl; one compare when no tag could. */
#define log_on(lvl) ((lvl) <= log_max_level && log_enabled(LOG_TAG, (lvl)))

void log_msg(enum log_level lvl, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_secret_hex(const char *tag, const char *what, const void *p, size_t n);

/* The arguments are only evaluated when the level is on: a filtered-out
 * log_debug("%s", ha_ip(a)) formats nothing. */
#define log_at(lvl, ...)                                                       \
	(log_on(lvl) ? log_msg((lvl), LOG_TAG, __VA_ARGS__) : (void)0)
#define log_err(...)   log_at(L_ERR, __VA_ARGS__)
#define log_warn(...)  log_at(L_WARN, __VA_ARGS__)
#define log_info(...)  log_at(L_INFO, __VA_ARGS__)
#define log_debug(...) log_at(L_DEBUG, __VA_ARGS__)

#endif
