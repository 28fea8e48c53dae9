/* objtable.c — hash index + creation-order list of live objects (objtable.h).
 *
 * Invariant: every entry is in exactly one hash chain and in the order list;
 * the table grows (doubling) when the load factor passes 1. */
#include "core/objtable.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct wr_object *o;
	struct entry *chain;        /* next in hash bucket */
	struct entry *prev, *next;  /* creation order */
};

struct wr_objtable {
	struct entry **buckets;
	size_t n_buckets, count;
	struct entry *head, *tail;
	struct wr_objgen *gens;     /* not owned; NULL: objects get no counter */
};

static uint64_t hash_key(enum wr_kind kind, const char *ns, const char *id)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)kind;
	for (const char *s = ns; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *s = id; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static bool matches(const struct wr_object *o, enum wr_kind kind, const char *ns, const char *id)
{
	return o->kind == kind && strcmp(o->ns, ns) == 0 && strcmp(o->id, id) == 0;
}

struct wr_objtable *wr_objtable_new(void)
{
	struct wr_objtable *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->n_buckets = 64;
	t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	return t;
}

void wr_objtable_free(struct wr_objtable *t)
{
	if (!t)
		return;
	for (struct entry *e = t->head, *next; e; e = next) {
		next = e->next;
		wr_object_free(e->o);
		free(e);
	}
	free(t->buckets);
	free(t);
}

static struct entry **slot_of(const struct wr_objtable *t, enum wr_kind kind, const char *ns,
			      const char *id)
{
	struct entry **p = &t->buckets[hash_key(kind, ns, id) & (t->n_buckets - 1)];
	while (*p && !matches((*p)->o, kind, ns, id))
		p = &(*p)->chain;
	return p;
}

struct wr_object *wr_objtable_find(const struct wr_objtable *t, enum wr_kind kind,
				   const char *ns, const char *id)
{
	struct entry *e = *slot_of(t, kind, ns ? ns : "", id ? id : "");
	return e ? e->o : NULL;
}

static int grow(struct wr_objtable *t)
{
	size_t n = t->n_buckets * 2;
	struct entry **b = calloc(n, sizeof *b);
	if (!b)
		return -1;
	for (struct entry *e = t->head; e; e = e->next) {
		struct entry **p = &b[hash_key(e->o->kind, e->o->ns, e->o->id) & (n - 1)];
		e->chain = *p;
		*p = e;
	}
	free(t->buckets);
	t->buckets = b;
	t->n_buckets = n;
	return 0;
}

int wr_objtable_insert(struct wr_objtable *t, struct wr_object *o)
{
	if (t->count >= t->n_buckets && grow(t) < 0)
		return -1;
	struct entry **p = slot_of(t, o->kind, o->ns, o->id);
	if (*p)
		return -1;
	struct entry *e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	e->o = o;
	*p = e;
	e->prev = t->tail;
	if (t->tail)
		t->tail->next = e;
	else
		t->head = e;
	t->tail = e;
	t->count++;
	wr_objgen_attach(t->gens, o);
	return 0;
}

void wr_objtable_set_gens(struct wr_objtable *t, struct wr_objgen *g)
{
	t->gens = g;
}

void wr_objtable_remove(struct wr_objtable *t, struct wr_object *o)
{
	struct entry **p = slot_of(t, o->kind, o->ns, o->id);
	struct entry *e = *p;
	if (!e || e->o != o)
		return;
	*p = e->chain;
	if (e->prev)
		e->prev->next = e->next;
	else
		t->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		t->tail = e->prev;
	t->count--;
	free(e);
	wr_objgen_detach(t->gens, o);
}

size_t wr_objtable_count(const struct wr_objtable *t)
{
	return t->count;
}

void wr_objtable_foreach(struct wr_objtable *t, void (*fn)(void *ctx, struct wr_object *o),
			 void *ctx)
{
	for (struct entry *e = t->head, *next; e; e = next) {
		next = e->next;
		fn(ctx, e->o);
	}
}
