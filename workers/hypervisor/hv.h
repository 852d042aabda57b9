/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sf-hypervisor: one per hypervisor node, consuming sf.jobs.hypervisor.<node> (ARCHITECTURE.md
 * sections 1, 4-6; spec 6.5, 6.6, 6.14, 6.15).
 *
 * On this node, a network is present exactly while the node hosts a live (not deleted)
 * interface on it. Present means, in the node namespace (config node_netns):
 *   vxlan-XXXXXX   VNI = vxid, explicit UDP port, underlay = the mesh NIC, network MTU,
 *                  learning on, enslaved to
 *   br-vxlan-XXXXXX  STP off, forward delay 0, ageing 0 (floods like a hub, as upstream);
 *   the flood list of vxlan-XXXXXX = the other participants (common/mesh.h);
 *   one port per interface on the bridge, with the interface's MAC and the network MTU:
 *     kind tap   tap-HHHHHHHH, a persistent TAP device for a VM monitor to open;
 *     kind veth  vi-HHHHHHHH, a veth whose peer eth<order> lives in the interface's netns
 *                (a container or test instance) and carries the MAC;
 *   HHHHHHHH = the first 8 hex digits of the interface uuid.
 *
 * Job handlers (all level-triggered: they read Redis and converge):
 *   interface.plug     common part, then the port; the interface becomes created
 *   interface.unplug   removes the port of a deleted interface; the last one of its network
 *                      on this node takes the network's devices with it
 *   network.deploy,    converge the network on this node (present or absent, see above),
 *   network.destroy      flood list included
 *   node.reconcile     the reconciler, now
 * When a plug or unplug changes whether this node participates in a network, the other
 * participants are told: network.deploy to each other hypervisor hosting the network and
 * network.dhcp_hosts to the network node (both converge their flood lists from Redis). The
 * reconciler (every reconcile_s) catches anything missed, and removes stray devices of ours
 * after stray_grace_s: vxlan-/br-vxlan- devices of networks this node does not host and
 * tap-/vi- ports of interfaces it does not host, only in the node namespace and only with
 * exactly these name patterns.
 */
#ifndef HV_H
#define HV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/jobloop.h"
#include "sf/daemon.h"
#include "sf/ipv4.h"
#include "sf/netops.h"

struct sf_iface;
struct sf_network;

struct hv_cfg {
	struct sf_daemon_cfg common;
	char *node_name;
	char *node_netns; /* NULL or "": the daemon's own namespace */
	char *mesh_nic;
	char *mesh_ip;
	long mtu;
	long vxlan_port;
	long reconcile_s;
	long stray_grace_s;
	long heartbeat_s;
};

/* A device of ours the reconciler found without an owner, and since when. */
struct hv_stray {
	char name[SF_IFNAMSIZ];
	uint64_t since_ms; /* monotonic */
};

struct hv_state {
	const struct hv_cfg *cfg;
	struct sf_netops *node; /* acting in the node namespace */
	struct hv_stray *strays;
	size_t n_strays;
};

/* ---- dataplane.c: what the node namespace holds, through netops only (unit tested with the
 * fake) ---- */

/* A network as the dataplane needs it. */
struct hv_net {
	uint32_t vxid;
	unsigned mtu;
	uint16_t vxlan_port;
	const char *mesh_nic;
};

enum hv_port_kind {
	HV_PORT_TAP,
	HV_PORT_VETH,
	_HV_PORT_KIND_MAX,
};
/* "tap", "veth" (the interface record's kind) */
const char *hv_port_kind_to_string(enum hv_port_kind k);
int hv_port_kind_from_string(const char *s, enum hv_port_kind *ret_kind);

/* An interface as the dataplane needs it. */
struct hv_port {
	const char *uuid; /* the interface's */
	enum hv_port_kind kind;
	struct sf_mac mac;
	const char *netns; /* veth: the namespace its peer lives in */
	long order;	   /* veth: names the peer eth<order> */
};

/* What a converge changed, one line each ("br-vxlan-00002a missing"): the reconciler reports
 * them as repairs. */
struct hv_changes {
	char **v;
	size_t n;
};
void hv_changes_clear(struct hv_changes *c);

/* Device names: "tap-HHHHHHHH" / "vi-HHHHHHHH" for an interface uuid, "eth<order>" for the
 * peer of a veth. -EINVAL for a bad uuid or order. */
int hv_port_name(enum hv_port_kind kind, const char *uuid, char ret_name[static SF_IFNAMSIZ]);
int hv_peer_name(long order, char ret_name[static SF_IFNAMSIZ]);
/* Is name a port of ours (either pattern, lower-case hex)? */
bool hv_is_port_name(const char *name);

/* The common part (spec 6.5): br-vxlan-XXXXXX, then vxlan-XXXXXX on it, with their MTU and up;
 * a vxlan device with another VNI, port or underlay is made again. changes may be NULL. */
int hv_net_ensure(struct sf_netops *node, const struct hv_net *net, struct hv_changes *changes);
/* Remove both devices of the network (missing ones are fine). */
int hv_net_remove(struct sf_netops *node, uint32_t vxid);
/* Plug the interface's port into the network's bridge (hv_net_ensure first): create it when
 * missing (a veth's peer goes straight into port->netns, with the MAC, MTU and up), then
 * master, MTU and up on our side. -ENOENT when the veth's namespace does not exist, -EEXIST
 * when the name is held by a device of another kind. */
int hv_port_plug(struct sf_netops *node, const struct hv_net *net, const struct hv_port *port,
		 struct hv_changes *changes);
/* Remove the port (a veth takes its peer with it). */
int hv_port_unplug(struct sf_netops *node, enum hv_port_kind kind, const char *uuid);

/* ---- local.c: the interfaces of a network that this node hosts, from Redis ---- */

struct hv_local {
	struct sf_iface **ifaces; /* live (not deleted) interfaces of the network on this node */
	size_t n;
	char **other_nodes; /* other nodes hosting live interfaces of the network, sorted */
	size_t n_other_nodes;
};
void hv_local_clear(struct hv_local *l);
int hv_local_load(struct sf_kv *kv, const char *node, const char *uuid, struct hv_local *ret);

/* The dataplane view of a network record and of an interface record (-EINVAL: bad kind, MAC,
 * or a veth without a namespace). */
void hv_net_from(const struct hv_state *st, const struct sf_network *n, struct hv_net *ret);
int hv_port_from(const struct sf_iface *ifc, struct hv_port *ret);

/* ---- converge.c: one network on this node, for the handlers and the reconciler ---- */

enum {
	HV_REPAIR = 1 << 0, /* the reconciler: an event per repair */
};
/* Make network n present on this node (the common part; every interface of local that is
 * initial or created plugged, initial ones becoming created; the flood list) or absent (local
 * has no interface, or the network is deleted), and publish the mesh events. local is what
 * hv_local_load() gave for n. An interface whose port cannot be made (no such namespace, a bad
 * record) goes to state error with an event; when that is focus (an interface uuid, may be
 * NULL) its error is returned, with ctx->diag saying why. The number of repairs, or -errno. */
int hv_converge(struct wk_ctx *ctx, const struct sf_network *n, const struct hv_local *local,
		const char *focus, unsigned flags);
/* Tell the other participants of network uuid to converge (see above). Nodes whose queue does
 * not exist are skipped with a warning. */
int hv_notify_peers(struct wk_ctx *ctx, const char *uuid, const struct hv_local *local);
/* Publish a job (no arguments) to routing key "networknode" or "hypervisor.<node>". */
int hv_publish(struct wk_ctx *ctx, enum sf_job_type type, const char *uuid, const char *key);
/* An event (extra stolen, may be NULL). */
void hv_event(struct wk_ctx *ctx, enum sf_object_type type, const char *uuid,
	      enum sf_event_type evtype, const char *message, json_t *extra);

/* ---- handlers.c ---- */
int hv_h_plug(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int hv_h_unplug(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int hv_h_network(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);
int hv_h_reconcile(struct wk_ctx *ctx, const struct sf_job *job, json_t **ret_reply);

/* ---- reconcile.c ---- */
int hv_reconcile(struct wk_ctx *ctx);
/* The stray part, exported for the unit tests: devices of ours in the node namespace that are
 * not in keep (names, n_keep of them) are noted at the first pass and removed once they have
 * been strays for grace_ms. Returns how many were removed; their names go to removed (may be
 * NULL). */
int hv_strays_sweep(struct hv_state *st, char *const *keep, size_t n_keep, uint64_t now_ms,
		    uint64_t grace_ms, struct hv_changes *removed);

#endif
