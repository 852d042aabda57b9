// SPDX-License-Identifier: Apache-2.0
/* What Redis says this node hosts, and the dataplane view of the records. See hv.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv.h"
#include "sf/store.h"
#include "sf/util.h"

SF_LOG_MODULE("hypervisor");

void hv_local_clear(struct hv_local *l)
{
	for (size_t i = 0; i < l->n; i++)
		sf_iface_free(l->ifaces[i]);
	free(l->ifaces);
	sf_netops_strv_free(l->other_nodes);
	*l = (struct hv_local){0};
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_node(struct hv_local *l, const char *node)
{
	for (size_t i = 0; i < l->n_other_nodes; i++)
		if (strcmp(l->other_nodes[i], node) == 0)
			return;
	l->other_nodes = sf_xrealloc(l->other_nodes, (l->n_other_nodes + 2) * sizeof(char *));
	l->other_nodes[l->n_other_nodes++] = sf_xstrdup(node);
	l->other_nodes[l->n_other_nodes] = NULL;
}

int hv_local_load(struct sf_kv *kv, const char *node, const char *uuid, struct hv_local *ret)
{
	struct hv_local l = {0};
	struct sf_iface **all = NULL;
	size_t n = 0;
	int r;

	r = sf_network_iface_records(kv, uuid, &all, &n);
	if (r < 0)
		return r;
	l.ifaces = sf_xcalloc(n + 1, sizeof(struct sf_iface *));
	for (size_t i = 0; i < n; i++) {
		struct sf_iface *ifc = all[i];

		if (ifc->state == SF_IFACE_DELETED || !ifc->node) {
			sf_iface_free(ifc);
		} else if (strcmp(ifc->node, node) == 0) {
			l.ifaces[l.n++] = ifc;
		} else {
			add_node(&l, ifc->node);
			sf_iface_free(ifc);
		}
	}
	free(all); /* each record is in l.ifaces or freed */
	if (l.other_nodes)
		qsort(l.other_nodes, l.n_other_nodes, sizeof(char *), cmp_str);
	*ret = l;
	return 0;
}

void hv_net_from(const struct hv_state *st, const struct sf_network *n, struct hv_net *ret)
{
	*ret = (struct hv_net){
		.vxid = n->vxid,
		.mtu = (unsigned)st->cfg->mtu,
		.vxlan_port = (uint16_t)st->cfg->vxlan_port,
		.mesh_nic = st->cfg->mesh_nic,
	};
}

int hv_port_from(const struct sf_iface *ifc, struct hv_port *ret)
{
	struct hv_port p = {.uuid = ifc->uuid, .order = ifc->order};
	int r;

	r = hv_port_kind_from_string(ifc->kind ? ifc->kind : "tap", &p.kind);
	if (r == 0)
		r = ifc->macaddr ? sf_mac_parse(ifc->macaddr, &p.mac) : -EINVAL;
	if (r < 0)
		return r;
	if (p.kind == HV_PORT_VETH) {
		if (!ifc->netns || !*ifc->netns)
			return -EINVAL;
		p.netns = ifc->netns;
	}
	*ret = p;
	return 0;
}
