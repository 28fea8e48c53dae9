/* walbatch.c — the WAL-batching SQLite VFS (see walbatch.h).
 *
 * The VFS is a copy of the default one with its own xOpen.  Every file is
 * opened by the default VFS in place, in the memory SQLite hands us; a WAL
 * file's method table is then replaced by a per-file copy in which xWrite
 * collects contiguous writes, and every method that reads or depends on the
 * file (xRead, xSync, xFileSize, xTruncate, xFileControl, xClose) writes the
 * collected bytes first and then calls the default VFS's own method on the
 * same file.  Our state sits after the default VFS's file struct.
 *
 * The WAL format (sqlite.org/fileformat2.html#walformat) makes a commit easy
 * to see: SQLite writes a frame as a 24-byte header and then the page, and a
 * commit frame's header holds the database size in pages after the commit
 * (bytes 4–7, big-endian), zero in every other frame.  A 24-byte write is
 * always a frame header: the WAL header is 32 bytes and pages at least 512. */
#include "core/walbatch.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <string.h>

#define VFS_NAME "warren-walbatch"
#define FRAME_HEADER 24
/* One step's commit is a few pages; a bigger transaction (a migration,
 * recovery) is written a buffer at a time. */
#define BUFFER_SIZE (64 * 1024)

struct walbatch_file {
	const sqlite3_io_methods *base;   /* the default VFS's methods */
	sqlite3_io_methods methods;       /* ours: pFile->pMethods points here */
	unsigned char *buf;               /* BUFFER_SIZE, allocated on first write */
	sqlite3_int64 buf_at;             /* file offset of buf[0] */
	int buf_len;
	int commit_pending;               /* last write: a commit frame's header */
	sqlite3_int64 commit_page_at;     /* where that frame's page goes */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs vfs;
static int state_at;                      /* offset of struct walbatch_file */
static pthread_once_t registered = PTHREAD_ONCE_INIT;
static int registered_ok;
static uint64_t count_asked, count_written;

static struct walbatch_file *state_of(sqlite3_file *f)
{
	return (struct walbatch_file *)((char *)f + state_at);
}

static int write_through(sqlite3_file *f, const void *data, int amt, sqlite3_int64 at)
{
	__atomic_add_fetch(&count_written, 1, __ATOMIC_RELAXED);
	return state_of(f)->base->xWrite(f, data, amt, at);
}

/* Hand the collected bytes to the kernel.  On an error they are dropped:
 * SQLite fails the write it was making and rolls the transaction back, and
 * frames after the last complete commit are ignored when the WAL is read. */
static int flush(sqlite3_file *f)
{
	struct walbatch_file *w = state_of(f);
	if (!w->buf_len)
		return SQLITE_OK;
	int len = w->buf_len;
	w->buf_len = 0;
	return write_through(f, w->buf, len, w->buf_at);
}

static int wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 at)
{
	struct walbatch_file *w = state_of(f);
	int rc;

	__atomic_add_fetch(&count_asked, 1, __ATOMIC_RELAXED);
	int commit_page = w->commit_pending && at == w->commit_page_at;
	w->commit_pending = 0;
	if (amt == FRAME_HEADER) {
		const unsigned char *h = data;
		w->commit_pending = (h[4] | h[5] | h[6] | h[7]) != 0;
		w->commit_page_at = at + FRAME_HEADER;
	}
	if (w->buf_len && (at != w->buf_at + w->buf_len || amt > BUFFER_SIZE - w->buf_len) &&
	    (rc = flush(f)) != SQLITE_OK)
		return rc;
	if (!w->buf && !(w->buf = sqlite3_malloc(BUFFER_SIZE)))
		return write_through(f, data, amt, at);
	if (amt > BUFFER_SIZE)
		return write_through(f, data, amt, at);
	if (!w->buf_len)
		w->buf_at = at;
	memcpy(w->buf + w->buf_len, data, (size_t)amt);
	w->buf_len += amt;
	/* the commit is complete: it must be in the file before SQLite's
	 * commit returns */
	return commit_page ? flush(f) : SQLITE_OK;
}

static int wal_read(sqlite3_file *f, void *data, int amt, sqlite3_int64 at)
{
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : state_of(f)->base->xRead(f, data, amt, at);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : state_of(f)->base->xTruncate(f, size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : state_of(f)->base->xSync(f, flags);
}

static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : state_of(f)->base->xFileSize(f, size);
}

static int wal_file_control(sqlite3_file *f, int op, void *arg)
{
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : state_of(f)->base->xFileControl(f, op, arg);
}

static int wal_close(sqlite3_file *f)
{
	struct walbatch_file *w = state_of(f);
	int rc = flush(f);
	sqlite3_free(w->buf);
	w->buf = NULL;
	int closed = w->base->xClose(f);
	return rc != SQLITE_OK ? rc : closed;
}

static int walbatch_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags,
			 int *out_flags)
{
	(void)v;
	int rc = base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
	if (rc != SQLITE_OK || !(flags & SQLITE_OPEN_WAL) || !f->pMethods)
		return rc;
	struct walbatch_file *w = state_of(f);
	memset(w, 0, sizeof *w);
	w->base = f->pMethods;
	w->methods = *f->pMethods;
	w->methods.xClose = wal_close;
	w->methods.xRead = wal_read;
	w->methods.xWrite = wal_write;
	w->methods.xTruncate = wal_truncate;
	w->methods.xSync = wal_sync;
	w->methods.xFileSize = wal_file_size;
	w->methods.xFileControl = wal_file_control;
	f->pMethods = &w->methods;
	return SQLITE_OK;
}

static void register_vfs(void)
{
	if (!(base_vfs = sqlite3_vfs_find(NULL)))
		return;
	state_at = (base_vfs->szOsFile + 15) & ~15;
	vfs = *base_vfs;
	vfs.zName = VFS_NAME;
	vfs.pNext = NULL;
	vfs.szOsFile = state_at + (int)sizeof(struct walbatch_file);
	vfs.xOpen = walbatch_open;
	registered_ok = sqlite3_vfs_register(&vfs, 0) == SQLITE_OK;
}

const char *wr_walbatch_vfs(void)
{
	pthread_once(&registered, register_vfs);
	return registered_ok ? VFS_NAME : NULL;
}

struct wr_walbatch_counts wr_walbatch_counts(void)
{
	return (struct wr_walbatch_counts){
		.asked = __atomic_load_n(&count_asked, __ATOMIC_RELAXED),
		.written = __atomic_load_n(&count_written, __ATOMIC_RELAXED),
	};
}
