/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VXLAN mesh of a network (spec 6.6, ARCHITECTURE.md section 4), for both workers: the
 * flood list of the network's vxlan-XXXXXX device on a node -- its all-zero-MAC FDB entries,
 * one per peer -- must equal
 *
 *     the mesh IP of the network node
 *   + the mesh IP of every hypervisor hosting a live (not deleted) interface on the network
 *   - this node's own mesh IP (never ourselves: duplicate packets, upstream bug #859).
 *
 * Three steps, so that the middle one is pure and tested with tables:
 *   wk_mesh_peers()  the desired peers, from the store (interfaces and the node registry);
 *   wk_mesh_plan()   desired vs the current flood list -> what to add and what to delete;
 *   wk_mesh_sync()   read the current list through netops, plan, apply;
 * and wk_mesh_report() publishes spec 5's mesh events for what changed.
 */
#ifndef WK_MESH_H
#define WK_MESH_H

#include <stddef.h>

struct sf_kv;
struct sf_netops;
struct wk_ctx;

/* What a sync changed (or a plan would change): mesh IPs in numeric order. */
struct wk_mesh_diff {
	char **added;
	size_t n_added;
	char **removed;
	size_t n_removed;
};
/* Frees the vectors; the diff can be reused. */
void wk_mesh_diff_clear(struct wk_mesh_diff *d);

/* The flood list out of candidate addresses: in numeric order, without duplicates, empty strings or
 * self_ip (NULL or "": nothing is excluded). The result is a NULL-terminated vector
 * (sf_netops_strv_free()) with its count. Pure. */
int wk_mesh_desired(char *const *candidates, size_t n, const char *self_ip, char ***ret_peers,
		    size_t *ret_n);

/* The desired peers of network uuid for the node whose mesh IP is self_ip, from Redis: every
 * node of role "networknode" in the registry (up or missing: a network node that restarts
 * keeps its place), and the node of every live interface of the network. An interface on a
 * node the registry does not know, or knows without a mesh IP, adds nothing (logged). -ENOENT
 * when the network has no record. */
int wk_mesh_peers(struct sf_kv *kv, const char *uuid, const char *self_ip, char ***ret_peers,
		  size_t *ret_n);

/* Desired vs current: added = desired minus current, removed = current minus desired; self_ip
 * is never added, and removed when present. Pure; *ret_diff is new. */
int wk_mesh_plan(char *const *desired, size_t n_desired, char *const *current, size_t n_current,
		 const char *self_ip, struct wk_mesh_diff *ret_diff);

/* Make the flood list of vxlan (in ops' namespace) equal desired: read it, plan, delete the
 * extras, add the missing. Individual failures do not stop the others (spec 6.6: they are only
 * logged); diff (cleared first) receives what was actually changed, also when some failed.
 * 0, or the first error (-ENODEV when vxlan does not exist). */
int wk_mesh_sync(struct sf_netops *ops, const char *vxlan, char *const *desired, size_t n_desired,
		 const char *self_ip, struct wk_mesh_diff *diff);

/* Spec 5's mutate events on the network: "added new mesh element" {ip} and "removed excess
 * mesh element" {ip} for each peer, then the summaries "add mesh elements" {added: [...]} and
 * "remove mesh elements" {removed: [...]}. Nothing for an empty diff. */
void wk_mesh_report(struct wk_ctx *ctx, const char *uuid, const struct wk_mesh_diff *d);

#endif
