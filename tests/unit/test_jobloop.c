// SPDX-License-Identifier: Apache-2.0
/*
 * The workers' job loop (workers/common/jobloop.c) against the kv and mq fakes: dispatch,
 * ack/nack rules, status records, error events, replies to request jobs, periodic tasks,
 * backing off while Redis or RabbitMQ is down, and stopping.
 *
 * The fake's sf_mq_next returns -ETIMEDOUT at once when its queue is empty, so each test adds
 * a periodic task that stops the loop once the job queue is empty (or after a deadline, which
 * fails the test instead of hanging it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fakes/kv_fake.h"
#include "../fakes/mq_fake.h"
#include "common/jobloop.h"
#include "sf/daemon.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"

#define NODE "nn-test"
#define QUEUE "sf.jobs.networknode"
#define NET_UUID "5a3c1f9e-0d2b-4c6e-9f8a-1b2c3d4e5f60"
#define DEADLINE_MS 5000

static struct sf_envelope_schemas *schemas;

/* An sf_mq that passes everything on to the fake and counts attempts to start consuming and
 * to receive. Receives that found the queue empty are not counted: the fake returns those at
 * once, where the broker would wait, so the loop turns fast while it has nothing to do. */
struct counting_mq {
	struct sf_mq *inner;
	unsigned consume_calls, next_calls;
};

struct t {
	struct sf_kv *kv;
	struct sf_mq *fake;	/* the fake broker, for inspection */
	struct counting_mq *cm; /* owned by ctx.mq */
	struct wk_ctx ctx;
	struct wk_loop_spec spec;
	struct wk_periodic tasks[4];
	uint64_t started_ms;
	bool timed_out;

	/* handler script: results[i] for the i-th call, 0 after the list */
	int results[8];
	size_t n_results;
	const char *diag_message; /* set into ctx->diag when a call fails */
	bool ping_redis;	  /* fail with sf_kv_ping's error */
	bool broker_down_once;	  /* the first call switches the broker off */
	bool stop_after_first;
	unsigned calls;
	uint64_t first_call_ms;
	char seen_job[64], seen_request[130];
	bool ctx_job_matched;

	/* periodic tasks */
	unsigned a_runs, b_runs, c_runs;
	uint64_t a_at[8], b_at[8];
	uint64_t fix_at_ms; /* the "fix" task brings Redis or the broker back after this long */
	unsigned slices, calls_at_slice[8]; /* the sliced task: jobs handled before each slice */
};

/* ---- the counting mq ---- */

static void cm_free(void *ctx)
{
	struct counting_mq *c = ctx;

	sf_mq_free(c->inner);
	free(c);
}

static int cm_wait_ready(void *ctx, int timeout_ms)
{
	return sf_mq_wait_ready(((struct counting_mq *)ctx)->inner, timeout_ms);
}

static int cm_declare(void *ctx, const char *const *roles, size_t n)
{
	return sf_mq_declare_topology(((struct counting_mq *)ctx)->inner, roles, n);
}

static int cm_delete_queue(void *ctx, const char *queue)
{
	return sf_mq_delete_queue(((struct counting_mq *)ctx)->inner, queue);
}

static int cm_publish(void *ctx, const char *ex, const char *key, const char *body, size_t len,
		      const struct sf_mq_msg_props *props)
{
	return sf_mq_publish(((struct counting_mq *)ctx)->inner, ex, key, body, len, props);
}

static int cm_consume_start(void *ctx, const char *queue)
{
	struct counting_mq *c = ctx;

	c->consume_calls++;
	return sf_mq_consume_start(c->inner, queue);
}

static int cm_next(void *ctx, int timeout_ms, struct sf_mq_delivery **ret)
{
	struct counting_mq *c = ctx;
	int r = sf_mq_next(c->inner, timeout_ms, ret);

	c->next_calls += r != -ETIMEDOUT;
	return r;
}

static int cm_ack(void *ctx, const struct sf_mq_delivery *d)
{
	return sf_mq_ack(((struct counting_mq *)ctx)->inner, d);
}

static int cm_nack(void *ctx, const struct sf_mq_delivery *d, bool requeue)
{
	return sf_mq_nack(((struct counting_mq *)ctx)->inner, d, requeue);
}

static int cm_request(void *ctx, const char *ex, const char *key, const char *body, size_t len,
		      const struct sf_mq_msg_props *props, int timeout_ms, char **ret_body,
		      size_t *ret_len)
{
	return sf_mq_request(((struct counting_mq *)ctx)->inner, ex, key, body, len, props,
			     timeout_ms, ret_body, ret_len);
}

static int cm_reply(void *ctx, const struct sf_mq_delivery *req, const char *body, size_t len)
{
	return sf_mq_reply(((struct counting_mq *)ctx)->inner, req, body, len);
}

static const struct sf_mq_class counting_class = {
	.name = "counting",
	.free = cm_free,
	.wait_ready = cm_wait_ready,
	.declare_topology = cm_declare,
	.delete_queue = cm_delete_queue,
	.publish = cm_publish,
	.consume_start = cm_consume_start,
	.next = cm_next,
	.ack = cm_ack,
	.nack = cm_nack,
	.request = cm_request,
	.reply = cm_reply,
};

/* ---- handlers and periodic tasks ---- */

static int handler(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct t *t = ctx->userdata;
	int r = t->calls < t->n_results ? t->results[t->calls] : 0;

	if (t->calls++ == 0)
		t->first_call_ms = sf_now_monotonic_ms();
	t->ctx_job_matched = ctx->job == job;
	(void)snprintf(t->seen_job, sizeof(t->seen_job), "%s",
		       sf_log_job_id() ? sf_log_job_id() : "");
	(void)snprintf(t->seen_request, sizeof(t->seen_request), "%s",
		       sf_log_request_id() ? sf_log_request_id() : "");
	if (t->ping_redis && r == 0)
		r = sf_kv_ping(ctx->kv);
	if (t->broker_down_once && t->calls == 1)
		sf_mq_fake_set_down(t->fake, true);
	if (t->stop_after_first)
		ctx->stop = true;
	if (r < 0 && t->diag_message)
		sf_diag_set(&ctx->diag, 0, "", "", "%s", t->diag_message);
	if (r == 0 && ret_reply)
		*ret_reply = json_pack("{s:b}", "ok", 1);
	return r;
}

/* Stops the loop once the job queue is empty, or at the deadline. */
static int stop_when_idle(struct wk_ctx *ctx)
{
	struct t *t = ctx->userdata;

	if (sf_now_monotonic_ms() - t->started_ms > DEADLINE_MS) {
		t->timed_out = true;
		ctx->stop = true;
	} else if (sf_mq_fake_queue_len(t->fake, QUEUE) == 0) {
		ctx->stop = true;
	}
	return 0;
}

static int task_a(struct wk_ctx *ctx)
{
	struct t *t = ctx->userdata;

	if (t->a_runs < SF_ARRAY_SIZE(t->a_at))
		t->a_at[t->a_runs] = sf_now_monotonic_ms();
	if (++t->a_runs == 3)
		ctx->stop = true;
	return 0;
}

static int task_b(struct wk_ctx *ctx)
{
	struct t *t = ctx->userdata;

	if (t->b_runs < SF_ARRAY_SIZE(t->b_at))
		t->b_at[t->b_runs] = sf_now_monotonic_ms();
	t->b_runs++;
	return 0;
}

static int task_failing(struct wk_ctx *ctx)
{
	((struct t *)ctx->userdata)->c_runs++;
	return -EIO;
}

/* Five slices of work, then done (and the test with it). */
static int task_sliced(struct wk_ctx *ctx)
{
	struct t *t = ctx->userdata;

	t->calls_at_slice[t->slices] = t->calls;
	if (++t->slices < 5)
		return WK_PERIODIC_MORE;
	ctx->stop = true;
	return 0;
}

static int fix_redis(struct wk_ctx *ctx)
{
	sf_kv_fake_set_down(ctx->kv, false);
	return 0;
}

static int fix_broker(struct wk_ctx *ctx)
{
	sf_mq_fake_set_down(((struct t *)ctx->userdata)->fake, false);
	return 0;
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	struct sf_diag d = {0};

	(void)state;
	sf_log_set_level(SF_LOG_WARN);
	if (sf_envelope_schemas_load(NULL, &schemas, &d) < 0) {
		(void)fprintf(stderr, "loading schemas: %s\n", d.message);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	sf_envelope_schemas_free(schemas);
	return 0;
}

static int setup(void **state)
{
	struct t *t = sf_xcalloc(1, sizeof(*t));
	const char *role = "networknode";

	t->kv = sf_kv_fake_new(NULL);
	t->fake = sf_mq_fake_new();
	assert_int_equal(sf_mq_declare_topology(t->fake, &role, 1), 0);
	t->cm = sf_xcalloc(1, sizeof(*t->cm));
	t->cm->inner = t->fake;
	t->ctx = (struct wk_ctx){
		.kv = t->kv,
		.mq = sf_mq_new_with_class(&counting_class, t->cm),
		.schemas = schemas,
		.node = NODE,
		.userdata = t,
	};
	t->spec.queue = QUEUE;
	for (int i = 0; i < _SF_JOB_TYPE_MAX; i++)
		t->spec.handlers[i] = handler;
	t->spec.handlers[SF_JOB_NODE_RECONCILE] = NULL; /* "not handled by this worker" */
	t->spec.backoff_base_ms = 20;
	t->spec.backoff_cap_ms = 50;
	t->tasks[0] = (struct wk_periodic){"stop-when-idle", 1, false, stop_when_idle};
	t->spec.periodic = t->tasks;
	t->spec.n_periodic = 1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	sf_mq_free(t->ctx.mq); /* frees the fake too */
	sf_kv_free(t->kv);
	free(t);
	return 0;
}

/* ---- helpers ---- */

/* Put a job on the queue, with its id as message id; returns the id (static buffer). */
static const char *inject_job(struct t *t, enum sf_job_type type, const char *uuid,
			      const char *args_json, const char *request_id,
			      const struct sf_mq_msg_props *extra_props)
{
	static char id[SF_UUID_STRLEN];
	json_t *args = args_json ? json_loads(args_json, 0, NULL) : NULL;
	struct sf_mq_msg_props props = extra_props ? *extra_props : (struct sf_mq_msg_props){0};
	struct sf_diag d = {0};
	struct sf_job *job;
	char *body;

	assert_int_equal(sf_job_new(type, uuid, args, request_id, &job), 0);
	assert_int_equal(sf_job_check(schemas, job, &d), 0);
	body = sf_job_serialize(job);
	(void)snprintf(id, sizeof(id), "%s", job->id);
	props.message_id = id;
	sf_mq_fake_inject(t->fake, QUEUE, body, &props);
	free(body);
	json_decref(args);
	sf_job_free(job);
	return id;
}

static int run(struct t *t)
{
	int r;

	t->started_ms = sf_now_monotonic_ms();
	r = wk_loop_run(&t->ctx, &t->spec);
	assert_false(t->timed_out);
	return r;
}

/* The i-th recorded mq call, from the end if i < 0. */
static const char *call(struct t *t, long i)
{
	size_t n = sf_mq_fake_n_calls(t->fake);

	if (i < 0)
		i += (long)n;
	assert_true(i >= 0 && (size_t)i < n);
	return sf_mq_fake_call(t->fake, (size_t)i);
}

/* A formatted string for comparing with recorded calls (static buffer). */
static const char *callf(const char *fmt, ...) SF_PRINTF(1, 2);
static const char *callf(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static bool called(struct t *t, const char *what)
{
	for (size_t i = 0; i < sf_mq_fake_n_calls(t->fake); i++)
		if (strcmp(sf_mq_fake_call(t->fake, i), what) == 0)
			return true;
	return false;
}

static void assert_status(struct t *t, const char *id, const char *state, int attempts)
{
	json_t *st = NULL;

	assert_int_equal(sf_job_status_get(t->kv, id, &st), 0);
	assert_string_equal(json_string_value(json_object_get(st, "state")), state);
	assert_int_equal(json_integer_value(json_object_get(st, "attempts")), attempts);
	assert_string_equal(json_string_value(json_object_get(st, "node")), NODE);
	json_decref(st);
}

/* The status record's error text (caller frees). */
static char *status_error(struct t *t, const char *id)
{
	json_t *st = NULL;
	char *s;

	assert_int_equal(sf_job_status_get(t->kv, id, &st), 0);
	s = sf_xstrdup(json_string_value(json_object_get(st, "error")));
	json_decref(st);
	return s;
}

/* Events published, parsed and checked against the schema. */
static size_t n_events(struct t *t)
{
	size_t n = 0;

	for (size_t i = 0; i < sf_mq_fake_n_published(t->fake); i++)
		n += strcmp(sf_mq_fake_published(t->fake, i)->exchange, SF_MQ_EVENTS_EXCHANGE) == 0;
	return n;
}

static struct sf_event *event(struct t *t, size_t which, const char **ret_key)
{
	struct sf_diag d = {0};

	for (size_t i = 0; i < sf_mq_fake_n_published(t->fake); i++) {
		const struct sf_mq_fake_msg *m = sf_mq_fake_published(t->fake, i);
		struct sf_event *ev;

		if (strcmp(m->exchange, SF_MQ_EVENTS_EXCHANGE) != 0 || which-- > 0)
			continue;
		assert_int_equal(sf_event_parse(schemas, m->body, m->len, &ev, &d), 0);
		*ret_key = m->routing_key;
		return ev;
	}
	fail_msg("no event %zu", which);
	return NULL;
}

/* ---- tests ---- */

static void test_transient_errors(void **state)
{
	(void)state;
	assert_true(wk_error_is_transient(-ECONNREFUSED));
	assert_true(wk_error_is_transient(-ECONNRESET));
	assert_true(wk_error_is_transient(-ETIMEDOUT));
	assert_true(wk_error_is_transient(-EAGAIN));
	assert_true(wk_error_is_transient(-EBUSY));
	assert_false(wk_error_is_transient(-EINVAL));
	assert_false(wk_error_is_transient(-ENOENT));
	assert_false(wk_error_is_transient(-EPERM));
	assert_false(wk_error_is_transient(0));
	assert_int_equal(wk_error_http_status(-EINVAL), 400);
	assert_int_equal(wk_error_http_status(-ENOENT), 404);
	assert_int_equal(wk_error_http_status(-EACCES), 403);
	assert_int_equal(wk_error_http_status(-ECONNREFUSED), 503);
	assert_int_equal(wk_error_http_status(-EIO), 500);
}

/* A valid job: handler called once with the job's ids in the log context, acked, "done",
 * one info line, and no event. */
static void test_valid_job_done(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN], *log = NULL, *line;
	size_t log_len = 0;
	FILE *f = open_memstream(&log, &log_len);
	json_t *st = NULL;

	assert_non_null(f);
	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, "req-42", NULL));
	sf_log_set_level(SF_LOG_INFO);
	sf_log_set_stream(f);
	assert_int_equal(run(t), 0);
	sf_log_set_stream(NULL);
	sf_log_set_level(SF_LOG_WARN);
	(void)fclose(f);

	assert_int_equal(t->calls, 1);
	assert_true(t->ctx_job_matched);
	assert_string_equal(t->seen_job, id);
	assert_string_equal(t->seen_request, "req-42");
	assert_null(sf_log_job_id());
	assert_null(sf_log_request_id());
	assert_null(t->ctx.job);
	assert_true(called(t, "consume_start " QUEUE));
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_status(t, id, "done", 1);
	assert_int_equal(sf_job_status_get(t->kv, id, &st), 0);
	assert_string_equal(json_string_value(json_object_get(st, "type")), "network.deploy");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(st, "object"), "uuid")),
		NET_UUID);
	assert_true(json_is_null(json_object_get(st, "error")));
	assert_true(json_real_value(json_object_get(st, "finished_at")) >=
		    json_real_value(json_object_get(st, "started_at")));
	json_decref(st);
	assert_int_equal(n_events(t), 0);

	line = strstr(log, "msg=\"job network.deploy network/" NET_UUID " done (attempt 1, ");
	assert_non_null(line);
	assert_non_null(strstr(line, " ms)\""));
	assert_non_null(strstr(log, id)); /* job=<id> from the log context */
	free(log);
}

/* A permanent error: acked, "failed" with the handler's reason, an error event on the job's
 * object carrying the job id. */
static void test_permanent_error(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN], *err;
	struct sf_event *ev;
	const char *key;

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	t->results[0] = -EINVAL;
	t->n_results = 1;
	t->diag_message = "network is not in a deployable state";
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 1);
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_false(called(t, callf("nack %s requeue=1", id)));
	assert_status(t, id, "failed", 1);
	err = status_error(t, id);
	assert_string_equal(err, "network is not in a deployable state");
	free(err);
	assert_int_equal(n_events(t), 1);
	ev = event(t, 0, &key);
	assert_string_equal(key, "network." NET_UUID ".status");
	assert_int_equal(ev->object_type, SF_OBJECT_NETWORK);
	assert_string_equal(ev->object_uuid, NET_UUID);
	assert_string_equal(ev->job, id);
	assert_string_equal(ev->fqdn, NODE);
	assert_non_null(strstr(ev->message, "network.deploy failed: network is not"));
	assert_int_equal(json_integer_value(json_object_get(ev->extra, "errno")), EINVAL);
	sf_event_free(ev);
}

/* A transient error: nacked with requeue, "queued" with the error in between, then retried
 * (delivery count -> attempts) and acked. */
static void test_transient_error_requeued(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN];

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	t->results[0] = -ECONNREFUSED;
	t->n_results = 1;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 2);
	assert_string_equal(call(t, -2), callf("nack %s requeue=1", id));
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_status(t, id, "done", 2);
	assert_int_equal(n_events(t), 0);
	assert_int_equal(sf_mq_fake_queue_len(t->fake, SF_MQ_DEAD_QUEUE), 0);
}

/* A job that keeps failing transiently is recorded "dead" on its last delivery, which the
 * broker (here the fake, limit 5) dead-letters; an event says it gave up. */
static void test_transient_until_dead(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN];
	struct sf_event *ev;
	const char *key;

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	for (size_t i = 0; i < SF_ARRAY_SIZE(t->results); i++)
		t->results[i] = -EAGAIN;
	t->n_results = SF_ARRAY_SIZE(t->results);
	t->spec.backoff_base_ms = 1;
	t->spec.backoff_cap_ms = 2;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 6);
	assert_int_equal(sf_mq_fake_queue_len(t->fake, SF_MQ_DEAD_QUEUE), 1);
	assert_status(t, id, "dead", 6);
	assert_int_equal(n_events(t), 1);
	ev = event(t, 0, &key);
	assert_non_null(strstr(ev->message, "gave up"));
	sf_event_free(ev);
}

/* Not JSON: nacked without requeue (dead-lettered), no handler call, no status record, and
 * an error event on this node. */
static void test_malformed_json(void **state)
{
	struct t *t = *state;
	struct sf_mq_msg_props props = {.message_id = "bad-1"};
	struct sf_event *ev;
	const char *key;

	sf_mq_fake_inject(t->fake, QUEUE, "{oops", &props);
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 0);
	assert_string_equal(call(t, -1), "nack bad-1 requeue=0");
	assert_int_equal(sf_mq_fake_queue_len(t->fake, SF_MQ_DEAD_QUEUE), 1);
	assert_string_equal(sf_mq_fake_queue_msg(t->fake, SF_MQ_DEAD_QUEUE, 0)->body, "{oops");
	assert_int_equal(sf_kv_fake_nkeys(t->kv), 0);
	assert_int_equal(n_events(t), 1);
	ev = event(t, 0, &key);
	assert_string_equal(key, "node." NODE ".status");
	assert_int_equal(ev->object_type, SF_OBJECT_NODE);
	assert_string_equal(ev->object_uuid, NODE);
	assert_non_null(strstr(ev->message, "malformed job message"));
	assert_string_equal(json_string_value(json_object_get(ev->extra, "message_id")), "bad-1");
	sf_event_free(ev);
}

/* A network.route job with member set to value_json (in args if in_args): valid JSON but not
 * a valid job. It is dead-lettered, recorded "dead" under its job id, and the error event goes
 * to the network it names. */
static void check_invalid_job(struct t *t, bool in_args, const char *member, const char *value_json)
{
	json_t *args = json_pack("{s:s}", "address", "198.51.100.7"), *doc;
	struct sf_mq_msg_props props = {0};
	struct sf_event *ev;
	struct sf_job *job;
	const char *key;
	char *body, *err;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_ROUTE, NET_UUID, args, NULL, &job), 0);
	doc = sf_job_to_json(job);
	json_object_set_new(in_args ? json_object_get(doc, "args") : doc, member,
			    json_loads(value_json, JSON_DECODE_ANY, NULL));
	body = sf_json_dumps(doc);
	props.message_id = job->id;
	sf_mq_fake_inject(t->fake, QUEUE, body, &props);
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 0);
	assert_string_equal(call(t, -1), callf("nack %s requeue=0", job->id));
	assert_int_equal(sf_mq_fake_queue_len(t->fake, SF_MQ_DEAD_QUEUE), 1);
	assert_status(t, job->id, "dead", 1);
	err = status_error(t, job->id);
	assert_true(strlen(err) > 0);
	free(err);
	ev = event(t, 0, &key);
	assert_string_equal(key, "network." NET_UUID ".status");
	assert_string_equal(ev->job, job->id);
	sf_event_free(ev);
	free(body);
	json_decref(doc);
	json_decref(args);
	sf_job_free(job);
}

static void test_unknown_type_dead_lettered(void **state)
{
	check_invalid_job(*state, false, "type", "\"network.explode\"");
}

static void test_schema_violation_dead_lettered(void **state)
{
	check_invalid_job(*state, true, "bogus", "{}"); /* an argument network.route lacks */
}

/* A valid job of a type this worker has no handler for fails permanently, with an event. */
static void test_unhandled_type(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN], *err;
	struct sf_event *ev;
	const char *key;

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NODE_RECONCILE, NODE, NULL, NULL, NULL));
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 0);
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_status(t, id, "failed", 1);
	err = status_error(t, id);
	assert_non_null(strstr(err, "not handled"));
	free(err);
	ev = event(t, 0, &key);
	assert_string_equal(key, "node." NODE ".status");
	sf_event_free(ev);
}

/* Request jobs are answered on their reply_to with their correlation id: the handler's reply,
 * or an error body with an HTTP status; even a transient failure is answered (and acked). */
static void test_request_replies(void **state)
{
	struct t *t = *state;
	static const char *const corr[] = {"corr-ok", "corr-gone", "corr-busy"};
	static const char *const want[] = {
		"{\"ok\":true}",
		"{\"error\":\"network is gone\",\"status\":404}",
		"{\"error\":\"network is gone\",\"status\":503}",
	};
	char ids[3][SF_UUID_STRLEN];
	size_t found = 0;

	for (size_t i = 0; i < 3; i++) {
		struct sf_mq_msg_props props = {.correlation_id = corr[i],
						.reply_to = "amq.rabbitmq.reply-to.g1"};

		(void)snprintf(ids[i], sizeof(ids[i]), "%s",
			       inject_job(t, SF_JOB_NETWORK_PING, NET_UUID,
					  "{\"address\": \"10.0.0.1\"}", NULL, &props));
	}
	t->results[1] = -ENOENT;
	t->results[2] = -ETIMEDOUT;
	t->n_results = 3;
	t->diag_message = "network is gone";
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 3);
	for (size_t i = 0; i < sf_mq_fake_n_published(t->fake); i++) {
		const struct sf_mq_fake_msg *m = sf_mq_fake_published(t->fake, i);

		if (strcmp(m->routing_key, "amq.rabbitmq.reply-to.g1") != 0)
			continue;
		assert_string_equal(m->exchange, "");
		assert_string_equal(m->correlation_id, corr[found]);
		assert_string_equal(m->body, want[found]);
		found++;
	}
	assert_int_equal(found, 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(called(t, callf("ack %s", ids[i])));
	assert_status(t, ids[0], "done", 1);
	assert_status(t, ids[1], "failed", 1);
	assert_status(t, ids[2], "failed", 1);
}

/* Periodic tasks: one runs at start, before the first job, and then every period; one without
 * run_at_start waits a period first; a failing one keeps being run. */
static void test_periodic(void **state)
{
	struct t *t = *state;

	inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL);
	t->tasks[0] = (struct wk_periodic){"a", 40, true, task_a};
	t->tasks[1] = (struct wk_periodic){"b", 40, false, task_b};
	t->tasks[2] = (struct wk_periodic){"c", 10, true, task_failing};
	t->spec.n_periodic = 3;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->a_runs, 3);
	assert_int_equal(t->calls, 1);
	assert_true(t->a_at[0] <= t->first_call_ms);
	assert_true(t->a_at[0] - t->started_ms < 40);
	assert_true(t->a_at[1] - t->a_at[0] >= 40);
	assert_true(t->a_at[2] - t->a_at[1] >= 40);
	assert_true(t->b_runs >= 1);
	assert_true(t->b_at[0] - t->started_ms >= 40);
	assert_true(t->c_runs >= 5);
}

/* A task that works in slices: the waiting jobs get turns of WK_JOBS_PER_SLICE between its
 * slices, and when none is waiting the slices follow one another without waiting a period. */
static void test_periodic_slices(void **state)
{
	struct t *t = *state;

	for (int i = 0; i < 20; i++)
		inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL);
	t->tasks[0] = (struct wk_periodic){"sliced", 60000, true, task_sliced};
	assert_int_equal(run(t), 0);
	assert_int_equal(t->slices, 5);
	assert_int_equal(t->calls, 20);
	assert_int_equal(t->calls_at_slice[0], 0); /* run_at_start: before the first job */
	assert_int_equal(t->calls_at_slice[1], WK_JOBS_PER_SLICE);
	assert_int_equal(t->calls_at_slice[2], 2 * WK_JOBS_PER_SLICE);
	assert_int_equal(t->calls_at_slice[3], 20);
	assert_int_equal(t->calls_at_slice[4], 20);
	assert_false(t->timed_out);
	assert_true(sf_now_monotonic_ms() - t->started_ms < 60000);
}

/* Redis down: the handler fails transiently once, the job is requeued and the loop holds it
 * (no further handler call, no spinning through the delivery limit) until Redis answers. */
static void test_redis_down_holds_jobs(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN];

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	t->ping_redis = true;
	sf_kv_fake_set_down(t->kv, true);
	t->tasks[1] = (struct wk_periodic){"fix", 300, false, fix_redis};
	t->spec.n_periodic = 2;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 2);
	assert_true(sf_now_monotonic_ms() - t->started_ms >= 300);
	assert_string_equal(call(t, -2), callf("nack %s requeue=1", id));
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_int_equal(t->cm->next_calls, 2);
	assert_status(t, id, "done", 2);
}

/* RabbitMQ down: the ack of a delivery is stale, receiving fails, and the loop backs off
 * (tens of attempts in 300 ms, not millions) until the broker is back; the job, redelivered,
 * is handled again and acked. */
static void test_broker_down_backs_off(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN];

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	t->broker_down_once = true;
	t->tasks[1] = (struct wk_periodic){"fix", 300, false, fix_broker};
	t->spec.n_periodic = 2;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 2);
	assert_true(sf_now_monotonic_ms() - t->started_ms >= 300);
	assert_true(t->cm->next_calls >= 4);
	assert_true(t->cm->next_calls <= 30);
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_status(t, id, "done", 2); /* the stale delivery counts, as with a quorum queue */
}

/* The broker is down when the loop starts: starting the consumer is retried with backoff. */
static void test_broker_down_at_start(void **state)
{
	struct t *t = *state;

	inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL);
	sf_mq_fake_set_down(t->fake, true);
	t->tasks[1] = (struct wk_periodic){"fix", 200, false, fix_broker};
	t->spec.n_periodic = 2;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 1);
	assert_true(t->cm->consume_calls >= 3);
	assert_true(t->cm->consume_calls <= 20);
}

/* ctx->stop set by a handler ends the loop after that job; the next one stays queued. */
static void test_ctx_stop(void **state)
{
	struct t *t = *state;
	char id[SF_UUID_STRLEN];

	(void)snprintf(id, sizeof(id), "%s",
		       inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL));
	inject_job(t, SF_JOB_NETWORK_DESTROY, NET_UUID, NULL, NULL, NULL);
	t->stop_after_first = true;
	t->spec.n_periodic = 0;
	assert_int_equal(run(t), 0);

	assert_int_equal(t->calls, 1);
	assert_string_equal(call(t, -1), callf("ack %s", id));
	assert_int_equal(sf_mq_fake_queue_len(t->fake, QUEUE), 1);
}

/* SIGTERM (sf_daemon_request_stop): the loop returns at once. The flag cannot be cleared, so
 * this test runs last. */
static void test_daemon_stop(void **state)
{
	struct t *t = *state;

	inject_job(t, SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, NULL);
	t->tasks[0] = (struct wk_periodic){"a", 40, true, task_a};
	sf_daemon_request_stop();
	assert_int_equal(run(t), 0);
	assert_int_equal(t->calls, 0);
	assert_int_equal(t->a_runs, 0);
	assert_int_equal(sf_mq_fake_queue_len(t->fake, QUEUE), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transient_errors),
		cmocka_unit_test_setup_teardown(test_valid_job_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_error_requeued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_until_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_type_dead_lettered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_violation_dead_lettered, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unhandled_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_replies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_down_holds_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_down_backs_off, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broker_down_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctx_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_daemon_stop, setup, teardown), /* last */
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
