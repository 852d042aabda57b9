// SPDX-License-Identifier: Apache-2.0
/* Unit tests of the table-driven configuration (shared/src/cfg.c). */
/* cmocka needs these first, in this order */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../fakes/testutil.h"
#include "sf/cfg.h"
#include "sf/log.h"
#include "sf/util.h"

struct test_cfg {
	char *redis_url;
	long port;
	bool debug;
	enum sf_log_level log_level;
	char *amqp_password;
	char *api_token;
	char *state_dir;
};

#define OFF(f) offsetof(struct test_cfg, f)

static const struct sf_cfg_entry entries[] = {
	{"redis_url", "SF_REDIS_URL", SF_CFG_STR, "redis://127.0.0.1:6379/0", 0, 0, OFF(redis_url),
	 0, "Redis server URL"},
	{"port", "SF_PORT", SF_CFG_INT, "13000", 1, 65535, OFF(port), 0, "HTTP listen port"},
	{"debug", "SF_DEBUG", SF_CFG_BOOL, "false", 0, 0, OFF(debug), 0, "Extra checks"},
	{"log_level", "SF_LOG_LEVEL", SF_CFG_LOGLEVEL, "info", 0, 0, OFF(log_level), 0,
	 "Most verbose level logged"},
	{"amqp_password", "SF_AMQP_PASSWORD", SF_CFG_STR, "guest", 0, 0, OFF(amqp_password),
	 SF_CFG_SECRET, "RabbitMQ password"},
	{"api_token", "SF_API_TOKEN", SF_CFG_STR, "", 0, 0, OFF(api_token), SF_CFG_SECRET,
	 "Bearer token"},
	{"state_dir", NULL, SF_CFG_STR, NULL, 0, 0, OFF(state_dir), 0, "Where state is kept"},
};

static const struct sf_cfg_table table = {
	.daemon = "sf-test",
	.description = "A daemon that only exists in tests.",
	.version = "1.2.3",
	.entries = entries,
	.n = SF_ARRAY_SIZE(entries),
};

/* ---- fixtures: a fake environment, temporary files, captured output ---------------------- */

static const char *const *fake_env; /* NULL-terminated name, value pairs */

static const char *fake_getenv(const char *name)
{
	for (const char *const *p = fake_env; p && p[0]; p += 2)
		if (strcmp(p[0], name) == 0)
			return p[1];
	return NULL;
}

struct fixture {
	struct test_cfg cfg;
	char path[64]; /* a temporary config file, if one was written */
	char *out;     /* what sf_cfg_load printed */
	size_t out_len;
	char *error;
	int action;
};

static int setup(void **state)
{
	struct fixture *fx = sf_xcalloc(1, sizeof(*fx));

	fx->action = -1;
	fake_env = NULL;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	sf_cfg_free(&table, &fx->cfg);
	if (fx->path[0])
		unlink(fx->path);
	free(fx->out);
	free(fx->error);
	free(fx);
	return 0;
}

/* Write a config file; returns its path. */
static const char *write_file(struct fixture *fx, const char *content)
{
	snprintf(fx->path, sizeof(fx->path), "/tmp/sf-test-cfg-XXXXXX");
	assert_int_equal(sf_test_write_temp(fx->path, content), 0);
	return fx->path;
}

/* Run sf_cfg_load_with on "sf-test" plus args (NULL-terminated) with the fake environment. */
static int load_table(struct fixture *fx, const struct sf_cfg_table *t, const char *const *args)
{
	char *argv[32] = {"sf-test"};
	int argc = 1;
	struct sf_cfg_io io = {.getenv_fn = fake_getenv};
	FILE *out;
	int r;

	for (; args && *args; args++) {
		assert_true(argc < (int)SF_ARRAY_SIZE(argv) - 1);
		argv[argc++] = (char *)*args;
	}
	free(fx->out);
	fx->out = NULL;
	out = open_memstream(&fx->out, &fx->out_len);
	assert_non_null(out);
	io.out = out;
	r = sf_cfg_load_with(t, &fx->cfg, argc, argv, &io, &fx->error, &fx->action);
	fclose(out);
	return r;
}

static int load(struct fixture *fx, const char *const *args)
{
	return load_table(fx, &table, args);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NOARGS ((const char *const *)NULL)

/* The load fails with exactly this message and leaves no string behind. */
static void assert_load_error(struct fixture *fx, const char *const *args, const char *message)
{
	int r = load(fx, args);

	assert_int_equal(r, -EINVAL);
	assert_non_null(fx->error);
	assert_string_equal(fx->error, message);
	assert_int_equal(fx->action, -1); /* not written on failure */
	assert_null(fx->cfg.redis_url);
	assert_null(fx->cfg.amqp_password);
	assert_null(fx->cfg.api_token);
	free(fx->error);
	fx->error = NULL;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, NOARGS), 0);
	assert_int_equal(fx->action, SF_CFG_RUN);
	assert_null(fx->error);
	assert_string_equal(fx->cfg.redis_url, "redis://127.0.0.1:6379/0");
	assert_int_equal(fx->cfg.port, 13000);
	assert_false(fx->cfg.debug);
	assert_int_equal(fx->cfg.log_level, SF_LOG_INFO);
	assert_string_equal(fx->cfg.amqp_password, "guest");
	assert_string_equal(fx->cfg.api_token, "");
	assert_null(fx->cfg.state_dir);
	assert_int_equal(fx->out_len, 0); /* nothing printed */
}

/* Each key is set in a different number of layers; the highest layer that sets it wins. */
static void test_precedence(void **state)
{
	struct fixture *fx = *state;
	const char *path =
		write_file(fx, "{\"port\": 1001, \"debug\": false, \"log_level\": \"warn\","
			       " \"amqp_password\": \"from-file\", \"state_dir\": \"/f\"}");
	/* name, value pairs */
	const char *const env[] = {
		"SF_PORT", "1002", "SF_DEBUG", "yes", "SF_AMQP_PASSWORD", "from-env", NULL,
	};

	fake_env = env;
	assert_int_equal(
		load(fx, ARGS("--config", path, "--port=1003", "--amqp-password", "from-argv")), 0);
	assert_int_equal(fx->action, SF_CFG_RUN);
	assert_string_equal(fx->cfg.redis_url, "redis://127.0.0.1:6379/0"); /* default */
	assert_int_equal(fx->cfg.log_level, SF_LOG_WARN);		    /* file */
	assert_string_equal(fx->cfg.state_dir, "/f");			    /* file */
	assert_true(fx->cfg.debug);					    /* env over file */
	assert_int_equal(fx->cfg.port, 1003);				    /* argv over env */
	assert_string_equal(fx->cfg.amqp_password, "from-argv");	    /* argv over all */
}

static void test_config_from_env(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_file(fx, "{\"port\": 2000}");
	const char *const env[] = {"SF_CONFIG", path, NULL};

	fake_env = env;
	assert_int_equal(load(fx, NOARGS), 0);
	assert_int_equal(fx->cfg.port, 2000);
	sf_cfg_free(&table, &fx->cfg);

	/* --config wins over SF_CONFIG: the env file does not even have to exist. */
	const char *const env2[] = {"SF_CONFIG", "/nonexistent/sf.json", NULL};

	fake_env = env2;
	assert_int_equal(load(fx, ARGS("--config", path)), 0);
	assert_int_equal(fx->cfg.port, 2000);
}

static void test_argv_forms(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, ARGS("--redis-url=redis://a", "--log_level", "DEBUG", "--debug",
				       "--port", "80")),
			 0);
	assert_string_equal(fx->cfg.redis_url, "redis://a");
	assert_int_equal(fx->cfg.log_level, SF_LOG_DEBUG);
	assert_true(fx->cfg.debug); /* bare bool followed by another option */
	assert_int_equal(fx->cfg.port, 80);
	sf_cfg_free(&table, &fx->cfg);

	assert_int_equal(load(fx, ARGS("--redis_url", "redis://b", "--port=1", "--debug")), 0);
	assert_string_equal(fx->cfg.redis_url, "redis://b");
	assert_int_equal(fx->cfg.port, 1);
	assert_true(fx->cfg.debug); /* bare bool at the end */
	sf_cfg_free(&table, &fx->cfg);

	/* A later argv value wins; a bool takes an explicit value; "" is a valid string. */
	assert_int_equal(
		load(fx, ARGS("--port=1", "--port=65535", "--debug", "off", "--api-token=")), 0);
	assert_int_equal(fx->cfg.port, 65535);
	assert_false(fx->cfg.debug);
	assert_string_equal(fx->cfg.api_token, "");
}

static void test_file_errors(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		const char *content, *reason;
	} cases[] = {
		{"{\"redis_url\": 5}", "redis_url: expected a string"},
		{"{\"port\": \"80\"}", "port: expected an integer"},
		{"{\"port\": 1.5}", "port: expected an integer"},
		{"{\"port\": 70000}", "port: 70000 is out of range 1..65535"},
		{"{\"port\": 0}", "port: 0 is out of range 1..65535"},
		{"{\"debug\": \"yes\"}", "debug: expected a boolean"},
		{"{\"log_level\": 3}", "log_level: expected a string"},
		{"{\"log_level\": \"loud\"}",
		 "log_level: 'loud' is not a log level (err, warn, info, debug)"},
		{"{\"bogus\": 1}", "bogus: unknown key"},
		/* strings set before the error are released (checked in assert_load_error) */
		{"{\"redis_url\": \"redis://x\", \"amqp_password\": \"p\", \"redis-url\": \"y\"}",
		 "redis-url: unknown key"},
		{"[1, 2]", "expected a JSON object"},
	};

	for (size_t i = 0; i < SF_ARRAY_SIZE(cases); i++) {
		const char *path = write_file(fx, cases[i].content);
		char *expected = sf_xasprintf("%s: %s", path, cases[i].reason);

		assert_load_error(fx, ARGS("--config", path), expected);
		free(expected);
		unlink(fx->path);
		fx->path[0] = '\0';
	}
}

static void test_file_unreadable(void **state)
{
	struct fixture *fx = *state;
	const char *path;
	char *expected;

	assert_int_equal(load(fx, ARGS("--config", "/nonexistent/sf.json")), -ENOENT);
	assert_string_equal(fx->error,
			    "/nonexistent/sf.json: cannot open: No such file or directory");
	assert_int_equal(fx->action, -1);
	free(fx->error);
	fx->error = NULL;

	assert_int_equal(load(fx, ARGS("--config", "/tmp")), -EISDIR);
	assert_string_equal(fx->error, "/tmp: cannot open: Is a directory");
	free(fx->error);
	fx->error = NULL;

	path = write_file(fx, "{\"port\": }");
	assert_int_equal(load(fx, ARGS("--config", path)), -EINVAL);
	expected = sf_xasprintf("%s: line 1 column ", path);
	assert_true(sf_str_startswith(fx->error, expected));
	free(expected);
	free(fx->error);
	fx->error = NULL;
	unlink(fx->path);

	/* Duplicate keys are rejected rather than silently resolved. */
	path = write_file(fx, "{\"port\": 1, \"port\": 2}");
	assert_int_equal(load(fx, ARGS("--config", path)), -EINVAL);
	assert_non_null(strstr(fx->error, "duplicate"));
}

static void test_env_errors(void **state)
{
	struct fixture *fx = *state;
	const char *const port[] = {"SF_PORT", "abc", NULL};
	const char *const range[] = {"SF_PORT", "70000", NULL};
	const char *const empty[] = {"SF_PORT", "", NULL};
	const char *const space[] = {"SF_PORT", " 80", NULL};
	const char *const debug[] = {"SF_DEBUG", "maybe", NULL};
	const char *const level[] = {"SF_LOG_LEVEL", "loud", NULL};
	const char *const secret[] = {"SF_AMQP_PASSWORD", "s3cret", "SF_PORT", "x", NULL};

	fake_env = port;
	assert_load_error(fx, NOARGS, "env SF_PORT: port: 'abc' is not an integer");
	fake_env = range;
	assert_load_error(fx, NOARGS, "env SF_PORT: port: 70000 is out of range 1..65535");
	fake_env = empty;
	assert_load_error(fx, NOARGS, "env SF_PORT: port: '' is not an integer");
	fake_env = space;
	assert_load_error(fx, NOARGS, "env SF_PORT: port: ' 80' is not an integer");
	fake_env = debug;
	assert_load_error(fx, NOARGS,
			  "env SF_DEBUG: debug: 'maybe' is not a boolean (true/false, yes/no, "
			  "on/off, 1/0)");
	fake_env = level;
	assert_load_error(fx, NOARGS,
			  "env SF_LOG_LEVEL: log_level: 'loud' is not a log level (err, warn, "
			  "info, debug)");
	fake_env = secret; /* the password was set from env before the port failed */
	assert_load_error(fx, NOARGS, "env SF_PORT: port: 'x' is not an integer");
}

static void test_argv_errors(void **state)
{
	struct fixture *fx = *state;

	assert_load_error(fx, ARGS("--port=70000"), "argv: port: 70000 is out of range 1..65535");
	assert_load_error(fx, ARGS("--port", "-1"), "argv: port: -1 is out of range 1..65535");
	assert_load_error(fx, ARGS("--port=99999999999999999999999"),
			  "argv: port: 99999999999999999999999 is out of range 1..65535");
	assert_load_error(fx, ARGS("--port=80x"), "argv: port: '80x' is not an integer");
	assert_load_error(
		fx, ARGS("--debug=maybe"),
		"argv: debug: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
	assert_load_error(fx, ARGS("--log-level=loud"),
			  "argv: log_level: 'loud' is not a log level (err, warn, info, debug)");
	assert_load_error(fx, ARGS("--foo"), "argv: --foo: unknown option");
	assert_load_error(fx, ARGS("--foo=bar"), "argv: --foo: unknown option");
	assert_load_error(fx, ARGS("--port"), "argv: port: missing value");
	assert_load_error(fx, ARGS("--redis-url", "--port=1"), "argv: redis_url: missing value");
	assert_load_error(fx, ARGS("--config"), "argv: --config: missing value");
	assert_load_error(fx, ARGS("--config="), "argv: --config: missing value");
	assert_load_error(fx, ARGS("stray"), "argv: stray: unexpected argument");
	assert_load_error(fx, ARGS("--"), "argv: --: unexpected argument");
	assert_load_error(fx, ARGS("--print-config=xml"),
			  "argv: --print-config: expected text or json, got 'xml'");
	assert_load_error(fx, ARGS("--version=2"), "argv: --version: takes no value");
	/* argv errors are found before the file is read */
	assert_load_error(fx, ARGS("--config", "/nonexistent/sf.json", "--foo"),
			  "argv: --foo: unknown option");
	/* a string set by argv before a later argv value fails is released */
	assert_load_error(fx, ARGS("--amqp-password=p", "--port=0"),
			  "argv: port: 0 is out of range 1..65535");
}

static void test_bad_default(void **state)
{
	struct fixture *fx = *state;
	static const struct sf_cfg_entry bad[] = {
		{"redis_url", NULL, SF_CFG_STR, "redis://x", 0, 0, OFF(redis_url), 0, ""},
		{"port", NULL, SF_CFG_INT, "0", 1, 65535, OFF(port), 0, ""},
	};
	static const struct sf_cfg_table bad_table = {"sf-bad", NULL, NULL, bad, 2};

	assert_int_equal(load_table(fx, &bad_table, NOARGS), -EINVAL);
	assert_string_equal(fx->error, "default: port: 0 is out of range 1..65535");
	assert_null(fx->cfg.redis_url);
}

static void test_print_text_masks_secrets(void **state)
{
	struct fixture *fx = *state;
	const char *const env[] = {"SF_AMQP_PASSWORD", "hunter2", NULL};

	fake_env = env;
	assert_int_equal(load(fx, ARGS("--print-config", "--port=8080", "--log-level=err")), 0);
	assert_int_equal(fx->action, SF_CFG_EXIT_OK);
	assert_string_equal(fx->out, "redis_url = redis://127.0.0.1:6379/0\n"
				     "port = 8080\n"
				     "debug = false\n"
				     "log_level = err\n"
				     "amqp_password = ********\n"
				     "api_token = \n" /* empty: nothing to hide */
				     "state_dir = \n");
	assert_null(strstr(fx->out, "hunter2"));
	/* The caller still owns the loaded values. */
	assert_string_equal(fx->cfg.amqp_password, "hunter2");
}

static void test_print_json_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct test_cfg first;
	json_error_t jerr;
	json_t *doc;

	assert_int_equal(load(fx, ARGS("--print-config=json", "--port=8080", "--debug",
				       "--api-token=tok", "--redis-url", "redis://r")),
			 0);
	assert_int_equal(fx->action, SF_CFG_EXIT_OK);
	doc = json_loads(fx->out, 0, &jerr);
	assert_non_null(doc);
	assert_int_equal(json_integer_value(json_object_get(doc, "port")), 8080);
	assert_true(json_is_true(json_object_get(doc, "debug")));
	assert_string_equal(json_string_value(json_object_get(doc, "log_level")), "info");
	assert_string_equal(json_string_value(json_object_get(doc, "api_token")), "********");
	assert_string_equal(json_string_value(json_object_get(doc, "amqp_password")), "********");
	assert_null(json_object_get(doc, "state_dir")); /* unset: left out */
	assert_null(strstr(fx->out, "tok\""));
	json_decref(doc);

	/* The printed JSON is itself a valid config file giving the same settings. */
	first = fx->cfg;
	memset(&fx->cfg, 0, sizeof(fx->cfg));
	assert_int_equal(load(fx, ARGS("--config", write_file(fx, fx->out))), 0);
	assert_int_equal(fx->action, SF_CFG_RUN);
	assert_string_equal(fx->cfg.redis_url, first.redis_url);
	assert_int_equal(fx->cfg.port, first.port);
	assert_int_equal(fx->cfg.debug, first.debug);
	assert_int_equal(fx->cfg.log_level, first.log_level);
	assert_string_equal(fx->cfg.api_token, "********");
	assert_null(fx->cfg.state_dir);
	sf_cfg_free(&table, &first);
}

static void test_help(void **state)
{
	struct fixture *fx = *state;
	const char *const env[] = {"SF_CONFIG", "/nonexistent/sf.json", NULL};

	fake_env = env; /* --help works even when the configuration is broken */
	assert_int_equal(load(fx, ARGS("--help")), 0);
	assert_int_equal(fx->action, SF_CFG_EXIT_OK);
	assert_true(sf_str_startswith(fx->out, "Usage: sf-test [OPTION]...\n"));
	assert_non_null(strstr(fx->out, table.description));
	for (const char *opt = "--config\0--print-config\0--help\0--version\0"; *opt;
	     opt += strlen(opt) + 1)
		assert_non_null(strstr(fx->out, opt));
	for (size_t i = 0; i < table.n; i++) {
		const struct sf_cfg_entry *e = &table.entries[i];
		char *opt = sf_xasprintf("--%s", e->name);

		for (char *p = opt + 2; *p; p++)
			if (*p == '_')
				*p = '-';
		assert_non_null(strstr(fx->out, opt));
		assert_non_null(strstr(fx->out, e->name));
		assert_non_null(strstr(fx->out, e->help));
		if (e->env)
			assert_non_null(strstr(fx->out, e->env));
		if (e->def && *e->def)
			assert_non_null(strstr(fx->out, e->def));
		free(opt);
	}
	assert_non_null(strstr(fx->out, "1..65535"));
	assert_null(fx->cfg.redis_url); /* nothing was loaded */

	/* -h is the same; an error before it on the line wins, as with getopt. */
	assert_int_equal(load(fx, ARGS("-h")), 0);
	assert_true(sf_str_startswith(fx->out, "Usage: sf-test"));
	assert_int_equal(load(fx, ARGS("--foo", "--help")), -EINVAL);
	assert_string_equal(fx->error, "argv: --foo: unknown option");
}

static void test_version(void **state)
{
	struct fixture *fx = *state;

	/* --version acts before any value is parsed */
	assert_int_equal(load(fx, ARGS("--port=0", "--version")), 0);
	assert_int_equal(fx->action, SF_CFG_EXIT_OK);
	assert_string_equal(fx->out, "sf-test 1.2.3\n");
	assert_null(fx->cfg.redis_url);
}

static void test_free_strings(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(load(fx, ARGS("--state-dir=/var/lib/sf")), 0);
	assert_non_null(fx->cfg.state_dir);
	sf_cfg_free(&table, &fx->cfg);
	assert_null(fx->cfg.redis_url);
	assert_null(fx->cfg.amqp_password);
	assert_null(fx->cfg.api_token);
	assert_null(fx->cfg.state_dir);
	assert_int_equal(fx->cfg.port, 13000); /* non-strings are left alone */
	sf_cfg_free(&table, &fx->cfg);	       /* twice is harmless */
	sf_cfg_free(&table, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_from_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argv_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_text_masks_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_print_json_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_strings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
