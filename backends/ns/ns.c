/* ns.c — the ns backend's operations table and configuration: finding the
 * OCI runtime, the state directory, and the glue the per-kind files share
 * (spec parsing, bstate, signals, probe/observe dispatch by action name). */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/lifecycle.h"

/* ---- runtime lookup ---------------------------------------------------------- */

/* The path of `name`: as is when it has a '/', else the first executable
 * match on PATH.  NULL with errno when none.  Not resolved further, so a
 * runtime replaced on disk (an upgrade) is picked up by the next call. */
static char *find_runtime(const char *name)
{
	char buf[WR_NS_PATH];
	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? strdup(name) : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path; *p;) {
		const char *end = strchrnul(p, ':');
		int len = (int)(end - p);
		if (len > 0 && snprintf(buf, sizeof buf, "%.*s/%s", len, p, name) < (int)sizeof buf &&
		    access(buf, X_OK) == 0)
			return strdup(buf);
		p = *end ? end + 1 : end;
	}
	errno = ENOENT;
	return NULL;
}

int wr_ns_check_runtime(const struct wr_ns *ns, const char *what, struct wr_error *err)
{
	if (access(ns->runtime, X_OK) == 0)
		return 0;
	if (strcmp(ns->runtime, ns->runtime_name) == 0)
		wr_error_errno(err, errno, "ns: %s: OCI runtime '%s' is not executable", what,
			       ns->runtime);
	else
		wr_error_errno(err, errno, "ns: %s: OCI runtime '%s' (%s) is not executable", what,
			       ns->runtime_name, ns->runtime);
	if (err)
		err->code = WR_FAILED_PRECONDITION; /* NotFound would name the wrong thing */
	return -1;
}

/* ---- helpers shared by the action files ------------------------------------------ */

int wr_ns_parse_spec(const struct wr_object *o, struct json_object **out, struct wr_error *err)
{
	struct json_object *j = json_tokener_parse(o->spec ? o->spec : "");
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s %s: spec is not a JSON object",
				    wr_kind_name(o->kind), o->id);
	}
	*out = j;
	return 0;
}

const char *wr_ns_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

int wr_ns_bool(struct json_object *obj, const char *key)
{
	struct json_object *v;
	return obj && json_object_object_get_ex(obj, key, &v) && json_object_get_boolean(v);
}

int wr_ns_set_bstate(struct wr_object *o, struct json_object *st, struct wr_error *err)
{
	if (wr_object_set(&o->bstate, json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN)))
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	return 0;
}

int wr_ns_kill_args(struct json_object *args, int *sig, int *all, struct wr_error *err)
{
	struct json_object *v;
	*sig = SIGTERM;
	*all = 0;
	if (args && json_object_object_get_ex(args, "signal", &v))
		*sig = json_object_get_int(v);
	if (args && json_object_object_get_ex(args, "all", &v))
		*all = json_object_get_boolean(v);
	if (*sig <= 0 || *sig >= NSIG)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid signal %d", *sig);
	return 0;
}

uint64_t wr_ns_recorded_start(const struct wr_object *o)
{
	struct json_object *st = json_tokener_parse(o->bstate ? o->bstate : ""), *v;
	uint64_t start = st && json_object_object_get_ex(st, "start_time", &v)
			 ? (uint64_t)json_object_get_int64(v) : 0;
	json_object_put(st);
	return start;
}

int wr_ns_signal(const struct wr_object *o, int sig, struct wr_error *err)
{
	uint64_t start = wr_ns_recorded_start(o);
	if (o->pid <= 0)
		return wr_error_set(err, WR_FAILED_PRECONDITION, "ns: %s %s has no process",
				    wr_kind_name(o->kind), o->id);
	if (wr_ns_proc_check(o->pid, start) != WR_NS_PROC_ALIVE)
		return 0; /* already gone: the effect of any signal is there */
	if (kill(o->pid, sig) < 0 && errno != ESRCH)
		return wr_error_errno(err, errno, "ns: %s %s: kill(%d, %d)", wr_kind_name(o->kind),
				      o->id, o->pid, sig);
	return 0;
}

/* ---- recovery dispatch ---------------------------------------------------------- */

static int ns_probe(struct wr_backend *b, struct wr_object *o, int action,
		    struct json_object *args, struct wr_error *err)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	if (!lc || action < 0 || action >= lc->n_actions)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: probe of unknown action %d", action);
	const char *name = lc->action_names[action];
	switch (o->kind) {
	case WR_KIND_SANDBOX: return wr_ns_sandbox_probe(b, o, name, args, err);
	case WR_KIND_TASK: return wr_ns_task_probe(b, o, name, args, err);
	case WR_KIND_EXEC: return wr_ns_exec_probe(b, o, name, args, err);
	default: return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: unknown object kind");
	}
}

static int ns_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
		      struct wr_error *err)
{
	memset(obs, 0, sizeof *obs);
	int rc;
	switch (o->kind) {
	case WR_KIND_SANDBOX: return wr_ns_sandbox_observe(b, o, obs, err);
	case WR_KIND_TASK: rc = wr_ns_task_observe(b, o, obs, err); break;
	case WR_KIND_EXEC: rc = wr_ns_exec_observe(b, o, obs, err); break;
	default: return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: unknown object kind");
	}
	/* observe runs in recovery only: a terminal kept across the restart is
	 * its process's still (exited or not: what it wrote is to be drained) */
	if (rc == 0 && obs->exists)
		wr_ns_tty_recover(wr_ns_of(b), o);
	return rc;
}

/* ---- plumbing ------------------------------------------------------------------- */

static void ns_release(struct wr_backend *b, struct wr_object *o)
{
	/* the only in-memory handles are terminals (ns_tty.c); everything else
	 * lives on disk and in the kernel */
	wr_ns_tty_release(wr_ns_of(b), o);
}

static void ns_destroy(struct wr_backend *b)
{
	if (!b)
		return;
	struct wr_ns *ns = b->priv;
	if (ns) {
		wr_ns_tty_release_all(ns);
		wr_ns_release_private(ns);
		free(ns->state_dir);
		free(ns->runtime_name);
		free(ns->runtime);
		free(ns->runtime_root);
		free(ns->sandboxes);
		free(ns->log_path);
		free(ns->holder);
		free(ns);
	}
	free(b);
}

/* Starting an ns sandbox only checks that its namespaces and files are there
 * (wr_ns_sandbox_start): nothing runs in it. */
static int ns_action_checks_only(const struct wr_backend *b, enum wr_kind kind, int action)
{
	(void)b;
	return kind == WR_KIND_SANDBOX && action >= 0 &&
	       strcmp(wr_lifecycle_of(kind)->action_names[action], "start") == 0;
}

static const struct wr_backend_ops ns_ops = {
	.name = "ns",
	.sandbox_create = wr_ns_sandbox_create,
	.sandbox_start = wr_ns_sandbox_start,
	.sandbox_stop = wr_ns_sandbox_stop,
	.sandbox_delete = wr_ns_sandbox_delete,
	.run_actions = wr_ns_run_actions,
	.action_checks_only = ns_action_checks_only,
	.task_create = wr_ns_task_create,
	.task_start = wr_ns_task_start,
	.task_kill = wr_ns_task_kill,
	.task_pause = wr_ns_task_pause,
	.task_resume = wr_ns_task_resume,
	.task_update = wr_ns_task_update,
	.task_delete = wr_ns_task_delete,
	.exec_create = wr_ns_exec_create,
	.exec_start = wr_ns_exec_start,
	.exec_kill = wr_ns_exec_kill,
	.exec_delete = wr_ns_exec_delete,
	.sandbox_status = wr_ns_sandbox_status,
	.task_pids = wr_ns_task_pids,
	.task_stats = wr_ns_task_stats,
	.task_oom_killed = wr_ns_task_oom_killed,
	.resize_pty = wr_ns_tty_resize,
	.close_io = wr_ns_tty_close_stdin,
	.probe = ns_probe,
	.observe = ns_observe,
	.release = ns_release,
	.destroy = ns_destroy,
};

static char *dupf(const char *fmt, const char *a, const char *b)
{
	char *s = NULL;
	return asprintf(&s, fmt, a, b) < 0 ? NULL : s;
}

struct wr_backend *wr_ns_backend_new(const struct wr_ns_config *cfg, struct wr_error *err)
{
	if (!cfg || !cfg->state_dir || cfg->state_dir[0] != '/') {
		wr_error_set(err, WR_INVALID_ARGUMENT, "ns: state_dir must be an absolute path");
		return NULL;
	}
	const char *name = cfg->runtime && *cfg->runtime ? cfg->runtime : "runc";
	char *runtime = find_runtime(name);
	if (!runtime) {
		wr_error_errno(err, errno, "ns: OCI runtime '%s' not found%s", name,
			       strchr(name, '/') ? "" : " on PATH");
		if (err)
			err->code = WR_FAILED_PRECONDITION;
		return NULL;
	}
	struct wr_backend *b = calloc(1, sizeof *b);
	struct wr_ns *ns = calloc(1, sizeof *ns);
	if (b)
		b->priv = ns;
	if (!b || !ns) {
		free(ns);
		free(b);
		free(runtime);
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	b->ops = &ns_ops;
	ns->runtime = runtime;
	ns->runtime_name = strdup(name);
	ns->loop = cfg->loop;
	ns->keep = cfg->keep;
	ns->unprivileged_ports = cfg->unprivileged_ports;
	ns->unprivileged_icmp = cfg->unprivileged_icmp;
	ns->cgroup_mode = cfg->cgroup_version == 1 || cfg->cgroup_version == 2 ? cfg->cgroup_version : 0;
	ns->state_dir = strdup(cfg->state_dir);
	ns->runtime_root = cfg->runtime_root && *cfg->runtime_root
			   ? strdup(cfg->runtime_root) : dupf("%s/%s", cfg->state_dir, "runc");
	ns->sandboxes = dupf("%s/%s", cfg->state_dir, "sandboxes");
	ns->log_path = dupf("%s/%s", cfg->state_dir, "runtime-log.json");
	ns->holder = wr_ns_holder_path(cfg->holder);
	if (!ns->runtime_name || !ns->state_dir || !ns->runtime_root || !ns->sandboxes ||
	    !ns->log_path || !ns->holder) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		ns_destroy(b);
		return NULL;
	}
	if (wr_mkdir_p(ns->state_dir, 0700, err) || wr_mkdir_p(ns->runtime_root, 0700, err)) {
		ns_destroy(b);
		return NULL;
	}
	wr_ns_tty_sweep(ns);
	return b;
}
