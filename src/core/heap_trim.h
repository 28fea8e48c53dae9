/* heap_trim.h — hand the heap's free pages back to the kernel once a burst of
 * closed connections has settled.
 *
 * glibc keeps freed memory in its arenas: after 100 pods come and go warrend
 * would stay at its high-water mark for good.  Whoever frees per-connection
 * state calls wr_heap_trim_soon(); malloc_trim(0) runs once no such call came
 * for a couple of seconds, so a busy node pays for it once per lull. */
#ifndef WR_HEAP_TRIM_H
#define WR_HEAP_TRIM_H

#include <ev.h>

#define WR_HEAP_TRIM_DELAY 2.0

struct wr_heap_trim {
	struct ev_loop *loop;
	ev_timer timer;
	unsigned long trims;   /* how many times it ran (tests) */
};

/* delay: seconds of quiet before the trim (WR_HEAP_TRIM_DELAY). */
void wr_heap_trim_init(struct wr_heap_trim *t, struct ev_loop *loop, double delay);
/* (Re)arm: trim delay seconds from now. */
void wr_heap_trim_soon(struct wr_heap_trim *t);
/* Disarm (before the owner is freed). */
void wr_heap_trim_stop(struct wr_heap_trim *t);

#endif
