/* server.c — the ttrpc server: listeners, connections, dispatch of calls and
 * asynchronous replies on a libev loop (see server.h for the contract).
 *
 * Lifetimes, the part that must not go wrong:
 *   - A call holds up to two references: the handler's (dropped by its reply)
 *     and its connection's (dropped when it is detached: replied, deadline
 *     passed, or the connection closed).  A detached call has conn == NULL,
 *     so a late reply never touches a freed connection.
 *   - A connection is closed (fd closed, watchers stopped, calls detached) at
 *     once, but its memory is freed only when no read callback is running on
 *     it (`dispatching`), because a handler called from that callback may
 *     close it — e.g. by freeing the whole server.
 *   - Only the read callback, the write callback and server_free close a
 *     connection.  Sending (replies, deadline answers) only queues bytes and
 *     starts the write watcher, so it is safe from any callback. */
#include "ttrpc/server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/heap_trim.h"
#include "core/stats.h"
#include "ttrpc/frame.h"
#include "ttrpc/sock.h"
#include "ttrpc/wqueue.h"

#define WQ_HIGH (8u << 20)   /* stop reading requests while this much is unsent */
#define WQ_LOW (1u << 20)    /* and resume below this */
#define ACCEPT_BURST 64
#define ACCEPT_RETRY 0.2     /* seconds to wait after EMFILE and friends */

struct route {
	struct route *next;
	char *service, *method;
	wr_ttrpc_handler_fn fn;
	void *ctx;
	int stats_slot;                /* its per-method counters (core/stats.h) */
};

struct listener {
	struct listener *next;
	struct wr_ttrpc_server *srv;
	int fd;
	ev_io io;
	ev_timer retry;
};

struct conn {
	struct wr_ttrpc_server *srv;   /* NULL once closed */
	struct ev_loop *loop;
	struct conn *prev, *next;
	int fd;
	ev_io rio, wio;
	struct wr_ttrpc_reader rd;
	struct wr_ttrpc_wq wq;
	uint32_t last_id;              /* highest request stream id seen */
	struct wr_ttrpc_call *calls;   /* attached calls, doubly linked */
	unsigned id;
	long pid;                      /* peer, for logs; -1 if unknown */
	int dispatching;
	int closed;
	int read_paused;
};

struct wr_ttrpc_call {
	struct conn *conn;             /* NULL once detached (dead or replied) */
	struct wr_ttrpc_call *prev, *next;
	struct ev_loop *loop;
	uint32_t stream_id;
	int refs;
	int replied;
	int cancel_ran;
	ev_timer deadline;
	struct wr_ttrpc_request req;
	wr_ttrpc_cancel_fn cancel_fn;
	void *cancel_ctx;
	struct wr_stats_mark stats;    /* arrival, for the method's counters */
};

struct wr_ttrpc_server {
	struct ev_loop *loop;
	struct route *routes;
	struct listener *listeners;
	struct conn *conns;
	wr_ttrpc_log_fn log_fn;
	void *log_ctx;
	unsigned next_conn_id;
	int freeing;
	struct wr_heap_trim trim;   /* after connections close */
};

static void default_log(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "warren ttrpc: %s\n", msg);
}

static void slog(struct wr_ttrpc_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void slog(struct wr_ttrpc_server *s, const char *fmt, ...)
{
	if (!s || !s->log_fn)
		return;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	s->log_fn(s->log_ctx, buf);
}

#define conn_log(c, fmt, ...) \
	slog((c)->srv, "conn %u (pid %ld): " fmt, (c)->id, (c)->pid, ##__VA_ARGS__)

/* ---- calls --------------------------------------------------------------- */

static void call_unref(struct wr_ttrpc_call *call)
{
	if (--call->refs > 0)
		return;
	wr_ttrpc_request_free(&call->req);
	free(call);
}

/* Take the call off its connection: no reply can reach the client any more. */
static void call_detach(struct wr_ttrpc_call *call)
{
	struct conn *c = call->conn;
	if (!c)
		return;
	ev_timer_stop(call->loop, &call->deadline);
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	call->conn = NULL;
	call_unref(call);
}

/* Detach and tell the handler.  call may be freed on return. */
static void call_die(struct wr_ttrpc_call *call)
{
	call_detach(call);
	if (call->cancel_fn && !call->cancel_ran && !call->replied) {
		call->cancel_ran = 1;
		call->cancel_fn(call, call->cancel_ctx);
	}
}

/* ---- connections --------------------------------------------------------- */

static void conn_free(struct conn *c)
{
	wr_ttrpc_reader_free(&c->rd);
	wr_ttrpc_wq_clear(&c->wq);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
	close(c->fd);
	c->fd = -1;
	struct wr_ttrpc_server *s = c->srv;
	if (s) {
		if (!s->freeing)
			wr_heap_trim_soon(&s->trim);
		if (c->prev)
			c->prev->next = c->next;
		else
			s->conns = c->next;
		if (c->next)
			c->next->prev = c->prev;
		c->prev = c->next = NULL;
	}
	c->srv = NULL;
	wr_ttrpc_wq_clear(&c->wq);
	c->dispatching++;   /* cancel callbacks must not see c freed under us */
	while (c->calls)
		call_die(c->calls);
	c->dispatching--;
	if (!c->dispatching)
		conn_free(c);
}

/* Protocol violation: answers already queued go out if the socket takes them
 * now (best effort, never waits), then the connection is closed. */
static void conn_abort(struct conn *c)
{
	wr_ttrpc_wq_flush(&c->wq, c->fd);
	conn_close(c);
}

static void conn_queue(struct conn *c, uint8_t *buf, size_t len)
{
	if (wr_ttrpc_wq_push(&c->wq, buf, len) < 0) {
		conn_log(c, "out of memory queueing a response; dropped");
		return;
	}
	/* Write through: most answers fit the socket at once, and arming the
	 * write watcher for them cost two epoll_ctl and an epoll_wait each.  A
	 * write error is left to the watcher, which closes c (we may not). */
	if (!ev_is_active(&c->wio) && wr_ttrpc_wq_flush(&c->wq, c->fd) != 1)
		ev_io_start(c->loop, &c->wio);
	if (!c->read_paused && c->wq.bytes > WQ_HIGH) {
		ev_io_stop(c->loop, &c->rio);
		c->read_paused = 1;
	}
}

/* Queue a response frame, after a note frame when note_len > 0; never closes c. */
static int conn_respond(struct conn *c, uint32_t stream_id, int code, const char *msg,
		const void *payload, size_t len, const void *note, size_t note_len)
{
	if (c->closed)
		return -1;
	struct wr_error err;
	size_t n;
	uint8_t *buf = wr_ttrpc_encode_response(stream_id, code, msg, payload, len, &n, &err);
	if (!buf && err.code == WR_RESOURCE_EXHAUSTED)
		buf = wr_ttrpc_encode_response(stream_id, err.code, err.msg, NULL, 0, &n, NULL);
	if (!buf) {
		conn_log(c, "stream %u: cannot encode response: %s", stream_id, err.msg);
		return -1;
	}
	if (note_len) {
		size_t head = WR_TTRPC_HEADER_LEN + note_len;
		uint8_t *both = malloc(head + n);
		if (!both) {
			free(buf);
			conn_log(c, "stream %u: out of memory; response dropped", stream_id);
			return -1;
		}
		struct wr_ttrpc_header h = { .length = (uint32_t)note_len, .stream_id = stream_id,
					     .type = WR_TTRPC_NOTE };
		wr_ttrpc_header_encode(both, &h);
		memcpy(both + WR_TTRPC_HEADER_LEN, note, note_len);
		memcpy(both + head, buf, n);
		free(buf);
		buf = both;
		n += head;
	}
	conn_queue(c, buf, n);
	return 0;
}

static void conn_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	int r = wr_ttrpc_wq_flush(&c->wq, c->fd);
	if (r < 0) {
		if (errno != EPIPE && errno != ECONNRESET)
			conn_log(c, "write: %s; closing", strerror(errno));
		conn_close(c);
		return;
	}
	if (r == 1)
		ev_io_stop(c->loop, &c->wio);
	if (c->read_paused && c->wq.bytes < WQ_LOW) {
		c->read_paused = 0;
		ev_io_start(c->loop, &c->rio);
	}
}

static void call_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_ttrpc_call *call = w->data;
	if (call->conn)
		conn_respond(call->conn, call->stream_id, WR_DEADLINE_EXCEEDED,
				"context deadline exceeded", NULL, 0, NULL, 0);
	call_die(call);
}

static const struct route *route_find(struct wr_ttrpc_server *s, const char *service,
		const char *method, int *service_known)
{
	*service_known = 0;
	for (const struct route *r = s->routes; r; r = r->next) {
		if (strcmp(r->service, service) != 0)
			continue;
		*service_known = 1;
		if (strcmp(r->method, method) == 0)
			return r;
	}
	return NULL;
}

static void dispatch_request(struct conn *c, uint32_t id, const uint8_t *data, size_t len)
{
	struct wr_error err;
	struct wr_ttrpc_request req;
	if (wr_ttrpc_request_decode(&req, data, len, &err) < 0) {
		conn_log(c, "stream %u: %s", id, err.msg);
		conn_respond(c, id, err.code, err.msg, NULL, 0, NULL, 0);
		return;
	}
	int known;
	const struct route *r = route_find(c->srv, req.service, req.method, &known);
	if (!r) {
		if (known)
			wr_error_set(&err, WR_UNIMPLEMENTED, "unknown method %s", req.method);
		else
			wr_error_set(&err, WR_UNIMPLEMENTED, "unknown service %s", req.service);
		conn_respond(c, id, err.code, err.msg, NULL, 0, NULL, 0);
		wr_ttrpc_request_free(&req);
		return;
	}
	if (req.timeout_nano < 0) {
		conn_respond(c, id, WR_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0, NULL,
			     0);
		wr_ttrpc_request_free(&req);
		return;
	}
	struct wr_ttrpc_call *call = calloc(1, sizeof *call);
	if (!call) {
		conn_respond(c, id, WR_RESOURCE_EXHAUSTED, "out of memory", NULL, 0, NULL, 0);
		wr_ttrpc_request_free(&req);
		return;
	}
	call->req = req;
	call->loop = c->loop;
	call->stream_id = id;
	call->refs = 2;   /* handler + connection */
	call->conn = c;
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	ev_timer_init(&call->deadline, call_deadline_cb, 0., 0.);
	call->deadline.data = call;
	if (req.timeout_nano > 0) {
		ev_timer_set(&call->deadline, (ev_tstamp)req.timeout_nano / 1e9, 0.);
		ev_timer_start(c->loop, &call->deadline);
	}
	wr_stats_call_begin(&call->stats, r->stats_slot);
	r->fn(call, r->ctx);
}

static void handle_frame(struct conn *c, const struct wr_ttrpc_frame *f, int kind)
{
	const struct wr_ttrpc_header *h = &f->hdr;
	if (h->type == WR_TTRPC_DATA)
		return;   /* streams are not served; nothing waits for this data */
	if (h->type != WR_TTRPC_REQUEST) {
		conn_log(c, "stream %u: unexpected frame type %u from a client; closing",
				h->stream_id, h->type);
		conn_abort(c);
		return;
	}
	if (!(h->stream_id & 1) || h->stream_id <= c->last_id) {
		conn_log(c, "stream %u: client stream ids must be odd and increasing (last %u); closing",
				h->stream_id, c->last_id);
		conn_abort(c);
		return;
	}
	c->last_id = h->stream_id;
	if (kind == WR_TTRPC_OVERSIZED) {
		struct wr_error err;
		wr_error_set(&err, WR_RESOURCE_EXHAUSTED,
				"message length %u exceed maximum message size of %u",
				h->length, c->rd.max_data);
		conn_log(c, "stream %u: %s", h->stream_id, err.msg);
		conn_respond(c, h->stream_id, err.code, err.msg, NULL, 0, NULL, 0);
		return;
	}
	dispatch_request(c, h->stream_id, f->data, h->length);
}

static void conn_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct conn *c = w->data;
	ssize_t n = wr_ttrpc_recv(&c->rd, c->fd);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (errno == ENOMEM)
			conn_log(c, "out of memory for the read buffer; closing");
		else if (errno != ECONNRESET)
			conn_log(c, "read: %s; closing", strerror(errno));
		conn_close(c);
		return;
	}
	if (n == 0) {
		uint64_t left = wr_ttrpc_reader_pending(&c->rd);
		if (left)
			conn_log(c, "peer closed in the middle of a frame (%llu bytes short of a frame boundary)",
					(unsigned long long)left);
		conn_close(c);
		return;
	}
	c->dispatching++;
	while (!c->closed) {
		struct wr_ttrpc_frame f;
		int kind = wr_ttrpc_reader_next(&c->rd, &f);
		if (kind == WR_TTRPC_NEED_MORE)
			break;
		handle_frame(c, &f, kind);
	}
	c->dispatching--;
	if (c->closed && !c->dispatching)
		conn_free(c);
}

/* Serve fd (non-blocking, close-on-exec); on failure fd is closed. */
static int conn_new(struct wr_ttrpc_server *s, int fd)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		slog(s, "out of memory accepting a connection");
		close(fd);
		return -1;
	}
	c->srv = s;
	c->loop = s->loop;
	c->fd = fd;
	c->id = ++s->next_conn_id;
	c->pid = -1;
	struct ucred cred;
	socklen_t cl = sizeof cred;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		c->pid = cred.pid;
	wr_ttrpc_reader_init(&c->rd, 0);
	ev_io_init(&c->rio, conn_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, conn_write_cb, fd, EV_WRITE);
	c->rio.data = c->wio.data = c;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	ev_io_start(s->loop, &c->rio);
	return 0;
}

/* ---- listeners ----------------------------------------------------------- */

static void accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct listener *l = w->data;
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			conn_new(l->srv, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		slog(l->srv, "accept: %s", strerror(errno));
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			ev_io_stop(loop, &l->io);
			ev_timer_set(&l->retry, ACCEPT_RETRY, 0.);
			ev_timer_start(loop, &l->retry);
		}
		return;
	}
}

static void accept_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct listener *l = w->data;
	ev_io_start(loop, &l->io);
}

int wr_ttrpc_server_adopt(struct wr_ttrpc_server *s, int fd, struct wr_error *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int e = errno;
		close(fd);
		return wr_error_errno(err, e, "ttrpc adopt fd %d", fd);
	}
	if (conn_new(s, fd) < 0)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc adopt: out of memory");
	return 0;
}

int wr_ttrpc_server_listen_fd(struct wr_ttrpc_server *s, int fd, struct wr_error *err)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return wr_error_errno(err, errno, "ttrpc listen fd %d", fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	struct listener *l = calloc(1, sizeof *l);
	if (!l)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc listen: out of memory");
	l->srv = s;
	l->fd = fd;
	ev_io_init(&l->io, accept_cb, fd, EV_READ);
	ev_timer_init(&l->retry, accept_retry_cb, ACCEPT_RETRY, 0.);
	l->io.data = l->retry.data = l;
	l->next = s->listeners;
	s->listeners = l;
	ev_io_start(s->loop, &l->io);
	return 0;
}

/* 1 if a server answers on path, 0 if not (stale file), -1 on error. */
static int socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	int e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS)
		return 1;
	if (e == ECONNREFUSED)
		return 0;
	errno = e;
	return -1;
}

int wr_ttrpc_server_listen(struct wr_ttrpc_server *s, const char *path, struct wr_error *err)
{
	struct sockaddr_un sa;
	if (wr_ttrpc_unix_addr(path, &sa, err) < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return wr_error_set(err, WR_ALREADY_EXISTS,
					"ttrpc socket path %s exists and is not a socket", path);
		int alive = socket_alive(&sa);
		if (alive < 0)
			return wr_error_errno(err, errno, "probe ttrpc socket %s", path);
		if (alive)
			return wr_error_set(err, WR_ALREADY_EXISTS,
					"a server already listens on %s", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return wr_error_errno(err, errno, "remove stale ttrpc socket %s", path);
	}
	int fd = wr_ttrpc_unix_listen(path, err);
	if (fd < 0)
		return -1;
	if (wr_ttrpc_server_listen_fd(s, fd, err) < 0) {
		close(fd);
		unlink(path);
		return -1;
	}
	return 0;
}

/* ---- server -------------------------------------------------------------- */

struct wr_ttrpc_server *wr_ttrpc_server_new(struct ev_loop *loop, struct wr_error *err)
{
	struct wr_ttrpc_server *s = calloc(1, sizeof *s);
	if (!s) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc server: out of memory");
		return NULL;
	}
	s->loop = loop;
	s->log_fn = default_log;
	wr_heap_trim_init(&s->trim, loop, WR_HEAP_TRIM_DELAY);
	return s;
}

void wr_ttrpc_server_set_log(struct wr_ttrpc_server *s, wr_ttrpc_log_fn fn, void *ctx)
{
	s->log_fn = fn;
	s->log_ctx = ctx;
}

int wr_ttrpc_server_register(struct wr_ttrpc_server *s, const char *service, const char *method,
		wr_ttrpc_handler_fn fn, void *ctx, struct wr_error *err)
{
	int known;
	if (route_find(s, service, method, &known))
		return wr_error_set(err, WR_ALREADY_EXISTS, "ttrpc method %s/%s registered twice",
				service, method);
	struct route *r = calloc(1, sizeof *r);
	if (!r || !(r->service = strdup(service)) || !(r->method = strdup(method))) {
		if (r)
			free(r->service);
		free(r);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc register: out of memory");
	}
	r->fn = fn;
	r->ctx = ctx;
	r->stats_slot = wr_stats_method(service, method);
	r->next = s->routes;
	s->routes = r;
	return 0;
}

void wr_ttrpc_server_free(struct wr_ttrpc_server *s)
{
	if (!s || s->freeing)
		return;
	s->freeing = 1;
	wr_heap_trim_stop(&s->trim);
	while (s->conns)
		conn_close(s->conns);
	while (s->listeners) {
		struct listener *l = s->listeners;
		s->listeners = l->next;
		ev_io_stop(s->loop, &l->io);
		ev_timer_stop(s->loop, &l->retry);
		close(l->fd);
		free(l);
	}
	while (s->routes) {
		struct route *r = s->routes;
		s->routes = r->next;
		free(r->service);
		free(r->method);
		free(r);
	}
	free(s);
}

/* ---- call API ------------------------------------------------------------ */

const char *wr_ttrpc_call_service(const struct wr_ttrpc_call *call)
{
	return call->req.service;
}

const char *wr_ttrpc_call_method(const struct wr_ttrpc_call *call)
{
	return call->req.method;
}

const uint8_t *wr_ttrpc_call_payload(const struct wr_ttrpc_call *call, size_t *len)
{
	*len = call->req.payload_len;
	return call->req.payload;
}

const char *wr_ttrpc_call_namespace(const struct wr_ttrpc_call *call)
{
	return call->req.namespace;
}

const char *wr_ttrpc_call_metadata(const struct wr_ttrpc_call *call, const char *key)
{
	return wr_ttrpc_request_metadata(&call->req, key);
}

int64_t wr_ttrpc_call_timeout_nano(const struct wr_ttrpc_call *call)
{
	return call->req.timeout_nano;
}

uint32_t wr_ttrpc_call_stream_id(const struct wr_ttrpc_call *call)
{
	return call->stream_id;
}

int wr_ttrpc_call_alive(const struct wr_ttrpc_call *call)
{
	return call->conn && !call->conn->closed;
}

void wr_ttrpc_call_set_cancel(struct wr_ttrpc_call *call, wr_ttrpc_cancel_fn fn, void *ctx)
{
	call->cancel_fn = fn;
	call->cancel_ctx = ctx;
	if (fn && !call->conn && !call->replied && !call->cancel_ran) {
		call->cancel_ran = 1;
		fn(call, ctx);
	}
}

static int reply(struct wr_ttrpc_call *call, int code, const char *msg, const void *payload,
		 size_t len, const void *note, size_t note_len)
{
	if (!call || call->replied)
		return -1;
	call->replied = 1;
	int rc = -1;
	if (call->conn) {
		rc = conn_respond(call->conn, call->stream_id, code, msg, payload, len, note,
				  note_len);
		call_detach(call);
	}
	wr_stats_call_end(&call->stats);   /* the answer written (or queued) */
	call_unref(call);
	return rc;
}

int wr_ttrpc_reply(struct wr_ttrpc_call *call, int code, const char *msg,
		const void *payload, size_t len)
{
	return reply(call, code, msg, payload, len, NULL, 0);
}

int wr_ttrpc_reply_noted(struct wr_ttrpc_call *call, const void *note, size_t note_len,
		const void *payload, size_t len)
{
	return reply(call, WR_OK, NULL, payload, len, note, note_len);
}

int wr_ttrpc_reply_error(struct wr_ttrpc_call *call, const struct wr_error *err)
{
	return wr_ttrpc_reply(call, err->code, err->msg, NULL, 0);
}
