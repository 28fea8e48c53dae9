/* nsfile.c — namespace files: what keeps a pod's namespaces alive without a
 * pause process.  The daemon's thread unshares the namespaces (and sets the
 * pod's hostname, brings lo up), bind-mounts its /proc/thread-self/ns/<type>
 * onto empty files and returns to its own namespaces; the bind mounts hold
 * the pod's namespaces until they are unmounted.
 *
 * A PID namespace is the exception: a bind mount keeps it, but once its pid 1
 * has exited nothing can enter it again.  A pod that shares one therefore
 * runs a holder (src/daemon/warren-pidns-holder.c) as that pid 1, started
 * here: a child enters a new PID namespace, forks the holder (pid 1 there)
 * and exits, so the holder's parent is the daemon's child subreaper, which
 * reaps it whenever it ends.  The holder first waits for a go-ahead byte on
 * a socket whose other end only this process holds: if we die before its
 * pid is recorded, the socket closes and the holder exits by itself, so no
 * crash can leave an unknown holder running. */
#include "backends/ns/ns_internal.h"

#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int wr_ns_nsfile_is(const char *path, int nstype)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 0;
	int t = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	return t == nstype;
}

int wr_ns_nsfile_remove(const char *path, struct wr_error *err)
{
	if (wr_ns_unmount_all(path, err))
		return -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return wr_error_errno(err, errno, "ns: cannot remove %s", path);
	return 0;
}

/* Bring the loopback interface of the calling thread's network namespace up. */
static int loopback_up(void)
{
	struct ifreq ifr;
	int e = 0, s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof ifr);
	memcpy(ifr.ifr_name, "lo", 3);
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		e = errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (!e && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		e = errno;
	if (s >= 0)
		close(s);
	return e;
}

static int wait_exact(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* ---- the calling thread away from home ------------------------------------------ */

static const struct {
	int type;
	const char *name;
} home_kinds[] = { { CLONE_NEWIPC, "ipc" }, { CLONE_NEWUTS, "uts" }, { CLONE_NEWNET, "net" } };

int wr_ns_home_save(struct wr_ns_home *h, int types, struct wr_error *err)
{
	h->n = 0;
	for (size_t i = 0; i < sizeof home_kinds / sizeof home_kinds[0]; i++) {
		if (!(types & home_kinds[i].type))
			continue;
		char own[64];
		snprintf(own, sizeof own, "/proc/thread-self/ns/%s", home_kinds[i].name);
		int fd = open(own, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			wr_ns_home_return(h);
			return wr_error_errno(err, e, "ns: cannot open %s", own);
		}
		h->fd[h->n] = fd;
		h->type[h->n] = home_kinds[i].type;
		h->name[h->n] = home_kinds[i].name;
		h->n++;
	}
	return 0;
}

void wr_ns_home_return(struct wr_ns_home *h)
{
	/* A thread left in a pod's namespaces would make every later pod
	 * wrong: there is no safe way on, so stop and let the front restart
	 * the core (recovery finishes or undoes what was under way). */
	for (int i = 0; i < h->n; i++) {
		if (setns(h->fd[i], h->type[i]) < 0) {
			wr_error_log("ns: cannot return to the daemon's %s namespace: %s; aborting",
				     h->name[i], strerror(errno));
			abort();
		}
		close(h->fd[i]);
	}
	h->n = 0;
}

/* ---- namespace files ---------------------------------------------------------------- */

/* The namespaces are made by the calling thread itself: it saves its own
 * namespaces, unshares, sets the hostname, brings lo up, binds
 * /proc/thread-self/ns/<type> onto the files and returns home.  No child
 * process: forking the daemon copied its page tables and made every later
 * write of the daemon's fault (copy-on-write) — most of a pod start's CPU in
 * warrend.  The core is single-threaded; unshare/setns of IPC, UTS and net
 * only ever change the calling thread. */
int wr_ns_nsfiles_create(const struct wr_ns_nsfiles *f, struct wr_error *err)
{
	const struct {
		const char *path;
		int type;
		const char *name;
	} want[] = {
		{ f->ipc, CLONE_NEWIPC, "ipc" },
		{ f->uts, CLONE_NEWUTS, "uts" },
		{ f->net, CLONE_NEWNET, "net" },
	};
	enum { N = sizeof want / sizeof want[0] };
	int make[N] = { 0 }, flags = 0, rc = 0;
	for (int i = 0; i < N; i++) {
		if (!want[i].path || wr_ns_nsfile_is(want[i].path, want[i].type))
			continue; /* not asked, or already there from an earlier run */
		/* a plain file left by a run that died before binding: reuse it */
		int fd = open(want[i].path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (fd < 0) {
			rc = wr_error_errno(err, errno, "ns: cannot create %s", want[i].path);
			goto undo;
		}
		close(fd);
		make[i] = 1;
		flags |= want[i].type;
	}
	if (!flags)
		return 0;

	struct wr_ns_home home;
	if ((rc = wr_ns_home_save(&home, flags, err)))
		goto undo;
	if (unshare(flags) < 0) {
		rc = wr_error_errno(err, errno, "ns: cannot make %s%s%s namespaces",
				    make[0] ? "ipc " : "", make[1] ? "uts " : "", make[2] ? "net" : "");
		wr_ns_home_return(&home);
		goto undo;
	}
	int e = 0;
	const char *hostname = f->hostname ? f->hostname : "";
	if ((flags & CLONE_NEWUTS) && hostname[0] && sethostname(hostname, strlen(hostname)) < 0)
		e = errno;
	if (!e && (flags & CLONE_NEWNET))
		e = loopback_up();
	if (e)
		rc = wr_error_errno(err, e, "ns: cannot set up the new namespaces (hostname '%s')",
				    hostname);
	for (int i = 0; i < N && rc == 0; i++) {
		char src[64];
		if (!make[i])
			continue;
		snprintf(src, sizeof src, "/proc/thread-self/ns/%s", want[i].name);
		if (mount(src, want[i].path, NULL, MS_BIND, NULL) < 0)
			rc = wr_error_errno(err, errno, "ns: cannot bind %s onto %s", src, want[i].path);
	}
	wr_ns_home_return(&home);
undo:
	if (rc == 0)
		return 0;
	struct wr_error ignore;
	for (int i = 0; i < N; i++)
		if (make[i])
			wr_ns_nsfile_remove(want[i].path, &ignore);
	return -1;
}

/* ---- the pid namespace holder --------------------------------------------------- */

#define HOLDER_NAME "warren-pidns-holder"

char *wr_ns_holder_path(const char *configured)
{
	if (configured && *configured)
		return strdup(configured);
	char self[WR_NS_PATH];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return strdup(HOLDER_NAME); /* fails at use, naming it */
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0'; /* (a " (deleted)" suffix is on the name, gone with it) */
	char *path = NULL;
	return asprintf(&path, "%s/%s", self, HOLDER_NAME) < 0 ? NULL : path;
}

/* In the forked child (A): only async-signal-safe calls, then _exit.  A
 * enters a new PID namespace for its children and forks the holder (B), pid
 * 1 there; A reports B's pid (or -errno) on `info` and exits, so B's parent
 * becomes our child subreaper.  B reports an exec failure's errno on `execst`
 * (close-on-exec: end of file means it runs the holder). */
static void holder_child(const char *holder, int info, int execst, int go)
{
	pid_t b = -1;
	if (unshare(CLONE_NEWPID) < 0 || (b = fork()) < 0) {
		b = -errno;
	} else if (b == 0) {
		int e, null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigset_t none;
		setsid();
		if (null < 0 || dup2(go, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    chdir("/") < 0) {
			e = errno;
			goto fail;
		}
		/* nothing of the daemon's reaches the holder but its go-ahead on 0 */
		if (execst > 3)
			close_range(3, (unsigned)execst - 1, 0);
		close_range((unsigned)execst + 1, ~0U, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* no arguments and no environment: nothing of ours for the pod to
		 * read in /proc/1, and the least stack */
		const char *argv[] = { holder, NULL }, *envp[] = { NULL };
		execve(holder, (char *const *)argv, (char *const *)envp);
		e = errno;
fail:
		if (write(execst, &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	if (write(info, &b, sizeof b) != (ssize_t)sizeof b)
		_exit(1);
	_exit(0);
}

static ssize_t read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;
	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

int wr_ns_holder_start(const char *holder, const char *pidfile, struct wr_ns_holder *h,
		       struct wr_error *err)
{
	h->pid = 0;
	h->start = 0;
	h->go = -1;
	if (access(holder, X_OK) < 0) {
		wr_error_errno(err, errno, "ns: the pid namespace holder '%s' is not executable",
			       holder);
		if (err)
			err->code = WR_FAILED_PRECONDITION; /* NotFound would name the wrong thing */
		return -1;
	}
	int fd = open(pidfile, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return wr_error_errno(err, errno, "ns: cannot create %s", pidfile);
	close(fd);

	int info[2] = { -1, -1 }, execst[2] = { -1, -1 }, go[2] = { -1, -1 };
	if (pipe2(info, O_CLOEXEC) < 0 || pipe2(execst, O_CLOEXEC) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, go) < 0) {
		wr_error_errno(err, errno, "ns: pipe");
		goto close_fds;
	}
	/* the child never runs the daemon's signal handlers: all blocked in it */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t a = fork();
	if (a == 0)
		holder_child(holder, info[1], execst[1], go[1]);
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(info[1]);
	close(execst[1]);
	close(go[1]);
	info[1] = execst[1] = go[1] = -1;
	if (a < 0) {
		wr_error_errno(err, fork_errno, "ns: fork");
		goto close_fds;
	}
	pid_t b = 0;
	ssize_t r = read_retry(info[0], &b, sizeof b);
	wait_exact(a);
	if (r != (ssize_t)sizeof b || b == 0) {
		wr_error_set(err, WR_INTERNAL, "ns: pid namespace helper %d died", (int)a);
		goto close_fds;
	}
	if (b < 0) {
		wr_error_errno(err, -b, "ns: cannot make a pid namespace");
		goto close_fds;
	}
	h->pid = b;
	h->go = go[0];
	go[0] = -1;
	int e = 0;
	r = read_retry(execst[0], &e, sizeof e); /* returns when B has exec'd or failed */
	if (r == (ssize_t)sizeof e) {
		wr_error_errno(err, e, "ns: cannot run the pid namespace holder %s", holder);
		goto undo;
	}
	char src[64];
	snprintf(src, sizeof src, "/proc/%d/ns/pid", (int)b);
	if (!(h->start = wr_ns_proc_start(b, NULL))) {
		wr_error_set(err, WR_INTERNAL, "ns: the pid namespace holder (pid %d) died at start",
			     (int)b);
		goto undo;
	}
	if (mount(src, pidfile, NULL, MS_BIND, NULL) < 0) {
		wr_error_errno(err, errno, "ns: cannot bind %s onto %s", src, pidfile);
		goto undo;
	}
	/* a new namespace, and still the holder's (not a reused pid's) */
	struct stat ours, theirs;
	if (stat("/proc/self/ns/pid", &ours) < 0 || stat(pidfile, &theirs) < 0 ||
	    ours.st_ino == theirs.st_ino || !wr_ns_nsfile_is(pidfile, CLONE_NEWPID) ||
	    wr_ns_proc_check(b, h->start) != WR_NS_PROC_ALIVE) {
		wr_error_set(err, WR_INTERNAL, "ns: the pid namespace holder (pid %d) did not "
			     "start as pid 1 of a new pid namespace", (int)b);
		goto undo;
	}
	close(info[0]);
	close(execst[0]);
	return 0;

undo:
	wr_ns_holder_abandon(h);
close_fds:
	for (int i = 0; i < 2; i++) {
		if (info[i] >= 0)
			close(info[i]);
		if (execst[i] >= 0)
			close(execst[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	struct wr_error ignore;
	wr_ns_nsfile_remove(pidfile, &ignore);
	return -1;
}

int wr_ns_holder_release(struct wr_ns_holder *h, struct wr_error *err)
{
	if (h->go < 0)
		return 0;
	ssize_t w;
	while ((w = send(h->go, "g", 1, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	int e = errno;
	close(h->go);
	h->go = -1;
	if (w != 1)
		return wr_error_errno(err, e, "ns: the pid namespace holder (pid %d) is gone",
				      (int)h->pid);
	return 0;
}

void wr_ns_holder_abandon(struct wr_ns_holder *h)
{
	if (h->go >= 0)
		close(h->go); /* it exits by itself now; make sure of it */
	h->go = -1;
	struct wr_error ignore;
	if (h->pid > 0)
		wr_ns_holder_kill(h->pid, h->start, &ignore);
}

int wr_ns_holder_kill(pid_t pid, uint64_t start, struct wr_error *err)
{
	if (pid <= 0)
		return 0;
	/* start 0 (not recorded) would match any process: never kill on that */
	if (!start || wr_ns_proc_check(pid, start) != WR_NS_PROC_ALIVE)
		return 0;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return wr_error_errno(err, errno, "ns: cannot kill the pid namespace holder %d",
				      (int)pid);
	/* Its exit ends the pod's pid namespace: the kernel kills every process
	 * in it and the holder leaves once they are reaped (by our subreaper). */
	for (int ms = 0; ms < 1000 && wr_ns_proc_check(pid, start) == WR_NS_PROC_ALIVE; ms += 5)
		usleep(5000);
	return 0;
}
