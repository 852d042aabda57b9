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
#include <unistd.h>

#include "../fakes/testutil.h"
#include "sf/json.h"

static json_t *parse(const char *text)
{
	json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);

	assert_non_null(v);
	return v;
}

static void test_load_buf(void **state)
{
	static const char good[] = "{\"a\": [1, 2.5, \"x\"]}";
	static const char bad[] = "{\"a\": 1,\n  \"b\": }";
	struct sf_diag diag = {0};
	json_t *v = NULL, *untouched = json_null(); /* a singleton: any sentinel will do */

	(void)state;

	assert_int_equal(sf_json_load_buf(good, strlen(good), &v, &diag), 0);
	assert_true(json_is_object(v));
	assert_int_equal(json_array_size(json_object_get(v, "a")), 3);
	json_decref(v);

	/* any value, not only objects; the length bounds the input */
	assert_int_equal(sf_json_load_buf("42 trailing", 2, &v, NULL), 0);
	assert_int_equal(json_integer_value(v), 42);
	json_decref(v);

	v = untouched;
	assert_int_equal(sf_json_load_buf(bad, strlen(bad), &v, &diag), -EINVAL);
	assert_ptr_equal(v, untouched);
	assert_int_equal(diag.status, 400);
	assert_string_equal(diag.pointer, "");
	assert_non_null(strstr(diag.message, "line 2, column 8"));

	sf_diag_clear(&diag);
	assert_int_equal(sf_json_load_buf("{\"a\":1,\"a\":2}", 13, &v, &diag), -EINVAL);
	assert_non_null(strstr(diag.message, "duplicate"));
	assert_int_equal(sf_json_load_buf("\"a\\u0000b\"", 10, &v, &diag), -EINVAL);
	assert_int_equal(sf_json_load_buf("", 0, &v, NULL), -EINVAL);
	assert_ptr_equal(v, untouched);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/sf-test-json-XXXXXX";
	struct sf_diag diag = {0};
	json_t *v = NULL;

	(void)state;
	assert_int_equal(sf_test_write_temp(path, "{\"k\": true}"), 0);
	assert_int_equal(sf_json_load_file(path, &v, &diag), 0);
	assert_true(json_is_true(json_object_get(v, "k")));
	json_decref(v);

	assert_int_equal(sf_test_write_file(path, "[1,\n2,\n"), 0);
	assert_int_equal(sf_json_load_file(path, &v, &diag), -EINVAL);
	assert_int_equal(strncmp(diag.message, path, strlen(path)), 0);
	assert_non_null(strstr(diag.message, ":3:"));
	unlink(path);

	assert_int_equal(sf_json_load_file(path, &v, &diag), -ENOENT);
}

static void test_dumps(void **state)
{
	json_t *v =
		parse("{ \"b\" : [ true , null ], \"a\" : { \"x\" : 1.5 }, \"s\": \"\\u00e9\" }");
	char *s;

	(void)state;
	s = sf_json_dumps(v);
	assert_string_equal(s, "{\"b\":[true,null],\"a\":{\"x\":1.5},\"s\":\"\xc3\xa9\"}");
	free(s);
	json_decref(v);

	v = json_string("plain");
	s = sf_json_dumps(v);
	assert_string_equal(s, "\"plain\"");
	free(s);
	json_decref(v);
	assert_null(sf_json_dumps(NULL));
}

static void test_get_str_bool_object_array(void **state)
{
	json_t *o =
		parse("{\"s\": \"v\", \"n\": null, \"i\": 1, \"b\": false, \"o\": {}, \"a\": []}");
	const char *str = "untouched";
	json_t *sub = NULL;
	bool b = true;

	(void)state;
	assert_int_equal(sf_json_get_str(o, "s", &str), 0);
	assert_string_equal(str, "v");
	str = "untouched";
	assert_int_equal(sf_json_get_str(o, "missing", &str), -ENOENT);
	assert_int_equal(sf_json_get_str(o, "n", &str), -ENOENT);
	assert_int_equal(sf_json_get_str(o, "i", &str), -EINVAL);
	assert_string_equal(str, "untouched");

	assert_int_equal(sf_json_get_bool(o, "b", &b), 0);
	assert_false(b);
	assert_int_equal(sf_json_get_bool(o, "i", &b), -EINVAL);
	assert_int_equal(sf_json_get_bool(o, "missing", &b), -ENOENT);

	assert_int_equal(sf_json_get_object(o, "o", &sub), 0);
	assert_ptr_equal(sub, json_object_get(o, "o"));
	assert_int_equal(sf_json_get_object(o, "a", &sub), -EINVAL);
	assert_int_equal(sf_json_get_array(o, "a", &sub), 0);
	assert_ptr_equal(sub, json_object_get(o, "a"));
	assert_int_equal(sf_json_get_array(o, "o", &sub), -EINVAL);

	/* not an object at all: nothing is there */
	assert_int_equal(sf_json_get_str(json_object_get(o, "a"), "s", &str), -ENOENT);
	assert_int_equal(sf_json_get_str(NULL, "s", &str), -ENOENT);
	json_decref(o);
}

static void test_get_int(void **state)
{
	static const struct {
		const char *json;
		int r;
		int64_t value;
	} cases[] = {
		{"7", 0, 7},
		{"-9223372036854775808", 0, INT64_MIN},
		{"9223372036854775807", 0, INT64_MAX},
		{"3.0", 0, 3},
		{"-2e3", 0, -2000},
		{"3.5", -EINVAL, 0},
		{"9.3e18", -EINVAL, 0}, /* integral but beyond int64 */
		{"\"3\"", -EINVAL, 0},
		{"true", -EINVAL, 0},
		{"null", -ENOENT, 0},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		json_t *o = json_pack("{s:o}", "k", parse(cases[i].json));
		int64_t v = 12345;

		assert_int_equal(sf_json_get_int(o, "k", &v), cases[i].r);
		assert_int_equal(v, cases[i].r == 0 ? cases[i].value : 12345);
		json_decref(o);
	}
}

static void test_is_integral(void **state)
{
	static const struct {
		const char *json;
		bool integral;
	} cases[] = {
		{"1", true},	 {"1.0", true},	   {"-0.0", true},  {"1e300", true},
		{"1.5", false},	 {"-0.25", false}, {"1e-3", false}, {"\"1\"", false},
		{"null", false}, {"[1]", false},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		json_t *v = parse(cases[i].json);

		if (sf_json_is_integral(v) != cases[i].integral)
			fail_msg("%s", cases[i].json);
		json_decref(v);
	}
}

static void test_pointer_append(void **state)
{
	char buf[SF_JSON_POINTER_MAX] = "";
	char small[8] = "/ab";

	(void)state;
	assert_int_equal(sf_json_pointer_append(buf, sizeof(buf), "net"), 0);
	assert_int_equal(sf_json_pointer_append(buf, sizeof(buf), "a/b~c"), 0);
	assert_int_equal(sf_json_pointer_append(buf, sizeof(buf), ""), 0);
	assert_int_equal(sf_json_pointer_append(buf, sizeof(buf), "0"), 0);
	assert_string_equal(buf, "/net/a~1b~0c//0");

	/* "/ab" + "/c~" would need "/ab/c~0" + NUL = 8 bytes: fits exactly */
	assert_int_equal(sf_json_pointer_append(small, sizeof(small), "c~"), 0);
	assert_string_equal(small, "/ab/c~0");
	assert_int_equal(sf_json_pointer_append(small, sizeof(small), ""), -ENAMETOOLONG);
	assert_string_equal(small, "/ab/c~0");
	memcpy(small, "/ab", 4);
	assert_int_equal(sf_json_pointer_append(small, sizeof(small), "c/d"), -ENAMETOOLONG);
	assert_string_equal(small, "/ab");
}

static void test_pointer_get(void **state)
{
	static const struct {
		const char *ptr;
		int r;
		const char *expect; /* JSON of the value found */
	} cases[] = {
		{"", 0, NULL}, /* the whole document */
		{"/foo/1", 0, "\"baz\""},
		{"/a~1b", 0, "1"},
		{"/m~0n", 0, "8"},
		{"/", 0, "0"},
		{"/ ", 0, "7"},
		{"/deep/x/0", 0, "null"},
		{"/foo/01", -ENOENT, NULL},
		{"/foo/-", -ENOENT, NULL},
		{"/foo/2", -ENOENT, NULL},
		{"/foo/x", -ENOENT, NULL},
		{"/a~1b/c", -ENOENT, NULL},
		{"/missing", -ENOENT, NULL},
		{"foo", -EINVAL, NULL},
		{"/~2", -EINVAL, NULL},
		{"/m~", -EINVAL, NULL},
	};
	json_t *doc =
		parse("{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"m~n\": 8, \" \": 7,"
		      " \"deep\": {\"x\": [null]}}");

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		json_t *got = NULL;
		int r = sf_json_pointer_get(doc, cases[i].ptr, &got);

		if (r != cases[i].r)
			fail_msg("'%s': got %d, expected %d", cases[i].ptr, r, cases[i].r);
		if (r == 0 && cases[i].expect) {
			json_t *want = parse(cases[i].expect);

			if (!json_equal(got, want))
				fail_msg("'%s': wrong value", cases[i].ptr);
			json_decref(want);
		} else if (r == 0) {
			assert_ptr_equal(got, doc);
		} else {
			assert_null(got);
		}
	}
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_buf),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_dumps),
		cmocka_unit_test(test_get_str_bool_object_array),
		cmocka_unit_test(test_get_int),
		cmocka_unit_test(test_is_integral),
		cmocka_unit_test(test_pointer_append),
		cmocka_unit_test(test_pointer_get),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
