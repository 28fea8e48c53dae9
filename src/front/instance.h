/* instance.h — where one warrend lives: its sockets, state and journal.
 *
 * One warrend serves one containerd instance (two containerds on one host
 * never share a daemon), so every path is keyed by a hash of containerd's
 * address:  <state>/<key>/<backend>.sock, <state>/<key>/warrend.lock (held
 * by the running warrend), <state>/<key>/warrend.ready (held by its front
 * while it listens: the shim's cheap "is it up?") and
 * <root>/<key>/warren.db.  state and root are warren.conf's state_dir
 * (/run/warren) and root_dir (/var/lib/warren); WARREN_STATE_DIR and
 * WARREN_ROOT override them (tests give each private containerd private
 * directories this way).
 *
 * The shim binary and warrend both derive the paths here, so the address the
 * shim prints is the socket the daemon listens on.  The backend a new
 * sandbox gets is chosen by which socket containerd dials: one socket per
 * backend. */
#ifndef WR_FRONT_INSTANCE_H
#define WR_FRONT_INSTANCE_H

#include <limits.h>
#include <stddef.h>

#include "core/error.h"
#include "front/config.h"

struct wr_instance {
	char key[17];                /* 16 hex digits of SHA-256(containerd address) */
	char state_dir[PATH_MAX];    /* sockets, lock, per-backend state (tmpfs) */
	char root_dir[PATH_MAX];     /* the journal (persistent) */
	char db_path[PATH_MAX];
	char lock_path[PATH_MAX];
	char ready_path[PATH_MAX];   /* flock'd by the front while it listens */
	char log_path[PATH_MAX];
};

/* cfg: the process's settings (wr_config_load), giving the base directories. */
int wr_instance_init(struct wr_instance *in, const char *containerd_address,
		     const struct wr_config *cfg, struct wr_error *err);

/* The socket path of a backend's listener; fails when it would not fit a
 * sockaddr_un. */
int wr_instance_socket(const struct wr_instance *in, const char *backend, char *out, size_t size,
		       struct wr_error *err);

#endif
