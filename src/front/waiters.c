/* waiters.c — Wait and WaitSandbox calls held until their object exits.
 *
 * containerd keeps these open for the life of a container or pod, on the
 * same connection as its other calls.  A wait is a list entry holding the
 * call; it leaves the list when the object exits or is deleted (answered with
 * the exit status) or when the call dies (connection closed, deadline). */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>

#include "containerd/task/v3/shim.pb-c.h"
#include "core/log.h"
#include "google/protobuf/timestamp.pb-c.h"

struct wr_waiter {
	struct wr_front *front;
	struct wr_ttrpc_call *call;
	int kind;
	char *ns;
	char *id;
	struct wr_waiter **prev, *next;
};

static void unlink_waiter(struct wr_waiter *w)
{
	*w->prev = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w->ns);
	free(w->id);
	free(w);
}

static void cancelled(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_waiter *w = ctx;
	wr_ttrpc_reply(call, WR_CANCELLED, "wait cancelled", NULL, 0);
	unlink_waiter(w);
}

void wr_waiters_add(struct wr_front *f, struct wr_ttrpc_call *call, int kind, const char *ns,
		    const char *id)
{
	struct wr_waiter *w = calloc(1, sizeof *w);
	if (!w || !(w->ns = strdup(ns)) || !(w->id = strdup(id))) {
		if (w) {
			free(w->ns);
			free(w);
		}
		wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	w->front = f;
	w->call = call;
	w->kind = kind;
	w->next = f->waiters;
	w->prev = &f->waiters;
	if (f->waiters)
		f->waiters->prev = &w->next;
	f->waiters = w;
	wr_ttrpc_call_set_cancel(call, cancelled, w);
}

void wr_wait_reply(struct wr_ttrpc_call *call, const struct wr_object *o)
{
	/* WaitResponse{exit_status=1, exited_at=2} has the same layout as
	 * WaitSandboxResponse, so one encoder serves both. */
	Containerd__Task__V3__WaitResponse r = CONTAINERD__TASK__V3__WAIT_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	r.exit_status = (uint32_t)o->exit_status;
	if (o->exited_at)
		r.exited_at = wr_front_timestamp(&ts, o->exited_at);
	wr_front_reply(call, &r.base);
}

void wr_waiters_complete(struct wr_front *f, const struct wr_object *o)
{
	for (struct wr_waiter *w = f->waiters, *next; w; w = next) {
		next = w->next;
		if (w->kind != (int)o->kind || strcmp(w->id, o->id) || strcmp(w->ns, o->ns))
			continue;
		wr_ttrpc_call_set_cancel(w->call, NULL, NULL);
		wr_wait_reply(w->call, o);
		unlink_waiter(w);
	}
}

void wr_waiters_free(struct wr_front *f)
{
	while (f->waiters) {
		struct wr_waiter *w = f->waiters;
		wr_ttrpc_call_set_cancel(w->call, NULL, NULL);
		wr_ttrpc_reply(w->call, WR_UNAVAILABLE, "warrend is stopping", NULL, 0);
		unlink_waiter(w);
	}
}
