/* harness.h — shared set-up for the core tests: a private temp directory, an
 * engine over a database in it, and a fake backend whose world lives there
 * too.  Everything is removed by harness_close(). */
#ifndef WR_TEST_HARNESS_H
#define WR_TEST_HARNESS_H

#include <stdbool.h>

#include "backends/fake/fake.h"
#include "core/engine.h"

struct harness {
	char dir[256];
	char db[300];
	char world[300];
	struct wr_backend *fake;
	struct wr_backend *backends[1];
	struct wr_engine *engine;
	struct wr_engine_config cfg;
};

/* Make the directory (under $TMPDIR or /tmp; /dev/shm when fast is true, so
 * that fsync costs nothing in tests that only count transitions). */
void harness_init(struct harness *h, bool fast);
/* Open (or reopen) the engine; asserts success. */
void harness_open(struct harness *h);
/* Close the engine, keep the files (to reopen as after a crash). */
void harness_shut(struct harness *h);
/* Close everything and remove the directory. */
void harness_close(struct harness *h);
/* rm -rf */
int harness_rmrf(const char *path);
/* A new object template of the fake backend in namespace "test". */
struct wr_object *harness_object(enum wr_kind kind, const char *id);
/* Event number by name for a kind; asserts it exists. */
int harness_event(enum wr_kind kind, const char *name);
int harness_state(enum wr_kind kind, const char *name);
/* cmocka fixtures: a fresh harness (on disk, engine open) per test. */
int harness_setup(void **state);
int harness_teardown(void **state);
/* Open the store at path directly (no engine); asserts success, printing
 * the store's error otherwise. */
struct wr_store *harness_store_open(const char *path);
/* Create an object of the fake backend through the engine; asserts success. */
struct wr_object *harness_make(struct harness *h, enum wr_kind kind, const char *id);

#endif
