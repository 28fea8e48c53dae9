/* ns_tty.c — terminals of the ns backend: a process created with
 * terminal=true (a task's init or an exec) gets a pty from the OCI runtime,
 * and warren copies its data, as containerd's runc shim does.
 *
 * containerd hands over a stdin FIFO and an stdout FIFO (no stderr: a
 * terminal has one output).  `runc create|exec --console-socket PATH` makes
 * the pty inside the container and sends its master over PATH with
 * SCM_RIGHTS; PATH is a listening socket in a fresh directory under the
 * backend's state dir (<state_dir>/tty.XXXXXX/c), removed once the runtime
 * has returned and the master is received.
 *
 * Then, on the hosting daemon's libev loop (wr_ns_config.loop), for as long
 * as the process lives:
 *   stdin FIFO → master   (what containerd's client types)
 *   master → stdout FIFO  (what the process writes, echo included)
 * with non-blocking fds and a bounded buffer each way (a slow reader stops
 * the reading of the master, so the process blocks on its terminal, not
 * warren's memory).  The process's exit is watched with a pidfd: then the
 * master is drained (what the process wrote before it exited is readable:
 * the kernel flushes the pty buffer before a read says EAGAIN), the buffer
 * flushed, and the stdout FIFO closed: containerd's copy sees EOF (ctr waits
 * for it before it deletes the task).  A master that reports EIO (every
 * holder of the slave closed it) ends the copy the same way.
 *
 * End of stdin (containerd closed its writer, or CloseIO) stops the stdin
 * copy, after what was queued; nothing else happens to the terminal, as
 * with the runc shim's CloseIO.  ResizePty sets the window size on the
 * master (TIOCSWINSZ); the process gets SIGWINCH.
 *
 * Terminals live in the backend's memory, keyed by (kind, namespace, id),
 * until the object is deleted (task_delete, exec_delete, or the engine's
 * release) or the backend is destroyed.
 *
 * Across a restart of the daemon's core (issue #4): closing the master
 * would hang the terminal up (the process gets SIGHUP), and closing the
 * FIFO ends would end containerd's copies (EOF on stdout, EPIPE on stdin).
 * So with config's keep (core/fdkeep.h: warrend's front) each terminal's
 * master, stdin and stdout are kept outside the core under the key
 * "<kind>/<namespace>/<id>" from attach on; what the copy stops using is
 * dropped there (stdin at its end, stdout when its reader left, all three
 * when the copy is over or the object is released), while the backend's
 * destroy drops nothing.  The next core's recovery (wr_ns_tty_recover, from
 * observe) takes them back for each task and exec that still exists and
 * resumes the copy, the stdio FIFOs reopened from the recorded paths when
 * none was kept; the process's exit is judged against the start time in
 * bstate, so an exit while no core ran drains the master and ends the copy
 * as usual.  Data inside the dead core's buffers is lost; the process just
 * blocks on a full terminal while no core copies. */
#include "backends/ns/ns_internal.h"

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/fdkeep.h"
#include "core/log.h"

#define CONSOLE_TIMEOUT_MS 10000 /* the runtime has returned: the master is queued already */
#define OUT_BUF 32768            /* master → stdout */
#define IN_BUF 4096              /* stdin → master */

enum { SLOT_MASTER, SLOT_STDIN, SLOT_STDOUT }; /* of a kept terminal */
_Static_assert(SLOT_STDOUT < WR_FDKEEP_SLOTS, "fdkeep has a slot for each fd");

struct wr_ns_tty {
	struct wr_ns_tty *next;
	struct ev_loop *loop;
	enum wr_kind kind;
	char *nsname, *id;
	int master, in, out, pidfd; /* -1 once closed */
	int exited;                 /* the process exited: drain the master, then finish */
	int master_eof;             /* nothing more will come from the master */
	int in_closing;             /* CloseIO: read what is queued in the FIFO, then close it */
	int done;                   /* stdout closed: the copy is over */
	const struct wr_fdkeep *keep; /* where its fds are kept (NULL: nowhere) */
	char key[WR_FDKEEP_KEY_MAX + 1];
	ev_io w_master_r, w_master_w, w_in, w_out, w_pid;
	size_t olen, ilen;
	char obuf[OUT_BUF];
	char ibuf[IN_BUF];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* The copy no longer uses slot (WR_FDKEEP_ALL: anything): stop keeping it. */
static void unkeep(struct wr_ns_tty *p, int slot)
{
	if (p->keep)
		p->keep->drop(p->keep->ctx, p->key, slot);
	if (slot == WR_FDKEEP_ALL)
		p->keep = NULL;
}

/* "<kind>/<ns>/<id>": 0, or -1 when too long to keep */
static int tty_key(char *key, const struct wr_object *o)
{
	int n = snprintf(key, WR_FDKEEP_KEY_MAX + 1, "%s/%s/%s", wr_kind_name(o->kind), o->ns, o->id);
	return n > 0 && n <= WR_FDKEEP_KEY_MAX ? 0 : -1;
}

/* poll one fd for input until deadline: 1 ready, 0 timed out, -1 error */
static int wait_in(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - wr_monotonic_ms();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, left < 0 ? 0 : (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

/* ---- the console socket --------------------------------------------------------- */

/* A stdio FIFO of the process (stdio.c's opener; with wait as an exec's
 * start needs it): its fd, -1 when it has none, -2 when it cannot be
 * opened (err set). */
static int open_fifo(const char *path, int flags, const char *which, int wait,
		     struct wr_error *err)
{
	if (!path || !*path)
		return -1;
	int fd = wr_ns_fifo_open(path, flags, which, wait, err);
	return fd < 0 ? -2 : fd;
}

int wr_ns_console_open(struct wr_ns *ns, struct wr_ns_console *c, const char *what,
		       const char *in, const char *out, struct wr_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	c->lfd = c->in = c->out = -1;
	c->dir[0] = c->path[0] = '\0';
	if (!ns->loop)
		return wr_error_set(err, WR_UNIMPLEMENTED, "ns: %s: a terminal needs the daemon's "
				    "event loop (none configured)", what);
	if (wr_ns_pathf(c->dir, sizeof c->dir, err, "%s/tty.XXXXXX", ns->state_dir))
		return -1;
	if (!mkdtemp(c->dir)) {
		wr_error_errno(err, errno, "ns: %s: cannot create a directory for the console "
			       "socket in %s", what, ns->state_dir);
		c->dir[0] = '\0';
		return -1;
	}
	if (wr_ns_pathf(c->path, sizeof c->path, err, "%s/c", c->dir))
		goto fail;
	if (strlen(c->path) >= sizeof sa.sun_path) {
		wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: console socket path %s is longer "
			     "than a unix socket allows (a shorter state directory is needed)",
			     what, c->path);
		c->path[0] = '\0';
		goto fail;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(c->lfd, 4) < 0) {
		wr_error_errno(err, errno, "ns: %s: console socket %s", what, c->path);
		goto fail;
	}
	if ((c->in = open_fifo(in, O_RDONLY, "stdin", 1, err)) == -2 ||
	    (c->out = open_fifo(out, O_WRONLY, "stdout", 1, err)) == -2)
		goto fail;
	return 0;
fail:
	if (c->in == -2)
		c->in = -1;
	if (c->out == -2)
		c->out = -1;
	wr_ns_console_close(c);
	return -1;
}

void wr_ns_console_close(struct wr_ns_console *c)
{
	close_fd(&c->lfd);
	close_fd(&c->in);
	close_fd(&c->out);
	if (c->path[0])
		unlink(c->path);
	if (c->dir[0])
		rmdir(c->dir);
	c->path[0] = c->dir[0] = '\0';
}

/* Accept the runtime's connection and take the fd it sent (the pty master). */
static int recv_master(struct wr_ns_console *c, const char *what, struct wr_error *err)
{
	int64_t deadline = wr_monotonic_ms() + CONSOLE_TIMEOUT_MS;
	int r = wait_in(c->lfd, deadline);
	if (r <= 0)
		return r == 0 ? wr_error_set(err, WR_DEADLINE_EXCEEDED, "ns: %s: the runtime sent no "
					     "terminal to %s", what, c->path)
			      : wr_error_errno(err, errno, "ns: %s: poll %s", what, c->path);
	int conn = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return wr_error_errno(err, errno, "ns: %s: accept on %s", what, c->path);
	int master = -1;
	r = wait_in(conn, deadline);
	if (r <= 0) {
		if (r == 0)
			wr_error_set(err, WR_DEADLINE_EXCEEDED, "ns: %s: the runtime connected to %s "
				     "but sent no terminal", what, c->path);
		else
			wr_error_errno(err, errno, "ns: %s: poll %s", what, c->path);
		close(conn);
		return -1;
	}
	char name[4096];
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
			      .msg_controllen = sizeof cm.buf };
	ssize_t n;
	while ((n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	int e = errno;
	close(conn);
	if (n < 0)
		return wr_error_errno(err, e, "ns: %s: receiving the terminal on %s", what, c->path);
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int fds[4];
		memcpy(fds, CMSG_DATA(h), (k < 4 ? k : 4) * sizeof(int));
		for (size_t i = 0; i < k && i < 4; i++) {
			if (master < 0)
				master = fds[i];
			else
				close(fds[i]);
		}
	}
	if (master < 0)
		return wr_error_set(err, WR_INTERNAL, "ns: %s: the runtime's message on %s carried "
				    "no file descriptor%s", what, c->path,
				    (msg.msg_flags & MSG_CTRUNC) ? " (truncated)" : "");
	if (!isatty(master)) {
		close(master);
		return wr_error_set(err, WR_INTERNAL, "ns: %s: what the runtime sent on %s is not a "
				    "terminal", what, c->path);
	}
	return master;
}

/* ---- the copy ------------------------------------------------------------------- */

static void watch(struct wr_ns_tty *p, ev_io *w, int on)
{
	if (on && !ev_is_active(w))
		ev_io_start(p->loop, w);
	else if (!on && ev_is_active(w))
		ev_io_stop(p->loop, w);
}

static void stop_all(struct wr_ns_tty *p)
{
	watch(p, &p->w_master_r, 0);
	watch(p, &p->w_master_w, 0);
	watch(p, &p->w_in, 0);
	watch(p, &p->w_out, 0);
	watch(p, &p->w_pid, 0);
}

/* Output is over: stdout gets EOF, the master and stdin are closed. */
static void finish(struct wr_ns_tty *p)
{
	stop_all(p);
	close_fd(&p->out);
	close_fd(&p->master);
	close_fd(&p->in);
	close_fd(&p->pidfd);
	p->olen = p->ilen = 0;
	p->done = 1;
	unkeep(p, WR_FDKEEP_ALL);
	wr_debug("ns: %s %s: terminal output ended", wr_kind_name(p->kind), p->id);
}

/* Write what the out buffer holds; a reader gone (EPIPE) discards the rest. */
static void flush_out(struct wr_ns_tty *p)
{
	size_t off = 0;
	while (off < p->olen) {
		if (p->out < 0) {
			off = p->olen;
			break;
		}
		ssize_t n = write(p->out, p->obuf + off, p->olen - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else {
			wr_debug("ns: %s %s: terminal output: %s; discarding it",
				 wr_kind_name(p->kind), p->id, n < 0 ? strerror(errno) : "short write");
			watch(p, &p->w_out, 0); /* libev: stop before the fd closes */
			close_fd(&p->out);
			unkeep(p, SLOT_STDOUT);
		}
	}
	if (off) {
		memmove(p->obuf, p->obuf + off, p->olen - off);
		p->olen -= off;
	}
}

/* Read the master into the out buffer: 1 when it filled up (more may wait),
 * 0 when the master had no more (EAGAIN) or ended. */
static int fill_out(struct wr_ns_tty *p)
{
	while (!p->master_eof && p->master >= 0) {
		if (p->olen == sizeof p->obuf)
			return 1;
		ssize_t n = read(p->master, p->obuf + p->olen, sizeof p->obuf - p->olen);
		if (n > 0) {
			p->olen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (p->exited) /* drained: what it wrote before exiting is out */
				p->master_eof = 1;
			return 0;
		}
		p->master_eof = 1; /* EIO: every holder of the slave closed it */
	}
	return 0;
}

/* The output direction's one step, from any of its events. */
static void pump_out(struct wr_ns_tty *p)
{
	if (p->done)
		return;
	while (fill_out(p) == 1) {
		flush_out(p);
		if (p->olen == sizeof p->obuf)
			break; /* the reader is slow: wait until stdout takes more */
	}
	flush_out(p);
	if (p->master_eof && p->olen == 0) {
		finish(p);
		return;
	}
	watch(p, &p->w_master_r, !p->master_eof && p->olen < sizeof p->obuf);
	watch(p, &p->w_out, p->olen > 0 && p->out >= 0);
}

static void stop_in(struct wr_ns_tty *p)
{
	watch(p, &p->w_in, 0);
	if (p->in >= 0)
		unkeep(p, SLOT_STDIN);
	close_fd(&p->in);
}

/* Read stdin into the in buffer: 1 when it filled up, else 0. */
static int fill_in(struct wr_ns_tty *p)
{
	while (p->in >= 0) {
		if (p->ilen == sizeof p->ibuf)
			return 1;
		ssize_t n = read(p->in, p->ibuf + p->ilen, sizeof p->ibuf - p->ilen);
		if (n > 0) {
			p->ilen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (p->in_closing)
				stop_in(p);
			return 0;
		}
		stop_in(p); /* EOF: every writer closed the FIFO */
	}
	return 0;
}

static void flush_in(struct wr_ns_tty *p)
{
	size_t off = 0;
	while (off < p->ilen && p->master >= 0) {
		ssize_t n = write(p->master, p->ibuf + off, p->ilen - off);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			break;
		} else { /* EIO: nobody reads the terminal any more */
			off = p->ilen;
			stop_in(p);
		}
	}
	if (off) {
		memmove(p->ibuf, p->ibuf + off, p->ilen - off);
		p->ilen -= off;
	}
}

/* The input direction's one step. */
static void pump_in(struct wr_ns_tty *p)
{
	if (p->done)
		return;
	while (fill_in(p) == 1) {
		flush_in(p);
		if (p->ilen == sizeof p->ibuf)
			break; /* the terminal's input queue is full */
	}
	flush_in(p);
	watch(p, &p->w_in, p->in >= 0 && p->ilen < sizeof p->ibuf);
	watch(p, &p->w_master_w, p->ilen > 0 && p->master >= 0);
}

/* The pty readable or stdout writable: move output along. */
static void on_output(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	pump_out(w->data);
}

/* stdin readable or the pty writable: move input along. */
static void on_input(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	pump_in(w->data);
}

static void on_exit_of(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_ns_tty *p = w->data;
	watch(p, &p->w_pid, 0);
	close_fd(&p->pidfd);
	p->exited = 1;
	pump_out(p);
}

/* ---- the table -------------------------------------------------------------------- */

static struct wr_ns_tty **find(struct wr_ns *ns, const struct wr_object *o)
{
	for (struct wr_ns_tty **pp = &ns->ttys; *pp; pp = &(*pp)->next)
		if ((*pp)->kind == o->kind && strcmp((*pp)->nsname, o->ns) == 0 &&
		    strcmp((*pp)->id, o->id) == 0)
			return pp;
	return NULL;
}

static void tty_free(struct wr_ns_tty *p)
{
	stop_all(p);
	close_fd(&p->master);
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->pidfd);
	free(p->nsname);
	free(p->id);
	free(p);
}

void wr_ns_tty_release(struct wr_ns *ns, const struct wr_object *o)
{
	struct wr_ns_tty **pp = find(ns, o);
	if (!pp)
		return;
	struct wr_ns_tty *p = *pp;
	*pp = p->next;
	unkeep(p, WR_FDKEEP_ALL); /* the object is gone: nothing to resume */
	tty_free(p);
}

void wr_ns_tty_release_all(struct wr_ns *ns)
{
	/* the backend's end, not the objects': what is kept stays for the next */
	while (ns->ttys) {
		struct wr_ns_tty *p = ns->ttys;
		ns->ttys = p->next;
		tty_free(p);
	}
}

/* Copy between master, in and out (taken: closed on failure; in/out may be
 * -1) for o until process pid exits — start: its start time as recorded
 * (0: read it now; a different one means the pid was reused, so it
 * exited) — replacing any terminal o had.  Keeps the fds with ns->keep. */
static int tty_start(struct wr_ns *ns, const struct wr_object *o, int master, int in, int out,
		     pid_t pid, uint64_t start, const char *what, struct wr_error *err)
{
	int fds[3] = { master, in, out };
	for (int i = 0; i < 3; i++) { /* kept copies share the flag; set it anyway */
		int fl = fds[i] >= 0 ? fcntl(fds[i], F_GETFL) : 0;
		if (fl < 0 || (fds[i] >= 0 && fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0)) {
			wr_error_errno(err, errno, "ns: %s: the terminal's %s", what,
				       i == 0 ? "master" : i == 1 ? "stdin" : "stdout");
			goto fail;
		}
	}
	struct wr_ns_tty *p = calloc(1, sizeof *p);
	if (p) {
		p->nsname = strdup(o->ns);
		p->id = strdup(o->id);
	}
	if (!p || !p->nsname || !p->id) {
		if (p) {
			free(p->nsname);
			free(p->id);
			free(p);
		}
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		goto fail;
	}
	p->loop = ns->loop;
	p->kind = o->kind;
	p->master = master;
	p->in = in;
	p->out = out;
	/* the process's exit; a pid gone or reused already means it has exited */
	uint64_t now = pid > 0 ? wr_ns_proc_start(pid, NULL) : 0;
	if (!start)
		start = now;
	p->pidfd = -1;
	if (!start || now != start) {
		p->exited = 1;
	} else if ((p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) >= 0) { /* close-on-exec */
		if (wr_ns_proc_start(pid, NULL) != start) { /* reaped and reused meanwhile */
			close_fd(&p->pidfd);
			p->exited = 1;
		}
	} else if (errno == ESRCH) {
		p->exited = 1;
	} /* else no pidfd (an old kernel): the master's EIO ends the copy */

	struct wr_ns_tty **old = find(ns, o);
	if (old) { /* a terminal of an earlier process of the same object */
		struct wr_ns_tty *q = *old;
		*old = q->next;
		tty_free(q);
	}
	p->next = ns->ttys;
	ns->ttys = p;
	if (ns->keep && tty_key(p->key, o) == 0) {
		/* what is kept is these three fds, nothing of an earlier process */
		p->keep = ns->keep;
		p->keep->drop(p->keep->ctx, p->key, WR_FDKEEP_ALL);
		p->keep->hold(p->keep->ctx, p->key, SLOT_MASTER, p->master);
		if (p->in >= 0)
			p->keep->hold(p->keep->ctx, p->key, SLOT_STDIN, p->in);
		if (p->out >= 0)
			p->keep->hold(p->keep->ctx, p->key, SLOT_STDOUT, p->out);
	}

	ev_io_init(&p->w_master_r, on_output, p->master, EV_READ);
	ev_io_init(&p->w_master_w, on_input, p->master, EV_WRITE);
	p->w_master_r.data = p->w_master_w.data = p;
	if (p->out >= 0) {
		ev_io_init(&p->w_out, on_output, p->out, EV_WRITE);
		p->w_out.data = p;
	}
	if (p->in >= 0) {
		ev_io_init(&p->w_in, on_input, p->in, EV_READ);
		p->w_in.data = p;
	}
	if (p->pidfd >= 0) {
		ev_io_init(&p->w_pid, on_exit_of, p->pidfd, EV_READ);
		p->w_pid.data = p;
		ev_io_start(p->loop, &p->w_pid);
	}
	/* stdin only when readable: a FIFO no writer opened yet reads as EOF */
	watch(p, &p->w_in, p->in >= 0);
	pump_out(p);
	return 0;
fail:
	close(master);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return -1;
}

int wr_ns_tty_attach(struct wr_ns *ns, struct wr_ns_console *c, const struct wr_object *o,
		     pid_t pid, struct wr_error *err)
{
	char what[320];
	snprintf(what, sizeof what, "%s %s", wr_kind_name(o->kind), o->id);
	if (!ns->loop)
		return wr_error_set(err, WR_UNIMPLEMENTED, "ns: %s: a terminal needs the daemon's "
				    "event loop (none configured)", what);
	int master = recv_master(c, what, err);
	if (master < 0)
		return -1;
	int in = c->in, out = c->out;
	c->in = c->out = -1;
	if (tty_start(ns, o, master, in, out, pid, 0, what, err) < 0)
		return -1;
	wr_debug("ns: %s: terminal attached (pid %d)", what, (int)pid);
	return 0;
}

/* A stdio FIFO of o's spec ("stdin"/"stdout"), reopened; -1 when none. */
static int reopen_fifo(const struct wr_object *o, const char *which, int flags, const char *what)
{
	struct json_object *spec;
	struct wr_error err;
	if (wr_ns_parse_spec(o, &spec, &err) < 0)
		return -1;
	int fd = open_fifo(wr_ns_str(spec, which), flags, which, 0, &err);
	if (fd == -2) /* e.g. containerd's reader is gone: the copy goes on without */
		wr_debug("ns: %s: terminal %s not resumed: %s", what, which, err.msg);
	json_object_put(spec);
	return fd < 0 ? -1 : fd;
}

void wr_ns_tty_recover(struct wr_ns *ns, const struct wr_object *o)
{
	char key[WR_FDKEEP_KEY_MAX + 1], what[320];
	if (!ns->keep || o->kind == WR_KIND_SANDBOX || tty_key(key, o) < 0)
		return;
	const struct wr_fdkeep *k = ns->keep;
	int master = k->take(k->ctx, key, SLOT_MASTER);
	int in = k->take(k->ctx, key, SLOT_STDIN);
	int out = k->take(k->ctx, key, SLOT_STDOUT);
	if (master < 0 && in < 0 && out < 0)
		return; /* no terminal, or none kept */
	snprintf(what, sizeof what, "%s %s", wr_kind_name(o->kind), o->id);
	if (master < 0 || !ns->loop || find(ns, o)) {
		/* nothing to resume with, or recovery re-ran its create: a new one */
		close_fd(&master);
		close_fd(&in);
		close_fd(&out);
		if (!find(ns, o))
			k->drop(k->ctx, key, WR_FDKEEP_ALL);
		return;
	}
	if (in < 0)
		in = reopen_fifo(o, "stdin", O_RDONLY, what);
	if (out < 0)
		out = reopen_fifo(o, "stdout", O_WRONLY, what);
	struct wr_error err;
	if (tty_start(ns, o, master, in, out, o->pid, wr_ns_recorded_start(o), what, &err) < 0) {
		wr_warn("ns: %s: terminal not resumed: %s", what, err.msg);
		k->drop(k->ctx, key, WR_FDKEEP_ALL);
		return;
	}
	wr_info("ns: %s: terminal resumed (pid %d)", what, o->pid);
}

/* ---- ResizePty, CloseIO ----------------------------------------------------------- */

int wr_ns_tty_resize(struct wr_backend *b, struct wr_object *o, unsigned width, unsigned height,
		     struct wr_error *err)
{
	struct wr_ns_tty **pp = find(wr_ns_of(b), o);
	if (!pp || (*pp)->master < 0)
		return 0; /* no terminal (or no more): nothing to resize */
	struct winsize ws = { .ws_row = (unsigned short)(height > 0xffff ? 0xffff : height),
			      .ws_col = (unsigned short)(width > 0xffff ? 0xffff : width) };
	if (ioctl((*pp)->master, TIOCSWINSZ, &ws) < 0)
		return wr_error_errno(err, errno, "ns: %s %s: resize the terminal to %ux%u",
				      wr_kind_name(o->kind), o->id, width, height);
	return 0;
}

int wr_ns_tty_close_stdin(struct wr_backend *b, struct wr_object *o, struct wr_error *err)
{
	(void)err;
	struct wr_ns_tty **pp = find(wr_ns_of(b), o);
	if (!pp || (*pp)->in < 0)
		return 0;
	(*pp)->in_closing = 1;
	pump_in(*pp);
	return 0;
}

/* ---- start-up ---------------------------------------------------------------------- */

void wr_ns_tty_sweep(struct wr_ns *ns)
{
	DIR *d = opendir(ns->state_dir);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		char path[WR_NS_PATH];
		if (strncmp(de->d_name, "tty.", 4) != 0 ||
		    snprintf(path, sizeof path, "%s/%s", ns->state_dir, de->d_name) >= (int)sizeof path)
			continue;
		struct wr_error ignore;
		wr_ns_rmrf(path, &ignore);
	}
	closedir(d);
}
