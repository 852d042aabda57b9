/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP side of sf-api: the server (http.c, the only file that includes microhttpd.h) and
 * the route table machinery (routes.c): matching a path to a route and the compiled body
 * schema of every route.
 */
#ifndef API_HTTP_H
#define API_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"

struct sf_diag;
struct sf_schema;
struct api_http;
struct api_route_schemas;

/* ---- routes.c ---- */

/* api_route_match() over the given groups (each an array ended by an all-zero entry) instead
 * of the daemon's own; for tests. Path segments are URL-decoded before matching, a trailing
 * slash is ignored, "<x>" matches one non-empty segment. -ENOENT also for a path that cannot
 * be a route (no leading '/', an empty segment, "%00", longer than buf_size). */
int api_route_match_in(const struct api_route *const *groups, size_t n_groups, const char *method,
		       const char *path, const struct api_route **ret_route,
		       const char **ret_params, size_t *ret_n, char *ret_buf, size_t buf_size);

/* Compile the body schema of every route from <dir>/api/<route schema> (dir NULL means
 * sf_schema_dir()); a route without a schema accepts only an empty object. A missing or
 * malformed schema file fails with diag naming the file. */
int api_route_schemas_load(const char *dir, struct api_route_schemas **ret_schemas,
			   struct sf_diag *diag);
void api_route_schemas_free(struct api_route_schemas *s);
/* The compiled schema of a route of the daemon's table (never NULL for those). */
const struct sf_schema *api_route_schema(const struct api_route_schemas *s,
					 const struct api_route *route);

/* ---- http.c ---- */

/* Listen on cfg listen_address:port with a pool of cfg threads; each thread gets its own
 * api_ctx (Redis and RabbitMQ connections made on first use). The arguments are borrowed and
 * must outlive the server. -EADDRINUSE, -EINVAL (bad address) or -EIO. */
int api_http_start(const struct api_cfg *cfg, const struct sf_envelope_schemas *envelopes,
		   const struct api_route_schemas *schemas, struct api_http **ret_http);
/* Stop accepting, let in-flight requests finish, join the threads (which frees their
 * contexts) and free the server. NULL does nothing. */
void api_http_stop(struct api_http *h);

/* An X-Request-ID we echo: 1..128 characters of [A-Za-z0-9._-]. */
bool api_request_id_is_valid(const char *id);
/* The request id of the request this thread is serving, or NULL outside a request. Unlike
 * sf_log_request_id() it is not truncated. */
const char *api_current_request_id(void);

#endif
