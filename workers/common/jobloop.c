// SPDX-License-Identifier: Apache-2.0
/* The workers' job loop: see jobloop.h for the ack, retry and status rules. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobloop.h"
#include "sf/daemon.h"
#include "sf/err.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/mq.h"

SF_LOG_MODULE("jobloop");

#define DEFAULT_DELIVERY_LIMIT 5
#define DEFAULT_BACKOFF_BASE_MS 200
#define DEFAULT_BACKOFF_CAP_MS 10000
#define MAX_WAIT_MS 1000 /* longest blocking wait, so a stop request is noticed */

struct task_state {
	uint64_t due_ms;
	bool failing;
	bool more; /* returned WK_PERIODIC_MORE: the next slice is due once jobs have had a turn */
};

struct loop {
	struct wk_ctx *ctx;
	const struct wk_loop_spec *spec;
	struct task_state *tasks;
	unsigned delivery_limit;
	uint64_t backoff_base_ms, backoff_cap_ms;
	uint64_t resume_ms;    /* take no job before this (monotonic) */
	unsigned job_failures; /* consecutive transient job failures */
	unsigned mq_failures;  /* consecutive broker errors */
	unsigned jobs_in_turn; /* jobs handled since the last slice of an unfinished task */
	bool job_waiting;      /* the last receive got a job: more may be queued */
	bool wait_for_kv;      /* a job failed transiently: PING Redis before the next one */
	bool kv_down;	       /* and Redis did not answer */
	bool consuming;
};

bool wk_error_is_transient(int r)
{
	switch (r) {
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ECONNABORTED:
	case -ENOTCONN:
	case -EPIPE:
	case -ETIMEDOUT:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ENETDOWN:
	case -EAGAIN:
	case -EBUSY:
	case -EINTR:
	case -ENOBUFS:
	case -ESTALE:
	case -ECANCELED:
		return true;
	default:
		return false;
	}
}

int wk_error_http_status(int r)
{
	if (wk_error_is_transient(r))
		return 503;
	switch (r) {
	case -EINVAL:
		return 400;
	case -EPERM:
	case -EACCES:
		return 403;
	case -ENOENT:
		return 404;
	case -EEXIST:
		return 409;
	case -EOPNOTSUPP:
		return 501;
	default:
		return 500;
	}
}

void wk_keepalive(struct wk_ctx *ctx)
{
	int r;

	if (!ctx->mq)
		return;
	r = sf_mq_keepalive(ctx->mq);
	if (r < 0)
		sf_log_debug_errno(r, "keeping the broker connection alive failed");
}

static bool stopping(const struct wk_ctx *ctx)
{
	return ctx->stop || sf_daemon_stopping();
}

/* ---- events and status records ------------------------------------------------------------ */

int wk_event(struct wk_ctx *ctx, enum sf_object_type object_type, const char *object_uuid,
	     enum sf_event_type type, const char *message, json_t *extra)
{
	struct sf_mq_msg_props props = {0};
	struct sf_diag diag = {0};
	struct sf_event *ev = NULL;
	char *key = NULL, *body = NULL;
	int r;

	r = sf_event_new(object_type, object_uuid, type, message, extra, ctx->node, &ev);
	if (r < 0)
		goto out;
	/* The log context keeps 64 characters of the request id; the event gets all of it. */
	if (ctx->job && ctx->job->request_id[0])
		(void)snprintf(ev->request_id, sizeof(ev->request_id), "%s", ctx->job->request_id);
	if (ctx->schemas) {
		r = sf_event_check(ctx->schemas, ev, &diag);
		if (r < 0) {
			sf_log_err("event '%s' does not match its schema: %s", message,
				   diag.message);
			goto out;
		}
	}
	r = sf_event_routing_key(ev, &key);
	if (r < 0)
		goto out;
	body = sf_event_serialize(ev);
	props.message_id = ev->id;
	r = sf_mq_publish(ctx->mq, SF_MQ_EVENTS_EXCHANGE, key, body, strlen(body), &props);
out:
	if (r < 0)
		sf_log_warn_rl("event '%s' on %s %s not published: %s", message,
			       sf_object_type_to_string(object_type), object_uuid, sf_strerror(r));
	free(body);
	free(key);
	sf_event_free(ev);
	return r;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Record a status; a failure (Redis down) is logged and does not stop the job. */
static void status_set(struct wk_ctx *ctx, const char *job_id, const struct sf_job_status *st)
{
	int r = sf_job_status_set(ctx->kv, job_id, st);

	if (r < 0)
		sf_log_warn_rl("recording job %s as %s failed: %s", job_id,
			       sf_job_state_to_string(st->state), sf_strerror(r));
}

/* ---- backoff ------------------------------------------------------------------------------ */

static void hold_off(struct loop *lp, unsigned *failures)
{
	uint64_t ms = sf_backoff_ms((*failures)++, lp->backoff_base_ms, lp->backoff_cap_ms);

	lp->resume_ms = sf_now_monotonic_ms() + ms;
}

/* Whether a job may be taken now: not while backing off, not while Redis is down after a
 * transient failure, not before the consumer is started. */
static bool ready_for_jobs(struct loop *lp)
{
	struct wk_ctx *ctx = lp->ctx;
	int r;

	if (sf_now_monotonic_ms() < lp->resume_ms)
		return false;
	if (lp->wait_for_kv) {
		r = sf_kv_ping(ctx->kv);
		if (r < 0) {
			if (!lp->kv_down)
				sf_log_warn_errno(
					r, "redis unreachable: holding jobs until it answers");
			lp->kv_down = true;
			hold_off(lp, &lp->job_failures);
			return false;
		}
		if (lp->kv_down)
			sf_log_info("redis answers again: taking jobs");
		lp->kv_down = false;
		lp->wait_for_kv = false;
	}
	if (!lp->consuming) {
		r = sf_mq_consume_start(ctx->mq, lp->spec->queue);
		if (r < 0) {
			if (lp->mq_failures == 0)
				sf_log_warn_errno(r, "consuming %s failed, retrying",
						  lp->spec->queue);
			hold_off(lp, &lp->mq_failures);
			return false;
		}
		lp->consuming = true;
		sf_log_debug("consuming %s", lp->spec->queue);
	}
	return true;
}

/* ---- periodic tasks ----------------------------------------------------------------------- */

/* Run the tasks that are due; return how long until the next one is (at most MAX_WAIT_MS). */
static unsigned run_periodic(struct loop *lp)
{
	const struct wk_loop_spec *spec = lp->spec;
	uint64_t now = sf_now_monotonic_ms(), next = now + MAX_WAIT_MS;

	for (size_t i = 0; i < spec->n_periodic && !stopping(lp->ctx); i++) {
		const struct wk_periodic *p = &spec->periodic[i];
		struct task_state *ts = &lp->tasks[i];

		if (ts->more && lp->job_waiting && lp->jobs_in_turn < WK_JOBS_PER_SLICE) {
			next = now; /* the jobs' turn: take the waiting ones first */
			continue;
		}
		if (ts->due_ms <= now) {
			int r = p->fn(lp->ctx);

			ts->more = r == WK_PERIODIC_MORE;
			if (ts->more) {
				lp->jobs_in_turn = 0;
				now = sf_now_monotonic_ms();
				ts->due_ms = now;
				next = now;
				continue;
			}

			if (r < 0 && !ts->failing)
				sf_log_warn_errno(r,
						  "periodic task %s failed, retrying every %u ms",
						  p->name, p->period_ms);
			else if (r < 0)
				sf_log_debug_errno(r, "periodic task %s failed again", p->name);
			else if (ts->failing)
				sf_log_info("periodic task %s works again", p->name);
			ts->failing = r < 0;
			now = sf_now_monotonic_ms();
			ts->due_ms = now + p->period_ms;
		}
		if (ts->due_ms < next)
			next = ts->due_ms;
	}
	if (next <= now)
		return 0; /* a slice is due: only look for a job that is already there */
	return (unsigned)(next - now);
}

/* ---- one delivery ------------------------------------------------------------------------- */

/* The error text of a failed handler: what it put in ctx->diag, else the errno's. */
static void error_text(const struct wk_ctx *ctx, int r, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s", ctx->diag.message[0] ? ctx->diag.message : sf_strerror(r));
}

static void reply(struct wk_ctx *ctx, const struct sf_mq_delivery *d, int r, const char *error,
		  json_t *body)
{
	json_t *v;
	char *s;
	int rr;

	if (r == 0)
		v = body ? json_incref(body) : json_object();
	else
		v = json_pack("{s:s, s:i}", "error", error, "status",
			      ctx->diag.status ? ctx->diag.status : wk_error_http_status(r));
	if (!v) {
		sf_log_err("out of memory building a reply");
		abort();
	}
	s = sf_json_dumps(v);
	rr = sf_mq_reply(ctx->mq, d, s, strlen(s));
	if (rr < 0)
		sf_log_warn_errno(rr, "replying to request job %s failed", ctx->job->id);
	free(s);
	json_decref(v);
}

static void settle(struct wk_ctx *ctx, const struct sf_mq_delivery *d, bool ack, bool requeue,
		   const char *what)
{
	int r = ack ? sf_mq_ack(ctx->mq, d) : sf_mq_nack(ctx->mq, d, requeue);

	/* -ESTALE: the connection went away; the broker redelivers, and the job runs again. */
	if (r < 0)
		sf_log_warn_errno(r, "%s of %s failed, the broker will redeliver it",
				  ack ? "ack" : "nack", what);
}

static void run_job(struct loop *lp, const struct sf_mq_delivery *d, const struct sf_job *job,
		    uint64_t t0)
{
	struct wk_ctx *ctx = lp->ctx;
	const struct sf_job_type_info *info = &sf_job_types[job->type];
	const char *object_type = sf_object_type_to_string(job->object_type);
	wk_job_handler_fn handler = lp->spec->handlers[job->type];
	struct sf_job_status st = {
		.state = SF_JOB_RUNNING,
		.job = job,
		.node = ctx->node,
		.attempts = d->delivery_count + 1,
		.started_at = sf_now_epoch(),
	};
	char error[sizeof(ctx->diag.message)];
	json_t *body = NULL;
	const char *result;
	bool transient;
	int r;

	status_set(ctx, job->id, &st);
	ctx->job = job;
	sf_diag_clear(&ctx->diag);
	if (handler) {
		r = handler(ctx, job, info->is_request ? &body : NULL);
	} else {
		r = -EOPNOTSUPP;
		sf_diag_set(&ctx->diag, 501, "/type", "", "job type %s is not handled by node %s",
			    info->name, ctx->node);
	}
	transient = r < 0 && wk_error_is_transient(r) && !info->is_request;

	if (r == 0) {
		st.state = SF_JOB_DONE;
		result = "done";
	} else if (transient && st.attempts > lp->delivery_limit) {
		st.state = SF_JOB_DEAD; /* the broker dead-letters it on this nack */
		result = "dead";
	} else if (transient) {
		st.state = SF_JOB_QUEUED;
		result = "requeued";
	} else {
		st.state = SF_JOB_FAILED;
		result = "failed";
	}
	if (r < 0) {
		error_text(ctx, r, error, sizeof(error));
		st.error = error;
	}
	st.finished_at = st.state == SF_JOB_QUEUED ? 0 : sf_now_epoch();
	if (info->is_request)
		reply(ctx, d, r, st.error, body);
	status_set(ctx, job->id, &st);
	if (st.state == SF_JOB_FAILED || st.state == SF_JOB_DEAD) {
		char *msg = sf_xasprintf("job %s %s: %s", info->name,
					 st.state == SF_JOB_DEAD ? "gave up" : "failed", st.error);
		json_t *extra =
			json_pack("{s:s, s:s, s:i, s:I}", "job_type", info->name, "error", st.error,
				  "errno", -r, "attempts", (json_int_t)st.attempts);

		(void)wk_event(ctx, job->object_type, job->object_uuid, SF_EVENT_STATUS, msg,
			       extra);
		json_decref(extra);
		free(msg);
	}
	settle(ctx, d, !transient, true, job->id);
	if (transient) {
		lp->wait_for_kv = true;
		hold_off(lp, &lp->job_failures);
	} else {
		lp->job_failures = 0;
	}
	sf_log_info("job %s %s/%s %s%s%s (attempt %u, %" PRIu64 " ms)", info->name, object_type,
		    job->object_uuid, result, st.error ? ": " : "", st.error ? st.error : "",
		    st.attempts, sf_now_monotonic_ms() - t0);
	ctx->job = NULL;
	json_decref(body);
}

/* What can be trusted in a message that is not a valid job: its job id if it is a UUID, and
 * its object if that is a network or an interface named by a UUID. Anything else is reported
 * on this node. */
static void salvage(const json_t *doc, const char *node, const char **ret_job_id,
		    enum sf_object_type *ret_type, const char **ret_uuid)
{
	const json_t *object = json_object_get(doc, "object");
	const char *id = json_string_value(json_object_get(doc, "job"));
	const char *type = json_string_value(json_object_get(object, "type"));
	const char *uuid = json_string_value(json_object_get(object, "uuid"));
	enum sf_object_type t;

	*ret_job_id = sf_uuid_is_valid(id) ? id : NULL;
	if (sf_object_type_from_string(type, &t) == 0 &&
	    (t == SF_OBJECT_NETWORK || t == SF_OBJECT_NETWORKINTERFACE) && sf_uuid_is_valid(uuid)) {
		*ret_type = t;
		*ret_uuid = uuid;
	} else {
		*ret_type = SF_OBJECT_NODE;
		*ret_uuid = node;
	}
}

static void reject(struct loop *lp, const struct sf_mq_delivery *d, const struct sf_diag *diag)
{
	struct wk_ctx *ctx = lp->ctx;
	json_t *doc = json_loadb(d->body, d->len, 0, NULL), *extra;
	const char *job_id, *uuid, *what = d->message_id ? d->message_id : "(no message id)";
	enum sf_object_type type;
	char *msg;

	salvage(doc, ctx->node, &job_id, &type, &uuid);
	sf_log_set_job_id(job_id);
	if (job_id)
		status_set(ctx, job_id,
			   &(struct sf_job_status){.state = SF_JOB_DEAD,
						   .node = ctx->node,
						   .attempts = d->delivery_count + 1,
						   .error = diag->message,
						   .finished_at = sf_now_epoch()});
	msg = sf_xasprintf("malformed job message dead-lettered: %s", diag->message);
	extra = json_pack("{s:o, s:s, s:s, s:s}", "message_id", str_or_null(d->message_id), "queue",
			  lp->spec->queue, "pointer", diag->pointer, "rule", diag->rule);
	(void)wk_event(ctx, type, uuid, SF_EVENT_STATUS, msg, extra);
	settle(ctx, d, false, false, what);
	sf_log_warn("message %s on %s dead-lettered: %s", what, lp->spec->queue, diag->message);
	sf_log_set_job_id(NULL);
	json_decref(extra);
	json_decref(doc);
	free(msg);
}

static void handle(struct loop *lp, const struct sf_mq_delivery *d)
{
	struct wk_ctx *ctx = lp->ctx;
	uint64_t t0 = sf_now_monotonic_ms();
	struct sf_diag diag = {0};
	struct sf_job *job = NULL;

	if (sf_job_parse(ctx->schemas, d->body, d->len, &job, &diag) < 0) {
		reject(lp, d, &diag);
		return;
	}
	sf_log_set_job_id(job->id);
	sf_log_set_request_id(job->request_id[0] ? job->request_id : NULL);
	ctx->jobs_run++;
	run_job(lp, d, job, t0);
	sf_log_set_request_id(NULL);
	sf_log_set_job_id(NULL);
	sf_job_free(job);
}

/* ---- the loop ----------------------------------------------------------------------------- */

int wk_loop_run(struct wk_ctx *ctx, const struct wk_loop_spec *spec)
{
	struct loop lp = {
		.ctx = ctx,
		.spec = spec,
		.delivery_limit =
			spec->delivery_limit ? spec->delivery_limit : DEFAULT_DELIVERY_LIMIT,
		.backoff_base_ms =
			spec->backoff_base_ms ? spec->backoff_base_ms : DEFAULT_BACKOFF_BASE_MS,
		.backoff_cap_ms =
			spec->backoff_cap_ms ? spec->backoff_cap_ms : DEFAULT_BACKOFF_CAP_MS,
	};
	uint64_t now = sf_now_monotonic_ms();
	struct sf_mq_delivery *d;
	unsigned wait;
	int r;

	if (!spec->queue || !ctx->kv || !ctx->mq || !ctx->schemas || !ctx->node)
		return -EINVAL;
	lp.tasks = sf_xcalloc(spec->n_periodic + 1, sizeof(*lp.tasks));
	for (size_t i = 0; i < spec->n_periodic; i++)
		lp.tasks[i].due_ms =
			spec->periodic[i].run_at_start ? now : now + spec->periodic[i].period_ms;
	ctx->job = NULL;
	while (!stopping(ctx)) {
		wait = run_periodic(&lp);
		if (stopping(ctx))
			break;
		if (!ready_for_jobs(&lp)) {
			lp.job_waiting = false; /* no turn for jobs now: slices go on */
			now = sf_now_monotonic_ms();
			if (lp.resume_ms > now && lp.resume_ms - now < wait)
				wait = (unsigned)(lp.resume_ms - now);
			sf_daemon_sleep_ms(wait);
			continue;
		}
		r = sf_mq_next(ctx->mq, (int)wait, &d);
		lp.job_waiting = r == 0;
		if (r < 0 && r != -ETIMEDOUT) {
			if (lp.mq_failures == 0)
				sf_log_warn_errno(r, "receiving from %s failed, retrying",
						  spec->queue);
			hold_off(&lp, &lp.mq_failures);
			continue;
		}
		if (lp.mq_failures > 0)
			sf_log_info("receiving from %s again", spec->queue);
		lp.mq_failures = 0;
		if (r == -ETIMEDOUT)
			continue;
		lp.jobs_in_turn++;
		handle(&lp, d);
		sf_mq_delivery_free(d);
	}
	free(lp.tasks);
	return 0;
}
