/* stdio.c — a container process's stdio: containerd's FIFOs (or /dev/null).
 *
 * containerd opens the read side of stdout/stderr (and the write side of
 * stdin) when it makes the process's IO, before it asks for the process —
 * but asynchronously: its fifo package issues the blocking open(2) of the
 * read side from a goroutine, which may not have reached the kernel yet
 * when an exec's Start arrives (CRI's ExecSync, on a busy node).  So the
 * write side is opened with O_NONBLOCK and, while that fails with ENXIO (no
 * reader yet), retried for up to READER_WAIT_MS; after that nobody reads: an
 * error, not a hang (wr_ns_fifo_open, which a terminal's FIFOs go through
 * too: ns_tty.c).  The fds are then made blocking, as the process
 * expects.  Our copies are closed once the runtime has handed them to the
 * process: when the process exits, the last writer is gone and containerd's
 * copy loop ends. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define READER_WAIT_MS 2000

int wr_ns_fifo_open(const char *path, int flags, const char *which, int wait,
		    struct wr_error *err)
{
	/* while the write side fails with ENXIO, tries again 1 ms later,
	 * doubling up to 64 ms, for up to READER_WAIT_MS */
	long waited = 0, step = 1;
	for (;;) {
		int fd = open(path, flags | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0)
			return fd;
		if (errno != ENXIO || !wait || waited >= READER_WAIT_MS)
			break;
		struct timespec ts = { 0, step * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		waited += step;
		if (step < 64)
			step *= 2;
	}
	if (errno == ENXIO)
		return wr_error_set(err, WR_FAILED_PRECONDITION, "ns: %s fifo %s has no reader",
				    which, path);
	return wr_error_errno(err, errno, "ns: cannot open %s %s", which, path);
}

/* Open path with flags, make it blocking, move it to fd >= 3. */
static int open_one(const char *path, int flags, const char *which, struct wr_error *err)
{
	const char *p = path && *path ? path : "/dev/null";
	int fd = wr_ns_fifo_open(p, flags, which, 1, err);
	if (fd < 0)
		return -1;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		int e = errno;
		close(fd);
		return wr_error_errno(err, e, "ns: cannot make %s %s blocking", which, p);
	}
	if (fd < 3) { /* keep 0..2 free for the dup2s of the spawn */
		int nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		int e = errno;
		close(fd);
		if (nfd < 0)
			return wr_error_errno(err, e, "ns: dup %s", which);
		fd = nfd;
	}
	return fd;
}

int wr_ns_stdio_open(struct wr_ns_stdio *s, const char *in, const char *out, const char *errp,
		     struct wr_error *err)
{
	s->fd[0] = s->fd[1] = s->fd[2] = -1;
	if ((s->fd[0] = open_one(in, O_RDONLY, "stdin", err)) < 0 ||
	    (s->fd[1] = open_one(out, O_WRONLY, "stdout", err)) < 0 ||
	    (s->fd[2] = open_one(errp, O_WRONLY, "stderr", err)) < 0) {
		wr_ns_stdio_close(s);
		return -1;
	}
	return 0;
}

void wr_ns_stdio_close(struct wr_ns_stdio *s)
{
	for (int i = 0; i < 3; i++) {
		if (s->fd[i] >= 0)
			close(s->fd[i]);
		s->fd[i] = -1;
	}
}
