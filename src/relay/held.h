/* held.h — the fds of terminals that warrend's front process holds for the
 * core (control.h: HOLD, DROP, HELD), so that a pty master and the stdio
 * FIFOs of its copy stay open while no core runs: the terminal does not hang
 * up, containerd's stdout copy sees no EOF and its stdin writer no EPIPE.
 *
 * A table of keys (the core's opaque names, one per terminal), each with one
 * fd per slot (enum wr_ctl_slot).  Pure bookkeeping, no sockets and no loop
 * (tests/unit/test_relay_held.c).  The front closes what the core drops,
 * hands a dup of everything to each new core, and closes it all when it
 * exits.  Bounded: at most WR_HELD_MAX keys. */
#ifndef WR_RELAY_HELD_H
#define WR_RELAY_HELD_H

#include <stddef.h>

#include "relay/control.h"

#define WR_HELD_MAX 4096

struct wr_held_ent {
	char *key;
	int fd[WR_CTL_SLOTS];   /* -1: nothing in that slot */
};

struct wr_held {
	struct wr_held_ent *v;  /* unordered */
	size_t n, cap;
};

void wr_held_init(struct wr_held *h);
/* Close every fd held and forget them all. */
void wr_held_free(struct wr_held *h);
/* Hold fd under (key, slot), closing the fd it replaces.  fd is the table's
 * from now on: on failure (-1: bad slot, table full, out of memory) it is
 * closed. */
int wr_held_put(struct wr_held *h, const char *key, int slot, int fd);
/* Close what key holds in slot (WR_CTL_SLOT_ALL: every slot); a key left
 * with nothing is forgotten.  Returns how many fds were closed. */
int wr_held_drop(struct wr_held *h, const char *key, int slot);
/* How many fds are held. */
size_t wr_held_fds(const struct wr_held *h);

#endif
