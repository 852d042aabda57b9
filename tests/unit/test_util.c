// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the small helpers in shared/src/util.c. */
/* cmocka needs these first, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <limits.h>
#include <string.h>

#include "sf/util.h"

static void test_parse_long(void **state)
{
	static const struct {
		const char *s;
		long min, max;
		int r;
		long v;
	} cases[] = {
		{"42", 0, 100, 0, 42},
		{"1", 1, 65535, 0, 1}, /* bounds are inclusive */
		{"65535", 1, 65535, 0, 65535},
		{"-7", -10, 10, 0, -7},
		{"+7", -10, 10, 0, 7},
		{"0", 1, 65535, -ERANGE, 0},
		{"65536", 1, 65535, -ERANGE, 0},
		{"-11", -10, 10, -ERANGE, 0},
		{"99999999999999999999", LONG_MIN, LONG_MAX, -ERANGE, 0}, /* overflows long */
		{"9223372036854775807", LONG_MIN, LONG_MAX, 0, LONG_MAX},
		{"", 0, 100, -EINVAL, 0},
		{"abc", 0, 100, -EINVAL, 0},
		{"12x", 0, 100, -EINVAL, 0},
		{"12 ", 0, 100, -EINVAL, 0},
		{" 12", 0, 100, -EINVAL, 0},
		{"1.5", 0, 100, -EINVAL, 0},
		{"0x10", 0, 100, -EINVAL, 0}, /* base 10 only */
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		long v = -12345;
		int r = sf_parse_long(cases[i].s, cases[i].min, cases[i].max, &v);

		if (r != cases[i].r)
			fail_msg("sf_parse_long(\"%s\") = %d, expected %d", cases[i].s, r,
				 cases[i].r);
		assert_int_equal(v, cases[i].r == 0 ? cases[i].v : -12345); /* untouched on error */
	}
	assert_int_equal(sf_parse_long(NULL, 0, 1, &(long){0}), -EINVAL);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = {"1", "true", "yes", "on", "TRUE", "Yes", "ON"};
	static const char *const no[] = {"0", "false", "no", "off", "False", "NO"};
	static const char *const bad[] = {"", "maybe", "2", "y", "truex", " true"};
	bool b;

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(yes); i++) {
		b = false;
		assert_int_equal(sf_parse_bool(yes[i], &b), 0);
		assert_true(b);
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(no); i++) {
		b = true;
		assert_int_equal(sf_parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		b = true;
		assert_int_equal(sf_parse_bool(bad[i], &b), -EINVAL);
		assert_true(b);
	}
	assert_int_equal(sf_parse_bool(NULL, &b), -EINVAL);
}

static void test_bprintf(void **state)
{
	char buf[8];

	(void)state;
	assert_int_equal(sf_bprintf(buf, sizeof(buf), "%s-%d", "ab", 12), 0);
	assert_string_equal(buf, "ab-12");
	assert_int_equal(sf_bprintf(buf, sizeof(buf), "%s", "1234567"), 0); /* exactly fits */
	assert_string_equal(buf, "1234567");
	assert_int_equal(sf_bprintf(buf, sizeof(buf), "%s", "12345678"), -ENAMETOOLONG);
	assert_string_equal(buf, "1234567"); /* truncated, still terminated */
	assert_int_equal(sf_bprintf(buf, sizeof(buf), "vxlan-%06x", 0x123456), -ENAMETOOLONG);
}

static void test_hexval(void **state)
{
	const char *digits = "0123456789abcdef", *upper = "ABCDEF";

	(void)state;
	for (int i = 0; i < 16; i++)
		assert_int_equal(sf_hexval(digits[i]), i);
	for (int i = 0; i < 6; i++)
		assert_int_equal(sf_hexval(upper[i]), 10 + i);
	for (const char *p = "gG/:@`-x "; *p; p++)
		assert_int_equal(sf_hexval(*p), -1);
	assert_int_equal(sf_hexval('\0'), -1);
}

static void test_uuid(void **state)
{
	char u[SF_UUID_STRLEN], v[SF_UUID_STRLEN];

	(void)state;
	sf_uuid_generate(u);
	sf_uuid_generate(v);
	assert_true(sf_uuid_is_valid(u));
	assert_string_not_equal(u, v);
	assert_true(sf_uuid_is_valid("0f5e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"));
	assert_true(sf_uuid_is_valid("0F5E2C1A-3B4D-4E6F-8A9B-0C1D2E3F4A5B"));
	assert_false(sf_uuid_is_valid(NULL));
	assert_false(sf_uuid_is_valid(""));
	assert_false(sf_uuid_is_valid("0f5e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5"));	 /* short */
	assert_false(sf_uuid_is_valid("0f5e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b0")); /* long */
	assert_false(sf_uuid_is_valid("0f5e2c1a3b4d-4e6f-8a9b-0c1d2e3f4a5b0"));	 /* dash moved */
	assert_false(sf_uuid_is_valid("0f5e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5g"));	 /* not hex */
	assert_false(sf_uuid_is_valid("{f5e2c1a-3b4d-4e6f-8a9b-0c1d2e3f4a5b"));
}

static void test_backoff(void **state)
{
	const uint64_t base = 100, cap = 30000;

	(void)state;
	for (unsigned attempt = 0; attempt < 40; attempt++) {
		uint64_t d = attempt < 20 ? base << attempt : cap;
		uint64_t lo = UINT64_MAX, hi = 0;

		if (d > cap)
			d = cap;
		for (int i = 0; i < 500; i++) {
			uint64_t v = sf_backoff_ms(attempt, base, cap);

			if (4 * v < 3 * d || 4 * v > 5 * d)
				fail_msg("attempt %u: %lu outside [0.75, 1.25] * %lu", attempt,
					 (unsigned long)v, (unsigned long)d);
			lo = v < lo ? v : lo;
			hi = v > hi ? v : hi;
		}
		assert_true(lo < hi); /* jittered, not constant */
	}
	assert_int_equal(sf_backoff_ms(5, 0, 1000), 0);
	assert_int_equal(sf_backoff_ms(UINT_MAX, 1, 1), 1);
	/* No cap: saturates instead of wrapping around to tiny delays. */
	assert_true(sf_backoff_ms(200, 1000, UINT64_MAX) >= UINT64_MAX / 4 * 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long), cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_bprintf),	   cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_backoff),	   cmocka_unit_test(test_hexval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
