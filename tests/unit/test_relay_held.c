/* test_relay_held.c — the terminals' fds warrend's front process holds for
 * the core (src/relay/held.h): put, replace, drop of one slot or all, the
 * forgetting of a key with nothing left, the bound, and that every fd the
 * table lets go of is closed (pipes: the read end sees EOF once the held
 * write end is closed) — and none it still holds. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/held.h"

/* A pipe: returns its write end (for the table), *rd its read end. */
static int pipe_w(int *rd)
{
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	*rd = p[0];
	return p[1];
}

/* 1 when every write end of rd's pipe is closed (EOF), 0 when one is open. */
static int closed(int rd)
{
	char c;
	ssize_t n = read(rd, &c, 1);
	if (n < 0)
		assert_int_equal(errno, EAGAIN);
	return n == 0;
}

static void test_put_replace_drop(void **state)
{
	(void)state;
	struct wr_held h;
	wr_held_init(&h);
	int r_m, r_i, r_o, r_m2, r_x;
	assert_int_equal(wr_held_put(&h, "task/default/a", WR_CTL_SLOT_MASTER, pipe_w(&r_m)), 0);
	assert_int_equal(wr_held_put(&h, "task/default/a", WR_CTL_SLOT_STDIN, pipe_w(&r_i)), 0);
	assert_int_equal(wr_held_put(&h, "task/default/a", WR_CTL_SLOT_STDOUT, pipe_w(&r_o)), 0);
	assert_int_equal(wr_held_put(&h, "exec/default/a/e", WR_CTL_SLOT_MASTER, pipe_w(&r_x)), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(wr_held_fds(&h), 4);
	assert_false(closed(r_m) || closed(r_i) || closed(r_o) || closed(r_x));

	/* the same slot again: the old fd is closed, the new one held */
	assert_int_equal(wr_held_put(&h, "task/default/a", WR_CTL_SLOT_MASTER, pipe_w(&r_m2)), 0);
	assert_true(closed(r_m));
	assert_false(closed(r_m2));
	assert_int_equal(wr_held_fds(&h), 4);

	/* one slot: only that fd; a drop of what is not held changes nothing */
	assert_int_equal(wr_held_drop(&h, "task/default/a", WR_CTL_SLOT_STDIN), 1);
	assert_true(closed(r_i));
	assert_false(closed(r_o) || closed(r_m2));
	assert_int_equal(wr_held_drop(&h, "task/default/a", WR_CTL_SLOT_STDIN), 0);
	assert_int_equal(wr_held_drop(&h, "task/default/zz", WR_CTL_SLOT_ALL), 0);
	assert_int_equal(wr_held_drop(&h, "task/default/a", 7), 0);
	assert_int_equal(h.n, 2);

	/* all of a key: its fds closed and the key forgotten, the other kept */
	assert_int_equal(wr_held_drop(&h, "task/default/a", WR_CTL_SLOT_ALL), 2);
	assert_true(closed(r_o) && closed(r_m2));
	assert_int_equal(h.n, 1);
	assert_string_equal(h.v[0].key, "exec/default/a/e");
	assert_false(closed(r_x));
	/* the last slot of a key dropped alone forgets the key too */
	assert_int_equal(wr_held_drop(&h, "exec/default/a/e", WR_CTL_SLOT_MASTER), 1);
	assert_true(closed(r_x));
	assert_int_equal(h.n, 0);
	assert_int_equal(wr_held_fds(&h), 0);
	wr_held_free(&h);
	close(r_m);
	close(r_i);
	close(r_o);
	close(r_m2);
	close(r_x);
}

static void test_bad_slot_and_free(void **state)
{
	(void)state;
	struct wr_held h;
	wr_held_init(&h);
	int r1, r2, rbad;
	/* a bad slot: refused, and the fd (the table's already) closed */
	assert_int_equal(wr_held_put(&h, "k", WR_CTL_SLOTS, pipe_w(&rbad)), -1);
	assert_true(closed(rbad));
	close(rbad);
	assert_int_equal(wr_held_put(&h, "k", -1, pipe_w(&rbad)), -1);
	assert_true(closed(rbad));
	close(rbad);
	assert_int_equal(h.n, 0);
	/* free closes everything */
	assert_int_equal(wr_held_put(&h, "task/ns/7", WR_CTL_SLOT_STDOUT, pipe_w(&r1)), 0);
	assert_int_equal(wr_held_put(&h, "task/ns/8", WR_CTL_SLOT_STDIN, pipe_w(&r2)), 0);
	assert_false(closed(r1) || closed(r2));
	wr_held_free(&h);
	assert_true(closed(r1) && closed(r2));
	assert_int_equal(h.n, 0);
	assert_null(h.v);
	close(r1);
	close(r2);
}

static void test_bound(void **state)
{
	(void)state;
	/* WR_HELD_MAX keys, then a new key is refused (fd closed); an existing
	 * key still takes fds.  As many fds open as that: */
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < WR_HELD_MAX + 64) {
		rl.rlim_cur = rl.rlim_max < WR_HELD_MAX + 64 ? rl.rlim_max : WR_HELD_MAX + 64;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
		if (rl.rlim_cur < WR_HELD_MAX + 64)
			skip();
	}
	struct wr_held h;
	wr_held_init(&h);
	int r1, rbad;
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(devnull >= 0);
	char key[32];
	for (int i = 0; i < WR_HELD_MAX; i++) {
		snprintf(key, sizeof key, "task/ns/%d", i);
		int fd = fcntl(devnull, F_DUPFD_CLOEXEC, 3);
		assert_true(fd >= 0);
		assert_int_equal(wr_held_put(&h, key, WR_CTL_SLOT_MASTER, fd), 0);
	}
	close(devnull);
	assert_int_equal(h.n, WR_HELD_MAX);
	assert_int_equal(wr_held_put(&h, "task/ns/one-more", 0, pipe_w(&rbad)), -1);
	assert_true(closed(rbad));
	close(rbad);
	assert_int_equal(wr_held_put(&h, "task/ns/7", WR_CTL_SLOT_STDOUT, pipe_w(&r1)), 0);
	assert_int_equal(wr_held_fds(&h), WR_HELD_MAX + 1);
	wr_held_free(&h);
	assert_true(closed(r1));
	close(r1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_replace_drop),
		cmocka_unit_test(test_bad_slot_and_free),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
