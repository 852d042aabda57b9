// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/json.h"
#include "sf/log.h"

SF_LOG_MODULE("json");

#define LOAD_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

int sf_json_load_buf(const char *buf, size_t len, json_t **ret_value, struct sf_diag *diag)
{
	json_error_t err;
	json_t *v;

	v = json_loadb(buf, len, LOAD_FLAGS, &err);
	if (!v)
		return sf_diag_set(diag, 400, "", "", "invalid JSON at line %d, column %d: %s",
				   err.line, err.column, err.text);
	*ret_value = v;
	return 0;
}

int sf_json_load_file(const char *path, json_t **ret_value, struct sf_diag *diag)
{
	json_error_t err;
	json_t *v;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	v = json_loadf(f, LOAD_FLAGS, &err);
	if (v)
		*ret_value = v;
	else
		r = sf_diag_set(diag, 400, "", "", "%s:%d:%d: invalid JSON: %s", path, err.line,
				err.column, err.text);
	(void)fclose(f); /* read only: nothing to flush */
	return r;
}

char *sf_json_dumps(const json_t *value)
{
	char *s;

	if (!value)
		return NULL;
	/* Only fails on OOM: every value jansson can hold (finite reals, UTF-8) can be encoded. */
	s = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s) {
		sf_log_err("out of memory serialising JSON");
		abort();
	}
	return s;
}

bool sf_json_is_integral(const json_t *value)
{
	double d, a;

	if (json_is_integer(value))
		return true;
	if (!json_is_real(value))
		return false;
	d = json_real_value(value); /* jansson reals are finite */
	a = d < 0 ? -d : d;
	/* from 2^53 on every double is an integer; below, the cast to int64 is exact */
	return a >= 0x1p53 || d == (double)(int64_t)d;
}

static int get_member(const json_t *obj, const char *key, json_t **ret_v)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v))
		return -ENOENT;
	*ret_v = v;
	return 0;
}

int sf_json_get_str(const json_t *obj, const char *key, const char **ret_str)
{
	json_t *v;
	int r;

	r = get_member(obj, key, &v);
	if (r < 0)
		return r;
	if (!json_is_string(v))
		return -EINVAL;
	*ret_str = json_string_value(v);
	return 0;
}

int sf_json_get_int(const json_t *obj, const char *key, int64_t *ret_int)
{
	json_t *v;
	double d;
	int r;

	r = get_member(obj, key, &v);
	if (r < 0)
		return r;
	if (json_is_integer(v)) {
		*ret_int = json_integer_value(v);
		return 0;
	}
	if (!json_is_real(v))
		return -EINVAL;
	d = json_real_value(v);
	/* -2^63 is exact as a double; 2^63 is the first value out of range. */
	if (!sf_json_is_integral(v) || d < -0x1p63 || d >= 0x1p63)
		return -EINVAL;
	*ret_int = (int64_t)d;
	return 0;
}

int sf_json_get_bool(const json_t *obj, const char *key, bool *ret_bool)
{
	json_t *v;
	int r;

	r = get_member(obj, key, &v);
	if (r < 0)
		return r;
	if (!json_is_boolean(v))
		return -EINVAL;
	*ret_bool = json_is_true(v);
	return 0;
}

int sf_json_get_object(const json_t *obj, const char *key, json_t **ret_obj)
{
	json_t *v;
	int r;

	r = get_member(obj, key, &v);
	if (r < 0)
		return r;
	if (!json_is_object(v))
		return -EINVAL;
	*ret_obj = v;
	return 0;
}

int sf_json_get_array(const json_t *obj, const char *key, json_t **ret_array)
{
	json_t *v;
	int r;

	r = get_member(obj, key, &v);
	if (r < 0)
		return r;
	if (!json_is_array(v))
		return -EINVAL;
	*ret_array = v;
	return 0;
}

int sf_json_pointer_append(char *buf, size_t size, const char *token)
{
	size_t len = strnlen(buf, size), n = len;

	if (len + 1 >= size)
		return -ENAMETOOLONG;
	buf[n++] = '/';
	for (const char *p = token; *p; p++) {
		const char *esc = *p == '~' ? "~0" : *p == '/' ? "~1" : NULL;
		size_t need = esc ? 2 : 1;

		if (n + need >= size) {
			buf[len] = '\0';
			return -ENAMETOOLONG;
		}
		if (esc) {
			buf[n++] = esc[0];
			buf[n++] = esc[1];
		} else {
			buf[n++] = *p;
		}
	}
	buf[n] = '\0';
	return 0;
}

/* Decode one reference token (up to the next '/' or the end) into a new string. */
static int pointer_token(const char *p, const char **ret_end, char **ret_token)
{
	size_t n = strcspn(p, "/");
	char *tok = sf_xmalloc(n + 1), *o = tok;

	for (size_t i = 0; i < n; i++) {
		if (p[i] != '~') {
			*o++ = p[i];
		} else if (i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
			*o++ = p[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			free(tok);
			return -EINVAL;
		}
	}
	*o = '\0';
	*ret_end = p + n;
	*ret_token = tok;
	return 0;
}

/* RFC 6901 array index: "0" or digits without a leading zero; "-" (past the end) never exists. */
static int array_index(const char *tok, size_t *ret_index)
{
	unsigned long long idx = 0;

	if (!*tok || (tok[0] == '0' && tok[1]))
		return -ENOENT;
	for (const char *c = tok; *c; c++) {
		if (*c < '0' || *c > '9' || idx > (ULLONG_MAX - 9) / 10)
			return -ENOENT;
		idx = idx * 10 + (unsigned)(*c - '0');
	}
	if (idx > SIZE_MAX)
		return -ENOENT;
	*ret_index = (size_t)idx;
	return 0;
}

int sf_json_pointer_get(const json_t *doc, const char *ptr, json_t **ret_value)
{
	json_t *cur = (json_t *)doc; /* jansson getters take const and return non-const */
	const char *p = ptr;

	if (*p && *p != '/')
		return -EINVAL;
	while (*p) {
		char *tok;
		size_t idx;
		int r;

		r = pointer_token(p + 1, &p, &tok);
		if (r < 0)
			return r;
		if (json_is_object(cur))
			cur = json_object_get(cur, tok);
		else if (json_is_array(cur) && array_index(tok, &idx) == 0)
			cur = json_array_get(cur, idx);
		else
			cur = NULL;
		free(tok);
		if (!cur)
			return -ENOENT;
	}
	*ret_value = cur;
	return 0;
}
