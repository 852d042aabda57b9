// SPDX-License-Identifier: Apache-2.0
/* The hypervisor's devices in the node namespace, through netops only. See hv.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/hv.h"
#include "sf/naming.h"
#include "sf/util.h"

SF_LOG_MODULE("hypervisor");

static const char *const port_kinds[_HV_PORT_KIND_MAX] = {
	[HV_PORT_TAP] = "tap",
	[HV_PORT_VETH] = "veth",
};

const char *hv_port_kind_to_string(enum hv_port_kind k)
{
	return (unsigned)k < _HV_PORT_KIND_MAX ? port_kinds[k] : NULL;
}

int hv_port_kind_from_string(const char *s, enum hv_port_kind *ret_kind)
{
	for (unsigned k = 0; s && k < _HV_PORT_KIND_MAX; k++)
		if (strcmp(s, port_kinds[k]) == 0) {
			*ret_kind = (enum hv_port_kind)k;
			return 0;
		}
	return -EINVAL;
}

/* The kernel's kind of each port kind, as sf_link.kind shows it. */
static const char *const port_link_kinds[_HV_PORT_KIND_MAX] = {
	[HV_PORT_TAP] = "tun",
	[HV_PORT_VETH] = "veth",
};

static const char *const port_prefixes[_HV_PORT_KIND_MAX] = {
	[HV_PORT_TAP] = "tap-",
	[HV_PORT_VETH] = "vi-",
};

#define PORT_HEX 8

void hv_changes_clear(struct hv_changes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
	*c = (struct hv_changes){0};
}

static void note(struct hv_changes *c, const char *fmt, ...) SF_PRINTF(2, 3);
static void note(struct hv_changes *c, const char *fmt, ...)
{
	va_list ap;

	if (!c)
		return;
	va_start(ap, fmt);
	c->v = sf_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	c->v[c->n++] = sf_xvasprintf(fmt, ap);
	va_end(ap);
}

int hv_port_name(enum hv_port_kind kind, const char *uuid, char ret_name[static SF_IFNAMSIZ])
{
	if ((unsigned)kind >= _HV_PORT_KIND_MAX || !sf_uuid_is_valid(uuid))
		return -EINVAL;
	/* the first 8 characters of a uuid are hex digits; lower case as we name them */
	(void)sf_bprintf(ret_name, SF_IFNAMSIZ, "%s%.8s", port_prefixes[kind], uuid);
	for (char *p = ret_name + strlen(port_prefixes[kind]); *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	return 0;
}

int hv_peer_name(long order, char ret_name[static SF_IFNAMSIZ])
{
	if (order < 0 || order > 99999999999L)
		return -EINVAL;
	return sf_bprintf(ret_name, SF_IFNAMSIZ, "eth%ld", order) < 0 ? -EINVAL : 0;
}

bool hv_is_port_name(const char *name)
{
	for (unsigned k = 0; k < _HV_PORT_KIND_MAX; k++) {
		size_t plen = strlen(port_prefixes[k]);
		const char *hex = name + plen;

		if (strncmp(name, port_prefixes[k], plen) != 0 || strlen(hex) != PORT_HEX)
			continue;
		if (strspn(hex, "0123456789abcdef") == PORT_HEX)
			return true;
	}
	return false;
}

/*
 * A device just made, before it goes up: IPv4 only (ARCHITECTURE 5.6), so IPv6 is off and the
 * device adds nothing to the node's IPv6 table (sf_netops_link_ipv6_off); and the VXLAN
 * device and the bridge announce themselves (arp_notify, spec 6.5). Set at creation, as
 * upstream does, and not observed by the reconciler.
 */
static int fresh_device(struct sf_netops *node, const char *name, bool arp_notify)
{
	char path[SF_IFNAMSIZ + 40];
	int r;

	r = sf_netops_link_ipv6_off(node, name);
	if (r == 0 && arp_notify) {
		(void)snprintf(path, sizeof(path), "ipv4/conf/%s/arp_notify", name);
		r = sf_netops_sysctl_set(node, path, "1");
	}
	return r;
}

/* Master, MTU and up of one of our devices; fresh: just created (with its MTU). */
static int port_fix(struct sf_netops *node, const char *name, const struct sf_link *l, bool fresh,
		    const char *master, unsigned mtu, struct hv_changes *changes)
{
	int r;

	if (master && (fresh || strcmp(l->master_name, master) != 0)) {
		r = sf_netops_link_set_master(node, name, master);
		if (r < 0)
			return r;
		if (!fresh)
			note(changes, "%s was not on %s", name, master);
	}
	if (!fresh && mtu && l->mtu != mtu) {
		r = sf_netops_link_set_mtu(node, name, mtu);
		if (r < 0)
			return r;
		note(changes, "%s had MTU %u instead of %u", name, l->mtu, mtu);
	}
	if (fresh || !l->up) {
		r = sf_netops_link_set_up(node, name);
		if (r < 0)
			return r;
		if (!fresh)
			note(changes, "%s was down", name);
	}
	return 0;
}

int hv_net_ensure(struct sf_netops *node, const struct hv_net *net, struct hv_changes *changes)
{
	char br[SF_IFNAMSIZ], vx[SF_IFNAMSIZ];
	struct sf_link l = {0}, nic;
	bool fresh = false;
	int r;

	r = sf_name_format(SF_NAME_BRIDGE, net->vxid, br);
	if (r == 0)
		r = sf_name_format(SF_NAME_VXLAN, net->vxid, vx);
	if (r < 0)
		return r;
	r = sf_netops_link_get(node, net->mesh_nic, &nic);
	if (r < 0)
		return r; /* no underlay: nothing can work */

	r = sf_netops_link_get(node, br, &l);
	if (r == -ENODEV) {
		r = sf_netops_link_add_bridge(
			node, &(struct sf_bridge_spec){.name = br, .mtu = net->mtu, .ageing_s = 0});
		if (r == 0)
			r = fresh_device(node, br, true);
		fresh = true;
		note(changes, "%s missing", br);
	} else if (r == 0 && strcmp(l.kind, "bridge") != 0) {
		r = -EEXIST;
	}
	if (r == 0)
		r = port_fix(node, br, &l, fresh, NULL, net->mtu, changes);
	if (r < 0)
		return r;

	fresh = false;
	r = sf_netops_link_get(node, vx, &l);
	if (r == 0 && (strcmp(l.kind, "vxlan") != 0 || l.vxlan_vni != net->vxid ||
		       l.vxlan_port != net->vxlan_port || l.vxlan_dev != nic.ifindex)) {
		note(changes,
		     "%s had vni %u port %u underlay %d instead of vni %u port %u underlay %d", vx,
		     l.vxlan_vni, l.vxlan_port, l.vxlan_dev, net->vxid, net->vxlan_port,
		     nic.ifindex);
		r = sf_netops_link_del(node, vx);
		if (r == 0)
			r = -ENODEV;
	}
	if (r == -ENODEV) {
		r = sf_netops_link_add_vxlan(node, &(struct sf_vxlan_spec){
							   .name = vx,
							   .vni = net->vxid,
							   .port = net->vxlan_port,
							   .dev = net->mesh_nic,
							   .mtu = net->mtu,
						   });
		if (r == 0)
			r = fresh_device(node, vx, true);
		fresh = true;
		note(changes, "%s missing", vx);
	}
	if (r == 0)
		r = port_fix(node, vx, &l, fresh, br, net->mtu, changes);
	return r;
}

int hv_net_remove(struct sf_netops *node, uint32_t vxid)
{
	char br[SF_IFNAMSIZ], vx[SF_IFNAMSIZ];
	int r;

	r = sf_name_format(SF_NAME_BRIDGE, vxid, br);
	if (r == 0)
		r = sf_name_format(SF_NAME_VXLAN, vxid, vx);
	if (r == 0)
		r = sf_netops_link_del(node, vx);
	if (r == 0)
		r = sf_netops_link_del(node, br);
	return r;
}

/* A veth with its peer in the instance's namespace, the peer named, addressed and up. A failure
 * after the pair exists removes it again, so the next attempt starts clean. */
static int veth_make(struct sf_netops *node, const char *name, const struct hv_net *net,
		     const struct hv_port *port)
{
	struct sf_netops *inst = NULL;
	char peer[SF_IFNAMSIZ];
	int r;

	r = hv_peer_name(port->order, peer);
	if (r < 0)
		return r;
	if (!port->netns)
		return -EINVAL;
	r = sf_netops_link_add_veth(node, &(struct sf_veth_spec){
						  .name = name,
						  .peer = peer,
						  .mtu = net->mtu,
						  .peer_netns = port->netns,
					  });
	if (r < 0)
		return r;
	r = sf_netops_at(node, port->netns, &inst);
	if (r == 0)
		r = sf_netops_link_set_mac(inst, peer, &port->mac);
	if (r == 0)
		r = sf_netops_link_set_up(inst, peer);
	sf_netops_free(inst);
	if (r < 0)
		(void)sf_netops_link_del(node, name);
	return r;
}

int hv_port_plug(struct sf_netops *node, const struct hv_net *net, const struct hv_port *port,
		 struct hv_changes *changes)
{
	char name[SF_IFNAMSIZ], br[SF_IFNAMSIZ], mac[SF_MAC_STRLEN];
	struct sf_link l = {0};
	bool fresh = false;
	int r;

	r = hv_port_name(port->kind, port->uuid, name);
	if (r == 0)
		r = sf_name_format(SF_NAME_BRIDGE, net->vxid, br);
	if (r < 0)
		return r;
	r = sf_netops_link_get(node, name, &l);
	if (r == 0 && strcmp(l.kind, port_link_kinds[port->kind]) != 0)
		return -EEXIST;
	if (r == -ENODEV) {
		if (port->kind == HV_PORT_TAP)
			r = sf_netops_link_add_tap(node, &(struct sf_tap_spec){.name = name,
									       .mtu = net->mtu,
									       .mac = &port->mac});
		else
			r = veth_make(node, name, net, port);
		if (r == 0)
			r = fresh_device(node, name, false);
		fresh = true;
		note(changes, "%s missing", name);
	} else if (r == 0 && port->kind == HV_PORT_TAP &&
		   memcmp(l.mac.b, port->mac.b, sizeof(l.mac.b)) != 0) {
		r = sf_netops_link_set_mac(node, name, &port->mac);
		note(changes, "%s had another MAC than %s", name, sf_mac_format(&port->mac, mac));
	}
	if (r == 0)
		r = port_fix(node, name, &l, fresh, br, net->mtu, changes);
	return r;
}

int hv_port_unplug(struct sf_netops *node, enum hv_port_kind kind, const char *uuid)
{
	char name[SF_IFNAMSIZ];
	int r;

	r = hv_port_name(kind, uuid, name);
	if (r == 0)
		r = sf_netops_link_del(node, name);
	return r;
}
