// SPDX-License-Identifier: Apache-2.0
/* The in-memory mq fake behaves like the broker where job loops can tell. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/mq_fake.h"

static const char *const roles[] = {"networknode", "hypervisor.hv1"};

static struct sf_mq *fake_declared(void)
{
	struct sf_mq *mq = sf_mq_fake_new();

	assert_int_equal(sf_mq_declare_topology(mq, roles, 2), 0);
	return mq;
}

static void test_publish_routes_and_records(void **state)
{
	struct sf_mq *mq = fake_declared();
	const struct sf_mq_fake_msg *m;

	(void)state;
	assert_int_equal(sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, "networknode", "{\"a\":1}", 7, NULL), 0);
	assert_int_equal(sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, "hypervisor.hv2", "{}", 2, NULL), -ENOENT);
	assert_int_equal(sf_mq_publish(mq, SF_MQ_EVENTS_EXCHANGE, "network.x.created", "{}", 2, NULL), 0);
	assert_int_equal(sf_mq_publish(mq, "nope", "x", "{}", 2, NULL), -ENOENT);
	assert_int_equal(sf_mq_fake_n_published(mq), 2);
	m = sf_mq_fake_published(mq, 0);
	assert_string_equal(m->exchange, "sf.jobs");
	assert_string_equal(m->routing_key, "networknode");
	assert_string_equal(m->body, "{\"a\":1}");
	assert_string_equal(m->message_id, "m1");
	assert_string_equal(m->content_type, "application/json");
	assert_int_equal(sf_mq_fake_queue_len(mq, "sf.jobs.networknode"), 1);
	assert_int_equal(sf_mq_fake_queue_len(mq, SF_MQ_EVENTS_RECORD_QUEUE), 1);
	assert_int_equal(sf_mq_fake_n_calls(mq), 3);
	assert_string_equal(sf_mq_fake_call(mq, 0), "declare_topology networknode hypervisor.hv1");
	assert_string_equal(sf_mq_fake_call(mq, 1), "publish sf.jobs networknode {\"a\":1}");
	assert_string_equal(sf_mq_fake_call(mq, 2), "publish sf.events network.x.created {}");
	sf_mq_free(mq);
}

static void test_consume_ack_nack_dead(void **state)
{
	struct sf_mq *mq = fake_declared();
	struct sf_mq_msg_props p = {.message_id = "bad"};
	struct sf_mq_delivery *d;

	(void)state;
	assert_int_equal(sf_mq_consume_start(mq, "sf.jobs.nothere"), -ENOENT);
	assert_int_equal(sf_mq_consume_start(mq, "sf.jobs.networknode"), 0);
	assert_int_equal(sf_mq_next(mq, 100, &d), -ETIMEDOUT);
	sf_mq_fake_inject(mq, "sf.jobs.networknode", "{}", NULL);
	sf_mq_fake_inject(mq, "sf.jobs.networknode", "{oops", &p);
	assert_int_equal(sf_mq_next(mq, 100, &d), 0);
	assert_string_equal(d->body, "{}");
	assert_string_equal(d->routing_key, "networknode");
	assert_false(d->redelivered);
	assert_int_equal(sf_mq_ack(mq, d), 0);
	assert_int_equal(sf_mq_ack(mq, d), -EINVAL);
	sf_mq_delivery_free(d);
	assert_int_equal(sf_mq_next(mq, 100, &d), 0);
	assert_string_equal(d->message_id, "bad");
	assert_int_equal(sf_mq_nack(mq, d, false), 0);
	sf_mq_delivery_free(d);
	assert_int_equal(sf_mq_next(mq, 100, &d), -ETIMEDOUT);
	assert_int_equal(sf_mq_fake_queue_len(mq, SF_MQ_DEAD_QUEUE), 1);
	assert_string_equal(sf_mq_fake_queue_msg(mq, SF_MQ_DEAD_QUEUE, 0)->body, "{oops");
	assert_string_equal(sf_mq_fake_call(mq, 2), "ack m1");
	assert_string_equal(sf_mq_fake_call(mq, 3), "nack bad requeue=0");
	sf_mq_free(mq);
}

static void test_delivery_limit(void **state)
{
	struct sf_mq *mq = fake_declared();
	struct sf_mq_delivery *d;
	unsigned n = 0;

	(void)state;
	assert_int_equal(sf_mq_consume_start(mq, "sf.jobs.networknode"), 0);
	sf_mq_fake_inject(mq, "sf.jobs.networknode", "{}", NULL);
	while (sf_mq_next(mq, 0, &d) == 0) {
		assert_int_equal(d->delivery_count, n);
		assert_true(d->redelivered == (n > 0));
		assert_int_equal(sf_mq_nack(mq, d, true), 0);
		sf_mq_delivery_free(d);
		n++;
	}
	assert_int_equal(n, 6);
	assert_int_equal(sf_mq_fake_queue_len(mq, SF_MQ_DEAD_QUEUE), 1);
	sf_mq_free(mq);
}

static void test_down_makes_deliveries_stale(void **state)
{
	struct sf_mq *mq = fake_declared();
	struct sf_mq_delivery *d, *again;

	(void)state;
	assert_int_equal(sf_mq_consume_start(mq, "sf.jobs.hypervisor.hv1"), 0);
	assert_int_equal(sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, "hypervisor.hv1", "{}", 2, NULL), 0);
	assert_int_equal(sf_mq_next(mq, 0, &d), 0);
	sf_mq_fake_set_down(mq, true);
	assert_int_equal(sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, "hypervisor.hv1", "{}", 2, NULL), -ECONNREFUSED);
	assert_int_equal(sf_mq_next(mq, 0, &again), -ECONNREFUSED);
	assert_int_equal(sf_mq_wait_ready(mq, 10), -ECONNREFUSED);
	assert_int_equal(sf_mq_ack(mq, d), -ESTALE);
	sf_mq_fake_set_down(mq, false);
	assert_int_equal(sf_mq_ack(mq, d), -ESTALE);
	assert_int_equal(sf_mq_next(mq, 0, &again), 0);
	assert_string_equal(again->message_id, d->message_id);
	assert_true(again->redelivered);
	assert_int_equal(again->delivery_count, 1);
	assert_int_equal(sf_mq_ack(mq, again), 0);
	sf_mq_delivery_free(d);
	sf_mq_delivery_free(again);
	sf_mq_free(mq);
}

static void test_request_reply(void **state)
{
	struct sf_mq *mq = fake_declared();
	struct sf_mq_delivery *d;
	const struct sf_mq_fake_msg *m;
	char *body;
	size_t len;
	const struct sf_mq_msg_props props = {.message_id = "job-1", .correlation_id = "theirs"};

	(void)state;
	assert_int_equal(sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, "networknode", "ping", 4, NULL, 100, &body, &len), -ETIMEDOUT);
	sf_mq_fake_push_reply(mq, "pong");
	assert_int_equal(sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, "networknode", "ping", 4, &props, 100, &body, &len), 0);
	assert_string_equal(body, "pong");
	assert_int_equal(len, 4);
	free(body);
	assert_int_equal(sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, "nobody", "ping", 4, NULL, 100, &body, &len), -ENOENT);

	/* The message id is the caller's; correlation id and reply_to are the request's own; the
	 * request expires with its timeout. */
	m = sf_mq_fake_published(mq, 1);
	assert_string_equal(m->message_id, "job-1");
	assert_string_not_equal(m->correlation_id, "theirs");
	assert_string_equal(m->reply_to, "amq.rabbitmq.reply-to");
	assert_int_equal(m->expiration_ms, 100);
	assert_string_not_equal(sf_mq_fake_published(mq, 0)->message_id, "job-1");

	/* The responder side: the request sits in the queue with reply_to and correlation id. */
	assert_int_equal(sf_mq_consume_start(mq, "sf.jobs.networknode"), 0);
	assert_int_equal(sf_mq_next(mq, 0, &d), 0);
	assert_string_equal(d->reply_to, "amq.rabbitmq.reply-to");
	assert_non_null(d->correlation_id);
	assert_int_equal(sf_mq_reply(mq, d, "pong", 4), 0);
	m = sf_mq_fake_published(mq, sf_mq_fake_n_published(mq) - 1);
	assert_string_equal(m->exchange, "");
	assert_string_equal(m->routing_key, "amq.rabbitmq.reply-to");
	assert_string_equal(m->correlation_id, d->correlation_id);
	assert_int_equal(sf_mq_ack(mq, d), 0);
	free(d->reply_to);
	d->reply_to = NULL;
	assert_int_equal(sf_mq_reply(mq, d, "pong", 4), -EINVAL);
	sf_mq_delivery_free(d);
	sf_mq_free(mq);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_routes_and_records),
		cmocka_unit_test(test_consume_ack_nack_dead),
		cmocka_unit_test(test_delivery_limit),
		cmocka_unit_test(test_down_makes_deliveries_stale),
		cmocka_unit_test(test_request_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
