/* test_ns_stdio.c — opening containerd's stdio FIFOs (backends/ns/stdio.c):
 * a write side whose reader comes late is opened at once, read-write, and
 * what is written waits for the reader; the resume path, which accepts no
 * late reader, says nobody reads; other files and errors are named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/ns/ns_internal.h"

static char dir[64], fifo[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/wr-stdio.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(fifo, sizeof fifo, "%s/stdout", dir);
	return mkfifo(fifo, 0600);
}

static int teardown(void **state)
{
	(void)state;
	unlink(fifo);
	return rmdir(dir);
}

static void test_reader_there(void **state)
{
	(void)state;
	int r = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(r >= 0);
	struct wr_error err;
	int w = wr_ns_fifo_open(fifo, O_WRONLY, "stdout", 1, &err);
	assert_true(w >= 0);
	assert_int_equal(fcntl(w, F_GETFL) & O_ACCMODE, O_WRONLY);
	assert_true(fcntl(w, F_GETFD) & FD_CLOEXEC);
	close(w);
	close(r);
}

static void test_late_reader(void **state)
{
	(void)state;
	struct wr_error err;
	int w = wr_ns_fifo_open(fifo, O_WRONLY, "stdout", 1, &err);
	assert_true(w >= 0);   /* no reader yet: opened anyway, without waiting */
	assert_int_equal(write(w, "hello\n", 6), 6);
	/* the reader arrives: it gets what was written, and EOF once the
	 * writer is gone */
	int r = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(r >= 0);
	char buf[16];
	assert_int_equal(read(r, buf, sizeof buf), 6);
	assert_memory_equal(buf, "hello\n", 6);
	close(w);
	assert_int_equal(read(r, buf, sizeof buf), 0);
	close(r);
}

static void test_no_late_reader_on_resume(void **state)
{
	(void)state;
	struct wr_error err;
	assert_int_equal(wr_ns_fifo_open(fifo, O_WRONLY, "stdout", 0, &err), -1);
	assert_int_equal(err.code, WR_FAILED_PRECONDITION);
	assert_non_null(strstr(err.msg, "has no reader"));
	assert_non_null(strstr(err.msg, fifo));
}

static void test_errors_named(void **state)
{
	(void)state;
	struct wr_error err;
	char missing[160];
	snprintf(missing, sizeof missing, "%s/nope", dir);
	assert_int_equal(wr_ns_fifo_open(missing, O_WRONLY, "stderr", 1, &err), -1);
	assert_non_null(strstr(err.msg, "stderr"));
	assert_non_null(strstr(err.msg, missing));
	/* a reader side never needs a writer */
	int r = wr_ns_fifo_open(fifo, O_RDONLY, "stdin", 0, &err);
	assert_true(r >= 0);
	close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reader_there, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_reader, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_late_reader_on_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_named, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
