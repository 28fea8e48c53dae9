/* config.c — reading warren.conf with libinih (see config.h). */
#include "front/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"

struct parse {
	struct wr_config *c;
	FILE *f;
	int line;        /* lines read so far: the line a handler call is about */
	int bad_line;    /* the line `bad` is about, 0 while none */
	char bad[256];   /* why the first rejected setting was rejected */
};

/* fgets that counts lines, so a rejected setting knows its line number
 * (Debian's libinih is built without INI_HANDLER_LINENO). */
static char *read_line(char *buf, int size, void *ctx)
{
	struct parse *p = ctx;
	char *r = fgets(buf, size, p->f);
	if (r)
		p->line++;
	return r;
}

static int set_path(char *dst, const char *value, struct parse *p, const char *key)
{
	if (!*value) {
		dst[0] = '\0';
		return 1;
	}
	if (value[0] != '/') {
		snprintf(p->bad, sizeof p->bad, "%s must be an absolute path, not \"%s\"", key, value);
		return 0;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(p->bad, sizeof p->bad, "%s is too long", key);
		return 0;
	}
	strcpy(dst, value);
	return 1;
}

static int set_bool(int *dst, const char *value, struct parse *p, const char *key)
{
	if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
		*dst = value[0] == 't';
		return 1;
	}
	snprintf(p->bad, sizeof p->bad, "%s must be true or false, not \"%s\"", key, value);
	return 0;
}

static int apply(struct parse *p, const char *section, const char *key, const char *value)
{
	struct wr_config *c = p->c;
	if (strcmp(section, "daemon") == 0) {
		if (strcmp(key, "state_dir") == 0)
			return set_path(c->state_dir, value, p, key);
		if (strcmp(key, "root_dir") == 0)
			return set_path(c->root_dir, value, p, key);
		if (strcmp(key, "log_level") == 0) {
			c->log_level = wr_log_level_by_name(value);
			if (c->log_level < 0)
				snprintf(p->bad, sizeof p->bad,
					 "log_level \"%s\" is not one of error, warn, info, debug", value);
			return c->log_level >= 0;
		}
	} else if (strcmp(section, "ns") == 0) {
		if (strcmp(key, "runtime") == 0) {
			if (!*value || strlen(value) >= PATH_MAX) {
				snprintf(p->bad, sizeof p->bad, "runtime must name a binary");
				return 0;
			}
			strcpy(c->runtime, value);
			return 1;
		}
		if (strcmp(key, "runtime_root") == 0)
			return set_path(c->runtime_root, value, p, key);
		if (strcmp(key, "unprivileged_ports") == 0)
			return set_bool(&c->unprivileged_ports, value, p, key);
		if (strcmp(key, "unprivileged_icmp") == 0)
			return set_bool(&c->unprivileged_icmp, value, p, key);
	} else {
		snprintf(p->bad, sizeof p->bad, "unknown section [%s]", section);
		return 0;
	}
	snprintf(p->bad, sizeof p->bad, "unknown setting %s in [%s]", key, section);
	return 0;
}

static int on_setting(void *ctx, const char *section, const char *key, const char *value)
{
	struct parse *p = ctx;
	if (p->bad_line)
		return 1;   /* report the first error only */
	if (apply(p, section, key, value))
		return 1;
	p->bad_line = p->line;
	return 0;
}

static void env_path(char *dst, const char *name)
{
	const char *v = getenv(name);
	if (v && *v && strlen(v) < PATH_MAX)
		strcpy(dst, v);
}

int wr_config_load(struct wr_config *c, const char *path, struct wr_error *err)
{
	memset(c, 0, sizeof *c);
	strcpy(c->state_dir, "/run/warren");
	strcpy(c->root_dir, "/var/lib/warren");
	strcpy(c->runtime, "runc");
	c->unprivileged_ports = c->unprivileged_icmp = 1;
	c->log_level = WR_LOG_INFO;

	int required = 1;
	if (!path || !*path)
		path = getenv("WARREN_CONFIG");
	if (!path || !*path) {
		path = WR_CONFIG_DEFAULT_PATH;
		required = access(path, F_OK) == 0;
	}
	if (required) {
		struct parse p = { .c = c };
		p.f = fopen(path, "r");
		if (!p.f)
			return wr_error_errno(err, errno, "config %s", path);
		int line = ini_parse_stream(read_line, &p, on_setting, &p);
		fclose(p.f);
		if (line != 0)
			return wr_error_set(err, WR_INVALID_ARGUMENT, "config %s:%d: %s", path, line,
					    line == p.bad_line ? p.bad : "syntax error");
		snprintf(c->path, sizeof c->path, "%s", path);
	}
	env_path(c->state_dir, "WARREN_STATE_DIR");
	env_path(c->root_dir, "WARREN_ROOT");
	env_path(c->runtime, "WARREN_RUNTIME");
	int lvl = wr_log_level_by_name(getenv("WARREN_LOG_LEVEL"));
	if (lvl >= 0)
		c->log_level = lvl;
	return 0;
}
