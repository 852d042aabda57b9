// SPDX-License-Identifier: Apache-2.0
/* Unit tests of logging (shared/src/log.c): filtering, logfmt shape, quoting, context, rate limit.
 */
/* cmocka needs these first, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("x");

static FILE *stream;
static char out[8192];

static int setup(void **state)
{
	(void)state;
	stream = tmpfile();
	assert_non_null(stream);
	sf_log_set_stream(stream);
	sf_log_set_level(SF_LOG_INFO);
	sf_log_set_request_id(NULL);
	sf_log_set_job_id(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sf_log_set_stream(NULL);
	fclose(stream);
	return 0;
}

/* Everything logged so far. */
static const char *output(void)
{
	size_t n;

	fflush(stream);
	rewind(stream);
	n = fread(out, 1, sizeof(out) - 1, stream);
	out[n] = '\0';
	return out;
}

static void reset_output(void)
{
	fflush(stream);
	assert_int_equal(ftruncate(fileno(stream), 0), 0);
	rewind(stream);
}

static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The one line logged ends with this text (after the ts= lvl= mod= prefix). */
static void assert_line_ends(const char *tail)
{
	const char *s = output();
	size_t ls = strlen(s), lt = strlen(tail);

	assert_int_equal(count_lines(s), 1);
	if (ls < lt || strcmp(s + ls - lt, tail) != 0)
		fail_msg("line \"%s\" does not end with \"%s\"", s, tail);
}

static int evaluations;

static int side_effect(void)
{
	return ++evaluations;
}

static void test_level_filtering(void **state)
{
	(void)state;
	evaluations = 0;
	sf_log_debug("not shown %d", side_effect());
	assert_int_equal(evaluations, 0); /* arguments not even evaluated */
	assert_string_equal(output(), "");

	sf_log_info("shown %d", side_effect());
	assert_int_equal(evaluations, 1);
	assert_line_ends(" lvl=info mod=x msg=\"shown 1\"\n");

	sf_log_set_level(SF_LOG_ERR);
	sf_log_warn("hidden %d", side_effect());
	sf_log_info("hidden %d", side_effect());
	assert_int_equal(evaluations, 1);
	sf_log_err("bad");
	assert_int_equal(count_lines(output()), 2);

	sf_log_set_level(SF_LOG_DEBUG);
	sf_log_debug("now %d", side_effect());
	assert_int_equal(evaluations, 2);
	assert_int_equal(count_lines(output()), 3);
	sf_log_set_level(_SF_LOG_LEVEL_MAX); /* ignored */
	assert_int_equal(sf_log_max_level, SF_LOG_DEBUG);
}

static void test_logfmt_shape(void **state)
{
	regex_t re;

	(void)state;
	sf_log_warn("hello");
	assert_int_equal(
		regcomp(&re,
			"^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"
			" lvl=warn mod=x msg=hello\n$",
			REG_EXTENDED | REG_NOSUB),
		0);
	if (regexec(&re, output(), 0, NULL, 0) != 0)
		fail_msg("not logfmt: \"%s\"", out);
	regfree(&re);
}

static void test_quoting(void **state)
{
	static const struct {
		const char *msg, *logged;
	} cases[] = {
		{"plain", " msg=plain\n"},
		{"two words", " msg=\"two words\"\n"},
		{"say \"hi\"", " msg=\"say \\\"hi\\\"\"\n"},
		{"back\\slash", " msg=\"back\\\\slash\"\n"},
		{"a=b", " msg=\"a=b\"\n"},
		{"line\nbreak", " msg=\"line\\nbreak\"\n"},
		{"tab\there", " msg=\"tab here\"\n"},
		{"", " msg=\"\"\n"},
		{"esc\x1b[2J", " msg=\"esc [2J\"\n"}, /* control characters never reach the log */
		{"cr\rlvl=err", " msg=\"cr lvl=err\"\n"},
	};

	(void)state;
	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		reset_output();
		sf_log_info("%s", cases[i].msg);
		assert_line_ends(cases[i].logged);
	}
}

static void test_long_message(void **state)
{
	char *big = sf_xmalloc(3000);
	const char *s;

	(void)state;
	memset(big, '"', 2999); /* each one doubles when escaped */
	big[2999] = '\0';
	sf_log_info("%s", big);
	s = output();
	assert_int_equal(count_lines(s), 1);
	assert_true(strlen(s) > 2048 && strlen(s) < 4096);
	assert_true(sf_str_startswith(strstr(s, " msg="), " msg=\"\\\"\\\""));
	free(big);
}

static void test_context(void **state)
{
	char long_id[100];

	(void)state;
	sf_log_set_request_id("r-1");
	sf_log_set_job_id("job 2");
	assert_string_equal(sf_log_request_id(), "r-1");
	sf_log_info("working");
	assert_line_ends(" mod=x req=r-1 job=\"job 2\" msg=working\n");

	sf_log_set_request_id(NULL);
	sf_log_set_job_id(NULL);
	assert_null(sf_log_request_id());
	assert_null(sf_log_job_id());
	reset_output();
	sf_log_info("idle");
	assert_line_ends(" lvl=info mod=x msg=idle\n");

	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	sf_log_set_job_id(long_id);
	assert_int_equal(strlen(sf_log_job_id()), 64); /* truncated copy */
	sf_log_set_job_id(NULL);
}

static void test_err_errno(void **state)
{
	int r;

	(void)state;
	r = sf_log_err_errno(-ENOENT, "open %s failed", "/x");
	assert_int_equal(r, -ENOENT);
	assert_line_ends(
		" lvl=err mod=x msg=\"open /x failed: No such file or directory\" errno=2\n");

	/* Filtered out: still evaluates to r, prints nothing. */
	reset_output();
	assert_int_equal(sf_log_debug_errno(-EIO, "quiet"), -EIO);
	assert_string_equal(output(), "");
}

static void test_ratelimit(void **state)
{
	struct sf_log_ratelimit rl = {.interval_ms = 60000, .burst = 3};
	unsigned sup = 99;

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_true(sf_log_ratelimit_ok(&rl, &sup));
		assert_int_equal(sup, 0);
	}
	for (int i = 0; i < 4; i++)
		assert_false(sf_log_ratelimit_ok(&rl, &sup));
	/* The interval passes: the next message goes out and reports what was dropped. */
	rl.window_start_ms -= rl.interval_ms;
	assert_true(sf_log_ratelimit_ok(&rl, &sup));
	assert_int_equal(sup, 4);
	assert_true(sf_log_ratelimit_ok(&rl, &sup));
	assert_int_equal(sup, 0);

	/* The macro: a burst of 5 per call site, the rest dropped. */
	for (int i = 0; i < 20; i++)
		sf_log_warn_rl("flapping %d", i);
	assert_int_equal(count_lines(output()), 5);
	assert_non_null(strstr(out, "msg=\"flapping 4\""));
	assert_null(strstr(out, "flapping 5"));
}

static void test_level_names(void **state)
{
	enum sf_log_level l = SF_LOG_INFO;

	(void)state;
	assert_string_equal(sf_log_level_to_string(SF_LOG_WARN), "warn");
	assert_null(sf_log_level_to_string(_SF_LOG_LEVEL_MAX));
	assert_int_equal(sf_log_level_from_string("DEBUG", &l), 0);
	assert_int_equal(l, SF_LOG_DEBUG);
	assert_int_equal(sf_log_level_from_string("warning", &l), 0);
	assert_int_equal(l, SF_LOG_WARN);
	assert_int_equal(sf_log_level_from_string("error", &l), 0);
	assert_int_equal(l, SF_LOG_ERR);
	assert_int_equal(sf_log_level_from_string("loud", &l), -EINVAL);
	assert_int_equal(sf_log_level_from_string(NULL, &l), -EINVAL);
	assert_int_equal(l, SF_LOG_ERR); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_level_filtering, setup, teardown),
		cmocka_unit_test_setup_teardown(test_logfmt_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quoting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_message, setup, teardown),
		cmocka_unit_test_setup_teardown(test_context, setup, teardown),
		cmocka_unit_test_setup_teardown(test_err_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ratelimit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_names, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
