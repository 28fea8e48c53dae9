/* heap_trim.c — malloc_trim(0) after a lull in connection closes; see heap_trim.h.
 * The armed timer is unref'd: it never keeps a loop running by itself. */
#include "core/heap_trim.h"

#include <malloc.h>

static void trim_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct wr_heap_trim *t = w->data;
	(void)loop;
	wr_heap_trim_stop(t);
	malloc_trim(0);
	t->trims++;
}

void wr_heap_trim_init(struct wr_heap_trim *t, struct ev_loop *loop, double delay)
{
	t->loop = loop;
	t->trims = 0;
	ev_init(&t->timer, trim_cb);
	t->timer.repeat = delay;
	t->timer.data = t;
}

void wr_heap_trim_soon(struct wr_heap_trim *t)
{
	int armed = ev_is_active(&t->timer);
	ev_timer_again(t->loop, &t->timer);
	if (!armed)
		ev_unref(t->loop);
}

void wr_heap_trim_stop(struct wr_heap_trim *t)
{
	if (!ev_is_active(&t->timer))
		return;
	ev_ref(t->loop);
	ev_timer_stop(t->loop, &t->timer);
}
