/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An in-memory sf_netops for unit tests: no socket, no kernel. It keeps a tiny model of what
 * planning code looks at: namespaces (each created with "lo"), links (kind, MTU, master, up,
 * MAC, VXLAN id/port/underlay, veth peers across namespaces), IPv4 addresses, routes, the
 * flood entries of VXLAN devices and sysctl values. It behaves like the kernel where callers
 * can tell:
 *   - adds fail with -EEXIST for a taken name (a veth peer's name in its namespace too),
 *     operations on a missing device with -ENODEV, a missing namespace is -ENOENT;
 *   - deletes are idempotent; deleting either end of a veth removes both, deleting a bridge
 *     releases its ports, deleting a namespace removes its links (and their veth peers);
 *   - moving a link to another namespace brings it down, releases it from its bridge and
 *     drops its addresses and routes, as the kernel does;
 *   - a route delete with metric 0 matches any metric (as IPv4 does); the fake has no
 *     kernel-made (connected) routes;
 *   - appending a flood entry that is there already succeeds without a duplicate;
 *   - a sysctl reads back what was written (-ENOENT before that), and a
 *     "ipv4/conf/<dev>/..." path for a device that does not exist is -ENOENT.
 *
 * Every successful change is recorded as one line of text, for tests to compare with the
 * expected list (reads are not recorded). Calls made through a handle for a namespace other
 * than the root one (sf_netops_at) start with "@<netns> ":
 *   "netns_add ns1"                      "netns_del ns1"
 *   "link_add_bridge br-vxlan-00002a mtu=1450 ageing=0"
 *   "link_add_vxlan vxlan-00002a vni=42 port=4789 dev=eth1 mtu=1450"   (no dev: "dev=-")
 *   "link_add_veth veth-00002a-o peer=veth-00002a-i mtu=1450 peer_netns=ns1"  (or without)
 *   "link_set_master veth-00002a-o br-vxlan-00002a"   "link_set_nomaster veth-00002a-o"
 *   "link_set_up x"  "link_set_down x"  "link_set_mtu x 1450"  "link_set_mac x 02:00:00:00:00:01"
 *   "link_set_netns x ns1"  "link_del x"
 *   "addr_add x 10.0.0.1/24"  "addr_del x 10.0.0.1/24"
 *   "route_replace 0.0.0.0/0 via 198.51.100.1 dev egr-00002a-i"  (" metric N" when not 0)
 *   "route_del 10.1.0.0/24 dev br-vxlan-00002a"
 *   "fdb_flood_add vxlan-00002a 198.18.0.2"  "fdb_flood_del vxlan-00002a 198.18.0.2"
 *   "sysctl_set ipv4/ip_forward=1"
 *   "link_add_tap tap-0a1b2c3d mtu=1450 mac=02:00:00:00:00:01"  (no MAC: "mac=-"; kind "tun")
 * Arguments are recorded canonical (sf_netops.c checks and normalises them first).
 */
#ifndef SF_NETOPS_FAKE_H
#define SF_NETOPS_FAKE_H

#include <stddef.h>

#include "sf/netops.h"

/* A handle on a fresh model, acting in its root namespace. Free with sf_netops_free(); the
 * model lives until its last handle is freed. */
struct sf_netops *sf_netops_fake_new(void);

/* Recorded changes, oldest first; shared by all handles on one model. */
size_t sf_netops_fake_n_calls(struct sf_netops *ops);
const char *sf_netops_fake_call(struct sf_netops *ops, size_t i);
/* All of them, each followed by '\n' ("" when none); caller frees. */
char *sf_netops_fake_calls(struct sf_netops *ops);
void sf_netops_fake_clear_calls(struct sf_netops *ops);

/* Seed a device the way the host would have it (a NIC: no kind, up), in the handle's
 * namespace. Not recorded. -EEXIST when the name is taken. */
int sf_netops_fake_add_nic(struct sf_netops *ops, const char *name, unsigned mtu);
/* Set the counters sf_netops_link_stats() returns for a device. -ENODEV when missing. */
int sf_netops_fake_set_stats(struct sf_netops *ops, const char *name,
			     const struct sf_link_stats *stats);
/* Make the next call of operation op (a class member name, e.g. "link_add_vxlan") fail with
 * err, without changing anything or being recorded. Several may be queued. */
void sf_netops_fake_fail_next(struct sf_netops *ops, const char *op, int err);

#endif
