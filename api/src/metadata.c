// SPDX-License-Identifier: Apache-2.0
/* User metadata requests (spec 1.5.10) for every object that has metadata; see metadata.h. */
#include <errno.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "metadata.h"
#include "sf/envelope.h"
#include "sf/log.h"

SF_LOG_MODULE("metadata");

/* Record an event about the object; extra stolen. The request goes on when the event is lost:
 * the change is what the caller asked for. */
static void event(struct api_ctx *ctx, const struct api_metadata_class *cls, const char *id,
		  enum sf_event_type type, const char *message, json_t *extra)
{
	int r = api_event(ctx, cls->object_type, id, type, message, extra);

	if (r < 0)
		sf_log_warn_errno(r, "%s %s: recording event '%s' failed, ignoring",
				  sf_object_type_to_string((enum sf_object_type)cls->object_type),
				  id, message);
	json_decref(extra);
}

static int metadata_set(struct api_ctx *ctx, const struct api_metadata_class *cls, const char *id,
			const char *key, const json_t *value, const char *method,
			struct api_response *resp)
{
	int r;

	if (!key || !*key)
		return api_error(resp, 400, "no key specified");
	if (!api_json_is_truthy(value))
		return api_error(resp, 400, "no value specified");
	r = cls->set(ctx->kv, id, key, value);
	if (r < 0)
		return r;
	event(ctx, cls, id, SF_EVENT_AUDIT, "set metadata key request from REST API",
	      json_pack("{s:s, s:O, s:s}", "key", key, "value", value, "method", method));
	if (cls->mutate_events)
		event(ctx, cls, id, SF_EVENT_MUTATE, "set attribute",
		      json_pack("{s:s, s:s, s:O}", "attribute", "metadata", "key", key, "value",
				value));
	return api_ok(resp, NULL);
}

static int metadata_delete(struct api_ctx *ctx, const struct api_metadata_class *cls,
			   const char *id, const char *key, struct api_response *resp)
{
	int r;

	r = cls->del(ctx->kv, id, key);
	if (r < 0 && r != -ENOENT) /* deleting a missing key succeeds */
		return r;
	event(ctx, cls, id, SF_EVENT_AUDIT, "delete metadata key request from REST API",
	      json_pack("{s:s}", "key", key));
	if (r == 0 && cls->mutate_events)
		event(ctx, cls, id, SF_EVENT_MUTATE, "set attribute",
		      json_pack("{s:s, s:s, s:n}", "attribute", "metadata", "key", key, "value"));
	return api_ok(resp, NULL);
}

int api_metadata_serve(struct api_ctx *ctx, const struct api_metadata_class *cls, const char *id,
		       const struct api_request *req, struct api_response *resp)
{
	const json_t *value = json_object_get(req->body, "value");
	json_t *md;
	int r;

	if (strcmp(req->method, "GET") == 0) {
		r = cls->get(ctx->kv, id, &md);
		return r < 0 ? r : api_ok(resp, md);
	}
	if (strcmp(req->method, "POST") == 0)
		return metadata_set(ctx, cls, id,
				    json_string_value(json_object_get(req->body, "key")), value,
				    "post", resp);
	if (req->n_params < 2)
		return -EINVAL; /* a route without <key> */
	if (strcmp(req->method, "PUT") == 0)
		return metadata_set(ctx, cls, id, req->params[1], value, "put", resp);
	if (strcmp(req->method, "DELETE") == 0)
		return metadata_delete(ctx, cls, id, req->params[1], resp);
	return -EINVAL;
}
