/* ns_spec.c — rewriting a container's config.json (the OCI spec containerd
 * wrote into the bundle) so the container lives in its pod.
 *
 * CRI writes namespace paths as /proc/<sandbox pid>/ns/<type>, but an ns
 * sandbox has no process: the paths become the sandbox's namespace files.
 * The pid namespace follows the pod's mode: the node's (no entry), one per
 * container (an entry without a path), or, when the pod shares one, the
 * sandbox's pid file — for every container that CRI put in the pod's
 * namespace (a path: POD or TARGET, which in such a pod is the same one);
 * one asking for its own (CONTAINER, no path) keeps it.
 * CRI with a shim sandboxer mounts no hostname/hosts/resolv.conf//dev/shm
 * either: they are added here, replacing any mount at the same destination
 * (the OCI default /dev/shm tmpfs) but a bind mount of /etc/hostname, hosts
 * or resolv.conf, which only the CRI caller adds (kubelet's managed
 * /etc/hosts with the pod IP and host aliases) and which wins, as in CRI.
 *
 * Idempotency: the first run keeps the bundle's config.json as
 * config.json.orig (a hard link, so no copy: the rewrite replaces
 * config.json by rename and the .orig keeps the original inode); every run
 * (and every rerun after a crash) reads the .orig, so edits never apply
 * twice.  wr_ns_spec_restore puts it back. */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static struct json_object *member(struct json_object *parent, const char *key, json_type type)
{
	struct json_object *v;
	if (json_object_object_get_ex(parent, key, &v) && json_object_is_type(v, type))
		return v;
	v = type == json_type_array ? json_object_new_array() : json_object_new_object();
	json_object_object_add(parent, key, v);
	return v;
}

/* Set the namespace entry of `type`: path NULL removes it, "" keeps it (or
 * adds it) without a path — a new namespace —, else joins path. */
static void set_namespace(struct json_object *lnx, const char *type, const char *path)
{
	struct json_object *nss = member(lnx, "namespaces", json_type_array);
	struct json_object *keep = json_object_new_array();
	int found = 0;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		struct json_object *e = json_object_array_get_idx(nss, i);
		if (strcmp(wr_ns_str(e, "type"), type) != 0) {
			json_object_array_add(keep, json_object_get(e));
			continue;
		}
		if (!path || found)
			continue; /* drop (and drop duplicates) */
		found = 1;
		if (*path)
			json_object_object_add(e, "path", json_object_new_string(path));
		else
			json_object_object_del(e, "path");
		json_object_array_add(keep, json_object_get(e));
	}
	if (path && !found) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "type", json_object_new_string(type));
		if (*path)
			json_object_object_add(e, "path", json_object_new_string(path));
		json_object_array_add(keep, e);
	}
	json_object_object_add(lnx, "namespaces", keep);
}

/* The spec asks for a namespace of `type` of its own: an entry without a
 * path (CRI writes one for a container whose pid mode is CONTAINER, and a
 * path, /proc/<sandbox pid>/ns/pid, for POD and TARGET). */
static int own_namespace(struct json_object *lnx, const char *type)
{
	struct json_object *nss;
	if (!json_object_object_get_ex(lnx, "namespaces", &nss) ||
	    !json_object_is_type(nss, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		struct json_object *e = json_object_array_get_idx(nss, i);
		if (strcmp(wr_ns_str(e, "type"), type) == 0)
			return !*wr_ns_str(e, "path");
	}
	return 0;
}

static void drop_mount(struct json_object *spec, const char *dest)
{
	struct json_object *mounts = member(spec, "mounts", json_type_array);
	struct json_object *keep = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		const char *d = wr_ns_str(m, "destination");
		size_t l = strlen(d);
		while (l > 1 && d[l - 1] == '/')
			l--;
		if (strlen(dest) == l && strncmp(d, dest, l) == 0)
			continue;
		json_object_array_add(keep, json_object_get(m));
	}
	json_object_object_add(spec, "mounts", keep);
}

/* A bind mount at dest that the CRI caller asked for (kubelet mounts its
 * managed /etc/hosts this way); containerd itself adds none with a shim
 * sandboxer. */
static int has_bind(struct json_object *spec, const char *dest)
{
	struct json_object *mounts;
	if (!json_object_object_get_ex(spec, "mounts", &mounts) ||
	    !json_object_is_type(mounts, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(mounts); i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		if (strcmp(wr_ns_str(m, "destination"), dest) == 0 &&
		    strcmp(wr_ns_str(m, "type"), "bind") == 0)
			return 1;
	}
	return 0;
}

/* Mount source at dest, replacing what the spec mounts there — except a
 * caller's bind of a pod file (keep_bind), which wins as it does in CRI. */
static void add_bind(struct json_object *spec, const char *dest, const char *source, int ro,
		     int shm, int keep_bind)
{
	if (!source || !*source || (keep_bind && has_bind(spec, dest)))
		return;
	drop_mount(spec, dest);
	struct json_object *m = json_object_new_object(), *o = json_object_new_array();
	json_object_object_add(m, "destination", json_object_new_string(dest));
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(source));
	json_object_array_add(o, json_object_new_string("rbind"));
	json_object_array_add(o, json_object_new_string("rprivate"));
	if (shm) {
		json_object_array_add(o, json_object_new_string("nosuid"));
		json_object_array_add(o, json_object_new_string("nodev"));
		json_object_array_add(o, json_object_new_string("noexec"));
	}
	json_object_array_add(o, json_object_new_string(ro ? "ro" : "rw"));
	json_object_object_add(m, "options", o);
	json_object_array_add(member(spec, "mounts", json_type_array), m);
}

static void drop_negative(struct json_object *obj, const char *key)
{
	struct json_object *v;
	if (obj && json_object_object_get_ex(obj, key, &v) && json_object_get_int(v) < 0)
		json_object_object_del(obj, key);
}

/* Join the sandbox: namespaces and the pod's files. */
static void join_sandbox(struct json_object *spec, struct json_object *sb)
{
	struct json_object *lnx = member(spec, "linux", json_type_object), *opts = NULL;
	json_object_object_get_ex(sb, "ns_options", &opts);
	const char *netns = wr_ns_str(sb, "netns"), *ipc = wr_ns_str(sb, "ipc");
	const char *uts = wr_ns_str(sb, "uts");
	set_namespace(lnx, "network", *netns ? netns : NULL);   /* none: the node's */
	set_namespace(lnx, "ipc", *ipc ? ipc : NULL);
	set_namespace(lnx, "uts", *uts ? uts : NULL);
	const char *pidmode = wr_ns_str(opts, "pid"), *pidns = wr_ns_str(sb, "pidns");
	if (strcmp(pidmode, "node") == 0)
		set_namespace(lnx, "pid", NULL);
	else if (strcmp(pidmode, "pod") == 0 && *pidns && !own_namespace(lnx, "pid"))
		set_namespace(lnx, "pid", pidns);
	else
		set_namespace(lnx, "pid", "");
	/* the pod's uts namespace carries the pod's hostname; a container must
	 * not set its own (and cannot without a uts namespace of its own) */
	json_object_object_del(spec, "hostname");

	struct json_object *root = NULL;
	json_object_object_get_ex(spec, "root", &root);
	int ro = wr_ns_bool(root, "readonly");
	add_bind(spec, "/etc/hostname", wr_ns_str(sb, "hostname_path"), ro, 0, 1);
	add_bind(spec, "/etc/hosts", wr_ns_str(sb, "hosts_path"), ro, 0, 1);
	add_bind(spec, "/etc/resolv.conf", wr_ns_str(sb, "resolv_path"), ro, 0, 1);
	/* the OCI default /dev/shm is a private tmpfs: always the pod's instead */
	add_bind(spec, "/dev/shm", wr_ns_str(sb, "shm_path"), 0, 1, 0);
}

int wr_ns_spec_rewrite(const char *bundle, struct json_object *sandbox, struct wr_error *err)
{
	char cfg[WR_NS_PATH], orig[WR_NS_PATH];
	if (wr_ns_pathf(cfg, sizeof cfg, err, "%s/config.json", bundle) ||
	    wr_ns_pathf(orig, sizeof orig, err, "%s/config.json.orig", bundle))
		return -1;
	/* EEXIST: an earlier run kept it (config.json may be rewritten by now) */
	if (link(cfg, orig) < 0 && errno != EEXIST) {
		if (errno == ENOENT)
			return wr_error_errno(err, errno, "ns: bundle %s has no config.json", bundle);
		/* a file system without hard links: keep a copy */
		char *copy = NULL;
		size_t len;
		struct stat cs;
		if (stat(cfg, &cs) < 0 || wr_ns_read_file(cfg, &copy, &len) < 0)
			return wr_error_errno(err, errno, "ns: cannot read %s", cfg);
		int rc = wr_ns_write_file(orig, copy, len, cs.st_mode & 07777, err);
		free(copy);
		if (rc)
			return -1;
	}
	struct stat st;
	char *text = NULL;
	if (stat(orig, &st) < 0 || wr_ns_read_file(orig, &text, NULL) < 0)
		return wr_error_errno(err, errno, "ns: cannot read %s", orig);
	mode_t mode = st.st_mode & 07777;
	struct json_object *spec = json_tokener_parse(text);
	free(text);
	if (!spec || !json_object_is_type(spec, json_type_object)) {
		json_object_put(spec);
		wr_ns_spec_restore(bundle, NULL);
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s is not a JSON object", cfg);
	}
	struct json_object *process = NULL, *lnx = NULL;
	json_object_object_get_ex(spec, "process", &process);
	json_object_object_get_ex(spec, "linux", &lnx);
	/* root here lacks CAP_SYS_RESOURCE: runc fails to lower oom_score_adj */
	drop_negative(process, "oomScoreAdj");
	drop_negative(lnx, "oomScoreAdj");
	if (sandbox)
		join_sandbox(spec, sandbox);
	const char *out = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
	int rc = wr_ns_write_file(cfg, out, strlen(out), mode, err);
	json_object_put(spec);
	return rc;
}

int wr_ns_spec_restore(const char *bundle, struct wr_error *err)
{
	char cfg[WR_NS_PATH], orig[WR_NS_PATH];
	if (wr_ns_pathf(cfg, sizeof cfg, err, "%s/config.json", bundle) ||
	    wr_ns_pathf(orig, sizeof orig, err, "%s/config.json.orig", bundle))
		return -1;
	if (rename(orig, cfg) < 0 && errno != ENOENT)
		return wr_error_errno(err, errno, "ns: cannot restore %s", cfg);
	return 0;
}
