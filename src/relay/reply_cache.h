/* reply_cache.h — answers warrend's front process gives again itself.
 *
 * containerd asks warrend the same read-only questions many times per pod
 * (SandboxStatus five times during one pod start, and once a second per pod
 * from the kubelet's relisting afterwards; Platform, State, Connect).  Each
 * one relayed costs a wakeup of both processes and a core that is busy with
 * runc makes it wait.  So the core marks an answer that only depends on one
 * object (front_internal.h, wr_front_reply_cached) with a WR_TTRPC_NOTE frame
 * naming that object's change counter and its value (core/objgen.h); the
 * front keeps the answer, and gives it to the same question again while the
 * counter is unchanged.  The core bumps the counter at every change of the
 * object before anything that shows the change leaves it, so containerd
 * never gets from the cache what the core would no longer answer.
 *
 * The question is the key: the connection's backend, the method, the
 * namespace and the request's payload (not its timeout or other metadata,
 * which no cacheable answer reads).  Only the methods below get keys.
 * Bounded: WR_REPLY_CACHE_ENTRIES places, a new answer replaces what held
 * its place; a stale answer is dropped when met.  The front empties the
 * cache whenever its core dies (the next core has a new counter table).
 * Pure code: no sockets, no loop (tests/unit/test_reply_cache.c). */
#ifndef WR_RELAY_REPLY_CACHE_H
#define WR_RELAY_REPLY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/objgen.h"
#include "ttrpc/frame.h"

#define WR_REPLY_CACHE_ENTRIES 1024

struct wr_reply_cache;

struct wr_reply_cache *wr_reply_cache_new(void);
void wr_reply_cache_free(struct wr_reply_cache *c);

/* The key of req arriving on a connection for backend (malloc'd, *len
 * bytes), or NULL: not a method the core may mark cacheable, or out of memory. */
uint8_t *wr_reply_cache_key(const char *backend, const struct wr_ttrpc_request *req,
			    size_t *len);

/* Keep data (a ttrpc.Response, the core's answer) for key, valid while the
 * counter note->slot of g still holds note->gen. */
void wr_reply_cache_put(struct wr_reply_cache *c, const uint8_t *key, size_t key_len,
			const struct wr_objgen_note *note, const uint8_t *data, size_t len);

/* The answer to key, valid now: 1 and *frame (malloc'd, *len bytes: a whole
 * response frame for stream_id); 0 when none (a stale one is dropped) or out
 * of memory. */
int wr_reply_cache_get(struct wr_reply_cache *c, const struct wr_objgen *g,
		       const uint8_t *key, size_t key_len, uint32_t stream_id, uint8_t **frame,
		       size_t *len);

void wr_reply_cache_clear(struct wr_reply_cache *c);
/* Answers held (valid or not yet found stale). */
size_t wr_reply_cache_count(const struct wr_reply_cache *c);

#endif
