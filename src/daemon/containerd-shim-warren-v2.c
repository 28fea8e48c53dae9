/* containerd-shim-warren-v2.c — the binary containerd runs as a "shim".
 *
 * There is no shim process per pod: `start` makes sure the one warrend of
 * this containerd runs (spawning it fully detached when it does not: own
 * session, no inherited stdout/stderr, because containerd reads this
 * binary's output until both close) and prints the address of the socket
 * for the backend this binary was installed as:
 *
 *   containerd-shim-warren-v2       → ns
 *   containerd-shim-warren-ns-v2    → ns   (later -wasm-, -vm-, -gvisor-)
 *
 *   {"version":3,"address":"unix:///run/warren/<key>/ns.sock","protocol":"ttrpc"}
 *
 * `delete` (containerd's cleanup after a sandbox or dead shim) is idempotent,
 * prints a containerd.task.v2.DeleteResponse, never stops the daemon and
 * starts it when it is not running (see do_delete).
 * Flags are containerd's: -namespace, -address, -publish-binary, -id,
 * -bundle, -debug (Go style: one or two dashes, "-x v" or "-x=v"). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containerd/task/v2/shim.pb-c.h"
#include "core/fsutil.h"
#include "front/instance.h"

static const char *known_backends[] = { "ns", NULL };

struct args {
	const char *address, *id, *ns, *bundle, *action;
};

static int die(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "containerd-shim-warren: ");
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, "\n");
	return 1;
}

/* "containerd-shim-warren-<backend>-v2" → backend; the plain name → "ns". */
static int backend_of(const char *argv0, char *out, size_t size)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof buf, "%s", argv0);
	const char *name = basename(buf);
	const char *prefix = "containerd-shim-warren-";
	size_t plen = strlen(prefix), n = strlen(name);
	if (strncmp(name, prefix, plen) != 0 || n < plen + 2 || strcmp(name + n - 2, "v2") != 0)
		return -1;
	if (n == plen + 2) {
		snprintf(out, size, "ns");
		return 0;
	}
	size_t blen = n - plen - 3;   /* strip "-v2" */
	if (name[n - 3] != '-' || blen == 0 || blen >= size)
		return -1;
	memcpy(out, name + plen, blen);
	out[blen] = '\0';
	return 0;
}

static int parse(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (s[0] != '-') {
			a->action = s;
			continue;
		}
		s += s[1] == '-' ? 2 : 1;
		const char *eq = strchr(s, '=');
		size_t klen = eq ? (size_t)(eq - s) : strlen(s);
		const char **slot = NULL;
		if (klen == 7 && !strncmp(s, "address", 7)) slot = &a->address;
		else if (klen == 2 && !strncmp(s, "id", 2)) slot = &a->id;
		else if (klen == 9 && !strncmp(s, "namespace", 9)) slot = &a->ns;
		else if (klen == 6 && !strncmp(s, "bundle", 6)) slot = &a->bundle;
		else if ((klen == 5 && !strncmp(s, "debug", 5)) || (klen == 1 && s[0] == 'v') ||
			 (klen == 7 && !strncmp(s, "version", 7))) {
			if (s[0] == 'v') {
				printf("containerd-shim-warren %s\n", WARREN_VERSION);
				exit(0);
			}
			continue;   /* -debug */
		}
		const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (slot)
			*slot = val;   /* unknown flags (-publish-binary, ...) take a value too */
	}
	return a->action ? 0 : -1;
}

static int can_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int ok = connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0;
	close(fd);
	return ok;
}

/* 1 when a warrend front holds the ready lock: it listens on every backend
 * socket.  Costs warrend nothing, where a probe connection is accepted,
 * handed to the core and closed again on every pod start. */
static int front_ready(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);   /* drops our shared lock, if we got it */
	return held;
}

/* warrend next to this binary, else $WARREN_DAEMON, else on PATH. */
static void daemon_path(char *out, size_t size)
{
	const char *env = getenv("WARREN_DAEMON");
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		snprintf(out, size, "%s/warrend", dirname(self));
		if (access(out, X_OK) == 0)
			return;
	}
	snprintf(out, size, "warrend");
}

/* Double fork: the daemon is in its own session, re-parented away from
 * us, with /dev/null as stdin/stdout and its log file as stderr. */
static int spawn_daemon(const struct wr_instance *in, const char *address)
{
	char path[PATH_MAX];
	daemon_path(path, sizeof path);
	const char *ttrpc = getenv("TTRPC_ADDRESS");
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		if (chdir("/") < 0)
			_exit(127);
		int null = open("/dev/null", O_RDWR);
		int log = open(in->log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (null < 0)
			_exit(127);
		dup2(null, 0);
		dup2(null, 1);
		dup2(log >= 0 ? log : null, 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		char *argv[] = { path, "--containerd-address", (char *)address,
				 ttrpc && *ttrpc ? "--ttrpc-address" : NULL, (char *)ttrpc, NULL };
		execvp(path, argv);
		dprintf(2, "containerd-shim-warren: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* The socket of this backend's warrend (sock); spawns warrend unless its
 * front is up and, with wait, waits until it answers.  0, or die()'s 1 with
 * the reason printed. */
static int ensure_daemon(const struct args *a, const char *backend, char *sock, size_t size,
			 int wait)
{
	struct wr_config conf;
	struct wr_instance in;
	struct wr_error err;
	if (wr_config_load(&conf, NULL, &err) < 0 ||
	    wr_instance_init(&in, a->address, &conf, &err) < 0 ||
	    wr_instance_socket(&in, backend, sock, size, &err) < 0 ||
	    wr_mkdir_p(in.state_dir, 0711, &err) < 0)
		return die("%s%s", err.msg, "");
	/* an older warrend (mid-upgrade) has no ready lock: then connect */
	if (front_ready(in.ready_path) || can_connect(sock))
		return 0;
	if (spawn_daemon(&in, a->address) < 0)
		return die("cannot fork warrend: %s%s", strerror(errno), "");
	struct timespec tick = { 0, 2 * 1000 * 1000 };
	for (int i = 0; wait && i < 5000; i++) {
		if (can_connect(sock))
			return 0;
		nanosleep(&tick, NULL);
	}
	return wait ? die("warrend did not come up on %s (see %s)", sock, in.log_path) : 0;
}

static int do_start(const struct args *a, const char *backend)
{
	char sock[PATH_MAX];
	if (ensure_daemon(a, backend, sock, sizeof sock, 1) != 0)
		return 1;
	printf("{\"version\":3,\"address\":\"unix://%s\",\"protocol\":\"ttrpc\"}", sock);
	fflush(stdout);
	return 0;
}

static int do_delete(const struct args *a, const char *backend)
{
	/* Nothing to stop: warrend keeps serving other sandboxes.  But
	 * containerd also runs delete for every sandbox of a warrend it lost
	 * (its connection closed: the front died), and then forgets them while
	 * their containers still run.  So warrend must run again: its recovery
	 * and collector (src/front/collect.c) stop and remove what containerd
	 * forgot, as the runc shim's delete does with `runc delete --force`.
	 * Not waited for; a failure to start it is only reported.  The answer
	 * says the (already gone) process was killed, as runc's shim does. */
	char sock[PATH_MAX];
	if (a->address)
		ensure_daemon(a, backend, sock, sizeof sock, 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	Containerd__Task__V2__DeleteResponse r = CONTAINERD__TASK__V2__DELETE_RESPONSE__INIT;
	r.exit_status = 128 + 9;
	r.exited_at = &ts;
	uint8_t buf[64];
	size_t n = containerd__task__v2__delete_response__pack(&r, buf);
	return fwrite(buf, 1, n, stdout) == n && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	char backend[32];
	if (backend_of(argv[0], backend, sizeof backend) < 0)
		return die("cannot tell the backend from the binary name %s%s", argv[0], "");
	int known = 0;
	for (const char **b = known_backends; *b; b++)
		known |= strcmp(*b, backend) == 0;
	if (!known)
		return die("backend %s is not available in this build of warren%s", backend, "");
	if (parse(argc, argv, &a) < 0)
		return die("usage: %s [-namespace NS -address SOCK -id ID] start|delete", argv[0], "");
	if (strcmp(a.action, "start") == 0) {
		if (!a.address)
			return die("start: -address (containerd's socket) is required%s%s", "", "");
		return do_start(&a, backend);
	}
	if (strcmp(a.action, "delete") == 0)
		return do_delete(&a, backend);
	return die("unknown action %s (start, delete)%s", a.action, "");
}
