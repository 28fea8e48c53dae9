/* front.h — the containerd front end of warrend's core: ttrpc services that
 * turn containerd's Sandbox and Task calls into lifecycle events.
 *
 * One ttrpc server per backend: the socket containerd dialled tells which
 * backend a new sandbox or standalone task gets (instance.h).  In warrend the
 * sockets belong to the front process (src/relay/), which hands each
 * containerd connection to the core as an already connected fd
 * (wr_front_adopt); tests listen on a path directly.  Every call is answered
 * asynchronously from the engine's completion callback, so a long Wait never
 * blocks other calls.  Exits of container processes come from the front
 * process, their reaper (src/relay/core_link.c turns them into Exit events);
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

/* The engine must be opened with on_transition = wr_front_on_transition,
 * on_open = wr_front_on_open and ctx = the front (the front then has the
 * engine for the transitions recovery fires: an exit found by recovery gets
 * its /tasks/oom too). */
void wr_front_on_transition(void *ctx, const struct wr_object *o, int from, int event, int to);
void wr_front_on_open(void *ctx, struct wr_engine *e);
void wr_front_set_engine(struct wr_front *f, struct wr_engine *e);

/* Serve the Sandbox and Task services on path for backend. */
int wr_front_listen(struct wr_front *f, const char *backend, const char *path,
		    struct wr_error *err);

/* Serve an already connected socket (one containerd connection) for backend;
 * takes ownership of fd (closed on failure). */
int wr_front_adopt(struct wr_front *f, const char *backend, int fd, struct wr_error *err);

/* Start the periodic collection of objects containerd has forgotten (their
 * bundle directory is gone): they are stopped and removed (collect.c). */
void wr_front_start_collector(struct wr_front *f);
/* One pass of it now: the number of steps submitted (the caller flushes). */
int wr_front_collect(struct wr_front *f);

#endif
