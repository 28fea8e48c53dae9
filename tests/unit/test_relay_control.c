/* test_relay_control.c — the control messages between warrend's front
 * process and its core (src/relay/control.h): the fixed 64-byte format, what
 * a receiver refuses (wrong size, magic, version, type, unterminated backend
 * name, an fd on a message that takes none), passing an fd with ADOPT over a
 * real SOCK_SEQPACKET socketpair, and EOF. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/control.h"

static int pair(int sv[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

static void test_decode(void **state)
{
	(void)state;
	struct wr_ctl_msg m, out;
	struct wr_error err;
	assert_int_equal(sizeof m, 64);
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = 4242;
	m.status = 137;
	m.time_ns = 1700000000123456789LL;
	assert_int_equal(wr_ctl_decode(&out, &m, sizeof m, &err), 0);
	assert_int_equal(out.type, WR_CTL_EXIT);
	assert_int_equal(out.pid, 4242);
	assert_int_equal(out.status, 137);
	assert_true(out.time_ns == 1700000000123456789LL);

	assert_int_equal(wr_ctl_decode(&out, &m, sizeof m - 1, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	struct wr_ctl_msg bad = m;
	bad.magic ^= 1;
	assert_int_equal(wr_ctl_decode(&out, &bad, sizeof bad, &err), -1);
	assert_non_null(strstr(err.msg, "different builds"));
	bad = m;
	bad.version = WR_CTL_VERSION + 1;
	assert_int_equal(wr_ctl_decode(&out, &bad, sizeof bad, &err), -1);
	bad = m;
	bad.type = 0;
	assert_int_equal(wr_ctl_decode(&out, &bad, sizeof bad, &err), -1);
	bad.type = WR_CTL_ADOPT + 1;
	assert_int_equal(wr_ctl_decode(&out, &bad, sizeof bad, &err), -1);
	bad = m;
	memset(bad.backend, 'x', sizeof bad.backend);
	assert_int_equal(wr_ctl_decode(&out, &bad, sizeof bad, &err), -1);
	assert_non_null(strstr(err.msg, "not terminated"));
}

static void test_exchange_with_fd(void **state)
{
	(void)state;
	int sv[2], p[2];
	assert_int_equal(pair(sv), 0);
	assert_int_equal(pipe(p), 0);
	struct wr_error err;
	struct wr_ctl_msg m, got;
	int fd;

	/* EXIT, EXITS_END, then ADOPT carrying the pipe's write end: in order,
	 * one message per packet. */
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = 7;
	m.status = 42;
	assert_int_equal(wr_ctl_send(sv[0], &m, -1, &err), 0);
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_send(sv[0], &m, -1, &err), 0);
	wr_ctl_init(&m, WR_CTL_ADOPT);
	m.conn_id = 99;
	strcpy(m.backend, "ns");
	assert_int_equal(wr_ctl_send(sv[0], &m, p[1], &err), 0);
	close(p[1]);   /* the sender's copy: the receiver has its own now */

	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXIT);
	assert_int_equal(got.pid, 7);
	assert_int_equal(got.status, 42);
	assert_int_equal(fd, -1);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_ADOPT);
	assert_true(got.conn_id == 99);
	assert_string_equal(got.backend, "ns");
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fd, "hi", 2), 2);
	close(fd);
	char buf[4];
	assert_int_equal(read(p[0], buf, sizeof buf), 2);   /* and then EOF: no copy leaked */
	assert_int_equal(read(p[0], buf, sizeof buf), 0);
	close(p[0]);

	/* the other way: ACK */
	wr_ctl_init(&m, WR_CTL_ACK);
	m.pid = 7;
	m.time_ns = 5;
	assert_int_equal(wr_ctl_send(sv[1], &m, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[0], &got, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_ACK);
	assert_true(got.time_ns == 5);

	/* nothing more: EAGAIN on a non-blocking end; then EOF */
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[0]);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), 0);
	close(sv[1]);
}

static void test_refused_packets(void **state)
{
	(void)state;
	int sv[2], p[2];
	assert_int_equal(pair(sv), 0);
	assert_int_equal(pipe(p), 0);
	struct wr_error err;
	struct wr_ctl_msg m, got;
	int fd;
	/* an fd on an EXIT: refused, and the fd is not kept */
	wr_ctl_init(&m, WR_CTL_EXIT);
	assert_int_equal(wr_ctl_send(sv[0], &m, p[1], &err), 0);
	close(p[1]);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(fd, -1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 0);   /* every write end is closed */
	close(p[0]);
	/* a short and a long packet */
	assert_int_equal(send(sv[0], "abc", 3, 0), 3);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	uint8_t big[100] = { 0 };
	memcpy(big, &m, sizeof m);
	assert_int_equal(send(sv[0], big, sizeof big, 0), (ssize_t)sizeof big);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	/* the channel still works after them */
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_send(sv[0], &m, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXITS_END);
	/* sending to a closed peer: EPIPE, no SIGPIPE */
	close(sv[1]);
	assert_int_equal(wr_ctl_send(sv[0], &m, -1, &err), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_exchange_with_fd),
		cmocka_unit_test(test_refused_packets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
