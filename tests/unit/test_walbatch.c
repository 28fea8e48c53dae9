/* test_walbatch.c — the WAL-batching VFS (src/core/walbatch.c): a journal
 * step's commit reaches the kernel as one write, a commit is in the file the
 * moment it returns (a process killed right after it loses nothing), what was
 * not committed is not, and a transaction bigger than SQLite's page cache —
 * pages spilled to the WAL and read back before the commit, frames rewritten
 * in place, more than one buffer — reads back whole.  Each test works in its
 * own directory (tests/support/harness.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/store.h"
#include "core/walbatch.h"
#include "lifecycle/task.h"
#include "tests/support/harness.h"

/* A fresh directory per test; the engine is never opened (the store is
 * driven directly), harness_close removes the directory. */
static int setup(void **state)
{
	static struct harness h;
	harness_init(&h, false);
	*state = &h;
	return 0;
}

static int teardown(void **state)
{
	harness_close(*state);
	return 0;
}

/* One journaled step, as the engine makes it: the object's row and a
 * journal row in one transaction.  spec_len > 0 gives the object a spec of
 * that many bytes (a transaction of many pages).  Returns 0, or -1 with err. */
static int step(struct wr_store *s, const char *id, int spec_len, int commit,
		struct wr_error *err)
{
	struct wr_object *o = wr_object_new(WR_KIND_TASK, "default", id, "", "fake");
	if (!o)
		return -1;
	o->state = TASK_S_RUNNING;
	if (spec_len > 0) {
		char *spec = malloc((size_t)spec_len + 1);
		if (!spec) {
			wr_object_free(o);
			return -1;
		}
		/* not all one byte: SQLite stores what it is given, but keep the
		 * pages distinct */
		for (int i = 0; i < spec_len; i++)
			spec[i] = (char)('a' + i % 23);
		spec[spec_len] = '\0';
		free(o->spec);
		o->spec = spec;
	}
	struct wr_journal_row row = {
		.kind = WR_KIND_TASK, .ns = "default", .id = id, .phase = WR_PHASE_TRANSITION,
		.from = "created", .event = "Start", .action = "", .to = "running",
		.message = "", .args = "",
	};
	int rc = -1;
	if (wr_store_begin(s, err) == 0 && wr_store_put_object(s, o, err) == 0 &&
	    wr_store_append(s, &row, err) == 0)
		rc = commit ? wr_store_commit(s, err) : 0;
	wr_object_free(o);
	return rc;
}

/* The spec stored for id, or -1 when there is no such object. */
static int spec_length(struct wr_store *s, const char *id)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(wr_store_handle(s),
					    "SELECT length(spec), spec FROM objects WHERE id = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int len = -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		len = sqlite3_column_int(st, 0);
		const char *spec = (const char *)sqlite3_column_text(st, 1);
		for (int i = 0; len > 2 && i < len; i++)
			assert_int_equal(spec[i], 'a' + i % 23);
	}
	sqlite3_finalize(st);
	return len;
}

/* A step's commit: several writes asked for (a header and a page per
 * frame), one made. */
static void test_one_write_per_commit(void **state)
{
	struct harness *f = *state;
	struct wr_store *s = harness_store_open(f->db);
	struct wr_error err = { 0 };

	assert_int_equal(step(s, "warm", 0, 1, &err), 0);
	for (int i = 0; i < 5; i++) {
		char id[16];
		snprintf(id, sizeof id, "t%d", i);
		struct wr_walbatch_counts before = wr_walbatch_counts();
		assert_int_equal(step(s, id, 0, 1, &err), 0);
		struct wr_walbatch_counts after = wr_walbatch_counts();
		assert_true(after.asked - before.asked >= 4);
		assert_int_equal(after.written - before.written, 1);
	}
	wr_store_close(s);
}

/* Killed right after its commits returned, a process has lost none of them;
 * the transaction it had not committed is gone; the big one (several
 * buffers) is whole. */
static void test_commit_survives_kill(void **state)
{
	struct harness *f = *state;

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct wr_store *s = NULL;
		struct wr_error err = { 0 };
		if (wr_store_open(&s, f->db, &err) || step(s, "small", 0, 1, &err) ||
		    step(s, "big", 300 * 1000, 1, &err) || step(s, "after", 0, 1, &err) ||
		    step(s, "open", 0, 0, &err)) {
			fprintf(stderr, "child: %s\n", err.msg);
			_exit(1);
		}
		/* no close, no exit handlers: as kill -9 leaves it */
		raise(SIGKILL);
		_exit(2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	struct wr_store *s = harness_store_open(f->db);
	assert_int_equal(spec_length(s, "small"), 2);
	assert_int_equal(spec_length(s, "big"), 300 * 1000);
	assert_int_equal(spec_length(s, "after"), 2);
	assert_int_equal(spec_length(s, "open"), -1);
	wr_store_close(s);
}

/* A transaction bigger than SQLite's page cache of cache_pages pages spills
 * pages to the WAL before its commit, reads them back (through the VFS,
 * which must write what it holds first) and rewrites frames it wrote
 * earlier (a write behind what the VFS holds).  Everything reads back within
 * the transaction and after a reopen. */
static void spilled_transaction(const char *path, int cache_pages)
{
	static const char count_sql[] = "SELECT count(*), sum(length(v)), sum(v = zeroblob(700)) FROM t";
	char sql[600];
	sqlite3 *db;
	sqlite3_stmt *st;
	const char *vfs = wr_walbatch_vfs();
	assert_non_null(vfs);
	struct wr_walbatch_counts before = wr_walbatch_counts();
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
			 SQLITE_OK);
	snprintf(sql, sizeof sql,
		 "PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL;"
		 "PRAGMA cache_size = %d; PRAGMA cache_spill = 1;"
		 "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB);"
		 "BEGIN;"
		 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400)"
		 " INSERT INTO t SELECT i, randomblob(600) FROM n;"
		 "UPDATE t SET v = zeroblob(700) WHERE k > 390;"
		 "UPDATE t SET v = zeroblob(700) WHERE k < 3 OR k %% 50 = 0;",
		 cache_pages);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	struct wr_walbatch_counts mid = wr_walbatch_counts();
	for (int reopened = 0; reopened < 2; reopened++) {
		assert_int_equal(sqlite3_prepare_v2(db, count_sql, -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 400);
		/* zeroblob(700): k 391–400, 1, 2 and 50, 100 … 350 (400 is counted) */
		assert_int_equal(sqlite3_column_int(st, 2), 10 + 2 + 7);
		assert_int_equal(sqlite3_column_int(st, 1), 19 * 700 + 381 * 600);
		sqlite3_finalize(st);
		if (reopened)
			break;
		assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
		assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	}
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	/* the spill went to the WAL before the commit */
	assert_true(mid.written > before.written);
}

static void test_spilled_transaction_small_cache(void **state)
{
	struct harness *f = *state;
	spilled_transaction(f->db, 2);
}

static void test_spilled_transaction_rewrites(void **state)
{
	struct harness *f = *state;
	spilled_transaction(f->db, 20);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_write_per_commit),
		T(test_commit_survives_kill),
		T(test_spilled_transaction_small_cache),
		T(test_spilled_transaction_rewrites),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
