/* error.h — the one error type threaded through every warren call.
 *
 * Every fallible function takes a `struct wr_error *err` as its last argument,
 * returns -1 on failure after filling it, and 0 (or a non-negative value) on
 * success.  The code is a gRPC status code because that is what ends up on the
 * wire to containerd (DESIGN §3); containerd acts on NotFound, AlreadyExists,
 * FailedPrecondition and Unimplemented, so those must be used precisely. */
#ifndef WR_ERROR_H
#define WR_ERROR_H

enum wr_code {
	WR_OK = 0,
	WR_CANCELLED = 1,
	WR_UNKNOWN = 2,
	WR_INVALID_ARGUMENT = 3,
	WR_DEADLINE_EXCEEDED = 4,
	WR_NOT_FOUND = 5,
	WR_ALREADY_EXISTS = 6,
	WR_PERMISSION_DENIED = 7,
	WR_RESOURCE_EXHAUSTED = 8,
	WR_FAILED_PRECONDITION = 9,
	WR_ABORTED = 10,
	WR_OUT_OF_RANGE = 11,
	WR_UNIMPLEMENTED = 12,
	WR_INTERNAL = 13,
	WR_UNAVAILABLE = 14,
	WR_DATA_LOSS = 15,
};

struct wr_error {
	int code;       /* enum wr_code; WR_OK when nothing failed */
	char msg[512];  /* human-readable, names the object and the cause */
};

/* Fill err (if non-NULL) and return -1, so callers can `return wr_error_set(...)`. */
int wr_error_set(struct wr_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like wr_error_set, appending ": strerror(errnum)". */
int wr_error_errno(struct wr_error *err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing error's message with more context ("while X: "). */
void wr_error_wrap(struct wr_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void wr_error_clear(struct wr_error *err);

/* "FailedPrecondition", "NotFound", ... */
const char *wr_code_name(int code);

#endif
