/* warrenctl.c — the operator's command-line view of warren.
 *
 *   warrenctl [--containerd-address SOCK] ps [-n NAMESPACE]
 *        sandboxes with their containers and exec processes: backend,
 *        lifecycle state, age, pids
 *   warrenctl [--containerd-address SOCK] inspect [-n NAMESPACE] ID
 *        one sandbox, task or exec: its state, what containerd asked for,
 *        what the backend holds, and its journal history
 *   warrenctl [--containerd-address SOCK] stats
 *        warrend core's own timing counters since it started (core/stats.h),
 *        one "key value" line each, times in ms: wall, busy (not blocked in
 *        its event loop), idle, runtime_wait (blocked on runc), own = busy −
 *        runtime_wait, runtime_spawn (in wr_spawn starting runc, part of
 *        own), journal (in journal transactions) and its commits, action
 *        (in backend actions, runc included) and their number; then a row
 *        per method served: calls, total (arrival
 *        to reply), runtime, idle, own = total − runtime − idle
 *   warrenctl lifecycle [sandbox|task|exec]
 *        legal transitions from each state, read from the compiled charts
 *   warrenctl --version
 *
 * ps, inspect and stats ask warrend (warren.control.v1.Control) on the socket of the
 * warrend that serves containerd at SOCK (default /run/containerd/
 * containerd.sock; paths as in front/instance.h, so WARREN_STATE_DIR and
 * warren.conf apply).  When no warrend answers there, they say so. */
#include <ev.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/object.h"
#include "front/instance.h"
#include "ttrpc/client.h"
#include "ttrpc/frame.h"
#include "warren/control/v1/control.pb-c.h"

#define DEFAULT_CONTAINERD "/run/containerd/containerd.sock"
#define C(name) Warren__Control__V1__##name

static void print_lifecycle(const struct wr_lifecycle *lc)
{
	printf("%s lifecycle (spec/%s.rl)\n", lc->name, lc->name);
	for (int s = 0; s < lc->n_states; s++) {
		const char *tag = lc->transient[s] ? " (transient: waits for the action's outcome)"
				  : lc->terminal[s] ? " (terminal)" : "";
		printf("  %s%s\n", lc->state_names[s], tag);
		for (int i = 0; i < lc->n_model; i++) {
			const struct wr_transition *t = &lc->model[i];
			if (t->from != s)
				continue;
			int act, to;
			if (wr_lc_step(lc, s, t->event, &act, &to) < 0)
				continue; /* cannot happen: test_model checks agreement */
			printf("    %-9s -> %-9s%s%s\n", lc->event_names[t->event], lc->state_names[to],
			       act >= 0 ? " runs " : "", act >= 0 ? lc->action_names[act] : "");
		}
	}
}

static int lifecycle(int argc, char **argv)
{
	int shown = 0;
	for (int k = 0; k < WR_KIND_COUNT; k++) {
		const struct wr_lifecycle *lc = wr_lifecycle_of(k);
		if (argc == 2 && strcmp(argv[1], lc->name) != 0)
			continue;
		if (shown++)
			printf("\n");
		print_lifecycle(lc);
	}
	if (!shown) {
		fprintf(stderr, "warrenctl: unknown lifecycle '%s' (sandbox, task, exec)\n", argv[1]);
		return 2;
	}
	return 0;
}

/* ---- one call to warrend ----------------------------------------------------------- */

struct answer {
	int done, code;
	char msg[512];
	uint8_t *data;
	size_t len;
};

static void answered(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct answer *a = ctx;
	a->done = 1;
	a->code = code;
	snprintf(a->msg, sizeof a->msg, "%s", msg);
	if (len && (a->data = malloc(len))) {
		memcpy(a->data, payload, len);
		a->len = len;
	}
}

/* Call Control.method with m; the answer's payload in a (caller frees a->data). */
static int call(const char *address, const char *method, const ProtobufCMessage *m,
		struct answer *a)
{
	struct wr_config conf;
	struct wr_instance in;
	struct wr_error err;
	char sock[4096];
	if (wr_config_load(&conf, NULL, &err) < 0 || wr_instance_init(&in, address, &conf, &err) < 0 ||
	    wr_instance_socket(&in, "ns", sock, sizeof sock, &err) < 0) {
		fprintf(stderr, "warrenctl: %s\n", err.msg);
		return -1;
	}
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_ttrpc_client *c = wr_ttrpc_client_connect(loop, sock, &err);
	if (!c) {
		fprintf(stderr, "warrenctl: warrend is not running for containerd %s (%s)\n", address,
			err.msg);
		ev_loop_destroy(loop);
		return -1;
	}
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	int rc = -1;
	if (buf) {
		protobuf_c_message_pack(m, buf);
		if (wr_ttrpc_client_call(c, "warren.control.v1.Control", method, buf, n, NULL, 0,
					 10LL * 1000000000, answered, a, &err) == 0) {
			while (!a->done)
				ev_run(loop, EVRUN_ONCE);
			rc = 0;
		} else {
			fprintf(stderr, "warrenctl: %s\n", err.msg);
		}
		free(buf);
	}
	wr_ttrpc_client_free(c);
	ev_loop_destroy(loop);
	if (rc == 0 && a->code != 0) {
		fprintf(stderr, "warrenctl: %s: %s\n", wr_code_name(a->code), a->msg);
		free(a->data);
		a->data = NULL;
		rc = -1;
	}
	return rc;
}

/* Call Control.method with m and decode the answer as desc; NULL (said on
 * stderr) when that fails. */
static ProtobufCMessage *ask(const char *address, const char *method, const ProtobufCMessage *m,
			     const ProtobufCMessageDescriptor *desc)
{
	struct answer a = { 0 };
	if (call(address, method, m, &a) < 0)
		return NULL;
	ProtobufCMessage *r = protobuf_c_message_unpack(desc, NULL, a.len, a.data);
	free(a.data);
	if (!r)
		fprintf(stderr, "warrenctl: undecodable answer from warrend\n");
	return r;
}

/* ---- ps ------------------------------------------------------------------------------- */

static void age(int64_t created_ns, char *out, size_t size)
{
	int64_t s = (wr_now_ns() - created_ns) / 1000000000LL;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(s / 86400));
}

static void row(const C(Object) *o, int depth)
{
	char a[16], id[40], pid[16] = "-";
	age(o->created_at, a, sizeof a);
	/* an exec's id is "<task>/<exec>": under its task, the exec's own part
	 * (cut to the column, the task's part would be all that showed) */
	const char *shown = o->id, *slash = strchr(o->id, '/');
	if (depth > 0 && slash && strcmp(o->kind, "exec") == 0)
		shown = slash + 1;
	snprintf(id, sizeof id, "%*s%.*s", 2 * depth, "", 32 - 2 * depth, shown);
	if (o->pid)
		snprintf(pid, sizeof pid, "%u", o->pid);
	printf("%-34s %-8s %-8s %-9s %-6s %-8s %s\n", id, o->kind, o->backend, o->state, a, pid,
	       o->namespace_);
}

/* x is a `kind` whose owner is o (same containerd namespace). */
static int owned_by(const C(Object) *x, const char *kind, const C(Object) *o)
{
	return !strcmp(x->kind, kind) && !strcmp(x->owner, o->id) &&
	       !strcmp(x->namespace_, o->namespace_);
}

/* A row, at depth, for every `kind` that o owns. */
static void rows_owned(const C(ListResponse) *r, const char *kind, const C(Object) *o, int depth)
{
	for (size_t i = 0; i < r->n_objects; i++)
		if (owned_by(r->objects[i], kind, o))
			row(r->objects[i], depth);
}

static int ps(const char *address, const char *ns)
{
	C(ListRequest) req = WARREN__CONTROL__V1__LIST_REQUEST__INIT;
	req.namespace_ = (char *)(ns ? ns : "");
	C(ListResponse) *r = (C(ListResponse) *)ask(address, "List", &req.base,
						    &warren__control__v1__list_response__descriptor);
	if (!r)
		return 1;
	printf("%-34s %-8s %-8s %-9s %-6s %-8s %s\n", "ID", "KIND", "BACKEND", "STATE", "AGE", "PID",
	       "NAMESPACE");
	/* sandboxes, each followed by its tasks and their execs; then standalone tasks */
	for (size_t i = 0; i < r->n_objects; i++) {
		const C(Object) *o = r->objects[i];
		if (strcmp(o->kind, "sandbox") != 0)
			continue;
		row(o, 0);
		for (size_t j = 0; j < r->n_objects; j++)
			if (owned_by(r->objects[j], "task", o)) {
				row(r->objects[j], 1);
				rows_owned(r, "exec", r->objects[j], 2);
			}
	}
	for (size_t i = 0; i < r->n_objects; i++) {
		const C(Object) *o = r->objects[i];
		if (strcmp(o->kind, "task") == 0 && !*o->owner) {
			row(o, 0);
			rows_owned(r, "exec", o, 1);
		}
	}
	if (!r->n_objects)
		printf("(no sandboxes or containers)\n");
	warren__control__v1__list_response__free_unpacked(r, NULL);
	return 0;
}

/* ---- inspect ------------------------------------------------------------------------------ */

static void print_json(const char *label, const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	printf("%s:\n", label);
	const char *pretty = j ? json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE)
			       : text;
	for (const char *p = pretty; *p;) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);
		printf("  %.*s\n", n, p);
		p += n + (nl ? 1 : 0);
	}
	json_object_put(j);
}

static void when(int64_t ns, char *out, size_t size)
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
		 tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
		 (int)(ns / 1000000 % 1000));
}

static int inspect(const char *address, const char *ns, const char *id)
{
	C(InspectRequest) req = WARREN__CONTROL__V1__INSPECT_REQUEST__INIT;
	req.namespace_ = (char *)(ns ? ns : "");
	req.id = (char *)id;
	C(InspectResponse) *r = (C(InspectResponse) *)ask(
		address, "Inspect", &req.base, &warren__control__v1__inspect_response__descriptor);
	if (!r)
		return 1;
	if (!r->object) {
		fprintf(stderr, "warrenctl: warrend's answer names no object\n");
		warren__control__v1__inspect_response__free_unpacked(r, NULL);
		return 1;
	}
	const C(Object) *o = r->object;
	char t[40];
	when(o->created_at, t, sizeof t);
	printf("%s %s (namespace %s, backend %s)\n", o->kind, o->id, o->namespace_, o->backend);
	printf("state:    %s\n", o->state);
	if (*o->owner)
		printf("owner:    %s\n", o->owner);
	if (o->pid)
		printf("pid:      %u\n", o->pid);
	printf("created:  %s\n", t);
	if (o->exited_at) {
		when(o->exited_at, t, sizeof t);
		printf("exited:   %s with status %d\n", t, o->exit_status);
	}
	if (*o->reason)
		printf("reason:   %s\n", o->reason);
	print_json("asked for (spec)", o->spec);
	print_json("holds (backend resources)", o->resources);
	printf("journal (%zu steps):\n", r->n_journal);
	for (size_t i = 0; i < r->n_journal; i++) {
		const C(JournalEntry) *e = r->journal[i];
		when(e->ts, t, sizeof t);
		printf("  %s %-10s %-9s -> %-9s %s%s%s", t, e->phase, e->from_state, e->to_state,
		       e->event, *e->action ? " runs " : "", e->action);
		if (e->code)
			printf("  failed: %s", e->message);
		printf("\n");
	}
	warren__control__v1__inspect_response__free_unpacked(r, NULL);
	return 0;
}

/* ---- stats -------------------------------------------------------------------------------- */

static double msec(int64_t ns)
{
	return (double)ns / 1e6;
}

static int by_name(const void *a, const void *b)
{
	const C(MethodStats) *x = *(const C(MethodStats) *const *)a;
	const C(MethodStats) *y = *(const C(MethodStats) *const *)b;
	int c = strcmp(x->service, y->service);
	return c ? c : strcmp(x->method, y->method);
}

static int stats(const char *address)
{
	C(StatsRequest) req = WARREN__CONTROL__V1__STATS_REQUEST__INIT;
	C(StatsResponse) *r = (C(StatsResponse) *)ask(address, "Stats", &req.base,
						      &warren__control__v1__stats_response__descriptor);
	if (!r)
		return 1;
	int64_t busy = r->wall_ns - r->idle_ns;
	printf("%-16s %u\n", "pid", r->pid);
	printf("%-16s %.3f\n", "wall_ms", msec(r->wall_ns));
	printf("%-16s %.3f\n", "busy_ms", msec(busy));
	printf("%-16s %.3f\n", "idle_ms", msec(r->idle_ns));
	printf("%-16s %.3f\n", "runtime_wait_ms", msec(r->runtime_wait_ns));
	printf("%-16s %llu\n", "runtime_calls", (unsigned long long)r->runtime_calls);
	printf("%-16s %.3f\n", "own_ms", msec(busy - r->runtime_wait_ns));
	printf("%-16s %.3f\n", "runtime_spawn_ms", msec(r->runtime_spawn_ns));
	printf("%-16s %.3f\n", "journal_ms", msec(r->journal_ns));
	printf("%-16s %llu\n", "journal_commits", (unsigned long long)r->journal_commits);
	printf("%-16s %.3f\n", "action_ms", msec(r->action_ns));
	printf("%-16s %llu\n", "actions", (unsigned long long)r->actions);
	printf("%-16s %.3f\n", "cpu_ms", msec(r->cpu_ns));
	printf("%-16s %llu\n", "loop_iterations", (unsigned long long)r->iterations);
	printf("%-16s %llu\n", "uncounted_calls", (unsigned long long)r->uncounted_calls);
	qsort(r->methods, r->n_methods, sizeof *r->methods, by_name);
	int width = 6;
	for (size_t i = 0; i < r->n_methods; i++) {
		int n = (int)(strlen(r->methods[i]->service) + 1 + strlen(r->methods[i]->method));
		width = n > width ? n : width;
	}
	printf("\n%-*s %8s %12s %12s %12s %12s\n", width, "method", "calls", "total_ms", "runtime_ms",
	       "idle_ms", "own_ms");
	for (size_t i = 0; i < r->n_methods; i++) {
		const C(MethodStats) *m = r->methods[i];
		char name[128];
		snprintf(name, sizeof name, "%s/%s", m->service, m->method);
		printf("%-*s %8llu %12.3f %12.3f %12.3f %12.3f\n", width, name, (unsigned long long)m->calls,
		       msec(m->total_ns), msec(m->runtime_ns), msec(m->idle_ns),
		       msec(m->total_ns - m->runtime_ns - m->idle_ns));
	}
	warren__control__v1__stats_response__free_unpacked(r, NULL);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: warrenctl [--containerd-address SOCK] ps [-n NAMESPACE]\n"
			"       warrenctl [--containerd-address SOCK] inspect [-n NAMESPACE] ID\n"
			"       warrenctl [--containerd-address SOCK] stats\n"
			"       warrenctl lifecycle [sandbox|task|exec]\n"
			"       warrenctl --version\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *address = DEFAULT_CONTAINERD;
	static const struct option opts[] = {
		{ "containerd-address", required_argument, NULL, 'a' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 },
	};
	for (int c; (c = getopt_long(argc, argv, "+a:Vh", opts, NULL)) != -1;) {
		switch (c) {
		case 'a': address = optarg; break;
		case 'V': printf("warrenctl %s\n", WARREN_VERSION); return 0;
		default: return c == 'h' ? (usage(), 0) : usage();
		}
	}
	if (optind >= argc)
		return usage();
	const char *cmd = argv[optind];
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	if (strcmp(cmd, "lifecycle") == 0)
		return sub_argc <= 2 ? lifecycle(sub_argc, sub_argv) : usage();
	const char *ns = NULL;
	optind = 1;
	for (int c; (c = getopt(sub_argc, sub_argv, "+n:")) != -1;) {
		if (c != 'n')
			return usage();
		ns = optarg;
	}
	if (strcmp(cmd, "ps") == 0)
		return optind == sub_argc ? ps(address, ns) : usage();
	if (strcmp(cmd, "inspect") == 0)
		return optind + 1 == sub_argc ? inspect(address, ns, sub_argv[optind]) : usage();
	if (strcmp(cmd, "stats") == 0)
		return optind == sub_argc && !ns ? stats(address) : usage();
	fprintf(stderr, "warrenctl: unknown command '%s'\n", cmd);
	return usage();
}
