/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication and namespaces (spec 1.3, 1.4 and 7).
 *
 * Namespaces are tenants. Each has keys (stored as argon2id password hashes, each with a nonce),
 * user metadata and a trust list. POST /auth trades a namespace key for an HS256 JWT whose
 * claims carry [namespace, key name] and the key's nonce; every protected request is checked
 * against the signature, the expiry and the key's current nonce, so replacing or deleting a key
 * revokes its tokens. Password hashing happens only at POST /auth and when a key is stored.
 *
 * The Redis layout is described at the top of auth.c.
 */
#ifndef API_AUTH_H
#define API_AUTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

struct sf_kv;

#define API_SYSTEM_NAMESPACE "system"
#define API_SYSTEM_KEY_NAME "deploy" /* upstream's name for the system namespace's key */

/* ---- what http.c and the other handlers call ---- */

/* Once at start, before serving: initialise libsodium, settle the JWT signing secret (cfg
 * auth_secret, else one generated once and shared through Redis) and ensure the system
 * namespace and its key (cfg system_key, which wins over what is stored; or, when it is empty
 * and the namespace has no key, a generated one written to cfg system_key_file with mode 0600).
 * Not thread-safe: call it before the HTTP threads start. */
int api_auth_bootstrap(struct api_ctx *ctx);

/* Checking "Authorization: Bearer <JWT>" is api_auth_token_check() then
 * api_auth_key_check(); between the two, http.c's authenticate() prefetches
 * (sf_kv_prefetch_*) the key check's read with api_auth_prefetch() and the handler's reads, so
 * that they share one round trip to Redis. Each returns 0 with its result; or 0 with resp set
 * to a 401 error (check resp->status != 200); <0 only for internal failures (Redis down:
 * -ECONN*). */
struct api_token_claims;
/* The token alone (signature, algorithm, claims, expiry): 0 with ret_claims; 0 with resp set
 * to a 401; -ENOKEY before api_auth_bootstrap(). Asks nothing of Redis. */
int api_auth_token_check(struct api_ctx *ctx, const char *authorization_header /* may be NULL */,
			 struct api_token_claims *ret_claims, struct api_response *resp);
/* Queue the read api_auth_key_check() is about to make (kv.h's prefetch). */
void api_auth_prefetch(struct api_ctx *ctx, const struct api_token_claims *claims);
/* Is the token's key still there with the token's nonce? 0 with ret_caller; 0 with resp set to
 * 401 "token revoked" (audited); <0 for Redis failures. */
int api_auth_key_check(struct api_ctx *ctx, const struct api_token_claims *claims,
		       struct api_caller *ret_caller, struct api_response *resp);

/* Whether the namespace exists (false also when Redis cannot be asked; logged). */
bool api_namespace_exists(struct api_ctx *ctx, const char *ns);

/* POST /auth after its argument checks: find the key that matches (argon2) and mint a token
 * for it (free it). -EACCES when no key matches (or no such namespace). */
int api_auth_login(struct api_ctx *ctx, const char *ns, const char *key, char **ret_token);

/* Record an audit event on a namespace; a failure is logged, not returned. extra is stolen. */
void api_ns_audit(struct api_ctx *ctx, const char *ns, const char *message, json_t *extra);

/* ---- pure helpers (unit-tested) ---- */

/* A namespace name we can store: 1..63 of [A-Za-z0-9_.-], starting with a letter or digit. A
 * name that breaks this rule cannot exist, so lookups of it find nothing. */
bool api_namespace_name_is_valid(const char *ns);
/* Names reserved for upstream's internally minted service keys ("service_key" and anything
 * starting with "_service_key") are illegal: 403 "illegal key name". */
bool api_key_name_is_legal(const char *name);
/* JSON truthiness as Python sees it (upstream's `if not value`): null, false, 0, "", [] and {}
 * are false. */
bool api_json_is_truthy(const json_t *value);

struct api_token_claims {
	char namespace[256];
	char keyname[256];
	char nonce[128];
	int64_t exp;
	int64_t nbf; /* INT64_MIN when the token has none */
};

/* A signed HS256 token with upstream's claims (sub = [namespace, keyname], iss, nonce, fresh
 * false, type "access", iat = nbf = now, exp = now + lifetime_s, jti). free() the result. */
int api_token_new(const char *secret, const char *issuer, const char *ns, const char *keyname,
		  const char *nonce, int64_t now, long lifetime_s, char **ret_token);
/* Verify the signature with secret and that the algorithm is HS256 (anything else, "none"
 * included, is -EBADMSG, as is a malformed token); ret_claims is the payload (owned). */
int api_token_decode(const char *secret, const char *token, json_t **ret_claims);
/* Check decoded claims at time now: -EKEYEXPIRED past exp, -EAGAIN before nbf (60 s of clock
 * skew allowed), -EBADMSG when a claim is missing or malformed (sub not a list of two
 * non-empty strings that fit, type not "access", iss not issuer, nonce not a string). */
int api_token_claims_check(const json_t *claims, const char *issuer, int64_t now,
			   struct api_token_claims *ret_claims);
/* The time checks alone, again, on claims that passed api_token_claims_check() earlier:
 * -EAGAIN before nbf (the same skew), -EKEYEXPIRED past exp. */
int api_token_claims_time_check(const struct api_token_claims *claims, int64_t now);

/* ---- the namespace store (Redis; used by h_auth.c) ---- */

/* 0 when the namespace exists, -ENOENT when not, or a Redis error. */
int api_ns_exists(struct sf_kv *kv, const char *ns);
/* Create a namespace trusting system, optionally with a first key. -EEXIST, -EINVAL (bad name). */
int api_ns_create(struct sf_kv *kv, const char *ns, const char *key_name /* NULL: none */,
		  const char *key);
/* Delete a namespace, its keys, metadata and trust, and remove it from other namespaces' trust
 * lists. -ENOENT when it does not exist. */
int api_ns_delete(struct sf_kv *kv, const char *ns);
/* All namespace names, sorted (caller frees each and the array). */
int api_ns_list(struct sf_kv *kv, char ***ret_names, size_t *ret_n);
/* The wire view {"name", "keys", "trust": {"full"}, "state", "metadata", "version": 5}. -ENOENT. */
int api_ns_view(struct sf_kv *kv, const char *ns, json_t **ret_view);
/* Whether caller may act on ns: caller is ns or system, or ns trusts caller. false also when ns
 * does not exist. <0 for Redis failures. */
int api_ns_trusts(struct sf_kv *kv, const char *ns, const char *caller, bool *ret_trusted);

/* Store a key (hash it, give it a new nonce), replacing one of the same name. flags: */
enum {
	API_NS_KEY_CREATE_ONLY = 1 << 0,  /* -EEXIST when the key name exists */
	API_NS_KEY_REPLACE_ONLY = 1 << 1, /* -ENOENT when the key name does not exist */
};
/* -ENOENT also when the namespace does not exist. */
int api_ns_key_set(struct sf_kv *kv, const char *ns, const char *key_name, const char *key,
		   unsigned flags);
int api_ns_key_delete(struct sf_kv *kv, const char *ns, const char *key_name); /* -ENOENT */
/* Key names, sorted, as a JSON list. */
int api_ns_key_names(struct sf_kv *kv, const char *ns, json_t **ret_names);
/* Which key matches the secret (argon2 verification of each, in name order; the first match
 * wins): 0 with the key name and its nonce (free both), -EACCES when none does. */
int api_ns_key_match(struct sf_kv *kv, const char *ns, const char *key, char **ret_key_name,
		     char **ret_nonce);

int api_ns_metadata_get(struct sf_kv *kv, const char *ns, json_t **ret_metadata);
int api_ns_metadata_set(struct sf_kv *kv, const char *ns, const char *key, const json_t *value);
int api_ns_metadata_delete(struct sf_kv *kv, const char *ns, const char *key);
int api_ns_trust_add(struct sf_kv *kv, const char *ns, const char *external);
int api_ns_trust_remove(struct sf_kv *kv, const char *ns, const char *external); /* not system */

#endif
