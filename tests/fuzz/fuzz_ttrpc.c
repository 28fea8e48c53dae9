/* fuzz_ttrpc.c — libFuzzer target for the ttrpc codec (src/ttrpc/frame.c):
 * bytes from a peer go through the incremental frame reader, fed in pieces
 * the way socket reads deliver them, and every complete frame through the
 * Request / Response decoders.  No sockets, no event loop.
 *
 * Input layout: byte 0 picks the read size (1..64), byte 1 the data limit
 * (odd: 64..319 bytes, so oversized frames are reachable with short inputs;
 * even: the real 4 MiB), the rest is the byte stream.
 *
 * Besides the sanitizers, it checks: every byte fed is accounted for (frames
 * + oversized frames + what the reader still holds); decoded envelopes
 * re-encode and decode to the same fields.
 *
 * Build (the `make fuzz` rule does the same):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc -Igen -Igen/proto -I. \
 *     tests/fuzz/fuzz_ttrpc.c src/ttrpc/frame.c src/core/error.c gen/proto/ttrpc/ttrpc.pb-c.c \
 *     $(pkg-config --cflags --libs libprotobuf-c) -o build/fuzz/fuzz_ttrpc */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ttrpc/frame.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void check_request(const uint8_t *data, size_t len)
{
	struct wr_ttrpc_request rq;
	struct wr_error err;
	if (wr_ttrpc_request_decode(&rq, data, len, &err) < 0) {
		CHECK(err.code == WR_INVALID_ARGUMENT);
		CHECK(rq.pb_ == NULL);
		wr_ttrpc_request_free(&rq);
		return;
	}
	CHECK(rq.service && rq.method);
	CHECK(rq.payload_len == 0 || rq.payload);
	CHECK(rq.namespace == wr_ttrpc_request_metadata(&rq, WR_TTRPC_NAMESPACE_KEY));
	for (size_t i = 0; i < rq.n_metadata; i++)
		CHECK(rq.metadata[i].key && rq.metadata[i].value);

	size_t n;
	uint8_t *f = wr_ttrpc_encode_request(7, rq.service, rq.method, rq.payload, rq.payload_len,
			rq.timeout_nano, rq.metadata, rq.n_metadata, &n, &err);
	CHECK(f);
	struct wr_ttrpc_header h;
	wr_ttrpc_header_decode(f, &h);
	CHECK(h.length == n - WR_TTRPC_HEADER_LEN && h.stream_id == 7 && h.type == WR_TTRPC_REQUEST);
	struct wr_ttrpc_request again;
	CHECK(wr_ttrpc_request_decode(&again, f + WR_TTRPC_HEADER_LEN, n - WR_TTRPC_HEADER_LEN,
			&err) == 0);
	CHECK(strcmp(again.service, rq.service) == 0);
	CHECK(strcmp(again.method, rq.method) == 0);
	CHECK(again.payload_len == rq.payload_len);
	CHECK(rq.payload_len == 0 || memcmp(again.payload, rq.payload, rq.payload_len) == 0);
	CHECK(again.timeout_nano == rq.timeout_nano);
	CHECK(again.n_metadata == rq.n_metadata);
	for (size_t i = 0; i < rq.n_metadata; i++) {
		CHECK(strcmp(again.metadata[i].key, rq.metadata[i].key) == 0);
		CHECK(strcmp(again.metadata[i].value, rq.metadata[i].value) == 0);
	}
	CHECK((again.namespace == NULL) == (rq.namespace == NULL));
	CHECK(!rq.namespace || strcmp(again.namespace, rq.namespace) == 0);
	wr_ttrpc_request_free(&again);
	wr_ttrpc_request_free(&rq);
	free(f);
}

static void check_response(const uint8_t *data, size_t len)
{
	struct wr_ttrpc_response rs;
	struct wr_error err;
	if (wr_ttrpc_response_decode(&rs, data, len, &err) < 0) {
		wr_ttrpc_response_free(&rs);
		return;
	}
	CHECK(rs.message);
	size_t n;
	uint8_t *f = wr_ttrpc_encode_response(9, rs.code, rs.message, rs.payload, rs.payload_len,
			&n, &err);
	CHECK(f);
	struct wr_ttrpc_response again;
	CHECK(wr_ttrpc_response_decode(&again, f + WR_TTRPC_HEADER_LEN, n - WR_TTRPC_HEADER_LEN,
			&err) == 0);
	CHECK(again.code == rs.code);
	CHECK(again.payload_len == rs.payload_len);
	CHECK(rs.payload_len == 0 || memcmp(again.payload, rs.payload, rs.payload_len) == 0);
	size_t ml = strlen(rs.message);
	CHECK(strlen(again.message) == ml);
	CHECK(wr_ttrpc_utf8_valid(again.message, ml));
	if (wr_ttrpc_utf8_valid(rs.message, ml))
		CHECK(strcmp(again.message, rs.message) == 0);
	wr_ttrpc_response_free(&again);
	wr_ttrpc_response_free(&rs);
	free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t chunk = (size_t)(data[0] % 64) + 1;
	uint32_t max = (data[1] & 1) ? 64u + data[1] : 0;
	data += 2;
	size -= 2;

	struct wr_ttrpc_reader r;
	wr_ttrpc_reader_init(&r, max);
	uint64_t consumed = 0, fed = 0;
	size_t off = 0;
	while (off < size) {
		size_t avail;
		uint8_t *dst = wr_ttrpc_reader_space(&r, &avail);
		CHECK(dst && avail > 0);
		size_t c = size - off;
		if (c > chunk)
			c = chunk;
		if (c > avail)
			c = avail;
		memcpy(dst, data + off, c);
		wr_ttrpc_reader_commit(&r, c);
		off += c;
		fed += c;
		struct wr_ttrpc_frame f;
		int k;
		while ((k = wr_ttrpc_reader_next(&r, &f)) != WR_TTRPC_NEED_MORE) {
			consumed += WR_TTRPC_HEADER_LEN + (uint64_t)f.hdr.length;
			if (k == WR_TTRPC_OVERSIZED) {
				CHECK(f.hdr.length > r.max_data && f.data == NULL);
				continue;
			}
			CHECK(k == WR_TTRPC_FRAME && f.hdr.length <= r.max_data);
			if (f.hdr.type == WR_TTRPC_REQUEST)
				check_request(f.data, f.hdr.length);
			else if (f.hdr.type == WR_TTRPC_RESPONSE)
				check_response(f.data, f.hdr.length);
		}
		/* every byte is in a returned frame, still buffered, or owed to a skip */
		CHECK(consumed + (r.end - r.start) == fed + r.skip);
		CHECK(wr_ttrpc_reader_pending(&r) == (r.end - r.start) + r.skip);
	}
	wr_ttrpc_reader_free(&r);

	/* the whole stream as one envelope, too */
	check_request(data, size);
	check_response(data, size);
	return 0;
}
