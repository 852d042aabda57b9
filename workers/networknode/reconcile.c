// SPDX-License-Identifier: Apache-2.0
/*
 * The reconciler (spec 6.15, ARCHITECTURE.md sections 5.10 and 6), at start and every
 * reconcile_s: the desired state in Redis against the kernel and the process table.
 *   created             converge; each repair is an event ("reconciler repaired drift")
 *   initial, creating   deploy, once its state is older than stray_grace_s (a lost job)
 *   delete-wait         destroy when no interface is left, else converge
 *   error               left alone (dead: spec 3.1); deleting it tears it down
 * and strays: networks this node made (nn:<node>:made) that are deleted or gone are torn down
 * once they have been strays for stray_grace_s. Devices and namespaces this node did not make
 * are never touched: other clusters may share the machine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/err.h"
#include "sf/store.h"

SF_LOG_MODULE("networknode");

static int reconcile_network(struct wk_ctx *ctx, struct sf_network *net)
{
	struct nn_state *st = ctx->userdata;
	char **ifaces = NULL;
	size_t n = 0;
	int r = 0;

	sf_diag_clear(&ctx->diag);
	switch (net->state) {
	case SF_NET_CREATED:
		r = nn_converge(ctx, net, NULL, NN_CONVERGE_REPAIR);
		break;
	case SF_NET_INITIAL:
	case SF_NET_CREATING:
		if (sf_now_epoch() - net->state_updated < (double)st->cfg->stray_grace_s)
			break; /* its deploy job is probably on its way */
		sf_log_info("network %s is still %s: deploying it", net->uuid,
			    sf_net_state_to_string(net->state));
		r = nn_deploy_network(ctx, net);
		break;
	case SF_NET_DELETE_WAIT:
		r = sf_network_interfaces(ctx->kv, net->uuid, &ifaces, &n);
		for (size_t i = 0; i < n; i++)
			free(ifaces[i]);
		free(ifaces);
		if (r == 0)
			r = n ? nn_converge(ctx, net, NULL, NN_CONVERGE_REPAIR)
			      : nn_destroy_network(ctx, net);
		break;
	default:
		break;
	}
	if (r < 0)
		sf_log_warn_errno(r, "reconciling network %s failed, retrying at the next pass",
				  net->uuid);
	return r;
}

/* Tear a stray down; a record left in state deleted gives its floating addresses back. */
static int remove_stray(struct wk_ctx *ctx, const char *uuid, uint32_t vxid)
{
	struct sf_network *net = NULL;
	int r;

	r = nn_teardown(ctx, uuid, vxid);
	if (r < 0)
		return r;
	r = sf_network_get(ctx->kv, uuid, &net);
	if (r == -ENOENT)
		return 0;
	if (r == 0 && net->state == SF_NET_DELETED)
		r = nn_release_floating(ctx, net);
	sf_network_free(net);
	return r;
}

/* Is uuid among the active networks? */
static bool is_active(struct sf_network **nets, size_t n, const char *uuid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(nets[i]->uuid, uuid) == 0)
			return true;
	return false;
}

static int remove_strays(struct wk_ctx *ctx, struct sf_network **nets, size_t n)
{
	struct nn_state *st = ctx->userdata;
	uint64_t now = sf_now_monotonic_ms();
	json_t *made = NULL, *v;
	const char *uuid;
	long vxid;
	int r;

	r = nn_made_list(ctx->kv, st, &made);
	if (r < 0)
		return r;
	json_object_foreach(made, uuid, v) {
		struct nn_netmem *mem;

		if (is_active(nets, n, uuid))
			continue;
		wk_keepalive(ctx);
		mem = nn_netmem(st, uuid);
		if (!mem->stray_since_ms) {
			mem->stray_since_ms = now ? now : 1;
			sf_log_info(
				"network %s: its devices belong to no live network; removing them "
				"in %ld s",
				uuid, st->cfg->stray_grace_s);
			continue;
		}
		if (now - mem->stray_since_ms < (uint64_t)st->cfg->stray_grace_s * 1000)
			continue;
		if (sf_parse_long(json_string_value(v), 1, 0xffffff, &vxid) < 0) {
			sf_log_warn("network %s: bad vxid '%s' in the made set, dropping it", uuid,
				    json_string_value(v));
		} else {
			r = remove_stray(ctx, uuid, (uint32_t)vxid);
			if (r < 0) {
				sf_log_warn_errno(r, "removing stray network %s failed", uuid);
				if (wk_error_is_transient(r))
					break;
				continue;
			}
			nn_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_AUDIT,
				 "reconciler removed stray network devices",
				 json_pack("{s:I}", "vxid", (json_int_t)vxid));
		}
		r = nn_made_del(ctx->kv, st, uuid);
		if (r < 0)
			break;
		nn_netmem_forget(st, uuid);
	}
	json_decref(made);
	return r < 0 ? r : 0;
}

/* Spec 6.3 step 1: the floating pool exists, with our block. A different block means sf-api
 * and this worker disagree: stop rather than hand out addresses of the wrong pool. */
static int floating_pool(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	int r;

	if (st->floating_ok)
		return 0;
	r = sf_ipam_floating_ensure(ctx->kv, st->cfg->floating_network);
	if (r == -EEXIST) {
		sf_log_err("floating_network %s differs from the floating pool in Redis (sf-api's "
			   "floating_network): stopping",
			   st->cfg->floating_network);
		st->fatal = true;
		ctx->stop = true;
	}
	st->floating_ok = r == 0;
	return r;
}

#define SLICE_MS 50 /* jobs waiting behind a pass wait at most about this long */

void nn_pass_clear(struct nn_state *st)
{
	for (size_t i = 0; i < st->pass.n; i++)
		free(st->pass.uuids[i]);
	free(st->pass.uuids);
	free(st->pass.fdb);
	st->pass = (struct nn_pass){0};
}

/* The flood entries for this slice: the dump of an earlier one unless a job ran since. If
 * the dump fails, observation lists each device's entries instead. */
static void pass_fdb(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	int r;

	if (st->pass.fdb && st->pass.fdb_jobs == ctx->jobs_run)
		return;
	free(st->pass.fdb);
	st->pass.fdb = NULL;
	st->pass.n_fdb = 0;
	r = sf_netops_fdb_flood_dump(st->node, &st->pass.fdb, &st->pass.n_fdb);
	if (r < 0) { /* st->pass.fdb stays NULL */
		sf_log_debug_errno(r, "dumping the flood entries failed: listing them per network");
		st->pass.n_fdb = 0;
	}
	st->pass.fdb_jobs = ctx->jobs_run;
}

static int pass_start(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network **nets = NULL;
	size_t n = 0;
	int r;

	nn_pass_clear(st);
	st->pass.started_ms = sf_now_monotonic_ms();
	r = floating_pool(ctx);
	if (r == 0)
		r = nn_egress_converge(ctx, NN_CONVERGE_REPAIR);
	if (r == 0)
		r = sf_network_list(ctx->kv, NULL, false, &nets, &n);
	if (r < 0)
		return r;
	st->pass.uuids = sf_xcalloc(n + 1, sizeof(*st->pass.uuids));
	for (size_t i = 0; i < n; i++) {
		st->pass.uuids[i] = sf_xstrdup(nets[i]->uuid);
		sf_network_free(nets[i]);
	}
	free(nets);
	st->pass.n = n;
	st->pass.active = true;
	return 0;
}

/* One network of the pass, as Redis has it now: jobs may have run since the pass began. */
static int pass_network(struct wk_ctx *ctx, const char *uuid)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network *net = NULL;
	int r;

	r = sf_network_get(ctx->kv, uuid, &net);
	if (r == -ENOENT)
		return 0; /* purged meanwhile */
	if (r < 0)
		return r;
	nn_netmem(st, uuid)->stray_since_ms = 0;
	r = reconcile_network(ctx, net);
	sf_network_free(net);
	return r;
}

/* The strays against the networks that exist now, and the pass's one log line. */
static int pass_finish(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	struct sf_network **nets = NULL;
	size_t n = 0;
	int r;

	r = sf_network_list(ctx->kv, NULL, false, &nets, &n);
	if (r == 0)
		r = remove_strays(ctx, nets, n);
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	sf_diag_clear(&ctx->diag);
	/* one line per pass (every reconcile_s): what make bench reads for the pass time */
	sf_log_info("reconciled %zu networks in %llu ms, %d repairs, %d failed (%llu ms of it "
		    "reconciling, in %u slices)",
		    st->pass.n, (unsigned long long)(sf_now_monotonic_ms() - st->pass.started_ms),
		    st->pass.repairs, st->pass.failures, (unsigned long long)st->pass.work_ms,
		    st->pass.slices);
	nn_pass_clear(st);
	return r;
}

int nn_reconcile_slice(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	uint64_t t0 = sf_now_monotonic_ms();
	int r = 0;

	if (!st->pass.active && st->pass_by_job) {
		st->pass_by_job = false; /* that pass was this one: the period starts again */
		return 0;
	}
	if (!st->pass.active) {
		r = pass_start(ctx);
		if (r < 0) {
			nn_pass_clear(st);
			return r;
		}
	}
	st->pass.slices++;
	pass_fdb(ctx);
	st->pass.in_slice = true;
	while (st->pass.next < st->pass.n && sf_now_monotonic_ms() - t0 < SLICE_MS) {
		wk_keepalive(ctx);
		r = pass_network(ctx, st->pass.uuids[st->pass.next]);
		if (r < 0 && wk_error_is_transient(r))
			break; /* Redis is gone: the next pass will do */
		st->pass.failures += r < 0;
		st->pass.repairs += r > 0 ? r : 0;
		st->pass.next++;
		r = 0;
	}
	st->pass.in_slice = false;
	st->pass.work_ms += sf_now_monotonic_ms() - t0;
	if (r < 0) {
		sf_log_info("reconcile pass stopped after %zu of %zu networks", st->pass.next,
			    st->pass.n);
		nn_pass_clear(st);
		return r;
	}
	if (st->pass.next < st->pass.n)
		return WK_PERIODIC_MORE;
	return pass_finish(ctx);
}

int nn_reconcile(struct wk_ctx *ctx)
{
	struct nn_state *st = ctx->userdata;
	int r;

	if (st->pass.active) /* a periodic pass in progress: this one starts afresh */
		nn_pass_clear(st);
	st->pass_by_job = false;
	do
		r = nn_reconcile_slice(ctx);
	while (r == WK_PERIODIC_MORE && !ctx->stop);
	if (r == WK_PERIODIC_MORE)
		return -ECANCELED; /* stopped half-way (the worker stops): the job comes again */
	/* whole: it stands for the periodic pass that was in progress or is due next */
	st->pass_by_job = r == 0;
	return r;
}
