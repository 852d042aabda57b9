// SPDX-License-Identifier: Apache-2.0
/*
 * The class dispatch of struct sf_mq: a handle pairs an implementation's class with its
 * context (mq_amqp.c; tests/fakes/mq_fake.c), and every sf_mq_* call goes through the class.
 */
#include <stdlib.h>

#include "sf/mq.h"
#include "sf/util.h"

struct sf_mq {
	const struct sf_mq_class *cls;
	void *ctx;
};

struct sf_mq *sf_mq_new_with_class(const struct sf_mq_class *cls, void *ctx)
{
	struct sf_mq *mq = sf_xmalloc(sizeof(*mq));

	mq->cls = cls;
	mq->ctx = ctx;
	return mq;
}

void *sf_mq_ctx(const struct sf_mq *mq, const struct sf_mq_class *cls)
{
	return mq && mq->cls == cls ? mq->ctx : NULL;
}

void sf_mq_free(struct sf_mq *mq)
{
	if (!mq)
		return;
	mq->cls->free(mq->ctx);
	free(mq);
}

void sf_mq_delivery_free(struct sf_mq_delivery *d)
{
	if (!d)
		return;
	free(d->body);
	free(d->exchange);
	free(d->routing_key);
	free(d->content_type);
	free(d->message_id);
	free(d->correlation_id);
	free(d->reply_to);
	free(d);
}

int sf_mq_wait_ready(struct sf_mq *mq, int timeout_ms)
{
	return mq->cls->wait_ready(mq->ctx, timeout_ms);
}

int sf_mq_declare_topology(struct sf_mq *mq, const char *const *job_roles, size_t n)
{
	return mq->cls->declare_topology(mq->ctx, job_roles, n);
}

int sf_mq_delete_queue(struct sf_mq *mq, const char *queue)
{
	return mq->cls->delete_queue(mq->ctx, queue);
}

int sf_mq_publish(struct sf_mq *mq, const char *exchange, const char *routing_key, const char *body,
		  size_t len, const struct sf_mq_msg_props *props)
{
	return mq->cls->publish(mq->ctx, exchange, routing_key, body, len, props);
}

int sf_mq_consume_start(struct sf_mq *mq, const char *queue)
{
	return mq->cls->consume_start(mq->ctx, queue);
}

int sf_mq_next(struct sf_mq *mq, int timeout_ms, struct sf_mq_delivery **ret_delivery)
{
	return mq->cls->next(mq->ctx, timeout_ms, ret_delivery);
}

int sf_mq_ack(struct sf_mq *mq, const struct sf_mq_delivery *d)
{
	return mq->cls->ack(mq->ctx, d);
}

int sf_mq_nack(struct sf_mq *mq, const struct sf_mq_delivery *d, bool requeue)
{
	return mq->cls->nack(mq->ctx, d, requeue);
}

int sf_mq_request(struct sf_mq *mq, const char *exchange, const char *routing_key, const char *body,
		  size_t len, const struct sf_mq_msg_props *props, int timeout_ms, char **ret_body,
		  size_t *ret_len)
{
	return mq->cls->request(mq->ctx, exchange, routing_key, body, len, props, timeout_ms,
				ret_body, ret_len);
}

int sf_mq_keepalive(struct sf_mq *mq)
{
	return mq->cls->keepalive ? mq->cls->keepalive(mq->ctx) : 0;
}

int sf_mq_reply(struct sf_mq *mq, const struct sf_mq_delivery *request, const char *body,
		size_t len)
{
	return mq->cls->reply(mq->ctx, request, body, len);
}
