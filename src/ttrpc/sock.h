/* sock.h — socket plumbing the ttrpc server and client share: unix socket
 * addresses and reading from a socket into a frame reader.  Internal to
 * src/ttrpc. */
#ifndef WR_TTRPC_SOCK_H
#define WR_TTRPC_SOCK_H

#include <sys/types.h>
#include <sys/un.h>

#include "core/error.h"
#include "ttrpc/frame.h"

/* Fill *sa for a filesystem path; InvalidArgument when it does not fit in
 * sun_path. */
int wr_ttrpc_unix_addr(const char *path, struct sockaddr_un *sa, struct wr_error *err);

/* A listening, non-blocking, close-on-exec unix socket bound at path (no
 * file may be there), readable and writable by its owner only.  The fd, or
 * -1 with err; a socket file bound but not listening is removed again. */
int wr_ttrpc_unix_listen(const char *path, struct wr_error *err);

/* One recv() straight into the reader's buffer.  > 0: bytes added; 0: the
 * peer closed; -1: errno set (EAGAIN/EWOULDBLOCK/EINTR: try later; ENOMEM:
 * no room for the read buffer; else the connection is dead). */
ssize_t wr_ttrpc_recv(struct wr_ttrpc_reader *r, int fd);

#endif
