/* ns.h — the `ns` backend: Linux-namespace pods with no pause container and
 * no per-pod process (but for a pod sharing one PID namespace: its pid 1, a
 * 12 KiB holder); containers are run by an OCI runtime (runc).
 *
 * A sandbox is a directory, <state_dir>/sandboxes/<ns>/<id>/, holding what a
 * pause container would have held: bind-mounted namespace files (ipc, uts and,
 * when containerd gave none, net; pid, held by warren-pidns-holder, when the
 * pod shares one), the pod's hostname, hosts and resolv.conf
 * files, a tmpfs for /dev/shm, and sandbox.json recording all of it.  A task
 * is an OCI runtime container whose config.json is rewritten to join those
 * namespaces and mount those files.  Nothing else of the backend runs between
 * calls: container processes (and holders) are children of the hosting
 * daemon (a child subreaper), which reaps them; the backend waits only for
 * the runtime invocations it spawns.
 *
 * Object spec JSON (filled by the front end before the create action):
 *   sandbox: {"bundle", "netns", "hostname", "dns": {"servers", "searches",
 *             "options"}, "cgroup_parent", "ns_options": {"network": "pod|node",
 *             "pid": "pod|container|node", "ipc": "pod|node"},
 *             "sysctls": {name: value} (set in the pod's namespaces)}
 *            (pid "pod": the sandbox runs the holder program as pid 1 of
 *            the pod's PID namespace; see ns_sandbox.c and nsfile.c)
 *   task:    {"bundle", "rootfs": [{"type","source","target","options"}],
 *             "stdin", "stdout", "stderr", "terminal"}
 *   exec:    {"bundle" (the task's), "process": {OCI process}, "stdin",
 *             "stdout", "stderr", "terminal"}
 * See ns_sandbox.c, ns_task.c and ns_exec.c for the details of each.
 *
 * A task's update args are {"resources": <OCI LinuxResources>}, applied with
 * `runc update`; its statistics are containerd's cgroups v1 or v2 Metrics
 * (by the host's cgroup mode) and its pids the processes in its cgroup, both
 * read from the cgroup itself (ns_stats.c).
 *
 * A task or exec with "terminal": true runs on a pty the runtime makes and
 * hands over a console socket; the backend copies stdin FIFO → pty → stdout
 * FIFO on the hosting daemon's event loop (config's loop) and implements the
 * resize_pty and close_io ops (ns_tty.c).  The copies live in memory; with
 * config's keep, the fds of each terminal are also kept outside the daemon
 * (warrend's front), and a new backend's recovery resumes the copies of
 * live tasks and execs from them: a restart does not hang terminals up. */
#ifndef WR_BACKEND_NS_H
#define WR_BACKEND_NS_H

#include "core/backend.h"

struct ev_loop;
struct wr_fdkeep;

struct wr_ns_config {
	const char *state_dir;    /* e.g. /run/warren/<id>/ns; created if missing */
	const char *runtime;      /* OCI runtime binary; NULL/"" → "runc" on PATH */
	const char *runtime_root; /* runc --root; NULL/"" → <state_dir>/runc */
	int cgroup_version;       /* 0: detect (cgroup2 on /sys/fs/cgroup → 2, else 1);
				   * 1 or 2: read task statistics as that version */
	const char *holder;       /* pid 1 of the shared PID namespace of a pod with
				   * ns_options.pid = "pod" (warren-pidns-holder);
				   * NULL/"" → warren-pidns-holder next to the running
				   * binary (dirname of /proc/self/exe) */
	struct ev_loop *loop;     /* the hosting daemon's libev loop, which copies the
				   * terminals' data (ns_tty.c); NULL: no terminals
				   * (terminal=true fails with Unimplemented) */
	int unprivileged_ports;   /* a pod with its own network gets
				   * net.ipv4.ip_unprivileged_port_start=0 unless it
				   * sets it (containerd's enable_unprivileged_ports) */
	int unprivileged_icmp;    /* likewise net.ipv4.ping_group_range="0 2147483647"
				   * (containerd's enable_unprivileged_icmp) */
	const struct wr_fdkeep *keep; /* where terminals' fds outlive this process
				   * (core/fdkeep.h); NULL: nowhere, a restart
				   * hangs terminals up */
};

/* A backend named "ns".  Fails (NULL, err) when the runtime binary cannot be
 * found, naming it, or when the state directory cannot be made.  Free with
 * b->ops->destroy(b). */
struct wr_backend *wr_ns_backend_new(const struct wr_ns_config *cfg, struct wr_error *err);

#endif
