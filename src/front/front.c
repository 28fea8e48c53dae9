/* front.c — the front end's frame: a ttrpc server per backend (fed by a
 * listening socket or by adopted connections), decoding and answering calls,
 * and engine steps that answer a call when they complete. */
#include "front/front_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/clock.h"
#include "core/log.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "ttrpc/frame.h"

struct wr_front *wr_front_new(struct ev_loop *loop, const char *ttrpc_address,
			      struct wr_error *err)
{
	struct wr_front *f = calloc(1, sizeof *f);
	if (!f) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	f->loop = loop;
	f->events = wr_events_new(loop, ttrpc_address);
	if (!f->events) {
		free(f);
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	return f;
}

void wr_front_free(struct wr_front *f)
{
	if (!f)
		return;
	if (f->collecting)
		ev_timer_stop(f->loop, &f->collector);
	for (struct wr_listener *l = f->listeners, *next; l; l = next) {
		next = l->next;
		wr_ttrpc_server_free(l->server);
		free(l);
	}
	wr_waiters_free(f);
	wr_events_free(f->events);
	free(f);
}

void wr_front_set_engine(struct wr_front *f, struct wr_engine *e)
{
	f->engine = e;
}

void wr_front_on_open(void *ctx, struct wr_engine *e)
{
	wr_front_set_engine(ctx, e);
}

void wr_front_on_transition(void *ctx, const struct wr_object *o, int from, int event, int to)
{
	wr_front_notify(ctx, o, from, event, to);
}

/* The listener (ttrpc server with both services) of backend, made on first use. */
static struct wr_listener *listener_of(struct wr_front *f, const char *backend,
				       struct wr_error *err)
{
	for (struct wr_listener *l = f->listeners; l; l = l->next)
		if (strcmp(l->backend, backend) == 0)
			return l;
	if (!wr_engine_backend(f->engine, backend)) {
		wr_error_set(err, WR_INVALID_ARGUMENT, "backend %s is not loaded", backend);
		return NULL;
	}
	struct wr_listener *l = calloc(1, sizeof *l);
	if (!l) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	l->front = f;
	snprintf(l->backend, sizeof l->backend, "%s", backend);
	l->server = wr_ttrpc_server_new(f->loop, err);
	if (!l->server) {
		free(l);
		return NULL;
	}
	if (wr_sandbox_api_register(l, err) < 0 || wr_task_api_register(l, err) < 0 ||
	    wr_control_api_register(l, err) < 0) {
		wr_ttrpc_server_free(l->server);
		free(l);
		return NULL;
	}
	l->next = f->listeners;
	f->listeners = l;
	return l;
}

int wr_front_listen(struct wr_front *f, const char *backend, const char *path,
		    struct wr_error *err)
{
	struct wr_listener *l = listener_of(f, backend, err);
	if (!l || wr_ttrpc_server_listen(l->server, path, err) < 0)
		return -1;
	wr_info("serving backend %s on %s", backend, path);
	return 0;
}

int wr_front_adopt(struct wr_front *f, const char *backend, int fd, struct wr_error *err)
{
	struct wr_listener *l = listener_of(f, backend, err);
	if (!l) {
		close(fd);
		return -1;
	}
	return wr_ttrpc_server_adopt(l->server, fd, err);
}

/* ---- calls ---------------------------------------------------------------- */

ProtobufCMessage *wr_front_decode(struct wr_ttrpc_call *call, const ProtobufCMessageDescriptor *desc)
{
	size_t len;
	const uint8_t *data = wr_ttrpc_call_payload(call, &len);
	ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, data);
	if (!m)
		wr_front_reply_code(call, WR_INVALID_ARGUMENT, "%s.%s: undecodable %s",
				    wr_ttrpc_call_service(call), wr_ttrpc_call_method(call),
				    desc->name);
	return m;
}

/* Pack m (not NULL) and answer with it, after note when note is not NULL. */
static void reply_packed(struct wr_ttrpc_call *call, const ProtobufCMessage *m,
			 const struct wr_objgen_note *note)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		wr_ttrpc_reply(call, WR_RESOURCE_EXHAUSTED, "out of memory", NULL, 0);
		return;
	}
	protobuf_c_message_pack(m, buf);
	if (note)
		wr_ttrpc_reply_noted(call, note, sizeof *note, buf, n);
	else
		wr_ttrpc_reply(call, WR_OK, NULL, buf, n);
	free(buf);
}

void wr_front_reply(struct wr_ttrpc_call *call, const ProtobufCMessage *m)
{
	if (!m)
		wr_ttrpc_reply(call, WR_OK, NULL, NULL, 0);
	else
		reply_packed(call, m, NULL);
}

void wr_front_reply_cached(struct wr_front *f, struct wr_ttrpc_call *call,
			   const ProtobufCMessage *m, const struct wr_object *o)
{
	struct wr_objgen_note note;
	reply_packed(call, m,
		     wr_objgen_note_of(wr_engine_gens(f->engine), o, &note) == 0 ? &note : NULL);
}

void wr_front_reply_code(struct wr_ttrpc_call *call, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	wr_debug("%s.%s: %s: %s", wr_ttrpc_call_service(call), wr_ttrpc_call_method(call),
		 wr_code_name(code), msg);
	wr_ttrpc_reply(call, code, msg, NULL, 0);
}

const char *wr_front_ns(struct wr_ttrpc_call *call)
{
	const char *ns = wr_ttrpc_call_namespace(call);
	return ns && *ns ? ns : "default";
}

Google__Protobuf__Timestamp *wr_front_timestamp(Google__Protobuf__Timestamp *ts, int64_t ns)
{
	google__protobuf__timestamp__init(ts);
	ts->seconds = ns / 1000000000;
	ts->nanos = (int32_t)(ns % 1000000000);
	return ts;
}

/* ---- engine steps ------------------------------------------------------------ */

static void step_cb(void *ctx, struct wr_object *o, const struct wr_error *result)
{
	struct wr_front_step *s = ctx;
	if (result->code != WR_OK)
		wr_info("%s.%s %s: %s", wr_ttrpc_call_service(s->call), wr_ttrpc_call_method(s->call),
			o ? o->id : "?", result->msg);
	if (wr_log_enabled(WR_LOG_DEBUG))
		wr_debug("%s %s %s: %s in %.2f ms", wr_ttrpc_call_method(s->call),
			 o ? wr_kind_name(o->kind) : "", o ? o->id : "?", wr_code_name(result->code),
			 (double)(wr_monotonic_ns() - s->t0) / 1e6);
	s->done(s, o, result);
	free(s);
}

static struct wr_front_step *step_new(struct wr_front *f, struct wr_ttrpc_call *call,
				      wr_step_done_fn done)
{
	struct wr_front_step *s = calloc(1, sizeof *s);
	if (!s) {
		wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	s->front = f;
	s->call = call;
	s->done = done;
	s->t0 = wr_monotonic_ns();
	return s;
}

void wr_front_submit(struct wr_front *f, struct wr_ttrpc_call *call, struct wr_object *o,
		     int event, struct json_object *args, wr_step_done_fn done)
{
	struct wr_front_step *s = step_new(f, call, done);
	if (s)
		wr_engine_submit(f->engine, o, event, args, step_cb, s);
}

void wr_front_submit_create(struct wr_front *f, struct wr_ttrpc_call *call,
			    struct wr_object *tmpl, wr_step_done_fn done)
{
	struct wr_front_step *s = step_new(f, call, done);
	if (!s) {
		wr_object_free(tmpl);
		return;
	}
	wr_engine_submit_create(f->engine, tmpl, NULL, step_cb, s);
}

void wr_front_done_empty(struct wr_front_step *s, struct wr_object *o, const struct wr_error *r)
{
	(void)o;
	if (r->code != WR_OK)
		wr_ttrpc_reply_error(s->call, r);
	else
		wr_front_reply(s->call, NULL);
}
