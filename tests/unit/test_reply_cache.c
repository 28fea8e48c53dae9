/* test_reply_cache.c — the front's reply cache (src/relay/reply_cache.h) and
 * the change counters it trusts (src/core/objgen.h), with no process: the
 * front's table and the core's mapping of the same memfd live side by side,
 * the test plays both.
 *
 *  - keys: only SandboxStatus, Platform (sandbox v1) and State, Connect (task
 *    v3 and v2) get one; the timeout and metadata other than the namespace
 *    do not change it, the backend, namespace, service, method and payload do;
 *  - an answer kept while its object's counter holds comes back as a whole
 *    response frame for whichever stream asks, byte for byte;
 *  - any change of the object (touch, detach, a slot reused by another
 *    object, a change before the answer was even kept) makes it miss, and a
 *    stale answer is dropped when met;
 *  - clear, the bound, keys sharing a place never answering for each other,
 *    and a missing counter table (nothing cached is ever valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/objgen.h"
#include "core/object.h"
#include "relay/reply_cache.h"
#include "ttrpc/frame.h"

#define TASK3 "containerd.task.v3.Task"
#define TASK2 "containerd.task.v2.Task"
#define SANDBOX "containerd.runtime.sandbox.v1.Sandbox"

/* A request as the front decodes it from containerd's frame.  ns NULL: no
 * namespace metadata; extra: one more metadata pair (key, value) or NULL. */
static void decode_req(struct wr_ttrpc_request *req, const char *svc, const char *method,
		       const char *ns, const void *payload, size_t plen, int64_t timeout,
		       const struct wr_ttrpc_kv *extra)
{
	struct wr_ttrpc_kv md[2];
	size_t n_md = 0;
	if (extra)
		md[n_md++] = *extra;   /* before the namespace: order must not matter */
	if (ns)
		md[n_md++] = (struct wr_ttrpc_kv){ WR_TTRPC_NAMESPACE_KEY, ns };
	struct wr_error err;
	size_t n;
	uint8_t *f = wr_ttrpc_encode_request(1, svc, method, payload, plen, timeout, md, n_md,
					     &n, &err);
	assert_non_null(f);
	assert_true(n >= WR_TTRPC_HEADER_LEN);
	assert_int_equal(wr_ttrpc_request_decode(req, f + WR_TTRPC_HEADER_LEN,
						 n - WR_TTRPC_HEADER_LEN, &err), 0);
	free(f);
}

struct key {
	uint8_t *bytes;   /* NULL: no key */
	size_t len;
};

static struct key key_full(const char *backend, const char *svc, const char *method,
			   const char *ns, const void *payload, size_t plen, int64_t timeout,
			   const struct wr_ttrpc_kv *extra)
{
	struct wr_ttrpc_request req;
	decode_req(&req, svc, method, ns, payload, plen, timeout, extra);
	struct key k = { NULL, 0 };
	k.bytes = wr_reply_cache_key(backend, &req, &k.len);
	wr_ttrpc_request_free(&req);
	return k;
}

/* The usual question: backend "ns", namespace "k8s.io", no timeout. */
static struct key key_of(const char *svc, const char *method, const char *payload)
{
	return key_full("ns", svc, method, "k8s.io", payload, strlen(payload), 0, NULL);
}

static int key_equal(struct key a, struct key b)
{
	assert_non_null(a.bytes);
	assert_non_null(b.bytes);
	return a.len == b.len && memcmp(a.bytes, b.bytes, a.len) == 0;
}

/* The core's answer: a ttrpc.Response's data, malloc'd, *len bytes. */
static uint8_t *answer(const char *payload, size_t *len)
{
	struct wr_error err;
	size_t n;
	uint8_t *f = wr_ttrpc_encode_response(1, WR_OK, "", payload, strlen(payload), &n, &err);
	assert_non_null(f);
	*len = n - WR_TTRPC_HEADER_LEN;
	uint8_t *d = malloc(*len);
	assert_non_null(d);
	memcpy(d, f + WR_TTRPC_HEADER_LEN, *len);
	free(f);
	return d;
}

/* Both sides of one counter table (the front's and the core's mapping) and
 * the front's cache. */
struct tables {
	struct wr_objgen *front, *core;
	int fd;
	struct wr_reply_cache *c;
};

static void tables_open(struct tables *t)
{
	struct wr_error err;
	t->front = wr_objgen_create(&t->fd, &err);
	assert_non_null(t->front);
	assert_true(t->fd >= 0);
	int dfd = dup(t->fd);
	assert_true(dfd >= 0);
	t->core = wr_objgen_map(dfd, &err);   /* closes dfd */
	assert_non_null(t->core);
	t->c = wr_reply_cache_new();
	assert_non_null(t->c);
}

/* An object of the core with a counter, and the note of an answer about it now. */
static struct wr_object *attached(struct tables *t, enum wr_kind kind, const char *id,
				  struct wr_objgen_note *note)
{
	struct wr_object *o = wr_object_new(kind, "k8s.io", id, "", "ns");
	assert_non_null(o);
	wr_objgen_attach(t->core, o);
	assert_int_equal(wr_objgen_note_of(t->core, o, note), 0);
	return o;
}

static void release(struct tables *t, struct wr_object *o)
{
	wr_objgen_detach(t->core, o);
	wr_object_free(o);
}

static void tables_close(struct tables *t)
{
	wr_reply_cache_free(t->c);
	wr_objgen_free(t->core);
	wr_objgen_free(t->front);
	close(t->fd);
}

/* A get that must hit with exactly data for stream id. */
static void assert_hit(struct wr_reply_cache *c, const struct wr_objgen *g, struct key k,
		       uint32_t id, const uint8_t *data, size_t len)
{
	uint8_t *frame = NULL;
	size_t flen = 0;
	assert_int_equal(wr_reply_cache_get(c, g, k.bytes, k.len, id, &frame, &flen), 1);
	assert_non_null(frame);
	assert_int_equal(flen, WR_TTRPC_HEADER_LEN + len);
	struct wr_ttrpc_header h;
	wr_ttrpc_header_decode(frame, &h);
	assert_int_equal(h.type, WR_TTRPC_RESPONSE);
	assert_int_equal(h.stream_id, id);
	assert_int_equal(h.length, len);
	assert_int_equal(h.flags, 0);
	if (len)
		assert_memory_equal(frame + WR_TTRPC_HEADER_LEN, data, len);
	free(frame);
}

static int get(struct wr_reply_cache *c, const struct wr_objgen *g, struct key k, uint32_t id)
{
	uint8_t *frame = NULL;
	size_t flen = 0;
	int r = wr_reply_cache_get(c, g, k.bytes, k.len, id, &frame, &flen);
	if (r)
		free(frame);
	return r;
}

/* ---- keys ------------------------------------------------------------------ */

static void test_key_methods(void **state)
{
	(void)state;
	const struct { const char *svc, *method; int keyed; } cases[] = {
		{ SANDBOX, "SandboxStatus", 1 },
		{ SANDBOX, "Platform", 1 },
		{ TASK3, "State", 1 },
		{ TASK3, "Connect", 1 },
		{ TASK2, "State", 1 },
		{ TASK2, "Connect", 1 },
		{ SANDBOX, "CreateSandbox", 0 },
		{ SANDBOX, "WaitSandbox", 0 },
		{ SANDBOX, "State", 0 },        /* a cacheable name on the wrong service */
		{ SANDBOX, "Connect", 0 },
		{ TASK3, "SandboxStatus", 0 },
		{ TASK3, "Platform", 0 },
		{ TASK3, "Create", 0 },
		{ TASK3, "Wait", 0 },
		{ TASK3, "Kill", 0 },
		{ TASK3, "Stats", 0 },
		{ TASK2, "Create", 0 },
		{ TASK2, "Wait", 0 },
		{ "containerd.task.v1.Task", "State", 0 },
		{ "other.Svc", "State", 0 },
		{ "", "", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct key k = key_of(cases[i].svc, cases[i].method, "p");
		if (cases[i].keyed) {
			assert_non_null(k.bytes);
			assert_true(k.len > 0);
		} else {
			assert_null(k.bytes);
		}
		free(k.bytes);
	}
}

static void test_key_same_question(void **state)
{
	(void)state;
	const char *p = "\x0a\x03" "abc";
	struct key base = key_full("ns", TASK3, "State", "k8s.io", p, 5, 0, NULL);
	/* another timeout */
	struct key t = key_full("ns", TASK3, "State", "k8s.io", p, 5, 5000000000LL, NULL);
	assert_true(key_equal(base, t));
	/* other metadata (a trace header), before the namespace */
	struct wr_ttrpc_kv trace = { "traceparent", "00-0af7651916cd43dd8448eb211c80319c-01" };
	struct key m = key_full("ns", TASK3, "State", "k8s.io", p, 5, 0, &trace);
	assert_true(key_equal(base, m));
	struct wr_ttrpc_kv trace2 = { "traceparent", "00-ffffffffffffffffffffffffffffffff-01" };
	struct key m2 = key_full("ns", TASK3, "State", "k8s.io", p, 5, 123, &trace2);
	assert_true(key_equal(base, m2));
	free(base.bytes);
	free(t.bytes);
	free(m.bytes);
	free(m2.bytes);
}

static void test_key_other_question(void **state)
{
	(void)state;
	struct key base = key_full("ns", TASK3, "State", "k8s.io", "ab", 2, 0, NULL);
	struct key other[] = {
		key_full("vm", TASK3, "State", "k8s.io", "ab", 2, 0, NULL),       /* backend */
		key_full("ns", TASK3, "State", "default", "ab", 2, 0, NULL),      /* namespace */
		key_full("ns", TASK3, "State", NULL, "ab", 2, 0, NULL),           /* none */
		key_full("ns", TASK2, "State", "k8s.io", "ab", 2, 0, NULL),       /* service */
		key_full("ns", TASK3, "Connect", "k8s.io", "ab", 2, 0, NULL),     /* method */
		key_full("ns", TASK3, "State", "k8s.io", "ac", 2, 0, NULL),       /* payload */
		key_full("ns", TASK3, "State", "k8s.io", "ab\0", 3, 0, NULL),     /* longer */
		key_full("ns", TASK3, "State", "k8s.io", NULL, 0, 0, NULL),       /* empty */
		/* where one part ends and the next begins */
		key_full("ns", TASK3, "State", "k8s.ioab", "", 0, 0, NULL),
		key_full("nsx", TASK3, "State", "k8s.io", "ab", 2, 0, NULL),
	};
	size_t n = sizeof other / sizeof other[0];
	for (size_t i = 0; i < n; i++) {
		assert_false(key_equal(base, other[i]));
		for (size_t j = 0; j < i; j++)
			assert_false(key_equal(other[j], other[i]));
	}
	/* the namespace is the namespace key's value, not any other metadata's */
	struct wr_ttrpc_kv fake = { "namespace", "k8s.io" };
	struct key nons = key_full("ns", TASK3, "State", NULL, "ab", 2, 0, &fake);
	assert_true(key_equal(other[2], nons));
	assert_false(key_equal(base, nons));
	free(nons.bytes);
	for (size_t i = 0; i < n; i++)
		free(other[i].bytes);
	free(base.bytes);
}

/* ---- put / get ----------------------------------------------------------- */

static void test_put_get(void **state)
{
	(void)state;
	struct tables t;
	tables_open(&t);
	struct wr_object *o = wr_object_new(WR_KIND_SANDBOX, "k8s.io", "pod1", "", "ns");
	assert_non_null(o);
	assert_int_equal(o->gen_slot, -1);
	wr_objgen_attach(t.core, o);
	assert_true(o->gen_slot >= 0);
	struct wr_objgen_note note;
	assert_int_equal(wr_objgen_note_of(t.core, o, &note), 0);
	assert_int_equal(note.slot, o->gen_slot);
	assert_int_equal(note.reserved, 0);
	assert_true(note.gen > 0);
	/* the front sees what the core wrote */
	assert_int_equal(wr_objgen_read(t.front, note.slot), note.gen);

	struct wr_reply_cache *c = t.c;
	assert_int_equal(wr_reply_cache_count(c), 0);
	struct key k = key_of(SANDBOX, "SandboxStatus", "\x0a\x04pod1");
	assert_int_equal(get(c, t.front, k, 3), 0);   /* nothing kept yet */
	size_t dlen;
	uint8_t *data = answer("status of pod1", &dlen);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 1);
	assert_hit(c, t.front, k, 3, data, dlen);
	/* again, for another stream: still there, framed for that stream */
	assert_hit(c, t.front, k, 0x7ffffff1u, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 1);
	/* the cache made its own copy */
	memset(data, 0, dlen);
	free(data);
	data = answer("status of pod1", &dlen);
	assert_hit(c, t.front, k, 5, data, dlen);

	/* a key read back from a fresh request of the same question hits too */
	struct key k2 = key_full("ns", SANDBOX, "SandboxStatus", "k8s.io", "\x0a\x04pod1", 6,
				 2000000000LL, NULL);
	assert_hit(c, t.front, k2, 7, data, dlen);

	/* a new answer for the same key replaces the old one */
	size_t d2len;
	uint8_t *d2 = answer("status of pod1, again", &d2len);
	wr_reply_cache_put(c, k.bytes, k.len, &note, d2, d2len);
	assert_int_equal(wr_reply_cache_count(c), 1);
	assert_hit(c, t.front, k, 9, d2, d2len);

	/* an empty answer is an answer */
	struct key ke = key_of(SANDBOX, "Platform", "");
	wr_reply_cache_put(c, ke.bytes, ke.len, &note, NULL, 0);
	assert_int_equal(wr_reply_cache_count(c), 2);
	assert_hit(c, t.front, ke, 11, NULL, 0);

	free(d2);
	free(ke.bytes);
	free(k2.bytes);
	free(k.bytes);
	free(data);
	release(&t, o);
	tables_close(&t);
}

/* ---- invalidation -------------------------------------------------------- */

static void test_touch_invalidates(void **state)
{
	(void)state;
	struct tables t;
	tables_open(&t);
	struct wr_object *o = wr_object_new(WR_KIND_TASK, "k8s.io", "c1", "pod1", "ns");
	struct wr_object *other = wr_object_new(WR_KIND_TASK, "k8s.io", "c2", "pod1", "ns");
	assert_non_null(o);
	assert_non_null(other);
	wr_objgen_attach(t.core, o);
	wr_objgen_attach(t.core, other);
	assert_int_not_equal(o->gen_slot, other->gen_slot);
	struct wr_reply_cache *c = t.c;
	struct key k = key_of(TASK3, "State", "\x0a\x02" "c1");
	struct key ko = key_of(TASK3, "State", "\x0a\x02" "c2");
	size_t dlen;
	uint8_t *data = answer("running", &dlen);
	struct wr_objgen_note note, onote;
	assert_int_equal(wr_objgen_note_of(t.core, o, &note), 0);
	assert_int_equal(wr_objgen_note_of(t.core, other, &onote), 0);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	wr_reply_cache_put(c, ko.bytes, ko.len, &onote, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 2);
	assert_hit(c, t.front, k, 1, data, dlen);

	/* the object changes: its answer is stale and dropped, the other's stays */
	wr_objgen_touch(t.core, o);
	assert_int_equal(wr_objgen_read(t.front, note.slot), note.gen + 1);
	assert_int_equal(get(c, t.front, k, 3), 0);
	assert_int_equal(wr_reply_cache_count(c), 1);
	assert_int_equal(get(c, t.front, k, 5), 0);
	assert_int_equal(wr_reply_cache_count(c), 1);
	assert_hit(c, t.front, ko, 7, data, dlen);

	/* answered again after the change: valid again */
	assert_int_equal(wr_objgen_note_of(t.core, o, &note), 0);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 2);
	assert_hit(c, t.front, k, 9, data, dlen);

	/* a change between the core's answer and the front keeping it */
	struct wr_objgen_note early;
	assert_int_equal(wr_objgen_note_of(t.core, o, &early), 0);
	wr_objgen_touch(t.core, o);
	wr_reply_cache_put(c, k.bytes, k.len, &early, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 2);
	assert_int_equal(get(c, t.front, k, 11), 0);
	assert_int_equal(wr_reply_cache_count(c), 1);

	/* the other object removed: its answer goes too */
	wr_objgen_detach(t.core, other);
	assert_int_equal(other->gen_slot, -1);
	assert_int_equal(get(c, t.front, ko, 13), 0);
	assert_int_equal(wr_reply_cache_count(c), 0);

	free(k.bytes);
	free(ko.bytes);
	free(data);
	release(&t, o);
	wr_object_free(other);
	tables_close(&t);
}

static void test_slot_reused(void **state)
{
	(void)state;
	struct tables t;
	tables_open(&t);
	struct wr_object *a = wr_object_new(WR_KIND_SANDBOX, "k8s.io", "a", "", "ns");
	assert_non_null(a);
	wr_objgen_attach(t.core, a);
	int slot = a->gen_slot;
	assert_true(slot >= 0);
	struct wr_objgen_note note;
	assert_int_equal(wr_objgen_note_of(t.core, a, &note), 0);
	struct wr_reply_cache *c = t.c;
	struct key k = key_of(SANDBOX, "SandboxStatus", "\x0a\x01" "a");
	size_t dlen;
	uint8_t *data = answer("a is ready", &dlen);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_hit(c, t.front, k, 1, data, dlen);

	/* a goes, b comes and takes a's slot — nobody asked in between */
	release(&t, a);
	struct wr_object *b = wr_object_new(WR_KIND_SANDBOX, "k8s.io", "a", "", "ns");
	assert_non_null(b);
	wr_objgen_attach(t.core, b);
	assert_int_equal(b->gen_slot, slot);
	struct wr_objgen_note bnote;
	assert_int_equal(wr_objgen_note_of(t.core, b, &bnote), 0);
	assert_int_equal(bnote.slot, note.slot);
	assert_true(bnote.gen > note.gen);
	assert_int_equal(get(c, t.front, k, 3), 0);
	assert_int_equal(wr_reply_cache_count(c), 0);

	/* b's own answer is good */
	size_t blen;
	uint8_t *bdata = answer("the new a is ready", &blen);
	wr_reply_cache_put(c, k.bytes, k.len, &bnote, bdata, blen);
	assert_hit(c, t.front, k, 5, bdata, blen);

	free(bdata);
	free(data);
	free(k.bytes);
	release(&t, b);
	tables_close(&t);
}

/* ---- misses, clear, the bound ------------------------------------------ */

static void test_unknown_key_and_clear(void **state)
{
	(void)state;
	struct tables t;
	tables_open(&t);
	struct wr_object *o = wr_object_new(WR_KIND_TASK, "default", "t", "", "ns");
	assert_non_null(o);
	wr_objgen_attach(t.core, o);
	struct wr_objgen_note note;
	assert_int_equal(wr_objgen_note_of(t.core, o, &note), 0);
	struct wr_reply_cache *c = t.c;
	struct key k = key_full("ns", TASK2, "State", "default", "t", 1, 0, NULL);
	struct key kc = key_full("ns", TASK2, "Connect", "default", "t", 1, 0, NULL);
	struct key kn = key_full("ns", TASK2, "State", "k8s.io", "t", 1, 0, NULL);
	size_t dlen;
	uint8_t *data = answer("t", &dlen);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_int_equal(get(c, t.front, kc, 1), 0);
	assert_int_equal(get(c, t.front, kn, 1), 0);
	/* a prefix of the key, and the key with a byte more */
	assert_int_equal(wr_reply_cache_get(c, t.front, k.bytes, k.len - 1, 1, &(uint8_t *){ NULL },
					    &(size_t){ 0 }), 0);
	uint8_t *longer = malloc(k.len + 1);
	assert_non_null(longer);
	memcpy(longer, k.bytes, k.len);
	longer[k.len] = 0;
	assert_int_equal(wr_reply_cache_get(c, t.front, longer, k.len + 1, 1, &(uint8_t *){ NULL },
					    &(size_t){ 0 }), 0);
	free(longer);
	assert_int_equal(wr_reply_cache_count(c), 1);   /* a miss drops nothing */
	assert_hit(c, t.front, k, 1, data, dlen);

	wr_reply_cache_put(c, kc.bytes, kc.len, &note, data, dlen);
	assert_int_equal(wr_reply_cache_count(c), 2);
	wr_reply_cache_clear(c);
	assert_int_equal(wr_reply_cache_count(c), 0);
	assert_int_equal(get(c, t.front, k, 3), 0);
	assert_int_equal(get(c, t.front, kc, 3), 0);
	wr_reply_cache_clear(c);   /* twice is fine */
	assert_int_equal(wr_reply_cache_count(c), 0);
	/* usable after */
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_hit(c, t.front, k, 5, data, dlen);

	free(data);
	free(k.bytes);
	free(kc.bytes);
	free(kn.bytes);
	wr_reply_cache_free(NULL);
	release(&t, o);
	tables_close(&t);
}

static void test_bounded(void **state)
{
	(void)state;
	struct tables t;
	tables_open(&t);
	struct wr_objgen_note note;
	struct wr_object *o = attached(&t, WR_KIND_SANDBOX, "p", &note);
	struct wr_reply_cache *c = t.c;
	enum { N = WR_REPLY_CACHE_ENTRIES * 3 };
	struct key *keys = calloc(N, sizeof *keys);
	assert_non_null(keys);
	for (int i = 0; i < N; i++) {
		char p[32], d[32];
		snprintf(p, sizeof p, "pod-%d", i);
		snprintf(d, sizeof d, "answer-%d", i);
		keys[i] = key_of(SANDBOX, "SandboxStatus", p);
		wr_reply_cache_put(c, keys[i].bytes, keys[i].len, &note, (const uint8_t *)d,
				   strlen(d));
		assert_true(wr_reply_cache_count(c) <= WR_REPLY_CACHE_ENTRIES);
	}
	size_t held = wr_reply_cache_count(c);
	assert_true(held > 0);
	assert_true(held <= WR_REPLY_CACHE_ENTRIES);
	/* with three keys a place, many shared one: whatever still hits answers
	 * with its own data, never another key's; the last one put is there */
	size_t hits = 0;
	for (int i = 0; i < N; i++) {
		char d[32];
		snprintf(d, sizeof d, "answer-%d", i);
		uint8_t *frame = NULL;
		size_t flen = 0;
		if (!wr_reply_cache_get(c, t.front, keys[i].bytes, keys[i].len, 1, &frame, &flen))
			continue;
		hits++;
		assert_int_equal(flen, WR_TTRPC_HEADER_LEN + strlen(d));
		assert_memory_equal(frame + WR_TTRPC_HEADER_LEN, d, strlen(d));
		free(frame);
	}
	assert_int_equal(hits, held);
	assert_true(hits < N);
	assert_int_equal(get(c, t.front, keys[N - 1], 3), 1);
	for (int i = 0; i < N; i++)
		free(keys[i].bytes);
	free(keys);
	wr_reply_cache_clear(c);   /* frees every entry (LSan checks) */
	release(&t, o);
	tables_close(&t);
}

/* ---- no counter table ----------------------------------------------------- */

static void test_no_table(void **state)
{
	(void)state;
	/* every objgen function takes NULL and does nothing */
	struct wr_object *o = wr_object_new(WR_KIND_SANDBOX, "k8s.io", "p", "", "ns");
	assert_non_null(o);
	wr_objgen_attach(NULL, o);
	assert_int_equal(o->gen_slot, -1);
	wr_objgen_touch(NULL, o);
	wr_objgen_detach(NULL, o);
	struct wr_objgen_note note = { 0, 0, 0 };
	assert_int_equal(wr_objgen_note_of(NULL, o, &note), -1);
	assert_int_equal(wr_objgen_read(NULL, 0), 0);
	wr_objgen_free(NULL);

	/* an answer the cache holds is never valid without a table */
	struct tables t;
	tables_open(&t);
	wr_objgen_attach(t.core, o);
	assert_int_equal(wr_objgen_note_of(t.core, o, &note), 0);
	assert_int_equal(wr_objgen_read(t.front, WR_OBJGEN_SLOTS), 0);   /* out of range */
	struct wr_reply_cache *c = t.c;
	struct key k = key_of(SANDBOX, "Platform", "");
	size_t dlen;
	uint8_t *data = answer("linux/amd64", &dlen);
	wr_reply_cache_put(c, k.bytes, k.len, &note, data, dlen);
	assert_int_equal(get(c, NULL, k, 1), 0);
	assert_int_equal(get(c, t.front, k, 1), 0);   /* dropped by the miss above */
	assert_int_equal(wr_reply_cache_count(c), 0);
	/* a note naming a slot past the table never matches either */
	struct wr_objgen_note bad = { WR_OBJGEN_SLOTS, 0, 1 };
	wr_reply_cache_put(c, k.bytes, k.len, &bad, data, dlen);
	assert_int_equal(get(c, t.front, k, 1), 0);

	free(data);
	free(k.bytes);
	release(&t, o);
	tables_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_methods),
		cmocka_unit_test(test_key_same_question),
		cmocka_unit_test(test_key_other_question),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_touch_invalidates),
		cmocka_unit_test(test_slot_reused),
		cmocka_unit_test(test_unknown_key_and_clear),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_no_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
