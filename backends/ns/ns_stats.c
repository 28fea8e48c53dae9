/* ns_stats.c — a task's cgroup: finding it, its statistics as containerd's
 * cgroups Metrics, and the processes in it.
 *
 * Finding the cgroup.  While the container's init is alive (o->pid, its
 * start time matching bstate's) /proc/<pid>/cgroup names it exactly,
 * whatever cgroup driver or path form made it.  Once the init is gone the
 * cgroup stays until `runc delete`; it is then found from the bundle's
 * config.json, linux.cgroupsPath, as runc's cgroupfs driver resolves it: an
 * absolute path is taken from each hierarchy's root, a relative one (or none:
 * the container id) from runc's own cgroup, which is ours (v2: its parent).
 * The systemd form "slice:prefix:name" is not resolved (Unimplemented), nor
 * a path outside our cgroup namespace.  A cgroup path
 * becomes a directory through /proc/self/mountinfo: the mount of that
 * hierarchy (v1: the one with the controller among its options, which may be
 * co-mounted, e.g. cpu,cpuacct; v2: cgroup2) whose root is a prefix of it.
 *
 * The host's mode: a cgroup2 filesystem on /sys/fs/cgroup is a unified (v2)
 * host; anything else (v1, or hybrid: v1 controllers plus an unused unified
 * hierarchy) is v1.
 *
 * Statistics, field by field as containerd's cgroups library fills them:
 *   v1 (io.containerd.cgroups.v1.Metrics): cpuacct.usage, usage_percpu and
 *      cpuacct.stat (USER_HZ ticks → ns); cpu.stat throttling; memory.stat,
 *      memory.{,memsw.,kmem.,kmem.tcp.}{usage_in_bytes,max_usage_in_bytes,
 *      failcnt,limit_in_bytes}, memory.oom_control; pids.current, pids.max
 *      ("max" → 0); blkio.throttle.io_service{_bytes,d}_recursive.
 *   v2 (io.containerd.cgroups.v2.Metrics): cpu.stat, memory.stat,
 *      memory.{current,max,swap.current,swap.max,peak,swap.peak} ("max" →
 *      UINT64_MAX), memory.events, pids.{current,max} ("max" → UINT64_MAX),
 *      io.stat, and the PSI of cpu/memory/io.pressure.
 * A file the kernel lacks (no swap accounting, an old kernel) leaves its
 * fields 0; a controller not mounted (v1) leaves its message out. */
#include "backends/ns/ns_internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cgroups/v1/metrics.pb-c.h"
#include "cgroups/v2/metrics.pb-c.h"

#define V1(t) Io__Containerd__Cgroups__V1__##t
#define V2(t) Io__Containerd__Cgroups__V2__##t

#define V1_URL "io.containerd.cgroups.v1.Metrics"
#define V2_URL "io.containerd.cgroups.v2.Metrics"

/* ---- finding the cgroup ------------------------------------------------------- */

struct cg {
	int v2;
	char *procs;          /* /proc/<pid>/cgroup of the init, or NULL */
	char *self;           /* /proc/self/cgroup, for a relative cgroupsPath */
	char cfg[WR_NS_PATH]; /* config.json's cgroupsPath, cleaned, when !procs */
	char what[320];       /* "task <id>" */
};

int wr_ns_cgroup_v2(const struct wr_ns *ns)
{
	if (ns && ns->cgroup_mode)
		return ns->cgroup_mode == 2;
	struct statfs sf;
	return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* tok is one of the comma-separated items of list[0..len). */
static int has_token(const char *list, size_t len, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = list, *end = list + len; p < end;) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		size_t l = c ? (size_t)(c - p) : (size_t)(end - p);
		if (l == tl && memcmp(p, tok, tl) == 0)
			return 1;
		p += l + 1;
	}
	return 0;
}

/* The path of `controller` (NULL: the v2 hierarchy, "0::") in the text of a
 * /proc/<pid>/cgroup file. */
static int cg_line(const char *text, const char *controller, char *out, size_t n)
{
	for (const char *l = text; l && *l;) {
		const char *end = strchrnul(l, '\n');
		const char *c1 = memchr(l, ':', (size_t)(end - l));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		if (c2) {
			int match = controller ? has_token(c1 + 1, (size_t)(c2 - c1 - 1), controller)
					       : c1 - l == 1 && l[0] == '0' && c2 == c1 + 1;
			size_t len = (size_t)(end - c2 - 1);
			if (match && len > 0 && len < n) {
				memcpy(out, c2 + 1, len);
				out[len] = '\0';
				return 0;
			}
		}
		l = *end ? end + 1 : end;
	}
	return -1;
}

/* mountinfo's escapes (\040 for a space, ...) undone, into out. */
static void unescape(const char *s, size_t len, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < len && k + 1 < n; i++) {
		if (s[i] == '\\' && i + 3 < len && s[i + 1] >= '0' && s[i + 1] <= '3' &&
		    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
			out[k++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 3;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
}

/* root is "/" or a path prefix (at a component boundary) of rel; the rest. */
static const char *under_root(const char *rel, const char *root)
{
	if (strcmp(root, "/") == 0)
		return rel;
	size_t rl = strlen(root);
	if (strncmp(rel, root, rl) == 0 && (rel[rl] == '\0' || rel[rl] == '/'))
		return rel + rl;
	return NULL;
}

/* The directory of cgroup `rel` of the hierarchy of `controller` (NULL:
 * cgroup2), from a mount of it that shows it. */
static int cg_mounted(const char *controller, const char *rel, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = -1;
	if (!f)
		return -1;
	while (found < 0 && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *field[5], *p = line;
		int i;
		for (i = 0; i < 5 && p; i++) {
			field[i] = p;
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		char *sep = p ? strstr(p, " - ") : NULL;
		if (i < 5 || !sep)
			continue;
		char *fstype = sep + 3, *source = strchr(fstype, ' ');
		char *super = source ? strchr(source + 1, ' ') : NULL;
		if (!super)
			continue;
		size_t tl = (size_t)(source - fstype);
		super++;
		super[strcspn(super, " \n")] = '\0';
		if (controller ? !(tl == 6 && memcmp(fstype, "cgroup", 6) == 0 &&
				   has_token(super, strlen(super), controller))
			       : !(tl == 7 && memcmp(fstype, "cgroup2", 7) == 0))
			continue;
		char root[WR_NS_PATH], mnt[WR_NS_PATH];
		unescape(field[3], (size_t)(field[4] - field[3] - 1), root, sizeof root);
		unescape(field[4], strcspn(field[4], " "), mnt, sizeof mnt);
		const char *rest = under_root(rel, root);
		if (rest && snprintf(out, n, "%s%s", mnt, rest) < (int)n)
			found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

/* The directory of the task's cgroup in the hierarchy of `controller`
 * (NULL: v2); -1 when there is none. */
static int cg_dir(const struct cg *c, const char *controller, char *out, size_t n)
{
	char rel[WR_NS_PATH], own[WR_NS_PATH];
	if (c->procs) {
		if (cg_line(c->procs, controller, rel, sizeof rel))
			return -1;
	} else if (c->cfg[0] == '/') {
		snprintf(rel, sizeof rel, "%s", c->cfg);
	} else {
		if (!c->self || cg_line(c->self, controller, own, sizeof own))
			return -1;
		/* v2: runc goes to the parent of its own cgroup, which has tasks */
		char *slash = controller ? NULL : strrchr(own, '/');
		if (slash)
			slash[slash == own ? 1 : 0] = '\0';
		if (snprintf(rel, sizeof rel, "%s/%s", strcmp(own, "/") == 0 ? "" : own, c->cfg) >=
		    (int)sizeof rel)
			return -1;
	}
	/* outside our cgroup namespace ("/../.."): not ours to read */
	if (strstr(rel, "/../") || (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0))
		return -1;
	struct stat st;
	if (cg_mounted(controller, rel, out, n) < 0 || stat(out, &st) < 0 || !S_ISDIR(st.st_mode))
		return -1;
	return 0;
}

/* A cgroupsPath as runc's cgroupfs driver cleans it: no empty, "." or ".."
 * components (".." stops at the top); absolute stays absolute. */
static void clean_path(const char *in, char *out, size_t n)
{
	size_t k = 0;
	int abs = in[0] == '/';
	out[0] = '\0';
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		size_t l = strcspn(p, "/");
		if (l == 0)
			break;
		if (l == 1 && p[0] == '.') {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (k > 0 && out[k - 1] != '/')
				k--;
			if (k > 0)
				k--;
			out[k] = '\0';
		} else if (k + l + 2 < n) {
			if (k > 0 || abs)
				out[k++] = '/';
			memcpy(out + k, p, l);
			k += l;
			out[k] = '\0';
		}
		p += l;
	}
	if (abs && k == 0)
		snprintf(out, n, "/");
}

static void cg_close(struct cg *c)
{
	free(c->procs);
	free(c->self);
	c->procs = c->self = NULL;
}

/* The task's cgroup: NotFound when the container does not exist,
 * Unimplemented for a systemd cgroupsPath once the init is gone. */
static int cg_open(const struct wr_ns *ns, const struct wr_object *o, struct cg *c,
		   struct wr_error *err)
{
	memset(c, 0, sizeof *c);
	snprintf(c->what, sizeof c->what, "task %s", o->id);
	if (!wr_ns_valid_name(o->id))
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: invalid task id '%s'", o->id);
	if (!wr_ns_runc_has(ns, o->id))
		return wr_error_set(err, WR_NOT_FOUND, "ns: %s: container does not exist", c->what);
	c->v2 = wr_ns_cgroup_v2(ns);

	uint64_t start = wr_ns_recorded_start(o);
	if (o->pid > 0 && wr_ns_proc_check(o->pid, start) == WR_NS_PROC_ALIVE) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/cgroup", o->pid);
		/* still the same process after the read: the text is its */
		if (wr_ns_read_file(path, &c->procs, NULL) == 0 &&
		    wr_ns_proc_check(o->pid, start) == WR_NS_PROC_ALIVE)
			return 0;
		free(c->procs);
		c->procs = NULL;
	}

	struct json_object *spec = NULL, *cfg = NULL, *lnx, *v;
	char path[WR_NS_PATH];
	if (wr_ns_parse_spec(o, &spec, err))
		return -1;
	const char *bundle = wr_ns_str(spec, "bundle");
	if (bundle[0] != '/') {
		json_object_put(spec);
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: %s: bundle '%s' is not an absolute "
				    "path", c->what, bundle);
	}
	if (wr_ns_pathf(path, sizeof path, err, "%s/config.json", bundle)) {
		json_object_put(spec);
		return -1;
	}
	json_object_put(spec);
	char *text = NULL;
	if (wr_ns_read_file(path, &text, NULL) < 0)
		return wr_error_errno(err, errno, "ns: %s: cannot read %s", c->what, path);
	cfg = json_tokener_parse(text);
	free(text);
	const char *cp = "";
	if (cfg && json_object_object_get_ex(cfg, "linux", &lnx) &&
	    json_object_object_get_ex(lnx, "cgroupsPath", &v) && json_object_is_type(v, json_type_string))
		cp = json_object_get_string(v);
	const char *c1 = strchr(cp, ':');
	if (c1 && strchr(c1 + 1, ':') && !strchr(strchr(c1 + 1, ':') + 1, ':')) {
		wr_error_set(err, WR_UNIMPLEMENTED, "ns: %s: cgroupsPath \"%s\" is in systemd's "
			     "slice:prefix:name form; only cgroupfs paths (\"/a/b\") are supported "
			     "for statistics of a container whose process is gone", c->what, cp);
		json_object_put(cfg);
		return -1;
	}
	clean_path(cp, c->cfg, sizeof c->cfg);
	if (!c->cfg[0]) /* none: runc names it after the container, under its own */
		snprintf(c->cfg, sizeof c->cfg, "%s", o->id);
	json_object_put(cfg);
	if (c->cfg[0] != '/' && wr_ns_read_file("/proc/self/cgroup", &c->self, NULL) < 0)
		return wr_error_errno(err, errno, "ns: %s: cannot read /proc/self/cgroup", c->what);
	return 0;
}

/* ---- reading cgroup files ----------------------------------------------------- */

static char *cg_read(const char *dir, const char *file)
{
	char path[WR_NS_PATH], *text = NULL;
	if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
		return NULL;
	return wr_ns_read_file(path, &text, NULL) == 0 ? text : NULL;
}

/* A file holding one number; "max" → max_value.  -1 (v untouched) when
 * missing or not a number. */
static int read_u64(const char *dir, const char *file, uint64_t max_value, uint64_t *v)
{
	char *s = cg_read(dir, file), *end;
	int rc = -1;
	if (!s)
		return -1;
	size_t l = strlen(s);
	while (l > 0 && isspace((unsigned char)s[l - 1]))
		s[--l] = '\0';
	if (strcmp(s, "max") == 0) {
		*v = max_value;
		rc = 0;
	} else if (l > 0 && isdigit((unsigned char)s[0])) {
		errno = 0;
		unsigned long long x = strtoull(s, &end, 10);
		if (!errno && *end == '\0') {
			*v = x;
			rc = 0;
		}
	}
	free(s);
	return rc;
}

struct kv {
	const char *key;
	uint64_t *dst;
};

/* "key value" lines into the matching destinations; unknown keys ignored. */
static int read_kv(const char *dir, const char *file, const struct kv *tab, size_t n)
{
	char *s = cg_read(dir, file);
	if (!s)
		return -1;
	for (char *l = s, *next; *l; l = next) {
		next = strchrnul(l, '\n');
		if (*next)
			*next++ = '\0';
		char *sp = strchr(l, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (size_t i = 0; i < n; i++) {
			if (strcmp(tab[i].key, l) == 0) {
				*tab[i].dst = strtoull(sp + 1, NULL, 10);
				break;
			}
		}
	}
	free(s);
	return 0;
}

/* Allocations of one Metrics message, freed together after packing. */
struct pool {
	void **p;
	size_t n, cap;
	int oom;
};

static void *pool_add(struct pool *pl, void *ptr)
{
	if (!ptr) {
		pl->oom = 1;
		return NULL;
	}
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 16;
		void **np = realloc(pl->p, cap * sizeof *np);
		if (!np) {
			free(ptr);
			pl->oom = 1;
			return NULL;
		}
		pl->p = np;
		pl->cap = cap;
	}
	pl->p[pl->n++] = ptr;
	return ptr;
}

static void pool_free(struct pool *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->p[i]);
	free(pl->p);
}

static int pack(const ProtobufCMessage *m, const char *url, struct wr_blob *out,
		struct wr_error *err)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	char *u = strdup(url);
	if (!buf || !u) {
		free(buf);
		free(u);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	}
	protobuf_c_message_pack(m, buf);
	out->type_url = u;
	out->data = buf;
	out->len = len;
	return 0;
}

/* ---- v1 ----------------------------------------------------------------------- */

/* "/dev/<name>" of block device maj:min, "" when unknown. */
static char *block_device(uint64_t maj, uint64_t min)
{
	char path[96], *text = NULL, *dev = NULL;
	snprintf(path, sizeof path, "/sys/dev/block/%llu:%llu/uevent", (unsigned long long)maj,
		 (unsigned long long)min);
	if (wr_ns_read_file(path, &text, NULL) == 0) {
		char *p = strstr(text, "DEVNAME=");
		if (p && (p == text || p[-1] == '\n')) {
			p += 8;
			p[strcspn(p, "\n")] = '\0';
			if (asprintf(&dev, "/dev/%s", p) < 0)
				dev = NULL;
		}
		free(text);
	}
	return dev ? dev : strdup("");
}

/* blkio "maj:min Op value" lines ("Total n" skipped) as BlkIOEntries. */
static void v1_blkio_file(const char *dir, const char *file, struct pool *pl, size_t *n,
			  V1(BlkIOEntry) ***out)
{
	char *s = cg_read(dir, file);
	*n = 0;
	*out = NULL;
	if (!s)
		return;
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	V1(BlkIOEntry) **arr = pool_add(pl, calloc(lines + 1, sizeof *arr));
	V1(BlkIOEntry) *ents = pool_add(pl, calloc(lines + 1, sizeof *ents));
	if (!arr || !ents) {
		free(s);
		return;
	}
	size_t k = 0;
	for (char *l = s, *next; *l && k <= lines; l = next) {
		next = strchrnul(l, '\n');
		if (*next)
			*next++ = '\0';
		unsigned long long maj, min, val;
		char op[32];
		if (sscanf(l, "%llu:%llu %31s %llu", &maj, &min, op, &val) != 4)
			continue;
		V1(BlkIOEntry) e = IO__CONTAINERD__CGROUPS__V1__BLK_IOENTRY__INIT;
		ents[k] = e;
		ents[k].major = maj;
		ents[k].minor = min;
		ents[k].value = val;
		ents[k].op = pool_add(pl, strdup(op));
		ents[k].device = pool_add(pl, block_device(maj, min));
		if (!ents[k].op || !ents[k].device)
			break;
		arr[k] = &ents[k];
		k++;
	}
	free(s);
	*n = k;
	*out = arr;
}

static int stats_v1(const struct cg *c, struct wr_blob *out, struct wr_error *err)
{
	char dir[WR_NS_PATH];
	int any = 0;
	struct pool pl = { 0 };
	V1(Metrics) m = IO__CONTAINERD__CGROUPS__V1__METRICS__INIT;

	V1(PidsStat) pids = IO__CONTAINERD__CGROUPS__V1__PIDS_STAT__INIT;
	if (cg_dir(c, "pids", dir, sizeof dir) == 0) {
		any = 1;
		read_u64(dir, "pids.current", 0, &pids.current);
		read_u64(dir, "pids.max", 0, &pids.limit); /* "max": no limit, 0 */
		m.pids = &pids;
	}

	V1(CPUStat) cpu = IO__CONTAINERD__CGROUPS__V1__CPUSTAT__INIT;
	V1(CPUUsage) usage = IO__CONTAINERD__CGROUPS__V1__CPUUSAGE__INIT;
	V1(Throttle) thr = IO__CONTAINERD__CGROUPS__V1__THROTTLE__INIT;
	if (cg_dir(c, "cpuacct", dir, sizeof dir) == 0) {
		any = 1;
		read_u64(dir, "cpuacct.usage", 0, &usage.total);
		char *s = cg_read(dir, "cpuacct.usage_percpu");
		if (s) {
			size_t cnt = 0;
			for (char *p = s; *p;) {
				while (isspace((unsigned char)*p))
					p++;
				if (!*p)
					break;
				cnt++;
				while (*p && !isspace((unsigned char)*p))
					p++;
			}
			usage.per_cpu = pool_add(&pl, calloc(cnt + 1, sizeof *usage.per_cpu));
			for (char *p = s, *end; usage.per_cpu && usage.n_per_cpu < cnt; p = end) {
				usage.per_cpu[usage.n_per_cpu++] = strtoull(p, &end, 10);
				if (end == p)
					break;
			}
			free(s);
		}
		/* USER_HZ ticks → ns, exactly */
		uint64_t user = 0, system = 0, hz = (uint64_t)sysconf(_SC_CLK_TCK);
		if (hz == 0 || hz > 1000000000ull)
			hz = 100;
		const struct kv st[] = { { "user", &user }, { "system", &system } };
		read_kv(dir, "cpuacct.stat", st, 2);
		usage.user = user / hz * 1000000000ull + user % hz * 1000000000ull / hz;
		usage.kernel = system / hz * 1000000000ull + system % hz * 1000000000ull / hz;
		cpu.usage = &usage;
	}
	if (cg_dir(c, "cpu", dir, sizeof dir) == 0) {
		any = 1;
		const struct kv st[] = { { "nr_periods", &thr.periods },
					 { "nr_throttled", &thr.throttled_periods },
					 { "throttled_time", &thr.throttled_time } };
		read_kv(dir, "cpu.stat", st, sizeof st / sizeof st[0]);
		cpu.throttling = &thr;
	}
	if (cpu.usage || cpu.throttling)
		m.cpu = &cpu;

	V1(MemoryStat) mem = IO__CONTAINERD__CGROUPS__V1__MEMORY_STAT__INIT;
	V1(MemoryEntry) ment[4] = { IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT,
				    IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT,
				    IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT,
				    IO__CONTAINERD__CGROUPS__V1__MEMORY_ENTRY__INIT };
	V1(MemoryOomControl) oom = IO__CONTAINERD__CGROUPS__V1__MEMORY_OOM_CONTROL__INIT;
	if (cg_dir(c, "memory", dir, sizeof dir) == 0) {
		any = 1;
		const struct kv st[] = {
			{ "cache", &mem.cache },
			{ "rss", &mem.rss },
			{ "rss_huge", &mem.rss_huge },
			{ "mapped_file", &mem.mapped_file },
			{ "dirty", &mem.dirty },
			{ "writeback", &mem.writeback },
			{ "pgpgin", &mem.pg_pg_in },
			{ "pgpgout", &mem.pg_pg_out },
			{ "pgfault", &mem.pg_fault },
			{ "pgmajfault", &mem.pg_maj_fault },
			{ "inactive_anon", &mem.inactive_anon },
			{ "active_anon", &mem.active_anon },
			{ "inactive_file", &mem.inactive_file },
			{ "active_file", &mem.active_file },
			{ "unevictable", &mem.unevictable },
			{ "hierarchical_memory_limit", &mem.hierarchical_memory_limit },
			{ "hierarchical_memsw_limit", &mem.hierarchical_swap_limit },
			{ "total_cache", &mem.total_cache },
			{ "total_rss", &mem.total_rss },
			{ "total_rss_huge", &mem.total_rss_huge },
			{ "total_mapped_file", &mem.total_mapped_file },
			{ "total_dirty", &mem.total_dirty },
			{ "total_writeback", &mem.total_writeback },
			{ "total_pgpgin", &mem.total_pg_pg_in },
			{ "total_pgpgout", &mem.total_pg_pg_out },
			{ "total_pgfault", &mem.total_pg_fault },
			{ "total_pgmajfault", &mem.total_pg_maj_fault },
			{ "total_inactive_anon", &mem.total_inactive_anon },
			{ "total_active_anon", &mem.total_active_anon },
			{ "total_inactive_file", &mem.total_inactive_file },
			{ "total_active_file", &mem.total_active_file },
			{ "total_unevictable", &mem.total_unevictable },
		};
		read_kv(dir, "memory.stat", st, sizeof st / sizeof st[0]);
		static const char *const module[4] = { "memory.", "memory.memsw.", "memory.kmem.",
						       "memory.kmem.tcp." };
		for (int i = 0; i < 4; i++) {
			char f[64];
			snprintf(f, sizeof f, "%susage_in_bytes", module[i]);
			read_u64(dir, f, 0, &ment[i].usage);
			snprintf(f, sizeof f, "%smax_usage_in_bytes", module[i]);
			read_u64(dir, f, 0, &ment[i].max);
			snprintf(f, sizeof f, "%sfailcnt", module[i]);
			read_u64(dir, f, 0, &ment[i].failcnt);
			snprintf(f, sizeof f, "%slimit_in_bytes", module[i]);
			read_u64(dir, f, 0, &ment[i].limit);
		}
		mem.usage = &ment[0];
		mem.swap = &ment[1];
		mem.kernel = &ment[2];
		mem.kernel_tcp = &ment[3];
		m.memory = &mem;
		const struct kv oc[] = { { "oom_kill_disable", &oom.oom_kill_disable },
					 { "under_oom", &oom.under_oom },
					 { "oom_kill", &oom.oom_kill } };
		if (read_kv(dir, "memory.oom_control", oc, 3) == 0)
			m.memory_oom_control = &oom;
	}

	V1(BlkIOStat) blkio = IO__CONTAINERD__CGROUPS__V1__BLK_IOSTAT__INIT;
	if (cg_dir(c, "blkio", dir, sizeof dir) == 0) {
		any = 1;
		v1_blkio_file(dir, "blkio.throttle.io_service_bytes_recursive", &pl,
			      &blkio.n_io_service_bytes_recursive, &blkio.io_service_bytes_recursive);
		v1_blkio_file(dir, "blkio.throttle.io_serviced_recursive", &pl,
			      &blkio.n_io_serviced_recursive, &blkio.io_serviced_recursive);
		m.blkio = &blkio;
	}

	int rc;
	if (pl.oom)
		rc = wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	else if (!any)
		rc = wr_error_set(err, WR_NOT_FOUND, "ns: %s: no cgroup of the container found "
				  "(%s)", c->what, c->procs ? "from its process" : c->cfg);
	else
		rc = pack(&m.base, V1_URL, out, err);
	pool_free(&pl);
	return rc;
}

/* ---- v2 ----------------------------------------------------------------------- */

/* A PSI file ("some avg10=.. avg60=.. avg300=.. total=..", "full ...");
 * NULL when missing. */
static V2(PSIStats) *v2_psi(const char *dir, const char *file, V2(PSIStats) *ps, V2(PSIData) d[2])
{
	char *s = cg_read(dir, file);
	if (!s)
		return NULL;
	V2(PSIStats) pinit = IO__CONTAINERD__CGROUPS__V2__PSISTATS__INIT;
	V2(PSIData) dinit = IO__CONTAINERD__CGROUPS__V2__PSIDATA__INIT;
	*ps = pinit;
	d[0] = d[1] = dinit;
	for (char *l = s, *next; *l; l = next) {
		next = strchrnul(l, '\n');
		if (*next)
			*next++ = '\0';
		V2(PSIData) *pd = strncmp(l, "some ", 5) == 0 ? &d[0]
				  : strncmp(l, "full ", 5) == 0 ? &d[1] : NULL;
		if (!pd)
			continue;
		for (char *tok = strtok(l + 5, " "); tok; tok = strtok(NULL, " ")) {
			if (strncmp(tok, "avg10=", 6) == 0)
				pd->avg10 = strtod(tok + 6, NULL);
			else if (strncmp(tok, "avg60=", 6) == 0)
				pd->avg60 = strtod(tok + 6, NULL);
			else if (strncmp(tok, "avg300=", 7) == 0)
				pd->avg300 = strtod(tok + 7, NULL);
			else if (strncmp(tok, "total=", 6) == 0)
				pd->total = strtoull(tok + 6, NULL, 10);
		}
		if (pd == &d[0])
			ps->some = pd;
		else
			ps->full = pd;
	}
	free(s);
	return ps;
}

/* io.stat: "maj:min rbytes=.. wbytes=.. rios=.. wios=.. ..." per device. */
static void v2_io(const char *dir, struct pool *pl, V2(IOStat) *io)
{
	char *s = cg_read(dir, "io.stat");
	if (!s)
		return;
	size_t lines = 0;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	V2(IOEntry) **arr = pool_add(pl, calloc(lines + 1, sizeof *arr));
	V2(IOEntry) *ents = pool_add(pl, calloc(lines + 1, sizeof *ents));
	if (!arr || !ents) {
		free(s);
		return;
	}
	size_t k = 0;
	for (char *l = s, *next; *l && k <= lines; l = next) {
		next = strchrnul(l, '\n');
		if (*next)
			*next++ = '\0';
		unsigned long long maj, min;
		int used = 0;
		if (sscanf(l, "%llu:%llu%n", &maj, &min, &used) != 2)
			continue;
		V2(IOEntry) e = IO__CONTAINERD__CGROUPS__V2__IOENTRY__INIT;
		e.major = maj;
		e.minor = min;
		for (char *tok = strtok(l + used, " "); tok; tok = strtok(NULL, " ")) {
			char *eq = strchr(tok, '=');
			if (!eq)
				continue;
			*eq = '\0';
			uint64_t v = strtoull(eq + 1, NULL, 10);
			if (strcmp(tok, "rbytes") == 0)
				e.rbytes = v;
			else if (strcmp(tok, "wbytes") == 0)
				e.wbytes = v;
			else if (strcmp(tok, "rios") == 0)
				e.rios = v;
			else if (strcmp(tok, "wios") == 0)
				e.wios = v;
		}
		ents[k] = e;
		arr[k] = &ents[k];
		k++;
	}
	free(s);
	io->n_usage = k;
	io->usage = arr;
}

static int stats_v2(const struct cg *c, struct wr_blob *out, struct wr_error *err)
{
	char dir[WR_NS_PATH];
	struct pool pl = { 0 };
	if (cg_dir(c, NULL, dir, sizeof dir) < 0)
		return wr_error_set(err, WR_NOT_FOUND, "ns: %s: no cgroup of the container found "
				    "(%s)", c->what, c->procs ? "from its process" : c->cfg);
	V2(Metrics) m = IO__CONTAINERD__CGROUPS__V2__METRICS__INIT;
	V2(PSIStats) psi[3];
	V2(PSIData) psid[3][2];

	V2(PidsStat) pids = IO__CONTAINERD__CGROUPS__V2__PIDS_STAT__INIT;
	if (read_u64(dir, "pids.current", 0, &pids.current) == 0) {
		read_u64(dir, "pids.max", UINT64_MAX, &pids.limit);
		m.pids = &pids;
	}

	V2(CPUStat) cpu = IO__CONTAINERD__CGROUPS__V2__CPUSTAT__INIT;
	const struct kv cs[] = {
		{ "usage_usec", &cpu.usage_usec },     { "user_usec", &cpu.user_usec },
		{ "system_usec", &cpu.system_usec },   { "nr_periods", &cpu.nr_periods },
		{ "nr_throttled", &cpu.nr_throttled }, { "throttled_usec", &cpu.throttled_usec },
	};
	if (read_kv(dir, "cpu.stat", cs, sizeof cs / sizeof cs[0]) == 0) {
		cpu.psi = v2_psi(dir, "cpu.pressure", &psi[0], psid[0]);
		m.cpu = &cpu;
	}

	V2(MemoryStat) mem = IO__CONTAINERD__CGROUPS__V2__MEMORY_STAT__INIT;
	uint64_t refault[2] = { 0, 0 }, activate[2] = { 0, 0 };
	const struct kv ms[] = {
		{ "anon", &mem.anon },
		{ "file", &mem.file },
		{ "kernel_stack", &mem.kernel_stack },
		{ "slab", &mem.slab },
		{ "sock", &mem.sock },
		{ "shmem", &mem.shmem },
		{ "file_mapped", &mem.file_mapped },
		{ "file_dirty", &mem.file_dirty },
		{ "file_writeback", &mem.file_writeback },
		{ "anon_thp", &mem.anon_thp },
		{ "inactive_anon", &mem.inactive_anon },
		{ "active_anon", &mem.active_anon },
		{ "inactive_file", &mem.inactive_file },
		{ "active_file", &mem.active_file },
		{ "unevictable", &mem.unevictable },
		{ "slab_reclaimable", &mem.slab_reclaimable },
		{ "slab_unreclaimable", &mem.slab_unreclaimable },
		{ "pgfault", &mem.pgfault },
		{ "pgmajfault", &mem.pgmajfault },
		{ "workingset_refault", &mem.workingset_refault },
		{ "workingset_refault_anon", &refault[0] },
		{ "workingset_refault_file", &refault[1] },
		{ "workingset_activate", &mem.workingset_activate },
		{ "workingset_activate_anon", &activate[0] },
		{ "workingset_activate_file", &activate[1] },
		{ "workingset_nodereclaim", &mem.workingset_nodereclaim },
		{ "pgrefill", &mem.pgrefill },
		{ "pgscan", &mem.pgscan },
		{ "pgsteal", &mem.pgsteal },
		{ "pgactivate", &mem.pgactivate },
		{ "pgdeactivate", &mem.pgdeactivate },
		{ "pglazyfree", &mem.pglazyfree },
		{ "pglazyfreed", &mem.pglazyfreed },
		{ "thp_fault_alloc", &mem.thp_fault_alloc },
		{ "thp_collapse_alloc", &mem.thp_collapse_alloc },
	};
	if (read_u64(dir, "memory.current", 0, &mem.usage) == 0) {
		read_kv(dir, "memory.stat", ms, sizeof ms / sizeof ms[0]);
		/* kernels >= 5.9 split these by anon/file */
		if (!mem.workingset_refault)
			mem.workingset_refault = refault[0] + refault[1];
		if (!mem.workingset_activate)
			mem.workingset_activate = activate[0] + activate[1];
		read_u64(dir, "memory.max", UINT64_MAX, &mem.usage_limit);
		read_u64(dir, "memory.swap.current", 0, &mem.swap_usage);
		read_u64(dir, "memory.swap.max", UINT64_MAX, &mem.swap_limit);
		read_u64(dir, "memory.peak", 0, &mem.max_usage);
		read_u64(dir, "memory.swap.peak", 0, &mem.swap_max_usage);
		mem.psi = v2_psi(dir, "memory.pressure", &psi[1], psid[1]);
		m.memory = &mem;
	}

	V2(MemoryEvents) ev = IO__CONTAINERD__CGROUPS__V2__MEMORY_EVENTS__INIT;
	const struct kv es[] = { { "low", &ev.low }, { "high", &ev.high }, { "max", &ev.max },
				 { "oom", &ev.oom }, { "oom_kill", &ev.oom_kill } };
	if (read_kv(dir, "memory.events", es, sizeof es / sizeof es[0]) == 0)
		m.memory_events = &ev;

	V2(IOStat) io = IO__CONTAINERD__CGROUPS__V2__IOSTAT__INIT;
	v2_io(dir, &pl, &io);
	io.psi = v2_psi(dir, "io.pressure", &psi[2], psid[2]);
	if (io.n_usage || io.psi)
		m.io = &io;

	int rc = pl.oom ? wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory")
			: pack(&m.base, V2_URL, out, err);
	pool_free(&pl);
	return rc;
}

int wr_ns_task_stats(struct wr_backend *b, struct wr_object *o, struct wr_blob *out,
		     struct wr_error *err)
{
	struct cg c;
	memset(out, 0, sizeof *out);
	if (cg_open(wr_ns_of(b), o, &c, err))
		return -1;
	int rc = c.v2 ? stats_v2(&c, out, err) : stats_v1(&c, out, err);
	cg_close(&c);
	return rc;
}

/* The OOM-kill counter of the task's memory cgroup: memory.oom_control's
 * oom_kill (v1, Linux >= 4.13) or memory.events' oom_kill (v2).  Read after
 * the init exited and before runc delete removes the cgroup. */
int wr_ns_task_oom_killed(struct wr_backend *b, struct wr_object *o)
{
	struct cg c;
	struct wr_error err;
	if (cg_open(wr_ns_of(b), o, &c, &err))
		return 0;
	char dir[WR_NS_PATH];
	uint64_t kills = 0;
	const struct kv k = { "oom_kill", &kills };
	if (cg_dir(&c, c.v2 ? NULL : "memory", dir, sizeof dir) == 0)
		read_kv(dir, c.v2 ? "memory.events" : "memory.oom_control", &k, 1);
	cg_close(&c);
	return kills > 0;
}

/* ---- processes ---------------------------------------------------------------- */

struct pidvec {
	pid_t *a;
	size_t n, cap;
	int oom;
};

/* cgroup.procs of dir and of every cgroup below it (as runc ps lists). */
static int collect(const char *dir, int depth, struct pidvec *v)
{
	char *s = cg_read(dir, "cgroup.procs");
	if (!s)
		return -1;
	for (char *p = s, *end;; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid <= 0)
			continue;
		if (v->n == v->cap) {
			size_t cap = v->cap ? v->cap * 2 : 16;
			pid_t *na = realloc(v->a, cap * sizeof *na);
			if (!na) {
				v->oom = 1;
				break;
			}
			v->a = na;
			v->cap = cap;
		}
		v->a[v->n++] = (pid_t)pid;
	}
	free(s);
	DIR *d = depth < 32 ? opendir(dir) : NULL;
	for (struct dirent *de; d && (de = readdir(d));) {
		char sub[WR_NS_PATH];
		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
			continue;
		struct stat st;
		if (de->d_type == DT_UNKNOWN && (stat(sub, &st) < 0 || !S_ISDIR(st.st_mode)))
			continue;
		collect(sub, depth + 1, v); /* a child cgroup removed meanwhile: nothing in it */
	}
	if (d)
		closedir(d);
	return 0;
}

int wr_ns_cgroup_pids(struct wr_backend *b, struct wr_object *o, pid_t **pids, size_t *n,
		      struct wr_error *err)
{
	static const char *const v1[] = { "pids", "memory", "cpu", "cpuacct", "devices",
					  "freezer", "name=systemd" };
	struct cg c;
	struct wr_error e = { 0 };
	char dir[WR_NS_PATH];
	*pids = NULL;
	*n = 0;
	if (cg_open(wr_ns_of(b), o, &c, &e)) {
		if (e.code == WR_UNIMPLEMENTED)
			return 0; /* not resolvable: the runtime knows */
		if (err)
			*err = e;
		return -1;
	}
	int found = c.v2 ? cg_dir(&c, NULL, dir, sizeof dir) == 0 : 0;
	for (size_t i = 0; !c.v2 && !found && i < sizeof v1 / sizeof v1[0]; i++)
		found = cg_dir(&c, v1[i], dir, sizeof dir) == 0;
	cg_close(&c);
	if (!found)
		return 0;
	struct pidvec v = { 0 };
	if (collect(dir, 0, &v) < 0) {
		free(v.a);
		return 0;
	}
	if (v.oom) {
		free(v.a);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	}
	*pids = v.a ? v.a : calloc(1, sizeof **pids);
	if (!*pids)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	*n = v.n;
	return 1;
}
