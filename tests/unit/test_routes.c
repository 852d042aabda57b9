// SPDX-License-Identifier: Apache-2.0
/* Route matching (api/src/routes.c): patterns, URL decoding, 404 versus 405, and the daemon's
 * own table (every route sane, every body schema loads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../api/src/http.h"
#include "sf/diag.h"
#include "sf/util.h"

static int h_dummy(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	(void)ctx;
	(void)req;
	(void)resp;
	return 0;
}

static const struct api_route group_a[] = {
	{"GET", "/", NULL, API_PUBLIC, h_dummy},
	{"GET", "/networks", NULL, 0, h_dummy},
	{"POST", "/networks", NULL, 0, h_dummy},
	{"GET", "/networks/<ref>", NULL, 0, h_dummy},
	{"PUT", "/networks/<ref>/metadata/<key>", NULL, 0, h_dummy},
	{"DELETE", "/networks/<ref>/metadata/<key>", NULL, 0, h_dummy},
	{0},
};

static const struct api_route group_b[] = {
	{"GET", "/a/<w>/b/<x>/c/<y>/d/<z>", NULL, 0, h_dummy},
	{"GET", "/networks/<ref>", NULL, 0, NULL}, /* shadowed by group_a's */
	{0},
};

static const struct api_route *const groups[] = {group_a, group_b};

struct match {
	const struct api_route *route;
	const char *params[API_MAX_PARAMS];
	size_t n;
	char buf[256];
};

static int match(const char *method, const char *path, struct match *m)
{
	memset(m, 0, sizeof(*m));
	return api_route_match_in(groups, SF_ARRAY_SIZE(groups), method, path, &m->route, m->params,
				  &m->n, m->buf, sizeof(m->buf));
}

static void test_literal_and_params(void **state)
{
	struct match m;

	(void)state;
	assert_int_equal(match("GET", "/", &m), 0);
	assert_ptr_equal(m.route, &group_a[0]);
	assert_int_equal(m.n, 0);

	assert_int_equal(match("POST", "/networks", &m), 0);
	assert_ptr_equal(m.route, &group_a[2]);

	assert_int_equal(match("GET", "/networks/net-1", &m), 0);
	assert_ptr_equal(m.route, &group_a[3]); /* the first group wins */
	assert_int_equal(m.n, 1);
	assert_string_equal(m.params[0], "net-1");

	assert_int_equal(match("DELETE", "/networks/n/metadata/colour", &m), 0);
	assert_ptr_equal(m.route, &group_a[5]);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.params[0], "n");
	assert_string_equal(m.params[1], "colour");

	assert_int_equal(match("GET", "/a/1/b/2/c/3/d/4", &m), 0);
	assert_int_equal(m.n, 4);
	assert_string_equal(m.params[3], "4");
}

static void test_404_versus_405(void **state)
{
	struct match m;

	(void)state;
	/* known path, other method */
	assert_int_equal(match("PUT", "/networks", &m), -EPERM);
	assert_int_equal(match("DELETE", "/", &m), -EPERM);
	assert_int_equal(match("GET", "/networks/n/metadata/k", &m), -EPERM);
	assert_int_equal(match("get", "/networks", &m), -EPERM); /* methods are case-sensitive */
	/* no such path */
	assert_int_equal(match("GET", "/nope", &m), -ENOENT);
	assert_int_equal(match("GET", "/networks/n/metadata", &m), -ENOENT);
	assert_int_equal(match("GET", "/networks/n/extra/segments/here", &m), -ENOENT);
	assert_int_equal(match("GET", "/networksx", &m), -ENOENT);
	assert_int_equal(match("GET", "/a/1/b/2/c/3/d", &m), -ENOENT);
	assert_null(m.route);
}

static void test_slashes(void **state)
{
	struct match m;

	(void)state;
	assert_int_equal(match("GET", "/networks/", &m), 0); /* trailing slash tolerated */
	assert_ptr_equal(m.route, &group_a[1]);
	assert_int_equal(match("GET", "/networks/n/", &m), 0);
	assert_string_equal(m.params[0], "n");
	/* a parameter never matches an empty segment */
	assert_int_equal(match("GET", "/networks//metadata/k", &m), -ENOENT);
	assert_int_equal(match("PUT", "/networks//metadata/k", &m), -ENOENT);
	assert_int_equal(match("GET", "//networks", &m), -ENOENT);
	assert_int_equal(match("GET", "/networks//", &m), -ENOENT);
	assert_int_equal(match("GET", "networks", &m), -ENOENT);
	assert_int_equal(match("GET", "", &m), -ENOENT);
}

static void test_url_decoding(void **state)
{
	struct match m;

	(void)state;
	assert_int_equal(match("PUT", "/networks/a%2Fb/metadata/k%20%41%e2%82%ac", &m), 0);
	assert_string_equal(m.params[0], "a/b"); /* an encoded slash stays in its segment */
	assert_string_equal(m.params[1], "k A\xe2\x82\xac");
	/* literals are compared decoded, as werkzeug does */
	assert_int_equal(match("GET", "/net%77orks", &m), 0);
	assert_ptr_equal(m.route, &group_a[1]);
	/* a '%' without two hex digits stays as it is */
	assert_int_equal(match("GET", "/networks/100%", &m), 0);
	assert_string_equal(m.params[0], "100%");
	assert_int_equal(match("GET", "/networks/%zz%4", &m), 0);
	assert_string_equal(m.params[0], "%zz%4");
	/* NUL cannot be carried in a parameter */
	assert_int_equal(match("GET", "/networks/a%00b", &m), -ENOENT);
}

static void test_buffer_too_small(void **state)
{
	const struct api_route *route;
	const char *params[API_MAX_PARAMS];
	char buf[16];
	size_t n;

	(void)state;
	assert_int_equal(api_route_match_in(groups, 2, "GET", "/networks/0123456789", &route,
					    params, &n, buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(api_route_match_in(groups, 2, "GET", "/networks/ab", &route, params, &n,
					    buf, sizeof(buf)),
			 0);
	assert_string_equal(params[0], "ab");
}

static void test_request_id_rule(void **state)
{
	char longest[129];

	(void)state;
	memset(longest, 'a', 128);
	longest[128] = '\0';
	assert_true(api_request_id_is_valid("abc-DEF_1.2"));
	assert_true(api_request_id_is_valid(longest));
	longest[127] = ' ';
	assert_false(api_request_id_is_valid(longest));
	assert_false(api_request_id_is_valid(NULL));
	assert_false(api_request_id_is_valid(""));
	assert_false(api_request_id_is_valid("a b"));
	assert_false(api_request_id_is_valid("a\"b"));
	assert_false(api_request_id_is_valid("a\nb"));
	memset(longest, 'a', 128);
	assert_true(api_request_id_is_valid(longest));
}

/* The daemon's own table: sane patterns, at most API_MAX_PARAMS parameters, a handler each,
 * no duplicate method + pattern, each route reachable, and every body schema compiles. */
static void test_daemon_table(void **state)
{
	const struct api_route *const tables[] = {api_routes_root, api_routes_auth,
						  api_routes_networks, api_routes_interfaces,
						  api_routes_nodes};
	struct api_route_schemas *schemas = NULL;
	struct sf_diag diag = {0};
	size_t total = 0;

	(void)state;
	assert_int_equal(api_route_schemas_load(NULL, &schemas, &diag), 0);
	for (size_t t = 0; t < SF_ARRAY_SIZE(tables); t++) {
		for (const struct api_route *rt = tables[t]; rt->pattern; rt++) {
			const struct api_route *found;
			const char *params[API_MAX_PARAMS];
			char path[256], buf[256];
			size_t n = 0, np = 0, pos = 0;

			total++;
			assert_non_null(rt->method);
			assert_non_null(rt->handler);
			assert_true(rt->pattern[0] == '/');
			assert_non_null(api_route_schema(schemas, rt));
			/* build a concrete path: each <x> becomes "p<i>" */
			for (const char *p = rt->pattern; *p;) {
				if (*p == '<') {
					const char *end = strchr(p, '>');

					assert_non_null(end);
					pos += (size_t)snprintf(path + pos, sizeof(path) - pos,
								"p%zu", np++);
					p = end + 1;
				} else {
					path[pos++] = *p++;
				}
				assert_true(pos < sizeof(path));
			}
			path[pos] = '\0';
			assert_true(np <= API_MAX_PARAMS);
			assert_int_equal(api_route_match(rt->method, path, &found, params, &n, buf,
							 sizeof(buf)),
					 0);
			if (found != rt)
				fail_msg("%s %s is shadowed by %s", rt->method, rt->pattern,
					 found->pattern);
			assert_int_equal(n, np);
		}
	}
	assert_true(total > 30);
	api_route_schemas_free(schemas);
}

static void test_missing_schema_is_named(void **state)
{
	struct api_route_schemas *schemas = NULL;
	struct sf_diag diag = {0};

	(void)state;
	assert_int_equal(api_route_schemas_load("/nonexistent-dir", &schemas, &diag), -ENOENT);
	assert_null(schemas);
	assert_non_null(strstr(diag.message, "/nonexistent-dir/api/"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_params),
		cmocka_unit_test(test_404_versus_405),
		cmocka_unit_test(test_slashes),
		cmocka_unit_test(test_url_decoding),
		cmocka_unit_test(test_buffer_too_small),
		cmocka_unit_test(test_request_id_rule),
		cmocka_unit_test(test_daemon_table),
		cmocka_unit_test(test_missing_schema_is_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
