/* stats.h — warrend core's own timing counters, so that its share of a pod
 * start can be read from its own timestamps (warrenctl stats, served by
 * Control.Stats in src/front/control_api.c).
 *
 * Counted, always on:
 *   - the event loop: time blocked in it with nothing to do (idle: from an
 *     ev_prepare, the last thing before the loop blocks, to an ev_check,
 *     the first thing after), and the wall time since counting started, so
 *     busy = wall − idle;
 *   - the OCI runtime: time the process was blocked on a runtime (runc)
 *     child it spawned, from its exec to its reap, and how many it ran
 *     (backends/ns/ns_runc.c);
 *   - the journal: time from the start of each store transaction to its
 *     commit or rollback, and the commits (src/core/store.c);
 *   - backend actions: time in each (the runtime runs they make included)
 *     and how many (src/core/engine.c);
 *   - every ttrpc method served (src/ttrpc/server.c): calls, and summed over
 *     them the time from arrival to reply, and the runtime wait and the
 *     loop's idle time that accrued in between.  own = total − runtime −
 *     idle: a long-held call (Wait) is idle most of its life.
 *
 * One set of counters per process: warrend's core is single-threaded and
 * only its loop is watched.  The cost is a clock_gettime(CLOCK_MONOTONIC) at
 * each end of a loop block, a call and a runtime run; nothing is allocated
 * and nothing is logged.  Methods get a slot of a fixed table when their
 * route is registered; calls of pairs beyond WR_STATS_METHODS are counted
 * only in `uncounted`. */
#ifndef WR_STATS_H
#define WR_STATS_H

#include <stdint.h>

#include <ev.h>

#define WR_STATS_METHODS 64
#define WR_STATS_SERVICE 48   /* longest service name + 1 */
#define WR_STATS_METHOD 32    /* longest method name + 1 */

struct wr_stats_method {
	char service[WR_STATS_SERVICE];
	char method[WR_STATS_METHOD];
	uint64_t calls;      /* replied */
	int64_t total_ns;    /* Σ reply − arrival */
	int64_t runtime_ns;  /* Σ runtime wait between arrival and reply */
	int64_t idle_ns;     /* Σ loop idle between arrival and reply */
};

struct wr_stats {
	int64_t wall_ns;          /* since wr_stats_start (0 when never started) */
	int64_t idle_ns;          /* blocked in the loop, nothing to do */
	int64_t runtime_wait_ns;  /* blocked on spawned OCI runtime processes */
	int64_t runtime_spawn_ns; /* in wr_spawn starting them (part of own) */
	uint64_t runtime_calls;
	int64_t journal_ns;       /* in journal transactions, begin to commit */
	uint64_t journal_commits;
	int64_t action_ns;        /* in backend actions, runtime runs included */
	uint64_t actions;
	uint64_t iterations;      /* of the loop */
	uint64_t uncounted;       /* calls of methods without a slot */
	int n_methods;
	struct wr_stats_method methods[WR_STATS_METHODS];
};

/* A call in flight: the counters at its arrival (struct wr_ttrpc_call holds one). */
struct wr_stats_mark {
	int64_t t0, runtime0, idle0;
	int slot;   /* -1: no slot */
};

/* Zero the counters (method slots stay) and watch loop's blocking from now
 * on.  The watchers never keep the loop running by themselves. */
void wr_stats_start(struct ev_loop *loop);
/* Stop watching the loop (before it is destroyed). */
void wr_stats_stop(void);

/* The slot of (service, method), made on first use; -1 when the table is
 * full or a name too long.  Called when a route is registered. */
int wr_stats_method(const char *service, const char *method);
/* A call of slot arrived / was answered (each once per call). */
void wr_stats_call_begin(struct wr_stats_mark *m, int slot);
void wr_stats_call_end(const struct wr_stats_mark *m);

/* n runtime processes, the first spawned at since_ns (wr_monotonic_ns), were
 * all reaped now: the daemon waited for them from since_ns (their runs may
 * overlap; the wait is counted once). */
void wr_stats_runtime_wait(int64_t since_ns, unsigned n);
/* Starting a runtime process (wr_spawn: the clone; the child's exec runs
 * concurrently, in the runtime's wait) took spawn_ns.  It counts as the
 * daemon's own time, not the runtime's; kept apart to show what process
 * creation costs the daemon on the machine. */
void wr_stats_runtime_spawn(int64_t spawn_ns);

/* A journal transaction that began at began_ns ended now, committed or not. */
void wr_stats_journal(int64_t began_ns, int committed);
/* n backend actions, run together from began_ns, all returned now (their
 * time is counted once). */
void wr_stats_action(int64_t began_ns, unsigned n);

/* The counters now. */
void wr_stats_read(struct wr_stats *out);

#endif
