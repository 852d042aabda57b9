/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job status records: what became of a job, for `sf-submit --wait`, GET /jobs and the logs.
 * Written by whoever moves the job on: the publisher (sf-api's api_publish_job, sf-submit)
 * records "queued" just before it publishes, the workers' job loop "running", "done", "failed",
 * "dead" (or "queued" again, with the error, before a retry).
 *
 * "<prefix>job:<uuid>" is a JSON string, written whole each time and expiring
 * SF_JOB_STATUS_TTL_S after the last write:
 *   {"job": uuid, "state": "running", "type": "network.deploy"|null,
 *    "object": {"type": "network", "uuid": ...}|null, "node": str|null, "attempts": n,
 *    "error": str|null, "queued_at": epoch|null, "started_at": epoch|null,
 *    "finished_at": epoch|null}
 * queued_at is the job's submitted_at. type and object are null for a message that was not a
 * valid job.
 *
 * "<prefix>jobs" is the index: a sorted set of job uuids scored by queued_at (the time of the
 * first record when the job is unknown), written in the same transaction as the record
 * (ZADD NX, so the score never moves). Entries older than the records' TTL are dropped, and the
 * set is capped at the SF_JOB_INDEX_MAX newest.
 */
#ifndef SF_JOBSTATUS_H
#define SF_JOBSTATUS_H

#include <jansson.h>
#include <stddef.h>

#include "sf/envelope.h"

struct sf_kv;

#define SF_JOB_STATUS_TTL_S (24 * 3600)
#define SF_JOB_INDEX_MAX 10000

struct sf_job_status {
	enum sf_job_state state;
	const struct sf_job *job; /* NULL when the message was not a valid job */
	const char *node;	  /* the node handling it; may be NULL */
	unsigned attempts;	  /* deliveries so far, this one included; 0 when not started */
	const char *error;	  /* may be NULL */
	double started_at;	  /* epoch; 0 for none */
	double finished_at;	  /* epoch; 0 for none */
};

/* Write the record and index it, in one MULTI/EXEC. -EINVAL for a job_id that is not a uuid or
 * an unknown state. */
int sf_job_status_set(struct sf_kv *kv, const char *job_id, const struct sf_job_status *st);
/* The record (caller decrefs); -ENOENT when there is none, -EBADMSG when it is not JSON,
 * -EINVAL when job_id is not a uuid. */
int sf_job_status_get(struct sf_kv *kv, const char *job_id, json_t **ret_status);
/* The records of the limit (>= 1) most recently queued jobs, newest first, as a new array;
 * jobs whose record has expired are skipped. */
int sf_job_status_list(struct sf_kv *kv, size_t limit, json_t **ret_statuses);

/* true for the states a job does not leave: done, failed, dead. */
bool sf_job_state_is_final(enum sf_job_state st);

#endif
