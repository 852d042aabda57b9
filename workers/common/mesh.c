// SPDX-License-Identifier: Apache-2.0
/* The VXLAN flood list of a network: desired peers, plan, sync, events. See mesh.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/jobloop.h"
#include "common/mesh.h"
#include "sf/ipv4.h"
#include "sf/log.h"
#include "sf/netops.h"
#include "sf/store.h"
#include "sf/util.h"

SF_LOG_MODULE("mesh");

struct strv {
	char **v;
	size_t n;
};

static void strv_push(struct strv *s, const char *x)
{
	s->v = sf_xrealloc(s->v, (s->n + 2) * sizeof(*s->v));
	s->v[s->n++] = sf_xstrdup(x);
	s->v[s->n] = NULL;
}

static void strv_clear(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct strv){0};
}

static bool strv_has(char *const *v, size_t n, const char *x)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], x) == 0)
			return true;
	return false;
}

/* Addresses in numeric order (198.18.0.2 before 198.18.0.12); anything else after, by text. */
static int cmp_ip(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	uint32_t ax, ay;
	bool px = sf_ipv4_parse(x, &ax) == 0, py = sf_ipv4_parse(y, &ay) == 0;

	if (px && py)
		return ax < ay ? -1 : ax > ay;
	if (px != py)
		return px ? -1 : 1;
	return strcmp(x, y);
}

/* Sorted and NULL-terminated, never NULL itself. */
static char **strv_finish(struct strv *s)
{
	if (!s->v)
		s->v = sf_xcalloc(1, sizeof(*s->v));
	qsort(s->v, s->n, sizeof(*s->v), cmp_ip);
	return s->v;
}

void wk_mesh_diff_clear(struct wk_mesh_diff *d)
{
	sf_netops_strv_free(d->added);
	sf_netops_strv_free(d->removed);
	*d = (struct wk_mesh_diff){0};
}

int wk_mesh_desired(char *const *candidates, size_t n, const char *self_ip, char ***ret_peers,
		    size_t *ret_n)
{
	struct strv out = {0};

	for (size_t i = 0; i < n; i++) {
		const char *ip = candidates[i];

		if (!ip || !*ip || sf_streq(ip, self_ip) || strv_has(out.v, out.n, ip))
			continue;
		strv_push(&out, ip);
	}
	*ret_n = out.n;
	*ret_peers = strv_finish(&out);
	return 0;
}

/* The mesh IP of node name in the registry list, or NULL. */
static const char *mesh_ip_of(const json_t *nodes, const char *name)
{
	const json_t *node;
	size_t i;

	json_array_foreach(nodes, i, node) {
		if (sf_streq(json_string_value(json_object_get(node, "name")), name))
			return json_string_value(json_object_get(node, "mesh_ip"));
	}
	return NULL;
}

int wk_mesh_peers(struct sf_kv *kv, const char *uuid, const char *self_ip, char ***ret_peers,
		  size_t *ret_n)
{
	struct sf_network *net = NULL;
	struct strv cand = {0};
	json_t *nodes = NULL, *node;
	struct sf_iface **ifaces = NULL;
	size_t n = 0, i;
	int r;

	r = sf_network_get(kv, uuid, &net); /* a network without a record has no mesh */
	sf_network_free(net);
	if (r == 0)
		r = sf_node_list(kv, &nodes);
	if (r == 0)
		r = sf_network_iface_records(kv, uuid, &ifaces, &n);
	if (r < 0)
		goto out;
	json_array_foreach(nodes, i, node) {
		const char *ip = json_string_value(json_object_get(node, "mesh_ip"));

		if (sf_streq(json_string_value(json_object_get(node, "role")), "networknode") &&
		    ip && *ip)
			strv_push(&cand, ip);
	}
	for (i = 0; i < n; i++) {
		const struct sf_iface *ifc = ifaces[i];
		const char *ip;

		if (ifc->state != SF_IFACE_DELETED) {
			ip = mesh_ip_of(nodes, ifc->node);
			if (ip && *ip)
				strv_push(&cand, ip);
			else
				sf_log_warn_rl("node %s of interface %s has no mesh IP in the "
					       "registry: no flood entry for it",
					       ifc->node ? ifc->node : "(none)", ifc->uuid);
		}
	}
	if (r == 0)
		r = wk_mesh_desired(cand.v, cand.n, self_ip, ret_peers, ret_n);
out:
	for (i = 0; i < n; i++)
		sf_iface_free(ifaces[i]);
	free(ifaces);
	json_decref(nodes);
	strv_clear(&cand);
	return r;
}

int wk_mesh_plan(char *const *desired, size_t n_desired, char *const *current, size_t n_current,
		 const char *self_ip, struct wk_mesh_diff *ret_diff)
{
	struct strv add = {0}, del = {0};

	for (size_t i = 0; i < n_desired; i++) {
		const char *ip = desired[i];

		if (*ip && !sf_streq(ip, self_ip) && !strv_has(current, n_current, ip) &&
		    !strv_has(add.v, add.n, ip))
			strv_push(&add, ip);
	}
	for (size_t i = 0; i < n_current; i++) {
		const char *ip = current[i];

		if ((sf_streq(ip, self_ip) || !strv_has(desired, n_desired, ip)) &&
		    !strv_has(del.v, del.n, ip))
			strv_push(&del, ip);
	}
	ret_diff->n_added = add.n;
	ret_diff->added = strv_finish(&add);
	ret_diff->n_removed = del.n;
	ret_diff->removed = strv_finish(&del);
	return 0;
}

int wk_mesh_sync(struct sf_netops *ops, const char *vxlan, char *const *desired, size_t n_desired,
		 const char *self_ip, struct wk_mesh_diff *diff)
{
	struct wk_mesh_diff plan = {0};
	struct strv added = {0}, removed = {0};
	char **current = NULL;
	size_t n_current = 0;
	int r, first = 0;

	wk_mesh_diff_clear(diff);
	r = sf_netops_fdb_flood_list(ops, vxlan, &current, &n_current);
	if (r < 0)
		return r;
	(void)wk_mesh_plan(desired, n_desired, current, n_current, self_ip, &plan);
	/* extras first: a node that left must stop receiving our floods at once */
	for (size_t i = 0; i < plan.n_removed; i++) {
		r = sf_netops_fdb_flood_del(ops, vxlan, plan.removed[i]);
		if (r < 0) {
			sf_log_warn_errno(r, "%s: removing flood entry %s failed", vxlan,
					  plan.removed[i]);
			first = first ? first : r;
			continue;
		}
		strv_push(&removed, plan.removed[i]);
	}
	for (size_t i = 0; i < plan.n_added; i++) {
		r = sf_netops_fdb_flood_add(ops, vxlan, plan.added[i]);
		if (r < 0) {
			sf_log_warn_errno(r, "%s: adding flood entry %s failed", vxlan,
					  plan.added[i]);
			first = first ? first : r;
			continue;
		}
		strv_push(&added, plan.added[i]);
	}
	diff->n_added = added.n;
	diff->added = strv_finish(&added);
	diff->n_removed = removed.n;
	diff->removed = strv_finish(&removed);
	wk_mesh_diff_clear(&plan);
	sf_netops_strv_free(current);
	return first;
}

static void event(struct wk_ctx *ctx, const char *uuid, const char *message, json_t *extra)
{
	(void)wk_event(ctx, SF_OBJECT_NETWORK, uuid, SF_EVENT_MUTATE, message, extra);
	json_decref(extra);
}

static json_t *array_of(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

void wk_mesh_report(struct wk_ctx *ctx, const char *uuid, const struct wk_mesh_diff *d)
{
	for (size_t i = 0; i < d->n_added; i++)
		event(ctx, uuid, "added new mesh element", json_pack("{s:s}", "ip", d->added[i]));
	for (size_t i = 0; i < d->n_removed; i++)
		event(ctx, uuid, "removed excess mesh element",
		      json_pack("{s:s}", "ip", d->removed[i]));
	if (d->n_added)
		event(ctx, uuid, "add mesh elements",
		      json_pack("{s:o}", "added", array_of(d->added, d->n_added)));
	if (d->n_removed)
		event(ctx, uuid, "remove mesh elements",
		      json_pack("{s:o}", "removed", array_of(d->removed, d->n_removed)));
	if (d->n_added || d->n_removed)
		sf_log_info("network %s: mesh +%zu -%zu", uuid, d->n_added, d->n_removed);
}
