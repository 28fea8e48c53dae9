/* test_fsutil.c — wr_mkdir_p: makes every missing level of absolute,
 * relative and trailing-slash paths, leaves existing ones as they are, and
 * names the component that could not be made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/wr-fsutil.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc;
}

static int is_dir(const char *p, mode_t *mode)
{
	struct stat st;
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	if (mode)
		*mode = st.st_mode & 07777;
	return 1;
}

static void test_deep_missing(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];
	struct wr_error err;
	snprintf(p, sizeof p, "%s/a/b/c/d", f->dir);
	mode_t old = umask(0);
	assert_int_equal(wr_mkdir_p(p, 0711, &err), 0);
	umask(old);
	mode_t m;
	assert_true(is_dir(p, &m));
	assert_int_equal(m, 0711);
	snprintf(p, sizeof p, "%s/a/b", f->dir);
	assert_true(is_dir(p, &m));
	assert_int_equal(m, 0711);
	/* again: nothing to do, no error */
	snprintf(p, sizeof p, "%s/a/b/c/d", f->dir);
	assert_int_equal(wr_mkdir_p(p, 0700, &err), 0);
	assert_true(is_dir(p, &m));
	assert_int_equal(m, 0711);   /* existing levels keep their mode */
}

static void test_trailing_slash_and_existing_parent(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX];
	struct wr_error err;
	snprintf(p, sizeof p, "%s/x//", f->dir);
	assert_int_equal(wr_mkdir_p(p, 0755, &err), 0);
	snprintf(p, sizeof p, "%s/x", f->dir);
	assert_true(is_dir(p, NULL));
	assert_int_equal(wr_mkdir_p(f->dir, 0755, &err), 0);
}

static void test_relative(void **state)
{
	struct fx *f = *state;
	char cwd[PATH_MAX];
	struct wr_error err;
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(f->dir), 0);
	int rc = wr_mkdir_p("r1/r2/r3", 0755, &err);
	int ok = is_dir("r1/r2/r3", NULL);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, 0);
	assert_true(ok);
}

static void test_file_in_the_way(void **state)
{
	struct fx *f = *state;
	char p[PATH_MAX], q[PATH_MAX];
	struct wr_error err;
	snprintf(p, sizeof p, "%s/file", f->dir);
	int fd = open(p, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(q, sizeof q, "%s/file/sub/leaf", f->dir);
	assert_int_equal(wr_mkdir_p(q, 0755, &err), -1);
	assert_non_null(strstr(err.msg, "cannot create"));
	assert_non_null(strstr(err.msg, "/file/sub"));
	/* the path itself is a file */
	assert_int_equal(wr_mkdir_p(p, 0755, &err), 0);   /* EEXIST, like mkdir -p's first check */
}

static void test_too_long(void **state)
{
	(void)state;
	char *p = malloc(PATH_MAX + 10);
	memset(p, 'a', PATH_MAX + 9);
	p[0] = '/';
	p[PATH_MAX + 9] = '\0';
	struct wr_error err;
	assert_int_equal(wr_mkdir_p(p, 0755, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_deep_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_slash_and_existing_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_in_the_way, setup, teardown),
		cmocka_unit_test(test_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
