/* crash_driver.c — kill -9 at every journaled step, recover, check.
 *
 *   crash_driver test           the whole crash test (what `make test` runs)
 *   crash_driver run DIR        play the scenario in DIR from where it stopped
 *   crash_driver check DIR      recover DIR, check it against the fake world
 *                               and the acknowledgements, then finish it
 *
 * The scenario drives one sandbox, its tasks and an exec through every
 * action of the three charts with the real engine and journal and the fake
 * backend (whose world is files, so it survives the kill).  After each
 * acknowledged step the driver appends the step's number to DIR/acks: what a
 * client was told.  `test` counts the crash points of a clean run (N), then for
 * every k in 1..N plays the scenario in a fresh DIR with WARREN_CRASH_AT=k (the
 * engine SIGKILLs itself at its k-th crash point: before intent, after intent,
 * after the backend action, after outcome), then runs `check`:
 *
 *  - lost:   an acknowledged step whose effect is missing after recovery (the
 *            object is not in the state the last acknowledged step left, or in
 *            the state the in-flight step would leave);
 *  - leaked: a resource in the fake world that no live object owns after
 *            recovery, or anything left once the scenario finished.
 *
 * It prints `crash points: N, recovered: N, lost: 0, leaked: 0` and fails if
 * lost or leaked is non-zero or a run did not recover. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/fake/fake.h"
#include "core/engine.h"
#include "tests/support/harness.h"

#define NS "crash"

struct step {
	enum wr_kind kind;
	const char *id, *owner;
	const char *event;  /* "Create", ... or "exit" (world: the process exits) */
	const char *pre, *post;
	const char *args;
};

static const struct step script[] = {
	{ WR_KIND_SANDBOX, "sb1", "", "Create", "absent", "created", NULL },
	{ WR_KIND_SANDBOX, "sb1", "", "Start", "created", "ready", NULL },
	{ WR_KIND_SANDBOX, "sb2", "", "Create", "absent", "created", NULL },
	{ WR_KIND_TASK, "t1", "sb1", "Create", "absent", "created", NULL },
	{ WR_KIND_TASK, "t1", "sb1", "Start", "created", "running", NULL },
	{ WR_KIND_TASK, "t1", "sb1", "Pause", "running", "paused", NULL },
	{ WR_KIND_TASK, "t1", "sb1", "Update", "paused", "paused", "{\"resources\":{\"cpu_shares\":256}}" },
	{ WR_KIND_TASK, "t1", "sb1", "Resume", "paused", "running", NULL },
	{ WR_KIND_EXEC, "t1/e1", "t1", "Create", "absent", "created", NULL },
	{ WR_KIND_EXEC, "t1/e1", "t1", "Start", "created", "running", NULL },
	{ WR_KIND_EXEC, "t1/e1", "t1", "Kill", "running", "running", "{\"signal\":9,\"all\":false}" },
	{ WR_KIND_EXEC, "t1/e1", "t1", "exit", "running", "exited", "{\"exit_status\":137}" },
	{ WR_KIND_EXEC, "t1/e1", "t1", "Delete", "exited", "deleted", NULL },
	{ WR_KIND_TASK, "t1", "sb1", "Kill", "running", "running", "{\"signal\":15,\"all\":true}" },
	{ WR_KIND_TASK, "t1", "sb1", "exit", "running", "stopped", "{\"exit_status\":143}" },
	{ WR_KIND_TASK, "t1", "sb1", "Delete", "stopped", "deleted", NULL },
	{ WR_KIND_TASK, "t2", "sb1", "Create", "absent", "created", NULL },
	{ WR_KIND_TASK, "t2", "sb1", "Delete", "created", "deleted", NULL },
	{ WR_KIND_SANDBOX, "sb2", "", "Shutdown", "created", "deleted", NULL },
	{ WR_KIND_SANDBOX, "sb1", "", "Stop", "ready", "stopped", NULL },
	{ WR_KIND_SANDBOX, "sb1", "", "Shutdown", "stopped", "deleted", NULL },
};
#define N_STEPS ((int)(sizeof script / sizeof script[0]))

struct env {
	char db[512], world[512], acks[512];
	struct wr_backend *fake;
	struct wr_engine *engine;
};

static void die(const char *what, const struct wr_error *err)
{
	fprintf(stderr, "crash_driver: %s: %s\n", what, err ? err->msg : strerror(errno));
	exit(3);
}

static void env_open(struct env *v, const char *dir)
{
	struct wr_error err = { 0 };
	snprintf(v->db, sizeof v->db, "%s/warren.db", dir);
	snprintf(v->world, sizeof v->world, "%s/world", dir);
	snprintf(v->acks, sizeof v->acks, "%s/acks", dir);
	v->fake = wr_fake_new("fake", v->world, &err);
	if (!v->fake)
		die("fake backend", &err);
	static struct wr_backend *list[1];
	list[0] = v->fake;
	struct wr_engine_config cfg = { .db_path = v->db, .backends = list, .n_backends = 1 };
	if (wr_engine_open(&v->engine, &cfg, &err) < 0)
		die("engine open", &err);
}

static void env_close(struct env *v)
{
	wr_engine_close(v->engine);
	v->fake->ops->destroy(v->fake);
}

static int last_ack(const struct env *v)
{
	FILE *f = fopen(v->acks, "r");
	int n = -1, x;
	if (!f)
		return -1;
	while (fscanf(f, "%d", &x) == 1)
		n = x;
	fclose(f);
	return n;
}

static void ack(const struct env *v, int i)
{
	int fd = open(v->acks, O_WRONLY | O_APPEND | O_CREAT, 0600);
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%d\n", i);
	if (fd < 0 || write(fd, buf, n) != n)
		die("ack", NULL);
	close(fd);
}

static const char *state_name(const struct env *v, const struct step *s)
{
	struct wr_object *o = wr_engine_find(v->engine, s->kind, NS, s->id);
	return o ? wr_lifecycle_of(s->kind)->state_names[o->state] : "absent";
}

/* Run step i, unless recovery already completed it (pre != post and the
 * object is already in post; a terminal post shows as absent). */
static void play(struct env *v, int i)
{
	const struct step *s = &script[i];
	const struct wr_lifecycle *lc = wr_lifecycle_of(s->kind);
	const char *now = state_name(v, s);
	bool terminal = lc->terminal[wr_lc_state_by_name(lc, s->post)];
	if (strcmp(s->pre, s->post) != 0 &&
	    (strcmp(now, s->post) == 0 || (terminal && strcmp(now, "absent") == 0 &&
					   strcmp(s->pre, "absent") != 0))) {
		ack(v, i);
		return;
	}
	struct json_object *args = s->args ? json_tokener_parse(s->args) : NULL;
	struct wr_error err = { 0 };
	int rc;
	if (strcmp(s->event, "Create") == 0) {
		struct wr_object *o = wr_object_new(s->kind, NS, s->id, s->owner, "fake");
		rc = wr_create(v->engine, o, args, NULL, &err);
	} else {
		struct wr_object *o = wr_engine_find(v->engine, s->kind, NS, s->id);
		if (!o) {
			fprintf(stderr, "crash_driver: step %d: %s %s is missing\n", i,
				wr_kind_name(s->kind), s->id);
			exit(4);
		}
		const char *ev = s->event;
		if (strcmp(ev, "exit") == 0) {
			struct json_object *st;
			json_object_object_get_ex(args, "exit_status", &st);
			wr_fake_exit(v->fake, o, json_object_get_int(st));
			ev = "Exit";
		}
		rc = wr_dispatch(v->engine, o, wr_lc_event_by_name(lc, ev), args, &err);
	}
	if (args)
		json_object_put(args);
	if (rc < 0) {
		fprintf(stderr, "crash_driver: step %d (%s %s %s): %s\n", i, wr_kind_name(s->kind),
			s->id, s->event, err.msg);
		exit(4);
	}
	ack(v, i);
}

static int finish(struct env *v)
{
	for (int i = last_ack(v) + 1; i < N_STEPS; i++)
		play(v, i);
	return wr_fake_count(v->fake);
}

static int cmd_run(const char *dir)
{
	struct env v;
	env_open(&v, dir);
	int left = finish(&v);
	env_close(&v);
	if (left != 0) {
		fprintf(stderr, "crash_driver: %d resources left after the scenario\n", left);
		return 2;
	}
	return 0;
}

/* Is `state` one the object may be in after recovery?  Acknowledged step a
 * (the object's last) left it in script[a].post; the in-flight step f (if it
 * is the object's) may have been rolled forward. */
static bool acceptable(const struct step *obj, int acked, const char *state)
{
	int a = -1, f = -1;
	for (int i = 0; i <= acked; i++)
		if (script[i].kind == obj->kind && strcmp(script[i].id, obj->id) == 0)
			a = i;
	if (acked + 1 < N_STEPS && script[acked + 1].kind == obj->kind &&
	    strcmp(script[acked + 1].id, obj->id) == 0)
		f = acked + 1;
	const struct wr_lifecycle *lc = wr_lifecycle_of(obj->kind);
	const char *want[2] = { a >= 0 ? script[a].post : "absent", f >= 0 ? script[f].post : NULL };
	for (int k = 0; k < 2; k++) {
		if (!want[k])
			continue;
		int s = wr_lc_state_by_name(lc, want[k]);
		if (strcmp(want[k], state) == 0 || (lc->terminal[s] && strcmp(state, "absent") == 0))
			return true;
	}
	return false;
}

static int cmd_check(const char *dir)
{
	struct env v;
	env_open(&v, dir);
	int acked = last_ack(&v), lost = 0, leaked = 0;
	for (int i = 0; i < N_STEPS; i++) {
		const struct step *s = &script[i];
		bool first = true;
		for (int j = 0; j < i; j++)
			if (script[j].kind == s->kind && strcmp(script[j].id, s->id) == 0)
				first = false;
		if (!first)
			continue;
		const char *st = state_name(&v, s);
		if (!acceptable(s, acked, st)) {
			fprintf(stderr, "crash_driver: LOST: %s %s is %s after ack %d\n",
				wr_kind_name(s->kind), s->id, st, acked);
			lost++;
		}
		char world[32];
		wr_fake_state(v.fake, s->kind, NS, s->id, world, sizeof world);
		if (*world && strcmp(st, "absent") == 0) {
			fprintf(stderr, "crash_driver: LEAKED: %s %s exists in the world (%s) but "
				"not in the journal\n", wr_kind_name(s->kind), s->id, world);
			leaked++;
		}
	}
	if (!lost) {
		int left = finish(&v);
		if (left) {
			fprintf(stderr, "crash_driver: LEAKED: %d resources left after finishing\n", left);
			leaked += left;
		}
	}
	env_close(&v);
	printf("%d %d\n", lost, leaked);
	return 0;
}

/* ---- the orchestrator ----------------------------------------------------------- */

static int spawn(const char *self, const char *mode, const char *dir, const char *crash_at,
		 bool trace, const char *out_path)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (crash_at)
			setenv("WARREN_CRASH_AT", crash_at, 1);
		else
			unsetenv("WARREN_CRASH_AT");
		if (trace)
			setenv("WARREN_CRASH_TRACE", "1", 1);
		else
			unsetenv("WARREN_CRASH_TRACE");
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, trace ? 2 : 1);
			close(fd);
		}
		execl(self, self, mode, dir, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return st;
}

static int cmd_test(const char *self)
{
	char base[] = "/tmp/warren-crash-XXXXXX", dir[600], out[700];
	if (!mkdtemp(base))
		die("mkdtemp", NULL);

	/* 1. A clean run, tracing, to count the crash points. */
	snprintf(dir, sizeof dir, "%s/clean", base);
	mkdir(dir, 0700);
	snprintf(out, sizeof out, "%s/trace", base);
	int st = spawn(self, "run", dir, NULL, true, out);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "crash_driver: the clean run failed (status %d)\n", st);
		if (harness_rmrf(base) < 0)
			fprintf(stderr, "crash_driver: cannot remove %s\n", base);
		return 1;
	}
	FILE *f = fopen(out, "r");
	char line[256];
	int points = 0;
	while (f && fgets(line, sizeof line, f))
		points += strncmp(line, "crashpoint ", 11) == 0;
	if (f)
		fclose(f);

	/* 2. Crash at each, recover, check. */
	int recovered = 0, lost = 0, leaked = 0;
	for (int k = 1; k <= points; k++) {
		char at[16];
		snprintf(at, sizeof at, "%d", k);
		snprintf(dir, sizeof dir, "%s/crash-%d", base, k);
		mkdir(dir, 0700);
		st = spawn(self, "run", dir, at, false, NULL);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
			fprintf(stderr, "crash_driver: crash point %d: the run was not killed (status %d)\n",
				k, st);
			lost++;
			continue;
		}
		snprintf(out, sizeof out, "%s/check-%d", base, k);
		st = spawn(self, "check", dir, NULL, false, out);
		int l = -1, x = -1;
		f = fopen(out, "r");
		if (!f || fscanf(f, "%d %d", &l, &x) != 2 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "crash_driver: crash point %d: recovery failed (status %d)\n", k, st);
		} else if (l == 0 && x == 0) {
			recovered++;
		}
		if (f)
			fclose(f);
		lost += l > 0 ? l : 0;
		leaked += x > 0 ? x : 0;
	}
	if (harness_rmrf(base) < 0)
		fprintf(stderr, "crash_driver: cannot remove %s\n", base);
	printf("crash points: %d, recovered: %d, lost: %d, leaked: %d\n", points, recovered, lost,
	       leaked);
	return points > 0 && recovered == points && lost == 0 && leaked == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "test") == 0)
		return cmd_test(argv[0]);
	if (argc == 3 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2]);
	if (argc == 3 && strcmp(argv[1], "check") == 0)
		return cmd_check(argv[2]);
	fprintf(stderr, "usage: %s test | run DIR | check DIR\n", argv[0]);
	return 2;
}
