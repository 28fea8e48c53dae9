/* objtable.h — the engine's in-memory index of live objects.
 *
 * A hash table keyed by (kind, ns, id) plus a list in creation order (so
 * recovery and listings see sandboxes before their tasks).  Owns the objects
 * it holds. */
#ifndef WR_OBJTABLE_H
#define WR_OBJTABLE_H

#include <stddef.h>

#include "core/object.h"
#include "core/objgen.h"

struct wr_objtable;

struct wr_objtable *wr_objtable_new(void);
/* Frees the table and every object still in it. */
void wr_objtable_free(struct wr_objtable *t);
struct wr_object *wr_objtable_find(const struct wr_objtable *t, enum wr_kind kind,
				   const char *ns, const char *id);
/* Give every object inserted from now on a change counter in g (objgen.h),
 * freed when it is removed; NULL (the default): none. */
void wr_objtable_set_gens(struct wr_objtable *t, struct wr_objgen *g);
/* Insert (takes ownership); -1 on ENOMEM or duplicate identity. */
int wr_objtable_insert(struct wr_objtable *t, struct wr_object *o);
/* Remove without freeing; no-op if absent. */
void wr_objtable_remove(struct wr_objtable *t, struct wr_object *o);
size_t wr_objtable_count(const struct wr_objtable *t);
/* Visit in creation order; fn may remove the object it is given. */
void wr_objtable_foreach(struct wr_objtable *t, void (*fn)(void *ctx, struct wr_object *o),
			 void *ctx);

#endif
