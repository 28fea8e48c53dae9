/* client.c — minimal asynchronous ttrpc client (see client.h).
 *
 * Requests are queued and written by the write watcher, responses matched to
 * pending calls by stream id.  Callbacks may free the client, so every path
 * that runs callbacks holds `busy` and the memory is released by maybe_free()
 * once the outermost of them returns. */
#include "ttrpc/client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ttrpc/sock.h"
#include "ttrpc/wqueue.h"

struct pending {
	struct pending *prev, *next;
	struct wr_ttrpc_client *client;
	uint32_t id;
	wr_ttrpc_response_fn cb;
	void *ctx;
	ev_timer timer;
};

struct wr_ttrpc_client {
	struct ev_loop *loop;
	int fd;
	ev_io rio, wio;
	struct wr_ttrpc_reader rd;
	struct wr_ttrpc_wq wq;
	uint32_t next_id;
	struct pending *pending;
	wr_ttrpc_close_fn close_fn;
	void *close_ctx;
	int connected;
	int busy;
	int free_requested;
};

static void maybe_free(struct wr_ttrpc_client *c)
{
	if (c->free_requested && !c->busy) {
		wr_ttrpc_reader_free(&c->rd);
		free(c);
	}
}

static void unlink_pending(struct wr_ttrpc_client *c, struct pending *p)
{
	ev_timer_stop(c->loop, &p->timer);
	if (p->prev)
		p->prev->next = p->next;
	else
		c->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

/* Remove p and run its callback; caller holds busy. */
static void complete(struct wr_ttrpc_client *c, struct pending *p, int code, const char *msg,
		const uint8_t *payload, size_t len)
{
	unlink_pending(c, p);
	wr_ttrpc_response_fn cb = p->cb;
	void *ctx = p->ctx;
	free(p);
	cb(ctx, code, msg, payload, len);
}

static void fail_all(struct wr_ttrpc_client *c, int code, const char *msg)
{
	c->busy++;
	while (c->pending)
		complete(c, c->pending, code, msg, NULL, 0);
	c->busy--;
}

static void teardown(struct wr_ttrpc_client *c)
{
	if (c->fd < 0)
		return;
	ev_io_stop(c->loop, &c->rio);
	ev_io_stop(c->loop, &c->wio);
	close(c->fd);
	c->fd = -1;
	c->connected = 0;
	wr_ttrpc_wq_clear(&c->wq);
}

static void lost(struct wr_ttrpc_client *c)
{
	teardown(c);
	c->busy++;
	fail_all(c, WR_UNAVAILABLE, "ttrpc: closed");
	if (!c->free_requested && c->close_fn) {
		wr_ttrpc_close_fn fn = c->close_fn;
		c->close_fn = NULL;
		fn(c, c->close_ctx);
	}
	c->busy--;
	maybe_free(c);
}

static struct pending *find_pending(struct wr_ttrpc_client *c, uint32_t id)
{
	for (struct pending *p = c->pending; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static void handle_frame(struct wr_ttrpc_client *c, const struct wr_ttrpc_frame *f, int kind)
{
	if (f->hdr.type != WR_TTRPC_RESPONSE)
		return;   /* no streams from this client; nothing else is meaningful */
	struct pending *p = find_pending(c, f->hdr.stream_id);
	if (!p)
		return;   /* timed out already */
	if (kind == WR_TTRPC_OVERSIZED) {
		struct wr_error err;
		wr_error_set(&err, WR_RESOURCE_EXHAUSTED,
				"response length %u exceeds maximum message size of %u",
				f->hdr.length, c->rd.max_data);
		complete(c, p, err.code, err.msg, NULL, 0);
		return;
	}
	struct wr_ttrpc_response resp;
	struct wr_error err;
	if (wr_ttrpc_response_decode(&resp, f->data, f->hdr.length, &err) < 0) {
		complete(c, p, err.code, err.msg, NULL, 0);
		return;
	}
	complete(c, p, resp.code, resp.message, resp.payload, resp.payload_len);
	wr_ttrpc_response_free(&resp);
}

static void read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_ttrpc_client *c = w->data;
	ssize_t n = wr_ttrpc_recv(&c->rd, c->fd);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		lost(c);
		return;
	}
	c->busy++;
	while (c->connected) {
		struct wr_ttrpc_frame f;
		int kind = wr_ttrpc_reader_next(&c->rd, &f);
		if (kind == WR_TTRPC_NEED_MORE)
			break;
		handle_frame(c, &f, kind);
	}
	c->busy--;
	maybe_free(c);
}

static void write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct wr_ttrpc_client *c = w->data;
	int r = wr_ttrpc_wq_flush(&c->wq, c->fd);
	if (r < 0)
		lost(c);
	else if (r == 1)
		ev_io_stop(loop, &c->wio);
}

static void timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct pending *p = w->data;
	struct wr_ttrpc_client *c = p->client;
	c->busy++;
	complete(c, p, WR_DEADLINE_EXCEEDED, "context deadline exceeded", NULL, 0);
	c->busy--;
	maybe_free(c);
}

struct wr_ttrpc_client *wr_ttrpc_client_connect(struct ev_loop *loop, const char *path,
		struct wr_error *err)
{
	if (strncmp(path, "unix://", 7) == 0)
		path += 7;
	struct sockaddr_un sa;
	if (wr_ttrpc_unix_addr(path, &sa, err) < 0)
		return NULL;
	struct wr_ttrpc_client *c = calloc(1, sizeof *c);
	if (!c) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc client: out of memory");
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		wr_error_errno(err, errno, "ttrpc client socket");
		free(c);
		return NULL;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(c->fd);
		free(c);
		if (e == EAGAIN)
			wr_error_set(err, WR_UNAVAILABLE, "connect ttrpc %s: server backlog full", path);
		else
			wr_error_errno(err, e, "connect ttrpc %s", path);
		return NULL;
	}
	c->loop = loop;
	c->next_id = 1;
	c->connected = 1;
	wr_ttrpc_reader_init(&c->rd, 0);
	ev_io_init(&c->rio, read_cb, c->fd, EV_READ);
	ev_io_init(&c->wio, write_cb, c->fd, EV_WRITE);
	c->rio.data = c->wio.data = c;
	ev_io_start(loop, &c->rio);
	return c;
}

void wr_ttrpc_client_free(struct wr_ttrpc_client *c)
{
	if (!c || c->free_requested)
		return;
	c->free_requested = 1;
	teardown(c);
	fail_all(c, WR_CANCELLED, "ttrpc client closed");
	maybe_free(c);
}

void wr_ttrpc_client_set_close_cb(struct wr_ttrpc_client *c, wr_ttrpc_close_fn fn, void *ctx)
{
	c->close_fn = fn;
	c->close_ctx = ctx;
}

int wr_ttrpc_client_connected(const struct wr_ttrpc_client *c)
{
	return c->connected;
}

int wr_ttrpc_client_call(struct wr_ttrpc_client *c, const char *service, const char *method,
		const void *payload, size_t len, const struct wr_ttrpc_kv *md, size_t n_md,
		int64_t timeout_nano, wr_ttrpc_response_fn cb, void *ctx, struct wr_error *err)
{
	if (!c->connected)
		return wr_error_set(err, WR_UNAVAILABLE, "ttrpc: closed");
	if (c->next_id > UINT32_MAX - 2)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED,
				"ttrpc: stream ids exhausted on this connection");
	struct pending *p = calloc(1, sizeof *p);
	if (!p)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc client: out of memory");
	size_t n;
	uint8_t *frame = wr_ttrpc_encode_request(c->next_id, service, method, payload, len,
			timeout_nano, md, n_md, &n, err);
	if (!frame) {
		free(p);
		return -1;
	}
	if (wr_ttrpc_wq_push(&c->wq, frame, n) < 0) {
		free(p);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc client: out of memory");
	}
	p->client = c;
	p->id = c->next_id;
	c->next_id += 2;
	p->cb = cb;
	p->ctx = ctx;
	ev_timer_init(&p->timer, timeout_cb, 0., 0.);
	p->timer.data = p;
	if (timeout_nano > 0) {
		ev_timer_set(&p->timer, (ev_tstamp)timeout_nano / 1e9, 0.);
		ev_timer_start(c->loop, &p->timer);
	}
	p->next = c->pending;
	if (c->pending)
		c->pending->prev = p;
	c->pending = p;
	/* write through; an error is left to the watcher (lost() frees c) */
	if (!ev_is_active(&c->wio) && wr_ttrpc_wq_flush(&c->wq, c->fd) != 1)
		ev_io_start(c->loop, &c->wio);
	return 0;
}
