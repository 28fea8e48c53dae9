/* ns_internal.h — what the files of the ns backend share: the backend's
 * private state and the helpers each file exports to the others.  Nothing
 * here is for use outside backends/ns/. */
#ifndef WR_BACKEND_NS_INTERNAL_H
#define WR_BACKEND_NS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/ns/ns.h"
#include "core/fsutil.h"

struct json_object;
struct wr_ns_tty;

#define WR_NS_PATH 4096

struct wr_ns {
	char *state_dir;
	char *runtime_name;  /* as configured ("runc", "/usr/sbin/runc") */
	char *runtime;       /* resolved absolute path */
	char *runtime_root;  /* --root */
	char *sandboxes;     /* <state_dir>/sandboxes */
	char *log_path;      /* <state_dir>/runtime-log.json, the runtime's --log */
	int private_done;    /* sandboxes/ made a private mount by this process */
	int cgroup_mode;     /* config's cgroup_version: 0 detect, 1 v1, 2 v2 */
	char *holder;        /* the pid namespace holder binary (config's, or next to us) */
	struct ev_loop *loop;        /* config's loop: terminals need it (ns_tty.c) */
	struct wr_ns_tty *ttys;      /* the terminals being copied (ns_tty.c) */
	const struct wr_fdkeep *keep; /* config's: terminals' fds kept across restarts */
	int unprivileged_ports, unprivileged_icmp;   /* config's */
};

static inline struct wr_ns *wr_ns_of(struct wr_backend *b)
{
	return b->priv;
}

/* ---- ns.c: config and object plumbing ------------------------------------------ */

/* The runtime binary is still there and executable (else FailedPrecondition
 * naming it; `what` names the object, e.g. "task c1"). */
int wr_ns_check_runtime(const struct wr_ns *ns, const char *what, struct wr_error *err);
/* Parse o->spec (must be a JSON object). */
int wr_ns_parse_spec(const struct wr_object *o, struct json_object **out, struct wr_error *err);
/* String member, "" when absent or not a string. */
const char *wr_ns_str(struct json_object *obj, const char *key);
/* Boolean member, 0 when absent. */
int wr_ns_bool(struct json_object *obj, const char *key);
/* Replace o->bstate with the JSON text of `st` (not consumed). */
int wr_ns_set_bstate(struct wr_object *o, struct json_object *st, struct wr_error *err);

/* ---- ns_util.c: paths, files, /proc ------------------------------------------- */

/* snprintf into buf; InvalidArgument when it does not fit. */
int wr_ns_pathf(char *buf, size_t n, struct wr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* An identifier usable as one path component ([^/], not "." or ".."). */
int wr_ns_valid_name(const char *s);
/* Write a whole file atomically (temp file + rename): a reader, or warrend
 * after a crash, sees the old content or the new, never a part.  Not
 * fsynced: every file written here (pod hostname/hosts/resolv.conf, the
 * rewritten config.json, task records) describes processes, mounts and
 * namespaces that a power loss ends anyway, and warrend's own crash leaves
 * the page cache intact. */
int wr_ns_write_file(const char *path, const char *data, size_t len, mode_t mode,
		     struct wr_error *err);
/* Write a file that nothing reads until the step that makes it has been
 * recorded: in place, without the temp file and rename.  A crash mid-write
 * leaves a partial file only inside a step that recovery redoes from the
 * start (a sandbox directory is removed and made again). */
int wr_ns_write_fresh(const char *path, const char *data, size_t len, mode_t mode,
		      struct wr_error *err);
/* Read a whole file (NUL-terminated); -1 with errno. */
int wr_ns_read_file(const char *path, char **out, size_t *len);
/* Remove a directory tree without crossing into mounts; missing is fine. */
int wr_ns_rmrf(const char *path, struct wr_error *err);
/* A pid file's pid; -1 with errno when missing or malformed. */
pid_t wr_ns_read_pidfile(const char *path);
/* /proc/<pid>/stat: start time (clock ticks since boot) and state letter.
 * Returns 0 when the process is gone. */
uint64_t wr_ns_proc_start(pid_t pid, char *state);

enum wr_ns_proc { WR_NS_PROC_GONE, WR_NS_PROC_ZOMBIE, WR_NS_PROC_ALIVE };
/* Is `pid` still the process that had `start` (0: do not compare)? */
enum wr_ns_proc wr_ns_proc_check(pid_t pid, uint64_t start);

/* ---- ns_mount.c: mounts ------------------------------------------------------- */

/* 1 when path is the root of a mount, 0 when not (or missing), -1 on error. */
int wr_ns_is_mountpoint(const char *path);
/* Unmount every mount stacked on path (lazily); not mounted is fine. */
int wr_ns_unmount_all(const char *path, struct wr_error *err);
/* Make dir a private mount (bind it onto itself first when it is not a mount). */
int wr_ns_make_private(const char *dir, struct wr_error *err);
/* Undo wr_ns_make_private once no sandbox is left under it. */
void wr_ns_release_private(struct wr_ns *ns);
/* Mount containerd-style rootfs mounts ([{type,source,target,options}]) onto
 * rootfs, in order; on failure everything mounted is undone. */
int wr_ns_mount_rootfs(struct json_object *mounts, const char *rootfs, struct wr_error *err);
/* A tmpfs for /dev/shm: size=64m, mode 1777, nosuid,nodev,noexec. */
int wr_ns_mount_shm(const char *dir, struct wr_error *err);

/* ---- nsfile.c: namespace files ------------------------------------------------ */

struct wr_ns_nsfiles {
	const char *ipc;      /* bind a new ipc namespace here, or NULL */
	const char *uts;      /* bind a new uts namespace here, or NULL */
	const char *net;      /* bind a new network namespace (lo up) here, or NULL */
	const char *hostname; /* set in the new uts namespace */
};
/* Make the requested namespaces (in the calling thread, which then returns
 * to its own) and bind-mount them onto (new, empty) files.  A file that
 * already holds a namespace of the right type is kept.  On failure the files
 * made here are removed. */
int wr_ns_nsfiles_create(const struct wr_ns_nsfiles *f, struct wr_error *err);
/* The calling thread's own namespaces, saved before it leaves them (unshare
 * or setns into a pod's) and returned to afterwards; no child process.
 * types: CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET.  return aborts if the
 * thread cannot get home (the front then restarts the core). */
struct wr_ns_home {
	int n, fd[3], type[3];
	const char *name[3];
};
int wr_ns_home_save(struct wr_ns_home *h, int types, struct wr_error *err);
void wr_ns_home_return(struct wr_ns_home *h);
/* 1 when path is a bind-mounted namespace of type nstype (CLONE_NEW*). */
int wr_ns_nsfile_is(const char *path, int nstype);
/* Unmount and unlink; missing is fine. */
int wr_ns_nsfile_remove(const char *path, struct wr_error *err);

/* A pod's shared PID namespace lives as long as its pid 1: the holder
 * program (src/daemon/warren-pidns-holder.c), started here in a new PID
 * namespace and detached from us (its parent is our child subreaper). */
struct wr_ns_holder {
	pid_t pid;      /* host pid; pid 1 inside */
	uint64_t start; /* its start time (/proc/<pid>/stat) */
	int go;         /* our end of its go-ahead socket; -1 once released */
};
/* Start `holder` and bind its PID namespace onto pidfile (a new file).  It
 * waits for wr_ns_holder_release and exits by itself if this process dies
 * first, so a holder nobody recorded never outlives us.  A holder that is
 * not executable is FailedPrecondition naming it.  On failure nothing is
 * left (holder killed, pidfile removed). */
int wr_ns_holder_start(const char *holder, const char *pidfile, struct wr_ns_holder *h,
		       struct wr_error *err);
/* The holder binary: `configured` when set, else warren-pidns-holder in the
 * directory of the running binary.  malloc'd; NULL when out of memory. */
char *wr_ns_holder_path(const char *configured);
/* After its pid and start time are durable: let it run for good. */
int wr_ns_holder_release(struct wr_ns_holder *h, struct wr_error *err);
/* Undo a start that was not released (closes the socket, kills it). */
void wr_ns_holder_abandon(struct wr_ns_holder *h);
/* SIGKILL the holder recorded as (pid, start) while it is still that
 * process, and wait (about a second at most) until it is no longer running.
 * Gone already (or pid 0) is success. */
int wr_ns_holder_kill(pid_t pid, uint64_t start, struct wr_error *err);

/* ---- stdio.c: the process's stdio --------------------------------------------- */

struct wr_ns_stdio {
	int fd[3]; /* all >= 3, close-on-exec; -1 when not open */
};
/* Open stdin (FIFO, read side) and stdout/stderr (FIFOs, write side; the
 * reader is containerd, already there); "" → /dev/null. */
int wr_ns_stdio_open(struct wr_ns_stdio *s, const char *in, const char *out, const char *errp,
		     struct wr_error *err);
void wr_ns_stdio_close(struct wr_ns_stdio *s);
/* open(2) of one of containerd's stdio FIFOs (or any file), non-blocking,
 * close-on-exec.  With wait, a write side whose reader is not there yet
 * (containerd opens it from a goroutine, maybe after our call arrives) is
 * tried again for up to 2 s.  -1 with err naming which ("stdout") and path,
 * FailedPrecondition when nobody reads. */
int wr_ns_fifo_open(const char *path, int flags, const char *which, int wait,
		    struct wr_error *err);

/* ---- ns_tty.c: terminals (terminal=true) -------------------------------------- */

/* A console socket for `<runtime> create|exec --console-socket PATH`: a
 * listening unix socket in a fresh directory under the state dir, and the
 * process's stdin/stdout FIFOs, opened before the runtime runs (an stdout
 * FIFO nobody reads fails here, as for a process without a terminal). */
struct wr_ns_console {
	char dir[WR_NS_PATH];
	char path[WR_NS_PATH]; /* the socket: <dir>/c */
	int lfd;               /* listening socket, -1 once closed */
	int in, out;           /* stdin FIFO (read side), stdout FIFO (write side); -1: none */
};
/* Make the socket and open the FIFOs ("" → none).  `what` names the process
 * in messages ("task c1").  Undo with wr_ns_console_close. */
int wr_ns_console_open(struct wr_ns *ns, struct wr_ns_console *c, const char *what,
		       const char *in, const char *out, struct wr_error *err);
/* After the runtime returned successfully: receive the pty master it sent
 * (with a timeout) and start copying stdin FIFO → master → stdout FIFO on
 * the loop until process pid (start time: /proc, read now) exits.  The
 * terminal is o's (kind, ns, id) until wr_ns_tty_release; the FIFOs move
 * from c to it. */
int wr_ns_tty_attach(struct wr_ns *ns, struct wr_ns_console *c, const struct wr_object *o,
		     pid_t pid, struct wr_error *err);
/* Remove the socket and its directory, close what c still holds (idempotent). */
void wr_ns_console_close(struct wr_ns_console *c);
/* Stop copying for o and close everything (no terminal: nothing to do). */
void wr_ns_tty_release(struct wr_ns *ns, const struct wr_object *o);
/* Every terminal (the backend's destroy). */
void wr_ns_tty_release_all(struct wr_ns *ns);
/* Remove console socket directories a killed daemon left in the state dir. */
void wr_ns_tty_sweep(struct wr_ns *ns);
/* Recovery of a task or exec whose resources exist: resume the copy of its
 * terminal from the fds ns->keep kept (nothing kept: nothing to do). */
void wr_ns_tty_recover(struct wr_ns *ns, const struct wr_object *o);
/* The backend ops resize_pty and close_io (see backend.h). */
int wr_ns_tty_resize(struct wr_backend *b, struct wr_object *o, unsigned width, unsigned height,
		     struct wr_error *err);
int wr_ns_tty_close_stdin(struct wr_backend *b, struct wr_object *o, struct wr_error *err);

/* ---- ns_task.c: a create or start in two halves (ns_batch.c) ------------------- */

/* wr_ns_task_create (start 0) / wr_ns_task_start (start 1) in two halves:
 * begin does everything up to the runtime process, which it spawns with
 * log slot `slot`, and returns 0; finish waits for it and completes the
 * action (count_wait as for wr_ns_runc_finish).  begin returns 1 when it
 * completed the action itself (a terminal container; one created before a
 * crash) and -1 on failure: then there is nothing to finish.  r is opaque,
 * wr_ns_task_run_size() bytes. */
struct wr_ns_task_run;
size_t wr_ns_task_run_size(void);
int wr_ns_task_begin(struct wr_backend *b, struct wr_object *o, int start, int slot,
		     struct wr_ns_task_run *r, struct wr_error *err);
int wr_ns_task_finish(struct wr_backend *b, struct wr_object *o, struct wr_ns_task_run *r,
		      int count_wait, struct wr_error *err);

/* ---- ns_batch.c: a batch's actions, runtime processes overlapped ---------------- */

void wr_ns_run_actions(struct wr_backend *b, struct wr_action_item *items, size_t n);

/* ---- ns_runc.c: running the OCI runtime --------------------------------------- */

/* Run `<runtime> --root R --log L --log-format json <args...>` and wait for
 * exactly that process.  stdio: fds for 0,1,2 (NULL → /dev/null).  out: when
 * non-NULL, stdout is captured into a malloc'd string.  On a non-zero exit,
 * err carries the runtime's own message ("runc create: ..."), prefixed with
 * `what` (e.g. "task c1"); NotFound when the container does not exist. */
int wr_ns_runc(const struct wr_ns *ns, const char *what, const char *const *args,
	       const int *stdio, char **out, struct wr_error *err);
/* A runtime process spawned and not reaped yet: wr_ns_runc is
 * wr_ns_runc_spawn then wr_ns_runc_finish; between the two the caller may
 * start others (with other slots: each has its own log file). */
struct wr_ns_runc_job {
	pid_t pid;                 /* -1 once reaped */
	int out_fd;                /* read end of its captured stdout, or -1 */
	int64_t spawned;           /* wr_monotonic_ns just after the spawn */
	int64_t deadline;          /* wr_monotonic_ms past which it is killed */
	char log_path[WR_NS_PATH];
	char what[320];
	char verb[32];
};
int wr_ns_runc_spawn(const struct wr_ns *ns, int slot, const char *what,
		     const char *const *args, const int *stdio, int capture,
		     struct wr_ns_runc_job *job, struct wr_error *err);
/* Wait for the job's process (and read its captured stdout into *out);
 * count_wait: add its wait to the daemon's runtime-wait counter (callers
 * that overlap jobs count the overlapped wait once themselves). */
int wr_ns_runc_finish(const struct wr_ns *ns, struct wr_ns_runc_job *job, int count_wait,
		      char **out, struct wr_error *err);
/* The runtime has state for container id (its state directory exists). */
int wr_ns_runc_has(const struct wr_ns *ns, const char *id);
/* `runc state id`: status ("created", "running", "paused", "stopped") and
 * init pid.  Returns 1 when found, 0 when the container does not exist, -1 on
 * error. */
int wr_ns_runc_state(const struct wr_ns *ns, const char *id, char *status, size_t n,
		     pid_t *pid, struct wr_error *err);

/* ---- ns_spec.c: config.json of a container in a sandbox ----------------------- */

/* Rewrite <bundle>/config.json (the original is kept as config.json.orig and
 * is always the input, so this can run again): join the sandbox's namespaces,
 * mount its hostname/hosts/resolv.conf/shm, drop a negative oomScoreAdj.
 * sandbox: the sandbox's sandbox.json, or NULL for a standalone container. */
int wr_ns_spec_rewrite(const char *bundle, struct json_object *sandbox, struct wr_error *err);
/* Put config.json.orig back as config.json; nothing to do is fine. */
int wr_ns_spec_restore(const char *bundle, struct wr_error *err);

/* ---- ns_sysctl.c: the pod's sysctls ------------------------------------------- */

struct wr_ns_sysctl_ns {
	const char *net, *ipc, *uts; /* the pod's namespace files; NULL or "": the node's */
};
/* Check every sysctl of `sysctls` ({name: value}, NULL: none) is namespaced
 * and in a namespace the pod owns, then write them all there.
 * InvalidArgument naming the sysctl (and the kernel's reason) when the pod's
 * configuration is at fault. */
int wr_ns_sysctls_apply(struct json_object *sysctls, const struct wr_ns_sysctl_ns *ns,
			struct wr_error *err);

/* ---- ns_stats.c: a task's cgroup ---------------------------------------------- */

/* The host is a unified (cgroup v2) host: /sys/fs/cgroup is cgroup2. */
int wr_ns_cgroup_v2(const struct wr_ns *ns);
/* The processes in the task's cgroup and below it (host pids).  1 with
 * *pids (malloc'd, possibly empty), 0 when the cgroup cannot be found (ask
 * the runtime), -1 on error (NotFound: no such container). */
int wr_ns_cgroup_pids(struct wr_backend *b, struct wr_object *o, pid_t **pids, size_t *n,
		      struct wr_error *err);
int wr_ns_task_stats(struct wr_backend *b, struct wr_object *o, struct wr_blob *out,
		     struct wr_error *err);
int wr_ns_task_oom_killed(struct wr_backend *b, struct wr_object *o);

/* ---- per-kind actions (ns_sandbox.c, ns_task.c, ns_exec.c) -------------------- */

typedef int wr_ns_action(struct wr_backend *b, struct wr_object *o, struct json_object *args,
			 struct wr_error *err);

wr_ns_action wr_ns_sandbox_create, wr_ns_sandbox_start, wr_ns_sandbox_stop, wr_ns_sandbox_delete;
wr_ns_action wr_ns_task_create, wr_ns_task_start, wr_ns_task_kill, wr_ns_task_pause,
	wr_ns_task_resume, wr_ns_task_update, wr_ns_task_delete;
wr_ns_action wr_ns_exec_create, wr_ns_exec_start, wr_ns_exec_kill, wr_ns_exec_delete;

int wr_ns_sandbox_status(struct wr_backend *b, struct wr_object *sb, struct json_object **info,
			 struct wr_error *err);
int wr_ns_task_pids(struct wr_backend *b, struct wr_object *t, pid_t **pids, size_t *n,
		    struct wr_error *err);

/* The sandbox.json of sandbox (ns, id) of this backend; NULL when none
 * (errno ENOENT) or unreadable. */
struct json_object *wr_ns_sandbox_load(const struct wr_ns *ns, const char *nsname,
				       const char *id);

/* Recovery, by action name (see backend.h for the meaning of the result). */
int wr_ns_sandbox_probe(struct wr_backend *b, struct wr_object *o, const char *action,
			struct json_object *args, struct wr_error *err);
int wr_ns_task_probe(struct wr_backend *b, struct wr_object *o, const char *action,
		     struct json_object *args, struct wr_error *err);
int wr_ns_exec_probe(struct wr_backend *b, struct wr_object *o, const char *action,
		     struct json_object *args, struct wr_error *err);
int wr_ns_sandbox_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
			  struct wr_error *err);
int wr_ns_task_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
		       struct wr_error *err);
int wr_ns_exec_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
		       struct wr_error *err);

/* The start time recorded in o->bstate ("start_time"), 0 when none. */
uint64_t wr_ns_recorded_start(const struct wr_object *o);
/* Signal a process we recorded (pid + start time in bstate): ESRCH, a
 * reused pid or a zombie count as success (it is gone). */
int wr_ns_signal(const struct wr_object *o, int sig, struct wr_error *err);
/* The signal number of kill args {"signal":N,"all":bool}; InvalidArgument. */
int wr_ns_kill_args(struct json_object *args, int *sig, int *all, struct wr_error *err);

#endif
