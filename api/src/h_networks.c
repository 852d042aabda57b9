// SPDX-License-Identifier: Apache-2.0
/*
 * The /networks endpoints (spec 1.5.1 - 1.5.12), corrected where ARCHITECTURE.md section 5 says
 * so. Bodies have been validated against schemas/api/networks-*.json before a handler runs, so
 * the handlers trust the JSON types of the members they read.
 *
 * Status codes: 404 for a network the caller does not own (existence is not leaked); 406 only
 * for "not ready yet" (a network in initial/creating that the worker will bring up); a network
 * that can never become ready (deleted, delete-wait, error, the floating pool) gives 409 with
 * the same message, so a default client does not retry it for an hour (spec 9.13).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/ipv4.h"
#include "sf/json.h"
#include "sf/kv.h"
#include "sf/log.h"
#include "sf/store.h"
#include "sf/util.h"

#include "api.h"
#include "auth.h"
#include "events.h"
#include "metadata.h"
#include "networks.h"

SF_LOG_MODULE("networks");

/* Upstream's smallest block, /29 (8 addresses); the largest is what the store's IPAM holds,
 * SF_STORE_MIN_PREFIX. */
#define NETBLOCK_MAX_PREFIX 29

/* A lookup helper answered the request itself (resp holds a 4xx). */
#define ANSWERED 1

enum {
	NEED_OWNED = 0,
	NEED_READY = 1 << 0, /* spec "requires_network_active": state created */
};

/* ---- reference resolution ---- */

/* Python's uuid.UUID() accepts "urn:uuid:" prefixes, braces, missing dashes and upper case. */
static bool uuid_normalize(const char *s, char ret_uuid[SF_UUID_STRLEN])
{
	char hex[33];
	size_t n = 0, len;

	if (strncasecmp(s, "urn:uuid:", 9) == 0)
		s += 9;
	len = strlen(s);
	if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
		s++;
		len -= 2;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '-')
			continue;
		if (!isxdigit((unsigned char)s[i]) || n == 32)
			return false;
		hex[n++] = (char)tolower((unsigned char)s[i]);
	}
	if (n != 32)
		return false;
	hex[32] = '\0';
	(void)snprintf(ret_uuid, SF_UUID_STRLEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
		       hex + 12, hex + 16, hex + 20);
	return true;
}

int api_network_resolve(struct api_ctx *ctx, const struct api_caller *caller, const char *ref,
			struct sf_network **ret_network)
{
	struct sf_network **found = NULL, *match = NULL;
	char uuid[SF_UUID_STRLEN];
	size_t n = 0;
	int r;

	if (uuid_normalize(ref, uuid)) {
		r = sf_network_get(ctx->kv, uuid, &match);
		if (r < 0)
			return r;
		*ret_network = match;
		return 0;
	}

	/* For system (any namespace) this also finds the floating pool's network by its name. */
	r = sf_network_find_by_name(ctx->kv, caller->is_system ? NULL : caller->namespace, ref,
				    &found, &n);
	if (r < 0)
		return r;
	r = n == 0 ? -ENOENT : n > 1 ? -ENOTUNIQ : 0;
	if (r == 0) {
		match = found[0];
		found[0] = NULL;
	}
	for (size_t i = 0; i < n; i++)
		sf_network_free(found[i]);
	free(found);
	if (r < 0)
		return r;
	*ret_network = match;
	return 0;
}

bool api_network_owned(const struct api_caller *caller, const struct sf_network *network)
{
	return caller->is_system || sf_streq(caller->namespace, network->namespace);
}

static bool network_is_floating(const struct sf_network *n)
{
	return strcmp(n->uuid, SF_FLOATING_NETWORK) == 0;
}

/* Resolve the <ref> of the request (params[0]) and apply ownership and, with NEED_READY, the
 * active check. 0 with *ret_network; ANSWERED with resp set; -errno. */
static int lookup(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp,
		  unsigned need, struct sf_network **ret_network)
{
	const char *ref = req->params[0];
	struct sf_network *n = NULL;
	enum sf_net_state st;
	int r;

	r = api_network_resolve(ctx, &req->caller, ref, &n);
	if (r == -ENOTUNIQ) {
		api_error(resp, 400, "multiple networks have the name \"%s\" in namespace \"%s\"",
			  ref, req->caller.namespace);
		return ANSWERED;
	}
	if (r == -ENOENT || (r == 0 && !api_network_owned(&req->caller, n))) {
		sf_network_free(n);
		api_error(resp, 404, "network not found");
		return ANSWERED;
	}
	if (r < 0)
		return r;

	st = n->state;
	if ((need & NEED_READY) && (st != SF_NET_CREATED || network_is_floating(n))) {
		bool soon =
			!network_is_floating(n) && (st == SF_NET_INITIAL || st == SF_NET_CREATING);

		api_error(resp, soon ? 406 : 409, "network %s is not ready (%s)", n->uuid,
			  sf_net_state_to_string(st));
		sf_network_free(n);
		return ANSWERED;
	}
	*ret_network = n;
	return 0;
}

/* Run lookup() and return from the handler when it answered or failed. */
#define LOOKUP_OR_RETURN(ctx, req, resp, need, net)          \
	do {                                                 \
		int lr_ = lookup(ctx, req, resp, need, net); \
		if (lr_ != 0)                                \
			return lr_ == ANSWERED ? 0 : lr_;    \
	} while (0)

/* ---- small helpers ---- */

/* A boolean member: its value, or def when absent or null. */
static bool body_bool(const json_t *body, const char *key, bool def)
{
	bool v;

	return sf_json_get_bool(body, key, &v) == 0 ? v : def;
}

static const char *body_str(const json_t *body, const char *key)
{
	const char *s;

	return sf_json_get_str(body, key, &s) == 0 ? s : NULL;
}

/* Audit and mutate events are a record of the request, not part of its effect: a failure to
 * publish one is logged and the request goes on (the job publish that follows reports a broker
 * that is really down). */
static void event(struct api_ctx *ctx, const char *uuid, enum sf_event_type type, const char *msg,
		  json_t *extra /* stolen, may be NULL */)
{
	int r;

	r = api_event(ctx, SF_OBJECT_NETWORK, uuid, type, msg, extra);
	if (r < 0)
		sf_log_warn_errno(r, "network %s: recording event \"%s\" failed, ignoring", uuid,
				  msg);
	json_decref(extra);
}

static int ok_view(struct api_ctx *ctx, struct api_response *resp, const struct sf_network *n)
{
	json_t *view = sf_network_view(ctx->kv, n);

	if (!view)
		return -EIO;
	return api_ok(resp, view);
}

/* The network again, after a change, for the view. */
static int ok_view_reloaded(struct api_ctx *ctx, struct api_response *resp, const char *uuid)
{
	struct sf_network *n;
	int r;

	r = sf_network_get(ctx->kv, uuid, &n);
	if (r < 0)
		return r;
	r = ok_view(ctx, resp, n);
	sf_network_free(n);
	return r;
}

/* ---- netblock validation (spec 1.5.2 steps 3 and 4) ---- */

/* Does s look like an IPv6 address or network, as Python's ip_network() would accept? */
static bool is_ipv6_net(const char *s)
{
	struct in6_addr a;
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	long prefix;

	if (len >= sizeof(addr))
		return false;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1)
		return false;
	return !slash || sf_parse_long(slash + 1, 0, 128, &prefix) == 0;
}

/* 0 with the canonical block in ret_cidr, or ANSWERED with the 400 of spec 1.5.2. */
static int netblock_check(const json_t *value, struct api_response *resp,
			  char ret_cidr[SF_IPV4_NET_STRLEN])
{
	struct sf_ipv4_net net;
	const char *s = json_string_value(value);
	int r;

	r = s ? sf_ipv4_net_parse(s, SF_IPV4_NET_BARE, &net) : -EINVAL;
	if (!s)
		api_error(resp, 400,
			  "cannot parse netblock: None does not appear to be an IPv4 or "
			  "IPv6 network");
	else if (r == -EDOM)
		api_error(resp, 400, "cannot parse netblock: %s has host bits set", s);
	else if (r == -EAFNOSUPPORT && is_ipv6_net(s))
		api_error(resp, 400, "IPv6 netblocks are not supported yet");
	else if (r < 0) /* Python's message quotes the repr() of the string */
		api_error(
			resp, 400,
			"cannot parse netblock: '%s' does not appear to be an IPv4 or IPv6 network",
			s);
	else if (net.prefix > NETBLOCK_MAX_PREFIX)
		api_error(resp, 400, "network is below minimum size of /%d", NETBLOCK_MAX_PREFIX);
	else if (net.prefix < SF_STORE_MIN_PREFIX)
		api_error(resp, 400, "network is above maximum size of /%d", SF_STORE_MIN_PREFIX);
	else {
		sf_ipv4_net_format(&net, ret_cidr);
		return 0;
	}
	return ANSWERED;
}

/* ---- GET /networks (1.5.1) ---- */

static int networks_list(struct api_ctx *ctx, const struct api_request *req,
			 struct api_response *resp)
{
	struct sf_network **nets = NULL;
	json_t *list = NULL;
	size_t n = 0;
	int r;

	r = sf_network_list(ctx->kv, req->caller.is_system ? NULL : req->caller.namespace,
			    body_bool(req->body, "all", false), &nets, &n);
	if (r < 0)
		return r;
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *view = sf_network_view(ctx->kv, nets[i]);

		if (!view) {
			r = -EIO;
			goto out;
		}
		json_array_append_new(list, view);
	}
	r = api_ok(resp, list);
	list = NULL;
out:
	json_decref(list);
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	return r;
}

/* ---- POST /networks (1.5.2) ---- */

static int networks_create(struct api_ctx *ctx, const struct api_request *req,
			   struct api_response *resp)
{
	const char *ns = body_str(req->body, "namespace");
	char cidr[SF_IPV4_NET_STRLEN];
	struct sf_network *n = NULL;
	struct sf_network_spec spec;
	int r;

	if (ns && !api_namespace_exists(ctx, ns))
		return api_error(resp, 404, "namespace not found");
	r = netblock_check(json_object_get(req->body, "netblock"), resp, cidr);
	if (r != 0)
		return r == ANSWERED ? 0 : r;
	if (!ns)
		ns = req->caller.namespace;
	if (!req->caller.is_system && strcmp(ns, req->caller.namespace) != 0)
		return api_error(resp, 401,
				 "only admins can create resources in a different namespace");

	spec = (struct sf_network_spec){
		.name = body_str(req->body, "name"),
		.namespace = ns,
		.netblock = cidr,
		.provide_dhcp = body_bool(req->body, "provide_dhcp", true),
		.provide_nat = body_bool(req->body, "provide_nat", true),
		.provide_dns = body_bool(req->body, "provide_dns", false),
	};
	r = sf_network_create(ctx->kv, &spec, &n);
	if (r < 0)
		return sf_log_err_errno(r, "creating a network in namespace %s failed", ns);
	sf_log_info("network %s (vxid %u, %s) created in namespace %s", n->uuid, n->vxid,
		    n->netblock, ns);
	event(ctx, n->uuid, SF_EVENT_AUDIT, "create request from REST API", NULL);

	r = api_publish_job(ctx, SF_JOB_NETWORK_DEPLOY, n->uuid, NULL, NULL, NULL);
	if (r < 0) {
		/* Left in initial with no job, the network would never be deployed: say what
		 * happened in its state instead. It can be deleted. */
		char *why =
			sf_xasprintf("the deploy job could not be published: %s", sf_strerror(r));
		int r2 = sf_network_set_state(ctx->kv, n->uuid, SF_NET_ERROR, why, NULL);

		if (r2 < 0)
			sf_log_err_errno(r2, "network %s: setting state error failed", n->uuid);
		sf_log_err_errno(r, "network %s: publishing its deploy job failed", n->uuid);
		api_error(resp, 503, "service unavailable: network %s was created, but %s", n->uuid,
			  why);
		free(why);
		r = 0;
		goto out;
	}
	r = ok_view(ctx, resp, n);
out:
	sf_network_free(n);
	return r;
}

/* ---- delete (1.5.5 and each network of 1.5.3) ---- */

/* Ask for the network's destruction: with interfaces left it waits in delete-wait (from
 * created; an error network keeps its state) and the worker destroys it once the last one has
 * gone; the destroy job is published either way and the worker decides. */
static int network_delete(struct api_ctx *ctx, const struct sf_network *n, bool has_ifaces)
{
	int r;

	event(ctx, n->uuid, SF_EVENT_AUDIT, "delete request from REST API", NULL);
	if (has_ifaces && n->state == SF_NET_CREATED) {
		r = sf_network_set_state(ctx->kv, n->uuid, SF_NET_DELETE_WAIT, NULL, NULL);
		if (r < 0 && r != -EINVAL) /* -EINVAL: it changed meanwhile; the worker decides */
			return r;
	}
	return api_publish_job(ctx, SF_JOB_NETWORK_DESTROY, n->uuid, NULL, NULL, NULL);
}

static int interface_count(struct api_ctx *ctx, const char *uuid, size_t *ret_n)
{
	char **ifaces = NULL;
	size_t n = 0;
	int r;

	r = sf_network_interfaces(ctx->kv, uuid, &ifaces, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		free(ifaces[i]);
	free(ifaces);
	*ret_n = n;
	return 0;
}

/* ---- DELETE /networks (1.5.3) ---- */

static int networks_delete_all(struct api_ctx *ctx, const struct api_request *req,
			       struct api_response *resp)
{
	const char *ns = body_str(req->body, "namespace");
	bool clean_wait = body_bool(req->body, "clean_wait", false);
	struct sf_network **nets = NULL;
	json_t *deleted = NULL, *unable = NULL;
	size_t n = 0;
	int r;

	if (ns && !api_namespace_exists(ctx, ns))
		return api_error(resp, 404, "namespace not found");
	if (!json_is_true(json_object_get(req->body, "confirm")))
		return api_error(resp, 400, "parameter confirm is not set true");
	if (req->caller.is_system && !ns)
		return api_error(resp, 400, "system user must specify parameter namespace");
	if (!req->caller.is_system && ns && strcmp(ns, req->caller.namespace) != 0)
		return api_error(resp, 401, "you cannot delete other namespaces");
	if (!ns)
		ns = req->caller.namespace;

	/* "system" names every namespace, as upstream. */
	r = sf_network_list(ctx->kv, strcmp(ns, API_SYSTEM_NAMESPACE) == 0 ? NULL : ns, false,
			    &nets, &n);
	if (r < 0)
		return r;
	deleted = json_array();
	unable = json_array();
	for (size_t i = 0; i < n; i++) {
		size_t n_ifaces;

		r = interface_count(ctx, nets[i]->uuid, &n_ifaces);
		if (r < 0)
			goto out;
		if (n_ifaces > 0 && !clean_wait) {
			json_array_append_new(unable, json_string(nets[i]->uuid));
			continue;
		}
		r = network_delete(ctx, nets[i], n_ifaces > 0);
		if (r < 0)
			goto out;
		json_array_append_new(deleted, json_string(nets[i]->uuid));
	}
	sf_log_info("delete-all in namespace %s: %zu deleted, %zu unable", ns,
		    json_array_size(deleted), json_array_size(unable));
	if (json_array_size(unable) > 0) {
		r = api_error_object(resp, 403,
				     json_pack("{s:o,s:o}", "deleted", deleted, "unable", unable));
		deleted = unable = NULL;
	} else {
		r = api_ok(resp, deleted);
		deleted = NULL;
	}
out:
	json_decref(deleted);
	json_decref(unable);
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	return r;
}

/* ---- GET /networks/<ref> (1.5.4) ---- */

static int network_get(struct api_ctx *ctx, const struct api_request *req,
		       struct api_response *resp)
{
	struct sf_network *n;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	r = ok_view(ctx, resp, n);
	sf_network_free(n);
	return r;
}

/* Its reads, when <ref> is a uuid (sf_network_get, then sf_network_view). A name is resolved
 * through the indexes: nothing to guess. */
static void network_get_prefetch(struct api_ctx *ctx, const struct api_request *req)
{
	char uuid[SF_UUID_STRLEN];

	if (uuid_normalize(req->params[0], uuid))
		sf_network_view_prefetch(ctx->kv, uuid);
}

/* ---- DELETE /networks/<ref> (1.5.5) ---- */

static int network_delete_one(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp)
{
	const char *ns = body_str(req->body, "namespace");
	struct sf_network *n;
	size_t n_ifaces;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	if (ns && !api_namespace_exists(ctx, ns)) {
		r = api_error(resp, 404, "namespace not found");
		goto out;
	}
	if (network_is_floating(n)) {
		r = api_error(resp, 403, "you cannot delete the floating network");
		goto out;
	}
	if (ns && !sf_streq(ns, n->namespace)) {
		r = api_error(resp, 404, "network not in namespace");
		goto out;
	}
	if (n->state == SF_NET_DELETED) {
		r = api_ok(resp, NULL);
		goto out;
	}
	r = interface_count(ctx, n->uuid, &n_ifaces);
	if (r < 0)
		goto out;
	r = network_delete(ctx, n, n_ifaces > 0);
	if (r < 0)
		goto out;
	sf_log_info("network %s: delete requested (%zu interfaces left)", n->uuid, n_ifaces);
	r = ok_view_reloaded(ctx, resp, n->uuid);
out:
	sf_network_free(n);
	return r;
}

/* ---- GET /networks/<ref>/interfaces (1.5.6) ---- */

static int network_interfaces(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp)
{
	struct sf_network *n;
	struct sf_iface **ifaces = NULL;
	json_t *list = NULL;
	size_t count = 0;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	/* interfaces gone meanwhile are skipped, as upstream */
	r = sf_network_iface_records(ctx->kv, n->uuid, &ifaces, &count);
	if (r < 0)
		goto out;
	list = json_array();
	for (size_t i = 0; i < count; i++) {
		json_t *view = sf_iface_view(ctx->kv, ifaces[i]);

		if (!view) {
			r = -EIO;
			goto out;
		}
		json_array_append_new(list, view);
	}
	r = api_ok(resp, list);
	list = NULL;
out:
	json_decref(list);
	for (size_t i = 0; i < count; i++)
		sf_iface_free(ifaces[i]);
	free(ifaces);
	sf_network_free(n);
	return r;
}

/* ---- GET /networks/<ref>/addresses (1.5.7) ---- */

static int network_addresses(struct api_ctx *ctx, const struct api_request *req,
			     struct api_response *resp)
{
	struct sf_network *n;
	json_t *records;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	r = sf_ipam_list(ctx->kv, n->uuid, &records);
	if (r == 0)
		r = api_ok(resp, records);
	sf_network_free(n);
	return r;
}

/* ---- GET /networks/<ref>/events (1.5.8) ---- */

static int network_events(struct api_ctx *ctx, const struct api_request *req,
			  struct api_response *resp)
{
	const char *event_type = body_str(req->body, "event_type");
	const json_t *limit_value = json_object_get(req->body, "limit");
	enum sf_event_type type;
	struct sf_network *n;
	json_t *events;
	long limit = 100;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	if (event_type && !event_type[0])
		event_type = NULL; /* falsy: no filter, as upstream */
	if (event_type && sf_event_type_from_string(event_type, &type) < 0) {
		r = api_error(resp, 400,
			      "invalid event_type \"%s\": must be one of audit, mutate, status, "
			      "usage, resources, prune, historic",
			      event_type);
		goto out;
	}
	if (json_is_integer(limit_value) || json_is_real(limit_value)) {
		/* the schema allows integers only; a real here is integral (3.0) */
		double v = json_number_value(limit_value);

		limit = v < 0 ? -1 : v > (double)LONG_MAX ? LONG_MAX : (long)v;
	} else if (json_is_string(limit_value)) {
		/* the CLI sends `-l N` as a string (ARCHITECTURE 5.5) */
		if (sf_parse_long(json_string_value(limit_value), LONG_MIN, LONG_MAX, &limit) < 0) {
			r = api_error(resp, 400, "limit must be an integer, not \"%s\"",
				      json_string_value(limit_value));
			goto out;
		}
	}
	r = api_events_read(ctx, "network", n->uuid, event_type, limit < 0 ? -1 : limit, &events);
	if (r == 0)
		r = api_ok(resp, events);
out:
	sf_network_free(n);
	return r;
}

/* ---- metadata (1.5.10) ---- */

static const struct api_metadata_class network_metadata_class = {
	.object_type = SF_OBJECT_NETWORK,
	.mutate_events = true,
	.get = sf_network_metadata_get,
	.set = sf_network_metadata_set,
	.del = sf_network_metadata_delete,
};

/* GET, POST .../metadata; PUT, DELETE .../metadata/<key> */
static int network_metadata(struct api_ctx *ctx, const struct api_request *req,
			    struct api_response *resp)
{
	struct sf_network *n;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_OWNED, &n);
	r = api_metadata_serve(ctx, &network_metadata_class, n->uuid, req, resp);
	sf_network_free(n);
	return r;
}

/* ---- GET /networks/<ref>/ping/<address> (1.5.9) ---- */

/* The reply of the network node: {"stdout": [lines], "stderr": [lines]}, or {"error": text}
 * when ping could not run. */
static int ping_answer(struct api_response *resp, const char *reply, size_t len)
{
	json_t *body = json_loadb(reply, len, 0, NULL);
	const char *error;
	int r;

	if (json_is_array(json_object_get(body, "stdout")) &&
	    json_is_array(json_object_get(body, "stderr")))
		return api_ok(resp, body);
	if (sf_json_get_str(body, "error", &error) == 0)
		r = api_error(resp, 500, "ping failed on the network node: %s", error);
	else
		r = api_error(resp, 502, "the network node sent an invalid ping reply");
	json_decref(body);
	return r;
}

static int network_ping(struct api_ctx *ctx, const struct api_request *req,
			struct api_response *resp)
{
	const char *address = req->params[1];
	struct sf_ipv4_net net;
	struct sf_network *n;
	char *reply = NULL;
	size_t reply_len = 0;
	json_t *args = NULL;
	uint32_t addr;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_READY, &n);
	r = sf_ipv4_parse(address, &addr);
	if (r == -EAFNOSUPPORT && is_ipv6_net(address) && !strchr(address, '/')) {
		r = api_error(resp, 400, "ping request for address outside network block");
		goto out;
	}
	if (r < 0) {
		r = api_error(resp, 400, "invalid address");
		goto out;
	}
	r = sf_ipv4_net_parse(n->netblock, SF_IPV4_NET_BARE, &net);
	if (r < 0) {
		r = sf_log_err_errno(r, "network %s: stored netblock %s does not parse", n->uuid,
				     n->netblock);
		goto out;
	}
	if (!sf_ipv4_net_contains(&net, addr)) {
		r = api_error(resp, 400, "ping request for address outside network block");
		goto out;
	}
	event(ctx, n->uuid, SF_EVENT_AUDIT, "ping request from REST API",
	      json_pack("{s:s}", "address", address));

	args = json_pack("{s:s}", "address", address);
	r = api_request_job(ctx, SF_JOB_NETWORK_PING, n->uuid, args, NULL,
			    (int)ctx->cfg->ping_timeout_ms, &reply, &reply_len);
	if (r == -ETIMEDOUT) {
		r = api_error(resp, 504,
			      "the network node did not answer the ping request within %g s",
			      (double)ctx->cfg->ping_timeout_ms / 1000.0);
		goto out;
	}
	if (r == -ENOENT) {
		r = api_error(resp, 503, "service unavailable: there is no network node queue");
		goto out;
	}
	if (r < 0)
		goto out;
	r = ping_answer(resp, reply, reply_len);
out:
	free(reply);
	json_decref(args);
	sf_network_free(n);
	return r;
}

/* ---- routed addresses (1.5.11, ARCHITECTURE 5.2) ---- */

static int network_route(struct api_ctx *ctx, const struct api_request *req,
			 struct api_response *resp)
{
	char address[SF_IPV4_STRLEN];
	struct sf_network *n;
	json_t *args;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_READY, &n);
	r = sf_ipam_reserve_random(ctx->kv, SF_FLOATING_NETWORK, SF_IPAM_ROUTED, "network", n->uuid,
				   address);
	if (r == -ENOSPC) {
		r = api_error(resp, 507, "No free addresses on network");
		goto out;
	}
	if (r < 0)
		goto out;
	event(ctx, n->uuid, SF_EVENT_AUDIT, "route request from REST API",
	      json_pack("{s:s}", "address", address));

	args = json_pack("{s:s}", "address", address);
	r = api_publish_job(ctx, SF_JOB_NETWORK_ROUTE, n->uuid, args, NULL, NULL);
	json_decref(args);
	if (r < 0) {
		/* no job, no route: give the address back */
		int r2 = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, address,
					 (unsigned)ctx->cfg->halo_seconds);

		if (r2 < 0)
			sf_log_err_errno(r2, "network %s: releasing unpublished route %s failed",
					 n->uuid, address);
		goto out;
	}
	sf_log_info("network %s: routed %s", n->uuid, address);
	r = api_ok(resp, json_string(address));
out:
	sf_network_free(n);
	return r;
}

/* Is this reservation a routed address of network uuid? */
static bool routed_by(const json_t *record, const char *uuid)
{
	const json_t *user = json_object_get(record, "user");

	return json_is_array(user) && json_array_size(user) == 2 &&
	       sf_streq(json_string_value(json_array_get(user, 0)), "network") &&
	       sf_streq(json_string_value(json_array_get(user, 1)), uuid);
}

static int network_unroute(struct api_ctx *ctx, const struct api_request *req,
			   struct api_response *resp)
{
	const char *address = req->params[1];
	struct sf_network *n;
	json_t *record = NULL, *args;
	uint32_t addr;
	int r;

	LOOKUP_OR_RETURN(ctx, req, resp, NEED_READY, &n);
	r = -ENOENT; /* an address that does not parse is not routed either */
	if (sf_ipv4_parse(address, &addr) == 0)
		r = sf_ipam_get(ctx->kv, SF_FLOATING_NETWORK, address, &record);
	if (r == 0 && !sf_streq(json_string_value(json_object_get(record, "type")),
				sf_ipam_type_to_string(SF_IPAM_ROUTED)))
		r = -ENOENT; /* in the halo after an unroute, or not a routed address at all */
	if (r == -ENOENT) {
		r = api_error(resp, 404, "address not routed");
		goto out;
	}
	if (r < 0)
		goto out;
	if (!routed_by(record, n->uuid)) {
		r = api_error(resp, 403, "address not routed by this network");
		goto out;
	}
	/* Release first: the worker converges on what the IPAM says, and the halo keeps the
	 * address from being handed out again before the route is gone. */
	r = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, address,
			    (unsigned)ctx->cfg->halo_seconds);
	if (r == -ENOENT) { /* a concurrent unroute won */
		r = api_error(resp, 404, "address not routed");
		goto out;
	}
	if (r < 0)
		goto out;
	event(ctx, n->uuid, SF_EVENT_AUDIT, "unroute request from REST API",
	      json_pack("{s:s}", "address", address));
	args = json_pack("{s:s}", "address", address);
	r = api_publish_job(ctx, SF_JOB_NETWORK_UNROUTE, n->uuid, args, NULL, NULL);
	json_decref(args);
	if (r < 0)
		goto out;
	sf_log_info("network %s: unrouted %s", n->uuid, address);
	r = api_ok(resp, NULL);
out:
	json_decref(record);
	sf_network_free(n);
	return r;
}

/* ---- hosted DNS entries (1.5.12, ARCHITECTURE 5.7) ---- */

/* An RFC 1123 host or domain name: labels of letters, digits and '-' (not at either end) of
 * 1..63 characters, 253 in all; no port, not an IPv4 literal. */
static bool dns_name_is_valid(const char *s)
{
	size_t len = s ? strlen(s) : 0, label = 0;
	uint32_t addr;

	if (len == 0 || len > 253 || sf_ipv4_parse(s, &addr) == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (isalnum((unsigned char)c) || (c == '-' && label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && s[len - 1] != '-';
}

/* The checks both DNS endpoints share. 0 with the network, or ANSWERED / -errno. */
static int dns_lookup(struct api_ctx *ctx, const struct api_request *req, struct api_response *resp,
		      struct sf_network **ret_network)
{
	struct sf_network *n;
	int r;

	r = lookup(ctx, req, resp, NEED_READY, &n);
	if (r != 0)
		return r;
	if (!n->provide_dns)
		api_error(resp, 400, "network does not provide DNS");
	else if (!dns_name_is_valid(body_str(req->body, "name")))
		api_error(resp, 400, "invalid DNS name");
	else {
		*ret_network = n;
		return 0;
	}
	sf_network_free(n);
	return ANSWERED;
}

static int dns_changed(struct api_ctx *ctx, const struct sf_network *n, json_t *extra)
{
	event(ctx, n->uuid, SF_EVENT_MUTATE, "set attribute", extra);
	return api_publish_job(ctx, SF_JOB_NETWORK_DNS_UPDATE, n->uuid, NULL, NULL, NULL);
}

static int network_dns_post(struct api_ctx *ctx, const struct api_request *req,
			    struct api_response *resp)
{
	const char *name = body_str(req->body, "name"), *value = body_str(req->body, "value");
	struct sf_network *n;
	uint32_t addr;
	int r;

	r = dns_lookup(ctx, req, resp, &n);
	if (r != 0)
		return r == ANSWERED ? 0 : r;
	if (!value || sf_ipv4_parse(value, &addr) < 0) {
		r = api_error(resp, 400, "invalid DNS value: must be an IPv4 address");
		goto out;
	}
	r = sf_network_dns_set(ctx->kv, n->uuid, name, value);
	if (r < 0)
		goto out;
	r = dns_changed(
		ctx, n,
		json_pack("{s:s,s:s,s:s}", "attribute", "hosteddns", "name", name, "value", value));
	if (r == 0)
		r = api_ok(resp, NULL);
out:
	sf_network_free(n);
	return r;
}

static int network_dns_delete(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp)
{
	const char *name = body_str(req->body, "name");
	struct sf_network *n;
	int r;

	r = dns_lookup(ctx, req, resp, &n);
	if (r != 0)
		return r == ANSWERED ? 0 : r;
	r = sf_network_dns_delete(ctx->kv, n->uuid, name);
	if (r == -ENOENT) { /* nothing to remove: done */
		r = api_ok(resp, NULL);
		goto out;
	}
	if (r < 0)
		goto out;
	r = dns_changed(
		ctx, n,
		json_pack("{s:s,s:s,s:n}", "attribute", "hosteddns", "name", name, "value"));
	if (r == 0)
		r = api_ok(resp, NULL);
out:
	sf_network_free(n);
	return r;
}

/* ---- routes ---- */

const struct api_route api_routes_networks[] = {
	{"GET", "/networks", "networks-list.json", 0, networks_list},
	{"POST", "/networks", "networks-create.json", 0, networks_create},
	{"DELETE", "/networks", "networks-delete-all.json", 0, networks_delete_all},
	{"GET", "/networks/<ref>", "networks-get.json", 0, network_get},
	{"DELETE", "/networks/<ref>", "networks-delete.json", 0, network_delete_one},
	{"GET", "/networks/<ref>/interfaces", NULL, 0, network_interfaces},
	{"GET", "/networks/<ref>/addresses", NULL, 0, network_addresses},
	{"GET", "/networks/<ref>/events", "networks-events.json", 0, network_events},
	{"GET", "/networks/<ref>/metadata", NULL, 0, network_metadata},
	{"POST", "/networks/<ref>/metadata", "networks-metadata-post.json", 0, network_metadata},
	{"PUT", "/networks/<ref>/metadata/<key>", "networks-metadata-put.json", 0, network_metadata},
	{"DELETE", "/networks/<ref>/metadata/<key>", NULL, 0, network_metadata},
	{"GET", "/networks/<ref>/ping/<address>", NULL, 0, network_ping},
	{"POST", "/networks/<ref>/route", NULL, 0, network_route},
	{"DELETE", "/networks/<ref>/route/<address>", NULL, 0, network_unroute},
	{"POST", "/networks/<ref>/dns", "networks-dns-post.json", 0, network_dns_post},
	{"DELETE", "/networks/<ref>/dns", "networks-dns-delete.json", 0, network_dns_delete},
	{0},
};

const struct api_prefetch api_prefetch_networks[] = {
	{"GET", "/networks/<ref>", network_get_prefetch},
	{0},
};
