// SPDX-License-Identifier: Apache-2.0
/*
 * netops: the class dispatch. Arguments are checked and addresses canonicalised here, once,
 * so the real implementation and the fake see the same input and reject the same mistakes.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sf/ipv4.h"
#include "sf/netops.h"
#include "sf/util.h"

struct sf_netops {
	const struct sf_netops_class *cls;
	void *ctx;
};

struct sf_netops *sf_netops_new_with_class(const struct sf_netops_class *cls, void *ctx)
{
	struct sf_netops *ops = sf_xmalloc(sizeof(*ops));

	ops->cls = cls;
	ops->ctx = ctx;
	return ops;
}

void *sf_netops_ctx(const struct sf_netops *ops, const struct sf_netops_class *cls)
{
	return ops && ops->cls == cls ? ops->ctx : NULL;
}

void sf_netops_free(struct sf_netops *ops)
{
	if (!ops)
		return;
	ops->cls->free(ops->ctx);
	free(ops);
}

void sf_netops_strv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* clang-format off */
static const char *const oper_table[_SF_LINK_OPER_MAX] = {
	[SF_LINK_OPER_UNKNOWN] = "UNKNOWN",
	[SF_LINK_OPER_NOTPRESENT] = "NOTPRESENT",
	[SF_LINK_OPER_DOWN] = "DOWN",
	[SF_LINK_OPER_LOWERLAYERDOWN] = "LOWERLAYERDOWN",
	[SF_LINK_OPER_TESTING] = "TESTING",
	[SF_LINK_OPER_DORMANT] = "DORMANT",
	[SF_LINK_OPER_UP] = "UP",
};
/* clang-format on */

const char *sf_link_oper_to_string(enum sf_link_oper o)
{
	if ((unsigned)o >= _SF_LINK_OPER_MAX)
		return NULL;
	return oper_table[o];
}

/* As the kernel's dev_valid_name(), plus ':' (an alias separator for ifconfig). */
bool sf_ifname_is_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n >= SF_IFNAMSIZ || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return false;
	return true;
}

bool sf_netns_name_is_valid(const char *name)
{
	size_t n;

	if (!name)
		return false;
	n = strlen(name);
	if (n == 0 || n > 255 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return false;
	return true;
}

/* "a.b.c.d" -> canonical text in buf. */
static int canon_ip(const char *s, char buf[static SF_IPV4_STRLEN])
{
	uint32_t a;

	if (!s || sf_ipv4_parse(s, &a) < 0)
		return -EINVAL;
	sf_ipv4_format(a, buf);
	return 0;
}

/* "a.b.c.d/n" (or a dotted netmask) -> canonical text; host bits allowed when flags say so. */
static int canon_net(const char *s, unsigned flags, char buf[static SF_IPV4_NET_STRLEN])
{
	struct sf_ipv4_net net;

	if (!s || !strchr(s, '/') || sf_ipv4_net_parse(s, flags, &net) < 0)
		return -EINVAL;
	sf_ipv4_net_format(&net, buf);
	return 0;
}

static int canon_route(const struct sf_route *in, struct sf_route *out)
{
	memset(out, 0, sizeof(*out));
	if (!in || canon_net(in->dst, 0, out->dst) < 0)
		return -EINVAL;
	if (in->gateway[0] && canon_ip(in->gateway, out->gateway) < 0)
		return -EINVAL;
	if (in->dev[0]) {
		if (!sf_ifname_is_valid(in->dev))
			return -EINVAL;
		memcpy(out->dev, in->dev, sizeof(out->dev));
	}
	if (!out->gateway[0] && !out->dev[0])
		return -EINVAL;
	out->metric = in->metric;
	return 0;
}

static bool sysctl_path_is_valid(const char *path)
{
	if (!path || !path[0] || path[0] == '/' || strchr(path, '\n'))
		return false;
	/* no ".." component */
	for (const char *p = path; p; p = strchr(p, '/') ? strchr(p, '/') + 1 : NULL)
		if (strncmp(p, "..", 2) == 0 && (p[2] == '/' || p[2] == '\0'))
			return false;
	return true;
}

int sf_netops_at(struct sf_netops *ops, const char *netns, struct sf_netops **ret_ops)
{
	if (!sf_netns_name_is_valid(netns))
		return -EINVAL;
	return ops->cls->at(ops->ctx, netns, ret_ops);
}

/* ---- namespaces ---- */

int sf_netops_netns_add(struct sf_netops *ops, const char *name)
{
	if (!sf_netns_name_is_valid(name))
		return -EINVAL;
	return ops->cls->netns_add(ops->ctx, name);
}

int sf_netops_netns_del(struct sf_netops *ops, const char *name)
{
	if (!sf_netns_name_is_valid(name))
		return -EINVAL;
	return ops->cls->netns_del(ops->ctx, name);
}

bool sf_netops_netns_exists(struct sf_netops *ops, const char *name)
{
	return sf_netns_name_is_valid(name) && ops->cls->netns_exists(ops->ctx, name);
}

int sf_netops_netns_list(struct sf_netops *ops, char ***ret_names, size_t *ret_n)
{
	return ops->cls->netns_list(ops->ctx, ret_names, ret_n);
}

/* ---- links ---- */

int sf_netops_link_add_bridge(struct sf_netops *ops, const struct sf_bridge_spec *spec)
{
	if (!spec || !sf_ifname_is_valid(spec->name) || spec->ageing_s > 1000000)
		return -EINVAL;
	return ops->cls->link_add_bridge(ops->ctx, spec);
}

int sf_netops_link_add_vxlan(struct sf_netops *ops, const struct sf_vxlan_spec *spec)
{
	struct sf_vxlan_spec s;

	if (!spec || !sf_ifname_is_valid(spec->name) || spec->vni == 0 || spec->vni >= 1u << 24)
		return -EINVAL;
	if (spec->dev && !sf_ifname_is_valid(spec->dev))
		return -EINVAL;
	if (spec->dev_ifindex < 0)
		return -EINVAL;
	s = *spec;
	if (s.port == 0)
		s.port = SF_VXLAN_PORT_DEFAULT;
	return ops->cls->link_add_vxlan(ops->ctx, &s);
}

int sf_netops_link_add_veth(struct sf_netops *ops, const struct sf_veth_spec *spec)
{
	if (!spec || !sf_ifname_is_valid(spec->name) || !sf_ifname_is_valid(spec->peer))
		return -EINVAL;
	if (spec->peer_netns && !sf_netns_name_is_valid(spec->peer_netns))
		return -EINVAL;
	if (!spec->peer_netns && strcmp(spec->name, spec->peer) == 0)
		return -EEXIST;
	return ops->cls->link_add_veth(ops->ctx, spec);
}

int sf_netops_link_set_master(struct sf_netops *ops, const char *ifname, const char *master)
{
	if (!sf_ifname_is_valid(ifname) || !sf_ifname_is_valid(master))
		return -EINVAL;
	return ops->cls->link_set_master(ops->ctx, ifname, master);
}

int sf_netops_link_set_nomaster(struct sf_netops *ops, const char *ifname)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->link_set_master(ops->ctx, ifname, NULL);
}

int sf_netops_link_set_up(struct sf_netops *ops, const char *ifname)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->link_set_up(ops->ctx, ifname, true);
}

int sf_netops_link_set_down(struct sf_netops *ops, const char *ifname)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->link_set_up(ops->ctx, ifname, false);
}

int sf_netops_link_set_mtu(struct sf_netops *ops, const char *ifname, unsigned mtu)
{
	if (!sf_ifname_is_valid(ifname) || mtu < 68)
		return -EINVAL;
	return ops->cls->link_set_mtu(ops->ctx, ifname, mtu);
}

int sf_netops_link_set_mac(struct sf_netops *ops, const char *ifname, const struct sf_mac *mac)
{
	static const struct sf_mac zero;

	if (!sf_ifname_is_valid(ifname) || !mac || sf_mac_is_multicast(mac) ||
	    memcmp(mac, &zero, sizeof(zero)) == 0)
		return -EINVAL;
	return ops->cls->link_set_mac(ops->ctx, ifname, mac);
}

int sf_netops_link_set_netns(struct sf_netops *ops, const char *ifname, const char *netns)
{
	if (!sf_ifname_is_valid(ifname) || !sf_netns_name_is_valid(netns))
		return -EINVAL;
	return ops->cls->link_set_netns(ops->ctx, ifname, netns);
}

int sf_netops_link_del(struct sf_netops *ops, const char *ifname)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->link_del(ops->ctx, ifname);
}

int sf_netops_link_get(struct sf_netops *ops, const char *ifname, struct sf_link *ret_link)
{
	struct sf_link l;
	int r;

	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	r = ops->cls->link_get(ops->ctx, ifname, &l);
	if (r < 0)
		return r;
	*ret_link = l;
	return 0;
}

bool sf_netops_link_exists(struct sf_netops *ops, const char *ifname)
{
	struct sf_link l;

	return sf_netops_link_get(ops, ifname, &l) == 0;
}

int sf_netops_link_list(struct sf_netops *ops, struct sf_link **ret_links, size_t *ret_n)
{
	return ops->cls->link_list(ops->ctx, ret_links, ret_n);
}

int sf_netops_link_stats(struct sf_netops *ops, const char *ifname, struct sf_link_stats *ret_stats)
{
	struct sf_link_stats s;
	int r;

	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	r = ops->cls->link_stats(ops->ctx, ifname, &s);
	if (r < 0)
		return r;
	*ret_stats = s;
	return 0;
}

/* ---- addresses ---- */

int sf_netops_addr_add(struct sf_netops *ops, const char *ifname, const char *cidr)
{
	char c[SF_IPV4_NET_STRLEN];

	if (!sf_ifname_is_valid(ifname) || canon_net(cidr, SF_IPV4_NET_HOST_BITS, c) < 0)
		return -EINVAL;
	return ops->cls->addr_add(ops->ctx, ifname, c);
}

int sf_netops_addr_del(struct sf_netops *ops, const char *ifname, const char *cidr)
{
	char c[SF_IPV4_NET_STRLEN];

	if (!sf_ifname_is_valid(ifname) || canon_net(cidr, SF_IPV4_NET_HOST_BITS, c) < 0)
		return -EINVAL;
	return ops->cls->addr_del(ops->ctx, ifname, c);
}

int sf_netops_addr_list(struct sf_netops *ops, const char *ifname, char ***ret_cidrs, size_t *ret_n)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->addr_list(ops->ctx, ifname, ret_cidrs, ret_n);
}

/* ---- routes ---- */

int sf_netops_route_replace(struct sf_netops *ops, const struct sf_route *rt)
{
	struct sf_route c;

	if (canon_route(rt, &c) < 0)
		return -EINVAL;
	return ops->cls->route_replace(ops->ctx, &c);
}

int sf_netops_route_del(struct sf_netops *ops, const struct sf_route *rt)
{
	struct sf_route c;

	if (canon_route(rt, &c) < 0)
		return -EINVAL;
	return ops->cls->route_del(ops->ctx, &c);
}

int sf_netops_route_list(struct sf_netops *ops, const char *dev, struct sf_route **ret_routes,
			 size_t *ret_n)
{
	if (dev && !sf_ifname_is_valid(dev))
		return -EINVAL;
	return ops->cls->route_list(ops->ctx, dev, ret_routes, ret_n);
}

int sf_netops_route_set_default(struct sf_netops *ops, const char *gateway, const char *dev)
{
	struct sf_route want = {.dst = "0.0.0.0/0"}, *routes = NULL;
	size_t n = 0;
	int r;

	if (!gateway || strlen(gateway) >= sizeof(want.gateway))
		return -EINVAL;
	memcpy(want.gateway, gateway, strlen(gateway) + 1);
	if (dev) {
		if (!sf_ifname_is_valid(dev))
			return -EINVAL;
		memcpy(want.dev, dev, strlen(dev) + 1);
	}
	r = sf_netops_route_replace(ops, &want);
	if (r < 0)
		return r;
	r = sf_netops_route_list(ops, NULL, &routes, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct sf_route del = routes[i];

		if (strcmp(del.dst, "0.0.0.0/0") != 0 || del.metric == 0)
			continue;
		r = ops->cls->route_del(ops->ctx, &del);
	}
	free(routes);
	return r < 0 ? r : 0;
}

/* ---- FDB flood entries ---- */

int sf_netops_fdb_flood_add(struct sf_netops *ops, const char *ifname, const char *dst_ip)
{
	char ip[SF_IPV4_STRLEN];

	if (!sf_ifname_is_valid(ifname) || canon_ip(dst_ip, ip) < 0)
		return -EINVAL;
	return ops->cls->fdb_flood_add(ops->ctx, ifname, ip);
}

int sf_netops_fdb_flood_del(struct sf_netops *ops, const char *ifname, const char *dst_ip)
{
	char ip[SF_IPV4_STRLEN];

	if (!sf_ifname_is_valid(ifname) || canon_ip(dst_ip, ip) < 0)
		return -EINVAL;
	return ops->cls->fdb_flood_del(ops->ctx, ifname, ip);
}

int sf_netops_fdb_flood_list(struct sf_netops *ops, const char *ifname, char ***ret_ips,
			     size_t *ret_n)
{
	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	return ops->cls->fdb_flood_list(ops->ctx, ifname, ret_ips, ret_n);
}

int sf_netops_fdb_flood_dump(struct sf_netops *ops, struct sf_fdb_flood **ret_entries,
			     size_t *ret_n)
{
	return ops->cls->fdb_flood_dump(ops->ctx, ret_entries, ret_n);
}

/* ---- sysctl ---- */

int sf_netops_sysctl_set(struct sf_netops *ops, const char *path, const char *value)
{
	if (!sysctl_path_is_valid(path) || !value || strchr(value, '\n'))
		return -EINVAL;
	return ops->cls->sysctl_set(ops->ctx, path, value);
}

int sf_netops_sysctl_get(struct sf_netops *ops, const char *path, char **ret_value)
{
	if (!sysctl_path_is_valid(path))
		return -EINVAL;
	return ops->cls->sysctl_get(ops->ctx, path, ret_value);
}

int sf_netops_link_ipv6_off(struct sf_netops *ops, const char *ifname)
{
	char path[SF_IFNAMSIZ + 32];
	int r;

	if (!sf_ifname_is_valid(ifname))
		return -EINVAL;
	(void)snprintf(path, sizeof(path), "ipv6/conf/%s/disable_ipv6", ifname);
	r = sf_netops_sysctl_set(ops, path, "1");
	return r == -ENOENT ? 0 : r; /* a kernel without IPv6 */
}

/* ---- persistent TAP devices (added for sf-hypervisor) ---- */

int sf_netops_link_add_tap(struct sf_netops *ops, const struct sf_tap_spec *spec)
{
	if (!spec || !sf_ifname_is_valid(spec->name))
		return -EINVAL;
	if (spec->mac && sf_mac_is_multicast(spec->mac))
		return -EINVAL;
	if (!ops->cls->link_add_tap)
		return -EOPNOTSUPP;
	return ops->cls->link_add_tap(ops->ctx, spec);
}
