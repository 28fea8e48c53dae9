/* test_front.c — the containerd front end over ttrpc, with the fake backend.
 *
 * A real ttrpc client talks to the Sandbox and Task services on a private
 * socket; the engine runs over a journal in a temp dir; a second ttrpc
 * server stands in for containerd's Events/Forward and records the topics.
 * Checks the semantics containerd relies on (DESIGN §2): states and pids in
 * answers, Wait held until the exit, NotFound/FailedPrecondition used
 * precisely, idempotent Shutdown, events in order, bad input refused with
 * nothing changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>
#include <json-c/json.h>

#include "backends/fake/fake.h"
#include "containerd/events/task.pb-c.h"
#include "containerd/runtime/sandbox/v1/sandbox.pb-c.h"
#include "containerd/services/events/ttrpc/v1/events.pb-c.h"
#include "containerd/task/v3/shim.pb-c.h"
#include "core/engine.h"
#include "core/log.h"
#include "cri/runtime/v1/pod_sandbox_config.pb-c.h"
#include "front/front.h"
#include "tests/support/harness.h"
#include "lifecycle/task.h"
#include "ttrpc/client.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"

#define SB_SVC "containerd.runtime.sandbox.v1.Sandbox"
#define TASK_SVC "containerd.task.v3.Task"

struct fx {
	char dir[128], sock[192], events_sock[192], db[192], world[192], bundle[192];
	struct ev_loop *loop;
	struct wr_backend *fake;
	struct wr_backend *backends[1];   /* the engine keeps a pointer to this */
	struct wr_engine *engine;
	struct wr_front *front;
	struct wr_ttrpc_server *events;
	struct wr_ttrpc_client *client;
	ev_prepare flush;
	char topics[32][32];
	int n_topics;
};

struct result {
	int done, code;
	char msg[512];
	uint8_t payload[4096];
	size_t len;
};

static void flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	wr_engine_flush(w->data);
}

static void on_forward(struct wr_ttrpc_call *call, void *ctx)
{
	struct fx *fx = ctx;
	size_t len;
	const uint8_t *data = wr_ttrpc_call_payload(call, &len);
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest *req =
		containerd__services__events__ttrpc__v1__forward_request__unpack(NULL, len, data);
	assert_non_null(req);
	assert_non_null(req->envelope);
	assert_non_null(req->envelope->timestamp);
	assert_true(req->envelope->timestamp->seconds > 0);
	assert_string_equal(req->envelope->namespace_, "k8s.io");
	assert_true(strncmp(req->envelope->event->type_url, "containerd.events.Task", 22) == 0);
	if (fx->n_topics < 32)
		snprintf(fx->topics[fx->n_topics++], 32, "%s", req->envelope->topic);
	containerd__services__events__ttrpc__v1__forward_request__free_unpacked(req, NULL);
	wr_ttrpc_reply(call, WR_OK, NULL, NULL, 0);
}

static void write_config(const char *bundle, const char *sandbox, const char *content)
{
	char path[256];
	mkdir(bundle, 0700);
	snprintf(path, sizeof path, "%s/config.json", bundle);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	if (content)
		fputs(content, f);
	else if (sandbox && *sandbox)
		fprintf(f, "{\"ociVersion\":\"1.2.1\",\"annotations\":"
			   "{\"io.kubernetes.cri.sandbox-id\":\"%s\"}}", sandbox);
	else
		fputs("{\"ociVersion\":\"1.2.1\"}", f);
	fclose(f);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/wr-front-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->sock, sizeof fx->sock, "%s/fake.sock", fx->dir);
	snprintf(fx->events_sock, sizeof fx->events_sock, "%s/events.sock", fx->dir);
	snprintf(fx->db, sizeof fx->db, "%s/warren.db", fx->dir);
	snprintf(fx->world, sizeof fx->world, "%s/world", fx->dir);
	snprintf(fx->bundle, sizeof fx->bundle, "%s/bundle", fx->dir);
	fx->loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_error err;
	fx->events = wr_ttrpc_server_new(fx->loop, &err);
	assert_int_equal(wr_ttrpc_server_register(fx->events,
						  "containerd.services.events.ttrpc.v1.Events",
						  "Forward", on_forward, fx, &err), 0);
	assert_int_equal(wr_ttrpc_server_listen(fx->events, fx->events_sock, &err), 0);
	fx->fake = wr_fake_new("fake", fx->world, &err);
	assert_non_null(fx->fake);
	fx->front = wr_front_new(fx->loop, fx->events_sock, &err);
	assert_non_null(fx->front);
	fx->backends[0] = fx->fake;
	struct wr_engine_config cfg = { .db_path = fx->db, .backends = fx->backends, .n_backends = 1,
					.on_transition = wr_front_on_transition,
					.on_transition_ctx = fx->front };
	assert_int_equal(wr_engine_open(&fx->engine, &cfg, &err), 0);
	wr_front_set_engine(fx->front, fx->engine);
	assert_int_equal(wr_front_listen(fx->front, "fake", fx->sock, &err), 0);
	ev_prepare_init(&fx->flush, flush_cb);
	fx->flush.data = fx->engine;
	ev_prepare_start(fx->loop, &fx->flush);
	fx->client = wr_ttrpc_client_connect(fx->loop, fx->sock, &err);
	assert_non_null(fx->client);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	wr_ttrpc_client_free(fx->client);
	ev_prepare_stop(fx->loop, &fx->flush);
	wr_front_free(fx->front);
	wr_engine_close(fx->engine);
	fx->fake->ops->destroy(fx->fake);
	wr_ttrpc_server_free(fx->events);
	ev_loop_destroy(fx->loop);
	assert_int_equal(harness_rmrf(fx->dir), 0);
	free(fx);
	return 0;
}

/* ---- calls ------------------------------------------------------------------ */

static void on_result(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	struct result *r = ctx;
	r->done = 1;
	r->code = code;
	snprintf(r->msg, sizeof r->msg, "%s", msg);
	assert_true(len <= sizeof r->payload);
	r->len = len;
	if (len)
		memcpy(r->payload, payload, len);
}

static void run_until(struct fx *fx, const int *flag, double secs)
{
	ev_tstamp end = ev_time() + secs;
	while (!*flag && ev_time() < end)
		ev_run(fx->loop, EVRUN_NOWAIT);
}

/* Start a call; the caller runs the loop. */
static void send(struct fx *fx, const char *svc, const char *method, const ProtobufCMessage *m,
		 struct result *r)
{
	uint8_t buf[4096];
	size_t n = m ? protobuf_c_message_pack(m, buf) : 0;
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	struct wr_error err;
	memset(r, 0, sizeof *r);
	assert_int_equal(wr_ttrpc_client_call(fx->client, svc, method, buf, n, md, 1, 0, on_result,
					      r, &err), 0);
}

static struct result rpc(struct fx *fx, const char *svc, const char *method,
			 const ProtobufCMessage *m)
{
	struct result r;
	send(fx, svc, method, m, &r);
	run_until(fx, &r.done, 5);
	assert_true(r.done);
	return r;
}

#define SBM(name) Containerd__Runtime__Sandbox__V1__##name
#define TM(name) Containerd__Task__V3__##name

static struct result sandbox_call(struct fx *fx, const char *method, const char *id)
{
	/* Start/Stop/Wait/Status/Ping/Shutdown/Platform requests all carry
	 * sandbox_id = 1 only; Stop's timeout_secs stays 0. */
	SBM(StartSandboxRequest) req = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	return rpc(fx, SB_SVC, method, &req.base);
}

static struct result task_call(struct fx *fx, const char *method, const char *id,
			       const char *exec_id)
{
	/* Start/Delete/State/Wait requests are {id = 1, exec_id = 2}. */
	TM(StartRequest) req = CONTAINERD__TASK__V3__START_REQUEST__INIT;
	req.id = (char *)id;
	req.exec_id = (char *)(exec_id ? exec_id : "");
	return rpc(fx, TASK_SVC, method, &req.base);
}

static void create_sandbox(struct fx *fx, const char *id)
{
	Runtime__V1__PodSandboxConfig pc = RUNTIME__V1__POD_SANDBOX_CONFIG__INIT;
	pc.hostname = "pod-host";
	uint8_t pcbuf[256];
	size_t pclen = runtime__v1__pod_sandbox_config__pack(&pc, pcbuf);
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = "runtime.v1.PodSandboxConfig";
	any.value.data = pcbuf;
	any.value.len = pclen;
	SBM(CreateSandboxRequest) req = CONTAINERD__RUNTIME__SANDBOX__V1__CREATE_SANDBOX_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	req.bundle_path = fx->dir;
	req.netns_path = "/var/run/netns/cni-test";
	req.options = &any;
	struct result r = rpc(fx, SB_SVC, "CreateSandbox", &req.base);
	assert_int_equal(r.code, WR_OK);
	struct wr_object *o = wr_engine_find(fx->engine, WR_KIND_SANDBOX, "k8s.io", id);
	assert_non_null(o);
	assert_non_null(strstr(o->spec, "\"hostname\":\"pod-host\""));
	assert_non_null(strstr(o->spec, "cni-test"));
}

static const char *status_state(struct result *r)
{
	static char state[64];
	SBM(SandboxStatusResponse) *s =
		containerd__runtime__sandbox__v1__sandbox_status_response__unpack(NULL, r->len,
										 r->payload);
	assert_non_null(s);
	snprintf(state, sizeof state, "%s", s->state);
	containerd__runtime__sandbox__v1__sandbox_status_response__free_unpacked(s, NULL);
	return state;
}

/* SandboxStatus's info: how many entries, and whether key is one of them. */
static size_t status_info(struct fx *fx, const char *id, int verbose, const char *key, int *has)
{
	SBM(SandboxStatusRequest) req = CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_STATUS_REQUEST__INIT;
	req.sandbox_id = (char *)id;
	req.verbose = verbose;
	struct result r = rpc(fx, SB_SVC, "SandboxStatus", &req.base);
	assert_int_equal(r.code, WR_OK);
	SBM(SandboxStatusResponse) *s =
		containerd__runtime__sandbox__v1__sandbox_status_response__unpack(NULL, r.len,
										 r.payload);
	assert_non_null(s);
	size_t n = s->n_info;
	*has = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->info[i]->key, key) == 0)
			*has = 1;
	containerd__runtime__sandbox__v1__sandbox_status_response__free_unpacked(s, NULL);
	return n;
}

static void create_task(struct fx *fx, const char *id, int want)
{
	TM(CreateTaskRequest) req = CONTAINERD__TASK__V3__CREATE_TASK_REQUEST__INIT;
	req.id = (char *)id;
	req.bundle = fx->bundle;
	req.stdout = "/tmp/nonexistent-fifo";
	struct result r = rpc(fx, TASK_SVC, "Create", &req.base);
	assert_int_equal(r.code, want);
}

static uint32_t wait_status(struct result *r)
{
	TM(WaitResponse) *w = containerd__task__v3__wait_response__unpack(NULL, r->len, r->payload);
	assert_non_null(w);
	uint32_t s = w->exit_status;
	containerd__task__v3__wait_response__free_unpacked(w, NULL);
	return s;
}

/* The container's process exits, as the reaper would report it. */
static void task_exits(struct fx *fx, const char *id, int status)
{
	struct wr_object *o = wr_engine_find(fx->engine, WR_KIND_TASK, "k8s.io", id);
	assert_non_null(o);
	struct json_object *args = json_object_new_object();
	json_object_object_add(args, "exit_status", json_object_new_int(status));
	json_object_object_add(args, "exited_at", json_object_new_int64(1700000000000000000LL));
	struct wr_error err;
	assert_int_equal(wr_dispatch(fx->engine, o, TASK_E_EXIT, args, &err), 0);
	json_object_put(args);
}

/* ---- cases ------------------------------------------------------------------ */

static void test_sandbox_lifecycle(void **state)
{
	struct fx *fx = *state;
	create_sandbox(fx, "pod1");
	struct result r = sandbox_call(fx, "SandboxStatus", "pod1");
	assert_int_equal(r.code, WR_OK);
	assert_string_equal(status_state(&r), "SANDBOX_NOTREADY");
	assert_int_equal(sandbox_call(fx, "StartSandbox", "pod1").code, WR_OK);
	r = sandbox_call(fx, "SandboxStatus", "pod1");
	assert_string_equal(status_state(&r), "SANDBOX_READY");
	/* info: warren's view always, the backend's record only when verbose */
	int has;
	assert_int_equal(status_info(fx, "pod1", 0, "warren.state", &has), 2);
	assert_true(has);
	assert_true(status_info(fx, "pod1", 1, "warren.backend", &has) > 2);
	assert_true(has);
	assert_int_equal(sandbox_call(fx, "PingSandbox", "pod1").code, WR_OK);
	r = sandbox_call(fx, "Platform", "pod1");
	assert_int_equal(r.code, WR_OK);
	SBM(PlatformResponse) *p =
		containerd__runtime__sandbox__v1__platform_response__unpack(NULL, r.len, r.payload);
	assert_string_equal(p->platform->os, "linux");
	containerd__runtime__sandbox__v1__platform_response__free_unpacked(p, NULL);

	/* WaitSandbox is held, other calls still answered, Stop releases it */
	struct result wait;
	SBM(WaitSandboxRequest) wreq = CONTAINERD__RUNTIME__SANDBOX__V1__WAIT_SANDBOX_REQUEST__INIT;
	wreq.sandbox_id = "pod1";
	send(fx, SB_SVC, "WaitSandbox", &wreq.base, &wait);
	assert_int_equal(sandbox_call(fx, "PingSandbox", "pod1").code, WR_OK);
	assert_false(wait.done);
	assert_int_equal(sandbox_call(fx, "StopSandbox", "pod1").code, WR_OK);
	run_until(fx, &wait.done, 5);
	assert_true(wait.done);
	assert_int_equal(wait.code, WR_OK);
	r = sandbox_call(fx, "SandboxStatus", "pod1");
	assert_string_equal(status_state(&r), "SANDBOX_NOTREADY");
	/* a held Wait on a stopped sandbox answers at once */
	assert_int_equal(rpc(fx, SB_SVC, "WaitSandbox", &wreq.base).code, WR_OK);

	assert_int_equal(sandbox_call(fx, "ShutdownSandbox", "pod1").code, WR_OK);
	assert_int_equal(sandbox_call(fx, "ShutdownSandbox", "pod1").code, WR_OK);
	assert_int_equal(sandbox_call(fx, "StopSandbox", "pod1").code, WR_OK);
	assert_int_equal(sandbox_call(fx, "SandboxStatus", "pod1").code, WR_NOT_FOUND);
	assert_int_equal(wr_fake_count(fx->fake), 0);
}

static void test_task_lifecycle_and_events(void **state)
{
	struct fx *fx = *state;
	write_config(fx->bundle, NULL, NULL);
	create_task(fx, "c1", WR_OK);
	struct result r = task_call(fx, "State", "c1", NULL);
	assert_int_equal(r.code, WR_OK);
	TM(StateResponse) *st = containerd__task__v3__state_response__unpack(NULL, r.len, r.payload);
	assert_int_equal(st->status, CONTAINERD__V1__TYPES__STATUS__CREATED);
	assert_string_equal(st->bundle, fx->bundle);
	assert_string_equal(st->stdout, "/tmp/nonexistent-fifo");
	containerd__task__v3__state_response__free_unpacked(st, NULL);

	assert_int_equal(task_call(fx, "Start", "c1", NULL).code, WR_OK);

	/* ResizePty, CloseIO: a backend without them (the fake) succeeds doing
	 * nothing; an unknown task or exec is NotFound */
	TM(ResizePtyRequest) rz = CONTAINERD__TASK__V3__RESIZE_PTY_REQUEST__INIT;
	rz.id = "c1";
	rz.width = 80;
	rz.height = 24;
	assert_int_equal(rpc(fx, TASK_SVC, "ResizePty", &rz.base).code, WR_OK);
	rz.exec_id = "e9";
	assert_int_equal(rpc(fx, TASK_SVC, "ResizePty", &rz.base).code, WR_NOT_FOUND);
	TM(CloseIORequest) cio = CONTAINERD__TASK__V3__CLOSE_IOREQUEST__INIT;
	cio.id = "c1";
	cio.stdin = 1;
	assert_int_equal(rpc(fx, TASK_SVC, "CloseIO", &cio.base).code, WR_OK);
	cio.id = "ghost";
	assert_int_equal(rpc(fx, TASK_SVC, "CloseIO", &cio.base).code, WR_NOT_FOUND);

	struct result wait;
	TM(WaitRequest) wreq = CONTAINERD__TASK__V3__WAIT_REQUEST__INIT;
	wreq.id = "c1";
	send(fx, TASK_SVC, "Wait", &wreq.base, &wait);
	assert_int_equal(task_call(fx, "State", "c1", NULL).code, WR_OK);
	assert_false(wait.done);

	task_exits(fx, "c1", 3);
	run_until(fx, &wait.done, 5);
	assert_int_equal(wait.code, WR_OK);
	assert_int_equal(wait_status(&wait), 3);

	/* a stopped task: kill → NotFound, start → FailedPrecondition */
	TM(KillRequest) kreq = CONTAINERD__TASK__V3__KILL_REQUEST__INIT;
	kreq.id = "c1";
	kreq.signal = 9;
	assert_int_equal(rpc(fx, TASK_SVC, "Kill", &kreq.base).code, WR_NOT_FOUND);
	r = task_call(fx, "Start", "c1", NULL);
	assert_int_equal(r.code, WR_FAILED_PRECONDITION);

	r = task_call(fx, "Delete", "c1", NULL);
	assert_int_equal(r.code, WR_OK);
	TM(DeleteResponse) *d = containerd__task__v3__delete_response__unpack(NULL, r.len, r.payload);
	assert_int_equal(d->exit_status, 3);
	containerd__task__v3__delete_response__free_unpacked(d, NULL);
	assert_int_equal(task_call(fx, "Delete", "c1", NULL).code, WR_NOT_FOUND);
	assert_int_equal(wr_fake_count(fx->fake), 0);

	/* events reach "containerd" in transition order */
	ev_tstamp end = ev_time() + 5;
	while (fx->n_topics < 4 && ev_time() < end)
		ev_run(fx->loop, EVRUN_NOWAIT);
	assert_int_equal(fx->n_topics, 4);
	assert_string_equal(fx->topics[0], "/tasks/create");
	assert_string_equal(fx->topics[1], "/tasks/start");
	assert_string_equal(fx->topics[2], "/tasks/exit");
	assert_string_equal(fx->topics[3], "/tasks/delete");
}

static void test_task_in_sandbox(void **state)
{
	struct fx *fx = *state;
	write_config(fx->bundle, "pod2", NULL);
	create_task(fx, "c2", WR_NOT_FOUND);   /* the sandbox does not exist */
	create_sandbox(fx, "pod2");
	create_task(fx, "c2", WR_FAILED_PRECONDITION);   /* not started */
	assert_int_equal(sandbox_call(fx, "StartSandbox", "pod2").code, WR_OK);
	create_task(fx, "c2", WR_OK);
	create_task(fx, "c2", WR_ALREADY_EXISTS);
	struct wr_object *o = wr_engine_find(fx->engine, WR_KIND_TASK, "k8s.io", "c2");
	assert_string_equal(o->owner, "pod2");
	/* State of a sandbox id is NotFound; Connect answers for it (v2 too) */
	assert_int_equal(task_call(fx, "State", "pod2", NULL).code, WR_NOT_FOUND);
	TM(ConnectRequest) c = CONTAINERD__TASK__V3__CONNECT_REQUEST__INIT;
	c.id = "pod2";
	assert_int_equal(rpc(fx, TASK_SVC, "Connect", &c.base).code, WR_OK);
	assert_int_equal(rpc(fx, "containerd.task.v2.Task", "Connect", &c.base).code, WR_OK);
	c.id = "nope";
	assert_int_equal(rpc(fx, TASK_SVC, "Connect", &c.base).code, WR_NOT_FOUND);
	/* Shutdown never ends the daemon */
	assert_int_equal(rpc(fx, TASK_SVC, "Shutdown", &c.base).code, WR_OK);
	assert_int_equal(task_call(fx, "Delete", "c2", NULL).code, WR_OK);
	assert_int_equal(sandbox_call(fx, "ShutdownSandbox", "pod2").code, WR_OK);
	assert_int_equal(wr_fake_count(fx->fake), 0);
}

static void test_bad_input(void **state)
{
	struct fx *fx = *state;
	/* undecodable payload */
	struct result r;
	uint8_t junk[] = { 0x0a, 0xff, 0xff };
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	struct wr_error err;
	memset(&r, 0, sizeof r);
	assert_int_equal(wr_ttrpc_client_call(fx->client, TASK_SVC, "Create", junk, sizeof junk, md,
					      1, 0, on_result, &r, &err), 0);
	run_until(fx, &r.done, 5);
	assert_int_equal(r.code, WR_INVALID_ARGUMENT);
	/* unknown ids */
	assert_int_equal(task_call(fx, "Start", "ghost", NULL).code, WR_NOT_FOUND);
	assert_int_equal(task_call(fx, "State", "ghost", "e1").code, WR_NOT_FOUND);
	assert_int_equal(sandbox_call(fx, "StartSandbox", "ghost").code, WR_NOT_FOUND);
	/* a broken config.json */
	write_config(fx->bundle, NULL, "{ this is not json");
	create_task(fx, "c3", WR_INVALID_ARGUMENT);
	r = task_call(fx, "State", "c3", NULL);
	assert_int_equal(r.code, WR_NOT_FOUND);
	/* a backend failure is the call's error and leaves no object */
	write_config(fx->bundle, NULL, NULL);
	wr_fake_fail(fx->fake, WR_KIND_TASK, "create", WR_INTERNAL, 1);
	create_task(fx, "c4", WR_INTERNAL);
	assert_int_equal(task_call(fx, "State", "c4", NULL).code, WR_NOT_FOUND);
	/* unimplemented */
	assert_int_equal(task_call(fx, "Checkpoint", "c4", NULL).code, WR_UNIMPLEMENTED);
	assert_int_equal(wr_fake_count(fx->fake), 0);
}

/* Objects containerd forgot (bundle gone) are stopped and removed by the
 * collector, one lifecycle step per pass; objects with a bundle are not
 * touched. */
static void test_collect_forgotten(void **state)
{
	struct fx *fx = *state;
	char kept[256];
	snprintf(kept, sizeof kept, "%s/kept", fx->dir);
	write_config(kept, NULL, NULL);
	write_config(fx->bundle, "pod3", NULL);
	create_sandbox(fx, "pod3");
	assert_int_equal(sandbox_call(fx, "StartSandbox", "pod3").code, WR_OK);
	create_task(fx, "c5", WR_OK);
	assert_int_equal(task_call(fx, "Start", "c5", NULL).code, WR_OK);
	/* a standalone task whose bundle stays */
	TM(CreateTaskRequest) req = CONTAINERD__TASK__V3__CREATE_TASK_REQUEST__INIT;
	req.id = "c6";
	req.bundle = kept;
	assert_int_equal(rpc(fx, TASK_SVC, "Create", &req.base).code, WR_OK);
	assert_int_equal(wr_front_collect(fx->front), 0);   /* nothing forgotten */

	/* containerd forgets pod3: its bundles go (the sandbox's is fx->dir's
	 * bundle path here, shared by its task) */
	struct wr_object *sb = wr_engine_find(fx->engine, WR_KIND_SANDBOX, "k8s.io", "pod3");
	assert_non_null(sb);
	char sbbundle[256];
	snprintf(sbbundle, sizeof sbbundle, "%s/sb", fx->dir);
	mkdir(sbbundle, 0700);
	char spec[512];
	snprintf(spec, sizeof spec, "{\"bundle\":\"%s\"}", sbbundle);
	wr_object_set(&sb->spec, spec);
	assert_int_equal(harness_rmrf(fx->bundle), 0);
	assert_int_equal(rmdir(sbbundle), 0);
	/* pass 1 kills the running container; its process then dies (the fake
	 * is told so), pass 2 sees it gone (Lost), then Delete, then Shutdown */
	assert_int_equal(wr_front_collect(fx->front), 1);
	wr_engine_flush(fx->engine);
	assert_true(wr_fake_calls(fx->fake, WR_KIND_TASK, "kill") >= 1);
	struct wr_object *t = wr_engine_find(fx->engine, WR_KIND_TASK, "k8s.io", "c5");
	assert_non_null(t);
	assert_int_equal(wr_fake_exit(fx->fake, t, 137), 0);
	int passes = 0;
	while (passes < 10 && wr_front_collect(fx->front) > 0) {
		wr_engine_flush(fx->engine);
		passes++;
	}
	assert_int_equal(passes, 3);
	assert_null(wr_engine_find(fx->engine, WR_KIND_TASK, "k8s.io", "c5"));
	assert_null(wr_engine_find(fx->engine, WR_KIND_SANDBOX, "k8s.io", "pod3"));
	assert_non_null(wr_engine_find(fx->engine, WR_KIND_TASK, "k8s.io", "c6"));
	assert_int_equal(task_call(fx, "Delete", "c6", NULL).code, WR_OK);
	assert_int_equal(wr_fake_count(fx->fake), 0);
}

int main(void)
{
	wr_log_init("test_front", -1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sandbox_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_lifecycle_and_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_in_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_collect_forgotten, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
