// SPDX-License-Identifier: Apache-2.0
/*
 * Interface endpoints (spec 1.6), the instance endpoints that list and hot plug interfaces
 * (spec 1.7) and our port-binding call POST/DELETE /interfaces (ARCHITECTURE.md section 5).
 *
 * We keep no instance records: an instance is the set of its interfaces. Its namespace is the
 * namespace of their networks (the networkspec check makes every interface of an instance live
 * in the instance's namespace), its node the node of its interfaces. So an instance with no
 * live interface is unknown: GET 404, hot plug 400 (the node to plug on is not known).
 *
 * The API is the source of truth and workers converge (level-triggered jobs): a plug writes the
 * interface (address and MAC reserved) before publishing interface.plug to its hypervisor and
 * network.dhcp_hosts to the network node; a DELETE marks the interface deleted at once
 * (sf_iface_delete releases the address into the halo and drops it from the network) and then
 * publishes interface.unplug and network.dhcp_hosts, which read the record and remove the tap
 * or veth, the DHCP host entry and the lease.
 *
 * Differences from upstream, all in the spirit of ARCHITECTURE.md section 5:
 *  - a network outside the instance's namespace is 404 right after resolution, before the
 *    range and state checks, so another tenant's network never answers 400/406;
 *  - only initial/creating networks are "not ready" (406, the client retries); a network in
 *    delete-wait, error or deleted never becomes ready: 409 "network <uuid> is not usable";
 *  - an address that is not IPv4 at all is 400, float on a floating interface 409, float on a
 *    deleted interface 409;
 *  - the hot plug "instance in invalid state" 406 has no counterpart (no instance states).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "metadata.h"
#include "networks.h"
#include "sf/envelope.h"
#include "sf/err.h"
#include "sf/ipv4.h"
#include "sf/json.h"
#include "sf/log.h"
#include "sf/store.h"

SF_LOG_MODULE("interfaces");

/* The helpers below answer 1 (found), 0 (resp holds the error: "answered") or -errno. api_error()
 * returns 0; saying so here lets the static analyser follow the convention. */
#define ANSWER(resp, ...) (api_error((resp), __VA_ARGS__), 0)

#define MSG_RANGE "network specification requests an address outside the range of the network"

static bool caller_owns(const struct api_caller *caller, const char *ns)
{
	return caller->is_system || sf_streq(caller->namespace, ns);
}

/* Publish a job; args stolen (NULL: {}). */
static int publish(struct api_ctx *ctx, enum sf_job_type type, const char *uuid, json_t *args,
		   const char *node)
{
	json_t *a = args ? args : json_object();
	int r = api_publish_job(ctx, type, uuid, a, node, NULL);

	json_decref(a);
	if (r < 0)
		sf_log_err_errno(r, "publishing %s for %s failed", sf_job_type_to_string(type),
				 uuid);
	return r;
}

/* Record an audit event about an interface; extra stolen (may be NULL). The request goes on
 * when the event cannot be published: the state change is what the caller asked for. */
static void audit(struct api_ctx *ctx, const char *uuid, const char *message, json_t *extra)
{
	int r = api_event(ctx, SF_OBJECT_NETWORKINTERFACE, uuid, SF_EVENT_AUDIT, message, extra);

	if (r < 0)
		sf_log_warn_errno(r, "audit event '%s' for interface %s lost", message, uuid);
	json_decref(extra);
}

/* ---- lookups ---- */

/* The interface of a request with its network, after spec 1.6's checks. 1 with both returned
 * (the caller frees them), 0 when resp holds the 404, or -errno. */
static int iface_lookup(struct api_ctx *ctx, const struct api_request *req,
			struct api_response *resp, struct sf_iface **ret_iface,
			struct sf_network **ret_network)
{
	struct sf_iface *iface = NULL;
	struct sf_network *net = NULL;
	int r;

	if (!sf_uuid_is_valid(req->params[0]))
		return ANSWER(resp, 404, "interface not found");
	r = sf_iface_get(ctx->kv, req->params[0], &iface);
	if (r == -ENOENT)
		return ANSWER(resp, 404, "interface not found");
	if (r < 0)
		return r;
	r = sf_network_get(ctx->kv, iface->network_uuid, &net);
	if (r == -ENOENT) {
		r = ANSWER(resp, 404, "interface network not found");
		goto fail;
	}
	if (r < 0)
		goto fail;
	if (!api_network_owned(&req->caller, net)) {
		r = ANSWER(resp, 404, "interface not found");
		goto fail;
	}
	*ret_iface = iface;
	*ret_network = net;
	return 1;
fail:
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* An instance, as far as we know it: its live (not deleted) interfaces. */
struct instance {
	struct sf_iface **ifaces; /* by order, as the store lists them */
	size_t n;
	char *namespace; /* of their networks; NULL when there are none */
};

static void instance_clear(struct instance *inst)
{
	for (size_t i = 0; i < inst->n; i++)
		sf_iface_free(inst->ifaces[i]);
	free(inst->ifaces);
	free(inst->namespace);
	*inst = (struct instance){0};
}

static int instance_load(struct api_ctx *ctx, const char *uuid, struct instance *ret)
{
	struct instance inst = {0};
	char **uuids = NULL;
	size_t n = 0;
	int r;

	r = sf_iface_list_by_instance(ctx->kv, uuid, &uuids, &n);
	if (r < 0)
		return r;
	inst.ifaces = sf_xcalloc(n ? n : 1, sizeof(struct sf_iface *));
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct sf_iface *iface = NULL;
		struct sf_network *net = NULL;

		r = sf_iface_get(ctx->kv, uuids[i], &iface);
		if (r == -ENOENT) {
			r = 0; /* hard-deleted meanwhile */
			continue;
		}
		if (r == 0 && iface->state != SF_IFACE_DELETED)
			r = sf_network_get(ctx->kv, iface->network_uuid, &net);
		if (r == 0 && net) {
			if (!inst.namespace && net->namespace)
				inst.namespace = sf_xstrdup(net->namespace);
			inst.ifaces[inst.n++] = iface;
			iface = NULL;
		} else if (r == -ENOENT) {
			r = 0; /* its network is gone: not part of the instance any more */
		}
		sf_iface_free(iface);
		sf_network_free(net);
	}
	for (size_t i = 0; i < n; i++)
		free(uuids[i]);
	free(uuids);
	if (r < 0) {
		instance_clear(&inst);
		return r;
	}
	*ret = inst;
	return 0;
}

/* Resolve a networkspec's network_uuid (spec 1.5 "<ref> resolution", as for /networks): 1 with
 * the network, 0 when resp holds the 400/404, or -errno. */
static int network_resolve(struct api_ctx *ctx, const struct api_caller *caller, const char *ref,
			   struct api_response *resp, struct sf_network **ret_network)
{
	int r = api_network_resolve(ctx, caller, ref, ret_network);

	if (r == -ENOENT)
		return ANSWER(resp, 404, "network %s not found", ref);
	if (r == -ENOTUNIQ)
		return ANSWER(resp, 400,
			      "multiple networks have the name \"%s\" in namespace \"%s\"", ref,
			      caller->namespace);
	return r < 0 ? r : 1;
}

/* ---- creating an interface ---- */

/* A networkspec after its syntactic checks; strings borrowed from the request body. */
struct netspec {
	const char *ref;
	const char *address; /* NULL: random; "": none */
	const char *model;
	const char *kind;
	const char *netns;
	char mac[SF_MAC_STRLEN]; /* "": random */
	bool want_float;
};

/* 1 with spec filled, 0 when resp holds the 400. The schema has checked the types. */
static int netspec_parse(const json_t *obj, struct api_response *resp, struct netspec *ret_spec)
{
	struct netspec spec = {.kind = "tap"};
	const char *mac = NULL;
	struct sf_mac m;

	if (!json_is_object(obj))
		return ANSWER(resp, 400, "network specification should contain JSON objects");
	if (sf_json_get_str(obj, "network_uuid", &spec.ref) < 0 || !*spec.ref)
		return ANSWER(resp, 400, "network specification is missing network_uuid");
	(void)sf_json_get_str(obj, "address", &spec.address);
	if (spec.address && strcasecmp(spec.address, "none") == 0)
		spec.address = "";
	(void)sf_json_get_str(obj, "model", &spec.model);
	(void)sf_json_get_str(obj, "kind", &spec.kind);
	(void)sf_json_get_str(obj, "netns", &spec.netns);
	(void)sf_json_get_bool(obj, "float", &spec.want_float);
	if (sf_streq(spec.kind, "veth") && !spec.netns)
		return ANSWER(resp, 400, "netns is required for kind veth");
	if (!sf_streq(spec.kind, "veth") && spec.netns)
		return ANSWER(resp, 400, "netns is only valid for kind veth");
	if (sf_json_get_str(obj, "macaddress", &mac) == 0) {
		if (sf_mac_parse(mac, &m) < 0)
			return ANSWER(resp, 400, "invalid mac address %s", mac);
		if (sf_mac_is_multicast(&m))
			return ANSWER(resp, 400, "mac address %s is not unicast", mac);
		sf_mac_format(&m, spec.mac);
	}
	*ret_spec = spec;
	return 1;
}

/* Reserve a floating address for the interface and record it there, as spec 1.6 float does.
 * 1 with the address, 0 when resp holds the 409/507, or -errno. */
static int float_reserve(struct api_ctx *ctx, const char *uuid, struct api_response *resp,
			 char ret_address[static SF_IPV4_STRLEN])
{
	char address[SF_IPV4_STRLEN];
	int r, k;

	r = sf_ipam_reserve_random(ctx->kv, SF_FLOATING_NETWORK, SF_IPAM_FLOATING,
				   "networkinterface", uuid, address);
	if (r == -ENOSPC)
		return ANSWER(resp, 507, "No free addresses on network");
	if (r < 0)
		return r;
	r = sf_iface_set_floating(ctx->kv, uuid, address);
	if (r < 0) {
		/* never plumbed, so no halo is needed */
		k = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, address, 0);
		if (k < 0)
			sf_log_warn_errno(k, "releasing floating %s failed, the reaper will",
					  address);
		return r == -EEXIST ? ANSWER(resp, 409, "interface is already floating") : r;
	}
	memcpy(ret_address, address, SF_IPV4_STRLEN);
	return 1;
}

static int publish_float(struct api_ctx *ctx, const char *uuid, const char *address)
{
	json_t *args = json_pack("{s:s}", "floating_address", address);

	return publish(ctx, SF_JOB_INTERFACE_FLOAT, uuid, args, NULL);
}

/* After the address checks of spec 1.7: a network that is not (yet) created. */
static int not_ready(struct api_response *resp, const struct sf_network *net)
{
	const char *state = sf_net_state_to_string(net->state);

	if (net->state == SF_NET_INITIAL || net->state == SF_NET_CREATING)
		return api_error(resp, 406, "network %s is not ready (%s)", net->uuid, state);
	return api_error(resp, 409, "network %s is not usable (%s)", net->uuid, state);
}

/* The answer to a failed sf_iface_create(): 0 with resp set, or r itself. */
static int create_error(struct api_response *resp, int r, const char *address, const char *mac)
{
	if (r == -EADDRINUSE && *address)
		return api_error(resp, 409, "address %s in use", address);
	if (r == -ENOSPC)
		return api_error(resp, 507, "No free addresses on network");
	if (r == -EEXIST && *mac)
		return api_error(resp, 409, "mac address %s in use", mac);
	if (r == -EDOM)
		return api_error(resp, 400, MSG_RANGE);
	return r;
}

/* Create the interface of spec on the instance (whose namespace is ns) on node, publish its
 * jobs and answer with its view (spec 1.7). */
static int plug(struct api_ctx *ctx, const struct api_caller *caller, const struct netspec *spec,
		const char *instance_uuid, const char *ns, const char *node, long order,
		struct api_response *resp)
{
	char address[SF_IPV4_STRLEN] = "", floating[SF_IPV4_STRLEN] = "";
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL, *fresh = NULL;
	struct sf_ipv4_net block;
	json_t *view;
	uint32_t a;
	int r;

	r = network_resolve(ctx, caller, spec->ref, resp, &net);
	if (r <= 0)
		return r;
	if (!net->namespace || !sf_streq(net->namespace, ns)) {
		r = api_error(resp, 404, "network %s does not exist", net->uuid);
		goto out;
	}
	if (spec->address && *spec->address) {
		if (sf_ipv4_parse(spec->address, &a) < 0) {
			r = api_error(resp, 400, "address %s is not an IPv4 address",
				      spec->address);
			goto out;
		}
		r = sf_ipv4_net_parse(net->netblock, 0, &block);
		if (r < 0)
			goto out;
		if (!sf_ipv4_net_contains(&block, a)) {
			r = api_error(resp, 400, MSG_RANGE);
			goto out;
		}
		sf_ipv4_format(a, address);
	}
	if (net->state != SF_NET_CREATED) {
		r = not_ready(resp, net);
		goto out;
	}

	r = sf_iface_create(ctx->kv,
			    &(struct sf_iface_spec){
				    .network_uuid = net->uuid,
				    .instance_uuid = instance_uuid,
				    .node = node,
				    .address = spec->address ? address : NULL,
				    .macaddress = spec->mac[0] ? spec->mac : NULL,
				    .order = order,
				    .model = spec->model,
				    .kind = spec->kind,
				    .netns = spec->netns,
			    },
			    &iface);
	if (r < 0) {
		r = create_error(resp, r, address, spec->mac);
		goto out;
	}
	sf_log_info("interface %s of instance %s created on network %s, node %s", iface->uuid,
		    instance_uuid, net->uuid, node);
	audit(ctx, iface->uuid, "create request from REST API",
	      json_pack("{s:s, s:s}", "instance_uuid", instance_uuid, "node", node));

	if (spec->want_float) {
		r = float_reserve(ctx, iface->uuid, resp, floating);
		if (r == 0) {
			/* answered 507: the interface must not stay half made (upstream deletes
			 * the instance); nothing was published for it yet */
			int k = sf_iface_delete(ctx->kv, iface->uuid,
						(unsigned)ctx->cfg->halo_seconds);

			if (k < 0)
				r = sf_log_err_errno(k, "undoing interface %s failed", iface->uuid);
			goto out;
		}
		if (r < 0)
			goto out;
		audit(ctx, iface->uuid, "float request from REST API",
		      json_pack("{s:s}", "floating", floating));
	}

	r = publish(ctx, SF_JOB_INTERFACE_PLUG, iface->uuid, NULL, node);
	if (r == 0 && spec->want_float)
		r = publish_float(ctx, iface->uuid, floating);
	if (r == 0)
		r = publish(ctx, SF_JOB_NETWORK_DHCP_HOSTS, net->uuid, NULL, NULL);
	if (r < 0)
		goto out;

	r = sf_iface_get(ctx->kv, iface->uuid, &fresh);
	if (r < 0)
		goto out;
	view = sf_iface_view(ctx->kv, fresh);
	r = view ? api_ok(resp, view) : -EIO;
out:
	sf_iface_free(fresh);
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* POST /interfaces: the port-binding call. */
static int h_iface_create(struct api_ctx *ctx, const struct api_request *req,
			  struct api_response *resp)
{
	const struct api_caller *caller = &req->caller;
	const char *instance_uuid = NULL, *node = NULL, *ns = NULL;
	struct instance inst = {0};
	struct netspec spec = {0};
	json_t *noderec = NULL;
	int64_t order = -1;
	int r;

	r = netspec_parse(req->body, resp, &spec);
	if (r <= 0)
		return r;
	(void)sf_json_get_str(req->body, "instance_uuid", &instance_uuid);
	(void)sf_json_get_str(req->body, "node", &node);
	(void)sf_json_get_int(req->body, "order", &order);
	if (sf_json_get_str(req->body, "namespace", &ns) == 0) {
		if (!caller_owns(caller, ns))
			return api_error(
				resp, 401,
				"only admins can create resources in a different namespace");
		if (!api_namespace_exists(ctx, ns))
			return api_error(resp, 404, "namespace not found");
	}

	r = instance_load(ctx, instance_uuid, &inst);
	if (r < 0)
		return r;
	if (inst.n > 0) {
		const char *inst_node = inst.ifaces[inst.n - 1]->node;

		if (!caller_owns(caller, inst.namespace)) {
			r = api_error(resp, 404, "instance not found");
			goto out;
		}
		if (ns && !sf_streq(ns, inst.namespace)) {
			r = api_error(resp, 400, "instance %s is in namespace %s", instance_uuid,
				      inst.namespace);
			goto out;
		}
		if (!sf_streq(node, inst_node)) {
			r = api_error(resp, 400, "instance %s is on node %s", instance_uuid,
				      inst_node);
			goto out;
		}
		ns = inst.namespace;
	} else if (!ns) {
		ns = caller->namespace;
	}

	/* hypervisors register themselves (sf_node_heartbeat); plug only on a known one */
	r = sf_node_get(ctx->kv, node, &noderec);
	if (r == -ENOENT) {
		r = api_error(resp, 404, "node %s not found", node);
		goto out;
	}
	if (r < 0)
		goto out;
	if (!sf_streq(json_string_value(json_object_get(noderec, "role")), "hypervisor")) {
		r = api_error(resp, 400, "node %s is not a hypervisor", node);
		goto out;
	}
	r = plug(ctx, caller, &spec, instance_uuid, ns, node, (long)order, resp);
out:
	json_decref(noderec);
	instance_clear(&inst);
	return r;
}

/* DELETE /interfaces/<uuid>: mark it deleted now (address into the halo), then let the
 * hypervisor unplug it and the network node drop its DHCP host and lease. */
static int h_iface_delete(struct api_ctx *ctx, const struct api_request *req,
			  struct api_response *resp)
{
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL, *fresh = NULL;
	char **left = NULL;
	size_t n_left = 0;
	json_t *view;
	int r;

	r = iface_lookup(ctx, req, resp, &iface, &net);
	if (r <= 0)
		return r;
	if (iface->state == SF_IFACE_DELETED) {
		r = api_ok(resp, NULL);
		goto out;
	}
	audit(ctx, iface->uuid, "delete request from REST API", NULL);
	r = sf_iface_delete(ctx->kv, iface->uuid, (unsigned)ctx->cfg->halo_seconds);
	if (r < 0)
		goto out;
	sf_log_info("interface %s deleted", iface->uuid);
	r = publish(ctx, SF_JOB_INTERFACE_UNPLUG, iface->uuid, NULL, iface->node);
	if (r == 0 && iface->floating) /* spec 3.2: a deleted interface is defloated */
		r = publish(ctx, SF_JOB_INTERFACE_DEFLOAT, iface->uuid, NULL, NULL);
	if (r == 0)
		r = publish(ctx, SF_JOB_NETWORK_DHCP_HOSTS, net->uuid, NULL, NULL);
	if (r < 0)
		goto out;
	/* the last interface of a delete-wait network lets the network go */
	if (net->state == SF_NET_DELETE_WAIT) {
		r = sf_network_interfaces(ctx->kv, net->uuid, &left, &n_left);
		if (r == 0 && n_left == 0)
			r = publish(ctx, SF_JOB_NETWORK_DESTROY, net->uuid, NULL, NULL);
		if (r < 0)
			goto out;
	}
	r = sf_iface_get(ctx->kv, iface->uuid, &fresh);
	if (r < 0)
		goto out;
	view = sf_iface_view(ctx->kv, fresh);
	r = view ? api_ok(resp, view) : -EIO;
out:
	for (size_t i = 0; i < n_left; i++)
		free(left[i]);
	free(left);
	sf_iface_free(fresh);
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* GET /interfaces/<uuid> */
static int h_iface_get(struct api_ctx *ctx, const struct api_request *req,
		       struct api_response *resp)
{
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL;
	json_t *view;
	int r;

	r = iface_lookup(ctx, req, resp, &iface, &net);
	if (r <= 0)
		return r;
	view = sf_iface_view(ctx->kv, iface);
	r = view ? api_ok(resp, view) : -EIO;
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* POST /interfaces/<uuid>/float */
static int h_iface_float(struct api_ctx *ctx, const struct api_request *req,
			 struct api_response *resp)
{
	char floating[SF_IPV4_STRLEN] = "";
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL;
	int r;

	r = iface_lookup(ctx, req, resp, &iface, &net);
	if (r <= 0)
		return r;
	if (iface->state == SF_IFACE_DELETED)
		r = api_error(resp, 409, "interface is deleted");
	else if (iface->floating)
		r = api_error(resp, 409, "interface is already floating");
	else
		r = float_reserve(ctx, iface->uuid, resp, floating);
	if (r <= 0)
		goto out;
	audit(ctx, iface->uuid, "float request from REST API",
	      json_pack("{s:s}", "floating", floating));
	r = publish_float(ctx, iface->uuid, floating);
	if (r == 0)
		r = api_ok(resp, NULL);
out:
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* POST /interfaces/<uuid>/defloat: the network node removes the NAT rules, then releases the
 * address and clears "floating" (spec 1.6), so the view keeps the address until it has. */
static int h_iface_defloat(struct api_ctx *ctx, const struct api_request *req,
			   struct api_response *resp)
{
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL;
	int r;

	r = iface_lookup(ctx, req, resp, &iface, &net);
	if (r <= 0)
		return r;
	if (iface->floating) {
		audit(ctx, iface->uuid, "defloat request from REST API",
		      json_pack("{s:s}", "floating", iface->floating));
		r = publish(ctx, SF_JOB_INTERFACE_DEFLOAT, iface->uuid, NULL, NULL);
	}
	if (r >= 0)
		r = api_ok(resp, NULL);
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* ---- metadata (spec 1.5.10 rules) ---- */

static const struct api_metadata_class iface_metadata_class = {
	.object_type = SF_OBJECT_NETWORKINTERFACE,
	.get = sf_iface_metadata_get,
	.set = sf_iface_metadata_set,
	.del = sf_iface_metadata_delete,
};

/* GET, POST /interfaces/<uuid>/metadata; PUT, DELETE /interfaces/<uuid>/metadata/<key> */
static int h_iface_metadata(struct api_ctx *ctx, const struct api_request *req,
			    struct api_response *resp)
{
	struct sf_network *net = NULL;
	struct sf_iface *iface = NULL;
	int r;

	r = iface_lookup(ctx, req, resp, &iface, &net);
	if (r <= 0)
		return r;
	r = api_metadata_serve(ctx, &iface_metadata_class, iface->uuid, req, resp);
	sf_iface_free(iface);
	sf_network_free(net);
	return r;
}

/* ---- instances ---- */

/* The instance of the request if the caller may see it: 1, 0 when resp holds the 404, -errno. */
static int instance_lookup(struct api_ctx *ctx, const struct api_request *req,
			   struct api_response *resp, struct instance *ret_inst)
{
	struct instance inst = {0};
	int r;

	if (!sf_uuid_is_valid(req->params[0]))
		return ANSWER(resp, 404, "instance not found");
	r = instance_load(ctx, req->params[0], &inst);
	if (r < 0)
		return r;
	if (inst.n > 0 && !caller_owns(&req->caller, inst.namespace)) {
		instance_clear(&inst);
		return ANSWER(resp, 404, "instance not found");
	}
	*ret_inst = inst;
	return 1;
}

/* GET /instances/<uuid>/interfaces */
static int h_instance_interfaces(struct api_ctx *ctx, const struct api_request *req,
				 struct api_response *resp)
{
	struct instance inst = {0};
	json_t *list, *view;
	int r;

	r = instance_lookup(ctx, req, resp, &inst);
	if (r <= 0)
		return r;
	if (inst.n == 0) {
		r = api_error(resp, 404, "instance not found");
		goto out;
	}
	list = json_array();
	for (size_t i = 0; i < inst.n; i++) {
		view = sf_iface_view(ctx->kv, inst.ifaces[i]);
		if (!view) {
			json_decref(list);
			r = -EIO;
			goto out;
		}
		json_array_append_new(list, view);
	}
	r = api_ok(resp, list);
out:
	instance_clear(&inst);
	return r;
}

/* POST /instances/<uuid>/interfaces {"network": networkspec}: hot plug on the instance's node. */
static int h_instance_hotplug(struct api_ctx *ctx, const struct api_request *req,
			      struct api_response *resp)
{
	struct instance inst = {0};
	const struct sf_iface *last;
	struct netspec spec = {0};
	int r;

	r = instance_lookup(ctx, req, resp, &inst);
	if (r <= 0)
		return r;
	r = netspec_parse(json_object_get(req->body, "network"), resp, &spec);
	if (r <= 0)
		goto out;
	if (inst.n == 0) {
		r = api_error(resp, 400,
			      "instance has no interfaces; use POST /interfaces with a node");
		goto out;
	}
	last = inst.ifaces[inst.n - 1];
	r = plug(ctx, &req->caller, &spec, req->params[0], inst.namespace, last->node,
		 last->order + 1, resp);
out:
	instance_clear(&inst);
	return r;
}

const struct api_route api_routes_interfaces[] = {
	{"POST", "/interfaces", "interfaces-post.json", 0, h_iface_create},
	{"GET", "/interfaces/<uuid>", NULL, 0, h_iface_get},
	{"DELETE", "/interfaces/<uuid>", NULL, 0, h_iface_delete},
	{"POST", "/interfaces/<uuid>/float", NULL, 0, h_iface_float},
	{"POST", "/interfaces/<uuid>/defloat", NULL, 0, h_iface_defloat},
	{"GET", "/interfaces/<uuid>/metadata", NULL, 0, h_iface_metadata},
	{"POST", "/interfaces/<uuid>/metadata", "interfaces-metadata-post.json", 0,
	 h_iface_metadata},
	{"PUT", "/interfaces/<uuid>/metadata/<key>", "interfaces-metadata-put.json", 0,
	 h_iface_metadata},
	{"DELETE", "/interfaces/<uuid>/metadata/<key>", NULL, 0, h_iface_metadata},
	{"GET", "/instances/<uuid>/interfaces", NULL, 0, h_instance_interfaces},
	{"POST", "/instances/<uuid>/interfaces", "interfaces-hotplug.json", 0, h_instance_hotplug},
	{0},
};
