/* book.c — requests in flight on one relayed containerd connection (see
 * book.h).  A request is tracked from the moment the front reads it until the
 * core's response passes back, or until the front answers it itself. */
#include "relay/book.h"
#include "relay/reply_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wr_relay_book_init(struct wr_relay_book *b)
{
	memset(b, 0, sizeof *b);
}

void wr_relay_req_free(struct wr_relay_req *r)
{
	if (!r)
		return;
	free(r->frame);
	free(r->key);
	free(r);
}

void wr_relay_book_free(struct wr_relay_book *b)
{
	for (struct wr_relay_req *r = b->head, *next; r; r = next) {
		next = r->next;
		wr_relay_req_free(r);
	}
	wr_relay_book_init(b);
}

int wr_relay_is_wait(const char *service, const char *method)
{
	if (strcmp(method, "Wait") == 0)
		return strcmp(service, "containerd.task.v3.Task") == 0 ||
		       strcmp(service, "containerd.task.v2.Task") == 0;
	return strcmp(method, "WaitSandbox") == 0 &&
	       strcmp(service, "containerd.runtime.sandbox.v1.Sandbox") == 0;
}

uint8_t *wr_relay_frame_bytes(const struct wr_ttrpc_frame *f, size_t *len)
{
	*len = WR_TTRPC_HEADER_LEN + (size_t)f->hdr.length;
	uint8_t *p = malloc(*len);
	if (!p)
		return NULL;
	wr_ttrpc_header_encode(p, &f->hdr);
	if (f->hdr.length)
		memcpy(p + WR_TTRPC_HEADER_LEN, f->data, f->hdr.length);
	return p;
}

static int answer(uint32_t id, int code, const char *msg, uint8_t **reply, size_t *reply_len,
		  struct wr_error *err)
{
	*reply = wr_ttrpc_encode_response(id, code, msg, NULL, 0, reply_len, err);
	return *reply ? WR_RELAY_ANSWERED : WR_RELAY_REJECT;
}

/* Track request f (decodable or not: the core answers a bad one). */
static int track(struct wr_relay_book *b, const struct wr_ttrpc_frame *f)
{
	struct wr_relay_req *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	struct wr_ttrpc_request req;
	struct wr_error derr;
	r->stream_id = f->hdr.stream_id;
	if (wr_ttrpc_request_decode(&req, f->data, f->hdr.length, &derr) == 0) {
		r->reissue = wr_relay_is_wait(req.service, req.method);
		if (b->backend)
			r->key = wr_reply_cache_key(b->backend, &req, &r->key_len);
		wr_ttrpc_request_free(&req);
	}
	if (r->reissue && !(r->frame = wr_relay_frame_bytes(f, &r->len))) {
		wr_relay_req_free(r);
		return -1;
	}
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	b->n++;
	return 0;
}

int wr_relay_book_client(struct wr_relay_book *b, const struct wr_ttrpc_frame *f, int kind,
			 uint8_t **reply, size_t *reply_len, struct wr_error *err)
{
	const struct wr_ttrpc_header *h = &f->hdr;
	*reply = NULL;
	*reply_len = 0;
	if (h->type == WR_TTRPC_DATA)
		return kind == WR_TTRPC_OVERSIZED ? WR_RELAY_DROP : WR_RELAY_FORWARD;
	if (h->type != WR_TTRPC_REQUEST) {
		wr_error_set(err, WR_INVALID_ARGUMENT,
			     "stream %u: unexpected frame type %u from a client", h->stream_id, h->type);
		return WR_RELAY_REJECT;
	}
	if (!(h->stream_id & 1) || h->stream_id <= b->last_id) {
		wr_error_set(err, WR_INVALID_ARGUMENT,
			     "stream %u: client stream ids must be odd and increasing (last %u)",
			     h->stream_id, b->last_id);
		return WR_RELAY_REJECT;
	}
	b->last_id = h->stream_id;
	if (kind == WR_TTRPC_OVERSIZED) {
		char msg[128];
		snprintf(msg, sizeof msg, "message length %u exceed maximum message size of %u",
			 h->length, WR_TTRPC_MAX_DATA);
		return answer(h->stream_id, WR_RESOURCE_EXHAUSTED, msg, reply, reply_len, err);
	}
	if (track(b, f) < 0)
		return answer(h->stream_id, WR_RESOURCE_EXHAUSTED, "out of memory", reply, reply_len,
			      err);
	return WR_RELAY_FORWARD;
}

/* The tracked request for stream_id, or NULL; *prev its predecessor (NULL at the head). */
static struct wr_relay_req *find(const struct wr_relay_book *b, uint32_t stream_id,
				 struct wr_relay_req **prev)
{
	*prev = NULL;
	for (struct wr_relay_req *r = b->head; r; *prev = r, r = r->next)
		if (r->stream_id == stream_id)
			return r;
	return NULL;
}

struct wr_relay_req *wr_relay_book_take(struct wr_relay_book *b, uint32_t stream_id)
{
	struct wr_relay_req *prev, *r = find(b, stream_id, &prev);
	if (!r)
		return NULL;
	if (prev)
		prev->next = r->next;
	else
		b->head = r->next;
	if (b->tail == r)
		b->tail = prev;
	b->n--;
	r->next = NULL;
	return r;
}

int wr_relay_book_core(struct wr_relay_book *b, uint32_t stream_id)
{
	struct wr_relay_req *r = wr_relay_book_take(b, stream_id);
	int found = r != NULL;
	wr_relay_req_free(r);
	return found;
}

int wr_relay_book_note(struct wr_relay_book *b, uint32_t stream_id, const uint8_t *data,
		       size_t len)
{
	struct wr_relay_req *prev, *r = find(b, stream_id, &prev);
	if (!r || len != sizeof r->note)
		return 0;
	memcpy(&r->note, data, len);
	r->noted = 1;
	return 1;
}

/* Append n bytes to a growing buffer. */
static int append(uint8_t **buf, size_t *len, const uint8_t *p, size_t n)
{
	uint8_t *nb = realloc(*buf, *len + n);
	if (!nb)
		return -1;
	memcpy(nb + *len, p, n);
	*buf = nb;
	*len += n;
	return 0;
}

int wr_relay_book_core_lost(struct wr_relay_book *b, uint8_t **answers, size_t *answers_len,
			    uint8_t **resend, size_t *resend_len, struct wr_error *err)
{
	*answers = *resend = NULL;
	*answers_len = *resend_len = 0;
	/* Build both outputs first, then drop the answered requests: on failure
	 * the book is as it was. */
	for (struct wr_relay_req *r = b->head; r; r = r->next) {
		int rc;
		if (r->reissue) {
			rc = append(resend, resend_len, r->frame, r->len);
		} else {
			size_t n;
			uint8_t *f = wr_ttrpc_encode_response(r->stream_id, WR_UNAVAILABLE,
							      WR_RELAY_RESTARTING, NULL, 0, &n, err);
			rc = f ? append(answers, answers_len, f, n) : -1;
			free(f);
		}
		if (rc < 0) {
			free(*answers);
			free(*resend);
			*answers = *resend = NULL;
			*answers_len = *resend_len = 0;
			return wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		}
	}
	struct wr_relay_req **pp = &b->head;
	b->tail = NULL;
	while (*pp) {
		struct wr_relay_req *r = *pp;
		if (r->reissue) {
			b->tail = r;
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		b->n--;
		wr_relay_req_free(r);
	}
	return 0;
}
