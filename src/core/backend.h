/* backend.h — what a kind of sandbox must provide to the lifecycle engine.
 *
 * In the spirit of crun's custom-handler.h: a struct of function pointers,
 * one per lifecycle action, plus the probes recovery needs.  The engine calls
 * an action exactly when the spec's chart says a transition runs it, after
 * the intent is durable; the backend never changes lifecycle state itself.
 *
 * Contract for every action:
 *  - idempotent: running it again after it (partly) ran must converge to the
 *    same effect, because recovery re-runs an action whose outcome was never
 *    journaled;
 *  - a failed action leaves nothing behind that its success would have made;
 *  - it may update o->pid, o->bstate (JSON of what it holds) and o->bdata;
 *    the engine persists pid and bstate with the outcome.
 *
 * The four kinds fit as follows: `ns` creates namespaces/cgroups in
 * sandbox_create and runs containers with an OCI runtime in task_*; `wasm`
 * keeps a WasmEdge VM per task; `vm` boots the micro-VM in sandbox_start and
 * forwards task_* to the in-guest agent; `gvisor` runs runsc.  Actions that
 * take long (a VM boot) still look synchronous here; see engine.h. */
#ifndef WR_BACKEND_H
#define WR_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"
#include "core/object.h"

struct json_object;

/* What observe() found about an object that the journal says is alive. */
struct wr_observation {
	int exists;        /* 0: its resources vanished (host reboot, manual cleanup) */
	int exited;        /* task/exec: the process has exited */
	int exit_status;   /* valid when exited */
	int64_t exited_at; /* ns since the epoch, 0 if unknown */
};

/* A blob with a protobuf type URL, e.g. io.containerd.cgroups.v1.Metrics. */
struct wr_blob {
	char *type_url;
	uint8_t *data;
	size_t len;
};

struct wr_backend;

/* One action of a batch (run_actions below). */
struct wr_action_item {
	struct wr_object *o;
	int action;                 /* index into o's lifecycle action names */
	struct json_object *args;
	struct wr_error *result;    /* the backend fills it: WR_OK or why not */
};

typedef int (*wr_action_fn)(struct wr_backend *b, struct wr_object *o,
			    struct json_object *args, struct wr_error *err);

struct wr_backend_ops {
	const char *name;

	/* sandbox lifecycle */
	wr_action_fn sandbox_create;   /* make namespaces, files, cgroups */
	wr_action_fn sandbox_start;    /* start what the sandbox runs (VM, holder) */
	wr_action_fn sandbox_stop;     /* stop it; resources may stay until delete */
	wr_action_fn sandbox_delete;   /* remove everything the sandbox made */

	/* container task lifecycle */
	wr_action_fn task_create;      /* args: rootfs, stdio, bundle */
	wr_action_fn task_start;
	wr_action_fn task_kill;        /* args: {"signal":N,"all":bool} */
	wr_action_fn task_pause;
	wr_action_fn task_resume;
	wr_action_fn task_update;      /* args: {"resources":{...}} */
	wr_action_fn task_delete;

	/* exec process lifecycle (o->owner is the task id) */
	wr_action_fn exec_create;      /* args: process spec, stdio */
	wr_action_fn exec_start;
	wr_action_fn exec_kill;
	wr_action_fn exec_delete;

	/* optional: run the actions of one engine batch (each on a different
	 * object), filling every item's result, with the same effects as
	 * running them one by one in order — but free to overlap what they
	 * wait for (the ns backend runs several runc processes at once).
	 * Absent: the engine runs them one by one. */
	void (*run_actions)(struct wr_backend *b, struct wr_action_item *items, size_t n);

	/* optional: 1 when `action` (an index into the lifecycle action names
	 * of `kind`) only checks and changes nothing in the world — ns
	 * StartSandbox, as nothing runs in an ns sandbox.  The engine then runs
	 * it before journaling anything and writes its intent and outcome in
	 * one transaction: a crash before that commit leaves nothing to
	 * resolve, and the step costs one commit instead of two. */
	int (*action_checks_only)(const struct wr_backend *b, enum wr_kind kind, int action);

	/* queries: no state change, not journaled */
	int (*sandbox_status)(struct wr_backend *b, struct wr_object *sb,
			      struct json_object **info, struct wr_error *err);
	int (*task_pids)(struct wr_backend *b, struct wr_object *t, pid_t **pids,
			 size_t *n, struct wr_error *err);
	int (*task_stats)(struct wr_backend *b, struct wr_object *t, struct wr_blob *out,
			  struct wr_error *err);
	/* after t's init exited: 1 if the kernel's OOM killer killed a process
	 * of its cgroup (→ /tasks/oom, CRI's OOMKilled), 0 if not or unknown */
	int (*task_oom_killed)(struct wr_backend *b, struct wr_object *t);

	/* a process's terminal and stdin (t_or_exec: a task, for its init, or an
	 * exec); no lifecycle change, not journaled; both optional (absent: the
	 * call succeeds doing nothing).  Nothing to act on (no terminal, no stdin
	 * copy, the process gone) is success too. */
	/* ResizePty: the window size of its terminal, in columns and rows */
	int (*resize_pty)(struct wr_backend *b, struct wr_object *t_or_exec, unsigned width,
			  unsigned height, struct wr_error *err);
	/* CloseIO(stdin): stop copying into its stdin (after what is queued) */
	int (*close_io)(struct wr_backend *b, struct wr_object *t_or_exec, struct wr_error *err);

	/* recovery: did the effect of `action` (an index into the object's
	 * lifecycle action names) happen?  1 yes, 0 no, -1 cannot tell (err). */
	int (*probe)(struct wr_backend *b, struct wr_object *o, int action,
		     struct json_object *args, struct wr_error *err);
	/* recovery: what is the world state of an object in a stable state? */
	int (*observe)(struct wr_backend *b, struct wr_object *o,
		       struct wr_observation *obs, struct wr_error *err);
	/* forget in-memory handles of an object that is gone */
	void (*release)(struct wr_backend *b, struct wr_object *o);
	void (*destroy)(struct wr_backend *b);
};

struct wr_backend {
	const struct wr_backend_ops *ops;
	void *priv;
};

/* The action function for (kind, action name); NULL if the backend lacks it. */
wr_action_fn wr_backend_action(const struct wr_backend *b, enum wr_kind kind,
			       const char *action);
/* Run one action (an index into o's lifecycle action names) of b on o:
 * 0, or -1 with res set (Unimplemented when b lacks it; never WR_OK). */
int wr_backend_run(struct wr_backend *b, struct wr_object *o, int action,
		   struct json_object *args, struct wr_error *res);
/* An action's result made to agree with its return value rc: success (rc
 * >= 0) clears res, whatever the action noted on the way (a start that
 * runc refused because it had run already); failure leaves a code that is
 * never WR_OK.  Returns 0 or -1.  For backends' run_actions, which finish
 * actions in parts. */
int wr_backend_settle(int rc, struct wr_error *res);

void wr_blob_free(struct wr_blob *b);

#endif
