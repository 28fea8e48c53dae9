/* core_link.h — the core's end of the control channel to warrend's front
 * process (control.h, relay/front.h).
 *
 * Start-up order, which is what makes exit statuses survive a core crash:
 *   1. wr_core_link_open: read the exit records the front still holds, up to
 *      EXITS_END (the front sends them right after spawning us), and the
 *      terminals' fds it holds (HELD), which follow;
 *   2. open the engine with cfg.exit_of = wr_core_link_exit_of, so recovery
 *      journals those real statuses for tasks and execs that exited while no
 *      core ran (a process that ends during recovery itself has its record
 *      read then: messages that arrive meanwhile are kept for step 3);
 *      and open the backends with wr_core_link_keep, so recovery re-attaches
 *      the terminals of live tasks and execs to the held fds;
 *   3. wr_core_link_start: acknowledge the records recovery used, treat the
 *      rest as live exits, drop the held terminals recovery did not take,
 *      then serve the channel: ADOPT → wr_front_adopt
 *      (containerd's connections), EXIT → an Exit event for the task or exec
 *      whose process it was, acknowledged once durable.
 * When the front goes away (EOF) the core stops: nobody could reach it. */
#ifndef WR_RELAY_CORE_LINK_H
#define WR_RELAY_CORE_LINK_H

#include <ev.h>
#include <stdint.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/fdkeep.h"
#include "core/objgen.h"
#include "front/front.h"

struct wr_core_link;

/* Take over control socket fd (made close-on-exec) and receive the initial
 * exit records; fails if the front sends none of it within 30 s. */
struct wr_core_link *wr_core_link_open(struct ev_loop *loop, int fd, struct wr_error *err);
/* Where the backends keep terminals' fds across core restarts (the front);
 * NULL when the front cannot hold them (an older front).  Lives as long as
 * the link. */
const struct wr_fdkeep *wr_core_link_keep(struct wr_core_link *l);
/* The change counters the front sent for its reply cache (core/objgen.h),
 * for wr_engine_config.gens; NULL when it keeps none.  Lives as long as the link. */
struct wr_objgen *wr_core_link_gens(struct wr_core_link *l);
/* For wr_engine_config.exit_of (ctx = the link). */
int wr_core_link_exit_of(void *ctx, int pid, int *status, int64_t *exited_at);
/* The engine is open and recovered: see above.  e and f must outlive the link's use. */
void wr_core_link_start(struct wr_core_link *l, struct wr_engine *e, struct wr_front *f);
/* Free after wr_engine_close (exit steps still queued hold the link). */
void wr_core_link_free(struct wr_core_link *l);

#endif
