/* clock.h — the clocks warren reads, in ns: wall time since the epoch
 * (journal rows, exit times, containerd's timestamps), the monotonic clock
 * (durations, stats.h; in milliseconds for deadlines) and CPU time. */
#ifndef WR_CLOCK_H
#define WR_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t wr_clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t wr_now_ns(void)
{
	return wr_clock_ns(CLOCK_REALTIME);
}

static inline int64_t wr_monotonic_ns(void)
{
	return wr_clock_ns(CLOCK_MONOTONIC);
}

static inline int64_t wr_monotonic_ms(void)
{
	return wr_monotonic_ns() / 1000000;
}

#endif
