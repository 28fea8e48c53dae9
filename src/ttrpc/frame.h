/* frame.h — the ttrpc wire codec: frame headers, an incremental frame reader,
 * and the Request/Response envelopes (containerd/ttrpc v1.2, DESIGN §3).
 *
 * Pure code: no sockets, no event loop, so the fuzzer can drive it directly.
 *
 *   frame = header (10 bytes) + data (length bytes, at most 4 MiB)
 *   header = uint32 BE length | uint32 BE stream id | uint8 type | uint8 flags
 *
 * The reader owns one growable buffer.  Bytes go in with space()+commit() (read
 * straight into the buffer) or feed() (copy); complete frames come out of
 * next().  A frame longer than the maximum is reported once, as soon as its
 * header is known, and its data is then discarded as it arrives — never
 * buffered — after which the reader continues with the next frame. */
#ifndef WR_TTRPC_FRAME_H
#define WR_TTRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define WR_TTRPC_HEADER_LEN 10
#define WR_TTRPC_MAX_DATA (4u << 20)     /* 4 MiB, as containerd/ttrpc */
#define WR_TTRPC_NAMESPACE_KEY "containerd-namespace-ttrpc"

enum wr_ttrpc_type {
	WR_TTRPC_REQUEST = 1,
	WR_TTRPC_RESPONSE = 2,
	WR_TTRPC_DATA = 3,
	/* warren's own, only between warrend's core and its front process, never
	 * to or from containerd: a note on the response that follows it on the
	 * same stream (relay/reply_cache.h). */
	WR_TTRPC_NOTE = 0x57,
};

/* Flags on request and data frames (streaming; warren serves unary calls). */
#define WR_TTRPC_FLAG_REMOTE_CLOSED 0x1
#define WR_TTRPC_FLAG_REMOTE_OPEN 0x2
#define WR_TTRPC_FLAG_NO_DATA 0x4

struct wr_ttrpc_header {
	uint32_t length;     /* data bytes after the header */
	uint32_t stream_id;
	uint8_t type;        /* enum wr_ttrpc_type, or anything a peer sent */
	uint8_t flags;
};

void wr_ttrpc_header_encode(uint8_t out[WR_TTRPC_HEADER_LEN], const struct wr_ttrpc_header *h);
void wr_ttrpc_header_decode(const uint8_t in[WR_TTRPC_HEADER_LEN], struct wr_ttrpc_header *h);

/* ---- incremental reader -------------------------------------------------- */

struct wr_ttrpc_reader {
	uint8_t *buf;
	size_t cap;
	size_t start, end;   /* buffered, unconsumed bytes are buf[start, end) */
	uint64_t skip;       /* data bytes of an oversized frame still to discard */
	uint32_t max_data;
};

struct wr_ttrpc_frame {
	struct wr_ttrpc_header hdr;
	const uint8_t *data; /* hdr.length bytes; NULL for an oversized frame */
};

enum wr_ttrpc_next {
	WR_TTRPC_NEED_MORE = 0, /* no complete frame buffered (truncated): feed more */
	WR_TTRPC_FRAME = 1,     /* *out is a complete frame */
	WR_TTRPC_OVERSIZED = 2, /* out->hdr is valid, hdr.length > max: its data is skipped */
};

/* max_data 0 means WR_TTRPC_MAX_DATA.  init never fails (buffer allocated lazily). */
void wr_ttrpc_reader_init(struct wr_ttrpc_reader *r, uint32_t max_data);
void wr_ttrpc_reader_free(struct wr_ttrpc_reader *r);

/* Writable room at the end of the buffer: at least 16 KiB, and at least what
 * the frame being assembled still lacks (so one read can complete it); NULL on
 * allocation failure.  Invalidates frame data returned by earlier next(). */
uint8_t *wr_ttrpc_reader_space(struct wr_ttrpc_reader *r, size_t *avail);
/* n bytes were written into the room returned by space(). */
void wr_ttrpc_reader_commit(struct wr_ttrpc_reader *r, size_t n);
/* Copy bytes in (space + memcpy + commit, in pieces). */
int wr_ttrpc_reader_feed(struct wr_ttrpc_reader *r, const void *data, size_t n, struct wr_error *err);

/* The next frame.  out->data points into the reader's buffer and stays valid
 * until the next space()/feed(), or until next() returns NEED_MORE with
 * nothing buffered: that frees the buffer, so an idle stream holds no read
 * memory.  Returns enum wr_ttrpc_next. */
int wr_ttrpc_reader_next(struct wr_ttrpc_reader *r, struct wr_ttrpc_frame *out);

/* Bytes held: buffered partial frame plus oversized data still to skip.
 * 0 means the stream is at a frame boundary. */
uint64_t wr_ttrpc_reader_pending(const struct wr_ttrpc_reader *r);

/* ---- envelopes ----------------------------------------------------------- */

struct wr_ttrpc_kv {
	const char *key;
	const char *value;
};

/* A decoded ttrpc.Request.  Every pointer is owned by the struct. */
struct wr_ttrpc_request {
	const char *service;
	const char *method;
	const uint8_t *payload;
	size_t payload_len;
	int64_t timeout_nano;           /* 0: no deadline; < 0: already expired */
	const char *namespace;          /* first containerd-namespace-ttrpc value, or NULL */
	size_t n_metadata;
	struct wr_ttrpc_kv *metadata;
	void *pb_;                      /* the unpacked protobuf-c message */
};

/* Decode a request frame's data.  Malformed protobuf or strings that are not
 * UTF-8 (proto3 strings must be) → InvalidArgument.  An empty service or
 * method decodes fine (the server answers Unimplemented); a negative timeout
 * is a deadline already past.  On failure *req is zeroed (free stays safe). */
int wr_ttrpc_request_decode(struct wr_ttrpc_request *req, const uint8_t *data, size_t len,
		struct wr_error *err);
void wr_ttrpc_request_free(struct wr_ttrpc_request *req);
/* First value of metadata key, or NULL. */
const char *wr_ttrpc_request_metadata(const struct wr_ttrpc_request *req, const char *key);

/* A decoded ttrpc.Response.  message is "" when absent; owned by the struct. */
struct wr_ttrpc_response {
	int code;                       /* gRPC code; WR_OK when status is absent */
	const char *message;
	const uint8_t *payload;
	size_t payload_len;
	void *pb_;
};

int wr_ttrpc_response_decode(struct wr_ttrpc_response *resp, const uint8_t *data, size_t len,
		struct wr_error *err);
void wr_ttrpc_response_free(struct wr_ttrpc_response *resp);

/* Whole frames (header + data) in one malloc'd buffer, returned with its size
 * in *out_len.  Data over WR_TTRPC_MAX_DATA → ResourceExhausted.  Strings that
 * are not valid UTF-8 are sent with the bad bytes replaced by '?' (a Go peer
 * rejects the whole message otherwise). */
uint8_t *wr_ttrpc_encode_request(uint32_t stream_id, const char *service, const char *method,
		const void *payload, size_t payload_len, int64_t timeout_nano,
		const struct wr_ttrpc_kv *md, size_t n_md, size_t *out_len, struct wr_error *err);
uint8_t *wr_ttrpc_encode_response(uint32_t stream_id, int code, const char *message,
		const void *payload, size_t payload_len, size_t *out_len, struct wr_error *err);

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, ≤ U+10FFFF). */
int wr_ttrpc_utf8_valid(const char *s, size_t n);

#endif
