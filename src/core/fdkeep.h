/* fdkeep.h — somewhere outside the core process to keep file descriptors
 * that must outlive it: a terminal's pty master and the stdio FIFO ends of
 * its copy (backends/ns/ns_tty.c), which warrend's front holds while the
 * core restarts (relay/control.h: HOLD, DROP, HELD; relay/core_link.c
 * implements this).  Keys are the user's names, at most WR_FDKEEP_KEY_MAX
 * bytes of text; slots are 0..WR_FDKEEP_SLOTS-1.
 *
 * Nothing here may block for long or fail loudly: keeping is best effort (a
 * terminal that could not be kept just hangs up at the next restart). */
#ifndef WR_CORE_FDKEEP_H
#define WR_CORE_FDKEEP_H

#define WR_FDKEEP_KEY_MAX 448
#define WR_FDKEEP_SLOTS 3
#define WR_FDKEEP_ALL (-1)   /* drop: every slot */

struct wr_fdkeep {
	void *ctx;
	/* Keep a copy of fd (still the caller's) under (key, slot), replacing
	 * what was kept there. */
	void (*hold)(void *ctx, const char *key, int slot, int fd);
	/* Stop keeping (key, slot), or every slot of key (WR_FDKEEP_ALL). */
	void (*drop)(void *ctx, const char *key, int slot);
	/* At start-up (recovery): the fd kept under (key, slot) by an earlier
	 * process, now the caller's; -1 when none.  Keys nobody takes are
	 * dropped once recovery is over. */
	int (*take)(void *ctx, const char *key, int slot);
};

#endif
