/* gen/lifecycle/exec.h — GENERATED from spec/exec.rl by tools/gen-lifecycle.py; do not edit. */
#ifndef WR_GEN_LIFECYCLE_EXEC_H
#define WR_GEN_LIFECYCLE_EXEC_H

#include "core/lifecycle.h"

enum exec_state {
	EXEC_S_ABSENT = 0,
	EXEC_S_CREATING = 1,
	EXEC_S_CREATED = 2,
	EXEC_S_STARTING = 3,
	EXEC_S_RUNNING = 4,
	EXEC_S_EXITED = 5,
	EXEC_S_DELETING = 6,
	EXEC_S_DELETED = 7,
	EXEC_N_STATES = 8
};

enum exec_event {
	EXEC_E_NONE = 0,
	EXEC_E_CREATE = 1,
	EXEC_E_START = 2,
	EXEC_E_KILL = 3,
	EXEC_E_DELETE = 4,
	EXEC_E_EXIT = 5,
	EXEC_E_LOST = 6,
	EXEC_E_DONE = 7,
	EXEC_E_FAILED = 8,
	EXEC_N_EVENTS = 9
};

enum exec_action {
	EXEC_A_CREATE = 0,
	EXEC_A_START = 1,
	EXEC_A_KILL = 2,
	EXEC_A_DELETE = 3,
	EXEC_N_ACTIONS = 4
};

extern const struct wr_lifecycle wr_lifecycle_exec;

#endif
