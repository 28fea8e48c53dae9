/* wqueue.h — the outgoing byte queue of one ttrpc connection (server and client).
 *
 * Whole frames are queued as malloc'd buffers and written with non-blocking
 * send(MSG_NOSIGNAL) until the socket would block; the owner keeps an ev_io
 * write watcher running while the queue is not empty.  Internal to src/ttrpc. */
#ifndef WR_TTRPC_WQUEUE_H
#define WR_TTRPC_WQUEUE_H

#include <stddef.h>
#include <stdint.h>

struct wr_ttrpc_wbuf {
	struct wr_ttrpc_wbuf *next;
	uint8_t *data;
	size_t len, off;
};

struct wr_ttrpc_wq {
	struct wr_ttrpc_wbuf *head, *tail;
	size_t bytes;   /* unsent bytes */
};

/* Takes ownership of data (freed when sent or cleared); -1 if out of memory
 * (data is freed then too). */
int wr_ttrpc_wq_push(struct wr_ttrpc_wq *q, uint8_t *data, size_t len);

/* Send as much as the socket takes.  1: queue drained; 0: the socket would
 * block with bytes left; -1: write error (errno set; the connection is dead). */
int wr_ttrpc_wq_flush(struct wr_ttrpc_wq *q, int fd);

void wr_ttrpc_wq_clear(struct wr_ttrpc_wq *q);

#endif
