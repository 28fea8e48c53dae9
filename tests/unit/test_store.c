/* test_store.c — unit tests of the SQLite store (src/core/store.c): schema
 * and durability settings, round trips of objects and journal rows,
 * transactions, and the refusals (corrupt file, newer schema, full disk,
 * unknown names).  Each test works in its own mkdtemp directory, removed by
 * the teardown. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/lifecycle.h"
#include "core/stats.h"
#include "core/store.h"
#include "lifecycle/exec.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "tests/support/harness.h"

struct fix {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof *f);
	assert_non_null(f);
	snprintf(f->dir, sizeof f->dir, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/warren.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	harness_rmrf(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static struct wr_object *mk(enum wr_kind kind, const char *ns, const char *id, const char *owner,
			    int state)
{
	struct wr_object *o = wr_object_new(kind, ns, id, owner, "fake");
	assert_non_null(o);
	o->state = state;
	return o;
}

static void put_ok(struct wr_store *s, const struct wr_object *o)
{
	struct wr_error err = { 0 };
	int rc = wr_store_put_object(s, o, &err);
	if (rc != 0)
		print_error("put_object: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

/* Put a fresh object and free it. */
static void put_new(struct wr_store *s, enum wr_kind kind, const char *id, int state)
{
	struct wr_object *o = mk(kind, "default", id, "", state);
	put_ok(s, o);
	wr_object_free(o);
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void raw_text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		print_error("%s: %s\n", sql, msg ? msg : "?");
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
}

/* Objects collected by load_objects, in order. */
struct objs {
	struct wr_object *o[64];
	int n;
	int stop_at;   /* return -1 when the n-th object arrives (0: never) */
};

static int collect(void *ctx, struct wr_object *o)
{
	struct objs *l = ctx;
	assert_true(l->n < 64);
	l->o[l->n++] = o;
	return l->stop_at && l->n == l->stop_at ? 7 : 0;
}

static void objs_free(struct objs *l)
{
	for (int i = 0; i < l->n; i++)
		wr_object_free(l->o[i]);
	l->n = 0;
}

static void load_ok(struct wr_store *s, struct objs *l)
{
	struct wr_error err = { 0 };
	memset(l, 0, sizeof *l);
	int rc = wr_store_load_objects(s, collect, l, &err);
	if (rc != 0)
		print_error("load_objects: %s\n", err.msg);
	assert_int_equal(rc, 0);
}

/* Journal rows collected by history/last_row, copied out of the callback. */
struct crow {
	int64_t seq, ts;
	enum wr_kind kind;
	enum wr_phase phase;
	int code;
	char ns[32], id[32], from[32], event[32], action[32], to[32], message[64], args[64];
};

struct rows {
	struct crow r[32];
	int n;
	int stop_at;
};

static int grab(void *ctx, const struct wr_journal_row *row)
{
	struct rows *l = ctx;
	assert_true(l->n < 32);
	struct crow *c = &l->r[l->n++];
	c->seq = row->seq;
	c->ts = row->ts;
	c->kind = row->kind;
	c->phase = row->phase;
	c->code = row->code;
	snprintf(c->ns, sizeof c->ns, "%s", row->ns);
	snprintf(c->id, sizeof c->id, "%s", row->id);
	snprintf(c->from, sizeof c->from, "%s", row->from);
	snprintf(c->event, sizeof c->event, "%s", row->event);
	snprintf(c->action, sizeof c->action, "%s", row->action);
	snprintf(c->to, sizeof c->to, "%s", row->to);
	snprintf(c->message, sizeof c->message, "%s", row->message);
	snprintf(c->args, sizeof c->args, "%s", row->args);
	return l->stop_at && l->n == l->stop_at ? 5 : 0;
}

static int64_t append_ok(struct wr_store *s, enum wr_kind kind, const char *id,
			 enum wr_phase phase, const char *from, const char *event,
			 const char *action, const char *to)
{
	struct wr_error err = { 0 };
	struct wr_journal_row row = {
		.kind = kind, .ns = "default", .id = id, .phase = phase, .from = from,
		.event = event, .action = action, .to = to, .message = "", .args = "",
	};
	int rc = wr_store_append(s, &row, &err);
	if (rc != 0)
		print_error("append: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_true(row.seq > 0);
	assert_true(row.ts > 0);
	return row.seq;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	unsigned char *buf = malloc(n ? (size_t)n : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void write_at(const char *path, long off, const unsigned char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, buf, len, off), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void garbage(unsigned char *buf, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		buf[i] = (unsigned char)seed;
	}
}

/* Open must fail with `code`, leave *out NULL, and leave the file as it was. */
static void refused(const char *path, int code, struct wr_error *err)
{
	size_t before_len, after_len;
	unsigned char *before = read_file(path, &before_len);
	struct wr_store *s = (struct wr_store *)0x1;

	wr_error_clear(err);
	assert_int_equal(wr_store_open(&s, path, err), -1);
	assert_null(s);
	assert_int_equal(err->code, code);
	assert_non_null(strstr(err->msg, path));

	unsigned char *after = read_file(path, &after_len);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(before);
	free(after);
}

/* A closed database with enough data to span many pages. */
static void make_big_db(const char *path)
{
	struct wr_store *s = harness_store_open(path);
	struct wr_error err = { 0 };
	char id[32], spec[2048];
	memset(spec, 'a', sizeof spec - 1);
	spec[sizeof spec - 1] = '\0';
	assert_int_equal(wr_store_begin(s, &err), 0);
	for (int i = 0; i < 100; i++) {
		snprintf(id, sizeof id, "sb%d", i);
		struct wr_object *o = mk(WR_KIND_SANDBOX, "default", id, "", SANDBOX_S_READY);
		assert_int_equal(wr_object_set(&o->spec, spec), 0);
		put_ok(s, o);
		wr_object_free(o);
		append_ok(s, WR_KIND_SANDBOX, id, WR_PHASE_TRANSITION, "created", "Start", "",
			  "ready");
	}
	assert_int_equal(wr_store_commit(s, &err), 0);
	wr_store_close(s);
}

/* ---- tests -------------------------------------------------------------------- */

static void test_fresh_open(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	sqlite3 *db = wr_store_handle(s);
	char mode[16];

	assert_string_equal(wr_store_path(s), f->path);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), WR_STORE_SCHEMA_VERSION);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "wal");
	assert_int_equal(raw_int(db, "PRAGMA synchronous"), 1); /* NORMAL */
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
				     " AND name IN ('objects', 'journal')"),
			 2);
	assert_int_equal(wr_store_journal_count(s), 0);
	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 0);
	wr_store_close(s);

	/* A second open of the same (now v1) database is a no-op on the schema. */
	s = harness_store_open(f->path);
	assert_int_equal(raw_int(wr_store_handle(s), "PRAGMA user_version"),
			 WR_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(wr_store_handle(s), "PRAGMA synchronous"), 1);
	wr_store_close(s);
}

/* An existing empty file is a fresh database, not a corrupt one. */
static void test_empty_file_is_fresh(void **state)
{
	struct fix *f = *state;
	int fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	struct wr_store *s = harness_store_open(f->path);
	assert_int_equal(raw_int(wr_store_handle(s), "PRAGMA user_version"), WR_STORE_SCHEMA_VERSION);
	wr_store_close(s);
}

static void test_missing_dir(void **state)
{
	struct fix *f = *state;
	char path[256], dir[200];
	struct wr_error err = { 0 };
	struct wr_store *s = NULL;
	struct stat sb;

	snprintf(dir, sizeof dir, "%s/nope", f->dir);
	snprintf(path, sizeof path, "%s/warren.db", dir);
	assert_int_equal(wr_store_open(&s, path, &err), -1);
	assert_null(s);
	assert_int_equal(err.code, WR_NOT_FOUND);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "directory"));
	assert_int_equal(stat(dir, &sb), -1); /* not created by the store */
}

static void check_same(const struct wr_object *a, const struct wr_object *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_string_equal(a->ns, b->ns);
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->owner, b->owner);
	assert_string_equal(a->backend, b->backend);
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->exit_status, b->exit_status);
	assert_int_equal(a->exited_at, b->exited_at);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->updated_at, b->updated_at);
	assert_string_equal(a->reason, b->reason);
	assert_string_equal(a->spec, b->spec);
	assert_string_equal(a->bstate, b->bstate);
	assert_null(b->bdata);
}

static void test_round_trip_all_kinds(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_object *in[3];

	in[0] = mk(WR_KIND_SANDBOX, "k8s.io", "sb1", "", SANDBOX_S_READY);
	in[0]->pid = 4242;
	in[0]->created_at = INT64_C(1700000000123456789);
	in[0]->updated_at = INT64_C(1700000000999999999);
	assert_int_equal(wr_object_set(&in[0]->spec, "{\"netns\":\"/run/netns/x\"}"), 0);
	assert_int_equal(wr_object_set(&in[0]->bstate, "{\"pidfd\":3}"), 0);

	in[1] = mk(WR_KIND_TASK, "k8s.io", "t1", "sb1", TASK_S_STOPPED);
	in[1]->pid = 99;
	in[1]->exit_status = 137;
	in[1]->exited_at = INT64_C(1700000001000000001);
	in[1]->created_at = 5;
	in[1]->updated_at = 6;
	assert_int_equal(wr_object_set(&in[1]->reason, "killed: OOM, \"quoted\" 'and' ünïcode"), 0);
	assert_int_equal(wr_object_set(&in[1]->backend, "runc"), 0);
	assert_int_equal(wr_object_set(&in[1]->spec, "{\"bundle\":\"/b\",\"stdio\":[1,2]}"), 0);

	in[2] = mk(WR_KIND_EXEC, "k8s.io", "t1/e1", "t1", EXEC_S_EXITED);
	in[2]->pid = -1; /* whatever the engine stores comes back */
	in[2]->exit_status = -2;
	in[2]->exited_at = -3;
	in[2]->bdata = in[2]; /* never persisted */

	for (int i = 0; i < 3; i++)
		put_ok(s, in[i]);

	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++)
		check_same(in[i], l.o[i]);
	objs_free(&l);

	/* A callback's non-zero return stops the walk and is returned; the
	 * objects it got are its own. */
	memset(&l, 0, sizeof l);
	l.stop_at = 2;
	struct wr_error err = { 0 };
	assert_int_equal(wr_store_load_objects(s, collect, &l, &err), 7);
	assert_int_equal(l.n, 2);
	objs_free(&l);

	for (int i = 0; i < 3; i++)
		wr_object_free(in[i]);
	wr_store_close(s);
}

static void test_creation_order_across_replace(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_object *sb = mk(WR_KIND_SANDBOX, "default", "sb", "", SANDBOX_S_CREATING);
	struct wr_object *t = mk(WR_KIND_TASK, "default", "t", "sb", TASK_S_CREATING);
	struct wr_object *e = mk(WR_KIND_EXEC, "default", "t/e", "t", EXEC_S_CREATING);

	put_ok(s, sb);
	put_ok(s, t);
	put_ok(s, e);
	/* Rewrite the oldest two: they keep their place. */
	sb->state = SANDBOX_S_READY;
	assert_int_equal(wr_object_set(&sb->bstate, "{\"v\":2}"), 0);
	put_ok(s, sb);
	t->state = TASK_S_RUNNING;
	t->pid = 7;
	put_ok(s, t);
	put_ok(s, sb);
	put_new(s, WR_KIND_SANDBOX, "sb2", SANDBOX_S_CREATED);
	/* Same id in another namespace, and same id of another kind, are
	 * other objects. */
	struct wr_object *other = mk(WR_KIND_SANDBOX, "other", "sb", "", SANDBOX_S_STOPPED);
	put_ok(s, other);
	put_new(s, WR_KIND_TASK, "sb", TASK_S_CREATED);

	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 6);
	check_same(sb, l.o[0]);
	check_same(t, l.o[1]);
	check_same(e, l.o[2]);
	assert_string_equal(l.o[3]->id, "sb2");
	check_same(other, l.o[4]);
	assert_int_equal(l.o[5]->kind, WR_KIND_TASK);
	assert_string_equal(l.o[5]->id, "sb");
	objs_free(&l);

	wr_object_free(sb);
	wr_object_free(t);
	wr_object_free(e);
	wr_object_free(other);
	wr_store_close(s);
}

static void test_journal(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct rows h;

	int64_t s1 = append_ok(s, WR_KIND_TASK, "t", WR_PHASE_INTENT, "absent", "Create", "create",
			       "creating");
	int64_t s2 = append_ok(s, WR_KIND_TASK, "other", WR_PHASE_TRANSITION, "created", "Lost",
			       "", "stopped");
	/* An outcome row with every field set, and an explicit timestamp. */
	struct wr_journal_row row = {
		.ts = 1234, .kind = WR_KIND_TASK, .ns = "default", .id = "t",
		.phase = WR_PHASE_OUTCOME, .from = "creating", .event = "Failed",
		.action = "create", .to = "stopped", .code = WR_INTERNAL,
		.message = "runc create: exit 1", .args = "{\"reason\":\"boom\"}",
	};
	assert_int_equal(wr_store_append(s, &row, &err), 0);
	assert_int_equal(row.ts, 1234);
	int64_t s3 = row.seq;
	/* Same id, other kind: a separate history. */
	int64_t s4 = append_ok(s, WR_KIND_SANDBOX, "t", WR_PHASE_TRANSITION, "absent", "Create",
			       "", "created");
	assert_true(s1 < s2 && s2 < s3 && s3 < s4);
	assert_int_equal(wr_store_journal_count(s), 4);

	memset(&h, 0, sizeof h);
	assert_int_equal(wr_store_history(s, WR_KIND_TASK, "default", "t", grab, &h, &err), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.r[0].seq, s1);
	assert_int_equal(h.r[0].phase, WR_PHASE_INTENT);
	assert_int_equal(h.r[0].kind, WR_KIND_TASK);
	assert_string_equal(h.r[0].ns, "default");
	assert_string_equal(h.r[0].id, "t");
	assert_string_equal(h.r[0].from, "absent");
	assert_string_equal(h.r[0].event, "Create");
	assert_string_equal(h.r[0].action, "create");
	assert_string_equal(h.r[0].to, "creating");
	assert_int_equal(h.r[0].code, WR_OK);
	assert_string_equal(h.r[0].message, "");
	assert_string_equal(h.r[0].args, "");
	assert_true(h.r[0].ts > 0);
	assert_int_equal(h.r[1].seq, s3);
	assert_int_equal(h.r[1].ts, 1234);
	assert_int_equal(h.r[1].phase, WR_PHASE_OUTCOME);
	assert_string_equal(h.r[1].from, "creating");
	assert_string_equal(h.r[1].event, "Failed");
	assert_string_equal(h.r[1].action, "create");
	assert_string_equal(h.r[1].to, "stopped");
	assert_int_equal(h.r[1].code, WR_INTERNAL);
	assert_string_equal(h.r[1].message, "runc create: exit 1");
	assert_string_equal(h.r[1].args, "{\"reason\":\"boom\"}");

	/* A callback's non-zero return stops the walk and is returned. */
	memset(&h, 0, sizeof h);
	h.stop_at = 1;
	assert_int_equal(wr_store_history(s, WR_KIND_TASK, "default", "t", grab, &h, &err), 5);
	assert_int_equal(h.n, 1);

	memset(&h, 0, sizeof h);
	assert_int_equal(wr_store_last_row(s, WR_KIND_TASK, "default", "t", grab, &h, &err), 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(h.r[0].seq, s3);
	assert_int_equal(h.r[0].phase, WR_PHASE_OUTCOME);
	assert_string_equal(h.r[0].message, "runc create: exit 1");

	memset(&h, 0, sizeof h);
	assert_int_equal(wr_store_last_row(s, WR_KIND_SANDBOX, "default", "t", grab, &h, &err), 1);
	assert_int_equal(h.r[0].seq, s4);
	assert_int_equal(h.r[0].kind, WR_KIND_SANDBOX);

	memset(&h, 0, sizeof h);
	assert_int_equal(wr_store_last_row(s, WR_KIND_TASK, "elsewhere", "t", grab, &h, &err), 0);
	assert_int_equal(wr_store_last_row(s, WR_KIND_EXEC, "default", "t", grab, &h, &err), 0);
	assert_int_equal(wr_store_history(s, WR_KIND_EXEC, "default", "t", grab, &h, &err), 0);
	assert_int_equal(h.n, 0);

	/* An invalid phase is refused before anything is written. */
	row.phase = (enum wr_phase)9;
	row.ts = 0;
	assert_int_equal(wr_store_append(s, &row, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_int_equal(wr_store_journal_count(s), 4);
	wr_store_close(s);
}

static void test_remove_object(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct rows h = { 0 };
	struct objs l;

	put_new(s, WR_KIND_TASK, "a", TASK_S_RUNNING);
	put_new(s, WR_KIND_TASK, "b", TASK_S_RUNNING);
	put_new(s, WR_KIND_SANDBOX, "a", SANDBOX_S_READY);
	append_ok(s, WR_KIND_TASK, "a", WR_PHASE_INTENT, "absent", "Create", "create", "creating");
	append_ok(s, WR_KIND_TASK, "b", WR_PHASE_INTENT, "absent", "Create", "create", "creating");
	append_ok(s, WR_KIND_TASK, "a", WR_PHASE_OUTCOME, "creating", "Done", "create", "created");
	append_ok(s, WR_KIND_SANDBOX, "a", WR_PHASE_TRANSITION, "absent", "Create", "", "created");
	assert_int_equal(wr_store_journal_count(s), 4);

	/* Outside a transaction (the store makes its own)... */
	assert_int_equal(wr_store_remove_object(s, WR_KIND_TASK, "default", "a", &err), 0);
	load_ok(s, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.o[0]->kind, WR_KIND_TASK);
	assert_string_equal(l.o[0]->id, "b");
	assert_int_equal(l.o[1]->kind, WR_KIND_SANDBOX);
	assert_string_equal(l.o[1]->id, "a");
	objs_free(&l);
	assert_int_equal(wr_store_history(s, WR_KIND_TASK, "default", "a", grab, &h, &err), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(wr_store_journal_count(s), 2);

	/* ...and inside the caller's, with a write in the same step. */
	assert_int_equal(wr_store_begin(s, &err), 0);
	int64_t last = append_ok(s, WR_KIND_TASK, "b", WR_PHASE_OUTCOME, "deleting", "Done",
				 "delete", "deleted");
	assert_int_equal(wr_store_remove_object(s, WR_KIND_TASK, "default", "b", &err), 0);
	assert_int_equal(wr_store_commit(s, &err), 0);
	load_ok(s, &l);
	assert_int_equal(l.n, 1);
	objs_free(&l);
	assert_int_equal(wr_store_journal_count(s), 1);

	/* Removing what is not there is not an error. */
	assert_int_equal(wr_store_remove_object(s, WR_KIND_EXEC, "default", "x/y", &err), 0);

	/* Journal numbers are not reused after the newest rows were deleted. */
	int64_t next = append_ok(s, WR_KIND_SANDBOX, "a", WR_PHASE_TRANSITION, "created",
				 "Start", "", "ready");
	assert_true(next > last);
	wr_store_close(s);
}

static void test_reopen_keeps_data(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct wr_object *sb = mk(WR_KIND_SANDBOX, "ns1", "sb", "", SANDBOX_S_STOPPED);
	assert_int_equal(wr_object_set(&sb->reason, "exited"), 0);
	sb->exit_status = 3;

	assert_int_equal(wr_store_begin(s, &err), 0);
	put_ok(s, sb);
	put_new(s, WR_KIND_TASK, "t", TASK_S_PAUSED);
	int64_t seq = append_ok(s, WR_KIND_SANDBOX, "sb", WR_PHASE_TRANSITION, "ready", "Exit",
				"", "stopped");
	assert_int_equal(wr_store_commit(s, &err), 0);
	wr_store_close(s);

	s = harness_store_open(f->path);
	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 2);
	check_same(sb, l.o[0]);
	assert_string_equal(l.o[1]->id, "t");
	assert_int_equal(l.o[1]->state, TASK_S_PAUSED);
	objs_free(&l);
	struct rows h = { 0 };
	assert_int_equal(wr_store_last_row(s, WR_KIND_SANDBOX, "ns1", "sb", grab, &h, &err), 0);
	assert_int_equal(wr_store_last_row(s, WR_KIND_SANDBOX, "default", "sb", grab, &h, &err),
			 1);
	assert_int_equal(h.r[0].seq, seq);
	assert_string_equal(h.r[0].event, "Exit");
	assert_int_equal(wr_store_journal_count(s), 1);
	wr_store_close(s);
	wr_object_free(sb);
}

static void test_rollback(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct rows h = { 0 };
	struct objs l;

	/* No transaction open: a no-op (the engine calls it after a failed begin). */
	wr_store_rollback(s);

	put_new(s, WR_KIND_SANDBOX, "kept", SANDBOX_S_CREATED);
	assert_int_equal(wr_store_begin(s, &err), 0);
	put_new(s, WR_KIND_SANDBOX, "gone", SANDBOX_S_CREATING);
	put_new(s, WR_KIND_SANDBOX, "kept", SANDBOX_S_DELETING);
	append_ok(s, WR_KIND_SANDBOX, "gone", WR_PHASE_INTENT, "absent", "Create", "create",
		  "creating");
	wr_store_rollback(s);
	wr_store_rollback(s);

	load_ok(s, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.o[0]->id, "kept");
	assert_int_equal(l.o[0]->state, SANDBOX_S_CREATED);
	objs_free(&l);
	assert_int_equal(wr_store_journal_count(s), 0);
	assert_int_equal(wr_store_history(s, WR_KIND_SANDBOX, "default", "gone", grab, &h, &err), 0);
	assert_int_equal(h.n, 0);

	/* The store is usable afterwards, and a committed step sticks. */
	assert_int_equal(wr_store_begin(s, &err), 0);
	put_new(s, WR_KIND_SANDBOX, "new", SANDBOX_S_CREATING);
	append_ok(s, WR_KIND_SANDBOX, "new", WR_PHASE_INTENT, "absent", "Create", "create",
		  "creating");
	assert_int_equal(wr_store_commit(s, &err), 0);
	wr_store_rollback(s); /* after commit: nothing to undo */
	load_ok(s, &l);
	assert_int_equal(l.n, 2);
	objs_free(&l);
	assert_int_equal(wr_store_journal_count(s), 1);
	wr_store_close(s);
}

static void test_corrupt_garbage(void **state)
{
	struct fix *f = *state;
	unsigned char buf[4096];
	struct wr_error err;

	garbage(buf, sizeof buf, 0x2545f491u);
	write_at(f->path, 0, buf, sizeof buf);
	refused(f->path, WR_DATA_LOSS, &err);
	assert_non_null(strstr(err.msg, "corrupt"));
	assert_non_null(strstr(err.msg, "not a database"));
	/* Still refused the second time: it was not "repaired". */
	refused(f->path, WR_DATA_LOSS, &err);
}

static void test_corrupt_truncated(void **state)
{
	struct fix *f = *state;
	struct wr_error err;
	struct stat sb;

	make_big_db(f->path);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(sb.st_size >= 64 * 4096);
	assert_int_equal(truncate(f->path, sb.st_size / 2), 0);
	refused(f->path, WR_DATA_LOSS, &err);
	assert_non_null(strstr(err.msg, "corrupt"));
	assert_int_equal(stat(f->path, &sb), 0);
}

static void test_corrupt_page(void **state)
{
	struct fix *f = *state;
	struct wr_error err;
	size_t len;

	make_big_db(f->path);
	unsigned char *db = read_file(f->path, &len);
	unsigned page = (unsigned)db[16] << 8 | db[17];
	if (page == 1)
		page = 65536;
	assert_true(len >= 4 * (size_t)page);
	free(db);

	unsigned char *junk = malloc(page);
	assert_non_null(junk);
	garbage(junk, page, 0x9e3779b9u);
	write_at(f->path, (long)page, junk, page); /* page 2 */
	free(junk);
	refused(f->path, WR_DATA_LOSS, &err);
	assert_non_null(strstr(err.msg, "corrupt"));
}

static void test_newer_schema(void **state)
{
	struct fix *f = *state;
	struct wr_error err;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	raw_exec(db, "CREATE TABLE objects(x); PRAGMA user_version = 99");
	sqlite3_close(db);

	refused(f->path, WR_FAILED_PRECONDITION, &err);
	assert_non_null(strstr(err.msg, "99"));
	char supported[16];
	snprintf(supported, sizeof supported, "(%d)", WR_STORE_SCHEMA_VERSION);
	assert_non_null(strstr(err.msg, supported));
	assert_non_null(strstr(err.msg, "upgrade warren"));

	char mode[16];
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), 99);
	raw_text(db, "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "delete"); /* not switched to WAL either */
	sqlite3_close(db);
}

/* Someone else's database (tables, user_version 0) is not adopted. */
static void test_foreign_database(void **state)
{
	struct fix *f = *state;
	struct wr_error err;
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	raw_exec(db, "CREATE TABLE mine(x); INSERT INTO mine VALUES(1)");
	sqlite3_close(db);
	refused(f->path, WR_FAILED_PRECONDITION, &err);
	assert_non_null(strstr(err.msg, "not a warren database"));
}

static void test_disk_full(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	sqlite3 *db = wr_store_handle(s);
	struct wr_error err = { 0 };
	char sql[128];
	struct objs l;
	size_t big = 200 * 1024;

	put_new(s, WR_KIND_SANDBOX, "before", SANDBOX_S_READY);
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %lld",
		 (long long)raw_int(db, "PRAGMA page_count"));
	raw_exec(db, sql);

	char *spec = malloc(big + 16);
	assert_non_null(spec);
	memcpy(spec, "{\"blob\":\"", 9);
	memset(spec + 9, 'x', big);
	memcpy(spec + 9 + big, "\"}", 3);
	struct wr_object *o = mk(WR_KIND_SANDBOX, "default", "huge", "", SANDBOX_S_CREATING);
	assert_int_equal(wr_object_set(&o->spec, spec), 0);

	assert_int_equal(wr_store_begin(s, &err), 0);
	int rc = wr_store_put_object(s, o, &err);
	if (rc == 0)
		rc = wr_store_commit(s, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, f->path));
	assert_non_null(strstr(err.msg, "full"));
	wr_store_rollback(s);

	/* A journal append that does not fit fails the same way. */
	struct wr_journal_row row = {
		.kind = WR_KIND_SANDBOX, .ns = "default", .id = "huge", .phase = WR_PHASE_INTENT,
		.from = "absent", .event = "Create", .action = "create", .to = "creating",
		.message = "", .args = spec,
	};
	assert_int_equal(wr_store_begin(s, &err), 0);
	wr_error_clear(&err);
	rc = wr_store_append(s, &row, &err);
	if (rc == 0)
		rc = wr_store_commit(s, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	wr_store_rollback(s);

	/* Space again: the store works and nothing of the failed steps is there. */
	raw_exec(db, "PRAGMA max_page_count = 1000000");
	assert_int_equal(wr_store_begin(s, &err), 0);
	put_new(s, WR_KIND_SANDBOX, "after", SANDBOX_S_CREATING);
	append_ok(s, WR_KIND_SANDBOX, "after", WR_PHASE_INTENT, "absent", "Create", "create",
		  "creating");
	assert_int_equal(wr_store_commit(s, &err), 0);
	load_ok(s, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.o[0]->id, "before");
	assert_string_equal(l.o[1]->id, "after");
	objs_free(&l);
	assert_int_equal(wr_store_journal_count(s), 1);
	struct rows h = { 0 };
	assert_int_equal(wr_store_history(s, WR_KIND_SANDBOX, "default", "huge", grab, &h, &err), 0);
	assert_int_equal(h.n, 0);

	/* And the big write itself now fits. */
	put_ok(s, o);
	load_ok(s, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.o[2]->spec, spec);
	objs_free(&l);

	wr_object_free(o);
	free(spec);
	wr_store_close(s);
}

static void test_unknown_state(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct objs l = { 0 };

	put_new(s, WR_KIND_SANDBOX, "good", SANDBOX_S_READY);
	put_new(s, WR_KIND_SANDBOX, "bad", SANDBOX_S_READY);
	raw_exec(wr_store_handle(s), "UPDATE objects SET state = 'exploded' WHERE id = 'bad'");

	assert_int_equal(wr_store_load_objects(s, collect, &l, &err), -1);
	assert_int_equal(err.code, WR_DATA_LOSS);
	assert_non_null(strstr(err.msg, "exploded"));
	assert_non_null(strstr(err.msg, "bad"));
	assert_non_null(strstr(err.msg, f->path));
	objs_free(&l);

	/* Unknown kind, likewise. */
	raw_exec(wr_store_handle(s), "UPDATE objects SET state = 'ready', kind = 'vm' WHERE id = 'bad'");
	memset(&l, 0, sizeof l);
	assert_int_equal(wr_store_load_objects(s, collect, &l, &err), -1);
	assert_int_equal(err.code, WR_DATA_LOSS);
	assert_non_null(strstr(err.msg, "'vm'"));
	objs_free(&l);

	/* The store is still usable after a failed walk. */
	raw_exec(wr_store_handle(s), "DELETE FROM objects WHERE id = 'bad'");
	load_ok(s, &l);
	assert_int_equal(l.n, 1);
	objs_free(&l);
	wr_store_close(s);
}

static void test_invalid_object(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	struct wr_object *o = mk(WR_KIND_EXEC, "default", "t/e", "t", EXEC_S_RUNNING);
	struct objs l;

	o->state = wr_lifecycle_of(WR_KIND_EXEC)->n_states;
	assert_int_equal(wr_store_put_object(s, o, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	o->state = -1;
	assert_int_equal(wr_store_put_object(s, o, &err), -1);
	load_ok(s, &l);
	assert_int_equal(l.n, 0);
	wr_object_free(o);
	wr_store_close(s);
}

/* A commit whose WAL write fails (here EFBIG from RLIMIT_FSIZE, which SQLite
 * reports as an I/O error) fails with WR_INTERNAL naming the database, leaves
 * no transaction open, and the store works once the cause is gone.  Run in a
 * child: the file size limit is per process and would also cap a log file the
 * test runner may be writing.  The child prints the failed check and exits 1
 * (cmocka asserts do not cross fork). */
#define CHILD_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "child: line %d: %s failed\n", __LINE__, #cond); \
			_exit(1); \
		} \
	} while (0)

static void commit_io_error_child(const char *path)
{
	struct wr_store *s = NULL;
	struct wr_error err = { 0 };
	char wal[160];
	struct stat sb;
	struct rlimit lim;

	signal(SIGXFSZ, SIG_IGN);
	CHILD_CHECK(wr_store_open(&s, path, &err) == 0);
	struct wr_object *o = wr_object_new(WR_KIND_TASK, "default", "t", "", "fake");
	CHILD_CHECK(o != NULL);
	o->state = TASK_S_CREATED;
	CHILD_CHECK(wr_store_put_object(s, o, &err) == 0);
	snprintf(wal, sizeof wal, "%s-wal", path);
	CHILD_CHECK(stat(wal, &sb) == 0 && sb.st_size > 0);
	CHILD_CHECK(getrlimit(RLIMIT_FSIZE, &lim) == 0);
	rlim_t saved = lim.rlim_cur;
	lim.rlim_cur = (rlim_t)sb.st_size;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);

	/* The step's pages stay in the page cache until COMMIT writes them. */
	o->state = TASK_S_RUNNING;
	o->pid = 77;
	CHILD_CHECK(wr_store_begin(s, &err) == 0);
	CHILD_CHECK(wr_store_put_object(s, o, &err) == 0);
	struct wr_journal_row row = {
		.kind = WR_KIND_TASK, .ns = "default", .id = "t", .phase = WR_PHASE_TRANSITION,
		.from = "created", .event = "Start", .action = "", .to = "running",
		.message = "", .args = "",
	};
	CHILD_CHECK(wr_store_append(s, &row, &err) == 0);
	CHILD_CHECK(wr_store_commit(s, &err) == -1);
	CHILD_CHECK(err.code == WR_INTERNAL);
	CHILD_CHECK(strstr(err.msg, path) != NULL);
	CHILD_CHECK(strstr(err.msg, "committing") != NULL);
	CHILD_CHECK(sqlite3_get_autocommit(wr_store_handle(s)));
	wr_store_rollback(s);

	lim.rlim_cur = saved;
	CHILD_CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
	struct objs l;
	memset(&l, 0, sizeof l);
	CHILD_CHECK(wr_store_load_objects(s, collect, &l, &err) == 0);
	CHILD_CHECK(l.n == 1 && l.o[0]->state == TASK_S_CREATED && l.o[0]->pid == 0);
	objs_free(&l);
	CHILD_CHECK(wr_store_journal_count(s) == 0);
	CHILD_CHECK(wr_store_begin(s, &err) == 0);
	CHILD_CHECK(wr_store_put_object(s, o, &err) == 0);
	CHILD_CHECK(wr_store_append(s, &row, &err) == 0);
	CHILD_CHECK(wr_store_commit(s, &err) == 0);
	CHILD_CHECK(wr_store_journal_count(s) == 1);
	wr_object_free(o);
	wr_store_close(s);
	_exit(0);
}

static void test_commit_io_error(void **state)
{
	struct fix *f = *state;
	int status;

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		commit_io_error_child(f->path);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* What the child committed is durable for the next opener. */
	struct wr_store *s = harness_store_open(f->path);
	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.o[0]->state, TASK_S_RUNNING);
	assert_int_equal(l.o[0]->pid, 77);
	objs_free(&l);
	wr_store_close(s);
}

/* A walk's callback may not restart the same walk (the statement is shared). */
static int reenter(void *ctx, struct wr_object *o)
{
	struct wr_store *s = ctx;
	struct wr_error err = { 0 };
	struct objs l = { 0 };
	wr_object_free(o);
	assert_int_equal(wr_store_load_objects(s, collect, &l, &err), -1);
	assert_int_equal(err.code, WR_FAILED_PRECONDITION);
	assert_int_equal(l.n, 0);
	return 0;
}

static void test_reentrant_walk(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	put_new(s, WR_KIND_SANDBOX, "a", SANDBOX_S_READY);
	put_new(s, WR_KIND_SANDBOX, "b", SANDBOX_S_READY);
	assert_int_equal(wr_store_load_objects(s, reenter, s, &err), 0);
	wr_store_close(s);
}

/* The core is the database's only user: after its first write it holds the
 * file's lock until close, so another process cannot interleave steps (or
 * even read a half-applied state), and the WAL index is not a mapped -shm
 * file.  The lock goes with the connection. */
static void test_exclusive_lock(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	assert_int_equal(wr_store_begin(s, &err), 0);
	put_new(s, WR_KIND_TASK, "t", TASK_S_CREATED);
	assert_int_equal(wr_store_commit(s, &err), 0);

	char shm[200];
	struct stat sb;
	snprintf(shm, sizeof shm, "%s-shm", f->path);
	assert_int_equal(stat(shm, &sb), -1);
	assert_int_equal(errno, ENOENT);

	sqlite3 *other = NULL;
	assert_int_equal(sqlite3_open_v2(f->path, &other, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(other, 0);
	assert_int_equal(sqlite3_exec(other, "SELECT count(*) FROM objects", NULL, NULL, NULL),
			 SQLITE_BUSY);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_BUSY);
	wr_store_close(s);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE; DELETE FROM objects; COMMIT",
				      NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
}

/* A version 1 database, as warren 0.1 wrote it (journal.seq AUTOINCREMENT
 * with an index), is migrated in place: every row kept with its number, the
 * history in order, new rows numbered after the old ones. */
static void test_migrate_v1(void **state)
{
	struct fix *f = *state;
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	raw_exec(db,
		 "CREATE TABLE objects ("
		 " kind TEXT NOT NULL, ns TEXT NOT NULL, id TEXT NOT NULL,"
		 " owner TEXT NOT NULL DEFAULT '', backend TEXT NOT NULL DEFAULT '',"
		 " state TEXT NOT NULL, pid INTEGER NOT NULL DEFAULT 0,"
		 " exit_status INTEGER NOT NULL DEFAULT 0, exited_at INTEGER NOT NULL DEFAULT 0,"
		 " created_at INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0,"
		 " reason TEXT NOT NULL DEFAULT '', spec TEXT NOT NULL DEFAULT '{}',"
		 " bstate TEXT NOT NULL DEFAULT '{}', seq INTEGER NOT NULL,"
		 " PRIMARY KEY (kind, ns, id));"
		 "CREATE UNIQUE INDEX objects_by_seq ON objects(seq);"
		 "CREATE TABLE journal ("
		 " seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL,"
		 " kind TEXT NOT NULL, ns TEXT NOT NULL, id TEXT NOT NULL,"
		 " phase TEXT NOT NULL CHECK (phase IN ('intent', 'outcome', 'transition')),"
		 " from_state TEXT NOT NULL, event TEXT NOT NULL, action TEXT NOT NULL DEFAULT '',"
		 " to_state TEXT NOT NULL, code INTEGER NOT NULL DEFAULT 0,"
		 " message TEXT NOT NULL DEFAULT '', args TEXT NOT NULL DEFAULT '');"
		 "CREATE INDEX journal_by_object ON journal(kind, ns, id, seq);"
		 "INSERT INTO objects(kind, ns, id, state, seq) VALUES ('task', 'default', 't', 'running', 1);"
		 "INSERT INTO journal(ts, kind, ns, id, phase, from_state, event, action, to_state)"
		 " VALUES (10, 'task', 'default', 't', 'intent', 'created', 'Start', 'start', 'starting'),"
		 " (11, 'task', 'default', 'gone', 'transition', 'created', 'Lost', '', 'stopped'),"
		 " (12, 'task', 'default', 't', 'outcome', 'starting', 'Done', '', 'running');"
		 "DELETE FROM journal WHERE id = 'gone';"
		 "PRAGMA user_version = 1;");
	sqlite3_close(db);

	struct wr_store *s = harness_store_open(f->path);
	db = wr_store_handle(s);
	assert_int_equal(raw_int(db, "PRAGMA user_version"), WR_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'journal'"
				     " AND sql LIKE '%WITHOUT ROWID%'"), 1);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"
				     " WHERE name IN ('journal_by_object', 'journal_v2')"), 0);
	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.o[0]->state, TASK_S_RUNNING);
	objs_free(&l);
	struct rows h = { 0 };
	struct wr_error err = { 0 };
	assert_int_equal(wr_store_history(s, WR_KIND_TASK, "default", "t", grab, &h, &err), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.r[0].seq, 1);
	assert_int_equal(h.r[0].ts, 10);
	assert_string_equal(h.r[0].event, "Start");
	assert_int_equal(h.r[1].seq, 3);
	assert_string_equal(h.r[1].event, "Done");
	/* numbered after the highest kept row */
	assert_int_equal(append_ok(s, WR_KIND_TASK, "t", WR_PHASE_TRANSITION, "running", "Exit",
				   "", "stopped"), 4);
	wr_store_close(s);
	s = harness_store_open(f->path);
	assert_int_equal(append_ok(s, WR_KIND_TASK, "u", WR_PHASE_TRANSITION, "absent", "Create",
				   "", "created"), 5);
	wr_store_close(s);
}

static int count_frames(void *ctx, sqlite3 *db, const char *name, int pages)
{
	(void)db;
	(void)name;
	*(int *)ctx = pages;
	return SQLITE_OK;
}

/* An object as the ns backend leaves it: a spec and a backend state of a
 * kilobyte or two each (bundle settings, namespace files, paths). */
static struct wr_object *mk_big(const char *id, int state, char fill)
{
	struct wr_object *o = mk(WR_KIND_TASK, "default", id, "", state);
	char spec[1501], bstate[1201];
	memset(spec, 's', sizeof spec - 1);
	spec[sizeof spec - 1] = 0;
	memset(bstate, fill, sizeof bstate - 1);
	bstate[sizeof bstate - 1] = 0;
	assert_int_equal(wr_object_set(&o->spec, spec), 0);
	assert_int_equal(wr_object_set(&o->bstate, bstate), 0);
	return o;
}

/* One step (object row + intent row) in its own transaction; the number of
 * WAL frames its commit wrote. */
static int step_frames(struct wr_store *s, struct wr_object *o, int *pages)
{
	struct wr_error err = { 0 };
	assert_int_equal(wr_store_begin(s, &err), 0);
	put_ok(s, o);
	append_ok(s, WR_KIND_TASK, o->id, WR_PHASE_INTENT, "created", "Start", "start", "starting");
	int before = *pages;
	assert_int_equal(wr_store_commit(s, &err), 0);
	return *pages - before;
}

/* A step writes the object's page and one journal page: two WAL frames,
 * with objects as large as the ns backend's (a spec and a backend state of
 * a kilobyte or two) and rows that change size from step to step.  (Schema
 * v1 wrote four: the journal table, its index and sqlite_sequence.) */
static void test_step_frames(void **state)
{
	struct fix *f = *state;
	struct wr_store *s = harness_store_open(f->path);
	struct wr_error err = { 0 };
	for (int i = 0; i < 20; i++) {   /* some objects and history first */
		char id[16];
		snprintf(id, sizeof id, "t%d", i);
		struct wr_object *o = mk_big(id, TASK_S_CREATED, 'b');
		assert_int_equal(wr_store_begin(s, &err), 0);
		put_ok(s, o);
		append_ok(s, WR_KIND_TASK, id, WR_PHASE_TRANSITION, "absent", "Create", "", "created");
		assert_int_equal(wr_store_commit(s, &err), 0);
		wr_object_free(o);
	}
	int pages = 0;
	sqlite3_wal_hook(wr_store_handle(s), count_frames, &pages);
	struct wr_object *o = mk_big("t7", TASK_S_CREATED, 'b');
	/* the hook reports the WAL's size from its first commit on */
	step_frames(s, o, &pages);
	const int states[] = { TASK_S_CREATING, TASK_S_CREATED, TASK_S_STARTING, TASK_S_RUNNING };
	for (int i = 0; i < 8; i++) {
		o->state = states[i % 4];   /* names of different lengths */
		o->pid = i % 2 ? 4194000 + i : 0;
		o->updated_at = 1000 + i;
		assert_int_equal(wr_object_set(&o->reason, i % 2 ? "" : "some reason"), 0);
		assert_int_equal(step_frames(s, o, &pages), 2);
	}
	o->updated_at = 2000;
	assert_int_equal(wr_object_set(&o->bstate, "{\"pid\": 42}"), 0);
	assert_int_equal(step_frames(s, o, &pages), 2);
	sqlite3_wal_hook(wr_store_handle(s), NULL, NULL);
	wr_object_free(o);

	/* the transactions feed warrend's counters (warrenctl stats): time from
	 * begin to commit or rollback, and the commits */
	struct wr_stats a, b;
	wr_stats_read(&a);
	assert_int_equal(wr_store_begin(s, &err), 0);
	append_ok(s, WR_KIND_TASK, "t7", WR_PHASE_TRANSITION, "running", "Exit", "", "stopped");
	assert_int_equal(wr_store_commit(s, &err), 0);
	assert_int_equal(wr_store_begin(s, &err), 0);
	usleep(2000);
	wr_store_rollback(s);
	wr_stats_read(&b);
	assert_int_equal(b.journal_commits - a.journal_commits, 1);
	assert_true(b.journal_ns - a.journal_ns >= 2000000);

	struct objs l;
	load_ok(s, &l);
	assert_int_equal(l.n, 20);
	assert_string_equal(l.o[7]->bstate, "{\"pid\": 42}");
	assert_int_equal(strlen(l.o[7]->spec), 1500);
	assert_int_equal(strlen(l.o[8]->bstate), 1200);
	objs_free(&l);
	wr_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_fresh_open),
		T(test_empty_file_is_fresh),
		T(test_missing_dir),
		T(test_round_trip_all_kinds),
		T(test_creation_order_across_replace),
		T(test_journal),
		T(test_remove_object),
		T(test_reopen_keeps_data),
		T(test_rollback),
		T(test_corrupt_garbage),
		T(test_corrupt_truncated),
		T(test_corrupt_page),
		T(test_newer_schema),
		T(test_foreign_database),
		T(test_disk_full),
		T(test_commit_io_error),
		T(test_unknown_state),
		T(test_invalid_object),
		T(test_reentrant_walk),
		T(test_exclusive_lock),
		T(test_migrate_v1),
		T(test_step_frames),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
