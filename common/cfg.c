#include "common/cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cfg_open(struct cfg *c, const char *path)
{
	char dir[sizeof(c->path)];

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	config_init(&c->cf);
	/* @include "x.conf" is relative to the including file, not the cwd */
	config_set_include_dir(&c->cf, dirname(dir));
	if (config_read_file(&c->cf, path) == CONFIG_TRUE)
		return 0;
	if (config_error_type(&c->cf) == CONFIG_ERR_FILE_IO)
		cfg_error(c, NULL, "%s: cannot read config file: %s", path,
			  strerror(errno ? errno : ENOENT));
	else
		cfg_error(c, NULL, "%s:%d: %s",
			  config_error_file(&c->cf) ? config_error_file(&c->cf)
						    : path,
			  config_error_line(&c->cf), config_error_text(&c->cf));
	return -1;
}

void cfg_close(struct cfg *c)
{
	config_destroy(&c->cf);
}

/* Where a setting came from: "file:line" (include files keep their name). */
static void where(struct cfg *c, const config_setting_t *at, char *buf,
		  size_t n)
{
	const char *file = at ? config_setting_source_file(at) : NULL;
	unsigned line = at ? config_setting_source_line(at) : 0;

	if (line)
		snprintf(buf, n, "%s:%u", file ? file : c->path, line);
	else
		snprintf(buf, n, "%s", c->path);
}

/* at NULL: the message carries its own location. */
void cfg_error(struct cfg *c, const config_setting_t *at, const char *fmt, ...)
{
	char loc[600], msg[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(c, at, loc, sizeof(loc));
	n = snprintf(c->err + c->errlen, sizeof(c->err) - c->errlen,
		     at ? "%s: %s\n" : "%.0s%s\n", loc, msg);
	if (n > 0)
		c->errlen += (size_t)n < sizeof(c->err) - c->errlen
				 ? (size_t)n
				 : sizeof(c->err) - c->errlen - 1;
	c->nerr++;
}

static const config_setting_t *base(struct cfg *c, const config_setting_t *g)
{
	return g ? g : config_root_setting(&c->cf);
}

static const char *group_name(const config_setting_t *g)
{
	const char *n = config_setting_name(g);

	return n ? n : "top level";
}

/* Looks a key up; reports a missing required one at its group's line. */
static const config_setting_t *lookup(struct cfg *c, const config_setting_t *g,
				      const char *key, bool req)
{
	const config_setting_t *s;

	g = base(c, g);
	s = config_setting_get_member(g, key);
	if (!s && req)
		cfg_error(c, g, "missing required setting '%s' in %s", key,
			  group_name(g));
	return s;
}

const config_setting_t *cfg_group(struct cfg *c, const config_setting_t *g,
				  const char *key, bool req)
{
	const config_setting_t *s = lookup(c, g, key, req);

	if (s && !config_setting_is_group(s)) {
		cfg_error(c, s, "'%s' must be a group: %s = { ... };", key,
			  key);
		return NULL;
	}
	return s;
}

int cfg_str(struct cfg *c, const config_setting_t *g, const char *key,
	    const char **out, bool req)
{
	const config_setting_t *s = lookup(c, g, key, req);

	if (!s)
		return req ? -1 : 0;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		cfg_error(c, s, "'%s' must be a string in double quotes", key);
		return -1;
	}
	*out = config_setting_get_string(s);
	return 0;
}

int cfg_int(struct cfg *c, const config_setting_t *g, const char *key,
	    long long *out, long long min, long long max, bool req)
{
	const config_setting_t *s = lookup(c, g, key, req);
	long long v;

	if (!s)
		return req ? -1 : 0;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else {
		cfg_error(c, s, "'%s' must be an integer", key);
		return -1;
	}
	if (v < min || v > max) {
		cfg_error(c, s, "'%s' = %lld is out of range; use %lld..%lld",
			  key, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int cfg_bool(struct cfg *c, const config_setting_t *g, const char *key,
	     bool *out, bool req)
{
	const config_setting_t *s = lookup(c, g, key, req);

	if (!s)
		return req ? -1 : 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		cfg_error(c, s, "'%s' must be true or false", key);
		return -1;
	}
	*out = config_setting_get_bool(s);
	return 0;
}

/* 1: a string is there, 0: optional and absent, -1: error reported. */
static int want_str(struct cfg *c, const config_setting_t *g, const char *key,
		    const char **str, bool req)
{
	*str = NULL;
	if (cfg_str(c, g, key, str, req) < 0)
		return -1;
	return *str ? 1 : 0;
}

int cfg_addr(struct cfg *c, const config_setting_t *g, const char *key,
	     struct ipaddr *out, bool req)
{
	const char *str = NULL;
	struct ipaddr a;

	int rc = want_str(c, g, key, &str, req);

	if (rc <= 0)
		return rc;
	if (ipaddr_parse(&a, str) < 0) {
		cfg_error(c, lookup(c, g, key, false),
			  "'%s' = \"%s\" is not an IPv4 or IPv6 address", key,
			  str);
		return -1;
	}
	*out = a;
	return 0;
}

int cfg_prefix(struct cfg *c, const config_setting_t *g, const char *key,
	       struct ipaddr *out, unsigned *plen, bool req)
{
	const char *str = NULL;
	struct ipaddr a;
	unsigned len;

	int rc = want_str(c, g, key, &str, req);

	if (rc <= 0)
		return rc;
	if (ipprefix_parse(&a, &len, str) < 0) {
		cfg_error(c, lookup(c, g, key, false),
			  "'%s' = \"%s\" is not a prefix like \"10.1.0.0/16\" "
			  "or \"fd00::/64\"",
			  key, str);
		return -1;
	}
	*out = a;
	*plen = len;
	return 0;
}

static void join(char *buf, size_t n, const char *const *names)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; *names && off < n; names++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s",
					off ? ", " : "", *names);
}

int cfg_enum(struct cfg *c, const config_setting_t *g, const char *key,
	     const char *const *names, int *out, bool req)
{
	const char *str = NULL;
	char list[256];

	int rc = want_str(c, g, key, &str, req);

	if (rc <= 0)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strcmp(names[i], str) == 0) {
			*out = i;
			return 0;
		}
	}
	join(list, sizeof(list), names);
	cfg_error(c, lookup(c, g, key, false),
		  "'%s' = \"%s\" is not one of: %s", key, str, list);
	return -1;
}

int cfg_keys(struct cfg *c, const config_setting_t *g,
	     const char *const *allowed)
{
	const config_setting_t *s;
	const char *name;
	char list[512];
	int rc = 0;
	size_t i;

	g = base(c, g);
	for (int n = 0; (s = config_setting_get_elem(g, (unsigned)n)); n++) {
		name = config_setting_name(s);
		for (i = 0; name && allowed[i] && strcmp(allowed[i], name); i++)
			;
		if (!name || allowed[i])
			continue;
		join(list, sizeof(list), allowed);
		cfg_error(c, s, "unknown setting '%s' in %s; known: %s", name,
			  group_name(g), list);
		rc = -1;
	}
	return rc;
}

int cfg_path(struct cfg *c, const config_setting_t *g, const char *key,
	     char *out, size_t outsz, bool req)
{
	const char *str = NULL;
	char dir[sizeof(c->path)];
	int n;

	int rc = want_str(c, g, key, &str, req);

	if (rc <= 0)
		return rc;
	snprintf(dir, sizeof(dir), "%s", c->path);
	n = str[0] == '/' ? snprintf(out, outsz, "%s", str)
			  : snprintf(out, outsz, "%s/%s", dirname(dir), str);
	if (n < 0 || (size_t)n >= outsz) {
		cfg_error(c, lookup(c, g, key, false), "'%s' path too long",
			  key);
		return -1;
	}
	return 0;
}

/* Key files must be private: a key others can read is a key others have. */
static int read_private(struct cfg *c, const config_setting_t *at,
			const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		cfg_error(c, at, "cannot open key file %s: %s", path,
			  strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		cfg_error(c, at,
			  "key file %s is readable by others (mode %03o); "
			  "run: chmod 600 %s",
			  path, (unsigned)(st.st_mode & 0777), path);
		goto fail;
	}
	n = read(fd, buf, cap);
	if (n < 0 || (size_t)n == cap || n == 0) {
		cfg_error(c, at, "key file %s: %s", path,
			  n < 0	   ? strerror(errno)
			  : n == 0 ? "empty"
				   : "too long");
		goto fail;
	}
	close(fd);
	*len = (size_t)n;
	while (*len && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

int cfg_secret_file(struct cfg *c, const config_setting_t *g, const char *key,
		    uint8_t *buf, size_t cap, size_t *len, bool req)
{
	char path[1024];
	const char *str = NULL;

	int rc = want_str(c, g, key, &str, req);

	if (rc <= 0)
		return rc;
	if (cfg_path(c, g, key, path, sizeof(path), req) < 0)
		return -1;
	return read_private(c, lookup(c, g, key, false), path, buf, cap, len);
}
