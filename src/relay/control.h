/* control.h — the control channel between warrend's front process and its
 * core (DESIGN §1): one AF_UNIX SOCK_SEQPACKET socketpair made at each core
 * spawn, one message per packet (64 bytes, plus a key for the terminal
 * messages below), a file descriptor riding along with ADOPT, HOLD, HELD
 * and GENS (SCM_RIGHTS).
 *
 *   front → core  EXIT {pid, status, time_ns}    a child of the front (the
 *                                                reaper of container processes)
 *                                                exited: code, or 128+signal
 *                 EXITS_END {status, conn_id}    the exit records not yet
 *                                                acknowledged are all sent (the
 *                                                core recovers after this one)
 *                 ADOPT {conn_id, backend} + fd  serve this containerd
 *                                                connection (one end of a
 *                                                socketpair) for that backend
 *   core → front  ACK {pid, time_ns}             that exit record is durable
 *                                                in the journal, or no object
 *                                                owns the pid: drop it
 *
 * Terminals (issue #4): a pty master must outlive the core that copies its
 * data, or the terminal hangs up.  So the core gives the front the fds of
 * each terminal it copies, the front holds them while it lives, and hands
 * them to every new core, which resumes the copy.  These messages carry a
 * key (the core's name for the terminal, opaque to the front) after the
 * 64-byte message: the packet is 64 + 1..WR_CTL_KEY_MAX bytes, no NUL.
 *   core → front  HOLD {status = slot} + key + fd  keep this fd of the terminal
 *                                                (replacing one in that slot)
 *                 DROP {status = slot | SLOT_ALL} + key   close what is held
 *   front → core  HELD {status = slot} + key + fd  one held fd, for the new
 *                                                core's recovery
 * EXITS_END says how many HELD follow it (status) and what the front
 * understands (conn_id: WR_CTL_CAP_* bits); a core sends HOLD and DROP only
 * to a front with WR_CTL_CAP_TERMINALS.
 *
 * The reply cache (issue #5, relay/reply_cache.h): with
 * WR_CTL_CAP_REPLY_CACHE in EXITS_END, the front sends after the HELDs
 *   front → core  GENS + fd                       the change counters' memfd
 *                                                (core/objgen.h) for this core
 * and then accepts WR_TTRPC_NOTE frames before the core's cacheable answers.
 * An older core ignores GENS (it cannot decode it) and sends no notes.  An older front sends 0 and 0; an
 * older core ignores the HELD packets (it cannot decode them) and closes
 * their fds, so a mixed pair during an upgrade degrades to hang-ups only.
 *
 * Both ends run on one host and usually from one build; the magic and the
 * version make a mismatched pair (a half-done upgrade) fail loudly instead of
 * misreading fields.  Pure codec plus two socket calls; no event loop. */
#ifndef WR_RELAY_CONTROL_H
#define WR_RELAY_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define WR_CTL_MAGIC 0x54435257u   /* "WRCT" little-endian */
#define WR_CTL_VERSION 1

enum wr_ctl_type {
	WR_CTL_EXIT = 1,
	WR_CTL_EXITS_END = 2,
	WR_CTL_ACK = 3,
	WR_CTL_ADOPT = 4,
	WR_CTL_HOLD = 5,
	WR_CTL_DROP = 6,
	WR_CTL_HELD = 7,
	WR_CTL_GENS = 8,
	WR_CTL_TYPE_LAST = WR_CTL_GENS,
};

#define WR_CTL_KEY_MAX 448         /* bytes of a key (no NUL) */
#define WR_CTL_CAP_TERMINALS 1u    /* EXITS_END conn_id: HOLD/DROP/HELD understood */
#define WR_CTL_CAP_REPLY_CACHE 2u  /* EXITS_END conn_id: GENS follows the HELDs, notes welcome */

/* The fds of a terminal (HOLD, HELD, DROP status). */
enum wr_ctl_slot {
	WR_CTL_SLOT_MASTER = 0,    /* the pty master */
	WR_CTL_SLOT_STDIN = 1,     /* containerd's stdin FIFO, read side */
	WR_CTL_SLOT_STDOUT = 2,    /* containerd's stdout FIFO, write side */
	WR_CTL_SLOTS = 3,
	WR_CTL_SLOT_ALL = -1,      /* DROP: every slot of the key */
};

/* Native byte order (both ends share a host); 64 bytes, no padding. */
struct wr_ctl_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t type;        /* enum wr_ctl_type */
	int32_t pid;          /* EXIT, ACK */
	int32_t status;       /* EXIT; EXITS_END: HELD that follow; HOLD, HELD, DROP: slot */
	int64_t time_ns;      /* EXIT, ACK: when it was reaped (ns since the epoch) */
	uint64_t conn_id;     /* ADOPT: the front's connection number, for logs;
				 EXITS_END: WR_CTL_CAP_* */
	char backend[32];     /* ADOPT: NUL-terminated backend name */
};

/* 1 for the types that carry a key (HOLD, DROP, HELD). */
int wr_ctl_keyed(int type);

/* A message of type with magic and version set, every other field zero. */
void wr_ctl_init(struct wr_ctl_msg *m, int type);
/* Validate a received packet of len bytes and copy it into *out, its key (a
 * keyed type) into key (WR_CTL_KEY_MAX + 1 bytes, NUL-terminated; "" for
 * the others): wrong size, magic, version or type, a slot out of range, a
 * backend name without its NUL, a key missing, too long or holding a NUL →
 * InvalidArgument. */
int wr_ctl_decode(struct wr_ctl_msg *out, char *key, const void *buf, size_t len,
		  struct wr_error *err);

/* Send one message (with key when its type is keyed, else NULL), with
 * pass_fd (>= 0) attached; never blocks and never raises SIGPIPE.  0 sent
 * (pass_fd is still the caller's to close), -1 with errno kept (EAGAIN: try
 * when writable; EINVAL: a key missing or too long). */
int wr_ctl_send(int fd, const struct wr_ctl_msg *m, const char *key, int pass_fd,
		struct wr_error *err);
/* Receive one message into *m and key (as for wr_ctl_decode); an attached fd
 * lands in *got_fd (close-on-exec), else *got_fd = -1.  1: a message; 0: the
 * peer closed; -1 with errno kept (EAGAIN: nothing yet; EBADMSG: an invalid
 * packet, consumed — any fd that came with it closed).  Only ADOPT, HOLD,
 * HELD and GENS may carry an fd. */
int wr_ctl_recv(int fd, struct wr_ctl_msg *m, char *key, int *got_fd, struct wr_error *err);

#endif
