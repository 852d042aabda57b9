/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store: the objects sf-api and the workers share through Redis: networks, interfaces, their
 * state machines (spec section 3), vxid claims (spec 2) and IPAM (spec 4). The key layout is
 * documented in shared/redis-layout.md. Multi-key changes are atomic (Lua or MULTI/EXEC);
 * every function takes an sf_kv (one per thread) and returns -errno.
 *
 * Views (json_t *) are the exact wire shapes of spec 1.5 and 1.5.6, built by sf_*_view().
 */
#ifndef SF_STORE_H
#define SF_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sf/util.h"

struct sf_kv;

/* ---- states (spec 3) ---- */

enum sf_net_state {
	SF_NET_INITIAL,
	SF_NET_CREATING,
	SF_NET_CREATED,
	SF_NET_DELETE_WAIT,
	SF_NET_DELETED,
	SF_NET_ERROR,
	_SF_NET_STATE_MAX,
};
const char *sf_net_state_to_string(enum sf_net_state s); /* "delete-wait" etc. */
int sf_net_state_from_string(const char *s, enum sf_net_state *ret);
bool sf_net_state_is_active(enum sf_net_state s); /* initial creating created error delete-wait */
/* Allowed transitions of spec 3.1 (same state again is allowed: a no-op). */
bool sf_net_state_transition_ok(enum sf_net_state from, enum sf_net_state to);

enum sf_iface_state {
	SF_IFACE_INITIAL,
	SF_IFACE_CREATED,
	SF_IFACE_DELETED,
	SF_IFACE_ERROR,
	_SF_IFACE_STATE_MAX,
};
const char *sf_iface_state_to_string(enum sf_iface_state s);
int sf_iface_state_from_string(const char *s, enum sf_iface_state *ret);
bool sf_iface_state_transition_ok(enum sf_iface_state from, enum sf_iface_state to);

/* ---- networks ---- */

#define SF_FLOATING_NETWORK "floating" /* uuid and name of the floating pool's pseudo network */

struct sf_network {
	char uuid[SF_UUID_STRLEN]; /* or "floating" */
	char *name;                /* NULL when null */
	char *namespace;           /* NULL only for the floating network */
	char *netblock;            /* canonical CIDR, as submitted */
	bool provide_dhcp, provide_nat, provide_dns;
	uint32_t vxid;
	enum sf_net_state state;
	double state_updated;    /* epoch */
	char *floating_gateway;  /* NULL until the network node deploys it */
	char *error;             /* NULL unless state error: the reason */
	double created_at;
};
void sf_network_free(struct sf_network *n);

struct sf_network_spec {
	const char *name; /* may be NULL */
	const char *namespace;
	const char *netblock; /* validated canonical IPv4 CIDR, at least /29 */
	bool provide_dhcp, provide_nat, provide_dns;
};

/* The largest block the store accepts: the IPAM keeps a bitmap of 2^(32-prefix) bits (2 MB
 * for a /8). Smaller than /29 or larger than /8 is refused. */
#define SF_STORE_MIN_PREFIX 8

/* Create a network in state initial: a fresh uuid, a vxid claimed at random (1..2^24-1, SET NX,
 * retried on collision), its IPAM with network/broadcast/gateway(.1) reserved, the indexes, in
 * one atomic step as far as Redis allows (a failure leaves nothing behind). -EINVAL for a bad
 * spec or a block smaller than /29 (-EDOM host bits set, -EAFNOSUPPORT IPv6, as ipv4.h), -E2BIG
 * for a block larger than /8, -ENOSPC when no vxid could be claimed. */
int sf_network_create(struct sf_kv *kv, const struct sf_network_spec *spec,
		      struct sf_network **ret_network);
int sf_network_get(struct sf_kv *kv, const char *uuid, struct sf_network **ret_network); /* -ENOENT */
/* Networks of a namespace (NULL: all namespaces), active ones only unless all, oldest first.
 * The floating network is never listed. Caller frees each and the array. */
int sf_network_list(struct sf_kv *kv, const char *namespace, bool all,
		    struct sf_network ***ret_networks, size_t *ret_n);
/* Active networks named `name` in namespace (NULL: any namespace). With namespace NULL, the
 * name "floating" also finds the floating pool's network once it exists (spec 1.5.7). */
int sf_network_find_by_name(struct sf_kv *kv, const char *namespace, const char *name,
			    struct sf_network ***ret_networks, size_t *ret_n);
/* Compare-and-set of the state, enforcing spec 3.1: -EINVAL for a forbidden transition (with the
 * current state in *ret_current when not NULL), -ENOENT for no such network. error_text is stored
 * with SF_NET_ERROR. Setting the current state again succeeds and changes nothing. On success,
 * *ret_current (when not NULL) is the state before the call. */
int sf_network_set_state(struct sf_kv *kv, const char *uuid, enum sf_net_state to,
			 const char *error_text, enum sf_net_state *ret_current);
int sf_network_set_floating_gateway(struct sf_kv *kv, const char *uuid, const char *address /* NULL clears */);
/* Hard delete (spec 3.3) of a network in state deleted (-EBUSY otherwise): its record,
 * metadata, DNS entries, interface list, IPAM, index entries and vxid claim. */
int sf_network_purge(struct sf_kv *kv, const char *uuid);
/* User metadata (values any JSON): get returns a new object ({} when empty). All of these are
 * -ENOENT when the network does not exist; deleting a missing key succeeds. */
int sf_network_metadata_get(struct sf_kv *kv, const char *uuid, json_t **ret_metadata);
int sf_network_metadata_set(struct sf_kv *kv, const char *uuid, const char *key,
			    const json_t *value);
int sf_network_metadata_delete(struct sf_kv *kv, const char *uuid, const char *key);
/* Hosted DNS entries name -> value. */
int sf_network_dns_get(struct sf_kv *kv, const char *uuid, json_t **ret_entries);
int sf_network_dns_set(struct sf_kv *kv, const char *uuid, const char *name, const char *value);
int sf_network_dns_delete(struct sf_kv *kv, const char *uuid, const char *name);
/* Interfaces (uuids) on the network, in plug order. */
int sf_network_interfaces(struct sf_kv *kv, const char *uuid, char ***ret_uuids, size_t *ret_n);
/* The wire view of spec 1.5 (vxlan_id, version 6, metadata included). */
json_t *sf_network_view(struct sf_kv *kv, const struct sf_network *n);
/* Queue (sf_kv_prefetch_*, sf/kv.h) the reads that sf_network_get() then sf_network_view()
 * make for uuid, so that a caller's next round trip carries them. Here, beside them, so that
 * the two change together; a mismatch would only cost the round trips back. */
void sf_network_view_prefetch(struct sf_kv *kv, const char *uuid);

/* ---- IPAM (spec 4). ipam uuid = network uuid, or "floating". ---- */

enum sf_ipam_type {
	SF_IPAM_NETWORK,
	SF_IPAM_BROADCAST,
	SF_IPAM_GATEWAY,
	SF_IPAM_INSTANCE,
	SF_IPAM_FLOATING,
	SF_IPAM_ROUTED,
	SF_IPAM_DELETION_HALO,
	SF_IPAM_UNKNOWN,
	_SF_IPAM_TYPE_MAX,
};
const char *sf_ipam_type_to_string(enum sf_ipam_type t);

/* Ensure the floating pool exists with the given CIDR (idempotent; -EEXIST if it exists with a
 * different block). Its three reserved addresses have user ["network", "floating"]. It also
 * writes the pseudo network "floating" (namespace null, state initial, vxid 0) that
 * sf_network_get() returns and sf_network_list() never lists. */
int sf_ipam_floating_ensure(struct sf_kv *kv, const char *cidr);
/* Reserve a specific address: -EADDRINUSE when any reservation (halo included) holds it,
 * -EDOM when outside the block, -ENOENT no such IPAM. user_type/user_uuid may be NULL. */
int sf_ipam_reserve(struct sf_kv *kv, const char *ipam, const char *address, enum sf_ipam_type type,
		    const char *user_type, const char *user_uuid);
/* Reserve a random free address (spec 4's algorithm, done server-side so a /16 with 60,000
 * reservations takes a handful of round trips): -ENOSPC "No free addresses on network". */
int sf_ipam_reserve_random(struct sf_kv *kv, const char *ipam, enum sf_ipam_type type,
			   const char *user_type, const char *user_uuid, char ret_address[16]);
/* Release into the deletion halo (halo_seconds): the record becomes {type "deletion-halo", user
 * null, when now} and the address stays unusable until the halo expires (purged lazily at the
 * start of every reserve). -ENOENT when not reserved (a halo entry counts as not reserved). */
int sf_ipam_release(struct sf_kv *kv, const char *ipam, const char *address, unsigned halo_seconds);
/* One reservation {address, type, user: [type, uuid]|null, when, comment}: -ENOENT if none. */
int sf_ipam_get(struct sf_kv *kv, const char *ipam, const char *address, json_t **ret_record);
/* All reservations, ascending string order of the address (spec 1.5.7). */
int sf_ipam_list(struct sf_kv *kv, const char *ipam, json_t **ret_records);
/* The reservations held by [user_type, user_uuid] (halo entries have no user), in the same
 * order, through the IPAM's per-user index: one round trip however large the IPAM is. The
 * first call on an IPAM written before the index existed builds it. -ENOENT: no such IPAM. */
int sf_ipam_list_user(struct sf_kv *kv, const char *ipam, const char *user_type,
		      const char *user_uuid, json_t **ret_records);

/* ---- interfaces ---- */

struct sf_iface {
	char uuid[SF_UUID_STRLEN];
	char network_uuid[SF_UUID_STRLEN];
	char instance_uuid[SF_UUID_STRLEN];
	char *node;       /* the hypervisor it is plugged on */
	char *macaddr;    /* "02:00:00:xx:xx:xx" */
	char *ipv4;       /* NULL for an address-less interface */
	long order;
	char *model;      /* "virtio" */
	char *floating;   /* NULL unless floating */
	char *kind;       /* "tap" or "veth" */
	char *netns;      /* veth only: the namespace the peer moves into */
	enum sf_iface_state state;
	double state_updated;
	double created_at;
};
void sf_iface_free(struct sf_iface *i);

struct sf_iface_spec {
	const char *network_uuid;
	const char *instance_uuid;
	const char *node;
	const char *address;    /* NULL: random; "" : none */
	const char *macaddress; /* NULL: random 02:00:00:xx:xx:xx, unique */
	long order;             /* -1: after the instance's last interface */
	const char *model;      /* NULL: "virtio" */
	const char *kind;       /* NULL: "tap" */
	const char *netns;
};

/* Create an interface in state initial: the address reserved (type instance, user
 * ["instance", instance_uuid]) and the MAC claimed, the indexes updated, atomically.
 * -EADDRINUSE (address taken, 409 "address <a> in use"), -ENOSPC (no free address, 507),
 * -EEXIST (MAC in use), -EDOM (address outside the netblock), -ENOENT (no such network),
 * -EINVAL (bad uuid, MAC, address or kind). Nothing stays claimed after a failure. */
int sf_iface_create(struct sf_kv *kv, const struct sf_iface_spec *spec, struct sf_iface **ret_iface);
int sf_iface_get(struct sf_kv *kv, const char *uuid, struct sf_iface **ret_iface);
/* The records of a network's interfaces (sf_network_interfaces), in plug order, without those
 * hard-deleted since the list was read (records in state deleted are kept). Free each with
 * sf_iface_free() and the array with free(). */
int sf_network_iface_records(struct sf_kv *kv, const char *uuid, struct sf_iface ***ret_ifaces,
			     size_t *ret_n);
/* The instance's live interfaces by order (an unknown instance has none). */
int sf_iface_list_by_instance(struct sf_kv *kv, const char *instance_uuid, char ***ret_uuids,
			      size_t *ret_n);
/* As sf_network_set_state, with spec 3.2. */
int sf_iface_set_state(struct sf_kv *kv, const char *uuid, enum sf_iface_state to,
		       enum sf_iface_state *ret_current);
/* -EEXIST when the interface already floats on another address (the same address is a no-op). */
int sf_iface_set_floating(struct sf_kv *kv, const char *uuid, const char *address /* NULL clears */);
/* Mark deleted: releases the address into the halo, frees the MAC claim and removes it from the
 * network's interface list and the instance's (spec 3.2). Deleting a deleted interface is a
 * no-op; a delete that failed half-way can be retried. The floating address is not touched
 * (the defloat job releases it). */
int sf_iface_delete(struct sf_kv *kv, const char *uuid, unsigned halo_seconds);
int sf_iface_metadata_get(struct sf_kv *kv, const char *uuid, json_t **ret_metadata);
int sf_iface_metadata_set(struct sf_kv *kv, const char *uuid, const char *key,
			  const json_t *value);
int sf_iface_metadata_delete(struct sf_kv *kv, const char *uuid, const char *key);
/* The wire view of spec 1.5.6 (version 3, metadata included). */
json_t *sf_iface_view(struct sf_kv *kv, const struct sf_iface *i);

/* ---- nodes (the registry the workers keep; read by GET /nodes) ---- */

/* Register or refresh a node: {name, role, mesh_ip, version, last_seen}; expires after ttl_s. */
int sf_node_heartbeat(struct sf_kv *kv, const char *name, const char *role, const char *mesh_ip,
		      const char *version, unsigned ttl_s);
/* All known nodes as views {name, role, mesh_ip, version, last_seen, state: "up"|"missing"}. */
int sf_node_list(struct sf_kv *kv, json_t **ret_nodes);
int sf_node_get(struct sf_kv *kv, const char *name, json_t **ret_node); /* -ENOENT */

#endif
