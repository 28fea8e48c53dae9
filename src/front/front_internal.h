/* front_internal.h — what the front end's files share: the front itself,
 * protobuf helpers, waits, events.  Not for use outside src/front/. */
#ifndef WR_FRONT_INTERNAL_H
#define WR_FRONT_INTERNAL_H

#include <protobuf-c/protobuf-c.h>
#include <stdint.h>

#include "core/engine.h"
#include "front/front.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "ttrpc/server.h"

struct wr_events;
struct wr_waiter;

struct wr_listener {
	struct wr_front *front;
	char backend[32];
	struct wr_ttrpc_server *server;
	struct wr_listener *next;
};

struct wr_front {
	struct ev_loop *loop;
	struct wr_engine *engine;
	struct wr_listener *listeners;
	struct wr_events *events;
	struct wr_waiter *waiters;
	ev_timer collector;   /* collect.c */
	int collecting;
};

/* ---- calls ---------------------------------------------------------------- */

/* Decode the call's payload as desc; on failure answer InvalidArgument and
 * return NULL (the call is then released). */
ProtobufCMessage *wr_front_decode(struct wr_ttrpc_call *call, const ProtobufCMessageDescriptor *desc);
/* Encode and send a successful answer; m NULL → empty payload. */
void wr_front_reply(struct wr_ttrpc_call *call, const ProtobufCMessage *m);
/* wr_front_reply for an answer the front process may give again itself, from
 * its reply cache (relay/reply_cache.h), while o is unchanged.  Only for an
 * answer that is a function of the call's service, method, payload and
 * namespace, the listener's backend, constants of this core, and o's fields
 * — nothing else (no clock, no backend probe, no other object).  m is not NULL. */
void wr_front_reply_cached(struct wr_front *f, struct wr_ttrpc_call *call,
			   const ProtobufCMessage *m, const struct wr_object *o);
void wr_front_reply_code(struct wr_ttrpc_call *call, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The call's containerd namespace, "default" when none was sent. */
const char *wr_front_ns(struct wr_ttrpc_call *call);

/* A call waiting for an engine step: answered by `done` from the engine's
 * callback with the object still valid. */
struct wr_front_step;
typedef void (*wr_step_done_fn)(struct wr_front_step *s, struct wr_object *o,
				const struct wr_error *result);
struct wr_front_step {
	struct wr_front *front;
	struct wr_ttrpc_call *call;
	wr_step_done_fn done;
	int64_t t0;           /* when the call was submitted (wr_monotonic_ns), for the debug log */
};
/* Submit event for o; the step is freed after done runs. */
void wr_front_submit(struct wr_front *f, struct wr_ttrpc_call *call, struct wr_object *o,
		     int event, struct json_object *args, wr_step_done_fn done);
void wr_front_submit_create(struct wr_front *f, struct wr_ttrpc_call *call,
			    struct wr_object *tmpl, wr_step_done_fn done);
/* Answers with an empty message on success, the error otherwise. */
void wr_front_done_empty(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r);

/* nanoseconds since the epoch <-> google.protobuf.Timestamp (caller's storage) */
Google__Protobuf__Timestamp *wr_front_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns);

/* ---- services (sandbox_api.c, task_api.c) ------------------------------- */

int wr_sandbox_api_register(struct wr_listener *l, struct wr_error *err);
int wr_task_api_register(struct wr_listener *l, struct wr_error *err);
/* warren.control.v1.Control: warrenctl's ps, inspect and stats (control_api.c). */
int wr_control_api_register(struct wr_listener *l, struct wr_error *err);

/* ---- waits (waiters.c) ----------------------------------------------------- */

/* Hold call until the object (kind, ns, id) exits or is deleted; answered
 * with {exit_status, exited_at} (WaitResponse and WaitSandboxResponse share
 * that layout). */
void wr_waiters_add(struct wr_front *f, struct wr_ttrpc_call *call, int kind, const char *ns,
		    const char *id);
/* Answer every wait on o with its exit status. */
void wr_waiters_complete(struct wr_front *f, const struct wr_object *o);
void wr_waiters_free(struct wr_front *f);
/* Answer a wait at once from o's recorded exit. */
void wr_wait_reply(struct wr_ttrpc_call *call, const struct wr_object *o);

/* ---- events (events.c) ---------------------------------------------------- */

struct wr_events *wr_events_new(struct ev_loop *loop, const char *ttrpc_address);
void wr_events_free(struct wr_events *ev);
/* Queue one event: topic like "/tasks/exit", type_url like
 * "containerd.events.TaskExit"; m is packed now. */
void wr_events_publish(struct wr_events *ev, const char *ns, const char *topic,
		       const char *type_url, const ProtobufCMessage *m);

/* ---- transitions → events and waits (notify.c) ------------------------------ */

void wr_front_notify(struct wr_front *f, const struct wr_object *o, int from, int event, int to);

#endif
