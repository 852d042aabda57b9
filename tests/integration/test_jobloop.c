// SPDX-License-Identifier: Apache-2.0
/*
 * The workers' job loop against a real redis-server and rabbitmq-server (SF_REDIS_URL and
 * SF_AMQP_URL, from `eval "$(ops/services.sh env | sed 's/^/export /')"`); without them the
 * test exits 77 (skipped). Queue roles and Redis keys carry a prefix unique to the run
 * ("itest-<8 hex>"); the queues and keys are deleted at the end, and the dead-lettered test
 * message is taken off sf.jobs.dead.
 *
 * Each test runs wk_loop_run in this thread with a periodic task that stops it once the
 * handler has seen what the test waits for (or at a deadline, which fails the test). The last
 * test runs the whole worker (wk_run) in a thread and stops it as SIGTERM would; the stop flag
 * cannot be cleared, so it must stay last.
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

#include "../fakes/testutil.h"
#include "common/jobloop.h"
#include "common/worker.h"
#include "sf/daemon.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/mq.h"
#include "sf/store.h"

#define NET_UUID "0b7e9c1a-3d5f-4e2a-8c6b-9d0e1f2a3b4c"
#define DEADLINE_MS 20000

static const char *redis_url, *amqp_url;
static char prefix[32];	   /* "itest-1a2b3c4d" */
static char kv_prefix[40]; /* "itest-1a2b3c4d:" */
static char *roles[8];
static size_t n_roles;
static struct sf_envelope_schemas *schemas;
static struct sf_kv *kv;
static struct sf_mq *pub; /* the test's own connection, as the API would publish */

struct t {
	unsigned calls;
	unsigned want_calls; /* stop once the handler has run this often */
	unsigned fail_first; /* fail transiently this many times, then succeed */
	uint64_t started_ms;
	bool timed_out;
};

/* ---- helpers ---- */

static const char *role(const char *name)
{
	assert_true(n_roles < SF_ARRAY_SIZE(roles));
	roles[n_roles] = sf_xasprintf("%s-%s", prefix, name);
	return roles[n_roles++];
}

static struct sf_mq *mq_new(unsigned prefetch)
{
	struct sf_mq_options opt = {
		.prefetch = prefetch, .backoff_base_ms = 100, .backoff_cap_ms = 1000};
	struct sf_mq *mq = NULL;

	assert_int_equal(sf_mq_amqp_new(amqp_url, &opt, &mq), 0);
	assert_int_equal(sf_mq_wait_ready(mq, 10000), 0);
	return mq;
}

/* Publish a network.deploy job to role as the API does; its id goes to id. */
static void publish_job(const char *r, char id[SF_UUID_STRLEN])
{
	struct sf_mq_msg_props props = {0};
	struct sf_diag d = {0};
	struct sf_job *job;
	char *body;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, "itest-req", &job), 0);
	assert_int_equal(sf_job_check(schemas, job, &d), 0);
	body = sf_job_serialize(job);
	props.message_id = job->id;
	assert_int_equal(sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, r, body, strlen(body), &props), 0);
	(void)snprintf(id, SF_UUID_STRLEN, "%s", job->id);
	free(body);
	sf_job_free(job);
}

static int handler(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct t *t = ctx->userdata;

	(void)job;
	(void)ret_reply;
	return t->calls++ < t->fail_first ? -ECONNRESET : 0;
}

static int stop_when_seen(struct wk_ctx *ctx)
{
	struct t *t = ctx->userdata;

	if (t->calls >= t->want_calls)
		ctx->stop = true;
	if (sf_now_monotonic_ms() - t->started_ms > DEADLINE_MS) {
		t->timed_out = true;
		ctx->stop = true;
	}
	return 0;
}

/* Run the loop on role's queue until the handler has run t->want_calls times. */
static void run_loop(const char *r, struct t *t)
{
	const struct wk_periodic stopper = {"stop-when-seen", 20, false, stop_when_seen};
	struct wk_loop_spec spec = {
		.periodic = &stopper,
		.n_periodic = 1,
		.backoff_base_ms = 50,
		.backoff_cap_ms = 200,
	};
	struct wk_ctx ctx = {
		.kv = kv,
		.mq = mq_new(0),
		.schemas = schemas,
		.node = prefix,
		.userdata = t,
	};
	char *queue = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", r);

	spec.queue = queue;
	spec.handlers[SF_JOB_NETWORK_DEPLOY] = handler;
	t->started_ms = sf_now_monotonic_ms();
	assert_int_equal(wk_loop_run(&ctx, &spec), 0);
	assert_false(t->timed_out);
	sf_mq_free(ctx.mq); /* whatever it had not acked goes back to the queue */
	free(queue);
}

/* Nothing left on role's queue: every job was acked, none requeued. */
static void assert_queue_empty(const char *r)
{
	struct sf_mq *mq = mq_new(0);
	struct sf_mq_delivery *d = NULL;
	char *queue = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", r);

	assert_int_equal(sf_mq_consume_start(mq, queue), 0);
	assert_int_equal(sf_mq_next(mq, 1000, &d), -ETIMEDOUT);
	sf_mq_free(mq);
	free(queue);
}

static void assert_status(const char *id, const char *state, int attempts)
{
	json_t *st = NULL;

	assert_int_equal(sf_job_status_get(kv, id, &st), 0);
	assert_string_equal(json_string_value(json_object_get(st, "state")), state);
	assert_int_equal(json_integer_value(json_object_get(st, "attempts")), attempts);
	json_decref(st);
}

/* ---- tests ---- */

/* 1. A job published as the API does is handled once, acked, and recorded "done". */
static void test_job_done(void **state)
{
	const char *r = role("done");
	struct t t = {.want_calls = 1};
	char id[SF_UUID_STRLEN];

	(void)state;
	assert_int_equal(sf_mq_declare_topology(pub, &r, 1), 0);
	publish_job(r, id);
	run_loop(r, &t);
	assert_int_equal(t.calls, 1);
	assert_status(id, "done", 1);
	assert_queue_empty(r);
}

/* 2. A malformed message published straight onto the queue is dead-lettered to sf.jobs.dead,
 * and the loop goes on to handle the job behind it. */
static void test_malformed_dead_lettered(void **state)
{
	const char *r = role("malformed");
	const char *bad = "{\"job\": \"not a job\"";
	struct sf_mq_msg_props props = {0};
	char *queue = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", r);
	struct t t = {.want_calls = 1};
	struct sf_mq_delivery *dead;
	char bad_id[SF_UUID_STRLEN], id[SF_UUID_STRLEN];

	(void)state;
	assert_int_equal(sf_mq_declare_topology(pub, &r, 1), 0);
	sf_uuid_generate(bad_id);
	props.message_id = bad_id;
	assert_int_equal(sf_mq_publish(pub, "", queue, bad, strlen(bad), &props), 0);
	publish_job(r, id);
	run_loop(r, &t);
	assert_int_equal(t.calls, 1);
	assert_status(id, "done", 1);
	assert_int_equal(sf_test_take_dead(amqp_url, bad_id, 10000, &dead), 0);
	sf_mq_delivery_free(dead);
	assert_queue_empty(r);
	free(queue);
}

/* 3. A handler that fails transiently twice is retried (the quorum queue's delivery count
 * gives the attempts) and the job is finally acked. */
static void test_transient_retried(void **state)
{
	const char *r = role("retry");
	struct t t = {.want_calls = 3, .fail_first = 2};
	char id[SF_UUID_STRLEN];

	(void)state;
	assert_int_equal(sf_mq_declare_topology(pub, &r, 1), 0);
	publish_job(r, id);
	run_loop(r, &t);
	assert_int_equal(t.calls, 3);
	assert_status(id, "done", 3);
	assert_queue_empty(r);
}

/* 4. The whole worker: wk_run connects, declares its queue, registers the node (heartbeat),
 * handles a job, and returns 0 when asked to stop. Must run last. */
struct worker_run {
	struct sf_daemon_cfg cfg;
	struct wk_node node;
	int r;
};

static void *worker_thread(void *arg)
{
	struct worker_run *w = arg;

	w->r = wk_run(&w->cfg, &w->node);
	return NULL;
}

static void test_wk_run(void **state)
{
	static struct t t = {.want_calls = 1};
	static struct wk_loop_spec spec;
	struct worker_run w = {.r = -1};
	struct sf_mq_msg_props props = {0};
	char *name = sf_xasprintf("%s-node", prefix), *body;
	uint64_t deadline = sf_now_monotonic_ms() + DEADLINE_MS;
	json_t *node = NULL, *st = NULL;
	struct sf_job *job;
	pthread_t thread;
	int r;

	(void)state;
	spec.handlers[SF_JOB_NETWORK_DEPLOY] = handler;
	w.cfg = (struct sf_daemon_cfg){.redis_url = (char *)redis_url,
				       .redis_prefix = kv_prefix,
				       .amqp_url = (char *)amqp_url};
	w.node = (struct wk_node){.name = name,
				  .role = "hypervisor",
				  .queue_role = role("worker"),
				  .mesh_ip = "198.18.0.99",
				  .heartbeat_s = 1,
				  .loop = &spec,
				  .userdata = &t};
	assert_int_equal(pthread_create(&thread, NULL, worker_thread, &w), 0);

	/* Until the worker has declared its queue, the job is unroutable (-ENOENT). */
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, &job), 0);
	body = sf_job_serialize(job);
	props.message_id = job->id;
	while ((r = sf_mq_publish(pub, SF_MQ_JOBS_EXCHANGE, w.node.queue_role, body, strlen(body),
				  &props)) == -ENOENT &&
	       sf_now_monotonic_ms() < deadline)
		sf_daemon_sleep_ms(100);
	assert_int_equal(r, 0);

	/* "running" may be seen before "done" */
	while (sf_now_monotonic_ms() < deadline) {
		json_decref(st);
		st = NULL;
		if (sf_job_status_get(kv, job->id, &st) == 0 &&
		    sf_streq(json_string_value(json_object_get(st, "state")), "done"))
			break;
		sf_daemon_sleep_ms(50);
	}
	assert_non_null(st);
	assert_string_equal(json_string_value(json_object_get(st, "state")), "done");
	assert_string_equal(json_string_value(json_object_get(st, "node")), name);
	json_decref(st);

	assert_int_equal(sf_node_get(kv, name, &node), 0);
	assert_string_equal(json_string_value(json_object_get(node, "role")), "hypervisor");
	assert_string_equal(json_string_value(json_object_get(node, "mesh_ip")), "198.18.0.99");
	assert_string_equal(json_string_value(json_object_get(node, "state")), "up");
	json_decref(node);

	sf_daemon_request_stop();
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(w.r, 0);
	assert_int_equal(t.calls, 1);
	assert_queue_empty(w.node.queue_role);
	free(body);
	sf_job_free(job);
	free(name);
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	struct sf_kv_options kopt = {.prefix = kv_prefix};
	struct sf_diag d = {0};
	(void)state;
	sf_log_set_level(SF_LOG_WARN);
	sf_test_unique(prefix, sizeof(prefix), "itest-", "");
	(void)snprintf(kv_prefix, sizeof(kv_prefix), "%s:", prefix);
	if (sf_envelope_schemas_load(NULL, &schemas, &d) < 0) {
		(void)fprintf(stderr, "loading schemas: %s\n", d.message);
		return -1;
	}
	if (sf_kv_redis_new(redis_url, &kopt, &kv) < 0 || sf_kv_wait_ready(kv, 10000) < 0)
		return -1;
	if (sf_mq_amqp_new(amqp_url, NULL, &pub) < 0 || sf_mq_wait_ready(pub, 10000) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	int r = 0;

	(void)state;
	for (size_t i = 0; i < n_roles; i++) {
		char *q = sf_xasprintf(SF_MQ_JOBS_QUEUE_PREFIX "%s", roles[i]);

		if (sf_mq_delete_queue(pub, q) < 0)
			r = -1;
		free(q);
		free(roles[i]);
	}
	sf_test_kv_delete_prefix(kv, kv_prefix);
	sf_mq_free(pub);
	sf_kv_free(kv);
	sf_envelope_schemas_free(schemas);
	return r;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_done),
		cmocka_unit_test(test_malformed_dead_lettered),
		cmocka_unit_test(test_transient_retried),
		/* last: it stops the "daemon" */
		cmocka_unit_test(test_wk_run),
	};

	redis_url = getenv("SF_REDIS_URL");
	amqp_url = getenv("SF_AMQP_URL");
	if (!redis_url || !*redis_url || !amqp_url || !*amqp_url) {
		(void)fprintf(stderr, "SF_REDIS_URL or SF_AMQP_URL is not set: skipping\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
