/* sock.c — see sock.h. */
#include "ttrpc/sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

int wr_ttrpc_unix_addr(const char *path, struct sockaddr_un *sa, struct wr_error *err)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return wr_error_set(err, WR_INVALID_ARGUMENT,
				    "ttrpc socket path %s is longer than %zu bytes", path,
				    sizeof sa->sun_path - 1);
	strcpy(sa->sun_path, path);
	return 0;
}

ssize_t wr_ttrpc_recv(struct wr_ttrpc_reader *r, int fd)
{
	size_t avail;
	uint8_t *p = wr_ttrpc_reader_space(r, &avail);
	if (!p) {
		errno = ENOMEM;
		return -1;
	}
	ssize_t n = recv(fd, p, avail, 0);
	if (n > 0)
		wr_ttrpc_reader_commit(r, (size_t)n);
	return n;
}
