/* test_nsfile.c — namespace files made in the daemon's own thread: the pod
 * gets new ipc/uts/net namespaces with its hostname and lo up, and the
 * calling thread is back in its own namespaces afterwards (no fork). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/ns/ns_internal.h"

static char dir[64];

static ino_t ns_ino(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* In a forked child joined to nsfile: 1 when the check holds. */
static int child_check(const char *nsfile, int type, const char *hostname)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(nsfile, O_RDONLY);
		if (fd < 0 || setns(fd, type) < 0)
			_exit(2);
		if (type == CLONE_NEWUTS) {
			char h[256] = "";
			gethostname(h, sizeof h);
			_exit(strcmp(h, hostname) == 0 ? 0 : 3);
		}
		if (type == CLONE_NEWNET) {
			struct ifreq ifr;
			memset(&ifr, 0, sizeof ifr);
			memcpy(ifr.ifr_name, "lo", 3);
			int s = socket(AF_INET, SOCK_DGRAM, 0);
			if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
				_exit(4);
			_exit(ifr.ifr_flags & IFF_UP ? 0 : 5);
		}
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_made_in_thread_and_back_home(void **state)
{
	(void)state;
	const char *types[] = { "ipc", "uts", "net" };
	ino_t before[3];
	char own[64], host_before[256] = "", host_after[256] = "";
	for (int i = 0; i < 3; i++) {
		snprintf(own, sizeof own, "/proc/thread-self/ns/%s", types[i]);
		before[i] = ns_ino(own);
	}
	gethostname(host_before, sizeof host_before);

	char ipc[128], uts[128], net[128];
	snprintf(ipc, sizeof ipc, "%s/ipc", dir);
	snprintf(uts, sizeof uts, "%s/uts", dir);
	snprintf(net, sizeof net, "%s/net", dir);
	struct wr_ns_nsfiles f = { ipc, uts, net, "pod-host-1" };
	struct wr_error err = { 0 };
	assert_int_equal(wr_ns_nsfiles_create(&f, &err), 0);

	/* the caller is home again, hostname untouched */
	for (int i = 0; i < 3; i++) {
		snprintf(own, sizeof own, "/proc/thread-self/ns/%s", types[i]);
		assert_int_equal(ns_ino(own), before[i]);
	}
	gethostname(host_after, sizeof host_after);
	assert_string_equal(host_after, host_before);

	/* the files hold new namespaces of the right types */
	assert_true(wr_ns_nsfile_is(ipc, CLONE_NEWIPC));
	assert_true(wr_ns_nsfile_is(uts, CLONE_NEWUTS));
	assert_true(wr_ns_nsfile_is(net, CLONE_NEWNET));
	assert_int_not_equal(ns_ino(ipc), before[0]);
	assert_int_not_equal(ns_ino(uts), before[1]);
	assert_int_not_equal(ns_ino(net), before[2]);
	assert_true(child_check(uts, CLONE_NEWUTS, "pod-host-1"));
	assert_true(child_check(net, CLONE_NEWNET, NULL));

	/* again: files already holding namespaces are kept as they are */
	ino_t uts_ino = ns_ino(uts);
	assert_int_equal(wr_ns_nsfiles_create(&f, &err), 0);
	assert_int_equal(ns_ino(uts), uts_ino);

	assert_int_equal(wr_ns_nsfile_remove(ipc, &err), 0);
	assert_int_equal(wr_ns_nsfile_remove(uts, &err), 0);
	assert_int_equal(wr_ns_nsfile_remove(net, &err), 0);
	assert_int_equal(access(uts, F_OK), -1);
}

static void test_bad_hostname_leaves_nothing(void **state)
{
	(void)state;
	char uts[128], ipc[128], own[64];
	snprintf(uts, sizeof uts, "%s/uts", dir);
	snprintf(ipc, sizeof ipc, "%s/ipc", dir);
	snprintf(own, sizeof own, "/proc/thread-self/ns/uts");
	ino_t before = ns_ino(own);
	char longname[300];
	memset(longname, 'h', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';   /* over HOST_NAME_MAX */
	struct wr_ns_nsfiles f = { ipc, uts, NULL, longname };
	struct wr_error err = { 0 };
	assert_int_equal(wr_ns_nsfiles_create(&f, &err), -1);
	assert_non_null(strstr(err.msg, "hostname"));
	assert_int_equal(ns_ino(own), before);
	assert_int_equal(access(uts, F_OK), -1);
	assert_int_equal(access(ipc, F_OK), -1);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/warren-test-nsfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(dir);
}

int main(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "test_nsfile: needs root (namespaces, mounts)\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_made_in_thread_and_back_home),
		cmocka_unit_test(test_bad_hostname_leaves_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
