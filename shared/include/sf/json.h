/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers over jansson for API handlers, workers and the schema validator: parsing with a
 * client-facing diagnosis, compact dumping, typed getters and RFC 6901 JSON pointers.
 *
 * Getters return borrowed values. A member whose value is JSON null counts as absent (-ENOENT),
 * so optional fields sent as null need no special case.
 */
#ifndef SF_JSON_H
#define SF_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/diag.h"

/* Room for the pointers we build (struct sf_diag keeps the first 255 bytes). */
#define SF_JSON_POINTER_MAX 512

/* Parse len bytes (any JSON value; duplicate keys and \u0000 are rejected). Malformed input
 * gives -EINVAL and a diag (status 400) naming line and column. */
int sf_json_load_buf(const char *buf, size_t len, json_t **ret_value, struct sf_diag *diag);
/* Parse a file: -errno when it cannot be opened, -EINVAL with "path:line:column: ..." in diag. */
int sf_json_load_file(const char *path, json_t **ret_value, struct sf_diag *diag);

/* Compact serialisation (any value, keys in insertion order). Never NULL for a non-NULL value
 * (aborts on OOM); the caller frees it with free(). */
char *sf_json_dumps(const json_t *value);

/* Typed members of an object: 0, -ENOENT (absent or null, or obj is not an object) or -EINVAL
 * (wrong type). get_int accepts integral reals such as 3.0 (JSON Schema calls them integers). */
int sf_json_get_str(const json_t *obj, const char *key, const char **ret_str);
int sf_json_get_int(const json_t *obj, const char *key, int64_t *ret_int);
int sf_json_get_bool(const json_t *obj, const char *key, bool *ret_bool);
int sf_json_get_object(const json_t *obj, const char *key, json_t **ret_obj);
int sf_json_get_array(const json_t *obj, const char *key, json_t **ret_array);

/* A number without a fractional part: an integer, or a real such as 3.0 (JSON Schema's
 * "integer"). */
bool sf_json_is_integral(const json_t *value);

/* Append "/" and token, escaped per RFC 6901 ("~" -> "~0", "/" -> "~1"), to the pointer in
 * buf. 0, or -ENAMETOOLONG with buf unchanged when it does not fit. */
int sf_json_pointer_append(char *buf, size_t size, const char *token);
/* Resolve an RFC 6901 pointer ("" is the whole document) within doc. 0, -ENOENT when nothing
 * is there, -EINVAL when ptr is not a pointer (no leading "/", bad "~" escape). */
int sf_json_pointer_get(const json_t *doc, const char *ptr, json_t **ret_value);

#endif
