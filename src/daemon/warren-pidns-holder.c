/* warren-pidns-holder.c — pid 1 of a pod's shared PID namespace.
 *
 * A PID namespace dies with its first process: once that one exits, the
 * kernel kills every other member and no process can join it any more.  So a
 * pod that shares one PID namespace between its containers (CRI
 * namespace_options.pid = POD, Kubernetes' shareProcessNamespace) needs one
 * process that outlives them all.  The ns backend (backends/ns/nsfile.c)
 * starts this program as that process, from warren's own binaries, not from
 * an image: there is no pause image and no pause container.
 *
 * Like the pause container it replaces, it does nothing but be there:
 *   - it reaps every process re-parented to it (orphans of the pod's
 *     containers: as the namespace's init it inherits them);
 *   - SIGTERM or SIGINT: exit 0, as pause does (the namespace, hence every
 *     process of the pod, goes with it); SIGHUP is ignored; any other signal
 *     sent from inside the pod is dropped by the kernel (an init has no
 *     default actions); warren removes it with SIGKILL;
 *   - once started it needs nothing from warrend, which may restart or stop.
 * Start-up handshake: fd 0 is a socket from the starter.  One byte on it means
 * "you are recorded, go on"; end of file first means the starter died before
 * recording this process, which then exits 1 rather than live on unknown.
 * It is started with no arguments and an empty environment (the pod's
 * processes can read /proc/1/cmdline).
 *
 * Memory.  It runs once per shared-PID pod for the pod's whole life, so it
 * is as small as a process gets: on x86-64 it has no C library at all (seven
 * system calls, below, and its own _start; the Makefile links it with
 * -static -nostdlib into a 9 KiB file): its resident memory is one page of
 * code (shared by all holders) and a page or two of stack.  Measured from
 * /proc/<pid>/smaps_rollup (test_ns_backend's shared pid namespace test
 * and the e2e case shared_pid print it) on the x86-64 development host:
 * Pss 8-12 KiB (Rss the same), plus the kernel's own per-process
 * structures (task, page tables, a few KiB).  For comparison, this program
 * on glibc measures Pss 696 KiB statically linked (the only holder) and
 * about 150 KiB dynamically linked (libc shared with the node's other
 * processes, 96 KiB private).  Other architectures build the portable
 * version (the #else branch, static glibc). */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#if defined(__x86_64__) && !defined(WARREN_HOLDER_LIBC)

/* ---- x86-64, no C library ------------------------------------------------------ */

static long sys(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r; /* -errno on failure */
}

struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	unsigned long mask;
};

#define BIT(sig) (1ul << ((sig) - 1))

__attribute__((noreturn)) static void leave(int code)
{
	for (;;)
		sys(SYS_exit_group, code, 0, 0, 0);
}

__attribute__((noreturn, used)) void holder_main(void)
{
	unsigned long wait_for = BIT(SIGCHLD) | BIT(SIGTERM) | BIT(SIGINT);
	struct kernel_sigaction ign = { .handler = SIG_IGN }, dfl = { .handler = SIG_DFL };
	/* blocked and collected with rt_sigtimedwait: no handler, no race */
	sys(SYS_rt_sigprocmask, SIG_BLOCK, (long)&wait_for, 0, sizeof wait_for);
	sys(SYS_rt_sigaction, SIGHUP, (long)&ign, 0, sizeof ign.mask);
	sys(SYS_rt_sigaction, SIGPIPE, (long)&ign, 0, sizeof ign.mask);
	sys(SYS_rt_sigaction, SIGCHLD, (long)&dfl, 0, sizeof dfl.mask); /* not an inherited SIG_IGN */

	char go;
	long n;
	while ((n = sys(SYS_read, 0, (long)&go, 1, 0)) == -EINTR)
		;
	if (n != 1)
		leave(1); /* the starter is gone and never recorded us */
	sys(SYS_close, 0, 0, 0, 0);

	for (;;) {
		long sig = sys(SYS_rt_sigtimedwait, (long)&wait_for, 0, 0, sizeof wait_for);
		if (sig == SIGTERM || sig == SIGINT)
			leave(0);
		/* SIGCHLD (or EINTR): reap everything that has ended */
		while (sys(SYS_wait4, -1, 0, WNOHANG, 0) > 0)
			;
	}
}

/* The kernel enters here with the stack pointer at argc; align it for the
 * C code, which never returns. */
__asm__(".text\n"
	".globl _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	and $-16, %rsp\n"
	"	call holder_main\n"
	"	hlt\n");

#else

/* ---- anywhere else: the same with the C library ---------------------------------- */

#include <unistd.h>

int main(void)
{
	sigset_t wait_for;
	sigemptyset(&wait_for);
	sigaddset(&wait_for, SIGCHLD);
	sigaddset(&wait_for, SIGTERM);
	sigaddset(&wait_for, SIGINT);
	sigprocmask(SIG_BLOCK, &wait_for, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);

	char go;
	ssize_t n;
	while ((n = read(0, &go, 1)) < 0 && errno == EINTR)
		;
	if (n != 1)
		return 1;
	close(0);

	for (;;) {
		int sig = sigwaitinfo(&wait_for, NULL);
		if (sig == SIGTERM || sig == SIGINT)
			return 0;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

#endif
