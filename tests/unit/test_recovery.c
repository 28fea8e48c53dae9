/* test_recovery.c — unit tests of start-up recovery: steps interrupted by a
 * kill -9 are rolled forward (probe) or re-run, vanished resources become
 * Lost with a reason, exits that happened while down are recorded (with the
 * status their reaper kept, when the exit_of hook knows it), and a
 * corrupt database stops the engine without being touched. */
#include <fcntl.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "tests/support/harness.h"


/* In a child process with its own engine, dispatch `event` to (kind, id) and
 * get SIGKILLed at the child's crash point `at` (1 before intent, 2 after
 * intent, 3 after the action, 4 after the outcome). */
static void crash_during(struct harness *h, enum wr_kind kind, const char *id, int event, int at)
{
	harness_shut(h);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char n[8];
		snprintf(n, sizeof n, "%d", at);
		setenv("WARREN_CRASH_AT", n, 1);
		struct wr_engine *e;
		struct wr_error err;
		if (wr_engine_open(&e, &h->cfg, &err) < 0)
			_exit(10);
		struct wr_object *o = wr_engine_find(e, kind, "test", id);
		if (!o)
			_exit(11);
		wr_dispatch(e, o, event, NULL, &err);
		_exit(12); /* not reached when the crash point fires */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	unsetenv("WARREN_CRASH_AT");
}

static void test_after_intent_reruns(void **state)
{
	struct harness *h = *state;
	harness_make(h, WR_KIND_SANDBOX, "sb");
	crash_during(h, WR_KIND_SANDBOX, "sb", SANDBOX_E_START, 2);
	int before = wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start");
	harness_open(h);
	struct wr_object *sb = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb");
	assert_int_equal(sb->state, SANDBOX_S_READY);
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start"), before + 1);
	assert_int_equal(wr_engine_recovery(h->engine)->rolled_forward, 1);
}

static void test_after_action_probes(void **state)
{
	struct harness *h = *state;
	harness_make(h, WR_KIND_SANDBOX, "sb");
	crash_during(h, WR_KIND_SANDBOX, "sb", SANDBOX_E_START, 3);
	int before = wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start");
	harness_open(h);
	struct wr_object *sb = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb");
	assert_int_equal(sb->state, SANDBOX_S_READY);
	/* The probe saw the effect: the action was not run again. */
	assert_int_equal(wr_fake_calls(h->fake, WR_KIND_SANDBOX, "start"), before);
	assert_int_equal(wr_engine_recovery(h->engine)->rolled_forward, 1);
}

static void test_before_intent_nothing(void **state)
{
	struct harness *h = *state;
	harness_make(h, WR_KIND_SANDBOX, "sb");
	crash_during(h, WR_KIND_SANDBOX, "sb", SANDBOX_E_START, 1);
	harness_open(h);
	struct wr_object *sb = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb");
	assert_int_equal(sb->state, SANDBOX_S_CREATED);
	assert_int_equal(wr_engine_recovery(h->engine)->rolled_forward, 0);
}

static void test_rerun_fails_rolls_back(void **state)
{
	struct harness *h = *state;
	harness_make(h, WR_KIND_SANDBOX, "sb");
	crash_during(h, WR_KIND_SANDBOX, "sb", SANDBOX_E_START, 2);
	wr_fake_fail(h->fake, WR_KIND_SANDBOX, "start", WR_INTERNAL, 1);
	harness_open(h);
	struct wr_object *sb = wr_engine_find(h->engine, WR_KIND_SANDBOX, "test", "sb");
	assert_int_equal(sb->state, SANDBOX_S_CREATED);   /* starting --Failed--> created */
	assert_non_null(strstr(sb->reason, "injected failure"));
	assert_int_equal(wr_engine_recovery(h->engine)->failed, 1);
}

static void test_vanished_is_lost_with_reason(void **state)
{
	struct harness *h = *state;
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	struct wr_error err;
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), 0);
	harness_shut(h);
	struct wr_object probe = { .kind = WR_KIND_TASK, .ns = "test", .id = "t" };
	assert_int_equal(wr_fake_vanish(h->fake, &probe), 0);
	harness_open(h);
	t = wr_engine_find(h->engine, WR_KIND_TASK, "test", "t");
	assert_non_null(t);                                /* never dropped silently */
	assert_int_equal(t->state, TASK_S_STOPPED);
	assert_non_null(strstr(t->reason, "vanished"));
	assert_int_equal(t->exit_status, 255);
	assert_int_equal(wr_engine_recovery(h->engine)->lost, 1);
}

static void test_exit_while_down(void **state)
{
	struct harness *h = *state;
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	struct wr_error err;
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), 0);
	harness_shut(h);
	struct wr_object probe = { .kind = WR_KIND_TASK, .ns = "test", .id = "t" };
	assert_int_equal(wr_fake_exit(h->fake, &probe, 42), 0);
	harness_open(h);
	t = wr_engine_find(h->engine, WR_KIND_TASK, "test", "t");
	assert_int_equal(t->state, TASK_S_STOPPED);
	assert_int_equal(t->exit_status, 42);
	assert_true(t->exited_at > 0);
	assert_int_equal(wr_engine_recovery(h->engine)->exited, 1);
}

/* What the reaper (warrend's front process) recorded, as cfg.exit_of sees it. */
struct reaped {
	int pid, status, asked;
	int64_t at;
};

static int exit_of(void *ctx, int pid, int *status, int64_t *exited_at)
{
	struct reaped *r = ctx;
	r->asked++;
	if (pid != r->pid)
		return 0;
	*status = r->status;
	*exited_at = r->at;
	return 1;
}

static void test_exit_while_down_reaped_status(void **state)
{
	struct harness *h = *state;
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	struct wr_object *u = harness_make(h, WR_KIND_TASK, "other");
	struct wr_error err;
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), 0);
	assert_int_equal(wr_dispatch(h->engine, u, TASK_E_START, NULL, &err), 0);
	struct reaped r = { .pid = t->pid, .status = 42, .at = 1700000000123456789LL };
	assert_true(r.pid > 0);
	harness_shut(h);
	/* Both processes are gone; the backend can only guess u's status (7 here,
	 * 255 for a real backend), the reaper knows t's. */
	struct wr_object pt = { .kind = WR_KIND_TASK, .ns = "test", .id = "t" };
	struct wr_object pu = { .kind = WR_KIND_TASK, .ns = "test", .id = "other" };
	assert_int_equal(wr_fake_exit(h->fake, &pt, 255), 0);
	assert_int_equal(wr_fake_exit(h->fake, &pu, 7), 0);
	h->cfg.exit_of = exit_of;
	h->cfg.exit_of_ctx = &r;
	harness_open(h);
	t = wr_engine_find(h->engine, WR_KIND_TASK, "test", "t");
	assert_int_equal(t->state, TASK_S_STOPPED);
	assert_int_equal(t->exit_status, 42);
	assert_true(t->exited_at == r.at);
	u = wr_engine_find(h->engine, WR_KIND_TASK, "test", "other");
	assert_true(u->pid != r.pid);
	assert_int_equal(u->state, TASK_S_STOPPED);
	assert_int_equal(u->exit_status, 7);
	assert_int_equal(r.asked, 2);
	assert_int_equal(wr_engine_recovery(h->engine)->exited, 2);
}

static void test_running_task_not_asked(void **state)
{
	struct harness *h = *state;
	struct wr_object *t = harness_make(h, WR_KIND_TASK, "t");
	struct wr_error err;
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), 0);
	/* A record for its pid (an earlier process that had the same pid) must
	 * not stop a task whose process the backend sees alive. */
	struct reaped r = { .pid = t->pid, .status = 1, .at = 1 };
	harness_shut(h);
	h->cfg.exit_of = exit_of;
	h->cfg.exit_of_ctx = &r;
	harness_open(h);
	t = wr_engine_find(h->engine, WR_KIND_TASK, "test", "t");
	assert_int_equal(t->state, TASK_S_RUNNING);
	assert_int_equal(r.asked, 0);
	assert_int_equal(wr_engine_recovery(h->engine)->exited, 0);
}

static void test_corrupt_database_refused(void **state)
{
	struct harness *h = *state;
	harness_shut(h);
	char wal[400], shm[400];
	snprintf(wal, sizeof wal, "%s-wal", h->db);
	snprintf(shm, sizeof shm, "%s-shm", h->db);
	unlink(wal);
	unlink(shm);
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 131 + 7);
	int fd = open(h->db, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof junk), (ssize_t)sizeof junk);
	close(fd);

	struct wr_engine *e = NULL;
	struct wr_error err = { 0 };
	assert_int_equal(wr_engine_open(&e, &h->cfg, &err), -1);
	assert_int_equal(err.code, WR_DATA_LOSS);
	assert_non_null(strstr(err.msg, h->db));
	char back[sizeof junk];
	fd = open(h->db, O_RDONLY);
	assert_int_equal(read(fd, back, sizeof back), (ssize_t)sizeof back);
	close(fd);
	assert_memory_equal(back, junk, sizeof junk);      /* never recreated */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_after_intent_reruns, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_after_action_probes, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_before_intent_nothing, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_rerun_fails_rolls_back, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_vanished_is_lost_with_reason, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_exit_while_down, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_exit_while_down_reaped_status, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_running_task_not_asked, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_database_refused, harness_setup, harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
