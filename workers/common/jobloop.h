/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The job loop both workers run (ARCHITECTURE.md sections 1, 2 and 6): consume the node's job
 * queue with manual acks, parse and validate each message (sf_job_parse against
 * schemas/jobs/job.json), dispatch by job type to a handler, then ack -- only after the
 * handler's kernel and Redis work is done and the job's status is recorded.
 *
 *   handler returns 0             -> ack; job status "done"; reply sent for request jobs
 *   -EINVAL, -ENOENT, -EPERM ...  -> permanent: ack; status "failed" with the error; an error
 *   (see wk_error_is_transient)      event on the job's object
 *   -ECONNREFUSED, -ECONNRESET, -ETIMEDOUT, -EAGAIN, -EBUSY (transient) -> nack with requeue;
 *                                    the quorum queue's delivery limit dead-letters a job that
 *                                    keeps failing; status "queued" with the error and the
 *                                    attempts (from the delivery count), "dead" on the last
 *                                    attempt. The loop then backs off, and takes no further
 *                                    job until Redis answers a PING, so an outage does not
 *                                    burn through the delivery limit of every queued job.
 *   no handler for the type       -> permanent failure, as above
 *   malformed message              -> nack without requeue (dead-lettered to sf.jobs.dead);
 *   (not JSON, or not a valid job)   status "dead" when it had a usable job id; an error event
 *                                    on its object, or on this node when it names none
 *
 * Request jobs (sf_job_types[type].is_request, e.g. ping) always get an answer through
 * sf_mq_reply: the handler's reply, or {"error": "...", "status": N} (an HTTP status) when it
 * failed. The requester is waiting, so a request that fails transiently is answered with 503
 * and acked rather than requeued: a late retry would answer nobody.
 *
 * Jobs are handled one at a time in delivery order, so jobs for one network stay in order.
 * Between deliveries the loop runs the periodic tasks (reconcile, usage, heartbeat) whose
 * time has come; sf_mq_next waits at most until the next one is due, and at most 1 s, so a
 * stop request is noticed. While RabbitMQ is unreachable the loop backs off and retries.
 * While a job runs, the log context holds its job id and request id, and the loop logs one
 * info line per job: type, object, result, attempt and duration.
 */
#ifndef WK_JOBLOOP_H
#define WK_JOBLOOP_H

#include <jansson.h>
#include <stdbool.h>

#include "sf/diag.h"
#include "sf/envelope.h"
#include "sf/jobstatus.h"

struct sf_kv;
struct sf_mq;
struct wk_node;

/* What handlers and periodic tasks get. The caller of wk_loop_run fills the first block. */
struct wk_ctx {
	struct sf_kv *kv;
	struct sf_mq *mq; /* the consuming connection; handlers may publish on it */
	const struct sf_envelope_schemas *schemas;
	const char *node;	    /* this node's name; the fqdn of the events it records */
	void *userdata;		    /* the worker's own state (e.g. struct nn_state *) */
	const struct wk_node *self; /* set by wk_run: this node's registry entry; NULL in tests */

	/* Kept by the loop. */
	const struct sf_job *job; /* the job being handled; NULL in periodic tasks */
	struct sf_diag diag;	  /* cleared before each handler; a failing handler may say why
				     (sf_diag_set): the message goes into the status record, the
				     error event and a request's error reply, with its status */
	bool stop; /* set (by a handler or a periodic task) to end wk_loop_run after that step */
	uint64_t jobs_run; /* jobs handled so far: a periodic task's cached view is stale when it
			      changed (a job ran between two slices) */
};

/* A job handler. For request jobs (sf_job_types[type].is_request) *ret_reply receives the reply
 * body (an object, owned by the loop; none means {}); otherwise ret_reply is NULL. */
typedef int (*wk_job_handler_fn)(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);

/* A periodic task, e.g. the reconciler every 30 s. Errors are logged (once when the task
 * starts failing, once when it works again) and the task runs again at its next period.
 * Long work is done in slices: a task that is not finished returns WK_PERIODIC_MORE, and the
 * loop calls it again at once, after the jobs that are waiting (up to WK_JOBS_PER_SLICE of
 * them), so jobs do not wait behind a whole pass. The period counts from the last slice. */
typedef int (*wk_periodic_fn)(struct wk_ctx *ctx);
#define WK_PERIODIC_MORE 1
#define WK_JOBS_PER_SLICE 8

struct wk_periodic {
	const char *name;
	unsigned period_ms; /* from the end of one run to the start of the next */
	bool run_at_start;  /* run once before the first job (the start-up reconcile) */
	wk_periodic_fn fn;
};

struct wk_loop_spec {
	const char *queue;			      /* "sf.jobs.networknode"; wk_run fills in
							 sf.jobs.<queue_role> when NULL */
	wk_job_handler_fn handlers[_SF_JOB_TYPE_MAX]; /* NULL: this worker does not handle the type
						       (the job fails permanently, with an event) */
	const struct wk_periodic *periodic;	      /* array, may be NULL */
	size_t n_periodic;
	unsigned delivery_limit;  /* the job queue's x-delivery-limit [5]: a transient failure on
				     the last delivery is recorded as "dead" */
	unsigned backoff_base_ms; /* after a transient failure or a broker error [200] ... */
	unsigned backoff_cap_ms;  /* ... doubling up to [10000] */
};

/* Run until sf_daemon_stopping() or ctx->stop. Survives Redis and RabbitMQ outages (the
 * clients reconnect; the loop backs off and retries). Returns 0 on a clean stop. */
int wk_loop_run(struct wk_ctx *ctx, const struct wk_loop_spec *spec);

/* true for errors that deserve a retry: connection loss and refusal, timeouts, -EAGAIN,
 * -EBUSY, -EINTR, -ENOBUFS, -ESTALE, and -ECANCELED (the worker is stopping). */
bool wk_error_is_transient(int r);

/* The HTTP status a failed request job answers with: 400 -EINVAL, 403 -EPERM/-EACCES,
 * 404 -ENOENT, 409 -EEXIST, 501 -EOPNOTSUPP, 503 transient, 500 otherwise. */
int wk_error_http_status(int r);

/* For long handlers and periodic tasks (a reconciler pass over many networks): keep the broker
 * connection alive (sf_mq_keepalive), so the delivery being worked on, and those prefetched
 * behind it, are not redelivered when the work ends. Call it every so often, e.g. once per
 * network; it costs nothing when called often. */
void wk_keepalive(struct wk_ctx *ctx);

/* Publish an event about an object from a worker (fqdn = ctx->node; job id from the thread's
 * log context, the full request id from ctx->job when a job is running). extra borrowed.
 * Logs a warning when it fails. */
int wk_event(struct wk_ctx *ctx, enum sf_object_type object_type, const char *object_uuid,
	     enum sf_event_type type, const char *message, json_t *extra);

/* Job status records: sf_job_status_set/get (sf/jobstatus.h); the loop writes "running", then
 * "done", "failed", "dead", or "queued" with the error before a retry. */

#endif
