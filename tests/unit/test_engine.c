/* test_engine.c — unit tests of dispatch: legality, journaled steps, errors,
 * batching, notifications. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/stats.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "tests/support/harness.h"


struct rows {
	char text[2048];
};

static int add_row(void *ctx, const struct wr_journal_row *r)
{
	struct rows *x = ctx;
	size_t n = strlen(x->text);
	static const char *phase[] = { "intent", "outcome", "transition" };
	snprintf(x->text + n, sizeof x->text - n, "%s %s-%s-%s:%s;", phase[r->phase], r->from,
		 r->event, r->to, r->action);
	return 0;
}

static void test_journaled_steps(void **state)
{
	struct harness *h = *state;
	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sb");
	struct wr_error err;
	struct wr_stats before, after;
	wr_stats_read(&before);
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, NULL, &err), 0);
	assert_int_equal(sb->state, SANDBOX_S_READY);
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_WAIT, NULL, &err), 0); /* no row */
	/* warrend's counters (warrenctl stats): one action, an intent and an
	 * outcome commit; Wait ran nothing and wrote nothing */
	wr_stats_read(&after);
	assert_int_equal(after.actions - before.actions, 1);
	assert_int_equal(after.journal_commits - before.journal_commits, 2);
	assert_true(after.action_ns > before.action_ns && after.journal_ns > before.journal_ns);
	struct rows r = { "" };
	assert_int_equal(wr_store_history(wr_engine_store(h->engine), WR_KIND_SANDBOX, "test", "sb",
					  add_row, &r, &err), 0);
	assert_string_equal(r.text, "intent absent-Create-creating:create;"
				    "outcome creating-Done-created:;"
				    "intent created-Start-starting:start;"
				    "outcome starting-Done-ready:;");
	char world[32];
	wr_fake_state(h->fake, WR_KIND_SANDBOX, "test", "sb", world, sizeof world);
	assert_string_equal(world, "running");
}

static void test_illegal_changes_nothing(void **state)
{
	struct harness *h = *state;
	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sb");
	struct wr_error err;
	int64_t rows = wr_store_journal_count(wr_engine_store(h->engine));
	int calls = wr_fake_calls(h->fake, WR_KIND_SANDBOX, NULL);
	/* Exit is a world event the chart allows only in ready. */
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_EXIT, NULL, &err), -1);
	assert_int_equal(err.code, WR_FAILED_PRECONDITION);
	assert_string_equal(err.msg, "sandbox sb is created: Exit is not allowed in that state");
	assert_int_equal(sb->state, SANDBOX_S_CREATED);
	assert_int_equal(wr_store_journal_count(wr_engine_store(h->engine)), rows);
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, NULL), calls);
}

static void test_create_errors(void **state)
{
	struct harness *h = *state;
	struct wr_error err;
	harness_make(h, WR_KIND_SANDBOX, "dup");
	assert_int_equal(wr_create(h->engine, harness_object(WR_KIND_SANDBOX, "dup"), NULL, NULL, &err), -1);
	assert_int_equal(err.code, WR_ALREADY_EXISTS);
	assert_string_equal(err.msg, "sandbox dup already exists");

	int64_t rows = wr_store_journal_count(wr_engine_store(h->engine));
	struct wr_object *o = wr_object_new(WR_KIND_SANDBOX, "test", "nob", "", "no-such-backend");
	assert_int_equal(wr_create(h->engine, o, NULL, NULL, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "no-such-backend"));
	assert_int_equal(wr_store_journal_count(wr_engine_store(h->engine)), rows);
	assert_null(wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "nob"));

	/* An object the engine does not know. */
	struct wr_object *ghost = harness_object(WR_KIND_TASK, "ghost");
	assert_int_equal(wr_dispatch(h->engine, ghost, TASK_E_START, NULL, &err), -1);
	assert_int_equal(err.code, WR_NOT_FOUND);
	wr_object_free(ghost);
}

static void test_failed_action(void **state)
{
	struct harness *h = *state;
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	struct wr_error err;
	wr_fake_fail(h->fake, WR_KIND_TASK, "start", WR_INVALID_ARGUMENT, 1);
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "injected failure"));
	/* The chart sends a failed start to stopped, with the cause as reason. */
	assert_int_equal(t->state, TASK_S_STOPPED);
	assert_non_null(strstr(t->reason, "injected failure"));
	/* A failed create leaves no object. */
	wr_fake_fail(h->fake, WR_KIND_TASK, "create", WR_INTERNAL, 1);
	assert_int_equal(wr_create(h->engine, harness_object(WR_KIND_TASK, "t2"), NULL, NULL, &err), -1);
	assert_null(wr_engine_find(h->engine, WR_KIND_TASK, "test", "t2"));
	char world[32];
	wr_fake_state(h->fake, WR_KIND_TASK, "test", "t2", world, sizeof world);
	assert_string_equal(world, "");
}

/* Start sb with the database capped at the pages it has now and arguments
 * (200 kB) that a journal row cannot hold in the space left: the step fails
 * with "nothing changed", sb stays created and the journal keeps its rows.
 * The cap is lifted again afterwards. */
static void start_with_full_journal(struct harness *h, struct wr_object *sb)
{
	struct wr_error err;
	sqlite3 *db = wr_store_handle(wr_engine_store(h->engine));
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA max_page_count = %d", sqlite3_column_int(st, 0));
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	static char big[200000];
	memset(big, 'x', sizeof big - 1);
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "padding", json_object_new_string(big));

	int64_t rows = wr_store_journal_count(wr_engine_store(h->engine));
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, args, &err), -1);
	json_object_put(args);
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	assert_non_null(strstr(err.msg, "nothing changed"));
	assert_int_equal(sb->state, SANDBOX_S_CREATED);
	assert_int_equal(wr_store_journal_count(wr_engine_store(h->engine)), rows);
	assert_int_equal(sqlite3_exec(db, "PRAGMA max_page_count = 1000000", NULL, NULL, NULL),
			 SQLITE_OK);
}

static void test_journal_full_changes_nothing(void **state)
{
	struct harness *h = *state;
	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sb");
	struct wr_error err;
	/* The intent cannot be written: the action does not run either. */
	int calls = wr_fake_calls(h->fake, WR_KIND_SANDBOX, NULL);
	start_with_full_journal(h, sb);
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, NULL), calls);

	/* Space again: the same event goes through. */
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, NULL, &err), 0);
	assert_int_equal(sb->state, SANDBOX_S_READY);
}

struct notes {
	char text[1024];
};

static void note(void *ctx, const struct wr_object *o, int from, int event, int to)
{
	struct notes *n = ctx;
	const struct wr_lifecycle *lc = wr_lifecycle_of(o->kind);
	size_t len = strlen(n->text);
	snprintf(n->text + len, sizeof n->text - len, "%s:%s-%s-%s;", o->id, lc->state_names[from],
		 lc->event_names[event], lc->state_names[to]);
}

static void test_batch_and_notifications(void **state)
{
	struct harness *h = *state;
	static struct notes n;
	memset(&n, 0, sizeof n);
	harness_shut(h);
	h->cfg.on_transition = note;
	h->cfg.on_transition_ctx = &n;
	harness_open(h);

	/* Create and Start of one object plus a create of another, queued
	 * together: the second event of "a" waits for the next batch. */
	struct wr_error results[3];
	struct wr_object *a = harness_object(WR_KIND_TASK, "a");
	wr_engine_submit_create(h->engine, a, NULL, NULL, NULL);
	wr_engine_submit_create(h->engine, harness_object(WR_KIND_TASK, "b"), NULL, NULL, NULL);
	wr_engine_submit(h->engine, a, TASK_E_START, NULL, NULL, NULL);
	(void)results;
	assert_true(wr_engine_pending(h->engine));
	assert_int_equal(wr_engine_flush(h->engine), 3);
	assert_false(wr_engine_pending(h->engine));
	assert_int_equal(wr_engine_find(h->engine, WR_KIND_TASK, "test", "a")->state, TASK_S_RUNNING);
	assert_int_equal(wr_engine_find(h->engine, WR_KIND_TASK, "test", "b")->state, TASK_S_CREATED);
	assert_string_equal(n.text, "a:absent-Create-created;b:absent-Create-created;a:created-Start-running;");

	/* Exit, then Delete: the object is gone and announced as deleted. */
	struct wr_error err;
	struct json_object *args = json_tokener_parse("{\"exit_status\":7}");
	a = wr_engine_find(h->engine, WR_KIND_TASK, "test", "a");
	assert_int_equal(wr_dispatch(h->engine, a, TASK_E_EXIT, args, &err), 0);
	json_object_put(args);
	assert_int_equal(a->exit_status, 7);
	assert_int_equal(wr_dispatch(h->engine, a, TASK_E_DELETE, NULL, &err), 0);
	assert_null(wr_engine_find(h->engine, WR_KIND_TASK, "test", "a"));
	assert_non_null(strstr(n.text, "a:running-Exit-stopped;a:stopped-Delete-deleted;"));
	h->cfg.on_transition = NULL;
}

static void test_many_objects_one_batch(void **state)
{
	struct harness *h = *state;
	char id[32];
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "o%d", i);
		wr_engine_submit_create(h->engine, harness_object(WR_KIND_SANDBOX, id), NULL, NULL, NULL);
	}
	assert_int_equal(wr_engine_flush(h->engine), 300);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "o%d", i);
		struct wr_object *o = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", id);
		assert_non_null(o);
		assert_int_equal(o->state, SANDBOX_S_CREATED);
	}
	/* They survive a reopen. */
	harness_shut(h);
	harness_open(h);
	assert_int_equal(wr_engine_recovery(h->engine)->examined, 300);
	assert_non_null(wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "o299"));
}

/* ---- a backend that runs batches (run_actions) ------------------------------------ */

static int batch_calls, batch_items;

/* Records each batch, then runs its items one by one in order. */
static void run_in_order(struct wr_backend *b, struct wr_action_item *items, size_t n)
{
	batch_calls++;
	batch_items += (int)n;
	for (size_t i = 0; i < n; i++)
		wr_backend_run(b, items[i].o, items[i].action, items[i].args, items[i].result);
}

static void count_done(void *ctx, struct wr_object *o, const struct wr_error *r)
{
	(void)o;
	int *failed = ctx;
	*failed += r->code != WR_OK;
}

/* The actions of one batch reach a backend with run_actions in one call;
 * each gets its own outcome (one failing changes nothing for the others);
 * a batch of one action goes the usual way. */
static void test_batch_to_backend(void **state)
{
	struct harness *h = *state;
	/* the fake backend's ops are its own copy (fake.c) */
	struct wr_backend_ops *ops = (struct wr_backend_ops *)h->fake->ops;
	ops->run_actions = run_in_order;
	batch_calls = batch_items = 0;

	struct wr_object *t[3];
	const char *ids[] = { "b1", "b2", "b3" };
	for (int i = 0; i < 3; i++)
		t[i] = harness_make(h, WR_KIND_TASK, ids[i]);   /* one batch each */
	assert_int_equal(batch_calls, 0);

	int failed = 0;
	wr_fake_fail(h->fake, WR_KIND_TASK, "start", WR_UNAVAILABLE, 1);
	for (int i = 0; i < 3; i++)
		wr_engine_submit(h->engine, t[i], TASK_E_START, NULL, count_done, &failed);
	assert_int_equal(wr_engine_flush(h->engine), 3);
	assert_int_equal(batch_calls, 1);
	assert_int_equal(batch_items, 3);
	assert_int_equal(failed, 1);
	assert_int_equal(t[0]->state, TASK_S_STOPPED);   /* its init could not run */
	assert_int_equal(t[1]->state, TASK_S_RUNNING);
	assert_int_equal(t[2]->state, TASK_S_RUNNING);
	struct rows r = { "" };
	struct wr_error err;
	assert_int_equal(wr_store_history(wr_engine_store(h->engine), WR_KIND_TASK, "test", "b2",
					  add_row, &r, &err), 0);
	assert_non_null(strstr(r.text, "outcome starting-Done-running:;"));
	ops->run_actions = NULL;
}

/* ---- a backend whose sandbox start only checks (action_checks_only) ---------------- */

/* The fake's sandbox start does write its world file; declaring it a check
 * here tests the engine's side only (what runs when, what is journaled). */

static int sandbox_start_checks(const struct wr_backend *b, enum wr_kind kind, int action)
{
	(void)b;
	return kind == WR_KIND_SANDBOX &&
	       strcmp(wr_lifecycle_of(kind)->action_names[action], "start") == 0;
}

static int64_t commits(void)
{
	struct wr_stats s;
	wr_stats_read(&s);
	return (int64_t)s.journal_commits;
}

/* An action that only checks runs before the journal and costs one commit
 * with both rows; failing, it is journaled like any failed action; when the
 * journal cannot be written nothing changes (the check ran, which changed
 * nothing); in a batch with an action that changes the world, the batch
 * goes the usual way (intent commit, actions, outcome commit). */
static void test_check_only_action_one_commit(void **state)
{
	struct harness *h = *state;
	struct wr_backend_ops *ops = (struct wr_backend_ops *)h->fake->ops;
	ops->action_checks_only = sandbox_start_checks;
	struct wr_error err;

	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sb");
	int64_t c0 = commits();
	int calls = wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start");
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, NULL, &err), 0);
	assert_int_equal(sb->state, SANDBOX_S_READY);
	assert_int_equal(commits() - c0, 1);
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start"), calls + 1);
	struct rows r = { "" };
	assert_int_equal(wr_store_history(wr_engine_store(h->engine), WR_KIND_SANDBOX, "test", "sb",
					  add_row, &r, &err), 0);
	assert_non_null(strstr(r.text, "intent created-Start-starting:start;"
				       "outcome starting-Done-ready:;"));
	/* what recovery would load is what memory says */
	assert_int_equal(wr_store_journal_count(wr_engine_store(h->engine)), 4);

	/* a failing check: one commit, the chart's Failed target, the cause */
	struct wr_object *sb2 = harness_make(h, WR_KIND_SANDBOX, "sb2");
	wr_fake_fail(h->fake, WR_KIND_SANDBOX, "start", WR_NOT_FOUND, 1);
	c0 = commits();
	assert_int_equal(wr_dispatch(h->engine, sb2, SANDBOX_E_START, NULL, &err), -1);
	assert_int_equal(err.code, WR_NOT_FOUND);
	assert_int_equal(commits() - c0, 1);
	assert_int_not_equal(sb2->state, SANDBOX_S_STARTING);
	assert_non_null(strstr(sb2->reason, "injected failure"));
	r.text[0] = '\0';
	assert_int_equal(wr_store_history(wr_engine_store(h->engine), WR_KIND_SANDBOX, "test", "sb2",
					  add_row, &r, &err), 0);
	assert_non_null(strstr(r.text, "outcome starting-Failed-"));

	/* no room in the journal: the check ran, nothing else happened */
	struct wr_object *sb3 = harness_make(h, WR_KIND_SANDBOX, "sb3");
	calls = wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start");
	start_with_full_journal(h, sb3);
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start"), calls + 1);

	/* mixed with a task start (which changes the world): the usual two */
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	int failed = 0;
	c0 = commits();
	wr_engine_submit(h->engine, sb3, SANDBOX_E_START, NULL, count_done, &failed);
	wr_engine_submit(h->engine, t, TASK_E_START, NULL, count_done, &failed);
	assert_int_equal(wr_engine_flush(h->engine), 2);
	assert_int_equal(failed, 0);
	assert_int_equal(commits() - c0, 2);
	assert_int_equal(sb3->state, SANDBOX_S_READY);
	assert_int_equal(t->state, TASK_S_RUNNING);
	ops->action_checks_only = NULL;
}

/* warrend's front answers repeated reads from its cache while an object's
 * change counter (core/objgen.h) is unchanged, so every change must bump it
 * before the engine returns: a journaled step does, a read (Wait, no row)
 * does not, a failed journal write does (the object was touched in memory),
 * and a removal frees the slot with a bump, so its old value never matches
 * again.  Recovered objects get counters too. */
static void test_change_counters(void **state)
{
	struct harness *h = *state;
	struct wr_error err;
	int fd;
	struct wr_objgen *front = wr_objgen_create(&fd, &err);
	assert_non_null(front);
	struct wr_objgen *core = wr_objgen_map(fd, &err);
	assert_non_null(core);
	harness_shut(h);
	h->cfg.gens = core;
	harness_open(h);

	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sb");
	assert_true(sb->gen_slot >= 0);
	uint32_t slot = (uint32_t)sb->gen_slot;
	uint64_t g = wr_objgen_read(front, slot);
	assert_true(g > 0);
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, NULL, &err), 0);
	uint64_t started = wr_objgen_read(front, slot);
	assert_true(started > g);
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_WAIT, NULL, &err), 0);
	assert_true(wr_objgen_read(front, slot) == started);

	struct wr_object *sb2 = harness_make(h, WR_KIND_SANDBOX, "sb2");
	assert_true(sb2->gen_slot >= 0 && (uint32_t)sb2->gen_slot != slot);
	uint64_t g2 = wr_objgen_read(front, (uint32_t)sb2->gen_slot);
	start_with_full_journal(h, sb2);
	assert_true(wr_objgen_read(front, (uint32_t)sb2->gen_slot) > g2);
	assert_true(wr_objgen_read(front, slot) == started);

	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_STOP, NULL, &err), 0);
	uint64_t stopped = wr_objgen_read(front, slot);
	assert_true(stopped > started);
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_SHUTDOWN, NULL, &err), 0);
	assert_null(wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb"));
	uint64_t removed = wr_objgen_read(front, slot);
	assert_true(removed > stopped);
	struct wr_object *sb3 = harness_make(h, WR_KIND_SANDBOX, "sb3");
	/* the freed slot is the next one given (a stack), its count still rising */
	assert_int_equal(sb3->gen_slot, (int)slot);
	assert_true(wr_objgen_read(front, slot) > removed);

	harness_shut(h);
	harness_open(h);
	struct wr_object *again = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb2");
	assert_non_null(again);
	assert_true(again->gen_slot >= 0);

	harness_shut(h);
	h->cfg.gens = NULL;
	harness_open(h);
	wr_objgen_free(core);
	wr_objgen_free(front);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journaled_steps, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_illegal_changes_nothing, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_failed_action, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_journal_full_changes_nothing, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_batch_and_notifications, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_many_objects_one_batch, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_batch_to_backend, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_check_only_action_one_commit, harness_setup,
						harness_teardown),
		cmocka_unit_test_setup_teardown(test_change_counters, harness_setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
