/* client.h — a minimal asynchronous ttrpc client on a libev loop.
 *
 * One connection to a unix socket, unary calls multiplexed on it (odd stream
 * ids from 1), each answered through its own callback.  Used to publish events
 * to containerd's Events/Forward on TTRPC_ADDRESS (DESIGN §2).  When the
 * connection is lost every pending call is answered Unavailable and the close
 * callback runs; reconnecting (a new client) is the caller's business. */
#ifndef WR_TTRPC_CLIENT_H
#define WR_TTRPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "core/error.h"
#include "ttrpc/frame.h"   /* struct wr_ttrpc_kv */

struct wr_ttrpc_client;

/* code is an enum wr_code: the server's status, or a local failure
 * (Unavailable: connection lost; DeadlineExceeded: timeout_nano passed;
 * Cancelled: client freed; Internal: undecodable response).  msg (never
 * NULL) and payload (NULL when len is 0) are valid only during the callback,
 * which may call any client function, including wr_ttrpc_client_free(). */
typedef void (*wr_ttrpc_response_fn)(void *ctx, int code, const char *msg,
		const uint8_t *payload, size_t len);
typedef void (*wr_ttrpc_close_fn)(struct wr_ttrpc_client *c, void *ctx);

/* Connect to a unix socket path ("unix://" prefix accepted). */
struct wr_ttrpc_client *wr_ttrpc_client_connect(struct ev_loop *loop, const char *path,
		struct wr_error *err);

/* Pending calls are answered Cancelled (their callbacks run inside this call). */
void wr_ttrpc_client_free(struct wr_ttrpc_client *c);

/* Runs once, when the connection is lost (not on wr_ttrpc_client_free). */
void wr_ttrpc_client_set_close_cb(struct wr_ttrpc_client *c, wr_ttrpc_close_fn fn, void *ctx);

/* 1 while connected. */
int wr_ttrpc_client_connected(const struct wr_ttrpc_client *c);

/* Start a call; cb runs exactly once, later (never inside this function).
 * timeout_nano > 0 is sent to the server and enforced locally.  Fails (and cb
 * never runs) when disconnected (Unavailable) or the request cannot be
 * encoded (ResourceExhausted over 4 MiB). */
int wr_ttrpc_client_call(struct wr_ttrpc_client *c, const char *service, const char *method,
		const void *payload, size_t len, const struct wr_ttrpc_kv *md, size_t n_md,
		int64_t timeout_nano, wr_ttrpc_response_fn cb, void *ctx, struct wr_error *err);

#endif
