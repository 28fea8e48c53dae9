/* book.h — what warrend's front process remembers of one containerd
 * connection: the requests it passed to the core that the core has not
 * answered yet.  Pure bookkeeping (no sockets, no loop), so the rules below
 * are unit-tested on their own (tests/unit/test_relay_book.c).
 *
 * Frames from containerd (wr_relay_book_client):
 *   request, odd stream id above the last one → tracked, forwarded
 *   request over 4 MiB (reader says oversized) → answered ResourceExhausted here
 *   data frame → forwarded (nothing waits for it)
 *   response or unknown type, even or non-increasing stream id → the
 *     connection must be closed (the ttrpc server's own rules, server.h)
 * Frames from the core (wr_relay_book_core): a response settles its request;
 * a response to nothing tracked is dropped, so containerd never gets two
 * answers for one stream.
 * The core died (wr_relay_book_core_lost): Wait (containerd.task.v3/v2.Task)
 * and WaitSandbox (containerd.runtime.sandbox.v1.Sandbox) requests stay
 * tracked and their original frames are handed back, to be re-sent to the
 * next core — a held Wait is answered when its object exits, whichever core
 * sees that.  Every other request is answered Unavailable "warren core
 * restarting" and forgotten: it may or may not have taken effect, exactly as
 * when a connection drops, and containerd sees a failed call instead of a
 * dead shim. */
#ifndef WR_RELAY_BOOK_H
#define WR_RELAY_BOOK_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/objgen.h"
#include "ttrpc/frame.h"

#define WR_RELAY_RESTARTING "warren core restarting"

struct wr_relay_req {
	struct wr_relay_req *next;
	uint32_t stream_id;
	int reissue;              /* Wait / WaitSandbox (0: did not decode) */
	uint8_t *frame;           /* reissue only: the whole frame as received */
	size_t len;
	uint8_t *key;             /* its reply cache key (reply_cache.h), or NULL */
	size_t key_len;
	int noted;                /* the core's note on its answer came: */
	struct wr_objgen_note note;
};

struct wr_relay_book {
	struct wr_relay_req *head, *tail;   /* ascending stream ids */
	size_t n;
	uint32_t last_id;                   /* highest request stream id seen */
	const char *backend;                /* set: requests get reply cache keys */
};

enum wr_relay_verdict {
	WR_RELAY_REJECT = -1,   /* protocol violation: close containerd's connection */
	WR_RELAY_FORWARD = 0,   /* pass the frame to the core */
	WR_RELAY_ANSWERED = 1,  /* answered here: send *reply to containerd */
	WR_RELAY_DROP = 2,      /* nothing to do (data of an oversized data frame) */
};

void wr_relay_book_init(struct wr_relay_book *b);
void wr_relay_book_free(struct wr_relay_book *b);

/* 1 for the calls that block until an object exits (re-sent after a restart). */
int wr_relay_is_wait(const char *service, const char *method);

/* A frame from containerd; kind is what wr_ttrpc_reader_next() returned.
 * Returns enum wr_relay_verdict; ANSWERED sets *reply (malloc'd frame bytes,
 * *reply_len long); REJECT fills err with the reason.  FORWARD of a request
 * leaves its record at b->tail (with its key when b->backend is set). */
int wr_relay_book_client(struct wr_relay_book *b, const struct wr_ttrpc_frame *f, int kind,
			 uint8_t **reply, size_t *reply_len, struct wr_error *err);

/* A response frame from the core for stream_id: 1 it settles a tracked
 * request (forward it), 0 nothing waits for it (drop it). */
int wr_relay_book_core(struct wr_relay_book *b, uint32_t stream_id);
/* The same, handing the settled request over (free it with
 * wr_relay_req_free); NULL when nothing waits for stream_id. */
struct wr_relay_req *wr_relay_book_take(struct wr_relay_book *b, uint32_t stream_id);
void wr_relay_req_free(struct wr_relay_req *r);
/* A WR_TTRPC_NOTE frame from the core (data, len bytes) for stream_id: kept
 * on the tracked request for when its answer comes.  1 kept; 0 nothing waits
 * for it or it is not a struct wr_objgen_note. */
int wr_relay_book_note(struct wr_relay_book *b, uint32_t stream_id, const uint8_t *data,
		       size_t len);

/* The core is gone.  *answers: Unavailable responses for containerd (those
 * requests are forgotten); *resend: the frames of the tracked Waits, in
 * stream order, for the next core.  Either is NULL with length 0 when empty.
 * -1 only when out of memory (then nothing changed). */
int wr_relay_book_core_lost(struct wr_relay_book *b, uint8_t **answers, size_t *answers_len,
			    uint8_t **resend, size_t *resend_len, struct wr_error *err);

/* The whole frame (header + data) in one malloc'd buffer; NULL if out of memory. */
uint8_t *wr_relay_frame_bytes(const struct wr_ttrpc_frame *f, size_t *len);

#endif
