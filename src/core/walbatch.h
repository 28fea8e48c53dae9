/* walbatch.h — a SQLite VFS that hands each commit's WAL frames to the kernel
 * in one write.
 *
 * SQLite appends a commit to the -wal file as two writes per page (a 24-byte
 * frame header, then the page), so a journal step that changes three pages
 * is six pwrite calls, each its own trip through the file system (on ext4 an
 * mtime update and a journal handle each).  This VFS is the system's default
 * VFS with the WAL file's writes collected in a buffer while they are
 * contiguous, and written with one call when the commit frame (the frame
 * whose header carries a nonzero database size, the WAL format's commit
 * mark) is complete — before SQLite's commit returns, so a committed step is
 * in the page cache exactly as it was without the buffer and survives a kill
 * -9 of warrend.  Anything else that touches the WAL (a read, a sync, a size
 * query, a truncate, a file control, a write somewhere else, the close)
 * writes the buffer out first, so SQLite never sees the file without it.
 * Other files (the database, its journal) are the default VFS's, untouched. */
#ifndef WR_WALBATCH_H
#define WR_WALBATCH_H

#include <stdint.h>

/* The VFS's name for sqlite3_open_v2, registered on first use (not as the
 * default VFS); NULL if SQLite has no default VFS to wrap. */
const char *wr_walbatch_vfs(void);

/* Writes SQLite asked for on WAL files, and writes made to the kernel for
 * them, since the process started (for tests and benchmarks). */
struct wr_walbatch_counts {
	uint64_t asked;
	uint64_t written;
};
struct wr_walbatch_counts wr_walbatch_counts(void);

#endif
