// SPDX-License-Identifier: Apache-2.0
/* Converging and tearing down one network, and the egress bridge: load, observe, plan, apply,
 * report. The job handlers and the reconciler share these. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/err.h"
#include "sf/store.h"

SF_LOG_MODULE("networknode");

void nn_event(struct wk_ctx *ctx, enum sf_object_type type, const char *uuid,
	      enum sf_event_type evtype, const char *message, json_t *extra)
{
	(void)wk_event(ctx, type, uuid, evtype, message, extra);
	json_decref(extra);
}

/* One event per repaired thing (the reconciler's), on object type/uuid. */
static void report_repairs(struct wk_ctx *ctx, enum sf_object_type type, const char *uuid,
			   const struct nn_oplist *ops)
{
	char line[512];

	for (size_t i = 0; i < ops->n; i++) {
		if (!ops->ops[i].why[0])
			continue;
		sf_log_info("%s %s: repaired: %s", sf_object_type_to_string(type), uuid,
			    ops->ops[i].why);
		nn_event(ctx, type, uuid, SF_EVENT_AUDIT, "reconciler repaired drift",
			 json_pack("{s:s, s:s}", "problem", ops->ops[i].why, "operation",
				   nn_op_format(&ops->ops[i], line, sizeof(line))));
	}
}

/* The mesh events of spec 5: one per peer added or removed, then the summaries. */
static void report_mesh(struct wk_ctx *ctx, const char *uuid, const struct nn_oplist *ops)
{
	json_t *added = json_array(), *removed = json_array();

	for (size_t i = 0; i < ops->n; i++) {
		const struct nn_op *op = &ops->ops[i];

		if (op->kind != NN_OP_FDB_ADD && op->kind != NN_OP_FDB_DEL)
			continue;
		json_array_append_new(op->kind == NN_OP_FDB_ADD ? added : removed,
				      json_string(op->s2));
		nn_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_MUTATE,
			 op->kind == NN_OP_FDB_ADD ? "added new mesh element"
						   : "removed excess mesh element",
			 json_pack("{s:s}", "ip", op->s2));
	}
	if (json_array_size(added))
		nn_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_MUTATE, "add mesh elements",
			 json_pack("{s:O}", "added", added));
	if (json_array_size(removed))
		nn_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_MUTATE, "remove mesh elements",
			 json_pack("{s:O}", "removed", removed));
	json_decref(added);
	json_decref(removed);
}

/* Say what failed where the job loop puts it: the status record and the error event. */
static int failed(struct wk_ctx *ctx, const char *uuid, const char *what, const struct nn_op *op,
		  int r)
{
	char line[512];

	if (op)
		sf_diag_set(&ctx->diag, 500, "", "", "%s: %s", nn_op_format(op, line, sizeof(line)),
			    sf_strerror(r));
	else
		sf_diag_set(&ctx->diag, 500, "", "", "%s: %s", what, sf_strerror(r));
	sf_log_err("network %s: %s", uuid, ctx->diag.message);
	return r;
}

int nn_egress_converge(struct wk_ctx *ctx, unsigned flags)
{
	struct nn_state *st = ctx->userdata;
	struct nn_egress_desired d;
	struct nn_egress_observed o;
	struct nn_oplist ops = {0};
	struct sf_netops *unused = NULL;
	int r;

	nn_egress_desired(st, &d);
	r = nn_egress_observe(st, &o);
	if (r < 0)
		return failed(ctx, st->egress_bridge, "observing the egress bridge", NULL, r);
	r = nn_plan_egress(&d, &o, &ops);
	if (r == -ENODEV)
		sf_log_err("egress NIC %s does not exist in the node namespace",
			   st->cfg->egress_nic);
	for (size_t i = 0; r == 0 && i < ops.n; i++) {
		r = nn_apply_netops(st->node, &unused, NULL, &ops.ops[i]);
		if (r < 0)
			failed(ctx, st->egress_bridge, "egress bridge", &ops.ops[i], r);
	}
	if (r == 0 && ops.n)
		sf_log_info("egress bridge %s converged (%zu operations)", st->egress_bridge,
			    ops.n);
	if (r == 0 && (flags & NN_CONVERGE_REPAIR))
		report_repairs(ctx, SF_OBJECT_NODE, st->cfg->node_name, &ops);
	sf_netops_free(unused);
	nn_egress_observed_clear(&o);
	nn_oplist_clear(&ops);
	return r;
}

int nn_converge(struct wk_ctx *ctx, const struct sf_network *net, const char *exclude_iface,
		unsigned flags)
{
	struct nn_state *st = ctx->userdata;
	const struct nn_op *bad = NULL;
	struct nn_desired d = {0};
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	int r, repairs = 0;

	r = nn_desired_load(st, ctx->kv, net, exclude_iface, &d);
	if (r < 0)
		return failed(ctx, net->uuid, "reading the network from redis", NULL, r);
	/* recorded before anything is made: only what this node made is ever a stray */
	r = nn_made_add(ctx->kv, st, net->uuid, net->vxid);
	if (r < 0)
		goto out;
	for (int attempt = 0; attempt < 2; attempt++) {
		nn_observed_clear(&o);
		r = nn_observe(st, &d, &o);
		if (r < 0) {
			failed(ctx, net->uuid, "observing the network", NULL, r);
			goto out;
		}
		r = nn_plan_network(&d, &o, &ops);
		if (r != -ENODEV || attempt > 0)
			break;
		r = nn_egress_converge(ctx, flags); /* the egress bridge is missing: spec 6.3 */
		if (r < 0)
			goto out;
	}
	if (r < 0) {
		failed(ctx, net->uuid, "planning the network", NULL, r);
		goto out;
	}
	r = nn_apply(st, &d, &ops, &bad);
	if (r < 0) {
		failed(ctx, net->uuid, "applying", bad, r);
		goto out;
	}
	for (size_t i = 0; i < ops.n; i++)
		repairs += ops.ops[i].why[0] != '\0';
	if (ops.n)
		sf_log_info("network %s converged (%zu operations)", net->uuid, ops.n);
	report_mesh(ctx, net->uuid, &ops);
	if (flags & NN_CONVERGE_REPAIR)
		report_repairs(ctx, SF_OBJECT_NETWORK, net->uuid, &ops);
	r = repairs;
out:
	nn_nft_put(st, net->uuid);
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}

int nn_teardown(struct wk_ctx *ctx, const char *uuid, uint32_t vxid)
{
	struct nn_state *st = ctx->userdata;
	const struct nn_op *bad = NULL;
	struct nn_desired d;
	struct nn_observed o = {0};
	struct nn_oplist ops = {0};
	int r;

	nn_desired_minimal(st, uuid, vxid, &d);
	r = nn_observe(st, &d, &o);
	if (r < 0) {
		failed(ctx, uuid, "observing the network", NULL, r);
		goto out;
	}
	r = nn_plan_destroy(&d, &o, &ops);
	if (r == 0)
		r = nn_apply(st, &d, &ops, &bad);
	if (r < 0) {
		failed(ctx, uuid, "tearing down", bad, r);
		goto out;
	}
	nn_netmem_forget(st, uuid);
	if (ops.n)
		sf_log_info("network %s removed from the node (%zu operations)", uuid, ops.n);
out:
	nn_nft_put(st, uuid);
	nn_oplist_clear(&ops);
	nn_observed_clear(&o);
	nn_desired_clear(&d);
	return r;
}
