/* test_spawn.c — wr_spawn: the child gets exactly the three fds it was given,
 * no ignored, handled or blocked signal of the parent (the glibc-reserved
 * real-time signals included), its own session; a program that is missing
 * or not executable is an errno with no child left behind; the parent's own
 * signal state is unchanged afterwards.  (A shell's SigCgt is not checked:
 * dash catches SIGINT and SIGCHLD itself; exec resets handled signals
 * anyway.)  The parent does not wait for the exec: the child has its own
 * copy of the arguments, which the caller may free at once, more children
 * than spawn slots can be starting at once, and a file that is not a program
 * is a child exiting 127 with ENOEXEC in wr_spawn_exec_error, the parent's
 * errno untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/spawn.h"

extern char **environ;

/* What the child reports about itself: its open fds, its signal masks from
 * /proc/<pid>/status, and whether it leads its own session. */
static const char report[] =
	"ls /proc/self/fd | tr '\\n' ' '; echo;"
	/* the shell's own masks: sh -c keeps what it was given (a helper like
	 * grep would show its own SIGSEGV handler) */
	"cat /proc/$$/status | grep -E '^Sig(Blk|Ign)';"
	"sid=$(cut -d' ' -f6 /proc/$$/stat);"
	"echo \"shell_leads_session=$([ \"$sid\" = $$ ] && echo yes || echo no)\";"
	"echo stderr-line >&2";

/* The kernel's rt_sigaction struct (glibc's sigaction refuses 32 and 33). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void handler(int sig)
{
	(void)sig;
}

/* Read all of fd into buf (NUL-terminated). */
static void slurp(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
}

static int high(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
	close(fd);
	return h;
}

static void test_child_gets_clean_state(void **state)
{
	(void)state;
	int out[2], errp[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
	out[1] = high(out[1]);
	errp[1] = high(errp[1]);
	int in = high(open("/dev/null", O_RDONLY | O_CLOEXEC));
	/* an fd without O_CLOEXEC must not reach the child either */
	int leak = high(open("/dev/null", O_RDONLY));
	assert_true(leak >= 3);
	int flags = fcntl(leak, F_GETFD);
	assert_int_equal(fcntl(leak, F_SETFD, flags & ~FD_CLOEXEC), 0);

	/* the parent ignores SIGPIPE, SIGRTMIN and glibc's reserved 32 (which
	 * sigaction refuses: set with the raw call), handles SIGUSR1 and
	 * blocks SIGUSR2 */
	struct sigaction ign = { .sa_handler = SIG_IGN }, hnd = { .sa_handler = handler };
	struct sigaction old_pipe, old_usr1, old_rt;
	struct kernel_sigaction kign = { .handler = SIG_IGN }, old32;
	sigaction(SIGPIPE, &ign, &old_pipe);
	sigaction(SIGRTMIN, &ign, &old_rt);
	assert_int_equal(syscall(SYS_rt_sigaction, 32, &kign, &old32, sizeof(uint64_t)), 0);
	sigaction(SIGUSR1, &hnd, &old_usr1);
	sigset_t blk, before, after;
	sigemptyset(&blk);
	sigaddset(&blk, SIGUSR2);
	sigprocmask(SIG_BLOCK, &blk, &before);

	char *const argv[] = { "/bin/sh", "-c", (char *)report, NULL };
	int fds[3] = { in, out[1], errp[1] };
	pid_t pid = -1;
	assert_int_equal(wr_spawn("/bin/sh", argv, environ, fds, 1, &pid), 0);
	assert_true(pid > 0);

	/* the parent's own state is as it was */
	sigprocmask(SIG_SETMASK, NULL, &after);
	assert_true(sigismember(&after, SIGUSR2));
	assert_false(sigismember(&after, SIGTERM));
	struct sigaction now;
	sigaction(SIGPIPE, NULL, &now);
	assert_ptr_equal(now.sa_handler, SIG_IGN);

	close(out[1]);
	close(errp[1]);
	close(in);
	char buf[4096], ebuf[256];
	slurp(out[0], buf, sizeof buf);
	slurp(errp[0], ebuf, sizeof ebuf);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* ls's own fds: 0, 1, 2 and the one it opened on /proc/self/fd */
	char fdline[256];
	sscanf(buf, "%255[^\n]", fdline);
	assert_string_equal(fdline, "0 1 2 3 ");
	assert_non_null(strstr(buf, "SigBlk:\t0000000000000000"));
	assert_non_null(strstr(buf, "SigIgn:\t0000000000000000"));
	assert_non_null(strstr(buf, "shell_leads_session=yes"));
	assert_string_equal(ebuf, "stderr-line\n");

	sigprocmask(SIG_SETMASK, &before, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
	sigaction(SIGRTMIN, &old_rt, NULL);
	syscall(SYS_rt_sigaction, 32, &old32, NULL, sizeof(uint64_t));
	sigaction(SIGUSR1, &old_usr1, NULL);
	close(out[0]);
	close(errp[0]);
	close(leak);
}

static void test_without_new_session_shares_ours(void **state)
{
	(void)state;
	int out[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	out[1] = high(out[1]);
	int null = high(open("/dev/null", O_RDWR | O_CLOEXEC));
	char *const argv[] = { "/bin/sh", "-c", "cut -d' ' -f6 /proc/$$/stat", NULL };
	int fds[3] = { null, out[1], null };
	pid_t pid;
	assert_int_equal(wr_spawn("/bin/sh", argv, environ, fds, 0, &pid), 0);
	close(out[1]);
	close(null);
	char buf[64];
	slurp(out[0], buf, sizeof buf);
	close(out[0]);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(atoi(buf), (int)getsid(0));
}

static void test_cannot_exec_is_errno_and_no_child(void **state)
{
	(void)state;
	int null = high(open("/dev/null", O_RDWR | O_CLOEXEC));
	int fds[3] = { null, null, null };
	char *const argv[] = { "/nonexistent/runc", NULL };
	pid_t pid = 123;
	assert_int_equal(wr_spawn("/nonexistent/runc", argv, environ, fds, 1, &pid), ENOENT);
	assert_int_equal(pid, -1);
	/* not executable: EACCES */
	char plain[] = "/tmp/test_spawn.XXXXXX";
	int pfd = mkstemp(plain);
	assert_true(pfd >= 0);
	close(pfd);
	char *const argv2[] = { plain, NULL };
	assert_int_equal(wr_spawn(plain, argv2, environ, fds, 1, &pid), EACCES);
	unlink(plain);
	/* the failed children were reaped by wr_spawn */
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	close(null);
}

static void test_low_fds_are_refused(void **state)
{
	(void)state;
	int fds[3] = { 0, 1, 2 };
	char *const argv[] = { "/bin/true", NULL };
	pid_t pid;
	assert_int_equal(wr_spawn("/bin/true", argv, environ, fds, 1, &pid), EBADF);
	assert_int_equal(pid, -1);
}

/* A heap copy of s, to be scrubbed and freed as soon as wr_spawn returns. */
static char *dup_str(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void scrub_vec(char **v)
{
	size_t n = 0;
	for (; v[n]; n++) {
		memset(v[n], 'X', strlen(v[n]));
		free(v[n]);
	}
	memset(v, 0xa5, (n + 1) * sizeof *v);
	free(v);
}

/* on: make this thread SCHED_FIFO and pin it (and the children it starts)
 * to the CPU it is on, so none of them runs until it blocks; 1 if allowed.
 * off: back to normal (the children keep it, for their short lives). */
static int run_alone(int on)
{
	static cpu_set_t saved;
	static int was_on;
	if (on) {
		cpu_set_t one;
		struct sched_param prio = { .sched_priority = 1 };
		int cpu = sched_getcpu();
		if (cpu < 0 || sched_getaffinity(0, sizeof saved, &saved) < 0)
			return 0;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof one, &one) < 0)
			return 0;
		if (sched_setscheduler(0, SCHED_FIFO, &prio) < 0) {
			sched_setaffinity(0, sizeof saved, &saved);
			return 0;
		}
		was_on = 1;
		return 1;
	}
	if (was_on) {
		struct sched_param prio = { .sched_priority = 0 };
		assert_int_equal(sched_setscheduler(0, SCHED_OTHER, &prio), 0);
		assert_int_equal(sched_setaffinity(0, sizeof saved, &saved), 0);
		was_on = 0;
	}
	return 0;
}

/* pid has exec'd the program at exe (a child not yet exec'd shows ours). */
static int is_exe(pid_t pid, const char *exe)
{
	char link[64], target[PATH_MAX];
	snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return 0;
	target[n] = '\0';
	return strcmp(target, exe) == 0;
}

#define MANY 20   /* more than wr_spawn's slots, all alive at the same time */

static void test_many_children_with_freed_arguments(void **state)
{
	(void)state;
	/* the children wait for EOF on their stdin, so all MANY are alive at
	 * once; each prints what it was given first */
	static const char script[] = "printf '%s|%s|%s|%s\\n' \"$#\" \"$0\" \"$1\" \"$WR_SPAWN_TEST\";"
				     "read x; exit 0";
	int hold[2];
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	int in = high(hold[0]);
	int null = high(open("/dev/null", O_WRONLY | O_CLOEXEC));
	pid_t pids[MANY];
	int outs[MANY], ins[MANY];
	char want[MANY][700], *paths[MANY], **argvs[MANY], **envps[MANY];
	for (int i = 0; i < MANY; i++) {
		char name[32], arg[300], env[300];
		snprintf(name, sizeof name, "child-%d", i);
		snprintf(arg, sizeof arg, "arg-%d-%0250d", i, i);
		snprintf(env, sizeof env, "WR_SPAWN_TEST=env-%d-%0250d", i, i);
		snprintf(want[i], sizeof want[i], "1|%s|%s|%s\n", name, arg, env + strlen("WR_SPAWN_TEST="));
		int out[2];
		assert_int_equal(pipe2(out, O_CLOEXEC), 0);
		outs[i] = out[0];
		ins[i] = high(out[1]);
		paths[i] = dup_str("/bin/sh");
		char **argv = argvs[i] = calloc(6, sizeof *argv);
		char **envp = envps[i] = calloc(2, sizeof *envp);
		assert_non_null(argv);
		assert_non_null(envp);
		argv[0] = dup_str("sh");
		argv[1] = dup_str("-c");
		argv[2] = dup_str(script);
		argv[3] = dup_str(name);
		argv[4] = dup_str(arg);
		envp[0] = dup_str(env);
	}
	/* Back to back, with no child able to run before this thread blocks
	 * (when allowed): so the first children are still to exec when their
	 * wr_spawn returns, until the slots run out and one spawn waits for
	 * its child's exec (and so lets all of them run). */
	int alone = run_alone(1);
	char sh[PATH_MAX];
	assert_non_null(realpath("/bin/sh", sh));
	int errs[MANY], execd[MANY];
	for (int i = 0; i < MANY; i++) {
		int fds[3] = { in, ins[i], null };
		pids[i] = -1;
		errs[i] = wr_spawn(paths[i], argvs[i], envps[i], fds, 1, &pids[i]);
		/* the caller's arguments are gone before the child can have exec'd */
		memset(paths[i], 'X', strlen(paths[i]));
		free(paths[i]);
		scrub_vec(argvs[i]);
		scrub_vec(envps[i]);
		execd[i] = errs[i] == 0 && is_exe(pids[i], sh);
	}
	run_alone(0);
	int waited = 0, alive = 0;
	for (int i = 0; i < MANY; i++) {
		int status;
		close(ins[i]);
		waited += execd[i];
		alive += pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == 0;
	}
	/* now let them go (before anything can fail) */
	close(hold[1]);
	close(in);
	close(null);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(errs[i], 0);
		assert_true(pids[i] > 0);
	}
	assert_int_equal(alive, MANY);   /* all of them were running at once */
	print_message("  %d of %d spawns waited for the exec%s\n", waited, MANY,
		      alone ? "" : " (SCHED_FIFO not allowed: not checked)");
	if (alone) {
		assert_false(execd[0]);   /* wr_spawn did not wait for it */
		assert_true(waited > 0);  /* out of slots, one did */
		assert_true(waited < MANY / 2);
	}
	for (int i = 0; i < MANY; i++) {
		char buf[1024];
		slurp(outs[i], buf, sizeof buf);
		close(outs[i]);
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		assert_string_equal(buf, want[i]);
		assert_int_equal(wr_spawn_exec_error(pids[i]), 0);
	}
}

/* An executable file that is not a program (no ELF header, no "#!"). */
static void not_a_program(char *path)
{
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char junk[] = "\001\002\003 not a program\n";
	assert_int_equal(write(fd, junk, sizeof junk - 1), (ssize_t)(sizeof junk - 1));
	assert_int_equal(fchmod(fd, 0755), 0);
	close(fd);   /* (open for writing it would be ETXTBSY) */
}

static void test_exec_error_after_reap(void **state)
{
	(void)state;
	int null = high(open("/dev/null", O_RDWR | O_CLOEXEC));
	int fds[3] = { null, null, null };
	char bad[] = "/tmp/test_spawn.XXXXXX";
	not_a_program(bad);
	char *const argv[] = { bad, NULL };
	pid_t pid = -1;
	int status;
	/* the exec fails after wr_spawn has returned */
	assert_int_equal(wr_spawn(bad, argv, environ, fds, 1, &pid), 0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 127);
	assert_int_equal(wr_spawn_exec_error(pid), ENOEXEC);
	assert_int_equal(wr_spawn_exec_error(pid), ENOEXEC);   /* asking again */

	/* the answer outlives the reuse of everything the child had: reaped
	 * only after more children than spawn slots came and went */
	pid_t first = -1;
	assert_int_equal(wr_spawn(bad, argv, environ, fds, 1, &first), 0);
	siginfo_t si;
	assert_int_equal(waitid(P_PID, (id_t)first, &si, WEXITED | WNOWAIT), 0);
	for (int i = 0; i < 24; i++) {
		char *const t[] = { "/bin/true", NULL };
		assert_int_equal(wr_spawn("/bin/true", t, environ, fds, 1, &pid), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_int_equal(wr_spawn_exec_error(pid), 0);
	}
	assert_int_equal(waitpid(first, &status, 0), first);
	assert_int_equal(WEXITSTATUS(status), 127);
	assert_int_equal(wr_spawn_exec_error(first), ENOEXEC);
	unlink(bad);

	/* a program that exits 127 itself is no exec error */
	char *const argv2[] = { "/bin/sh", "-c", "exit 127", NULL };
	assert_int_equal(wr_spawn("/bin/sh", argv2, environ, fds, 1, &pid), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 127);
	assert_int_equal(wr_spawn_exec_error(pid), 0);
	/* nor one that exits 0, nor a pid that is not a child's */
	char *const argv3[] = { "/bin/true", NULL };
	assert_int_equal(wr_spawn("/bin/true", argv3, environ, fds, 1, &pid), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(wr_spawn_exec_error(pid), 0);
	assert_int_equal(wr_spawn_exec_error(getpid()), 0);
	assert_int_equal(wr_spawn_exec_error(-1), 0);
	close(null);
}

static void test_child_failure_leaves_errno_alone(void **state)
{
	(void)state;
	int null = high(open("/dev/null", O_RDWR | O_CLOEXEC));
	int fds[3] = { null, null, null };
	char bad[] = "/tmp/test_spawn.XXXXXX";
	not_a_program(bad);
	char *const argv[] = { bad, NULL };
	for (int i = 0; i < 5; i++) {
		pid_t pid = -1;
		int status;
		/* (when allowed, the child surely runs only once we wait) */
		run_alone(1);
		int rc = wr_spawn(bad, argv, environ, fds, 1, &pid);
		errno = 12345;   /* the child's failing exec is still to come */
		pid_t got = rc == 0 ? waitpid(pid, &status, 0) : -1;
		int e = errno;
		run_alone(0);
		assert_int_equal(rc, 0);
		assert_int_equal(got, pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 127);
		assert_int_equal(e, 12345);
		assert_int_equal(wr_spawn_exec_error(pid), ENOEXEC);
	}
	unlink(bad);
	close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_gets_clean_state),
		cmocka_unit_test(test_without_new_session_shares_ours),
		cmocka_unit_test(test_cannot_exec_is_errno_and_no_child),
		cmocka_unit_test(test_low_fds_are_refused),
		cmocka_unit_test(test_many_children_with_freed_arguments),
		cmocka_unit_test(test_exec_error_after_reap),
		cmocka_unit_test(test_child_failure_leaves_errno_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
