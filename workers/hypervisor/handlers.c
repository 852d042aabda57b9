// SPDX-License-Identifier: Apache-2.0
/*
 * The hypervisor's job handlers (see hv.h). Each reads the records and converges the
 * interface's or the job's network on this node; the job only says which object changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv.h"
#include "sf/err.h"
#include "sf/store.h"

SF_LOG_MODULE("hypervisor");

/* The interface of a job, on this node: 1 with it, 0 when there is nothing to do, or -errno. */
static int iface_of(struct wk_ctx *ctx, const struct sf_job *job, struct sf_iface **ret)
{
	struct hv_state *st = ctx->userdata;
	struct sf_iface *ifc = NULL;
	int r;

	r = sf_iface_get(ctx->kv, job->object_uuid, &ifc);
	if (r == -ENOENT) {
		sf_diag_set(&ctx->diag, 404, "/object/uuid", "", "interface %s does not exist",
			    job->object_uuid);
		return r;
	}
	if (r < 0)
		return r;
	if (!sf_streq(ifc->node, st->cfg->node_name)) {
		sf_diag_set(&ctx->diag, 400, "/object/uuid", "",
			    "interface %s is on node %s, this is %s", ifc->uuid,
			    ifc->node ? ifc->node : "(none)", st->cfg->node_name);
		sf_iface_free(ifc);
		return -EINVAL;
	}
	*ret = ifc;
	return 1;
}

/* Was the interface (live, on this node) the only one of its network here? Then this node has
 * just joined or left the network's mesh. */
static bool only_one(const struct hv_local *local, const char *uuid)
{
	return local->n == 1 && strcmp(local->ifaces[0]->uuid, uuid) == 0;
}

int hv_h_plug(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct sf_network *net = NULL;
	struct sf_iface *ifc = NULL;
	struct hv_local local = {0};
	int r;

	(void)ret_reply;
	r = iface_of(ctx, job, &ifc);
	if (r <= 0)
		return r;
	if (ifc->state == SF_IFACE_DELETED || ifc->state == SF_IFACE_ERROR) {
		sf_log_info("interface %s is %s: not plugging it", ifc->uuid,
			    sf_iface_state_to_string(ifc->state));
		r = 0;
		goto out;
	}
	r = sf_network_get(ctx->kv, ifc->network_uuid, &net);
	if (r == -ENOENT)
		sf_diag_set(&ctx->diag, 404, "", "", "network %s of interface %s does not exist",
			    ifc->network_uuid, ifc->uuid);
	if (r < 0)
		goto out;
	if (net->state == SF_NET_DELETED) {
		r = sf_diag_set(&ctx->diag, 409, "", "", "network %s is deleted", net->uuid);
		goto out;
	}
	r = hv_local_load(ctx->kv, ((struct hv_state *)ctx->userdata)->cfg->node_name, net->uuid,
			  &local);
	if (r < 0)
		goto out;
	r = hv_converge(ctx, net, &local, ifc->uuid, 0);
	if (r >= 0 && only_one(&local, ifc->uuid))
		r = hv_notify_peers(ctx, net->uuid, &local); /* we joined: tell the others */
	r = r < 0 ? r : 0;
out:
	hv_local_clear(&local);
	sf_network_free(net);
	sf_iface_free(ifc);
	return r;
}

int hv_h_unplug(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct hv_state *st = ctx->userdata;
	struct sf_network *net = NULL;
	struct sf_iface *ifc = NULL;
	struct hv_local local = {0};
	enum hv_port_kind kind;
	char **left = NULL;
	size_t n_left = 0;
	int r;

	(void)ret_reply;
	r = iface_of(ctx, job, &ifc);
	if (r == -ENOENT) /* purged: nothing to find it by; strays are the reconciler's */
		return 0;
	if (r <= 0)
		return r;
	if (ifc->state != SF_IFACE_DELETED) {
		sf_log_info("interface %s is %s: it stays plugged", ifc->uuid,
			    sf_iface_state_to_string(ifc->state));
		r = 0;
		goto out;
	}
	r = hv_port_kind_from_string(ifc->kind ? ifc->kind : "tap", &kind);
	if (r == 0)
		r = hv_port_unplug(st->node, kind, ifc->uuid);
	if (r < 0) {
		sf_diag_set(&ctx->diag, 500, "", "", "removing the port of %s: %s", ifc->uuid,
			    sf_strerror(r));
		goto out;
	}
	sf_log_info("interface %s unplugged", ifc->uuid);

	r = sf_network_get(ctx->kv, ifc->network_uuid, &net);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r == 0)
		r = hv_local_load(ctx->kv, st->cfg->node_name, net->uuid, &local);
	if (r == 0)
		r = hv_converge(ctx, net, &local, NULL, 0); /* the last one takes the devices */
	if (r >= 0 && local.n == 0)
		r = hv_notify_peers(ctx, net->uuid, &local); /* we left: tell the others */
	if (r < 0)
		goto out;
	/* the last interface of a delete-wait network anywhere lets the network go */
	r = 0;
	if (net->state == SF_NET_DELETE_WAIT) {
		r = sf_network_interfaces(ctx->kv, net->uuid, &left, &n_left);
		if (r == 0 && n_left == 0)
			r = hv_publish(ctx, SF_JOB_NETWORK_DESTROY, net->uuid, "networknode");
	}
out:
	for (size_t i = 0; i < n_left; i++)
		free(left[i]);
	free(left);
	hv_local_clear(&local);
	sf_network_free(net);
	sf_iface_free(ifc);
	return r;
}

/* network.deploy and network.destroy: converge the network here, whatever its state. */
int hv_h_network(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct hv_state *st = ctx->userdata;
	struct sf_network *net = NULL;
	struct hv_local local = {0};
	int r;

	(void)ret_reply;
	r = sf_network_get(ctx->kv, job->object_uuid, &net);
	if (r == -ENOENT) /* purged: its devices, if any, are the reconciler's strays */
		return 0;
	if (r == 0)
		r = hv_local_load(ctx->kv, st->cfg->node_name, net->uuid, &local);
	if (r == 0)
		r = hv_converge(ctx, net, &local, NULL, 0);
	hv_local_clear(&local);
	sf_network_free(net);
	return r < 0 ? r : 0;
}

int hv_h_reconcile(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply)
{
	struct hv_state *st = ctx->userdata;

	(void)ret_reply;
	if (!sf_streq(job->object_uuid, st->cfg->node_name))
		return sf_diag_set(&ctx->diag, 400, "/object/uuid", "", "this is node %s, not %s",
				   st->cfg->node_name, job->object_uuid);
	return hv_reconcile(ctx);
}
