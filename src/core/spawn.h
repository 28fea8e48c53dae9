/* spawn.h — start a helper program (an OCI runtime) from warrend: a clone
 * sharing the daemon's memory that sets itself up and execs, with the child
 * given exactly three fds, default signal dispositions, an empty signal mask
 * and optionally a new session.
 *
 * wr_spawn returns as soon as the clone has: the child's setup and its exec
 * run concurrently with the caller.  warrend's core is one single-threaded
 * event loop, and exec of a large program (runc is an 8.7 MB Go binary) takes
 * the kernel 0.5–1 ms on the VMs warren is measured on; a vfork-style clone
 * would stall every connection of the daemon for that long on each runtime
 * call.  That cost belongs to the program being started, and is now part of
 * the caller's wait for it.  The price: an exec failure is no longer seen
 * synchronously.  wr_spawn checks the program with access(X_OK) first (a
 * missing or non-executable file is an errno and no child), and a later
 * failure (not a program: ENOEXEC; removed after the check) makes the child
 * exit 127, with the errno kept for wr_spawn_exec_error.
 *
 * Why not posix_spawn: glibc's child resets every one of the 64 signals with
 * POSIX_SPAWN_SETSIGDEF and checks each dup2 file action against the fd
 * limit (a prlimit64 call each), the parent maps and unmaps a stack per call,
 * and it waits for the exec.  On the VMs warren is measured on that made a
 * runc spawn take 0.45–0.75 ms of the daemon's time (docs/bench). */
#ifndef WR_SPAWN_H
#define WR_SPAWN_H

#include <sys/types.h>

/* Start path with argv and envp.  fds[0..2] become the child's stdin,
 * stdout and stderr; each must be >= 3 (so no dup onto 0..2 clobbers
 * another) and every other fd is closed in the child.  new_session: the
 * child calls setsid, so a signal to warrend's process group never reaches
 * it.  Returns 0 and the child's pid, or an errno value and no child: the
 * clone's, or access(path, X_OK)'s (ENOENT, EACCES…).
 *
 * Everything the child reads (path, argv, envp, fds) is copied before the
 * clone, so the caller may free or reuse it as soon as this returns.  The
 * child is usually still setting up then: a failure in it or in its exec
 * shows as an exit status of 127, with the errno in wr_spawn_exec_error.
 * (When all the concurrent spawn slots are taken — children not yet exec'd —
 * or the arguments are too large for a slot, or on architectures other than
 * x86-64 and aarch64, the spawn waits for the exec instead, and an exec
 * failure is returned here with the child already reaped.)  The slots are
 * the process's own: call from one thread only (warrend's core). */
int wr_spawn(const char *path, char *const argv[], char *const envp[], const int fds[3],
	     int new_session, pid_t *pid);

/* After the caller has reaped pid (a child wr_spawn started): the errno the
 * child failed with before or in its exec — ENOEXEC for a file that is not a
 * program, ENOENT if it went away after wr_spawn's check… — or 0 if it
 * exec'd (then an exit status of 127 is the program's own), or if pid is
 * not one of ours.  Does not block; asked before the reap, it may answer 0
 * for a child still starting.  Asking is optional; the answer is kept until
 * wr_spawn hands out the same pid again or 16 later children have failed
 * that way. */
int wr_spawn_exec_error(pid_t pid);

#endif
