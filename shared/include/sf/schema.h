/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON Schema validation (draft 7 subset) for API bodies, queue messages and config files.
 * No C validator is packaged for Debian, so we own this one; tests/unit/test_schema_suite.c
 * checks it against the official JSON-Schema-Test-Suite.
 *
 * Implemented keywords: type, properties, required, additionalProperties, patternProperties,
 * enum, const, pattern, minLength, maxLength, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, multipleOf, items (schema and array form), additionalItems, minItems,
 * maxItems, uniqueItems, minProperties, maxProperties, oneOf, anyOf, allOf, not,
 * $ref inside one document ("#", "#/definitions/x", JSON pointers), definitions,
 * format uuid / ipv4 / ipv4-cidr / mac. Anything else is ignored (as the spec says of
 * unknown keywords).
 */
#ifndef SF_SCHEMA_H
#define SF_SCHEMA_H

#include <jansson.h>

#include "sf/diag.h"

struct sf_schema;

/* Compile a schema document. Takes a new reference to doc (caller keeps its own).
 * Returns 0, or -EINVAL with diag filled when the schema itself is malformed (a bad keyword
 * value or regex, a $ref that does not resolve), or -EOPNOTSUPP with diag when it needs what we
 * do not implement: a $ref to another document or to a "#name" anchor, a $id below the root. */
int sf_schema_new(json_t *doc, struct sf_schema **ret_schema, struct sf_diag *diag);
/* Load and compile a schema file. -ENOENT, -EINVAL (with diag). */
int sf_schema_load_file(const char *path, struct sf_schema **ret_schema, struct sf_diag *diag);
void sf_schema_free(struct sf_schema *s);

/* Validate an instance. 0 when valid; -EINVAL when not, with diag naming the JSON pointer of the
 * failing value, the keyword (diag->rule) and a message, and diag->status = 400. The message is
 * "<pointer>: <what failed>", with "/" standing for the root (whose diag->pointer is "").
 * -ELOOP (diag->rule "depth") when subschemas nest deeper than 64, e.g. {"$ref": "#"}. */
int sf_schema_validate(const struct sf_schema *s, const json_t *instance, struct sf_diag *diag);

/* The compiled document (borrowed), e.g. for generating --help from it. */
const json_t *sf_schema_document(const struct sf_schema *s);

/* The directory the daemons load schemas from: $SF_SCHEMA_DIR, else the build-time default. */
const char *sf_schema_dir(void);

#endif
