/* harness.c — see harness.h. */
#include "tests/support/harness.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/store.h"

void harness_init(struct harness *h, bool fast)
{
	memset(h, 0, sizeof *h);
	const char *base = fast && access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			   : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(h->dir, sizeof h->dir, "%s/warren-test-XXXXXX", base);
	assert_non_null(mkdtemp(h->dir));
	snprintf(h->db, sizeof h->db, "%s/warren.db", h->dir);
	snprintf(h->world, sizeof h->world, "%s/world", h->dir);
	struct wr_error err;
	h->fake = wr_fake_new("fake", h->world, &err);
	assert_non_null(h->fake);
	h->backends[0] = h->fake;
	h->cfg.db_path = h->db;
	h->cfg.backends = h->backends;
	h->cfg.n_backends = 1;
}

void harness_open(struct harness *h)
{
	struct wr_error err = { 0 };
	if (wr_engine_open(&h->engine, &h->cfg, &err) < 0)
		fail_msg("engine open failed: %s", err.msg);
}

void harness_shut(struct harness *h)
{
	wr_engine_close(h->engine);
	h->engine = NULL;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int harness_rmrf(const char *path)
{
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void harness_close(struct harness *h)
{
	harness_shut(h);
	if (h->fake)
		h->fake->ops->destroy(h->fake);
	h->fake = NULL;
	harness_rmrf(h->dir);
}

struct wr_store *harness_store_open(const char *path)
{
	struct wr_store *s = NULL;
	struct wr_error err = { 0 };
	int rc = wr_store_open(&s, path, &err);
	if (rc != 0)
		print_error("wr_store_open: %s\n", err.msg);
	assert_int_equal(rc, 0);
	assert_non_null(s);
	return s;
}

struct wr_object *harness_object(enum wr_kind kind, const char *id)
{
	struct wr_object *o = wr_object_new(kind, "test", id, "", "fake");
	assert_non_null(o);
	return o;
}

int harness_event(enum wr_kind kind, const char *name)
{
	int ev = wr_lc_event_by_name(wr_lifecycle_of(kind), name);
	assert_true(ev > 0);
	return ev;
}

int harness_state(enum wr_kind kind, const char *name)
{
	int s = wr_lc_state_by_name(wr_lifecycle_of(kind), name);
	assert_true(s >= 0);
	return s;
}

int harness_setup(void **state)
{
	static struct harness h;
	harness_init(&h, false);
	harness_open(&h);
	*state = &h;
	return 0;
}

int harness_teardown(void **state)
{
	harness_close(*state);
	return 0;
}

struct wr_object *harness_make(struct harness *h, enum wr_kind kind, const char *id)
{
	struct wr_object *o = NULL;
	struct wr_error err = { 0 };
	if (wr_create(h->engine, harness_object(kind, id), NULL, &o, &err) < 0)
		fail_msg("create %s %s: %s", wr_kind_name(kind), id, err.msg);
	assert_non_null(o);
	return o;
}
