/* task_api.c — containerd.task.v3.Task (and the identical v2) over the engine.
 *
 * Every call is keyed by (namespace, id, exec_id).  A task belongs to the pod
 * sandbox named by its config.json annotation io.kubernetes.cri.sandbox-id and
 * runs in that sandbox's backend; a task with no sandbox (ctr run, nerdctl)
 * is a standalone container of the backend whose socket containerd dialled.
 * Execs are objects of their own, id "<task>/<exec>".  v2 and v3 messages are
 * wire-identical, so both services share these handlers and the v3 codecs. */
#include "front/front_internal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "containerd/runc/options/oci.pb-c.h"
#include "containerd/task/v3/shim.pb-c.h"
#include "core/log.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"

#define T(name) Containerd__Task__V3__##name
#define t_(name) containerd__task__v3__##name
#define STATUS(name) CONTAINERD__V1__TYPES__STATUS__##name

#define DECODE(type, lower, var)                                                           \
	type *var = (type *)wr_front_decode(call, &t_(lower##__descriptor));               \
	if (!var)                                                                          \
		return
#define FREE(lower, var) t_(lower##__free_unpacked)(var, NULL)

static struct wr_engine *engine(void *ctx)
{
	return ((struct wr_listener *)ctx)->front->engine;
}

/* The task (exec_id empty) or exec addressed by a call, or NULL after
 * answering NotFound. */
static struct wr_object *lookup(struct wr_ttrpc_call *call, void *ctx, const char *id,
				const char *exec_id)
{
	const char *ns = wr_front_ns(call);
	struct wr_object *o;
	if (exec_id && *exec_id) {
		char full[512];
		snprintf(full, sizeof full, "%s/%s", id, exec_id);
		o = wr_engine_find(engine(ctx), WR_KIND_EXEC, ns, full);
		if (!o)
			wr_front_reply_code(call, WR_NOT_FOUND, "exec %s of task %s: not found",
					    exec_id, id);
		return o;
	}
	o = wr_engine_find(engine(ctx), WR_KIND_TASK, ns, id);
	if (!o)
		wr_front_reply_code(call, WR_NOT_FOUND, "task %s: not found", id);
	return o;
}

static int exited(const struct wr_object *o)
{
	return o->kind == WR_KIND_EXEC ? o->state == EXEC_S_EXITED
				       : o->state == TASK_S_STOPPED;
}

/* ---- Create ----------------------------------------------------------------------- */

/* The pod sandbox a container belongs to, from its config.json; "" when
 * standalone.  A config.json that cannot be read is the caller's error. */
static int sandbox_of(const char *bundle, char *out, size_t size, struct wr_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/config.json", bundle);
	struct json_object *cfg = json_object_from_file(path);
	if (!cfg)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "%s: cannot read the OCI spec: %s",
				    path, json_util_get_last_err() ? json_util_get_last_err() : "?");
	struct json_object *ann, *sb;
	out[0] = '\0';
	if (json_object_object_get_ex(cfg, "annotations", &ann) &&
	    json_object_object_get_ex(ann, "io.kubernetes.cri.sandbox-id", &sb))
		snprintf(out, size, "%s", json_object_get_string(sb));
	json_object_put(cfg);
	return 0;
}

static void created(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r)
{
	if (r->code != WR_OK) {
		wr_ttrpc_reply_error(s->call, r);
		return;
	}
	T(CreateTaskResponse) resp = CONTAINERD__TASK__V3__CREATE_TASK_RESPONSE__INIT;
	resp.pid = (uint32_t)o->pid;
	wr_front_reply(s->call, &resp.base);
}

static struct json_object *mounts_json(Containerd__Types__Mount **m, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object(), *opts = json_object_new_array();
		json_object_object_add(e, "type", json_object_new_string(m[i]->type));
		json_object_object_add(e, "source", json_object_new_string(m[i]->source));
		json_object_object_add(e, "target", json_object_new_string(m[i]->target));
		for (size_t j = 0; j < m[i]->n_options; j++)
			json_object_array_add(opts, json_object_new_string(m[i]->options[j]));
		json_object_object_add(e, "options", opts);
		json_object_array_add(a, e);
	}
	return a;
}

static void add_stdio(struct json_object *spec, const char *in, const char *out, const char *err,
		      int terminal)
{
	json_object_object_add(spec, "stdin", json_object_new_string(in));
	json_object_object_add(spec, "stdout", json_object_new_string(out));
	json_object_object_add(spec, "stderr", json_object_new_string(err));
	json_object_object_add(spec, "terminal", json_object_new_boolean(terminal));
}

static struct wr_object *new_object(int kind, const char *ns, const char *id, const char *owner,
				    const char *backend, struct json_object *spec)
{
	struct wr_object *t = wr_object_new(kind, ns, id, owner, backend);
	if (t && wr_object_set(&t->spec, json_object_to_json_string_ext(
						 spec, JSON_C_TO_STRING_PLAIN)) < 0) {
		wr_object_free(t);
		t = NULL;
	}
	return t;
}

static void create(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(CreateTaskRequest), create_task_request, req);
	const char *ns = wr_front_ns(call);
	char sandbox[256];
	struct wr_error err;
	const char *backend = l->backend;
	if (!*req->id || !*req->bundle) {
		wr_front_reply_code(call, WR_INVALID_ARGUMENT, "Create: id and bundle are required");
		goto out;
	}
	if (*req->checkpoint) {
		wr_front_reply_code(call, WR_UNIMPLEMENTED, "Create: restore from a checkpoint");
		goto out;
	}
	if (sandbox_of(req->bundle, sandbox, sizeof sandbox, &err) < 0) {
		wr_ttrpc_reply_error(call, &err);
		goto out;
	}
	if (*sandbox) {
		struct wr_object *sb = wr_engine_find(engine(ctx), WR_KIND_SANDBOX, ns, sandbox);
		if (!sb) {
			wr_front_reply_code(call, WR_NOT_FOUND, "task %s: sandbox %s not found",
					    req->id, sandbox);
			goto out;
		}
		if (sb->state != SANDBOX_S_READY) {
			wr_front_reply_code(call, WR_FAILED_PRECONDITION,
					    "task %s: sandbox %s is %s, not ready", req->id, sandbox,
					    wr_lifecycle_of(WR_KIND_SANDBOX)->state_names[sb->state]);
			goto out;
		}
		backend = sb->backend;
	}
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(req->bundle));
	json_object_object_add(spec, "rootfs", mounts_json(req->rootfs, req->n_rootfs));
	add_stdio(spec, req->stdin, req->stdout, req->stderr, req->terminal);
	struct wr_object *t = new_object(WR_KIND_TASK, ns, req->id, sandbox, backend, spec);
	json_object_put(spec);
	if (!t) {
		wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	wr_info("Create task %s (sandbox %s, backend %s)", req->id, *sandbox ? sandbox : "none",
		backend);
	wr_front_submit_create(l->front, call, t, created);
out:
	FREE(create_task_request, req);
}

/* ---- Start ------------------------------------------------------------------------ */

static void started(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r)
{
	if (r->code != WR_OK) {
		wr_ttrpc_reply_error(s->call, r);
		return;
	}
	T(StartResponse) resp = CONTAINERD__TASK__V3__START_RESPONSE__INIT;
	resp.pid = (uint32_t)o->pid;
	wr_front_reply(s->call, &resp.base);
}

static void start(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(StartRequest), start_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o)
		wr_front_submit(l->front, call, o,
				o->kind == WR_KIND_EXEC ? EXEC_E_START : TASK_E_START, NULL, started);
	FREE(start_request, req);
}

/* ---- State ------------------------------------------------------------------------ */

static int status_of(const struct wr_object *o)
{
	if (o->kind == WR_KIND_EXEC) {
		switch (o->state) {
		case EXEC_S_RUNNING: return STATUS(RUNNING);
		case EXEC_S_EXITED: case EXEC_S_DELETING: return STATUS(STOPPED);
		default: return STATUS(CREATED);
		}
	}
	switch (o->state) {
	case TASK_S_RUNNING: case TASK_S_RESUMING: return STATUS(RUNNING);
	case TASK_S_PAUSING: return STATUS(PAUSING);
	case TASK_S_PAUSED: return STATUS(PAUSED);
	case TASK_S_STOPPED: case TASK_S_DELETING: return STATUS(STOPPED);
	default: return STATUS(CREATED);
	}
}

static void state(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(StateRequest), state_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o) {
		struct json_object *spec = json_tokener_parse(o->spec), *v;
#define S(key) (spec && json_object_object_get_ex(spec, key, &v) ? (char *)json_object_get_string(v) : "")
		T(StateResponse) resp = CONTAINERD__TASK__V3__STATE_RESPONSE__INIT;
		Google__Protobuf__Timestamp ts;
		resp.id = req->id;
		resp.exec_id = req->exec_id;
		resp.bundle = S("bundle");
		resp.pid = (uint32_t)o->pid;
		resp.status = status_of(o);
		resp.stdin = S("stdin");
		resp.stdout = S("stdout");
		resp.stderr = S("stderr");
		resp.terminal = spec && json_object_object_get_ex(spec, "terminal", &v) &&
				json_object_get_boolean(v);
		if (exited(o)) {
			resp.exit_status = (uint32_t)o->exit_status;
			resp.exited_at = wr_front_timestamp(&ts, o->exited_at);
		}
#undef S
		wr_front_reply_cached(((struct wr_listener *)ctx)->front, call, &resp.base, o);
		json_object_put(spec);
	}
	FREE(state_request, req);
}

/* ---- Delete ----------------------------------------------------------------------- */

static void deleted(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r)
{
	if (r->code != WR_OK) {
		wr_ttrpc_reply_error(s->call, r);
		return;
	}
	T(DeleteResponse) resp = CONTAINERD__TASK__V3__DELETE_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	resp.pid = (uint32_t)o->pid;
	resp.exit_status = (uint32_t)o->exit_status;
	resp.exited_at = wr_front_timestamp(&ts, o->exited_at);
	wr_front_reply(s->call, &resp.base);
}

static void delete(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(DeleteRequest), delete_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o)
		wr_front_submit(l->front, call, o,
				o->kind == WR_KIND_EXEC ? EXEC_E_DELETE : TASK_E_DELETE, NULL,
				deleted);
	FREE(delete_request, req);
}

/* ---- Pids ------------------------------------------------------------------------- */

static void pids(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(PidsRequest), pids_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, NULL);
	if (o) {
		struct wr_backend *b = wr_engine_backend(engine(ctx), o->backend);
		pid_t *list = NULL;
		size_t n = 0;
		struct wr_error err;
		if (b && b->ops->task_pids && !exited(o)) {
			if (b->ops->task_pids(b, o, &list, &n, &err) < 0) {
				wr_ttrpc_reply_error(call, &err);
				FREE(pids_request, req);
				return;
			}
		} else if (o->pid && !exited(o)) {
			list = malloc(sizeof *list);
			if (list) {
				list[0] = o->pid;
				n = 1;
			}
		}
		Containerd__V1__Types__ProcessInfo infos[n ? n : 1], *ptrs[n ? n : 1];
		for (size_t i = 0; i < n; i++) {
			containerd__v1__types__process_info__init(&infos[i]);
			infos[i].pid = (uint32_t)list[i];
			ptrs[i] = &infos[i];
		}
		T(PidsResponse) resp = CONTAINERD__TASK__V3__PIDS_RESPONSE__INIT;
		resp.n_processes = n;
		resp.processes = ptrs;
		wr_front_reply(call, &resp.base);
		free(list);
	}
	FREE(pids_request, req);
}

/* ---- Pause, Resume, Kill, Update ----------------------------------------------------- */

static void pause_task(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(PauseRequest), pause_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, NULL);
	if (o)
		wr_front_submit(l->front, call, o, TASK_E_PAUSE, NULL, wr_front_done_empty);
	FREE(pause_request, req);
}

static void resume_task(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(ResumeRequest), resume_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, NULL);
	if (o)
		wr_front_submit(l->front, call, o, TASK_E_RESUME, NULL, wr_front_done_empty);
	FREE(resume_request, req);
}

static void kill_task(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(KillRequest), kill_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o && exited(o)) {
		wr_front_reply_code(call, WR_NOT_FOUND, "process %s%s%s already finished", req->id,
				    *req->exec_id ? "/" : "", req->exec_id);
	} else if (o) {
		struct json_object *args = json_object_new_object();
		json_object_object_add(args, "signal", json_object_new_int((int)req->signal));
		json_object_object_add(args, "all", json_object_new_boolean(req->all));
		wr_front_submit(l->front, call, o,
				o->kind == WR_KIND_EXEC ? EXEC_E_KILL : TASK_E_KILL, args,
				wr_front_done_empty);
		json_object_put(args);
	}
	FREE(kill_request, req);
}

static void update(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(UpdateTaskRequest), update_task_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, NULL);
	if (o) {
		struct json_object *args = json_object_new_object(), *res = NULL;
		if (req->resources && req->resources->value.len) {
			struct json_tokener *tok = json_tokener_new();
			res = json_tokener_parse_ex(tok, (const char *)req->resources->value.data,
						    (int)req->resources->value.len);
			json_tokener_free(tok);
		}
		if (req->resources && req->resources->value.len && !res) {
			wr_front_reply_code(call, WR_INVALID_ARGUMENT,
					    "Update %s: resources are not JSON (%s)", req->id,
					    req->resources->type_url);
		} else {
			json_object_object_add(args, "resources", res);
			wr_front_submit(l->front, call, o, TASK_E_UPDATE, args, wr_front_done_empty);
		}
		json_object_put(args);
	}
	FREE(update_task_request, req);
}

/* ---- Exec ------------------------------------------------------------------------- */

static void exec_process(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(ExecProcessRequest), exec_process_request, req);
	struct wr_object *task = lookup(call, ctx, req->id, NULL);
	struct json_object *process = NULL;
	if (!task)
		goto out;
	if (!*req->exec_id || strchr(req->exec_id, '/')) {
		wr_front_reply_code(call, WR_INVALID_ARGUMENT, "Exec: invalid exec id \"%s\"",
				    req->exec_id);
		goto out;
	}
	if (task->state != TASK_S_RUNNING) {
		wr_front_reply_code(call, WR_FAILED_PRECONDITION,
				    "Exec %s in task %s: the task is %s, not running", req->exec_id,
				    req->id, wr_lifecycle_of(WR_KIND_TASK)->state_names[task->state]);
		goto out;
	}
	if (req->spec && req->spec->value.len) {
		struct json_tokener *tok = json_tokener_new();
		process = json_tokener_parse_ex(tok, (const char *)req->spec->value.data,
						(int)req->spec->value.len);
		json_tokener_free(tok);
	}
	if (!process || !json_object_is_type(process, json_type_object)) {
		wr_front_reply_code(call, WR_INVALID_ARGUMENT,
				    "Exec %s in task %s: the process spec is not a JSON object",
				    req->exec_id, req->id);
		goto out;
	}
	struct json_object *tspec = json_tokener_parse(task->spec), *bundle = NULL;
	if (tspec)
		json_object_object_get_ex(tspec, "bundle", &bundle);
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_get(bundle));
	json_object_object_add(spec, "process", json_object_get(process));
	add_stdio(spec, req->stdin, req->stdout, req->stderr, req->terminal);
	json_object_put(tspec);
	char full[512];
	snprintf(full, sizeof full, "%s/%s", req->id, req->exec_id);
	struct wr_object *t = new_object(WR_KIND_EXEC, task->ns, full, task->id, task->backend, spec);
	json_object_put(spec);
	if (!t)
		wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
	else
		wr_front_submit_create(l->front, call, t, wr_front_done_empty);
out:
	json_object_put(process);
	FREE(exec_process_request, req);
}

/* ---- Wait ------------------------------------------------------------------------- */

static void wait_process(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(T(WaitRequest), wait_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o && exited(o))
		wr_wait_reply(call, o);
	else if (o)
		wr_waiters_add(l->front, call, o->kind, o->ns, o->id);
	FREE(wait_request, req);
}

/* ---- Stats ------------------------------------------------------------------------ */

static void stats(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(StatsRequest), stats_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, NULL);
	if (o) {
		struct wr_backend *b = wr_engine_backend(engine(ctx), o->backend);
		struct wr_blob blob = { 0 };
		struct wr_error err;
		if (!b || !b->ops->task_stats) {
			wr_front_reply_code(call, WR_UNIMPLEMENTED, "Stats: backend %s has none",
					    o->backend);
		} else if (b->ops->task_stats(b, o, &blob, &err) < 0) {
			wr_ttrpc_reply_error(call, &err);
		} else {
			Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
			any.type_url = blob.type_url;
			any.value.data = blob.data;
			any.value.len = blob.len;
			T(StatsResponse) resp = CONTAINERD__TASK__V3__STATS_RESPONSE__INIT;
			resp.stats = &any;
			wr_front_reply(call, &resp.base);
			wr_blob_free(&blob);
		}
	}
	FREE(stats_request, req);
}

/* ---- Connect, Shutdown, and what warren does not do ---------------------------------- */

static void connect_task(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(ConnectRequest), connect_request, req);
	const char *ns = wr_front_ns(call);
	struct wr_object *t = wr_engine_find(engine(ctx), WR_KIND_TASK, ns, req->id);
	struct wr_object *sb = wr_engine_find(engine(ctx), WR_KIND_SANDBOX, ns, req->id);
	if (!t && !sb) {
		wr_front_reply_code(call, WR_NOT_FOUND, "%s: no such task or sandbox", req->id);
	} else {
		T(ConnectResponse) resp = CONTAINERD__TASK__V3__CONNECT_RESPONSE__INIT;
		resp.shim_pid = (uint32_t)getpid();
		resp.task_pid = t ? (uint32_t)t->pid : 0;
		resp.version = "3";
		if (t)   /* a task made later under a sandbox's id would change it */
			wr_front_reply_cached(((struct wr_listener *)ctx)->front, call, &resp.base, t);
		else
			wr_front_reply(call, &resp.base);
	}
	FREE(connect_request, req);
}

static void shutdown_task(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	/* One daemon serves every sandbox: Shutdown never ends it. */
	wr_front_reply(call, NULL);
}

/* ---- ResizePty, CloseIO ------------------------------------------------------------ */

/* Not lifecycle steps: straight to the backend (no journal).  A backend
 * without the op, or a process without a terminal or stdin copy, succeeds
 * doing nothing, as containerd's runc shim does. */
static void resize_pty(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(ResizePtyRequest), resize_pty_request, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o) {
		struct wr_backend *b = wr_engine_backend(engine(ctx), o->backend);
		struct wr_error err;
		if (b && b->ops->resize_pty &&
		    b->ops->resize_pty(b, o, req->width, req->height, &err) < 0)
			wr_ttrpc_reply_error(call, &err);
		else
			wr_front_reply(call, NULL);
	}
	FREE(resize_pty_request, req);
}

static void close_io(struct wr_ttrpc_call *call, void *ctx)
{
	DECODE(T(CloseIORequest), close_iorequest, req);
	struct wr_object *o = lookup(call, ctx, req->id, req->exec_id);
	if (o) {
		struct wr_backend *b = wr_engine_backend(engine(ctx), o->backend);
		struct wr_error err;
		/* without a terminal containerd holds stdin's write end itself:
		 * the process sees EOF when containerd closes it */
		if (req->stdin && b && b->ops->close_io && b->ops->close_io(b, o, &err) < 0)
			wr_ttrpc_reply_error(call, &err);
		else
			wr_front_reply(call, NULL);
	}
	FREE(close_iorequest, req);
}

static void unimplemented(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	wr_front_reply_code(call, WR_UNIMPLEMENTED, "%s is not implemented",
			    wr_ttrpc_call_method(call));
}

int wr_task_api_register(struct wr_listener *l, struct wr_error *err)
{
	static const struct {
		const char *method;
		wr_ttrpc_handler_fn fn;
	} methods[] = {
		{ "State", state },          { "Create", create },        { "Start", start },
		{ "Delete", delete },        { "Pids", pids },            { "Pause", pause_task },
		{ "Resume", resume_task },   { "Checkpoint", unimplemented }, { "Kill", kill_task },
		{ "Exec", exec_process },    { "ResizePty", resize_pty }, { "CloseIO", close_io },
		{ "Update", update },        { "Wait", wait_process },    { "Stats", stats },
		{ "Connect", connect_task }, { "Shutdown", shutdown_task },
	};
	static const char *services[] = { "containerd.task.v3.Task", "containerd.task.v2.Task" };
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
			if (wr_ttrpc_server_register(l->server, services[s], methods[i].method,
						     methods[i].fn, l, err) < 0)
				return -1;
	return 0;
}
