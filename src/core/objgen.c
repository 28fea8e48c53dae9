/* objgen.c — the shared change counters (objgen.h).  The core is the only
 * writer, one thread: a counter goes up by a release store, the front reads
 * it with an acquire load.  Free slots are a stack in the core's own heap. */
#include "core/objgen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TABLE_BYTES ((size_t)WR_OBJGEN_SLOTS * sizeof(uint64_t))

struct wr_objgen {
	uint64_t *v;              /* WR_OBJGEN_SLOTS counters, MAP_SHARED */
	uint32_t *free_slots;     /* core: slots not in use (a stack); NULL in the front */
	uint32_t n_free;
};

static struct wr_objgen *map_table(int fd, struct wr_error *err)
{
	struct wr_objgen *g = calloc(1, sizeof *g);
	if (!g) {
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	g->v = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g->v == MAP_FAILED) {
		wr_error_errno(err, errno, "mapping the change counters");
		free(g);
		return NULL;
	}
	return g;
}

struct wr_objgen *wr_objgen_create(int *fd, struct wr_error *err)
{
	*fd = memfd_create("warren-objgen", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd < 0) {
		wr_error_errno(err, errno, "memfd for the change counters");
		return NULL;
	}
	if (ftruncate(*fd, (off_t)TABLE_BYTES) < 0 ||
	    fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		wr_error_errno(err, errno, "sizing the change counters");
		close(*fd);
		*fd = -1;
		return NULL;
	}
	struct wr_objgen *g = map_table(*fd, err);
	if (!g) {
		close(*fd);
		*fd = -1;
	}
	return g;
}

struct wr_objgen *wr_objgen_map(int fd, struct wr_error *err)
{
	struct stat st;
	struct wr_objgen *g = NULL;
	if (fstat(fd, &st) < 0)
		wr_error_errno(err, errno, "change counters fd");
	else if ((size_t)st.st_size != TABLE_BYTES)
		wr_error_set(err, WR_INVALID_ARGUMENT, "change counters: %lld bytes, want %zu",
			     (long long)st.st_size, TABLE_BYTES);
	else if ((g = map_table(fd, err)) &&
		 !(g->free_slots = malloc(WR_OBJGEN_SLOTS * sizeof *g->free_slots))) {
		wr_objgen_free(g);
		g = NULL;
		wr_error_set(err, WR_RESOURCE_EXHAUSTED, "out of memory");
	}
	close(fd);
	if (!g)
		return NULL;
	/* lowest slots on top: a small node touches few pages */
	for (uint32_t i = 0; i < WR_OBJGEN_SLOTS; i++)
		g->free_slots[i] = WR_OBJGEN_SLOTS - 1 - i;
	g->n_free = WR_OBJGEN_SLOTS;
	return g;
}

void wr_objgen_free(struct wr_objgen *g)
{
	if (!g)
		return;
	munmap(g->v, TABLE_BYTES);
	free(g->free_slots);
	free(g);
}

static void bump(struct wr_objgen *g, int slot)
{
	uint64_t *p = &g->v[slot];
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
}

void wr_objgen_attach(struct wr_objgen *g, struct wr_object *o)
{
	if (!g || !g->free_slots || o->gen_slot >= 0)
		return;
	if (!g->n_free)
		return;   /* uncached, not wrong */
	o->gen_slot = (int)g->free_slots[--g->n_free];
	bump(g, o->gen_slot);
}

void wr_objgen_detach(struct wr_objgen *g, struct wr_object *o)
{
	if (!g || !g->free_slots || o->gen_slot < 0)
		return;
	bump(g, o->gen_slot);
	g->free_slots[g->n_free++] = (uint32_t)o->gen_slot;
	o->gen_slot = -1;
}

void wr_objgen_touch(struct wr_objgen *g, const struct wr_object *o)
{
	if (g && o->gen_slot >= 0)
		bump(g, o->gen_slot);
}

uint64_t wr_objgen_read(const struct wr_objgen *g, uint32_t slot)
{
	if (!g || slot >= WR_OBJGEN_SLOTS)
		return 0;
	return __atomic_load_n(&g->v[slot], __ATOMIC_ACQUIRE);
}

int wr_objgen_note_of(const struct wr_objgen *g, const struct wr_object *o,
		      struct wr_objgen_note *n)
{
	if (!g || o->gen_slot < 0)
		return -1;
	n->slot = (uint32_t)o->gen_slot;
	n->reserved = 0;
	n->gen = wr_objgen_read(g, n->slot);
	return 0;
}
