/* log.h — leveled log lines on stderr, for the daemon and the shim.
 *
 * One line per message: "2026-11-23T10:00:00.123Z warrend info: text".  The
 * level threshold comes from wr_log_init() (or WARREN_LOG_LEVEL: error, warn,
 * info, debug); warrend's stderr is its log file or journald's stream. */
#ifndef WR_LOG_H
#define WR_LOG_H

enum wr_log_level { WR_LOG_ERROR = 0, WR_LOG_WARN = 1, WR_LOG_INFO = 2, WR_LOG_DEBUG = 3 };

/* name: program name printed on each line; level < 0 → from WARREN_LOG_LEVEL
 * (default info). */
void wr_log_init(const char *name, int level);
int wr_log_level_by_name(const char *name);
void wr_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int wr_log_enabled(int level);

#define wr_error_log(...) wr_log(WR_LOG_ERROR, __VA_ARGS__)
#define wr_warn(...) wr_log(WR_LOG_WARN, __VA_ARGS__)
#define wr_info(...) wr_log(WR_LOG_INFO, __VA_ARGS__)
#define wr_debug(...) wr_log(WR_LOG_DEBUG, __VA_ARGS__)

#endif
