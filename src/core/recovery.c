/* recovery.c — bringing every live object back to a stable, true state after
 * the engine died at any instant.
 *
 * Two passes, in creation order (sandboxes before their tasks):
 *
 *  1. Pending steps.  An object whose newest journal row is an intent died
 *     between intent and outcome.  Ask the backend's probe whether the
 *     action's effect happened; if it did, roll forward (Done).  If it did not
 *     (or the probe cannot tell), re-run the action — actions are idempotent,
 *     so a half-done one converges — and fire Done or Failed by its result,
 *     which rolls forward or back as the chart says.
 *  2. World.  For every object in a stable state, ask the backend what is
 *     really there: resources gone (host reboot) → Lost, recorded with a
 *     reason, never dropped silently; a process that exited while we were
 *     down → Exit with its real status: the one its reaper recorded
 *     (cfg.exit_of) when there is one, else what the backend can tell.
 *
 * Crash points are off while recovering: a crash here is recovered the same
 * way at the next start, because nothing is assumed that was not journaled. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crashpoint.h"
#include "core/engine_internal.h"
#include "core/objtable.h"

struct pending {
	bool found;
	enum wr_phase phase;
	char from[64], action[64], to[64];
	char *args;
};

static int grab(void *ctx, const struct wr_journal_row *row)
{
	struct pending *p = ctx;
	p->found = true;
	p->phase = row->phase;
	snprintf(p->from, sizeof p->from, "%s", row->from);
	snprintf(p->action, sizeof p->action, "%s", row->action);
	snprintf(p->to, sizeof p->to, "%s", row->to);
	free(p->args);
	p->args = strdup(row->args ? row->args : "");
	return 0;
}

static void resolve_one(void *ctx, struct wr_object *o)
{
	struct wr_engine *e = ctx;
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	struct pending p = { 0 };
	struct wr_error err, res;

	struct wr_backend *b = wr_engine_backend(e, o->backend);
	if (!b)
		return;  /* left pending until a warren with its backend starts */
	if (wr_store_last_row(e->store, o->kind, o->ns, o->id, grab, &p, &err) <= 0 ||
	    p.phase != WR_PHASE_INTENT) {
		free(p.args);
		return;
	}
	int action = wr_lc_action_by_name(lc, p.action);
	int from = wr_lc_state_by_name(lc, p.from);
	int mid = o->state;
	struct json_object *args = p.args && *p.args ? json_tokener_parse(p.args) : NULL;
	free(p.args);
	if (action < 0 || from < 0) {
		fprintf(stderr, "warren: recovery: %s %s: journal names unknown action '%s' or "
			"state '%s'; left as it is\n", wr_kind_name(o->kind), o->id, p.action, p.from);
		json_object_put(args);
		return;
	}

	int probed = 0;
	wr_error_clear(&res);
	if (b->ops->probe) {
		probed = b->ops->probe(b, o, action, args, &err);
		if (probed < 0)
			fprintf(stderr, "warren: recovery: %s %s: probe of %s failed (%s); re-running it\n",
				wr_kind_name(o->kind), o->id, p.action, err.msg);
	}
	if (probed != 1)
		wr_engine_run_action(e, o, action, args, &res);
	json_object_put(args);

	if (wr_store_begin(e->store, &err) || wr_engine_write_outcome(e, o, mid, &res, &err) ||
	    wr_store_commit(e->store, &err)) {
		wr_store_rollback(e->store);
		o->state = mid;
		e->unresolved = true;
		fprintf(stderr, "warren: recovery: %s %s: %s\n", wr_kind_name(o->kind), o->id, err.msg);
		return;
	}
	if (res.code == WR_OK)
		e->report.rolled_forward++;
	else
		e->report.failed++;
	if (e->cfg.on_transition)
		e->cfg.on_transition(e->cfg.on_transition_ctx, o, from,
				     wr_lc_event_by_name(lc, "Done"), o->state);
	if (lc->terminal[o->state]) {
		if (b->ops->release)
			b->ops->release(b, o);
		wr_objtable_remove(e->objects, o);
		wr_object_free(o);
	}
}

int wr_engine_resolve_pending(struct wr_engine *e)
{
	wr_engine_foreach(e, resolve_one, e);
	return 0;
}

/* ---- pass 2: what the world says ------------------------------------------- */

struct world_event {
	enum wr_kind kind;
	char *ns, *id;
	int event;
	struct json_object *args;
};

struct world {
	struct wr_engine *e;
	struct world_event *v;
	size_t n, cap;
};

/* A task's or exec's process is gone: if whoever reaped it told us how it
 * ended (cfg.exit_of), that is the truth, whatever the backend could guess. */
static void reaped_exit(struct wr_engine *e, const struct wr_object *o, struct wr_observation *obs)
{
	int status;
	int64_t at = 0;
	if (!e->cfg.exit_of || o->kind == WR_KIND_SANDBOX || o->pid <= 0 ||
	    e->cfg.exit_of(e->cfg.exit_of_ctx, o->pid, &status, &at) != 1)
		return;
	obs->exited = 1;
	obs->exit_status = status;
	obs->exited_at = at;
}

static void observe_one(void *ctx, struct wr_object *o)
{
	struct world *w = ctx;
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	struct wr_backend *b = wr_engine_backend(w->e, o->backend);
	struct wr_observation obs = { .exists = 1 };
	struct wr_error err;
	int ev = -1;
	struct json_object *args = NULL;

	if (lc->transient[o->state] || lc->terminal[o->state])
		return;
	if (!b) {
		/* Not ours to judge: leave it exactly as journaled until a warren
		 * with that backend starts. */
		fprintf(stderr, "warren: recovery: %s %s: backend '%s' is not loaded; left as %s\n",
			wr_kind_name(o->kind), o->id, o->backend, lc->state_names[o->state]);
		return;
	}
	if (b->ops->observe && b->ops->observe(b, o, &obs, &err) < 0) {
		fprintf(stderr, "warren: recovery: cannot observe %s %s: %s\n",
			wr_kind_name(o->kind), o->id, err.msg);
		return;
	}
	if (!obs.exists || obs.exited)
		reaped_exit(w->e, o, &obs);
	if (!obs.exists && wr_engine_allows(o, wr_lc_event_by_name(lc, "Lost"))) {
		ev = wr_lc_event_by_name(lc, "Lost");
		args = json_object_new_object();
		json_object_object_add(args, "reason", json_object_new_string(
			"its resources vanished while warren was down (host reboot?)"));
		json_object_object_add(args, "exit_status",
				       json_object_new_int(obs.exited ? obs.exit_status : 255));
		w->e->report.lost++;
	} else if (obs.exited && wr_engine_allows(o, wr_lc_event_by_name(lc, "Exit"))) {
		ev = wr_lc_event_by_name(lc, "Exit");
		args = json_object_new_object();
		json_object_object_add(args, "exit_status", json_object_new_int(obs.exit_status));
		json_object_object_add(args, "exited_at", json_object_new_int64(
			obs.exited_at ? obs.exited_at : wr_now_ns()));
		w->e->report.exited++;
	}
	if (ev < 0)
		return;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct world_event *v = realloc(w->v, cap * sizeof *v);
		if (!v) {
			json_object_put(args);
			return;
		}
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = (struct world_event){ o->kind, strdup(o->ns), strdup(o->id), ev, args };
}

int wr_engine_recover(struct wr_engine *e, struct wr_error *err)
{
	(void)err;
	wr_crashpoint_enable(0);
	wr_engine_resolve_pending(e);
	struct world w = { .e = e };
	wr_engine_foreach(e, observe_one, &w);
	for (size_t i = 0; i < w.n; i++) {
		struct world_event *we = &w.v[i];
		struct wr_object *o = we->ns && we->id ? wr_engine_find(e, we->kind, we->ns, we->id) : NULL;
		struct wr_error derr;
		if (o && wr_dispatch(e, o, we->event, we->args, &derr) < 0)
			fprintf(stderr, "warren: recovery: %s %s: %s\n", wr_kind_name(we->kind),
				we->id, derr.msg);
		json_object_put(we->args);
		free(we->ns);
		free(we->id);
	}
	free(w.v);
	wr_crashpoint_enable(1);
	return 0;
}
