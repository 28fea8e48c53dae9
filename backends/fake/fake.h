/* fake.h — a backend whose "world" is a directory of small JSON files, for
 * the model-based tests, the crash test and the core benchmark.
 *
 * Each live resource is one file, <dir>/<kind>_<ns>_<id>.json, holding what a
 * real backend would hold: {"state": "created|running|paused|stopped|exited",
 * "exit_status": N, "signals": [...], "resources": {...}}.  Because the world
 * is on disk it survives a SIGKILL of the process under test, so the crash
 * test can compare the journal with reality afterwards.  Every action obeys
 * the backend contract (idempotent, probe-able, a failure leaves nothing).
 *
 * Failure injection: wr_fake_fail() makes the next N calls of one action fail
 * before they have any effect.  Call counters let tests assert that an
 * illegal event reached no backend function. */
#ifndef WR_BACKEND_FAKE_H
#define WR_BACKEND_FAKE_H

#include "core/backend.h"

/* Create a fake backend named `name` over directory `dir` (created if
 * missing).  Free with b->ops->destroy(b). */
struct wr_backend *wr_fake_new(const char *name, const char *dir, struct wr_error *err);

/* The next `count` calls of (kind, action) fail with `code` (count < 0: forever,
 * 0: clear). */
void wr_fake_fail(struct wr_backend *b, enum wr_kind kind, const char *action, int code,
		  int count);
/* Calls of (kind, action) so far; action NULL: all calls of every action. */
int wr_fake_calls(struct wr_backend *b, enum wr_kind kind, const char *action);

/* World events a test may cause: the task's or exec's process exits with
 * `status` (the engine learns it by the test dispatching Exit, or by
 * recovery observing it); a resource vanishes as after a reboot. */
int wr_fake_exit(struct wr_backend *b, const struct wr_object *o, int status);
int wr_fake_vanish(struct wr_backend *b, const struct wr_object *o);

/* What the world holds for an object: its state word ("" when no resource). */
int wr_fake_state(struct wr_backend *b, enum wr_kind kind, const char *ns, const char *id,
		  char *buf, size_t len);
/* Number of resource files in the world (the leak check). */
int wr_fake_count(struct wr_backend *b);

#endif
