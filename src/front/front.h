/* front.h — the containerd front end of warrend: ttrpc services that turn
 * containerd's Sandbox and Task calls into lifecycle events.
 *
 * One listener (ttrpc server) per backend socket: the socket containerd
 * dialled tells which backend a new sandbox or standalone task gets
 * (instance.h).  Every call is answered asynchronously from the engine's
 * completion callback, so a long Wait never blocks other calls.  Exits of
 * container processes come from the reaper (warrend is their subreaper);
 * containerd hears about transitions through ordered events (events.h). */
#ifndef WR_FRONT_H
#define WR_FRONT_H

#include <ev.h>

#include "core/engine.h"
#include "core/error.h"

struct wr_front;

/* ttrpc_address: containerd's ttrpc socket for Events/Forward ("" → no
 * events are published). */
struct wr_front *wr_front_new(struct ev_loop *loop, const char *ttrpc_address,
			      struct wr_error *err);
void wr_front_free(struct wr_front *f);

/* The engine must be opened with on_transition = wr_front_on_transition and
 * ctx = the front; then handed over here before listening. */
void wr_front_on_transition(void *ctx, const struct wr_object *o, int from, int event, int to);
void wr_front_set_engine(struct wr_front *f, struct wr_engine *e);

/* Serve the Sandbox and Task services on path for backend. */
int wr_front_listen(struct wr_front *f, const char *backend, const char *path,
		    struct wr_error *err);

/* Start reaping children (SIGCHLD) and turning exits into Exit events. */
void wr_front_start_reaper(struct wr_front *f);

#endif
