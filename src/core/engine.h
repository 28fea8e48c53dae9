/* engine.h — the lifecycle engine: every change of a sandbox, task or exec
 * goes through wr_dispatch / wr_engine_submit.
 *
 * A dispatch consults the compiled chart (lifecycle.h).  An event the chart
 * forbids fails with WR_FAILED_PRECONDITION naming the object, its state and
 * the event, and changes nothing: no journal row, no backend call.  A legal
 * event that runs an action is a journaled step:
 *
 *    1. intent row + object moved to the transient state, committed (durable)
 *    2. backend action run
 *    3. outcome row + Done/Failed fired + object moved on, committed
 *
 * A legal event without an action (a world event such as Exit, or an
 * idempotent self-loop) writes one transition row, or nothing when the state
 * does not change.
 *
 * Group commit: submitted events are queued and handled in batches by
 * wr_engine_flush(); a batch shares one commit for all its intents and one for
 * all its outcomes.  A caller is told the result only after the commit that
 * made it durable, so an acknowledged transition survives kill -9 and power
 * loss.  The daemon calls flush once per event-loop iteration; wr_dispatch()
 * is submit + flush for callers that want the answer now.  No threads.
 *
 * Crash points (test hook): when WARREN_CRASH_AT=N is set in the environment,
 * the process SIGKILLs itself at the N-th crash point it passes: before
 * intent, after intent, after the backend action, after outcome.
 * WARREN_CRASH_TRACE=1 prints each crash point to stderr as it passes. */
#ifndef WR_ENGINE_H
#define WR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/backend.h"
#include "core/error.h"
#include "core/lifecycle.h"
#include "core/object.h"
#include "core/objgen.h"
#include "core/store.h"

struct json_object;
struct wr_engine;

/* Called after a step's outcome is durable: the front end publishes
 * containerd events (/tasks/start, /tasks/exit...) from here. */
typedef void (*wr_transition_cb)(void *ctx, const struct wr_object *o, int from,
				 int event, int to);

struct wr_engine_config {
	const char *db_path;
	struct wr_backend **backends;  /* by name; the object's backend field picks one */
	size_t n_backends;
	wr_transition_cb on_transition;
	void *on_transition_ctx;
	/* Optional: the engine as soon as its objects are loaded, before
	 * recovery fires any transition, so that on_transition can use it (find
	 * a backend, look objects up) for those too.  ctx is on_transition_ctx.
	 * If the open then fails, the engine is freed before it returns. */
	void (*on_open)(void *ctx, struct wr_engine *e);
	/* Optional: exits that someone else reaped while no engine ran.  warrend's
	 * front process is the container processes' reaper and hands its records
	 * to the core before the engine opens; recovery asks here when a backend
	 * observes that a task's or exec's process is gone, so the real status is
	 * journaled instead of 255 ("unknown").  Returns 1 and fills status (exit
	 * code, or 128+signal) and exited_at (ns since the epoch) when pid's exit
	 * is known, 0 when not. */
	int (*exit_of)(void *ctx, int pid, int *status, int64_t *exited_at);
	void *exit_of_ctx;
	/* Optional: the change counters shared with warrend's front
	 * (core/objgen.h), bumped at every change of an object; not owned. */
	struct wr_objgen *gens;
	bool skip_recovery;            /* tests only: open without recovering */
};

struct wr_recovery_report {
	int examined;      /* live objects found in the store */
	int rolled_forward;/* in-flight steps whose effect had happened, or re-ran */
	int failed;        /* in-flight steps resolved through Failed */
	int lost;          /* objects whose resources vanished → stopped with reason */
	int exited;        /* tasks/execs that exited while we were down */
};

/* Open the store, then (unless cfg->skip_recovery) recover every live object:
 * resolve in-flight steps by probing and, when the effect is missing,
 * re-running the idempotent action; then observe every stable object and fire
 * Lost/Exit for what vanished or exited.  A corrupt or newer database fails. */
int wr_engine_open(struct wr_engine **out, const struct wr_engine_config *cfg,
		   struct wr_error *err);
void wr_engine_close(struct wr_engine *e);
const struct wr_recovery_report *wr_engine_recovery(const struct wr_engine *e);
struct wr_store *wr_engine_store(struct wr_engine *e);

/* Look up a live object; NULL when unknown or deleted. */
struct wr_object *wr_engine_find(struct wr_engine *e, enum wr_kind kind, const char *ns,
				 const char *id);
/* Visit every live object (creation order). */
void wr_engine_foreach(struct wr_engine *e, void (*fn)(void *ctx, struct wr_object *o),
		       void *ctx);
struct wr_backend *wr_engine_backend(struct wr_engine *e, const char *name);
/* cfg.gens (NULL when none). */
struct wr_objgen *wr_engine_gens(const struct wr_engine *e);

typedef void (*wr_done_cb)(void *ctx, struct wr_object *o, const struct wr_error *result);

/* Queue an event for an existing object.  cb runs (from flush) once the
 * outcome is durable or the event was rejected; `o` may be freed after cb when
 * it reached a terminal state.  Takes a reference to args (may be NULL). */
void wr_engine_submit(struct wr_engine *e, struct wr_object *o, int event,
		      struct json_object *args, wr_done_cb cb, void *ctx);
/* Queue the creation of a new object: `tmpl` gives identity, backend, spec;
 * the engine takes ownership of it.  Fails through cb with AlreadyExists when
 * a live object has the same identity. */
void wr_engine_submit_create(struct wr_engine *e, struct wr_object *tmpl,
			     struct json_object *args, wr_done_cb cb, void *ctx);
/* Process everything queued; returns the number of events handled. */
int wr_engine_flush(struct wr_engine *e);
bool wr_engine_pending(const struct wr_engine *e);

/* Synchronous forms: submit + flush.  Return 0 or -1 with err. */
int wr_dispatch(struct wr_engine *e, struct wr_object *o, int event,
		struct json_object *args, struct wr_error *err);
int wr_create(struct wr_engine *e, struct wr_object *tmpl, struct json_object *args,
	      struct wr_object **out, struct wr_error *err);

/* Would `event` be accepted in o's state?  (No side effects.) */
bool wr_engine_allows(const struct wr_object *o, int event);

/* Tests and import only: insert an object as-is, in whatever state it holds,
 * persisting it without a journal step.  Takes ownership. */
int wr_engine_adopt(struct wr_engine *e, struct wr_object *o, struct wr_error *err);

#endif
