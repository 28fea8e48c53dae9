/* fsutil.c — small file-system helpers (see fsutil.h). */
#include "core/fsutil.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

int wr_mkdir_p(const char *path, mode_t mode, struct wr_error *err)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return wr_error_set(err, WR_INVALID_ARGUMENT, "path too long: %s", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return wr_error_errno(err, errno, "cannot create %s", buf);
		*p = c;
		if (!c)
			break;
	}
	return 0;
}
