/* config.h — warren's settings file (/etc/warren/warren.conf).
 *
 * An INI file read with Debian's libinih; every setting, its default and
 * its meaning are in src/daemon/warren.conf, which `make install` installs.  The
 * file is optional when it is the default one; a file named explicitly
 * (--config, WARREN_CONFIG) must exist.  An unknown section or key, or a
 * bad value, is an error naming file and line: a daemon never runs on a
 * configuration it did not understand.  Environment variables override the
 * file (WARREN_STATE_DIR, WARREN_ROOT, WARREN_RUNTIME, WARREN_LOG_LEVEL), so
 * tests and one-off runs need no file. */
#ifndef WR_FRONT_CONFIG_H
#define WR_FRONT_CONFIG_H

#include <limits.h>

#include "core/error.h"

#define WR_CONFIG_DEFAULT_PATH "/etc/warren/warren.conf"

struct wr_config {
	char path[PATH_MAX];        /* the file read, "" when none */
	char state_dir[PATH_MAX];   /* [daemon] state_dir: sockets, namespace files (tmpfs) */
	char root_dir[PATH_MAX];    /* [daemon] root_dir: the journal (persistent) */
	int log_level;              /* [daemon] log_level: enum wr_log_level */
	char runtime[PATH_MAX];     /* [ns] runtime: the OCI runtime binary */
	char runtime_root[PATH_MAX];/* [ns] runtime_root: "" → <state>/<key>/ns/runc */
	int unprivileged_ports;     /* [ns] unprivileged_ports: 1 (containerd's default) */
	int unprivileged_icmp;      /* [ns] unprivileged_icmp: 1 (containerd's default) */
};

/* Defaults, then the file (path NULL → $WARREN_CONFIG, else the default
 * path if it exists), then the environment. */
int wr_config_load(struct wr_config *c, const char *path, struct wr_error *err);

#endif
