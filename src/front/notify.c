/* notify.c — what containerd hears when an object changes state.
 *
 * Called by the engine once a step is durable (so an event is never
 * published for a step that a crash could undo), with the state before the
 * event, the event submitted (Create, Start, Exit...) and the state reached.  Tasks and execs publish
 * containerd's /tasks/... events, in transition order; exits and deletions
 * answer the Wait/WaitSandbox calls held for the object. */
#include "front/front_internal.h"

#include <string.h>

#include <json-c/json.h>

#include "containerd/events/task.pb-c.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "google/protobuf/timestamp.pb-c.h"

static const char *spec_str(struct json_object *spec, const char *key)
{
	struct json_object *v;
	if (spec && json_object_object_get_ex(spec, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

static const char *exec_part(const struct wr_object *o)
{
	const char *slash = strchr(o->id, '/');
	return slash ? slash + 1 : o->id;
}

static void publish_exit(struct wr_front *f, const struct wr_object *o, const char *container,
			 const char *id)
{
	Containerd__Events__TaskExit m = CONTAINERD__EVENTS__TASK_EXIT__INIT;
	Google__Protobuf__Timestamp ts;
	m.container_id = (char *)container;
	m.id = (char *)id;
	m.pid = (uint32_t)o->pid;
	m.exit_status = (uint32_t)o->exit_status;
	m.exited_at = wr_front_timestamp(&ts, o->exited_at);
	wr_events_publish(f->events, o->ns, "/tasks/exit", "containerd.events.TaskExit", &m.base);
}

static void task_changed(struct wr_front *f, const struct wr_object *o, int from, int event, int to)
{
	if (event == TASK_E_CREATE && to == TASK_S_CREATED) {
		struct json_object *spec = json_tokener_parse(o->spec);
		Containerd__Events__TaskIO io = CONTAINERD__EVENTS__TASK_IO__INIT;
		io.stdin = (char *)spec_str(spec, "stdin");
		io.stdout = (char *)spec_str(spec, "stdout");
		io.stderr = (char *)spec_str(spec, "stderr");
		struct json_object *t;
		io.terminal = spec && json_object_object_get_ex(spec, "terminal", &t) &&
			      json_object_get_boolean(t);
		Containerd__Events__TaskCreate m = CONTAINERD__EVENTS__TASK_CREATE__INIT;
		m.container_id = o->id;
		m.bundle = (char *)spec_str(spec, "bundle");
		m.io = &io;
		m.pid = (uint32_t)o->pid;
		wr_events_publish(f->events, o->ns, "/tasks/create", "containerd.events.TaskCreate",
				  &m.base);
		json_object_put(spec);
	} else if (event == TASK_E_START && to == TASK_S_RUNNING) {
		Containerd__Events__TaskStart m = CONTAINERD__EVENTS__TASK_START__INIT;
		m.container_id = o->id;
		m.pid = (uint32_t)o->pid;
		wr_events_publish(f->events, o->ns, "/tasks/start", "containerd.events.TaskStart",
				  &m.base);
	} else if (to == TASK_S_STOPPED && from != TASK_S_STOPPED && event != TASK_E_DELETE) {
		/* (the engine is there from its open on: exits found by recovery too) */
		struct wr_backend *b = f->engine ? wr_engine_backend(f->engine, o->backend) : NULL;
		if (o->exit_status == 128 + 9 && b && b->ops->task_oom_killed &&
		    b->ops->task_oom_killed(b, (struct wr_object *)o)) {
			/* before the exit, so CRI marks the container OOMKilled */
			Containerd__Events__TaskOOM m = CONTAINERD__EVENTS__TASK_OOM__INIT;
			m.container_id = o->id;
			wr_events_publish(f->events, o->ns, "/tasks/oom", "containerd.events.TaskOOM",
					  &m.base);
		}
		publish_exit(f, o, o->id, o->id);
		wr_waiters_complete(f, o);
	} else if (event == TASK_E_PAUSE && to == TASK_S_PAUSED) {
		Containerd__Events__TaskPaused m = CONTAINERD__EVENTS__TASK_PAUSED__INIT;
		m.container_id = o->id;
		wr_events_publish(f->events, o->ns, "/tasks/paused", "containerd.events.TaskPaused",
				  &m.base);
	} else if (event == TASK_E_RESUME && to == TASK_S_RUNNING) {
		Containerd__Events__TaskResumed m = CONTAINERD__EVENTS__TASK_RESUMED__INIT;
		m.container_id = o->id;
		wr_events_publish(f->events, o->ns, "/tasks/resumed", "containerd.events.TaskResumed",
				  &m.base);
	} else if (event == TASK_E_DELETE && to == TASK_S_DELETED) {
		Containerd__Events__TaskDelete m = CONTAINERD__EVENTS__TASK_DELETE__INIT;
		Google__Protobuf__Timestamp ts;
		m.container_id = o->id;
		m.id = o->id;
		m.pid = (uint32_t)o->pid;
		m.exit_status = (uint32_t)o->exit_status;
		m.exited_at = wr_front_timestamp(&ts, o->exited_at);
		wr_events_publish(f->events, o->ns, "/tasks/delete", "containerd.events.TaskDelete",
				  &m.base);
		wr_waiters_complete(f, o);
	}
}

static void exec_changed(struct wr_front *f, const struct wr_object *o, int from, int event, int to)
{
	if (event == EXEC_E_CREATE && to == EXEC_S_CREATED) {
		Containerd__Events__TaskExecAdded m = CONTAINERD__EVENTS__TASK_EXEC_ADDED__INIT;
		m.container_id = o->owner;
		m.exec_id = (char *)exec_part(o);
		wr_events_publish(f->events, o->ns, "/tasks/exec-added",
				  "containerd.events.TaskExecAdded", &m.base);
	} else if (event == EXEC_E_START && to == EXEC_S_RUNNING) {
		Containerd__Events__TaskExecStarted m = CONTAINERD__EVENTS__TASK_EXEC_STARTED__INIT;
		m.container_id = o->owner;
		m.exec_id = (char *)exec_part(o);
		m.pid = (uint32_t)o->pid;
		wr_events_publish(f->events, o->ns, "/tasks/exec-started",
				  "containerd.events.TaskExecStarted", &m.base);
	} else if (to == EXEC_S_EXITED && from != EXEC_S_EXITED && event != EXEC_E_DELETE) {
		publish_exit(f, o, o->owner, exec_part(o));
		wr_waiters_complete(f, o);
	} else if (to == EXEC_S_DELETED) {
		wr_waiters_complete(f, o);
	}
}

void wr_front_notify(struct wr_front *f, const struct wr_object *o, int from, int event, int to)
{
	switch (o->kind) {
	case WR_KIND_TASK:
		task_changed(f, o, from, event, to);
		break;
	case WR_KIND_EXEC:
		exec_changed(f, o, from, event, to);
		break;
	case WR_KIND_SANDBOX:
		if (to == SANDBOX_S_STOPPED || to == SANDBOX_S_FAILED || to == SANDBOX_S_DELETED)
			wr_waiters_complete(f, o);
		break;
	default:
		break;
	}
}
