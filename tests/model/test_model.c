/* test_model.c — model-based tests derived from the spec charts.
 *
 * The generator reads each spec/<name>.rl twice: Ragel compiles it into the
 * machine the engine consults, and the generator itself lists its
 * transitions (wr_lifecycle.model).  These tests drive the real engine, with
 * its real journal and the fake backend, against that list:
 *
 *  - agreement: for every (state, event) pair the compiled machine and the
 *    listed chart say the same (legal or not, same action, same target);
 *  - paths: every sequence of events legal from `absent`, up to a bounded
 *    depth (WARREN_MODEL_DEPTH, default 5), each action taken once with a
 *    succeeding and once with a failing backend (failure injection), checking
 *    after every step the state, the journal rows written, and that the
 *    backend's world shows the action's effect (probe) or, on failure, is
 *    untouched;
 *  - illegal pairs: every (state, event) the chart forbids is rejected with
 *    FailedPrecondition naming state and event, writes no journal row and
 *    calls no backend function; in `absent` (no object) the answer is NotFound.
 *
 * Each run prints its coverage and fails below 100%. */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/harness.h"

#define MAX_DEPTH 8

struct edge {          /* one step of a path: an event and, for an action, its outcome */
	int event;
	bool fail;         /* inject a failure of the action */
};

struct run {
	struct harness h;
	const struct wr_lifecycle *lc;
	enum wr_kind kind;
	int depth;
	bool *covered;     /* per model transition */
	long paths, steps, serial;
};

static const struct wr_transition *model_find(const struct wr_lifecycle *lc, int s, int ev)
{
	for (int i = 0; i < lc->n_model; i++)
		if (lc->model[i].from == s && lc->model[i].event == ev)
			return &lc->model[i];
	return NULL;
}

static void cover(struct run *r, int s, int ev)
{
	const struct wr_transition *t = model_find(r->lc, s, ev);
	assert_non_null(t);
	r->covered[t - r->lc->model] = true;
}

/* Where the chart says an action's outcome lands, read from the listed chart
 * (not from the engine under test). */
static int model_outcome(const struct wr_lifecycle *lc, int mid, bool ok)
{
	if (!lc->transient[mid])
		return mid;
	const struct wr_transition *t = model_find(lc, mid, ok ? lc->ev_done : lc->ev_failed);
	assert_non_null(t);
	return t->to;
}

static bool is_outcome(const struct wr_lifecycle *lc, int ev)
{
	return ev == lc->ev_done || ev == lc->ev_failed;
}

static struct json_object *args_for(const struct wr_lifecycle *lc, int ev)
{
	const char *name = lc->event_names[ev];
	if (strcmp(name, "Kill") == 0)
		return json_tokener_parse("{\"signal\":15,\"all\":false}");
	if (strcmp(name, "Update") == 0)
		return json_tokener_parse("{\"resources\":{\"cpu_shares\":512}}");
	if (strcmp(name, "Exit") == 0)
		return json_tokener_parse("{\"exit_status\":3}");
	if (strcmp(name, "Lost") == 0)
		return json_tokener_parse("{\"reason\":\"test: resources vanished\"}");
	return NULL;
}

/* ---- agreement ------------------------------------------------------------------ */

static void check_agreement(const struct wr_lifecycle *lc)
{
	for (int s = 0; s < lc->n_states; s++) {
		for (int ev = 1; ev < lc->n_events; ev++) {
			int act = -2, to = -2;
			int rc = wr_lc_step(lc, s, ev, &act, &to);
			const struct wr_transition *t = model_find(lc, s, ev);
			if (!t) {
				if (rc == 0)
					fail_msg("%s: machine allows %s in %s, chart does not", lc->name,
						 lc->event_names[ev], lc->state_names[s]);
				continue;
			}
			if (rc != 0 || act != t->action || to != t->to)
				fail_msg("%s: machine and chart disagree on %s in %s", lc->name,
					 lc->event_names[ev], lc->state_names[s]);
		}
	}
}

/* ---- paths ------------------------------------------------------------------------ */

/* Replay one path on a fresh object, checking every step. */
static void replay(struct run *r, const struct edge *path, int n)
{
	const struct wr_lifecycle *lc = r->lc;
	struct wr_engine *e = r->h.engine;
	char id[64];
	snprintf(id, sizeof id, "%s-%ld", lc->name, ++r->serial);
	int state = lc->initial;

	for (int i = 0; i < n; i++) {
		const struct edge *st = &path[i];
		int act, mid;
		assert_int_equal(wr_lc_step(lc, state, st->event, &act, &mid), 0);
		const char *aname = act >= 0 ? lc->action_names[act] : NULL;
		if (aname)
			wr_fake_fail(r->h.fake, r->kind, aname, WR_INTERNAL, st->fail ? 1 : 0);
		struct wr_object *o = wr_engine_find(e, r->kind, "test", id);
		char before[32] = "";
		wr_fake_state(r->h.fake, r->kind, "test", id, before, sizeof before);
		int64_t rows = wr_store_journal_count(wr_engine_store(e));
		struct json_object *args = args_for(lc, st->event);
		struct wr_error err = { 0 };
		int rc;

		if (strcmp(lc->event_names[st->event], "Exit") == 0 && o)
			wr_fake_exit(r->h.fake, o, 3);
		if (state == lc->initial) {
			rc = wr_create(e, harness_object(r->kind, id), args, &o, &err);
		} else {
			assert_non_null(o);
			rc = wr_dispatch(e, o, st->event, args, &err);
		}
		int expect = mid;
		if (act >= 0)
			expect = model_outcome(lc, mid, !st->fail);
		r->steps++;
		cover(r, state, st->event);
		if (act >= 0 && lc->transient[mid])
			cover(r, mid, st->fail ? lc->ev_failed : lc->ev_done);

		if (act >= 0 && st->fail)
			assert_int_equal(rc, -1);
		else if (rc != 0)
			fail_msg("%s %s: %s in %s failed: %s", lc->name, id, lc->event_names[st->event],
				 lc->state_names[state], err.msg);

		o = wr_engine_find(e, r->kind, "test", id);
		int64_t now_rows = wr_store_journal_count(wr_engine_store(e));
		if (lc->terminal[expect]) {
			assert_null(o);          /* gone, with its rows */
		} else {
			assert_non_null(o);
			if (o->state != expect)
				fail_msg("%s %s: after %s in %s expected %s, engine says %s", lc->name, id,
					 lc->event_names[st->event], lc->state_names[state],
					 lc->state_names[expect], lc->state_names[o->state]);
			int64_t want = act >= 0 ? 2 : expect != state ? 1 : 0;
			if (now_rows - rows != want)
				fail_msg("%s: %s in %s wrote %ld journal rows, expected %ld", lc->name,
					 lc->event_names[st->event], lc->state_names[state],
					 (long)(now_rows - rows), (long)want);
			if (act >= 0 && !st->fail) {
				struct wr_error perr;
				assert_int_equal(r->h.fake->ops->probe(r->h.fake, o, act, args, &perr), 1);
			}
		}
		if (act >= 0 && st->fail) {
			char after[32] = "";
			wr_fake_state(r->h.fake, r->kind, "test", id, after, sizeof after);
			if (strcmp(before, after) != 0)
				fail_msg("%s: failed %s changed the world from '%s' to '%s'", lc->name,
					 aname, before, after);
		}
		if (args)
			json_object_put(args);
		if (aname)
			wr_fake_fail(r->h.fake, r->kind, aname, 0, 0);
		state = expect;
	}
	/* Leave nothing behind: delete what the path left alive. */
	struct wr_object *o = wr_engine_find(e, r->kind, "test", id);
	if (o) {
		wr_fake_vanish(r->h.fake, o);
		struct wr_store *s = wr_engine_store(e);
		struct wr_error err;
		assert_int_equal(wr_store_remove_object(s, r->kind, "test", id, &err), 0);
	}
	r->paths++;
}

static void walk(struct run *r, struct edge *path, int n, int state)
{
	const struct wr_lifecycle *lc = r->lc;
	if (n > 0)
		replay(r, path, n);
	if (n == r->depth || lc->terminal[state])
		return;
	for (int ev = 1; ev < lc->n_events; ev++) {
		int act, mid;
		if (is_outcome(lc, ev) || wr_lc_step(lc, state, ev, &act, &mid) < 0)
			continue;
		for (int f = 0; f < (act >= 0 ? 2 : 1); f++) {
			path[n] = (struct edge){ ev, f == 1 };
			int next = act >= 0 ? model_outcome(lc, mid, f == 0) : mid;
			walk(r, path, n + 1, next);
		}
	}
}

/* ---- illegal pairs ---------------------------------------------------------------- */

static int check_illegal(struct run *r, int *total)
{
	const struct wr_lifecycle *lc = r->lc;
	struct wr_engine *e = r->h.engine;
	int covered = 0;
	*total = 0;
	for (int s = 0; s < lc->n_states; s++) {
		for (int ev = 1; ev < lc->n_events; ev++) {
			if (model_find(lc, s, ev))
				continue;
			(*total)++;
			char id[64];
			snprintf(id, sizeof id, "illegal-%d-%d", s, ev);
			struct wr_object *o = harness_object(r->kind, id);
			struct wr_error err = { 0 };
			if (s != lc->initial) {
				o->state = s;
				assert_int_equal(wr_engine_adopt(e, o, &err), 0);
			}
			int64_t rows = wr_store_journal_count(wr_engine_store(e));
			int calls = wr_fake_calls(r->h.fake, r->kind, NULL);
			struct json_object *args = args_for(lc, ev);
			int rc = wr_dispatch(e, o, ev, args, &err);
			if (args)
				json_object_put(args);
			bool ok = rc == -1 &&
				  wr_store_journal_count(wr_engine_store(e)) == rows &&
				  wr_fake_calls(r->h.fake, r->kind, NULL) == calls;
			if (s == lc->initial) {
				ok = ok && err.code == WR_NOT_FOUND;
				wr_object_free(o);
			} else {
				ok = ok && err.code == WR_FAILED_PRECONDITION &&
				     strstr(err.msg, lc->state_names[s]) &&
				     strstr(err.msg, lc->event_names[ev]) &&
				     wr_engine_find(e, r->kind, "test", id) == o && o->state == s;
				struct wr_error rerr;
				assert_int_equal(wr_store_remove_object(wr_engine_store(e), r->kind, "test",
									id, &rerr), 0);
			}
			if (!ok)
				fail_msg("%s: %s in %s: expected a clean rejection, got rc=%d code=%s '%s'",
					 lc->name, lc->event_names[ev], lc->state_names[s], rc,
					 wr_code_name(err.code), err.msg);
			covered++;
		}
	}
	return covered;
}

/* Fixtures, so the temp directory goes even when an assertion fails. */
static int setup(void **state)
{
	struct run *r = calloc(1, sizeof *r);
	assert_non_null(r);
	harness_init(&r->h, true);
	harness_open(&r->h);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct run *r = *state;
	harness_close(&r->h);
	free(r->covered);
	free(r);
	return 0;
}

static void run_kind(struct run *r, enum wr_kind kind)
{
	r->kind = kind;
	r->lc = wr_lifecycle_of(kind);
	const char *d = getenv("WARREN_MODEL_DEPTH");
	r->depth = d ? atoi(d) : 5;
	if (r->depth < 1 || r->depth > MAX_DEPTH)
		r->depth = 5;
	r->covered = calloc(r->lc->n_model, sizeof *r->covered);
	assert_non_null(r->covered);

	check_agreement(r->lc);
	struct edge path[MAX_DEPTH];
	walk(r, path, 0, r->lc->initial);
	int n_cov = 0;
	for (int i = 0; i < r->lc->n_model; i++)
		n_cov += r->covered[i];
	int total_illegal;
	int illegal = check_illegal(r, &total_illegal);

	printf("model %s: transitions %d/%d, illegal pairs %d/%d, paths %ld to depth %d (%ld steps)\n",
	       r->lc->name, n_cov, r->lc->n_model, illegal, total_illegal, r->paths, r->depth, r->steps);
	for (int i = 0; i < r->lc->n_model; i++)
		if (!r->covered[i])
			printf("  not covered: %s --%s--> %s\n", r->lc->state_names[r->lc->model[i].from],
			       r->lc->event_names[r->lc->model[i].event], r->lc->state_names[r->lc->model[i].to]);
	assert_int_equal(n_cov, r->lc->n_model);
	assert_int_equal(illegal, total_illegal);
	assert_int_equal(wr_fake_count(r->h.fake), 0);
}

static void test_sandbox(void **state) { run_kind(*state, WR_KIND_SANDBOX); }
static void test_task(void **state) { run_kind(*state, WR_KIND_TASK); }
static void test_exec(void **state) { run_kind(*state, WR_KIND_EXEC); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
