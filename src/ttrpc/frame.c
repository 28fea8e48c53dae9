/* frame.c — ttrpc frame headers, the incremental frame reader and the
 * Request/Response envelope codec (see frame.h, DESIGN §3).
 *
 * Invariants of struct wr_ttrpc_reader:
 *   start <= end <= cap; buf[start, end) are received bytes not yet returned;
 *   skip > 0 only right after an oversized header, and while skip > 0 every
 *   byte that arrives is dropped at commit time, so an oversized frame costs
 *   at most one read's worth of memory. */
#include "ttrpc/frame.h"

#include <stdlib.h>
#include <string.h>

#include "proto/ttrpc/ttrpc.pb-c.h"

#define READ_CHUNK (16u * 1024)
#define SHRINK_ABOVE (256u * 1024)   /* drop a buffer grown by a big frame once idle */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void wr_ttrpc_header_encode(uint8_t out[WR_TTRPC_HEADER_LEN], const struct wr_ttrpc_header *h)
{
	put_be32(out, h->length);
	put_be32(out + 4, h->stream_id);
	out[8] = h->type;
	out[9] = h->flags;
}

void wr_ttrpc_header_decode(const uint8_t in[WR_TTRPC_HEADER_LEN], struct wr_ttrpc_header *h)
{
	h->length = get_be32(in);
	h->stream_id = get_be32(in + 4);
	h->type = in[8];
	h->flags = in[9];
}

/* ---- reader -------------------------------------------------------------- */

void wr_ttrpc_reader_init(struct wr_ttrpc_reader *r, uint32_t max_data)
{
	memset(r, 0, sizeof *r);
	r->max_data = max_data ? max_data : WR_TTRPC_MAX_DATA;
}

void wr_ttrpc_reader_free(struct wr_ttrpc_reader *r)
{
	free(r->buf);
	memset(r, 0, sizeof *r);
}

static void drop_skipped(struct wr_ttrpc_reader *r)
{
	size_t have = r->end - r->start;
	size_t d = r->skip < have ? (size_t)r->skip : have;
	r->start += d;
	r->skip -= d;
}

uint8_t *wr_ttrpc_reader_space(struct wr_ttrpc_reader *r, size_t *avail)
{
	size_t buffered = r->end - r->start;
	if (buffered == 0) {
		r->start = r->end = 0;
		if (r->cap > SHRINK_ABOVE) {
			free(r->buf);
			r->buf = NULL;
			r->cap = 0;
		}
	}
	size_t need = READ_CHUNK;
	if (r->skip == 0 && buffered >= WR_TTRPC_HEADER_LEN) {
		uint32_t len = get_be32(r->buf + r->start);
		if (len <= r->max_data) {
			size_t rem = WR_TTRPC_HEADER_LEN + (size_t)len - buffered;
			if (buffered < WR_TTRPC_HEADER_LEN + (size_t)len && rem > need)
				need = rem;
		}
	}
	if (r->cap - r->end < need && r->start > 0) {
		memmove(r->buf, r->buf + r->start, buffered);
		r->start = 0;
		r->end = buffered;
	}
	if (r->cap - r->end < need) {
		size_t ncap = r->end + need;
		if (ncap < r->cap + r->cap / 2)
			ncap = r->cap + r->cap / 2;
		uint8_t *nb = realloc(r->buf, ncap);
		if (!nb)
			return NULL;
		r->buf = nb;
		r->cap = ncap;
	}
	*avail = r->cap - r->end;
	return r->buf + r->end;
}

void wr_ttrpc_reader_commit(struct wr_ttrpc_reader *r, size_t n)
{
	r->end += n;
	if (r->skip)
		drop_skipped(r);
}

int wr_ttrpc_reader_feed(struct wr_ttrpc_reader *r, const void *data, size_t n, struct wr_error *err)
{
	const uint8_t *p = data;
	while (n > 0) {
		size_t avail;
		uint8_t *dst = wr_ttrpc_reader_space(r, &avail);
		if (!dst)
			return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc reader: out of memory");
		size_t c = n < avail ? n : avail;
		memcpy(dst, p, c);
		wr_ttrpc_reader_commit(r, c);
		p += c;
		n -= c;
	}
	return 0;
}

int wr_ttrpc_reader_next(struct wr_ttrpc_reader *r, struct wr_ttrpc_frame *out)
{
	if (r->skip) {
		drop_skipped(r);
		if (r->skip)
			return WR_TTRPC_NEED_MORE;
	}
	size_t buffered = r->end - r->start;
	if (buffered == 0) {
		/* At a frame boundary: an idle connection keeps no read buffer
		 * (warrend has two connections per pod, most of them idle). */
		free(r->buf);
		r->buf = NULL;
		r->cap = r->start = r->end = 0;
		return WR_TTRPC_NEED_MORE;
	}
	if (buffered < WR_TTRPC_HEADER_LEN)
		return WR_TTRPC_NEED_MORE;
	struct wr_ttrpc_header h;
	wr_ttrpc_header_decode(r->buf + r->start, &h);
	if (h.length > r->max_data) {
		r->start += WR_TTRPC_HEADER_LEN;
		r->skip = h.length;
		drop_skipped(r);
		out->hdr = h;
		out->data = NULL;
		return WR_TTRPC_OVERSIZED;
	}
	if (buffered - WR_TTRPC_HEADER_LEN < h.length)
		return WR_TTRPC_NEED_MORE;
	out->hdr = h;
	out->data = r->buf + r->start + WR_TTRPC_HEADER_LEN;
	r->start += WR_TTRPC_HEADER_LEN + (size_t)h.length;
	return WR_TTRPC_FRAME;
}

uint64_t wr_ttrpc_reader_pending(const struct wr_ttrpc_reader *r)
{
	return (uint64_t)(r->end - r->start) + r->skip;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
		return 0;
	if (len == 4 && (cp < 0x10000 || cp > 0x10ffff))
		return 0;
	return len;
}

int wr_ttrpc_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	while (n > 0) {
		size_t l = utf8_seq(p, n);
		if (!l)
			return 0;
		p += l;
		n -= l;
	}
	return 1;
}

/* s itself when valid UTF-8 (or NULL → ""), else a malloc'd copy in *owned
 * with each offending byte replaced by '?'; NULL only when out of memory. */
static char *utf8_clean(const char *s, char **owned)
{
	*owned = NULL;
	if (!s)
		return (char *)"";
	size_t n = strlen(s);
	if (wr_ttrpc_utf8_valid(s, n))
		return (char *)s;
	char *c = malloc(n + 1);
	if (!c)
		return NULL;
	memcpy(c, s, n + 1);
	unsigned char *p = (unsigned char *)c;
	size_t i = 0;
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		if (!l) {
			p[i] = '?';
			l = 1;
		}
		i += l;
	}
	*owned = c;
	return c;
}

static int str_ok(const char *s)
{
	return wr_ttrpc_utf8_valid(s, strlen(s));
}

/* ---- Request ------------------------------------------------------------- */

int wr_ttrpc_request_decode(struct wr_ttrpc_request *req, const uint8_t *data, size_t len,
		struct wr_error *err)
{
	memset(req, 0, sizeof *req);
	Ttrpc__Request *pb = ttrpc__request__unpack(NULL, len, data);
	if (!pb)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				"unmarshal request error: malformed ttrpc.Request (%zu bytes)", len);
	const char *bad = NULL;
	if (!str_ok(pb->service))
		bad = "service";
	else if (!str_ok(pb->method))
		bad = "method";
	for (size_t i = 0; !bad && i < pb->n_metadata; i++)
		if (!str_ok(pb->metadata[i]->key) || !str_ok(pb->metadata[i]->value))
			bad = "metadata";
	if (bad) {
		ttrpc__request__free_unpacked(pb, NULL);
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				"unmarshal request error: %s is not valid UTF-8", bad);
	}
	if (pb->n_metadata) {
		req->metadata = calloc(pb->n_metadata, sizeof *req->metadata);
		if (!req->metadata) {
			ttrpc__request__free_unpacked(pb, NULL);
			return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc request: out of memory");
		}
	}
	for (size_t i = 0; i < pb->n_metadata; i++) {
		req->metadata[i].key = pb->metadata[i]->key;
		req->metadata[i].value = pb->metadata[i]->value;
	}
	req->n_metadata = pb->n_metadata;
	req->service = pb->service;
	req->method = pb->method;
	req->payload = pb->payload.data;
	req->payload_len = pb->payload.len;
	req->timeout_nano = pb->timeout_nano;
	req->pb_ = pb;
	req->namespace = wr_ttrpc_request_metadata(req, WR_TTRPC_NAMESPACE_KEY);
	return 0;
}

void wr_ttrpc_request_free(struct wr_ttrpc_request *req)
{
	if (!req)
		return;
	if (req->pb_)
		ttrpc__request__free_unpacked(req->pb_, NULL);
	free(req->metadata);
	memset(req, 0, sizeof *req);
}

const char *wr_ttrpc_request_metadata(const struct wr_ttrpc_request *req, const char *key)
{
	for (size_t i = 0; i < req->n_metadata; i++)
		if (strcmp(req->metadata[i].key, key) == 0)
			return req->metadata[i].value;
	return NULL;
}

/* Pack msg behind a header into one buffer. */
static uint8_t *pack_frame(const ProtobufCMessage *msg, uint32_t stream_id, uint8_t type,
		size_t *out_len, struct wr_error *err)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n > WR_TTRPC_MAX_DATA)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED,
				"message length %zu exceeds maximum message size of %u",
				n, WR_TTRPC_MAX_DATA), NULL;
	uint8_t *buf = malloc(WR_TTRPC_HEADER_LEN + n);
	if (!buf)
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc encode: out of memory"), NULL;
	struct wr_ttrpc_header h = {
		.length = (uint32_t)n, .stream_id = stream_id, .type = type, .flags = 0,
	};
	wr_ttrpc_header_encode(buf, &h);
	protobuf_c_message_pack(msg, buf + WR_TTRPC_HEADER_LEN);
	*out_len = WR_TTRPC_HEADER_LEN + n;
	return buf;
}

uint8_t *wr_ttrpc_encode_request(uint32_t stream_id, const char *service, const char *method,
		const void *payload, size_t payload_len, int64_t timeout_nano,
		const struct wr_ttrpc_kv *md, size_t n_md, size_t *out_len, struct wr_error *err)
{
	uint8_t *out = NULL;
	size_t n_owned = 2 + 2 * n_md, used = 0;
	char **owned = calloc(n_owned, sizeof *owned);
	Ttrpc__KeyValue *kvs = n_md ? calloc(n_md, sizeof *kvs) : NULL;
	Ttrpc__KeyValue **kvp = n_md ? calloc(n_md, sizeof *kvp) : NULL;
	if (!owned || (n_md && (!kvs || !kvp))) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc encode: out of memory");
		goto out;
	}
	Ttrpc__Request rq = TTRPC__REQUEST__INIT;
	if (!(rq.service = utf8_clean(service, &owned[used++])) ||
			!(rq.method = utf8_clean(method, &owned[used++]))) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc encode: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n_md; i++) {
		ttrpc__key_value__init(&kvs[i]);
		if (!(kvs[i].key = utf8_clean(md[i].key, &owned[used++])) ||
				!(kvs[i].value = utf8_clean(md[i].value, &owned[used++]))) {
			wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc encode: out of memory");
			goto out;
		}
		kvp[i] = &kvs[i];
	}
	rq.payload.data = (uint8_t *)payload;
	rq.payload.len = payload ? payload_len : 0;
	rq.timeout_nano = timeout_nano;
	rq.n_metadata = n_md;
	rq.metadata = kvp;
	out = pack_frame(&rq.base, stream_id, WR_TTRPC_REQUEST, out_len, err);
out:
	for (size_t i = 0; owned && i < n_owned; i++)
		free(owned[i]);
	free(owned);
	free(kvs);
	free(kvp);
	return out;
}

/* ---- Response ------------------------------------------------------------ */

uint8_t *wr_ttrpc_encode_response(uint32_t stream_id, int code, const char *message,
		const void *payload, size_t payload_len, size_t *out_len, struct wr_error *err)
{
	char *owned;
	Ttrpc__Status st = TTRPC__STATUS__INIT;
	Ttrpc__Response rs = TTRPC__RESPONSE__INIT;
	st.code = code;
	if (!(st.message = utf8_clean(message, &owned)))
		return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "ttrpc encode: out of memory"), NULL;
	rs.status = &st;
	rs.payload.data = (uint8_t *)payload;
	rs.payload.len = payload ? payload_len : 0;
	uint8_t *out = pack_frame(&rs.base, stream_id, WR_TTRPC_RESPONSE, out_len, err);
	free(owned);
	return out;
}

int wr_ttrpc_response_decode(struct wr_ttrpc_response *resp, const uint8_t *data, size_t len,
		struct wr_error *err)
{
	memset(resp, 0, sizeof *resp);
	Ttrpc__Response *pb = ttrpc__response__unpack(NULL, len, data);
	if (!pb)
		return wr_error_set(err, WR_INTERNAL,
				"unmarshal response error: malformed ttrpc.Response (%zu bytes)", len);
	resp->code = pb->status ? pb->status->code : WR_OK;
	resp->message = pb->status && pb->status->message ? pb->status->message : "";
	resp->payload = pb->payload.data;
	resp->payload_len = pb->payload.len;
	resp->pb_ = pb;
	return 0;
}

void wr_ttrpc_response_free(struct wr_ttrpc_response *resp)
{
	if (!resp)
		return;
	if (resp->pb_)
		ttrpc__response__free_unpacked(resp->pb_, NULL);
	memset(resp, 0, sizeof *resp);
}
