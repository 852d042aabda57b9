// SPDX-License-Identifier: Apache-2.0
/* Table-driven configuration: defaults < JSON file < SF_* environment < argv. See sf/cfg.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "sf/cfg.h"
#include "sf/err.h"
#include "sf/log.h"
#include "sf/util.h"

#define MASK "********"

enum print_mode {
	PRINT_NONE,
	PRINT_TEXT,
	PRINT_JSON,
};

struct argv_setting {
	const struct sf_cfg_entry *entry;
	const char *value;
};

/* What the first pass over argv found; values point into argv. */
struct argv_scan {
	const char *config;
	enum print_mode print;
	struct argv_setting *set; /* applied last, in order */
	size_t n_set;
};

static const char *const type_names[_SF_CFG_TYPE_MAX] = {
	[SF_CFG_STR] = "string",
	[SF_CFG_INT] = "integer",
	[SF_CFG_BOOL] = "boolean",
	[SF_CFG_LOGLEVEL] = "log level",
};

const char *sf_cfg_type_to_string(enum sf_cfg_type type)
{
	if ((unsigned)type >= _SF_CFG_TYPE_MAX)
		return NULL;
	return type_names[type];
}

static void *field(void *cfg, const struct sf_cfg_entry *e)
{
	return (char *)cfg + e->offset;
}

static const void *cfield(const void *cfg, const struct sf_cfg_entry *e)
{
	return (const char *)cfg + e->offset;
}

/* Set *ret_error to "<source>: <key>: <reason>" (no key: "<source>: <reason>") and return r. */
static int fail(char **ret_error, int r, const char *source, const char *key, const char *fmt, ...)
	SF_PRINTF(5, 6);
static int fail(char **ret_error, int r, const char *source, const char *key, const char *fmt, ...)
{
	char *reason;
	va_list ap;

	va_start(ap, fmt);
	reason = sf_xvasprintf(fmt, ap);
	va_end(ap);
	if (key)
		*ret_error = sf_xasprintf("%s: %s: %s", source, key, reason);
	else
		*ret_error = sf_xasprintf("%s: %s", source, reason);
	free(reason);
	return r;
}

static void set_str(void *cfg, const struct sf_cfg_entry *e, const char *s)
{
	char **p = field(cfg, e);

	free(*p);
	*p = s ? sf_xstrdup(s) : NULL;
}

static int out_of_range(char **ret_error, const char *source, const struct sf_cfg_entry *e,
			const char *value)
{
	return fail(ret_error, -EINVAL, source, e->name, "%s is out of range %ld..%ld", value,
		    e->min, e->max);
}

/* A value given as text: a default, an environment variable or an argv value. */
static int set_from_text(void *cfg, const struct sf_cfg_entry *e, const char *source,
			 const char *text, char **ret_error)
{
	enum sf_log_level level;
	long l;
	bool b;
	int r;

	switch (e->type) {
	case SF_CFG_STR:
		set_str(cfg, e, text);
		return 0;
	case SF_CFG_INT:
		r = sf_parse_long(text, e->min, e->max, &l);
		if (r == -ERANGE)
			return out_of_range(ret_error, source, e, text);
		if (r < 0)
			return fail(ret_error, -EINVAL, source, e->name, "'%s' is not an integer",
				    text);
		*(long *)field(cfg, e) = l;
		return 0;
	case SF_CFG_BOOL:
		if (sf_parse_bool(text, &b) < 0)
			return fail(ret_error, -EINVAL, source, e->name,
				    "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
				    text);
		*(bool *)field(cfg, e) = b;
		return 0;
	case SF_CFG_LOGLEVEL:
		if (sf_log_level_from_string(text, &level) < 0)
			return fail(ret_error, -EINVAL, source, e->name,
				    "'%s' is not a log level (err, warn, info, debug)", text);
		*(enum sf_log_level *)field(cfg, e) = level;
		return 0;
	default:
		return fail(ret_error, -EINVAL, source, e->name, "unsupported entry type %d",
			    (int)e->type);
	}
}

static int set_from_json(void *cfg, const struct sf_cfg_entry *e, const char *source,
			 const json_t *v, char **ret_error)
{
	char num[32];

	switch (e->type) {
	case SF_CFG_STR:
		if (!json_is_string(v))
			return fail(ret_error, -EINVAL, source, e->name, "expected a string");
		set_str(cfg, e, json_string_value(v));
		return 0;
	case SF_CFG_INT:
		if (!json_is_integer(v))
			return fail(ret_error, -EINVAL, source, e->name, "expected an integer");
		if (json_integer_value(v) < e->min || json_integer_value(v) > e->max) {
			(void)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
				       json_integer_value(v));
			return out_of_range(ret_error, source, e, num);
		}
		*(long *)field(cfg, e) = (long)json_integer_value(v);
		return 0;
	case SF_CFG_BOOL:
		if (!json_is_boolean(v))
			return fail(ret_error, -EINVAL, source, e->name, "expected a boolean");
		*(bool *)field(cfg, e) = json_is_true(v);
		return 0;
	case SF_CFG_LOGLEVEL:
		if (!json_is_string(v))
			return fail(ret_error, -EINVAL, source, e->name, "expected a string");
		return set_from_text(cfg, e, source, json_string_value(v), ret_error);
	default:
		return fail(ret_error, -EINVAL, source, e->name, "unsupported entry type %d",
			    (int)e->type);
	}
}

/* Entry whose name equals the first len bytes of s, '-' matching '_' (argv spelling). */
static const struct sf_cfg_entry *find_entry(const struct sf_cfg_table *t, const char *s,
					     size_t len, bool dashes)
{
	for (size_t i = 0; i < t->n; i++) {
		const char *name = t->entries[i].name;
		size_t k;

		if (strlen(name) != len)
			continue;
		for (k = 0; k < len; k++) {
			char c = (dashes && s[k] == '-') ? '_' : s[k];

			if (c != name[k])
				break;
		}
		if (k == len)
			return &t->entries[i];
	}
	return NULL;
}

static bool opt_is(const char *name, size_t len, const char *opt)
{
	return strlen(opt) == len && strncmp(name, opt, len) == 0;
}

static bool value_missing(const char *next)
{
	return !next || sf_str_startswith(next, "--");
}

static void print_version(const struct sf_cfg_table *t, FILE *f)
{
	(void)fprintf(f, "%s %s\n", t->daemon, t->version ? t->version : "unknown");
}

/*
 * First pass over argv: common options and the settings to apply last. --help and --version act
 * at once (as with getopt, an error earlier on the line wins). Returns 0, 1 when something was
 * printed and the caller should exit, or -EINVAL with *ret_error set.
 */
static int scan_argv(const struct sf_cfg_table *t, int argc, char **argv, FILE *out,
		     struct argv_scan *scan, char **ret_error)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		const struct sf_cfg_entry *e;
		size_t len;

		if (strcmp(arg, "-h") == 0)
			arg = "--help";
		if (!sf_str_startswith(arg, "--") || arg[2] == '\0' || arg[2] == '=')
			return fail(ret_error, -EINVAL, "argv", arg, "unexpected argument");
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		value = eq ? eq + 1 : NULL;

		if (opt_is(name, len, "help") || opt_is(name, len, "version")) {
			if (value)
				return fail(ret_error, -EINVAL, "argv", NULL,
					    "--%.*s: takes no value", (int)len, name);
			if (opt_is(name, len, "help"))
				sf_cfg_print_help(t, out);
			else
				print_version(t, out);
			return 1;
		}
		if (opt_is(name, len, "print-config") || opt_is(name, len, "print_config")) {
			if (!value || strcmp(value, "text") == 0)
				scan->print = PRINT_TEXT;
			else if (strcmp(value, "json") == 0)
				scan->print = PRINT_JSON;
			else
				return fail(ret_error, -EINVAL, "argv", "--print-config",
					    "expected text or json, got '%s'", value);
			continue;
		}
		if (opt_is(name, len, "config")) {
			if (value && !*value)
				value = NULL;
			if (!value) {
				if (value_missing(next))
					return fail(ret_error, -EINVAL, "argv", "--config",
						    "missing value");
				value = argv[++i];
			}
			scan->config = value;
			continue;
		}

		e = find_entry(t, name, len, true);
		if (!e)
			return fail(ret_error, -EINVAL, "argv", NULL, "--%.*s: unknown option",
				    (int)len, name);
		if (!value) {
			if (!value_missing(next))
				value = argv[++i];
			else if (e->type == SF_CFG_BOOL)
				value = "true"; /* --debug */
			else
				return fail(ret_error, -EINVAL, "argv", e->name, "missing value");
		}
		scan->set[scan->n_set++] = (struct argv_setting){e, value};
	}
	return 0;
}

static int load_file(const struct sf_cfg_table *t, void *cfg, const char *path, char **ret_error)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	struct stat st;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f || fstat(fileno(f), &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR; /* else reading it fails as an empty document */
	if (r < 0) {
		if (f)
			(void)fclose(f);
		return fail(ret_error, r, path, NULL, "cannot open: %s", sf_strerror(r));
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	(void)fclose(f);
	if (!root)
		return fail(ret_error, -EINVAL, path, NULL, "line %d column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	if (!json_is_object(root)) {
		r = fail(ret_error, -EINVAL, path, NULL, "expected a JSON object");
		goto out_put;
	}
	json_object_foreach(root, key, v) {
		const struct sf_cfg_entry *e = find_entry(t, key, strlen(key), false);

		if (!e) {
			r = fail(ret_error, -EINVAL, path, key, "unknown key");
			goto out_put;
		}
		r = set_from_json(cfg, e, path, v, ret_error);
		if (r < 0)
			goto out_put;
	}
out_put:
	json_decref(root);
	return r;
}

static const char *real_getenv(const char *name)
{
	return getenv(name);
}

static int load_all(const struct sf_cfg_table *t, void *cfg, const struct argv_scan *scan,
		    const char *(*getenv_fn)(const char *), char **ret_error)
{
	const char *config = scan->config;
	char source[128];
	int r;

	for (size_t i = 0; i < t->n; i++) {
		const struct sf_cfg_entry *e = &t->entries[i];

		if (e->type == SF_CFG_STR && !e->def) {
			set_str(cfg, e, NULL);
			continue;
		}
		/* A bad default is a table bug, but it is reported like any other bad value. */
		r = set_from_text(cfg, e, "default", e->def ? e->def : "", ret_error);
		if (r < 0)
			return r;
	}

	if (!config) {
		config = getenv_fn("SF_CONFIG");
		if (config && !*config)
			config = NULL;
	}
	if (config) {
		r = load_file(t, cfg, config, ret_error);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < t->n; i++) {
		const struct sf_cfg_entry *e = &t->entries[i];
		const char *v;

		if (!e->env)
			continue;
		v = getenv_fn(e->env);
		if (!v)
			continue;
		(void)snprintf(source, sizeof(source), "env %s", e->env);
		r = set_from_text(cfg, e, source, v, ret_error);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < scan->n_set; i++) {
		r = set_from_text(cfg, scan->set[i].entry, "argv", scan->set[i].value, ret_error);
		if (r < 0)
			return r;
	}
	return 0;
}

int sf_cfg_load_with(const struct sf_cfg_table *t, void *cfg, int argc, char **argv,
		     const struct sf_cfg_io *io, char **ret_error, int *ret_action)
{
	const char *(*getenv_fn)(const char *) = io && io->getenv_fn ? io->getenv_fn : real_getenv;
	FILE *out = io && io->out ? io->out : stdout;
	struct argv_scan scan = {0};
	char *error = NULL;
	int action = SF_CFG_RUN;
	int r;

	scan.set = sf_xcalloc(argc > 0 ? (size_t)argc : 1, sizeof(*scan.set));

	r = scan_argv(t, argc, argv, out, &scan, &error);
	if (r > 0) { /* --help or --version printed */
		action = SF_CFG_EXIT_OK;
		r = 0;
	} else if (r == 0) {
		r = load_all(t, cfg, &scan, getenv_fn, &error);
		if (r == 0 && scan.print == PRINT_JSON)
			sf_cfg_print_json(t, cfg, out);
		else if (r == 0 && scan.print == PRINT_TEXT)
			sf_cfg_print(t, cfg, out);
		if (r == 0 && scan.print != PRINT_NONE)
			action = SF_CFG_EXIT_OK;
	}
	if (r < 0) {
		sf_cfg_free(t, cfg);
		*ret_error = error;
	} else {
		*ret_action = action;
	}
	free(scan.set);
	return r;
}

int sf_cfg_load(const struct sf_cfg_table *t, void *cfg, int argc, char **argv, char **ret_error,
		int *ret_action)
{
	return sf_cfg_load_with(t, cfg, argc, argv, NULL, ret_error, ret_action);
}

void sf_cfg_free(const struct sf_cfg_table *t, void *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (t->entries[i].type == SF_CFG_STR)
			set_str(cfg, &t->entries[i], NULL);
}

/* The value as text; NULL for an unset string. Uses buf for non-strings. */
static const char *value_text(const struct sf_cfg_entry *e, const void *cfg, char *buf, size_t size)
{
	switch (e->type) {
	case SF_CFG_STR:
		return *(char *const *)cfield(cfg, e);
	case SF_CFG_INT:
		(void)snprintf(buf, size, "%ld", *(const long *)cfield(cfg, e));
		return buf;
	case SF_CFG_BOOL:
		return *(const bool *)cfield(cfg, e) ? "true" : "false";
	case SF_CFG_LOGLEVEL:
		return sf_log_level_to_string(*(const enum sf_log_level *)cfield(cfg, e)) ?: "?";
	default:
		return "?";
	}
}

static bool masked(const struct sf_cfg_entry *e, const char *text)
{
	return (e->flags & SF_CFG_SECRET) && text && *text;
}

void sf_cfg_print(const struct sf_cfg_table *t, const void *cfg, FILE *f)
{
	char buf[32];

	for (size_t i = 0; i < t->n; i++) {
		const struct sf_cfg_entry *e = &t->entries[i];
		const char *v = value_text(e, cfg, buf, sizeof(buf));

		(void)fprintf(f, "%s = %s\n", e->name, masked(e, v) ? MASK : v ? v : "");
	}
}

void sf_cfg_print_json(const struct sf_cfg_table *t, const void *cfg, FILE *f)
{
	json_t *root = json_object();
	char buf[32];

	for (size_t i = 0; i < t->n; i++) {
		const struct sf_cfg_entry *e = &t->entries[i];
		const char *v = value_text(e, cfg, buf, sizeof(buf));
		json_t *jv;

		if (!v)
			continue; /* an unset string: absent, so the output loads back as a file */
		if (masked(e, v))
			jv = json_string(MASK);
		else if (e->type == SF_CFG_INT)
			jv = json_integer(*(const long *)cfield(cfg, e));
		else if (e->type == SF_CFG_BOOL)
			jv = json_boolean(*(const bool *)cfield(cfg, e));
		else
			jv = json_string(v);
		json_object_set_new(root, e->name, jv);
	}
	(void)json_dumpf(root, f, JSON_INDENT(2));
	(void)fputc('\n', f);
	json_decref(root);
}

static void print_option(FILE *f, const char *name)
{
	(void)fputs("  --", f);
	for (; *name; name++)
		(void)fputc(*name == '_' ? '-' : *name, f);
}

void sf_cfg_print_help(const struct sf_cfg_table *t, FILE *f)
{
	(void)fprintf(f, "Usage: %s [OPTION]...\n", t->daemon);
	if (t->description)
		(void)fprintf(f, "%s\n", t->description);
	(void)fputs(
		"\nOptions:\n"
		"  --config FILE           read settings from a JSON file (env SF_CONFIG)\n"
		"  --print-config[=json]   print the effective settings (secrets masked) and exit\n"
		"  --help                  print this help and exit\n"
		"  --version               print the version and exit\n"
		"\nSettings (default < --config file < environment < command line):\n",
		f);
	for (size_t i = 0; i < t->n; i++) {
		const struct sf_cfg_entry *e = &t->entries[i];

		print_option(f, e->name);
		switch (e->type) {
		case SF_CFG_INT:
			(void)fprintf(f, " %ld..%ld\n", e->min, e->max);
			break;
		case SF_CFG_BOOL:
			(void)fputs(" [BOOL]\n", f);
			break;
		case SF_CFG_LOGLEVEL:
			(void)fputs(" err|warn|info|debug\n", f);
			break;
		default:
			(void)fputs(" STRING\n", f);
			break;
		}
		if (e->help)
			(void)fprintf(f, "        %s\n", e->help);
		(void)fprintf(f, "        file key %s, env %s, default %s\n", e->name,
			      e->env ? e->env : "(none)",
			      !e->def	? "(unset)"
			      : *e->def ? e->def
					: "\"\"");
	}
}
