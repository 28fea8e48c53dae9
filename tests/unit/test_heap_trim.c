/* test_heap_trim.c — the heap trim timer: one trim per lull however often it
 * is re-armed, never keeps a loop alive by itself, and stops cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/heap_trim.h"

static void quit_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Run the loop for s seconds (a ref'd timer keeps it running). */
static void run_for(struct ev_loop *loop, double s)
{
	ev_timer quit;
	ev_timer_init(&quit, quit_cb, s, 0.);
	ev_timer_start(loop, &quit);
	ev_run(loop, 0);
	ev_timer_stop(loop, &quit);
}

static void rearm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	wr_heap_trim_soon(w->data);
}

static void test_one_trim_per_lull(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_heap_trim t;
	wr_heap_trim_init(&t, loop, 0.05);
	/* re-armed every 10 ms for 200 ms: no trim while the burst goes on */
	ev_timer burst;
	ev_timer_init(&burst, rearm_cb, 0., 0.01);
	burst.data = &t;
	ev_timer_start(loop, &burst);
	run_for(loop, 0.2);
	ev_timer_stop(loop, &burst);
	assert_int_equal(t.trims, 0);
	run_for(loop, 0.2);   /* the lull: exactly one trim */
	assert_int_equal(t.trims, 1);
	run_for(loop, 0.1);
	assert_int_equal(t.trims, 1);
	wr_heap_trim_stop(&t);
	ev_loop_destroy(loop);
}

static void test_never_keeps_loop_alive(void **state)
{
	(void)state;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_heap_trim t;
	wr_heap_trim_init(&t, loop, 30.);
	wr_heap_trim_soon(&t);
	wr_heap_trim_soon(&t);
	ev_tstamp t0 = ev_time();
	ev_run(loop, 0);   /* nothing else active: returns at once */
	assert_true(ev_time() - t0 < 1.);
	assert_int_equal(t.trims, 0);
	wr_heap_trim_stop(&t);
	wr_heap_trim_stop(&t);   /* twice is fine */
	/* stopped: the loop's refcount is back, a ref'd watcher still runs it */
	run_for(loop, 0.05);
	assert_int_equal(t.trims, 0);
	ev_loop_destroy(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_trim_per_lull),
		cmocka_unit_test(test_never_keeps_loop_alive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
