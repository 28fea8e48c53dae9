/* relay_internal.h — what the front process's files share (front.c runs the
 * process and the core child, relay_conn.c relays one containerd
 * connection).  Not for use outside src/relay/. */
#ifndef WR_RELAY_INTERNAL_H
#define WR_RELAY_INTERNAL_H

#include <ev.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/heap_trim.h"
#include "relay/book.h"
#include "relay/control.h"
#include "relay/exits.h"
#include "relay/front.h"
#include "relay/held.h"
#include "relay/reply_cache.h"
#include "ttrpc/frame.h"
#include "ttrpc/wqueue.h"

#define RELAY_HIGH (8u << 20)   /* stop reading a side while this much waits for the other */
#define RELAY_LOW (1u << 20)    /* and resume below this */

struct relay_listener {
	struct relay_listener *next;
	struct wr_relay *r;
	char backend[32];
	char path[108];
	int fd;
	ev_io io;
	ev_timer retry;
};

struct ctl_out {             /* a control message waiting for the socket */
	struct ctl_out *next;
	struct wr_ctl_msg m;
	int fd;                  /* passed with it (ADOPT, HELD), owned until sent; else -1 */
	char key[];              /* HELD: its key; else "" */
};

struct relay_conn {
	struct wr_relay *r;
	struct relay_conn *prev, *next;
	uint64_t id;
	char backend[32];
	int cfd;                        /* containerd's connection */
	ev_io c_rio, c_wio;
	struct wr_ttrpc_reader c_rd;    /* frames from containerd */
	struct wr_ttrpc_wq to_client;
	int pfd;                        /* our end of the core's socketpair; -1: none */
	ev_io p_rio, p_wio;
	struct wr_ttrpc_reader p_rd;    /* frames from the core */
	struct wr_ttrpc_wq to_core;     /* held while no core runs */
	int p_wdead;                    /* the pair refused a write: wait for its EOF */
	ev_timer orphan;                /* the core closed the pair while it lives */
	unsigned gen;                   /* core generation of the pair */
	struct wr_relay_book book;
};

struct wr_relay {
	struct ev_loop *loop;
	const struct wr_relay_config *cfg;
	struct relay_listener *listeners;
	int ready_fd;                   /* holds cfg->ready_path's lock; -1: none */
	struct relay_conn *conns;
	uint64_t next_conn_id;

	/* the core child */
	pid_t core_pid;                 /* 0: none running */
	unsigned core_gen;              /* +1 at every spawn */
	ev_tstamp core_started;
	int ctl_fd;                     /* our end of the control socketpair; -1: none */
	ev_io ctl_rio, ctl_wio;
	struct ctl_out *ctl_head, *ctl_tail;
	int quick_deaths;               /* consecutive deaths within a second of the spawn */
	int restart_asked;              /* SIGHUP: the next death is a planned restart */
	int stopping;                   /* SIGTERM: exit once the core is gone */
	ev_timer respawn;               /* backoff before the next spawn */
	ev_timer kill_timer;            /* SIGKILL a core that ignores SIGTERM */

	ev_child child;
	ev_signal sighup, sigterm, sigint;
	struct wr_exits exits;
	struct wr_held held;            /* terminals' fds kept for the core (held.h) */
	struct wr_reply_cache *cache;   /* answers given again (reply_cache.h); NULL: none */
	struct wr_objgen *gens;         /* the running core's change counters; NULL: the
					   cache is not used (no core, or no table) */
	struct wr_heap_trim trim;       /* after connections close */
};

/* relay_conn.c */
struct relay_conn *relay_conn_new(struct wr_relay *r, int cfd, const char *backend);
/* A core runs: pfd is our end of this connection's new socketpair. */
void relay_conn_attach(struct relay_conn *c, int pfd);
/* The core is dead and reaped: take its last answers, then answer or keep
 * (Waits) what it left unanswered. */
void relay_conn_core_lost(struct relay_conn *c);
/* Close containerd's connection and the pair end; frees c. */
void relay_conn_close(struct relay_conn *c, const char *why);

/* front.c: give connection c to the running core (socketpair + ADOPT). */
void relay_give(struct wr_relay *r, struct relay_conn *c);

#endif
