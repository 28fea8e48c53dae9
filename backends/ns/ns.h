/* ns.h — the `ns` backend: Linux-namespace pods with no pause container and
 * no per-pod process; containers are run by an OCI runtime (runc).
 *
 * A sandbox is a directory, <state_dir>/sandboxes/<ns>/<id>/, holding what a
 * pause container would have held: bind-mounted namespace files (ipc, uts and,
 * when containerd gave none, net), the pod's hostname, hosts and resolv.conf
 * files, a tmpfs for /dev/shm, and sandbox.json recording all of it.  A task
 * is an OCI runtime container whose config.json is rewritten to join those
 * namespaces and mount those files.  Nothing of the backend runs between
 * calls: container processes are children of the hosting daemon (a child
 * subreaper), which reaps them; the backend waits only for the runtime
 * invocations it spawns.
 *
 * Object spec JSON (filled by the front end before the create action):
 *   sandbox: {"bundle", "netns", "hostname", "dns": {"servers", "searches",
 *             "options"}, "cgroup_parent", "ns_options": {"network": "pod|node",
 *             "pid": "pod|container|node", "ipc": "pod|node"}}
 *   task:    {"bundle", "rootfs": [{"type","source","target","options"}],
 *             "stdin", "stdout", "stderr", "terminal"}
 *   exec:    {"bundle" (the task's), "process": {OCI process}, "stdin",
 *             "stdout", "stderr", "terminal"}
 * See ns_sandbox.c, ns_task.c and ns_exec.c for the details of each.
 *
 * A task's update args are {"resources": <OCI LinuxResources>}, applied with
 * `runc update`; its statistics are containerd's cgroups v1 or v2 Metrics
 * (by the host's cgroup mode) and its pids the processes in its cgroup, both
 * read from the cgroup itself (ns_stats.c). */
#ifndef WR_BACKEND_NS_H
#define WR_BACKEND_NS_H

#include "core/backend.h"

struct wr_ns_config {
	const char *state_dir;    /* e.g. /run/warren/<id>/ns; created if missing */
	const char *runtime;      /* OCI runtime binary; NULL/"" → "runc" on PATH */
	const char *runtime_root; /* runc --root; NULL/"" → <state_dir>/runc */
	int cgroup_version;       /* 0: detect (cgroup2 on /sys/fs/cgroup → 2, else 1);
				   * 1 or 2: read task statistics as that version */
};

/* A backend named "ns".  Fails (NULL, err) when the runtime binary cannot be
 * found, naming it, or when the state directory cannot be made.  Free with
 * b->ops->destroy(b). */
struct wr_backend *wr_ns_backend_new(const struct wr_ns_config *cfg, struct wr_error *err);

#endif
