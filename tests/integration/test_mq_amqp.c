// SPDX-License-Identifier: Apache-2.0
/*
 * mq_amqp against a real rabbitmq-server. The server comes from SF_AMQP_URL (`ops/services.sh
 * start rabbitmq`, then `eval $(ops/services.sh env)`); without it the test exits 77 (skipped).
 * Job roles are unique to the run ("itest-<8 hex>-<name>") and their queues are deleted at the
 * end; dead-lettered test messages are taken off sf.jobs.dead. The restart test stops and
 * starts the server with ops/services.sh (SF_SERVICES_SH overrides its path).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>

#include "../fakes/testutil.h"
#include "sf/mq.h"
#include "sf/util.h"

static const char *amqp_url;
static char prefix[32];
static char *roles[16];
static size_t n_roles;
static bool rabbit_stopped; /* by test_restart, which failed before starting it again */

/* Fast reconnects: the restart test should not wait out a 10 s backoff cap. */
static const struct sf_mq_options fast = {.backoff_base_ms = 100, .backoff_cap_ms = 1000};

static struct sf_mq *mq_new(const struct sf_mq_options *opt)
{
	struct sf_mq *mq = NULL;

	assert_int_equal(sf_mq_amqp_new(amqp_url, opt, &mq), 0);
	assert_int_equal(sf_mq_wait_ready(mq, 10000), 0);
	return mq;
}

/* A role unique to this run, remembered so that its queue is deleted at the end. */
static const char *role(const char *name)
{
	assert_true(n_roles < SF_ARRAY_SIZE(roles));
	roles[n_roles] = sf_xasprintf("%s-%s", prefix, name);
	return roles[n_roles++];
}

static char *queue_of(const char *r)
{
	return sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", r);
}

static struct sf_mq *declared(const char *r, const struct sf_mq_options *opt)
{
	struct sf_mq *mq = mq_new(opt);

	assert_int_equal(sf_mq_declare_topology(mq, &r, 1), 0);
	return mq;
}

static struct sf_mq *consumer(const char *r, const struct sf_mq_options *opt)
{
	struct sf_mq *mq = mq_new(opt);
	char *q = queue_of(r);

	assert_int_equal(sf_mq_consume_start(mq, q), 0);
	free(q);
	return mq;
}

static void publish_id(struct sf_mq *mq, const char *r, const char *body, char id[SF_UUID_STRLEN])
{
	struct sf_mq_msg_props props = {.message_id = id};

	sf_uuid_generate(id);
	assert_int_equal(sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, r, body, strlen(body), &props), 0);
}

/* Declare a job queue the way a different client might, straight through librabbitmq, and
 * return the broker's answer: 0, or the channel close code (406 when the arguments differ). */
static int raw_declare(const char *queue, const char *type, int limit, const char *dlx)
{
	struct amqp_connection_info info;
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	char *url = sf_xstrdup(amqp_url);
	amqp_table_entry_t e[3] = {
		{.key = amqp_cstring_bytes("x-queue-type"),
		 .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(type)}},
		{.key = amqp_cstring_bytes("x-delivery-limit"),
		 .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = limit}},
		{.key = amqp_cstring_bytes("x-dead-letter-exchange"),
		 .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(dlx)}},
	};
	amqp_table_t args = {.num_entries = 3, .entries = e};
	amqp_rpc_reply_t rep;
	int code = 0;

	assert_int_equal(amqp_parse_url(url, &info), AMQP_STATUS_OK);
	assert_int_equal(amqp_socket_open(s, info.host, info.port), AMQP_STATUS_OK);
	rep = amqp_login(c, "/", 0, AMQP_DEFAULT_FRAME_SIZE, 0, AMQP_SASL_METHOD_PLAIN, info.user,
			 info.password);
	assert_int_equal(rep.reply_type, AMQP_RESPONSE_NORMAL);
	amqp_channel_open(c, 1);
	assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
	amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
	rep = amqp_get_rpc_reply(c);
	if (rep.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	    rep.reply.id == AMQP_CHANNEL_CLOSE_METHOD)
		code = ((amqp_channel_close_t *)rep.reply.decoded)->reply_code;
	else
		assert_int_equal(rep.reply_type, AMQP_RESPONSE_NORMAL);
	(void)amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
	free(url);
	return code;
}

/* 1. Topology: declaring twice is fine; job queues carry exactly the specified arguments. */
static void test_topology(void **state)
{
	const char *r[2] = {role("topo"), NULL};
	char *hv = sf_xasprintf("hypervisor.%s", prefix), *q;
	struct sf_mq_options limit7 = {.delivery_limit = 7};
	struct sf_mq *mq, *other;

	(void)state;
	roles[n_roles++] = hv;
	r[1] = hv;
	mq = mq_new(NULL);
	assert_int_equal(sf_mq_declare_topology(mq, r, 2), 0);
	assert_int_equal(sf_mq_declare_topology(mq, r, 2), 0);

	/* Same arguments from another client: equivalent. A quorum queue with delivery limit
	 * 5 and our dead-letter exchange, nothing else. */
	q = queue_of(r[0]);
	assert_int_equal(raw_declare(q, "quorum", 5, SF_MQ_DLX_EXCHANGE), 0);
	assert_int_equal(raw_declare(q, "quorum", 6, SF_MQ_DLX_EXCHANGE), 406);
	assert_int_equal(raw_declare(q, "quorum", 5, "elsewhere"), 406);
	assert_int_equal(raw_declare(q, "classic", 5, SF_MQ_DLX_EXCHANGE), 406);

	/* A conflicting declaration through our API is -EINVAL, and the client recovers. The
	 * publish is mandatory, so its success also shows the queue is bound to its key. */
	other = mq_new(&limit7);
	assert_int_equal(sf_mq_declare_topology(other, r, 1), -EINVAL);
	assert_int_equal(sf_mq_publish(other, SF_MQ_JOBS_EXCHANGE, r[0], "{}", 2, NULL), 0);
	assert_int_equal(sf_mq_publish(other, SF_MQ_JOBS_EXCHANGE, hv, "{}", 2, NULL), 0);
	sf_mq_free(other);
	free(q);
	sf_mq_free(mq);
}

/* 2. A confirmed job is consumed, acked, and not delivered again. */
static void test_publish_consume_ack(void **state)
{
	const char *r = role("job");
	const char *body = "{\"job\": \"1\"}";
	struct sf_mq *pub = declared(r, NULL), *con;
	struct sf_mq_delivery *d;
	char id[SF_UUID_STRLEN];
	char *nobody = sf_xasprintf("%s-nobody", prefix);

	(void)state;
	publish_id(pub, r, body, id);
	/* mandatory: nothing bound to this key */
	assert_int_equal(sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, nobody, "{}", 2, NULL), -ENOENT);
	free(nobody);

	con = consumer(r, NULL);
	assert_int_equal(sf_mq_next(con, 5000, &d), 0);
	assert_string_equal(d->body, body);
	assert_int_equal(d->len, strlen(body));
	assert_string_equal(d->exchange, SF_MQ_JOBS_EXCHANGE);
	assert_string_equal(d->routing_key, r);
	assert_string_equal(d->message_id, id);
	assert_string_equal(d->content_type, "application/json");
	assert_null(d->reply_to);
	assert_false(d->redelivered);
	assert_int_equal(d->delivery_count, 0);
	assert_int_equal(sf_mq_ack(con, d), 0);
	sf_mq_delivery_free(d);
	assert_int_equal(sf_mq_next(con, 500, &d), -ETIMEDOUT);
	sf_mq_free(con);

	/* A new consumer (new channel) gets nothing: the ack reached the broker. */
	con = consumer(r, NULL);
	assert_int_equal(sf_mq_next(con, 1500, &d), -ETIMEDOUT);
	sf_mq_free(con);

	/* Consuming a queue that does not exist fails cleanly. */
	con = mq_new(NULL);
	assert_int_equal(sf_mq_consume_start(con, "sf.jobs.itest-no-such-queue"), -ENOENT);
	sf_mq_free(con);
	sf_mq_free(pub);
}

/* Work longer than two heartbeat intervals between next() and the ack: without keepalive calls
 * the broker drops the connection and the ack is stale (the job would run again); with them
 * the ack counts. Heartbeats of 1 s keep it short. */
static void work_for(struct sf_mq *mq, unsigned ms, bool keepalive)
{
	uint64_t end = sf_now_monotonic_ms() + ms;

	while (sf_now_monotonic_ms() < end) {
		if (keepalive)
			assert_int_equal(sf_mq_keepalive(mq), 0);
		sf_sleep_ms(50);
	}
}

static void test_keepalive_long_work(void **state)
{
	const struct sf_mq_options hb1 = {.heartbeat_s = 1};
	const char *r = role("long");
	struct sf_mq *pub = declared(r, NULL), *con;
	struct sf_mq_delivery *d;
	char id[SF_UUID_STRLEN];

	(void)state;
	publish_id(pub, r, "{}", id);
	con = consumer(r, &hb1);
	assert_int_equal(sf_mq_next(con, 5000, &d), 0);
	work_for(con, 5000, false);
	assert_int_equal(sf_mq_ack(con, d), -ESTALE);
	sf_mq_delivery_free(d);

	/* it comes again (the same message), and this time the worker keeps the connection */
	assert_int_equal(sf_mq_next(con, 10000, &d), 0);
	assert_string_equal(d->message_id, id);
	assert_true(d->redelivered);
	work_for(con, 5000, true);
	assert_int_equal(sf_mq_ack(con, d), 0);
	sf_mq_delivery_free(d);
	assert_int_equal(sf_mq_next(con, 1500, &d), -ETIMEDOUT);
	sf_mq_free(con);
	sf_mq_free(pub);
}

/* ops/services.sh VERB rabbitmq, for the server of SF_AMQP_URL. */
static int services(const char *verb)
{
	return sf_test_services(verb, "rabbitmq", "SF_AMQP_PORT", amqp_url);
}

/* 3. Messages confirmed before a broker restart are delivered after it; the clients reconnect
 * by themselves; a delivery from before the restart can no longer be acked (-ESTALE) and comes
 * again. While the broker is down, publishing fails quickly instead of hanging. */
static void test_restart(void **state)
{
	const char *r = role("restart");
	struct sf_mq_options one = fast;
	struct sf_mq *pub, *con;
	struct sf_mq_delivery *d1, *d;
	char id1[SF_UUID_STRLEN], id2[SF_UUID_STRLEN];
	bool got1 = false, got2 = false;
	uint64_t t0, t_stopped, t_up, t_done, t;
	int rc;

	(void)state;
	one.prefetch = 1; /* only the first message is in flight during the restart */
	pub = declared(r, &fast);
	publish_id(pub, r, "{\"n\": 1}", id1);
	publish_id(pub, r, "{\"n\": 2}", id2);
	con = consumer(r, &one);
	assert_int_equal(sf_mq_next(con, 5000, &d1), 0);
	assert_string_equal(d1->message_id, id1);

	t0 = sf_now_monotonic_ms();
	rabbit_stopped = true;
	assert_int_equal(services("stop"), 0);
	t_stopped = sf_now_monotonic_ms();

	t = sf_now_monotonic_ms();
	rc = sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, r, "{}", 2, NULL);
	assert_true(rc < 0);
	print_message("publish while down: %s after %llu ms\n", strerror(-rc),
		      (unsigned long long)(sf_now_monotonic_ms() - t));
	rc = sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, r, "{}", 2, NULL);
	assert_true(rc < 0);
	assert_int_equal(sf_mq_ack(con, d1), -ESTALE);
	assert_true(sf_mq_next(con, 300, &d) < 0);
	assert_true(sf_now_monotonic_ms() - t < 3000);

	assert_int_equal(services("start"), 0);
	rabbit_stopped = false;
	t_up = sf_now_monotonic_ms();

	while (!(got1 && got2) && sf_now_monotonic_ms() - t_up < 60000) {
		if (sf_mq_next(con, 1000, &d) < 0)
			continue;
		if (sf_streq(d->message_id, id1)) {
			assert_true(d->redelivered);
			got1 = true;
		} else if (sf_streq(d->message_id, id2)) {
			got2 = true;
		}
		assert_int_equal(sf_mq_ack(con, d), 0);
		sf_mq_delivery_free(d);
	}
	t_done = sf_now_monotonic_ms();
	assert_true(got1);
	assert_true(got2);
	print_message("restart: stop %llu ms, start %llu ms, redelivered %llu ms after start "
		      "(total %llu ms)\n",
		      (unsigned long long)(t_stopped - t0), (unsigned long long)(t_up - t_stopped),
		      (unsigned long long)(t_done - t_up), (unsigned long long)(t_done - t0));

	/* The publisher reconnected too. */
	assert_int_equal(sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, r, "{}", 2, NULL), 0);
	sf_mq_delivery_free(d1);
	sf_mq_free(con);
	sf_mq_free(pub);
}

/* 4. A malformed job rejected without requeue is dead-lettered to sf.jobs.dead. */
static void test_reject_dead_letters(void **state)
{
	const char *r = role("malformed");
	const char *body = "{not json";
	struct sf_mq *pub = declared(r, NULL), *con = consumer(r, NULL);
	struct sf_mq_delivery *d;
	char id[SF_UUID_STRLEN];

	(void)state;
	publish_id(pub, r, body, id);
	assert_int_equal(sf_mq_next(con, 5000, &d), 0);
	assert_string_equal(d->message_id, id);
	assert_int_equal(sf_mq_nack(con, d, false), 0);
	sf_mq_delivery_free(d);
	assert_int_equal(sf_mq_next(con, 500, &d), -ETIMEDOUT);

	assert_int_equal(sf_test_take_dead(amqp_url, id, 10000, &d), 0);
	assert_string_equal(d->body, body);
	sf_mq_delivery_free(d);
	sf_mq_free(con);
	sf_mq_free(pub);
}

/* 5. A job requeued over and over is dead-lettered by the quorum queue's x-delivery-limit. */
static void test_delivery_limit(void **state)
{
	const char *r = role("poison");
	struct sf_mq *pub = declared(r, NULL), *con = consumer(r, NULL);
	struct sf_mq_delivery *d;
	char id[SF_UUID_STRLEN];
	unsigned n = 0;

	(void)state;
	publish_id(pub, r, "{\"poison\": true}", id);
	while (sf_mq_next(con, 2000, &d) == 0) {
		assert_string_equal(d->message_id, id);
		assert_int_equal(d->delivery_count, n);
		assert_true(d->redelivered == (n > 0));
		assert_int_equal(sf_mq_nack(con, d, true), 0);
		sf_mq_delivery_free(d);
		assert_true(++n <= 10);
	}
	/* Limit 5: the first delivery and five more, then it is dead. */
	assert_int_equal(n, 6);
	assert_int_equal(sf_test_take_dead(amqp_url, id, 10000, &d), 0);
	sf_mq_delivery_free(d);
	sf_mq_free(con);
	sf_mq_free(pub);
}

struct responder {
	const char *role;
	pthread_barrier_t ready;
	int r_next, r_stray, r_reply, r_ack;
	char message_id[64]; /* of the request it answered */
};

static void *respond(void *arg)
{
	struct responder *rs = arg;
	struct sf_mq *mq = NULL;
	struct sf_mq_delivery *d = NULL, stray;
	char *q = queue_of(rs->role), *answer;

	rs->r_next = -EIO;
	if (sf_mq_amqp_new(amqp_url, NULL, &mq) == 0 && sf_mq_consume_start(mq, q) == 0) {
		pthread_barrier_wait(&rs->ready);
		rs->r_next = sf_mq_next(mq, 10000, &d);
	} else {
		pthread_barrier_wait(&rs->ready);
	}
	if (rs->r_next == 0) {
		(void)snprintf(rs->message_id, sizeof(rs->message_id), "%s",
			       d->message_id ? d->message_id : "");
		/* First a reply the requester must ignore: same reply_to, other correlation. */
		stray = *d;
		stray.correlation_id = (char *)"not-yours";
		rs->r_stray = sf_mq_reply(mq, &stray, "stray", 5);
		answer = sf_xasprintf("pong:%s", d->body);
		rs->r_reply = sf_mq_reply(mq, d, answer, strlen(answer));
		rs->r_ack = sf_mq_ack(mq, d);
		free(answer);
	}
	sf_mq_delivery_free(d);
	sf_mq_free(mq);
	free(q);
	return NULL;
}

/* 6. Request/response over direct reply-to, with a responder on another connection, carrying
 * the caller's message id; without a responder the request times out on time and expires in
 * its queue, so a consumer that comes later never sees it. */
static void test_request_reply(void **state)
{
	struct responder rs = {.role = role("rpc")};
	const char *idle = role("rpc-idle");
	const char *both[2] = {rs.role, idle};
	const struct sf_mq_msg_props props = {.message_id = "job-42"};
	char idle_id[SF_UUID_STRLEN];
	const struct sf_mq_msg_props idle_props = {.message_id = idle_id};
	struct sf_mq *mq = mq_new(NULL), *late;
	struct sf_mq_delivery *d = NULL;
	char *body = NULL, *nobody = sf_xasprintf("%s-nobody", prefix);
	size_t len = 0;
	pthread_t th;
	uint64_t t;

	(void)state;
	assert_int_equal(sf_mq_declare_topology(mq, both, 2), 0);
	pthread_barrier_init(&rs.ready, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, respond, &rs), 0);
	pthread_barrier_wait(&rs.ready);

	assert_int_equal(sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, rs.role, "ping", 4, &props, 10000,
				       &body, &len),
			 0);
	assert_string_equal(body, "pong:ping");
	assert_int_equal(len, 9);
	free(body);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&rs.ready);
	assert_int_equal(rs.r_next, 0);
	assert_int_equal(rs.r_stray, 0);
	assert_int_equal(rs.r_reply, 0);
	assert_int_equal(rs.r_ack, 0);
	assert_string_equal(rs.message_id, "job-42");

	/* Queue exists, nobody consumes: times out after the timeout, not much later (a whole
	 * second of slack failed once in about 25 runs on a loaded 2-core machine; the value it
	 * took is printed when it fails). */
	sf_uuid_generate(idle_id);
	t = sf_now_monotonic_ms();
	assert_int_equal(sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, idle, "ping", 4, &idle_props, 1000,
				       &body, &len),
			 -ETIMEDOUT);
	t = sf_now_monotonic_ms() - t;
	if (t < 1000 || t >= 3000)
		fail_msg("a request with a 1000 ms timeout took %llu ms", (unsigned long long)t);
	/* ... and it expired with the timeout: a consumer that starts now does not get it; the
	 * broker dead-letters it. */
	late = consumer(idle, NULL);
	assert_int_equal(sf_mq_next(late, 1000, &d), -ETIMEDOUT);
	sf_mq_free(late);
	assert_int_equal(sf_test_take_dead(amqp_url, idle_id, 5000, &d), 0);
	sf_mq_delivery_free(d);

	/* Nothing bound: unroutable, at once. */
	assert_int_equal(
		sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, nobody, "ping", 4, NULL, 1000, &body, &len),
		-ENOENT);
	free(nobody);
	sf_mq_free(mq);
}

static int group_setup(void **state)
{
	(void)state;
	sf_test_unique(prefix, sizeof(prefix), "itest-", "");
	return 0;
}

static int group_teardown(void **state)
{
	struct sf_mq *mq = NULL;
	int r = 0;

	(void)state;
	if (rabbit_stopped && services("start") < 0)
		r = -1;
	if (sf_mq_amqp_new(amqp_url, NULL, &mq) < 0 || sf_mq_wait_ready(mq, 30000) < 0)
		r = -1;
	for (size_t i = 0; i < n_roles; i++) {
		char *q = queue_of(roles[i]);

		if (r == 0 && sf_mq_delete_queue(mq, q) < 0)
			r = -1;
		free(q);
		free(roles[i]);
	}
	sf_mq_free(mq);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_publish_consume_ack),
		cmocka_unit_test(test_reject_dead_letters),
		cmocka_unit_test(test_delivery_limit),
		cmocka_unit_test(test_request_reply),
		cmocka_unit_test(test_keepalive_long_work),
		cmocka_unit_test(test_restart),
	};

	amqp_url = getenv("SF_AMQP_URL");
	if (!amqp_url || !*amqp_url) {
		fprintf(stderr, "SF_AMQP_URL is not set: skipping\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
