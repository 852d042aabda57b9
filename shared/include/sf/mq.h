/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mq: the message bus (RabbitMQ, ARCHITECTURE.md section 2) behind a small interface.
 *
 * A struct sf_mq pairs a class of function pointers with its context (OVS netdev_class): the
 * real one talks AMQP 0-9-1 through librabbitmq (sf_mq_amqp_new, shared/src/mq_amqp.c); the
 * fake in tests/fakes/mq_fake.c keeps queues in memory for unit tests; shared/src/mq.c
 * dispatches the sf_mq_* calls to the class.
 *
 *   struct sf_mq *mq;
 *   r = sf_mq_amqp_new("amqp://guest:guest@127.0.0.1:5672/", NULL, &mq);
 *   r = sf_mq_declare_topology(mq, (const char *[]){"networknode"}, 1);
 *   r = sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, "networknode", body, len, NULL); // confirmed
 *   r = sf_mq_consume_start(mq, "sf.jobs.networknode");
 *   r = sf_mq_next(mq, 1000, &d);      // -ETIMEDOUT when nothing arrived
 *   ... do the work ...
 *   r = sf_mq_ack(mq, d);              // -ESTALE: the channel died, the broker redelivers
 *   sf_mq_delivery_free(d);
 *
 * Reliability: every publish is persistent, mandatory and waits for the broker's confirm.
 * Consumers ack manually. When the connection or channel fails, the connection is dropped;
 * the next call reconnects (exponential backoff between failed attempts), redeclares the
 * topology declared so far and restarts the consumer. Deliveries received on the old
 * connection are stale: acking them returns -ESTALE and the broker redelivers them.
 * Heartbeats are only serviced inside calls: a job that runs longer than about twice
 * heartbeat_s without calling into its sf_mq loses the connection, and its ack is -ESTALE.
 * Long work calls sf_mq_keepalive() now and then (it costs nothing when called often).
 *
 * Threads: an sf_mq is not thread-safe; use one per thread.
 * Errors: -errno only. -ECONNREFUSED/-ECONNRESET/-ETIMEDOUT... while the broker is down,
 * -ENOENT for an unroutable publish or a missing queue/exchange, -EINVAL for a declaration
 * that conflicts with an existing one (406), -EIO when the broker nacks a publish.
 */
#ifndef SF_MQ_H
#define SF_MQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Topology names (ARCHITECTURE.md section 2). A job queue for role R is "sf.jobs.R", bound to
 * SF_MQ_JOBS_EXCHANGE with routing key R. */
#define SF_MQ_JOBS_EXCHANGE "sf.jobs"
#define SF_MQ_JOBS_QUEUE_PREFIX "sf.jobs."
#define SF_MQ_DLX_EXCHANGE "sf.jobs.dlx"
#define SF_MQ_DEAD_QUEUE "sf.jobs.dead"
#define SF_MQ_EVENTS_EXCHANGE "sf.events"
#define SF_MQ_EVENTS_RECORD_QUEUE "sf.events.record"

struct sf_mq;

/* Options of the AMQP client. Zero fields take the defaults in brackets. */
struct sf_mq_options {
	unsigned heartbeat_s;	     /* AMQP heartbeat [30] */
	unsigned connect_timeout_ms; /* TCP connect + login handshake, each [5000] */
	unsigned rpc_timeout_ms;     /* declare/consume/... round trips [10000] */
	unsigned confirm_timeout_ms; /* wait for a publish confirm [10000] */
	unsigned prefetch;	     /* unacked deliveries per consumer [4] */
	unsigned backoff_base_ms;    /* first delay between failed connects [200] */
	unsigned backoff_cap_ms;     /* largest delay [10000] */
	unsigned delivery_limit;     /* x-delivery-limit of job queues [5] */
};

/* Optional properties of a published message; NULL means all defaults. */
struct sf_mq_msg_props {
	const char *content_type;   /* ["application/json"] */
	const char *message_id;	    /* [a fresh UUID] */
	const char *correlation_id; /* [none] */
	const char *reply_to;	    /* [none] */
};

/* A received message, owned by the caller (sf_mq_delivery_free). Strings are NUL-terminated;
 * absent properties are NULL. */
struct sf_mq_delivery {
	char *body; /* NUL-terminated copy; len excludes the NUL */
	size_t len;
	char *exchange;
	char *routing_key;
	char *content_type;
	char *message_id;
	char *correlation_id;
	char *reply_to;
	uint64_t delivery_tag;
	bool redelivered;
	unsigned delivery_count; /* x-delivery-count header (quorum queues); 0 if absent */
	uint64_t epoch;		 /* private: the connection it came on; stale once that is gone */
};

void sf_mq_delivery_free(struct sf_mq_delivery *d);

/* The class: what an implementation provides. ctx is the implementation's state. */
struct sf_mq_class {
	const char *name;
	void (*free)(void *ctx);
	int (*wait_ready)(void *ctx, int timeout_ms);
	int (*declare_topology)(void *ctx, const char *const *job_roles, size_t n);
	int (*delete_queue)(void *ctx, const char *queue);
	int (*publish)(void *ctx, const char *exchange, const char *routing_key, const char *body,
		       size_t len, const struct sf_mq_msg_props *props);
	int (*consume_start)(void *ctx, const char *queue);
	int (*next)(void *ctx, int timeout_ms, struct sf_mq_delivery **ret);
	int (*ack)(void *ctx, const struct sf_mq_delivery *d);
	int (*nack)(void *ctx, const struct sf_mq_delivery *d, bool requeue);
	int (*request)(void *ctx, const char *exchange, const char *routing_key, const char *body,
		       size_t len, const struct sf_mq_msg_props *props, int timeout_ms,
		       char **ret_body, size_t *ret_len);
	int (*reply)(void *ctx, const struct sf_mq_delivery *request, const char *body, size_t len);
	int (*keepalive)(void *ctx); /* NULL: nothing to keep alive */
};

/* Wrap an implementation. Takes ownership of ctx (sf_mq_free() calls cls->free(ctx)). */
struct sf_mq *sf_mq_new_with_class(const struct sf_mq_class *cls, void *ctx);
/* ctx if mq is of class cls, else NULL. */
void *sf_mq_ctx(const struct sf_mq *mq, const struct sf_mq_class *cls);

/* The real client. url is amqp://user:pass@host:port/vhost ("/" or nothing after the port
 * means the default vhost "/"). opt may be NULL. Does not connect yet: the first call does
 * (or sf_mq_wait_ready). -EINVAL for a bad URL. */
int sf_mq_amqp_new(const char *url, const struct sf_mq_options *opt, struct sf_mq **ret_mq);

/* Close the connection and free; NULL does nothing. */
void sf_mq_free(struct sf_mq *mq);

/* Connect (retrying with backoff) until connected or timeout_ms has passed: 0, or the last
 * connection error. */
int sf_mq_wait_ready(struct sf_mq *mq, int timeout_ms);

/* Declare the shared topology and one job queue per role (e.g. "networknode",
 * "hypervisor.hv1"): exchange sf.jobs (direct); quorum queues sf.jobs.<role> with
 * x-delivery-limit and x-dead-letter-exchange sf.jobs.dlx, bound with key <role>; sf.jobs.dlx
 * (fanout) -> sf.jobs.dead; sf.events (topic) -> sf.events.record ("#"). All durable.
 * Idempotent; remembered and redeclared after a reconnect. */
int sf_mq_declare_topology(struct sf_mq *mq, const char *const *job_roles, size_t n);

/* Delete a queue (and its messages); a missing queue counts as success. Forgets it. */
int sf_mq_delete_queue(struct sf_mq *mq, const char *queue);

/* Publish a persistent, mandatory message and wait for the broker's confirm: 0 once the
 * broker has taken responsibility; -ENOENT unroutable; -EIO nacked; -ETIMEDOUT no confirm. */
int sf_mq_publish(struct sf_mq *mq, const char *exchange, const char *routing_key, const char *body,
		  size_t len, const struct sf_mq_msg_props *props);

/* Consume queue with manual ack and a small prefetch; one queue per sf_mq. */
int sf_mq_consume_start(struct sf_mq *mq, const char *queue);

/* Wait up to timeout_ms for the next delivery of the consumed queue. Reconnects as needed
 * within the timeout. -ETIMEDOUT when nothing arrived, or the connection error if the broker
 * stayed unreachable the whole time. */
int sf_mq_next(struct sf_mq *mq, int timeout_ms, struct sf_mq_delivery **ret_delivery);

/* Acknowledge / reject a delivery. nack with requeue=false dead-letters a job (sf.jobs.dead).
 * -ESTALE when the delivery came on a connection that has since gone away. */
int sf_mq_ack(struct sf_mq *mq, const struct sf_mq_delivery *d);
int sf_mq_nack(struct sf_mq *mq, const struct sf_mq_delivery *d, bool requeue);

/* Request/response over RabbitMQ direct reply-to: publish (confirmed) with a fresh correlation
 * id and wait up to timeout_ms for the reply. props (may be NULL) gives the message id and
 * content type; its correlation_id and reply_to are ignored, the request sets its own. The
 * request expires (AMQP expiration) after timeout_ms, so a worker that comes late does not run
 * a request nobody waits for. *ret_body is NUL-terminated, caller frees.
 * -ETIMEDOUT when no reply came; -ENOENT when the request was unroutable. */
int sf_mq_request(struct sf_mq *mq, const char *exchange, const char *routing_key, const char *body,
		  size_t len, const struct sf_mq_msg_props *props, int timeout_ms, char **ret_body,
		  size_t *ret_len);

/* Answer a request received with sf_mq_next (its reply_to and correlation id). -EINVAL if it
 * has no reply_to. 0 means the broker took the reply; whether the requester still waits is
 * not knowable (a reply to one that has gone is dropped by the broker). */
int sf_mq_reply(struct sf_mq *mq, const struct sf_mq_delivery *request, const char *body,
		size_t len);

/* For long work between sf_mq_next() and the ack: without blocking, send a heartbeat when one
 * is due (at most one a second) and take in what the broker sent (its heartbeats; deliveries
 * wait for sf_mq_next), so the broker keeps the connection and the ack of the delivery being
 * worked on still counts. Never connects. 0, or the error that dropped the connection (then
 * the delivery is stale: its ack will be -ESTALE and the broker redelivers it). */
int sf_mq_keepalive(struct sf_mq *mq);

#endif
