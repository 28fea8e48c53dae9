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
