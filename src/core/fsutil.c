/* fsutil.c — small file-system helpers (see fsutil.h). */
#include "core/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* One mkdir for the whole path; only when a parent is missing (ENOENT) walk
 * up to the deepest existing component and make the rest top-down.  Most
 * calls find every parent there (a sandbox dir under a long-lived state
 * dir), and a mkdir per component of a deep path was a dozen system calls
 * on each pod start. */
int wr_mkdir_p(const char *path, mode_t mode, struct wr_error *err)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);
	if (n >= sizeof buf)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "path too long: %s", path);
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	if (mkdir(buf, mode) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return wr_error_errno(err, errno, "cannot create %s", buf);
	/* cut at each '/' from the end until a mkdir succeeds or finds it there */
	char *cut = buf + n;
	for (;;) {
		char *slash = NULL;
		for (char *p = cut - 1; p > buf; p--)
			if (*p == '/') {
				slash = p;
				break;
			}
		if (!slash)
			break;   /* relative path whose first component is missing */
		*slash = '\0';
		cut = slash;
		if (mkdir(buf, mode) == 0 || errno == EEXIST)
			break;
		if (errno != ENOENT)
			return wr_error_errno(err, errno, "cannot create %s", buf);
	}
	/* back down: restore each cut and make that level */
	while (cut < buf + n) {
		*cut = '/';
		cut += strlen(cut);
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return wr_error_errno(err, errno, "cannot create %s", buf);
	}
	return 0;
}
