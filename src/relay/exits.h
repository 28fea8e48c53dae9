/* exits.h — exit records the front process keeps until the core has made
 * them durable.
 *
 * The front is the child subreaper of container processes, so only it can
 * collect their exit statuses.  Each becomes a record {pid, status, time}
 * that stays here until the core acknowledges it (ACK, control.h); every new
 * core gets all records still held before it recovers, so an exit that
 * happens while no core runs — or while one is dying — is never lost.
 *
 * A pid has at most one record: a newer exit of the same pid (the pid was
 * reused) replaces the older one, and an ACK must name the record's time too,
 * so acknowledging an old exit never drops a newer one.  Bounded: beyond
 * WR_EXITS_MAX records (no core acknowledging anything for a long time) the
 * oldest is dropped. */
#ifndef WR_RELAY_EXITS_H
#define WR_RELAY_EXITS_H

#include <stddef.h>
#include <stdint.h>

#define WR_EXITS_MAX 65536

struct wr_exit_rec {
	int pid;
	int status;        /* exit code, or 128+signal */
	int64_t time_ns;   /* reaped at, ns since the epoch */
};

struct wr_exits {
	struct wr_exit_rec *v;   /* oldest first */
	size_t n, cap;
	size_t dropped;          /* records lost to the bound, for the log */
};

void wr_exits_init(struct wr_exits *x);
void wr_exits_free(struct wr_exits *x);
/* Keep a record (replacing one of the same pid); -1 only when out of memory. */
int wr_exits_add(struct wr_exits *x, int pid, int status, int64_t time_ns);
/* Drop the record (pid, time_ns); 1 dropped, 0 no such record. */
int wr_exits_ack(struct wr_exits *x, int pid, int64_t time_ns);

/* exit code of a wait status: the code, or 128+signal; -1 for stopped/continued */
int wr_exit_code(int wstatus);

#endif
