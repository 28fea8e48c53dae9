/* error.c — filling, wrapping and naming struct wr_error (see error.h). */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int wr_error_set(struct wr_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int code_of_errno(int errnum)
{
	switch (errnum) {
	case ENOENT: case ESRCH: return WR_NOT_FOUND;
	case EEXIST: return WR_ALREADY_EXISTS;
	case EPERM: case EACCES: return WR_PERMISSION_DENIED;
	case EINVAL: return WR_INVALID_ARGUMENT;
	case ENOSPC: case ENOMEM: case EMFILE: case ENFILE: return WR_RESOURCE_EXHAUSTED;
	case EBUSY: case EAGAIN: return WR_UNAVAILABLE;
	default: return WR_INTERNAL;
	}
}

int wr_error_errno(struct wr_error *err, int errnum, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
		size_t n = strlen(err->msg);
		snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(errnum));
		err->code = code_of_errno(errnum);
	}
	return -1;
}

void wr_error_wrap(struct wr_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[256], old[sizeof err->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	size_t n = strlen(prefix);
	if (n > sizeof err->msg - 3)
		n = sizeof err->msg - 3;
	memcpy(err->msg, prefix, n);
	memcpy(err->msg + n, ": ", 2);
	size_t rest = sizeof err->msg - n - 3;
	size_t m = strnlen(old, rest);
	memcpy(err->msg + n + 2, old, m);
	err->msg[n + 2 + m] = '\0';
}

void wr_error_clear(struct wr_error *err)
{
	if (err) {
		err->code = WR_OK;
		err->msg[0] = '\0';
	}
}

const char *wr_code_name(int code)
{
	static const char *const names[] = {
		"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
		"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
		"FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
		"Internal", "Unavailable", "DataLoss",
	};
	if (code < 0 || code >= (int)(sizeof names / sizeof names[0]))
		return "Unknown";
	return names[code];
}
