/* engine.c — dispatching events through the compiled charts as journaled
 * steps, in batches that share their commits (see engine.h for the contract).
 *
 * A batch holds at most one event per object.  Its life:
 *   decide   consult the chart; reject what it forbids (nothing written)
 *   intent   one transaction: intent rows (action transitions), transition
 *            rows (action-less state changes), object rows; then commit
 *   actions  run each backend action, in order (consecutive ones of a backend
 *            with run_actions in one call, which may overlap their waits)
 *   outcome  one transaction: outcome rows, Done/Failed fired, object rows
 *   answer   callbacks, transition notifications, terminal objects freed
 * Invariant: an object's in-memory state equals its row in the store except
 * between a successful intent commit and the outcome commit of the same batch,
 * or after an outcome commit failed (then the object is "unresolved": its
 * durable state is the transient one, and the next flush resolves it the way
 * recovery would). */
#include "core/engine.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/crashpoint.h"
#include "core/engine_internal.h"
#include "core/objtable.h"
#include "core/stats.h"

enum op_class { OP_REJECTED, OP_NOOP, OP_TRANSITION, OP_ACTION };

/* Fields a batch may change, kept to undo a failed intent commit. */
struct saved {
	int state, pid, exit_status;
	int64_t exited_at, updated_at;
	char *reason, *bstate;
};

struct op {
	struct op *next;
	enum wr_kind kind;
	char *ns, *id;
	struct wr_object *tmpl;   /* create: the new object until it is inserted */
	int event;
	struct json_object *args;
	wr_done_cb cb;
	void *cb_ctx;
	/* filled while the batch runs */
	enum op_class cls;
	struct wr_object *o;
	int from, action, mid;    /* mid: state after the intent */
	bool inserted;
	struct saved saved;
	struct wr_error result;
};

static void op_free(struct op *op)
{
	free(op->ns);
	free(op->id);
	if (op->args)
		json_object_put(op->args);
	free(op->saved.reason);
	free(op->saved.bstate);
	free(op);
}

static void enqueue(struct wr_engine *e, struct op *op)
{
	op->next = NULL;
	if (e->q_tail)
		e->q_tail->next = op;
	else
		e->q_head = op;
	e->q_tail = op;
}

static struct op *op_new(enum wr_kind kind, const char *ns, const char *id, int event,
			 struct json_object *args, wr_done_cb cb, void *ctx)
{
	struct op *op = calloc(1, sizeof *op);
	if (!op)
		return NULL;
	op->kind = kind;
	op->ns = strdup(ns);
	op->id = strdup(id);
	op->event = event;
	op->args = args ? json_object_get(args) : NULL;
	op->cb = cb;
	op->cb_ctx = ctx;
	if (!op->ns || !op->id) {
		op_free(op);
		return NULL;
	}
	return op;
}

void wr_engine_submit(struct wr_engine *e, struct wr_object *o, int event,
		      struct json_object *args, wr_done_cb cb, void *ctx)
{
	struct op *op = op_new(o->kind, o->ns, o->id, event, args, cb, ctx);
	if (!op) {
		struct wr_error err;
		wr_error_set(&err, WR_RESOURCE_EXHAUSTED, "out of memory queueing an event");
		if (cb)
			cb(ctx, o, &err);
		return;
	}
	enqueue(e, op);
}

void wr_engine_submit_create(struct wr_engine *e, struct wr_object *tmpl,
			     struct json_object *args, wr_done_cb cb, void *ctx)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(tmpl->kind);
	int create = wr_lc_event_by_name(lc, "Create");
	struct op *op = op_new(tmpl->kind, tmpl->ns, tmpl->id, create, args, cb, ctx);
	if (!op) {
		struct wr_error err;
		wr_error_set(&err, WR_RESOURCE_EXHAUSTED, "out of memory queueing a create");
		if (cb)
			cb(ctx, tmpl, &err);
		wr_object_free(tmpl);
		return;
	}
	op->tmpl = tmpl;
	enqueue(e, op);
}

bool wr_engine_pending(const struct wr_engine *e)
{
	return e->q_head != NULL || e->unresolved;
}

bool wr_engine_allows(const struct wr_object *o, int event)
{
	int act, to;
	return wr_lc_step(wr_lifecycle_of(o->kind), o->state, event, &act, &to) == 0;
}

/* ---- decide ---------------------------------------------------------------- */

static void decide(struct wr_engine *e, struct op *op)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(op->kind);
	const char *kind = wr_kind_name(op->kind);
	op->cls = OP_REJECTED;
	if (op->tmpl) {
		if (wr_objtable_find(e->objects, op->kind, op->ns, op->id)) {
			wr_error_set(&op->result, WR_ALREADY_EXISTS, "%s %s already exists", kind, op->id);
			return;
		}
		if (!wr_engine_backend(e, op->tmpl->backend)) {
			wr_error_set(&op->result, WR_INVALID_ARGUMENT, "%s %s: unknown backend '%s'",
				     kind, op->id, op->tmpl->backend);
			return;
		}
		op->o = op->tmpl;
		op->o->state = lc->initial;
	} else {
		op->o = wr_objtable_find(e->objects, op->kind, op->ns, op->id);
		if (!op->o) {
			wr_error_set(&op->result, WR_NOT_FOUND, "%s %s not found", kind, op->id);
			return;
		}
	}
	struct wr_object *o = op->o;
	int to;
	if (wr_lc_step(lc, o->state, op->event, &op->action, &to) < 0) {
		wr_error_set(&op->result, WR_FAILED_PRECONDITION,
			     "%s %s is %s: %s is not allowed in that state", kind, o->id,
			     lc->state_names[o->state],
			     op->event > 0 && op->event < lc->n_events ? lc->event_names[op->event] : "?");
		return;
	}
	op->from = o->state;
	op->mid = to;
	if (op->action != WR_LC_NO_ACTION) {
		if (!wr_engine_backend(e, o->backend)) {
			wr_error_set(&op->result, WR_FAILED_PRECONDITION,
				     "%s %s: its backend '%s' is not loaded", kind, o->id, o->backend);
			return;
		}
		op->cls = OP_ACTION;
	} else {
		op->cls = to == o->state ? OP_NOOP : OP_TRANSITION;
	}
}

/* ---- helpers shared with recovery ---------------------------------------------- */

static const char *args_text(struct json_object *args)
{
	return args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "{}";
}

/* Apply the well-known argument fields to the object: exit_status, exited_at,
 * pid, reason.  The engine interprets nothing else. */
static void apply_args(struct wr_object *o, struct json_object *args)
{
	struct json_object *v;
	if (!args)
		return;
	if (json_object_object_get_ex(args, "exit_status", &v))
		o->exit_status = json_object_get_int(v);
	if (json_object_object_get_ex(args, "exited_at", &v))
		o->exited_at = json_object_get_int64(v);
	if (json_object_object_get_ex(args, "pid", &v))
		o->pid = json_object_get_int(v);
	if (json_object_object_get_ex(args, "reason", &v))
		wr_object_set(&o->reason, json_object_get_string(v));
}

/* Persist the object's row, or remove it when it reached a terminal state. */
int wr_engine_persist(struct wr_engine *e, struct wr_object *o, struct wr_error *err)
{
	wr_objgen_touch(e->cfg.gens, o);   /* before any answer that shows the change */
	o->updated_at = wr_now_ns();
	if (wr_lifecycle_of(o->kind)->terminal[o->state])
		return wr_store_remove_object(e->store, o->kind, o->ns, o->id, err);
	return wr_store_put_object(e->store, o, err);
}

int wr_engine_journal(struct wr_engine *e, struct wr_object *o, enum wr_phase phase, int from,
		      int event, int action, int to, const struct wr_error *res,
		      struct json_object *args, struct wr_error *err)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	struct wr_journal_row row = {
		.kind = o->kind,
		.ns = o->ns,
		.id = o->id,
		.phase = phase,
		.from = lc->state_names[from],
		.event = lc->event_names[event],
		.action = action == WR_LC_NO_ACTION ? "" : lc->action_names[action],
		.to = lc->state_names[to],
		.code = res ? res->code : WR_OK,
		.message = res && res->code ? res->msg : "",
		.args = args_text(args),
	};
	return wr_store_append(e->store, &row, err);
}

int wr_engine_run_action(struct wr_engine *e, struct wr_object *o, int action,
			 struct json_object *args, struct wr_error *res)
{
	struct wr_backend *b = wr_engine_backend(e, o->backend);
	wr_error_clear(res);
	if (!b)
		return wr_error_set(res, WR_FAILED_PRECONDITION, "backend '%s' is not loaded",
				    o->backend);
	int64_t began = wr_monotonic_ns();
	int rc = wr_backend_run(b, o, action, args, res);
	wr_stats_action(began, 1);
	return rc;
}

/* The state after the outcome of an action that left the object in `mid`:
 * the chart's Done/Failed target from a transient state; unchanged for a
 * self-loop action. */
int wr_engine_outcome_state(const struct wr_object *o, int mid, bool ok)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	int act, to;
	if (!lc->transient[mid])
		return mid;
	if (wr_lc_step(lc, mid, ok ? lc->ev_done : lc->ev_failed, &act, &to) < 0)
		return mid; /* the generator guarantees both exist */
	return to;
}

/* Journal the outcome of the action an object's intent started, and move it. */
int wr_engine_write_outcome(struct wr_engine *e, struct wr_object *o, int mid,
			    const struct wr_error *res, struct wr_error *err)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	bool ok = res->code == WR_OK;
	int to = wr_engine_outcome_state(o, mid, ok);
	int ev = ok ? lc->ev_done : lc->ev_failed;
	if (wr_engine_journal(e, o, WR_PHASE_OUTCOME, mid, ev, WR_LC_NO_ACTION, to, res, NULL, err))
		return -1;
	o->state = to;
	if (!ok && to != mid)
		wr_object_set(&o->reason, res->msg);
	return wr_engine_persist(e, o, err);
}

/* ---- one batch ------------------------------------------------------------ */

static void save(struct op *op)
{
	struct wr_object *o = op->o;
	op->saved.state = o->state;
	op->saved.pid = o->pid;
	op->saved.exit_status = o->exit_status;
	op->saved.exited_at = o->exited_at;
	op->saved.updated_at = o->updated_at;
	op->saved.reason = strdup(o->reason);
	op->saved.bstate = strdup(o->bstate);
}

static void restore(struct wr_engine *e, struct op *op)
{
	struct wr_object *o = op->o;
	wr_objgen_touch(e->cfg.gens, o);
	o->state = op->saved.state;
	o->pid = op->saved.pid;
	o->exit_status = op->saved.exit_status;
	o->exited_at = op->saved.exited_at;
	o->updated_at = op->saved.updated_at;
	if (op->saved.reason)
		wr_object_set(&o->reason, op->saved.reason);
	if (op->saved.bstate)
		wr_object_set(&o->bstate, op->saved.bstate);
}

static int write_intent(struct wr_engine *e, struct op *op, struct wr_error *err)
{
	struct wr_object *o = op->o;
	save(op);
	if (op->tmpl) {
		o->created_at = wr_now_ns();
		if (wr_objtable_insert(e->objects, o) < 0)
			return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "cannot index %s %s",
					    wr_kind_name(o->kind), o->id);
		op->inserted = true;
	}
	enum wr_phase phase = op->cls == OP_ACTION ? WR_PHASE_INTENT : WR_PHASE_TRANSITION;
	if (wr_engine_journal(e, o, phase, op->from, op->event, op->action, op->mid, NULL, op->args,
			      err))
		return -1;
	o->state = op->mid;
	if (op->cls == OP_TRANSITION)
		apply_args(o, op->args);
	return wr_engine_persist(e, o, err);
}

static void undo_intents(struct wr_engine *e, struct op *batch, const struct wr_error *err)
{
	for (struct op *op = batch; op; op = op->next) {
		if (op->cls != OP_ACTION && op->cls != OP_TRANSITION)
			continue;
		if (op->saved.reason || op->saved.bstate)
			restore(e, op);
		if (op->inserted) {
			wr_objtable_remove(e->objects, op->o);
			op->inserted = false;
		}
		op->result = *err;
		op->cls = OP_REJECTED;
	}
}

/* The transaction writing the batch's intents failed: nothing of it is
 * durable, and nothing of the world changed (no action with effects ran). */
static void intents_failed(struct wr_engine *e, struct op *batch, struct wr_error *err)
{
	wr_store_rollback(e->store);
	wr_error_wrap(err, "journal write failed, nothing changed");
	undo_intents(e, batch, err);
}

static void finish(struct wr_engine *e, struct op *op)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(op->kind);
	struct wr_object *o = op->o ? op->o : op->tmpl;
	bool moved = op->cls == OP_ACTION || op->cls == OP_TRANSITION;
	if (moved && e->cfg.on_transition)
		e->cfg.on_transition(e->cfg.on_transition_ctx, o, op->from, op->event, o->state);
	if (op->cb)
		op->cb(op->cb_ctx, o, &op->result);
	if (op->tmpl && !op->inserted) {
		wr_object_free(op->tmpl);         /* a create that never happened */
	} else if (moved && lc->terminal[o->state]) {
		struct wr_backend *b = wr_engine_backend(e, o->backend);
		if (b && b->ops->release)
			b->ops->release(b, o);
		wr_objtable_remove(e->objects, o);
		wr_object_free(o);
	}
	op_free(op);
}

/* The batch's actions, in order.  Consecutive ones of a backend that runs
 * batches (run_actions) go to it together; the rest one by one. */
static void run_actions(struct wr_engine *e, struct op *batch)
{
	struct op *op = batch;
	while (op) {
		if (op->cls != OP_ACTION) {
			op = op->next;
			continue;
		}
		struct wr_backend *b = wr_engine_backend(e, op->o->backend);
		size_t n = 0;
		struct op *end = op;
		if (b && b->ops->run_actions)
			for (; end && (end->cls != OP_ACTION ||
				       wr_engine_backend(e, end->o->backend) == b); end = end->next)
				n += end->cls == OP_ACTION;
		struct wr_action_item *items = n > 1 ? calloc(n, sizeof *items) : NULL;
		if (!items) {   /* one action, or no memory for the list: alone */
			wr_engine_run_action(e, op->o, op->action, op->args, &op->result);
			op = op->next;
			continue;
		}
		size_t i = 0;
		for (struct op *x = op; x != end; x = x->next) {
			if (x->cls != OP_ACTION)
				continue;
			wr_error_clear(&x->result);
			items[i++] = (struct wr_action_item){ x->o, x->action, x->args, &x->result };
		}
		int64_t began = wr_monotonic_ns();
		b->ops->run_actions(b, items, n);
		wr_stats_action(began, (unsigned)n);
		free(items);
		op = end;
	}
}

/* Whether every action of the batch (and there is one) only checks. */
static bool checks_only(struct wr_engine *e, const struct op *batch)
{
	bool any = false;
	for (const struct op *op = batch; op; op = op->next) {
		if (op->cls != OP_ACTION)
			continue;
		struct wr_backend *b = wr_engine_backend(e, op->o->backend);
		if (!b || !b->ops->action_checks_only ||
		    !b->ops->action_checks_only(b, op->kind, op->action))
			return false;
		any = true;
	}
	return any;
}

/* A batch whose actions only check (backend.h, action_checks_only): they run
 * first, then intents and outcomes go into one transaction.  Nothing of the
 * world changed before the commit, so a crash or a failed journal write
 * before it leaves every object as it was. */
static void run_checks_first(struct wr_engine *e, struct op *batch)
{
	struct wr_error err;
	wr_crashpoint(WR_CRASH_BEFORE_INTENT);
	run_actions(e, batch);
	int rc = wr_store_begin(e->store, &err);
	for (struct op *op = batch; rc == 0 && op; op = op->next) {
		if (op->cls == OP_ACTION || op->cls == OP_TRANSITION)
			rc = write_intent(e, op, &err);
		if (rc == 0 && op->cls == OP_ACTION)
			rc = wr_engine_write_outcome(e, op->o, op->mid, &op->result, &err);
	}
	if (rc == 0)
		rc = wr_store_commit(e->store, &err);
	if (rc < 0)
		intents_failed(e, batch, &err);
	else
		wr_crashpoint(WR_CRASH_AFTER_OUTCOME);
}

static void run_batch(struct wr_engine *e, struct op *batch)
{
	struct wr_error err;
	bool journaled = false, actions = false;

	for (struct op *op = batch; op; op = op->next) {
		decide(e, op);
		journaled |= op->cls == OP_ACTION || op->cls == OP_TRANSITION;
		actions |= op->cls == OP_ACTION;
	}
	if (actions && checks_only(e, batch)) {
		run_checks_first(e, batch);
		journaled = actions = false;
	}
	if (journaled) {
		wr_crashpoint(WR_CRASH_BEFORE_INTENT);
		int rc = wr_store_begin(e->store, &err);
		for (struct op *op = batch; rc == 0 && op; op = op->next)
			if (op->cls == OP_ACTION || op->cls == OP_TRANSITION)
				rc = write_intent(e, op, &err);
		if (rc == 0)
			rc = wr_store_commit(e->store, &err);
		if (rc < 0) {
			intents_failed(e, batch, &err);
			actions = false;
		} else {
			wr_crashpoint(WR_CRASH_AFTER_INTENT);
		}
	}
	if (actions) {
		run_actions(e, batch);
		wr_crashpoint(WR_CRASH_AFTER_ACTION);
		int rc = wr_store_begin(e->store, &err);
		for (struct op *op = batch; rc == 0 && op; op = op->next)
			if (op->cls == OP_ACTION)
				rc = wr_engine_write_outcome(e, op->o, op->mid, &op->result, &err);
		if (rc == 0)
			rc = wr_store_commit(e->store, &err);
		if (rc < 0) {
			/* The actions ran but their outcome is not durable: the
			 * objects stay in their intent's state, durably and in
			 * memory, and the next flush resolves them by probing. */
			wr_store_rollback(e->store);
			wr_error_wrap(&err, "journal write failed after the action ran; "
					    "the step will be resolved by probing");
			for (struct op *op = batch; op; op = op->next) {
				if (op->cls != OP_ACTION)
					continue;
				op->o->state = op->mid;
				op->result = err;
				op->cls = OP_NOOP;  /* no state change to announce */
			}
			e->unresolved = true;
		} else {
			wr_crashpoint(WR_CRASH_AFTER_OUTCOME);
		}
	}
	for (struct op *op = batch, *next; op; op = next) {
		next = op->next;
		finish(e, op);
	}
}

static bool in_batch(const struct op *batch, const struct op *op)
{
	for (; batch; batch = batch->next)
		if (batch->kind == op->kind && strcmp(batch->id, op->id) == 0 &&
		    strcmp(batch->ns, op->ns) == 0)
			return true;
	return false;
}

int wr_engine_flush(struct wr_engine *e)
{
	int handled = 0;
	if (e->flushing)
		return 0;
	e->flushing = true;
	if (e->unresolved) {
		e->unresolved = false;
		wr_engine_resolve_pending(e);
	}
	while (e->q_head) {
		/* Take at most one op per object; the rest wait for the next round. */
		struct op *batch = NULL, *btail = NULL, **pp = &e->q_head;
		e->q_tail = NULL;
		for (struct op *op = e->q_head, *next; op; op = next) {
			next = op->next;
			if (in_batch(batch, op)) {
				*pp = op;
				pp = &op->next;
				e->q_tail = op;
				continue;
			}
			op->next = NULL;
			if (btail)
				btail->next = op;
			else
				batch = op;
			btail = op;
			handled++;
		}
		*pp = NULL;
		run_batch(e, batch);
	}
	e->flushing = false;
	return handled;
}

/* ---- synchronous forms ------------------------------------------------------ */

struct sync_result {
	struct wr_error err;
	struct wr_object *o;
};

static void sync_done(void *ctx, struct wr_object *o, const struct wr_error *result)
{
	struct sync_result *r = ctx;
	r->err = *result;
	r->o = o;
}

int wr_dispatch(struct wr_engine *e, struct wr_object *o, int event, struct json_object *args,
		struct wr_error *err)
{
	struct sync_result r = { .err = { .code = WR_UNKNOWN } };
	wr_engine_submit(e, o, event, args, sync_done, &r);
	wr_engine_flush(e);
	if (r.err.code != WR_OK) {
		if (err)
			*err = r.err;
		return -1;
	}
	return 0;
}

int wr_create(struct wr_engine *e, struct wr_object *tmpl, struct json_object *args,
	      struct wr_object **out, struct wr_error *err)
{
	struct sync_result r = { .err = { .code = WR_UNKNOWN } };
	enum wr_kind kind = tmpl->kind;
	char *ns = strdup(tmpl->ns), *id = strdup(tmpl->id);
	wr_engine_submit_create(e, tmpl, args, sync_done, &r);
	wr_engine_flush(e);
	if (out)
		*out = ns && id ? wr_objtable_find(e->objects, kind, ns, id) : NULL;
	free(ns);
	free(id);
	if (r.err.code != WR_OK) {
		if (err)
			*err = r.err;
		return -1;
	}
	return 0;
}

/* ---- lookups ------------------------------------------------------------------ */

struct wr_object *wr_engine_find(struct wr_engine *e, enum wr_kind kind, const char *ns,
				 const char *id)
{
	return wr_objtable_find(e->objects, kind, ns, id);
}

void wr_engine_foreach(struct wr_engine *e, void (*fn)(void *ctx, struct wr_object *o), void *ctx)
{
	wr_objtable_foreach(e->objects, fn, ctx);
}

struct wr_backend *wr_engine_backend(struct wr_engine *e, const char *name)
{
	for (size_t i = 0; i < e->cfg.n_backends; i++)
		if (name && strcmp(e->cfg.backends[i]->ops->name, name) == 0)
			return e->cfg.backends[i];
	return NULL;
}

struct wr_objgen *wr_engine_gens(const struct wr_engine *e)
{
	return e->cfg.gens;
}

struct wr_store *wr_engine_store(struct wr_engine *e)
{
	return e->store;
}

const struct wr_recovery_report *wr_engine_recovery(const struct wr_engine *e)
{
	return &e->report;
}

int wr_engine_adopt(struct wr_engine *e, struct wr_object *o, struct wr_error *err)
{
	if (wr_objtable_find(e->objects, o->kind, o->ns, o->id)) {
		wr_object_free(o);
		return wr_error_set(err, WR_ALREADY_EXISTS, "%s %s already exists",
				    wr_kind_name(o->kind), o->id);
	}
	if (wr_store_begin(e->store, err) || wr_engine_persist(e, o, err) ||
	    wr_store_commit(e->store, err)) {
		wr_store_rollback(e->store);
		wr_object_free(o);
		return -1;
	}
	if (wr_objtable_insert(e->objects, o) < 0) {
		wr_object_free(o);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "cannot index object");
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------------- */

static int load_one(void *ctx, struct wr_object *o)
{
	struct wr_engine *e = ctx;
	if (wr_objtable_insert(e->objects, o) < 0) {
		wr_object_free(o);
		return -1;
	}
	return 0;
}

int wr_engine_open(struct wr_engine **out, const struct wr_engine_config *cfg,
		   struct wr_error *err)
{
	struct wr_engine *e = calloc(1, sizeof *e);
	if (!e)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	e->cfg = *cfg;
	e->objects = wr_objtable_new();
	if (!e->objects) {
		free(e);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	}
	wr_objtable_set_gens(e->objects, cfg->gens);
	wr_crashpoint_init();
	if (wr_store_open(&e->store, cfg->db_path, err) < 0)
		goto fail;
	if (wr_store_load_objects(e->store, load_one, e, err) != 0) {
		if (err && err->code == WR_OK)
			wr_error_set(err, WR_RESOURCE_EXHAUSTED, "cannot index objects");
		goto fail;
	}
	e->report.examined = (int)wr_objtable_count(e->objects);
	if (cfg->on_open)
		cfg->on_open(cfg->on_transition_ctx, e);
	if (!cfg->skip_recovery && wr_engine_recover(e, err) < 0)
		goto fail;
	*out = e;
	return 0;
fail:
	wr_engine_close(e);
	return -1;
}

void wr_engine_close(struct wr_engine *e)
{
	if (!e)
		return;
	for (struct op *op = e->q_head, *next; op; op = next) {
		next = op->next;
		if (op->tmpl)
			wr_object_free(op->tmpl);
		op_free(op);
	}
	wr_objtable_free(e->objects);
	wr_store_close(e->store);
	free(e);
}
