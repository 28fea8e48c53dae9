/* stats.c — warrend core's own timing counters; see stats.h.
 *
 * The loop's idle time is measured between an ev_prepare at the lowest
 * priority (it runs after every other prepare watcher, e.g. warrend's
 * journal flush, just before the loop blocks) and an ev_check at the
 * highest (it runs first once the loop wakes up).  Both are unref'd, like
 * the heap trim timer: they never keep a loop running by themselves. */
#include "core/stats.h"

#include <string.h>

#include "core/clock.h"

static struct {
	struct ev_loop *loop;      /* watched, NULL when stopped */
	ev_prepare prepare;
	ev_check check;
	int64_t started;
	int64_t blocked_at;        /* the prepare's time, 0 when not blocked */
	struct wr_stats c;         /* wall_ns unused here: computed by read */
} st;

static void prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	st.blocked_at = wr_monotonic_ns();
}

static void check_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
	if (st.blocked_at) {
		st.c.idle_ns += wr_monotonic_ns() - st.blocked_at;
		st.blocked_at = 0;
	}
	st.c.iterations++;
}

void wr_stats_start(struct ev_loop *loop)
{
	wr_stats_stop();
	st.c.idle_ns = st.c.runtime_wait_ns = st.c.runtime_spawn_ns = 0;
	st.c.runtime_calls = st.c.iterations = st.c.uncounted = 0;
	st.c.journal_ns = st.c.action_ns = 0;
	st.c.journal_commits = st.c.actions = 0;
	for (int i = 0; i < st.c.n_methods; i++) {
		struct wr_stats_method *m = &st.c.methods[i];
		m->calls = 0;
		m->total_ns = m->runtime_ns = m->idle_ns = 0;
	}
	st.loop = loop;
	st.blocked_at = 0;
	st.started = wr_monotonic_ns();
	ev_prepare_init(&st.prepare, prepare_cb);
	ev_set_priority(&st.prepare, EV_MINPRI);
	ev_check_init(&st.check, check_cb);
	ev_set_priority(&st.check, EV_MAXPRI);
	ev_prepare_start(loop, &st.prepare);
	ev_unref(loop);
	ev_check_start(loop, &st.check);
	ev_unref(loop);
}

void wr_stats_stop(void)
{
	if (!st.loop)
		return;
	ev_ref(st.loop);
	ev_prepare_stop(st.loop, &st.prepare);
	ev_ref(st.loop);
	ev_check_stop(st.loop, &st.check);
	st.loop = NULL;
}

int wr_stats_method(const char *service, const char *method)
{
	for (int i = 0; i < st.c.n_methods; i++)
		if (strcmp(st.c.methods[i].service, service) == 0 &&
		    strcmp(st.c.methods[i].method, method) == 0)
			return i;
	if (st.c.n_methods == WR_STATS_METHODS || strlen(service) >= WR_STATS_SERVICE ||
	    strlen(method) >= WR_STATS_METHOD)
		return -1;
	struct wr_stats_method *m = &st.c.methods[st.c.n_methods];
	memset(m, 0, sizeof *m);
	strcpy(m->service, service);
	strcpy(m->method, method);
	return st.c.n_methods++;
}

void wr_stats_call_begin(struct wr_stats_mark *m, int slot)
{
	m->t0 = wr_monotonic_ns();
	m->runtime0 = st.c.runtime_wait_ns;
	m->idle0 = st.c.idle_ns;
	m->slot = slot;
}

void wr_stats_call_end(const struct wr_stats_mark *m)
{
	if (m->slot < 0 || m->slot >= st.c.n_methods) {
		st.c.uncounted++;
		return;
	}
	struct wr_stats_method *s = &st.c.methods[m->slot];
	s->calls++;
	s->total_ns += wr_monotonic_ns() - m->t0;
	/* a restart of the counters in between leaves these below the marks */
	if (st.c.runtime_wait_ns >= m->runtime0)
		s->runtime_ns += st.c.runtime_wait_ns - m->runtime0;
	if (st.c.idle_ns >= m->idle0)
		s->idle_ns += st.c.idle_ns - m->idle0;
}

void wr_stats_runtime_wait(int64_t since_ns, unsigned n)
{
	st.c.runtime_wait_ns += wr_monotonic_ns() - since_ns;
	st.c.runtime_calls += n;
}

void wr_stats_runtime_spawn(int64_t spawn_ns)
{
	st.c.runtime_spawn_ns += spawn_ns;
}

void wr_stats_journal(int64_t began_ns, int committed)
{
	st.c.journal_ns += wr_monotonic_ns() - began_ns;
	if (committed)
		st.c.journal_commits++;
}

void wr_stats_action(int64_t began_ns, unsigned n)
{
	st.c.action_ns += wr_monotonic_ns() - began_ns;
	st.c.actions += n;
}

void wr_stats_read(struct wr_stats *out)
{
	*out = st.c;
	out->wall_ns = st.started ? wr_monotonic_ns() - st.started : 0;
}
