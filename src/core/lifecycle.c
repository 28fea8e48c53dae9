/* lifecycle.c — name lookups over a compiled lifecycle (see lifecycle.h). */
#include "core/lifecycle.h"

#include <string.h>

#include "core/object.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"

const struct wr_lifecycle *wr_lifecycle_of(int kind)
{
	switch (kind) {
	case WR_KIND_SANDBOX: return &wr_lifecycle_sandbox;
	case WR_KIND_TASK: return &wr_lifecycle_task;
	case WR_KIND_EXEC: return &wr_lifecycle_exec;
	default: return NULL;
	}
}

static int find(const char *const *names, int n, const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int wr_lc_state_by_name(const struct wr_lifecycle *lc, const char *name)
{
	return find(lc->state_names, lc->n_states, name);
}

int wr_lc_event_by_name(const struct wr_lifecycle *lc, const char *name)
{
	return find(lc->event_names, lc->n_events, name);
}

int wr_lc_action_by_name(const struct wr_lifecycle *lc, const char *name)
{
	return find(lc->action_names, lc->n_actions, name);
}

/* Ragel numbers its states its own way; find the Ragel state of each named
 * state once, by walking the machine from its start and noting which
 * in_<state> action each edge runs.  Single-threaded by design (libev). */
static void map_states(const struct wr_lifecycle *lc)
{
	if (lc->cs_of[lc->initial] == lc->start_cs)
		return;
	for (int s = 0; s < lc->n_states; s++)
		lc->cs_of[s] = -1;
	lc->cs_of[lc->initial] = lc->start_cs;
	for (bool grew = true; grew;) {
		grew = false;
		for (int s = 0; s < lc->n_states; s++) {
			if (lc->cs_of[s] < 0)
				continue;
			for (int ev = 1; ev < lc->n_events; ev++) {
				int act, to, cs = lc->run(lc->cs_of[s], ev, &act, &to);
				if (cs != lc->error_cs && to >= 0 && lc->cs_of[to] < 0) {
					lc->cs_of[to] = cs;
					grew = true;
				}
			}
		}
	}
}

int wr_lc_step(const struct wr_lifecycle *lc, int state, int event, int *action, int *to)
{
	map_states(lc);
	if (state < 0 || state >= lc->n_states || event <= 0 || event >= lc->n_events ||
	    lc->cs_of[state] < 0)
		return -1;
	int cs = lc->run(lc->cs_of[state], event, action, to);
	return cs == lc->error_cs || *to < 0 ? -1 : 0;
}
