/* spawn.c — wr_spawn: clone(CLONE_VM) and exec, the parent not waiting for
 * the exec (see spawn.h for why).
 *
 * The child shares the parent's memory until its exec, and it now runs at
 * the same time as the parent, which returns right after the clone.  So it
 * owns one slot of a small static pool and touches nothing else: the slot
 * holds its stack and a private copy of everything it reads (path, argv,
 * envp, fds — copied before the clone, as the caller's are gone once
 * wr_spawn returns).  It may only make system calls: no malloc, no locks, no
 * library code a sanitizer intercepts, and not errno — it shares the
 * parent's thread pointer too, so glibc's syscall() would set the parent's
 * errno under its feet.  Every call goes through sys() below, inline asm
 * that returns -errno.  A failure is handed back in the slot before the child
 * exits with SYS_exit 127 (no atexit handlers, no stdio flush).
 *
 * A slot is busy from just before the clone until the child lets go of the
 * shared memory: the clone's CLONE_CHILD_CLEARTID makes the kernel write 0
 * to slot->tid when the child execs or exits (after its last store to the
 * slot), and a slot whose tid reads 0 is free.  With no free slot, with
 * arguments too large for one, or on architectures without sys(), it is the
 * vfork-style clone(CLONE_VM | CLONE_VFORK) of old: the parent stays
 * suspended until the exec, the child uses the caller's arguments in place,
 * and an exec failure is returned synchronously.
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

#if defined(__x86_64__) || defined(__aarch64__)
#define ASYNC 1
#else
#define ASYNC 0
#endif

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
	int fds[3];
	int new_session;
	volatile int err;   /* set by the child when it fails before or in exec */
};

#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))

/* A system call returning -errno on failure; errno is not touched. */
#if defined(__x86_64__)
NO_SANITIZE static inline long sys(long n, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
NO_SANITIZE static inline long sys(long n, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3)
			 : "memory", "cc");
	return x0;
}
#else
/* Only for the vfork-style path: the parent is suspended and reads nothing
 * of its errno until the child has exec'd or exited. */
NO_SANITIZE static long sys(long n, long a, long b, long c, long d)
{
	long rc = syscall(n, a, b, c, d);
	return rc == -1 ? -(long)errno : rc;
}
#endif

NO_SANITIZE static int child_fail(struct child_args *a, long rc)
{
	a->err = rc < 0 ? (int)-rc : EINVAL;
	sys(SYS_exit, 127, 0, 0, 0);
	return 127;
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
		if (sys(SYS_rt_sigaction, sig, 0, (long)&old, sizeof(uint64_t)) == 0 &&
		    old.handler != SIG_DFL)
			sys(SYS_rt_sigaction, sig, (long)&dfl, 0, sizeof(uint64_t));
	}
	if (a->new_session && (rc = sys(SYS_setsid, 0, 0, 0, 0)) < 0)
		return child_fail(a, rc);
	for (int i = 0; i < 3; i++)
		if ((rc = sys(SYS_dup3, a->fds[i], i, 0, 0)) < 0)
			return child_fail(a, rc);
	/* everything else goes: warrend's sockets, the journal, other pods' fds
	 * (ENOSYS before Linux 5.9: then only O_CLOEXEC protects them) */
	sys(SYS_close_range, 3, ~0U, 0, 0);
	sys(SYS_rt_sigprocmask, SIG_SETMASK, (long)&none, 0, sizeof none);
	rc = sys(SYS_execve, (long)a->path, (long)a->argv, (long)a->envp, 0);
	return child_fail(a, rc);
}

/* clone(fn, stack_top, flags, a) with every signal blocked in the parent
 * meanwhile (the child starts with them all blocked).  The pid, or -errno. */
static int clone_blocked(void *stack_top, int flags, struct child_args *a, int *ctid)
{
	const uint64_t all = ~(uint64_t)0;
	uint64_t old;
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof old) < 0)
		return -errno;
	int pid = clone(child, stack_top, flags, a, NULL, NULL, ctid);
	int e = errno;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
	return pid < 0 ? -e : pid;
}

#if ASYNC

#define SLOTS 8
#define ARENA 32768
#define FAILED_KEPT 16

struct slot {
	_Alignas(16) char arena[ARENA];       /* the child's copy of its arguments */
	_Alignas(16) char stack[CHILD_STACK]; /* (an overflow would hit its own arena) */
	struct child_args a;
	pid_t pid;   /* the child's, 0 when none or forgotten */
	int tid;     /* nonzero while busy; CLONE_CHILD_CLEARTID: the kernel zeroes it */
};

static struct slot slots[SLOTS];
static unsigned next_slot;

/* Failures of children whose slot was taken again before anyone asked. */
static struct {
	pid_t pid;
	int err;
} failed[FAILED_KEPT];
static unsigned next_failed;

static int slot_free(struct slot *s)
{
	return __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE) == 0;
}

/* A free slot (round-robin, so a finished child's record lasts), its old
 * child's failure kept aside; NULL when all are busy. */
static struct slot *take_slot(void)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[(next_slot + i) % SLOTS];
		if (!slot_free(s))
			continue;
		next_slot = (next_slot + i + 1) % SLOTS;
		if (s->pid > 0 && s->a.err) {
			failed[next_failed].pid = s->pid;
			failed[next_failed].err = s->a.err;
			next_failed = (next_failed + 1) % FAILED_KEPT;
		}
		s->pid = 0;
		s->a.err = 0;
		return s;
	}
	return NULL;
}

/* n bytes of src at the next multiple of align in the arena, or NULL. */
static void *put(struct slot *s, size_t *off, const void *src, size_t n, size_t align)
{
	size_t at = (*off + align - 1) & ~(align - 1);
	if (at > ARENA || n > ARENA - at)
		return NULL;
	memcpy(s->arena + at, src, n);
	*off = at + n;
	return s->arena + at;
}

/* A copy of a NULL-terminated string array in the arena (NULL stays NULL);
 * 0 when it does not fit. */
static int put_vec(struct slot *s, size_t *off, char *const v[], char *const **out)
{
	*out = NULL;
	if (!v)
		return 1;
	size_t n = 0;
	while (v[n])
		n++;
	char **copy = put(s, off, v, (n + 1) * sizeof *v, _Alignof(char *));
	if (!copy)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!(copy[i] = put(s, off, v[i], strlen(v[i]) + 1, 1)))
			return 0;
	*out = copy;
	return 1;
}

static int copy_args(struct slot *s, const char *path, char *const argv[], char *const envp[],
		     const int fds[3], int new_session)
{
	struct child_args *a = &s->a;
	size_t off = 0;
	if (!(a->path = put(s, &off, path, strlen(path) + 1, 1)) ||
	    !put_vec(s, &off, argv, &a->argv) || !put_vec(s, &off, envp, &a->envp))
		return 0;
	memcpy(a->fds, fds, sizeof a->fds);
	a->new_session = new_session;
	a->err = 0;
	return 1;
}

/* pid is a new child: any record of an earlier process with that pid (long
 * reaped, or the kernel could not have reused it) is stale. */
static void forget(pid_t pid)
{
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].pid == pid && slot_free(&slots[i]))
			slots[i].pid = 0;
	for (int i = 0; i < FAILED_KEPT; i++)
		if (failed[i].pid == pid)
			failed[i].pid = 0;
}

static int spawn_in_slot(struct slot *s, pid_t *pid)
{
	__atomic_store_n(&s->tid, 1, __ATOMIC_RELEASE);
	int rc = clone_blocked(s->stack + CHILD_STACK, CLONE_VM | CLONE_CHILD_CLEARTID | SIGCHLD,
			       &s->a, &s->tid);
	if (rc < 0) {
		__atomic_store_n(&s->tid, 0, __ATOMIC_RELEASE);
		return -rc;
	}
	forget(rc);
	s->pid = rc;
	*pid = rc;
	return 0;
}

int wr_spawn_exec_error(pid_t pid)
{
	if (pid <= 0)
		return 0;
	for (int i = 0; i < SLOTS; i++)
		if (slot_free(&slots[i]) && slots[i].pid == pid)
			return slots[i].a.err;
	for (int i = 0; i < FAILED_KEPT; i++)
		if (failed[i].pid == pid)
			return failed[i].err;
	return 0;
}

#else

static void forget(pid_t pid)
{
	(void)pid;
}

int wr_spawn_exec_error(pid_t pid)
{
	(void)pid;
	return 0;
}

#endif

/* The vfork-style spawn: the parent is suspended until the child's exec. */
static int spawn_waiting(const char *path, char *const argv[], char *const envp[],
			 const int fds[3], int new_session, pid_t *pid)
{
	/* 16-byte aligned: the top is the child's initial stack pointer */
	_Alignas(16) char stack[CHILD_STACK];
	struct child_args a = { path, argv, envp, { fds[0], fds[1], fds[2] }, new_session, 0 };
	int rc = clone_blocked(stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a, NULL);
	if (rc < 0)
		return -rc;
	forget(rc);
	if (a.err) {
		/* it exited without exec'ing: collect it here, the caller never
		 * sees this pid */
		while (waitpid(rc, NULL, 0) < 0 && errno == EINTR)
			;
		return a.err;
	}
	*pid = rc;
	return 0;
}

int wr_spawn(const char *path, char *const argv[], char *const envp[], const int fds[3],
	     int new_session, pid_t *pid)
{
	*pid = -1;
	for (int i = 0; i < 3; i++)
		if (fds[i] < 3)
			return EBADF;
	/* the errors an exec would most likely give, while they can still be
	 * returned (warrend runs as root: X_OK needs some x bit) */
	if (access(path, X_OK) < 0)
		return errno;
#if ASYNC
	struct slot *s = take_slot();
	if (s && copy_args(s, path, argv, envp, fds, new_session))
		return spawn_in_slot(s, pid);
#endif
	return spawn_waiting(path, argv, envp, fds, new_session, pid);
}
