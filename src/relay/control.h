/* control.h — the control channel between warrend's front process and its
 * core (DESIGN §1): one AF_UNIX SOCK_SEQPACKET socketpair made at each core
 * spawn, one fixed-size message per packet, a file descriptor riding along
 * with ADOPT (SCM_RIGHTS).
 *
 *   front → core  EXIT {pid, status, time_ns}    a child of the front (the
 *                                                reaper of container processes)
 *                                                exited: code, or 128+signal
 *                 EXITS_END                      the exit records not yet
 *                                                acknowledged are all sent (the
 *                                                core recovers after this one)
 *                 ADOPT {conn_id, backend} + fd  serve this containerd
 *                                                connection (one end of a
 *                                                socketpair) for that backend
 *   core → front  ACK {pid, time_ns}             that exit record is durable
 *                                                in the journal, or no object
 *                                                owns the pid: drop it
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
};

/* Native byte order (both ends share a host); 64 bytes, no padding. */
struct wr_ctl_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t type;        /* enum wr_ctl_type */
	int32_t pid;          /* EXIT, ACK */
	int32_t status;       /* EXIT */
	int64_t time_ns;      /* EXIT, ACK: when it was reaped (ns since the epoch) */
	uint64_t conn_id;     /* ADOPT: the front's connection number, for logs */
	char backend[32];     /* ADOPT: NUL-terminated backend name */
};

/* A message of type with magic and version set, every other field zero. */
void wr_ctl_init(struct wr_ctl_msg *m, int type);
/* Validate a received packet of len bytes and copy it into *out: wrong size,
 * magic, version or type, or a backend name without its NUL → InvalidArgument. */
int wr_ctl_decode(struct wr_ctl_msg *out, const void *buf, size_t len, struct wr_error *err);

/* Send one message, with pass_fd (>= 0) attached; never blocks and never
 * raises SIGPIPE.  0 sent (pass_fd is still the caller's to close), -1 with
 * errno kept (EAGAIN: try when writable). */
int wr_ctl_send(int fd, const struct wr_ctl_msg *m, int pass_fd, struct wr_error *err);
/* Receive one message; an attached fd lands in *got_fd (close-on-exec), else
 * *got_fd = -1.  1: a message; 0: the peer closed; -1 with errno kept
 * (EAGAIN: nothing yet; EBADMSG: an invalid packet, consumed — any fd that
 * came with it closed). */
int wr_ctl_recv(int fd, struct wr_ctl_msg *m, int *got_fd, struct wr_error *err);

#endif
