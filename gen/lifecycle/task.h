/* gen/lifecycle/task.h — GENERATED from spec/task.rl by tools/gen-lifecycle.py; do not edit. */
#ifndef WR_GEN_LIFECYCLE_TASK_H
#define WR_GEN_LIFECYCLE_TASK_H

#include "core/lifecycle.h"

enum task_state {
	TASK_S_ABSENT = 0,
	TASK_S_CREATING = 1,
	TASK_S_CREATED = 2,
	TASK_S_STARTING = 3,
	TASK_S_RUNNING = 4,
	TASK_S_PAUSING = 5,
	TASK_S_PAUSED = 6,
	TASK_S_RESUMING = 7,
	TASK_S_STOPPED = 8,
	TASK_S_DELETING = 9,
	TASK_S_DELETED = 10,
	TASK_N_STATES = 11
};

enum task_event {
	TASK_E_NONE = 0,
	TASK_E_CREATE = 1,
	TASK_E_START = 2,
	TASK_E_KILL = 3,
	TASK_E_PAUSE = 4,
	TASK_E_RESUME = 5,
	TASK_E_UPDATE = 6,
	TASK_E_DELETE = 7,
	TASK_E_EXIT = 8,
	TASK_E_LOST = 9,
	TASK_E_DONE = 10,
	TASK_E_FAILED = 11,
	TASK_N_EVENTS = 12
};

enum task_action {
	TASK_A_CREATE = 0,
	TASK_A_START = 1,
	TASK_A_KILL = 2,
	TASK_A_PAUSE = 3,
	TASK_A_RESUME = 4,
	TASK_A_UPDATE = 5,
	TASK_A_DELETE = 6,
	TASK_N_ACTIONS = 7
};

extern const struct wr_lifecycle wr_lifecycle_task;

#endif
