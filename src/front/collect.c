/* collect.c — clearing away what containerd has forgotten.
 *
 * containerd drops a sandbox for good when it loses the connection to its
 * "shim" (warrend's front killed, a node's containerd state wiped): it runs
 * the shim binary's `delete`, removes the bundle directories, and never calls
 * warren about those objects again (DESIGN §2).  Their processes, mounts and
 * namespace files would stay forever.  So every COLLECT_EVERY seconds the
 * core looks for live objects whose bundle directory is gone — containerd
 * removes a bundle only once it has forgotten the object — and moves them
 * through their own lifecycles, one step per pass: a running container is
 * killed (SIGKILL, all its processes), one whose process is gone is marked
 * Lost, a stopped one deleted; execs follow their task; a sandbox is shut
 * down once no task of it is left.  Every step is an ordinary journaled
 * event, so a crash in the middle simply continues at the next pass. */
#include "front/front_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "core/log.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"

#define COLLECT_FIRST 2.0
#define COLLECT_EVERY 10.0

/* 1 when o's spec names a bundle directory that no longer exists. */
static int bundle_gone(const struct wr_object *o)
{
	struct json_object *spec = json_tokener_parse(o->spec), *b;
	int gone = 0;
	if (spec && json_object_object_get_ex(spec, "bundle", &b) &&
	    json_object_is_type(b, json_type_string)) {
		const char *path = json_object_get_string(b);
		struct stat st;
		gone = path[0] == '/' && stat(path, &st) < 0 && errno == ENOENT;
	}
	json_object_put(spec);
	return gone;
}

struct pass {
	struct wr_front *f;
	int steps;
	struct json_object *kill;   /* {"signal":9,"all":true} */
	struct json_object *lost;   /* why and with which status */
};

static int has_tasks(struct wr_front *f, const struct wr_object *sb);

static int process_gone(struct wr_front *f, struct wr_object *o)
{
	struct wr_backend *b = wr_engine_backend(f->engine, o->backend);
	struct wr_observation obs = { 0 };
	struct wr_error err;
	if (!b || !b->ops->observe || b->ops->observe(b, o, &obs, &err) < 0)
		return 0;
	return !obs.exists || obs.exited;
}

static void step(struct pass *p, struct wr_object *o, int event, struct json_object *args)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	if (!wr_engine_allows(o, event))
		return;
	wr_info("collect: containerd forgot %s %s (%s): %s", wr_kind_name(o->kind), o->id,
		lc->state_names[o->state], lc->event_names[event]);
	wr_engine_submit(p->f->engine, o, event, args, NULL, NULL);
	p->steps++;
}

static void visit(void *ctx, struct wr_object *o)
{
	struct pass *p = ctx;
	switch (o->kind) {
	case WR_KIND_TASK:
		if (!bundle_gone(o))
			break;
		if (o->state == TASK_S_STOPPED)
			step(p, o, TASK_E_DELETE, NULL);
		else if (process_gone(p->f, o))
			step(p, o, TASK_E_LOST, p->lost);
		else
			step(p, o, TASK_E_KILL, p->kill);
		break;
	case WR_KIND_EXEC: {
		struct wr_object *t = wr_engine_find(p->f->engine, WR_KIND_TASK, o->ns, o->owner);
		if (t && !bundle_gone(t))
			break;
		if (o->state == EXEC_S_EXITED || o->state == EXEC_S_CREATED)
			step(p, o, EXEC_E_DELETE, NULL);
		else if (process_gone(p->f, o))
			step(p, o, EXEC_E_LOST, p->lost);
		else
			step(p, o, EXEC_E_KILL, p->kill);
		break;
	}
	case WR_KIND_SANDBOX:
		if (bundle_gone(o) && !has_tasks(p->f, o))
			step(p, o, SANDBOX_E_SHUTDOWN, NULL);
		break;
	default:
		break;
	}
}

struct owned {
	const struct wr_object *sb;
	int n;
};

static void count_tasks(void *ctx, struct wr_object *o)
{
	struct owned *w = ctx;
	if (o->kind == WR_KIND_TASK && strcmp(o->owner, w->sb->id) == 0 &&
	    strcmp(o->ns, w->sb->ns) == 0)
		w->n++;
}

static int has_tasks(struct wr_front *f, const struct wr_object *sb)
{
	struct owned w = { sb, 0 };
	wr_engine_foreach(f->engine, count_tasks, &w);
	return w.n > 0;
}

int wr_front_collect(struct wr_front *f)
{
	if (!f->engine)
		return 0;
	struct pass p = { f, 0, json_object_new_object(), json_object_new_object() };
	json_object_object_add(p.kill, "signal", json_object_new_int(9));
	json_object_object_add(p.kill, "all", json_object_new_boolean(1));
	json_object_object_add(p.lost, "reason", json_object_new_string("containerd forgot it"));
	json_object_object_add(p.lost, "exit_status", json_object_new_int(128 + 9));
	wr_engine_foreach(f->engine, visit, &p);
	json_object_put(p.kill);   /* submitted events hold their own references */
	json_object_put(p.lost);
	if (p.steps)
		wr_debug("collect: %d step(s) submitted", p.steps);
	return p.steps;
}

static void collect_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	wr_front_collect(t->data);
}

void wr_front_start_collector(struct wr_front *f)
{
	ev_timer_init(&f->collector, collect_cb, COLLECT_FIRST, COLLECT_EVERY);
	f->collector.data = f;
	ev_timer_start(f->loop, &f->collector);
	f->collecting = 1;
}
