/* ns_task.c — task (container) actions of the ns backend: an OCI runtime
 * container per task, in its sandbox's namespaces.
 *
 * Spec: {"bundle": "/abs/path" (config.json written by containerd),
 *        "rootfs": [{"type","source","target","options"}] (mounted onto
 *        <bundle>/rootfs here; empty: the rootfs is already there),
 *        "stdin", "stdout", "stderr": FIFO paths or "", "terminal": bool}.
 * With terminal true (config.json's process.terminal must say so too, as
 * containerd writes it), the runtime makes a pty and hands its master over a
 * console socket; ns_tty.c copies stdin → pty → stdout (no stderr).
 * o->owner names the sandbox ("" for a standalone container such as ctr
 * run); config.json is rewritten to join it (ns_spec.c).
 *
 * The container's init is started by `runc create` and is reparented to the
 * hosting daemon (a child subreaper) when runc exits; the daemon reaps it and
 * reports its exit by o->pid.  We never wait for it here.
 *
 * bstate: {"bundle", "pid", "start_time" (/proc/<pid>/stat, to tell a reused
 * pid), "rootfs_mounted", "sandbox" (its directory or "")}. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct task {
	struct json_object *spec;
	const char *bundle;
	struct json_object *mounts; /* rootfs mounts, NULL when none */
	char rootfs[WR_NS_PATH];
	char pidfile[WR_NS_PATH];
	char what[320];             /* "task <id>" for messages */
};

static int task_open(const struct wr_object *o, struct task *t, struct wr_error *err)
{
	memset(t, 0, sizeof *t);
	snprintf(t->what, sizeof t->what, "task %s", o->id);
	if (!wr_ns_valid_name(o->id))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid task id '%s'", o->id);
	if (wr_ns_parse_spec(o, &t->spec, err))
		return -1;
	t->bundle = wr_ns_str(t->spec, "bundle");
	struct json_object *m;
	if (json_object_object_get_ex(t->spec, "rootfs", &m) && json_object_is_type(m, json_type_array) &&
	    json_object_array_length(m) > 0)
		t->mounts = m;
	if (t->bundle[0] != '/') {
		wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: bundle '%s' is not an absolute path",
			     t->what, t->bundle);
		json_object_put(t->spec);
		t->spec = NULL;
		return -1;
	}
	if (wr_ns_pathf(t->rootfs, sizeof t->rootfs, err, "%s/rootfs", t->bundle) ||
	    wr_ns_pathf(t->pidfile, sizeof t->pidfile, err, "%s/init.pid", t->bundle)) {
		json_object_put(t->spec);
		t->spec = NULL;
		return -1;
	}
	return 0;
}

static void task_close(struct task *t)
{
	json_object_put(t->spec);
	t->spec = NULL;
}

/* o->pid and bstate for a container whose init is pid. */
static int record(struct wr_object *o, const struct task *t, pid_t pid, const char *sandbox,
		  struct wr_error *err)
{
	struct json_object *st = json_object_new_object();
	o->pid = pid;
	json_object_object_add(st, "bundle", json_object_new_string(t->bundle));
	json_object_object_add(st, "pid", json_object_new_int(pid));
	json_object_object_add(st, "start_time", json_object_new_int64((int64_t)wr_ns_proc_start(pid, NULL)));
	json_object_object_add(st, "rootfs_mounted", json_object_new_boolean(t->mounts != NULL));
	json_object_object_add(st, "sandbox", json_object_new_string(sandbox ? sandbox : ""));
	int rc = wr_ns_set_bstate(o, st, err);
	json_object_put(st);
	return rc;
}

/* Undo everything task_create makes (also the tail of task_delete). */
static int cleanup(const struct wr_ns *ns, const struct wr_object *o, const struct task *t,
		   int rmdir_rootfs, struct wr_error *err)
{
	if (wr_ns_runc_has(ns, o->id)) {
		const char *args[] = { "delete", "--force", o->id, NULL };
		if (wr_ns_runc(ns, t->what, args, NULL, NULL, err) < 0 && wr_ns_runc_has(ns, o->id))
			return -1;
	}
	if (t->mounts && wr_ns_unmount_all(t->rootfs, err))
		return -1;
	if (rmdir_rootfs)
		rmdir(t->rootfs);
	if (wr_ns_spec_restore(t->bundle, err))
		return -1;
	if (unlink(t->pidfile) < 0 && errno != ENOENT)
		return wr_error_errno(err, errno, "ns: cannot remove %s", t->pidfile);
	return 0;
}

/* A create or start begun: its runtime process spawned, not reaped yet
 * (wr_ns_task_begin / wr_ns_task_finish; ns_batch.c runs several at once). */
struct wr_ns_task_run {
	int start;                /* 0: create, 1: start */
	struct task t;            /* create */
	struct json_object *sb;   /* create: the sandbox's record, or NULL */
	int made_rootfs;          /* create */
	struct wr_ns_runc_job job;
};

size_t wr_ns_task_run_size(void)
{
	return sizeof(struct wr_ns_task_run);
}

/* Undo a create that failed after its rootfs was prepared. */
static void create_failed(struct wr_ns *ns, struct wr_object *o, struct wr_ns_task_run *r)
{
	struct wr_error ignore;
	cleanup(ns, o, &r->t, r->made_rootfs, &ignore);
}

static void run_free(struct wr_ns_task_run *r)
{
	json_object_put(r->sb);
	r->sb = NULL;
	task_close(&r->t);
}

/* A terminal container: the runtime hands the pty over a console socket
 * and ns_tty.c takes it from there, so the whole create runs here. */
static int create_tty(struct wr_ns *ns, struct wr_object *o, struct wr_ns_task_run *r,
		      struct wr_error *err)
{
	struct task *t = &r->t;
	struct wr_ns_console con = { .lfd = -1, .in = -1, .out = -1 };
	if (wr_ns_console_open(ns, &con, t->what, wr_ns_str(t->spec, "stdin"),
			       wr_ns_str(t->spec, "stdout"), err))
		goto fail;
	unlink(t->pidfile);
	const char *cargs[] = { "create", "--bundle", t->bundle, "--pid-file", t->pidfile,
				"--console-socket", con.path, o->id, NULL };
	if (wr_ns_runc(ns, t->what, cargs, NULL, NULL, err) < 0)
		goto fail;
	pid_t pid = wr_ns_read_pidfile(t->pidfile);
	if (pid <= 0) {
		wr_error_errno(err, errno, "ns: %s: cannot read %s", t->what, t->pidfile);
		goto fail;
	}
	if (wr_ns_tty_attach(ns, &con, o, pid, err))
		goto fail;
	wr_ns_console_close(&con);
	if (record(o, t, pid, wr_ns_str(r->sb, "dir"), err)) {
		wr_ns_tty_release(ns, o);
		goto fail_closed;
	}
	return 1;
fail:
	wr_ns_console_close(&con);
fail_closed:
	create_failed(ns, o, r);
	return -1;
}

/* Everything of a create up to its `runc create`, which it spawns.  1: done
 * already (a terminal container, or one created before a crash: recorded);
 * 0: the runtime runs, wr_ns_task_finish completes it; -1: failed, nothing
 * left behind. */
static int create_begin(struct wr_ns *ns, struct wr_object *o, int slot, struct wr_ns_task_run *r,
			struct wr_error *err)
{
	struct task *t = &r->t;
	struct wr_ns_stdio io = { { -1, -1, -1 } };
	char status[32];
	pid_t pid = 0;
	if (task_open(o, t, err))
		return -1;
	int tty = wr_ns_bool(t->spec, "terminal");
	if (tty && !ns->loop)
		return wr_error_set(err, WR_UNIMPLEMENTED, "ns: %s: terminal (tty) containers need "
				    "the daemon's event loop (none configured)", t->what);
	if (wr_ns_check_runtime(ns, t->what, err))
		return -1;
	if (o->owner[0]) {
		r->sb = wr_ns_sandbox_load(ns, o->ns, o->owner);
		if (!r->sb)
			return wr_error_set(err, WR_FAILED_PRECONDITION, "ns: %s: sandbox %s not found "
					    "(namespace %s)", t->what, o->owner, o->ns);
	}
	/* already created (a rerun after a crash): just record it; its terminal,
	 * if warrend's front kept it, was resumed when recovery observed the
	 * task (wr_ns_tty_recover), else it died with the old core */
	int have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, err);
	if (have < 0)
		return -1;
	if (have) {
		if (pid <= 0) /* stopped since: runc state has no pid, the pid file does */
			pid = wr_ns_read_pidfile(t->pidfile);
		return record(o, t, pid > 0 ? pid : 0, wr_ns_str(r->sb, "dir"), err) < 0 ? -1 : 1;
	}

	if (mkdir(t->rootfs, 0755) == 0)
		r->made_rootfs = 1;
	else if (errno != EEXIST)
		return wr_error_errno(err, errno, "ns: %s: cannot create %s", t->what, t->rootfs);
	int mp = t->mounts ? wr_ns_is_mountpoint(t->rootfs) : 1;
	if (mp < 0) {
		wr_error_errno(err, errno, "ns: %s: cannot stat %s", t->what, t->rootfs);
		goto fail;
	}
	if (!mp && wr_ns_mount_rootfs(t->mounts, t->rootfs, err))
		goto fail;
	if (wr_ns_spec_rewrite(t->bundle, r->sb, err))
		goto fail;
	if (tty)
		return create_tty(ns, o, r, err);
	if (wr_ns_stdio_open(&io, wr_ns_str(t->spec, "stdin"), wr_ns_str(t->spec, "stdout"),
			     wr_ns_str(t->spec, "stderr"), err))
		goto fail;
	unlink(t->pidfile);
	const char *cargs[] = { "create", "--bundle", t->bundle, "--pid-file", t->pidfile,
				o->id, NULL };
	int rc = wr_ns_runc_spawn(ns, slot, t->what, cargs, io.fd, 0, &r->job, err);
	wr_ns_stdio_close(&io); /* the container's init holds them now */
	if (rc < 0)
		goto fail;
	return 0;
fail:
	create_failed(ns, o, r);
	return -1;
}

static int create_finish(struct wr_ns *ns, struct wr_object *o, struct wr_ns_task_run *r,
			 int count_wait, struct wr_error *err)
{
	struct task *t = &r->t;
	if (wr_ns_runc_finish(ns, &r->job, count_wait, NULL, err) < 0)
		goto fail;
	pid_t pid = wr_ns_read_pidfile(t->pidfile);
	if (pid <= 0) {
		wr_error_errno(err, errno, "ns: %s: cannot read %s", t->what, t->pidfile);
		goto fail;
	}
	if (record(o, t, pid, wr_ns_str(r->sb, "dir"), err))
		goto fail;
	return 0;
fail:
	create_failed(ns, o, r);
	return -1;
}

/* runc start first: asking runc state beforehand cost a whole runc run
 * (~19 ms) on every pod start.  Only a failure needs the state. */
static int start_begin(struct wr_ns *ns, struct wr_object *o, int slot, struct wr_ns_task_run *r,
		       struct wr_error *err)
{
	snprintf(r->t.what, sizeof r->t.what, "task %s", o->id);
	const char *cargs[] = { "start", o->id, NULL };
	return wr_ns_runc_spawn(ns, slot, r->t.what, cargs, NULL, 0, &r->job, err) < 0 ? -1 : 0;
}

static int start_finish(struct wr_ns *ns, struct wr_object *o, struct wr_ns_task_run *r,
			int count_wait, struct wr_error *err)
{
	char status[32];
	pid_t pid;
	if (wr_ns_runc_finish(ns, &r->job, count_wait, NULL, err) == 0)
		return 0;
	struct wr_error again;
	int have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, &again);
	if (have == 0)
		return wr_error_set(err, WR_NOT_FOUND, "ns: %s: container does not exist", r->t.what);
	/* started already (a re-run of this action), and maybe exited since:
	 * runc's own words say so ("already running", "has stopped"), whatever
	 * the state is by the time we ask; any other failure is start's own */
	if (have == 1 && (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
			  strstr(err->msg, "cannot start an already running container") ||
			  strstr(err->msg, "cannot start a container that has stopped")))
		return 0;
	return -1;
}

int wr_ns_task_begin(struct wr_backend *b, struct wr_object *o, int start, int slot,
		     struct wr_ns_task_run *r, struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	memset(r, 0, sizeof *r);
	r->start = start;
	int rc = start ? start_begin(ns, o, slot, r, err) : create_begin(ns, o, slot, r, err);
	if (rc != 0)
		run_free(r);
	return rc;
}

int wr_ns_task_finish(struct wr_backend *b, struct wr_object *o, struct wr_ns_task_run *r,
		      int count_wait, struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	int rc = r->start ? start_finish(ns, o, r, count_wait, err)
			  : create_finish(ns, o, r, count_wait, err);
	run_free(r);
	return rc;
}

static int begin_finish(struct wr_backend *b, struct wr_object *o, int start,
			struct wr_error *err)
{
	struct wr_ns_task_run r;
	int rc = wr_ns_task_begin(b, o, start, 0, &r, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return wr_ns_task_finish(b, o, &r, 1, err);
}

int wr_ns_task_create(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	return begin_finish(b, o, 0, err);
}

int wr_ns_task_start(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		     struct wr_error *err)
{
	(void)args;
	return begin_finish(b, o, 1, err);
}

int wr_ns_task_kill(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		    struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	char status[32], what[320], signum[16];
	pid_t pid;
	int sig, all;
	snprintf(what, sizeof what, "task %s", o->id);
	if (wr_ns_kill_args(args, &sig, &all, err))
		return -1;
	if (!all)
		return wr_ns_signal(o, sig, err);
	int have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, err);
	if (have < 0)
		return -1;
	if (!have || strcmp(status, "stopped") == 0)
		return 0;
	snprintf(signum, sizeof signum, "%d", sig);
	const char *cargs[] = { "kill", "--all", o->id, signum, NULL };
	if (wr_ns_runc(ns, what, cargs, NULL, NULL, err) == 0)
		return 0;
	/* it may have stopped meanwhile: then the signal has nothing left to reach */
	struct wr_error again;
	have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, &again);
	return have == 0 || (have == 1 && strcmp(status, "stopped") == 0) ? 0 : -1;
}

static int pause_resume(struct wr_backend *b, struct wr_object *o, const char *verb,
			const char *done_status, struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	char status[32], what[320];
	pid_t pid;
	snprintf(what, sizeof what, "task %s", o->id);
	int have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, err);
	if (have < 0)
		return -1;
	if (!have)
		return wr_error_set(err, WR_NOT_FOUND, "ns: %s: container does not exist", what);
	if (strcmp(status, done_status) == 0)
		return 0;
	const char *cargs[] = { verb, o->id, NULL };
	return wr_ns_runc(ns, what, cargs, NULL, NULL, err);
}

int wr_ns_task_pause(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		     struct wr_error *err)
{
	(void)args;
	return pause_resume(b, o, "pause", "paused", err);
}

int wr_ns_task_resume(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	return pause_resume(b, o, "resume", "running", err);
}

int wr_ns_task_delete(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	struct task t;
	if (task_open(o, &t, err))
		return -1;
	/* containerd made <bundle>/rootfs and removes the bundle: leave the dir */
	int rc = cleanup(wr_ns_of(b), o, &t, 0, err);
	if (rc == 0)
		wr_ns_tty_release(wr_ns_of(b), o);
	task_close(&t);
	return rc;
}

/* Update: args {"resources": <OCI LinuxResources>} (containerd's
 * UpdateTaskRequest.resources, JSON), handed to `runc update --resources`
 * through <bundle>/update-resources.json, removed again after.  Setting the
 * same values again is harmless, so a rerun after a crash is too.  No
 * resources (null or absent): nothing to change. */
int wr_ns_task_update(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	struct json_object *res = NULL;
	struct task t;
	char path[WR_NS_PATH];
	if (args && !json_object_is_type(args, json_type_object))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: task %s: update arguments are "
				    "not a JSON object", o->id);
	if (!args || !json_object_object_get_ex(args, "resources", &res) || !res)
		return 0;
	if (!json_object_is_type(res, json_type_object))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: task %s: resources are not a JSON "
				    "object (OCI LinuxResources)", o->id);
	if (task_open(o, &t, err))
		return -1;
	int rc = -1;
	if (wr_ns_check_runtime(ns, t.what, err))
		goto out;
	if (!wr_ns_runc_has(ns, o->id)) {
		wr_error_set(err, WR_NOT_FOUND, "ns: %s: container does not exist", t.what);
		goto out;
	}
	if (wr_ns_pathf(path, sizeof path, err, "%s/update-resources.json", t.bundle))
		goto out;
	const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
	if (wr_ns_write_file(path, text, strlen(text), 0600, err))
		goto out;
	const char *cargs[] = { "update", "--resources", path, o->id, NULL };
	rc = wr_ns_runc(ns, t.what, cargs, NULL, NULL, err);
	unlink(path);
out:
	task_close(&t);
	return rc;
}

/* Pids: the task's cgroup (ns_stats.c), else `runc ps`. */
int wr_ns_task_pids(struct wr_backend *b, struct wr_object *o, pid_t **pids, size_t *n,
		    struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	char what[320];
	char *out = NULL;
	snprintf(what, sizeof what, "task %s", o->id);
	*pids = NULL;
	*n = 0;
	if (!wr_ns_runc_has(ns, o->id))
		return wr_error_set(err, WR_NOT_FOUND, "ns: %s: container does not exist", what);
	int r = wr_ns_cgroup_pids(b, o, pids, n, err);
	if (r != 0)
		return r < 0 ? -1 : 0;
	const char *cargs[] = { "ps", "--format", "json", o->id, NULL };
	if (wr_ns_runc(ns, what, cargs, NULL, &out, err) < 0)
		return -1;
	struct json_object *j = json_tokener_parse(out);
	free(out);
	if (j && !json_object_is_type(j, json_type_array)) {
		json_object_put(j);
		return wr_error_set(err, WR_INTERNAL, "ns: %s: runtime ps output is not a list", what);
	}
	size_t len = j ? json_object_array_length(j) : 0; /* "null": no processes */
	*pids = calloc(len ? len : 1, sizeof **pids);
	if (!*pids) {
		json_object_put(j);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	}
	for (size_t i = 0; i < len; i++)
		(*pids)[i] = (pid_t)json_object_get_int(json_object_array_get_idx(j, i));
	*n = len;
	json_object_put(j);
	return 0;
}

/* ---- recovery ----------------------------------------------------------------- */

int wr_ns_task_probe(struct wr_backend *b, struct wr_object *o, const char *action,
		     struct json_object *args, struct wr_error *err)
{
	struct wr_ns *ns = wr_ns_of(b);
	char status[32];
	pid_t pid;
	if (strcmp(action, "delete") == 0) {
		struct task t;
		if (task_open(o, &t, err))
			return -1;
		int done = !wr_ns_runc_has(ns, o->id) && (!t.mounts || wr_ns_is_mountpoint(t.rootfs) == 0);
		task_close(&t);
		return done;
	}
	if (strcmp(action, "kill") == 0) {
		int sig, all;
		if (wr_ns_kill_args(args, &sig, &all, err))
			return -1;
		if (!all)
			return o->pid > 0 && wr_ns_proc_check(o->pid, wr_ns_recorded_start(o)) != WR_NS_PROC_ALIVE;
	}
	if (strcmp(action, "update") == 0)
		return 0;
	int have = wr_ns_runc_state(ns, o->id, status, sizeof status, &pid, err);
	if (have < 0)
		return -1;
	if (strcmp(action, "create") == 0) {
		if (!have)
			return 0;
		struct task t;
		if (task_open(o, &t, err))
			return -1;
		if (pid <= 0)
			pid = wr_ns_read_pidfile(t.pidfile);
		if (pid <= 0)
			pid = 0;
		struct json_object *sb = o->owner[0] ? wr_ns_sandbox_load(ns, o->ns, o->owner) : NULL;
		int rc = record(o, &t, pid, wr_ns_str(sb, "dir"), err);
		json_object_put(sb);
		task_close(&t);
		return rc < 0 ? -1 : 1;
	}
	if (!have)
		return 0;
	if (strcmp(action, "start") == 0)
		return strcmp(status, "created") != 0;
	if (strcmp(action, "kill") == 0)
		return strcmp(status, "stopped") == 0;
	if (strcmp(action, "pause") == 0)
		return strcmp(status, "paused") == 0;
	if (strcmp(action, "resume") == 0)
		return strcmp(status, "running") == 0;
	return 0;
}

int wr_ns_task_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
		       struct wr_error *err)
{
	(void)err;
	obs->exists = wr_ns_runc_has(wr_ns_of(b), o->id);
	/* a zombie is still to be reaped (with its real status) by the daemon */
	if (obs->exists && o->pid > 0 &&
	    wr_ns_proc_check(o->pid, wr_ns_recorded_start(o)) == WR_NS_PROC_GONE) {
		obs->exited = 1;
		obs->exit_status = 255; /* reaped by someone else: status unknown */
	}
	return 0;
}
