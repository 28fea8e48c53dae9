/* crashpoint.h — the kill -9 test hook of the journaled step.
 *
 * With WARREN_CRASH_AT=N in the environment, the N-th call to
 * wr_crashpoint() SIGKILLs the process, so the crash test can stop the engine
 * at every journaled step of every transition and check what recovery makes
 * of it.  WARREN_CRASH_TRACE=1 prints "crashpoint <n> <where>" to stderr at
 * each call.  Without either variable a crash point costs one branch. */
#ifndef WR_CRASHPOINT_H
#define WR_CRASHPOINT_H

enum wr_crash_where {
	WR_CRASH_BEFORE_INTENT,
	WR_CRASH_AFTER_INTENT,
	WR_CRASH_AFTER_ACTION,
	WR_CRASH_AFTER_OUTCOME,
};

/* Read the environment once (wr_engine_open calls it). */
void wr_crashpoint_init(void);
/* Suspend/resume counting (recovery is not a test target of its own). */
void wr_crashpoint_enable(int on);
void wr_crashpoint(enum wr_crash_where where);
const char *wr_crash_where_name(enum wr_crash_where where);

#endif
