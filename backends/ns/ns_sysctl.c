/* ns_sysctl.c — a pod's sysctls (CRI PodSandboxConfig.linux.sysctls,
 * Kubernetes' securityContext.sysctls), set in the pod's own namespaces at
 * sandbox creation, where a pause container's runtime would have set them
 * in the pause container's.  containerd puts them in no container's
 * config.json: nobody else sets them.
 *
 * Only namespaced sysctls are accepted, each one in a namespace the pod owns:
 * net.* in its network namespace, the System V IPC limits (kernel.msgmax,
 * msgmnb, msgmni, sem, shmall, shmmax, shmmni, shm_rmid_forced) and
 * fs.mqueue.* in its IPC namespace, kernel.hostname and kernel.domainname in
 * its UTS namespace.  Any other would change the node: InvalidArgument
 * naming it, before anything is written.
 *
 * warrend's thread joins the namespaces (setns on the sandbox's files),
 * writes /proc/sys/<name, dots made slashes> — the kernel resolves the net,
 * ipc and uts tables there by the writer's namespaces — and returns to its
 * own (nsfile.c's wr_ns_home).  Nothing is rolled back after a failure (the
 * namespaces are new and go with the failed sandbox).  Writing the same
 * values again is harmless, so a rerun is idempotent. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { NS_NET, NS_IPC, NS_UTS, NS_KINDS };

static const struct {
	int type;
	const char *what;
} kinds[NS_KINDS] = {
	[NS_NET] = { CLONE_NEWNET, "network" },
	[NS_IPC] = { CLONE_NEWIPC, "IPC" },
	[NS_UTS] = { CLONE_NEWUTS, "UTS" },
};

static const char *const ipc_sysctls[] = {
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
};

/* The namespace kind a sysctl lives in; -1: none (the node's). */
static int kind_of(const char *name)
{
	if (strncmp(name, "net.", 4) == 0)
		return NS_NET;
	if (strncmp(name, "fs.mqueue.", 10) == 0)
		return NS_IPC;
	for (size_t i = 0; i < sizeof ipc_sysctls / sizeof ipc_sysctls[0]; i++)
		if (strcmp(name, ipc_sysctls[i]) == 0)
			return NS_IPC;
	if (strcmp(name, "kernel.hostname") == 0 || strcmp(name, "kernel.domainname") == 0)
		return NS_UTS;
	return -1;
}

/* /proc/sys/<name with '.' → '/'>; 0, or -1 when a component would be
 * empty, "." or ".." (the path must stay under /proc/sys). */
static int proc_path(const char *name, char *buf, size_t n)
{
	if (snprintf(buf, n, "/proc/sys/%s", name) >= (int)n)
		return -1;
	char *p = buf + strlen("/proc/sys/");
	for (char *c = p; *c; c++)
		if (*c == '.')
			*c = '/';
	for (char *c = p; c;) {
		char *end = strchr(c, '/');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return -1;
		c = end ? end + 1 : NULL;
	}
	return 0;
}

struct item {
	const char *name;  /* the sysctl as given */
	const char *value;
	char path[WR_NS_PATH];
};

/* What went wrong: the first failure (index into the namespaces or the
 * items), or step 0 when every write went through. */
enum step { STEP_DONE, STEP_SETNS, STEP_OPEN, STEP_WRITE };
struct report {
	int step, index, err;
};

/* The calling thread joins nsfd's namespaces, writes the items and returns
 * to its own namespaces (no child process: see nsfile.c). */
static int write_in_pod(const int *nsfd, const struct item *items, size_t n, struct report *r,
			struct wr_error *err)
{
	int types = 0;
	for (int k = 0; k < NS_KINDS; k++)
		if (nsfd[k] >= 0)
			types |= kinds[k].type;
	struct wr_ns_home home;
	if (wr_ns_home_save(&home, types, err))
		return -1;
	*r = (struct report){ STEP_DONE, 0, 0 };
	for (int k = 0; k < NS_KINDS && r->step == STEP_DONE; k++) {
		if (nsfd[k] >= 0 && setns(nsfd[k], kinds[k].type) < 0)
			*r = (struct report){ STEP_SETNS, k, errno };
	}
	for (size_t i = 0; i < n && r->step == STEP_DONE; i++) {
		int fd = open(items[i].path, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0) {
			*r = (struct report){ STEP_OPEN, (int)i, errno };
			break;
		}
		size_t len = strlen(items[i].value);
		ssize_t w = write(fd, items[i].value, len);
		if (w < 0 || (size_t)w != len)
			*r = (struct report){ STEP_WRITE, (int)i, w < 0 ? errno : EIO };
		close(fd);
	}
	wr_ns_home_return(&home);
	return 0;
}

int wr_ns_sysctls_apply(struct json_object *sysctls, const struct wr_ns_sysctl_ns *ns,
			struct wr_error *err)
{
	if (!sysctls)
		return 0;
	if (!json_object_is_type(sysctls, json_type_object))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: sysctls are not a JSON object");
	size_t n = (size_t)json_object_object_length(sysctls);
	if (n == 0)
		return 0;
	const char *paths[NS_KINDS] = { ns->net, ns->ipc, ns->uts };
	int nsfd[NS_KINDS] = { -1, -1, -1 }, rc = -1;
	struct item *items = calloc(n, sizeof *items);
	if (!items)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	size_t i = 0;
	json_object_object_foreach(sysctls, name, val) {
		struct item *it = &items[i++];
		int k = kind_of(name);
		it->name = name;
		it->value = json_object_get_string(val);
		if (!json_object_is_type(val, json_type_string)) {
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: sysctl %s: value is not a string",
				     name);
			goto out;
		}
		if (k < 0) {
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: sysctl %s is not namespaced: "
				     "setting it for a pod would change the node", name);
			goto out;
		}
		if (!paths[k] || !*paths[k]) {
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: sysctl %s needs the pod's own %s "
				     "namespace, and the pod uses the node's", name, kinds[k].what);
			goto out;
		}
		if (proc_path(name, it->path, sizeof it->path) < 0) {
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid sysctl name '%s'", name);
			goto out;
		}
		if (nsfd[k] < 0 && (nsfd[k] = open(paths[k], O_RDONLY | O_CLOEXEC)) < 0) {
			wr_error_errno(err, errno, "ns: cannot open the pod's %s namespace %s",
				       kinds[k].what, paths[k]);
			goto out;
		}
	}
	struct report r;
	if (write_in_pod(nsfd, items, n, &r, err))
		goto out;
	switch (r.step) {
	case STEP_DONE:
		rc = 0;
		break;
	case STEP_SETNS:
		wr_error_errno(err, r.err, "ns: cannot join the pod's %s namespace %s to set its "
			       "sysctls", kinds[r.index].what, paths[r.index]);
		break;
	default:
		/* the pod's configuration is at fault, whatever errno says */
		wr_error_errno(err, r.err, "ns: sysctl %s=%s: %s %s", items[r.index].name,
			       items[r.index].value, r.step == STEP_OPEN ? "open" : "write",
			       items[r.index].path);
		if (err)
			err->code = WR_INVALID_ARGUMENT;
	}
out:
	for (int k = 0; k < NS_KINDS; k++)
		if (nsfd[k] >= 0)
			close(nsfd[k]);
	free(items);
	return rc;
}
