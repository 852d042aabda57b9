// SPDX-License-Identifier: Apache-2.0
/*
 * sf-submit: build a job envelope, validate it against schemas/jobs/job.json, publish it to
 * sf.jobs with a broker confirm, print the job id.
 *
 *   sf-submit TYPE [--network UUID] [--interface UUID] [--node NAME] [--args JSON]
 *   sf-submit --file job.json
 *
 * Not implemented yet (issue "One command to run it all"): --wait, and network references by
 * name (--network takes a uuid for now).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/json.h"
#include "sf/log.h"
#include "sf/mq.h"
#include "sf/schema.h"
#include "sf/util.h"

SF_LOG_MODULE("submit");

#define DEFAULT_AMQP_URL "amqp://guest:guest@127.0.0.1:17672/"

struct opts {
	const char *type;
	const char *network;
	const char *interface;
	const char *node;
	const char *args;
	const char *file;
	const char *amqp_url;
	bool dry_run;
};

static void print_job_types(FILE *f, const struct sf_envelope_schemas *schemas)
{
	const json_t *doc = schemas ? sf_envelope_job_schema_document(schemas) : NULL;
	const json_t *defs = doc ? json_object_get(doc, "definitions") : NULL;

	fprintf(f, "\nJob types (from schemas/jobs/job.json):\n");
	for (int t = 0; t < _SF_JOB_TYPE_MAX; t++) {
		const struct sf_job_type_info *info = &sf_job_types[t];
		json_t *def = json_object_get(defs, info->name);
		json_t *props, *arg;
		const char *key;

		fprintf(f, "  %-20s object: %s; queue: %s%s\n", info->name,
			sf_object_type_to_string(info->object_type),
			info->targets & SF_JOB_TO_NETWORKNODE ? "networknode" : "hypervisor.<node>",
			info->is_request ? "; request/response" : "");
		if (json_is_string(json_object_get(def, "description")))
			fprintf(f, "      %s\n", json_string_value(json_object_get(def, "description")));
		props = json_object_get(json_object_get(json_object_get(def, "properties"), "args"),
					"properties");
		json_object_foreach(props, key, arg) {
			json_t *desc = json_object_get(arg, "description");
			json_t *type = json_object_get(arg, "type");

			fprintf(f, "      args.%s (%s): %s\n", key,
				json_is_string(type) ? json_string_value(type) : "any",
				json_is_string(desc) ? json_string_value(desc) : "");
		}
	}
	if (!defs)
		fprintf(f, "  (schemas not found: set SF_SCHEMA_DIR; descriptions omitted)\n");
}

static void usage(FILE *f, const struct sf_envelope_schemas *schemas)
{
	fprintf(f,
		"Usage: sf-submit TYPE [--network UUID] [--interface UUID] [--node NAME] [--args JSON]\n"
		"       sf-submit --file JOB.json\n"
		"\n"
		"Builds a job envelope, validates it against the job schema, publishes it to the\n"
		"sf.jobs exchange with a broker confirm and prints the job id.\n"
		"\n"
		"  --network UUID     the network a network.* job acts on\n"
		"  --interface UUID   the interface an interface.* job acts on\n"
		"  --node NAME        the node of node.* jobs; for jobs handled by hypervisors, the\n"
		"                     hypervisor whose queue gets the job\n"
		"  --args JSON        the job's arguments as a JSON object (default {})\n"
		"  --file FILE        publish a complete envelope from FILE (validated as is)\n"
		"  --amqp-url URL     RabbitMQ URL (default $SF_AMQP_URL, else %s)\n"
		"  --dry-run          validate and print the envelope; publish nothing\n"
		"  --help             this text\n"
		"\n"
		"Not implemented yet: --wait (following the job's events) and network names.\n"
		"Exit status: 0 published, 1 rejected or failed, 2 usage error.\n",
		DEFAULT_AMQP_URL);
	print_job_types(f, schemas);
}

static int parse_args(int argc, char **argv, struct opts *o, bool *ret_help)
{
	static const struct option longopts[] = {
		{"network", required_argument, NULL, 'n'}, {"interface", required_argument, NULL, 'i'},
		{"node", required_argument, NULL, 'N'},    {"args", required_argument, NULL, 'a'},
		{"file", required_argument, NULL, 'f'},    {"amqp-url", required_argument, NULL, 'u'},
		{"dry-run", no_argument, NULL, 'd'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*ret_help = false;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->network = optarg; break;
		case 'i': o->interface = optarg; break;
		case 'N': o->node = optarg; break;
		case 'a': o->args = optarg; break;
		case 'f': o->file = optarg; break;
		case 'u': o->amqp_url = optarg; break;
		case 'd': o->dry_run = true; break;
		case 'h': *ret_help = true; return 0;
		default: return -EINVAL;
		}
	}
	if (optind < argc)
		o->type = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "sf-submit: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->file == !o->type) {
		fprintf(stderr, "sf-submit: give either a job TYPE or --file\n");
		return -EINVAL;
	}
	return 0;
}

/* Build the job from TYPE and options. */
static int build_job(const struct opts *o, struct sf_job **ret_job)
{
	enum sf_job_type type;
	const char *object = NULL;
	json_t *args = NULL;
	struct sf_diag diag = {0};
	int r;

	if (sf_job_type_from_string(o->type, &type) < 0) {
		fprintf(stderr, "sf-submit: unknown job type '%s' (see --help)\n", o->type);
		return -EINVAL;
	}
	switch (sf_job_types[type].object_type) {
	case SF_OBJECT_NETWORK: object = o->network; break;
	case SF_OBJECT_NETWORKINTERFACE: object = o->interface; break;
	case SF_OBJECT_NODE: object = o->node; break;
	default: break;
	}
	if (!object) {
		fprintf(stderr, "sf-submit: %s needs --%s\n", o->type,
			sf_object_type_to_string(sf_job_types[type].object_type));
		return -EINVAL;
	}
	if (o->args) {
		r = sf_json_load_buf(o->args, strlen(o->args), &args, &diag);
		if (r < 0) {
			fprintf(stderr, "sf-submit: --args: %s\n", diag.message);
			return r;
		}
	}
	r = sf_job_new(type, object, args, NULL, ret_job);
	if (r < 0)
		fprintf(stderr, "sf-submit: --args: must be a JSON object\n");
	json_decref(args);
	return r;
}

static int load_file(const char *path, const struct sf_envelope_schemas *schemas,
		     struct sf_job **ret_job)
{
	struct sf_diag diag = {0};
	json_t *doc = NULL;
	char *text;
	int r;

	r = sf_json_load_file(path, &doc, &diag);
	if (r < 0) {
		fprintf(stderr, "sf-submit: %s: %s\n", path, diag.message[0] ? diag.message : sf_strerror(r));
		return r;
	}
	text = sf_json_dumps(doc);
	json_decref(doc);
	r = sf_job_parse(schemas, text, strlen(text), ret_job, &diag);
	free(text);
	if (r < 0)
		fprintf(stderr, "sf-submit: %s: %s\n", path, diag.message);
	return r;
}

/* Where the job goes: "networknode", or "hypervisor.<node>". */
static int routing_key(const struct sf_job *job, const char *node, char **ret_key)
{
	unsigned targets = sf_job_types[job->type].targets;

	if ((targets & SF_JOB_TO_HYPERVISOR) && (node || !(targets & SF_JOB_TO_NETWORKNODE))) {
		if (!node) {
			fprintf(stderr, "sf-submit: %s goes to a hypervisor: give --node\n",
				sf_job_types[job->type].name);
			return -EINVAL;
		}
		*ret_key = sf_xasprintf("hypervisor.%s", node);
		return 0;
	}
	*ret_key = sf_xstrdup("networknode");
	return 0;
}

int main(int argc, char **argv)
{
	struct sf_envelope_schemas *schemas = NULL;
	struct opts o = {.amqp_url = getenv("SF_AMQP_URL")};
	struct sf_diag diag = {0};
	struct sf_job *job = NULL;
	struct sf_mq *mq = NULL;
	char *body = NULL, *key = NULL;
	bool help;
	int r, rc = 1;

	if (!o.amqp_url)
		o.amqp_url = DEFAULT_AMQP_URL;
	sf_log_set_level(SF_LOG_WARN);
	r = parse_args(argc, argv, &o, &help);
	(void)sf_envelope_schemas_load(NULL, &schemas, &diag);
	if (help) {
		usage(stdout, schemas);
		rc = 0;
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "Try 'sf-submit --help'.\n");
		rc = 2;
		goto out;
	}
	if (!schemas) {
		fprintf(stderr, "sf-submit: cannot load the job schema from %s: %s\n", sf_schema_dir(),
			diag.message[0] ? diag.message : "not found");
		goto out;
	}
	r = o.file ? load_file(o.file, schemas, &job) : build_job(&o, &job);
	if (r < 0)
		goto out;
	r = sf_job_check(schemas, job, &diag);
	if (r < 0) {
		fprintf(stderr, "sf-submit: invalid job: %s\n", diag.message);
		goto out;
	}
	r = routing_key(job, o.node, &key);
	if (r < 0)
		goto out;
	body = sf_job_serialize(job);
	if (o.dry_run) {
		printf("%s\n", body);
		rc = 0;
		goto out;
	}
	r = sf_mq_amqp_new(o.amqp_url, NULL, &mq);
	if (r < 0) {
		fprintf(stderr, "sf-submit: bad --amqp-url: %s\n", sf_strerror(r));
		goto out;
	}
	r = sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, key, body, strlen(body), &(struct sf_mq_msg_props){
		.message_id = job->id});
	if (r == -ENOENT) {
		fprintf(stderr, "sf-submit: no queue is bound for '%s' on %s (is that worker's "
				"topology declared?)\n", key, SF_MQ_JOBS_EXCHANGE);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "sf-submit: publishing failed: %s\n", sf_strerror(r));
		goto out;
	}
	printf("%s\n", job->id);
	rc = 0;
out:
	sf_mq_free(mq);
	free(body);
	free(key);
	sf_job_free(job);
	sf_envelope_schemas_free(schemas);
	return rc;
}
