/* objgen.h — per-object change counters in memory that warrend's two
 * processes share, so the front can answer a repeated read-only call
 * (SandboxStatus, Platform, State, Connect) from its reply cache while the
 * object it describes has not changed (relay/reply_cache.h).
 *
 * One memfd of WR_OBJGEN_SLOTS 64-bit counters, made by the front at each
 * core spawn and handed to that core (control.h, GENS).  Only the core
 * writes: it gives every live object a slot (o->gen_slot) and bumps the
 * slot's counter whenever the object changes — inserted, persisted (every
 * journaled step), restored after a failed write, removed — which is always
 * before any answer or event that shows the change leaves the core.  A
 * counter only grows while its memfd lives, so a slot reused by another
 * object never matches an older (slot, counter) pair.  The front reads.
 *
 * A core without the table (no front, an older front, or every slot taken)
 * leaves o->gen_slot at -1: its answers are simply not cached.  Every
 * function accepts a NULL table and then does nothing. */
#ifndef WR_OBJGEN_H
#define WR_OBJGEN_H

#include <stdint.h>

#include "core/error.h"
#include "core/object.h"

#define WR_OBJGEN_SLOTS 16384u   /* 128 KiB of address space; pages used as slots are */

struct wr_objgen;

/* The front: a fresh zeroed table; *fd is its memfd (close-on-exec, sealed
 * against resizing) to hand to the core, the caller's to close. */
struct wr_objgen *wr_objgen_create(int *fd, struct wr_error *err);
/* The core: map the table fd (which it then closes); a wrong size → InvalidArgument. */
struct wr_objgen *wr_objgen_map(int fd, struct wr_error *err);
void wr_objgen_free(struct wr_objgen *g);

/* Core side.  attach gives o a free slot (or -1 when all are taken) and bumps
 * it; detach bumps o's slot and frees it; touch bumps it. */
void wr_objgen_attach(struct wr_objgen *g, struct wr_object *o);
void wr_objgen_detach(struct wr_objgen *g, struct wr_object *o);
void wr_objgen_touch(struct wr_objgen *g, const struct wr_object *o);

/* What a cacheable answer carries from the core to the front (a
 * WR_TTRPC_NOTE frame before it, ttrpc/frame.h): the counter it depends on
 * and that counter's value when it was made.  Native byte order: both
 * processes run on one host. */
struct wr_objgen_note {
	uint32_t slot;
	uint32_t reserved;   /* 0 */
	uint64_t gen;
};
/* Fill *n for an answer about o now: 0, or -1 when o has no counter. */
int wr_objgen_note_of(const struct wr_objgen *g, const struct wr_object *o,
		      struct wr_objgen_note *n);

/* The counter of slot (0 for a slot out of range or a NULL table). */
uint64_t wr_objgen_read(const struct wr_objgen *g, uint32_t slot);

#endif
