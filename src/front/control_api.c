/* control_api.c — warren.control.v1.Control: what warrenctl shows.
 *
 * List answers every live object from the engine's memory (state names from
 * the compiled charts); Inspect adds the object's journal history from the
 * store, oldest first.  Stats answers the core's own timing counters
 * (core/stats.h).  Read-only: nothing here submits an event.  Served on
 * every backend socket, so warrenctl needs nothing but the socket path. */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/lifecycle.h"
#include "core/stats.h"
#include "core/store.h"
#include "warren/control/v1/control.pb-c.h"

#define C(name) Warren__Control__V1__##name

struct list {
	const char *ns;
	C(Object) *objs;
	C(Object) **ptrs;
	size_t n, cap;
};

static void fill(C(Object) *m, const struct wr_object *o)
{
	warren__control__v1__object__init(m);
	m->kind = (char *)wr_kind_name(o->kind);
	m->namespace_ = o->ns;
	m->id = o->id;
	m->owner = o->owner;
	m->backend = o->backend;
	m->state = (char *)wr_lifecycle_of(o->kind)->state_names[o->state];
	m->pid = (uint32_t)o->pid;
	m->exit_status = o->exit_status;
	m->created_at = o->created_at;
	m->updated_at = o->updated_at;
	m->exited_at = o->exited_at;
	m->reason = o->reason;
	m->spec = o->spec;
	m->resources = o->bstate;
}

static void collect(void *ctx, struct wr_object *o)
{
	struct list *l = ctx;
	if (*l->ns && strcmp(l->ns, o->ns) != 0)
		return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		C(Object) *objs = realloc(l->objs, cap * sizeof *objs);
		if (!objs)
			return;
		l->objs = objs;
		l->cap = cap;
	}
	fill(&l->objs[l->n++], o);
}

static void list(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *lis = ctx;
	C(ListRequest) *req = (C(ListRequest) *)wr_front_decode(
		call, &warren__control__v1__list_request__descriptor);
	if (!req)
		return;
	struct list l = { .ns = req->namespace_ };
	wr_engine_foreach(lis->front->engine, collect, &l);
	l.ptrs = calloc(l.n ? l.n : 1, sizeof *l.ptrs);
	if (!l.ptrs) {
		wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
	} else {
		for (size_t i = 0; i < l.n; i++)
			l.ptrs[i] = &l.objs[i];
		C(ListResponse) resp = WARREN__CONTROL__V1__LIST_RESPONSE__INIT;
		resp.n_objects = l.n;
		resp.objects = l.ptrs;
		wr_front_reply(call, &resp.base);
	}
	free(l.ptrs);
	free(l.objs);
	warren__control__v1__list_request__free_unpacked(req, NULL);
}

struct history {
	C(JournalEntry) *rows;
	char **strings;     /* every string copied out of the store's rows */
	size_t n, cap, n_strings;
	int failed;
};

static char *keep(struct history *h, const char *s)
{
	char *copy = strdup(s ? s : "");
	char **more = copy ? realloc(h->strings, (h->n_strings + 1) * sizeof *more) : NULL;
	if (!more) {
		free(copy);
		h->failed = 1;
		return "";
	}
	h->strings = more;
	h->strings[h->n_strings++] = copy;
	return copy;
}

static int add_row(void *ctx, const struct wr_journal_row *row)
{
	static const char *phases[] = { "intent", "outcome", "transition" };
	struct history *h = ctx;
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 32;
		C(JournalEntry) *rows = realloc(h->rows, cap * sizeof *rows);
		if (!rows) {
			h->failed = 1;
			return -1;
		}
		h->rows = rows;
		h->cap = cap;
	}
	C(JournalEntry) *e = &h->rows[h->n++];
	warren__control__v1__journal_entry__init(e);
	e->seq = row->seq;
	e->ts = row->ts;
	e->phase = (char *)phases[row->phase];
	e->from_state = keep(h, row->from);
	e->event = keep(h, row->event);
	e->action = keep(h, row->action);
	e->to_state = keep(h, row->to);
	e->code = row->code;
	e->message = keep(h, row->message);
	return 0;
}

struct by_id {
	struct wr_object *found;
	const char *id;
};

static void visit(void *ctx, struct wr_object *o)
{
	struct by_id *q = ctx;
	if (!q->found && strcmp(o->id, q->id) == 0)
		q->found = o;
}

/* A sandbox, task or exec by id: in namespace ns, or in any when ns is "". */
static struct wr_object *find_any(struct wr_engine *e, const char *ns, const char *id)
{
	if (*ns) {
		for (int k = 0; k < WR_KIND_COUNT; k++) {
			struct wr_object *o = wr_engine_find(e, k, ns, id);
			if (o)
				return o;
		}
		return NULL;
	}
	struct by_id q = { NULL, id };
	wr_engine_foreach(e, visit, &q);
	return q.found;
}

static void inspect(struct wr_ttrpc_call *call, void *ctx)
{
	struct wr_listener *lis = ctx;
	C(InspectRequest) *req = (C(InspectRequest) *)wr_front_decode(
		call, &warren__control__v1__inspect_request__descriptor);
	if (!req)
		return;
	struct wr_engine *e = lis->front->engine;
	struct wr_object *o = find_any(e, req->namespace_, req->id);
	struct history h = { 0 };
	struct wr_error err;
	if (!o) {
		wr_front_reply_code(call, WR_NOT_FOUND, "%s: no such sandbox, task or exec", req->id);
	} else if (wr_store_history(wr_engine_store(e), o->kind, o->ns, o->id, add_row, &h,
				    &err) < 0 || h.failed) {
		if (h.failed)
			wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		else
			wr_ttrpc_reply_error(call, &err);
	} else {
		C(Object) obj;
		fill(&obj, o);
		C(JournalEntry) **ptrs = calloc(h.n ? h.n : 1, sizeof *ptrs);
		if (!ptrs) {
			wr_front_reply_code(call, WR_RESOURCE_EXHAUSTED, "out of memory");
		} else {
			for (size_t i = 0; i < h.n; i++)
				ptrs[i] = &h.rows[i];
			C(InspectResponse) resp = WARREN__CONTROL__V1__INSPECT_RESPONSE__INIT;
			resp.object = &obj;
			resp.n_journal = h.n;
			resp.journal = ptrs;
			wr_front_reply(call, &resp.base);
			free(ptrs);
		}
	}
	for (size_t i = 0; i < h.n_strings; i++)
		free(h.strings[i]);
	free(h.strings);
	free(h.rows);
	warren__control__v1__inspect_request__free_unpacked(req, NULL);
}

static void stats(struct wr_ttrpc_call *call, void *ctx)
{
	(void)ctx;
	C(StatsRequest) *req = (C(StatsRequest) *)wr_front_decode(
		call, &warren__control__v1__stats_request__descriptor);
	if (!req)
		return;
	warren__control__v1__stats_request__free_unpacked(req, NULL);
	struct wr_stats s;
	wr_stats_read(&s);
	C(MethodStats) m[WR_STATS_METHODS], *ptrs[WR_STATS_METHODS];
	size_t n = 0;
	for (int i = 0; i < s.n_methods; i++) {
		const struct wr_stats_method *x = &s.methods[i];
		if (!x->calls)
			continue;
		warren__control__v1__method_stats__init(&m[n]);
		m[n].service = (char *)x->service;
		m[n].method = (char *)x->method;
		m[n].calls = x->calls;
		m[n].total_ns = x->total_ns;
		m[n].runtime_ns = x->runtime_ns;
		m[n].idle_ns = x->idle_ns;
		ptrs[n] = &m[n];
		n++;
	}
	C(StatsResponse) resp = WARREN__CONTROL__V1__STATS_RESPONSE__INIT;
	resp.pid = (uint32_t)getpid();
	resp.wall_ns = s.wall_ns;
	resp.idle_ns = s.idle_ns;
	resp.runtime_wait_ns = s.runtime_wait_ns;
	resp.runtime_calls = s.runtime_calls;
	resp.runtime_spawn_ns = s.runtime_spawn_ns;
	resp.journal_ns = s.journal_ns;
	resp.journal_commits = s.journal_commits;
	resp.action_ns = s.action_ns;
	resp.actions = s.actions;
	resp.cpu_ns = wr_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	resp.iterations = s.iterations;
	resp.uncounted_calls = s.uncounted;
	resp.n_methods = n;
	resp.methods = ptrs;
	wr_front_reply(call, &resp.base);
}

int wr_control_api_register(struct wr_listener *l, struct wr_error *err)
{
	static const struct {
		const char *method;
		wr_ttrpc_handler_fn fn;
	} methods[] = { { "List", list }, { "Inspect", inspect }, { "Stats", stats } };
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (wr_ttrpc_server_register(l->server, "warren.control.v1.Control",
					     methods[i].method, methods[i].fn, l, err) < 0)
			return -1;
	return 0;
}
