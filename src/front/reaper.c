/* reaper.c — container exits become Exit events.
 *
 * warrend is a child subreaper (PR_SET_CHILD_SUBREAPER): when runc create or
 * runc exec returns, the container's process is re-parented to warrend, so
 * its exit status is ours to collect.  libev's child watcher (pid 0: any
 * child) reaps in the loop; a backend's synchronous waitpid() on a runc it
 * spawned runs inside an action, before the loop gets a chance, so the two
 * never race for the same pid.  An exit is matched to the task or exec whose
 * pid it was; an exit status is 128+signal for a killed process, as the
 * shell and containerd report it. */
#include "front/front_internal.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include <json-c/json.h>

#include "core/log.h"
#include "lifecycle/exec.h"
#include "lifecycle/task.h"

struct match {
	pid_t pid;
	struct wr_object *o;
};

static void find_pid(void *ctx, struct wr_object *o)
{
	struct match *m = ctx;
	if (m->o || o->pid != m->pid || o->kind == WR_KIND_SANDBOX)
		return;
	int exit_event = o->kind == WR_KIND_TASK ? TASK_E_EXIT : EXEC_E_EXIT;
	if (wr_engine_allows(o, exit_event))
		m->o = o;
}

static void child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	(void)loop;
	(void)revents;
	struct wr_front *f = w->data;
	int status = w->rstatus;
	if (!WIFEXITED(status) && !WIFSIGNALED(status))
		return;   /* stopped or continued */
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	struct match m = { .pid = w->rpid };
	wr_engine_foreach(f->engine, find_pid, &m);
	if (!m.o) {
		wr_debug("reaped pid %d (status %d), not a container process", w->rpid, code);
		return;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "exit_status", json_object_new_int(code));
	json_object_object_add(args, "exited_at",
			       json_object_new_int64((int64_t)now.tv_sec * 1000000000 + now.tv_nsec));
	wr_info("%s %s: pid %d exited with status %d", wr_kind_name(m.o->kind), m.o->id, w->rpid,
		code);
	wr_engine_submit(f->engine, m.o,
			 m.o->kind == WR_KIND_TASK ? TASK_E_EXIT : EXEC_E_EXIT, args, NULL, NULL);
	json_object_put(args);
}

void wr_front_start_reaper(struct wr_front *f)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		wr_warn("cannot become a child subreaper: exit codes of containers will be lost");
	ev_child_init(&f->reaper, child_cb, 0, 0);
	f->reaper.data = f;
	ev_child_start(f->loop, &f->reaper);
	f->reaping = 1;
}
