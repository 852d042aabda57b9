// SPDX-License-Identifier: Apache-2.0
/*
 * GET /jobs and GET /jobs/<uuid> (system namespace only): the job status records that the
 * publishers and the workers' job loop keep (sf/jobstatus.h), as they are stored:
 *   {job, state, type, object, node, attempts, error, queued_at, started_at, finished_at}
 * GET /jobs lists the most recently queued jobs, newest first; "limit" (body, 1..10000, default
 * 100) caps the list. Records expire a day after their last change.
 */
#include <errno.h>
#include <limits.h>

#include "api.h"
#include "sf/jobstatus.h"

#define DEFAULT_LIMIT 100

static int h_jobs_list(struct api_ctx *ctx, const struct api_request *req,
		       struct api_response *resp)
{
	const json_t *v = json_object_get(req->body, "limit");
	long limit = DEFAULT_LIMIT;
	json_t *jobs = NULL;
	int r;

	if (json_is_integer(v))
		limit = json_integer_value(v) > LONG_MAX ? LONG_MAX : (long)json_integer_value(v);
	else if (json_is_string(v) &&
		 sf_parse_long(json_string_value(v), LONG_MIN, LONG_MAX, &limit) < 0)
		return api_error(resp, 400, "limit must be an integer, not \"%s\"",
				 json_string_value(v));
	if (limit < 1 || limit > SF_JOB_INDEX_MAX)
		return api_error(resp, 400, "limit must be between 1 and %d, not %ld",
				 SF_JOB_INDEX_MAX, limit);
	r = sf_job_status_list(ctx->kv, (size_t)limit, &jobs);
	return r < 0 ? r : api_ok(resp, jobs);
}

static int h_jobs_get(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	json_t *job = NULL;
	int r = sf_job_status_get(ctx->kv, req->params[0], &job);

	if (r == -ENOENT || r == -EINVAL) /* -EINVAL: not a uuid, so no such job */
		return api_error(resp, 404, "job not found");
	return r < 0 ? r : api_ok(resp, job);
}

const struct api_route api_routes_jobs[] = {
	{"GET", "/jobs", "jobs-list.json", API_SYSTEM_ONLY, h_jobs_list},
	{"GET", "/jobs/<uuid>", NULL, API_SYSTEM_ONLY, h_jobs_get},
	{0},
};
