/* ns_sandbox.c — sandbox actions of the ns backend: a pod without a pause
 * container.
 *
 * A sandbox is the directory <state_dir>/sandboxes/<ns>/<id>/:
 *   ipc, uts      bind-mounted namespace files (ipc absent when the pod uses
 *                 the node's IPC; uts absent with the node's network, as CRI
 *                 does: a host-network pod has the node's hostname)
 *   net           only when the pod network is "pod" and containerd gave no
 *                 netns: a private network namespace with lo up
 *   pid           only when the pod shares one PID namespace (pid "pod"):
 *                 that namespace, whose pid 1 is the holder process
 *                 (warren-pidns-holder, see nsfile.c): the one process an ns
 *                 sandbox may have.  Its host pid and start time are in
 *                 sandbox.json and are the sandbox's pid (SandboxStatus.pid,
 *                 so CRI's /proc/<pid>/ns/pid names this namespace too).
 *                 Stop and delete SIGKILL it (only while the recorded pid
 *                 still names that process: same start time), which ends
 *                 the namespace and every process in it.  A holder that
 *                 died by itself makes the sandbox incomplete: observe
 *                 reports it gone (Lost at recovery); while the daemon runs,
 *                 its exit, reaped by the daemon, is the sandbox's Exit.
 *   hostname, hosts, resolv.conf   the pod's files, mounted into containers
 *   shm/          a 64 MiB tmpfs for /dev/shm (absent with the node's IPC:
 *                 containers then get the node's /dev/shm)
 *   sandbox.json  what was made, written last: its presence means complete
 * The sandboxes directory is a private mount so these mounts never propagate.
 *
 * Spec: {"bundle", "netns", "hostname", "dns": {"servers", "searches",
 * "options"}, "cgroup_parent", "ns_options": {"network": "pod|node",
 * "pid": "pod|container|node", "ipc": "pod|node"}, "sysctls": {name: value}}.
 * Absent ns_options: network and ipc "pod", pid "container" (what kubelet
 * asks unless shareProcessNamespace).  The sysctls are written into the
 * pod's namespaces once they exist (ns_sysctl.c); one that cannot be fails
 * the create. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SANDBOX_JSON_VERSION 1

static int sandbox_dir(const struct wr_ns *ns, const struct wr_object *o, char *buf, size_t n,
		       struct wr_error *err)
{
	if (!wr_ns_valid_name(o->ns) || !wr_ns_valid_name(o->id))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid sandbox name '%s/%s'",
				    o->ns, o->id);
	return wr_ns_pathf(buf, n, err, "%s/%s/%s", ns->sandboxes, o->ns, o->id);
}

struct json_object *wr_ns_sandbox_load(const struct wr_ns *ns, const char *nsname, const char *id)
{
	char path[WR_NS_PATH];
	char *text = NULL;
	if (!wr_ns_valid_name(nsname) || !wr_ns_valid_name(id) ||
	    snprintf(path, sizeof path, "%s/%s/%s/sandbox.json", ns->sandboxes, nsname, id) >=
		    (int)sizeof path) {
		errno = EINVAL;
		return NULL;
	}
	if (wr_ns_read_file(path, &text, NULL) < 0)
		return NULL;
	struct json_object *j = json_tokener_parse(text);
	free(text);
	if (!j || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		errno = EINVAL;
		return NULL;
	}
	return j;
}

/* The holder recorded in sandbox.json: pid and start time, 0 when none. */
static pid_t holder_pid(struct json_object *sb)
{
	struct json_object *v;
	return sb && json_object_object_get_ex(sb, "holder_pid", &v) ? json_object_get_int(v) : 0;
}

static uint64_t holder_start(struct json_object *sb)
{
	struct json_object *v;
	return sb && json_object_object_get_ex(sb, "holder_start_time", &v)
	       ? (uint64_t)json_object_get_int64(v) : 0;
}

/* What the engine keeps of a sandbox: sandbox.json as bstate, the holder
 * (if any) as its pid. */
static int adopt(struct wr_object *o, struct json_object *sb, struct wr_error *err)
{
	if (wr_ns_set_bstate(o, sb, err))
		return -1;
	o->pid = holder_pid(sb);
	return 0;
}

/* Everything sandbox.json says was made is still there. */
static int complete(struct json_object *sb)
{
	struct json_object *v;
	const char *ipc = wr_ns_str(sb, "ipc"), *uts = wr_ns_str(sb, "uts");
	if (*ipc && !wr_ns_nsfile_is(ipc, CLONE_NEWIPC))
		return 0;
	if (*uts && !wr_ns_nsfile_is(uts, CLONE_NEWUTS))
		return 0;
	if (wr_ns_bool(sb, "netns_owned") && !wr_ns_nsfile_is(wr_ns_str(sb, "netns"), CLONE_NEWNET))
		return 0;
	if (*wr_ns_str(sb, "pidns") &&
	    (!wr_ns_nsfile_is(wr_ns_str(sb, "pidns"), CLONE_NEWPID) ||
	     wr_ns_proc_check(holder_pid(sb), holder_start(sb)) != WR_NS_PROC_ALIVE))
		return 0;
	if (wr_ns_bool(sb, "shm_owned") && wr_ns_is_mountpoint(wr_ns_str(sb, "shm_path")) != 1)
		return 0;
	const char *files[] = { "hostname_path", "hosts_path", "resolv_path" };
	for (size_t i = 0; i < 3; i++)
		if (access(wr_ns_str(sb, files[i]), F_OK) != 0)
			return 0;
	return json_object_object_get_ex(sb, "version", &v);
}

/* Remove whatever a (partial) sandbox_create made in dir.  Missing is fine. */
static int teardown(struct wr_ns *ns, const struct wr_object *o, const char *dir,
		    struct wr_error *err)
{
	char path[WR_NS_PATH];
	const char *nsfiles[] = { "ipc", "uts", "net", "pid" };
	if (access(dir, F_OK) != 0 && errno == ENOENT)
		goto parent;
	/* a recorded holder first: its end ends the pod's pid namespace.  An
	 * unrecorded one (sandbox.json not written) never got its go-ahead and
	 * exited when its starter did. */
	struct json_object *sb = wr_ns_sandbox_load(ns, o->ns, o->id);
	int rc = wr_ns_holder_kill(holder_pid(sb), holder_start(sb), err);
	json_object_put(sb);
	if (rc)
		return -1;
	for (size_t i = 0; i < 4; i++)
		if (wr_ns_pathf(path, sizeof path, err, "%s/%s", dir, nsfiles[i]) ||
		    wr_ns_nsfile_remove(path, err))
			return -1;
	if (wr_ns_pathf(path, sizeof path, err, "%s/shm", dir) || wr_ns_unmount_all(path, err) ||
	    wr_ns_rmrf(dir, err))
		return -1;
parent:
	/* the per-namespace directory goes when its last sandbox does */
	if (snprintf(path, sizeof path, "%s/%s", ns->sandboxes, o->ns) < (int)sizeof path)
		rmdir(path);
	wr_ns_release_private(ns);
	return 0;
}

/* The sandbox's files are written once, into the directory a (re)run of
 * sandbox_create has just made: a crash before sandbox.json is complete
 * leaves a partial sandbox that the rerun removes and makes again. */
static int write_text(const char *dir, const char *name, const char *text, char *path,
		      size_t n, struct wr_error *err)
{
	if (wr_ns_pathf(path, n, err, "%s/%s", dir, name))
		return -1;
	return wr_ns_write_fresh(path, text, strlen(text), 0644, err);
}

static int copy_host_file(const char *dir, const char *name, const char *host, char *path,
			  size_t n, struct wr_error *err)
{
	char *text = NULL;
	if (wr_ns_read_file(host, &text, NULL) < 0 && errno != ENOENT)
		return wr_error_errno(err, errno, "ns: cannot read %s", host);
	int rc = write_text(dir, name, text ? text : "", path, n, err);
	free(text);
	return rc;
}

/* Append `word` after `prefix` words of an array member of dns. */
static void dns_line(char **buf, size_t *len, struct json_object *dns, const char *key,
		     const char *prefix, int one_per_line)
{
	struct json_object *a;
	FILE *f;
	if (!dns || !json_object_object_get_ex(dns, key, &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) == 0)
		return;
	char *add = NULL;
	size_t addlen = 0;
	if (!(f = open_memstream(&add, &addlen)))
		return;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *w = json_object_get_string(json_object_array_get_idx(a, i));
		if (!w || !*w)
			continue;
		if (one_per_line)
			fprintf(f, "%s %s\n", prefix, w);
		else
			fprintf(f, "%s%s", ftell(f) ? " " : prefix, w);
	}
	if (!one_per_line && ftell(f))
		fputc('\n', f);
	fclose(f);
	char *nb = realloc(*buf, *len + addlen + 1);
	if (nb) {
		memcpy(nb + *len, add, addlen + 1);
		*buf = nb;
		*len += addlen;
	}
	free(add);
}

static int make_resolv(const char *dir, struct json_object *dns, char *path, size_t n,
		       struct wr_error *err)
{
	char *text = calloc(1, 1);
	size_t len = 0;
	if (!text)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	dns_line(&text, &len, dns, "servers", "nameserver", 1);
	dns_line(&text, &len, dns, "searches", "search ", 0);
	dns_line(&text, &len, dns, "options", "options ", 0);
	int rc = len ? write_text(dir, "resolv.conf", text, path, n, err)
		     : copy_host_file(dir, "resolv.conf", "/etc/resolv.conf", path, n, err);
	free(text);
	return rc;
}

static int make_hosts(const char *dir, const char *hostname, int node_network, char *path,
		      size_t n, struct wr_error *err)
{
	if (node_network && access("/etc/hosts", R_OK) == 0)
		return copy_host_file(dir, "hosts", "/etc/hosts", path, n, err);
	char text[1024];
	snprintf(text, sizeof text,
		 "127.0.0.1\tlocalhost\n"
		 "::1\tlocalhost ip6-localhost ip6-loopback\n"
		 "fe00::0\tip6-localnet\n"
		 "ff00::0\tip6-mcastprefix\n"
		 "ff02::1\tip6-allnodes\n"
		 "ff02::2\tip6-allrouters\n"
		 "%s%s%s",
		 *hostname ? "127.0.1.1\t" : "", hostname, *hostname ? "\n" : "");
	return write_text(dir, "hosts", text, path, n, err);
}

/* ns_options → network, ipc, pid words; InvalidArgument/Unimplemented. */
static int ns_options(struct json_object *spec, const char **net, const char **ipc,
		      const char **pid, struct wr_error *err)
{
	struct json_object *opts = NULL;
	json_object_object_get_ex(spec, "ns_options", &opts);
	*net = *wr_ns_str(opts, "network") ? wr_ns_str(opts, "network") : "pod";
	*ipc = *wr_ns_str(opts, "ipc") ? wr_ns_str(opts, "ipc") : "pod";
	*pid = *wr_ns_str(opts, "pid") ? wr_ns_str(opts, "pid") : "container";
	if (strcmp(*net, "pod") != 0 && strcmp(*net, "node") != 0)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: network namespace mode '%s' "
				    "(want pod or node)", *net);
	if (strcmp(*ipc, "pod") != 0 && strcmp(*ipc, "node") != 0)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: ipc namespace mode '%s' "
				    "(want pod or node)", *ipc);
	if (strcmp(*pid, "target") == 0)
		return wr_error_set(err, WR_UNIMPLEMENTED, "ns: pid namespace mode 'target' is a "
				    "container's, not a pod's");
	if (strcmp(*pid, "pod") != 0 && strcmp(*pid, "container") != 0 && strcmp(*pid, "node") != 0)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: pid namespace mode '%s'", *pid);
	return 0;
}

/* The sysctls to set (a new reference, NULL: none): the pod's own, plus
 * what containerd's CRI gives every pod with its own network through the
 * pause container when enable_unprivileged_ports/icmp are on (its default),
 * unless the pod sets them itself. */
static struct json_object *pod_sysctls(const struct wr_ns *ns, struct json_object *spec,
				       int node_net)
{
	struct json_object *own = NULL, *out;
	json_object_object_get_ex(spec, "sysctls", &own);
	if (node_net || (!ns->unprivileged_ports && !ns->unprivileged_icmp) ||
	    (own && !json_object_is_type(own, json_type_object)))
		return own ? json_object_get(own) : NULL;
	if (!(out = json_object_new_object()))
		return NULL;
	if (ns->unprivileged_ports)
		json_object_object_add(out, "net.ipv4.ip_unprivileged_port_start",
				       json_object_new_string("0"));
	if (ns->unprivileged_icmp)
		json_object_object_add(out, "net.ipv4.ping_group_range",
				       json_object_new_string("0 2147483647"));
	if (own) {
		json_object_object_foreach(own, k, v)
			json_object_object_add(out, k, json_object_get(v));
	}
	return out;
}

int wr_ns_sandbox_create(struct wr_backend *b, struct wr_object *o, struct json_object *args,
			 struct wr_error *err)
{
	(void)args;
	struct wr_ns *ns = wr_ns_of(b);
	char dir[WR_NS_PATH];
	struct json_object *spec = NULL, *sb = NULL, *dns = NULL;
	const char *net, *ipc, *pid;
	struct wr_ns_holder hold = { .pid = 0, .start = 0, .go = -1 };
	if (sandbox_dir(ns, o, dir, sizeof dir, err) || wr_ns_parse_spec(o, &spec, err))
		return -1;
	if (ns_options(spec, &net, &ipc, &pid, err))
		goto fail_early;
	int node_net = strcmp(net, "node") == 0, node_ipc = strcmp(ipc, "node") == 0;
	int pod_pid = strcmp(pid, "pod") == 0;
	const char *netns = node_net ? "" : wr_ns_str(spec, "netns");
	if (*netns && !wr_ns_nsfile_is(netns, CLONE_NEWNET)) {
		wr_error_set(err, WR_INVALID_ARGUMENT, "ns: netns '%s' is not a network namespace",
			     netns);
		goto fail_early;
	}

	/* rerun after success: keep what is there */
	if ((sb = wr_ns_sandbox_load(ns, o->ns, o->id)) && complete(sb)) {
		int rc = adopt(o, sb, err);
		json_object_put(sb);
		json_object_put(spec);
		return rc;
	}
	json_object_put(sb);
	sb = NULL;
	/* a partial earlier run: start over */
	if (teardown(ns, o, dir, err))
		goto fail_early;

	if (wr_mkdir_p(ns->sandboxes, 0711, err))
		goto fail_early;
	if (!ns->private_done) {
		if (wr_ns_make_private(ns->sandboxes, err))
			goto fail_early;
		ns->private_done = 1;
	}
	if (wr_mkdir_p(dir, 0755, err))
		goto fail;

	char hostbuf[HOST_NAME_MAX + 1] = "";
	const char *hostname = wr_ns_str(spec, "hostname");
	if (!*hostname) {
		gethostname(hostbuf, sizeof hostbuf - 1);
		hostname = hostbuf;
	}
	char ipc_path[WR_NS_PATH] = "", uts_path[WR_NS_PATH] = "", net_path[WR_NS_PATH] = "";
	char hn_path[WR_NS_PATH], hosts_path[WR_NS_PATH], resolv_path[WR_NS_PATH];
	char shm_path[WR_NS_PATH] = "/dev/shm";
	int own_net = !node_net && !*netns;
	if ((!node_ipc && wr_ns_pathf(ipc_path, sizeof ipc_path, err, "%s/ipc", dir)) ||
	    (!node_net && wr_ns_pathf(uts_path, sizeof uts_path, err, "%s/uts", dir)) ||
	    (own_net && wr_ns_pathf(net_path, sizeof net_path, err, "%s/net", dir)))
		goto fail;
	struct wr_ns_nsfiles f = {
		.ipc = *ipc_path ? ipc_path : NULL,
		.uts = *uts_path ? uts_path : NULL,
		.net = own_net ? net_path : NULL,
		.hostname = hostname,
	};
	if (wr_ns_nsfiles_create(&f, err))
		goto fail;
	struct json_object *sysctls = pod_sysctls(ns, spec, node_net);
	struct wr_ns_sysctl_ns in = { .net = own_net ? net_path : netns, .ipc = ipc_path,
				      .uts = uts_path };
	int sysctl_rc = wr_ns_sysctls_apply(sysctls, &in, err);
	json_object_put(sysctls);
	if (sysctl_rc)
		goto fail;
	char line[HOST_NAME_MAX + 2];
	snprintf(line, sizeof line, "%s\n", hostname);
	json_object_object_get_ex(spec, "dns", &dns);
	if (write_text(dir, "hostname", line, hn_path, sizeof hn_path, err) ||
	    make_hosts(dir, hostname, node_net, hosts_path, sizeof hosts_path, err) ||
	    make_resolv(dir, dns, resolv_path, sizeof resolv_path, err))
		goto fail;
	if (!node_ipc && (wr_ns_pathf(shm_path, sizeof shm_path, err, "%s/shm", dir) ||
			  wr_ns_mount_shm(shm_path, err)))
		goto fail;
	/* last, so nothing after it can fail but recording it */
	char pid_path[WR_NS_PATH] = "";
	if (pod_pid && (wr_ns_pathf(pid_path, sizeof pid_path, err, "%s/pid", dir) ||
			wr_ns_holder_start(ns->holder, pid_path, &hold, err)))
		goto fail;

	sb = json_object_new_object();
	struct json_object *opts = json_object_new_object();
	json_object_object_add(opts, "network", json_object_new_string(net));
	json_object_object_add(opts, "pid", json_object_new_string(pid));
	json_object_object_add(opts, "ipc", json_object_new_string(ipc));
	json_object_object_add(sb, "version", json_object_new_int(SANDBOX_JSON_VERSION));
	json_object_object_add(sb, "namespace", json_object_new_string(o->ns));
	json_object_object_add(sb, "id", json_object_new_string(o->id));
	json_object_object_add(sb, "dir", json_object_new_string(dir));
	json_object_object_add(sb, "netns", json_object_new_string(own_net ? net_path : netns));
	json_object_object_add(sb, "netns_owned", json_object_new_boolean(own_net));
	json_object_object_add(sb, "ipc", json_object_new_string(ipc_path));
	json_object_object_add(sb, "uts", json_object_new_string(uts_path));
	json_object_object_add(sb, "hostname", json_object_new_string(hostname));
	json_object_object_add(sb, "hostname_path", json_object_new_string(hn_path));
	json_object_object_add(sb, "hosts_path", json_object_new_string(hosts_path));
	json_object_object_add(sb, "resolv_path", json_object_new_string(resolv_path));
	json_object_object_add(sb, "shm_path", json_object_new_string(shm_path));
	json_object_object_add(sb, "shm_owned", json_object_new_boolean(!node_ipc));
	json_object_object_add(sb, "pidns", json_object_new_string(pid_path));
	if (pod_pid) {
		json_object_object_add(sb, "holder", json_object_new_string(ns->holder));
		json_object_object_add(sb, "holder_pid", json_object_new_int(hold.pid));
		json_object_object_add(sb, "holder_start_time", json_object_new_int64((int64_t)hold.start));
	}
	json_object_object_add(sb, "cgroup_parent",
			       json_object_new_string(wr_ns_str(spec, "cgroup_parent")));
	json_object_object_add(sb, "ns_options", opts);
	const char *text = json_object_to_json_string_ext(sb, JSON_C_TO_STRING_PRETTY);
	char path[WR_NS_PATH];
	if (write_text(dir, "sandbox.json", text, path, sizeof path, err) ||
	    wr_ns_holder_release(&hold, err) || adopt(o, sb, err))
		goto fail;
	json_object_put(sb);
	json_object_put(spec);
	return 0;

fail:;
	struct wr_error ignore;
	wr_ns_holder_abandon(&hold);
	teardown(ns, o, dir, &ignore);
fail_early:
	json_object_put(sb);
	json_object_put(spec);
	wr_error_wrap(err, "sandbox %s create", o->id);
	return -1;
}

int wr_ns_sandbox_start(struct wr_backend *b, struct wr_object *o, struct json_object *args,
			struct wr_error *err)
{
	(void)args;
	/* nothing runs in an ns sandbox; starting it only checks it is there */
	struct json_object *sb = wr_ns_sandbox_load(wr_ns_of(b), o->ns, o->id);
	int ok = sb && complete(sb);
	json_object_put(sb);
	if (!ok)
		return wr_error_set(err, WR_NOT_FOUND, "ns: sandbox %s has no resources", o->id);
	return 0;
}

int wr_ns_sandbox_stop(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		       struct wr_error *err)
{
	(void)args;
	/* the holder (shared pid namespace) is the only process to stop; the
	 * namespace files stay until delete */
	struct json_object *sb = wr_ns_sandbox_load(wr_ns_of(b), o->ns, o->id);
	int rc = wr_ns_holder_kill(holder_pid(sb), holder_start(sb), err);
	json_object_put(sb);
	if (rc)
		wr_error_wrap(err, "sandbox %s stop", o->id);
	return rc;
}

int wr_ns_sandbox_delete(struct wr_backend *b, struct wr_object *o, struct json_object *args,
			 struct wr_error *err)
{
	(void)args;
	char dir[WR_NS_PATH];
	if (sandbox_dir(wr_ns_of(b), o, dir, sizeof dir, err) || teardown(wr_ns_of(b), o, dir, err)) {
		wr_error_wrap(err, "sandbox %s delete", o->id);
		return -1;
	}
	return 0;
}

int wr_ns_sandbox_status(struct wr_backend *b, struct wr_object *o, struct json_object **info,
			 struct wr_error *err)
{
	struct json_object *sb = wr_ns_sandbox_load(wr_ns_of(b), o->ns, o->id);
	if (!sb)
		return wr_error_set(err, WR_NOT_FOUND, "ns: sandbox %s has no resources", o->id);
	*info = sb;
	return 0;
}

int wr_ns_sandbox_probe(struct wr_backend *b, struct wr_object *o, const char *action,
			struct json_object *args, struct wr_error *err)
{
	(void)args;
	struct wr_ns *ns = wr_ns_of(b);
	char dir[WR_NS_PATH];
	if (sandbox_dir(ns, o, dir, sizeof dir, err))
		return -1;
	if (strcmp(action, "delete") == 0)
		return access(dir, F_OK) != 0 && errno == ENOENT;
	struct json_object *sb = wr_ns_sandbox_load(ns, o->ns, o->id);
	if (strcmp(action, "stop") == 0) {
		int gone = wr_ns_proc_check(holder_pid(sb), holder_start(sb)) != WR_NS_PROC_ALIVE;
		json_object_put(sb);
		return gone;
	}
	int done = sb && complete(sb);
	if (done && strcmp(action, "create") == 0 && adopt(o, sb, err) < 0)
		done = -1;
	json_object_put(sb);
	return strcmp(action, "create") == 0 || strcmp(action, "start") == 0 ? done : 0;
}

int wr_ns_sandbox_observe(struct wr_backend *b, struct wr_object *o, struct wr_observation *obs,
			  struct wr_error *err)
{
	(void)err;
	struct json_object *sb = wr_ns_sandbox_load(wr_ns_of(b), o->ns, o->id);
	obs->exists = sb && complete(sb);
	json_object_put(sb);
	return 0;
}
