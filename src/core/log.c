/* log.c — leveled log lines on stderr (see log.h). */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *names[] = { "error", "warn", "info", "debug" };
static char prog[32] = "warren";
static int threshold = WR_LOG_INFO;

int wr_log_level_by_name(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

void wr_log_init(const char *name, int level)
{
	if (name)
		snprintf(prog, sizeof prog, "%s", name);
	if (level < 0)
		level = wr_log_level_by_name(getenv("WARREN_LOG_LEVEL"));
	threshold = level < 0 ? WR_LOG_INFO : level;
}

int wr_log_enabled(int level)
{
	return level <= threshold;
}

void wr_log(int level, const char *fmt, ...)
{
	if (level > threshold)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char line[2048];
	int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec / 1000000, prog, names[level < 0 ? 0 : level > 3 ? 3 : level]);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && n < (int)sizeof line)
		vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s\n", line);
}
