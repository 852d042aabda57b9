// SPDX-License-Identifier: Apache-2.0
/* The pure planners of nn_plan.h: desired + observed -> operations. No I/O. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn_plan.h"
#include "sf/naming.h"

/* ---- the operation list ------------------------------------------------------------------ */

void nn_oplist_clear(struct nn_oplist *l)
{
	free(l->ops);
	*l = (struct nn_oplist){0};
}

static void copy(char dst[static NN_OP_STR], const char *src)
{
	(void)snprintf(dst, NN_OP_STR, "%s", src ? src : "");
}

static struct nn_op *push(struct nn_oplist *l, enum nn_op_kind kind, enum nn_where where,
			  const char *s1, const char *s2, const char *s3)
{
	struct nn_op *op;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->ops = sf_xrealloc(l->ops, l->cap * sizeof(*l->ops));
	}
	op = &l->ops[l->n++];
	*op = (struct nn_op){.kind = kind, .where = where};
	copy(op->s1, s1);
	copy(op->s2, s2);
	copy(op->s3, s3);
	return op;
}

/* Say why on op, unless quiet (the cause was reported on an earlier operation). */
SF_PRINTF(3, 4) static void why(struct nn_op *op, bool quiet, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (!quiet)
		(void)vsnprintf(op->why, sizeof(op->why), fmt, ap);
	va_end(ap);
}

bool nn_op_is_netops(const struct nn_op *op)
{
	return op->kind <= NN_OP_FDB_DEL;
}

static const char *const kind_names[_NN_OP_KIND_MAX] = {
	[NN_OP_NETNS_ADD] = "netns_add",
	[NN_OP_NETNS_DEL] = "netns_del",
	[NN_OP_SYSCTL] = "sysctl_set",
	[NN_OP_NO_IPV6] = "ipv6_off",
	[NN_OP_ADD_BRIDGE] = "link_add_bridge",
	[NN_OP_ADD_VXLAN] = "link_add_vxlan",
	[NN_OP_ADD_VETH] = "link_add_veth",
	[NN_OP_SET_MASTER] = "link_set_master",
	[NN_OP_SET_MTU] = "link_set_mtu",
	[NN_OP_SET_UP] = "link_set_up",
	[NN_OP_LINK_DEL] = "link_del",
	[NN_OP_ADDR_ADD] = "addr_add",
	[NN_OP_ADDR_DEL] = "addr_del",
	[NN_OP_ROUTE_REPLACE] = "route_replace",
	[NN_OP_ROUTE_DEL] = "route_del",
	[NN_OP_DEFAULT_ROUTE] = "route_set_default",
	[NN_OP_FDB_ADD] = "fdb_flood_add",
	[NN_OP_FDB_DEL] = "fdb_flood_del",
	[NN_OP_NFT_APPLY] = "nft_apply",
	[NN_OP_NFT_DELETE] = "nft_delete",
	[NN_OP_DNSMASQ_WRITE] = "dnsmasq_write",
	[NN_OP_DNSMASQ_START] = "dnsmasq_start",
	[NN_OP_DNSMASQ_RESTART] = "dnsmasq_restart",
	[NN_OP_DNSMASQ_RELOAD] = "dnsmasq_reload",
	[NN_OP_DNSMASQ_STOP] = "dnsmasq_stop",
	[NN_OP_DHCP_RELEASE] = "dhcp_release",
	[NN_OP_STATE_DIR_DEL] = "state_dir_del",
};

const char *nn_op_format(const struct nn_op *op, char *buf, size_t size)
{
	const char *w = op->where == NN_AT_NODE ? "node" : "net";
	const char *k = kind_names[op->kind];

	switch (op->kind) {
	case NN_OP_SYSCTL:
		(void)snprintf(buf, size, "%s %s %s=%s", w, k, op->s1, op->s2);
		break;
	case NN_OP_ADD_BRIDGE:
		(void)snprintf(buf, size, "%s %s %s mtu=%u ageing=%u", w, k, op->s1, op->u1,
			       op->u2);
		break;
	case NN_OP_ADD_VXLAN:
		(void)snprintf(buf, size, "%s %s %s vni=%u port=%u dev=%s mtu=%u", w, k, op->s1,
			       op->u2, op->u3, op->s2, op->u1);
		break;
	case NN_OP_ADD_VETH:
		(void)snprintf(buf, size, "%s %s %s peer=%s mtu=%u peer_netns=%s", w, k, op->s1,
			       op->s2, op->u1, op->s3);
		break;
	case NN_OP_SET_MTU:
		(void)snprintf(buf, size, "%s %s %s %u", w, k, op->s1, op->u1);
		break;
	case NN_OP_ROUTE_REPLACE:
	case NN_OP_ROUTE_DEL:
		(void)snprintf(buf, size, "%s %s %s%s%s%s%s", w, k, op->s1, *op->s2 ? " via " : "",
			       op->s2, *op->s3 ? " dev " : "", op->s3);
		break;
	case NN_OP_DEFAULT_ROUTE:
		(void)snprintf(buf, size, "%s %s via %s dev %s", w, k, op->s2, op->s3);
		break;
	default: /* up to two plain arguments */
		(void)snprintf(buf, size, "%s %s%s%s%s%s", w, k, *op->s1 ? " " : "", op->s1,
			       *op->s2 ? " " : "", op->s2);
		break;
	}
	return buf;
}

char *nn_oplist_format(const struct nn_oplist *l)
{
	char line[512], *text = sf_xstrdup(""), *next;

	for (size_t i = 0; i < l->n; i++) {
		next = sf_xasprintf("%s%s\n", text, nn_op_format(&l->ops[i], line, sizeof(line)));
		free(text);
		text = next;
	}
	return text;
}

/* ---- clearing ---------------------------------------------------------------------------- */

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void nn_desired_clear(struct nn_desired *d)
{
	strv_free(d->peers, d->n_peers);
	strv_free(d->macs, d->n_macs);
	free(d->floats);
	free(d->routed);
	free(d->dnsmasq_config);
	free(d->dnsmasq_hosts);
	free(d->dnsmasq_dnshosts);
	*d = (struct nn_desired){0};
}

void nn_observed_clear(struct nn_observed *o)
{
	strv_free(o->fdb, o->n_fdb);
	strv_free(o->veth_i_addrs, o->n_veth_i_addrs);
	strv_free(o->egr_i_addrs, o->n_egr_i_addrs);
	free(o->node_routes);
	free(o->net_routes);
	free(o->ip_forward);
	free(o->leases);
	*o = (struct nn_observed){0};
}

void nn_egress_observed_clear(struct nn_egress_observed *o)
{
	strv_free(o->addrs, o->n_addrs);
	free(o->ip_forward);
	*o = (struct nn_egress_observed){0};
}

/* ---- helpers ----------------------------------------------------------------------------- */

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* A device that exists (or was just created: fresh) gets its master, MTU and up state. */
static void converge_port(struct nn_oplist *l, enum nn_where w, const char *name,
			  const struct nn_link_obs *o, bool fresh, const char *master, unsigned mtu)
{
	struct nn_op *op;

	if (master && (fresh || strcmp(o->link.master_name, master) != 0)) {
		op = push(l, NN_OP_SET_MASTER, w, name, master, NULL);
		why(op, fresh, "%s was not on %s", name, master);
	}
	if (!fresh && mtu && o->link.mtu != mtu) {
		op = push(l, NN_OP_SET_MTU, w, name, NULL, NULL);
		op->u1 = mtu;
		why(op, false, "%s had MTU %u instead of %u", name, o->link.mtu, mtu);
	}
	if (fresh || !o->link.up) {
		op = push(l, NN_OP_SET_UP, w, name, NULL, NULL);
		why(op, fresh, "%s was down", name);
	}
}

/* Exactly the addresses want (n_want of them) on a device: missing ones added, others deleted. */
static void converge_addrs(struct nn_oplist *l, enum nn_where w, const char *name,
			   char *const *have, size_t n_have, char *const *want, size_t n_want,
			   bool fresh)
{
	struct nn_op *op;

	for (size_t i = 0; !fresh && i < n_have; i++)
		if (!strv_has(want, n_want, have[i])) {
			op = push(l, NN_OP_ADDR_DEL, w, name, have[i], NULL);
			why(op, false, "%s had the stray address %s", name, have[i]);
		}
	for (size_t i = 0; i < n_want; i++)
		if (fresh || !strv_has(have, n_have, want[i])) {
			op = push(l, NN_OP_ADDR_ADD, w, name, want[i], NULL);
			why(op, fresh, "%s lacked %s", name, want[i]);
		}
}

/*
 * IPv4 only (ARCHITECTURE 5.6): a device we create in the node namespace gets IPv6 turned off
 * before it goes up, so it adds nothing to the node's IPv6 routing table. Every link that goes
 * up there walks that whole table (fib6_ifup); with a link-local and a multicast route per
 * device it grew with every network, and deploys slowed down with it (a profile at 1,000
 * networks). Not observed by the reconciler: it changes no behaviour of the network.
 */
static void no_ipv6(struct nn_oplist *l, const char *ifname)
{
	push(l, NN_OP_NO_IPV6, NN_AT_NODE, ifname, NULL, NULL);
}

/* A veth pair with outer in the node namespace and inner in the network's. Returns whether it
 * is (re)created. */
static bool converge_veth(struct nn_oplist *l, const struct nn_desired *d, const char *outer,
			  const char *inner, const struct nn_observed *o,
			  const struct nn_link_obs *o_out, const struct nn_link_obs *o_in,
			  unsigned mtu, bool quiet)
{
	bool have_in = o->netns && o_in->exists;
	struct nn_op *op;

	if (o_out->exists && have_in)
		return false;
	if (o_out->exists)
		push(l, NN_OP_LINK_DEL, NN_AT_NODE, outer, NULL, NULL);
	if (have_in)
		push(l, NN_OP_LINK_DEL, NN_AT_NET, inner, NULL, NULL);
	op = push(l, NN_OP_ADD_VETH, NN_AT_NODE, outer, inner, d->uuid);
	op->u1 = mtu;
	why(op, quiet, "%s missing", o_out->exists ? inner : outer);
	no_ipv6(l, outer);
	return true;
}

static char *cidr(uint32_t addr, unsigned prefix)
{
	char a[SF_IPV4_STRLEN];

	return sf_xasprintf("%s/%u", sf_ipv4_format(addr, a), prefix);
}

/* ---- one network ------------------------------------------------------------------------- */

struct names {
	char vxlan[SF_IFNAMSIZ], bridge[SF_IFNAMSIZ], veth_o[SF_IFNAMSIZ], veth_i[SF_IFNAMSIZ],
		egr_o[SF_IFNAMSIZ], egr_i[SF_IFNAMSIZ];
};

static int names_of(uint32_t vxid, struct names *n)
{
	int r = sf_name_format(SF_NAME_VXLAN, vxid, n->vxlan);

	if (r == 0)
		r = sf_name_format(SF_NAME_BRIDGE, vxid, n->bridge);
	if (r == 0)
		r = sf_name_format(SF_NAME_VETH_OUTER, vxid, n->veth_o);
	if (r == 0)
		r = sf_name_format(SF_NAME_VETH_INNER, vxid, n->veth_i);
	if (r == 0)
		r = sf_name_format(SF_NAME_EGRESS_OUTER, vxid, n->egr_o);
	if (r == 0)
		r = sf_name_format(SF_NAME_EGRESS_INNER, vxid, n->egr_i);
	return r;
}

/* The bridge and the VXLAN device on it. Returns whether the VXLAN device is (re)created. */
static bool plan_mesh_devices(struct nn_oplist *l, const struct nn_desired *d,
			      const struct nn_observed *o, const struct names *n,
			      bool *ret_bridge_new)
{
	const struct sf_link *vx = &o->vxlan.link;
	bool bridge_new = !o->bridge.exists, vx_new = !o->vxlan.exists;
	struct nn_op *op;

	if (bridge_new) {
		op = push(l, NN_OP_ADD_BRIDGE, NN_AT_NODE, n->bridge, NULL, NULL);
		op->u1 = d->mtu;
		op->u2 = 0; /* no learning: floods like a hub, as upstream (spec 6.5) */
		why(op, false, "%s missing", n->bridge);
		no_ipv6(l, n->bridge);
	}
	converge_port(l, NN_AT_NODE, n->bridge, &o->bridge, bridge_new, NULL, d->mtu);

	if (!vx_new && (vx->vxlan_vni != d->vxid || vx->vxlan_port != d->vxlan_port)) {
		op = push(l, NN_OP_LINK_DEL, NN_AT_NODE, n->vxlan, NULL, NULL);
		why(op, false, "%s had vni %u port %u instead of vni %u port %u", n->vxlan,
		    vx->vxlan_vni, vx->vxlan_port, d->vxid, d->vxlan_port);
		vx_new = true;
	}
	if (vx_new) {
		op = push(l, NN_OP_ADD_VXLAN, NN_AT_NODE, n->vxlan, d->mesh_nic, NULL);
		op->u1 = d->mtu;
		op->u2 = d->vxid;
		op->u3 = d->vxlan_port;
		why(op, o->vxlan.exists, "%s missing", n->vxlan);
		no_ipv6(l, n->vxlan);
	}
	converge_port(l, NN_AT_NODE, n->vxlan, &o->vxlan, vx_new, n->bridge, d->mtu);
	*ret_bridge_new = bridge_new;
	return vx_new;
}

static void plan_flood(struct nn_oplist *l, const struct nn_desired *d, const struct nn_observed *o,
		       const struct names *n, bool vx_new)
{
	struct nn_op *op;

	for (size_t i = 0; !vx_new && i < o->n_fdb; i++)
		if (!strv_has(d->peers, d->n_peers, o->fdb[i]))
			push(l, NN_OP_FDB_DEL, NN_AT_NODE, n->vxlan, o->fdb[i], NULL);
	for (size_t i = 0; i < d->n_peers; i++)
		if (vx_new || !strv_has(o->fdb, o->n_fdb, d->peers[i])) {
			op = push(l, NN_OP_FDB_ADD, NN_AT_NODE, n->vxlan, d->peers[i], NULL);
			why(op, vx_new, "%s lacked the flood entry for %s", n->vxlan, d->peers[i]);
		}
}

static void plan_routed(struct nn_oplist *l, const struct nn_desired *d,
			const struct nn_observed *o, const struct names *n, bool bridge_new)
{
	char **want = sf_xcalloc(d->n_routed + 1, sizeof(*want));
	struct nn_op *op;

	for (size_t i = 0; i < d->n_routed; i++)
		want[i] = cidr(d->routed[i], 32);
	for (size_t i = 0; !bridge_new && i < o->n_node_routes; i++) {
		const struct sf_route *rt = &o->node_routes[i];

		if (strcmp(rt->dev, n->bridge) == 0 && strstr(rt->dst, "/32") &&
		    !strv_has(want, d->n_routed, rt->dst))
			push(l, NN_OP_ROUTE_DEL, NN_AT_NODE, rt->dst, NULL, n->bridge);
	}
	for (size_t i = 0; i < d->n_routed; i++) {
		bool have = false;

		for (size_t j = 0; !bridge_new && j < o->n_node_routes; j++)
			have |= strcmp(o->node_routes[j].dst, want[i]) == 0 &&
				strcmp(o->node_routes[j].dev, n->bridge) == 0;
		if (!have) {
			op = push(l, NN_OP_ROUTE_REPLACE, NN_AT_NODE, want[i], NULL, n->bridge);
			why(op, bridge_new, "the route of %s was missing", want[i]);
		}
	}
	strv_free(want, d->n_routed);
}

/* Is the default route of the namespace exactly one, via gateway on dev? */
static bool default_route_ok(const struct nn_observed *o, const char *gateway, const char *dev)
{
	size_t n_default = 0;
	bool ok = false;

	for (size_t i = 0; i < o->n_net_routes; i++) {
		const struct sf_route *rt = &o->net_routes[i];

		if (strcmp(rt->dst, "0.0.0.0/0") != 0)
			continue;
		n_default++;
		ok |= strcmp(rt->gateway, gateway) == 0 && strcmp(rt->dev, dev) == 0 &&
		      rt->metric == 0;
	}
	return ok && n_default == 1;
}

static void plan_dnsmasq(struct nn_oplist *l, const struct nn_desired *d,
			 const struct nn_observed *o, bool restart, bool quiet)
{
	struct nn_op *op;
	bool hosts_changed = false;

	if (!d->dnsmasq_config) {
		if (o->dnsmasq_running)
			push(l, NN_OP_DNSMASQ_STOP, NN_AT_NET, NULL, NULL, NULL);
		if (o->dnsmasq_dir)
			push(l, NN_OP_STATE_DIR_DEL, NN_AT_NET, NULL, NULL, NULL);
		return;
	}
	if (!o->config_same) {
		op = push(l, NN_OP_DNSMASQ_WRITE, NN_AT_NET, "config", NULL, NULL);
		why(op, quiet || !o->dnsmasq_dir, "the dnsmasq config was not the desired one");
		restart = true;
	}
	if (d->dnsmasq_hosts && !o->hosts_same) {
		push(l, NN_OP_DNSMASQ_WRITE, NN_AT_NET, "hosts", NULL, NULL);
		hosts_changed = true;
	}
	if (d->dnsmasq_dnshosts && !o->dnshosts_same) {
		push(l, NN_OP_DNSMASQ_WRITE, NN_AT_NET, "dnshosts", NULL, NULL);
		hosts_changed = true;
	}
	if (!o->dnsmasq_running) {
		op = push(l, NN_OP_DNSMASQ_START, NN_AT_NET, NULL, NULL, NULL);
		why(op, quiet, "dnsmasq was not running");
	} else if (restart) {
		push(l, NN_OP_DNSMASQ_RESTART, NN_AT_NET, NULL, NULL, NULL);
	} else if (hosts_changed) {
		push(l, NN_OP_DNSMASQ_RELOAD, NN_AT_NET, NULL, NULL, NULL);
	}
	for (size_t i = 0; d->provide_dhcp && i < o->n_leases; i++)
		if (!strv_has(d->macs, d->n_macs, o->leases[i].mac))
			push(l, NN_OP_DHCP_RELEASE, NN_AT_NET, o->leases[i].address,
			     o->leases[i].mac, NULL);
}

int nn_plan_network(const struct nn_desired *d, const struct nn_observed *o, struct nn_oplist *ops)
{
	char **want = NULL, gw[SF_IPV4_STRLEN];
	bool bridge_new, vx_new, veth_new, egr_new, netns_new = !o->netns;
	size_t n_want = 0;
	struct names n = {0};
	struct nn_op *op;
	uint32_t router = 0;
	int r;

	if (!d->mesh_nic || !*d->egress_bridge || !d->mtu)
		return -EINVAL;
	r = names_of(d->vxid, &n);
	if (r == 0)
		r = sf_ipv4_net_router(&d->netblock, &router);
	if (r < 0)
		return r;
	if (!o->egr_br.exists)
		return -ENODEV;

	vx_new = plan_mesh_devices(ops, d, o, &n, &bridge_new);

	if (netns_new) {
		op = push(ops, NN_OP_NETNS_ADD, NN_AT_NODE, d->uuid, NULL, NULL);
		why(op, false, "namespace %s missing", d->uuid);
	}
	if (netns_new || !o->lo.link.up)
		push(ops, NN_OP_SET_UP, NN_AT_NET, "lo", NULL, NULL);
	if (netns_new || !sf_streq(o->ip_forward, "1"))
		push(ops, NN_OP_SYSCTL, NN_AT_NET, "ipv4/ip_forward", "1", NULL);

	/* the network side: veth-XXXXXX-o on the bridge, -i holding the router address */
	veth_new = converge_veth(ops, d, n.veth_o, n.veth_i, o, &o->veth_o, &o->veth_i, d->mtu,
				 netns_new);
	converge_port(ops, NN_AT_NODE, n.veth_o, &o->veth_o, veth_new, n.bridge, d->mtu);
	converge_port(ops, NN_AT_NET, n.veth_i, &o->veth_i, veth_new, NULL, d->mtu);
	want = sf_xcalloc(d->n_floats + 2, sizeof(*want));
	want[n_want++] = cidr(router, d->netblock.prefix);
	converge_addrs(ops, NN_AT_NET, n.veth_i, o->veth_i_addrs, o->n_veth_i_addrs, want, n_want,
		       veth_new);
	strv_free(want, n_want);

	/* the egress side: egr-XXXXXX-o on egr-br-<nic>, -i holding the floating gateway and the
	 * floating addresses; both ends take the egress bridge's MTU (spec 6.4 step 5) */
	egr_new = converge_veth(ops, d, n.egr_o, n.egr_i, o, &o->egr_o, &o->egr_i,
				o->egr_br.link.mtu, netns_new);
	converge_port(ops, NN_AT_NODE, n.egr_o, &o->egr_o, egr_new, d->egress_bridge,
		      o->egr_br.link.mtu);
	converge_port(ops, NN_AT_NET, n.egr_i, &o->egr_i, egr_new, NULL, o->egr_br.link.mtu);
	want = sf_xcalloc(d->n_floats + 2, sizeof(*want));
	n_want = 0;
	if (d->provide_nat && d->floating_gateway)
		want[n_want++] = cidr(d->floating_gateway, d->floating_net.prefix);
	for (size_t i = 0; i < d->n_floats; i++)
		want[n_want++] = cidr(d->floats[i].floating, 32);
	converge_addrs(ops, NN_AT_NET, n.egr_i, o->egr_i_addrs, o->n_egr_i_addrs, want, n_want,
		       egr_new);
	strv_free(want, n_want);

	if (d->provide_nat && d->floating_gateway) {
		uint32_t index1;

		r = sf_ipv4_net_nth(&d->floating_net, 1, &index1);
		if (r < 0)
			return r;
		sf_ipv4_format(index1, gw);
		if (egr_new || !default_route_ok(o, gw, n.egr_i)) {
			op = push(ops, NN_OP_DEFAULT_ROUTE, NN_AT_NET, NULL, gw, n.egr_i);
			why(op, egr_new, "the default route via %s was missing", gw);
		}
	}

	plan_routed(ops, d, o, &n, bridge_new);
	plan_flood(ops, d, o, &n, vx_new);

	if (d->provide_nat || d->n_floats) {
		bool missing = netns_new || o->nft == NN_NFT_MISSING;

		if (o->nft != NN_NFT_CURRENT || netns_new) {
			op = push(ops, NN_OP_NFT_APPLY, NN_AT_NET, NULL, NULL, NULL);
			if (missing)
				why(op, netns_new, "the nftables table was missing");
			else if (o->nft == NN_NFT_STALE)
				why(op, false, "the nftables rules were out of date");
		}
	} else if (!netns_new && o->nft != NN_NFT_MISSING) {
		push(ops, NN_OP_NFT_DELETE, NN_AT_NET, NULL, NULL, NULL);
	}

	/* dnsmasq lives in the namespace and binds to veth-XXXXXX-i: a new namespace or device
	 * needs a new dnsmasq */
	plan_dnsmasq(ops, d, o, netns_new || veth_new, netns_new);
	return 0;
}

int nn_plan_destroy(const struct nn_desired *d, const struct nn_observed *o, struct nn_oplist *ops)
{
	struct names n = {0};
	int r;

	r = names_of(d->vxid, &n);
	if (r < 0)
		return r;
	if (o->dnsmasq_running)
		push(ops, NN_OP_DNSMASQ_STOP, NN_AT_NET, NULL, NULL, NULL);
	if (o->dnsmasq_dir)
		push(ops, NN_OP_STATE_DIR_DEL, NN_AT_NET, NULL, NULL, NULL);
	if (o->veth_o.exists)
		push(ops, NN_OP_LINK_DEL, NN_AT_NODE, n.veth_o, NULL, NULL);
	if (o->egr_o.exists)
		push(ops, NN_OP_LINK_DEL, NN_AT_NODE, n.egr_o, NULL, NULL);
	if (o->vxlan.exists)
		push(ops, NN_OP_LINK_DEL, NN_AT_NODE, n.vxlan, NULL, NULL);
	if (o->bridge.exists)
		push(ops, NN_OP_LINK_DEL, NN_AT_NODE, n.bridge, NULL, NULL);
	/* the namespace goes last: once it is gone, so is everything else of the network */
	if (o->netns)
		push(ops, NN_OP_NETNS_DEL, NN_AT_NODE, d->uuid, NULL, NULL);
	return 0;
}

/* ---- the egress bridge ------------------------------------------------------------------- */

int nn_plan_egress(const struct nn_egress_desired *d, const struct nn_egress_observed *o,
		   struct nn_oplist *ops)
{
	char *want = (char *)d->address;
	bool fresh = !o->bridge.exists;
	struct nn_op *op;

	if (!o->nic.exists)
		return -ENODEV;
	if (fresh) {
		op = push(ops, NN_OP_ADD_BRIDGE, NN_AT_NODE, d->bridge, NULL, NULL);
		op->u1 = o->nic.link.mtu;
		op->u2 = 300; /* an ordinary learning bridge */
		why(op, false, "egress bridge %s missing", d->bridge);
	}
	converge_port(ops, NN_AT_NODE, d->bridge, &o->bridge, fresh, NULL, o->nic.link.mtu);
	converge_addrs(ops, NN_AT_NODE, d->bridge, o->addrs, o->n_addrs, &want, 1, fresh);
	if (!sf_streq(o->ip_forward, "1")) {
		op = push(ops, NN_OP_SYSCTL, NN_AT_NODE, "ipv4/ip_forward", "1", NULL);
		why(op, fresh, "forwarding was off in the node namespace");
	}
	return 0;
}
