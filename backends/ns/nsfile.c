/* nsfile.c — namespace files: what keeps a pod's namespaces alive without a
 * pause process.  A short-lived forked child unshares the namespaces (and
 * sets the pod's hostname, brings lo up), the parent bind-mounts the child's
 * /proc/<pid>/ns/<type> onto empty files, then the child exits; the bind
 * mounts hold the namespaces until they are unmounted.  The child is waited
 * for by its exact pid (the daemon reaps everything else). */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
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

/* In the child: only async-signal-safe calls, then _exit. */
static void child_main(int flags, const char *hostname, int ready, int hold)
{
	int e = 0;
	char c;
	if (unshare(flags) < 0)
		e = errno;
	if (!e && (flags & CLONE_NEWUTS) && hostname[0] &&
	    sethostname(hostname, strlen(hostname)) < 0)
		e = errno;
	if (!e && (flags & CLONE_NEWNET)) {
		struct ifreq ifr;
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		memset(&ifr, 0, sizeof ifr);
		memcpy(ifr.ifr_name, "lo", 3);
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			e = errno;
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (!e && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			e = errno;
		if (s >= 0)
			close(s);
	}
	if (write(ready, &e, sizeof e) != (ssize_t)sizeof e)
		_exit(1);
	/* hold the namespaces until the parent has bound them (it closes `hold`) */
	while (read(hold, &c, 1) < 0 && errno == EINTR)
		;
	_exit(e ? 1 : 0);
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
	int make[N] = { 0 }, flags = 0;
	for (int i = 0; i < N; i++) {
		if (!want[i].path || wr_ns_nsfile_is(want[i].path, want[i].type))
			continue; /* not asked, or already there from an earlier run */
		/* a plain file left by a run that died before binding: reuse it */
		int fd = open(want[i].path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
		if (fd < 0) {
			wr_error_errno(err, errno, "ns: cannot create %s", want[i].path);
			goto undo;
		}
		close(fd);
		make[i] = 1;
		flags |= want[i].type;
	}
	if (!flags)
		return 0;

	int ready[2], hold[2];
	if (pipe2(ready, O_CLOEXEC) < 0) {
		wr_error_errno(err, errno, "ns: pipe");
		goto undo;
	}
	if (pipe2(hold, O_CLOEXEC) < 0) {
		wr_error_errno(err, errno, "ns: pipe");
		close(ready[0]);
		close(ready[1]);
		goto undo;
	}
	const char *hostname = f->hostname ? f->hostname : "";
	/* the child never runs the daemon's signal handlers: all blocked in it */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		child_main(flags, hostname, ready[1], hold[0]);
	}
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ready[1]);
	close(hold[0]);
	if (pid < 0) {
		close(ready[0]);
		close(hold[1]);
		wr_error_errno(err, fork_errno, "ns: fork");
		goto undo;
	}
	int e = 0, rc = 0;
	ssize_t r;
	while ((r = read(ready[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	if (r != (ssize_t)sizeof e)
		rc = wr_error_set(err, WR_INTERNAL, "ns: namespace helper %d died", (int)pid);
	else if (e)
		rc = wr_error_errno(err, e, "ns: cannot make %s%s%s namespaces (hostname '%s')",
				    make[0] ? "ipc " : "", make[1] ? "uts " : "", make[2] ? "net" : "",
				    hostname);
	for (int i = 0; i < N && rc == 0; i++) {
		char src[64];
		if (!make[i])
			continue;
		snprintf(src, sizeof src, "/proc/%d/ns/%s", (int)pid, want[i].name);
		if (mount(src, want[i].path, NULL, MS_BIND, NULL) < 0)
			rc = wr_error_errno(err, errno, "ns: cannot bind %s onto %s", src, want[i].path);
	}
	close(hold[1]); /* lets the child exit */
	close(ready[0]);
	if (wait_exact(pid) < 0 && rc == 0)
		rc = wr_error_errno(err, errno, "ns: waitpid(%d)", (int)pid);
	if (rc == 0)
		return 0;
undo:;
	struct wr_error ignore;
	for (int i = 0; i < N; i++)
		if (make[i])
			wr_ns_nsfile_remove(want[i].path, &ignore);
	return -1;
}
