/* backend.c — mapping a chart's action names onto a backend's functions. */
#include "core/backend.h"

#include <stdlib.h>
#include <string.h>

#include "core/lifecycle.h"

struct action_slot {
	enum wr_kind kind;
	const char *action;
	size_t offset; /* of the wr_action_fn in struct wr_backend_ops */
};

#define SLOT(k, a, field) { k, a, offsetof(struct wr_backend_ops, field) }

/* Every action named in a spec/ chart must appear here; the model tests check
 * that each chart action resolves for the fake backend. */
static const struct action_slot slots[] = {
	SLOT(WR_KIND_SANDBOX, "create", sandbox_create),
	SLOT(WR_KIND_SANDBOX, "start", sandbox_start),
	SLOT(WR_KIND_SANDBOX, "stop", sandbox_stop),
	SLOT(WR_KIND_SANDBOX, "delete", sandbox_delete),
	SLOT(WR_KIND_TASK, "create", task_create),
	SLOT(WR_KIND_TASK, "start", task_start),
	SLOT(WR_KIND_TASK, "kill", task_kill),
	SLOT(WR_KIND_TASK, "pause", task_pause),
	SLOT(WR_KIND_TASK, "resume", task_resume),
	SLOT(WR_KIND_TASK, "update", task_update),
	SLOT(WR_KIND_TASK, "delete", task_delete),
	SLOT(WR_KIND_EXEC, "create", exec_create),
	SLOT(WR_KIND_EXEC, "start", exec_start),
	SLOT(WR_KIND_EXEC, "kill", exec_kill),
	SLOT(WR_KIND_EXEC, "delete", exec_delete),
};

wr_action_fn wr_backend_action(const struct wr_backend *b, enum wr_kind kind, const char *action)
{
	for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
		if (slots[i].kind == kind && strcmp(slots[i].action, action) == 0) {
			wr_action_fn fn;
			memcpy(&fn, (const char *)b->ops + slots[i].offset, sizeof fn);
			return fn;
		}
	}
	return NULL;
}

int wr_backend_run(struct wr_backend *b, struct wr_object *o, int action,
		   struct json_object *args, struct wr_error *res)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	wr_error_clear(res);
	wr_action_fn fn = wr_backend_action(b, o->kind, lc->action_names[action]);
	if (!fn)
		return wr_error_set(res, WR_UNIMPLEMENTED, "backend %s cannot %s a %s", o->backend,
				    lc->action_names[action], wr_kind_name(o->kind));
	return wr_backend_settle(fn(b, o, args, res), res);
}

int wr_backend_settle(int rc, struct wr_error *res)
{
	if (rc < 0) {
		if (res->code == WR_OK)
			res->code = WR_UNKNOWN;
		return -1;
	}
	wr_error_clear(res);
	return 0;
}

void wr_blob_free(struct wr_blob *b)
{
	if (!b)
		return;
	free(b->type_url);
	free(b->data);
	b->type_url = NULL;
	b->data = NULL;
	b->len = 0;
}
