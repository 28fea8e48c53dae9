/* relay_conn.c — one containerd connection, relayed by the front process to
 * the core through a socketpair.
 *
 * Whole ttrpc frames only: containerd's bytes are cut into frames (frame.h)
 * and each request is entered in the connection's book (book.h) before it is
 * queued for the core; the core's responses settle their requests on the way
 * back.  The queue towards the core (to_core) is kept while no core runs, so
 * requests arriving then are delivered to the next one; reading from
 * containerd pauses while it holds RELAY_HIGH bytes (the bound).
 *
 * When the core dies, relay_conn_core_lost() first reads what the dead core
 * left in the socketpair (its last answers are not lost), then lets the book
 * answer Unavailable or keep the Waits, whose frames lead the queue for the
 * next core.  containerd's connection itself never closes because of the
 * core: only when containerd closes it, on a protocol violation, or when a
 * live core closed its end (it rejected the connection).  */
#include "relay/relay_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "ttrpc/sock.h"

#define ORPHAN_GRACE 5.0   /* seconds between a pair's EOF and deciding the core meant it */

static void push(struct wr_ttrpc_wq *q, uint8_t *buf, size_t len)
{
	if (buf && len && wr_ttrpc_wq_push(q, buf, len) < 0)
		wr_warn("relay: out of memory queueing %zu bytes; dropped", len);
	else if (buf && !len)
		free(buf);
}

/* Write what the socket takes now; start the writer for the rest.  A write
 * error is left to the writer's callback, which handles it (we may be
 * inside a read callback that must not free c). */
static void write_through(struct ev_loop *loop, struct wr_ttrpc_wq *q, int fd, ev_io *w)
{
	if (q->head && !ev_is_active(w) && wr_ttrpc_wq_flush(q, fd) != 1)
		ev_io_start(loop, w);
}

/* Start the writers and apply the bounds after queues changed. */
static void kick(struct relay_conn *c)
{
	struct ev_loop *loop = c->r->loop;
	write_through(loop, &c->to_client, c->cfd, &c->c_wio);
	if (c->pfd >= 0 && !c->p_wdead)
		write_through(loop, &c->to_core, c->pfd, &c->p_wio);
	/* containerd → core */
	if (c->to_core.bytes > RELAY_HIGH && ev_is_active(&c->c_rio))
		ev_io_stop(loop, &c->c_rio);
	else if (c->to_core.bytes < RELAY_LOW && !ev_is_active(&c->c_rio))
		ev_io_start(loop, &c->c_rio);
	/* core → containerd */
	if (c->pfd >= 0) {
		if (c->to_client.bytes > RELAY_HIGH && ev_is_active(&c->p_rio))
			ev_io_stop(loop, &c->p_rio);
		else if (c->to_client.bytes < RELAY_LOW && !ev_is_active(&c->p_rio))
			ev_io_start(loop, &c->p_rio);
	}
}

/* ---- the reply cache (reply_cache.h) ----------------------------------------- */

/* Answer request q (just tracked) from the cache if it holds a valid answer. */
static int answer_cached(struct relay_conn *c, struct wr_relay_req *q)
{
	struct wr_relay *r = c->r;
	uint8_t *frame;
	size_t len;
	if (!q || !q->key || !r->gens ||
	    wr_reply_cache_get(r->cache, r->gens, q->key, q->key_len, q->stream_id, &frame,
			       &len) != 1)
		return 0;
	wr_relay_book_core(&c->book, q->stream_id);
	push(&c->to_client, frame, len);
	return 1;
}

/* The core answered q with response data: keep it when the core marked it. */
static void keep_answer(struct relay_conn *c, const struct wr_relay_req *q,
			const struct wr_ttrpc_frame *f)
{
	struct wr_relay *r = c->r;
	if (q->key && q->noted && r->gens && c->gen == r->core_gen)
		wr_reply_cache_put(r->cache, q->key, q->key_len, &q->note, f->data, f->hdr.length);
}

/* ---- containerd's side ----------------------------------------------------- */

static void client_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct relay_conn *c = w->data;
	ssize_t n = wr_ttrpc_recv(&c->c_rd, c->cfd);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		relay_conn_close(c, n == 0 ? NULL : strerror(errno));
		return;
	}
	struct wr_ttrpc_frame f;
	int kind;
	while ((kind = wr_ttrpc_reader_next(&c->c_rd, &f)) != WR_TTRPC_NEED_MORE) {
		uint8_t *reply;
		size_t len;
		struct wr_error err;
		switch (wr_relay_book_client(&c->book, &f, kind, &reply, &len, &err)) {
		case WR_RELAY_REJECT:
			relay_conn_close(c, err.msg);
			return;
		case WR_RELAY_ANSWERED:
			push(&c->to_client, reply, len);
			break;
		case WR_RELAY_FORWARD: {
			if (f.hdr.type == WR_TTRPC_REQUEST && answer_cached(c, c->book.tail))
				break;
			uint8_t *bytes = wr_relay_frame_bytes(&f, &len);
			if (!bytes) {
				relay_conn_close(c, "out of memory");
				return;
			}
			push(&c->to_core, bytes, len);
			break;
		}
		default:
			break;
		}
	}
	kick(c);
}

static void client_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct relay_conn *c = w->data;
	int r = wr_ttrpc_wq_flush(&c->to_client, c->cfd);
	if (r < 0) {
		relay_conn_close(c, errno == EPIPE || errno == ECONNRESET ? NULL : strerror(errno));
		return;
	}
	if (r == 1)
		ev_io_stop(loop, &c->c_wio);
	kick(c);
}

/* ---- the core's side --------------------------------------------------------- */

/* Forward the core's complete frames; responses only settle what is tracked,
 * notes are kept for the response that follows them. */
static void from_core(struct relay_conn *c)
{
	struct wr_ttrpc_frame f;
	int kind;
	while ((kind = wr_ttrpc_reader_next(&c->p_rd, &f)) != WR_TTRPC_NEED_MORE) {
		if (kind != WR_TTRPC_OVERSIZED && f.hdr.type == WR_TTRPC_NOTE) {
			wr_relay_book_note(&c->book, f.hdr.stream_id, f.data, f.hdr.length);
			continue;
		}
		if (kind == WR_TTRPC_OVERSIZED || f.hdr.type != WR_TTRPC_RESPONSE) {
			wr_warn("relay: conn %llu: unexpected frame (type %u, %u bytes) from the core; dropped",
				(unsigned long long)c->id, f.hdr.type, f.hdr.length);
			continue;
		}
		struct wr_relay_req *q = wr_relay_book_take(&c->book, f.hdr.stream_id);
		if (!q) {
			wr_debug("relay: conn %llu: stream %u: answer for nothing pending; dropped",
				 (unsigned long long)c->id, f.hdr.stream_id);
			continue;
		}
		keep_answer(c, q, &f);
		wr_relay_req_free(q);
		size_t len;
		uint8_t *bytes = wr_relay_frame_bytes(&f, &len);
		if (bytes)
			push(&c->to_client, bytes, len);
		else
			wr_warn("relay: out of memory forwarding a response; dropped");
	}
}

static void orphan_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct relay_conn *c = w->data;
	struct wr_relay *r = c->r;
	/* Still the same core, alive (not even a zombie yet), not asked to
	 * stop, and it closed our pair long ago: it rejected the connection. */
	siginfo_t si = { 0 };
	if (c->pfd < 0 && r->core_pid && c->gen == r->core_gen && !r->restart_asked &&
	    !r->stopping && waitid(P_PID, (id_t)r->core_pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == 0)
		relay_conn_close(c, "the core closed the connection");
}

static void pair_close(struct relay_conn *c)
{
	struct ev_loop *loop = c->r->loop;
	if (c->pfd < 0)
		return;
	ev_io_stop(loop, &c->p_rio);
	ev_io_stop(loop, &c->p_wio);
	close(c->pfd);
	c->pfd = -1;
}

static void pair_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	struct relay_conn *c = w->data;
	ssize_t n = wr_ttrpc_recv(&c->p_rd, c->pfd);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		/* The core died (its reaping will follow) or closed this one. */
		pair_close(c);
		ev_timer_set(&c->orphan, ORPHAN_GRACE, 0.);
		ev_timer_start(c->r->loop, &c->orphan);
		return;
	}
	from_core(c);
	kick(c);
}

static void pair_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct relay_conn *c = w->data;
	int r = wr_ttrpc_wq_flush(&c->to_core, c->pfd);
	if (r < 0) {
		/* Keep reading: the core's last answers may still be in the pair. */
		c->p_wdead = 1;
		ev_io_stop(loop, &c->p_wio);
		return;
	}
	if (r == 1)
		ev_io_stop(loop, &c->p_wio);
	kick(c);
}

void relay_conn_attach(struct relay_conn *c, int pfd)
{
	pair_close(c);
	ev_timer_stop(c->r->loop, &c->orphan);
	c->pfd = pfd;
	c->p_wdead = 0;
	c->gen = c->r->core_gen;
	ev_io_set(&c->p_rio, pfd, EV_READ);
	ev_io_set(&c->p_wio, pfd, EV_WRITE);
	ev_io_start(c->r->loop, &c->p_rio);
	kick(c);
}

void relay_conn_core_lost(struct relay_conn *c)
{
	ev_timer_stop(c->r->loop, &c->orphan);
	if (c->pfd >= 0) {
		/* Dead and reaped: everything it wrote is in the socket; read to EOF. */
		for (;;) {
			ssize_t n = wr_ttrpc_recv(&c->p_rd, c->pfd);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			from_core(c);
		}
		pair_close(c);
	}
	wr_ttrpc_reader_free(&c->p_rd);       /* a half frame of the dead core */
	wr_ttrpc_reader_init(&c->p_rd, 0);
	wr_ttrpc_wq_clear(&c->to_core);       /* every request in it is in the book */
	uint8_t *answers, *resend;
	size_t alen, rlen, before = c->book.n;
	struct wr_error err;
	if (wr_relay_book_core_lost(&c->book, &answers, &alen, &resend, &rlen, &err) < 0) {
		relay_conn_close(c, err.msg);
		return;
	}
	if (before)
		wr_info("relay: conn %llu: %zu call(s) answered Unavailable, %zu wait(s) kept for the next core",
			(unsigned long long)c->id, before - c->book.n, c->book.n);
	push(&c->to_client, answers, alen);
	push(&c->to_core, resend, rlen);
	kick(c);
}

/* ---- life ---------------------------------------------------------------------------- */

struct relay_conn *relay_conn_new(struct wr_relay *r, int cfd, const char *backend)
{
	struct relay_conn *c = calloc(1, sizeof *c);
	if (!c) {
		wr_warn("relay: out of memory accepting a connection");
		close(cfd);
		return NULL;
	}
	c->r = r;
	c->id = ++r->next_conn_id;
	snprintf(c->backend, sizeof c->backend, "%s", backend);
	c->cfd = cfd;
	c->pfd = -1;
	wr_ttrpc_reader_init(&c->c_rd, 0);
	wr_ttrpc_reader_init(&c->p_rd, 0);
	wr_relay_book_init(&c->book);
	if (r->cache)
		c->book.backend = c->backend;
	ev_io_init(&c->c_rio, client_read_cb, cfd, EV_READ);
	ev_io_init(&c->c_wio, client_write_cb, cfd, EV_WRITE);
	ev_io_init(&c->p_rio, pair_read_cb, -1, EV_READ);
	ev_io_init(&c->p_wio, pair_write_cb, -1, EV_WRITE);
	ev_timer_init(&c->orphan, orphan_cb, ORPHAN_GRACE, 0.);
	c->c_rio.data = c->c_wio.data = c->p_rio.data = c->p_wio.data = c->orphan.data = c;
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	ev_io_start(r->loop, &c->c_rio);
	wr_debug("relay: conn %llu (%s) accepted", (unsigned long long)c->id, backend);
	return c;
}

void relay_conn_close(struct relay_conn *c, const char *why)
{
	struct wr_relay *r = c->r;
	if (why)
		wr_info("relay: conn %llu (%s) closed: %s", (unsigned long long)c->id, c->backend, why);
	else
		wr_debug("relay: conn %llu (%s) closed by containerd", (unsigned long long)c->id,
			 c->backend);
	ev_io_stop(r->loop, &c->c_rio);
	ev_io_stop(r->loop, &c->c_wio);
	ev_timer_stop(r->loop, &c->orphan);
	pair_close(c);   /* the core sees EOF: its calls on it die */
	close(c->cfd);
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	wr_ttrpc_reader_free(&c->c_rd);
	wr_ttrpc_reader_free(&c->p_rd);
	wr_ttrpc_wq_clear(&c->to_client);
	wr_ttrpc_wq_clear(&c->to_core);
	wr_relay_book_free(&c->book);
	free(c);
	wr_heap_trim_soon(&r->trim);
}
