/* ns_util.c — small helpers of the ns backend: bounded path formatting,
 * mkdir -p, atomic file writes, rm -rf that stops at mounts, pid files and
 * /proc/<pid>/stat (start time, so a recorded pid survives pid reuse). */
#include "backends/ns/ns_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int wr_ns_pathf(char *buf, size_t n, struct wr_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= n)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "ns: path too long (%.64s...)", buf);
	return 0;
}

int wr_ns_valid_name(const char *s)
{
	return s && *s && !strchr(s, '/') && strcmp(s, ".") != 0 && strcmp(s, "..") != 0 &&
	       strlen(s) < 256;
}

/* Create/truncate path, write all of data, set mode (open's mode is cut by
 * the umask).  On failure the file is removed. */
static int write_all(const char *path, const char *data, size_t len, mode_t mode,
		     struct wr_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return wr_error_errno(err, errno, "ns: cannot create %s", path);
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			unlink(path);
			return wr_error_errno(err, e, "ns: cannot write %s", path);
		}
		off += (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return wr_error_errno(err, e, "ns: cannot write %s", path);
	}
	return 0;
}

int wr_ns_write_file(const char *path, const char *data, size_t len, mode_t mode,
		     struct wr_error *err)
{
	char tmp[WR_NS_PATH];
	if (wr_ns_pathf(tmp, sizeof tmp, err, "%s.tmp", path) || write_all(tmp, data, len, mode, err))
		return -1;
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return wr_error_errno(err, e, "ns: cannot rename %s", tmp);
	}
	return 0;
}

int wr_ns_write_fresh(const char *path, const char *data, size_t len, mode_t mode,
		      struct wr_error *err)
{
	return write_all(path, data, len, mode, err);
}

int wr_ns_read_file(const char *path, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (!buf) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				continue;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int wr_ns_rmrf(const char *path, struct wr_error *err)
{
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	/* FTW_MOUNT: never walk into a mount left behind; rmdir then fails (EBUSY) */
	if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0)
		return wr_error_errno(err, errno, "ns: cannot remove %s", path);
	return 0;
}

pid_t wr_ns_read_pidfile(const char *path)
{
	char *s = NULL;
	if (wr_ns_read_file(path, &s, NULL) < 0)
		return -1;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	int bad = errno || end == s || v <= 0 || v > 0x3fffffff;
	free(s);
	if (bad) {
		errno = EINVAL;
		return -1;
	}
	return (pid_t)v;
}

uint64_t wr_ns_proc_start(pid_t pid, char *state)
{
	char path[64], *s = NULL;
	if (pid <= 0)
		return 0;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (wr_ns_read_file(path, &s, NULL) < 0)
		return 0;
	/* "pid (comm) S ppid ..." — comm may hold anything, so parse after the last ')' */
	char *p = strrchr(s, ')');
	uint64_t start = 0;
	if (p && p[1] == ' ') {
		p += 2;
		if (state)
			*state = *p;
		/* field 3 is the state; starttime is field 22 */
		for (int field = 3; field < 22 && p; field++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p)
			start = strtoull(p, NULL, 10);
	}
	free(s);
	return start;
}

enum wr_ns_proc wr_ns_proc_check(pid_t pid, uint64_t start)
{
	char st = '?';
	uint64_t now = wr_ns_proc_start(pid, &st);
	if (now == 0 || (start && now != start))
		return WR_NS_PROC_GONE;
	if (st == 'Z' || st == 'X')
		return WR_NS_PROC_ZOMBIE;
	return WR_NS_PROC_ALIVE;
}
