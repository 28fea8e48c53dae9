/* server.h — ttrpc server on unix sockets, driven by a libev loop (no threads).
 *
 * containerd opens one connection per sandbox and per container and keeps
 * calls such as Wait open for minutes while others arrive on the same
 * connection (DESIGN §2), so a handler gets a struct wr_ttrpc_call and may
 * answer it at any later time with wr_ttrpc_reply().
 *
 * Ownership of a call: the handler owns it from the moment it is invoked
 * until it calls wr_ttrpc_reply() exactly once (or wr_ttrpc_reply_error()).
 * The call may die before that — its connection closed, its deadline passed
 * (the server then answers DeadlineExceeded itself), or the server was freed —
 * in which case the reply is dropped, but it must still be made: it is what
 * releases the call.  A cancel callback, if set, tells the handler the moment
 * a call dies, so that long waits can be released early.
 *
 * What the server does with bad input, per connection, never affecting others:
 *   frame data > 4 MiB          → ResourceExhausted on that stream, data skipped
 *   request stream id even, or not above the previous one → connection closed
 *   undecodable ttrpc.Request   → InvalidArgument
 *   unknown service / method    → Unimplemented "unknown service X" / "unknown method Y"
 *   data frames (streaming)     → ignored
 *   response or unknown frame type from a client → connection closed
 *   peer closes (even mid-frame) → connection closed, its calls die
 *
 * Each routed call's time from arrival to the handler's reply is added to its
 * method's counters in core/stats.h (warrenctl stats). */
#ifndef WR_TTRPC_SERVER_H
#define WR_TTRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "core/error.h"

struct wr_ttrpc_server;
struct wr_ttrpc_call;

typedef void (*wr_ttrpc_handler_fn)(struct wr_ttrpc_call *call, void *ctx);
typedef void (*wr_ttrpc_cancel_fn)(struct wr_ttrpc_call *call, void *ctx);
typedef void (*wr_ttrpc_log_fn)(void *ctx, const char *msg);

struct wr_ttrpc_server *wr_ttrpc_server_new(struct ev_loop *loop, struct wr_error *err);

/* Frees every connection (their live calls die: cancel callbacks run, later
 * replies are dropped) and the listening sockets.  Does not unlink socket
 * paths.  Safe to call from inside a handler or cancel callback. */
void wr_ttrpc_server_free(struct wr_ttrpc_server *s);

/* Route (service, method) to fn.  Registering the same pair twice → AlreadyExists. */
int wr_ttrpc_server_register(struct wr_ttrpc_server *s, const char *service, const char *method,
		wr_ttrpc_handler_fn fn, void *ctx, struct wr_error *err);

/* Bind and listen on a unix socket path (mode 0600).  A stale socket file is
 * replaced; a path where a server answers → AlreadyExists. */
int wr_ttrpc_server_listen(struct wr_ttrpc_server *s, const char *path, struct wr_error *err);

/* Serve an already listening socket (e.g. inherited across re-exec); the
 * server takes ownership of fd and makes it non-blocking. */
int wr_ttrpc_server_listen_fd(struct wr_ttrpc_server *s, int fd, struct wr_error *err);

/* Serve an already connected stream socket as one more connection (warrend's
 * core gets containerd's connections this way, one end of a socketpair per
 * connection, from the front process).  The server takes ownership of fd and
 * makes it non-blocking and close-on-exec; on failure fd is closed. */
int wr_ttrpc_server_adopt(struct wr_ttrpc_server *s, int fd, struct wr_error *err);

/* Where connection-level events go (protocol violations, I/O errors); the
 * default writes "warren ttrpc: ..." lines to stderr.  fn NULL silences. */
void wr_ttrpc_server_set_log(struct wr_ttrpc_server *s, wr_ttrpc_log_fn fn, void *ctx);

/* ---- calls (valid until the handler's reply) ------------------------------ */

const char *wr_ttrpc_call_service(const struct wr_ttrpc_call *call);
const char *wr_ttrpc_call_method(const struct wr_ttrpc_call *call);
const uint8_t *wr_ttrpc_call_payload(const struct wr_ttrpc_call *call, size_t *len);
/* containerd namespace (metadata containerd-namespace-ttrpc), or NULL. */
const char *wr_ttrpc_call_namespace(const struct wr_ttrpc_call *call);
/* First value of a metadata key, or NULL. */
const char *wr_ttrpc_call_metadata(const struct wr_ttrpc_call *call, const char *key);
/* Requested timeout in ns, 0 when none. */
int64_t wr_ttrpc_call_timeout_nano(const struct wr_ttrpc_call *call);
uint32_t wr_ttrpc_call_stream_id(const struct wr_ttrpc_call *call);
/* 1 while a reply would still reach the client. */
int wr_ttrpc_call_alive(const struct wr_ttrpc_call *call);

/* fn runs once, when the call dies before its reply (never after the reply).
 * It may call wr_ttrpc_reply() on this call.  Set it inside the handler or
 * later; if the call is already dead when it is set, it runs at once. */
void wr_ttrpc_call_set_cancel(struct wr_ttrpc_call *call, wr_ttrpc_cancel_fn fn, void *ctx);

/* Answer and release the call: code is an enum wr_code, msg may be NULL,
 * payload is copied.  Returns 0 when the response was queued, -1 when it was
 * dropped (call dead, or out of memory).  A payload over 4 MiB is answered
 * with ResourceExhausted instead.  call must not be used afterwards. */
int wr_ttrpc_reply(struct wr_ttrpc_call *call, int code, const char *msg,
		const void *payload, size_t len);
/* wr_ttrpc_reply(call, WR_OK, NULL, payload, len), the response preceded by
 * a WR_TTRPC_NOTE frame holding note (note_len bytes) on the same stream, both
 * in one write.  Only for a peer that expects notes (warrend's front). */
int wr_ttrpc_reply_noted(struct wr_ttrpc_call *call, const void *note, size_t note_len,
		const void *payload, size_t len);
/* wr_ttrpc_reply(call, err->code, err->msg, NULL, 0). */
int wr_ttrpc_reply_error(struct wr_ttrpc_call *call, const struct wr_error *err);

#endif
