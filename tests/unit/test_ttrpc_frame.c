/* test_ttrpc_frame.c — unit tests of the ttrpc codec: headers, the incremental
 * reader (truncation, oversized frames skipped without buffering), and the
 * Request/Response envelopes checked byte for byte against what Go's
 * protobuf writes for containerd/ttrpc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ttrpc/frame.h"

static void test_header_roundtrip(void **state)
{
	(void)state;
	struct wr_ttrpc_header h = { 0x00400000, 0xfffffffd, WR_TTRPC_RESPONSE, 0x5a }, g;
	uint8_t b[WR_TTRPC_HEADER_LEN];
	wr_ttrpc_header_encode(b, &h);
	static const uint8_t want[] = { 0x00, 0x40, 0x00, 0x00, 0xff, 0xff, 0xff, 0xfd, 0x02, 0x5a };
	assert_memory_equal(b, want, sizeof want);
	wr_ttrpc_header_decode(b, &g);
	assert_int_equal(g.length, h.length);
	assert_int_equal(g.stream_id, h.stream_id);
	assert_int_equal(g.type, h.type);
	assert_int_equal(g.flags, h.flags);
}

/* Request{service:"s" method:"m" payload:"p" timeout_nano:1 metadata:[{k v}]} */
static const uint8_t golden_request[] = {
	0x0a, 0x01, 's', 0x12, 0x01, 'm', 0x1a, 0x01, 'p', 0x20, 0x01,
	0x2a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v',
};

static void test_request_golden(void **state)
{
	(void)state;
	struct wr_ttrpc_kv md[] = { { "k", "v" } };
	size_t n;
	struct wr_error err;
	uint8_t *f = wr_ttrpc_encode_request(7, "s", "m", "p", 1, 1, md, 1, &n, &err);
	assert_non_null(f);
	assert_int_equal(n, WR_TTRPC_HEADER_LEN + sizeof golden_request);
	struct wr_ttrpc_header h;
	wr_ttrpc_header_decode(f, &h);
	assert_int_equal(h.length, sizeof golden_request);
	assert_int_equal(h.stream_id, 7);
	assert_int_equal(h.type, WR_TTRPC_REQUEST);
	assert_int_equal(h.flags, 0);
	assert_memory_equal(f + WR_TTRPC_HEADER_LEN, golden_request, sizeof golden_request);
	free(f);

	struct wr_ttrpc_request rq;
	assert_int_equal(wr_ttrpc_request_decode(&rq, golden_request, sizeof golden_request, &err), 0);
	assert_string_equal(rq.service, "s");
	assert_string_equal(rq.method, "m");
	assert_int_equal(rq.payload_len, 1);
	assert_memory_equal(rq.payload, "p", 1);
	assert_int_equal(rq.timeout_nano, 1);
	assert_int_equal(rq.n_metadata, 1);
	assert_string_equal(rq.metadata[0].key, "k");
	assert_string_equal(rq.metadata[0].value, "v");
	assert_null(rq.namespace);
	wr_ttrpc_request_free(&rq);
}

static void test_request_roundtrip_namespace(void **state)
{
	(void)state;
	uint8_t payload[3000];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7);
	struct wr_ttrpc_kv md[] = {
		{ "x-other", "1" },
		{ WR_TTRPC_NAMESPACE_KEY, "k8s.io" },
		{ WR_TTRPC_NAMESPACE_KEY, "second" },
	};
	size_t n;
	struct wr_error err;
	uint8_t *f = wr_ttrpc_encode_request(1, "containerd.task.v3.Task", "Wait", payload,
			sizeof payload, 60000000000LL, md, 3, &n, &err);
	assert_non_null(f);
	struct wr_ttrpc_request rq;
	assert_int_equal(wr_ttrpc_request_decode(&rq, f + WR_TTRPC_HEADER_LEN,
			n - WR_TTRPC_HEADER_LEN, &err), 0);
	assert_string_equal(rq.service, "containerd.task.v3.Task");
	assert_string_equal(rq.method, "Wait");
	assert_int_equal(rq.payload_len, sizeof payload);
	assert_memory_equal(rq.payload, payload, sizeof payload);
	assert_int_equal(rq.timeout_nano, 60000000000LL);
	assert_string_equal(rq.namespace, "k8s.io");
	assert_string_equal(wr_ttrpc_request_metadata(&rq, "x-other"), "1");
	assert_null(wr_ttrpc_request_metadata(&rq, "missing"));
	wr_ttrpc_request_free(&rq);
	wr_ttrpc_request_free(&rq);   /* idempotent */
	free(f);
}

static void test_request_empty_and_bad(void **state)
{
	(void)state;
	struct wr_ttrpc_request rq;
	struct wr_error err;
	/* zero bytes is a valid (all-default) proto3 message */
	assert_int_equal(wr_ttrpc_request_decode(&rq, (const uint8_t *)"", 0, &err), 0);
	assert_string_equal(rq.service, "");
	assert_int_equal(rq.payload_len, 0);
	wr_ttrpc_request_free(&rq);

	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0xff };
	assert_int_equal(wr_ttrpc_request_decode(&rq, garbage, sizeof garbage, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_null(rq.pb_);
	wr_ttrpc_request_free(&rq);

	/* length prefix runs past the end */
	static const uint8_t trunc[] = { 0x0a, 0x05, 'a', 'b' };
	assert_int_equal(wr_ttrpc_request_decode(&rq, trunc, sizeof trunc, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);

	/* service is not UTF-8 */
	static const uint8_t bad_utf8[] = { 0x0a, 0x02, 0xc3, 0x28 };
	assert_int_equal(wr_ttrpc_request_decode(&rq, bad_utf8, sizeof bad_utf8, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	assert_non_null(strstr(err.msg, "UTF-8"));

	/* wrong wire type for service (varint instead of bytes) */
	static const uint8_t wrong_type[] = { 0x08, 0x01 };
	assert_int_equal(wr_ttrpc_request_decode(&rq, wrong_type, sizeof wrong_type, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);

	/* unknown fields are skipped, as Go does */
	static const uint8_t unknown[] = { 0x0a, 0x01, 's', 0x78, 0x05 };
	assert_int_equal(wr_ttrpc_request_decode(&rq, unknown, sizeof unknown, &err), 0);
	assert_string_equal(rq.service, "s");
	wr_ttrpc_request_free(&rq);
}

static void test_response_golden(void **state)
{
	(void)state;
	size_t n;
	struct wr_error err;
	/* Response{status:{code:5 message:"nf"} payload:"x"} */
	static const uint8_t want[] = { 0x0a, 0x06, 0x08, 0x05, 0x12, 0x02, 'n', 'f', 0x12, 0x01, 'x' };
	uint8_t *f = wr_ttrpc_encode_response(9, WR_NOT_FOUND, "nf", "x", 1, &n, &err);
	assert_non_null(f);
	assert_int_equal(n, WR_TTRPC_HEADER_LEN + sizeof want);
	assert_int_equal(f[8], WR_TTRPC_RESPONSE);
	assert_memory_equal(f + WR_TTRPC_HEADER_LEN, want, sizeof want);
	free(f);

	/* OK with no message: an empty status, as Go's status.Proto() marshals */
	static const uint8_t ok[] = { 0x0a, 0x00 };
	f = wr_ttrpc_encode_response(1, WR_OK, NULL, NULL, 0, &n, &err);
	assert_non_null(f);
	assert_int_equal(n, WR_TTRPC_HEADER_LEN + sizeof ok);
	assert_memory_equal(f + WR_TTRPC_HEADER_LEN, ok, sizeof ok);
	free(f);

	struct wr_ttrpc_response r;
	assert_int_equal(wr_ttrpc_response_decode(&r, want, sizeof want, &err), 0);
	assert_int_equal(r.code, WR_NOT_FOUND);
	assert_string_equal(r.message, "nf");
	assert_int_equal(r.payload_len, 1);
	wr_ttrpc_response_free(&r);

	/* no status at all means OK */
	static const uint8_t bare[] = { 0x12, 0x01, 'x' };
	assert_int_equal(wr_ttrpc_response_decode(&r, bare, sizeof bare, &err), 0);
	assert_int_equal(r.code, WR_OK);
	assert_string_equal(r.message, "");
	wr_ttrpc_response_free(&r);
}

static void test_response_message_sanitized(void **state)
{
	(void)state;
	size_t n;
	struct wr_error err;
	uint8_t *f = wr_ttrpc_encode_response(1, WR_INTERNAL, "bad \xff path \xc3\xa9", NULL, 0, &n, &err);
	assert_non_null(f);
	struct wr_ttrpc_response r;
	assert_int_equal(wr_ttrpc_response_decode(&r, f + WR_TTRPC_HEADER_LEN, n - WR_TTRPC_HEADER_LEN,
			&err), 0);
	assert_string_equal(r.message, "bad ? path \xc3\xa9");
	wr_ttrpc_response_free(&r);
	free(f);
}

static void test_utf8(void **state)
{
	(void)state;
	assert_true(wr_ttrpc_utf8_valid("", 0));
	assert_true(wr_ttrpc_utf8_valid("plain", 5));
	assert_true(wr_ttrpc_utf8_valid("\xe2\x82\xac\xf0\x9f\x98\x80", 7));
	assert_false(wr_ttrpc_utf8_valid("\xc0\xaf", 2));          /* overlong */
	assert_false(wr_ttrpc_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(wr_ttrpc_utf8_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(wr_ttrpc_utf8_valid("\xe2\x82", 2));          /* truncated */
}

static void test_encode_too_large(void **state)
{
	(void)state;
	size_t big = WR_TTRPC_MAX_DATA + 1, n = 0;
	uint8_t *p = calloc(1, big);
	assert_non_null(p);
	struct wr_error err;
	assert_null(wr_ttrpc_encode_response(1, WR_OK, NULL, p, big, &n, &err));
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	assert_null(wr_ttrpc_encode_request(1, "s", "m", p, big, 0, NULL, 0, &n, &err));
	assert_int_equal(err.code, WR_RESOURCE_EXHAUSTED);
	free(p);
}

/* frame bytes with an arbitrary body */
static size_t raw_frame(uint8_t *out, uint32_t len, uint32_t id, uint8_t type, uint8_t fill)
{
	struct wr_ttrpc_header h = { len, id, type, 0 };
	wr_ttrpc_header_encode(out, &h);
	memset(out + WR_TTRPC_HEADER_LEN, fill, len);
	return WR_TTRPC_HEADER_LEN + len;
}

static void test_reader_bytewise(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = raw_frame(buf, 5, 1, WR_TTRPC_REQUEST, 'a');
	n += raw_frame(buf + n, 0, 3, WR_TTRPC_REQUEST, 0);
	n += raw_frame(buf + n, 7, 5, WR_TTRPC_DATA, 'c');
	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 0);
	struct wr_ttrpc_frame f;
	uint32_t ids[3];
	int got = 0;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(wr_ttrpc_reader_feed(&r, buf + i, 1, NULL), 0);
		int k;
		while ((k = wr_ttrpc_reader_next(&r, &f)) == WR_TTRPC_FRAME) {
			assert_true(got < 3);
			ids[got++] = f.hdr.stream_id;
			if (f.hdr.stream_id == 1)
				assert_memory_equal(f.data, "aaaaa", 5);
			if (f.hdr.stream_id == 5)
				assert_int_equal(f.hdr.length, 7);
		}
		assert_int_equal(k, WR_TTRPC_NEED_MORE);
	}
	assert_int_equal(got, 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 3);
	assert_int_equal(ids[2], 5);
	assert_int_equal(wr_ttrpc_reader_pending(&r), 0);
	wr_ttrpc_reader_free(&r);
}

static void test_reader_truncated(void **state)
{
	(void)state;
	uint8_t buf[64];
	size_t n = raw_frame(buf, 20, 1, WR_TTRPC_REQUEST, 'z');
	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 0);
	struct wr_ttrpc_frame f;
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);  /* empty */
	wr_ttrpc_reader_feed(&r, buf, 9, NULL);                               /* header - 1 */
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	assert_int_equal(wr_ttrpc_reader_pending(&r), 9);
	wr_ttrpc_reader_feed(&r, buf + 9, 1, NULL);                           /* header only */
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	wr_ttrpc_reader_feed(&r, buf + 10, n - 11, NULL);                     /* data - 1 */
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	assert_int_equal(wr_ttrpc_reader_pending(&r), n - 1);
	assert_non_null(r.buf);                  /* a partial frame keeps its bytes */
	wr_ttrpc_reader_feed(&r, buf + n - 1, 1, NULL);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_FRAME);
	assert_int_equal(f.hdr.length, 20);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	/* at a frame boundary the reader holds no memory (idle connections) */
	assert_null(r.buf);
	assert_int_equal(r.cap, 0);
	wr_ttrpc_reader_feed(&r, buf, n, NULL);  /* and reading again works */
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_FRAME);
	assert_int_equal(f.hdr.stream_id, 1);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	wr_ttrpc_reader_free(&r);
}

/* space()/commit() the way a socket read does it, at most chunk bytes a time. */
static void pump(struct wr_ttrpc_reader *r, const uint8_t *p, size_t n, size_t chunk,
		size_t *max_cap)
{
	while (n) {
		size_t avail;
		uint8_t *dst = wr_ttrpc_reader_space(r, &avail);
		assert_non_null(dst);
		assert_true(avail > 0);
		size_t c = n < avail ? n : avail;
		if (c > chunk)
			c = chunk;
		memcpy(dst, p, c);
		wr_ttrpc_reader_commit(r, c);
		if (r->cap > *max_cap)
			*max_cap = r->cap;
		p += c;
		n -= c;
	}
}

static void test_reader_oversized_skipped(void **state)
{
	(void)state;
	uint32_t big = WR_TTRPC_MAX_DATA + 1000;
	size_t total = 2 * WR_TTRPC_HEADER_LEN + big + 3;
	uint8_t *buf = malloc(total);
	assert_non_null(buf);
	size_t n = raw_frame(buf, big, 3, WR_TTRPC_REQUEST, 0xee);
	n += raw_frame(buf + n, 3, 5, WR_TTRPC_REQUEST, 'o');
	assert_int_equal(n, total);

	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 0);
	struct wr_ttrpc_frame f;
	size_t max_cap = 0;
	/* header plus a little data first: reported at once */
	pump(&r, buf, 100, 65536, &max_cap);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_OVERSIZED);
	assert_int_equal(f.hdr.length, big);
	assert_int_equal(f.hdr.stream_id, 3);
	assert_null(f.data);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	assert_int_equal(wr_ttrpc_reader_pending(&r), big - 90);
	/* the rest in 64 KiB reads: never buffered */
	pump(&r, buf + 100, total - 100, 65536, &max_cap);
	assert_true(max_cap <= 128 * 1024);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_FRAME);
	assert_int_equal(f.hdr.stream_id, 5);
	assert_memory_equal(f.data, "ooo", 3);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_NEED_MORE);
	assert_int_equal(wr_ttrpc_reader_pending(&r), 0);
	wr_ttrpc_reader_free(&r);
	free(buf);
}

static void test_reader_oversized_tiny_max(void **state)
{
	(void)state;
	/* a small limit, oversized header split across reads, skip ending mid-read */
	uint8_t buf[256];
	size_t n = raw_frame(buf, 40, 1, WR_TTRPC_REQUEST, 'x');
	n += raw_frame(buf + n, 16, 3, WR_TTRPC_REQUEST, 'y');
	n += raw_frame(buf + n, 17, 5, WR_TTRPC_REQUEST, 'z');
	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 16);
	struct wr_ttrpc_frame f;
	int seen[3] = { 0, 0, 0 };
	for (size_t i = 0; i < n; i += 7) {
		wr_ttrpc_reader_feed(&r, buf + i, i + 7 <= n ? 7 : n - i, NULL);
		int k;
		while ((k = wr_ttrpc_reader_next(&r, &f)) != WR_TTRPC_NEED_MORE) {
			if (f.hdr.stream_id == 1) {
				assert_int_equal(k, WR_TTRPC_OVERSIZED);
				seen[0]++;
			} else if (f.hdr.stream_id == 3) {
				assert_int_equal(k, WR_TTRPC_FRAME);
				assert_int_equal(f.hdr.length, 16);
				seen[1]++;
			} else {
				assert_int_equal(f.hdr.stream_id, 5);
				assert_int_equal(k, WR_TTRPC_OVERSIZED);
				seen[2]++;
			}
		}
	}
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 1);
	assert_int_equal(seen[2], 1);
	assert_int_equal(wr_ttrpc_reader_pending(&r), 0);
	wr_ttrpc_reader_free(&r);
}

static void test_reader_max_size_frame(void **state)
{
	(void)state;
	/* exactly 4 MiB is allowed, and the buffer shrinks back afterwards */
	size_t total = WR_TTRPC_HEADER_LEN + WR_TTRPC_MAX_DATA;
	uint8_t *buf = malloc(total + 12);
	assert_non_null(buf);
	raw_frame(buf, WR_TTRPC_MAX_DATA, 1, WR_TTRPC_REQUEST, 0x11);
	raw_frame(buf + total, 2, 3, WR_TTRPC_REQUEST, 0x22);
	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 0);
	size_t max_cap = 0;
	pump(&r, buf, total, 1 << 20, &max_cap);
	struct wr_ttrpc_frame f;
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_FRAME);
	assert_int_equal(f.hdr.length, WR_TTRPC_MAX_DATA);
	assert_int_equal(f.data[WR_TTRPC_MAX_DATA - 1], 0x11);
	pump(&r, buf + total, 12, 12, &max_cap);
	assert_true(r.cap < 1024 * 1024);
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_FRAME);
	assert_int_equal(f.hdr.stream_id, 3);
	wr_ttrpc_reader_free(&r);
	free(buf);
}

static void test_reader_garbage_header(void **state)
{
	(void)state;
	/* "GET / HTTP/1.1": length 0x47455420 → oversized, type 'T'; the reader
	 * reports it and leaves the decision (close) to the server */
	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, 0);
	wr_ttrpc_reader_feed(&r, "GET / HTTP/1.1\r\n", 16, NULL);
	struct wr_ttrpc_frame f;
	assert_int_equal(wr_ttrpc_reader_next(&r, &f), WR_TTRPC_OVERSIZED);
	assert_int_equal(f.hdr.length, 0x47455420u);
	assert_int_equal(f.hdr.type, 'T');
	assert_int_equal(f.hdr.stream_id % 2, 0);
	assert_int_equal(wr_ttrpc_reader_pending(&r), 0x47455420u - 6);
	wr_ttrpc_reader_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_roundtrip),
		cmocka_unit_test(test_request_golden),
		cmocka_unit_test(test_request_roundtrip_namespace),
		cmocka_unit_test(test_request_empty_and_bad),
		cmocka_unit_test(test_response_golden),
		cmocka_unit_test(test_response_message_sanitized),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_encode_too_large),
		cmocka_unit_test(test_reader_bytewise),
		cmocka_unit_test(test_reader_truncated),
		cmocka_unit_test(test_reader_oversized_skipped),
		cmocka_unit_test(test_reader_oversized_tiny_max),
		cmocka_unit_test(test_reader_max_size_frame),
		cmocka_unit_test(test_reader_garbage_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
