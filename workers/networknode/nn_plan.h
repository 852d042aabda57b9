/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Planning, apart from applying (STYLE.md "Seams"; FRR's intent vs dataplane). A plan compares
 * what a network should look like on the network node (struct nn_desired, read from Redis)
 * with what the kernel and the process table show (struct nn_observed) and returns the list of
 * operations that makes the second equal the first. The planners are pure: no I/O, no clock,
 * so they are unit tested with tables (tests/unit/test_nn_plan.c).
 *
 * Where things live (ARCHITECTURE.md section 4, spec 6.2-6.10):
 *   node namespace (config node_netns; "" = the daemon's own): vxlan-XXXXXX on the mesh NIC,
 *     br-vxlan-XXXXXX, veth-XXXXXX-o on that bridge, egr-XXXXXX-o on egr-br-<nic>, the routed
 *     addresses (<addr>/32 dev br-vxlan-XXXXXX, spec 6.9) and the egress bridge itself;
 *   the network's namespace (named by its uuid): veth-XXXXXX-i with the router address,
 *     egr-XXXXXX-i with the floating gateway and each floating address (/32), the default
 *     route via the floating pool's index 1, our nftables table, dnsmasq.
 *
 * Floating addresses are held as /32s on egr-XXXXXX-i instead of upstream's flt-HHHHHHHH veth
 * pair whose outer end is never up: the namespace answers ARP for them on the egress bridge
 * either way (and with arp_ignore=1 only this way), with two devices fewer per address.
 */
#ifndef NN_PLAN_H
#define NN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/ipv4.h"
#include "sf/netops.h"
#include "sf/util.h"

/* Where an operation acts. */
enum nn_where {
	NN_AT_NODE, /* the node namespace */
	NN_AT_NET,  /* the network's namespace */
	_NN_WHERE_MAX,
};

enum nn_op_kind {
	NN_OP_NETNS_ADD,       /* s1 name */
	NN_OP_NETNS_DEL,       /* s1 name */
	NN_OP_SYSCTL,	       /* s1 path under /proc/sys/net, s2 value */
	NN_OP_NO_IPV6,	       /* s1 ifname: IPv6 off on a new node-side device, before it is up */
	NN_OP_ADD_BRIDGE,      /* s1 name, u1 mtu, u2 ageing (s) */
	NN_OP_ADD_VXLAN,       /* s1 name, u1 mtu, u2 vni, u3 port, s2 underlay device */
	NN_OP_ADD_VETH,	       /* s1 name, s2 peer, u1 mtu (both ends), s3 peer namespace */
	NN_OP_SET_MASTER,      /* s1 ifname, s2 bridge */
	NN_OP_SET_MTU,	       /* s1 ifname, u1 mtu */
	NN_OP_SET_UP,	       /* s1 ifname */
	NN_OP_LINK_DEL,	       /* s1 ifname */
	NN_OP_ADDR_ADD,	       /* s1 ifname, s2 cidr */
	NN_OP_ADDR_DEL,	       /* s1 ifname, s2 cidr */
	NN_OP_ROUTE_REPLACE,   /* s1 dst, s2 gateway ("" none), s3 dev */
	NN_OP_ROUTE_DEL,       /* s1 dst, s2 gateway, s3 dev */
	NN_OP_DEFAULT_ROUTE,   /* s2 gateway, s3 dev: exactly one default route */
	NN_OP_FDB_ADD,	       /* s1 vxlan device, s2 peer mesh IP */
	NN_OP_FDB_DEL,	       /* s1 vxlan device, s2 peer mesh IP */
	NN_OP_NFT_APPLY,       /* replace our table with the desired one */
	NN_OP_NFT_DELETE,      /* remove our table */
	NN_OP_DNSMASQ_WRITE,   /* s1 file name in the state directory (config, hosts, dnshosts) */
	NN_OP_DNSMASQ_START,   /* start (or restart at once a dnsmasq waiting for its restart) */
	NN_OP_DNSMASQ_RESTART, /* stop and start: its config changed */
	NN_OP_DNSMASQ_RELOAD,  /* SIGHUP: re-read the host files */
	NN_OP_DNSMASQ_STOP,
	NN_OP_DHCP_RELEASE,  /* s1 address, s2 mac: a lease of an interface that left */
	NN_OP_STATE_DIR_DEL, /* remove the dnsmasq state directory */
	_NN_OP_KIND_MAX,
};

#define NN_OP_STR 64

struct nn_op {
	enum nn_op_kind kind;
	enum nn_where where;
	char s1[NN_OP_STR], s2[NN_OP_STR], s3[NN_OP_STR];
	unsigned u1, u2, u3;
	/* Set on the first operation of a repair: what was wrong ("vxlan-00002a missing"). The
	 * reconciler publishes one event per operation that has it. Empty otherwise. */
	char why[96];
};

struct nn_oplist {
	struct nn_op *ops;
	size_t n, cap;
};

void nn_oplist_clear(struct nn_oplist *l); /* frees the array; the list can be reused */

/* One line: "<node|net> <kind> <arguments>", e.g. "node link_add_vxlan vxlan-00002a vni=42
 * port=4789 dev=mesh0 mtu=1450" (the netops fake's vocabulary), into buf. Returns buf. */
const char *nn_op_format(const struct nn_op *op, char *buf, size_t size);
/* Every operation, one per line, each followed by '\n' (allocated; "" for none). */
char *nn_oplist_format(const struct nn_oplist *l);
/* Does the operation go through netops (links, addresses, routes, FDB, sysctls, namespaces)? */
bool nn_op_is_netops(const struct nn_op *op);

/* ---- one network ----------------------------------------------------------------------- */

struct nn_float {
	uint32_t floating; /* host byte order */
	uint32_t inner;
};

struct nn_desired {
	char uuid[SF_UUID_STRLEN]; /* also the namespace's name */
	uint32_t vxid;
	struct sf_ipv4_net netblock;
	bool provide_dhcp, provide_dns, provide_nat;
	uint32_t floating_gateway; /* 0: none (yet) */
	struct sf_ipv4_net floating_net;
	unsigned mtu; /* of the VXLAN, the bridge and both ends of veth-XXXXXX */
	uint16_t vxlan_port;
	const char *mesh_nic;		 /* the VXLAN's underlay device (borrowed) */
	char egress_bridge[SF_IFNAMSIZ]; /* egr-br-<nic> */
	char **peers;			 /* flood list: mesh IPs, sorted, never this node's */
	size_t n_peers;
	struct nn_float *floats; /* floating addresses of the network's interfaces */
	size_t n_floats;
	uint32_t *routed; /* routed addresses (floating pool) of the network */
	size_t n_routed;
	/* dnsmasq files as they should be. config NULL: dnsmasq is not wanted (neither DHCP nor
	 * DNS); hosts NULL without DHCP, dnshosts NULL without DNS. */
	char *dnsmasq_config, *dnsmasq_hosts, *dnsmasq_dnshosts;
	char **macs; /* MACs (lower case) of the interfaces on the network: leases of others go */
	size_t n_macs;
};
void nn_desired_clear(struct nn_desired *d);

/* A link as observed: present or not, and then its state. */
struct nn_link_obs {
	bool exists;
	struct sf_link link;
};

enum nn_nft_obs {
	NN_NFT_MISSING, /* no table of ours */
	NN_NFT_CURRENT, /* the table we last applied equals the desired one */
	NN_NFT_STALE,	/* we applied another one */
	NN_NFT_UNKNOWN, /* a table is there, we do not know what we applied (after a restart) */
};

/* A DHCP lease that has not expired yet. */
struct nn_lease {
	char address[SF_IPV4_STRLEN];
	char mac[SF_MAC_STRLEN];
};

struct nn_observed {
	/* node namespace */
	struct nn_link_obs vxlan, bridge, veth_o, egr_o, egr_br;
	char **fdb; /* flood entries of the vxlan device */
	size_t n_fdb;
	struct sf_route *node_routes; /* routes whose device is the network's bridge */
	size_t n_node_routes;
	/* the network's namespace */
	bool netns;
	struct nn_link_obs lo, veth_i, egr_i;
	char **veth_i_addrs, **egr_i_addrs;
	size_t n_veth_i_addrs, n_egr_i_addrs;
	struct sf_route *net_routes;
	size_t n_net_routes;
	char *ip_forward; /* net.ipv4.ip_forward in the namespace; NULL when unknown */
	/* not netlink: filled in by the caller */
	enum nn_nft_obs nft;
	bool dnsmasq_running;
	bool dnsmasq_dir; /* the state directory exists */
	bool config_same, hosts_same, dnshosts_same;
	struct nn_lease *leases;
	size_t n_leases;
};
void nn_observed_clear(struct nn_observed *o);

/* The operations that make the network's devices, addresses, routes, flood list, nft table and
 * dnsmasq match d. -ENODEV when the egress bridge is missing (plan the egress first), -EINVAL
 * for an inconsistent d. ops is appended to. */
int nn_plan_network(const struct nn_desired *d, const struct nn_observed *o, struct nn_oplist *ops);

/* The operations that remove everything of the network from the node (spec 6.14): dnsmasq and
 * its state directory, veth-XXXXXX-o and egr-XXXXXX-o, the namespace (and with it the inner
 * ends, addresses, routes and nft table), the VXLAN and the bridge (and the routed addresses'
 * routes with it). Only d->uuid and d->vxid are used. */
int nn_plan_destroy(const struct nn_desired *d, const struct nn_observed *o, struct nn_oplist *ops);

/* ---- the egress bridge (spec 6.3, once per node) --------------------------------------- */

struct nn_egress_desired {
	char bridge[SF_IFNAMSIZ];	  /* egr-br-<nic> */
	char address[SF_IPV4_NET_STRLEN]; /* floating index 1 / floating prefix */
};

struct nn_egress_observed {
	struct nn_link_obs nic; /* the egress NIC: its MTU becomes the bridge's */
	struct nn_link_obs bridge;
	char **addrs; /* on the bridge */
	size_t n_addrs;
	char *ip_forward; /* net.ipv4.ip_forward of the node namespace */
};
void nn_egress_observed_clear(struct nn_egress_observed *o);

/* -ENODEV when the egress NIC does not exist. */
int nn_plan_egress(const struct nn_egress_desired *d, const struct nn_egress_observed *o,
		   struct nn_oplist *ops);

#endif
