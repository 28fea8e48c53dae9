/* fsutil.h — small file-system helpers shared by the daemon, the shim and
 * the backends. */
#ifndef WR_FSUTIL_H
#define WR_FSUTIL_H

#include <sys/types.h>

#include "core/error.h"

/* mkdir -p: every missing component of path is made with mode; existing
 * ones are left as they are. */
int wr_mkdir_p(const char *path, mode_t mode, struct wr_error *err);

#endif
