// SPDX-License-Identifier: Apache-2.0
/* The pure parts of sf-api's authentication: name rules, tokens and claim checks, and the
 * namespace body schemas. The Redis-backed parts are covered by tests/api/test_auth.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <sodium.h>

#include "../../api/src/auth.h"
#include "sf/json.h"
#include "sf/schema.h"
#include "sf/util.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define ISSUER "shakenfist"
#define NOW 1700000000

static void test_namespace_names(void **state)
{
	static const char *good[] = {
		"system",   "t-abc123",
		"ci.net_1", "A",
		"0abc",	    "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc"};
	static const char *bad[] = {
		"",
		"-a",
		".a",
		"_a",
		"a:keys",
		"a/b",
		"a b",
		"ä",
		"a\n",
		"a*",
		"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(good); i++)
		assert_true(api_namespace_name_is_valid(good[i]));
	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++)
		assert_false(api_namespace_name_is_valid(bad[i]));
	assert_false(api_namespace_name_is_valid(NULL));
}

static void test_key_names(void **state)
{
	(void)state;

	assert_true(api_key_name_is_legal("deploy"));
	assert_true(api_key_name_is_legal("service_keys")); /* only the exact name is reserved */
	assert_true(api_key_name_is_legal("my_service_key"));
	assert_false(api_key_name_is_legal("service_key"));
	assert_false(api_key_name_is_legal("_service_key"));
	assert_false(api_key_name_is_legal("_service_key_abcde"));
	assert_false(api_key_name_is_legal(NULL));
}

static void test_truthiness(void **state)
{
	static const char *falsy[] = {"null", "false", "0", "0.0", "\"\"", "[]", "{}"};
	static const char *truthy[] = {"true", "1", "-1", "0.5", "\"0\"", "[0]", "{\"a\": null}"};
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(falsy); i++) {
		json_t *v = json_loads(falsy[i], JSON_DECODE_ANY, NULL);

		assert_non_null(v);
		assert_false(api_json_is_truthy(v));
		json_decref(v);
	}
	for (size_t i = 0; i < SF_ARRAY_SIZE(truthy); i++) {
		json_t *v = json_loads(truthy[i], JSON_DECODE_ANY, NULL);

		assert_non_null(v);
		assert_true(api_json_is_truthy(v));
		json_decref(v);
	}
	assert_false(api_json_is_truthy(NULL));
}

static void test_token_round_trip(void **state)
{
	struct api_token_claims tc;
	json_t *claims = NULL, *sub;
	char *token = NULL;
	(void)state;

	assert_int_equal(
		api_token_new(SECRET, ISSUER, "t-1", "deploy", "nonce-1", NOW, 900, &token), 0);
	assert_int_equal(api_token_decode(SECRET, token, &claims), 0);

	/* upstream's claims, sub being a JSON list */
	sub = json_object_get(claims, "sub");
	assert_true(json_is_array(sub));
	assert_string_equal(json_string_value(json_array_get(sub, 0)), "t-1");
	assert_string_equal(json_string_value(json_array_get(sub, 1)), "deploy");
	assert_string_equal(json_string_value(json_object_get(claims, "iss")), ISSUER);
	assert_string_equal(json_string_value(json_object_get(claims, "type")), "access");
	assert_true(json_is_false(json_object_get(claims, "fresh")));
	assert_int_equal(json_integer_value(json_object_get(claims, "iat")), NOW);
	assert_int_equal(json_integer_value(json_object_get(claims, "nbf")), NOW);
	assert_int_equal(json_integer_value(json_object_get(claims, "exp")), NOW + 900);
	assert_true(sf_uuid_is_valid(json_string_value(json_object_get(claims, "jti"))));

	assert_int_equal(api_token_claims_check(claims, ISSUER, NOW + 1, &tc), 0);
	assert_string_equal(tc.namespace, "t-1");
	assert_string_equal(tc.keyname, "deploy");
	assert_string_equal(tc.nonce, "nonce-1");
	assert_int_equal(tc.exp, NOW + 900);

	/* expiry is exclusive; nbf allows 60 s of clock skew */
	assert_int_equal(api_token_claims_check(claims, ISSUER, NOW + 899, &tc), 0);
	assert_int_equal(api_token_claims_check(claims, ISSUER, NOW + 900, &tc), -EKEYEXPIRED);
	assert_int_equal(api_token_claims_check(claims, ISSUER, NOW - 60, &tc), 0);
	assert_int_equal(api_token_claims_check(claims, ISSUER, NOW - 61, &tc), -EAGAIN);
	/* another zone's token */
	assert_int_equal(api_token_claims_check(claims, "otherzone", NOW, &tc), -EBADMSG);

	json_decref(claims);
	free(token);
}

/* Tokens that must not decode: other secret, tampering, other algorithms, junk. */
static char *b64url(const char *s)
{
	size_t len = sodium_base64_ENCODED_LEN(strlen(s), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	char *out = sf_xmalloc(len);

	sodium_bin2base64(out, len, (const unsigned char *)s, strlen(s),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return out;
}

static char *token_with_alg(jwt_alg_t alg)
{
	jwt_t *jwt = NULL;
	char *token;

	assert_int_equal(jwt_new(&jwt), 0);
	assert_int_equal(jwt_add_grants_json(jwt, "{\"sub\": [\"system\", \"deploy\"], "
						  "\"type\": \"access\", \"iss\": \"shakenfist\", "
						  "\"nonce\": \"n\", \"exp\": 4000000000}"),
			 0);
	assert_int_equal(jwt_set_alg(jwt, alg, (const unsigned char *)SECRET, strlen(SECRET)), 0);
	token = jwt_encode_str(jwt);
	assert_non_null(token);
	jwt_free(jwt);
	return token;
}

static void test_token_rejected(void **state)
{
	json_t *claims = NULL;
	char *token = NULL, *h, *p, *forged;
	(void)state;

	assert_int_equal(api_token_new(SECRET, ISSUER, "system", "deploy", "n", NOW, 900, &token),
			 0);
	assert_int_equal(api_token_decode("another secret", token, &claims), -EBADMSG);

	/* flip one character of the payload: the signature no longer matches */
	p = strchr(token, '.') + 1;
	p[2] = p[2] == 'A' ? 'B' : 'A';
	assert_int_equal(api_token_decode(SECRET, token, &claims), -EBADMSG);
	free(token);

	/* HS512 with the right secret is still not HS256 */
	token = token_with_alg(JWT_ALG_HS512);
	assert_int_equal(api_token_decode(SECRET, token, &claims), -EBADMSG);
	free(token);
	token = token_with_alg(JWT_ALG_HS256);
	assert_int_equal(api_token_decode(SECRET, token, &claims), 0);
	json_decref(claims);
	free(token);

	/* alg none, with and without a trailing signature */
	h = b64url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	p = b64url("{\"sub\":[\"system\",\"deploy\"],\"type\":\"access\",\"iss\":\"shakenfist\","
		   "\"nonce\":\"n\",\"exp\":4000000000}");
	forged = sf_xasprintf("%s.%s.", h, p);
	assert_int_equal(api_token_decode(SECRET, forged, &claims), -EBADMSG);
	free(forged);
	forged = sf_xasprintf("%s.%s", h, p);
	assert_int_equal(api_token_decode(SECRET, forged, &claims), -EBADMSG);
	free(forged);
	free(h);
	free(p);

	assert_int_equal(api_token_decode(SECRET, "", &claims), -EBADMSG);
	assert_int_equal(api_token_decode(SECRET, "a.b.c", &claims), -EBADMSG);
	assert_int_equal(api_token_decode(SECRET, "not a token", &claims), -EBADMSG);
}

static void test_claims_rejected(void **state)
{
	static const char *bad[] = {
		/* sub must be a list of two non-empty strings */
		"{\"sub\": \"system\", \"type\": \"access\", \"iss\": \"shakenfist\", \"nonce\": "
		"\"n\", \"exp\": 4000000000}",
		"{\"sub\": [\"system\"], \"type\": \"access\", \"iss\": \"shakenfist\", \"nonce\": "
		"\"n\", \"exp\": 4000000000}",
		"{\"sub\": [\"system\", \"a\", \"b\"], \"type\": \"access\", \"iss\": "
		"\"shakenfist\", \"nonce\": \"n\", \"exp\": 4000000000}",
		"{\"sub\": [\"system\", 1], \"type\": \"access\", \"iss\": \"shakenfist\", "
		"\"nonce\": \"n\", \"exp\": 4000000000}",
		"{\"sub\": [\"\", \"deploy\"], \"type\": \"access\", \"iss\": \"shakenfist\", "
		"\"nonce\": \"n\", \"exp\": 4000000000}",
		/* a refresh token, no type, no nonce, no or a non-integer exp, a string nbf */
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"refresh\", \"iss\": "
		"\"shakenfist\", \"nonce\": \"n\", \"exp\": 4000000000}",
		"{\"sub\": [\"system\", \"deploy\"], \"iss\": \"shakenfist\", \"nonce\": \"n\", "
		"\"exp\": 4000000000}",
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"access\", \"iss\": "
		"\"shakenfist\", "
		"\"exp\": 4000000000}",
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"access\", \"iss\": "
		"\"shakenfist\", "
		"\"nonce\": \"n\"}",
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"access\", \"iss\": "
		"\"shakenfist\", "
		"\"nonce\": \"n\", \"exp\": \"4000000000\"}",
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"access\", \"iss\": "
		"\"shakenfist\", "
		"\"nonce\": \"n\", \"exp\": 4000000000, \"nbf\": \"0\"}",
		/* no issuer */
		"{\"sub\": [\"system\", \"deploy\"], \"type\": \"access\", \"nonce\": \"n\", "
		"\"exp\": 4000000000}",
	};
	struct api_token_claims tc;
	(void)state;

	for (size_t i = 0; i < SF_ARRAY_SIZE(bad); i++) {
		json_t *claims = json_loads(bad[i], 0, NULL);

		assert_non_null(claims);
		assert_int_equal(api_token_claims_check(claims, ISSUER, NOW, &tc), -EBADMSG);
		json_decref(claims);
	}
}

static int validate(const char *schema_file, const char *body)
{
	struct sf_schema *s = NULL;
	struct sf_diag diag = {0};
	char *path = sf_xasprintf("%s/api/%s", SF_BUILD_SCHEMA_DIR, schema_file);
	json_t *doc = json_loads(body, 0, NULL);
	int r;

	assert_non_null(doc);
	assert_int_equal(sf_schema_load_file(path, &s, &diag), 0);
	r = sf_schema_validate(s, doc, &diag);
	sf_schema_free(s);
	json_decref(doc);
	free(path);
	return r;
}

static void test_schemas(void **state)
{
	(void)state;

	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": \"t-1.a_b\"}"), 0);
	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": \"\"}"), 0);
	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": null}"), 0);
	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": \"a:keys\"}"), -EINVAL);
	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": \"-a\"}"), -EINVAL);
	assert_int_equal(validate("namespaces-post.json", "{\"namespace\": 5}"), -EINVAL);
	assert_int_equal(validate("namespaces-post.json", "{\"banana\": 1}"), -EINVAL);
	assert_int_equal(validate("namespaces-post.json",
				  "{\"namespace\": \"a\", \"key_name\": \"my key\", \"key\": 1}"),
			 0);
	assert_int_equal(
		validate("namespaces-post.json", "{\"namespace\": \"a\", \"key_name\": \"a/b\"}"),
		-EINVAL);
	assert_int_equal(validate("namespaces-keys-post.json", "{\"key_name\": \"a\\tb\"}"),
			 -EINVAL);
	assert_int_equal(
		validate("namespaces-keys-post.json", "{\"key_name\": \"k\", \"key\": \"s\"}"), 0);
	/* POST /auth leaves the types to the handler, which orders its errors as upstream does */
	assert_int_equal(validate("auth-post.json", "{\"namespace\": 1, \"key\": [1]}"), 0);
	assert_int_equal(validate("auth-post.json", "{\"namespace\": \"a\", \"keyname\": \"k\"}"),
			 -EINVAL);
	assert_int_equal(validate("namespaces-metadata-post.json",
				  "{\"key\": \"k\", \"value\": {\"a\": [1]}}"),
			 0);
	assert_int_equal(validate("namespaces-trust-post.json", "{\"external_namespace\": 1}"),
			 -EINVAL);
	assert_int_equal(
		validate("namespaces-key-put.json", "{\"key\": \"s\", \"key_name\": \"k\"}"),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_namespace_names), cmocka_unit_test(test_key_names),
		cmocka_unit_test(test_truthiness),	cmocka_unit_test(test_token_round_trip),
		cmocka_unit_test(test_token_rejected),	cmocka_unit_test(test_claims_rejected),
		cmocka_unit_test(test_schemas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
