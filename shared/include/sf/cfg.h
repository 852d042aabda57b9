/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Configuration: each daemon describes its settings in one const table (Redis static_configs[]),
 * which drives defaults, the JSON file, the SF_* environment, argv, bounds, --help and
 * --print-config. Precedence: default < file < environment < argv.
 *
 *   struct api_cfg { char *redis_url; long port; bool debug; enum sf_log_level log_level; };
 *   static const struct sf_cfg_entry api_cfg_entries[] = {
 *	{"redis_url", "SF_REDIS_URL", SF_CFG_STR, "redis://127.0.0.1:6379/0", 0, 0,
 *	 offsetof(struct api_cfg, redis_url), 0, "Redis server URL"},
 *	{"port", "SF_API_PORT", SF_CFG_INT, "13000", 1, 65535, offsetof(struct api_cfg, port), 0,
 *	 "HTTP listen port"},
 *   };
 *   static const struct sf_cfg_table api_cfg_table = {
 *	.daemon = "sf-api", .description = "Shaken Fist networking API", .version = SF_VERSION,
 *	.entries = api_cfg_entries, .n = SF_ARRAY_SIZE(api_cfg_entries),
 *   };
 *
 *   struct api_cfg cfg = {0};
 *   r = sf_cfg_load(&api_cfg_table, &cfg, argc, argv, &error, &action);
 *   if (r < 0) { fprintf(stderr, "%s\n", error); free(error); return 1; }
 *   if (action == SF_CFG_EXIT_OK) { sf_cfg_free(&api_cfg_table, &cfg); return 0; }
 *
 * Sources and their names in error messages ("<source>: <key>: <reason>"):
 *   the file given by --config FILE (or $SF_CONFIG): a JSON object of key -> value, keys are the
 *	entry names; unknown keys and wrong JSON types are errors ("/etc/sf/api.json: port:
 *	expected an integer");
 *   the environment, "env SF_FOO": values are text;
 *   argv, "argv": --key=value or --key value, with '-' or '_' in the key (--redis-url); a BOOL
 *	entry given without a value (--debug, followed by nothing or by another option) means true.
 * Common options handled here: --config FILE, --print-config[=text|json], --help, --version.
 */
#ifndef SF_CFG_H
#define SF_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The C type of the struct field at entry->offset. */
enum sf_cfg_type {
	SF_CFG_STR,	 /* char *, owned by the cfg struct (sf_cfg_free); NULL when unset */
	SF_CFG_INT,	 /* long, in [min, max] (a port is an INT with bounds 1..65535) */
	SF_CFG_BOOL,	 /* bool: true/false, yes/no, on/off, 1/0 (JSON: true/false) */
	SF_CFG_LOGLEVEL, /* enum sf_log_level: err, warn, info, debug (JSON: a string) */
	_SF_CFG_TYPE_MAX,
};

enum sf_cfg_flags {
	SF_CFG_SECRET = 1 << 0, /* --print-config shows "********" unless the value is empty */
};

struct sf_cfg_entry {
	const char *name; /* "redis_url": the file key; argv --redis-url or --redis_url */
	const char *env;  /* "SF_REDIS_URL"; NULL when there is no environment variable */
	enum sf_cfg_type type;
	const char *def;  /* the default as text, parsed like any value; NULL: unset (STR) */
	long min, max;	  /* bounds of an SF_CFG_INT, inclusive */
	size_t offset;	  /* offsetof(struct <daemon>_cfg, field) */
	unsigned flags;	  /* enum sf_cfg_flags */
	const char *help; /* one line for --help */
};

struct sf_cfg_table {
	const char *daemon;	 /* "sf-api", for --help and --version */
	const char *description; /* one line for --help */
	const char *version;	 /* for --version; NULL prints "unknown" */
	const struct sf_cfg_entry *entries;
	size_t n;
};

enum sf_cfg_action {
	SF_CFG_RUN,	/* cfg is filled in: start the daemon */
	SF_CFG_EXIT_OK, /* --help, --version or --print-config was printed: exit 0 */
};

/* Where sf_cfg_load_with() reads the environment and writes --help/--print-config/--version.
 * NULL members mean getenv() and stdout. */
struct sf_cfg_io {
	const char *(*getenv_fn)(const char *name);
	FILE *out;
};

/*
 * Fill cfg (zero-initialized by the caller) from the table's defaults, the file, the environment
 * and argv (argv[0] is the program name). On success returns 0 and sets *ret_action; the caller
 * later releases the strings with sf_cfg_free(). On failure returns -EINVAL (bad value, unknown
 * key or option), -ENOENT/-EACCES... (config file unreadable), sets *ret_error to a malloc'd
 * "<source>: <key>: <reason>" message (the one exception to ret_* being written only on
 * success), and leaves no allocation in cfg (its string fields are NULL).
 */
int sf_cfg_load(const struct sf_cfg_table *t, void *cfg, int argc, char **argv, char **ret_error,
		int *ret_action);
int sf_cfg_load_with(const struct sf_cfg_table *t, void *cfg, int argc, char **argv,
		     const struct sf_cfg_io *io, char **ret_error, int *ret_action);

/* Free the string fields of cfg and set them to NULL. cfg may be NULL. */
void sf_cfg_free(const struct sf_cfg_table *t, void *cfg);

/* "key = value" lines in table order, secrets masked. */
void sf_cfg_print(const struct sf_cfg_table *t, const void *cfg, FILE *f);
/* One JSON object in table order, secrets masked; unset strings are left out, so the output
 * loads back as a --config file. */
void sf_cfg_print_json(const struct sf_cfg_table *t, const void *cfg, FILE *f);
/* Usage generated from the table: every option with its file key, env var, default and help. */
void sf_cfg_print_help(const struct sf_cfg_table *t, FILE *f);

const char *sf_cfg_type_to_string(enum sf_cfg_type type);

#endif
