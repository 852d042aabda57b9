// SPDX-License-Identifier: Apache-2.0
/* Job status records and their index (see sf/jobstatus.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/jobstatus.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("jobstatus");

bool sf_job_state_is_final(enum sf_job_state st)
{
	return st == SF_JOB_DONE || st == SF_JOB_FAILED || st == SF_JOB_DEAD;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *epoch_or_null(double t)
{
	return t > 0 ? json_real(t) : json_null();
}

static json_t *record(const char *job_id, const struct sf_job_status *st)
{
	const struct sf_job *job = st->job;
	json_t *v, *object = json_null(), *type = json_null(), *queued_at = json_null();

	if (job) {
		object = json_pack("{s:s, s:s}", "type", sf_object_type_to_string(job->object_type),
				   "uuid", job->object_uuid);
		type = json_string(sf_job_type_to_string(job->type));
		queued_at = epoch_or_null(job->submitted_at);
	}
	v = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "job", job_id, "state",
		      sf_job_state_to_string(st->state), "type", type, "object", object, "node",
		      str_or_null(st->node), "attempts", (json_int_t)st->attempts, "error",
		      str_or_null(st->error), "queued_at", queued_at, "started_at",
		      epoch_or_null(st->started_at), "finished_at", epoch_or_null(st->finished_at));
	if (!v) {
		sf_log_err("out of memory building a job status record");
		abort();
	}
	return v;
}

int sf_job_status_set(struct sf_kv *kv, const char *job_id, const struct sf_job_status *st)
{
	char ttl[16], score[32], oldest[32], cap[24], *key, *index, *s;
	struct sf_kv_batch *b;
	struct sf_kv_reply *reply = NULL;
	double now = sf_now_epoch();
	json_t *v;
	int r;

	if (!sf_uuid_is_valid(job_id) || (unsigned)st->state >= _SF_JOB_STATE_MAX)
		return -EINVAL;
	v = record(job_id, st);
	s = sf_json_dumps(v);
	json_decref(v);
	key = sf_kv_key(kv, "job:%s", job_id);
	index = sf_kv_key(kv, "jobs");
	(void)snprintf(ttl, sizeof(ttl), "%u", (unsigned)SF_JOB_STATUS_TTL_S);
	(void)snprintf(score, sizeof(score), "%.6f",
		       st->job && st->job->submitted_at > 0 ? st->job->submitted_at : now);
	(void)snprintf(oldest, sizeof(oldest), "(%.6f", now - SF_JOB_STATUS_TTL_S);
	(void)snprintf(cap, sizeof(cap), "%d", -(SF_JOB_INDEX_MAX + 1));

	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "SET", key, s, "EX", ttl, NULL);
	sf_kv_batch_add(b, "ZADD", index, "NX", score, job_id, NULL);
	sf_kv_batch_add(b, "ZREMRANGEBYSCORE", index, "-inf", oldest, NULL);
	sf_kv_batch_add(b, "ZREMRANGEBYRANK", index, "0", cap, NULL);
	r = sf_kv_exec(kv, b, &reply);
	for (size_t i = 0; r == 0 && i < reply->n; i++) {
		r = sf_kv_reply_errno(reply->elems[i]);
		if (r < 0)
			sf_log_debug("command %zu of the job status transaction failed: %s", i,
				     reply->elems[i]->str);
	}
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);
	free(index);
	free(key);
	free(s);
	return r;
}

static int parse_record(const char *s, json_t **ret_status)
{
	json_t *v = json_loads(s, 0, NULL);

	if (!json_is_object(v)) {
		json_decref(v);
		return -EBADMSG;
	}
	*ret_status = v;
	return 0;
}

int sf_job_status_get(struct sf_kv *kv, const char *job_id, json_t **ret_status)
{
	char *key, *s = NULL;
	int r;

	if (!sf_uuid_is_valid(job_id))
		return -EINVAL;
	key = sf_kv_key(kv, "job:%s", job_id);
	r = sf_kv_get(kv, key, &s);
	free(key);
	if (r < 0)
		return r;
	r = parse_record(s, ret_status);
	free(s);
	return r;
}

int sf_job_status_list(struct sf_kv *kv, size_t limit, json_t **ret_statuses)
{
	struct sf_kv_reply *ids = NULL, *recs = NULL;
	struct sf_kv_batch *b = NULL;
	char stop[24], *index;
	json_t *out;
	int r;

	if (limit == 0)
		return -EINVAL;
	index = sf_kv_key(kv, "jobs");
	(void)snprintf(stop, sizeof(stop), "%zu", limit - 1);
	r = sf_kv_cmd(kv, &ids, "ZREVRANGE", index, "0", stop, NULL);
	free(index);
	if (r < 0)
		return r;
	r = -EPROTO;
	if (ids->type != SF_KV_REPLY_ARRAY)
		goto out;
	for (size_t i = 0; i < ids->n; i++)
		if (ids->elems[i]->type != SF_KV_REPLY_STR)
			goto out;
	r = 0;
	out = json_array();
	if (ids->n > 0) {
		b = sf_kv_batch_new();
		for (size_t i = 0; i < ids->n; i++) {
			char *key = sf_kv_key(kv, "job:%s", ids->elems[i]->str);

			sf_kv_batch_add(b, "GET", key, NULL);
			free(key);
		}
		r = sf_kv_exec(kv, b, &recs);
		if (r < 0) {
			json_decref(out);
			goto out;
		}
	}
	for (size_t i = 0; recs && i < recs->n; i++) {
		json_t *v;

		/* expired (nil) or not ours (not JSON): skipped */
		if (recs->elems[i]->type == SF_KV_REPLY_STR &&
		    parse_record(recs->elems[i]->str, &v) == 0)
			json_array_append_new(out, v);
	}
	*ret_statuses = out;
out:
	sf_kv_reply_free(recs);
	sf_kv_reply_free(ids);
	sf_kv_batch_free(b);
	return r;
}
