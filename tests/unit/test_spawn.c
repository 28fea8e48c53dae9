/* test_spawn.c — wr_spawn: the child gets exactly the three fds it was given,
 * no ignored, handled or blocked signal of the parent (the glibc-reserved
 * real-time signals included), its own session; a program that cannot be
 * run is an errno with no child left behind; the parent's own signal state
 * is unchanged afterwards.  (A shell's SigCgt is not checked: dash catches
 * SIGINT and SIGCHLD itself; exec resets handled signals anyway.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_child_gets_clean_state),
		cmocka_unit_test(test_without_new_session_shares_ours),
		cmocka_unit_test(test_cannot_exec_is_errno_and_no_child),
		cmocka_unit_test(test_low_fds_are_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
