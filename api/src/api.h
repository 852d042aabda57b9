/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sf-api internals shared by the HTTP layer (http.c, the only file that sees libmicrohttpd),
 * the route table (routes.c) and the handlers (h_<resource>.c).
 *
 * Request flow (http.c): read the body (bounded: 413 past cfg.max_body_bytes) -> parse JSON on
 * every method (malformed -> 400 "invalid JSON body: ...") -> find the route (unknown path 404
 * HTML-free JSON; known path, wrong method 405 {"message": ...}) -> authenticate unless the
 * route is public (401) -> validate the body against the route's schema (400 naming the field;
 * unknown keys are 400 because every schema says additionalProperties false) -> handler.
 * Every response carries X-Request-ID (the caller's, when it sent a sane one, else a new uuid).
 *
 * Wire conventions (spec 1.0): success is 200 with a JSON body (+ "\n"); "nothing" is the
 * literal null; errors are {"error": <message>, "status": <code>} without a trailing newline.
 */
#ifndef API_API_H
#define API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "sf/daemon.h"
#include "sf/util.h"

struct sf_kv;
struct sf_mq;
struct sf_envelope_schemas;
struct sf_schema;

/* Configuration (api/src/main.c owns the table). */
struct api_cfg {
	struct sf_daemon_cfg common;
	char *listen_address;
	long port;
	long threads;            /* MHD thread pool size */
	long max_body_bytes;     /* 413 past this */
	char *auth_secret;       /* HS256 key for JWTs; generated and stored in Redis if empty */
	char *system_key;        /* system namespace key; generated at first start if empty */
	char *system_key_file;   /* where a generated system key is written (0600) */
	long token_minutes;      /* JWT lifetime, default 15 */
	char *zone;              /* JWT issuer and DNS suffix, default "shakenfist" */
	char *floating_network;  /* floating pool CIDR, default 198.51.100.0/24 */
	long halo_seconds;       /* IP deletion halo, default 300 */
	long job_timeout_ms;     /* broker confirm / request-response timeout */
	long ping_timeout_ms;    /* how long GET .../ping waits for the network node */
	long events_max_per_object; /* cap of each object's event stream */
	char *fqdn;              /* node name recorded in events, default the hostname */
};

/* What a handler may use: one per HTTP worker thread (connections are not shared). */
struct api_ctx {
	const struct api_cfg *cfg;
	struct sf_kv *kv;
	struct sf_mq *mq;
	const struct sf_envelope_schemas *envelopes;
};

/* The caller, filled by authentication. */
struct api_caller {
	char namespace[256];
	char keyname[256];
	bool is_system; /* namespace == "system" */
};

#define API_MAX_PARAMS 4

struct api_request {
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *path;    /* without the query string */
	const char *params[API_MAX_PARAMS]; /* path parameters in order, e.g. <ref>, <key> */
	size_t n_params;
	json_t *body;        /* borrowed; an object ({} when no body was sent) */
	const char *request_id;
	const char *remote_address;
	struct api_caller caller; /* empty for public routes */
};

struct api_response {
	int status;     /* 200 unless an error was set */
	json_t *body;   /* owned; NULL means the literal null */
	char *error;    /* owned; set by api_error(): the {"error": ..., "status": ...} body */
	json_t *error_obj; /* owned; an object error (spec 1.5.3 delete-all 403) */
	const char *content_type; /* NULL: application/json */
	char *raw;      /* owned; a non-JSON body (GET / HTML) */
};

/* Handlers return 0 when they filled resp (success or a 4xx via api_error), or -errno for an
 * unexpected failure, which http.c turns into 500 "server error: <strerror>" (and -ECONNREFUSED
 * / -ECONNRESET / -ETIMEDOUT from Redis or RabbitMQ into 503 "service unavailable: ..."). */
typedef int (*api_handler_fn)(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp);

enum api_route_flags {
	API_PUBLIC = 1 << 0,      /* no Authorization needed (GET /, POST /auth) */
	API_SYSTEM_ONLY = 1 << 1, /* 401 "unauthorized" unless the caller is system */
};

struct api_route {
	const char *method;
	const char *pattern; /* "/networks/<ref>/metadata/<key>": each <x> matches one segment */
	const char *schema;  /* body schema file under schemas/api/, e.g. "networks-post.json" */
	unsigned flags;
	api_handler_fn handler;
};

/* Each handler file exports its routes as an array ended by an all-zero entry; routes.c lists
 * the groups in matching order. */
extern const struct api_route api_routes_root[];       /* h_root.c: GET / */
extern const struct api_route api_routes_auth[];       /* h_auth.c: /auth, /auth/namespaces... */
extern const struct api_route api_routes_networks[];   /* h_networks.c: /networks... */
extern const struct api_route api_routes_interfaces[]; /* h_interfaces.c: /interfaces, /instances */
extern const struct api_route api_routes_nodes[];      /* h_nodes.c: /nodes */
extern const struct api_route api_routes_jobs[];       /* h_jobs.c: /jobs */

/* Prefetch (http.c): before the token's key is checked, a route may queue with
 * sf_kv_prefetch_*() the Redis reads its handler is about to make, so that they share the key
 * check's round trip. Queue only reads the handler makes, in its order: a wrong guess costs the
 * wasted reads, never a wrong answer (kv.h). The prefetches are kept beside the route tables,
 * by method and pattern, so that those stay {method, pattern, schema, flags, handler}. */
typedef void (*api_prefetch_fn)(struct api_ctx *ctx,
				const struct api_request *req /* caller not known yet */);

struct api_prefetch {
	const char *method;
	const char *pattern;
	api_prefetch_fn prefetch;
};

extern const struct api_prefetch api_prefetch_networks[]; /* h_networks.c */

/* The route's prefetch, or NULL. */
api_prefetch_fn api_route_prefetch(const struct api_route *route);

/* Find the route for method + path: 0 with the route and params filled; -ENOENT no such path
 * (404); -EPERM the path exists but not with this method (405). */
int api_route_match(const char *method, const char *path, const struct api_route **ret_route,
		    const char **ret_params /* API_MAX_PARAMS; point into ret_buf */, size_t *ret_n,
		    char *ret_buf, size_t buf_size);

/* Response helpers. Each returns 0 so handlers can `return api_error(resp, 404, "...")`. */
int api_ok(struct api_response *resp, json_t *body /* stolen; NULL = null */);
int api_error(struct api_response *resp, int status, const char *fmt, ...) SF_PRINTF(3, 4);
int api_error_object(struct api_response *resp, int status, json_t *error /* stolen */);
void api_response_clear(struct api_response *resp);

/* Publish a job (confirmed by the broker before returning 0), routed by its type's target:
 * "networknode", or "hypervisor.<node>" (node must then be given). args borrowed. */
int api_publish_job(struct api_ctx *ctx, int job_type /* enum sf_job_type */,
		    const char *object_uuid, json_t *args, const char *node, char **ret_job_id);

/* Send a job as a request (sf_mq_request, the job id as message id) routed as api_publish_job
 * does, and wait up to timeout_ms for the worker's answer: 0 with the reply (NUL-terminated,
 * caller frees); -ETIMEDOUT no answer in time (the request expires unrun); -ENOENT nobody
 * consumes the role's queue. */
int api_request_job(struct api_ctx *ctx, int job_type /* enum sf_job_type */,
		    const char *object_uuid, json_t *args, const char *node, int timeout_ms,
		    char **ret_reply, size_t *ret_len);

/* Record an event about an object (published to sf.events; the recorder stores it). */
int api_event(struct api_ctx *ctx, int object_type /* enum sf_object_type */,
	      const char *object_uuid, int event_type /* enum sf_event_type */,
	      const char *message, json_t *extra /* borrowed, may be NULL */);

#endif
