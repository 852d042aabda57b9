/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events (spec section 5): a recorder thread consumes sf.events.record and stores each event in
 * its object's capped Redis stream "<prefix>events:<object_type>:<uuid>" (XADD MAXLEN ~
 * events_max_per_object); api_events_read() reads them back, newest first.
 */
#ifndef API_EVENTS_H
#define API_EVENTS_H

#include <jansson.h>

#include "api.h"

struct api_events_recorder;

/* Read an object's events, newest first (in the order they were recorded), as spec 5 records
 * {"type", "timestamp", "fqdn", "duration", "message", "extra"}; an event recorded while
 * serving a request has extra["request-id"]. event_type NULL means all types; limit < 0 means
 * no limit. -EINVAL for an unknown event_type (the caller answers 400); kv errors otherwise.
 * An object without events gives []. */
int api_events_read(struct api_ctx *ctx, const char *object_type, const char *uuid,
		    const char *event_type /* NULL: all */, long limit /* <0: all */,
		    json_t **ret_events /* list, newest first, spec 5 record shape */);

/* Start the recorder thread, with its own Redis and RabbitMQ connections (from cfg). It keeps
 * going while either is away (backing off; an event is acked only once stored, so the broker
 * redelivers what was not). cfg and envelopes are borrowed and must outlive it. */
int api_events_recorder_start(const struct api_cfg *cfg,
			      const struct sf_envelope_schemas *envelopes,
			      struct api_events_recorder **ret_recorder);
/* Stop and join the thread; an event being stored is left unacked. NULL does nothing. */
void api_events_recorder_stop(struct api_events_recorder *rec);

#endif
