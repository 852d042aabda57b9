/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-memory sf_mq for unit tests: no socket, no broker, no waiting. It models what job
 * loops depend on:
 *   - sf_mq_declare_topology creates the queues sf.jobs.<role> (job queues: delivery limit 5,
 *     dead-lettered to sf.jobs.dead), sf.jobs.dead and sf.events.record;
 *   - publish routes: "sf.jobs" + key R -> sf.jobs.R; "sf.events" -> sf.events.record;
 *     "" + key Q -> queue Q; anything unroutable fails with -ENOENT (publishes are mandatory);
 *   - next hands out the consumed queue's messages in order and returns -ETIMEDOUT at once
 *     when it is empty; ack removes, nack requeues (redelivered, delivery_count + 1) or
 *     dead-letters, and a job requeued more than 5 times is dead-lettered;
 *   - request publishes like publish (its expiration recorded, not enforced: there is no clock)
 *     and returns the next canned reply, or -ETIMEDOUT at once;
 *   - "broker down": every call fails with -ECONNREFUSED; deliveries handed out before become
 *     stale (ack/nack -ESTALE) and go back to their queue, as the broker would redeliver them.
 * Successful calls are recorded as text, for tests to compare with the expected list:
 *   "declare_topology networknode hypervisor.hv1"   "delete_queue sf.jobs.x"
 *   "publish sf.jobs networknode {...body...}"      "consume_start sf.jobs.networknode"
 *   "ack <message id>"   "nack <message id> requeue=0"
 *   "request sf.jobs networknode {...}"              "reply <reply_to> {...}"
 * Messages without a message id get "m1", "m2", ... in publish/inject order.
 */
#ifndef SF_MQ_FAKE_H
#define SF_MQ_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "sf/mq.h"

/* Free with sf_mq_free(). */
struct sf_mq *sf_mq_fake_new(void);

/* Recorded calls, oldest first. The strings belong to the fake. */
size_t sf_mq_fake_n_calls(struct sf_mq *mq);
const char *sf_mq_fake_call(struct sf_mq *mq, size_t i);
void sf_mq_fake_clear_calls(struct sf_mq *mq);

/* A message as published (or injected). Absent properties are NULL. */
struct sf_mq_fake_msg {
	char *exchange;
	char *routing_key;
	char *body; /* NUL-terminated */
	size_t len;
	char *content_type;
	char *message_id;
	char *correlation_id;
	char *reply_to;
	unsigned expiration_ms; /* AMQP expiration; 0 for none */
};

/* Messages published successfully (publish, request and reply), oldest first. */
size_t sf_mq_fake_n_published(struct sf_mq *mq);
const struct sf_mq_fake_msg *sf_mq_fake_published(struct sf_mq *mq, size_t i);

/* Put a message straight into a queue, as if it had been published to it. A missing queue is
 * created: a job queue if named sf.jobs.<role>, else a plain one. props may be NULL. */
void sf_mq_fake_inject(struct sf_mq *mq, const char *queue, const char *body,
		       const struct sf_mq_msg_props *props);

/* Messages ready in a queue (not handed out); 0 for a missing queue. And the i-th of them. */
size_t sf_mq_fake_queue_len(struct sf_mq *mq, const char *queue);
const struct sf_mq_fake_msg *sf_mq_fake_queue_msg(struct sf_mq *mq, const char *queue, size_t i);

/* Switch the broker off or on. */
void sf_mq_fake_set_down(struct sf_mq *mq, bool down);

/* Queue a reply for the next sf_mq_request (FIFO). */
void sf_mq_fake_push_reply(struct sf_mq *mq, const char *body);

#endif
