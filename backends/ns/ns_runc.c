/* ns_runc.c — running the OCI runtime (runc's command line).
 *
 * Each call spawns `<runtime> --root R --log L --log-format json <args>` with
 * wr_spawn (core/spawn.h): chosen fds as 0,1,2 and nothing else inherited,
 * default signal dispositions, an empty signal mask and a new session (so a
 * signal to the daemon's process group never reaches containers).  We wait for exactly
 * that pid — never waitpid(-1): the hosting daemon is a child subreaper that
 * reaps the container processes the runtime leaves behind.  A stuck runtime
 * is killed after RUNC_TIMEOUT_MS.  wr_spawn returns right after the
 * clone: only that is the daemon's own time; the child's setup and the
 * kernel's exec of the runtime run concurrently and, with the runtime's own
 * run, make up the daemon's wait for it, from the spawn's return to the reap
 * (core/stats.h: warrenctl stats).  So a runtime that cannot be exec'd (not
 * a program: ENOEXEC) shows as an exit status of 127, which finish reports
 * as the spawn error it is (wr_spawn_exec_error).
 *
 * The runtime's error message is read back from its JSON log (the last
 * "error" entry), which the log file holds for this one call: it is
 * truncated before each call.  Runtime processes that run at the same time
 * (wr_ns_runc_spawn with different slots, ns_batch.c) each have their own
 * log file: slot 0 the backend's, slot k that name with ".k" appended. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/spawn.h"
#include "core/stats.h"

extern char **environ;

#define RUNC_TIMEOUT_MS 120000
#define RUNC_MAX_ARGS 32

static int remaining(int64_t deadline)
{
	int64_t r = deadline - wr_monotonic_ms();
	return r < 0 ? 0 : (int)r;
}

/* Wait for exactly pid until deadline; SIGKILL it past the deadline.
 * Returns 0 with *status, or -1 (errno; ETIMEDOUT when it was killed). */
static int wait_pid(pid_t pid, int64_t deadline, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int timed_out = 0;
	if (pfd >= 0) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		int r;
		while ((r = poll(&p, 1, remaining(deadline))) < 0 && errno == EINTR)
			;
		close(pfd);
		if (r == 0) {
			timed_out = 1;
			kill(pid, SIGKILL);
		}
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	if (timed_out) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

/* Read fd to EOF (or deadline) into a malloc'd string. */
static char *slurp(int fd, int64_t deadline)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, remaining(deadline));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

/* The runtime's last error message from its JSON log ("" when none). */
static void log_message(const char *path, char *msg, size_t len)
{
	char *text = NULL;
	msg[0] = '\0';
	if (wr_ns_read_file(path, &text, NULL) < 0)
		return;
	int have_error = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct json_object *j = json_tokener_parse(line);
		const char *level = wr_ns_str(j, "level"), *m = wr_ns_str(j, "msg");
		int is_error = strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0;
		if (*m && (is_error || !have_error)) {
			snprintf(msg, len, "%s", m);
			have_error |= is_error;
		}
		if (!j && !have_error && *line) /* not JSON: keep the raw line */
			snprintf(msg, len, "%s", line);
		json_object_put(j);
	}
	free(text);
}

/* "runc create failed: X" → "X" (the caller names the runtime and verb). */
static const char *strip_prefix(const char *msg, const char *verb)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s failed: ", verb);
	const char *p = strstr(msg, pat);
	if (p && !memchr(msg, ' ', (size_t)(p - msg)))
		return p + strlen(pat);
	return msg;
}

/* fd moved to >= 3 (so the spawn's dup2s onto 0..2 cannot clobber it). */
static int dup_high(int fd)
{
	if (fd < 0 || fd >= 3)
		return fd;
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	int e = errno;
	close(fd);
	errno = e;
	return nfd;
}

/* The runtime's name for messages ("runc"). */
static const char *runtime_short(const struct wr_ns *ns)
{
	const char *slash = strrchr(ns->runtime_name, '/');
	return slash ? slash + 1 : ns->runtime_name;
}

/* The runtime could not be started (errno e): at wr_spawn, or in the child
 * before or in its exec (seen at the reap). */
static void cannot_run(const struct wr_ns *ns, const char *what, int e, struct wr_error *err)
{
	wr_error_errno(err, e, "ns: %s: cannot run %s (%s)", what, runtime_short(ns), ns->runtime);
	if (err && (e == ENOENT || e == EACCES))
		err->code = WR_FAILED_PRECONDITION;
}

int wr_ns_runc_spawn(const struct wr_ns *ns, int slot, const char *what,
		     const char *const *args, const int *stdio, int capture,
		     struct wr_ns_runc_job *job, struct wr_error *err)
{
	memset(job, 0, sizeof *job);
	job->pid = -1;
	job->out_fd = -1;
	snprintf(job->what, sizeof job->what, "%s", what);
	snprintf(job->verb, sizeof job->verb, "%s", args[0]);
	if (slot == 0)
		snprintf(job->log_path, sizeof job->log_path, "%s", ns->log_path);
	else if (snprintf(job->log_path, sizeof job->log_path, "%s.%d", ns->log_path, slot) >=
		 (int)sizeof job->log_path)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: log path too long", what);

	const char *argv[RUNC_MAX_ARGS];
	int argc = 0;
	argv[argc++] = ns->runtime;
	argv[argc++] = "--root";
	argv[argc++] = ns->runtime_root;
	argv[argc++] = "--log";
	argv[argc++] = job->log_path;
	argv[argc++] = "--log-format";
	argv[argc++] = "json";
	for (const char *const *a = args; *a && argc < RUNC_MAX_ARGS - 1; a++)
		argv[argc++] = *a;
	argv[argc] = NULL;

	int lfd = open(job->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (lfd < 0)
		return wr_error_errno(err, errno, "ns: %s: cannot create %s", what, job->log_path);
	close(lfd);

	int fds[3] = { -1, -1, -1 }, pipefd[2] = { -1, -1 }, null = -1, rc = -1;
	pid_t pid = -1;

	null = dup_high(open("/dev/null", O_RDWR | O_CLOEXEC));
	if (null < 0) {
		wr_error_errno(err, errno, "ns: open /dev/null");
		goto out;
	}
	for (int i = 0; i < 3; i++)
		fds[i] = stdio && stdio[i] >= 0 ? stdio[i] : null;
	if (capture) {
		if (pipe2(pipefd, O_CLOEXEC) < 0 || (pipefd[1] = dup_high(pipefd[1])) < 0) {
			wr_error_errno(err, errno, "ns: pipe");
			goto out;
		}
		fds[1] = pipefd[1];
	}
	int64_t spawning = wr_monotonic_ns();
	int e = wr_spawn(ns->runtime, (char *const *)argv, environ, fds, 1, &pid);
	/* the spawn (the clone only: the child sets up and execs the runtime
	 * on its own, concurrently) is counted as the daemon's own time;
	 * from here to the reap, exec included, it is the runtime's */
	job->spawned = wr_monotonic_ns();
	wr_stats_runtime_spawn(job->spawned - spawning);
	if (e) {
		cannot_run(ns, what, e, err);
		goto out;
	}
	job->pid = pid;
	job->deadline = wr_monotonic_ms() + RUNC_TIMEOUT_MS;
	if (capture) {
		job->out_fd = pipefd[0];
		pipefd[0] = -1;
	}
	rc = 0;
out:
	if (null >= 0)
		close(null);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return rc;
}

int wr_ns_runc_finish(const struct wr_ns *ns, struct wr_ns_runc_job *job, int count_wait,
		      char **out, struct wr_error *err)
{
	const char *rt = runtime_short(ns), *what = job->what, *verb = job->verb;
	char *captured = NULL;
	int rc = -1;
	if (job->out_fd >= 0) {
		captured = slurp(job->out_fd, job->deadline);
		close(job->out_fd);
		job->out_fd = -1;
	}
	int status = 0;
	pid_t pid = job->pid;
	int waited = wait_pid(pid, job->deadline, &status);
	job->pid = -1;
	if (count_wait)
		wr_stats_runtime_wait(job->spawned, 1);
	if (waited < 0) {
		if (errno == ETIMEDOUT)
			wr_error_set(err, WR_DEADLINE_EXCEEDED, "ns: %s: %s %s took more than %d s; "
				     "killed", what, rt, verb, RUNC_TIMEOUT_MS / 1000);
		else
			wr_error_errno(err, errno, "ns: %s: waitpid for %s %s", what, rt, verb);
		goto out;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		if (out) {
			if (!captured) {
				wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
				goto out;
			}
			*out = captured;
			captured = NULL;
		}
		rc = 0;
		goto out;
	}
	/* 127 is also what a runtime that was never exec'd exits with */
	int e = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? wr_spawn_exec_error(pid) : 0;
	if (e) {
		cannot_run(ns, what, e, err);
		goto out;
	}
	char msg[400];
	log_message(job->log_path, msg, sizeof msg);
	if (!msg[0]) {
		if (WIFEXITED(status))
			snprintf(msg, sizeof msg, "exit status %d", WEXITSTATUS(status));
		else
			snprintf(msg, sizeof msg, "killed by signal %d", WTERMSIG(status));
	}
	int code = strstr(msg, "does not exist") ? WR_NOT_FOUND : WR_UNKNOWN;
	wr_error_set(err, code, "ns: %s: %s %s: %s", what, rt, verb, strip_prefix(msg, verb));
out:
	free(captured);
	return rc;
}

int wr_ns_runc(const struct wr_ns *ns, const char *what, const char *const *args,
	       const int *stdio, char **out, struct wr_error *err)
{
	struct wr_ns_runc_job job;
	if (wr_ns_runc_spawn(ns, 0, what, args, stdio, out != NULL, &job, err) < 0)
		return -1;
	return wr_ns_runc_finish(ns, &job, 1, out, err);
}

int wr_ns_runc_has(const struct wr_ns *ns, const char *id)
{
	char path[WR_NS_PATH];
	if (snprintf(path, sizeof path, "%s/%s/state.json", ns->runtime_root, id) >=
	    (int)sizeof path)
		return 0;
	return access(path, F_OK) == 0;
}

int wr_ns_runc_state(const struct wr_ns *ns, const char *id, char *status, size_t n,
		     pid_t *pid, struct wr_error *err)
{
	char what[300];
	char *out = NULL;
	struct wr_error e = { 0 };
	if (status && n)
		status[0] = '\0';
	if (pid)
		*pid = 0;
	if (!wr_ns_runc_has(ns, id))
		return 0;
	snprintf(what, sizeof what, "container %s", id);
	const char *args[] = { "state", id, NULL };
	if (wr_ns_runc(ns, what, args, NULL, &out, &e) < 0) {
		if (e.code == WR_NOT_FOUND)
			return 0;
		if (err)
			*err = e;
		return -1;
	}
	struct json_object *j = json_tokener_parse(out);
	free(out);
	if (!j)
		return wr_error_set(err, WR_INTERNAL, "ns: %s: runtime state is not JSON", what);
	if (status && n)
		snprintf(status, n, "%s", wr_ns_str(j, "status"));
	struct json_object *v;
	if (pid && json_object_object_get_ex(j, "pid", &v))
		*pid = (pid_t)json_object_get_int(v);
	json_object_put(j);
	return 1;
}
