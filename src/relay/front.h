/* front.h — warrend's front process: the minimal, long-lived half of the
 * daemon that containerd actually talks to (DESIGN §1).
 *
 * containerd 2.1 takes a closed ttrpc connection for a dead shim and drops
 * every sandbox on it, so the process that owns containerd's connections must
 * outlive crashes and upgrades of everything else.  The front:
 *   - binds the per-backend sockets and accepts containerd's connections;
 *   - runs the core (warrend --core: engine, journal, backends, ttrpc
 *     services) as its child, exec'ing the binary at core_path afresh at every
 *     spawn — a replaced binary is picked up — and restarts it when it dies:
 *     at once, then with a backoff growing to 1 s while it keeps dying within
 *     a second of its start;
 *   - relays whole ttrpc frames between each containerd connection and a
 *     socketpair whose other end it hands to the core (ADOPT, control.h);
 *     when the core dies it re-sends pending Waits to the next core and
 *     answers every other pending call Unavailable (relay_conn.c, book.h), so
 *     no connection closes and no call hangs;
 *   - is the child subreaper of container processes: the core is not, so a
 *     container whose runc exits is re-parented here; it reaps every child
 *     and keeps each exit until the core has journaled it (exits.h), sending
 *     the backlog to every new core before it recovers.
 *   - holds the fds of the terminals the core copies (a pty master and its
 *     stdio FIFO ends, held.h) as the core gives and drops them, and hands
 *     them to every new core, so a terminal outlives a core restart.
 * It has no engine, no database and no backend: nothing in it should crash.
 *
 * Signals: SIGHUP restarts the core gracefully (SIGTERM, wait, spawn — the
 * upgrade path: install the new binaries, then SIGHUP); SIGTERM/SIGINT stop
 * the core, close the sockets and exit 0; containers keep running.  The
 * front itself is not re-executed: upgrading it means a restart of warrend,
 * which containerd sees as a dead shim. */
#ifndef WR_RELAY_FRONT_H
#define WR_RELAY_FRONT_H

#include <stddef.h>

struct wr_relay_listen {
	const char *backend;   /* e.g. "ns" */
	const char *path;      /* its socket (instance.h) */
};

struct wr_relay_config {
	const char *core_path;           /* the warrend binary, as a path on disk */
	const char *const *core_args;    /* NULL-terminated options for the core,
					    after --core --control-fd N */
	const struct wr_relay_listen *listen;
	size_t n_listen;
	double core_stop_timeout;        /* seconds from SIGTERM to SIGKILL (0: 10) */
	const char *ready_path;          /* flock'd (exclusive) while the listeners
					    accept, so a shim can tell warrend is up
					    without connecting; NULL: none */
};

/* Listen, spawn the core, relay until SIGTERM/SIGINT.  Must run in the main
 * thread with libev's default loop unused so far (it reaps every child).
 * Returns the process exit code. */
int wr_relay_front_run(const struct wr_relay_config *cfg);

#endif
