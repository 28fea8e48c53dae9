/* lifecycle.h — the shape of a compiled lifecycle.
 *
 * Each spec/<name>.rl is a Ragel state chart.  tools/gen-lifecycle.py turns it
 * into gen/lifecycle/<name>.{h,c}, which define one `const struct wr_lifecycle`
 * per chart.  The engine only ever consults the chart through `step`, which
 * runs Ragel's generated machine over one event symbol; it never hard-codes a
 * transition.  `model` is the same chart read independently by the generator
 * (a plain table), used by the model-based tests to check the machine and the
 * engine against each other. */
#ifndef WR_LIFECYCLE_H
#define WR_LIFECYCLE_H

#include <stdbool.h>

/* Events every chart shares: the outcome of a backend action.  A transition
 * that runs an action always enters a transient state; the engine then fires
 * Done or Failed, whose targets the chart decides. */
#define WR_LC_NO_ACTION (-1)

struct wr_transition {
	int from, event, action, to; /* action == WR_LC_NO_ACTION when none */
};

struct wr_lifecycle {
	const char *name;                   /* "sandbox", "task", "exec" */
	int n_states, n_events, n_actions;
	const char *const *state_names;
	const char *const *event_names;
	const char *const *action_names;
	const bool *transient;              /* state waits for Done/Failed */
	const bool *terminal;               /* final: the engine forgets the object */
	int initial;                        /* the "absent" pseudo-state */
	int ev_done, ev_failed;             /* outcome events of this chart */
	/* Ragel's compiled machine over one event symbol from Ragel state cs;
	 * returns the new Ragel state and the action/entered state it ran.
	 * Use wr_lc_step(), which maps named states onto Ragel's. */
	int (*run)(int cs, int event, int *action, int *to);
	int start_cs, error_cs;
	int *cs_of;                         /* per named state; filled on first use */
	const struct wr_transition *model;  /* every transition of the chart */
	int n_model;
};

/* The chart of each kind of object (enum wr_kind in object.h). */
const struct wr_lifecycle *wr_lifecycle_of(int kind);

/* Consult the compiled machine: 0 and (action, to) if `event` is legal in
 * `state`, -1 if the chart forbids it. */
int wr_lc_step(const struct wr_lifecycle *lc, int state, int event, int *action, int *to);

/* Name lookups; -1 when unknown (used when reading the journal back). */
int wr_lc_state_by_name(const struct wr_lifecycle *lc, const char *name);
int wr_lc_event_by_name(const struct wr_lifecycle *lc, const char *name);
int wr_lc_action_by_name(const struct wr_lifecycle *lc, const char *name);

#endif
