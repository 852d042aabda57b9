// SPDX-License-Identifier: Apache-2.0
/* An in-memory sf_mq for unit tests; see mq_fake.h for what it models. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mq_fake.h"
#include "sf/util.h"

#define DELIVERY_LIMIT 5 /* as the real client's default */
#define REPLY_TO "amq.rabbitmq.reply-to"

struct fmsg {
	struct sf_mq_fake_msg m;
	unsigned count; /* times delivered and returned */
	bool redelivered;
};

struct fqueue {
	char *name;
	bool job; /* a job queue: delivery limit and dead-lettering */
	struct fmsg **ready;
	size_t n;
};

struct unacked {
	uint64_t tag;
	struct fqueue *q;
	struct fmsg *msg;
};

struct mq_fake {
	char **calls;
	size_t n_calls;
	struct sf_mq_fake_msg **published;
	size_t n_published;
	struct fqueue **queues;
	size_t n_queues;
	struct unacked *unacked;
	size_t n_unacked;
	char **replies;
	size_t n_replies;
	char *consumed;
	uint64_t next_tag, epoch;
	unsigned next_id;
	bool down;
};

static const struct sf_mq_class fake_class;

static void record(struct mq_fake *f, const char *fmt, ...) SF_PRINTF(2, 3);
static void record(struct mq_fake *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	f->calls = sf_xrealloc(f->calls, (f->n_calls + 1) * sizeof(*f->calls));
	f->calls[f->n_calls++] = sf_xvasprintf(fmt, ap);
	va_end(ap);
}

static char *dup_or_null(const char *s)
{
	return s ? sf_xstrdup(s) : NULL;
}

static void msg_fields_free(struct sf_mq_fake_msg *m)
{
	free(m->exchange);
	free(m->routing_key);
	free(m->body);
	free(m->content_type);
	free(m->message_id);
	free(m->correlation_id);
	free(m->reply_to);
}

static void fmsg_free(struct fmsg *fm)
{
	if (!fm)
		return;
	msg_fields_free(&fm->m);
	free(fm);
}

static void msg_fields_copy(struct sf_mq_fake_msg *dst, const struct sf_mq_fake_msg *src)
{
	dst->exchange = sf_xstrdup(src->exchange);
	dst->routing_key = sf_xstrdup(src->routing_key);
	dst->body = sf_xstrndup(src->body, src->len);
	dst->len = src->len;
	dst->content_type = dup_or_null(src->content_type);
	dst->message_id = dup_or_null(src->message_id);
	dst->correlation_id = dup_or_null(src->correlation_id);
	dst->reply_to = dup_or_null(src->reply_to);
	dst->expiration_ms = src->expiration_ms;
}

static struct fmsg *fmsg_new(struct mq_fake *f, const char *exchange, const char *rk,
			     const char *body, size_t len, const struct sf_mq_msg_props *p)
{
	struct fmsg *fm = sf_xcalloc(1, sizeof(*fm));

	f->next_id++;
	fm->m.exchange = sf_xstrdup(exchange);
	fm->m.routing_key = sf_xstrdup(rk);
	fm->m.body = sf_xstrndup(body, len);
	fm->m.len = len;
	fm->m.content_type =
		sf_xstrdup(p && p->content_type ? p->content_type : "application/json");
	fm->m.message_id =
		p && p->message_id ? sf_xstrdup(p->message_id) : sf_xasprintf("m%u", f->next_id);
	fm->m.correlation_id = dup_or_null(p ? p->correlation_id : NULL);
	fm->m.reply_to = dup_or_null(p ? p->reply_to : NULL);
	return fm;
}

static struct fqueue *queue_find(struct mq_fake *f, const char *name)
{
	for (size_t i = 0; i < f->n_queues; i++)
		if (strcmp(f->queues[i]->name, name) == 0)
			return f->queues[i];
	return NULL;
}

static struct fqueue *queue_get(struct mq_fake *f, const char *name, bool job)
{
	struct fqueue *q = queue_find(f, name);

	if (q)
		return q;
	q = sf_xcalloc(1, sizeof(*q));
	q->name = sf_xstrdup(name);
	q->job = job;
	f->queues = sf_xrealloc(f->queues, (f->n_queues + 1) * sizeof(*f->queues));
	f->queues[f->n_queues++] = q;
	return q;
}

static void queue_push(struct fqueue *q, struct fmsg *fm, bool front)
{
	q->ready = sf_xrealloc(q->ready, (q->n + 1) * sizeof(*q->ready));
	if (front) {
		memmove(q->ready + 1, q->ready, q->n * sizeof(*q->ready));
		q->ready[0] = fm;
	} else {
		q->ready[q->n] = fm;
	}
	q->n++;
}

static void queue_free(struct fqueue *q)
{
	for (size_t i = 0; i < q->n; i++)
		fmsg_free(q->ready[i]);
	free(q->ready);
	free(q->name);
	free(q);
}

/* To sf.jobs.dead through the dead-letter exchange; dropped if that queue does not exist. */
static void dead_letter(struct mq_fake *f, struct fmsg *fm)
{
	struct fqueue *dead = queue_find(f, SF_MQ_DEAD_QUEUE);

	if (!dead) {
		fmsg_free(fm);
		return;
	}
	fm->count = 0;
	fm->redelivered = false;
	queue_push(dead, fm, false);
}

/* A message goes back to its queue: redelivered, or dead when over the delivery limit. */
static void requeue(struct mq_fake *f, struct fqueue *q, struct fmsg *fm)
{
	fm->count++;
	fm->redelivered = true;
	if (q->job && fm->count > DELIVERY_LIMIT)
		dead_letter(f, fm);
	else
		queue_push(q, fm, true);
}

static struct fqueue *route(struct mq_fake *f, const char *exchange, const char *rk)
{
	struct fqueue *q = NULL;
	char *name;

	if (strcmp(exchange, SF_MQ_JOBS_EXCHANGE) == 0) {
		name = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", rk);
		q = queue_find(f, name);
		free(name);
		if (q && !q->job)
			q = NULL; /* not bound to sf.jobs */
	} else if (strcmp(exchange, SF_MQ_EVENTS_EXCHANGE) == 0) {
		q = queue_find(f, SF_MQ_EVENTS_RECORD_QUEUE);
	} else if (!*exchange) {
		q = queue_find(f, rk);
	}
	return q;
}

static void publish_record(struct mq_fake *f, const struct fmsg *fm)
{
	struct sf_mq_fake_msg *copy = sf_xcalloc(1, sizeof(*copy));

	msg_fields_copy(copy, &fm->m);
	f->published = sf_xrealloc(f->published, (f->n_published + 1) * sizeof(*f->published));
	f->published[f->n_published++] = copy;
}

static int do_publish(struct mq_fake *f, const char *exchange, const char *rk, const char *body,
		      size_t len, const struct sf_mq_msg_props *props, unsigned expiration_ms)
{
	struct fqueue *q;
	struct fmsg *fm;

	if (f->down)
		return -ECONNREFUSED;
	q = route(f, exchange, rk);
	if (!q)
		return -ENOENT;
	fm = fmsg_new(f, exchange, rk, body, len, props);
	fm->m.expiration_ms = expiration_ms;
	publish_record(f, fm);
	queue_push(q, fm, false);
	return 0;
}

/* ---- the class ---------------------------------------------------------------------------- */

static int fake_wait_ready(void *ctx, int timeout_ms)
{
	struct mq_fake *f = ctx;

	(void)timeout_ms;
	return f->down ? -ECONNREFUSED : 0;
}

static int fake_declare_topology(void *ctx, const char *const *roles, size_t n)
{
	struct mq_fake *f = ctx;
	char *text = sf_xstrdup("declare_topology"), *t;

	if (f->down) {
		free(text);
		return -ECONNREFUSED;
	}
	(void)queue_get(f, SF_MQ_DEAD_QUEUE, false);
	(void)queue_get(f, SF_MQ_EVENTS_RECORD_QUEUE, false);
	for (size_t i = 0; i < n; i++) {
		char *name = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", roles[i]);

		queue_get(f, name, true)->job = true;
		free(name);
		t = sf_xasprintf("%s %s", text, roles[i]);
		free(text);
		text = t;
	}
	record(f, "%s", text);
	free(text);
	return 0;
}

static int fake_delete_queue(void *ctx, const char *queue)
{
	struct mq_fake *f = ctx;

	if (f->down)
		return -ECONNREFUSED;
	for (size_t i = 0; i < f->n_queues; i++) {
		struct fqueue *q = f->queues[i];

		if (strcmp(q->name, queue) != 0)
			continue;
		/* Unacked messages of the queue go with it. */
		for (size_t j = 0; j < f->n_unacked;) {
			if (f->unacked[j].q == q) {
				fmsg_free(f->unacked[j].msg);
				f->unacked[j] = f->unacked[--f->n_unacked];
			} else {
				j++;
			}
		}
		queue_free(q);
		f->queues[i] = f->queues[--f->n_queues];
		break;
	}
	if (sf_streq(f->consumed, queue)) {
		free(f->consumed);
		f->consumed = NULL;
	}
	record(f, "delete_queue %s", queue);
	return 0;
}

static int fake_publish(void *ctx, const char *exchange, const char *routing_key, const char *body,
			size_t len, const struct sf_mq_msg_props *props)
{
	struct mq_fake *f = ctx;
	int r = do_publish(f, exchange, routing_key, body, len, props, 0);

	if (r == 0)
		record(f, "publish %s %s %.*s", exchange, routing_key, (int)len, body);
	return r;
}

static int fake_consume_start(void *ctx, const char *queue)
{
	struct mq_fake *f = ctx;

	if (f->down)
		return -ECONNREFUSED;
	if (f->consumed)
		return sf_streq(f->consumed, queue) ? 0 : -EBUSY;
	if (!queue_find(f, queue))
		return -ENOENT;
	f->consumed = sf_xstrdup(queue);
	record(f, "consume_start %s", queue);
	return 0;
}

static int fake_next(void *ctx, int timeout_ms, struct sf_mq_delivery **ret)
{
	struct mq_fake *f = ctx;
	struct sf_mq_delivery *d;
	struct fqueue *q;
	struct fmsg *fm;

	(void)timeout_ms;
	if (!f->consumed)
		return -EINVAL;
	if (f->down)
		return -ECONNREFUSED;
	q = queue_find(f, f->consumed);
	if (!q || q->n == 0)
		return -ETIMEDOUT;
	fm = q->ready[0];
	memmove(q->ready, q->ready + 1, (q->n - 1) * sizeof(*q->ready));
	q->n--;

	f->unacked = sf_xrealloc(f->unacked, (f->n_unacked + 1) * sizeof(*f->unacked));
	f->unacked[f->n_unacked++] = (struct unacked){.tag = ++f->next_tag, .q = q, .msg = fm};

	d = sf_xcalloc(1, sizeof(*d));
	d->body = sf_xstrndup(fm->m.body, fm->m.len);
	d->len = fm->m.len;
	d->exchange = sf_xstrdup(fm->m.exchange);
	d->routing_key = sf_xstrdup(fm->m.routing_key);
	d->content_type = dup_or_null(fm->m.content_type);
	d->message_id = dup_or_null(fm->m.message_id);
	d->correlation_id = dup_or_null(fm->m.correlation_id);
	d->reply_to = dup_or_null(fm->m.reply_to);
	d->delivery_tag = f->next_tag;
	d->redelivered = fm->redelivered;
	d->delivery_count = q->job ? fm->count : 0;
	d->epoch = f->epoch;
	*ret = d;
	return 0;
}

static int settle(struct mq_fake *f, const struct sf_mq_delivery *d, bool ack, bool requeue_it)
{
	struct unacked u;
	size_t i;

	if (f->down || d->epoch != f->epoch)
		return -ESTALE;
	for (i = 0; i < f->n_unacked; i++)
		if (f->unacked[i].tag == d->delivery_tag)
			break;
	if (i == f->n_unacked)
		return -EINVAL; /* acked twice: the broker would close the channel (406) */
	u = f->unacked[i];
	memmove(f->unacked + i, f->unacked + i + 1, (f->n_unacked - i - 1) * sizeof(*f->unacked));
	f->n_unacked--;
	if (ack) {
		record(f, "ack %s", u.msg->m.message_id);
		fmsg_free(u.msg);
	} else {
		record(f, "nack %s requeue=%d", u.msg->m.message_id, requeue_it);
		if (requeue_it)
			requeue(f, u.q, u.msg);
		else if (u.q->job)
			dead_letter(f, u.msg);
		else
			fmsg_free(u.msg);
	}
	return 0;
}

static int fake_ack(void *ctx, const struct sf_mq_delivery *d)
{
	return settle(ctx, d, true, false);
}

static int fake_nack(void *ctx, const struct sf_mq_delivery *d, bool requeue_it)
{
	return settle(ctx, d, false, requeue_it);
}

static int fake_request(void *ctx, const char *exchange, const char *routing_key, const char *body,
			size_t len, const struct sf_mq_msg_props *p, int timeout_ms, char **ret_body,
			size_t *ret_len)
{
	struct mq_fake *f = ctx;
	char *corr = sf_xasprintf("c%u", f->next_id + 1);
	struct sf_mq_msg_props props = p ? *p : (struct sf_mq_msg_props){0};
	char *reply;
	int r;

	props.correlation_id = corr;
	props.reply_to = REPLY_TO;
	r = do_publish(f, exchange, routing_key, body, len, &props,
		       timeout_ms > 0 ? (unsigned)timeout_ms : 0);
	free(corr);
	if (r < 0)
		return r;
	record(f, "request %s %s %.*s", exchange, routing_key, (int)len, body);
	if (f->n_replies == 0)
		return -ETIMEDOUT;
	reply = f->replies[0];
	memmove(f->replies, f->replies + 1, (f->n_replies - 1) * sizeof(*f->replies));
	f->n_replies--;
	*ret_len = strlen(reply);
	*ret_body = reply;
	return 0;
}

static int fake_reply(void *ctx, const struct sf_mq_delivery *req, const char *body, size_t len)
{
	struct mq_fake *f = ctx;
	struct sf_mq_msg_props props = {.correlation_id = req->correlation_id};
	struct fmsg *fm;

	if (!req->reply_to)
		return -EINVAL;
	if (f->down)
		return -ECONNREFUSED;
	fm = fmsg_new(f, "", req->reply_to, body, len, &props);
	publish_record(f, fm);
	fmsg_free(fm);
	record(f, "reply %s %.*s", req->reply_to, (int)len, body);
	return 0;
}

static void fake_free(void *ctx)
{
	struct mq_fake *f = ctx;

	for (size_t i = 0; i < f->n_calls; i++)
		free(f->calls[i]);
	free(f->calls);
	for (size_t i = 0; i < f->n_published; i++) {
		msg_fields_free(f->published[i]);
		free(f->published[i]);
	}
	free(f->published);
	for (size_t i = 0; i < f->n_unacked; i++)
		fmsg_free(f->unacked[i].msg);
	free(f->unacked);
	for (size_t i = 0; i < f->n_queues; i++)
		queue_free(f->queues[i]);
	free(f->queues);
	for (size_t i = 0; i < f->n_replies; i++)
		free(f->replies[i]);
	free(f->replies);
	free(f->consumed);
	free(f);
}

static const struct sf_mq_class fake_class = {
	.name = "fake",
	.free = fake_free,
	.wait_ready = fake_wait_ready,
	.declare_topology = fake_declare_topology,
	.delete_queue = fake_delete_queue,
	.publish = fake_publish,
	.consume_start = fake_consume_start,
	.next = fake_next,
	.ack = fake_ack,
	.nack = fake_nack,
	.request = fake_request,
	.reply = fake_reply,
};

/* ---- test controls ------------------------------------------------------------------------ */

struct sf_mq *sf_mq_fake_new(void)
{
	struct mq_fake *f = sf_xcalloc(1, sizeof(*f));

	f->epoch = 1;
	return sf_mq_new_with_class(&fake_class, f);
}

static struct mq_fake *fake_of(struct sf_mq *mq)
{
	struct mq_fake *f = sf_mq_ctx(mq, &fake_class);

	if (!f)
		abort(); /* not a fake: a bug in the test */
	return f;
}

size_t sf_mq_fake_n_calls(struct sf_mq *mq)
{
	return fake_of(mq)->n_calls;
}

const char *sf_mq_fake_call(struct sf_mq *mq, size_t i)
{
	struct mq_fake *f = fake_of(mq);

	return i < f->n_calls ? f->calls[i] : NULL;
}

void sf_mq_fake_clear_calls(struct sf_mq *mq)
{
	struct mq_fake *f = fake_of(mq);

	for (size_t i = 0; i < f->n_calls; i++)
		free(f->calls[i]);
	f->n_calls = 0;
}

size_t sf_mq_fake_n_published(struct sf_mq *mq)
{
	return fake_of(mq)->n_published;
}

const struct sf_mq_fake_msg *sf_mq_fake_published(struct sf_mq *mq, size_t i)
{
	struct mq_fake *f = fake_of(mq);

	return i < f->n_published ? f->published[i] : NULL;
}

void sf_mq_fake_inject(struct sf_mq *mq, const char *queue, const char *body,
		       const struct sf_mq_msg_props *props)
{
	struct mq_fake *f = fake_of(mq);
	bool job = sf_str_startswith(queue, SF_MQ_JOBS_QUEUE_PREFIX) &&
		   strcmp(queue, SF_MQ_DEAD_QUEUE) != 0;
	struct fqueue *q = queue_get(f, queue, job);
	const char *exchange = job ? SF_MQ_JOBS_EXCHANGE : "";
	const char *rk = job ? queue + strlen(SF_MQ_JOBS_QUEUE_PREFIX) : queue;

	queue_push(q, fmsg_new(f, exchange, rk, body, strlen(body), props), false);
}

size_t sf_mq_fake_queue_len(struct sf_mq *mq, const char *queue)
{
	struct fqueue *q = queue_find(fake_of(mq), queue);

	return q ? q->n : 0;
}

const struct sf_mq_fake_msg *sf_mq_fake_queue_msg(struct sf_mq *mq, const char *queue, size_t i)
{
	struct fqueue *q = queue_find(fake_of(mq), queue);

	return q && i < q->n ? &q->ready[i]->m : NULL;
}

void sf_mq_fake_set_down(struct sf_mq *mq, bool down)
{
	struct mq_fake *f = fake_of(mq);

	if (down && !f->down) {
		/* The connection dies: what was handed out goes back, in order, redelivered. */
		for (size_t i = f->n_unacked; i-- > 0;)
			requeue(f, f->unacked[i].q, f->unacked[i].msg);
		f->n_unacked = 0;
		f->epoch++;
	}
	f->down = down;
}

void sf_mq_fake_push_reply(struct sf_mq *mq, const char *body)
{
	struct mq_fake *f = fake_of(mq);

	f->replies = sf_xrealloc(f->replies, (f->n_replies + 1) * sizeof(*f->replies));
	f->replies[f->n_replies++] = sf_xstrdup(body);
}
