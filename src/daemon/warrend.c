/* warrend.c — the resident warren daemon: one per containerd instance, for
 * every pod of it.  Two processes run from this one binary (DESIGN §1):
 *
 *   front  warrend --containerd-address SOCK ...  (as started by the shim or
 *          a unit).  Takes the instance lock, owns containerd's sockets and
 *          connections, is the subreaper of container processes, and runs
 *          the core as its child, restarting it when it dies and on SIGHUP
 *          (src/relay/front.h).  Small on purpose: no engine, no database.
 *   core   warrend --core --control-fd N ...  (spawned by the front only).
 *          Receives the front's exit records, opens the lifecycle engine over
 *          its journal (recovering every live object with those records),
 *          loads the backends, serves containerd's Sandbox and Task services
 *          on the connections the front hands over, and flushes the engine's
 *          queue once per loop iteration (group commit).  It times itself
 *          from its start (core/stats.h; warrenctl stats).
 *
 * containerd-shim-warren-v2 `start` spawns the front on demand; a second
 * front for the same containerd exits at once (the state directory's lock is
 * held).  Killing or upgrading the core is invisible to containerd: no
 * connection closes.  To upgrade, install the new binaries and send SIGHUP
 * to the front: the core is re-executed from the binary's path.
 *
 *   warrend --containerd-address SOCK [--ttrpc-address SOCK] [--db PATH]
 *           [--log-level LEVEL] [--recover-only] [--version]
 *
 * Settings come from warren.conf (front/config.h); paths derive from
 * containerd's address (front/instance.h); --db overrides the journal's.  --ttrpc-address is where task events go (containerd's
 * TTRPC_ADDRESS; default: the address plus ".ttrpc").  --recover-only takes
 * the lock, recovers, prints the report and exits (no front, no core). */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "backends/ns/ns.h"
#include "core/engine.h"
#include "core/fsutil.h"
#include "core/log.h"
#include "core/stats.h"
#include "front/config.h"
#include "front/front.h"
#include "front/instance.h"
#include "relay/core_link.h"
#include "relay/front.h"

struct options {
	const char *address;
	const char *ttrpc_address;
	const char *db;
	const char *log_level;
	int recover_only;
	int core;
	int control_fd;
	struct wr_config conf;   /* warren.conf and the environment, read once */
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
		{ "core", no_argument, NULL, 'C' },
		{ "control-fd", required_argument, NULL, 'F' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	o->control_fd = -1;
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
			o->log_level = optarg;
			break;
		case 'r': o->recover_only = 1; break;
		case 'C': o->core = 1; break;
		case 'F': o->control_fd = atoi(optarg); break;
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
	if (o->core && o->control_fd < 0) {
		fprintf(stderr, "warrend: --core needs --control-fd (it is started by warrend only)\n");
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
	return 0;   /* fd stays open (close-on-exec: not in the core): the lock lives as long as we do */
}

/* ---- core ----------------------------------------------------------------------- */

/* Open the backends and the engine (recovering).  link, the control channel
 * to the front, is NULL when none runs (--recover-only): then no exit
 * records, no terminals kept across restarts, no change counters. */
static struct wr_engine *open_engine(const struct options *opt, const struct wr_instance *in,
				     struct wr_front *front, struct wr_backend **ns,
				     struct wr_core_link *link)
{
	const struct wr_fdkeep *keep = link ? wr_core_link_keep(link) : NULL;
	struct wr_error err;
	char ns_state[sizeof in->state_dir + 8];
	snprintf(ns_state, sizeof ns_state, "%s/ns", in->state_dir);
	struct wr_ns_config nscfg = { .state_dir = ns_state, .runtime = opt->conf.runtime,
				      .runtime_root = opt->conf.runtime_root,
				      .loop = front ? ev_default_loop(0) : NULL /* run_core's: terminals */,
				      .keep = keep,
				      .unprivileged_ports = opt->conf.unprivileged_ports,
				      .unprivileged_icmp = opt->conf.unprivileged_icmp };
	if (wr_mkdir_p(in->root_dir, 0700, &err) < 0 || !(*ns = wr_ns_backend_new(&nscfg, &err))) {
		wr_error_log("backend ns: %s", err.msg);
		return NULL;
	}
	static struct wr_backend *backends[1];
	backends[0] = *ns;
	struct wr_engine_config cfg = {
		.db_path = opt->db ? opt->db : in->db_path,
		.backends = backends,
		.n_backends = 1,
		.on_transition = front ? wr_front_on_transition : NULL,
		.on_transition_ctx = front,
		.on_open = front ? wr_front_on_open : NULL,
		.exit_of = link ? wr_core_link_exit_of : NULL,
		.exit_of_ctx = link,
		.gens = link ? wr_core_link_gens(link) : NULL,
	};
	struct wr_engine *e;
	if (wr_engine_open(&e, &cfg, &err) < 0) {
		wr_error_log("%s", err.msg);
		if (front)
			wr_front_set_engine(front, NULL);   /* freed by the failed open */
		(*ns)->ops->destroy(*ns);
		return NULL;
	}
	const struct wr_recovery_report *r = wr_engine_recovery(e);
	wr_info("warrend %s for containerd %s: journal %s: %d live objects, %d steps rolled "
		"forward, %d failed, %d lost, %d exited while down", WARREN_VERSION, opt->address,
		cfg.db_path, r->examined, r->rolled_forward, r->failed, r->lost, r->exited);
	return e;
}

static int run_core(const struct options *opt, const struct wr_instance *in)
{
	struct wr_error err;
	struct ev_loop *loop = ev_default_loop(0);
	wr_stats_start(loop);
	signal(SIGHUP, SIG_IGN);   /* SIGHUP is for the front */
	struct wr_core_link *link = wr_core_link_open(loop, opt->control_fd, &err);
	if (!link) {
		wr_error_log("control channel: %s", err.msg);
		return 1;
	}
	char ttrpc[4096];
	if (opt->ttrpc_address)
		snprintf(ttrpc, sizeof ttrpc, "%s", opt->ttrpc_address);
	else
		snprintf(ttrpc, sizeof ttrpc, "%s.ttrpc", opt->address);
	struct wr_front *front = wr_front_new(loop, ttrpc, &err);
	if (!front) {
		wr_error_log("%s", err.msg);
		wr_core_link_free(link);
		return 1;
	}
	struct wr_backend *ns;
	struct wr_engine *e = open_engine(opt, in, front, &ns, link);
	if (!e) {
		wr_front_free(front);
		wr_core_link_free(link);
		return 1;
	}
	wr_front_set_engine(front, e);
	wr_front_start_collector(front);
	wr_core_link_start(link, e, front);
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
	signal(SIGTERM, SIG_IGN);   /* a second one must not cut the clean-up short */
	signal(SIGINT, SIG_IGN);
	ev_prepare_stop(loop, &flush);
	ev_signal_stop(loop, &sigterm);
	ev_signal_stop(loop, &sigint);
	wr_front_free(front);
	wr_engine_close(e);
	wr_core_link_free(link);
	ns->ops->destroy(ns);
	wr_stats_stop();
	ev_loop_destroy(loop);
	return 0;
}

static int run_recover_only(const struct options *opt, const struct wr_instance *in)
{
	struct wr_backend *ns;
	struct wr_engine *e = open_engine(opt, in, NULL, &ns, NULL);
	if (!e)
		return 1;
	wr_engine_close(e);
	ns->ops->destroy(ns);
	return 0;
}

/* ---- front ---------------------------------------------------------------------- */

static int run_front(const struct options *opt, const struct wr_instance *in)
{
	struct wr_error err;
	/* The core is exec'd by path, not through /proc/self/exe: after an
	 * upgrade replaced the file, the path names the new binary. */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		wr_error_log("cannot read /proc/self/exe: %s", strerror(errno));
		return 1;
	}
	self[n] = '\0';
	const char *deleted = " (deleted)";
	size_t dl = strlen(deleted);
	if ((size_t)n > dl && strcmp(self + n - dl, deleted) == 0)
		self[n - dl] = '\0';
	char sock[4096];
	if (wr_instance_socket(in, "ns", sock, sizeof sock, &err) < 0) {
		wr_error_log("%s", err.msg);
		return 1;
	}
	const char *args[12];
	int k = 0;
	args[k++] = "--containerd-address";
	args[k++] = opt->address;
	if (opt->ttrpc_address) {
		args[k++] = "--ttrpc-address";
		args[k++] = opt->ttrpc_address;
	}
	if (opt->db) {
		args[k++] = "--db";
		args[k++] = opt->db;
	}
	if (opt->log_level) {
		args[k++] = "--log-level";
		args[k++] = opt->log_level;
	}
	args[k] = NULL;
	struct wr_relay_listen listen[] = { { "ns", sock } };
	struct wr_relay_config cfg = {
		.core_path = self,
		.core_args = args,
		.listen = listen,
		.n_listen = 1,
		.ready_path = in->ready_path,
	};
	wr_info("warrend %s front for containerd %s (core: %s)", WARREN_VERSION, opt->address, self);
	return wr_relay_front_run(&cfg);
}

int main(int argc, char **argv)
{
	struct options opt = { 0 };
	wr_log_init("warrend", -1);
	int rc = parse(argc, argv, &opt);
	if (rc >= 0)
		return rc;
	struct wr_error err;
	if (wr_config_load(&opt.conf, NULL, &err) < 0) {
		wr_error_log("%s", err.msg);
		return 1;
	}
	wr_log_init(opt.core ? "warrend core" : "warrend",
		    opt.log_level ? wr_log_level_by_name(opt.log_level) : opt.conf.log_level);
	signal(SIGPIPE, SIG_IGN);
	struct wr_instance in;
	if (wr_instance_init(&in, opt.address, &opt.conf, &err) < 0 ||
	    wr_mkdir_p(in.state_dir, 0711, &err) < 0) {
		wr_error_log("%s", err.msg);
		return 1;
	}
	if (opt.core)
		return run_core(&opt, &in);   /* the front holds the lock for us */
	int lock = take_lock(in.lock_path);
	if (lock != 0) {
		if (lock > 0)
			wr_info("another warrend already serves containerd %s", opt.address);
		return lock > 0 ? 0 : 1;
	}
	return opt.recover_only ? run_recover_only(&opt, &in) : run_front(&opt, &in);
}
