/*
 * cfg.h - libconfig helpers.  Every error names file:line and says what to
 * write instead; errors accumulate in cfg->err so `-t` shows all of them.
 * Getters take a group (NULL = root), leave *out untouched when an optional
 * key is absent, and return 0 or -1.
 */
#ifndef COMMON_CFG_H
#define COMMON_CFG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

struct cfg {
	config_t cf;
	char path[512];
	char err[4096];
	size_t errlen;
	int nerr;
};

int cfg_open(struct cfg *c, const char *path);
void cfg_close(struct cfg *c);
void cfg_error(struct cfg *c, const config_setting_t *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

const config_setting_t *cfg_group(struct cfg *c, const config_setting_t *g,
				  const char *key, bool req);
int cfg_str(struct cfg *c, const config_setting_t *g, const char *key,
	    const char **out, bool req);
int cfg_int(struct cfg *c, const config_setting_t *g, const char *key,
	    long long *out, long long min, long long max, bool req);
int cfg_bool(struct cfg *c, const config_setting_t *g, const char *key,
	     bool *out, bool req);
int cfg_addr(struct cfg *c, const config_setting_t *g, const char *key,
	     struct ipaddr *out, bool req);
int cfg_prefix(struct cfg *c, const config_setting_t *g, const char *key,
	       struct ipaddr *out, unsigned *plen, bool req);
/* names: NULL-terminated; *out gets the index. */
int cfg_enum(struct cfg *c, const config_setting_t *g, const char *key,
	     const char *const *names, int *out, bool req);
/* Flags every member of g not in allowed (NULL-terminated): catches typos. */
int cfg_keys(struct cfg *c, const config_setting_t *g,
	     const char *const *allowed);
/* Reads the key file named by `key` (relative paths are relative to the
 * config file).  Refuses a file readable by group or others.  A trailing
 * newline is dropped. */
int cfg_secret_file(struct cfg *c, const config_setting_t *g, const char *key,
		    uint8_t *buf, size_t cap, size_t *len, bool req);
/* Resolves a path setting relative to the config file's directory. */
int cfg_path(struct cfg *c, const config_setting_t *g, const char *key,
	     char *out, size_t outsz, bool req);

#endif
