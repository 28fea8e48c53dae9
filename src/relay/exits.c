/* exits.c — unacknowledged exit records (see exits.h).  A plain array: it
 * holds a handful of records except while no core runs. */
#include "relay/exits.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void wr_exits_init(struct wr_exits *x)
{
	memset(x, 0, sizeof *x);
}

void wr_exits_free(struct wr_exits *x)
{
	free(x->v);
	wr_exits_init(x);
}

static void remove_at(struct wr_exits *x, size_t i)
{
	memmove(&x->v[i], &x->v[i + 1], (x->n - i - 1) * sizeof *x->v);
	x->n--;
}

int wr_exits_add(struct wr_exits *x, int pid, int status, int64_t time_ns)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].pid == pid) {
			remove_at(x, i);
			break;
		}
	if (x->n >= WR_EXITS_MAX) {
		remove_at(x, 0);
		x->dropped++;
	}
	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		struct wr_exit_rec *v = realloc(x->v, cap * sizeof *v);
		if (!v)
			return -1;
		x->v = v;
		x->cap = cap;
	}
	x->v[x->n++] = (struct wr_exit_rec){ pid, status, time_ns };
	return 0;
}

int wr_exits_ack(struct wr_exits *x, int pid, int64_t time_ns)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->v[i].pid == pid && x->v[i].time_ns == time_ns) {
			remove_at(x, i);
			return 1;
		}
	return 0;
}

int wr_exit_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return -1;
}
