/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Job and event envelopes: the messages on the sf.jobs and sf.events exchanges (ARCHITECTURE
 * section 2). Built here, serialised to JSON, and parsed back with validation against
 * schemas/jobs/job.json and schemas/events/event.json, so the API, the workers and sf-submit
 * all accept exactly the same messages.
 *
 *   job:   {"job": uuid, "type": "network.route", "version": 1,
 *           "object": {"type": "network", "uuid": uuid}, "args": {"address": "..."},
 *           "request_id": str|null, "submitted_at": epoch}
 *   event: {"event": uuid, "object": {"type", "uuid"}, "type": "audit", "message": str,
 *           "extra": object|null, "timestamp": epoch, "fqdn": str, "duration": secs|null,
 *           "request_id": str|null, "job": uuid|null}
 *
 * Objects are named by {type, uuid}. A node has no uuid: as upstream, where a node's uuid is
 * its fqdn, the "uuid" member of a node object holds the node name.
 */
#ifndef SF_ENVELOPE_H
#define SF_ENVELOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sf/diag.h"
#include "sf/util.h"

#define SF_ENVELOPE_VERSION 1
#define SF_REQUEST_ID_MAX 129 /* 128 characters + NUL, as the schemas allow */

enum sf_object_type {
	SF_OBJECT_NETWORK,
	SF_OBJECT_NETWORKINTERFACE,
	SF_OBJECT_NODE,
	SF_OBJECT_IPAM,
	SF_OBJECT_NAMESPACE,
	SF_OBJECT_INSTANCE,
	_SF_OBJECT_TYPE_MAX,
};

enum sf_job_state {
	SF_JOB_QUEUED,
	SF_JOB_RUNNING,
	SF_JOB_DONE,
	SF_JOB_FAILED,
	SF_JOB_DEAD,
	_SF_JOB_STATE_MAX,
};

enum sf_event_type {
	SF_EVENT_AUDIT,
	SF_EVENT_MUTATE,
	SF_EVENT_STATUS,
	SF_EVENT_USAGE,
	SF_EVENT_RESOURCES,
	SF_EVENT_PRUNE,
	SF_EVENT_HISTORIC,
	_SF_EVENT_TYPE_MAX,
};

enum sf_job_type {
	SF_JOB_NETWORK_DEPLOY,
	SF_JOB_NETWORK_DESTROY,
	SF_JOB_NETWORK_ROUTE,
	SF_JOB_NETWORK_UNROUTE,
	SF_JOB_NETWORK_DNS_UPDATE,
	SF_JOB_NETWORK_DHCP_HOSTS,
	SF_JOB_NETWORK_PING,
	SF_JOB_INTERFACE_PLUG,
	SF_JOB_INTERFACE_UNPLUG,
	SF_JOB_INTERFACE_FLOAT,
	SF_JOB_INTERFACE_DEFLOAT,
	SF_JOB_NODE_RECONCILE,
	_SF_JOB_TYPE_MAX,
};

/* Which workers handle a job type (a bit mask). The publisher picks the routing key: the
 * "networknode" queue, or "hypervisor.<node>" for the node(s) concerned. */
enum {
	SF_JOB_TO_NETWORKNODE = 1 << 0,
	SF_JOB_TO_HYPERVISOR = 1 << 1,
};

struct sf_job_type_info {
	const char *name;		 /* "network.deploy", the "type" on the wire */
	enum sf_object_type object_type; /* the type of the job's object */
	unsigned targets;		 /* SF_JOB_TO_* */
	bool is_request;		 /* the sender waits for a reply (direct reply-to) */
};

/* Indexed by enum sf_job_type; the schema has a definition for each (checked by the tests). */
extern const struct sf_job_type_info sf_job_types[_SF_JOB_TYPE_MAX];

const char *sf_object_type_to_string(enum sf_object_type t);
int sf_object_type_from_string(const char *s, enum sf_object_type *ret_type);
const char *sf_job_state_to_string(enum sf_job_state st);
int sf_job_state_from_string(const char *s, enum sf_job_state *ret_state);
const char *sf_event_type_to_string(enum sf_event_type t);
int sf_event_type_from_string(const char *s, enum sf_event_type *ret_type);
const char *sf_job_type_to_string(enum sf_job_type t);
int sf_job_type_from_string(const char *s, enum sf_job_type *ret_type);

/* The two compiled schemas. Loaded explicitly so daemons and tests choose the directory. */
struct sf_envelope_schemas;

/* Load <dir>/jobs/job.json and <dir>/events/event.json; dir NULL means sf_schema_dir().
 * -ENOENT, or -EINVAL with diag when a schema is malformed or lacks a job type's definition
 * (or another error of sf_schema_load_file()). */
int sf_envelope_schemas_load(const char *dir, struct sf_envelope_schemas **ret_schemas,
			     struct sf_diag *diag);
void sf_envelope_schemas_free(struct sf_envelope_schemas *s);
/* The job schema document (borrowed), e.g. for sf-submit's --help. */
const json_t *sf_envelope_job_schema_document(const struct sf_envelope_schemas *s);

struct sf_job {
	char id[SF_UUID_STRLEN];
	enum sf_job_type type;
	enum sf_object_type object_type;    /* always sf_job_types[type].object_type */
	char *object_uuid;		    /* owned; the node name for node objects */
	json_t *args;			    /* owned reference; always an object */
	char request_id[SF_REQUEST_ID_MAX]; /* "" when none */
	double submitted_at;
};

/* A new job with a fresh id and submitted_at = now. args (an object, or NULL for {}) is
 * borrowed: the job takes its own reference. request_id may be NULL. The object type comes
 * from the job type. -EINVAL when object_uuid is empty, args is not an object or request_id
 * is longer than 128 characters; the full check against the schema is sf_job_check(). */
int sf_job_new(enum sf_job_type type, const char *object_uuid, json_t *args, const char *request_id,
	       struct sf_job **ret_job);
void sf_job_free(struct sf_job *job);

/* The envelope as a new JSON value / compact string (free() it; never NULL). */
json_t *sf_job_to_json(const struct sf_job *job);
char *sf_job_serialize(const struct sf_job *job);
/* Validate a built job against the schema before publishing it. 0, or -EINVAL with diag. */
int sf_job_check(const struct sf_envelope_schemas *s, const struct sf_job *job,
		 struct sf_diag *diag);
/* Parse and validate a message. -EINVAL with diag (status 400, the JSON pointer of the
 * offending value, e.g. "/args/address") when it is not JSON or not a valid job. */
int sf_job_parse(const struct sf_envelope_schemas *s, const char *buf, size_t len,
		 struct sf_job **ret_job, struct sf_diag *diag);

#define SF_EVENT_NO_DURATION (-1.0)

struct sf_event {
	char id[SF_UUID_STRLEN];
	enum sf_object_type object_type;
	char *object_uuid; /* owned */
	enum sf_event_type type;
	char *message;			    /* owned */
	json_t *extra;			    /* owned reference, or NULL for null */
	double timestamp;		    /* seconds since the epoch */
	char *fqdn;			    /* owned: the node that recorded it */
	double duration;		    /* seconds, or SF_EVENT_NO_DURATION */
	char request_id[SF_REQUEST_ID_MAX]; /* "" when none */
	char job[SF_UUID_STRLEN];	    /* "" when none */
};

/* A new event with a fresh id and timestamp = now, no duration, and request_id and job taken
 * from the thread's log context (sf_log_request_id(), sf_log_job_id()) when they are set:
 * set by the API per request and by workers per job, so events are traceable for free.
 * extra (an object, or NULL) is borrowed: the event takes its own reference. -EINVAL when a
 * string is empty or extra is not an object. */
int sf_event_new(enum sf_object_type object_type, const char *object_uuid, enum sf_event_type type,
		 const char *message, json_t *extra, const char *fqdn, struct sf_event **ret_event);
void sf_event_free(struct sf_event *ev);

json_t *sf_event_to_json(const struct sf_event *ev);
char *sf_event_serialize(const struct sf_event *ev);
int sf_event_check(const struct sf_envelope_schemas *s, const struct sf_event *ev,
		   struct sf_diag *diag);
int sf_event_parse(const struct sf_envelope_schemas *s, const char *buf, size_t len,
		   struct sf_event **ret_event, struct sf_diag *diag);

/* "<object type>.<uuid>.<event type>" for the sf.events topic exchange (allocated). Dots in
 * the uuid (a node's fqdn) become '_' so the key keeps three words for bindings such as
 * "network.*.usage". -ENAMETOOLONG beyond AMQP's 255-byte limit. */
int sf_event_routing_key(const struct sf_event *ev, char **ret_key);

#endif
