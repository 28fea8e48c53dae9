/* crashpoint.c — see crashpoint.h. */
#include "core/crashpoint.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long crash_at = -1;  /* -1: never */
static long passed;
static int trace;
static int enabled = 1;

void wr_crashpoint_init(void)
{
	const char *at = getenv("WARREN_CRASH_AT");
	const char *tr = getenv("WARREN_CRASH_TRACE");
	crash_at = at && *at ? strtol(at, NULL, 10) : -1;
	trace = tr && *tr && *tr != '0';
	passed = 0;
}

void wr_crashpoint_enable(int on)
{
	enabled = on;
}

const char *wr_crash_where_name(enum wr_crash_where where)
{
	switch (where) {
	case WR_CRASH_BEFORE_INTENT: return "before-intent";
	case WR_CRASH_AFTER_INTENT: return "after-intent";
	case WR_CRASH_AFTER_ACTION: return "after-action";
	case WR_CRASH_AFTER_OUTCOME: return "after-outcome";
	}
	return "?";
}

void wr_crashpoint(enum wr_crash_where where)
{
	if (!enabled || (crash_at < 0 && !trace))
		return;
	passed++;
	if (trace)
		fprintf(stderr, "crashpoint %ld %s\n", passed, wr_crash_where_name(where));
	if (passed == crash_at) {
		fflush(NULL);
		kill(getpid(), SIGKILL);
		pause();
	}
}
