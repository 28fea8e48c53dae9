/* test_ns_backend.c — the ns backend (backends/ns/) against the real kernel
 * and runc: sandboxes made of namespace files, containers joined to them, a
 * shared pid namespace and its holder (pid 1, its memory printed), exec,
 * kill, pause, bad input, recovery probes.  Actions are called
 * directly on objects from wr_object_new, no engine.
 *
 * Needs root and runc; skipped otherwise.  The test process is a child
 * subreaper, as warrend is, so container processes become its children and
 * their exit statuses are collected with waitpid on their exact pids.
 *
 * Every test runs in a fixture that owns a temp directory (state dir, busybox
 * image, bundles, a network namespace file) and undoes everything in the
 * teardown, even after a failed assertion: runc containers it created, the
 * processes it started (by pid), every mount under the directory, the
 * cgroups runc made (/warren-test-<pid>/<id> in each hierarchy).  A crash
 * skips teardowns (a sanitizer abort), so main runs the tests in a forked
 * child and, when it ends, sweeps what that child could have left. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backends/ns/ns.h"
#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"
#include "core/lifecycle.h"
#include "core/stats.h"
#include "tests/support/harness.h"

#define MAX_TRACK 32
#define WAIT_MS 20000

struct fx {
	char dir[64];        /* /tmp/test_ns.<pid>.XXXXXX */
	char state[128];     /* backend state dir */
	char runc_root[160]; /* <state>/runc */
	char image[128];     /* a busybox rootfs */
	char netns[128];     /* a network namespace file we made */
	char cgparent[64];   /* warren-test-<pid> */
	struct wr_backend *b;
	struct ev_loop *loop;  /* the backend's, when a test gives it one (terminals) */
	pid_t pids[MAX_TRACK]; /* processes we started and must reap */
	int npids;
	struct wr_object *objs[MAX_TRACK];
	int nobjs;
};

static const char *runc_path(void)
{
	static const char *const cands[] = { "/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc",
					     "/usr/local/bin/runc" };
	for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++)
		if (access(cands[i], X_OK) == 0)
			return cands[i];
	return NULL;
}

/* ---- small helpers --------------------------------------------------------------- */

/* Run argv with stdio on /dev/null; wait for exactly that pid. */
static int run(const char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void write_str(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static char *read_str(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* Mount points at or below prefix, from /proc/self/mountinfo (unescaped). */
static int mounts_under(const char *prefix, char out[][512], int max)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096];
	int n = 0;
	size_t pl = strlen(prefix);
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		for (int i = 0; i < 4 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (!p)
			continue;
		char mp[512];
		size_t k = 0;
		for (; *p && *p != ' ' && k < sizeof mp - 1; p++) {
			if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7') {
				mp[k++] = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
				p += 3;
			} else {
				mp[k++] = *p;
			}
		}
		mp[k] = '\0';
		if (strncmp(mp, prefix, pl) == 0 && (mp[pl] == '\0' || mp[pl] == '/')) {
			if (out && n < max)
				snprintf(out[n], 512, "%s", mp);
			n++;
		}
	}
	fclose(f);
	return n;
}

static int is_mounted(const char *path)
{
	char m[64][512];
	int n = mounts_under(path, m, 64);
	for (int i = 0; i < n && i < 64; i++)
		if (strcmp(m[i], path) == 0)
			return 1;
	return 0;
}

static uint64_t ns_inode_of_pid(pid_t pid, const char *type)
{
	char path[64], link[128];
	snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, type);
	ssize_t n = readlink(path, link, sizeof link - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	char *b = strchr(link, '[');
	return b ? strtoull(b + 1, NULL, 10) : 0;
}

static uint64_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int nstype_of(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int t = ioctl(fd, NS_GET_NSTYPE);
	close(fd);
	return t;
}

/* In a forked child joined to the namespace file nsfile, read `what`
 * ("hostname", "lo": up/down, or an absolute path: that file's first line)
 * and return it in out. */
static void in_ns(const char *nsfile, int nstype, const char *what, char *out, size_t n)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char buf[256] = "";
		int fd = open(nsfile, O_RDONLY);
		if (fd < 0 || setns(fd, nstype) < 0)
			_exit(1);
		if (strcmp(what, "hostname") == 0) {
			gethostname(buf, sizeof buf - 1);
		} else if (what[0] == '/') { /* a file, e.g. /proc/sys/... */
			int rfd = open(what, O_RDONLY);
			ssize_t got = rfd >= 0 ? read(rfd, buf, sizeof buf - 1) : -1;
			buf[got > 0 ? got : 0] = '\0';
			if (got > 0 && buf[got - 1] == '\n')
				buf[got - 1] = '\0';
		} else if (strcmp(what, "lo") == 0) {
			struct ifreq ifr;
			memset(&ifr, 0, sizeof ifr);
			strcpy(ifr.ifr_name, "lo");
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
				strcpy(buf, (ifr.ifr_flags & IFF_UP) ? "up" : "down");
		}
		if (write(p[1], buf, strlen(buf)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	ssize_t r = read(p[0], out, n - 1);
	out[r > 0 ? r : 0] = '\0';
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A network namespace bound to path (as ip netns add / CNI would make). */
static void make_netns(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY, 0444);
	assert_true(fd >= 0);
	close(fd);
	int ready[2], hold[2];
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(hold), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(hold[1]);
		char c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	char src[64];
	snprintf(src, sizeof src, "/proc/%d/ns/net", (int)pid);
	int rc = c == 'y' ? mount(src, path, NULL, MS_BIND, NULL) : -1;
	close(hold[1]);
	close(ready[0]);
	waitpid(pid, NULL, 0);
	assert_int_equal(rc, 0);
}

/* ---- fixture ---------------------------------------------------------------------- */

static void copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(in >= 0 && out >= 0);
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void make_image(const char *root)
{
	static const char *const dirs[] = { "", "/bin", "/etc", "/proc", "/sys", "/dev", "/tmp" };
	static const char *const cmds[] = { "sh", "echo", "sleep", "cat", "hostname", "readlink",
					    "ls", "head", "stty", "tty" };
	char path[512];
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		snprintf(path, sizeof path, "%s%s", root, dirs[i]);
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	}
	snprintf(path, sizeof path, "%s/bin/busybox", root);
	copy_file("/bin/busybox", path, 0755);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		snprintf(path, sizeof path, "%s/bin/%s", root, cmds[i]);
		assert_int_equal(symlink("busybox", path), 0);
	}
}

static int setup(void **state)
{
	if (geteuid() != 0 || !runc_path() || access("/bin/busybox", X_OK) != 0) {
		print_message("test_ns_backend: needs root, runc and /bin/busybox; skipped\n");
		skip();
	}
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	*state = f;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_ns.%d.XXXXXX", (int)getpid());
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->state, sizeof f->state, "%s/state", f->dir);
	snprintf(f->runc_root, sizeof f->runc_root, "%s/runc", f->state);
	snprintf(f->image, sizeof f->image, "%s/image", f->dir);
	snprintf(f->netns, sizeof f->netns, "%s/netns", f->dir);
	snprintf(f->cgparent, sizeof f->cgparent, "warren-test-%d", (int)getpid());
	make_image(f->image);
	make_netns(f->netns);
	struct wr_ns_config cfg = { .state_dir = f->state, .runtime = runc_path() };
	struct wr_error err = { 0 };
	f->b = wr_ns_backend_new(&cfg, &err);
	if (!f->b)
		fail_msg("wr_ns_backend_new: %s", err.msg);
	assert_string_equal(f->b->ops->name, "ns");
	return 0;
}

/* ---- cleanup: also used by main's guard after a crash of the test process ------- */

/* runc delete --force every container of the runc root under dir (this
 * kills their processes). */
static void delete_containers(const char *dir)
{
	char root[256];
	snprintf(root, sizeof root, "%s/state/runc", dir);
	DIR *d = opendir(root);
	if (!d || !runc_path()) {
		if (d)
			closedir(d);
		return;
	}
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.')
			continue;
		const char *argv[] = { runc_path(), "--root", root, "delete", "--force", de->d_name,
				       NULL };
		run(argv);
	}
	closedir(d);
}

/* Every mount at or under dir, deepest first. */
static void unmount_under(const char *dir)
{
	for (int round = 0; round < 16; round++) {
		char m[64][512];
		int n = mounts_under(dir, m, 64);
		if (n == 0)
			break;
		for (int i = (n < 64 ? n : 64) - 1; i >= 0; i--)
			umount2(m[i], MNT_DETACH);
	}
}

static void remove_cgroup_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	for (struct dirent *c; (c = readdir(d));) {
		char sub[1024];
		if (c->d_type != DT_DIR || c->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, c->d_name);
		rmdir(sub);
	}
	closedir(d);
	rmdir(path);
}

/* The cgroups runc made for test process `owner`: /warren-test-<owner>/<id>
 * in every hierarchy (v1 controllers, name=systemd, unified) or in v2's. */
static void remove_cgroups(pid_t owner)
{
	char path[512];
	snprintf(path, sizeof path, "/sys/fs/cgroup/warren-test-%d", (int)owner);
	remove_cgroup_tree(path);
	DIR *top = opendir("/sys/fs/cgroup");
	for (struct dirent *de; top && (de = readdir(top));) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		snprintf(path, sizeof path, "/sys/fs/cgroup/%s/warren-test-%d", de->d_name, (int)owner);
		remove_cgroup_tree(path);
	}
	if (top)
		closedir(top);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	delete_containers(f->dir);
	/* processes we started: by pid, only while still our unreaped child */
	for (int i = 0; i < f->npids; i++) {
		if (f->pids[i] <= 0 || waitpid(f->pids[i], NULL, WNOHANG) != 0)
			continue;
		kill(f->pids[i], SIGKILL);
		for (int t = 0; t < 5000 && waitpid(f->pids[i], NULL, WNOHANG) == 0; t += 10)
			usleep(10000);
	}
	if (f->b)
		f->b->ops->destroy(f->b);
	if (f->loop) /* after the backend: its terminals' watchers are on it */
		ev_loop_destroy(f->loop);
	unmount_under(f->dir);
	remove_cgroups(getpid());
	for (int i = 0; i < f->nobjs; i++)
		wr_object_free(f->objs[i]);
	harness_rmrf(f->dir);
	free(f);
	return 0;
}

static void track_pid(struct fx *f, pid_t pid)
{
	assert_true(f->npids < MAX_TRACK);
	f->pids[f->npids++] = pid;
}

/* Wait for a process we started; returns its wait status. */
static int wait_exit(struct fx *f, pid_t pid)
{
	int st = 0;
	for (int t = 0; t < WAIT_MS; t += 10) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			for (int i = 0; i < f->npids; i++)
				if (f->pids[i] == pid)
					f->pids[i] = 0;
			return st;
		}
		assert_int_equal(r, 0);
		usleep(10000);
	}
	fail_msg("pid %d did not exit in %d ms", (int)pid, WAIT_MS);
	return -1;
}

static struct wr_object *obj(struct fx *f, enum wr_kind kind, const char *id, const char *owner,
			     struct json_object *spec)
{
	struct wr_object *o = wr_object_new(kind, "test", id, owner, "ns");
	assert_non_null(o);
	assert_true(f->nobjs < MAX_TRACK);
	f->objs[f->nobjs++] = o;
	assert_int_equal(wr_object_set(&o->spec, json_object_to_json_string(spec)), 0);
	json_object_put(spec);
	return o;
}

/* A FIFO at <dir>/<name>, its read side open (as containerd would have it). */
static int fifo(struct fx *f, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", f->dir, name);
	assert_int_equal(mkfifo(path, 0600), 0);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

/* Everything until EOF (all writers gone). */
static char *drain(int fd)
{
	size_t cap = 65536, n = 0;
	char *buf = calloc(1, cap);
	assert_non_null(buf);
	for (int t = 0; t < WAIT_MS;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 100);
		t += 100;
		if (r <= 0)
			continue;
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got == 0)
			break;
		if (got < 0 && errno == EAGAIN)
			continue;
		assert_true(got > 0);
		n += (size_t)got;
	}
	close(fd);
	return buf;
}

/* A bundle <dir>/<id>: config.json from `runc spec`, edited; rootfs either the
 * shared image (root.path absolute, nothing to mount) or an empty rootfs dir
 * for the backend to bind-mount the image onto. */
static void bundle(struct fx *f, const char *id, const char *shell, int mount_rootfs,
		   char *path, size_t n, int oom)
{
	snprintf(path, n, "%s/%s", f->dir, id);
	assert_int_equal(mkdir(path, 0755), 0);
	const char *argv[] = { runc_path(), "spec", "--bundle", path, NULL };
	assert_int_equal(run(argv), 0);
	char cfgp[512];
	snprintf(cfgp, sizeof cfgp, "%s/config.json", path);
	struct json_object *c = json_object_from_file(cfgp), *proc, *root, *lnx, *args;
	assert_non_null(c);
	assert_true(json_object_object_get_ex(c, "process", &proc));
	assert_true(json_object_object_get_ex(c, "root", &root));
	assert_true(json_object_object_get_ex(c, "linux", &lnx));
	args = json_object_new_array();
	json_object_array_add(args, json_object_new_string("sh"));
	json_object_array_add(args, json_object_new_string("-c"));
	json_object_array_add(args, json_object_new_string(shell));
	json_object_object_add(proc, "args", args);
	json_object_object_add(proc, "terminal", json_object_new_boolean(0));
	if (oom)
		json_object_object_add(proc, "oomScoreAdj", json_object_new_int(oom));
	json_object_object_add(root, "path", json_object_new_string(mount_rootfs ? "rootfs" : f->image));
	char cg[160];
	snprintf(cg, sizeof cg, "/%s/%s", f->cgparent, id);
	json_object_object_add(lnx, "cgroupsPath", json_object_new_string(cg));
	assert_int_equal(json_object_to_file_ext(cfgp, c, JSON_C_TO_STRING_PRETTY), 0);
	json_object_put(c);
}

static struct json_object *rootfs_bind(struct fx *f)
{
	struct json_object *a = json_object_new_array(), *m = json_object_new_object();
	struct json_object *o = json_object_new_array();
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(f->image));
	json_object_object_add(m, "target", json_object_new_string(""));
	json_object_array_add(o, json_object_new_string("rbind"));
	json_object_array_add(o, json_object_new_string("rw"));
	json_object_object_add(m, "options", o);
	json_object_array_add(a, m);
	return a;
}

/* What containerd's overlayfs snapshotter hands over: image as lowerdir. */
static struct json_object *rootfs_overlay(struct fx *f, const char *id)
{
	char upper[256], work[256], opt[3][300];
	snprintf(upper, sizeof upper, "%s/%s-upper", f->dir, id);
	snprintf(work, sizeof work, "%s/%s-work", f->dir, id);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	snprintf(opt[0], sizeof opt[0], "workdir=%s", work);
	snprintf(opt[1], sizeof opt[1], "upperdir=%s", upper);
	snprintf(opt[2], sizeof opt[2], "lowerdir=%s", f->image);
	struct json_object *a = json_object_new_array(), *m = json_object_new_object();
	struct json_object *o = json_object_new_array();
	json_object_object_add(m, "type", json_object_new_string("overlay"));
	json_object_object_add(m, "source", json_object_new_string("overlay"));
	json_object_object_add(m, "target", json_object_new_string(""));
	for (int i = 0; i < 3; i++)
		json_object_array_add(o, json_object_new_string(opt[i]));
	json_object_object_add(m, "options", o);
	json_object_array_add(a, m);
	return a;
}

static struct json_object *task_spec(const char *bundle_path, struct json_object *rootfs,
				     const char *out, const char *errp)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "bundle", json_object_new_string(bundle_path));
	json_object_object_add(s, "rootfs", rootfs ? rootfs : json_object_new_array());
	json_object_object_add(s, "stdin", json_object_new_string(""));
	json_object_object_add(s, "stdout", json_object_new_string(out));
	json_object_object_add(s, "stderr", json_object_new_string(errp));
	json_object_object_add(s, "terminal", json_object_new_boolean(0));
	return s;
}

static struct json_object *sandbox_spec(struct fx *f, const char *hostname, int with_dns)
{
	struct json_object *s = json_object_new_object();
	json_object_object_add(s, "bundle", json_object_new_string(f->dir));
	json_object_object_add(s, "netns", json_object_new_string(f->netns));
	json_object_object_add(s, "hostname", json_object_new_string(hostname));
	json_object_object_add(s, "cgroup_parent", json_object_new_string(""));
	if (with_dns) {
		struct json_object *d = json_object_new_object(), *a;
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("10.0.0.10"));
		json_object_array_add(a, json_object_new_string("10.0.0.11"));
		json_object_object_add(d, "servers", a);
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("ns.svc.cluster.local"));
		json_object_array_add(a, json_object_new_string("svc.cluster.local"));
		json_object_object_add(d, "searches", a);
		a = json_object_new_array();
		json_object_array_add(a, json_object_new_string("ndots:5"));
		json_object_object_add(d, "options", a);
		json_object_object_add(s, "dns", d);
	}
	return s;
}

#define OK(call)                                                                  \
	do {                                                                      \
		struct wr_error e_ = { 0 };                                       \
		struct wr_error *err = &e_;                                       \
		if ((call) != 0)                                                  \
			fail_msg("%s: %s (%s)", #call, e_.msg, wr_code_name(e_.code)); \
	} while (0)

static int action_of(enum wr_kind kind, const char *name)
{
	int a = wr_lc_action_by_name(wr_lifecycle_of(kind), name);
	assert_true(a >= 0);
	return a;
}

static struct json_object *kill_args(int sig, int all)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "signal", json_object_new_int(sig));
	json_object_object_add(a, "all", json_object_new_boolean(all));
	return a;
}

static struct wr_object *make_sandbox(struct fx *f, const char *id, const char *hostname)
{
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, id, "", sandbox_spec(f, hostname, 1));
	OK(f->b->ops->sandbox_create(f->b, sb, NULL, err));
	OK(f->b->ops->sandbox_start(f->b, sb, NULL, err));
	return sb;
}

static void sb_path(struct fx *f, const char *id, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/sandboxes/test/%s%s%s", f->state, id, *name ? "/" : "", name);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_sandbox_create_delete(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char dir[512], ipc[512], uts[512], shm[512], p[512], out[256];
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, "sb1", "", sandbox_spec(f, "warren-sb1", 1));
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	sb_path(f, "sb1", "", dir, sizeof dir);
	sb_path(f, "sb1", "ipc", ipc, sizeof ipc);
	sb_path(f, "sb1", "uts", uts, sizeof uts);
	sb_path(f, "sb1", "shm", shm, sizeof shm);

	/* namespace files: new namespaces, not ours */
	assert_int_equal(nstype_of(ipc), CLONE_NEWIPC);
	assert_int_equal(nstype_of(uts), CLONE_NEWUTS);
	assert_int_not_equal(inode_of(ipc), inode_of("/proc/self/ns/ipc"));
	assert_int_not_equal(inode_of(uts), inode_of("/proc/self/ns/uts"));
	sb_path(f, "sb1", "net", p, sizeof p);
	assert_false(exists(p)); /* containerd's netns is used, none of our own */
	in_ns(uts, CLONE_NEWUTS, "hostname", out, sizeof out);
	assert_string_equal(out, "warren-sb1");

	/* the pod's files */
	sb_path(f, "sb1", "hostname", p, sizeof p);
	char *s = read_str(p);
	assert_string_equal(s, "warren-sb1\n");
	free(s);
	sb_path(f, "sb1", "resolv.conf", p, sizeof p);
	s = read_str(p);
	assert_string_equal(s, "nameserver 10.0.0.10\nnameserver 10.0.0.11\n"
			       "search ns.svc.cluster.local svc.cluster.local\noptions ndots:5\n");
	free(s);
	sb_path(f, "sb1", "hosts", p, sizeof p);
	s = read_str(p);
	assert_non_null(strstr(s, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(s, "::1\tlocalhost ip6-localhost ip6-loopback\n"));
	assert_non_null(strstr(s, "warren-sb1"));
	free(s);
	struct statfs sf;
	struct stat st;
	assert_true(is_mounted(shm));
	assert_int_equal(statfs(shm, &sf), 0);
	assert_true(sf.f_type == TMPFS_MAGIC);
	assert_true((sf.f_flags & ST_NOEXEC) && (sf.f_flags & ST_NOSUID) && (sf.f_flags & ST_NODEV));
	assert_true((uint64_t)sf.f_blocks * (uint64_t)sf.f_bsize == 64ull << 20);
	assert_int_equal(stat(shm, &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);

	/* what it holds is recorded and reported */
	struct json_object *bs = json_tokener_parse(sb->bstate), *info = NULL;
	assert_non_null(bs);
	assert_string_equal(json_object_get_string(json_object_object_get(bs, "ipc")), ipc);
	assert_string_equal(json_object_get_string(json_object_object_get(bs, "netns")), f->netns);
	json_object_put(bs);
	OK(b->ops->sandbox_status(b, sb, &info, err));
	assert_string_equal(json_object_get_string(json_object_object_get(info, "uts")), uts);
	json_object_put(info);

	/* idempotent create keeps the same namespaces; probes and observe see it */
	uint64_t ino = inode_of(ipc);
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	assert_int_equal(inode_of(ipc), ino);
	struct wr_error e = { 0 };
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "create"), NULL, &e), 1);
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "delete"), NULL, &e), 0);
	struct wr_observation obs;
	OK(b->ops->observe(b, sb, &obs, err));
	assert_true(obs.exists);
	OK(b->ops->sandbox_stop(b, sb, NULL, err));

	/* delete removes everything, and again is fine */
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	assert_false(exists(dir));
	char sbroot[512];
	snprintf(sbroot, sizeof sbroot, "%s/sandboxes/test", f->state);
	assert_int_equal(mounts_under(sbroot, NULL, 0), 0);
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "delete"), NULL, &e), 1);
	OK(b->ops->observe(b, sb, &obs, err));
	assert_false(obs.exists);
	assert_int_equal(b->ops->sandbox_status(b, sb, &info, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);
}

static void test_sandbox_ns_options(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char p[512], out[64];
	struct wr_error e = { 0 };

	/* the node's network and IPC: no namespace files, no shm, host resolv.conf */
	struct json_object *spec = sandbox_spec(f, "node-pod", 0), *opts = json_object_new_object();
	json_object_object_add(opts, "network", json_object_new_string("node"));
	json_object_object_add(opts, "ipc", json_object_new_string("node"));
	json_object_object_add(opts, "pid", json_object_new_string("node"));
	json_object_object_add(spec, "ns_options", opts);
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, "node", "", spec);
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	const char *none[] = { "ipc", "uts", "net", "shm" };
	for (size_t i = 0; i < 4; i++) {
		sb_path(f, "node", none[i], p, sizeof p);
		assert_false(exists(p));
	}
	sb_path(f, "node", "resolv.conf", p, sizeof p);
	char *s = read_str(p), *host = read_str("/etc/resolv.conf");
	assert_string_equal(s, host ? host : "");
	free(s);
	free(host);
	struct json_object *bs = json_tokener_parse(sb->bstate);
	assert_string_equal(json_object_get_string(json_object_object_get(bs, "shm_path")), "/dev/shm");
	assert_string_equal(json_object_get_string(json_object_object_get(bs, "netns")), "");
	json_object_put(bs);
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	sb_path(f, "node", "", p, sizeof p);
	assert_false(exists(p));

	/* pod network without a netns from containerd: the sandbox makes one, lo up */
	spec = sandbox_spec(f, "own-net", 0);
	json_object_object_add(spec, "netns", json_object_new_string(""));
	sb = obj(f, WR_KIND_SANDBOX, "ownnet", "", spec);
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	sb_path(f, "ownnet", "net", p, sizeof p);
	assert_int_equal(nstype_of(p), CLONE_NEWNET);
	assert_int_not_equal(inode_of(p), inode_of("/proc/self/ns/net"));
	in_ns(p, CLONE_NEWNET, "lo", out, sizeof out);
	assert_string_equal(out, "up");
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	assert_false(exists(p));

	/* pid "target" is a container's mode, not a pod's: Unimplemented, nothing
	 * made (pid "pod": test_shared_pid_namespace) */
	spec = sandbox_spec(f, "pidtarget", 0);
	opts = json_object_new_object();
	json_object_object_add(opts, "pid", json_object_new_string("target"));
	json_object_object_add(spec, "ns_options", opts);
	sb = obj(f, WR_KIND_SANDBOX, "pidtarget", "", spec);
	assert_int_equal(b->ops->sandbox_create(b, sb, NULL, &e), -1);
	assert_int_equal(e.code, WR_UNIMPLEMENTED);
	sb_path(f, "pidtarget", "", p, sizeof p);
	assert_false(exists(p));

	/* a netns that is not one: InvalidArgument, nothing made */
	spec = sandbox_spec(f, "badnet", 0);
	snprintf(p, sizeof p, "%s/not-a-netns", f->dir);
	write_str(p, "");
	json_object_object_add(spec, "netns", json_object_new_string(p));
	sb = obj(f, WR_KIND_SANDBOX, "badnet", "", spec);
	assert_int_equal(b->ops->sandbox_create(b, sb, NULL, &e), -1);
	assert_int_equal(e.code, WR_INVALID_ARGUMENT);
	assert_non_null(strstr(e.msg, "not-a-netns"));
	sb_path(f, "badnet", "", p, sizeof p);
	assert_false(exists(p));
	char sbroot[512];
	snprintf(sbroot, sizeof sbroot, "%s/sandboxes/test", f->state);
	assert_int_equal(mounts_under(sbroot, NULL, 0), 0);
}

/* The pod's sysctls go into its own namespaces, never the node's; one the
 * kernel refuses, or one that is not namespaced, fails the create and
 * leaves nothing. */
static void test_sandbox_sysctls(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char p[512], out[256], host_range[256], host_rmid[64], sbroot[512];
	struct wr_error e = { 0 };
	char *h = read_str("/proc/sys/net/ipv4/ip_local_port_range");
	snprintf(host_range, sizeof host_range, "%s", h ? h : "");
	free(h);
	h = read_str("/proc/sys/kernel/shm_rmid_forced");
	snprintf(host_rmid, sizeof host_rmid, "%s", h ? h : "");
	free(h);

	struct json_object *spec = sandbox_spec(f, "sysctl-pod", 0);
	json_object_object_add(spec, "sysctls", json_tokener_parse(
		"{\"net.ipv4.ip_local_port_range\": \"31000 41000\", "
		"\"kernel.shm_rmid_forced\": \"1\", \"kernel.domainname\": \"warren.test\"}"));
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, "sysctl", "", spec);
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	in_ns(f->netns, CLONE_NEWNET, "/proc/sys/net/ipv4/ip_local_port_range", out, sizeof out);
	assert_string_equal(out, "31000\t41000");
	sb_path(f, "sysctl", "ipc", p, sizeof p);
	in_ns(p, CLONE_NEWIPC, "/proc/sys/kernel/shm_rmid_forced", out, sizeof out);
	assert_string_equal(out, "1");
	sb_path(f, "sysctl", "uts", p, sizeof p);
	in_ns(p, CLONE_NEWUTS, "/proc/sys/kernel/domainname", out, sizeof out);
	assert_string_equal(out, "warren.test");
	h = read_str("/proc/sys/net/ipv4/ip_local_port_range");
	assert_string_equal(h, host_range);
	free(h);
	h = read_str("/proc/sys/kernel/shm_rmid_forced");
	assert_string_equal(h, host_rmid);
	free(h);
	OK(b->ops->sandbox_create(b, sb, NULL, err)); /* a rerun is fine */
	OK(b->ops->sandbox_delete(b, sb, NULL, err));

	/* refused: nothing of the sandbox remains, each error names the sysctl */
	static const struct {
		const char *sysctls, *net, *want;
	} bad[] = {
		{ "{\"net.ipv4.notreal\": \"1\"}", NULL,
		  "net.ipv4.notreal=1: open /proc/sys/net/ipv4/notreal: No such file or directory" },
		{ "{\"net.ipv4.ip_local_port_range\": \"9 x\"}", NULL,
		  "write /proc/sys/net/ipv4/ip_local_port_range: Invalid argument" },
		{ "{\"kernel.notreal\": \"1\"}", NULL, "kernel.notreal is not namespaced" },
		{ "{\"vm.swappiness\": \"1\"}", NULL, "vm.swappiness is not namespaced" },
		{ "{\"net.core.somaxconn\": \"1\"}", "node", "pod's own network namespace" },
		{ "{\"net..ipv4\": \"1\"}", NULL, "invalid sysctl name 'net..ipv4'" },
		{ "{\"net.ipv4/../../../kernel/x\": \"1\"}", NULL, "invalid sysctl name" },
		{ "{\"net.ipv4.ip_forward\": 1}", NULL, "value is not a string" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		spec = sandbox_spec(f, "bad-sysctl", 0);
		json_object_object_add(spec, "sysctls", json_tokener_parse(bad[i].sysctls));
		if (bad[i].net) {
			struct json_object *opts = json_object_new_object();
			json_object_object_add(opts, "network", json_object_new_string(bad[i].net));
			json_object_object_add(spec, "ns_options", opts);
		}
		sb = obj(f, WR_KIND_SANDBOX, "badsysctl", "", spec);
		e = (struct wr_error){ 0 };
		assert_int_equal(b->ops->sandbox_create(b, sb, NULL, &e), -1);
		print_message("  %s: %s (%s)\n", bad[i].sysctls, e.msg, wr_code_name(e.code));
		assert_int_equal(e.code, WR_INVALID_ARGUMENT);
		assert_non_null(strstr(e.msg, bad[i].want));
		sb_path(f, "badsysctl", "", p, sizeof p);
		assert_false(exists(p));
	}
	snprintf(sbroot, sizeof sbroot, "%s/sandboxes/test", f->state);
	assert_int_equal(mounts_under(sbroot, NULL, 0), 0);
	h = read_str("/proc/sys/net/ipv4/ip_local_port_range");
	assert_string_equal(h, host_range);
	free(h);
}

static void test_container_in_sandbox(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char bpath[256], outp[256], p[512], ipc[512];
	struct wr_object *sb = make_sandbox(f, "sb1", "warren-sb1");
	sb_path(f, "sb1", "ipc", ipc, sizeof ipc);

	bundle(f, "c1", "echo hello; hostname; readlink /proc/self/ns/ipc; "
		       "readlink /proc/self/ns/net; head -n 1 /etc/resolv.conf; cat /etc/hostname; "
		       "cat /etc/hosts; echo shared > /dev/shm/probe", 1, bpath, sizeof bpath, 0);
	/* kubelet's managed /etc/hosts arrives as a bind mount in config.json: kept */
	char kh[512], cfgp[512];
	snprintf(kh, sizeof kh, "%s/kubelet-hosts", f->dir);
	write_str(kh, "10.1.2.3\tkubelet-managed\n");
	snprintf(cfgp, sizeof cfgp, "%s/config.json", bpath);
	struct json_object *c = json_object_from_file(cfgp), *mounts, *m = json_object_new_object();
	assert_true(json_object_object_get_ex(c, "mounts", &mounts));
	json_object_object_add(m, "destination", json_object_new_string("/etc/hosts"));
	json_object_object_add(m, "type", json_object_new_string("bind"));
	json_object_object_add(m, "source", json_object_new_string(kh));
	json_object_object_add(m, "options", json_tokener_parse("[\"rbind\",\"ro\"]"));
	json_object_array_add(mounts, m);
	assert_int_equal(json_object_to_file(cfgp, c), 0);
	json_object_put(c);
	int rd = fifo(f, "c1-out", outp, sizeof outp);
	struct wr_object *t = obj(f, WR_KIND_TASK, "c1", "sb1",
				  task_spec(bpath, rootfs_overlay(f, "c1"), outp, outp));
	OK(b->ops->task_create(b, t, NULL, err));
	assert_true(t->pid > 0);
	track_pid(f, t->pid);
	snprintf(p, sizeof p, "%s/rootfs", bpath);
	assert_true(is_mounted(p));
	snprintf(p, sizeof p, "%s/config.json.orig", bpath);
	assert_true(exists(p));
	snprintf(p, sizeof p, "%s/init.pid", bpath);
	assert_true(exists(p));
	struct wr_error e = { 0 };
	assert_int_equal(b->ops->probe(b, t, action_of(WR_KIND_TASK, "create"), NULL, &e), 1);
	assert_int_equal(b->ops->probe(b, t, action_of(WR_KIND_TASK, "start"), NULL, &e), 0);
	/* create again (a rerun after a crash) finds the same container */
	pid_t pid = t->pid;
	OK(b->ops->task_create(b, t, NULL, err));
	assert_int_equal(t->pid, pid);

	OK(b->ops->task_start(b, t, NULL, err));
	OK(b->ops->task_start(b, t, NULL, err)); /* idempotent */
	int st = wait_exit(f, t->pid);
	char *out = drain(rd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("container status %#x, output: %s", st, out);
	char want[512];
	snprintf(want, sizeof want, "hello\nwarren-sb1\nipc:[%llu]\nnet:[%llu]\nnameserver 10.0.0.10\n"
		 "warren-sb1\n10.1.2.3\tkubelet-managed\n",
		 (unsigned long long)inode_of(ipc), (unsigned long long)inode_of(f->netns));
	assert_string_equal(out, want);
	free(out);
	/* its /dev/shm is the pod's tmpfs */
	sb_path(f, "sb1", "shm/probe", p, sizeof p);
	char *shm = read_str(p);
	assert_non_null(shm);
	assert_string_equal(shm, "shared\n");
	free(shm);

	/* the process is gone (we reaped it): observe says exited, status unknown */
	struct wr_observation obs;
	OK(b->ops->observe(b, t, &obs, err));
	assert_true(obs.exists);
	assert_true(obs.exited);
	assert_int_equal(obs.exit_status, 255);
	assert_int_equal(b->ops->probe(b, t, action_of(WR_KIND_TASK, "start"), NULL, &e), 1);

	OK(b->ops->task_delete(b, t, NULL, err));
	snprintf(p, sizeof p, "%s/rootfs", bpath);
	assert_false(is_mounted(p));
	snprintf(p, sizeof p, "%s/c1", f->runc_root);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/config.json.orig", bpath);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/init.pid", bpath);
	assert_false(exists(p));
	OK(b->ops->task_delete(b, t, NULL, err));
	assert_int_equal(b->ops->probe(b, t, action_of(WR_KIND_TASK, "delete"), NULL, &e), 1);
	OK(b->ops->observe(b, t, &obs, err));
	assert_false(obs.exists);

	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	assert_int_equal(mounts_under(f->state, NULL, 0), 0); /* sandboxes/ is unbound with its last sandbox */
}

static void test_two_containers_share_pod(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char ipc[512], uts[512], bp[2][256];
	struct wr_object *sb = make_sandbox(f, "sb2", "pod-two");
	struct wr_object *t[2];
	sb_path(f, "sb2", "ipc", ipc, sizeof ipc);
	sb_path(f, "sb2", "uts", uts, sizeof uts);
	for (int i = 0; i < 2; i++) {
		char id[16];
		snprintf(id, sizeof id, "c%d", i + 1);
		bundle(f, id, "sleep 100", 0, bp[i], sizeof bp[i], 0);
		t[i] = obj(f, WR_KIND_TASK, id, "sb2", task_spec(bp[i], NULL, "", ""));
		OK(b->ops->task_create(b, t[i], NULL, err));
		track_pid(f, t[i]->pid);
		OK(b->ops->task_start(b, t[i], NULL, err));
	}
	const char *shared[] = { "ipc", "uts", "net" };
	for (int k = 0; k < 3; k++) {
		uint64_t a = ns_inode_of_pid(t[0]->pid, shared[k]);
		assert_true(a != 0);
		assert_int_equal(a, ns_inode_of_pid(t[1]->pid, shared[k]));
		assert_int_not_equal(a, ns_inode_of_pid(getpid(), shared[k]));
	}
	assert_int_equal(ns_inode_of_pid(t[0]->pid, "ipc"), inode_of(ipc));
	assert_int_equal(ns_inode_of_pid(t[0]->pid, "uts"), inode_of(uts));
	assert_int_equal(ns_inode_of_pid(t[0]->pid, "net"), inode_of(f->netns));
	/* each container has its own pid namespace */
	assert_int_not_equal(ns_inode_of_pid(t[0]->pid, "pid"), ns_inode_of_pid(t[1]->pid, "pid"));

	pid_t *pids = NULL;
	size_t n = 0;
	OK(b->ops->task_pids(b, t[0], &pids, &n, err));
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], t[0]->pid);
	free(pids);

	/* pause/resume, probed */
	struct wr_error e = { 0 };
	OK(b->ops->task_pause(b, t[0], NULL, err));
	OK(b->ops->task_pause(b, t[0], NULL, err));
	assert_int_equal(b->ops->probe(b, t[0], action_of(WR_KIND_TASK, "pause"), NULL, &e), 1);
	assert_int_equal(b->ops->probe(b, t[0], action_of(WR_KIND_TASK, "resume"), NULL, &e), 0);
	OK(b->ops->task_resume(b, t[0], NULL, err));
	assert_int_equal(b->ops->probe(b, t[0], action_of(WR_KIND_TASK, "resume"), NULL, &e), 1);
	struct wr_observation obs;
	OK(b->ops->observe(b, t[0], &obs, err));
	assert_true(obs.exists);
	assert_false(obs.exited);

	/* kill the init only, then all processes; again after exit is fine */
	struct json_object *ka = kill_args(SIGKILL, 0);
	OK(b->ops->task_kill(b, t[0], ka, err));
	int st = wait_exit(f, t[0]->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	OK(b->ops->task_kill(b, t[0], ka, err));
	assert_int_equal(b->ops->probe(b, t[0], action_of(WR_KIND_TASK, "kill"), ka, &e), 1);
	json_object_put(ka);
	ka = kill_args(SIGKILL, 1);
	OK(b->ops->task_kill(b, t[1], ka, err));
	st = wait_exit(f, t[1]->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	OK(b->ops->task_kill(b, t[1], ka, err));
	json_object_put(ka);

	for (int i = 0; i < 2; i++)
		OK(b->ops->task_delete(b, t[i], NULL, err));
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
}

/* ---- a batch: runtime processes side by side (ns_batch.c) -------------------------- */

/* Creates and starts of one engine batch run their runc processes at the same
 * time, each with its own log file, and come out as if run one by one: a
 * failing one in the middle changes nothing for the others, and a start that
 * runc refuses because the container already runs succeeds. */
static void test_batch_overlaps_runtimes(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char bp[3][256], slot1[256], slot2[256];
	struct wr_object *sb = make_sandbox(f, "sb3", "pod-three");
	struct wr_object *t[3];
	const char *ids[] = { "c31", "c3bad", "c32" };
	for (int i = 0; i < 3; i++) {
		bundle(f, ids[i], "sleep 100", 0, bp[i], sizeof bp[i], 0);
		/* c3bad: a bundle path that is not absolute, refused before runc */
		t[i] = obj(f, WR_KIND_TASK, ids[i], "sb3", task_spec(i == 1 ? "rel/bundle" : bp[i],
								      NULL, "", ""));
	}
	snprintf(slot1, sizeof slot1, "%s/runtime-log.json.1", f->state);
	snprintf(slot2, sizeof slot2, "%s/runtime-log.json.2", f->state);
	unlink(slot1);
	unlink(slot2);

	struct wr_error res[3];
	struct wr_action_item items[3];
	for (int i = 0; i < 3; i++)
		items[i] = (struct wr_action_item){ t[i], action_of(WR_KIND_TASK, "create"), NULL,
						    &res[i] };
	struct wr_stats s0, s1;
	wr_stats_read(&s0);
	b->ops->run_actions(b, items, 3);
	wr_stats_read(&s1);
	assert_int_equal(res[0].code, WR_OK);
	assert_int_equal(res[1].code, WR_INVALID_ARGUMENT);
	assert_int_equal(res[2].code, WR_OK);
	assert_true(t[0]->pid > 0 && t[2]->pid > 0 && t[0]->pid != t[2]->pid);
	assert_int_equal(t[1]->pid, 0);
	track_pid(f, t[0]->pid);
	track_pid(f, t[2]->pid);
	assert_int_equal(s1.runtime_calls - s0.runtime_calls, 2);
	/* each runc had a log of its own, neither the one-by-one runs' */
	assert_true(exists(slot1) && exists(slot2));

	/* both starts at once; then again: runc says "already running", fine */
	struct wr_action_item starts[2] = {
		{ t[0], action_of(WR_KIND_TASK, "start"), NULL, &res[0] },
		{ t[2], action_of(WR_KIND_TASK, "start"), NULL, &res[2] },
	};
	for (int round = 0; round < 2; round++) {
		b->ops->run_actions(b, starts, 2);
		assert_int_equal(res[0].code, WR_OK);
		assert_int_equal(res[2].code, WR_OK);
		assert_string_equal(res[0].msg, "");
		struct wr_error e = { 0 };
		assert_int_equal(b->ops->probe(b, t[0], action_of(WR_KIND_TASK, "start"), NULL, &e), 1);
		assert_int_equal(b->ops->probe(b, t[2], action_of(WR_KIND_TASK, "start"), NULL, &e), 1);
	}

	/* a sandbox's action between two starts runs alone, in its place */
	struct wr_action_item mixed[2] = {
		{ sb, action_of(WR_KIND_SANDBOX, "start"), NULL, &res[0] },
		{ t[2], action_of(WR_KIND_TASK, "start"), NULL, &res[2] },
	};
	b->ops->run_actions(b, mixed, 2);
	assert_int_equal(res[0].code, WR_OK);
	assert_int_equal(res[2].code, WR_OK);

	struct json_object *ka = kill_args(SIGKILL, 1);
	for (int i = 0; i < 3; i += 2) {
		OK(b->ops->task_kill(b, t[i], ka, err));
		int st = wait_exit(f, t[i]->pid);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		OK(b->ops->task_delete(b, t[i], NULL, err));
	}
	json_object_put(ka);
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	unlink(slot1);
	unlink(slot2);
}

/* ---- a shared pid namespace (ns_options.pid = "pod") ------------------------------ */

/* warren-pidns-holder of this build: <build>/bin/, the test being
 * <build>/tests/unit/test_ns_backend. */
static void holder_of_build(char *buf, size_t n)
{
	char self[400];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	assert_true(len > 0);
	self[len] = '\0';
	for (int up = 0; up < 3; up++)
		*strrchr(self, '/') = '\0';
	assert_true(snprintf(buf, n, "%s/bin/warren-pidns-holder", self) < (int)n);
	if (access(buf, X_OK) != 0)
		fail_msg("%s is missing: make builds it before the tests", buf);
}

/* Replace the fixture's backend by one whose pid namespace holder is holder. */
static void use_holder(struct fx *f, const char *holder)
{
	f->b->ops->destroy(f->b);
	f->b = NULL;
	struct wr_ns_config cfg = { .state_dir = f->state, .runtime = runc_path(), .holder = holder };
	struct wr_error err = { 0 };
	f->b = wr_ns_backend_new(&cfg, &err);
	if (!f->b)
		fail_msg("wr_ns_backend_new: %s", err.msg);
}

static struct json_object *pid_pod_spec(struct fx *f, const char *hostname)
{
	struct json_object *spec = sandbox_spec(f, hostname, 0), *opts = json_object_new_object();
	json_object_object_add(opts, "pid", json_object_new_string("pod"));
	json_object_object_add(spec, "ns_options", opts);
	return spec;
}

/* The last number of /proc/<pid>/status's NSpid line: pid in its own namespace. */
static long inner_pid(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	char *s = read_str(path), *l = s ? strstr(s, "\nNSpid:") : NULL;
	long v = -1;
	if (l) {
		char *end = strchr(l + 1, '\n');
		if (end)
			*end = '\0';
		v = strtol(strrchr(l, '\t') + 1, NULL, 10);
	}
	free(s);
	return v;
}

/* "Field:   N kB" of /proc/<pid>/smaps_rollup. */
static unsigned long rollup_kb(pid_t pid, const char *field)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
	char *s = read_str(path), *l = s ? strstr(s, field) : NULL;
	unsigned long v = l ? strtoul(l + strlen(field), NULL, 10) : 0;
	free(s);
	return v;
}

/* Make the bundle's pid namespace entry what CRI writes for a container
 * whose pid mode is POD: a path, /proc/<sandbox pid>/ns/pid. */
static void cri_pod_pid(const char *bundle_path, pid_t sandbox_pid)
{
	char cfgp[512], path[64];
	snprintf(cfgp, sizeof cfgp, "%s/config.json", bundle_path);
	snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)sandbox_pid);
	struct json_object *c = json_object_from_file(cfgp), *lnx, *nss;
	assert_true(json_object_object_get_ex(c, "linux", &lnx));
	assert_true(json_object_object_get_ex(lnx, "namespaces", &nss));
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		struct json_object *ent = json_object_array_get_idx(nss, i);
		if (strcmp(json_object_get_string(json_object_object_get(ent, "type")), "pid") == 0)
			json_object_object_add(ent, "path", json_object_new_string(path));
	}
	assert_int_equal(json_object_to_file(cfgp, c), 0);
	json_object_put(c);
}

static pid_t recorded_holder(struct wr_object *sb)
{
	struct json_object *bs = json_tokener_parse(sb->bstate), *v;
	assert_non_null(bs);
	assert_true(json_object_object_get_ex(bs, "holder_pid", &v));
	pid_t pid = json_object_get_int(v);
	json_object_put(bs);
	return pid;
}

static void test_shared_pid_namespace(void **state)
{
	struct fx *f = *state;
	char holder[512], pidfile[512], dir[512], p[512], bp[2][256], outp[256];
	struct wr_error e = { 0 };
	holder_of_build(holder, sizeof holder);
	use_holder(f, holder);
	struct wr_backend *b = f->b;

	/* the sandbox: a pid namespace file held by the holder, its pid 1 */
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, "pidsb", "", pid_pod_spec(f, "pid-pod"));
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	OK(b->ops->sandbox_start(b, sb, NULL, err));
	sb_path(f, "pidsb", "", dir, sizeof dir);
	sb_path(f, "pidsb", "pid", pidfile, sizeof pidfile);
	pid_t h = sb->pid;
	assert_true(h > 0);
	track_pid(f, h); /* orphaned to us, the subreaper, as to warrend */
	assert_int_equal(recorded_holder(sb), h);
	assert_int_equal(nstype_of(pidfile), CLONE_NEWPID);
	assert_int_not_equal(inode_of(pidfile), inode_of("/proc/self/ns/pid"));
	assert_int_equal(ns_inode_of_pid(h, "pid"), inode_of(pidfile));
	assert_int_equal(inner_pid(h), 1);
	char exe[512];
	snprintf(p, sizeof p, "/proc/%d/exe", (int)h);
	ssize_t n = readlink(p, exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(exe, holder);
	/* its memory: what the holder's header documents */
	unsigned long pss = rollup_kb(h, "\nPss:"), rss = rollup_kb(h, "Rss:");
	print_message("  pid namespace holder pid %d: Pss %lu KiB, Rss %lu KiB\n", (int)h, pss, rss);
	assert_true(pss > 0);
#ifdef __x86_64__
	assert_true(pss <= 64); /* no C library: a page of code, a page or two of stack */
#endif
	/* rerun of create keeps it; probes and observe see it */
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	assert_int_equal(sb->pid, h);
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "create"), NULL, &e), 1);
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "stop"), NULL, &e), 0);
	struct wr_observation obs;
	OK(b->ops->observe(b, sb, &obs, err));
	assert_true(obs.exists);

	/* two containers in it: one sleeps; the other, meanwhile, orphans a
	 * process (pid 1 adopts it), lists the processes it sees, and lists
	 * them again once the orphan has ended (pid 1 reaped it: no zombie) */
	struct wr_object *t[3];
	bundle(f, "p1", "exec sleep 1000", 0, bp[0], sizeof bp[0], 0);
	bundle(f, "p2", "(sleep 2 &); sleep 1; echo pid1=$(cat /proc/1/comm); "
			"for d in /proc/[0-9]*; do echo $(cat $d/stat); done; "
			"echo ns=$(readlink /proc/self/ns/pid); sleep 2; echo after; "
			"for d in /proc/[0-9]*; do echo $(cat $d/stat); done",
	       0, bp[1], sizeof bp[1], 0);
	cri_pod_pid(bp[0], h);
	cri_pod_pid(bp[1], h);
	int rd = fifo(f, "p2-out", outp, sizeof outp);
	t[0] = obj(f, WR_KIND_TASK, "p1", "pidsb", task_spec(bp[0], NULL, "", ""));
	t[1] = obj(f, WR_KIND_TASK, "p2", "pidsb", task_spec(bp[1], NULL, outp, outp));
	for (int i = 0; i < 2; i++) {
		OK(b->ops->task_create(b, t[i], NULL, err));
		track_pid(f, t[i]->pid);
		OK(b->ops->task_start(b, t[i], NULL, err));
	}
	/* the container's config.json joins the pod's pid namespace file */
	snprintf(p, sizeof p, "%s/config.json", bp[0]);
	struct json_object *cfg = json_object_from_file(p), *lnx, *nss;
	assert_true(json_object_object_get_ex(cfg, "linux", &lnx));
	assert_true(json_object_object_get_ex(lnx, "namespaces", &nss));
	int joined = 0;
	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		struct json_object *ent = json_object_array_get_idx(nss, i), *v;
		if (strcmp(json_object_get_string(json_object_object_get(ent, "type")), "pid") == 0)
			joined += json_object_object_get_ex(ent, "path", &v) &&
				  strcmp(json_object_get_string(v), pidfile) == 0;
	}
	json_object_put(cfg);
	assert_int_equal(joined, 1);
	char want[600];
	assert_int_equal(ns_inode_of_pid(t[0]->pid, "pid"), inode_of(pidfile));
	assert_int_equal(ns_inode_of_pid(t[1]->pid, "pid"), inode_of(pidfile));
	assert_true(inner_pid(t[0]->pid) > 1);
	/* a container that asks CRI for its own (pid mode CONTAINER: no path) gets it */
	char bp3[256];
	bundle(f, "p3", "exec sleep 1000", 0, bp3, sizeof bp3, 0);
	t[2] = obj(f, WR_KIND_TASK, "p3", "pidsb", task_spec(bp3, NULL, "", ""));
	OK(b->ops->task_create(b, t[2], NULL, err));
	track_pid(f, t[2]->pid);
	assert_int_not_equal(ns_inode_of_pid(t[2]->pid, "pid"), inode_of(pidfile));
	assert_int_equal(inner_pid(t[2]->pid), 1);
	struct json_object *ka = kill_args(SIGKILL, 0);
	OK(b->ops->task_kill(b, t[2], ka, err));
	json_object_put(ka);
	wait_exit(f, t[2]->pid);

	int st = wait_exit(f, t[1]->pid);
	char *out = drain(rd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("container status %#x, output: %s", st, out);
	char *after = strstr(out, "\nafter\n");
	if (!after)
		fail_msg("output: %s", out);
	after[1] = '\0'; /* out: the first listing; after: the second */
	after += 7;
	/* pid 1 is the holder; the other container's sleep is seen; the orphan
	 * was adopted by pid 1; later it is gone, reaped, and nothing is a zombie */
	assert_non_null(strstr(out, "pid1=warren-pidns-ho\n"));
	snprintf(want, sizeof want, "\n%ld (sleep) S ", inner_pid(t[0]->pid));
	if (!strstr(out, want))
		fail_msg("%s does not see the other container's sleep: %s", "p2", out);
	if (!strstr(out, "(sleep) S 1 "))
		fail_msg("the orphaned sleep was not adopted by pid 1: %s", out);
	snprintf(want, sizeof want, "ns=pid:[%llu]\n", (unsigned long long)inode_of(pidfile));
	if (!strstr(out, want)) {
		fprintf(stderr, "want %s in:\n%s\n", want, out);
		fail_msg("p2 is not in the pod's pid namespace");
	}
	if (strstr(after, "(sleep) S 1 ") || strstr(after, ") Z "))
		fail_msg("the orphan was not reaped: %s", after);
	assert_non_null(strstr(after, "1 (warren-pidns-ho) S 0 "));
	free(out);

	/* stop: the holder goes, and with it every process of the namespace */
	OK(b->ops->sandbox_stop(b, sb, NULL, err));
	st = wait_exit(f, t[0]->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	st = wait_exit(f, h);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	OK(b->ops->sandbox_stop(b, sb, NULL, err)); /* again: fine */
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "stop"), NULL, &e), 1);
	for (int i = 0; i < 3; i++)
		OK(b->ops->task_delete(b, t[i], NULL, err));
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	assert_false(exists(dir));
	assert_int_equal(mounts_under(f->state, NULL, 0), 0);
	OK(b->ops->sandbox_delete(b, sb, NULL, err));

	/* a holder that dies by itself: the sandbox is gone for observe (Lost at
	 * recovery) and cannot start; create makes it again with a new holder */
	sb = obj(f, WR_KIND_SANDBOX, "pidsb2", "", pid_pod_spec(f, "pid-pod2"));
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	h = sb->pid;
	track_pid(f, h);
	assert_int_equal(kill(h, SIGKILL), 0);
	wait_exit(f, h);
	OK(b->ops->observe(b, sb, &obs, err));
	assert_false(obs.exists);
	assert_int_equal(b->ops->sandbox_start(b, sb, NULL, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);
	assert_int_equal(b->ops->probe(b, sb, action_of(WR_KIND_SANDBOX, "create"), NULL, &e), 0);
	OK(b->ops->sandbox_create(b, sb, NULL, err));
	assert_true(sb->pid > 0 && sb->pid != h);
	h = sb->pid;
	track_pid(f, h);
	OK(b->ops->observe(b, sb, &obs, err));
	assert_true(obs.exists);
	/* delete without stop kills it too */
	OK(b->ops->sandbox_delete(b, sb, NULL, err));
	st = wait_exit(f, h);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	sb_path(f, "pidsb2", "", p, sizeof p);
	assert_false(exists(p));
	assert_int_equal(mounts_under(f->state, NULL, 0), 0);
}

static void test_missing_holder(void **state)
{
	struct fx *f = *state;
	char p[512], bad[512];
	struct wr_error e = { 0 };

	/* no holder binary: FailedPrecondition naming it, nothing made */
	use_holder(f, "/nonexistent/warren-pidns-holder");
	struct wr_backend *b = f->b;
	struct wr_object *sb = obj(f, WR_KIND_SANDBOX, "noholder", "", pid_pod_spec(f, "nh"));
	assert_int_equal(b->ops->sandbox_create(b, sb, NULL, &e), -1);
	print_message("  %s\n", e.msg);
	assert_int_equal(e.code, WR_FAILED_PRECONDITION);
	assert_non_null(strstr(e.msg, "/nonexistent/warren-pidns-holder"));
	sb_path(f, "noholder", "", p, sizeof p);
	assert_false(exists(p));
	assert_int_equal(mounts_under(f->state, NULL, 0), 0);
	/* pods that do not share a pid namespace do not need it */
	struct wr_object *ok = obj(f, WR_KIND_SANDBOX, "plain", "", sandbox_spec(f, "plain", 0));
	OK(b->ops->sandbox_create(b, ok, NULL, err));
	assert_int_equal(ok->pid, 0);
	OK(b->ops->sandbox_delete(b, ok, NULL, err));

	/* a holder that cannot be executed: the exec error, nothing left */
	snprintf(bad, sizeof bad, "%s/bad-holder", f->dir);
	write_str(bad, "#!/nonexistent/interpreter\n");
	assert_int_equal(chmod(bad, 0755), 0);
	use_holder(f, bad);
	b = f->b;
	sb = obj(f, WR_KIND_SANDBOX, "badholder", "", pid_pod_spec(f, "bh"));
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->sandbox_create(b, sb, NULL, &e), -1);
	print_message("  %s\n", e.msg);
	assert_non_null(strstr(e.msg, "cannot run the pid namespace holder"));
	assert_non_null(strstr(e.msg, bad));
	sb_path(f, "badholder", "", p, sizeof p);
	assert_false(exists(p));
	assert_int_equal(mounts_under(f->state, NULL, 0), 0);
	/* the would-be holder exited 127 and was orphaned to us */
	int st = 0, found = 0;
	for (int ms = 0; ms < WAIT_MS && !found; ms += 10) {
		pid_t r = waitpid(-1, &st, WNOHANG);
		if (r > 0)
			found = WIFEXITED(st) && WEXITSTATUS(st) == 127;
		else
			usleep(10000);
	}
	assert_true(found);
}

static void test_exec_standalone(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char bpath[256], outp[256], p[512];
	/* standalone (ctr run): no sandbox; a negative oomScoreAdj is dropped */
	bundle(f, "solo", "sleep 100", 0, bpath, sizeof bpath, -998);
	struct wr_object *t = obj(f, WR_KIND_TASK, "solo", "", task_spec(bpath, NULL, "", ""));
	OK(b->ops->task_create(b, t, NULL, err));
	track_pid(f, t->pid);
	OK(b->ops->task_start(b, t, NULL, err));
	snprintf(p, sizeof p, "%s/config.json", bpath);
	char *cfg = read_str(p);
	assert_null(strstr(cfg, "oomScoreAdj"));
	assert_non_null(strstr(cfg, "\"hostname\":\"runc\"")); /* standalone keeps its own */
	free(cfg);

	/* an exec that prints and exits 3 */
	int rd = fifo(f, "e1-out", outp, sizeof outp);
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(bpath));
	json_object_object_add(spec, "process", json_tokener_parse(
		"{\"args\":[\"sh\",\"-c\",\"echo exec-out; hostname; exit 3\"],\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0},\"terminal\":true}"));
	json_object_object_add(spec, "stdin", json_object_new_string(""));
	json_object_object_add(spec, "stdout", json_object_new_string(outp));
	json_object_object_add(spec, "stderr", json_object_new_string(outp));
	json_object_object_add(spec, "terminal", json_object_new_boolean(0));
	struct wr_object *x = obj(f, WR_KIND_EXEC, "solo/e1", "solo", spec);
	OK(b->ops->exec_create(b, x, NULL, err));
	snprintf(p, sizeof p, "%s/exec-e1.json", bpath);
	assert_true(exists(p));
	struct wr_error e = { 0 };
	assert_int_equal(b->ops->probe(b, x, action_of(WR_KIND_EXEC, "create"), NULL, &e), 1);
	assert_int_equal(b->ops->probe(b, x, action_of(WR_KIND_EXEC, "start"), NULL, &e), 0);
	OK(b->ops->exec_start(b, x, NULL, err));
	assert_true(x->pid > 0 && x->pid != t->pid);
	track_pid(f, x->pid);
	int st = wait_exit(f, x->pid);
	char *out = drain(rd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
		fail_msg("exec status %#x, output: %s", st, out);
	assert_string_equal(out, "exec-out\nrunc\n");
	free(out);
	struct wr_observation obs;
	OK(b->ops->observe(b, x, &obs, err));
	assert_true(obs.exists && obs.exited);
	OK(b->ops->exec_delete(b, x, NULL, err));
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/exec-e1.pid", bpath);
	assert_false(exists(p));
	OK(b->ops->exec_delete(b, x, NULL, err));

	/* an exec killed */
	spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(bpath));
	json_object_object_add(spec, "process", json_tokener_parse(
		"{\"args\":[\"sleep\",\"100\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
		"\"user\":{\"uid\":0,\"gid\":0}}"));
	x = obj(f, WR_KIND_EXEC, "solo/e2", "solo", spec);
	OK(b->ops->exec_create(b, x, NULL, err));
	OK(b->ops->exec_start(b, x, NULL, err));
	track_pid(f, x->pid);
	pid_t xp = x->pid;
	OK(b->ops->exec_start(b, x, NULL, err)); /* rerun: same process */
	assert_int_equal(x->pid, xp);
	OK(b->ops->observe(b, x, &obs, err));
	assert_true(obs.exists && !obs.exited);
	struct json_object *ka = kill_args(SIGKILL, 0);
	OK(b->ops->exec_kill(b, x, ka, err));
	st = wait_exit(f, x->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	OK(b->ops->exec_kill(b, x, ka, err));
	assert_int_equal(b->ops->probe(b, x, action_of(WR_KIND_EXEC, "kill"), ka, &e), 1);
	json_object_put(ka);
	OK(b->ops->exec_delete(b, x, NULL, err));
	assert_int_equal(b->ops->probe(b, x, action_of(WR_KIND_EXEC, "delete"), NULL, &e), 1);

	/* the container itself */
	ka = kill_args(SIGKILL, 0);
	OK(b->ops->task_kill(b, t, ka, err));
	json_object_put(ka);
	wait_exit(f, t->pid);
	OK(b->ops->task_delete(b, t, NULL, err));
	snprintf(p, sizeof p, "%s/solo", f->runc_root);
	assert_false(exists(p));
}

/* Nothing of a failed task_create remains. */
static void assert_no_trace(struct fx *f, const char *bpath, const char *id)
{
	char p[512];
	snprintf(p, sizeof p, "%s/rootfs", bpath);
	assert_false(is_mounted(p));
	snprintf(p, sizeof p, "%s/%s", f->runc_root, id);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/config.json.orig", bpath);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/init.pid", bpath);
	assert_false(exists(p));
	snprintf(p, sizeof p, "%s/config.json", bpath);
	assert_true(exists(p));
	assert_int_equal(mounts_under(bpath, NULL, 0), 0);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char bpath[256], outp[256], p[512];
	struct wr_error e = { 0 };
	struct wr_object *sb = make_sandbox(f, "sb3", "pod-bad");

	/* runc rejects the process: its message comes back, nothing remains */
	bundle(f, "bad", "true", 1, bpath, sizeof bpath, 0);
	snprintf(p, sizeof p, "%s/config.json", bpath);
	struct json_object *c = json_object_from_file(p), *proc;
	json_object_object_get_ex(c, "process", &proc);
	json_object_object_add(proc, "args", json_tokener_parse("[\"/nonexistent\"]"));
	json_object_to_file(p, c);
	json_object_put(c);
	int rd = fifo(f, "bad-out", outp, sizeof outp);
	struct wr_object *t = obj(f, WR_KIND_TASK, "bad", "sb3",
				  task_spec(bpath, rootfs_bind(f), outp, outp));
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	print_message("  runc error: %s (%s)\n", e.msg, wr_code_name(e.code));
	assert_int_not_equal(e.code, WR_OK);
	assert_non_null(strstr(e.msg, "runc create: "));
	assert_non_null(strstr(e.msg, "\"/nonexistent\""));
	assert_non_null(strstr(e.msg, "no such file or directory"));
	assert_no_trace(f, bpath, "bad");
	free(drain(rd));

	/* a config.json runc cannot parse */
	snprintf(p, sizeof p, "%s/config.json", bpath);
	c = json_object_from_file(p);
	json_object_object_get_ex(c, "process", &proc);
	json_object_object_add(proc, "args", json_object_new_int(5));
	json_object_to_file(p, c);
	json_object_put(c);
	rd = fifo(f, "bad-out2", outp, sizeof outp);
	t = obj(f, WR_KIND_TASK, "bad", "sb3", task_spec(bpath, rootfs_bind(f), outp, outp));
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	print_message("  runc error: %s (%s)\n", e.msg, wr_code_name(e.code));
	assert_non_null(strstr(e.msg, "runc create: "));
	assert_non_null(strstr(e.msg, "args"));
	assert_no_trace(f, bpath, "bad");
	free(drain(rd));

	/* stdout FIFO nobody reads: refused before anything runs */
	bundle(f, "noreader", "true", 1, bpath, sizeof bpath, 0);
	snprintf(outp, sizeof outp, "%s/noreader-out", f->dir);
	assert_int_equal(mkfifo(outp, 0600), 0);
	t = obj(f, WR_KIND_TASK, "noreader", "sb3", task_spec(bpath, rootfs_bind(f), outp, ""));
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	assert_int_equal(e.code, WR_FAILED_PRECONDITION);
	assert_non_null(strstr(e.msg, "noreader-out"));
	assert_no_trace(f, bpath, "noreader");

	/* a reader that comes a little late (containerd opens it from a
	 * goroutine): waited for, and it gets the output */
	bundle(f, "late", "echo late-reader", 1, bpath, sizeof bpath, 0);
	snprintf(outp, sizeof outp, "%s/late-out", f->dir);
	assert_int_equal(mkfifo(outp, 0600), 0);
	int lp[2];
	assert_int_equal(pipe(lp), 0);
	pid_t reader = fork();
	if (reader == 0) {
		char buf[256];
		size_t n = 0;
		ssize_t got;
		close(lp[0]);
		usleep(200 * 1000);
		int rfd = open(outp, O_RDONLY);
		while (rfd >= 0 && n < sizeof buf && (got = read(rfd, buf + n, sizeof buf - n)) > 0)
			n += (size_t)got;
		_exit(write(lp[1], buf, n) == (ssize_t)n ? 0 : 1);
	}
	close(lp[1]);
	t = obj(f, WR_KIND_TASK, "late", "sb3", task_spec(bpath, rootfs_bind(f), outp, ""));
	OK(b->ops->task_create(b, t, NULL, err));
	track_pid(f, t->pid);
	OK(b->ops->task_start(b, t, NULL, err));
	int lst = wait_exit(f, t->pid);
	assert_true(WIFEXITED(lst) && WEXITSTATUS(lst) == 0);
	char late[256] = "";
	assert_true(read(lp[0], late, sizeof late - 1) >= 0);
	close(lp[0]);
	assert_int_equal(waitpid(reader, &lst, 0), reader);
	assert_string_equal(late, "late-reader\n");
	OK(b->ops->task_delete(b, t, NULL, err));
	assert_no_trace(f, bpath, "late");

	/* a sandbox that does not exist */
	t = obj(f, WR_KIND_TASK, "orphan", "no-such-sandbox", task_spec(bpath, NULL, "", ""));
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	assert_int_equal(e.code, WR_FAILED_PRECONDITION);
	assert_non_null(strstr(e.msg, "no-such-sandbox"));

	/* a tty without an event loop to copy it on, a relative bundle, a bad exec id */
	struct json_object *s = task_spec(bpath, NULL, "", "");
	json_object_object_add(s, "terminal", json_object_new_boolean(1));
	t = obj(f, WR_KIND_TASK, "tty", "", s);
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	assert_int_equal(e.code, WR_UNIMPLEMENTED);
	t = obj(f, WR_KIND_TASK, "rel", "", task_spec("relative/bundle", NULL, "", ""));
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	assert_int_equal(e.code, WR_INVALID_ARGUMENT);
	struct wr_object *x = obj(f, WR_KIND_EXEC, "a/../b", "a", task_spec(bpath, NULL, "", ""));
	assert_int_equal(b->ops->exec_create(b, x, NULL, &e), -1);
	assert_int_equal(e.code, WR_INVALID_ARGUMENT);

	/* actions on a container that does not exist */
	t = obj(f, WR_KIND_TASK, "ghost", "", task_spec(bpath, NULL, "", ""));
	assert_int_equal(b->ops->task_start(b, t, NULL, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);
	OK(b->ops->task_delete(b, t, NULL, err));

	OK(b->ops->sandbox_delete(b, sb, NULL, err));
}

static void test_missing_runtime(void **state)
{
	struct fx *f = *state;
	struct wr_error e = { 0 };
	struct wr_ns_config cfg = { .state_dir = f->state, .runtime = "/nonexistent/runc" };
	assert_null(wr_ns_backend_new(&cfg, &e));
	print_message("  %s\n", e.msg);
	assert_non_null(strstr(e.msg, "/nonexistent/runc"));
	assert_int_equal(e.code, WR_FAILED_PRECONDITION);
	cfg.runtime = "warren-no-such-runtime";
	assert_null(wr_ns_backend_new(&cfg, &e));
	assert_non_null(strstr(e.msg, "warren-no-such-runtime"));

	/* found at start-up, gone at task create */
	char link[256], bpath[256];
	snprintf(link, sizeof link, "%s/my-runc", f->dir);
	assert_int_equal(symlink(runc_path(), link), 0);
	cfg.runtime = link;
	struct wr_backend *b = wr_ns_backend_new(&cfg, &e);
	assert_non_null(b);
	unlink(link);
	bundle(f, "norunc", "true", 0, bpath, sizeof bpath, 0);
	struct wr_object *t = obj(f, WR_KIND_TASK, "norunc", "", task_spec(bpath, NULL, "", ""));
	assert_int_equal(b->ops->task_create(b, t, NULL, &e), -1);
	print_message("  %s\n", e.msg);
	assert_int_equal(e.code, WR_FAILED_PRECONDITION);
	assert_non_null(strstr(e.msg, "my-runc"));
	b->ops->destroy(b);
	assert_no_trace(f, bpath, "norunc");
}

/* ---- statistics, processes, updates ------------------------------------------------ */

#define MiB (1024ull * 1024)

static int host_cgroup_v2(void)
{
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* The directory of the container's cgroup: v2, or the v1 `controller`'s. */
static void cgroup_dir(struct fx *f, const char *id, const char *controller, char *buf, size_t n)
{
	if (host_cgroup_v2())
		snprintf(buf, n, "/sys/fs/cgroup/%s/%s", f->cgparent, id);
	else
		snprintf(buf, n, "/sys/fs/cgroup/%s/%s/%s", controller, f->cgparent, id);
}

static uint64_t read_u64_file(const char *path)
{
	char *s = read_str(path);
	if (!s)
		fail_msg("cannot read %s", path);
	uint64_t v = strncmp(s, "max", 3) == 0 ? UINT64_MAX : strtoull(s, NULL, 10);
	free(s);
	return v;
}

/* What the tests look at in either version's Metrics. */
struct stats {
	int v2;
	uint64_t cpu_ns, user_ns, kernel_ns, percpu_sum;
	size_t n_percpu;
	int has_mem, has_pids;
	uint64_t mem_usage, mem_limit, pids_current, pids_limit;
};

/* task_stats, unpacked with the generated code. */
static void get_stats(struct wr_backend *b, struct wr_object *t, struct stats *s)
{
	struct wr_blob blob = { 0 };
	memset(s, 0, sizeof *s);
	OK(b->ops->task_stats(b, t, &blob, err));
	assert_non_null(blob.type_url);
	if (strcmp(blob.type_url, "io.containerd.cgroups.v1.Metrics") == 0) {
		Io__Containerd__Cgroups__V1__Metrics *m =
			io__containerd__cgroups__v1__metrics__unpack(NULL, blob.len, blob.data);
		assert_non_null(m);
		assert_non_null(m->cpu);
		assert_non_null(m->cpu->usage);
		assert_non_null(m->cpu->throttling);
		s->cpu_ns = m->cpu->usage->total;
		s->user_ns = m->cpu->usage->user;
		s->kernel_ns = m->cpu->usage->kernel;
		s->n_percpu = m->cpu->usage->n_per_cpu;
		for (size_t i = 0; i < s->n_percpu; i++)
			s->percpu_sum += m->cpu->usage->per_cpu[i];
		if (m->memory) {
			assert_non_null(m->memory->usage);
			s->has_mem = 1;
			s->mem_usage = m->memory->usage->usage;
			s->mem_limit = m->memory->usage->limit;
			/* memory.stat agrees with memory.limit_in_bytes */
			assert_int_equal(m->memory->hierarchical_memory_limit, s->mem_limit);
			assert_non_null(m->memory_oom_control);
		}
		if (m->pids) {
			s->has_pids = 1;
			s->pids_current = m->pids->current;
			s->pids_limit = m->pids->limit;
		}
		io__containerd__cgroups__v1__metrics__free_unpacked(m, NULL);
	} else {
		assert_string_equal(blob.type_url, "io.containerd.cgroups.v2.Metrics");
		Io__Containerd__Cgroups__V2__Metrics *m =
			io__containerd__cgroups__v2__metrics__unpack(NULL, blob.len, blob.data);
		assert_non_null(m);
		s->v2 = 1;
		assert_non_null(m->cpu);
		s->cpu_ns = m->cpu->usage_usec * 1000;
		s->user_ns = m->cpu->user_usec * 1000;
		s->kernel_ns = m->cpu->system_usec * 1000;
		if (m->memory) {
			s->has_mem = 1;
			s->mem_usage = m->memory->usage;
			s->mem_limit = m->memory->usage_limit;
		}
		if (m->pids) {
			s->has_pids = 1;
			s->pids_current = m->pids->current;
			s->pids_limit = m->pids->limit;
		}
		io__containerd__cgroups__v2__metrics__free_unpacked(m, NULL);
	}
	wr_blob_free(&blob);
}

static struct json_object *update_args(const char *resources)
{
	struct json_object *a = json_object_new_object();
	json_object_object_add(a, "resources", json_tokener_parse(resources));
	return a;
}

static int has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

static void test_stats_update_pids(void **state)
{
	struct fx *f = *state;
	struct wr_backend *b = f->b;
	char bpath[256], cfgp[512], p[512], memdir[512], limit_file[600];
	struct wr_error e = { 0 };
	int v2 = host_cgroup_v2();

	/* a busy container limited to 64 MiB and 100 processes */
	bundle(f, "busy", "while :; do :; done", 0, bpath, sizeof bpath, 0);
	snprintf(cfgp, sizeof cfgp, "%s/config.json", bpath);
	struct json_object *c = json_object_from_file(cfgp), *lnx;
	assert_true(json_object_object_get_ex(c, "linux", &lnx));
	json_object_object_add(lnx, "resources", json_tokener_parse(
		"{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
		"\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":100}}"));
	assert_int_equal(json_object_to_file(cfgp, c), 0);
	json_object_put(c);
	struct wr_object *t = obj(f, WR_KIND_TASK, "busy", "", task_spec(bpath, NULL, "", ""));
	OK(b->ops->task_create(b, t, NULL, err));
	track_pid(f, t->pid);
	OK(b->ops->task_start(b, t, NULL, err));
	cgroup_dir(f, "busy", "memory", memdir, sizeof memdir);
	snprintf(limit_file, sizeof limit_file, "%s/%s", memdir,
		 v2 ? "memory.max" : "memory.limit_in_bytes");
	assert_int_equal(read_u64_file(limit_file), 64 * MiB);
	usleep(500 * 1000);

	/* stats: real values from the cgroup */
	struct stats s1, s2;
	get_stats(b, t, &s1);
	print_message("  %s: cpu %llu ns (user %llu, kernel %llu, %zu cpus), memory %llu of %llu, "
		      "pids %llu of %llu\n", s1.v2 ? "v2" : "v1", (unsigned long long)s1.cpu_ns,
		      (unsigned long long)s1.user_ns, (unsigned long long)s1.kernel_ns, s1.n_percpu,
		      (unsigned long long)s1.mem_usage, (unsigned long long)s1.mem_limit,
		      (unsigned long long)s1.pids_current, (unsigned long long)s1.pids_limit);
	assert_int_equal(s1.v2, v2);
	assert_true(s1.cpu_ns > 100ull * 1000 * 1000); /* busy for 0.5 s */
	assert_true(s1.user_ns + s1.kernel_ns > 0);
	if (!v2) {
		assert_true(s1.n_percpu > 0);
		assert_true(s1.percpu_sum > 0);
	}
	assert_true(s1.has_mem);
	assert_true(s1.mem_usage > 0);
	assert_int_equal(s1.mem_limit, 64 * MiB);
	assert_true(s1.has_pids);
	assert_int_equal(s1.pids_current, 1);
	assert_int_equal(s1.pids_limit, 100);
	usleep(100 * 1000);
	get_stats(b, t, &s2);
	assert_true(s2.cpu_ns > s1.cpu_ns);

	/* pids: the cgroup's processes, the init and an exec */
	pid_t *pids = NULL;
	size_t n = 0;
	OK(b->ops->task_pids(b, t, &pids, &n, err));
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], t->pid);
	free(pids);
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(bpath));
	json_object_object_add(spec, "process", json_tokener_parse(
		"{\"args\":[\"sleep\",\"100\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
		"\"user\":{\"uid\":0,\"gid\":0}}"));
	struct wr_object *x = obj(f, WR_KIND_EXEC, "busy/sl", "busy", spec);
	OK(b->ops->exec_create(b, x, NULL, err));
	OK(b->ops->exec_start(b, x, NULL, err));
	track_pid(f, x->pid);
	/* runc's short-lived helpers of the exec may still be on their way out */
	for (int i = 0; i < 250; i++) {
		OK(b->ops->task_pids(b, t, &pids, &n, err));
		if (n == 2 || i == 249)
			break;
		free(pids);
		usleep(20 * 1000);
	}
	assert_int_equal(n, 2);
	assert_true(has_pid(pids, n, t->pid));
	assert_true(has_pid(pids, n, x->pid));
	free(pids);
	/* pids.current also counts runc's helpers until reaped (by warrend; here,
	 * where the test process reaps only its own pids, at the end) */
	get_stats(b, t, &s2);
	assert_true(s2.pids_current >= 2);
	struct json_object *ka = kill_args(SIGKILL, 0);
	OK(b->ops->exec_kill(b, x, ka, err));
	json_object_put(ka);
	wait_exit(f, x->pid);
	OK(b->ops->exec_delete(b, x, NULL, err));

	/* update: the limit changes in the cgroup and in the stats; again is fine */
	struct json_object *ua = update_args("{\"memory\":{\"limit\":134217728},"
					     "\"pids\":{\"limit\":200}}");
	OK(b->ops->task_update(b, t, ua, err));
	assert_int_equal(read_u64_file(limit_file), 128 * MiB);
	OK(b->ops->task_update(b, t, ua, err));
	json_object_put(ua);
	assert_int_equal(read_u64_file(limit_file), 128 * MiB);
	get_stats(b, t, &s2);
	assert_int_equal(s2.mem_limit, 128 * MiB);
	assert_int_equal(s2.pids_limit, 200);
	snprintf(p, sizeof p, "%s/update-resources.json", bpath);
	assert_false(exists(p));
	/* no resources: nothing to change */
	ua = json_object_new_object();
	OK(b->ops->task_update(b, t, ua, err));
	json_object_put(ua);

	/* bad updates: runc's message, nothing changed */
	ua = update_args("{\"memory\":{\"limit\":\"abc\"}}");
	assert_int_equal(b->ops->task_update(b, t, ua, &e), -1);
	json_object_put(ua);
	print_message("  runc error: %s (%s)\n", e.msg, wr_code_name(e.code));
	assert_int_not_equal(e.code, WR_OK);
	assert_non_null(strstr(e.msg, "task busy"));
	assert_non_null(strstr(e.msg, "runc update: "));
	assert_non_null(strstr(e.msg, "cannot unmarshal"));
	ua = update_args("{\"memory\":{\"limit\":-5}}");
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->task_update(b, t, ua, &e), -1);
	json_object_put(ua);
	print_message("  runc error: %s (%s)\n", e.msg, wr_code_name(e.code));
	assert_non_null(strstr(e.msg, "runc update: "));
	assert_non_null(strstr(e.msg, "-5"));
	assert_int_equal(read_u64_file(limit_file), 128 * MiB);
	assert_false(exists(p));
	ua = update_args("[1,2]");
	assert_int_equal(b->ops->task_update(b, t, ua, &e), -1);
	json_object_put(ua);
	assert_int_equal(e.code, WR_INVALID_ARGUMENT);
	struct wr_object *ghost = obj(f, WR_KIND_TASK, "ghost", "", task_spec(bpath, NULL, "", ""));
	ua = update_args("{\"memory\":{\"limit\":134217728}}");
	assert_int_equal(b->ops->task_update(b, ghost, ua, &e), -1);
	json_object_put(ua);
	assert_int_equal(e.code, WR_NOT_FOUND);
	assert_int_equal(b->ops->task_stats(b, ghost, &(struct wr_blob){ 0 }, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);
	assert_int_equal(b->ops->task_pids(b, ghost, &pids, &n, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);

	/* a hybrid host read as v2: the unified hierarchy's cpu.stat and procs */
	struct statfs sf;
	if (!v2 && statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
		struct wr_ns_config cfg = { .state_dir = f->state, .runtime = runc_path(),
					    .cgroup_version = 2 };
		struct wr_backend *b2 = wr_ns_backend_new(&cfg, &e);
		assert_non_null(b2);
		struct stats s3;
		get_stats(b2, t, &s3);
		assert_true(s3.v2);
		assert_true(s3.cpu_ns > 0);
		OK(b2->ops->task_pids(b2, t, &pids, &n, err));
		assert_int_equal(n, 1);
		assert_int_equal(pids[0], t->pid);
		free(pids);
		b2->ops->destroy(b2);
	}

	/* the process gone: the cgroup is found from config.json until delete */
	ka = kill_args(SIGKILL, 0);
	OK(b->ops->task_kill(b, t, ka, err));
	json_object_put(ka);
	wait_exit(f, t->pid);
	get_stats(b, t, &s2);
	assert_true(s2.cpu_ns >= s1.cpu_ns);
	assert_int_equal(s2.mem_limit, 128 * MiB);
	assert_int_equal(s2.pids_current, 0);
	OK(b->ops->task_pids(b, t, &pids, &n, err));
	assert_int_equal(n, 0);
	free(pids);
	/* ... but not from a systemd-style path */
	c = json_object_from_file(cfgp);
	assert_true(json_object_object_get_ex(c, "linux", &lnx));
	json_object_object_add(lnx, "cgroupsPath", json_object_new_string("system.slice:warren:busy"));
	assert_int_equal(json_object_to_file(cfgp, c), 0);
	json_object_put(c);
	struct wr_blob blob = { 0 };
	e = (struct wr_error){ 0 };
	assert_int_equal(b->ops->task_stats(b, t, &blob, &e), -1);
	print_message("  %s\n", e.msg);
	assert_int_equal(e.code, WR_UNIMPLEMENTED);
	assert_non_null(strstr(e.msg, "system.slice:warren:busy"));
	assert_null(blob.data);

	/* delete removes the cgroup */
	OK(b->ops->task_delete(b, t, NULL, err));
	assert_false(exists(memdir));
	assert_int_equal(b->ops->task_stats(b, t, &blob, &e), -1);
	assert_int_equal(e.code, WR_NOT_FOUND);
}

/* ---- terminals ------------------------------------------------------------------- */

/* Replace the fixture's backend by one with an event loop, as warrend's core
 * makes it: terminals are copied on that loop. */
static void use_loop(struct fx *f)
{
	f->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(f->loop);
	f->b->ops->destroy(f->b);
	f->b = NULL;
	struct wr_ns_config cfg = { .state_dir = f->state, .runtime = runc_path(), .loop = f->loop };
	struct wr_error err = { 0 };
	f->b = wr_ns_backend_new(&cfg, &err);
	if (!f->b)
		fail_msg("wr_ns_backend_new: %s", err.msg);
}

/* Run the loop while reading fd until EOF (every writer gone): all of it. */
static char *drain_loop(struct fx *f, int fd)
{
	size_t cap = 65536, n = 0;
	char *buf = calloc(1, cap);
	assert_non_null(buf);
	for (int t = 0;; t += 10) {
		if (t > WAIT_MS)
			fail_msg("no EOF on the terminal's output in %d ms; so far: %s", WAIT_MS, buf);
		ev_run(f->loop, EVRUN_NOWAIT);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 10) <= 0)
			continue;
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got == 0)
			break;
		if (got < 0 && errno == EAGAIN)
			continue;
		assert_true(got > 0);
		n += (size_t)got;
	}
	close(fd);
	return buf;
}

/* Our fds on a pty master (the terminals the backend holds). */
static int count_ptmx(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));) {
		char path[300], link[256];
		snprintf(path, sizeof path, "/proc/self/fd/%s", de->d_name);
		ssize_t k = readlink(path, link, sizeof link - 1);
		if (k > 0) {
			link[k] = '\0';
			n += strstr(link, "ptmx") != NULL;
		}
	}
	closedir(d);
	return n;
}

/* Console socket directories (<state>/tty.*) left in the state dir. */
static int tty_dirs(struct fx *f)
{
	DIR *d = opendir(f->state);
	int n = 0;
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		n += strncmp(de->d_name, "tty.", 4) == 0;
	closedir(d);
	return n;
}

static struct json_object *tty_exec_spec(const char *bpath, const char *process,
					 const char *out)
{
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(bpath));
	json_object_object_add(spec, "process", json_tokener_parse(process));
	json_object_object_add(spec, "stdin", json_object_new_string(""));
	json_object_object_add(spec, "stdout", json_object_new_string(out));
	json_object_object_add(spec, "stderr", json_object_new_string(""));
	json_object_object_add(spec, "terminal", json_object_new_boolean(1));
	return spec;
}

static void test_terminal(void **state)
{
	struct fx *f = *state;
	use_loop(f);
	struct wr_backend *b = f->b;
	char bpath[256], outp[256], inp[256], p[512];
	signal(SIGPIPE, SIG_IGN); /* as in warrend: a FIFO reader gone is an EPIPE */

	/* an interactive shell on a terminal, fed through containerd's stdin FIFO */
	bundle(f, "tty1", "unused", 0, bpath, sizeof bpath, 0);
	snprintf(p, sizeof p, "%s/config.json", bpath);
	struct json_object *c = json_object_from_file(p), *proc;
	assert_true(json_object_object_get_ex(c, "process", &proc));
	json_object_object_add(proc, "args", json_tokener_parse("[\"sh\"]"));
	json_object_object_add(proc, "terminal", json_object_new_boolean(1));
	assert_int_equal(json_object_to_file(p, c), 0);
	json_object_put(c);
	int rd = fifo(f, "tty1-out", outp, sizeof outp);
	snprintf(inp, sizeof inp, "%s/tty1-in", f->dir);
	assert_int_equal(mkfifo(inp, 0600), 0);
	struct json_object *spec = task_spec(bpath, NULL, outp, "");
	json_object_object_add(spec, "stdin", json_object_new_string(inp));
	json_object_object_add(spec, "terminal", json_object_new_boolean(1));
	struct wr_object *t = obj(f, WR_KIND_TASK, "tty1", "", spec);
	OK(b->ops->task_create(b, t, NULL, err));
	assert_true(t->pid > 0);
	track_pid(f, t->pid);
	assert_int_equal(count_ptmx(), 1); /* the backend holds the master */
	assert_int_equal(tty_dirs(f), 0);  /* and the console socket is gone */
	int wr = open(inp, O_WRONLY | O_NONBLOCK | O_CLOEXEC); /* containerd's side */
	assert_true(wr >= 0);
	OK(b->ops->task_start(b, t, NULL, err));
	OK(b->ops->resize_pty(b, t, 100, 40, err));
	const char *cmds = "stty size\necho hi-from-tty; exit 3\n";
	assert_int_equal(write(wr, cmds, strlen(cmds)), (ssize_t)strlen(cmds));
	close(wr); /* end of stdin: the typed lines still reach the shell */
	OK(b->ops->close_io(b, t, err));
	char *out = drain_loop(f, rd); /* EOF once the shell has exited */
	int st = wait_exit(f, t->pid);
	print_message("  terminal output: %s\n", out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
		fail_msg("shell status %#x, output: %s", st, out);
	/* echoed input is "stty size" and "echo hi-from-tty; exit 3": these are outputs */
	if (!strstr(out, "\n40 100\r\n") || !strstr(out, "\nhi-from-tty\r\n"))
		fail_msg("terminal output lacks \"40 100\" or \"hi-from-tty\": %s", out);
	free(out);
	assert_int_equal(count_ptmx(), 0); /* the copy ended with the process */
	OK(b->ops->resize_pty(b, t, 80, 24, err)); /* nothing left to act on: fine */
	OK(b->ops->close_io(b, t, err));
	struct wr_observation obs;
	OK(b->ops->observe(b, t, &obs, err));
	assert_true(obs.exists && obs.exited);
	OK(b->ops->task_delete(b, t, NULL, err));

	/* an exec on a terminal in a container without one; its size from the
	 * process's consoleSize */
	bundle(f, "tty2", "sleep 100", 0, bpath, sizeof bpath, 0);
	t = obj(f, WR_KIND_TASK, "tty2", "", task_spec(bpath, NULL, "", ""));
	OK(b->ops->task_create(b, t, NULL, err));
	track_pid(f, t->pid);
	OK(b->ops->task_start(b, t, NULL, err));
	rd = fifo(f, "x1-out", outp, sizeof outp);
	struct wr_object *x = obj(f, WR_KIND_EXEC, "tty2/x1", "tty2", tty_exec_spec(bpath,
		"{\"args\":[\"sh\",\"-c\",\"tty; stty size; echo exec-tty; exit 4\"],\"cwd\":\"/\","
		"\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0},"
		"\"consoleSize\":{\"height\":30,\"width\":90}}", outp));
	OK(b->ops->exec_create(b, x, NULL, err));
	OK(b->ops->exec_start(b, x, NULL, err));
	track_pid(f, x->pid);
	out = drain_loop(f, rd);
	st = wait_exit(f, x->pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 4)
		fail_msg("exec status %#x, output: %s", st, out);
	if (!strstr(out, "/dev/pts/") || !strstr(out, "30 90\r\n") || !strstr(out, "exec-tty\r\n"))
		fail_msg("exec terminal output: %s", out);
	free(out);
	OK(b->ops->exec_delete(b, x, NULL, err));
	assert_int_equal(tty_dirs(f), 0);

	/* deleting a process's object releases its terminal */
	x = obj(f, WR_KIND_EXEC, "tty2/x2", "tty2", tty_exec_spec(bpath,
		"{\"args\":[\"sleep\",\"100\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
		"\"user\":{\"uid\":0,\"gid\":0}}", ""));
	OK(b->ops->exec_create(b, x, NULL, err));
	OK(b->ops->exec_start(b, x, NULL, err));
	track_pid(f, x->pid);
	assert_int_equal(count_ptmx(), 1);
	OK(b->ops->resize_pty(b, x, 120, 50, err));
	OK(b->ops->close_io(b, x, err)); /* no stdin: nothing to close */
	OK(b->ops->exec_delete(b, x, NULL, err));
	assert_int_equal(count_ptmx(), 0);
	struct json_object *ka = kill_args(SIGKILL, 0);
	OK(b->ops->exec_kill(b, x, ka, err));
	wait_exit(f, x->pid);

	/* and one still running when the backend goes (teardown): destroy frees it */
	x = obj(f, WR_KIND_EXEC, "tty2/x3", "tty2", tty_exec_spec(bpath,
		"{\"args\":[\"sleep\",\"100\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
		"\"user\":{\"uid\":0,\"gid\":0}}", ""));
	OK(b->ops->exec_create(b, x, NULL, err));
	OK(b->ops->exec_start(b, x, NULL, err));
	track_pid(f, x->pid);
	assert_int_equal(count_ptmx(), 1);
	ev_run(f->loop, EVRUN_NOWAIT);
	json_object_put(ka);
}

/* After the test process ends — even by a crash (a sanitizer abort skips
 * every teardown) — undo what it left: its containers and their processes
 * (orphans are re-parented to us, a subreaper too), mounts, cgroups, dirs. */
/* Pid namespace holders orphaned to us (their sandbox's test died): SIGKILL
 * each child of ours that runs warren-pidns-holder. */
static void kill_holders(void)
{
	DIR *d = opendir("/proc");
	for (struct dirent *de; d && (de = readdir(d));) {
		pid_t pid = (pid_t)atoi(de->d_name);
		char path[64], exe[512], *stat;
		if (pid <= 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
		ssize_t n = readlink(path, exe, sizeof exe - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		const char *base = strrchr(exe, '/');
		if (strcmp(base ? base + 1 : exe, "warren-pidns-holder") != 0)
			continue;
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
		if (!(stat = read_str(path)))
			continue;
		char *p = strrchr(stat, ')');
		int ppid = p ? atoi(p + 4) : 0; /* ") S <ppid>" */
		free(stat);
		if (ppid == (int)getpid())
			kill(pid, SIGKILL);
	}
	if (d)
		closedir(d);
}

static void guard_sweep(pid_t child)
{
	char prefix[64];
	int n = snprintf(prefix, sizeof prefix, "test_ns.%d.", (int)child);
	DIR *d = opendir("/tmp");
	char dirs[16][300];
	int nd = 0;
	for (struct dirent *de; d && (de = readdir(d)) && nd < 16;)
		if (strncmp(de->d_name, prefix, (size_t)n) == 0)
			snprintf(dirs[nd++], sizeof dirs[0], "/tmp/%s", de->d_name);
	if (d)
		closedir(d);
	for (int i = 0; i < nd; i++) {
		fprintf(stderr, "test_ns_backend: cleaning up after pid %d: %s\n", (int)child, dirs[i]);
		delete_containers(dirs[i]);
	}
	kill_holders();
	/* reap what was orphaned to us: descendants of our own test process only */
	for (int t = 0; t < 5000; t += 10) {
		pid_t r = waitpid(-1, NULL, WNOHANG);
		if (r < 0)
			break;  /* ECHILD: none left */
		if (r == 0)
			usleep(10000);
	}
	for (int i = 0; i < nd; i++)
		unmount_under(dirs[i]);
	remove_cgroups(child);
	for (int i = 0; i < nd; i++)
		harness_rmrf(dirs[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sandbox_create_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_ns_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_sysctls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_in_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_containers_share_pod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_overlaps_runtimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_pid_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_holder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_standalone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_runtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_update_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_terminal, setup, teardown),
	};
	if (geteuid() != 0)
		return cmocka_run_group_tests(tests, NULL, NULL); /* every test skips */
	/* as warrend: orphaned container processes become our children */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fflush(NULL);
	pid_t child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		prctl(PR_SET_CHILD_SUBREAPER, 1); /* not inherited */
		exit(cmocka_run_group_tests(tests, NULL, NULL)); /* exit: LSan runs at exit */
	}
	int st = 0;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	guard_sweep(child);
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "test_ns_backend: test process killed by signal %d\n", WTERMSIG(st));
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
