/* reply_cache.c — the front's reply cache (reply_cache.h): a direct-mapped
 * table of WR_REPLY_CACHE_ENTRIES places chosen by the key's XXH3 hash; an
 * entry holds its key and the response data in one allocation. */
#include "relay/reply_cache.h"

#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

struct entry {
	uint64_t hash;
	struct wr_objgen_note note;
	size_t key_len, data_len;
	uint8_t bytes[];          /* key, then data */
};

struct wr_reply_cache {
	struct entry *slot[WR_REPLY_CACHE_ENTRIES];
	size_t count;
};

/* The methods whose answers the core marks (wr_front_reply_cached callers). */
static int cacheable(const char *service, const char *method)
{
	if (strcmp(service, "containerd.runtime.sandbox.v1.Sandbox") == 0)
		return strcmp(method, "SandboxStatus") == 0 || strcmp(method, "Platform") == 0;
	if (strcmp(service, "containerd.task.v3.Task") == 0 ||
	    strcmp(service, "containerd.task.v2.Task") == 0)
		return strcmp(method, "State") == 0 || strcmp(method, "Connect") == 0;
	return 0;
}

struct wr_reply_cache *wr_reply_cache_new(void)
{
	return calloc(1, sizeof(struct wr_reply_cache));
}

static void drop(struct wr_reply_cache *c, size_t i)
{
	if (!c->slot[i])
		return;
	free(c->slot[i]);
	c->slot[i] = NULL;
	c->count--;
}

void wr_reply_cache_clear(struct wr_reply_cache *c)
{
	for (size_t i = 0; c && i < WR_REPLY_CACHE_ENTRIES; i++)
		drop(c, i);
}

void wr_reply_cache_free(struct wr_reply_cache *c)
{
	wr_reply_cache_clear(c);
	free(c);
}

size_t wr_reply_cache_count(const struct wr_reply_cache *c)
{
	return c->count;
}

uint8_t *wr_reply_cache_key(const char *backend, const struct wr_ttrpc_request *req,
			    size_t *len)
{
	if (!cacheable(req->service, req->method))
		return NULL;
	/* the strings with their NULs (none holds one: protobuf strings are
	 * UTF-8 checked, and a NUL would only make two keys alike that the core
	 * also reads alike), then the payload */
	const char *ns = req->namespace ? req->namespace : "";
	const char *parts[] = { backend, req->service, req->method, ns };
	size_t n = req->payload_len;
	for (size_t i = 0; i < 4; i++)
		n += strlen(parts[i]) + 1;
	uint8_t *key = malloc(n), *p = key;
	if (!key)
		return NULL;
	for (size_t i = 0; i < 4; i++) {
		size_t l = strlen(parts[i]) + 1;
		memcpy(p, parts[i], l);
		p += l;
	}
	if (req->payload_len)
		memcpy(p, req->payload, req->payload_len);
	*len = n;
	return key;
}

static size_t place(uint64_t hash)
{
	return (size_t)(hash % WR_REPLY_CACHE_ENTRIES);
}

void wr_reply_cache_put(struct wr_reply_cache *c, const uint8_t *key, size_t key_len,
			const struct wr_objgen_note *note, const uint8_t *data, size_t len)
{
	struct entry *e = malloc(sizeof *e + key_len + len);
	if (!e)
		return;   /* not kept: the next one asks the core */
	e->hash = XXH3_64bits(key, key_len);
	e->note = *note;
	e->key_len = key_len;
	e->data_len = len;
	memcpy(e->bytes, key, key_len);
	if (len)
		memcpy(e->bytes + key_len, data, len);
	size_t i = place(e->hash);
	drop(c, i);
	c->slot[i] = e;
	c->count++;
}

int wr_reply_cache_get(struct wr_reply_cache *c, const struct wr_objgen *g,
		       const uint8_t *key, size_t key_len, uint32_t stream_id, uint8_t **frame,
		       size_t *len)
{
	uint64_t hash = XXH3_64bits(key, key_len);
	size_t i = place(hash);
	struct entry *e = c->slot[i];
	if (!e || e->hash != hash || e->key_len != key_len || memcmp(e->bytes, key, key_len) != 0)
		return 0;
	if (wr_objgen_read(g, e->note.slot) != e->note.gen) {
		drop(c, i);   /* the object changed (or is gone) since */
		return 0;
	}
	*len = WR_TTRPC_HEADER_LEN + e->data_len;
	uint8_t *f = malloc(*len);
	if (!f)
		return 0;
	struct wr_ttrpc_header h = { .length = (uint32_t)e->data_len, .stream_id = stream_id,
				     .type = WR_TTRPC_RESPONSE };
	wr_ttrpc_header_encode(f, &h);
	memcpy(f + WR_TTRPC_HEADER_LEN, e->bytes + key_len, e->data_len);
	*frame = f;
	return 1;
}
