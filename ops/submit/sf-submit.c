// SPDX-License-Identifier: Apache-2.0
/*
 * sf-submit: build a job envelope, validate it against schemas/jobs/job.json, record it as
 * "queued" (sf/jobstatus.h), publish it to sf.jobs with a broker confirm, print the job id;
 * with --wait, follow its status record until it is done, failed or dead.
 *
 *   sf-submit TYPE [--network UUID|NAME] [--interface UUID] [--node NAME] [--args JSON]
 *             [--wait [SECONDS]]
 *   sf-submit --file job.json [--node NAME] [--wait [SECONDS]]
 *
 * Routing (the routing key of sf.jobs): a job with a node (--node, the object of node.*
 * jobs, or the interface's node for interface jobs only hypervisors handle) goes to that
 * node's queue by its role in the node registry: "networknode", or "hypervisor.<name>".
 * Without one, it goes to the network node. Request jobs (network.ping) are sent as
 * requests: sf-submit waits for the worker's answer and prints it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/jobstatus.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/mq.h"
#include "sf/schema.h"
#include "sf/store.h"
#include "sf/util.h"

SF_LOG_MODULE("submit");

#define DEFAULT_AMQP_URL "amqp://guest:guest@127.0.0.1:17672/"
#define DEFAULT_REDIS_URL "redis://127.0.0.1:16379/0"
#define DEFAULT_REDIS_PREFIX "sf:"
#define DEFAULT_WAIT_S 300
#define DEFAULT_REQUEST_WAIT_S 30
#define MAX_WAIT_S (7 * 24 * 3600)

enum {
	EXIT_DONE = 0,	  /* published (and done, with --wait) */
	EXIT_FAILED = 1,  /* not published, or failed or dead */
	EXIT_USAGE = 2,	  /* the command line or the job is wrong */
	EXIT_TIMEOUT = 3, /* --wait ran out before the job finished */
};

struct opts {
	const char *type;
	const char *network;
	const char *interface;
	const char *node;
	const char *namespace;
	const char *args;
	const char *file;
	const char *amqp_url;
	const char *redis_url;
	const char *redis_prefix;
	bool dry_run;
	bool wait;
	long wait_s;
};

/* ---- --help ---------------------------------------------------------------------------- */

static const char *queue_text(const struct sf_job_type_info *info)
{
	if (info->object_type == SF_OBJECT_NODE)
		return "the node's: networknode or hypervisor.<node>, by its role";
	if (info->targets == SF_JOB_TO_NETWORKNODE)
		return "networknode";
	if (info->targets == SF_JOB_TO_HYPERVISOR)
		return "hypervisor.<node> (the interface's node unless --node)";
	return "networknode; with --node, that node's";
}

/* "string, ipv4, required", "integer 1..100, default 10" */
static void print_arg_type(FILE *f, const json_t *arg, bool required)
{
	const json_t *type = json_object_get(arg, "type");
	const json_t *format = json_object_get(arg, "format");
	const json_t *min = json_object_get(arg, "minimum"), *max = json_object_get(arg, "maximum");
	const json_t *def = json_object_get(arg, "default");

	fprintf(f, "%s", json_is_string(type) ? json_string_value(type) : "any");
	if (json_is_integer(min) && json_is_integer(max))
		fprintf(f, " %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT,
			json_integer_value(min), json_integer_value(max));
	if (json_is_string(format))
		fprintf(f, ", %s", json_string_value(format));
	if (required)
		fprintf(f, ", required");
	if (json_is_integer(def))
		fprintf(f, ", default %" JSON_INTEGER_FORMAT, json_integer_value(def));
}

static bool is_required(const json_t *args, const char *key)
{
	const json_t *req = json_object_get(args, "required");
	const json_t *v;
	size_t i;

	json_array_foreach(req, i, v)
		if (sf_streq(json_string_value(v), key))
			return true;
	return false;
}

static void print_job_types(FILE *f, const struct sf_envelope_schemas *schemas)
{
	const json_t *doc = schemas ? sf_envelope_job_schema_document(schemas) : NULL;
	const json_t *defs = doc ? json_object_get(doc, "definitions") : NULL;

	fprintf(f, "\nJob types (from schemas/jobs/job.json):\n");
	for (int t = 0; t < _SF_JOB_TYPE_MAX; t++) {
		const struct sf_job_type_info *info = &sf_job_types[t];
		const json_t *def = json_object_get(defs, info->name);
		const json_t *args = json_object_get(json_object_get(def, "properties"), "args");
		const json_t *desc = json_object_get(def, "description");
		const char *key;
		json_t *arg;

		fprintf(f, "  %s\n", info->name);
		if (json_is_string(desc))
			fprintf(f, "      %s\n", json_string_value(desc));
		fprintf(f, "      object: --%s; queue: %s%s\n",
			info->object_type == SF_OBJECT_NETWORKINTERFACE
				? "interface"
				: sf_object_type_to_string(info->object_type),
			queue_text(info),
			info->is_request ? "; request: the answer is printed" : "");
		json_object_foreach(json_object_get(args, "properties"), key, arg) {
			const json_t *d = json_object_get(arg, "description");

			fprintf(f, "      args.%s (", key);
			print_arg_type(f, arg, is_required(args, key));
			fprintf(f, "): %s\n", json_is_string(d) ? json_string_value(d) : "");
		}
		if (json_object_size(json_object_get(args, "properties")) == 0)
			fprintf(f, "      args: none\n");
	}
	if (!defs)
		fprintf(f, "  (schemas not found: set SF_SCHEMA_DIR; descriptions omitted)\n");
}

static void usage(FILE *f, const struct sf_envelope_schemas *schemas)
{
	fprintf(f,
		"Usage: sf-submit TYPE [--network UUID|NAME] [--interface UUID] [--node NAME]\n"
		"                 [--args JSON] [--wait [SECONDS]]\n"
		"       sf-submit --file JOB.json [--node NAME] [--wait [SECONDS]]\n"
		"sf-net job submitter: builds a job envelope, validates it against the job "
		"schema,\n"
		"records it as queued, publishes it to the sf.jobs exchange with a broker confirm "
		"and\n"
		"prints the job id; --wait follows the job's status record until it ends.\n"
		"\n"
		"Options:\n"
		"  --network UUID|NAME\n"
		"        the network of network.* jobs: a uuid, or the name of an active network\n"
		"        (looked up in Redis; an ambiguous name is an error)\n"
		"  --namespace NAME\n"
		"        narrows the lookup of a network name to one namespace\n"
		"  --interface UUID\n"
		"        the interface of interface.* jobs\n"
		"  --node NAME\n"
		"        the node of node.* jobs, or the node whose queue gets the job; routed by "
		"the\n"
		"        node's role in the registry\n"
		"  --args JSON\n"
		"        the job's arguments as a JSON object\n"
		"        default {}\n"
		"  --file FILE\n"
		"        publish a complete envelope from FILE (validated as is)\n"
		"  --wait [SECONDS]\n"
		"        follow the job until it is done, failed or dead (request jobs: until the\n"
		"        answer comes)\n"
		"        default %d (requests %d)\n"
		"  --amqp-url URL\n"
		"        RabbitMQ URL, amqp://user:password@host:port/vhost\n"
		"        env SF_AMQP_URL, default %s\n"
		"  --redis-url URL\n"
		"        Redis URL, for network names, node roles, the status record and --wait\n"
		"        env SF_REDIS_URL, default %s\n"
		"  --redis-prefix PREFIX\n"
		"        prefix of every Redis key (as the daemons')\n"
		"        env SF_REDIS_PREFIX, default %s\n"
		"  --dry-run\n"
		"        resolve, validate and print the envelope; publish nothing\n"
		"  --help\n"
		"        print this help and exit\n"
		"\n"
		"Exit status: 0 published (with --wait: done), 1 not published or the job failed "
		"or\n"
		"is dead (the error is printed), 2 usage error or invalid job, 3 --wait timed "
		"out.\n",
		DEFAULT_WAIT_S, DEFAULT_REQUEST_WAIT_S, DEFAULT_AMQP_URL, DEFAULT_REDIS_URL,
		DEFAULT_REDIS_PREFIX);
	print_job_types(f, schemas);
}

/* ---- the command line ------------------------------------------------------------------- */

static int parse_args(int argc, char **argv, struct opts *o, bool *ret_help)
{
	static const struct option longopts[] = {
		{"network", required_argument, NULL, 'n'},
		{"namespace", required_argument, NULL, 'S'},
		{"interface", required_argument, NULL, 'i'},
		{"node", required_argument, NULL, 'N'},
		{"args", required_argument, NULL, 'a'},
		{"file", required_argument, NULL, 'f'},
		{"wait", optional_argument, NULL, 'w'},
		{"amqp-url", required_argument, NULL, 'u'},
		{"redis-url", required_argument, NULL, 'r'},
		{"redis-prefix", required_argument, NULL, 'p'},
		{"dry-run", no_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *secs;
	int c;

	*ret_help = false;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->network = optarg;
			break;
		case 'S':
			o->namespace = optarg;
			break;
		case 'i':
			o->interface = optarg;
			break;
		case 'N':
			o->node = optarg;
			break;
		case 'a':
			o->args = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case 'u':
			o->amqp_url = optarg;
			break;
		case 'r':
			o->redis_url = optarg;
			break;
		case 'p':
			o->redis_prefix = optarg;
			break;
		case 'd':
			o->dry_run = true;
			break;
		case 'h':
			*ret_help = true;
			return 0;
		case 'w':
			o->wait = true;
			secs = optarg;
			/* "--wait 30" as well as "--wait=30": a job type is never a number */
			if (!secs && optind < argc && argv[optind][0] >= '0' &&
			    argv[optind][0] <= '9')
				secs = argv[optind++];
			if (secs && sf_parse_long(secs, 1, MAX_WAIT_S, &o->wait_s) < 0) {
				fprintf(stderr,
					"sf-submit: --wait: '%s' is not a number of seconds "
					"(1..%d)\n",
					secs, MAX_WAIT_S);
				return -EINVAL;
			}
			break;
		default:
			return -EINVAL;
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

/* ---- building the job -------------------------------------------------------------------- */

/* The uuid of --network: itself when it is a uuid, else the one active network of that name. */
static int resolve_network(struct sf_kv *kv, const struct opts *o, char **ret_uuid)
{
	struct sf_network **nets = NULL;
	size_t n = 0;
	int r;

	if (sf_uuid_is_valid(o->network)) {
		*ret_uuid = sf_xstrdup(o->network);
		return 0;
	}
	r = sf_network_find_by_name(kv, o->namespace, o->network, &nets, &n);
	if (r < 0) {
		fprintf(stderr, "sf-submit: looking up network '%s': %s\n", o->network,
			sf_strerror(r));
		return r;
	}
	if (n == 1) {
		*ret_uuid = sf_xstrdup(nets[0]->uuid);
	} else if (n == 0) {
		fprintf(stderr, "sf-submit: no active network is named '%s'%s%s\n", o->network,
			o->namespace ? " in namespace " : "", o->namespace ? o->namespace : "");
		r = -ENOENT;
	} else {
		fprintf(stderr,
			"sf-submit: the network name '%s' is ambiguous; give a uuid or "
			"--namespace:\n",
			o->network);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, "  %s (namespace %s)\n", nets[i]->uuid,
				nets[i]->namespace ? nets[i]->namespace : "-");
		r = -EEXIST;
	}
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	return r;
}

/* Build the job from TYPE and options. -EINVAL: a usage error (printed). */
static int build_job(struct sf_kv *kv, const struct opts *o, struct sf_job **ret_job)
{
	struct sf_diag diag = {0};
	enum sf_job_type type;
	char *network = NULL;
	const char *object = NULL;
	json_t *args = NULL;
	int r;

	if (sf_job_type_from_string(o->type, &type) < 0) {
		fprintf(stderr, "sf-submit: unknown job type '%s' (see --help)\n", o->type);
		return -EINVAL;
	}
	switch (sf_job_types[type].object_type) {
	case SF_OBJECT_NETWORK:
		object = o->network;
		break;
	case SF_OBJECT_NETWORKINTERFACE:
		object = o->interface;
		break;
	case SF_OBJECT_NODE:
		object = o->node;
		break;
	default:
		break;
	}
	if (!object) {
		fprintf(stderr, "sf-submit: %s needs --%s\n", o->type,
			sf_job_types[type].object_type == SF_OBJECT_NETWORKINTERFACE
				? "interface"
				: sf_object_type_to_string(sf_job_types[type].object_type));
		return -EINVAL;
	}
	if (o->args) {
		r = sf_json_load_buf(o->args, strlen(o->args), &args, &diag);
		if (r < 0) {
			fprintf(stderr, "sf-submit: --args: %s\n", diag.message);
			return -EINVAL;
		}
	}
	if (sf_job_types[type].object_type == SF_OBJECT_NETWORK) {
		r = resolve_network(kv, o, &network);
		if (r < 0)
			goto out;
		object = network;
	}
	r = sf_job_new(type, object, args, NULL, ret_job);
	if (r < 0)
		fprintf(stderr, "sf-submit: --args: must be a JSON object\n");
out:
	free(network);
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
		fprintf(stderr, "sf-submit: %s: %s\n", path,
			diag.message[0] ? diag.message : sf_strerror(r));
		return -EINVAL;
	}
	text = sf_json_dumps(doc);
	json_decref(doc);
	r = sf_job_parse(schemas, text, strlen(text), ret_job, &diag);
	free(text);
	if (r < 0)
		fprintf(stderr, "sf-submit: %s: %s\n", path, diag.message);
	return r;
}

/* ---- routing ----------------------------------------------------------------------------- */

/* The node whose queue gets the job: --node, the node a node job names, or the node of the
 * interface of a job only hypervisors handle. NULL (*ret_node) when there is none. */
static int routing_node(struct sf_kv *kv, const struct sf_job *job, const char *node,
			char **ret_node)
{
	const struct sf_job_type_info *info = &sf_job_types[job->type];
	struct sf_iface *ifc = NULL;
	int r;

	if (!node && job->object_type == SF_OBJECT_NODE)
		node = job->object_uuid;
	if (node || info->targets != SF_JOB_TO_HYPERVISOR) {
		*ret_node = node ? sf_xstrdup(node) : NULL;
		return 0;
	}
	r = sf_iface_get(kv, job->object_uuid, &ifc);
	if (r == -ENOENT)
		fprintf(stderr,
			"sf-submit: interface %s does not exist: give --node to send %s to a "
			"hypervisor anyway\n",
			job->object_uuid, info->name);
	else if (r < 0)
		fprintf(stderr, "sf-submit: looking up interface %s: %s\n", job->object_uuid,
			sf_strerror(r));
	else if (!ifc->node)
		r = -ENOENT;
	if (r == 0)
		*ret_node = sf_xstrdup(ifc->node);
	sf_iface_free(ifc);
	return r;
}

/* "networknode" or "hypervisor.<node>", by the type's targets and the node's role. */
static int routing_key(struct sf_kv *kv, const struct sf_job *job, const char *node_opt,
		       char **ret_key)
{
	const struct sf_job_type_info *info = &sf_job_types[job->type];
	const char *role;
	char *node = NULL;
	json_t *rec = NULL;
	int r;

	r = routing_node(kv, job, node_opt, &node);
	if (r < 0)
		return r;
	if (!node) {
		if (!(info->targets & SF_JOB_TO_NETWORKNODE)) {
			fprintf(stderr, "sf-submit: %s goes to a hypervisor: give --node\n",
				info->name);
			return -EINVAL;
		}
		*ret_key = sf_xstrdup("networknode");
		return 0;
	}
	r = sf_node_get(kv, node, &rec);
	if (r == -ENOENT)
		fprintf(stderr, "sf-submit: node '%s' is not in the node registry (GET /nodes)\n",
			node);
	else if (r < 0)
		fprintf(stderr, "sf-submit: looking up node '%s': %s\n", node, sf_strerror(r));
	if (r < 0)
		goto out;
	role = json_string_value(json_object_get(rec, "role"));
	r = -EINVAL;
	if (sf_streq(role, "networknode") && (info->targets & SF_JOB_TO_NETWORKNODE)) {
		*ret_key = sf_xstrdup("networknode");
		r = 0;
	} else if (sf_streq(role, "hypervisor") && (info->targets & SF_JOB_TO_HYPERVISOR)) {
		*ret_key = sf_xasprintf("hypervisor.%s", node);
		r = 0;
	} else {
		fprintf(stderr, "sf-submit: node '%s' is a %s, and %s is not handled by %ss\n",
			node, role ? role : "node of unknown role", info->name,
			role ? role : "such node");
	}
out:
	json_decref(rec);
	free(node);
	return r;
}

/* ---- publishing and waiting ------------------------------------------------------------- */

static int record_status(struct sf_kv *kv, const struct sf_job *job, enum sf_job_state state,
			 const char *error)
{
	struct sf_job_status st = {.state = state, .job = job, .error = error};
	int r;

	if (state == SF_JOB_FAILED)
		st.finished_at = sf_now_epoch();
	r = sf_job_status_set(kv, job->id, &st);
	if (r < 0)
		fprintf(stderr, "sf-submit: recording job %s as %s failed: %s\n", job->id,
			sf_job_state_to_string(state), sf_strerror(r));
	return r;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* Follow the status record until the job ends or wait_s passes; progress goes to stderr. */
static int follow(struct sf_kv *kv, const char *id, long wait_s)
{
	uint64_t t0 = sf_now_monotonic_ms(), deadline = t0 + (uint64_t)wait_s * 1000;
	char last[64] = "";
	unsigned pause = 50;
	bool warned = false;

	for (;;) {
		json_t *st = NULL;
		const char *state = NULL, *error, *node;
		enum sf_job_state s;
		int r = sf_job_status_get(kv, id, &st);

		if (r < 0 && r != -ENOENT && !warned) {
			fprintf(stderr, "sf-submit: reading the status of job %s: %s; retrying\n",
				id, sf_strerror(r));
			warned = true;
		}
		if (r == 0)
			state = json_string_value(json_object_get(st, "state"));
		if (state && strcmp(state, last) != 0) {
			node = json_string_value(json_object_get(st, "node"));
			error = json_string_value(json_object_get(st, "error"));
			fprintf(stderr, "sf-submit: job %s %s", id, state);
			if (node)
				fprintf(stderr, " on %s", node);
			if (json_integer_value(json_object_get(st, "attempts")) > 0)
				fprintf(stderr, " (attempt %" JSON_INTEGER_FORMAT ")",
					json_integer_value(json_object_get(st, "attempts")));
			if (error)
				fprintf(stderr, ": %s", error);
			fprintf(stderr, "\n");
			(void)snprintf(last, sizeof(last), "%s", state);
		}
		if (state && sf_job_state_from_string(state, &s) == 0 && sf_job_state_is_final(s)) {
			r = s == SF_JOB_DONE ? EXIT_DONE : EXIT_FAILED;
			json_decref(st);
			return r;
		}
		json_decref(st);
		if (sf_now_monotonic_ms() >= deadline) {
			fprintf(stderr, "sf-submit: job %s is still %s after %ld s\n", id,
				last[0] ? last : "unrecorded", wait_s);
			return EXIT_TIMEOUT;
		}
		sleep_ms(pause);
		if (pause < 500)
			pause *= 2;
	}
}

/* A request job: send it and print the worker's answer. */
static int request(struct sf_mq *mq, const struct sf_job *job, const char *key, const char *body,
		   long wait_s)
{
	struct sf_mq_msg_props props = {.message_id = job->id};
	char *reply = NULL;
	size_t len = 0;
	json_t *v;
	int r;

	r = sf_mq_request(mq, SF_MQ_JOBS_EXCHANGE, key, body, strlen(body), &props,
			  (int)(wait_s * 1000), &reply, &len);
	if (r == -ETIMEDOUT) {
		fprintf(stderr, "sf-submit: no answer to %s within %ld s\n", job->id, wait_s);
		return EXIT_TIMEOUT;
	}
	if (r < 0) {
		fprintf(stderr, "sf-submit: sending %s to '%s' failed: %s\n", job->id, key,
			sf_strerror(r));
		return EXIT_FAILED;
	}
	printf("%s\n", reply);
	v = json_loadb(reply, len, 0, NULL);
	r = json_is_string(json_object_get(v, "error")) ? EXIT_FAILED : EXIT_DONE;
	if (r != EXIT_DONE)
		fprintf(stderr, "sf-submit: job %s failed: %s\n", job->id,
			json_string_value(json_object_get(v, "error")));
	json_decref(v);
	free(reply);
	return r;
}

static int publish(struct sf_mq *mq, struct sf_kv *kv, const struct sf_job *job, const char *key,
		   const char *body, bool wait)
{
	char error[160];
	int r;

	/* before the publish, so that the worker's "running" comes after it; --wait cannot
	 * follow a job whose status it cannot read, so it does not send one */
	r = record_status(kv, job, SF_JOB_QUEUED, NULL);
	if (r < 0 && wait)
		return r;
	r = sf_mq_publish(mq, SF_MQ_JOBS_EXCHANGE, key, body, strlen(body),
			  &(struct sf_mq_msg_props){.message_id = job->id});
	if (r == -ENOENT)
		fprintf(stderr,
			"sf-submit: no queue is bound for '%s' on %s (is that worker's "
			"topology declared?)\n",
			key, SF_MQ_JOBS_EXCHANGE);
	else if (r < 0)
		fprintf(stderr, "sf-submit: publishing failed: %s\n", sf_strerror(r));
	if (r < 0) {
		(void)snprintf(error, sizeof(error), "not published to '%s': %s", key,
			       sf_strerror(r));
		(void)record_status(kv, job, SF_JOB_FAILED, error);
	}
	return r;
}

int main(int argc, char **argv)
{
	struct sf_envelope_schemas *schemas = NULL;
	struct opts o = {
		.amqp_url = getenv("SF_AMQP_URL"),
		.redis_url = getenv("SF_REDIS_URL"),
		.redis_prefix = getenv("SF_REDIS_PREFIX"),
	};
	struct sf_diag diag = {0};
	struct sf_job *job = NULL;
	struct sf_mq *mq = NULL;
	struct sf_kv *kv = NULL;
	char *body = NULL, *key = NULL;
	bool help;
	int r, rc = EXIT_FAILED;

	if (!o.amqp_url)
		o.amqp_url = DEFAULT_AMQP_URL;
	if (!o.redis_url)
		o.redis_url = DEFAULT_REDIS_URL;
	if (!o.redis_prefix)
		o.redis_prefix = DEFAULT_REDIS_PREFIX;
	sf_log_set_level(SF_LOG_WARN);
	r = parse_args(argc, argv, &o, &help);
	(void)sf_envelope_schemas_load(NULL, &schemas, &diag);
	if (help) {
		usage(stdout, schemas);
		rc = EXIT_DONE;
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, "Try 'sf-submit --help'.\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (!schemas) {
		fprintf(stderr, "sf-submit: cannot load the job schema from %s: %s\n",
			sf_schema_dir(), diag.message[0] ? diag.message : "not found");
		goto out;
	}
	r = sf_kv_redis_new(o.redis_url, &(struct sf_kv_options){.prefix = o.redis_prefix}, &kv);
	if (r < 0) {
		fprintf(stderr, "sf-submit: bad --redis-url: %s\n", sf_strerror(r));
		rc = EXIT_USAGE;
		goto out;
	}
	r = o.file ? load_file(o.file, schemas, &job) : build_job(kv, &o, &job);
	if (r < 0) {
		rc = r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	r = sf_job_check(schemas, job, &diag);
	if (r < 0) {
		fprintf(stderr, "sf-submit: invalid job: %s\n", diag.message);
		rc = EXIT_USAGE;
		goto out;
	}
	r = routing_key(kv, job, o.node, &key);
	if (r < 0) {
		rc = r == -EINVAL ? EXIT_USAGE : EXIT_FAILED;
		goto out;
	}
	body = sf_job_serialize(job);
	if (o.dry_run) {
		printf("%s\n", body);
		fprintf(stderr, "sf-submit: would publish to %s with routing key '%s'\n",
			SF_MQ_JOBS_EXCHANGE, key);
		rc = EXIT_DONE;
		goto out;
	}
	r = sf_mq_amqp_new(o.amqp_url, NULL, &mq);
	if (r < 0) {
		fprintf(stderr, "sf-submit: bad --amqp-url: %s\n", sf_strerror(r));
		rc = EXIT_USAGE;
		goto out;
	}
	if (sf_job_types[job->type].is_request) {
		printf("%s\n", job->id);
		fflush(stdout);
		rc = request(mq, job, key, body, o.wait_s ? o.wait_s : DEFAULT_REQUEST_WAIT_S);
		goto out;
	}
	r = publish(mq, kv, job, key, body, o.wait);
	if (r < 0)
		goto out;
	printf("%s\n", job->id);
	fflush(stdout);
	rc = o.wait ? follow(kv, job->id, o.wait_s ? o.wait_s : DEFAULT_WAIT_S) : EXIT_DONE;
out:
	sf_mq_free(mq);
	sf_kv_free(kv);
	free(body);
	free(key);
	sf_job_free(job);
	sf_envelope_schemas_free(schemas);
	return rc;
}
