/* store.c — the SQLite journal and object table behind the lifecycle engine
 * (see store.h for the contract).
 *
 * One connection, opened once by the engine and used from its thread only.
 * Every statement the engine runs per step is prepared once at open and kept
 * in `struct wr_store`; each use binds, steps and resets it before returning,
 * so no statement is left mid-walk (which would pin a read transaction) except
 * while a load/history callback runs.
 *
 * Durability: WAL with synchronous=NORMAL (see store_configure), through
 * the walbatch VFS, which writes each commit's frames with one call.  Refusal rules:
 * a file SQLite cannot read (not a database, malformed pages) and a file with a
 * newer schema are refused before anything is written to them, and the store
 * never deletes or recreates the file — only the operator may do that. */
#include "core/store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/stats.h"
#include "core/walbatch.h"

/* How long a statement waits for a lock held by another connection (warrenctl
 * reading the journal, a backup) before failing with WR_UNAVAILABLE. */
#define BUSY_TIMEOUT_MS 5000

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT,
	ST_DEL_OBJECT,
	ST_DEL_JOURNAL,
	ST_APPEND,
	ST_LOAD,
	ST_HISTORY,
	ST_LAST,
	ST_COUNT,
	ST_N
};

/* Column order of ST_LOAD and ST_HISTORY/ST_LAST is relied on by
 * object_of_row and row_of_stmt below. */
static const char *const stmt_sql[ST_N] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	/* Upsert: a new object takes the next creation number; a replaced one
	 * keeps its own (seq is not in the DO UPDATE list), so load order is
	 * creation order however often an object is rewritten. */
	[ST_PUT] = "INSERT INTO objects(kind, ns, id, owner, backend, state, pid, exit_status,"
		   " exited_at, created_at, updated_at, reason, spec, bstate, seq)"
		   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
		   " (SELECT coalesce(max(seq), 0) + 1 FROM objects))"
		   " ON CONFLICT(kind, ns, id) DO UPDATE SET owner = excluded.owner,"
		   " backend = excluded.backend, state = excluded.state, pid = excluded.pid,"
		   " exit_status = excluded.exit_status, exited_at = excluded.exited_at,"
		   " created_at = excluded.created_at, updated_at = excluded.updated_at,"
		   " reason = excluded.reason, spec = excluded.spec, bstate = excluded.bstate",
	[ST_DEL_OBJECT] = "DELETE FROM objects WHERE kind = ?1 AND ns = ?2 AND id = ?3",
	[ST_DEL_JOURNAL] = "DELETE FROM journal WHERE kind = ?1 AND ns = ?2 AND id = ?3",
	[ST_APPEND] = "INSERT INTO journal(ts, kind, ns, id, phase, from_state, event, action,"
		      " to_state, code, message, args, seq)"
		      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_LOAD] = "SELECT kind, ns, id, owner, backend, state, pid, exit_status, exited_at,"
		    " created_at, updated_at, reason, spec, bstate FROM objects ORDER BY seq",
	[ST_HISTORY] = "SELECT seq, ts, phase, from_state, event, action, to_state, code,"
		       " message, args FROM journal WHERE kind = ?1 AND ns = ?2 AND id = ?3"
		       " ORDER BY seq",
	[ST_LAST] = "SELECT seq, ts, phase, from_state, event, action, to_state, code,"
		    " message, args FROM journal WHERE kind = ?1 AND ns = ?2 AND id = ?3"
		    " ORDER BY seq DESC LIMIT 1",
	[ST_COUNT] = "SELECT count(*) FROM journal",
};

struct wr_store {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[ST_N];   /* all prepared once open succeeded */
	int64_t last_seq;         /* the journal's highest seq (read at open) */
	int64_t began_ns;         /* the open transaction's begin (stats), 0: none */
};

static const char *const phase_names[] = {
	[WR_PHASE_INTENT] = "intent",
	[WR_PHASE_OUTCOME] = "outcome",
	[WR_PHASE_TRANSITION] = "transition",
};
#define N_PHASES ((int)(sizeof phase_names / sizeof phase_names[0]))

/* ---- errors ------------------------------------------------------------------ */

/* The advice every "corrupt" message ends with: the store never repairs or
 * replaces the file itself, the operator decides. */
#define CORRUPT_ADVICE "move it aside to start empty, or restore a backup"

/* Fill err from a failed SQLite call that returned `rc`, and return -1.
 * Must run before anything else touches the connection: a later statement
 * (a ROLLBACK in particular) replaces sqlite3_errmsg.  `what` says what the
 * store was doing ("writing sandbox x", "committing"). */
static int db_fail(struct wr_store *s, struct wr_error *err, int rc, const char *what)
{
	/* errmsg describes the connection's latest error; if that is not rc
	 * (rc came from elsewhere), the generic text for rc is more honest. */
	bool ours = (sqlite3_errcode(s->db) & 0xff) == (rc & 0xff);
	char msg[256];
	snprintf(msg, sizeof msg, "%s", ours ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	/* For I/O-level failures the OS error is what the operator needs
	 * ("disk I/O error" alone does not say EIO from ENOSPC from EFBIG). */
	int sys = ours ? sqlite3_system_errno(s->db) : 0;
	if (sys && ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL ||
		    (rc & 0xff) == SQLITE_CANTOPEN)) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof msg - n, " (%s)", strerror(sys));
	}
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED,
				    "no space for database %s while %s: %s", s->path, what, msg);
	case SQLITE_NOMEM:
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED,
				    "out of memory on database %s while %s: %s", s->path, what, msg);
	case SQLITE_TOOBIG:
		return wr_error_set(err, WR_INVALID_ARGUMENT, "database %s: %s: %s", s->path,
				    what, msg);
	case SQLITE_IOERR:
		return wr_error_set(err, WR_INTERNAL, "I/O error on database %s while %s: %s",
				    s->path, what, msg);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return wr_error_set(err, WR_DATA_LOSS,
				    "database %s is corrupt (%s) while %s; " CORRUPT_ADVICE,
				    s->path, msg, what);
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return wr_error_set(err, WR_UNAVAILABLE,
				    "database %s is locked by another connection while %s: %s",
				    s->path, what, msg);
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
	case SQLITE_CANTOPEN:
		return wr_error_set(err, WR_PERMISSION_DENIED, "database %s: cannot write while %s: %s",
				    s->path, what, msg);
	default:
		return wr_error_set(err, WR_INTERNAL, "database %s: failed while %s: %s", s->path,
				    what, msg);
	}
}

/* The refusal at open for a file SQLite cannot read.  `why` is SQLite's own
 * diagnosis ("file is not a database", a quick_check line). */
static int corrupt_at_open(struct wr_store *s, struct wr_error *err, const char *why)
{
	return wr_error_set(err, WR_DATA_LOSS,
			    "database %s is corrupt (%s); refusing to start: " CORRUPT_ADVICE, s->path,
			    why);
}

/* Any failure during open: corruption gets the refusal message, anything else
 * the ordinary mapping. */
static int open_fail(struct wr_store *s, struct wr_error *err, int rc, const char *what)
{
	if ((rc & 0xff) == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
		return corrupt_at_open(s, err, sqlite3_errmsg(s->db));
	return db_fail(s, err, rc, what);
}

/* sqlite3_open_v2 failed: say why in terms of the path.  A missing parent
 * directory is the common case (the caller creates it, not the store). */
static int cannot_open(struct wr_store *s, struct wr_error *err, int rc)
{
	const char *slash = strrchr(s->path, '/');
	char dir[4096];
	struct stat sb;

	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == s->path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - s->path), s->path);
	if (stat(dir, &sb) < 0)
		return wr_error_errno(err, errno, "cannot open database %s: directory %s", s->path,
				      dir);
	if (!S_ISDIR(sb.st_mode))
		return wr_error_errno(err, ENOTDIR, "cannot open database %s: %s", s->path, dir);
	int sys = s->db ? sqlite3_system_errno(s->db) : 0;
	if (sys)
		return wr_error_errno(err, sys, "cannot open database %s", s->path);
	return wr_error_set(err, WR_INTERNAL, "cannot open database %s: %s", s->path,
			    s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* ---- small helpers ------------------------------------------------------------ */

/* Reset a cached statement and drop its bindings: the bound strings are the
 * caller's (SQLITE_STATIC) and may be freed as soon as we return. */
static void done_with(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int bind_str(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v ? v : "", -1, SQLITE_STATIC);
}

/* A text column, "" for NULL. */
static const char *col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

/* Step a cached statement that returns no rows, then reset it. */
static int run(struct wr_store *s, sqlite3_stmt *st, const char *what, struct wr_error *err)
{
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		db_fail(s, err, rc, what);
		done_with(st);
		return -1;
	}
	done_with(st);
	return 0;
}

/* A bind call failed (out of memory, string too big): its code is the
 * connection's latest error. */
static int bind_fail(struct wr_store *s, sqlite3_stmt *st, const char *what,
		     struct wr_error *err)
{
	int rc = sqlite3_errcode(s->db);
	db_fail(s, err, rc == SQLITE_OK ? SQLITE_NOMEM : rc, what);
	done_with(st);
	return -1;
}

/* Run SQL text with no result rows wanted (pragmas, schema), open-time only. */
static int exec_sql(struct wr_store *s, const char *sql, const char *what, struct wr_error *err)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : open_fail(s, err, rc, what);
}

/* The first column of the first row of `sql`, as an integer (0 when no row)
 * or, when `text` is given, as a string copied into it. */
static int query_one(struct wr_store *s, const char *sql, int64_t *num, char *text, size_t len,
		     const char *what, struct wr_error *err)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return open_fail(s, err, rc, what);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (num)
			*num = sqlite3_column_int64(st, 0);
		if (text)
			snprintf(text, len, "%s", col_str(st, 0));
	} else if (rc == SQLITE_DONE) {
		if (num)
			*num = 0;
		if (text)
			text[0] = '\0';
	} else {
		open_fail(s, err, rc, what);
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

/* ---- schema ------------------------------------------------------------------- */

/* Schema v1.  States, events and actions are names (see store.h).  objects.seq
 * is the creation number that orders load_objects (unique: the upsert takes
 * max + 1 inside a write transaction).  journal.seq is AUTOINCREMENT so a
 * number is never reused after remove_object deletes the newest rows: the
 * journal's order is the order steps happened, across deletions. */
static int migrate_0_to_1(struct wr_store *s, struct wr_error *err)
{
	static const char sql[] =
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
		"CREATE INDEX journal_by_object ON journal(kind, ns, id, seq);";
	return exec_sql(s, sql, "creating schema version 1", err);
}

/* migrations[v] takes a database from schema version v to v + 1; they run in
 * order, all in one transaction with the user_version update, so a database is
 * at exactly one version.  Append only: never edit a migration that shipped,
 * databases out there already ran it. */
/* Schema v2: the journal clustered by object.  v1's journal was a rowid
 * table (seq AUTOINCREMENT) with an index on (kind, ns, id, seq), so every
 * appended row wrote three b-tree pages — the table's, the index's and
 * sqlite_sequence's — besides the object's: four WAL frames per step.  Keyed
 * by (kind, ns, id, seq) WITHOUT ROWID, a row is one page, next to the rest
 * of its object's history, which is how it is read (history, last row) and
 * removed.  seq is now the store's: one more than the highest in the file
 * (read at open), so numbers stay increasing in the order steps happened;
 * those of removed rows may be used again after a restart. */
static int migrate_1_to_2(struct wr_store *s, struct wr_error *err)
{
	static const char sql[] =
		"CREATE TABLE journal_v2 ("
		" kind TEXT NOT NULL, ns TEXT NOT NULL, id TEXT NOT NULL, seq INTEGER NOT NULL,"
		" ts INTEGER NOT NULL,"
		" phase TEXT NOT NULL CHECK (phase IN ('intent', 'outcome', 'transition')),"
		" from_state TEXT NOT NULL, event TEXT NOT NULL, action TEXT NOT NULL DEFAULT '',"
		" to_state TEXT NOT NULL, code INTEGER NOT NULL DEFAULT 0,"
		" message TEXT NOT NULL DEFAULT '', args TEXT NOT NULL DEFAULT '',"
		" PRIMARY KEY (kind, ns, id, seq)) WITHOUT ROWID;"
		"INSERT INTO journal_v2(kind, ns, id, seq, ts, phase, from_state, event, action,"
		" to_state, code, message, args)"
		" SELECT kind, ns, id, seq, ts, phase, from_state, event, action, to_state, code,"
		" message, args FROM journal;"
		"DROP TABLE journal;"
		"ALTER TABLE journal_v2 RENAME TO journal;"
		"DELETE FROM sqlite_sequence WHERE name = 'journal';";
	return exec_sql(s, sql, "clustering the journal by object (schema version 2)", err);
}

typedef int (*migration_fn)(struct wr_store *s, struct wr_error *err);
static const migration_fn migrations[] = {
	migrate_0_to_1,
	migrate_1_to_2,
};
_Static_assert(sizeof migrations / sizeof migrations[0] == WR_STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* Read user_version and decide whether this warren may use the database.
 * Version 0 with tables in it is some other program's database: refused, as
 * warren's own creation sets the version in the transaction that creates the
 * tables, so a warren database is never at 0 with tables. */
static int check_version(struct wr_store *s, int64_t *version, struct wr_error *err)
{
	int64_t v, tables;
	if (query_one(s, "PRAGMA user_version", &v, NULL, 0, "reading the schema version", err))
		return -1;
	if (v > WR_STORE_SCHEMA_VERSION)
		return wr_error_set(err, WR_FAILED_PRECONDITION,
				    "database %s has schema version %lld, newer than this warren "
				    "supports (%d); upgrade warren",
				    s->path, (long long)v, WR_STORE_SCHEMA_VERSION);
	if (v < 0)
		return wr_error_set(err, WR_FAILED_PRECONDITION,
				    "database %s has schema version %lld, which no warren writes; "
				    "refusing to use it",
				    s->path, (long long)v);
	if (v == 0) {
		if (query_one(s, "SELECT count(*) FROM sqlite_schema", &tables, NULL, 0,
			      "reading the schema", err))
			return -1;
		if (tables > 0)
			return wr_error_set(err, WR_FAILED_PRECONDITION,
					    "database %s has tables but no warren schema version; "
					    "it is not a warren database, refusing to change it",
					    s->path);
	}
	*version = v;
	return 0;
}

/* Bring an older (or empty) database to WR_STORE_SCHEMA_VERSION. */
static int migrate(struct wr_store *s, struct wr_error *err)
{
	int64_t v;
	char sql[64];

	if (exec_sql(s, "BEGIN IMMEDIATE", "starting the schema migration", err))
		return -1;
	/* Re-read under the write lock: the version checked before may be stale
	 * if another process migrated in between. */
	if (check_version(s, &v, err))
		goto fail;
	for (int64_t i = v; i < WR_STORE_SCHEMA_VERSION; i++) {
		if (migrations[i](s, err) < 0) {
			wr_error_wrap(err, "migrating database %s from schema version %lld",
				      s->path, (long long)i);
			goto fail;
		}
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", WR_STORE_SCHEMA_VERSION);
	if (exec_sql(s, sql, "setting the schema version", err) ||
	    exec_sql(s, "COMMIT", "committing the schema migration", err))
		goto fail;
	return 0;
fail:
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Refuse a file SQLite cannot read.  The first read of a non-database fails
 * with SQLITE_NOTADB, of a damaged one usually with SQLITE_CORRUPT; quick_check
 * also walks every b-tree page, which catches damage in pages the first read
 * does not touch (a truncated file, an overwritten page).  It reads only. */
static int check_readable(struct wr_store *s, struct wr_error *err)
{
	sqlite3_stmt *st;
	char first[256];
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return open_fail(s, err, rc, "checking integrity");
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		open_fail(s, err, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc, "checking integrity");
		sqlite3_finalize(st);
		return -1;
	}
	snprintf(first, sizeof first, "%s", col_str(st, 0));
	sqlite3_finalize(st);
	if (strcmp(first, "ok") != 0) {
		/* The first report reads "*** in database main ***\nPage 4: ...":
		 * drop the banner and keep the message on one line. */
		static const char banner[] = "*** in database main ***\n";
		const char *p = strncmp(first, banner, sizeof banner - 1) ? first
									 : first + sizeof banner - 1;
		char why[300];
		snprintf(why, sizeof why, "quick_check: %s", p);
		for (char *c = why; *c; c++)
			if (*c == '\n')
				*c = ' ';
		return corrupt_at_open(s, err, why);
	}
	return 0;
}

/* Journaling and durability.  Set only after the file passed the checks: a
 * refused file is left exactly as it was found. */
static int store_configure(struct wr_store *s, struct wr_error *err)
{
	char mode[32];

	/* WAL: a commit appends to the -wal file instead of rewriting pages
	 * under a rollback journal, so a commit is one sequential write with
	 * no fsync (see synchronous below).  The mode is persistent in the
	 * file header. */
	if (query_one(s, "PRAGMA journal_mode = WAL", NULL, mode, sizeof mode,
		      "enabling WAL journaling", err))
		return -1;
	/* An in-memory database (":memory:", tests) reports "memory": no
	 * durability is promised for it anyway. */
	const char *file = sqlite3_db_filename(s->db, "main");
	if (strcmp(mode, "wal") != 0 && file && *file)
		return wr_error_set(err, WR_FAILED_PRECONDITION,
				    "database %s cannot use WAL journaling (journal mode is '%s'); "
				    "is it on a filesystem without shared-memory support?",
				    s->path, mode);
	/* synchronous=NORMAL: in WAL mode a commit is a write() to the WAL and
	 * fsyncs happen only at checkpoints.  That is durable against what the
	 * journal is for — warrend's own crash, kill -9, an upgrade: the WAL is
	 * in the page cache the next core reads — and the database stays
	 * consistent through a power loss, which may only drop the last
	 * commits.  Those describe processes, mounts and namespaces the power
	 * loss ended too; recovery after the reboot finds them gone and marks
	 * them Lost, as it would with every commit kept.  FULL (an fsync per
	 * commit) cost 5–10 ms and one blocked core per pod start on the VM
	 * disks of these machines.  Per connection, so set on every open. */
	if (exec_sql(s, "PRAGMA synchronous = NORMAL", "setting synchronous=NORMAL", err))
		return -1;
	/* The schema declares no foreign keys; say so rather than depend on the
	 * compile-time default. */
	return exec_sql(s, "PRAGMA foreign_keys = OFF", "setting foreign_keys", err);
}

/* ---- open / close ------------------------------------------------------------- */

int wr_store_open(struct wr_store **out, const char *path, struct wr_error *err)
{
	struct wr_store *s;
	int64_t version;
	int rc;

	*out = NULL;
	if (!path || !*path)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "no database path given");
	s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory opening database %s",
				    path);
	}
	/* the WAL's frames go to the kernel one write per commit (walbatch.h) */
	rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			     wr_walbatch_vfs());
	if (rc != SQLITE_OK) {
		cannot_open(s, err, rc);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* EXCLUSIVE locking: the core is the database's only user (warrenctl
	 * asks the core, never the file), so the first write takes the lock
	 * and keeps it until close.  A commit then does no fcntl lock calls
	 * (six per commit otherwise) and, set before the WAL is first read,
	 * the WAL index lives in the heap instead of a mapped -shm file.  A
	 * second warrend on the same root waits BUSY_TIMEOUT_MS for the lock
	 * and fails instead of interleaving its steps.  Touches no file. */
	if (exec_sql(s, "PRAGMA locking_mode = EXCLUSIVE", "setting exclusive locking", err))
		goto fail;
	/* SQLite silently falls back to read-only when it may not write the
	 * file; every engine step would then fail, so fail now instead. */
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		wr_error_set(err, WR_PERMISSION_DENIED,
			     "database %s is read-only (check its permissions and those of its "
			     "directory); warren must write it",
			     path);
		goto fail;
	}
	/* Order matters: nothing may write the file before it is known to be a
	 * readable warren database of a version we understand. */
	if (check_readable(s, err) || check_version(s, &version, err) || store_configure(s, err))
		goto fail;
	if (version < WR_STORE_SCHEMA_VERSION && migrate(s, err))
		goto fail;
	for (int i = 0; i < ST_N; i++) {
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
					NULL);
		if (rc != SQLITE_OK) {
			open_fail(s, err, rc, "preparing statements");
			goto fail;
		}
	}
	if (query_one(s, "SELECT coalesce(max(seq), 0) FROM journal", &s->last_seq, NULL, 0,
		      "reading the journal's last number", err))
		goto fail;
	*out = s;
	return 0;
fail:
	wr_store_close(s);
	return -1;
}

void wr_store_close(struct wr_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_N; i++)
		sqlite3_finalize(s->st[i]);
	/* An open transaction is rolled back by the close; the last connection
	 * checkpoints the WAL into the main file. */
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

const char *wr_store_path(const struct wr_store *s)
{
	return s->path;
}

struct sqlite3 *wr_store_handle(struct wr_store *s)
{
	return s->db;
}

/* ---- transactions ------------------------------------------------------------- */

/* IMMEDIATE takes the write lock now, so a step never fails half-way through
 * its writes on a lock held by another connection. */
int wr_store_begin(struct wr_store *s, struct wr_error *err)
{
	s->began_ns = wr_monotonic_ns();
	return run(s, s->st[ST_BEGIN], "beginning a transaction", err);
}

/* The transaction begun at began_ns ended: its time to the counters. */
static void ended(struct wr_store *s, int committed)
{
	if (s->began_ns)
		wr_stats_journal(s->began_ns, committed);
	s->began_ns = 0;
}

int wr_store_commit(struct wr_store *s, struct wr_error *err)
{
	sqlite3_stmt *st = s->st[ST_COMMIT];
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done_with(st);
		ended(s, 1);
		return 0;
	}
	db_fail(s, err, rc, "committing");
	done_with(st);
	/* A failed COMMIT may leave the transaction open (SQLITE_BUSY) or may
	 * have rolled it back already (SQLITE_FULL, SQLITE_IOERR): either way
	 * nothing of it is durable, and after this nothing of it is pending. */
	wr_store_rollback(s);
	return -1;
}

/* Safe to call when no transaction is open: the engine calls it after any
 * failure of begin/write/commit, and SQLite itself ends the transaction on
 * some errors. */
void wr_store_rollback(struct wr_store *s)
{
	if (!s)
		return;
	ended(s, 0);
	if (sqlite3_get_autocommit(s->db))
		return;
	sqlite3_stmt *st = s->st[ST_ROLLBACK];
	int rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		fprintf(stderr, "warren: database %s: rollback failed: %s\n", s->path,
			sqlite3_errmsg(s->db));
	done_with(st);
}

/* ---- writes ------------------------------------------------------------------- */

int wr_store_put_object(struct wr_store *s, const struct wr_object *o, struct wr_error *err)
{
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	sqlite3_stmt *st = s->st[ST_PUT];
	char what[160];

	if (!lc)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "object %s has invalid kind %d",
				    o->id ? o->id : "", (int)o->kind);
	if (o->state < 0 || o->state >= lc->n_states)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "%s %s: state %d out of range",
				    lc->name, o->id ? o->id : "", o->state);
	snprintf(what, sizeof what, "writing %s %s", lc->name, o->id ? o->id : "");
	if (bind_str(st, 1, wr_kind_name(o->kind)) || bind_str(st, 2, o->ns) ||
	    bind_str(st, 3, o->id) || bind_str(st, 4, o->owner) || bind_str(st, 5, o->backend) ||
	    bind_str(st, 6, lc->state_names[o->state]) || sqlite3_bind_int(st, 7, o->pid) ||
	    sqlite3_bind_int(st, 8, o->exit_status) || sqlite3_bind_int64(st, 9, o->exited_at) ||
	    sqlite3_bind_int64(st, 10, o->created_at) || sqlite3_bind_int64(st, 11, o->updated_at) ||
	    bind_str(st, 12, o->reason) || bind_str(st, 13, o->spec) || bind_str(st, 14, o->bstate))
		return bind_fail(s, st, what, err);
	return run(s, st, what, err);
}

static int bind_identity(sqlite3_stmt *st, enum wr_kind kind, const char *ns, const char *id)
{
	return bind_str(st, 1, wr_kind_name(kind)) || bind_str(st, 2, ns) || bind_str(st, 3, id);
}

/* Both deletes or neither: inside the caller's transaction when there is one,
 * else in one of our own. */
int wr_store_remove_object(struct wr_store *s, enum wr_kind kind, const char *ns,
			   const char *id, struct wr_error *err)
{
	bool own = sqlite3_get_autocommit(s->db);
	char what[160];

	snprintf(what, sizeof what, "removing %s %s", wr_kind_name(kind), id ? id : "");
	if (own && wr_store_begin(s, err))
		return -1;
	for (int i = ST_DEL_OBJECT; i <= ST_DEL_JOURNAL; i++) {
		sqlite3_stmt *st = s->st[i];
		if (bind_identity(st, kind, ns, id)) {
			bind_fail(s, st, what, err);
			goto fail;
		}
		if (run(s, st, what, err))
			goto fail;
	}
	if (own && wr_store_commit(s, err))
		return -1;
	return 0;
fail:
	if (own)
		wr_store_rollback(s);
	return -1;
}

int wr_store_append(struct wr_store *s, struct wr_journal_row *row, struct wr_error *err)
{
	sqlite3_stmt *st = s->st[ST_APPEND];
	char what[160];

	if ((unsigned)row->kind >= WR_KIND_COUNT)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "journal row for %s has invalid kind %d",
				    row->id ? row->id : "", (int)row->kind);
	if ((unsigned)row->phase >= (unsigned)N_PHASES)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "journal row for %s %s has invalid phase %d",
				    wr_kind_name(row->kind), row->id ? row->id : "", (int)row->phase);
	snprintf(what, sizeof what, "journaling %s of %s %s", phase_names[row->phase],
		 wr_kind_name(row->kind), row->id ? row->id : "");
	if (row->ts == 0)
		row->ts = wr_now_ns();
	if (sqlite3_bind_int64(st, 1, row->ts) || bind_str(st, 2, wr_kind_name(row->kind)) ||
	    bind_str(st, 3, row->ns) || bind_str(st, 4, row->id) ||
	    bind_str(st, 5, phase_names[row->phase]) || bind_str(st, 6, row->from) ||
	    bind_str(st, 7, row->event) || bind_str(st, 8, row->action) || bind_str(st, 9, row->to) ||
	    sqlite3_bind_int(st, 10, row->code) || bind_str(st, 11, row->message) ||
	    bind_str(st, 12, row->args) || sqlite3_bind_int64(st, 13, s->last_seq + 1))
		return bind_fail(s, st, what, err);
	if (run(s, st, what, err))
		return -1;
	/* a rolled-back step leaves a gap; numbers only ever increase */
	row->seq = ++s->last_seq;
	return 0;
}

/* ---- reads -------------------------------------------------------------------- */

/* Walks reuse their cached statement, so a callback may not start the same
 * walk again (it would restart the statement under the outer loop). */
static int busy(struct wr_store *s, sqlite3_stmt *st, const char *what, struct wr_error *err)
{
	if (!sqlite3_stmt_busy(st))
		return 0;
	return wr_error_set(err, WR_FAILED_PRECONDITION, "database %s: %s called from its own callback",
			    s->path, what);
}

/* Build an object from the current ST_LOAD row.  A kind or state name this
 * warren does not know means the file was written by another chart: data
 * this process cannot interpret, so refused rather than guessed. */
static int object_of_row(struct wr_store *s, sqlite3_stmt *st, struct wr_object **out,
			 struct wr_error *err)
{
	const char *kname = col_str(st, 0), *ns = col_str(st, 1), *id = col_str(st, 2);
	const char *sname = col_str(st, 5);
	int kind = wr_kind_by_name(kname);
	if (kind < 0)
		return wr_error_set(err, WR_DATA_LOSS,
				    "database %s: object %s (namespace %s) has unknown kind '%s'",
				    s->path, id, ns, kname);
	const struct wr_lifecycle *lc = wr_lifecycle_of(kind);
	int state = wr_lc_state_by_name(lc, sname);
	if (state < 0)
		return wr_error_set(err, WR_DATA_LOSS,
				    "database %s: %s %s (namespace %s) is in unknown state '%s'",
				    s->path, lc->name, id, ns, sname);

	struct wr_object *o = wr_object_new(kind, ns, id, col_str(st, 3), col_str(st, 4));
	if (!o)
		goto oom;
	o->state = state;
	o->pid = sqlite3_column_int(st, 6);
	o->exit_status = sqlite3_column_int(st, 7);
	o->exited_at = sqlite3_column_int64(st, 8);
	o->created_at = sqlite3_column_int64(st, 9);
	o->updated_at = sqlite3_column_int64(st, 10);
	if (wr_object_set(&o->reason, col_str(st, 11)) || wr_object_set(&o->spec, col_str(st, 12)) ||
	    wr_object_set(&o->bstate, col_str(st, 13))) {
		wr_object_free(o);
		goto oom;
	}
	*out = o;
	return 0;
oom:
	return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "database %s: out of memory loading %s %s",
			    s->path, lc->name, id);
}

int wr_store_load_objects(struct wr_store *s, wr_store_object_cb cb, void *ctx,
			  struct wr_error *err)
{
	sqlite3_stmt *st = s->st[ST_LOAD];
	int rc, ret = 0;

	if (busy(s, st, "load_objects", err))
		return -1;
	/* A callback may fail without filling err (the engine's does): leave
	 * no stale code behind for the caller to misread. */
	wr_error_clear(err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct wr_object *o = NULL;
		if (object_of_row(s, st, &o, err) < 0) {
			ret = -1;
			break;
		}
		ret = cb(ctx, o);
		if (ret != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_fail(s, err, rc, "loading objects");
	done_with(st);
	return ret;
}

/* Fill row from the current ST_HISTORY/ST_LAST row; strings point into the
 * statement and are valid until it is stepped or reset. */
static int row_of_stmt(struct wr_store *s, sqlite3_stmt *st, enum wr_kind kind, const char *ns,
		       const char *id, struct wr_journal_row *row, struct wr_error *err)
{
	const char *phase = col_str(st, 2);
	int p = -1;
	for (int i = 0; i < N_PHASES; i++)
		if (strcmp(phase, phase_names[i]) == 0)
			p = i;
	if (p < 0)
		return wr_error_set(err, WR_DATA_LOSS,
				    "database %s: journal row %lld of %s %s has unknown phase '%s'",
				    s->path, (long long)sqlite3_column_int64(st, 0), wr_kind_name(kind),
				    id, phase);
	*row = (struct wr_journal_row){
		.seq = sqlite3_column_int64(st, 0),
		.ts = sqlite3_column_int64(st, 1),
		.kind = kind,
		.ns = ns,
		.id = id,
		.phase = (enum wr_phase)p,
		.from = col_str(st, 3),
		.event = col_str(st, 4),
		.action = col_str(st, 5),
		.to = col_str(st, 6),
		.code = sqlite3_column_int(st, 7),
		.message = col_str(st, 8),
		.args = col_str(st, 9),
	};
	return 0;
}

/* Shared by history (every row, cb may stop the walk with a non-zero return,
 * which is returned) and last_row (at most one row; returns 1/0). */
static int walk_rows(struct wr_store *s, enum stmt_id which, enum wr_kind kind, const char *ns,
		     const char *id, wr_store_row_cb cb, void *ctx, struct wr_error *err)
{
	sqlite3_stmt *st = s->st[which];
	const char *name = which == ST_LAST ? "last_row" : "history";
	char what[160];
	int rc, ret = 0, rows = 0;

	if ((unsigned)kind >= WR_KIND_COUNT)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "%s: invalid kind %d", name, (int)kind);
	if (busy(s, st, name, err))
		return -1;
	snprintf(what, sizeof what, "reading the journal of %s %s", wr_kind_name(kind),
		 id ? id : "");
	if (bind_identity(st, kind, ns, id))
		return bind_fail(s, st, what, err);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct wr_journal_row row;
		if (row_of_stmt(s, st, kind, ns ? ns : "", id ? id : "", &row, err) < 0) {
			ret = -1;
			break;
		}
		rows++;
		ret = cb(ctx, &row);
		if (which == ST_LAST) {
			ret = 1;
			break;
		}
		if (ret != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = db_fail(s, err, rc, what);
	done_with(st);
	if (which == ST_LAST && ret >= 0)
		return rows > 0;
	return ret;
}

int wr_store_history(struct wr_store *s, enum wr_kind kind, const char *ns, const char *id,
		     wr_store_row_cb cb, void *ctx, struct wr_error *err)
{
	return walk_rows(s, ST_HISTORY, kind, ns, id, cb, ctx, err);
}

/* cb's return value is ignored: the result says only whether a row exists. */
int wr_store_last_row(struct wr_store *s, enum wr_kind kind, const char *ns, const char *id,
		      wr_store_row_cb cb, void *ctx, struct wr_error *err)
{
	return walk_rows(s, ST_LAST, kind, ns, id, cb, ctx, err);
}

int64_t wr_store_journal_count(struct wr_store *s)
{
	sqlite3_stmt *st = s->st[ST_COUNT];
	int64_t n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	done_with(st);
	return n;
}
