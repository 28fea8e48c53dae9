/* bench_core.c — `make bench-core`: what the journal costs a transition.
 *
 * Drives the real engine and SQLite journal (on disk, synchronous=NORMAL) with
 * a backend whose actions do nothing, so every microsecond measured is the
 * engine's and the journal's own:
 *
 *   single   one task, Pause/Resume in a loop: each a full journaled step
 *            (intent commit, action, outcome commit); latency p50/p99 and
 *            transitions per second;
 *   many     N tasks, all paused then all resumed, each round submitted at once
 *            and flushed as one batch (group commit); transitions per second
 *            and the latency each transition sees (its batch's duration).
 *
 * Prints figures; asserts nothing (benchmarks are not tests).  Targets on a
 * 2-core host: journal adds <= 1 ms p50 per transition; >= 2,000
 * transitions/s with many concurrent objects.
 *
 * usage: bench_core [DIR]   (default: a temp dir under /var/tmp, a real disk) */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "tests/support/harness.h"
#include "lifecycle/task.h"

static int nothing(struct wr_backend *b, struct wr_object *o, struct json_object *args,
		   struct wr_error *err)
{
	(void)b; (void)o; (void)args; (void)err;
	return 0;
}

static int yes(struct wr_backend *b, struct wr_object *o, int action, struct json_object *args,
	       struct wr_error *err)
{
	(void)b; (void)o; (void)action; (void)args; (void)err;
	return 1;
}

static const struct wr_backend_ops null_ops = {
	.name = "null",
	.task_create = nothing, .task_start = nothing, .task_pause = nothing,
	.task_resume = nothing, .task_delete = nothing, .task_kill = nothing,
	.probe = yes,
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, n, sizeof *v, cmp);
	return v[(int)(p * (n - 1))];
}

static struct wr_object *task(struct wr_engine *e, const char *id)
{
	struct wr_object *o;
	struct wr_error err;
	if (wr_create(e, wr_object_new(WR_KIND_TASK, "bench", id, "", "null"), NULL, &o, &err) < 0 ||
	    wr_dispatch(e, o, TASK_E_START, NULL, &err) < 0) {
		fprintf(stderr, "bench_core: %s\n", err.msg);
		exit(1);
	}
	return o;
}

static void single(struct wr_engine *e, int n)
{
	struct wr_object *o = task(e, "single");
	double *lat = calloc(n, sizeof *lat);
	struct wr_error err;
	double t0 = now_us();
	for (int i = 0; i < n; i++) {
		double a = now_us();
		wr_dispatch(e, o, i % 2 ? TASK_E_RESUME : TASK_E_PAUSE, NULL, &err);
		lat[i] = now_us() - a;
	}
	double total = now_us() - t0;
	printf("single object:  %d transitions, %.0f transitions/s, latency p50 %.3f ms, p99 %.3f ms\n",
	       n, n / (total / 1e6), pct(lat, n, 0.5) / 1e3, pct(lat, n, 0.99) / 1e3);
	free(lat);
}

static void many(struct wr_engine *e, int objects, int rounds)
{
	struct wr_object **v = calloc(objects, sizeof *v);
	char id[32];
	for (int i = 0; i < objects; i++) {
		snprintf(id, sizeof id, "many%d-%d", objects, i);
		v[i] = task(e, id);
	}
	double *lat = calloc(rounds, sizeof *lat);
	double t0 = now_us();
	for (int r = 0; r < rounds; r++) {
		double a = now_us();
		for (int i = 0; i < objects; i++)
			wr_engine_submit(e, v[i], r % 2 ? TASK_E_RESUME : TASK_E_PAUSE, NULL, NULL, NULL);
		wr_engine_flush(e);
		lat[r] = now_us() - a;
	}
	double total = now_us() - t0;
	long n = (long)objects * rounds;
	printf("%4d objects:    %ld transitions, %.0f transitions/s, batch latency p50 %.3f ms, "
	       "p99 %.3f ms\n", objects, n, n / (total / 1e6), pct(lat, rounds, 0.5) / 1e3,
	       pct(lat, rounds, 0.99) / 1e3);
	free(lat);
	free(v);
}

int main(int argc, char **argv)
{
	char dir[256] = "/var/tmp/warren-bench-XXXXXX", db[300];
	if (argc > 1)
		snprintf(dir, sizeof dir, "%s", argv[1]);
	else if (!mkdtemp(dir))
		return perror("mkdtemp"), 1;
	snprintf(db, sizeof db, "%s/bench.db", dir);
	struct wr_backend null_backend = { .ops = &null_ops };
	struct wr_backend *list[] = { &null_backend };
	struct wr_engine_config cfg = { .db_path = db, .backends = list, .n_backends = 1 };
	struct wr_engine *e;
	struct wr_error err;
	if (wr_engine_open(&e, &cfg, &err) < 0) {
		fprintf(stderr, "bench_core: %s\n", err.msg);
		return 1;
	}
	printf("bench-core: engine + SQLite journal (WAL, synchronous=NORMAL) in %s, null backend\n", dir);
	single(e, 2000);
	many(e, 10, 200);
	many(e, 100, 60);
	many(e, 1000, 10);
	wr_engine_close(e);
	if (argc <= 1 && harness_rmrf(dir) < 0)
		return 1;
	return 0;
}
