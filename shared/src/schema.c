// SPDX-License-Identifier: Apache-2.0
/*
 * JSON Schema (draft 7 subset, see schema.h) over jansson.
 *
 * sf_schema_new() walks every subschema once: it checks the keyword values, compiles each
 * "pattern" and "patternProperties" regex, and resolves each "$ref" to the value it points at.
 * Validation then interprets the document, looking regexes and $ref targets up by the address
 * of their source in the document (sorted arrays, bsearch). Validation stops at the first error.
 *
 * Regexes are POSIX extended (regcomp REG_EXTENDED), not ECMA 262 as the spec asks. Differences
 * a schema author must know: no \d \D (use [0-9]); no lazy quantifiers (*?), lookaround,
 * non-capturing groups (?:) or backreferences; glibc does accept \w \W \s \S \b \B as
 * extensions. Matching works on bytes in the process's locale (the daemons stay in "C"), so "."
 * matches one byte of a multi-byte character. Like ECMA, patterns are not anchored.
 */
#include <errno.h>
#include <float.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/json.h"
#include "sf/schema.h"
#include "sf/util.h"

#ifndef SF_BUILD_SCHEMA_DIR
#define SF_BUILD_SCHEMA_DIR "/usr/share/sf-net/schemas"
#endif

/* Bounds on subschema nesting: a self-referencing schema ({"$ref": "#"}) must not eat the stack. */
#define VALIDATE_MAX_DEPTH 64
#define COMPILE_MAX_DEPTH 128

struct pattern {
	const char *src; /* borrowed from the document; the lookup key is its address */
	regex_t re;
};

struct ref {
	const json_t *ref;    /* the "$ref" string in the document; the lookup key */
	const json_t *target; /* what it resolved to */
};

struct sf_schema {
	json_t *doc;
	struct pattern *patterns; /* sorted by src address */
	size_t n_patterns;
	struct ref *refs; /* sorted by ref address */
	size_t n_refs;
};

/* ---- lookup tables keyed by address ---- */

/* Both structs start with their key pointer. */
static int cmp_key(const void *a, const void *b)
{
	const void *ka = *(const void *const *)a, *kb = *(const void *const *)b;

	return ka < kb ? -1 : ka > kb;
}

static const regex_t *find_pattern(const struct sf_schema *s, const char *src)
{
	const struct pattern *p = NULL;

	if (s->n_patterns)
		p = bsearch(&src, s->patterns, s->n_patterns, sizeof(*s->patterns), cmp_key);
	return p ? &p->re : NULL;
}

static const json_t *find_ref(const struct sf_schema *s, const json_t *ref)
{
	const struct ref *r = NULL;

	if (s->n_refs)
		r = bsearch(&ref, s->refs, s->n_refs, sizeof(*s->refs), cmp_key);
	return r ? r->target : NULL;
}

/* ---- JSON helpers ---- */

/* long double holds every int64 exactly, so integers and reals compare by value. */
static long double number_value(const json_t *v)
{
	if (json_is_integer(v))
		return (long double)json_integer_value(v);
	return json_real_value(v);
}

/* A non-negative integral number that fits size_t (the compiler checked the keyword). */
static size_t count_value(const json_t *v)
{
	long double d = number_value(v);

	return d >= (long double)SIZE_MAX ? SIZE_MAX : (size_t)d;
}

/* json_equal(), except that numbers compare by value: 1 == 1.0 (JSON Schema equality). */
static bool values_equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *va;
	size_t i;

	if (json_is_number(a) && json_is_number(b))
		return number_value(a) == number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		json_array_foreach(a, i, va)
			if (!values_equal(va, json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		json_object_foreach((json_t *)a, key, va) {
			json_t *vb = json_object_get(b, key);

			if (!vb || !values_equal(va, vb))
				return false;
		}
		return true;
	}
	return json_equal(a, b); /* strings, true, false, null */
}

/* Shortest "%.*g" that reads back as the same double: 0.0001, not 0.00010000000000000000479. */
static void format_number(const json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v)) {
		(void)snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		(void)snprintf(buf, size, "%.*g", prec, json_real_value(v));
		if (strtod(buf, NULL) == json_real_value(v))
			return;
	}
}

static size_t utf8_length(const json_t *str)
{
	const unsigned char *p = (const unsigned char *)json_string_value(str);
	size_t n = 0, len = json_string_length(str);

	/* jansson guarantees valid UTF-8: count every byte that is not a continuation byte */
	for (size_t i = 0; i < len; i++)
		n += (p[i] & 0xC0) != 0x80;
	return n;
}

/* Remember the pointer length, append a token; pop() restores. A token that does not fit is
 * dropped, so an over-long pointer names an ancestor of the value. */
static size_t push(char *ptr, const char *token)
{
	size_t len = strlen(ptr);

	(void)sf_json_pointer_append(ptr, SF_JSON_POINTER_MAX, token);
	return len;
}

static size_t push_index(char *ptr, size_t i)
{
	char tok[24];

	(void)snprintf(tok, sizeof(tok), "%zu", i);
	return push(ptr, tok);
}

static void pop(char *ptr, size_t len)
{
	ptr[len] = '\0';
}

static const char *shown(const char *ptr)
{
	return *ptr ? ptr : "/";
}

/* ---- formats ---- */

/* Decimal 0..max without leading zeros or sign; advances *p past the digits. */
static bool parse_decimal(const char **p, unsigned max)
{
	const char *s = *p;
	unsigned v = 0;
	int n = 0;

	while (s[n] >= '0' && s[n] <= '9') {
		v = v * 10 + (unsigned)(s[n] - '0');
		if (++n > 3 || v > max)
			return false;
	}
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	*p = s + n;
	return true;
}

/* Dotted quad; sets *end to the first byte after it. */
static bool scan_ipv4(const char *s, const char **end)
{
	for (int i = 0; i < 4; i++) {
		if (i > 0 && *s++ != '.')
			return false;
		if (!parse_decimal(&s, 255))
			return false;
	}
	*end = s;
	return true;
}

static bool format_ipv4(const char *s)
{
	const char *end;

	return scan_ipv4(s, &end) && *end == '\0';
}

/* "a.b.c.d/n", n in 0..32. Host bits may be set: callers that care normalise the network. */
static bool format_ipv4_cidr(const char *s)
{
	const char *end;

	if (!scan_ipv4(s, &end) || *end != '/')
		return false;
	end++;
	return parse_decimal(&end, 32) && *end == '\0';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* xx:xx:xx:xx:xx:xx, either case. */
static bool format_mac(const char *s)
{
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? s[i] != ':' : !is_hex(s[i]))
			return false;
	}
	return s[17] == '\0';
}

static const struct {
	const char *name;
	bool (*check)(const char *s);
} formats[] = {
	{"uuid", sf_uuid_is_valid},
	{"ipv4", format_ipv4},
	{"ipv4-cidr", format_ipv4_cidr},
	{"mac", format_mac},
};

/* ---- compiling ---- */

enum kw_kind {
	KW_SCHEMA,	/* not, additionalProperties, additionalItems */
	KW_SCHEMA_MAP,	/* properties, patternProperties (keys are regexes), definitions */
	KW_SCHEMA_LIST, /* allOf, anyOf, oneOf: non-empty arrays of schemas */
	KW_ITEMS,	/* a schema, or an array of schemas */
	KW_COUNT,	/* a non-negative integer */
	KW_NUMBER,
	KW_POSITIVE, /* multipleOf */
	KW_BOOL,
	KW_STRING,
	KW_PATTERN,
	KW_STRINGS, /* required: an array of strings */
	KW_ARRAY,   /* enum */
	KW_TYPE,
};

/* The keywords whose values we check and descend into; const and unknown keywords take any. */
static const struct {
	const char *name;
	enum kw_kind kind;
} keywords[] = {
	{"type", KW_TYPE},
	{"enum", KW_ARRAY},
	{"format", KW_STRING},
	{"minimum", KW_NUMBER},
	{"maximum", KW_NUMBER},
	{"exclusiveMinimum", KW_NUMBER},
	{"exclusiveMaximum", KW_NUMBER},
	{"multipleOf", KW_POSITIVE},
	{"minLength", KW_COUNT},
	{"maxLength", KW_COUNT},
	{"pattern", KW_PATTERN},
	{"items", KW_ITEMS},
	{"additionalItems", KW_SCHEMA},
	{"minItems", KW_COUNT},
	{"maxItems", KW_COUNT},
	{"uniqueItems", KW_BOOL},
	{"required", KW_STRINGS},
	{"minProperties", KW_COUNT},
	{"maxProperties", KW_COUNT},
	{"properties", KW_SCHEMA_MAP},
	{"patternProperties", KW_SCHEMA_MAP},
	{"additionalProperties", KW_SCHEMA},
	{"definitions", KW_SCHEMA_MAP},
	{"allOf", KW_SCHEMA_LIST},
	{"anyOf", KW_SCHEMA_LIST},
	{"oneOf", KW_SCHEMA_LIST},
	{"not", KW_SCHEMA},
};

static const char *const type_names[] = {
	"null", "boolean", "object", "array", "number", "integer", "string",
};

struct compiler {
	struct sf_schema *s;
	struct sf_diag *diag;
	const void **seen; /* $ref targets already compiled */
	size_t n_seen;
	unsigned depth;
	char ptr[SF_JSON_POINTER_MAX]; /* where we are in the schema document */
};

static int compile_schema(struct compiler *c, const json_t *node);

static int bad_schema(struct compiler *c, int r, const char *rule, const char *what)
{
	sf_diag_set(c->diag, 500, c->ptr, rule, "schema %s: %s", shown(c->ptr), what);
	return r;
}

static int add_pattern(struct compiler *c, const char *src)
{
	struct sf_schema *s = c->s;
	struct pattern *p;
	char buf[128];
	int rc;

	for (size_t i = 0; i < s->n_patterns; i++)
		if (s->patterns[i].src == src)
			return 0; /* reached twice, e.g. through a $ref to a compiled subtree */
	s->patterns = sf_xrealloc(s->patterns, (s->n_patterns + 1) * sizeof(*s->patterns));
	p = &s->patterns[s->n_patterns];
	rc = regcomp(&p->re, src, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &p->re, buf, sizeof(buf));
		sf_diag_set(c->diag, 500, c->ptr, "pattern", "schema %s: bad regex '%s': %s",
			    shown(c->ptr), src, buf);
		return -EINVAL;
	}
	p->src = src;
	s->n_patterns++;
	return 0;
}

/* "#/a%25b" -> "/a%b": the URI fragment, percent-decoded, is a JSON pointer. */
static int fragment_to_pointer(const char *ref, char **ret_ptr)
{
	size_t n = strlen(ref);
	char *out = sf_xmalloc(n + 1), *o = out;

	for (const char *p = ref + 1; *p; p++) {
		int hi, lo;

		if (*p != '%') {
			*o++ = *p;
			continue;
		}
		hi = sf_hexval(p[1]);
		lo = hi < 0 ? -1 : sf_hexval(p[2]);
		if (lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return -EINVAL;
		}
		*o++ = (char)(hi * 16 + lo);
		p += 2;
	}
	*o = '\0';
	*ret_ptr = out;
	return 0;
}

static int compile_ref(struct compiler *c, const json_t *ref)
{
	struct sf_schema *s = c->s;
	const char *uri = json_string_value(ref);
	char *ptr = NULL, prev[SF_JSON_POINTER_MAX];
	json_t *target;
	int r;

	if (!uri)
		return bad_schema(c, -EINVAL, "$ref", "$ref must be a string");
	/* Only "#" and "#/pointer": other documents and "#name" anchors need $id resolution. */
	if (uri[0] != '#' || (uri[1] != '\0' && uri[1] != '/'))
		return bad_schema(c, -EOPNOTSUPP, "$ref",
				  "only $ref to a JSON pointer in this document is supported");
	r = fragment_to_pointer(uri, &ptr);
	if (r < 0)
		return bad_schema(c, r, "$ref", "bad %-escape in $ref");
	r = sf_json_pointer_get(s->doc, ptr, &target);
	if (r < 0) {
		sf_diag_set(c->diag, 500, c->ptr, "$ref", "schema %s: $ref '%s' does not resolve",
			    shown(c->ptr), uri);
		r = -EINVAL;
		goto out;
	}
	s->refs = sf_xrealloc(s->refs, (s->n_refs + 1) * sizeof(*s->refs));
	s->refs[s->n_refs++] = (struct ref){.ref = ref, .target = target};

	for (size_t i = 0; i < c->n_seen; i++)
		if (c->seen[i] == target)
			goto out; /* already compiled (or being compiled: a recursive schema) */
	c->seen = sf_xrealloc(c->seen, (c->n_seen + 1) * sizeof(*c->seen));
	c->seen[c->n_seen++] = target;

	/* Diagnose problems in the target at its own location. */
	memcpy(prev, c->ptr, sizeof(prev));
	(void)snprintf(c->ptr, sizeof(c->ptr), "%s", ptr);
	r = compile_schema(c, target);
	memcpy(c->ptr, prev, sizeof(prev));
out:
	free(ptr);
	return r;
}

static bool known_type(const json_t *name)
{
	for (size_t k = 0; k < SF_ARRAY_SIZE(type_names); k++)
		if (sf_streq(json_string_value(name), type_names[k]))
			return true;
	return false;
}

static int compile_type(struct compiler *c, const json_t *v)
{
	json_t *t;
	size_t i;

	if (json_is_string(v))
		return known_type(v) ? 0 : bad_schema(c, -EINVAL, "type", "unknown type name");
	if (!json_is_array(v))
		return bad_schema(c, -EINVAL, "type",
				  "type must be a string or an array of strings");
	json_array_foreach(v, i, t)
		if (!known_type(t))
			return bad_schema(c, -EINVAL, "type", "unknown type name");
	return 0;
}

static int compile_keyword(struct compiler *c, enum kw_kind kind, const char *name, const json_t *v)
{
	const char *key;
	json_t *sub;
	size_t i, saved;
	int r = 0;

	switch (kind) {
	case KW_SCHEMA:
		return compile_schema(c, v);
	case KW_ITEMS:
		if (!json_is_array(v))
			return compile_schema(c, v);
		/* fall through */
	case KW_SCHEMA_LIST:
		if (!json_is_array(v) || (kind == KW_SCHEMA_LIST && json_array_size(v) == 0))
			return bad_schema(c, -EINVAL, name, "must be a non-empty array of schemas");
		json_array_foreach(v, i, sub) {
			saved = push_index(c->ptr, i);
			r = compile_schema(c, sub);
			pop(c->ptr, saved);
			if (r < 0)
				return r;
		}
		return 0;
	case KW_SCHEMA_MAP:
		if (!json_is_object(v))
			return bad_schema(c, -EINVAL, name, "must be an object of schemas");
		json_object_foreach((json_t *)v, key, sub) {
			saved = push(c->ptr, key);
			if (sf_streq(name, "patternProperties"))
				r = add_pattern(c, key);
			if (r == 0)
				r = compile_schema(c, sub);
			pop(c->ptr, saved);
			if (r < 0)
				return r;
		}
		return 0;
	case KW_COUNT:
		if (!json_is_number(v) || !sf_json_is_integral(v) || number_value(v) < 0)
			return bad_schema(c, -EINVAL, name, "must be a non-negative integer");
		return 0;
	case KW_NUMBER:
	case KW_POSITIVE:
		if (!json_is_number(v) || (kind == KW_POSITIVE && number_value(v) <= 0))
			return bad_schema(c, -EINVAL, name,
					  kind == KW_POSITIVE ? "must be a number > 0"
							      : "must be a number");
		return 0;
	case KW_BOOL:
		return json_is_boolean(v) ? 0 : bad_schema(c, -EINVAL, name, "must be a boolean");
	case KW_STRING:
		return json_is_string(v) ? 0 : bad_schema(c, -EINVAL, name, "must be a string");
	case KW_PATTERN:
		if (!json_is_string(v))
			return bad_schema(c, -EINVAL, name, "must be a string");
		return add_pattern(c, json_string_value(v));
	case KW_STRINGS:
		if (!json_is_array(v))
			return bad_schema(c, -EINVAL, name, "must be an array of strings");
		json_array_foreach(v, i, sub)
			if (!json_is_string(sub))
				return bad_schema(c, -EINVAL, name, "must be an array of strings");
		return 0;
	case KW_ARRAY:
		return json_is_array(v) ? 0 : bad_schema(c, -EINVAL, name, "must be an array");
	case KW_TYPE:
		return compile_type(c, v);
	}
	return 0;
}

static int compile_schema(struct compiler *c, const json_t *node)
{
	const json_t *ref, *id;
	int r = 0;

	if (json_is_boolean(node))
		return 0;
	if (!json_is_object(node))
		return bad_schema(c, -EINVAL, "", "a schema must be an object or a boolean");
	if (c->depth >= COMPILE_MAX_DEPTH)
		return bad_schema(c, -EINVAL, "", "schema nested too deeply");

	/* A nested $id would change the base URI that "#/..." refers to below it. */
	id = json_object_get(node, "$id");
	if (node != c->s->doc && json_is_string(id) && json_string_value(id)[0] != '#')
		return bad_schema(c, -EOPNOTSUPP, "$id", "$id below the root is not supported");

	c->depth++;
	/* Draft 7: a schema with $ref is just that reference; its other keywords are ignored. */
	ref = json_object_get(node, "$ref");
	if (ref) {
		size_t saved = push(c->ptr, "$ref");

		r = compile_ref(c, ref);
		pop(c->ptr, saved);
		c->depth--;
		return r;
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(keywords); i++) {
		const json_t *v = json_object_get(node, keywords[i].name);
		size_t saved;

		if (!v)
			continue;
		saved = push(c->ptr, keywords[i].name);
		r = compile_keyword(c, keywords[i].kind, keywords[i].name, v);
		pop(c->ptr, saved);
		if (r < 0)
			break;
	}
	c->depth--;
	return r;
}

/* ---- validating ---- */

struct validator {
	const struct sf_schema *s;
	struct sf_diag *diag; /* NULL while probing the branches of anyOf, oneOf and not */
	struct sf_diag *out;  /* the caller's, for errors that abort validation (-ELOOP) */
	unsigned depth;
	char ptr[SF_JSON_POINTER_MAX]; /* where we are in the instance */
};

static int validate(struct validator *v, const json_t *schema, const json_t *inst);

static int fail(struct validator *v, const char *rule, const char *fmt, ...) SF_PRINTF(3, 4);
static int fail(struct validator *v, const char *rule, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	if (!v->diag)
		return -EINVAL;
	va_start(ap, fmt);
	(void)vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sf_diag_set(v->diag, 400, v->ptr, rule, "%s: %s", shown(v->ptr), what);
}

/* Validate without a diagnosis: anyOf/oneOf/not only need the verdict. */
static int probe(struct validator *v, const json_t *schema, const json_t *inst)
{
	struct sf_diag *saved = v->diag;
	int r;

	v->diag = NULL;
	r = validate(v, schema, inst);
	v->diag = saved;
	return r;
}

static int validate_at_key(struct validator *v, const char *key, const json_t *schema,
			   const json_t *inst)
{
	size_t saved = push(v->ptr, key);
	int r = validate(v, schema, inst);

	pop(v->ptr, saved);
	return r;
}

static int validate_at_index(struct validator *v, size_t i, const json_t *schema,
			     const json_t *inst)
{
	size_t saved = push_index(v->ptr, i);
	int r = validate(v, schema, inst);

	pop(v->ptr, saved);
	return r;
}

static const char *instance_type(const json_t *inst)
{
	static const char *const names[] = {
		[JSON_OBJECT] = "object",   [JSON_ARRAY] = "array", [JSON_STRING] = "string",
		[JSON_INTEGER] = "integer", [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
		[JSON_FALSE] = "boolean",   [JSON_NULL] = "null",
	};

	return names[json_typeof(inst)];
}

static bool type_matches(const json_t *name, const json_t *inst)
{
	const char *t = json_string_value(name);

	if (sf_streq(t, "integer"))
		return json_is_number(inst) && sf_json_is_integral(inst);
	if (sf_streq(t, "number"))
		return json_is_number(inst);
	return sf_streq(t, instance_type(inst));
}

static int check_type(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *type = json_object_get(schema, "type");
	char expected[128] = "";
	json_t *t;
	size_t i;

	if (!type)
		return 0;
	if (json_is_string(type)) {
		if (type_matches(type, inst))
			return 0;
		return fail(v, "type", "expected %s, got %s", json_string_value(type),
			    instance_type(inst));
	}
	json_array_foreach(type, i, t) {
		size_t n = strlen(expected);

		if (type_matches(t, inst))
			return 0;
		(void)snprintf(expected + n, sizeof(expected) - n, "%s%s", i ? " or " : "",
			       json_string_value(t));
	}
	return fail(v, "type", "expected %s, got %s", expected, instance_type(inst));
}

static int check_enum_const(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *allowed = json_object_get(schema, "enum");
	const json_t *c = json_object_get(schema, "const");
	json_t *e;
	size_t i;

	if (c && !values_equal(c, inst))
		return fail(v, "const", "does not equal the constant value");
	if (!allowed)
		return 0;
	json_array_foreach(allowed, i, e)
		if (values_equal(e, inst))
			return 0;
	return fail(v, "enum", "is not one of the allowed values");
}

static bool is_multiple_of(const json_t *inst, const json_t *divisor)
{
	double q, a, dist;

	if (json_is_integer(inst) && json_is_integer(divisor))
		return json_integer_value(inst) % json_integer_value(divisor) == 0;
	q = (double)(number_value(inst) / number_value(divisor));
	a = q < 0 ? -q : q;
	if (!(a <= DBL_MAX))
		return false; /* overflowed to infinity */
	if (a >= 0x1p53)
		return true; /* no fraction left to measure */
	/* 0.0075 / 0.0001 is 74.99999999999999 in binary floating point: allow for rounding */
	dist = a - (double)(int64_t)(a + 0.5);
	return (dist < 0 ? -dist : dist) <= 1e-9 * (a > 1 ? a : 1);
}

static int check_number(struct validator *v, const json_t *schema, const json_t *inst)
{
	static const struct {
		const char *kw, *op;
		bool exclusive, upper;
	} bounds[] = {
		{"minimum", ">=", false, false},
		{"maximum", "<=", false, true},
		{"exclusiveMinimum", ">", true, false},
		{"exclusiveMaximum", "<", true, true},
	};
	long double x = number_value(inst);
	const json_t *m;
	char num[32];

	if (!json_is_number(inst))
		return 0;
	for (size_t i = 0; i < SF_ARRAY_SIZE(bounds); i++) {
		const json_t *b = json_object_get(schema, bounds[i].kw);
		long double limit;
		bool ok;

		if (!b)
			continue;
		limit = number_value(b);
		if (bounds[i].upper)
			ok = bounds[i].exclusive ? x < limit : x <= limit;
		else
			ok = bounds[i].exclusive ? x > limit : x >= limit;
		if (!ok) {
			format_number(b, num, sizeof(num));
			return fail(v, bounds[i].kw, "must be %s %s", bounds[i].op, num);
		}
	}
	m = json_object_get(schema, "multipleOf");
	if (m && !is_multiple_of(inst, m)) {
		format_number(m, num, sizeof(num));
		return fail(v, "multipleOf", "must be a multiple of %s", num);
	}
	return 0;
}

static int check_string(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *min = json_object_get(schema, "minLength");
	const json_t *max = json_object_get(schema, "maxLength");
	const json_t *pattern = json_object_get(schema, "pattern");
	const json_t *format = json_object_get(schema, "format");
	const char *str = json_string_value(inst);
	size_t len;

	if (!str)
		return 0;
	len = utf8_length(inst);
	if (min && len < count_value(min))
		return fail(v, "minLength", "must be at least %zu characters long",
			    count_value(min));
	if (max && len > count_value(max))
		return fail(v, "maxLength", "must be at most %zu characters long",
			    count_value(max));
	if (pattern) {
		const regex_t *re = find_pattern(v->s, json_string_value(pattern));

		if (regexec(re, str, 0, NULL, 0) != 0)
			return fail(v, "pattern", "does not match pattern '%s'",
				    json_string_value(pattern));
	}
	if (format) {
		for (size_t i = 0; i < SF_ARRAY_SIZE(formats); i++)
			if (sf_streq(json_string_value(format), formats[i].name) &&
			    !formats[i].check(str))
				return fail(v, "format", "does not match format %s",
					    formats[i].name);
	}
	return 0;
}

static int check_items(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *items = json_object_get(schema, "items");
	const json_t *extra = json_object_get(schema, "additionalItems");
	size_t i, n_tuple;
	json_t *e;
	int r;

	if (!items)
		return 0;
	if (!json_is_array(items)) {
		json_array_foreach(inst, i, e) {
			r = validate_at_index(v, i, items, e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	/* tuple form: items[i] for element i, additionalItems for the rest */
	n_tuple = json_array_size(items);
	json_array_foreach(inst, i, e) {
		if (i < n_tuple) {
			r = validate_at_index(v, i, json_array_get(items, i), e);
		} else if (json_is_false(extra)) {
			size_t saved = push_index(v->ptr, i);

			r = fail(v, "additionalItems", "additional item not allowed");
			pop(v->ptr, saved);
		} else if (extra) {
			r = validate_at_index(v, i, extra, e);
		} else {
			break;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_array(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *min = json_object_get(schema, "minItems");
	const json_t *max = json_object_get(schema, "maxItems");
	size_t n = json_array_size(inst);

	if (!json_is_array(inst))
		return 0;
	if (min && n < count_value(min))
		return fail(v, "minItems", "must have at least %zu items", count_value(min));
	if (max && n > count_value(max))
		return fail(v, "maxItems", "must have at most %zu items", count_value(max));
	if (json_is_true(json_object_get(schema, "uniqueItems"))) {
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (values_equal(json_array_get(inst, i), json_array_get(inst, j)))
					return fail(v, "uniqueItems", "items %zu and %zu are equal",
						    i, j);
	}
	return check_items(v, schema, inst);
}

/* properties, then each patternProperties match, else additionalProperties. */
static int check_member(struct validator *v, const json_t *schema, const char *key,
			const json_t *value)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *patterns = json_object_get(schema, "patternProperties");
	const json_t *extra = json_object_get(schema, "additionalProperties");
	const json_t *sub = json_object_get(props, key);
	bool matched = sub != NULL;
	const char *re_src;
	json_t *re_schema;
	size_t saved;
	int r;

	if (sub) {
		r = validate_at_key(v, key, sub, value);
		if (r < 0)
			return r;
	}
	json_object_foreach((json_t *)patterns, re_src, re_schema) {
		if (regexec(find_pattern(v->s, re_src), key, 0, NULL, 0) != 0)
			continue;
		matched = true;
		r = validate_at_key(v, key, re_schema, value);
		if (r < 0)
			return r;
	}
	if (matched || !extra)
		return 0;
	if (!json_is_false(extra))
		return validate_at_key(v, key, extra, value);
	saved = push(v->ptr, key);
	r = fail(v, "additionalProperties", "additional property not allowed");
	pop(v->ptr, saved);
	return r;
}

static int check_object(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *required = json_object_get(schema, "required");
	const json_t *min = json_object_get(schema, "minProperties");
	const json_t *max = json_object_get(schema, "maxProperties");
	size_t n = json_object_size(inst);
	const char *key;
	json_t *e;
	size_t i;
	int r;

	if (!json_is_object(inst))
		return 0;
	json_array_foreach(required, i, e)
		if (!json_object_get(inst, json_string_value(e)))
			return fail(v, "required", "missing required property '%s'",
				    json_string_value(e));
	if (min && n < count_value(min))
		return fail(v, "minProperties", "must have at least %zu properties",
			    count_value(min));
	if (max && n > count_value(max))
		return fail(v, "maxProperties", "must have at most %zu properties",
			    count_value(max));
	json_object_foreach((json_t *)inst, key, e) {
		r = check_member(v, schema, key, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_combinators(struct validator *v, const json_t *schema, const json_t *inst)
{
	const json_t *all = json_object_get(schema, "allOf");
	const json_t *any = json_object_get(schema, "anyOf");
	const json_t *one = json_object_get(schema, "oneOf");
	const json_t *not = json_object_get(schema, "not");
	unsigned matches = 0;
	json_t *sub;
	size_t i;
	int r;

	json_array_foreach(all, i, sub) {
		r = validate(v, sub, inst);
		if (r < 0)
			return r; /* the failing branch's own diagnosis is the most useful */
	}
	if (any) {
		r = -EINVAL;
		json_array_foreach(any, i, sub) {
			r = probe(v, sub, inst);
			if (r != -EINVAL)
				break; /* valid, or an error that aborts validation */
		}
		if (r == -EINVAL)
			return fail(v, "anyOf", "does not match any schema in anyOf");
		if (r < 0)
			return r;
	}
	json_array_foreach(one, i, sub) {
		r = probe(v, sub, inst);
		if (r == 0)
			matches++;
		else if (r != -EINVAL)
			return r;
	}
	if (one && matches != 1)
		return matches ? fail(v, "oneOf",
				      "matches %u schemas in oneOf, expected exactly one", matches)
			       : fail(v, "oneOf", "does not match any schema in oneOf");
	if (not ) {
		r = probe(v, not, inst);
		if (r == 0)
			return fail(v, "not", "must not match the schema in not");
		if (r != -EINVAL)
			return r;
	}
	return 0;
}

static int validate(struct validator *v, const json_t *schema, const json_t *inst)
{
	static int (*const checks[])(struct validator *, const json_t *, const json_t *) = {
		check_type,  check_enum_const, check_number,	  check_string,
		check_array, check_object,     check_combinators,
	};
	const json_t *ref;
	int r = 0;

	if (json_is_true(schema))
		return 0;
	if (json_is_false(schema))
		return fail(v, "false", "no value is allowed here");
	if (v->depth >= VALIDATE_MAX_DEPTH) {
		sf_diag_set(v->out, 400, v->ptr, "depth",
			    "%s: schema nesting deeper than %d at this value (recursive $ref?)",
			    shown(v->ptr), VALIDATE_MAX_DEPTH);
		return -ELOOP;
	}
	v->depth++;
	ref = json_object_get(schema, "$ref");
	if (ref) {
		r = validate(v, find_ref(v->s, ref), inst);
	} else {
		for (size_t i = 0; i < SF_ARRAY_SIZE(checks) && r == 0; i++)
			r = checks[i](v, schema, inst);
	}
	v->depth--;
	return r;
}

int sf_schema_validate(const struct sf_schema *s, const json_t *instance, struct sf_diag *diag)
{
	struct validator v = {.s = s, .diag = diag, .out = diag};

	return validate(&v, s->doc, instance);
}

int sf_schema_new(json_t *doc, struct sf_schema **ret_schema, struct sf_diag *diag)
{
	struct compiler c = {.diag = diag};
	struct sf_schema *s;
	int r;

	s = sf_xcalloc(1, sizeof(*s));
	s->doc = json_incref(doc);
	c.s = s;
	c.seen = sf_xmalloc(sizeof(*c.seen));
	c.seen[c.n_seen++] = doc; /* "#" needs no second pass */
	r = compile_schema(&c, doc);
	free(c.seen);
	if (r < 0) {
		sf_schema_free(s);
		return r;
	}
	if (s->n_patterns) /* qsort and bsearch want a non-NULL base even for no elements */
		qsort(s->patterns, s->n_patterns, sizeof(*s->patterns), cmp_key);
	if (s->n_refs)
		qsort(s->refs, s->n_refs, sizeof(*s->refs), cmp_key);
	*ret_schema = s;
	return 0;
}

int sf_schema_load_file(const char *path, struct sf_schema **ret_schema, struct sf_diag *diag)
{
	json_t *doc;
	int r;

	r = sf_json_load_file(path, &doc, diag);
	if (r < 0)
		return r;
	r = sf_schema_new(doc, ret_schema, diag);
	json_decref(doc);
	return r;
}

void sf_schema_free(struct sf_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_patterns; i++)
		regfree(&s->patterns[i].re);
	free(s->patterns);
	free(s->refs);
	json_decref(s->doc);
	free(s);
}

const json_t *sf_schema_document(const struct sf_schema *s)
{
	return s->doc;
}

const char *sf_schema_dir(void)
{
	const char *dir = getenv("SF_SCHEMA_DIR");

	return dir && *dir ? dir : SF_BUILD_SCHEMA_DIR;
}
