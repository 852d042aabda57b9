// SPDX-License-Identifier: Apache-2.0
/* Publishing jobs (sf.jobs) and events (sf.events) from request handlers, and jobs sent as
 * requests that wait for the worker's answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/jobstatus.h"
#include "sf/log.h"
#include "sf/mq.h"

SF_LOG_MODULE("publish");

/* How long a publish waits for a (re)connection to RabbitMQ: the per-thread connection may
 * have been closed by the broker while idle, and reconnecting is quick when it is up. */
#define MQ_READY_MS 2000

static int mq_ready(struct api_ctx *ctx)
{
	return sf_mq_wait_ready(ctx->mq, MQ_READY_MS);
}

/* A job ready to go: built, checked against its schema, serialized, with its routing key
 * ("networknode" or "hypervisor.<node>", by the type's target) and its id as message id. */
struct outgoing {
	struct sf_job *job;
	char *key;
	char *body;
	struct sf_mq_msg_props props;
};

static void outgoing_done(struct outgoing *o)
{
	sf_job_free(o->job);
	free(o->key);
	free(o->body);
}

/* The job, and the connection ready to send it. */
static int outgoing_prepare(struct api_ctx *ctx, int job_type, const char *object_uuid,
			    json_t *args, const char *node, struct outgoing *ret)
{
	const struct sf_job_type_info *info;
	struct outgoing o = {0};
	struct sf_diag diag = {0};
	int r;

	if (job_type < 0 || job_type >= _SF_JOB_TYPE_MAX)
		return -EINVAL;
	info = &sf_job_types[job_type];
	if (node && (info->targets & SF_JOB_TO_HYPERVISOR))
		o.key = sf_xasprintf("hypervisor.%s", node);
	else if (info->targets & SF_JOB_TO_NETWORKNODE)
		o.key = sf_xstrdup("networknode");
	else
		return sf_log_err_errno(-EINVAL, "job %s needs a node to go to", info->name);

	r = sf_job_new((enum sf_job_type)job_type, object_uuid, args, api_current_request_id(),
		       &o.job);
	if (r < 0) {
		sf_log_err_errno(r, "cannot build job %s for %s", info->name, object_uuid);
		goto fail;
	}
	r = sf_job_check(ctx->envelopes, o.job, &diag);
	if (r < 0) {
		sf_log_err("job %s for %s does not match its schema: %s", info->name, object_uuid,
			   diag.message);
		goto fail;
	}
	o.body = sf_job_serialize(o.job);
	o.props.message_id = o.job->id;
	r = mq_ready(ctx);
	if (r < 0) {
		sf_log_warn_errno(r, "sending job %s %s to '%s' failed", info->name, o.job->id,
				  o.key);
		goto fail;
	}
	*ret = o;
	return 0;
fail:
	outgoing_done(&o);
	return r;
}

/* The job's status record (sf/jobstatus.h). "queued" is written before the publish, so that a
 * worker's "running" can never be overwritten by it; a job that could not be published is
 * then recorded as failed. A record that cannot be written is logged: the job goes anyway. */
static void record_status(struct api_ctx *ctx, const struct sf_job *job, enum sf_job_state state,
			  const char *error)
{
	struct sf_job_status st = {.state = state, .job = job, .error = error};
	int r;

	if (state == SF_JOB_FAILED)
		st.finished_at = sf_now_epoch();
	r = sf_job_status_set(ctx->kv, job->id, &st);
	if (r < 0)
		sf_log_warn_errno(r, "recording job %s as %s failed", job->id,
				  sf_job_state_to_string(state));
}

int api_publish_job(struct api_ctx *ctx, int job_type, const char *object_uuid, json_t *args,
		    const char *node, char **ret_job_id)
{
	struct outgoing o;
	char error[128];
	int r;

	r = outgoing_prepare(ctx, job_type, object_uuid, args, node, &o);
	if (r < 0)
		return r;
	record_status(ctx, o.job, SF_JOB_QUEUED, NULL);
	r = sf_mq_publish(ctx->mq, SF_MQ_JOBS_EXCHANGE, o.key, o.body, strlen(o.body), &o.props);
	if (r < 0) {
		sf_log_warn_errno(r, "publishing job %s %s to '%s' failed",
				  sf_job_types[job_type].name, o.job->id, o.key);
		(void)snprintf(error, sizeof(error), "not published to '%s': %s", o.key,
			       sf_strerror(r));
		record_status(ctx, o.job, SF_JOB_FAILED, error);
	} else {
		sf_log_debug("published job %s %s for %s to '%s'", sf_job_types[job_type].name,
			     o.job->id, object_uuid, o.key);
		if (ret_job_id)
			*ret_job_id = sf_xstrdup(o.job->id);
	}
	outgoing_done(&o);
	return r;
}

int api_request_job(struct api_ctx *ctx, int job_type, const char *object_uuid, json_t *args,
		    const char *node, int timeout_ms, char **ret_reply, size_t *ret_len)
{
	struct outgoing o;
	int r;

	r = outgoing_prepare(ctx, job_type, object_uuid, args, node, &o);
	if (r < 0)
		return r;
	r = sf_mq_request(ctx->mq, SF_MQ_JOBS_EXCHANGE, o.key, o.body, strlen(o.body), &o.props,
			  timeout_ms, ret_reply, ret_len);
	sf_log_debug("request job %s %s for %s to '%s': %s", sf_job_types[job_type].name, o.job->id,
		     object_uuid, o.key, r < 0 ? sf_strerror(r) : "answered");
	outgoing_done(&o);
	return r;
}

int api_event(struct api_ctx *ctx, int object_type, const char *object_uuid, int event_type,
	      const char *message, json_t *extra)
{
	const char *rid = api_current_request_id();
	struct sf_mq_msg_props props = {0};
	struct sf_diag diag = {0};
	struct sf_event *ev = NULL;
	char *key = NULL, *body = NULL;
	int r;

	if (object_type < 0 || object_type >= _SF_OBJECT_TYPE_MAX || event_type < 0 ||
	    event_type >= _SF_EVENT_TYPE_MAX)
		return -EINVAL;
	r = sf_event_new((enum sf_object_type)object_type, object_uuid,
			 (enum sf_event_type)event_type, message, extra, ctx->cfg->fqdn, &ev);
	if (r < 0) {
		sf_log_err_errno(r, "cannot build event '%s' for %s", message, object_uuid);
		goto out;
	}
	if (rid) /* the log context keeps only 64 characters; the event gets all of it */
		(void)snprintf(ev->request_id, sizeof(ev->request_id), "%s", rid);
	r = sf_event_check(ctx->envelopes, ev, &diag);
	if (r < 0) {
		sf_log_err("event '%s' for %s does not match its schema: %s", message, object_uuid,
			   diag.message);
		goto out;
	}
	r = sf_event_routing_key(ev, &key);
	if (r < 0) {
		sf_log_err_errno(r, "no routing key for event '%s' for %s", message, object_uuid);
		goto out;
	}
	body = sf_event_serialize(ev);
	props.message_id = ev->id;
	r = mq_ready(ctx);
	if (r >= 0)
		r = sf_mq_publish(ctx->mq, SF_MQ_EVENTS_EXCHANGE, key, body, strlen(body), &props);
	if (r < 0)
		sf_log_err_errno(r, "publishing event '%s' for %s %s failed", message,
				 sf_object_type_to_string(ev->object_type), object_uuid);
out:
	free(body);
	free(key);
	sf_event_free(ev);
	return r;
}
