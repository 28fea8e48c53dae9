/* warrend.c — the resident warren daemon.
 *
 * Today: opens the lifecycle engine over its journal (recovering every live
 * object), runs the libev loop that flushes the engine's queue once per
 * iteration (group commit), and stops cleanly on SIGTERM/SIGINT.  The
 * containerd front end (ttrpc Sandbox/Task services) and the backends plug
 * into this loop.
 *
 *   warrend [--db PATH] [--recover-only] [--version]
 *
 * --db defaults to /var/lib/warren/warren.db (its directory is created).
 * --recover-only recovers, prints the report and exits: an operator's check
 * that a journal is readable. */
#include <errno.h>
#include <ev.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/engine.h"

#define DEFAULT_DB "/var/lib/warren/warren.db"

static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	wr_engine_flush(w->data);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	fprintf(stderr, "warrend: signal %d, stopping\n", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int ensure_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *db = DEFAULT_DB;
	int recover_only = 0;
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "recover-only", no_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "d:rVh", opts, NULL)) != -1;) {
		switch (c) {
		case 'd': db = optarg; break;
		case 'r': recover_only = 1; break;
		case 'V': printf("warrend %s\n", WARREN_VERSION); return 0;
		default:
			fprintf(stderr, "usage: warrend [--db PATH] [--recover-only] [--version]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (ensure_parent(db) < 0) {
		fprintf(stderr, "warrend: cannot create the directory of %s: %s\n", db, strerror(errno));
		return 1;
	}
	struct wr_engine_config cfg = { .db_path = db };
	struct wr_engine *e;
	struct wr_error err;
	if (wr_engine_open(&e, &cfg, &err) < 0) {
		fprintf(stderr, "warrend: %s\n", err.msg);
		return 1;
	}
	const struct wr_recovery_report *r = wr_engine_recovery(e);
	fprintf(stderr, "warrend %s: journal %s: %d live objects, %d steps rolled forward, "
		"%d failed, %d lost, %d exited while down\n", WARREN_VERSION, db, r->examined,
		r->rolled_forward, r->failed, r->lost, r->exited);
	if (recover_only) {
		wr_engine_close(e);
		return 0;
	}
	struct ev_loop *loop = ev_default_loop(0);
	ev_prepare flush;
	ev_prepare_init(&flush, flush_cb);
	flush.data = e;
	ev_prepare_start(loop, &flush);
	ev_signal sigterm, sigint;
	ev_signal_init(&sigterm, stop_cb, SIGTERM);
	ev_signal_init(&sigint, stop_cb, SIGINT);
	ev_signal_start(loop, &sigterm);
	ev_signal_start(loop, &sigint);
	ev_run(loop, 0);
	wr_engine_close(e);
	ev_loop_destroy(loop);
	return 0;
}
