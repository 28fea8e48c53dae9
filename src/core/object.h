/* object.h — the things warren manages: sandboxes, tasks, exec processes.
 *
 * One struct for all three kinds, because the engine, the journal and the
 * recovery treat them alike: an identity, a lifecycle state, and the
 * kind-specific details as JSON text that only the front end and the backend
 * interpret.  Identity is (kind, ns, id); an exec's id is "<task>/<exec>"
 * (containerd identifiers cannot contain '/', so this is unambiguous). */
#ifndef WR_OBJECT_H
#define WR_OBJECT_H

#include <stdint.h>

enum wr_kind { WR_KIND_SANDBOX = 0, WR_KIND_TASK = 1, WR_KIND_EXEC = 2, WR_KIND_COUNT = 3 };

struct wr_object {
	enum wr_kind kind;
	char *ns;            /* containerd namespace ("k8s.io", "default", ...) */
	char *id;            /* sandbox id, task id, or "<task>/<exec>" */
	char *owner;         /* task: its sandbox id ("" when standalone); exec: task id; sandbox: "" */
	char *backend;       /* name of the backend that owns the object */
	int state;           /* index into the kind's lifecycle state_names */
	int pid;             /* main process, 0 when none */
	int exit_status;     /* valid once the object has exited */
	int64_t exited_at;   /* ns since the epoch, 0 when not exited */
	int64_t created_at;  /* ns since the epoch */
	int64_t updated_at;  /* ns since the epoch, last journaled change */
	char *reason;        /* why it is stopped/failed ("" when none) */
	char *spec;          /* JSON: what the front end asked for (bundle, stdio, netns...) */
	char *bstate;        /* JSON: what the backend holds (paths, pids), for probes */
	void *bdata;         /* backend's in-memory handle; never persisted */
	int gen_slot;        /* its change counter's slot (core/objgen.h), -1: none */
};

const char *wr_kind_name(enum wr_kind kind);
int wr_kind_by_name(const char *name);

/* Allocate an object with the given identity; strings are copied, NULL → "". */
struct wr_object *wr_object_new(enum wr_kind kind, const char *ns, const char *id,
				const char *owner, const char *backend);
void wr_object_free(struct wr_object *o);
/* Replace a string field (frees the old value); NULL → "". Returns -1 on ENOMEM. */
int wr_object_set(char **field, const char *value);

#endif
