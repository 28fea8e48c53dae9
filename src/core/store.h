/* store.h — the SQLite journal and object table behind the lifecycle engine.
 *
 * Two tables: `objects` (the current state of every live sandbox, task and
 * exec) and `journal` (one row per journaled step: intent, outcome, or a
 * transition that runs no action).  The engine writes a step's rows and the
 * object's new state in one transaction, so the object table is always the
 * result of replaying the journal.  States, events and actions are stored by
 * name, not number, so that a spec change that renumbers a chart does not
 * corrupt old databases.
 *
 * Invariants:
 *  - an object whose state is transient has, as its newest journal row, the
 *    intent that moved it there (recovery relies on this);
 *  - an object that reached a terminal state is removed with its journal
 *    rows in the same transaction as the step that got it there.
 *
 * Errors: a database that SQLite cannot read is reported naming the file and
 * is never recreated; a database written by a newer schema is refused; a
 * failed write (disk full, I/O error) fails the call and the caller rolls the
 * transaction back, so nothing half-written survives. */
#ifndef WR_STORE_H
#define WR_STORE_H

#include <stdint.h>

#include "core/error.h"
#include "core/object.h"

#define WR_STORE_SCHEMA_VERSION 2

struct wr_store;
struct sqlite3;

enum wr_phase { WR_PHASE_INTENT = 0, WR_PHASE_OUTCOME = 1, WR_PHASE_TRANSITION = 2 };

struct wr_journal_row {
	int64_t seq;          /* assigned by the store on append */
	int64_t ts;           /* ns since the epoch */
	enum wr_kind kind;
	const char *ns, *id;
	enum wr_phase phase;
	const char *from;     /* state names */
	const char *event;    /* event name */
	const char *action;   /* action name, "" when none */
	const char *to;
	int code;             /* outcome: WR_OK or the action's error code */
	const char *message;  /* outcome: error message, "" when none */
	const char *args;     /* JSON arguments of the event ("" or "{}" when none) */
};

/* Open (creating if absent) the database at `path`.  Refuses a corrupt file or
 * one with a newer schema; migrates an older one. */
int wr_store_open(struct wr_store **out, const char *path, struct wr_error *err);
void wr_store_close(struct wr_store *s);
const char *wr_store_path(const struct wr_store *s);

int wr_store_begin(struct wr_store *s, struct wr_error *err);
int wr_store_commit(struct wr_store *s, struct wr_error *err);
void wr_store_rollback(struct wr_store *s);

/* Insert or replace the object's row (identity kind, ns, id). */
int wr_store_put_object(struct wr_store *s, const struct wr_object *o, struct wr_error *err);
/* Remove the object's row and all its journal rows. */
int wr_store_remove_object(struct wr_store *s, enum wr_kind kind, const char *ns,
			   const char *id, struct wr_error *err);
/* Append a journal row; sets row->seq. */
int wr_store_append(struct wr_store *s, struct wr_journal_row *row, struct wr_error *err);

/* Call cb for every object, in creation order (sandboxes before their tasks,
 * tasks before their execs).  cb takes ownership of the object; a non-zero
 * return from cb stops the walk and is returned. */
typedef int (*wr_store_object_cb)(void *ctx, struct wr_object *o);
int wr_store_load_objects(struct wr_store *s, wr_store_object_cb cb, void *ctx,
			  struct wr_error *err);

/* Call cb for each journal row of one object, oldest first.  The row's
 * strings are valid only during the call. */
typedef int (*wr_store_row_cb)(void *ctx, const struct wr_journal_row *row);
int wr_store_history(struct wr_store *s, enum wr_kind kind, const char *ns, const char *id,
		     wr_store_row_cb cb, void *ctx, struct wr_error *err);

/* The newest journal row of an object, via cb; returns 1 if there is one, 0 if
 * none, -1 on error. */
int wr_store_last_row(struct wr_store *s, enum wr_kind kind, const char *ns, const char *id,
		      wr_store_row_cb cb, void *ctx, struct wr_error *err);

/* Number of journal rows in total (tests and warrenctl). */
int64_t wr_store_journal_count(struct wr_store *s);

/* The raw handle, for tests that inject faults (e.g. max_page_count). */
struct sqlite3 *wr_store_handle(struct wr_store *s);

#endif
