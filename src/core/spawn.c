/* spawn.c — wr_spawn: clone(CLONE_VM | CLONE_VFORK) and exec (see spawn.h).
 *
 * The child shares the parent's memory until its exec, and the parent stays
 * suspended in clone until then, so the child runs on a stack inside the
 * parent's frame and may only make system calls: no malloc, no locks, no
 * errno-setting library code that a sanitizer intercepts.  Everything it does
 * is a syscall(2), and a failure is handed back through the shared struct
 * before it exits with SYS_exit (no atexit handlers, no stdio flush).
 *
 * Signals: the parent blocks all of them (the glibc-reserved 32 and 33 too)
 * across the clone, so none of its handlers can run in the child on the
 * shared memory.  The child then sets every signal that is not SIG_DFL back
 * to it — handled ones (exec would reset them anyway, but only at exec) and
 * ignored ones (SIG_IGN survives exec, into runc and the container) — and
 * unblocks everything just before the exec. */
#include "core/spawn.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILD_STACK 16384
#define KERNEL_NSIG 64

/* The kernel's struct for rt_sigaction (not glibc's struct sigaction). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

struct child_args {
	const char *path;
	char *const *argv;
	char *const *envp;
	const int *fds;
	int new_session;
	volatile int err;   /* set by the child when it fails before or in exec */
};

#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

NO_SANITIZE static int child_fail(struct child_args *a, long rc)
{
	a->err = rc < 0 ? (int)-rc : EINVAL;
	syscall(SYS_exit, 127);
	return 127;
}

/* A syscall's result as -errno.  The errno it reads is the parent's thread-
 * local one (the child shares its memory and TLS); the parent is suspended
 * and reads nothing of it after a successful clone. */
NO_SANITIZE static long raw(long rc)
{
	return rc == -1 ? -(long)errno : rc;
}

NO_SANITIZE static int child(void *p)
{
	struct child_args *a = p;
	const uint64_t none = 0;
	long rc;

	for (int sig = 1; sig <= KERNEL_NSIG; sig++) {
		struct kernel_sigaction old, dfl = { .handler = SIG_DFL };
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof(uint64_t)) == 0 &&
		    old.handler != SIG_DFL)
			syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(uint64_t));
	}
	if (a->new_session && (rc = raw(syscall(SYS_setsid))) < 0)
		return child_fail(a, rc);
	for (int i = 0; i < 3; i++)
		if ((rc = raw(syscall(SYS_dup3, a->fds[i], i, 0))) < 0)
			return child_fail(a, rc);
	/* everything else goes: warrend's sockets, the journal, other pods' fds
	 * (ENOSYS before Linux 5.9: then only O_CLOEXEC protects them) */
	syscall(SYS_close_range, 3, ~0U, 0);
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
	rc = raw(syscall(SYS_execve, a->path, a->argv, a->envp));
	return child_fail(a, rc);
}

int wr_spawn(const char *path, char *const argv[], char *const envp[], const int fds[3],
	     int new_session, pid_t *pid)
{
	/* 16-byte aligned: the top is the child's initial stack pointer */
	_Alignas(16) char stack[CHILD_STACK];
	struct child_args a = { path, argv, envp, fds, new_session, 0 };
	const uint64_t all = ~(uint64_t)0;
	uint64_t old;

	*pid = -1;
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3)
			return EBADF;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof old) < 0)
		return errno;
	int child_pid = clone(child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
	int e = errno;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
	if (child_pid < 0)
		return e;
	if (a.err) {
		/* it exited without exec'ing: collect it here, the caller never
		 * sees this pid */
		while (waitpid(child_pid, NULL, 0) < 0 && errno == EINTR)
			;
		return a.err;
	}
	*pid = child_pid;
	return 0;
}
