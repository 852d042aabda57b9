// SPDX-License-Identifier: Apache-2.0
/*
 * The job handlers of the network node (spec 6.4, 6.8, 6.9, 6.10, 6.12, 6.14; the job types of
 * schemas/jobs/job.json). Each reads the current record and converges: the job only says which
 * object changed. Transient errors (Redis or RabbitMQ lost) are returned as they are so the job
 * loop retries; other failures of a deploy put the network in state error with the reason.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/err.h"
#include "sf/json.h"
#include "sf/store.h"

SF_LOG_MODULE("networknode");

static json_t *attr(const char *attribute, json_t *value /* stolen */)
{
	return json_pack("{s:s, s:o}", "attribute", attribute, "value",
			 value ? value : json_null());
}

static void state_event(struct wk_ctx *ctx, const char *uuid, enum sf_net_state s)
{
	nn_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_MUTATE, "set attribute",
		 attr("state", json_string(sf_net_state_to_string(s))));
}

static int set_state(struct wk_ctx *ctx, struct sf_network *net, enum sf_net_state to,
		     const char *error)
{
	int r = sf_network_set_state(ctx->kv, net->uuid, to, error, NULL);

	if (r == -EINVAL) { /* moved on meanwhile (e.g. deleted): the newer intent wins */
		sf_log_info("network %s: not moving to %s, its state changed meanwhile", net->uuid,
			    sf_net_state_to_string(to));
		return 0;
	}
	if (r < 0)
		return r;
	if (net->state != to) {
		sf_log_info("network %s: %s -> %s", net->uuid, sf_net_state_to_string(net->state),
			    sf_net_state_to_string(to));
		state_event(ctx, net->uuid, to);
	}
	net->state = to;
	return 0;
}

/* Floating-pool reservations of a network: type type, user ["network", uuid]. */
static int reservations_of(struct sf_kv *kv, const char *uuid, enum sf_ipam_type type,
			   json_t **ret_addresses)
{
	json_t *recs = NULL, *rec, *out;
	size_t i;
	int r;

	r = sf_ipam_list_user(kv, SF_FLOATING_NETWORK, "network", uuid, &recs);
	if (r < 0)
		return r;
	out = json_array();
	json_array_foreach(recs, i, rec)
		if (sf_streq(json_string_value(json_object_get(rec, "type")),
			     sf_ipam_type_to_string(type)))
			json_array_append(out, json_object_get(rec, "address"));
	json_decref(recs);
	*ret_addresses = out;
	return 0;
}

/* Spec 6.4 step 6: a floating gateway for a NAT network. A reservation left by a deploy that
 * died before recording it is reused. 1 when the pool is full (the network is now in error). */
static int ensure_gateway(struct wk_ctx *ctx, struct sf_network *net)
{
	struct nn_state *st = ctx->userdata;
	char address[SF_IPV4_STRLEN];
	json_t *mine = NULL;
	int r;

	if (!net->provide_nat || net->floating_gateway)
		return 0;
	r = reservations_of(ctx->kv, net->uuid, SF_IPAM_GATEWAY, &mine);
	if (r < 0)
		return r;
	if (json_array_size(mine)) {
		(void)snprintf(address, sizeof(address), "%s",
			       json_string_value(json_array_get(mine, 0)));
	} else {
		r = sf_ipam_reserve_random(ctx->kv, SF_FLOATING_NETWORK, SF_IPAM_GATEWAY, "network",
					   net->uuid, address);
	}
	json_decref(mine);
	if (r == -ENOSPC) {
		sf_log_err("network %s: the floating pool %s is full", net->uuid,
			   st->cfg->floating_network);
		r = set_state(ctx, net, SF_NET_ERROR, "Unable to allocate floating gateway IP");
		if (r == 0)
			nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_AUDIT, "network error",
				 json_pack("{s:s}", "error",
					   "Unable to allocate floating gateway IP"));
		return r < 0 ? r : 1;
	}
	if (r == 0)
		r = sf_network_set_floating_gateway(ctx->kv, net->uuid, address);
	if (r < 0)
		return r;
	net->floating_gateway = sf_xstrdup(address);
	nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_MUTATE, "set attribute",
		 attr("routing", json_pack("{s:s}", "floating_gateway", address)));
	return 0;
}

/* A deploy failed for a reason a retry will not fix: state error, with the reason. */
static int deploy_failed(struct wk_ctx *ctx, struct sf_network *net, int r)
{
	const char *reason = ctx->diag.message[0] ? ctx->diag.message : sf_strerror(r);
	int k;

	if (wk_error_is_transient(r))
		return r;
	k = set_state(ctx, net, SF_NET_ERROR, reason);
	if (k < 0)
		return k;
	nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_AUDIT, "network error",
		 json_pack("{s:s}", "error", reason));
	return r;
}

int nn_deploy_network(struct wk_ctx *ctx, struct sf_network *net)
{
	int r;

	if (net->state == SF_NET_DELETED) {
		nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_AUDIT,
			 "refusing to create deleted network on network node", NULL);
		return 0;
	}
	if (net->state == SF_NET_ERROR) {
		sf_log_info("network %s is in state error, not deploying it", net->uuid);
		return 0;
	}
	nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_AUDIT,
		 "creating network on network node", NULL);
	r = ensure_gateway(ctx, net);
	if (r != 0)
		return r < 0 ? deploy_failed(ctx, net, r) : 0;
	r = nn_converge(ctx, net, NULL, 0);
	if (r < 0)
		return deploy_failed(ctx, net, r);
	if (net->state == SF_NET_INITIAL || net->state == SF_NET_CREATING)
		return set_state(ctx, net, SF_NET_CREATED, NULL);
	return 0;
}

int nn_release_floating(struct wk_ctx *ctx, struct sf_network *net)
{
	struct nn_state *st = ctx->userdata;
	unsigned halo = (unsigned)st->cfg->halo_seconds;
	json_t *routed = NULL, *a;
	size_t i;
	int r = 0;

	if (net->floating_gateway) {
		r = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, net->floating_gateway, halo);
		if (r == 0 || r == -ENOENT)
			r = sf_network_set_floating_gateway(ctx->kv, net->uuid, NULL);
		if (r < 0)
			return r;
		nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_MUTATE, "set attribute",
			 attr("routing", json_pack("{s:n}", "floating_gateway")));
		free(net->floating_gateway);
		net->floating_gateway = NULL;
	}
	r = reservations_of(ctx->kv, net->uuid, SF_IPAM_ROUTED, &routed);
	json_array_foreach(routed, i, a) {
		if (r < 0)
			break;
		r = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, json_string_value(a), halo);
		if (r == -ENOENT)
			r = 0;
	}
	json_decref(routed);
	return r;
}

int nn_destroy_network(struct wk_ctx *ctx, struct sf_network *net)
{
	struct nn_state *st = ctx->userdata;
	char **ifaces = NULL;
	size_t n = 0;
	int r;

	if (net->state == SF_NET_DELETED)
		return 0;
	r = sf_network_interfaces(ctx->kv, net->uuid, &ifaces, &n);
	for (size_t i = 0; i < n; i++)
		free(ifaces[i]);
	free(ifaces);
	if (r < 0)
		return r;
	/* the last interface's deletion sends another destroy; a network in error is dead and
	 * cannot wait in delete-wait (spec 3.1), so it goes now (ARCHITECTURE 5.4) */
	if (n > 0 && net->state != SF_NET_ERROR) {
		sf_log_info("network %s still has %zu interfaces: destroying it later", net->uuid,
			    n);
		return net->state == SF_NET_CREATED ? set_state(ctx, net, SF_NET_DELETE_WAIT, NULL)
						    : 0;
	}
	nn_event(ctx, SF_OBJECT_NETWORK, net->uuid, SF_EVENT_AUDIT,
		 "deleting network on network node", NULL);
	r = nn_teardown(ctx, net->uuid, net->vxid);
	if (r == 0)
		r = nn_release_floating(ctx, net);
	if (r == 0)
		r = set_state(ctx, net, SF_NET_DELETED, NULL);
	if (r == 0)
		r = nn_made_del(ctx->kv, st, net->uuid);
	return r;
}

/* ---- handlers ---------------------------------------------------------------------------- */

static int network_of(struct wk_ctx *ctx, const char *uuid, struct sf_network **ret)
{
	int r = sf_network_get(ctx->kv, uuid, ret);

	if (r == -ENOENT)
		sf_diag_set(&ctx->diag, 404, "/object/uuid", "", "network %s does not exist", uuid);
	return r;
}

/* Networks whose devices follow their record: not dead (spec 3.1), or delete-wait, which
 * still serves its remaining interfaces. */
static bool convergeable(const struct sf_network *net)
{
	return net->state != SF_NET_DELETED && net->state != SF_NET_ERROR;
}

int nn_h_deploy(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct sf_network *net = NULL;
	int r;

	(void)ret_reply;
	r = network_of(ctx, job->object_uuid, &net);
	if (r == 0)
		r = nn_deploy_network(ctx, net);
	sf_network_free(net);
	return r;
}

int nn_h_destroy(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct sf_network *net = NULL;
	int r;

	(void)ret_reply;
	r = sf_network_get(ctx->kv, job->object_uuid, &net);
	if (r == -ENOENT) /* purged already; a leftover is the reconciler's */
		return 0;
	if (r == 0)
		r = nn_destroy_network(ctx, net);
	sf_network_free(net);
	return r;
}

/* network.dns_update, network.dhcp_hosts, and what route/unroute/float do once their event is
 * out: converge the whole network (hosts files and SIGHUP, leases of interfaces that left,
 * flood entries toward new hypervisors, routes, NAT rules). */
static int update(struct wk_ctx *ctx, const char *uuid, const char *exclude_iface)
{
	struct sf_network *net = NULL;
	int r;

	r = network_of(ctx, uuid, &net);
	if (r < 0)
		return r;
	if (convergeable(net)) {
		r = nn_converge(ctx, net, exclude_iface, 0);
		r = r < 0 ? r : 0;
	} else {
		sf_log_info("network %s is %s: nothing to update", uuid,
			    sf_net_state_to_string(net->state));
	}
	sf_network_free(net);
	return r;
}

int nn_h_update(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	(void)ret_reply;
	return update(ctx, job->object_uuid, NULL);
}

int nn_h_route(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	const char *address = NULL;

	(void)ret_reply;
	(void)sf_json_get_str(job->args, "address", &address);
	nn_event(ctx, SF_OBJECT_NETWORK, job->object_uuid, SF_EVENT_AUDIT,
		 job->type == SF_JOB_NETWORK_ROUTE ? "routing floating ip to network"
						   : "unrouting floating ip to network",
		 json_pack("{s:s?}", "floating", address));
	return update(ctx, job->object_uuid, NULL);
}

int nn_h_float(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct sf_iface *ifc = NULL;
	int r;

	(void)ret_reply;
	r = sf_iface_get(ctx->kv, job->object_uuid, &ifc);
	if (r == -ENOENT)
		sf_diag_set(&ctx->diag, 404, "/object/uuid", "", "interface %s does not exist",
			    job->object_uuid);
	if (r < 0)
		return r;
	if (ifc->floating && ifc->state != SF_IFACE_DELETED) {
		nn_event(ctx, SF_OBJECT_NETWORK, ifc->network_uuid, SF_EVENT_AUDIT,
			 "adding floating ip",
			 json_pack("{s:s, s:s?}", "floating", ifc->floating, "inner", ifc->ipv4));
		r = update(ctx, ifc->network_uuid, NULL);
	}
	sf_iface_free(ifc);
	return r;
}

int nn_h_defloat(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network *net = NULL;
	struct sf_iface *ifc = NULL;
	int r;

	(void)ret_reply;
	r = sf_iface_get(ctx->kv, job->object_uuid, &ifc);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	if (!ifc->floating)
		goto out;
	nn_event(ctx, SF_OBJECT_NETWORK, ifc->network_uuid, SF_EVENT_AUDIT, "removing floating",
		 json_pack("{s:s, s:s?}", "floating", ifc->floating, "inner", ifc->ipv4));
	r = sf_network_get(ctx->kv, ifc->network_uuid, &net);
	if (r == 0 && convergeable(net)) {
		/* the NAT rules and the address go first, then the address goes back */
		r = nn_converge(ctx, net, ifc->uuid, 0);
		r = r < 0 ? r : 0;
	}
	if (r == -ENOENT)
		r = 0;
	if (r == 0) {
		r = sf_ipam_release(ctx->kv, SF_FLOATING_NETWORK, ifc->floating,
				    (unsigned)st->cfg->halo_seconds);
		if (r == -ENOENT)
			r = 0;
	}
	if (r == 0)
		r = sf_iface_set_floating(ctx->kv, ifc->uuid, NULL);
out:
	sf_network_free(net);
	sf_iface_free(ifc);
	return r;
}

int nn_h_ping(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network *net = NULL;
	const char *address = NULL;
	int64_t count = st->cfg->ping_count, interval = st->cfg->ping_interval_ms;
	int r;

	(void)sf_json_get_str(job->args, "address", &address);
	(void)sf_json_get_int(job->args, "count", &count);
	(void)sf_json_get_int(job->args, "interval_ms", &interval);
	r = network_of(ctx, job->object_uuid, &net);
	if (r < 0)
		return r;
	sf_network_free(net);
	return nn_ping(st, job->object_uuid, address, (unsigned)count, (unsigned)interval,
		       ret_reply);
}

int nn_h_reconcile(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct nn_state *st = ctx->userdata;

	(void)ret_reply;
	if (!sf_streq(job->object_uuid, st->cfg->node_name)) {
		sf_diag_set(&ctx->diag, 400, "/object/uuid", "", "this is node %s, not %s",
			    st->cfg->node_name, job->object_uuid);
		return -EINVAL;
	}
	return nn_reconcile(ctx);
}
