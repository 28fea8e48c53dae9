/* warrend.c — the resident warren daemon: one process for every pod of one
 * containerd instance.
 *
 * It opens the lifecycle engine over its journal (recovering every live
 * object), loads the backends, serves containerd's Sandbox and Task services
 * on one socket per backend, reaps container processes (it is their child
 * subreaper), and flushes the engine's queue once per loop iteration (group
 * commit).  containerd-shim-warren-v2 `start` spawns it on demand; a systemd
 * unit may run it instead.  A second warrend for the same containerd exits at
 * once (the state directory's lock is held).
 *
 *   warrend --containerd-address SOCK [--ttrpc-address SOCK] [--db PATH]
 *           [--log-level LEVEL] [--recover-only] [--version]
 *
 * Paths derive from containerd's address (front/instance.h); --db overrides
 * the journal's.  --ttrpc-address is where task events go (containerd's
 * TTRPC_ADDRESS; default: the address plus ".ttrpc").  --recover-only
 * recovers, prints the report and exits. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backends/ns/ns.h"
#include "core/engine.h"
#include "core/log.h"
#include "front/front.h"
#include "front/instance.h"

struct options {
	const char *address;
	const char *ttrpc_address;
	const char *db;
	int recover_only;
};

static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	wr_engine_flush(w->data);
}

static void stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	wr_info("signal %d, stopping", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "containerd-address", required_argument, NULL, 'a' },
		{ "ttrpc-address", required_argument, NULL, 't' },
		{ "db", required_argument, NULL, 'd' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "recover-only", no_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "a:t:d:l:rVh", opts, NULL)) != -1;) {
		switch (c) {
		case 'a': o->address = optarg; break;
		case 't': o->ttrpc_address = optarg; break;
		case 'd': o->db = optarg; break;
		case 'l':
			if (wr_log_level_by_name(optarg) < 0) {
				fprintf(stderr, "warrend: unknown log level %s (error, warn, info, debug)\n",
					optarg);
				return 2;
			}
			wr_log_init("warrend", wr_log_level_by_name(optarg));
			break;
		case 'r': o->recover_only = 1; break;
		case 'V': printf("warrend %s\n", WARREN_VERSION); return 0;
		default:
			fprintf(stderr, "usage: warrend --containerd-address SOCK [--ttrpc-address SOCK] "
					"[--db PATH] [--log-level LEVEL] [--recover-only] [--version]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (!o->address) {
		fprintf(stderr, "warrend: --containerd-address is required\n");
		return 2;
	}
	return -1;
}

/* The instance lock: held for the daemon's life; 0 got it, 1 another holds it. */
static int take_lock(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		wr_error_log("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? 1 : -1;
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%d\n", getpid());
	if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) != n)
		wr_warn("cannot write the pid into %s", path);
	return 0;   /* fd stays open: the lock lives as long as we do */
}

static int run(const struct options *opt, const struct wr_instance *in)
{
	struct wr_error err;
	struct ev_loop *loop = ev_default_loop(0);
	char ttrpc[4096];
	if (opt->ttrpc_address)
		snprintf(ttrpc, sizeof ttrpc, "%s", opt->ttrpc_address);
	else
		snprintf(ttrpc, sizeof ttrpc, "%s.ttrpc", opt->address);

	char ns_state[sizeof in->state_dir + 8];
	snprintf(ns_state, sizeof ns_state, "%s/ns", in->state_dir);
	struct wr_ns_config nscfg = { .state_dir = ns_state, .runtime = getenv("WARREN_RUNTIME") };
	struct wr_backend *ns = wr_ns_backend_new(&nscfg, &err);
	if (!ns) {
		wr_error_log("backend ns: %s", err.msg);
		return 1;
	}
	struct wr_front *front = wr_front_new(loop, opt->recover_only ? "" : ttrpc, &err);
	if (!front) {
		wr_error_log("%s", err.msg);
		ns->ops->destroy(ns);
		return 1;
	}
	struct wr_backend *backends[] = { ns };
	struct wr_engine_config cfg = {
		.db_path = opt->db ? opt->db : in->db_path,
		.backends = backends,
		.n_backends = 1,
		.on_transition = wr_front_on_transition,
		.on_transition_ctx = front,
	};
	struct wr_engine *e;
	if (wr_engine_open(&e, &cfg, &err) < 0) {
		wr_error_log("%s", err.msg);
		wr_front_free(front);
		ns->ops->destroy(ns);
		return 1;
	}
	wr_front_set_engine(front, e);
	const struct wr_recovery_report *r = wr_engine_recovery(e);
	wr_info("warrend %s for containerd %s: journal %s: %d live objects, %d steps rolled "
		"forward, %d failed, %d lost, %d exited while down", WARREN_VERSION, opt->address,
		cfg.db_path, r->examined, r->rolled_forward, r->failed, r->lost, r->exited);
	int rc = 0;
	if (!opt->recover_only) {
		char sock[4096];
		if (wr_instance_socket(in, "ns", sock, sizeof sock, &err) < 0 ||
		    wr_front_listen(front, "ns", sock, &err) < 0) {
			wr_error_log("%s", err.msg);
			rc = 1;
		} else {
			wr_front_start_reaper(front);
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
			ev_prepare_stop(loop, &flush);
			ev_signal_stop(loop, &sigterm);
			ev_signal_stop(loop, &sigint);
			unlink(sock);
		}
	}
	wr_front_free(front);
	wr_engine_close(e);
	ns->ops->destroy(ns);
	ev_loop_destroy(loop);
	return rc;
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	wr_log_init("warrend", -1);
	int rc = parse(argc, argv, &opt);
	if (rc >= 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	struct wr_instance in;
	struct wr_error err;
	if (wr_instance_init(&in, opt.address, &err) < 0 ||
	    wr_mkdir_p(in.state_dir, 0711, &err) < 0 || wr_mkdir_p(in.root_dir, 0700, &err) < 0) {
		wr_error_log("%s", err.msg);
		return 1;
	}
	int lock = take_lock(in.lock_path);
	if (lock != 0) {
		if (lock > 0)
			wr_info("another warrend already serves containerd %s", opt.address);
		return lock > 0 ? 0 : 1;
	}
	return run(&opt, &in);
}
