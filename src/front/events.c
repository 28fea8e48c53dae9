/* events.c — ordered publication of task events to containerd.
 *
 * Every event becomes a containerd.services.events.ttrpc.v1.ForwardRequest,
 * packed when it is published (so later changes to the object cannot alter
 * it) and appended to a FIFO.  One Forward call is in flight at a time, so
 * containerd sees events in the order transitions happened.  When containerd
 * is away (restarting) the queue waits and the connection is retried every
 * second; publishing never blocks an RPC.  The queue is bounded: beyond
 * MAX_QUEUED the oldest events are dropped with a warning. */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containerd/services/events/ttrpc/v1/events.pb-c.h"
#include "core/log.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "ttrpc/client.h"

#define MAX_QUEUED 10000
#define FORWARD_TIMEOUT_NS (10LL * 1000000000)

struct queued {
	struct queued *next;
	char *topic;
	size_t len;
	uint8_t data[];
};

struct wr_events {
	struct ev_loop *loop;
	char *address;
	struct wr_ttrpc_client *client;
	struct queued *head, **tail;
	size_t n;
	int in_flight;
	ev_timer retry;
};

static void kick(struct wr_events *ev);

static void retry_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	kick(t->data);
}

static void schedule_retry(struct wr_events *ev)
{
	if (!ev_is_active(&ev->retry)) {
		ev_timer_set(&ev->retry, 1.0, 0.);
		ev_timer_start(ev->loop, &ev->retry);
	}
}

static void drop_client(struct wr_events *ev)
{
	if (ev->client) {
		struct wr_ttrpc_client *c = ev->client;
		ev->client = NULL;
		wr_ttrpc_client_free(c);
	}
}

static void pop(struct wr_events *ev)
{
	struct queued *q = ev->head;
	ev->head = q->next;
	if (!ev->head)
		ev->tail = &ev->head;
	ev->n--;
	free(q->topic);
	free(q);
}

static void forwarded(void *ctx, int code, const char *msg, const uint8_t *payload, size_t len)
{
	(void)payload;
	(void)len;
	struct wr_events *ev = ctx;
	ev->in_flight = 0;
	if (code == WR_CANCELLED)
		return;   /* client freed: by us, ev may be going away */
	if (code == WR_OK || (code != WR_UNAVAILABLE && code != WR_DEADLINE_EXCEEDED)) {
		if (code != WR_OK)
			wr_warn("containerd refused event %s: %s", ev->head->topic, msg);
		pop(ev);
		kick(ev);
		return;
	}
	wr_debug("event %s not delivered (%s), retrying", ev->head->topic, msg);
	drop_client(ev);
	schedule_retry(ev);
}

static void kick(struct wr_events *ev)
{
	if (ev->in_flight || !ev->head || !ev->address)
		return;
	struct wr_error err;
	if (!ev->client) {
		ev->client = wr_ttrpc_client_connect(ev->loop, ev->address, &err);
		if (!ev->client) {
			wr_debug("events: %s", err.msg);
			schedule_retry(ev);
			return;
		}
		/* no close callback: a lost connection answers the pending call
		 * Unavailable, and forwarded() retries */
	}
	if (wr_ttrpc_client_call(ev->client, "containerd.services.events.ttrpc.v1.Events",
				 "Forward", ev->head->data, ev->head->len, NULL, 0,
				 FORWARD_TIMEOUT_NS, forwarded, ev, &err) < 0) {
		drop_client(ev);
		schedule_retry(ev);
		return;
	}
	ev->in_flight = 1;
}

struct wr_events *wr_events_new(struct ev_loop *loop, const char *address)
{
	struct wr_events *ev = calloc(1, sizeof *ev);
	if (!ev)
		return NULL;
	ev->loop = loop;
	ev->tail = &ev->head;
	if (address && *address && !(ev->address = strdup(address))) {
		free(ev);
		return NULL;
	}
	ev_timer_init(&ev->retry, retry_cb, 1.0, 0.);
	ev->retry.data = ev;
	return ev;
}

void wr_events_free(struct wr_events *ev)
{
	if (!ev)
		return;
	ev_timer_stop(ev->loop, &ev->retry);
	drop_client(ev);
	while (ev->head)
		pop(ev);
	free(ev->address);
	free(ev);
}

void wr_events_publish(struct wr_events *ev, const char *ns, const char *topic,
		       const char *type_url, const ProtobufCMessage *m)
{
	if (!ev->address)
		return;
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *value = malloc(n ? n : 1);
	if (!value)
		return;
	protobuf_c_message_pack(m, value);

	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	ts.seconds = now.tv_sec;
	ts.nanos = (int32_t)now.tv_nsec;
	Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
	any.type_url = (char *)type_url;
	any.value.data = value;
	any.value.len = n;
	Containerd__Types__Envelope env =
		CONTAINERD__TYPES__ENVELOPE__INIT;
	env.timestamp = &ts;
	env.namespace_ = (char *)ns;
	env.topic = (char *)topic;
	env.event = &any;
	Containerd__Services__Events__Ttrpc__V1__ForwardRequest req =
		CONTAINERD__SERVICES__EVENTS__TTRPC__V1__FORWARD_REQUEST__INIT;
	req.envelope = &env;

	size_t len = protobuf_c_message_get_packed_size(&req.base);
	struct queued *q = malloc(sizeof *q + len);
	if (!q || !(q->topic = strdup(topic))) {
		free(q);
		free(value);
		return;
	}
	protobuf_c_message_pack(&req.base, q->data);
	free(value);
	q->len = len;
	q->next = NULL;
	*ev->tail = q;
	ev->tail = &q->next;
	if (++ev->n > MAX_QUEUED && !ev->in_flight) {
		wr_warn("events: queue full, dropping %s", ev->head->topic);
		pop(ev);
	}
	wr_debug("event %s %s queued", ns, topic);
	kick(ev);
}
