/* sandbox_api.c — containerd.runtime.sandbox.v1.Sandbox over the engine.
 *
 * containerd's CRI (sandboxer = "shim") calls these for every pod: Create
 * (with the CRI PodSandboxConfig as an Any and the netns it wired with
 * CNI), Start, Status, a WaitSandbox held for the pod's life, Stop, and
 * Shutdown on removal (DESIGN §2).  Shutdown and Stop of a sandbox warren no
 * longer knows succeed: containerd retries them after restarts. */
#include "front/front_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "containerd/runtime/sandbox/v1/sandbox.pb-c.h"
#include "core/log.h"
#include "cri/runtime/v1/pod_sandbox_config.pb-c.h"
#include "lifecycle/sandbox.h"

#define SB_SERVICE "containerd.runtime.sandbox.v1.Sandbox"

static struct json_object *strings(char **v, size_t n)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static const char *ns_mode(int mode)
{
	switch (mode) {
	case RUNTIME__V1__NAMESPACE_MODE__NODE: return "node";
	case RUNTIME__V1__NAMESPACE_MODE__CONTAINER: return "container";
	case RUNTIME__V1__NAMESPACE_MODE__TARGET: return "target";
	default: return "pod";
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Fold the CRI PodSandboxConfig into the sandbox spec (see backends/ns/ns.h
 * for the fields the ns backend reads). */
static int add_pod_config(struct json_object *spec, const Google__Protobuf__Any *opt,
			  struct wr_error *err)
{
	if (!opt || !opt->type_url || !*opt->type_url)
		return 0;
	if (!ends_with(opt->type_url, "runtime.v1.PodSandboxConfig"))
		return 0;   /* unknown options: nothing warren reads */
	Runtime__V1__PodSandboxConfig *c =
		runtime__v1__pod_sandbox_config__unpack(NULL, opt->value.len, opt->value.data);
	if (!c)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "sandbox options: undecodable runtime.v1.PodSandboxConfig");
	json_object_object_add(spec, "hostname", json_object_new_string(c->hostname));
	json_object_object_add(spec, "log_directory", json_object_new_string(c->log_directory));
	if (c->metadata) {
		json_object_object_add(spec, "pod_name", json_object_new_string(c->metadata->name));
		json_object_object_add(spec, "pod_namespace",
				       json_object_new_string(c->metadata->namespace_));
	}
	if (c->dns_config) {
		struct json_object *dns = json_object_new_object();
		json_object_object_add(dns, "servers",
				       strings(c->dns_config->servers, c->dns_config->n_servers));
		json_object_object_add(dns, "searches",
				       strings(c->dns_config->searches, c->dns_config->n_searches));
		json_object_object_add(dns, "options",
				       strings(c->dns_config->options, c->dns_config->n_options));
		json_object_object_add(spec, "dns", dns);
	}
	if (c->linux) {
		json_object_object_add(spec, "cgroup_parent",
				       json_object_new_string(c->linux->cgroup_parent));
		Runtime__V1__NamespaceOption *no =
			c->linux->security_context ? c->linux->security_context->namespace_options
						   : NULL;
		if (no) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "network", json_object_new_string(ns_mode(no->network)));
			json_object_object_add(o, "pid", json_object_new_string(ns_mode(no->pid)));
			json_object_object_add(o, "ipc", json_object_new_string(ns_mode(no->ipc)));
			json_object_object_add(spec, "ns_options", o);
		}
		if (c->linux->n_sysctls) {
			struct json_object *sc = json_object_new_object();
			for (size_t i = 0; i < c->linux->n_sysctls; i++)
				json_object_object_add(sc, c->linux->sysctls[i]->key,
						       json_object_new_string(c->linux->sysctls[i]->value));
			json_object_object_add(spec, "sysctls", sc);
		}
	}
	runtime__v1__pod_sandbox_config__free_unpacked(c, NULL);
	return 0;
}

static struct wr_object *find_sandbox(struct wr_listener *l, struct wr_ttrpc_call *call,
				      const char *id)
{
	return wr_engine_find(l->front->engine, WR_KIND_SANDBOX, wr_front_ns(call), id);
}

static void not_found(struct wr_ttrpc_call *call, const char *id)
{
	wr_front_reply_code(call, WR_NOT_FOUND, "sandbox %s: not found", id);
}

#define SB(name) Containerd__Runtime__Sandbox__V1__##name
#define sb(name) containerd__runtime__sandbox__v1__##name
#define DECODE(type, lower, var)                                                           \
	type *var = (type *)wr_front_decode(call, &sb(lower##__descriptor));               \
	if (!var)                                                                          \
		return

/* ---- Create --------------------------------------------------------------------- */

static void create_sandbox(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(CreateSandboxRequest), create_sandbox_request, req);
	struct wr_error err;
	struct json_object *spec = json_object_new_object();
	json_object_object_add(spec, "bundle", json_object_new_string(req->bundle_path));
	json_object_object_add(spec, "netns", json_object_new_string(req->netns_path));
	if (!*req->sandbox_id) {
		wr_front_reply_code(call, WR_INVALID_ARGUMENT, "CreateSandbox: empty sandbox_id");
	} else if (add_pod_config(spec, req->options, &err) < 0) {
		wr_ttrpc_reply_error(call, &err);
	} else {
		struct wr_object *t = wr_object_new(WR_KIND_SANDBOX, wr_front_ns(call),
						    req->sandbox_id, "", l->backend);
		if (!t || wr_object_set(&t->spec, json_object_to_json_string_ext(
							    spec, JSON_C_TO_STRING_PLAIN)) < 0) {
			wr_object_free(t);
			wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		} else {
			wr_info("CreateSandbox %s (backend %s, netns %s)", req->sandbox_id,
				l->backend, *req->netns_path ? req->netns_path : "host");
			wr_front_submit_create(l->front, call, t, wr_front_done_empty);
		}
	}
	json_object_put(spec);
	sb(create_sandbox_request__free_unpacked)(req, NULL);
}

/* ---- Start ---------------------------------------------------------------------- */

static void started(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r)
{
	if (r->code != WR_OK) {
		wr_ttrpc_reply_error(s->call, r);
		return;
	}
	SB(StartSandboxResponse) resp = CONTAINERD__RUNTIME__SANDBOX__V1__START_SANDBOX_RESPONSE__INIT;
	Google__Protobuf__Timestamp ts;
	resp.pid = (uint32_t)o->pid;
	resp.created_at = wr_front_timestamp(&ts, o->created_at);
	wr_front_reply(s->call, &resp.base);
}

static void start_sandbox(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(StartSandboxRequest), start_sandbox_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o)
		not_found(call, req->sandbox_id);
	else if (o->state == SANDBOX_S_READY)
		started(&(struct wr_front_step){ .call = call }, o, &(struct wr_error){ 0 });
	else
		wr_front_submit(l->front, call, o, SANDBOX_E_START, NULL, started);
	sb(start_sandbox_request__free_unpacked)(req, NULL);
}

/* ---- Platform, Ping ------------------------------------------------------------- */

static void platform(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(PlatformRequest), platform_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o) {
		not_found(call, req->sandbox_id);
	} else {
		struct utsname u;
		uname(&u);
		const char *arch = strcmp(u.machine, "x86_64") == 0    ? "amd64"
				   : strcmp(u.machine, "aarch64") == 0 ? "arm64"
								       : u.machine;
		Containerd__Types__Platform p = CONTAINERD__TYPES__PLATFORM__INIT;
		p.os = "linux";
		p.architecture = (char *)arch;
		SB(PlatformResponse) resp = CONTAINERD__RUNTIME__SANDBOX__V1__PLATFORM_RESPONSE__INIT;
		resp.platform = &p;
		wr_front_reply_cached(l->front, call, &resp.base, o);
	}
	sb(platform_request__free_unpacked)(req, NULL);
}

static void ping(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(PingRequest), ping_request, req);
	if (!find_sandbox(l, call, req->sandbox_id))
		not_found(call, req->sandbox_id);
	else
		wr_front_reply(call, NULL);
	sb(ping_request__free_unpacked)(req, NULL);
}

/* ---- Stop, Wait, Shutdown ------------------------------------------------------------- */

static void stop_sandbox(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(StopSandboxRequest), stop_sandbox_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o)
		wr_front_reply(call, NULL);   /* already gone: stopping it is done */
	else
		wr_front_submit(l->front, call, o, SANDBOX_E_STOP, NULL, wr_front_done_empty);
	sb(stop_sandbox_request__free_unpacked)(req, NULL);
}

static void wait_sandbox(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(WaitSandboxRequest), wait_sandbox_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o)
		not_found(call, req->sandbox_id);
	else if (o->state == SANDBOX_S_STOPPED || o->state == SANDBOX_S_FAILED)
		wr_wait_reply(call, o);
	else
		wr_waiters_add(l->front, call, WR_KIND_SANDBOX, o->ns, o->id);
	sb(wait_sandbox_request__free_unpacked)(req, NULL);
}

static void shutdown_sandbox(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(ShutdownSandboxRequest), shutdown_sandbox_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o) {
		wr_front_reply(call, NULL);   /* idempotent */
	} else {
		wr_info("ShutdownSandbox %s", o->id);
		wr_front_submit(l->front, call, o, SANDBOX_E_SHUTDOWN, NULL, wr_front_done_empty);
	}
	sb(shutdown_sandbox_request__free_unpacked)(req, NULL);
}

/* ---- Status --------------------------------------------------------------------- */

static void sandbox_status(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *l = ctx;
	DECODE(SB(SandboxStatusRequest), sandbox_status_request, req);
	struct wr_object *o = find_sandbox(l, call, req->sandbox_id);
	if (!o) {
		not_found(call, req->sandbox_id);
		sb(sandbox_status_request__free_unpacked)(req, NULL);
		return;
	}
	SB(SandboxStatusResponse) resp =
		CONTAINERD__RUNTIME__SANDBOX__V1__SANDBOX_STATUS_RESPONSE__INIT;
	Google__Protobuf__Timestamp created, exited;
	resp.sandbox_id = o->id;
	resp.pid = (uint32_t)o->pid;
	resp.state = o->state == SANDBOX_S_READY ? "SANDBOX_READY" : "SANDBOX_NOTREADY";
	resp.created_at = wr_front_timestamp(&created, o->created_at);
	if (o->exited_at)
		resp.exited_at = wr_front_timestamp(&exited, o->exited_at);

	/* info: warren's own view, plus what the backend holds when verbose
	 * (crictl inspectp; CRI asks non-verbose several times per pod start and
	 * reads nothing of it, so the backend's record is not read then) */
	struct json_object *info = NULL;
	struct wr_backend *b = wr_engine_backend(l->front->engine, o->backend);
	struct wr_error err;
	if (req->verbose && b && b->ops->sandbox_status &&
	    b->ops->sandbox_status(b, o, &info, &err) < 0)
		info = NULL;
	if (!info)
		info = json_object_new_object();
	const struct wr_lifecycle *lc = wr_lifecycle_of(WR_KIND_SANDBOX);
	json_object_object_add(info, "warren.state", json_object_new_string(lc->state_names[o->state]));
	json_object_object_add(info, "warren.backend", json_object_new_string(o->backend));
	size_t n = (size_t)json_object_object_length(info), i = 0;
	SB(SandboxStatusResponse__InfoEntry) entries[n ? n : 1], *ptrs[n ? n : 1];
	json_object_object_foreach(info, key, val)
	{
		sb(sandbox_status_response__info_entry__init)(&entries[i]);
		entries[i].key = key;
		entries[i].value = (char *)(json_object_is_type(val, json_type_string)
						    ? json_object_get_string(val)
						    : json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
		ptrs[i] = &entries[i];
		i++;
	}
	resp.n_info = i;
	resp.info = ptrs;
	if (req->verbose)   /* the backend's record is read live */
		wr_front_reply(call, &resp.base);
	else
		wr_front_reply_cached(l->front, call, &resp.base, o);
	json_object_put(info);
	sb(sandbox_status_request__free_unpacked)(req, NULL);
}

static void sandbox_metrics(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	wr_front_reply_code(call, WR_UNIMPLEMENTED, "SandboxMetrics is not implemented yet");
}

int wr_sandbox_api_register(struct wr_listener *l, struct wr_error *err)
{
	static const struct {
		const char *method;
		wr_ttrpc_handler_fn fn;
	} methods[] = {
		{ "CreateSandbox", create_sandbox },   { "StartSandbox", start_sandbox },
		{ "Platform", platform },              { "StopSandbox", stop_sandbox },
		{ "WaitSandbox", wait_sandbox },       { "SandboxStatus", sandbox_status },
		{ "PingSandbox", ping },               { "ShutdownSandbox", shutdown_sandbox },
		{ "SandboxMetrics", sandbox_metrics },
	};
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (wr_ttrpc_server_register(l->server, SB_SERVICE, methods[i].method,
					     methods[i].fn, l, err) < 0)
			return -1;
	return 0;
}
