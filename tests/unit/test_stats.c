/* test_stats.c — warrend core's timing counters (core/stats.h): idle time
 * blocked in the loop vs busy time in callbacks, runtime waits, per-method
 * calls with the runtime wait and idle time inside them, the method table's
 * bounds, and the ttrpc server's hook (a real server and client). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "core/clock.h"
#include "core/stats.h"
#include "ttrpc/client.h"
#include "ttrpc/server.h"

#define MS 1000000LL

static void spin(int64_t ns)
{
	int64_t end = wr_monotonic_ns() + ns;
	while (wr_monotonic_ns() < end)
		;
}

static void quit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop, blocked with nothing to do, for s seconds. */
static void idle_for(struct ev_loop *loop, double s)
{
	ev_timer quit;
	ev_now_update(loop);   /* the timer counts from now, not the last iteration */
	ev_timer_init(&quit, quit_cb, s, 0.);
	ev_timer_start(loop, &quit);
	ev_run(loop, 0);
	ev_timer_stop(loop, &quit);
}

static const struct wr_stats_method *find(const struct wr_stats *s, const char *service,
					  const char *method)
{
	for (int i = 0; i < s->n_methods; i++)
		if (!strcmp(s->methods[i].service, service) && !strcmp(s->methods[i].method, method))
			return &s->methods[i];
	return NULL;
}

/* Each test gets a fresh loop with the counters started on it. */
static int setup(void **state)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(loop);
	wr_stats_start(loop);
	*state = loop;
	return 0;
}

static int teardown(void **state)
{
	wr_stats_stop();
	ev_loop_destroy(*state);
	return 0;
}

static void spin_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	spin(*(int64_t *)w->data);
	ev_break(loop, EVBREAK_ALL);
}

static void test_idle_and_busy(void **state)
{
	struct ev_loop *loop = *state;
	/* blocked 50 ms, then 30 ms of work in a callback */
	int64_t work = 30 * MS;
	ev_timer t;
	ev_timer_init(&t, spin_cb, 0.05, 0.);
	t.data = &work;
	ev_timer_start(loop, &t);
	ev_run(loop, 0);
	struct wr_stats s;
	wr_stats_read(&s);
	int64_t busy = s.wall_ns - s.idle_ns;
	assert_true(s.idle_ns >= 40 * MS);
	assert_true(busy >= 30 * MS);
	assert_true(busy < 50 * MS);   /* the 50 ms blocked are not busy */
	assert_true(s.iterations >= 1);
	assert_int_equal(s.runtime_calls, 0);
	/* a restart zeroes the counters */
	wr_stats_start(loop);
	wr_stats_read(&s);
	assert_true(s.idle_ns == 0 && s.iterations == 0 && s.wall_ns < 10 * MS);
}

static void test_never_keeps_loop_alive(void **state)
{
	struct ev_loop *loop = *state;
	int64_t t0 = wr_monotonic_ns();
	ev_run(loop, 0);   /* nothing else active: returns at once */
	assert_true(wr_monotonic_ns() - t0 < 1000 * MS);
	wr_stats_stop();
	wr_stats_stop();   /* twice is fine */
	/* stopped: no more counting, and the loop's refcount is back */
	struct wr_stats before, after;
	wr_stats_read(&before);
	idle_for(loop, 0.02);
	wr_stats_read(&after);
	assert_int_equal(after.idle_ns, before.idle_ns);
	assert_int_equal(after.iterations, before.iterations);
}

static void test_runtime_wait(void **state)
{
	(void)state;   /* the fixture's counters run */
	wr_stats_runtime_wait(wr_monotonic_ns() - 5 * MS, 1);
	int64_t spawned = wr_monotonic_ns();
	usleep(10000);
	wr_stats_runtime_wait(spawned, 1);
	struct wr_stats s;
	wr_stats_read(&s);
	assert_int_equal(s.runtime_calls, 2);
	assert_true(s.runtime_wait_ns >= 15 * MS);
	assert_true(s.runtime_wait_ns < 1000 * MS);
	/* spawning is counted apart, and not as waiting */
	assert_int_equal(s.runtime_spawn_ns, 0);
	wr_stats_runtime_spawn(2 * MS);
	wr_stats_runtime_spawn(3 * MS);
	struct wr_stats t;
	wr_stats_read(&t);
	assert_int_equal(t.runtime_spawn_ns, 5 * MS);
	assert_int_equal(t.runtime_wait_ns, s.runtime_wait_ns);
	assert_int_equal(t.runtime_calls, 2);
}

static void test_journal_and_actions(void **state)
{
	(void)state;   /* the fixture's counters run, zeroed */
	struct wr_stats s;
	wr_stats_read(&s);
	assert_true(s.journal_ns == 0 && s.journal_commits == 0 && s.action_ns == 0 && s.actions == 0);
	wr_stats_journal(wr_monotonic_ns() - 2 * MS, 1);
	wr_stats_journal(wr_monotonic_ns() - 3 * MS, 0);   /* rolled back: time, no commit */
	wr_stats_action(wr_monotonic_ns() - 4 * MS, 1);
	wr_stats_read(&s);
	assert_int_equal(s.journal_commits, 1);
	assert_true(s.journal_ns >= 5 * MS && s.journal_ns < 1000 * MS);
	assert_int_equal(s.actions, 1);
	assert_true(s.action_ns >= 4 * MS && s.action_ns < 1000 * MS);
	assert_int_equal(s.runtime_calls, 0);
}

static void test_call_accounting(void **state)
{
	struct ev_loop *loop = *state;
	int slot = wr_stats_method("test.v1.Svc", "Work");
	assert_true(slot >= 0);
	assert_int_equal(wr_stats_method("test.v1.Svc", "Work"), slot);
	int other = wr_stats_method("test.v1.Svc", "Other");
	assert_true(other >= 0 && other != slot);
	assert_int_equal(wr_stats_method("test.v2.Svc", "Work") == slot, 0);

	/* one call: 10 ms of work, a 5 ms runtime wait, 30 ms idle in the loop */
	struct wr_stats_mark m;
	wr_stats_call_begin(&m, slot);
	spin(10 * MS);
	int64_t spawned = wr_monotonic_ns();
	usleep(5000);
	wr_stats_runtime_wait(spawned, 1);
	idle_for(loop, 0.03);
	wr_stats_call_end(&m);
	/* runtime waits and idle time outside a call are not its own */
	wr_stats_runtime_wait(wr_monotonic_ns() - 7 * MS, 1);
	idle_for(loop, 0.01);

	struct wr_stats s;
	wr_stats_read(&s);
	const struct wr_stats_method *w = find(&s, "test.v1.Svc", "Work");
	assert_non_null(w);
	assert_int_equal(w->calls, 1);
	assert_true(w->runtime_ns >= 5 * MS && s.runtime_wait_ns - w->runtime_ns >= 7 * MS);
	assert_true(w->idle_ns >= 25 * MS && s.idle_ns - w->idle_ns >= 8 * MS);
	assert_true(w->total_ns >= 40 * MS);
	assert_true(w->total_ns - w->runtime_ns - w->idle_ns >= 10 * MS);   /* own */
	const struct wr_stats_method *o = find(&s, "test.v1.Svc", "Other");
	assert_non_null(o);
	assert_int_equal(o->calls, 0);

	/* a restart zeroes the numbers but keeps the slots */
	wr_stats_start(loop);
	wr_stats_read(&s);
	w = find(&s, "test.v1.Svc", "Work");
	assert_non_null(w);
	assert_true(w->calls == 0 && w->total_ns == 0 && w->runtime_ns == 0 && w->idle_ns == 0);
	assert_int_equal(wr_stats_method("test.v1.Svc", "Work"), slot);
}

/* ---- through the ttrpc server -------------------------------------------------- */

struct srv_fx {
	struct ev_loop *loop;
	ev_timer later;
	struct wr_ttrpc_call *held;
	int answers;
};

static void h_now(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	wr_stats_runtime_wait(wr_monotonic_ns() - 3 * MS, 1);   /* as if it ran runc */
	wr_ttrpc_reply(call, WR_OK, NULL, NULL, 0);
}

static void later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct srv_fx *fx = w->data;
	wr_ttrpc_reply(fx->held, WR_OK, NULL, NULL, 0);
	fx->held = NULL;
}

/* Answered 30 ms later from a timer, the loop idle meanwhile (like a Wait). */
static void h_later(struct wr_ttrpc_call *call, void *ctx)
{
	struct srv_fx *fx = ctx;
	fx->held = call;
	ev_timer_start(fx->loop, &fx->later);
}

static void answered(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	(void)msg;
	(void)payload;
	(void)len;
	struct srv_fx *fx = ctx;
	if (code == WR_OK)
		fx->answers++;
}

static void test_server_hook(void **state)
{
	char dir[64], path[128];
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/wr-stats-XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	struct srv_fx fx = { .loop = *state };
	ev_timer_init(&fx.later, later_cb, 0.03, 0.);
	fx.later.data = &fx;
	struct wr_error err;
	struct wr_ttrpc_server *srv = wr_ttrpc_server_new(fx.loop, &err);
	assert_non_null(srv);
	assert_int_equal(wr_ttrpc_server_register(srv, "test.v1.Hook", "Now", h_now, &fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_register(srv, "test.v1.Hook", "Later", h_later, &fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_listen(srv, path, &err), 0);
	struct wr_ttrpc_client *c = wr_ttrpc_client_connect(fx.loop, path, &err);
	assert_non_null(c);
	for (int i = 0; i < 2; i++)
		assert_int_equal(wr_ttrpc_client_call(c, "test.v1.Hook", "Now", NULL, 0, NULL, 0, 0,
						      answered, &fx, &err), 0);
	assert_int_equal(wr_ttrpc_client_call(c, "test.v1.Hook", "Later", NULL, 0, NULL, 0, 0,
					      answered, &fx, &err), 0);
	/* an unknown method is answered by the server itself: no call, not counted */
	assert_int_equal(wr_ttrpc_client_call(c, "test.v1.Hook", "Nope", NULL, 0, NULL, 0, 0,
					      answered, &fx, &err), 0);
	int64_t deadline = wr_monotonic_ns() + 5000 * MS;
	while (fx.answers < 3 && wr_monotonic_ns() < deadline)
		ev_run(fx.loop, EVRUN_ONCE);
	assert_int_equal(fx.answers, 3);

	struct wr_stats s;
	wr_stats_read(&s);
	const struct wr_stats_method *now = find(&s, "test.v1.Hook", "Now");
	const struct wr_stats_method *later = find(&s, "test.v1.Hook", "Later");
	assert_non_null(now);
	assert_non_null(later);
	assert_null(find(&s, "test.v1.Hook", "Nope"));
	assert_int_equal(now->calls, 2);
	assert_true(now->runtime_ns >= 6 * MS && now->idle_ns == 0);
	assert_int_equal(later->calls, 1);
	assert_true(later->total_ns >= 25 * MS && later->idle_ns >= 15 * MS);
	assert_int_equal(s.uncounted, 0);
	assert_int_equal(s.runtime_calls, 2);

	wr_ttrpc_client_free(c);
	wr_ttrpc_server_free(srv);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

/* Last: it fills the process's method table. */
static void test_table_bounds(void **state)
{
	(void)state;   /* the fixture's counters run */
	char longname[WR_STATS_SERVICE + 8];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_int_equal(wr_stats_method(longname, "M"), -1);
	assert_int_equal(wr_stats_method("test.v1.Svc", longname), -1);
	char name[16];
	int last = 0;
	for (int i = 0; i < WR_STATS_METHODS; i++) {
		snprintf(name, sizeof name, "M%d", i);
		int slot = wr_stats_method("test.v1.Fill", name);
		if (slot < 0)
			break;
		last = slot;
	}
	assert_int_equal(last, WR_STATS_METHODS - 1);
	assert_int_equal(wr_stats_method("test.v1.Fill", "OneTooMany"), -1);
	struct wr_stats_mark m;
	wr_stats_call_begin(&m, -1);
	wr_stats_call_end(&m);
	struct wr_stats s;
	wr_stats_read(&s);
	assert_int_equal(s.n_methods, WR_STATS_METHODS);
	assert_int_equal(s.uncounted, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_and_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_keeps_loop_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runtime_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_and_actions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_accounting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_bounds, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
