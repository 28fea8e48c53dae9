/* ns_exec.c — exec process actions of the ns backend: `runc exec --detach`
 * of an OCI process into a task's container.
 *
 * Spec: {"bundle": the task's bundle, "process": {OCI process}, "stdin",
 * "stdout", "stderr", "terminal": bool}; o->id is "<task>/<exec>", o->owner
 * the task id.  exec_create only writes <bundle>/exec-<exec>.json (its
 * "terminal" is the spec's); exec_start runs it, runc writing the pid to
 * <bundle>/exec-<exec>.pid.  Like a task's init, the process is reparented
 * to the daemon, which reaps it.  With terminal true the process gets a pty
 * from the runtime (--console-socket) and ns_tty.c copies its data.
 *
 * bstate: {"bundle", "pid", "start_time"}. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct exec {
	struct json_object *spec;
	const char *bundle;
	const char *task;           /* task (container) id */
	char json[WR_NS_PATH];      /* <bundle>/exec-<id>.json */
	char pidfile[WR_NS_PATH];   /* <bundle>/exec-<id>.pid */
	char what[320];
};

static int exec_open(const struct wr_object *o, struct exec *x, struct wr_error *err)
{
	memset(x, 0, sizeof *x);
	snprintf(x->what, sizeof x->what, "exec %s", o->id);
	const char *slash = strchr(o->id, '/');
	const char *eid = slash ? slash + 1 : "";
	if (!slash || !wr_ns_valid_name(eid) || !wr_ns_valid_name(o->owner) ||
	    strncmp(o->id, o->owner, (size_t)(slash - o->id)) != 0 ||
	    o->owner[slash - o->id] != '\0')
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid exec id '%s' of task '%s'",
				    o->id, o->owner);
	x->task = o->owner;
	if (wr_ns_parse_spec(o, &x->spec, err))
		return -1;
	x->bundle = wr_ns_str(x->spec, "bundle");
	if (x->bundle[0] != '/' ||
	    wr_ns_pathf(x->json, sizeof x->json, err, "%s/exec-%s.json", x->bundle, eid) ||
	    wr_ns_pathf(x->pidfile, sizeof x->pidfile, err, "%s/exec-%s.pid", x->bundle, eid)) {
		if (x->bundle[0] != '/')
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: bundle '%s' is not an absolute "
				     "path", x->what, x->bundle);
		json_object_put(x->spec);
		x->spec = NULL;
		return -1;
	}
	return 0;
}

static void exec_close(struct exec *x)
{
	json_object_put(x->spec);
	x->spec = NULL;
}

static int record(struct wr_object *o, const struct exec *x, pid_t pid, struct wr_error *err)
{
	struct json_object *st = json_object_new_object();
	o->pid = pid;
	json_object_object_add(st, "bundle", json_object_new_string(x->bundle));
	json_object_object_add(st, "pid", json_object_new_int(pid));
	json_object_object_add(st, "start_time", json_object_new_int64((int64_t)wr_ns_proc_start(pid, NULL)));
	int rc = wr_ns_set_bstate(o, st, err);
	json_object_put(st);
	return rc;
}

int wr_ns_exec_create(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	struct exec x;
	struct json_object *proc;
	int rc = -1;
	if (exec_open(o, &x, err))
		return -1;
	int tty = wr_ns_bool(x.spec, "terminal");
	if (tty && !wr_ns_of(b)->loop) {
		wr_error_set(err, WR_UNIMPLEMENTED, "ns: %s: terminal (tty) exec needs the daemon's "
			     "event loop (none configured)", x.what);
	} else if (!json_object_object_get_ex(x.spec, "process", &proc) ||
		   !json_object_is_type(proc, json_type_object)) {
		wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: spec has no process object", x.what);
	} else {
		struct json_object *p = NULL;
		/* a private copy: the tty setting is the spec's, not the process's */
		if (json_object_deep_copy(proc, &p, NULL) < 0 || !p) {
			wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		} else {
			json_object_object_add(p, "terminal", json_object_new_boolean(tty));
			const char *text = json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN);
			rc = wr_ns_write_file(x.json, text, strlen(text), 0600, err);
			json_object_put(p);
		}
	}
	exec_close(&x);
	return rc;
}

int wr_ns_exec_start(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		     struct wr_error *err)
{
	(void)args;
	struct wr_ns *ns = wr_ns_of(b);
	struct wr_ns_stdio io = { { -1, -1, -1 } };
	struct wr_ns_console con = { .lfd = -1, .in = -1, .out = -1 };
	struct exec x;
	if (exec_open(o, &x, err))
		return -1;
	int tty = wr_ns_bool(x.spec, "terminal");
	pid_t pid = wr_ns_read_pidfile(x.pidfile);
	if (pid > 0) { /* started already (a rerun after a crash; a terminal is lost) */
		int rc = record(o, &x, pid, err);
		exec_close(&x);
		return rc;
	}
	if (access(x.json, F_OK) != 0) {
		wr_error_errno(err, errno, "ns: %s: %s", x.what, x.json);
		exec_close(&x);
		return -1;
	}
	if (wr_ns_check_runtime(ns, x.what, err) ||
	    (tty ? wr_ns_console_open(ns, &con, x.what, wr_ns_str(x.spec, "stdin"),
				      wr_ns_str(x.spec, "stdout"), err)
		 : wr_ns_stdio_open(&io, wr_ns_str(x.spec, "stdin"), wr_ns_str(x.spec, "stdout"),
				    wr_ns_str(x.spec, "stderr"), err))) {
		exec_close(&x);
		return -1;
	}
	const char *cargs[12];
	int k = 0;
	cargs[k++] = "exec";
	cargs[k++] = "--detach";
	cargs[k++] = "--pid-file";
	cargs[k++] = x.pidfile;
	cargs[k++] = "--process";
	cargs[k++] = x.json;
	if (tty) {
		cargs[k++] = "--console-socket";
		cargs[k++] = con.path;
	}
	cargs[k++] = x.task;
	cargs[k] = NULL;
	int rc = wr_ns_runc(ns, x.what, cargs, tty ? NULL : io.fd, NULL, err);
	wr_ns_stdio_close(&io); /* the process holds them now */
	if (rc == 0) {
		pid = wr_ns_read_pidfile(x.pidfile);
		if (pid <= 0)
			rc = wr_error_errno(err, errno, "ns: %s: cannot read %s", x.what, x.pidfile);
		else if (tty && wr_ns_tty_attach(ns, &con, o, pid, err) < 0)
			rc = -1;
		else if ((rc = record(o, &x, pid, err)) < 0)
			wr_ns_tty_release(ns, o);
		if (rc < 0 && tty && pid > 0) /* its terminal is gone with the failure */
			kill(pid, SIGKILL);
	}
	wr_ns_console_close(&con);
	if (rc < 0)
		unlink(x.pidfile);
	exec_close(&x);
	return rc;
}

int wr_ns_exec_kill(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		    struct wr_error *err)
{
	(void)b;
	int sig, all;
	if (wr_ns_kill_args(args, &sig, &all, err))
		return -1;
	return wr_ns_signal(o, sig, err);
}

int wr_ns_exec_delete(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		      struct wr_error *err)
{
	(void)args;
	struct exec x;
	int rc = 0;
	if (exec_open(o, &x, err))
		return -1;
	if (unlink(x.pidfile) < 0 && errno != ENOENT)
		rc = wr_error_errno(err, errno, "ns: %s: cannot remove %s", x.what, x.pidfile);
	else if (unlink(x.json) < 0 && errno != ENOENT)
		rc = wr_error_errno(err, errno, "ns: %s: cannot remove %s", x.what, x.json);
	if (rc == 0)
		wr_ns_tty_release(wr_ns_of(b), o);
	exec_close(&x);
	return rc;
}

/* ---- recovery ----------------------------------------------------------------- */

int wr_ns_exec_probe(struct wr_backend *b, struct wr_object *o, const char *action,
		     struct json_object *args, struct wr_error *err)
{
	(void)b;
	(void)args;
	struct exec x;
	int done = 0;
	if (exec_open(o, &x, err))
		return -1;
	if (strcmp(action, "create") == 0) {
		done = access(x.json, F_OK) == 0;
	} else if (strcmp(action, "start") == 0) {
		pid_t pid = wr_ns_read_pidfile(x.pidfile);
		done = pid > 0 ? (record(o, &x, pid, err) < 0 ? -1 : 1) : 0;
	} else if (strcmp(action, "kill") == 0) {
		done = o->pid > 0 && wr_ns_proc_check(o->pid, wr_ns_recorded_start(o)) != WR_NS_PROC_ALIVE;
	} else if (strcmp(action, "delete") == 0) {
		done = access(x.json, F_OK) != 0 && access(x.pidfile, F_OK) != 0;
	}
	exec_close(&x);
	return done;
}

int wr_ns_exec_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
		       struct wr_error *err)
{
	struct exec x;
	if (exec_open(o, &x, err))
		return -1;
	obs->exists = access(x.json, F_OK) == 0 && wr_ns_runc_has(wr_ns_of(b), x.task);
	if (obs->exists && o->pid > 0 &&
	    wr_ns_proc_check(o->pid, wr_ns_recorded_start(o)) == WR_NS_PROC_GONE) {
		obs->exited = 1;
		obs->exit_status = 255;
	}
	exec_close(&x);
	return 0;
}
