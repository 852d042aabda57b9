// SPDX-License-Identifier: Apache-2.0
/*
 * Authentication and the namespace store (spec 1.3, 1.4, 7).
 *
 * Redis layout (every key starts with the configured prefix, default "sf:"):
 *
 *   namespaces                 set of namespace names (the index)
 *   namespace:<ns>             hash: name, state ("created"), created (epoch). Exists exactly
 *                              while the namespace does.
 *   namespace:<ns>:keys        hash: key name -> JSON {"hash": argon2id string
 *                              (crypto_pwhash_str), "nonce": uuid, "created": epoch}
 *   namespace:<ns>:metadata    hash: metadata key -> the value as JSON text
 *   namespace:<ns>:trust       set of namespaces <ns> trusts fully (always holds "system")
 *   auth:secret                the generated JWT signing secret (SET NX by whichever sf-api
 *                              starts first), unless the configuration sets auth_secret
 *
 * Namespace names are restricted (api_namespace_name_is_valid: no ':'), so "namespace:<ns>"
 * never collides with another namespace's ":keys" hash. Writes into a namespace's hashes and
 * sets go through a Lua script that checks the namespace record first, and deletion removes
 * all four keys in one script, so a key entry exists only while its namespace does: the token
 * check relies on that and asks Redis one HGET per request (sent in one pipeline with the
 * handler's first reads, see http.c).
 *
 * Keys are never stored or logged in plain text. argon2id (libsodium, OPSLIMIT/MEMLIMIT
 * INTERACTIVE: about 130 ms and 64 MiB per hash on the development machine) runs only when a
 * key is stored and at POST /auth; a request carrying a token costs one HGET, and one HMAC the
 * first time a thread sees the token (see "verified tokens, per thread").
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <sodium.h>

#include "auth.h"
#include "sf/envelope.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/util.h"

SF_LOG_MODULE("auth");

#define NS_NAME_MAX 63
#define NBF_LEEWAY_S 60
#define DEFAULT_SYSTEM_KEY_FILE "run/sf-api-system.key"

/* The HS256 secret, settled once by api_auth_bootstrap() before any HTTP thread starts and
 * read-only afterwards. */
static char *auth_secret;

/* ---- pure helpers ---- */

bool api_namespace_name_is_valid(const char *ns)
{
	size_t len;

	if (!ns)
		return false;
	len = strlen(ns);
	if (len == 0 || len > NS_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = ns[i];
		bool alnum =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return false;
	}
	return true;
}

/* Upstream reserves these for keys it mints to proxy requests between its nodes (spec 1.0):
 * namespace creation rejected "service_key" and key creation names starting "_service_key". We
 * reject both forms on every path. */
bool api_key_name_is_legal(const char *name)
{
	return name && strcmp(name, "service_key") != 0 && !sf_str_startswith(name, "_service_key");
}

bool api_json_is_truthy(const json_t *value)
{
	if (!value)
		return false;
	switch (json_typeof(value)) {
	case JSON_NULL:
	case JSON_FALSE:
		return false;
	case JSON_TRUE:
		return true;
	case JSON_INTEGER:
		return json_integer_value(value) != 0;
	case JSON_REAL:
		return json_real_value(value) != 0.0;
	case JSON_STRING:
		return json_string_length(value) > 0;
	case JSON_ARRAY:
		return json_array_size(value) > 0;
	case JSON_OBJECT:
		return json_object_size(value) > 0;
	}
	return false;
}

int api_token_new(const char *secret, const char *issuer, const char *ns, const char *keyname,
		  const char *nonce, int64_t now, long lifetime_s, char **ret_token)
{
	char jti[SF_UUID_STRLEN];
	jwt_t *jwt = NULL;
	json_t *claims;
	char *claims_s, *token;
	int r;

	sf_uuid_generate(jti);
	claims = json_pack("{s:[s,s], s:s, s:s, s:b, s:s, s:I, s:I, s:I, s:s}", "sub", ns, keyname,
			   "iss", issuer, "nonce", nonce, "fresh", 0, "type", "access", "iat",
			   (json_int_t)now, "nbf", (json_int_t)now, "exp",
			   (json_int_t)now + lifetime_s, "jti", jti);
	if (!claims)
		return -EINVAL; /* a string that is not UTF-8 */
	claims_s = sf_json_dumps(claims);
	json_decref(claims);

	r = -jwt_new(&jwt);
	if (r < 0)
		goto out;
	r = -jwt_add_grants_json(jwt, claims_s);
	if (r < 0)
		goto out;
	r = -jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret));
	if (r < 0)
		goto out;
	token = jwt_encode_str(jwt);
	if (!token) {
		r = errno > 0 ? -errno : -ENOMEM;
		goto out;
	}
	*ret_token = token;
out:
	jwt_free(jwt);
	free(claims_s);
	return r;
}

int api_token_decode(const char *secret, const char *token, json_t **ret_claims)
{
	jwt_t *jwt = NULL;
	char *grants = NULL;
	json_t *claims;
	int r = -EBADMSG;

	if (!secret || !*secret || !token)
		return -EINVAL;
	/* libjwt 1.10 checks the signature with the algorithm the token names and refuses "none"
	 * when a key is given; we still insist on HS256 so no other algorithm is ever accepted.
	 * It does not look at exp or nbf: api_token_claims_check() does. */
	if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0)
		return -EBADMSG;
	if (jwt_get_alg(jwt) != JWT_ALG_HS256)
		goto out;
	grants = jwt_get_grants_json(jwt, NULL);
	if (!grants)
		goto out;
	claims = json_loads(grants, JSON_REJECT_DUPLICATES, NULL);
	if (!claims)
		goto out;
	if (!json_is_object(claims)) {
		json_decref(claims);
		goto out;
	}
	*ret_claims = claims;
	r = 0;
out:
	free(grants);
	jwt_free(jwt);
	return r;
}

static int claim_int(const json_t *claims, const char *name, int64_t *ret)
{
	const json_t *v = json_object_get(claims, name);

	if (!json_is_integer(v))
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

static bool copy_str(const json_t *v, char *buf, size_t size)
{
	return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < size &&
	       !memchr(json_string_value(v), '\0', json_string_length(v)) &&
	       sf_bprintf(buf, size, "%s", json_string_value(v)) == 0;
}

int api_token_claims_check(const json_t *claims, const char *issuer, int64_t now,
			   struct api_token_claims *ret_claims)
{
	struct api_token_claims tc = {.nbf = INT64_MIN};
	const json_t *sub = json_object_get(claims, "sub");

	if (!json_is_object(claims))
		return -EBADMSG;
	if (claim_int(claims, "exp", &tc.exp) < 0)
		return -EBADMSG;
	if (json_object_get(claims, "nbf")) {
		if (claim_int(claims, "nbf", &tc.nbf) < 0)
			return -EBADMSG;
		if (now + NBF_LEEWAY_S < tc.nbf)
			return -EAGAIN;
	}
	if (!sf_streq(json_string_value(json_object_get(claims, "type")), "access"))
		return -EBADMSG;
	if (!sf_streq(json_string_value(json_object_get(claims, "iss")), issuer))
		return -EBADMSG;
	if (!json_is_array(sub) || json_array_size(sub) != 2 ||
	    !copy_str(json_array_get(sub, 0), tc.namespace, sizeof(tc.namespace)) ||
	    !copy_str(json_array_get(sub, 1), tc.keyname, sizeof(tc.keyname)))
		return -EBADMSG;
	if (!copy_str(json_object_get(claims, "nonce"), tc.nonce, sizeof(tc.nonce)))
		return -EBADMSG;
	if (now >= tc.exp)
		return -EKEYEXPIRED;
	*ret_claims = tc;
	return 0;
}

int api_token_claims_time_check(const struct api_token_claims *claims, int64_t now)
{
	if (now + NBF_LEEWAY_S < claims->nbf)
		return -EAGAIN;
	if (now >= claims->exp)
		return -EKEYEXPIRED;
	return 0;
}

/* ---- verified tokens, per thread ---- */

/* A client sends the same token with many requests, and checking it costs an HMAC and three
 * JSON parses. What depends on the token alone (signature, algorithm, static claims) is kept
 * here for the last few tokens that passed; the time checks and the key check (revocation)
 * still run on every request. The signing secret never changes after bootstrap. Tokens are
 * compared in constant time (sodium_memcmp), so a lookup does not tell how much of a token
 * matched one kept here. */
#define TOKEN_CACHE_SIZE 8
#define TOKEN_CACHE_MAX_LEN 1024 /* longer tokens are checked every time */

struct token_cache_entry {
	size_t len; /* 0: empty */
	char token[TOKEN_CACHE_MAX_LEN];
	struct api_token_claims claims;
};

static __thread struct token_cache_entry token_cache[TOKEN_CACHE_SIZE];
static __thread unsigned token_cache_next; /* the entry to replace next (round robin) */

static const struct api_token_claims *token_cache_find(const char *token, size_t len)
{
	for (size_t i = 0; i < TOKEN_CACHE_SIZE; i++)
		if (token_cache[i].len == len && len > 0 &&
		    sodium_memcmp(token_cache[i].token, token, len) == 0)
			return &token_cache[i].claims;
	return NULL;
}

static void token_cache_add(const char *token, size_t len, const struct api_token_claims *claims)
{
	struct token_cache_entry *e = &token_cache[token_cache_next];

	if (len == 0 || len > TOKEN_CACHE_MAX_LEN)
		return;
	token_cache_next = (token_cache_next + 1) % TOKEN_CACHE_SIZE;
	memcpy(e->token, token, len);
	e->len = len;
	e->claims = *claims;
}

/* ---- Redis helpers ---- */

/* Create a namespace unless it exists. KEYS: record, keys, trust, index. ARGV: name, created,
 * first key name ("" for none), its record. */
static const char create_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
	"redis.call('HSET', KEYS[1], 'name', ARGV[1], 'state', 'created', 'created', ARGV[2])\n"
	"redis.call('SADD', KEYS[3], 'system')\n"
	"redis.call('SADD', KEYS[4], ARGV[1])\n"
	"if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end\n"
	"return 1\n";

/* Write into one of a namespace's hashes or sets only while the namespace exists (-1 if not).
 * KEYS: record, target. ARGV: op, field or member, value. hsetxx: -2 when the field is absent. */
static const char guarded_lua[] =
	"if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end\n"
	"local op = ARGV[1]\n"
	"if op == 'hset' then return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end\n"
	"if op == 'hsetnx' then return redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) end\n"
	"if op == 'hsetxx' then\n"
	"  if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return -2 end\n"
	"  return redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])\n"
	"end\n"
	"if op == 'sadd' then return redis.call('SADD', KEYS[2], ARGV[2]) end\n"
	"return redis.error_reply('ERR unknown op')\n";

/* KEYS: record, keys, metadata, trust, index. ARGV: name. 0 when there was no namespace. */
static const char delete_lua[] = "if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end\n"
				 "redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])\n"
				 "redis.call('SREM', KEYS[5], ARGV[1])\n"
				 "return 1\n";

static struct sf_kv_script *create_script, *guarded_script, *delete_script;
static pthread_once_t scripts_once = PTHREAD_ONCE_INIT;

static void scripts_init(void)
{
	if (sf_kv_script_new(create_lua, &create_script) < 0 ||
	    sf_kv_script_new(guarded_lua, &guarded_script) < 0 ||
	    sf_kv_script_new(delete_lua, &delete_script) < 0)
		abort(); /* constant input: only OOM can fail */
}

static int run_script(struct sf_kv *kv, const struct sf_kv_script *s, size_t nkeys,
		      const char *const *keys, size_t nargs, const char *const *args,
		      long long *ret_value)
{
	struct sf_kv_reply *reply;
	int r;

	pthread_once(&scripts_once, scripts_init);
	r = sf_kv_script_run(kv, s, nkeys, keys, nargs, args, &reply);
	if (r < 0)
		return r;
	if (reply->type == SF_KV_REPLY_INT)
		*ret_value = reply->integer;
	else
		r = -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

static char *ns_key(struct sf_kv *kv, const char *ns, const char *suffix)
{
	return sf_kv_key(kv, "namespace:%s%s", ns, suffix);
}

static int guarded(struct sf_kv *kv, const char *ns, const char *suffix, const char *op,
		   const char *field, const char *value, long long *ret_value)
{
	char *keys[2] = {ns_key(kv, ns, ""), ns_key(kv, ns, suffix)};
	const char *args[3] = {op, field, value ? value : ""};
	long long v = 0;
	int r;

	r = run_script(kv, guarded_script, 2, (const char *const *)keys, 3, args, &v);
	if (r == 0 && v == -1)
		r = -ENOENT;
	if (r == 0 && ret_value)
		*ret_value = v;
	free(keys[0]);
	free(keys[1]);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A JSON list of the string elements of an array reply, sorted. */
static json_t *sorted_list(const struct sf_kv_reply *reply)
{
	const char **v = sf_xcalloc(reply->n + 1, sizeof(*v));
	json_t *list = json_array();
	size_t n = 0;

	for (size_t i = 0; i < reply->n; i++)
		if (reply->elems[i]->type == SF_KV_REPLY_STR)
			v[n++] = reply->elems[i]->str;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_string(v[i]));
	free(v);
	return list;
}

static bool is_array(const struct sf_kv_reply *reply)
{
	return reply && reply->type == SF_KV_REPLY_ARRAY;
}

/* CMD on the namespace's key with suffix, with arg (may be NULL): sf_kv_cmd()'s result, or
 * -ENOENT for a name no namespace can have. ret_reply may be NULL. */
static int ns_cmd(struct sf_kv *kv, const char *ns, const char *suffix, const char *cmd,
		  const char *arg, struct sf_kv_reply **ret_reply)
{
	char *key;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	key = ns_key(kv, ns, suffix);
	r = sf_kv_cmd(kv, ret_reply, cmd, key, arg, NULL);
	free(key);
	return r;
}

/* ns_cmd() of a command that answers a count (EXISTS, HDEL): 0 when it is not 0, else -ENOENT. */
static int ns_cmd_count(struct sf_kv *kv, const char *ns, const char *suffix, const char *cmd,
			const char *arg)
{
	struct sf_kv_reply *reply;
	int r;

	r = ns_cmd(kv, ns, suffix, cmd, arg, &reply);
	if (r < 0)
		return r;
	if (reply->type != SF_KV_REPLY_INT)
		r = -EPROTO;
	else if (reply->integer == 0)
		r = -ENOENT;
	sf_kv_reply_free(reply);
	return r;
}

/* ns_cmd() of a command that answers an array (HKEYS, HGETALL), converted to JSON. */
static int ns_cmd_json(struct sf_kv *kv, const char *ns, const char *suffix, const char *cmd,
		       json_t *(*convert)(const struct sf_kv_reply *reply), json_t **ret_json)
{
	struct sf_kv_reply *reply;
	int r;

	r = ns_cmd(kv, ns, suffix, cmd, NULL, &reply);
	if (r < 0)
		return r;
	if (is_array(reply))
		*ret_json = convert(reply);
	else
		r = -EPROTO;
	sf_kv_reply_free(reply);
	return r;
}

/* ---- the namespace store ---- */

int api_ns_exists(struct sf_kv *kv, const char *ns)
{
	return ns_cmd_count(kv, ns, "", "EXISTS", NULL);
}

bool api_namespace_exists(struct api_ctx *ctx, const char *ns)
{
	int r = api_ns_exists(ctx->kv, ns);

	if (r < 0 && r != -ENOENT)
		sf_log_warn_errno(r, "cannot tell whether namespace '%s' exists", ns);
	return r == 0;
}

/* The stored record of a key: {"hash", "nonce", "created"} with a fresh nonce. */
static int key_record_new(const char *key, char **ret_record)
{
	char hash[crypto_pwhash_STRBYTES], nonce[SF_UUID_STRLEN];
	json_t *rec;

	if (crypto_pwhash_str(hash, key, strlen(key), crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -ENOMEM; /* argon2 could not get its memory */
	sf_uuid_generate(nonce);
	rec = json_pack("{s:s, s:s, s:f}", "hash", hash, "nonce", nonce, "created", sf_now_epoch());
	*ret_record = sf_json_dumps(rec);
	json_decref(rec);
	return 0;
}

int api_ns_create(struct sf_kv *kv, const char *ns, const char *key_name, const char *key)
{
	char *keys[4] = {0}, *record = NULL, *created;
	const char *args[4];
	long long v = 0;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -EINVAL;
	if (key_name) {
		r = key_record_new(key, &record);
		if (r < 0)
			return r;
	}
	keys[0] = ns_key(kv, ns, "");
	keys[1] = ns_key(kv, ns, ":keys");
	keys[2] = ns_key(kv, ns, ":trust");
	keys[3] = sf_kv_key(kv, "namespaces");
	created = sf_xasprintf("%.6f", sf_now_epoch());
	args[0] = ns;
	args[1] = created;
	args[2] = key_name ? key_name : "";
	args[3] = record ? record : "";
	r = run_script(kv, create_script, 4, (const char *const *)keys, 4, args, &v);
	if (r == 0 && v == 0)
		r = -EEXIST;
	for (size_t i = 0; i < SF_ARRAY_SIZE(keys); i++)
		free(keys[i]);
	free(created);
	free(record);
	return r;
}

int api_ns_delete(struct sf_kv *kv, const char *ns)
{
	struct sf_kv_reply *reply = NULL;
	struct sf_kv_batch *b = NULL;
	char *keys[5] = {0};
	const char *args[1] = {ns};
	long long v = 0;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	keys[0] = ns_key(kv, ns, "");
	keys[1] = ns_key(kv, ns, ":keys");
	keys[2] = ns_key(kv, ns, ":metadata");
	keys[3] = ns_key(kv, ns, ":trust");
	keys[4] = sf_kv_key(kv, "namespaces");
	r = run_script(kv, delete_script, 5, (const char *const *)keys, 1, args, &v);
	if (r < 0)
		goto out;
	if (v == 0) {
		r = -ENOENT;
		goto out;
	}

	/* Forget the trust other namespaces placed in this one, so a namespace created later under
	 * the same name does not inherit it. */
	r = sf_kv_cmd(kv, &reply, "SMEMBERS", keys[4], NULL);
	if (r < 0)
		goto out;
	b = sf_kv_batch_new();
	for (size_t i = 0; is_array(reply) && i < reply->n; i++) {
		char *trust;

		if (reply->elems[i]->type != SF_KV_REPLY_STR)
			continue;
		trust = ns_key(kv, reply->elems[i]->str, ":trust");
		sf_kv_batch_add(b, "SREM", trust, ns, NULL);
		free(trust);
	}
	sf_kv_reply_free(reply);
	reply = NULL;
	if (sf_kv_batch_size(b) > 0)
		r = sf_kv_exec(kv, b, &reply);
out:
	sf_kv_reply_free(reply);
	sf_kv_batch_free(b);
	for (size_t i = 0; i < SF_ARRAY_SIZE(keys); i++)
		free(keys[i]);
	return r;
}

int api_ns_list(struct sf_kv *kv, char ***ret_names, size_t *ret_n)
{
	struct sf_kv_reply *reply;
	char *key = sf_kv_key(kv, "namespaces");
	char **names;
	size_t n = 0;
	int r;

	r = sf_kv_cmd(kv, &reply, "SMEMBERS", key, NULL);
	free(key);
	if (r < 0)
		return r;
	if (!is_array(reply)) {
		sf_kv_reply_free(reply);
		return -EPROTO;
	}
	names = sf_xcalloc(reply->n + 1, sizeof(*names));
	for (size_t i = 0; i < reply->n; i++)
		if (reply->elems[i]->type == SF_KV_REPLY_STR)
			names[n++] = sf_xstrdup(reply->elems[i]->str);
	sf_kv_reply_free(reply);
	qsort(names, n, sizeof(*names), cmp_str);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

/* A JSON object from an HGETALL reply whose values are JSON text (kept as strings when they
 * do not parse). */
static json_t *metadata_object(const struct sf_kv_reply *reply)
{
	json_t *md = json_object();

	for (size_t i = 0; is_array(reply) && i + 1 < reply->n; i += 2) {
		const struct sf_kv_reply *k = reply->elems[i], *v = reply->elems[i + 1];
		json_t *value;

		if (k->type != SF_KV_REPLY_STR || v->type != SF_KV_REPLY_STR)
			continue;
		value = json_loadb(v->str, v->len, JSON_DECODE_ANY, NULL);
		json_object_set_new(md, k->str, value ? value : json_stringn(v->str, v->len));
	}
	return md;
}

static const char *hash_field(const struct sf_kv_reply *reply, const char *field)
{
	for (size_t i = 0; is_array(reply) && i + 1 < reply->n; i += 2)
		if (reply->elems[i]->type == SF_KV_REPLY_STR &&
		    reply->elems[i + 1]->type == SF_KV_REPLY_STR &&
		    strcmp(reply->elems[i]->str, field) == 0)
			return reply->elems[i + 1]->str;
	return NULL;
}

int api_ns_view(struct sf_kv *kv, const char *ns, json_t **ret_view)
{
	struct sf_kv_reply *reply = NULL;
	struct sf_kv_batch *b;
	const char *suffixes[] = {"", ":keys", ":trust", ":metadata"};
	const char *cmds[] = {"HGETALL", "HKEYS", "SMEMBERS", "HGETALL"};
	const char *state;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	b = sf_kv_batch_new();
	for (size_t i = 0; i < SF_ARRAY_SIZE(suffixes); i++) {
		char *key = ns_key(kv, ns, suffixes[i]);

		sf_kv_batch_add(b, cmds[i], key, NULL);
		free(key);
	}
	r = sf_kv_exec(kv, b, &reply);
	sf_kv_batch_free(b);
	if (r < 0)
		return r;
	if (!is_array(reply) || reply->n != 4) {
		r = -EPROTO;
		goto out;
	}
	for (size_t i = 0; i < 4; i++)
		if (!is_array(reply->elems[i])) {
			r = -EPROTO;
			goto out;
		}
	if (reply->elems[0]->n == 0) {
		r = -ENOENT;
		goto out;
	}
	state = hash_field(reply->elems[0], "state");
	*ret_view = json_pack("{s:s, s:o, s:{s:o}, s:s, s:o, s:i}", "name", ns, "keys",
			      sorted_list(reply->elems[1]), "trust", "full",
			      sorted_list(reply->elems[2]), "state", state ? state : "created",
			      "metadata", metadata_object(reply->elems[3]), "version", 5);
out:
	sf_kv_reply_free(reply);
	return r;
}

int api_ns_trusts(struct sf_kv *kv, const char *ns, const char *caller, bool *ret_trusted)
{
	struct sf_kv_reply *reply = NULL;
	struct sf_kv_batch *b;
	char *record, *trust;
	int r;

	if (!api_namespace_name_is_valid(ns)) {
		*ret_trusted = false;
		return 0;
	}
	record = ns_key(kv, ns, "");
	trust = ns_key(kv, ns, ":trust");
	b = sf_kv_batch_new();
	sf_kv_batch_add(b, "EXISTS", record, NULL);
	sf_kv_batch_add(b, "SISMEMBER", trust, caller, NULL);
	r = sf_kv_exec(kv, b, &reply);
	sf_kv_batch_free(b);
	free(record);
	free(trust);
	if (r < 0)
		return r;
	if (!is_array(reply) || reply->n != 2 || reply->elems[0]->type != SF_KV_REPLY_INT ||
	    reply->elems[1]->type != SF_KV_REPLY_INT) {
		r = -EPROTO;
	} else {
		bool exists = reply->elems[0]->integer == 1;
		bool trusted = sf_streq(caller, ns) || sf_streq(caller, API_SYSTEM_NAMESPACE) ||
			       reply->elems[1]->integer == 1;

		*ret_trusted = exists && trusted;
	}
	sf_kv_reply_free(reply);
	return r;
}

int api_ns_key_set(struct sf_kv *kv, const char *ns, const char *key_name, const char *key,
		   unsigned flags)
{
	const char *op = "hset";
	char *record = NULL;
	long long v = 0;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	if (flags & API_NS_KEY_CREATE_ONLY)
		op = "hsetnx";
	else if (flags & API_NS_KEY_REPLACE_ONLY)
		op = "hsetxx";
	r = key_record_new(key, &record);
	if (r < 0)
		return r;
	r = guarded(kv, ns, ":keys", op, key_name, record, &v);
	free(record);
	if (r < 0)
		return r;
	if (v == -2)
		return -ENOENT;
	if ((flags & API_NS_KEY_CREATE_ONLY) && v == 0)
		return -EEXIST;
	return 0;
}

int api_ns_key_delete(struct sf_kv *kv, const char *ns, const char *key_name)
{
	return ns_cmd_count(kv, ns, ":keys", "HDEL", key_name);
}

int api_ns_key_names(struct sf_kv *kv, const char *ns, json_t **ret_names)
{
	return ns_cmd_json(kv, ns, ":keys", "HKEYS", sorted_list, ret_names);
}

struct key_entry {
	const char *name;
	const char *record;
	size_t len;
};

static int cmp_key_entry(const void *a, const void *b)
{
	return strcmp(((const struct key_entry *)a)->name, ((const struct key_entry *)b)->name);
}

/* The hash and nonce of a stored key record. */
static int key_record_parse(const char *record, size_t len, json_t **ret_rec, const char **ret_hash,
			    const char **ret_nonce)
{
	json_t *rec = json_loadb(record, len, 0, NULL);
	const char *hash = json_string_value(json_object_get(rec, "hash"));
	const char *nonce = json_string_value(json_object_get(rec, "nonce"));

	if (!hash || !nonce) {
		json_decref(rec);
		return -EBADMSG;
	}
	*ret_rec = rec;
	*ret_hash = hash;
	*ret_nonce = nonce;
	return 0;
}

int api_ns_key_match(struct sf_kv *kv, const char *ns, const char *key, char **ret_key_name,
		     char **ret_nonce)
{
	struct sf_kv_reply *reply;
	struct key_entry *entries;
	size_t n = 0;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -EACCES;
	r = ns_cmd(kv, ns, ":keys", "HGETALL", NULL, &reply);
	if (r < 0)
		return r;
	if (!is_array(reply)) {
		sf_kv_reply_free(reply);
		return -EPROTO;
	}
	entries = sf_xcalloc(reply->n / 2 + 1, sizeof(*entries));
	for (size_t i = 0; i + 1 < reply->n; i += 2)
		if (reply->elems[i]->type == SF_KV_REPLY_STR &&
		    reply->elems[i + 1]->type == SF_KV_REPLY_STR)
			entries[n++] =
				(struct key_entry){reply->elems[i]->str, reply->elems[i + 1]->str,
						   reply->elems[i + 1]->len};
	qsort(entries, n, sizeof(*entries), cmp_key_entry);

	r = -EACCES;
	for (size_t i = 0; i < n && r == -EACCES; i++) {
		const char *hash, *nonce;
		json_t *rec;

		if (key_record_parse(entries[i].record, entries[i].len, &rec, &hash, &nonce) < 0) {
			sf_log_warn("namespace '%s': key '%s' has a malformed record, ignoring", ns,
				    entries[i].name);
			continue;
		}
		if (crypto_pwhash_str_verify(hash, key, strlen(key)) == 0) {
			*ret_key_name = sf_xstrdup(entries[i].name);
			*ret_nonce = sf_xstrdup(nonce);
			r = 0;
		}
		json_decref(rec);
	}
	free(entries);
	sf_kv_reply_free(reply);
	return r;
}

/* The nonce of a key record, as key_record_parse() finds it. The key check of every request
 * reads the record of the token's key, the same bytes for every request of a client, so the
 * last record this thread parsed is kept with its nonce (the record comes from Redis, not from
 * the client). */
#define NONCE_MEMO_MAX 512

static __thread struct {
	size_t len; /* 0: empty */
	char record[NONCE_MEMO_MAX];
	char nonce[128];
} nonce_memo;

static int record_nonce(const char *record, size_t len, char **ret_nonce /* may be NULL */)
{
	const char *hash, *nonce;
	json_t *rec;
	int r;

	if (len > 0 && len == nonce_memo.len && memcmp(record, nonce_memo.record, len) == 0) {
		if (ret_nonce)
			*ret_nonce = sf_xstrdup(nonce_memo.nonce);
		return 0;
	}
	r = key_record_parse(record, len, &rec, &hash, &nonce);
	if (r < 0)
		return r;
	nonce_memo.len = 0;
	if (len <= NONCE_MEMO_MAX &&
	    sf_bprintf(nonce_memo.nonce, sizeof(nonce_memo.nonce), "%s", nonce) == 0) {
		memcpy(nonce_memo.record, record, len);
		nonce_memo.len = len;
	}
	if (ret_nonce)
		*ret_nonce = sf_xstrdup(nonce);
	json_decref(rec);
	return 0;
}

/* The stored record of one key: 0 with its nonce (free it) and whether secret matches it
 * (when secret is not NULL); -ENOENT when there is no such key (or namespace). */
static int key_lookup(struct sf_kv *kv, const char *ns, const char *key_name, const char *secret,
		      char **ret_nonce, bool *ret_match)
{
	struct sf_kv_reply *reply;
	const char *hash, *nonce;
	json_t *rec;
	int r;

	r = ns_cmd(kv, ns, ":keys", "HGET", key_name, &reply);
	if (r < 0)
		return r;
	if (reply->type == SF_KV_REPLY_NIL)
		r = -ENOENT;
	else if (reply->type != SF_KV_REPLY_STR)
		r = -EPROTO;
	else if (!ret_match) /* the key check of a request */
		r = record_nonce(reply->str, reply->len, ret_nonce);
	else
		r = key_record_parse(reply->str, reply->len, &rec, &hash, &nonce);
	if (r == 0 && ret_match) {
		*ret_match = secret && crypto_pwhash_str_verify(hash, secret, strlen(secret)) == 0;
		if (ret_nonce)
			*ret_nonce = sf_xstrdup(nonce);
		json_decref(rec);
	}
	sf_kv_reply_free(reply);
	return r;
}

int api_ns_metadata_get(struct sf_kv *kv, const char *ns, json_t **ret_metadata)
{
	return ns_cmd_json(kv, ns, ":metadata", "HGETALL", metadata_object, ret_metadata);
}

int api_ns_metadata_set(struct sf_kv *kv, const char *ns, const char *key, const json_t *value)
{
	char *text;
	int r;

	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	text = sf_json_dumps(value);
	r = guarded(kv, ns, ":metadata", "hset", key, text, NULL);
	free(text);
	return r;
}

int api_ns_metadata_delete(struct sf_kv *kv, const char *ns, const char *key)
{
	return ns_cmd(kv, ns, ":metadata", "HDEL", key, NULL);
}

int api_ns_trust_add(struct sf_kv *kv, const char *ns, const char *external)
{
	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	return guarded(kv, ns, ":trust", "sadd", external, NULL, NULL);
}

int api_ns_trust_remove(struct sf_kv *kv, const char *ns, const char *external)
{
	if (!api_namespace_name_is_valid(ns))
		return -ENOENT;
	if (strcmp(external, API_SYSTEM_NAMESPACE) == 0)
		return 0; /* every namespace trusts system, for good (spec 7) */
	return ns_cmd(kv, ns, ":trust", "SREM", external, NULL);
}

void api_ns_audit(struct api_ctx *ctx, const char *ns, const char *message, json_t *extra)
{
	int r = api_event(ctx, SF_OBJECT_NAMESPACE, ns, SF_EVENT_AUDIT, message, extra);

	if (r < 0)
		sf_log_warn_errno(r, "namespace '%s': recording audit event '%s' failed", ns,
				  message);
	json_decref(extra);
}

/* ---- tokens on requests ---- */

int api_auth_token_check(struct api_ctx *ctx, const char *authorization_header,
			 struct api_token_claims *ret_claims, struct api_response *resp)
{
	const struct api_token_claims *cached;
	struct api_token_claims tc;
	int64_t now = (int64_t)time(NULL);
	const char *token;
	json_t *claims = NULL;
	int r;

	if (!auth_secret)
		return -ENOKEY; /* api_auth_bootstrap() did not run: a programming error */
	if (!authorization_header || !*authorization_header)
		return api_error(resp, 401, "missing Authorization header");
	if (strncasecmp(authorization_header, "Bearer ", 7) != 0)
		return api_error(resp, 401, "bad Authorization header, expected 'Bearer <JWT>'");
	token = authorization_header + 7;
	token += strspn(token, " ");

	cached = token_cache_find(token, strlen(token));
	if (cached) {
		r = api_token_claims_time_check(cached, now);
		if (r == 0)
			tc = *cached;
	} else {
		if (api_token_decode(auth_secret, token, &claims) < 0)
			return api_error(resp, 401, "invalid JWT in Authorization header");
		r = api_token_claims_check(claims, ctx->cfg->zone, now, &tc);
		json_decref(claims);
		if (r == 0)
			token_cache_add(token, strlen(token), &tc);
	}
	if (r == -EKEYEXPIRED)
		return api_error(resp, 401, "token expired");
	if (r == -EAGAIN)
		return api_error(resp, 401, "token not yet valid");
	if (r < 0)
		return api_error(resp, 401, "invalid token");
	*ret_claims = tc;
	return 0;
}

void api_auth_prefetch(struct api_ctx *ctx, const struct api_token_claims *claims)
{
	char *key;

	/* key_lookup() asks nothing for a name no namespace can have */
	if (!api_namespace_name_is_valid(claims->namespace))
		return;
	key = ns_key(ctx->kv, claims->namespace, ":keys"); /* as key_lookup() asks */
	sf_kv_prefetch_cmd(ctx->kv, "HGET", key, claims->keyname, NULL);
	free(key);
}

/* Upstream adds an audit event "token used to authenticate request" to the caller's namespace
 * on every authenticated call (spec 1.3). We deliberately do not: it would put one event per
 * API call into the event stream. Failed logins, revoked tokens and changes to namespaces and
 * keys are audited instead. */
int api_auth_key_check(struct api_ctx *ctx, const struct api_token_claims *tc,
		       struct api_caller *ret_caller, struct api_response *resp)
{
	struct api_caller caller = {0};
	char *nonce = NULL;
	int r;

	/* The signature is ours, so the token was issued for this key; is the key still the
	 * same? A key entry exists only while its namespace does (see the layout above). */
	r = key_lookup(ctx->kv, tc->namespace, tc->keyname, NULL, &nonce, NULL);
	if (r < 0 && r != -ENOENT && r != -EBADMSG)
		return r;
	if (r < 0 || strcmp(nonce, tc->nonce) != 0) {
		free(nonce);
		sf_log_info_rl("revoked token presented for namespace '%s' key '%s'", tc->namespace,
			       tc->keyname);
		if (api_ns_exists(ctx->kv, tc->namespace) == 0)
			api_ns_audit(ctx, tc->namespace, "attempt to use revoked token",
				     json_pack("{s:s}", "keyname", tc->keyname));
		return api_error(resp, 401, "token revoked");
	}
	free(nonce);

	memcpy(caller.namespace, tc->namespace, sizeof(caller.namespace));
	memcpy(caller.keyname, tc->keyname, sizeof(caller.keyname));
	caller.is_system = strcmp(caller.namespace, API_SYSTEM_NAMESPACE) == 0;
	*ret_caller = caller;
	return 0;
}

int api_auth_login(struct api_ctx *ctx, const char *ns, const char *key, char **ret_token)
{
	char *key_name = NULL, *nonce = NULL;
	int r;

	r = api_ns_key_match(ctx->kv, ns, key, &key_name, &nonce);
	if (r < 0)
		return r;
	r = api_token_new(auth_secret, ctx->cfg->zone, ns, key_name, nonce, (int64_t)time(NULL),
			  ctx->cfg->token_minutes * 60, ret_token);
	if (r == 0)
		sf_log_debug("token issued for namespace '%s' key '%s'", ns, key_name);
	free(key_name);
	free(nonce);
	return r;
}

/* ---- bootstrap ---- */

/* 32 random bytes, base64url without padding (43 characters). */
static char *random_secret(void)
{
	unsigned char raw[32];
	char *out = sf_xmalloc(
		sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING));

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(
		out,
		sodium_base64_ENCODED_LEN(sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
		raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return out;
}

static void secret_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

static int secret_settle(struct api_ctx *ctx)
{
	char *key, *value = NULL, *fresh;
	int r;

	if (ctx->cfg->auth_secret && *ctx->cfg->auth_secret) {
		if (strlen(ctx->cfg->auth_secret) < 32)
			sf_log_warn("auth_secret is shorter than 32 characters");
		secret_free(auth_secret);
		auth_secret = sf_xstrdup(ctx->cfg->auth_secret);
		return 0;
	}
	key = sf_kv_key(ctx->kv, "auth:secret");
	r = sf_kv_get(ctx->kv, key, &value);
	if (r == -ENOENT) {
		fresh = random_secret();
		r = sf_kv_set(ctx->kv, key, fresh, 0, SF_KV_SET_NX);
		secret_free(fresh);
		if (r == 0)
			sf_log_info("generated the JWT signing secret and stored it in Redis");
		if (r == 0 || r == -EEXIST) /* another sf-api was quicker: use its secret */
			r = sf_kv_get(ctx->kv, key, &value);
	}
	free(key);
	if (r < 0)
		return sf_log_err_errno(r, "cannot settle the JWT signing secret");
	secret_free(auth_secret);
	auth_secret = value;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Write key + "\n" to a new file of mode 0600 beside path, which the caller renames into
 * place once the key is stored: several sf-api processes may race, and only the one whose key
 * Redis kept should leave a file. */
static int key_file_write(const char *path, const char *tmp, const char *key)
{
	char *dir_copy = sf_xstrdup(path);
	const char *dir = dirname(dir_copy);
	int fd, r;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		free(dir_copy);
		return sf_log_err_errno(r, "cannot create directory '%s' for the system key", dir);
	}
	free(dir_copy);
	(void)unlink(tmp); /* a leftover of a crashed start with the same pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sf_log_err_errno(-errno, "cannot create '%s'", tmp);
	r = write_all(fd, key, strlen(key));
	if (r == 0)
		r = write_all(fd, "\n", 1);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		(void)unlink(tmp);
		return sf_log_err_errno(r, "cannot write '%s'", tmp);
	}
	return 0;
}

static int system_key_generate(struct api_ctx *ctx)
{
	const char *path = ctx->cfg->system_key_file && *ctx->cfg->system_key_file
				   ? ctx->cfg->system_key_file
				   : DEFAULT_SYSTEM_KEY_FILE;
	char *tmp = sf_xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *key = random_secret();
	int r;

	r = key_file_write(path, tmp, key);
	if (r < 0)
		goto out;
	r = api_ns_key_set(ctx->kv, API_SYSTEM_NAMESPACE, API_SYSTEM_KEY_NAME, key,
			   API_NS_KEY_CREATE_ONLY);
	if (r == -EEXIST) {
		(void)unlink(tmp);
		sf_log_info("another sf-api generated the system key meanwhile; not writing '%s'",
			    path);
		r = 0;
		goto out;
	}
	if (r < 0) {
		(void)unlink(tmp);
		sf_log_err_errno(r, "cannot store the generated system key");
		goto out;
	}
	if (rename(tmp, path) < 0) {
		r = sf_log_err_errno(
			-errno,
			"the system key is stored but cannot be moved from '%s' to '%s'; "
			"set system_key in the configuration to replace it",
			tmp, path);
		goto out;
	}
	sf_log_info("generated a key '%s' for namespace '%s'; it is in %s (mode 0600)",
		    API_SYSTEM_KEY_NAME, API_SYSTEM_NAMESPACE, path);
out:
	secret_free(key);
	free(tmp);
	return r;
}

static int system_key_settle(struct api_ctx *ctx)
{
	const char *configured = ctx->cfg->system_key;
	struct sf_kv_reply *reply;
	bool match = false, has_keys;
	char *key;
	int r;

	if (configured && *configured) {
		r = key_lookup(ctx->kv, API_SYSTEM_NAMESPACE, API_SYSTEM_KEY_NAME, configured, NULL,
			       &match);
		if (r < 0 && r != -ENOENT && r != -EBADMSG)
			return sf_log_err_errno(r, "cannot read the system key");
		if (r == 0 && match)
			return 0;
		/* The configuration wins; a new nonce revokes tokens issued for the old key. */
		r = api_ns_key_set(ctx->kv, API_SYSTEM_NAMESPACE, API_SYSTEM_KEY_NAME, configured,
				   0);
		if (r < 0)
			return sf_log_err_errno(r, "cannot store the configured system key");
		sf_log_info("namespace '%s' key '%s' set from the configuration",
			    API_SYSTEM_NAMESPACE, API_SYSTEM_KEY_NAME);
		return 0;
	}

	key = ns_key(ctx->kv, API_SYSTEM_NAMESPACE, ":keys");
	r = sf_kv_cmd(ctx->kv, &reply, "HLEN", key, NULL);
	free(key);
	if (r < 0)
		return sf_log_err_errno(r, "cannot read the system namespace's keys");
	has_keys = reply->type == SF_KV_REPLY_INT && reply->integer > 0;
	sf_kv_reply_free(reply);
	if (has_keys)
		return 0;
	return system_key_generate(ctx);
}

int api_auth_bootstrap(struct api_ctx *ctx)
{
	int r;

	if (sodium_init() < 0)
		return sf_log_err_errno(-EIO, "libsodium failed to initialise");
	pthread_once(&scripts_once, scripts_init);
	r = secret_settle(ctx);
	if (r < 0)
		return r;
	r = api_ns_create(ctx->kv, API_SYSTEM_NAMESPACE, NULL, NULL);
	if (r == 0)
		sf_log_info("created namespace '%s'", API_SYSTEM_NAMESPACE);
	else if (r != -EEXIST)
		return sf_log_err_errno(r, "cannot create namespace '%s'", API_SYSTEM_NAMESPACE);
	return system_key_settle(ctx);
}
