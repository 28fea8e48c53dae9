/* held.c — the front's table of held terminal fds (see held.h).  A plain
 * array: a node has a handful of terminals. */
#include "relay/held.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void wr_held_init(struct wr_held *h)
{
	memset(h, 0, sizeof *h);
}

static void close_slots(struct wr_held_ent *e)
{
	for (int s = 0; s < WR_CTL_SLOTS; s++)
		if (e->fd[s] >= 0) {
			close(e->fd[s]);
			e->fd[s] = -1;
		}
}

void wr_held_free(struct wr_held *h)
{
	for (size_t i = 0; i < h->n; i++) {
		close_slots(&h->v[i]);
		free(h->v[i].key);
	}
	free(h->v);
	wr_held_init(h);
}

static struct wr_held_ent *find(struct wr_held *h, const char *key)
{
	for (size_t i = 0; i < h->n; i++)
		if (strcmp(h->v[i].key, key) == 0)
			return &h->v[i];
	return NULL;
}

int wr_held_put(struct wr_held *h, const char *key, int slot, int fd)
{
	if (slot < 0 || slot >= WR_CTL_SLOTS)
		goto fail;
	struct wr_held_ent *e = find(h, key);
	if (!e) {
		if (h->n >= WR_HELD_MAX)
			goto fail;
		if (h->n == h->cap) {
			size_t cap = h->cap ? h->cap * 2 : 8;
			struct wr_held_ent *v = realloc(h->v, cap * sizeof *v);
			if (!v)
				goto fail;
			h->v = v;
			h->cap = cap;
		}
		char *k = strdup(key);
		if (!k)
			goto fail;
		e = &h->v[h->n++];
		e->key = k;
		for (int s = 0; s < WR_CTL_SLOTS; s++)
			e->fd[s] = -1;
	}
	if (e->fd[slot] >= 0)
		close(e->fd[slot]);
	e->fd[slot] = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int wr_held_drop(struct wr_held *h, const char *key, int slot)
{
	struct wr_held_ent *e = find(h, key);
	if (!e || (slot != WR_CTL_SLOT_ALL && (slot < 0 || slot >= WR_CTL_SLOTS)))
		return 0;
	int closed = 0, left = 0;
	for (int s = 0; s < WR_CTL_SLOTS; s++) {
		if (e->fd[s] < 0)
			continue;
		if (slot == WR_CTL_SLOT_ALL || slot == s) {
			close(e->fd[s]);
			e->fd[s] = -1;
			closed++;
		} else {
			left++;
		}
	}
	if (!left) {
		free(e->key);
		*e = h->v[--h->n];
	}
	return closed;
}

size_t wr_held_fds(const struct wr_held *h)
{
	size_t n = 0;
	for (size_t i = 0; i < h->n; i++)
		for (int s = 0; s < WR_CTL_SLOTS; s++)
			n += h->v[i].fd[s] >= 0;
	return n;
}
