/* spawn.h — start a helper program (an OCI runtime) from warrend: a vfork-
 * style clone that execs at once, with the child given exactly three fds,
 * default signal dispositions, an empty signal mask and optionally a new
 * session.
 *
 * Why not posix_spawn: glibc's child resets every one of the 64 signals with
 * POSIX_SPAWN_SETSIGDEF and checks each dup2 file action against the fd
 * limit (a prlimit64 call each), and the parent maps and unmaps a stack per
 * call.  On the VMs warren is measured on that made a runc spawn take
 * 0.45–0.75 ms of the daemon's time against ~0.35 ms here (docs/bench). */
#ifndef WR_SPAWN_H
#define WR_SPAWN_H

#include <sys/types.h>

/* Start path with argv and envp.  fds[0..2] become the child's stdin,
 * stdout and stderr; each must be >= 3 (so no dup onto 0..2 clobbers
 * another) and every other fd is closed in the child.  new_session: the
 * child calls setsid, so a signal to warrend's process group never reaches
 * it.  Returns 0 and the child's pid, or an errno value: the clone's, or
 * that of the child's failed exec (ENOENT, EACCES…), in which case the child
 * has already been reaped. */
int wr_spawn(const char *path, char *const argv[], char *const envp[], const int fds[3],
	     int new_session, pid_t *pid);

#endif
