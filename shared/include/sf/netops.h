/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netops: the dataplane's netlink operations (links, addresses, routes, VXLAN flood entries,
 * namespaces, sysctls) behind a small class of function pointers (OVS netdev_class). The real
 * implementation (sf_netops_nl_new, shared/src/netops_nl.c) talks to the kernel through
 * libnl-3/libnl-route-3; the fake (tests/fakes/netops_fake.c) records calls as text and keeps a
 * tiny in-memory model, so planning code is unit tested without a kernel.
 *
 * A struct sf_netops acts in one network namespace: the one its netlink socket was opened in.
 *
 *	struct sf_netops *root, *ns;
 *	r = sf_netops_nl_new(NULL, &root);                  // the daemon's own namespace
 *	r = sf_netops_netns_add(root, uuid);                 // -EEXIST when it is there already
 *	r = sf_netops_at(root, uuid, &ns);                   // a handle acting inside <uuid>
 *	r = sf_netops_link_add_veth(root, &(struct sf_veth_spec){
 *		.name = "veth-00002a-o", .peer = "veth-00002a-i", .mtu = 7950, .peer_netns = uuid});
 *	r = sf_netops_addr_add(ns, "veth-00002a-i", "10.0.0.1/24");
 *	sf_netops_free(ns);
 *
 * The daemon never changes its own namespace: the real implementation creates each socket in
 * a short-lived thread that enters the target namespace (setns), opens the socket and exits; a
 * socket stays in the namespace it was created in (ARCHITECTURE.md section 4). New namespaces
 * and sysctl writes are done the same way, in a throwaway thread.
 *
 * Conventions:
 *  - errors are -errno: the kernel's own when it sent one, else libnl's code translated with
 *    sf_err_from_nl() (libnl folds many kernel errors into one code);
 *  - interface names are 1..15 characters without '/', ':' or white space, and namespace
 *    names are file names under /run/netns; anything else is -EINVAL before any call is made;
 *  - addresses are strings: "a.b.c.d" and "a.b.c.d/nn" (a dotted netmask is accepted too);
 *  - operations on a missing interface fail with -ENODEV;
 *  - every delete is idempotent: a missing object (or a missing device that held it) counts
 *    as success, so callers converge without checking first;
 *  - lists are owned by the caller: free() an array of structs, sf_netops_strv_free() a string
 *    vector (NULL-terminated, the count is returned as well).
 *
 * Threads: an sf_netops is one netlink socket and is not locked; use one per thread.
 */
#ifndef SF_NETOPS_H
#define SF_NETOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/ipv4.h"

#define SF_IFNAMSIZ 16 /* IFNAMSIZ: 15 characters and the NUL */
#define SF_NETNS_RUN_DIR "/run/netns"
#define SF_VXLAN_PORT_DEFAULT 4789 /* IANA; the kernel's own default is the legacy 8472 */

struct sf_netops;

/* ---- namespaces (named, as iproute2 keeps them: a bind mount at /run/netns/<name>) -------- */

/* Create /run/netns/<name> holding a new network namespace, as `ip netns add` does (it makes
 * /run/netns a shared mount point first). The caller's namespace does not change. -EEXIST when
 * it exists; a leftover file that is not a namespace (a crash mid-add) is replaced. */
int sf_netns_add(const char *name);
/* Unmount and remove it, as `ip netns del`; missing is success. Links inside it go away when
 * the last user (a process or an open fd) lets go of the namespace. */
int sf_netns_del(const char *name);
/* Is /run/netns/<name> a mounted network namespace? */
bool sf_netns_exists(const char *name);
/* Names under /run/netns, sorted; an absent directory is an empty list. */
int sf_netns_list(char ***ret_names, size_t *ret_n);
/* An O_RDONLY|O_CLOEXEC fd for setns() of a namespace named under /run/netns, or of the
 * namespace file at an absolute path (/proc/<pid>/ns/net); the caller closes it. -EINVAL for
 * a bad name, -ENOENT when missing. */
int sf_netns_open(const char *name_or_path, int *ret_fd);
/* Run fn(arg) with the calling thread inside the namespace nsfd, then bring the thread back
 * to its own: fn's result, or -errno if entering failed. Sockets fn opens stay in nsfd. A
 * thread that cannot come back aborts the process (it would go on acting in the wrong
 * namespace). No new thread: cheap enough for every network of a reconciler pass. nsfd < 0:
 * fn(arg) where the thread is. */
int sf_netns_call(int nsfd, int (*fn)(void *arg), void *arg);

/* ---- what the operations take and return ---------------------------------------------------- */

/* A bridge with STP off and forward delay 0 (spec 6.5). */
struct sf_bridge_spec {
	const char *name;
	unsigned mtu;	   /* 0: the kernel's default */
	unsigned ageing_s; /* FDB ageing, 0..1000000 s; 0: learn nothing, flood like a hub */
};

/* A VXLAN device: learning on, no multicast group and no local address (spec 6.5, 6.6). */
struct sf_vxlan_spec {
	const char *name;
	uint32_t vni;	 /* 1 .. 2^24-1 */
	uint16_t port;	 /* UDP destination port; 0 means SF_VXLAN_PORT_DEFAULT */
	const char *dev; /* the underlay device; NULL: dev_ifindex, or none when that is 0 too */
	int dev_ifindex;
	unsigned mtu; /* 0: the kernel's default */
};

/* A veth pair. Both ends get the MTU (ARCHITECTURE.md section 5.9). */
struct sf_veth_spec {
	const char *name;
	const char *peer;
	unsigned mtu;		/* 0: the kernel's default */
	const char *peer_netns; /* NULL: the peer stays here; else created directly inside it */
};

/* A persistent TAP device (IFF_TAP, no packet information), as `ip tuntap add mode tap`
 * makes: it stays when the creating file descriptor closes, for a VM monitor to open later.
 * Its carrier is down until someone opens it. */
struct sf_tap_spec {
	const char *name;
	unsigned mtu;		  /* 0: the kernel's default */
	const struct sf_mac *mac; /* NULL: a random one from the kernel */
};

/* Operational state, numbered as RFC 2863 and the kernel's IF_OPER_*. */
enum sf_link_oper {
	SF_LINK_OPER_UNKNOWN,
	SF_LINK_OPER_NOTPRESENT,
	SF_LINK_OPER_DOWN,
	SF_LINK_OPER_LOWERLAYERDOWN,
	SF_LINK_OPER_TESTING,
	SF_LINK_OPER_DORMANT,
	SF_LINK_OPER_UP,
	_SF_LINK_OPER_MAX,
};
/* "UNKNOWN", "DOWN", "UP", ... as `ip -j link` prints them. */
const char *sf_link_oper_to_string(enum sf_link_oper o);

struct sf_link {
	int ifindex;
	char name[SF_IFNAMSIZ];
	char kind[SF_IFNAMSIZ]; /* "bridge", "vxlan", "veth", "dummy"...; "" for lo or a NIC */
	unsigned mtu;
	int master; /* ifindex of the bridge it is enslaved to, 0 for none */
	char master_name[SF_IFNAMSIZ];
	bool up;      /* administratively up (IFF_UP) */
	bool running; /* IFF_RUNNING: operationally up */
	enum sf_link_oper oper;
	struct sf_mac mac;
	/* kind "vxlan" only: */
	uint32_t vxlan_vni;
	uint16_t vxlan_port;
	int vxlan_dev; /* underlay ifindex, 0 for none */
};

/* 64-bit counters, with the key set of `ip -s -j link`'s stats64 (spec section 5, usage). */
struct sf_link_stats {
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped, rx_over_errors, rx_multicast;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped, tx_carrier_errors, tx_collisions;
};

/* A flood entry of some VXLAN device (sf_netops_fdb_flood_dump). */
struct sf_fdb_flood {
	int ifindex;		  /* the VXLAN device */
	char dst[SF_IPV4_STRLEN]; /* the peer it floods to */
};

/* An IPv4 route in the main table. */
struct sf_route {
	char dst[SF_IPV4_NET_STRLEN]; /* "10.0.0.0/24"; "0.0.0.0/0" is the default route */
	char gateway[SF_IPV4_STRLEN]; /* "" for none */
	char dev[SF_IFNAMSIZ];	      /* "" for none (then a gateway is needed) */
	uint32_t metric;	      /* priority; routes differing only here are distinct */
	uint8_t protocol;	      /* listed: RTPROT_* (2 kernel, 4 static); we add static */
};

/* ---- the class: what an implementation provides; ctx is the implementation's state --------- */

struct sf_netops_class {
	const char *name;
	void (*free)(void *ctx);
	/* A new handle of the same implementation acting in namespace name. */
	int (*at)(void *ctx, const char *netns, struct sf_netops **ret);

	int (*netns_add)(void *ctx, const char *name);
	int (*netns_del)(void *ctx, const char *name);
	bool (*netns_exists)(void *ctx, const char *name);
	int (*netns_list)(void *ctx, char ***ret_names, size_t *ret_n);

	int (*link_add_bridge)(void *ctx, const struct sf_bridge_spec *spec);
	int (*link_add_vxlan)(void *ctx, const struct sf_vxlan_spec *spec);
	int (*link_add_veth)(void *ctx, const struct sf_veth_spec *spec);
	int (*link_set_master)(void *ctx, const char *ifname, const char *master); /* NULL: none */
	int (*link_set_up)(void *ctx, const char *ifname, bool up);
	int (*link_set_mtu)(void *ctx, const char *ifname, unsigned mtu);
	int (*link_set_mac)(void *ctx, const char *ifname, const struct sf_mac *mac);
	int (*link_set_netns)(void *ctx, const char *ifname, const char *netns);
	int (*link_del)(void *ctx, const char *ifname);
	int (*link_get)(void *ctx, const char *ifname, struct sf_link *ret);
	int (*link_list)(void *ctx, struct sf_link **ret, size_t *ret_n);
	int (*link_stats)(void *ctx, const char *ifname, struct sf_link_stats *ret);

	/* cidr arrives canonical ("a.b.c.d/n") */
	int (*addr_add)(void *ctx, const char *ifname, const char *cidr);
	int (*addr_del)(void *ctx, const char *ifname, const char *cidr);
	int (*addr_list)(void *ctx, const char *ifname, char ***ret, size_t *ret_n);

	int (*route_replace)(void *ctx, const struct sf_route *rt);
	int (*route_del)(void *ctx, const struct sf_route *rt);
	int (*route_list)(void *ctx, const char *dev, struct sf_route **ret, size_t *ret_n);

	int (*fdb_flood_add)(void *ctx, const char *ifname, const char *dst_ip);
	int (*fdb_flood_del)(void *ctx, const char *ifname, const char *dst_ip);
	int (*fdb_flood_list)(void *ctx, const char *ifname, char ***ret, size_t *ret_n);
	int (*fdb_flood_dump)(void *ctx, struct sf_fdb_flood **ret, size_t *ret_n);

	/* path under /proc/sys/net/, checked */
	int (*sysctl_set)(void *ctx, const char *path, const char *value);
	int (*sysctl_get)(void *ctx, const char *path, char **ret_value);

	/* persistent TAP devices (added for sf-hypervisor); NULL: -EOPNOTSUPP */
	int (*link_add_tap)(void *ctx, const struct sf_tap_spec *spec);
};

/* Wrap an implementation. Takes ownership of ctx (sf_netops_free() calls cls->free(ctx)). */
struct sf_netops *sf_netops_new_with_class(const struct sf_netops_class *cls, void *ctx);
/* ctx if ops is of class cls, else NULL. */
void *sf_netops_ctx(const struct sf_netops *ops, const struct sf_netops_class *cls);
/* Close and free; NULL does nothing. */
void sf_netops_free(struct sf_netops *ops);

/* The real thing: a netlink socket in namespace netns (NULL: the caller's own). -ENOENT when
 * the namespace does not exist. */
int sf_netops_nl_new(const char *netns, struct sf_netops **ret_ops);

/* A handle of the same implementation acting inside namespace netns (a fake one for a fake). */
int sf_netops_at(struct sf_netops *ops, const char *netns, struct sf_netops **ret_ops);

/* ---- operations -------------------------------------------------------------------------- */

/* Namespaces through the handle (the fake models them; the real one is sf_netns_*). */
int sf_netops_netns_add(struct sf_netops *ops, const char *name);
int sf_netops_netns_del(struct sf_netops *ops, const char *name);
bool sf_netops_netns_exists(struct sf_netops *ops, const char *name);
int sf_netops_netns_list(struct sf_netops *ops, char ***ret_names, size_t *ret_n);

/* Links. Adds fail with -EEXIST when the name is taken. */
int sf_netops_link_add_bridge(struct sf_netops *ops, const struct sf_bridge_spec *spec);
int sf_netops_link_add_vxlan(struct sf_netops *ops, const struct sf_vxlan_spec *spec);
int sf_netops_link_add_veth(struct sf_netops *ops, const struct sf_veth_spec *spec);
int sf_netops_link_set_master(struct sf_netops *ops, const char *ifname, const char *master);
int sf_netops_link_set_nomaster(struct sf_netops *ops, const char *ifname);
int sf_netops_link_set_up(struct sf_netops *ops, const char *ifname);
int sf_netops_link_set_down(struct sf_netops *ops, const char *ifname);
int sf_netops_link_set_mtu(struct sf_netops *ops, const char *ifname, unsigned mtu);
int sf_netops_link_set_mac(struct sf_netops *ops, const char *ifname, const struct sf_mac *mac);
/* Move it into namespace netns, keeping its name (-EEXIST when the name is taken there). */
int sf_netops_link_set_netns(struct sf_netops *ops, const char *ifname, const char *netns);
/* Deleting one end of a veth removes both. */
int sf_netops_link_del(struct sf_netops *ops, const char *ifname);
int sf_netops_link_get(struct sf_netops *ops, const char *ifname, struct sf_link *ret_link);
bool sf_netops_link_exists(struct sf_netops *ops, const char *ifname);
/* All links of the namespace, in ifindex order. */
int sf_netops_link_list(struct sf_netops *ops, struct sf_link **ret_links, size_t *ret_n);
int sf_netops_link_stats(struct sf_netops *ops, const char *ifname,
			 struct sf_link_stats *ret_stats);

/* IPv4 addresses. add: -EEXIST when present. list: "a.b.c.d/n" in kernel order. */
int sf_netops_addr_add(struct sf_netops *ops, const char *ifname, const char *cidr);
int sf_netops_addr_del(struct sf_netops *ops, const char *ifname, const char *cidr);
int sf_netops_addr_list(struct sf_netops *ops, const char *ifname, char ***ret_cidrs,
			size_t *ret_n);

/* Routes (IPv4, main table). replace creates the route or replaces the one with the same dst
 * and metric. del matches dst, and metric/gateway/dev when given (metric 0 matches any, as
 * the kernel's IPv4 delete does). */
int sf_netops_route_replace(struct sf_netops *ops, const struct sf_route *rt);
int sf_netops_route_del(struct sf_netops *ops, const struct sf_route *rt);
/* list: all of them, or with dev only those through that device (-ENODEV when it does not
 * exist); the kernel filters, so one device's routes cost the same however many others exist. */
int sf_netops_route_list(struct sf_netops *ops, const char *dev, struct sf_route **ret_routes,
			 size_t *ret_n);
/* Make the default route exactly one, via gateway (dev may be NULL): replace the metric-0
 * default and delete any other default route (spec 6.4 step 6). */
int sf_netops_route_set_default(struct sf_netops *ops, const char *gateway, const char *dev);

/* VXLAN head-end replication: the all-zero MAC FDB entries of a VXLAN device
 * (`bridge fdb append 00:00:00:00:00:00 dst <ip> dev <vxlan>`: NTF_SELF, NUD_PERMANENT).
 * add appends and is idempotent; list gives the destinations in kernel order. */
int sf_netops_fdb_flood_add(struct sf_netops *ops, const char *ifname, const char *dst_ip);
int sf_netops_fdb_flood_del(struct sf_netops *ops, const char *ifname, const char *dst_ip);
int sf_netops_fdb_flood_list(struct sf_netops *ops, const char *ifname, char ***ret_ips,
			     size_t *ret_n);
/* Every flood entry of every VXLAN device of the namespace, in one dump: for a caller that
 * looks at many devices (a reconciler pass), where one list per device would walk all the
 * namespace's devices each time. In kernel order. */
int sf_netops_fdb_flood_dump(struct sf_netops *ops, struct sf_fdb_flood **ret_entries,
			     size_t *ret_n);

/* sysctls of the handle's namespace, by path under /proc/sys/net/ ("ipv4/ip_forward",
 * "ipv4/conf/vxlan-00002a/arp_notify"). get strips the trailing newline. -ENOENT when the
 * sysctl (or the device in its path) does not exist; -EINVAL for ".." or a leading '/'. */
int sf_netops_sysctl_set(struct sf_netops *ops, const char *path, const char *value);
int sf_netops_sysctl_get(struct sf_netops *ops, const char *path, char **ret_value);
/* IPv6 off on a device (ipv6/conf/<ifname>/disable_ipv6 = 1), for a device just made and not
 * up yet: it then adds no route to the namespace's IPv6 table, which every link coming up
 * walks. 0 also on a kernel without IPv6 (no ipv6/conf at all: -ENOENT is taken as that). */
int sf_netops_link_ipv6_off(struct sf_netops *ops, const char *ifname);

/* ---- persistent TAP devices (added for sf-hypervisor) --------------------------------------
 * Create a TAP device in the handle's namespace: TUNSETIFF (IFF_TAP | IFF_NO_PI |
 * IFF_TUN_EXCL) and TUNSETPERSIST on /dev/net/tun opened inside the namespace, then MTU and MAC
 * over netlink. -EEXIST when the name is taken; the device is removed again when setting the
 * MTU or MAC fails. Listed with kind "tun"; removed with sf_netops_link_del(). */
int sf_netops_link_add_tap(struct sf_netops *ops, const struct sf_tap_spec *spec);

/* Validation used by every implementation (exported for callers that build names). */
bool sf_ifname_is_valid(const char *name);
bool sf_netns_name_is_valid(const char *name);

/* Free a NULL-terminated string vector; NULL does nothing. */
void sf_netops_strv_free(char **v);

#endif
