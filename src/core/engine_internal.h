/* engine_internal.h — what engine.c shares with recovery.c; not for the
 * front end or backends (they use engine.h). */
#ifndef WR_ENGINE_INTERNAL_H
#define WR_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/engine.h"

struct op;
struct wr_objtable;

struct wr_engine {
	struct wr_engine_config cfg;
	struct wr_store *store;
	struct wr_objtable *objects;
	struct op *q_head, *q_tail;
	bool flushing;
	bool unresolved;   /* an outcome commit failed: some step awaits resolution */
	struct wr_recovery_report report;
};

int wr_engine_persist(struct wr_engine *e, struct wr_object *o, struct wr_error *err);
int wr_engine_journal(struct wr_engine *e, struct wr_object *o, enum wr_phase phase, int from,
		      int event, int action, int to, const struct wr_error *res,
		      struct json_object *args, struct wr_error *err);
int wr_engine_run_action(struct wr_engine *e, struct wr_object *o, int action,
			 struct json_object *args, struct wr_error *res);
int wr_engine_outcome_state(const struct wr_object *o, int mid, bool ok);
int wr_engine_write_outcome(struct wr_engine *e, struct wr_object *o, int mid,
			    const struct wr_error *res, struct wr_error *err);

/* recovery.c */
int wr_engine_recover(struct wr_engine *e, struct wr_error *err);
/* Resolve every step whose intent has no outcome (probe, else re-run). */
int wr_engine_resolve_pending(struct wr_engine *e);

#endif
