// SPDX-License-Identifier: Apache-2.0
/* What the kernel and the process table show of a network (the "observed" side of a plan). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "networknode/nn.h"
#include "sf/dnsmasq.h"
#include "sf/naming.h"
#include "sf/nft.h"

SF_LOG_MODULE("networknode");

static int link_obs(struct sf_netops *ops, const char *name, struct nn_link_obs *o)
{
	int r = sf_netops_link_get(ops, name, &o->link);

	o->exists = r == 0;
	return r == -ENODEV ? 0 : r;
}

static int addrs_obs(struct sf_netops *ops, const struct nn_link_obs *l, const char *name,
		     char ***ret, size_t *ret_n)
{
	if (!l->exists)
		return 0;
	return sf_netops_addr_list(ops, name, ret, ret_n);
}

/* The entries of ifindex in a dump of the namespace's flood entries. */
static void fdb_from_dump(const struct sf_fdb_flood *fdb, size_t n_fdb, int ifindex,
			  struct nn_observed *o)
{
	o->fdb = sf_xcalloc(n_fdb + 1, sizeof(*o->fdb));
	for (size_t i = 0; i < n_fdb; i++)
		if (fdb[i].ifindex == ifindex)
			o->fdb[o->n_fdb++] = sf_xstrdup(fdb[i].dst);
}

int nn_observe_netops(struct sf_netops *node, const char *egress_bridge,
		      const struct sf_fdb_flood *fdb, size_t n_fdb, const struct nn_desired *d,
		      struct nn_observed *ret)
{
	char vxlan[SF_IFNAMSIZ], bridge[SF_IFNAMSIZ], veth_o[SF_IFNAMSIZ], veth_i[SF_IFNAMSIZ],
		egr_o[SF_IFNAMSIZ], egr_i[SF_IFNAMSIZ];
	struct nn_observed o = {0};
	struct sf_netops *net = NULL;
	int r;

	r = sf_name_format(SF_NAME_VXLAN, d->vxid, vxlan);
	if (r == 0)
		r = sf_name_format(SF_NAME_BRIDGE, d->vxid, bridge);
	if (r == 0)
		r = sf_name_format(SF_NAME_VETH_OUTER, d->vxid, veth_o);
	if (r == 0)
		r = sf_name_format(SF_NAME_VETH_INNER, d->vxid, veth_i);
	if (r == 0)
		r = sf_name_format(SF_NAME_EGRESS_OUTER, d->vxid, egr_o);
	if (r == 0)
		r = sf_name_format(SF_NAME_EGRESS_INNER, d->vxid, egr_i);
	if (r < 0)
		return r;

	/* the node namespace */
	r = link_obs(node, vxlan, &o.vxlan);
	if (r == 0)
		r = link_obs(node, bridge, &o.bridge);
	if (r == 0)
		r = link_obs(node, veth_o, &o.veth_o);
	if (r == 0)
		r = link_obs(node, egr_o, &o.egr_o);
	if (r == 0)
		r = link_obs(node, egress_bridge, &o.egr_br);
	if (r == 0 && o.vxlan.exists && fdb)
		fdb_from_dump(fdb, n_fdb, o.vxlan.link.ifindex, &o);
	else if (r == 0 && o.vxlan.exists)
		r = sf_netops_fdb_flood_list(node, vxlan, &o.fdb, &o.n_fdb);
	if (r == 0 && o.bridge.exists) {
		r = sf_netops_route_list(node, bridge, &o.node_routes, &o.n_node_routes);
		if (r == -ENODEV) /* went away meanwhile */
			r = 0;
	}
	if (r < 0)
		goto out;
	if (!o.node_routes)
		o.node_routes = sf_xcalloc(1, sizeof(*o.node_routes));

	/* the network's namespace */
	if (!sf_netops_netns_exists(node, d->uuid))
		goto out;
	r = sf_netops_at(node, d->uuid, &net);
	if (r == -ENOENT) { /* went away meanwhile */
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	o.netns = true;
	r = link_obs(net, "lo", &o.lo);
	if (r == 0)
		r = link_obs(net, veth_i, &o.veth_i);
	if (r == 0)
		r = link_obs(net, egr_i, &o.egr_i);
	if (r == 0)
		r = addrs_obs(net, &o.veth_i, veth_i, &o.veth_i_addrs, &o.n_veth_i_addrs);
	if (r == 0)
		r = addrs_obs(net, &o.egr_i, egr_i, &o.egr_i_addrs, &o.n_egr_i_addrs);
	if (r == 0)
		r = sf_netops_route_list(net, NULL, &o.net_routes, &o.n_net_routes);
	if (r == 0) {
		r = sf_netops_sysctl_get(net, "ipv4/ip_forward", &o.ip_forward);
		if (r == -ENOENT)
			r = 0;
	}
out:
	sf_netops_free(net);
	if (r < 0) {
		nn_observed_clear(&o);
		return r;
	}
	*ret = o;
	return 0;
}

/* Does the file hold exactly text? */
static bool file_is(const char *dir, const char *name, const char *text)
{
	char *path = sf_xasprintf("%s/%s", dir, name), buf[4096];
	size_t len = strlen(text), off = 0, k;
	bool same = true;
	FILE *f;

	f = fopen(path, "re");
	free(path);
	if (!f)
		return false;
	while (same && (k = fread(buf, 1, sizeof(buf), f)) > 0) {
		same = off + k <= len && memcmp(buf, text + off, k) == 0;
		off += k;
	}
	same = same && !ferror(f) && off == len;
	(void)fclose(f);
	return same;
}

static int observe_dnsmasq(struct nn_state *st, const struct nn_desired *d, struct nn_observed *o)
{
	struct stat sb;
	char *dir = NULL;
	int r;

	r = nn_dnsmasq_dir(st, d->uuid, &dir);
	if (r < 0)
		return r;
	o->dnsmasq_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
	r = nn_dnsmasq_running(st, d->uuid, &o->dnsmasq_running);
	if (r == 0 && d->dnsmasq_config && o->dnsmasq_dir) {
		o->config_same = file_is(dir, SF_DNSMASQ_CONFIG, d->dnsmasq_config);
		o->hosts_same =
			d->dnsmasq_hosts && file_is(dir, SF_DNSMASQ_HOSTS, d->dnsmasq_hosts);
		o->dnshosts_same = d->dnsmasq_dnshosts &&
				   file_is(dir, SF_DNSMASQ_DNSHOSTS, d->dnsmasq_dnshosts);
	}
	if (r == 0 && d->provide_dhcp && o->dnsmasq_dir)
		r = nn_leases_read(dir, &o->leases, &o->n_leases);
	free(dir);
	return r;
}

/* The table was applied by an earlier run of the worker (nothing in memory): current if its
 * mark is that of the desired text, which is then remembered as applied. */
static int nft_by_mark(struct sf_nft *nft, const char *want, struct nn_netmem *mem,
		       struct nn_observed *o)
{
	char have[SF_NFT_MARK_SIZE], mark[SF_NFT_MARK_SIZE];
	int r;

	r = sf_nft_table_mark(nft, have);
	if (r == -ENOENT) { /* went away meanwhile */
		o->nft = NN_NFT_MISSING;
		return 0;
	}
	if (r < 0)
		return r;
	sf_nft_text_mark(want, mark);
	if (mark[0] && strcmp(have, mark) == 0) {
		o->nft = NN_NFT_CURRENT;
		free(mem->nft_text);
		mem->nft_text = sf_xstrdup(want);
	}
	return 0;
}

static int observe_nft(struct nn_state *st, const struct nn_desired *d, struct nn_observed *o)
{
	struct nn_netmem *mem = nn_netmem(st, d->uuid);
	struct sf_nft *nft = NULL;
	char *want = NULL;
	bool exists = false;
	int r;

	o->nft = NN_NFT_MISSING;
	if (!o->netns)
		return 0;
	r = nn_nft_get(st, d->uuid, &nft);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		r = sf_nft_table_exists(nft, &exists);
	if (r == 0 && exists) {
		o->nft = NN_NFT_UNKNOWN;
		if ((d->provide_nat || d->n_floats) && nn_nft_text(d, &want) == 0) {
			if (mem->nft_text)
				o->nft = strcmp(want, mem->nft_text) == 0 ? NN_NFT_CURRENT
									  : NN_NFT_STALE;
			else /* first look since we started: the table's mark says what it holds */
				r = nft_by_mark(nft, want, mem, o);
		}
	}
	free(want);
	return r;
}

int nn_observe(struct nn_state *st, const struct nn_desired *d, struct nn_observed *ret)
{
	bool dump = st->pass.in_slice && st->pass.fdb; /* NULL: the dump failed */
	struct nn_observed o;
	int r;

	r = nn_observe_netops(st->node, st->egress_bridge, dump ? st->pass.fdb : NULL,
			      dump ? st->pass.n_fdb : 0, d, &o);
	if (r < 0)
		return r;
	r = observe_nft(st, d, &o);
	if (r == 0)
		r = observe_dnsmasq(st, d, &o);
	if (r < 0) {
		nn_observed_clear(&o);
		return r;
	}
	*ret = o;
	return 0;
}

void nn_egress_desired(const struct nn_state *st, struct nn_egress_desired *ret)
{
	char a[SF_IPV4_STRLEN];
	uint32_t index1 = 0;

	*ret = (struct nn_egress_desired){0};
	memcpy(ret->bridge, st->egress_bridge, sizeof(ret->bridge));
	(void)sf_ipv4_net_nth(&st->floating_net, 1, &index1); /* a /29 or larger: index 1 exists */
	(void)snprintf(ret->address, sizeof(ret->address), "%s/%u", sf_ipv4_format(index1, a),
		       st->floating_net.prefix);
}

int nn_egress_observe(struct nn_state *st, struct nn_egress_observed *ret)
{
	struct nn_egress_observed o = {0};
	int r;

	r = link_obs(st->node, st->cfg->egress_nic, &o.nic);
	if (r == 0)
		r = link_obs(st->node, st->egress_bridge, &o.bridge);
	if (r == 0)
		r = addrs_obs(st->node, &o.bridge, st->egress_bridge, &o.addrs, &o.n_addrs);
	if (r == 0) {
		r = sf_netops_sysctl_get(st->node, "ipv4/ip_forward", &o.ip_forward);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		nn_egress_observed_clear(&o);
		return r;
	}
	*ret = o;
	return 0;
}
