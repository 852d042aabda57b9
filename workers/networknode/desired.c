// SPDX-License-Identifier: Apache-2.0
/* The desired state of a network on the network node, read from Redis (spec 6.4-6.10). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "networknode/nn.h"
#include "sf/dnsmasq.h"
#include "sf/naming.h"
#include "sf/nft.h"
#include "sf/store.h"

SF_LOG_MODULE("networknode");

void nn_desired_minimal(struct nn_state *st, const char *uuid, uint32_t vxid,
			struct nn_desired *ret)
{
	*ret = (struct nn_desired){
		.vxid = vxid,
		.floating_net = st->floating_net,
		.mtu = (unsigned)st->cfg->mtu,
		.vxlan_port = (uint16_t)st->cfg->vxlan_port,
		.mesh_nic = st->cfg->mesh_nic,
	};
	(void)snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid);
	memcpy(ret->egress_bridge, st->egress_bridge, sizeof(ret->egress_bridge));
}

static void strv_push_unique(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return;
	*v = sf_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = sf_xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The mesh IP of the node hosting an interface, or NULL: this node, unknown, or no mesh IP. */
static char *peer_of(struct nn_state *st, struct sf_kv *kv, const char *node)
{
	const char *ip;
	json_t *rec = NULL;
	char *out = NULL;
	int r;

	if (!node || !*node || sf_streq(node, st->cfg->node_name))
		return NULL;
	r = sf_node_get(kv, node, &rec);
	if (r < 0) {
		sf_log_warn_errno(
			r, "node %s of an interface is not in the registry, no flood entry", node);
		return NULL;
	}
	ip = json_string_value(json_object_get(rec, "mesh_ip"));
	if (ip && *ip && !sf_streq(ip, st->cfg->mesh_ip)) /* never ourselves (bug #859) */
		out = sf_xstrdup(ip);
	json_decref(rec);
	return out;
}

/* Routed addresses of the network: floating-pool reservations of type routed, user
 * ["network", uuid]. */
static int load_routed(struct sf_kv *kv, const char *uuid, struct nn_desired *d)
{
	json_t *recs = NULL, *rec;
	size_t i;
	int r;

	r = sf_ipam_list_user(kv, SF_FLOATING_NETWORK, "network", uuid, &recs);
	if (r < 0)
		return r;
	d->routed = sf_xcalloc(json_array_size(recs) + 1, sizeof(*d->routed));
	json_array_foreach(recs, i, rec) {
		uint32_t a;

		if (!sf_streq(json_string_value(json_object_get(rec, "type")),
			      sf_ipam_type_to_string(SF_IPAM_ROUTED)))
			continue;
		if (sf_ipv4_parse(json_string_value(json_object_get(rec, "address")), &a) == 0)
			d->routed[d->n_routed++] = a;
	}
	json_decref(recs);
	return 0;
}

struct hosts {
	struct sf_dnsmasq_host *v;
	size_t n;
	struct sf_iface **ifaces; /* owners of the strings in v */
	size_t n_ifaces;
};

static void hosts_clear(struct hosts *h)
{
	for (size_t i = 0; i < h->n_ifaces; i++)
		sf_iface_free(h->ifaces[i]);
	free(h->ifaces);
	free(h->v);
}

static int load_ifaces(struct nn_state *st, struct sf_kv *kv, const char *uuid,
		       const char *exclude_iface, struct nn_desired *d, struct hosts *h)
{
	int r;

	r = sf_network_iface_records(kv, uuid, &h->ifaces, &h->n_ifaces);
	if (r < 0)
		return r;
	h->v = sf_xcalloc(h->n_ifaces + 1, sizeof(*h->v));
	d->floats = sf_xcalloc(h->n_ifaces + 1, sizeof(*d->floats));
	for (size_t i = 0; i < h->n_ifaces; i++) {
		const struct sf_iface *ifc = h->ifaces[i];
		uint32_t inner = 0, flt;
		char *peer;

		if (ifc->state == SF_IFACE_DELETED)
			continue;
		if (ifc->ipv4 && sf_ipv4_parse(ifc->ipv4, &inner) < 0)
			inner = 0;
		if (ifc->macaddr) {
			strv_push_unique(&d->macs, &d->n_macs, ifc->macaddr);
			h->v[h->n++] = (struct sf_dnsmasq_host){
				.mac = ifc->macaddr, .name = ifc->instance_uuid, .ipv4 = inner};
		}
		if (ifc->floating && inner && !sf_streq(ifc->uuid, exclude_iface) &&
		    sf_ipv4_parse(ifc->floating, &flt) == 0)
			d->floats[d->n_floats++] =
				(struct nn_float){.floating = flt, .inner = inner};
		peer = peer_of(st, kv, ifc->node);
		if (peer)
			strv_push_unique(&d->peers, &d->n_peers, peer);
		free(peer);
	}
	if (d->n_peers)
		qsort(d->peers, d->n_peers, sizeof(*d->peers), cmp_str);
	return 0;
}

static int render_dnsmasq(struct nn_state *st, struct sf_kv *kv, const struct sf_network *net,
			  const struct hosts *h, struct nn_desired *d)
{
	struct sf_dnsmasq_dns_entry *entries = NULL;
	char ifname[SF_IFNAMSIZ], *dir = NULL;
	json_t *dns = NULL, *v;
	const char *name;
	size_t n_entries = 0;
	int r;

	r = sf_name_format(SF_NAME_VETH_INNER, d->vxid, ifname);
	if (r == 0)
		r = nn_dnsmasq_dir(st, d->uuid, &dir);
	if (r < 0)
		return r;
	r = sf_dnsmasq_render_config(
		&(struct sf_dnsmasq_net){
			.uuid = d->uuid,
			.dir = dir,
			.ifname = ifname,
			.netblock = d->netblock,
			.namespace_name = net->namespace,
			.zone = st->cfg->zone,
			.dns_server = st->cfg->dns_server,
			.mtu = d->mtu,
			.provide_dhcp = d->provide_dhcp,
			.provide_dns = d->provide_dns,
			.provide_nat = d->provide_nat,
		},
		&d->dnsmasq_config);
	if (r == 0 && d->provide_dhcp)
		r = sf_dnsmasq_render_hosts(h->v, h->n, &d->dnsmasq_hosts);
	if (r == 0 && d->provide_dns) {
		r = sf_network_dns_get(kv, d->uuid, &dns);
		if (r == 0) {
			entries = sf_xcalloc(json_object_size(dns) + 1, sizeof(*entries));
			json_object_foreach(dns, name, v)
				if (json_is_string(v))
					entries[n_entries++] = (struct sf_dnsmasq_dns_entry){
						.name = name, .value = json_string_value(v)};
			r = sf_dnsmasq_render_dnshosts(h->v, h->n, entries, n_entries,
						       &d->dnsmasq_dnshosts);
		}
	}
	free(entries);
	json_decref(dns);
	free(dir);
	return r;
}

int nn_desired_load(struct nn_state *st, struct sf_kv *kv, const struct sf_network *net,
		    const char *exclude_iface, struct nn_desired *ret)
{
	struct nn_desired d;
	struct hosts h = {0};
	int r;

	nn_desired_minimal(st, net->uuid, net->vxid, &d);
	d.provide_dhcp = net->provide_dhcp;
	d.provide_dns = net->provide_dns;
	d.provide_nat = net->provide_nat;
	r = sf_ipv4_net_parse(net->netblock, SF_IPV4_NET_BARE, &d.netblock);
	if (r < 0) {
		sf_log_err_errno(r, "network %s: netblock '%s' does not parse", net->uuid,
				 net->netblock);
		goto out;
	}
	if (net->floating_gateway && sf_ipv4_parse(net->floating_gateway, &d.floating_gateway) < 0)
		d.floating_gateway = 0;
	r = load_ifaces(st, kv, net->uuid, exclude_iface, &d, &h);
	if (r == 0)
		r = load_routed(kv, net->uuid, &d);
	if (r == 0 && (d.provide_dhcp || d.provide_dns))
		r = render_dnsmasq(st, kv, net, &h, &d);
out:
	hosts_clear(&h);
	if (r < 0) {
		nn_desired_clear(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int nn_nft_spec_init(const struct nn_desired *d, struct nn_nft_spec *ret)
{
	int r;

	*ret = (struct nn_nft_spec){0};
	r = sf_name_format(SF_NAME_VETH_INNER, d->vxid, ret->inner);
	if (r == 0)
		r = sf_name_format(SF_NAME_EGRESS_INNER, d->vxid, ret->egress);
	if (r < 0)
		return r;
	ret->floating = sf_xcalloc(d->n_floats + 1, sizeof(*ret->floating));
	for (size_t i = 0; i < d->n_floats; i++)
		ret->floating[i] =
			(struct sf_nft_floating){d->floats[i].floating, d->floats[i].inner};
	ret->spec = (struct sf_nft_spec){.netblock = d->netblock,
					 .inner_ifname = ret->inner,
					 .egress_ifname = ret->egress,
					 .masquerade = d->provide_nat,
					 .floating = ret->floating,
					 .n_floating = d->n_floats};
	return 0;
}

void nn_nft_spec_clear(struct nn_nft_spec *s)
{
	free(s->floating);
	s->floating = NULL;
}

int nn_nft_text(const struct nn_desired *d, char **ret_text)
{
	struct nn_nft_spec s;
	int r;

	r = nn_nft_spec_init(d, &s);
	if (r < 0)
		return r;
	r = sf_nft_render(&s.spec, ret_text);
	nn_nft_spec_clear(&s);
	return r;
}
