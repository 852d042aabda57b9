// SPDX-License-Identifier: Apache-2.0
/* Converging one network on this node, telling the other participants, publishing. See hv.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/mesh.h"
#include "hypervisor/hv.h"
#include "sf/err.h"
#include "sf/mq.h"
#include "sf/naming.h"
#include "sf/store.h"

SF_LOG_MODULE("hypervisor");

void hv_event(struct wk_ctx *ctx, enum sf_object_type type, const char *uuid,
	      enum sf_event_type evtype, const char *message, json_t *extra)
{
	(void)wk_event(ctx, type, uuid, evtype, message, extra);
	json_decref(extra);
}

int hv_publish(struct wk_ctx *ctx, enum sf_job_type type, const char *uuid, const char *key)
{
	const char *rid = ctx->job && ctx->job->request_id[0] ? ctx->job->request_id : NULL;
	struct sf_diag diag = {0};
	struct sf_job *job = NULL;
	char *body = NULL;
	int r;

	r = sf_job_new(type, uuid, NULL, rid, &job);
	if (r == 0 && ctx->schemas)
		r = sf_job_check(ctx->schemas, job, &diag);
	if (r < 0) {
		sf_log_err_errno(r, "job %s for %s is not valid: %s", sf_job_type_to_string(type),
				 uuid, diag.message);
		goto out;
	}
	body = sf_job_serialize(job);
	r = sf_mq_publish(ctx->mq, SF_MQ_JOBS_EXCHANGE, key, body, strlen(body),
			  &(struct sf_mq_msg_props){.message_id = job->id});
	if (r == 0)
		sf_log_debug("published %s %s for %s to '%s'", sf_job_type_to_string(type), job->id,
			     uuid, key);
out:
	free(body);
	sf_job_free(job);
	return r;
}

int hv_notify_peers(struct wk_ctx *ctx, const char *uuid, const struct hv_local *local)
{
	int r, first = 0;

	for (size_t i = 0; i <= local->n_other_nodes; i++) {
		bool nn = i == local->n_other_nodes;
		char *key = nn ? sf_xstrdup("networknode")
			       : sf_xasprintf("hypervisor.%s", local->other_nodes[i]);

		r = hv_publish(ctx, nn ? SF_JOB_NETWORK_DHCP_HOSTS : SF_JOB_NETWORK_DEPLOY, uuid,
			       key);
		if (r == -ENOENT)
			sf_log_warn("network %s: no queue for '%s', its reconciler will catch up",
				    uuid, key);
		else if (r < 0)
			first = first ? first : r;
		free(key);
	}
	if (first < 0)
		sf_log_warn_errno(first, "network %s: telling the other participants failed", uuid);
	return first;
}

/* One interface could not be plugged: its record goes to error, with an event. */
static int iface_failed(struct wk_ctx *ctx, const struct sf_iface *ifc, const char *what, int r)
{
	char *reason = sf_xasprintf("%s: %s", what, sf_strerror(r));
	int k;

	sf_log_err("interface %s: %s", ifc->uuid, reason);
	k = sf_iface_set_state(ctx->kv, ifc->uuid, SF_IFACE_ERROR, NULL);
	if (k == 0) {
		hv_event(ctx, SF_OBJECT_NETWORKINTERFACE, ifc->uuid, SF_EVENT_MUTATE,
			 "set attribute",
			 json_pack("{s:s, s:s}", "attribute", "state", "value", "error"));
		hv_event(ctx, SF_OBJECT_NETWORKINTERFACE, ifc->uuid, SF_EVENT_AUDIT,
			 "interface error", json_pack("{s:s}", "error", reason));
	}
	sf_diag_set(&ctx->diag, 500, "", "", "%s", reason);
	free(reason);
	return k < 0 && k != -EINVAL ? k : 0; /* -EINVAL: deleted meanwhile */
}

static int plug_one(struct wk_ctx *ctx, const struct hv_net *hn, const struct sf_iface *ifc,
		    struct hv_changes *changes)
{
	struct hv_state *st = ctx->userdata;
	struct hv_port port;
	int r, k;

	if (ifc->state != SF_IFACE_INITIAL && ifc->state != SF_IFACE_CREATED)
		return 0; /* error is dead (spec 3.2) */
	r = hv_port_from(ifc, &port);
	if (r < 0) {
		k = iface_failed(ctx, ifc, "the interface record cannot be plugged", r);
		return k < 0 ? k : r;
	}
	/* a missing port of an interface not plugged yet is no drift: its plug job is on the way */
	r = hv_port_plug(st->node, hn, &port, ifc->state == SF_IFACE_CREATED ? changes : NULL);
	if (r < 0 && wk_error_is_transient(r))
		return r;
	if (r < 0) {
		k = iface_failed(ctx, ifc,
				 port.kind == HV_PORT_VETH ? "plugging the veth failed"
							   : "plugging the tap failed",
				 r);
		return k < 0 ? k : r;
	}
	if (ifc->state == SF_IFACE_INITIAL) {
		r = sf_iface_set_state(ctx->kv, ifc->uuid, SF_IFACE_CREATED, NULL);
		if (r == -EINVAL)
			return 0; /* deleted meanwhile: its unplug job follows */
		if (r < 0)
			return r;
		sf_log_info("interface %s plugged (%s)", ifc->uuid,
			    hv_port_kind_to_string(port.kind));
		hv_event(ctx, SF_OBJECT_NETWORKINTERFACE, ifc->uuid, SF_EVENT_MUTATE,
			 "set attribute",
			 json_pack("{s:s, s:s}", "attribute", "state", "value", "created"));
	}
	return 0;
}

static int mesh(struct wk_ctx *ctx, const struct sf_network *n)
{
	struct hv_state *st = ctx->userdata;
	struct wk_mesh_diff diff = {0};
	char vx[SF_IFNAMSIZ], **peers = NULL;
	size_t n_peers = 0;
	int r;

	r = sf_name_format(SF_NAME_VXLAN, n->vxid, vx);
	if (r == 0)
		r = wk_mesh_peers(ctx->kv, n->uuid, st->cfg->mesh_ip, &peers, &n_peers);
	if (r < 0)
		return r;
	r = wk_mesh_sync(st->node, vx, peers, n_peers, st->cfg->mesh_ip, &diff);
	wk_mesh_report(ctx, n->uuid, &diff);
	wk_mesh_diff_clear(&diff);
	sf_netops_strv_free(peers);
	return r;
}

static int remove_network(struct wk_ctx *ctx, const struct sf_network *n)
{
	struct hv_state *st = ctx->userdata;
	char br[SF_IFNAMSIZ], vx[SF_IFNAMSIZ];
	int r;

	r = sf_name_format(SF_NAME_BRIDGE, n->vxid, br);
	if (r == 0)
		r = sf_name_format(SF_NAME_VXLAN, n->vxid, vx);
	if (r < 0 || (!sf_netops_link_exists(st->node, br) && !sf_netops_link_exists(st->node, vx)))
		return r;
	r = hv_net_remove(st->node, n->vxid);
	if (r < 0)
		return sf_log_err_errno(r, "network %s: removing %s and %s failed", n->uuid, vx,
					br);
	sf_log_info("network %s: removed from this node (%s, %s)", n->uuid, vx, br);
	hv_event(ctx, SF_OBJECT_NETWORK, n->uuid, SF_EVENT_AUDIT, "removing network on hypervisor",
		 json_pack("{s:s}", "node", st->cfg->node_name));
	return 0;
}

int hv_converge(struct wk_ctx *ctx, const struct sf_network *n, const struct hv_local *local,
		const char *focus, unsigned flags)
{
	struct hv_state *st = ctx->userdata;
	struct hv_changes changes = {0};
	char br[SF_IFNAMSIZ];
	struct hv_net hn;
	bool settled = false; /* was anything plugged here already? else nothing is drift */
	int r, focus_r = 0;

	if (local->n == 0 || n->state == SF_NET_DELETED)
		return remove_network(ctx, n);
	hv_net_from(st, n, &hn);
	r = sf_name_format(SF_NAME_BRIDGE, n->vxid, br);
	if (r < 0)
		return r;
	if (!sf_netops_link_exists(st->node, br))
		hv_event(ctx, SF_OBJECT_NETWORK, n->uuid, SF_EVENT_AUDIT,
			 "creating network on hypervisor",
			 json_pack("{s:s}", "node", st->cfg->node_name));
	for (size_t i = 0; i < local->n; i++)
		settled |= local->ifaces[i]->state == SF_IFACE_CREATED;
	r = hv_net_ensure(st->node, &hn, settled ? &changes : NULL);
	if (r < 0) {
		sf_diag_set(&ctx->diag, 500, "", "", "network %s: vxlan and bridge: %s", n->uuid,
			    sf_strerror(r));
		sf_log_err("%s", ctx->diag.message);
		goto out;
	}
	for (size_t i = 0; i < local->n; i++) {
		r = plug_one(ctx, &hn, local->ifaces[i], &changes);
		if (r < 0 && wk_error_is_transient(r))
			goto out;
		if (r < 0 && sf_streq(local->ifaces[i]->uuid, focus))
			focus_r = r;
	}
	r = mesh(ctx, n);
	if (r < 0 && wk_error_is_transient(r))
		goto out;
	if (r < 0)
		sf_log_warn_errno(r, "network %s: the flood list is not right yet", n->uuid);
	for (size_t i = 0; (flags & HV_REPAIR) && i < changes.n; i++) {
		sf_log_info("network %s: repaired: %s", n->uuid, changes.v[i]);
		hv_event(ctx, SF_OBJECT_NETWORK, n->uuid, SF_EVENT_AUDIT,
			 "reconciler repaired drift",
			 json_pack("{s:s, s:s}", "problem", changes.v[i], "node",
				   st->cfg->node_name));
	}
	r = focus_r < 0 ? focus_r : (int)changes.n;
out:
	hv_changes_clear(&changes);
	return r;
}
