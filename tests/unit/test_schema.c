// SPDX-License-Identifier: Apache-2.0
/* Table tests of each keyword and format of the validator, its diagnoses and its limits. The
 * official suite runs in test_schema_suite.c. */
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
#include "sf/schema.h"

struct vcase {
	const char *schema;
	const char *instance;
	bool valid;
};

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	if (!v)
		fail_msg("bad test JSON '%s': %s", text, err.text);
	return v;
}

static struct sf_schema *compile(const char *text)
{
	struct sf_diag diag = {0};
	struct sf_schema *s = NULL;
	json_t *doc = parse(text);
	int r;

	r = sf_schema_new(doc, &s, &diag);
	json_decref(doc); /* the schema holds its own reference */
	if (r < 0)
		fail_msg("schema %s: %d %s", text, r, diag.message);
	return s;
}

static int validate(const char *schema, const char *instance, struct sf_diag *diag)
{
	struct sf_schema *s = compile(schema);
	json_t *inst = parse(instance);
	int r;

	r = sf_schema_validate(s, inst, diag);
	json_decref(inst);
	sf_schema_free(s);
	return r;
}

static void run_cases(const struct vcase *cases, size_t n)
{
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++) {
		struct sf_diag diag = {0};
		int r = validate(cases[i].schema, cases[i].instance, &diag);

		if (r == (cases[i].valid ? 0 : -EINVAL) && (r == 0 || diag.status == 400))
			continue;
		print_error("schema %s, instance %s: expected %s, got %d (%s)\n", cases[i].schema,
			    cases[i].instance, cases[i].valid ? "valid" : "invalid", r,
			    diag.message);
		bad++;
	}
	assert_int_equal(bad, 0);
}

#define RUN(cases) run_cases(cases, SF_ARRAY_SIZE(cases))

static void test_type(void **state)
{
	static const struct vcase cases[] = {
		{"{\"type\": \"integer\"}", "1", true},
		{"{\"type\": \"integer\"}", "1.0", true}, /* draft 7: no fractional part */
		{"{\"type\": \"integer\"}", "-2e2", true},
		{"{\"type\": \"integer\"}", "1.5", false},
		{"{\"type\": \"integer\"}", "\"1\"", false},
		{"{\"type\": \"number\"}", "1", true},
		{"{\"type\": \"number\"}", "0.5", true},
		{"{\"type\": \"number\"}", "true", false},
		{"{\"type\": \"string\"}", "\"\"", true},
		{"{\"type\": \"string\"}", "null", false},
		{"{\"type\": \"boolean\"}", "false", true},
		{"{\"type\": \"boolean\"}", "0", false},
		{"{\"type\": \"null\"}", "null", true},
		{"{\"type\": \"null\"}", "false", false},
		{"{\"type\": \"object\"}", "{}", true},
		{"{\"type\": \"object\"}", "[]", false},
		{"{\"type\": \"array\"}", "[]", true},
		{"{\"type\": \"array\"}", "{}", false},
		{"{\"type\": [\"string\", \"null\"]}", "null", true},
		{"{\"type\": [\"string\", \"null\"]}", "\"x\"", true},
		{"{\"type\": [\"string\", \"null\"]}", "1", false},
	};

	(void)state;
	RUN(cases);
}

static void test_enum_const(void **state)
{
	static const struct vcase cases[] = {
		{"{\"enum\": [\"a\", 2, null]}", "\"a\"", true},
		{"{\"enum\": [\"a\", 2, null]}", "2.0", true}, /* numbers compare by value */
		{"{\"enum\": [\"a\", 2, null]}", "null", true},
		{"{\"enum\": [\"a\", 2, null]}", "\"b\"", false},
		{"{\"enum\": [\"a\", 2, null]}", "false", false},
		{"{\"enum\": [{\"a\": [1]}]}", "{\"a\": [1.0]}", true},
		{"{\"enum\": [{\"a\": [1]}]}", "{\"a\": [1], \"b\": 1}", false},
		{"{\"const\": 1}", "1.0", true},
		{"{\"const\": 1}", "true", false},
		{"{\"const\": false}", "0", false},
		{"{\"const\": [0]}", "[false]", false},
		{"{\"const\": {\"x\": \"y\"}}", "{\"x\": \"y\"}", true},
	};

	(void)state;
	RUN(cases);
}

static void test_numbers(void **state)
{
	static const struct vcase cases[] = {
		{"{\"minimum\": 5}", "5", true},
		{"{\"minimum\": 5}", "4.99", false},
		{"{\"minimum\": 5}", "\"1\"", true}, /* ignores non-numbers */
		{"{\"maximum\": 5.5}", "5.5", true},
		{"{\"maximum\": 5.5}", "6", false},
		{"{\"exclusiveMinimum\": 0}", "0", false},
		{"{\"exclusiveMinimum\": 0}", "0.001", true},
		{"{\"exclusiveMaximum\": 4096}", "4095", true},
		{"{\"exclusiveMaximum\": 4096}", "4096", false},
		/* integers beyond 2^53 still compare exactly */
		{"{\"maximum\": 9007199254740992}", "9007199254740993", false},
		{"{\"minimum\": 9007199254740993}", "9007199254740992", false},
		{"{\"multipleOf\": 3}", "-9", true},
		{"{\"multipleOf\": 3}", "10", false},
		{"{\"multipleOf\": 0.01}", "19.99", true},
		{"{\"multipleOf\": 0.01}", "19.995", false},
		{"{\"multipleOf\": 2}", "4.0", true},
		{"{\"multipleOf\": 0.5}", "1e20", true}, /* beyond 2^53 every double is whole */
		{"{\"multipleOf\": 1e-300}", "1e300", false}, /* quotient overflows */
	};

	(void)state;
	RUN(cases);
}

static void test_strings(void **state)
{
	static const struct vcase cases[] = {
		{"{\"minLength\": 2}", "\"ab\"", true},
		{"{\"minLength\": 2}", "\"a\"", false},
		{"{\"minLength\": 2}", "\"\xc3\xa9\"", false},	    /* one code point, two bytes */
		{"{\"maxLength\": 1}", "\"\xc3\xa9\"", true},	    /* é */
		{"{\"maxLength\": 1}", "\"\\ud83d\\udca9\"", true}, /* U+1F4A9, four bytes */
		{"{\"maxLength\": 2}", "\"abc\"", false},
		{"{\"maxLength\": 2.0}", "\"ab\"", true},
		{"{\"minLength\": 1}", "[]", true},
		{"{\"pattern\": \"^[a-z][a-z0-9-]*$\"}", "\"net-1\"", true},
		{"{\"pattern\": \"^[a-z][a-z0-9-]*$\"}", "\"Net-1\"", false},
		{"{\"pattern\": \"b+\"}", "\"abba\"", true}, /* not anchored */
		{"{\"pattern\": \"b+\"}", "\"aca\"", false},
		{"{\"pattern\": \"^(ab|cd){2}$\"}", "\"abcd\"", true},
		{"{\"pattern\": \"^(ab|cd){2}$\"}", "\"abc\"", false},
		{"{\"pattern\": \"x\"}", "3", true},
	};

	(void)state;
	RUN(cases);
}

static void test_formats(void **state)
{
	static const struct vcase cases[] = {
		{"{\"format\": \"uuid\"}", "\"123e4567-e89b-12d3-a456-426614174000\"", true},
		{"{\"format\": \"uuid\"}", "\"123E4567-E89B-12D3-A456-426614174000\"", true},
		{"{\"format\": \"uuid\"}", "\"123e4567e89b-12d3-a456-426614174000\"", false},
		{"{\"format\": \"uuid\"}", "\"123e4567-e89b-12d3-a456-42661417400\"", false},
		{"{\"format\": \"uuid\"}", "\"123e4567-e89b-12d3-a456-4266141740000\"", false},
		{"{\"format\": \"uuid\"}", "\"123e4567-e89b-12d3-a456-42661417400g\"", false},
		{"{\"format\": \"uuid\"}", "\"\"", false},
		{"{\"format\": \"ipv4\"}", "\"0.0.0.0\"", true},
		{"{\"format\": \"ipv4\"}", "\"255.255.255.255\"", true},
		{"{\"format\": \"ipv4\"}", "\"10.0.120.7\"", true},
		{"{\"format\": \"ipv4\"}", "\"256.1.1.1\"", false},
		{"{\"format\": \"ipv4\"}", "\"01.2.3.4\"", false}, /* leading zero */
		{"{\"format\": \"ipv4\"}", "\"1.2.3.00\"", false},
		{"{\"format\": \"ipv4\"}", "\"1.2.3\"", false},
		{"{\"format\": \"ipv4\"}", "\"1.2.3.4.5\"", false},
		{"{\"format\": \"ipv4\"}", "\"1..3.4\"", false},
		{"{\"format\": \"ipv4\"}", "\"1.2.3.4 \"", false},
		{"{\"format\": \"ipv4\"}", "\"+1.2.3.4\"", false},
		{"{\"format\": \"ipv4\"}", "\"1.2.3.1000\"", false},
		{"{\"format\": \"ipv4\"}", "\"0x7f000001\"", false},
		{"{\"format\": \"ipv4\"}", "\"1.2.3.4/24\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/8\"", true},
		{"{\"format\": \"ipv4-cidr\"}", "\"0.0.0.0/0\"", true},
		{"{\"format\": \"ipv4-cidr\"}", "\"192.168.1.7/32\"", true},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/33\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/08\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/-1\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.0/24/1\"", false},
		{"{\"format\": \"ipv4-cidr\"}", "\"10.0.0.256/24\"", false},
		{"{\"format\": \"mac\"}", "\"02:00:5e:AB:cd:0f\"", true},
		{"{\"format\": \"mac\"}", "\"02:00:5e:ab:cd\"", false},
		{"{\"format\": \"mac\"}", "\"02:00:5e:ab:cd:0f:11\"", false},
		{"{\"format\": \"mac\"}", "\"02-00-5e-ab-cd-0f\"", false},
		{"{\"format\": \"mac\"}", "\"02:00:5e:ab:cd:0g\"", false},
		{"{\"format\": \"mac\"}", "\"2:00:5e:ab:cd:0f\"", false},
		{"{\"format\": \"mac\"}", "\"\"", false},
		/* formats only constrain strings; unknown formats are annotations */
		{"{\"format\": \"ipv4\"}", "17", true},
		{"{\"format\": \"email\"}", "\"not an email\"", true},
	};

	(void)state;
	RUN(cases);
}

static void test_arrays(void **state)
{
	static const struct vcase cases[] = {
		{"{\"minItems\": 1}", "[]", false},
		{"{\"minItems\": 1}", "[0]", true},
		{"{\"maxItems\": 1}", "[0, 1]", false},
		{"{\"maxItems\": 1}", "{}", true},
		{"{\"uniqueItems\": true}", "[1, \"1\", [1], {\"a\": 1}]", true},
		{"{\"uniqueItems\": true}", "[1, 2, 1.0]", false},
		{"{\"uniqueItems\": true}", "[{\"a\": [1]}, {\"a\": [1]}]", false},
		{"{\"uniqueItems\": false}", "[1, 1]", true},
		{"{\"items\": {\"type\": \"integer\"}}", "[1, 2, 3]", true},
		{"{\"items\": {\"type\": \"integer\"}}", "[1, \"2\"]", false},
		{"{\"items\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}", "[\"a\", 1, {}]",
		 true},
		{"{\"items\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}", "[1]", false},
		{"{\"items\": [{}], \"additionalItems\": false}", "[1]", true},
		{"{\"items\": [{}], \"additionalItems\": false}", "[1, 2]", false},
		{"{\"items\": [{}], \"additionalItems\": {\"type\": \"null\"}}", "[1, null]", true},
		{"{\"items\": [{}], \"additionalItems\": {\"type\": \"null\"}}", "[1, 2]", false},
		/* additionalItems only applies after a tuple */
		{"{\"items\": {}, \"additionalItems\": false}", "[1, 2]", true},
		{"{\"items\": false}", "[]", true},
		{"{\"items\": false}", "[1]", false},
	};

	(void)state;
	RUN(cases);
}

static void test_objects(void **state)
{
	static const struct vcase cases[] = {
		{"{\"required\": [\"a\", \"b\"]}", "{\"a\": 1, \"b\": null}", true},
		{"{\"required\": [\"a\", \"b\"]}", "{\"a\": 1}", false},
		{"{\"required\": [\"a\"]}", "[\"a\"]", true},
		{"{\"minProperties\": 1}", "{}", false},
		{"{\"maxProperties\": 1}", "{\"a\": 1, \"b\": 2}", false},
		{"{\"maxProperties\": 1}", "{\"a\": 1}", true},
		{"{\"properties\": {\"a\": {\"type\": \"string\"}}}", "{\"a\": \"x\", \"b\": 1}",
		 true},
		{"{\"properties\": {\"a\": {\"type\": \"string\"}}}", "{\"a\": 1}", false},
		{"{\"patternProperties\": {\"^x-\": {\"type\": \"integer\"}}}",
		 "{\"x-a\": 1, \"y\": \"s\"}", true},
		{"{\"patternProperties\": {\"^x-\": {\"type\": \"integer\"}}}", "{\"x-a\": \"s\"}",
		 false},
		{"{\"properties\": {\"a\": {}}, \"additionalProperties\": false}", "{\"a\": 1}",
		 true},
		{"{\"properties\": {\"a\": {}}, \"additionalProperties\": false}",
		 "{\"a\": 1, \"b\": 1}", false},
		{"{\"patternProperties\": {\"^x-\": {}}, \"additionalProperties\": false}",
		 "{\"x-1\": 1}", true},
		{"{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"boolean\"}}",
		 "{\"a\": 1, \"b\": true}", true},
		{"{\"properties\": {\"a\": {}}, \"additionalProperties\": {\"type\": \"boolean\"}}",
		 "{\"a\": 1, \"b\": 1}", false},
		/* a member matching both properties and patternProperties must satisfy both */
		{"{\"properties\": {\"xa\": {\"minimum\": 1}}, \"patternProperties\": {\"^x\": "
		 "{\"maximum\": 2}}}",
		 "{\"xa\": 3}", false},
		{"{\"properties\": {\"a\": false}}", "{}", true},
		{"{\"properties\": {\"a\": false}}", "{\"a\": null}", false},
	};

	(void)state;
	RUN(cases);
}

static void test_combinators_and_booleans(void **state)
{
	static const struct vcase cases[] = {
		{"true", "{\"anything\": [1]}", true},
		{"false", "null", false},
		{"{}", "42", true},
		{"{\"allOf\": [{\"minimum\": 1}, {\"maximum\": 3}]}", "2", true},
		{"{\"allOf\": [{\"minimum\": 1}, {\"maximum\": 3}]}", "4", false},
		{"{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 10}]}", "\"x\"", true},
		{"{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 10}]}", "11", true},
		{"{\"anyOf\": [{\"type\": \"string\"}, {\"minimum\": 10}]}", "9", false},
		{"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "1", true},
		{"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "2.5", true},
		{"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "3", false},
		{"{\"oneOf\": [{\"type\": \"integer\"}, {\"minimum\": 2}]}", "1.5", false},
		{"{\"not\": {\"type\": \"null\"}}", "0", true},
		{"{\"not\": {\"type\": \"null\"}}", "null", false},
		{"{\"not\": true}", "0", false},
		{"{\"allOf\": [true, {\"not\": false}]}", "0", true},
	};

	(void)state;
	RUN(cases);
}

static void test_refs(void **state)
{
	static const struct vcase cases[] = {
		{"{\"definitions\": {\"n\": {\"type\": \"integer\"}}, \"$ref\": "
		 "\"#/definitions/n\"}",
		 "3", true},
		{"{\"definitions\": {\"n\": {\"type\": \"integer\"}}, \"$ref\": "
		 "\"#/definitions/n\"}",
		 "\"3\"", false},
		/* siblings of $ref are ignored in draft 7 */
		{"{\"definitions\": {\"n\": {}}, \"properties\": {\"a\": {\"$ref\": "
		 "\"#/definitions/n\", \"type\": \"string\"}}}",
		 "{\"a\": 1}", true},
		/* ~0, ~1 and %-escapes in the fragment */
		{"{\"d\": {\"a/b\": {\"type\": \"null\"}, \"c~d\": {\"type\": \"null\"}, \"e f\": "
		 "{\"type\": \"null\"}}, \"items\": [{\"$ref\": \"#/d/a~1b\"}, {\"$ref\": "
		 "\"#/d/c~0d\"}, {\"$ref\": \"#/d/e%20f\"}]}",
		 "[null, null, null]", true},
		{"{\"d\": {\"a/b\": {\"type\": \"null\"}, \"c~d\": {\"type\": \"null\"}, \"e f\": "
		 "{\"type\": \"null\"}}, \"items\": [{\"$ref\": \"#/d/a~1b\"}, {\"$ref\": "
		 "\"#/d/c~0d\"}, {\"$ref\": \"#/d/e%20f\"}]}",
		 "[null, null, 0]", false},
		/* a recursive schema: a tree of nodes */
		{"{\"type\": \"object\", \"properties\": {\"kids\": {\"type\": \"array\", "
		 "\"items\": "
		 "{\"$ref\": \"#\"}}}, \"additionalProperties\": false}",
		 "{\"kids\": [{\"kids\": []}, {\"kids\": [{}]}]}", true},
		{"{\"type\": \"object\", \"properties\": {\"kids\": {\"type\": \"array\", "
		 "\"items\": "
		 "{\"$ref\": \"#\"}}}, \"additionalProperties\": false}",
		 "{\"kids\": [{\"kids\": [{\"x\": 1}]}]}", false},
		/* a pattern compiled once, reached both in place and through $ref */
		{"{\"properties\": {\"a\": {\"pattern\": \"^a\"}, \"b\": {\"$ref\": "
		 "\"#/properties/a\"}}}",
		 "{\"a\": \"ab\", \"b\": \"ac\"}", true},
		{"{\"properties\": {\"a\": {\"pattern\": \"^a\"}, \"b\": {\"$ref\": "
		 "\"#/properties/a\"}}}",
		 "{\"a\": \"ab\", \"b\": \"ca\"}", false},
		{"{\"$id\": \"https://sf-net.example/x.json\", \"$ref\": \"#/definitions/t\", "
		 "\"definitions\": {\"t\": {\"$id\": \"#t\", \"const\": 1}}}",
		 "1", true},
	};

	(void)state;
	RUN(cases);
}

static void test_diagnosis(void **state)
{
	static const struct {
		const char *schema, *instance, *pointer, *rule, *message;
	} cases[] = {
		{"{\"type\": \"object\", \"properties\": {\"netblock\": {\"type\": \"string\", "
		 "\"format\": \"ipv4-cidr\"}}}",
		 "{\"netblock\": \"10.0.0.0/33\"}", "/netblock", "format",
		 "/netblock: does not match format ipv4-cidr"},
		{"{\"required\": [\"name\"]}", "{}", "", "required",
		 "/: missing required property 'name'"},
		{"{\"properties\": {\"a\": {}}, \"additionalProperties\": false}",
		 "{\"a\": 1, \"foo\": 2}", "/foo", "additionalProperties",
		 "/foo: additional property not allowed"},
		{"{\"properties\": {\"list\": {\"items\": {\"type\": \"integer\"}}}}",
		 "{\"list\": [1, \"x\"]}", "/list/1", "type",
		 "/list/1: expected integer, got string"},
		{"{\"properties\": {\"a/b~\": {\"type\": [\"string\", \"null\"]}}}",
		 "{\"a/b~\": 1.5}", "/a~1b~0", "type",
		 "/a~1b~0: expected string or null, got number"},
		{"{\"minimum\": 0.1}", "0.05", "", "minimum", "/: must be >= 0.1"},
		{"{\"exclusiveMaximum\": 10}", "10", "", "exclusiveMaximum", "/: must be < 10"},
		{"{\"multipleOf\": 0.25}", "0.3", "", "multipleOf",
		 "/: must be a multiple of 0.25"},
		{"{\"maxLength\": 3}", "\"abcd\"", "", "maxLength",
		 "/: must be at most 3 characters long"},
		{"{\"pattern\": \"^[a-z]+$\"}", "\"A\"", "", "pattern",
		 "/: does not match pattern '^[a-z]+$'"},
		{"{\"enum\": [1]}", "2", "", "enum", "/: is not one of the allowed values"},
		{"{\"const\": 1}", "2", "", "const", "/: does not equal the constant value"},
		{"{\"minItems\": 2}", "[1]", "", "minItems", "/: must have at least 2 items"},
		{"{\"uniqueItems\": true}", "[1, 2, 1]", "", "uniqueItems",
		 "/: items 0 and 2 are equal"},
		{"{\"items\": [{}], \"additionalItems\": false}", "[1, 2]", "/1", "additionalItems",
		 "/1: additional item not allowed"},
		{"{\"maxProperties\": 0}", "{\"a\": 1}", "", "maxProperties",
		 "/: must have at most 0 properties"},
		{"{\"properties\": {\"x\": false}}", "{\"x\": 1}", "/x", "false",
		 "/x: no value is allowed here"},
		{"{\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"null\"}]}", "1", "", "anyOf",
		 "/: does not match any schema in anyOf"},
		{"{\"oneOf\": [{\"minimum\": 1}, {\"maximum\": 5}]}", "3", "", "oneOf",
		 "/: matches 2 schemas in oneOf, expected exactly one"},
		{"{\"oneOf\": [{\"minimum\": 10}, {\"maximum\": 0}]}", "3", "", "oneOf",
		 "/: does not match any schema in oneOf"},
		{"{\"not\": {\"type\": \"integer\"}}", "3", "", "not",
		 "/: must not match the schema in not"},
		/* allOf and $ref pass the inner diagnosis through */
		{"{\"allOf\": [{\"properties\": {\"a\": {\"minLength\": 2}}}]}", "{\"a\": \"x\"}",
		 "/a", "minLength", "/a: must be at least 2 characters long"},
		{"{\"definitions\": {\"n\": {\"type\": \"integer\"}}, \"properties\": {\"a\": "
		 "{\"$ref\": \"#/definitions/n\"}}}",
		 "{\"a\": \"x\"}", "/a", "type", "/a: expected integer, got string"},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_diag diag = {0};

		assert_int_equal(validate(cases[i].schema, cases[i].instance, &diag), -EINVAL);
		assert_int_equal(diag.status, 400);
		assert_string_equal(diag.pointer, cases[i].pointer);
		assert_string_equal(diag.rule, cases[i].rule);
		assert_string_equal(diag.message, cases[i].message);
	}
}

/* Valid instances leave the diagnosis alone, even after probing failed anyOf branches. */
static void test_valid_leaves_diag_empty(void **state)
{
	struct sf_diag diag = {0};

	(void)state;
	assert_int_equal(validate("{\"anyOf\": [{\"type\": \"null\"}, {\"type\": \"integer\"}], "
				  "\"not\": {\"const\": 2}}",
				  "1", &diag),
			 0);
	assert_int_equal(diag.status, 0);
	assert_string_equal(diag.message, "");
	assert_int_equal(validate("{\"type\": \"integer\"}", "1.5", NULL), -EINVAL);
}

static void test_bad_schemas(void **state)
{
	static const struct {
		const char *schema;
		int r;
		const char *pointer, *rule;
	} cases[] = {
		{"42", -EINVAL, "", ""},
		{"{\"type\": \"strng\"}", -EINVAL, "/type", "type"},
		{"{\"type\": [\"string\", 1]}", -EINVAL, "/type", "type"},
		{"{\"minLength\": -1}", -EINVAL, "/minLength", "minLength"},
		{"{\"maxItems\": 1.5}", -EINVAL, "/maxItems", "maxItems"},
		{"{\"minimum\": \"1\"}", -EINVAL, "/minimum", "minimum"},
		{"{\"multipleOf\": 0}", -EINVAL, "/multipleOf", "multipleOf"},
		{"{\"required\": [\"a\", 1]}", -EINVAL, "/required", "required"},
		{"{\"enum\": 1}", -EINVAL, "/enum", "enum"},
		{"{\"uniqueItems\": 1}", -EINVAL, "/uniqueItems", "uniqueItems"},
		{"{\"format\": 4}", -EINVAL, "/format", "format"},
		{"{\"pattern\": \"(\"}", -EINVAL, "/pattern", "pattern"},
		{"{\"patternProperties\": {\"[\": {}}}", -EINVAL, "/patternProperties/[",
		 "pattern"},
		{"{\"allOf\": []}", -EINVAL, "/allOf", "allOf"},
		{"{\"anyOf\": {}}", -EINVAL, "/anyOf", "anyOf"},
		{"{\"items\": [{}, 1]}", -EINVAL, "/items/1", ""},
		{"{\"properties\": {\"a\": {\"not\": []}}}", -EINVAL, "/properties/a/not", ""},
		{"{\"properties\": {\"a\": {\"$ref\": \"#/definitions/none\"}}}", -EINVAL,
		 "/properties/a/$ref", "$ref"},
		{"{\"$ref\": 1}", -EINVAL, "/$ref", "$ref"},
		{"{\"$ref\": \"#/a%2\"}", -EINVAL, "/$ref", "$ref"},
		/* a bad schema reached only through $ref is diagnosed where it is */
		{"{\"x\": {\"maxLength\": \"3\"}, \"$ref\": \"#/x\"}", -EINVAL, "/x/maxLength",
		 "maxLength"},
		/* what we do not implement is refused, not silently ignored */
		{"{\"$ref\": \"https://example.com/schema.json\"}", -EOPNOTSUPP, "/$ref", "$ref"},
		{"{\"$ref\": \"other.json#/definitions/a\"}", -EOPNOTSUPP, "/$ref", "$ref"},
		{"{\"$ref\": \"#anchor\"}", -EOPNOTSUPP, "/$ref", "$ref"},
		{"{\"definitions\": {\"a\": {\"$id\": \"http://x/a\"}}}", -EOPNOTSUPP,
		 "/definitions/a", "$id"},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		struct sf_schema *s = NULL;
		struct sf_diag diag = {0};
		json_t *doc = parse(cases[i].schema);
		int r = sf_schema_new(doc, &s, &diag);

		json_decref(doc);
		if (r != cases[i].r)
			fail_msg("%s: got %d, expected %d", cases[i].schema, r, cases[i].r);
		assert_null(s);
		assert_string_equal(diag.pointer, cases[i].pointer);
		assert_string_equal(diag.rule, cases[i].rule);
		assert_non_null(strstr(diag.message, "schema "));
	}
}

/* {"c":{"c":...{}...}} with levels members */
static void nest(char *buf, size_t size, int levels)
{
	size_t n = 0;

	for (int i = 0; i < levels; i++)
		n += (size_t)snprintf(buf + n, size - n, "{\"c\":");
	n += (size_t)snprintf(buf + n, size - n, "{}");
	for (int i = 0; i < levels; i++)
		n += (size_t)snprintf(buf + n, size - n, "}");
	assert_true(n < size);
}

static void test_recursion_bounded(void **state)
{
	static const char *const loops[] = {
		"{\"$ref\": \"#\"}",
		"{\"definitions\": {\"a\": {\"$ref\": \"#/definitions/b\"}, \"b\": {\"$ref\": "
		"\"#/definitions/a\"}}, \"$ref\": \"#/definitions/a\"}",
		/* the loop must not be mistaken for "invalid" inside anyOf or not */
		"{\"anyOf\": [{\"$ref\": \"#\"}, true]}",
		"{\"not\": {\"$ref\": \"#\"}}",
		"{\"oneOf\": [{\"allOf\": [{\"$ref\": \"#\"}]}]}",
	};
	static const char tree[] = "{\"properties\": {\"c\": {\"$ref\": \"#\"}}}";
	char deep[1024], shallow[1024];

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(loops); i++) {
		struct sf_diag diag = {0};

		assert_int_equal(validate(loops[i], "{}", &diag), -ELOOP);
		assert_string_equal(diag.rule, "depth");
		assert_int_equal(diag.status, 400);
	}
	/* a recursive schema over deep data: 100 levels exceed the bound, 20 do not */
	nest(deep, sizeof(deep), 100);
	nest(shallow, sizeof(shallow), 20);
	assert_int_equal(validate(tree, shallow, NULL), 0);
	assert_int_equal(validate(tree, deep, NULL), -ELOOP);
}

static void test_load_file_document_dir(void **state)
{
	static const char text[] = "{\"type\": \"object\", \"required\": [\"name\"]}";
	char path[] = "/tmp/sf-test-schema-XXXXXX";
	struct sf_schema *s = NULL;
	struct sf_diag diag = {0};
	json_t *good = parse("{\"name\": \"n\"}"), *expect = parse(text);

	(void)state;
	assert_int_equal(sf_test_write_temp(path, text), 0);
	assert_int_equal(sf_schema_load_file(path, &s, &diag), 0);
	assert_true(json_equal(sf_schema_document(s), expect));
	assert_int_equal(sf_schema_validate(s, good, &diag), 0);
	sf_schema_free(s);

	assert_int_equal(sf_test_write_file(path, "{\"type\": "), 0);
	s = NULL;
	assert_int_equal(sf_schema_load_file(path, &s, &diag), -EINVAL);
	assert_null(s);
	assert_non_null(strstr(diag.message, path));
	unlink(path);
	assert_int_equal(sf_schema_load_file(path, &s, &diag), -ENOENT);
	sf_schema_free(NULL);

	assert_int_equal(setenv("SF_SCHEMA_DIR", "/etc/sf/schemas", 1), 0);
	assert_string_equal(sf_schema_dir(), "/etc/sf/schemas");
	assert_int_equal(unsetenv("SF_SCHEMA_DIR"), 0);
	assert_string_equal(sf_schema_dir(), SF_BUILD_SCHEMA_DIR);
	json_decref(good);
	json_decref(expect);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type),
		cmocka_unit_test(test_enum_const),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_combinators_and_booleans),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_diagnosis),
		cmocka_unit_test(test_valid_leaves_diag_empty),
		cmocka_unit_test(test_bad_schemas),
		cmocka_unit_test(test_recursion_bounded),
		cmocka_unit_test(test_load_file_document_dir),
	};

	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
