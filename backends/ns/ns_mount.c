/* ns_mount.c — the mounts the ns backend makes on the host: a container's
 * rootfs from containerd's mount list (overlay, bind, ...), the pod's /dev/shm
 * tmpfs, the private bind of the sandboxes directory; and taking them down.
 *
 * Option strings follow containerd's mount package: flag words ("ro",
 * "nosuid", "rbind", ...) become mount(2) flags, everything else is passed as
 * filesystem data; propagation words are ignored (everything here lives
 * under a private mount). */
#include "backends/ns/ns_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif

int wr_ns_is_mountpoint(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &sx) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
		return (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	/* old kernel: a different device than the parent directory */
	char buf[WR_NS_PATH];
	struct stat self, parent;
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf || stat(path, &self) < 0 ||
	    stat(dirname(buf), &parent) < 0)
		return -1;
	return self.st_dev != parent.st_dev;
}

int wr_ns_unmount_all(const char *path, struct wr_error *err)
{
	for (int i = 0; i < 256; i++) {
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			continue;
		if (errno == EINVAL || errno == ENOENT || errno == ENOTDIR)
			return 0; /* not (or no longer) a mount point */
		return wr_error_errno(err, errno, "ns: cannot unmount %s", path);
	}
	return wr_error_set(err, WR_INTERNAL, "ns: %s: too many stacked mounts", path);
}

int wr_ns_make_private(const char *dir, struct wr_error *err)
{
	int mp = wr_ns_is_mountpoint(dir);
	if (mp < 0)
		return wr_error_errno(err, errno, "ns: cannot stat %s", dir);
	if (!mp && mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0)
		return wr_error_errno(err, errno, "ns: cannot bind %s onto itself", dir);
	if (mount(NULL, dir, NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return wr_error_errno(err, errno, "ns: cannot make %s a private mount", dir);
	return 0;
}

void wr_ns_release_private(struct wr_ns *ns)
{
	/* The self-bind of sandboxes/ exists only while a sandbox does, so a
	 * daemon with no pods leaves no mount behind. */
	DIR *d = opendir(ns->sandboxes);
	if (!d)
		return;
	int empty = 1;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	if (empty && wr_ns_is_mountpoint(ns->sandboxes) > 0 &&
	    umount2(ns->sandboxes, MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
		ns->private_done = 0;
}

int wr_ns_mount_shm(const char *dir, struct wr_error *err)
{
	if (mkdir(dir, 01777) < 0 && errno != EEXIST)
		return wr_error_errno(err, errno, "ns: cannot create %s", dir);
	int mp = wr_ns_is_mountpoint(dir);
	if (mp > 0)
		return 0;
	if (mp < 0)
		return wr_error_errno(err, errno, "ns: cannot stat %s", dir);
	if (mount("shm", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=1777,size=67108864") < 0)
		return wr_error_errno(err, errno, "ns: cannot mount the shm tmpfs on %s", dir);
	return 0;
}

/* ---- rootfs ---------------------------------------------------------------------- */

static const struct {
	const char *name;
	int clear;
	unsigned long flag;
} flag_words[] = {
	{ "async", 1, MS_SYNCHRONOUS },	{ "atime", 1, MS_NOATIME },
	{ "bind", 0, MS_BIND },		{ "defaults", 0, 0 },
	{ "dev", 1, MS_NODEV },		{ "diratime", 1, MS_NODIRATIME },
	{ "dirsync", 0, MS_DIRSYNC },	{ "exec", 1, MS_NOEXEC },
	{ "mand", 0, MS_MANDLOCK },	{ "noatime", 0, MS_NOATIME },
	{ "nodev", 0, MS_NODEV },	{ "nodiratime", 0, MS_NODIRATIME },
	{ "noexec", 0, MS_NOEXEC },	{ "nomand", 1, MS_MANDLOCK },
	{ "norelatime", 1, MS_RELATIME }, { "nostrictatime", 1, MS_STRICTATIME },
	{ "nosuid", 0, MS_NOSUID },	{ "rbind", 0, MS_BIND | MS_REC },
	{ "relatime", 0, MS_RELATIME },	{ "ro", 0, MS_RDONLY },
	{ "rw", 1, MS_RDONLY },		{ "strictatime", 0, MS_STRICTATIME },
	{ "suid", 1, MS_NOSUID },	{ "sync", 0, MS_SYNCHRONOUS },
};

static const char *const propagation_words[] = {
	"private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable",
};

/* Flags and data of one mount's options.  data is a malloc'd string. */
static int parse_options(struct json_object *opts, unsigned long *flags, char **data,
			 struct wr_error *err)
{
	size_t cap = 1, len = 0;
	*flags = 0;
	*data = calloc(1, 1);
	size_t n = opts && json_object_is_type(opts, json_type_array) ? json_object_array_length(opts) : 0;
	for (size_t i = 0; i < n && *data; i++) {
		const char *o = json_object_get_string(json_object_array_get_idx(opts, i));
		int known = 0;
		if (!o || !*o)
			continue;
		for (size_t k = 0; k < sizeof flag_words / sizeof flag_words[0] && !known; k++) {
			if (strcmp(o, flag_words[k].name) == 0) {
				known = 1;
				if (flag_words[k].clear)
					*flags &= ~flag_words[k].flag;
				else
					*flags |= flag_words[k].flag;
			}
		}
		for (size_t k = 0; k < sizeof propagation_words / sizeof propagation_words[0]; k++)
			known |= strcmp(o, propagation_words[k]) == 0;
		if (known)
			continue;
		size_t ol = strlen(o);
		if (len + ol + 2 > cap) {
			cap = (len + ol + 2) * 2;
			char *nd = realloc(*data, cap);
			if (!nd) {
				free(*data);
				*data = NULL;
				break;
			}
			*data = nd;
		}
		if (len)
			(*data)[len++] = ',';
		memcpy(*data + len, o, ol + 1);
		len += ol;
	}
	if (!*data)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	if (len >= (size_t)getpagesize()) {
		free(*data);
		*data = NULL;
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "ns: rootfs mount options are %zu bytes, more than a page "
				    "(too many overlay layers)", len);
	}
	return 0;
}

static int mount_one(struct json_object *m, const char *rootfs, struct wr_error *err)
{
	const char *type = wr_ns_str(m, "type"), *source = wr_ns_str(m, "source");
	const char *target = wr_ns_str(m, "target");
	struct json_object *opts = NULL;
	json_object_object_get_ex(m, "options", &opts);
	char dest[WR_NS_PATH];
	if (target[0] && (strstr(target, "..") != NULL))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: rootfs mount target '%s' "
				    "escapes the rootfs", target);
	if (wr_ns_pathf(dest, sizeof dest, err, "%s%s%s", rootfs, target[0] ? "/" : "", target))
		return -1;
	if (target[0] && wr_mkdir_p(dest, 0755, err))
		return -1;
	unsigned long flags;
	char *data;
	if (parse_options(opts, &flags, &data, err))
		return -1;
	int rc = 0;
	if (flags & MS_BIND) {
		/* a bind ignores most flags: bind, then remount with them */
		if (mount(source, dest, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
			rc = wr_error_errno(err, errno, "ns: cannot bind %s onto %s", source, dest);
		else if ((flags & ~(MS_BIND | MS_REC)) &&
			 mount("", dest, NULL, MS_REMOUNT | MS_BIND | (flags & ~MS_REC), NULL) < 0) {
			rc = wr_error_errno(err, errno, "ns: cannot remount %s", dest);
			umount2(dest, MNT_DETACH);
		}
	} else if (mount(source, dest, type[0] ? type : NULL, flags, data[0] ? data : NULL) < 0) {
		rc = wr_error_errno(err, errno, "ns: cannot mount %s %s on %s (%s)", type, source,
				    dest, data);
	}
	free(data);
	return rc;
}

int wr_ns_mount_rootfs(struct json_object *mounts, const char *rootfs, struct wr_error *err)
{
	size_t n = json_object_array_length(mounts);
	for (size_t i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i);
		if (!json_object_is_type(m, json_type_object)) {
			wr_error_set(err, WR_INVALID_ARGUMENT, "ns: rootfs mount %zu is not an object", i);
		} else if (mount_one(m, rootfs, err) == 0) {
			continue;
		}
		/* undo: the mounts so far are stacked on rootfs or below it */
		struct wr_error ignore;
		for (size_t j = i; j-- > 0;) {
			const char *t = wr_ns_str(json_object_array_get_idx(mounts, j), "target");
			char dest[WR_NS_PATH];
			if (snprintf(dest, sizeof dest, "%s%s%s", rootfs, t[0] ? "/" : "", t) <
			    (int)sizeof dest)
				umount2(dest, MNT_DETACH);
		}
		wr_ns_unmount_all(rootfs, &ignore);
		return -1;
	}
	return 0;
}
