/* wqueue.c — outgoing frame queue with non-blocking writes (see wqueue.h). */
#include "ttrpc/wqueue.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

int wr_ttrpc_wq_push(struct wr_ttrpc_wq *q, uint8_t *data, size_t len)
{
	struct wr_ttrpc_wbuf *b = malloc(sizeof *b);
	if (!b) {
		free(data);
		return -1;
	}
	b->next = NULL;
	b->data = data;
	b->len = len;
	b->off = 0;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->bytes += len;
	return 0;
}

static void pop(struct wr_ttrpc_wq *q)
{
	struct wr_ttrpc_wbuf *b = q->head;
	q->head = b->next;
	if (!q->head)
		q->tail = NULL;
	q->bytes -= b->len - b->off;
	free(b->data);
	free(b);
}

int wr_ttrpc_wq_flush(struct wr_ttrpc_wq *q, int fd)
{
	while (q->head) {
		struct wr_ttrpc_wbuf *b = q->head;
		if (b->off == b->len) {
			pop(q);
			continue;
		}
		ssize_t n = send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		b->off += (size_t)n;
		q->bytes -= (size_t)n;
	}
	return 1;
}

void wr_ttrpc_wq_clear(struct wr_ttrpc_wq *q)
{
	while (q->head)
		pop(q);
	q->bytes = 0;
}
