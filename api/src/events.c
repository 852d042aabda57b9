// SPDX-License-Identifier: Apache-2.0
/*
 * The event recorder (sf.events.record -> one capped Redis stream per object) and the reader
 * behind GET .../events.
 *
 * Delivery is at least once: an event is acked after it is stored, so one stored just before
 * a connection died comes back. The store script therefore records each event id once (a
 * marker key that expires after a day) and adds the event to the stream in the same step.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "events.h"
#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/mq.h"

SF_LOG_MODULE("events");

#define STREAM_FIELD "event"
#define SEEN_TTL_S "86400"
#define NEXT_TIMEOUT_MS 500 /* how often the recorder looks at its stop flag */
#define READ_PAGE 200	    /* entries per XREVRANGE when filtering or reading all */

/* KEYS[1] the object's stream, KEYS[2] the event's marker; ARGV: maxlen, event JSON, ttl. */
static const char store_lua[] =
	"if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then\n"
	"  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', '" STREAM_FIELD
	"', ARGV[2])\n"
	"end\n"
	"return false\n";

struct api_events_recorder {
	const struct api_cfg *cfg;
	const struct sf_envelope_schemas *envelopes;
	struct sf_kv *kv;
	struct sf_mq *mq;
	struct sf_kv_script *store;
	pthread_t thread;
	atomic_bool stop;
};

static bool stopping(struct api_events_recorder *rec)
{
	return atomic_load(&rec->stop);
}

/* Sleep up to ms, waking early when told to stop. */
static void nap(struct api_events_recorder *rec, uint64_t ms)
{
	uint64_t end = sf_now_monotonic_ms() + ms;

	while (!stopping(rec) && sf_now_monotonic_ms() < end)
		(void)sf_sleep_ms(50);
}

static int store_event(struct api_events_recorder *rec, const struct sf_event *ev)
{
	char *stream = sf_kv_key(rec->kv, "events:%s:%s", sf_object_type_to_string(ev->object_type),
				 ev->object_uuid);
	char *seen = sf_kv_key(rec->kv, "event-seen:%s", ev->id);
	char *json = sf_event_serialize(ev);
	char maxlen[32];
	const char *keys[] = {stream, seen};
	const char *args[] = {maxlen, json, SEEN_TTL_S};
	int r;

	(void)snprintf(maxlen, sizeof(maxlen), "%ld", rec->cfg->events_max_per_object);
	r = sf_kv_script_run(rec->kv, rec->store, 2, keys, 3, args, NULL);
	free(json);
	free(seen);
	free(stream);
	return r;
}

/* One delivery: store it (retrying while Redis is away), then settle it. */
static void record(struct api_events_recorder *rec, struct sf_mq_delivery *d)
{
	struct sf_event *ev = NULL;
	struct sf_diag diag = {0};
	unsigned attempt = 0;
	int r;

	r = sf_event_parse(rec->envelopes, d->body, d->len, &ev, &diag);
	if (r < 0) {
		sf_log_warn("dropping an invalid event (message id %s): %s",
			    d->message_id ? d->message_id : "none", diag.message);
		(void)sf_mq_nack(rec->mq, d, false);
		return;
	}
	while ((r = store_event(rec, ev)) < 0) {
		sf_log_warn_rl("storing event %s failed, retrying: %s", ev->id, sf_strerror(r));
		if (stopping(rec))
			goto out; /* unacked: redelivered to whoever consumes next */
		nap(rec, sf_backoff_ms(attempt++, 100, 5000));
	}
	r = sf_mq_ack(rec->mq, d);
	if (r < 0) /* the store is idempotent: the redelivery is recognised */
		sf_log_debug_errno(r, "ack of event %s failed", ev->id);
out:
	sf_event_free(ev);
}

static void *recorder_main(void *arg)
{
	struct api_events_recorder *rec = arg;
	bool consuming = false;
	unsigned attempt = 0;
	int r;

	while (!stopping(rec)) {
		struct sf_mq_delivery *d = NULL;

		if (!consuming) {
			r = sf_mq_declare_topology(rec->mq, NULL, 0);
			if (r >= 0)
				r = sf_mq_consume_start(rec->mq, SF_MQ_EVENTS_RECORD_QUEUE);
			if (r < 0) {
				sf_log_warn_rl("cannot consume %s yet, retrying: %s",
					       SF_MQ_EVENTS_RECORD_QUEUE, sf_strerror(r));
				nap(rec, sf_backoff_ms(attempt++, 200, 5000));
				continue;
			}
			consuming = true;
			attempt = 0;
			sf_log_debug("recording events from %s", SF_MQ_EVENTS_RECORD_QUEUE);
		}
		r = sf_mq_next(rec->mq, NEXT_TIMEOUT_MS, &d);
		if (r == -ETIMEDOUT)
			continue;
		if (r < 0) {
			/* The client reconnects and resumes consuming by itself. */
			sf_log_warn_rl("receiving events failed, retrying: %s", sf_strerror(r));
			nap(rec, sf_backoff_ms(attempt++, 200, 5000));
			continue;
		}
		attempt = 0;
		record(rec, d);
		sf_mq_delivery_free(d);
	}
	return NULL;
}

int api_events_recorder_start(const struct api_cfg *cfg,
			      const struct sf_envelope_schemas *envelopes,
			      struct api_events_recorder **ret_recorder)
{
	struct api_events_recorder *rec = sf_xcalloc(1, sizeof(*rec));
	struct sf_kv_options kopt = {.prefix = cfg->common.redis_prefix};
	int r;

	rec->cfg = cfg;
	rec->envelopes = envelopes;
	atomic_init(&rec->stop, false);
	r = sf_kv_redis_new(cfg->common.redis_url, &kopt, &rec->kv);
	if (r >= 0)
		r = sf_mq_amqp_new(cfg->common.amqp_url, NULL, &rec->mq);
	if (r >= 0)
		r = sf_kv_script_new(store_lua, &rec->store);
	if (r >= 0)
		r = -pthread_create(&rec->thread, NULL, recorder_main, rec);
	if (r < 0) {
		sf_kv_script_free(rec->store);
		sf_mq_free(rec->mq);
		sf_kv_free(rec->kv);
		free(rec);
		return sf_log_err_errno(r, "cannot start the event recorder");
	}
	*ret_recorder = rec;
	return 0;
}

void api_events_recorder_stop(struct api_events_recorder *rec)
{
	if (!rec)
		return;
	atomic_store(&rec->stop, true);
	pthread_join(rec->thread, NULL);
	sf_kv_script_free(rec->store);
	sf_mq_free(rec->mq);
	sf_kv_free(rec->kv);
	free(rec);
}

/* ---- reading ---- */

static json_t *member_or_null(json_t *doc, const char *key)
{
	json_t *v = json_object_get(doc, key);

	return v ? json_incref(v) : json_null();
}

/* A stored envelope as the spec 5 record; NULL when it cannot be decoded. */
static json_t *to_record(const char *stored, size_t len)
{
	json_t *doc = json_loadb(stored, len, 0, NULL);
	json_t *extra, *rid, *rec;

	if (!json_is_object(doc)) {
		json_decref(doc);
		return NULL;
	}
	extra = member_or_null(doc, "extra");
	rid = json_object_get(doc, "request_id");
	if (json_is_string(rid)) {
		if (!json_is_object(extra)) {
			json_decref(extra);
			extra = json_object();
		}
		json_object_set(extra, "request-id", rid);
	}
	rec = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "type", member_or_null(doc, "type"),
			"timestamp", member_or_null(doc, "timestamp"), "fqdn",
			member_or_null(doc, "fqdn"), "duration", member_or_null(doc, "duration"),
			"message", member_or_null(doc, "message"), "extra", extra);
	json_decref(doc);
	return rec;
}

/* The stored event of one XREVRANGE entry [id, [field, value, ...]]. */
static const struct sf_kv_reply *entry_event(const struct sf_kv_reply *e)
{
	const struct sf_kv_reply *fields;

	if (e->type != SF_KV_REPLY_ARRAY || e->n != 2 || e->elems[0]->type != SF_KV_REPLY_STR)
		return NULL;
	fields = e->elems[1];
	if (fields->type != SF_KV_REPLY_ARRAY)
		return NULL;
	for (size_t i = 0; i + 1 < fields->n; i += 2)
		if (fields->elems[i]->type == SF_KV_REPLY_STR &&
		    strcmp(fields->elems[i]->str, STREAM_FIELD) == 0 &&
		    fields->elems[i + 1]->type == SF_KV_REPLY_STR)
			return fields->elems[i + 1];
	return NULL;
}

int api_events_read(struct api_ctx *ctx, const char *object_type, const char *uuid,
		    const char *event_type, long limit, json_t **ret_events)
{
	enum sf_event_type want;
	json_t *list = json_array();
	char *key, start[64] = "+", count[32];
	bool done = limit == 0;
	long page;
	int r = 0;

	if (event_type && sf_event_type_from_string(event_type, &want) < 0) {
		json_decref(list);
		return -EINVAL;
	}
	/* Unfiltered with a limit, one read does; otherwise walk the stream in pages. */
	page = (!event_type && limit > 0) ? limit : READ_PAGE;
	(void)snprintf(count, sizeof(count), "%ld", page);
	key = sf_kv_key(ctx->kv, "events:%s:%s", object_type, uuid);
	while (!done) {
		struct sf_kv_reply *reply = NULL;

		r = sf_kv_cmd(ctx->kv, &reply, "XREVRANGE", key, start, "-", "COUNT", count, NULL);
		if (r < 0)
			break;
		if (reply->type != SF_KV_REPLY_ARRAY) {
			sf_kv_reply_free(reply);
			r = -EPROTO;
			break;
		}
		/* The stream ended, or (never expected) entries without an id would not advance. */
		done = reply->n < (size_t)page || reply->n == 0 ||
		       reply->elems[reply->n - 1]->type != SF_KV_REPLY_ARRAY;
		for (size_t i = 0; i < reply->n; i++) {
			const struct sf_kv_reply *e = reply->elems[i];
			const struct sf_kv_reply *stored = entry_event(e);
			json_t *rec = stored ? to_record(stored->str, stored->len) : NULL;

			if (e->type == SF_KV_REPLY_ARRAY && e->n >= 1 &&
			    e->elems[0]->type == SF_KV_REPLY_STR)
				(void)snprintf(start, sizeof(start), "(%s", e->elems[0]->str);
			if (!rec) {
				sf_log_warn_rl("skipping an undecodable event in %s", key);
				continue;
			}
			if (event_type && !sf_streq(json_string_value(json_object_get(rec, "type")),
						    event_type)) {
				json_decref(rec);
				continue;
			}
			json_array_append_new(list, rec);
			if (limit > 0 && json_array_size(list) == (size_t)limit) {
				done = true;
				break;
			}
		}
		sf_kv_reply_free(reply);
	}
	free(key);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	*ret_events = list;
	return 0;
}
