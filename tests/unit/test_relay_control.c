/* test_relay_control.c — the control messages between warrend's front
 * process and its core (src/relay/control.h): the fixed 64-byte format, what
 * a receiver refuses (wrong size, magic, version, type, unterminated backend
 * name, an fd on a message that takes none), passing an fd with ADOPT over a
 * real SOCK_SEQPACKET socketpair, and EOF; the terminal messages (HOLD,
 * DROP, HELD) with their key after the 64 bytes: round trips, and the keys,
 * slots, sizes and fds a receiver refuses. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
	char key[WR_CTL_KEY_MAX + 1];
	struct wr_error err;
	assert_int_equal(sizeof m, 64);
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = 4242;
	m.status = 137;
	m.time_ns = 1700000000123456789LL;
	assert_int_equal(wr_ctl_decode(&out, key, &m, sizeof m, &err), 0);
	assert_int_equal(out.type, WR_CTL_EXIT);
	assert_int_equal(out.pid, 4242);
	assert_int_equal(out.status, 137);
	assert_true(out.time_ns == 1700000000123456789LL);

	assert_int_equal(wr_ctl_decode(&out, key, &m, sizeof m - 1, &err), -1);
	assert_int_equal(err.code, WR_INVALID_ARGUMENT);
	struct wr_ctl_msg bad = m;
	bad.magic ^= 1;
	assert_int_equal(wr_ctl_decode(&out, key, &bad, sizeof bad, &err), -1);
	assert_non_null(strstr(err.msg, "different builds"));
	bad = m;
	bad.version = WR_CTL_VERSION + 1;
	assert_int_equal(wr_ctl_decode(&out, key, &bad, sizeof bad, &err), -1);
	bad = m;
	bad.type = 0;
	assert_int_equal(wr_ctl_decode(&out, key, &bad, sizeof bad, &err), -1);
	bad.type = WR_CTL_TYPE_LAST + 1;
	assert_int_equal(wr_ctl_decode(&out, key, &bad, sizeof bad, &err), -1);
	bad = m;
	memset(bad.backend, 'x', sizeof bad.backend);
	assert_int_equal(wr_ctl_decode(&out, key, &bad, sizeof bad, &err), -1);
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
	char key[WR_CTL_KEY_MAX + 1];
	int fd;

	/* EXIT, EXITS_END, then ADOPT carrying the pipe's write end: in order,
	 * one message per packet. */
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = 7;
	m.status = 42;
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), 0);
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), 0);
	wr_ctl_init(&m, WR_CTL_ADOPT);
	m.conn_id = 99;
	strcpy(m.backend, "ns");
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, p[1], &err), 0);
	close(p[1]);   /* the sender's copy: the receiver has its own now */

	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXIT);
	assert_int_equal(got.pid, 7);
	assert_int_equal(got.status, 42);
	assert_int_equal(fd, -1);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
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

	/* GENS carries the change counters' memfd (reply cache) */
	int mfd = memfd_create("gens-test", MFD_CLOEXEC);
	assert_true(mfd >= 0);
	wr_ctl_init(&m, WR_CTL_GENS);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, mfd, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_GENS);
	assert_true(fd >= 0 && fd != mfd);
	struct stat a, b;
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(fstat(mfd, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	close(fd);
	close(mfd);

	/* the other way: ACK */
	wr_ctl_init(&m, WR_CTL_ACK);
	m.pid = 7;
	m.time_ns = 5;
	assert_int_equal(wr_ctl_send(sv[1], &m, NULL, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[0], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_ACK);
	assert_true(got.time_ns == 5);

	/* nothing more: EAGAIN on a non-blocking end; then EOF */
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[0]);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 0);
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
	char key[WR_CTL_KEY_MAX + 1];
	int fd;
	/* an fd on an EXIT: refused, and the fd is not kept */
	wr_ctl_init(&m, WR_CTL_EXIT);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, p[1], &err), 0);
	close(p[1]);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(fd, -1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 0);   /* every write end is closed */
	close(p[0]);
	/* a short and a long packet */
	assert_int_equal(send(sv[0], "abc", 3, 0), 3);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	uint8_t big[100] = { 0 };
	memcpy(big, &m, sizeof m);
	assert_int_equal(send(sv[0], big, sizeof big, 0), (ssize_t)sizeof big);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	/* the channel still works after them */
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXITS_END);
	/* sending to a closed peer: EPIPE, no SIGPIPE */
	close(sv[1]);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

/* Read what remains readable of pipe end rfd: 1 if every write end is closed. */
static int writers_gone(int rfd)
{
	char c;
	int fl = fcntl(rfd, F_GETFL);
	fcntl(rfd, F_SETFL, fl | O_NONBLOCK);
	ssize_t n = read(rfd, &c, 1);
	fcntl(rfd, F_SETFL, fl);
	return n == 0;
}

static void test_keyed_round_trip(void **state)
{
	(void)state;
	int sv[2], p[2];
	assert_int_equal(pair(sv), 0);
	assert_int_equal(pipe(p), 0);
	struct wr_error err;
	struct wr_ctl_msg m, got;
	char key[WR_CTL_KEY_MAX + 1];
	int fd;

	/* HOLD: slot and key arrive, and the fd */
	wr_ctl_init(&m, WR_CTL_HOLD);
	m.status = WR_CTL_SLOT_STDOUT;
	assert_int_equal(wr_ctl_send(sv[1], &m, "task/default/c1", p[1], &err), 0);
	close(p[1]);
	assert_int_equal(wr_ctl_recv(sv[0], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_HOLD);
	assert_int_equal(got.status, WR_CTL_SLOT_STDOUT);
	assert_string_equal(key, "task/default/c1");
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(writers_gone(p[0]));
	close(fd);
	assert_true(writers_gone(p[0]));
	close(p[0]);

	/* DROP of every slot, no fd; a key of the largest size */
	char longkey[WR_CTL_KEY_MAX + 1];
	memset(longkey, 'k', WR_CTL_KEY_MAX);
	longkey[WR_CTL_KEY_MAX] = '\0';
	wr_ctl_init(&m, WR_CTL_DROP);
	m.status = WR_CTL_SLOT_ALL;
	assert_int_equal(wr_ctl_send(sv[1], &m, longkey, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[0], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_DROP);
	assert_int_equal(got.status, WR_CTL_SLOT_ALL);
	assert_string_equal(key, longkey);
	assert_int_equal(fd, -1);

	/* HELD the other way; and an unkeyed message after it has an empty key */
	assert_int_equal(pipe(p), 0);
	wr_ctl_init(&m, WR_CTL_HELD);
	m.status = WR_CTL_SLOT_MASTER;
	assert_int_equal(wr_ctl_send(sv[0], &m, "exec/k8s.io/c1/e1", p[0], &err), 0);
	close(p[0]);
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	m.status = 1;
	m.conn_id = WR_CTL_CAP_TERMINALS;
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_HELD);
	assert_string_equal(key, "exec/k8s.io/c1/e1");
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_EXITS_END);
	assert_int_equal(got.status, 1);
	assert_true(got.conn_id == WR_CTL_CAP_TERMINALS);
	assert_string_equal(key, "");
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_keyed_refused(void **state)
{
	(void)state;
	int sv[2], p[2];
	assert_int_equal(pair(sv), 0);
	struct wr_error err;
	struct wr_ctl_msg m, got;
	char key[WR_CTL_KEY_MAX + 1];
	int fd;
	uint8_t pkt[sizeof m + WR_CTL_KEY_MAX + 8];

	/* the sender refuses a keyed type without key, a key on an unkeyed
	 * type, and a key too long */
	wr_ctl_init(&m, WR_CTL_HOLD);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(wr_ctl_send(sv[0], &m, "", -1, &err), -1);
	wr_ctl_init(&m, WR_CTL_ACK);
	assert_int_equal(wr_ctl_send(sv[0], &m, "k", -1, &err), -1);
	assert_int_equal(errno, EINVAL);
	char longkey[WR_CTL_KEY_MAX + 2];
	memset(longkey, 'k', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	wr_ctl_init(&m, WR_CTL_DROP);
	assert_int_equal(wr_ctl_send(sv[0], &m, longkey, -1, &err), -1);
	assert_int_equal(errno, EINVAL);

	/* the receiver: raw packets */
	struct {
		int type, slot;
		const char *key;
		size_t klen;
		const char *why;
	} bad[] = {
		{ WR_CTL_HOLD, 0, "", 0, "missing" },                 /* no key */
		{ WR_CTL_HOLD, 0, "a\0b", 3, "not text" },            /* a NUL in it */
		{ WR_CTL_HOLD, 3, "k", 1, "no slot 3" },              /* no such slot */
		{ WR_CTL_HOLD, WR_CTL_SLOT_ALL, "k", 1, "no slot -1" }, /* ALL is DROP's */
		{ WR_CTL_DROP, -2, "k", 1, "no slot -2" },
		{ WR_CTL_EXIT, 0, "k", 1, "bytes" },                  /* trailing bytes */
		{ WR_CTL_TYPE_LAST + 1, 0, "k", 1, "unknown type" },
		{ WR_CTL_HELD, 0, NULL, WR_CTL_KEY_MAX + 1, "too long" },
		{ WR_CTL_HELD, 0, NULL, WR_CTL_KEY_MAX + 8, "truncated" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		wr_ctl_init(&m, bad[i].type);
		m.status = bad[i].slot;
		memcpy(pkt, &m, sizeof m);
		if (bad[i].key)
			memcpy(pkt + sizeof m, bad[i].key, bad[i].klen);
		else
			memset(pkt + sizeof m, 'k', bad[i].klen);
		assert_int_equal(send(sv[0], pkt, sizeof m + bad[i].klen, 0),
				 (ssize_t)(sizeof m + bad[i].klen));
		assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(fd, -1);
		assert_string_equal(key, "");
		if (!strstr(err.msg, bad[i].why))
			fail_msg("packet %zu: %s, want '%s'", i, err.msg, bad[i].why);
	}

	/* a DROP carrying an fd: refused and the fd not kept */
	assert_int_equal(pipe(p), 0);
	wr_ctl_init(&m, WR_CTL_DROP);
	m.status = WR_CTL_SLOT_ALL;
	assert_int_equal(wr_ctl_send(sv[0], &m, "k", p[1], &err), 0);
	close(p[1]);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), -1);
	assert_int_equal(errno, EBADMSG);
	assert_non_null(strstr(err.msg, "carries an fd"));
	assert_true(writers_gone(p[0]));
	close(p[0]);
	/* and the channel still works */
	wr_ctl_init(&m, WR_CTL_ACK);
	assert_int_equal(wr_ctl_send(sv[0], &m, NULL, -1, &err), 0);
	assert_int_equal(wr_ctl_recv(sv[1], &got, key, &fd, &err), 1);
	assert_int_equal(got.type, WR_CTL_ACK);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_exchange_with_fd),
		cmocka_unit_test(test_refused_packets),
		cmocka_unit_test(test_keyed_round_trip),
		cmocka_unit_test(test_keyed_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
