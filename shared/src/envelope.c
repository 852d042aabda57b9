// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sf/envelope.h"
#include "sf/json.h"
#include "sf/log.h"
#include "sf/schema.h"

SF_LOG_MODULE("envelope");

static const char *const object_type_table[_SF_OBJECT_TYPE_MAX] = {
	[SF_OBJECT_NETWORK] = "network",     [SF_OBJECT_NETWORKINTERFACE] = "networkinterface",
	[SF_OBJECT_NODE] = "node",	     [SF_OBJECT_IPAM] = "ipam",
	[SF_OBJECT_NAMESPACE] = "namespace", [SF_OBJECT_INSTANCE] = "instance",
};

static const char *const job_state_table[_SF_JOB_STATE_MAX] = {
	[SF_JOB_QUEUED] = "queued", [SF_JOB_RUNNING] = "running", [SF_JOB_DONE] = "done",
	[SF_JOB_FAILED] = "failed", [SF_JOB_DEAD] = "dead",
};

static const char *const event_type_table[_SF_EVENT_TYPE_MAX] = {
	[SF_EVENT_AUDIT] = "audit",	    [SF_EVENT_MUTATE] = "mutate",
	[SF_EVENT_STATUS] = "status",	    [SF_EVENT_USAGE] = "usage",
	[SF_EVENT_RESOURCES] = "resources", [SF_EVENT_PRUNE] = "prune",
	[SF_EVENT_HISTORIC] = "historic",
};

#define NN SF_JOB_TO_NETWORKNODE
#define HV SF_JOB_TO_HYPERVISOR
const struct sf_job_type_info sf_job_types[_SF_JOB_TYPE_MAX] = {
	/* On a hypervisor, deploy converges the VXLAN, bridge and flood list of the network. */
	[SF_JOB_NETWORK_DEPLOY] = {"network.deploy", SF_OBJECT_NETWORK, NN | HV, false},
	[SF_JOB_NETWORK_DESTROY] = {"network.destroy", SF_OBJECT_NETWORK, NN | HV, false},
	[SF_JOB_NETWORK_ROUTE] = {"network.route", SF_OBJECT_NETWORK, NN, false},
	[SF_JOB_NETWORK_UNROUTE] = {"network.unroute", SF_OBJECT_NETWORK, NN, false},
	[SF_JOB_NETWORK_DNS_UPDATE] = {"network.dns_update", SF_OBJECT_NETWORK, NN, false},
	[SF_JOB_NETWORK_DHCP_HOSTS] = {"network.dhcp_hosts", SF_OBJECT_NETWORK, NN, false},
	[SF_JOB_NETWORK_PING] = {"network.ping", SF_OBJECT_NETWORK, NN, true},
	[SF_JOB_INTERFACE_PLUG] = {"interface.plug", SF_OBJECT_NETWORKINTERFACE, HV, false},
	[SF_JOB_INTERFACE_UNPLUG] = {"interface.unplug", SF_OBJECT_NETWORKINTERFACE, HV, false},
	[SF_JOB_INTERFACE_FLOAT] = {"interface.float", SF_OBJECT_NETWORKINTERFACE, NN, false},
	[SF_JOB_INTERFACE_DEFLOAT] = {"interface.defloat", SF_OBJECT_NETWORKINTERFACE, NN, false},
	[SF_JOB_NODE_RECONCILE] = {"node.reconcile", SF_OBJECT_NODE, NN | HV, false},
};
#undef NN
#undef HV

static const char *name_of(const char *const *table, unsigned n, unsigned i)
{
	return i < n ? table[i] : NULL;
}

static int index_of(const char *const *table, unsigned n, const char *s, unsigned *ret_index)
{
	for (unsigned i = 0; s && i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0) {
			*ret_index = i;
			return 0;
		}
	return -EINVAL;
}

const char *sf_object_type_to_string(enum sf_object_type t)
{
	return name_of(object_type_table, _SF_OBJECT_TYPE_MAX, t);
}

int sf_object_type_from_string(const char *s, enum sf_object_type *ret_type)
{
	unsigned i;
	int r = index_of(object_type_table, _SF_OBJECT_TYPE_MAX, s, &i);

	if (r == 0)
		*ret_type = (enum sf_object_type)i;
	return r;
}

const char *sf_job_state_to_string(enum sf_job_state st)
{
	return name_of(job_state_table, _SF_JOB_STATE_MAX, st);
}

int sf_job_state_from_string(const char *s, enum sf_job_state *ret_state)
{
	unsigned i;
	int r = index_of(job_state_table, _SF_JOB_STATE_MAX, s, &i);

	if (r == 0)
		*ret_state = (enum sf_job_state)i;
	return r;
}

const char *sf_event_type_to_string(enum sf_event_type t)
{
	return name_of(event_type_table, _SF_EVENT_TYPE_MAX, t);
}

int sf_event_type_from_string(const char *s, enum sf_event_type *ret_type)
{
	unsigned i;
	int r = index_of(event_type_table, _SF_EVENT_TYPE_MAX, s, &i);

	if (r == 0)
		*ret_type = (enum sf_event_type)i;
	return r;
}

const char *sf_job_type_to_string(enum sf_job_type t)
{
	return (unsigned)t < _SF_JOB_TYPE_MAX ? sf_job_types[t].name : NULL;
}

int sf_job_type_from_string(const char *s, enum sf_job_type *ret_type)
{
	for (unsigned i = 0; s && i < _SF_JOB_TYPE_MAX; i++)
		if (strcmp(sf_job_types[i].name, s) == 0) {
			*ret_type = (enum sf_job_type)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- schemas --------------------------------------------------------------------------- */

/*
 * The job schema is one document, but a worker validates in two steps so that a diagnosis
 * names the offending field: first definitions/envelope (what every job has), then
 * definitions/<type> (object type and args). Validating the root's oneOf directly would only
 * say "matches none of the job types".
 */
struct sf_envelope_schemas {
	struct sf_schema *job;		/* the whole document, for tools */
	struct sf_schema *job_envelope; /* definitions/envelope */
	struct sf_schema *job_type[_SF_JOB_TYPE_MAX];
	struct sf_schema *event;
};

/* Compile {"$ref": "#/definitions/<name>", "definitions": <the document's definitions>}. */
static int compile_definition(const json_t *doc, const char *name, struct sf_schema **ret_schema,
			      struct sf_diag *diag)
{
	json_t *defs = json_object_get(doc, "definitions"), *wrapper;
	char *ref;
	int r;

	if (!json_is_object(json_object_get(defs, name)))
		return sf_diag_set(diag, 500, "/definitions", "",
				   "job schema has no definition '%s'", name);
	ref = sf_xasprintf("#/definitions/%s", name);
	wrapper = json_pack("{s:s, s:O}", "$ref", ref, "definitions", defs);
	if (!wrapper) {
		sf_log_err("out of memory building a schema");
		abort();
	}
	r = sf_schema_new(wrapper, ret_schema, diag);
	json_decref(wrapper);
	free(ref);
	return r;
}

int sf_envelope_schemas_load(const char *dir, struct sf_envelope_schemas **ret_schemas,
			     struct sf_diag *diag)
{
	struct sf_envelope_schemas *s = sf_xcalloc(1, sizeof(*s));
	const json_t *doc;
	char *path;
	int r;

	if (!dir)
		dir = sf_schema_dir();
	path = sf_xasprintf("%s/jobs/job.json", dir);
	r = sf_schema_load_file(path, &s->job, diag);
	free(path);
	if (r < 0)
		goto out_free;
	doc = sf_schema_document(s->job);
	r = compile_definition(doc, "envelope", &s->job_envelope, diag);
	for (unsigned t = 0; r == 0 && t < _SF_JOB_TYPE_MAX; t++)
		r = compile_definition(doc, sf_job_types[t].name, &s->job_type[t], diag);
	if (r < 0)
		goto out_free;
	path = sf_xasprintf("%s/events/event.json", dir);
	r = sf_schema_load_file(path, &s->event, diag);
	free(path);
	if (r < 0)
		goto out_free;
	*ret_schemas = s;
	return 0;
out_free:
	sf_envelope_schemas_free(s);
	return r;
}

void sf_envelope_schemas_free(struct sf_envelope_schemas *s)
{
	if (!s)
		return;
	sf_schema_free(s->job);
	sf_schema_free(s->job_envelope);
	for (unsigned t = 0; t < _SF_JOB_TYPE_MAX; t++)
		sf_schema_free(s->job_type[t]);
	sf_schema_free(s->event);
	free(s);
}

const json_t *sf_envelope_job_schema_document(const struct sf_envelope_schemas *s)
{
	return sf_schema_document(s->job);
}

/* ---- jobs ------------------------------------------------------------------------------ */

static void copy_request_id(char dst[SF_REQUEST_ID_MAX], const char *src)
{
	(void)snprintf(dst, SF_REQUEST_ID_MAX, "%s", src ? src : "");
}

int sf_job_new(enum sf_job_type type, const char *object_uuid, json_t *args, const char *request_id,
	       struct sf_job **ret_job)
{
	struct sf_job *job;

	if ((unsigned)type >= _SF_JOB_TYPE_MAX || !object_uuid || !object_uuid[0] ||
	    (args && !json_is_object(args)) ||
	    (request_id && strlen(request_id) >= SF_REQUEST_ID_MAX))
		return -EINVAL;
	job = sf_xcalloc(1, sizeof(*job));
	sf_uuid_generate(job->id);
	job->type = type;
	job->object_type = sf_job_types[type].object_type;
	job->object_uuid = sf_xstrdup(object_uuid);
	job->args = args ? json_incref(args) : json_object();
	copy_request_id(job->request_id, request_id);
	job->submitted_at = sf_now_epoch();
	if (!job->args) {
		sf_log_err("out of memory building a job");
		abort();
	}
	*ret_job = job;
	return 0;
}

void sf_job_free(struct sf_job *job)
{
	if (!job)
		return;
	free(job->object_uuid);
	json_decref(job->args);
	free(job);
}

static json_t *string_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *checked(json_t *v)
{
	/* json_pack fails only on OOM (or a bad format, a bug the tests catch). */
	if (!v) {
		sf_log_err("out of memory building an envelope");
		abort();
	}
	return v;
}

json_t *sf_job_to_json(const struct sf_job *job)
{
	return checked(json_pack(
		"{s:s, s:s, s:i, s:{s:s, s:s}, s:O, s:o, s:f}", "job", job->id, "type",
		sf_job_types[job->type].name, "version", SF_ENVELOPE_VERSION, "object", "type",
		object_type_table[job->object_type], "uuid", job->object_uuid, "args", job->args,
		"request_id", string_or_null(job->request_id), "submitted_at", job->submitted_at));
}

char *sf_job_serialize(const struct sf_job *job)
{
	json_t *v = sf_job_to_json(job);
	char *s = sf_json_dumps(v);

	json_decref(v);
	return s;
}

static int validate_job(const struct sf_envelope_schemas *s, const json_t *doc,
			struct sf_diag *diag)
{
	enum sf_job_type type;
	int r;

	r = sf_schema_validate(s->job_envelope, doc, diag);
	if (r < 0)
		return r;
	/* The envelope's enum lists every type, so this only fails if the two disagree. */
	r = sf_job_type_from_string(json_string_value(json_object_get(doc, "type")), &type);
	if (r < 0)
		return sf_diag_set(diag, 400, "/type", "enum", "/type: unknown job type");
	return sf_schema_validate(s->job_type[type], doc, diag);
}

int sf_job_check(const struct sf_envelope_schemas *s, const struct sf_job *job,
		 struct sf_diag *diag)
{
	json_t *doc = sf_job_to_json(job);
	int r = validate_job(s, doc, diag);

	json_decref(doc);
	return r;
}

/* After validation every member has its schema type, so lookups cannot fail. */
static const char *member_str(const json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v ? v : "";
}

int sf_job_parse(const struct sf_envelope_schemas *s, const char *buf, size_t len,
		 struct sf_job **ret_job, struct sf_diag *diag)
{
	struct sf_job *job;
	json_t *doc, *object;
	int r;

	r = sf_json_load_buf(buf, len, &doc, diag);
	if (r < 0)
		return r;
	r = validate_job(s, doc, diag);
	if (r < 0)
		goto out_decref;
	job = sf_xcalloc(1, sizeof(*job));
	object = json_object_get(doc, "object");
	(void)snprintf(job->id, sizeof(job->id), "%s", member_str(doc, "job"));
	(void)sf_job_type_from_string(member_str(doc, "type"), &job->type);
	job->object_type = sf_job_types[job->type].object_type;
	job->object_uuid = sf_xstrdup(member_str(object, "uuid"));
	job->args = json_incref(json_object_get(doc, "args"));
	copy_request_id(job->request_id, member_str(doc, "request_id"));
	job->submitted_at = json_number_value(json_object_get(doc, "submitted_at"));
	*ret_job = job;
out_decref:
	json_decref(doc);
	return r;
}

/* ---- events ---------------------------------------------------------------------------- */

int sf_event_new(enum sf_object_type object_type, const char *object_uuid, enum sf_event_type type,
		 const char *message, json_t *extra, const char *fqdn, struct sf_event **ret_event)
{
	struct sf_event *ev;
	const char *job = sf_log_job_id();

	if ((unsigned)object_type >= _SF_OBJECT_TYPE_MAX || (unsigned)type >= _SF_EVENT_TYPE_MAX ||
	    !object_uuid || !object_uuid[0] || !message || !message[0] || !fqdn || !fqdn[0] ||
	    (extra && !json_is_object(extra)))
		return -EINVAL;
	ev = sf_xcalloc(1, sizeof(*ev));
	sf_uuid_generate(ev->id);
	ev->object_type = object_type;
	ev->object_uuid = sf_xstrdup(object_uuid);
	ev->type = type;
	ev->message = sf_xstrdup(message);
	ev->extra = extra ? json_incref(extra) : NULL;
	ev->timestamp = sf_now_epoch();
	ev->fqdn = sf_xstrdup(fqdn);
	ev->duration = SF_EVENT_NO_DURATION;
	copy_request_id(ev->request_id, sf_log_request_id());
	/* The log context holds whatever the worker set; only a job id belongs in "job". */
	if (job && sf_uuid_is_valid(job))
		(void)snprintf(ev->job, sizeof(ev->job), "%s", job);
	*ret_event = ev;
	return 0;
}

void sf_event_free(struct sf_event *ev)
{
	if (!ev)
		return;
	free(ev->object_uuid);
	free(ev->message);
	json_decref(ev->extra);
	free(ev->fqdn);
	free(ev);
}

json_t *sf_event_to_json(const struct sf_event *ev)
{
	return checked(json_pack(
		"{s:s, s:{s:s, s:s}, s:s, s:s, s:O?, s:f, s:s, s:o, s:o, s:o}", "event", ev->id,
		"object", "type", object_type_table[ev->object_type], "uuid", ev->object_uuid,
		"type", event_type_table[ev->type], "message", ev->message, "extra", ev->extra,
		"timestamp", ev->timestamp, "fqdn", ev->fqdn, "duration",
		ev->duration < 0 ? json_null() : json_real(ev->duration), "request_id",
		string_or_null(ev->request_id), "job", string_or_null(ev->job)));
}

char *sf_event_serialize(const struct sf_event *ev)
{
	json_t *v = sf_event_to_json(ev);
	char *s = sf_json_dumps(v);

	json_decref(v);
	return s;
}

int sf_event_check(const struct sf_envelope_schemas *s, const struct sf_event *ev,
		   struct sf_diag *diag)
{
	json_t *doc = sf_event_to_json(ev);
	int r = sf_schema_validate(s->event, doc, diag);

	json_decref(doc);
	return r;
}

int sf_event_parse(const struct sf_envelope_schemas *s, const char *buf, size_t len,
		   struct sf_event **ret_event, struct sf_diag *diag)
{
	struct sf_event *ev;
	json_t *doc, *object, *extra, *duration;
	int r;

	r = sf_json_load_buf(buf, len, &doc, diag);
	if (r < 0)
		return r;
	r = sf_schema_validate(s->event, doc, diag);
	if (r < 0)
		goto out_decref;
	ev = sf_xcalloc(1, sizeof(*ev));
	object = json_object_get(doc, "object");
	extra = json_object_get(doc, "extra");
	duration = json_object_get(doc, "duration");
	(void)snprintf(ev->id, sizeof(ev->id), "%s", member_str(doc, "event"));
	(void)sf_object_type_from_string(member_str(object, "type"), &ev->object_type);
	ev->object_uuid = sf_xstrdup(member_str(object, "uuid"));
	(void)sf_event_type_from_string(member_str(doc, "type"), &ev->type);
	ev->message = sf_xstrdup(member_str(doc, "message"));
	ev->extra = json_is_object(extra) ? json_incref(extra) : NULL;
	ev->timestamp = json_number_value(json_object_get(doc, "timestamp"));
	ev->fqdn = sf_xstrdup(member_str(doc, "fqdn"));
	ev->duration =
		json_is_number(duration) ? json_number_value(duration) : SF_EVENT_NO_DURATION;
	copy_request_id(ev->request_id, member_str(doc, "request_id"));
	(void)snprintf(ev->job, sizeof(ev->job), "%s", member_str(doc, "job"));
	*ret_event = ev;
out_decref:
	json_decref(doc);
	return r;
}

int sf_event_routing_key(const struct sf_event *ev, char **ret_key)
{
	char *key = sf_xasprintf("%s.%s.%s", object_type_table[ev->object_type], ev->object_uuid,
				 event_type_table[ev->type]);
	char *uuid = key + strlen(object_type_table[ev->object_type]) + 1;

	if (strlen(key) > 255) {
		free(key);
		return -ENAMETOOLONG;
	}
	for (char *p = uuid; p < uuid + strlen(ev->object_uuid); p++)
		if (*p == '.')
			*p = '_';
	*ret_key = key;
	return 0;
}
