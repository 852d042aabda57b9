// SPDX-License-Identifier: Apache-2.0
/*
 * POST /auth and the namespace API (spec 1.3, 1.4, 7). Error messages, statuses and the order
 * of the checks follow upstream; the store is in auth.c.
 *
 * Access to /auth/namespaces/<ns>/...: the caller must be <ns>, system, or trusted by <ns>;
 * otherwise 404 "namespace not found", exactly as when <ns> does not exist. Namespace create
 * and delete are system only (API_SYSTEM_ONLY: 401 from http.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "metadata.h"
#include "sf/envelope.h"
#include "sf/json.h"
#include "sf/log.h"
#include "sf/store.h"

SF_LOG_MODULE("h_auth");

/* A body member that is a non-empty string, else NULL. */
static const char *body_str(const struct api_request *req, const char *name)
{
	const json_t *v = json_object_get(req->body, name);

	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* 1 when the caller may act on namespace ns; 0 with a 404 in resp; <0 on failure. */
static int require_namespace(struct api_ctx *ctx, const struct api_request *req, const char *ns,
			     struct api_response *resp)
{
	bool trusted = false;
	int r;

	r = api_ns_trusts(ctx->kv, ns, req->caller.namespace, &trusted);
	if (r < 0)
		return r;
	if (!trusted)
		return api_error(resp, 404, "namespace not found");
	return 1;
}

static int view_response(struct api_ctx *ctx, const char *ns, struct api_response *resp)
{
	json_t *view = NULL;
	int r;

	r = api_ns_view(ctx->kv, ns, &view);
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	return api_ok(resp, view);
}

/* The checks shared by key creation and replacement, in upstream's order. */
static int check_key_args(const json_t *key, const char *key_name, struct api_response *resp)
{
	if (!api_json_is_truthy(key))
		return api_error(resp, 400, "no key specified");
	if (!json_is_string(key))
		return api_error(resp, 400, "key is not a string");
	if (!api_key_name_is_legal(key_name))
		return api_error(resp, 403, "illegal key name");
	return 1;
}

/* ---- POST /auth ---- */

static int h_auth(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	const json_t *key = json_object_get(req->body, "key");
	const char *ns = body_str(req, "namespace");
	char *token = NULL;
	int r;

	if (!json_object_get(req->body, "namespace"))
		return api_error(resp, 400, "missing namespace in request");
	r = ns ? api_ns_exists(ctx->kv, ns) : -ENOENT;
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	if (!api_json_is_truthy(key))
		return api_error(resp, 400, "missing key in request");
	if (!json_is_string(key))
		return api_error(resp, 400, "key is not a string");

	r = api_auth_login(ctx, ns, json_string_value(key), &token);
	if (r == -EACCES) {
		sf_log_info_rl("incorrect key presented for namespace '%s'", ns);
		api_ns_audit(ctx, ns, "attempt to use incorrect namespace key", NULL);
		return api_error(resp, 401, "unauthorized");
	}
	if (r < 0)
		return r;
	r = api_ok(resp, json_pack("{s:s, s:s, s:I}", "access_token", token, "token_type", "Bearer",
				   "expires_in", (json_int_t)ctx->cfg->token_minutes * 60));
	free(token);
	return r;
}

/* ---- /auth/namespaces ---- */

static int h_namespaces_get(struct api_ctx *ctx, const struct api_request *req,
			    struct api_response *resp)
{
	const char *caller = req->caller.namespace;
	json_t *list = json_array();
	char **names = NULL;
	size_t n = 0;
	int r;

	r = api_ns_list(ctx->kv, &names, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_t *view = NULL, *trust;
		bool visible;

		r = api_ns_view(ctx->kv, names[i], &view);
		if (r == -ENOENT) { /* deleted meanwhile */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		visible = req->caller.is_system || strcmp(names[i], caller) == 0;
		trust = json_object_get(json_object_get(view, "trust"), "full");
		for (size_t j = 0; !visible && j < json_array_size(trust); j++)
			visible = sf_streq(json_string_value(json_array_get(trust, j)), caller);
		if (visible)
			json_array_append_new(list, view);
		else
			json_decref(view);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (r < 0) {
		json_decref(list);
		return r;
	}
	return api_ok(resp, list);
}

static int h_namespaces_post(struct api_ctx *ctx, const struct api_request *req,
			     struct api_response *resp)
{
	const char *ns = body_str(req, "namespace");
	const char *key_name = body_str(req, "key_name");
	const json_t *key = json_object_get(req->body, "key");
	int r;

	if (!ns)
		return api_error(resp, 400, "no namespace specified");
	if (!api_namespace_name_is_valid(ns))
		return api_error(resp, 400, "invalid namespace name");
	r = api_ns_exists(ctx->kv, ns);
	if (r == 0)
		return api_error(resp, 403, "namespace exists");
	if (r != -ENOENT)
		return r;
	if (key_name) {
		r = check_key_args(key, key_name, resp);
		if (r <= 0)
			return r;
	}

	r = api_ns_create(ctx->kv, ns, key_name, key_name ? json_string_value(key) : NULL);
	if (r == -EEXIST)
		return api_error(resp, 403, "namespace exists");
	if (r < 0)
		return r;
	sf_log_info("namespace '%s' created by '%s'", ns, req->caller.namespace);
	api_ns_audit(ctx, ns, "creation request from REST API",
		     json_pack("{s:s, s:s}", "namespace", req->caller.namespace, "keyname",
			       req->caller.keyname));
	if (key_name)
		api_ns_audit(ctx, ns, "create auth key request from REST API",
			     json_pack("{s:s}", "key", key_name));
	return view_response(ctx, ns, resp);
}

static int h_namespace_get(struct api_ctx *ctx, const struct api_request *req,
			   struct api_response *resp)
{
	int r = require_namespace(ctx, req, req->params[0], resp);

	if (r <= 0)
		return r;
	return view_response(ctx, req->params[0], resp);
}

/* Whether any network of the namespace blocks its deletion (spec 7: initial, creating and
 * created ones do; error, delete-wait and deleted ones do not). */
static int namespace_has_networks(struct api_ctx *ctx, const char *ns, bool *ret_blocked)
{
	struct sf_network **nets = NULL;
	bool blocked = false;
	size_t n = 0;
	int r;

	r = sf_network_list(ctx->kv, ns, false, &nets, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		enum sf_net_state s = nets[i]->state;

		if (s == SF_NET_INITIAL || s == SF_NET_CREATING || s == SF_NET_CREATED)
			blocked = true;
		sf_network_free(nets[i]);
	}
	free(nets);
	*ret_blocked = blocked;
	return 0;
}

/* Upstream also refuses namespaces with instances; sf-net has no instance objects (interfaces
 * sit on the namespace's networks, which the network check covers). Upstream marks the
 * namespace deleted; we remove it, so its name can be used again. */
static int h_namespace_delete(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp)
{
	const char *ns = req->params[0];
	bool blocked = false;
	int r;

	r = api_ns_exists(ctx->kv, ns);
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	if (strcmp(ns, API_SYSTEM_NAMESPACE) == 0)
		return api_error(resp, 403, "you cannot delete the system namespace");
	r = namespace_has_networks(ctx, ns, &blocked);
	if (r < 0)
		return r;
	if (blocked)
		return api_error(resp, 400, "you cannot delete a namespace with networks");

	r = api_ns_delete(ctx->kv, ns);
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	sf_log_info("namespace '%s' deleted by '%s'", ns, req->caller.namespace);
	api_ns_audit(ctx, ns, "deletion request from REST API", NULL);
	return api_ok(resp, NULL);
}

/* ---- keys ---- */

static int h_keys_get(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	json_t *names = NULL;
	int r = require_namespace(ctx, req, req->params[0], resp);

	if (r <= 0)
		return r;
	r = api_ns_key_names(ctx->kv, req->params[0], &names);
	if (r < 0)
		return r;
	return api_ok(resp, names);
}

/* Store key_name (from the path or the body) in namespace ns; replace: only an existing one. */
static int key_store(struct api_ctx *ctx, const struct api_request *req, const char *key_name,
		     bool replace, struct api_response *resp)
{
	const char *ns = req->params[0];
	const json_t *key = json_object_get(req->body, "key");
	int r = require_namespace(ctx, req, ns, resp);

	if (r <= 0)
		return r;
	if (!key_name)
		return api_error(resp, 400, "no key name specified");
	r = check_key_args(key, key_name, resp);
	if (r <= 0)
		return r;

	r = api_ns_key_set(ctx->kv, ns, key_name, json_string_value(key),
			   replace ? API_NS_KEY_REPLACE_ONLY : 0);
	if (r == -ENOENT && replace && api_ns_exists(ctx->kv, ns) == 0)
		return api_error(resp, 404, "key name not found in namespace");
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	sf_log_info("namespace '%s' key '%s' %s by '%s'", ns, key_name,
		    replace ? "replaced" : "stored", req->caller.namespace);
	api_ns_audit(ctx, ns,
		     replace ? "update auth key request from REST API"
			     : "create auth key request from REST API",
		     json_pack("{s:s}", "key", key_name));
	return api_ok(resp, json_string(key_name));
}

/* POST .../keys {key_name, key}: create, or replace a key of the same name (which revokes its
 * tokens: the nonce changes). */
static int h_keys_post(struct api_ctx *ctx, const struct api_request *req,
		       struct api_response *resp)
{
	return key_store(ctx, req, body_str(req, "key_name"), false, resp);
}

/* PUT .../keys/<key_name> {key}: upstream's handler is broken (500); we replace the key, 404
 * when it does not exist. PUT .../keys {key_name, key} is what the Python client's
 * update_namespace_key() sends (405 upstream); it does the same. */
static int h_key_put(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	return key_store(ctx, req, req->params[1], true, resp);
}

static int h_keys_put(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp)
{
	return key_store(ctx, req, body_str(req, "key_name"), true, resp);
}

static int h_key_delete(struct api_ctx *ctx, const struct api_request *req,
			struct api_response *resp)
{
	const char *ns = req->params[0], *key_name = req->params[1];
	int r = require_namespace(ctx, req, ns, resp);

	if (r <= 0)
		return r;
	r = api_ns_key_delete(ctx->kv, ns, key_name);
	if (r == -ENOENT)
		return api_error(resp, 404, "key name not found in namespace");
	if (r < 0)
		return r;
	sf_log_info("namespace '%s' key '%s' deleted by '%s'", ns, key_name, req->caller.namespace);
	api_ns_audit(ctx, ns, "remove auth key request from REST API",
		     json_pack("{s:s}", "key", key_name));
	return api_ok(resp, NULL);
}

/* ---- metadata (the semantics of network metadata, spec 1.5.10) ---- */

static const struct api_metadata_class ns_metadata_class = {
	.object_type = SF_OBJECT_NAMESPACE,
	.get = api_ns_metadata_get,
	.set = api_ns_metadata_set,
	.del = api_ns_metadata_delete,
};

/* GET, POST /auth/namespaces/<namespace>/metadata; PUT, DELETE .../metadata/<key> */
static int h_metadata(struct api_ctx *ctx, const struct api_request *req,
		      struct api_response *resp)
{
	const char *ns = req->params[0];
	int r = require_namespace(ctx, req, ns, resp);

	if (r <= 0)
		return r;
	r = api_metadata_serve(ctx, &ns_metadata_class, ns, req, resp);
	if (r == -ENOENT) /* deleted since require_namespace() */
		return api_error(resp, 404, "namespace not found");
	return r;
}

/* ---- trust ---- */

static int h_trust_post(struct api_ctx *ctx, const struct api_request *req,
			struct api_response *resp)
{
	const char *ns = req->params[0], *external = body_str(req, "external_namespace");
	int r = require_namespace(ctx, req, ns, resp);

	if (r <= 0)
		return r;
	if (!external)
		return api_error(resp, 400, "no external namespace specified");
	r = api_ns_trust_add(ctx->kv, ns, external);
	if (r == -ENOENT)
		return api_error(resp, 404, "namespace not found");
	if (r < 0)
		return r;
	api_ns_audit(ctx, ns, "add trust request from REST API",
		     json_pack("{s:s}", "external_namespace", external));
	return view_response(ctx, ns, resp);
}

static int h_trust_delete(struct api_ctx *ctx, const struct api_request *req,
			  struct api_response *resp)
{
	const char *ns = req->params[0], *external = req->params[1];
	int r = require_namespace(ctx, req, ns, resp);

	if (r <= 0)
		return r;
	r = api_ns_trust_remove(ctx->kv, ns, external); /* system: silently kept */
	if (r < 0)
		return r;
	api_ns_audit(ctx, ns, "remove trust request from REST API",
		     json_pack("{s:s}", "external_namespace", external));
	return view_response(ctx, ns, resp);
}

const struct api_route api_routes_auth[] = {
	{"POST", "/auth", "auth-post.json", API_PUBLIC, h_auth},
	{"GET", "/auth/namespaces", NULL, 0, h_namespaces_get},
	{"POST", "/auth/namespaces", "namespaces-post.json", API_SYSTEM_ONLY, h_namespaces_post},
	{"GET", "/auth/namespaces/<namespace>", NULL, 0, h_namespace_get},
	{"DELETE", "/auth/namespaces/<namespace>", NULL, API_SYSTEM_ONLY, h_namespace_delete},
	{"GET", "/auth/namespaces/<namespace>/keys", NULL, 0, h_keys_get},
	{"POST", "/auth/namespaces/<namespace>/keys", "namespaces-keys-post.json", 0, h_keys_post},
	{"PUT", "/auth/namespaces/<namespace>/keys", "namespaces-keys-post.json", 0, h_keys_put},
	{"PUT", "/auth/namespaces/<namespace>/keys/<key_name>", "namespaces-key-put.json", 0,
	 h_key_put},
	{"DELETE", "/auth/namespaces/<namespace>/keys/<key_name>", NULL, 0, h_key_delete},
	{"GET", "/auth/namespaces/<namespace>/metadata", NULL, 0, h_metadata},
	{"POST", "/auth/namespaces/<namespace>/metadata", "namespaces-metadata-post.json", 0,
	 h_metadata},
	{"PUT", "/auth/namespaces/<namespace>/metadata/<key>", "namespaces-metadata-put.json", 0,
	 h_metadata},
	{"DELETE", "/auth/namespaces/<namespace>/metadata/<key>", NULL, 0, h_metadata},
	{"POST", "/auth/namespaces/<namespace>/trust", "namespaces-trust-post.json", 0,
	 h_trust_post},
	{"DELETE", "/auth/namespaces/<namespace>/trust/<external_namespace>", NULL, 0,
	 h_trust_delete},
	{0},
};
