/* ns_batch.c — the ns backend's run_actions: the actions of one engine
 * batch, with the runtime processes of consecutive task creates and starts
 * running at the same time.
 *
 * When many pods start at once, containerd's Task.Create and Task.Start
 * calls pile up while warrend's core waits for one `runc create` (tens of
 * milliseconds, much of it runc waiting on its own children), and the
 * engine takes them as one batch.  Run one by one, every pod waits for all
 * the runc processes before it; here up to OVERLAP_MAX of them run side by
 * side: each action does its own work up to its runc process and spawns it
 * (wr_ns_task_begin), then they are reaped and finished in order
 * (wr_ns_task_finish).  Each runc process has its own log file: slots 1
 * to OVERLAP_MAX, as slot 0 is the one-by-one runs' (a terminal
 * container's create, or a failed create's clean-up, runs its runc to the
 * end inside wr_ns_task_begin while others of the group are running).
 *
 * The effects are those of running the actions one by one in order: the
 * objects are all different (one op per object in a batch), and an action
 * that is not a task create or start (a sandbox's, an exec's, a delete)
 * first lets the ones begun before it finish, then runs alone.  The daemon's
 * wait for the overlapped processes is counted once (core/stats.h). */
#include "backends/ns/ns_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/stats.h"

/* Runtime processes at once: more only share the same two or four cores. */
#define OVERLAP_MAX 4

struct begun {
	struct wr_action_item *item;
	struct wr_ns_task_run *run;
};

static int task_verb(const struct wr_action_item *it)
{
	if (it->o->kind != WR_KIND_TASK)
		return -1;
	const char *name = wr_lifecycle_of(WR_KIND_TASK)->action_names[it->action];
	return strcmp(name, "create") == 0 ? 0 : strcmp(name, "start") == 0 ? 1 : -1;
}

/* Reap and finish what was begun, in order.  since: when the last of them
 * was spawned, from which the daemon waits for them. */
static void finish_all(struct wr_backend *b, struct begun *g, int n, int64_t since)
{
	for (int i = 0; i < n; i++)
		wr_backend_settle(wr_ns_task_finish(b, g[i].item->o, g[i].run, 0, g[i].item->result),
				  g[i].item->result);
	if (n > 0)
		wr_stats_runtime_wait(since, (unsigned)n);
}

void wr_ns_run_actions(struct wr_backend *b, struct wr_action_item *items, size_t n)
{
	struct begun g[OVERLAP_MAX];
	struct wr_ns_task_run *runs[OVERLAP_MAX] = { NULL };
	int k = 0;
	int64_t since = 0;
	for (size_t i = 0; i < n; i++) {
		struct wr_action_item *it = &items[i];
		int verb = task_verb(it);
		if (verb >= 0 && !runs[k])
			runs[k] = malloc(wr_ns_task_run_size());
		if (verb < 0 || !runs[k]) {   /* not overlapped: alone, after the rest */
			finish_all(b, g, k, since);
			k = 0;
			wr_backend_run(b, it->o, it->action, it->args, it->result);
			continue;
		}
		wr_error_clear(it->result);
		int rc = wr_ns_task_begin(b, it->o, verb, k + 1, runs[k], it->result);
		if (rc != 0) {   /* done or failed in begin: nothing to finish */
			wr_backend_settle(rc, it->result);
			continue;
		}
		since = wr_monotonic_ns();
		g[k] = (struct begun){ it, runs[k] };
		if (++k == OVERLAP_MAX) {
			finish_all(b, g, k, since);
			k = 0;
		}
	}
	finish_all(b, g, k, since);
	for (int i = 0; i < OVERLAP_MAX; i++)
		free(runs[i]);
}
