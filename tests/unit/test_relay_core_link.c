/* test_relay_core_link.c — the core's end of the control channel
 * (src/relay/core_link.h) over a real SOCK_SEQPACKET socketpair, with the
 * engine and the fake backend; the test plays warrend's front process.
 *
 *  - exit records sent before EXITS_END reach recovery (exit_of): a task whose
 *    process is gone is journaled with the recorded status, not the
 *    backend's guess, and the record is acknowledged once recovery is done;
 *  - a record that arrives while recovery runs is still used for it;
 *  - a live EXIT becomes an Exit event, acknowledged only after it is
 *    durable; a pid no object owns is acknowledged at once;
 *  - the exit of a sandbox's own process (the ns backend's pid namespace
 *    holder) is the sandbox's Exit; a task with the same pid comes first;
 *  - the front closing the channel stops the core's loop;
 *  - terminals: the HELD fds announced by EXITS_END (an exit may come
 *    between them) are read before recovery and taken by key and slot;
 *    the link's fdkeep sends HOLD (with the fd) and DROP; what recovery did
 *    not take is closed and dropped at the front by start; a front without
 *    the capability gets no HOLD; one that sends fewer HELD than it
 *    announced fails the start;
 *  - the reply cache's change counters: GENS after EXITS_END (with the
 *    capability) is mapped and shared with the front; a table of the wrong
 *    size means no cache, not a failed start; a front that announces GENS
 *    and closes without it fails the start. */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "lifecycle/sandbox.h"
#include "lifecycle/task.h"
#include "relay/control.h"
#include "relay/core_link.h"
#include "tests/support/harness.h"

static void send_exit(int fd, int pid, int status, int64_t at)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_EXIT);
	m.pid = pid;
	m.status = status;
	m.time_ns = at;
	assert_int_equal(wr_ctl_send(fd, &m, NULL, -1, &err), 0);
}

static void send_end(int fd)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	assert_int_equal(wr_ctl_send(fd, &m, NULL, -1, &err), 0);
}

/* The next ACK the core sent, running its loop and engine meanwhile; 0 if
 * none came within about a second. */
static int next_ack(struct ev_loop *loop, struct harness *h, int fd, struct wr_ctl_msg *out)
{
	for (int i = 0; i < 200; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		wr_engine_flush(h->engine);
		int got;
		char key[WR_CTL_KEY_MAX + 1];
		struct wr_error err;
		if (wr_ctl_recv(fd, out, key, &got, &err) == 1) {
			assert_int_equal(out->type, WR_CTL_ACK);
			return 1;
		}
		assert_int_equal(errno, EAGAIN);
		usleep(5000);
	}
	return 0;
}

static void started(struct harness *h, const char *id, int *pid)
{
	struct wr_object *t = harness_make(h, WR_KIND_TASK, id);
	struct wr_error err;
	assert_int_equal(wr_dispatch(h->engine, t, TASK_E_START, NULL, &err), 0);
	*pid = t->pid;
}

static void test_records_reach_recovery_and_live_exits(void **state)
{
	struct harness *h = *state;
	int pa, pb, pc;
	started(h, "a", &pa);     /* exits while no core runs: recorded */
	started(h, "bb", &pb);    /* exits during recovery: recorded late */
	started(h, "ccc", &pc);   /* exits once the core serves */
	assert_true(pa != pb && pb != pc && pa != pc);
	harness_shut(h);
	struct wr_object oa = { .kind = WR_KIND_TASK, .ns = "test", .id = "a" };
	struct wr_object ob = { .kind = WR_KIND_TASK, .ns = "test", .id = "bb" };
	assert_int_equal(wr_fake_exit(h->fake, &oa, 255), 0);
	assert_int_equal(wr_fake_exit(h->fake, &ob, 255), 0);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	send_exit(sv[0], 99999, 1, 10);               /* nobody's pid */
	send_exit(sv[0], pa, 42, 1700000000000000001LL);
	send_end(sv[0]);
	send_exit(sv[0], pb, 7, 1700000000000000002LL);   /* after END: "late" */
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_error err;
	struct wr_core_link *l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	assert_true(fcntl(sv[1], F_GETFD) & FD_CLOEXEC);
	h->cfg.exit_of = wr_core_link_exit_of;
	h->cfg.exit_of_ctx = l;
	harness_open(h);
	struct wr_object *a = wr_engine_find(h->engine, WR_KIND_TASK, "test", "a");
	struct wr_object *b = wr_engine_find(h->engine, WR_KIND_TASK, "test", "bb");
	assert_int_equal(a->state, TASK_S_STOPPED);
	assert_int_equal(a->exit_status, 42);
	assert_true(a->exited_at == 1700000000000000001LL);
	assert_int_equal(b->state, TASK_S_STOPPED);
	assert_int_equal(b->exit_status, 7);
	assert_int_equal(wr_engine_recovery(h->engine)->exited, 2);

	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	wr_core_link_start(l, h->engine, NULL);
	/* every record is acknowledged: those recovery used, then the rest */
	int acked_a = 0, acked_b = 0, acked_x = 0;
	struct wr_ctl_msg m;
	for (int i = 0; i < 3; i++) {
		assert_true(next_ack(loop, h, sv[0], &m));
		acked_a += m.pid == pa && m.time_ns == 1700000000000000001LL;
		acked_b += m.pid == pb && m.time_ns == 1700000000000000002LL;
		acked_x += m.pid == 99999 && m.time_ns == 10;
	}
	assert_int_equal(acked_a + acked_b + acked_x, 3);

	/* a live exit: Exit journaled, then acknowledged */
	send_exit(sv[0], pc, 137, 1700000000000000003LL);
	assert_true(next_ack(loop, h, sv[0], &m));
	assert_int_equal(m.pid, pc);
	struct wr_object *c = wr_engine_find(h->engine, WR_KIND_TASK, "test", "ccc");
	assert_int_equal(c->state, TASK_S_STOPPED);
	assert_int_equal(c->exit_status, 137);
	/* the same pid again: no object may exit now, acknowledged all the same */
	send_exit(sv[0], pc, 1, 1700000000000000004LL);
	assert_true(next_ack(loop, h, sv[0], &m));
	assert_true(m.time_ns == 1700000000000000004LL);
	assert_int_equal(c->exit_status, 137);

	/* the front goes away: the loop ends by itself */
	close(sv[0]);
	ev_run(loop, 0);
	harness_shut(h);
	wr_core_link_free(l);
	ev_loop_destroy(loop);
}

static void test_sandbox_exit(void **state)
{
	struct harness *h = *state;
	struct wr_error err;
	/* the fake backend's pids depend on the id's length: the sandbox and the
	 * first task share one */
	struct wr_object *sb = harness_make(h, WR_KIND_SANDBOX, "sbx");
	assert_int_equal(wr_dispatch(h->engine, sb, SANDBOX_E_START, NULL, &err), 0);
	assert_int_equal(sb->state, SANDBOX_S_READY);
	int pt;
	started(h, "tsk", &pt);
	assert_int_equal(pt, sb->pid);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	send_end(sv[0]);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_core_link *l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	wr_core_link_start(l, h->engine, NULL);

	/* the first exit of that pid is the task's, the next the sandbox's */
	struct wr_ctl_msg m;
	send_exit(sv[0], pt, 0, 1700000000000000011LL);
	assert_true(next_ack(loop, h, sv[0], &m));
	struct wr_object *t = wr_engine_find(h->engine, WR_KIND_TASK, "test", "tsk");
	assert_int_equal(t->state, TASK_S_STOPPED);
	assert_int_equal(sb->state, SANDBOX_S_READY);
	send_exit(sv[0], sb->pid, 137, 1700000000000000012LL);
	assert_true(next_ack(loop, h, sv[0], &m));
	assert_int_equal(m.pid, sb->pid);
	assert_int_equal(sb->state, SANDBOX_S_STOPPED);
	assert_int_equal(sb->exit_status, 137);
	assert_true(sb->exited_at == 1700000000000000012LL);
	/* a stopped sandbox does not exit again: acknowledged, nothing changes */
	send_exit(sv[0], sb->pid, 1, 1700000000000000013LL);
	assert_true(next_ack(loop, h, sv[0], &m));
	assert_int_equal(sb->exit_status, 137);

	close(sv[0]);
	ev_run(loop, 0);
	wr_core_link_free(l);
	ev_loop_destroy(loop);
}

static void test_no_end_from_the_front(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_error err;
	/* the front dies before EXITS_END */
	send_exit(sv[0], 1234, 0, 1);
	close(sv[0]);
	assert_null(wr_core_link_open(loop, sv[1], &err));
	assert_int_equal(err.code, WR_UNAVAILABLE);
	close(sv[1]);
	/* a front of another build */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct wr_ctl_msg m;
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	m.version = WR_CTL_VERSION + 1;
	assert_int_equal(send(sv[0], &m, sizeof m, 0), (ssize_t)sizeof m);
	assert_null(wr_core_link_open(loop, sv[1], &err));
	assert_non_null(strstr(err.msg, "different builds"));
	close(sv[0]);
	close(sv[1]);
	ev_loop_destroy(loop);
}

/* EXITS_END from a front that holds terminals, announcing `held` HELD
 * messages to follow. */
static void send_end_held(int fd, int held)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	m.status = held;
	m.conn_id = WR_CTL_CAP_TERMINALS;
	assert_int_equal(wr_ctl_send(fd, &m, NULL, -1, &err), 0);
}

static void send_held(int fd, const char *key, int slot, int pass)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_HELD);
	m.status = slot;
	assert_int_equal(wr_ctl_send(fd, &m, key, pass, &err), 0);
}

/* The next message from the core (any type) within about a second. */
static int next_msg(struct ev_loop *loop, int fd, struct wr_ctl_msg *out, char *key, int *got)
{
	for (int i = 0; i < 200; i++) {
		ev_run(loop, EVRUN_NOWAIT);
		struct wr_error err;
		if (wr_ctl_recv(fd, out, key, got, &err) == 1)
			return 1;
		assert_int_equal(errno, EAGAIN);
		usleep(5000);
	}
	return 0;
}

/* 1 when every write end of pipe read end rd is closed. */
static int writers_gone(int rd)
{
	char c;
	fcntl(rd, F_SETFL, O_NONBLOCK);
	return read(rd, &c, 1) == 0;
}

static void test_terminals(void **state)
{
	struct harness *h = *state;
	int sv[2], a[2], b[2], c[2], mine[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe(a), 0);
	assert_int_equal(pipe(b), 0);
	assert_int_equal(pipe(c), 0);
	assert_int_equal(pipe(mine), 0);
	struct wr_ctl_msg m;
	struct wr_error err;
	send_end_held(sv[0], 3);
	send_held(sv[0], "task/test/t1", 0, a[1]);
	send_exit(sv[0], 99999, 3, 20);   /* reaped meanwhile: still a recovery record */
	send_held(sv[0], "task/test/t1", 2, b[1]);
	send_held(sv[0], "exec/test/t1/e1", 0, c[1]);
	close(a[1]);
	close(b[1]);
	close(c[1]);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct wr_core_link *l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	const struct wr_fdkeep *k = wr_core_link_keep(l);
	assert_non_null(k);
	int st;
	int64_t at;
	assert_int_equal(wr_core_link_exit_of(l, 99999, &st, &at), 1);
	assert_int_equal(st, 3);

	/* recovery takes what it resumes, by key and slot, once */
	int fa = k->take(k->ctx, "task/test/t1", 0);
	assert_true(fa >= 0);
	assert_int_equal(k->take(k->ctx, "task/test/t1", 0), -1);
	assert_int_equal(k->take(k->ctx, "task/test/t1", 1), -1);
	assert_int_equal(k->take(k->ctx, "task/test/t2", 2), -1);
	assert_int_equal(write(fa, "x", 1), 1);   /* the very pipe the front held */
	char ch;
	assert_int_equal(read(a[0], &ch, 1), 1);
	assert_int_equal(ch, 'x');

	/* hold and drop reach the front, the fd with HOLD */
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	k->hold(k->ctx, "exec/test/t9/e", 1, mine[1]);
	close(mine[1]);
	k->drop(k->ctx, "exec/test/t9/e", WR_FDKEEP_ALL);
	char key[WR_CTL_KEY_MAX + 1];
	int got;
	assert_true(next_msg(loop, sv[0], &m, key, &got));
	assert_int_equal(m.type, WR_CTL_HOLD);
	assert_int_equal(m.status, 1);
	assert_string_equal(key, "exec/test/t9/e");
	assert_true(got >= 0);
	assert_false(writers_gone(mine[0]));
	close(got);
	assert_true(writers_gone(mine[0]));
	assert_true(next_msg(loop, sv[0], &m, key, &got));
	assert_int_equal(m.type, WR_CTL_DROP);
	assert_int_equal(m.status, WR_FDKEEP_ALL);
	assert_string_equal(key, "exec/test/t9/e");
	assert_int_equal(got, -1);

	/* start: the untaken ones are closed here and dropped at the front */
	wr_core_link_start(l, h->engine, NULL);
	int drops = 0, acks = 0;
	while (next_msg(loop, sv[0], &m, key, &got)) {
		assert_int_equal(got, -1);
		if (m.type == WR_CTL_ACK) {
			acks++;
			continue;
		}
		assert_int_equal(m.type, WR_CTL_DROP);
		drops++;
		assert_true((strcmp(key, "task/test/t1") == 0 && m.status == 2) ||
			    (strcmp(key, "exec/test/t1/e1") == 0 && m.status == 0));
		if (drops + acks == 3)
			break;
	}
	assert_int_equal(drops, 2);
	assert_int_equal(acks, 1);
	assert_true(writers_gone(b[0]));
	assert_true(writers_gone(c[0]));
	assert_false(writers_gone(a[0]));   /* taken: recovery's own now */
	close(fa);
	assert_true(writers_gone(a[0]));

	close(sv[0]);
	ev_run(loop, 0);
	harness_shut(h);
	wr_core_link_free(l);
	ev_loop_destroy(loop);
	close(a[0]);
	close(b[0]);
	close(c[0]);
	close(mine[0]);
}

static void test_terminals_without_the_capability(void **state)
{
	(void)state;
	int sv[2], p[2];
	struct wr_error err;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	/* an older front: no capability, nothing held; no HOLD goes to it */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	send_end(sv[0]);
	struct wr_core_link *l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	assert_null(wr_core_link_keep(l));
	assert_null(wr_core_link_gens(l));
	wr_core_link_free(l);   /* closes sv[1] */
	close(sv[0]);

	/* a front announcing more HELD than it sends */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(pipe(p), 0);
	send_end_held(sv[0], 2);
	send_held(sv[0], "task/test/t1", 0, p[1]);
	close(p[1]);
	close(sv[0]);
	assert_null(wr_core_link_open(loop, sv[1], &err));
	assert_non_null(strstr(err.msg, "less than announced"));
	assert_true(writers_gone(p[0]));   /* what it had received is closed */
	close(p[0]);
	close(sv[1]);
	ev_loop_destroy(loop);
}

static void send_end_caps(int fd, uint64_t caps)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_EXITS_END);
	m.conn_id = caps;
	assert_int_equal(wr_ctl_send(fd, &m, NULL, -1, &err), 0);
}

static void send_gens(int fd, int gens_fd)
{
	struct wr_ctl_msg m;
	struct wr_error err;
	wr_ctl_init(&m, WR_CTL_GENS);
	assert_int_equal(wr_ctl_send(fd, &m, NULL, gens_fd, &err), 0);
	close(gens_fd);
}

static void test_change_counters(void **state)
{
	(void)state;
	int sv[2];
	struct wr_error err;
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	/* the table the front made, mapped by the core: one memory */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int gfd;
	struct wr_objgen *front = wr_objgen_create(&gfd, &err);
	assert_non_null(front);
	send_end_caps(sv[0], WR_CTL_CAP_TERMINALS | WR_CTL_CAP_REPLY_CACHE);
	send_gens(sv[0], gfd);
	struct wr_core_link *l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	struct wr_objgen *core = wr_core_link_gens(l);
	assert_non_null(core);
	struct wr_object *o = wr_object_new(WR_KIND_SANDBOX, "test", "sb", "", "fake");
	wr_objgen_attach(core, o);
	assert_true(o->gen_slot >= 0);
	wr_objgen_touch(core, o);
	assert_true(wr_objgen_read(front, (uint32_t)o->gen_slot) == 2);
	wr_objgen_detach(core, o);
	wr_object_free(o);
	wr_core_link_free(l);
	wr_objgen_free(front);
	close(sv[0]);

	/* a table of the wrong size: no cache, the core still starts */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	int small = memfd_create("small", MFD_CLOEXEC);
	assert_true(small >= 0);
	assert_int_equal(ftruncate(small, 4096), 0);
	send_end_caps(sv[0], WR_CTL_CAP_REPLY_CACHE);
	send_gens(sv[0], small);
	l = wr_core_link_open(loop, sv[1], &err);
	assert_non_null(l);
	assert_null(wr_core_link_gens(l));
	wr_core_link_free(l);
	close(sv[0]);

	/* announced, never sent */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	send_end_caps(sv[0], WR_CTL_CAP_REPLY_CACHE);
	close(sv[0]);
	assert_null(wr_core_link_open(loop, sv[1], &err));
	assert_non_null(strstr(err.msg, "change counters"));
	close(sv[1]);
	ev_loop_destroy(loop);
}

int main(void)
{
	wr_log_init("test_relay_core_link", WR_LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_records_reach_recovery_and_live_exits,
						harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_sandbox_exit, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_no_end_from_the_front, harness_setup,
						harness_teardown),
		cmocka_unit_test_setup_teardown(test_terminals, harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_terminals_without_the_capability,
						harness_setup, harness_teardown),
		cmocka_unit_test_setup_teardown(test_change_counters, harness_setup,
						harness_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
