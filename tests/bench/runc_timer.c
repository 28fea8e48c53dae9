/* runc_timer.c — a timing wrapper for the OCI runtime, used by
 * tests/bench/bench_pods.py (compiled by it at run time into the harness's
 * private dir; not part of the Makefile build).
 *
 * Put on containerd's PATH as `runc`, it runs REAL_RUNC with the same
 * arguments (fork + execv + waitpid: it is not a subreaper, so what runc
 * leaves behind is reparented to the shim or warrend exactly as without it),
 * then appends one line to TIMER_LOG:
 *
 *   <start ns> <end ns> <parent pid> <parent comm> <exit status> <args...>
 *
 * (CLOCK_REALTIME, args space-separated and cut to ~1 KiB) and exits with
 * runc's status (128+signal if runc was killed).  TERM, INT, HUP and QUIT
 * are passed on to runc. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef REAL_RUNC
#error "compile with -DREAL_RUNC='\"/usr/sbin/runc\"'"
#endif
#ifndef TIMER_LOG
#error "compile with -DTIMER_LOG='\"/path/to/log\"'"
#endif

static volatile pid_t child;

static void forward(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	(void)argc;
	long long t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0) {
		perror("runc_timer: fork");
		return 127;
	}
	if (pid == 0) {
		argv[0] = (char *)REAL_RUNC;
		execv(REAL_RUNC, argv);
		perror("runc_timer: exec " REAL_RUNC);
		_exit(127);
	}
	child = pid;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			st = 127 << 8;
			break;
		}
	}
	long long t1 = now_ns();
	int code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 127;

	char comm[64] = "?";
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/comm", (int)getppid());
	int cfd = open(path, O_RDONLY | O_CLOEXEC);
	if (cfd >= 0) {
		ssize_t n = read(cfd, comm, sizeof comm - 1);
		comm[n > 0 ? n : 0] = '\0';
		close(cfd);
		for (char *p = comm; *p; p++)
			if (*p == '\n' || *p == ' ')
				*p = *p == ' ' ? '_' : '\0';
		if (!comm[0])
			strcpy(comm, "?");
	}
	char line[1200];
	int len = snprintf(line, sizeof line, "%lld %lld %d %s %d", t0, t1, (int)getppid(), comm, code);
	for (int i = 1; argv[i] && len < (int)sizeof line - 2; i++)
		len += snprintf(line + len, sizeof line - (size_t)len, " %s", argv[i]);
	if (len > (int)sizeof line - 2)
		len = (int)sizeof line - 2;
	line[len++] = '\n';
	int fd = open(TIMER_LOG, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		ssize_t w = write(fd, line, (size_t)len);
		(void)w;
		close(fd);
	}
	return code;
}
