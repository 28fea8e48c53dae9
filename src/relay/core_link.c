/* core_link.c — the core's end of the control channel (see core_link.h).
 *
 * An exit record names a pid.  It is matched to the live task or exec whose
 * pid it is and whose state allows Exit, else to such a sandbox (one with a
 * process of its own: the ns backend's pid namespace holder, whose end is the
 * pod's), and submitted as Exit {exit_status, exited_at}; a pid no object
 * owns — runc, a process of a container that is gone — is simply
 * acknowledged.  The acknowledgement goes back only when that step is
 * durable, so a core killed in between gets the record again.
 *
 * Terminals (control.h): the link is the backends' wr_fdkeep.  The HELD fds
 * that follow EXITS_END wait in a list for recovery to take them
 * (ns_tty.c re-attaches the copy of each live task's or exec's terminal);
 * those nobody took are dropped, at the front too, when recovery is over. */
#include "relay/core_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/log.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "relay/control.h"
#include "relay/exits.h"

#define OPEN_TIMEOUT_MS 30000
#define HELD_MAX 65536   /* HELD messages a core accepts at its start */

_Static_assert(WR_FDKEEP_KEY_MAX == WR_CTL_KEY_MAX && WR_FDKEEP_SLOTS == WR_CTL_SLOTS &&
	       WR_FDKEEP_ALL == WR_CTL_SLOT_ALL, "fdkeep.h and control.h agree");

struct pending_ack {             /* an Exit step not yet durable */
	struct wr_core_link *link;
	struct pending_ack *prev, *next;
	int pid;
	int64_t time_ns;
};

struct early {                   /* a message read while recovering, served after */
	struct early *next;
	struct wr_ctl_msg m;
	int fd;
};

struct handed {                  /* a HELD fd, until recovery takes it */
	struct handed *next;
	int slot;
	int fd;
	char key[];
};

struct wr_core_link {
	struct ev_loop *loop;
	int fd;
	ev_io rio;
	struct wr_engine *engine;
	struct wr_front *front;
	struct wr_exits initial;     /* records received before the engine opened */
	struct wr_exits used;        /* those of them recovery journaled */
	struct early *early, **early_tail;
	int waited;                  /* exit_of waited once for a late record */
	struct pending_ack *acks;
	int terminals;               /* the front holds terminals' fds (WR_CTL_CAP_TERMINALS) */
	struct handed *handed;       /* HELD fds not taken yet */
	struct wr_fdkeep keep;
	int gens_sent;               /* GENS arrived (WR_CTL_CAP_REPLY_CACHE) */
	struct wr_objgen *gens;      /* its change counters; NULL: no reply cache */
};

/* Send m (key, fd as for wr_ctl_send), waiting a little when the socket is
 * full; -1 (logged) when it cannot go. */
static int send_msg(struct wr_core_link *l, const struct wr_ctl_msg *m, const char *key, int fd,
		    const char *what)
{
	struct wr_error err;
	for (int tries = 0; tries < 10; tries++) {
		if (wr_ctl_send(l->fd, m, key, fd, &err) == 0)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		struct pollfd p = { .fd = l->fd, .events = POLLOUT };
		poll(&p, 1, 100);
	}
	wr_warn("core: cannot %s: %s", what, err.msg);
	return -1;
}

static void send_ack(struct wr_core_link *l, int pid, int64_t time_ns)
{
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_ACK);
	m.pid = pid;
	m.time_ns = time_ns;
	char what[64];
	snprintf(what, sizeof what, "acknowledge the exit of pid %d", pid);
	send_msg(l, &m, NULL, -1, what);   /* else the front sends it again to the next core */
}

/* ---- terminals: the wr_fdkeep of the backends ---------------------------------- */

static void keep_hold(void *ctx, const char *key, int slot, int fd)
{
	struct wr_core_link *l = ctx;
	if (!l->terminals || fd < 0)
		return;
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_HOLD);
	m.status = slot;
	if (send_msg(l, &m, key, fd, "give a terminal to the front") == 0)
		wr_debug("core: the front holds terminal %s slot %d", key, slot);
}

static void keep_drop(void *ctx, const char *key, int slot)
{
	struct wr_core_link *l = ctx;
	if (!l->terminals)
		return;
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_DROP);
	m.status = slot;
	send_msg(l, &m, key, -1, "drop a terminal at the front");
}

static int keep_take(void *ctx, const char *key, int slot)
{
	struct wr_core_link *l = ctx;
	for (struct handed **pp = &l->handed; *pp; pp = &(*pp)->next) {
		struct handed *h = *pp;
		if (h->slot != slot || strcmp(h->key, key) != 0)
			continue;
		int fd = h->fd;
		*pp = h->next;
		free(h);
		return fd;
	}
	return -1;
}

struct wr_objgen *wr_core_link_gens(struct wr_core_link *l)
{
	return l->gens;
}

const struct wr_fdkeep *wr_core_link_keep(struct wr_core_link *l)
{
	return l->terminals ? &l->keep : NULL;
}

/* Keep a HELD fd for recovery (the fd is ours either way). */
static void add_handed(struct wr_core_link *l, const char *key, int slot, int fd)
{
	size_t klen = strlen(key);
	struct handed *h = fd >= 0 ? malloc(sizeof *h + klen + 1) : NULL;
	if (!h) {
		if (fd >= 0)
			close(fd);
		wr_warn("core: terminal %s: %s", key, fd < 0 ? "handed without its fd" : "out of memory");
		return;
	}
	h->slot = slot;
	h->fd = fd;
	memcpy(h->key, key, klen + 1);
	h->next = l->handed;
	l->handed = h;
}

/* Recovery is over: what it did not take belongs to no live terminal. */
static void drop_untaken(struct wr_core_link *l)
{
	while (l->handed) {
		struct handed *h = l->handed;
		l->handed = h->next;
		wr_info("core: terminal %s (slot %d) belongs to nothing live: dropped", h->key, h->slot);
		close(h->fd);
		keep_drop(l, h->key, h->slot);
		free(h);
	}
}

/* ---- start-up --------------------------------------------------------------- */

/* Free what start would have consumed (the socket stays open). */
static void free_pending(struct wr_core_link *l)
{
	while (l->early) {
		struct early *e = l->early;
		l->early = e->next;
		if (e->fd >= 0)
			close(e->fd);
		free(e);
	}
	l->early_tail = &l->early;
	while (l->handed) {
		struct handed *h = l->handed;
		l->handed = h->next;
		close(h->fd);
		free(h);
	}
	wr_exits_free(&l->initial);
	wr_exits_free(&l->used);
}

static int read_late(struct wr_core_link *l, int ms);

struct wr_core_link *wr_core_link_open(struct ev_loop *loop, int fd, struct wr_error *err)
{
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {   /* never into runc or containers */
		wr_error_errno(err, errno, "control fd %d", fd);
		return NULL;
	}
	struct wr_core_link *l = calloc(1, sizeof *l);
	if (!l) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	l->loop = loop;
	l->fd = fd;
	l->keep = (struct wr_fdkeep){ .ctx = l, .hold = keep_hold, .drop = keep_drop,
				      .take = keep_take };
	l->early_tail = &l->early;
	wr_exits_init(&l->initial);
	wr_exits_init(&l->used);
	int held = 0, want_gens = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = poll(&p, 1, OPEN_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			wr_error_set(err, WR_DEADLINE_EXCEEDED,
				     "no exit records from the front in %d s", OPEN_TIMEOUT_MS / 1000);
			goto fail;
		}
		struct wr_ctl_msg m;
		char key[WR_CTL_KEY_MAX + 1];
		int got;
		int n = wr_ctl_recv(fd, &m, key, &got, err);
		if (n < 0 && errno == EBADMSG)
			goto fail;   /* a front of another build: refuse to guess */
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			if (n == 0)
				wr_error_set(err, WR_UNAVAILABLE, "the front closed the control socket");
			goto fail;
		}
		if (m.type == WR_CTL_EXITS_END) {
			l->terminals = (m.conn_id & WR_CTL_CAP_TERMINALS) != 0;
			want_gens = (m.conn_id & WR_CTL_CAP_REPLY_CACHE) != 0;
			held = m.status > 0 && m.status <= HELD_MAX ? m.status : 0;
			break;
		}
		if (m.type != WR_CTL_EXIT) {
			if (got >= 0)
				close(got);
			wr_error_set(err, WR_INTERNAL, "control message %u before the exit records ended",
				     m.type);
			goto fail;
		}
		if (wr_exits_add(&l->initial, m.pid, m.status, m.time_ns) < 0) {
			wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
			goto fail;
		}
	}
	/* the terminals the front holds follow (an exit reaped meanwhile may
	 * come between them) */
	while (held > 0) {
		int kind = read_late(l, OPEN_TIMEOUT_MS);
		if (kind < 0) {
			wr_error_set(err, WR_DEADLINE_EXCEEDED, "the front sent %d terminal(s) less "
				     "than announced", held);
			goto fail;
		}
		held -= kind == WR_CTL_HELD;
	}
	/* then the change counters, when the front keeps a reply cache */
	while (want_gens && !l->gens_sent) {
		if (read_late(l, OPEN_TIMEOUT_MS) < 0) {
			wr_error_set(err, WR_DEADLINE_EXCEEDED,
				     "the front announced its change counters but sent none");
			goto fail;
		}
	}
	if (l->initial.n)
		wr_info("core: %zu exit record(s) from the front", l->initial.n);
	return l;
fail:
	free_pending(l);
	wr_objgen_free(l->gens);
	free(l);
	return NULL;
}

static int known_exit(struct wr_core_link *l, int pid, int *status, int64_t *exited_at)
{
	for (size_t i = 0; i < l->initial.n; i++) {
		if (l->initial.v[i].pid != pid)
			continue;
		*status = l->initial.v[i].status;
		*exited_at = l->initial.v[i].time_ns;
		return wr_exits_add(&l->used, pid, *status, *exited_at) == 0;
	}
	return 0;
}

/* Read one more message that arrived after EXITS_END, waiting up to ms: an
 * EXIT joins the initial records, a HELD the terminals, anything else waits
 * for start.  Its type, or -1 when nothing (valid) came. */
static int read_late(struct wr_core_link *l, int ms)
{
	struct pollfd p = { .fd = l->fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return -1;
	struct wr_ctl_msg m;
	char key[WR_CTL_KEY_MAX + 1];
	int fd;
	struct wr_error err;
	if (wr_ctl_recv(l->fd, &m, key, &fd, &err) <= 0)
		return -1;   /* errors and EOF are met again by the loop */
	if (m.type == WR_CTL_EXIT)
		return wr_exits_add(&l->initial, m.pid, m.status, m.time_ns) == 0 ? m.type : -1;
	if (m.type == WR_CTL_HELD) {
		add_handed(l, key, m.status, fd);
		return m.type;
	}
	if (m.type == WR_CTL_GENS && !l->gens_sent) {
		l->gens_sent = 1;
		if (fd < 0)
			wr_warn("core: change counters sent without their fd: no reply cache");
		else if (!(l->gens = wr_objgen_map(fd, &err)))
			wr_warn("core: %s: no reply cache", err.msg);
		return m.type;
	}
	struct early *e = malloc(sizeof *e);
	if (!e) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	e->next = NULL;
	e->m = m;
	e->fd = fd;
	*l->early_tail = e;
	l->early_tail = &e->next;
	return m.type;
}

int wr_core_link_exit_of(void *ctx, int pid, int *status, int64_t *exited_at)
{
	struct wr_core_link *l = ctx;
	/* Recovery asks because pid is gone.  If it ended during recovery, the
	 * front reaped it just now and its record is on its way (the front sends
	 * an exit in the same step as it reaps it): read what came since. */
	int found = known_exit(l, pid, status, exited_at);
	while (!found && read_late(l, l->waited ? 0 : 100) >= 0)
		found = known_exit(l, pid, status, exited_at);
	if (!found)
		l->waited = 1;   /* gone before the front could reap it (no record): wait once only */
	else
		wr_info("core: pid %d exited while no core served it: status %d", pid, *status);
	return found;
}

/* ---- live exits --------------------------------------------------------------------- */

struct match {
	int pid;
	struct wr_object *o;        /* a task or exec */
	struct wr_object *sandbox;  /* else a sandbox */
};

static int exit_event(const struct wr_object *o)
{
	return o->kind == WR_KIND_TASK ? TASK_E_EXIT
	       : o->kind == WR_KIND_EXEC ? EXEC_E_EXIT : SANDBOX_E_EXIT;
}

static void find_pid(void *ctx, struct wr_object *o)
{
	struct match *m = ctx;
	if (m->o || o->pid != m->pid || o->pid <= 0 || !wr_engine_allows(o, exit_event(o)))
		return;
	if (o->kind != WR_KIND_SANDBOX)
		m->o = o;
	else if (!m->sandbox)
		m->sandbox = o;
}

static void exit_done(void *ctx, struct wr_object *o, const struct wr_error *result)
{
	struct pending_ack *p = ctx;
	if (result->code != WR_OK)
		wr_warn("core: exit of pid %d (%s): %s", p->pid, o ? o->id : "?", result->msg);
	*(p->prev ? &p->prev->next : &p->link->acks) = p->next;
	if (p->next)
		p->next->prev = p->prev;
	send_ack(p->link, p->pid, p->time_ns);
	free(p);
}

static void on_exit_record(struct wr_core_link *l, int pid, int status, int64_t time_ns)
{
	struct match m = { .pid = pid };
	wr_engine_foreach(l->engine, find_pid, &m);
	if (!m.o)
		m.o = m.sandbox;
	if (!m.o) {
		wr_debug("core: pid %d exited (status %d): not a container process", pid, status);
		send_ack(l, pid, time_ns);
		return;
	}
	struct pending_ack *p = calloc(1, sizeof *p);
	struct json_object *args = json_object_new_object();
	if (!p || !args) {
		free(p);
		json_object_put(args);
		wr_error_log("core: out of memory: exit of pid %d waits for the next core", pid);
		return;
	}
	p->link = l;
	p->pid = pid;
	p->time_ns = time_ns;
	p->next = l->acks;
	if (l->acks)
		l->acks->prev = p;
	l->acks = p;
	json_object_object_add(args, "exit_status", json_object_new_int(status));
	json_object_object_add(args, "exited_at", json_object_new_int64(time_ns));
	wr_info("%s %s: pid %d exited with status %d", wr_kind_name(m.o->kind), m.o->id, pid, status);
	wr_engine_submit(l->engine, m.o, exit_event(m.o), args, exit_done, p);
	json_object_put(args);
}

/* ---- the channel ----------------------------------------------------------------------- */

static void handle(struct wr_core_link *l, const struct wr_ctl_msg *m, int fd)
{
	struct wr_error err;
	switch (m->type) {
	case WR_CTL_EXIT:
		on_exit_record(l, m->pid, m->status, m->time_ns);
		break;
	case WR_CTL_ADOPT:
		if (fd < 0) {
			wr_warn("core: connection %llu came without its fd", (unsigned long long)m->conn_id);
			break;
		}
		if (wr_front_adopt(l->front, m->backend, fd, &err) < 0)
			wr_warn("core: connection %llu (%s): %s", (unsigned long long)m->conn_id,
				m->backend, err.msg);
		else
			wr_debug("core: serving connection %llu (%s)", (unsigned long long)m->conn_id,
				 m->backend);
		break;
	default:
		if (fd >= 0)
			close(fd);
		wr_warn("core: unexpected control message %u", m->type);
		break;
	}
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct wr_core_link *l = w->data;
	for (int i = 0; i < 64; i++) {
		struct wr_ctl_msg m;
		char key[WR_CTL_KEY_MAX + 1];
		int fd;
		struct wr_error err;
		int n = wr_ctl_recv(l->fd, &m, key, &fd, &err);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n < 0 && errno == EBADMSG) {
			wr_warn("core: from the front: %s", err.msg);
			continue;
		}
		if (n <= 0) {
			wr_error_log("core: the front is gone (%s); stopping",
				     n == 0 ? "control socket closed" : err.msg);
			ev_io_stop(loop, &l->rio);
			ev_break(loop, EVBREAK_ALL);
			return;
		}
		handle(l, &m, fd);
	}
}

void wr_core_link_start(struct wr_core_link *l, struct wr_engine *e, struct wr_front *f)
{
	l->engine = e;
	l->front = f;
	/* Recovery journaled the used ones (synchronously, inside engine open);
	 * the others are exits like any later one. */
	for (size_t i = 0; i < l->initial.n; i++) {
		const struct wr_exit_rec *x = &l->initial.v[i];
		if (wr_exits_ack(&l->used, x->pid, x->time_ns))
			send_ack(l, x->pid, x->time_ns);
		else
			on_exit_record(l, x->pid, x->status, x->time_ns);
	}
	wr_exits_free(&l->initial);
	wr_exits_free(&l->used);
	drop_untaken(l);
	/* then what came while recovering, in order */
	while (l->early) {
		struct early *e = l->early;
		l->early = e->next;
		handle(l, &e->m, e->fd);
		free(e);
	}
	l->early_tail = &l->early;
	fcntl(l->fd, F_SETFL, fcntl(l->fd, F_GETFL) | O_NONBLOCK);
	ev_io_init(&l->rio, read_cb, l->fd, EV_READ);
	l->rio.data = l;
	ev_io_start(l->loop, &l->rio);
}

void wr_core_link_free(struct wr_core_link *l)
{
	if (!l)
		return;
	ev_io_stop(l->loop, &l->rio);
	while (l->acks) {
		struct pending_ack *p = l->acks;
		l->acks = p->next;
		free(p);
	}
	free_pending(l);
	wr_objgen_free(l->gens);
	close(l->fd);
	free(l);
}
