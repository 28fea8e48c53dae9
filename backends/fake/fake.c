/* fake.c — the file-backed fake backend (see fake.h). */
#include "backends/fake/fake.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/lifecycle.h"

#define FAKE_SLOTS 32

struct fake {
	char *dir;
	struct { enum wr_kind kind; char action[16]; int code, count, calls; } slot[FAKE_SLOTS];
	int n_slots;
};

static struct fake *F(struct wr_backend *b)
{
	return b->priv;
}

static int slot_of(struct fake *f, enum wr_kind kind, const char *action)
{
	for (int i = 0; i < f->n_slots; i++)
		if (f->slot[i].kind == kind && strcmp(f->slot[i].action, action) == 0)
			return i;
	if (f->n_slots == FAKE_SLOTS)
		return -1;
	int i = f->n_slots++;
	f->slot[i].kind = kind;
	snprintf(f->slot[i].action, sizeof f->slot[i].action, "%s", action);
	return i;
}

void wr_fake_fail(struct wr_backend *b, enum wr_kind kind, const char *action, int code, int count)
{
	int i = slot_of(F(b), kind, action);
	if (i >= 0) {
		F(b)->slot[i].code = code;
		F(b)->slot[i].count = count;
	}
}

int wr_fake_calls(struct wr_backend *b, enum wr_kind kind, const char *action)
{
	struct fake *f = F(b);
	int n = 0;
	for (int i = 0; i < f->n_slots; i++)
		if (!action || (f->slot[i].kind == kind && strcmp(f->slot[i].action, action) == 0))
			n += f->slot[i].calls;
	return n;
}

/* Count the call; fail it if injected.  Returns -1 with err when it must fail. */
static int enter(struct wr_backend *b, const struct wr_object *o, const char *action,
		 struct wr_error *err)
{
	struct fake *f = F(b);
	int i = slot_of(f, o->kind, action);
	if (i < 0)
		return 0;
	f->slot[i].calls++;
	if (f->slot[i].count == 0)
		return 0;
	if (f->slot[i].count > 0)
		f->slot[i].count--;
	return wr_error_set(err, f->slot[i].code ? f->slot[i].code : WR_INTERNAL,
			    "fake: injected failure of %s %s on %s", wr_kind_name(o->kind), action, o->id);
}

/* ---- the world on disk -------------------------------------------------------- */

static void path_of(struct fake *f, enum wr_kind kind, const char *ns, const char *id, char *buf,
		    size_t len)
{
	int n = snprintf(buf, len, "%s/%s_%s_", f->dir, wr_kind_name(kind), ns);
	for (const char *s = id; *s && n < (int)len - 6; s++)
		buf[n++] = *s == '/' ? '+' : *s;
	snprintf(buf + n, len - n, ".json");
}

static struct json_object *load(struct fake *f, const struct wr_object *o)
{
	char path[4096];
	path_of(f, o->kind, o->ns, o->id, path, sizeof path);
	if (access(path, F_OK) != 0)
		return NULL;
	return json_object_from_file(path);
}

static int save(struct fake *f, const struct wr_object *o, struct json_object *w, struct wr_error *err)
{
	char path[4096], tmp[4200];
	path_of(f, o->kind, o->ns, o->id, path, sizeof path);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (json_object_to_file(tmp, w) < 0 || rename(tmp, path) < 0)
		return wr_error_errno(err, errno, "fake: cannot write %s", path);
	return 0;
}

static const char *state_of(struct json_object *w)
{
	struct json_object *v;
	return w && json_object_object_get_ex(w, "state", &v) ? json_object_get_string(v) : "";
}

static int set_state(struct fake *f, const struct wr_object *o, struct json_object *w,
		     const char *state, struct wr_error *err)
{
	json_object_object_add(w, "state", json_object_new_string(state));
	return save(f, o, w, err);
}

/* ---- actions -------------------------------------------------------------------- */

static int act_create(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	if (enter(b, o, "create", err))
		return -1;
	struct json_object *w = load(F(b), o);
	if (w) {                          /* idempotent: already made */
		json_object_put(w);
		return 0;
	}
	w = json_object_new_object();
	int rc = set_state(F(b), o, w, "created", err);
	json_object_put(w);
	return rc;
}

/* Move an existing resource to `state`; `need` lists acceptable current
 * states (space-separated) or NULL for any; `same` is the state that means
 * the action already happened. */
static int move(struct wr_backend *b, struct wr_object *o, const char *action, const char *need,
		const char *state, struct wr_error *err)
{
	if (enter(b, o, action, err))
		return -1;
	struct json_object *w = load(F(b), o);
	if (!w)
		return wr_error_set(err, WR_NOT_FOUND, "fake: %s %s has no resources",
				    wr_kind_name(o->kind), o->id);
	const char *cur = state_of(w);
	int rc = 0;
	if (strcmp(cur, state) != 0) {
		if (need && !strstr(need, cur)) {
			rc = wr_error_set(err, WR_FAILED_PRECONDITION, "fake: %s %s is %s, cannot %s",
					  wr_kind_name(o->kind), o->id, cur, action);
		} else {
			rc = set_state(F(b), o, w, state, err);
		}
	}
	json_object_put(w);
	return rc;
}

static int act_start(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		     struct wr_error *err)
{
	(void)args;
	if (move(b, o, "start", "created", "running", err))
		return -1;
	o->pid = 1000 + (int)(strlen(o->id) * 7 % 1000);
	return 0;
}

static int act_stop(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		    struct wr_error *err)
{
	(void)args;
	return move(b, o, "stop", NULL, "stopped", err);
}

static int act_pause(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		     struct wr_error *err)
{
	(void)args;
	return move(b, o, "pause", "running", "paused", err);
}

static int act_resume(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	return move(b, o, "resume", "paused", "running", err);
}

static int act_delete(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	if (enter(b, o, "delete", err))
		return -1;
	char path[4096];
	path_of(F(b), o->kind, o->ns, o->id, path, sizeof path);
	if (unlink(path) < 0 && errno != ENOENT)
		return wr_error_errno(err, errno, "fake: cannot remove %s", path);
	return 0;
}

/* Record a signal or a resource update in a list/field of the resource. */
static int record(struct wr_backend *b, struct wr_object *o, const char *action, const char *field,
		  struct json_object *args, struct wr_error *err)
{
	if (enter(b, o, action, err))
		return -1;
	struct json_object *w = load(F(b), o);
	if (!w)
		return wr_error_set(err, WR_NOT_FOUND, "fake: %s %s has no resources",
				    wr_kind_name(o->kind), o->id);
	json_object_object_add(w, field, args ? json_object_get(args) : json_object_new_object());
	int rc = save(F(b), o, w, err);
	json_object_put(w);
	return rc;
}

static int act_kill(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		    struct wr_error *err)
{
	return record(b, o, "kill", "last_kill", args, err);
}

static int act_update(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	return record(b, o, "update", "resources", args, err);
}

/* ---- probes --------------------------------------------------------------------- */

static bool same_json(struct json_object *a, struct json_object *b)
{
	if (!a || !b)
		return !a && !b;
	return strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
		      json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) == 0;
}

static int fake_probe(struct wr_backend *b, struct wr_object *o, int action,
		      struct json_object *args, struct wr_error *err)
{
	(void)err;
	const char *name = wr_lifecycle_of(o->kind)->action_names[action];
	struct json_object *w = load(F(b), o), *v = NULL;
	const char *st = state_of(w);
	int done;
	if (strcmp(name, "create") == 0)
		done = w != NULL;
	else if (strcmp(name, "delete") == 0)
		done = w == NULL;
	else if (strcmp(name, "start") == 0)
		done = w && strcmp(st, "created") != 0;
	else if (strcmp(name, "stop") == 0)
		done = !w || strcmp(st, "stopped") == 0;
	else if (strcmp(name, "pause") == 0)
		done = w && strcmp(st, "paused") == 0;
	else if (strcmp(name, "resume") == 0)
		done = w && strcmp(st, "running") == 0;
	else if (strcmp(name, "kill") == 0)
		done = w && json_object_object_get_ex(w, "last_kill", &v) && same_json(v, args);
	else if (strcmp(name, "update") == 0)
		done = w && json_object_object_get_ex(w, "resources", &v) && same_json(v, args);
	else
		done = 0;
	json_object_put(w);
	return done;
}

static int fake_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
			struct wr_error *err)
{
	(void)err;
	struct json_object *w = load(F(b), o), *v;
	obs->exists = w != NULL;
	obs->exited = w && strcmp(state_of(w), "exited") == 0;
	obs->exit_status = obs->exited && json_object_object_get_ex(w, "exit_status", &v)
			   ? json_object_get_int(v) : 0;
	obs->exited_at = 0;
	json_object_put(w);
	return 0;
}

int wr_fake_exit(struct wr_backend *b, const struct wr_object *o, int status)
{
	struct wr_error err;
	struct json_object *w = load(F(b), o);
	if (!w)
		return -1;
	json_object_object_add(w, "exit_status", json_object_new_int(status));
	int rc = set_state(F(b), o, w, "exited", &err);
	json_object_put(w);
	return rc;
}

int wr_fake_vanish(struct wr_backend *b, const struct wr_object *o)
{
	char path[4096];
	path_of(F(b), o->kind, o->ns, o->id, path, sizeof path);
	return unlink(path);
}

int wr_fake_state(struct wr_backend *b, enum wr_kind kind, const char *ns, const char *id,
		  char *buf, size_t len)
{
	struct wr_object probe = { .kind = kind, .ns = (char *)ns, .id = (char *)id };
	struct json_object *w = load(F(b), &probe);
	snprintf(buf, len, "%s", state_of(w));
	json_object_put(w);
	return 0;
}

int wr_fake_count(struct wr_backend *b)
{
	DIR *d = opendir(F(b)->dir);
	int n = 0;
	if (!d)
		return -1;
	for (struct dirent *de; (de = readdir(d));) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".json") == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* ---- queries and plumbing --------------------------------------------------- */

static int fake_status(struct wr_backend *b, struct wr_object *sb, struct json_object **info,
		       struct wr_error *err)
{
	struct json_object *w = load(F(b), sb);
	if (!w)
		return wr_error_set(err, WR_NOT_FOUND, "fake: sandbox %s has no resources", sb->id);
	*info = w;
	return 0;
}

static int fake_pids(struct wr_backend *b, struct wr_object *t, pid_t **pids, size_t *n,
		     struct wr_error *err)
{
	(void)b;
	(void)err;
	*n = t->pid ? 1 : 0;
	*pids = calloc(1, sizeof **pids);
	if (!*pids)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	(*pids)[0] = t->pid;
	return 0;
}

static void fake_destroy(struct wr_backend *b)
{
	if (!b)
		return;
	free(F(b)->dir);
	free(b->priv);
	free((void *)b->ops);
	free(b);
}

static const struct wr_backend_ops fake_ops_template = {
	.sandbox_create = act_create,
	.sandbox_start = act_start,
	.sandbox_stop = act_stop,
	.sandbox_delete = act_delete,
	.task_create = act_create,
	.task_start = act_start,
	.task_kill = act_kill,
	.task_pause = act_pause,
	.task_resume = act_resume,
	.task_update = act_update,
	.task_delete = act_delete,
	.exec_create = act_create,
	.exec_start = act_start,
	.exec_kill = act_kill,
	.exec_delete = act_delete,
	.sandbox_status = fake_status,
	.task_pids = fake_pids,
	.probe = fake_probe,
	.observe = fake_observe,
	.destroy = fake_destroy,
};

struct wr_backend *wr_fake_new(const char *name, const char *dir, struct wr_error *err)
{
	struct wr_backend *b = calloc(1, sizeof *b);
	struct fake *f = calloc(1, sizeof *f);
	struct wr_backend_ops *ops = calloc(1, sizeof *ops);
	if (!b || !f || !ops) {
		free(b);
		free(f);
		free(ops);
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	*ops = fake_ops_template;
	ops->name = name;
	f->dir = strdup(dir);
	b->ops = ops;
	b->priv = f;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		wr_error_errno(err, errno, "fake: cannot create %s", dir);
		fake_destroy(b);
		return NULL;
	}
	return b;
}
