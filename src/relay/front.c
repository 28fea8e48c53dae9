/* front.c — warrend's front process: sockets, the core child and its
 * restarts, the reaper and its exit records, signals (see front.h).  The
 * per-connection relaying is relay_conn.c. */
#include "relay/relay_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "ttrpc/sock.h"

#define ACCEPT_RETRY 0.2      /* seconds to wait after EMFILE and friends */
#define QUICK_DEATH 1.0       /* a core that dies sooner than this is backed off */
#define BACKOFF_MAX 1.0

/* ---- control socket -------------------------------------------------------- */

static void ctl_flush(struct wr_relay *r)
{
	while (r->ctl_head && r->ctl_fd >= 0) {
		struct ctl_out *o = r->ctl_head;
		struct wr_error err;
		if (wr_ctl_send(r->ctl_fd, &o->m, o->key[0] ? o->key : NULL, o->fd, &err) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(r->loop, &r->ctl_wio);
				return;
			}
			/* The core is going away; its reaping clears the queue. */
			ev_io_stop(r->loop, &r->ctl_wio);
			return;
		}
		if (o->fd >= 0)
			close(o->fd);
		r->ctl_head = o->next;
		if (!r->ctl_head)
			r->ctl_tail = NULL;
		free(o);
	}
	ev_io_stop(r->loop, &r->ctl_wio);
}

/* Queue a message (with key or NULL, and fd, which the queue then owns) for
 * the core. */
static int ctl_queue(struct wr_relay *r, const struct wr_ctl_msg *m, const char *key, int fd)
{
	size_t klen = key ? strlen(key) : 0;
	struct ctl_out *o = malloc(sizeof *o + klen + 1);
	if (!o) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	o->next = NULL;
	o->m = *m;
	o->fd = fd;
	memcpy(o->key, key ? key : "", klen + 1);
	if (r->ctl_tail)
		r->ctl_tail->next = o;
	else
		r->ctl_head = o;
	r->ctl_tail = o;
	return 0;
}

static void ctl_clear(struct wr_relay *r)
{
	while (r->ctl_head) {
		struct ctl_out *o = r->ctl_head;
		r->ctl_head = o->next;
		if (o->fd >= 0)
			close(o->fd);
		free(o);
	}
	r->ctl_tail = NULL;
	ev_io_stop(r->loop, &r->ctl_rio);
	ev_io_stop(r->loop, &r->ctl_wio);
	if (r->ctl_fd >= 0)
		close(r->ctl_fd);
	r->ctl_fd = -1;
}

static void ctl_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	ctl_flush(w->data);
}

/* Read what the core sent, up to EAGAIN or its end. */
static void ctl_read_all(struct wr_relay *r)
{
	while (r->ctl_fd >= 0) {
		struct wr_ctl_msg m;
		char key[WR_CTL_KEY_MAX + 1];
		int fd;
		struct wr_error err;
		int n = wr_ctl_recv(r->ctl_fd, &m, key, &fd, &err);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EBADMSG) {
			wr_warn("relay: from the core: %s", err.msg);
			continue;
		}
		if (n <= 0) {
			/* The core is exiting; acting on it waits for its reaping. */
			ev_io_stop(r->loop, &r->ctl_rio);
			return;
		}
		if (m.type == WR_CTL_ACK) {
			if (wr_exits_ack(&r->exits, m.pid, m.time_ns))
				wr_debug("relay: exit of pid %d acknowledged", m.pid);
		} else if (m.type == WR_CTL_HOLD && fd >= 0) {
			if (wr_held_put(&r->held, key, m.status, fd) < 0)
				wr_warn("relay: cannot hold terminal %s (%zu held): it hangs up at the "
					"next core restart", key, r->held.n);
			else
				wr_debug("relay: holding terminal %s slot %d", key, m.status);
		} else if (m.type == WR_CTL_DROP) {
			if (wr_held_drop(&r->held, key, m.status))
				wr_debug("relay: dropped terminal %s slot %d", key, m.status);
		} else {
			if (fd >= 0)
				close(fd);
			wr_warn("relay: unexpected control message %u from the core", m.type);
		}
	}
}

static void ctl_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	ctl_read_all(w->data);
}

/* ---- the core ---------------------------------------------------------------------- */

static void send_exit(struct wr_relay *r, const struct wr_exit_rec *x)
{
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = x->pid;
	m.status = x->status;
	m.time_ns = x->time_ns;
	if (ctl_queue(r, &m, NULL, -1) < 0)
		wr_warn("relay: out of memory: exit of pid %d reaches the core at its next start",
			x->pid);
}

/* Queue HELD (key, slot) with a copy of fd for the core: 1 queued, else 0. */
static int give_held(struct wr_relay *r, const char *key, int slot, int fd)
{
	if (fd < 0)
		return 0;
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_HELD);
	m.status = slot;
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (copy < 0 || ctl_queue(r, &m, key, copy) < 0) {
		wr_warn("relay: cannot hand terminal %s to the core: %s", key,
			copy < 0 ? strerror(errno) : "out of memory");
		return 0;
	}
	return 1;
}

void relay_give(struct wr_relay *r, struct relay_conn *c)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) {
		relay_conn_close(c, strerror(errno));
		return;
	}
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_ADOPT);
	m.conn_id = c->id;
	snprintf(m.backend, sizeof m.backend, "%s", c->backend);
	if (ctl_queue(r, &m, NULL, sv[1]) < 0) {
		close(sv[0]);
		relay_conn_close(c, "out of memory");
		return;
	}
	relay_conn_attach(c, sv[0]);
}

static void spawn_core(struct wr_relay *r);

static void respawn_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	spawn_core(w->data);
}

static void retry_spawn(struct wr_relay *r, double delay)
{
	ev_timer_stop(r->loop, &r->respawn);
	ev_timer_set(&r->respawn, delay, 0.);
	ev_timer_start(r->loop, &r->respawn);
}

static void spawn_core(struct wr_relay *r)
{
	if (r->stopping || r->core_pid)
		return;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		wr_error_log("relay: control socketpair: %s; retrying in 1 s", strerror(errno));
		retry_spawn(r, 1.0);
		return;
	}
	size_t n_args = 0;
	while (r->cfg->core_args && r->cfg->core_args[n_args])
		n_args++;
	char fdnum[16];
	snprintf(fdnum, sizeof fdnum, "%d", sv[1]);
	const char **argv = calloc(n_args + 5, sizeof *argv);
	if (!argv) {
		close(sv[0]);
		close(sv[1]);
		retry_spawn(r, 1.0);
		return;
	}
	argv[0] = r->cfg->core_path;
	argv[1] = "--core";
	argv[2] = "--control-fd";
	argv[3] = fdnum;
	for (size_t i = 0; i < n_args; i++)
		argv[4 + i] = r->cfg->core_args[i];
	/* No signal handler may run in the child before exec (libev's would
	 * write to the loop's wakeup fd, shared with us). */
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		if (fcntl(sv[1], F_SETFD, 0) < 0)
			_exit(127);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "warrend front: cannot exec the core %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(argv);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		wr_error_log("relay: fork of the core: %s; retrying in 1 s", strerror(fork_errno));
		retry_spawn(r, 1.0);
		return;
	}
	r->core_pid = pid;
	r->core_gen++;
	r->core_started = ev_time();
	r->ctl_fd = sv[0];
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	ev_io_set(&r->ctl_rio, sv[0], EV_READ);
	ev_io_set(&r->ctl_wio, sv[0], EV_WRITE);
	ev_io_start(r->loop, &r->ctl_rio);
	wr_info("relay: core started: pid %d (%s), %zu exit record(s) pending, %zu terminal(s) "
		"held, %s", pid, r->cfg->core_path, r->exits.n, r->held.n,
		r->conns ? "handing over connections" : "no connections");
	/* Before it recovers, the core reads every exit it has not acknowledged. */
	for (size_t i = 0; i < r->exits.n; i++)
		send_exit(r, &r->exits.v[i]);
	/* a fresh counter table for this core's answers (reply_cache.h) */
	int gens_fd = -1;
	struct wr_error err;
	if (r->cache && !(r->gens = wr_objgen_create(&gens_fd, &err)))
		wr_warn("relay: %s: no reply cache for this core", err.msg);
	struct wr_ctl_msg end;
	wr_ctl_init(&end, WR_CTL_EXITS_END);
	end.conn_id = WR_CTL_CAP_TERMINALS | (r->gens ? WR_CTL_CAP_REPLY_CACHE : 0);
	if (ctl_queue(r, &end, NULL, -1) < 0) {
		if (gens_fd >= 0)
			close(gens_fd);
		goto out_of_memory;
	}
	/* then a copy of every terminal fd held, for its recovery: EXITS_END
	 * says how many follow; then the counters */
	struct ctl_out *end_out = r->ctl_tail;
	for (size_t i = 0; i < r->held.n; i++)
		for (int s = 0; s < WR_CTL_SLOTS; s++)
			end_out->m.status += give_held(r, r->held.v[i].key, s, r->held.v[i].fd[s]);
	if (r->gens) {
		struct wr_ctl_msg g;
		wr_ctl_init(&g, WR_CTL_GENS);
		if (ctl_queue(r, &g, NULL, gens_fd) < 0)   /* it closed gens_fd */
			goto out_of_memory;
	}
	for (struct relay_conn *c = r->conns, *next; c; c = next) {
		next = c->next;
		relay_give(r, c);
	}
	ctl_flush(r);
	return;
out_of_memory:
	wr_error_log("relay: out of memory starting the core; killing it");
	kill(pid, SIGKILL);
}

static void core_died(struct wr_relay *r, int status)
{
	double lived = ev_time() - r->core_started;
	int code = wr_exit_code(status);
	if (WIFSIGNALED(status))
		wr_warn("relay: core pid %d killed by signal %d after %.1f s", r->core_pid,
			WTERMSIG(status), lived);
	else
		wr_log(code == 0 || r->restart_asked || r->stopping ? WR_LOG_INFO : WR_LOG_WARN,
		       "relay: core pid %d exited with status %d after %.1f s", r->core_pid, code, lived);
	r->core_pid = 0;
	/* Its answers are not given again: the next core counts anew.  What
	 * it left in the pairs is forwarded, not kept (gens is NULL now). */
	wr_reply_cache_clear(r->cache);
	wr_objgen_free(r->gens);
	r->gens = NULL;
	ev_timer_stop(r->loop, &r->kill_timer);
	ctl_read_all(r);   /* what it said last (a HOLD) is still to be read */
	ctl_clear(r);
	for (struct relay_conn *c = r->conns, *next; c; c = next) {
		next = c->next;
		relay_conn_core_lost(c);
	}
	if (r->stopping) {
		ev_break(r->loop, EVBREAK_ALL);
		return;
	}
	double delay = 0;
	if (r->restart_asked || lived >= QUICK_DEATH) {
		r->quick_deaths = 0;
	} else if (++r->quick_deaths > 1) {
		delay = 0.05;
		for (int i = 2; i < r->quick_deaths && delay < BACKOFF_MAX; i++)
			delay *= 2;
		if (delay > BACKOFF_MAX)
			delay = BACKOFF_MAX;
	}
	r->restart_asked = 0;
	if (delay > 0)
		wr_warn("relay: the core keeps dying (%d times in a row); next start in %.2f s",
			r->quick_deaths, delay);
	retry_spawn(r, delay);
}

static void stop_core(struct wr_relay *r)
{
	double t = r->cfg->core_stop_timeout > 0 ? r->cfg->core_stop_timeout : 10.0;
	kill(r->core_pid, SIGTERM);
	ev_timer_stop(r->loop, &r->kill_timer);
	ev_timer_set(&r->kill_timer, t, 0.);
	ev_timer_start(r->loop, &r->kill_timer);
}

static void kill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_relay *r = w->data;
	if (!r->core_pid)
		return;
	wr_warn("relay: core pid %d ignored SIGTERM; killing it", r->core_pid);
	kill(r->core_pid, SIGKILL);
}

/* ---- reaping ----------------------------------------------------------------------- */

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_relay *r = w->data;
	int code = wr_exit_code(w->rstatus);
	if (code < 0)
		return;   /* stopped or continued */
	if (r->core_pid && w->rpid == r->core_pid) {
		core_died(r, w->rstatus);
		return;
	}
	struct wr_exit_rec x = { w->rpid, code, wr_now_ns() };
	wr_debug("relay: reaped pid %d, status %d", x.pid, x.status);
	if (wr_exits_add(&r->exits, x.pid, x.status, x.time_ns) < 0) {
		wr_error_log("relay: out of memory: exit status %d of pid %d is lost", x.status, x.pid);
		return;
	}
	if (r->exits.dropped) {
		wr_warn("relay: %zu exit record(s) dropped: no core acknowledged them", r->exits.dropped);
		r->exits.dropped = 0;
	}
	if (r->ctl_fd >= 0) {
		send_exit(r, &x);
		ctl_flush(r);
	}
}

/* ---- sockets ----------------------------------------------------------------------- */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct relay_listener *l = w->data;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			struct relay_conn *c = relay_conn_new(l->r, fd, l->backend);
			if (c && l->r->core_pid) {
				relay_give(l->r, c);
				ctl_flush(l->r);
			}
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		wr_warn("relay: accept on %s: %s", l->path, strerror(errno));
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			ev_io_stop(loop, &l->io);
			ev_timer_start(loop, &l->retry);
		}
		return;
	}
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct relay_listener *l = w->data;
	ev_io_start(loop, &l->io);
}

/* Bind path afresh: we hold the instance lock, so a socket file there is stale. */
static int listen_unix(const char *path, struct wr_error *err)
{
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return wr_error_set(err, WR_ALREADY_EXISTS, "%s exists and is not a socket",
					    path);
		unlink(path);
	}
	return wr_ttrpc_unix_listen(path, err);
}

/* Every listener accepts: take the ready lock (kept until close_listeners;
 * close-on-exec, so a core never holds it).  Not fatal: without it shims
 * fall back to connecting. */
static void take_ready(struct wr_relay *r)
{
	r->ready_fd = -1;
	if (!r->cfg->ready_path)
		return;
	int fd = open(r->cfg->ready_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
		wr_warn("relay: cannot lock %s: %s (shims will connect to check warrend is up)",
			r->cfg->ready_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	r->ready_fd = fd;
}

static void close_listeners(struct wr_relay *r)
{
	if (r->ready_fd >= 0) {   /* not ready from now on */
		close(r->ready_fd);
		r->ready_fd = -1;
	}
	while (r->listeners) {
		struct relay_listener *l = r->listeners;
		r->listeners = l->next;
		ev_io_stop(r->loop, &l->io);
		ev_timer_stop(r->loop, &l->retry);
		close(l->fd);
		unlink(l->path);
		free(l);
	}
}

static int open_listeners(struct wr_relay *r)
{
	for (size_t i = 0; i < r->cfg->n_listen; i++) {
		const struct wr_relay_listen *want = &r->cfg->listen[i];
		struct relay_listener *l = calloc(1, sizeof *l);
		if (!l)
			return -1;
		l->r = r;
		snprintf(l->backend, sizeof l->backend, "%s", want->backend);
		snprintf(l->path, sizeof l->path, "%s", want->path);
		struct wr_error err;
		l->fd = listen_unix(want->path, &err);
		if (l->fd < 0) {
			wr_error_log("relay: cannot listen on %s: %s", want->path, err.msg);
			free(l);
			return -1;
		}
		ev_io_init(&l->io, accept_cb, l->fd, EV_READ);
		ev_timer_init(&l->retry, accept_retry_cb, ACCEPT_RETRY, 0.);
		l->io.data = l->retry.data = l;
		l->next = r->listeners;
		r->listeners = l;
		ev_io_start(r->loop, &l->io);
		wr_info("relay: backend %s on %s", want->backend, want->path);
	}
	return 0;
}

/* ---- signals and the run --------------------------------------------------------------- */

static void hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_relay *r = w->data;
	if (r->stopping)
		return;
	wr_info("relay: SIGHUP: restarting the core from %s", r->cfg->core_path);
	r->quick_deaths = 0;
	if (r->core_pid) {
		r->restart_asked = 1;
		stop_core(r);
	} else {
		retry_spawn(r, 0);
	}
}

static void term_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	struct wr_relay *r = w->data;
	wr_info("relay: signal %d: stopping", w->signum);
	r->stopping = 1;
	close_listeners(r);
	ev_timer_stop(loop, &r->respawn);
	if (r->core_pid)
		stop_core(r);
	else
		ev_break(loop, EVBREAK_ALL);
}

int wr_relay_front_run(const struct wr_relay_config *cfg)
{
	struct wr_relay *r = calloc(1, sizeof *r);
	if (!r)
		return 1;
	r->loop = ev_default_loop(0);
	r->cfg = cfg;
	r->ctl_fd = -1;
	r->ready_fd = -1;
	wr_exits_init(&r->exits);
	wr_held_init(&r->held);
	if (!(r->cache = wr_reply_cache_new()))
		wr_warn("relay: out of memory: no reply cache");
	wr_heap_trim_init(&r->trim, r->loop, WR_HEAP_TRIM_DELAY);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		wr_warn("relay: cannot become a child subreaper: exit codes of containers will be lost");
	int rc = 0;
	if (open_listeners(r) < 0) {
		close_listeners(r);
		wr_reply_cache_free(r->cache);
		free(r);
		return 1;
	}
	take_ready(r);
	ev_io_init(&r->ctl_rio, ctl_read_cb, -1, EV_READ);
	ev_io_init(&r->ctl_wio, ctl_write_cb, -1, EV_WRITE);
	ev_timer_init(&r->respawn, respawn_cb, 0., 0.);
	ev_timer_init(&r->kill_timer, kill_cb, 10., 0.);
	ev_child_init(&r->child, child_cb, 0, 0);
	ev_signal_init(&r->sighup, hup_cb, SIGHUP);
	ev_signal_init(&r->sigterm, term_cb, SIGTERM);
	ev_signal_init(&r->sigint, term_cb, SIGINT);
	r->ctl_rio.data = r->ctl_wio.data = r->respawn.data = r->kill_timer.data = r;
	r->child.data = r->sighup.data = r->sigterm.data = r->sigint.data = r;
	ev_child_start(r->loop, &r->child);
	ev_signal_start(r->loop, &r->sighup);
	ev_signal_start(r->loop, &r->sigterm);
	ev_signal_start(r->loop, &r->sigint);
	spawn_core(r);
	ev_run(r->loop, 0);

	while (r->conns)
		relay_conn_close(r->conns, "warrend stopping");
	close_listeners(r);
	ctl_clear(r);
	ev_timer_stop(r->loop, &r->respawn);
	ev_timer_stop(r->loop, &r->kill_timer);
	wr_heap_trim_stop(&r->trim);
	ev_child_stop(r->loop, &r->child);
	ev_signal_stop(r->loop, &r->sighup);
	ev_signal_stop(r->loop, &r->sigterm);
	ev_signal_stop(r->loop, &r->sigint);
	if (r->exits.n)
		wr_warn("relay: %zu exit record(s) never reached a core", r->exits.n);
	wr_exits_free(&r->exits);
	if (r->held.n)
		wr_info("relay: closing %zu held terminal fd(s)", wr_held_fds(&r->held));
	wr_held_free(&r->held);
	wr_reply_cache_free(r->cache);
	wr_objgen_free(r->gens);
	free(r);
	return rc;
}
