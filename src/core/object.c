/* object.c — allocation and naming of struct wr_object (see object.h). */
#include "core/object.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[WR_KIND_COUNT] = { "sandbox", "task", "exec" };

const char *wr_kind_name(enum wr_kind kind)
{
	return (unsigned)kind < WR_KIND_COUNT ? kind_names[kind] : "?";
}

int wr_kind_by_name(const char *name)
{
	for (int i = 0; i < WR_KIND_COUNT; i++)
		if (name && strcmp(kind_names[i], name) == 0)
			return i;
	return -1;
}

int wr_object_set(char **field, const char *value)
{
	char *copy = strdup(value ? value : "");
	if (!copy)
		return -1;
	free(*field);
	*field = copy;
	return 0;
}

struct wr_object *wr_object_new(enum wr_kind kind, const char *ns, const char *id,
				const char *owner, const char *backend)
{
	struct wr_object *o = calloc(1, sizeof *o);
	if (!o)
		return NULL;
	o->kind = kind;
	o->gen_slot = -1;
	if (wr_object_set(&o->ns, ns) || wr_object_set(&o->id, id) ||
	    wr_object_set(&o->owner, owner) || wr_object_set(&o->backend, backend) ||
	    wr_object_set(&o->reason, "") || wr_object_set(&o->spec, "{}") ||
	    wr_object_set(&o->bstate, "{}")) {
		wr_object_free(o);
		return NULL;
	}
	return o;
}

void wr_object_free(struct wr_object *o)
{
	if (!o)
		return;
	free(o->ns);
	free(o->id);
	free(o->owner);
	free(o->backend);
	free(o->reason);
	free(o->spec);
	free(o->bstate);
	free(o);
}
