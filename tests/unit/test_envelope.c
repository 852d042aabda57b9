// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sf/envelope.h"
#include "sf/json.h"
#include "sf/log.h"
#include "sf/schema.h"

#define UUID1 "3b2a7f9e-1c4d-4e5f-8a6b-7c8d9e0f1a2b"
#define UUID2 "0f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2910"

/* A valid network.route job, a valid network.ping, a node.reconcile and an event. */
#define ROUTE                                                                    \
	"{\"job\": \"" UUID1 "\", \"type\": \"network.route\", \"version\": 1, " \
	"\"object\": {\"type\": \"network\", \"uuid\": \"" UUID2 "\"}, "         \
	"\"args\": {\"address\": \"198.51.100.7\"}, \"request_id\": \"req-1\", " \
	"\"submitted_at\": 1700000000.5}"
#define PING                                                                          \
	"{\"job\": \"" UUID1 "\", \"type\": \"network.ping\", \"version\": 1, "       \
	"\"object\": {\"type\": \"network\", \"uuid\": \"" UUID2 "\"}, "              \
	"\"args\": {\"address\": \"10.0.0.5\", \"count\": 3, \"interval_ms\": 500}, " \
	"\"request_id\": null, \"submitted_at\": 1700000000}"
#define RECONCILE                                                                 \
	"{\"job\": \"" UUID1 "\", \"type\": \"node.reconcile\", \"version\": 1, " \
	"\"object\": {\"type\": \"node\", \"uuid\": \"hv1\"}, \"args\": {}, "     \
	"\"request_id\": null, \"submitted_at\": 1700000000}"
#define FLOAT                                                                        \
	"{\"job\": \"" UUID1 "\", \"type\": \"interface.float\", \"version\": 1, "   \
	"\"object\": {\"type\": \"networkinterface\", \"uuid\": \"" UUID2 "\"}, "    \
	"\"args\": {\"floating_address\": \"198.51.100.9\"}, \"request_id\": null, " \
	"\"submitted_at\": 1700000000}"
#define EVENT                                                                               \
	"{\"event\": \"" UUID1 "\", \"object\": {\"type\": \"network\", \"uuid\": \"" UUID2 \
	"\"}, \"type\": \"audit\", \"message\": \"create request from REST API\", "         \
	"\"extra\": {\"request-id\": \"req-1\"}, \"timestamp\": 1700000000.25, \"fqdn\": "  \
	"\"nn1\", "                                                                         \
	"\"duration\": null, \"request_id\": \"req-1\", \"job\": null}"

static struct sf_envelope_schemas *schemas;
static struct sf_schema *job_root; /* the whole job.json, as tools validate with it */

static int setup(void **state)
{
	struct sf_diag d = {0};
	(void)state;

	if (sf_envelope_schemas_load(NULL, &schemas, &d) < 0) {
		(void)fprintf(stderr, "loading schemas from %s: %s\n", sf_schema_dir(), d.message);
		return -1;
	}
	return sf_schema_new((json_t *)sf_envelope_job_schema_document(schemas), &job_root, &d);
}

static int teardown(void **state)
{
	(void)state;
	sf_schema_free(job_root);
	sf_envelope_schemas_free(schemas);
	return 0;
}

/* base with the member at ptr replaced by value_json, or removed when value_json is NULL. */
static char *mutated(const char *base, const char *ptr, const char *value_json)
{
	char parent_ptr[256];
	const char *key = strrchr(ptr, '/') + 1;
	json_t *doc = json_loads(base, 0, NULL), *parent;

	assert_non_null(doc);
	(void)snprintf(parent_ptr, sizeof(parent_ptr), "%.*s", (int)(key - 1 - ptr), ptr);
	assert_int_equal(sf_json_pointer_get(doc, parent_ptr, &parent), 0);
	if (value_json)
		json_object_set_new(parent, key, json_loads(value_json, JSON_DECODE_ANY, NULL));
	else
		assert_int_equal(json_object_del(parent, key), 0);

	char *s = sf_json_dumps(doc);
	json_decref(doc);
	return s;
}

static void test_string_tables(void **state)
{
	enum sf_job_state st = SF_JOB_DONE;
	enum sf_event_type et = SF_EVENT_USAGE;
	enum sf_object_type ot = SF_OBJECT_NODE;
	enum sf_job_type jt = SF_JOB_NETWORK_PING;
	(void)state;

	assert_string_equal(sf_job_state_to_string(SF_JOB_QUEUED), "queued");
	assert_string_equal(sf_job_state_to_string(SF_JOB_DEAD), "dead");
	assert_string_equal(sf_event_type_to_string(SF_EVENT_HISTORIC), "historic");
	assert_string_equal(sf_object_type_to_string(SF_OBJECT_NETWORKINTERFACE),
			    "networkinterface");
	assert_string_equal(sf_job_type_to_string(SF_JOB_NETWORK_DHCP_HOSTS), "network.dhcp_hosts");
	for (unsigned i = 0; i < _SF_JOB_STATE_MAX; i++) {
		assert_int_equal(sf_job_state_from_string(sf_job_state_to_string(i), &st), 0);
		assert_int_equal(st, i);
	}
	for (unsigned i = 0; i < _SF_EVENT_TYPE_MAX; i++) {
		assert_int_equal(sf_event_type_from_string(sf_event_type_to_string(i), &et), 0);
		assert_int_equal(et, i);
	}
	for (unsigned i = 0; i < _SF_OBJECT_TYPE_MAX; i++) {
		assert_int_equal(sf_object_type_from_string(sf_object_type_to_string(i), &ot), 0);
		assert_int_equal(ot, i);
	}
	for (unsigned i = 0; i < _SF_JOB_TYPE_MAX; i++) {
		assert_int_equal(sf_job_type_from_string(sf_job_type_to_string(i), &jt), 0);
		assert_int_equal(jt, i);
	}
	st = SF_JOB_DONE;
	assert_int_equal(sf_job_state_from_string("Queued", &st), -EINVAL);
	assert_int_equal(sf_job_state_from_string(NULL, &st), -EINVAL);
	assert_int_equal(st, SF_JOB_DONE);
	assert_int_equal(sf_event_type_from_string("debug", &et), -EINVAL);
	assert_int_equal(sf_job_type_from_string("network_deploy", &jt), -EINVAL);
	assert_null(sf_job_state_to_string(_SF_JOB_STATE_MAX));
	assert_null(sf_event_type_to_string(_SF_EVENT_TYPE_MAX));
	assert_null(sf_job_type_to_string(_SF_JOB_TYPE_MAX));
}

/* The C table and job.json must describe the same job types, with the --help texts. */
static void test_table_matches_schema(void **state)
{
	const json_t *doc = sf_envelope_job_schema_document(schemas);
	json_t *defs = json_object_get(doc, "definitions");
	json_t *type_enum = json_object_get(
		json_object_get(json_object_get(json_object_get(defs, "envelope"), "properties"),
				"type"),
		"enum");
	(void)state;

	assert_int_equal(json_array_size(type_enum), _SF_JOB_TYPE_MAX);
	assert_int_equal(json_array_size(json_object_get(doc, "oneOf")), _SF_JOB_TYPE_MAX);
	for (unsigned t = 0; t < _SF_JOB_TYPE_MAX; t++) {
		const struct sf_job_type_info *info = &sf_job_types[t];
		json_t *def = json_object_get(defs, info->name), *props, *arg;
		char ref[128];
		const char *name;

		assert_non_null(info->name);
		assert_string_equal(json_string_value(json_array_get(type_enum, t)), info->name);
		assert_non_null(def);
		assert_true(strlen(json_string_value(json_object_get(def, "description"))) > 10);
		props = json_object_get(def, "properties");
		assert_string_equal(
			json_string_value(json_object_get(json_object_get(props, "type"), "const")),
			info->name);
		(void)snprintf(ref, sizeof(ref), "#/definitions/%s_object",
			       sf_object_type_to_string(info->object_type));
		assert_string_equal(json_string_value(json_object_get(
					    json_object_get(props, "object"), "$ref")),
				    ref);
		assert_true(info->targets & (SF_JOB_TO_NETWORKNODE | SF_JOB_TO_HYPERVISOR));
		json_object_foreach(json_object_get(json_object_get(props, "args"), "properties"),
				    name, arg)
			if (!json_is_string(json_object_get(arg, "description")))
				fail_msg("%s: arg %s has no description", info->name, name);
	}
	assert_true(sf_job_types[SF_JOB_NETWORK_PING].is_request);
	assert_false(sf_job_types[SF_JOB_NETWORK_DEPLOY].is_request);
}

static void test_job_round_trip(void **state)
{
	json_t *args = json_pack("{s:s, s:i}", "address", "10.0.0.5", "count", 3);
	struct sf_job *job = NULL, *back = NULL;
	struct sf_diag d = {0};
	double before = sf_now_epoch();
	json_t *doc;
	char *s;
	(void)state;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_PING, UUID2, args, "req-7", &job), 0);
	assert_int_equal(args->refcount, 2); /* borrowed: the job holds its own reference */
	json_decref(args);
	assert_true(sf_uuid_is_valid(job->id));
	assert_int_equal(job->object_type, SF_OBJECT_NETWORK);
	assert_true(job->submitted_at >= before && job->submitted_at <= sf_now_epoch());
	assert_int_equal(sf_job_check(schemas, job, &d), 0);

	s = sf_job_serialize(job);
	assert_int_equal(sf_job_parse(schemas, s, strlen(s), &back, &d), 0);
	assert_string_equal(back->id, job->id);
	assert_int_equal(back->type, SF_JOB_NETWORK_PING);
	assert_int_equal(back->object_type, SF_OBJECT_NETWORK);
	assert_string_equal(back->object_uuid, UUID2);
	assert_true(json_equal(back->args, job->args));
	assert_string_equal(back->request_id, "req-7");
	assert_true(back->submitted_at == job->submitted_at); /* reals are dumped exactly */
	doc = json_loads(s, 0, NULL);
	assert_int_equal(sf_schema_validate(job_root, doc, &d), 0);
	json_decref(doc);
	free(s);
	sf_job_free(back);
	sf_job_free(job);
}

static void test_job_defaults(void **state)
{
	struct sf_job *a = NULL, *b = NULL;
	json_t *doc;
	char *s;
	(void)state;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, UUID2, NULL, NULL, &a), 0);
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, UUID2, NULL, NULL, &b), 0);
	assert_string_not_equal(a->id, b->id);
	s = sf_job_serialize(a);
	doc = json_loads(s, 0, NULL);
	assert_true(json_is_object(json_object_get(doc, "args")));
	assert_int_equal(json_object_size(json_object_get(doc, "args")), 0);
	assert_true(json_is_null(json_object_get(doc, "request_id")));
	assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(doc, "type")), "network.deploy");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "object"), "type")),
		"network");
	assert_int_equal(json_object_size(doc), 7);
	json_decref(doc);
	free(s);
	sf_job_free(a);
	sf_job_free(b);
	sf_job_free(NULL);
}

static void test_job_new_rejects(void **state)
{
	char long_id[SF_REQUEST_ID_MAX + 1];
	struct sf_job *job = (struct sf_job *)0x1;
	json_t *arr = json_array();
	(void)state;

	memset(long_id, 'r', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, "", NULL, NULL, &job), -EINVAL);
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, NULL, NULL, NULL, &job), -EINVAL);
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, UUID2, arr, NULL, &job), -EINVAL);
	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, UUID2, NULL, long_id, &job), -EINVAL);
	assert_int_equal(sf_job_new(_SF_JOB_TYPE_MAX, UUID2, NULL, NULL, &job), -EINVAL);
	assert_ptr_equal(job, (struct sf_job *)0x1);
	assert_int_equal(arr->refcount, 1);
	json_decref(arr);
}

/* sf_job_new() only checks shapes; sf_job_check() applies the schema before publishing. */
static void test_job_check(void **state)
{
	struct sf_job *job;
	struct sf_diag d = {0};
	(void)state;

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_ROUTE, UUID2, NULL, NULL, &job), 0);
	assert_int_equal(sf_job_check(schemas, job, &d), -EINVAL);
	assert_string_equal(d.pointer, "/args");
	assert_string_equal(d.rule, "required");
	sf_job_free(job);

	assert_int_equal(sf_job_new(SF_JOB_NETWORK_DEPLOY, "net-1", NULL, NULL, &job), 0);
	assert_int_equal(sf_job_check(schemas, job, &d), -EINVAL);
	assert_string_equal(d.pointer, "/object/uuid");
	assert_string_equal(d.rule, "format");
	sf_job_free(job);
}

/* A minimal job of every type validates, round-trips, and satisfies the root document too. */
static void test_every_job_type(void **state)
{
	static const char *const args[_SF_JOB_TYPE_MAX] = {
		[SF_JOB_NETWORK_ROUTE] = "{\"address\": \"198.51.100.7\"}",
		[SF_JOB_NETWORK_UNROUTE] = "{\"address\": \"198.51.100.7\"}",
		[SF_JOB_NETWORK_PING] = "{\"address\": \"10.0.0.5\"}",
	};
	(void)state;

	for (unsigned t = 0; t < _SF_JOB_TYPE_MAX; t++) {
		json_t *a = args[t] ? json_loads(args[t], 0, NULL) : NULL, *doc;
		const char *obj =
			sf_job_types[t].object_type == SF_OBJECT_NODE ? "hv1.example.com" : UUID2;
		struct sf_job *job, *back;
		struct sf_diag d = {0};
		char *s;

		assert_int_equal(sf_job_new(t, obj, a, NULL, &job), 0);
		json_decref(a);
		if (sf_job_check(schemas, job, &d) != 0)
			fail_msg("%s: %s", sf_job_types[t].name, d.message);
		s = sf_job_serialize(job);
		assert_int_equal(sf_job_parse(schemas, s, strlen(s), &back, &d), 0);
		assert_int_equal(back->type, t);
		assert_string_equal(back->object_uuid, obj);
		doc = sf_job_to_json(job);
		assert_int_equal(sf_schema_validate(job_root, doc, &d), 0);
		json_decref(doc);
		free(s);
		sf_job_free(back);
		sf_job_free(job);
	}
}

static void test_job_accepts(void **state)
{
	static const struct {
		const char *base, *ptr, *value;
	} cases[] = {
		{ROUTE, "/request_id", "null"},
		{ROUTE, "/submitted_at", "1700000000"},
		{PING, "/args/count", NULL},
		{PING, "/args/interval_ms", NULL},
		{FLOAT, "/args/floating_address", NULL},
		{RECONCILE, "/object/uuid", "\"hv-1.example.com\""},
		{RECONCILE, "/object/uuid", "\"nn1\""},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char *s = mutated(cases[i].base, cases[i].ptr, cases[i].value);
		struct sf_job *job = NULL;
		struct sf_diag d = {0};

		if (sf_job_parse(schemas, s, strlen(s), &job, &d) != 0)
			fail_msg("case %zu rejected: %s", i, d.message);
		sf_job_free(job);
		free(s);
	}
}

static void test_job_rejects(void **state)
{
	static const struct {
		const char *what, *base, *ptr, *value; /* ptr NULL: base is sent as it is */
		const char *pointer, *rule;
	} cases[] = {
		{"not JSON", "{\"job\": ", NULL, NULL, "", ""},
		{"not an object", "[1, 2]", NULL, NULL, "", "type"},
		{"missing job id", ROUTE, "/job", NULL, "", "required"},
		{"missing object", ROUTE, "/object", NULL, "", "required"},
		{"type not a string", ROUTE, "/type", "5", "/type", "type"},
		{"unknown type", ROUTE, "/type", "\"network.explode\"", "/type", "enum"},
		{"bad job uuid", ROUTE, "/job", "\"123\"", "/job", "format"},
		{"extra property", ROUTE, "/priority", "1", "/priority", "additionalProperties"},
		{"version 2", ROUTE, "/version", "2", "/version", "const"},
		{"args not an object", ROUTE, "/args", "[]", "/args", "type"},
		{"arg of wrong type", ROUTE, "/args/address", "5", "/args/address", "type"},
		{"arg not an address", ROUTE, "/args/address", "\"10.0.0.256\"", "/args/address",
		 "format"},
		{"unknown arg", ROUTE, "/args/bogus", "true", "/args/bogus",
		 "additionalProperties"},
		{"missing arg", ROUTE, "/args/address", NULL, "/args", "required"},
		{"object of another type", ROUTE, "/object/type", "\"networkinterface\"",
		 "/object/type", "const"},
		{"unknown object type", ROUTE, "/object/type", "\"instance\"", "/object/type",
		 "enum"},
		{"object uuid not a uuid", ROUTE, "/object/uuid", "\"net1\"", "/object/uuid",
		 "format"},
		{"object extra member", ROUTE, "/object/name", "\"x\"", "/object/name",
		 "additionalProperties"},
		{"empty request id", ROUTE, "/request_id", "\"\"", "/request_id", "minLength"},
		{"request id a number", ROUTE, "/request_id", "7", "/request_id", "type"},
		{"submitted_at a string", ROUTE, "/submitted_at", "\"yesterday\"", "/submitted_at",
		 "type"},
		{"submitted_at negative", ROUTE, "/submitted_at", "-1", "/submitted_at", "minimum"},
		{"ping count 0", PING, "/args/count", "0", "/args/count", "minimum"},
		{"ping count not integer", PING, "/args/count", "1.5", "/args/count", "type"},
		{"ping interval too short", PING, "/args/interval_ms", "50", "/args/interval_ms",
		 "minimum"},
		{"float address bad", FLOAT, "/args/floating_address", "\"x\"",
		 "/args/floating_address", "format"},
		{"node name with a space", RECONCILE, "/object/uuid", "\"bad name\"",
		 "/object/uuid", "pattern"},
		{"node name starting with -", RECONCILE, "/object/uuid", "\"-hv1\"", "/object/uuid",
		 "pattern"},
		{"reconcile with args", RECONCILE, "/args/address", "\"10.0.0.1\"", "/args/address",
		 "additionalProperties"},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char *s = cases[i].ptr ? mutated(cases[i].base, cases[i].ptr, cases[i].value)
				       : sf_xstrdup(cases[i].base);
		struct sf_job *job = (struct sf_job *)0x1;
		struct sf_diag d = {0};
		json_t *doc;

		if (sf_job_parse(schemas, s, strlen(s), &job, &d) != -EINVAL)
			fail_msg("%s: accepted", cases[i].what);
		assert_ptr_equal(job, (struct sf_job *)0x1);
		assert_int_equal(d.status, 400);
		if (strcmp(d.pointer, cases[i].pointer) != 0 || strcmp(d.rule, cases[i].rule) != 0)
			fail_msg("%s: got pointer '%s' rule '%s' (%s), expected '%s' '%s'",
				 cases[i].what, d.pointer, d.rule, d.message, cases[i].pointer,
				 cases[i].rule);
		/* The one-document schema that tools use must reject it as well. */
		doc = json_loads(s, JSON_DECODE_ANY, NULL);
		if (doc && sf_schema_validate(job_root, doc, &d) != -EINVAL)
			fail_msg("%s: accepted by job.json as a whole", cases[i].what);
		json_decref(doc);
		free(s);
	}
}

static void test_missing_field_is_named(void **state)
{
	char *s = mutated(ROUTE, "/job", NULL);
	struct sf_job *job;
	struct sf_diag d = {0};
	(void)state;

	assert_int_equal(sf_job_parse(schemas, s, strlen(s), &job, &d), -EINVAL);
	assert_non_null(strstr(d.message, "'job'"));
	free(s);
}

static void test_event_round_trip(void **state)
{
	json_t *extra = json_pack("{s:{s:i}}", "rx", "bytes", 1234);
	struct sf_event *ev, *back;
	struct sf_diag d = {0};
	char *s;
	(void)state;

	sf_log_set_request_id("req-9");
	sf_log_set_job_id(UUID1);
	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, SF_EVENT_USAGE, "usage", extra, "nn1", &ev),
		0);
	sf_log_set_request_id(NULL);
	sf_log_set_job_id(NULL);
	assert_int_equal(extra->refcount, 2);
	json_decref(extra);
	ev->duration = 0.25;
	assert_string_equal(ev->request_id, "req-9");
	assert_string_equal(ev->job, UUID1);
	assert_int_equal(sf_event_check(schemas, ev, &d), 0);

	s = sf_event_serialize(ev);
	assert_int_equal(sf_event_parse(schemas, s, strlen(s), &back, &d), 0);
	assert_string_equal(back->id, ev->id);
	assert_int_equal(back->object_type, SF_OBJECT_NETWORK);
	assert_string_equal(back->object_uuid, UUID2);
	assert_int_equal(back->type, SF_EVENT_USAGE);
	assert_string_equal(back->message, "usage");
	assert_true(json_equal(back->extra, ev->extra));
	assert_true(back->timestamp == ev->timestamp);
	assert_string_equal(back->fqdn, "nn1");
	assert_true(back->duration == 0.25);
	assert_string_equal(back->request_id, "req-9");
	assert_string_equal(back->job, UUID1);
	free(s);
	sf_event_free(back);
	sf_event_free(ev);
}

static void test_event_nulls(void **state)
{
	struct sf_event *ev, *back;
	struct sf_diag d = {0};
	json_t *doc;
	char *s;
	(void)state;

	sf_log_set_job_id("not-a-job-id"); /* only a uuid may become "job" */
	assert_int_equal(sf_event_new(SF_OBJECT_NODE, "hv1.example.com", SF_EVENT_STATUS,
				      "reconciled", NULL, "hv1.example.com", &ev),
			 0);
	sf_log_set_job_id(NULL);
	s = sf_event_serialize(ev);
	doc = json_loads(s, 0, NULL);
	assert_int_equal(json_object_size(doc), 10);
	assert_true(json_is_null(json_object_get(doc, "extra")));
	assert_true(json_is_null(json_object_get(doc, "duration")));
	assert_true(json_is_null(json_object_get(doc, "request_id")));
	assert_true(json_is_null(json_object_get(doc, "job")));
	assert_int_equal(sf_event_parse(schemas, s, strlen(s), &back, &d), 0);
	assert_null(back->extra);
	assert_true(back->duration == SF_EVENT_NO_DURATION);
	assert_string_equal(back->request_id, "");
	assert_string_equal(back->job, "");
	json_decref(doc);
	free(s);
	sf_event_free(back);
	sf_event_free(ev);
	sf_event_free(NULL);
}

static void test_event_new_rejects(void **state)
{
	struct sf_event *ev = (struct sf_event *)0x1;
	json_t *arr = json_array();
	(void)state;

	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, SF_EVENT_AUDIT, "", NULL, "nn1", &ev),
		-EINVAL);
	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, SF_EVENT_AUDIT, "m", NULL, NULL, &ev),
		-EINVAL);
	assert_int_equal(sf_event_new(SF_OBJECT_NETWORK, "", SF_EVENT_AUDIT, "m", NULL, "nn1", &ev),
			 -EINVAL);
	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, SF_EVENT_AUDIT, "m", arr, "nn1", &ev),
		-EINVAL);
	assert_int_equal(
		sf_event_new(_SF_OBJECT_TYPE_MAX, UUID2, SF_EVENT_AUDIT, "m", NULL, "nn1", &ev),
		-EINVAL);
	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, _SF_EVENT_TYPE_MAX, "m", NULL, "nn1", &ev),
		-EINVAL);
	assert_ptr_equal(ev, (struct sf_event *)0x1);
	json_decref(arr);
}

static void test_event_rejects(void **state)
{
	static const struct {
		const char *what, *ptr, *value, *pointer, *rule;
	} cases[] = {
		{"unknown type", "/type", "\"debug\"", "/type", "enum"},
		{"extra a string", "/extra", "\"text\"", "/extra", "type"},
		{"missing fqdn", "/fqdn", NULL, "", "required"},
		{"missing event id", "/event", NULL, "", "required"},
		{"bad event id", "/event", "\"e1\"", "/event", "format"},
		{"job not a uuid", "/job", "\"42\"", "/job", "format"},
		{"negative duration", "/duration", "-1", "/duration", "minimum"},
		{"unknown object type", "/object/type", "\"vm\"", "/object/type", "enum"},
		{"extra property", "/colour", "1", "/colour", "additionalProperties"},
		{"timestamp null", "/timestamp", "null", "/timestamp", "type"},
		{"empty message", "/message", "\"\"", "/message", "minLength"},
	};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		char *s = mutated(EVENT, cases[i].ptr, cases[i].value);
		struct sf_event *ev = (struct sf_event *)0x1;
		struct sf_diag d = {0};

		if (sf_event_parse(schemas, s, strlen(s), &ev, &d) != -EINVAL)
			fail_msg("%s: accepted", cases[i].what);
		assert_ptr_equal(ev, (struct sf_event *)0x1);
		if (strcmp(d.pointer, cases[i].pointer) != 0 || strcmp(d.rule, cases[i].rule) != 0)
			fail_msg("%s: got pointer '%s' rule '%s' (%s), expected '%s' '%s'",
				 cases[i].what, d.pointer, d.rule, d.message, cases[i].pointer,
				 cases[i].rule);
		free(s);
	}
	{
		struct sf_event *ev;
		struct sf_diag d = {0};

		assert_int_equal(sf_event_parse(schemas, "nope", 4, &ev, &d), -EINVAL);
		assert_int_equal(d.status, 400);
		assert_int_equal(sf_event_parse(schemas, EVENT, strlen(EVENT), &ev, &d), 0);
		sf_event_free(ev);
	}
}

static void test_routing_key(void **state)
{
	char long_name[250];
	struct sf_event *ev;
	char *key = NULL;
	(void)state;

	assert_int_equal(
		sf_event_new(SF_OBJECT_NETWORK, UUID2, SF_EVENT_USAGE, "usage", NULL, "nn1", &ev),
		0);
	assert_int_equal(sf_event_routing_key(ev, &key), 0);
	assert_string_equal(key, "network." UUID2 ".usage");
	free(key);
	sf_event_free(ev);

	/* A node's fqdn keeps the key at three words. */
	assert_int_equal(sf_event_new(SF_OBJECT_NODE, "hv1.example.com", SF_EVENT_STATUS, "up",
				      NULL, "hv1.example.com", &ev),
			 0);
	assert_int_equal(sf_event_routing_key(ev, &key), 0);
	assert_string_equal(key, "node.hv1_example_com.status");
	assert_string_equal(ev->object_uuid, "hv1.example.com");
	free(key);
	sf_event_free(ev);

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_int_equal(sf_event_new(SF_OBJECT_NETWORKINTERFACE, long_name, SF_EVENT_RESOURCES,
				      "m", NULL, "nn1", &ev),
			 0);
	key = (char *)0x1;
	assert_int_equal(sf_event_routing_key(ev, &key), -ENAMETOOLONG);
	assert_ptr_equal(key, (char *)0x1);
	sf_event_free(ev);
}

static void write_file(const char *path, const json_t *doc)
{
	assert_int_equal(json_dump_file(doc, path, JSON_INDENT(1)), 0);
}

static void test_schemas_load_errors(void **state)
{
	char dir[] = "/tmp/sf-test-envelope-XXXXXX";
	struct sf_envelope_schemas *s = (struct sf_envelope_schemas *)0x1;
	struct sf_diag d = {0};
	char *jobs, *job_path, *events;
	json_t *doc;
	(void)state;

	assert_int_equal(sf_envelope_schemas_load("/nonexistent", &s, &d), -ENOENT);

	assert_non_null(mkdtemp(dir));
	jobs = sf_xasprintf("%s/jobs", dir);
	events = sf_xasprintf("%s/events", dir);
	job_path = sf_xasprintf("%s/job.json", jobs);
	assert_int_equal(mkdir(jobs, 0700), 0);
	assert_int_equal(mkdir(events, 0700), 0);

	/* A job type the C table knows but the schema lacks. */
	doc = json_deep_copy(sf_envelope_job_schema_document(schemas));
	json_object_del(json_object_get(doc, "definitions"), "network.ping");
	json_array_remove(json_object_get(doc, "oneOf"), SF_JOB_NETWORK_PING);
	write_file(job_path, doc);
	json_decref(doc);
	assert_int_equal(sf_envelope_schemas_load(dir, &s, &d), -EINVAL);
	assert_non_null(strstr(d.message, "network.ping"));

	/* A complete job schema but no event schema. */
	write_file(job_path, sf_envelope_job_schema_document(schemas));
	assert_int_equal(sf_envelope_schemas_load(dir, &s, &d), -ENOENT);
	assert_ptr_equal(s, (struct sf_envelope_schemas *)0x1);

	unlink(job_path);
	rmdir(jobs);
	rmdir(events);
	rmdir(dir);
	free(jobs);
	free(events);
	free(job_path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_tables),
		cmocka_unit_test(test_table_matches_schema),
		cmocka_unit_test(test_job_round_trip),
		cmocka_unit_test(test_job_defaults),
		cmocka_unit_test(test_job_new_rejects),
		cmocka_unit_test(test_job_check),
		cmocka_unit_test(test_every_job_type),
		cmocka_unit_test(test_job_accepts),
		cmocka_unit_test(test_job_rejects),
		cmocka_unit_test(test_missing_field_is_named),
		cmocka_unit_test(test_event_round_trip),
		cmocka_unit_test(test_event_nulls),
		cmocka_unit_test(test_event_new_rejects),
		cmocka_unit_test(test_event_rejects),
		cmocka_unit_test(test_routing_key),
		cmocka_unit_test(test_schemas_load_errors),
	};

	return cmocka_run_group_tests_name("envelope", tests, setup, teardown);
}
