/* test_relay_book.c — what warrend's front process remembers per containerd
 * connection (src/relay/book.h) and of reaped exits (src/relay/exits.h), with
 * no process and no socket: frames go in as containerd and the core would
 * send them, and the test checks what would go out.
 *
 *  - requests are tracked until the core answers them; a core answer to
 *    nothing tracked is dropped;
 *  - the core dies: Wait (task v3 and v2) and WaitSandbox keep their exact
 *    frames for the next core — again after a second death — and everything
 *    else is answered Unavailable "warren core restarting", exactly once;
 *  - containerd's protocol violations close the connection, as the ttrpc
 *    server's rules say; an oversized request is answered here;
 *  - reply cache bookkeeping: with a backend set, the cacheable requests get
 *    their reply cache key (relay/reply_cache.h); the core's note is kept on
 *    its tracked request, and the answer takes the request, note and all;
 *  - exit records: one per pid, acknowledged by (pid, time), bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "relay/book.h"
#include "relay/exits.h"
#include "relay/reply_cache.h"
#include "ttrpc/frame.h"

#define TASK3 "containerd.task.v3.Task"
#define TASK2 "containerd.task.v2.Task"
#define SANDBOX "containerd.runtime.sandbox.v1.Sandbox"

struct sent {               /* one request as containerd sent it */
	uint8_t *bytes;
	size_t len;
};

/* Feed one request frame to the book as containerd's; returns the verdict. */
static int request(struct wr_relay_book *b, uint32_t id, const char *svc, const char *method,
		   struct sent *keep)
{
	struct wr_error err;
	size_t n;
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	uint8_t *f = wr_ttrpc_encode_request(id, svc, method, "payload", 7, 0, md, 1, &n, &err);
	assert_non_null(f);
	struct wr_ttrpc_frame fr;
	wr_ttrpc_header_decode(f, &fr.hdr);
	fr.data = f + WR_TTRPC_HEADER_LEN;
	uint8_t *reply;
	size_t rlen;
	int v = wr_relay_book_client(b, &fr, WR_TTRPC_FRAME, &reply, &rlen, &err);
	free(reply);
	if (keep) {
		keep->bytes = f;
		keep->len = n;
	} else {
		free(f);
	}
	return v;
}

static int raw_frame(struct wr_relay_book *b, uint32_t id, uint8_t type, int kind,
		     uint8_t **reply, size_t *rlen)
{
	struct wr_error err;
	struct wr_ttrpc_frame fr = { .hdr = { kind == WR_TTRPC_OVERSIZED ? (5u << 20) : 0, id,
					      type, 0 }, .data = NULL };
	return wr_relay_book_client(b, &fr, kind, reply, rlen, &err);
}

/* Split a byte string of frames into responses: ids and codes. */
struct answer {
	uint32_t id;
	int code;
	char msg[64];
};

static int answers_of(const uint8_t *buf, size_t len, struct answer *out, int max)
{
	struct wr_ttrpc_reader rd;
	struct wr_error err;
	wr_ttrpc_reader_init(&rd, 0);
	if (len)
		assert_int_equal(wr_ttrpc_reader_feed(&rd, buf, len, &err), 0);
	int n = 0;
	struct wr_ttrpc_frame f;
	while (wr_ttrpc_reader_next(&rd, &f) == WR_TTRPC_FRAME) {
		assert_true(n < max);
		assert_int_equal(f.hdr.type, WR_TTRPC_RESPONSE);
		struct wr_ttrpc_response r;
		assert_int_equal(wr_ttrpc_response_decode(&r, f.data, f.hdr.length, &err), 0);
		out[n].id = f.hdr.stream_id;
		out[n].code = r.code;
		snprintf(out[n].msg, sizeof out[n].msg, "%s", r.message);
		wr_ttrpc_response_free(&r);
		n++;
	}
	assert_int_equal(wr_ttrpc_reader_pending(&rd), 0);
	wr_ttrpc_reader_free(&rd);
	return n;
}

static void test_is_wait(void **state)
{
	(void)state;
	assert_true(wr_relay_is_wait(TASK3, "Wait"));
	assert_true(wr_relay_is_wait(TASK2, "Wait"));
	assert_true(wr_relay_is_wait(SANDBOX, "WaitSandbox"));
	assert_false(wr_relay_is_wait(SANDBOX, "Wait"));
	assert_false(wr_relay_is_wait(TASK3, "WaitSandbox"));
	assert_false(wr_relay_is_wait(TASK3, "State"));
	assert_false(wr_relay_is_wait("other.Svc", "Wait"));
	assert_false(wr_relay_is_wait("", ""));
}

static void test_tracked_until_answered(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	assert_int_equal(request(&b, 1, TASK3, "Create", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 3, TASK3, "Wait", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 5, TASK3, "State", NULL), WR_RELAY_FORWARD);
	assert_int_equal(b.n, 3);
	assert_int_equal(wr_relay_book_core(&b, 5), 1);
	assert_int_equal(wr_relay_book_core(&b, 5), 0);   /* a second answer: dropped */
	assert_int_equal(wr_relay_book_core(&b, 7), 0);   /* nothing asked */
	assert_int_equal(wr_relay_book_core(&b, 1), 1);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.head->stream_id, 3);
	assert_true(b.head->reissue);
	assert_ptr_equal(b.head, b.tail);
	/* the tail is right after removals: appending still works */
	assert_int_equal(request(&b, 9, TASK3, "Kill", NULL), WR_RELAY_FORWARD);
	assert_int_equal(b.tail->stream_id, 9);
	assert_int_equal(wr_relay_book_core(&b, 9), 1);
	assert_ptr_equal(b.tail, b.head);
	assert_int_equal(wr_relay_book_core(&b, 3), 1);
	assert_null(b.head);
	assert_null(b.tail);
	wr_relay_book_free(&b);
}

static void test_core_lost(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	struct sent w3, ws, w2;
	assert_int_equal(request(&b, 1, TASK3, "Create", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 3, TASK3, "Wait", &w3), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 5, SANDBOX, "WaitSandbox", &ws), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 7, SANDBOX, "SandboxStatus", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 9, TASK2, "Wait", &w2), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 11, TASK3, "Start", NULL), WR_RELAY_FORWARD);
	assert_int_equal(wr_relay_book_core(&b, 11), 1);   /* answered before the death */

	uint8_t *answers, *resend;
	size_t alen, rlen;
	struct wr_error err;
	assert_int_equal(wr_relay_book_core_lost(&b, &answers, &alen, &resend, &rlen, &err), 0);
	struct answer a[8];
	assert_int_equal(answers_of(answers, alen, a, 8), 2);
	assert_int_equal(a[0].id, 1);
	assert_int_equal(a[1].id, 7);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(a[i].code, WR_UNAVAILABLE);
		assert_string_equal(a[i].msg, WR_RELAY_RESTARTING);
	}
	/* the waits, byte for byte as containerd sent them, in stream order */
	assert_int_equal(rlen, w3.len + ws.len + w2.len);
	assert_memory_equal(resend, w3.bytes, w3.len);
	assert_memory_equal(resend + w3.len, ws.bytes, ws.len);
	assert_memory_equal(resend + w3.len + ws.len, w2.bytes, w2.len);
	free(answers);
	free(resend);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.tail->stream_id, 9);

	/* The next core answers one wait, then dies too: the other two again,
	 * and nothing is answered twice. */
	assert_int_equal(request(&b, 13, TASK3, "State", NULL), WR_RELAY_FORWARD);
	assert_int_equal(wr_relay_book_core(&b, 5), 1);
	assert_int_equal(wr_relay_book_core_lost(&b, &answers, &alen, &resend, &rlen, &err), 0);
	assert_int_equal(answers_of(answers, alen, a, 8), 1);
	assert_int_equal(a[0].id, 13);
	assert_int_equal(rlen, w3.len + w2.len);
	assert_memory_equal(resend, w3.bytes, w3.len);
	assert_memory_equal(resend + w3.len, w2.bytes, w2.len);
	free(answers);
	free(resend);

	/* ids keep increasing across restarts: an old id is still a violation */
	assert_int_equal(request(&b, 13, TASK3, "State", NULL), WR_RELAY_REJECT);
	assert_int_equal(request(&b, 15, TASK3, "State", NULL), WR_RELAY_FORWARD);

	/* nothing pending but waits answered: empty outputs */
	assert_int_equal(wr_relay_book_core(&b, 3), 1);
	assert_int_equal(wr_relay_book_core(&b, 9), 1);
	assert_int_equal(wr_relay_book_core(&b, 15), 1);
	assert_int_equal(wr_relay_book_core_lost(&b, &answers, &alen, &resend, &rlen, &err), 0);
	assert_null(answers);
	assert_null(resend);
	assert_int_equal(alen + rlen, 0);
	free(w3.bytes);
	free(ws.bytes);
	free(w2.bytes);
	wr_relay_book_free(&b);
}

static void test_undecodable_request_answered(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	uint8_t junk[] = { 0x0a, 0xff, 0xff };
	struct wr_ttrpc_frame fr = { .hdr = { sizeof junk, 1, WR_TTRPC_REQUEST, 0 }, .data = junk };
	uint8_t *reply;
	size_t rlen;
	struct wr_error err;
	/* forwarded: the core answers InvalidArgument, unless it dies first */
	assert_int_equal(wr_relay_book_client(&b, &fr, WR_TTRPC_FRAME, &reply, &rlen, &err),
			 WR_RELAY_FORWARD);
	assert_int_equal(b.n, 1);
	assert_false(b.head->reissue);
	uint8_t *answers, *resend;
	size_t alen;
	assert_int_equal(wr_relay_book_core_lost(&b, &answers, &alen, &resend, &rlen, &err), 0);
	struct answer a[2];
	assert_int_equal(answers_of(answers, alen, a, 2), 1);
	assert_int_equal(a[0].code, WR_UNAVAILABLE);
	free(answers);
	wr_relay_book_free(&b);
}

static void test_protocol_rules(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	uint8_t *reply;
	size_t rlen;
	/* stream ids: odd and increasing */
	assert_int_equal(request(&b, 2, TASK3, "State", NULL), WR_RELAY_REJECT);
	assert_int_equal(request(&b, 5, TASK3, "State", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 3, TASK3, "State", NULL), WR_RELAY_REJECT);
	/* a response or unknown type from containerd */
	assert_int_equal(raw_frame(&b, 7, WR_TTRPC_RESPONSE, WR_TTRPC_FRAME, &reply, &rlen),
			 WR_RELAY_REJECT);
	assert_int_equal(raw_frame(&b, 7, 9, WR_TTRPC_FRAME, &reply, &rlen), WR_RELAY_REJECT);
	/* data frames pass, untracked; an oversized one is dropped */
	assert_int_equal(raw_frame(&b, 5, WR_TTRPC_DATA, WR_TTRPC_FRAME, &reply, &rlen),
			 WR_RELAY_FORWARD);
	assert_int_equal(raw_frame(&b, 5, WR_TTRPC_DATA, WR_TTRPC_OVERSIZED, &reply, &rlen),
			 WR_RELAY_DROP);
	assert_int_equal(b.n, 1);
	/* an oversized request is answered here, never reaches the core */
	assert_int_equal(raw_frame(&b, 7, WR_TTRPC_REQUEST, WR_TTRPC_OVERSIZED, &reply, &rlen),
			 WR_RELAY_ANSWERED);
	struct answer a[2];
	assert_int_equal(answers_of(reply, rlen, a, 2), 1);
	assert_int_equal(a[0].id, 7);
	assert_int_equal(a[0].code, WR_RESOURCE_EXHAUSTED);
	free(reply);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.last_id, 7);
	wr_relay_book_free(&b);
}

/* ---- reply cache bookkeeping ---------------------------------------------- */

/* The key the reply cache gives the request request() sends. */
static uint8_t *expected_key(const char *backend, const char *svc, const char *method,
			     size_t *len)
{
	struct wr_error err;
	size_t n;
	struct wr_ttrpc_kv md[] = { { WR_TTRPC_NAMESPACE_KEY, "k8s.io" } };
	uint8_t *f = wr_ttrpc_encode_request(1, svc, method, "payload", 7, 0, md, 1, &n, &err);
	assert_non_null(f);
	struct wr_ttrpc_request req;
	assert_int_equal(wr_ttrpc_request_decode(&req, f + WR_TTRPC_HEADER_LEN,
						 n - WR_TTRPC_HEADER_LEN, &err), 0);
	uint8_t *k = wr_reply_cache_key(backend, &req, len);
	wr_ttrpc_request_free(&req);
	free(f);
	return k;
}

static void test_cache_keys(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	assert_null(b.backend);
	b.backend = "ns";
	assert_int_equal(request(&b, 1, SANDBOX, "SandboxStatus", NULL), WR_RELAY_FORWARD);
	assert_non_null(b.tail->key);
	size_t klen;
	uint8_t *k = expected_key("ns", SANDBOX, "SandboxStatus", &klen);
	assert_non_null(k);
	assert_int_equal(b.tail->key_len, klen);
	assert_memory_equal(b.tail->key, k, klen);
	free(k);
	assert_false(b.tail->noted);
	assert_int_equal(request(&b, 3, TASK3, "State", NULL), WR_RELAY_FORWARD);
	assert_non_null(b.tail->key);
	k = expected_key("ns", TASK3, "State", &klen);
	assert_int_equal(b.tail->key_len, klen);
	assert_memory_equal(b.tail->key, k, klen);
	free(k);
	/* not cacheable: no key (a Wait still keeps its frame) */
	assert_int_equal(request(&b, 5, TASK3, "Create", NULL), WR_RELAY_FORWARD);
	assert_null(b.tail->key);
	assert_int_equal(request(&b, 7, SANDBOX, "WaitSandbox", NULL), WR_RELAY_FORWARD);
	assert_null(b.tail->key);
	assert_true(b.tail->reissue);
	assert_non_null(b.tail->frame);
	/* an undecodable request: no key either */
	uint8_t junk[] = { 0x0a, 0xff, 0xff };
	struct wr_ttrpc_frame fr = { .hdr = { sizeof junk, 9, WR_TTRPC_REQUEST, 0 }, .data = junk };
	uint8_t *reply;
	size_t rlen;
	struct wr_error err;
	assert_int_equal(wr_relay_book_client(&b, &fr, WR_TTRPC_FRAME, &reply, &rlen, &err),
			 WR_RELAY_FORWARD);
	assert_int_equal(b.tail->stream_id, 9);
	assert_null(b.tail->key);
	/* no backend: nothing gets a key */
	b.backend = NULL;
	assert_int_equal(request(&b, 11, SANDBOX, "SandboxStatus", NULL), WR_RELAY_FORWARD);
	assert_null(b.tail->key);
	assert_int_equal(request(&b, 13, TASK2, "Connect", NULL), WR_RELAY_FORWARD);
	assert_null(b.tail->key);
	assert_int_equal(b.n, 7);
	wr_relay_book_free(&b);   /* keys freed with their requests (LSan checks) */
}

static void test_note(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	b.backend = "ns";
	assert_int_equal(request(&b, 1, SANDBOX, "SandboxStatus", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 3, TASK3, "State", NULL), WR_RELAY_FORWARD);
	struct wr_relay_req *first = b.head, *second = b.tail;
	assert_int_equal(second->stream_id, 3);
	struct wr_objgen_note n = { .slot = 17, .reserved = 0, .gen = 0x0123456789abcdefULL };
	uint8_t bytes[sizeof n + 1];
	memcpy(bytes, &n, sizeof n);
	bytes[sizeof n] = 0;

	/* a wrong length, or a stream nothing waits for: not kept */
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, sizeof n - 1), 0);
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, sizeof n + 1), 0);
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, 0), 0);
	assert_int_equal(wr_relay_book_note(&b, 5, bytes, sizeof n), 0);
	assert_int_equal(wr_relay_book_note(&b, 2, bytes, sizeof n), 0);
	assert_false(first->noted);
	assert_false(second->noted);

	/* on the request of its stream, that one only */
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, sizeof n), 1);
	assert_true(second->noted);
	assert_int_equal(second->note.slot, 17);
	assert_int_equal(second->note.reserved, 0);
	assert_int_equal(second->note.gen, 0x0123456789abcdefULL);
	assert_false(first->noted);
	assert_int_equal(b.n, 2);   /* a note settles nothing */

	/* a later note for the same stream replaces the earlier */
	n.gen++;
	memcpy(bytes, &n, sizeof n);
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, sizeof n), 1);
	assert_int_equal(second->note.gen, 0x0123456789abcdf0ULL);

	/* once answered, a note for it is not kept */
	assert_int_equal(wr_relay_book_core(&b, 3), 1);
	assert_int_equal(wr_relay_book_note(&b, 3, bytes, sizeof n), 0);
	assert_false(first->noted);
	wr_relay_book_free(&b);
}

static void test_take(void **state)
{
	(void)state;
	struct wr_relay_book b;
	wr_relay_book_init(&b);
	b.backend = "ns";
	assert_int_equal(request(&b, 1, TASK3, "Create", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 3, SANDBOX, "SandboxStatus", NULL), WR_RELAY_FORWARD);
	assert_int_equal(request(&b, 5, TASK3, "Wait", NULL), WR_RELAY_FORWARD);
	struct wr_objgen_note n = { .slot = 3, .reserved = 0, .gen = 42 };
	assert_int_equal(wr_relay_book_note(&b, 3, (const uint8_t *)&n, sizeof n), 1);

	assert_null(wr_relay_book_take(&b, 7));   /* nothing asked */
	assert_null(wr_relay_book_take(&b, 4));
	assert_int_equal(b.n, 3);

	/* the middle one: handed over with its key and note */
	struct wr_relay_req *r = wr_relay_book_take(&b, 3);
	assert_non_null(r);
	assert_int_equal(r->stream_id, 3);
	assert_non_null(r->key);
	assert_true(r->key_len > 0);
	assert_true(r->noted);
	assert_int_equal(r->note.slot, 3);
	assert_int_equal(r->note.gen, 42);
	assert_null(r->next);
	assert_int_equal(b.n, 2);
	assert_null(wr_relay_book_take(&b, 3));   /* a second answer: nothing waits */
	assert_int_equal(wr_relay_book_core(&b, 3), 0);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.head->stream_id, 1);
	assert_int_equal(b.head->next->stream_id, 5);
	assert_ptr_equal(b.head->next, b.tail);
	wr_relay_req_free(r);

	/* the tail: the list stays whole, appending still works */
	r = wr_relay_book_take(&b, 5);
	assert_non_null(r);
	assert_true(r->reissue);
	assert_non_null(r->frame);   /* its frame comes along, freed with it */
	assert_false(r->noted);
	wr_relay_req_free(r);
	assert_int_equal(b.n, 1);
	assert_ptr_equal(b.head, b.tail);
	assert_int_equal(b.tail->stream_id, 1);
	assert_int_equal(request(&b, 9, TASK3, "State", NULL), WR_RELAY_FORWARD);
	assert_int_equal(b.head->next->stream_id, 9);
	assert_ptr_equal(b.head->next, b.tail);

	/* the head */
	r = wr_relay_book_take(&b, 1);
	assert_non_null(r);
	assert_null(r->key);
	wr_relay_req_free(r);
	assert_int_equal(b.head->stream_id, 9);
	r = wr_relay_book_take(&b, 9);
	assert_non_null(r);
	wr_relay_req_free(r);
	assert_int_equal(b.n, 0);
	assert_null(b.head);
	assert_null(b.tail);

	wr_relay_req_free(NULL);
	wr_relay_book_free(&b);
}

/* ---- exit records ------------------------------------------------------------ */

static void test_exits(void **state)
{
	(void)state;
	struct wr_exits x;
	wr_exits_init(&x);
	assert_int_equal(wr_exits_add(&x, 100, 42, 1000), 0);
	assert_int_equal(wr_exits_add(&x, 200, 137, 2000), 0);
	assert_int_equal(x.n, 2);
	/* the same pid again (reused): the newer record replaces the older,
	 * and acknowledging the older one keeps it */
	assert_int_equal(wr_exits_add(&x, 100, 0, 3000), 0);
	assert_int_equal(x.n, 2);
	assert_int_equal(wr_exits_ack(&x, 100, 1000), 0);
	assert_int_equal(x.n, 2);
	assert_int_equal(x.v[1].pid, 100);
	assert_int_equal(x.v[1].status, 0);
	assert_int_equal(wr_exits_ack(&x, 100, 3000), 1);
	assert_int_equal(wr_exits_ack(&x, 200, 2000), 1);
	assert_int_equal(x.n, 0);
	assert_int_equal(wr_exits_ack(&x, 200, 2000), 0);
	/* bounded: the oldest goes */
	for (int i = 0; i < WR_EXITS_MAX + 3; i++)
		assert_int_equal(wr_exits_add(&x, 1000 + i, i & 0xff, i), 0);
	assert_int_equal(x.n, WR_EXITS_MAX);
	assert_int_equal(x.dropped, 3);
	assert_int_equal(x.v[0].pid, 1003);
	wr_exits_free(&x);

	assert_int_equal(wr_exit_code(0), 0);
	assert_int_equal(wr_exit_code(42 << 8), 42);   /* WIFEXITED, code 42 */
	assert_int_equal(wr_exit_code(SIGKILL), 137);  /* WIFSIGNALED */
	assert_int_equal(wr_exit_code(0x137f), -1);    /* WIFSTOPPED */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_wait),
		cmocka_unit_test(test_tracked_until_answered),
		cmocka_unit_test(test_core_lost),
		cmocka_unit_test(test_undecodable_request_answered),
		cmocka_unit_test(test_protocol_rules),
		cmocka_unit_test(test_cache_keys),
		cmocka_unit_test(test_note),
		cmocka_unit_test(test_take),
		cmocka_unit_test(test_exits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
