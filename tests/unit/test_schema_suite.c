// SPDX-License-Identifier: Apache-2.0
/*
 * The official JSON-Schema-Test-Suite (Debian package json-schema-test-suite), draft 7, for
 * every keyword file we implement: one cmocka test per file, which fails on any case that does
 * not give the expected verdict unless the case is listed in known[] below.
 *
 * Files we do not load, because we do not implement their keywords (their cases are counted
 * nowhere): contains, propertyNames, dependencies, if-then-else, refRemote (other documents),
 * and of optional/ everything but format/ipv4.json (bignum, content, ecmascript-regex,
 * zeroTerminatedFloats and the other formats).
 *
 * A group whose schema sf_schema_new() refuses with -EOPNOTSUPP (a remote $ref, a nested $id)
 * counts its cases as "not implemented"; such a group must be listed in known[] as UNSUPPORTED,
 * so nothing drops out of the figures unnoticed.
 *
 * Ends with: schema-suite: N passed, N failed, N not implemented (draft7, M files)
 * Set SF_SCHEMA_SUITE_DIR to use another copy of tests/draft7. Exits 77 when it is missing.
 */
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

#include "sf/schema.h"
#include "sf/util.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"

static const char *const suite_files[] = {
	"type.json",
	"properties.json",
	"required.json",
	"additionalProperties.json",
	"patternProperties.json",
	"enum.json",
	"const.json",
	"pattern.json",
	"minLength.json",
	"maxLength.json",
	"minimum.json",
	"maximum.json",
	"exclusiveMinimum.json",
	"exclusiveMaximum.json",
	"multipleOf.json",
	"items.json",
	"additionalItems.json",
	"minItems.json",
	"maxItems.json",
	"uniqueItems.json",
	"minProperties.json",
	"maxProperties.json",
	"oneOf.json",
	"anyOf.json",
	"allOf.json",
	"not.json",
	"ref.json",
	"definitions.json",
	"boolean_schema.json",
	"default.json",
	"optional/format/ipv4.json",
};

enum known_kind {
	UNSUPPORTED, /* the schema is refused with -EOPNOTSUPP: its cases are "not implemented" */
	KNOWN_FAIL,  /* the case gives the wrong verdict: counted as failed, not failing the test */
};

/* Every entry is checked: a group listed as UNSUPPORTED that compiles, or a KNOWN_FAIL case that
 * passes, fails the test so the table cannot go stale. No case is a known failure today. */
static const struct known {
	const char *file;
	const char *group; /* the group's description */
	const char *test;  /* the case's description; NULL for a whole group */
	enum known_kind kind;
	const char *reason;
} known[] = {
	{"ref.json", "remote ref, containing refs itself", NULL, UNSUPPORTED,
	 "$ref to the draft-07 meta-schema by URL: remote documents are not loaded"},
	{"ref.json", "Recursive references between schemas", NULL, UNSUPPORTED,
	 "relative $ref (\"node\", \"tree\") resolved against nested $id base URIs"},
	{"definitions.json", "valid definition", NULL, UNSUPPORTED,
	 "validates against the draft-07 meta-schema by URL: a remote $ref"},
	{"definitions.json", "invalid definition", NULL, UNSUPPORTED,
	 "validates against the draft-07 meta-schema by URL: a remote $ref"},
};

static unsigned n_passed, n_failed, n_unimplemented;

static const char *suite_dir(void)
{
	const char *dir = getenv("SF_SCHEMA_SUITE_DIR");

	return dir && *dir ? dir : SUITE_DIR;
}

static const struct known *find_known(const char *file, const char *group, const char *test)
{
	for (size_t i = 0; i < SF_ARRAY_SIZE(known); i++)
		if (sf_streq(known[i].file, file) && sf_streq(known[i].group, group) &&
		    sf_streq(known[i].test, test))
			return &known[i];
	return NULL;
}

/* Runs one group's cases against a compiled schema; returns how many went unexpectedly. */
static unsigned run_cases(const char *file, const char *group, const struct sf_schema *s,
			  const json_t *tests)
{
	unsigned unexpected = 0;
	json_t *t;
	size_t i;

	json_array_foreach(tests, i, t) {
		const char *desc = json_string_value(json_object_get(t, "description"));
		bool valid = json_is_true(json_object_get(t, "valid"));
		const struct known *k = find_known(file, group, desc);
		struct sf_diag diag = {0};
		bool ok;
		int r;

		r = s ? sf_schema_validate(s, json_object_get(t, "data"), &diag) : -EINVAL;
		ok = s && (valid ? r == 0 : r == -EINVAL);
		if (ok) {
			n_passed++;
			if (k) {
				print_message("%s: %s: %s: passes, remove it from known[]\n", file,
					      group, desc);
				unexpected++;
			}
			continue;
		}
		n_failed++;
		if (!k || k->kind != KNOWN_FAIL) {
			print_message("%s: %s: %s: expected %s, got %d (%s)\n", file, group, desc,
				      valid ? "valid" : "invalid", r, diag.message);
			unexpected++;
		}
	}
	return unexpected;
}

static void run_file(void **state)
{
	const char *file = *state;
	char *path = sf_xasprintf("%s/%s", suite_dir(), file);
	unsigned unexpected = 0;
	json_error_t err;
	json_t *root, *group;
	size_t i;

	root = json_load_file(path, 0, &err);
	if (!root)
		fail_msg("%s:%d: %s", path, err.line, err.text);
	json_array_foreach(root, i, group) {
		const char *desc = json_string_value(json_object_get(group, "description"));
		const json_t *tests = json_object_get(group, "tests");
		const struct known *k = find_known(file, desc, NULL);
		struct sf_schema *s = NULL;
		struct sf_diag diag = {0};
		int r;

		r = sf_schema_new(json_object_get(group, "schema"), &s, &diag);
		if (r == -EOPNOTSUPP) {
			n_unimplemented += json_array_size(tests);
			if (!k || k->kind != UNSUPPORTED) {
				print_message("%s: %s: unsupported (%s) but not in known[]\n", file,
					      desc, diag.message);
				unexpected++;
			}
			continue;
		}
		if (k && k->kind == UNSUPPORTED) {
			print_message("%s: %s: listed as unsupported but compiles (%d)\n", file,
				      desc, r);
			unexpected++;
		}
		if (r < 0)
			print_message("%s: %s: schema refused: %s\n", file, desc, diag.message);
		unexpected += run_cases(file, desc, r == 0 ? s : NULL, tests);
		sf_schema_free(s);
	}
	json_decref(root);
	free(path);
	assert_int_equal(unexpected, 0);
}

static int print_summary(void **state)
{
	(void)state;
	printf("schema-suite: %u passed, %u failed, %u not implemented (draft7, %zu files)\n",
	       n_passed, n_failed, n_unimplemented, SF_ARRAY_SIZE(suite_files));
	fflush(stdout);
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[SF_ARRAY_SIZE(suite_files)];

	if (access(suite_dir(), R_OK) != 0) {
		fprintf(stderr, "%s missing (apt-get install json-schema-test-suite): skipped\n",
			suite_dir());
		return 77;
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(suite_files); i++)
		tests[i] = (struct CMUnitTest){
			.name = suite_files[i],
			.test_func = run_file,
			.initial_state = (void *)suite_files[i],
		};
	return cmocka_run_group_tests_name("schema_suite", tests, NULL, print_summary);
}
