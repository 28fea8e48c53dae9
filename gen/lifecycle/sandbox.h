/* gen/lifecycle/sandbox.h — GENERATED from spec/sandbox.rl by tools/gen-lifecycle.py; do not edit. */
#ifndef WR_GEN_LIFECYCLE_SANDBOX_H
#define WR_GEN_LIFECYCLE_SANDBOX_H

#include "core/lifecycle.h"

enum sandbox_state {
	SANDBOX_S_ABSENT = 0,
	SANDBOX_S_CREATING = 1,
	SANDBOX_S_CREATED = 2,
	SANDBOX_S_STARTING = 3,
	SANDBOX_S_READY = 4,
	SANDBOX_S_STOPPING = 5,
	SANDBOX_S_STOPPED = 6,
	SANDBOX_S_DELETING = 7,
	SANDBOX_S_FAILED = 8,
	SANDBOX_S_DELETED = 9,
	SANDBOX_N_STATES = 10
};

enum sandbox_event {
	SANDBOX_E_NONE = 0,
	SANDBOX_E_CREATE = 1,
	SANDBOX_E_START = 2,
	SANDBOX_E_STOP = 3,
	SANDBOX_E_WAIT = 4,
	SANDBOX_E_SHUTDOWN = 5,
	SANDBOX_E_EXIT = 6,
	SANDBOX_E_LOST = 7,
	SANDBOX_E_DONE = 8,
	SANDBOX_E_FAILED = 9,
	SANDBOX_N_EVENTS = 10
};

enum sandbox_action {
	SANDBOX_A_CREATE = 0,
	SANDBOX_A_START = 1,
	SANDBOX_A_STOP = 2,
	SANDBOX_A_DELETE = 3,
	SANDBOX_N_ACTIONS = 4
};

extern const struct wr_lifecycle wr_lifecycle_sandbox;

#endif
