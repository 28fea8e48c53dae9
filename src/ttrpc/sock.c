/* sock.c — see sock.h. */
#include "ttrpc/sock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

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

int wr_ttrpc_unix_listen(const char *path, struct wr_error *err)
{
	struct sockaddr_un sa;
	if (wr_ttrpc_unix_addr(path, &sa, err) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wr_error_errno(err, errno, "ttrpc socket");
	mode_t old = umask(0177);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	int e = errno;
	umask(old);
	if (r < 0) {
		close(fd);
		return wr_error_errno(err, e, "bind ttrpc socket %s", path);
	}
	if (listen(fd, SOMAXCONN) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		return wr_error_errno(err, e, "listen on ttrpc socket %s", path);
	}
	return fd;
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
