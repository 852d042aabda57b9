// SPDX-License-Identifier: Apache-2.0
/* The route table: which handler serves a method and path, and each route's body schema. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "sf/diag.h"
#include "sf/err.h"
#include "sf/log.h"
#include "sf/schema.h"

SF_LOG_MODULE("routes");

/* Matching order: the first route whose pattern and method match wins. */
static const struct api_route *const route_groups[] = {
	api_routes_root,       api_routes_auth,	 api_routes_networks,
	api_routes_interfaces, api_routes_nodes,
	api_routes_jobs,
};

#define MAX_SEGMENTS 16

/* Split path into URL-decoded segments stored NUL-terminated in buf. A '%' not followed by two
 * hex digits stays as it is (as werkzeug does); "%00" and empty segments refuse the path. */
static int split_path(const char *path, char *buf, size_t size, const char **segs, size_t *ret_n)
{
	size_t n = 0, pos = 0, len;
	const char *p;

	if (!path || path[0] != '/')
		return -ENOENT;
	len = strlen(path);
	if (len > 1 && path[len - 1] == '/')
		len--; /* trailing slash tolerated */
	if (len == 1) {
		*ret_n = 0;
		return 0;
	}
	for (p = path + 1;; p++) {
		const char *end = memchr(p, '/', (size_t)(path + len - p));

		if (!end)
			end = path + len;
		if (end == p || n == MAX_SEGMENTS)
			return -ENOENT;
		segs[n++] = buf + pos;
		for (; p < end; p++) {
			char c = *p;

			if (c == '%' && end - p >= 3 && sf_hexval(p[1]) >= 0 &&
			    sf_hexval(p[2]) >= 0) {
				c = (char)(sf_hexval(p[1]) * 16 + sf_hexval(p[2]));
				if (c == '\0')
					return -ENOENT;
				p += 2;
			}
			if (pos + 1 >= size)
				return -ENOENT;
			buf[pos++] = c;
		}
		buf[pos++] = '\0';
		if (end == path + len)
			break;
	}
	*ret_n = n;
	return 0;
}

/* Does the pattern match these segments? Fills params with the "<x>" ones. */
static bool pattern_matches(const char *pattern, const char *const *segs, size_t n,
			    const char **params, size_t *ret_np)
{
	const char *p = pattern + 1;
	size_t i = 0, np = 0;

	if (strcmp(pattern, "/") == 0) {
		*ret_np = 0;
		return n == 0;
	}
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (i == n)
			return false;
		if (len >= 2 && p[0] == '<' && p[len - 1] == '>') {
			if (np == API_MAX_PARAMS)
				return false;
			params[np++] = segs[i];
		} else if (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0) {
			return false;
		}
		i++;
		p += len;
		if (*p == '/')
			p++;
	}
	if (i != n)
		return false;
	*ret_np = np;
	return true;
}

int api_route_match_in(const struct api_route *const *groups, size_t n_groups, const char *method,
		       const char *path, const struct api_route **ret_route,
		       const char **ret_params, size_t *ret_n, char *ret_buf, size_t buf_size)
{
	const char *segs[MAX_SEGMENTS], *params[API_MAX_PARAMS];
	bool path_known = false;
	size_t n, np;
	int r;

	r = split_path(path, ret_buf, buf_size, segs, &n);
	if (r < 0)
		return r;
	for (size_t g = 0; g < n_groups; g++) {
		for (const struct api_route *rt = groups[g]; rt->pattern; rt++) {
			if (!pattern_matches(rt->pattern, segs, n, params, &np))
				continue;
			if (strcmp(rt->method, method) != 0) {
				path_known = true;
				continue;
			}
			memcpy(ret_params, params, np * sizeof(*params));
			*ret_n = np;
			*ret_route = rt;
			return 0;
		}
	}
	return path_known ? -EPERM : -ENOENT;
}

int api_route_match(const char *method, const char *path, const struct api_route **ret_route,
		    const char **ret_params, size_t *ret_n, char *ret_buf, size_t buf_size)
{
	return api_route_match_in(route_groups, SF_ARRAY_SIZE(route_groups), method, path,
				  ret_route, ret_params, ret_n, ret_buf, buf_size);
}

static const struct api_prefetch *const prefetch_groups[] = {api_prefetch_networks};

api_prefetch_fn api_route_prefetch(const struct api_route *route)
{
	for (size_t g = 0; g < SF_ARRAY_SIZE(prefetch_groups); g++)
		for (const struct api_prefetch *p = prefetch_groups[g]; p->pattern; p++)
			if (strcmp(p->pattern, route->pattern) == 0 &&
			    strcmp(p->method, route->method) == 0)
				return p->prefetch;
	return NULL;
}

/* ---- body schemas ---- */

struct named_schema {
	const char *file; /* borrowed from the route table */
	struct sf_schema *schema;
};

struct api_route_schemas {
	struct sf_schema *empty; /* routes without a body */
	struct named_schema *v;
	size_t n;
};

static const char empty_body_schema[] = "{\"type\": \"object\", \"additionalProperties\": false}";

static struct named_schema *find(const struct api_route_schemas *s, const char *file)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].file, file) == 0)
			return &s->v[i];
	return NULL;
}

static int load_one(struct api_route_schemas *s, const char *dir, const char *file,
		    struct sf_diag *diag)
{
	struct sf_schema *schema = NULL;
	char *path;
	int r;

	if (find(s, file))
		return 0;
	path = sf_xasprintf("%s/api/%s", dir, file);
	sf_diag_clear(diag);
	r = sf_schema_load_file(path, &schema, diag);
	if (r < 0) {
		char msg[sizeof(diag->message)];

		(void)snprintf(msg, sizeof(msg), "%s",
			       diag->message[0] ? diag->message : sf_strerror(r));
		if (!strstr(msg, path)) /* the JSON loader already names the file */
			sf_diag_set(diag, 500, "", "", "%s: %s", path, msg);
	}
	free(path);
	if (r < 0)
		return r;
	s->v = sf_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = (struct named_schema){.file = file, .schema = schema};
	return 0;
}

int api_route_schemas_load(const char *dir, struct api_route_schemas **ret_schemas,
			   struct sf_diag *diag)
{
	struct api_route_schemas *s = sf_xcalloc(1, sizeof(*s));
	json_t *doc;
	int r;

	if (!dir)
		dir = sf_schema_dir();
	doc = json_loads(empty_body_schema, 0, NULL);
	r = sf_schema_new(doc, &s->empty, diag);
	json_decref(doc);
	for (size_t g = 0; r >= 0 && g < SF_ARRAY_SIZE(route_groups); g++)
		for (const struct api_route *rt = route_groups[g]; r >= 0 && rt->pattern; rt++)
			if (rt->schema)
				r = load_one(s, dir, rt->schema, diag);
	if (r < 0) {
		api_route_schemas_free(s);
		return r;
	}
	sf_log_debug("compiled %zu route body schemas from %s/api", s->n, dir);
	*ret_schemas = s;
	return 0;
}

void api_route_schemas_free(struct api_route_schemas *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		sf_schema_free(s->v[i].schema);
	free(s->v);
	sf_schema_free(s->empty);
	free(s);
}

const struct sf_schema *api_route_schema(const struct api_route_schemas *s,
					 const struct api_route *route)
{
	const struct named_schema *ns;

	if (!route->schema)
		return s->empty;
	ns = find(s, route->schema);
	return ns ? ns->schema : NULL;
}
