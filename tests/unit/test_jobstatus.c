// SPDX-License-Identifier: Apache-2.0
/* Job status records and their index (shared/src/jobstatus.c) over the fake store. The cap of
 * the index (SF_JOB_INDEX_MAX entries) is tested against Redis in tests/api/test_jobs.py: ten
 * thousand writes are slow in the fake's linear lists. */
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
#include "sf/jobstatus.h"
#include "sf/kv.h"
#include "sf/util.h"

#define NET_UUID "6f1c5ad2-4a43-4d9b-9a4b-2b8e3f0c1a77"

static int setup(void **state)
{
	*state = sf_kv_fake_new("t:");
	return 0;
}

static int teardown(void **state)
{
	sf_kv_free(*state);
	return 0;
}

static struct sf_job *job_at(double submitted_at)
{
	struct sf_job *job = NULL;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, NET_UUID, NULL, NULL, &job), 0);
	job->submitted_at = submitted_at;
	return job;
}

static void set_queued(struct sf_kv *kv, const struct sf_job *job)
{
	struct sf_job_status st = {.state = SF_JOB_QUEUED, .job = job};

	assert_int_equal(sf_job_status_set(kv, job->id, &st), 0);
}

static double index_score(struct sf_kv *kv, const char *id)
{
	struct sf_kv_reply *reply;
	double v;

	assert_int_equal(sf_kv_cmd(kv, &reply, "ZSCORE", "t:jobs", id, NULL), 0);
	assert_int_equal(reply->type, SF_KV_REPLY_STR);
	v = strtod(reply->str, NULL);
	sf_kv_reply_free(reply);
	return v;
}

static long long index_size(struct sf_kv *kv)
{
	struct sf_kv_reply *reply;
	long long n;

	assert_int_equal(sf_kv_cmd(kv, &reply, "ZCARD", "t:jobs", NULL), 0);
	n = reply->integer;
	sf_kv_reply_free(reply);
	return n;
}

/* A record is written whole, with every member, and read back; the TTL is set. */
static void test_set_get(void **state)
{
	struct sf_kv *kv = *state;
	double now = sf_now_epoch();
	struct sf_job *job = job_at(now - 5);
	struct sf_job_status st = {.state = SF_JOB_FAILED,
				   .job = job,
				   .node = "hv1",
				   .attempts = 2,
				   .error = "network does not exist",
				   .started_at = now - 1,
				   .finished_at = now};
	struct sf_kv_reply *ttl;
	json_t *v = NULL;
	char *key;

	assert_int_equal(sf_job_status_set(kv, job->id, &st), 0);
	assert_int_equal(sf_job_status_get(kv, job->id, &v), 0);
	assert_int_equal(json_object_size(v), 10);
	assert_string_equal(json_string_value(json_object_get(v, "job")), job->id);
	assert_string_equal(json_string_value(json_object_get(v, "state")), "failed");
	assert_string_equal(json_string_value(json_object_get(v, "type")), "network.deploy");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(v, "object"), "type")),
		"network");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(v, "object"), "uuid")), NET_UUID);
	assert_string_equal(json_string_value(json_object_get(v, "node")), "hv1");
	assert_int_equal(json_integer_value(json_object_get(v, "attempts")), 2);
	assert_string_equal(json_string_value(json_object_get(v, "error")),
			    "network does not exist");
	assert_true(json_real_value(json_object_get(v, "queued_at")) == job->submitted_at);
	assert_true(json_real_value(json_object_get(v, "finished_at")) == now);
	json_decref(v);

	key = sf_kv_key(kv, "job:%s", job->id);
	assert_int_equal(sf_kv_cmd(kv, &ttl, "TTL", key, NULL), 0);
	assert_int_equal(ttl->integer, SF_JOB_STATUS_TTL_S);
	sf_kv_reply_free(ttl);
	free(key);
	sf_job_free(job);
}

/* Without a job (a message that was not one): null type, object and queued_at; indexed at
 * the time of the write. */
static void test_record_without_job(void **state)
{
	struct sf_kv *kv = *state;
	char id[SF_UUID_STRLEN];
	double before = sf_now_epoch();
	json_t *v = NULL;

	sf_uuid_generate(id);
	assert_int_equal(sf_job_status_set(kv, id,
					   &(struct sf_job_status){.state = SF_JOB_DEAD,
								   .error = "not a job"}),
			 0);
	assert_int_equal(sf_job_status_get(kv, id, &v), 0);
	assert_true(json_is_null(json_object_get(v, "type")));
	assert_true(json_is_null(json_object_get(v, "object")));
	assert_true(json_is_null(json_object_get(v, "queued_at")));
	assert_true(json_is_null(json_object_get(v, "node")));
	assert_string_equal(json_string_value(json_object_get(v, "state")), "dead");
	json_decref(v);
	assert_true(index_score(kv, id) >= before - 1e-3);
}

static void test_bad_arguments(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_job_status st = {.state = SF_JOB_QUEUED};
	char id[SF_UUID_STRLEN];
	json_t *v = NULL, *list = NULL;

	assert_int_equal(sf_job_status_set(kv, "not-a-uuid", &st), -EINVAL);
	sf_uuid_generate(id);
	st.state = _SF_JOB_STATE_MAX;
	assert_int_equal(sf_job_status_set(kv, id, &st), -EINVAL);
	assert_int_equal(sf_job_status_get(kv, "../etc", &v), -EINVAL);
	assert_int_equal(sf_job_status_get(kv, id, &v), -ENOENT);
	assert_int_equal(sf_job_status_list(kv, 0, &list), -EINVAL);
	assert_null(v);
	assert_null(list);
	assert_int_equal(sf_kv_fake_nkeys(kv), 0);
}

/* Newest queued first, limited; a later write of the same job keeps its place (ZADD NX). */
static void test_list_order_and_limit(void **state)
{
	struct sf_kv *kv = *state;
	double now = sf_now_epoch();
	struct sf_job *a = job_at(now - 30), *b = job_at(now - 10), *c = job_at(now - 20);
	json_t *list = NULL;

	set_queued(kv, a);
	set_queued(kv, b);
	set_queued(kv, c);
	/* a runs last: its score stays its queued time */
	assert_int_equal(sf_job_status_set(kv, a->id,
					   &(struct sf_job_status){.state = SF_JOB_RUNNING,
								   .job = a,
								   .attempts = 1,
								   .started_at = now}),
			 0);
	assert_true(index_score(kv, a->id) < now - 29);
	assert_int_equal(index_size(kv), 3);

	assert_int_equal(sf_job_status_list(kv, 10, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "job")),
			    b->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "job")),
			    c->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "job")),
			    a->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 2), "state")),
			    "running");
	json_decref(list);

	assert_int_equal(sf_job_status_list(kv, 2, &list), 0);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "job")),
			    c->id);
	json_decref(list);
	sf_job_free(a);
	sf_job_free(b);
	sf_job_free(c);
}

/* Records that expired, or that are not JSON, are left out of the list; an empty index gives
 * an empty list. */
static void test_list_skips_missing(void **state)
{
	struct sf_kv *kv = *state;
	double now = sf_now_epoch();
	struct sf_job *a = job_at(now - 2), *b = job_at(now - 1);
	json_t *list = NULL, *v = NULL;
	char *key;

	assert_int_equal(sf_job_status_list(kv, 5, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);

	set_queued(kv, a);
	set_queued(kv, b);
	key = sf_kv_key(kv, "job:%s", b->id);
	assert_int_equal(sf_kv_set(kv, key, "{oops", 0, 0), 0);
	free(key);
	assert_int_equal(sf_job_status_get(kv, b->id, &v), -EBADMSG);
	assert_int_equal(sf_job_status_list(kv, 5, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "job")),
			    a->id);
	json_decref(list);

	sf_kv_fake_advance_ms(kv, (SF_JOB_STATUS_TTL_S + 1) * 1000ULL);
	assert_int_equal(sf_job_status_get(kv, a->id, &v), -ENOENT);
	assert_int_equal(sf_job_status_list(kv, 5, &list), 0);
	assert_int_equal(json_array_size(list), 0);
	json_decref(list);
	sf_job_free(a);
	sf_job_free(b);
}

/* Entries queued longer ago than the records live are dropped at the next write. */
static void test_index_drops_old_entries(void **state)
{
	struct sf_kv *kv = *state;
	double now = sf_now_epoch();
	struct sf_job *old = job_at(now - SF_JOB_STATUS_TTL_S - 60), *fresh = job_at(now);
	json_t *list = NULL;

	set_queued(kv, old);
	set_queued(kv, fresh);
	assert_int_equal(index_size(kv), 1);
	assert_int_equal(sf_job_status_list(kv, 5, &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "job")),
			    fresh->id);
	json_decref(list);
	sf_job_free(old);
	sf_job_free(fresh);
}

static void test_store_down(void **state)
{
	struct sf_kv *kv = *state;
	struct sf_job *job = job_at(sf_now_epoch());
	struct sf_job_status st = {.state = SF_JOB_QUEUED, .job = job};
	json_t *v = NULL;

	sf_kv_fake_set_down(kv, true);
	assert_int_equal(sf_job_status_set(kv, job->id, &st), -ECONNREFUSED);
	assert_int_equal(sf_job_status_get(kv, job->id, &v), -ECONNREFUSED);
	assert_int_equal(sf_job_status_list(kv, 1, &v), -ECONNREFUSED);
	assert_null(v);
	sf_job_free(job);
}

static void test_final_states(void **state)
{
	(void)state;
	assert_false(sf_job_state_is_final(SF_JOB_QUEUED));
	assert_false(sf_job_state_is_final(SF_JOB_RUNNING));
	assert_true(sf_job_state_is_final(SF_JOB_DONE));
	assert_true(sf_job_state_is_final(SF_JOB_FAILED));
	assert_true(sf_job_state_is_final(SF_JOB_DEAD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_without_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_order_and_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_skips_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_drops_old_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_down, setup, teardown),
		cmocka_unit_test(test_final_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
