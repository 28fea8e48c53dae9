/* test_ttrpc_server.c — the ttrpc server and client in one process on one ev
 * loop over a unix socket in a private temp dir: concurrent and held calls,
 * deadlines, unknown methods, and bad peers (garbage, bad stream ids,
 * oversized frames, mid-frame close) that must only ever cost their own
 * connection; an adopted, already connected socket is served the same way.
 * A "raw" peer writes arbitrary bytes without blocking. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "ttrpc/client.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"

#define SVC "test.v1.Svc"

struct fx {
	char dir[64];
	char path[128];
	struct ev_loop *loop;
	struct wr_ttrpc_server *srv;
	struct wr_ttrpc_call *held[8];   /* calls parked by Hold */
	int n_held;
	int cancelled;                   /* cancel callbacks seen */
	int logs;
	char last_log[512];
};

/* ---- handlers ------------------------------------------------------------ */

/* Echo: payload "NS:PAYLOAD" (NS = namespace or "-"). */
static void h_echo(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	size_t n;
	const uint8_t *p = wr_ttrpc_call_payload(call, &n);
	const char *ns = wr_ttrpc_call_namespace(call);
	if (!ns)
		ns = "-";
	size_t l = strlen(ns);
	uint8_t *out = malloc(l + 1 + n + 1);
	assert_non_null(out);
	memcpy(out, ns, l);
	out[l] = ':';
	if (n)
		memcpy(out + l + 1, p, n);
	assert_int_equal(wr_ttrpc_reply(call, WR_OK, NULL, out, l + 1 + n), 0);
	free(out);
}

/* Noted: answers "ok" after a note "cache-me" (warrend's core to its front). */
static void h_noted(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	assert_int_equal(wr_ttrpc_reply_noted(call, "cache-me", 8, "ok", 2), 0);
}

static void on_cancel_count(struct wr_ttrpc_call *call, void *ctx)
{
	(void)call;
	struct fx *fx = ctx;
	fx->cancelled++;
}

/* Hold: park the call (like Wait); the test answers it later. */
static void h_hold(struct wr_ttrpc_call *call, void *ctx)
{
	struct fx *fx = ctx;
	assert_true(fx->n_held < 8);
	fx->held[fx->n_held++] = call;
	wr_ttrpc_call_set_cancel(call, on_cancel_count, fx);
}

/* Release: answer every parked call with "released", then itself. */
static void h_release(struct wr_ttrpc_call *call, void *ctx)
{
	struct fx *fx = ctx;
	for (int i = 0; i < fx->n_held; i++)
		wr_ttrpc_reply(fx->held[i], WR_OK, NULL, "released", 8);
	fx->n_held = 0;
	wr_ttrpc_reply(call, WR_OK, NULL, NULL, 0);
}

static void on_cancel_reply(struct wr_ttrpc_call *call, void *ctx)
{
	struct fx *fx = ctx;
	fx->cancelled++;
	assert_false(wr_ttrpc_call_alive(call));
	assert_int_equal(wr_ttrpc_reply(call, WR_OK, NULL, "late", 4), -1);   /* dropped */
}

/* Sleep: never answers by itself; releases the call when it dies. */
static void h_sleep(struct wr_ttrpc_call *call, void *ctx)
{
	assert_true(wr_ttrpc_call_alive(call));
	wr_ttrpc_call_set_cancel(call, on_cancel_reply, ctx);
}

/* Fail: answers NotFound with a wr_error. */
static void h_fail(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	struct wr_error err;
	wr_error_set(&err, WR_NOT_FOUND, "sandbox %s not found", "abc");
	wr_ttrpc_reply_error(call, &err);
}

static void capture_log(void *ctx, const char *msg)
{
	struct fx *fx = ctx;
	fx->logs++;
	snprintf(fx->last_log, sizeof fx->last_log, "%s", msg);
}

/* ---- fixture ------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	const char *tmp = getenv("TMPDIR");
	snprintf(fx->dir, sizeof fx->dir, "%s/wr-ttrpc-XXXXXX",
			tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/s.sock", fx->dir);
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(fx->loop);
	struct wr_error err;
	fx->srv = wr_ttrpc_server_new(fx->loop, &err);
	assert_non_null(fx->srv);
	wr_ttrpc_server_set_log(fx->srv, capture_log, fx);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Echo", h_echo, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Hold", h_hold, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Release", h_release, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Sleep", h_sleep, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Fail", h_fail, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Noted", h_noted, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Echo", h_echo, fx, &err), -1);
	assert_int_equal(err.code, WR_ALREADY_EXISTS);
	assert_int_equal(wr_ttrpc_server_listen(fx->srv, fx->path, &err), 0);
	struct stat st;
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	wr_ttrpc_server_free(fx->srv);
	for (int i = 0; i < fx->n_held; i++)
		assert_int_equal(wr_ttrpc_reply(fx->held[i], WR_OK, NULL, NULL, 0), -1);
	ev_loop_destroy(fx->loop);
	unlink(fx->path);
	assert_int_equal(rmdir(fx->dir), 0);
	free(fx);
	return 0;
}

static void guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(int *)w->data = 1;
}

/* Run the loop until *flag >= want or secs pass; returns 1 when reached. */
static int run_until(struct fx *fx, const int *flag, int want, double secs)
{
	int expired = 0;
	ev_timer guard;
	ev_timer_init(&guard, guard_cb, secs, 0.);
	guard.data = &expired;
	ev_timer_start(fx->loop, &guard);
	while (*flag < want && !expired)
		ev_run(fx->loop, EVRUN_ONCE);
	ev_timer_stop(fx->loop, &guard);
	return *flag >= want;
}

/* Just run the loop for a while. */
static void run_for(struct fx *fx, double secs)
{
	int never = 0;
	run_until(fx, &never, 1, secs);
}

/* ---- client-side result collection --------------------------------------- */

struct result {
	int done;
	int code;
	char msg[256];
	uint8_t payload[64];
	size_t len;
	int *order;      /* optional: completion counter */
	int seq;
};

static void on_result(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct result *r = ctx;
	assert_int_equal(r->done, 0);
	r->done = 1;
	r->code = code;
	snprintf(r->msg, sizeof r->msg, "%s", msg);
	r->len = len;
	if (len)   /* payload may be NULL when empty */
		memcpy(r->payload, payload, len < sizeof r->payload ? len : sizeof r->payload);
	if (r->order)
		r->seq = ++*r->order;
}

static struct wr_ttrpc_client *connect_client(struct fx *fx)
{
	struct wr_error err;
	char url[160];
	snprintf(url, sizeof url, "unix://%s", fx->path);
	struct wr_ttrpc_client *c = wr_ttrpc_client_connect(fx->loop, url, &err);
	assert_non_null(c);
	return c;
}

static void call(struct wr_ttrpc_client *c, const char *method, const char *payload,
		int64_t timeout, struct result *r)
{
	struct wr_error err;
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	assert_int_equal(wr_ttrpc_client_call(c, SVC, method, payload, payload ? strlen(payload) : 0,
			md, 1, timeout, on_result, r, &err), 0);
}

/* Echo round trip on a fresh connection: proves the server still serves. */
static void assert_server_serves(struct fx *fx)
{
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result r = { 0 };
	call(c, "Echo", "ping", 0, &r);
	assert_true(run_until(fx, &r.done, 1, 5));
	assert_int_equal(r.code, WR_OK);
	assert_int_equal(r.len, 11);
	assert_memory_equal(r.payload, "k8s.io:ping", 11);
	wr_ttrpc_client_free(c);
}

/* ---- raw peer ------------------------------------------------------------ */

struct raw_resp {
	uint32_t id;
	int code;
	char msg[200];
	size_t len;
	char note[16];   /* a WR_TTRPC_NOTE frame just before it on its stream ("" none) */
};

struct raw {
	int fd;
	ev_io rio, wio;
	uint8_t *out;
	size_t out_len, out_off;
	struct wr_ttrpc_reader rd;
	struct raw_resp resps[16];
	int n;
	int eof;
	struct ev_loop *loop;
};

static void raw_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct raw *r = w->data;
	size_t avail;
	uint8_t *p = wr_ttrpc_reader_space(&r->rd, &avail);
	ssize_t n = recv(r->fd, p, avail, 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		r->eof = 1;
		ev_io_stop(loop, &r->rio);
		ev_io_stop(loop, &r->wio);
		return;
	}
	wr_ttrpc_reader_commit(&r->rd, (size_t)n);
	struct wr_ttrpc_frame f;
	while (wr_ttrpc_reader_next(&r->rd, &f) == WR_TTRPC_FRAME) {
		assert_true(r->n < 16);
		if (f.hdr.type == WR_TTRPC_NOTE) {
			assert_true(f.hdr.length < sizeof r->resps[0].note);
			memcpy(r->resps[r->n].note, f.data, f.hdr.length);
			r->resps[r->n].id = f.hdr.stream_id;
			continue;
		}
		assert_int_equal(f.hdr.type, WR_TTRPC_RESPONSE);
		assert_true(r->resps[r->n].note[0] == 0 || r->resps[r->n].id == f.hdr.stream_id);
		struct wr_ttrpc_response resp;
		struct wr_error err;
		assert_int_equal(wr_ttrpc_response_decode(&resp, f.data, f.hdr.length, &err), 0);
		struct raw_resp *rr = &r->resps[r->n++];
		rr->id = f.hdr.stream_id;
		rr->code = resp.code;
		rr->len = resp.payload_len;
		snprintf(rr->msg, sizeof rr->msg, "%s", resp.message);
		wr_ttrpc_response_free(&resp);
	}
}

static void raw_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	struct raw *r = w->data;
	while (r->out_off < r->out_len) {
		ssize_t n = send(r->fd, r->out + r->out_off, r->out_len - r->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN)
				ev_io_stop(loop, &r->wio);
			return;
		}
		r->out_off += (size_t)n;
	}
	ev_io_stop(loop, &r->wio);
}

/* A raw peer on an already connected non-blocking socket. */
static void raw_attach(struct fx *fx, struct raw *r, int fd)
{
	memset(r, 0, sizeof *r);
	r->loop = fx->loop;
	r->fd = fd;
	wr_ttrpc_reader_init(&r->rd, 0);
	ev_io_init(&r->rio, raw_read_cb, r->fd, EV_READ);
	ev_io_init(&r->wio, raw_write_cb, r->fd, EV_WRITE);
	r->rio.data = r->wio.data = r;
	ev_io_start(fx->loop, &r->rio);
}

static void raw_open(struct fx *fx, struct raw *r)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, fx->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	raw_attach(fx, r, fd);
}

static void raw_send(struct raw *r, const void *p, size_t n)
{
	uint8_t *nb = realloc(r->out, r->out_len + n);
	assert_non_null(nb);
	r->out = nb;
	memcpy(r->out + r->out_len, p, n);
	r->out_len += n;
	ev_io_start(r->loop, &r->wio);
}

static void raw_request(struct raw *r, uint32_t id, const char *method, int64_t timeout)
{
	size_t n;
	struct wr_error err;
	uint8_t *f = wr_ttrpc_encode_request(id, SVC, method, "x", 1, timeout, NULL, 0, &n, &err);
	assert_non_null(f);
	raw_send(r, f, n);
	free(f);
}

static void raw_header(struct raw *r, uint32_t len, uint32_t id, uint8_t type)
{
	struct wr_ttrpc_header h = { len, id, type, 0 };
	uint8_t b[WR_TTRPC_HEADER_LEN];
	wr_ttrpc_header_encode(b, &h);
	raw_send(r, b, sizeof b);
}

static void raw_close(struct raw *r)
{
	ev_io_stop(r->loop, &r->rio);
	ev_io_stop(r->loop, &r->wio);
	close(r->fd);
	wr_ttrpc_reader_free(&r->rd);
	free(r->out);
}

/* ---- tests --------------------------------------------------------------- */

static void test_echo_namespace(void **state)
{
	struct fx *fx = *state;
	assert_server_serves(fx);
	/* no namespace metadata */
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result r = { 0 };
	struct wr_error err;
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", "a", 1, NULL, 0, 0, on_result, &r,
			&err), 0);
	assert_true(run_until(fx, &r.done, 1, 5));
	assert_int_equal(r.len, 3);
	assert_memory_equal(r.payload, "-:a", 3);
	/* an error status with its message */
	struct result f = { 0 };
	call(c, "Fail", NULL, 0, &f);
	assert_true(run_until(fx, &f.done, 1, 5));
	assert_int_equal(f.code, WR_NOT_FOUND);
	assert_string_equal(f.msg, "sandbox abc not found");
	wr_ttrpc_client_free(c);
}

static void test_held_call_does_not_block_others(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	int order = 0;
	struct result hold = { .order = &order }, echo = { .order = &order };
	call(c, "Hold", NULL, 0, &hold);
	call(c, "Echo", "now", 0, &echo);
	assert_true(run_until(fx, &echo.done, 1, 5));
	assert_int_equal(echo.code, WR_OK);
	assert_false(hold.done);
	assert_int_equal(fx->n_held, 1);
	assert_true(wr_ttrpc_call_alive(fx->held[0]));
	assert_int_equal(wr_ttrpc_call_stream_id(fx->held[0]), 1);
	assert_string_equal(wr_ttrpc_call_namespace(fx->held[0]), "k8s.io");
	assert_string_equal(wr_ttrpc_call_method(fx->held[0]), "Hold");
	assert_string_equal(wr_ttrpc_call_service(fx->held[0]), SVC);
	assert_int_equal(wr_ttrpc_call_timeout_nano(fx->held[0]), 0);
	run_for(fx, 0.05);
	assert_false(hold.done);

	/* released from another connection, minutes later in real life */
	struct wr_ttrpc_client *c2 = connect_client(fx);
	struct result rel = { .order = &order };
	call(c2, "Release", NULL, 0, &rel);
	assert_true(run_until(fx, &hold.done, 1, 5));
	assert_true(run_until(fx, &rel.done, 1, 5));
	assert_int_equal(hold.code, WR_OK);
	assert_int_equal(hold.len, 8);
	assert_memory_equal(hold.payload, "released", 8);
	assert_true(echo.seq < hold.seq);
	assert_int_equal(fx->cancelled, 0);
	wr_ttrpc_client_free(c);
	wr_ttrpc_client_free(c2);
}

static void test_many_concurrent(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	enum { N = 200 };
	static struct result rs[N];
	static char payloads[N][16];
	memset(rs, 0, sizeof rs);
	int done = 0;
	for (int i = 0; i < N; i++) {
		rs[i].order = &done;
		snprintf(payloads[i], sizeof payloads[i], "p%d", i);
		call(c, "Echo", payloads[i], 0, &rs[i]);
	}
	assert_true(run_until(fx, &done, N, 10));
	for (int i = 0; i < N; i++) {
		char want[32];
		int l = snprintf(want, sizeof want, "k8s.io:%s", payloads[i]);
		assert_int_equal(rs[i].code, WR_OK);
		assert_int_equal(rs[i].len, (size_t)l);
		assert_memory_equal(rs[i].payload, want, l);
	}
	wr_ttrpc_client_free(c);
}

struct big_result {
	int done;
	int code;
	size_t len;
	int ok;
};

static void on_big(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	(void)msg;
	struct big_result *r = ctx;
	r->done = 1;
	r->code = code;
	r->len = len;
	r->ok = len > 7 && memcmp(payload, "k8s.io:", 7) == 0 && payload[len - 1] == 0x5c;
}

static void test_large_payloads(void **state)
{
	struct fx *fx = *state;
	/* 3 MiB each way: many partial writes and EAGAINs on both sides */
	size_t n = 3u << 20;
	uint8_t *p = malloc(n);
	assert_non_null(p);
	memset(p, 0x5c, n);
	struct wr_ttrpc_client *c = connect_client(fx);
	struct big_result r[3] = { { 0 } };
	struct wr_error err;
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	for (int i = 0; i < 3; i++)
		assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", p, n, md, 1, 0, on_big, &r[i],
				&err), 0);
	assert_true(run_until(fx, &r[2].done, 1, 20));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].code, WR_OK);
		assert_int_equal(r[i].len, n + 7);
		assert_true(r[i].ok);
	}
	/* over 4 MiB is refused by the client before sending */
	uint8_t *q = realloc(p, WR_TTRPC_MAX_DATA + 1);
	assert_non_null(q);
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", q, WR_TTRPC_MAX_DATA + 1, NULL, 0, 0,
			on_big, &r[0], &err), -1);
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	free(q);
	wr_ttrpc_client_free(c);
}

static void test_unknown_service_and_method(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result m = { 0 }, s = { 0 };
	struct wr_error err;
	call(c, "Nope", NULL, 0, &m);
	assert_int_equal(wr_ttrpc_client_call(c, "nope.v1.Other", "Echo", NULL, 0, NULL, 0, 0,
			on_result, &s, &err), 0);
	assert_true(run_until(fx, &s.done, 1, 5));
	assert_true(run_until(fx, &m.done, 1, 5));
	assert_int_equal(m.code, WR_UNIMPLEMENTED);
	assert_int_equal(m.code, 12);
	assert_string_equal(m.msg, "unknown method Nope");
	assert_int_equal(s.code, WR_UNIMPLEMENTED);
	assert_string_equal(s.msg, "unknown service nope.v1.Other");
	wr_ttrpc_client_free(c);
}

static void test_garbage_closes_only_that_connection(void **state)
{
	struct fx *fx = *state;
	/* a held call on a good connection must survive the bad one */
	struct wr_ttrpc_client *good = connect_client(fx);
	struct result hold = { 0 };
	call(good, "Hold", NULL, 0, &hold);
	assert_true(run_until(fx, &fx->n_held, 1, 5));

	struct raw r;
	raw_open(fx, &r);
	const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	raw_send(&r, garbage, sizeof garbage - 1);
	assert_true(run_until(fx, &r.eof, 1, 5));
	assert_int_equal(r.n, 0);
	assert_non_null(strstr(fx->last_log, "unexpected frame type"));
	raw_close(&r);

	assert_server_serves(fx);
	assert_true(wr_ttrpc_call_alive(fx->held[0]));
	struct result echo = { 0 };
	call(good, "Echo", "still", 0, &echo);
	assert_true(run_until(fx, &echo.done, 1, 5));
	assert_int_equal(echo.code, WR_OK);
	assert_false(hold.done);
	assert_int_equal(fx->cancelled, 0);
	wr_ttrpc_client_free(good);
}

static void test_bad_stream_ids(void **state)
{
	struct fx *fx = *state;
	struct raw r;

	/* even */
	raw_open(fx, &r);
	raw_request(&r, 2, "Echo", 0);
	assert_true(run_until(fx, &r.eof, 1, 5));
	assert_int_equal(r.n, 0);
	assert_non_null(strstr(fx->last_log, "odd and increasing"));
	raw_close(&r);

	/* reused */
	raw_open(fx, &r);
	raw_request(&r, 3, "Echo", 0);
	raw_request(&r, 3, "Echo", 0);
	assert_true(run_until(fx, &r.eof, 1, 5));
	assert_int_equal(r.n, 1);
	assert_int_equal(r.resps[0].id, 3);
	raw_close(&r);

	/* decreasing */
	raw_open(fx, &r);
	raw_request(&r, 5, "Echo", 0);
	raw_request(&r, 1, "Echo", 0);
	assert_true(run_until(fx, &r.eof, 1, 5));
	assert_int_equal(r.n, 1);
	raw_close(&r);

	/* zero */
	raw_open(fx, &r);
	raw_request(&r, 0, "Echo", 0);
	assert_true(run_until(fx, &r.eof, 1, 5));
	raw_close(&r);

	/* gaps are fine: 1, 7, 4001 */
	raw_open(fx, &r);
	raw_request(&r, 1, "Echo", 0);
	raw_request(&r, 7, "Echo", 0);
	raw_request(&r, 4001, "Echo", 0);
	assert_true(run_until(fx, &r.n, 3, 5));
	assert_false(r.eof);
	assert_int_equal(r.resps[2].id, 4001);
	raw_close(&r);

	assert_server_serves(fx);
}

static void test_oversized_then_valid(void **state)
{
	struct fx *fx = *state;
	struct raw r;
	raw_open(fx, &r);
	uint32_t big = WR_TTRPC_MAX_DATA + 1;
	raw_header(&r, big, 1, WR_TTRPC_REQUEST);
	uint8_t *junk = malloc(big);
	assert_non_null(junk);
	memset(junk, 0xab, big);
	raw_send(&r, junk, big);
	free(junk);
	raw_request(&r, 3, "Echo", 0);
	assert_true(run_until(fx, &r.n, 2, 10));
	assert_false(r.eof);
	assert_int_equal(r.resps[0].id, 1);
	assert_int_equal(r.resps[0].code, WR_RESOURCE_EXHAUSTED);
	assert_int_equal(r.resps[0].code, 8);
	assert_non_null(strstr(r.resps[0].msg, "exceed maximum message size"));
	assert_int_equal(r.resps[1].id, 3);
	assert_int_equal(r.resps[1].code, WR_OK);
	assert_int_equal(r.resps[1].len, 3);   /* "-:x" */
	raw_close(&r);
}

static void test_undecodable_request(void **state)
{
	struct fx *fx = *state;
	struct raw r;
	raw_open(fx, &r);
	static const uint8_t bad[] = { 0xff, 0xff, 0xff };
	raw_header(&r, sizeof bad, 1, WR_TTRPC_REQUEST);
	raw_send(&r, bad, sizeof bad);
	/* a data frame (streaming) is ignored */
	raw_header(&r, 2, 3, WR_TTRPC_DATA);
	raw_send(&r, "dd", 2);
	/* an empty request: service "" is unknown */
	raw_header(&r, 0, 5, WR_TTRPC_REQUEST);
	raw_request(&r, 7, "Echo", 0);
	assert_true(run_until(fx, &r.n, 3, 5));
	assert_int_equal(r.resps[0].id, 1);
	assert_int_equal(r.resps[0].code, WR_INVALID_ARGUMENT);
	assert_int_equal(r.resps[1].id, 5);
	assert_int_equal(r.resps[1].code, WR_UNIMPLEMENTED);
	assert_int_equal(r.resps[2].id, 7);
	assert_int_equal(r.resps[2].code, WR_OK);
	run_for(fx, 0.02);
	assert_int_equal(r.n, 3);
	assert_false(r.eof);

	/* a response frame from a client closes the connection */
	raw_header(&r, 0, 9, WR_TTRPC_RESPONSE);
	assert_true(run_until(fx, &r.eof, 1, 5));
	raw_close(&r);
}

/* A noted answer is a WR_TTRPC_NOTE frame then the response, on the call's
 * stream; other answers carry no note. */
static void test_noted_reply(void **state)
{
	struct fx *fx = *state;
	struct raw r;
	raw_open(fx, &r);
	raw_request(&r, 1, "Noted", 0);
	raw_request(&r, 3, "Echo", 0);
	raw_request(&r, 5, "Noted", 0);
	assert_true(run_until(fx, &r.n, 3, 5));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.resps[i].code, WR_OK);
		assert_int_equal(r.resps[i].id, 1 + 2 * i);
	}
	assert_string_equal(r.resps[0].note, "cache-me");
	assert_int_equal(r.resps[0].len, 2);
	assert_string_equal(r.resps[1].note, "");
	assert_string_equal(r.resps[2].note, "cache-me");
	raw_close(&r);
}

static void test_deadline(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	/* server-side deadline fires; the client's own timer is longer */
	struct result sl = { 0 };
	struct wr_error err;
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Sleep", NULL, 0, NULL, 0, 50000000, on_result,
			&sl, &err), 0);
	assert_true(run_until(fx, &sl.done, 1, 5));
	assert_int_equal(sl.code, WR_DEADLINE_EXCEEDED);
	assert_int_equal(sl.code, 4);
	/* the client's own 50 ms timer may have fired first */
	assert_true(run_until(fx, &fx->cancelled, 1, 5));   /* on_cancel_reply released it */

	/* a late reply is dropped: exactly one response reaches the wire */
	struct raw r;
	raw_open(fx, &r);
	raw_request(&r, 1, "Hold", 30000000);
	assert_true(run_until(fx, &r.n, 1, 5));
	assert_int_equal(r.resps[0].code, WR_DEADLINE_EXCEEDED);
	assert_int_equal(fx->cancelled, 2);
	assert_int_equal(fx->n_held, 1);
	assert_false(wr_ttrpc_call_alive(fx->held[0]));
	assert_int_equal(wr_ttrpc_reply(fx->held[0], WR_OK, NULL, "late", 4), -1);
	fx->n_held = 0;
	raw_request(&r, 3, "Echo", 0);
	assert_true(run_until(fx, &r.n, 2, 5));
	run_for(fx, 0.02);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.resps[1].id, 3);
	raw_close(&r);

	/* a negative timeout is a deadline already past */
	struct result neg = { 0 };
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", NULL, 0, NULL, 0, -1, on_result,
			&neg, &err), 0);
	assert_true(run_until(fx, &neg.done, 1, 5));
	assert_int_equal(neg.code, WR_DEADLINE_EXCEEDED);
	wr_ttrpc_client_free(c);
}

static void test_client_side_timeout(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result h = { 0 };
	call(c, "Hold", NULL, 20000000, &h);
	assert_true(run_until(fx, &h.done, 1, 5));
	assert_int_equal(h.code, WR_DEADLINE_EXCEEDED);
	/* whichever side fired first, the connection still works */
	struct result e = { 0 };
	call(c, "Echo", "z", 0, &e);
	assert_true(run_until(fx, &e.done, 1, 5));
	assert_int_equal(e.code, WR_OK);
	wr_ttrpc_client_free(c);
}

static void test_connection_close_kills_calls(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result h1 = { 0 }, h2 = { 0 }, s = { 0 };
	call(c, "Hold", NULL, 0, &h1);
	call(c, "Hold", NULL, 0, &h2);
	call(c, "Sleep", NULL, 0, &s);
	assert_true(run_until(fx, &fx->n_held, 2, 5));
	run_for(fx, 0.02);
	wr_ttrpc_client_free(c);   /* pending callbacks: Cancelled */
	assert_int_equal(h1.code, WR_CANCELLED);
	assert_int_equal(s.code, WR_CANCELLED);
	assert_true(run_until(fx, &fx->cancelled, 3, 5));
	assert_false(wr_ttrpc_call_alive(fx->held[0]));
	assert_false(wr_ttrpc_call_alive(fx->held[1]));
	/* the Wait finishes later: reply dropped, no use after free (ASan) */
	struct wr_ttrpc_client *c2 = connect_client(fx);
	struct result rel = { 0 };
	call(c2, "Release", NULL, 0, &rel);
	assert_true(run_until(fx, &rel.done, 1, 5));
	assert_int_equal(rel.code, WR_OK);
	assert_int_equal(fx->n_held, 0);
	wr_ttrpc_client_free(c2);
}

static void test_peer_closes_mid_frame(void **state)
{
	struct fx *fx = *state;
	struct raw r;
	raw_open(fx, &r);
	raw_header(&r, 100, 1, WR_TTRPC_REQUEST);
	raw_send(&r, "only part", 9);
	run_for(fx, 0.02);
	int logs = fx->logs;
	raw_close(&r);
	assert_true(run_until(fx, &fx->logs, logs + 1, 5));
	run_for(fx, 0.02);
	assert_int_equal(fx->logs, logs + 1);
	assert_non_null(strstr(fx->last_log, "middle of a frame"));

	/* mid-header and mid-oversized-skip as well */
	raw_open(fx, &r);
	raw_send(&r, "\0\0", 2);
	run_for(fx, 0.02);
	raw_close(&r);
	raw_open(fx, &r);
	raw_header(&r, WR_TTRPC_MAX_DATA + 10, 1, WR_TTRPC_REQUEST);
	raw_send(&r, "abc", 3);
	assert_true(run_until(fx, &r.n, 1, 5));
	raw_close(&r);
	run_for(fx, 0.05);
	assert_server_serves(fx);
}

static void on_lost(struct wr_ttrpc_client *c, void *ctx)
{
	(void)c;
	(*(int *)ctx)++;
}

static void test_server_free_with_live_calls(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	int lost = 0;
	wr_ttrpc_client_set_close_cb(c, on_lost, &lost);
	struct result h = { 0 }, s = { 0 };
	call(c, "Hold", NULL, 0, &h);
	call(c, "Sleep", NULL, 0, &s);
	assert_true(run_until(fx, &fx->n_held, 1, 5));
	run_for(fx, 0.02);
	wr_ttrpc_server_free(fx->srv);
	fx->srv = NULL;
	assert_int_equal(fx->cancelled, 2);
	assert_int_equal(wr_ttrpc_reply(fx->held[0], WR_OK, NULL, NULL, 0), -1);
	fx->n_held = 0;
	assert_true(run_until(fx, &lost, 1, 5));
	assert_int_equal(h.code, WR_UNAVAILABLE);
	assert_int_equal(s.code, WR_UNAVAILABLE);
	assert_false(wr_ttrpc_client_connected(c));
	struct wr_error err;
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", NULL, 0, NULL, 0, 0, on_result, &h,
			&err), -1);
	assert_int_equal(err.code, WR_UNAVAILABLE);
	wr_ttrpc_client_free(c);
}

/* A handler that frees the server it runs in (e.g. a shutdown path). */
static void h_free_server(struct wr_ttrpc_call *call, void *ctx)
{
	struct fx *fx = ctx;
	wr_ttrpc_reply(call, WR_OK, NULL, NULL, 0);
	wr_ttrpc_server_free(fx->srv);
	fx->srv = NULL;
}

static void test_free_server_from_handler(void **state)
{
	struct fx *fx = *state;
	struct wr_error err;
	assert_int_equal(wr_ttrpc_server_register(fx->srv, SVC, "Die", h_free_server, fx, &err), 0);
	struct raw r;
	raw_open(fx, &r);
	raw_request(&r, 1, "Hold", 0);
	raw_request(&r, 3, "Die", 0);
	raw_request(&r, 5, "Echo", 0);   /* in the same read: must not be dispatched */
	assert_true(run_until(fx, &r.eof, 1, 5));
	/* Die's answer was written through before the server went; Hold was
	 * cancelled unanswered and Echo never dispatched */
	assert_int_equal(r.n, 1);
	assert_int_equal(r.resps[0].id, 3);
	assert_null(fx->srv);
	assert_int_equal(fx->cancelled, 1);
	raw_close(&r);
}

static void on_result_free_client(void *ctx, int code, const char *msg, const uint8_t *payload,
		size_t len)
{
	struct wr_ttrpc_client **cp = ctx;
	(void)code;
	(void)msg;
	(void)payload;
	(void)len;
	wr_ttrpc_client_free(*cp);
	*cp = NULL;
}

static void test_client_free_from_callback(void **state)
{
	struct fx *fx = *state;
	struct wr_ttrpc_client *c = connect_client(fx);
	struct result other = { 0 };
	struct wr_error err;
	assert_int_equal(wr_ttrpc_client_call(c, SVC, "Echo", "1", 1, NULL, 0, 0,
			on_result_free_client, &c, &err), 0);
	call(c, "Hold", NULL, 0, &other);
	int gone = 0;
	while (c && !gone) {
		ev_run(fx->loop, EVRUN_ONCE);
		gone = c == NULL;
	}
	assert_null(c);
	assert_int_equal(other.code, WR_CANCELLED);
}

static void test_listen_paths(void **state)
{
	struct fx *fx = *state;
	struct wr_error err;
	struct wr_ttrpc_server *s2 = wr_ttrpc_server_new(fx->loop, &err);
	assert_non_null(s2);
	/* someone serves there */
	assert_int_equal(wr_ttrpc_server_listen(s2, fx->path, &err), -1);
	assert_int_equal(err.code, WR_ALREADY_EXISTS);
	/* a stale socket file is replaced */
	char stale[160];
	snprintf(stale, sizeof stale, "%s/stale.sock", fx->dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);
	assert_int_equal(wr_ttrpc_server_listen(s2, stale, &err), 0);
	/* not a socket */
	char file[160];
	snprintf(file, sizeof file, "%s/file", fx->dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(wr_ttrpc_server_listen(s2, file, &err), -1);
	assert_int_equal(err.code, WR_ALREADY_EXISTS);
	/* too long */
	char longp[200];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	assert_int_equal(wr_ttrpc_server_listen(s2, longp, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	/* nothing listening → client connect fails */
	assert_null(wr_ttrpc_client_connect(fx->loop, file, &err));
	wr_ttrpc_server_free(s2);
	unlink(stale);
	unlink(file);
}

/* An already connected socket (warrend's core gets containerd's connections
 * so, from its front process) is served like an accepted one. */
static void test_adopt(void **state)
{
	struct fx *fx = *state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct wr_error err;
	assert_int_equal(wr_ttrpc_server_adopt(fx->srv, sv[0], &err), 0);
	assert_true(fcntl(sv[0], F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	struct raw r;
	raw_attach(fx, &r, sv[1]);
	raw_request(&r, 1, "Hold", 0);
	raw_request(&r, 3, "Echo", 0);
	assert_true(run_until(fx, &r.n, 1, 5));
	assert_int_equal(r.resps[0].id, 3);
	assert_int_equal(r.resps[0].code, WR_OK);
	assert_int_equal(fx->n_held, 1);
	/* its rules are a listener's: ids must increase */
	raw_request(&r, 3, "Echo", 0);
	run_for(fx, 0.1);
	assert_true(r.eof);
	assert_int_equal(fx->cancelled, 1);   /* the held call died with it */
	raw_close(&r);
	/* a bad fd fails cleanly */
	assert_int_equal(wr_ttrpc_server_adopt(fx->srv, -1, &err), -1);
	assert_server_serves(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noted_reply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_held_call_does_not_block_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_payloads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_service_and_method, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_closes_only_that_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_stream_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_then_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undecodable_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_side_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_close_kills_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_closes_mid_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_free_with_live_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_server_from_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_free_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
