// SPDX-License-Identifier: Apache-2.0
/*
 * The reconciler (spec 6.15, ARCHITECTURE.md sections 5.10 and 6), at start and every
 * reconcile_s: every network hosting a live interface on this node is converged (devices,
 * ports re-plugged, flood list), each repair an event; then stray devices of ours are removed
 * once they have been strays for stray_grace_s. Strays are only looked for after every network
 * was read: a Redis failure half-way must not make live devices look unowned.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv.h"
#include "sf/naming.h"
#include "sf/store.h"

SF_LOG_MODULE("hypervisor");

struct names {
	char **v;
	size_t n;
};

static void names_add(struct names *k, const char *name)
{
	k->v = sf_xrealloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = sf_xstrdup(name);
}

static void names_clear(struct names *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	*k = (struct names){0};
}

static bool has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* Is this device one the hypervisor makes? */
static bool ours(const char *name)
{
	enum sf_name_kind kind;
	uint32_t id;

	if (hv_is_port_name(name))
		return true;
	return sf_name_parse(name, &kind, &id) == 0 &&
	       (kind == SF_NAME_VXLAN || kind == SF_NAME_BRIDGE);
}

static struct hv_stray *stray_find(struct hv_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_strays; i++)
		if (strcmp(st->strays[i].name, name) == 0)
			return &st->strays[i];
	return NULL;
}

int hv_strays_sweep(struct hv_state *st, char *const *keep, size_t n_keep, uint64_t now_ms,
		    uint64_t grace_ms, struct hv_changes *removed)
{
	struct hv_stray *seen = NULL;
	struct sf_link *links = NULL;
	size_t n_links = 0, n_seen = 0;
	int r, count = 0;

	r = sf_netops_link_list(st->node, &links, &n_links);
	if (r < 0)
		return r;
	seen = sf_xcalloc(n_links + 1, sizeof(*seen));
	for (size_t i = 0; i < n_links; i++) {
		const char *name = links[i].name;
		struct hv_stray *old;
		uint64_t since;

		if (!ours(name) || has(keep, n_keep, name))
			continue;
		old = stray_find(st, name);
		since = old ? old->since_ms : now_ms;
		if (!old)
			sf_log_info("%s belongs to nothing this node hosts: removing it in %llu s",
				    name, (unsigned long long)(grace_ms / 1000));
		if (now_ms - since < grace_ms) {
			seen[n_seen] = (struct hv_stray){.since_ms = since};
			(void)sf_bprintf(seen[n_seen].name, sizeof(seen[n_seen].name), "%s", name);
			n_seen++;
			continue;
		}
		r = sf_netops_link_del(st->node, name);
		if (r < 0) {
			sf_log_warn_errno(r, "removing stray %s failed, retrying at the next pass",
					  name);
			seen[n_seen++] = old ? *old : (struct hv_stray){.since_ms = since};
			continue;
		}
		sf_log_info("removed stray %s", name);
		count++;
		if (removed) {
			removed->v = sf_xrealloc(removed->v, (removed->n + 1) * sizeof(char *));
			removed->v[removed->n++] = sf_xstrdup(name);
		}
	}
	free(st->strays); /* what is no longer a stray is forgotten */
	st->strays = seen;
	st->n_strays = n_seen;
	free(links);
	return count;
}

/* The devices network n keeps on this node, given what it hosts. */
static void keep_network(struct names *keep, const struct sf_network *n,
			 const struct hv_local *local)
{
	char name[SF_IFNAMSIZ];
	enum hv_port_kind kind;

	if (sf_name_format(SF_NAME_VXLAN, n->vxid, name) == 0)
		names_add(keep, name);
	if (sf_name_format(SF_NAME_BRIDGE, n->vxid, name) == 0)
		names_add(keep, name);
	for (size_t i = 0; i < local->n; i++)
		if (hv_port_kind_from_string(local->ifaces[i]->kind, &kind) == 0 &&
		    hv_port_name(kind, local->ifaces[i]->uuid, name) == 0)
			names_add(keep, name);
}

int hv_reconcile(struct wk_ctx *ctx)
{
	struct hv_state *st = ctx->userdata;
	struct sf_network **nets = NULL;
	struct hv_changes removed = {0};
	struct names keep = {0};
	uint64_t t0 = sf_now_monotonic_ms();
	size_t n = 0;
	int r, failures = 0;

	r = sf_network_list(ctx->kv, NULL, false, &nets, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct hv_local local = {0};

		wk_keepalive(ctx); /* a pass over thousands of networks takes seconds */
		r = hv_local_load(ctx->kv, st->cfg->node_name, nets[i]->uuid, &local);
		if (r < 0)
			break; /* Redis is gone: no stray hunting on partial knowledge */
		if (local.n > 0 && nets[i]->state != SF_NET_DELETED) {
			keep_network(&keep, nets[i], &local);
			sf_diag_clear(&ctx->diag);
			r = hv_converge(ctx, nets[i], &local, NULL, HV_REPAIR);
			if (r < 0 && !wk_error_is_transient(r)) {
				sf_log_warn_errno(r,
						  "reconciling network %s failed, retrying at "
						  "the next pass",
						  nets[i]->uuid);
				failures++;
				r = 0;
			}
		}
		hv_local_clear(&local);
	}
	if (r >= 0) {
		r = hv_strays_sweep(st, keep.v, keep.n, sf_now_monotonic_ms(),
				    (uint64_t)st->cfg->stray_grace_s * 1000, &removed);
		for (size_t i = 0; i < removed.n; i++)
			hv_event(ctx, SF_OBJECT_NODE, st->cfg->node_name, SF_EVENT_AUDIT,
				 "reconciler removed stray device",
				 json_pack("{s:s}", "device", removed.v[i]));
	}
	for (size_t i = 0; i < n; i++)
		sf_network_free(nets[i]);
	free(nets);
	names_clear(&keep);
	hv_changes_clear(&removed);
	sf_diag_clear(&ctx->diag);
	sf_log_debug("reconciled %zu networks in %llu ms, %d failed", n,
		     (unsigned long long)(sf_now_monotonic_ms() - t0), failures);
	return r < 0 ? r : 0;
}
